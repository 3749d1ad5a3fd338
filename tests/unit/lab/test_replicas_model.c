/* replicas_model: the analysis of the trials of `sttbench replicas`, on
 * trials made up with a known answer: cells and their intervals, the verdicts
 * against the model and the simulated band, random against leastconn, the
 * validation's margin, and the metrics. */
#include <math.h>
#include <string.h>

#include "error.h"
#include "replicas.h"
#include "results.h"
#include "testlib.h"

static void add_trial(json_t *trials, int k, const char *routing, double load, double offered,
                      double p95)
{
    json_array_append_new(trials,
                          json_pack("{s:i, s:s, s:f, s:f, s:f, s:i, s:f, s:{s:f, s:b}}", "replicas",
                                    k, "routing", routing, "load", load, "offered_rps", offered,
                                    "warmup_s", 1.0, "errors", 0, "service_slowdown", 1.1,
                                    "latency_s", "p95", p95, "p95_supported", 1));
}

/* The model's p95 for k pods of one worker at load with a 1 s service. */
static double model_p95(int k, stt_routing r, double load)
{
    double one = 1.0;
    stt_fleet_params f = stt_fleet_default_params();
    f.pods = k;
    f.routing = r;
    f.pod.lambda = load * k;
    f.pod.service_s = &one;
    f.pod.n = 1;
    stt_mgc_result m;
    return stt_fleet_eval(&f, &m, NULL, 0) == 0 ? m.t_q : NAN;
}

static json_t *made_up(int planner)
{
    json_t *doc = stt_results_new(STT_RESULTS_REPLICAS, "replicas",
                                  json_pack("{s:i, s:i, s:i, s:i, s:I}", "workers", 1, "requests",
                                            40, "repeats", 5, "sim_runs", 300, "seed", 7));
    json_t *samples = json_pack("[f, f, f, f, f]", 1.0, 1.0, 1.0, 1.0, 1.0);
    json_object_set_new(doc, "service_time",
                        json_pack("{s:{s:o}, s:o}", "measured", "samples", samples, "planner",
                                  planner ? json_pack("{s:f}", "service_s", 1.0) : json_null()));
    json_t *trials = json_array();
    const double jitter[5] = {0.9, 1.0, 1.1, 0.95, 1.05};
    /* trials listed out of order: the cells come sorted */
    for (int i = 0; i < 5; i++) {
        add_trial(trials, 2, "leastconn", 0.7, 1.4,
                  0.6 * model_p95(2, STT_ROUTING_RANDOM, 0.7) * jitter[i]);
        add_trial(trials, 2, "random", 0.7, 1.4, model_p95(2, STT_ROUTING_RANDOM, 0.7) * jitter[i]);
        add_trial(trials, 1, "random", 0.5, 0.5, 3.0 * model_p95(1, STT_ROUTING_RANDOM, 0.5));
    }
    json_object_set_new(doc, "trials", trials);
    return doc;
}

static const json_t *cell(const json_t *doc, int i)
{
    return json_array_get(json_object_get(doc, "cells"), (size_t)i);
}

static void test_cells_and_verdicts(void)
{
    json_t *doc = made_up(1);
    char err[256] = "";
    REQUIRE(stt_replicas_analyse(doc, err, sizeof err) == 0);
    REQUIRE(json_array_size(json_object_get(doc, "cells")) == 3);
    const json_t *c0 = cell(doc, 0), *c1 = cell(doc, 1), *c2 = cell(doc, 2);
    CHECK(json_integer_value(json_object_get(c0, "replicas")) == 1);
    CHECK_STR_EQ(json_string_value(json_object_get(c1, "routing")), "random");
    CHECK_STR_EQ(json_string_value(json_object_get(c2, "routing")), "leastconn");
    /* every p95 three times the model: slower than the model, above it */
    CHECK_STR_EQ(json_string_value(json_object_get(c0, "verdict")), "slower than the model");
    CHECK_STR_EQ(json_string_value(json_object_get(c0, "against_prediction")),
                 "above the prediction");
    /* p95s around the prediction: its interval holds it */
    CHECK_STR_EQ(json_string_value(json_object_get(c1, "against_prediction")),
                 "interval contains the prediction");
    const json_t *p95 = json_object_get(c1, "p95_s");
    CHECK(json_integer_value(json_object_get(p95, "n")) == 5);
    const json_t *ci = json_object_get(p95, "ci");
    double lo = json_number_value(json_array_get(ci, 0)),
           hi = json_number_value(json_array_get(ci, 1));
    CHECK(lo < hi);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(c1, "predicted"), "input")),
                 "planner (audio.json fit)");
    CHECK(json_object_get(c1, "predicted_measured_input") != NULL);
    const json_t *band = json_object_get(json_object_get(c1, "simulated"), "median_band_s");
    CHECK(json_number_value(json_array_get(band, 0)) < json_number_value(json_array_get(band, 1)));
    /* the central queue's model is lower than per-pod routing's at the same rho */
    CHECK(stt_results_get_num(json_object_get(c2, "predicted"), "p95_s") <
          stt_results_get_num(json_object_get(c1, "predicted"), "p95_s"));
    json_decref(doc);
}

static void test_routing_difference_and_validation(void)
{
    json_t *doc = made_up(0);
    REQUIRE(stt_replicas_analyse(doc, NULL, 0) == 0);
    const json_t *d = json_array_get(json_object_get(doc, "routing_difference"), 0);
    REQUIRE(d);
    /* random p95 / leastconn p95 = 1 / 0.6, every sample apart: established */
    CHECK(fabs(stt_results_get_num(d, "ratio") - 1 / 0.6) < 0.05);
    CHECK_STR_EQ(json_string_value(json_object_get(d, "verdict")), "above");
    CHECK(strstr(json_string_value(json_object_get(d, "summary")), "established") != NULL);
    const json_t *v = json_object_get(doc, "validation");
    CHECK(json_is_false(json_object_get(v, "planner_input")));
    CHECK(json_integer_value(json_object_get(v, "cells")) == 2); /* per-pod cells only */
    /* the 1-replica cell measured 3x the model: the margin says so */
    CHECK(stt_results_get_num(v, "margin_factor") >= 3.0 - 1e-9);
    stt_results_metric *m = NULL;
    size_t nm = 0;
    REQUIRE(stt_results_metrics_read(doc, &m, &nm, NULL, NULL, NULL, 0) == 0);
    CHECK(nm == 3);
    int found = 0;
    for (size_t i = 0; i < nm; i++)
        found |= !strcmp(m[i].name, "p95_s/random/k=2/rho=0.70") && m[i].n == 5;
    CHECK(found);
    stt_results_metrics_free(m, nm, NULL, 0);
    json_decref(doc);
}

/* Fewer than five repeats: no verdict on the routing, and the reason. */
static void test_small_n_is_undetermined(void)
{
    json_t *doc = made_up(0);
    json_t *trials = json_object_get(doc, "trials");
    while (json_array_size(trials) > 9)
        json_array_remove(trials, json_array_size(trials) - 1);
    REQUIRE(stt_replicas_analyse(doc, NULL, 0) == 0);
    const json_t *d = json_array_get(json_object_get(doc, "routing_difference"), 0);
    REQUIRE(d);
    CHECK_STR_EQ(json_string_value(json_object_get(d, "verdict")), "undetermined");
    CHECK(strstr(json_string_value(json_object_get(d, "summary")), "n >= 5") != NULL);
    json_decref(doc);
}

static void test_missing_parts(void)
{
    json_t *doc = json_object();
    char err[256] = "";
    CHECK(stt_replicas_analyse(doc, err, sizeof err) == STT_EINVAL && err[0]);
    json_decref(doc);
    doc = made_up(0);
    json_object_set_new(json_object_get(doc, "service_time"), "measured", json_object());
    CHECK(stt_replicas_analyse(doc, err, sizeof err) == STT_EINVAL);
    json_decref(doc);
}

int main(void)
{
    TEST_RUN(test_cells_and_verdicts);
    TEST_RUN(test_routing_difference_and_validation);
    TEST_RUN(test_small_n_is_undetermined);
    TEST_RUN(test_missing_parts);
    return test_summary();
}
