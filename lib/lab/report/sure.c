/* report/sure: "How sure are we": every comparable figure of every results
 * file with its n and interval, and every point a results file kept out of
 * its decisions, with the reason it gives. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Scalars that name a point, in the order they are shown. */
static const char *const point_keys[] = {"name",    "label",   "file",        "mode", "cores",
                                         "threads", "workers", "offered",     "rate", "replicas",
                                         "profile", "shape",   "concurrency", NULL};

static void point_name(const json_t *o, char *b, size_t n)
{
    size_t used = 0;
    b[0] = 0;
    for (const char *const *k = point_keys; *k && used + 2 < n; k++) {
        const json_t *v = json_object_get(o, *k);
        char val[96];
        if (json_is_string(v))
            snprintf(val, sizeof val, "%.80s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            snprintf(val, sizeof val, "%.4g", json_real_value(v));
        else
            continue;
        used += (size_t)snprintf(b + used, n - used, "%s%s=%s", used ? ", " : "", *k, val);
    }
}

/* Every object under j (at path) with "excluded": REASON, as table rows. */
static int excluded_rows(doc *d, const src *s, const json_t *j, const char *path, int depth,
                         int count)
{
    if (depth > 12) return count;
    if (json_is_object(j)) {
        const char *why = json_string_value(json_object_get(j, "excluded"));
        if (why) {
            char name[400];
            point_name(j, name, sizeof name);
            if (!count) rpt_trow(d, 1, "file|point|where|reason");
            rpt_trow(d, 0, "%s|%s|%s|%s", s->label, name[0] ? name : "-", path[0] ? path : "-",
                     why);
            count++;
        }
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v)
        {
            if (!strcmp(key, "metrics") || !strcmp(key, "accuracy") || !strcmp(key, "config"))
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s%s%.200s", path, path[0] ? "." : "", key);
            count = excluded_rows(d, s, v, sub, depth + 1, count);
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%.400s[%zu]", path, i);
            count = excluded_rows(d, s, json_array_get(j, i), sub, depth + 1, count);
        }
    }
    return count;
}

static int has_figures(const src *s)
{
    return json_array_size(json_object_get(s->j, "metrics")) ||
           json_array_size(json_object_get(s->j, "accuracy"));
}

/* Rows of s's figures; the header before the first row of all. */
static void figures_of(doc *d, const src *s, int *rows)
{
    json_t *ms = json_object_get(s->j, "metrics"), *acc = json_object_get(s->j, "accuracy");
    if (!json_array_size(ms) && !json_array_size(acc)) return;
    if (!(*rows)++) rpt_trow(d, 1, "file|figure|median [95%% interval], n|better");
    for (size_t i = 0; i < json_array_size(ms); i++) {
        json_t *m = json_array_get(ms, i);
        const char *nm = json_string_value(json_object_get(m, "name"));
        if (!nm) continue;
        rpt_trow(d, 0, "%s|%s|%s|%s", s->label, nm, rpt_metric(d, s, "%s", nm),
                 json_string_value(json_object_get(m, "better")) ?: "?");
    }
    for (size_t i = 0; i < json_array_size(acc); i++) {
        json_t *a = json_array_get(acc, i);
        const char *nm = json_string_value(json_object_get(a, "name"));
        json_t *er = json_object_get(a, "errors"), *w = json_object_get(a, "words");
        long long errs = 0, words = 0;
        for (size_t k = 0; k < json_array_size(er); k++) {
            errs += json_integer_value(json_array_get(er, k));
            words += json_integer_value(json_array_get(w, k));
        }
        char how[320], fig[512];
        snprintf(how, sizeof how, "%.120s: accuracy %.100s, word errors / reference words",
                 s->label, nm ? nm : "?");
        snprintf(fig, sizeof fig, "WER %s over %zu utterances (%lld words; compared per utterance)",
                 rpt_derived(d, words ? 100.0 * (double)errs / (double)words : NAN, "%", how),
                 json_array_size(er), words);
        rpt_trow(d, 0, "%s|%s|%s|lower", s->label, nm ? nm : "?", fig);
    }
}

void rpt_sec_sure(doc *d, const stt_report *r)
{
    rpt_h(d, 2, "How sure are we");
    rpt_para(d, "Every comparable figure that the results files list, with its n and its 95%% "
                "interval of the median (order statistics; a smaller coverage is stated when n is "
                "too small to reach 95%%), then every point a results file kept out of its "
                "decisions, with its reason (unstable, not saturated, ...).");
    int files = 0, rows = 0;
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++) {
            const src *s = &r->m[i].k[k];
            if (!s->j || k == K_TESTS || k == K_REGRESSION) continue;
            figures_of(d, s, &rows);
            files++;
        }
    rpt_close_blocks(d);
    char none[2048] = "";
    size_t used = 0;
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++) {
            const src *s = &r->m[i].k[k];
            if (!s->j || k == K_TESTS || k == K_REGRESSION || has_figures(s)) continue;
            if (used + 4 < sizeof none)
                used += (size_t)snprintf(none + used, sizeof none - used, "%s%s", used ? ", " : "",
                                         s->label);
        }
    if (used)
        rpt_para(
            d,
            "No comparable figures (n and interval) in %s. They were written before the results "
            "schema had them, or their command lists none yet. Their numbers are single "
            "measurements, and the answers resting on them are undetermined.",
            none);
    rpt_close_blocks(d);
    if (!files) rpt_para(d, "No measurement results were found.");
    rpt_h(d, 3, "Points excluded from decisions");
    int excluded = 0;
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++) {
            const src *s = &r->m[i].k[k];
            if (s->j) excluded = excluded_rows(d, s, s->j, "", 0, excluded);
        }
    rpt_close_blocks(d);
    if (!excluded)
        rpt_para(d, "No results file marks a point as excluded (a point is marked with "
                    "\"excluded\": \"reason\" in its results file).");
}
