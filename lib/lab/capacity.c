/* capacity: see capacity.h. */
#include "capacity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

stt_capacity_params stt_capacity_default_params(void)
{
    stt_capacity_params p = {.margin = 0.05, .level = 0.95, .resamples = 2000, .seed = 1};
    return p;
}

const char *stt_capacity_metric_name(stt_capacity_metric m)
{
    static const char *const names[STT_CAP_NMETRICS] = {"throughput", "short_latency",
                                                        "long_latency", "poisson_p95"};
    return m < STT_CAP_NMETRICS ? names[m] : "?";
}

static const char *metric_words(stt_capacity_metric m)
{
    static const char *const w[STT_CAP_NMETRICS] = {"throughput", "one short request",
                                                    "one long request", "p95 under Poisson load"};
    return m < STT_CAP_NMETRICS ? w[m] : "?";
}

const char *stt_capacity_side_name(stt_capacity_side s)
{
    switch (s) {
    case STT_CAP_UNDETERMINED:
        return "undetermined";
    case STT_CAP_STRONG:
        return "strong cores";
    case STT_CAP_WEAK:
        return "many cores";
    case STT_CAP_EQUAL:
        return "equal";
    default:
        return "not measured";
    }
}

const char *stt_capacity_caveat(void)
{
    return "The weak cores are emulated: each is a full core of this machine given a CFS "
           "bandwidth share, so they share the strong cores' caches, memory bandwidth and "
           "memory latency. They are slower time slices of the same microarchitecture, not a "
           "slower microarchitecture; a second real machine (sttbench cpu --compare) is the "
           "stronger evidence.";
}

/* Pooled latencies of the rounds idx of one configuration. */
static size_t pool(const stt_capacity_config *c, const size_t *idx, size_t n, double *out,
                   size_t max)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        size_t r = idx[k];
        for (size_t j = 0; c->poisson[r] && j < c->npoisson[r] && m < max; j++)
            out[m++] = c->poisson[r][j];
    }
    return m;
}

typedef struct p95_arg {
    const stt_capacity_config *strong, *weak;
    double *buf;
    size_t max;
} p95_arg;

static double p95_ratio_stat(const size_t *idx, size_t n, void *arg)
{
    p95_arg *a = arg;
    size_t ns = pool(a->strong, idx, n, a->buf, a->max);
    if (!stt_stats_percentile_supported(ns, 95)) return NAN;
    double ps = stt_stats_quantile(a->buf, ns, 0.95);
    size_t nw = pool(a->weak, idx, n, a->buf, a->max);
    if (!stt_stats_percentile_supported(nw, 95)) return NAN;
    double pw = stt_stats_quantile(a->buf, nw, 0.95);
    return ps > 0 ? pw / ps : NAN;
}

static size_t pooled_total(const stt_capacity_config *c, size_t nrounds)
{
    size_t t = 0;
    for (size_t r = 0; c->poisson && r < nrounds; r++)
        if (c->poisson[r]) t += c->npoisson[r];
    return t;
}

/* The side of a ratio weak / strong: higher is better for throughput, lower
 * for latencies. */
static void judge(stt_capacity_metric_result *res, int higher_better, double margin, size_t n)
{
    int eq = 0;
    stt_side s = stt_rounds_side(&res->ratio, margin, &eq);
    const stt_estimate *e = &res->ratio;
    if (s == STT_ABOVE)
        res->side = higher_better ? STT_CAP_WEAK : STT_CAP_STRONG;
    else if (s == STT_BELOW)
        res->side = higher_better ? STT_CAP_STRONG : STT_CAP_WEAK;
    else if (eq)
        res->side = STT_CAP_EQUAL;
    else
        res->side = STT_CAP_UNDETERMINED;
    if (res->side != STT_CAP_UNDETERMINED) {
        snprintf(res->why, sizeof res->why,
                 "weak/strong %.3f (%.3f-%.3f, n %zu) %s the band 1 +/- %.2f", e->value, e->ci.lo,
                 e->ci.hi, e->n, res->side == STT_CAP_EQUAL ? "lies inside" : "clears", margin);
        return;
    }
    if (!isfinite(e->ci.lo)) {
        snprintf(res->why, sizeof res->why, "undetermined at n=%zu: no interval", n);
        return;
    }
    if (e->n < STT_ROUNDS_MIN) {
        snprintf(res->why, sizeof res->why,
                 "undetermined at n=%zu: a verdict needs at least %d rounds of both "
                 "configurations",
                 e->n, STT_ROUNDS_MIN);
        return;
    }
    double edge = e->value >= 1 ? 1 + margin : 1 - margin;
    if (e->value > 1 - margin && e->value < 1 + margin)
        edge = e->value - (1 - margin) < (1 + margin) - e->value ? 1 - margin : 1 + margin;
    long need = stt_rounds_needed(e, edge);
    if (need > 100)
        snprintf(res->why, sizeof res->why,
                 "undetermined at n=%zu: weak/strong %.3f (%.3f-%.3f) straddles the band 1 +/- "
                 "%.2f; at this spread more rounds alone are unlikely to settle it (about %ld); a "
                 "quieter machine, with less spread, would",
                 e->n, e->value, e->ci.lo, e->ci.hi, margin, need);
    else if (need > 0)
        snprintf(res->why, sizeof res->why,
                 "undetermined at n=%zu: weak/strong %.3f (%.3f-%.3f) straddles the band 1 +/- "
                 "%.2f; about %ld rounds would settle it if the spread stays as it is (or a "
                 "quieter machine)",
                 e->n, e->value, e->ci.lo, e->ci.hi, margin, need);
    else
        snprintf(res->why, sizeof res->why,
                 "undetermined at n=%zu: weak/strong %.3f (%.3f-%.3f) sits on the band's edge "
                 "1 +/- %.2f; more rounds alone will not settle it",
                 e->n, e->value, e->ci.lo, e->ci.hi, margin);
}

static int same(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1, fabs(a));
}

int stt_capacity_analyse(const stt_capacity_input *in, const stt_capacity_params *pp,
                         stt_capacity *out)
{
    memset(out, 0, sizeof *out);
    out->headline = -1;
    out->answer = "undetermined";
    out->confidence = "undetermined";
    stt_capacity_params p = pp ? *pp : stt_capacity_default_params();
    if (!in || in->nconfigs < 2 || in->nconfigs > STT_CAPACITY_MAX || !in->nrounds)
        return STT_EINVAL;
    const stt_capacity_config *st = &in->cfg[0];
    if (!same(st->speed, 1.0)) return STT_EINVAL;
    for (size_t i = 1; i < in->nconfigs; i++)
        if (!same(in->cfg[i].cores * in->cfg[i].speed, (double)st->cores) ||
            in->cfg[i].cores <= st->cores)
            return STT_EINVAL;
    size_t R = in->nrounds, maxpool = 0;
    for (size_t i = 0; i < in->nconfigs; i++) {
        const stt_capacity_config *c = &in->cfg[i];
        stt_capacity_p95 *q = &out->p95[i];
        q->p95 = NAN;
        q->ci = (stt_interval){NAN, NAN, NAN};
        size_t t = pooled_total(c, R);
        if (t > maxpool) maxpool = t;
    }
    double *buf = malloc((maxpool ? maxpool : 1) * sizeof *buf);
    if (!buf) return STT_ENOMEM;
    size_t all[1024];
    size_t RR = R < 1024 ? R : 1024;
    for (size_t r = 0; r < RR; r++)
        all[r] = r;
    for (size_t i = 0; i < in->nconfigs; i++) {
        const stt_capacity_config *c = &in->cfg[i];
        stt_capacity_p95 *q = &out->p95[i];
        if (!c->poisson) continue;
        q->n = pool(c, all, RR, buf, maxpool);
        q->supported = stt_stats_percentile_supported(q->n, 95);
        if (q->n) {
            q->p95 = stt_stats_quantile(buf, q->n, 0.95);
            stt_stats_quantile_ci(buf, q->n, 0.95, p.level, &q->ci);
        }
    }
    for (size_t i = 1; i < in->nconfigs; i++) {
        const stt_capacity_config *w = &in->cfg[i];
        stt_capacity_pair *pr = &out->pair[out->npairs++];
        pr->weak = (int)i;
        for (int m = 0; m < STT_CAP_NMETRICS; m++) {
            pr->m[m].ratio = stt_estimate_none();
            pr->m[m].side = STT_CAP_NOT_MEASURED;
            snprintf(pr->m[m].why, sizeof pr->m[m].why, "not measured");
        }
        const double *a[3] = {st->throughput, st->short_s, st->long_s};
        const double *b[3] = {w->throughput, w->short_s, w->long_s};
        for (int m = 0; m < 3; m++) {
            stt_capacity_metric_result *res = &pr->m[m];
            if (!a[m] || !b[m]) continue;
            if (m == STT_CAP_THROUGHPUT && (st->excluded || w->excluded)) {
                res->side = STT_CAP_UNDETERMINED;
                snprintf(res->why, sizeof res->why,
                         "excluded: the %s configuration's throughput was not saturated or not "
                         "stable, so it enters no verdict",
                         st->excluded ? "strong" : "weak");
                if (stt_rounds_ratio(a[m], b[m], R, 0, p.level, &res->ratio))
                    res->ratio = stt_estimate_none();
                continue;
            }
            if (stt_rounds_ratio(a[m], b[m], R, 0, p.level, &res->ratio)) {
                snprintf(res->why, sizeof res->why, "no round measured both configurations");
                res->side = STT_CAP_UNDETERMINED;
                continue;
            }
            judge(res, m == STT_CAP_THROUGHPUT, p.margin, R);
        }
        stt_capacity_metric_result *res = &pr->m[STT_CAP_P95];
        if (st->poisson && w->poisson) {
            if (!out->p95[0].supported || !out->p95[i].supported) {
                res->side = STT_CAP_UNDETERMINED;
                snprintf(res->why, sizeof res->why,
                         "n too small: %zu and %zu requests, a p95 needs 20 in each", out->p95[0].n,
                         out->p95[i].n);
            } else {
                p95_arg arg = {st, w, buf, maxpool};
                stt_rounds_bootstrap(R, p95_ratio_stat, &arg, p.level, p.resamples, p.seed + i,
                                     &res->ratio);
                judge(res, 0, p.margin, R);
            }
        }
        if (out->headline < 0 && same(w->speed, 0.5)) out->headline = (int)(out->npairs - 1);
    }
    free(buf);
    if (out->headline < 0) out->headline = 0;

    /* The headline answer from the per-metric sides. */
    const stt_capacity_pair *h = &out->pair[out->headline];
    int nw = 0, ns = 0, ne = 0, nu = 0;
    for (int m = 0; m < STT_CAP_NMETRICS; m++) {
        stt_capacity_side s = h->m[m].side;
        nw += s == STT_CAP_WEAK;
        ns += s == STT_CAP_STRONG;
        ne += s == STT_CAP_EQUAL;
        nu += s == STT_CAP_UNDETERMINED;
    }
    if (nw && ns)
        out->answer = "mixed";
    else if (ns)
        out->answer = "strong cores";
    else if (nw)
        out->answer = "many cores";
    else if (ne)
        out->answer = "either";
    else
        out->answer = "undetermined";
    out->confidence = !strcmp(out->answer, "undetermined") ? "undetermined"
                      : nu                                 ? "likely"
                                                           : "established";
    const stt_capacity_config *w = &in->cfg[h->weak];
    size_t k = 0;
    k += (size_t)snprintf(out->summary + k, sizeof out->summary - k,
                          "%d x %.2g against %d x 1.0 (equal capacity): ", w->cores, w->speed,
                          st->cores);
    for (int m = 0; m < STT_CAP_NMETRICS && k < sizeof out->summary; m++) {
        const stt_capacity_metric_result *r = &h->m[m];
        if (r->side == STT_CAP_NOT_MEASURED)
            k += (size_t)snprintf(out->summary + k, sizeof out->summary - k, "%s%s not measured",
                                  m ? "; " : "", metric_words((stt_capacity_metric)m));
        else if (!isfinite(r->ratio.value))
            /* No ratio to print (why says more). */
            k += (size_t)snprintf(out->summary + k, sizeof out->summary - k,
                                  "%s%s %s (no ratio: a side was left out or counted too few "
                                  "rounds)",
                                  m ? "; " : "", metric_words((stt_capacity_metric)m),
                                  stt_capacity_side_name(r->side));
        else
            k += (size_t)snprintf(
                out->summary + k, sizeof out->summary - k, "%s%s %s (weak/strong %.2f, %.2f-%.2f)",
                m ? "; " : "", metric_words((stt_capacity_metric)m),
                stt_capacity_side_name(r->side), r->ratio.value, r->ratio.ci.lo, r->ratio.ci.hi);
    }
    if (k < sizeof out->summary) snprintf(out->summary + k, sizeof out->summary - k, ".");
    const stt_capacity_metric_result *sh = &h->m[STT_CAP_SHORT], *lg = &h->m[STT_CAP_LONG];
    snprintf(out->mechanism, sizeof out->mechanism,
             "A short file was cut into %.0f piece(s): one piece runs on one core, so at %.2g "
             "of a core's speed its latency is expected near %.2g times the strong core's "
             "(measured %.2f). A long file was cut into %.0f pieces, decoded in parallel across "
             "the cores, so %d cores at %.2g speed can match %d at full speed (measured %.2f). "
             "Throughput is total capacity, equal here by construction up to per-core "
             "overheads (measured %.2f).",
             w->short_pieces, w->speed, 1.0 / w->speed, sh->ratio.value, w->long_pieces, w->cores,
             w->speed, st->cores, lg->ratio.value, h->m[STT_CAP_THROUGHPUT].ratio.value);
    k = 0;
    for (int m = 0; m < STT_CAP_NMETRICS && k < sizeof out->settle; m++)
        if (h->m[m].side == STT_CAP_UNDETERMINED)
            k += (size_t)snprintf(out->settle + k, sizeof out->settle - k, "%s%s: %s",
                                  k ? "; " : "", metric_words((stt_capacity_metric)m), h->m[m].why);
    return 0;
}
