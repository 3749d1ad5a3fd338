/* queueing: Erlang C, the Allen-Cunneen M/G/c approximation and the
 * simulated FCFS queue. */
#include "queueing.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

double stt_erlang_c(int c, double a)
{
    if (c < 1 || !(a >= 0)) return NAN;
    if (a >= c) return 1.0;
    if (a == 0) return 0.0;
    /* Erlang B by recursion: B(k) = a B(k-1) / (k + a B(k-1)); the factorial
     * sums of the textbook formula overflow for c in the hundreds. */
    double b = 1.0;
    for (int k = 1; k <= c; k++)
        b = a * b / (k + a * b);
    return c * b / (c - a * (1.0 - b));
}

double stt_mmc_wq(int c, double lambda, double mean_s)
{
    if (c < 1 || !(lambda >= 0) || !(mean_s > 0)) return NAN;
    double a = lambda * mean_s;
    if (a >= c) return INFINITY;
    if (lambda == 0) return 0.0;
    return stt_erlang_c(c, a) * mean_s / (c - a);
}

double stt_wait_quantile(double p_wait, double wq_mean, double q)
{
    if (!(q > 0 && q < 1) || !(p_wait >= 0)) return NAN;
    if (!isfinite(wq_mean)) return INFINITY;
    if (p_wait <= 0 || wq_mean <= 0 || 1 - q >= p_wait) return 0.0;
    /* P(W > t) = Pw exp(-t Pw / Wq) */
    return wq_mean / p_wait * log(p_wait / (1 - q));
}

stt_mgc_params stt_mgc_default_params(void)
{
    stt_mgc_params p = {.servers = 1, .lambda = 0, .ca2 = 1.0, .quantile = 0.95};
    return p;
}

/* Checks p's service times and weights: *wsum = the weights' sum, *m1 and *m2
 * the weighted first two moments, *smax the largest service time. Returns 0 or
 * STT_EINVAL. */
static int service_moments(const stt_mgc_params *p, double *wsum, double *m1, double *m2,
                           double *smax, char *err, size_t errlen)
{
    double ws = 0, s1 = 0, s2 = 0, mx = 0;
    for (size_t i = 0; i < p->n; i++) {
        double w = p->weight ? p->weight[i] : 1.0;
        double s = p->service_s[i];
        if (!(w >= 0) || !(s >= 0) || !isfinite(s))
            return stt_seterr(err, errlen, STT_EINVAL, "bad service time or weight at %zu", i);
        ws += w;
        s1 += w * s;
        s2 += w * s * s;
        if (s > mx) mx = s;
    }
    if (!(ws > 0) || !(s1 > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "service times must have a positive mean");
    *wsum = ws;
    *m1 = s1 / ws;
    *m2 = s2 / ws;
    *smax = mx;
    return 0;
}

/* P(T > t) of the response time: the service-time mixture convolved with the
 * wait's atom at zero and exponential tail. */
static double tail(const stt_mgc_params *p, const stt_mgc_result *r, double wsum, double t)
{
    double theta = r->wq_mean > 0 ? r->p_wait / r->wq_mean : INFINITY;
    double s = 0;
    for (size_t i = 0; i < p->n; i++) {
        double w = p->weight ? p->weight[i] : 1.0;
        double x = t - p->service_s[i];
        double pt = x < 0 ? 1.0 : (isfinite(theta) ? r->p_wait * exp(-theta * x) : 0.0);
        s += w * pt;
    }
    return s / wsum;
}

int stt_mgc_eval(const stt_mgc_params *p, stt_mgc_result *r, char *err, size_t errlen)
{
    if (!p || !r || p->servers < 1 || !(p->lambda >= 0) || !p->service_s || p->n == 0 ||
        !(p->quantile > 0 && p->quantile < 1) || !(p->ca2 >= 0))
        return stt_seterr(err, errlen, STT_EINVAL, "bad queueing parameters");
    double wsum, m1, m2, smax;
    int rc = service_moments(p, &wsum, &m1, &m2, &smax, err, errlen);
    if (rc) return rc;
    *r = (stt_mgc_result){0};
    r->mean_s = m1;
    r->cs2 = fmax(0.0, m2 / (m1 * m1) - 1.0);
    r->rho = p->lambda * m1 / p->servers;
    r->stable = r->rho < 1.0;
    if (!r->stable) {
        r->p_wait = 1.0;
        r->wq_mean = r->t_mean = r->t_q = r->wq_q = INFINITY;
        return 0;
    }
    r->p_wait = stt_erlang_c(p->servers, p->lambda * m1);
    r->wq_mean = stt_mmc_wq(p->servers, p->lambda, m1) * (p->ca2 + r->cs2) / 2.0;
    r->t_mean = r->wq_mean + m1;
    r->wq_q = stt_wait_quantile(r->p_wait, r->wq_mean, p->quantile);
    double target = 1.0 - p->quantile;
    double lo = 0, hi = smax + r->wq_q + 1.0;
    while (tail(p, r, wsum, hi) > target)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-9 * (1 + hi); i++) {
        double mid = 0.5 * (lo + hi);
        if (tail(p, r, wsum, mid) > target)
            lo = mid;
        else
            hi = mid;
    }
    r->t_q = hi;
    return 0;
}

int stt_mgc_max_rate(const stt_mgc_params *p, double slo_s, double *rate, char *err, size_t errlen)
{
    if (!p || !rate || !(slo_s > 0)) return stt_seterr(err, errlen, STT_EINVAL, "bad objective");
    stt_mgc_params q = *p;
    stt_mgc_result r;
    q.lambda = 0;
    int rc = stt_mgc_eval(&q, &r, err, errlen);
    if (rc) return rc;
    *rate = 0;
    if (r.t_q > slo_s) return 0;
    double lo = 0, hi = q.servers / r.mean_s; /* saturation bound */
    while (hi - lo > 1e-3 * hi) {
        q.lambda = 0.5 * (lo + hi);
        rc = stt_mgc_eval(&q, &r, err, errlen);
        if (rc) return rc;
        if (r.stable && r.t_q <= slo_s)
            lo = q.lambda;
        else
            hi = q.lambda;
    }
    *rate = lo;
    return 0;
}

/* ---- the fleet ---- */

static const char *const routing_names[STT_ROUTING_N] = {"leastconn", "random", "roundrobin"};

const char *stt_routing_name(stt_routing r)
{
    return (unsigned)r < STT_ROUTING_N ? routing_names[r] : NULL;
}

int stt_routing_of(const char *name)
{
    for (int i = 0; name && i < STT_ROUTING_N; i++)
        if (!strcmp(name, routing_names[i])) return i;
    return STT_EINVAL;
}

stt_fleet_params stt_fleet_default_params(void)
{
    stt_fleet_params p = {.pods = 1, .routing = STT_ROUTING_RANDOM, .capacity = 0};
    p.pod = stt_mgc_default_params();
    return p;
}

stt_fleet_sim_params stt_fleet_sim_default_params(void)
{
    stt_fleet_sim_params s = {.requests = 100,
                              .warmup_s = 0,
                              .runs = 1000,
                              .group = 1,
                              .steady_requests = STT_MGC_SIM_STEADY,
                              .seed = 1};
    return s;
}

/* The one queue a request meets: servers, rate and arrivals' ca2. */
static stt_mgc_params fleet_queue(const stt_fleet_params *p)
{
    stt_mgc_params q = p->pod;
    if (p->routing == STT_ROUTING_CENTRAL) {
        q.servers = p->pod.servers * p->pods;
    } else {
        q.lambda = p->pod.lambda / p->pods;
        if (p->routing == STT_ROUTING_ROUNDROBIN) q.ca2 = p->pod.ca2 / p->pods;
    }
    return q;
}

static int fleet_check(const stt_fleet_params *p, char *err, size_t errlen)
{
    if (!p || p->pods < 1 || (unsigned)p->routing >= STT_ROUTING_N || p->capacity < 0 ||
        (p->capacity > 0 && p->capacity < p->pod.servers))
        return stt_seterr(err, errlen, STT_EINVAL,
                          "bad fleet: pods >= 1, a routing, capacity 0 or >= servers");
    if ((long long)p->pods * p->pod.servers > 1000000)
        return stt_seterr(err, errlen, STT_EINVAL, "too many servers");
    return 0;
}

int stt_fleet_eval(const stt_fleet_params *p, stt_mgc_result *r, char *err, size_t errlen)
{
    int rc = fleet_check(p, err, errlen);
    if (rc) return rc;
    if (p->capacity)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "the formulas have no admission limit: simulate a capacity");
    stt_mgc_params q = fleet_queue(p);
    return stt_mgc_eval(&q, r, err, errlen);
}

/* Scratch of one simulation. */
typedef struct fleet_state {
    int pods, servers, cap; /* as simulated: central = one pod of all servers */
    double *free_at;        /* pods x servers: when each server frees up */
    double *dep;            /* pods x cap: departures of the requests a pod holds */
    int *ndep;              /* pods */
    double *lat;            /* counted admitted response times */
} fleet_state;

/* One run: starts empty at 0, counts the n arrivals from warmup_s on. Returns
 * the quantile of the admitted ones' response times (NaN when none), and the
 * refused count, the response times' sum and the counted span (first to last
 * counted arrival) through the pointers. */
static double fleet_run(gsl_rng *rng, const stt_fleet_params *p, const gsl_ran_discrete_t *pick,
                        double warmup_s, long n, fleet_state *st, long *refused, double *sum_t,
                        double *span)
{
    int k = st->pods, c = st->servers, cap = st->cap;
    for (long j = 0; j < (long)k * c; j++)
        st->free_at[j] = 0;
    for (int j = 0; j < k; j++)
        st->ndep[j] = 0;
    double t = 0, t_first = -1;
    long m = 0, ref = 0;
    double sum = 0;
    /* Round robin starts at a random pod; one pod draws nothing, so a single
     * queue sees the same random stream whatever the routing says. */
    unsigned long rr = k > 1 && p->routing == STT_ROUTING_ROUNDROBIN
                           ? gsl_rng_uniform_int(rng, (unsigned long)k)
                           : 0;
    for (long i = 0; i < n;) {
        t += gsl_ran_exponential(rng, 1.0 / p->pod.lambda);
        int pod = 0;
        if (k > 1 && p->routing == STT_ROUTING_RANDOM)
            pod = (int)gsl_rng_uniform_int(rng, (unsigned long)k);
        else if (k > 1)
            pod = (int)(rr++ % (unsigned long)k);
        size_t which =
            pick ? gsl_ran_discrete(rng, pick) : gsl_rng_uniform_int(rng, (unsigned long)p->pod.n);
        int counted = t >= warmup_s;
        if (counted && t_first < 0) t_first = t;
        if (cap) {
            /* Requests that left by now no longer hold a place. */
            double *d = st->dep + (long)pod * cap;
            int nd = 0;
            for (int j = 0; j < st->ndep[pod]; j++)
                if (d[j] > t) d[nd++] = d[j];
            st->ndep[pod] = nd;
            if (nd >= cap) {
                if (counted) {
                    ref++;
                    i++;
                }
                continue;
            }
        }
        double *fa = st->free_at + (long)pod * c;
        int j = 0;
        for (int s = 1; s < c; s++)
            if (fa[s] < fa[j]) j = s;
        double start = t > fa[j] ? t : fa[j];
        fa[j] = start + p->pod.service_s[which];
        if (cap) st->dep[(long)pod * cap + st->ndep[pod]++] = fa[j];
        if (counted) {
            st->lat[m++] = fa[j] - t;
            sum += fa[j] - t;
            i++;
        }
    }
    if (refused) *refused = ref;
    if (sum_t) *sum_t = sum;
    if (span) *span = t - (t_first < 0 ? t : t_first);
    if (m == 0) return NAN;
    gsl_sort(st->lat, 1, (size_t)m);
    return st->lat[(size_t)ceil(p->pod.quantile * (double)m) - 1];
}

/* The percentile q of v[0..n) as the summaries of the simulation give it. */
static double sorted_q(double *v, size_t n, double q)
{
    gsl_sort(v, 1, n);
    return gsl_stats_quantile_from_sorted_data(v, 1, n, q);
}

int stt_fleet_simulate(const stt_fleet_params *p, const stt_fleet_sim_params *s, stt_fleet_sim *out,
                       char *err, size_t errlen)
{
    int rc = fleet_check(p, err, errlen);
    if (rc) return rc;
    const stt_mgc_params *q = &p->pod;
    if (!s || !out || s->requests < 1 || s->runs < 1 || s->group < 1 || s->group > s->runs ||
        s->steady_requests < 1 || !(s->warmup_s >= 0) || !isfinite(s->warmup_s) || q->servers < 1 ||
        !(q->lambda > 0) || !isfinite(q->lambda) || !q->service_s || q->n == 0 ||
        !(q->quantile > 0 && q->quantile < 1))
        return stt_seterr(err, errlen, STT_EINVAL, "bad simulation parameters");
    if (q->ca2 != 1.0)
        return stt_seterr(err, errlen, STT_EINVAL, "the simulation has Poisson arrivals (ca2 1)");
    /* gsl_rng_uniform_int draws below the generator's range (mt19937: 2^32). */
    if ((unsigned long long)q->n > 0xffffffffULL)
        return stt_seterr(err, errlen, STT_EINVAL, "too many service times");
    double wsum, m1, m2, smax;
    if ((rc = service_moments(q, &wsum, &m1, &m2, &smax, err, errlen))) return rc;

    fleet_state st = {
        .pods = p->routing == STT_ROUTING_CENTRAL ? 1 : p->pods,
        .servers = p->routing == STT_ROUTING_CENTRAL ? q->servers * p->pods : q->servers,
        .cap = p->routing == STT_ROUTING_CENTRAL ? p->capacity * p->pods : p->capacity};
    long nmax = s->requests > s->steady_requests ? s->requests : s->steady_requests;
    int ngroups = s->runs / s->group;
    st.free_at = malloc((size_t)st.pods * (size_t)st.servers * sizeof *st.free_at);
    st.dep = st.cap ? malloc((size_t)st.pods * (size_t)st.cap * sizeof *st.dep) : NULL;
    st.ndep = malloc((size_t)st.pods * sizeof *st.ndep);
    st.lat = malloc((size_t)nmax * sizeof *st.lat);
    double *runq = malloc((size_t)s->runs * sizeof *runq);
    double *grp = malloc((size_t)s->runs * sizeof *grp);
    double *med = malloc((size_t)ngroups * sizeof *med);
    gsl_rng *rng = st.free_at && (st.dep || !st.cap) && st.ndep && st.lat && runq && grp && med
                       ? gsl_rng_alloc(gsl_rng_mt19937)
                       : NULL;
    /* Equal weights need no table: gsl_rng_uniform_int draws the index. */
    gsl_ran_discrete_t *pick = rng && q->weight ? gsl_ran_discrete_preproc(q->n, q->weight) : NULL;
    rc = STT_ENOMEM;
    if (rng && (pick || !q->weight)) {
        gsl_rng_set(rng, s->seed);
        size_t nq = 0;
        for (int r = 0; r < s->runs; r++) {
            double v = fleet_run(rng, p, pick, s->warmup_s, s->requests, &st, NULL, NULL, NULL);
            if (isfinite(v)) runq[nq++] = v;
        }
        /* Medians of consecutive groups of runs, in run order. */
        size_t ng = 0;
        for (int g = 0; g < ngroups; g++) {
            size_t nin = 0;
            for (int r = g * s->group; r < (g + 1) * s->group; r++)
                if (r < (int)nq) grp[nin++] = runq[r];
            if (nin) med[ng++] = sorted_q(grp, nin, 0.5);
        }
        out->lo = nq ? sorted_q(runq, nq, 0.05) : NAN;
        out->mid = nq ? gsl_stats_quantile_from_sorted_data(runq, 1, nq, 0.50) : NAN;
        out->hi = nq ? gsl_stats_quantile_from_sorted_data(runq, 1, nq, 0.95) : NAN;
        out->group_lo = ng ? sorted_q(med, ng, 0.05) : NAN;
        out->group_hi = ng ? gsl_stats_quantile_from_sorted_data(med, 1, ng, 0.95) : NAN;
        long refused = 0;
        double sum_t = 0, span = 0;
        out->steady = fleet_run(rng, p, pick, 1000.0 / q->lambda, s->steady_requests, &st, &refused,
                                &sum_t, &span);
        out->refused = (double)refused / (double)s->steady_requests;
        out->in_system = span > 0 ? sum_t / span / p->pods : NAN;
        rc = 0;
    }
    if (pick) gsl_ran_discrete_free(pick);
    gsl_rng_free(rng);
    free(med);
    free(grp);
    free(runq);
    free(st.lat);
    free(st.ndep);
    free(st.dep);
    free(st.free_at);
    return rc ? stt_seterr(err, errlen, rc, "out of memory") : 0;
}

int stt_mgc_simulate(const stt_mgc_params *p, int requests, double warmup_s, int runs,
                     unsigned long seed, stt_mgc_sim *out, char *err, size_t errlen)
{
    if (!p || !out) return stt_seterr(err, errlen, STT_EINVAL, "bad simulation parameters");
    stt_fleet_params f = stt_fleet_default_params();
    f.pod = *p;
    stt_fleet_sim_params s = stt_fleet_sim_default_params();
    s.requests = requests;
    s.warmup_s = warmup_s;
    s.runs = runs;
    s.group = 1;
    s.seed = seed;
    stt_fleet_sim fs;
    int rc = stt_fleet_simulate(&f, &s, &fs, err, errlen);
    if (rc) return rc;
    *out = (stt_mgc_sim){.lo = fs.lo, .mid = fs.mid, .hi = fs.hi, .steady = fs.steady};
    return 0;
}

/* ---- the model steps ---- */

/* The objective's quantile at rate lambda: of every request, or of the class. */
static int class_quantile(const stt_mgc_params *p, double lambda, double class_s, double *t,
                          double *mean_s, char *err, size_t errlen)
{
    stt_mgc_params q = *p;
    q.lambda = lambda;
    stt_mgc_result r;
    int rc = stt_mgc_eval(&q, &r, err, errlen);
    if (rc) return rc;
    *t = !r.stable ? INFINITY : class_s >= 0 ? class_s + r.wq_q : r.t_q;
    *mean_s = r.mean_s;
    return 0;
}

int stt_mgc_target_rho(const stt_mgc_params *p, double slo_s, double factor, double class_s,
                       double *rho, char *err, size_t errlen)
{
    if (!p || !rho || !(slo_s > 0) || !(factor >= 1) || !isfinite(factor) || !isfinite(class_s))
        return stt_seterr(err, errlen, STT_EINVAL, "bad objective or margin");
    double t, mean;
    int rc = class_quantile(p, 0, class_s, &t, &mean, err, errlen);
    if (rc) return rc;
    *rho = 0;
    if (t * factor > slo_s) return 0;
    double lo = 0, hi = p->servers / mean; /* saturation */
    while (hi - lo > 1e-4 * hi) {
        double mid = 0.5 * (lo + hi);
        if ((rc = class_quantile(p, mid, class_s, &t, &mean, err, errlen))) return rc;
        if (t * factor <= slo_s)
            lo = mid;
        else
            hi = mid;
    }
    /* to 0.001 below: never a utilisation the model did not clear */
    *rho = floor(1000.0 * lo * mean / p->servers) / 1000.0;
    return 0;
}

int stt_mgc_queue_for_budget(const stt_mgc_params *p, double budget, int max_queue,
                             unsigned long seed, int *queue, double *refused, char *err,
                             size_t errlen)
{
    if (!p || !queue || !refused || !(budget >= 0) || max_queue < 0 || max_queue > 100000)
        return stt_seterr(err, errlen, STT_EINVAL, "bad budget or queue bound");
    stt_fleet_params f = stt_fleet_default_params();
    f.pod = *p;
    stt_fleet_sim_params s = stt_fleet_sim_default_params();
    s.requests = 1;
    s.runs = 1;
    s.seed = seed;
    /* The same seed for every queue: the same arrivals and service times,
     * so that the refusals fall with the queue run for run and a bisection
     * finds the smallest queue within the budget. */
    int lo = 0, hi = max_queue;
    double ref_hi = NAN;
    for (int first = 1; lo < hi || first; first = 0) {
        int qd = first ? hi : lo + (hi - lo) / 2;
        f.capacity = p->servers + qd;
        stt_fleet_sim out;
        int rc = stt_fleet_simulate(&f, &s, &out, err, errlen);
        if (rc) return rc;
        if (first) {
            ref_hi = out.refused;
            if (out.refused > budget) break; /* not even the longest queue */
            continue;
        }
        if (out.refused <= budget) {
            hi = qd;
            ref_hi = out.refused;
        } else {
            lo = qd + 1;
        }
    }
    *queue = hi;
    *refused = ref_hi;
    return 0;
}
