/* capacity: many weak cores or few strong ones, answered by an experiment at
 * equal total CPU capacity.
 *
 * The strong configuration is k cores at full speed; each weak one is m > k
 * cores at speed k / m (2k cores at half speed, 4k at a quarter), emulated
 * by pinning one worker per core and giving it its own CFS bandwidth of that
 * fraction of the core (lib/lab/cpulimit.h). All were measured side by side
 * in interleaved rounds (rounds.h). For each weak configuration and each
 * metric (saturated throughput; the latency of one short request and of one
 * long request on an idle server; p95 under a Poisson load at the same
 * offered rate) this gives the ratio weak / strong with its interval and a
 * verdict that holds only when the interval clears the equivalence band
 * [1 - margin, 1 + margin]; otherwise "undetermined at this n" with what
 * would settle it. The mechanism is named from the measured piece counts: a
 * request of one piece runs on one core, at that core's speed; a request
 * split into pieces runs on several.
 *
 * Bandwidth-emulated weak cores share the strong cores' caches, memory
 * bandwidth and latency: they are slower time slices of the same
 * microarchitecture, not a slower one. A second real machine (`sttbench cpu
 * --compare`) is the stronger evidence.
 *
 * Pure functions, no I/O; thread-safe.
 */
#ifndef STT_CAPACITY_H
#define STT_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#include "rounds.h"
#include "stats.h"

#define STT_CAPACITY_MAX 4 /* configurations: the strong one and up to three weak ones */

typedef enum {
    STT_CAP_THROUGHPUT,
    STT_CAP_SHORT, /* one short request, idle server */
    STT_CAP_LONG,  /* one long request, idle server */
    STT_CAP_P95,   /* p95 under Poisson arrivals at the same offered rate */
    STT_CAP_NMETRICS
} stt_capacity_metric;

/* "throughput", "short_latency", "long_latency", "poisson_p95". */
const char *stt_capacity_metric_name(stt_capacity_metric m);

typedef enum {
    STT_CAP_NOT_MEASURED,
    STT_CAP_UNDETERMINED,
    STT_CAP_STRONG, /* the strong configuration is better, interval included */
    STT_CAP_WEAK,   /* the weak configuration is better */
    STT_CAP_EQUAL,  /* the whole interval inside the equivalence band */
} stt_capacity_side;

/* "not measured", "undetermined", "strong cores", "many cores", "equal". */
const char *stt_capacity_side_name(stt_capacity_side s);

typedef struct stt_capacity_params {
    double margin; /* equivalence band half-width (0.05) */
    double level;  /* 0.95 */
    int resamples; /* round bootstrap for the p95 ratio (2000) */
    uint64_t seed; /* (1) */
} stt_capacity_params;

stt_capacity_params stt_capacity_default_params(void);

/* One configuration's measurements over nrounds rounds (arrays of nrounds,
 * NaN where missing). poisson[r] points to npoisson[r] latencies of the
 * Poisson phase of round r (poisson may be NULL: not measured). excluded: its
 * throughput is kept out of the verdict (unsaturated, unstable). */
typedef struct stt_capacity_config {
    int cores;
    double speed; /* fraction of one core, 1 for the strong one */
    const double *throughput, *short_s, *long_s;
    const double *const *poisson;
    const size_t *npoisson;
    int excluded;
    double short_pieces, long_pieces; /* pieces the server cut each file into (median) */
} stt_capacity_config;

typedef struct stt_capacity_input {
    size_t nconfigs; /* [0] is the strong one */
    size_t nrounds;
    stt_capacity_config cfg[STT_CAPACITY_MAX];
} stt_capacity_input;

typedef struct stt_capacity_metric_result {
    stt_estimate ratio; /* weak / strong: throughput (higher is better) or latency */
    stt_capacity_side side;
    char why[320]; /* the verdict, or what would settle it */
} stt_capacity_metric_result;

typedef struct stt_capacity_pair {
    int weak; /* index into the input */
    stt_capacity_metric_result m[STT_CAP_NMETRICS];
} stt_capacity_pair;

typedef struct stt_capacity_p95 {
    size_t n;
    int supported; /* n supports a p95 (stats.h) */
    double p95;
    stt_interval ci; /* order statistics of the pooled latencies */
} stt_capacity_p95;

typedef struct stt_capacity {
    size_t npairs;
    stt_capacity_pair pair[STT_CAPACITY_MAX - 1];
    stt_capacity_p95 p95[STT_CAPACITY_MAX];
    /* The headline: the half-speed configuration (else the first weak one). */
    int headline;           /* index into pair[], -1 when there is none */
    const char *answer;     /* "many cores", "strong cores", "either", "mixed", "undetermined" */
    const char *confidence; /* "established", "likely", "undetermined" */
    char summary[600];      /* the answer in a sentence, per metric */
    char mechanism[600];    /* why, from the piece counts and the latency ratios */
    char settle[600];       /* what would settle the undetermined metrics ("" when none) */
} stt_capacity;

/* The honest label every report of the experiment carries. Static text. */
const char *stt_capacity_caveat(void);

/* Analyses in. Returns 0, or STT_EINVAL (fewer than two configurations, a
 * first one that is not at speed 1, unequal capacities). */
int stt_capacity_analyse(const stt_capacity_input *in, const stt_capacity_params *p,
                         stt_capacity *out);

#endif
