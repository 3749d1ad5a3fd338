/* report/decide: the decisions drawn from the results (pod shape, CPU limit,
 * memory, HPA target, queue, grace period) and the figures they rest on. */
#include "report.h"

#include <math.h>
#include <string.h>

#include "error.h"
#include "internal.h"
#include "queueing.h"

/* ---- the figures the decisions rest on ---- */

/* Index of cpu.json's analysis entry for a mode, or -1. */
int rpt_analysis_index(const src *cpu, const char *mode)
{
    json_t *a = cpu ? json_object_get(cpu->j, "analysis") : NULL;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *m = json_string_value(json_object_get(json_array_get(a, i), "mode"));
        if (m && !strcmp(m, mode)) return (int)i;
    }
    return -1;
}

/* Largest peak PSS over cpu.json's ok points with this core count (bytes, or NaN). */
static double cpu_peak_pss(const src *cpu, int cores, int *index)
{
    json_t *pts = cpu ? json_object_get(cpu->j, "points") : NULL;
    double best = NAN;
    for (size_t i = 0; i < json_array_size(pts); i++) {
        json_t *pt = json_array_get(pts, i);
        const char *st = json_string_value(json_object_get(pt, "status"));
        if (!st || strcmp(st, "ok") || json_integer_value(json_object_get(pt, "cores")) != cores)
            continue;
        double v = rpt_jnumv(rpt_jpath(pt, "memory.peak_pss_bytes"));
        if (isfinite(v) && !(v <= best)) {
            best = v;
            if (index) *index = (int)i;
        }
    }
    return best;
}

/* Index of the audio.json fit of y for a profile, or -1. */
int rpt_fit_index(const src *audio, const char *profile, const char *y)
{
    json_t *fits = audio ? json_object_get(audio->j, "fits") : NULL;
    for (size_t i = 0; i < json_array_size(fits); i++) {
        json_t *f = json_array_get(fits, i);
        const char *pr = json_string_value(json_object_get(f, "profile"));
        const char *yy = json_string_value(json_object_get(f, "y"));
        if (pr && yy && !strcmp(pr, profile) && !strcmp(yy, y)) return (int)i;
    }
    return -1;
}

/* Mean duration of the files audio.json measured (each file once), or NaN. */
static double audio_mean_duration(const src *audio)
{
    json_t *res = audio ? json_object_get(audio->j, "results") : NULL;
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *x = json_array_get(res, i);
        const char *f = json_string_value(json_object_get(x, "file"));
        int seen = 0;
        for (size_t k = 0; k < i && f; k++) {
            const char *g = json_string_value(json_object_get(json_array_get(res, k), "file"));
            if (g && !strcmp(f, g)) seen = 1;
        }
        double dur = rpt_jnumv(json_object_get(x, "duration_s"));
        if (!seen && isfinite(dur)) {
            sum += dur;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

/* Pod shapes from cpu.json's cpuset series; returns how many (<= max). */
int rpt_shapes(const stt_report *r, const stt_report_params *p, shape *out, int max)
{
    const src *cpu = rpt_primary(r, K_CPU);
    int a = rpt_analysis_index(cpu, "cpuset");
    if (a < 0) return 0;
    json_t *series = rpt_jpath(cpu->j, "analysis");
    series = json_object_get(json_array_get(series, (size_t)a), "series");
    int n = 0;
    for (size_t i = 0; i < json_array_size(series) && n < max; i++) {
        json_t *e = json_array_get(series, i);
        shape s = {.cores = (int)json_integer_value(json_object_get(e, "cores")),
                   .series_index = (int)i,
                   .x = rpt_jnumv(json_object_get(e, "audio_s_per_s")),
                   .long_latency = rpt_jnumv(json_object_get(e, "long_latency_s"))};
        if (s.cores < 1 || !(s.x > 0)) continue;
        s.mem_bytes = cpu_peak_pss(cpu, s.cores, NULL) * (1 + p->memory_margin);
        double gib = isfinite(s.mem_bytes) ? s.mem_bytes / 1073741824.0 : 0;
        /* P_core n + P_gib m per wall hour, over X audio hours per hour */
        s.cost = (p->price_core_hour * s.cores + p->price_gib_hour * gib) / s.x;
        out[n++] = s;
    }
    return n;
}

static double slo_used(const stt_report *r, const stt_report_params *p)
{
    if (p->slo_p95_s > 0) return p->slo_p95_s;
    double s = rpt_jnum_at(rpt_primary(r, K_LOAD), "config.slo_p95_s");
    return s > 0 ? s : 0;
}

/* Service-time distribution of one worker for the shape: audio.json's fit gives
 * the shape of a + b d over the mix; cpu.json's throughput at that core count
 * fixes its mean (c workers each take c E[d] / X seconds per request). */
int rpt_service_times(const stt_report *r, const stt_report_params *p, const shape *sh,
                      const stt_mix *mix, double *out)
{
    const src *audio = rpt_primary(r, K_AUDIO);
    int fi = rpt_fit_index(audio, p->profile, "process_s");
    if (fi < 0) return -1;
    double a = rpt_jnum_at(audio, "fits[%d].intercept", fi),
           b = rpt_jnum_at(audio, "fits[%d].slope", fi);
    double wsum = 0, ed = 0, es = 0;
    for (size_t i = 0; i < mix->n; i++) {
        out[i] = fmax(1e-3, a + b * mix->duration_s[i]);
        wsum += mix->weight[i];
        ed += mix->weight[i] * mix->duration_s[i];
        es += mix->weight[i] * out[i];
    }
    if (!(wsum > 0)) return -1;
    ed /= wsum;
    es /= wsum;
    if (sh && sh->x > 0) {
        double scale = (sh->cores * ed / sh->x) / es;
        for (size_t i = 0; i < mix->n; i++)
            out[i] *= scale;
    }
    return 0;
}

void stt_report_decide(const stt_report *r, const stt_report_params *p, stt_report_decision *d)
{
    memset(d, 0, sizeof *d);
    const src *t = rpt_primary(r, K_TESTS), *au = rpt_primary(r, K_AUDIO),
              *ld = rpt_primary(r, K_LOAD), *cpu = rpt_primary(r, K_CPU);
    d->has_tests = t != NULL;
    d->has_audio = au != NULL;
    d->has_load = ld != NULL;
    d->has_cpu = cpu != NULL;
    d->has_service = rpt_primary(r, K_SERVICE) != NULL;
    d->coverage_line = NAN;
    d->fit_a = d->fit_b = d->quota_ratio = d->quota_latency_ratio = d->best_cost_per_audio_hour =
        d->best_audio_s_per_s = d->memory_bytes = NAN;
    if (t) {
        d->tests_total = (int)rpt_jnum_at(t, "totals.tests");
        d->tests_passed = (int)rpt_jnum_at(t, "totals.passed");
        d->tests_failed = (int)rpt_jnum_at(t, "totals.failed");
        d->tests_skipped = (int)rpt_jnum_at(t, "totals.skipped");
        d->tests_ok = json_is_true(json_object_get(t->j, "ok"));
        d->coverage_line = rpt_jnum_at(t, "coverage.line_percent");
        double thr = rpt_jnum_at(t, "coverage.threshold");
        d->tested_stable = d->tests_ok && d->tests_failed == 0 && d->tests_total > 0 &&
                           isfinite(d->coverage_line) && !(d->coverage_line < thr);
    }
    d->cpu_answer = rpt_jstr_at(cpu, "verdict.answer");
    d->slo_p95_s = slo_used(r, p);

    int fi = rpt_fit_index(au, p->profile, "process_s");
    if (fi >= 0) {
        d->fit_a = rpt_jnum_at(au, "fits[%d].intercept", fi);
        d->fit_b = rpt_jnum_at(au, "fits[%d].slope", fi);
    }

    /* Pod shape: the cheapest per audio hour whose single long request meets
     * the objective (scale up until one request is fast enough, then out). */
    shape sh[32];
    int ns = rpt_shapes(r, p, sh, 32), best = -1;
    for (int i = 0; i < ns; i++) {
        int meets = !(d->slo_p95_s > 0) || !isfinite(sh[i].long_latency) ||
                    sh[i].long_latency <= d->slo_p95_s;
        if (meets && (best < 0 || sh[i].cost < sh[best].cost)) best = i;
    }
    if (best < 0 && ns > 0) /* nothing meets it: the fastest single request */
        for (int i = 0; i < ns; i++)
            if (best < 0 || sh[i].long_latency < sh[best].long_latency) best = i;
    d->best_cores = best >= 0 ? sh[best].cores : 0;
    if (best >= 0) {
        d->best_cost_per_audio_hour = sh[best].cost;
        d->best_audio_s_per_s = sh[best].x;
        d->memory_bytes = sh[best].mem_bytes;
    }

    /* CPU limit: a CFS quota (what limits.cpu sets) against pinned cores, at the
     * chosen shape's core count (else the first measured). It is dropped when
     * it costs over 5% of throughput or over 10% of one long request's time. */
    d->cpu_limit = 1;
    json_t *qv = cpu ? json_object_get(cpu->j, "quota_vs_cpuset") : NULL;
    for (size_t i = 0; i < json_array_size(qv); i++) {
        json_t *e = json_array_get(qv, i);
        int c = (int)json_integer_value(json_object_get(e, "cores"));
        if (c == d->best_cores || (!isfinite(d->quota_ratio))) {
            d->quota_ratio = rpt_jnumv(json_object_get(e, "throughput_ratio"));
            d->quota_latency_ratio = rpt_jnumv(json_object_get(e, "latency_ratio"));
        }
    }
    if (d->quota_ratio < 0.95 || d->quota_latency_ratio > 1.10) d->cpu_limit = 0;

    /* Memory: with no cpu.json peak, audio.json's memory fit at the longest audio. */
    int mi = rpt_fit_index(au, p->profile, "peak_pss_bytes");
    if (mi >= 0) {
        double m = (rpt_jnum_at(au, "fits[%d].intercept", mi) +
                    rpt_jnum_at(au, "fits[%d].slope", mi) * p->max_audio_s) *
                   (1 + p->memory_margin);
        if (!(m <= d->memory_bytes)) d->memory_bytes = m;
    }

    /* HPA: the utilisation at which the queueing model still meets the
     * objective; else the knee's share of the peak throughput. */
    d->hpa_cpu_percent = 70;
    d->hpa_basis = "default (no objective and no knee measured)";
    double emean = audio_mean_duration(au);
    if (best >= 0 && d->slo_p95_s > 0 && isfinite(emean) && fi >= 0) {
        double dur = emean, w = 1, s;
        stt_mix mix = {&dur, &w, 1};
        if (rpt_service_times(r, p, &sh[best], &mix, &s) == 0) {
            /* the shape of the distribution: every measured duration */
            stt_mgc_params q = stt_mgc_default_params();
            q.servers = sh[best].cores;
            q.service_s = &s;
            q.n = 1;
            double rate;
            if (stt_mgc_max_rate(&q, d->slo_p95_s, &rate, NULL, 0) == 0 && rate > 0) {
                int pct = (int)floor(100.0 * rate * s / q.servers);
                d->hpa_cpu_percent = pct < 30 ? 30 : pct > 90 ? 90 : pct;
                d->hpa_basis = "queueing model: utilisation at which p95 meets the objective";
            }
        }
    }
    if (!strncmp(d->hpa_basis, "default", 7) && ld &&
        json_is_object(json_object_get(ld->j, "knee"))) {
        double kt = rpt_jnum_at(ld, "knee.throughput_rps"), mx = 0;
        json_t *steps = json_object_get(ld->j, "steps");
        for (size_t i = 0; i < json_array_size(steps); i++)
            mx = fmax(mx, rpt_jnumv(rpt_jpath(json_array_get(steps, i), "throughput_rps")));
        if (kt > 0 && mx > 0) {
            int pct = (int)floor(90.0 * kt / mx);
            d->hpa_cpu_percent = pct < 30 ? 30 : pct > 90 ? 90 : pct;
            d->hpa_basis = "load knee: 90% of the knee's share of peak throughput";
        }
    }
    d->queue_depth_target = d->best_cores > 0 ? d->best_cores : NAN;
    double w = rpt_jnum_at(ld, "advice.workers");
    if (!isfinite(d->queue_depth_target) && w > 0) d->queue_depth_target = w;

    /* Grace: the slowest profile's time for the longest allowed audio, +50%, +10 s. */
    double worst = NAN;
    json_t *fits = au ? json_object_get(au->j, "fits") : NULL;
    for (size_t i = 0; i < json_array_size(fits); i++) {
        json_t *f = json_array_get(fits, i);
        const char *y = json_string_value(json_object_get(f, "y"));
        if (!y || strcmp(y, "process_s")) continue;
        double v = rpt_jnumv(json_object_get(f, "intercept")) +
                   rpt_jnumv(json_object_get(f, "slope")) * p->max_audio_s;
        if (!(v <= worst)) worst = v;
    }
    d->grace_s = isfinite(worst) ? (int)ceil(worst * 1.5) + 10 : (int)ceil(p->max_audio_s) + 10;
}
