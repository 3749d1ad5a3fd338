/* report/plan: the capacity plan: pods of each measured shape for a rate of
 * a traffic mix, with the model the deployment is sized with (per-pod random
 * routing: a Poisson stream split at random is Poisson at rate / pods). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "internal.h"
#include "queueing.h"

int stt_report_plan(const stt_report *r, const stt_report_params *p, const stt_mix *mix,
                    double rate, double slo, FILE *f, char *err, size_t errlen)
{
    if (!mix || !mix->n || !(rate > 0) || !(slo > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "need a mix, a rate > 0 and an objective > 0");
    rpt_deploy *dp = malloc(sizeof *dp);
    if (!dp) return STT_ENOMEM;
    rpt_deploy_decide(r, p, dp);
    if (!dp->have_svc) {
        free(dp);
        return stt_seterr(err, errlen, STT_EINVAL,
                          "no audio.json with a process-time fit for profile %s", p->profile);
    }
    /* The pod sizes shapes.json measured, else one worker. */
    int cores[STT_SHAPES_MAX], nc = 0;
    double mem[STT_SHAPES_MAX];
    for (int i = 0; i < dp->nshapes; i++) {
        int dup = 0;
        for (int k = 0; k < nc; k++)
            dup |= cores[k] == dp->shapes[i].cores;
        if (!dup) {
            mem[nc] = dp->shapes[i].mem_bytes * (1 + p->memory_margin);
            cores[nc++] = dp->shapes[i].cores;
        }
    }
    if (!nc) {
        cores[0] = 1;
        mem[0] = NAN;
        nc = 1;
    }
    double *s = calloc(mix->n, sizeof *s);
    if (!s) {
        free(dp);
        return STT_ENOMEM;
    }
    double wsum = 0, ed = 0;
    for (size_t i = 0; i < mix->n; i++) {
        wsum += mix->weight[i];
        ed += mix->weight[i] * mix->duration_s[i];
        s[i] = stt_svctime_request_s(&dp->svc, mix->duration_s[i], 1);
    }
    ed /= wsum;
    fprintf(f,
            "Traffic: %.4g requests/s, mean audio %.4g s (%zu lengths), p95 objective %.4g s, "
            "model margin %.3g (%s). Model: M/G/c per pod, c = the pod's workers, each "
            "request to a pod at random (a Kubernetes Service).\n\n",
            rate, ed, mix->n, slo, dp->margin, dp->margin_basis);
    fprintf(f, "| cores per pod | pods | utilisation | p95 (model) | cost per hour | cost per "
               "audio hour |\n"
               "|---|---|---|---|---|---|\n");
    int rc = 0;
    for (int k = 0; k < nc && !rc; k++) {
        stt_fleet_params fl = stt_fleet_default_params();
        fl.pod.servers = cores[k];
        fl.pod.service_s = s;
        fl.pod.weight = mix->weight;
        fl.pod.n = mix->n;
        fl.pod.lambda = rate;
        stt_mgc_result mr = {0};
        int pods = 0;
        for (int n = 1; n <= 100000 && !rc; n++) {
            fl.pods = n;
            if ((rc = stt_fleet_eval(&fl, &mr, err, errlen))) break;
            if (mr.stable && mr.t_q * dp->margin <= slo) {
                pods = n;
                break;
            }
            /* at low utilisation more pods no longer shorten the tail */
            if (mr.stable && mr.rho < 0.01) break;
        }
        if (rc) break;
        if (!pods) {
            fprintf(f,
                    "| %d | - | - | objective unreachable (one request alone takes longer) | - "
                    "| - |\n",
                    cores[k]);
            continue;
        }
        double gib = isfinite(mem[k]) ? mem[k] / 1073741824.0 : 0;
        double hour = pods * (p->price_core_hour * cores[k] + p->price_gib_hour * gib);
        fprintf(f, "| %d | %d | %.0f%% | %.3g s | %.4g | %.4g |\n", cores[k], pods, 100 * mr.rho,
                mr.t_q, hour, hour / (rate * ed));
    }
    if (!rc)
        fprintf(f,
                "\nService times: %s. Memory per pod: shapes.json's peak + margin where "
                "measured, else not counted. Projections from a model, not measurements.\n",
                dp->svc_source);
    free(s);
    free(dp);
    return rc;
}
