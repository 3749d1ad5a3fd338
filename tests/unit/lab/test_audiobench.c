/* audiobench: the plan (selection and the reason for every skip), the
 * interleaved order, the constrained fits, and one whole run against
 * fake_sttd on a small real corpus. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiobench.h"
#include "corpus.h"
#include "error.h"
#include "stats.h"
#include "testlib.h"

static stt_corpus_entry entry(const char *file, const char *format, double d, int rate, int ch)
{
    stt_corpus_entry e;
    memset(&e, 0, sizeof e);
    e.file = (char *)file;
    e.format = (char *)format;
    e.duration_s = d;
    e.sample_rate = rate;
    e.channels = ch;
    return e;
}

/* A file left out by --quick is said to be so, not to be too long. */
static void test_selection_and_reasons(void)
{
    stt_audiobench_params p = stt_audiobench_default_params();
    stt_corpus_entry short_wav = entry("a.wav", "wav", 8, 16000, 1),
                     mp3 = entry("a.mp3", "mp3", 8, 16000, 1),
                     mid = entry("b.wav", "wav", 61, 16000, 1),
                     stereo = entry("c.wav", "wav", 8, 44100, 2),
                     huge = entry("d.wav", "wav", 660, 16000, 1);
    CHECK(stt_audiobench_select(&p, &short_wav) == STT_AUDIOBENCH_MEASURED);
    CHECK(stt_audiobench_select(&p, &mp3) == STT_AUDIOBENCH_MEASURED);
    CHECK(stt_audiobench_select(&p, &huge) == STT_AUDIOBENCH_TOO_LONG);
    p.quick = 1;
    CHECK(stt_audiobench_select(&p, &short_wav) == STT_AUDIOBENCH_MEASURED);
    CHECK(stt_audiobench_select(&p, &mp3) == STT_AUDIOBENCH_NOT_QUICK);
    CHECK(stt_audiobench_select(&p, &stereo) == STT_AUDIOBENCH_NOT_QUICK);
    CHECK(stt_audiobench_select(&p, &mid) == STT_AUDIOBENCH_NOT_QUICK);
    CHECK(stt_audiobench_select(&p, &huge) == STT_AUDIOBENCH_TOO_LONG);
    char buf[160];
    CHECK(strstr(stt_audiobench_reason(&p, STT_AUDIOBENCH_NOT_QUICK, buf, sizeof buf),
                 "not in the --quick set"));
    CHECK(!strstr(buf, "longer"));
    CHECK(strstr(stt_audiobench_reason(&p, STT_AUDIOBENCH_TOO_LONG, buf, sizeof buf),
                 "longer than --max-duration (600 s)"));
    CHECK_STR_EQ(stt_audiobench_reason(&p, STT_AUDIOBENCH_MEASURED, buf, sizeof buf), "");
    p.max_duration_s = 0; /* no limit */
    CHECK(stt_audiobench_select(&p, &huge) == STT_AUDIOBENCH_NOT_QUICK);
}

/* Each round is a permutation, the same for the same seed, and rounds
 * differ: profiles and files are interleaved, never all of A then all of B. */
static void test_round_order(void)
{
    size_t a[40], b[40], c[40];
    stt_audiobench_round_order(7, 0, 40, a);
    stt_audiobench_round_order(7, 0, 40, b);
    stt_audiobench_round_order(7, 1, 40, c);
    int seen[40] = {0}, same = 1, differ = 0, moved = 0;
    for (int i = 0; i < 40; i++) {
        REQUIRE(a[i] < 40);
        seen[a[i]]++;
        same &= a[i] == b[i];
        differ |= a[i] != c[i];
        moved += a[i] != (size_t)i;
    }
    for (int i = 0; i < 40; i++)
        CHECK(seen[i] == 1);
    CHECK(same && differ && moved > 20);
    size_t one;
    stt_audiobench_round_order(1, 0, 1, &one);
    CHECK(one == 0);
}

static void test_fit_exact_and_constrained(void)
{
    double x[5] = {1, 2, 4, 8, 16}, y[5];
    stt_audiobench_fit f;
    for (int i = 0; i < 5; i++)
        y[i] = 0.3 + 0.15 * x[i];
    stt_audiobench_linear_fit(x, y, 5, &f);
    CHECK(fabs(f.intercept - 0.3) < 1e-9 && fabs(f.slope - 0.15) < 1e-9);
    CHECK(f.r2 > 0.999999 && !f.constraint && f.projection && f.n == 5 && f.distinct == 5);
    CHECK(f.slope_ci[0] <= 0.15 + 1e-9 && f.slope_ci[1] >= 0.15 - 1e-9);

    /* A free fit with a negative intercept: the line through the origin,
     * whose slope is sum(xy) / sum(x^2). */
    double yn[5] = {0.0, 0.1, 0.5, 1.2, 2.6};
    stt_audiobench_linear_fit(x, yn, 5, &f);
    double sxy = 0, sxx = 0;
    for (int i = 0; i < 5; i++) {
        sxy += x[i] * yn[i];
        sxx += x[i] * x[i];
    }
    CHECK(f.intercept == 0 && fabs(f.slope - sxy / sxx) < 1e-9);
    CHECK_STR_EQ(f.constraint, "intercept held at 0");
    CHECK(isnan(f.intercept_ci[0]) && f.slope_ci[0] >= 0);

    /* Falling with length: the slope is held at 0 and the mean is the level. */
    double yd[5] = {2.0, 1.8, 1.5, 1.1, 0.6};
    stt_audiobench_linear_fit(x, yd, 5, &f);
    CHECK(f.slope == 0 && fabs(f.intercept - 1.4) < 1e-9);
    CHECK_STR_EQ(f.constraint, "slope held at 0");
    CHECK(f.intercept_ci[0] < 1.4 && f.intercept_ci[1] > 1.4);

    /* Two points: a line, but no interval and no projection. */
    stt_audiobench_linear_fit(x, y, 2, &f);
    CHECK(fabs(f.slope - 0.15) < 1e-9 && !f.projection && isnan(f.slope_ci[0]));
    /* One distinct duration: no line at all. */
    double same[3] = {5, 5, 5};
    stt_audiobench_linear_fit(same, y, 3, &f);
    CHECK(isnan(f.slope) && isnan(f.intercept) && f.distinct == 1 && !f.projection);
    stt_audiobench_linear_fit(x, y, 0, &f);
    CHECK(isnan(f.slope) && f.n == 0);
}

/* The slope's 95% interval covers the true slope in about 95% of noisy
 * samples (binomial: 200 trials, 180..199 is what a 95% interval gives). */
static void test_fit_interval_coverage(void)
{
    uint64_t rng = 42;
    int covered = 0, trials = 200;
    for (int t = 0; t < trials; t++) {
        double x[8], y[8];
        for (int i = 0; i < 8; i++) {
            x[i] = 2 + 4 * i;
            /* Gaussian noise by Box-Muller, sd 0.2 */
            double u1 = stt_stats_uniform(&rng), u2 = stt_stats_uniform(&rng);
            double z = sqrt(-2 * log(u1 > 0 ? u1 : 1e-12)) * cos(2 * M_PI * u2);
            y[i] = 1.0 + 0.2 * x[i] + 0.2 * z;
        }
        stt_audiobench_fit f;
        stt_audiobench_linear_fit(x, y, 8, &f);
        covered += f.slope_ci[0] <= 0.2 && 0.2 <= f.slope_ci[1];
    }
    fprintf(stderr, "  slope interval covered the truth in %d of %d\n", covered, trials);
    CHECK(covered >= 180 && covered <= 199);
}

static json_t *find_named(json_t *arr, const char *key, const char *value, const char *key2,
                          const char *value2)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        const char *v = json_string_value(json_object_get(e, key));
        const char *v2 = key2 ? json_string_value(json_object_get(e, key2)) : NULL;
        if (v && !strcmp(v, value) && (!key2 || (v2 && !strcmp(v2, value2)))) return e;
    }
    return NULL;
}

/* The whole benchmark against fake_sttd (which answers every request as one
 * piece, burning 2 ms of CPU per audio second): three rounds, two profiles,
 * on a corpus of files up to 10 s. */
static void test_run_against_fake_server(void)
{
    char corpus[500], out[600], err[512] = "", cmd[1400];
    snprintf(corpus, sizeof corpus, "%s", test_tmpdir());
    snprintf(out, sizeof out, "%s/out", corpus);
    stt_corpus_params cp = stt_corpus_default_params();
    cp.testdata_dir = STT_TESTDATA_DIR;
    cp.max_duration_s = 10;
    cp.formats = 0;
    REQUIRE(stt_corpus_build(corpus, &cp, NULL, NULL, err, sizeof err) == 0);

    stt_audiobench_params p = stt_audiobench_default_params();
    p.corpus = corpus;
    p.out = out;
    p.spawn = 1;
    snprintf(cmd, sizeof cmd, "%s --port {port} --workers 1 --cpu-ms-per-audio-s 2 --piece-s 0",
             test_bin("fake_sttd"));
    p.server_command = cmd;
    p.profiles = "fast,balanced";
    p.repeat = 3;
    p.max_duration_s = 7; /* speech_0008s.wav (7.7 s) is skipped as too long */
    stt_audiobench *b = NULL;
    int rc = stt_audiobench_run(&p, NULL, NULL, &b, err, sizeof err);
    if (rc) fprintf(stderr, "  %s\n", err);
    REQUIRE(rc == 0 && b);
    CHECK(stt_audiobench_failures(b) == 0);
    CHECK(stt_audiobench_memory_sampled(b));
    CHECK(stt_audiobench_skip_count(b) == 1);
    CHECK(stt_audiobench_skip_at(b, 0)->why == STT_AUDIOBENCH_TOO_LONG);
    size_t nres = stt_audiobench_result_count(b);
    CHECK(nres == 2 * 10); /* ten clips, two profiles */
    for (size_t i = 0; i < nres; i++) {
        const stt_audiobench_result *r = stt_audiobench_result_at(b, i);
        CHECK(r->n == 3 && r->n_ok == 3 && r->pieces == 1);
        CHECK(r->process_s.n == 3 && r->process_s.median_ci.lo <= r->process_s.median &&
              r->process_s.median <= r->process_s.median_ci.hi);
        CHECK(r->wer > 0.5); /* "fake transcript" */
    }
    const stt_audiobench_profile *row = stt_audiobench_profile_at(b, 1);
    REQUIRE(row);
    CHECK_STR_EQ(row->profile, "balanced");
    CHECK(row->files == 10 && row->rtf.n == 3);
    /* fake_sttd burns 2 ms of CPU per audio second */
    CHECK(row->rtf.median > 0.001 && row->rtf.median < 0.2);
    const stt_audiobench_fit *single = stt_audiobench_fit_of(b, 1, "process_s_single");
    REQUIRE(single);
    CHECK(single->n == 10 && single->slope > 0.0005 && single->slope < 0.2);
    CHECK(stt_audiobench_fit_of(b, 1, "nonsense") == NULL);
    stt_audiobench_free(b);

    char path[700];
    snprintf(path, sizeof path, "%s/audio.json", out);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    REQUIRE(doc);
    CHECK_STR_EQ(json_string_value(json_object_get(doc, "schema")), "sttlab.audio/2");
    json_t *res = json_object_get(doc, "results");
    CHECK(json_array_size(res) == 20);
    json_t *r0 = find_named(res, "file", "clips/clip_0880.wav", "profile", "balanced");
    REQUIRE(r0);
    CHECK(json_integer_value(json_object_get(r0, "pieces")) == 1);
    CHECK_STR_EQ(json_string_value(json_object_get(r0, "set")), "clips");
    CHECK(json_is_number(json_object_get(r0, "duration_s")));
    CHECK(json_array_size(json_object_get(json_object_get(r0, "process_s"), "samples")) == 3);
    json_t *fits = json_object_get(doc, "fits");
    CHECK(find_named(fits, "profile", "balanced", "y", "process_s"));
    CHECK(find_named(fits, "profile", "balanced", "y", "process_s_single"));
    CHECK(find_named(fits, "profile", "fast", "y", "peak_pss_bytes"));
    json_t *metrics = json_object_get(doc, "metrics");
    json_t *m = find_named(metrics, "name", "process_s/balanced/clips/clip_0880", NULL, NULL);
    REQUIRE(m);
    CHECK(json_integer_value(json_object_get(m, "n")) == 3);
    CHECK(find_named(metrics, "name", "rtf/fast", NULL, NULL));
    json_t *acc = find_named(json_object_get(doc, "accuracy"), "name", "wer/balanced", NULL, NULL);
    REQUIRE(acc);
    CHECK(json_array_size(json_object_get(acc, "errors")) == 10);
    json_t *sk = json_array_get(json_object_get(doc, "skipped"), 0);
    CHECK_STR_EQ(json_string_value(json_object_get(sk, "why")), "max_duration");
    CHECK(strstr(json_string_value(json_object_get(sk, "reason")), "longer than --max-duration"));
    json_decref(doc);
    snprintf(path, sizeof path, "%s/audio_report.md", out);
    char *md = test_read_file(path, NULL);
    CHECK(md && strstr(md, "process_s_single") && strstr(md, "speech_0008s.wav (7.7 s): longer"));
    free(md);

    /* A bad request is a usage error, reported before anything runs. */
    p.repeat = 0;
    CHECK(stt_audiobench_run(&p, NULL, NULL, &b, err, sizeof err) == STT_EINVAL && !b);
    p.repeat = 1;
    p.spawn = 0;
    CHECK(stt_audiobench_run(&p, NULL, NULL, &b, err, sizeof err) == STT_EINVAL);
    p.url = "http://127.0.0.1:1";
    p.corpus = "/nonexistent";
    CHECK(stt_audiobench_run(&p, NULL, NULL, &b, err, sizeof err) == STT_EIO);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", corpus);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TEST_RUN(test_selection_and_reasons);
    TEST_RUN(test_round_order);
    TEST_RUN(test_fit_exact_and_constrained);
    TEST_RUN(test_fit_interval_coverage);
    TEST_RUN(test_run_against_fake_server);
    curl_global_cleanup();
    return test_summary();
}
