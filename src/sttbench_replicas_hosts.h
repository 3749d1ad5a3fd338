/* sttbench_replicas_hosts: the hosts of `sttbench replicas`. Replica i is sttd
 * in its own network namespace, joined to the host by a veth link, on its own
 * CPUs; haproxy on the host stands in front of replicas 0..k-1.
 *
 * A registry records everything a run creates (temporary folder, namespaces,
 * links, processes) so that every exit path, and SIGINT/SIGTERM/SIGHUP at any
 * moment, removes it: a name is registered before the thing is created and a
 * pid right after fork(), under one mutex that is held only for short
 * operations (running `ip`, stopping a process). One run per process; the
 * functions may be called from any thread. Detail of a failure goes into the
 * caller's err buffer; only the signal thread prints. */
#ifndef STT_STTBENCH_REPLICAS_HOSTS_H
#define STT_STTBENCH_REPLICAS_HOSTS_H

#include <stddef.h>

#include "cpulimit.h"

#define HOSTS_MAX 16         /* replicas at most */
#define HOSTS_STTD_PORT 8080 /* every replica listens on its own address, same port */
#define HOSTS_NET_A 10       /* replica links: 10.213.X.(4i)/30, X chosen free */
#define HOSTS_NET_B 213
#define HOSTS_REQ_TIMEOUT_S 120 /* a request's limit, haproxy's timeouts too */

typedef struct hosts_replica {
    char ns[32];         /* its network namespace */
    char addr[32];       /* its address */
    char url[96];        /* http://addr:port, once started */
    char cpus[64];       /* its CPUs, "0-1" style */
    stt_cpulimit *limit; /* owned: stt_cpulimit_free() when done */
    int verified;        /* sttd was seen restricted to cpus */
} hosts_replica;

/* Blocks SIGINT, SIGTERM, SIGHUP and SIGUSR1 in the calling thread (threads it
 * starts later inherit the mask; call it before starting any) and starts the
 * thread that takes them: on the first three it tears down (grace 2 s) and
 * exits with 128 + signal. Returns 0, or -1 when that thread did not start
 * (the mask is blocked all the same). */
int hosts_guard_start(void);

/* Ends the signal thread (if it started) and restores the mask that
 * hosts_guard_start() found. Call after hosts_teardown(). */
void hosts_guard_stop(void);

/* Creates the run's temporary folder (/tmp/sttr-<pid>-XXXXXX) for logs and
 * haproxy's configuration. Returns 0, or -1 with "mkdtemp: reason" in err. */
int hosts_open(char *err, size_t errlen);

/* Removes everything registered: SIGTERM to haproxy and every replica, up to
 * grace_s each, then SIGKILL to their process groups; whatever is left in the
 * namespaces; the links and namespaces; the temporary folder. Idempotent. */
void hosts_teardown(double grace_s);

/* The third octet X of a 10.213.X.0/24 that no interface here uses; -1 if
 * none. */
int hosts_free_subnet(void);

/* Namespace i (call for i = 0, 1, ... in order), its veth pair and addresses
 * in 10.213.subnet.(4i)/30; fills r->ns and r->addr. Returns 0; -1 with err;
 * -2 when the namespace itself cannot be made (the run is then skipped). */
int hosts_net_up(int i, int subnet, hosts_replica *r, char *err, size_t errlen);

/* Starts `sttd --workers workers --threads 1 --profiles profile` for replica
 * i inside its namespace on CPUs [i*cores, (i+1)*cores) of those this process
 * may use, waits (up to 120 s) until /ready answers 200 and verifies the CPU
 * restriction. Fills r->limit, r->cpus, r->url, r->verified. Returns 0 or -1
 * with err. */
int hosts_replica_start(int i, const char *sttd, const char *profile, int cores, int workers,
                        hosts_replica *r, char *err, size_t errlen);

/* Starts haproxy in front of replicas rs[0..k) (leastconn, maxconn workers
 * per server: one central FIFO queue) on CPUs spare[0..nspare) (no pinning
 * when nspare is 0) and waits (up to 15 s) until it answers. Returns its port
 * on 127.0.0.1, or -1 with err. */
int hosts_haproxy_start(int k, const hosts_replica *rs, int workers, const int *spare, int nspare,
                        char *err, size_t errlen);

/* Stops haproxy (grace 5 s); nothing when none runs. */
void hosts_haproxy_stop(void);

/* CPU seconds used so far by the registered processes and their trees (the
 * replicas' sttd, haproxy). */
double hosts_cpu_s(void);

/* Runs argv (argv[0] looked up in PATH) with the signal mask cleared and
 * waits. Its stdout and stderr, trailing newlines and spaces trimmed, go into
 * out (may be NULL). Returns the exit status, or -1 when it could not run. */
int hosts_run_cmd(char *const argv[], char *out, size_t outlen);

#endif
