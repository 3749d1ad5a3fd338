/* report/sec_tests: the "Tests" section of the performance report. */
#include "internal.h"

#include <string.h>

void rpt_sec_tests(doc *d, const stt_report *r)
{
    const src *t = rpt_primary(r, K_TESTS);
    rpt_h(d, 2, "Tests");
    if (!t) return rpt_missing(d, K_TESTS);
    rpt_trow(d, 1, "figure|value");
    rpt_trow(d, 0, "tests|%s", rpt_cite(d, t, "", "totals.tests"));
    rpt_trow(d, 0, "passed|%s", rpt_cite(d, t, "", "totals.passed"));
    rpt_trow(d, 0, "failed|%s", rpt_cite(d, t, "", "totals.failed"));
    rpt_trow(d, 0, "skipped|%s", rpt_cite(d, t, "", "totals.skipped"));
    rpt_trow(d, 0, "slow (over the slow limit)|%s", rpt_cite(d, t, "", "totals.slow"));
    rpt_trow(d, 0, "violations|%s", rpt_cite(d, t, "", "totals.violations"));
    rpt_trow(d, 0, "line coverage of lib/|%s", rpt_cite(d, t, "%", "coverage.line_percent"));
    rpt_trow(d, 0, "branch coverage of lib/|%s", rpt_cite(d, t, "%", "coverage.branch_percent"));
    rpt_trow(d, 0, "time of the tests|%s", rpt_cite(d, t, "s", "totals.time"));
    json_t *ch = json_object_get(t->j, "checks");
    for (size_t i = 0; i < json_array_size(ch); i++) {
        json_t *c = json_array_get(ch, i);
        const char *nm = json_string_value(json_object_get(c, "name"));
        rpt_trow(d, 0, "deeper pass %s|%s", nm ? nm : "?",
                 json_is_true(json_object_get(c, "passed")) ? "passed" : "FAILED");
    }
    rpt_para(d, "Commit %s, %s. The full report: test_reports/test_report.html.",
             rpt_jstr_at(t, "commit") ? rpt_jstr_at(t, "commit") : "unknown",
             rpt_jstr_at(t, "date") ? rpt_jstr_at(t, "date") : "undated");
    rpt_reproduce(d, K_TESTS, t);
}
