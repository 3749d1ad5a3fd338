/* testreport: the report of one run of the test suite.
 *
 * Reads what a CTest run leaves behind (its JUnit XML, the test list with labels
 * from `ctest --show-only=json-v1`, gcovr's JSON coverage and the previous
 * report), applies the project's rules (slow tests, the time limit for tests not
 * labelled slow, the line-coverage threshold, comparison with the previous run)
 * and writes test_results.json, a self-contained test_report.html and a JUnit
 * junit.xml. The schema of test_results.json is documented in docs/TESTING.md.
 *
 * Use: create, load_*, set_* / add_*, analyze, then read the verdict and write.
 * A report object is not thread-safe; separate objects are independent.
 */
#ifndef STT_TESTREPORT_H
#define STT_TESTREPORT_H

#include <stddef.h>

typedef struct stt_testreport stt_testreport;

typedef struct {
    double slow_seconds;      /* a test taking longer is listed as slow (5) */
    double max_test_seconds;  /* a test taking longer is a violation unless labelled slow (10) */
    double min_line_coverage; /* percent; below it the run fails; < 0 disables the check (80) */
    double slower_factor;     /* now > factor * before marks a test slower (2) */
    double tiny_seconds;      /* times below this are too small to compare (0.05) */
    const char *slow_label;   /* the label that allows a long test ("slow"); not copied */
} stt_testreport_params;

typedef enum { STT_TEST_PASSED, STT_TEST_FAILED, STT_TEST_SKIPPED } stt_test_status;

/* How a test changed since the previous report. */
typedef enum {
    STT_TEST_SAME,
    STT_TEST_NEW_FAILURE, /* fails now; passed, was skipped or did not exist before */
    STT_TEST_FIXED,       /* passes now; failed before */
    STT_TEST_SLOWER,      /* passes now, more than slower_factor times slower */
} stt_test_change;

/* A read-only view of one test; valid until the report is freed. */
typedef struct {
    const char *name;
    const char *const *labels; /* nlabels strings */
    size_t nlabels;
    stt_test_status status;
    double seconds;
    const char *output; /* captured output of a failed test, else NULL */
    int slow;           /* over slow_seconds */
    int violation;      /* over max_test_seconds without the slow label */
    stt_test_change change;
    double previous_seconds; /* < 0 when the previous report did not have it */
} stt_testcase;

typedef struct {
    size_t tests, passed, failed, skipped;
    double seconds; /* sum of the test times */
    size_t slow, violations;
    size_t new_failures, fixed, slower;
    int has_coverage;
    double line_percent, branch_percent;
    int coverage_ok; /* 1 when there is no coverage data or no threshold */
    size_t checks_failed;
    int ok; /* no failed test, no violation, coverage ok, no failed check */
} stt_testreport_totals;

/* Coverage of one source file, as gcovr reported it. */
typedef struct {
    const char *file;
    size_t lines_total, lines_covered, branches_total, branches_covered;
    double line_percent, branch_percent; /* 100 when there is nothing to cover */
} stt_coverage_file;

stt_testreport_params stt_testreport_default_params(void);

/* Returns NULL when out of memory. params may be NULL for the defaults. The
 * date is set to now (UTC), the commit to "unknown" and the machine fields
 * are empty until set. */
stt_testreport *stt_testreport_create(const stt_testreport_params *params);
void stt_testreport_free(stt_testreport *r);

/* Reads CTest's JUnit XML (`ctest --output-junit`): every <testcase> with its
 * time, status and output. May be called once. STT_EIO / STT_EFORMAT on failure. */
int stt_testreport_load_junit(stt_testreport *r, const char *path, char *err, size_t errlen);

/* Reads the test labels from `ctest --show-only=json-v1` output (CTest's JUnit
 * has none). Tests absent from the file keep no labels. */
int stt_testreport_load_labels(stt_testreport *r, const char *path, char *err, size_t errlen);

/* Reads gcovr's JSON (`gcovr --json`). */
int stt_testreport_load_coverage(stt_testreport *r, const char *path, char *err, size_t errlen);

/* Reads a previous test_results.json to compare against; label says where it
 * now lives (for the report) and is copied. */
int stt_testreport_load_previous(stt_testreport *r, const char *path, const char *label, char *err,
                                 size_t errlen);

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

/* Applies the rules and the comparison with the previous report. Call after
 * loading and before reading or writing; may be called again after changes. */
void stt_testreport_analyze(stt_testreport *r);

stt_testreport_totals stt_testreport_get_totals(const stt_testreport *r);
size_t stt_testreport_count(const stt_testreport *r);
/* NULL when i is out of range. */
const stt_testcase *stt_testreport_test(const stt_testreport *r, size_t i);
/* Coverage files below the threshold, lowest line coverage first; *n gets the
 * count. The array belongs to the report and is valid until the next analyze. */
const stt_coverage_file *stt_testreport_low_coverage(const stt_testreport *r, size_t *n);

/* The writers create or replace the file at path. STT_EIO on failure. */
int stt_testreport_write_json(const stt_testreport *r, const char *path, char *err, size_t errlen);
int stt_testreport_write_html(const stt_testreport *r, const char *path, char *err, size_t errlen);
int stt_testreport_write_junit(const stt_testreport *r, const char *path, char *err, size_t errlen);

/* The closing line, "N passed, N failed" plus ", N skipped" when some were
 * skipped, without newline, into buf; returns buf. */
char *stt_testreport_summary_line(const stt_testreport *r, char *buf, size_t len);

#endif
