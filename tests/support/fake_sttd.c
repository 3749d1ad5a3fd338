/* fake_sttd: a stand-in for sttd, without an engine, for tests that drive
 * `sttbench cpu --server-cmd` end to end in seconds.
 *
 *   fake_sttd --port P [--host IPv4] [--workers W] [--threads T]
 *             [--cpu-ms-per-audio-s M] [--piece-s S]
 *
 * It has sttd's shape: W worker processes forked at start (children of the
 * server, so a CPU restriction can pin each one and `stt_proc_leaves` finds
 * them), and a request's audio cut into pieces of at most S seconds (5; <= 0:
 * one piece) decoded by up to T workers at once (the multipart field
 * "threads" overrides T, at most W). A worker "decodes" a piece by burning M
 * ms of its own CPU time per audio second in a busy loop, so a restriction
 * changes throughput and latency as it would for the real engine: a short
 * file (one piece) runs at one core's speed, a long one is split across
 * cores.
 *
 * sttd's --queue, --profiles, --max-upload-mb, --max-duration-s and --quiet
 * are accepted and ignored, so the pods of `sttbench replicas` and `sttbench
 * shapes` can run it.
 *
 * Routes: GET /health and /ready answer 200; GET /metrics gives the gauges
 * sttbench verifies (sttd_workers, sttd_threads_per_request); POST
 * /v1/audio/transcriptions (and /inference) reads the multipart body, takes
 * the "file" part as 16 kHz 16-bit mono (32000 bytes per audio second, after
 * a 44-byte WAV header when there is one), and
 * answers {"text": "..."} with the headers sttd sends (X-Queue-Time-Ms,
 * X-Process-Time-Ms, X-Audio-Duration-S, X-Pieces, X-Request-Id). SIGTERM or
 * SIGINT stops it (exit 0).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 256

typedef struct conn {
    struct MHD_PostProcessor *pp;
    size_t bytes; /* audio bytes of the "file" part (or the whole body) */
    int riff;     /* the file part starts with a WAV header (44 bytes, not audio) */
    int threads;  /* the "threads" field, 0 when absent */
    char tbuf[16];
    size_t tlen;
} conn;

static int workers = 1, threads = 1;
static double cpu_ms_per_audio_s = 50, piece_s = 5;
static int wsock[MAX_WORKERS];
static pid_t wpid[MAX_WORKERS];
static int wfree[MAX_WORKERS], nfree;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
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

/* A worker process: one job (a double, CPU seconds) in, one byte out. */
static void worker_main(int sock)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    double cpu_s;
    while (read(sock, &cpu_s, sizeof cpu_s) == (ssize_t)sizeof cpu_s) {
        burn(cpu_s);
        char ok = 1;
        if (write(sock, &ok, 1) != 1) break;
    }
    _exit(0);
}

static int acquire(void)
{
    pthread_mutex_lock(&mu);
    while (nfree == 0)
        pthread_cond_wait(&cv, &mu);
    int w = wfree[--nfree];
    pthread_mutex_unlock(&mu);
    return w;
}

static void release(int w)
{
    pthread_mutex_lock(&mu);
    wfree[nfree++] = w;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

/* One request's pieces, taken in order by up to `threads` helpers. */
typedef struct job {
    double audio_s;
    int pieces;
    atomic_int next;
    atomic_int failed;
    double first_start; /* when the first piece got a worker */
    pthread_mutex_t mu;
} job;

static double piece_len(const job *j, int i)
{
    if (!(piece_s > 0) || j->pieces == 1) return j->audio_s;
    double rest = j->audio_s - piece_s * i;
    return rest < piece_s ? rest : piece_s;
}

static void *helper(void *arg)
{
    job *j = arg;
    int i;
    while ((i = atomic_fetch_add(&j->next, 1)) < j->pieces) {
        int w = acquire();
        double now = clock_s(CLOCK_MONOTONIC);
        pthread_mutex_lock(&j->mu);
        if (j->first_start == 0) j->first_start = now;
        pthread_mutex_unlock(&j->mu);
        double cpu_s = piece_len(j, i) * cpu_ms_per_audio_s / 1e3;
        char ok = 0;
        if (write(wsock[w], &cpu_s, sizeof cpu_s) != (ssize_t)sizeof cpu_s ||
            read(wsock[w], &ok, 1) != 1)
            atomic_store(&j->failed, 1);
        release(w);
    }
    return NULL;
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

static enum MHD_Result transcribe(struct MHD_Connection *c, const conn *st)
{
    size_t audio = st->riff && st->bytes >= 44 ? st->bytes - 44 : st->bytes;
    job j = {.audio_s = audio / 32000.0};
    j.pieces = piece_s > 0 ? (int)ceil(j.audio_s / piece_s - 1e-9) : 1;
    if (j.pieces < 1) j.pieces = 1;
    pthread_mutex_init(&j.mu, NULL);
    int t = st->threads > 0 ? st->threads : threads;
    if (t > workers) t = workers;
    if (t > j.pieces) t = j.pieces;
    double t0 = clock_s(CLOCK_MONOTONIC);
    pthread_t th[MAX_WORKERS];
    int started = 0;
    for (int i = 1; i < t; i++)
        started += pthread_create(&th[started], NULL, helper, &j) == 0;
    helper(&j);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double t2 = clock_s(CLOCK_MONOTONIC), t1 = j.first_start ? j.first_start : t0;
    pthread_mutex_destroy(&j.mu);
    if (atomic_load(&j.failed))
        return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                      "{\"error\":{\"message\":\"worker lost\",\"type\":\"server_error\","
                      "\"code\":\"worker_failed\"}}",
                      NULL);
    char qt[32], pt[32], ad[32], id[32], pc[16];
    snprintf(qt, sizeof qt, "%.1f", (t1 - t0) * 1e3);
    snprintf(pt, sizeof pt, "%.1f", (t2 - t1) * 1e3);
    snprintf(ad, sizeof ad, "%.3f", j.audio_s);
    snprintf(pc, sizeof pc, "%d", j.pieces);
    snprintf(id, sizeof id, "fake-%ld", atomic_fetch_add(&requests, 1) + 1);
    const char *hdrs[] = {"X-Queue-Time-Ms",
                          qt,
                          "X-Process-Time-Ms",
                          pt,
                          "X-Audio-Duration-S",
                          ad,
                          "X-Pieces",
                          pc,
                          "X-Request-Id",
                          id,
                          NULL};
    return answer(c, MHD_HTTP_OK, "application/json", "{\"text\": \"fake transcript\"}", hdrs);
}

static enum MHD_Result field(void *cls, enum MHD_ValueKind kind, const char *key,
                             const char *filename, const char *ctype, const char *enc,
                             const char *data, uint64_t off, size_t size)
{
    (void)kind;
    (void)filename;
    (void)ctype;
    (void)enc;
    conn *st = cls;
    if (!strcmp(key, "file")) {
        if (off == 0 && size >= 4 && !memcmp(data, "RIFF", 4)) st->riff = 1;
        st->bytes += size;
    } else if (!strcmp(key, "threads")) {
        for (size_t i = 0; i < size && st->tlen + 1 < sizeof st->tbuf; i++)
            st->tbuf[st->tlen++] = data[i];
        st->tbuf[st->tlen] = 0;
        st->threads = atoi(st->tbuf);
    }
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    conn *st = *con_cls;
    if (!st) {
        /* Answer only once the request has been read to its end. */
        if (!(st = calloc(1, sizeof *st))) return MHD_NO;
        if (!strcmp(method, "POST")) st->pp = MHD_create_post_processor(c, 65536, field, st);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (st->pp)
            MHD_post_process(st->pp, upload_data, *upload_data_size);
        else
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
        return transcribe(c, st);
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
    conn *st = *con_cls;
    if (st && st->pp) MHD_destroy_post_processor(st->pp);
    free(st);
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

static int arg_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) return -1;
    *out = v;
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
            bad = arg_int(v, 1, MAX_WORKERS, &workers);
        else if (!strcmp(o, "--threads"))
            bad = arg_int(v, 1, 4096, &threads);
        else if (!strcmp(o, "--cpu-ms-per-audio-s"))
            bad = arg_double(v, &cpu_ms_per_audio_s) || cpu_ms_per_audio_s < 0;
        else if (!strcmp(o, "--piece-s"))
            bad = arg_double(v, &piece_s);
        else if (!strcmp(o, "--host"))
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
                        "[--cpu-ms-per-audio-s M] [--piece-s S]\n");
        return 2;
    }
    /* A worker that died must fail its piece, not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    /* Workers first, before any thread exists (fork copies only the caller). */
    for (int i = 0; i < workers; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
            perror("fake_sttd: socketpair");
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("fake_sttd: fork");
            return 1;
        }
        if (pid == 0) {
            close(sv[0]);
            for (int k = 0; k < i; k++)
                close(wsock[k]);
            worker_main(sv[1]);
        }
        close(sv[1]);
        wsock[i] = sv[0];
        wpid[i] = pid;
        wfree[nfree++] = i;
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
    fprintf(stderr,
            "fake_sttd: port %d, %d workers, %d threads, %.1f CPU ms per audio s, pieces of "
            "%.1f s\n",
            port, workers, threads, cpu_ms_per_audio_s, piece_s);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    for (int i = 0; i < workers; i++) {
        close(wsock[i]);
        while (waitpid(wpid[i], NULL, 0) < 0 && errno == EINTR) {
        }
    }
    fprintf(stderr, "fake_sttd: stopped after %ld transcriptions\n", atomic_load(&requests));
    return 0;
}
