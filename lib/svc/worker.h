/* worker: a decoder process, and the messages between it and the pool.
 *
 * A worker does two kinds of job, one at a time:
 *  - STT_JOB_MEDIA: decode an upload (untrusted bytes in a memfd) into 16 kHz
 *    mono samples (lib/svc/audio.h), written straight into a new memfd that
 *    it seals against writing, shrinking and growing and passes back. The
 *    codecs (libsndfile, FLAC, Vorbis, Opus, mpg123, soxr) thus parse hostile
 *    bytes here, in a process without connections or the API key, never in
 *    the server.
 *  - STT_JOB_PIECE: recognize samples [offset, offset+n) of such a PCM memfd
 *    with one profile; the worker maps just that range (the audio is never
 *    copied again). The result is a serialized transcript (times relative to
 *    the piece), inline when it fits the socket (stt_ipc_max_send), else in a
 *    sealed memfd.
 * Every job carries a CPU budget: a CPU-time timer in the worker fires when
 * the job has used it, and the worker answers STT_EDEADLINE for that job and
 * exits (the pool replaces it). A worker that cannot send a result exits too,
 * so the pool learns at once.
 * Messages go over lib/svc/ipc.h channels, so each arrives whole or not at all.
 * Workers are forked by the zygote (lib/svc/zygote.h).
 * Thread safety: one socket is used by one thread at a time.
 */
#ifndef STT_WORKER_H
#define STT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "ipc.h"
#include "transcript.h"

/* The largest message a worker sends. */
#define STT_WORKER_MSG_MAX STT_IPC_MSG_MAX

enum { STT_JOB_PIECE = 1, STT_JOB_MEDIA = 2 };

typedef struct stt_worker_job {
    int kind;              /* STT_JOB_PIECE or STT_JOB_MEDIA */
    uint64_t id;           /* echoed in the result */
    int fd;                /* piece: the PCM memfd; media: the upload memfd */
    size_t offset, n;      /* piece: samples; media: offset 0, n = upload bytes */
    int profile;           /* piece: index into stt_profile_names */
    double max_duration_s; /* media: the duration limit (lib/svc/audio.h) */
    double cpu_budget_s;   /* CPU seconds the job may use; <= 0: no limit */
} stt_worker_job;

typedef struct stt_worker_result {
    uint64_t job_id;
    int kind;
    int status;                 /* 0, or the STT_E* code the worker reported */
    double cpu_s;               /* CPU time the job used */
    stt_transcript *transcript; /* piece, status 0: owned by the caller */
    int pcm_fd;                 /* media, status 0: the sealed PCM memfd (caller closes); else -1 */
    size_t n_samples;           /* media: samples in pcm_fd */
    int src_rate, src_channels; /* media: what the upload was */
    char src_format[16];
    char err[256]; /* status != 0: the worker's message */
} stt_worker_result;

/* The worker process's body: does jobs from sock with engines[profile]
 * until the socket closes, then exits (lib/svc/child.h). Never returns. */
void stt_worker_main(int sock, stt_engine *const *engines) __attribute__((noreturn));

/* Sends one job (with job->fd). Returns 0 or STT_EIO (the worker is gone). */
int stt_worker_send_job(int sock, const stt_worker_job *job);

/* Receives one result into out, using buf, the caller's scratch space of at
 * least STT_WORKER_MSG_MAX bytes (reused from call to call: results arrive on
 * the dispatcher's hot path). Returns 0 when a result arrived (out->status
 * says whether the job succeeded), or STT_EWORKER when the worker is gone or
 * sent something malformed (a media memfd that is not sealed or is shorter
 * than it says counts as malformed). */
int stt_worker_recv_result(int sock, void *buf, stt_worker_result *out);

#endif
