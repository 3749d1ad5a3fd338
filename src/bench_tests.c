/* sttbench tests: turns one CTest run into test_results.json, test_report.html
 * and junit.xml (lib/lab/testreport.h, docs/TESTING.md); scripts/run_all_tests.sh
 * drives it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "parse.h"
#include "sttbench.h"
#include "testreport.h"

static void usage(FILE *f)
{
    fputs("usage: sttbench tests --junit FILE --out DIR [options]\n"
          "\n"
          "Writes DIR/test_results.json, DIR/test_report.html and DIR/junit.xml from a CTest\n"
          "run, program by program and case by case; prints the failed cases, the rule\n"
          "violations, the changes since the previous report and a closing line\n"
          "'N passed, N failed' (programs).\n"
          "Exit status: 0 all good, 1 a test failed, a rule was broken, coverage is below\n"
          "the threshold, a --check failed or a case is flaky, 2 bad usage or unreadable input.\n"
          "\n"
          "  --junit FILE            CTest's JUnit XML (ctest --output-junit), required\n"
          "  --cases DIR             testlib's per-case records (STT_TEST_CASES_DIR of the run)\n"
          "  --ctest-json FILE       ctest --show-only=json-v1 output, for the test labels\n"
          "  --coverage FILE         gcovr --json output\n"
          "  --out DIR               where the reports go, required (created)\n"
          "  --history DIR           archive the previous DIR/test_results.json here and\n"
          "                          compare with it\n"
          "  --stability-run DIR     a repeated run of the fast subset: DIR/junit.xml and\n"
          "                          DIR/cases/; repeatable (flaky cases, time spread)\n"
          "  --slow-seconds S        programs and cases over S seconds are listed as slow (5)\n"
          "  --max-test-seconds S    programs over S seconds must be labelled slow (10)\n"
          "  --min-coverage PCT      line coverage threshold; negative disables (80)\n"
          "  --time-ratio X          stability: list cases whose slowest run took over X\n"
          "                          times their fastest (3)\n"
          "  --commit ID             commit to record instead of the one looked up\n"
          "  --phase NAME=SECONDS    where the time went; repeatable (build, tests, ...)\n"
          "  --check NAME=pass|fail[:DETAIL]  result of an extra pass; repeatable\n"
          "  --config KEY=VALUE      configuration to record; repeatable\n",
          f);
}

static void print_findings(const stt_testreport *r, const stt_testreport_params *p,
                           const stt_testreport_job *j)
{
    for (size_t i = 0; i < stt_testreport_count(r); i++) {
        const stt_testcase *t = stt_testreport_test(r, i);
        if (t->status == STT_TEST_FAILED) printf("FAILED     %s\n", t->name);
        if (t->violation)
            printf("VIOLATION  %s took %.1f s: over %.1f s and not labelled %s\n", t->name,
                   t->seconds, p->max_test_seconds, p->slow_label);
        else if (t->slow)
            printf("slow       %s took %.1f s\n", t->name, t->seconds);
        if (t->change == STT_TEST_NEW_FAILURE) printf("new        %s fails now\n", t->name);
        if (t->change == STT_TEST_FIXED) printf("fixed      %s passes now\n", t->name);
        if (t->change == STT_TEST_SLOWER)
            printf("slower     %s took %.2f s, %.2f s before\n", t->name, t->seconds,
                   t->previous_seconds);
    }
    for (size_t i = 0; i < stt_testreport_case_count(r); i++) {
        const stt_testreport_case *c = stt_testreport_case_at(r, i);
        if (c->status == STT_TEST_FAILED)
            printf("  case     %s/%s failed: %.*s\n", c->program, c->name,
                   (int)strcspn(c->message ? c->message : "", "\n"), c->message ? c->message : "");
        else if (c->slow)
            printf("  slow     %s/%s took %.1f s\n", c->program, c->name, c->seconds);
        if (c->change == STT_TEST_NEW_FAILURE)
            printf("  new      %s/%s fails now\n", c->program, c->name);
        if (c->change == STT_TEST_FIXED)
            printf("  fixed    %s/%s passes now\n", c->program, c->name);
    }
    for (size_t i = 0; i < stt_testreport_stability_count(r); i++) {
        const stt_testreport_stable_case *s = stt_testreport_stability_case(r, i);
        if (s->flaky)
            printf("FLAKY      %s/%s: its outcome changed between runs\n", s->program, s->name);
        if (s->time_varies)
            printf("unsteady   %s/%s: slowest run %.1fx its fastest\n", s->program, s->name,
                   s->time_ratio);
    }
    stt_testreport_totals t = stt_testreport_get_totals(r);
    if (t.stability_runs)
        printf("stability  %zu runs of the fast subset: %zu flaky, %zu with times over %.0fx "
               "apart\n",
               t.stability_runs, t.flaky, t.time_varies, p->unstable_time_ratio);
    if (t.has_coverage) {
        printf("coverage   lines %.1f%%, branches %.1f%%", t.line_percent, t.branch_percent);
        if (p->min_line_coverage >= 0)
            printf(" (threshold %.1f%%: %s)", p->min_line_coverage,
                   t.coverage_ok ? "met" : "NOT MET");
        printf("\n");
        size_t nlow;
        const stt_coverage_file *low = stt_testreport_low_coverage(r, &nlow);
        if (!t.coverage_ok)
            for (size_t i = 0; i < nlow; i++)
                printf("  low      %5.1f%%  %zu of %zu lines uncovered  %s\n", low[i].line_percent,
                       low[i].lines_total - low[i].lines_covered, low[i].lines_total, low[i].file);
    }
    for (size_t i = 0; i < j->nchecks; i++)
        if (strstr(j->checks[i], "=fail"))
            printf("CHECK      %.*s failed\n", (int)strcspn(j->checks[i], "="), j->checks[i]);
    printf("reports    %s/test_report.html, %s/test_results.json, %s/junit.xml\n", j->out_dir,
           j->out_dir, j->out_dir);
    printf("cases      %zu passed, %zu failed, %zu skipped, in %zu programs\n", t.cases_passed,
           t.cases_failed, t.cases_skipped, t.tests);
}

static int number(const char *opt, const char *v, double *out)
{
    if (stt_parse_double(v, -1e12, 1e12, out) == 0) return 0;
    fprintf(stderr, "sttbench tests: --%s wants a number, not '%s'\n", opt, v);
    return 2;
}

int bench_tests_main(int argc, char **argv)
{
    enum {
        O_JUNIT = 1,
        O_CASES,
        O_CTJSON,
        O_COV,
        O_OUT,
        O_HIST,
        O_STAB,
        O_SLOW,
        O_MAX,
        O_MINCOV,
        O_RATIO,
        O_COMMIT,
        O_PHASE,
        O_CHECK,
        O_CONFIG,
        O_HELP
    };
    static const struct option opts[] = {
        {"junit", required_argument, 0, O_JUNIT},
        {"cases", required_argument, 0, O_CASES},
        {"ctest-json", required_argument, 0, O_CTJSON},
        {"coverage", required_argument, 0, O_COV},
        {"out", required_argument, 0, O_OUT},
        {"history", required_argument, 0, O_HIST},
        {"stability-run", required_argument, 0, O_STAB},
        {"slow-seconds", required_argument, 0, O_SLOW},
        {"max-test-seconds", required_argument, 0, O_MAX},
        {"min-coverage", required_argument, 0, O_MINCOV},
        {"time-ratio", required_argument, 0, O_RATIO},
        {"commit", required_argument, 0, O_COMMIT},
        {"phase", required_argument, 0, O_PHASE},
        {"check", required_argument, 0, O_CHECK},
        {"config", required_argument, 0, O_CONFIG},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    stt_testreport_job j = stt_testreport_default_job();
    /* The repeatable options point into argv; there are fewer than argc of each. */
    const char **lists = calloc(4 * (size_t)argc, sizeof *lists);
    if (!lists) return 1;
    const char **phases = lists, **checks = lists + argc, **configs = lists + 2 * argc,
               **runs = lists + 3 * argc;
    int status = 2, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_JUNIT:
            j.junit = optarg;
            break;
        case O_CASES:
            j.cases_dir = optarg;
            break;
        case O_CTJSON:
            j.ctest_json = optarg;
            break;
        case O_COV:
            j.coverage = optarg;
            break;
        case O_OUT:
            j.out_dir = optarg;
            break;
        case O_HIST:
            j.history_dir = optarg;
            break;
        case O_STAB:
            runs[j.nstability_runs++] = optarg;
            break;
        case O_SLOW:
            bad = number("slow-seconds", optarg, &j.params.slow_seconds);
            break;
        case O_MAX:
            bad = number("max-test-seconds", optarg, &j.params.max_test_seconds);
            break;
        case O_MINCOV:
            bad = number("min-coverage", optarg, &j.params.min_line_coverage);
            break;
        case O_RATIO:
            bad = number("time-ratio", optarg, &j.params.unstable_time_ratio);
            break;
        case O_COMMIT:
            j.commit = optarg;
            break;
        case O_PHASE:
            phases[j.nphases++] = optarg;
            break;
        case O_CHECK:
            checks[j.nchecks++] = optarg;
            break;
        case O_CONFIG:
            configs[j.nconfigs++] = optarg;
            break;
        case O_HELP:
            usage(stdout);
            status = 0;
            goto done;
        default:
            usage(stderr);
            goto done;
        }
        if (bad) goto done;
    }
    j.phases = phases;
    j.checks = checks;
    j.configs = configs;
    j.stability_runs = runs;
    if (!j.junit || !j.out_dir || optind < argc) {
        usage(stderr);
        goto done;
    }
    char err[512] = "", warn[600] = "";
    stt_testreport *r = NULL;
    int rc = stt_testreport_run_job(&j, &r, warn, sizeof warn, err, sizeof err);
    if (warn[0]) fprintf(stderr, "sttbench tests: %s\n", warn);
    if (rc) {
        fprintf(stderr, "sttbench tests: %s: %s\n", stt_strerror(rc), err);
        status = rc == STT_EINVAL || rc == STT_EFORMAT || rc == STT_EIO ? 2 : 1;
        goto done;
    }
    print_findings(r, &j.params, &j);
    char line[128];
    printf("%s\n", stt_testreport_summary_line(r, line, sizeof line));
    status = stt_testreport_get_totals(r).ok ? 0 : 1;
    stt_testreport_free(r);
done:
    free(lists);
    return status;
}
