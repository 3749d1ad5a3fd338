/* worker: the processes that hold the model and decode pieces of audio.
 *
 * stt_zygote_start() forks a "zygote" process before the caller starts any
 * thread. The zygote loads one engine per requested profile, then forks a
 * worker whenever asked: every worker shares the loaded model copy-on-write,
 * so an additional worker costs only its decoder's search state. A worker that
 * dies (killed, crashed by an engine bug) takes nothing else with it; the pool
 * asks the zygote for a replacement.
 *
 * Audio crosses to a worker without being copied again: the caller puts a
 * request's samples in a memfd once; each job passes that descriptor (SCM_RIGHTS)
 * with the piece's offset and length, and the worker maps just that range.
 * Results come back as a serialized transcript (times relative to the piece).
 *
 * Messages use SOCK_SEQPACKET sockets, so each message arrives whole or not at
 * all. The zygote and workers get SIGKILL when their parent dies.
 * Thread safety: a stt_zygote handle is used by one thread at a time.
 */
#ifndef STT_WORKER_H
#define STT_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "transcript.h"

typedef struct stt_zygote stt_zygote;

/* Forks the zygote, which loads the profiles in profile_mask (bit i = stt_profile_names[i]).
 * Blocks until they are loaded; NULL with err set if loading failed. */
stt_zygote *stt_zygote_start(const stt_engine_ops *ops, const char *model_dir,
                             unsigned profile_mask, char *err, size_t errlen);

/* The descriptor to poll for spawn replies. */
int stt_zygote_fd(const stt_zygote *z);

/* Asks for one more worker; the reply arrives on stt_zygote_fd(). */
int stt_zygote_request_spawn(stt_zygote *z);

/* Reads one spawn reply: on success *sock is the caller's end of the new
 * worker's socket and *pid its process id. */
int stt_zygote_recv_spawned(stt_zygote *z, int *sock, pid_t *pid, char *err, size_t errlen);

/* Closes the zygote's socket (it exits, and its workers with it) and reaps it. */
void stt_zygote_stop(stt_zygote *z);

/* Sends one job: decode samples [offset, offset+n) of the int16 memfd with profile. */
int stt_worker_send_job(int sock, uint64_t job_id, int profile, int memfd, size_t offset, size_t n);

/* The largest message a worker sends. */
#define STT_WORKER_MSG_MAX (1 << 20)

/* Receives one result into buf, the caller's scratch space of at least
 * STT_WORKER_MSG_MAX bytes (reused from call to call: results arrive on the
 * dispatcher's hot path). Returns 0 with *out set (caller frees), a negative
 * code with err set when the worker reported a failure (*job_id still valid),
 * or STT_EWORKER when the worker is gone or sent garbage. */
int stt_worker_recv_result(int sock, void *buf, uint64_t *job_id, stt_transcript **out, char *err,
                           size_t errlen);

#endif
