/* fit: Amdahl and Universal Scalability Law fits (GSL), scaling verdicts. */
#include "fit.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *stt_fit_status_name(stt_fit_status s)
{
    switch (s) {
    case STT_FIT_EXACT:
        return "exact";
    case STT_FIT_OK:
        return "fit";
    case STT_FIT_FAILED:
        return "failed";
    default:
        return "not enough points";
    }
}

const char *stt_scaling_class_name(stt_scaling_class c)
{
    switch (c) {
    case STT_SCALING_LINEAR:
        return "linear";
    case STT_SCALING_SUBLINEAR:
        return "sub-linear";
    case STT_SCALING_RETROGRADE:
        return "retrograde";
    default:
        return "not enough points";
    }
}

double stt_amdahl_speedup(double s, double n)
{
    return 1.0 / (s + (1.0 - s) / n);
}

double stt_usl_eval(const stt_usl_fit *f, double n)
{
    return f->lambda * n / (1.0 + f->sigma * (n - 1.0) + f->kappa * n * (n - 1.0));
}

static int distinct(const double *n, size_t k)
{
    int d = 0;
    for (size_t i = 0; i < k; i++) {
        size_t j = 0;
        while (j < i && n[j] != n[i])
            j++;
        d += j == i;
    }
    return d;
}

typedef struct data {
    const double *n, *x;
    size_t k;
    int usl;
} data;

static int residuals(const gsl_vector *p, void *arg, gsl_vector *f)
{
    const data *d = arg;
    for (size_t i = 0; i < d->k; i++) {
        double n = d->n[i], m;
        if (d->usl) {
            double l = gsl_vector_get(p, 0), s = gsl_vector_get(p, 1), c = gsl_vector_get(p, 2);
            m = l * n / (1.0 + s * (n - 1.0) + c * n * (n - 1.0));
        } else {
            double x1 = gsl_vector_get(p, 0), s = gsl_vector_get(p, 1);
            m = x1 / (s + (1.0 - s) / n);
        }
        gsl_vector_set(f, i, m - d->x[i]);
    }
    return GSL_SUCCESS;
}

/* Least squares of d's model from p0 (np parameters). Fills p, and when there
 * are residual degrees of freedom the half-widths of the 95% intervals. */
static int solve(data *d, size_t np, const double *p0, double *p, double *half)
{
    gsl_multifit_nlinear_fdf fdf = {0};
    fdf.f = residuals;
    fdf.n = d->k;
    fdf.p = np;
    fdf.params = d;
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, d->k, np);
    if (!w) return -1;
    gsl_vector_const_view v0 = gsl_vector_const_view_array(p0, np);
    gsl_multifit_nlinear_init(&v0.vector, &fdf, w);
    int info;
    int st = gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, w);
    gsl_vector *x = gsl_multifit_nlinear_position(w);
    for (size_t i = 0; i < np; i++)
        p[i] = gsl_vector_get(x, i);
    int ok = st == GSL_SUCCESS || st == GSL_EMAXITER;
    for (size_t i = 0; i < np; i++)
        ok = ok && isfinite(p[i]);
    if (ok && half && d->k > np) {
        gsl_matrix *cov = gsl_matrix_alloc(np, np);
        gsl_matrix *J = gsl_multifit_nlinear_jac(w);
        gsl_multifit_nlinear_covar(J, 0.0, cov);
        double chi, dof = (double)(d->k - np);
        gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), &chi);
        double t = gsl_cdf_tdist_Pinv(0.975, dof);
        for (size_t i = 0; i < np; i++)
            half[i] = t * sqrt(gsl_matrix_get(cov, i, i) * chi / dof);
        gsl_matrix_free(cov);
    }
    gsl_multifit_nlinear_free(w);
    return ok ? 0 : -1;
}

static int valid(const double *n, const double *x, size_t k)
{
    if (!n || !x) return 0;
    for (size_t i = 0; i < k; i++)
        if (!(n[i] > 0) || !(x[i] > 0) || !isfinite(n[i]) || !isfinite(x[i])) return 0;
    return 1;
}

int stt_fit_amdahl(const double *n, const double *x, size_t k, stt_amdahl_fit *out)
{
    memset(out, 0, sizeof *out);
    out->x1 = out->s = NAN;
    out->s_ci[0] = out->s_ci[1] = out->x1_ci[0] = out->x1_ci[1] = NAN;
    out->status = STT_FIT_NOT_ENOUGH;
    if (!valid(n, x, k)) return STT_EINVAL;
    out->points = distinct(n, k);
    if (out->points < 2) return 0;
    /* Start from the line through the origin of 1/X against 1/n, which is
     * what Amdahl is: 1/X = (s + (1 - s)/n) / X1 (GSL's linear fit). */
    double *u = malloc(k * sizeof *u), *y = malloc(k * sizeof *y);
    if (!u || !y) {
        free(u);
        free(y);
        return STT_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        u[i] = 1.0 / n[i];
        y[i] = 1.0 / x[i];
    }
    double c0, c1, c00, c01, c11, ss;
    gsl_fit_linear(u, 1, y, 1, k, &c0, &c1, &c00, &c01, &c11, &ss);
    free(u);
    free(y);
    double x1 = 1.0 / (c0 + c1), p0[2] = {x1 > 0 ? x1 : x[0], c0 * x1}, p[2], half[2] = {NAN, NAN};
    if (!isfinite(p0[1])) p0[1] = 0.1;
    data d = {n, x, k, 0};
    if (solve(&d, 2, p0, p, half)) {
        out->status = STT_FIT_FAILED;
        return 0;
    }
    out->x1 = p[0];
    out->s = p[1];
    if (out->points == 2) {
        out->status = STT_FIT_EXACT;
    } else {
        out->status = STT_FIT_OK;
        out->x1_ci[0] = p[0] - half[0];
        out->x1_ci[1] = p[0] + half[0];
        out->s_ci[0] = p[1] - half[1];
        out->s_ci[1] = p[1] + half[1];
    }
    return 0;
}

int stt_fit_usl(const double *n, const double *x, size_t k, stt_usl_fit *out)
{
    memset(out, 0, sizeof *out);
    out->lambda = out->sigma = out->kappa = out->peak_n = NAN;
    for (int i = 0; i < 2; i++)
        out->lambda_ci[i] = out->sigma_ci[i] = out->kappa_ci[i] = NAN;
    out->status = STT_FIT_NOT_ENOUGH;
    if (!valid(n, x, k)) return STT_EINVAL;
    out->points = distinct(n, k);
    if (out->points < 3) return 0;
    /* λ from the smallest n (X(1) = λ), σ from Amdahl, κ small: a start near
     * the usual basin; a second start from κ = 0 guards against a poor one. */
    size_t i0 = 0;
    for (size_t i = 1; i < k; i++)
        if (n[i] < n[i0]) i0 = i;
    stt_amdahl_fit a;
    stt_fit_amdahl(n, x, k, &a);
    double s0 = isfinite(a.s) ? fmax(0.0, fmin(a.s, 0.9)) : 0.05;
    double starts[2][3] = {{x[i0] / n[i0], s0, 1e-4}, {x[i0] / n[i0], 0.0, 0.0}};
    double best[3], bhalf[3], bss = INFINITY;
    data d = {n, x, k, 1};
    for (int t = 0; t < 2; t++) {
        double p[3], half[3] = {NAN, NAN, NAN};
        if (solve(&d, 3, starts[t], p, half)) continue;
        double ss = 0;
        for (size_t i = 0; i < k; i++) {
            double m = p[0] * n[i] / (1 + p[1] * (n[i] - 1) + p[2] * n[i] * (n[i] - 1));
            ss += (m - x[i]) * (m - x[i]);
        }
        if (ss < bss) {
            bss = ss;
            memcpy(best, p, sizeof best);
            memcpy(bhalf, half, sizeof bhalf);
        }
    }
    if (!isfinite(bss)) {
        out->status = STT_FIT_FAILED;
        return 0;
    }
    out->lambda = best[0];
    out->sigma = best[1];
    out->kappa = best[2];
    if (out->kappa > 0 && out->sigma < 1) out->peak_n = sqrt((1.0 - out->sigma) / out->kappa);
    if (out->points == 3) {
        out->status = STT_FIT_EXACT;
    } else {
        out->status = STT_FIT_OK;
        double *ci[3] = {out->lambda_ci, out->sigma_ci, out->kappa_ci};
        for (int i = 0; i < 3; i++) {
            ci[i][0] = best[i] - bhalf[i];
            ci[i][1] = best[i] + bhalf[i];
        }
    }
    return 0;
}

int stt_amdahl_diminishing(double s)
{
    if (!(s > 0)) return 0;
    for (int n = 1; n < 1 << 20; n++)
        if (stt_amdahl_speedup(s, n + 1) - stt_amdahl_speedup(s, n) < 0.5) return n;
    return 1 << 20;
}

stt_scaling_class stt_fit_classify(const double *n, const double *x, size_t k)
{
    if (k < 2 || !valid(n, x, k)) return STT_SCALING_NOT_ENOUGH;
    for (size_t i = 1; i < k; i++)
        if (x[i] < x[i - 1]) return STT_SCALING_RETROGRADE;
    double e = (x[k - 1] / x[0]) * n[0] / n[k - 1];
    return e >= 0.9 ? STT_SCALING_LINEAR : STT_SCALING_SUBLINEAR;
}

double stt_fit_diminishing(const double *n, const double *x, size_t k)
{
    if (k < 2 || !valid(n, x, k)) return -1;
    double first = x[0] / n[0];
    for (size_t i = 1; i < k; i++) {
        double gain = (x[i] - x[i - 1]) / (n[i] - n[i - 1]);
        if (gain < 0.5 * first) return n[i - 1];
    }
    return -1;
}

int stt_fit_optimal_threads(const int *threads, const double *latency, size_t k, double tie)
{
    int best = -1;
    for (size_t i = 0; i < k; i++)
        if (isfinite(latency[i]) && (best < 0 || latency[i] < latency[best])) best = (int)i;
    if (best < 0) return -1;
    int pick = best;
    for (size_t i = 0; i < k; i++)
        if (isfinite(latency[i]) && latency[i] <= latency[best] * (1.0 + tie) &&
            threads[i] < threads[pick])
            pick = (int)i;
    return pick;
}
