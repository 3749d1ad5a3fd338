/* report/decide: the deployment's figures from the sample results and from
 * variants of them: the shape from shapes.json at the report's objective,
 * the target utilisation from the model with the validated margin, the queue
 * for the refusal budget, the memory from the worst case, the grace from the
 * slowest allowed request, and the fallbacks that say what they are. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "testlib.h"

#define SAMPLE STT_SOURCE_DIR "/tests/data/results"

/* A copy of the sample results in a fresh folder (static buffer). */
static const char *copy_sample(void)
{
    static char dir[600];
    snprintf(dir, sizeof dir, "%s/results", test_tmpdir());
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp -r %s %s", SAMPLE, dir);
    return system(cmd) == 0 ? dir : NULL;
}

/* Sets the number at "a.b[2].c" in dir/rel to v. */
static int set_num(const char *dir, const char *rel, const char *path, double v)
{
    char file[900];
    snprintf(file, sizeof file, "%s/%s", dir, rel);
    json_t *root = json_load_file(file, 0, NULL), *j = root, *parent = NULL;
    char key[128] = "";
    long idx = -1;
    for (const char *p = path; j && *p;) {
        parent = j;
        if (*p == '.') p++;
        if (*p == '[') {
            char *end;
            idx = strtol(p + 1, &end, 10);
            key[0] = 0;
            j = json_array_get(j, (size_t)idx);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        idx = -1;
        j = json_object_get(j, key);
        p += n;
    }
    int rc = -1;
    if (parent && key[0])
        rc = json_object_set_new(parent, key, json_real(v));
    else if (parent && idx >= 0)
        rc = json_array_set_new(parent, (size_t)idx, json_real(v));
    if (!rc) rc = json_dump_file(root, file, JSON_INDENT(1));
    json_decref(root);
    return rc;
}

static void decide(const char *dir, double slo, stt_report_decision *d)
{
    const char *dirs[] = {dir};
    stt_report *r = NULL;
    if (stt_report_load(dirs, 1, &r, NULL, 0)) {
        memset(d, 0, sizeof *d);
        return;
    }
    stt_report_params p = stt_report_default_params();
    p.slo_p95_s = slo;
    stt_report_decide(r, &p, d);
    stt_report_free(r);
}

/* The sample's shapes: 1x4, 2x2, 4x1; the 4x1 is cheapest and has the
 * longest tail of short requests, the 1x4 the shortest. */
static void test_shape_follows_the_objective(void)
{
    stt_report_decision d;
    decide(SAMPLE, 0, &d);
    CHECK(d.shape_measured && d.best_cores == 1); /* no objective: the cheapest */
    CHECK(isnan(d.target_rho));                   /* no objective: a policy, stated */
    CHECK(d.hpa_cpu_percent == 70 && strstr(d.hpa_basis, "policy"));
    decide(SAMPLE, 2.0, &d); /* the 4x1's interval [2.4, 3.1] s is over it */
    CHECK(d.best_cores == 2);
    decide(SAMPLE, 1.2, &d); /* only the 1x4 can be under it, undetermined */
    CHECK(d.best_cores == 4);
    decide(SAMPLE, 0.5, &d); /* no shape meets it: the shortest tail */
    CHECK(d.best_cores == 4);
}

static void test_target_utilisation_from_the_model(void)
{
    stt_report_decision a, b;
    decide(SAMPLE, 5, &a);
    decide(SAMPLE, 20, &b);
    CHECK(a.target_rho > 0 && a.target_rho < 1 && strstr(a.hpa_basis, "model"));
    CHECK(b.target_rho > a.target_rho); /* a looser objective allows more */
    CHECK(a.hpa_cpu_percent == (int)floor(100 * a.target_rho + 1e-9));
    /* the margin is what replicas.json's validation measured */
    CHECK(fabs(a.model_margin - 1.547964) < 1e-6);
    const char *dir = copy_sample();
    REQUIRE(dir);
    REQUIRE(set_num(dir, "replicas/replicas.json", "validation.margin_factor", 1.0) == 0);
    decide(dir, 5, &b);
    CHECK(b.model_margin == 1.0 && b.target_rho > a.target_rho);
    /* the refusals at the target stay within the budget with the queue chosen */
    CHECK(a.refused_at_target <= 0.001 && a.queue >= 0);
    /* KEDA's threshold: requests in flight per pod at the target */
    CHECK(a.inflight_per_pod > 0 && a.inflight_per_pod < a.best_cores + a.queue);
}

static void test_memory_from_the_worst_case(void)
{
    stt_report_decision d;
    decide(SAMPLE, 5, &d); /* 1-core pods at a low target: a queue within the measured 2 */
    json_t *s = json_load_file(SAMPLE "/shapes/shapes.json", 0, NULL);
    double worst = json_number_value(
        json_object_get(json_array_get(json_object_get(s, "memory_worst_case"), 0), "max_bytes"));
    json_decref(s);
    REQUIRE(d.best_cores == 1);
    CHECK(d.queue <= 2);
    CHECK(fabs(d.memory_bytes - worst * 1.15) < 1);
    const char *dir = copy_sample();
    REQUIRE(dir);
    REQUIRE(set_num(dir, "shapes/shapes.json", "memory_worst_case[0].max_bytes", 2 * worst) == 0);
    stt_report_decision e;
    decide(dir, 5, &e);
    CHECK(fabs(e.memory_bytes - 2 * worst * 1.15) < 1);
    /* no objective: the policy's utilisation needs a longer queue than was
     * measured, and each further admitted request is added */
    decide(SAMPLE, 0, &e);
    CHECK(e.best_cores == 1 && e.queue > 2);
    CHECK(e.memory_bytes > worst * 1.15);
}

static void test_grace_from_the_slowest_request(void)
{
    stt_report_decision d;
    decide(SAMPLE, 0, &d);
    /* the sample's balanced single-piece fit, 0 + 0.1933 x 600 on one core, twice */
    CHECK(d.sttd_grace_s == (int)ceil(2 * (0 + 0.1933 * 600)));
    CHECK(fabs(d.fit_a - 0) < 1e-9 && fabs(d.fit_b - 0.1933) < 1e-9);
    decide(SAMPLE, 2.0, &d); /* 2-core pods: 300 s is cut in 44 pieces, 2 at once */
    CHECK(d.sttd_grace_s == (int)ceil(2 * (0 + 0.1933 * 600 / 2)));
    CHECK(isfinite(d.long_file_s) && d.long_file_s > 0);
}

/* Without the single-piece fit the mixed one is used, and says so. */
static void test_mixed_fit_fallback(void)
{
    const char *dir = copy_sample();
    REQUIRE(dir);
    char file[900];
    snprintf(file, sizeof file, "%s/audio/audio.json", dir);
    json_t *a = json_load_file(file, 0, NULL);
    json_t *fits = json_object_get(a, "fits");
    for (size_t i = json_array_size(fits); i-- > 0;)
        if (!strcmp(json_string_value(json_object_get(json_array_get(fits, i), "y")),
                    "process_s_single"))
            json_array_remove(fits, i);
    REQUIRE(json_dump_file(a, file, 0) == 0);
    json_decref(a);
    stt_report_decision d;
    decide(dir, 0, &d);
    CHECK(fabs(d.fit_a - 0.5) < 1e-9 && fabs(d.fit_b - 0.152) < 1e-9);
}

static void test_nothing_measured(void)
{
    char sub[600], cmd[1400];
    snprintf(sub, sizeof sub, "%s/tests_only", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/tests/test_results.json %s/", sub, SAMPLE, sub);
    REQUIRE(system(cmd) == 0);
    stt_report_decision d;
    decide(sub, 5, &d);
    CHECK(!d.shape_measured && d.best_cores == 0);
    CHECK(isnan(d.memory_bytes) && isnan(d.target_rho));
    CHECK(d.hpa_cpu_percent == 70 && strstr(d.hpa_basis, "policy"));
    CHECK(d.model_margin == 1.25);
}

int main(void)
{
    TEST_RUN(test_shape_follows_the_objective);
    TEST_RUN(test_target_utilisation_from_the_model);
    TEST_RUN(test_memory_from_the_worst_case);
    TEST_RUN(test_grace_from_the_slowest_request);
    TEST_RUN(test_mixed_fit_fallback);
    TEST_RUN(test_nothing_measured);
    return test_summary();
}
