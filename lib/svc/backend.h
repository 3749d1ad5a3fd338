/* backend: what the HTTP layer asks of whatever does the recognition.
 *
 * The HTTP server never sees workers or decoders: it hands decoded audio to a
 * backend and gets a transcript back. sttd plugs in the worker pool; tests plug
 * in a double. All callbacks are called concurrently from many HTTP threads.
 */
#ifndef STT_BACKEND_H
#define STT_BACKEND_H

#include <stddef.h>

#include "audio.h"
#include "transcript.h"

typedef struct stt_job_stats {
    double queue_ms;   /* admitted until its first piece started */
    double process_ms; /* first piece started until the last one finished */
    int pieces;        /* how many pieces the audio was cut into */
} stt_job_stats;

typedef struct stt_backend_status {
    int workers;   /* decoders available */
    int busy;      /* decoders working now */
    int active;    /* requests admitted (queued or running) */
    int capacity;  /* admitted requests allowed before STT_EBUSY */
    long restarts; /* workers replaced after dying */
    int threads;   /* default pieces in flight per request */
    int ready;     /* 1 when decoders are loaded and there is room */
    int broken;    /* 1 when the backend stopped by itself and will never decode
                    * again (e.g. its model loader died): only a restart helps */
} stt_backend_status;

typedef struct stt_backend {
    void *ctx;
    /* Transcribes audio with profile (index into stt_profile_names) using at most
     * threads pieces in flight (0 = the backend's default). On success *out is a
     * new transcript owned by the caller. Errors: STT_EBUSY (full; caller says
     * 503), STT_EWORKER/STT_EENGINE (500), STT_ESHUTDOWN (503). */
    int (*transcribe)(void *ctx, const stt_audio *audio, int profile, int threads,
                      stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen);
    void (*status)(void *ctx, stt_backend_status *out);
} stt_backend;

#endif
