/* audiobench: time, memory and accuracy of a speech-to-text server against
 * audio length, per profile, on the benchmark corpus (`sttbench audio`).
 *
 * Every selected corpus file (lib/lab/corpus.h: the main manifest and the
 * clip set) is sent to the server once per profile per round, for `repeat`
 * rounds; each round visits every (file, profile) pair in its own shuffled
 * order, so that profiles and files are interleaved and drift on the machine
 * falls on all of them alike. Each request records wall, queue and process
 * time (X-Queue-Time-Ms, X-Process-Time-Ms), the pieces the server cut the
 * file into (X-Pieces), the words (WER against the reference, the first
 * answer of each pair) and the peak memory of the server's process tree.
 *
 * From the repeats: per (file, profile) n, median and 95% interval of each
 * figure (lib/lab/stats.h); per profile the real-time factor of each round
 * over the 16 kHz mono WAV files, summarised the same way; and per profile
 * three least-squares fits against duration over those files (GSL), each
 * with 95% intervals and constrained to its physical range (intercept and
 * slope >= 0): "process_s" over every file, "process_s_single" over the
 * files sttd answered as one piece (intercept: the fixed cost of a request;
 * slope: one core's time per audio second), and "peak_pss_bytes".
 *
 * Outputs in params.out: audio.json (lib/lab/results.h header, schema in
 * docs/AUDIO_BENCH.md; its "metrics" and "accuracy" are what `sttbench
 * compare` matches), audio_report.md, and gnuplot charts (lib/lab/chart.h).
 * One run uses the calling thread (and one memory-sampling thread); call
 * curl_global_init() first.
 */
#ifndef STT_AUDIOBENCH_H
#define STT_AUDIOBENCH_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define STT_AUDIOBENCH_MAX_PROFILES 8
#define STT_AUDIOBENCH_MAX_REPEAT 50

typedef struct stt_audiobench_params {
    const char *corpus;         /* corpus folder (required) */
    const char *out;            /* output folder, created (required) */
    const char *url;            /* server base URL; NULL: the spawned server's (spawn required) */
    const char *api;            /* "openai" (POST /v1/audio/transcriptions) or "whisper-cpp"
                                 * (POST /inference); "openai" */
    const char *profiles;       /* comma-separated model names; "fast,balanced,accurate" */
    double max_duration_s;      /* files longer are listed as skipped; 600; <= 0: no limit */
    int repeat;                 /* rounds, 1..STT_AUDIOBENCH_MAX_REPEAT; 5 */
    int quick;                  /* only the quick set, first profile only; 0 */
    double quick_max_s;         /* the quick set: 16 kHz mono WAV up to this long; 30 */
    int warmup;                 /* one unmeasured request per profile first; 1 */
    int spawn;                  /* start the server (server_command) and stop it at the end; 0 */
    const char *server_command; /* lib/lab/sut.h template; NULL: "{bin}/sttd --host {host}
                                 * --port {port}", with --workers / --threads when set */
    int port;                   /* for spawn; 0: a free port */
    int workers, threads;       /* for the default server command; 0: its defaults */
    int server_pid;             /* the process tree whose memory is sampled; 0: none (spawn
                                 * sets it) */
    int sample_ms;              /* memory sampling interval; 50 */
    double timeout_s;           /* per request; 3600 */
    uint64_t seed;              /* the shuffled order; 1 */
} stt_audiobench_params;

stt_audiobench_params stt_audiobench_default_params(void);

/* ---- the plan: which files, and why the others are not measured ---- */

typedef enum {
    STT_AUDIOBENCH_MEASURED = 0,
    STT_AUDIOBENCH_TOO_LONG,  /* longer than max_duration_s */
    STT_AUDIOBENCH_NOT_QUICK, /* not in the --quick set */
} stt_audiobench_selection;

typedef struct stt_corpus_entry stt_corpus_entry;

/* Whether an entry is measured under p, and if not, why. */
stt_audiobench_selection stt_audiobench_select(const stt_audiobench_params *p,
                                               const stt_corpus_entry *e);

/* The sentence saying why a file was not measured, with the limit, e.g.
 * "longer than --max-duration (600 s)"; into buf, returned. "" for MEASURED. */
const char *stt_audiobench_reason(const stt_audiobench_params *p, stt_audiobench_selection s,
                                  char *buf, size_t len);

/* The order of one round: a permutation of 0..n-1 (Fisher-Yates with the
 * stats.h generator seeded by seed and round), into order. */
void stt_audiobench_round_order(uint64_t seed, int round, size_t n, size_t *order);

/* ---- fits ---- */

typedef struct stt_audiobench_fit {
    int n;                               /* points (files) */
    int distinct;                        /* distinct durations among them */
    double intercept, slope;             /* NaN with fewer than 2 distinct durations */
    double intercept_ci[2], slope_ci[2]; /* 95%, Student's t on the residuals; NaN when
                                          * n < 3 or a parameter was held at its bound */
    double r2;
    const char *constraint; /* NULL, "intercept held at 0", "slope held at 0" */
    int projection;         /* 1 when n >= 3 distinct durations: the line may be used
                             * beyond the points; 0: too few points to project */
} stt_audiobench_fit;

/* y = intercept + slope x by least squares with intercept >= 0 and slope >= 0
 * (when the free fit breaks one, the other is refitted with it held at 0: the
 * constrained optimum of a convex quadratic lies on that bound). Pure. */
void stt_audiobench_linear_fit(const double *x, const double *y, size_t n, stt_audiobench_fit *out);

/* ---- running ---- */

/* What a progress callback hears: one request about to be sent. */
typedef struct stt_audiobench_progress {
    size_t done, total; /* requests so far, in all */
    const char *file, *profile;
    int round;
    double elapsed_s, remaining_s; /* remaining: NaN until one request finished */
} stt_audiobench_progress;

typedef void (*stt_audiobench_progress_fn)(void *arg, const stt_audiobench_progress *p);

typedef struct stt_audiobench stt_audiobench;

/* Loads the corpus, starts the server when asked, measures, analyses and
 * writes the outputs. Returns 0 with *out (stt_audiobench_free) even when
 * some requests failed (stt_audiobench_failures() counts them), or STT_EINVAL
 * (bad params), STT_EIO (corpus, server, outputs), STT_ENOMEM with err; then
 * *out is NULL. progress may be NULL. */
int stt_audiobench_run(const stt_audiobench_params *p, stt_audiobench_progress_fn progress,
                       void *arg, stt_audiobench **out, char *err, size_t errlen);
void stt_audiobench_free(stt_audiobench *b);

/* ---- what a run found, for printing (valid until stt_audiobench_free) ---- */

typedef struct stt_audiobench_result {
    const char *file, *format, *profile;
    double duration_s;
    int reference_format; /* 16 kHz mono WAV: in the fits and the profile rows */
    int n, n_ok;          /* requests sent, answered with text */
    int pieces;           /* X-Pieces of the answers (the most common); 0 when not sent */
    stt_summary wall_s, process_s, queue_s; /* over the answered requests */
    stt_summary peak_pss_bytes;             /* n = 0 when memory was not sampled */
    double wer;                             /* of the first answer; NaN when none */
    size_t ref_words, errors;
    const char *error; /* the last failure, or NULL */
} stt_audiobench_result;

typedef struct stt_audiobench_profile {
    const char *profile;
    int files;       /* 16 kHz mono WAV files answered in every round */
    double audio_s;  /* their audio */
    stt_summary rtf; /* per round: process time / audio time over those files */
    double wer;      /* corpus WER: errors / reference words over them */
    size_t ref_words;
} stt_audiobench_profile;

typedef struct stt_audiobench_skip {
    const char *file;
    double duration_s;
    stt_audiobench_selection why;
    const char *reason; /* stt_audiobench_reason() */
} stt_audiobench_skip;

size_t stt_audiobench_result_count(const stt_audiobench *b);
const stt_audiobench_result *stt_audiobench_result_at(const stt_audiobench *b, size_t i);
size_t stt_audiobench_profile_count(const stt_audiobench *b);
const stt_audiobench_profile *stt_audiobench_profile_at(const stt_audiobench *b, size_t i);
/* The fit of y ("process_s", "process_s_single", "peak_pss_bytes") for profile i. */
const stt_audiobench_fit *stt_audiobench_fit_of(const stt_audiobench *b, size_t profile,
                                                const char *y);
size_t stt_audiobench_skip_count(const stt_audiobench *b);
const stt_audiobench_skip *stt_audiobench_skip_at(const stt_audiobench *b, size_t i);
/* Requests that got no text. */
int stt_audiobench_failures(const stt_audiobench *b);
/* Whether memory was sampled (a server pid was known). */
int stt_audiobench_memory_sampled(const stt_audiobench *b);
/* Seconds the run took. */
double stt_audiobench_elapsed_s(const stt_audiobench *b);

#endif
