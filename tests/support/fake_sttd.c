/* fake_sttd: a stand-in for sttd, without an engine, for tests that drive
 * `sttbench cpu --server-cmd` end to end in seconds.
 *
 *   fake_sttd --port P [--host IPv4] [--workers W] [--threads T] [--cpu-ms-per-audio-s M]
 *
 * sttd's --queue, --profiles, --max-upload-mb, --max-duration-s and --quiet
 * are accepted and ignored, so the pods of `sttbench replicas` and `sttbench
 * shapes` can run it.
 *
 * Routes: GET /health and /ready answer 200; GET /metrics gives the gauges
 * sttbench verifies (sttd_workers, sttd_threads_per_request, with the values
 * given here); POST /v1/audio/transcriptions (and /inference) reads the whole
 * body, takes it as 16 kHz 16-bit mono (32000 bytes per audio second), burns
 * M ms of its own thread's CPU time per audio second in a busy loop (at most W
 * requests at once, the others wait as they would for a worker), then answers
 * {"text": "..."} with the headers sttd sends (X-Queue-Time-Ms,
 * X-Process-Time-Ms, X-Audio-Duration-S, X-Pieces, X-Request-Id). Since the
 * work is CPU time, a CPU restriction changes the throughput as it would for
 * the real engine. SIGTERM or SIGINT stops it (exit 0).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct conn {
    size_t bytes; /* request body bytes received */
} conn;

static int workers = 1, threads = 1;
static double cpu_ms_per_audio_s = 50;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int busy;
static atomic_long requests;

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Spins until this thread has used cpu_s seconds of CPU time. */
static void burn(double cpu_s)
{
    double end = clock_s(CLOCK_THREAD_CPUTIME_ID) + cpu_s;
    volatile unsigned long x = 1;
    while (clock_s(CLOCK_THREAD_CPUTIME_ID) < end)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *ctype,
                              const char *body, const char *const *hdrs)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    for (int i = 0; hdrs && hdrs[i]; i += 2)
        MHD_add_response_header(r, hdrs[i], hdrs[i + 1]);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result transcribe(struct MHD_Connection *c, size_t bytes)
{
    double audio_s = bytes / 32000.0, t0 = clock_s(CLOCK_MONOTONIC);
    pthread_mutex_lock(&mu);
    while (busy >= workers)
        pthread_cond_wait(&cv, &mu);
    busy++;
    pthread_mutex_unlock(&mu);
    double t1 = clock_s(CLOCK_MONOTONIC);
    burn(audio_s * cpu_ms_per_audio_s / 1e3);
    double t2 = clock_s(CLOCK_MONOTONIC);
    pthread_mutex_lock(&mu);
    busy--;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    char qt[32], pt[32], ad[32], id[32];
    snprintf(qt, sizeof qt, "%.1f", (t1 - t0) * 1e3);
    snprintf(pt, sizeof pt, "%.1f", (t2 - t1) * 1e3);
    snprintf(ad, sizeof ad, "%.3f", audio_s);
    snprintf(id, sizeof id, "fake-%ld", atomic_fetch_add(&requests, 1) + 1);
    const char *hdrs[] = {"X-Queue-Time-Ms",
                          qt,
                          "X-Process-Time-Ms",
                          pt,
                          "X-Audio-Duration-S",
                          ad,
                          "X-Pieces",
                          "1",
                          "X-Request-Id",
                          id,
                          NULL};
    return answer(c, MHD_HTTP_OK, "application/json", "{\"text\": \"fake transcript\"}", hdrs);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    conn *st = *con_cls;
    if (!st) {
        /* Answer only once the request has been read to its end. */
        if (!(st = calloc(1, sizeof *st))) return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size) {
        st->bytes += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (get && (!strcmp(url, "/health") || !strcmp(url, "/ready")))
        return answer(c, MHD_HTTP_OK, "application/json", "{\"status\":\"ok\"}", NULL);
    if (get && !strcmp(url, "/metrics")) {
        char body[512];
        snprintf(body, sizeof body,
                 "# TYPE sttd_workers gauge\nsttd_workers %d\n"
                 "# TYPE sttd_threads_per_request gauge\nsttd_threads_per_request %d\n"
                 "# TYPE fake_requests_total counter\nfake_requests_total %ld\n",
                 workers, threads, atomic_load(&requests));
        return answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4", body, NULL);
    }
    if (!strcmp(method, "POST") &&
        (!strcmp(url, "/v1/audio/transcriptions") || !strcmp(url, "/inference")))
        return transcribe(c, st->bytes);
    return answer(c, MHD_HTTP_NOT_FOUND, "application/json",
                  "{\"error\":{\"message\":\"not found\",\"type\":\"invalid_request_error\","
                  "\"code\":\"not_found\"}}",
                  NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static int arg_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    int port = -1;
    const char *host = "127.0.0.1";
    int nargs = argc;
    for (int i = 1; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        int bad = 0;
        if (!strcmp(o, "--quiet")) {
            i--, nargs--; /* a flag: no value */
            continue;
        }
        if (!strcmp(o, "--queue") || !strcmp(o, "--profiles") || !strcmp(o, "--max-upload-mb") ||
            !strcmp(o, "--max-duration-s"))
            continue;
        if (!strcmp(o, "--port"))
            bad = arg_int(v, 1, 65535, &port);
        else if (!strcmp(o, "--workers"))
            bad = arg_int(v, 1, 4096, &workers);
        else if (!strcmp(o, "--threads"))
            bad = arg_int(v, 1, 4096, &threads);
        else if (!strcmp(o, "--cpu-ms-per-audio-s")) {
            char *end;
            cpu_ms_per_audio_s = strtod(v, &end);
            bad = end == v || *end || !(cpu_ms_per_audio_s >= 0);
        } else if (!strcmp(o, "--host"))
            host = v;
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "fake_sttd: bad option %s %s\n", o, v);
            return 2;
        }
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (port < 0 || nargs % 2 == 0 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "usage: fake_sttd --port P [--host H] [--workers W] [--threads T] "
                        "[--cpu-ms-per-audio-s M]\n");
        return 2;
    }
    /* Every thread MHD starts inherits this mask, so sigwait() below sees the
     * signal. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake_sttd: cannot listen on port %d\n", port);
        return 1;
    }
    fprintf(stderr, "fake_sttd: port %d, %d workers, %d threads, %.1f CPU ms per audio s\n", port,
            workers, threads, cpu_ms_per_audio_s);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    fprintf(stderr, "fake_sttd: stopped after %ld transcriptions\n", atomic_load(&requests));
    return 0;
}
