/* sysinfo: what machine a result was measured on, and how much memory a
 * process tree uses.
 *
 * stt_sysinfo_get() describes the machine for results files. stt_mem_tree()
 * sums RSS and PSS (from /proc/PID/smaps_rollup) over a process and all its
 * descendants; PSS divides shared pages among their sharers, so forked
 * workers sharing a model copy-on-write are not counted many times over.
 * A stt_memsampler samples that sum from its own thread and keeps the peak.
 * Linux only. All functions are thread-safe; one sampler is used by one
 * thread (the one that started it).
 */
#ifndef STT_SYSINFO_H
#define STT_SYSINFO_H

#include <stddef.h>
#include <sys/types.h>

typedef struct stt_sysinfo {
    char cpu_model[256]; /* /proc/cpuinfo "model name", or "unknown" */
    int logical_cores;   /* online logical CPUs */
    int cpus_allowed;    /* CPUs this process may run on (cgroup/affinity) */
    long long mem_total; /* bytes of RAM */
    char kernel[256];    /* "Linux 6.1.0-18-amd64 x86_64" */
    char hostname[128];
    char commit[64]; /* git commit of source_dir, "+dirty" when modified; or "unknown" */
} stt_sysinfo;

/* Fills *out; source_dir (may be NULL: no commit) is the git work tree.
 * Never fails: unknown fields say "unknown" or 0. */
void stt_sysinfo_get(stt_sysinfo *out, const char *source_dir);

typedef struct stt_memusage {
    long long rss; /* bytes, summed over the tree */
    long long pss; /* bytes, summed over the tree (RSS where smaps_rollup is unreadable) */
    int processes; /* processes counted */
} stt_memusage;

/* One reading of pid and all its descendants. Returns 0, or STT_ENOTFOUND when
 * pid does not exist. */
int stt_mem_tree(pid_t pid, stt_memusage *out, char *err, size_t errlen);

/* The parent of process pid (from /proc), or -1 when pid does not exist. */
pid_t stt_proc_parent(pid_t pid);

/* The descendants of pid that have no children of their own, up to max, into
 * out (for sttd: its decoder workers; the process that forks them is left
 * out). Returns how many; 0 when pid does not exist. */
int stt_proc_leaves(pid_t pid, pid_t *out, int max);

/* User + system CPU seconds pid has used so far, or -1 when it does not exist. */
double stt_proc_cpu_s(pid_t pid);

typedef struct stt_memsampler stt_memsampler;

/* Starts a thread that reads stt_mem_tree(pid) every interval_ms (>= 1) and
 * keeps the peaks. Returns NULL (with err) on failure. */
stt_memsampler *stt_memsampler_start(pid_t pid, int interval_ms, char *err, size_t errlen);

/* Stops and frees the sampler; *peak (may be NULL) gets the largest RSS and
 * PSS seen (each its own maximum), *samples (may be NULL) the number of readings. */
void stt_memsampler_stop(stt_memsampler *s, stt_memusage *peak, int *samples);

#endif
