/* report/sec_shapes: the pod shapes measured side by side, the choice at the
 * report's prices and objective, and the worst-case memory. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rpt_sec_shapes(doc *d, const stt_report *r, const stt_report_params *p)
{
    const src *sh = rpt_primary(r, K_SHAPES);
    rpt_h(d, 2, "Pod shapes measured side by side");
    if (!sh) return rpt_missing(d, K_SHAPES);
    const char *skipped = json_string_value(json_object_get(sh->j, "skipped"));
    if (skipped) {
        rpt_para(d, "Not measured on this machine: %s (%s: skipped).", skipped, sh->label);
        return rpt_reproduce(d, K_SHAPES, sh);
    }
    rpt_deploy *dp = malloc(sizeof *dp);
    if (!dp) return;
    rpt_deploy_decide(r, p, dp);
    rpt_para(d,
             "The machine's %s CPUs split into k pods of cores / k, each pod sttd with one worker "
             "per core, "
             "behind haproxy routing at random per pod. Profile %s, %s rounds in interleaved "
             "order. The short requests' p95 is measured under a mixed-length Poisson load "
             "(%s of the requests long) at %s requests/s for every shape, so that a long request "
             "ahead of a short one on a one-worker pod shows.",
             rpt_cite(d, sh, "", "config.cores"),
             rpt_jstr_at(sh, "config.profile") ? rpt_jstr_at(sh, "config.profile") : "?",
             rpt_cite(d, sh, "", "config.repeats"), rpt_cite(d, sh, "", "config.long_share"),
             rpt_cite(d, sh, "", "offered.rps"));
    if (rpt_jstr_at(sh, "config.profile") && strcmp(rpt_jstr_at(sh, "config.profile"), p->profile))
        rpt_para(d,
                 "The shapes were measured with profile %s; the service-time model sizes profile "
                 "%s (--profile).",
                 rpt_jstr_at(sh, "config.profile"), p->profile);
    rpt_trow(d, 1,
             "shape (pods x cores)|n|audio s/s, median|95%% interval|short p95, median|95%% "
             "interval|long request alone|pod memory peak|cost per audio hour|objective");
    for (int i = 0; i < dp->nshapes; i++) {
        const stt_shape_verdict *v = &dp->choice.v[i];
        char t_ci[1700], p_ci[1700], cost[96];
        snprintf(t_ci, sizeof t_ci, "%s to %s",
                 rpt_cite(d, sh, "", "shapes[%d].throughput_audio_s_per_s.ci[0]", i),
                 rpt_cite(d, sh, "", "shapes[%d].throughput_audio_s_per_s.ci[1]", i));
        snprintf(p_ci, sizeof p_ci, "%s to %s",
                 rpt_cite(d, sh, "s", "shapes[%d].short_p95_s.ci[0]", i),
                 rpt_cite(d, sh, "s", "shapes[%d].short_p95_s.ci[1]", i));
        snprintf(cost, sizeof cost, "%.4g [%.4g, %.4g]", v->cost, v->cost_lo, v->cost_hi);
        rpt_trow(d, 0, "%d x %d|%s|%s|%s|%s|%s|%s|%s|%s|%s", dp->shapes[i].pods,
                 dp->shapes[i].cores,
                 rpt_cite(d, sh, "", "shapes[%d].throughput_audio_s_per_s.n", i),
                 rpt_cite(d, sh, "", "shapes[%d].throughput_audio_s_per_s.median", i), t_ci,
                 rpt_cite(d, sh, "s", "shapes[%d].short_p95_s.median", i), p_ci,
                 rpt_cite(d, sh, "s", "shapes[%d].single_long_s.median", i),
                 rpt_cite(d, sh, "MiB", "shapes[%d].memory_peak_bytes", i), cost,
                 !(dp->slo_s > 0) ? "none given"
                 : v->slo == -1   ? "under"
                 : v->slo == 1    ? "over"
                                  : "undetermined");
    }
    const stt_shapes_choice *c = &dp->choice;
    if (c->chosen >= 0) {
        rpt_para(d,
                 "Chosen at %.4g per core-hour and %.4g per GiB-hour (objective: %s): %d pod(s) "
                 "of %d core(s), %s. Confidence: %s.",
                 p->price_core_hour, p->price_gib_hour, dp->slo_s > 0 ? dp->slo_source : "none",
                 dp->shapes[c->chosen].pods, dp->shapes[c->chosen].cores, c->basis, c->confidence);
        if (c->runner_up >= 0) {
            char be[64];
            if (isfinite(c->breakeven_gib_hour))
                snprintf(be, sizeof be, "%.4g per GiB-hour", c->breakeven_gib_hour);
            else
                snprintf(be, sizeof be, "no memory price");
            rpt_para(d,
                     "Sensitivity to the prices: the runner-up (%d x %d) costs %.3g times as much "
                     "[%.3g, %.3g]; it would cost the same at %s. With memory free, a quarter, "
                     "4 or 16 times as dear the choice is %d, %d, %d, %d cores per pod.",
                     dp->shapes[c->runner_up].pods, dp->shapes[c->runner_up].cores, c->ratio,
                     c->ratio_lo, c->ratio_hi, be,
                     c->at_scale[0] >= 0 ? dp->shapes[c->at_scale[0]].cores : 0,
                     c->at_scale[1] >= 0 ? dp->shapes[c->at_scale[1]].cores : 0,
                     c->at_scale[2] >= 0 ? dp->shapes[c->at_scale[2]].cores : 0,
                     c->at_scale[3] >= 0 ? dp->shapes[c->at_scale[3]].cores : 0);
        }
    }
    json_t *w = json_object_get(sh->j, "memory_worst_case");
    for (size_t i = 0; i < json_array_size(w); i++)
        rpt_li(d,
               "Worst case of a %s-core pod: %s workers + %s queued uploads of %s (%s s of "
               "audio) at once, every profile in turn: memory cgroup peak %s.",
               rpt_cite(d, sh, "", "memory_worst_case[%zu].cores_per_pod", i),
               rpt_cite(d, sh, "", "memory_worst_case[%zu].workers", i),
               rpt_cite(d, sh, "", "memory_worst_case[%zu].queue", i),
               rpt_cite(d, sh, "MiB", "memory_worst_case[%zu].upload.bytes", i),
               rpt_cite(d, sh, "", "memory_worst_case[%zu].upload.duration_s", i),
               rpt_cite(d, sh, "MiB", "memory_worst_case[%zu].max_bytes", i));
    if (!json_array_size(w))
        rpt_para(d, "The worst-case memory was not measured (sttbench shapes --memory chosen).");
    rpt_charts(d, sh);
    rpt_reproduce(d, K_SHAPES, sh);
    free(dp);
}
