/* profile: the CPU profile of a speech-to-text server, measured.
 *
 * It answers, by experiment on this machine:
 *  - how throughput and one long request's latency scale with cores (the
 *    1/2/4/8/16 profile, as far as this machine has cores; beyond them the
 *    curve is said to be unmeasured), with the scaling laws of fit.h and the
 *    diminishing-returns point of scaling.h;
 *  - what a CFS quota costs against pinned cores (what limits.cpu does);
 *  - many weak cores or few strong ones, at equal total capacity (k cores at
 *    full speed against 2k at half speed, and 4k at a quarter where the
 *    machine has them: capacity.h), for throughput, one short and one long
 *    request, and p95 under Poisson arrivals at the same offered rate;
 *  - the best number of threads per request, searched beyond the cores (up
 *    to twice), on an idle server and under a stated load.
 *
 * Every configuration is a server started once from the command template
 * under a proven CPU restriction (lib/lab/cpulimit.h: affinity, quota, or
 * pinned weak cores; verified by affinity, cgroup membership, cpu.max read
 * back, the server's own gauges and throttling counters). All configurations
 * of a phase stay up, idle, while the others are measured, and are visited
 * in an order shuffled afresh each round, for n >= 5 rounds (rounds.h), so
 * the machine's drift cancels in every comparison. Throughput is the time to
 * N completions of a saturated closed loop, with the server's CPU use over
 * exactly that interval: a point counts only when the server used >= 95% of
 * the CPUs it was given and its last three rounds agree within 10%; others
 * are reported, marked, and left out of every decision.
 *
 * Without a writable cgroup (not root) the quota and the weak cores are
 * skipped, and said so. The load generator runs on CPUs the server was not
 * given when there are any.
 *
 * One run at a time per process; not thread-safe. Progress goes to the
 * caller's callback; nothing here prints.
 */
#ifndef STT_PROFILE_H
#define STT_PROFILE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define STT_PROFILE_MAXV 8 /* values of one list (core counts, speeds, thread counts) */
#define STT_PROFILE_MAX_ROUNDS 32
#define STT_PROFILE_MAX_CONFIGS 24

#define STT_PROFILE_DEFAULT_CMD                                                                    \
    "{bin}/sttd --port {port} --workers {workers} --threads {threads} --quiet"

typedef struct stt_profile_params {
    const char *server_cmd; /* STT_PROFILE_DEFAULT_CMD */
    const char *corpus;     /* "corpus" (from `sttbench corpus`) */
    const char *out;        /* "results/cpu" */
    double short_s;         /* the short file: the 16 kHz mono WAV nearest this long (8) */
    double long_s;          /* the long file, cut into many pieces (60; quick 28) */
    /* The requests' profile (their "model" field): NULL sends none, the
     * server's default (balanced); quick: "fast", a third of the time for the
     * same mechanism (one piece on one core, many pieces across the cores). */
    const char *request_profile;
    int cores[STT_PROFILE_MAXV], ncores; /* 0: 1, 2, 4, 8, 16 up to the usable CPUs */
    int max_cores;                       /* the profile's largest core count; beyond the usable
                                          * CPUs it is reported as unmeasured (16) */
    int quota;                           /* 2: a CFS quota at every core count, 1: at the largest,
                                          * 0: none (2; quick 1) */
    int capacity;                        /* the equal-capacity experiment (1) */
    int capacity_cores;                  /* k, the strong cores; 0: max(1, usable / 4) */
    double speeds[3];                    /* the weak cores' speeds; nspeeds 0: 0.5, and 0.25 */
    int nspeeds;                         /*   when the machine has 4k cores */
    long period_us;                      /* CFS period of a weak core (10000) */
    int threads;                         /* thread search: 2 at every core count, 1 at the largest,
                                          * 0 none (2; quick 0) */
    int rounds;                          /* n, >= 5 (8; quick 5) */
    int extra_rounds;     /* rounds added while a throughput point is unstable (3; quick 0) */
    int requests;         /* completions timed per throughput measurement, rounded up to a
                           * multiple of the workers (8; quick 2) */
    int scaling_latency;  /* one long request at every core count (1; quick too: the
                           * scale-up answer's interval rests on it) */
    int poisson;          /* requests per configuration per round under Poisson
                           * arrivals, 0: not measured (6; quick 0) */
    double poisson_load;  /* their offered rate, a fraction of the strong
                           * configuration's capacity (0.5) */
    double saturation;    /* a round counts only when the saturated run used at least
                           * this share of the CPUs given (0.95; recorded in cpu.json) */
    double margin;        /* equivalence band of the weak/strong verdicts (0.05) */
    double thread_margin; /* latency difference that counts as a tie (0.03) */
    uint64_t seed;        /* round orders, arrivals, bootstrap (1) */
    int quick;            /* set by stt_profile_quick(), recorded in cpu.json */
    /* When *stop becomes non-zero (a signal handler may set it) the run ends
     * after the step in progress: the servers are stopped, the restrictions
     * removed, and what was measured is analysed and marked interrupted.
     * NULL: never. */
    volatile sig_atomic_t *stop;
    /* Called with one line of progress at each step; NULL: none. */
    void (*progress)(void *arg, const char *line);
    void *progress_arg;
} stt_profile_params;

stt_profile_params stt_profile_default_params(void);

/* The quick settings (about 3 minutes of the real engine on 2 cores, with
 * honest, wider intervals): applied over p's values. */
void stt_profile_quick(stt_profile_params *p);

/* What one configuration of the plan is. */
typedef enum {
    STT_PROFILE_SCALING,  /* cores pinned (cpuset), workers = threads = cores */
    STT_PROFILE_QUOTA,    /* a CFS quota of that many CPUs, unpinned */
    STT_PROFILE_CAPACITY, /* weak or strong cores at equal capacity (cores limit) */
    STT_PROFILE_THREADS,  /* cores pinned, 2 x cores workers, threads per request searched */
} stt_profile_kind;

/* "scaling", "quota", "capacity", "threads". */
const char *stt_profile_kind_name(stt_profile_kind k);

enum {
    STT_PROFILE_M_THROUGHPUT = 1,
    STT_PROFILE_M_SHORT = 2,
    STT_PROFILE_M_LONG = 4,
    STT_PROFILE_M_POISSON = 8,
    STT_PROFILE_M_PROBES = 16,
};

typedef struct stt_profile_config {
    stt_profile_kind kind;
    int phase;    /* 0: scaling, quota, capacity; 1: thread search */
    int cores;    /* CPUs given (capacity: the number of cores) */
    double speed; /* each core's share of a CPU (1 but for weak cores) */
    int workers, threads;
    unsigned measure; /* STT_PROFILE_M_* */
    int strong;       /* also the strong configuration of the capacity experiment */
    int nprobe;       /* thread search: the thread counts probed */
    int probe[STT_PROFILE_MAXV];
    char label[40]; /* "cpuset 2", "quota 2", "2 x 0.5", "threads @ 2" */
} stt_profile_config;

/* The configurations a run of p measures on a machine with `usable` CPUs
 * (lib/base/cpus.h) and, when cgroups is 0, no writable cgroup, into
 * out[0..max). Returns how many. What is skipped and why goes to notes
 * (one line each, may be NULL). Pure. */
int stt_profile_plan(const stt_profile_params *p, int usable, int cgroups, stt_profile_config *out,
                     int max, char *notes, size_t noteslen);

typedef struct stt_profile stt_profile;

/* Measures the plan: starts, verifies and stops the servers, analyses. On
 * success *out is the run (free it with stt_profile_free), also when some
 * configurations were refused or failed (they say why). Returns 0, or a
 * negative stt error code with err (no corpus, no usable file, out of memory). */
int stt_profile_run(const stt_profile_params *p, stt_profile **out, char *err, size_t errlen);

/* Writes p->out/cpu.json (lib/lab/results.h), cpu_scaling_report.md and the
 * charts (lib/lab/chart.h; their absence is noted in the report). Returns 0
 * or STT_EIO with err. */
int stt_profile_write(const stt_profile *r, char *err, size_t errlen);

/* The summary for a terminal: the answers with their intervals; owned by r. */
const char *stt_profile_summary(const stt_profile *r);

/* 1 when nothing could be measured (every configuration refused or failed)
 * or the run was interrupted. */
int stt_profile_failed(const stt_profile *r);

void stt_profile_free(stt_profile *r);

/* --compare: two machines' cpu.json side by side: per-core throughput (the
 * 1-core point) and one short request's time at one core with intervals, the
 * ratio of the two with a bootstrap interval, cost per audio hour at
 * price_core_hour, and each machine's weak-vs-strong verdict. Writes
 * out_dir/compare.json; *summary (malloc'd) is the table for a terminal.
 * Returns 0, or STT_EIO / STT_EINVAL with err. */
int stt_profile_compare(const char *a, const char *b, double price_core_hour, const char *out_dir,
                        char **summary, char *err, size_t errlen);

#endif
