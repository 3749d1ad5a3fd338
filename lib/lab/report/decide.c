/* report/decide: the deployment drawn from the results, each figure from a
 * named measurement or model step:
 *
 *   shape        shapes.json through stt_shapes_choose() at the report's prices
 *                and objective
 *   target rho   the highest utilisation of that pod whose p95 predicted by
 *                the M/G/c model (fed audio.json's service-time model over the
 *                traffic) times the margin meets the objective; the margin is
 *                what replicas.json's per-pod validation measured
 *   KEDA         the requests a pod holds at that rho (Little's law)
 *   queue        the smallest --queue whose simulated refusals at that rho
 *                stay within the budget
 *   memory       shapes.json's worst case for that pod size, plus the margin
 *   grace        the slowest profile's longest allowed request at that shape,
 *                plus one queued behind it
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "internal.h"
#include "queueing.h"
#include "results.h"
#include "stats.h"

/* ---- the figures other sections read ---- */

int rpt_analysis_index(const src *cpu, const char *mode)
{
    json_t *a = cpu ? json_object_get(cpu->j, "analysis") : NULL;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *m = json_string_value(json_object_get(json_array_get(a, i), "mode"));
        if (m && !strcmp(m, mode)) return (int)i;
    }
    return -1;
}

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

/* ---- the steps ---- */

static void objective(const stt_report *r, const stt_report_params *p, rpt_deploy *dp)
{
    dp->slo_s = 0;
    snprintf(dp->slo_source, sizeof dp->slo_source, "none given (--slo-p95)");
    if (p->slo_p95_s > 0) {
        dp->slo_s = p->slo_p95_s;
        snprintf(dp->slo_source, sizeof dp->slo_source, "--slo-p95");
        return;
    }
    const src *ld = rpt_primary(r, K_LOAD), *sh = rpt_primary(r, K_SHAPES);
    double v = rpt_jnum_at(ld, "config.slo_p95_s");
    if (v > 0) {
        dp->slo_s = v;
        snprintf(dp->slo_source, sizeof dp->slo_source, "config.slo_p95_s of %.100s", ld->label);
        return;
    }
    v = rpt_jnum_at(sh, "config.slo_p95_s");
    if (v > 0) {
        dp->slo_s = v;
        snprintf(dp->slo_source, sizeof dp->slo_source, "config.slo_p95_s of %.100s", sh->label);
    }
}

/* The traffic: shapes.json's mix, else load.json's uploads, else every file
 * audio.json measured, once each. */
static void traffic(const stt_report *r, rpt_deploy *dp)
{
    dp->mix_n = 0;
    const src *sh = rpt_primary(r, K_SHAPES), *ld = rpt_primary(r, K_LOAD),
              *au = rpt_primary(r, K_AUDIO);
    struct {
        const src *s;
        const char *path, *dur, *w;
    } from[] = {{sh, "config.mix", "audio_s", "weight"},
                {ld, "config.uploads", "audio_s", "weight"}};
    for (size_t k = 0; k < sizeof from / sizeof from[0] && !dp->mix_n; k++) {
        json_t *a = from[k].s ? rpt_jpath(from[k].s->j, from[k].path) : NULL;
        for (size_t i = 0; i < json_array_size(a) && dp->mix_n < RPT_MIX_MAX; i++) {
            double d = stt_results_get_num(json_array_get(a, i), from[k].dur),
                   w = stt_results_get_num(json_array_get(a, i), from[k].w);
            if (d > 0 && w > 0) {
                dp->mix_d[dp->mix_n] = d;
                dp->mix_w[dp->mix_n++] = w;
            }
        }
        if (dp->mix_n)
            snprintf(dp->mix_source, sizeof dp->mix_source, "%s of %.100s", from[k].path,
                     from[k].s->label);
    }
    if (dp->mix_n || !au) return;
    json_t *res = json_object_get(au->j, "results");
    for (size_t i = 0; i < json_array_size(res) && dp->mix_n < RPT_MIX_MAX; i++) {
        json_t *x = json_array_get(res, i);
        /* The single clips (set "clips") are there to fit the fixed cost;
         * they are not the traffic. */
        const char *set = json_string_value(json_object_get(x, "set"));
        if (set && !strcmp(set, "clips")) continue;
        double d = stt_results_get_num(x, "duration_s");
        int seen = 0;
        for (int k = 0; k < dp->mix_n; k++)
            seen |= dp->mix_d[k] == d;
        if (d > 0 && !seen) {
            dp->mix_d[dp->mix_n] = d;
            dp->mix_w[dp->mix_n++] = 1;
        }
    }
    if (dp->mix_n)
        snprintf(dp->mix_source, sizeof dp->mix_source,
                 "the results of %.100s (every length measured, equally often)", au->label);
}

static void shape(const stt_report *r, const stt_report_params *p, rpt_deploy *dp)
{
    const src *sh = rpt_primary(r, K_SHAPES);
    dp->cores = 1;
    dp->shape_measured = 0;
    snprintf(dp->shape_basis, sizeof dp->shape_basis,
             "not measured: no shapes.json (run sttbench shapes); 1 core is a placeholder");
    if (!sh || json_object_get(sh->j, "skipped")) return;
    dp->nshapes = stt_shapes_read(sh->j, dp->shapes, STT_SHAPES_MAX);
    stt_shapes_prices pr = {p->price_core_hour, p->price_gib_hour};
    if (dp->nshapes < 1 ||
        stt_shapes_choose(dp->shapes, dp->nshapes, &pr, dp->slo_s, &dp->choice) ||
        dp->choice.chosen < 0)
        return;
    const stt_shape *c = &dp->shapes[dp->choice.chosen];
    dp->cores = c->cores;
    dp->shape_measured = 1;
    snprintf(dp->shape_basis, sizeof dp->shape_basis, "shape %dx%d of %.100s, %s (%s)", c->pods,
             c->cores, sh->label, dp->choice.basis, dp->choice.confidence);
}

static void margin(const stt_report *r, rpt_deploy *dp)
{
    const src *rp = rpt_primary(r, K_REPLICAS);
    double m = rpt_jnum_at(rp, "validation.margin_factor");
    if (m >= 1 && isfinite(m)) {
        dp->margin = m;
        snprintf(dp->margin_basis, sizeof dp->margin_basis,
                 "validation.margin_factor of %.100s, the upper end of measured / predicted p95 "
                 "under per-pod routing",
                 rp->label);
    } else {
        dp->margin = RPT_POLICY_MARGIN;
        snprintf(dp->margin_basis, sizeof dp->margin_basis,
                 "policy %.2f: no per-pod validation (replicas.json) to measure it",
                 RPT_POLICY_MARGIN);
    }
}

/* The pod's queue at rho: servers = cores, one worker's service times. */
static stt_mgc_params pod_queue(const rpt_deploy *dp)
{
    stt_mgc_params q = stt_mgc_default_params();
    q.servers = dp->cores;
    q.service_s = dp->service_s;
    q.weight = dp->mix_w;
    q.n = (size_t)dp->mix_n;
    return q;
}

static double mean_service(const rpt_deploy *dp)
{
    double ws = 0, s = 0;
    for (int i = 0; i < dp->mix_n; i++) {
        ws += dp->mix_w[i];
        s += dp->mix_w[i] * dp->service_s[i];
    }
    return ws > 0 ? s / ws : NAN;
}

static void utilisation(rpt_deploy *dp)
{
    dp->rho = 0.7;
    dp->rho_from_model = 0;
    dp->rho_p95_s = dp->rho_unmargined = NAN;
    dp->inflight = NAN;
    if (!dp->have_svc || !dp->mix_n) {
        snprintf(dp->rho_basis, sizeof dp->rho_basis,
                 "policy 0.7: no service-time model (audio.json fit for the profile) to size "
                 "with");
        return;
    }
    for (int i = 0; i < dp->mix_n; i++)
        dp->service_s[i] = stt_svctime_request_s(&dp->svc, dp->mix_d[i], 1);
    stt_mgc_params q = pod_queue(dp);
    if (!(dp->slo_s > 0)) {
        snprintf(dp->rho_basis, sizeof dp->rho_basis,
                 "policy 0.7: no latency objective (--slo-p95 or load.json) to size against");
    } else {
        /* The objective is the short requests' p95, as the shape measurement
         * has it: the shortest file of the traffic, waiting as the whole mix
         * makes it wait. */
        int sh = 0;
        for (int i = 1; i < dp->mix_n; i++)
            if (dp->mix_d[i] < dp->mix_d[sh]) sh = i;
        double rho = 0, raw = 0, cls = dp->service_s[sh];
        if (stt_mgc_target_rho(&q, dp->slo_s, dp->margin, cls, &rho, NULL, 0) ||
            stt_mgc_target_rho(&q, dp->slo_s, 1.0, cls, &raw, NULL, 0))
            return;
        dp->short_s = dp->mix_d[sh];
        dp->rho_unmargined = raw;
        if (rho < 0.05) {
            snprintf(dp->rho_basis, sizeof dp->rho_basis,
                     "model: even an idle pod of %d core(s) misses the objective of %.4g s for "
                     "its shortest requests with the margin: 0.05, a floor; choose a faster "
                     "profile",
                     dp->cores, dp->slo_s);
            rho = 0.05;
        } else {
            snprintf(dp->rho_basis, sizeof dp->rho_basis,
                     "model: the highest utilisation of a %d-core pod at which the M/G/c p95 of "
                     "its shortest requests (%.3g s of audio) x %.2f (the margin) meets the "
                     "objective of %.4g s; without the margin %.3f",
                     dp->cores, dp->short_s, dp->margin, dp->slo_s, raw);
        }
        dp->rho = fmin(rho, 0.95);
        dp->rho_from_model = 1;
    }
    stt_mgc_result mr;
    q.lambda = dp->rho * dp->cores / mean_service(dp);
    if (stt_mgc_eval(&q, &mr, NULL, 0) == 0 && mr.stable) {
        dp->rho_p95_s =
            dp->short_s > 0 ? stt_svctime_request_s(&dp->svc, dp->short_s, 1) + mr.wq_q : mr.t_q;
        dp->inflight = q.lambda * mr.t_mean; /* Little: L = lambda W */
    }
}

static void queue(rpt_deploy *dp)
{
    dp->budget = RPT_POLICY_BUDGET;
    dp->queue = 2 * dp->cores; /* sttd's own default */
    dp->refused = NAN;
    snprintf(dp->queue_basis, sizeof dp->queue_basis,
             "sttd's default (2 x workers): no service-time model to size it with");
    if (!dp->have_svc || !dp->mix_n) return;
    stt_mgc_params q = pod_queue(dp);
    q.lambda = dp->rho * dp->cores / mean_service(dp);
    int qd;
    double ref;
    if (stt_mgc_queue_for_budget(&q, dp->budget, RPT_POLICY_MAX_QUEUE, 20240601, &qd, &ref, NULL,
                                 0))
        return;
    dp->queue = qd;
    dp->refused = ref;
    snprintf(dp->queue_basis, sizeof dp->queue_basis,
             "model: the smallest queue whose simulated refusals under Poisson arrivals at "
             "utilisation %.3f stay within %.2g%% (policy): %.3g%% refused%s",
             dp->rho, 100 * dp->budget, 100 * ref,
             ref > dp->budget ? " (over the budget even at the longest queue tried)" : "");
}

static void memory(const stt_report *r, const stt_report_params *p, rpt_deploy *dp)
{
    const src *sh = rpt_primary(r, K_SHAPES), *au = rpt_primary(r, K_AUDIO);
    dp->mem_bytes = NAN;
    dp->mem_measured = 0;
    snprintf(dp->mem_basis, sizeof dp->mem_basis,
             "not measured: placeholder, run sttbench shapes before use");
    int mq = -1, mw = -1;
    double worst = sh ? stt_shapes_worst_memory(sh->j, dp->cores, &mq, &mw) : NAN;
    if (isfinite(worst)) {
        double v = worst;
        const char *how = "at or beyond the pod's admission";
        if (mq >= 0 && mq < dp->queue) {
            /* more admitted than measured: each further request holds at most
             * what one more admitted request held in the measurement */
            json_t *w = json_object_get(sh->j, "memory_worst_case");
            double inc = 0;
            for (size_t i = 0; i < json_array_size(w); i++) {
                json_t *e = json_array_get(w, i);
                if ((int)stt_results_get_num(e, "cores_per_pod") != dp->cores) continue;
                json_t *prof = json_object_get(e, "profiles");
                for (size_t k = 0; k < json_array_size(prof) && mq > 0; k++) {
                    json_t *x = json_array_get(prof, k);
                    double d = (stt_results_get_num(x, "admitted_bytes") -
                                stt_results_get_num(x, "running_bytes")) /
                               mq;
                    if (d > inc) inc = d;
                }
            }
            v += (dp->queue - mq) * inc;
            how = "projected beyond the measured admission, per further queued request";
        }
        dp->mem_bytes = v * (1 + p->memory_margin);
        dp->mem_measured = 2;
        snprintf(dp->mem_basis, sizeof dp->mem_basis,
                 "memory_worst_case of %.100s, cgroup peak over every profile with %d workers + %d "
                 "queued of the largest, longest uploads (%s; the pod admits %d + %d) + %.0f%% "
                 "margin",
                 sh->label, mw, mq, how, dp->cores, dp->queue, 100 * p->memory_margin);
        return;
    }
    for (int i = 0; i < dp->nshapes; i++)
        if (dp->shapes[i].cores == dp->cores && dp->shapes[i].mem_bytes > 0) {
            dp->mem_bytes = dp->shapes[i].mem_bytes * (1 + p->memory_margin);
            dp->mem_measured = 1;
            snprintf(dp->mem_basis, sizeof dp->mem_basis,
                     "the pod's cgroup peak under the shape trials of %.100s + %.0f%% margin; not "
                     "the worst case (run sttbench shapes --memory chosen)",
                     sh->label, 100 * p->memory_margin);
            return;
        }
    int mi = rpt_fit_index(au, p->profile, "peak_pss_bytes");
    if (mi >= 0) {
        double m = (rpt_jnum_at(au, "fits[%d].intercept", mi) +
                    rpt_jnum_at(au, "fits[%d].slope", mi) * p->max_audio_s) *
                   (1 + p->memory_margin);
        if (m > 0) {
            dp->mem_bytes = m;
            dp->mem_measured = 1;
            snprintf(dp->mem_basis, sizeof dp->mem_basis,
                     "the PSS fit of %.100s at %.0f s + %.0f%% margin; PSS is not the cgroup's "
                     "charge and one request is not the pod's admission (run sttbench shapes)",
                     au->label, p->max_audio_s, 100 * p->memory_margin);
        }
    }
}

static void grace(const stt_report *r, const stt_report_params *p, rpt_deploy *dp)
{
    const src *au = rpt_primary(r, K_AUDIO);
    dp->prestop_s = RPT_POLICY_PRESTOP_S;
    dp->slowest_s = NAN;
    dp->slowest_profile[0] = 0;
    json_t *fits = au ? json_object_get(au->j, "fits") : NULL;
    for (size_t i = 0; i < json_array_size(fits); i++) {
        const char *pr = json_string_value(json_object_get(json_array_get(fits, i), "profile"));
        stt_svctime m;
        if (!pr || stt_svctime_from_audio(au->j, pr, &m)) continue;
        double s = stt_svctime_request_s(&m, p->max_audio_s, dp->cores);
        if (!(s <= dp->slowest_s)) {
            dp->slowest_s = s;
            snprintf(dp->slowest_profile, sizeof dp->slowest_profile, "%s", pr);
        }
    }
    if (isfinite(dp->slowest_s)) {
        /* the slowest allowed request running, and one queued behind it */
        dp->sttd_grace_s = (int)ceil(2 * dp->slowest_s);
        snprintf(dp->grace_basis, sizeof dp->grace_basis,
                 "model: the slowest profile (%s) takes %.1f s for %.0f s of audio on %d "
                 "core(s) (%.100s service-time model); one running and one queued behind it",
                 dp->slowest_profile, dp->slowest_s, p->max_audio_s, dp->cores, au->label);
    } else {
        dp->sttd_grace_s = (int)ceil(2 * p->max_audio_s);
        snprintf(dp->grace_basis, sizeof dp->grace_basis,
                 "no audio.json, so real time (1 s per audio s) twice over, a placeholder");
    }
    dp->pod_grace_s = dp->prestop_s + dp->sttd_grace_s + 5;
}

static void cpu_limit(const stt_report *r, rpt_deploy *dp)
{
    const src *cpu = rpt_primary(r, K_CPU);
    dp->cpu_limit = 1;
    dp->quota_ratio = dp->quota_latency_ratio = NAN;
    /* a CFS quota (what limits.cpu sets) against pinned cores, at the pod's
     * core count (else the first measured); dropped when it costs over 5% of
     * throughput or over 10% of one long request's time */
    json_t *qv = cpu ? json_object_get(cpu->j, "quota_vs_cpuset") : NULL;
    for (size_t i = 0; i < json_array_size(qv); i++) {
        json_t *e = json_array_get(qv, i);
        int c = (int)json_integer_value(json_object_get(e, "cores"));
        if (c == dp->cores || !isfinite(dp->quota_ratio)) {
            dp->quota_ratio = rpt_jnumv(json_object_get(e, "throughput_ratio"));
            dp->quota_latency_ratio = rpt_jnumv(json_object_get(e, "latency_ratio"));
        }
    }
    if (dp->quota_ratio < 0.95 || dp->quota_latency_ratio > 1.10) dp->cpu_limit = 0;
}

void rpt_deploy_decide(const stt_report *r, const stt_report_params *p, rpt_deploy *dp)
{
    memset(dp, 0, sizeof *dp);
    objective(r, p, dp);
    traffic(r, dp);
    const src *au = rpt_primary(r, K_AUDIO);
    dp->have_svc = au && stt_svctime_from_audio(au->j, p->profile, &dp->svc) == 0;
    if (dp->have_svc) {
        char d[360];
        stt_svctime_describe(&dp->svc, d, sizeof d);
        snprintf(dp->svc_source, sizeof dp->svc_source, "%s", d);
    } else {
        snprintf(dp->svc_source, sizeof dp->svc_source,
                 "no service-time model: audio.json has no process-time fit for profile %s",
                 p->profile);
    }
    shape(r, p, dp);
    margin(r, dp);
    utilisation(dp);
    queue(dp);
    memory(r, p, dp);
    grace(r, p, dp);
    cpu_limit(r, dp);
    dp->long_file_s = dp->have_svc ? stt_svctime_long_threshold_s(&dp->svc, dp->cores, 0.1) : NAN;
}

void stt_report_decide(const stt_report *r, const stt_report_params *p, stt_report_decision *d)
{
    memset(d, 0, sizeof *d);
    const src *t = rpt_primary(r, K_TESTS), *au = rpt_primary(r, K_AUDIO),
              *cpu = rpt_primary(r, K_CPU);
    d->has_tests = t != NULL;
    d->has_audio = au != NULL;
    d->has_load = rpt_primary(r, K_LOAD) != NULL;
    d->has_cpu = cpu != NULL;
    d->has_service = rpt_primary(r, K_SERVICE) != NULL;
    d->has_replicas = rpt_primary(r, K_REPLICAS) != NULL;
    d->has_shapes = rpt_primary(r, K_SHAPES) != NULL;
    d->coverage_line = NAN;
    d->fit_a = d->fit_b = d->best_cost_per_audio_hour = d->best_audio_s_per_s = NAN;
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
    rpt_deploy dp;
    rpt_deploy_decide(r, p, &dp);
    d->slo_p95_s = dp.slo_s;
    if (dp.have_svc) {
        d->fit_a = dp.svc.fixed_s;
        d->fit_b = dp.svc.per_audio_s;
    }
    d->shape_measured = dp.shape_measured;
    d->best_cores = dp.shape_measured ? dp.cores : 0;
    if (dp.shape_measured) {
        const stt_shape *c = &dp.shapes[dp.choice.chosen];
        d->best_cost_per_audio_hour = dp.choice.v[dp.choice.chosen].cost;
        d->best_audio_s_per_s = stt_stats_quantile(c->thr, (size_t)c->nthr, 0.5) / c->pods;
    }
    d->cpu_limit = dp.cpu_limit;
    d->quota_ratio = dp.quota_ratio;
    d->quota_latency_ratio = dp.quota_latency_ratio;
    d->memory_bytes = dp.mem_bytes;
    d->target_rho = dp.rho_from_model ? dp.rho : NAN;
    d->model_margin = dp.margin;
    d->hpa_cpu_percent = (int)floor(100 * dp.rho + 1e-9);
    snprintf(d->hpa_basis, sizeof d->hpa_basis, "%s", dp.rho_basis);
    d->queue = dp.queue;
    d->refused_at_target = dp.refused;
    d->queue_depth_target = dp.inflight;
    d->inflight_per_pod = dp.inflight;
    d->sttd_grace_s = dp.sttd_grace_s;
    d->grace_s = dp.pod_grace_s;
    d->long_file_s = dp.long_file_s;
}
