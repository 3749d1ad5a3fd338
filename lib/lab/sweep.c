/* sweep: see sweep.h. */
#include "sweep.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "queueing.h"
#include "trace.h"

const double stt_sweep_pcts[6] = {50, 90, 95, 99, 99.9, 100};

stt_sweep_params stt_sweep_default_params(void)
{
    stt_sweep_params p;
    memset(&p, 0, sizeof p);
    p.mode = STT_LOAD_CLOSED;
    p.arrival = STT_ARRIVAL_POISSON;
    const double v[] = {1, 2, 4, 8};
    memcpy(p.values, v, sizeof v);
    p.nvalues = 4;
    p.duration_s = 10;
    p.requests = 0;
    p.warmup_s = 2;
    p.seed = 1;
    p.repeats = 1;
    p.max_extend = 2;
    p.trace_at_s = NULL;
    p.trace_body = NULL;
    p.ntrace = 0;
    p.settled = NULL;
    p.settled_arg = NULL;
    p.load = NULL;
    p.run = NULL;
    p.run_arg = NULL;
    p.progress = NULL;
    return p;
}

const char *stt_knee_state_name(stt_knee_state s)
{
    switch (s) {
    case STT_KNEE_NONE:
        return "none";
    case STT_KNEE_FOUND:
        return "found";
    case STT_KNEE_UNDETERMINED:
        return "undetermined";
    case STT_KNEE_TOO_FEW:
        return "too few stable points";
    }
    return "?";
}

const char *stt_check_verdict_name(stt_check_verdict v)
{
    return v == STT_CHECK_WITHIN ? "within" : v == STT_CHECK_OUTSIDE ? "outside" : "undetermined";
}

stt_interval stt_sweep_failure_ci(uint64_t k, uint64_t n)
{
    stt_interval ci = {NAN, NAN, NAN};
    if (n == 0 || k > n) return ci;
    /* Clopper-Pearson from the beta quantiles (GSL); stats.h has no
     * binomial interval. */
    double a = 0.025;
    ci.lo = k == 0 ? 0 : gsl_cdf_beta_Pinv(a, (double)k, (double)(n - k + 1));
    ci.hi = k == n ? 1 : gsl_cdf_beta_Pinv(1 - a, (double)(k + 1), (double)(n - k));
    ci.coverage = 0.95;
    return ci;
}

/* ---- measuring ---- */

static int default_run(void *arg, const stt_load_params *p, const stt_load_step *s,
                       stt_load_result *out, char *err, size_t errlen)
{
    (void)arg;
    return stt_load_run_step(p, s, out, err, errlen);
}

typedef struct {
    FILE *f;
    const char *label;
} ticker;

static void tick(void *arg, double elapsed, uint64_t done)
{
    ticker *t = arg;
    fprintf(t->f, "\r  %s  %6.1f s, %llu answered   ", t->label, elapsed, (unsigned long long)done);
    fflush(t->f);
}

int stt_sweep_measure(const stt_sweep_params *p, const stt_load_step *step, const char *label,
                      stt_sweep_repeat *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    stt_load_params lp = *p->load;
    ticker tk = {p->progress, label};
    int tty = p->progress && isatty(fileno(p->progress));
    if (tty) {
        lp.progress = tick;
        lp.progress_arg = &tk;
    }
    stt_sweep_run_fn run = p->run ? p->run : default_run;
    stt_load_step s = *step;
    int trace = s.mode == STT_LOAD_OPEN && s.arrival == STT_ARRIVAL_TRACE;
    for (int attempt = 0; attempt <= p->max_extend; attempt++) {
        if (attempt) {
            stt_load_result_free(&out->res);
            /* Longer windows hold more requests; a trace can only be replayed again. */
            if (!trace) {
                if (s.requests > 0)
                    s.requests *= 2;
                else
                    s.duration_s *= 2;
            }
        }
        int rc = run(p->run_arg, &lp, &s, &out->res, err, errlen);
        if (tty) fprintf(p->progress, "\r%-72s\r", "");
        if (rc) return rc;
        out->attempts = attempt + 1;
        out->duration_s = s.duration_s;
        out->requests = s.requests;
        int settled = !out->res.stable && p->settled && p->settled(p->settled_arg, &out->res);
        int last = out->res.stable || settled || attempt == p->max_extend;
        if (p->progress)
            fprintf(p->progress, "  %s: %llu requests, %llu failed, %s%s\n", label,
                    (unsigned long long)(out->res.completed + out->res.dropped),
                    (unsigned long long)stt_load_failures(&out->res),
                    out->res.stable             ? "stable"
                    : out->res.stability_judged ? "unstable"
                                                : "too few per window to judge stability",
                    settled ? " (a clear failure: not lengthened)"
                    : last  ? ""
                    : trace ? "; measuring again"
                            : "; measuring again, twice as long");
        if (last) break;
    }
    return 0;
}

static int check_params(const stt_sweep_params *p, char *err, size_t errlen)
{
    if (!p->load) return stt_seterr(err, errlen, STT_EINVAL, "no load parameters");
    if (p->nvalues < 1 || p->nvalues > STT_SWEEP_MAX_POINTS)
        return stt_seterr(err, errlen, STT_EINVAL, "1 to %d sweep points", STT_SWEEP_MAX_POINTS);
    for (int i = 0; i < p->nvalues; i++)
        if (!(p->values[i] > 0) || (i && !(p->values[i] > p->values[i - 1])))
            return stt_seterr(err, errlen, STT_EINVAL,
                              "sweep points must be positive and ascending");
    if (p->mode == STT_LOAD_CLOSED)
        for (int i = 0; i < p->nvalues; i++)
            if (p->values[i] != floor(p->values[i]))
                return stt_seterr(err, errlen, STT_EINVAL, "concurrency must be whole");
    if (p->repeats < 1) return stt_seterr(err, errlen, STT_EINVAL, "repeats must be >= 1");
    if (p->max_extend < 0) return stt_seterr(err, errlen, STT_EINVAL, "max_extend must be >= 0");
    int trace = p->mode == STT_LOAD_OPEN && p->arrival == STT_ARRIVAL_TRACE;
    if (trace && (!p->trace_at_s || p->ntrace < 2))
        return stt_seterr(err, errlen, STT_EINVAL, "a trace sweep needs at least two arrivals");
    if (!trace && p->requests <= 0 && !(p->duration_s > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "need a duration or a request count");
    return 0;
}

/* The order of each round: ascending for one round; shuffled (Fisher-Yates,
 * seeded) for several, so that drift does not follow the offered load. */
static void make_order(int *order, int nrounds, int n, uint64_t seed)
{
    uint64_t st = seed ^ 0x9e3779b97f4a7c15ull;
    for (int r = 0; r < nrounds; r++) {
        int *o = order + (size_t)r * (size_t)n;
        for (int i = 0; i < n; i++)
            o[i] = i;
        if (nrounds == 1) continue;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(stt_stats_uniform(&st) * (i + 1));
            if (j > i) j = i;
            int t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
    }
}

int stt_sweep_run(const stt_sweep_params *p, stt_sweep *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = check_params(p, err, errlen);
    if (rc) return rc;
    int n = p->nvalues, trace = p->mode == STT_LOAD_OPEN && p->arrival == STT_ARRIVAL_TRACE;
    out->mode = p->mode;
    out->arrival = p->mode == STT_LOAD_OPEN ? p->arrival : STT_ARRIVAL_CONSTANT;
    out->npoints = n;
    out->nrounds = p->repeats;
    out->max_extend = p->max_extend;
    out->knee.index = out->knee.from = out->knee.to = -1;
    out->service.point = -1;
    out->points = calloc((size_t)n, sizeof *out->points);
    out->order = calloc((size_t)n * (size_t)p->repeats, sizeof *out->order);
    if (!out->points || !out->order) goto nomem;
    stt_trace tr = {(double *)p->trace_at_s, NULL, NULL, p->ntrace};
    for (int i = 0; i < n; i++) {
        stt_sweep_point *pt = &out->points[i];
        pt->offered = p->values[i];
        pt->runs = calloc((size_t)p->repeats, sizeof *pt->runs);
        if (!pt->runs) goto nomem;
        stt_load_step *s = &pt->step;
        s->mode = p->mode;
        s->concurrency = (int)p->values[i];
        s->rate = p->values[i];
        s->arrival = p->arrival;
        s->duration_s = p->duration_s;
        s->requests = p->requests;
        s->warmup_s = p->warmup_s;
        if (trace) {
            pt->trace_scaled = malloc(p->ntrace * sizeof *pt->trace_scaled);
            if (!pt->trace_scaled) goto nomem;
            stt_trace_scaled(&tr, p->values[i], pt->trace_scaled);
            s->trace_at_s = pt->trace_scaled;
            s->trace_body = p->trace_body;
            s->ntrace = p->ntrace;
        }
    }
    make_order(out->order, p->repeats, n, p->seed);
    for (int r = 0; r < p->repeats; r++) {
        for (int k = 0; k < n; k++) {
            int i = out->order[(size_t)r * (size_t)n + (size_t)k];
            stt_sweep_point *pt = &out->points[i];
            stt_load_step s = pt->step;
            /* Independent arrivals for every point and repeat. */
            s.seed = p->seed + (uint64_t)i + 1000u * (uint64_t)r;
            char label[96];
            snprintf(label, sizeof label, "%s%g%s (round %d/%d)",
                     p->mode == STT_LOAD_OPEN ? "rate " : "c=", pt->offered,
                     p->mode == STT_LOAD_OPEN ? "/s" : "", r + 1, p->repeats);
            rc = stt_sweep_measure(p, &s, label, &pt->runs[r], err, errlen);
            if (rc) goto fail;
            pt->runs[r].round = r;
            pt->nruns = r + 1;
        }
    }
    for (int i = 0; i < n; i++)
        if (stt_sweep_summarize(&out->points[i], &out->points[i].sum)) goto nomem;
    stt_sweep_find_knee(out->points, n, p->seed, &out->knee);
    if (p->mode == STT_LOAD_CLOSED && out->knee.state == STT_KNEE_FOUND)
        out->advice_workers = (int)out->points[out->knee.index].offered;
    if (stt_sweep_service_time(out->points, n, &out->service)) goto nomem;
    return 0;
nomem:
    rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
fail:
    stt_sweep_free(out);
    return rc;
}

void stt_sweep_free(stt_sweep *sw)
{
    if (!sw) return;
    for (int i = 0; sw->points && i < sw->npoints; i++) {
        stt_sweep_point *pt = &sw->points[i];
        for (int r = 0; pt->runs && r < sw->nrounds; r++)
            stt_load_result_free(&pt->runs[r].res);
        free(pt->runs);
        free(pt->trace_scaled);
    }
    free(sw->points);
    free(sw->order);
    free(sw->service.samples);
    free(sw->checks);
    memset(sw, 0, sizeof *sw);
}

/* ---- decisions ---- */

double *stt_sweep_latencies(const stt_sweep_point *pt, int ok_only, int fail_as_miss, size_t *n)
{
    size_t total = 0;
    *n = 0;
    for (int r = 0; r < pt->nruns; r++)
        total += pt->runs[r].res.nsamples;
    if (!total) return NULL;
    double *x = malloc(total * sizeof *x);
    if (!x) return NULL;
    for (int r = 0; r < pt->nruns; r++) {
        const stt_load_result *res = &pt->runs[r].res;
        for (size_t i = 0; i < res->nsamples; i++) {
            int ok = res->samples[i].outcome == STT_LOAD_OK;
            if (ok_only && !ok) continue;
            x[(*n)++] = !ok && fail_as_miss ? STT_SWEEP_MISS_S : (double)res->samples[i].latency_s;
        }
    }
    if (!*n) {
        free(x);
        return NULL;
    }
    return x;
}

/* Every window's 2xx rate of every run of pt; *n of them. */
static double *window_rates(const stt_sweep_point *pt, size_t *n)
{
    size_t total = 0;
    *n = 0;
    for (int r = 0; r < pt->nruns; r++)
        total += (size_t)pt->runs[r].res.nwindows;
    double *x = malloc((total ? total : 1) * sizeof *x);
    if (!x) return NULL;
    for (int r = 0; r < pt->nruns; r++)
        for (int w = 0; w < pt->runs[r].res.nwindows; w++)
            x[(*n)++] = pt->runs[r].res.window_ok_rps[w];
    return x;
}

static void p95_of(const double *x, size_t n, double *v, stt_interval *ci)
{
    *v = NAN;
    *ci = (stt_interval){NAN, NAN, NAN};
    if (!x || !stt_stats_percentile_supported(n, 95)) return;
    *v = stt_stats_quantile(x, n, 0.95);
    stt_stats_quantile_ci(x, n, 0.95, 0.95, ci);
}

int stt_sweep_summarize(const stt_sweep_point *pt, stt_sweep_summary *o)
{
    memset(o, 0, sizeof *o);
    o->stable = pt->nruns > 0;
    double elapsed = 0, ok_s = 0, audio = 0;
    for (int r = 0; r < pt->nruns; r++) {
        const stt_load_result *res = &pt->runs[r].res;
        o->stable &= res->stable != 0;
        o->unstable |= res->stability_judged && !res->stable;
        o->unjudged |= !res->stability_judged;
        o->saturated |= res->saturated != 0;
        if (res->busiest_thread_cpu > o->busiest_thread_cpu)
            o->busiest_thread_cpu = res->busiest_thread_cpu;
        o->n += res->completed + res->dropped;
        o->ok += res->ok;
        o->failed += stt_load_failures(res);
        o->late += res->late;
        o->dropped += res->dropped;
        elapsed += res->elapsed_s;
        ok_s += res->ok_rps * res->elapsed_s;
        audio += res->audio_s_per_s * res->elapsed_s;
    }
    o->failure_rate = o->n ? (double)o->failed / (double)o->n : NAN;
    o->failure_ci = stt_sweep_failure_ci(o->failed, o->n);
    o->throughput_overall = elapsed > 0 ? ok_s / elapsed : NAN;
    o->audio_s_per_s = elapsed > 0 ? audio / elapsed : NAN;
    size_t nw;
    double *w = window_rates(pt, &nw);
    if (!w) return STT_ENOMEM;
    if (nw)
        stt_stats_summarize(w, nw, 0.95, &o->throughput);
    else
        stt_stats_summarize(w, 0, 0.95, &o->throughput);
    free(w);
    size_t n;
    double *x = stt_sweep_latencies(pt, 0, 0, &n);
    for (int k = 0; k < 6; k++)
        o->lat[k] = NAN;
    if (x) {
        for (int k = 0; k < 5; k++)
            if (stt_stats_percentile_supported(n, stt_sweep_pcts[k]))
                o->lat[k] = stt_stats_quantile(x, n, stt_sweep_pcts[k] / 100);
        o->lat[5] = stt_stats_quantile(x, n, 1);
    }
    p95_of(x, n, &o->lat[2], &o->p95_ci);
    free(x);
    x = stt_sweep_latencies(pt, 0, 1, &n);
    p95_of(x, n, &o->p95_slo, &o->p95_slo_ci);
    /* Interpolated between the slowest answer and a miss, the p95 is no
     * latency: it lies among the misses. */
    double slowest = -1;
    for (size_t i = 0; x && i < n; i++)
        if (x[i] < STT_SWEEP_MISS_S && x[i] > slowest) slowest = x[i];
    if (isfinite(o->p95_slo) && o->p95_slo > slowest && o->p95_slo < STT_SWEEP_MISS_S)
        o->p95_slo = STT_SWEEP_MISS_S;
    free(x);
    return 0;
}

void stt_sweep_find_knee(const stt_sweep_point *points, int n, uint64_t seed, stt_sweep_knee *out)
{
    memset(out, 0, sizeof *out);
    out->index = out->from = out->to = -1;
    out->gain = NAN;
    out->gain_ci = (stt_interval){NAN, NAN, NAN};
    int prev = -1, nstable = 0;
    for (int i = 0; i < n; i++) {
        const stt_sweep_point *b = &points[i];
        if (!b->sum.stable || b->sum.throughput.n == 0) continue;
        nstable++;
        if (prev < 0) {
            prev = i;
            continue;
        }
        const stt_sweep_point *a = &points[prev];
        size_t na, nb;
        double *wa = window_rates(a, &na), *wb = window_rates(b, &nb);
        double ratio = NAN;
        stt_interval ci = {NAN, NAN, NAN};
        int rc = wa && wb ? stt_stats_ratio_ci(wa, na, wb, nb, 0.95, 2000, seed + (uint64_t)i,
                                               &ratio, &ci)
                          : STT_ENOMEM;
        free(wa);
        free(wb);
        out->from = prev;
        out->to = i;
        out->gain = ratio;
        out->gain_ci = ci;
        /* A median of zero (nothing answered) settles nothing. */
        stt_side side = rc ? STT_UNDETERMINED : stt_stats_side(&ci, STT_SWEEP_KNEE_GAIN);
        double pa = a->sum.lat[2], pb = b->sum.lat[2];
        if (side == STT_BELOW) {
            if (!isfinite(pa) || !isfinite(pb)) {
                out->state = STT_KNEE_UNDETERMINED; /* flat, but p95 not measurable */
                return;
            }
            if (pb > pa) {
                out->state = STT_KNEE_FOUND;
                out->index = prev;
                return;
            }
        } else if (side == STT_UNDETERMINED) {
            out->state = STT_KNEE_UNDETERMINED;
            return;
        }
        prev = i;
    }
    out->state = nstable < 2 ? STT_KNEE_TOO_FEW : STT_KNEE_NONE;
    if (nstable < 2) out->from = out->to = -1, out->gain = NAN;
}

int stt_sweep_service_time(const stt_sweep_point *points, int n, stt_sweep_service *out)
{
    memset(out, 0, sizeof *out);
    out->point = -1;
    out->cs2 = NAN;
    stt_stats_summarize(NULL, 0, 0.95, &out->s);
    for (int i = 0; i < n; i++) {
        const stt_sweep_point *pt = &points[i];
        if (pt->step.mode != STT_LOAD_CLOSED || pt->offered != 1 || !pt->sum.stable) continue;
        size_t m;
        double *x = stt_sweep_latencies(pt, 1, 0, &m);
        if (!x) continue;
        out->point = i;
        out->samples = x;
        stt_stats_summarize(x, m, 0.95, &out->s);
        double var = 0;
        for (size_t k = 0; k < m; k++)
            var += (x[k] - out->s.mean) * (x[k] - out->s.mean);
        var = m > 1 ? var / (double)(m - 1) : 0;
        out->cs2 = out->s.mean > 0 ? var / (out->s.mean * out->s.mean) : NAN;
        return 0;
    }
    return 0;
}

/* Squared coefficient of variation of the gaps between sorted arrivals. */
static double gaps_cv2(const double *at, size_t n)
{
    if (n < 3) return 1;
    double mean = (at[n - 1] - at[0]) / (double)(n - 1), var = 0;
    for (size_t i = 1; i < n; i++)
        var += (at[i] - at[i - 1] - mean) * (at[i] - at[i - 1] - mean);
    var /= (double)(n - 2);
    return mean > 0 ? var / (mean * mean) : 1;
}

int stt_sweep_check_point(const stt_sweep_point *pt, int index, const stt_sweep_service *sv,
                          int servers, uint64_t seed, stt_sweep_check *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int poisson = pt->step.arrival == STT_ARRIVAL_POISSON,
        trace = pt->step.arrival == STT_ARRIVAL_TRACE;
    if (servers < 1) return stt_seterr(err, errlen, STT_EINVAL, "servers must be >= 1");
    if (sv->point < 0 || sv->s.n == 0 || !sv->samples || pt->step.mode != STT_LOAD_OPEN ||
        !(poisson || trace) || !pt->sum.stable)
        return 0;
    c->point = index;
    c->lambda = pt->offered;
    c->ca2 = trace ? gaps_cv2(pt->trace_scaled, pt->step.ntrace) : 1;
    c->measured_p95 = pt->sum.lat[2];
    c->measured_ci = pt->sum.p95_ci;
    c->n = pt->sum.n;
    c->model_p95 = c->sim_lo = c->sim_hi = c->err_lo = c->err_hi = NAN;
    stt_mgc_params q = stt_mgc_default_params();
    q.servers = servers;
    q.lambda = c->lambda;
    q.ca2 = c->ca2;
    q.service_s = sv->samples;
    q.n = sv->s.n;
    q.quantile = 0.95;
    stt_mgc_result mr;
    if (stt_mgc_eval(&q, &mr, err, errlen)) return STT_EINVAL;
    c->rho = mr.rho;
    c->model_stable = mr.stable;
    c->model_p95 = mr.t_q;
    if (poisson && mr.stable) {
        stt_mgc_sim sim;
        /* A run as long as the point's (capped: the band's width is what matters). */
        int req = c->n > 5000 ? 5000 : c->n < 1 ? 1 : (int)c->n;
        if (stt_mgc_simulate(&q, req, pt->step.warmup_s, 100,
                             (unsigned long)(seed + (uint64_t)index), &sim, NULL, 0) == 0) {
            c->has_sim = 1;
            c->sim_lo = sim.lo;
            c->sim_hi = sim.hi;
        }
    }
    c->verdict = STT_CHECK_UNDETERMINED;
    if (!isfinite(c->measured_ci.lo) || !(c->measured_ci.lo > 0)) return 1;
    if (!mr.stable) {
        /* The model saturates where the point measured a steady state. */
        c->verdict = STT_CHECK_OUTSIDE;
        return 1;
    }
    c->err_lo = c->model_p95 / c->measured_ci.hi - 1;
    c->err_hi = c->model_p95 / c->measured_ci.lo - 1;
    if (c->err_lo >= -STT_SWEEP_MODEL_TOL && c->err_hi <= STT_SWEEP_MODEL_TOL)
        c->verdict = STT_CHECK_WITHIN;
    else if (c->err_lo > STT_SWEEP_MODEL_TOL || c->err_hi < -STT_SWEEP_MODEL_TOL)
        c->verdict = STT_CHECK_OUTSIDE;
    return 1;
}

int stt_sweep_check_model(stt_sweep *sw, int servers, uint64_t seed, char *err, size_t errlen)
{
    free(sw->checks);
    sw->checks = NULL;
    sw->nchecks = 0;
    sw->servers = 0;
    if (servers < 1) return stt_seterr(err, errlen, STT_EINVAL, "servers must be >= 1");
    if (sw->service.point < 0 || sw->service.s.n == 0) return 0;
    sw->checks = calloc((size_t)sw->npoints, sizeof *sw->checks);
    if (!sw->checks) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    sw->servers = servers;
    for (int i = 0; i < sw->npoints; i++) {
        int rc = stt_sweep_check_point(&sw->points[i], i, &sw->service, servers, seed,
                                       &sw->checks[sw->nchecks], err, errlen);
        if (rc < 0) return rc;
        sw->nchecks += rc;
    }
    return 0;
}
