/* shapes_model: which pod shape, how sure, and how it moves with the prices.
 * See shapes.h. No I/O. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "results.h"
#include "shapes.h"
#include "stats.h"

const double stt_shapes_price_scales[4] = {0, 0.25, 4, 16};

/* Cost per audio hour of shape s at prices pr for a throughput x (audio s per
 * s): (core price x cores + memory price x GiB) per wall hour over the audio
 * hours it transcribes in that hour. */
static double cost_at(const stt_shape *s, const stt_shapes_prices *pr, double x)
{
    double gib = isfinite(s->mem_bytes) ? s->pods * s->mem_bytes / 1073741824.0 : 0;
    return (pr->core_hour * s->pods * s->cores + pr->gib_hour * gib) / x;
}

/* The cheapest eligible shape at pr by median cost; -1 when none. */
static int cheapest(const stt_shape *s, int n, const stt_shapes_prices *pr,
                    const stt_shape_verdict *v, int skip)
{
    int best = -1;
    double bc = INFINITY;
    for (int i = 0; i < n; i++) {
        if (!v[i].eligible || i == skip) continue;
        double x = stt_stats_quantile(s[i].thr, (size_t)s[i].nthr, 0.5);
        double c = cost_at(&s[i], pr, x);
        if (c < bc) {
            bc = c;
            best = i;
        }
    }
    return best;
}

int stt_shapes_choose(const stt_shape *s, int n, const stt_shapes_prices *pr, double slo,
                      stt_shapes_choice *out)
{
    if (!s || !out || !pr || n < 1 || n > STT_SHAPES_MAX || !(pr->core_hour >= 0) ||
        !(pr->gib_hour >= 0))
        return STT_EINVAL;
    memset(out, 0, sizeof *out);
    out->chosen = out->runner_up = -1;
    out->ratio = out->ratio_lo = out->ratio_hi = out->breakeven_gib_hour = NAN;
    int measured = 0;
    for (int i = 0; i < n; i++) {
        stt_shape_verdict *v = &out->v[i];
        *v = (stt_shape_verdict){NAN, NAN, NAN, NAN, NAN, NAN, 0, 0};
        if (!s[i].ok || s[i].nthr < 1) continue;
        measured++;
        double cost[STT_SHAPES_MAX_REP];
        for (int r = 0; r < s[i].nthr; r++)
            cost[r] = cost_at(&s[i], pr, s[i].thr[r]);
        stt_summary cs;
        stt_stats_summarize(cost, (size_t)s[i].nthr, 0.95, &cs);
        v->cost = cs.median;
        v->cost_lo = cs.median_ci.lo;
        v->cost_hi = cs.median_ci.hi;
        stt_summary ps;
        if (s[i].np95 > 0 && stt_stats_summarize(s[i].p95, (size_t)s[i].np95, 0.95, &ps) == 0) {
            v->p95 = ps.median;
            v->p95_lo = ps.median_ci.lo;
            v->p95_hi = ps.median_ci.hi;
            if (slo > 0) v->slo = (int)stt_stats_side(&ps.median_ci, slo);
        }
        v->eligible = !(slo > 0) || v->slo != 1;
    }
    if (!measured) {
        out->basis = "no shape was measured";
        out->confidence = "undetermined";
        return 0;
    }
    /* Under the objective first; among the undetermined only when no shape is
     * surely under it; when every shape is over it, the shortest tail. */
    int any_meets = 0;
    for (int i = 0; i < n; i++)
        any_meets |= out->v[i].eligible && out->v[i].slo == -1;
    stt_shape_verdict v[STT_SHAPES_MAX];
    memcpy(v, out->v, sizeof v);
    if (slo > 0 && any_meets)
        for (int i = 0; i < n; i++)
            v[i].eligible = out->v[i].slo == -1;
    out->chosen = cheapest(s, n, pr, v, -1);
    if (out->chosen < 0) {
        for (int i = 0; i < n; i++)
            if (s[i].ok && s[i].nthr > 0 &&
                (out->chosen < 0 || out->v[i].p95 < out->v[out->chosen].p95))
                out->chosen = i;
        out->basis = "no shape meets the objective: the one with the shortest tail of short "
                     "requests; more pods or a faster profile are needed";
        out->confidence = "undetermined";
        return 0;
    }
    out->meets = out->v[out->chosen].slo == -1;
    out->basis = !(slo > 0)  ? "the cheapest per audio hour (no latency objective given)"
                 : any_meets ? "the cheapest per audio hour among the shapes whose short-request "
                               "p95 interval lies under the objective"
                             : "the cheapest per audio hour; whether it meets the objective is "
                               "undetermined at this n";
    out->runner_up = cheapest(s, n, pr, v, out->chosen);
    out->confidence = any_meets || !(slo > 0) ? "established" : "undetermined";
    if (out->runner_up >= 0) {
        const stt_shape *a = &s[out->chosen], *b = &s[out->runner_up];
        double ca[STT_SHAPES_MAX_REP], cb[STT_SHAPES_MAX_REP];
        for (int r = 0; r < a->nthr; r++)
            ca[r] = cost_at(a, pr, a->thr[r]);
        for (int r = 0; r < b->nthr; r++)
            cb[r] = cost_at(b, pr, b->thr[r]);
        stt_interval ci = {NAN, NAN, NAN};
        stt_stats_ratio_ci(ca, (size_t)a->nthr, cb, (size_t)b->nthr, 0.95, 2000, 20240601,
                           &out->ratio, &ci);
        out->ratio_lo = ci.lo;
        out->ratio_hi = ci.hi;
        /* The cost difference must clear its interval, with the five repeats
         * a comparison is made with ("likely" from three; fewer give no
         * interval worth the name). */
        int nmin = a->nthr < b->nthr ? a->nthr : b->nthr;
        const char *cost_word = !(ci.lo > 1) || nmin < 3 ? "undetermined"
                                : nmin >= 5              ? "established"
                                                         : "likely";
        /* as sure as its weaker part: the objective, then the cost */
        if (strcmp(out->confidence, "undetermined")) out->confidence = cost_word;
        /* (C + r M_a) / X_a = (C + r M_b) / X_b for r = memory price over core price */
        double xa = stt_stats_quantile(a->thr, (size_t)a->nthr, 0.5),
               xb = stt_stats_quantile(b->thr, (size_t)b->nthr, 0.5);
        double ma = isfinite(a->mem_bytes) ? a->pods * a->mem_bytes / 1073741824.0 : 0,
               mb = isfinite(b->mem_bytes) ? b->pods * b->mem_bytes / 1073741824.0 : 0;
        double den = ma / xa - mb / xb;
        double num = a->pods * a->cores / xb - a->pods * a->cores / xa;
        if (b->pods * b->cores == a->pods * a->cores && den != 0 && num / den > 0)
            out->breakeven_gib_hour = num / den * pr->core_hour;
    }
    for (int k = 0; k < 4; k++) {
        stt_shapes_prices q = *pr;
        q.gib_hour = pr->gib_hour * stt_shapes_price_scales[k];
        out->at_scale[k] = cheapest(s, n, &q, v, -1);
    }
    return 0;
}

static int samples_of(const json_t *fig, double *out, int max)
{
    const json_t *a = json_object_get(fig, "samples");
    int n = 0;
    for (size_t i = 0; i < json_array_size(a) && n < max; i++) {
        double v = json_number_value(json_array_get(a, i));
        if (json_is_number(json_array_get(a, i)) && isfinite(v)) out[n++] = v;
    }
    return n;
}

int stt_shapes_read(const json_t *doc, stt_shape *out, int max)
{
    const json_t *shapes = json_object_get(doc, "shapes");
    int n = 0;
    for (size_t i = 0; i < json_array_size(shapes) && n < max; i++) {
        const json_t *j = json_array_get(shapes, i);
        stt_shape *s = &out[n];
        memset(s, 0, sizeof *s);
        s->pods = (int)stt_results_get_num(j, "pods");
        s->cores = (int)stt_results_get_num(j, "cores_per_pod");
        if (s->pods < 1 || s->cores < 1) continue;
        s->nthr =
            samples_of(json_object_get(j, "throughput_audio_s_per_s"), s->thr, STT_SHAPES_MAX_REP);
        s->np95 = samples_of(json_object_get(j, "short_p95_s"), s->p95, STT_SHAPES_MAX_REP);
        s->mem_bytes = stt_results_get_num(j, "memory_peak_bytes");
        const char *st = json_string_value(json_object_get(j, "status"));
        s->ok = st && !strcmp(st, "ok") && s->nthr > 0;
        n++;
    }
    return n;
}

double stt_shapes_worst_memory(const json_t *doc, int cores, int *queue, int *workers)
{
    const json_t *w = json_object_get(doc, "memory_worst_case");
    if (queue) *queue = -1;
    if (workers) *workers = -1;
    for (size_t i = 0; i < json_array_size(w); i++) {
        const json_t *e = json_array_get(w, i);
        double m = stt_results_get_num(e, "max_bytes");
        if ((int)stt_results_get_num(e, "cores_per_pod") != cores || !(m > 0)) continue;
        if (queue) *queue = (int)stt_results_get_num(e, "queue");
        if (workers) *workers = (int)stt_results_get_num(e, "workers");
        return m;
    }
    return NAN;
}

/* "1x2" into buf. */
static const char *shape_name(char *buf, size_t len, const stt_shape *s)
{
    snprintf(buf, len, "%dx%d", s->pods, s->cores);
    return buf;
}

/* What the choice means for scaling, in words: up to the chosen pod size,
 * then out in pods of that size. */
static void scale_answer(char *buf, size_t len, const stt_shape *s, int n, int chosen)
{
    int largest = 0;
    for (int i = 0; i < n; i++)
        if (s[i].ok && s[i].cores > largest) largest = s[i].cores;
    int c = s[chosen].cores;
    if (c == 1)
        snprintf(buf, len, "Scale out: add pods of 1 core rather than grow a pod");
    else if (c == largest)
        snprintf(buf, len,
                 "Scale up first: grow a pod to %d cores (the largest measured), then add pods "
                 "of %d cores",
                 c, c);
    else
        snprintf(buf, len, "Grow a pod to %d cores, then add pods of %d cores", c, c);
}

json_t *stt_shapes_verdict(const stt_shape *s, int n, const stt_shapes_choice *c, double slo)
{
    if (!s || !c || n < 1) return NULL;
    json_t *v = json_object(), *why = json_array();
    char answer[240], text[600], a[16], b[16], settle[900] = "";
    size_t sl = 0;
    const char *conf = c->confidence ? c->confidence : "undetermined";
    int total = 0;
    for (int i = 0; i < n; i++)
        if (s[i].pods * s[i].cores > total) total = s[i].pods * s[i].cores;
    json_object_set_new(v, "question", json_string("scale"));
    if (c->chosen < 0) {
        json_object_set_new(v, "answer", json_string("undetermined"));
        json_array_append_new(why, json_string(c->basis ? c->basis : "no shape was measured"));
        json_object_set_new(v, "confidence", json_string("undetermined"));
        json_object_set_new(v, "reasons", why);
        return v;
    }
    const stt_shape *ch = &s[c->chosen];
    const stt_shape_verdict *cv = &c->v[c->chosen];
    int eligible = 0;
    for (int i = 0; i < n; i++)
        eligible |= s[i].ok && c->v[i].eligible;
    if (!eligible) {
        snprintf(answer, sizeof answer,
                 "No measured shape meets the p95 objective of %g s: scale out (more pods) or "
                 "serve a faster profile",
                 slo);
        conf = "undetermined";
    } else {
        scale_answer(answer, sizeof answer, s, n, c->chosen);
    }
    json_object_set_new(v, "answer", json_string(answer));
    json_object_set_new(v, "cores_per_pod", json_integer(ch->cores));
    if (c->runner_up >= 0) {
        const stt_shape *ru = &s[c->runner_up];
        const stt_shape_verdict *rv = &c->v[c->runner_up];
        int nmin = ch->nthr < ru->nthr ? ch->nthr : ru->nthr;
        snprintf(text, sizeof text,
                 "%s costs %.3g per audio hour [%.3g, %.3g], %s %.3g [%.3g, %.3g]: the runner-up "
                 "costs %.2f times as much [%.2f, %.2f] (%d rounds each, interleaved)",
                 shape_name(a, sizeof a, ch), cv->cost, cv->cost_lo, cv->cost_hi,
                 shape_name(b, sizeof b, ru), rv->cost, rv->cost_lo, rv->cost_hi, c->ratio,
                 c->ratio_lo, c->ratio_hi, nmin);
        json_array_append_new(why, json_string(text));
        char fig[64];
        snprintf(fig, sizeof fig, "cost of %s over %s per audio hour", b, a);
        json_object_set_new(v, "figure",
                            json_pack("{s:s, s:o, s:[o, o], s:i, s:s}", "name", fig, "value",
                                      stt_results_num(c->ratio), "ci", stt_results_num(c->ratio_lo),
                                      stt_results_num(c->ratio_hi), "n", nmin, "unit", "x"));
        if (!(c->ratio_lo > 1))
            sl += (size_t)snprintf(settle + sl, sizeof settle - sl,
                                   "More rounds (`sttbench shapes --repeats N`), until the cost "
                                   "interval clears 1. ");
    } else {
        /* No runner-up: the other shapes are over the objective, or were not
         * measured; the chosen one's tail is then the deciding figure. */
        size_t tl = 0;
        text[0] = 0;
        for (int i = 0; i < n && tl < sizeof text; i++)
            if (i != c->chosen && s[i].ok && c->v[i].slo == 1)
                tl += (size_t)snprintf(text + tl, sizeof text - tl,
                                       "%s%s: short requests' p95 %.3g s [%.3g, %.3g], over the "
                                       "objective, so it is out",
                                       tl ? "; " : "", shape_name(b, sizeof b, &s[i]), c->v[i].p95,
                                       c->v[i].p95_lo, c->v[i].p95_hi);
        json_array_append_new(why, json_string(tl ? text
                                                  : "only one shape was measured: nothing to "
                                                    "compare"));
        if (!tl) conf = "undetermined";
        if (slo > 0) {
            char fig[64];
            snprintf(fig, sizeof fig, "short requests' p95 on %s", shape_name(a, sizeof a, ch));
            json_object_set_new(v, "figure",
                                json_pack("{s:s, s:o, s:[o, o], s:i, s:s}", "name", fig, "value",
                                          stt_results_num(cv->p95), "ci",
                                          stt_results_num(cv->p95_lo), stt_results_num(cv->p95_hi),
                                          "n", ch->np95, "unit", "s"));
        }
    }
    if (slo > 0) {
        snprintf(text, sizeof text,
                 "short requests' p95 on %s is %.3g s [%.3g, %.3g] against the objective of %g "
                 "s: %s",
                 shape_name(a, sizeof a, ch), cv->p95, cv->p95_lo, cv->p95_hi, slo,
                 cv->slo == -1  ? "under it"
                 : cv->slo == 1 ? "over it"
                                : "the interval straddles it, undetermined at this n");
        json_array_append_new(why, json_string(text));
        if (cv->slo != -1 && sl < sizeof settle)
            sl += (size_t)snprintf(settle + sl, sizeof settle - sl,
                                   "More rounds or a lower `--load`, until the short requests' "
                                   "p95 interval clears the objective. ");
    } else {
        json_array_append_new(why, json_string("no latency objective was given: the shape is "
                                               "the cheapest, not one known to keep a promise"));
        if (!strcmp(conf, "established")) conf = "likely";
        if (sl < sizeof settle)
            sl += (size_t)snprintf(settle + sl, sizeof settle - sl,
                                   "An objective (`--slo-p95`, or `--load-json` with one). ");
    }
    /* Prices move; a choice that turns within a factor of 4 of the memory
     * price is a choice of prices, not of the service. */
    int turns = c->at_scale[1] != c->chosen || c->at_scale[2] != c->chosen;
    if (turns) {
        int k = c->at_scale[1] != c->chosen ? c->at_scale[1] : c->at_scale[2];
        snprintf(text, sizeof text, "the choice turns to %s at a memory price %s as high",
                 k >= 0 ? shape_name(a, sizeof a, &s[k]) : "none",
                 c->at_scale[1] != c->chosen ? "a quarter" : "four times");
        if (!strcmp(conf, "established")) conf = "likely";
    } else {
        snprintf(text, sizeof text,
                 "the choice holds from a quarter to four times the memory price");
    }
    json_array_append_new(why, json_string(text));
    if (sl < sizeof settle)
        snprintf(settle + sl, sizeof settle - sl,
                 "Pods of more than %d cores were not measured on this machine: a larger one, "
                 "measured with `sttbench shapes`, says whether growing further still pays.",
                 total);
    json_object_set_new(v, "confidence", json_string(conf));
    json_object_set_new(v, "reasons", why);
    json_object_set_new(v, "to_confirm", json_string(settle));
    return v;
}
