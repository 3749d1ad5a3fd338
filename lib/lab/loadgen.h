/* loadgen: the engine of the HTTP load generator (libcurl multi).
 *
 * One call to stt_load_run_step() drives one step of a sweep: either a closed
 * loop (exactly C requests in flight) or an open loop (requests scheduled at a
 * rate R, constant or Poisson arrivals). Work is spread over params.threads
 * threads, each running its own curl multi event loop with one easy handle per
 * in-flight slot and connection reuse.
 *
 * Open-loop latency is measured from each request's scheduled send time
 * (corrected for coordinated omission, as wrk2 and MLPerf LoadGen do); latency
 * from the actual send is kept too. A late request is still sent, never skipped;
 * if the per-step in-flight cap is reached, requests wait, and those still unsent
 * when the step gives up (schedule end + timeout) are counted as dropped.
 * Open-loop arrivals are constant, Poisson, or a recorded trace replayed as is.
 *
 * Failed requests are latencies too: the step's `latency` histogram and its
 * samples hold every counted request, an error timed to the moment it failed
 * and a dropped request to the moment it was given up; `latency_ok` holds the
 * 2xx answers alone (the service time a model is fed with).
 *
 * Thread safety: stt_load_run_step() may be called from one thread at a time per
 * params; it starts and joins its own threads. Call curl_global_init() once in
 * main() before the first step.
 */
#ifndef STT_LOADGEN_H
#define STT_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "histogram.h"

typedef struct {
    const char *url;             /* full URL, path included */
    int post;                    /* 1: multipart POST of a body; 0: bare GET */
    const char *model;           /* multipart "model" field; NULL to omit */
    const char *response_format; /* multipart "response_format"; NULL to omit */
    const stt_upload
        *bodies; /* borrowed, never copied: they outlive the steps; nbodies >= 1 when post */
    size_t nbodies;
    /* Real shares of the bodies in the request order (borrowed, nbodies of
     * them, >= 0, not all 0); NULL: each body's whole `weight`. */
    const double *weights;
    int threads;      /* generator threads, >= 1 */
    double timeout_s; /* per request */
    int max_inflight; /* open-loop cap on requests in flight, all threads */
    double late_ms;   /* an open-loop send later than this past schedule is "late" */
    int windows;      /* stability windows per step */
    /* Closed loop: after a 503 carrying Retry-After, that slot waits as long
     * (at most 60 s) before its next request, as a well-behaved client does;
     * 0 sends the next request at once. */
    int retry_after;
    /* Called about once a second from the calling thread while a step runs,
     * with the seconds since the step began and the requests completed so far;
     * NULL for none. */
    void (*progress)(void *arg, double elapsed_s, uint64_t completed);
    void *progress_arg;
} stt_load_params;

stt_load_params stt_load_default_params(void);

typedef enum { STT_LOAD_CLOSED, STT_LOAD_OPEN } stt_load_mode;
typedef enum { STT_ARRIVAL_CONSTANT, STT_ARRIVAL_POISSON, STT_ARRIVAL_TRACE } stt_load_arrival;

/* "constant", "poisson", "trace". */
const char *stt_load_arrival_name(stt_load_arrival a);

typedef struct {
    stt_load_mode mode;
    int concurrency; /* closed loop */
    double rate;     /* open loop, requests per second (a trace: only a label) */
    stt_load_arrival arrival;
    double duration_s; /* measured part; used when requests == 0 (not for a trace) */
    long requests;     /* > 0: stop after this many counted requests (not for a trace) */
    double warmup_s;   /* not counted; a trace's arrivals before it are sent, not counted */
    uint64_t seed;     /* Poisson arrivals */
    /* STT_ARRIVAL_TRACE: request k is due trace_at_s[k] seconds after the
     * start (non-decreasing) and sends body trace_body[k] (< 0 or NULL: the
     * weighted order); the step ends with the trace. Borrowed. */
    const double *trace_at_s;
    const int *trace_body;
    size_t ntrace;
} stt_load_step;

/* Error classes of a request that did not get a 2xx answer. */
enum {
    STT_LOAD_ERR_CONNECT, /* could not connect or resolve */
    STT_LOAD_ERR_TIMEOUT, /* no complete answer within timeout_s */
    STT_LOAD_ERR_4XX,
    STT_LOAD_ERR_503,
    STT_LOAD_ERR_5XX,   /* 5xx other than 503 */
    STT_LOAD_ERR_OTHER, /* connection closed without an answer, other transport faults, 1xx/3xx */
    STT_LOAD_ERR_N
};
/* "connect", "timeout", "4xx", "503", "5xx", "other". */
const char *stt_load_err_name(int cls);

#define STT_LOAD_MAX_WINDOWS 20
#define STT_LOAD_SATURATED 0.9
/* The perf_analyzer stability rule: the last STT_LOAD_STABLE_WINDOWS windows
 * within STT_LOAD_STABLE_TOL of their mean on throughput and on p95. */
#define STT_LOAD_STABLE_WINDOWS 3
#define STT_LOAD_STABLE_TOL 0.10
/* Fewest answers per closed-loop window for the rule to judge: a p95 of
 * fewer is one sample's latency. */
#define STT_LOAD_JUDGED_CLOSED 5

/* What became of one counted request. */
#define STT_LOAD_OK (-1)                /* a 2xx answer */
#define STT_LOAD_DROPPED STT_LOAD_ERR_N /* never sent: held back past its timeout */

/* One counted request: its latency (corrected: from when it was due, to its
 * answer, failure or abandonment), when that happened (s after the measured
 * interval began), its outcome (STT_LOAD_OK, an error class, STT_LOAD_DROPPED)
 * and the body it sent. */
typedef struct stt_load_sample {
    float latency_s;
    float done_s;
    int16_t outcome;
    uint16_t body;
} stt_load_sample;
typedef struct {
    /* Counted requests (those sent, or for open loop scheduled, after warm-up). */
    uint64_t sent, completed, ok, late, dropped;
    uint64_t errors[STT_LOAD_ERR_N];
    uint64_t warmup_sent;
    uint64_t retry_waits; /* closed loop: waits honouring Retry-After */
    double elapsed_s;     /* measured interval (start after warm-up to end) */
    double rps;           /* completed responses per second in the interval */
    double ok_rps;        /* 2xx responses per second */
    double audio_s_per_s; /* audio seconds transcribed (2xx) per second */
    /* Latencies in microseconds: every counted request, failed and dropped
     * ones included (corrected: from when it was due); the 2xx answers alone;
     * and the 2xx answers from the actual send (uncorrected, as wrk measures). */
    stt_histogram *latency, *latency_ok, *latency_uncorrected;
    /* Every counted request (nsamples = completed + dropped), in no order. */
    stt_load_sample *samples;
    size_t nsamples;
    /* Server-reported X-Queue-Time-Ms / X-Process-Time-Ms in microseconds;
     * empty when the server sends no such headers. */
    stt_histogram *queue, *process;
    /* Per window: answers per second (all, and 2xx), the counted requests
     * that finished in it and their p95 (failures included; NaN when none),
     * the mean 2xx latency (s) and the window's length (s).
     * An open loop cuts the interval into equal time windows, in which
     * warm-up requests answered count too (it is what the server delivered
     * then). A closed loop cuts its last counted answers into windows of
     * window_count answers each, a multiple of the concurrency, measuring the
     * time each took, as perf_analyzer's count windows do (loadgen.c says
     * why); window_count is 0 where there were too few answers for that and
     * time windows were used. */
    int nwindows;
    int window_count;
    double window_rps[STT_LOAD_MAX_WINDOWS];
    double window_ok_rps[STT_LOAD_MAX_WINDOWS];
    uint64_t window_n[STT_LOAD_MAX_WINDOWS];
    double window_p95_s[STT_LOAD_MAX_WINDOWS];
    double window_latency_s[STT_LOAD_MAX_WINDOWS];
    double window_span_s[STT_LOAD_MAX_WINDOWS];
    /* The perf_analyzer rule on the last windows: 2xx throughput and p95. */
    int stable;
    /* 0 when the windows hold too few requests for the rule to tell a steady
     * server from counting noise (loadgen.c): an open loop with random
     * arrivals under 100 in one of the last windows, a closed loop under
     * STT_LOAD_JUDGED_CLOSED; stable then says nothing. */
    int stability_judged;
    double cpu_user_s, cpu_sys_s; /* generator CPU over the step */
    long peak_rss_kb;             /* generator peak RSS so far */
    /* CPU time of the busiest generator thread over its running time, as a
     * fraction of one core. Near 1 the generator, not the server, set the pace:
     * saturated is set from STT_LOAD_SATURATED up. */
    double busiest_thread_cpu;
    int saturated;
} stt_load_result;

/* Runs one step. On success fills *out (the caller frees it with
 * stt_load_result_free) and returns 0; failures of single requests are counted,
 * not returned. Returns STT_EINVAL for bad params/step, STT_ENOMEM, STT_EIO. */
int stt_load_run_step(const stt_load_params *p, const stt_load_step *step, stt_load_result *out,
                      char *err, size_t errlen);
void stt_load_result_free(stt_load_result *r);

/* Failed requests of r: errors of every class plus dropped ones. */
uint64_t stt_load_failures(const stt_load_result *r);

#endif
