/* proc: what /proc says about a process and its descendants.
 *
 * The one reader of /proc/PID/{stat,status,smaps_rollup,task/.../children}
 * for the laboratory: process trees, CPU time and memory. stt_proc_mem_tree()
 * sums RSS and PSS (from smaps_rollup) over a process and all its descendants;
 * PSS divides shared pages among their sharers, so forked workers sharing a
 * model copy-on-write are not counted many times over. A stt_memsampler
 * samples that sum from its own thread and keeps the peak.
 * Linux only. All functions are thread-safe; one sampler is used by the
 * thread that started it.
 */
#ifndef STT_PROC_H
#define STT_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The most processes one tree walk returns. */
#define STT_PROC_TREE_MAX 1024

/* *ppid = the parent of pid. Returns 0, or STT_ENOTFOUND when pid does not
 * exist. */
int stt_proc_parent(pid_t pid, pid_t *ppid);

/* root followed by all its descendants (by parent links, breadth first) into
 * out[0..max); returns how many (0 when root does not exist). */
int stt_proc_tree(pid_t root, pid_t *out, int max);

/* The descendants of pid that have no children of their own, up to max, into
 * out (for sttd: its decoder workers; the process that forks them is left
 * out). Returns how many; 0 when pid does not exist. */
int stt_proc_leaves(pid_t pid, pid_t *out, int max);

/* *s = user + system CPU seconds pid has used so far. 0 or STT_ENOTFOUND. */
int stt_proc_cpu_s(pid_t pid, double *s);

/* utime + stime of root and its descendants alive now, in seconds (children
 * already reaped by them are included through cutime/cstime); 0 when root
 * does not exist. */
double stt_proc_tree_cpu_s(pid_t root);

/* CPU seconds the whole machine has spent busy (user, nice, system, irq,
 * softirq) and those the hypervisor stole, from /proc/stat's "cpu" line.
 * Returns 0 or STT_EIO. */
int stt_proc_machine_cpu(double *busy_s, double *steal_s);

typedef struct stt_memusage {
    long long rss; /* bytes, summed over the tree */
    long long pss; /* bytes, summed over the tree (RSS where smaps_rollup is unreadable) */
    int processes; /* processes counted */
} stt_memusage;

/* One reading of pid and all its descendants. Returns 0, or STT_ENOTFOUND when
 * pid does not exist. */
int stt_proc_mem_tree(pid_t pid, stt_memusage *out, char *err, size_t errlen);

typedef struct stt_memsampler stt_memsampler;

/* Starts a thread that reads stt_proc_mem_tree(pid) every interval_ms (>= 1)
 * and keeps the peaks. Returns NULL (with err) on failure. */
stt_memsampler *stt_memsampler_start(pid_t pid, int interval_ms, char *err, size_t errlen);

/* Stops and frees the sampler; *peak (may be NULL) gets the largest RSS and
 * PSS seen (each its own maximum), *samples (may be NULL) the number of readings. */
void stt_memsampler_stop(stt_memsampler *s, stt_memusage *peak, int *samples);

#endif
