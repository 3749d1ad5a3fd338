/* conns: see conns.h. A doubly linked list under one mutex; the watcher
 * walks it every tick (a few hundred entries at most). */
#include "conns.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "error.h"

struct stt_conn {
    int fd;
    void *user;
    stt_conn_phase phase;
    double since;
    size_t bytes;
    int cut;
    stt_conn *prev, *next;
};

struct stt_conns {
    stt_conns_params p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    stt_conn *head;
    size_t n;
    pthread_t thread;
};

stt_conns_params stt_conns_default_params(void)
{
    stt_conns_params p = {
        .header_timeout_s = 10,
        .min_rate_bps = 16384,
        .rate_grace_s = 10,
        .tick_s = 0.1,
    };
    return p;
}

static const char *late(const stt_conns_params *p, const stt_conn *c, double now)
{
    double age = now - c->since;
    if (c->phase == STT_CONN_IDLE && p->header_timeout_s > 0 && age > p->header_timeout_s)
        return "header_timeout";
    if (c->phase == STT_CONN_UPLOAD && p->min_rate_bps > 0 && age > p->rate_grace_s &&
        (double)c->bytes < p->min_rate_bps * (age - p->rate_grace_s))
        return "slow_upload";
    return NULL;
}

static void cut(stt_conns *cs, stt_conn *c, const char *why)
{
    c->cut = 1;
    if (cs->p.on_cut) cs->p.on_cut(cs->p.ctx, c, c->fd, why);
    /* The connection's own thread then reads end-of-file and closes it; the
     * descriptor stays valid until it does (it removes c first). */
    shutdown(c->fd, SHUT_RDWR);
}

static void *watch(void *arg)
{
    stt_conns *cs = arg;
    pthread_mutex_lock(&cs->mu);
    while (!cs->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ns = ts.tv_nsec + (long)(cs->p.tick_s * 1e9);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&cs->cv, &cs->mu, &ts);
        double now = stt_now_s();
        for (stt_conn *c = cs->head; c && !cs->stop; c = c->next) {
            const char *why = c->cut ? NULL : late(&cs->p, c, now);
            if (why) cut(cs, c, why);
        }
    }
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

stt_conns *stt_conns_start(const stt_conns_params *params, char *err, size_t errlen)
{
    stt_conns *cs = calloc(1, sizeof *cs);
    if (!cs) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    cs->p = params ? *params : stt_conns_default_params();
    if (!(cs->p.tick_s > 0)) cs->p.tick_s = 0.1;
    pthread_mutex_init(&cs->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cs->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&cs->thread, NULL, watch, cs) != 0) {
        pthread_cond_destroy(&cs->cv);
        pthread_mutex_destroy(&cs->mu);
        free(cs);
        stt_seterr(err, errlen, STT_EIO, "cannot start the connection watcher");
        return NULL;
    }
    return cs;
}

void stt_conns_stop(stt_conns *cs)
{
    if (!cs) return;
    pthread_mutex_lock(&cs->mu);
    cs->stop = 1;
    pthread_cond_signal(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    pthread_join(cs->thread, NULL);
    /* Connections the server did not remove (it stops them all first). */
    for (stt_conn *c = cs->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    pthread_cond_destroy(&cs->cv);
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}

stt_conn *stt_conns_add(stt_conns *cs, int fd, void *user)
{
    stt_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    c->user = user;
    c->phase = STT_CONN_IDLE;
    c->since = stt_now_s();
    pthread_mutex_lock(&cs->mu);
    c->next = cs->head;
    if (cs->head) cs->head->prev = c;
    cs->head = c;
    cs->n++;
    if (cs->p.max_open && cs->n > cs->p.max_open) {
        stt_conn *oldest = NULL;
        size_t open = 0;
        for (stt_conn *o = c->next; o; o = o->next) {
            open += !o->cut;
            if (!o->cut && o->phase == STT_CONN_IDLE && (!oldest || o->since <= oldest->since))
                oldest = o;
        }
        if (oldest && open >= cs->p.max_open) cut(cs, oldest, "evicted");
    }
    pthread_mutex_unlock(&cs->mu);
    return c;
}

void stt_conns_remove(stt_conns *cs, stt_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&cs->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next) c->next->prev = c->prev;
    cs->n--;
    pthread_mutex_unlock(&cs->mu);
    free(c);
}

void stt_conn_set_phase(stt_conns *cs, stt_conn *c, stt_conn_phase phase)
{
    if (!c) return;
    pthread_mutex_lock(&cs->mu);
    c->phase = phase;
    c->since = stt_now_s();
    c->bytes = 0;
    pthread_mutex_unlock(&cs->mu);
}

void stt_conn_add_bytes(stt_conns *cs, stt_conn *c, size_t n)
{
    if (!c) return;
    pthread_mutex_lock(&cs->mu);
    c->bytes += n;
    pthread_mutex_unlock(&cs->mu);
}

int stt_conn_was_cut(stt_conns *cs, const stt_conn *c)
{
    if (!c) return 0;
    pthread_mutex_lock(&cs->mu);
    int cut = c->cut;
    pthread_mutex_unlock(&cs->mu);
    return cut;
}

int stt_conn_fd(const stt_conn *c)
{
    return c ? c->fd : -1;
}

void *stt_conn_user(const stt_conn *c)
{
    return c ? c->user : NULL;
}

size_t stt_conns_count(stt_conns *cs)
{
    pthread_mutex_lock(&cs->mu);
    size_t n = cs->n;
    pthread_mutex_unlock(&cs->mu);
    return n;
}
