/* memcg: a memory cgroup around a server, and what the kernel charged to it.
 *
 * A Kubernetes memory limit is enforced against the pod's memory cgroup: its
 * charge is anonymous memory plus the page cache and kernel memory charged to
 * it, which is neither RSS nor PSS. A stt_memcg is a fresh cgroup under this
 * process's own (v2: with the memory controller enabled for it; v1: in the
 * memory hierarchy); a child joins it after fork() and before exec
 * (stt_memcg_apply_child()), so everything it forks is charged there too.
 *
 * The peak is the kernel's own: v2 memory.peak (Linux 5.19 and later) or v1
 * memory.max_usage_in_bytes; a stt_memcg_sampler also samples memory.current
 * (v1 memory.usage_in_bytes), for the peak of one phase of a run.
 *
 * Page cache is charged to the cgroup that first reads a page: files another
 * cgroup already has in the cache (the model files, read by an earlier
 * server) are not charged here, while a fresh pod reading them is charged for
 * them. stt_memcg_stat_read() tells anonymous from file memory for that
 * reason. On cgroup v2 a process is in one cgroup for every controller: do
 * not also put the child under a quota stt_cpulimit (affinity is fine).
 *
 * Linux, root. A stt_memcg is used by one thread at a time (a sampler reads
 * it from its own thread); stt_memcg_apply_child() is async-signal-safe.
 */
#ifndef STT_MEMCG_H
#define STT_MEMCG_H

#include <stddef.h>

typedef struct stt_memcg stt_memcg;

/* "v2", "v1" or "none": which memory controller this process can use; with
 * "none", why goes into err. */
const char *stt_memcg_version(char *err, size_t errlen);

/* Creates the cgroup (name NULL: "sttbench-<pid>-mem-<n>"). NULL with err: no
 * writable memory controller, mkdir failed, ... */
stt_memcg *stt_memcg_create(const char *name, char *err, size_t errlen);

/* In the child after fork(), before exec: moves the calling process into the
 * cgroup. Returns 0 or STT_EIO (errno says why). */
int stt_memcg_apply_child(const stt_memcg *m);

/* The cgroup directory, and "v1" / "v2". */
const char *stt_memcg_path(const stt_memcg *m);
const char *stt_memcg_kind(const stt_memcg *m);

/* Bytes charged now, or STT_EIO. */
long long stt_memcg_current(const stt_memcg *m);

/* The most bytes charged since the cgroup was made, or STT_ENOTFOUND when the
 * kernel keeps no peak (v2 before Linux 5.19: sample instead), STT_EIO. */
long long stt_memcg_peak(const stt_memcg *m);

/* What the charge is made of now, in bytes (-1 when the kernel does not say). */
typedef struct stt_memcg_stat {
    long long anon; /* v2 "anon"; v1 "rss" + "rss_huge" */
    long long file; /* v2 "file"; v1 "cache" */
} stt_memcg_stat;

/* Returns 0 or STT_EIO. */
int stt_memcg_stat_read(const stt_memcg *m, stt_memcg_stat *out);

/* A thread reading stt_memcg_current() every interval_ms (>= 1). */
typedef struct stt_memcg_sampler stt_memcg_sampler;

/* NULL with err when the thread cannot start. m must outlive the sampler. */
stt_memcg_sampler *stt_memcg_sampler_start(const stt_memcg *m, int interval_ms, char *err,
                                           size_t errlen);

/* The largest sample since the previous call (or the start), and starts a new
 * phase; -1 when no sample was read. Thread-safe against the sampler. */
long long stt_memcg_sampler_take(stt_memcg_sampler *s);

/* Stops and frees the sampler; *max (may be NULL) gets the largest sample of
 * the whole run (-1 when none), *samples (may be NULL) how many were read. */
void stt_memcg_sampler_stop(stt_memcg_sampler *s, long long *max, int *samples);

/* Removes the cgroup (waits up to 2 s for its processes to be gone) and
 * frees. NULL is a no-op. */
void stt_memcg_free(stt_memcg *m);

#endif
