/* `sttbench load` end to end against a real sttd: uploads drawn from a corpus
 * manifest (selected and weighted by the --mix-* options), bare GETs, the
 * generator's self-measurement in load.json, and the exit status of bad input. */
#include <jansson.h>
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

static long step_int(json_t *root, const char *key)
{
    return (long)json_integer_value(
        json_object_get(json_array_get(json_object_get(root, "steps"), 0), key));
}

static void test_corpus_mix(void)
{
    char opts[8192];
    /* Only WAV files of at most 10 s: the 7.7 s file alone. */
    snprintf(opts, sizeof opts,
             "--mix %s/manifest --mix-formats wav --mix-max-duration 10 --model fast "
             "--concurrency 1 --requests 2 --warmup 0",
             corpus);
    REQUIRE(load(opts) == 0);
    json_t *j = load_json();
    REQUIRE(j);
    CHECK(json_array_size(json_object_get(json_object_get(j, "config"), "uploads")) == 1);
    CHECK(upload(j, "speech_0008s.wav") != NULL);
    CHECK(step_int(j, "ok") == 2);
    json_decref(j);

    /* The folder names the manifest too; weights pick and drop files. */
    snprintf(opts, sizeof opts,
             "--mix %s --mix-formats wav --mix-weights speech_0008s.wav=2,speech_0025s.wav=0 "
             "--model fast --concurrency 1 --requests 3 --warmup 0",
             corpus);
    REQUIRE(load(opts) == 0);
    j = load_json();
    REQUIRE(j);
    json_t *u8 = upload(j, "speech_0008s.wav");
    CHECK(u8 && json_integer_value(json_object_get(u8, "weight")) == 2);
    CHECK(u8 && json_real_value(json_object_get(u8, "audio_s")) > 7);
    CHECK(upload(j, "speech_0025s.wav") == NULL);
    CHECK(upload(j, "speech_0025s.mp3") == NULL);
    CHECK(upload(j, "speech_0025s_44k_stereo.wav") != NULL);
    CHECK(step_int(j, "ok") == 3);
    json_t *st = json_array_get(json_object_get(j, "steps"), 0);
    CHECK(json_real_value(json_object_get(st, "audio_s_per_s")) > 0);
    json_decref(j);
    /* The latency distribution for the chart: the step's percentiles, rising. */
    char path[4300];
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
    CHECK(rows >= 20);
    CHECK(rising);
    free(dat);
}

static void test_bare_gets(void)
{
    REQUIRE(load("--method GET --concurrency 2 --requests 300 --warmup 0") == 0);
    json_t *j = load_json();
    REQUIRE(j);
    CHECK(step_int(j, "ok") == 300);
    json_t *st = json_array_get(json_object_get(j, "steps"), 0);
    json_t *gen = json_object_get(st, "generator");
    double busy = json_real_value(json_object_get(gen, "busiest_thread_cpu"));
    CHECK(busy > 0 && busy <= 1.05);
    CHECK(json_is_boolean(json_object_get(gen, "saturated")));
    json_t *lat = json_object_get(st, "latency_s"),
           *unc = json_object_get(st, "latency_uncorrected_s");
    CHECK(json_real_value(json_object_get(lat, "p50")) >=
          json_real_value(json_object_get(unc, "p50")));
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
    TEST_RUN(test_bad_input);
    test_server_stop(&S, SIGTERM);
    return test_summary();
}
