/* child: what every process forked by the service (the zygote and its
 * decoder workers) does on the way in and on the way out.
 *
 * On the way in, stt_child_setup() makes the child deaf to the signals that
 * stop the service (SIGINT, SIGTERM, SIGQUIT, SIGHUP: ignored, and the child
 * leaves sttd's process group), so that Ctrl-C, `timeout`, `kill -TERM -PGID`,
 * systemd's control-group SIGTERM or `tini -g` reach only sttd, which then
 * drains and stops its children itself; it unblocks every other signal (sttd
 * blocks the stop signals before it forks) and asks for SIGKILL when its
 * parent dies, so nothing outlives the service.
 *
 * On the way out, stt_child_exit() ends the process with _exit() (no atexit
 * handlers or stdio buffers inherited from the parent run twice). In coverage
 * builds (STT_COVERAGE) it first writes the gcov counters, which _exit()
 * would lose, so code that only runs in workers is counted.
 * Both are async-signal-safe except for the gcov flush of coverage builds.
 */
#ifndef STT_CHILD_H
#define STT_CHILD_H

#include <sys/types.h>

/* Call first thing after fork() in the child. parent is the pid that forked
 * it (read before fork()); a child whose parent is already gone exits. */
void stt_child_setup(pid_t parent);

void stt_child_exit(int status) __attribute__((noreturn));

#endif
