/* report/sec_replicas: horizontal scaling measured: replicas behind a balancer. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* Horizontal scaling measured: replicas as separate hosts behind haproxy,
 * against the queueing model (replicas.json from `sttbench replicas`). */
void rpt_sec_replicas(doc *d, const stt_report *r)
{
    const src *rp = rpt_primary(r, K_REPLICAS);
    rpt_h(d, 2, "Horizontal scaling measured: replicas behind a load balancer");
    if (!rp) return rpt_missing(d, K_REPLICAS);
    const char *skipped = json_string_value(json_object_get(rp->j, "skipped"));
    if (skipped) {
        rpt_para(d, "Not measured on this machine: %s (%s: skipped).", skipped, rp->label);
        return rpt_reproduce(d, K_REPLICAS, rp);
    }
    rpt_para(d,
             "Each replica is sttd in its own network namespace on %s CPU(s) of its own, %s "
             "worker(s), profile %s; haproxy (leastconn, at most one request per worker in each "
             "replica, so that it holds one queue) spreads open-loop Poisson arrivals at %s of the "
             "replicas' capacity; service time measured on one idle replica: mean %s. The "
             "prediction is the planner's M/G/c model with c = replicas x workers.",
             rpt_cite(d, rp, "", "config.cores_per_replica"), rpt_cite(d, rp, "", "config.workers"),
             rpt_jstr_at(rp, "config.profile") ? rpt_jstr_at(rp, "config.profile") : "?",
             rpt_cite(d, rp, "", "config.load"), rpt_cite(d, rp, "s", "service_time.mean_s"));
    rpt_trow(d, 1,
             "replicas|offered req/s|achieved req/s|p50|p95 measured|p95 predicted|model "
             "error|simulated "
             "p95 band of a run this long");
    json_t *pts = json_object_get(rp->j, "points");
    int within = 0, inband = 0, n = (int)json_array_size(pts);
    for (int i = 0; i < n; i++) {
        json_t *pt = json_array_get(pts, (size_t)i);
        within += json_is_true(json_object_get(pt, "within_20pct"));
        inband += json_is_true(rpt_jpath(pt, "simulated.within_band"));
        rpt_trow(d, 0, "%s|%s|%s|%s|%s|%s|%s|%s to %s",
                 rpt_cite(d, rp, "", "points[%d].replicas", i),
                 rpt_cite(d, rp, "", "points[%d].offered_rps", i),
                 rpt_cite(d, rp, "", "points[%d].achieved_rps", i),
                 rpt_cite(d, rp, "s", "points[%d].latency_s.p50", i),
                 rpt_cite(d, rp, "s", "points[%d].latency_s.p95", i),
                 rpt_cite(d, rp, "s", "points[%d].predicted.p95_s", i),
                 rpt_cite(d, rp, "%", "points[%d].p95_error_pct", i),
                 rpt_cite(d, rp, "s", "points[%d].simulated.p95_band_s[0]", i),
                 rpt_cite(d, rp, "s", "points[%d].simulated.p95_band_s[1]", i));
    }
    rpt_para(
        d,
        "%d of %d point(s) within 20%% of the model's p95; %d of %d inside the band where 90%% "
        "of simulated runs of the same length fall.",
        within, n, inband, n);
    if (n >= 2)
        rpt_para(d,
                 "At the same utilisation, the model expects p95 to go from %s with %s replica(s) "
                 "to %s with %s: one queue in front of more servers waits less, so at a given load "
                 "per core more replicas mean shorter tails. Measured: %s and %s.",
                 rpt_cite(d, rp, "s", "points[0].predicted.p95_s"),
                 rpt_cite(d, rp, "", "points[0].replicas"),
                 rpt_cite(d, rp, "s", "points[%d].predicted.p95_s", n - 1),
                 rpt_cite(d, rp, "", "points[%d].replicas", n - 1),
                 rpt_cite(d, rp, "s", "points[0].latency_s.p95"),
                 rpt_cite(d, rp, "s", "points[%d].latency_s.p95", n - 1));
    rpt_para(d, "On a machine with as many cores as replicas the load generator and haproxy share "
                "the replicas' cores; the band, not the 20%% line, says whether a short run agrees "
                "with the model.");
    rpt_reproduce(d, K_REPLICAS, rp);
}
