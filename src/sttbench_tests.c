/* sttbench tests: turns one CTest run into test_results.json, test_report.html
 * and junit.xml (see docs/TESTING.md); scripts/run_all_tests.sh drives it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "sttbench.h"
#include "sttbench_common.h"
#include "proc.h"
#include "sysinfo.h"
#include "testreport.h"

static void usage(FILE *f)
{
    fputs("usage: sttbench tests --junit FILE --out DIR [options]\n"
          "\n"
          "Writes DIR/test_results.json, DIR/test_report.html and DIR/junit.xml from a CTest\n"
          "run; prints the rule violations and a closing line 'N passed, N failed'.\n"
          "Exit status: 0 all good, 1 a test failed, a rule was broken, coverage is below\n"
          "the threshold or a --check failed, 2 bad usage or unreadable input.\n"
          "\n"
          "  --junit FILE            CTest's JUnit XML (ctest --output-junit), required\n"
          "  --ctest-json FILE       ctest --show-only=json-v1 output, for the test labels\n"
          "  --coverage FILE         gcovr --json output\n"
          "  --out DIR               where the reports go, required (created)\n"
          "  --history DIR           archive the previous DIR/test_results.json here and\n"
          "                          compare with it\n"
          "  --slow-seconds S        tests over S seconds are listed as slow (5)\n"
          "  --max-test-seconds S    tests over S seconds must be labelled slow (10)\n"
          "  --min-coverage PCT      line coverage threshold; negative disables (80)\n"
          "  --commit ID             commit to record (default: git rev-parse --short HEAD,\n"
          "                          with -dirty for a modified tree)\n"
          "  --phase NAME=SECONDS    where the time went; repeatable (build, tests, ...)\n"
          "  --check NAME=pass|fail[:DETAIL]  result of an extra pass; repeatable\n"
          "  --config KEY=VALUE      configuration to record; repeatable\n",
          f);
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return -1;
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) bad = 1;
    bad |= ferror(in);
    fclose(in);
    if (fclose(out) != 0) bad = 1;
    return bad ? -1 : 0;
}

/* First line of a shell command's output, or "" (git missing, not a repository). */
static void command_line(const char *cmd, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(buf, (int)len, p)) buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    pclose(p);
}

static void git_commit(char *buf, size_t len)
{
    char id[64], dirty[8];
    command_line("git rev-parse --short HEAD 2>/dev/null", id, sizeof id);
    if (!id[0]) {
        snprintf(buf, len, "unknown");
        return;
    }
    command_line("git diff --quiet HEAD -- 2>/dev/null || echo dirty", dirty, sizeof dirty);
    snprintf(buf, len, "%s%s", id, dirty[0] ? "-dirty" : "");
}

/* Archives DIR/test_results.json into the history folder under the date it
 * was made, and returns the archived path in `archived` (or "" when there is
 * no previous report). */
static int archive_previous(const char *prev, const char *history, const char *date, char *archived,
                            size_t len)
{
    archived[0] = '\0';
    if (access(prev, R_OK) != 0) return 0;
    if (bench_mkdirs(history) != 0) return -1;
    char stamp[64];
    size_t o = 0;
    for (const char *d = date; *d && o + 1 < sizeof stamp; d++)
        if (*d != ':') stamp[o++] = *d == '/' ? '-' : *d;
    stamp[o] = '\0';
    for (int n = 0; n < 100; n++) {
        if (n)
            snprintf(archived, len, "%s/test_results-%s-%d.json", history, stamp, n);
        else
            snprintf(archived, len, "%s/test_results-%s.json", history, stamp);
        if (access(archived, F_OK) != 0) break;
    }
    return copy_file(prev, archived);
}

static char *split_eq(char *arg)
{
    char *eq = strchr(arg, '=');
    if (!eq) return NULL;
    *eq = '\0';
    return eq + 1;
}

/* Reads the "date" of a previous report without keeping it. */
static void previous_date(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "unknown-date");
    char *text = NULL;
    size_t cap = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    /* The date sits near the top of the file; no need to parse it all. */
    ssize_t n;
    while ((n = getline(&text, &cap, f)) > 0) {
        char *d = strstr(text, "\"date\": \"");
        if (d) {
            d += 9;
            size_t k = strcspn(d, "\"");
            if (k && k < len) snprintf(buf, len, "%.*s", (int)k, d);
            break;
        }
    }
    free(text);
    fclose(f);
}

int bench_tests_main(int argc, char **argv)
{
    enum {
        O_JUNIT = 1,
        O_CTJSON,
        O_COV,
        O_OUT,
        O_HIST,
        O_SLOW,
        O_MAX,
        O_MINCOV,
        O_COMMIT,
        O_PHASE,
        O_CHECK,
        O_CONFIG,
        O_HELP
    };
    static const struct option opts[] = {
        {"junit", required_argument, 0, O_JUNIT},
        {"ctest-json", required_argument, 0, O_CTJSON},
        {"coverage", required_argument, 0, O_COV},
        {"out", required_argument, 0, O_OUT},
        {"history", required_argument, 0, O_HIST},
        {"slow-seconds", required_argument, 0, O_SLOW},
        {"max-test-seconds", required_argument, 0, O_MAX},
        {"min-coverage", required_argument, 0, O_MINCOV},
        {"commit", required_argument, 0, O_COMMIT},
        {"phase", required_argument, 0, O_PHASE},
        {"check", required_argument, 0, O_CHECK},
        {"config", required_argument, 0, O_CONFIG},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    stt_testreport_params p = stt_testreport_default_params();
    const char *junit = NULL, *ctjson = NULL, *cov = NULL, *out = NULL, *hist = NULL;
    const char *commit = NULL;
    /* The repeatable options are kept as argv pointers and applied once the
     * report exists. */
    char **phases = calloc((size_t)argc, sizeof *phases);
    char **checks = calloc((size_t)argc, sizeof *checks);
    char **configs = calloc((size_t)argc, sizeof *configs);
    size_t nphases = 0, nchecks = 0, nconfigs = 0;
    int status = 2;
    stt_testreport *r = NULL;
    if (!phases || !checks || !configs) goto done;

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case O_JUNIT:
            junit = optarg;
            break;
        case O_CTJSON:
            ctjson = optarg;
            break;
        case O_COV:
            cov = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_HIST:
            hist = optarg;
            break;
        case O_SLOW:
            p.slow_seconds = strtod(optarg, &end);
            break;
        case O_MAX:
            p.max_test_seconds = strtod(optarg, &end);
            break;
        case O_MINCOV:
            p.min_line_coverage = strtod(optarg, &end);
            break;
        case O_COMMIT:
            commit = optarg;
            break;
        case O_PHASE:
            phases[nphases++] = optarg;
            break;
        case O_CHECK:
            checks[nchecks++] = optarg;
            break;
        case O_CONFIG:
            configs[nconfigs++] = optarg;
            break;
        case O_HELP:
            usage(stdout);
            status = 0;
            goto done;
        default:
            usage(stderr);
            goto done;
        }
        if (end && (end == optarg || *end)) {
            fprintf(stderr, "sttbench tests: not a number: '%s'\n", optarg);
            goto done;
        }
    }
    if (!junit || !out || optind < argc) {
        usage(stderr);
        goto done;
    }

    char err[512];
    r = stt_testreport_create(&p);
    if (!r) {
        fprintf(stderr, "sttbench tests: out of memory\n");
        goto done;
    }
    if (stt_testreport_load_junit(r, junit, err, sizeof err) ||
        (ctjson && stt_testreport_load_labels(r, ctjson, err, sizeof err)) ||
        (cov && stt_testreport_load_coverage(r, cov, err, sizeof err))) {
        fprintf(stderr, "sttbench tests: %s\n", err);
        goto done;
    }
    if (bench_mkdirs(out) != 0) {
        fprintf(stderr, "sttbench tests: cannot create %s: %s\n", out, strerror(errno));
        goto done;
    }

    char prev[4096], archived[4096];
    snprintf(prev, sizeof prev, "%s/test_results.json", out);
    if (hist) {
        char date[64];
        previous_date(prev, date, sizeof date);
        if (archive_previous(prev, hist, date, archived, sizeof archived) != 0) {
            fprintf(stderr, "sttbench tests: cannot archive %s into %s: %s\n", prev, hist,
                    strerror(errno));
            goto done;
        }
    } else {
        snprintf(archived, sizeof archived, "%s", access(prev, R_OK) == 0 ? prev : "");
    }
    /* A damaged previous report only loses the comparison, not the run. */
    if (archived[0] && stt_testreport_load_previous(r, archived, archived, err, sizeof err))
        fprintf(stderr, "sttbench tests: previous report ignored: %s\n", err);

    char commit_buf[96];
    if (!commit) {
        git_commit(commit_buf, sizeof commit_buf);
        commit = commit_buf;
    }
    int rc = stt_testreport_set_commit(r, commit);
    stt_sysinfo si;
    stt_sysinfo_get(&si);
    if (!rc)
        rc = stt_testreport_set_machine(r, si.cpu_model, si.logical_cores, si.mem_total, si.kernel);
    for (size_t i = 0; !rc && i < nconfigs; i++) {
        char *v = split_eq(configs[i]);
        rc = v ? stt_testreport_set_config(r, configs[i], v) : STT_EINVAL;
    }
    for (size_t i = 0; !rc && i < nphases; i++) {
        char *v = split_eq(phases[i]), *end = NULL;
        double s = v ? strtod(v, &end) : 0;
        rc = v && end != v && !*end ? stt_testreport_add_phase(r, phases[i], s) : STT_EINVAL;
    }
    for (size_t i = 0; !rc && i < nchecks; i++) {
        char *v = split_eq(checks[i]);
        char *detail = v ? strchr(v, ':') : NULL;
        if (detail) *detail++ = '\0';
        if (!v || (strcmp(v, "pass") && strcmp(v, "fail")))
            rc = STT_EINVAL;
        else
            rc = stt_testreport_add_check(r, checks[i], !strcmp(v, "pass"), detail);
    }
    if (rc) {
        fprintf(stderr, "sttbench tests: bad --config, --phase or --check (%s)\n",
                stt_strerror(rc));
        goto done;
    }

    stt_testreport_analyze(r);
    const char *names[3] = {"test_results.json", "test_report.html", "junit.xml"};
    int (*writers[3])(const stt_testreport *, const char *, char *, size_t) = {
        stt_testreport_write_json, stt_testreport_write_html, stt_testreport_write_junit};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", out, names[i]);
        if (writers[i](r, path, err, sizeof err)) {
            fprintf(stderr, "sttbench tests: %s\n", err);
            goto done;
        }
    }

    stt_testreport_totals t = stt_testreport_get_totals(r);
    for (size_t i = 0; i < stt_testreport_count(r); i++) {
        const stt_testcase *tc = stt_testreport_test(r, i);
        if (tc->status == STT_TEST_FAILED) printf("FAILED     %s\n", tc->name);
        if (tc->violation)
            printf("VIOLATION  %s took %.1f s: over %.1f s and not labelled %s\n", tc->name,
                   tc->seconds, p.max_test_seconds, p.slow_label);
        else if (tc->slow)
            printf("slow       %s took %.1f s\n", tc->name, tc->seconds);
        if (tc->change == STT_TEST_NEW_FAILURE) printf("new        %s fails now\n", tc->name);
        if (tc->change == STT_TEST_FIXED) printf("fixed      %s passes now\n", tc->name);
        if (tc->change == STT_TEST_SLOWER)
            printf("slower     %s took %.2f s, %.2f s before\n", tc->name, tc->seconds,
                   tc->previous_seconds);
    }
    if (t.has_coverage) {
        printf("coverage   lines %.1f%%, branches %.1f%%", t.line_percent, t.branch_percent);
        if (p.min_line_coverage >= 0)
            printf(" (threshold %.1f%%: %s)", p.min_line_coverage,
                   t.coverage_ok ? "met" : "NOT MET");
        printf("\n");
        size_t nlow;
        const stt_coverage_file *low = stt_testreport_low_coverage(r, &nlow);
        if (!t.coverage_ok)
            for (size_t i = 0; i < nlow; i++)
                printf("  low      %5.1f%%  %zu of %zu lines uncovered  %s\n", low[i].line_percent,
                       low[i].lines_total - low[i].lines_covered, low[i].lines_total, low[i].file);
    }
    for (size_t i = 0; i < nchecks; i++) /* split into name and "fail" above */
        if (!strcmp(checks[i] + strlen(checks[i]) + 1, "fail"))
            printf("CHECK      %s failed\n", checks[i]);
    printf("reports    %s/test_report.html, %s/test_results.json, %s/junit.xml\n", out, out, out);
    char line[128];
    printf("%s\n", stt_testreport_summary_line(r, line, sizeof line));
    status = t.ok ? 0 : 1;
done:
    stt_testreport_free(r);
    free(phases);
    free(checks);
    free(configs);
    return status;
}
