/* The load generator against a small libmicrohttpd server started here.
 *
 * Run as `test_loadgen --serve PORT` it serves only the fast handler until
 * killed, a trivial target for measuring the generator itself (docs/LOAD.md). */
#include <curl/curl.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "loadgen.h"
#include "stats.h"
#include "testlib.h"

static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stopping;
static atomic_long echo_bytes, echo_requests, echo_fields_ok;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Per-connection upload state of /echo. */
typedef struct {
    size_t bytes;
    int has_file, has_model;
} upload;

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    if (!strcmp(method, "POST")) {
        upload *u = *con_cls;
        if (!u) {
            u = calloc(1, sizeof *u);
            if (!u) return MHD_NO;
            *con_cls = u;
            return MHD_YES;
        }
        if (*data_size) {
            u->bytes += *data_size;
            /* The multipart headers arrive in the first chunks; a crude scan suffices. */
            if (memmem(data, *data_size, "name=\"file\"", 11)) u->has_file = 1;
            if (memmem(data, *data_size, "name=\"model\"", 12)) u->has_model = 1;
            *data_size = 0;
            return MHD_YES;
        }
        atomic_fetch_add(&echo_bytes, (long)u->bytes);
        atomic_fetch_add(&echo_requests, 1);
        if (u->has_file && u->has_model) atomic_fetch_add(&echo_fields_ok, 1);
        free(u);
        *con_cls = NULL;
        struct MHD_Response *r =
            MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "X-Queue-Time-Ms", "5");
        MHD_add_response_header(r, "X-Process-Time-Ms", "20.5");
        MHD_add_response_header(r, "X-Audio-Duration-S", "2.5");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/slow")) {
        pthread_mutex_lock(&slow_lock);
        sleep_ms(50);
        pthread_mutex_unlock(&slow_lock);
        return reply(c, MHD_HTTP_OK, "{}");
    }
    if (!strcmp(url, "/503")) return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "{}");
    if (!strcmp(url, "/busy")) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Retry-After", "1");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/close")) return MHD_NO;
    if (!strcmp(url, "/stall")) {
        for (int i = 0; i < 200 && !atomic_load(&stopping); i++)
            sleep_ms(10);
        return reply(c, MHD_HTTP_OK, "{}");
    }
    return reply(c, MHD_HTTP_OK, "{\"status\":\"ok\"}");
}

static struct MHD_Daemon *daemon_;
static char base[64];

static void server_start(void)
{
    daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                               NULL, NULL, handler, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                               (unsigned)30, MHD_OPTION_END);
    if (!daemon_) return;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)info->port);
}

static char url_buf[128];
static const char *url(const char *path)
{
    snprintf(url_buf, sizeof url_buf, "%s%s", base, path);
    return url_buf;
}

static stt_load_params get_params(const char *path)
{
    stt_load_params p = stt_load_default_params();
    p.url = url(path);
    p.post = 0;
    p.timeout_s = 5;
    return p;
}

static stt_load_step closed_step(int c, long requests)
{
    stt_load_step s = {0};
    s.mode = STT_LOAD_CLOSED;
    s.concurrency = c;
    s.requests = requests;
    s.seed = 1;
    return s;
}

static uint64_t errors_total(const stt_load_result *r)
{
    uint64_t n = 0;
    for (int i = 0; i < STT_LOAD_ERR_N; i++)
        n += r->errors[i];
    return n;
}

static void test_closed_exact_count(void)
{
    stt_load_params p = get_params("/health");
    p.threads = 2;
    stt_load_step s = closed_step(4, 100);
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.sent == 100);
    CHECK(r.completed == 100);
    CHECK(r.ok == 100);
    CHECK(errors_total(&r) == 0);
    CHECK(r.dropped == 0);
    CHECK(stt_histogram_count(r.latency) == 100);
    CHECK(stt_histogram_count(r.latency_ok) == 100);
    CHECK(stt_histogram_count(r.latency_uncorrected) == 100);
    CHECK(r.nsamples == 100);
    for (size_t i = 0; i < r.nsamples; i++)
        CHECK(r.samples[i].outcome == STT_LOAD_OK && r.samples[i].latency_s > 0);
    /* Closed loop: corrected from when the request was issued, uncorrected from
     * its first byte on the wire, which is never earlier. */
    CHECK(stt_histogram_min(r.latency) >= stt_histogram_min(r.latency_uncorrected));
    CHECK(stt_histogram_max(r.latency) >= stt_histogram_max(r.latency_uncorrected));
    CHECK(stt_histogram_percentile(r.latency, 50) >=
          stt_histogram_percentile(r.latency_uncorrected, 50));
    /* The generator's own load is measured, as a fraction of one core. */
    CHECK(r.busiest_thread_cpu > 0 && r.busiest_thread_cpu <= 1.05);
    CHECK(r.saturated == (r.busiest_thread_cpu >= STT_LOAD_SATURATED));
    CHECK(r.rps > 0);
    CHECK(stt_histogram_count(r.queue) == 0);
    stt_load_result_free(&r);
}

static void test_closed_duration_warmup(void)
{
    stt_load_params p = get_params("/health");
    stt_load_step s = closed_step(2, 0);
    s.duration_s = 0.5;
    s.warmup_s = 0.2;
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.warmup_sent > 0);
    CHECK(r.completed == r.sent);
    CHECK(r.ok > 10);
    CHECK(r.elapsed_s > 0.49 && r.elapsed_s < 0.51);
    CHECK(r.rps > 20);
    CHECK(r.nwindows == 5);
    /* Each window's requests and p95; the verdict is the perf_analyzer rule on
     * 2xx throughput and p95 of the last three. A closed loop's windows are
     * its last answers in equal counts, a multiple of the concurrency: all
     * but fewer than one round of 2 per window are in them. */
    uint64_t in_windows = 0;
    CHECK(r.window_count > 0 && r.window_count % 2 == 0);
    for (int i = 0; i < r.nwindows; i++) {
        in_windows += r.window_n[i];
        CHECK(r.window_n[i] == (uint64_t)r.window_count && r.window_p95_s[i] > 0);
        CHECK(r.window_ok_rps[i] <= r.window_rps[i] + 1e-9);
        CHECK(r.window_span_s[i] > 0);
    }
    CHECK(in_windows < r.nsamples && r.nsamples - in_windows <= 5 * 2);
    CHECK(r.stability_judged);
    CHECK(r.stable == (stt_stats_stable(r.window_ok_rps, 5, 3, 0.10) &&
                       stt_stats_stable(r.window_p95_s, 5, 3, 0.10)));
    CHECK(r.cpu_user_s + r.cpu_sys_s > 0);
    CHECK(r.peak_rss_kb > 0);
    stt_load_result_free(&r);
}

/* A closed loop on a server that answers one request every 50 ms: time
 * windows of a short step would hold a few answers each and move by a
 * fraction with one of them; count windows time a fixed number of answers and
 * find the 20/s the server gives in every window. */
static void test_closed_count_windows(void)
{
    stt_load_params p = get_params("/slow");
    stt_load_step s = closed_step(2, 0);
    s.duration_s = 1.6;
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.ok >= 26);
    CHECK(r.window_count >= STT_LOAD_JUDGED_CLOSED && r.window_count % 2 == 0);
    for (int i = 0; i < r.nwindows; i++) {
        CHECK(r.window_n[i] == (uint64_t)r.window_count);
        /* 20/s, give or take the sleeps' overshoot on a busy machine */
        CHECK(r.window_ok_rps[i] > 15 && r.window_ok_rps[i] < 21);
        CHECK(fabs(r.window_span_s[i] * r.window_ok_rps[i] - r.window_count) < 1e-6);
    }
    CHECK(r.stability_judged);
    CHECK(r.stable == (stt_stats_stable(r.window_ok_rps, 5, 3, 0.10) &&
                       stt_stats_stable(r.window_p95_s, 5, 3, 0.10)));
    stt_load_result_free(&r);

    /* Fewer answers than one round of 2 per window: time windows, and
     * too few to judge. */
    s.duration_s = 0.3;
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.completed <= 10);
    CHECK(r.window_count == 0);
    CHECK(!r.stability_judged);
    stt_load_result_free(&r);
}

/* Failed requests are latencies too, timed to the failure; the 2xx
 * histogram holds none of them. */
static void run_errors(const char *path, double timeout, int c, long n, int cls)
{
    stt_load_params p = get_params(path);
    p.timeout_s = timeout;
    stt_load_step s = closed_step(c, n);
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    if (r.errors[cls] != (uint64_t)n)
        fprintf(stderr, "  %s: %llu of %ld as %s\n", path, (unsigned long long)r.errors[cls], n,
                stt_load_err_name(cls));
    CHECK(r.sent == (uint64_t)n);
    CHECK(r.completed == (uint64_t)n);
    CHECK(r.errors[cls] == (uint64_t)n);
    CHECK(r.ok == 0);
    CHECK(stt_histogram_count(r.latency) == (uint64_t)n);
    CHECK(stt_histogram_count(r.latency_ok) == 0);
    CHECK(stt_load_failures(&r) == (uint64_t)n);
    CHECK(r.nsamples == (size_t)n);
    for (size_t i = 0; i < r.nsamples; i++)
        CHECK(r.samples[i].outcome == cls);
    /* a timeout fails no sooner than the timeout */
    if (cls == STT_LOAD_ERR_TIMEOUT) CHECK(stt_histogram_min(r.latency) >= timeout * 0.95e6);
    stt_load_result_free(&r);
}

static void test_error_classes(void)
{
    run_errors("/503", 5, 4, 20, STT_LOAD_ERR_503);
    run_errors("/close", 5, 2, 10, STT_LOAD_ERR_OTHER);
    run_errors("/stall", 0.3, 2, 2, STT_LOAD_ERR_TIMEOUT);
    CHECK_STR_EQ(stt_load_err_name(STT_LOAD_ERR_503), "503");
    CHECK_STR_EQ(stt_load_err_name(STT_LOAD_ERR_CONNECT), "connect");
}

static void test_connect_refused(void)
{
    /* Port 1 on loopback has no listener here: refused at once. */
    stt_load_params p = get_params("/");
    p.url = "http://127.0.0.1:1/health";
    stt_load_step s = closed_step(2, 6);
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.errors[STT_LOAD_ERR_CONNECT] == 6);
    stt_load_result_free(&r);
}

static void test_post_upload_and_headers(void)
{
    static unsigned char audio[40000];
    for (size_t i = 0; i < sizeof audio; i++)
        audio[i] = (unsigned char)(i * 7);
    stt_upload bodies[2] = {
        {"a.wav", "audio/wav", audio, sizeof audio, 1.0, 1},
        {"b.wav", "audio/wav", audio, 1000, 1.0, 1},
    };
    stt_load_params p = get_params("/v1/audio/transcriptions");
    p.post = 1;
    p.model = "fast";
    p.bodies = bodies;
    p.nbodies = 2;
    atomic_store(&echo_bytes, 0);
    atomic_store(&echo_requests, 0);
    atomic_store(&echo_fields_ok, 0);
    stt_load_step s = closed_step(3, 30);
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.ok == 30);
    CHECK(atomic_load(&echo_requests) == 30);
    CHECK(atomic_load(&echo_fields_ok) == 30);
    /* Half the requests carry each body; multipart framing adds a little. */
    long payload = 15L * (long)sizeof audio + 15L * 1000;
    CHECK(atomic_load(&echo_bytes) > payload);
    CHECK(atomic_load(&echo_bytes) < payload + 30L * 1000);
    CHECK(stt_histogram_count(r.queue) == 30);
    CHECK(stt_histogram_percentile(r.queue, 50) == 5000);
    CHECK(stt_histogram_percentile(r.process, 95) == 20500);
    /* The server's X-Audio-Duration-S (2.5 s) wins over the body's own 1.0 s. */
    CHECK(r.audio_s_per_s > 2.4 * r.ok_rps && r.audio_s_per_s < 2.6 * r.ok_rps);
    stt_load_result_free(&r);
}

static void test_open_loop_coordinated_omission(void)
{
    /* 40 req/s offered to a server that serves 20/s one at a time; with one
     * request allowed in flight the generator falls behind and sends late. */
    stt_load_params p = get_params("/slow");
    p.max_inflight = 1;
    p.timeout_s = 10;
    stt_load_step s = {0};
    s.mode = STT_LOAD_OPEN;
    s.rate = 40;
    s.arrival = STT_ARRIVAL_CONSTANT;
    s.requests = 50;
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.sent == 50);
    CHECK(r.ok == 50);
    CHECK(r.dropped == 0);
    CHECK(r.late > 25);
    CHECK(r.rps > 12 && r.rps < 21);
    /* Uncorrected latency stays at the service time... */
    CHECK(stt_histogram_percentile(r.latency_uncorrected, 99) < 150000);
    CHECK(stt_histogram_percentile(r.latency_uncorrected, 50) >= 45000);
    /* ...while latency from the schedule grows through the step. */
    CHECK(stt_histogram_max(r.latency) > 1000000);
    CHECK(r.window_latency_s[r.nwindows - 1] > r.window_latency_s[0] + 0.5);
    for (int i = 1; i < r.nwindows; i++)
        CHECK(r.window_latency_s[i] > r.window_latency_s[i - 1]);
    /* A queue that grows through the step is not a steady state. */
    CHECK(!r.stable);
    stt_load_result_free(&r);
}

static void test_open_loop_on_time(void)
{
    stt_load_params p = get_params("/health");
    p.threads = 2;
    stt_load_step s = {0};
    s.mode = STT_LOAD_OPEN;
    s.rate = 400;
    s.arrival = STT_ARRIVAL_POISSON;
    s.requests = 200;
    s.seed = 7;
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.sent == 200);
    CHECK(r.ok == 200);
    CHECK(r.dropped == 0);
    /* About 0.5 s for 200 requests at 400/s. */
    CHECK(r.elapsed_s > 0.25 && r.elapsed_s < 1.0);
    CHECK(stt_histogram_percentile(r.latency, 50) < 50000);
    stt_load_result_free(&r);
}

static void test_open_loop_drops_when_capped(void)
{
    /* Every request stalls past its timeout with one allowed in flight, so
     * later ones wait past their own timeout and are dropped, not sent. */
    stt_load_params p = get_params("/stall");
    p.max_inflight = 1;
    p.timeout_s = 0.2;
    stt_load_step s = {0};
    s.mode = STT_LOAD_OPEN;
    s.rate = 40;
    s.duration_s = 0.5;
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.sent + r.dropped == 20);
    CHECK(r.dropped > 0);
    CHECK(r.errors[STT_LOAD_ERR_TIMEOUT] == r.sent);
    /* Dropped requests failed too: each is a sample, timed to when it was given up. */
    CHECK(stt_histogram_count(r.latency) == 20);
    CHECK(r.nsamples == 20);
    size_t dropped = 0;
    for (size_t i = 0; i < r.nsamples; i++)
        if (r.samples[i].outcome == STT_LOAD_DROPPED) {
            dropped++;
            CHECK(r.samples[i].latency_s >= 0.2);
        }
    CHECK(dropped == r.dropped);
    CHECK(stt_load_failures(&r) == 20);
    stt_load_result_free(&r);
}

/* A closed loop told to honour Retry-After waits after each 503 instead of
 * resending at once; without it the same loop hammers the server. */
static void test_closed_retry_after(void)
{
    stt_load_params p = get_params("/busy");
    stt_load_step s = closed_step(2, 0);
    s.duration_s = 1.2;
    stt_load_result r;
    char err[256];
    p.retry_after = 1;
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    /* two clients, one request each per second (the first at once): about 2 x 2 */
    CHECK(r.sent >= 2 && r.sent <= 6);
    CHECK(r.errors[STT_LOAD_ERR_503] == r.completed);
    CHECK(r.retry_waits >= 2);
    /* the step still ends on time although clients were waiting */
    CHECK(r.elapsed_s < 3);
    stt_load_result_free(&r);
    p.retry_after = 0;
    s.duration_s = 0.5;
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.sent > 50);
    CHECK(r.retry_waits == 0);
    stt_load_result_free(&r);
}

static void test_bad_args(void)
{
    stt_load_params p = get_params("/health");
    stt_load_step s = closed_step(0, 10);
    stt_load_result r;
    char err[256] = "";
    CHECK(stt_load_run_step(&p, &s, &r, err, sizeof err) < 0);
    CHECK(err[0] != '\0');
    s = closed_step(1, 0); /* neither duration nor count */
    CHECK(stt_load_run_step(&p, &s, &r, err, sizeof err) < 0);
    p.post = 1; /* POST without a body */
    s = closed_step(1, 1);
    CHECK(stt_load_run_step(&p, &s, &r, err, sizeof err) < 0);
}

static stt_load_params post_params(stt_upload *bodies, size_t n)
{
    static unsigned char audio[2000];
    for (size_t i = 0; i < n; i++)
        bodies[i] = (stt_upload){i ? "b.wav" : "a.wav", "audio/wav", audio, sizeof audio, 1.0, 1};
    stt_load_params p = get_params("/v1/audio/transcriptions");
    p.post = 1;
    p.bodies = bodies;
    p.nbodies = n;
    return p;
}

static size_t body_count(const stt_load_result *r, int body)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nsamples; i++)
        k += r->samples[i].body == body;
    return k;
}

/* Real weights set each body's share of the requests, within one turn. */
static void test_real_weights(void)
{
    stt_upload bodies[2];
    stt_load_params p = post_params(bodies, 2);
    double w[2] = {0.5, 1.5};
    p.weights = w;
    stt_load_step s = closed_step(2, 40);
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.ok == 40 && r.nsamples == 40);
    size_t a = body_count(&r, 0), b = body_count(&r, 1);
    CHECK(a + b == 40);
    CHECK(a >= 9 && a <= 11);
    stt_load_result_free(&r);
    double bad[2] = {0, 0};
    p.weights = bad;
    CHECK(stt_load_run_step(&p, &s, &r, err, sizeof err) == STT_EINVAL);
}

/* A trace is replayed as recorded: each request at its offset with its
 * body; arrivals inside the warm-up are sent but not counted. */
static void test_trace_replay(void)
{
    stt_upload bodies[2];
    stt_load_params p = post_params(bodies, 2);
    double at[] = {0, 0.05, 0.2, 0.3, 0.45, 0.6};
    int body[] = {0, 0, 1, 1, -1, 1};
    stt_load_step s = {0};
    s.mode = STT_LOAD_OPEN;
    s.arrival = STT_ARRIVAL_TRACE;
    s.trace_at_s = at;
    s.trace_body = body;
    s.ntrace = 6;
    s.warmup_s = 0.1;
    stt_load_result r;
    char err[256];
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.warmup_sent == 2);
    CHECK(r.sent == 4 && r.ok == 4);
    CHECK(body_count(&r, 1) >= 3); /* the three named, and the one in mix order may be either */
    /* the schedule, not the speed of the server, sets the length */
    CHECK(r.elapsed_s > 0.45 && r.elapsed_s < 1.5);
    CHECK(r.late == 0 || r.late <= 1);
    stt_load_result_free(&r);
    /* two threads share one trace */
    p.threads = 2;
    s.warmup_s = 0;
    REQUIRE(stt_load_run_step(&p, &s, &r, err, sizeof err) == 0);
    CHECK(r.sent == 6 && r.ok == 6);
    stt_load_result_free(&r);
    double back[] = {0, 0.2, 0.1};
    s.trace_at_s = back;
    s.ntrace = 3;
    s.trace_body = NULL;
    CHECK(stt_load_run_step(&p, &s, &r, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "trace") != NULL);
    CHECK_STR_EQ(stt_load_arrival_name(STT_ARRIVAL_TRACE), "trace");
}

static int serve(const char *port)
{
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, (uint16_t)atoi(port), NULL, NULL, handler,
                         NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "cannot listen on port %s\n", port);
        return 1;
    }
    fprintf(stderr, "serving on http://127.0.0.1:%s/health\n", port);
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--serve")) return serve(argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    server_start();
    if (!daemon_) {
        fprintf(stderr, "cannot start the test server\n");
        return 1;
    }
    TEST_RUN(test_closed_exact_count);
    TEST_RUN(test_closed_duration_warmup);
    TEST_RUN(test_closed_count_windows);
    TEST_RUN(test_error_classes);
    TEST_RUN(test_connect_refused);
    TEST_RUN(test_post_upload_and_headers);
    TEST_RUN(test_open_loop_coordinated_omission);
    TEST_RUN(test_open_loop_on_time);
    TEST_RUN(test_open_loop_drops_when_capped);
    TEST_RUN(test_closed_retry_after);
    TEST_RUN(test_bad_args);
    TEST_RUN(test_real_weights);
    TEST_RUN(test_trace_replay);
    atomic_store(&stopping, 1);
    MHD_stop_daemon(daemon_);
    curl_global_cleanup();
    return test_summary();
}
