/* report/sec_cpu: the CPU section: many weak cores or few strong ones at
 * equal capacity, scaling with cores and threads, a quota against pinned
 * cores. cpu.json files from before the equal-capacity experiment (no
 * "capacity" key) are rendered as they always were, so that documents made
 * from them do not change. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* The figure at path with its interval at path_ci ("a.b.ci"), cited. */
static const char *with_ci(doc *d, const src *cpu, const char *unit, const char *path,
                           const char *ci)
{
    static char buf[4][1700];
    static int k;
    char *b = buf[k++ % 4];
    char lo[600], hi[600];
    snprintf(lo, sizeof lo, "%s[0]", ci);
    snprintf(hi, sizeof hi, "%s[1]", ci);
    if (!json_is_number(rpt_jpath(cpu->j, lo))) {
        snprintf(b, 1700, "%s, no interval", rpt_cite(d, cpu, unit, "%s", path));
        return b;
    }
    snprintf(b, 1700, "%s, 95%% interval %s to %s", rpt_cite(d, cpu, unit, "%s", path),
             rpt_cite(d, cpu, unit, "%s", lo), rpt_cite(d, cpu, unit, "%s", hi));
    return b;
}

static void sec_capacity(doc *d, const src *cpu)
{
    rpt_h(d, 3, "Many weak cores or few strong ones, at equal capacity");
    json_t *cap = json_object_get(cpu->j, "capacity");
    rpt_para(d, "Verdict: %s (%s).", rpt_jstr_at(cpu, "verdict.answer") ?: "undetermined",
             rpt_jstr_at(cpu, "verdict.confidence") ?: "undetermined");
    if (!json_is_true(json_object_get(cap, "measured"))) {
        rpt_para(d, "Not measured: %s.", rpt_jstr_at(cpu, "capacity.why") ?: "unknown");
        return;
    }
    json_t *pairs = json_object_get(cap, "pairs");
    static const char *const metrics[] = {"throughput", "short_latency", "long_latency",
                                          "poisson_p95"};
    static const char *const words[] = {"throughput", "one short request", "one long request",
                                        "p95 under Poisson arrivals"};
    for (size_t i = 0; i < json_array_size(pairs); i++) {
        json_t *pr = json_array_get(pairs, i);
        rpt_para(d, "%s against %s (weak / strong; throughput higher is better, latencies lower):",
                 json_string_value(json_object_get(pr, "weak")) ?: "?",
                 rpt_jstr_at(cpu, "capacity.configs[0].label") ?: "?");
        rpt_trow(d, 1, "metric|weak / strong|n|verdict");
        for (int m = 0; m < 4; m++) {
            char path[200], ci[200], n[200], why[200];
            snprintf(path, sizeof path, "capacity.pairs[%zu].metrics.%s.value", i, metrics[m]);
            snprintf(ci, sizeof ci, "capacity.pairs[%zu].metrics.%s.ci", i, metrics[m]);
            snprintf(n, sizeof n, "capacity.pairs[%zu].metrics.%s.n", i, metrics[m]);
            snprintf(why, sizeof why, "capacity.pairs[%zu].metrics.%s.why", i, metrics[m]);
            const char *verdict = rpt_jstr_at(cpu, why) ?: "?";
            const char *side = NULL;
            snprintf(why, sizeof why, "capacity.pairs[%zu].metrics.%s.verdict", i, metrics[m]);
            side = rpt_jstr_at(cpu, why) ?: "?";
            rpt_trow(d, 0, "%s|%s|%.0f|%s", words[m], with_ci(d, cpu, "", path, ci),
                     rpt_jnum_at(cpu, "%s", n),
                     !strcmp(side, "undetermined") || !strcmp(side, "not measured") ? verdict
                                                                                    : side);
        }
    }
    rpt_li(d, "%s", rpt_jstr_at(cpu, "capacity.mechanism") ?: "");
    rpt_li(d, "%s", rpt_jstr_at(cpu, "capacity.caveat") ?: "");
    const char *settle = rpt_jstr_at(cpu, "capacity.settle");
    if (settle && *settle) rpt_li(d, "What would settle it: %s", settle);
}

static void sec_scaling(doc *d, const src *cpu)
{
    json_t *an = json_object_get(cpu->j, "analysis");
    for (size_t a = 0; a < json_array_size(an); a++) {
        json_t *e = json_array_get(an, a);
        const char *mode = json_string_value(json_object_get(e, "mode")) ?: "?";
        rpt_h(d, 3, "Scaling with cores: %s (%s)", mode,
              json_string_value(json_object_get(e, "classification")) ?: "unclassified");
        json_t *series = json_object_get(e, "series");
        rpt_trow(d, 1, "cores|n|audio s/s|speedup|efficiency|one long request");
        for (size_t i = 0; i < json_array_size(series); i++) {
            char p[5][160], c[5][160];
            static const char *const f[5] = {"audio_s_per_s", "speedup", "efficiency",
                                             "long_latency_s"};
            static const char *const cf[5] = {"audio_s_per_s_ci", "speedup_ci", "efficiency_ci",
                                              "long_latency_ci"};
            for (int k = 0; k < 4; k++) {
                snprintf(p[k], sizeof p[k], "analysis[%zu].series[%zu].%s", a, i, f[k]);
                snprintf(c[k], sizeof c[k], "analysis[%zu].series[%zu].%s", a, i, cf[k]);
            }
            rpt_trow(d, 0, "%s|%.0f|%s|%s|%s|%s",
                     rpt_cite(d, cpu, "", "analysis[%zu].series[%zu].cores", a, i),
                     rpt_jnum_at(cpu, "analysis[%zu].series[%zu].n", a, i),
                     with_ci(d, cpu, "", p[0], c[0]), with_ci(d, cpu, "x", p[1], c[1]),
                     with_ci(d, cpu, "", p[2], c[2]), with_ci(d, cpu, "s", p[3], c[3]));
        }
        json_t *ex = json_object_get(e, "excluded");
        for (size_t i = 0; i < json_array_size(ex); i++)
            rpt_li(d, "%lld cores left out of every decision: %s",
                   json_integer_value(json_object_get(json_array_get(ex, i), "cores")),
                   json_string_value(json_object_get(json_array_get(ex, i), "reason")) ?: "?");
        char p[160], c[160];
        snprintf(p, sizeof p, "analysis[%zu].throughput.amdahl.serial_fraction", a);
        snprintf(c, sizeof c, "analysis[%zu].throughput.amdahl.ci95", a);
        rpt_li(d, "Amdahl serial fraction (throughput, held to [0, 1]): %s",
               with_ci(d, cpu, "", p, c));
        char dr[160];
        snprintf(dr, sizeof dr, "analysis[%zu].diminishing_returns.status", a);
        const char *st = rpt_jstr_at(cpu, dr) ?: "?";
        snprintf(dr, sizeof dr, "analysis[%zu].diminishing_returns.why", a);
        rpt_li(d, "Diminishing returns: %s: %s.", st, rpt_jstr_at(cpu, dr) ?: "");
        json_t *um = json_object_get(e, "unmeasured");
        if (json_is_object(um))
            rpt_li(d, "Unmeasured on this machine: %lld to %lld cores.",
                   json_integer_value(json_object_get(um, "from")),
                   json_integer_value(json_object_get(um, "to")));
        json_t *pj = json_object_get(e, "projections");
        for (size_t i = 0; i < json_array_size(pj); i++)
            rpt_li(d,
                   "Projection, not a measurement (Amdahl band, used by no decision): %s cores "
                   "-> speedup %s, band %s to %s",
                   rpt_cite(d, cpu, "", "analysis[%zu].projections[%zu].cores", a, i),
                   rpt_cite(d, cpu, "x", "analysis[%zu].projections[%zu].speedup", a, i),
                   rpt_cite(d, cpu, "", "analysis[%zu].projections[%zu].lo", a, i),
                   rpt_cite(d, cpu, "", "analysis[%zu].projections[%zu].hi", a, i));
    }
    json_t *qv = json_object_get(cpu->j, "quota_vs_cpuset");
    if (json_array_size(qv)) {
        rpt_h(d, 3, "CFS quota against pinned cores");
        rpt_trow(d, 1,
                 "cores|n|throughput quota/cpuset|long request quota/cpuset|throttled fraction");
        for (size_t i = 0; i < json_array_size(qv); i++) {
            char p1[100], c1[100], p2[100], c2[100];
            snprintf(p1, sizeof p1, "quota_vs_cpuset[%zu].throughput_ratio", i);
            snprintf(c1, sizeof c1, "quota_vs_cpuset[%zu].throughput_ratio_ci", i);
            snprintf(p2, sizeof p2, "quota_vs_cpuset[%zu].latency_ratio", i);
            snprintf(c2, sizeof c2, "quota_vs_cpuset[%zu].latency_ratio_ci", i);
            rpt_trow(d, 0, "%s|%.0f|%s|%s|%s",
                     rpt_cite(d, cpu, "", "quota_vs_cpuset[%zu].cores", i),
                     rpt_jnum_at(cpu, "quota_vs_cpuset[%zu].n", i), with_ci(d, cpu, "", p1, c1),
                     with_ci(d, cpu, "", p2, c2),
                     rpt_cite(d, cpu, "", "quota_vs_cpuset[%zu].throttled_fraction", i));
        }
    }
    json_t *th = json_object_get(cpu->j, "threads");
    if (json_array_size(th)) {
        rpt_h(d, 3, "Threads per request");
        rpt_trow(d, 1, "cores|load|n|best threads|its latency|recommended (fewest among the tied)");
        for (size_t i = 0; i < json_array_size(th); i++)
            for (int l = 0; l < 2; l++) {
                const char *load = l ? "loaded" : "idle";
                char p[100], c[100];
                snprintf(p, sizeof p, "threads[%zu].%s.best_latency_s", i, load);
                snprintf(c, sizeof c, "threads[%zu].%s.best_ci", i, load);
                char st[100];
                snprintf(st, sizeof st, "threads[%zu].load.stated", i);
                rpt_trow(d, 0, "%s|%s|%s|%s|%s|%s", rpt_cite(d, cpu, "", "threads[%zu].cores", i),
                         l ? rpt_jstr_at(cpu, st) ?: "loaded" : "idle",
                         rpt_cite(d, cpu, "", "timing.phases[1].rounds"),
                         rpt_cite(d, cpu, "", "threads[%zu].%s.best_threads", i, load),
                         with_ci(d, cpu, "s", p, c),
                         rpt_cite(d, cpu, "", "threads[%zu].%s.recommended_threads", i, load));
            }
    }
}

/* Index of a cpu.json's ok 1-core pinned point, or -1. */
static int one_core_point(const src *cpu)
{
    json_t *pts = json_object_get(cpu->j, "points");
    for (size_t i = 0; i < json_array_size(pts); i++) {
        json_t *p = json_array_get(pts, i);
        const char *e = json_string_value(json_object_get(p, "experiment"));
        const char *st = json_string_value(json_object_get(p, "status"));
        if (e && !strcmp(e, "scaling") && st && !strcmp(st, "ok") &&
            json_integer_value(json_object_get(p, "cores")) == 1)
            return (int)i;
    }
    return -1;
}

/* With a second machine's cpu.json: one core's speed side by side. Two real
 * machines differ in microarchitecture, caches and memory, which emulated
 * weak cores do not, so this is the stronger evidence on core strength. */
static void sec_machines(doc *d, const stt_report *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += r->m[i].k[K_CPU].j && json_object_get(r->m[i].k[K_CPU].j, "capacity");
    if (n < 2) return;
    rpt_h(d, 3, "Machines side by side: one core's speed");
    rpt_para(d, "Real machines differ in microarchitecture, caches and memory, which emulated "
                "weak cores do not: this is the stronger evidence on core strength. The runs "
                "were not interleaved, so each machine's drift is inside its intervals; `sttbench "
                "cpu --compare A B` gives the ratio with its interval.");
    rpt_trow(d, 1, "machine|n|1-core audio s/s|1-core long request|weak against strong");
    for (int i = 0; i < r->n; i++) {
        const src *c = &r->m[i].k[K_CPU];
        if (!c->j || !json_object_get(c->j, "capacity")) continue;
        int k = one_core_point(c);
        char p1[100], c1[100], p2[100], c2[100];
        snprintf(p1, sizeof p1, "points[%d].throughput.median", k);
        snprintf(c1, sizeof c1, "points[%d].throughput.ci", k);
        /* the long request is the last latency entry of the 1-core point */
        json_t *lat =
            k >= 0 ? json_object_get(json_array_get(json_object_get(c->j, "points"), (size_t)k),
                                     "latency")
                   : NULL;
        size_t last = json_array_size(lat) ? json_array_size(lat) - 1 : 0;
        snprintf(p2, sizeof p2, "points[%d].latency[%zu].median", k, last);
        snprintf(c2, sizeof c2, "points[%d].latency[%zu].ci", k, last);
        rpt_trow(d, 0, "%s|%.0f|%s|%s|%s (%s)", rpt_jstr_at(c, "machine.cpu_model") ?: c->label,
                 k >= 0 ? rpt_jnum_at(c, "points[%d].throughput.n", k) : 0.0,
                 k >= 0 ? with_ci(d, c, "", p1, c1) : "not measured",
                 k >= 0 ? with_ci(d, c, "s", p2, c2) : "not measured",
                 rpt_jstr_at(c, "verdict.answer") ?: "?",
                 rpt_jstr_at(c, "verdict.confidence") ?: "?");
    }
}

/* Files written before the equal-capacity experiment, as they were shown. */
static void sec_legacy(doc *d, const src *cpu)
{
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
}

void rpt_sec_cpu(doc *d, const stt_report *r)
{
    const src *cpu = rpt_primary(r, K_CPU);
    rpt_h(d, 2, "CPU: cores and threads");
    if (!cpu) return rpt_missing(d, K_CPU);
    if (json_object_get(cpu->j, "capacity")) {
        sec_capacity(d, cpu);
        sec_machines(d, r);
        sec_scaling(d, cpu);
    } else {
        sec_legacy(d, cpu);
    }
    rpt_charts(d, cpu);
    rpt_reproduce(d, K_CPU, cpu);
}
