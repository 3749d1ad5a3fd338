/* maxrate: the highest rate meeting a p95 objective, each probe repeated and
 * passed only on its interval, failures counted against the objective and
 * the error budget; on a stand-in server whose p95 at rate r is known. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "maxrate.h"
#include "testlib.h"

/* A server of capacity mu: at rate r its latencies spread evenly over
 * [0, S / (1 - r / mu) / 0.95), so its p95 is S / (1 - r / mu); a share
 * `fail` of the requests (from rate fail_from on) are 503s answered at once. */
typedef struct {
    double s, mu, fail, fail_from;
    int calls, ramp_every; /* every ramp_every-th run is unstable (0: none) */
    int unjudged;          /* every run too small per window to judge stability */
    stt_load_arrival seen;
} server;

static double p95_at(const server *v, double r)
{
    return r >= v->mu ? 1e3 : v->s / (1 - r / v->mu);
}

static int run(void *arg, const stt_load_params *p, const stt_load_step *s, stt_load_result *out,
               char *err, size_t errlen)
{
    (void)p, (void)err, (void)errlen;
    server *v = arg;
    v->calls++;
    v->seen = s->arrival;
    memset(out, 0, sizeof *out);
    size_t n = s->requests > 0 ? (size_t)s->requests : 100;
    size_t failed = s->rate >= v->fail_from ? (size_t)llround(v->fail * (double)n) : 0;
    out->samples = calloc(n, sizeof *out->samples);
    out->nsamples = out->completed = n;
    out->ok = n - failed;
    out->errors[STT_LOAD_ERR_503] = failed;
    out->elapsed_s = (double)n / s->rate;
    out->ok_rps = (double)out->ok / out->elapsed_s;
    double top = p95_at(v, s->rate) / 0.95;
    for (size_t i = 0; i < n; i++) {
        double u = (double)((i * 7919 + (size_t)v->calls) % n) / (double)n;
        out->samples[i].outcome = i < failed ? STT_LOAD_ERR_503 : STT_LOAD_OK;
        out->samples[i].latency_s = (float)(i < failed ? 0.001 : top * u);
    }
    out->nwindows = 5;
    for (int w = 0; w < 5; w++)
        out->window_ok_rps[w] = s->rate;
    out->stable = !(v->ramp_every && v->calls % v->ramp_every == 0);
    out->stability_judged = !v->unjudged;
    if (v->unjudged) out->stable = 0;
    return 0;
}

static stt_maxrate_params params(server *v, stt_load_params *lp)
{
    *lp = stt_load_default_params();
    stt_maxrate_params p = stt_maxrate_default_params();
    p.m.load = lp;
    p.m.run = run;
    p.m.run_arg = v;
    p.m.max_extend = 0;
    p.slo_p95_s = 2;
    p.min_requests = 200;
    return p;
}

static void test_search_brackets_the_objective(void)
{
    /* p95 = 0.5 / (1 - r/10): the objective 2 s holds up to r = 7.5 */
    server v = {.s = 0.5, .mu = 10, .fail_from = 1e9};
    stt_load_params lp;
    stt_maxrate_params p = params(&v, &lp);
    p.max_probes = 20;
    stt_maxrate m;
    char err[256];
    REQUIRE(stt_maxrate_search(&p, &m, err, sizeof err) == 0);
    CHECK(m.capacity == 1 && m.arrival == STT_ARRIVAL_POISSON && v.seen == STT_ARRIVAL_POISSON);
    CHECK(m.max_rate > 0 && m.max_rate <= 7.5);
    /* the interval's margin costs a little rate, not a lot */
    CHECK(m.max_rate > 0.8 * 7.5);
    CHECK(m.bracket_lo == m.max_rate && m.bracket_hi > m.max_rate && isfinite(m.bracket_hi));
    CHECK(m.bracket_hi - m.bracket_lo <= p.tolerance * m.bracket_lo + 1e-9);
    REQUIRE(m.best >= 0);
    const stt_maxrate_probe *b = &m.probes[m.best];
    CHECK(b->verdict == STT_PROBE_PASS && b->rate == m.max_rate);
    CHECK(b->pt.nruns == 3 && b->pt.sum.n == 600);
    CHECK(b->pt.sum.p95_slo_ci.hi < p.slo_p95_s);
    /* every probe was repeated; none above the true limit passed */
    for (int i = 0; i < m.nprobes; i++) {
        CHECK(m.probes[i].pt.nruns == 3);
        if (m.probes[i].rate > 7.5) CHECK(m.probes[i].verdict != STT_PROBE_PASS);
    }
    CHECK(v.calls == 3 * m.nprobes);
    stt_maxrate_free(&m);
}

static void test_failures_count(void)
{
    stt_load_params lp;
    char err[256];
    stt_maxrate m;
    /* 3% fast 503s from 4/s on: their speed must not help; with a 1% budget
     * the highest passing rate stays under 4. */
    server v = {.s = 0.5, .mu = 10, .fail = 0.03, .fail_from = 4};
    stt_maxrate_params p = params(&v, &lp);
    p.max_probes = 20;
    REQUIRE(stt_maxrate_search(&p, &m, err, sizeof err) == 0);
    CHECK(m.max_rate > 0 && m.max_rate < 4);
    for (int i = 0; i < m.nprobes; i++)
        if (m.probes[i].rate >= 4) CHECK(m.probes[i].verdict == STT_PROBE_FAIL);
    stt_maxrate_free(&m);
    /* Failing everywhere, unsteadily: no rate, and the search stops. A run
     * that fails clearly is not lengthened, and a probe whose failures exceed
     * the budget of all its planned requests is not repeated. */
    server w = {.s = 0.5, .mu = 10, .fail = 0.5, .fail_from = 0, .ramp_every = 1};
    p = params(&w, &lp);
    p.m.max_extend = 2;
    REQUIRE(stt_maxrate_search(&p, &m, err, sizeof err) == 0);
    CHECK(m.max_rate == 0 && m.best == -1 && m.nprobes <= p.max_probes);
    for (int i = 0; i < m.nprobes; i++) {
        CHECK(m.probes[i].verdict == STT_PROBE_FAIL);
        CHECK(m.probes[i].pt.nruns == 1 && m.probes[i].pt.runs[0].attempts == 1);
    }
    CHECK(w.calls == m.nprobes);
    stt_maxrate_free(&m);
}

static void test_unstable_probes_never_pass(void)
{
    server v = {.s = 0.5, .mu = 10, .fail_from = 1e9, .ramp_every = 1};
    stt_load_params lp;
    stt_maxrate_params p = params(&v, &lp);
    p.max_probes = 6;
    stt_maxrate m;
    char err[256];
    REQUIRE(stt_maxrate_search(&p, &m, err, sizeof err) == 0);
    CHECK(m.max_rate == 0);
    for (int i = 0; i < m.nprobes; i++)
        CHECK(m.probes[i].verdict == STT_PROBE_UNSTABLE);
    stt_maxrate_free(&m);
}

/* Runs too small per window to judge stability (a Poisson open loop of a
 * few dozen requests): the interval over the repeats decides, so a rate well
 * under the objective still passes. */
static void test_unjudged_probes_rest_on_the_interval(void)
{
    server v = {.s = 0.5, .mu = 10, .fail_from = 1e9, .unjudged = 1};
    stt_load_params lp;
    stt_maxrate_params p = params(&v, &lp);
    p.max_probes = 6;
    stt_maxrate m;
    char err[256];
    REQUIRE(stt_maxrate_search(&p, &m, err, sizeof err) == 0);
    CHECK(m.max_rate > 0);
    int passed = 0;
    for (int i = 0; i < m.nprobes; i++) {
        CHECK(m.probes[i].verdict != STT_PROBE_UNSTABLE);
        passed += m.probes[i].verdict == STT_PROBE_PASS;
        CHECK(m.probes[i].pt.sum.unjudged && !m.probes[i].pt.sum.unstable);
    }
    CHECK(passed > 0);
    stt_maxrate_free(&m);
}

static void test_verdicts_and_params(void)
{
    stt_sweep_summary s;
    memset(&s, 0, sizeof s);
    s.stable = 1;
    s.n = 300;
    s.p95_slo_ci = (stt_interval){1.0, 1.5, 0.95};
    const char *why = NULL;
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, &why) == STT_PROBE_PASS && why);
    s.p95_slo_ci = (stt_interval){1.8, 2.2, 0.95};
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_UNDETERMINED);
    s.p95_slo_ci = (stt_interval){2.1, 2.2, 0.95};
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_FAIL);
    s.p95_slo_ci = (stt_interval){1.0, 1.5, 0.95};
    s.failure_rate = 0.02;
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_FAIL);
    s.failure_rate = 0;
    s.p95_slo_ci = (stt_interval){NAN, NAN, NAN};
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_UNDETERMINED);
    s.stable = 0;
    s.unjudged = 1; /* not stable, but too small to judge: the interval decides */
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_UNDETERMINED);
    s.unstable = 1;
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_UNSTABLE);
    /* unsteady but clearly failing: a failure */
    s.failure_rate = 0.2;
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_FAIL);
    s.failure_rate = 0;
    s.p95_slo_ci = (stt_interval){3, 4, 0.95};
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_FAIL);
    /* unsteady and under the objective: never a pass */
    s.p95_slo_ci = (stt_interval){1, 1.5, 0.95};
    CHECK(stt_maxrate_verdict(&s, 2, 0.01, NULL) == STT_PROBE_UNSTABLE);
    CHECK_STR_EQ(stt_probe_verdict_name(STT_PROBE_PASS), "pass");

    server v = {.s = 0.5, .mu = 10, .fail_from = 1e9};
    stt_load_params lp;
    stt_maxrate_params p = params(&v, &lp);
    stt_maxrate m;
    char err[256];
    p.repeats = 2;
    CHECK(stt_maxrate_search(&p, &m, err, sizeof err) == STT_EINVAL);
    p.repeats = 3;
    p.slo_p95_s = 0;
    CHECK(stt_maxrate_search(&p, &m, err, sizeof err) == STT_EINVAL);
    p.slo_p95_s = 2;
    p.error_budget = 1;
    CHECK(stt_maxrate_search(&p, &m, err, sizeof err) == STT_EINVAL);
    /* Constant pacing is measured, but is no capacity figure. */
    p.error_budget = 0.01;
    p.m.arrival = STT_ARRIVAL_CONSTANT;
    p.max_probes = 2;
    REQUIRE(stt_maxrate_search(&p, &m, err, sizeof err) == 0);
    CHECK(m.capacity == 0 && v.seen == STT_ARRIVAL_CONSTANT);
    stt_maxrate_free(&m);
}

int main(void)
{
    TEST_RUN(test_search_brackets_the_objective);
    TEST_RUN(test_failures_count);
    TEST_RUN(test_unstable_probes_never_pass);
    TEST_RUN(test_unjudged_probes_rest_on_the_interval);
    TEST_RUN(test_verdicts_and_params);
    return test_summary();
}
