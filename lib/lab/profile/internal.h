/* internal: what the profile's files share; not part of the public API.
 *
 * plan.c holds the params and the plan; run.c starts, proves and stops the
 * servers and walks the interleaved rounds; measure.c holds the
 * measurements (the timed closed loop, single requests, Poisson arrivals,
 * the thread probes); analyse.c turns the rounds into the scaling, capacity
 * and thread analyses and the verdict; output.c writes cpu.json; text.c the
 * report, the charts and the summary; compare.c is --compare.
 */
#ifndef STT_PROFILE_INTERNAL_H
#define STT_PROFILE_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "capacity.h"
#include "client.h"
#include "corpus.h"
#include "cpulimit.h"
#include "proc.h"
#include "profile.h"
#include "scaling.h"
#include "sut.h"
#include "sysinfo.h"

#define PF_R STT_PROFILE_MAX_ROUNDS
#define PF_NC STT_PROFILE_MAX_CONFIGS
#define PF_T STT_PROFILE_MAXV

/* The measured files: a short one (one piece) and a long one (many pieces). */
enum { PF_SHORT, PF_LONG, PF_NROLES };

/* "short", "long". */
const char *pf_role_name(int role);

typedef struct pf_file {
    char name[256];
    double audio_s;
    stt_upload up;     /* the bytes, owned (stt_upload_free) */
    const char *model; /* its requests' "model" field (params.request_profile) */
} pf_file;

/* One configuration: the plan's description and everything measured. */
typedef struct pf_config {
    stt_profile_config c;
    /* the running server */
    stt_cpulimit *limit;
    stt_sut *sut;
    stt_memsampler *mem;
    char url[256];
    int cpus[STT_CPULIMIT_MAX_CORES], ncpus; /* the CPUs it may run on (0: any) */
    double capacity;                         /* CPUs of capacity it was given */
    /* "ok", "refused" (restriction not proven) or "failed" */
    const char *status;
    char reason[600];
    json_t *verification; /* owned */
    double warm_s;        /* the unmeasured first request */
    /* per round r < nrounds; NaN where not measured */
    int nrounds;
    double thr[PF_R], util[PF_R];
    double lat[PF_NROLES][PF_R];
    double pieces[PF_NROLES];
    double *pois[PF_R]; /* malloc'd latencies of the Poisson phase */
    size_t npois[PF_R];
    double probe[2][PF_T][PF_R]; /* [idle, loaded][probe index][round] */
    double bg_thr[PF_R];         /* the background load's throughput while probing */
    long long errors;
    char last_error[300];
    stt_cpulimit_throttling th; /* summed over the throughput measurements */
    int have_th;
    stt_memusage peak;
    /* derived: a round's throughput counts only when its saturated run used
     * >= params.saturation of the CPUs given (the server, not the generator
     * sharing the machine, set the pace); its single-request latencies and its
     * Poisson phase, separate trials that need no saturation, count in every
     * measured round. The *_v arrays hold the counted rounds (NaN elsewhere);
     * valid and nvalid are the throughput's. */
    int valid[PF_R], nvalid;
    double thr_v[PF_R], lat_v[PF_NROLES][PF_R];
    size_t npois_v[PF_R];
    double util_med, util_max;
    int saturated, stable, excluded;
    int stable_relative; /* stable was judged relative to the rounds' speed */
    char excluded_why[400];
} pf_config;

/* One quota-against-cpuset comparison at a core count. */
typedef struct pf_qvc {
    int cores, cpuset, quota; /* config indices */
    stt_estimate thr, lat;    /* quota / cpuset: throughput, one long request's time */
    double throttled;         /* fraction of periods throttled under saturation */
} pf_qvc;

/* The thread search of one core count, idle and under load. */
typedef struct pf_threads {
    int cfg;
    stt_threads_optimum opt[2];
} pf_threads;

struct stt_profile {
    stt_profile_params p;
    stt_sysinfo si;
    int usable;
    int allowed[1024], nallowed; /* this process's CPUs when the run began */
    char cgroup[8], cgroup_err[300];
    char notes[1200]; /* what the plan skipped and why */
    pf_file files[PF_NROLES];
    int n;
    pf_config cfg[PF_NC];
    double poisson_rate; /* requests per second, 0 when not measured */
    /* analyses */
    int nseries[2]; /* [cpuset, quota] */
    int series_cfg[2][STT_SCALING_MAX];
    stt_scaling scaling[2];
    int has_scaling[2];
    int nqvc;
    pf_qvc qvc[STT_SCALING_MAX];
    int ncap, cap_cfg[STT_CAPACITY_MAX];
    stt_capacity capacity;
    int has_capacity;
    char capacity_skip[300];
    int nthr;
    pf_threads thr[STT_SCALING_MAX];
    /* the verdict */
    const char *answer, *confidence;
    char reasons[4][700];
    int nreasons;
    char to_confirm[700];
    int interrupted;
    /* time */
    double t0, wall_s, phase_s[2];
    int rounds_run[2];
    char *summary;
};

/* ---- plan.c ---- */
/* The list of the configurations' labels in a phase (for progress). */

/* ---- measure.c ---- */

/* Pins the calling thread (and the threads it starts) to the CPUs this
 * process could use when the run began (r->allowed) that are not in
 * cpus[0..n), when there are any, else to all of them; restores with n = -1. */
void pf_harness_pin(const stt_profile *r, const int *cpus, int n);

/* One request of f, with threads per request (0: the server's default).
 * *latency_s and *pieces (may be NULL) get its time and X-Pieces. Returns 0
 * or a negative stt error code with err. */
int pf_single(const char *url, const pf_file *f, int threads, double *latency_s, double *pieces,
              char *err, size_t errlen);

/* A closed loop of conc clients sending f to url, timed from the w-th to the
 * (w + n)-th completion (w: the workers, so that every worker has been busy
 * from the start of the interval to its end): *audio_s_per_s is the audio of
 * those n completions over that time, *util the server tree's CPU over it
 * (root_pid's tree) divided by capacity. Returns 0 or a negative stt error
 * code with err (a request failed). */
int pf_saturate(const char *url, const pf_file *f, int conc, int w, int n, pid_t root_pid,
                double capacity, double *audio_s_per_s, double *util, char *err, size_t errlen);

/* n requests of f at Poisson arrivals of `rate` per second (lib/lab/loadgen),
 * latency from the scheduled send; *out (malloc'd) gets those that succeeded.
 * Returns 0 or a negative stt error code with err. */
int pf_poisson(const char *url, const pf_file *f, double rate, int n, uint64_t seed, double **out,
               size_t *nout, char *err, size_t errlen);

/* A background closed loop of conc clients sending f until stopped. */
typedef struct pf_background pf_background;
pf_background *pf_background_start(const char *url, const pf_file *f, int conc);
/* Stops it (waits for the requests in flight); returns its audio s per s. */
double pf_background_stop(pf_background *b);

/* ---- run.c ---- */
/* The completions c's throughput measurement times: params.requests rounded
 * up to a multiple of its workers. */
int pf_timed(const stt_profile *r, const pf_config *c);
/* 1 once the caller asked the run to stop (params.stop). */
int pf_stopped(const stt_profile *r);
void pf_progress(const stt_profile *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- analyse.c ---- */
/* Fills c's validity and counted arrays over n rounds (a round counts when
 * the saturated run used at least `saturation` of the CPUs given); returns 1 when its
 * throughput point counts (at least STT_ROUNDS_MIN counted rounds, the last
 * three within 10%, each relative to the speed the other configurations of
 * its phase saw in its round where they were measured: analyse.c says why),
 * 0 otherwise. Configurations without a throughput measurement count every
 * round. */
int pf_count_rounds(const stt_profile *r, pf_config *c, int n, double saturation);

/* Saturation, stability and exclusion of each configuration, then the
 * scaling, quota, capacity and thread analyses and the verdict. */
void pf_analyse(stt_profile *r);

/* ---- output.c ---- */
json_t *pf_results_json(const stt_profile *r);
json_t *pf_estimate_json(const stt_estimate *e);

/* ---- text.c ---- */
int pf_write_report(const stt_profile *r, int charts_ok, const char *chart_err, char *err,
                    size_t errlen);
int pf_write_charts(const stt_profile *r, char *err, size_t errlen);
char *pf_summary_text(const stt_profile *r);

#endif
