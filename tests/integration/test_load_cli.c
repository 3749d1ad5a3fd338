/* `sttbench load` end to end against a real sttd: uploads drawn from a corpus
 * manifest (selected and weighted by the --mix-* options), bare GETs, a
 * replayed trace and one made from a request log, the max-rate search, the
 * figures load.json carries (n, intervals, stability, failures inside the
 * latencies), and the exit status of bad input. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

static test_server S;
static char corpus[4200], out[4200];

/* Runs a shell command; returns its exit status (-1 when it did not exit). */
static int run(const char *fmt, const char *a, const char *b)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* sttbench load against S with extra options; load.json into out. */
static int load(const char *opts)
{
    char cmd[40000];
    snprintf(cmd, sizeof cmd, "%s load --url %s --out %s %s >%s/stdout 2>%s/stderr",
             test_bin("sttbench"), S.url, out, opts, out, out);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *load_json(void)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/load.json", out);
    return json_load_file(path, 0, NULL);
}

static json_t *upload(json_t *root, const char *file)
{
    json_t *ups = json_object_get(json_object_get(root, "config"), "uploads");
    for (size_t i = 0; i < json_array_size(ups); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(ups, i), "file")), file))
            return json_array_get(ups, i);
    return NULL;
}

static json_t *step(json_t *root, size_t i)
{
    return json_array_get(json_object_get(root, "steps"), i);
}

static long step_int(json_t *root, const char *key)
{
    return (long)json_integer_value(json_object_get(step(root, 0), key));
}

static double num_at(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return json_number_value(b ? json_object_get(v, b) : v);
}

/* What every step of load.json carries, whatever was measured. */
static void check_step_shape(json_t *st)
{
    CHECK(json_is_boolean(json_object_get(st, "stable")));
    CHECK(json_integer_value(json_object_get(st, "n")) >= 1);
    json_t *lat = json_object_get(st, "latency_s");
    CHECK(json_is_true(json_object_get(lat, "includes_failures")));
    CHECK(json_integer_value(json_object_get(lat, "n")) ==
          json_integer_value(json_object_get(st, "n")));
    json_t *tp = json_object_get(st, "throughput");
    CHECK(json_integer_value(json_object_get(tp, "n")) >= 5); /* windows, never one count */
    CHECK(json_array_size(json_object_get(st, "runs")) >= 1);
    /* a percentile only where n supports it */
    long n = (long)json_integer_value(json_object_get(lat, "n"));
    CHECK(json_is_null(json_object_get(lat, "p99")) == (n < 100));
    CHECK(json_is_null(json_object_get(lat, "p95")) == (n < 20));
}

static void test_corpus_mix(void)
{
    char opts[8192];
    /* Only WAV files of at most 10 s: the 7.7 s file alone. */
    snprintf(opts, sizeof opts,
             "--mix %s/manifest --mix-formats wav --mix-max-duration 10 --model fast "
             "--concurrency 1 --requests 2 --warmup 0 --max-extend 0",
             corpus);
    REQUIRE(load(opts) == 0);
    json_t *j = load_json();
    REQUIRE(j);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "schema")), "sttlab.load/2");
    CHECK(json_array_size(json_object_get(json_object_get(j, "config"), "uploads")) == 1);
    CHECK(upload(j, "speech_0008s.wav") != NULL);
    CHECK(step_int(j, "ok") == 2);
    json_decref(j);

    /* The folder names the manifest too; weights pick and drop files. */
    snprintf(opts, sizeof opts,
             "--mix %s --mix-formats wav --mix-weights speech_0008s.wav=2,speech_0025s.wav=0 "
             "--model fast --concurrency 1 --requests 3 --warmup 0 --max-extend 0",
             corpus);
    REQUIRE(load(opts) == 0);
    j = load_json();
    REQUIRE(j);
    json_t *u8 = upload(j, "speech_0008s.wav");
    CHECK(u8 && json_number_value(json_object_get(u8, "weight")) == 2);
    CHECK(u8 && json_real_value(json_object_get(u8, "audio_s")) > 7);
    CHECK(upload(j, "speech_0025s.wav") == NULL);
    CHECK(upload(j, "speech_0025s.mp3") == NULL);
    CHECK(upload(j, "speech_0025s_44k_stereo.wav") != NULL);
    CHECK(step_int(j, "ok") == 3);
    json_t *st = step(j, 0);
    CHECK(json_real_value(json_object_get(st, "audio_s_per_s")) > 0);
    check_step_shape(st);
    /* three requests: a median, no p95, and the tables say so */
    CHECK(json_is_null(json_object_get(json_object_get(st, "latency_s"), "p95")));
    json_decref(j);
    char path[4300];
    snprintf(path, sizeof path, "%s/load_report.md", out);
    char *md = test_read_file(path, NULL);
    REQUIRE(md);
    CHECK(strstr(md, "n too small") != NULL);
    CHECK(strstr(md, "failed requests included") != NULL);
    free(md);
    /* The latency distribution for the chart: the step's percentiles, rising,
     * as far as its three requests support them (up to p50 and p60). */
    snprintf(path, sizeof path, "%s/load_distribution.dat", out);
    size_t len = 0;
    char *dat = test_read_file(path, &len);
    REQUIRE(dat);
    CHECK(strstr(dat, "\"c=1\"") != NULL);
    double prev = -1, pct, nines, lat;
    int rows = 0, rising = 1;
    for (char *line = strchr(dat, '\n'); line; line = strchr(line + 1, '\n'))
        if (sscanf(line + 1, "%lf %lf %lf", &pct, &nines, &lat) == 3) {
            rows++;
            if (lat < prev) rising = 0;
            prev = lat;
        }
    CHECK(rows >= 3 && rows <= 8);
    CHECK(rising);
    free(dat);
}

static void test_bare_gets(void)
{
    REQUIRE(load("--method GET --concurrency 2 --requests 300 --warmup 0") == 0);
    json_t *j = load_json();
    REQUIRE(j);
    json_t *st = step(j, 0);
    check_step_shape(st);
    /* 300 counted requests per run; an unstable run is measured again at twice the count */
    json_t *run0 = json_array_get(json_object_get(st, "runs"), 0);
    long attempts = (long)json_integer_value(json_object_get(run0, "attempts"));
    CHECK(attempts >= 1 && attempts <= 3);
    CHECK(step_int(j, "ok") == 300L << (attempts - 1));
    json_t *gen = json_object_get(run0, "generator");
    double busy = json_real_value(json_object_get(gen, "busiest_thread_cpu"));
    CHECK(busy > 0 && busy <= 1.05);
    CHECK(json_is_boolean(json_object_get(gen, "saturated")));
    CHECK(num_at(st, "busiest_thread_cpu", NULL) >= busy);
    json_t *lat = json_object_get(st, "latency_s"),
           *unc = json_object_get(st, "latency_uncorrected_s");
    CHECK(json_real_value(json_object_get(lat, "p50")) >=
          json_real_value(json_object_get(unc, "p50")));
    json_decref(j);
}

/* A trace made from a request log, replayed against the corpus. */
static void test_trace(void)
{
    char log[4300], trace[4300], cmd[16384], opts[16384];
    snprintf(log, sizeof log, "%s/sttd.log", out);
    snprintf(trace, sizeof trace, "%s/recorded.trace", out);
    FILE *f = fopen(log, "w");
    REQUIRE(f);
    /* completion times less total_ms: arrivals at 0, 0.3 and 0.6 s, the second a 25 s file */
    fprintf(f, "sttd: listening\n"
               "2025-01-02T03:04:05.500Z id=1 POST /v1/audio/transcriptions status=200 bytes=9 "
               "audio_s=7.70 queue_ms=0 process_ms=400.0 total_ms=500.0\n"
               "2025-01-02T03:04:06.300Z id=2 POST /v1/audio/transcriptions status=200 bytes=9 "
               "audio_s=25.00 queue_ms=0 process_ms=900.0 total_ms=1000.0\n"
               "2025-01-02T03:04:05.700Z id=3 POST /v1/audio/transcriptions status=503 bytes=0 "
               "audio_s=0.00 queue_ms=0 process_ms=0.0 total_ms=100.0\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s load --trace-from-log %s >%s", test_bin("sttbench"), log, trace);
    REQUIRE(system(cmd) == 0);
    char *text = test_read_file(trace, NULL);
    REQUIRE(text);
    CHECK(strstr(text, "0.000 7.70") && strstr(text, "0.300 25.00") && strstr(text, "0.600 -"));
    free(text);
    snprintf(opts, sizeof opts,
             "--mix %s --mix-formats wav --trace %s --model fast --warmup 0 --max-extend 0", corpus,
             trace);
    REQUIRE(load(opts) == 0);
    json_t *j = load_json();
    REQUIRE(j);
    json_t *st = step(j, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(st, "arrival")), "trace");
    CHECK(step_int(j, "n") == 3); /* the whole trace, once */
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "config"), "arrival")),
                 "trace");
    /* replayed at its own rate: 2 gaps in 0.6 s */
    CHECK(fabs(num_at(st, "offered", NULL) - 2 / 0.6) < 1e-3);
    json_decref(j);
    /* a trace naming a file the mix lacks */
    snprintf(trace, sizeof trace, "%s/bad.trace", out);
    f = fopen(trace, "w");
    fprintf(f, "0 nope.wav\n1 nope.wav\n");
    fclose(f);
    snprintf(opts, sizeof opts, "--mix %s --trace %s", corpus, trace);
    CHECK(load(opts) == 1);
}

/* The max-rate search puts its result, with n and intervals, into load.json. */
static void test_find_max_rate(void)
{
    REQUIRE(load("--method GET --find-max-rate --slo p95=2 --start-rate 50 --max-probes 2 "
                 "--min-requests 40 --max-extend 1 --warmup 0") == 0);
    json_t *j = load_json();
    REQUIRE(j);
    json_t *m = json_object_get(j, "max_rate");
    REQUIRE(json_is_object(m));
    CHECK_STR_EQ(json_string_value(json_object_get(m, "arrival")), "poisson");
    CHECK(json_is_true(json_object_get(m, "capacity")));
    CHECK(num_at(m, "slo_p95_s", NULL) == 2 && num_at(m, "error_budget", NULL) == 0.01);
    json_t *probes = json_object_get(m, "probes");
    CHECK(json_array_size(probes) >= 1 && json_array_size(probes) <= 2);
    for (size_t i = 0; i < json_array_size(probes); i++) {
        json_t *p = json_array_get(probes, i);
        CHECK(json_array_size(json_object_get(p, "runs")) == 3);
        CHECK(json_integer_value(json_object_get(p, "n")) >= 3 * 40);
        const char *v = json_string_value(json_object_get(p, "verdict"));
        CHECK(v && (!strcmp(v, "pass") || !strcmp(v, "fail") || !strcmp(v, "undetermined") ||
                    !strcmp(v, "unstable")));
    }
    /* a passing rate comes with its p95 interval under the objective */
    double rate = num_at(m, "rate_rps", NULL);
    if (rate > 0)
        CHECK(json_number_value(
                  json_array_get(json_object_get(json_object_get(m, "p95_s"), "ci"), 1)) < 2);
    CHECK(json_array_size(json_object_get(j, "steps")) == 0); /* a search alone sweeps nothing */
    json_decref(j);
}

static void test_bad_input(void)
{
    char opts[8192];
    /* A file the manifest does not hold is refused before any request. */
    snprintf(opts, sizeof opts, "--mix %s --mix-weights nope.wav=3 --concurrency 1 --requests 1",
             corpus);
    CHECK(load(opts) == 1);
    snprintf(opts, sizeof opts, "--mix %s --mix-weights speech_0008s.wav --concurrency 1", corpus);
    CHECK(load(opts) == 1);
    snprintf(opts, sizeof opts, "--mix %s --mix-formats opus --concurrency 1", corpus);
    CHECK(load(opts) == 1);
    CHECK(load("--method GET --threads x") == 2);
    CHECK(load("--method GET --requests -3") == 2);
    CHECK(load("--method GET --seed 1x") == 2);
    CHECK(load("--method GET --find-max-rate") == 2); /* no --slo */
    CHECK(load("--method GET --find-max-rate --slo p95=1 --probe-repeats 2") == 2);
    CHECK(load("--method GET --error-budget 150%") == 2);
    CHECK(load("--method GET --concurrency 1 --rate 2") == 2);
    CHECK(load("--method GET --trace /nonexistent --concurrency 2") == 2); /* closed, no search */
    CHECK(load("--method GET --trace /nonexistent") == 1);
    CHECK(load("--method GET --concurrency 2,1") == 1); /* not ascending */
    CHECK(load("--help") == 0);
}

static int setup(void)
{
    snprintf(corpus, sizeof corpus, "%s/corpus", test_tmpdir());
    snprintf(out, sizeof out, "%s/out", test_tmpdir());
    if (run("mkdir -p %s %s", corpus, out)) return -1;
    if (run("%s corpus --max-duration 30 --out %s >/dev/null", test_bin("sttbench"), corpus))
        return -1;
    const char *args[] = {"--workers", "1", "--profiles", "fast", NULL};
    return test_server_start(&S, args);
}

int main(void)
{
    if (setup()) {
        fprintf(stderr, "cannot build the corpus or start sttd\n");
        return 1;
    }
    TEST_RUN(test_corpus_mix);
    TEST_RUN(test_bare_gets);
    TEST_RUN(test_trace);
    TEST_RUN(test_find_max_rate);
    TEST_RUN(test_bad_input);
    test_server_stop(&S, SIGTERM);
    return test_summary();
}
