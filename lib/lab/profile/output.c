/* profile/output: cpu.json (the schema is docs/CPU.md's). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "results.h"

#define NUM stt_results_num

static json_t *pair(double a, double b)
{
    if (!isfinite(a) || !isfinite(b)) return json_null();
    return json_pack("[o, o]", NUM(a), NUM(b));
}

json_t *pf_estimate_json(const stt_estimate *e)
{
    return json_pack("{s:o, s:o, s:o, s:I, s:s}", "value", NUM(e->value), "ci",
                     pair(e->ci.lo, e->ci.hi), "coverage", NUM(e->ci.coverage), "n",
                     (json_int_t)e->n, "method", e->method ? e->method : "");
}

static json_t *samples(const double *x, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, NUM(x[i]));
    return a;
}

static json_t *summary_json(const double *x, int n)
{
    stt_summary s;
    stt_stats_summarize(x, (size_t)n, 0.95, &s);
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "n", (json_int_t)s.n, "median", NUM(s.median),
                     "ci", pair(s.median_ci.lo, s.median_ci.hi), "coverage",
                     NUM(s.median_ci.coverage), "samples", samples(x, n));
}

static const char *mode_name(const pf_config *c)
{
    return c->c.kind == STT_PROFILE_QUOTA      ? "quota"
           : c->c.kind == STT_PROFILE_CAPACITY ? "cores"
                                               : "cpuset";
}

static json_t *point_json(const stt_profile *r, const pf_config *c)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:i, s:i, s:b, s:s, s:o}", "label",
                          c->c.label, "experiment", stt_profile_kind_name(c->c.kind), "mode",
                          mode_name(c), "cores", c->c.cores, "speed", NUM(c->c.speed),
                          "capacity_cpus", NUM(c->c.cores * c->c.speed), "workers", c->c.workers,
                          "threads", c->c.threads, "strong", c->c.strong, "status", c->status,
                          "reason", c->reason[0] ? json_string(c->reason) : json_null());
    json_object_set(o, "verification", c->verification ? c->verification : json_null());
    json_object_set_new(o, "rounds", json_integer(c->nrounds));
    if (c->c.measure & STT_PROFILE_M_THROUGHPUT) {
        json_t *t = summary_json(c->thr_v, c->nrounds);
        json_object_set_new(t, "all_samples", samples(c->thr, c->nrounds));
        json_object_set_new(t, "unit", json_string("audio_s_per_s"));
        json_object_set_new(t, "completions_timed", json_integer(pf_timed(r, c)));
        json_object_set_new(t, "concurrency", json_integer(2 * c->c.workers));
        json_object_set_new(t, "utilisation",
                            json_pack("{s:o, s:o, s:o}", "median", NUM(c->util_med), "max",
                                      NUM(c->util_max), "samples", samples(c->util, c->nrounds)));
        json_t *cr = json_array();
        for (int i = 0; i < c->nrounds; i++)
            json_array_append_new(cr, json_boolean(c->valid[i]));
        json_object_set_new(t, "counted_rounds", cr);
        json_object_set_new(t, "saturated", json_boolean(c->saturated));
        json_object_set_new(t, "stable", json_boolean(c->stable));
        json_object_set_new(t, "stable_relative_to_round", json_boolean(c->stable_relative));
        json_object_set_new(t, "excluded", json_boolean(c->excluded));
        json_object_set_new(t, "excluded_reason",
                            c->excluded_why[0] ? json_string(c->excluded_why) : json_null());
        json_object_set_new(o, "throughput", t);
    } else {
        json_object_set_new(o, "throughput", json_null());
    }
    json_t *lt = json_array();
    for (int role = 0; role < PF_NROLES; role++) {
        unsigned bit = role == PF_SHORT ? STT_PROFILE_M_SHORT : STT_PROFILE_M_LONG;
        if (!(c->c.measure & bit)) continue;
        json_t *l = summary_json(c->lat_v[role], c->nrounds);
        json_object_set_new(l, "all_samples", samples(c->lat[role], c->nrounds));
        json_object_set_new(l, "role", json_string(pf_role_name(role)));
        json_object_set_new(l, "file", json_string(r->files[role].name));
        json_object_set_new(l, "audio_s", NUM(r->files[role].audio_s));
        json_object_set_new(l, "pieces", NUM(c->pieces[role]));
        json_array_append_new(lt, l);
    }
    json_object_set_new(o, "latency", lt);
    if ((c->c.measure & STT_PROFILE_M_POISSON) && r->poisson_rate > 0) {
        size_t n = 0;
        for (int i = 0; i < c->nrounds; i++)
            n += c->npois[i];
        json_t *per = json_array();
        for (int i = 0; i < c->nrounds; i++)
            json_array_append_new(per, samples(c->pois[i], (int)c->npois[i]));
        json_object_set_new(o, "poisson",
                            json_pack("{s:o, s:s, s:I, s:o}", "rate_rps", NUM(r->poisson_rate),
                                      "file", r->files[PF_SHORT].name, "n", (json_int_t)n,
                                      "latency_s_by_round", per));
    } else {
        json_object_set_new(o, "poisson", json_null());
    }
    if (c->c.measure & STT_PROFILE_M_PROBES) {
        json_t *pr = json_array();
        for (int k = 0; k < c->c.nprobe; k++)
            json_array_append_new(pr, json_pack("{s:i, s:o, s:o}", "threads", c->c.probe[k],
                                                "idle_s", samples(c->probe[0][k], c->nrounds),
                                                "loaded_s", samples(c->probe[1][k], c->nrounds)));
        json_object_set_new(o, "probes", pr);
        json_object_set_new(o, "background_audio_s_per_s", samples(c->bg_thr, c->nrounds));
    }
    json_object_set_new(
        o, "throttling",
        c->have_th
            ? json_pack("{s:I, s:I, s:o, s:o}", "nr_periods", (json_int_t)c->th.nr_periods,
                        "nr_throttled", (json_int_t)c->th.nr_throttled, "throttled_s",
                        NUM(c->th.throttled_s), "throttled_fraction",
                        NUM(c->th.nr_periods ? (double)c->th.nr_throttled / c->th.nr_periods : NAN))
            : json_null());
    json_object_set_new(o, "memory",
                        json_pack("{s:I, s:I}", "peak_pss_bytes", (json_int_t)c->peak.pss,
                                  "peak_rss_bytes", (json_int_t)c->peak.rss));
    json_object_set_new(o, "errors", json_integer(c->errors));
    json_object_set_new(o, "last_error",
                        c->last_error[0] ? json_string(c->last_error) : json_null());
    return o;
}

static json_t *est_ci(const stt_estimate *e)
{
    return pair(e->ci.lo, e->ci.hi);
}

static json_t *analysis_json(const stt_profile *r, int quota)
{
    const stt_scaling *s = &r->scaling[quota];
    json_t *ser = json_array(), *exc = json_array();
    for (size_t j = 0; j < s->n; j++) {
        const stt_scaling_point *pt = &s->pt[j];
        const pf_config *c = &r->cfg[r->series_cfg[quota][j]];
        if (pt->excluded) {
            /* Its throughput is out; its long request, timed alone, is not. */
            json_array_append_new(
                exc, json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "cores", c->c.cores, "reason",
                               c->excluded_why[0] ? c->excluded_why : c->status, "audio_s_per_s",
                               NUM(pt->x.median), "long_latency_s", NUM(pt->lat.median),
                               "long_latency_ci", pair(pt->lat.median_ci.lo, pt->lat.median_ci.hi),
                               "latency_speedup", NUM(pt->lat_speedup.value), "latency_speedup_ci",
                               est_ci(&pt->lat_speedup)));
            continue;
        }
        json_array_append_new(
            ser,
            json_pack("{s:i, s:i, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                      "s:o}",
                      "cores", c->c.cores, "threads", c->c.threads, "workers", c->c.workers, "n",
                      (json_int_t)pt->x.n, "audio_s_per_s", NUM(pt->x.median), "audio_s_per_s_ci",
                      pair(pt->x.median_ci.lo, pt->x.median_ci.hi), "speedup",
                      NUM(pt->speedup.value), "speedup_ci", est_ci(&pt->speedup), "efficiency",
                      NUM(pt->efficiency.value), "efficiency_ci", est_ci(&pt->efficiency),
                      "long_latency_s", NUM(pt->lat.median), "long_latency_ci",
                      pair(pt->lat.median_ci.lo, pt->lat.median_ci.hi), "latency_speedup",
                      NUM(pt->lat_speedup.value), "latency_speedup_ci", est_ci(&pt->lat_speedup)));
    }
    json_t *gains = json_array();
    for (size_t j = 0; j < s->n; j++)
        if (s->pt[j].gain_ratio.n)
            json_array_append_new(gains, json_pack("{s:o, s:o, s:o}", "cores", NUM(s->pt[j].cores),
                                                   "ratio", NUM(s->pt[j].gain_ratio.value), "ci",
                                                   est_ci(&s->pt[j].gain_ratio)));
    json_t *proj = json_array();
    for (int i = 0; i < s->nproj; i++)
        json_array_append_new(proj, json_pack("{s:o, s:o, s:o, s:o, s:b}", "cores",
                                              NUM(s->proj[i].cores), "speedup",
                                              NUM(s->proj[i].speedup), "lo", NUM(s->proj[i].lo),
                                              "hi", NUM(s->proj[i].hi), "projection", 1));
    const stt_amdahl_fit *a = &s->amdahl;
    const stt_usl_fit *u = &s->usl;
    json_t *fit = json_pack(
        "{s:i, s:{s:s, s:o, s:o, s:o, s:b, s:s, s:b}, s:{s:s, s:o, s:o, s:o, s:o, s:b, s:b, "
        "s:o, s:b}}",
        "points", a->points, "amdahl", "status", stt_fit_status_name(a->status), "serial_fraction",
        NUM(s->serial.value), "ci95", est_ci(&s->serial), "x1", NUM(a->x1), "bounded", a->bounded,
        "interval_method", s->serial.method ? s->serial.method : "", "projects",
        stt_fit_amdahl_projects(a), "usl", "status", stt_fit_status_name(u->status), "lambda",
        NUM(u->lambda), "sigma", NUM(u->sigma), "kappa", NUM(u->kappa), "sigma_ci95",
        est_ci(&s->sigma), "sigma_bounded", u->sigma_bounded, "kappa_bounded", u->kappa_bounded,
        "kappa_ci95", est_ci(&s->kappa), "projects", stt_fit_usl_projects(u));
    json_object_set_new(json_object_get(fit, "usl"), "peak_cores",
                        stt_fit_usl_projects(u) ? NUM(u->peak_n) : json_null());
    json_t *lfit = json_pack("{s:o, s:o, s:s}", "serial_fraction", NUM(s->lat_serial.value), "ci95",
                             est_ci(&s->lat_serial), "interval_method",
                             s->lat_serial.method ? s->lat_serial.method : "");
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:s}", "mode", quota ? "quota" : "cpuset",
                          "series", ser, "excluded", exc, "throughput", fit, "latency", lfit,
                          "classification", stt_scaling_class_name(s->cls), "classification_rule",
                          "the efficiency interval at the largest included core count against "
                          "0.9 (fit.h STT_FIT_LINEAR_EFFICIENCY); retrograde when a larger core "
                          "count was slower, interval included");
    json_object_set_new(
        o, "diminishing_returns",
        json_pack("{s:s, s:o, s:s, s:s, s:o}", "status", stt_dim_status_name(s->dim), "cores",
                  s->dim == STT_DIM_FOUND || s->dim == STT_DIM_UNDETERMINED ? NUM(s->dim_cores)
                                                                            : json_null(),
                  "why", s->dim_why, "rule",
                  "the first core count whose marginal gain per added core, "
                  "interval included, falls below half of what the first added "
                  "core gave",
                  "gain_ratios", gains));
    json_object_set_new(o, "diminishing_returns_cores",
                        s->dim == STT_DIM_FOUND ? json_integer((json_int_t)s->dim_cores)
                                                : json_null());
    json_object_set_new(o, "unmeasured",
                        s->unmeasured_from ? json_pack("{s:i, s:i}", "from", s->unmeasured_from,
                                                       "to", r->p.max_cores)
                                           : json_null());
    json_object_set_new(o, "projections", proj);
    json_object_set_new(
        o, "projection_note",
        json_string(s->nproj ? "Amdahl with its interval, beyond the measured cores: a band, "
                               "not a measurement, used by no decision"
                             : "none: a fit projects only from parameters + 1 core counts"));
    return o;
}

static json_t *capacity_json(const stt_profile *r)
{
    if (!r->has_capacity)
        return json_pack("{s:b, s:s, s:s}", "measured", 0, "why", r->capacity_skip, "caveat",
                         stt_capacity_caveat());
    const stt_capacity *c = &r->capacity;
    json_t *cfgs = json_array(), *pairs = json_array(), *p95 = json_array();
    for (int k = 0; k < r->ncap; k++) {
        const pf_config *pc = &r->cfg[r->cap_cfg[k]];
        json_array_append_new(cfgs, json_pack("{s:s, s:i, s:o, s:i}", "label", pc->c.label, "cores",
                                              pc->c.cores, "speed", NUM(pc->c.speed), "point",
                                              r->cap_cfg[k]));
        const stt_capacity_p95 *q = &c->p95[k];
        json_array_append_new(p95,
                              json_pack("{s:s, s:I, s:b, s:o, s:o}", "label", pc->c.label, "n",
                                        (json_int_t)q->n, "supported", q->supported, "p95_s",
                                        q->supported ? NUM(q->p95) : json_null(), "ci",
                                        q->supported ? pair(q->ci.lo, q->ci.hi) : json_null()));
    }
    for (size_t i = 0; i < c->npairs; i++) {
        const stt_capacity_pair *pr = &c->pair[i];
        const pf_config *w = &r->cfg[r->cap_cfg[pr->weak]];
        json_t *m = json_object();
        for (int k = 0; k < STT_CAP_NMETRICS; k++) {
            json_t *e = pf_estimate_json(&pr->m[k].ratio);
            json_object_set_new(e, "verdict", json_string(stt_capacity_side_name(pr->m[k].side)));
            json_object_set_new(e, "why", json_string(pr->m[k].why));
            json_object_set_new(m, stt_capacity_metric_name((stt_capacity_metric)k), e);
        }
        json_array_append_new(pairs, json_pack("{s:s, s:i, s:o, s:b, s:o}", "weak", w->c.label,
                                               "cores", w->c.cores, "speed", NUM(w->c.speed),
                                               "headline", (int)i == c->headline, "metrics", m));
    }
    return json_pack("{s:b, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:s}",
                     "measured", 1, "caveat", stt_capacity_caveat(), "ratio",
                     "weak / strong (throughput: higher is better; latencies: lower is better)",
                     "margin", NUM(r->p.margin), "configs", cfgs, "offered_rate_rps",
                     r->poisson_rate > 0 ? NUM(r->poisson_rate) : json_null(), "poisson_load",
                     NUM(r->p.poisson_load), "pairs", pairs, "p95", p95, "answer", c->answer,
                     "confidence", c->confidence, "summary", c->summary, "mechanism", c->mechanism,
                     "settle", c->settle);
}

static json_t *optimum_json(const pf_config *c, const stt_threads_optimum *o)
{
    json_t *per = json_array();
    for (int k = 0; k < c->c.nprobe; k++)
        json_array_append_new(per, json_pack("{s:i, s:I, s:o, s:o, s:o, s:o, s:b}", "threads",
                                             c->c.probe[k], "n", (json_int_t)o->lat[k].n,
                                             "median_s", NUM(o->lat[k].median), "ci",
                                             pair(o->lat[k].median_ci.lo, o->lat[k].median_ci.hi),
                                             "ratio_to_best", NUM(o->ratio[k].value), "ratio_ci",
                                             est_ci(&o->ratio[k]), "tied", o->tied[k]));
    int b = o->best, rec = o->recommended;
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "status", stt_opt_status_name(o->status),
                     "best_threads", b >= 0 ? json_integer(c->c.probe[b]) : json_null(),
                     "best_latency_s", b >= 0 ? NUM(o->lat[b].median) : json_null(), "best_ci",
                     b >= 0 ? pair(o->lat[b].median_ci.lo, o->lat[b].median_ci.hi) : json_null(),
                     "recommended_threads", rec >= 0 ? json_integer(c->c.probe[rec]) : json_null(),
                     "per_threads", per);
}

static json_t *threads_json(const stt_profile *r)
{
    json_t *a = json_array();
    for (int i = 0; i < r->nthr; i++) {
        const pf_config *c = &r->cfg[r->thr[i].cfg];
        stt_summary bg;
        stt_stats_summarize(c->bg_thr, (size_t)c->nrounds, 0.95, &bg);
        int clients = c->c.cores / 2 > 1 ? c->c.cores / 2 : 1;
        char load[400];
        snprintf(load, sizeof load,
                 "%d back-to-back client(s) sending %s (about half the cores busy)", clients,
                 r->files[PF_SHORT].name);
        json_array_append_new(
            a, json_pack("{s:i, s:i, s:s, s:s, s:{s:s, s:i, s:o}, s:o, s:o}", "cores", c->c.cores,
                         "workers", c->c.workers, "file", r->files[PF_LONG].name, "rule",
                         "the lowest median latency; thread counts whose per-round ratio to it "
                         "has an interval reaching 1 + margin are tied, and the fewest threads "
                         "among the tied is recommended",
                         "load", "stated", load, "clients", clients, "audio_s_per_s",
                         NUM(bg.median), "idle", optimum_json(c, &r->thr[i].opt[0]), "loaded",
                         optimum_json(c, &r->thr[i].opt[1])));
    }
    return a;
}

static json_t *config_json(const stt_profile *r)
{
    const stt_profile_params *p = &r->p;
    json_t *cores = json_array(), *speeds = json_array(), *notes = json_array();
    for (int i = 0; i < p->ncores; i++)
        json_array_append_new(cores, json_integer(p->cores[i]));
    for (int i = 0; i < p->nspeeds; i++)
        json_array_append_new(speeds, NUM(p->speeds[i]));
    char buf[sizeof r->notes];
    snprintf(buf, sizeof buf, "%s", r->notes);
    for (char *s = NULL, *l = strtok_r(buf, "\n", &s); l; l = strtok_r(NULL, "\n", &s))
        json_array_append_new(notes, json_string(l));
    json_t *files = json_object();
    for (int role = 0; role < PF_NROLES; role++)
        json_object_set_new(files, pf_role_name(role),
                            json_pack("{s:s, s:o}", "file", r->files[role].name, "audio_s",
                                      NUM(r->files[role].audio_s)));
    json_t *c = json_pack(
        "{s:s, s:s, s:o, s:i, s:i, s:b, s:i, s:o, s:I, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, "
        "s:I, s:b}",
        "server_cmd", p->server_cmd, "corpus", p->corpus, "cores", cores, "max_cores", p->max_cores,
        "quota", p->quota, "capacity", p->capacity, "capacity_cores", p->capacity_cores, "speeds",
        speeds, "period_us", (json_int_t)p->period_us, "threads", p->threads, "rounds", p->rounds,
        "extra_rounds", p->extra_rounds, "requests", p->requests, "poisson", p->poisson,
        "poisson_load", NUM(p->poisson_load), "margin", NUM(p->margin), "thread_margin",
        NUM(p->thread_margin), "seed", (json_int_t)p->seed, "quick", p->quick);
    json_object_set_new(c, "files", files);
    json_object_set_new(c, "request_profile",
                        p->request_profile ? json_string(p->request_profile) : json_null());
    json_object_set_new(c, "saturation", NUM(p->saturation));
    json_object_set_new(c, "scaling_latency", json_boolean(p->scaling_latency));
    json_object_set_new(c, "usable_cpus", json_integer(r->usable));
    json_object_set_new(c, "cgroup", json_string(r->cgroup));
    json_object_set_new(c, "cgroup_note",
                        r->cgroup_err[0] ? json_string(r->cgroup_err) : json_null());
    json_object_set_new(c, "notes", notes);
    return c;
}

static void metric_name(char *out, size_t len, const char *what, const pf_config *c)
{
    snprintf(out, len, "%s/%s", what, c->c.label);
    for (char *q = out; *q; q++)
        if (*q == ' ') *q = '_';
}

json_t *pf_results_json(const stt_profile *r)
{
    json_t *doc = stt_results_new(STT_RESULTS_CPU, "cpu", config_json(r));
    if (!doc) return NULL;
    /* The thread search's servers have twice the workers: kept apart, so that
     * a reader of points[] (peak memory per core count) sees the profile's
     * configurations only. */
    json_t *pts = json_array(), *tpts = json_array();
    for (int i = 0; i < r->n; i++)
        json_array_append_new(r->cfg[i].c.kind == STT_PROFILE_THREADS ? tpts : pts,
                              point_json(r, &r->cfg[i]));
    json_object_set_new(doc, "points", pts);
    json_object_set_new(doc, "thread_points", tpts);
    json_t *an = json_array();
    for (int q = 0; q < 2; q++)
        if (r->has_scaling[q]) json_array_append_new(an, analysis_json(r, q));
    json_object_set_new(doc, "analysis", an);
    json_t *qv = json_array();
    for (int i = 0; i < r->nqvc; i++) {
        const pf_qvc *e = &r->qvc[i];
        json_array_append_new(qv, json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:I}", "cores",
                                            e->cores, "throughput_ratio", NUM(e->thr.value),
                                            "throughput_ratio_ci", est_ci(&e->thr), "latency_ratio",
                                            NUM(e->lat.value), "latency_ratio_ci", est_ci(&e->lat),
                                            "throttled_fraction", NUM(e->throttled), "n",
                                            (json_int_t)e->thr.n));
    }
    json_object_set_new(doc, "quota_vs_cpuset", qv);
    json_object_set_new(doc, "capacity", capacity_json(r));
    json_object_set_new(doc, "threads", threads_json(r));
    json_t *rs = json_array();
    for (int i = 0; i < r->nreasons; i++)
        json_array_append_new(rs, json_string(r->reasons[i]));
    json_object_set_new(doc, "verdict",
                        json_pack("{s:s, s:s, s:s, s:o, s:s}", "answer", r->answer, "confidence",
                                  r->confidence, "from",
                                  r->has_capacity ? "the equal-capacity experiment" : "nothing",
                                  "reasons", rs, "to_confirm", r->to_confirm));
    json_object_set_new(doc, "timing",
                        json_pack("{s:o, s:[{s:o, s:i}, {s:o, s:i}]}", "wall_s", NUM(r->wall_s),
                                  "phases", "s", NUM(r->phase_s[0]), "rounds", r->rounds_run[0],
                                  "s", NUM(r->phase_s[1]), "rounds", r->rounds_run[1]));
    json_object_set_new(doc, "wall_s", NUM(r->wall_s));
    char name[128];
    for (int i = 0; i < r->n; i++) {
        const pf_config *c = &r->cfg[i];
        if (strcmp(c->status, "ok")) continue;
        if (c->c.measure & STT_PROFILE_M_THROUGHPUT) {
            metric_name(name, sizeof name, "cpu_throughput_audio_s_per_s", c);
            stt_results_add_metric(doc, name, "audio_s_per_s", 1, c->thr_v, (size_t)c->nrounds);
        }
        for (int role = 0; role < PF_NROLES; role++) {
            unsigned bit = role == PF_SHORT ? STT_PROFILE_M_SHORT : STT_PROFILE_M_LONG;
            if (!(c->c.measure & bit)) continue;
            char what[64];
            snprintf(what, sizeof what, "cpu_latency_s/%s", pf_role_name(role));
            metric_name(name, sizeof name, what, c);
            stt_results_add_metric(doc, name, "s", 0, c->lat_v[role], (size_t)c->nrounds);
        }
        for (int k = 0; (c->c.measure & STT_PROFILE_M_PROBES) && k < c->c.nprobe; k++)
            for (int load = 0; load < 2; load++) {
                char what[64];
                snprintf(what, sizeof what, "cpu_probe_latency_s/%s/t=%d", load ? "loaded" : "idle",
                         c->c.probe[k]);
                metric_name(name, sizeof name, what, c);
                stt_results_add_metric(doc, name, "s", 0, c->probe[load][k], (size_t)c->nrounds);
            }
    }
    return doc;
}
