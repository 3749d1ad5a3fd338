#include "loadgen.h"

#include <curl/curl.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "error.h"
#include "stats.h"

#ifndef STT_VERSION
#define STT_VERSION "0"
#endif

#define NS 1000000000LL
#define BIN_NS 10000000LL /* completions are binned in 10 ms steps for the windows */

stt_load_params stt_load_default_params(void)
{
    stt_load_params p = {0};
    p.post = 1;
    p.response_format = "json";
    p.threads = 1;
    p.timeout_s = 60;
    p.max_inflight = 1024;
    p.late_ms = 10;
    p.windows = 5;
    return p;
}

const char *stt_load_arrival_name(stt_load_arrival a)
{
    switch (a) {
    case STT_ARRIVAL_CONSTANT:
        return "constant";
    case STT_ARRIVAL_POISSON:
        return "poisson";
    case STT_ARRIVAL_TRACE:
        return "trace";
    }
    return "?";
}

uint64_t stt_load_failures(const stt_load_result *r)
{
    uint64_t n = r->dropped;
    for (int i = 0; i < STT_LOAD_ERR_N; i++)
        n += r->errors[i];
    return n;
}

const char *stt_load_err_name(int cls)
{
    static const char *const names[STT_LOAD_ERR_N] = {"connect", "timeout", "4xx",
                                                      "503",     "5xx",     "other"};
    return cls >= 0 && cls < STT_LOAD_ERR_N ? names[cls] : "?";
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* The read position of one upload over a shared, never copied buffer. */
typedef struct {
    const unsigned char *data;
    size_t len, pos;
} reader;

typedef struct worker worker;

typedef struct {
    CURL *easy;
    curl_mime *mime;
    size_t mime_body; /* the body the mime was built for */
    reader rd;
    worker *w;
    /* due (scheduled, or issued in a closed loop), handed to libcurl, and the
     * moment libcurl was about to write the request (0 until then) */
    int64_t sched_ns, send_ns, wire_ns;
    int64_t rx_ns;     /* when the last body bytes arrived (0: none yet) */
    int64_t resume_ns; /* closed loop, parked by Retry-After: when it may send again */
    int counted;
    size_t body;
} slot;

typedef struct {
    uint32_t done, ok;
    double audio_s, lat_sum;
} bin;

/* The send schedule of one thread in an open loop. */
typedef struct {
    int64_t next; /* scheduled time of the next request */
    uint64_t k;
    int finished;
    long counted; /* counted requests scheduled so far, the next one included */
} schedule;

struct worker {
    const stt_load_params *p;
    const stt_load_step *s;
    int idx, nthreads;
    int nslots;
    long quota; /* counted requests for this thread (requests mode), else -1 */
    double rate;
    int64_t t0, start, end; /* end = INT64_MAX in requests mode */
    gsl_rng *rng;
    const size_t *order; /* body indices in weighted order */
    size_t norder;
    uint64_t nreq; /* requests issued, for choosing bodies */

    slot *slots;
    slot **free_slots;
    int nfree;
    slot **parked; /* closed loop: slots waiting out a Retry-After */
    int nparked;
    CURLM *multi;
    struct curl_slist *headers;

    long counted_issued;
    uint64_t sent, completed, ok, late, dropped, warmup_sent, retry_waits;
    uint64_t errors[STT_LOAD_ERR_N];
    stt_histogram *lat, *lat_ok, *unc, *queue, *proc;
    stt_load_sample *samples;
    size_t nsamples, capsamples;
    bin *bins;
    size_t nbins;
    int64_t last_done_ns;

    atomic_uint_fast64_t *done_total;
    atomic_int *finished_threads;
    double cpu_s, wall_s; /* this thread's CPU and running time */
    int rc;
    char err[256];
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    reader *r = arg;
    size_t n = size * nitems, left = r->len - r->pos;
    if (n > left) n = left;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return n;
}

static int seek_cb(void *arg, curl_off_t offset, int origin)
{
    reader *r = arg;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > r->len) return CURL_SEEKFUNC_FAIL;
    r->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t discard_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    ((slot *)arg)->rx_ns = now_ns();
    return size * nmemb;
}

/* libcurl calls this once the connection is ready, just before it writes the
 * request: the start of what the server can be held responsible for. */
static int prereq_cb(void *arg, char *ip, char *local_ip, int port, int local_port)
{
    (void)ip;
    (void)local_ip;
    (void)port;
    (void)local_port;
    ((slot *)arg)->wire_ns = now_ns();
    return CURL_PREREQFUNC_OK;
}

static int build_mime(worker *w, slot *sl, size_t body)
{
    const stt_upload *b = &w->p->bodies[body];
    if (sl->mime && sl->mime_body == body) return 0;
    curl_mime_free(sl->mime);
    sl->mime = curl_mime_init(sl->easy);
    if (!sl->mime) return STT_ENOMEM;
    sl->rd = (reader){b->data, b->len, 0};
    curl_mimepart *part = curl_mime_addpart(sl->mime);
    curl_mime_name(part, "file");
    curl_mime_filename(part, b->filename ? b->filename : "audio.wav");
    if (b->content_type) curl_mime_type(part, b->content_type);
    curl_mime_data_cb(part, (curl_off_t)b->len, read_cb, seek_cb, NULL, &sl->rd);
    if (w->p->model) {
        part = curl_mime_addpart(sl->mime);
        curl_mime_name(part, "model");
        curl_mime_data(part, w->p->model, CURL_ZERO_TERMINATED);
    }
    if (w->p->response_format) {
        part = curl_mime_addpart(sl->mime);
        curl_mime_name(part, "response_format");
        curl_mime_data(part, w->p->response_format, CURL_ZERO_TERMINATED);
    }
    sl->mime_body = body;
    return curl_easy_setopt(sl->easy, CURLOPT_MIMEPOST, sl->mime) == CURLE_OK ? 0 : STT_EIO;
}

static int slot_init(worker *w, slot *sl)
{
    sl->w = w;
    sl->easy = curl_easy_init();
    if (!sl->easy) return STT_ENOMEM;
    CURL *e = sl->easy;
    curl_easy_setopt(e, CURLOPT_URL, w->p->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(w->p->timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(w->p->timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, sl);
    curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq_cb);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, sl);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers);
    if (w->p->post)
        curl_easy_setopt(e, CURLOPT_USERAGENT, "sttbench/" STT_VERSION);
    else
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    return 0;
}

/* Sends one request on a free slot; sched is its scheduled time, body the
 * upload (< 0: the next of the weighted order). */
static int issue(worker *w, int64_t sched, int counted, int want_body)
{
    slot *sl = w->free_slots[--w->nfree];
    size_t body = want_body >= 0 && (size_t)want_body < w->p->nbodies ? (size_t)want_body
                  : w->norder
                      ? w->order[(w->nreq * (uint64_t)w->nthreads + (uint64_t)w->idx) % w->norder]
                      : 0;
    w->nreq++;
    if (w->p->post) {
        int rc = build_mime(w, sl, body);
        if (rc) return rc;
    }
    sl->body = body;
    sl->counted = counted;
    sl->send_ns = now_ns();
    sl->wire_ns = sl->rx_ns = 0;
    /* A closed loop has no schedule: a request is due when it is sent. */
    sl->sched_ns = w->s->mode == STT_LOAD_OPEN ? sched : sl->send_ns;
    if (counted) {
        w->sent++;
        if (w->s->mode == STT_LOAD_OPEN && (double)(sl->send_ns - sched) > w->p->late_ms * 1e6)
            w->late++;
    } else {
        w->warmup_sent++;
    }
    return curl_multi_add_handle(w->multi, sl->easy) == CURLM_OK ? 0 : STT_EIO;
}

static double header_number(CURL *e, const char *name, int *found)
{
    struct curl_header *h;
    *found = 0;
    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK) return 0;
    char *end;
    double v = strtod(h->value, &end);
    if (end == h->value || !isfinite(v) || v < 0) return 0;
    *found = 1;
    return v;
}

static int classify(CURLcode res, long status)
{
    if (res == CURLE_OK) {
        if (status >= 200 && status < 300) return -1;
        if (status == 503) return STT_LOAD_ERR_503;
        if (status >= 500 && status < 600) return STT_LOAD_ERR_5XX;
        if (status >= 400 && status < 500) return STT_LOAD_ERR_4XX;
        return STT_LOAD_ERR_OTHER;
    }
    switch (res) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return STT_LOAD_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return STT_LOAD_ERR_TIMEOUT;
    default:
        return STT_LOAD_ERR_OTHER;
    }
}

static bin *bin_at(worker *w, int64_t t)
{
    size_t i = (size_t)((t - w->start) / BIN_NS);
    if (i >= w->nbins) {
        size_t n = w->nbins ? w->nbins : 1024;
        while (n <= i)
            n *= 2;
        bin *b = realloc(w->bins, n * sizeof *b);
        if (!b) return NULL;
        memset(b + w->nbins, 0, (n - w->nbins) * sizeof *b);
        w->bins = b;
        w->nbins = n;
    }
    return &w->bins[i];
}

/* Keeps one counted request's outcome; out of memory loses the sample only
 * (the histograms still hold it). */
static void add_sample(worker *w, double lat, int64_t done, int outcome, size_t body)
{
    if (w->nsamples == w->capsamples) {
        size_t n = w->capsamples ? 2 * w->capsamples : 1024;
        stt_load_sample *s = realloc(w->samples, n * sizeof *s);
        if (!s) return;
        w->samples = s;
        w->capsamples = n;
    }
    w->samples[w->nsamples++] =
        (stt_load_sample){(float)lat, (float)((double)(done - w->start) / NS), (int16_t)outcome,
                          (uint16_t)(body & 0xffff)};
}

static void complete(worker *w, slot *sl, CURLcode res)
{
    /* The loop sees a completion only after curl_multi_perform() has served
     * every ready connection, later than the moment itself under load; the
     * last body bytes date it where there were any. */
    int64_t done = sl->rx_ns ? sl->rx_ns : now_ns();
    long status = 0;
    curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
    int cls = classify(res, status);
    atomic_fetch_add(w->done_total, 1);
    /* Corrected: from when the request was due, connection set-up included.
     * Uncorrected: from the first byte written, as wrk measures it. */
    double audio = 0, lat = (double)(done - sl->sched_ns) / NS,
           unc = (double)(done - (sl->wire_ns ? sl->wire_ns : sl->send_ns)) / NS;
    /* Bare GETs (overhead checks) carry no audio and no server timings. */
    if (cls < 0 && w->p->post) {
        int found;
        audio = header_number(sl->easy, "X-Audio-Duration-S", &found);
        if (!found) audio = w->p->bodies[sl->body].audio_s;
    }
    /* Throughput counts every answer inside the interval, warm-up ones too: it is
     * what the server delivered then. */
    if (done >= w->start && done < w->end) {
        bin *b = bin_at(w, done);
        if (b) {
            b->done++;
            if (cls < 0) {
                b->ok++;
                b->audio_s += audio;
                b->lat_sum += lat;
            }
        }
    }
    if (!sl->counted) return;
    w->completed++;
    if (done > w->last_done_ns) w->last_done_ns = done;
    /* A failure is a latency too, timed to the moment it failed. */
    stt_histogram_record(w->lat, (uint64_t)(lat * 1e6));
    add_sample(w, lat, done, cls < 0 ? STT_LOAD_OK : cls, sl->body);
    if (cls >= 0) {
        w->errors[cls]++;
        return;
    }
    w->ok++;
    stt_histogram_record(w->lat_ok, (uint64_t)(lat * 1e6));
    stt_histogram_record(w->unc, (uint64_t)(unc * 1e6));
    if (!w->p->post) return;
    int found;
    double q = header_number(sl->easy, "X-Queue-Time-Ms", &found);
    if (found) stt_histogram_record(w->queue, (uint64_t)(q * 1e3));
    double pr = header_number(sl->easy, "X-Process-Time-Ms", &found);
    if (found) stt_histogram_record(w->proc, (uint64_t)(pr * 1e3));
}

/* A trace's request k of this thread: its global index. */
static size_t trace_index(const worker *w, uint64_t k)
{
    return (size_t)(k * (uint64_t)w->nthreads + (uint64_t)w->idx);
}

static void trace_schedule(worker *w, schedule *sc)
{
    size_t g = trace_index(w, sc->k);
    if (g >= w->s->ntrace) {
        sc->finished = 1;
        return;
    }
    sc->next = w->t0 + (int64_t)(w->s->trace_at_s[g] * NS);
    if (sc->next >= w->start) sc->counted++;
}

/* The body a trace names for the schedule's next request, or -1. */
static int trace_body(const worker *w, const schedule *sc)
{
    if (w->s->arrival != STT_ARRIVAL_TRACE || !w->s->trace_body) return -1;
    return w->s->trace_body[trace_index(w, sc->k)];
}

/* Moves an open-loop schedule to its next request. */
static void schedule_advance(worker *w, schedule *sc)
{
    sc->k++;
    if (w->s->arrival == STT_ARRIVAL_TRACE) {
        trace_schedule(w, sc);
        return;
    }
    if (w->s->arrival == STT_ARRIVAL_POISSON) {
        sc->next += (int64_t)(gsl_ran_exponential(w->rng, 1.0 / w->rate) * NS);
    } else {
        double idx = (double)sc->k * w->nthreads + w->idx;
        sc->next = w->t0 + (int64_t)(idx * NS / w->s->rate);
    }
    if (sc->next >= w->start) {
        if (w->quota >= 0 && sc->counted >= w->quota)
            sc->finished = 1;
        else if (sc->next >= w->end)
            sc->finished = 1;
        else
            sc->counted++;
    }
}

static void schedule_init(worker *w, schedule *sc)
{
    sc->k = 0;
    sc->finished = 0;
    sc->counted = 0;
    if (w->s->arrival == STT_ARRIVAL_TRACE) {
        trace_schedule(w, sc);
        return;
    }
    if (w->s->arrival == STT_ARRIVAL_POISSON)
        sc->next = w->t0 + (int64_t)(gsl_ran_exponential(w->rng, 1.0 / w->rate) * NS);
    else
        sc->next = w->t0 + (int64_t)((double)w->idx * NS / w->s->rate);
    if (sc->next >= w->start) {
        if (w->quota == 0 || sc->next >= w->end)
            sc->finished = 1;
        else
            sc->counted = 1;
    }
}

static int closed_may_issue(const worker *w, int64_t now)
{
    if (now < w->start) return 1;
    if (w->quota >= 0) return w->counted_issued < w->quota;
    return now < w->end;
}

static int closed_issue(worker *w, int64_t now)
{
    int counted = now >= w->start;
    if (counted) w->counted_issued++;
    return issue(w, now, counted, -1);
}

/* Seconds a closed-loop slot should wait after this answer: the server's
 * Retry-After on a 503 when retry_after is asked for (at most 60), else 0. */
static long retry_after_s(const worker *w, CURL *e, CURLcode res)
{
    long status = 0;
    curl_off_t ra = 0;
    if (!w->p->retry_after || res != CURLE_OK) return 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (status != 503 || curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK || ra <= 0)
        return 0;
    return ra > 60 ? 60 : (long)ra;
}

/* Closed loop: frees the parked slots that are due (issuing their next request)
 * or that would never send again; *wait_ms is lowered to the next one due. */
static int wake_parked(worker *w, int64_t now, long *wait_ms)
{
    for (int i = 0; i < w->nparked;) {
        slot *sl = w->parked[i];
        int due = sl->resume_ns <= now;
        if (due || !closed_may_issue(w, sl->resume_ns)) {
            w->parked[i] = w->parked[--w->nparked];
            w->free_slots[w->nfree++] = sl;
            if (due && closed_may_issue(w, now)) {
                int rc = closed_issue(w, now);
                if (rc) return rc;
            }
            continue;
        }
        long ms = (long)((sl->resume_ns - now) / 1000000) + 1;
        if (ms < *wait_ms) *wait_ms = ms;
        i++;
    }
    return 0;
}

static int run_loop(worker *w)
{
    const int open = w->s->mode == STT_LOAD_OPEN;
    const int64_t timeout_ns = (int64_t)(w->p->timeout_s * NS);
    schedule sc = {0};
    int rc;

    int64_t now;
    while ((now = now_ns()) < w->t0) {
        struct timespec ts = {(time_t)(w->t0 / NS), (long)(w->t0 % NS)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    if (open) {
        schedule_init(w, &sc);
    } else {
        while (w->nfree > 0 && closed_may_issue(w, now))
            if ((rc = closed_issue(w, now))) return rc;
    }

    for (;;) {
        int running;
        if (curl_multi_perform(w->multi, &running) != CURLM_OK) return STT_EIO;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(w->multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *e = msg->easy_handle;
            CURLcode res = msg->data.result;
            char *priv = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
            slot *sl = (slot *)priv;
            complete(w, sl, res);
            long back = open ? 0 : retry_after_s(w, e, res);
            curl_multi_remove_handle(w->multi, e);
            if (back > 0) {
                sl->resume_ns = now_ns() + back * NS;
                w->parked[w->nparked++] = sl;
                w->retry_waits++;
                continue;
            }
            w->free_slots[w->nfree++] = sl;
            if (!open) {
                now = now_ns();
                if (closed_may_issue(w, now) && (rc = closed_issue(w, now))) return rc;
            }
        }
        now = now_ns();
        long wait_ms = 100;
        if (open) {
            while (!sc.finished && sc.next <= now) {
                if (now - sc.next > timeout_ns) {
                    /* Held back by the in-flight cap for longer than a request may
                     * take: it could not be sent in time at all, and failed then. */
                    if (sc.next >= w->start) {
                        w->dropped++;
                        double lat = (double)(now - sc.next) / NS;
                        stt_histogram_record(w->lat, (uint64_t)(lat * 1e6));
                        int b = trace_body(w, &sc);
                        add_sample(w, lat, now, STT_LOAD_DROPPED, b >= 0 ? (size_t)b : 0);
                    }
                } else if (w->nfree > 0) {
                    if ((rc = issue(w, sc.next, sc.next >= w->start, trace_body(w, &sc))))
                        return rc;
                } else {
                    break;
                }
                schedule_advance(w, &sc);
            }
            if (sc.finished && w->nfree == w->nslots) break;
            if (!sc.finished && w->nfree > 0) {
                int64_t d = sc.next - now;
                wait_ms = d <= 0 ? 0 : d / 1000000;
                if (wait_ms > 100) wait_ms = 100;
            }
        } else {
            if ((rc = wake_parked(w, now, &wait_ms))) return rc;
            if (w->nfree == w->nslots && !closed_may_issue(w, now)) break;
        }
        if (curl_multi_poll(w->multi, NULL, 0, (int)wait_ms, NULL) != CURLM_OK) return STT_EIO;
    }
    return 0;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    double c0 = thread_cpu_s();
    int64_t t0 = now_ns();
    w->rc = run_loop(w);
    /* From the common start (t0), not thread creation: the wait before it is idle. */
    if (t0 < w->t0) t0 = w->t0;
    w->cpu_s = thread_cpu_s() - c0;
    w->wall_s = (double)(now_ns() - t0) / NS;
    if (w->rc) stt_seterr(w->err, sizeof w->err, w->rc, "generator thread %d failed", w->idx);
    atomic_fetch_add(w->finished_threads, 1);
    return NULL;
}

static void worker_free(worker *w)
{
    if (w->slots) {
        for (int i = 0; i < w->nslots; i++) {
            if (w->slots[i].easy) {
                curl_multi_remove_handle(w->multi, w->slots[i].easy);
                curl_easy_cleanup(w->slots[i].easy);
            }
            curl_mime_free(w->slots[i].mime);
        }
    }
    if (w->multi) curl_multi_cleanup(w->multi);
    curl_slist_free_all(w->headers);
    free(w->slots);
    free(w->free_slots);
    free(w->parked);
    free(w->bins);
    free(w->samples);
    stt_histogram_free(w->lat);
    stt_histogram_free(w->lat_ok);
    stt_histogram_free(w->unc);
    stt_histogram_free(w->queue);
    stt_histogram_free(w->proc);
    if (w->rng) gsl_rng_free(w->rng);
}

static int worker_setup(worker *w)
{
    w->slots = calloc((size_t)w->nslots, sizeof *w->slots);
    w->free_slots = calloc((size_t)w->nslots, sizeof *w->free_slots);
    w->parked = calloc((size_t)w->nslots, sizeof *w->parked);
    w->lat = stt_histogram_create();
    w->lat_ok = stt_histogram_create();
    w->unc = stt_histogram_create();
    w->queue = stt_histogram_create();
    w->proc = stt_histogram_create();
    w->rng = gsl_rng_alloc(gsl_rng_mt19937);
    w->multi = curl_multi_init();
    if (!w->slots || !w->free_slots || !w->parked || !w->lat || !w->lat_ok || !w->unc ||
        !w->queue || !w->proc || !w->rng || !w->multi)
        return STT_ENOMEM;
    /* Each thread draws its own Poisson stream: their superposition is again a
     * Poisson process at the full rate, and the result depends only on the seed. */
    gsl_rng_set(w->rng, (unsigned long)(w->s->seed * 1000003u + (uint64_t)w->idx + 1));
    /* Large uploads must not wait for a 100-continue that some servers never
     * send; a bare GET is sent as wrk sends it, the request line and Host only,
     * so that overhead checks of the two tools cost the server the same. */
    w->headers = curl_slist_append(NULL, w->p->post ? "Expect:" : "Accept:");
    if (!w->headers) return STT_ENOMEM;
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->nslots + 8);
    for (int i = 0; i < w->nslots; i++) {
        int rc = slot_init(w, &w->slots[i]);
        if (rc) return rc;
        w->free_slots[w->nfree++] = &w->slots[w->nslots - 1 - i];
    }
    return 0;
}

static int check_args(const stt_load_params *p, const stt_load_step *s, char *err, size_t errlen)
{
    if (!p->url || !*p->url) return stt_seterr(err, errlen, STT_EINVAL, "no URL");
    if (p->threads < 1) return stt_seterr(err, errlen, STT_EINVAL, "threads must be >= 1");
    if (p->post && (!p->bodies || p->nbodies == 0))
        return stt_seterr(err, errlen, STT_EINVAL, "POST needs an upload");
    if (!(p->timeout_s > 0)) return stt_seterr(err, errlen, STT_EINVAL, "timeout must be > 0");
    if (s->mode == STT_LOAD_CLOSED && s->concurrency < 1)
        return stt_seterr(err, errlen, STT_EINVAL, "concurrency must be >= 1");
    if (s->mode == STT_LOAD_OPEN && s->arrival != STT_ARRIVAL_TRACE && !(s->rate > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "rate must be > 0");
    if (s->mode == STT_LOAD_OPEN && p->max_inflight < 1)
        return stt_seterr(err, errlen, STT_EINVAL, "max in-flight must be >= 1");
    int trace = s->mode == STT_LOAD_OPEN && s->arrival == STT_ARRIVAL_TRACE;
    if (trace) {
        if (!s->trace_at_s || s->ntrace == 0)
            return stt_seterr(err, errlen, STT_EINVAL, "a trace step needs arrivals");
        for (size_t i = 0; i < s->ntrace; i++)
            if (!(s->trace_at_s[i] >= 0) || (i && s->trace_at_s[i] < s->trace_at_s[i - 1]))
                return stt_seterr(err, errlen, STT_EINVAL,
                                  "trace arrival %zu is negative or earlier than the one before",
                                  i + 1);
    } else if (s->requests <= 0 && !(s->duration_s > 0)) {
        return stt_seterr(err, errlen, STT_EINVAL, "need a duration or a request count");
    }
    if (p->weights) {
        double sum = 0;
        for (size_t i = 0; i < p->nbodies; i++) {
            if (!(p->weights[i] >= 0) || !isfinite(p->weights[i]))
                return stt_seterr(err, errlen, STT_EINVAL, "weights must be finite and >= 0");
            sum += p->weights[i];
        }
        if (!(sum > 0)) return stt_seterr(err, errlen, STT_EINVAL, "every weight is 0");
    }
    if (s->warmup_s < 0) return stt_seterr(err, errlen, STT_EINVAL, "warm-up must be >= 0");
    return 0;
}

/* The request order of the bodies: order[k % n] is request k's body. Each
 * body's share of any stretch of the order follows its weight to within one
 * turn: smooth weighted round-robin (as nginx balances upstreams), which also
 * interleaves a heavy body with the others instead of sending its copies back
 * to back. Whole weights summing to at most 65536 repeat exactly with period
 * their sum; real weights get a period of 4096 turns per body (at most 65536). */
static size_t *weighted_order(const stt_load_params *p, size_t *n)
{
    size_t nb = p->nbodies;
    double *w = malloc(nb * sizeof *w), *cur = calloc(nb, sizeof *cur), total = 0;
    int whole = 1;
    for (size_t i = 0; w && i < nb; i++) {
        w[i] = p->weights ? p->weights[i] : (p->bodies[i].weight ? p->bodies[i].weight : 1);
        total += w[i];
        if (w[i] != floor(w[i])) whole = 0;
    }
    size_t len = whole && total <= 65536 ? (size_t)total : 4096 * nb;
    if (len > 65536) len = 65536;
    if (len < 1) len = 1;
    size_t *o = w && cur ? malloc(len * sizeof *o) : NULL;
    for (size_t k = 0; o && k < len; k++) {
        size_t best = 0;
        for (size_t i = 0; i < nb; i++) {
            cur[i] += w[i];
            if (cur[i] > cur[best]) best = i;
        }
        cur[best] -= total;
        o[k] = best;
    }
    free(w);
    free(cur);
    *n = o ? len : 0;
    return o;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double ru_seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Whether the windows can tell a steady run from an unsteady one. The
 * perf_analyzer rule presumes windows that hold many requests. In an open
 * loop with random arrivals a Poisson count of k varies by 1/sqrt(k), so 10%
 * on throughput is within reach only from 100 per window, and a p95 of fewer
 * moves by more than that between windows of a perfectly steady server. A
 * closed loop's count windows have no counting noise, but their p95 needs a
 * few answers (STT_LOAD_JUDGED_CLOSED). Below that the rule would call every
 * run unstable whatever the server did; the decision then rests on the
 * interval over the repeats. Constant arrivals are always judged. */
#define JUDGED_PER_WINDOW 100

static int stability_judged(const stt_load_step *s, const stt_load_result *out)
{
    if (s->mode == STT_LOAD_OPEN && s->arrival == STT_ARRIVAL_CONSTANT) return 1;
    if (s->mode == STT_LOAD_CLOSED && out->window_count < STT_LOAD_JUDGED_CLOSED) return 0;
    int nw = out->nwindows;
    if (nw < STT_LOAD_STABLE_WINDOWS) return 0;
    uint64_t least = s->mode == STT_LOAD_CLOSED ? STT_LOAD_JUDGED_CLOSED : JUDGED_PER_WINDOW;
    for (int i = nw - STT_LOAD_STABLE_WINDOWS; i < nw; i++)
        if (out->window_n[i] < least) return 0;
    return 1;
}

static int cmp_done(const void *a, const void *b)
{
    float x = ((const stt_load_sample *)a)->done_s, y = ((const stt_load_sample *)b)->done_s;
    return (x > y) - (x < y);
}

/* Nearest-rank p95 of n latencies, sorted in place; NaN for none. */
static double p95_of(float *lat, size_t n)
{
    if (!n) return NAN;
    qsort(lat, n, sizeof *lat, cmp_float);
    size_t r = (size_t)ceil(0.95 * (double)n);
    return lat[(r ? r : 1) - 1];
}

/* Count windows for a closed loop. A closed loop at c in flight answers a
 * handful of long requests per time window, so a time window's throughput is
 * a count of 1 to 3 that moves by a third with one answer, and the rule
 * could never pass. Instead the last nw * k counted answers (k a multiple of
 * c, so that c requests started together still fall into whole windows) are
 * cut into windows of k, each timed from the answer before it to its last:
 * k / that time has no counting noise. Returns 0 when there are too few
 * answers for one round of c per window. */
static int count_windows(const stt_load_step *s, int nw, stt_load_result *out)
{
    size_t c = (size_t)s->concurrency, n = out->nsamples;
    if (n < 2 || (n - 1) / ((size_t)nw * c) < 1) return 0;
    size_t k = (n - 1) / ((size_t)nw * c) * c, first = n - (size_t)nw * k;
    stt_load_sample *by_done = malloc(n * sizeof *by_done);
    float *lat = malloc(k * sizeof *lat);
    int ok = by_done && lat;
    if (ok) {
        memcpy(by_done, out->samples, n * sizeof *by_done);
        qsort(by_done, n, sizeof *by_done, cmp_done);
    }
    for (int wi = 0; ok && wi < nw; wi++) {
        const stt_load_sample *w = by_done + first + (size_t)wi * k;
        double span = (double)w[k - 1].done_s - (double)w[-1].done_s, lat_ok = 0;
        size_t nok = 0;
        for (size_t i = 0; i < k; i++) {
            lat[i] = w[i].latency_s;
            if (w[i].outcome == STT_LOAD_OK) nok++, lat_ok += w[i].latency_s;
        }
        if (!(span > 0)) ok = 0;
        out->window_span_s[wi] = span;
        out->window_rps[wi] = (double)k / span;
        out->window_ok_rps[wi] = (double)nok / span;
        out->window_latency_s[wi] = nok ? lat_ok / (double)nok : 0;
        out->window_n[wi] = k;
        out->window_p95_s[wi] = p95_of(lat, k);
    }
    free(by_done);
    free(lat);
    out->window_count = ok ? (int)k : 0;
    return ok;
}

/* Equal time windows over the interval of len s, from the workers' bins
 * (throughput) and the samples (each window's p95). */
static void time_windows(worker *ws, int n, int64_t start, int64_t end, int nw,
                         stt_load_result *out)
{
    double len = out->elapsed_s;
    double wdone[STT_LOAD_MAX_WINDOWS] = {0}, wok[STT_LOAD_MAX_WINDOWS] = {0};
    double wlat[STT_LOAD_MAX_WINDOWS] = {0};
    int64_t nbins_used = (end - start + BIN_NS - 1) / BIN_NS;
    for (int i = 0; i < n; i++) {
        for (size_t b = 0; b < ws[i].nbins && (int64_t)b < nbins_used; b++) {
            const bin *bb = &ws[i].bins[b];
            /* Which window a bin belongs to, by its start time. */
            int wi = (int)((double)b * BIN_NS / ((double)(end - start) / nw));
            if (wi >= nw) wi = nw - 1;
            wdone[wi] += bb->done;
            wok[wi] += bb->ok;
            wlat[wi] += bb->lat_sum;
        }
    }
    float *lat = malloc((out->nsamples ? out->nsamples : 1) * sizeof *lat);
    for (int wi = 0; wi < nw; wi++) {
        out->window_span_s[wi] = len / nw;
        out->window_rps[wi] = wdone[wi] / (len / nw);
        out->window_ok_rps[wi] = wok[wi] / (len / nw);
        out->window_latency_s[wi] = wok[wi] ? wlat[wi] / wok[wi] : 0;
        /* The p95 over the counted requests that finished in the window
         * (nearest rank, failures included). */
        size_t k = 0;
        double a = wi * len / nw, b = (wi + 1) * len / nw;
        for (size_t i = 0; lat && i < out->nsamples; i++)
            if (out->samples[i].done_s >= a && out->samples[i].done_s < b)
                lat[k++] = out->samples[i].latency_s;
        out->window_n[wi] = k;
        out->window_p95_s[wi] = p95_of(lat, k);
    }
    free(lat);
}

static void summarise(const stt_load_params *p, const stt_load_step *s, worker *ws, int n,
                      int64_t start, int64_t end, stt_load_result *out)
{
    for (int i = 0; i < n; i++) {
        worker *w = &ws[i];
        out->sent += w->sent;
        out->completed += w->completed;
        out->ok += w->ok;
        out->late += w->late;
        out->dropped += w->dropped;
        out->warmup_sent += w->warmup_sent;
        out->retry_waits += w->retry_waits;
        for (int c = 0; c < STT_LOAD_ERR_N; c++)
            out->errors[c] += w->errors[c];
        stt_histogram_merge(out->latency, w->lat);
        stt_histogram_merge(out->latency_ok, w->lat_ok);
        stt_histogram_merge(out->latency_uncorrected, w->unc);
        stt_histogram_merge(out->queue, w->queue);
        stt_histogram_merge(out->process, w->proc);
    }
    size_t ns = 0;
    for (int i = 0; i < n; i++)
        ns += ws[i].nsamples;
    out->samples = malloc((ns ? ns : 1) * sizeof *out->samples);
    for (int i = 0; out->samples && i < n; i++) {
        memcpy(out->samples + out->nsamples, ws[i].samples, ws[i].nsamples * sizeof *ws[i].samples);
        out->nsamples += ws[i].nsamples;
    }
    double len = (double)(end - start) / NS;
    if (len <= 0) len = 1e-9;
    out->elapsed_s = len;
    int nw = p->windows < 1                      ? 1
             : p->windows > STT_LOAD_MAX_WINDOWS ? STT_LOAD_MAX_WINDOWS
                                                 : p->windows;
    out->nwindows = nw;
    double done = 0, ok = 0, audio = 0;
    int64_t nbins_used = (end - start + BIN_NS - 1) / BIN_NS;
    for (int i = 0; i < n; i++) {
        for (size_t b = 0; b < ws[i].nbins && (int64_t)b < nbins_used; b++) {
            done += ws[i].bins[b].done;
            ok += ws[i].bins[b].ok;
            audio += ws[i].bins[b].audio_s;
        }
    }
    out->rps = done / len;
    out->ok_rps = ok / len;
    out->audio_s_per_s = audio / len;
    if (s->mode != STT_LOAD_CLOSED || !out->samples || !count_windows(s, nw, out))
        time_windows(ws, n, start, end, nw, out);
    out->stable = stt_stats_stable(out->window_ok_rps, (size_t)nw, STT_LOAD_STABLE_WINDOWS,
                                   STT_LOAD_STABLE_TOL) &&
                  stt_stats_stable(out->window_p95_s, (size_t)nw, STT_LOAD_STABLE_WINDOWS,
                                   STT_LOAD_STABLE_TOL);
    out->stability_judged = stability_judged(s, out);
}

int stt_load_run_step(const stt_load_params *p, const stt_load_step *s, stt_load_result *out,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = check_args(p, s, err, errlen);
    if (rc) return rc;
    int open = s->mode == STT_LOAD_OPEN;
    int n = p->threads;
    if (!open && n > s->concurrency) n = s->concurrency;
    if (open && n > p->max_inflight) n = p->max_inflight;

    out->latency = stt_histogram_create();
    out->latency_ok = stt_histogram_create();
    out->latency_uncorrected = stt_histogram_create();
    out->queue = stt_histogram_create();
    out->process = stt_histogram_create();
    worker *ws = calloc((size_t)n, sizeof *ws);
    size_t norder = 0;
    size_t *order = p->post ? weighted_order(p, &norder) : NULL;
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    if (!out->latency || !out->latency_ok || !out->latency_uncorrected || !out->queue ||
        !out->process || !ws || !tids || (p->post && !order)) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto fail;
    }

    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    atomic_uint_fast64_t done_total = 0;
    atomic_int finished = 0;
    /* All threads start together a little later, once their handles exist. */
    int64_t t0 = now_ns() + 50000000LL;
    int64_t start = t0 + (int64_t)(s->warmup_s * NS);
    int trace = open && s->arrival == STT_ARRIVAL_TRACE;
    /* A request count or a trace ends with its last answer. */
    int64_t end = s->requests > 0 || trace ? INT64_MAX : start + (int64_t)(s->duration_s * NS);
    long prefix = 0;
    for (int i = 0; i < n; i++) {
        worker *w = &ws[i];
        w->p = p;
        w->s = s;
        w->idx = i;
        w->nthreads = n;
        w->t0 = t0;
        w->start = start;
        w->end = end;
        w->order = order;
        w->norder = norder;
        w->done_total = &done_total;
        w->finished_threads = &finished;
        if (open) {
            w->nslots = p->max_inflight / n + (i < p->max_inflight % n);
            w->rate = s->rate / n;
            w->quota = s->requests > 0 && !trace ? s->requests / n + (i < s->requests % n) : -1;
        } else {
            w->nslots = s->concurrency / n + (i < s->concurrency % n);
            /* Requests in proportion to slots, summing exactly to the total. */
            long next = prefix + w->nslots;
            w->quota = s->requests > 0 ? (long)((double)s->requests * next / s->concurrency) -
                                             (long)((double)s->requests * prefix / s->concurrency)
                                       : -1;
            prefix = next;
        }
        if ((rc = worker_setup(w))) {
            stt_seterr(err, errlen, rc, "cannot set up generator thread %d", i);
            goto fail;
        }
    }
    int started = 0;
    for (; started < n; started++)
        if (pthread_create(&tids[started], NULL, worker_main, &ws[started])) break;
    if (started < n) {
        /* The threads that did start still run to their end; wait for them. */
        for (int i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
        rc = stt_seterr(err, errlen, STT_EIO, "cannot start generator threads");
        goto fail;
    }
    int64_t next_progress = now_ns() + NS;
    while (atomic_load(&finished) < n) {
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
        if (p->progress && now_ns() >= next_progress) {
            p->progress(p->progress_arg, (double)(now_ns() - t0) / NS,
                        (uint64_t)atomic_load(&done_total));
            next_progress += NS;
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    for (int i = 0; i < n; i++)
        if (ws[i].rc) {
            rc = stt_seterr(err, errlen, ws[i].rc, "%s", ws[i].err);
            goto fail;
        }
    getrusage(RUSAGE_SELF, &ru1);
    if (end == INT64_MAX) {
        end = start;
        for (int i = 0; i < n; i++)
            if (ws[i].last_done_ns > end) end = ws[i].last_done_ns;
        /* The last completion itself belongs inside the interval. */
        end += 1;
    }
    summarise(p, s, ws, n, start, end, out);
    out->cpu_user_s = ru_seconds(ru1.ru_utime) - ru_seconds(ru0.ru_utime);
    out->cpu_sys_s = ru_seconds(ru1.ru_stime) - ru_seconds(ru0.ru_stime);
    out->peak_rss_kb = ru1.ru_maxrss;
    for (int i = 0; i < n; i++) {
        double busy = ws[i].wall_s > 0 ? ws[i].cpu_s / ws[i].wall_s : 0;
        if (busy > out->busiest_thread_cpu) out->busiest_thread_cpu = busy;
    }
    out->saturated = out->busiest_thread_cpu >= STT_LOAD_SATURATED;
    rc = 0;
fail:
    for (int i = 0; ws && i < n; i++)
        worker_free(&ws[i]);
    free(ws);
    free(tids);
    free(order);
    if (rc) stt_load_result_free(out);
    return rc;
}

void stt_load_result_free(stt_load_result *r)
{
    if (!r) return;
    stt_histogram_free(r->latency);
    stt_histogram_free(r->latency_ok);
    stt_histogram_free(r->latency_uncorrected);
    stt_histogram_free(r->queue);
    stt_histogram_free(r->process);
    free(r->samples);
    r->latency = r->latency_ok = r->latency_uncorrected = r->queue = r->process = NULL;
    r->samples = NULL;
    r->nsamples = 0;
}
