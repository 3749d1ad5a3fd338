/* fit: Amdahl and Universal Scalability Law fits (GSL), held to their
 * physical range, and the scaling rules. */
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
    case STT_SCALING_UNDETERMINED:
        return "undetermined";
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

double stt_amdahl_serial_fraction(double n0, double n, double speedup)
{
    /* S = (s + (1 - s)/n0) / (s + (1 - s)/n), solved for s. */
    if (!(n0 > 0) || !(n > n0) || !(speedup > 0) || !isfinite(speedup)) return NAN;
    double a = 1.0 / n0, b = 1.0 / n;
    double s = (a - speedup * b) / (speedup * (1 - b) - (1 - a));
    if (!isfinite(s)) return speedup >= n / n0 ? 0 : 1;
    return s < 0 ? 0 : s > 1 ? 1 : s;
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

/* A model with some parameters held fixed: the solver sees only the free
 * ones, in order; fixed ones keep their value from full[]. */
typedef struct data {
    const double *n, *x;
    size_t k;
    int usl;
    size_t np;      /* all parameters: 2 (Amdahl) or 3 (USL) */
    int fixed[3];   /* 1: held at full[i] */
    double full[3]; /* the whole parameter vector */
} data;

static double model(const data *d, const double *p, double n)
{
    if (d->usl) return p[0] * n / (1.0 + p[1] * (n - 1.0) + p[2] * n * (n - 1.0));
    return p[0] / (p[1] + (1.0 - p[1]) / n);
}

static void expand(const data *d, const gsl_vector *free_p, double *p)
{
    size_t j = 0;
    for (size_t i = 0; i < d->np; i++)
        p[i] = d->fixed[i] ? d->full[i] : gsl_vector_get(free_p, j++);
}

static int residuals(const gsl_vector *fp, void *arg, gsl_vector *f)
{
    const data *d = arg;
    double p[3];
    expand(d, fp, p);
    for (size_t i = 0; i < d->k; i++)
        gsl_vector_set(f, i, model(d, p, d->n[i]) - d->x[i]);
    return GSL_SUCCESS;
}

static double sse(const data *d, const double *p)
{
    double s = 0;
    for (size_t i = 0; i < d->k; i++) {
        double r = model(d, p, d->n[i]) - d->x[i];
        s += r * r;
    }
    return s;
}

/* Least squares of d's free parameters from the start d->full. Fills p (all
 * parameters) and, when there are residual degrees of freedom, half (the
 * half-widths of the 95% intervals of the free parameters; fixed ones NaN).
 * Returns 0, or -1 when the solver failed. */
static int solve(data *d, double *p, double *half)
{
    size_t nfree = 0;
    for (size_t i = 0; i < d->np; i++)
        nfree += !d->fixed[i];
    for (size_t i = 0; i < d->np; i++) {
        p[i] = d->full[i];
        if (half) half[i] = NAN;
    }
    if (nfree == 0) return 0;
    if (d->k < nfree) return -1;
    double p0[3];
    size_t j = 0;
    for (size_t i = 0; i < d->np; i++)
        if (!d->fixed[i]) p0[j++] = d->full[i];
    gsl_multifit_nlinear_fdf fdf = {0};
    fdf.f = residuals;
    fdf.n = d->k;
    fdf.p = nfree;
    fdf.params = d;
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, d->k, nfree);
    if (!w) return -1;
    gsl_vector_const_view v0 = gsl_vector_const_view_array(p0, nfree);
    gsl_multifit_nlinear_init(&v0.vector, &fdf, w);
    int info;
    int st = gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, w);
    expand(d, gsl_multifit_nlinear_position(w), p);
    int ok = st == GSL_SUCCESS || st == GSL_EMAXITER;
    for (size_t i = 0; i < d->np; i++)
        ok = ok && isfinite(p[i]);
    if (ok && half && d->k > nfree) {
        gsl_matrix *cov = gsl_matrix_alloc(nfree, nfree);
        gsl_matrix *J = gsl_multifit_nlinear_jac(w);
        gsl_multifit_nlinear_covar(J, 0.0, cov);
        double chi, dof = (double)(d->k - nfree);
        gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), &chi);
        double t = gsl_cdf_tdist_Pinv(0.975, dof);
        j = 0;
        for (size_t i = 0; i < d->np; i++)
            if (!d->fixed[i]) {
                half[i] = t * sqrt(gsl_matrix_get(cov, j, j) * chi / dof);
                j++;
            }
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

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
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
    /* Start from the line of 1/X against 1/n, which is what Amdahl is:
     * 1/X = (s + (1 - s)/n) / X1 (GSL's linear fit). */
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
    double x1 = 1.0 / (c0 + c1);
    data d = {.n = n, .x = x, .k = k, .np = 2};
    d.full[0] = x1 > 0 && isfinite(x1) ? x1 : x[0];
    d.full[1] = isfinite(c0 * x1) ? clampd(c0 * x1, 0, 1) : 0.1;
    double p[2], half[2];
    if (solve(&d, p, half)) {
        out->status = STT_FIT_FAILED;
        return 0;
    }
    double s_free = p[1], s_half = half[1];
    if (p[1] < 0 || p[1] > 1) {
        /* Outside Amdahl's range (faster than linear, or slower with more
         * cores): the constrained optimum holds s at the bound. */
        d.fixed[1] = 1;
        d.full[1] = p[1] < 0 ? 0 : 1;
        d.full[0] = p[0] > 0 ? p[0] : x[0];
        if (solve(&d, p, half)) {
            out->status = STT_FIT_FAILED;
            return 0;
        }
        out->bounded = 1;
    }
    out->x1 = p[0];
    out->s = p[1];
    if (out->points == 2) {
        out->status = STT_FIT_EXACT;
        return 0;
    }
    out->status = STT_FIT_OK;
    out->x1_ci[0] = p[0] - half[0];
    out->x1_ci[1] = p[0] + half[0];
    /* The interval of s is that of the unconstrained estimate, clamped to the
     * range: a bound reached says the data sit at (or beyond) it. */
    double lo = clampd(s_free - s_half, 0, 1), hi = clampd(s_free + s_half, 0, 1);
    out->s_ci[0] = fmin(lo, out->s);
    out->s_ci[1] = fmax(hi, out->s);
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
    size_t i0 = 0;
    for (size_t i = 1; i < k; i++)
        if (n[i] < n[i0]) i0 = i;
    stt_amdahl_fit a;
    stt_fit_amdahl(n, x, k, &a);
    double s0 = isfinite(a.s) ? fmin(a.s, 0.9) : 0.05;
    /* Active set over the two bounds: the unconstrained fit, then σ, κ or both
     * held at 0; the feasible solution with the least squared error wins. Two
     * starts for the free fit guard against a poor basin. */
    static const int masks[5][2] = {{0, 0}, {0, 0}, {1, 0}, {0, 1}, {1, 1}};
    double best[3] = {NAN, NAN, NAN}, bhalf[3] = {NAN, NAN, NAN}, bss = INFINITY;
    double uhalf[3] = {NAN, NAN, NAN}, ufree[3] = {NAN, NAN, NAN}, uss = INFINITY;
    int bmask = -1;
    for (int t = 0; t < 5; t++) {
        data d = {.n = n, .x = x, .k = k, .usl = 1, .np = 3};
        d.fixed[1] = masks[t][0];
        d.fixed[2] = masks[t][1];
        d.full[0] = x[i0] / n[i0];
        d.full[1] = d.fixed[1] ? 0 : t == 1 ? 0.0 : s0;
        d.full[2] = d.fixed[2] ? 0 : t == 1 ? 0.0 : 1e-4;
        double p[3], half[3];
        if (solve(&d, p, half)) continue;
        double e = sse(&d, p);
        if (t < 2 && e < uss) {
            uss = e;
            memcpy(ufree, p, sizeof ufree);
            memcpy(uhalf, half, sizeof uhalf);
        }
        if (p[1] < 0 || p[2] < 0 || !(p[0] > 0)) continue;
        if (e < bss * (1 - 1e-12)) {
            bss = e;
            bmask = t;
            memcpy(best, p, sizeof best);
            memcpy(bhalf, half, sizeof bhalf);
        }
    }
    if (bmask < 0) {
        out->status = STT_FIT_FAILED;
        return 0;
    }
    out->lambda = best[0];
    out->sigma = best[1];
    out->kappa = best[2];
    out->sigma_bounded = masks[bmask][0];
    out->kappa_bounded = masks[bmask][1];
    if (out->points == 3) {
        out->status = STT_FIT_EXACT;
        return 0;
    }
    out->status = STT_FIT_OK;
    out->lambda_ci[0] = best[0] - bhalf[0];
    out->lambda_ci[1] = best[0] + bhalf[0];
    double *ci[3] = {out->lambda_ci, out->sigma_ci, out->kappa_ci};
    for (int i = 1; i < 3; i++) {
        double c = best[i], h = bhalf[i];
        if (!isfinite(h)) {
            /* Held at 0: the interval is the unconstrained one, clamped. */
            c = ufree[i];
            h = uhalf[i];
        }
        double lo = isfinite(h) ? fmax(0, c - h) : 0, hi = isfinite(h) ? fmax(0, c + h) : 0;
        ci[i][0] = fmin(lo, best[i]);
        ci[i][1] = fmax(hi, best[i]);
    }
    if (out->kappa > 0 && out->sigma < 1) out->peak_n = sqrt((1.0 - out->sigma) / out->kappa);
    return 0;
}

int stt_fit_amdahl_projects(const stt_amdahl_fit *f)
{
    return f && f->status == STT_FIT_OK && f->points >= 3;
}

int stt_fit_usl_projects(const stt_usl_fit *f)
{
    return f && f->status == STT_FIT_OK && f->points >= 4;
}

stt_scaling_class stt_fit_classify(double eff_lo, double eff_hi, int retrograde)
{
    if (retrograde) return STT_SCALING_RETROGRADE;
    if (!isfinite(eff_lo) || !isfinite(eff_hi)) return STT_SCALING_NOT_ENOUGH;
    if (eff_lo >= STT_FIT_LINEAR_EFFICIENCY) return STT_SCALING_LINEAR;
    if (eff_hi < STT_FIT_LINEAR_EFFICIENCY) return STT_SCALING_SUBLINEAR;
    return STT_SCALING_UNDETERMINED;
}

double stt_fit_gain_ratio(const double *n, const double *x, size_t k, size_t i)
{
    if (k < 3 || i < 2 || i >= k || !valid(n, x, k)) return NAN;
    double first = (x[1] - x[0]) / (n[1] - n[0]);
    if (!(first > 0) || !(n[i] > n[i - 1])) return NAN;
    return (x[i] - x[i - 1]) / (n[i] - n[i - 1]) / first;
}

double stt_fit_diminishing(const double *n, const double *x, size_t k)
{
    for (size_t i = 2; i < k; i++) {
        double r = stt_fit_gain_ratio(n, x, k, i);
        if (!isfinite(r)) return -1;
        if (r < STT_FIT_DIMINISHING_FRACTION) return n[i];
    }
    return -1;
}
