/* netns: hosts on this machine for the measurements of several servers at
 * once (`sttbench replicas`, `sttbench shapes`), and the registry that
 * removes whatever a run created.
 *
 * Host i is a network namespace joined to this machine by a veth pair:
 * 10.213.X.(4i+1)/30 on the machine's side, 10.213.X.(4i+2)/30 inside, X a
 * /24 that no interface here uses. A server in host i has its own network
 * stack and address, as a pod has. stt_netns_spawn() starts a process inside
 * a host (or on the machine itself), in its own process group, optionally
 * under a CPU limit (lib/lab/cpulimit.h) and in a memory cgroup
 * (lib/lab/memcg.h) that it joins before exec.
 *
 * The registry is process-wide, because a signal must find everything: one
 * run per process. Names are registered before the thing is created and pids
 * right after fork(), under one mutex held only for short operations (running
 * `ip`, stopping a process), so every exit path and SIGINT/SIGTERM/SIGHUP at
 * any moment (with stt_netns_guard_start()) remove the namespaces, links,
 * processes and the run's temporary folder. Thread-safe. Detail of a failure
 * goes into the caller's err; only the signal thread prints. Linux, root.
 */
#ifndef STT_NETNS_H
#define STT_NETNS_H

#include <stddef.h>
#include <sys/types.h>

#include "cpulimit.h"
#include "memcg.h"

#define STT_NETNS_MAX 16   /* hosts in one run */
#define STT_NETNS_PROCS 40 /* processes registered at once */
#define STT_NETNS_NET_A 10 /* host links: 10.213.X.(4i)/30 */
#define STT_NETNS_NET_B 213

/* One host. */
typedef struct stt_netns_host {
    int index;
    char ns[32];   /* its network namespace: "sttr-<pid>-<i>" */
    char addr[32]; /* its address, inside */
} stt_netns_host;

/* 0 when this process can make hosts (root, `ip` in PATH); else STT_ENOTFOUND
 * with the reason (a sentence) in why. Does not try to make one. */
int stt_netns_check(char *why, size_t len);

/* Whether prog is an executable file in PATH. */
int stt_netns_in_path(const char *prog);

/* Blocks SIGINT, SIGTERM, SIGHUP and SIGUSR1 in the calling thread (threads
 * it starts later inherit the mask: call it before starting any) and starts
 * the thread that takes them: on the first three it prints "<who>: <signal>:
 * removing ...", tears down (grace 2 s) and exits with 128 + signal. Returns
 * 0, or STT_EIO when that thread did not start (the mask is blocked anyway). */
int stt_netns_guard_start(const char *who);

/* Ends the signal thread (if it started) and restores the mask that
 * stt_netns_guard_start() found. Call after stt_netns_teardown(). */
void stt_netns_guard_stop(void);

/* Starts a run: its temporary folder (/tmp/sttr-<pid>-XXXXXX, for logs and
 * configuration) and a free 10.213.X.0/24. Returns 0, or STT_EIO with err. */
int stt_netns_open(char *err, size_t errlen);

/* The run's temporary folder, "" before stt_netns_open(). */
const char *stt_netns_tmpdir(void);

/* The run's network, "10.213.X.0/24" ("" before stt_netns_open()). */
const char *stt_netns_network(void);

/* Makes host i (call for i = 0, 1, ... in order) and fills *h. Returns 0;
 * STT_ENOTFOUND when the namespace itself cannot be made (a machine without
 * them: callers skip), STT_EIO with err for any other failure. */
int stt_netns_add(int i, stt_netns_host *h, char *err, size_t errlen);

typedef struct stt_netns_spawn_params {
    int host;                  /* index of a host made by stt_netns_add(), -1: this machine */
    char *const *argv;         /* argv[0] looked up in PATH; NULL-terminated */
    const stt_cpulimit *limit; /* borrowed; NULL: unrestricted */
    const stt_memcg *memcg;    /* borrowed; NULL: none */
    const char *log_path;      /* stdout and stderr; NULL: /dev/null */
} stt_netns_spawn_params;

/* Starts the process in its own process group and registers it. Returns 0
 * with *pid, or STT_EIO (fork failed, the run is being torn down, too many
 * processes) with err. A failure inside the child before exec (limit, cgroup,
 * exec itself) shows as its exit status 126 or 127. */
int stt_netns_spawn(const stt_netns_spawn_params *p, pid_t *pid, char *err, size_t errlen);

/* 1 while pid runs; 0 once it has exited (then it is reaped and unregistered,
 * *status gets its exit status or 128 + signal; status may be NULL). */
int stt_netns_alive(pid_t pid, int *status);

/* SIGTERM to pid, up to grace_s for it to exit, then SIGKILL to its process
 * group; reaps and unregisters it. Nothing for a pid not registered. */
void stt_netns_stop(pid_t pid, double grace_s);

/* CPU seconds used so far by the registered processes and their trees. */
double stt_netns_cpu_s(void);

/* Removes everything registered: the processes (SIGTERM, up to grace_s each,
 * then SIGKILL to their groups), whatever is left in the namespaces, the links
 * and namespaces, the temporary folder. Idempotent; nothing can be created
 * afterwards in this process. */
void stt_netns_teardown(double grace_s);

/* Runs argv (argv[0] looked up in PATH) with the signal mask cleared and
 * waits. Its stdout and stderr, trailing newlines and spaces trimmed, go into
 * out (may be NULL). Returns the exit status, or STT_EIO when it could not run. */
int stt_netns_run(char *const argv[], char *out, size_t outlen);

/* The last non-empty line of a text file (a server's log) into out; "" when
 * none. For error messages. */
void stt_netns_log_tail(const char *path, char *out, size_t len);

#endif
