/* report/strategy: SCALING_STRATEGY.md: when to scale up and when out, the
 * decision matrix and where every figure of the deployment comes from. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "internal.h"
#include "stats.h"

static const char *shape_name(const stt_shape *s, char *buf, size_t len)
{
    snprintf(buf, len, "%d x %d", s->pods, s->cores);
    return buf;
}

/* Scale up: the shapes measured side by side. */
static void vertical(doc *d, const stt_report *r, const rpt_deploy *dp)
{
    const src *sh = rpt_primary(r, K_SHAPES);
    rpt_h(d, 2, "When to scale vertically (bigger pods)");
    if (!dp->nshapes) {
        rpt_para(d, "The pod shapes are not measured (%s). Run `%s`.",
                 sh ? "shapes.json has no shapes" : "shapes.json missing", rpt_kind_cmd[K_SHAPES]);
        return;
    }
    for (int i = 0; i < dp->nshapes; i++) {
        char nm[32];
        rpt_li(d,
               "%s (pods x cores): one long request alone takes %s; short requests' p95 under "
               "the mixed load %s",
               shape_name(&dp->shapes[i], nm, sizeof nm),
               rpt_cite(d, sh, "s", "shapes[%d].single_long_s.median", i),
               rpt_cite(d, sh, "s", "shapes[%d].short_p95_s.median", i));
    }
    rpt_para(d,
             "Scale up while one request alone is slower than the objective: a long file is cut "
             "into pieces that a bigger pod decodes at once; from %s of audio on, twice the "
             "cores make one request at least 10%% faster at this shape. A short file is one "
             "piece and runs at one core's speed whatever the pod. Beyond that, more cores per "
             "pod buy no latency: scale out.",
             rpt_derived(d, dp->long_file_s, "s",
                         "service-time model: fixed + per-core time x duration / pieces"));
}

static void horizontal(doc *d, const stt_report *r, const rpt_deploy *dp)
{
    const src *rp = rpt_primary(r, K_REPLICAS), *ld = rpt_primary(r, K_LOAD);
    rpt_h(d, 2, "When to scale horizontally (more pods)");
    if (dp->rho_from_model)
        rpt_para(d,
                 "Add pods before a pod's utilisation passes %s: up to there the p95 of short "
                 "requests the model predicts, %s, stays under the objective with the margin %s.",
                 rpt_derived(d, dp->rho, "", "highest utilisation meeting the objective"),
                 rpt_derived(d, dp->rho_p95_s, "s", "M/G/c wait + own service time"),
                 rpt_derived(d, dp->margin, "x", dp->margin_basis));
    else
        rpt_para(d, "No target utilisation from the model: %s.", dp->rho_basis);
    if (rp && json_is_object(json_object_get(rp->j, "validation")))
        rpt_para(d,
                 "The model behind it was validated with per-pod routing, as a Kubernetes "
                 "Service routes: %s of %s cell(s) inside the simulated band (replicas.json); "
                 "the measured p95 was at most %s times the prediction.",
                 rpt_cite(d, rp, "", "validation.agree"), rpt_cite(d, rp, "", "validation.cells"),
                 rpt_cite(d, rp, "", "validation.ratio_hi"));
    else
        rpt_para(d, "The model is not validated with per-pod routing here (%s). Run `%s`.",
                 rp ? "replicas.json has no validation" : "replicas.json missing",
                 rpt_kind_cmd[K_REPLICAS]);
    if (ld && json_is_object(json_object_get(ld->j, "knee")))
        rpt_para(d, "One pod's knee (load.json): %s offered, %s completed, p95 %s.",
                 rpt_cite(d, ld, "", "knee.offered"),
                 rpt_cite(d, ld, "req/s", "knee.throughput_rps"),
                 rpt_cite(d, ld, "s", "knee.p95_s"));
    rpt_para(d, "`sttbench plan` turns a request rate into pods with the same model.");
}

static void matrix(doc *d, const rpt_deploy *dp)
{
    rpt_h(d, 2, "Decision matrix");
    rpt_trow(d, 1, "signal (dashboard panel)|threshold|action");
    if (dp->slo_s > 0)
        rpt_trow(d, 0,
                 "p95 latency of transcriptions|above %.4g s (the objective, %s) while worker "
                 "utilisation is under %.0f%%|queueing is not the cause: scale up or pick a "
                 "faster profile",
                 dp->slo_s, dp->slo_source, 100 * dp->rho);
    else
        rpt_trow(d, 0,
                 "p95 latency|no objective given (--slo-p95)|set one: the thresholds "
                 "below are policies until then");
    rpt_trow(d, 0,
             "sttd_requests_in_flight per pod (KEDA trigger)|above %s|scale out (keda.yaml); "
             "it leads CPU for requests that last seconds",
             isfinite(dp->inflight) ? rpt_derived(d, dp->inflight, "", "Little's law at the target")
                                    : "the pod's workers (no model)");
    rpt_trow(d, 0,
             "sttd_workers_busy / sttd_workers, pod CPU over its request (HPA)|above "
             "%.0f%%|scale out (hpa.yaml)",
             100 * dp->rho);
    rpt_trow(d, 0,
             "503 share of transcriptions|above %.2g%% (the error budget --queue %d was sized "
             "for)|the admission is full: scale out, and look for bursts the model did not see",
             100 * dp->budget, dp->queue);
    rpt_trow(d, 0,
             "sttd_queue_depth, sttd_queue_wait_seconds p95|growing while utilisation "
             "is at its target|arrivals burstier than Poisson: lower the target");
    if (isfinite(dp->long_file_s))
        rpt_trow(d, 0,
                 "share of files longer than %.0f s|they dominate the traffic|scale up: their "
                 "pieces gain from more cores; short files gain only from more pods",
                 dp->long_file_s);
    rpt_trow(d, 0, "sttd_worker_restarts_total|any increase|a decoder died: read the pod's log");
    if (isfinite(dp->quota_ratio))
        rpt_trow(d, 0, "quota/cpuset throughput (cpu.json)|%.3g|%s", dp->quota_ratio,
                 dp->quota_ratio >= 0.95 ? "under 5% loss: no objection to a CPU limit"
                                         : "over 5% loss: no CPU limit, or the static CPU "
                                           "manager with whole cores");
}

static void costs(doc *d, const stt_report *r, const stt_report_params *p, const rpt_deploy *dp)
{
    const src *sh = rpt_primary(r, K_SHAPES);
    rpt_h(d, 2, "Cost per audio hour by pod shape");
    if (!dp->nshapes) {
        rpt_para(d, "Not computable: shapes.json is missing.");
        return;
    }
    rpt_trow(d, 1,
             "shape (pods x cores)|audio s/s, median|pod memory peak|cost per audio hour, "
             "median [95%% interval]|objective");
    for (int i = 0; i < dp->nshapes; i++) {
        const stt_shape_verdict *v = &dp->choice.v[i];
        char nm[32], cost[96];
        snprintf(cost, sizeof cost, "%.4g [%.4g, %.4g]", v->cost, v->cost_lo, v->cost_hi);
        rpt_trow(d, 0, "%s|%s|%s|%s|%s", shape_name(&dp->shapes[i], nm, sizeof nm),
                 rpt_cite(d, sh, "", "shapes[%d].throughput_audio_s_per_s.median", i),
                 rpt_cite(d, sh, "MiB", "shapes[%d].memory_peak_bytes", i), cost,
                 !(dp->slo_s > 0) ? "none given"
                 : v->slo == -1   ? "under"
                 : v->slo == 1    ? "over"
                                  : "undetermined");
    }
    const stt_shapes_choice *c = &dp->choice;
    if (c->chosen < 0) return;
    char nm[32], nm2[32];
    rpt_para(d, "Chosen: %s, %s; confidence: %s.",
             shape_name(&dp->shapes[c->chosen], nm, sizeof nm), c->basis, c->confidence);
    if (c->runner_up >= 0)
        rpt_para(d,
                 "The runner-up, %s, costs %.3g times as much [%.3g, %.3g]. At %.4g per "
                 "core-hour it would cost the same with memory at %.4g per GiB-hour (%.4g "
                 "given).",
                 shape_name(&dp->shapes[c->runner_up], nm2, sizeof nm2), c->ratio, c->ratio_lo,
                 c->ratio_hi, p->price_core_hour, c->breakeven_gib_hour, p->price_gib_hour);
    rpt_trow(d, 1, "memory price per GiB-hour|chosen shape");
    for (int k = 0; k < 4; k++) {
        int ch = c->at_scale[k];
        rpt_trow(d, 0, "%.4g (x%g)|%s", p->price_gib_hour * stt_shapes_price_scales[k],
                 stt_shapes_price_scales[k],
                 ch >= 0 ? shape_name(&dp->shapes[ch], nm, sizeof nm) : "none");
    }
}

/* Every figure of deploy/k8s and the step it comes from. */
static void provenance(doc *d, const stt_report_params *p, const rpt_deploy *dp)
{
    rpt_h(d, 2, "Where the deployment's figures come from");
    rpt_trow(d, 1, "figure|value|from");
    rpt_trow(d, 0, "cores per pod (= workers = threads)|%d|%s", dp->cores, dp->shape_basis);
    rpt_trow(d, 0, "target utilisation (HPA CPU %%)|%.3f|%s", dp->rho, dp->rho_basis);
    rpt_trow(d, 0, "model margin|%.2f|%s", dp->margin, dp->margin_basis);
    rpt_trow(d, 0, "KEDA threshold (in flight per pod)|%.2f|model: Little's law at the target",
             dp->inflight);
    rpt_trow(d, 0, "--queue|%d|%s", dp->queue, dp->queue_basis);
    rpt_trow(d, 0, "memory request = limit|%.0f MiB|%s",
             isfinite(dp->mem_bytes) ? ceil(dp->mem_bytes / 1048576.0) : NAN, dp->mem_basis);
    rpt_trow(d, 0, "sttd --grace-s|%d s|%s", dp->sttd_grace_s, dp->grace_basis);
    rpt_trow(d, 0, "terminationGracePeriodSeconds|%d s|preStop %d s (policy) + --grace-s + 5 s",
             dp->pod_grace_s, dp->prestop_s);
    rpt_trow(d, 0,
             "readiness|every %d s, %d failures|policy: /ready fails only when the pod "
             "cannot take work",
             RPT_POLICY_READY_PERIOD_S, RPT_POLICY_READY_FAILURES);
    rpt_trow(d, 0, "service time per request|fixed %.3g s + %.3g s per audio s / pieces|%s",
             dp->svc.fixed_s, dp->svc.per_audio_s, dp->svc_source);
    rpt_trow(d, 0, "traffic sized for|%d length(s)|%s", dp->mix_n,
             dp->mix_n ? dp->mix_source : "none");
    rpt_trow(d, 0,
             "longest audio, largest upload|%.0f s, %d MiB|policy (--max-audio-s; sttd's "
             "default upload limit)",
             p->max_audio_s, RPT_POLICY_MAX_UPLOAD_MB);
}

int stt_report_write_strategy(const stt_report *r, const stt_report_params *p, FILE *f)
{
    doc *d = calloc(1, sizeof *d);
    rpt_deploy *dp = malloc(sizeof *dp);
    if (!d || !dp) {
        free(d);
        free(dp);
        return STT_ENOMEM;
    }
    d->f = f;
    d->p = p;
    rpt_deploy_decide(r, p, dp);
    fprintf(f,
            "# Scaling strategy\n\nGenerated by `sttbench report` from the results files; "
            "every figure names its source. Prices: %.4g per core-hour, %.4g per GiB-hour "
            "(`--price-core-hour`, `--price-gib-hour`; defaults 0.04 and 0.005).\n\n",
            p->price_core_hour, p->price_gib_hour);
    vertical(d, r, dp);
    horizontal(d, r, dp);
    matrix(d, dp);
    costs(d, r, p, dp);
    provenance(d, p, dp);
    rpt_h(d, 2, "Tuning");
    rpt_li(
        d,
        "Profile: `fast`, `balanced`, `accurate` trade speed for accuracy (see the audio table in "
        "PERFORMANCE_REPORT.md); choose the fastest whose WER is acceptable.");
    rpt_li(d,
           "--workers: one per core (%d per pod here); more workers than cores only queue "
           "inside the CPU.",
           dp->cores);
    rpt_li(d, "--threads: pieces of one request decoded at once; = workers lets a long file use "
              "an idle pod's cores; under load the pieces of all requests share them.");
    rpt_li(d,
           "--queue: a Service does not retry a refused POST, so a refusal is an error the "
           "client sees; the queue (%d here) is sized so that refusals at the target stay "
           "within the error budget.",
           dp->queue);
    rpt_sources(d);
    free(dp);
    free(d);
    return ferror(f) ? STT_EIO : 0;
}
