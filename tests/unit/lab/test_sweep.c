/* sweep: the measurement rules of a load sweep (repeats interleaved, unstable
 * runs lengthened and then excluded, percentiles only where n supports them,
 * failures inside the latencies) and its decisions (knee, advice, service
 * time, model check), on synthetic runs from a stand-in step runner, and end
 * to end against a small libmicrohttpd server. */
#include <curl/curl.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "queueing.h"
#include "sweep.h"
#include "testlib.h"

/* ---- synthetic runs ---- */

/* The spread of synthetic latencies around their level. */
static double spread = 0.2;

/* Fills r as a step of n requests whose 2xx rate is `tput` in every window
 * (times 1 + ramp * window index: a ramp makes the run unstable) and whose
 * latencies are lat * (1 - spread / 2 + spread * u) for u evenly in [0, 1);
 * the first `failed` requests are 503s answered in 1 ms. */
static void synth(stt_load_result *r, size_t n, double tput, double lat, double ramp, size_t failed)
{
    memset(r, 0, sizeof *r);
    r->samples = calloc(n ? n : 1, sizeof *r->samples);
    r->nsamples = n;
    r->completed = n;
    r->ok = n - failed;
    r->errors[STT_LOAD_ERR_503] = failed;
    r->nwindows = 5;
    r->elapsed_s = tput > 0 ? (double)n / tput : 1;
    r->ok_rps = (double)(n - failed) / r->elapsed_s;
    for (size_t i = 0; i < n; i++) {
        double u = (double)((i * 7919) % n) / (double)n;
        r->samples[i].latency_s = (float)(i < failed ? 0.001 : lat * (1 - spread / 2 + spread * u));
        r->samples[i].outcome = i < failed ? STT_LOAD_ERR_503 : STT_LOAD_OK;
        r->samples[i].done_s = (float)(r->elapsed_s * (double)i / (double)n);
    }
    for (int w = 0; w < 5; w++) {
        r->window_ok_rps[w] = tput * (1 + ramp * w);
        r->window_rps[w] = r->window_ok_rps[w];
        r->window_p95_s[w] = lat * 1.09;
        r->window_n[w] = n / 5;
    }
    r->stable = stt_stats_stable(r->window_ok_rps, 5, 3, 0.10);
}

static stt_sweep_point point(double offered, int nruns, size_t n, double tput, double lat,
                             double ramp)
{
    stt_sweep_point pt;
    memset(&pt, 0, sizeof pt);
    pt.offered = offered;
    pt.step.mode = STT_LOAD_CLOSED;
    pt.runs = calloc((size_t)nruns, sizeof *pt.runs);
    pt.nruns = nruns;
    for (int r = 0; r < nruns; r++)
        synth(&pt.runs[r].res, n, tput, lat, ramp, 0);
    stt_sweep_summarize(&pt, &pt.sum);
    return pt;
}

static void point_free(stt_sweep_point *pt)
{
    for (int r = 0; r < pt->nruns; r++)
        stt_load_result_free(&pt->runs[r].res);
    free(pt->runs);
}

static void test_summary_rules(void)
{
    stt_sweep_point pt;
    memset(&pt, 0, sizeof pt);
    pt.runs = calloc(2, sizeof *pt.runs);
    pt.nruns = 2;
    synth(&pt.runs[0].res, 30, 10, 1.0, 0, 0);
    synth(&pt.runs[1].res, 30, 10, 1.0, 0, 3);
    stt_sweep_summary s;
    REQUIRE(stt_sweep_summarize(&pt, &s) == 0);
    CHECK(s.n == 60 && s.ok == 57 && s.failed == 3);
    CHECK(s.stable);
    /* throughput from every window of every run, with its interval */
    CHECK(s.throughput.n == 10);
    CHECK(s.throughput.median_ci.lo <= s.throughput.median &&
          s.throughput.median <= s.throughput.median_ci.hi);
    /* 60 requests support p50..p95, not p99 or p99.9 */
    CHECK(isfinite(s.lat[0]) && isfinite(s.lat[2]));
    CHECK(isnan(s.lat[3]) && isnan(s.lat[4]));
    CHECK(s.lat[5] >= s.lat[2] && s.lat[2] >= s.lat[0]);
    CHECK(s.p95_ci.lo <= s.lat[2] && s.lat[2] <= s.p95_ci.hi);
    /* Fast 503s pull the timed p95 down at most; as misses they push the SLO
     * p95 up. */
    CHECK(s.p95_slo >= s.lat[2]);
    /* 3 misses in 60: the 95th percentile falls past the slowest answer,
     * among the misses, and is one, not a latency between the two */
    CHECK(s.p95_slo == STT_SWEEP_MISS_S);
    CHECK(s.failure_rate == 0.05);
    CHECK(s.failure_ci.lo < 0.05 && s.failure_ci.hi > 0.05 && s.failure_ci.lo > 0);
    size_t n;
    double *ok = stt_sweep_latencies(&pt, 1, 0, &n);
    CHECK(ok && n == 57);
    free(ok);
    /* an unstable run makes the point unstable */
    stt_load_result_free(&pt.runs[1].res);
    synth(&pt.runs[1].res, 30, 10, 1.0, 0.2, 0);
    REQUIRE(stt_sweep_summarize(&pt, &s) == 0);
    CHECK(!s.stable);
    /* 10 requests: no p95 at all */
    point_free(&pt);
    pt = point(1, 1, 10, 10, 1, 0);
    CHECK(isnan(pt.sum.lat[2]) && isnan(pt.sum.p95_ci.lo) && isfinite(pt.sum.lat[0]));
    point_free(&pt);
    stt_interval ci = stt_sweep_failure_ci(0, 300);
    CHECK(ci.lo == 0 && ci.hi > 0.005 && ci.hi < 0.02);
    ci = stt_sweep_failure_ci(0, 0);
    CHECK(isnan(ci.lo));
}

static void knee_of(stt_sweep_point *pts, int n, stt_sweep_knee *k)
{
    stt_sweep_find_knee(pts, n, 1, k);
    for (int i = 0; i < n; i++)
        point_free(&pts[i]);
}

static void test_knee(void)
{
    stt_sweep_knee k;
    /* grows, then flat while p95 rises: the knee is the last point that grew */
    stt_sweep_point a[] = {point(1, 1, 50, 10, 1, 0), point(2, 1, 50, 20, 1, 0),
                           point(4, 1, 50, 20.2, 2, 0)};
    knee_of(a, 3, &k);
    CHECK(k.state == STT_KNEE_FOUND && k.index == 1 && k.from == 1 && k.to == 2);
    CHECK(k.gain_ci.hi < STT_SWEEP_KNEE_GAIN);
    /* still growing */
    stt_sweep_point b[] = {point(1, 1, 50, 10, 1, 0), point(2, 1, 50, 20, 1, 0),
                           point(4, 1, 50, 40, 1.1, 0)};
    knee_of(b, 3, &k);
    CHECK(k.state == STT_KNEE_NONE && k.index == -1);
    /* An unstable point is left out: the pair 0 -> 2 grows, 2 -> 3 does not. */
    stt_sweep_point c[] = {point(1, 1, 50, 10, 1, 0), point(2, 1, 50, 10, 5, 0.2),
                           point(4, 1, 50, 20, 1, 0), point(8, 1, 50, 20, 2, 0)};
    CHECK(!c[1].sum.stable);
    knee_of(c, 4, &k);
    CHECK(k.state == STT_KNEE_FOUND && k.index == 2 && k.from == 2);
    /* Windows too noisy to tell +5% from +0%: undetermined, not a knee. */
    stt_sweep_point d[] = {point(1, 1, 50, 10, 1, 0), point(2, 1, 50, 10.5, 2, 0)};
    for (int w = 0; w < 5; w++) {
        d[0].runs[0].res.window_ok_rps[w] = 10 * (0.97 + 0.015 * w);
        d[1].runs[0].res.window_ok_rps[w] = 10.5 * (1.03 - 0.015 * w);
    }
    stt_sweep_summarize(&d[0], &d[0].sum);
    stt_sweep_summarize(&d[1], &d[1].sum);
    knee_of(d, 2, &k);
    CHECK(k.state == STT_KNEE_UNDETERMINED && k.index == -1);
    CHECK(k.gain_ci.lo < STT_SWEEP_KNEE_GAIN && k.gain_ci.hi > STT_SWEEP_KNEE_GAIN);
    /* one stable point decides nothing */
    stt_sweep_point e[] = {point(1, 1, 50, 10, 1, 0), point(2, 1, 50, 10, 1, 0.2)};
    knee_of(e, 2, &k);
    CHECK(k.state == STT_KNEE_TOO_FEW);
    CHECK_STR_EQ(stt_knee_state_name(STT_KNEE_UNDETERMINED), "undetermined");
}

/* ---- a stand-in server: K workers of service time S ---- */

typedef struct {
    int workers;
    double service_s;
    int calls;
    int unstable_first_c; /* the first attempt at this concurrency ramps */
    int always_unstable_c;
    double last_duration[16];
    int attempts_seen[16];
} fake;

static int fake_run(void *arg, const stt_load_params *p, const stt_load_step *s,
                    stt_load_result *out, char *err, size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    fake *f = arg;
    f->calls++;
    int c = s->concurrency;
    double busy = c < f->workers ? c : f->workers;
    double tput = busy / f->service_s, lat = f->service_s * (c > f->workers ? c / busy : 1);
    size_t n = (size_t)(tput * (s->requests > 0 ? s->requests / tput : s->duration_s));
    if (c < 16) {
        f->attempts_seen[c]++;
        f->last_duration[c] = s->duration_s;
    }
    double ramp =
        (c == f->unstable_first_c && f->attempts_seen[c] == 1) || c == f->always_unstable_c ? 0.2
                                                                                            : 0;
    synth(out, n < 20 ? 20 : n, tput, lat, ramp, 0);
    return 0;
}

static void test_sweep_with_a_stand_in(void)
{
    fake f = {.workers = 2, .service_s = 0.5, .unstable_first_c = 4, .always_unstable_c = 8};
    stt_load_params lp = stt_load_default_params();
    stt_sweep_params p = stt_sweep_default_params();
    const double v[] = {1, 2, 4, 8};
    memcpy(p.values, v, sizeof v);
    p.nvalues = 4;
    p.duration_s = 20;
    p.repeats = 3;
    p.load = &lp;
    p.run = fake_run;
    p.run_arg = &f;
    stt_sweep sw;
    char err[256];
    REQUIRE(stt_sweep_run(&p, &sw, err, sizeof err) == 0);
    CHECK(sw.npoints == 4 && sw.nrounds == 3);
    /* Every round runs every point once, and the rounds are interleaved in
     * shuffled orders rather than all repeats of one point in a row. */
    int ascending = 0;
    for (int r = 0; r < 3; r++) {
        int seen[4] = {0}, asc = 1;
        for (int k = 0; k < 4; k++) {
            int i = sw.order[r * 4 + k];
            REQUIRE(i >= 0 && i < 4);
            seen[i]++;
            if (k && i < sw.order[r * 4 + k - 1]) asc = 0;
        }
        CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
        ascending += asc;
    }
    CHECK(ascending < 3);
    for (int i = 0; i < 4; i++)
        CHECK(sw.points[i].nruns == 3);
    /* c=4: unstable once, measured again at twice the length, then stable */
    stt_sweep_point *c4 = &sw.points[2], *c8 = &sw.points[3];
    int extended = 0;
    for (int r = 0; r < 3; r++)
        if (c4->runs[r].attempts == 2) {
            extended++;
            CHECK(c4->runs[r].duration_s == 40);
        }
    CHECK(extended == 1);
    CHECK(c4->sum.stable);
    /* c=8: never stable within the bound: reported, excluded */
    for (int r = 0; r < 3; r++)
        CHECK(c8->runs[r].attempts == 3 && c8->runs[r].duration_s == 80);
    CHECK(!c8->sum.stable);
    CHECK(f.calls == 4 * 3 + 1 + 3 * 2);
    /* two workers: throughput stops at c=2 while latency grows at c=4 */
    CHECK(sw.knee.state == STT_KNEE_FOUND && sw.knee.index == 1);
    CHECK(sw.advice_workers == 2);
    /* the service time: c=1's 2xx latencies */
    CHECK(sw.service.point == 0);
    CHECK(sw.service.s.median > 0.45 && sw.service.s.median < 0.55);
    CHECK(sw.service.s.n == sw.points[0].sum.ok);
    CHECK(sw.service.cs2 >= 0 && sw.service.cs2 < 0.01);
    stt_sweep_free(&sw);

    /* bad sweeps */
    p.values[2] = 1;
    CHECK(stt_sweep_run(&p, &sw, err, sizeof err) == STT_EINVAL);
    p.values[2] = 4;
    p.repeats = 0;
    CHECK(stt_sweep_run(&p, &sw, err, sizeof err) == STT_EINVAL);
    p.repeats = 1;
    p.values[1] = 2.5;
    CHECK(stt_sweep_run(&p, &sw, err, sizeof err) == STT_EINVAL);
}

/* ---- the model check ---- */

typedef struct {
    double scale[8]; /* measured p95 as a multiple of the model's, per rate index */
    size_t n;
} model_fake;

static double model_p95(double lambda, const double *s, size_t n)
{
    stt_mgc_params q = stt_mgc_default_params();
    q.lambda = lambda;
    q.service_s = s;
    q.n = n;
    stt_mgc_result r;
    stt_mgc_eval(&q, &r, NULL, 0);
    return r.t_q;
}

static int model_run(void *arg, const stt_load_params *p, const stt_load_step *s,
                     stt_load_result *out, char *err, size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    model_fake *f = arg;
    if (s->mode == STT_LOAD_CLOSED) {
        synth(out, 200, 2, 0.5, 0, 0); /* service 0.45..0.55 s */
        return 0;
    }
    int k = s->rate < 0.15 ? 0 : s->rate < 0.35 ? 1 : 2;
    size_t n;
    double svc[200];
    stt_load_result c1;
    synth(&c1, 200, 2, 0.5, 0, 0);
    for (n = 0; n < 200; n++)
        svc[n] = c1.samples[n].latency_s;
    stt_load_result_free(&c1);
    double want = model_p95(s->rate, svc, 200) * f->scale[k];
    /* latencies spread so that their p95 is `want` */
    synth(out, f->n, s->rate, want / (1 - spread / 2 + 0.95 * spread), 0, 0);
    return 0;
}

/* The open sweep is checked with the closed sweep's service time (a copy). */
static void lend_service(stt_sweep *open, const stt_sweep *closed)
{
    free(open->service.samples);
    open->service = closed->service;
    open->service.samples = malloc(closed->service.s.n * sizeof(double));
    memcpy(open->service.samples, closed->service.samples, closed->service.s.n * sizeof(double));
}

static void test_model_check(void)
{
    model_fake f = {{1.0, 2.0, 1.05}, 400};
    stt_load_params lp = stt_load_default_params();
    stt_sweep_params p = stt_sweep_default_params();
    p.mode = STT_LOAD_CLOSED;
    p.values[0] = 1;
    p.nvalues = 1;
    p.load = &lp;
    p.run = model_run;
    p.run_arg = &f;
    stt_sweep closed;
    char err[256];
    REQUIRE(stt_sweep_run(&p, &closed, err, sizeof err) == 0);
    REQUIRE(closed.service.point == 0);
    p.mode = STT_LOAD_OPEN;
    p.arrival = STT_ARRIVAL_POISSON;
    const double rates[] = {0.1, 0.3, 0.5};
    memcpy(p.values, rates, sizeof rates);
    p.nvalues = 3;
    stt_sweep open;
    REQUIRE(stt_sweep_run(&p, &open, err, sizeof err) == 0);
    lend_service(&open, &closed);
    REQUIRE(stt_sweep_check_model(&open, 1, 1, err, sizeof err) == 0);
    REQUIRE(open.nchecks == 3);
    CHECK(open.checks[0].verdict == STT_CHECK_WITHIN);
    CHECK(open.checks[1].verdict == STT_CHECK_OUTSIDE); /* measured twice the model */
    CHECK(open.checks[0].has_sim && open.checks[0].sim_lo <= open.checks[0].sim_hi);
    CHECK(open.checks[2].rho > 0.2 && open.checks[2].rho < 0.3);
    for (int i = 0; i < 3; i++)
        CHECK(open.checks[i].err_lo <= open.checks[i].err_hi);
    stt_sweep_free(&open);
    /* Few requests of widely spread latencies: an interval too wide to say. */
    f.n = 25;
    f.scale[1] = 1.3;
    spread = 1.0;
    REQUIRE(stt_sweep_run(&p, &open, err, sizeof err) == 0);
    spread = 0.2;
    lend_service(&open, &closed);
    REQUIRE(stt_sweep_check_model(&open, 1, 1, err, sizeof err) == 0);
    CHECK(open.checks[1].verdict == STT_CHECK_UNDETERMINED);
    /* the check needs a service time */
    free(open.service.samples);
    memset(&open.service, 0, sizeof open.service);
    open.service.point = -1;
    REQUIRE(stt_sweep_check_model(&open, 1, 1, err, sizeof err) == 0);
    CHECK(open.nchecks == 0);
    CHECK(stt_sweep_check_model(&open, 0, 1, err, sizeof err) == STT_EINVAL);
    stt_sweep_free(&open);
    stt_sweep_free(&closed);
}

/* ---- end to end: the real generator against one slow worker ---- */

static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)data, (void)size, (void)con_cls;
    /* One request at a time, 20 ms each: 50 per second whatever the concurrency. */
    pthread_mutex_lock(&slow_lock);
    struct timespec ts = {0, 20000000L};
    nanosleep(&ts, NULL);
    pthread_mutex_unlock(&slow_lock);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static void test_end_to_end(void)
{
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                         NULL, handler, NULL, MHD_OPTION_END);
    REQUIRE(d);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/slow",
             (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    stt_load_params lp = stt_load_default_params();
    lp.url = url;
    lp.post = 0;
    lp.timeout_s = 5;
    stt_sweep_params p = stt_sweep_default_params();
    const double v[] = {1, 2, 4};
    memcpy(p.values, v, sizeof v);
    p.nvalues = 3;
    p.duration_s = 0.5;
    p.warmup_s = 0.1;
    p.max_extend = 1;
    p.load = &lp;
    stt_sweep sw;
    char err[256];
    REQUIRE(stt_sweep_run(&p, &sw, err, sizeof err) == 0);
    int first_stable = -1;
    for (int i = 2; i >= 0; i--)
        if (sw.points[i].sum.stable) first_stable = i;
    for (int i = 0; i < 3; i++) {
        const stt_sweep_summary *s = &sw.points[i].sum;
        CHECK(s->n > 10 && s->failed == 0);
        CHECK(s->throughput.n >= 5);
        /* one worker of 20 ms: never more than 50 per second */
        CHECK(s->throughput_overall < 55);
        CHECK(s->lat[0] >= 0.019);
    }
    /* Throughput cannot grow beyond c=1, so a knee, where one is found, is
     * at the first stable point, and "still growing" is never the answer. */
    if (sw.knee.state == STT_KNEE_FOUND) CHECK(sw.knee.index == first_stable);
    CHECK(sw.knee.state != STT_KNEE_NONE);
    if (sw.service.point == 0) CHECK(sw.service.s.median >= 0.019 && sw.service.s.median < 0.2);
    stt_sweep_free(&sw);
    MHD_stop_daemon(d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TEST_RUN(test_summary_rules);
    TEST_RUN(test_knee);
    TEST_RUN(test_sweep_with_a_stand_in);
    TEST_RUN(test_model_check);
    TEST_RUN(test_end_to_end);
    curl_global_cleanup();
    return test_summary();
}
