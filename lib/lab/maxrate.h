/* maxrate: the highest open-loop rate at which a server meets a latency
 * objective, found by probing.
 *
 * Each probe offers one rate, with Poisson arrivals by default (or a trace
 * compressed or stretched to the rate; constant pacing only on request, and
 * then the result is no capacity figure: below capacity it never queues), and
 * is measured `repeats` (>= 3) times, each run kept to the stability rule as
 * in a sweep (lib/lab/sweep.h). Its requests are pooled, failed ones counted
 * as misses, and the probe
 *   passes  when every run is stable, the failed share is within the error
 *           budget and the 95% interval of the p95 lies wholly under the SLO;
 *   fails   when the failed share is over the budget or the interval of the
 *           p95 lies wholly above the SLO;
 *   and is otherwise undetermined (or unstable), which the search treats as
 *   not passing: a rate is claimed only when its interval says so.
 * The search doubles the rate from start_rate until a probe does not pass,
 * then bisects between the highest pass and the lowest non-pass until they
 * are within `tolerance` of each other, in at most max_probes probes.
 *
 * Not thread-safe per search; the verdict function is pure.
 */
#ifndef STT_MAXRATE_H
#define STT_MAXRATE_H

#include "sweep.h"

typedef struct stt_maxrate_params {
    /* How each run is measured: load, run hook, progress, max_extend, seed,
     * warmup_s, arrival (open loop; STT_ARRIVAL_POISSON by default) and the
     * trace; its mode, values, duration and requests are not used. */
    stt_sweep_params m;
    double slo_p95_s;    /* > 0 */
    double error_budget; /* largest share of failed requests, in [0, 1) (default 0.01) */
    int repeats;         /* runs per probe, >= 3 (default 3) */
    long min_requests;   /* counted requests per run, >= 1 (default 100; a trace: its length) */
    double start_rate;   /* the first probe, > 0 (default 1) */
    double tolerance;    /* bracket width relative to its lower end (default 0.05) */
    int max_probes;      /* >= 1 (default 12) */
} stt_maxrate_params;

stt_maxrate_params stt_maxrate_default_params(void);

typedef enum {
    STT_PROBE_UNDETERMINED = 0,
    STT_PROBE_PASS,
    STT_PROBE_FAIL,
    STT_PROBE_UNSTABLE,
} stt_probe_verdict;

/* "undetermined", "pass", "fail", "unstable". */
const char *stt_probe_verdict_name(stt_probe_verdict v);

typedef struct stt_maxrate_probe {
    double rate;
    stt_sweep_point pt; /* its runs and summary (sum.p95_slo: failures as misses) */
    stt_probe_verdict verdict;
    const char *why; /* static text */
} stt_maxrate_probe;

typedef struct stt_maxrate {
    stt_load_arrival arrival;
    int capacity; /* 1 when arrivals were Poisson or a trace: a capacity figure */
    double slo_p95_s, error_budget;
    stt_maxrate_probe *probes; /* in the order probed */
    int nprobes;
    double max_rate; /* the highest rate that passed; 0 when none */
    int best;        /* its probe, or -1 */
    /* The highest pass and the lowest rate above it that did not pass: the
     * largest rate meeting the objective lies in [lo, hi). hi is INFINITY
     * when every probe passed (the search ran out of probes). */
    double bracket_lo, bracket_hi;
    /* The model check of the probes (stt_maxrate_check_model); point = probe index. */
    int servers;
    stt_sweep_check *checks;
    int nchecks;
} stt_maxrate;

/* The verdict on a probe's summary; *why (may be NULL) says why. */
stt_probe_verdict stt_maxrate_verdict(const stt_sweep_summary *s, double slo_p95_s,
                                      double error_budget, const char **why);

/* Runs the search. On success *out holds every probe (stt_maxrate_free).
 * Returns 0, STT_EINVAL (bad params), STT_ENOMEM or what a step returned. */
int stt_maxrate_search(const stt_maxrate_params *p, stt_maxrate *out, char *err, size_t errlen);

/* Checks every stable probe against M/G/c with `servers` workers and the
 * service time sv (from a sweep's c=1 step), replacing an earlier check.
 * Returns 0 (nothing to check without a service time), STT_EINVAL, STT_ENOMEM. */
int stt_maxrate_check_model(stt_maxrate *m, const stt_sweep_service *sv, int servers, uint64_t seed,
                            char *err, size_t errlen);

void stt_maxrate_free(stt_maxrate *m);

#endif
