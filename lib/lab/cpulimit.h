/* cpulimit: restricting a child process (and everything it forks) to a number
 * of CPUs, and proving afterwards that the restriction took effect.
 *
 * Three mechanisms:
 *  - STT_CPULIMIT_CPUSET: sched_setaffinity() in the child before exec, to the
 *    CPUs first_cpu .. first_cpu+cpus-1 of those this process may use
 *    (lib/base/cpus.h); threads and forked children inherit it.
 *  - STT_CPULIMIT_QUOTA: a fresh CFS-bandwidth cgroup (v1 cpu controller at
 *    /sys/fs/cgroup/cpu, or v2 cpu.max) with quota = cpus x period; the child
 *    joins it before exec, so everything it forks is in it too.
 *  - STT_CPULIMIT_CORES: `cpus` cores each running at `speed` of a CPU, to
 *    emulate many weak cores on a few strong ones. The tree is pinned to the
 *    CPUs as for cpuset and, when speed < 1, put in a cgroup whose quota is
 *    cpus x speed x period (the total capacity); then each worker process,
 *    handed over by stt_cpulimit_pin_workers(), is pinned to a core of its
 *    own and given its own cgroup with quota speed x period, so that one
 *    worker runs at most at `speed` of one CPU. A short period (10 ms) keeps
 *    the throttling granularity small against a request.
 *
 * Usage: stt_cpulimit_create() in the parent, fork(), in the child
 * stt_cpulimit_apply_child() then exec; for cores, stt_cpulimit_pin_workers()
 * once the workers exist; later stt_cpulimit_verify() on the child's pid,
 * stt_cpulimit_throttling_read() for quota statistics, and
 * stt_cpulimit_free() after the child and its descendants have exited (it
 * removes the cgroups). Linux only. A limit is used by one thread at a time;
 * stt_cpulimit_apply_child() is async-signal-safe.
 */
#ifndef STT_CPULIMIT_H
#define STT_CPULIMIT_H

#include <stddef.h>
#include <sys/types.h>

typedef enum { STT_CPULIMIT_CPUSET, STT_CPULIMIT_QUOTA, STT_CPULIMIT_CORES } stt_cpulimit_mode;

/* "cpuset", "quota", "cores". */
const char *stt_cpulimit_mode_name(stt_cpulimit_mode m);

typedef struct stt_cpulimit stt_cpulimit;

typedef struct stt_cpulimit_params {
    stt_cpulimit_mode mode;
    double cpus;      /* CPUs to grant, > 0; cpuset and cores need a whole number */
    int first_cpu;    /* cpuset, cores: index among this process's allowed CPUs (0) */
    double speed;     /* cores: each core's share of one CPU, (0, 1] (1) */
    long period_us;   /* quota, cores: CFS period (100000) */
    const char *name; /* quota, cores: cgroup name; default "sttbench-<pid>-<n>" */
} stt_cpulimit_params;

stt_cpulimit_params stt_cpulimit_default_params(void);

/* "v1", "v2" or "none": which cgroup CPU controller this process can write;
 * with "none", why goes into err. */
const char *stt_cpulimit_cgroup_version(char *err, size_t errlen);

/* Creates the limit (for quota: the cgroup, with its quota written). Returns
 * NULL with err: too many CPUs, no writable cgroup, ... */
stt_cpulimit *stt_cpulimit_create(const stt_cpulimit_params *p, char *err, size_t errlen);

/* To be called in the child after fork(), before exec. Returns 0 or STT_EIO
 * (errno says why). */
int stt_cpulimit_apply_child(const stt_cpulimit *l);

/* Moves a running process into the limit (same effect, from outside; its
 * existing threads are covered too for quota, only the main thread for cpuset).
 * Returns 0 or STT_EIO. */
int stt_cpulimit_apply_pid(const stt_cpulimit *l, pid_t pid, char *err, size_t errlen);

stt_cpulimit_mode stt_cpulimit_mode_of(const stt_cpulimit *l);
double stt_cpulimit_cpus(const stt_cpulimit *l);
double stt_cpulimit_speed(const stt_cpulimit *l);
long stt_cpulimit_period_us(const stt_cpulimit *l);
/* cpuset, cores: the granted CPUs as a kernel list ("0", "2-3"); quota: "". */
const char *stt_cpulimit_cpu_list(const stt_cpulimit *l);
/* quota, cores below full speed: the (tree's) cgroup directory and
 * "v1"/"v2"; otherwise "" and "". */
const char *stt_cpulimit_cgroup_path(const stt_cpulimit *l);
const char *stt_cpulimit_cgroup_kind(const stt_cpulimit *l);

#define STT_CPULIMIT_MAX_CORES 256

/* cores: pins pids[i] (every thread of it) to the i-th granted CPU and, below
 * full speed, moves it into a cgroup of its own with quota speed x period.
 * n <= cpus. Call once, after the workers exist and before measuring.
 * Returns 0, STT_EINVAL (not a cores limit, n too large) or STT_EIO with err. */
int stt_cpulimit_pin_workers(stt_cpulimit *l, const pid_t *pids, int n, char *err, size_t errlen);

#define STT_CPULIMIT_MAX_PROCS 256

/* What one process looks like from outside. */
typedef struct stt_cpulimit_proc {
    pid_t pid;
    char comm[32];
    char cpus_allowed_list[128]; /* /proc/PID/status Cpus_allowed_list */
    int cgroup_member;           /* quota, cores < 1: in its cgroup (1/0); else -1 */
    int core;                    /* cores: the core a pinned worker owns, -1 otherwise */
} stt_cpulimit_proc;

/* cores: one pinned worker's restriction as read back. */
typedef struct stt_cpulimit_core {
    pid_t pid;
    int cpu;                  /* the CPU it is pinned to */
    long quota_us, period_us; /* its own cgroup; -1 at full speed */
} stt_cpulimit_core;

typedef struct stt_cpulimit_evidence {
    int ok; /* every process of the tree is restricted as asked */
    int nprocs;
    stt_cpulimit_proc procs[STT_CPULIMIT_MAX_PROCS];
    long quota_us, period_us; /* read back from the (tree's) cgroup; -1 for none */
    int ncores;               /* cores: the pinned workers */
    stt_cpulimit_core cores[STT_CPULIMIT_MAX_CORES];
    char reason[512]; /* first failed check, "" when ok */
} stt_cpulimit_evidence;

/* Reads back the restriction of root and all its descendants (threads are
 * not listed; they share the process's cgroup, and affinity is checked on the
 * process's main thread). For cores: every pinned worker on its own CPU and
 * in its own cgroup with its quota, every other process on the granted CPUs
 * (and in the tree's cgroup), the quotas read back. Returns 0 (then see
 * ev->ok) or STT_ENOTFOUND when root does not exist. */
int stt_cpulimit_verify(const stt_cpulimit *l, pid_t root, stt_cpulimit_evidence *ev, char *err,
                        size_t errlen);

typedef struct stt_cpulimit_throttling {
    long long nr_periods, nr_throttled;
    double throttled_s;
} stt_cpulimit_throttling;

/* quota: reads cpu.stat; cores below full speed: the sum over the pinned
 * workers' own cgroups (the per-core bandwidth). Returns 0, or STT_EINVAL for
 * a limit without a cgroup, STT_EIO. */
int stt_cpulimit_throttling_read(const stt_cpulimit *l, stt_cpulimit_throttling *out, char *err,
                                 size_t errlen);

/* Removes the cgroups (waits up to 2 s for each to empty) and frees. NULL is a no-op. */
void stt_cpulimit_free(stt_cpulimit *l);

#endif
