/* testreport: the report of one run of the test suite, program by program
 * and case by case.
 *
 * A program is one CTest test (one executable, such as test_audio); a case is
 * one TEST_RUN inside it (tests/support/testlib.h), such as test_mixdown.
 * Reads what a CTest run leaves behind: its JUnit XML (`ctest --output-junit`:
 * each program's time, status and output), the per-case records testlib
 * writes when STT_TEST_CASES_DIR is set (each case's status, time and the
 * file:line of every failed check), the labels from `ctest
 * --show-only=json-v1`, gcovr's JSON coverage, the previous report, and
 * optionally repeated runs of the fast subset (stability). Applies the
 * project's rules (slow programs and cases, the time limit for programs not
 * labelled slow, the line-coverage threshold, the comparison with the
 * previous run, flaky cases) and writes test_results.json (schema in
 * docs/TESTING.md), a self-contained test_report.html and a per-case
 * junit.xml.
 *
 * Use: create, load_*, set_* / add_*, analyze, then read the verdict and write.
 * A report object is not thread-safe; separate objects are independent.
 */
#ifndef STT_TESTREPORT_H
#define STT_TESTREPORT_H

#include <stddef.h>

typedef struct stt_testreport stt_testreport;

typedef struct {
    double slow_seconds;      /* a program or case taking longer is listed as slow (5) */
    double max_test_seconds;  /* a program taking longer is a violation unless labelled slow (10) */
    double min_line_coverage; /* percent; below it the run fails; < 0 disables the check (80) */
    double slower_factor;     /* now > factor * before marks a program or case slower (2) */
    double tiny_seconds;      /* times below this are too small to compare (0.05) */
    double unstable_time_ratio; /* a case whose slowest stability run took more than this
                                 * times its fastest is listed (3) */
    const char *slow_label;     /* the label that allows a long program ("slow"); not copied */
} stt_testreport_params;

typedef enum { STT_TEST_PASSED, STT_TEST_FAILED, STT_TEST_SKIPPED } stt_test_status;

/* How a program or case changed since the previous report. */
typedef enum {
    STT_TEST_SAME,
    STT_TEST_NEW_FAILURE, /* fails now; passed, was skipped or did not exist before */
    STT_TEST_FIXED,       /* passes now; failed before */
    STT_TEST_SLOWER,      /* passes now, more than slower_factor times slower */
} stt_test_change;

/* A read-only view of one program; valid until the report is freed. */
typedef struct {
    const char *name;
    const char *const *labels; /* nlabels strings */
    size_t nlabels;
    stt_test_status status;
    double seconds;
    const char *output; /* captured output of a failed program, else NULL */
    int slow;           /* over slow_seconds */
    int violation;      /* over max_test_seconds without the slow label */
    stt_test_change change;
    double previous_seconds; /* < 0 when the previous report did not have it */
} stt_testcase;

/* A read-only view of one case; valid until the next analyze or free. */
typedef struct {
    const char *name;    /* the function TEST_RUN ran; the program's own name for a
                          * program without cases (a fuzz driver) */
    const char *program; /* the program it belongs to */
    const char *label;   /* the program's kind: its first label other than the slow label */
    stt_test_status status;
    double seconds;      /* NaN when unknown (no per-case record) */
    const char *message; /* failed: one "file:line: check failed: expr" per line, or why the
                          * case did not end; NULL otherwise */
    int slow;            /* over slow_seconds */
    stt_test_change change;
    double previous_seconds; /* < 0 when the previous report did not have it */
} stt_testreport_case;

/* One case across the stability runs; valid until the next analyze or free. */
typedef struct {
    const char *program, *name;
    size_t runs;                   /* runs the case appeared in */
    const stt_test_status *status; /* runs entries, in run order */
    const double *seconds;         /* runs entries, NaN where unknown */
    int flaky;                     /* its outcome differed between runs */
    double time_ratio;             /* slowest / fastest, both raised to tiny_seconds; NaN
                                    * with fewer than two known times */
    int time_varies;               /* time_ratio > unstable_time_ratio */
} stt_testreport_stable_case;

typedef struct {
    size_t tests, passed, failed, skipped; /* programs */
    double seconds;                        /* sum of the program times */
    size_t slow, violations;
    size_t new_failures, fixed, slower;
    size_t cases, cases_passed, cases_failed, cases_skipped, cases_slow;
    size_t cases_new_failures, cases_fixed, cases_slower;
    size_t stability_runs; /* 0 when no stability run was added */
    size_t flaky, time_varies;
    int has_coverage;
    double line_percent, branch_percent;
    int coverage_ok; /* 1 when there is no coverage data or no threshold */
    size_t checks_failed;
    int ok; /* no failed program, no violation, coverage ok, no failed check, no flaky case */
} stt_testreport_totals;

/* Coverage of one source file, as gcovr reported it. */
typedef struct {
    const char *file;
    size_t lines_total, lines_covered, branches_total, branches_covered;
    double line_percent, branch_percent; /* 100 when there is nothing to cover */
} stt_coverage_file;

stt_testreport_params stt_testreport_default_params(void);

/* Returns NULL when out of memory. params may be NULL for the defaults. The
 * date is set to now (UTC); the commit is the one lib/lab/results.h looks up
 * unless set, and the machine this one unless set. */
stt_testreport *stt_testreport_create(const stt_testreport_params *params);
void stt_testreport_free(stt_testreport *r);

/* Reads CTest's JUnit XML (`ctest --output-junit`): every <testcase> (one per
 * program) with its time, status and output. May be called once. STT_EIO /
 * STT_EFORMAT on failure. */
int stt_testreport_load_junit(stt_testreport *r, const char *path, char *err, size_t errlen);

/* Reads the per-case records testlib wrote into dir (DIR/PROGRAM.cases) for
 * the programs of the JUnit loaded before. Programs without a record file get
 * their cases from the "ok NAME" / "FAIL NAME" lines of their output when it
 * is complete, else one case standing for the program. STT_EIO / STT_EINVAL. */
int stt_testreport_load_cases(stt_testreport *r, const char *dir, char *err, size_t errlen);

/* Reads the test labels from `ctest --show-only=json-v1` output (CTest's JUnit
 * has none). Programs absent from the file keep no labels. */
int stt_testreport_load_labels(stt_testreport *r, const char *path, char *err, size_t errlen);

/* Reads gcovr's JSON (`gcovr --json`, or `--json-summary`). */
int stt_testreport_load_coverage(stt_testreport *r, const char *path, char *err, size_t errlen);

/* Reads a previous test_results.json to compare against; label says where it
 * now lives (for the report) and is copied. */
int stt_testreport_load_previous(stt_testreport *r, const char *path, const char *label, char *err,
                                 size_t errlen);

/* Adds one stability run: the JUnit of a run of the fast subset and the
 * folder of its per-case records (NULL: cases from the output only). */
int stt_testreport_add_stability_run(stt_testreport *r, const char *junit, const char *cases_dir,
                                     char *err, size_t errlen);

/* Copies the report at path (when there is one) into history_dir as
 * test_results-<its creation time>.json, and puts the copy's path into
 * archived ("" when there was nothing to copy). 0 or STT_EIO with err. */
int stt_testreport_archive(const char *path, const char *history_dir, char *archived, size_t len,
                           char *err, size_t errlen);

/* Strings are copied. STT_ENOMEM on failure. */
/* The machine the tests ran on (see sysinfo.h for where these come from). */
int stt_testreport_set_machine(stt_testreport *r, const char *cpu_model, long cores,
                               long long mem_bytes, const char *kernel);
int stt_testreport_set_commit(stt_testreport *r, const char *commit);
int stt_testreport_set_date(stt_testreport *r, const char *iso8601);
/* A free-form configuration entry recorded in the report (build dir, mode, ...). */
int stt_testreport_set_config(stt_testreport *r, const char *key, const char *value);
/* Where the time went: one named phase (build, tests, coverage, ...). */
int stt_testreport_add_phase(stt_testreport *r, const char *name, double seconds);
/* The result of an extra pass (valgrind, fuzz, ...); a failed one fails the run. */
int stt_testreport_add_check(stt_testreport *r, const char *name, int passed, const char *detail);

/* Applies the rules, the comparison with the previous report and the
 * stability analysis. Call after loading and before reading or writing; may
 * be called again after changes. STT_ENOMEM when out of memory. */
int stt_testreport_analyze(stt_testreport *r);

stt_testreport_totals stt_testreport_get_totals(const stt_testreport *r);
size_t stt_testreport_count(const stt_testreport *r);
/* NULL when i is out of range. */
const stt_testcase *stt_testreport_test(const stt_testreport *r, size_t i);
size_t stt_testreport_case_count(const stt_testreport *r);
const stt_testreport_case *stt_testreport_case_at(const stt_testreport *r, size_t i);
size_t stt_testreport_stability_count(const stt_testreport *r);
const stt_testreport_stable_case *stt_testreport_stability_case(const stt_testreport *r, size_t i);
/* Coverage files below the threshold, lowest line coverage first; *n gets the
 * count. The array belongs to the report and is valid until the next analyze. */
const stt_coverage_file *stt_testreport_low_coverage(const stt_testreport *r, size_t *n);

/* The writers create or replace the file at path. STT_EIO on failure. */
int stt_testreport_write_json(const stt_testreport *r, const char *path, char *err, size_t errlen);
int stt_testreport_write_html(const stt_testreport *r, const char *path, char *err, size_t errlen);
/* JUnit for CI: one <testsuite> per program with one <testcase> per case
 * (classname KIND.PROGRAM), a time-limit failure for each violation, and a
 * "checks" suite (coverage threshold, extra passes). */
int stt_testreport_write_junit(const stt_testreport *r, const char *path, char *err, size_t errlen);

/* ---- one whole run, as `sttbench tests` makes it ---- */

typedef struct stt_testreport_job {
    stt_testreport_params params;
    const char *junit;         /* CTest's JUnit of the run (required) */
    const char *cases_dir;     /* testlib's per-case records; NULL: cases from the output */
    const char *ctest_json;    /* `ctest --show-only=json-v1`, for the labels; NULL: none */
    const char *coverage;      /* gcovr --json; NULL: none */
    const char *out_dir;       /* test_results.json, test_report.html, junit.xml (required) */
    const char *history_dir;   /* the previous report is archived here and compared with;
                                * NULL: compared in place, not archived */
    const char *commit;        /* NULL: the commit results.h looks up */
    const char *const *phases; /* "NAME=SECONDS" each */
    size_t nphases;
    const char *const *checks; /* "NAME=pass|fail[:DETAIL]" each */
    size_t nchecks;
    const char *const *configs; /* "KEY=VALUE" each */
    size_t nconfigs;
    const char *const *stability_runs; /* folders, each with junit.xml and cases/ */
    size_t nstability_runs;
} stt_testreport_job;

/* Every field empty, params from stt_testreport_default_params(). */
stt_testreport_job stt_testreport_default_job(void);

/* Reads everything the job names, archives and compares with the previous
 * report, analyses, and writes the three files into job->out_dir (created).
 * On success *out is the analysed report (stt_testreport_free) and warn says
 * what was ignored ("" when nothing: a damaged previous report only loses the
 * comparison). Returns 0, STT_EINVAL (a bad phase, check or config entry),
 * STT_EIO / STT_EFORMAT (unreadable input, unwritable output), STT_ENOMEM. */
int stt_testreport_run_job(const stt_testreport_job *job, stt_testreport **out, char *warn,
                           size_t warnlen, char *err, size_t errlen);

/* The closing line, "N passed, N failed" plus ", N skipped" when some were
 * skipped (programs), without newline, into buf; returns buf. */
char *stt_testreport_summary_line(const stt_testreport *r, char *buf, size_t len);

#endif
