/* queueing: Erlang C, the Allen-Cunneen M/G/c approximation and the
 * simulated FCFS queue. */
#include "queueing.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

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

/* The p->quantile of the response times of one simulated run (see
 * stt_mgc_simulate). pick draws a service-time index by weight, or is NULL for
 * equal weights. lat holds n, free_at p->servers (scratch). */
static double sim_run(gsl_rng *rng, const stt_mgc_params *p, const gsl_ran_discrete_t *pick,
                      double warmup_s, int n, double *lat, double *free_at)
{
    int c = p->servers;
    for (int j = 0; j < c; j++)
        free_at[j] = 0;
    double t = 0;
    for (int k = 0; k < n;) {
        t += gsl_ran_exponential(rng, 1.0 / p->lambda);
        int j = 0;
        for (int i = 1; i < c; i++)
            if (free_at[i] < free_at[j]) j = i;
        double start = t > free_at[j] ? t : free_at[j];
        size_t which =
            pick ? gsl_ran_discrete(rng, pick) : gsl_rng_uniform_int(rng, (unsigned long)p->n);
        free_at[j] = start + p->service_s[which];
        if (t >= warmup_s) lat[k++] = free_at[j] - t;
    }
    gsl_sort(lat, 1, (size_t)n);
    return lat[(size_t)ceil(p->quantile * n) - 1];
}

int stt_mgc_simulate(const stt_mgc_params *p, int requests, double warmup_s, int runs,
                     unsigned long seed, stt_mgc_sim *out, char *err, size_t errlen)
{
    if (!p || !out || requests < 1 || runs < 1 || !(warmup_s >= 0) || !isfinite(warmup_s) ||
        p->servers < 1 || !(p->lambda > 0) || !isfinite(p->lambda) || !p->service_s || p->n == 0 ||
        !(p->quantile > 0 && p->quantile < 1))
        return stt_seterr(err, errlen, STT_EINVAL, "bad simulation parameters");
    if (p->ca2 != 1.0)
        return stt_seterr(err, errlen, STT_EINVAL, "the simulation has Poisson arrivals (ca2 1)");
    /* gsl_rng_uniform_int draws below the generator's range (mt19937: 2^32). */
    if ((unsigned long long)p->n > 0xffffffffULL)
        return stt_seterr(err, errlen, STT_EINVAL, "too many service times");
    double wsum, m1, m2, smax;
    int rc = service_moments(p, &wsum, &m1, &m2, &smax, err, errlen);
    if (rc) return rc;

    int nmax = requests > STT_MGC_SIM_STEADY ? requests : STT_MGC_SIM_STEADY;
    double *lat = malloc((size_t)nmax * sizeof *lat);
    double *q = malloc((size_t)runs * sizeof *q);
    double *free_at = malloc((size_t)p->servers * sizeof *free_at);
    gsl_rng *rng = lat && q && free_at ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    /* Equal weights need no table: gsl_rng_uniform_int draws the index. */
    gsl_ran_discrete_t *pick = rng && p->weight ? gsl_ran_discrete_preproc(p->n, p->weight) : NULL;
    rc = STT_ENOMEM;
    if (rng && (pick || !p->weight)) {
        gsl_rng_set(rng, seed);
        for (int r = 0; r < runs; r++)
            q[r] = sim_run(rng, p, pick, warmup_s, requests, lat, free_at);
        gsl_sort(q, 1, (size_t)runs);
        out->lo = gsl_stats_quantile_from_sorted_data(q, 1, (size_t)runs, 0.05);
        out->mid = gsl_stats_quantile_from_sorted_data(q, 1, (size_t)runs, 0.50);
        out->hi = gsl_stats_quantile_from_sorted_data(q, 1, (size_t)runs, 0.95);
        out->steady = sim_run(rng, p, pick, 1000.0 / p->lambda, STT_MGC_SIM_STEADY, lat, free_at);
        rc = 0;
    }
    if (pick) gsl_ran_discrete_free(pick);
    gsl_rng_free(rng);
    free(free_at);
    free(q);
    free(lat);
    return rc ? stt_seterr(err, errlen, rc, "out of memory") : 0;
}
