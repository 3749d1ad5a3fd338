/* shapes_model: the pod-shape choice on shapes with known answers: the
 * objective filters first, then the cost; how sure it is; the memory price
 * at which it turns; the verdict on scaling up or out; reading shapes.json. */
#include <math.h>
#include <string.h>

#include "error.h"
#include "results.h"
#include "shapes.h"
#include "testlib.h"

static stt_shape make(int pods, int cores, double thr, double p95, double mem_mib, int n)
{
    stt_shape s = {.pods = pods, .cores = cores, .mem_bytes = mem_mib * 1048576.0, .ok = 1};
    const double jitter[7] = {1.0, 0.99, 1.01, 0.995, 1.005, 0.998, 1.002};
    for (int i = 0; i < n; i++) {
        s.thr[s.nthr++] = thr * jitter[i % 7];
        s.p95[s.np95++] = p95 * jitter[(i + 3) % 7];
    }
    return s;
}

static void test_cheapest_under_the_objective(void)
{
    stt_shape s[2] = {make(1, 2, 10.0, 1.0, 400, 5), make(2, 1, 11.0, 3.0, 300, 5)};
    stt_shapes_prices pr = {0.04, 0.005};
    stt_shapes_choice c;
    REQUIRE(stt_shapes_choose(s, 2, &pr, 0, &c) == 0);
    CHECK(c.chosen == 1); /* no objective: 11 audio s/s for the same cores is cheaper */
    CHECK_STR_EQ(c.confidence, "established");
    CHECK(c.runner_up == 0 && c.ratio > 1 && c.ratio_lo > 1);
    REQUIRE(stt_shapes_choose(s, 2, &pr, 2.0, &c) == 0);
    CHECK(c.chosen == 0 && c.meets); /* the 2x1's short requests wait 3 s */
    CHECK(c.v[1].slo == 1 && !c.v[1].eligible && c.v[0].slo == -1);
    REQUIRE(stt_shapes_choose(s, 2, &pr, 0.5, &c) == 0);
    CHECK(c.chosen == 0 && !c.meets); /* none meets it: the shortest tail */
    CHECK_STR_EQ(c.confidence, "undetermined");
    CHECK(strstr(c.basis, "no shape meets") != NULL);
}

/* Costs within each other's interval: no verdict on the cost. */
static void test_close_costs_are_undetermined(void)
{
    stt_shape s[2] = {make(1, 2, 10.0, 1.0, 600, 5), make(2, 1, 10.02, 1.0, 300, 5)};
    stt_shapes_prices pr = {0.04, 0.005};
    stt_shapes_choice c;
    REQUIRE(stt_shapes_choose(s, 2, &pr, 0, &c) == 0);
    CHECK_STR_EQ(c.confidence, "undetermined");
    /* three repeats: at best likely; one: undetermined whatever the ratio */
    stt_shape t[2] = {make(1, 2, 10.0, 1.0, 300, 3), make(2, 1, 12.0, 1.0, 300, 3)};
    REQUIRE(stt_shapes_choose(t, 2, &pr, 0, &c) == 0);
    CHECK_STR_EQ(c.confidence, "likely");
    stt_shape u[2] = {make(1, 2, 10.0, 1.0, 300, 1), make(2, 1, 12.0, 1.0, 300, 1)};
    REQUIRE(stt_shapes_choose(u, 2, &pr, 0, &c) == 0);
    CHECK_STR_EQ(c.confidence, "undetermined");
}

/* One big pod uses less memory per core; two small ones more throughput:
 * dear memory turns the choice, at the break-even price. */
static void test_price_sensitivity(void)
{
    stt_shape s[2] = {make(1, 2, 10.0, 1.0, 400, 5), make(2, 1, 10.5, 1.0, 400, 5)};
    stt_shapes_prices pr = {0.04, 0.005};
    stt_shapes_choice c;
    REQUIRE(stt_shapes_choose(s, 2, &pr, 0, &c) == 0);
    CHECK(c.chosen == 1);
    /* (C + r M_a) / X_a = (C + r M_b) / X_b: r = 2 (1/10 - 1/10.5) / (0.78/10.5 - 0.39/10) */
    double ma = 2 * 400 / 1024.0, mb = 400 / 1024.0;
    double r = 2 * (1 / 10.0 - 1 / 10.5) / (ma / 10.5 - mb / 10.0);
    CHECK(fabs(c.breakeven_gib_hour - r * 0.04) < 1e-3 * r * 0.04);
    CHECK(c.at_scale[0] == 1); /* free memory: the faster */
    stt_shapes_prices dear = {0.04, 2 * r * 0.04};
    REQUIRE(stt_shapes_choose(s, 2, &dear, 0, &c) == 0);
    CHECK(c.chosen == 0);
}

static const char *reason(const json_t *v, size_t i)
{
    return json_string_value(json_array_get(json_object_get(v, "reasons"), i));
}

/* The verdict follows the data: a different cheapest shape, a different
 * answer; the objective and the prices bound how sure it is. */
static void test_scale_verdict(void)
{
    stt_shapes_prices pr = {0.04, 0.005};
    stt_shapes_choice c;
    stt_shape up[2] = {make(1, 2, 12.0, 1.0, 400, 5), make(2, 1, 9.0, 1.5, 300, 5)};
    REQUIRE(stt_shapes_choose(up, 2, &pr, 2.0, &c) == 0);
    json_t *v = stt_shapes_verdict(up, 2, &c, 2.0);
    REQUIRE(v);
    CHECK_STR_EQ(json_string_value(json_object_get(v, "question")), "scale");
    CHECK(strstr(json_string_value(json_object_get(v, "answer")), "Scale up first") != NULL);
    CHECK(json_integer_value(json_object_get(v, "cores_per_pod")) == 2);
    CHECK_STR_EQ(json_string_value(json_object_get(v, "confidence")), "established");
    json_t *f = json_object_get(v, "figure");
    CHECK(fabs(json_real_value(json_object_get(f, "value")) - c.ratio) < 1e-4 * c.ratio);
    CHECK(json_integer_value(json_object_get(f, "n")) == 5);
    CHECK(strstr(reason(v, 0), "2x1") && strstr(reason(v, 1), "under it"));
    json_decref(v);
    /* the other way round: out */
    stt_shape out[2] = {make(1, 2, 9.0, 1.0, 400, 5), make(2, 1, 12.0, 1.5, 300, 5)};
    REQUIRE(stt_shapes_choose(out, 2, &pr, 2.0, &c) == 0);
    v = stt_shapes_verdict(out, 2, &c, 2.0);
    CHECK(strstr(json_string_value(json_object_get(v, "answer")), "Scale out") != NULL);
    CHECK(json_integer_value(json_object_get(v, "cores_per_pod")) == 1);
    json_decref(v);
    /* no objective: at best likely, and it says what would settle it */
    REQUIRE(stt_shapes_choose(out, 2, &pr, 0, &c) == 0);
    v = stt_shapes_verdict(out, 2, &c, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(v, "confidence")), "likely");
    CHECK(strstr(json_string_value(json_object_get(v, "to_confirm")), "--slo-p95") != NULL);
    json_decref(v);
    /* costs too close to call: undetermined, more rounds */
    stt_shape close[2] = {make(1, 2, 10.0, 1.0, 600, 5), make(2, 1, 10.02, 1.0, 300, 5)};
    REQUIRE(stt_shapes_choose(close, 2, &pr, 2.0, &c) == 0);
    v = stt_shapes_verdict(close, 2, &c, 2.0);
    CHECK_STR_EQ(json_string_value(json_object_get(v, "confidence")), "undetermined");
    CHECK(strstr(json_string_value(json_object_get(v, "to_confirm")), "--repeats") != NULL);
    json_decref(v);
    /* nothing meets the objective */
    REQUIRE(stt_shapes_choose(up, 2, &pr, 0.5, &c) == 0);
    v = stt_shapes_verdict(up, 2, &c, 0.5);
    CHECK(strstr(json_string_value(json_object_get(v, "answer")), "No measured shape") != NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(v, "confidence")), "undetermined");
    json_decref(v);
    /* the other shape is over the objective: it is out, and the chosen one's
     * tail decides */
    stt_shape over[2] = {make(1, 2, 10.0, 1.0, 400, 5), make(2, 1, 12.0, 3.0, 300, 5)};
    REQUIRE(stt_shapes_choose(over, 2, &pr, 2.0, &c) == 0);
    REQUIRE(c.chosen == 0 && c.runner_up == -1);
    v = stt_shapes_verdict(over, 2, &c, 2.0);
    CHECK(strstr(reason(v, 0), "2x1: short requests' p95 3") != NULL);
    CHECK(strstr(reason(v, 0), "over the objective, so it is out") != NULL);
    f = json_object_get(v, "figure");
    CHECK(strstr(json_string_value(json_object_get(f, "name")), "p95 on 1x2") != NULL);
    CHECK(json_integer_value(json_object_get(f, "n")) == 5);
    json_decref(v);
    /* a choice that turns with the memory price is at best likely */
    stt_shape s[2] = {make(1, 2, 10.0, 1.0, 400, 5), make(2, 1, 10.5, 1.0, 400, 5)};
    REQUIRE(stt_shapes_choose(s, 2, &pr, 0, &c) == 0);
    stt_shapes_prices near = {0.04, 0.5 * c.breakeven_gib_hour};
    REQUIRE(stt_shapes_choose(s, 2, &near, 2.0, &c) == 0);
    v = stt_shapes_verdict(s, 2, &c, 2.0);
    CHECK(strstr(reason(v, 2), "turns to") != NULL);
    CHECK(strcmp(json_string_value(json_object_get(v, "confidence")), "established") != 0);
    json_decref(v);
    CHECK(stt_shapes_verdict(s, 0, &c, 0) == NULL);
}

/* The same measurements judged again: a verdict, marked as rejudged; a
 * document without shapes is refused. */
static void test_rejudge(void)
{
    json_t *doc = json_load_file(STT_SOURCE_DIR "/tests/data/results/shapes/shapes.json", 0, NULL);
    REQUIRE(doc);
    char err[256] = "";
    REQUIRE(stt_shapes_rejudge(doc, err, sizeof err) == 0);
    json_t *v = json_object_get(doc, "verdict");
    CHECK_STR_EQ(json_string_value(json_object_get(v, "question")), "scale");
    CHECK(json_string_value(json_object_get(v, "answer")) != NULL);
    CHECK(json_is_object(json_object_get(doc, "choice")));
    CHECK(json_string_value(json_object_get(doc, "rejudged")) != NULL);
    json_decref(doc);
    json_t *empty = json_pack("{s:[]}", "shapes");
    CHECK(stt_shapes_rejudge(empty, err, sizeof err) == STT_EINVAL);
    json_decref(empty);
}

static void test_read_and_bad_input(void)
{
    json_t *doc = json_load_file(STT_SOURCE_DIR "/tests/data/results/shapes/shapes.json", 0, NULL);
    REQUIRE(doc);
    stt_shape s[STT_SHAPES_MAX];
    int n = stt_shapes_read(doc, s, STT_SHAPES_MAX);
    CHECK(n == 3);
    CHECK(s[0].pods == 1 && s[0].cores == 4 && s[0].nthr == 5 && s[0].np95 == 5 && s[0].ok);
    CHECK(s[2].mem_bytes == 330.0 * 1048576);
    int q, w;
    double m = stt_shapes_worst_memory(doc, 2, &q, &w);
    CHECK(m > 0 && q == 4 && w == 2);
    CHECK(isnan(stt_shapes_worst_memory(doc, 3, &q, &w)) && q == -1);
    json_decref(doc);
    stt_shapes_prices pr = {0.04, 0.005}, bad = {-1, 0};
    stt_shapes_choice c;
    CHECK(stt_shapes_choose(s, 0, &pr, 0, &c) == STT_EINVAL);
    CHECK(stt_shapes_choose(s, 1, &bad, 0, &c) == STT_EINVAL);
    s[0].ok = 0;
    REQUIRE(stt_shapes_choose(s, 1, &pr, 0, &c) == 0);
    CHECK(c.chosen == -1);
}

int main(void)
{
    TEST_RUN(test_cheapest_under_the_objective);
    TEST_RUN(test_close_costs_are_undetermined);
    TEST_RUN(test_price_sensitivity);
    TEST_RUN(test_scale_verdict);
    TEST_RUN(test_rejudge);
    TEST_RUN(test_read_and_bad_input);
    return test_summary();
}
