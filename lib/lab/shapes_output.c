/* shapes_output: shapes.json written, and its text and markdown summaries.
 * See shapes.h. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "results.h"
#include "shapes.h"

static double fig(const json_t *shape, const char *key, const char *what)
{
    return stt_results_get_num(json_object_get(shape, key), what);
}

static double fig_ci(const json_t *shape, const char *key, int i)
{
    const json_t *ci = json_object_get(json_object_get(shape, key), "ci");
    return json_is_number(json_array_get(ci, (size_t)i))
               ? json_number_value(json_array_get(ci, (size_t)i))
               : NAN;
}

static void table(const json_t *doc, FILE *f, int md)
{
    const json_t *shapes = json_object_get(doc, "shapes");
    const json_t *v = json_object_get(json_object_get(doc, "choice"), "verdicts");
    if (md)
        fprintf(f, "| shape (pods x cores) | n | audio s/s, median [95%%] | short p95 s, median "
                   "[95%%] | long request alone s | pod memory peak MiB | cost per audio hour "
                   "[95%%] | objective |\n|---|---:|---|---|---:|---:|---|---|\n");
    for (size_t i = 0; i < json_array_size(shapes); i++) {
        const json_t *s = json_array_get(shapes, i), *x = json_array_get(v, i);
        const json_t *cci = json_object_get(x, "cost_ci");
        char shape[32];
        snprintf(shape, sizeof shape, "%.0fx%.0f", stt_results_get_num(s, "pods"),
                 stt_results_get_num(s, "cores_per_pod"));
        fprintf(f,
                md ? "| %s | %.0f | %.2f [%.2f, %.2f] | %.3f [%.3f, %.3f] | %.2f | %.0f | %.4g "
                     "[%.4g, %.4g] | %s |\n"
                   : "%-6s n %.0f: %.2f [%.2f, %.2f] audio s/s, short p95 %.3f [%.3f, %.3f] s, "
                     "long alone %.2f s, pod %.0f MiB, cost %.4g [%.4g, %.4g] per audio hour, "
                     "objective %s\n",
                shape, fig(s, "throughput_audio_s_per_s", "n"),
                fig(s, "throughput_audio_s_per_s", "median"),
                fig_ci(s, "throughput_audio_s_per_s", 0), fig_ci(s, "throughput_audio_s_per_s", 1),
                fig(s, "short_p95_s", "median"), fig_ci(s, "short_p95_s", 0),
                fig_ci(s, "short_p95_s", 1), fig(s, "single_long_s", "median"),
                stt_results_get_num(s, "memory_peak_bytes") / 1048576.0,
                stt_results_get_num(x, "cost_per_audio_hour"),
                json_number_value(json_array_get(cci, 0)),
                json_number_value(json_array_get(cci, 1)),
                json_string_value(json_object_get(x, "objective")) ?: "?");
    }
}

static void choice_text(const json_t *doc, FILE *f)
{
    const json_t *c = json_object_get(doc, "choice"), *shapes = json_object_get(doc, "shapes");
    int chosen = (int)stt_results_get_num(c, "chosen");
    const json_t *s = json_array_get(shapes, (size_t)(chosen < 0 ? 0 : chosen));
    if (!c || chosen < 0) {
        fprintf(f, "No shape chosen.\n");
        return;
    }
    fprintf(f, "Chosen: %.0f pod(s) of %.0f core(s): %s (%s).", stt_results_get_num(s, "pods"),
            stt_results_get_num(s, "cores_per_pod"), json_string_value(json_object_get(c, "basis")),
            json_string_value(json_object_get(c, "confidence")));
    const json_t *v = json_object_get(doc, "verdict");
    if (json_string_value(json_object_get(v, "answer")))
        fprintf(f, "\nScale up or out: %s (%s).", json_string_value(json_object_get(v, "answer")),
                json_string_value(json_object_get(v, "confidence")) ?: "undetermined");
    double be = stt_results_get_num(c, "breakeven_gib_hour");
    if (isfinite(be))
        fprintf(f, " The runner-up would cost the same at a memory price of %.4g per GiB-hour.",
                be);
    fprintf(f, "\n");
}

void stt_shapes_print(const json_t *doc, FILE *f)
{
    const char *skipped = json_string_value(json_object_get(doc, "skipped"));
    if (skipped) {
        fprintf(f, "sttbench shapes: skipped: %s\n", skipped);
        return;
    }
    table(doc, f, 0);
    choice_text(doc, f);
    const json_t *w = json_object_get(doc, "memory_worst_case");
    for (size_t i = 0; i < json_array_size(w); i++) {
        const json_t *e = json_array_get(w, i);
        fprintf(f,
                "worst case, %.0f-core pod (%.0f admitted): %.0f MiB, limit with margin %.0f MiB\n",
                stt_results_get_num(e, "cores_per_pod"), stt_results_get_num(e, "admitted"),
                stt_results_get_num(e, "max_bytes") / 1048576.0,
                stt_results_get_num(e, "limit_bytes") / 1048576.0);
    }
}

int stt_shapes_write(const json_t *doc, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/shapes.json", dir);
    int rc = stt_results_write(doc, path, err, errlen);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/shapes_report.md", dir);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fprintf(f, "# Pod shapes: measured side by side\n\n");
    const char *skipped = json_string_value(json_object_get(doc, "skipped"));
    if (skipped) {
        fprintf(f, "Skipped: %s. Nothing was measured.\n", skipped);
    } else {
        const json_t *cfg = json_object_get(doc, "config");
        fprintf(f,
                "%.0f CPUs as k pods of %.0f/k cores behind haproxy (random per pod), profile "
                "`%s`, %.0f rounds in interleaved order. Short-request p95 under a mixed-length "
                "Poisson load (%.0f%% long requests) at %.3f requests/s for every shape. "
                "Objective: %s. Results: `shapes.json`.\n\n",
                stt_results_get_num(cfg, "cores"), stt_results_get_num(cfg, "cores"),
                json_string_value(json_object_get(cfg, "profile")),
                stt_results_get_num(cfg, "repeats"), 100 * stt_results_get_num(cfg, "long_share"),
                stt_results_get_num(json_object_get(doc, "offered"), "rps"),
                json_string_value(json_object_get(cfg, "slo_source")));
        table(doc, f, 1);
        fputc('\n', f);
        choice_text(doc, f);
    }
    if (fclose(f)) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}
