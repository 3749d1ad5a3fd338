/* sttbench_cpu: the parts of `sttbench cpu` (docs/CPU.md) and what they
 * share. sttbench_cpu.c parses the options and walks the grid;
 * sttbench_cpu_point.c measures one grid point; sttbench_cpu_shapes.c measures
 * pod shapes behind haproxy; sttbench_cpu_analysis.c turns the points into
 * series, scaling-law fits and a verdict; sttbench_cpu_output.c writes
 * cpu.json, the report, the charts and the summary; sttbench_cpu_compare.c is
 * --compare. One run per process from one thread: nothing here is
 * thread-safe. */
#ifndef STT_STTBENCH_CPU_H
#define STT_STTBENCH_CPU_H

#include <jansson.h>
#include <stddef.h>

#include "corpus.h"
#include "cpulimit.h"
#include "fit.h"
#include "proc.h"
#include "sysinfo.h"

#define CPU_MAXV 16    /* values of one option list; core counts of one series */
#define CPU_MAXPTS 512 /* grid points of one run */

/* The files of the single-request latencies; the short one also carries the
 * saturated load and the pod shapes' load. */
enum { CPU_ROLE_SHORT, CPU_ROLE_MEDIUM, CPU_ROLE_LONG, CPU_NROLES };

static inline const char *cpu_role_name(int role)
{
    static const char *const name[CPU_NROLES] = {"short", "medium", "long"};
    return name[role];
}

static inline const char *cpu_mode_name(int mode)
{
    return mode == STT_CPULIMIT_QUOTA ? "quota" : "cpuset";
}

/* The options; the strings point into argv. */
typedef struct cpu_config {
    const char *server_cmd, *corpus, *out;
    int cores[CPU_MAXV], ncores;
    int modes[2], nmodes; /* stt_cpulimit_mode values */
    int threads[CPU_MAXV], nthreads;
    int workers[CPU_MAXV], nworkers; /* 0: workers = cores */
    int quick, shapes, repeat;
    double duration;
    const char *cmp_a, *cmp_b;
    double price;
} cpu_config;

/* A corpus file read into memory; e is NULL for a role not measured. */
typedef struct cpu_file {
    const stt_corpus_entry *e;
    unsigned char *data; /* owned: free() */
    size_t len;
} cpu_file;

/* Single-request latency in seconds over n requests. */
typedef struct cpu_lat {
    int n;
    double med, min, max;
} cpu_lat;

/* One grid point: what was asked (mode, cores, threads, workers) and what was
 * measured. status is "ok", "failed" or "refused" (reason says why). */
typedef struct cpu_point {
    int mode, cores, threads, workers;
    const char *status;
    char reason[600];
    json_t *verification; /* owned */
    cpu_lat latency[CPU_NROLES];
    int have_thr;
    double thr, thr_rel_se, rps, p50, p95, thr_dur;
    long long completed, ok, errors;
    int stable, concurrency;
    double cpu_s, wall_s, util;
    long long peak_pss, peak_rss;
    int quota;
    stt_cpulimit_throttling th;
} cpu_point;

/* One saturated closed-loop load. */
typedef struct cpu_thr {
    double audio_s_per_s, rel_se, rps, p50, p95, elapsed;
    long long completed, ok, errors;
    int stable;
} cpu_thr;

/* One pod shape: replicas x cores_each pinned CPUs behind haproxy. */
typedef struct cpu_shape {
    int replicas, cores_each, concurrency;
    const char *status;
    char reason[600];
    double thr, p50, p95;
    long long errors, peak_pss;
} cpu_shape;

/* Per core count, in rising order: the best throughput x (its relative
 * standard error se, its threads) and the best long-file latency lat; the
 * thread count with the lowest long-file latency (0: none). */
typedef struct cpu_series {
    int n;
    double cores[CPU_MAXV], x[CPU_MAXV], se[CPU_MAXV], lat[CPU_MAXV], threads[CPU_MAXV];
    int opt_threads[CPU_MAXV];
    double opt_lat[CPU_MAXV];
} cpu_series;

typedef struct cpu_fits {
    stt_amdahl_fit am;
    stt_usl_fit usl;
    double s_lo, s_hi; /* interval used for projections */
    const char *interval_from;
} cpu_fits;

/* The scaling of one mode: speedups and efficiencies against the first core
 * count, fits of throughput and of 1 / long-file latency. */
typedef struct cpu_analysis {
    int mode;
    cpu_series sr;
    double speedup[CPU_MAXV], eff[CPU_MAXV], lspeed[CPU_MAXV], leff[CPU_MAXV];
    cpu_fits thr, lat;
    stt_scaling_class cls;
    double dim_measured;
    int dim_projected;
    int lat_ok;
} cpu_analysis;

/* Many weak cores or few strong ones, and why. */
typedef struct cpu_verdict {
    const char *answer;
    char reasons[4][600];
    int nreasons;
    char to_confirm[600];
} cpu_verdict;

/* Everything a finished run writes out; borrowed, nothing owned. */
typedef struct cpu_results {
    const cpu_config *c;
    const stt_sysinfo *si;
    const char *cgroup;    /* the cgroup version in use, "none" without */
    const cpu_file *files; /* [CPU_NROLES] */
    const int *roles;      /* the roles measured, nroles of them */
    int nroles;
    const cpu_point *pts;
    int npts;
    const cpu_analysis *an; /* the modes with a series */
    int nan_;
    const cpu_shape *sh;
    int nsh;
    const cpu_verdict *v;
    double t_start; /* bench_now_s() when the grid began */
} cpu_results;

/* A progress line: rewritten in place on stderr when it is a terminal,
 * otherwise one line on stdout. */
void cpu_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The median, min and max of n single requests of f to url, one at a time,
 * into *out. Returns 0, or a negative stt error code with detail in err (also
 * when fewer than n succeeded). */
int cpu_single_latency(const char *url, const cpu_file *f, int n, cpu_lat *out, char *err,
                       size_t errlen);

/* A closed loop of conc clients sending f to url for dur seconds (warm-up
 * excluded) into *t. Returns 0, or a negative stt error code with detail in
 * err. */
int cpu_saturate(const char *url, const cpu_file *f, int conc, double dur, cpu_thr *t, char *err,
                 size_t errlen);

/* Starts c->server_cmd under pt's restriction, proves it (pt->verification,
 * owned by pt), measures the latency of files[roles[0..nroles)] and the
 * saturated throughput with tfile, and stops the server. sttd: the server is
 * this build's sttd (its own usable-CPU count is checked too). Never fails:
 * pt->status and pt->reason say how it went. */
void cpu_run_point(const cpu_config *c, cpu_point *pt, const cpu_file *files, const int *roles,
                   int nroles, const cpu_file *tfile, int sttd);

/* Measures the pod shapes k x cores/k for k = 1, 2, 4, ... that divide cores,
 * at most max of them, each under the saturated load of tfile, into sh[].
 * Returns how many; 0 (said on stderr) when haproxy is not installed. */
int cpu_run_shapes(const cpu_config *c, int cores, const cpu_file *tfile, cpu_shape *sh, int max);

/* The analysis of the "ok" points of mode among pts[0..npts). a->sr.n is 0
 * when none has a throughput. */
void cpu_analyse(const cpu_point *pts, int npts, int mode, cpu_analysis *a);

/* The verdict from one mode's analysis on a machine of ncores_machine usable
 * cores. */
void cpu_decide(const cpu_analysis *a, int ncores_machine, cpu_verdict *v);

/* Writes c->out/cpu.json, cpu_scaling_report.md and the charts (gnuplot), and
 * prints the summary on stdout. Returns 0, or 1 when cpu.json or the report
 * could not be written (said on stderr for cpu.json). */
int cpu_write_outputs(const cpu_results *r);

/* --compare: reads c->cmp_a and c->cmp_b (cpu.json files), prints per-core
 * speed and cost per audio hour side by side and writes c->out/compare.json.
 * Returns the exit status: 0, or 1 when an input is unreadable or has no
 * series or compare.json cannot be written (said on stderr). */
int cpu_compare_main(const cpu_config *c);

#endif
