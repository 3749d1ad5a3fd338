/* replicas_model: what the trials of `sttbench replicas` say about the
 * planner's model: per cell the measured p95 with its interval, the model's
 * prediction, the simulated band, and the verdicts. See replicas.h. No I/O. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "queueing.h"
#include "replicas.h"
#include "results.h"
#include "stats.h"

#define MAXCELLS 256
#define MAXTRIALS 100 /* per cell */

typedef struct acell {
    int replicas;
    stt_routing routing;
    double load;
    double p95[MAXTRIALS];
    int n;            /* trials with a supported p95 */
    int trials;       /* all trials */
    long long errors; /* over the trials */
    double offered, warmup_s;
    double offered_sum, warmup_sum;
    double slowdown_sum;
    int slowdown_n;
} acell;

static double num(const json_t *o, const char *k)
{
    return stt_results_get_num(o, k);
}

static int cell_cmp(const void *a, const void *b)
{
    const acell *x = a, *y = b;
    if (x->replicas != y->replicas) return x->replicas - y->replicas;
    /* per-pod routings first: they are what the deployment has */
    int rx = x->routing == STT_ROUTING_CENTRAL, ry = y->routing == STT_ROUTING_CENTRAL;
    if (rx != ry) return rx - ry;
    if (x->routing != y->routing) return (int)x->routing - (int)y->routing;
    return (x->load > y->load) - (x->load < y->load);
}

static json_t *interval_json(const stt_summary *s)
{
    return json_pack("{s:i, s:o, s:[o, o], s:o}", "n", (int)s->n, "median",
                     stt_results_num(s->median), "ci", stt_results_num(s->median_ci.lo),
                     stt_results_num(s->median_ci.hi), "coverage",
                     stt_results_num(s->median_ci.coverage));
}

static json_t *pred_json(const stt_mgc_result *r, double lambda, const char *input)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "input", input, "lambda_rps",
                     stt_results_num(lambda), "p95_s", stt_results_num(r->t_q), "mean_s",
                     stt_results_num(r->t_mean), "rho", stt_results_num(r->rho), "p_wait",
                     stt_results_num(r->p_wait), "cs2", stt_results_num(r->cs2), "stable",
                     r->stable);
}

/* The service-time input: the planner's single value when there is one,
 * else the measured samples. *svc is malloc'd; returns how many. */
static size_t service_input(const json_t *st, double **svc, const char **which)
{
    const json_t *pl = json_object_get(st, "planner");
    double s = num(pl, "service_s");
    if (s > 0) {
        *svc = malloc(sizeof **svc);
        if (!*svc) return 0;
        (*svc)[0] = s;
        *which = "planner (audio.json fit)";
        return 1;
    }
    *which = "measured service times (idle pod)";
    const json_t *samples = json_object_get(json_object_get(st, "measured"), "samples");
    size_t n = json_array_size(samples), k = 0;
    *svc = n ? malloc(n * sizeof **svc) : NULL;
    for (size_t i = 0; *svc && i < n; i++) {
        double v = json_number_value(json_array_get(samples, i));
        if (v > 0 && isfinite(v)) (*svc)[k++] = v;
    }
    return k;
}

static size_t measured_input(const json_t *st, double **svc)
{
    const json_t *samples = json_object_get(json_object_get(st, "measured"), "samples");
    size_t n = json_array_size(samples), k = 0;
    *svc = n ? malloc(n * sizeof **svc) : NULL;
    for (size_t i = 0; *svc && i < n; i++) {
        double v = json_number_value(json_array_get(samples, i));
        if (v > 0 && isfinite(v)) (*svc)[k++] = v;
    }
    return k;
}

/* Collects the trials into cells; returns how many, or -1 on a bad trial. */
static int collect(const json_t *trials, acell *cells, int max)
{
    int nc = 0;
    for (size_t i = 0; i < json_array_size(trials); i++) {
        const json_t *t = json_array_get(trials, i);
        int k = (int)num(t, "replicas");
        int r = stt_routing_of(json_string_value(json_object_get(t, "routing")));
        double load = num(t, "load");
        if (k < 1 || r < 0 || !(load > 0)) return -1;
        acell *c = NULL;
        for (int j = 0; j < nc && !c; j++)
            if (cells[j].replicas == k && cells[j].routing == (stt_routing)r &&
                cells[j].load == load)
                c = &cells[j];
        if (!c) {
            if (nc == max) return -1;
            c = &cells[nc++];
            memset(c, 0, sizeof *c);
            c->replicas = k;
            c->routing = (stt_routing)r;
            c->load = load;
        }
        c->trials++;
        c->offered_sum += num(t, "offered_rps");
        c->warmup_sum += num(t, "warmup_s");
        double e = num(t, "errors");
        c->errors += isfinite(e) ? (long long)e : 0;
        double sl = num(t, "service_slowdown");
        if (isfinite(sl)) {
            c->slowdown_sum += sl;
            c->slowdown_n++;
        }
        const json_t *lat = json_object_get(t, "latency_s");
        double p95 = num(lat, "p95");
        if (json_is_true(json_object_get(lat, "p95_supported")) && isfinite(p95) &&
            c->n < MAXTRIALS)
            c->p95[c->n++] = p95;
    }
    for (int j = 0; j < nc; j++) {
        cells[j].offered = cells[j].offered_sum / cells[j].trials;
        cells[j].warmup_s = cells[j].warmup_sum / cells[j].trials;
    }
    return nc;
}

/* Where the measured median lies against the simulated band of medians. */
static const char *band_verdict(double median, double lo, double hi)
{
    if (!isfinite(median) || !isfinite(lo) || !isfinite(hi)) return "undetermined";
    if (median < lo) return "faster than the model";
    if (median > hi) return "slower than the model";
    return "agrees";
}

int stt_replicas_analyse(json_t *doc, char *err, size_t errlen)
{
    const json_t *cfg = json_object_get(doc, "config");
    const json_t *st = json_object_get(doc, "service_time");
    const json_t *trials = json_object_get(doc, "trials");
    int workers = (int)num(cfg, "workers"), requests = (int)num(cfg, "requests");
    int sim_runs = (int)num(cfg, "sim_runs");
    double seedv = num(cfg, "seed");
    if (!json_is_array(trials) || workers < 1 || requests < 1 || !st)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "replicas.json needs config.workers, config.requests, service_time and "
                          "trials");
    if (sim_runs < 100) sim_runs = 2000;
    unsigned long seed = isfinite(seedv) ? (unsigned long)seedv : 1;
    acell *cells = calloc(MAXCELLS, sizeof *cells);
    if (!cells) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    int nc = collect(trials, cells, MAXCELLS);
    double *svc = NULL, *meas = NULL;
    const char *which = NULL;
    size_t ns = service_input(st, &svc, &which), nm = measured_input(st, &meas);
    int planner = num(json_object_get(st, "planner"), "service_s") > 0;
    int rc = 0;
    if (nc < 0) rc = stt_seterr(err, errlen, STT_EINVAL, "a trial lacks replicas, routing or load");
    if (!rc && ns == 0)
        rc = stt_seterr(err, errlen, STT_EINVAL, "no service time to feed the model with");
    if (rc) {
        free(svc);
        free(meas);
        free(cells);
        return rc;
    }
    qsort(cells, (size_t)nc, sizeof *cells, cell_cmp);

    json_t *jcells = json_array();
    double worst_hi = NAN;
    int perpod = 0, agree = 0;
    stt_summary *sums = calloc((size_t)nc + 1, sizeof *sums);
    stt_mgc_result *preds = calloc((size_t)nc + 1, sizeof *preds);
    for (int i = 0; i < nc && sums && preds; i++) {
        acell *c = &cells[i];
        stt_fleet_params f = stt_fleet_default_params();
        f.pods = c->replicas;
        f.routing = c->routing;
        f.pod.servers = workers;
        f.pod.lambda = c->offered;
        f.pod.service_s = svc;
        f.pod.n = ns;
        stt_mgc_result pr = {0}, pm = {0};
        if ((rc = stt_fleet_eval(&f, &pr, err, errlen))) break;
        preds[i] = pr;
        json_t *jc = json_pack(
            "{s:i, s:s, s:o, s:i, s:o, s:o, s:i, s:I}", "replicas", c->replicas, "routing",
            stt_routing_name(c->routing), "load", stt_results_num(c->load), "servers",
            c->replicas * workers, "offered_rps", stt_results_num(c->offered), "warmup_s",
            stt_results_num(c->warmup_s), "trials", c->trials, "errors", (json_int_t)c->errors);
        json_object_set_new(jc, "predicted", pred_json(&pr, c->offered, which));
        if (planner && nm) {
            stt_fleet_params g = f;
            g.pod.service_s = meas;
            g.pod.n = nm;
            if (stt_fleet_eval(&g, &pm, NULL, 0) == 0)
                json_object_set_new(jc, "predicted_measured_input",
                                    pred_json(&pm, c->offered, "measured service times"));
        }
        stt_summary s = {0};
        int have = c->n > 0 && stt_stats_summarize(c->p95, (size_t)c->n, 0.95, &s) == 0;
        sums[i] = s;
        json_object_set_new(jc, "p95_s", have ? interval_json(&s) : json_null());
        /* The exact fleet, as long as the trials and as often repeated. */
        stt_fleet_sim sim = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        if (pr.stable && c->offered > 0) {
            stt_fleet_sim_params sp = stt_fleet_sim_default_params();
            sp.requests = requests;
            sp.warmup_s = c->warmup_s > 0 ? c->warmup_s : 0;
            sp.runs = sim_runs;
            sp.group = c->n > 0 ? c->n : 1;
            sp.seed = seed + (unsigned long)i * 104729UL;
            if ((rc = stt_fleet_simulate(&f, &sp, &sim, err, errlen))) break;
        }
        json_object_set_new(
            jc, "simulated",
            json_pack("{s:i, s:i, s:[o, o], s:[o, o], s:o, s:o}", "runs", sim_runs, "group",
                      c->n > 0 ? c->n : 1, "run_band_s", stt_results_num(sim.lo),
                      stt_results_num(sim.hi), "median_band_s", stt_results_num(sim.group_lo),
                      stt_results_num(sim.group_hi), "median_s", stt_results_num(sim.mid),
                      "steady_p95_s", stt_results_num(sim.steady)));
        /* measured over predicted, per trial */
        double ratio[MAXTRIALS];
        int nr = 0;
        for (int t = 0; t < c->n && isfinite(pr.t_q) && pr.t_q > 0; t++)
            ratio[nr++] = c->p95[t] / pr.t_q;
        stt_summary rs = {0};
        int have_r = nr > 0 && stt_stats_summarize(ratio, (size_t)nr, 0.95, &rs) == 0;
        json_object_set_new(jc, "ratio", have_r ? interval_json(&rs) : json_null());
        const char *bv = have ? band_verdict(s.median, sim.group_lo, sim.group_hi) : "not measured";
        stt_side side = have_r ? stt_stats_side(&rs.median_ci, 1.0) : STT_UNDETERMINED;
        json_object_set_new(jc, "verdict", json_string(bv));
        json_object_set_new(jc, "against_prediction",
                            json_string(!have_r             ? "undetermined"
                                        : side == STT_BELOW ? "below the prediction"
                                        : side == STT_ABOVE ? "above the prediction"
                                                            : "interval contains the prediction"));
        if (c->slowdown_n)
            json_object_set_new(jc, "service_slowdown",
                                stt_results_num(c->slowdown_sum / c->slowdown_n));
        if (c->routing != STT_ROUTING_CENTRAL && have) {
            perpod++;
            agree += !strcmp(bv, "agrees");
            if (have_r && !(rs.median_ci.hi <= worst_hi)) worst_hi = rs.median_ci.hi;
        }
        json_array_append_new(jcells, jc);
        if (have) {
            char name[128];
            snprintf(name, sizeof name, "p95_s/%s/k=%d/rho=%.2f", stt_routing_name(c->routing),
                     c->replicas, c->load);
            stt_results_add_metric(doc, name, "s", 0, c->p95, (size_t)c->n);
        }
    }
    if (!sums || !preds) rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");

    /* random (or round robin) against the central queue at the same cell */
    json_t *diffs = json_array();
    for (int i = 0; !rc && i < nc; i++) {
        if (cells[i].routing != STT_ROUTING_CENTRAL || cells[i].n < 2) continue;
        for (int j = 0; j < nc; j++) {
            const acell *a = &cells[i], *b = &cells[j];
            if (b->routing == STT_ROUTING_CENTRAL || b->replicas != a->replicas ||
                b->load != a->load || b->n < 2)
                continue;
            double ratio = NAN, u, pval = NAN;
            stt_interval ci = {NAN, NAN, NAN};
            stt_stats_ratio_ci(a->p95, (size_t)a->n, b->p95, (size_t)b->n, 0.95, 2000,
                               seed + (unsigned long)i, &ratio, &ci);
            stt_stats_mann_whitney(a->p95, (size_t)a->n, b->p95, (size_t)b->n, &u, &pval);
            double pred = preds[j].t_q / preds[i].t_q;
            int nmin = a->n < b->n ? a->n : b->n;
            stt_side side = stt_stats_side(&ci, 1.0);
            char sum[400];
            if (nmin < 5)
                snprintf(sum, sizeof sum,
                         "%s p95 / leastconn p95 = %.2f [%.2f, %.2f] (model %.2f): undetermined "
                         "at n = %d (a comparison needs n >= 5 each)",
                         stt_routing_name(b->routing), ratio, ci.lo, ci.hi, pred, nmin);
            else
                snprintf(sum, sizeof sum,
                         "%s p95 / leastconn p95 = %.2f [%.2f, %.2f] (model %.2f, Mann-Whitney "
                         "p %.3f): %s",
                         stt_routing_name(b->routing), ratio, ci.lo, ci.hi, pred, pval,
                         side == STT_ABOVE   ? "per-pod routing waits longer (established)"
                         : side == STT_BELOW ? "per-pod routing waits less (established)"
                                             : "no difference established at this n");
            json_array_append_new(
                diffs, json_pack("{s:i, s:o, s:s, s:s, s:o, s:[o, o], s:o, s:o, s:i, s:s, s:s}",
                                 "replicas", a->replicas, "load", stt_results_num(a->load),
                                 "routing", stt_routing_name(b->routing), "against", "leastconn",
                                 "ratio", stt_results_num(ratio), "ci", stt_results_num(ci.lo),
                                 stt_results_num(ci.hi), "predicted_ratio", stt_results_num(pred),
                                 "mann_whitney_p", stt_results_num(pval), "n", nmin, "verdict",
                                 nmin < 5 ? "undetermined" : stt_side_name(side), "summary", sum));
        }
    }
    json_object_set_new(doc, "routing_difference", diffs);

    double margin = isfinite(worst_hi) && worst_hi > 1 ? worst_hi : 1.0;
    char vs[600];
    snprintf(vs, sizeof vs,
             "Per-pod routing: %d of %d cell(s) inside the simulated band of the median of their "
             "repeats; the model was fed the %s. Measured p95 over predicted, upper end of the "
             "intervals: %.2f; the deployment's margin factor: %.2f.",
             agree, perpod, which, worst_hi, margin);
    json_object_set_new(doc, "validation",
                        json_pack("{s:s, s:b, s:i, s:i, s:o, s:o, s:s}", "input", which,
                                  "planner_input", planner, "cells", perpod, "agree", agree,
                                  "ratio_hi", stt_results_num(worst_hi), "margin_factor",
                                  stt_results_num(margin), "summary", vs));
    json_object_set_new(doc, "cells", jcells);
    free(sums);
    free(preds);
    free(svc);
    free(meas);
    free(cells);
    return rc;
}
