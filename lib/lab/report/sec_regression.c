/* report/sec_regression: the last regression check (regression.json from
 * `sttbench compare`) and the trend of every figure over the history
 * (history.jsonl), with the commits where a figure moved. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "error.h"

#define TREND_MAX 8 /* figures drawn in the trend */

/* The first machine with a history, or NULL. */
static const machine *with_history(const stt_report *r)
{
    for (int i = 0; i < r->n; i++)
        if (json_array_size(r->m[i].history)) return &r->m[i];
    return NULL;
}

/* Names of the figures of the history, in order of first appearance: the
 * gated metrics and the accuracy entries (WER). */
static int trend_names(const json_t *h, const char **names, int *is_acc, int max)
{
    int n = 0;
    for (size_t i = 0; i < json_array_size(h); i++) {
        const json_t *line = json_array_get(h, i);
        for (int acc = 0; acc < 2; acc++) {
            const char *key;
            json_t *v;
            json_object_foreach(json_object_get(line, acc ? "accuracy" : "metrics"), key, v)
            {
                if (!acc && !json_is_true(json_object_get(v, "gated"))) continue;
                int seen = 0;
                for (int k = 0; k < n && !seen; k++)
                    seen = is_acc[k] == acc && !strcmp(names[k], key);
                if (!seen && n < max) {
                    names[n] = key;
                    is_acc[n++] = acc;
                }
            }
        }
    }
    return n;
}

static double trend_value(const json_t *line, const char *name, int acc)
{
    return rpt_jnumv(json_object_get(
        json_object_get(json_object_get(line, acc ? "accuracy" : "metrics"), name), "head"));
}

int stt_report_draw_charts(const stt_report *r, const stt_report_params *p, const char *dir,
                           char *err, size_t errlen)
{
    (void)p;
    const machine *m = with_history(r);
    if (!m || !dir || json_array_size(m->history) < 2 || !stt_chart_available()) return 0;
    const char *names[TREND_MAX];
    int is_acc[TREND_MAX];
    int n = trend_names(m->history, names, is_acc, TREND_MAX);
    if (!n) return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/regression_trend.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
    /* each figure relative to its first recorded value, so that all fit one axis */
    double first[TREND_MAX];
    for (int k = 0; k < n; k++) {
        first[k] = NAN;
        for (size_t i = 0; i < json_array_size(m->history) && !isfinite(first[k]); i++)
            first[k] = trend_value(json_array_get(m->history, i), names[k], is_acc[k]);
    }
    for (size_t i = 0; i < json_array_size(m->history); i++) {
        const json_t *line = json_array_get(m->history, i);
        const char *c = json_string_value(json_object_get(line, "head"));
        fprintf(f, "%zu %.7s", i, c ? c : "?");
        for (int k = 0; k < n; k++) {
            double v = trend_value(line, names[k], is_acc[k]);
            if (isfinite(v) && first[k] > 0)
                fprintf(f, " %.6g", v / first[k]);
            else
                fputs(" ?", f);
        }
        fputc('\n', f);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/regression_trend.gp", dir);
    f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
    fprintf(f, "set terminal pngcairo size 900,420 noenhanced\nset output 'regression_trend.png'\n"
               "set datafile missing '?'\nset key outside right\nset grid\n"
               "set ylabel 'relative to the first run'\nset xlabel 'commit (oldest left)'\n"
               "set xtics rotate by -45\nset title 'Regression history: each figure of HEAD, "
               "relative to its first recorded value'\nplot ");
    for (int k = 0; k < n; k++)
        fprintf(f, "%s'regression_trend.dat' using 1:%d:xtic(2) with linespoints title '%s%s'",
                k ? ", \\\n  " : "", k + 3, is_acc[k] ? "WER " : "", names[k]);
    fputc('\n', f);
    fclose(f);
    int rc = stt_chart_run(dir, "regression_trend.gp", err, errlen);
    return rc == STT_ENOTFOUND ? 0 : rc;
}

static void last_check(doc *d, const src *s)
{
    rpt_para(d, "Commit %.12s against %.12s, %s: %s (%s). Gated on %s.",
             rpt_jstr_at(s, "head.commit") ?: "?", rpt_jstr_at(s, "base.commit") ?: "?",
             s->h.created[0] ? s->h.created : "undated",
             rpt_jstr_at(s, "verdict.answer") ?: "no verdict stated",
             rpt_jstr_at(s, "verdict.confidence") ?: "undetermined",
             rpt_jstr_at(s, "verdict.gate") ?: "every figure");
    json_t *diffs = json_object_get(s->j, "differences");
    for (size_t i = 0; i < json_array_size(diffs); i++)
        rpt_li(d, "Differs (compared because allowed): %s",
               json_string_value(json_array_get(diffs, i)) ?: "?");
    json_t *ch = json_object_get(s->j, "changes");
    if (json_array_size(ch))
        rpt_trow(d, 1, "figure|base (n)|head (n)|head/base [95%% interval]|test|verdict|gated");
    for (size_t i = 0; i < json_array_size(ch); i++) {
        json_t *c = json_array_get(ch, i);
        const char *unit = json_string_value(json_object_get(c, "unit")) ?: "";
        if (!strcmp(unit, "bytes")) unit = "MiB"; /* rpt_cite scales bytes */
        char ci[128];
        if (json_is_true(json_object_get(c, "deterministic")))
            snprintf(ci, sizeof ci, "(exact count)");
        else
            snprintf(ci, sizeof ci, "[%.4g, %.4g]", rpt_jnumv(rpt_jpath(c, "ratio_ci[0]")),
                     rpt_jnumv(rpt_jpath(c, "ratio_ci[1]")));
        double pv = rpt_jnumv(json_object_get(c, "p"));
        const char *test = json_string_value(json_object_get(c, "test")) ?: "";
        const char *why = json_string_value(json_object_get(c, "why")) ?: "";
        rpt_trow(d, 0, "%s|%s (n=%lld)|%s (n=%lld)|%s %s|%s%s%s|%s%s%s%s|%s",
                 json_string_value(json_object_get(c, "name")) ?: "?",
                 rpt_cite(d, s, unit, "changes[%zu].base.median", i),
                 (long long)json_integer_value(rpt_jpath(c, "base.n")),
                 rpt_cite(d, s, unit, "changes[%zu].head.median", i),
                 (long long)json_integer_value(rpt_jpath(c, "head.n")),
                 rpt_cite(d, s, "x", "changes[%zu].ratio", i), ci, test, isfinite(pv) ? ", p " : "",
                 isfinite(pv) ? rpt_cite(d, s, "", "changes[%zu].p", i) : "",
                 json_string_value(json_object_get(c, "verdict")) ?: "?", *why ? " (" : "", why,
                 *why ? ")" : "",
                 json_is_true(json_object_get(c, "gated")) ? "yes" : "no (reported only)");
    }
    json_t *ac = json_object_get(s->j, "accuracy_changes");
    if (json_array_size(ac))
        rpt_trow(d, 1,
                 "accuracy|utterances|base WER|head WER|difference [95%% interval]|sign "
                 "test|verdict");
    for (size_t i = 0; i < json_array_size(ac); i++) {
        json_t *a = json_array_get(ac, i);
        char ci[128];
        snprintf(ci, sizeof ci, "[%+.4g, %+.4g]", rpt_jnumv(rpt_jpath(a, "diff_ci[0]")),
                 rpt_jnumv(rpt_jpath(a, "diff_ci[1]")));
        const char *why = json_string_value(json_object_get(a, "why")) ?: "";
        rpt_trow(d, 0, "%s|%lld|%s|%s|%s %s|p %s, %lld worse, %lld better|%s%s%s%s",
                 json_string_value(json_object_get(a, "name")) ?: "?",
                 (long long)json_integer_value(json_object_get(a, "utterances")),
                 rpt_cite(d, s, "", "accuracy_changes[%zu].base_wer", i),
                 rpt_cite(d, s, "", "accuracy_changes[%zu].head_wer", i),
                 rpt_cite(d, s, "", "accuracy_changes[%zu].diff", i), ci,
                 rpt_cite(d, s, "", "accuracy_changes[%zu].p", i),
                 (long long)json_integer_value(json_object_get(a, "worse")),
                 (long long)json_integer_value(json_object_get(a, "better")),
                 json_string_value(json_object_get(a, "verdict")) ?: "?", *why ? " (" : "", why,
                 *why ? ")" : "");
    }
    rpt_close_blocks(d);
}

static void history(doc *d, const machine *m)
{
    const json_t *h = m->history;
    size_t n = json_array_size(h);
    const char *first = json_string_value(json_object_get(json_array_get(h, 0), "head"));
    const char *last = json_string_value(json_object_get(json_array_get(h, n - 1), "head"));
    rpt_para(d, "History (%s): %zu run(s), from commit %.12s to %.12s.", m->history_label, n,
             first ? first : "?", last ? last : "?");
    if (d->p->asset_dir) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/regression_trend.png", d->p->asset_dir);
        rpt_chart_path(d, path, "Trend of every gated figure over the regression history");
    }
    int moved = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *line = json_array_get(h, i);
        for (int acc = 0; acc < 2; acc++) {
            const char *key;
            json_t *v;
            json_object_foreach(json_object_get(line, acc ? "accuracy" : "metrics"), key, v)
            {
                const char *verdict = json_string_value(json_object_get(v, "verdict"));
                if (!verdict || !strcmp(verdict, "~")) continue;
                if (!moved++) rpt_trow(d, 1, "commit|against|date|figure|base|head|verdict");
                rpt_trow(d, 0, "%.12s|%.12s|%.10s|%s%s|%.6g|%.6g|%s",
                         json_string_value(json_object_get(line, "head")) ?: "?",
                         json_string_value(json_object_get(line, "base")) ?: "?",
                         json_string_value(json_object_get(line, "created")) ?: "?",
                         acc ? "WER " : "", key, rpt_jnumv(json_object_get(v, "base")),
                         rpt_jnumv(json_object_get(v, "head")), verdict);
            }
        }
    }
    rpt_close_blocks(d);
    if (!moved)
        rpt_para(d, "No figure moved in any recorded run (every verdict was ~).");
    else
        rpt_para(d, "Each row names a commit where a figure moved (its verdict against the "
                    "commit before it was worse or better).");
}

void rpt_sec_regression(doc *d, const stt_report *r)
{
    const src *s = rpt_primary(r, K_REGRESSION);
    const machine *m = with_history(r);
    rpt_h(d, 2, "Regression check");
    if (!s && !m) return rpt_missing(d, K_REGRESSION);
    if (s) last_check(d, s);
    if (m) history(d, m);
    if (s) rpt_reproduce(d, K_REGRESSION, s);
}
