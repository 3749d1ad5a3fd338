/* scaling: see scaling.h. */
#include "scaling.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

stt_scaling_params stt_scaling_default_params(void)
{
    stt_scaling_params p = {.level = 0.95, .resamples = 2000, .seed = 1, .max_cores = 16};
    return p;
}

const char *stt_dim_status_name(stt_dim_status s)
{
    switch (s) {
    case STT_DIM_FOUND:
        return "found";
    case STT_DIM_NOT_REACHED:
        return "not within the measured cores";
    case STT_DIM_UNDETERMINED:
        return "undetermined";
    default:
        return "not enough core counts";
    }
}

const char *stt_opt_status_name(stt_opt_status s)
{
    switch (s) {
    case STT_OPT_FOUND:
        return "found";
    case STT_OPT_TIED:
        return "tied";
    default:
        return "not enough thread counts";
    }
}

/* The included core counts, for the bootstrap statistics. */
typedef struct series {
    const stt_scaling_input *in;
    size_t use[STT_SCALING_MAX], nuse;
    const double *y; /* in->x or in->lat */
    int invert;      /* use 1 / y (latency as a rate) */
    size_t gain_i;   /* for gain_stat: index into use[] */
} series;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over the rounds idx of row i of s->y (NaNs skipped); NaN if none. */
static double row_median(const series *s, size_t i, const size_t *idx, size_t n)
{
    double v[256];
    size_t m = 0;
    for (size_t k = 0; k < n && m < 256; k++) {
        double y = s->y[i * s->in->nrounds + idx[k]];
        if (isfinite(y) && y > 0) v[m++] = s->invert ? 1.0 / y : y;
    }
    if (!m) return NAN;
    qsort(v, m, sizeof *v, cmp_double);
    return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

static int medians(const series *s, const size_t *idx, size_t n, double *c, double *y)
{
    for (size_t j = 0; j < s->nuse; j++) {
        c[j] = s->in->cores[s->use[j]];
        y[j] = row_median(s, s->use[j], idx, n);
        if (!isfinite(y[j])) return -1;
    }
    return 0;
}

static double amdahl_stat(const size_t *idx, size_t n, void *arg)
{
    const series *s = arg;
    double c[STT_SCALING_MAX], y[STT_SCALING_MAX];
    if (medians(s, idx, n, c, y)) return NAN;
    stt_amdahl_fit f;
    if (stt_fit_amdahl(c, y, s->nuse, &f) || (f.status != STT_FIT_OK && f.status != STT_FIT_EXACT))
        return NAN;
    return f.s;
}

static double usl_sigma_stat(const size_t *idx, size_t n, void *arg)
{
    const series *s = arg;
    double c[STT_SCALING_MAX], y[STT_SCALING_MAX];
    if (medians(s, idx, n, c, y)) return NAN;
    stt_usl_fit f;
    if (stt_fit_usl(c, y, s->nuse, &f) || f.status != STT_FIT_OK) return NAN;
    return s->gain_i ? f.kappa : f.sigma;
}

static double gain_stat(const size_t *idx, size_t n, void *arg)
{
    const series *s = arg;
    double c[STT_SCALING_MAX], y[STT_SCALING_MAX];
    if (medians(s, idx, n, c, y)) return NAN;
    return stt_fit_gain_ratio(c, y, s->nuse, s->gain_i);
}

static void scale(stt_estimate *e, double k)
{
    e->value *= k;
    e->ci.lo *= k;
    e->ci.hi *= k;
    if (k < 0) {
        double t = e->ci.lo;
        e->ci.lo = e->ci.hi;
        e->ci.hi = t;
    }
}

/* s from a two-point speedup estimate: monotone decreasing in the speedup, so
 * the interval maps end to end and keeps its coverage. */
static stt_estimate serial_from_speedup(const stt_estimate *sp, double c0, double c1)
{
    stt_estimate e = *sp;
    e.value = stt_amdahl_serial_fraction(c0, c1, sp->value);
    e.ci.lo = stt_amdahl_serial_fraction(c0, c1, sp->ci.hi);
    e.ci.hi = stt_amdahl_serial_fraction(c0, c1, sp->ci.lo);
    e.method = "from the speedup's interval (two core counts), clamped to [0, 1]";
    return e;
}

int stt_scaling_analyse(const stt_scaling_input *in, const stt_scaling_params *pp, stt_scaling *out)
{
    memset(out, 0, sizeof *out);
    stt_scaling_params p = pp ? *pp : stt_scaling_default_params();
    out->serial = out->sigma = out->kappa = out->lat_serial = stt_estimate_none();
    stt_fit_amdahl(NULL, NULL, 0, &out->amdahl);
    stt_fit_usl(NULL, NULL, 0, &out->usl);
    out->cls = STT_SCALING_NOT_ENOUGH;
    snprintf(out->dim_why, sizeof out->dim_why, "fewer than three core counts measured");
    if (!in || !in->ncounts || in->ncounts > STT_SCALING_MAX || !in->nrounds || !in->x ||
        !in->cores)
        return STT_EINVAL;
    for (size_t i = 1; i < in->ncounts; i++)
        if (!(in->cores[i] > in->cores[i - 1])) return STT_EINVAL;
    out->n = in->ncounts;
    size_t R = in->nrounds;
    series sx = {.in = in, .y = in->x}, sl = {.in = in, .y = in->lat, .invert = 1};
    for (size_t i = 0; i < in->ncounts; i++) {
        stt_scaling_point *pt = &out->pt[i];
        pt->cores = in->cores[i];
        pt->excluded = in->excluded && in->excluded[i];
        pt->lat_excluded = in->lat_excluded && in->lat_excluded[i];
        stt_stats_summarize(in->x + i * R, R, p.level, &pt->x);
        if (in->lat)
            stt_stats_summarize(in->lat + i * R, R, p.level, &pt->lat);
        else
            stt_stats_summarize(NULL, 0, p.level, &pt->lat);
        pt->speedup = pt->efficiency = pt->lat_speedup = pt->gain_ratio = stt_estimate_none();
        if (!pt->excluded && pt->x.n > 0) sx.use[sx.nuse++] = i;
    }
    out->nused = sx.nuse;
    /* What this machine could not measure: beyond the largest core count run
     * (included or not), up to the profile's largest. */
    for (int m = 1; m <= p.max_cores; m *= 2)
        if (m > in->cores[in->ncounts - 1]) {
            out->unmeasured_from = m;
            break;
        }
    /* The latency series: its own included points, relative to its first. */
    for (size_t i = 0; in->lat && i < in->ncounts; i++)
        if (!out->pt[i].lat_excluded && out->pt[i].lat.n > 0) sl.use[sl.nuse++] = i;
    for (size_t j = 0; j < sl.nuse; j++) {
        size_t i = sl.use[j], l0 = sl.use[0];
        if (stt_rounds_ratio(in->lat + l0 * R, in->lat + i * R, R, 1, p.level,
                             &out->pt[i].lat_speedup) == 0)
            scale(&out->pt[i].lat_speedup, in->cores[l0]);
    }
    if (sl.nuse == 2) {
        const stt_scaling_point *l2 = &out->pt[sl.use[1]];
        out->lat_serial = serial_from_speedup(&l2->lat_speedup, in->cores[sl.use[0]], l2->cores);
    } else if (sl.nuse >= 3) {
        stt_rounds_bootstrap(R, amdahl_stat, &sl, p.level, p.resamples, p.seed + 3,
                             &out->lat_serial);
    }
    if (!sx.nuse) return 0;
    size_t i0 = sx.use[0];
    double c0 = in->cores[i0];
    out->measured_max = in->cores[sx.use[sx.nuse - 1]];
    for (size_t j = 0; j < sx.nuse; j++) {
        size_t i = sx.use[j];
        stt_scaling_point *pt = &out->pt[i];
        if (stt_rounds_ratio(in->x + i0 * R, in->x + i * R, R, 0, p.level, &pt->speedup) == 0) {
            scale(&pt->speedup, c0);
            pt->efficiency = pt->speedup;
            scale(&pt->efficiency, 1.0 / in->cores[i]);
            pt->efficiency.method = "speedup / cores";
        }
        if (j > 0) {
            stt_estimate step;
            size_t ip = sx.use[j - 1];
            if (stt_rounds_ratio(in->x + ip * R, in->x + i * R, R, 0, p.level, &step) == 0 &&
                step.n >= STT_ROUNDS_MIN && step.ci.hi < 1)
                out->retrograde = 1;
        }
    }
    const stt_scaling_point *last = &out->pt[sx.use[sx.nuse - 1]];
    if (sx.nuse >= 2)
        out->cls =
            last->efficiency.n < STT_ROUNDS_MIN && !out->retrograde
                ? STT_SCALING_UNDETERMINED
                : stt_fit_classify(last->efficiency.ci.lo, last->efficiency.ci.hi, out->retrograde);

    /* Fits on the medians of the included points. */
    double c[STT_SCALING_MAX], y[STT_SCALING_MAX];
    size_t all[256];
    for (size_t r = 0; r < R && r < 256; r++)
        all[r] = r;
    size_t RR = R < 256 ? R : 256;
    if (sx.nuse >= 2 && medians(&sx, all, RR, c, y) == 0) {
        stt_fit_amdahl(c, y, sx.nuse, &out->amdahl);
        stt_fit_usl(c, y, sx.nuse, &out->usl);
        if (sx.nuse == 2)
            out->serial = serial_from_speedup(&last->speedup, c0, last->cores);
        else
            stt_rounds_bootstrap(R, amdahl_stat, &sx, p.level, p.resamples, p.seed, &out->serial);
        if (stt_fit_usl_projects(&out->usl)) {
            sx.gain_i = 0;
            stt_rounds_bootstrap(R, usl_sigma_stat, &sx, p.level, p.resamples, p.seed + 1,
                                 &out->sigma);
            sx.gain_i = 1;
            stt_rounds_bootstrap(R, usl_sigma_stat, &sx, p.level, p.resamples, p.seed + 2,
                                 &out->kappa);
            sx.gain_i = 0;
        }
    }
    /* Projections: only from a fit with parameters + 1 points, as a band. */
    if (stt_fit_amdahl_projects(&out->amdahl) && isfinite(out->serial.ci.lo)) {
        double s = out->amdahl.s, slo = out->serial.ci.lo, shi = out->serial.ci.hi;
        for (int m = 2; m <= 64 && out->nproj < STT_SCALING_PROJ; m *= 2) {
            if (m <= out->measured_max) continue;
            stt_scaling_projection *pr = &out->proj[out->nproj++];
            pr->cores = m;
            pr->speedup = c0 * stt_amdahl_speedup(s, m) / stt_amdahl_speedup(s, c0);
            pr->lo = c0 * stt_amdahl_speedup(shi, m) / stt_amdahl_speedup(shi, c0);
            pr->hi = c0 * stt_amdahl_speedup(slo, m) / stt_amdahl_speedup(slo, c0);
        }
    }

    /* Diminishing returns, interval included. */
    if (sx.nuse < 3) {
        snprintf(out->dim_why, sizeof out->dim_why,
                 "needs three core counts (measured: %zu); the rule compares a marginal gain "
                 "with the first added core's",
                 sx.nuse);
        return 0;
    }
    double unclear = 0;
    out->dim = STT_DIM_NOT_REACHED;
    for (size_t j = 2; j < sx.nuse; j++) {
        stt_scaling_point *pt = &out->pt[sx.use[j]];
        sx.gain_i = j;
        stt_rounds_bootstrap(R, gain_stat, &sx, p.level, p.resamples, p.seed + 10 + j,
                             &pt->gain_ratio);
        const stt_interval *ci = &pt->gain_ratio.ci;
        if (!isfinite(ci->lo) || !isfinite(ci->hi) || pt->gain_ratio.n < STT_ROUNDS_MIN) {
            if (!unclear) unclear = pt->cores;
            continue;
        }
        if (ci->hi < STT_FIT_DIMINISHING_FRACTION) {
            if (unclear) {
                out->dim = STT_DIM_UNDETERMINED;
                out->dim_cores = unclear;
                snprintf(out->dim_why, sizeof out->dim_why,
                         "between %g and %g cores: at %g the marginal gain's interval reaches "
                         "half of the first added core's, at %g it lies below",
                         unclear, pt->cores, unclear, pt->cores);
            } else {
                out->dim = STT_DIM_FOUND;
                out->dim_cores = pt->cores;
                snprintf(out->dim_why, sizeof out->dim_why,
                         "at %g cores the marginal gain per added core is %.2f (%.2f-%.2f) of "
                         "the first added core's, below %.2f",
                         pt->cores, pt->gain_ratio.value, ci->lo, ci->hi,
                         STT_FIT_DIMINISHING_FRACTION);
            }
            return 0;
        }
        if (ci->lo < STT_FIT_DIMINISHING_FRACTION && !unclear) unclear = pt->cores;
    }
    if (unclear) {
        out->dim = STT_DIM_UNDETERMINED;
        out->dim_cores = unclear;
        snprintf(out->dim_why, sizeof out->dim_why,
                 "at %g cores the marginal gain's interval straddles half of the first added "
                 "core's; more rounds would settle it",
                 unclear);
    } else {
        snprintf(out->dim_why, sizeof out->dim_why,
                 "every marginal gain up to %g cores stays above half of the first added core's",
                 out->measured_max);
    }
    return 0;
}

int stt_threads_optimum_find(const stt_threads_input *in, double level, double margin,
                             stt_threads_optimum *out)
{
    memset(out, 0, sizeof *out);
    out->best = out->recommended = -1;
    if (!in || in->nthreads > STT_SCALING_MAX || !in->threads || !in->lat || !in->nrounds)
        return STT_EINVAL;
    size_t R = in->nrounds, have = 0;
    for (size_t i = 0; i < in->nthreads; i++) {
        out->ratio[i] = stt_estimate_none();
        if (stt_stats_summarize(in->lat + i * R, R, level, &out->lat[i]) == 0) {
            have++;
            if (out->best < 0 || out->lat[i].median < out->lat[out->best].median)
                out->best = (int)i;
        }
    }
    if (have < 2) {
        out->status = STT_OPT_NOT_ENOUGH;
        out->recommended = out->best;
        return 0;
    }
    size_t b = (size_t)out->best;
    out->status = STT_OPT_FOUND;
    out->recommended = out->best;
    for (size_t i = 0; i < in->nthreads; i++) {
        if (i == b || out->lat[i].n == 0) continue;
        if (stt_rounds_ratio(in->lat + b * R, in->lat + i * R, R, 0, level, &out->ratio[i]))
            continue;
        if (!(out->ratio[i].ci.lo > 1 + margin) || out->ratio[i].n < STT_ROUNDS_MIN) {
            out->tied[i] = 1;
            out->status = STT_OPT_TIED;
            if (in->threads[i] < in->threads[out->recommended]) out->recommended = (int)i;
        }
    }
    return 0;
}
