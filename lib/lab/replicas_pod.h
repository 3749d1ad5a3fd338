/* replicas_pod: one pod of the measurements of several servers: sttd in a
 * host (lib/lab/netns.h) on CPUs of its own, optionally charged to a memory
 * cgroup of its own (lib/lab/memcg.h), as a Kubernetes pod has both.
 * `sttbench replicas` and `sttbench shapes` run k of them behind haproxy.
 *
 * The pod's CPUs are [first_cpu, first_cpu + cores) among those this process
 * may use, set by affinity before exec (lib/lab/cpulimit.h) and verified on
 * the running tree once /ready answers 200. One stt_pod is used by one thread.
 */
#ifndef STT_REPLICAS_POD_H
#define STT_REPLICAS_POD_H

#include <stddef.h>
#include <sys/types.h>

#include "memcg.h"

#define STT_POD_PORT 8080 /* every pod listens on its own address, same port */

typedef struct stt_pod_params {
    int host;               /* a host made by stt_netns_add() */
    const char *addr;       /* that host's address (borrowed) */
    const char *sttd;       /* the server binary */
    int cores, first_cpu;   /* its CPUs, as above (1, 0) */
    int workers, threads;   /* sttd --workers, --threads (1, 1) */
    int queue;              /* sttd --queue; < 0: sttd's own default (-1) */
    const char *profiles;   /* sttd --profiles; NULL: sttd's default (all) */
    double max_upload_mb;   /* sttd --max-upload-mb; 0: its default */
    double max_duration_s;  /* sttd --max-duration-s; 0: its default */
    int memcg;              /* 1: in a memory cgroup of its own (0) */
    double ready_timeout_s; /* 120 */
    const char *name;       /* names its log, "<name>.log" in the run's folder ("pod") */
} stt_pod_params;

stt_pod_params stt_pod_default_params(void);

typedef struct stt_pod stt_pod;

/* Starts sttd in the host and waits until GET /ready answers 200, then
 * verifies the CPU restriction of the whole tree. NULL with err (the log's
 * last line when sttd exited, the failed check when it is not restricted). */
stt_pod *stt_pod_start(const stt_pod_params *p, char *err, size_t errlen);

const char *stt_pod_url(const stt_pod *pod);  /* "http://ADDR:8080" */
const char *stt_pod_cpus(const stt_pod *pod); /* "0-1" */
pid_t stt_pod_pid(const stt_pod *pod);
/* Its memory cgroup, NULL when it has none. */
const stt_memcg *stt_pod_memcg(const stt_pod *pod);
/* The command line run inside the host. */
const char *stt_pod_command(const stt_pod *pod);

/* Stops sttd (SIGTERM, grace_s, then SIGKILL to its group), removes its
 * cgroup and frees. NULL is a no-op. */
void stt_pod_stop(stt_pod *pod, double grace_s);

#endif
