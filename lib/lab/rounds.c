/* rounds: see rounds.h. */
#include "rounds.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

stt_estimate stt_estimate_none(void)
{
    stt_estimate e = {0, NAN, {NAN, NAN, NAN}, "not computable"};
    return e;
}

void stt_rounds_order(int nconfigs, int round, uint64_t seed, int *order)
{
    uint64_t st = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(round + 1));
    for (int i = 0; i < nconfigs; i++)
        order[i] = i;
    for (int i = nconfigs - 1; i > 0; i--) {
        int j = (int)(stt_stats_uniform(&st) * (i + 1));
        if (j > i) j = i;
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

int stt_rounds_ratio(const double *a, const double *b, size_t n, int invert, double level,
                     stt_estimate *out)
{
    *out = stt_estimate_none();
    double *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return STT_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i]) && a[i] > 0 && b[i] > 0)
            r[m++] = invert ? a[i] / b[i] : b[i] / a[i];
    stt_summary s;
    int rc = m ? stt_stats_summarize(r, m, level, &s) : STT_EINVAL;
    free(r);
    if (rc) return STT_EINVAL;
    out->n = s.n;
    out->value = s.median;
    out->ci = s.median_ci;
    out->method = "median of per-round ratios, order-statistic interval";
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int stt_rounds_bootstrap(size_t n, stt_rounds_stat stat, void *arg, double level, int resamples,
                         uint64_t seed, stt_estimate *out)
{
    *out = stt_estimate_none();
    if (n < 2 || !(level > 0 && level < 1) || !stat) return STT_EINVAL;
    if (resamples < 200) resamples = 200;
    size_t *idx = malloc(n * sizeof *idx);
    double *v = malloc((size_t)resamples * sizeof *v);
    if (!idx || !v) {
        free(idx);
        free(v);
        return STT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    out->n = n;
    out->value = stat(idx, n, arg);
    out->method = "round bootstrap (percentile)";
    uint64_t st = seed;
    size_t m = 0;
    for (int b = 0; b < resamples; b++) {
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)(stt_stats_uniform(&st) * (double)n);
            idx[i] = j < n ? j : n - 1;
        }
        double x = stat(idx, n, arg);
        if (isfinite(x)) v[m++] = x;
    }
    if (m * 2 >= (size_t)resamples && isfinite(out->value)) {
        qsort(v, m, sizeof *v, cmp_double);
        double alpha = (1 - level) / 2;
        out->ci.lo = stt_stats_quantile(v, m, alpha);
        out->ci.hi = stt_stats_quantile(v, m, 1 - alpha);
        out->ci.coverage = level;
    }
    free(idx);
    free(v);
    return 0;
}

stt_side stt_rounds_side(const stt_estimate *e, double margin, int *equivalent)
{
    if (equivalent) *equivalent = 0;
    if (!e || !isfinite(e->ci.lo) || !isfinite(e->ci.hi) || e->n < STT_ROUNDS_MIN)
        return STT_UNDETERMINED;
    if (e->ci.lo > 1 + margin) return STT_ABOVE;
    if (e->ci.hi < 1 - margin) return STT_BELOW;
    if (equivalent && e->ci.lo >= 1 - margin && e->ci.hi <= 1 + margin) *equivalent = 1;
    return STT_UNDETERMINED;
}

long stt_rounds_needed(const stt_estimate *e, double threshold)
{
    if (!e || !isfinite(e->value) || !isfinite(e->ci.lo) || !isfinite(e->ci.hi) || e->n == 0)
        return -1;
    double d = fabs(e->value - threshold);
    /* the half of the interval that faces the threshold */
    double w = e->value >= threshold ? e->value - e->ci.lo : e->ci.hi - e->value;
    if (w < d) return 0;
    if (!(d > 1e-12 * fabs(threshold) + 1e-300)) return -1;
    double need = (double)e->n * (w / d) * (w / d);
    return need > 1e6 ? 1000000 : (long)ceil(need);
}
