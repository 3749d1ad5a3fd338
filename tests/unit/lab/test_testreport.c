#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "testlib.h"
#include "testreport.h"

/* Six tests covering every rule: a failure with hostile output, a skip, a 12 s
 * test without the slow label (violation), a 7 s test with it (slow only). */
static const char sample_junit[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<testsuite name=\"Linux-c\" tests=\"6\" failures=\"1\" skipped=\"1\" time=\"20\">\n"
    " <testcase name=\"t_pass\" classname=\"t_pass\" time=\"0.04\" status=\"run\">\n"
    "  <system-out>fine</system-out></testcase>\n"
    " <testcase name=\"t_fail\" classname=\"t_fail\" time=\"0.5\" status=\"fail\">\n"
    "  <failure message=\"\"/>\n"
    "  <system-out>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
    "check failed: a &lt; b</system-out></testcase>\n"
    " <testcase name=\"t_skip\" classname=\"t_skip\" time=\"0\" status=\"notrun\">\n"
    "  <skipped message=\"SKIP_RETURN_CODE=77\"/><system-out></system-out></testcase>\n"
    " <testcase name=\"t_long\" classname=\"t_long\" time=\"12\" status=\"run\"/>\n"
    " <testcase name=\"t_slowok\" classname=\"t_slowok\" time=\"7\" status=\"run\"/>\n"
    " <testcase name=\"t_fixed\" classname=\"t_fixed\" time=\"0.2\" status=\"run\"/>\n"
    "</testsuite>\n";

static const char sample_labels[] =
    "{\"kind\":\"ctestInfo\",\"tests\":["
    "{\"name\":\"t_pass\",\"properties\":[{\"name\":\"LABELS\",\"value\":[\"unit\"]}]},"
    "{\"name\":\"t_fail\",\"properties\":[{\"name\":\"LABELS\",\"value\":[\"unit\"]}]},"
    "{\"name\":\"t_long\",\"properties\":[{\"name\":\"LABELS\",\"value\":[\"integration\"]},"
    "{\"name\":\"TIMEOUT\",\"value\":30.0}]},"
    "{\"name\":\"t_slowok\",\"properties\":[{\"name\":\"LABELS\",\"value\":[\"integration\","
    "\"slow\"]}]},"
    "{\"name\":\"t_fixed\",\"properties\":[{\"name\":\"LABELS\",\"value\":[\"unit\"]}]}]}";

/* The previous run: t_fail passed, t_fixed failed, t_slowok took 3 s, t_pass
 * 1 ms (too small to call the 40 ms now a slowdown), t_long 11 s. */
static const char sample_previous[] =
    "{\"commit\":\"abc1234\",\"date\":\"2026-01-01T00:00:00Z\",\"tests\":["
    "{\"name\":\"t_pass\",\"status\":\"passed\",\"time\":0.001},"
    "{\"name\":\"t_fail\",\"status\":\"passed\",\"time\":0.4},"
    "{\"name\":\"t_long\",\"status\":\"passed\",\"time\":11.0},"
    "{\"name\":\"t_slowok\",\"status\":\"passed\",\"time\":3.0},"
    "{\"name\":\"t_fixed\",\"status\":\"failed\",\"time\":0.2}]}";

static const char *tmp;

static char *path_of(const char *name)
{
    static char paths[8][4096];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 4096, "%s/%s", tmp, name);
    return p;
}

static int write_file(const char *name, const char *text)
{
    FILE *f = fopen(path_of(name), "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

/* gcovr --json for three files: lib/a.c 9/10 lines, lib/b.c 5/10, lib/c.c 7/10;
 * one non-code line in each that must not count. */
static void write_coverage(void)
{
    json_t *files = json_array();
    const char *names[3] = {"lib/a.c", "lib/b.c", "lib/c.c"};
    int covered[3] = {9, 5, 7};
    for (int f = 0; f < 3; f++) {
        json_t *lines = json_array();
        for (int l = 0; l < 11; l++) {
            json_t *br = json_array();
            if (l == 0) { /* two branches, one taken */
                json_array_append_new(br, json_pack("{s:i}", "count", 1));
                json_array_append_new(br, json_pack("{s:i}", "count", 0));
            }
            json_array_append_new(lines,
                                  json_pack("{s:i, s:i, s:b, s:b, s:o}", "line_number", l + 1,
                                            "count", l < covered[f] ? 3 : 0, "gcovr/noncode",
                                            l == 10, "gcovr/excluded", 0, "branches", br));
        }
        json_array_append_new(files, json_pack("{s:s, s:o}", "file", names[f], "lines", lines));
    }
    json_t *root = json_pack("{s:o, s:s}", "files", files, "gcovr/format_version", "0.3");
    json_dump_file(root, path_of("coverage.json"), 0);
    json_decref(root);
}

static stt_testreport *sample_report(int with_previous)
{
    char err[256] = "";
    CHECK(write_file("junit.xml", sample_junit) == 0);
    CHECK(write_file("labels.json", sample_labels) == 0);
    CHECK(write_file("previous.json", sample_previous) == 0);
    write_coverage();
    stt_testreport *r = stt_testreport_create(NULL);
    if (!r) return NULL;
    CHECK(stt_testreport_load_junit(r, path_of("junit.xml"), err, sizeof err) == 0);
    CHECK(stt_testreport_load_labels(r, path_of("labels.json"), err, sizeof err) == 0);
    CHECK(stt_testreport_load_coverage(r, path_of("coverage.json"), err, sizeof err) == 0);
    if (with_previous)
        CHECK(stt_testreport_load_previous(r, path_of("previous.json"), "history/prev.json", err,
                                           sizeof err) == 0);
    if (err[0]) fprintf(stderr, "  error: %s\n", err);
    stt_testreport_set_commit(r, "1234abc-dirty");
    CHECK(stt_testreport_set_machine(r, "Fast <CPU> & co", 16, 1LL << 34, "Linux 6.1") == 0);
    stt_testreport_add_phase(r, "build", 12.5);
    stt_testreport_add_phase(r, "tests", 20.25);
    stt_testreport_set_config(r, "mode", "coverage <&>");
    stt_testreport_analyze(r);
    return r;
}

static const stt_testcase *by_name(const stt_testreport *r, const char *name)
{
    for (size_t i = 0; i < stt_testreport_count(r); i++)
        if (!strcmp(stt_testreport_test(r, i)->name, name)) return stt_testreport_test(r, i);
    return NULL;
}

static void test_totals_and_rules(void)
{
    stt_testreport *r = sample_report(0);
    REQUIRE(r);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.tests == 6);
    CHECK(t.passed == 4);
    CHECK(t.failed == 1);
    CHECK(t.skipped == 1);
    CHECK(fabs(t.seconds - 19.74) < 1e-9);
    CHECK(t.slow == 2);
    CHECK(t.violations == 1);
    CHECK(!t.ok);

    const stt_testcase *c = by_name(r, "t_long");
    REQUIRE(c);
    CHECK(c->slow && c->violation);
    CHECK(c->nlabels == 1 && !strcmp(c->labels[0], "integration"));
    c = by_name(r, "t_slowok");
    REQUIRE(c);
    CHECK(c->slow && !c->violation);
    c = by_name(r, "t_fail");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_FAILED);
    CHECK(c->output && strstr(c->output, "<script>"));
    c = by_name(r, "t_pass");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_PASSED && !c->output && !c->slow);
    c = by_name(r, "t_skip");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_SKIPPED && c->nlabels == 0);

    char line[64];
    CHECK_STR_EQ(stt_testreport_summary_line(r, line, sizeof line),
                 "4 passed, 1 failed, 1 skipped");
    stt_testreport_free(r);
}

static void test_coverage_threshold(void)
{
    stt_testreport *r = sample_report(0);
    REQUIRE(r);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.has_coverage);
    CHECK(fabs(t.line_percent - 70.0) < 1e-9); /* 21 of 30 */
    CHECK(fabs(t.branch_percent - 50.0) < 1e-9);
    CHECK(!t.coverage_ok);
    size_t n = 0;
    const stt_coverage_file *low = stt_testreport_low_coverage(r, &n);
    REQUIRE(n == 2);
    CHECK_STR_EQ(low[0].file, "lib/b.c");
    CHECK_STR_EQ(low[1].file, "lib/c.c");
    CHECK(low[0].lines_total == 10 && low[0].lines_covered == 5);
    stt_testreport_free(r);

    stt_testreport_params p = stt_testreport_default_params();
    p.min_line_coverage = 65;
    r = stt_testreport_create(&p);
    REQUIRE(r);
    char err[256];
    CHECK(stt_testreport_load_coverage(r, path_of("coverage.json"), err, sizeof err) == 0);
    stt_testreport_analyze(r);
    t = stt_testreport_get_totals(r);
    CHECK(t.coverage_ok && t.ok);
    CHECK(stt_testreport_low_coverage(r, &n) && n == 1);
    stt_testreport_free(r);
}

static void test_history(void)
{
    stt_testreport *r = sample_report(1);
    REQUIRE(r);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.new_failures == 1);
    CHECK(t.fixed == 1);
    CHECK(t.slower == 1);
    CHECK(by_name(r, "t_fail")->change == STT_TEST_NEW_FAILURE);
    CHECK(by_name(r, "t_fixed")->change == STT_TEST_FIXED);
    CHECK(by_name(r, "t_slowok")->change == STT_TEST_SLOWER);
    CHECK(fabs(by_name(r, "t_slowok")->previous_seconds - 3.0) < 1e-9);
    CHECK(by_name(r, "t_pass")->change == STT_TEST_SAME); /* 1 ms -> 40 ms is noise */
    CHECK(by_name(r, "t_long")->change == STT_TEST_SAME);
    CHECK(by_name(r, "t_skip")->previous_seconds < 0);
    stt_testreport_free(r);
}

/* Returns the number printed right after `id="ID">` in html, or NAN. */
static double html_number(const char *html, const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "id=\"%s\">", id);
    const char *p = strstr(html, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

static double json_num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void test_html_matches_json(void)
{
    stt_testreport *r = sample_report(1);
    REQUIRE(r);
    char err[256];
    CHECK(stt_testreport_write_json(r, path_of("test_results.json"), err, sizeof err) == 0);
    CHECK(stt_testreport_write_html(r, path_of("test_report.html"), err, sizeof err) == 0);
    stt_testreport_free(r);

    json_error_t je;
    json_t *root = json_load_file(path_of("test_results.json"), 0, &je);
    char *html = test_read_file(path_of("test_report.html"), NULL);
    REQUIRE(root && html);
    json_t *totals = json_object_get(root, "totals");
    REQUIRE(totals);
    static const char *const keys[][2] = {
        {"tests", "total-tests"},
        {"passed", "total-passed"},
        {"failed", "total-failed"},
        {"skipped", "total-skipped"},
        {"slow", "total-slow"},
        {"violations", "total-violations"},
        {"new_failures", "history-new-failures"},
        {"fixed", "history-fixed"},
        {"slower", "history-slower"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        double h = html_number(html, keys[i][1]), j = json_num(totals, keys[i][0]);
        if (h != j) fprintf(stderr, "  %s: html %g, json %g\n", keys[i][0], h, j);
        CHECK(h == j);
    }
    CHECK(fabs(html_number(html, "total-time") - json_num(totals, "time")) < 0.0005);
    json_t *cov = json_object_get(root, "coverage");
    CHECK(fabs(html_number(html, "coverage-line") - json_num(cov, "line_percent")) < 0.05);
    CHECK(fabs(html_number(html, "coverage-branch") - json_num(cov, "branch_percent")) < 0.05);
    CHECK(json_is_false(json_object_get(root, "ok")));
    CHECK(json_is_false(json_object_get(cov, "ok")));
    CHECK(json_array_size(json_object_get(cov, "below_threshold")) == 2);
    CHECK(json_array_size(json_object_get(root, "violations")) == 1);
    CHECK(json_array_size(json_object_get(root, "slow_tests")) == 2);
    CHECK_STR_EQ(json_string_value(json_object_get(root, "commit")), "1234abc-dirty");
    CHECK(strstr(html, "1234abc-dirty") != NULL);
    json_t *hist = json_object_get(root, "history");
    CHECK(json_array_size(json_object_get(hist, "new_failures")) == 1);
    CHECK(json_array_size(json_object_get(hist, "slower")) == 1);
    json_t *m = json_object_get(root, "machine");
    CHECK(json_integer_value(json_object_get(m, "cores")) == 16);
    CHECK_STR_EQ(json_string_value(json_object_get(m, "cpu_model")), "Fast <CPU> & co");
    CHECK(strstr(html, "Fast &lt;CPU&gt; &amp; co") != NULL);
    CHECK(json_num(json_object_get(root, "timings"), "build") == 12.5);

    /* Hostile output is escaped, never markup. */
    CHECK(strstr(html, "<script") == NULL);
    CHECK(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)") != NULL);
    CHECK(strstr(html, "coverage &lt;&amp;&gt;") != NULL);
    CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
    json_decref(root);
    free(html);
}

static void test_html_tidy(void)
{
    if (access("/usr/bin/tidy", X_OK) != 0) {
        fprintf(stderr, "  tidy not installed; skipped\n");
        return;
    }
    stt_testreport *r = sample_report(1);
    REQUIRE(r);
    char err[256], cmd[4200];
    CHECK(stt_testreport_write_html(r, path_of("tidy.html"), err, sizeof err) == 0);
    stt_testreport_free(r);
    snprintf(cmd, sizeof cmd, "tidy -q -e '%s' 2>&1", path_of("tidy.html"));
    int st = system(cmd);
    REQUIRE(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1); /* 1: warnings only */
}

static void test_junit_output(void)
{
    stt_testreport *r = sample_report(0);
    REQUIRE(r);
    char err[256];
    stt_testreport_add_check(r, "valgrind", 0, "1 <definite> leak");
    stt_testreport_analyze(r);
    CHECK(stt_testreport_write_junit(r, path_of("out.xml"), err, sizeof err) == 0);
    stt_testreport_free(r);

    xmlDoc *doc = xmlReadFile(path_of("out.xml"), NULL, XML_PARSE_NONET);
    REQUIRE(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    CHECK(root && !strcmp((const char *)root->name, "testsuites"));
    int cases = 0, failures = 0, skipped = 0, unit_class = 0;
    for (xmlNode *s = root ? root->children : NULL; s; s = s->next) {
        if (s->type != XML_ELEMENT_NODE) continue;
        for (xmlNode *c = s->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "testcase")) continue;
            cases++;
            xmlChar *cls = xmlGetProp(c, (const xmlChar *)"classname");
            xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
            if (cls && name && !strcmp((char *)name, "t_slowok"))
                CHECK(!strcmp((char *)cls, "integration"));
            if (cls && !strcmp((char *)cls, "unit")) unit_class++;
            xmlFree(cls);
            xmlFree(name);
            for (xmlNode *k = c->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE) continue;
                if (!strcmp((const char *)k->name, "failure")) failures++;
                if (!strcmp((const char *)k->name, "skipped")) skipped++;
            }
        }
    }
    CHECK(cases == 8);    /* six tests, coverage, valgrind */
    CHECK(failures == 4); /* t_fail, t_long's time limit, coverage, valgrind */
    CHECK(skipped == 1);
    CHECK(unit_class == 3);
    xmlChar *f = root ? xmlGetProp(root, (const xmlChar *)"failures") : NULL;
    CHECK(f && atoi((char *)f) == failures);
    xmlFree(f);
    xmlFreeDoc(doc);
    char *text = test_read_file(path_of("out.xml"), NULL);
    CHECK(text && strstr(text, "&lt;script&gt;") && !strstr(text, "<script"));
    free(text);
}

static void test_bad_input(void)
{
    char err[256];
    stt_testreport *r = stt_testreport_create(NULL);
    REQUIRE(r);
    CHECK(stt_testreport_load_junit(r, path_of("missing.xml"), err, sizeof err) == STT_EIO);
    CHECK(write_file("bad.xml", "<testsuite><testcase name=\"x\"") == 0);
    CHECK(stt_testreport_load_junit(r, path_of("bad.xml"), err, sizeof err) == STT_EFORMAT);
    CHECK(write_file("other.xml", "<html/>") == 0);
    CHECK(stt_testreport_load_junit(r, path_of("other.xml"), err, sizeof err) == STT_EFORMAT);
    CHECK(write_file("bad.json", "{\"files\": 3}") == 0);
    CHECK(stt_testreport_load_coverage(r, path_of("bad.json"), err, sizeof err) == STT_EFORMAT);
    CHECK(stt_testreport_load_previous(r, path_of("bad.json"), NULL, err, sizeof err) ==
          STT_EFORMAT);
    CHECK(stt_testreport_load_labels(r, path_of("missing.json"), err, sizeof err) == STT_EFORMAT);

    /* No tests at all is a valid, empty report. */
    CHECK(write_file("empty.xml", "<testsuite name=\"x\" tests=\"0\"></testsuite>") == 0);
    CHECK(stt_testreport_load_junit(r, path_of("empty.xml"), err, sizeof err) == 0);
    stt_testreport_analyze(r);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.tests == 0 && t.ok && t.coverage_ok);
    char line[64];
    CHECK_STR_EQ(stt_testreport_summary_line(r, line, sizeof line), "0 passed, 0 failed");
    CHECK(stt_testreport_write_html(r, path_of("empty.html"), err, sizeof err) == 0);
    CHECK(stt_testreport_write_json(r, "/nonexistent/dir/x.json", err, sizeof err) == STT_EIO);
    CHECK(stt_testreport_write_html(r, "/nonexistent/dir/x.html", err, sizeof err) == STT_EIO);
    CHECK(stt_testreport_write_junit(r, "/nonexistent/dir/x.xml", err, sizeof err) == STT_EIO);
    stt_testreport_free(r);
}

/* Slow is over slow_seconds; a violation needs over max_test_seconds: 7 s
 * unlabelled is slow only, exactly 10 s is not over the limit, 10.5 s is. */
static void test_violation_needs_max_seconds(void)
{
    CHECK(write_file("limits.xml",
                     "<testsuite name=\"x\" tests=\"3\">\n"
                     " <testcase name=\"t_seven\" classname=\"t\" time=\"7\" status=\"run\"/>\n"
                     " <testcase name=\"t_ten\" classname=\"t\" time=\"10\" status=\"run\"/>\n"
                     " <testcase name=\"t_over\" classname=\"t\" time=\"10.5\" status=\"run\"/>\n"
                     "</testsuite>\n") == 0);
    stt_testreport *r = stt_testreport_create(NULL);
    REQUIRE(r);
    char err[256];
    REQUIRE(stt_testreport_load_junit(r, path_of("limits.xml"), err, sizeof err) == 0);
    stt_testreport_analyze(r);
    const stt_testcase *c = by_name(r, "t_seven");
    REQUIRE(c);
    CHECK(c->slow && !c->violation);
    c = by_name(r, "t_ten");
    REQUIRE(c);
    CHECK(c->slow && !c->violation);
    c = by_name(r, "t_over");
    REQUIRE(c);
    CHECK(c->slow && c->violation);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.slow == 3 && t.violations == 1 && !t.ok);
    stt_testreport_free(r);
}

static void test_summary_coverage_format(void)
{
    /* gcovr --json-summary carries counts per file instead of lines. */
    CHECK(write_file("summary.json",
                     "{\"files\":[{\"filename\":\"lib/x.c\",\"line_total\":40,"
                     "\"line_covered\":30,\"branch_total\":0,\"branch_covered\":0}]}") == 0);
    stt_testreport *r = stt_testreport_create(NULL);
    REQUIRE(r);
    char err[256];
    CHECK(stt_testreport_load_coverage(r, path_of("summary.json"), err, sizeof err) == 0);
    stt_testreport_analyze(r);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(fabs(t.line_percent - 75.0) < 1e-9);
    CHECK(t.branch_percent == 100.0); /* nothing to cover */
    CHECK(!t.coverage_ok);
    stt_testreport_free(r);
}

int main(void)
{
    tmp = test_tmpdir();
    if (!tmp) return 1;
    TEST_RUN(test_totals_and_rules);
    TEST_RUN(test_coverage_threshold);
    TEST_RUN(test_history);
    TEST_RUN(test_html_matches_json);
    TEST_RUN(test_html_tidy);
    TEST_RUN(test_junit_output);
    TEST_RUN(test_bad_input);
    TEST_RUN(test_summary_coverage_format);
    TEST_RUN(test_violation_needs_max_seconds);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return test_summary();
}
