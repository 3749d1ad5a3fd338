/* profile/text: cpu_scaling_report.md, the charts and the terminal summary. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "error.h"
#include "internal.h"
#include "results.h"

/* "1.23 (1.10-1.35)", or "-" when not computable; into a caller buffer. */
static const char *ci3(char *b, size_t len, double v, double lo, double hi)
{
    if (!isfinite(v))
        snprintf(b, len, "-");
    else if (!isfinite(lo) || !isfinite(hi))
        snprintf(b, len, "%.3g (no interval)", v);
    else
        snprintf(b, len, "%.3g (%.3g-%.3g)", v, lo, hi);
    return b;
}

static const char *est(char *b, size_t len, const stt_estimate *e)
{
    return ci3(b, len, e->value, e->ci.lo, e->ci.hi);
}

static const char *sum(char *b, size_t len, const double *x, int n)
{
    stt_summary s;
    stt_stats_summarize(x, (size_t)n, 0.95, &s);
    return ci3(b, len, s.median, s.median_ci.lo, s.median_ci.hi);
}

/* A growing text. */
typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void tx(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tx(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list aq;
    va_copy(aq, ap);
    int k = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (k < 0) {
        va_end(ap);
        return;
    }
    if (t->n + (size_t)k + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)k;
        char *p = realloc(t->p, cap);
        if (!p) {
            va_end(ap);
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    t->n += (size_t)k;
    va_end(ap);
}

static const pf_config *strong_of(const stt_profile *r)
{
    return r->ncap ? &r->cfg[r->cap_cfg[0]] : NULL;
}

/* ---- the answers, shared by the report and the summary ---- */

static void answer_capacity(const stt_profile *r, text *t)
{
    tx(t, "%s (%s).", r->answer, r->confidence);
    for (int i = 0; i < r->nreasons; i++)
        tx(t, " %s", r->reasons[i]);
}

static void answer_scaling(const stt_profile *r, text *t, int quota)
{
    char b1[96], b2[96], b3[96];
    if (!r->has_scaling[quota]) {
        tx(t, "not measured.");
        return;
    }
    const stt_scaling *s = &r->scaling[quota];
    const stt_scaling_point *last = NULL;
    for (size_t j = 0; j < s->n; j++)
        if (!s->pt[j].excluded) last = &s->pt[j];
    if (!last) {
        tx(t, "undetermined: no %s point could be used (see the points left out)",
           quota ? "quota" : "pinned");
    } else if (s->nused < 2) {
        tx(t, "undetermined: only %g core(s) could be used", last->cores);
    } else {
        tx(t, "%s: efficiency at %g cores %s, throughput speedup %s; Amdahl serial fraction %s",
           stt_scaling_class_name(s->cls), last->cores, est(b1, sizeof b1, &last->efficiency),
           est(b2, sizeof b2, &last->speedup),
           ci3(b3, sizeof b3, s->serial.value, s->serial.ci.lo, s->serial.ci.hi));
    }
    if (s->lat_serial.n)
        tx(t, "; serial fraction of one long request %s", est(b2, sizeof b2, &s->lat_serial));
    if (s->unmeasured_from)
        tx(t, ". The curve from %d to %d cores is unmeasured on this machine", s->unmeasured_from,
           r->p.max_cores);
    tx(t, ".");
}

static void answer_threads(const stt_profile *r, text *t)
{
    char b[96];
    if (!r->nthr) {
        tx(t, "not measured%s.",
           r->p.threads ? " (no thread-search configuration ran)"
           : r->p.quick ? " with --quick"
                        : "");
        return;
    }
    for (int i = 0; i < r->nthr; i++) {
        const pf_config *c = &r->cfg[r->thr[i].cfg];
        tx(t, "%s%d cores:", i ? "; " : "", c->c.cores);
        for (int load = 0; load < 2; load++) {
            const stt_threads_optimum *o = &r->thr[i].opt[load];
            if (o->best < 0) {
                tx(t, " %s not measured", load ? "under load" : "idle");
                continue;
            }
            tx(t, " %s best %d threads, %s s", load ? "under load" : "idle", c->c.probe[o->best],
               ci3(b, sizeof b, o->lat[o->best].median, o->lat[o->best].median_ci.lo,
                   o->lat[o->best].median_ci.hi));
            if (o->status == STT_OPT_TIED) {
                tx(t, ", tied with");
                for (int k = 0; k < c->c.nprobe; k++)
                    if (o->tied[k]) tx(t, " %d", c->c.probe[k]);
                tx(t, " (use %d)", c->c.probe[o->recommended]);
            }
            tx(t, "%s", load ? "" : ";");
        }
    }
    tx(t, ".");
}

static void answer_dim(const stt_profile *r, text *t)
{
    if (!r->has_scaling[0]) {
        tx(t, "not measured.");
        return;
    }
    const stt_scaling *s = &r->scaling[0];
    tx(t, "%s", stt_dim_status_name(s->dim));
    if (s->dim == STT_DIM_FOUND) tx(t, " at %g cores", s->dim_cores);
    tx(t, ": %s.", s->dim_why);
}

static void answer_quota(const stt_profile *r, text *t)
{
    char b1[96], b2[96];
    if (!r->nqvc) {
        tx(t, "not measured%s.",
           strcmp(r->cgroup, "none") ? " (no included pair of points)" : " (no writable cgroup)");
        return;
    }
    for (int i = 0; i < r->nqvc; i++)
        tx(t, "%sat %d cores, quota/cpuset throughput %s, one long request's time %s",
           i ? "; " : "", r->qvc[i].cores, est(b1, sizeof b1, &r->qvc[i].thr),
           est(b2, sizeof b2, &r->qvc[i].lat));
    tx(t, ".");
}

/* ---- the report ---- */

static void points_table(const stt_profile *r, FILE *f)
{
    char b1[96], b2[96], b3[96], b4[96];
    fprintf(
        f,
        "| configuration | workers | status | rounds counted | audio s/s (95%% CI) | CPU used / "
        "given | "
        "point counts | %s s | %s s | peak PSS MiB |\n|---|---|---|---|---|---|---|---|---|---|\n",
        r->files[PF_SHORT].name, r->files[PF_LONG].name);
    for (int i = 0; i < r->n; i++) {
        const pf_config *c = &r->cfg[i];
        if (c->c.kind == STT_PROFILE_THREADS) continue;
        int thr = (c->c.measure & STT_PROFILE_M_THROUGHPUT) != 0;
        if (isfinite(c->util_med))
            snprintf(b4, sizeof b4, "%.2f of %.2f", c->util_med * c->capacity, c->capacity);
        else
            snprintf(b4, sizeof b4, "-");
        fprintf(
            f, "| %s | %d | %s%s%s | %d of %d | %s | %s | %s | %s | %s | %.0f |\n", c->c.label,
            c->c.workers, c->status, c->reason[0] ? ": " : "", c->reason, c->nvalid, c->nrounds,
            thr ? sum(b1, sizeof b1, c->thr_v, c->nrounds) : "-", thr ? b4 : "-",
            !thr          ? "-"
            : c->excluded ? "no"
                          : "yes",
            c->c.measure & STT_PROFILE_M_SHORT ? sum(b2, sizeof b2, c->lat_v[PF_SHORT], c->nrounds)
                                               : "-",
            c->c.measure & STT_PROFILE_M_LONG ? sum(b3, sizeof b3, c->lat_v[PF_LONG], c->nrounds)
                                              : "-",
            c->peak.pss / 1048576.0);
    }
    int any = 0;
    for (int i = 0; i < r->n; i++)
        if (r->cfg[i].excluded && r->cfg[i].excluded_why[0]) {
            if (!any) fprintf(f, "\nLeft out of every decision:\n\n");
            any = 1;
            fprintf(f, "- %s: %s\n", r->cfg[i].c.label, r->cfg[i].excluded_why);
        }
}

static void scaling_table(const stt_profile *r, FILE *f, int quota)
{
    const stt_scaling *s = &r->scaling[quota];
    char b[5][96];
    fprintf(f,
            "\n### %s\n\n| cores | n | audio s/s | speedup | efficiency | long request s | "
            "latency speedup |\n|---|---|---|---|---|---|---|\n",
            quota ? "CFS quota (unpinned)" : "Pinned cores (cpuset)");
    for (size_t j = 0; j < s->n; j++) {
        const stt_scaling_point *pt = &s->pt[j];
        fprintf(f, "| %g%s | %zu | %s | %s | %s | %s | %s |\n", pt->cores,
                pt->excluded ? " (excluded)" : "", pt->x.n,
                ci3(b[0], 96, pt->x.median, pt->x.median_ci.lo, pt->x.median_ci.hi),
                pt->excluded ? "-" : est(b[1], 96, &pt->speedup),
                pt->excluded ? "-" : est(b[2], 96, &pt->efficiency),
                ci3(b[3], 96, pt->lat.median, pt->lat.median_ci.lo, pt->lat.median_ci.hi),
                est(b[4], 96, &pt->lat_speedup));
    }
    fprintf(f, "\nAmdahl (throughput): %s, %d core counts, serial fraction %s [%s]%s. USL: %s",
            stt_fit_status_name(s->amdahl.status), s->amdahl.points,
            ci3(b[0], 96, s->serial.value, s->serial.ci.lo, s->serial.ci.hi),
            s->serial.method ? s->serial.method : "-",
            s->amdahl.bounded ? " (held at its bound: the data lie outside Amdahl's range)" : "",
            stt_fit_status_name(s->usl.status));
    if (s->sigma.n)
        fprintf(f, ", sigma %s, kappa %s", est(b[1], 96, &s->sigma), est(b[2], 96, &s->kappa));
    fprintf(f, ".\n");
    if (s->nproj) {
        fprintf(f,
                "\n**Projections, not measurements** (Amdahl band beyond %g cores; used by no "
                "decision):\n\n| cores | speedup | band |\n|---|---|---|\n",
                s->measured_max);
        for (int i = 0; i < s->nproj; i++)
            fprintf(f, "| %g | %.2f | %.2f-%.2f |\n", s->proj[i].cores, s->proj[i].speedup,
                    s->proj[i].lo, s->proj[i].hi);
    } else {
        fprintf(f, "\nNo projection: a fit projects only from parameters + 1 core counts (Amdahl: "
                   "3, USL: 4).\n");
    }
}

static void capacity_table(const stt_profile *r, FILE *f)
{
    const stt_capacity *c = &r->capacity;
    const pf_config *s = strong_of(r);
    char b[4][96];
    static const char *const words[STT_CAP_NMETRICS] = {
        "throughput, audio s/s", "one short request, s", "one long request, s",
        "p95 under Poisson arrivals, s"};
    for (size_t i = 0; i < c->npairs; i++) {
        const stt_capacity_pair *pr = &c->pair[i];
        const pf_config *w = &r->cfg[r->cap_cfg[pr->weak]];
        fprintf(f,
                "\n### %s against %s\n\n| metric | %s | %s | weak/strong (95%% CI) | n | "
                "verdict |\n|---|---|---|---|---|---|\n",
                w->c.label, s->c.label, s->c.label, w->c.label);
        for (int m = 0; m < STT_CAP_NMETRICS; m++) {
            const stt_capacity_metric_result *res = &pr->m[m];
            const char *sv = "-", *wv = "-";
            if (m == STT_CAP_THROUGHPUT) {
                sv = sum(b[0], 96, s->thr_v, s->nrounds);
                wv = sum(b[1], 96, w->thr_v, w->nrounds);
            } else if (m == STT_CAP_SHORT || m == STT_CAP_LONG) {
                int role = m == STT_CAP_SHORT ? PF_SHORT : PF_LONG;
                sv = sum(b[0], 96, s->lat_v[role], s->nrounds);
                wv = sum(b[1], 96, w->lat_v[role], w->nrounds);
            } else {
                const stt_capacity_p95 *ps = &c->p95[0], *pw = &c->p95[pr->weak];
                if (ps->n) {
                    if (ps->supported)
                        ci3(b[0], 96, ps->p95, ps->ci.lo, ps->ci.hi);
                    else
                        snprintf(b[0], 96, "n too small (%zu)", ps->n);
                    sv = b[0];
                }
                if (pw->n) {
                    if (pw->supported)
                        ci3(b[1], 96, pw->p95, pw->ci.lo, pw->ci.hi);
                    else
                        snprintf(b[1], 96, "n too small (%zu)", pw->n);
                    wv = b[1];
                }
            }
            fprintf(
                f, "| %s | %s | %s | %s | %zu | %s |\n", words[m], sv, wv,
                res->side == STT_CAP_NOT_MEASURED ? "-" : est(b[2], 96, &res->ratio), res->ratio.n,
                res->side == STT_CAP_UNDETERMINED ? res->why : stt_capacity_side_name(res->side));
        }
    }
    if (r->poisson_rate > 0)
        fprintf(f,
                "\nPoisson arrivals at %.3f requests/s in both (%.0f%% of the strong "
                "configuration's capacity, from its service time on an idle server), %d "
                "requests per configuration per round, latency from the scheduled send.\n",
                r->poisson_rate, 100 * r->p.poisson_load, r->p.poisson);
    else
        fprintf(f, "\np95 under Poisson arrivals: not measured%s.\n",
                r->p.quick ? " with --quick" : "");
    fprintf(f, "\nMechanism: %s\n\n%s\n", c->mechanism, stt_capacity_caveat());
}

static void threads_tables(const stt_profile *r, FILE *f)
{
    char b[2][96];
    for (int i = 0; i < r->nthr; i++) {
        const pf_config *c = &r->cfg[r->thr[i].cfg];
        int clients = c->c.cores / 2 > 1 ? c->c.cores / 2 : 1;
        fprintf(f,
                "\n### %d cores, %d workers: one %s request\n\nUnder load: %d back-to-back "
                "client(s) sending %s, measured at %s audio s/s.\n\n| threads | n | idle s | "
                "idle / best | under load s | under load / best |\n|---|---|---|---|---|---|\n",
                c->c.cores, c->c.workers, r->files[PF_LONG].name, clients, r->files[PF_SHORT].name,
                sum(b[0], 96, c->bg_thr, c->nrounds));
        for (int k = 0; k < c->c.nprobe; k++) {
            const stt_threads_optimum *a = &r->thr[i].opt[0], *l = &r->thr[i].opt[1];
            char c1[96], c2[96];
            fprintf(f, "| %d | %zu | %s | %s | %s | %s |\n", c->c.probe[k], a->lat[k].n,
                    ci3(b[0], 96, a->lat[k].median, a->lat[k].median_ci.lo, a->lat[k].median_ci.hi),
                    k == a->best ? "best" : est(c1, 96, &a->ratio[k]),
                    ci3(b[1], 96, l->lat[k].median, l->lat[k].median_ci.lo, l->lat[k].median_ci.hi),
                    k == l->best ? "best" : est(c2, 96, &l->ratio[k]));
        }
    }
}

int pf_write_report(const stt_profile *r, int charts_ok, const char *chart_err, char *err,
                    size_t errlen)
{
    char path[PATH_MAX], commit[64];
    snprintf(path, sizeof path, "%s/cpu_scaling_report.md", r->p.out);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: cannot write", path);
    stt_results_commit(commit, sizeof commit);
    const stt_sysinfo *si = &r->si;
    fprintf(f, "# CPU scaling profile\n\n");
    fprintf(f,
            "Machine: %s, %d logical cores (%d usable), %.1f GiB RAM, %s. Commit %s.\n\n"
            "Server: `%s`. Every configuration was started once under its restriction, proven "
            "(affinity, cgroup and quota read back, the server's gauges, sttd's own usable-CPU "
            "count, CPU used never above what was given, weak cores seen throttled), and measured "
            "in %d interleaved rounds, in a shuffled order each round. Throughput: the time to %d "
            "completions (rounded up to whole batches of the workers) of a closed loop of 2 x "
            "workers clients sending %s, with the server's "
            "CPU use over that interval; single requests: %s (%.0f s) and %s (%.0f s), one of "
            "each per round. A round's visit counts only when its saturated run used >= %.0f%% of "
            "the CPUs given (else the machine, the generator or the harness took them), and "
            "nothing is decided from fewer than 5 counted rounds. Intervals are 95%%: order "
            "statistics of the per-round values or ratios, or the round bootstrap.%s\n\n",
            si->cpu_model, si->logical_cores, r->usable, si->mem_total / 1073741824.0, si->kernel,
            commit, r->p.server_cmd, r->rounds_run[0], r->p.requests, r->files[PF_SHORT].name,
            r->files[PF_SHORT].name, r->files[PF_SHORT].audio_s, r->files[PF_LONG].name,
            r->files[PF_LONG].audio_s, 100 * r->p.saturation,
            r->p.quick ? " Quick mode: fewer rounds and requests, so wider intervals." : "");
    if (r->p.request_profile)
        fprintf(f, "Every request asked for the %s profile (`--profile`).\n\n",
                r->p.request_profile);
    text t = {0};
    tx(&t, "1. **Many weak cores or few strong ones?** ");
    answer_capacity(r, &t);
    tx(&t, "\n2. **How does throughput scale with cores?** ");
    answer_scaling(r, &t, 0);
    tx(&t, "\n3. **Where do returns diminish?** ");
    answer_dim(r, &t);
    tx(&t, "\n4. **Optimal threads per request:** ");
    answer_threads(r, &t);
    tx(&t, "\n5. **A CFS quota against pinned cores:** ");
    answer_quota(r, &t);
    fprintf(f, "## Answers\n\n%s\n\nTo confirm: %s\n", t.p ? t.p : "", r->to_confirm);
    free(t.p);
    if (r->has_capacity) {
        fprintf(f, "\n## Equal capacity: many weak cores or few strong ones\n");
        capacity_table(r, f);
    }
    fprintf(f, "\n## Configurations\n\n");
    points_table(r, f);
    fprintf(f, "\n## Scaling\n");
    for (int q = 0; q < 2; q++)
        if (r->has_scaling[q]) scaling_table(r, f, q);
    if (r->nthr) {
        fprintf(f, "\n## Threads per request\n");
        threads_tables(r, f);
    }
    if (r->notes[0]) fprintf(f, "\n## Not measured\n\n");
    char buf[sizeof r->notes];
    snprintf(buf, sizeof buf, "%s", r->notes);
    for (char *s = NULL, *l = strtok_r(buf, "\n", &s); l; l = strtok_r(NULL, "\n", &s))
        fprintf(f, "- %s\n", l);
    if (charts_ok)
        fprintf(f, "\n## Charts\n\n![speedup](speedup_vs_cores.png)\n%s%s",
                r->has_capacity ? "![equal capacity](capacity.png)\n" : "",
                r->nthr ? "![threads](latency_vs_threads.png)\n" : "");
    else
        fprintf(f, "\n(No charts: %s.)\n",
                chart_err && chart_err[0] ? chart_err : "gnuplot failed");
    fprintf(f, "\nRun time: %.0f s (phase 1: %.0f s over %d rounds; thread search: %.0f s).\n",
            r->wall_s, r->phase_s[0], r->rounds_run[0], r->phase_s[1]);
    int bad = ferror(f);
    if (fclose(f) || bad) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}

/* ---- charts ---- */

int pf_write_charts(const stt_profile *r, char *err, size_t errlen)
{
    if (!stt_chart_available())
        return stt_seterr(err, errlen, STT_ENOTFOUND, "gnuplot is not installed");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu_charts.dat", r->p.out);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: cannot write", path);
    /* index 0, 1: measured speedups (cpuset, quota); 2: projection band;
     * 3: capacity ratios; 4: thread probes. Empty blocks hold a comment. */
    double maxn = 2;
    for (int q = 0; q < 2; q++) {
        fprintf(f, "# %s: cores speedup lo hi\n", q ? "quota" : "cpuset");
        const stt_scaling *s = &r->scaling[q];
        int any = 0;
        for (size_t j = 0; r->has_scaling[q] && j < s->n; j++)
            if (!s->pt[j].excluded && isfinite(s->pt[j].speedup.value)) {
                fprintf(f, "%g %g %g %g\n", s->pt[j].cores, s->pt[j].speedup.value,
                        s->pt[j].speedup.ci.lo, s->pt[j].speedup.ci.hi);
                maxn = fmax(maxn, s->pt[j].cores);
                any = 1;
            }
        if (!any) fprintf(f, "NaN NaN NaN NaN\n");
        fprintf(f, "\n\n");
    }
    const stt_scaling *s0 = &r->scaling[0];
    fprintf(f, "# projection band: cores lo hi speedup\n");
    if (r->has_scaling[0] && s0->nproj) {
        for (int i = 0; i < s0->nproj; i++)
            fprintf(f, "%g %g %g %g\n", s0->proj[i].cores, s0->proj[i].lo, s0->proj[i].hi,
                    s0->proj[i].speedup);
    } else {
        fprintf(f, "NaN NaN NaN NaN\n");
    }
    fprintf(f, "\n\n# capacity: index metric ratio lo hi\n");
    int nbars = 0;
    if (r->has_capacity) {
        const stt_capacity_pair *h = &r->capacity.pair[r->capacity.headline];
        static const char *const lab[STT_CAP_NMETRICS] = {"throughput", "short request",
                                                          "long request", "p95 Poisson"};
        for (int m = 0; m < STT_CAP_NMETRICS; m++)
            if (isfinite(h->m[m].ratio.value))
                fprintf(f, "%d \"%s\" %g %g %g\n", nbars++, lab[m], h->m[m].ratio.value,
                        h->m[m].ratio.ci.lo, h->m[m].ratio.ci.hi);
    }
    if (!nbars) fprintf(f, "0 \"none\" NaN NaN NaN\n");
    fprintf(f, "\n\n# threads: cores threads idle lo hi loaded lo hi\n");
    for (int i = 0; i < r->nthr; i++) {
        const pf_config *c = &r->cfg[r->thr[i].cfg];
        for (int k = 0; k < c->c.nprobe; k++) {
            const stt_summary *a = &r->thr[i].opt[0].lat[k], *l = &r->thr[i].opt[1].lat[k];
            fprintf(f, "%d %d %g %g %g %g %g %g\n", c->c.cores, c->c.probe[k], a->median,
                    a->median_ci.lo, a->median_ci.hi, l->median, l->median_ci.lo, l->median_ci.hi);
        }
    }
    if (!r->nthr) fprintf(f, "NaN NaN NaN NaN NaN NaN NaN NaN\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/cpu_charts.gp", r->p.out);
    if (!(f = fopen(path, "w"))) return stt_seterr(err, errlen, STT_EIO, "%s: cannot write", path);
    double xmax = fmax(4, s0->nproj ? s0->proj[s0->nproj - 1].cores : maxn * 2);
    static const char *const term[2][2] = {{"pngcairo size 900,560", "png"},
                                           {"svg size 900,560 dynamic", "svg"}};
    for (int k = 0; k < 2; k++) {
        fprintf(f, "set terminal %s\nset grid\nset key left top\nset datafile missing 'NaN'\n",
                term[k][0]);
        fprintf(f,
                "set output 'speedup_vs_cores.%s'\nset title 'Throughput speedup against cores "
                "(95%% intervals; beyond %g cores: unmeasured)'\nset xlabel 'cores'\nset ylabel "
                "'speedup'\nset xrange [0.5:%g]\nset yrange [0:*]\n",
                term[k][1], maxn, xmax * 1.05);
        fprintf(f, "plot x with lines dashtype 3 title 'linear'");
        if (s0->nproj)
            fprintf(f, ", 'cpu_charts.dat' index 2 using 1:2:3 with filledcurves fill "
                       "transparent solid 0.2 title 'projection (Amdahl band), not measured'");
        for (int q = 0; q < 2; q++)
            if (r->has_scaling[q])
                fprintf(f,
                        ", 'cpu_charts.dat' index %d using 1:2:3:4 with yerrorlines title '%s "
                        "measured'",
                        q, q ? "quota" : "cpuset");
        fprintf(f, "\nunset xrange\nunset yrange\nunset title\n");
        if (r->has_capacity)
            fprintf(f,
                    "set output 'capacity.%s'\nset title 'Equal capacity: weak / strong (95%% "
                    "intervals; 1 = no difference)'\nset xlabel ''\nset ylabel 'weak / strong'\n"
                    "set xrange [-0.5:%d.5]\nset yrange [0:*]\nset xtics rotate by 0\n"
                    "plot 'cpu_charts.dat' index 3 using 1:3:4:5:xtic(2) with yerrorbars pt 7 "
                    "ps 1.5 title 'measured', 1 with lines dashtype 2 title 'equal'\n"
                    "unset xrange\nunset yrange\nunset title\nset xtics autofreq\n",
                    term[k][1], nbars > 0 ? nbars - 1 : 0);
        if (r->nthr) {
            fprintf(f,
                    "set output 'latency_vs_threads.%s'\nset title 'One long request against "
                    "threads per request (95%% intervals)'\nset xlabel 'threads per request'\n"
                    "set ylabel 'latency (s)'\nset logscale x 2\nplot ",
                    term[k][1]);
            for (int i = 0; i < r->nthr; i++) {
                int cores = r->cfg[r->thr[i].cfg].c.cores;
                fprintf(f,
                        "%s'cpu_charts.dat' index 4 using ($1==%d?$2:1/0):3:4:5 with "
                        "yerrorlines title '%d cores, idle', 'cpu_charts.dat' index 4 using "
                        "($1==%d?$2:1/0):6:7:8 with yerrorlines title '%d cores, under load'",
                        i ? ", " : "", cores, cores, cores, cores);
            }
            fprintf(f, "\nunset logscale x\nunset title\n");
        }
    }
    fclose(f);
    return stt_chart_run(r->p.out, "cpu_charts.gp", err, errlen);
}

/* ---- the summary ---- */

char *pf_summary_text(const stt_profile *r)
{
    text t = {0};
    char b1[96], b2[96];
    tx(&t, "\n%-14s %-8s %5s %-26s %-13s %-7s %s\n", "configuration", "status", "n",
       "audio s/s (95% CI)", "CPU used", "counted", "long request s");
    for (int i = 0; i < r->n; i++) {
        const pf_config *c = &r->cfg[i];
        if (c->c.kind == STT_PROFILE_THREADS) continue;
        int thr = (c->c.measure & STT_PROFILE_M_THROUGHPUT) != 0;
        char used[48];
        if (isfinite(c->util_med))
            snprintf(used, sizeof used, "%.2f/%.2f", c->util_med * c->capacity, c->capacity);
        else
            snprintf(used, sizeof used, "-");
        char nn[16];
        snprintf(nn, sizeof nn, "%d/%d", c->nvalid, c->nrounds);
        tx(&t, "%-14s %-8s %5s %-26s %-13s %-7s %s\n", c->c.label, c->status, nn,
           thr ? sum(b1, sizeof b1, c->thr_v, c->nrounds) : "-", thr ? used : "-",
           !thr          ? "-"
           : c->excluded ? "no"
                         : "yes",
           sum(b2, sizeof b2, c->lat_v[PF_LONG], c->nrounds));
    }
    for (int i = 0; i < r->n; i++)
        if (r->cfg[i].excluded && r->cfg[i].excluded_why[0])
            tx(&t, "  %s left out: %s\n", r->cfg[i].c.label, r->cfg[i].excluded_why);
    tx(&t, "\nweak vs strong cores: ");
    answer_capacity(r, &t);
    tx(&t, "\nscaling with cores: ");
    answer_scaling(r, &t, 0);
    tx(&t, "\ndiminishing returns: ");
    answer_dim(r, &t);
    tx(&t, "\nthreads per request: ");
    answer_threads(r, &t);
    tx(&t, "\nquota against pinned cores: ");
    answer_quota(r, &t);
    char buf[sizeof r->notes];
    snprintf(buf, sizeof buf, "%s", r->notes);
    for (char *s = NULL, *l = strtok_r(buf, "\n", &s); l; l = strtok_r(NULL, "\n", &s))
        tx(&t, "\nnot measured: %s", l);
    tx(&t, "\nverdict: %s (%s)\nresults: %s/cpu.json, %s/cpu_scaling_report.md (%.0f s)\n",
       r->answer, r->confidence, r->p.out, r->p.out, r->wall_s);
    return t.p;
}
