/* internal: what the report's files share; not part of the public API.
 *
 * report.c loads the results files and derives the decisions from them;
 * doc.c writes cited figures as markdown or HTML; document.c puts together
 * PERFORMANCE_REPORT from summary.c and one sec_<kind>.c per results kind;
 * strategy.c writes SCALING_STRATEGY; k8s.c and plan.c use the decisions and
 * the shapes. Everything here reads a loaded stt_report and never changes it.
 */
#ifndef STT_REPORT_INTERNAL_H
#define STT_REPORT_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "report.h"

/* ---- results files (report.c) ---- */

enum { K_TESTS, K_AUDIO, K_LOAD, K_CPU, K_SERVICE, K_REPLICAS, K_N };
extern const char *const rpt_kind_file[K_N]; /* file name of each kind */
extern const char *const rpt_kind_cmd[K_N];  /* command that produces it */

typedef struct src {
    char label[PATH_MAX]; /* cited name */
    char dir[PATH_MAX];   /* folder of the file: charts live beside it */
    json_t *j;
    time_t mtime;
} src;

typedef struct machine {
    char in[PATH_MAX];
    src k[K_N];
} machine;

struct stt_report {
    machine *m;
    int n;
};

/* The first machine (in --in order) that has this kind of file, or NULL. */
const src *rpt_primary(const stt_report *r, int k);

/* JSON paths "a.b[2].c". The value at the path in j, or NULL (borrowed). */
json_t *rpt_jpath(json_t *j, const char *path);
/* j's number, or NaN when j is not a number (or NULL). */
double rpt_jnumv(json_t *j);
/* The number at the printf-formatted path in s (NULL allowed), or NaN. */
double rpt_jnum_at(const src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string at path in s (NULL allowed), or NULL; owned by s. */
const char *rpt_jstr_at(const src *s, const char *path);

/* ---- the figures the decisions rest on (report.c) ---- */

/* Index of cpu.json's analysis entry for a mode, or -1 (cpu may be NULL). */
int rpt_analysis_index(const src *cpu, const char *mode);
/* Index of the audio.json fit of y for a profile, or -1 (audio may be NULL). */
int rpt_fit_index(const src *audio, const char *profile, const char *y);

typedef struct shape {
    int cores, series_index;
    double x;         /* audio s per s */
    double mem_bytes; /* with margin */
    double cost;      /* per audio hour */
    double long_latency;
} shape;

/* Pod shapes from cpu.json's cpuset series into out; returns how many (<= max). */
int rpt_shapes(const stt_report *r, const stt_report_params *p, shape *out, int max);

/* Service time (s) of one worker for each of mix's durations into out[0..n-1],
 * from audio.json's process-time fit for p->profile; with a shape (sh->x > 0)
 * scaled so that the mean matches that shape's measured throughput. Returns 0,
 * or -1 when there is no fit or the weights do not sum to a positive value. */
int rpt_service_times(const stt_report *r, const stt_report_params *p, const shape *sh,
                      const stt_mix *mix, double *out);

/* ---- text: one writer, markdown or HTML (doc.c) ---- */

/* One output document. Owned by the writer that allocates it (zeroed, then f,
 * p and html set); a block writer opens and closes lists and tables itself. */
typedef struct doc {
    FILE *f;
    int html;
    const stt_report_params *p;
    char ring[24][768]; /* cited numbers live until 24 later ones */
    int next;
    int in_list, in_table;
} doc;

/* "VALUE UNIT (FILE: PATH)" for the number at the formatted path in s; unit
 * "MiB"/"GiB" scales bytes; a missing file or value gives "not measured (...)".
 * The text lives in d's ring: valid until 24 later cite/derived calls. */
const char *rpt_cite(doc *d, const src *s, const char *unit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A computed figure: "VALUE UNIT (derived: HOW)"; lives like rpt_cite's text. */
const char *rpt_derived(doc *d, double v, const char *unit, const char *how);

/* Ends an open list or table. */
void rpt_close_blocks(doc *d);
/* Heading, paragraph, list item: printf-formatted text, escaped for HTML. */
void rpt_h(doc *d, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rpt_para(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rpt_li(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Table: header cells separated by '|'; then rows the same way. Cells are text. */
void rpt_trow(doc *d, int header, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Embeds (HTML) or links (markdown) every PNG beside a results file (s may be NULL). */
void rpt_charts(doc *d, const src *s);
/* The paragraph for a results file of kind k that was not found. */
void rpt_missing(doc *d, int k);
/* "How to reproduce (FILE): COMMAND" for a results file of kind k. */
void rpt_reproduce(doc *d, int k, const src *s);

/* ---- PERFORMANCE_REPORT's parts (one file each; document.c orders them) ---- */

void rpt_summary(doc *d, const stt_report *r, const stt_report_decision *dc); /* summary.c */
void rpt_sec_tests(doc *d, const stt_report *r);                              /* sec_tests.c */
void rpt_sec_audio(doc *d, const stt_report *r);                              /* sec_audio.c */
void rpt_sec_load(doc *d, const stt_report *r, const stt_report_params *p);   /* sec_load.c */
void rpt_sec_validation(doc *d, const stt_report *r, const stt_report_params *p);
void rpt_sec_cpu(doc *d, const stt_report *r);      /* sec_cpu.c */
void rpt_sec_service(doc *d, const stt_report *r);  /* sec_service.c */
void rpt_sec_replicas(doc *d, const stt_report *r); /* sec_replicas.c */

#endif
