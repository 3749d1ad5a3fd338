/* shapes: the pod shape measured: the machine's C CPUs as k pods of C/k
 * cores (k = 1, 2, 4, ... dividing C), each pod sttd with C/k workers and
 * threads in a host of its own (lib/lab/replicas_pod.h), behind haproxy
 * routing at random per pod as a Kubernetes Service does.
 *
 * Every shape is measured `repeats` times in rounds (each round runs every
 * shape, in an order of its own drawn from the seed: interleaved):
 * - throughput: the time a closed loop of 2 x C clients takes to complete N
 *   requests of the mix, in audio seconds per second;
 * - the tail of short requests under a mixed-length load: open-loop Poisson
 *   arrivals of short and long files at the same offered rate for every
 *   shape (`load` of the weakest shape's throughput, from the first round),
 *   the p95 of the short ones, failures included (timed to the failure). A one-worker pod serves a
 * short request that arrives behind a long one only when the long one is done; more workers per pod
 * or more pods change that, and this is where it shows;
 * - one long request alone on an idle pod of the shape;
 * - the memory each pod's cgroup was charged (lib/lab/memcg.h) at its peak.
 * Then the worst case the pod admits, for the memory limit
 * (shapes_memory.c): the largest allowed upload of the longest allowed
 * duration, workers + queue of them at once, each profile the pod serves.
 *
 * The choice (shapes_model.c) is the cheapest shape per audio hour whose
 * short-request p95 interval lies under the objective, with how sure it is
 * and how it moves with the prices. The report makes the same choice with
 * its own prices and objective through the same function.
 *
 * shapes.json (kind "shapes"): the header of lib/lab/results.h, then
 *   "shapes": [{pods, cores_per_pod, workers, threads, throughput (n, median,
 *               ci, samples), short_p95_s, long_p95_s, single_long_s,
 *               memory_peak_bytes (per pod), errors, status}],
 *   "offered": the latency trials' rates, "rounds": the order they ran in,
 *   "memory_worst_case": [{cores_per_pod, workers, queue, upload, profiles:
 *               [{profile, idle, running, admitted, cgroup_peak}], max_bytes}],
 *   "choice": stt_shapes_choose() with this run's prices and objective,
 *   "verdict": stt_shapes_verdict() of that choice (question "scale"),
 *   "metrics": throughput and short p95 per shape.
 * or the header and "skipped": reason. One run at a time per process.
 */
#ifndef STT_SHAPES_H
#define STT_SHAPES_H

#include <jansson.h>
#include <stdio.h>

#define STT_SHAPES_MAX 8      /* shapes in one run */
#define STT_SHAPES_MAX_REP 50 /* repeats */

typedef enum {
    STT_SHAPES_MEMORY_NONE,   /* no worst-case step */
    STT_SHAPES_MEMORY_CHOSEN, /* for the chosen shape's pod size */
    STT_SHAPES_MEMORY_ALL,    /* for every pod size */
} stt_shapes_memory;

typedef struct stt_shapes_params {
    int cores;                /* CPUs to split; 0: all this process may use (0) */
    const char *profile;      /* profile of the requests ("fast") */
    const char *profiles;     /* the profiles the pods load, sttd --profiles; NULL: all */
    const char *short_file;   /* "corpus/speech_0008s.wav" */
    const char *long_file;    /* "corpus/speech_0120s.wav" */
    double long_share;        /* share of the requests that are long (0.1) */
    double load;              /* latency trials: share of the weakest shape's throughput (0.6) */
    int repeats;              /* rounds (5) */
    int throughput_requests;  /* requests of the mix per throughput trial (20) */
    int latency_shorts;       /* counted short requests per latency trial, >= 20 (30) */
    double slo_p95_s;         /* the objective; 0: load_json's config.slo_p95_s, else none */
    const char *load_json;    /* load.json to read the objective from; NULL: none */
    double price_core_hour;   /* 0.04 */
    double price_gib_hour;    /* 0.005 */
    double memory_margin;     /* on the measured worst case (0.15) */
    stt_shapes_memory memory; /* STT_SHAPES_MEMORY_CHOSEN */
    int memory_queue;         /* sttd --queue in the worst case; < 0: 2 x workers, sttd's default */
    const char
        *memory_profiles;    /* the profiles asked for in turn; NULL: "fast,balanced,accurate" */
    double max_upload_mb;    /* sttd --max-upload-mb (100) */
    double max_duration_s;   /* sttd --max-duration-s (600) */
    double memory_hold_s;    /* seconds each admission phase is watched (8) */
    const char *sttd;        /* NULL: beside the running program */
    unsigned long long seed; /* order, arrivals (20240601) */
    int quick;               /* recorded: from stt_shapes_quick() */
    void (*log)(void *arg, const char *line);
    void *log_arg;
} stt_shapes_params;

stt_shapes_params stt_shapes_default_params(void);

/* The study's quick experiment: 5 rounds of 12 throughput and 20 latency
 * requests, the worst case only for the chosen pod size, watched 5 s. */
void stt_shapes_quick(stt_shapes_params *p);

/* Runs it; *doc is the caller's. Returns 0 (a complete document, or one that
 * says "skipped" when the machine cannot make hosts, has no haproxy or has a
 * single CPU), STT_EINVAL for parameters or files this machine cannot use,
 * STT_EIO and the like when the measurement failed. Everything it created is
 * removed on every path and on SIGINT/SIGTERM/SIGHUP. */
int stt_shapes_run(const stt_shapes_params *p, json_t **doc, char *err, size_t errlen);

/* Recomputes the "choice" and the "verdict" of a shapes.json document from
 * its measurements, prices and objective (config), and marks it "rejudged":
 * what a newer version of the rules says about the same data. The worst-case
 * memory stays the one measured for the choice of the run. 0, or STT_EINVAL
 * when the document holds no measured shape. */
int stt_shapes_rejudge(json_t *doc, char *err, size_t errlen);

/* Writes DIR/shapes.json and DIR/shapes_report.md. 0 or STT_EIO. */
int stt_shapes_write(const json_t *doc, const char *dir, char *err, size_t errlen);

/* The shapes and the choice as text to f. */
void stt_shapes_print(const json_t *doc, FILE *f);

/* ---- the choice (shapes_model.c): pure functions ---- */

/* One shape as the choice sees it. */
typedef struct stt_shape {
    int pods, cores;                /* pods x cores per pod */
    double thr[STT_SHAPES_MAX_REP]; /* audio s per s of the whole shape, per round */
    int nthr;
    double p95[STT_SHAPES_MAX_REP]; /* short requests' p95 per round, s */
    int np95;
    double mem_bytes; /* peak cgroup charge of one pod, bytes (NaN: not measured) */
    int ok;           /* measured without failures */
} stt_shape;

typedef struct stt_shapes_prices {
    double core_hour, gib_hour;
} stt_shapes_prices;

/* What the choice says about one shape. */
typedef struct stt_shape_verdict {
    double cost, cost_lo, cost_hi; /* per audio hour: median and 95% interval */
    double p95, p95_lo, p95_hi;    /* short requests' p95: median and interval */
    int slo;      /* -1 under the objective (interval below), 1 over it, 0 undetermined or none */
    int eligible; /* measured, and not over the objective */
} stt_shape_verdict;

typedef struct stt_shapes_choice {
    int chosen;                       /* index, -1 when nothing was measured */
    int meets;                        /* the chosen shape's interval lies under the objective */
    const char *basis;                /* how it was chosen: a sentence */
    const char *confidence;           /* "established", "likely", "undetermined" */
    int runner_up;                    /* the next cheapest eligible, -1 */
    double ratio, ratio_lo, ratio_hi; /* runner-up cost / chosen cost */
    /* Price sensitivity: the memory price per GiB-hour at which the
     * runner-up would cost the same (NaN when no price of memory makes it,
     * or no runner-up), and the choice at memory prices x0, x0.25, x4, x16 of
     * the one given. */
    double breakeven_gib_hour;
    int at_scale[4];
    stt_shape_verdict v[STT_SHAPES_MAX];
} stt_shapes_choice;

/* The memory price multiples of stt_shapes_choice.at_scale. */
extern const double stt_shapes_price_scales[4];

/* Chooses among s[0..n) at prices pr and objective slo_s (0: none).
 * Returns 0, or STT_EINVAL for n out of 1..STT_SHAPES_MAX or bad prices.
 * Deterministic (the cost interval's bootstrap has a fixed seed). */
int stt_shapes_choose(const stt_shape *s, int n, const stt_shapes_prices *pr, double slo_s,
                      stt_shapes_choice *out);

/* The choice c of s[0..n) as the answer to "when to scale up and when out",
 * a verdict as the report reads it (lib/lab/report/internal.h): {question "scale", answer,
 * cores_per_pod, confidence, figure (the runner-up's cost over the chosen
 * one's, with its interval and n), reasons (the cost, the objective, the
 * prices), to_confirm}. As sure as c, and no more than "likely" without an
 * objective or when the choice turns within a factor of 4 of the memory
 * price. NULL for bad arguments. */
json_t *stt_shapes_verdict(const stt_shape *s, int n, const stt_shapes_choice *c, double slo_s);

/* The shapes of a shapes.json document into out[0..max); returns how many. */
int stt_shapes_read(const json_t *doc, stt_shape *out, int max);

/* The worst-case memory of a pod of `cores` in a shapes.json document:
 * bytes (the maximum over the profiles, no margin), the queue it was
 * measured at and its workers; NaN / -1 when not measured. */
double stt_shapes_worst_memory(const json_t *doc, int cores, int *queue, int *workers);

/* ---- the worst case a pod admits (shapes_memory.c) ---- */

typedef struct stt_shapes_memory_params {
    int host;              /* a host of this run (lib/lab/netns.h) */
    const char *addr;      /* its address */
    const char *sttd;      /* the server binary */
    int cores;             /* the pod's CPUs [0, cores); workers = threads = cores */
    int queue;             /* sttd --queue */
    const char *profiles;  /* sttd --profiles: what the pod serves; NULL: all */
    const char *ask;       /* the profiles asked for in turn ("fast,balanced,accurate") */
    double max_upload_mb;  /* sttd --max-upload-mb */
    double max_duration_s; /* sttd --max-duration-s */
    double hold_s;         /* seconds each admission phase is watched */
    const char *speech;    /* the speech the worst-case upload is made of */
    void (*log)(void *arg, const char *line);
    void *log_arg;
} stt_shapes_memory_params;

/* Writes to path the largest upload the pod accepts that is as long as it
 * accepts: a 16-bit stereo WAV of duration_s seconds at the highest sample
 * rate (at most 192 kHz) that keeps it 64 KiB under max_upload_mb (sttd's
 * MiB), made of the speech file repeated. sttd holds the upload whole and
 * decodes it as it reads, so this is the most memory one request can make it
 * hold. Fills *rate and *bytes. Returns 0, STT_EINVAL (the limit is too small
 * for 8 kHz mono), STT_EIO with err. */
int stt_shapes_worst_upload(const char *speech, double max_upload_mb, double duration_s,
                            const char *path, int *rate, long long *bytes, char *err,
                            size_t errlen);

/* For each profile of p->ask: a fresh pod charged to its own memory cgroup,
 * idle; then `workers` worst-case requests of that profile, watched hold_s;
 * then `queue` more (the pod's whole admission), watched hold_s; the
 * cgroup's own peak. *out: {cores_per_pod, workers, queue, admitted, upload:
 * {bytes, sample_rate, channels, duration_s}, profiles: [...], max_bytes,
 * source}. Returns 0 or an error with err. */
int stt_shapes_memory_measure(const stt_shapes_memory_params *p, json_t **out, char *err,
                              size_t errlen);

#endif
