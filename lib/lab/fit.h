/* fit: scaling laws fitted to throughput (or 1/latency) against core count,
 * and the verdicts drawn from them.
 *
 * Amdahl:  X(n) = X1 / (s + (1 - s) / n)               (parameters X1, s)
 * USL:     X(n) = λ n / (1 + σ (n - 1) + κ n (n - 1))  (parameters λ, σ, κ)
 *
 * Both are least-squares fits in X (GSL gsl_multifit_nlinear, trust region),
 * with 95% intervals from the covariance matrix scaled by the residual
 * variance and Student's t. With exactly as many distinct core counts as
 * parameters a fit is "exact" (it passes through every point; no interval);
 * with fewer it is "not enough points" and its numbers are NaN.
 *
 * Pure functions, no I/O; thread-safe.
 */
#ifndef STT_FIT_H
#define STT_FIT_H

#include <stddef.h>

typedef enum {
    STT_FIT_NOT_ENOUGH, /* fewer distinct core counts than parameters */
    STT_FIT_EXACT,      /* as many as parameters: solved, no interval */
    STT_FIT_OK,         /* least squares with intervals */
    STT_FIT_FAILED      /* the solver did not converge */
} stt_fit_status;

/* "not enough points", "exact", "fit", "failed". */
const char *stt_fit_status_name(stt_fit_status s);

typedef struct stt_amdahl_fit {
    stt_fit_status status;
    int points;     /* distinct core counts used */
    double x1;      /* throughput at one core */
    double s;       /* serial fraction */
    double s_ci[2]; /* 95% interval; NaN unless status == STT_FIT_OK */
    double x1_ci[2];
} stt_amdahl_fit;

typedef struct stt_usl_fit {
    stt_fit_status status;
    int points;
    double lambda, sigma, kappa;
    double lambda_ci[2], sigma_ci[2], kappa_ci[2];
    double peak_n; /* sqrt((1 - σ) / κ) when κ > 0, else NaN */
} stt_usl_fit;

/* n[i] > 0 core counts (any order, repeats allowed), x[i] > 0 throughputs.
 * Return 0, or STT_EINVAL for bad input (then out->status is NOT_ENOUGH). */
int stt_fit_amdahl(const double *n, const double *x, size_t k, stt_amdahl_fit *out);
int stt_fit_usl(const double *n, const double *x, size_t k, stt_usl_fit *out);

/* Amdahl speedup at n for serial fraction s: 1 / (s + (1 - s) / n). */
double stt_amdahl_speedup(double s, double n);
double stt_usl_eval(const stt_usl_fit *f, double n);

/* The smallest whole n at which one more core adds less than half the speedup
 * the first core gave (S(n+1) - S(n) < 0.5), by Amdahl with serial fraction s;
 * 0 when s <= 0 (never, in theory). */
int stt_amdahl_diminishing(double s);

typedef enum {
    STT_SCALING_NOT_ENOUGH,
    STT_SCALING_LINEAR,     /* efficiency >= 0.9 at the largest n */
    STT_SCALING_SUBLINEAR,  /* below that, still rising */
    STT_SCALING_RETROGRADE, /* throughput falls at some larger n */
} stt_scaling_class;

/* "not enough points", "linear", "sub-linear", "retrograde". */
const char *stt_scaling_class_name(stt_scaling_class c);

/* Points sorted by increasing n with distinct n (k >= 2 needed). Efficiency is
 * relative to the smallest n: E(n) = (X(n) / X(n0)) * n0 / n. */
stt_scaling_class stt_fit_classify(const double *n, const double *x, size_t k);

/* Measured diminishing-returns point on sorted, distinct n: the core count
 * n[i-1] after which each added core gives less than half the per-core gain of
 * the first n[0] cores (X(n0) / n0). Returns -1 when that never happens. */
double stt_fit_diminishing(const double *n, const double *x, size_t k);

/* Index of the lowest latency among k candidates; a candidate within tie
 * (relative, e.g. 0.03) of the best counts as tied, and of tied ones the one
 * with the fewest threads wins. -1 when k == 0 or no latency is finite. */
int stt_fit_optimal_threads(const int *threads, const double *latency, size_t k, double tie);

#endif
