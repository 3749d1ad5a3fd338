/* servicebench: sttd measured against the raw engine on this machine
 * (`sttbench service`, docs/SERVICE_BENCH.md).
 *
 * Six parts, each a target with its baseline measured side by side in the
 * same rounds, the two sides alternating (ABAB) so that background load on a
 * shared machine falls on both:
 *   1 overhead    one 24.7 s request to a 1-worker 1-thread sttd / sttraw's
 *                 decode of the same samples (<= 1.05x)
 *   2 accuracy    WER of each profile on the five LibriVox clips; balanced
 *                 within 1 point of pocketsphinx_continuous; RTF per profile
 *   3 memory      PSS per extra worker, 1 against 4 workers (<= 40 MB)
 *   4 threads     one long request, threads=1 / threads=2 (>= 1.8x); its WER
 *                 against sttraw's on the whole file (<= 1 point worse)
 *   5 throughput  2 clients x N requests to sttd / 2 sttraw --repeat N (>= 0.95x)
 *   6 fairness    a 3 s clip behind the long request / the same clip idle (< 3x)
 * A timed target is a ratio per round; its figure is the median of the
 * rounds with a 95% order-statistic interval, and its verdict PASS or FAIL
 * only when that interval lies wholly on one side of the goal and there are
 * at least min_rounds rounds, otherwise "undetermined" with what would
 * settle it. A WER target compares exact counts on a fixed set: its verdict
 * is the comparison itself.
 *
 * Writes OUT/service.json (lib/lab/results.h header; every raw value, the
 * targets, the comparable metrics and per-utterance word errors),
 * OUT/service_report.md and each spawned server's log. Runs sttd and sttraw
 * from bin_dir, pocketsphinx_continuous from PATH. One run at a time per
 * process (it starts servers and threads of its own); call
 * curl_global_init() first.
 */
#ifndef STT_SERVICEBENCH_H
#define STT_SERVICEBENCH_H

#include <stddef.h>

#include "stats.h"

#define STT_SERVICEBENCH_PARTS 6
#define STT_SERVICEBENCH_MAX_REPEAT 50

typedef struct stt_servicebench_params {
    const char *corpus;      /* its librivox_x12.wav is the long file when there; "corpus" */
    const char *out;         /* output folder, created; "results/service" */
    const char *testdata;    /* pocketsphinx-testdata; NULL: the corpus default */
    const char *bin_dir;     /* where sttd and sttraw are; NULL: the running program's folder */
    int repeat;              /* rounds of every part; 5 */
    int min_rounds;          /* fewer rounds give no verdict; 5 */
    int quick;               /* the long file built with long_reps_quick repetitions, and
                              * per_client_quick throughput requests; 0 */
    int long_reps;           /* the five clips, each with 0.6 s of silence, this many times in
                              * the long file when the corpus has none; 12 (332.8 s) */
    int long_reps_quick;     /* 2 (55.5 s) */
    int per_client;          /* part 5: requests per client; 4 */
    int per_client_quick;    /* 2 */
    double fairness_delay_s; /* part 6: the probe leaves this long after the long request; 2 */
    unsigned parts;          /* bit k runs part k + 1; 0: all */
} stt_servicebench_params;

stt_servicebench_params stt_servicebench_default_params(void);

typedef enum {
    STT_SERVICE_UNDETERMINED = 0,
    STT_SERVICE_PASS,
    STT_SERVICE_FAIL,
    STT_SERVICE_INFO,         /* a figure with no goal */
    STT_SERVICE_NOT_MEASURED, /* the part failed; detail says why */
} stt_service_verdict;

/* "undetermined", "PASS", "FAIL", "info", "not measured". */
const char *stt_service_verdict_name(stt_service_verdict v);

/* The verdict on a summarised ratio against its goal: PASS when the whole
 * interval is on the good side of threshold (below it when !higher_is_better),
 * FAIL when wholly on the bad side, else UNDETERMINED; UNDETERMINED as well
 * with fewer than min_n samples. Pure. */
stt_service_verdict stt_servicebench_judge(const stt_summary *s, double threshold,
                                           int higher_is_better, size_t min_n);

/* One target as reported. */
typedef struct stt_servicebench_target {
    const char *name;     /* "1 overhead", ... */
    const char *goal;     /* "<= 1.05x" */
    const char *measured; /* the figure in words, with its interval and n */
    stt_service_verdict verdict;
    stt_summary figure; /* n = 0 for counts (WER) and unmeasured parts */
    const char *settle; /* what would settle an undetermined verdict, or "" */
} stt_servicebench_target;

typedef struct stt_servicebench stt_servicebench;

/* Progress: the part and a line about the step about to run. */
typedef void (*stt_servicebench_progress_fn)(void *arg, int part, const char *step);

/* Runs the parts asked for and writes the outputs. Returns 0 with *out
 * (stt_servicebench_free) even when targets fail or parts could not be
 * measured (they are reported), or STT_EINVAL (bad params), STT_ENOTFOUND
 * (sttd or sttraw not built), STT_EIO (inputs, outputs) with err. */
int stt_servicebench_run(const stt_servicebench_params *p, stt_servicebench_progress_fn progress,
                         void *arg, stt_servicebench **out, char *err, size_t errlen);
void stt_servicebench_free(stt_servicebench *s);

size_t stt_servicebench_target_count(const stt_servicebench *s);
const stt_servicebench_target *stt_servicebench_target_at(const stt_servicebench *s, size_t i);
/* 1 when a target failed or a part could not be measured. */
int stt_servicebench_failed(const stt_servicebench *s);
double stt_servicebench_elapsed_s(const stt_servicebench *s);

#endif
