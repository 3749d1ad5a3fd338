/* report/sec_load: the load sections: the sweep with n, intervals and
 * stability, the knee, the highest rate under the objective, and the
 * queueing model checked against the measurements (as load.json records
 * them: lib/lab/sweep_output.h). Files of schema 1 (before sttbench load
 * repeated, checked stability and timed failures) are shown with the rules
 * applied where their fields allow, and said to be so. */
#include "internal.h"

#include <math.h>
#include <string.h>

#include "stats.h"

/* 1 for a load.json written by the current sweep (schema 2). */
static int is_v2(const src *ld)
{
    return json_is_object(rpt_jpath(ld->j, "steps[0].throughput")) ||
           json_is_object(json_object_get(ld->j, "max_rate"));
}

/* A cited percentile, or "n too small (n = N)" when n does not support it. */
static const char *pct_cell(doc *d, const src *ld, size_t i, const char *key, double pct, long n)
{
    json_t *v = rpt_jpath(ld->j, "steps");
    v = rpt_jpath(json_array_get(v, i), "latency_s");
    if (n < 0 || !stt_stats_percentile_supported((size_t)n, pct) ||
        !json_is_number(json_object_get(v, key))) {
        char *b = d->ring[d->next++ % 24];
        snprintf(b, 768, "n too small (n = %ld)", n);
        return b;
    }
    return rpt_cite(d, ld, "s", "steps[%zu].latency_s.%s", i, key);
}

/* "CITE [CITE, CITE]" for a figure with a two-element interval at ci_path. */
static const char *with_ci(doc *d, const src *ld, const char *unit, const char *v, const char *ci)
{
    char *b = d->ring[d->next++ % 24];
    if (!json_is_array(rpt_jpath(ld->j, ci))) {
        snprintf(b, 768, "%s", rpt_cite(d, ld, unit, "%s", v));
        return b;
    }
    const char *a = rpt_cite(d, ld, unit, "%s", v);
    const char *lo = rpt_cite(d, ld, unit, "%s[0]", ci);
    const char *hi = rpt_cite(d, ld, unit, "%s[1]", ci);
    snprintf(b, 768, "%.240s, 95%% interval %.240s to %.240s", a, lo, hi);
    return b;
}

static void steps_table(doc *d, const src *ld, int v2)
{
    json_t *steps = json_object_get(ld->j, "steps");
    rpt_trow(d, 1, "step|mode|offered|runs|n|2xx req/s|audio s/s|p50|p95|p99|failed|stable");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        long n = v2 ? (long)json_integer_value(json_object_get(s, "n"))
                    : (long)json_integer_value(rpt_jpath(s, "latency_s.n"));
        char tp[800], p95[800], ci[96];
        snprintf(tp, sizeof tp, "steps[%zu].throughput_rps", i);
        snprintf(ci, sizeof ci, "steps[%zu].throughput.ci", i);
        snprintf(tp, sizeof tp, "%s", with_ci(d, ld, "", tp, ci));
        if (v2 && json_is_array(rpt_jpath(s, "latency_s.p95_ci"))) {
            char v[96];
            snprintf(v, sizeof v, "steps[%zu].latency_s.p95", i);
            snprintf(ci, sizeof ci, "steps[%zu].latency_s.p95_ci", i);
            snprintf(p95, sizeof p95, "%s", with_ci(d, ld, "s", v, ci));
        } else {
            snprintf(p95, sizeof p95, "%s", pct_cell(d, ld, i, "p95", 95, n));
        }
        int stable = json_is_true(json_object_get(s, "stable"));
        const char *why = json_string_value(json_object_get(s, "stability"));
        char no[96];
        snprintf(no, sizeof no, "%s: excluded from decisions",
                 why && strcmp(why, "stable") && strcmp(why, "unstable") ? why : "no");
        rpt_trow(d, 0, "%zu|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", i,
                 json_string_value(json_object_get(s, "mode")),
                 rpt_cite(d, ld, "", "steps[%zu].offered", i),
                 v2 ? rpt_cite(d, ld, "", "steps[%zu].repeats", i) : "1",
                 n > 0 ? (v2 ? rpt_cite(d, ld, "", "steps[%zu].n", i)
                             : rpt_cite(d, ld, "", "steps[%zu].latency_s.n", i))
                       : "not recorded",
                 tp, rpt_cite(d, ld, "", "steps[%zu].audio_s_per_s", i),
                 pct_cell(d, ld, i, "p50", 50, n), p95, pct_cell(d, ld, i, "p99", 99, n),
                 v2 ? rpt_cite(d, ld, "", "steps[%zu].failed", i) : "not recorded",
                 stable ? "yes" : no);
    }
}

static void knee_para(doc *d, const src *ld)
{
    json_t *ks = json_object_get(ld->j, "knee_state");
    const char *state = json_string_value(json_object_get(ks, "state"));
    if (json_is_object(json_object_get(ld->j, "knee"))) {
        if (json_is_array(json_object_get(ks, "gain_ci")))
            rpt_para(d,
                     "Knee: step %s, offered %s, 2xx throughput %s, p95 %s. Beyond it throughput "
                     "changed by a factor %s (95%% interval %s to %s, wholly under %s) while p95 "
                     "rose.",
                     rpt_cite(d, ld, "", "knee.index"), rpt_cite(d, ld, "", "knee.offered"),
                     rpt_cite(d, ld, "req/s", "knee.throughput_rps"),
                     rpt_cite(d, ld, "s", "knee.p95_s"), rpt_cite(d, ld, "", "knee_state.gain"),
                     rpt_cite(d, ld, "", "knee_state.gain_ci[0]"),
                     rpt_cite(d, ld, "", "knee_state.gain_ci[1]"),
                     rpt_cite(d, ld, "", "knee_state.threshold"));
        else
            rpt_para(d,
                     "Knee, by the file's older rule (no interval): step %s, offered %s, "
                     "throughput %s, p95 %s.",
                     rpt_cite(d, ld, "", "knee.index"), rpt_cite(d, ld, "", "knee.offered"),
                     rpt_cite(d, ld, "req/s", "knee.throughput_rps"),
                     rpt_cite(d, ld, "s", "knee.p95_s"));
        if (json_is_false(rpt_jpath(ld->j, "knee.capacity")))
            rpt_para(d,
                     "The knee was measured %s: it sizes workers per pod, but it is no "
                     "capacity figure (capacity needs Poisson or trace arrivals).",
                     rpt_jstr_at(ld, "knee.arrival") &&
                             !strcmp(rpt_jstr_at(ld, "knee.arrival"), "closed")
                         ? "in a closed loop"
                         : "with constant arrivals");
    } else if (state && !strcmp(state, "undetermined")) {
        rpt_para(d,
                 "Knee undetermined: between steps %s and %s, 2xx throughput changed by a factor "
                 "%s, an interval of %s to %s that contains %s. More repeats or longer steps "
                 "would settle it.",
                 rpt_cite(d, ld, "", "knee_state.from"), rpt_cite(d, ld, "", "knee_state.to"),
                 rpt_cite(d, ld, "", "knee_state.gain"),
                 rpt_cite(d, ld, "", "knee_state.gain_ci[0]"),
                 rpt_cite(d, ld, "", "knee_state.gain_ci[1]"),
                 rpt_cite(d, ld, "", "knee_state.threshold"));
    } else if (state && !strcmp(state, "too few stable points")) {
        rpt_para(d, "No knee: fewer than two stable steps to compare.");
    } else {
        rpt_para(d, "No knee was found in this sweep (throughput still grew at every stable "
                    "step).");
    }
}

static void max_rate_para(doc *d, const src *ld)
{
    json_t *m = json_object_get(ld->j, "max_rate");
    if (!json_is_object(m)) return;
    const char *arr = rpt_jstr_at(ld, "max_rate.arrival");
    if (rpt_jnum_at(ld, "max_rate.rate_rps") > 0) {
        rpt_para(d,
                 "Highest rate meeting p95 <= %s: %s (%s arrivals; the limit lies below %s). "
                 "There p95 was %s (95%% interval %s to %s, over n = %s requests in %s runs, "
                 "failed requests counted as misses), with %s of requests failed against an "
                 "error budget of %s.",
                 rpt_cite(d, ld, "s", "max_rate.slo_p95_s"),
                 rpt_cite(d, ld, "req/s", "max_rate.rate_rps"), arr ? arr : "unknown",
                 json_is_number(rpt_jpath(m, "bracket_rps[1]"))
                     ? rpt_cite(d, ld, "req/s", "max_rate.bracket_rps[1]")
                     : "the highest rate probed",
                 rpt_cite(d, ld, "s", "max_rate.p95_s.value"),
                 rpt_cite(d, ld, "s", "max_rate.p95_s.ci[0]"),
                 rpt_cite(d, ld, "s", "max_rate.p95_s.ci[1]"),
                 rpt_cite(d, ld, "", "max_rate.p95_s.n"), rpt_cite(d, ld, "", "max_rate.repeats"),
                 rpt_cite(d, ld, "", "max_rate.failure_rate"),
                 rpt_cite(d, ld, "", "max_rate.error_budget"));
    } else {
        rpt_para(d,
                 "No probed rate met p95 <= %s with its 95%% interval and the error budget of "
                 "%s (%zu probe(s); see load.json max_rate.probes).",
                 rpt_cite(d, ld, "s", "max_rate.slo_p95_s"),
                 rpt_cite(d, ld, "", "max_rate.error_budget"),
                 json_array_size(json_object_get(m, "probes")));
    }
    if (json_is_false(json_object_get(m, "capacity")))
        rpt_para(d, "These probes used constant arrivals, which never queue below capacity: the "
                    "rate is a pacing limit, not a capacity figure.");
}

void rpt_sec_load(doc *d, const stt_report *r, const stt_report_params *p)
{
    const src *ld = rpt_primary(r, K_LOAD);
    rpt_h(d, 2, "Load: throughput and latency");
    if (!ld) return rpt_missing(d, K_LOAD);
    int v2 = is_v2(ld);
    if (v2)
        rpt_para(d, "Each step: n counted requests over its runs; 2xx throughput is the median of "
                    "every measurement window with its 95%% interval (a closed loop's windows are "
                    "equal counts of answers, timed); latencies are timed from "
                    "each request's scheduled send and include failed requests, timed to their "
                    "failure; a percentile is shown only where n supports it. A step is stable "
                    "when its last three windows agree within 10%% on throughput and p95; an "
                    "unstable step is excluded from every decision.");
    else
        rpt_para(d, "This load.json predates repeated, stability-checked steps: its throughput "
                    "is one count per step and its latencies cover 2xx answers only. Percentiles "
                    "its n does not support are not shown.");
    if (json_array_size(json_object_get(ld->j, "steps"))) {
        steps_table(d, ld, v2);
        knee_para(d, ld);
    }
    if (json_is_object(json_object_get(ld->j, "service_time_s")))
        rpt_para(d,
                 "Service time with one request in flight (2xx answers at step %s): median %s "
                 "(95%% interval %s to %s), mean %s, n = %s.",
                 rpt_cite(d, ld, "", "service_time_s.step"),
                 rpt_cite(d, ld, "s", "service_time_s.median"),
                 rpt_cite(d, ld, "s", "service_time_s.ci[0]"),
                 rpt_cite(d, ld, "s", "service_time_s.ci[1]"),
                 rpt_cite(d, ld, "s", "service_time_s.mean"),
                 rpt_cite(d, ld, "", "service_time_s.n"));
    max_rate_para(d, ld);
    rpt_charts(d, ld);
    rpt_reproduce(d, K_LOAD, ld);
    (void)p;
}

/* The model check load.json records for `key` ("model_check" or
 * "max_rate.model_check"); returns the rows shown. */
static int checks_table(doc *d, const src *ld, const char *key, int *within)
{
    json_t *pts = rpt_jpath(ld->j, key);
    pts = json_object_get(pts, "points");
    for (size_t i = 0; i < json_array_size(pts); i++) {
        json_t *c = json_array_get(pts, i);
        char err[96] = "n/a", band[600] = "none (not Poisson)";
        json_t *e = json_object_get(c, "error_interval");
        if (json_is_array(e))
            snprintf(err, sizeof err, "%+.0f%% to %+.0f%%",
                     100 * json_number_value(json_array_get(e, 0)),
                     100 * json_number_value(json_array_get(e, 1)));
        if (json_is_array(json_object_get(c, "sim_band_s")))
            snprintf(band, sizeof band, "%s to %s",
                     rpt_cite(d, ld, "s", "%s.points[%zu].sim_band_s[0]", key, i),
                     rpt_cite(d, ld, "s", "%s.points[%zu].sim_band_s[1]", key, i));
        const char *verdict = json_string_value(json_object_get(c, "verdict"));
        *within += verdict && !strcmp(verdict, "within");
        rpt_trow(d, 0, "%s|%s|%s|%s (interval %s to %s)|%s|%s|%s|%s",
                 rpt_cite(d, ld, "req/s", "%s.points[%zu].offered", key, i),
                 rpt_cite(d, ld, "", "%s.points[%zu].n", key, i),
                 rpt_cite(d, ld, "", "%s.points[%zu].rho", key, i),
                 rpt_cite(d, ld, "s", "%s.points[%zu].measured_p95_s", key, i),
                 rpt_cite(d, ld, "s", "%s.points[%zu].measured_ci[0]", key, i),
                 rpt_cite(d, ld, "s", "%s.points[%zu].measured_ci[1]", key, i),
                 json_is_true(json_object_get(c, "model_stable"))
                     ? rpt_cite(d, ld, "s", "%s.points[%zu].model_p95_s", key, i)
                     : "saturated",
                 band, err, verdict ? verdict : "?");
    }
    return (int)json_array_size(pts);
}

void rpt_sec_validation(doc *d, const stt_report *r, const stt_report_params *p)
{
    const src *ld = rpt_primary(r, K_LOAD);
    rpt_h(d, 2, "Queueing model against measured load");
    (void)p;
    if (!ld) {
        rpt_para(d, "Not validated: load.json is missing.");
        return;
    }
    json_t *sweep = json_object_get(ld->j, "model_check"),
           *probes = rpt_jpath(ld->j, "max_rate.model_check");
    if (!json_is_object(sweep) && !json_is_object(probes)) {
        rpt_para(d,
                 "Not validated: %s. A closed loop cannot test a queueing model (its queue is "
                 "set by the client), so the check needs the service time of a stable step "
                 "with one request in flight and open-loop Poisson or trace steps: for example "
                 "`sttbench load --concurrency 1,2,4 --find-max-rate --slo p95=S`.",
                 is_v2(ld) ? "load.json has no service time at c=1 or no checkable step"
                           : "this load.json predates the model check");
        return;
    }
    const char *k = json_is_object(sweep) ? "model_check" : "max_rate.model_check";
    rpt_para(d,
             "Model: M/G/c with c = %s workers (%s), fed with the service times measured at "
             "c=1 (Allen-Cunneen; Poisson steps also get the 90%% band of simulated runs as "
             "long as the step). A step agrees when the interval of (model - measured) / "
             "measured, over the measured p95's 95%% interval, lies within +-20%%; it is "
             "undetermined when the interval straddles that line.",
             rpt_cite(d, ld, "", "%s.servers", k),
             rpt_jstr_at(ld, "config.server_workers_source")
                 ? rpt_jstr_at(ld, "config.server_workers_source")
                 : "as recorded");
    rpt_trow(d, 1, "offered|n|rho|measured p95|model p95|simulated band|error|verdict");
    int within = 0, rows = 0;
    if (json_is_object(sweep)) rows += checks_table(d, ld, "model_check", &within);
    if (json_is_object(probes)) rows += checks_table(d, ld, "max_rate.model_check", &within);
    if (rows == 0)
        rpt_para(d, "No stable open-loop step with Poisson or trace arrivals to check.");
    else
        rpt_para(d, "%d of %d checked step(s) within 20%% with their whole interval.", within,
                 rows);
}
