/* queueing: Erlang C and the Allen-Cunneen M/G/c approximation. */
#include "queueing.h"

#include <math.h>

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
    double wsum = 0, m1 = 0, m2 = 0, smax = 0;
    for (size_t i = 0; i < p->n; i++) {
        double w = p->weight ? p->weight[i] : 1.0;
        double s = p->service_s[i];
        if (!(w >= 0) || !(s >= 0) || !isfinite(s))
            return stt_seterr(err, errlen, STT_EINVAL, "bad service time or weight at %zu", i);
        wsum += w;
        m1 += w * s;
        m2 += w * s * s;
        if (s > smax) smax = s;
    }
    if (!(wsum > 0) || !(m1 > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "service times must have a positive mean");
    m1 /= wsum;
    m2 /= wsum;
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
