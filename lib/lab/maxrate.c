/* maxrate: see maxrate.h. */
#include "maxrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "trace.h"

stt_maxrate_params stt_maxrate_default_params(void)
{
    stt_maxrate_params p;
    memset(&p, 0, sizeof p);
    p.m = stt_sweep_default_params();
    p.m.mode = STT_LOAD_OPEN;
    p.m.arrival = STT_ARRIVAL_POISSON;
    p.slo_p95_s = 0;
    p.error_budget = 0.01;
    p.repeats = 3;
    p.min_requests = 100;
    p.start_rate = 1;
    p.tolerance = 0.05;
    p.max_probes = 12;
    return p;
}

const char *stt_probe_verdict_name(stt_probe_verdict v)
{
    switch (v) {
    case STT_PROBE_PASS:
        return "pass";
    case STT_PROBE_FAIL:
        return "fail";
    case STT_PROBE_UNSTABLE:
        return "unstable";
    case STT_PROBE_UNDETERMINED:
        break;
    }
    return "undetermined";
}

stt_probe_verdict stt_maxrate_verdict(const stt_sweep_summary *s, double slo, double budget,
                                      const char **why)
{
    const char *w;
    stt_probe_verdict v;
    /* A clear failure stays one however unsteady the runs: failures over the
     * budget, or a p95 interval wholly above the objective. A pass needs
     * runs that are stable, or too small per window for stability to be
     * judged (loadgen.c), when the interval over the repeats decides. */
    if (s->n && s->failure_rate > budget) {
        v = STT_PROBE_FAIL, w = "failed requests over the error budget";
    } else if (isfinite(s->p95_slo_ci.lo) && s->p95_slo_ci.lo > slo) {
        v = STT_PROBE_FAIL, w = "the p95 interval is above the objective";
    } else if (s->unstable) {
        v = STT_PROBE_UNSTABLE, w = "a run stayed unstable (excluded)";
    } else if (!isfinite(s->p95_slo_ci.lo) || !isfinite(s->p95_slo_ci.hi)) {
        v = STT_PROBE_UNDETERMINED, w = "n too small for a p95";
    } else {
        stt_side side = stt_stats_side(&s->p95_slo_ci, slo);
        v = side == STT_BELOW   ? STT_PROBE_PASS
            : side == STT_ABOVE ? STT_PROBE_FAIL
                                : STT_PROBE_UNDETERMINED;
        w = side == STT_BELOW   ? "the p95 interval is under the objective"
            : side == STT_ABOVE ? "the p95 interval is above the objective"
                                : "the p95 interval contains the objective";
    }
    if (why) *why = w;
    return v;
}

static int check(const stt_maxrate_params *p, char *err, size_t errlen)
{
    if (!p->m.load) return stt_seterr(err, errlen, STT_EINVAL, "no load parameters");
    if (!(p->slo_p95_s > 0)) return stt_seterr(err, errlen, STT_EINVAL, "the SLO must be > 0");
    if (!(p->error_budget >= 0 && p->error_budget < 1))
        return stt_seterr(err, errlen, STT_EINVAL, "the error budget must be in [0, 1)");
    if (p->repeats < 3)
        return stt_seterr(err, errlen, STT_EINVAL, "each probe needs at least 3 repeats");
    if (p->min_requests < 1 || !(p->start_rate > 0) || !(p->tolerance > 0) || p->max_probes < 1)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "requests, start rate, tolerance and probes must be positive");
    if (p->m.arrival == STT_ARRIVAL_TRACE && (!p->m.trace_at_s || p->m.ntrace < 2))
        return stt_seterr(err, errlen, STT_EINVAL, "a trace needs at least two arrivals");
    if (p->m.max_extend < 0) return stt_seterr(err, errlen, STT_EINVAL, "max_extend must be >= 0");
    return 0;
}

/* 1 when one run already fails the probe whatever more of it would show. */
static int run_settled(void *arg, const stt_load_result *r)
{
    const stt_maxrate_params *p = arg;
    size_t n = r->nsamples;
    if (!n) return 0;
    if ((double)stt_load_failures(r) / (double)n > p->error_budget) return 1;
    double *x = malloc(n * sizeof *x);
    if (!x) return 0;
    for (size_t i = 0; i < n; i++)
        x[i] = r->samples[i].outcome == STT_LOAD_OK ? r->samples[i].latency_s : STT_SWEEP_MISS_S;
    stt_interval ci;
    int above = stt_stats_percentile_supported(n, 95) &&
                stt_stats_quantile_ci(x, n, 0.95, 0.95, &ci) == 0 && ci.lo > p->slo_p95_s;
    free(x);
    return above;
}

static int probe(const stt_maxrate_params *p, double rate, stt_maxrate_probe *pr, char *err,
                 size_t errlen)
{
    memset(pr, 0, sizeof *pr);
    pr->rate = rate;
    stt_sweep_point *pt = &pr->pt;
    pt->offered = rate;
    pt->runs = calloc((size_t)p->repeats, sizeof *pt->runs);
    if (!pt->runs) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    stt_load_step *s = &pt->step;
    s->mode = STT_LOAD_OPEN;
    s->rate = rate;
    s->arrival = p->m.arrival;
    s->requests = p->min_requests;
    s->warmup_s = p->m.warmup_s;
    if (p->m.arrival == STT_ARRIVAL_TRACE) {
        stt_trace tr = {(double *)p->m.trace_at_s, NULL, NULL, p->m.ntrace};
        pt->trace_scaled = malloc(p->m.ntrace * sizeof *pt->trace_scaled);
        if (!pt->trace_scaled) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        stt_trace_scaled(&tr, rate, pt->trace_scaled);
        s->trace_at_s = pt->trace_scaled;
        s->trace_body = p->m.trace_body;
        s->ntrace = p->m.ntrace;
    }
    stt_sweep_params mp = p->m;
    mp.settled = run_settled;
    mp.settled_arg = (void *)p;
    uint64_t failed = 0;
    for (int r = 0; r < p->repeats; r++) {
        stt_load_step st = *s;
        st.seed = p->m.seed + 7919u * (uint64_t)r + (uint64_t)llround(rate * 1000);
        char label[96];
        snprintf(label, sizeof label, "probe %.4g/s (repeat %d/%d)", rate, r + 1, p->repeats);
        int rc = stt_sweep_measure(&mp, &st, label, &pt->runs[r], err, errlen);
        if (rc) return rc;
        pt->runs[r].round = r;
        pt->nruns = r + 1;
        /* Stop repeating a probe that can no longer pass: its failures so far
         * exceed the budget of every request it would count. */
        failed += stt_load_failures(&pt->runs[r].res);
        if ((double)failed > p->error_budget * (double)p->repeats * (double)p->min_requests) break;
    }
    if (stt_sweep_summarize(pt, &pt->sum))
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    pr->verdict = stt_maxrate_verdict(&pt->sum, p->slo_p95_s, p->error_budget, &pr->why);
    if (p->m.progress) {
        char v[3][32];
        const double x[3] = {pt->sum.p95_slo, pt->sum.p95_slo_ci.lo, pt->sum.p95_slo_ci.hi};
        for (int i = 0; i < 3; i++)
            if (x[i] >= STT_SWEEP_MISS_S)
                snprintf(v[i], sizeof v[i], "a miss");
            else
                snprintf(v[i], sizeof v[i], "%.4g s", x[i]);
        fprintf(p->m.progress,
                "  probe %.4g/s: p95 %s [%s, %s] (failures as misses, n %llu), failed %.2f%% -> "
                "%s\n",
                rate, v[0], v[1], v[2], (unsigned long long)pt->sum.n, 100 * pt->sum.failure_rate,
                stt_probe_verdict_name(pr->verdict));
    }
    return 0;
}

int stt_maxrate_search(const stt_maxrate_params *p, stt_maxrate *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = check(p, err, errlen);
    if (rc) return rc;
    out->arrival = p->m.arrival;
    out->capacity = p->m.arrival != STT_ARRIVAL_CONSTANT;
    out->slo_p95_s = p->slo_p95_s;
    out->error_budget = p->error_budget;
    out->best = -1;
    out->probes = calloc((size_t)p->max_probes, sizeof *out->probes);
    if (!out->probes) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    double lo = 0, hi = INFINITY, rate = p->start_rate;
    while (out->nprobes < p->max_probes) {
        stt_maxrate_probe *pr = &out->probes[out->nprobes];
        rc = probe(p, rate, pr, err, errlen);
        out->nprobes++;
        if (rc) {
            stt_maxrate_free(out);
            return rc;
        }
        if (pr->verdict == STT_PROBE_PASS) {
            if (rate > lo) {
                lo = rate;
                out->best = out->nprobes - 1;
            }
        } else if (rate < hi) {
            hi = rate;
        }
        if (isfinite(hi) && lo > 0 && hi - lo <= p->tolerance * lo) break;
        /* Nothing passes even far below the first rate: give up. */
        if (lo == 0 && hi < p->start_rate / 1024) break;
        rate = !isfinite(hi) ? 2 * lo : lo > 0 ? (lo + hi) / 2 : hi / 2;
    }
    out->max_rate = lo;
    out->bracket_lo = lo;
    out->bracket_hi = hi;
    return 0;
}

int stt_maxrate_check_model(stt_maxrate *m, const stt_sweep_service *sv, int servers, uint64_t seed,
                            char *err, size_t errlen)
{
    free(m->checks);
    m->checks = NULL;
    m->nchecks = 0;
    m->servers = 0;
    if (servers < 1) return stt_seterr(err, errlen, STT_EINVAL, "servers must be >= 1");
    if (!sv || sv->point < 0 || m->nprobes == 0) return 0;
    m->checks = calloc((size_t)m->nprobes, sizeof *m->checks);
    if (!m->checks) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    m->servers = servers;
    for (int i = 0; i < m->nprobes; i++) {
        int rc = stt_sweep_check_point(&m->probes[i].pt, i, sv, servers, seed,
                                       &m->checks[m->nchecks], err, errlen);
        if (rc < 0) return rc;
        m->nchecks += rc;
    }
    return 0;
}

void stt_maxrate_free(stt_maxrate *m)
{
    if (!m) return;
    free(m->checks);
    for (int i = 0; m->probes && i < m->nprobes; i++) {
        stt_sweep_point *pt = &m->probes[i].pt;
        for (int r = 0; pt->runs && r < pt->nruns; r++)
            stt_load_result_free(&pt->runs[r].res);
        free(pt->runs);
        free(pt->trace_scaled);
    }
    free(m->probes);
    memset(m, 0, sizeof *m);
}
