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

int main(void)
{
    TEST_RUN(test_kinds);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_legacy_headers);
    TEST_RUN(test_write_failures);
    return test_summary();
}
