/* report/sec_cpu: the CPU section: cores, quota against pinning, fits. */
#include "internal.h"

#include <math.h>
#include <string.h>

void rpt_sec_cpu(doc *d, const stt_report *r)
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
    rpt_reproduce(d, K_CPU, cpu);
}
