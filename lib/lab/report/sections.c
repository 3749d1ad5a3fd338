/* report/sections: PERFORMANCE_REPORT.md and .html, section by section. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "html.h"
#include "queueing.h"
#include "internal.h"

/* ---- PERFORMANCE_REPORT ---- */

static void reproduce(doc *d, int k, const src *s)
{
    rpt_para(d, "How to reproduce (%s): %s", s ? s->label : rpt_kind_file[k], rpt_kind_cmd[k]);
}

static void summary(doc *d, const stt_report *r, const stt_report_decision *dc)
{
    const src *t = rpt_primary(r, K_TESTS), *cpu = rpt_primary(r, K_CPU),
              *ld = rpt_primary(r, K_LOAD), *au = rpt_primary(r, K_AUDIO);
    rpt_h(d, 2, "Executive summary");
    if (t)
        rpt_li(
            d,
            "1. Tested and stable? %s: %s tests, %s passed, %s failed, %s skipped; line coverage "
            "of lib/ %s against a threshold of %s.",
            dc->tested_stable ? "Yes" : "No", rpt_cite(d, t, "", "totals.tests"),
            rpt_cite(d, t, "", "totals.passed"), rpt_cite(d, t, "", "totals.failed"),
            rpt_cite(d, t, "", "totals.skipped"), rpt_cite(d, t, "%", "coverage.line_percent"),
            rpt_cite(d, t, "%", "coverage.threshold"));
    else
        rpt_li(d, "1. Tested and stable? Unknown: test_results.json is missing (run %s).",
               rpt_kind_cmd[K_TESTS]);
    int a = rpt_analysis_index(cpu, "cpuset");
    if (cpu && a >= 0) {
        json_t *series = rpt_jpath(cpu->j, "analysis");
        int last =
            (int)json_array_size(json_object_get(json_array_get(series, (size_t)a), "series")) - 1;
        rpt_li(d,
               "2. Many weak cores or few strong ones? cpu.json answers \"%s\". Throughput speedup "
               "at %s cores is %s (efficiency %s); serial fraction (Amdahl) %s; one core "
               "transcribes %s audio seconds per second.",
               dc->cpu_answer ? dc->cpu_answer : "undetermined",
               rpt_cite(d, cpu, "", "analysis[%d].series[%d].cores", a, last),
               rpt_cite(d, cpu, "x", "analysis[%d].series[%d].speedup", a, last),
               rpt_cite(d, cpu, "", "analysis[%d].series[%d].efficiency", a, last),
               rpt_cite(d, cpu, "", "analysis[%d].throughput.amdahl.serial_fraction", a),
               rpt_cite(d, cpu, "", "analysis[%d].series[0].audio_s_per_s", a));
    } else {
        rpt_li(d, "2. Many weak cores or few strong ones? Unknown: %s (run %s).",
               cpu ? "cpu.json has no cpuset analysis" : "cpu.json is missing",
               rpt_kind_cmd[K_CPU]);
    }
    char up[512] = "", out[512] = "";
    if (dc->best_cores > 0)
        snprintf(up, sizeof up,
                 "Pods of %d core%s (the cheapest measured shape per audio hour whose single "
                 "long request meets the objective); give a pod more cores only while one "
                 "request is slower than the objective; ",
                 dc->best_cores, dc->best_cores == 1 ? "" : "s");
    else
        snprintf(up, sizeof up, "No pod shape can be chosen without cpu.json; ");
    if (ld && json_is_object(json_object_get(ld->j, "knee")))
        snprintf(out, sizeof out, "scale out when a pod nears its knee at %s %s, p95 %s",
                 rpt_cite(d, ld, "", "knee.offered"),
                 rpt_jstr_at(ld, "config.mode") && !strcmp(rpt_jstr_at(ld, "config.mode"), "open")
                     ? "requests/s"
                     : "requests in flight",
                 rpt_cite(d, ld, "s", "knee.p95_s"));
    else
        snprintf(out, sizeof out, "the load knee is %s",
                 ld ? "not found in load.json" : "unknown (load.json missing)");
    int fi = rpt_fit_index(au, d->p->profile, "process_s");
    rpt_li(d,
           "3. When to scale up and when out? %s%s. One request costs %s + %s per audio second "
           "(profile %s). HPA target %d%% CPU (%s).",
           up, out,
           fi >= 0 ? rpt_cite(d, au, "s", "fits[%d].intercept", fi) : "not measured (audio.json)",
           fi >= 0 ? rpt_cite(d, au, "s", "fits[%d].slope", fi) : "not measured", d->p->profile,
           dc->hpa_cpu_percent, dc->hpa_basis);
}

static void sec_tests(doc *d, const stt_report *r)
{
    const src *t = rpt_primary(r, K_TESTS);
    rpt_h(d, 2, "Tests");
    if (!t) return rpt_missing(d, K_TESTS);
    rpt_trow(d, 1, "figure|value");
    rpt_trow(d, 0, "tests|%s", rpt_cite(d, t, "", "totals.tests"));
    rpt_trow(d, 0, "passed|%s", rpt_cite(d, t, "", "totals.passed"));
    rpt_trow(d, 0, "failed|%s", rpt_cite(d, t, "", "totals.failed"));
    rpt_trow(d, 0, "skipped|%s", rpt_cite(d, t, "", "totals.skipped"));
    rpt_trow(d, 0, "slow (over the slow limit)|%s", rpt_cite(d, t, "", "totals.slow"));
    rpt_trow(d, 0, "violations|%s", rpt_cite(d, t, "", "totals.violations"));
    rpt_trow(d, 0, "line coverage of lib/|%s", rpt_cite(d, t, "%", "coverage.line_percent"));
    rpt_trow(d, 0, "branch coverage of lib/|%s", rpt_cite(d, t, "%", "coverage.branch_percent"));
    rpt_trow(d, 0, "time of the tests|%s", rpt_cite(d, t, "s", "totals.time"));
    json_t *ch = json_object_get(t->j, "checks");
    for (size_t i = 0; i < json_array_size(ch); i++) {
        json_t *c = json_array_get(ch, i);
        const char *nm = json_string_value(json_object_get(c, "name"));
        rpt_trow(d, 0, "deeper pass %s|%s", nm ? nm : "?",
                 json_is_true(json_object_get(c, "passed")) ? "passed" : "FAILED");
    }
    rpt_para(d, "Commit %s, %s. The full report: test_reports/test_report.html.",
             rpt_jstr_at(t, "commit") ? rpt_jstr_at(t, "commit") : "unknown",
             rpt_jstr_at(t, "date") ? rpt_jstr_at(t, "date") : "undated");
    reproduce(d, K_TESTS, t);
}

static void sec_audio(doc *d, const stt_report *r)
{
    const src *au = rpt_primary(r, K_AUDIO);
    rpt_h(d, 2, "Audio length: time, memory, accuracy");
    if (!au) return rpt_missing(d, K_AUDIO);
    json_t *pr = json_object_get(au->j, "profiles");
    if (json_array_size(pr)) {
        rpt_trow(d, 1, "profile|RTF|RTFx|WER|audio");
        for (size_t i = 0; i < json_array_size(pr); i++) {
            const char *nm = json_string_value(rpt_jpath(json_array_get(pr, i), "profile"));
            rpt_trow(d, 0, "%s|%s|%s|%s|%s", nm ? nm : "?",
                     rpt_cite(d, au, "", "profiles[%zu].rtf", i),
                     rpt_cite(d, au, "", "profiles[%zu].rtfx", i),
                     rpt_cite(d, au, "", "profiles[%zu].wer", i),
                     rpt_cite(d, au, "s", "profiles[%zu].audio_s", i));
        }
    }
    json_t *fits = json_object_get(au->j, "fits");
    if (json_array_size(fits)) {
        rpt_trow(d, 1, "profile|y|intercept|slope per audio s|R2");
        for (size_t i = 0; i < json_array_size(fits); i++) {
            json_t *f = json_array_get(fits, i);
            const char *y = json_string_value(json_object_get(f, "y"));
            int mem = y && !strcmp(y, "peak_pss_bytes");
            rpt_trow(d, 0, "%s|%s|%s|%s|%s", json_string_value(json_object_get(f, "profile")),
                     y ? y : "?", rpt_cite(d, au, mem ? "MiB" : "s", "fits[%zu].intercept", i),
                     rpt_cite(d, au, mem ? "MiB" : "", "fits[%zu].slope", i),
                     rpt_cite(d, au, "", "fits[%zu].r2", i));
        }
    }
    json_t *sk = json_object_get(au->j, "skipped");
    if (json_array_size(sk))
        rpt_para(d, "Skipped as longer than the limit: %zu file(s), e.g. %s at %s.",
                 json_array_size(sk), json_string_value(rpt_jpath(sk, "[0].file")),
                 rpt_cite(d, au, "s", "skipped[0].duration_s"));
    rpt_charts(d, au);
    reproduce(d, K_AUDIO, au);
}

static void sec_load(doc *d, const stt_report *r, const stt_report_params *p)
{
    const src *ld = rpt_primary(r, K_LOAD);
    rpt_h(d, 2, "Load: throughput and latency");
    if (!ld) return rpt_missing(d, K_LOAD);
    json_t *steps = json_object_get(ld->j, "steps");
    rpt_trow(d, 1, "step|mode|offered|req/s|audio s/s|p50|p95|p99|stable");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        rpt_trow(d, 0, "%zu|%s|%s|%s|%s|%s|%s|%s|%s", i,
                 json_string_value(json_object_get(s, "mode")),
                 rpt_cite(d, ld, "", "steps[%zu].offered", i),
                 rpt_cite(d, ld, "", "steps[%zu].throughput_rps", i),
                 rpt_cite(d, ld, "", "steps[%zu].audio_s_per_s", i),
                 rpt_cite(d, ld, "s", "steps[%zu].latency_s.p50", i),
                 rpt_cite(d, ld, "s", "steps[%zu].latency_s.p95", i),
                 rpt_cite(d, ld, "s", "steps[%zu].latency_s.p99", i),
                 json_is_true(json_object_get(s, "stable")) ? "yes" : "no");
    }
    if (json_is_object(json_object_get(ld->j, "knee")))
        rpt_para(d, "Knee: step %s, offered %s, throughput %s, p95 %s.",
                 rpt_cite(d, ld, "", "knee.index"), rpt_cite(d, ld, "", "knee.offered"),
                 rpt_cite(d, ld, "req/s", "knee.throughput_rps"),
                 rpt_cite(d, ld, "s", "knee.p95_s"));
    else
        rpt_para(d, "No knee was found in this sweep (throughput still grew at every step).");
    rpt_charts(d, ld);
    reproduce(d, K_LOAD, ld);
    (void)p;
}

/* Model p95 for each load.json step against the measured one. */
static void sec_validation(doc *d, const stt_report *r, const stt_report_params *p)
{
    const src *ld = rpt_primary(r, K_LOAD), *au = rpt_primary(r, K_AUDIO);
    rpt_h(d, 2, "Queueing model against measured load");
    if (!ld) {
        rpt_para(d, "Not validated: load.json is missing.");
        return;
    }
    int c = (int)rpt_jnum_at(ld, "machine.cores");
    if (c < 1) c = 1;
    json_t *steps = json_object_get(ld->j, "steps");
    /* The service time S: preferably measured in the same run, at a closed-loop
     * step with one request in flight (no queueing, same machine state);
     * else audio.json's time fit at the file's length. */
    double s = NAN;
    int s_step = -1;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        const char *mode = json_string_value(json_object_get(st, "mode"));
        if (mode && !strcmp(mode, "closed") && rpt_jnumv(json_object_get(st, "offered")) == 1 &&
            rpt_jnumv(rpt_jpath(st, "latency_s.mean")) > 0) {
            s = rpt_jnumv(rpt_jpath(st, "latency_s.mean"));
            s_step = (int)i;
            break;
        }
    }
    const char *file = rpt_jstr_at(ld, "config.file");
    char s_text[1024];
    if (s_step >= 0) {
        snprintf(s_text, sizeof s_text, "%s, the mean latency with one request in flight",
                 rpt_cite(d, ld, "s", "steps[%d].latency_s.mean", s_step));
    } else {
        int fi = au ? rpt_fit_index(au, p->profile, "process_s") : -1;
        double dur = NAN;
        json_t *res = au ? json_object_get(au->j, "results") : NULL;
        for (size_t i = 0; file && i < json_array_size(res); i++) {
            const char *f = json_string_value(rpt_jpath(json_array_get(res, i), "file"));
            const char *base = strrchr(file, '/');
            base = base ? base + 1 : file;
            if (f && !strcmp(f, base))
                dur = rpt_jnumv(rpt_jpath(json_array_get(res, i), "duration_s"));
        }
        if (fi < 0 || !isfinite(dur)) {
            rpt_para(d,
                     "Not validated: load.json has no step with one request in flight, and "
                     "audio.json has no %s process-time fit covering the load's file (%s).",
                     p->profile, file ? file : "a mix");
            return;
        }
        s = rpt_jnum_at(au, "fits[%d].intercept", fi) + rpt_jnum_at(au, "fits[%d].slope", fi) * dur;
        snprintf(s_text, sizeof s_text, "%s from audio.json's time fit at %.4g s of audio",
                 rpt_derived(d, s, "s", "audio.json fit intercept + slope x duration"), dur);
    }
    rpt_para(d,
             "Model: M/G/c with c = %d workers (sttd's default: one per core, %s), service time S "
             "= %s (%s); Poisson arrivals for open-loop steps. Closed-loop steps use C requests "
             "always in flight: p95 = S + max(0, C - c) S / c. Target: within 20%%.",
             c, rpt_cite(d, ld, "", "machine.cores"), s_text, file ? file : "the load's mix");
    rpt_trow(d, 1, "step|offered|measured p95|model p95|error");
    int within = 0, total = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        const char *mode = json_string_value(json_object_get(st, "mode"));
        double off = rpt_jnumv(json_object_get(st, "offered")),
               meas = rpt_jnumv(rpt_jpath(st, "latency_s.p95"));
        double model = NAN;
        if (mode && !strcmp(mode, "open")) {
            stt_mgc_params q = stt_mgc_default_params();
            stt_mgc_result mr;
            q.servers = c;
            q.lambda = off;
            q.service_s = &s;
            q.n = 1;
            if (stt_mgc_eval(&q, &mr, NULL, 0) == 0) model = mr.t_q;
        } else if (off > 0) {
            model = s + fmax(0, off - c) * s / c;
        }
        char e[64] = "n/a";
        if (isfinite(model) && meas > 0) {
            double err = (model - meas) / meas;
            snprintf(e, sizeof e, "%+.0f%%", 100 * err);
            total++;
            within += fabs(err) <= 0.2;
        } else if (!isfinite(model)) {
            snprintf(e, sizeof e, "model: saturated");
            total++;
        }
        rpt_trow(d, 0, "%zu|%s|%s|%s|%s", i, rpt_cite(d, ld, "", "steps[%zu].offered", i),
                 rpt_cite(d, ld, "s", "steps[%zu].latency_s.p95", i),
                 isfinite(model) ? rpt_derived(d, model, "s", "model") : "unstable", e);
    }
    rpt_para(d,
             "%d of %d steps within 20%%%s. The model ignores the server's splitting of a request "
             "across threads and any warm-up; errors above 20%% are reported as they are.",
             within, total, s_step >= 0 ? " (the step with one request in flight supplies S)" : "");
}

static void sec_cpu(doc *d, const stt_report *r)
{
    const src *cpu = rpt_primary(r, K_CPU);
    rpt_h(d, 2, "CPU: cores and threads");
    if (!cpu) return rpt_missing(d, K_CPU);
    json_t *an = json_object_get(cpu->j, "analysis");
    for (size_t a = 0; a < json_array_size(an); a++) {
        json_t *e = json_array_get(an, a);
        rpt_h(d, 3, "Mode %s: %s", json_string_value(json_object_get(e, "mode")),
              json_string_value(json_object_get(e, "classification")) ?: "unclassified");
        json_t *series = json_object_get(e, "series");
        rpt_trow(d, 1, "cores|threads|audio s/s|speedup|efficiency|long-file latency");
        for (size_t i = 0; i < json_array_size(series); i++)
            rpt_trow(d, 0, "%s|%s|%s|%s|%s|%s",
                     rpt_cite(d, cpu, "", "analysis[%zu].series[%zu].cores", a, i),
                     rpt_cite(d, cpu, "", "analysis[%zu].series[%zu].threads", a, i),
                     rpt_cite(d, cpu, "", "analysis[%zu].series[%zu].audio_s_per_s", a, i),
                     rpt_cite(d, cpu, "x", "analysis[%zu].series[%zu].speedup", a, i),
                     rpt_cite(d, cpu, "", "analysis[%zu].series[%zu].efficiency", a, i),
                     rpt_cite(d, cpu, "s", "analysis[%zu].series[%zu].long_latency_s", a, i));
        rpt_li(d, "Amdahl serial fraction (throughput): %s",
               rpt_cite(d, cpu, "", "analysis[%zu].throughput.amdahl.serial_fraction", a));
        rpt_li(d, "USL peak: %s",
               rpt_cite(d, cpu, "cores", "analysis[%zu].throughput.usl.peak_cores", a));
        rpt_li(d, "Diminishing returns after: %s",
               rpt_cite(d, cpu, "cores", "analysis[%zu].diminishing_returns_cores", a));
        json_t *pj = json_object_get(e, "projections");
        for (size_t i = 0; i < json_array_size(pj); i++)
            rpt_li(d,
                   "Projection (Amdahl, not measured): %s cores -> speedup %s (interval %s to %s)",
                   rpt_cite(d, cpu, "", "analysis[%zu].projections[%zu].cores", a, i),
                   rpt_cite(d, cpu, "x", "analysis[%zu].projections[%zu].speedup", a, i),
                   rpt_cite(d, cpu, "", "analysis[%zu].projections[%zu].lo", a, i),
                   rpt_cite(d, cpu, "", "analysis[%zu].projections[%zu].hi", a, i));
    }
    json_t *qv = json_object_get(cpu->j, "quota_vs_cpuset");
    if (json_array_size(qv)) {
        rpt_h(d, 3, "CFS quota against pinned cores");
        rpt_trow(d, 1, "cores|throughput quota/cpuset|latency quota/cpuset|throttled fraction");
        for (size_t i = 0; i < json_array_size(qv); i++)
            rpt_trow(d, 0, "%s|%s|%s|%s", rpt_cite(d, cpu, "", "quota_vs_cpuset[%zu].cores", i),
                     rpt_cite(d, cpu, "", "quota_vs_cpuset[%zu].throughput_ratio", i),
                     rpt_cite(d, cpu, "", "quota_vs_cpuset[%zu].latency_ratio", i),
                     rpt_cite(d, cpu, "", "quota_vs_cpuset[%zu].throttled_fraction", i));
    }
    json_t *sh = json_object_get(cpu->j, "shapes");
    if (json_array_size(sh)) {
        rpt_h(d, 3, "Same cores, different pod shapes");
        rpt_trow(d, 1, "replicas x cores|balancer|audio s/s|p95");
        for (size_t i = 0; i < json_array_size(sh); i++) {
            json_t *e = json_array_get(sh, i);
            rpt_trow(d, 0, "%lld x %lld|%s|%s|%s",
                     json_integer_value(json_object_get(e, "replicas")),
                     json_integer_value(json_object_get(e, "cores_each")),
                     json_string_value(json_object_get(e, "balancer")) ?: "?",
                     rpt_cite(d, cpu, "", "shapes[%zu].audio_s_per_s", i),
                     rpt_cite(d, cpu, "s", "shapes[%zu].p95_s", i));
        }
    }
    json_t *rs = rpt_jpath(cpu->j, "verdict.reasons");
    rpt_para(d, "Verdict: %s.", rpt_jstr_at(cpu, "verdict.answer") ?: "none");
    for (size_t i = 0; i < json_array_size(rs); i++)
        rpt_li(d, "%s", json_string_value(json_array_get(rs, i)));
    rpt_charts(d, cpu);
    reproduce(d, K_CPU, cpu);
}

static void sec_service(doc *d, const stt_report *r)
{
    const src *sv = rpt_primary(r, K_SERVICE);
    rpt_h(d, 2, "Service against the raw engine");
    if (!sv) return rpt_missing(d, K_SERVICE);
    json_t *t = json_object_get(sv->j, "targets");
    rpt_trow(d, 1, "target|goal|measured|verdict");
    for (size_t i = 0; i < json_array_size(t); i++) {
        json_t *e = json_array_get(t, i);
        rpt_trow(d, 0, "%s|%s|%s|%s", json_string_value(json_object_get(e, "target")) ?: "",
                 json_string_value(json_object_get(e, "goal")) ?: "",
                 json_string_value(json_object_get(e, "measured")) ?: "",
                 json_string_value(json_object_get(e, "verdict")) ?: "");
    }
    rpt_para(d, "Measured values as service.json states them (targets[].measured); raw series in "
                "its measurements object.");
    reproduce(d, K_SERVICE, sv);
}

/* Horizontal scaling measured: replicas as separate hosts behind haproxy,
 * against the queueing model (replicas.json from `sttbench replicas`). */
static void sec_replicas(doc *d, const stt_report *r)
{
    const src *rp = rpt_primary(r, K_REPLICAS);
    rpt_h(d, 2, "Horizontal scaling measured: replicas behind a load balancer");
    if (!rp) return rpt_missing(d, K_REPLICAS);
    const char *skipped = json_string_value(json_object_get(rp->j, "skipped"));
    if (skipped) {
        rpt_para(d, "Not measured on this machine: %s (%s: skipped).", skipped, rp->label);
        return reproduce(d, K_REPLICAS, rp);
    }
    rpt_para(d,
             "Each replica is sttd in its own network namespace on %s CPU(s) of its own, %s "
             "worker(s), profile %s; haproxy (leastconn, at most one request per worker in each "
             "replica, so that it holds one queue) spreads open-loop Poisson arrivals at %s of the "
             "replicas' capacity; service time measured on one idle replica: mean %s. The "
             "prediction is the planner's M/G/c model with c = replicas x workers.",
             rpt_cite(d, rp, "", "config.cores_per_replica"), rpt_cite(d, rp, "", "config.workers"),
             rpt_jstr_at(rp, "config.profile") ? rpt_jstr_at(rp, "config.profile") : "?",
             rpt_cite(d, rp, "", "config.load"), rpt_cite(d, rp, "s", "service_time.mean_s"));
    rpt_trow(d, 1,
             "replicas|offered req/s|achieved req/s|p50|p95 measured|p95 predicted|model "
             "error|simulated "
             "p95 band of a run this long");
    json_t *pts = json_object_get(rp->j, "points");
    int within = 0, inband = 0, n = (int)json_array_size(pts);
    for (int i = 0; i < n; i++) {
        json_t *pt = json_array_get(pts, (size_t)i);
        within += json_is_true(json_object_get(pt, "within_20pct"));
        inband += json_is_true(rpt_jpath(pt, "simulated.within_band"));
        rpt_trow(d, 0, "%s|%s|%s|%s|%s|%s|%s|%s to %s",
                 rpt_cite(d, rp, "", "points[%d].replicas", i),
                 rpt_cite(d, rp, "", "points[%d].offered_rps", i),
                 rpt_cite(d, rp, "", "points[%d].achieved_rps", i),
                 rpt_cite(d, rp, "s", "points[%d].latency_s.p50", i),
                 rpt_cite(d, rp, "s", "points[%d].latency_s.p95", i),
                 rpt_cite(d, rp, "s", "points[%d].predicted.p95_s", i),
                 rpt_cite(d, rp, "%", "points[%d].p95_error_pct", i),
                 rpt_cite(d, rp, "s", "points[%d].simulated.p95_band_s[0]", i),
                 rpt_cite(d, rp, "s", "points[%d].simulated.p95_band_s[1]", i));
    }
    rpt_para(
        d,
        "%d of %d point(s) within 20%% of the model's p95; %d of %d inside the band where 90%% "
        "of simulated runs of the same length fall.",
        within, n, inband, n);
    if (n >= 2)
        rpt_para(d,
                 "At the same utilisation, the model expects p95 to go from %s with %s replica(s) "
                 "to %s with %s: one queue in front of more servers waits less, so at a given load "
                 "per core more replicas mean shorter tails. Measured: %s and %s.",
                 rpt_cite(d, rp, "s", "points[0].predicted.p95_s"),
                 rpt_cite(d, rp, "", "points[0].replicas"),
                 rpt_cite(d, rp, "s", "points[%d].predicted.p95_s", n - 1),
                 rpt_cite(d, rp, "", "points[%d].replicas", n - 1),
                 rpt_cite(d, rp, "s", "points[0].latency_s.p95"),
                 rpt_cite(d, rp, "s", "points[%d].latency_s.p95", n - 1));
    rpt_para(d, "On a machine with as many cores as replicas the load generator and haproxy share "
                "the replicas' cores; the band, not the 20%% line, says whether a short run agrees "
                "with the model.");
    reproduce(d, K_REPLICAS, rp);
}

static void sec_machines(doc *d, const stt_report *r)
{
    rpt_h(d, 2, "Machines measured");
    rpt_trow(d, 1, "results directory|file|CPU|cores|commit");
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++) {
            const src *s = &r->m[i].k[k];
            if (!s->j) continue;
            json_t *m = json_object_get(s->j, "machine");
            json_t *cores = json_object_get(m, "logical_cores");
            if (!cores) cores = json_object_get(m, "cores");
            const char *commit = json_string_value(json_object_get(s->j, "commit"));
            if (!commit) commit = json_string_value(json_object_get(s->j, "git_commit"));
            rpt_trow(d, 0, "%s|%s|%s|%lld|%s", r->m[i].in, s->label,
                     json_string_value(json_object_get(m, "cpu_model")) ?: "unknown",
                     json_integer_value(cores), commit ?: "unknown");
        }
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++)
            if (!r->m[i].k[k].j) rpt_li(d, "%s: no %s", r->m[i].in, rpt_kind_file[k]);
}

static void report_body(doc *d, const stt_report *r)
{
    stt_report_decision dc;
    stt_report_decide(r, d->p, &dc);
    summary(d, r, &dc);
    sec_tests(d, r);
    sec_cpu(d, r);
    sec_audio(d, r);
    sec_load(d, r, d->p);
    sec_validation(d, r, d->p);
    sec_replicas(d, r);
    sec_service(d, r);
    sec_machines(d, r);
    rpt_close_blocks(d);
}

int stt_report_write_md(const stt_report *r, const stt_report_params *p, FILE *f)
{
    doc *d = calloc(1, sizeof *d);
    if (!d) return STT_ENOMEM;
    d->f = f;
    d->p = p;
    fprintf(f,
            "# Performance report\n\nGenerated by `sttbench report` from %d results file(s). "
            "Every number names the results file and JSON field it comes from; "
            "\"derived\" marks a computation, \"projection\" a figure not measured.\n\n",
            stt_report_found(r));
    report_body(d, r);
    free(d);
    return ferror(f) ? STT_EIO : 0;
}

int stt_report_write_html(const stt_report *r, const stt_report_params *p, FILE *f)
{
    doc *d = calloc(1, sizeof *d);
    if (!d) return STT_ENOMEM;
    d->f = f;
    d->p = p;
    d->html = 1;
    stt_html_begin(f, "Performance report",
                   "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}\n"
                   "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
                   "padding:.2em .5em;text-align:left}th{background:#eee}\nimg{max-width:100%}\n"
                   "pre{background:#f6f6f6;padding:.5em}\n");
    fputs("<h1>Performance report</h1>\n", f);
    fprintf(f,
            "<p>Generated by sttbench report from %d results file(s). Every number names "
            "the results file and JSON field it comes from.</p>\n",
            stt_report_found(r));
    report_body(d, r);
    stt_html_end(f);
    free(d);
    return ferror(f) ? STT_EIO : 0;
}
