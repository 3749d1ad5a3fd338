/* stats: see stats.h. */
#include "stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A sorted copy of the finite values of x; *m gets how many. NULL when none
 * (or out of memory). */
static double *sorted_finite(const double *x, size_t n, size_t *m)
{
    *m = 0;
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) s[(*m)++] = x[i];
    if (!*m) {
        free(s);
        return NULL;
    }
    qsort(s, *m, sizeof *s, cmp_double);
    return s;
}

static double quantile_sorted(const double *s, size_t n, double p)
{
    if (!n) return NAN;
    if (p <= 0) return s[0];
    if (p >= 1) return s[n - 1];
    double h = (double)(n - 1) * p;
    size_t i = (size_t)floor(h);
    double f = h - (double)i;
    return i + 1 < n ? s[i] + f * (s[i + 1] - s[i]) : s[i];
}

double stt_stats_quantile(const double *x, size_t n, double p)
{
    size_t m;
    double *s = sorted_finite(x, n, &m);
    double q = s ? quantile_sorted(s, m, p) : NAN;
    free(s);
    return q;
}

/* P(B <= k) for B ~ Binomial(n, p); 0 for k < 0. */
static double binom_cdf(long k, size_t n, double p)
{
    if (k < 0) return 0;
    if ((size_t)k >= n) return 1;
    return gsl_cdf_binomial_P((unsigned)k, p, (unsigned)n);
}

/* On sorted s: [s_(l), s_(u)] (1-based) where the number B of values below the
 * true quantile satisfies l <= B < u with probability >= level, symmetric in
 * the tails. */
static void quantile_ci_sorted(const double *s, size_t n, double p, double level, stt_interval *out)
{
    double alpha = (1 - level) / 2;
    long l = 0, u = (long)n + 1;
    for (long k = 1; k <= (long)n; k++) /* largest l with P(B <= l-1) <= alpha */
        if (binom_cdf(k - 1, n, p) <= alpha) l = k;
    for (long k = (long)n; k >= 1; k--) /* smallest u with P(B <= u-1) >= 1-alpha */
        if (binom_cdf(k - 1, n, p) >= 1 - alpha) u = k;
    if (l < 1) l = 1;
    if (u > (long)n) u = (long)n;
    if (u < l) u = l;
    out->lo = s[l - 1];
    out->hi = s[u - 1];
    out->coverage = binom_cdf(u - 1, n, p) - binom_cdf(l - 1, n, p);
}

int stt_stats_quantile_ci(const double *x, size_t n, double p, double level, stt_interval *out)
{
    out->lo = out->hi = out->coverage = NAN;
    size_t m;
    double *s = sorted_finite(x, n, &m);
    if (!s) return STT_EINVAL;
    quantile_ci_sorted(s, m, p, level, out);
    free(s);
    return 0;
}

int stt_stats_summarize(const double *x, size_t n, double level, stt_summary *out)
{
    out->n = 0;
    out->median = out->mean = out->min = out->max = NAN;
    out->median_ci = (stt_interval){NAN, NAN, NAN};
    size_t m;
    double *s = sorted_finite(x, n, &m);
    if (!s) return STT_EINVAL;
    double sum = 0;
    for (size_t i = 0; i < m; i++)
        sum += s[i];
    out->n = m;
    out->mean = sum / (double)m;
    out->min = s[0];
    out->max = s[m - 1];
    out->median = quantile_sorted(s, m, 0.5);
    quantile_ci_sorted(s, m, 0.5, level, &out->median_ci);
    free(s);
    return 0;
}

int stt_stats_percentile_supported(size_t n, double pct)
{
    if (!(pct > 0) || !(pct < 100)) return 0;
    /* 1e-9: 1 / (1 - 0.99) is 99.99999999999991 in binary. */
    return (double)n + 1e-9 >= 1.0 / (1.0 - pct / 100.0);
}

int stt_stats_stable(const double *v, size_t n, size_t k, double tol)
{
    if (k < 2 || n < k) return 0;
    double mean = 0;
    for (size_t i = n - k; i < n; i++) {
        if (!isfinite(v[i])) return 0;
        mean += v[i];
    }
    mean /= (double)k;
    for (size_t i = n - k; i < n; i++)
        if (fabs(v[i] - mean) > tol * fabs(mean)) return 0;
    return 1;
}

double stt_stats_uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

/* The median of a resample (with replacement) of s[0..n), using tmp[n]. */
static double resampled_median(const double *s, size_t n, double *tmp, uint64_t *st)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)(stt_stats_uniform(st) * (double)n);
        tmp[i] = s[j < n ? j : n - 1];
    }
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return quantile_sorted(tmp, n, 0.5);
}

int stt_stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double level,
                       int resamples, uint64_t seed, double *ratio, stt_interval *out)
{
    *ratio = NAN;
    out->lo = out->hi = out->coverage = NAN;
    size_t ma, mb;
    double *sa = sorted_finite(a, na, &ma), *sb = sorted_finite(b, nb, &mb);
    int rc = STT_EINVAL;
    if (!sa || !sb) goto out;
    double meda = quantile_sorted(sa, ma, 0.5), medb = quantile_sorted(sb, mb, 0.5);
    if (!(meda > 0) || !(medb > 0)) goto out;
    *ratio = medb / meda;
    if (resamples < 200) resamples = 200;
    double *r = malloc((size_t)resamples * sizeof *r);
    double *tmp = malloc((ma > mb ? ma : mb) * sizeof *tmp);
    if (!r || !tmp) {
        free(r);
        free(tmp);
        rc = STT_ENOMEM;
        goto out;
    }
    uint64_t st = seed;
    int k = 0;
    for (int i = 0; i < resamples; i++) {
        double x = resampled_median(sa, ma, tmp, &st), y = resampled_median(sb, mb, tmp, &st);
        if (x > 0) r[k++] = y / x;
    }
    qsort(r, (size_t)k, sizeof *r, cmp_double);
    double alpha = (1 - level) / 2;
    out->lo = quantile_sorted(r, (size_t)k, alpha);
    out->hi = quantile_sorted(r, (size_t)k, 1 - alpha);
    out->coverage = level;
    free(r);
    free(tmp);
    rc = 0;
out:
    free(sa);
    free(sb);
    return rc;
}

/* Exact P(U <= u) for untied samples of sizes m and n: counts of the ways
 * to reach each U, by the recurrence c(m, n, u) = c(m-1, n, u-n) + c(m, n-1, u). */
static double exact_u_cdf(size_t m, size_t n, double u)
{
    size_t max = m * n;
    /* f[j][k]: ways with j values of a among the first j+i, as a rolling table
     * over n; small sizes only (m * n <= 400). */
    double *f = calloc((m + 1) * (n + 1) * (max + 1), sizeof *f);
    if (!f) return NAN;
#define F(j, k, s) f[((j) * (n + 1) + (k)) * (max + 1) + (s)]
    for (size_t j = 0; j <= m; j++)
        for (size_t k = 0; k <= n; k++) {
            if (!j || !k) {
                F(j, k, 0) = 1;
                continue;
            }
            for (size_t s = 0; s <= j * k; s++) {
                double v = F(j, k - 1, s);
                if (s >= k) v += F(j - 1, k, s - k);
                F(j, k, s) = v;
            }
        }
    double total = 0, below = 0;
    for (size_t s = 0; s <= max; s++) {
        total += F(m, n, s);
        if ((double)s <= u + 1e-9) below += F(m, n, s);
    }
#undef F
    free(f);
    return below / total;
}

int stt_stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u,
                           double *p)
{
    *u = *p = NAN;
    if (!na || !nb) return STT_EINVAL;
    size_t n = na + nb;
    typedef struct {
        double v;
        int from_a;
    } obs;
    obs *o = malloc(n * sizeof *o);
    double *rank = malloc(n * sizeof *rank);
    if (!o || !rank) {
        free(o);
        free(rank);
        return STT_ENOMEM;
    }
    for (size_t i = 0; i < na; i++)
        o[i] = (obs){a[i], 1};
    for (size_t i = 0; i < nb; i++)
        o[na + i] = (obs){b[i], 0};
    /* Insertion sort keeps the code short; samples are repeats (tens). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && o[j - 1].v > o[j].v; j--) {
            obs t = o[j];
            o[j] = o[j - 1];
            o[j - 1] = t;
        }
    double ties = 0; /* sum of t^3 - t over tied groups */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && o[j + 1].v == o[i].v)
            j++;
        double r = (double)(i + j + 2) / 2; /* mean of ranks i+1 .. j+1 */
        for (size_t k = i; k <= j; k++)
            rank[k] = r;
        double t = (double)(j - i + 1);
        ties += t * t * t - t;
        i = j + 1;
    }
    double ra = 0;
    for (size_t i = 0; i < n; i++)
        if (o[i].from_a) ra += rank[i];
    free(o);
    free(rank);
    double m1 = (double)na, m2 = (double)nb;
    *u = ra - m1 * (m1 + 1) / 2;
    double mu = m1 * m2 / 2;
    if (ties == 0 && na * nb <= 400) {
        double lo = fmin(*u, m1 * m2 - *u);
        double pv = 2 * exact_u_cdf(na, nb, lo);
        *p = pv > 1 ? 1 : pv;
        return 0;
    }
    double var = m1 * m2 / 12 * ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
    if (!(var > 0)) {
        *p = 1;
        return 0;
    }
    double z = (fabs(*u - mu) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    *p = 2 * gsl_cdf_ugaussian_Q(z);
    if (*p > 1) *p = 1;
    return 0;
}

int stt_stats_sign_test(const double *d, size_t n, double *p, int *pos, int *neg)
{
    *p = NAN;
    if (!n) return STT_EINVAL;
    int np = 0, nn = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] > 0) np++;
        if (d[i] < 0) nn++;
    }
    if (pos) *pos = np;
    if (neg) *neg = nn;
    size_t m = (size_t)(np + nn);
    if (!m) {
        *p = 1;
        return 0;
    }
    int k = np < nn ? np : nn;
    double pv = 2 * binom_cdf(k, m, 0.5);
    *p = pv > 1 ? 1 : pv;
    return 0;
}

stt_side stt_stats_side(const stt_interval *ci, double threshold)
{
    if (ci->lo > threshold && ci->hi > threshold) return STT_ABOVE;
    if (ci->hi < threshold && ci->lo < threshold) return STT_BELOW;
    return STT_UNDETERMINED;
}

const char *stt_side_name(stt_side s)
{
    return s == STT_ABOVE ? "above" : s == STT_BELOW ? "below" : "undetermined";
}
