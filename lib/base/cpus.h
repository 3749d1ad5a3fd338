/* cpus: which CPUs, and how much CPU time, this process may really use.
 *
 * One home for the rule both products need: sttd sizes its pool with it, and
 * sttbench decides where to pin servers and generators with it. Usable CPUs
 * are the affinity mask intersected with the cgroup CPU quota (cgroup v2
 * cpu.max or v1 cfs_quota_us / cfs_period_us, at any level up to the root),
 * rounded up. Linux only. Thread-safe; nothing is cached.
 */
#ifndef STT_CPUS_H
#define STT_CPUS_H

#include <stddef.h>

/* The CPU numbers of this process's affinity mask, ascending, up to max.
 * Returns how many (>= 1), or STT_EIO when the mask cannot be read. */
int stt_cpus_allowed(int *cpu, int max);

/* The tightest cgroup CPU quota over this process's cgroup and its ancestors,
 * in CPUs (fractional, e.g. 1.5), or 0 when there is none. */
double stt_cpus_quota(void);

/* min(affinity count, ceil(quota)), and at least 1. */
int stt_usable_cpus(void);

/* Writes cpu[0..n) as a kernel CPU list ("0-3,6") into out (NUL-terminated,
 * truncated at len). cpu must be ascending. */
void stt_cpus_format(const int *cpu, int n, char *out, size_t len);

/* Parses a kernel CPU list ("0-3,6", an optional trailing newline) into
 * cpu[0..max). Returns how many, or STT_EINVAL (bad syntax, a range backwards,
 * a number over 65535, more than max CPUs). */
int stt_cpus_parse(const char *s, int *cpu, int max);

#endif
