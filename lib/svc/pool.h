/* pool: sttd's decoders and the scheduler that shares them between requests.
 *
 * The pool owns W worker processes (lib/worker.h) forked from one loaded model,
 * and a dispatcher thread. A request's audio is cut at its pauses (lib/vad.h)
 * and its pieces are decoded in parallel by free workers, at most `threads`
 * at a time per request. Scheduling policy: a free worker takes the next piece
 * of the admitted request that has the fewest pieces in flight, the oldest
 * request winning ties (so a short request arriving behind a long one is
 * served by the next free worker instead of waiting for the long one to end);
 * within a request, the longest remaining piece goes first. The pieces'
 * transcripts are joined in order on the file's timeline.
 *
 * Admission: at most workers + queue requests are admitted at once; beyond
 * that stt_pool_transcribe() returns STT_EBUSY at once.
 *
 * A worker that dies fails the request whose piece it held (STT_EWORKER) and
 * is replaced; a piece running longer than its deadline gets its worker killed.
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
    int queue;                    /* requests admitted beyond workers; default 2 x workers */
    int threads;                  /* default pieces in flight per request; default workers */
    unsigned profile_mask;        /* profiles to load, bit i = stt_profile_names[i]; default all */
    stt_vad_params vad;
    double piece_deadline_s; /* a piece may run at most max(this, 4 x its duration) */
} stt_pool_params;

stt_pool_params stt_pool_default_params(void);

stt_pool *stt_pool_create(const stt_pool_params *params, char *err, size_t errlen);

/* See stt_backend.transcribe. */
int stt_pool_transcribe(stt_pool *p, const stt_audio *audio, int profile, int threads,
                        stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen);

void stt_pool_status(stt_pool *p, stt_backend_status *out);

/* The pool as the HTTP layer's backend. */
stt_backend stt_pool_backend(stt_pool *p);

/* Writes up to max worker process ids; returns how many. */
int stt_pool_worker_pids(stt_pool *p, pid_t *pids, int max);

/* Stops the dispatcher and all processes. Requests still waiting get STT_ESHUTDOWN;
 * call it only after the callers of stt_pool_transcribe() have returned. */
void stt_pool_free(stt_pool *p);

#endif
