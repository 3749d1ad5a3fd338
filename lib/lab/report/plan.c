/* report/plan: the capacity plan (pods per shape for a rate of a traffic mix). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "queueing.h"
#include "internal.h"

int stt_report_plan(const stt_report *r, const stt_report_params *p, const stt_mix *mix,
                    double rate, double slo, FILE *f, char *err, size_t errlen)
{
    if (!mix || !mix->n || !(rate > 0) || !(slo > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "need a mix, a rate > 0 and an objective > 0");
    if (rpt_fit_index(rpt_primary(r, K_AUDIO), p->profile, "process_s") < 0)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "no audio.json with a process-time fit for profile %s", p->profile);
    shape sh[32];
    int ns = rpt_shapes(r, p, sh, 32);
    if (ns == 0) {
        /* without cpu.json: one-worker pods fed by the audio fit as measured */
        sh[0] = (shape){.cores = 1, .x = 0, .mem_bytes = NAN, .cost = NAN};
        ns = 1;
    }
    double *s = calloc(mix->n, sizeof *s);
    if (!s) return STT_ENOMEM;
    double wsum = 0, ed = 0;
    for (size_t i = 0; i < mix->n; i++) {
        wsum += mix->weight[i];
        ed += mix->weight[i] * mix->duration_s[i];
    }
    ed /= wsum;
    fprintf(f,
            "Traffic: %.4g requests/s, mean audio %.4g s (%zu lengths), p95 objective %.4g s. "
            "Model: M/G/c per pod (Erlang C, Allen-Cunneen), requests spread evenly over pods.\n\n",
            rate, ed, mix->n, slo);
    fprintf(f, "| cores per pod | pods | utilisation | p95 (model) | cost per hour | cost per "
               "audio hour |\n"
               "|---|---|---|---|---|---|\n");
    int rc = 0;
    for (int k = 0; k < ns; k++) {
        if (rpt_service_times(r, p, sh[k].x > 0 ? &sh[k] : NULL, mix, s)) {
            rc = stt_seterr(err, errlen, STT_EINVAL, "cannot derive service times");
            break;
        }
        stt_mgc_params q = stt_mgc_default_params();
        q.servers = sh[k].cores;
        q.service_s = s;
        q.weight = mix->weight;
        q.n = mix->n;
        stt_mgc_result mr = {0};
        int pods = 0;
        for (int n = 1; n <= 100000; n++) {
            q.lambda = rate / n;
            if (stt_mgc_eval(&q, &mr, err, errlen)) break;
            if (mr.stable && mr.t_q <= slo) {
                pods = n;
                break;
            }
            if (mr.stable && q.lambda < 1e-9) break;
        }
        if (!pods) {
            fprintf(
                f,
                "| %d | - | - | objective unreachable (one request alone takes longer) | - | - |\n",
                sh[k].cores);
            continue;
        }
        double gib = isfinite(sh[k].mem_bytes) ? sh[k].mem_bytes / 1073741824.0 : 0;
        double hour = pods * (p->price_core_hour * sh[k].cores + p->price_gib_hour * gib);
        fprintf(f, "| %d | %d | %.0f%% | %.3g s | %.4g | %.4g |\n", sh[k].cores, pods, 100 * mr.rho,
                mr.t_q, hour, hour / (rate * ed));
    }
    free(s);
    if (!rc)
        fprintf(f,
                "\nService times: audio.json fit for profile %s, scaled per shape to cpu.json's "
                "throughput. Projections from a model, not measurements.\n",
                p->profile);
    return rc;
}
