/* queueing: the M/G/c capacity model behind `sttbench plan` and the report.
 *
 * A pod with c decoder workers is c servers fed from one queue. Arrivals are
 * Poisson (ca2 = 1 unless told otherwise); service times follow a discrete
 * distribution (one value per audio length of the traffic mix, with weights).
 *
 * - Erlang C: probability that an arrival waits in M/M/c (computed through the
 *   Erlang B recursion, which stays finite for any c).
 * - Allen-Cunneen: mean wait of G/G/c ~= Wq(M/M/c) * (ca2 + cs2) / 2.
 * - Response-time quantile: the wait is taken as 0 with probability 1 - Pw and
 *   exponential with mean Wq / Pw otherwise (exact for M/M/c), independent of
 *   the request's own service time; the quantile of wait + service is found by
 *   bisection on the mixture's tail.
 *
 * - Simulation: the exact first-come first-served queue the formulas
 *   approximate, run by Monte Carlo (GSL's generators), for what a finite run
 *   of it shows and for its long-run quantile.
 *
 * Pure functions, no I/O, thread-safe. The formulas are written by hand: GSL
 * has no queueing formulas and no Debian-packaged C library offers them.
 */
#ifndef STT_QUEUEING_H
#define STT_QUEUEING_H

#include <stddef.h>

/* Erlang C: P(wait) for c servers and offered load a = lambda * E[S] erlangs.
 * 1 when a >= c (unstable), NaN for c < 1 or a < 0. */
double stt_erlang_c(int c, double a);

/* Mean waiting time in M/M/c with arrival rate lambda and mean service mean_s.
 * INFINITY when unstable, NaN on bad arguments. */
double stt_mmc_wq(int c, double lambda, double mean_s);

/* Quantile q (0 < q < 1) of the waiting time when P(wait) = p_wait and the
 * mean wait is wq_mean (conditional wait exponential). 0 when q <= 1 - p_wait. */
double stt_wait_quantile(double p_wait, double wq_mean, double q);

typedef struct stt_mgc_params {
    int servers;             /* c >= 1 */
    double lambda;           /* arrivals per second */
    double ca2;              /* squared coefficient of variation of inter-arrivals; 1 = Poisson */
    const double *service_s; /* n service times (s), borrowed */
    const double *weight;    /* n weights (any positive scale) or NULL for equal */
    size_t n;
    double quantile; /* response-time quantile wanted, e.g. 0.95 */
} stt_mgc_params;

stt_mgc_params stt_mgc_default_params(void);

typedef struct stt_mgc_result {
    int stable;     /* rho < 1 */
    double rho;     /* utilisation lambda E[S] / c */
    double mean_s;  /* E[S] */
    double cs2;     /* Var[S] / E[S]^2 */
    double p_wait;  /* Erlang C */
    double wq_mean; /* Allen-Cunneen mean wait */
    double t_mean;  /* wq_mean + mean_s */
    double t_q;     /* response-time quantile (params.quantile); INFINITY when unstable */
    double wq_q;    /* waiting-time quantile */
} stt_mgc_result;

/* Evaluates the model. Returns 0, or STT_EINVAL (with detail) on bad params. */
int stt_mgc_eval(const stt_mgc_params *p, stt_mgc_result *r, char *err, size_t errlen);

/* Largest arrival rate (per second, within 0.1%) at which the response-time
 * quantile stays <= slo_s; p->lambda is ignored. Writes 0 when even an idle
 * server misses the objective. Returns 0 or STT_EINVAL. */
int stt_mgc_max_rate(const stt_mgc_params *p, double slo_s, double *rate, char *err, size_t errlen);

/* The simulated queue's response-time quantile (params.quantile): over runs
 * as long as a measurement (lo, mid, hi: the 5th, 50th and 95th percentiles of
 * the runs' quantiles, so 90% of runs fall in [lo, hi]) and over one long run
 * (steady). In seconds. */
typedef struct stt_mgc_sim {
    double lo, mid, hi;
    double steady;
} stt_mgc_sim;

/* Counted requests of the long run behind stt_mgc_sim.steady. */
#define STT_MGC_SIM_STEADY 200000

/* Simulates the FCFS queue of p: p->servers servers, Poisson arrivals at
 * p->lambda (p->ca2 must be 1), each request's service time drawn from
 * p->service_s with p->weight (uniformly when NULL), a request served by the
 * server that frees up first. Each of `runs` runs starts empty at time 0,
 * serves but does not count the arrivals before warmup_s, counts the next
 * `requests` and yields the nearest-rank p->quantile of their response times
 * (wait + service); out->lo/mid/hi summarise those. Then, from the same random
 * stream, one run of STT_MGC_SIM_STEADY counted requests after a warm-up of
 * 1000 mean inter-arrival times gives out->steady (when rho >= 1 the queue has
 * no steady state: it grows through that run, and steady is only its value).
 * The same arguments and seed give the same result.
 * Returns 0, STT_EINVAL (with detail) on bad arguments (requests or runs < 1,
 * warmup_s < 0, lambda <= 0, bad params as for stt_mgc_eval), or STT_ENOMEM.
 * Work: about (runs x requests + STT_MGC_SIM_STEADY) x servers steps.
 * Thread-safe: its generator and scratch are its own. */
int stt_mgc_simulate(const stt_mgc_params *p, int requests, double warmup_s, int runs,
                     unsigned long seed, stt_mgc_sim *out, char *err, size_t errlen);

/* ---- a fleet: pods behind a router ----
 *
 * k identical pods of c servers each. The router is what the deployment has:
 * - STT_ROUTING_CENTRAL: one queue before all k x c servers (haproxy leastconn
 *   with maxconn = workers per pod): M/G/(k c) at the whole rate;
 * - STT_ROUTING_RANDOM: each request to a pod drawn uniformly, no central queue
 *   (a Kubernetes Service through kube-proxy's iptables rules): a Poisson
 *   stream split at random stays Poisson, so each pod is M/G/c at rate / k;
 * - STT_ROUTING_ROUNDROBIN: pods in turn (kube-proxy's IPVS default): each pod
 *   sees every k-th arrival, gaps Erlang-k, so G/G/c at rate / k with the
 *   arrivals' ca2 divided by k.
 * A pod may admit at most `capacity` requests at once (in service plus
 * waiting: sttd's --workers + --queue); one more is refused at once (503). */
typedef enum {
    STT_ROUTING_CENTRAL,
    STT_ROUTING_RANDOM,
    STT_ROUTING_ROUNDROBIN,
    STT_ROUTING_N
} stt_routing;

/* "leastconn" (the central queue as haproxy makes it), "random", "roundrobin";
 * NULL out of range. */
const char *stt_routing_name(stt_routing r);
/* The routing named name, or STT_EINVAL. */
int stt_routing_of(const char *name);

typedef struct stt_fleet_params {
    int pods;            /* k >= 1 */
    stt_routing routing; /* STT_ROUTING_RANDOM */
    int capacity;        /* per pod; 0 = unbounded (the analytic model needs 0) */
    /* pod.servers = servers per pod, pod.lambda = the whole fleet's rate, and
     * the service distribution, arrivals' ca2 and quantile as for one pod. */
    stt_mgc_params pod;
} stt_fleet_params;

stt_fleet_params stt_fleet_default_params(void);

/* The queue one request meets, as stt_mgc_eval() gives it (r->rho is the
 * utilisation of every server). Returns 0, or STT_EINVAL for bad params or a
 * capacity (no closed form here: simulate). */
int stt_fleet_eval(const stt_fleet_params *p, stt_mgc_result *r, char *err, size_t errlen);

/* How the fleet is simulated: `runs` runs as long as a measurement (each
 * starts empty, does not count the arrivals before warmup_s, counts the next
 * `requests`), their medians in groups of `group` (a measurement repeated
 * `group` times reports the median of its repeats), and one long run of
 * `steady_requests` counted requests after 1000 mean inter-arrival times. */
typedef struct stt_fleet_sim_params {
    int requests;         /* >= 1 */
    double warmup_s;      /* >= 0 */
    int runs;             /* >= 1 */
    int group;            /* >= 1, <= runs */
    long steady_requests; /* >= 1; STT_MGC_SIM_STEADY */
    unsigned long seed;
} stt_fleet_sim_params;

stt_fleet_sim_params stt_fleet_sim_default_params(void);

typedef struct stt_fleet_sim {
    /* the quantile of admitted requests' response times, in seconds: */
    double lo, mid, hi;        /* 5th, 50th, 95th percentile over the runs */
    double group_lo, group_hi; /* 5th and 95th percentile of the groups' medians */
    double steady;             /* the long run's */
    /* the long run: the fraction of arrivals refused, and the mean number of
     * requests a pod holds (waiting or in service; Little's L) */
    double refused;
    double in_system;
} stt_fleet_sim;

/* Simulates the fleet: Poisson arrivals at p->pod.lambda (ca2 must be 1),
 * routed as p->routing says, each pod first-come first-served over its
 * servers, service times drawn from the distribution. Deterministic for a
 * seed; thread-safe. Returns 0, STT_EINVAL (with detail) or STT_ENOMEM.
 * Work: about (runs x requests + steady_requests) x (servers + capacity). */
int stt_fleet_simulate(const stt_fleet_params *p, const stt_fleet_sim_params *s, stt_fleet_sim *out,
                       char *err, size_t errlen);

/* ---- the model steps the deployment is sized with ---- */

/* The highest utilisation rho (to 0.001) of one pod (p->servers servers, the
 * distribution of p; p->lambda ignored) at which the predicted response-time
 * quantile times factor (>= 1: the model's error margin) stays <= slo_s.
 * With class_s >= 0 the objective is that of the requests whose own service
 * time is class_s (the short ones of a mix): their quantile is class_s plus
 * the wait's, the wait being what the whole mix makes (r.wq_q). Writes 0 when
 * even an idle pod misses it. Returns 0 or STT_EINVAL. */
int stt_mgc_target_rho(const stt_mgc_params *p, double slo_s, double factor, double class_s,
                       double *rho, char *err, size_t errlen);

/* The smallest queue q in [0, max_queue] (a pod admits p->servers + q) at
 * which the simulated long-run refusal fraction under Poisson arrivals at
 * p->lambda (one pod's rate) is <= budget; *refused gets that fraction. When
 * none is, *queue = max_queue and *refused its fraction (> budget). Returns 0,
 * STT_EINVAL or STT_ENOMEM. Deterministic for a seed. */
int stt_mgc_queue_for_budget(const stt_mgc_params *p, double budget, int max_queue,
                             unsigned long seed, int *queue, double *refused, char *err,
                             size_t errlen);

#endif
