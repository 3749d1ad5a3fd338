/* rounds: the statistics of configurations measured side by side in
 * interleaved rounds.
 *
 * A comparison measures every configuration once per round, in an order
 * shuffled afresh each round, for n >= 5 rounds: the machine's drift (about a
 * quarter from hour to hour on a shared VM) then moves all configurations of
 * a round alike, and the ratio of two configurations within a round cancels
 * it. So a comparison is the median of the per-round ratios with its
 * distribution-free order-statistic interval (stats.h), and a figure derived
 * from several configurations (a fitted serial fraction, a ratio of marginal
 * gains, a ratio of pooled percentiles) gets a percentile interval from the
 * round bootstrap: whole rounds are resampled with replacement, which keeps
 * the pairing and any correlation inside a round.
 *
 * Pure functions on caller-owned arrays, no I/O; thread-safe. Resampling is
 * deterministic for a given seed (stt_stats_uniform).
 */
#ifndef STT_ROUNDS_H
#define STT_ROUNDS_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* The fewest rounds a comparison may decide from: every compared
 * configuration is measured at least this many times. */
#define STT_ROUNDS_MIN 5

/* A figure with its interval and how the interval was obtained. */
typedef struct stt_estimate {
    size_t n;           /* rounds (or samples) behind it; 0: not computable */
    double value;       /* the point estimate; NaN when not computable */
    stt_interval ci;    /* lo, hi and the coverage achieved; NaN when not computable */
    const char *method; /* static text: "order statistics of per-round ratios", ... */
} stt_estimate;

/* An estimate that says "not computable". */
stt_estimate stt_estimate_none(void);

/* The order in which round `round` visits nconfigs configurations: a
 * permutation of 0..nconfigs-1 into order[], shuffled (Fisher-Yates) from seed
 * and round, so a run is reproducible and no configuration is always first. */
void stt_rounds_order(int nconfigs, int round, uint64_t seed, int *order);

/* The per-round ratios b[i] / a[i] (rounds where both are finite and > 0)
 * summarised as their median with a `level` order-statistic interval. With
 * invert, a[i] / b[i]. Returns 0, or STT_EINVAL when no round has both (out is
 * then stt_estimate_none()). */
int stt_rounds_ratio(const double *a, const double *b, size_t n, int invert, double level,
                     stt_estimate *out);

/* A statistic of the rounds idx[0..n) (indices into the caller's data, with
 * repeats); NaN when it cannot be computed for that resample. */
typedef double (*stt_rounds_stat)(const size_t *idx, size_t n, void *arg);

/* The round bootstrap: value = stat of the rounds as measured (0..n-1), and a
 * `level` percentile interval from `resamples` (>= 200) resamples of n rounds
 * with replacement; resamples where stat is NaN are left out (if more than
 * half are, the interval is NaN). Returns 0, STT_EINVAL (n < 2, bad level) or
 * STT_ENOMEM. out->ci.coverage is the nominal level: the bootstrap does not
 * know its own. */
int stt_rounds_bootstrap(size_t n, stt_rounds_stat stat, void *arg, double level, int resamples,
                         uint64_t seed, stt_estimate *out);

/* Where an estimate lies against the band [1 - margin, 1 + margin] around
 * "no difference": STT_ABOVE when its whole interval is above 1 + margin,
 * STT_BELOW when below 1 - margin, STT_UNDETERMINED otherwise; *equivalent is
 * set (may be NULL) when the whole interval lies inside the band. An
 * estimate from fewer than STT_ROUNDS_MIN rounds is always undetermined. */
stt_side stt_rounds_side(const stt_estimate *e, double margin, int *equivalent);

/* About how many rounds would make an interval [lo, hi] around est clear the
 * threshold, if its width shrinks as 1 / sqrt(n) from n: 0 when it already
 * does, -1 when est sits on the threshold (more rounds cannot settle it). */
long stt_rounds_needed(const stt_estimate *e, double threshold);

#endif
