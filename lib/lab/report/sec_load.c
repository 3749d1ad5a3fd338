/* report/sec_load: the load sections: the sweep, and the queueing model checked against it. */
#include "internal.h"

#include <math.h>
#include <string.h>
#include "queueing.h"

void rpt_sec_load(doc *d, const stt_report *r, const stt_report_params *p)
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
    rpt_reproduce(d, K_LOAD, ld);
    (void)p;
}

/* Model p95 for each load.json step against the measured one. */
void rpt_sec_validation(doc *d, const stt_report *r, const stt_report_params *p)
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
