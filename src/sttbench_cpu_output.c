/* sttbench_cpu_output: what `sttbench cpu` writes: DIR/cpu.json,
 * DIR/cpu_scaling_report.md, the gnuplot charts and the summary on stdout. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpulimit.h"
#include "fit.h"
#include "sttbench_common.h"
#include "sttbench_cpu.h"
#include "proc.h"
#include "sysinfo.h"

static json_t *jpair(double a, double b)
{
    if (!isfinite(a) || !isfinite(b)) return json_null();
    return json_pack("[o, o]", bench_jnum(a), bench_jnum(b));
}

static json_t *fits_json(const cpu_fits *f)
{
    const stt_amdahl_fit *a = &f->am;
    const stt_usl_fit *u = &f->usl;
    return json_pack(
        "{s:i, s:{s:s, s:o, s:o, s:o, s:o, s:s}, s:{s:s, s:o, s:o, s:o, s:o, s:o, s:o}}", "points",
        a->points, "amdahl", "status", stt_fit_status_name(a->status), "serial_fraction",
        bench_jnum(a->s), "x1", bench_jnum(a->x1), "ci95", jpair(a->s_ci[0], a->s_ci[1]),
        "projection_interval", jpair(f->s_lo, f->s_hi), "projection_interval_from",
        f->interval_from, "usl", "status", stt_fit_status_name(u->status), "lambda",
        bench_jnum(u->lambda), "sigma", bench_jnum(u->sigma), "kappa", bench_jnum(u->kappa),
        "sigma_ci95", jpair(u->sigma_ci[0], u->sigma_ci[1]), "kappa_ci95",
        jpair(u->kappa_ci[0], u->kappa_ci[1]), "peak_cores", bench_jnum(u->peak_n));
}

static json_t *analysis_json(const cpu_analysis *a)
{
    const cpu_series *sr = &a->sr;
    json_t *ser = json_array(), *opt = json_array(), *proj = json_array();
    for (int j = 0; j < sr->n; j++) {
        json_array_append_new(
            ser,
            json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "cores", (int)sr->cores[j],
                      "threads", (int)sr->threads[j], "audio_s_per_s", bench_jnum(sr->x[j]),
                      "speedup", bench_jnum(a->speedup[j]), "efficiency", bench_jnum(a->eff[j]),
                      "long_latency_s", bench_jnum(sr->lat[j]), "latency_speedup",
                      bench_jnum(a->lspeed[j]), "latency_efficiency", bench_jnum(a->leff[j])));
        if (sr->opt_threads[j])
            json_array_append_new(opt, json_pack("{s:i, s:i, s:o}", "cores", (int)sr->cores[j],
                                                 "threads", sr->opt_threads[j], "long_latency_s",
                                                 bench_jnum(sr->opt_lat[j])));
    }
    double maxn = sr->n ? sr->cores[sr->n - 1] : 0;
    if (isfinite(a->thr.am.s))
        for (int m = 2; m <= 64; m *= 2) {
            if (m <= maxn) continue;
            double S = stt_amdahl_speedup(a->thr.am.s, m);
            double lo = isfinite(a->thr.s_hi) ? stt_amdahl_speedup(a->thr.s_hi, m) : NAN;
            double hi = isfinite(a->thr.s_lo) ? stt_amdahl_speedup(a->thr.s_lo, m) : NAN;
            json_array_append_new(proj, json_pack("{s:i, s:o, s:o, s:o, s:b}", "cores", m,
                                                  "speedup", bench_jnum(S), "lo", bench_jnum(lo),
                                                  "hi", bench_jnum(hi), "projection", 1));
        }
    return json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "mode",
                     cpu_mode_name(a->mode), "series", ser, "throughput", fits_json(&a->thr),
                     "latency", fits_json(&a->lat), "classification",
                     stt_scaling_class_name(a->cls), "diminishing_returns_cores",
                     a->dim_measured > 0 ? json_integer((json_int_t)a->dim_measured) : json_null(),
                     "diminishing_returns_projected_cores",
                     a->dim_projected > 0 ? json_integer(a->dim_projected) : json_null(),
                     "optimal_threads", opt, "projections", proj);
}

static void write_report(const cpu_config *c, const stt_sysinfo *si, const cpu_file *files,
                         const int *roles, int nroles, const cpu_point *pts, int npts,
                         const cpu_analysis *an, int nan_, const cpu_shape *sh, int nsh,
                         const cpu_verdict *v, int charts_ok, FILE *f)
{
    fprintf(f, "# CPU scaling profile\n\n");
    fprintf(f,
            "Machine: %s, %d logical cores (%d usable), %.1f GiB RAM, %s. Commit %s.\n"
            "Server: `%s`. Saturated load: closed loop, concurrency 2 x workers, %.0f s per "
            "point, file %s. Single requests: median of %d.\n\n",
            si->cpu_model, si->logical_cores, si->cpus_allowed, si->mem_total / 1073741824.0,
            si->kernel, bench_commit(), c->server_cmd, c->duration, files[CPU_ROLE_SHORT].e->file,
            c->repeat);
    fprintf(f, "Every point was started under its restriction and verified (affinity or cgroup "
               "of every process of the server tree, the quota read back, the server's "
               "`sttd_workers`/`sttd_threads_per_request` gauges, sttd's own usable-CPU count, and "
               "CPU used under saturation <= granted); unverified points are refused, not "
               "measured.\n\n");
    fprintf(f, "## Answers\n\n");
    fprintf(f, "1. **Many weak cores or few strong ones?** %s.", v->answer);
    for (int i = 0; i < v->nreasons; i++)
        fprintf(f, " %s", v->reasons[i]);
    fprintf(f, "\n");
    for (int m = 0; m < nan_; m++) {
        const cpu_analysis *a = &an[m];
        const cpu_series *sr = &a->sr;
        if (sr->n < 1) continue;
        int k = sr->n - 1;
        fprintf(f,
                "2. **Linear or sub-linear (%s)?** %s: speedup %.2f at %d cores (efficiency "
                "%.2f); Amdahl serial fraction %.3f (%s%s",
                cpu_mode_name(a->mode), stt_scaling_class_name(a->cls), a->speedup[k],
                (int)sr->cores[k], a->eff[k], a->thr.am.s, stt_fit_status_name(a->thr.am.status),
                a->thr.am.status == STT_FIT_EXACT ? ", two points" : "");
        if (isfinite(a->thr.s_lo))
            fprintf(f, "; interval %.3f..%.3f from %s", a->thr.s_lo, a->thr.s_hi,
                    a->thr.interval_from);
        fprintf(f, "); USL: %s", stt_fit_status_name(a->thr.usl.status));
        if (isfinite(a->thr.usl.sigma))
            fprintf(f, " (sigma %.4f, kappa %.5f, peak %.1f cores)", a->thr.usl.sigma,
                    a->thr.usl.kappa, a->thr.usl.peak_n);
        fprintf(f, ".\n");
    }
    const cpu_analysis *a0 = nan_ ? &an[0] : NULL;
    fprintf(f, "3. **Optimal thread count:**");
    if (a0)
        for (int j = 0; j < a0->sr.n; j++)
            if (a0->sr.opt_threads[j])
                fprintf(f, " %d core(s): --threads %d (long file %.2f s);", (int)a0->sr.cores[j],
                        a0->sr.opt_threads[j], a0->sr.opt_lat[j]);
    fprintf(f,
            " (%s mode, lowest median latency of the %s file, ties within 3%% go to fewer "
            "threads).\n",
            a0 ? cpu_mode_name(a0->mode) : "-", files[CPU_ROLE_LONG].e->file);
    fprintf(f, "4. **Where returns diminish:** ");
    if (a0 && a0->dim_measured > 0)
        fprintf(f,
                "measured: after %.0f cores one more core adds less than half what the "
                "first added. ",
                a0->dim_measured);
    else
        fprintf(f, "not within the measured core counts. ");
    if (a0 && a0->dim_projected > 0)
        fprintf(f,
                "Projected from Amdahl (s = %.3f): after %d cores (a projection, not a "
                "measurement).",
                a0->thr.am.s, a0->dim_projected);
    fprintf(f, "\n\nTo confirm: %s\n\n", v->to_confirm);

    fprintf(f, "## Points\n\n| mode | cores | workers | threads | status | ");
    for (int i = 0; i < nroles; i++)
        fprintf(f, "%s %.0f s: median (min-max) s | ", cpu_role_name(roles[i]),
                files[roles[i]].e->duration_s);
    fprintf(f, "audio s/s | p95 s | CPU util | peak PSS MiB | throttled |\n|---|---|---|---|---|");
    for (int i = 0; i < nroles; i++)
        fprintf(f, "---|");
    fprintf(f, "---|---|---|---|---|\n");
    for (int i = 0; i < npts; i++) {
        const cpu_point *p = &pts[i];
        fprintf(f, "| %s | %d | %d | %d | %s%s%s | ", cpu_mode_name(p->mode), p->cores, p->workers,
                p->threads, p->status, p->reason[0] ? ": " : "", p->reason);
        for (int r = 0; r < nroles; r++) {
            const cpu_lat *l = &p->latency[roles[r]];
            if (l->n)
                fprintf(f, "%.2f (%.2f-%.2f) | ", l->med, l->min, l->max);
            else
                fprintf(f, "- | ");
        }
        char thb[96] = "-";
        if (p->quota && p->th.nr_periods > 0)
            snprintf(thb, sizeof thb, "%lld of %lld periods, %.2f s", p->th.nr_throttled,
                     p->th.nr_periods, p->th.throttled_s);
        if (p->have_thr)
            fprintf(f, "%.2f | %.2f | %.2f | %.0f | %s |\n", p->thr, p->p95, p->util,
                    p->peak_pss / 1048576.0, thb);
        else
            fprintf(f, "- | - | - | - | - |\n");
    }
    fprintf(f, "\n## Scaling\n\n| mode | cores | audio s/s | speedup | efficiency | long latency s "
               "| latency speedup |\n|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < nan_; m++)
        for (int j = 0; j < an[m].sr.n; j++)
            fprintf(f, "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                    cpu_mode_name(an[m].mode), (int)an[m].sr.cores[j], an[m].sr.x[j],
                    an[m].speedup[j], an[m].eff[j], an[m].sr.lat[j], an[m].lspeed[j]);
    if (a0 && isfinite(a0->thr.am.s)) {
        fprintf(f,
                "\nProjections beyond this machine (Amdahl, %s mode; **projections, not "
                "measurements**):\n\n| cores | speedup | range |\n|---|---|---|\n",
                cpu_mode_name(a0->mode));
        double maxn = a0->sr.cores[a0->sr.n - 1];
        for (int m = 2; m <= 64; m *= 2) {
            if (m <= maxn) continue;
            char range[96] = "unknown (exact two-point fit, no spread)";
            if (isfinite(a0->thr.s_lo))
                snprintf(range, sizeof range, "%.2f - %.2f", stt_amdahl_speedup(a0->thr.s_hi, m),
                         stt_amdahl_speedup(a0->thr.s_lo, m));
            fprintf(f, "| %d | %.2f | %s |\n", m, stt_amdahl_speedup(a0->thr.am.s, m), range);
        }
        fprintf(f, "\nRange: %s.\n", a0->thr.interval_from);
    }
    if (nsh) {
        fprintf(f, "\n## Pod shapes (haproxy leastconn, same closed-loop load)\n\n| shape | "
                   "audio s/s | p50 s | p95 s | errors | peak PSS MiB (all replicas) | status "
                   "|\n|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < nsh; i++)
            fprintf(f, "| %d x %d cores | %.2f | %.2f | %.2f | %lld | %.0f | %s%s%s |\n",
                    sh[i].replicas, sh[i].cores_each, sh[i].thr, sh[i].p50, sh[i].p95, sh[i].errors,
                    sh[i].peak_pss / 1048576.0, sh[i].status, sh[i].reason[0] ? ": " : "",
                    sh[i].reason);
    }
    if (charts_ok)
        fprintf(f,
                "\n## Charts\n\n![speedup](speedup_vs_cores.png)\n"
                "![latency](latency_vs_threads.png)\n%s",
                nsh ? "![shapes](shapes_throughput.png)\n" : "");
    else
        fprintf(f, "\n(gnuplot failed: no charts.)\n");
}

static int write_charts(const cpu_config *c, const cpu_analysis *an, int nan_, const cpu_point *pts,
                        int npts, const cpu_shape *sh, int nsh)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu_charts.dat", c->out);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    /* index m: measured speedups per mode; index nan_: long latency against threads. */
    for (int m = 0; m < nan_; m++) {
        fprintf(f, "# %s: cores speedup efficiency latency_speedup\n", cpu_mode_name(an[m].mode));
        for (int j = 0; j < an[m].sr.n; j++)
            fprintf(f, "%g %g %g %g\n", an[m].sr.cores[j], an[m].speedup[j], an[m].eff[j],
                    an[m].lspeed[j]);
        fprintf(f, "\n\n");
    }
    fprintf(f, "# cores threads long_latency_s (first mode)\n");
    int any_lat = 0;
    for (int i = 0; i < npts; i++)
        if (nan_ && pts[i].mode == an[0].mode && !strcmp(pts[i].status, "ok") &&
            pts[i].latency[CPU_ROLE_LONG].n) {
            fprintf(f, "%d %d %g\n", pts[i].cores, pts[i].threads,
                    pts[i].latency[CPU_ROLE_LONG].med);
            any_lat = 1;
        }
    fprintf(f, "\n\n# shape audio_s_per_s p95_s\n");
    for (int i = 0; i < nsh; i++)
        fprintf(f, "\"%dx%d\" %g %g\n", sh[i].replicas, sh[i].cores_each, sh[i].thr, sh[i].p95);
    fclose(f);
    snprintf(path, sizeof path, "%s/cpu_charts.gp", c->out);
    f = fopen(path, "w");
    if (!f) return 0;
    double maxn = 2;
    for (int m = 0; m < nan_; m++)
        if (an[m].sr.n) maxn = fmax(maxn, an[m].sr.cores[an[m].sr.n - 1]);
    double xmax = fmax(8, maxn * 4);
    static const char *const term[2][2] = {{"pngcairo size 900,560", "png"},
                                           {"svg size 900,560 dynamic", "svg"}};
    for (int t = 0; t < 2; t++) {
        fprintf(f, "set terminal %s\nset grid\nset key left top\n", term[t][0]);
        fprintf(f,
                "set output 'speedup_vs_cores.%s'\nset title 'Throughput speedup vs cores "
                "(lines beyond %g cores are projections)'\nset xlabel 'cores'\nset ylabel "
                "'speedup X(n)/X(1)'\nset xrange [1:%g]\nset yrange [0:*]\n",
                term[t][1], maxn, xmax);
        fprintf(f, "plot x with lines dashtype 3 title 'ideal'");
        for (int m = 0; m < nan_; m++) {
            fprintf(f,
                    ", 'cpu_charts.dat' index %d using 1:2 with points pt 7 ps 1.5 title '%s "
                    "measured'",
                    m, cpu_mode_name(an[m].mode));
            if (isfinite(an[m].thr.am.s))
                fprintf(f, ", 1/(%.9g+(1-%.9g)/x) with lines title '%s Amdahl s=%.3f'",
                        an[m].thr.am.s, an[m].thr.am.s, cpu_mode_name(an[m].mode), an[m].thr.am.s);
            if (isfinite(an[m].thr.usl.sigma))
                fprintf(f, ", x/(1+%.9g*(x-1)+%.9g*x*(x-1)) with lines dashtype 2 title '%s USL'",
                        an[m].thr.usl.sigma, an[m].thr.usl.kappa, cpu_mode_name(an[m].mode));
        }
        fprintf(f, "\nunset xrange\nunset yrange\nunset title\n");
        if (any_lat) {
            fprintf(f,
                    "set output 'latency_vs_threads.%s'\nset title 'Long-file latency vs "
                    "--threads, per core count'\nset xlabel 'threads per request'\nset "
                    "ylabel 'median latency (s)'\nset logscale x 2\n",
                    term[t][1]);
            fprintf(f, "plot ");
            int first = 1;
            for (int j = 0; nan_ && j < an[0].sr.n; j++) {
                fprintf(f,
                        "%s'cpu_charts.dat' index %d using ($1==%g?$2:1/0):3 with "
                        "linespoints title '%g cores'",
                        first ? "" : ", ", nan_, an[0].sr.cores[j], an[0].sr.cores[j]);
                first = 0;
            }
            fprintf(f, "\nunset logscale x\nunset title\n");
        }
        if (nsh)
            fprintf(f,
                    "set output 'shapes_throughput.%s'\nset title 'Pod shapes: replicas x "
                    "cores'\nset style data histograms\nset style fill solid 0.6\nset "
                    "ylabel 'audio s per s'\nset xlabel ''\nset yrange [0:*]\nplot "
                    "'cpu_charts.dat' index %d using 2:xtic(1) title 'throughput'\nunset "
                    "style\nunset yrange\nunset title\nset style data points\n",
                    term[t][1], nan_ + 1);
    }
    fclose(f);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot cpu_charts.gp 2>gnuplot.log", c->out);
    return system(cmd) == 0;
}

static json_t *points_json(const cpu_point *pts, int npts, const cpu_file *files)
{
    json_t *arr = json_array();
    for (int i = 0; i < npts; i++) {
        const cpu_point *p = &pts[i];
        json_t *o =
            json_pack("{s:s, s:i, s:i, s:i, s:s, s:o}", "mode", cpu_mode_name(p->mode), "cores",
                      p->cores, "threads", p->threads, "workers", p->workers, "status", p->status,
                      "reason", p->reason[0] ? json_string(p->reason) : json_null());
        json_object_set(o, "verification", p->verification ? p->verification : json_null());
        json_t *lt = json_array();
        for (int r = 0; r < CPU_NROLES; r++) {
            const cpu_lat *l = &p->latency[r];
            if (!l->n) continue;
            json_array_append_new(lt,
                                  json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:o}", "role",
                                            cpu_role_name(r), "file", files[r].e->file, "audio_s",
                                            bench_jnum(files[r].e->duration_s), "n", l->n,
                                            "median_s", bench_jnum(l->med), "min_s",
                                            bench_jnum(l->min), "max_s", bench_jnum(l->max), "rtfx",
                                            bench_jnum(files[r].e->duration_s / l->med)));
        }
        json_object_set_new(o, "latency", lt);
        json_object_set_new(
            o, "throughput",
            p->have_thr
                ? json_pack("{s:i, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:b, s:o}",
                            "concurrency", p->concurrency, "duration_s", bench_jnum(p->thr_dur),
                            "completed", (json_int_t)p->completed, "ok", (json_int_t)p->ok,
                            "errors", (json_int_t)p->errors, "audio_s_per_s", bench_jnum(p->thr),
                            "rps", bench_jnum(p->rps), "p50_s", bench_jnum(p->p50), "p95_s",
                            bench_jnum(p->p95), "stable", p->stable, "relative_standard_error",
                            bench_jnum(p->thr_rel_se))
                : json_null());
        json_object_set_new(
            o, "cpu",
            p->have_thr ? json_pack("{s:o, s:o, s:o}", "cpu_s", bench_jnum(p->cpu_s), "wall_s",
                                    bench_jnum(p->wall_s), "utilisation", bench_jnum(p->util))
                        : json_null());
        json_object_set_new(o, "memory",
                            json_pack("{s:I, s:I}", "peak_pss_bytes", (json_int_t)p->peak_pss,
                                      "peak_rss_bytes", (json_int_t)p->peak_rss));
        json_object_set_new(
            o, "throttling",
            p->quota && p->have_thr
                ? json_pack("{s:I, s:I, s:o, s:o}", "nr_periods", (json_int_t)p->th.nr_periods,
                            "nr_throttled", (json_int_t)p->th.nr_throttled, "throttled_s",
                            bench_jnum(p->th.throttled_s), "throttled_fraction",
                            bench_jnum(p->th.nr_periods
                                           ? (double)p->th.nr_throttled / p->th.nr_periods
                                           : NAN))
                : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The whole of cpu.json; the caller frees it. */
static json_t *results_json(const cpu_results *res)
{
    const cpu_config *c = res->c;
    const stt_sysinfo *si = res->si;
    const cpu_file *files = res->files;
    const cpu_point *pts = res->pts;
    const cpu_analysis *an = res->an;
    const cpu_shape *sh = res->sh;
    const cpu_verdict *v = res->v;
    int npts = res->npts, nan_ = res->nan_, nsh = res->nsh;
    double t_start = res->t_start;
    json_t *root = json_object();
    char created[32];
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_set_new(root, "schema", json_string("sttbench-cpu/1"));
    json_object_set_new(root, "created", json_string(created));
    json_object_set_new(root, "machine", bench_machine_json(si));
    json_object_set_new(root, "commit", json_string(bench_commit()));
    json_t *jc = json_array(), *jm = json_array(), *jt = json_array(), *jw = json_array();
    for (int i = 0; i < c->ncores; i++)
        json_array_append_new(jc, json_integer(c->cores[i]));
    for (int i = 0; i < c->nmodes; i++)
        json_array_append_new(jm, json_string(cpu_mode_name(c->modes[i])));
    for (int i = 0; i < c->nthreads; i++)
        json_array_append_new(jt, json_integer(c->threads[i]));
    for (int i = 0; i < c->nworkers; i++)
        json_array_append_new(jw, json_integer(c->workers[i]));
    json_t *jf = json_object();
    for (int r = 0; r < CPU_NROLES; r++)
        if (files[r].e)
            json_object_set_new(jf, cpu_role_name(r),
                                json_pack("{s:s, s:o}", "file", files[r].e->file, "audio_s",
                                          bench_jnum(files[r].e->duration_s)));
    json_object_set_new(
        root, "config",
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:b, s:o, s:i, s:s, s:o, s:s, s:b}", "server_cmd",
                  c->server_cmd, "cores", jc, "modes", jm, "threads", jt, "workers",
                  c->nworkers ? jw : (json_decref(jw), json_null()), "corpus", c->corpus, "quick",
                  c->quick, "duration_s", bench_jnum(c->duration), "repeat", c->repeat, "cgroup",
                  res->cgroup, "files", jf, "throughput_file", files[CPU_ROLE_SHORT].e->file,
                  "shapes", c->shapes));
    json_object_set_new(root, "points", points_json(pts, npts, files));
    json_t *ja = json_array();
    for (int m = 0; m < nan_; m++)
        json_array_append_new(ja, analysis_json(&an[m]));
    json_object_set_new(root, "analysis", ja);
    json_t *qv = json_array();
    const cpu_analysis *acs = NULL, *aq = NULL;
    for (int m = 0; m < nan_; m++) {
        if (an[m].mode == STT_CPULIMIT_CPUSET) acs = &an[m];
        if (an[m].mode == STT_CPULIMIT_QUOTA) aq = &an[m];
    }
    for (int j = 0; acs && aq && j < acs->sr.n; j++)
        for (int k = 0; k < aq->sr.n; k++) {
            if (aq->sr.cores[k] != acs->sr.cores[j]) continue;
            double thf = NAN;
            for (int i = 0; i < npts; i++)
                if (pts[i].mode == STT_CPULIMIT_QUOTA && pts[i].cores == aq->sr.cores[k] &&
                    pts[i].have_thr && pts[i].th.nr_periods &&
                    pts[i].threads == (int)aq->sr.threads[k])
                    thf = (double)pts[i].th.nr_throttled / pts[i].th.nr_periods;
            json_array_append_new(
                qv, json_pack("{s:i, s:o, s:o, s:o}", "cores", (int)acs->sr.cores[j],
                              "throughput_ratio", bench_jnum(aq->sr.x[k] / acs->sr.x[j]),
                              "latency_ratio", bench_jnum(aq->sr.lat[k] / acs->sr.lat[j]),
                              "throttled_fraction", bench_jnum(thf)));
        }
    json_object_set_new(root, "quota_vs_cpuset", qv);
    json_t *jr = json_array();
    for (int i = 0; i < v->nreasons; i++)
        json_array_append_new(jr, json_string(v->reasons[i]));
    json_object_set_new(root, "verdict",
                        json_pack("{s:s, s:o, s:s}", "answer", v->answer, "reasons", jr,
                                  "to_confirm", v->to_confirm));
    json_t *js = json_array();
    for (int i = 0; i < nsh; i++)
        json_array_append_new(
            js, json_pack("{s:i, s:i, s:s, s:i, s:o, s:o, s:o, s:I, s:I, s:s, s:o}", "replicas",
                          sh[i].replicas, "cores_each", sh[i].cores_each, "balancer",
                          "haproxy leastconn", "concurrency", sh[i].concurrency, "audio_s_per_s",
                          bench_jnum(sh[i].thr), "p50_s", bench_jnum(sh[i].p50), "p95_s",
                          bench_jnum(sh[i].p95), "errors", (json_int_t)sh[i].errors,
                          "peak_pss_bytes", (json_int_t)sh[i].peak_pss, "status", sh[i].status,
                          "reason", sh[i].reason[0] ? json_string(sh[i].reason) : json_null()));
    json_object_set_new(root, "shapes", js);
    json_object_set_new(root, "wall_s", bench_jnum(bench_now_s() - t_start));
    return root;
}

int cpu_write_outputs(const cpu_results *r)
{
    const cpu_config *c = r->c;
    const cpu_point *pts = r->pts;
    const cpu_analysis *an = r->an;
    const cpu_shape *sh = r->sh;
    const cpu_verdict *v = r->v;
    int npts = r->npts, nan_ = r->nan_, nsh = r->nsh;
    json_t *root = results_json(r);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu.json", c->out);
    int status = 0;
    if (json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
        fprintf(stderr, "sttbench cpu: %s: cannot write\n", path);
        status = 1;
    }
    int charts_ok = write_charts(c, an, nan_, pts, npts, sh, nsh);
    snprintf(path, sizeof path, "%s/cpu_scaling_report.md", c->out);
    FILE *f = fopen(path, "w");
    if (f) {
        write_report(c, r->si, r->files, r->roles, r->nroles, pts, npts, an, nan_, sh, nsh, v,
                     charts_ok, f);
        fclose(f);
    } else {
        status = 1;
    }
    /* Summary. */
    printf("\n%-7s %5s %9s %8s %10s %12s\n", "mode", "cores", "audio/s", "speedup", "efficiency",
           "long lat s");
    for (int m = 0; m < nan_; m++)
        for (int j = 0; j < an[m].sr.n; j++)
            printf("%-7s %5d %9.2f %8.2f %10.2f %12.2f\n", cpu_mode_name(an[m].mode),
                   (int)an[m].sr.cores[j], an[m].sr.x[j], an[m].speedup[j], an[m].eff[j],
                   an[m].sr.lat[j]);
    for (int m = 0; m < nan_; m++)
        printf("%s: %s; Amdahl serial fraction %.3f (%s), latency serial fraction %.3f; USL %s\n",
               cpu_mode_name(an[m].mode), stt_scaling_class_name(an[m].cls), an[m].thr.am.s,
               stt_fit_status_name(an[m].thr.am.status), an[m].lat.am.s,
               stt_fit_status_name(an[m].thr.usl.status));
    for (int i = 0; i < nsh; i++)
        printf("shape %d x %d cores: %.2f audio s/s, p95 %.2f s, peak PSS %.0f MiB (%s)\n",
               sh[i].replicas, sh[i].cores_each, sh[i].thr, sh[i].p95, sh[i].peak_pss / 1048576.0,
               sh[i].status);
    printf("verdict: %s\nresults: %s/cpu.json, %s/cpu_scaling_report.md\n", v->answer, c->out,
           c->out);
    int refused = 0;
    for (int i = 0; i < npts; i++)
        refused += strcmp(pts[i].status, "ok") != 0;
    if (refused) printf("%d point(s) refused or failed; see the report\n", refused);
    json_decref(root);
    return status;
}
