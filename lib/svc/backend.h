/* backend: what the HTTP layer asks of whatever does the recognition.
 *
 * The HTTP server never sees workers or decoders, and never decodes media: it
 * admits a request as soon as its headers arrive (or refuses it), streams the
 * upload into a memfd, and hands that to the backend, which decodes it out of
 * process and returns a transcript. sttd plugs in the worker pool; tests plug
 * in a double. All callbacks are called concurrently from many HTTP threads.
 */
#ifndef STT_BACKEND_H
#define STT_BACKEND_H

#include <stddef.h>

#include "audio.h"
#include "transcript.h"

typedef struct stt_job_stats {
    double queue_ms;   /* from handing over until its first job started on a worker */
    double process_ms; /* first job started until the last one finished */
    int pieces;        /* how many pieces the audio was cut into */
    double audio_s;    /* duration of the decoded audio */
    double cpu_s;      /* worker CPU time the request used */
} stt_job_stats;

typedef struct stt_backend_status {
    int workers;           /* decoders available (0 once broken) */
    int busy;              /* decoders working now */
    int active;            /* requests handed over (queued or running) */
    int in_flight;         /* requests admitted: uploading, queued or running */
    int capacity;          /* admitted requests allowed before STT_EBUSY */
    long restarts;         /* workers replaced after dying */
    int threads;           /* default pieces in flight per request */
    unsigned profile_mask; /* profiles loaded, bit i = stt_profile_names[i] */
    int draining;          /* 1 once drain() was called */
    int ready;             /* 1 when it can take work: loaded, a worker alive, not
                            * draining, not broken (never because it is momentarily full) */
    int broken;            /* 1 when the backend stopped by itself and will never decode
                            * again (its model loader died, or no worker could be started
                            * for a while): only a restart helps */
} stt_backend_status;

/* An upload: len bytes in the memfd fd (owned by the caller). */
typedef struct stt_media {
    int fd;
    size_t len;
} stt_media;

typedef struct stt_job_opts {
    int profile;           /* index into stt_profile_names */
    int threads;           /* most pieces in flight; 0 = the backend's default */
    double max_duration_s; /* the decoded audio's limit (lib/svc/audio.h) */
    /* Polled while the request waits (several times a second); returns 1 when
     * nobody waits for the answer any more (the client went away): the
     * request is then dropped, STT_ECANCELED. NULL = never. */
    int (*cancelled)(void *ctx);
    void *cancel_ctx;
} stt_job_opts;

typedef struct stt_backend {
    void *ctx;
    /* Admits one request, or refuses it: STT_EBUSY (full: 503 + Retry-After),
     * STT_ESHUTDOWN (draining or broken: 503). Every 0 is paired with one
     * release(). */
    int (*admit)(void *ctx, char *err, size_t errlen);
    void (*release)(void *ctx);
    /* Transcribes an admitted request's upload. On success *out is a new
     * transcript owned by the caller. Errors: the media's own (STT_EAUDIO,
     * STT_EFORMAT, STT_ETOOLONG), STT_EMODEL (profile not loaded),
     * STT_EDEADLINE (over its CPU budget), STT_ECANCELED, STT_ESHUTDOWN,
     * STT_EWORKER/STT_EENGINE (500). */
    int (*transcribe)(void *ctx, const stt_media *media, const stt_job_opts *opts,
                      stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen);
    void (*status)(void *ctx, stt_backend_status *out);
    /* Stops admitting, and refuses (STT_ESHUTDOWN) what would have to wait
     * for a decoder; what runs goes on. Optional. */
    void (*drain)(void *ctx);
    /* Fails everything still in flight with STT_ESHUTDOWN. Optional. */
    void (*cancel)(void *ctx);
} stt_backend;

#endif
