/* internal: what the report's files share; not part of the public API.
 *
 * report.c loads the results files and derives the decisions from them;
 * doc.c writes cited figures as markdown or HTML and the sources table they
 * point to; document.c puts together PERFORMANCE_REPORT from summary.c, one
 * sec_<kind>.c per results kind, sure.c ("How sure are we") and
 * sec_regression.c; strategy.c writes SCALING_STRATEGY; k8s.c and plan.c use
 * the decisions and the shapes. Everything here reads a loaded stt_report
 * and never changes it.
 */
#ifndef STT_REPORT_INTERNAL_H
#define STT_REPORT_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "report.h"
#include "results.h"
#include "shapes.h"
#include "svctime.h"

/* ---- results files (report.c) ---- */

enum {
    K_TESTS,
    K_AUDIO,
    K_LOAD,
    K_CPU,
    K_SERVICE,
    K_REPLICAS,
    K_SHAPES,
    K_REGRESSION,
    K_COST,
    K_N
};
extern const char *const rpt_kind_file[K_N]; /* file name of each kind */
extern const char *const rpt_kind_cmd[K_N];  /* command that produces it */

typedef struct src {
    char label[PATH_MAX]; /* cited name */
    char dir[PATH_MAX];   /* folder of the file: charts live beside it */
    json_t *j;
    time_t mtime;
    int kind;             /* K_* */
    stt_results_header h; /* read once at load (results.h): machine, commit, created */
} src;

typedef struct machine {
    char in[PATH_MAX];
    src k[K_N];
    /* regression/history.jsonl: one JSON object per `sttbench compare
     * --history` run, oldest first (NULL when there is none) */
    json_t *history;
    char history_label[PATH_MAX];
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

/* ---- the deployment, decided (decide.c) ----
 *
 * Each figure of the generated deployment comes from a named measurement or
 * model step, and its *_basis says which; a figure without one is a stated
 * policy or a placeholder that says so. */

#define RPT_MIX_MAX 16

typedef struct rpt_deploy {
    /* the objective: --slo-p95, else load.json's, else shapes.json's; 0 = none */
    double slo_s;
    char slo_source[160];
    /* the service-time model (lib/lab/svctime.h) for params.profile */
    int have_svc;
    stt_svctime svc;
    char svc_source[400];
    /* the traffic the pod is sized for: audio durations and weights */
    double mix_d[RPT_MIX_MAX], mix_w[RPT_MIX_MAX];
    int mix_n;
    char mix_source[200];
    double service_s[RPT_MIX_MAX]; /* one worker's occupation by each */
    /* the pod shape (shapes.json through stt_shapes_choose) */
    int cores;          /* cores = workers = threads per pod; a placeholder when !shape_measured */
    int shape_measured; /* 1: from shapes.json */
    stt_shape shapes[STT_SHAPES_MAX];
    int nshapes;
    stt_shapes_choice choice;
    char shape_basis[400];
    /* the model's margin: replicas.json's validation, else policy */
    double margin;
    char margin_basis[300];
    /* target utilisation: the highest rho whose predicted p95 x margin meets the objective */
    double rho;
    int rho_from_model;
    double rho_p95_s, rho_unmargined; /* the short requests' p95 at rho, rho without margin */
    double short_s;                   /* audio s of the requests the objective is for */
    char rho_basis[400];
    /* KEDA: admitted requests per pod at rho (Little's law on the model) */
    double inflight;
    /* --queue for the refusal budget at rho */
    int queue;
    double refused, budget;
    char queue_basis[300];
    /* memory limit */
    double mem_bytes;
    int mem_measured; /* 2: the worst case at the pod's admission; 1: other measurement; 0: none */
    char mem_basis[400];
    /* grace */
    double slowest_s;
    char slowest_profile[32];
    int sttd_grace_s, prestop_s, pod_grace_s;
    char grace_basis[400];
    /* the "long file" threshold at this shape */
    double long_file_s;
    /* CPU limit (cpu.json quota_vs_cpuset) */
    int cpu_limit;
    double quota_ratio, quota_latency_ratio;
} rpt_deploy;

/* Policies the deployment states as such. */
#define RPT_POLICY_MARGIN 1.25  /* model margin without a validation */
#define RPT_POLICY_BUDGET 0.001 /* refusals at the target utilisation */
#define RPT_POLICY_MAX_QUEUE 64
#define RPT_POLICY_PRESTOP_S 10     /* endpoints removed before the drain */
#define RPT_POLICY_READY_PERIOD_S 5 /* readiness: period, failures, timeout */
#define RPT_POLICY_READY_FAILURES 3
#define RPT_POLICY_READY_TIMEOUT_S 2
#define RPT_POLICY_MAX_UPLOAD_MB 100 /* sttd's default --max-upload-mb */
#define RPT_POLICY_MIN_PODS 2
#define RPT_POLICY_MAX_PODS 20

void rpt_deploy_decide(const stt_report *r, const stt_report_params *p, rpt_deploy *out);

/* ---- text: one writer, markdown or HTML (doc.c) ---- */

/* What a reference number points to: a field of a results file, a metric of
 * its "metrics" block, or a computation of the report itself. */
enum { RPT_SRC_FIELD, RPT_SRC_METRIC, RPT_SRC_DERIVED };
typedef struct rpt_source {
    const src *s; /* NULL for a derived figure */
    int type;
    int present; /* the file holds the value */
    int shown;   /* number the reader sees, given when first printed; 0 before */
    char field[320];
} rpt_source;

#define RPT_MAX_SOURCES 2048
#define RPT_MAX_CHARTS 128

/* One output document. Owned by the writer that allocates it (zeroed, then f,
 * p and html set); a block writer opens and closes lists and tables itself.
 * Every cited figure gets a reference number into d->sources; rpt_sources()
 * writes them as the document's last section. */
typedef struct doc {
    FILE *f;
    int html;
    const stt_report_params *p;
    char ring[24][768]; /* cited numbers live until 24 later ones */
    int next;
    int in_list, in_table;
    rpt_source sources[RPT_MAX_SOURCES];
    int nsources, nshown;
    uint64_t charts[RPT_MAX_CHARTS]; /* hashes of the PNGs shown: each appears once */
    int ncharts;
} doc;

/* Cited figures. Each returns "VALUE UNIT [N]" where N is the figure's
 * reference number in the sources table (the same file and field always get
 * the same number); in HTML, [N] becomes a link to that row with the file and
 * field as its tooltip. The text lives in d's ring: valid until 24 later
 * cite/derived/metric calls; it may be copied into larger text given to the
 * block writers below, which turn the reference into markup.
 *
 * rpt_cite: the number at the printf-formatted JSON path in s; unit
 * "MiB"/"GiB" scales bytes; a value s lacks gives "not measured [N]" and a
 * missing file (s NULL) "not measured". */
const char *rpt_cite(doc *d, const src *s, const char *unit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A computed figure: "VALUE UNIT [N]", the row saying how it was derived. */
const char *rpt_derived(doc *d, double v, const char *unit, const char *how);
/* "VALUE UNIT [LO, HI], n=N [ref]": the number at BASE.KEY in s with the
 * interval (an array of two) at BASE.CI_KEY and n at BASE.N_KEY (NULL: not
 * shown); one reference, to the value's field. Files from before intervals
 * were recorded give "(no interval)". Lives in d's ring like rpt_cite's. */
const char *rpt_cite_ci(doc *d, const src *s, const char *unit, const char *base, const char *key,
                        const char *ci_key, const char *n_key);
/* A comparable figure of s's "metrics" block (results.h) by its name
 * (printf-formatted): "MEDIAN UNIT [LO, HI], n=N [R]", with " (C% interval)"
 * when the interval's coverage is under 95% (n too small to reach it); unit
 * "bytes" is shown in MiB. "not measured [R]" when s has no such metric. */
const char *rpt_metric(doc *d, const src *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A metric's summary as the file states it. */
typedef struct rpt_fig {
    int found;
    size_t n;
    double median, lo, hi, coverage;
    const char *unit; /* borrowed from the file; "" when absent */
    int higher_is_better;
    int deterministic; /* an exact count (no sampling noise) */
} rpt_fig;
/* Reads metric `name` of s (NULL allowed) into *out; returns out->found. */
int rpt_metric_get(const src *s, const char *name, rpt_fig *out);

/* Writes the sources table: every reference number with its file and field,
 * then each file with the command that produces it. Call once, last. */
void rpt_sources(doc *d);

/* Ends an open list or table. */
void rpt_close_blocks(doc *d);
/* Heading, paragraph, list item: printf-formatted text, escaped for HTML. */
void rpt_h(doc *d, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rpt_para(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rpt_li(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One answer of the executive summary: the question in bold, the short
 * answer, the confidence word marked, then the printf-formatted text. */
void rpt_answer(doc *d, const char *question, const char *answer, const char *confidence,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Table: header cells separated by '|'; then rows the same way. Cells are text. */
void rpt_trow(doc *d, int header, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Embeds (HTML) or links (markdown) every PNG beside a results file not yet
 * shown in d (s may be NULL). */
void rpt_charts(doc *d, const src *s);
/* The one PNG `name` beside s, with a caption (NULL: the name), where the
 * claim it supports is made; nothing when it does not exist or was shown. */
void rpt_chart(doc *d, const src *s, const char *name, const char *caption);
/* A chart at an absolute or working-directory path (the report's own). */
void rpt_chart_path(doc *d, const char *path, const char *caption);
/* The paragraph for a results file of kind k that was not found. */
void rpt_missing(doc *d, int k);
/* "How to reproduce (FILE): COMMAND" for a results file of kind k. */
void rpt_reproduce(doc *d, int k, const src *s);

/* ---- verdicts the results files state (report.c) ----
 *
 * A results file states its answer to a question in a top-level "verdict"
 * object, or several in a "verdicts" array, each
 *   {"question": "tested" | "cpu" | "scale" | "regression",
 *    "answer": "...", "confidence": "established" | "likely" | "undetermined",
 *    "figure": {"metric": NAME} | {"name", "value", "ci": [lo, hi], "n", "unit"},
 *    "settle": "what would settle it", "chart": "PNG beside the file"}.
 * A "verdict" without a question answers its kind's question (cpu.json: cpu,
 * regression.json: regression, test_results.json: tested). The report quotes
 * verdicts; it never recomputes them. */
typedef struct rpt_verdict {
    const src *s;           /* the file stating it; NULL when none does */
    const json_t *v;        /* the verdict object (borrowed) */
    char path[32];          /* its JSON path: "verdict" or "verdicts[2]" */
    const char *answer;     /* NULL when not stated */
    const char *confidence; /* one of the three words; "undetermined" when not stated */
    int confidence_stated;
    const char *settle; /* "settle", else "to_confirm"; NULL */
    const char *chart;  /* NULL */
} rpt_verdict;

/* The first verdict on `question`, searching machines in --in order and each
 * machine's files in kind order. Returns 1 when found, else 0 (*out zeroed,
 * confidence "undetermined"). */
int rpt_verdict_find(const stt_report *r, const char *question, rpt_verdict *out);
/* The deciding figure of a verdict, cited: its metric, or its stated value
 * with interval and n. NULL when the verdict names none. */
const char *rpt_verdict_figure(doc *d, const rpt_verdict *v);
/* A verdict that names no deciding figure: its first reason (the measured
 * figures it weighed), cited. NULL when it states none. */
const char *rpt_verdict_measured(doc *d, const rpt_verdict *v);

/* The commit the report describes: that of the most recently created results
 * file other than the tests' (which judge the code, not measure it); with
 * its created time. "unknown" / "" when no file says. */
const char *rpt_described_commit(const stt_report *r, const char **created);
/* 1 when two commit ids name the same commit (one may be abbreviated; a
 * "+dirty" suffix is ignored), 0 when not, -1 when either is unknown. */
int rpt_same_commit(const char *a, const char *b);

/* ---- PERFORMANCE_REPORT's parts (one file each; document.c orders them) ---- */

void rpt_summary(doc *d, const stt_report *r, const stt_report_decision *dc); /* summary.c */
void rpt_sec_tests(doc *d, const stt_report *r);                              /* sec_tests.c */
void rpt_sec_audio(doc *d, const stt_report *r);                              /* sec_audio.c */
void rpt_sec_load(doc *d, const stt_report *r, const stt_report_params *p);   /* sec_load.c */
void rpt_sec_validation(doc *d, const stt_report *r, const stt_report_params *p);
void rpt_sec_cpu(doc *d, const stt_report *r);                                /* sec_cpu.c */
void rpt_sec_service(doc *d, const stt_report *r);                            /* sec_service.c */
void rpt_sec_replicas(doc *d, const stt_report *r);                           /* sec_replicas.c */
void rpt_sec_shapes(doc *d, const stt_report *r, const stt_report_params *p); /* sec_shapes.c */
void rpt_sec_regression(doc *d, const stt_report *r);                         /* sec_regression.c */
void rpt_sec_sure(doc *d, const stt_report *r);                               /* sure.c */

/* ---- generated deployment files beside the manifests ---- */

/* Grafana dashboard JSON for sttd's metrics (dashboard.c). */
int rpt_write_dashboard(const rpt_deploy *dp, FILE *f);

#endif
