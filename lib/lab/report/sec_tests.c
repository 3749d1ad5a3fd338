/* report/sec_tests: the "Tests" section of the performance report: programs
 * and cases, slow cases, stability over repeated runs, coverage. */
#include "internal.h"

#include <math.h>
#include <string.h>

static void slow_cases(doc *d, const src *t)
{
    json_t *slow = json_object_get(t->j, "slow_cases");
    for (size_t i = 0; i < json_array_size(slow) && i < 20; i++) {
        json_t *c = json_array_get(slow, i);
        rpt_li(d, "Slow case %s/%s: %s.", json_string_value(json_object_get(c, "program")) ?: "?",
               json_string_value(json_object_get(c, "name")) ?: "?",
               rpt_cite(d, t, "s", "slow_cases[%zu].time", i));
    }
    if (json_array_size(slow) > 20)
        rpt_li(d, "... and %zu more slow cases (test_results.json: slow_cases).",
               json_array_size(slow) - 20);
}

static void stability(doc *d, const src *t)
{
    json_t *st = json_object_get(t->j, "stability");
    if (!json_is_object(st)) {
        rpt_para(d, "Stability was not measured in this run (scripts/run_all_tests.sh "
                    "--stability N runs the fast subset N more times and lists flaky cases).");
        return;
    }
    json_t *rt = json_object_get(st, "run_time_s");
    size_t lo = 0, hi = 0;
    for (size_t i = 1; i < json_array_size(rt); i++) {
        double v = rpt_jnumv(json_array_get(rt, i));
        if (v < rpt_jnumv(json_array_get(rt, lo))) lo = i;
        if (v > rpt_jnumv(json_array_get(rt, hi))) hi = i;
    }
    rpt_para(d,
             "Stability: the fast subset ran %s more times; %s flaky case(s) (an outcome that "
             "changed between runs) and %s case(s) whose slowest run took over %s times their "
             "fastest. The summed test time of a run ranged from %s to %s.",
             rpt_cite(d, t, "", "stability.runs"), rpt_cite(d, t, "", "stability.flaky_count"),
             rpt_cite(d, t, "", "stability.time_varies_count"),
             rpt_cite(d, t, "", "stability.time_ratio_threshold"),
             rpt_cite(d, t, "s", "stability.run_time_s[%zu]", lo),
             rpt_cite(d, t, "s", "stability.run_time_s[%zu]", hi));
    json_t *flaky = json_object_get(st, "flaky");
    for (size_t i = 0; i < json_array_size(flaky) && i < 20; i++) {
        json_t *c = json_array_get(flaky, i);
        rpt_li(d, "Flaky: %s/%s.", json_string_value(json_object_get(c, "program")) ?: "?",
               json_string_value(json_object_get(c, "name")) ?: "?");
    }
}

void rpt_sec_tests(doc *d, const stt_report *r)
{
    const src *t = rpt_primary(r, K_TESTS);
    rpt_h(d, 2, "Tests");
    if (!t) return rpt_missing(d, K_TESTS);
    int cases = json_is_object(json_object_get(t->j, "case_totals"));
    rpt_trow(d, 1, "figure|value");
    rpt_trow(d, 0, "test programs|%s", rpt_cite(d, t, "", "totals.tests"));
    rpt_trow(d, 0, "programs passed|%s", rpt_cite(d, t, "", "totals.passed"));
    rpt_trow(d, 0, "programs failed|%s", rpt_cite(d, t, "", "totals.failed"));
    rpt_trow(d, 0, "programs skipped|%s", rpt_cite(d, t, "", "totals.skipped"));
    if (cases) {
        rpt_trow(d, 0, "test cases|%s", rpt_cite(d, t, "", "case_totals.cases"));
        rpt_trow(d, 0, "cases failed|%s", rpt_cite(d, t, "", "case_totals.failed"));
        rpt_trow(d, 0, "cases over the slow limit|%s", rpt_cite(d, t, "", "case_totals.slow"));
        rpt_trow(d, 0, "new case failures since the previous run|%s",
                 rpt_cite(d, t, "", "case_totals.new_failures"));
    }
    rpt_trow(d, 0, "programs over the slow limit|%s", rpt_cite(d, t, "", "totals.slow"));
    rpt_trow(d, 0, "violations|%s", rpt_cite(d, t, "", "totals.violations"));
    rpt_trow(d, 0, "line coverage of lib/|%s", rpt_cite(d, t, "%", "coverage.line_percent"));
    rpt_trow(d, 0, "branch coverage of lib/|%s", rpt_cite(d, t, "%", "coverage.branch_percent"));
    rpt_trow(d, 0, "time of the tests (sum over programs)|%s", rpt_cite(d, t, "s", "totals.time"));
    json_t *ch = json_object_get(t->j, "checks");
    for (size_t i = 0; i < json_array_size(ch); i++) {
        json_t *c = json_array_get(ch, i);
        const char *nm = json_string_value(json_object_get(c, "name"));
        rpt_trow(d, 0, "deeper pass %s|%s", nm ? nm : "?",
                 json_is_true(json_object_get(c, "passed")) ? "passed" : "FAILED");
    }
    if (cases) slow_cases(d, t);
    stability(d, t);
    const char *when = rpt_jstr_at(t, "created");
    if (!when) when = rpt_jstr_at(t, "date"); /* reports from before the common header */
    rpt_para(d, "Commit %s, %s. The full report, case by case: test_reports/test_report.html.",
             rpt_jstr_at(t, "commit") ? rpt_jstr_at(t, "commit") : "unknown",
             when ? when : "undated");
    rpt_reproduce(d, K_TESTS, t);
}
