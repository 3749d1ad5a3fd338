/* internal: what the files of testreport/ share; not part of the public API.
 *
 * testreport.c owns the object, its metadata and the rules (analyze);
 * ctest.c reads what CTest and testlib leave behind (JUnit, labels, the
 * per-case records) into runs; coverage.c reads gcovr; history.c compares
 * with the previous report; stability.c compares repeated runs; json.c,
 * html.c and junit.c write the three outputs from an analysed report.
 */
#ifndef STT_TESTREPORT_INTERNAL_H
#define STT_TESTREPORT_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "testreport.h"

/* Failed tests can print megabytes; the end of the output is where the reason is. */
#define TR_OUTPUT_KEEP 65536

/* One case of one run, as read. */
typedef struct tr_case {
    char *name;
    char *message; /* failed checks, "file:line: check failed: expr" per line; or NULL */
    stt_test_status status;
    double seconds; /* NaN when unknown */
    int ended;      /* an end record (or an ok/FAIL line) was seen */
} tr_case;

/* One program (CTest test) of one run, as read. */
typedef struct tr_program {
    stt_testcase v; /* the view; pointers set by analyze */
    char *name;
    char **labels;
    char *output;     /* failed programs only */
    char *all_output; /* whatever CTest captured, for the case fallback; freed after loading */
    tr_case *cases;
    size_t ncases;
    int has_records; /* cases came from a testlib record file */
} tr_program;

/* What one CTest run left behind. */
typedef struct tr_run {
    tr_program *progs;
    size_t nprogs;
    int cases_done; /* tr_run_finish_cases() ran */
} tr_run;

/* One case of the main run, as the report shows it. */
typedef struct tr_case_view {
    stt_testreport_case v;
    size_t program; /* index into the main run */
} tr_case_view;

typedef struct tr_coverage_file {
    stt_coverage_file v;
    char *file;
} tr_coverage_file;

typedef struct tr_stable {
    stt_testreport_stable_case v;
    const char *program, *name; /* owned by the runs */
    stt_test_status *status;
    double *seconds;
    size_t seen_in; /* 1 + the last run that had it */
} tr_stable;

struct stt_testreport {
    stt_testreport_params p;
    tr_run main;
    int junit_loaded;
    tr_case_view *cases; /* built by analyze */
    size_t ncases;

    int has_coverage;
    tr_coverage_file *cov;
    size_t ncov;
    size_t lines_total, lines_covered, branches_total, branches_covered;
    stt_coverage_file *low;
    size_t nlow;

    json_t *prev; /* previous test_results.json, or NULL */
    char *prev_label;

    tr_run *runs; /* stability runs */
    size_t nruns;
    tr_stable *stable; /* built by analyze */
    size_t nstable;

    char *commit; /* NULL: the commit results.h looks up */
    char *date;
    char *cpu_model; /* NULL until set_machine */
    char *kernel;
    long cores;
    long long mem_bytes;

    json_t *config; /* object of strings */
    json_t *phases; /* object of numbers, in insertion order */
    json_t *checks; /* array of {name, passed, detail} */

    stt_testreport_totals totals;
};

/* ---- text (testreport.c) ---- */

/* A copy of s that keeps valid UTF-8 and replaces other bytes and control
 * characters (except tab and newline) with '?', which XML 1.0 and jansson
 * both need; with keep_tail, only that many trailing bytes are kept. NULL for
 * NULL or out of memory. */
char *tr_clean_text(const char *s, size_t keep_tail);
/* Appends text to *dst with a newline between pieces. 0 or STT_ENOMEM. */
int tr_append(char **dst, const char *text);
const char *tr_status_name(stt_test_status s);
/* "new_failure", "fixed", "slower", or NULL for STT_TEST_SAME. */
const char *tr_change_name(stt_test_change c);
/* The program's kind: its first label other than the slow label, else its
 * first label, else "tests". */
const char *tr_kind(const stt_testreport *r, const tr_program *p);
int tr_has_label(const tr_program *p, const char *label);
/* 100 * covered / total; 100 when there is nothing to cover. */
double tr_percent(size_t covered, size_t total);

/* ---- runs (ctest.c) ---- */

int tr_run_load_junit(tr_run *run, const char *path, char *err, size_t errlen);
/* Reads DIR/PROGRAM.cases for every program of the run that has one. */
int tr_run_load_cases(tr_run *run, const char *dir, char *err, size_t errlen);
/* Settles every program's cases: from its records, else from the "ok NAME" /
 * "FAIL NAME" lines of its output when they are complete, else one case
 * standing for the whole program; a case that started and never ended, and a
 * program that failed with no failed case, become failed cases that say why. */
int tr_run_finish_cases(tr_run *run);
void tr_run_free(tr_run *run);

/* ---- history (history.c) ---- */

/* Marks the changes of programs and cases against r->prev and counts them. */
void tr_history_compare(stt_testreport *r);

/* ---- stability (stability.c) ---- */

/* Builds r->stable from r->runs and counts the flaky and time-varying cases. */
int tr_stability_analyze(stt_testreport *r);
void tr_stability_free(stt_testreport *r);

/* ---- writers' helpers ---- */

/* The JSON document of the report (json.c). NULL when out of memory. */
json_t *tr_report_json(const stt_testreport *r);
/* Its header alone: results.h's, with the commit, date and machine the
 * caller set in place of what this process would look up (json.c). */
json_t *tr_header_json(const stt_testreport *r);

#endif
