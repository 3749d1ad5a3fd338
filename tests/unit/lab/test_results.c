/* results: one header for every results file, written and read back typed;
 * files from before the schema still read. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "results.h"
#include "testlib.h"

static void test_kinds(void)
{
    for (int k = 0; k < STT_RESULTS_N; k++) {
        CHECK(stt_results_kind_of(stt_results_kind_name((stt_results_kind)k)) == k);
        CHECK(strstr(stt_results_file_name((stt_results_kind)k), ".json") != NULL);
    }
    CHECK(stt_results_kind_of("nope") == STT_ENOTFOUND);
    CHECK(stt_results_kind_name(STT_RESULTS_N) == NULL);
}

static void test_round_trip(void)
{
    json_t *doc = stt_results_new(STT_RESULTS_LOAD, "load", json_pack("{s:i}", "steps", 3));
    REQUIRE(doc != NULL);
    json_object_set_new(doc, "x", stt_results_num(1.23456789));
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/sub/dir/load.json", test_tmpdir());
    REQUIRE(stt_results_write(doc, path, err, sizeof err) == 0);
    json_decref(doc);
    stt_results_header h;
    doc = stt_results_load(path, STT_RESULTS_LOAD, &h, err, sizeof err);
    REQUIRE(doc != NULL);
    CHECK(h.kind == STT_RESULTS_LOAD);
    CHECK(h.version == STT_RESULTS_VERSION);
    CHECK(strncmp(h.tool, "sttbench load ", 14) == 0);
    CHECK(strlen(h.created) == 20);
    CHECK(h.machine.logical_cores >= 1);
    CHECK(h.machine.cpus_usable >= 1);
    CHECK(h.machine.mem_total > 0);
    CHECK(!strcmp(h.commit, "unknown") || strspn(h.commit, "0123456789abcdef") == 40);
    CHECK(json_integer_value(json_object_get(h.config, "steps")) == 3);
    CHECK(fabs(stt_results_get_num(doc, "x") - 1.234568) < 1e-9);
    CHECK(isnan(stt_results_get_num(doc, "missing")));
    json_decref(doc);
    /* Asked for another kind, it refuses and says which kind it is. */
    CHECK(stt_results_load(path, STT_RESULTS_CPU, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "load") != NULL);
}

/* The keys of files written before the schema map to the same header. */
static void test_legacy_headers(void)
{
    json_t *old = json_loads("{\"tool\":\"sttbench load\",\"version\":\"0.1.0\","
                             "\"created\":\"2026-11-20T10:00:00Z\",\"git_commit\":\"abc123\","
                             "\"machine\":{\"cpu_model\":\"AMD EPYC\",\"cores\":2,"
                             "\"memory_bytes\":1024}}",
                             0, NULL);
    REQUIRE(old != NULL);
    stt_results_header h;
    REQUIRE(stt_results_header_read(old, &h, NULL, 0) == 0);
    CHECK(h.kind == STT_RESULTS_LOAD);
    CHECK(h.version == 1);
    CHECK_STR_EQ(h.commit, "abc123");
    CHECK_STR_EQ(h.created, "2026-11-20T10:00:00Z");
    CHECK(h.machine.logical_cores == 2 && h.machine.cpus_allowed == 2);
    CHECK(h.machine.mem_total == 1024);
    CHECK_STR_EQ(h.machine.kernel, "unknown");
    json_decref(old);
    old = json_loads("{\"schema\":\"sttlab.test_results/1\",\"date\":\"d\",\"commit\":\"c\"}", 0,
                     NULL);
    REQUIRE(stt_results_header_read(old, &h, NULL, 0) == 0);
    CHECK(h.kind == STT_RESULTS_TESTS);
    CHECK_STR_EQ(h.created, "d");
    json_decref(old);
    old = json_loads("{\"tool\":\"sttbench audio\",\"created_utc\":\"u\"}", 0, NULL);
    REQUIRE(stt_results_header_read(old, &h, NULL, 0) == 0);
    CHECK(h.kind == STT_RESULTS_AUDIO);
    CHECK_STR_EQ(h.created, "u");
    json_decref(old);
    json_t *arr = json_array();
    char err[64];
    CHECK(stt_results_header_read(arr, &h, err, sizeof err) == STT_EINVAL);
    json_decref(arr);
}

static void test_write_failures(void)
{
    char err[256];
    json_t *doc = json_object();
    CHECK(stt_results_write(doc, "/proc/self/no/such.json", err, sizeof err) == STT_EIO);
    CHECK(err[0] != 0);
    json_decref(doc);
    CHECK(stt_results_load("/nonexistent/x.json", -1, NULL, err, sizeof err) == NULL);
}

static void test_metrics(void)
{
    json_t *doc = stt_results_new(STT_RESULTS_AUDIO, NULL, NULL);
    double x[] = {3, 1, 2, NAN, 5, 4};
    REQUIRE(stt_results_add_metric(doc, "time_s/a", "s", 0, x, 6) == 0);
    double y[] = {10, 11};
    REQUIRE(stt_results_add_metric(doc, "rtfx/a", "", 1, y, 2) == 0);
    CHECK(stt_results_add_metric(doc, "", "s", 0, x, 6) == STT_EINVAL);
    double none[] = {NAN};
    CHECK(stt_results_add_metric(doc, "x", "s", 0, none, 1) == STT_EINVAL);
    const char *utt[] = {"u1", "u2", "u3"};
    int err3[] = {1, 0, 2}, words[] = {10, 8, 12};
    REQUIRE(stt_results_add_accuracy(doc, "wer/balanced", utt, err3, words, 3) == 0);
    const json_t *m0 = json_array_get(json_object_get(doc, "metrics"), 0);
    CHECK(json_integer_value(json_object_get(m0, "n")) == 5);
    CHECK(stt_results_get_num(m0, "median") == 3);
    CHECK_STR_EQ(json_string_value(json_object_get(m0, "better")), "lower");

    stt_results_metric *m;
    stt_results_accuracy *a;
    size_t nm, na;
    char err[128];
    REQUIRE(stt_results_metrics_read(doc, &m, &nm, &a, &na, err, sizeof err) == 0);
    CHECK(nm == 2 && na == 1);
    CHECK_STR_EQ(m[0].name, "time_s/a");
    CHECK(m[0].n == 5 && m[0].samples[4] == 4 && !m[0].higher_is_better);
    CHECK(m[1].higher_is_better && m[1].n == 2);
    CHECK_STR_EQ(a[0].name, "wer/balanced");
    CHECK(a[0].n == 3 && a[0].errors[2] == 2 && a[0].words[1] == 8);
    CHECK_STR_EQ(a[0].utterances[1], "u2");
    stt_results_metrics_free(m, nm, a, na);
    /* A file without either list reads as empty. */
    json_t *empty = json_object();
    REQUIRE(stt_results_metrics_read(empty, &m, &nm, &a, &na, err, sizeof err) == 0);
    CHECK(nm == 0 && na == 0);
    stt_results_metrics_free(m, nm, a, na);
    json_t *bad =
        json_loads("{\"accuracy\":[{\"name\":\"x\",\"errors\":[1],\"words\":[]}]}", 0, NULL);
    CHECK(stt_results_metrics_read(bad, NULL, NULL, &a, &na, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "accuracy[0]") != NULL);
    json_decref(bad);
    json_decref(empty);
    json_decref(doc);
}

int main(void)
{
    TEST_RUN(test_kinds);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_legacy_headers);
    TEST_RUN(test_write_failures);
    TEST_RUN(test_metrics);
    return test_summary();
}
