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

/* testlib's records of the sample run (tests/support/testlib.c): t_pass has
 * two cases, t_fail one passing and one failing with two checks (one with
 * hostile text), t_long and t_slowok one case each; t_skip and t_fixed have
 * no record file. */
static const char records_pass[] = "start\ttest_one\nend\ttest_one\tok\t0.010000\n"
                                   "start\ttest_two\nend\ttest_two\tok\t0.020000\n";
static const char records_fail[] =
    "start\ttest_ok\nend\ttest_ok\tok\t0.100000\n"
    "start\ttest_bad\n"
    "fail\ttest_bad\ttests/unit/x/test_t_fail.c:12\ta < b\n"
    "fail\ttest_bad\ttests/unit/x/test_t_fail.c:13\t<script>alert(\"x\")</script>\n"
    "end\ttest_bad\tFAIL\t0.300000\n";
static const char records_long[] = "start\ttest_long_one\nend\ttest_long_one\tok\t11.9\n";
static const char records_slowok[] = "start\ttest_seven\nend\ttest_seven\tok\t6.9\n";

static void write_records(const char *dir)
{
    char cmd[4200], name[128];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", tmp, dir);
    CHECK(system(cmd) == 0);
    static const char *const names[4] = {"t_pass", "t_fail", "t_long", "t_slowok"};
    const char *const text[4] = {records_pass, records_fail, records_long, records_slowok};
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%.60s/%s.cases", dir, names[i]);
        CHECK(write_file(name, text[i]) == 0);
    }
}

static stt_testreport *sample_report(int with_previous)
{
    char err[256] = "";
    CHECK(write_file("junit.xml", sample_junit) == 0);
    write_records("cases");
    CHECK(write_file("labels.json", sample_labels) == 0);
    CHECK(write_file("previous.json", sample_previous) == 0);
    write_coverage();
    stt_testreport *r = stt_testreport_create(NULL);
    if (!r) return NULL;
    CHECK(stt_testreport_load_junit(r, path_of("junit.xml"), err, sizeof err) == 0);
    CHECK(stt_testreport_load_cases(r, path_of("cases"), err, sizeof err) == 0);
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
    CHECK(stt_testreport_analyze(r) == 0);
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
    CHECK(stt_testreport_analyze(r) == 0);
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

/* Writes r's JSON to name and checks that it reads back as a results file. */
static int write_json_and_read(const stt_testreport *r, const char *name)
{
    char err[256];
    if (stt_testreport_write_json(r, path_of(name), err, sizeof err)) return -1;
    json_error_t je;
    json_t *root = json_load_file(path_of(name), 0, &je);
    int ok = root && json_is_array(json_object_get(root, "cases"));
    json_decref(root);
    return ok ? 0 : -1;
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
    json_t *ct = json_object_get(root, "case_totals");
    static const char *const ckeys[][2] = {{"cases", "cases-total"},
                                           {"passed", "cases-passed"},
                                           {"failed", "cases-failed"},
                                           {"slow", "cases-slow"}};
    for (size_t i = 0; i < sizeof ckeys / sizeof ckeys[0]; i++)
        CHECK(html_number(html, ckeys[i][1]) == json_num(ct, ckeys[i][0]));
    CHECK(json_num(ct, "cases") == 8);
    CHECK(json_array_size(json_object_get(root, "cases")) == 8);
    CHECK(json_array_size(json_object_get(root, "slow_cases")) == 2);
    CHECK(strstr(html, "test_t_fail.c:12: check failed: a &lt; b") != NULL);
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
    CHECK(json_integer_value(json_object_get(m, "logical_cores")) == 16);
    CHECK_STR_EQ(json_string_value(json_object_get(root, "schema")), "sttlab.tests/2");
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
    REQUIRE(stt_testreport_analyze(r) == 0);
    CHECK(stt_testreport_write_junit(r, path_of("out.xml"), err, sizeof err) == 0);
    stt_testreport_free(r);

    xmlDoc *doc = xmlReadFile(path_of("out.xml"), NULL, XML_PARSE_NONET);
    REQUIRE(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    CHECK(root && !strcmp((const char *)root->name, "testsuites"));
    int suites = 0, cases = 0, failures = 0, skipped = 0, unit_class = 0, time_limit = 0;
    for (xmlNode *s = root ? root->children : NULL; s; s = s->next) {
        if (s->type != XML_ELEMENT_NODE) continue;
        suites++;
        for (xmlNode *c = s->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "testcase")) continue;
            cases++;
            xmlChar *cls = xmlGetProp(c, (const xmlChar *)"classname");
            xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
            if (cls && name && !strcmp((char *)name, "t_slowok"))
                CHECK(!strcmp((char *)cls, "integration.t_slowok"));
            if (cls && !strncmp((char *)cls, "unit.", 5)) unit_class++;
            if (name && !strcmp((char *)name, "(time limit)")) time_limit++;
            xmlFree(cls);
            xmlFree(name);
            for (xmlNode *k = c->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE) continue;
                if (!strcmp((const char *)k->name, "failure")) failures++;
                if (!strcmp((const char *)k->name, "skipped")) skipped++;
            }
        }
    }
    CHECK(suites == 7);   /* six programs, checks */
    CHECK(cases == 11);   /* eight cases, t_long's time limit, coverage, valgrind */
    CHECK(failures == 4); /* t_fail's test_bad (two checks, one failure), t_long's time
                           * limit, coverage, valgrind */
    CHECK(skipped == 1);
    CHECK(time_limit == 1);
    CHECK(unit_class == 5); /* t_pass: 2, t_fail: 2, t_fixed: 1 */
    xmlChar *f = root ? xmlGetProp(root, (const xmlChar *)"failures") : NULL;
    CHECK(f && atoi((char *)f) == failures);
    xmlFree(f);
    xmlFreeDoc(doc);
    char *text = test_read_file(path_of("out.xml"), NULL);
    CHECK(text && strstr(text, "test_t_fail.c:12: check failed: a &lt; b") &&
          !strstr(text, "<script"));
    free(text);
}

static const stt_testreport_case *case_named(const stt_testreport *r, const char *program,
                                             const char *name)
{
    for (size_t i = 0; i < stt_testreport_case_count(r); i++) {
        const stt_testreport_case *c = stt_testreport_case_at(r, i);
        if (!strcmp(c->program, program) && !strcmp(c->name, name)) return c;
    }
    return NULL;
}

static void test_cases_from_records(void)
{
    stt_testreport *r = sample_report(0);
    REQUIRE(r);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.cases == 8);
    CHECK(t.cases_passed == 6 && t.cases_failed == 1 && t.cases_skipped == 1);
    CHECK(t.cases_slow == 2); /* test_long_one 11.9 s, test_seven 6.9 s */
    const stt_testreport_case *c = case_named(r, "t_fail", "test_bad");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_FAILED && fabs(c->seconds - 0.3) < 1e-9);
    CHECK_STR_EQ(c->label, "unit");
    CHECK(c->message && strstr(c->message, "tests/unit/x/test_t_fail.c:12: check failed: a < b\n"
                                           "tests/unit/x/test_t_fail.c:13: check failed: "));
    c = case_named(r, "t_fail", "test_ok");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_PASSED && !c->message);
    c = case_named(r, "t_pass", "test_two");
    REQUIRE(c);
    CHECK(fabs(c->seconds - 0.02) < 1e-9 && !c->slow);
    c = case_named(r, "t_slowok", "test_seven");
    REQUIRE(c);
    CHECK(c->slow);
    CHECK_STR_EQ(c->label, "integration"); /* the first label other than slow */
    /* Without a record file the program stands for its one case. */
    c = case_named(r, "t_fixed", "t_fixed");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_PASSED && fabs(c->seconds - 0.2) < 1e-9);
    c = case_named(r, "t_skip", "t_skip");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_SKIPPED && !c->slow);
    stt_testreport_free(r);
}

/* A crash inside a case, a program that fails outside its cases, and a
 * program without records whose output lists its cases. */
static void test_cases_edges(void)
{
    CHECK(write_file("edge.xml",
                     "<testsuite name=\"x\" tests=\"4\">\n"
                     " <testcase name=\"p_crash\" time=\"1\" status=\"fail\"><system-out>ok   a\n"
                     "Segmentation fault</system-out></testcase>\n"
                     " <testcase name=\"p_exit\" time=\"1\" status=\"fail\"/>\n"
                     " <testcase name=\"p_out\" time=\"1\" status=\"fail\"><system-out>ok   x\n"
                     "/src/t.c:7: check failed: y == 2\nFAIL y\nok   z\n2 passed, 1 failed\n"
                     "</system-out></testcase>\n"
                     " <testcase name=\"p_cut\" time=\"1\" status=\"run\"><system-out>ok   x\n"
                     "ok   y\n... truncated</system-out></testcase>\n"
                     "</testsuite>\n") == 0);
    char dir[4200];
    snprintf(dir, sizeof dir, "mkdir -p '%s/edge'", tmp);
    CHECK(system(dir) == 0);
    CHECK(write_file("edge/p_crash.cases",
                     "start\ta\nend\ta\tok\t0.5\nstart\tb\nfail\tb\tt.c:3\tq\n") == 0);
    CHECK(write_file("edge/p_exit.cases", "start\ta\nend\ta\tok\t0.5\n") == 0);
    stt_testreport *r = stt_testreport_create(NULL);
    REQUIRE(r);
    char err[256];
    REQUIRE(stt_testreport_load_junit(r, path_of("edge.xml"), err, sizeof err) == 0);
    REQUIRE(stt_testreport_load_cases(r, path_of("edge"), err, sizeof err) == 0);
    REQUIRE(stt_testreport_analyze(r) == 0);
    const stt_testreport_case *c = case_named(r, "p_crash", "b");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_FAILED && isnan(c->seconds));
    CHECK(c->message && strstr(c->message, "t.c:3: check failed: q") &&
          strstr(c->message, "ended inside this case"));
    CHECK(case_named(r, "p_crash", "a")->status == STT_TEST_PASSED);
    c = case_named(r, "p_exit", "(program)");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_FAILED && strstr(c->message, "none of its cases"));
    c = case_named(r, "p_out", "y");
    REQUIRE(c);
    CHECK(c->status == STT_TEST_FAILED && c->message &&
          !strcmp(c->message, "/src/t.c:7: check failed: y == 2"));
    CHECK(case_named(r, "p_out", "x") && case_named(r, "p_out", "z"));
    /* An output cut short does not give a partial list. */
    CHECK(case_named(r, "p_cut", "p_cut") && !case_named(r, "p_cut", "x"));
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.cases == 2 + 2 + 3 + 1 && t.cases_failed == 3);
    stt_testreport_free(r);
}

/* The previous report knew cases too: t_fail/test_bad passed then,
 * t_pass/test_two took 1 ms (too small to call 20 ms slower), t_slowok's
 * test_seven took 2 s, t_fixed failed. */
static void test_case_history(void)
{
    CHECK(write_file("prev_cases.json",
                     "{\"created\":\"2026-01-01T00:00:00Z\",\"commit\":\"abc\",\"tests\":[],"
                     "\"cases\":["
                     "{\"program\":\"t_fail\",\"name\":\"test_bad\",\"status\":\"passed\","
                     "\"time\":0.3},"
                     "{\"program\":\"t_pass\",\"name\":\"test_two\",\"status\":\"passed\","
                     "\"time\":0.001},"
                     "{\"program\":\"t_slowok\",\"name\":\"test_seven\",\"status\":\"passed\","
                     "\"time\":2.0},"
                     "{\"program\":\"t_fixed\",\"name\":\"t_fixed\",\"status\":\"failed\","
                     "\"time\":0.2}]}") == 0);
    stt_testreport *r = sample_report(0);
    REQUIRE(r);
    char err[256];
    REQUIRE(stt_testreport_load_previous(r, path_of("prev_cases.json"), "p", err, sizeof err) == 0);
    REQUIRE(stt_testreport_analyze(r) == 0);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.cases_new_failures == 1 && t.cases_fixed == 1 && t.cases_slower == 1);
    CHECK(case_named(r, "t_fail", "test_bad")->change == STT_TEST_NEW_FAILURE);
    CHECK(case_named(r, "t_fixed", "t_fixed")->change == STT_TEST_FIXED);
    CHECK(case_named(r, "t_slowok", "test_seven")->change == STT_TEST_SLOWER);
    CHECK(case_named(r, "t_pass", "test_two")->change == STT_TEST_SAME);
    CHECK(case_named(r, "t_pass", "test_one")->previous_seconds < 0);
    CHECK(write_json_and_read(r, "history.json") == 0);
    stt_testreport_free(r);
}

/* Three runs of the fast subset: t_pass/test_two fails once (flaky),
 * t_pass/test_one takes 0.1, 0.5 and 0.1 s (5x apart), t_fail/test_ok takes
 * 1 ms, 3 ms, 1 ms (under tiny_seconds: not a finding). */
static void test_stability(void)
{
    static const char junit[] = "<testsuite name=\"x\" tests=\"2\">\n"
                                " <testcase name=\"t_pass\" time=\"1\" status=\"%s\"/>\n"
                                " <testcase name=\"t_fail\" time=\"1\" status=\"run\"/>\n"
                                "</testsuite>\n";
    const char *two[3] = {"ok", "FAIL", "ok"}, *one[3] = {"0.1", "0.5", "0.1"},
               *tiny[3] = {"0.001", "0.003", "0.001"};
    stt_testreport *r = sample_report(0);
    REQUIRE(r);
    char err[256];
    for (int k = 0; k < 3; k++) {
        char name[64], text[512];
        snprintf(name, sizeof name, "stab%d/junit.xml", k);
        char dir[4200];
        snprintf(dir, sizeof dir, "mkdir -p '%s/stab%d/cases'", tmp, k);
        CHECK(system(dir) == 0);
        snprintf(text, sizeof text, junit, k == 1 ? "fail" : "run");
        CHECK(write_file(name, text) == 0);
        snprintf(name, sizeof name, "stab%d/cases/t_pass.cases", k);
        snprintf(text, sizeof text,
                 "start\ttest_one\nend\ttest_one\tok\t%s\nstart\ttest_two\n"
                 "end\ttest_two\t%s\t0.2\n",
                 one[k], two[k]);
        CHECK(write_file(name, text) == 0);
        snprintf(name, sizeof name, "stab%d/cases/t_fail.cases", k);
        snprintf(text, sizeof text, "start\ttest_ok\nend\ttest_ok\tok\t%s\n", tiny[k]);
        CHECK(write_file(name, text) == 0);
        char j[4200], c[4200];
        snprintf(j, sizeof j, "%s/stab%d/junit.xml", tmp, k);
        snprintf(c, sizeof c, "%s/stab%d/cases", tmp, k);
        CHECK(stt_testreport_add_stability_run(r, j, c, err, sizeof err) == 0);
    }
    REQUIRE(stt_testreport_analyze(r) == 0);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.stability_runs == 3);
    CHECK(t.flaky == 1 && t.time_varies == 1);
    CHECK(stt_testreport_stability_count(r) == 3);
    for (size_t i = 0; i < stt_testreport_stability_count(r); i++) {
        const stt_testreport_stable_case *s = stt_testreport_stability_case(r, i);
        CHECK(s->runs == 3);
        if (!strcmp(s->name, "test_two")) CHECK(s->flaky && !s->time_varies);
        if (!strcmp(s->name, "test_one"))
            CHECK(!s->flaky && s->time_varies && fabs(s->time_ratio - 5) < 1e-9);
        if (!strcmp(s->name, "test_ok")) CHECK(!s->flaky && !s->time_varies);
    }
    CHECK(!t.ok); /* a flaky case fails the run */
    CHECK(write_json_and_read(r, "stability.json") == 0);
    json_error_t je;
    json_t *root = json_load_file(path_of("stability.json"), 0, &je);
    json_t *st = json_object_get(root, "stability");
    CHECK(json_integer_value(json_object_get(st, "runs")) == 3);
    CHECK(json_array_size(json_object_get(st, "flaky")) == 1);
    CHECK(json_array_size(json_object_get(st, "time_varies")) == 1);
    CHECK_STR_EQ(
        json_string_value(json_object_get(json_array_get(json_object_get(st, "flaky"), 0), "name")),
        "test_two");
    CHECK(json_is_false(json_object_get(st, "ok")));
    json_decref(root);
    CHECK(stt_testreport_write_html(r, path_of("stability.html"), err, sizeof err) == 0);
    char *html = test_read_file(path_of("stability.html"), NULL);
    CHECK(html && html_number(html, "stability-flaky") == 1 &&
          html_number(html, "stability-runs") == 3);
    free(html);
    stt_testreport_free(r);
}

/* A real JUnit consumer (Debian's python3-junitparser) reads our junit.xml
 * and counts what we count. */
static const char consumer_py[] =
    "import sys\n"
    "from junitparser import JUnitXml, Failure, Skipped, Error\n"
    "xml = JUnitXml.fromfile(sys.argv[1])\n"
    "cases = failures = skipped = 0\n"
    "for suite in xml:\n"
    "    for case in suite:\n"
    "        cases += 1\n"
    "        failures += any(isinstance(r, (Failure, Error)) for r in case.result)\n"
    "        skipped += any(isinstance(r, Skipped) for r in case.result)\n"
    "print(cases, failures, skipped, xml.tests, xml.failures)\n";

static void test_junit_consumer(void)
{
    if (system("/usr/bin/python3 -c 'import junitparser' 2>/dev/null") != 0) {
        fprintf(stderr, "  python3-junitparser is missing: run scripts/setup.sh\n");
        CHECK(!"python3-junitparser installed");
        return;
    }
    stt_testreport *r = sample_report(0);
    REQUIRE(r);
    char err[256];
    CHECK(stt_testreport_write_junit(r, path_of("consumer.xml"), err, sizeof err) == 0);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    stt_testreport_free(r);
    CHECK(write_file("consumer.py", consumer_py) == 0);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", path_of("consumer.py"),
             path_of("consumer.xml"));
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    long cases = -1, failures = -1, skipped = -1, tests = -1, fails = -1;
    int got = fscanf(p, "%ld %ld %ld %ld %ld", &cases, &failures, &skipped, &tests, &fails);
    CHECK(pclose(p) == 0 && got == 5);
    /* ours: every case, one time-limit case per violation, the coverage check */
    long want = (long)(t.cases + t.violations + 1);
    long want_failed = (long)(t.cases_failed + t.violations + (t.coverage_ok ? 0 : 1));
    fprintf(stderr, "  junitparser: %ld cases, %ld failed, %ld skipped (ours %ld, %ld, %zu)\n",
            cases, failures, skipped, want, want_failed, t.cases_skipped);
    CHECK(cases == want && tests == want);
    CHECK(failures == want_failed && fails == want_failed);
    CHECK(skipped == (long)t.cases_skipped);
}

/* One whole run as sttbench tests makes it: the three files, the previous
 * report archived under its creation time and compared with, and bad
 * --phase, --check or --config entries refused. */
static void test_job(void)
{
    CHECK(write_file("junit.xml", sample_junit) == 0);
    write_records("cases");
    char out[4200], hist[4200], cmd[9000];
    snprintf(out, sizeof out, "%s/job", tmp);
    snprintf(hist, sizeof hist, "%s/job/history", tmp);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    CHECK(system(cmd) == 0);
    stt_testreport_job j = stt_testreport_default_job();
    char junit[4200], cases[4200];
    snprintf(junit, sizeof junit, "%s", path_of("junit.xml"));
    snprintf(cases, sizeof cases, "%s", path_of("cases"));
    j.junit = junit;
    j.cases_dir = cases;
    j.out_dir = out;
    j.history_dir = hist;
    j.commit = "abc";
    const char *phases[] = {"build=1.5", "tests=2"};
    const char *checks[] = {"fuzz=pass:3 targets"};
    const char *configs[] = {"mode=plain"};
    j.phases = phases;
    j.nphases = 2;
    j.checks = checks;
    j.nchecks = 1;
    j.configs = configs;
    j.nconfigs = 1;
    char err[256], warn[256];
    stt_testreport *r = NULL;
    REQUIRE(stt_testreport_run_job(&j, &r, warn, sizeof warn, err, sizeof err) == 0);
    CHECK(!warn[0]);
    CHECK(stt_testreport_case_count(r) == 8);
    stt_testreport_free(r);
    /* the second run archives the first and compares with it */
    REQUIRE(stt_testreport_run_job(&j, &r, warn, sizeof warn, err, sizeof err) == 0);
    stt_testreport_free(r);
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '^test_results-.*\\.json$' | grep -qx 1", hist);
    CHECK(system(cmd) == 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/test_results.json", out);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    REQUIRE(root);
    CHECK(json_is_object(json_object_get(root, "history")));
    CHECK(json_number_value(json_object_get(json_object_get(root, "timings"), "build")) == 1.5);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(root, "config"), "mode")),
                 "plain");
    CHECK(json_is_true(
        json_object_get(json_array_get(json_object_get(root, "checks"), 0), "passed")));
    json_decref(root);
    snprintf(path, sizeof path, "%s/junit.xml", out);
    CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof path, "%s/test_report.html", out);
    CHECK(access(path, R_OK) == 0);

    const char *bad_phase[] = {"build=soon"}, *bad_check[] = {"fuzz=maybe"}, *bad_config[] = {"=x"};
    j.phases = bad_phase;
    j.nphases = 1;
    CHECK(stt_testreport_run_job(&j, &r, warn, sizeof warn, err, sizeof err) == STT_EINVAL && !r);
    CHECK(strstr(err, "build=soon") != NULL);
    j.nphases = 0;
    j.checks = bad_check;
    CHECK(stt_testreport_run_job(&j, &r, warn, sizeof warn, err, sizeof err) == STT_EINVAL);
    j.nchecks = 0;
    j.configs = bad_config;
    CHECK(stt_testreport_run_job(&j, &r, warn, sizeof warn, err, sizeof err) == STT_EINVAL);
    j.nconfigs = 0;
    j.junit = NULL;
    CHECK(stt_testreport_run_job(&j, &r, warn, sizeof warn, err, sizeof err) == STT_EINVAL);
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
    CHECK(stt_testreport_analyze(r) == 0);
    stt_testreport_totals t = stt_testreport_get_totals(r);
    CHECK(t.tests == 0 && t.ok && t.coverage_ok);
    char line[64];
    CHECK_STR_EQ(stt_testreport_summary_line(r, line, sizeof line), "0 passed, 0 failed");
    CHECK(stt_testreport_write_html(r, path_of("empty.html"), err, sizeof err) == 0);
    CHECK(stt_testreport_write_json(r, "/proc/nonexistent/x.json", err, sizeof err) == STT_EIO);
    CHECK(stt_testreport_write_html(r, "/proc/nonexistent/x.html", err, sizeof err) == STT_EIO);
    CHECK(stt_testreport_write_junit(r, "/proc/nonexistent/x.xml", err, sizeof err) == STT_EIO);
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
    CHECK(stt_testreport_analyze(r) == 0);
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
    CHECK(stt_testreport_analyze(r) == 0);
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
    TEST_RUN(test_cases_from_records);
    TEST_RUN(test_cases_edges);
    TEST_RUN(test_case_history);
    TEST_RUN(test_stability);
    TEST_RUN(test_junit_consumer);
    TEST_RUN(test_job);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return test_summary();
}
