/* report/k8s: the generated deployment: what each file holds, that the
 * validator (scripts/validate_k8s.sh: kubernetes-models, KEDA's CRD schema)
 * accepts it when node is at hand, and that each figure moves when the
 * measurement or model step it comes from is fed different results. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "testlib.h"

#define SAMPLE STT_SOURCE_DIR "/tests/data/results"

typedef struct out {
    char *dep, *hpa, *keda, *pdb, *dash, *svc;
    char dir[600];
} out;

static char *slurp(const char *dir, const char *name)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return test_read_file(path, NULL);
}

/* Writes all six files of results dir `in` into a fresh folder. */
static int generate(const char *in, double slo, out *o)
{
    memset(o, 0, sizeof *o);
    const char *dirs[] = {in};
    stt_report *r = NULL;
    if (stt_report_load(dirs, 1, &r, NULL, 0)) return -1;
    stt_report_params p = stt_report_default_params();
    p.slo_p95_s = slo;
    snprintf(o->dir, sizeof o->dir, "%s/k8s", test_tmpdir());
    mkdir(o->dir, 0755);
    const char *names[6] = {"deployment.yaml", "service.yaml", "hpa.yaml",
                            "keda.yaml",       "pdb.yaml",     "grafana-dashboard.json"};
    FILE *f[6];
    for (int i = 0; i < 6; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/%s", o->dir, names[i]);
        f[i] = fopen(path, "w");
    }
    int rc = f[0] && f[1] && f[2] && f[3] && f[4] && f[5]
                 ? stt_report_write_k8s(r, &p, f[0], f[1], f[2]) ||
                       stt_report_write_k8s_more(r, &p, f[3], f[4], f[5])
                 : -1;
    for (int i = 0; i < 6; i++)
        if (f[i]) fclose(f[i]);
    stt_report_free(r);
    o->dep = slurp(o->dir, names[0]);
    o->svc = slurp(o->dir, names[1]);
    o->hpa = slurp(o->dir, names[2]);
    o->keda = slurp(o->dir, names[3]);
    o->pdb = slurp(o->dir, names[4]);
    o->dash = slurp(o->dir, names[5]);
    return rc || !o->dep || !o->hpa || !o->keda || !o->pdb || !o->dash || !o->svc ? -1 : 0;
}

static void out_free(out *o)
{
    free(o->dep);
    free(o->svc);
    free(o->hpa);
    free(o->keda);
    free(o->pdb);
    free(o->dash);
}

/* The value after `key` up to the end of the token ('"', ',', ' ' or end of line). */
static const char *value(const char *text, const char *key, char *buf, size_t len)
{
    const char *s = text ? strstr(text, key) : NULL;
    buf[0] = 0;
    if (!s) return buf;
    s += strlen(key);
    size_t n = strcspn(s, "\", \n");
    snprintf(buf, len, "%.*s", (int)n, s);
    return buf;
}

static void test_files_hold_the_deployment(void)
{
    out o;
    REQUIRE(generate(SAMPLE, 5, &o) == 0);
    CHECK(strstr(o.dep, "kind: Deployment") && strstr(o.dep, "preStop:") &&
          strstr(o.dep, "command: [\"sleep\", \"10\"]"));
    CHECK(strstr(o.dep, "readinessProbe:\n            httpGet: {path: /ready, port: http}\n"
                        "            periodSeconds: 5\n            timeoutSeconds: 2\n"
                        "            failureThreshold: 3\n"));
    CHECK(strstr(o.dep, "\"--queue\", \"") && strstr(o.dep, "\"--grace-s\", \""));
    CHECK(strstr(o.dep, "prometheus.io/scrape: \"true\""));
    CHECK(strstr(o.hpa, "kind: HorizontalPodAutoscaler") && strstr(o.hpa, "averageUtilization: "));
    CHECK(strstr(o.keda, "kind: ScaledObject") && strstr(o.keda, "type: prometheus") &&
          strstr(o.keda, "sttd_requests_in_flight") && strstr(o.keda, "threshold: \""));
    CHECK(strstr(o.pdb, "kind: PodDisruptionBudget") && strstr(o.pdb, "maxUnavailable: 1"));
    json_t *d = json_loads(o.dash, 0, NULL);
    REQUIRE(d);
    json_t *panels = json_object_get(d, "panels");
    CHECK(json_array_size(panels) >= 10);
    const char *need[] = {"sttd_request_duration_seconds_bucket",
                          "sttd_requests_in_flight",
                          "sttd_workers_busy",
                          "sttd_queue_depth",
                          "sttd_worker_restarts_total",
                          "sttd_audio_seconds_total",
                          "status=\\\"503\\\""};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        if (!strstr(o.dash, need[i])) fprintf(stderr, "  dashboard lacks %s\n", need[i]);
        CHECK(strstr(o.dash, need[i]) != NULL);
    }
    json_decref(d);
    /* every numeric line of the deployment says where it came from */
    char *copy = strdup(o.dep);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, "cpu: \"") || strstr(line, "memory: ") || strstr(line, "GracePeriod") ||
            strstr(line, "averageUtilization"))
            CHECK(strchr(line, '#') != NULL);
    free(copy);
    out_free(&o);
}

/* The validator when it can run here: node, npm and its installed packages. */
static void test_validator_accepts_them(void)
{
    char mods[600];
    snprintf(mods, sizeof mods, "%s/scripts/validate_k8s/node_modules", STT_SOURCE_DIR);
    struct stat st;
    if (system("command -v node >/dev/null 2>&1") || stat(mods, &st)) {
        printf("SKIP: node or scripts/validate_k8s/node_modules missing (scripts/validate_k8s.sh "
               "installs them)\n");
        return;
    }
    out o;
    REQUIRE(generate(SAMPLE, 5, &o) == 0);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "node %s/scripts/validate_k8s/validate.mjs %s >/dev/null",
             STT_SOURCE_DIR, o.dir);
    CHECK(system(cmd) == 0);
    /* and refuses a mistyped field */
    char path[800];
    snprintf(path, sizeof path, "%s/keda.yaml", o.dir);
    FILE *f = fopen(path, "a");
    REQUIRE(f);
    fputs("  pollingIntervall: 15\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "node %s/scripts/validate_k8s/validate.mjs %s >/dev/null 2>&1",
             STT_SOURCE_DIR, o.dir);
    CHECK(system(cmd) != 0);
    out_free(&o);
}

static const char *copy_sample(const char *name)
{
    static char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp -r %s %s", SAMPLE, dir);
    return system(cmd) == 0 ? dir : NULL;
}

/* Multiplies the numbers at key in every element of array `arr` of `rel`. */
static int scale(const char *dir, const char *rel, const char *arr, const char *key, double f)
{
    char file[900];
    snprintf(file, sizeof file, "%s/%s", dir, rel);
    json_t *root = json_load_file(file, 0, NULL);
    json_t *a = json_object_get(root, arr);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        json_t *v = json_object_get(e, key);
        if (json_is_number(v)) json_object_set_new(e, key, json_real(json_number_value(v) * f));
    }
    int rc = root ? json_dump_file(root, file, 0) : -1;
    json_decref(root);
    return rc;
}

/* Each figure of the manifests moves with the step it comes from. */
static void test_manifests_follow_their_inputs(void)
{
    out base;
    REQUIRE(generate(SAMPLE, 5, &base) == 0);
    char b1[64], b2[64], v1[64], v2[64];

    /* shape: shapes.json's throughputs; a 1x4 three times as fast wins */
    const char *dir = copy_sample("faster_1x4");
    REQUIRE(dir);
    char file[900];
    snprintf(file, sizeof file, "%s/shapes/shapes.json", dir);
    json_t *s = json_load_file(file, 0, NULL);
    json_t *t = json_object_get(json_object_get(json_array_get(json_object_get(s, "shapes"), 0),
                                                "throughput_audio_s_per_s"),
                                "samples");
    for (size_t i = 0; i < json_array_size(t); i++)
        json_array_set_new(t, i, json_real(3 * json_number_value(json_array_get(t, i))));
    REQUIRE(json_dump_file(s, file, 0) == 0);
    json_decref(s);
    out o;
    REQUIRE(generate(dir, 5, &o) == 0);
    value(base.dep, "\"--workers\", \"", b1, sizeof b1);
    value(o.dep, "\"--workers\", \"", v1, sizeof v1);
    CHECK(strcmp(b1, "1") == 0 && strcmp(v1, "4") == 0);
    out_free(&o);

    /* target utilisation, queue, KEDA threshold: the objective (load.json's) */
    dir = copy_sample("looser_objective");
    REQUIRE(dir);
    snprintf(file, sizeof file, "%s/load/load.json", dir);
    json_t *l = json_load_file(file, 0, NULL);
    json_object_set_new(json_object_get(l, "config"), "slo_p95_s", json_real(20));
    REQUIRE(json_dump_file(l, file, 0) == 0);
    json_decref(l);
    REQUIRE(generate(dir, 0, &o) == 0);
    value(base.hpa, "averageUtilization: ", b1, sizeof b1);
    value(o.hpa, "averageUtilization: ", v1, sizeof v1);
    CHECK(atoi(v1) > atoi(b1));
    value(base.keda, "threshold: \"", b2, sizeof b2);
    value(o.keda, "threshold: \"", v2, sizeof v2);
    CHECK(atof(v2) > atof(b2));
    value(base.dep, "\"--queue\", \"", b1, sizeof b1);
    value(o.dep, "\"--queue\", \"", v1, sizeof v1);
    CHECK(atoi(v1) > atoi(b1)); /* busier pods need a longer queue for the same budget */
    out_free(&o);

    /* target utilisation: the margin replicas.json measured */
    dir = copy_sample("exact_model");
    REQUIRE(dir);
    snprintf(file, sizeof file, "%s/replicas/replicas.json", dir);
    json_t *rp = json_load_file(file, 0, NULL);
    json_object_set_new(json_object_get(rp, "validation"), "margin_factor", json_real(1.0));
    REQUIRE(json_dump_file(rp, file, 0) == 0);
    json_decref(rp);
    REQUIRE(generate(dir, 5, &o) == 0);
    value(base.hpa, "averageUtilization: ", b1, sizeof b1);
    value(o.hpa, "averageUtilization: ", v1, sizeof v1);
    CHECK(atoi(v1) > atoi(b1));
    out_free(&o);

    /* memory: shapes.json's worst case */
    dir = copy_sample("more_memory");
    REQUIRE(dir);
    REQUIRE(scale(dir, "shapes/shapes.json", "memory_worst_case", "max_bytes", 1.5) == 0);
    REQUIRE(generate(dir, 5, &o) == 0);
    value(base.dep, "              memory: ", b1, sizeof b1);
    value(o.dep, "              memory: ", v1, sizeof v1);
    CHECK(atoi(v1) > atoi(b1));
    out_free(&o);

    /* grace: audio.json's service-time model */
    dir = copy_sample("slower_decoding");
    REQUIRE(dir);
    REQUIRE(scale(dir, "audio/audio.json", "fits", "slope", 2.0) == 0);
    REQUIRE(generate(dir, 5, &o) == 0);
    value(base.dep, "terminationGracePeriodSeconds: ", b1, sizeof b1);
    value(o.dep, "terminationGracePeriodSeconds: ", v1, sizeof v1);
    CHECK(atoi(v1) > atoi(b1));
    value(base.dep, "\"--grace-s\", \"", b2, sizeof b2);
    value(o.dep, "\"--grace-s\", \"", v2, sizeof v2);
    CHECK(atoi(v2) > atoi(b2));
    out_free(&o);
    out_free(&base);
}

int main(void)
{
    TEST_RUN(test_files_hold_the_deployment);
    TEST_RUN(test_validator_accepts_them);
    TEST_RUN(test_manifests_follow_their_inputs);
    return test_summary();
}
