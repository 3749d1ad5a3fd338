/* sysinfo: the machine a result was measured on.
 *
 * Every results file names its machine (lib/lab/results.h writes it); this is
 * where its fields are read. Linux only. Thread-safe.
 */
#ifndef STT_SYSINFO_H
#define STT_SYSINFO_H

typedef struct stt_sysinfo {
    char cpu_model[256]; /* /proc/cpuinfo "model name", or "unknown" */
    int logical_cores;   /* online logical CPUs */
    int cpus_allowed;    /* CPUs in this process's affinity mask */
    int cpus_usable;     /* affinity intersected with the cgroup quota (lib/base/cpus.h) */
    double cpu_quota;    /* the cgroup CPU quota in CPUs, 0 for none */
    long long mem_total; /* bytes of RAM */
    char kernel[256];    /* "Linux 6.1.0-18-amd64 x86_64" */
    char hostname[128];
} stt_sysinfo;

/* Fills *out. Never fails: unknown fields say "unknown" or 0. */
void stt_sysinfo_get(stt_sysinfo *out);

#endif
