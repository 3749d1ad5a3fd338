/* worker: see worker.h. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio.h"
#include "child.h"
#include "error.h"
#include "ipc.h"

/* A result's payload above this goes into a memfd even if the socket could
 * take it: 64 MiB is far above any transcript of a 10 min piece. */
#define MAX_PAYLOAD (64u << 20)
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

typedef struct job_msg {
    uint64_t job_id;
    uint64_t offset;
    uint64_t n;
    double max_duration_s;
    double cpu_budget_s;
    int32_t kind;
    int32_t profile;
} job_msg;

typedef struct result_hdr {
    uint64_t job_id;
    uint64_t n_samples;
    double cpu_s;
    int32_t status; /* 0, or a negative STT_E* code with an error text as payload */
    int32_t kind;
    int32_t src_rate, src_channels;
    int32_t payload_in_fd; /* piece results: the payload is the passed memfd */
    char src_format[16];
} result_hdr;

/* ---- the worker process ---------------------------------------------- */

/* The job the CPU timer belongs to, for its signal handler. */
static int g_sock = -1;
static volatile sig_atomic_t g_kind;
static volatile uint64_t g_job_id;
static volatile double g_budget_s;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SIGXCPU from the job's CPU timer: the job is over its budget. Says so for
 * that job and leaves; only async-signal-safe calls (the message is built on
 * the stack; send is one system call). */
static void on_cpu_budget(int sig)
{
    (void)sig;
    struct {
        result_hdr h;
        char msg[64];
    } m;
    memset(&m, 0, sizeof m);
    m.h.job_id = g_job_id;
    m.h.kind = g_kind;
    m.h.status = STT_EDEADLINE;
    m.h.cpu_s = g_budget_s;
    static const char text[] = "used its whole CPU budget";
    memcpy(m.msg, text, sizeof text);
    send(g_sock, &m, sizeof m.h + sizeof text, MSG_NOSIGNAL);
    stt_child_exit(0);
}

static timer_t g_timer;
static int g_have_timer;

static void arm(const job_msg *job)
{
    g_job_id = job->job_id;
    g_kind = job->kind;
    g_budget_s = job->cpu_budget_s;
    if (!g_have_timer || !(job->cpu_budget_s > 0)) return;
    double at = cpu_now() + job->cpu_budget_s;
    struct itimerspec its = {{0, 0}, {(time_t)at, (long)((at - (double)(time_t)at) * 1e9)}};
    timer_settime(g_timer, TIMER_ABSTIME, &its, NULL);
}

static void disarm(void)
{
    struct itimerspec off = {{0, 0}, {0, 0}};
    if (g_have_timer) timer_settime(g_timer, 0, &off, NULL);
}

/* Sends a result; a worker that cannot tell the pool leaves, so that the pool
 * sees it gone at once instead of waiting for a deadline. */
static void send_result(int sock, const result_hdr *h, const void *payload, size_t len, int fd)
{
    char *buf = malloc(sizeof *h + len);
    if (!buf) stt_child_exit(1);
    memcpy(buf, h, sizeof *h);
    if (len) memcpy(buf + sizeof *h, payload, len);
    int rc = stt_ipc_send(sock, buf, sizeof *h + len, fd);
    free(buf);
    if (rc < 0) stt_child_exit(1);
}

static void send_error(int sock, result_hdr *h, int code, const char *msg)
{
    h->status = code;
    send_result(sock, h, msg, strlen(msg) + 1, -1);
}

/* Maps [base, base+len) of fd read-only, page-aligned; NULL on failure. */
static const void *map_range(int fd, size_t start, size_t len, void **map, size_t *maplen)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t base = start - start % (size_t)page;
    *maplen = start - base + len;
    *map = mmap(NULL, *maplen, PROT_READ, MAP_SHARED, fd, (off_t)base);
    if (*map == MAP_FAILED) return *map = NULL;
    return (const char *)*map + (start - base);
}

static void do_piece(int sock, const job_msg *job, int fd, stt_engine *const *engines, double t0)
{
    result_hdr h;
    memset(&h, 0, sizeof h); /* no uninitialised padding on the wire */
    h.job_id = job->job_id;
    h.kind = STT_JOB_PIECE;
    char err[256] = "";
    struct stat st;
    size_t bytes = (size_t)job->n * sizeof(int16_t), start = (size_t)job->offset * sizeof(int16_t);
    if (job->profile < 0 || job->profile >= STT_N_PROFILES || !engines[job->profile] ||
        fstat(fd, &st) != 0 || job->n > SIZE_MAX / 4 || job->offset > SIZE_MAX / 4 ||
        start + bytes > (size_t)st.st_size) {
        send_error(sock, &h, STT_EINVAL, "malformed job");
        return;
    }
    void *map = NULL;
    size_t maplen = 0;
    const int16_t *pcm = bytes ? map_range(fd, start, bytes, &map, &maplen) : NULL;
    if (bytes && !pcm) {
        snprintf(err, sizeof err, "cannot map audio: %s", strerror(errno));
        send_error(sock, &h, STT_EIO, err);
        return;
    }
    stt_transcript *t = stt_transcript_create();
    int rc = t ? stt_engine_decode(engines[job->profile], pcm, (size_t)job->n, t, err, sizeof err)
               : stt_seterr(err, sizeof err, STT_ENOMEM, "out of memory");
    if (map) munmap(map, maplen);
    disarm();
    void *ser = NULL;
    size_t len = 0;
    if (rc == 0 && stt_transcript_serialize(t, &ser, &len) < 0)
        rc = stt_seterr(err, sizeof err, STT_ENOMEM, "out of memory");
    if (rc == 0 && len > MAX_PAYLOAD)
        rc = stt_seterr(err, sizeof err, STT_EENGINE, "transcript too large");
    stt_transcript_free(t);
    h.cpu_s = cpu_now() - t0;
    if (rc) {
        send_error(sock, &h, rc, err);
        free(ser);
        return;
    }
    if (sizeof h + len <= stt_ipc_max_send(sock)) {
        send_result(sock, &h, ser, len, -1);
        free(ser);
        return;
    }
    /* Too large for one message on this socket: the payload travels in a memfd. */
    int mfd = memfd_create("stt-result", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int ok = mfd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = pwrite(mfd, (char *)ser + off, len - off, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    free(ser);
    if (!ok || fcntl(mfd, F_ADD_SEALS, SEALS) != 0) {
        if (mfd >= 0) close(mfd);
        send_error(sock, &h, STT_ENOMEM, "cannot stage a large transcript");
        return;
    }
    h.payload_in_fd = 1;
    send_result(sock, &h, NULL, 0, mfd);
    close(mfd);
}

typedef struct pcm_out {
    int fd;
    size_t off; /* bytes written */
} pcm_out;

static int pcm_write(void *ctx, const int16_t *s, size_t n)
{
    pcm_out *o = ctx;
    const char *p = (const char *)s;
    size_t len = n * sizeof *s;
    while (len) {
        ssize_t w = pwrite(o->fd, p, len, (off_t)o->off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return errno == ENOSPC || errno == ENOMEM ? STT_ENOMEM : STT_EIO;
        o->off += (size_t)w;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void do_media(int sock, const job_msg *job, int fd, double t0)
{
    result_hdr h;
    memset(&h, 0, sizeof h);
    h.job_id = job->job_id;
    h.kind = STT_JOB_MEDIA;
    char err[256] = "";
    struct stat st;
    if (fstat(fd, &st) != 0 || job->n == 0 || job->n > (uint64_t)st.st_size) {
        send_error(sock, &h, job->n == 0 ? STT_EAUDIO : STT_EINVAL,
                   job->n == 0 ? "empty upload" : "malformed job");
        return;
    }
    void *map = NULL;
    size_t maplen = 0;
    const void *data = map_range(fd, 0, (size_t)job->n, &map, &maplen);
    pcm_out o = {memfd_create("stt-pcm", MFD_CLOEXEC | MFD_ALLOW_SEALING), 0};
    if (!data || o.fd < 0) {
        if (map) munmap(map, maplen);
        if (o.fd >= 0) close(o.fd);
        send_error(sock, &h, STT_EIO, "cannot map the upload");
        return;
    }
    stt_audio_params ap = stt_audio_default_params();
    ap.max_duration_s = job->max_duration_s;
    stt_audio info;
    int rc = stt_audio_decode_to(data, (size_t)job->n, &ap, pcm_write, &o, &info, err, sizeof err);
    munmap(map, maplen);
    disarm();
    h.cpu_s = cpu_now() - t0;
    if (rc == 0 && fcntl(o.fd, F_ADD_SEALS, SEALS) != 0)
        rc = stt_seterr(err, sizeof err, STT_EIO, "cannot seal the decoded audio");
    if (rc) {
        close(o.fd);
        send_error(sock, &h, rc, err);
        return;
    }
    h.n_samples = info.n_samples;
    h.src_rate = info.src_rate;
    h.src_channels = info.src_channels;
    memcpy(h.src_format, info.src_format, sizeof h.src_format - 1); /* names are short */
    send_result(sock, &h, NULL, 0, o.fd);
    close(o.fd);
}

void stt_worker_main(int sock, stt_engine *const *engines)
{
    g_sock = sock;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cpu_budget;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGXCPU, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGXCPU;
    g_have_timer = timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &g_timer) == 0;
    for (;;) {
        job_msg job;
        int fd;
        ssize_t r = stt_ipc_recv(sock, &job, sizeof job, &fd);
        if (r <= 0) stt_child_exit(0);
        double t0 = cpu_now();
        if (r != (ssize_t)sizeof job || fd < 0 ||
            (job.kind != STT_JOB_PIECE && job.kind != STT_JOB_MEDIA)) {
            result_hdr h;
            memset(&h, 0, sizeof h);
            h.job_id = r >= (ssize_t)sizeof job.job_id ? job.job_id : 0;
            h.kind = r == (ssize_t)sizeof job ? job.kind : 0;
            send_error(sock, &h, STT_EINVAL, "malformed job");
        } else {
            arm(&job);
            if (job.kind == STT_JOB_MEDIA)
                do_media(sock, &job, fd, t0);
            else
                do_piece(sock, &job, fd, engines, t0);
            disarm();
        }
        if (fd >= 0) close(fd);
    }
}

/* ---- the pool's side -------------------------------------------------- */

int stt_worker_send_job(int sock, const stt_worker_job *job)
{
    job_msg m;
    memset(&m, 0, sizeof m); /* no uninitialised padding on the wire */
    m.job_id = job->id;
    m.offset = job->offset;
    m.n = job->n;
    m.kind = job->kind;
    m.profile = job->profile;
    m.max_duration_s = job->max_duration_s;
    m.cpu_budget_s = job->cpu_budget_s;
    return stt_ipc_send(sock, &m, sizeof m, job->fd);
}

/* The size of a memfd that its writer can no longer shrink or change, so that
 * mapping it cannot fault later; STT_EWORKER when it is not sealed so. */
static int sealed_size(int fd, size_t *size)
{
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_WRITE)) != (F_SEAL_SHRINK | F_SEAL_WRITE) ||
        fstat(fd, &st) != 0 || st.st_size < 0)
        return STT_EWORKER;
    *size = (size_t)st.st_size;
    return 0;
}

int stt_worker_recv_result(int sock, void *scratch, stt_worker_result *out)
{
    memset(out, 0, sizeof *out);
    out->pcm_fd = -1;
    char *buf = scratch;
    int fd = -1;
    ssize_t r = stt_ipc_recv(sock, buf, STT_WORKER_MSG_MAX, &fd);
    result_hdr h;
    if (r < (ssize_t)sizeof h) {
        if (fd >= 0) close(fd);
        snprintf(out->err, sizeof out->err, "worker exited while working");
        return STT_EWORKER;
    }
    memcpy(&h, buf, sizeof h);
    out->job_id = h.job_id;
    out->kind = h.kind;
    out->cpu_s = h.cpu_s >= 0 && h.cpu_s < 1e9 ? h.cpu_s : 0;
    const char *payload = buf + sizeof h;
    size_t plen = (size_t)r - sizeof h;
    if (h.status != 0) {
        if (fd >= 0) close(fd);
        out->status = h.status < 0 ? h.status : STT_EENGINE;
        snprintf(out->err, sizeof out->err, "%.*s", (int)strnlen(payload, plen), payload);
        return 0;
    }
    if (h.kind == STT_JOB_MEDIA) {
        size_t size = 0;
        if (fd < 0 || sealed_size(fd, &size) < 0 || h.n_samples == 0 ||
            h.n_samples > size / sizeof(int16_t)) {
            if (fd >= 0) close(fd);
            snprintf(out->err, sizeof out->err, "worker sent malformed audio");
            return STT_EWORKER;
        }
        out->pcm_fd = fd;
        out->n_samples = (size_t)h.n_samples;
        out->src_rate = h.src_rate;
        out->src_channels = h.src_channels;
        memcpy(out->src_format, h.src_format, sizeof out->src_format);
        out->src_format[sizeof out->src_format - 1] = '\0';
        return 0;
    }
    void *map = NULL;
    size_t size = 0;
    if (h.payload_in_fd) {
        if (fd < 0 || sealed_size(fd, &size) < 0 || size == 0 || size > MAX_PAYLOAD ||
            (map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
            if (fd >= 0) close(fd);
            snprintf(out->err, sizeof out->err, "worker sent a malformed result");
            return STT_EWORKER;
        }
        payload = map;
        plen = size;
    }
    if (fd >= 0) close(fd);
    int rc = h.kind == STT_JOB_PIECE ? stt_transcript_deserialize(payload, plen, &out->transcript)
                                     : STT_EINVAL;
    if (map) munmap(map, size);
    if (rc < 0) {
        snprintf(out->err, sizeof out->err, "worker sent a bad result");
        return STT_EWORKER;
    }
    return 0;
}
