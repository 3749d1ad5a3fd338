/* profile/analyse: from the rounds to the answers. No I/O. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "rounds.h"
#include "stats.h"

static int measures_throughput(const pf_config *c)
{
    return (c->c.measure & STT_PROFILE_M_THROUGHPUT) && !strcmp(c->status, "ok");
}

/* Round i of c counts for its throughput. */
static int counts(const pf_config *c, int i, double saturation)
{
    return c->util[i] >= saturation && isfinite(c->thr[i]) && c->thr[i] > 0;
}

/* The machine's speed in each of the first n rounds as the configurations
 * of c's phase other than c saw it: the median of their counted
 * throughputs, each relative to its own median (a median, so that one
 * configuration that moves on its own does not move the others' speed
 * much). Returns 0 (rel untouched) unless every round c counts has such a
 * speed.
 *
 * Why: the rounds of one point are minutes apart, and a shared VM speeds up
 * or slows down by a quarter in that time; every configuration of a round
 * moves alike, and every decision is a per-round ratio that cancels it. The
 * stability rule is therefore applied to throughput relative to the round's
 * speed: what it catches is a configuration that moved against the others,
 * not the machine. Leaving c out keeps its own swings from being divided
 * away. No library offers this normalisation; it is a few lines. */
static int round_speed(const stt_profile *r, const pf_config *c, int n, double saturation,
                       double *rel)
{
    double seen[PF_R][PF_NC];
    size_t cnt[PF_R] = {0};
    for (int j = 0; j < r->n && j < PF_NC; j++) {
        const pf_config *o = &r->cfg[j];
        if (o == c || o->c.phase != c->c.phase || !measures_throughput(o)) continue;
        double x[PF_R];
        size_t k = 0;
        for (int i = 0; i < n; i++)
            if (counts(o, i, saturation)) x[k++] = o->thr[i];
        if (!k) continue;
        double med = stt_stats_quantile(x, k, 0.5);
        for (int i = 0; i < n; i++)
            if (counts(o, i, saturation)) seen[i][cnt[i]++] = o->thr[i] / med;
    }
    for (int i = 0; i < n; i++)
        if (counts(c, i, saturation) && !cnt[i]) return 0;
    for (int i = 0; i < n; i++)
        rel[i] = cnt[i] ? stt_stats_quantile(seen[i], cnt[i], 0.5) : NAN;
    return 1;
}

int pf_count_rounds(const stt_profile *r, pf_config *c, int n, double saturation)
{
    int thr = (c->c.measure & STT_PROFILE_M_THROUGHPUT) != 0;
    double counted[PF_R], speed[PF_R];
    c->stable_relative = thr && round_speed(r, c, n, saturation, speed);
    int k = 0;
    c->nvalid = 0;
    for (int i = 0; i < PF_R; i++) {
        c->valid[i] = i < n && (!thr || c->util[i] >= saturation);
        c->nvalid += c->valid[i];
        c->thr_v[i] = c->valid[i] ? c->thr[i] : NAN;
        for (int role = 0; role < PF_NROLES; role++)
            c->lat_v[role][i] = i < n ? c->lat[role][i] : NAN;
        c->npois_v[i] = i < n ? c->npois[i] : 0;
        if (c->valid[i] && isfinite(c->thr[i]))
            counted[k++] = c->stable_relative ? c->thr[i] / speed[i] : c->thr[i];
    }
    c->saturated = c->nvalid >= STT_ROUNDS_MIN;
    c->stable = stt_stats_stable(counted, (size_t)k, 3, 0.10);
    return !thr || (c->saturated && c->stable);
}

static void derive(const stt_profile *r, pf_config *c, double saturation)
{
    c->excluded = 1;
    c->excluded_why[0] = 0;
    c->util_med = NAN;
    int point_counts = pf_count_rounds(r, c, c->nrounds, saturation);
    if (!(c->c.measure & STT_PROFILE_M_THROUGHPUT)) return;
    if (strcmp(c->status, "ok")) {
        snprintf(c->excluded_why, sizeof c->excluded_why, "%s: %.280s", c->status, c->reason);
        return;
    }
    stt_summary u;
    if (stt_stats_summarize(c->util, (size_t)c->nrounds, 0.95, &u) == 0) c->util_med = u.median;
    if (!c->nrounds)
        snprintf(c->excluded_why, sizeof c->excluded_why, "no round was measured");
    else if (!c->saturated)
        snprintf(c->excluded_why, sizeof c->excluded_why,
                 "not saturated (the generator, the harness or the hypervisor took the CPU) in "
                 "%d of %d rounds: the server "
                 "used a median %.2f of the %.2f CPU(s) it was given; a round counts only at "
                 ">= %.2f, a comparison needs %d such rounds",
                 c->nrounds - c->nvalid, c->nrounds, c->util_med, c->capacity, saturation,
                 STT_ROUNDS_MIN);
    else if (!c->stable)
        snprintf(c->excluded_why, sizeof c->excluded_why,
                 "unstable: the last three counted rounds' throughput%s differ by more than 10%% "
                 "of their mean",
                 c->stable_relative ? ", each relative to the other configurations' in its round,"
                                    : "");
    c->excluded = !point_counts;
}

static void scaling_of(stt_profile *r, int quota)
{
    stt_profile_kind kind = quota ? STT_PROFILE_QUOTA : STT_PROFILE_SCALING;
    int n = 0;
    for (int i = 0; i < r->n && n < STT_SCALING_MAX; i++)
        if (r->cfg[i].c.kind == kind) r->series_cfg[quota][n++] = i;
    r->nseries[quota] = n;
    if (!n) return;
    size_t R = (size_t)r->rounds_run[0];
    static double x[STT_SCALING_MAX * PF_R], lat[STT_SCALING_MAX * PF_R];
    double cores[STT_SCALING_MAX];
    int ex[STT_SCALING_MAX], lex[STT_SCALING_MAX];
    for (int j = 0; j < n; j++) {
        const pf_config *c = &r->cfg[r->series_cfg[quota][j]];
        cores[j] = c->c.cores;
        ex[j] = c->excluded;
        lex[j] = strcmp(c->status, "ok") != 0;
        for (size_t k = 0; k < R; k++) {
            x[j * R + k] = c->thr_v[k];
            lat[j * R + k] = c->lat_v[PF_LONG][k];
        }
    }
    stt_scaling_input in = {(size_t)n, R, cores, x, lat, ex, lex};
    stt_scaling_params sp = stt_scaling_default_params();
    sp.seed = r->p.seed;
    sp.max_cores = r->p.max_cores;
    r->has_scaling[quota] = stt_scaling_analyse(&in, &sp, &r->scaling[quota]) == 0;
}

static void quota_vs_cpuset(stt_profile *r)
{
    size_t R = (size_t)r->rounds_run[0];
    for (int q = 0; q < r->n; q++) {
        const pf_config *cq = &r->cfg[q];
        if (cq->c.kind != STT_PROFILE_QUOTA) continue;
        for (int s = 0; s < r->n; s++) {
            const pf_config *cs = &r->cfg[s];
            if (cs->c.kind != STT_PROFILE_SCALING || cs->c.cores != cq->c.cores) continue;
            if (cs->excluded || cq->excluded || r->nqvc >= STT_SCALING_MAX) continue;
            pf_qvc *e = &r->qvc[r->nqvc];
            e->cores = cq->c.cores;
            e->cpuset = s;
            e->quota = q;
            if (stt_rounds_ratio(cs->thr_v, cq->thr_v, R, 0, 0.95, &e->thr)) continue;
            if (stt_rounds_ratio(cs->lat_v[PF_LONG], cq->lat_v[PF_LONG], R, 0, 0.95, &e->lat))
                e->lat = stt_estimate_none();
            e->throttled =
                cq->th.nr_periods > 0 ? (double)cq->th.nr_throttled / cq->th.nr_periods : NAN;
            r->nqvc++;
        }
    }
}

static void capacity_of(stt_profile *r)
{
    int strong = -1;
    for (int i = 0; i < r->n; i++)
        if (r->cfg[i].c.strong) strong = i;
    if (strong < 0) {
        snprintf(r->capacity_skip, sizeof r->capacity_skip, "%s",
                 r->notes[0] ? "the equal-capacity experiment was not measured (see the notes)"
                             : "the equal-capacity experiment was not asked for");
        return;
    }
    r->cap_cfg[r->ncap++] = strong;
    for (int i = 0; i < r->n && r->ncap < STT_CAPACITY_MAX; i++)
        if (r->cfg[i].c.kind == STT_PROFILE_CAPACITY && !r->cfg[i].c.strong)
            r->cap_cfg[r->ncap++] = i;
    stt_capacity_input in = {0};
    in.nconfigs = (size_t)r->ncap;
    in.nrounds = (size_t)r->rounds_run[0];
    for (int k = 0; k < r->ncap; k++) {
        pf_config *c = &r->cfg[r->cap_cfg[k]];
        if (strcmp(c->status, "ok")) {
            snprintf(r->capacity_skip, sizeof r->capacity_skip,
                     "the equal-capacity configuration %s was %s: %.200s", c->c.label, c->status,
                     c->reason);
            r->ncap = 0;
            return;
        }
        stt_capacity_config *cc = &in.cfg[k];
        cc->cores = c->c.cores;
        cc->speed = c->c.speed;
        cc->throughput = c->thr_v;
        cc->short_s = c->lat_v[PF_SHORT];
        cc->long_s = c->lat_v[PF_LONG];
        cc->excluded = c->excluded;
        cc->short_pieces = c->pieces[PF_SHORT];
        cc->long_pieces = c->pieces[PF_LONG];
        if (c->c.measure & STT_PROFILE_M_POISSON && r->poisson_rate > 0) {
            cc->poisson = (const double *const *)c->pois;
            cc->npoisson = c->npois_v;
        }
    }
    stt_capacity_params cp = stt_capacity_default_params();
    cp.margin = r->p.margin;
    cp.seed = r->p.seed;
    r->has_capacity = stt_capacity_analyse(&in, &cp, &r->capacity) == 0;
    if (!r->has_capacity)
        snprintf(r->capacity_skip, sizeof r->capacity_skip,
                 "the configurations are not at equal capacity");
}

static void threads_of(stt_profile *r)
{
    for (int i = 0; i < r->n && r->nthr < STT_SCALING_MAX; i++) {
        pf_config *c = &r->cfg[i];
        if (c->c.kind != STT_PROFILE_THREADS || strcmp(c->status, "ok")) continue;
        pf_threads *t = &r->thr[r->nthr++];
        t->cfg = i;
        size_t R = (size_t)r->rounds_run[1];
        for (int load = 0; load < 2; load++) {
            static double lat[PF_T * PF_R];
            for (int k = 0; k < c->c.nprobe; k++)
                for (size_t j = 0; j < R; j++)
                    lat[(size_t)k * R + j] = c->probe[load][k][j];
            stt_threads_input in = {(size_t)c->c.nprobe, R, c->c.probe, lat};
            stt_threads_optimum_find(&in, 0.95, r->p.thread_margin, &t->opt[load]);
        }
    }
}

static void verdict(stt_profile *r)
{
    r->nreasons = 0;
    const stt_scaling *s = r->has_scaling[0] ? &r->scaling[0] : NULL;
    char beyond[200] = "";
    if (s && s->unmeasured_from)
        snprintf(beyond, sizeof beyond, " Core counts from %d to %d are unmeasured here.",
                 s->unmeasured_from, r->p.max_cores);
    if (r->has_capacity) {
        const stt_capacity *c = &r->capacity;
        r->answer = c->answer;
        r->confidence = c->confidence;
        snprintf(r->reasons[r->nreasons++], sizeof r->reasons[0], "%s", c->summary);
        snprintf(r->reasons[r->nreasons++], sizeof r->reasons[0], "%s", c->mechanism);
        snprintf(r->reasons[r->nreasons++], sizeof r->reasons[0], "%s", stt_capacity_caveat());
        if (c->settle[0])
            snprintf(r->reasons[r->nreasons++], sizeof r->reasons[0], "Undetermined: %s",
                     c->settle);
    } else {
        r->answer = "undetermined";
        r->confidence = "undetermined";
        snprintf(r->reasons[r->nreasons++], sizeof r->reasons[0],
                 "Many weak or few strong cores is answered only by the equal-capacity "
                 "experiment, and %s.",
                 r->capacity_skip);
    }
    snprintf(r->to_confirm, sizeof r->to_confirm,
             "Bandwidth-emulated weak cores share this machine's caches and memory: a second "
             "machine with slower or faster cores, profiled the same way and set beside this one "
             "with `sttbench cpu --compare A/cpu.json B/cpu.json`, is the stronger evidence.%s",
             beyond);
}

void pf_analyse(stt_profile *r)
{
    for (int i = 0; i < r->n; i++)
        derive(r, &r->cfg[i], r->p.saturation);
    scaling_of(r, 0);
    scaling_of(r, 1);
    quota_vs_cpuset(r);
    capacity_of(r);
    threads_of(r);
    verdict(r);
}
