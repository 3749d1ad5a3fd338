/* sweep: a load sweep measured by the laboratory's rules, and what it decides.
 *
 * A sweep is a list of points (concurrencies of a closed loop, or rates of an
 * open loop with Poisson, constant or trace arrivals). Each point is measured
 * `repeats` times; with more than one repeat the rounds run in a shuffled
 * order, so that the machine's drift spreads over every point instead of
 * falling on the last ones. A run whose last three windows disagree (the
 * perf_analyzer rule, lib/lab/loadgen.h) is measured again at twice the
 * length, at most `max_extend` times; a point is stable only when every one
 * of its runs ended stable, and an unstable point is reported and kept out of
 * every decision (knee, advice, service time, model check).
 *
 * Every figure of a point comes from its runs' samples: throughput is the
 * 2xx rate of every window of every run (n windows, median, 95% interval);
 * latency percentiles pool every counted request, failed ones timed to their
 * failure, and are NaN where n does not support them
 * (stt_stats_percentile_supported); the SLO p95 counts a failed request as a
 * miss.
 *
 * The decisions:
 * - the knee: the first stable point after which 2xx throughput grows by less
 *   than 5%, established by the bootstrap interval of the ratio of medians
 *   lying wholly below 1.05, while p95 still rises; undetermined when an
 *   interval straddles 1.05 first; none when throughput still grows;
 * - advice for sttd (closed loop, a knee found): --workers C --queue C;
 * - the service time: the 2xx latencies of the stable closed-loop point
 *   with one request in flight (no queueing);
 * - the model check: each stable open-loop point with Poisson or trace
 *   arrivals against M/G/c fed with that service time (Allen-Cunneen; the
 *   simulated queue's band for a run as long as the point's), the relative
 *   error's interval set against +-20%.
 *
 * Not thread-safe per sweep; stt_sweep_run() runs its steps one after
 * another. Decision functions are pure and do no I/O.
 */
#ifndef STT_SWEEP_H
#define STT_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "loadgen.h"
#include "stats.h"

/* Runs one step; stt_load_run_step() unless a test replaces it. */
typedef int (*stt_sweep_run_fn)(void *arg, const stt_load_params *p, const stt_load_step *s,
                                stt_load_result *out, char *err, size_t errlen);

#define STT_SWEEP_MAX_POINTS 64
/* The knee's growth threshold and the model check's tolerance. */
#define STT_SWEEP_KNEE_GAIN 1.05
#define STT_SWEEP_MODEL_TOL 0.20
/* A failed request's latency in the SLO p95: a miss, whatever its time. */
#define STT_SWEEP_MISS_S 1e9

typedef struct stt_sweep_params {
    stt_load_mode mode;                  /* STT_LOAD_CLOSED (default) or STT_LOAD_OPEN */
    stt_load_arrival arrival;            /* open loop: STT_ARRIVAL_POISSON (default) */
    double values[STT_SWEEP_MAX_POINTS]; /* ascending concurrencies or rates */
    int nvalues;                         /* default 4: 1, 2, 4, 8 */
    double duration_s;                   /* per run, when requests == 0 (default 10) */
    long requests;                       /* > 0: counted requests per run (default 0) */
    double warmup_s;                     /* per run (default 2) */
    uint64_t seed;                       /* arrivals and the rounds' order (default 1) */
    int repeats;                         /* runs per point, >= 1 (default 1) */
    int max_extend;                      /* doublings of an unstable run (default 2) */
    /* A trace (arrival STT_ARRIVAL_TRACE): offsets and bodies (borrowed); each
     * point replays it compressed or stretched to its rate (stt_trace_scaled),
     * and an unstable run is re-measured rather than lengthened. */
    const double *trace_at_s;
    const int *trace_body;
    size_t ntrace;
    /* Called on an unstable run before it is lengthened: 1 when no longer
     * run could change what it says (a clear failure), so it is kept as it
     * is. NULL: always lengthen. */
    int (*settled)(void *arg, const stt_load_result *r);
    void *settled_arg;
    const stt_load_params *load; /* borrowed; its progress hook is driven here */
    stt_sweep_run_fn run;        /* NULL: stt_load_run_step */
    void *run_arg;
    FILE *progress; /* a line per run (and loadgen's ticker); NULL: silent */
} stt_sweep_params;

stt_sweep_params stt_sweep_default_params(void);

/* One repeat of a point: the run that counts (the first stable attempt, or
 * the last), how many attempts it took and at what length. */
typedef struct stt_sweep_repeat {
    stt_load_result res;
    int attempts;
    double duration_s;
    long requests;
    int round; /* 0-based */
} stt_sweep_repeat;

/* A point's figures, from its runs (stt_sweep_summarize). */
typedef struct stt_sweep_summary {
    int stable;                /* every run ended stable */
    int unstable;              /* some run judged (loadgen.h: stability_judged) was not */
    int unjudged;              /* some run had too few requests per window to judge */
    int saturated;             /* a generator thread was the bottleneck in some run */
    double busiest_thread_cpu; /* the highest over the runs */
    uint64_t n, ok, failed;    /* counted requests (completed + dropped), 2xx, the rest */
    uint64_t late, dropped;
    double failure_rate;       /* failed / n */
    stt_interval failure_ci;   /* Clopper-Pearson, 95% */
    stt_summary throughput;    /* 2xx per second: every window of every run */
    double throughput_overall; /* 2xx / measured seconds, all runs */
    double audio_s_per_s;      /* over all runs */
    /* Pooled latency (s), failures timed to the failure: p50 p90 p95 p99
     * p99.9 (NaN where n is too small) and max. */
    double lat[6];
    stt_interval p95_ci; /* order statistics; NaN when n < 20 */
    /* p95 with failures as misses (STT_SWEEP_MISS_S), and its interval. */
    double p95_slo;
    stt_interval p95_slo_ci;
} stt_sweep_summary;

/* Percentiles of stt_sweep_summary.lat, in order (100 = max). */
extern const double stt_sweep_pcts[6];

typedef struct stt_sweep_point {
    double offered; /* concurrency or rate */
    stt_load_step step;
    double *trace_scaled; /* this point's trace offsets (owned), or NULL */
    stt_sweep_repeat *runs;
    int nruns;
    stt_sweep_summary sum;
} stt_sweep_point;

typedef enum {
    STT_KNEE_NONE = 0,     /* throughput still grew at every stable pair */
    STT_KNEE_FOUND,        /* established */
    STT_KNEE_UNDETERMINED, /* an interval straddled the threshold first */
    STT_KNEE_TOO_FEW,      /* fewer than two stable points */
} stt_knee_state;

/* "none", "found", "undetermined", "too few stable points". */
const char *stt_knee_state_name(stt_knee_state s);

typedef struct stt_sweep_knee {
    stt_knee_state state;
    int index;    /* the knee point (FOUND), else -1 */
    int from, to; /* the stable pair that decided (-1 when none) */
    double gain;  /* median 2xx throughput of `to` over `from` */
    stt_interval gain_ci;
} stt_sweep_knee;

typedef struct stt_sweep_service {
    int point;       /* the stable closed-loop point at c = 1, or -1 */
    stt_summary s;   /* of its 2xx latencies (s) */
    double cs2;      /* squared coefficient of variation */
    double *samples; /* its 2xx latencies (owned), n = s.n */
} stt_sweep_service;

typedef enum {
    STT_CHECK_UNDETERMINED = 0, /* the error's interval straddles +-20%, or n too small */
    STT_CHECK_WITHIN,           /* the whole interval within +-20% */
    STT_CHECK_OUTSIDE,          /* the whole interval beyond it, or the model saturates */
} stt_check_verdict;

/* "undetermined", "within", "outside". */
const char *stt_check_verdict_name(stt_check_verdict v);

typedef struct stt_sweep_check {
    int point;
    double lambda; /* the point's offered rate */
    double ca2;    /* squared CV of its inter-arrival gaps: 1 for Poisson */
    double rho;
    int model_stable;
    double model_p95;
    int has_sim; /* Poisson: the simulated queue's 90% band for a run of n requests */
    double sim_lo, sim_hi;
    double measured_p95;
    stt_interval measured_ci;
    size_t n;
    double err_lo, err_hi; /* (model - measured) / measured over the measured interval */
    stt_check_verdict verdict;
} stt_sweep_check;

typedef struct stt_sweep {
    stt_load_mode mode;
    stt_load_arrival arrival;
    stt_sweep_point *points;
    int npoints;
    int nrounds;
    int max_extend; /* the doublings an unstable run was allowed */
    int *order;     /* nrounds x npoints: the points in the order each round ran them */
    stt_sweep_knee knee;
    int advice_workers; /* closed loop with a knee: --workers and --queue; else 0 */
    stt_sweep_service service;
    int servers; /* the workers the model check assumed (0: not checked) */
    stt_sweep_check *checks;
    int nchecks;
} stt_sweep;

/* Measures the sweep p (values ascending, > 0) and decides. On success *out
 * holds every run (stt_sweep_free); failed requests are results, not
 * failures. Returns 0, STT_EINVAL (bad params), STT_ENOMEM, or what a step
 * returned (err says which). */
int stt_sweep_run(const stt_sweep_params *p, stt_sweep *out, char *err, size_t errlen);

/* Adds the model check for `servers` workers (>= 1) to a measured sweep
 * (replacing an earlier one). Returns 0 (no check when there is no service
 * time or no open-loop Poisson/trace point), STT_EINVAL or STT_ENOMEM. */
int stt_sweep_check_model(stt_sweep *sw, int servers, uint64_t seed, char *err, size_t errlen);

/* The model check of one point against service time sv with `servers`
 * workers into *out (out->point = index, the caller's numbering). Returns 1
 * when the point can be checked (stable, open loop, Poisson or trace, a
 * service time), 0 when not, or STT_EINVAL. */
int stt_sweep_check_point(const stt_sweep_point *pt, int index, const stt_sweep_service *sv,
                          int servers, uint64_t seed, stt_sweep_check *out, char *err,
                          size_t errlen);

void stt_sweep_free(stt_sweep *sw);

/* One repeat of a point: step (with length and seed set) run and, while its
 * result is unstable, run again at twice the length (a trace: again as it
 * is), at most max_extend times. label names it in the progress lines. */
int stt_sweep_measure(const stt_sweep_params *p, const stt_load_step *step, const char *label,
                      stt_sweep_repeat *out, char *err, size_t errlen);

/* ---- decisions: pure functions of measured runs ---- */

/* The figures of a point from its runs. Returns 0 or STT_ENOMEM. */
int stt_sweep_summarize(const stt_sweep_point *pt, stt_sweep_summary *out);

/* The pooled latencies (s) of a point's counted requests: every one (failed
 * ones timed to the failure; fail_as_miss: as STT_SWEEP_MISS_S), or the 2xx
 * ones alone (ok_only). malloc'd, *n of them; NULL when none or no memory. */
double *stt_sweep_latencies(const stt_sweep_point *pt, int ok_only, int fail_as_miss, size_t *n);

/* The knee of points[0..n) (ascending offered load, summaries filled). */
void stt_sweep_find_knee(const stt_sweep_point *points, int n, uint64_t seed, stt_sweep_knee *out);

/* The service time from the stable closed-loop point at c = 1. */
int stt_sweep_service_time(const stt_sweep_point *points, int n, stt_sweep_service *out);

/* Clopper-Pearson 95% interval of k failures in n trials. */
stt_interval stt_sweep_failure_ci(uint64_t k, uint64_t n);

#endif
