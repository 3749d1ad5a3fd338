/* report/summary: the executive summary: the three questions answered. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void rpt_summary(doc *d, const stt_report *r, const stt_report_decision *dc)
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
