/* pool: sttd's decoders and the scheduler that shares them between requests.
 *
 * The pool owns W worker processes (lib/svc/worker.h) forked from one loaded
 * model, and a dispatcher thread. A request's upload is first decoded by a
 * worker (the media job: untrusted bytes never meet a codec in the server),
 * into a sealed memfd of 16 kHz samples, the one place the PCM lives; the
 * request's thread cuts it at its pauses (lib/svc/vad.h) and its pieces are
 * decoded in parallel by free workers, at most `threads` at a time per
 * request. Scheduling policy: a free worker takes the next job (media or
 * piece) of the request that has the fewest jobs in flight, the oldest
 * request winning ties (so a short request arriving behind a long one is
 * served by the next free worker instead of waiting for the long one to end);
 * within a request, the longest remaining piece goes first; the worker that
 * decoded a request's upload waits (the moment its thread takes to cut it)
 * to take its first piece, so a short request never waits for a free worker
 * twice. The pieces' transcripts are joined in order on the file's timeline.
 *
 * Admission: at most workers + queue requests are admitted at once
 * (stt_pool_admit); beyond that STT_EBUSY at once. The HTTP layer admits at
 * the request's headers, so uploads count.
 *
 * Limits per request: decoding the upload may use decode_cpu_s of CPU;
 * recognition may use max(min_deadline_s, max_rtf x audio seconds) of worker
 * CPU in all, shared among its pieces in proportion to their length (a
 * finished piece returns what it did not use). A worker over its share stops
 * (STT_EDEADLINE for the request) and is replaced; CPU time, not wall time,
 * so a busy machine does not fail requests. A wall-clock backstop kills a
 * worker that makes no progress at all (stopped, stuck in a system call).
 *
 * Failures: a worker that dies fails the request whose job it held (media:
 * STT_EAUDIO, the decoder crashed on that file; piece: STT_EWORKER) and only
 * that one; a job that cannot even be sent goes to another worker. Dead
 * workers are replaced, retrying with backoff (0.1 s doubling to 5 s) when a
 * fork fails; a pool with no worker for broken_after_s, or whose model loader
 * died, is broken: it fails what it holds, admits nothing, and says so in its
 * status (so /health fails and the orchestrator restarts the process).
 *
 * Thread safety: stt_pool_create() forks, so call it before starting threads;
 * after that every function but stt_pool_free() may be called from any thread.
 */
#ifndef STT_POOL_H
#define STT_POOL_H

#include <stddef.h>
#include <sys/types.h>

#include "backend.h"
#include "engine.h"
#include "vad.h"

typedef struct stt_pool stt_pool;

typedef struct stt_pool_params {
    const stt_engine_ops *engine; /* default: PocketSphinx */
    const char *model_dir;        /* default: STT_MODEL_DIR */
    int workers;                  /* default: stt_usable_cpus() (lib/base/cpus.h) */
    int queue;                    /* requests admitted beyond workers; default 2 x workers;
                                   * -1 = none */
    int threads;                  /* default pieces in flight per request; default workers */
    unsigned profile_mask;        /* profiles to load, bit i = stt_profile_names[i]; default all */
    stt_vad_params vad;
    double max_rtf;          /* recognition CPU per audio second; default 3.0; <= 0: no limit */
    double min_deadline_s;   /* the recognition budget is at least this; default 5 */
    double decode_cpu_s;     /* CPU one media decode may use; default 60 */
    double broken_after_s;   /* no worker for this long: broken; default 30 */
    double piece_deadline_s; /* wall-clock backstop per job: at least this; default 120 */
} stt_pool_params;

stt_pool_params stt_pool_default_params(void);

stt_pool *stt_pool_create(const stt_pool_params *params, char *err, size_t errlen);

/* Admission (see above): 0, STT_EBUSY, or STT_ESHUTDOWN (draining, stopping or
 * broken), with err set. Each 0 is paired with one stt_pool_release(). */
int stt_pool_admit(stt_pool *p, char *err, size_t errlen);
void stt_pool_release(stt_pool *p);

/* Transcribes an admitted request's upload; see stt_backend.transcribe. */
int stt_pool_run_media(stt_pool *p, const stt_media *media, const stt_job_opts *opts,
                       stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen);

/* Transcribes audio that is already decoded (trusted: the caller decoded it),
 * admitting itself (STT_EBUSY when full). */
int stt_pool_transcribe(stt_pool *p, const stt_audio *audio, int profile, int threads,
                        stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen);

void stt_pool_status(stt_pool *p, stt_backend_status *out);

/* Drain: admits nothing more, and what would have to wait for a worker is
 * refused with STT_ESHUTDOWN; what runs goes on. */
void stt_pool_drain(stt_pool *p);
/* Fails every request in flight with STT_ESHUTDOWN (the end of a grace period). */
void stt_pool_cancel(stt_pool *p);

/* The pool as the HTTP layer's backend. */
stt_backend stt_pool_backend(stt_pool *p);

/* Writes up to max worker process ids; returns how many. */
int stt_pool_worker_pids(stt_pool *p, pid_t *pids, int max);

/* Stops the dispatcher and all processes. Requests still waiting get STT_ESHUTDOWN;
 * call it only after the callers of the functions above have returned. */
void stt_pool_free(stt_pool *p);

#endif
