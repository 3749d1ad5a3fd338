/* zygote: the process that holds the loaded model and forks decoders.
 *
 * stt_zygote_start() forks a "zygote" process before the caller starts any
 * thread. The zygote loads one engine per requested profile, then forks a
 * worker (lib/svc/worker.h) whenever asked: every worker shares the loaded
 * model copy-on-write, so an additional worker costs only its decoder's search
 * state. A worker that dies (killed, crashed by an engine bug) takes nothing
 * else with it; the pool asks the zygote for a replacement.
 *
 * The zygote and workers set themselves up with lib/svc/child.h: they ignore
 * the stop signals, sit outside sttd's process group and get SIGKILL when
 * their parent dies; the pool stops them by closing their sockets.
 * Thread safety: a stt_zygote handle is used by one thread at a time;
 * stt_zygote_start() must be called from the thread that will outlive the
 * zygote (PR_SET_PDEATHSIG watches the forking thread), before other threads.
 */
#ifndef STT_ZYGOTE_H
#define STT_ZYGOTE_H

#include <stddef.h>
#include <sys/types.h>

#include "engine.h"

typedef struct stt_zygote stt_zygote;

/* Forks the zygote, which loads the profiles in profile_mask (bit i = stt_profile_names[i]).
 * Blocks until they are loaded; NULL with err set if loading failed. */
stt_zygote *stt_zygote_start(const stt_engine_ops *ops, const char *model_dir,
                             unsigned profile_mask, char *err, size_t errlen);

/* The descriptor to poll for spawn replies. */
int stt_zygote_fd(const stt_zygote *z);

/* Asks for one more worker; the reply arrives on stt_zygote_fd(). Returns 0 or
 * STT_EIO (the zygote is gone). */
int stt_zygote_request_spawn(stt_zygote *z);

/* Reads one spawn reply: on success *sock is the caller's end of the new
 * worker's socket and *pid its process id. STT_EWORKER when the zygote is
 * gone, or the zygote's own error (a failed fork). */
int stt_zygote_recv_spawned(stt_zygote *z, int *sock, pid_t *pid, char *err, size_t errlen);

/* Closes the zygote's socket and reaps it: it exits once its workers have
 * (close their sockets first), at most 5 s later, else it is killed. */
void stt_zygote_stop(stt_zygote *z);

#endif
