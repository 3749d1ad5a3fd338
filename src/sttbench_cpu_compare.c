/* sttbench_cpu_compare: `sttbench cpu --compare A.json B.json`: two machines'
 * cpu.json side by side (per-core speed, cost per audio hour). */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sttbench_common.h"
#include "sttbench_cpu.h"

int cpu_compare_main(const cpu_config *c)
{
    const char *names[2] = {c->cmp_a, c->cmp_b};
    json_t *root[2] = {0}, *ms = json_array();
    double cost[2] = {NAN, NAN}, per[2] = {NAN, NAN};
    for (int i = 0; i < 2; i++) {
        json_error_t je;
        root[i] = json_load_file(names[i], 0, &je);
        if (!root[i]) {
            fprintf(stderr, "sttbench cpu: %s: %s\n", names[i], je.text);
            json_decref(ms);
            if (i) json_decref(root[0]);
            return 1;
        }
        json_t *an = json_object_get(root[i], "analysis"), *a = json_array_get(an, 0);
        for (size_t k = 0; k < json_array_size(an); k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(an, k), "mode")) ?: "",
                        "cpuset"))
                a = json_array_get(an, k);
        json_t *ser = json_object_get(a, "series");
        size_t n = json_array_size(ser);
        if (!n) {
            fprintf(stderr, "sttbench cpu: %s: no measured series\n", names[i]);
            json_decref(ms);
            json_decref(root[0]);
            if (i) json_decref(root[1]);
            return 1;
        }
        json_t *first = json_array_get(ser, 0), *last = json_array_get(ser, n - 1);
        double n0 = json_number_value(json_object_get(first, "cores"));
        double x0 = json_number_value(json_object_get(first, "audio_s_per_s"));
        double nm = json_number_value(json_object_get(last, "cores"));
        double xm = json_number_value(json_object_get(last, "audio_s_per_s"));
        per[i] = x0 / n0;
        cost[i] = c->price * nm / xm;
        json_t *mach = json_object_get(root[i], "machine");
        json_array_append_new(
            ms, json_pack("{s:s, s:s, s:i, s:o, s:o, s:i, s:o, s:O, s:o}", "file", names[i],
                          "cpu_model", json_string_value(json_object_get(mach, "cpu_model")) ?: "?",
                          "cores", (int)json_integer_value(json_object_get(mach, "cpus_allowed")),
                          "per_core_audio_s_per_s", bench_jnum(per[i]), "efficiency_at_max",
                          bench_jnum(json_number_value(json_object_get(last, "efficiency"))),
                          "max_cores", (int)nm, "audio_s_per_s_at_max", bench_jnum(xm),
                          "long_latency_s_at_max",
                          json_object_get(last, "long_latency_s") ?: json_null(),
                          "cost_per_audio_hour", bench_jnum(cost[i])));
    }
    json_t *out = json_pack("{s:s, s:o, s:o, s:s, s:s}", "schema", "sttbench-cpu-compare/1",
                            "price_core_hour", bench_jnum(c->price), "machines", ms,
                            "faster_per_core", per[0] >= per[1] ? names[0] : names[1],
                            "cheaper_per_audio_hour", cost[0] <= cost[1] ? names[0] : names[1]);
    mkdir(c->out, 0777);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/compare.json", c->out);
    int rc = json_dump_file(out, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%-40s %14s %12s %10s %16s\n", "file", "per-core a/s", "efficiency", "max cores",
           "cost/audio hour");
    for (int i = 0; i < 2; i++) {
        json_t *m = json_array_get(ms, (size_t)i);
        printf("%-40s %14.3f %12.2f %10d %16.4f\n", names[i], per[i],
               json_number_value(json_object_get(m, "efficiency_at_max")),
               (int)json_integer_value(json_object_get(m, "max_cores")), cost[i]);
    }
    printf("faster per core: %s; cheaper per audio hour (at %.3f per core-hour): %s\n",
           per[0] >= per[1] ? names[0] : names[1], c->price,
           cost[0] <= cost[1] ? names[0] : names[1]);
    json_decref(out);
    json_decref(root[0]);
    json_decref(root[1]);
    if (rc) fprintf(stderr, "sttbench cpu: %s: cannot write\n", path);
    return rc ? 1 : 0;
}
