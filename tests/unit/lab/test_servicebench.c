/* servicebench: the verdict rule, and one whole run with stand-ins for sttd
 * (fake_sttd), sttraw and pocketsphinx_continuous, so that every part, the
 * targets and service.json are exercised in seconds. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "servicebench.h"
#include "stats.h"
#include "testlib.h"

static stt_summary summary_of(const double *v, size_t n)
{
    stt_summary s;
    stt_stats_summarize(v, n, 0.95, &s);
    return s;
}

/* PASS only when the whole interval is on the good side, FAIL when wholly on
 * the bad side, undetermined when it straddles or n is too small. */
static void test_judge(void)
{
    double below[6] = {0.90, 0.92, 0.95, 0.93, 0.91, 0.94};
    double above[6] = {1.10, 1.20, 1.15, 1.12, 1.18, 1.11};
    double across[6] = {0.95, 1.10, 1.00, 1.08, 0.97, 1.02};
    stt_summary b = summary_of(below, 6), a = summary_of(above, 6), x = summary_of(across, 6);
    CHECK(stt_servicebench_judge(&b, 1.05, 0, 5) == STT_SERVICE_PASS);
    CHECK(stt_servicebench_judge(&a, 1.05, 0, 5) == STT_SERVICE_FAIL);
    CHECK(stt_servicebench_judge(&x, 1.05, 0, 5) == STT_SERVICE_UNDETERMINED);
    /* higher is better: the sides swap */
    CHECK(stt_servicebench_judge(&a, 1.05, 1, 5) == STT_SERVICE_PASS);
    CHECK(stt_servicebench_judge(&b, 1.05, 1, 5) == STT_SERVICE_FAIL);
    /* too few rounds: no verdict, however clear */
    stt_summary two = summary_of(below, 2);
    CHECK(stt_servicebench_judge(&two, 1.05, 0, 5) == STT_SERVICE_UNDETERMINED);
    CHECK(stt_servicebench_judge(&two, 1.05, 0, 2) == STT_SERVICE_PASS);
    CHECK(stt_servicebench_judge(NULL, 1, 0, 1) == STT_SERVICE_UNDETERMINED);
    CHECK_STR_EQ(stt_service_verdict_name(STT_SERVICE_UNDETERMINED), "undetermined");
    CHECK_STR_EQ(stt_service_verdict_name(STT_SERVICE_NOT_MEASURED), "not measured");
}

static int write_script(const char *dir, const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    fclose(f);
    return chmod(path, 0755);
}

static json_t *target(json_t *doc, const char *name)
{
    json_t *t = json_object_get(doc, "targets");
    for (size_t i = 0; i < json_array_size(t); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(t, i), "target"));
        if (n && !strcmp(n, name)) return json_array_get(t, i);
    }
    return NULL;
}

static json_t *metric(json_t *doc, const char *key, const char *name)
{
    json_t *m = json_object_get(doc, key);
    for (size_t i = 0; i < json_array_size(m); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(m, i), "name"));
        if (n && !strcmp(n, name)) return json_array_get(m, i);
    }
    return NULL;
}

/* Says when each part starts, so that a slow run shows where its time went. */
static void on_progress(void *arg, int part, const char *step)
{
    int *last = arg;
    if (part != *last) fprintf(stderr, "  part %d starts: %s\n", part, step);
    *last = part;
}

static void test_run_with_stand_ins(void)
{
    char dir[500], out[600], script[2000], err[512] = "";
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    snprintf(out, sizeof out, "%s/out", dir);
    /* sttd: fake_sttd keeps the options it knows */
    snprintf(script, sizeof script,
             "#!/bin/sh\nargs=''\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in\n"
             "    --host|--port|--workers|--threads) args=\"$args $1 $2\"; shift 2 ;;\n"
             "    --quiet) shift ;;\n    *) shift 2 ;;\n  esac\ndone\n"
             "exec '%s' $args --cpu-ms-per-audio-s 0\n",
             test_bin("fake_sttd"));
    REQUIRE(write_script(dir, "sttd", script) == 0);
    REQUIRE(write_script(dir, "sttraw",
                         "#!/bin/sh\nn=1\n[ \"$1\" = --repeat ] && { n=$2; shift 2; }\n"
                         "i=0\nwhile [ $i -lt $n ]; do echo '5.0 24.73 fake transcript'; "
                         "i=$((i+1)); done\n") == 0);
    REQUIRE(write_script(dir, "pocketsphinx_continuous", "#!/bin/sh\necho fake transcript\n") == 0);
    char path[4200];
    snprintf(path, sizeof path, "%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);

    stt_servicebench_params p = stt_servicebench_default_params();
    p.corpus = "/nonexistent"; /* the long file is built */
    p.out = out;
    p.bin_dir = dir;
    p.testdata = STT_TESTDATA_DIR;
    p.quick = 1;
    p.long_reps_quick = 1; /* a 27.7 s long file */
    p.per_client_quick = 1;
    p.fairness_delay_s = 0.05;
    /* The timed parts in five rounds; accuracy and memory in one, below. */
    p.parts = 1u << 0 | 1u << 3 | 1u << 4 | 1u << 5;
    stt_servicebench *s = NULL;
    int last = 0;
    int rc = stt_servicebench_run(&p, on_progress, &last, &s, err, sizeof err);
    if (rc) fprintf(stderr, "  %s\n", err);
    REQUIRE(rc == 0 && s);
    for (size_t i = 0; i < stt_servicebench_target_count(s); i++) {
        const stt_servicebench_target *t = stt_servicebench_target_at(s, i);
        fprintf(stderr, "  %-18s %-13s %s\n", t->name, stt_service_verdict_name(t->verdict),
                t->measured);
    }
    CHECK(stt_servicebench_target_count(s) == 5); /* 1, 4 (speedup, WER), 5, 6 */
    /* sttraw's stand-in says every decode took 5 s: sttd's requests are far
     * quicker, so the overhead ratio (sttd over sttraw) is well below 1 */
    const stt_servicebench_target *ov = stt_servicebench_target_at(s, 0);
    REQUIRE(ov);
    CHECK(ov->figure.n == 5 && ov->figure.median < 0.5 && ov->verdict == STT_SERVICE_PASS);
    stt_servicebench_free(s);

    snprintf(path, sizeof path, "%s/service.json", out);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    REQUIRE(doc);
    CHECK_STR_EQ(json_string_value(json_object_get(doc, "schema")), "sttlab.service/2");
    json_t *t = target(doc, "1 overhead");
    REQUIRE(t);
    CHECK(json_integer_value(json_object_get(t, "n")) == 5);
    CHECK(json_array_size(json_object_get(t, "ci")) == 2);
    CHECK(json_is_string(json_object_get(t, "verdict")));
    t = target(doc, "5 throughput");
    CHECK(t && json_integer_value(json_object_get(t, "n")) == 5);
    t = target(doc, "6 fairness");
    CHECK(t && json_integer_value(json_object_get(t, "n")) == 5);
    json_t *m = metric(doc, "metrics", "overhead_ratio");
    CHECK(m && json_integer_value(json_object_get(m, "n")) == 5);
    CHECK(metric(doc, "metrics", "speedup/threads_2"));
    CHECK(metric(doc, "metrics", "fairness_ratio"));
    CHECK(metric(doc, "accuracy", "wer/long/threads_2"));
    json_t *thr = json_object_get(json_object_get(doc, "measurements"), "threads");
    CHECK(thr && json_number_value(json_object_get(thr, "audio_s")) > 25);
    json_decref(doc);
    snprintf(path, sizeof path, "%s/service_report.md", out);
    char *md = test_read_file(path, NULL);
    CHECK(md && strstr(md, "| 1 overhead |") && strstr(md, "n 5"));
    free(md);

    /* Accuracy and memory, one round. */
    p.parts = 1u << 1 | 1u << 2;
    p.repeat = 1;
    CHECK(stt_servicebench_run(&p, NULL, NULL, &s, err, sizeof err) == 0);
    REQUIRE(s);
    CHECK(stt_servicebench_target_count(s) == 3); /* accuracy, the profiles line, memory */
    const stt_servicebench_target *acc = stt_servicebench_target_at(s, 0);
    CHECK(acc && acc->verdict == STT_SERVICE_PASS); /* both say "fake transcript" */
    /* fake_sttd has no worker processes: the memory part says it could not measure */
    const stt_servicebench_target *mem = stt_servicebench_target_at(s, 2);
    REQUIRE(mem);
    CHECK(mem->verdict == STT_SERVICE_NOT_MEASURED && strstr(mem->measured, "workers decoded"));
    CHECK(stt_servicebench_failed(s));
    stt_servicebench_free(s);
    snprintf(path, sizeof path, "%s/service.json", out);
    doc = json_load_file(path, 0, &je);
    REQUIRE(doc);
    CHECK(metric(doc, "metrics", "rtf/balanced/clips"));
    json_t *a = metric(doc, "accuracy", "wer/balanced/clips");
    CHECK(a && json_array_size(json_object_get(a, "errors")) == 5);
    CHECK(metric(doc, "accuracy", "wer/pocketsphinx_continuous/clips"));
    json_decref(doc);
    p.repeat = 0;
    CHECK(stt_servicebench_run(&p, NULL, NULL, &s, err, sizeof err) == STT_EINVAL && !s);
    p.repeat = 1;
    p.bin_dir = "/nonexistent";
    CHECK(stt_servicebench_run(&p, NULL, NULL, &s, err, sizeof err) == STT_ENOTFOUND);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TEST_RUN(test_judge);
    TEST_RUN(test_run_with_stand_ins);
    curl_global_cleanup();
    return test_summary();
}
