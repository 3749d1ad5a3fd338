/* fit: scaling laws fitted to throughput (or 1/latency) against core count,
 * held to their physical range, and the rules drawn from them.
 *
 * Amdahl:  X(n) = X1 / (s + (1 - s) / n)               (parameters X1, s)
 * USL:     X(n) = λ n / (1 + σ (n - 1) + κ n (n - 1))  (parameters λ, σ, κ)
 *
 * Both are least-squares fits in X (GSL gsl_multifit_nlinear, trust region)
 * constrained to the range where the law means something: Amdahl's serial
 * fraction s in [0, 1], USL's σ >= 0 and κ >= 0. When the unconstrained
 * optimum lies outside, the parameter is held at the bound and the others are
 * refitted (the least-squares optimum on the boundary), and `bounded` says so.
 * 95% intervals come from the covariance matrix scaled by the residual
 * variance and Student's t, clamped to the same range.
 *
 * With exactly as many distinct core counts as parameters a fit is "exact"
 * (it passes through every point, or as near as the bounds allow; no
 * interval); with fewer it is "not enough points" and its numbers are NaN.
 * A fit may be used to project beyond the measured cores only with at least
 * parameters + 1 distinct core counts (status STT_FIT_OK), and a projection
 * is never a measurement: it enters no decision.
 *
 * Pure functions, no I/O; thread-safe.
 */
#ifndef STT_FIT_H
#define STT_FIT_H

#include <stddef.h>

/* The one threshold for "linear" scaling: efficiency S(n) / n (relative to
 * the smallest core count) of at least this at the largest core count. */
#define STT_FIT_LINEAR_EFFICIENCY 0.9

/* The diminishing-returns rule: a core count whose marginal gain per added
 * core is below this fraction of what the first added core gave. */
#define STT_FIT_DIMINISHING_FRACTION 0.5

typedef enum {
    STT_FIT_NOT_ENOUGH, /* fewer distinct core counts than parameters */
    STT_FIT_EXACT,      /* as many as parameters: solved, no interval, no projection */
    STT_FIT_OK,         /* least squares with intervals; may project */
    STT_FIT_FAILED      /* the solver did not converge */
} stt_fit_status;

/* "not enough points", "exact", "fit", "failed". */
const char *stt_fit_status_name(stt_fit_status s);

typedef struct stt_amdahl_fit {
    stt_fit_status status;
    int points;     /* distinct core counts used */
    double x1;      /* throughput at one core */
    double s;       /* serial fraction, in [0, 1] */
    int bounded;    /* s was held at 0 or 1: the data lie outside Amdahl's range */
    double s_ci[2]; /* 95% interval within [0, 1]; NaN unless status == STT_FIT_OK */
    double x1_ci[2];
} stt_amdahl_fit;

typedef struct stt_usl_fit {
    stt_fit_status status;
    int points;
    double lambda, sigma, kappa; /* sigma, kappa >= 0 */
    int sigma_bounded, kappa_bounded;
    double lambda_ci[2], sigma_ci[2], kappa_ci[2]; /* NaN unless STT_FIT_OK; lower ends >= 0 */
    double peak_n; /* sqrt((1 - σ) / κ) when κ > 0 and status == STT_FIT_OK, else NaN */
} stt_usl_fit;

/* n[i] > 0 core counts (any order, repeats allowed), x[i] > 0 throughputs.
 * Return 0, or STT_EINVAL for bad input (then out->status is NOT_ENOUGH). */
int stt_fit_amdahl(const double *n, const double *x, size_t k, stt_amdahl_fit *out);
int stt_fit_usl(const double *n, const double *x, size_t k, stt_usl_fit *out);

/* Whether the fit may be used beyond the measured core counts: parameters + 1
 * distinct core counts or more (status STT_FIT_OK). */
int stt_fit_amdahl_projects(const stt_amdahl_fit *f);
int stt_fit_usl_projects(const stt_usl_fit *f);

/* Amdahl speedup at n for serial fraction s: 1 / (s + (1 - s) / n). */
double stt_amdahl_speedup(double s, double n);
double stt_usl_eval(const stt_usl_fit *f, double n);

/* The serial fraction that gives speedup S at n cores relative to n0 cores,
 * clamped to [0, 1]: the exact two-point solution. NaN for bad input. */
double stt_amdahl_serial_fraction(double n0, double n, double speedup);

typedef enum {
    STT_SCALING_NOT_ENOUGH,   /* no interval (fewer than two core counts) */
    STT_SCALING_LINEAR,       /* the whole efficiency interval >= STT_FIT_LINEAR_EFFICIENCY */
    STT_SCALING_SUBLINEAR,    /* the whole interval below it */
    STT_SCALING_RETROGRADE,   /* throughput fell, interval included, at a larger core count */
    STT_SCALING_UNDETERMINED, /* the interval straddles the threshold */
} stt_scaling_class;

/* "not enough points", "linear", "sub-linear", "retrograde", "undetermined". */
const char *stt_scaling_class_name(stt_scaling_class c);

/* The class of an efficiency interval [lo, hi] at the largest core count;
 * retrograde (non-zero) wins over the interval. NaN ends: not enough. */
stt_scaling_class stt_fit_classify(double eff_lo, double eff_hi, int retrograde);

/* The diminishing-returns rule on point values, sorted by increasing distinct
 * n: the first n[i] (i >= 2) whose marginal gain (X(n[i]) - X(n[i-1])) /
 * (n[i] - n[i-1]) is below STT_FIT_DIMINISHING_FRACTION of the first added
 * core's gain (X(n[1]) - X(n[0])) / (n[1] - n[0]). Returns -1 when that never
 * happens among the points (or k < 3, or the first gain is not positive). */
double stt_fit_diminishing(const double *n, const double *x, size_t k);

/* The marginal gain at n[i] over the first added core's, as used by
 * stt_fit_diminishing() (i >= 2); NaN when undefined. */
double stt_fit_gain_ratio(const double *n, const double *x, size_t k, size_t i);

#endif
