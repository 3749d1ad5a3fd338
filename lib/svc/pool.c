#include "pool.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpus.h"
#include "clock.h"
#include "error.h"
#include "worker.h"
#include "zygote.h"

typedef struct req {
    int memfd;
    int profile;
    int max_inflight;
    stt_piece *pieces;
    size_t n_pieces;
    size_t *order; /* dispatch order: longest piece first */
    size_t next;   /* index into order */
    size_t done;
    int in_flight;
    stt_transcript **results;
    int failed;
    char err[256];
    int finished;
    double t_admit, t_first, t_last;
    pthread_cond_t cond;
    struct req *next_active;
} req;

typedef struct wk {
    int sock; /* -1 when dead */
    pid_t pid;
    req *r; /* the request whose piece it decodes, or NULL when idle */
    size_t piece;
    uint64_t job_id;
    double deadline;
} wk;

struct stt_pool {
    stt_pool_params p;
    stt_zygote *z;
    wk *w;
    int spawns_pending;
    pthread_mutex_t mu;
    req *head; /* admitted requests with pieces, in admission order */
    int active;
    int capacity;
    long restarts;
    int stopping;
    int broken; /* the dispatcher ended without being asked to */
    int wake_fd;
    char *rbuf; /* the dispatcher's receive buffer, STT_WORKER_MSG_MAX bytes */
    uint64_t next_job;
    pthread_t thread;
};


stt_pool_params stt_pool_default_params(void)
{
    stt_pool_params p = {0};
    p.engine = &stt_engine_pocketsphinx;
    p.model_dir = STT_MODEL_DIR;
    p.profile_mask = (1u << STT_N_PROFILES) - 1;
    p.vad = stt_vad_default_params();
    p.piece_deadline_s = 120;
    return p;
}

static void wake(stt_pool *p)
{
    uint64_t one = 1;
    ssize_t r = write(p->wake_fd, &one, sizeof one);
    (void)r; /* a full counter already means "wake up" */
}

static void finish_if_done(req *r)
{
    if (!r->finished && ((r->failed && r->in_flight == 0) || r->done == r->n_pieces)) {
        r->finished = 1;
        r->t_last = stt_now_s();
        pthread_cond_signal(&r->cond);
    }
}

static void fail_req(req *r, int code, const char *msg)
{
    if (!r->failed) {
        r->failed = code;
        snprintf(r->err, sizeof r->err, "%s", msg);
    }
}

/* The request a free worker should serve next (see the policy in pool.h). */
static req *pick(stt_pool *p)
{
    req *best = NULL;
    for (req *r = p->head; r; r = r->next_active) {
        if (r->failed || r->next >= r->n_pieces || r->in_flight >= r->max_inflight) continue;
        if (!best || r->in_flight < best->in_flight) best = r;
    }
    return best;
}

static void worker_died(stt_pool *p, wk *w, const char *why)
{
    if (w->sock >= 0) close(w->sock);
    w->sock = -1;
    if (w->pid > 0) kill(w->pid, SIGKILL);
    w->pid = 0;
    if (w->r) {
        char msg[256];
        snprintf(msg, sizeof msg, "worker failed while decoding: %s", why);
        fail_req(w->r, STT_EWORKER, msg);
        w->r->in_flight--;
        finish_if_done(w->r);
        w->r = NULL;
    }
    p->restarts++;
    if (!p->stopping && stt_zygote_request_spawn(p->z) == 0) p->spawns_pending++;
}

static void assign(stt_pool *p)
{
    for (int i = 0; i < p->p.workers; i++) {
        wk *w = &p->w[i];
        if (w->sock < 0 || w->r) continue;
        req *r = pick(p);
        if (!r) return;
        size_t k = r->order[r->next++];
        const stt_piece *pc = &r->pieces[k];
        w->r = r;
        w->piece = k;
        w->job_id = ++p->next_job;
        double dur = (double)pc->n_samples / STT_SAMPLE_RATE;
        double t = stt_now_s();
        w->deadline = t + fmax(p->p.piece_deadline_s, 4 * dur);
        if (r->t_first == 0) r->t_first = t;
        r->in_flight++;
        if (stt_worker_send_job(w->sock, w->job_id, r->profile, r->memfd, pc->start,
                                pc->n_samples) < 0)
            worker_died(p, w, "could not send the job");
    }
}

static void handle_result(stt_pool *p, wk *w)
{
    uint64_t id = 0;
    stt_transcript *t = NULL;
    char err[256] = "";
    int rc = stt_worker_recv_result(w->sock, p->rbuf, &id, &t, err, sizeof err);
    if (rc == STT_EWORKER || (rc == 0 && id != w->job_id) || !w->r) {
        stt_transcript_free(t);
        worker_died(p, w, rc == STT_EWORKER ? err : "out-of-order result");
        return;
    }
    req *r = w->r;
    w->r = NULL;
    r->in_flight--;
    if (rc < 0) {
        fail_req(r, rc == STT_ENOMEM ? STT_ENOMEM : STT_EENGINE, err);
    } else {
        r->results[w->piece] = t;
        r->done++;
    }
    finish_if_done(r);
}

static void handle_spawn(stt_pool *p)
{
    int sock;
    pid_t pid;
    char err[256];
    int rc = stt_zygote_recv_spawned(p->z, &sock, &pid, err, sizeof err);
    p->spawns_pending--;
    if (rc < 0) {
        /* The loader is gone or cannot fork: the pool runs with fewer workers. */
        if (rc == STT_EWORKER) p->spawns_pending = 0;
        return;
    }
    for (int i = 0; i < p->p.workers; i++) {
        if (p->w[i].sock < 0) {
            p->w[i].sock = sock;
            p->w[i].pid = pid;
            p->w[i].r = NULL;
            return;
        }
    }
    close(sock);
    kill(pid, SIGKILL);
}

static void *dispatcher(void *arg)
{
    stt_pool *p = arg;
    int n = p->p.workers;
    struct pollfd *fds = calloc((size_t)n + 2, sizeof *fds);
    int *idx = calloc((size_t)n + 2, sizeof *idx);
    if (!fds || !idx) abort(); /* at start-up, a few bytes: nothing sensible to do */
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        assign(p);
        int nf = 0;
        fds[nf++] = (struct pollfd){p->wake_fd, POLLIN, 0};
        fds[nf++] = (struct pollfd){stt_zygote_fd(p->z), POLLIN, 0};
        double t = stt_now_s(), next_deadline = INFINITY;
        for (int i = 0; i < n; i++) {
            if (p->w[i].sock < 0) continue;
            idx[nf] = i;
            fds[nf++] = (struct pollfd){p->w[i].sock, POLLIN, 0};
            if (p->w[i].r && p->w[i].deadline < next_deadline) next_deadline = p->w[i].deadline;
        }
        int timeout = isinf(next_deadline) ? -1 : (int)fmax(0, (next_deadline - t) * 1000) + 1;
        pthread_mutex_unlock(&p->mu);
        int r = poll(fds, (nfds_t)nf, timeout);
        pthread_mutex_lock(&p->mu);
        if (r < 0 && errno != EINTR) break;
        if (fds[0].revents) {
            uint64_t v;
            ssize_t rr = read(p->wake_fd, &v, sizeof v);
            (void)rr;
        }
        if (fds[1].revents) {
            if (p->spawns_pending > 0)
                handle_spawn(p);
            else if (fds[1].revents & (POLLHUP | POLLERR))
                break; /* loader gone and nothing to wait for */
        }
        for (int f = 2; f < nf; f++) {
            wk *w = &p->w[idx[f]];
            if (w->sock != fds[f].fd || !fds[f].revents) continue;
            handle_result(p, w);
        }
        t = stt_now_s();
        for (int i = 0; i < n; i++)
            if (p->w[i].sock >= 0 && p->w[i].r && p->w[i].deadline < t)
                worker_died(p, &p->w[i], "piece took longer than its deadline");
    }
    /* Stopping (or the loader vanished): whoever waits gets an answer, and no
     * request is admitted any more. */
    if (!p->stopping) p->broken = 1;
    p->stopping = 1;
    for (req *q = p->head; q; q = q->next_active) {
        fail_req(q, STT_ESHUTDOWN, "the service is stopping");
        q->finished = 1;
        pthread_cond_signal(&q->cond);
    }
    pthread_mutex_unlock(&p->mu);
    free(fds);
    free(idx);
    return NULL;
}

stt_pool *stt_pool_create(const stt_pool_params *params, char *err, size_t errlen)
{
    stt_pool *p = calloc(1, sizeof *p);
    if (!p) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    p->p = params ? *params : stt_pool_default_params();
    if (!p->p.engine) p->p.engine = &stt_engine_pocketsphinx;
    if (!p->p.model_dir) p->p.model_dir = STT_MODEL_DIR;
    if (p->p.workers <= 0) p->p.workers = stt_usable_cpus();
    if (p->p.queue < 0) p->p.queue = 0;
    if (!params || params->queue == 0) p->p.queue = 2 * p->p.workers;
    if (p->p.threads <= 0) p->p.threads = p->p.workers;
    if (!p->p.profile_mask) p->p.profile_mask = (1u << STT_N_PROFILES) - 1;
    if (p->p.piece_deadline_s <= 0) p->p.piece_deadline_s = 120;
    p->capacity = p->p.workers + p->p.queue;
    pthread_mutex_init(&p->mu, NULL);
    p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    p->w = calloc((size_t)p->p.workers, sizeof *p->w);
    p->rbuf = malloc(STT_WORKER_MSG_MAX);
    if (p->wake_fd < 0 || !p->w || !p->rbuf) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < p->p.workers; i++)
        p->w[i].sock = -1;
    p->z = stt_zygote_start(p->p.engine, p->p.model_dir, p->p.profile_mask, err, errlen);
    if (!p->z) goto fail;
    for (int i = 0; i < p->p.workers; i++) {
        if (stt_zygote_request_spawn(p->z) < 0 ||
            stt_zygote_recv_spawned(p->z, &p->w[i].sock, &p->w[i].pid, err, errlen) < 0) {
            stt_seterr(err, errlen, STT_EWORKER, "could not start worker %d", i);
            goto fail;
        }
    }
    if (pthread_create(&p->thread, NULL, dispatcher, p) != 0) {
        stt_seterr(err, errlen, STT_EIO, "could not start the dispatcher thread");
        goto fail;
    }
    return p;
fail:
    for (int i = 0; p->w && i < p->p.workers; i++)
        if (p->w[i].sock >= 0) close(p->w[i].sock);
    stt_zygote_stop(p->z);
    if (p->wake_fd >= 0) close(p->wake_fd);
    free(p->rbuf);
    free(p->w);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return NULL;
}

static int cmp_piece_len_desc(const void *a, const void *b, void *ctx)
{
    const stt_piece *pc = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (pc[x].n_samples != pc[y].n_samples) return pc[x].n_samples < pc[y].n_samples ? 1 : -1;
    return x < y ? -1 : x > y;
}

static int fill_memfd(const stt_audio *a, int *out, char *err, size_t errlen)
{
    int fd = memfd_create("stt-audio", MFD_CLOEXEC);
    if (fd < 0) return stt_seterr(err, errlen, STT_EIO, "memfd_create: %s", strerror(errno));
    size_t len = a->n_samples * sizeof(int16_t);
    const char *src = (const char *)a->samples;
    for (size_t off = 0; off < len;) {
        ssize_t w = pwrite(fd, src + off, len - off, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            return stt_seterr(err, errlen, STT_EIO, "cannot stage audio: %s", strerror(errno));
        }
        off += (size_t)w;
    }
    *out = fd;
    return 0;
}

int stt_pool_transcribe(stt_pool *p, const stt_audio *audio, int profile, int threads,
                        stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen)
{
    *out = NULL;
    if (stats) memset(stats, 0, sizeof *stats);
    if (profile < 0 || profile >= STT_N_PROFILES || !(p->p.profile_mask & (1u << profile)))
        return stt_seterr(err, errlen, STT_EINVAL, "profile not loaded by this server");
    double t0 = stt_now_s();
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return stt_seterr(err, errlen, STT_ESHUTDOWN, "the service is stopping");
    }
    if (p->active >= p->capacity) {
        pthread_mutex_unlock(&p->mu);
        return stt_seterr(err, errlen, STT_EBUSY, "all %d workers busy and %d requests queued",
                          p->p.workers, p->p.queue);
    }
    p->active++;
    pthread_mutex_unlock(&p->mu);

    req r = {0};
    r.memfd = -1;
    r.profile = profile;
    r.max_inflight = threads > 0 ? threads : p->p.threads;
    r.t_admit = t0;
    pthread_cond_init(&r.cond, NULL);
    int rc = stt_vad_split(audio->samples, audio->n_samples, &p->p.vad, &r.pieces, &r.n_pieces);
    if (rc < 0) {
        stt_seterr(err, errlen, rc, "cannot split the audio");
        goto done;
    }
    r.order = calloc(r.n_pieces + 1, sizeof *r.order);
    r.results = calloc(r.n_pieces + 1, sizeof *r.results);
    if (!r.order || !r.results) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r.n_pieces; i++)
        r.order[i] = i;
    qsort_r(r.order, r.n_pieces, sizeof *r.order, cmp_piece_len_desc, r.pieces);
    if (r.n_pieces && (rc = fill_memfd(audio, &r.memfd, err, errlen)) < 0) goto done;

    if (r.n_pieces) {
        pthread_mutex_lock(&p->mu);
        req **tail = &p->head;
        while (*tail)
            tail = &(*tail)->next_active;
        *tail = &r;
        wake(p);
        while (!r.finished)
            pthread_cond_wait(&r.cond, &p->mu);
        for (req **q = &p->head; *q; q = &(*q)->next_active)
            if (*q == &r) {
                *q = r.next_active;
                break;
            }
        pthread_mutex_unlock(&p->mu);
        if (r.failed) {
            rc = stt_seterr(err, errlen, r.failed, "%s", r.err);
            goto done;
        }
    }
    stt_transcript *t = stt_transcript_create();
    if (!t) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r.n_pieces && rc == 0; i++)
        rc = stt_transcript_append(t, r.results[i], (double)r.pieces[i].start / STT_SAMPLE_RATE);
    if (rc < 0) {
        stt_transcript_free(t);
        stt_seterr(err, errlen, rc, "out of memory");
        goto done;
    }
    stt_transcript_set_duration(t, stt_audio_duration(audio));
    *out = t;
    if (stats) {
        double first = r.t_first ? r.t_first : stt_now_s();
        double last = r.t_last ? r.t_last : first;
        stats->queue_ms = (first - t0) * 1000;
        stats->process_ms = (last - first) * 1000;
        stats->pieces = (int)r.n_pieces;
    }
done:
    for (size_t i = 0; r.results && i < r.n_pieces; i++)
        stt_transcript_free(r.results[i]);
    free(r.results);
    free(r.order);
    free(r.pieces);
    if (r.memfd >= 0) close(r.memfd);
    pthread_cond_destroy(&r.cond);
    pthread_mutex_lock(&p->mu);
    p->active--;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void stt_pool_status(stt_pool *p, stt_backend_status *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->p.workers; i++) {
        if (p->w[i].sock >= 0) out->workers++;
        if (p->w[i].r) out->busy++;
    }
    out->active = p->active;
    out->capacity = p->capacity;
    out->restarts = p->restarts;
    out->threads = p->p.threads;
    out->ready = !p->stopping && out->workers > 0 && p->active < p->capacity;
    out->broken = p->broken;
    pthread_mutex_unlock(&p->mu);
}

int stt_pool_worker_pids(stt_pool *p, pid_t *pids, int max)
{
    int n = 0;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->p.workers && n < max; i++)
        if (p->w[i].sock >= 0) pids[n++] = p->w[i].pid;
    pthread_mutex_unlock(&p->mu);
    return n;
}

static int backend_transcribe(void *ctx, const stt_audio *audio, int profile, int threads,
                              stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen)
{
    return stt_pool_transcribe(ctx, audio, profile, threads, out, stats, err, errlen);
}

static void backend_status(void *ctx, stt_backend_status *out)
{
    stt_pool_status(ctx, out);
}

stt_backend stt_pool_backend(stt_pool *p)
{
    stt_backend b = {p, backend_transcribe, backend_status};
    return b;
}

void stt_pool_free(stt_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_mutex_unlock(&p->mu);
    wake(p);
    pthread_join(p->thread, NULL);
    for (int i = 0; i < p->p.workers; i++)
        if (p->w[i].sock >= 0) close(p->w[i].sock);
    stt_zygote_stop(p->z);
    close(p->wake_fd);
    free(p->rbuf);
    free(p->w);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
