/* sweep_output: see sweep_output.h. */
#include "sweep_output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "error.h"
#include "results.h"

/* ---- small helpers ---- */

void stt_sweep_point_name(const stt_sweep_point *pt, char *buf, size_t len)
{
    if (pt->step.mode == STT_LOAD_OPEN)
        snprintf(buf, len, "rate=%g", pt->offered);
    else
        snprintf(buf, len, "c=%g", pt->offered);
}

static const char *offered_text(const stt_sweep_point *pt, char *buf, size_t len)
{
    if (pt->step.mode == STT_LOAD_OPEN)
        snprintf(buf, len, "%g/s", pt->offered);
    else
        snprintf(buf, len, "c=%g", pt->offered);
    return buf;
}

/* A latency in milliseconds with at least three significant digits, from
 * 0.0123 ms (a GET on loopback) to 12345 ms (a long transcription); "n too
 * small" for a percentile n does not support (NaN). */
static const char *ms(char *buf, size_t len, double s)
{
    if (!isfinite(s)) return snprintf(buf, len, "n too small"), buf;
    if (s >= STT_SWEEP_MISS_S) return snprintf(buf, len, "a miss (failures)"), buf;
    double v = s * 1e3;
    int dec = v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 ? 2 : v >= 0.1 ? 3 : 4;
    snprintf(buf, len, "%.*f", dec, v);
    return buf;
}

/* "12.3 [11.9, 12.8]" in ms. */
static const char *ms_ci(char *buf, size_t len, double s, stt_interval ci)
{
    char a[24], b[24], c[24];
    if (!isfinite(s)) return snprintf(buf, len, "n too small"), buf;
    if (!isfinite(ci.lo)) return ms(buf, len, s);
    snprintf(buf, len, "%s [%s, %s]", ms(a, sizeof a, s), ms(b, sizeof b, ci.lo),
             ms(c, sizeof c, fmin(ci.hi, 1e9)));
    return buf;
}

/* v with three significant digits and no exponent (12300, 123, 1.23, 0.0123). */
static const char *sig3(char *buf, size_t len, double v)
{
    double a = fabs(v);
    int dec = a >= 100 || a == 0 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : 4;
    snprintf(buf, len, "%.*f", dec, v);
    return buf;
}

static const char *rate_ci(char *buf, size_t len, const stt_summary *t)
{
    char a[32], b[32], c[32];
    if (t->n == 0) return snprintf(buf, len, "none"), buf;
    int k = snprintf(buf, len, "%s [%s, %s]", sig3(a, sizeof a, t->median),
                     sig3(b, sizeof b, t->median_ci.lo), sig3(c, sizeof c, t->median_ci.hi));
    return k < 0 ? "" : buf;
}

static json_t *num(double v)
{
    return stt_results_num(v);
}

static json_t *ci_json(stt_interval ci)
{
    if (!isfinite(ci.lo) || !isfinite(ci.hi)) return json_null();
    return json_pack("[o, o]", num(ci.lo), num(ci.hi));
}

/* The errors of every run of pt by class. */
static void errors_of(const stt_sweep_point *pt, uint64_t *e)
{
    memset(e, 0, STT_LOAD_ERR_N * sizeof *e);
    for (int r = 0; r < pt->nruns; r++)
        for (int c = 0; c < STT_LOAD_ERR_N; c++)
            e[c] += pt->runs[r].res.errors[c];
}

/* The p95 (s) of one run's counted requests, failures timed; NaN when n is too small. */
static double run_p95(const stt_load_result *r)
{
    if (!stt_stats_percentile_supported(r->nsamples, 95)) return NAN;
    double *x = malloc(r->nsamples * sizeof *x);
    if (!x) return NAN;
    for (size_t i = 0; i < r->nsamples; i++)
        x[i] = r->samples[i].latency_s;
    double v = stt_stats_quantile(x, r->nsamples, 0.95);
    free(x);
    return v;
}

static json_t *hist_json(const stt_histogram *h, double scale)
{
    uint64_t n = h ? stt_histogram_count(h) : 0;
    if (!n) return json_null();
    json_t *j =
        json_pack("{s:I, s:o, s:o}", "n", (json_int_t)n, "mean", num(stt_histogram_mean(h) * scale),
                  "p50", num((double)stt_histogram_percentile(h, 50) * scale));
    json_object_set_new(j, "p95",
                        stt_stats_percentile_supported(n, 95)
                            ? num((double)stt_histogram_percentile(h, 95) * scale)
                            : json_null());
    json_object_set_new(j, "p99",
                        stt_stats_percentile_supported(n, 99)
                            ? num((double)stt_histogram_percentile(h, 99) * scale)
                            : json_null());
    json_object_set_new(j, "max", num((double)stt_histogram_max(h) * scale));
    return j;
}

/* ---- load.json ---- */

/* A step's stability in words: "stable", "unstable" (a judged run was),
 * or "too few per window to judge". */
static const char *stability_name(const stt_sweep_summary *s)
{
    return s->stable ? "stable" : s->unstable ? "unstable" : "too few per window to judge";
}

static json_t *run_json(const stt_sweep_repeat *rp)
{
    const stt_load_result *s = &rp->res;
    json_t *wins = json_array();
    for (int i = 0; i < s->nwindows; i++)
        json_array_append_new(
            wins, json_pack("{s:o, s:o, s:I, s:o, s:o, s:o}", "rps", num(s->window_rps[i]),
                            "ok_rps", num(s->window_ok_rps[i]), "n", (json_int_t)s->window_n[i],
                            "p95_s", num(s->window_p95_s[i]), "latency_ok_mean_s",
                            num(s->window_latency_s[i]), "span_s", num(s->window_span_s[i])));
    json_t *j = json_object();
    json_object_set_new(j, "round", json_integer(rp->round));
    json_object_set_new(j, "attempts", json_integer(rp->attempts));
    json_object_set_new(j, "duration_s", num(rp->duration_s));
    json_object_set_new(j, "requests", json_integer(rp->requests));
    json_object_set_new(j, "stable", json_boolean(s->stable));
    json_object_set_new(j, "stability_judged", json_boolean(s->stability_judged));
    /* "count": windows of window_count answers each, timed; "time": equal
     * lengths of the interval (loadgen.h). */
    json_object_set_new(j, "windows_by", json_string(s->window_count ? "count" : "time"));
    json_object_set_new(j, "window_count", json_integer(s->window_count));
    json_object_set_new(j, "elapsed_s", num(s->elapsed_s));
    json_object_set_new(j, "n", json_integer((json_int_t)s->nsamples));
    json_object_set_new(j, "sent", json_integer((json_int_t)s->sent));
    json_object_set_new(j, "completed", json_integer((json_int_t)s->completed));
    json_object_set_new(j, "ok", json_integer((json_int_t)s->ok));
    json_object_set_new(j, "failed", json_integer((json_int_t)stt_load_failures(s)));
    json_object_set_new(j, "dropped", json_integer((json_int_t)s->dropped));
    json_object_set_new(j, "late", json_integer((json_int_t)s->late));
    json_object_set_new(j, "warmup_sent", json_integer((json_int_t)s->warmup_sent));
    json_object_set_new(j, "retry_after_waits", json_integer((json_int_t)s->retry_waits));
    json_object_set_new(j, "throughput_rps", num(s->rps));
    json_object_set_new(j, "ok_rps", num(s->ok_rps));
    json_object_set_new(j, "audio_s_per_s", num(s->audio_s_per_s));
    json_object_set_new(j, "p95_s", num(run_p95(s)));
    json_object_set_new(j, "windows", wins);
    json_object_set_new(j, "server_queue_ms", hist_json(s->queue, 1e-3));
    json_object_set_new(j, "server_process_ms", hist_json(s->process, 1e-3));
    json_object_set_new(j, "generator",
                        json_pack("{s:o, s:o, s:I, s:o, s:b}", "cpu_user_s", num(s->cpu_user_s),
                                  "cpu_sys_s", num(s->cpu_sys_s), "peak_rss_kb",
                                  (json_int_t)s->peak_rss_kb, "busiest_thread_cpu",
                                  num(s->busiest_thread_cpu), "saturated", s->saturated));
    return j;
}

static json_t *latency_json(const stt_sweep_point *pt)
{
    const stt_sweep_summary *s = &pt->sum;
    static const char *const keys[6] = {"p50", "p90", "p95", "p99", "p99_9", "max"};
    json_t *j = json_object();
    json_object_set_new(j, "n", json_integer((json_int_t)s->n));
    json_object_set_new(j, "includes_failures", json_true());
    for (int k = 0; k < 6; k++)
        json_object_set_new(j, keys[k], num(s->lat[k]));
    json_object_set_new(j, "p95_ci", ci_json(s->p95_ci));
    size_t n;
    double *x = stt_sweep_latencies(pt, 0, 0, &n), mean = 0;
    for (size_t i = 0; x && i < n; i++)
        mean += x[i] / (double)n;
    free(x);
    json_object_set_new(j, "mean", num(n ? mean : NAN));
    return j;
}

static json_t *latency_ok_json(const stt_sweep_point *pt)
{
    size_t n;
    double *x = stt_sweep_latencies(pt, 1, 0, &n);
    if (!x) return json_null();
    stt_summary s;
    stt_stats_summarize(x, n, 0.95, &s);
    json_t *j = json_pack("{s:I, s:o, s:o, s:o, s:o}", "n", (json_int_t)n, "mean", num(s.mean),
                          "p50", num(s.median), "p50_ci", ci_json(s.median_ci), "max", num(s.max));
    json_object_set_new(j, "p95",
                        stt_stats_percentile_supported(n, 95) ? num(stt_stats_quantile(x, n, 0.95))
                                                              : json_null());
    free(x);
    return j;
}

static json_t *uncorrected_json(const stt_sweep_point *pt)
{
    stt_histogram *h = stt_histogram_create();
    if (!h) return json_null();
    for (int r = 0; r < pt->nruns; r++)
        if (pt->runs[r].res.latency_uncorrected)
            stt_histogram_merge(h, pt->runs[r].res.latency_uncorrected);
    json_t *j = hist_json(h, 1e-6);
    stt_histogram_free(h);
    return j;
}

/* The failed requests of pt's runs by class: {"connect": n, ...}. */
static json_t *errors_json(const stt_sweep_point *pt)
{
    uint64_t e[STT_LOAD_ERR_N];
    errors_of(pt, e);
    json_t *errs = json_object();
    for (int c = 0; c < STT_LOAD_ERR_N; c++)
        json_object_set_new(errs, stt_load_err_name(c), json_integer((json_int_t)e[c]));
    return errs;
}

static json_t *step_json(const stt_sweep_point *pt)
{
    const stt_sweep_summary *s = &pt->sum;
    json_t *errs = errors_json(pt);
    json_t *runs = json_array();
    for (int r = 0; r < pt->nruns; r++)
        json_array_append_new(runs, run_json(&pt->runs[r]));
    json_t *j = json_object();
    int open = pt->step.mode == STT_LOAD_OPEN;
    json_object_set_new(j, "mode", json_string(open ? "open" : "closed"));
    json_object_set_new(j, "offered", num(pt->offered));
    if (open)
        json_object_set_new(j, "arrival", json_string(stt_load_arrival_name(pt->step.arrival)));
    json_object_set_new(j, "repeats", json_integer(pt->nruns));
    json_object_set_new(j, "stable", json_boolean(s->stable));
    json_object_set_new(j, "stability", json_string(stability_name(s)));
    json_object_set_new(j, "saturated", json_boolean(s->saturated));
    json_object_set_new(j, "busiest_thread_cpu", num(s->busiest_thread_cpu));
    json_object_set_new(j, "n", json_integer((json_int_t)s->n));
    json_object_set_new(j, "ok", json_integer((json_int_t)s->ok));
    json_object_set_new(j, "failed", json_integer((json_int_t)s->failed));
    json_object_set_new(j, "late", json_integer((json_int_t)s->late));
    json_object_set_new(j, "dropped", json_integer((json_int_t)s->dropped));
    json_object_set_new(j, "errors", errs);
    json_object_set_new(j, "failure_rate", num(s->failure_rate));
    json_object_set_new(j, "failure_ci", ci_json(s->failure_ci));
    /* The median over windows is the figure; one window's count never is. */
    json_object_set_new(j, "throughput_rps", num(s->throughput.median));
    json_object_set_new(j, "throughput",
                        json_pack("{s:I, s:o, s:o, s:o, s:o}", "n", (json_int_t)s->throughput.n,
                                  "median", num(s->throughput.median), "ci",
                                  ci_json(s->throughput.median_ci), "coverage",
                                  num(s->throughput.median_ci.coverage), "overall_rps",
                                  num(s->throughput_overall)));
    json_object_set_new(j, "ok_rps", num(s->throughput_overall));
    json_object_set_new(j, "audio_s_per_s", num(s->audio_s_per_s));
    json_object_set_new(j, "latency_s", latency_json(pt));
    json_object_set_new(j, "latency_ok_s", latency_ok_json(pt));
    json_object_set_new(j, "latency_uncorrected_s", uncorrected_json(pt));
    json_object_set_new(
        j, "slo_p95_s",
        json_pack("{s:o, s:o}", "value", num(s->p95_slo), "ci", ci_json(s->p95_slo_ci)));
    json_object_set_new(j, "runs", runs);
    return j;
}

static json_t *knee_json(const stt_sweep *sw)
{
    const stt_sweep_knee *k = &sw->knee;
    if (k->state != STT_KNEE_FOUND) return json_null();
    const stt_sweep_point *pt = &sw->points[k->index];
    return json_pack(
        "{s:i, s:o, s:o, s:o, s:o, s:s, s:b}", "index", k->index, "offered", num(pt->offered),
        "throughput_rps", num(pt->sum.throughput.median), "throughput_ci",
        ci_json(pt->sum.throughput.median_ci), "p95_s", num(pt->sum.lat[2]), "arrival",
        pt->step.mode == STT_LOAD_OPEN ? stt_load_arrival_name(pt->step.arrival) : "closed",
        /* A capacity figure only under realistic arrivals. */
        "capacity", pt->step.mode == STT_LOAD_OPEN && pt->step.arrival != STT_ARRIVAL_CONSTANT);
}

static json_t *knee_state_json(const stt_sweep *sw)
{
    const stt_sweep_knee *k = &sw->knee;
    return json_pack("{s:s, s:i, s:i, s:i, s:o, s:o, s:o}", "state", stt_knee_state_name(k->state),
                     "index", k->index, "from", k->from, "to", k->to, "gain", num(k->gain),
                     "gain_ci", ci_json(k->gain_ci), "threshold", num(STT_SWEEP_KNEE_GAIN));
}

static json_t *service_json(const stt_sweep *sw)
{
    const stt_sweep_service *sv = &sw->service;
    if (sv->point < 0) return json_null();
    return json_pack("{s:i, s:I, s:o, s:o, s:o, s:o, s:s}", "step", sv->point, "n",
                     (json_int_t)sv->s.n, "median", num(sv->s.median), "ci",
                     ci_json(sv->s.median_ci), "mean", num(sv->s.mean), "cs2", num(sv->cs2),
                     "source",
                     "2xx latencies of the stable closed-loop step with one request "
                     "in flight");
}

/* The model check of sweep steps (key "step") or search probes ("probe"). */
static json_t *checks_json(const stt_sweep_check *cs, int n, int servers, const char *key)
{
    if (servers < 1) return json_null();
    json_t *pts = json_array();
    for (int i = 0; i < n; i++) {
        const stt_sweep_check *c = &cs[i];
        json_array_append_new(
            pts, json_pack("{s:i, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:I, s:o, s:s}", key,
                           c->point, "offered", num(c->lambda), "ca2", num(c->ca2), "rho",
                           num(c->rho), "model_stable", c->model_stable, "model_p95_s",
                           num(c->model_p95), "sim_band_s",
                           c->has_sim ? json_pack("[o, o]", num(c->sim_lo), num(c->sim_hi))
                                      : json_null(),
                           "measured_p95_s", num(c->measured_p95), "measured_ci",
                           ci_json(c->measured_ci), "n", (json_int_t)c->n, "error_interval",
                           isfinite(c->err_lo) ? json_pack("[o, o]", num(c->err_lo), num(c->err_hi))
                                               : json_null(),
                           "verdict", stt_check_verdict_name(c->verdict)));
    }
    return json_pack(
        "{s:i, s:o, s:s, s:o}", "servers", servers, "tolerance", num(STT_SWEEP_MODEL_TOL), "model",
        "M/G/c, Allen-Cunneen, service times = the service_time_s samples", "points", pts);
}

static json_t *maxrate_json(const stt_maxrate *mr)
{
    json_t *probes = json_array();
    for (int i = 0; i < mr->nprobes; i++) {
        const stt_maxrate_probe *pr = &mr->probes[i];
        const stt_sweep_summary *s = &pr->pt.sum;
        json_t *runs = json_array();
        for (int r = 0; r < pr->pt.nruns; r++) {
            const stt_sweep_repeat *rp = &pr->pt.runs[r];
            json_array_append_new(runs, json_pack("{s:I, s:I, s:o, s:b, s:b, s:i}", "n",
                                                  (json_int_t)rp->res.nsamples, "failed",
                                                  (json_int_t)stt_load_failures(&rp->res), "p95_s",
                                                  num(run_p95(&rp->res)), "stable", rp->res.stable,
                                                  "stability_judged", rp->res.stability_judged,
                                                  "attempts", rp->attempts));
        }
        json_array_append_new(
            probes, json_pack("{s:o, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:b, s:o}", "rate",
                              num(pr->rate), "verdict", stt_probe_verdict_name(pr->verdict), "why",
                              pr->why ? pr->why : "", "n", (json_int_t)s->n, "failed",
                              (json_int_t)s->failed, "failure_rate", num(s->failure_rate),
                              "failure_ci", ci_json(s->failure_ci), "p95_s", num(s->p95_slo),
                              "p95_ci", ci_json(s->p95_slo_ci), "stable", s->stable, "runs", runs));
        json_t *last = json_array_get(probes, json_array_size(probes) - 1);
        json_object_set_new(last, "stability_judged", json_boolean(!s->unjudged));
        json_object_set_new(last, "errors", errors_json(&pr->pt));
    }
    json_t *j = json_object();
    json_object_set_new(j, "slo_p95_s", num(mr->slo_p95_s));
    json_object_set_new(j, "error_budget", num(mr->error_budget));
    json_object_set_new(j, "arrival", json_string(stt_load_arrival_name(mr->arrival)));
    json_object_set_new(j, "capacity", json_boolean(mr->capacity));
    json_object_set_new(j, "failures_count_as_misses", json_true());
    json_object_set_new(j, "rate_rps", num(mr->max_rate));
    json_object_set_new(
        j, "bracket_rps",
        json_pack("[o, o]", num(mr->bracket_lo), num(mr->bracket_hi))); /* hi null: unbounded */
    if (mr->best >= 0) {
        const stt_maxrate_probe *b = &mr->probes[mr->best];
        json_object_set_new(j, "best_probe", json_integer(mr->best));
        json_object_set_new(j, "repeats", json_integer(b->pt.nruns));
        json_object_set_new(j, "p95_s",
                            json_pack("{s:o, s:o, s:I}", "value", num(b->pt.sum.p95_slo), "ci",
                                      ci_json(b->pt.sum.p95_slo_ci), "n", (json_int_t)b->pt.sum.n));
        json_object_set_new(j, "failure_rate", num(b->pt.sum.failure_rate));
        json_object_set_new(j, "failure_ci", ci_json(b->pt.sum.failure_ci));
    } else {
        json_object_set_new(j, "best_probe", json_null());
    }
    json_object_set_new(j, "probes", probes);
    json_object_set_new(j, "model_check",
                        checks_json(mr->checks, mr->nchecks, mr->servers, "probe"));
    return j;
}

static void add_metrics(json_t *doc, const stt_sweep *sw, const stt_maxrate *mr)
{
    for (int i = 0; sw && i < sw->npoints; i++) {
        const stt_sweep_point *pt = &sw->points[i];
        if (!pt->sum.stable) continue;
        char name[64], metric[96];
        stt_sweep_point_name(pt, name, sizeof name);
        double w[STT_LOAD_MAX_WINDOWS * 64], p95[64];
        size_t nw = 0, np = 0;
        for (int r = 0; r < pt->nruns && r < 64; r++) {
            const stt_load_result *res = &pt->runs[r].res;
            for (int k = 0; k < res->nwindows; k++)
                w[nw++] = res->window_ok_rps[k];
            double v = run_p95(res);
            if (isfinite(v)) p95[np++] = v;
        }
        snprintf(metric, sizeof metric, "load/%s/throughput_rps", name);
        if (nw) stt_results_add_metric(doc, metric, "req/s", 1, w, nw);
        snprintf(metric, sizeof metric, "load/%s/p95_s", name);
        if (np) stt_results_add_metric(doc, metric, "s", 0, p95, np);
    }
    if (sw && sw->service.point >= 0)
        stt_results_add_metric(doc, "load/service_time_s", "s", 0, sw->service.samples,
                               sw->service.s.n);
    if (mr && mr->capacity && mr->max_rate > 0)
        stt_results_add_metric(doc, "load/max_rate_rps", "req/s", 1, &mr->max_rate, 1);
}

json_t *stt_sweep_json(const stt_sweep *sw, const stt_maxrate *mr, json_t *config)
{
    json_t *doc = stt_results_new(STT_RESULTS_LOAD, "load", config);
    if (!doc) return NULL;
    json_object_set_new(doc, "latency_includes_failures", json_true());
    json_t *steps = json_array();
    for (int i = 0; sw && i < sw->npoints; i++)
        json_array_append_new(steps, step_json(&sw->points[i]));
    json_object_set_new(doc, "steps", steps);
    if (sw) {
        json_t *order = json_array();
        for (int r = 0; r < sw->nrounds; r++) {
            json_t *o = json_array();
            for (int k = 0; k < sw->npoints; k++)
                json_array_append_new(o, json_integer(sw->order[r * sw->npoints + k]));
            json_array_append_new(order, o);
        }
        json_object_set_new(doc, "order", order);
        json_object_set_new(doc, "knee", knee_json(sw));
        json_object_set_new(doc, "knee_state", knee_state_json(sw));
        if (sw->advice_workers > 0)
            json_object_set_new(doc, "advice",
                                json_pack("{s:i, s:i}", "workers", sw->advice_workers, "queue",
                                          sw->advice_workers));
        json_object_set_new(doc, "service_time_s", service_json(sw));
        json_object_set_new(doc, "model_check",
                            checks_json(sw->checks, sw->nchecks, sw->servers, "step"));
    } else {
        json_object_set_new(doc, "knee", json_null());
    }
    if (mr) json_object_set_new(doc, "max_rate", maxrate_json(mr));
    add_metrics(doc, sw, mr);
    return doc;
}

/* ---- text ---- */

static int nunstable(const stt_sweep *sw)
{
    int k = 0;
    for (int i = 0; i < sw->npoints; i++)
        k += !sw->points[i].sum.stable;
    return k;
}

static void knee_text(const stt_sweep *sw, int md, FILE *f)
{
    const stt_sweep_knee *k = &sw->knee;
    char a[32], b[32];
    const char *em = md ? "**" : "";
    switch (k->state) {
    case STT_KNEE_FOUND:
        fprintf(f,
                "%sKnee at %s%s: from there to %s, 2xx throughput changed by a factor %.3f "
                "[%.3f, %.3f] (under +%.0f%% with 95%% confidence) while p95 rose.\n",
                em, offered_text(&sw->points[k->index], a, sizeof a), em,
                offered_text(&sw->points[k->to], b, sizeof b), k->gain, k->gain_ci.lo,
                k->gain_ci.hi, 100 * (STT_SWEEP_KNEE_GAIN - 1));
        if (sw->advice_workers > 0)
            fprintf(f,
                    "Advice for sttd: %s--workers %d --queue %d%s (workers = the concurrency at "
                    "the knee; a queue as deep again absorbs bursts, beyond it 503).\n",
                    md ? "`" : "", sw->advice_workers, sw->advice_workers, md ? "`" : "");
        if (sw->mode == STT_LOAD_OPEN && sw->arrival == STT_ARRIVAL_CONSTANT)
            fprintf(f, "Constant arrivals never queue below capacity: this knee is no capacity "
                       "figure; measure with Poisson arrivals or a trace.\n");
        break;
    case STT_KNEE_UNDETERMINED:
        fprintf(f,
                "Knee undetermined: from %s to %s, 2xx throughput changed by a factor %.3f "
                "[%.3f, %.3f], an interval that contains +%.0f%%%s. More repeats (--repeats) or "
                "longer steps would settle it.\n",
                offered_text(&sw->points[k->from], a, sizeof a),
                offered_text(&sw->points[k->to], b, sizeof b), k->gain, k->gain_ci.lo,
                k->gain_ci.hi, 100 * (STT_SWEEP_KNEE_GAIN - 1),
                isfinite(k->gain_ci.lo) ? "" : " (or p95 needs more requests)");
        break;
    case STT_KNEE_NONE:
        fprintf(f, "No knee within the sweep: 2xx throughput still grew at every stable step.\n");
        break;
    case STT_KNEE_TOO_FEW:
        if (sw->npoints > 1) fprintf(f, "No knee: fewer than two stable steps to compare.\n");
        break;
    }
}

static void service_text(const stt_sweep *sw, FILE *f)
{
    const stt_sweep_service *sv = &sw->service;
    char a[96];
    if (sv->point < 0) return;
    fprintf(f,
            "Service time at c=1 (2xx answers, no queueing): median %s ms, n %zu, mean %s ms, "
            "squared CV %.3f.\n",
            ms_ci(a, sizeof a, sv->s.median, sv->s.median_ci), sv->s.n,
            ms((char[24]){0}, 24, sv->s.mean), sv->cs2);
}

static void checks_text(const stt_sweep_check *cs, int n, int servers, int md, FILE *f)
{
    if (servers < 1) return;
    if (n == 0) {
        fprintf(f, "%sModel check: no stable open-loop step with Poisson or trace arrivals.\n",
                md ? "\n" : "");
        return;
    }
    fprintf(f,
            "%sModel check: M/G/c with c = %d workers fed with the c=1 service times; a step "
            "agrees when the interval of (model - measured) / measured lies within +-%.0f%%.\n",
            md ? "\n" : "", servers, 100 * STT_SWEEP_MODEL_TOL);
    if (md)
        fprintf(f, "\n| offered | n | rho | measured p95 (ms) | model p95 (ms) | simulated 90%% "
                   "band (ms) | error | verdict |\n|---|---|---|---|---|---|---|---|\n");
    int within = 0;
    for (int i = 0; i < n; i++) {
        const stt_sweep_check *c = &cs[i];
        char off[32], m[96], mo[24], lo[24], hi[24], band[64] = "-", err[48] = "-";
        snprintf(off, sizeof off, "%g/s", c->lambda);
        if (c->has_sim)
            snprintf(band, sizeof band, "%s to %s", ms(lo, sizeof lo, c->sim_lo),
                     ms(hi, sizeof hi, c->sim_hi));
        if (isfinite(c->err_lo))
            snprintf(err, sizeof err, "%+.0f%% to %+.0f%%", 100 * c->err_lo, 100 * c->err_hi);
        const char *model = c->model_stable ? ms(mo, sizeof mo, c->model_p95) : "saturated";
        within += c->verdict == STT_CHECK_WITHIN;
        if (md)
            fprintf(f, "| %s | %zu | %.2f | %s | %s | %s | %s | %s |\n", off, c->n, c->rho,
                    ms_ci(m, sizeof m, c->measured_p95, c->measured_ci), model, band, err,
                    stt_check_verdict_name(c->verdict));
        else
            fprintf(f, "  %-9s n %-6zu rho %.2f  measured %s  model %s  band %s  error %s: %s\n",
                    off, c->n, c->rho, ms_ci(m, sizeof m, c->measured_p95, c->measured_ci), model,
                    band, err, stt_check_verdict_name(c->verdict));
    }
    fprintf(f, "%s%d of %d checked point(s) within +-%.0f%%.\n", md ? "\n" : "  ", within, n,
            100 * STT_SWEEP_MODEL_TOL);
}

static void notes_text(const stt_sweep *sw, int md, FILE *f)
{
    int un = nunstable(sw), sat = 0;
    for (int i = 0; i < sw->npoints; i++)
        sat += sw->points[i].sum.saturated;
    if (un) {
        fprintf(f,
                "%s%d step(s) unstable, or with too few answers per window to judge, after "
                "lengthening, reported and excluded from every decision:",
                md ? "\n" : "warning: ", un);
        for (int i = 0; i < sw->npoints; i++)
            if (!sw->points[i].sum.stable)
                fprintf(f, " %s", offered_text(&sw->points[i], (char[32]){0}, 32));
        fprintf(f, " (raise --duration or --max-extend).\n");
    }
    if (sat)
        fprintf(f,
                "%s%d step(s) ran a generator thread at %.0f%% of a core or more: there the "
                "generator, not the server, may have set the pace; add --threads.\n",
                md ? "\n" : "warning: ", sat, 100 * STT_LOAD_SATURATED);
}

static void table(const stt_sweep *sw, int md, FILE *f)
{
    if (md)
        fprintf(f,
                "| offered | runs | n | 2xx/s [95%% CI] | audio s/s | p50 | p95 [95%% CI] | "
                "p99 | max | failed | stable |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    else
        fprintf(f, "%-9s %4s %7s %-26s %9s %9s %-26s %11s %9s %13s %s\n", "offered", "runs", "n",
                "2xx/s [95% CI]", "audio s/s", "p50", "p95 [95% CI]", "p99", "max", "failed",
                "stable");
    for (int i = 0; i < sw->npoints; i++) {
        const stt_sweep_point *pt = &sw->points[i];
        const stt_sweep_summary *s = &pt->sum;
        char off[32], t[128], p50[24], p95[96], p99[24], mx[24], fl[48], au[32];
        offered_text(pt, off, sizeof off);
        rate_ci(t, sizeof t, &s->throughput);
        ms(p50, sizeof p50, s->lat[0]);
        ms_ci(p95, sizeof p95, s->lat[2], s->p95_ci);
        ms(p99, sizeof p99, s->lat[3]);
        ms(mx, sizeof mx, s->lat[5]);
        snprintf(fl, sizeof fl, "%llu (%.1f%%)", (unsigned long long)s->failed,
                 100 * (isfinite(s->failure_rate) ? s->failure_rate : 0));
        const char *st = s->stable      ? "yes"
                         : !s->unstable ? (md ? "**too few per window to judge**" : "TOO-FEW")
                         : md           ? "**no**"
                                        : "UNSTABLE";
        if (md)
            fprintf(f, "| %s | %d | %llu | %s | %.3g | %s | %s | %s | %s | %s | %s%s |\n", off,
                    pt->nruns, (unsigned long long)s->n, t, s->audio_s_per_s, p50, p95, p99, mx, fl,
                    st, s->saturated ? " (generator saturated)" : "");
        else
            fprintf(f, "%-9s %4d %7llu %-26s %9s %9s %-26s %11s %9s %13s %s%s\n", off, pt->nruns,
                    (unsigned long long)s->n, t, sig3(au, sizeof au, s->audio_s_per_s), p50, p95,
                    p99, mx, fl, st, s->saturated ? " gen-saturated" : "");
    }
}

void stt_sweep_print(const stt_sweep *sw, FILE *f)
{
    fprintf(f, "latency in ms from each request's scheduled send, failed requests included "
               "(timed to the failure); 2xx/s: median of every window\n");
    table(sw, 0, f);
    knee_text(sw, 0, f);
    service_text(sw, f);
    checks_text(sw->checks, sw->nchecks, sw->servers, 0, f);
    notes_text(sw, 0, f);
}

static void maxrate_text(const stt_maxrate *mr, int md, FILE *f)
{
    char a[96], hi[32];
    if (isfinite(mr->bracket_hi))
        snprintf(hi, sizeof hi, "%.4g", mr->bracket_hi);
    else
        snprintf(hi, sizeof hi, "not reached");
    if (mr->best >= 0) {
        const stt_maxrate_probe *b = &mr->probes[mr->best];
        fprintf(f,
                "%sHighest rate meeting p95 <= %g s: %.4g requests/s%s (%s arrivals; the limit "
                "lies between it and %s). There, over %d runs and n %llu requests, p95 was %s ms "
                "with failures counted as misses, and %.2f%% failed (budget %.2f%%).\n",
                md ? "**" : "", mr->slo_p95_s, mr->max_rate, md ? "**" : "",
                stt_load_arrival_name(mr->arrival), hi, b->pt.nruns,
                (unsigned long long)b->pt.sum.n,
                ms_ci(a, sizeof a, b->pt.sum.p95_slo, b->pt.sum.p95_slo_ci),
                100 * b->pt.sum.failure_rate, 100 * mr->error_budget);
    } else {
        fprintf(f,
                "No probed rate met p95 <= %g s with its interval and the error budget of "
                "%.2f%% (lowest rate that did not: %s requests/s).\n",
                mr->slo_p95_s, 100 * mr->error_budget, hi);
    }
    if (!mr->capacity)
        fprintf(f, "Constant arrivals never queue below capacity: this is the pacing limit, no "
                   "capacity figure. Use Poisson arrivals (the default) or a trace.\n");
    if (md)
        fprintf(f, "\n| rate | runs | n | p95, failures as misses (ms) [95%% CI] | failed "
                   "[95%% CI] | stable | verdict |\n|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < mr->nprobes; i++) {
        const stt_maxrate_probe *p = &mr->probes[i];
        const stt_sweep_summary *s = &p->pt.sum;
        char fl[64];
        snprintf(fl, sizeof fl, "%.2f%% [%.2f, %.2f]", 100 * s->failure_rate,
                 100 * s->failure_ci.lo, 100 * s->failure_ci.hi);
        if (md)
            fprintf(f, "| %.4g/s | %d | %llu | %s | %s | %s | %s: %s |\n", p->rate, p->pt.nruns,
                    (unsigned long long)s->n, ms_ci(a, sizeof a, s->p95_slo, s->p95_slo_ci), fl,
                    s->stable     ? "yes"
                    : s->unstable ? "**no**"
                                  : "too few per window to judge",
                    stt_probe_verdict_name(p->verdict), p->why);
        else
            fprintf(f, "  %9.4g/s  runs %d  n %-6llu  p95 %-26s  failed %-22s %s (%s)\n", p->rate,
                    p->pt.nruns, (unsigned long long)s->n,
                    ms_ci(a, sizeof a, s->p95_slo, s->p95_slo_ci), fl,
                    stt_probe_verdict_name(p->verdict), p->why);
    }
}

void stt_maxrate_print(const stt_maxrate *mr, FILE *f)
{
    maxrate_text(mr, 0, f);
    checks_text(mr->checks, mr->nchecks, mr->servers, 0, f);
}

/* What became of a run that was not stable. */
static const char *extend_text(int max_extend, char *buf, size_t len)
{
    if (max_extend < 1)
        snprintf(buf, len, "one that was not was kept as it was (--max-extend 0)");
    else
        snprintf(buf, len,
                 "one that was not was measured again at twice the length, at most %d "
                 "time%s",
                 max_extend, max_extend == 1 ? "" : "s");
    return buf;
}

void stt_sweep_write_markdown(const stt_sweep *sw, const stt_maxrate *mr, const char *title,
                              int charts, FILE *f)
{
    fprintf(f, "# %s\n\n", title);
    if (sw) {
        fprintf(f,
                "%s loop%s%s; %d run(s) per step%s; a run is stable when its last three "
                "windows%s agree within 10%% on 2xx throughput and p95 and hold enough answers "
                "to judge; %s. Latencies in "
                "milliseconds from each request's scheduled "
                "send time, **failed requests included, timed to their failure**; a percentile "
                "is shown only where n supports it (\"n too small\"). 2xx/s: the median of "
                "every window of every run, with its 95%% interval. Data: `load.json`.\n\n",
                sw->mode == STT_LOAD_OPEN ? "Open" : "Closed",
                sw->mode == STT_LOAD_OPEN ? ", " : "",
                sw->mode == STT_LOAD_OPEN ? stt_load_arrival_name(sw->arrival) : "", sw->nrounds,
                sw->nrounds > 1 ? ", in shuffled rounds" : "",
                sw->mode == STT_LOAD_OPEN ? "" : " (each an equal count of answers, timed)",
                extend_text(sw->max_extend, (char[96]){0}, 96));
        table(sw, 1, f);
        fputc('\n', f);
        knee_text(sw, 1, f);
        service_text(sw, f);
        checks_text(sw->checks, sw->nchecks, sw->servers, 1, f);
        notes_text(sw, 1, f);
    }
    if (mr) {
        fprintf(f, "\n## Highest rate under the objective\n\n");
        maxrate_text(mr, 1, f);
        checks_text(mr->checks, mr->nchecks, mr->servers, 1, f);
    }
    if (charts && sw)
        fprintf(f, "\n![throughput](load_throughput.svg)\n![latency](load_latency.svg)\n"
                   "![latency distribution](load_distribution.svg)\n");
}

/* ---- charts ---- */

int stt_sweep_write_charts(const stt_sweep *sw, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/load_steps.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
    fprintf(f, "# offered tput tput_lo tput_hi p50_s p95_s p95_lo_s p95_hi_s p99_s stable\n");
    for (int i = 0; i < sw->npoints; i++) {
        const stt_sweep_summary *s = &sw->points[i].sum;
        fprintf(f, "%g %g %g %g %g %g %g %g %g %d\n", sw->points[i].offered, s->throughput.median,
                s->throughput.median_ci.lo, s->throughput.median_ci.hi, s->lat[0], s->lat[2],
                s->p95_ci.lo, s->p95_ci.hi, s->lat[3], s->stable);
    }
    fclose(f);
    /* Each step's latency as a percentile spectrum (x: the number of nines,
     * -log10(1 - p), HdrHistogram's plot), up to what its n supports. */
    static const double spectrum[] = {0,  10,    20,   30,    40,   50,    60,   70, 75,
                                      80, 85,    90,   92.5,  95,   96.25, 97.5, 98, 98.5,
                                      99, 99.25, 99.5, 99.75, 99.9, 99.95, 99.99};
    snprintf(path, sizeof path, "%s/load_distribution.dat", dir);
    f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
    fprintf(f, "# one block per step (offered load in its header): percentile nines latency_s "
               "(failures included)\n");
    for (int i = 0; i < sw->npoints; i++) {
        char name[32];
        fprintf(f, "%s\"%s\"\n", i ? "\n\n" : "", offered_text(&sw->points[i], name, sizeof name));
        size_t n;
        double *x = stt_sweep_latencies(&sw->points[i], 0, 0, &n);
        int rows = 0;
        for (size_t k = 0; x && k < sizeof spectrum / sizeof spectrum[0]; k++)
            if (spectrum[k] == 0 || stt_stats_percentile_supported(n, spectrum[k])) {
                fprintf(f, "%g %.4f %g\n", spectrum[k], -log10(1 - spectrum[k] / 100),
                        stt_stats_quantile(x, n, spectrum[k] / 100));
                rows++;
            }
        if (!rows) fprintf(f, "0 0 NaN\n");
        free(x);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/load.gp", dir);
    f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
    int open = sw->mode == STT_LOAD_OPEN;
    const char *x = open ? "offered rate (requests/s)" : "concurrency (requests in flight)";
    fprintf(f,
            "# Charts of load_steps.dat and load_distribution.dat; run from this folder: "
            "gnuplot load.gp\n"
            "set grid\nset key top left\nset xlabel '%s'\n"
            "do for [fmt in 'png svg'] {\n"
            "  if (fmt eq 'png') { set terminal pngcairo size 900,560 } "
            "else { set terminal svg size 900,560 }\n"
            "  set output 'load_throughput.'.fmt\n"
            "  set ylabel '2xx throughput (requests/s)'\n"
            "  set title 'Throughput against offered load (median of windows, 95%% interval)'\n"
            "  plot 'load_steps.dat' using 1:2:3:4 with yerrorlines title 'measured'%s\n"
            "  set output 'load_latency.'.fmt\n"
            "  set ylabel 'latency (s), failures included'\n"
            "  set title 'Latency against offered load (missing: n too small)'\n"
            "  plot 'load_steps.dat' using 1:5 with linespoints title 'p50', "
            "'' using 1:6:7:8 with yerrorlines title 'p95 (95%% interval)', "
            "'' using 1:9 with linespoints title 'p99'\n"
            "  set output 'load_distribution.'.fmt\n"
            "  set title 'Latency distribution of each step'\n"
            "  set xlabel 'percentile'\n  set ylabel 'latency (s)'\n  set logscale y\n"
            "  set xtics ('0%%%%' 0, '90%%%%' 1, '99%%%%' 2, '99.9%%%%' 3, '99.99%%%%' 4)\n"
            "  plot for [i=0:*] 'load_distribution.dat' index i using 2:3 with linespoints "
            "title columnheader(1)\n"
            "  unset logscale y\n  set xtics autofreq\n  set xlabel '%s'\n"
            "  unset output\n"
            "}\n",
            x, open ? ", x with lines dashtype 2 title 'offered'" : "", x);
    fclose(f);
    return stt_chart_run(dir, "load.gp", err, errlen);
}

int stt_sweep_write_all(const char *dir, const json_t *doc, const stt_sweep *sw,
                        const stt_maxrate *mr, const char *title, int *charts, char *err,
                        size_t errlen)
{
    *charts = 0;
    if (stt_results_mkdirs(dir)) return stt_seterr(err, errlen, STT_EIO, "cannot create %s", dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/load.json", dir);
    int rc = stt_results_write(doc, path, err, errlen);
    if (rc) return rc;
    if (sw) {
        char cerr[512];
        rc = stt_sweep_write_charts(sw, dir, cerr, sizeof cerr);
        if (rc == STT_EIO && strstr(cerr, "cannot write"))
            return stt_seterr(err, errlen, rc, "%s", cerr);
        *charts = rc == 0;
    }
    snprintf(path, sizeof path, "%s/load_report.md", dir);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
    stt_sweep_write_markdown(sw, mr, title, *charts, f);
    return fclose(f) ? stt_seterr(err, errlen, STT_EIO, "cannot write %s", path) : 0;
}
