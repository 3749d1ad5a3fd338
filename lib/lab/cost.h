/* cost: what a build of sttd costs on a fixed short real-speech input,
 * measured for one build, or for two builds (BASE and HEAD) side by side in
 * one run so that `sttbench compare` can judge the change.
 *
 * For each build ("side"):
 *  - wall time of one request (the input, over HTTP to a server started for
 *    that side: 1 worker, 1 thread, only the measured profile loaded), runs
 *    times, the sides interleaved in ABBA order so that drift falls on both;
 *  - accuracy: word errors per utterance on the real-speech utterances of
 *    pocketsphinx-testdata (the five LibriVox and five AN4 "cards" clips),
 *    scored as sclite does (wer.h), for a paired comparison;
 *  - instructions per audio second, counted by valgrind's cachegrind (the
 *    Iai approach: an exact count, free of the noise of a shared machine):
 *    `sttd transcribe --workers 1 --threads 1` on the input, forked workers
 *    traced, minus the same command on one second of digital silence, so
 *    that process start and model loading cancel. The count covers the
 *    in-process request path: audio decoding and resampling, the VAD's
 *    splitting, the hand-over to the worker, the engine's decode and the
 *    transcript; not the HTTP layer. The WER of that run's output is
 *    recorded beside it;
 *  - peak heap (valgrind's massif) of the largest process of the same
 *    command on the input: the worker, model included.
 * Each side is written as a results file DIR/<label>/cost.json (results.h,
 * kind "cost") whose metrics are wall_s, instructions_per_audio_s and
 * peak_heap_bytes (the last two marked "deterministic") and whose accuracy
 * entry is "wer/testdata".
 *
 * Forks servers and valgrind; one call at a time per out_dir, from a
 * single-threaded program (it calls curl_global_init() itself).
 */
#ifndef STT_COST_H
#define STT_COST_H

#include <stddef.h>

typedef struct stt_cost_side {
    const char *label;     /* names the side and its folder: "base", "head" */
    const char *sttd;      /* the sttd binary (required) */
    const char *commit;    /* recorded as the file's commit; NULL: this tree's */
    const char *profile;   /* engine profile ("balanced") */
    const char *model_dir; /* --model-dir; NULL: sttd's own default */
} stt_cost_side;

typedef void (*stt_cost_progress)(const char *line, void *ctx);

typedef struct stt_cost_params {
    stt_cost_side side[2];
    int nsides;                 /* 1 or 2 */
    const char *testdata_dir;   /* pocketsphinx-testdata (/usr/share/pocketsphinx/test/data) */
    const char *input;          /* the clip id of the fixed input (the 3 s LibriVox clip 0880) */
    int runs;                   /* wall-time repeats per side (10) */
    int wall;                   /* wall time and accuracy over HTTP (1); 0: counts only */
    int valgrind;               /* count instructions and peak heap (1) */
    const char *valgrind_bin;   /* "valgrind" */
    double job_timeout_s;       /* longest valgrind run before it is killed (600) */
    const char *out_dir;        /* results: out_dir/<label>/cost.json (required) */
    stt_cost_progress progress; /* one line per step; NULL: silent */
    void *progress_ctx;
} stt_cost_params;

stt_cost_params stt_cost_default_params(void);

/* Measures every side and writes their results files; the paths written are
 * appended to `written`, one per line. Returns 0; STT_EINVAL (bad params),
 * STT_EIO (a server or valgrind run failed, a file could not be written)
 * with err. When valgrind is not installed the counts are left out and the
 * files say so (notes). */
int stt_cost_run(const stt_cost_params *p, char *written, size_t wlen, char *err, size_t errlen);

/* ---- reading valgrind's output (pure parsing, for tests too) ---- */

/* Sum of the "summary:" (Ir) lines of every file in dir whose name starts
 * with prefix (one per traced process). Returns 0, or STT_EIO when none
 * was found. */
int stt_cost_cachegrind_total(const char *dir, const char *prefix, double *instructions, char *err,
                              size_t errlen);

/* The largest mem_heap_B + mem_heap_extra_B of any snapshot of any massif
 * file in dir whose name starts with prefix. 0 or STT_EIO. */
int stt_cost_massif_peak(const char *dir, const char *prefix, double *bytes, char *err,
                         size_t errlen);

/* Instructions per audio second from the input and baseline totals:
 * (input - baseline) / audio_s; NaN when audio_s <= 0 or input < baseline. */
double stt_cost_per_audio_s(double input, double baseline, double audio_s);

#endif
