/* scaling: how a server scales with cores and with threads per request, from
 * measurements taken in interleaved rounds (rounds.h).
 *
 * The core series gives, per core count, the throughput and the latency of
 * one long request, both from the same configuration (never the best of one
 * row with the best of another); speedups and efficiencies against the
 * smallest core count as medians of per-round ratios with their intervals;
 * the class (linear / sub-linear / retrograde / undetermined, fit.h's one
 * threshold); Amdahl and USL fits held to their physical range, with round
 * bootstrap intervals; projections beyond the measured cores only from a fit
 * with parameters + 1 points, as a band, never used by any rule here; and
 * the diminishing-returns point: the first core count whose marginal gain,
 * interval included, falls below half of what the first added core gave.
 * Points marked excluded (unsaturated, unstable) are reported and kept out of
 * every one of these, and no rule decides from fewer than STT_ROUNDS_MIN
 * rounds.
 *
 * The thread search gives the number of threads per request with the best
 * latency at one stated load, its interval, and the thread counts that cannot
 * be told apart from it at this n.
 *
 * Pure functions, no I/O; thread-safe.
 */
#ifndef STT_SCALING_H
#define STT_SCALING_H

#include <stddef.h>
#include <stdint.h>

#include "fit.h"
#include "rounds.h"
#include "stats.h"

#define STT_SCALING_MAX 16 /* core counts of one series; thread counts of one search */
#define STT_SCALING_PROJ 8 /* projected core counts */

typedef struct stt_scaling_params {
    double level;  /* 0.95 */
    int resamples; /* round bootstrap resamples (2000) */
    uint64_t seed; /* (1) */
    int max_cores; /* the largest core count asked for; those beyond the measured
                    * ones up to it are reported as unmeasured (16) */
} stt_scaling_params;

stt_scaling_params stt_scaling_default_params(void);

/* The measurements: ncounts core counts (increasing, distinct), nrounds rounds.
 * x[i * nrounds + r] is the throughput of core count i in round r and lat[...]
 * the latency of one long request (lat may be NULL); NaN where missing.
 * excluded[i] (may be NULL) keeps the throughput of core count i out of
 * every decision (not saturated, not stable), lat_excluded[i] (may be NULL)
 * its latency (the configuration was not measured as asked). */
typedef struct stt_scaling_input {
    size_t ncounts, nrounds;
    const double *cores;
    const double *x, *lat;
    const int *excluded, *lat_excluded;
} stt_scaling_input;

typedef struct stt_scaling_point {
    double cores;
    int excluded;
    stt_summary x;   /* throughput over the rounds */
    stt_summary lat; /* long-request latency over the rounds */
    int lat_excluded;
    stt_estimate speedup;     /* X(c) / X(c0) * c0, per-round ratios; c0 = first included */
    stt_estimate efficiency;  /* speedup / c */
    stt_estimate lat_speedup; /* L(l0) / L(c) * l0; l0 = first included latency */
    stt_estimate gain_ratio;  /* marginal gain over the first added core's (third included on) */
} stt_scaling_point;

typedef enum {
    STT_DIM_NOT_ENOUGH,   /* fewer than three included core counts */
    STT_DIM_FOUND,        /* at `cores` */
    STT_DIM_NOT_REACHED,  /* every marginal gain, interval included, stays above the rule */
    STT_DIM_UNDETERMINED, /* an interval straddles the rule before any clears it */
} stt_dim_status;

/* "not enough core counts", "found", "not within the measured cores", "undetermined". */
const char *stt_dim_status_name(stt_dim_status s);

typedef struct stt_scaling_projection {
    double cores, speedup, lo, hi; /* Amdahl, from the fit and its interval: a band */
} stt_scaling_projection;

typedef struct stt_scaling {
    size_t n;
    stt_scaling_point pt[STT_SCALING_MAX];
    size_t nused;          /* included core counts */
    double measured_max;   /* the largest included core count (0: none) */
    int unmeasured_from;   /* the smallest power of two beyond the largest core count
                            * measured (included or not) up to max_cores, 0 when none */
    stt_scaling_class cls; /* from the efficiency interval at measured_max */
    int retrograde;        /* a larger core count was slower, interval included */
    stt_amdahl_fit amdahl; /* on the per-core-count medians of the included points */
    stt_estimate serial;   /* Amdahl's s with the round bootstrap interval, in [0, 1] */
    stt_usl_fit usl;
    stt_estimate sigma, kappa; /* round bootstrap, >= 0; none unless the USL fits */
    stt_estimate lat_serial;   /* Amdahl's s of 1 / long latency, same way */
    int nproj;                 /* 0 unless Amdahl may project (parameters + 1 points) */
    stt_scaling_projection proj[STT_SCALING_PROJ];
    stt_dim_status dim;
    double dim_cores; /* FOUND: the core count; UNDETERMINED: the first unclear one */
    char dim_why[256];
} stt_scaling;

/* Analyses in. Returns 0, or STT_EINVAL (no core counts, too many, not
 * increasing). */
int stt_scaling_analyse(const stt_scaling_input *in, const stt_scaling_params *p, stt_scaling *out);

/* ---- the thread search ---- */

/* lat[i * nrounds + r]: latency with threads[i] per request in round r. */
typedef struct stt_threads_input {
    size_t nthreads, nrounds;
    const int *threads;
    const double *lat;
} stt_threads_input;

typedef enum {
    STT_OPT_NOT_ENOUGH, /* fewer than two thread counts with measurements */
    STT_OPT_FOUND,      /* the best is faster than every other, interval included */
    STT_OPT_TIED,       /* some others cannot be told apart from the best at this n */
} stt_opt_status;

/* "not enough thread counts", "found", "tied". */
const char *stt_opt_status_name(stt_opt_status s);

typedef struct stt_threads_optimum {
    stt_opt_status status;
    int best;                            /* index of the lowest median latency, -1 none */
    int recommended;                     /* the fewest threads among the best and its ties */
    stt_summary lat[STT_SCALING_MAX];    /* per thread count */
    stt_estimate ratio[STT_SCALING_MAX]; /* latency(i) / latency(best), per round */
    int tied[STT_SCALING_MAX];           /* 1: ratio interval reaches 1 + margin */
} stt_threads_optimum;

/* The optimum of in; `margin` (0.03) is the latency difference that counts
 * as none: i ties with the best unless its ratio's interval lies wholly above
 * 1 + margin, from at least STT_ROUNDS_MIN rounds. Returns 0 or STT_EINVAL. */
int stt_threads_optimum_find(const stt_threads_input *in, double level, double margin,
                             stt_threads_optimum *out);

#endif
