/* profile/compare: two machines' cpu.json side by side. Two real machines
 * are the stronger evidence on core strength: they differ in
 * microarchitecture, caches and memory, which bandwidth-emulated cores do
 * not. The runs are not interleaved, so the ratio of the two is a bootstrap
 * of independent samples (stats.h) and carries the hour-to-hour drift. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "internal.h"
#include "results.h"
#include "stats.h"

typedef struct machine {
    const char *file;
    json_t *doc;
    stt_results_header h;
    double thr[PF_R], lat[PF_R]; /* the 1-core pinned point's samples */
    size_t nthr, nlat;
    stt_summary sthr, slat;
    int max_cores;
    double x_max, cost;
    const char *answer, *confidence;
} machine;

static size_t samples_of(const json_t *o, double *out, size_t max)
{
    json_t *a = json_object_get(o, "samples");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(a) && n < max; i++) {
        json_t *v = json_array_get(a, i);
        if (json_is_number(v)) out[n++] = json_number_value(v);
    }
    return n;
}

static int read_machine(machine *m, double price, char *err, size_t errlen)
{
    m->doc = stt_results_load(m->file, STT_RESULTS_CPU, &m->h, err, errlen);
    if (!m->doc) return STT_EIO;
    json_t *pts = json_object_get(m->doc, "points");
    for (size_t i = 0; i < json_array_size(pts); i++) {
        json_t *p = json_array_get(pts, i);
        const char *exp = json_string_value(json_object_get(p, "experiment"));
        const char *st = json_string_value(json_object_get(p, "status"));
        if (!exp || strcmp(exp, "scaling") || !st || strcmp(st, "ok") ||
            json_integer_value(json_object_get(p, "cores")) != 1)
            continue;
        m->nthr = samples_of(json_object_get(p, "throughput"), m->thr, PF_R);
        json_t *lt = json_object_get(p, "latency");
        for (size_t k = 0; k < json_array_size(lt); k++) {
            json_t *l = json_array_get(lt, k);
            const char *role = json_string_value(json_object_get(l, "role"));
            if (role && !strcmp(role, "long")) m->nlat = samples_of(l, m->lat, PF_R);
        }
    }
    if (!m->nthr)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "%s: no measured 1-core pinned point with samples (a cpu.json from "
                          "`sttbench cpu` of this version is needed)",
                          m->file);
    stt_stats_summarize(m->thr, m->nthr, 0.95, &m->sthr);
    stt_stats_summarize(m->lat, m->nlat, 0.95, &m->slat);
    json_t *an = json_object_get(m->doc, "analysis");
    for (size_t i = 0; i < json_array_size(an); i++) {
        json_t *a = json_array_get(an, i);
        const char *mode = json_string_value(json_object_get(a, "mode"));
        json_t *ser = json_object_get(a, "series");
        if (!mode || strcmp(mode, "cpuset") || !json_array_size(ser)) continue;
        json_t *last = json_array_get(ser, json_array_size(ser) - 1);
        m->max_cores = (int)json_integer_value(json_object_get(last, "cores"));
        m->x_max = stt_results_get_num(last, "audio_s_per_s");
    }
    /* P per core-hour on n cores delivering X audio s per s: P n / X per audio hour. */
    m->cost = m->x_max > 0 ? price * m->max_cores / m->x_max : NAN;
    json_t *v = json_object_get(m->doc, "verdict");
    m->answer = json_string_value(json_object_get(v, "answer"));
    m->confidence = json_string_value(json_object_get(v, "confidence"));
    return 0;
}

static json_t *sum_json(const stt_summary *s)
{
    return json_pack(
        "{s:I, s:o, s:o}", "n", (json_int_t)s->n, "median", stt_results_num(s->median), "ci",
        isfinite(s->median_ci.lo) ? json_pack("[o, o]", stt_results_num(s->median_ci.lo),
                                              stt_results_num(s->median_ci.hi))
                                  : json_null());
}

/* "A", "B" or "undetermined": which is higher, interval included. */
static const char *which(const stt_interval *ci, int higher_is_better)
{
    stt_side s = stt_stats_side(ci, 1.0);
    if (s == STT_UNDETERMINED) return "undetermined";
    return (s == STT_ABOVE) == (higher_is_better != 0) ? "B" : "A";
}

int stt_profile_compare(const char *a, const char *b, double price, const char *out_dir,
                        char **summary, char *err, size_t errlen)
{
    *summary = NULL;
    machine m[2] = {{.file = a}, {.file = b}};
    int rc = 0;
    for (int i = 0; i < 2 && !rc; i++)
        rc = read_machine(&m[i], price, err, errlen);
    double rthr = NAN, rlat = NAN;
    stt_interval cthr = {NAN, NAN, NAN}, clat = {NAN, NAN, NAN};
    if (!rc) {
        stt_stats_ratio_ci(m[0].thr, m[0].nthr, m[1].thr, m[1].nthr, 0.95, 2000, 1, &rthr, &cthr);
        if (m[0].nlat && m[1].nlat)
            stt_stats_ratio_ci(m[0].lat, m[0].nlat, m[1].lat, m[1].nlat, 0.95, 2000, 2, &rlat,
                               &clat);
    }
    json_t *out = NULL;
    if (!rc) {
        json_t *ms = json_array();
        for (int i = 0; i < 2; i++)
            json_array_append_new(
                ms, json_pack("{s:s, s:s, s:i, s:s, s:o, s:o, s:i, s:o, s:o, s:s?, s:s?}", "file",
                              m[i].file, "cpu_model", m[i].h.machine.cpu_model, "cpus_usable",
                              m[i].h.machine.cpus_usable, "commit", m[i].h.commit,
                              "one_core_audio_s_per_s", sum_json(&m[i].sthr),
                              "one_core_long_request_s", sum_json(&m[i].slat), "max_cores",
                              m[i].max_cores, "audio_s_per_s_at_max", stt_results_num(m[i].x_max),
                              "cost_per_audio_hour", stt_results_num(m[i].cost), "weak_vs_strong",
                              m[i].answer, "confidence", m[i].confidence));
        out = json_pack(
            "{s:s, s:o, s:o, s:{s:o, s:o, s:s}, s:{s:o, s:o, s:s}, s:s, s:s, s:s, s:s}", "schema",
            "sttlab.cpu-compare/1", "price_core_hour", stt_results_num(price), "machines", ms,
            "per_core_throughput_ratio", "value", stt_results_num(rthr), "ci",
            isfinite(cthr.lo)
                ? json_pack("[o, o]", stt_results_num(cthr.lo), stt_results_num(cthr.hi))
                : json_null(),
            "method", "B / A, ratio of medians, bootstrap of independent samples",
            "one_core_long_request_ratio", "value", stt_results_num(rlat), "ci",
            isfinite(clat.lo)
                ? json_pack("[o, o]", stt_results_num(clat.lo), stt_results_num(clat.hi))
                : json_null(),
            "method", "B / A, ratio of medians, bootstrap of independent samples",
            "faster_per_core", which(&cthr, 1), "faster_one_request", which(&clat, 0),
            "cheaper_per_audio_hour",
            !(isfinite(m[0].cost) && isfinite(m[1].cost)) ? "unknown"
            : m[0].cost <= m[1].cost                      ? "A"
                                                          : "B",
            "note",
            "Two real machines differ in microarchitecture, caches and memory, which "
            "bandwidth-emulated weak cores do not: this is the stronger evidence on core strength. "
            "The two runs were not interleaved, so the hour-to-hour drift of each machine is in "
            "the intervals.");
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/compare.json", out_dir);
        rc = stt_results_write(out, path, err, errlen);
    }
    if (!rc) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (f) {
            fprintf(f, "%-3s %-44s %-22s %-22s %6s %16s %s\n", "", "file", "1-core audio s/s",
                    "1-core long req. s", "cores", "cost/audio hour", "weak vs strong");
            for (int i = 0; i < 2; i++)
                fprintf(f, "%-3s %-44s %6.3f (%.3f-%.3f) %6.2f (%.2f-%.2f) %6d %16.4f %s (%s)\n",
                        i ? "B" : "A", m[i].file, m[i].sthr.median, m[i].sthr.median_ci.lo,
                        m[i].sthr.median_ci.hi, m[i].slat.median, m[i].slat.median_ci.lo,
                        m[i].slat.median_ci.hi, m[i].max_cores, m[i].cost,
                        m[i].answer ? m[i].answer : "?", m[i].confidence ? m[i].confidence : "?");
            fprintf(f,
                    "per-core throughput B/A %.3f (%.3f-%.3f): faster per core %s; one long "
                    "request B/A %.3f (%.3f-%.3f); cheaper per audio hour (at %.3f per "
                    "core-hour): %s\n",
                    rthr, cthr.lo, cthr.hi, which(&cthr, 1), rlat, clat.lo, clat.hi, price,
                    json_string_value(json_object_get(out, "cheaper_per_audio_hour")));
            fclose(f);
            *summary = s;
        }
    }
    json_decref(out);
    json_decref(m[0].doc);
    json_decref(m[1].doc);
    return rc;
}
