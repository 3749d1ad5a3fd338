/* worker: a decoder process, and the messages between it and the pool.
 *
 * Audio crosses to a worker without being copied again: the caller puts a
 * request's samples in a memfd once; each job passes that descriptor (SCM_RIGHTS)
 * with the piece's offset and length, and the worker maps just that range.
 * Results come back as a serialized transcript (times relative to the piece).
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

/* The worker process's body: decodes jobs from sock with engines[profile]
 * until the socket closes, then _exit(0). Never returns. */
void stt_worker_main(int sock, stt_engine *const *engines) __attribute__((noreturn));

/* Sends one job: decode samples [offset, offset+n) of the int16 memfd with
 * profile. Returns 0 or STT_EIO (the worker is gone). */
int stt_worker_send_job(int sock, uint64_t job_id, int profile, int memfd, size_t offset, size_t n);

/* Receives one result into buf, the caller's scratch space of at least
 * STT_WORKER_MSG_MAX bytes (reused from call to call: results arrive on the
 * dispatcher's hot path). Returns 0 with *out set (caller frees), a negative
 * code with err set when the worker reported a failure (*job_id still valid),
 * or STT_EWORKER when the worker is gone or sent garbage. */
int stt_worker_recv_result(int sock, void *buf, uint64_t *job_id, stt_transcript **out, char *err,
                           size_t errlen);

#endif
