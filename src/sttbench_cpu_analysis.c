/* sttbench_cpu_analysis: from the points of `sttbench cpu` to the scaling of
 * each mode (speedup and efficiency series, Amdahl and USL fits) and the
 * verdict. No I/O. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fit.h"
#include "sttbench_cpu.h"

/* The best throughput and the best long-file latency at each core count. */
static void build_series(const cpu_point *pts, int npts, int mode, int long_role, cpu_series *sr)
{
    memset(sr, 0, sizeof *sr);
    for (int i = 0; i < npts; i++) {
        const cpu_point *p = &pts[i];
        if (p->mode != mode || strcmp(p->status, "ok") || !p->have_thr || !(p->thr > 0)) continue;
        int j = 0;
        while (j < sr->n && sr->cores[j] != p->cores)
            j++;
        if (j == sr->n) {
            if (sr->n == CPU_MAXV) continue;
            sr->n++;
            sr->cores[j] = p->cores;
            sr->x[j] = -1;
            sr->lat[j] = INFINITY;
        }
        if (p->thr > sr->x[j]) {
            sr->x[j] = p->thr;
            sr->se[j] = p->thr_rel_se;
            sr->threads[j] = p->threads;
        }
        if (p->latency[long_role].n && p->latency[long_role].med < sr->lat[j])
            sr->lat[j] = p->latency[long_role].med;
    }
    /* Sort by cores. */
    for (int a = 0; a < sr->n; a++)
        for (int b = a + 1; b < sr->n; b++)
            if (sr->cores[b] < sr->cores[a]) {
                double t;
#define SWAP(f)                                                                                    \
    t = sr->f[a];                                                                                  \
    sr->f[a] = sr->f[b];                                                                           \
    sr->f[b] = t
                SWAP(cores);
                SWAP(x);
                SWAP(se);
                SWAP(lat);
                SWAP(threads);
#undef SWAP
            }
    for (int j = 0; j < sr->n; j++) {
        int th[CPU_MAXPTS];
        double la[CPU_MAXPTS];
        int idx[CPU_MAXPTS], k = 0;
        for (int i = 0; i < npts && k < CPU_MAXPTS; i++) {
            const cpu_point *p = &pts[i];
            if (p->mode != mode || strcmp(p->status, "ok") || p->cores != sr->cores[j]) continue;
            th[k] = p->threads;
            la[k] = p->latency[long_role].n ? p->latency[long_role].med : NAN;
            idx[k++] = i;
        }
        int b = stt_fit_optimal_threads(th, la, (size_t)k, 0.03);
        sr->opt_threads[j] = b >= 0 ? th[b] : 0;
        sr->opt_lat[j] = b >= 0 ? la[b] : NAN;
        (void)idx;
        if (!isfinite(sr->lat[j])) sr->lat[j] = NAN;
    }
}

/* Amdahl's s through two points, X(n) = X1 / (s + (1 - s) / n). */
static double s_two(double n1, double x1, double n2, double x2)
{
    double R = x2 / x1;
    return (R / n2 - 1.0 / n1) / (1.0 - 1.0 / n1 - R + R / n2);
}

static void do_fits(const double *n, const double *x, const double *se, int k, cpu_fits *f)
{
    stt_fit_amdahl(n, x, (size_t)k, &f->am);
    stt_fit_usl(n, x, (size_t)k, &f->usl);
    f->s_lo = f->s_hi = NAN;
    f->interval_from = "none";
    if (f->am.status == STT_FIT_OK) {
        f->s_lo = f->am.s_ci[0];
        f->s_hi = f->am.s_ci[1];
        f->interval_from = "fit covariance (95%)";
    } else if (f->am.status == STT_FIT_EXACT && k == 2 && se && isfinite(se[0]) &&
               isfinite(se[1])) {
        /* Two points: the spread of each throughput over its windows (two
         * standard errors) moved to the extremes gives the range of s. */
        f->s_lo = s_two(n[0], x[0] * (1 + 2 * se[0]), n[1], x[1] * (1 - 2 * se[1]));
        f->s_hi = s_two(n[0], x[0] * (1 - 2 * se[0]), n[1], x[1] * (1 + 2 * se[1]));
        if (f->s_lo > f->s_hi) {
            double t = f->s_lo;
            f->s_lo = f->s_hi;
            f->s_hi = t;
        }
        f->interval_from = "window spread of the two throughputs (2 standard errors)";
    }
}

void cpu_analyse(const cpu_point *pts, int npts, int mode, cpu_analysis *a)
{
    memset(a, 0, sizeof *a);
    a->mode = mode;
    build_series(pts, npts, mode, CPU_ROLE_LONG, &a->sr);
    cpu_series *sr = &a->sr;
    double inv[CPU_MAXV];
    a->lat_ok = sr->n > 0;
    for (int j = 0; j < sr->n; j++) {
        a->speedup[j] = sr->x[j] / sr->x[0] * sr->cores[0];
        a->eff[j] = a->speedup[j] / sr->cores[j];
        a->lspeed[j] = sr->lat[0] / sr->lat[j] * sr->cores[0];
        a->leff[j] = a->lspeed[j] / sr->cores[j];
        inv[j] = 1.0 / sr->lat[j];
        if (!isfinite(inv[j])) a->lat_ok = 0;
    }
    do_fits(sr->cores, sr->x, sr->se, sr->n, &a->thr);
    if (a->lat_ok)
        do_fits(sr->cores, inv, NULL, sr->n, &a->lat);
    else {
        stt_fit_amdahl(NULL, NULL, 0, &a->lat.am);
        stt_fit_usl(NULL, NULL, 0, &a->lat.usl);
        a->lat.s_lo = a->lat.s_hi = NAN;
        a->lat.interval_from = "none";
    }
    a->cls = stt_fit_classify(sr->cores, sr->x, (size_t)sr->n);
    a->dim_measured = stt_fit_diminishing(sr->cores, sr->x, (size_t)sr->n);
    a->dim_projected = isfinite(a->thr.am.s) ? stt_amdahl_diminishing(a->thr.am.s) : -1;
}

void cpu_decide(const cpu_analysis *a, int ncores_machine, cpu_verdict *v)
{
    memset(v, 0, sizeof *v);
    const cpu_series *sr = &a->sr;
    snprintf(v->to_confirm, sizeof v->to_confirm,
             "Measured at %d core count(s) (up to %d cores) on a %d-core machine. Confirm on a "
             "machine with at least 8 usable cores: at least three core counts are needed for "
             "the USL fit (contention sigma and coherency kappa), and `sttbench cpu --compare` "
             "against this file gives per-core speed and cost per audio hour side by side.",
             sr->n, sr->n ? (int)sr->cores[sr->n - 1] : 0, ncores_machine);
    if (sr->n < 2) {
        v->answer = "undetermined";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Only one core count was measured; scaling cannot be judged.");
        return;
    }
    int k = sr->n - 1;
    double E = a->eff[k], sl = a->lat.am.s, st = a->thr.am.s;
    snprintf(v->reasons[v->nreasons++], 600,
             "Throughput (independent requests, one decoder per worker) went from %.2f to %.2f "
             "audio s/s between %d and %d cores: speedup %.2f, efficiency %.2f, Amdahl serial "
             "fraction %.3f. %s",
             sr->x[0], sr->x[k], (int)sr->cores[0], (int)sr->cores[k], a->speedup[k], E, st,
             E >= 0.85 ? "Capacity grows with the number of cores."
                       : "Capacity grew far less than the cores granted; the per-point CPU "
                         "utilisation shows whether the server or the machine held it back.");
    if (a->lat_ok)
        snprintf(v->reasons[v->nreasons++], 600,
                 "One long request went from %.2f s to %.2f s: latency speedup %.2f, serial "
                 "fraction %.3f. A single request's latency is per-core time x (s + (1 - s)/n), so "
                 "beyond a few cores it is set by per-core speed.",
                 sr->lat[0], sr->lat[k], a->lspeed[k], sl);
    if (E >= 0.85 && isfinite(sl) && sl <= 0.2) {
        v->answer = "many cores";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Both throughput and single-request latency scale well: more, cheaper cores "
                 "buy capacity and latency alike; choose by price per core-hour.");
    } else if (E >= 0.85) {
        v->answer = "either";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Throughput scales nearly linearly, so for batch/throughput work the total "
                 "core count matters, not core strength; for interactive long files, whose "
                 "latency gains little from more cores, per-core speed (strong cores) decides.");
    } else {
        v->answer = "strong cores";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Scaling is sub-linear (efficiency %.2f < 0.85): each added core delivers less, "
                 "so fewer, faster cores give more per core-hour.",
                 E);
    }
}
