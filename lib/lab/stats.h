/* stats: the statistics every figure of the laboratory obeys.
 *
 * A figure is a sample of repeated measurements summarised as n, median and a
 * 95% interval; a comparison is a ratio of medians with its interval and a
 * rank test; a decision is an interval set against a threshold, and says
 * "undetermined" when the interval straddles it. Rules of DESIGN.md's
 * "Measurement rules" live here once: percentiles only when n supports them,
 * the perf_analyzer stability rule, order-statistic and bootstrap intervals.
 *
 * Pure functions on caller-owned arrays (inputs are not modified), no I/O;
 * thread-safe. Bootstrap resampling is deterministic for a given seed.
 * Sources: order-statistic intervals for quantiles (Conover, Practical
 * Nonparametric Statistics, 3rd ed., sec. 3.2); Mann-Whitney U with the
 * exact distribution for small untied samples and the normal approximation
 * with tie correction otherwise (as benchstat does); the exact binomial sign
 * test (as NIST sc_stats does for paired word errors).
 */
#ifndef STT_STATS_H
#define STT_STATS_H

#include <stddef.h>
#include <stdint.h>

/* An interval and what it achieved. */
typedef struct stt_interval {
    double lo, hi;
    double coverage; /* the interval's actual confidence (order statistics are
                      * discrete): >= the level asked for, or less when n is
                      * too small to reach it (then the widest interval) */
} stt_interval;

/* A sample summarised. */
typedef struct stt_summary {
    size_t n;
    double median, mean, min, max;
    stt_interval median_ci; /* distribution-free, order statistics */
} stt_summary;

/* Summarises x[0..n) (n >= 1; NaNs are skipped) with a `level` (0.95)
 * interval of the median. Returns 0, or STT_EINVAL when no value is finite
 * (out is then all NaN with n = 0). */
int stt_stats_summarize(const double *x, size_t n, double level, stt_summary *out);

/* The p-quantile (0 <= p <= 1) of x by linear interpolation between order
 * statistics (R's type 7). NaN when n == 0. */
double stt_stats_quantile(const double *x, size_t n, double p);

/* Distribution-free interval [x_(l), x_(u)] for the p-quantile at `level`.
 * Returns 0; when n is too small to reach level, the widest interval with
 * its smaller coverage. STT_EINVAL when n == 0. */
int stt_stats_quantile_ci(const double *x, size_t n, double p, double level, stt_interval *out);

/* Whether n samples support reporting the percentile pct (e.g. 99): there
 * must be at least 1 / (1 - pct/100) of them (p99 needs 100, p95 20). */
int stt_stats_percentile_supported(size_t n, double pct);

/* The perf_analyzer stability rule: 1 when the last k (>= 2) values each lie
 * within tol (0.10) of their mean; 0 when they do not or n < k. */
int stt_stats_stable(const double *v, size_t n, size_t k, double tol);

/* Ratio of medians median(b) / median(a) ("head over base") with a
 * percentile-bootstrap interval at level (resamples >= 200; seed fixes the
 * resampling). Returns 0 or STT_EINVAL (a sample empty, a median <= 0). */
int stt_stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double level,
                       int resamples, uint64_t seed, double *ratio, stt_interval *out);

/* Two-sided Mann-Whitney U test of a against b: *u = U of a, *p the p-value.
 * Exact for untied samples with na * nb <= 400, the normal approximation with
 * tie and continuity correction otherwise. Returns 0 or STT_EINVAL (a sample
 * empty). p is 1 when every value is tied. */
int stt_stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u,
                           double *p);

/* Two-sided exact sign test on paired differences d[0..n): zeros are left
 * out; *p is the p-value, *pos / *neg (either may be NULL) the counts.
 * Returns 0 (p = 1 when no difference is non-zero) or STT_EINVAL (n == 0). */
int stt_stats_sign_test(const double *d, size_t n, double *p, int *pos, int *neg);

/* Where an interval lies against a threshold. */
typedef enum {
    STT_BELOW = -1,       /* hi < threshold */
    STT_UNDETERMINED = 0, /* the interval contains the threshold (or is NaN) */
    STT_ABOVE = 1,        /* lo > threshold */
} stt_side;

stt_side stt_stats_side(const stt_interval *ci, double threshold);

/* "below", "undetermined", "above". */
const char *stt_side_name(stt_side s);

/* A uniform double in [0, 1) from a 64-bit state (splitmix64): the one
 * deterministic generator the laboratory's simulations and resamplings use. */
double stt_stats_uniform(uint64_t *state);

#endif
