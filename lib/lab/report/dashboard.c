/* report/dashboard: a Grafana dashboard (JSON model, schemaVersion 39) for
 * sttd's /metrics, one panel per signal of the decision matrix, each drawn
 * against the threshold the deployment was sized with. */
#include <math.h>
#include <stdio.h>

#include "error.h"
#include "internal.h"

#define TX "{route=\"/v1/audio/transcriptions\"}"

typedef struct panel {
    const char *title, *description, *unit;
    const char *expr[2], *legend[2];
    double threshold; /* NaN: none */
} panel;

static json_t *datasource(void)
{
    return json_pack("{s:s, s:s}", "type", "prometheus", "uid", "${datasource}");
}

static json_t *panel_json(const panel *pn, int id, int x, int y)
{
    json_t *targets = json_array();
    for (int i = 0; i < 2 && pn->expr[i]; i++)
        json_array_append_new(targets, json_pack("{s:o, s:s, s:s, s:s}", "datasource", datasource(),
                                                 "expr", pn->expr[i], "legendFormat",
                                                 pn->legend[i] ? pn->legend[i] : "__auto", "refId",
                                                 i ? "B" : "A"));
    json_t *steps = json_array();
    json_array_append_new(steps, json_pack("{s:s, s:n}", "color", "green", "value"));
    if (isfinite(pn->threshold))
        json_array_append_new(steps,
                              json_pack("{s:s, s:f}", "color", "red", "value", pn->threshold));
    json_t *defaults = json_pack("{s:s, s:{s:s, s:o}, s:{s:{s:s}}}", "unit", pn->unit, "thresholds",
                                 "mode", "absolute", "steps", steps, "custom", "thresholdsStyle",
                                 "mode", isfinite(pn->threshold) ? "line" : "off");
    return json_pack("{s:i, s:s, s:s, s:s, s:o, s:{s:i, s:i, s:i, s:i}, s:{s:o, s:[]}, s:o}", "id",
                     id, "type", "timeseries", "title", pn->title, "description", pn->description,
                     "datasource", datasource(), "gridPos", "h", 8, "w", 12, "x", x, "y", y,
                     "fieldConfig", "defaults", defaults, "overrides", "targets", targets);
}

int rpt_write_dashboard(const rpt_deploy *dp, FILE *f)
{
    char d_lat[400], d_inf[400], d_util[500], d_ref[300], d_cpu[300], d_mem[500];
    snprintf(d_lat, sizeof d_lat,
             "p95 of transcription requests against the objective (%s). Above it while "
             "utilisation is under its target: queueing is not the cause; scale up or choose a "
             "faster profile.",
             dp->slo_s > 0 ? dp->slo_source : "none given: set --slo-p95");
    if (isfinite(dp->inflight))
        snprintf(d_inf, sizeof d_inf,
                 "Requests each pod has admitted (uploading, queued or running), the KEDA "
                 "trigger; the line is its threshold %.2f, the model's value at utilisation %.3f.",
                 dp->inflight, dp->rho);
    else
        snprintf(d_inf, sizeof d_inf,
                 "Requests each pod has admitted (uploading, queued or running), the KEDA "
                 "trigger; no service-time model gave it a threshold.");
    snprintf(d_util, sizeof d_util,
             "Busy decoders over decoders. The line is the target utilisation (%s). Above it for "
             "long: scale out.",
             dp->rho_basis);
    snprintf(d_ref, sizeof d_ref,
             "Share of transcriptions answered 503 (the pod's admission full). The line is the "
             "error budget %.2g%%, which --queue %d was sized for.",
             100 * dp->budget, dp->queue);
    snprintf(d_cpu, sizeof d_cpu,
             "CPU of each pod over its request (%d core(s)), what the HPA of hpa.yaml acts on; "
             "the line is the target utilisation.",
             dp->cores);
    snprintf(d_mem, sizeof d_mem, "Working set of each pod against the memory limit (%s).",
             dp->mem_basis);
    char cpu_expr[200];
    snprintf(cpu_expr, sizeof cpu_expr,
             "sum by (pod) (rate(container_cpu_usage_seconds_total{container=\"sttd\"}[5m])) / %d",
             dp->cores);
    const panel panels[] = {
        {"p95 latency against the objective",
         d_lat,
         "s",
         {"histogram_quantile(0.95, sum by (le) (rate(sttd_request_duration_seconds_bucket" TX
          "[5m])))",
          "histogram_quantile(0.50, sum by (le) (rate(sttd_request_duration_seconds_bucket" TX
          "[5m])))"},
         {"p95", "p50"},
         dp->slo_s > 0 ? dp->slo_s : NAN},
        {"Requests in flight per pod (KEDA trigger)",
         d_inf,
         "short",
         {"sum(sttd_requests_in_flight) / count(sttd_workers)",
          "max by (pod) (sttd_requests_in_flight)"},
         {"mean per pod", "{{pod}}"},
         dp->inflight},
        {"Worker utilisation against its target",
         d_util,
         "percentunit",
         {"sum(sttd_workers_busy) / sum(sttd_workers)", NULL},
         {"busy / workers", NULL},
         dp->rho},
        {"Refused (503) share against the error budget",
         d_ref,
         "percentunit",
         {"sum(rate(sttd_requests_total{status=\"503\"}[5m])) / "
          "sum(rate(sttd_requests_total" TX "[5m]))",
          NULL},
         {"503 share", NULL},
         dp->budget},
        {"Queue depth and capacity per pod",
         "Transcriptions admitted and not finished, and how many a pod admits (workers + "
         "queue).",
         "short",
         {"max by (pod) (sttd_queue_depth)", "max(sttd_queue_capacity)"},
         {"{{pod}}", "capacity"},
         NAN},
        {"Queue wait p95",
         "Time a transcription waited for its first decoder: the queueing the model predicts.",
         "s",
         {"histogram_quantile(0.95, sum by (le) (rate(sttd_queue_wait_seconds_bucket[5m])))", NULL},
         {"p95", NULL},
         NAN},
        {"Audio seconds transcribed per second",
         "Throughput in audio seconds per second, over all pods and per pod.",
         "short",
         {"sum(rate(sttd_audio_seconds_total[5m]))",
          "sum by (pod) (rate(sttd_audio_seconds_total[5m]))"},
         {"all pods", "{{pod}}"},
         NAN},
        {"Requests by status",
         "HTTP answers per second by status.",
         "reqps",
         {"sum by (status) (rate(sttd_requests_total[5m]))", NULL},
         {"{{status}}", NULL},
         NAN},
        {"Worker restarts",
         "Decoders replaced after dying, over 15 minutes: any is a fault.",
         "short",
         {"sum(increase(sttd_worker_restarts_total[15m]))", NULL},
         {"restarts", NULL},
         NAN},
        {"Pod CPU over its request (HPA signal)",
         d_cpu,
         "percentunit",
         {cpu_expr, NULL},
         {"{{pod}}", NULL},
         dp->rho},
        {"Pod memory against the limit",
         d_mem,
         "bytes",
         {"max by (pod) (container_memory_working_set_bytes{container=\"sttd\"})", NULL},
         {"{{pod}}", NULL},
         isfinite(dp->mem_bytes) ? ceil(dp->mem_bytes / 1048576.0) * 1048576.0 : NAN},
        {"Pods",
         "Pods serving (reporting sttd_workers).",
         "short",
         {"count(sttd_workers)", NULL},
         {"pods", NULL},
         NAN},
    };
    json_t *ps = json_array();
    int n = (int)(sizeof panels / sizeof panels[0]);
    for (int i = 0; i < n; i++)
        json_array_append_new(ps, panel_json(&panels[i], i + 1, (i % 2) * 12, (i / 2) * 8));
    json_t *templ = json_pack("{s:[{s:s, s:s, s:s, s:s, s:{s:s, s:s}}]}", "list", "name",
                              "datasource", "label", "Prometheus", "type", "datasource", "query",
                              "prometheus", "current", "text", "default", "value", "default");
    json_t *dash = json_pack(
        "{s:s, s:s, s:s, s:[s, s], s:i, s:b, s:s, s:{s:s, s:s}, s:s, s:i, s:o, s:o}", "title",
        "sttd", "uid", "sttd-overview", "description",
        "Generated by sttbench report: one panel per signal of SCALING_STRATEGY.md's decision "
        "matrix, each against the threshold the deployment in deploy/k8s was sized with. Pods "
        "are scraped with their pod label (Kubernetes service discovery); container metrics "
        "come from the kubelet's cAdvisor.",
        "tags", "sttd", "generated", "schemaVersion", 39, "editable", 1, "refresh", "30s", "time",
        "from", "now-3h", "to", "now", "timezone", "utc", "version", 1, "templating", templ,
        "panels", ps);
    if (!dash) return STT_ENOMEM;
    int rc = json_dumpf(dash, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || fputc('\n', f) == EOF;
    json_decref(dash);
    return rc ? STT_EIO : 0;
}
