/* pool: see pool.h. One mutex guards everything below; the dispatcher thread
 * owns the worker sockets and the zygote handle, the request threads own
 * their req (on their stack) and only link it into the list. */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cpus.h"
#include "error.h"
#include "worker.h"
#include "zygote.h"

/* How often a waiting request looks at whether its client is still there. */
#define CANCEL_POLL_S 0.2
#define BACKOFF_MIN_S 0.1
#define BACKOFF_MAX_S 5.0

enum stage {
    ST_MEDIA,  /* its upload waits for, or is in, a media job */
    ST_SPLIT,  /* decoded; its thread cuts it into pieces */
    ST_PIECES, /* pieces queued or running */
};

typedef struct req {
    enum stage stage;
    /* media */
    const stt_media *media;
    double max_duration_s;
    int media_running;
    int pcm_fd; /* the decoded audio (owned) */
    size_t n_samples;
    /* pieces */
    int profile;
    int max_inflight;
    stt_piece *pieces;
    size_t n_pieces;
    size_t *order; /* dispatch order: longest piece first */
    size_t next;   /* index into order */
    size_t done;
    int in_flight;
    stt_transcript **results;
    double budget_s;           /* recognition CPU allowed; <= 0: none */
    double spent_s, granted_s; /* used by finished pieces; granted to running ones */
    double unstarted;          /* samples in pieces not yet dispatched */
    double cpu_s;              /* all worker CPU, media included */
    int started;               /* a job of it went to a worker */
    int failed;
    char err[256];
    int finished;
    double t0, t_first, t_last;
    pthread_cond_t cond;
    struct req *next_active;
} req;

typedef struct wk {
    int sock; /* -1 when dead */
    pid_t pid;
    int busy; /* a job runs (perhaps for a request that is gone) */
    req *r;   /* the request it works for; NULL when idle or abandoned */
    int kind; /* STT_JOB_* of the running job */
    size_t piece;
    double grant; /* CPU granted to the running piece */
    uint64_t job_id;
    double wall_deadline;
    /* Idle, but kept for this request's first piece: it just decoded the
     * request's upload, whose pieces come a moment later (the request's
     * thread cuts them). Without this, a short request behind a long one
     * would wait for a free worker twice. */
    req *reserved;
} wk;

struct stt_pool {
    stt_pool_params p;
    stt_zygote *z;
    wk *w;
    pthread_mutex_t mu;
    req *head; /* requests handed over, in order */
    int admitted, active, capacity;
    long restarts;
    int stopping, draining, broken;
    char broken_why[160];
    /* respawning */
    int spawn_pending;
    double next_spawn_at, backoff_s, no_workers_since;
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
    /* A guard against inputs that make the search run away, not a speed
     * target: the accurate profile's slowest pieces took 0.74 CPU s per audio
     * second on a 2-core VM at a noisy hour (docs/results/intel-xeon-2c/audio,
     * process_s_single), and a budget of 1.0 refused some of them. */
    p.max_rtf = 3.0;
    p.min_deadline_s = 5.0;
    p.decode_cpu_s = 60.0;
    p.broken_after_s = 30.0;
    p.piece_deadline_s = 120.0;
    return p;
}

static void wake(stt_pool *p)
{
    uint64_t one = 1;
    ssize_t r = write(p->wake_fd, &one, sizeof one);
    (void)r; /* a full counter already means "wake up" */
}

/* ---- requests --------------------------------------------------------- */

/* Forgets r in every worker: what they run for it is abandoned (its result
 * will be dropped), so nothing refers to r once it is finished. */
static void detach(stt_pool *p, req *r)
{
    for (int i = 0; i < p->p.workers; i++) {
        if (p->w[i].r == r) p->w[i].r = NULL;
        if (p->w[i].reserved == r) p->w[i].reserved = NULL;
    }
}

static void finish(stt_pool *p, req *r)
{
    if (r->finished) return;
    detach(p, r);
    r->finished = 1;
    r->t_last = stt_now_s();
    pthread_cond_signal(&r->cond);
    /* A worker it held or kept (reserved) may be free for others now; the
     * dispatcher must look, whichever thread finished it. */
    wake(p);
}

static void fail_req(stt_pool *p, req *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_req(stt_pool *p, req *r, int code, const char *fmt, ...)
{
    if (r->finished) return;
    r->failed = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    finish(p, r);
}

static void fail_all(stt_pool *p, int code, const char *msg)
{
    for (req *q = p->head; q; q = q->next_active)
        fail_req(p, q, code, "%s", msg);
}

/* While draining: a request that no worker has started refuses, so its client
 * can go to another server now instead of after the grace period. */
static void refuse_unstarted(stt_pool *p)
{
    for (req *q = p->head; q; q = q->next_active)
        if (!q->started && !q->finished)
            fail_req(p, q, STT_ESHUTDOWN, "the server is shutting down; retry on another");
}

static void set_broken(stt_pool *p, const char *why)
{
    if (p->broken) return;
    p->broken = 1;
    snprintf(p->broken_why, sizeof p->broken_why, "%s", why);
    fail_all(p, STT_ESHUTDOWN, why);
    /* Its workers are not counted any more, and not kept. */
    for (int i = 0; i < p->p.workers; i++) {
        wk *w = &p->w[i];
        if (w->sock < 0) continue;
        close(w->sock);
        kill(w->pid, SIGKILL);
        w->sock = -1;
        w->busy = 0;
        w->r = NULL;
        w->reserved = NULL;
    }
}

static int wants_job(const req *r)
{
    return !r->finished &&
           (r->stage == ST_MEDIA    ? !r->media_running
            : r->stage == ST_PIECES ? r->next < r->n_pieces && r->in_flight < r->max_inflight
                                    : 0);
}

/* The request a free worker should serve next (see the policy in pool.h). */
static req *pick(stt_pool *p, wk *w)
{
    if (w->reserved) {
        req *mine = w->reserved;
        if (mine->stage == ST_SPLIT && !mine->finished) return NULL; /* still cutting */
        w->reserved = NULL;
        if (wants_job(mine)) return mine;
    }
    req *best = NULL;
    for (req *r = p->head; r; r = r->next_active) {
        if (!wants_job(r)) continue;
        int inf = r->stage == ST_MEDIA ? 0 : r->in_flight;
        int binf = best ? (best->stage == ST_MEDIA ? 0 : best->in_flight) : 0;
        if (!best || inf < binf) best = r;
    }
    return best;
}

/* ---- workers ---------------------------------------------------------- */

static int alive(const stt_pool *p)
{
    int n = 0;
    for (int i = 0; i < p->p.workers; i++)
        n += p->w[i].sock >= 0;
    return n;
}

/* A worker is gone (or must go): its job's request fails, alone. */
static void worker_died(stt_pool *p, wk *w, int code, const char *why)
{
    w->reserved = NULL;
    if (w->sock >= 0) close(w->sock);
    w->sock = -1;
    if (w->pid > 0) kill(w->pid, SIGKILL);
    w->pid = 0;
    req *r = w->r;
    w->r = NULL;
    if (w->busy && r) {
        if (w->kind == STT_JOB_MEDIA) {
            /* The codec met this file and died or ran away: it is the file's. */
            r->media_running = 0;
            if (code == STT_EDEADLINE)
                fail_req(p, r, STT_EAUDIO, "decoding this file needed more than %g s of CPU",
                         p->p.decode_cpu_s);
            else
                fail_req(p, r, STT_EAUDIO, "the audio decoder failed on this file (%s)", why);
        } else if (code == STT_EDEADLINE) {
            fail_req(p, r, STT_EDEADLINE,
                     "recognition needed more than its CPU budget of %.1f s (--max-rtf %g x %.1f "
                     "s of audio, at least %g s)",
                     r->budget_s, p->p.max_rtf, (double)r->n_samples / STT_SAMPLE_RATE,
                     p->p.min_deadline_s);
        } else {
            fail_req(p, r, STT_EWORKER, "worker failed while decoding: %s", why);
        }
    }
    w->busy = 0;
    p->restarts++;
}

/* Starts workers that are missing, one fork request at a time, with backoff;
 * marks the pool broken when there has been no worker for broken_after_s. */
static void maintain(stt_pool *p, double now)
{
    if (p->broken || p->stopping) return;
    int n = alive(p);
    if (!p->spawn_pending && n < p->p.workers && now >= p->next_spawn_at) {
        if (stt_zygote_request_spawn(p->z) == 0)
            p->spawn_pending = 1;
        else
            set_broken(p, "the model loader is gone; restart the process");
    }
    if (n > 0) {
        p->no_workers_since = 0;
    } else if (p->no_workers_since == 0) {
        p->no_workers_since = now;
    } else if (now - p->no_workers_since >= p->p.broken_after_s) {
        char why[160];
        snprintf(why, sizeof why, "no decoder could be started for %g s; restart the process",
                 p->p.broken_after_s);
        set_broken(p, why);
    }
}

static void handle_spawn(stt_pool *p)
{
    int sock;
    pid_t pid;
    char err[256];
    int rc = stt_zygote_recv_spawned(p->z, &sock, &pid, err, sizeof err);
    p->spawn_pending = 0;
    double now = stt_now_s();
    if (rc < 0) {
        if (rc == STT_EWORKER) {
            set_broken(p, "the model loader is gone; restart the process");
            return;
        }
        /* A failed fork (a PID limit, no memory): try again later. */
        p->backoff_s = p->backoff_s > 0 ? fmin(2 * p->backoff_s, BACKOFF_MAX_S) : BACKOFF_MIN_S;
        p->next_spawn_at = now + p->backoff_s;
        return;
    }
    p->backoff_s = 0;
    for (int i = 0; i < p->p.workers; i++) {
        wk *w = &p->w[i];
        if (w->sock < 0) {
            *w = (wk){.sock = sock, .pid = pid};
            return;
        }
    }
    close(sock);
    kill(pid, SIGKILL);
}

/* The CPU a piece may use: what is left of its request's budget, shared in
 * proportion to length among the pieces not yet started. */
static double piece_grant(const req *r, size_t n)
{
    if (!(r->budget_s > 0)) return 0;
    double left = r->budget_s - r->spent_s - r->granted_s;
    return r->unstarted > 0 ? left * (double)n / r->unstarted : left;
}

static void assign(stt_pool *p)
{
    for (int i = 0; i < p->p.workers; i++) {
        wk *w = &p->w[i];
        if (w->sock < 0 || w->busy) continue;
        req *r = pick(p, w);
        if (!r) {
            if (w->reserved) continue; /* its request is still cutting its audio */
            return;
        }
        stt_worker_job job = {0};
        double now = stt_now_s(), grant = 0;
        size_t k = 0;
        job.id = ++p->next_job;
        if (r->stage == ST_MEDIA) {
            job.kind = STT_JOB_MEDIA;
            job.fd = r->media->fd;
            job.n = r->media->len;
            job.max_duration_s = r->max_duration_s;
            job.cpu_budget_s = p->p.decode_cpu_s;
            w->wall_deadline = now + fmax(p->p.piece_deadline_s, 4 * p->p.decode_cpu_s);
        } else {
            k = r->order[r->next];
            const stt_piece *pc = &r->pieces[k];
            grant = piece_grant(r, pc->n_samples);
            if (r->budget_s > 0 && grant < 0.001) {
                fail_req(p, r, STT_EDEADLINE,
                         "recognition used its whole CPU budget of %.1f s (--max-rtf %g)",
                         r->budget_s, p->p.max_rtf);
                i--; /* this worker is still free */
                continue;
            }
            job.kind = STT_JOB_PIECE;
            job.fd = r->pcm_fd;
            job.offset = pc->start;
            job.n = pc->n_samples;
            job.profile = r->profile;
            job.cpu_budget_s = grant;
            double dur = (double)pc->n_samples / STT_SAMPLE_RATE;
            w->wall_deadline =
                now + fmax(p->p.piece_deadline_s, grant > 0 ? 4 * grant + 10 : 4 * dur);
        }
        if (stt_worker_send_job(w->sock, &job) < 0) {
            /* This worker is gone; the job waits for another. */
            worker_died(p, w, STT_EWORKER, "could not send it a job");
            continue;
        }
        w->busy = 1;
        w->r = r;
        w->kind = job.kind;
        w->job_id = job.id;
        w->piece = k;
        w->grant = grant;
        r->started = 1;
        if (r->t_first == 0) r->t_first = now;
        if (job.kind == STT_JOB_MEDIA) {
            r->media_running = 1;
        } else {
            r->next++;
            r->in_flight++;
            r->granted_s += grant;
            r->unstarted -= (double)r->pieces[k].n_samples;
        }
    }
}

static void finish_if_done(stt_pool *p, req *r)
{
    if (!r->finished && r->stage == ST_PIECES && r->done == r->n_pieces) finish(p, r);
}

static void handle_result(stt_pool *p, wk *w)
{
    stt_worker_result res;
    int rc = stt_worker_recv_result(w->sock, p->rbuf, &res);
    if (rc < 0 || !w->busy || res.job_id != w->job_id || res.kind != w->kind) {
        stt_transcript_free(res.transcript);
        if (res.pcm_fd >= 0) close(res.pcm_fd);
        worker_died(p, w, STT_EWORKER, rc < 0 ? res.err : "it answered a job it did not have");
        return;
    }
    if (res.status == STT_EDEADLINE) { /* it left after saying so */
        worker_died(p, w, STT_EDEADLINE, res.err);
        return;
    }
    req *r = w->r;
    w->busy = 0;
    w->r = NULL;
    if (!r || r->finished) { /* abandoned */
        stt_transcript_free(res.transcript);
        if (res.pcm_fd >= 0) close(res.pcm_fd);
        return;
    }
    r->cpu_s += res.cpu_s;
    if (w->kind == STT_JOB_MEDIA) {
        r->media_running = 0;
        if (res.status) {
            fail_req(p, r, res.status, "%s", res.err);
            return;
        }
        r->pcm_fd = res.pcm_fd;
        r->n_samples = res.n_samples;
        r->stage = ST_SPLIT;
        w->reserved = r;
        pthread_cond_signal(&r->cond);
        return;
    }
    r->in_flight--;
    r->granted_s -= w->grant;
    r->spent_s += res.cpu_s;
    if (res.status) {
        fail_req(p, r, res.status == STT_ENOMEM ? STT_ENOMEM : STT_EENGINE, "%s", res.err);
        return;
    }
    r->results[w->piece] = res.transcript;
    r->done++;
    finish_if_done(p, r);
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
        double t = stt_now_s();
        maintain(p, t);
        assign(p);
        if (p->draining) refuse_unstarted(p);
        int nf = 0;
        fds[nf++] = (struct pollfd){p->wake_fd, POLLIN, 0};
        fds[nf++] = (struct pollfd){p->broken ? -1 : stt_zygote_fd(p->z), POLLIN, 0};
        double next = INFINITY;
        for (int i = 0; i < n; i++) {
            if (p->w[i].sock < 0) continue;
            idx[nf] = i;
            fds[nf++] = (struct pollfd){p->w[i].sock, POLLIN, 0};
            if (p->w[i].busy && p->w[i].wall_deadline < next) next = p->w[i].wall_deadline;
        }
        if (!p->broken && !p->spawn_pending && alive(p) < n) next = fmin(next, p->next_spawn_at);
        if (!p->broken && p->no_workers_since > 0)
            next = fmin(next, p->no_workers_since + p->p.broken_after_s);
        int timeout = isinf(next) ? -1 : (int)fmax(0, (next - t) * 1000) + 1;
        pthread_mutex_unlock(&p->mu);
        int r = poll(fds, (nfds_t)nf, timeout);
        pthread_mutex_lock(&p->mu);
        if (r < 0 && errno != EINTR) break;
        if (fds[0].revents) {
            uint64_t v;
            ssize_t rr = read(p->wake_fd, &v, sizeof v);
            (void)rr;
        }
        if (!p->broken && fds[1].revents) {
            if (p->spawn_pending)
                handle_spawn(p);
            else if (fds[1].revents & (POLLHUP | POLLERR))
                set_broken(p, "the model loader is gone; restart the process");
        }
        for (int f = 2; f < nf; f++) {
            wk *w = &p->w[idx[f]];
            if (w->sock != fds[f].fd || !fds[f].revents) continue;
            handle_result(p, w);
        }
        t = stt_now_s();
        for (int i = 0; i < n; i++)
            if (p->w[i].sock >= 0 && p->w[i].busy && p->w[i].wall_deadline < t)
                worker_died(p, &p->w[i], STT_EDEADLINE, "no progress before its deadline");
    }
    if (!p->stopping) set_broken(p, "the dispatcher failed; restart the process");
    p->stopping = 1;
    fail_all(p, STT_ESHUTDOWN, "the service is stopping");
    pthread_mutex_unlock(&p->mu);
    free(fds);
    free(idx);
    return NULL;
}

/* ---- life cycle ------------------------------------------------------- */

stt_pool *stt_pool_create(const stt_pool_params *params, char *err, size_t errlen)
{
    stt_pool *p = calloc(1, sizeof *p);
    if (!p) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    p->p = params ? *params : stt_pool_default_params();
    stt_pool_params def = stt_pool_default_params();
    if (!p->p.engine) p->p.engine = def.engine;
    if (!p->p.model_dir) p->p.model_dir = def.model_dir;
    if (p->p.workers <= 0) p->p.workers = stt_usable_cpus();
    if (p->p.queue < 0) p->p.queue = 0;
    if (!params || params->queue == 0) p->p.queue = 2 * p->p.workers;
    if (p->p.threads <= 0) p->p.threads = p->p.workers;
    if (!p->p.profile_mask) p->p.profile_mask = def.profile_mask;
    if (!(p->p.decode_cpu_s > 0)) p->p.decode_cpu_s = def.decode_cpu_s;
    if (!(p->p.broken_after_s > 0)) p->p.broken_after_s = def.broken_after_s;
    if (!(p->p.piece_deadline_s > 0)) p->p.piece_deadline_s = def.piece_deadline_s;
    if (!(p->p.min_deadline_s >= 0)) p->p.min_deadline_s = def.min_deadline_s;
    p->capacity = p->p.workers + p->p.queue;
    p->wake_fd = -1;
    pthread_mutex_init(&p->mu, NULL);
    if (stt_vad_params_check(&p->p.vad) < 0) {
        stt_seterr(err, errlen, STT_EINVAL, "bad splitting parameters");
        goto fail;
    }
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

void stt_pool_free(stt_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_mutex_unlock(&p->mu);
    wake(p);
    pthread_join(p->thread, NULL);
    /* Idle workers leave when their socket closes (writing their coverage
     * counters); a busy one would first finish its job: not waited for. */
    for (int i = 0; i < p->p.workers; i++) {
        if (p->w[i].sock < 0) continue;
        if (p->w[i].busy) kill(p->w[i].pid, SIGKILL);
        close(p->w[i].sock);
    }
    stt_zygote_stop(p->z);
    close(p->wake_fd);
    free(p->rbuf);
    free(p->w);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ---- admission -------------------------------------------------------- */

static int refusal(stt_pool *p, char *err, size_t errlen)
{
    if (p->broken) return stt_seterr(err, errlen, STT_ESHUTDOWN, "%s", p->broken_why);
    if (p->stopping || p->draining)
        return stt_seterr(err, errlen, STT_ESHUTDOWN, "the server is shutting down");
    return 0;
}

int stt_pool_admit(stt_pool *p, char *err, size_t errlen)
{
    pthread_mutex_lock(&p->mu);
    int rc = refusal(p, err, errlen);
    if (!rc && p->admitted >= p->capacity)
        rc = stt_seterr(err, errlen, STT_EBUSY,
                        "all %d decoders are busy and %d requests are waiting; retry later",
                        p->p.workers,
                        p->admitted - p->p.workers > 0 ? p->admitted - p->p.workers : 0);
    if (!rc) p->admitted++;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void stt_pool_release(stt_pool *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->admitted > 0) p->admitted--;
    pthread_mutex_unlock(&p->mu);
}

/* ---- one request ------------------------------------------------------ */

static int cmp_piece_len_desc(const void *a, const void *b, void *ctx)
{
    const stt_piece *pc = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (pc[x].n_samples != pc[y].n_samples) return pc[x].n_samples < pc[y].n_samples ? 1 : -1;
    return x < y ? -1 : x > y;
}

static int fill_memfd(const stt_audio *a, int *out, char *err, size_t errlen)
{
    int fd = memfd_create("stt-pcm", MFD_CLOEXEC);
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

/* Waits (with p->mu held) until r leaves stage or finishes, looking at its
 * client every CANCEL_POLL_S. */
static void wait_for(stt_pool *p, req *r, enum stage stage, const stt_job_opts *o)
{
    while (!r->finished && r->stage == stage) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ns = ts.tv_nsec + (long)(CANCEL_POLL_S * 1e9);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        if (pthread_cond_timedwait(&r->cond, &p->mu, &ts) != ETIMEDOUT) continue;
        if (!o || !o->cancelled) continue;
        pthread_mutex_unlock(&p->mu);
        int gone = o->cancelled(o->cancel_ctx);
        pthread_mutex_lock(&p->mu);
        if (gone) fail_req(p, r, STT_ECANCELED, "the client closed the connection");
    }
}

static void link_req(stt_pool *p, req *r)
{
    req **tail = &p->head;
    while (*tail)
        tail = &(*tail)->next_active;
    *tail = r;
}

static void unlink_req(stt_pool *p, req *r)
{
    for (req **q = &p->head; *q; q = &(*q)->next_active)
        if (*q == r) {
            *q = r->next_active;
            break;
        }
}

/* Cuts the decoded audio into pieces (on the request's own thread, outside
 * the lock: the pieces depend only on the samples). */
static int split(stt_pool *p, req *r, const int16_t *samples, char *err, size_t errlen)
{
    int rc = stt_vad_split(samples, r->n_samples, &p->p.vad, &r->pieces, &r->n_pieces);
    if (rc < 0) return stt_seterr(err, errlen, rc, "cannot split the audio");
    r->order = calloc(r->n_pieces + 1, sizeof *r->order);
    r->results = calloc(r->n_pieces + 1, sizeof *r->results);
    if (!r->order || !r->results) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_pieces; i++) {
        r->order[i] = i;
        r->unstarted += (double)r->pieces[i].n_samples;
    }
    qsort_r(r->order, r->n_pieces, sizeof *r->order, cmp_piece_len_desc, r->pieces);
    double dur = (double)r->n_samples / STT_SAMPLE_RATE;
    r->budget_s = p->p.max_rtf > 0 ? fmax(p->p.min_deadline_s, p->p.max_rtf * dur) : 0;
    return 0;
}

/* Runs r from its stage to the end: media (when it has an upload), split,
 * pieces; on success *out is the joined transcript. */
static int run(stt_pool *p, req *r, const int16_t *samples, const stt_job_opts *o,
               stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    /* Draining does not refuse here: the dispatcher starts it if a worker is
     * free, and refuses it otherwise (refuse_unstarted). */
    if (p->stopping || p->broken) {
        rc = refusal(p, err, errlen);
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    p->active++;
    link_req(p, r);
    if (r->stage == ST_MEDIA) {
        wake(p);
        wait_for(p, r, ST_MEDIA, o);
    }
    pthread_mutex_unlock(&p->mu);

    if (!r->finished) {
        void *map = NULL;
        size_t len = r->n_samples * sizeof(int16_t);
        if (!samples && len) {
            map = mmap(NULL, len, PROT_READ, MAP_SHARED, r->pcm_fd, 0);
            if (map == MAP_FAILED) {
                map = NULL;
                rc = stt_seterr(err, errlen, STT_EIO, "cannot map the decoded audio");
            }
            samples = map;
        }
        if (!rc) rc = split(p, r, samples, err, errlen);
        if (map) munmap(map, len);
    }

    pthread_mutex_lock(&p->mu);
    if (rc < 0) {
        fail_req(p, r, rc, "%s", err);
    } else if (!r->finished) {
        r->stage = ST_PIECES;
        if (r->n_pieces == 0)
            finish(p, r);
        else
            wake(p);
        wait_for(p, r, ST_PIECES, o);
    }
    unlink_req(p, r);
    p->active--;
    pthread_mutex_unlock(&p->mu);
    if (r->failed) return stt_seterr(err, errlen, r->failed, "%s", r->err);

    stt_transcript *t = stt_transcript_create();
    if (!t) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_pieces && rc == 0; i++)
        rc = stt_transcript_append(t, r->results[i], (double)r->pieces[i].start / STT_SAMPLE_RATE);
    if (rc < 0) {
        stt_transcript_free(t);
        return stt_seterr(err, errlen, rc, "out of memory");
    }
    double dur = (double)r->n_samples / STT_SAMPLE_RATE;
    stt_transcript_set_duration(t, dur);
    *out = t;
    if (stats) {
        double first = r->t_first ? r->t_first : stt_now_s();
        double last = r->t_last ? r->t_last : first;
        stats->queue_ms = (first - r->t0) * 1000;
        stats->process_ms = (last - first) * 1000;
        stats->pieces = (int)r->n_pieces;
        stats->audio_s = dur;
        stats->cpu_s = r->cpu_s;
    }
    return 0;
}

static void req_init(stt_pool *p, req *r, int profile, int threads)
{
    memset(r, 0, sizeof *r);
    r->pcm_fd = -1;
    r->profile = profile;
    r->max_inflight = threads > 0 ? threads : p->p.threads;
    r->t0 = stt_now_s();
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
}

static void req_free(req *r)
{
    for (size_t i = 0; r->results && i < r->n_pieces; i++)
        stt_transcript_free(r->results[i]);
    free(r->results);
    free(r->order);
    free(r->pieces);
    if (r->pcm_fd >= 0) close(r->pcm_fd);
    pthread_cond_destroy(&r->cond);
}

static int check_profile(stt_pool *p, int profile, char *err, size_t errlen)
{
    if (profile >= 0 && profile < STT_N_PROFILES && (p->p.profile_mask & (1u << profile))) return 0;
    char loaded[64] = "";
    for (int i = 0; i < STT_N_PROFILES; i++)
        if (p->p.profile_mask & (1u << i)) {
            if (loaded[0]) strcat(loaded, ", ");
            strcat(loaded, stt_profile_names[i]);
        }
    return stt_seterr(
        err, errlen, STT_EMODEL, "model '%s' is not loaded by this server; loaded: %s",
        profile >= 0 && profile < STT_N_PROFILES ? stt_profile_names[profile] : "?", loaded);
}

int stt_pool_run_media(stt_pool *p, const stt_media *media, const stt_job_opts *opts,
                       stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen)
{
    *out = NULL;
    if (stats) memset(stats, 0, sizeof *stats);
    if (!media || !opts) return stt_seterr(err, errlen, STT_EINVAL, "no media");
    int rc = check_profile(p, opts->profile, err, errlen);
    if (rc) return rc;
    req r;
    req_init(p, &r, opts->profile, opts->threads);
    r.stage = ST_MEDIA;
    r.media = media;
    r.max_duration_s = opts->max_duration_s;
    rc = run(p, &r, NULL, opts, out, stats, err, errlen);
    req_free(&r);
    return rc;
}

int stt_pool_transcribe(stt_pool *p, const stt_audio *audio, int profile, int threads,
                        stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen)
{
    *out = NULL;
    if (stats) memset(stats, 0, sizeof *stats);
    int rc = check_profile(p, profile, err, errlen);
    if (rc) return rc;
    if ((rc = stt_pool_admit(p, err, errlen)) < 0) return rc;
    req r;
    req_init(p, &r, profile, threads);
    r.stage = ST_SPLIT;
    r.n_samples = audio->n_samples;
    if (audio->n_samples) rc = fill_memfd(audio, &r.pcm_fd, err, errlen);
    if (!rc) rc = run(p, &r, audio->samples, NULL, out, stats, err, errlen);
    req_free(&r);
    stt_pool_release(p);
    return rc;
}

/* ---- status and control ----------------------------------------------- */

void stt_pool_status(stt_pool *p, stt_backend_status *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->p.workers; i++) {
        if (p->w[i].sock >= 0) out->workers++;
        if (p->w[i].sock >= 0 && p->w[i].busy) out->busy++;
    }
    out->active = p->active;
    out->in_flight = p->admitted;
    out->capacity = p->capacity;
    out->restarts = p->restarts;
    out->threads = p->p.threads;
    out->profile_mask = p->p.profile_mask;
    out->draining = p->draining || p->stopping;
    out->broken = p->broken;
    out->ready = !p->stopping && !p->draining && !p->broken && out->workers > 0;
    pthread_mutex_unlock(&p->mu);
}

void stt_pool_drain(stt_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->draining = 1;
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

void stt_pool_cancel(stt_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->draining = 1;
    fail_all(p, STT_ESHUTDOWN, "cancelled: the server's grace period for stopping ended");
    pthread_mutex_unlock(&p->mu);
    wake(p);
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

static int backend_admit(void *ctx, char *err, size_t errlen)
{
    return stt_pool_admit(ctx, err, errlen);
}

static void backend_release(void *ctx)
{
    stt_pool_release(ctx);
}

static int backend_transcribe(void *ctx, const stt_media *media, const stt_job_opts *opts,
                              stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen)
{
    return stt_pool_run_media(ctx, media, opts, out, stats, err, errlen);
}

static void backend_status(void *ctx, stt_backend_status *out)
{
    stt_pool_status(ctx, out);
}

static void backend_drain(void *ctx)
{
    stt_pool_drain(ctx);
}

static void backend_cancel(void *ctx)
{
    stt_pool_cancel(ctx);
}

stt_backend stt_pool_backend(stt_pool *p)
{
    stt_backend b = {p,
                     backend_admit,
                     backend_release,
                     backend_transcribe,
                     backend_status,
                     backend_drain,
                     backend_cancel};
    return b;
}
