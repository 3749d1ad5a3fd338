/* profile/measure: the measurements of one configuration. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "cpus.h"
#include "error.h"
#include "histogram.h"
#include "internal.h"
#include "loadgen.h"

void pf_harness_pin(const stt_profile *r, const int *cpus, int n)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    int free_cpus = 0;
    for (int i = 0; n > 0 && i < r->nallowed; i++) {
        int taken = 0;
        for (int j = 0; j < n; j++)
            taken |= cpus[j] == r->allowed[i];
        if (!taken) {
            CPU_SET(r->allowed[i], &set);
            free_cpus++;
        }
    }
    /* No CPU left over (or restoring): the generator may run anywhere the
     * process may; the server's share then includes what it takes. */
    if (!free_cpus)
        for (int i = 0; i < r->nallowed; i++)
            CPU_SET(r->allowed[i], &set);
    if (r->nallowed > 0) sched_setaffinity(0, sizeof set, &set);
}

static stt_client_params client_params(int threads, const pf_file *f)
{
    stt_client_params cp = stt_client_default_params();
    cp.threads = threads;
    cp.profile = f->model;
    cp.timeout_s = 1800;
    return cp;
}

int pf_single(const char *url, const pf_file *f, int threads, double *latency_s, double *pieces,
              char *err, size_t errlen)
{
    stt_client_params cp = client_params(threads, f);
    stt_client_reply rep;
    int rc = stt_client_transcribe(url, &f->up, &cp, &rep);
    if (rc == 0) {
        *latency_s = rep.elapsed_s;
        if (pieces) *pieces = rep.pieces > 0 ? rep.pieces : NAN;
    } else {
        stt_seterr(err, errlen, rc, "%s: %s", f->name, rep.error);
    }
    stt_client_reply_free(&rep);
    return rc;
}

/* The timed closed loop: clients take requests from a shared budget. */
typedef struct loop {
    const char *url;
    const pf_file *f;
    long total; /* requests to send in all (0: until stop) */
    atomic_long issued;
    atomic_int stop;
    pthread_mutex_t mu;
    long done;         /* completions so far */
    long mark0, mark1; /* the completions that open and close the interval */
    pid_t root;
    double t0, t1, cpu0, cpu1;
    double audio;           /* audio of the completions after mark0 up to mark1 */
    double bg_t0, bg_audio; /* background: from start */
    int failed;
    char err[300];
} loop;

static void *client(void *arg)
{
    loop *l = arg;
    stt_client_params cp = client_params(0, l->f);
    while (!atomic_load(&l->stop)) {
        if (l->total && atomic_fetch_add(&l->issued, 1) >= l->total) break;
        stt_client_reply rep;
        int rc = stt_client_transcribe(l->url, &l->f->up, &cp, &rep);
        double now = stt_now_s();
        pthread_mutex_lock(&l->mu);
        if (rc) {
            if (!l->failed) snprintf(l->err, sizeof l->err, "%.40s: %.250s", l->f->name, rep.error);
            l->failed = 1;
            atomic_store(&l->stop, 1);
        } else {
            l->done++;
            l->bg_audio += l->f->audio_s;
            if (l->done == l->mark0) {
                l->t0 = now;
                l->cpu0 = l->root > 0 ? stt_proc_tree_cpu_s(l->root) : 0;
            } else if (l->done > l->mark0 && l->done <= l->mark1) {
                l->audio += l->f->audio_s;
                if (l->done == l->mark1) {
                    l->t1 = now;
                    l->cpu1 = l->root > 0 ? stt_proc_tree_cpu_s(l->root) : 0;
                }
            }
        }
        pthread_mutex_unlock(&l->mu);
        stt_client_reply_free(&rep);
    }
    return NULL;
}

static int run_clients(loop *l, int conc, pthread_t *th)
{
    int started = 0;
    for (int i = 0; i < conc; i++)
        started += pthread_create(&th[started], NULL, client, l) == 0;
    return started;
}

int pf_saturate(const char *url, const pf_file *f, int conc, int w, int n, pid_t root_pid,
                double capacity, double *audio_s_per_s, double *util, char *err, size_t errlen)
{
    *audio_s_per_s = *util = NAN;
    if (conc < 1 || w < 1 || n < 1 || conc > 512)
        return stt_seterr(err, errlen, STT_EINVAL, "bad closed loop (%d clients)", conc);
    loop l = {.url = url, .f = f, .root = root_pid};
    pthread_mutex_init(&l.mu, NULL);
    /* Every worker is busy from the w-th completion on while at least w
     * requests remain in flight: that is until the (total - w + 1)-th. */
    l.mark0 = w;
    l.mark1 = w + n;
    l.total = n + 2L * w - 1;
    pthread_t th[512];
    int started = run_clients(&l, conc, th);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&l.mu);
    if (l.failed) return stt_seterr(err, errlen, STT_EIO, "%s", l.err);
    if (!started || l.done < l.mark1 || !(l.t1 > l.t0))
        return stt_seterr(err, errlen, STT_EIO, "the closed loop did not complete");
    *audio_s_per_s = l.audio / (l.t1 - l.t0);
    if (root_pid > 0 && capacity > 0) *util = (l.cpu1 - l.cpu0) / (l.t1 - l.t0) / capacity;
    return 0;
}

struct pf_background {
    loop l;
    pthread_t th[64];
    int started;
};

pf_background *pf_background_start(const char *url, const pf_file *f, int conc)
{
    pf_background *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->l.url = url;
    b->l.f = f;
    b->l.mark0 = b->l.mark1 = -1;
    b->l.bg_t0 = stt_now_s();
    pthread_mutex_init(&b->l.mu, NULL);
    b->started = run_clients(&b->l, conc > 64 ? 64 : conc, b->th);
    return b;
}

double pf_background_stop(pf_background *b)
{
    if (!b) return NAN;
    atomic_store(&b->l.stop, 1);
    for (int i = 0; i < b->started; i++)
        pthread_join(b->th[i], NULL);
    double dt = stt_now_s() - b->l.bg_t0;
    double x = b->l.failed || !(dt > 0) ? NAN : b->l.bg_audio / dt;
    pthread_mutex_destroy(&b->l.mu);
    free(b);
    return x;
}

int pf_poisson(const char *url, const pf_file *f, double rate, int n, uint64_t seed, double **out,
               size_t *nout, char *err, size_t errlen)
{
    *out = NULL;
    *nout = 0;
    /* The generator posts to the URL as given (the client adds the route
     * itself): the server's base URL gets the transcription route here. */
    char route[1024];
    snprintf(route, sizeof route, "%s%s", url, STT_ROUTE_TRANSCRIPTIONS);
    stt_load_params lp = stt_load_default_params();
    lp.url = route;
    lp.bodies = &f->up;
    lp.nbodies = 1;
    lp.model = f->model;
    lp.timeout_s = 1800;
    lp.threads = 1;
    stt_load_step st = {0};
    st.mode = STT_LOAD_OPEN;
    st.rate = rate;
    st.arrival = STT_ARRIVAL_POISSON;
    st.requests = n;
    st.warmup_s = 0;
    st.seed = seed;
    stt_load_result res;
    int rc = stt_load_run_step(&lp, &st, &res, err, errlen);
    if (rc) return rc;
    /* The histogram keeps each latency to 0.05%: the order statistics are
     * read back from it by rank (nearest-rank percentiles at i / count). */
    uint64_t cnt = stt_histogram_count(res.latency);
    double *v = malloc((cnt ? cnt : 1) * sizeof *v);
    if (!v) {
        stt_load_result_free(&res);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < cnt; i++)
        v[i] = stt_histogram_percentile(res.latency, 100.0 * (double)(i + 1) / (double)cnt -
                                                         50.0 / (double)cnt) /
               1e6;
    uint64_t bad = res.completed - res.ok + res.dropped;
    stt_load_result_free(&res);
    *out = v;
    *nout = (size_t)cnt;
    if (bad)
        return stt_seterr(err, errlen, STT_EIO, "%llu of %d Poisson requests failed",
                          (unsigned long long)bad, n);
    return 0;
}
