/* report/sec_replicas: horizontal scaling measured: pods behind a balancer
 * routing per pod, and the planner's model against it. */
#include "internal.h"

#include <math.h>
#include <string.h>

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
    json_t *cells = json_object_get(rp->j, "cells");
    if (!json_is_array(cells)) {
        rpt_para(d,
                 "%s comes from an earlier experiment (one central queue, single unrepeated "
                 "points): it validates nothing the deployment has, and is not used. Re-run it.",
                 rp->label);
        return rpt_reproduce(d, K_REPLICAS, rp);
    }
    rpt_para(d,
             "Each replica is sttd in its own network namespace on %s CPU(s) of its own with %s "
             "worker(s) (profile %s). haproxy sends open-loop Poisson arrivals to a replica "
             "drawn at random per request, with no queue of its own, as a Kubernetes Service "
             "does (random); leastconn with at most one request per worker holds one central "
             "queue instead, for comparison. Each cell ran %s times in interleaved rounds of "
             "%s counted requests. The model is the planner's (per pod M/G/c at rate / pods for "
             "per-pod routing, M/G/(pods x workers) for the central queue), fed with %s.",
             rpt_cite(d, rp, "", "config.cores_per_replica"), rpt_cite(d, rp, "", "config.workers"),
             rpt_jstr_at(rp, "config.profile") ? rpt_jstr_at(rp, "config.profile") : "?",
             rpt_cite(d, rp, "", "config.repeats"), rpt_cite(d, rp, "", "config.requests"),
             rpt_jstr_at(rp, "validation.input") ? rpt_jstr_at(rp, "validation.input") : "?");
    rpt_trow(d, 1,
             "replicas|routing|utilisation|offered req/s|n|p95 measured, median|95%% interval|p95 "
             "predicted|simulated band of the median|verdict");
    for (size_t i = 0; i < json_array_size(cells); i++) {
        json_t *c = json_array_get(cells, i);
        char ci[1700], band[1700];
        snprintf(ci, sizeof ci, "%s to %s", rpt_cite(d, rp, "s", "cells[%zu].p95_s.ci[0]", i),
                 rpt_cite(d, rp, "s", "cells[%zu].p95_s.ci[1]", i));
        snprintf(band, sizeof band, "%s to %s",
                 rpt_cite(d, rp, "s", "cells[%zu].simulated.median_band_s[0]", i),
                 rpt_cite(d, rp, "s", "cells[%zu].simulated.median_band_s[1]", i));
        rpt_trow(d, 0, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
                 rpt_cite(d, rp, "", "cells[%zu].replicas", i),
                 json_string_value(json_object_get(c, "routing")) ?: "?",
                 rpt_cite(d, rp, "", "cells[%zu].load", i),
                 rpt_cite(d, rp, "", "cells[%zu].offered_rps", i),
                 rpt_cite(d, rp, "", "cells[%zu].p95_s.n", i),
                 rpt_cite(d, rp, "s", "cells[%zu].p95_s.median", i), ci,
                 rpt_cite(d, rp, "s", "cells[%zu].predicted.p95_s", i), band,
                 json_string_value(json_object_get(c, "verdict")) ?: "?");
    }
    json_t *diffs = json_object_get(rp->j, "routing_difference");
    for (size_t i = 0; i < json_array_size(diffs); i++) {
        json_t *x = json_array_get(diffs, i);
        rpt_li(d, "%s replicas at utilisation %s: %s",
               rpt_cite(d, rp, "", "routing_difference[%zu].replicas", i),
               rpt_cite(d, rp, "", "routing_difference[%zu].load", i),
               json_string_value(json_object_get(x, "summary")) ?: "");
    }
    rpt_para(d,
             "Per-pod routing: %s of %s cell(s) inside the band where the median of as many "
             "simulated runs of the exact fleet falls. The largest upper end of measured over "
             "predicted p95 is %s: the deployment's model margin (the target utilisation is "
             "chosen with it).",
             rpt_cite(d, rp, "", "validation.agree"), rpt_cite(d, rp, "", "validation.cells"),
             rpt_cite(d, rp, "", "validation.margin_factor"));
    rpt_para(d, "Where the replicas take every CPU, the load generator and haproxy share them "
                "(config.harness_cpus): a short run on a small machine measures the model and "
                "the harness together; the band, not a fixed tolerance, says whether it agrees.");
    rpt_reproduce(d, K_REPLICAS, rp);
}
