/* report: reads the laboratory's results files and turns them into the
 * performance report, the scaling strategy, Kubernetes manifests and capacity
 * plans.
 *
 * Inputs, found at any depth under each results directory (one machine per
 * directory): test_results.json, audio.json, load.json, cpu.json, service.json,
 * replicas.json, cost.json, regression.json and regression history.jsonl
 * (schemas in docs/TESTING.md, AUDIO_BENCH.md, LOAD.md, CPU.md, SERVICE_BENCH.md,
 * REPLICAS.md, REGRESSION.md).
 * Any of them may be missing; the outputs then say so instead of guessing.
 *
 * Every measured number written is followed by a reference number, e.g.
 * "4.2 s [17]", pointing to a row of the document's sources table: the file
 * (its path relative to its results directory, prefixed with the directory
 * itself when there are several) and the JSON field, or the comparable
 * figure of its "metrics" block; in HTML the reference links to that row and
 * shows it as a tooltip. The value printed is the JSON value in the JSON's
 * own unit, or in MiB/GiB for bytes. Computed figures point to a row saying
 * how they were computed.
 *
 * Writers print only into the FILE given; nothing here prints elsewhere.
 * A stt_report is immutable after loading and may be read from several threads.
 */
#ifndef STT_REPORT_H
#define STT_REPORT_H

#include <stdio.h>

#include "mix.h"

typedef struct stt_report stt_report;

typedef struct stt_report_params {
    double price_core_hour; /* currency per core-hour (default 0.04) */
    double price_gib_hour;  /* currency per GiB-hour of memory (default 0.005) */
    double slo_p95_s;       /* latency objective; 0 = take load.json's, else none */
    double memory_margin;   /* added to the peak memory for requests (default 0.15) */
    double max_audio_s;     /* longest audio a pod accepts (default 600, the seed's limit) */
    const char *profile;    /* profile for service times (default "balanced") */
    const char *image;      /* container image name (default "sttlab/sttd:0.1.0") */
    const char *asset_dir;  /* markdown's directory, for relative chart links; NULL = absolute */
} stt_report_params;

stt_report_params stt_report_default_params(void);

/* Loads every results file under dirs[0..ndirs-1]. Returns 0 (even when no file
 * was found: stt_report_found() says how many), or STT_EIO / STT_EINVAL for an
 * unreadable directory or a file that is not valid JSON. *out is owned by the
 * caller (stt_report_free). */
int stt_report_load(const char *const *dirs, int ndirs, stt_report **out, char *err, size_t errlen);
void stt_report_free(stt_report *r);

/* Number of results files found. */
int stt_report_found(const stt_report *r);

/* The figures the decisions rest on (NaN / -1 / NULL when not measured). */
typedef struct stt_report_decision {
    int has_tests, has_audio, has_load, has_cpu, has_service;
    int tests_total, tests_passed, tests_failed, tests_skipped, tests_ok;
    double coverage_line;   /* percent */
    int tested_stable;      /* tests ok, none failed, coverage measured and met */
    const char *cpu_answer; /* cpu.json verdict.answer */
    int best_cores;         /* pod shape: cores (= workers) */
    double best_cost_per_audio_hour;
    double best_audio_s_per_s;
    /* CPU limit policy: 1 sets limits.cpu = request. 0 leaves it unset when a
     * CFS quota measurably costs throughput (quota_ratio < 0.95) or one
     * request's latency (quota_latency_ratio > 1.10) against pinned cores. */
    int cpu_limit;
    double quota_ratio;         /* quota / cpuset throughput at best_cores */
    double quota_latency_ratio; /* quota / cpuset single long request time there */
    double memory_bytes;        /* request = limit, margin included */
    double slo_p95_s;           /* objective used (0 = none) */
    int hpa_cpu_percent;        /* HPA averageUtilization */
    char hpa_basis[400];        /* what hpa_cpu_percent came from */
    double queue_depth_target;  /* sttd_queue_depth per pod */
    int grace_s;                /* terminationGracePeriodSeconds */
    double fit_a, fit_b;        /* process_s = a + b * duration for params.profile */
    /* The deployment: each from a named measurement or model step (decide.c;
     * the manifests carry the sources). */
    int has_replicas, has_shapes;
    int shape_measured;       /* best_cores came from shapes.json */
    double target_rho;        /* highest utilisation meeting the objective with the margin;
                               * NaN without an objective or a service-time model */
    double model_margin;      /* factor on the model's p95 (replicas.json validation or policy) */
    int queue;                /* sttd --queue: refusals at target_rho within the budget */
    double refused_at_target; /* the modelled refusal fraction there */
    double inflight_per_pod;  /* KEDA threshold: admitted requests per pod at target_rho */
    int sttd_grace_s;         /* sttd --grace-s: the slowest allowed request plus a queued one */
    double long_file_s;       /* files from this long gain >= 10% from twice the cores */
} stt_report_decision;

void stt_report_decide(const stt_report *r, const stt_report_params *p, stt_report_decision *d);

/* Draws the report's own charts into dir with gnuplot (chart.h): the trend of
 * every figure over the regression history (regression_trend.{dat,gp,png}),
 * which the documents then show; call it before the writers, with
 * p->asset_dir = dir. Returns 0, also when there is nothing to draw or
 * gnuplot is missing (the documents then show tables only), or STT_EIO. */
int stt_report_draw_charts(const stt_report *r, const stt_report_params *p, const char *dir,
                           char *err, size_t errlen);

/* PERFORMANCE_REPORT.md, PERFORMANCE_REPORT.html, SCALING_STRATEGY.md. */
int stt_report_write_md(const stt_report *r, const stt_report_params *p, FILE *f);
int stt_report_write_html(const stt_report *r, const stt_report_params *p, FILE *f);
int stt_report_write_strategy(const stt_report *r, const stt_report_params *p, FILE *f);

/* Everything `sttbench report` writes: the charts, then PERFORMANCE_REPORT.md,
 * PERFORMANCE_REPORT.html and SCALING_STRATEGY.md into out_dir, and the
 * manifests into k8s_dir (NULL: deploy/k8s beside out_dir's parent, so that
 * docs/ gives ./deploy/k8s), creating the folders. p->asset_dir is taken to
 * be out_dir. The paths written are appended to `written`, one per line.
 * Returns 0, or STT_EIO with err. */
int stt_report_write_all(const stt_report *r, const stt_report_params *p, const char *out_dir,
                         const char *k8s_dir, char *written, size_t wlen, char *err, size_t errlen);

/* deploy/k8s deployment.yaml, service.yaml, hpa.yaml. */
int stt_report_write_k8s(const stt_report *r, const stt_report_params *p, FILE *deployment,
                         FILE *service, FILE *hpa);

/* deploy/k8s keda.yaml (a KEDA ScaledObject on sttd's requests in flight: use
 * it or hpa.yaml, not both), pdb.yaml (PodDisruptionBudget) and
 * grafana-dashboard.json (the signals of the decision matrix). */
int stt_report_write_k8s_more(const stt_report *r, const stt_report_params *p, FILE *keda,
                              FILE *pdb, FILE *dashboard);

/* Capacity plan for `rate` requests/s of this mix under a p95 objective: pods of
 * each measured shape and their cost, cheapest first. Writes a markdown table
 * and notes to f. Returns 0, or STT_EINVAL when the results lack what the model
 * needs (audio.json fits; cpu.json for shapes) with the reason in err. */
int stt_report_plan(const stt_report *r, const stt_report_params *p, const stt_mix *mix,
                    double rate, double slo_p95_s, FILE *f, char *err, size_t errlen);

#endif
