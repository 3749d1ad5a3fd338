/* servicebench_internal: what the servicebench*.c files share; not part of
 * the public API. servicebench.c runs the parts and writes the outputs;
 * servicebench_parts.c holds the six measurements; servicebench_raw.c the
 * inputs and the baselines run as programs (sttraw, pocketsphinx_continuous). */
#ifndef STT_SERVICEBENCH_INTERNAL_H
#define STT_SERVICEBENCH_INTERNAL_H

#include <jansson.h>
#include <limits.h>

#include "client.h"
#include "servicebench.h"
#include "sut.h"
#include "wer.h"

#define SB_CLIPS 5
#define SB_SHORT_CLIP 1  /* 0880, 2.99 s: the fairness probe */
#define SB_MEMORY_CLIP 0 /* 0870, 7.1 s: the memory requests */
#define SB_MAX_TARGETS 12

extern const char *const sb_clip_ids[SB_CLIPS];
extern const char *const sb_profiles[3];

/* A file sent to the server, read once so that disk reads are not timed. */
typedef struct sb_input {
    char path[PATH_MAX];
    stt_upload u;
    double audio_s;
    char *reference;
} sb_input;

/* Repeated measurements of one figure. */
typedef struct sb_series {
    double v[STT_SERVICEBENCH_MAX_REPEAT];
    size_t n;
} sb_series;

typedef struct sb_target {
    stt_servicebench_target v;
    char name[64], goal[64], measured[320], settle[200];
} sb_target;

struct stt_servicebench {
    stt_servicebench_params p;
    stt_servicebench_progress_fn progress;
    void *arg;
    char sttd[PATH_MAX], sttraw[PATH_MAX], workdir[64];
    const char *testdata;
    sb_input clips[SB_CLIPS], cat, longf;
    const char *long_source;
    int long_reps, per_client;
    json_t *doc;          /* the results document being built */
    json_t *measurements; /* borrowed from doc */
    sb_target targets[SB_MAX_TARGETS];
    int ntargets;
    double t0, elapsed_s;
};

/* ---- helpers (servicebench.c) ---- */

void sb_add(sb_series *s, double v);
/* n, median, interval of s (n = 0 and NaN when empty). */
stt_summary sb_summary(const sb_series *s);
/* {unit, n, median, ci, coverage, min, max, samples}. */
json_t *sb_series_json(const sb_series *s, const char *unit);
json_t *sb_wer_json(const stt_wer_counts *c);
/* Adds s to the document's metrics under name. */
void sb_metric(stt_servicebench *b, const char *name, const char *unit, int higher,
               const sb_series *s);
/* A timed target: the verdict from the interval of ratio (in unit, "x" for
 * a ratio) against threshold. */
void sb_timed_target(stt_servicebench *b, const char *name, const char *goal, double threshold,
                     int higher, const sb_series *ratio, const char *unit, const char *detail_fmt,
                     ...) __attribute__((format(printf, 8, 9)));
/* A target decided on exact counts, or an info line (verdict INFO). */
void sb_count_target(stt_servicebench *b, const char *name, const char *goal, stt_service_verdict v,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void sb_progress(stt_servicebench *b, int part, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Starts bin_dir/sttd --host --port --quiet ARGS... (NULL-terminated), its
 * log in OUT/sttd_NAME.log, and waits for /ready. NULL with err. */
stt_sut *sb_server(stt_servicebench *b, const char *name, const char *const *args, char *err,
                   size_t errlen);
/* One transcription; 0 with *text (malloc'd) and *wall_s, else the error in err. */
int sb_post(const char *url, const sb_input *in, const char *profile, int threads, double *wall_s,
            char **text, char *err, size_t errlen);
/* Scores hyp against ref into *acc (adds); returns this utterance's counts. */
stt_wer_counts sb_score(const char *ref, const char *hyp, stt_wer_counts *acc);

/* ---- inputs and baselines (servicebench_raw.c) ---- */

/* The clips, their concatenation without pauses (24.7 s) and the long file. */
int sb_prepare_inputs(stt_servicebench *b, char *err, size_t errlen);
void sb_free_inputs(stt_servicebench *b);
/* sttraw on path: the decode seconds and hypothesis of its first line, and
 * the wall time of the whole process. 0, or STT_EIO with err. */
int sb_sttraw(const stt_servicebench *b, const char *path, double *decode_s, char **hyp,
              double *wall_s, char *err, size_t errlen);
/* copies sttraw --repeat N processes side by side; *audio_s: the audio they
 * decoded, *wall_s: until the last ended. */
int sb_sttraw_parallel(const stt_servicebench *b, const char *path, int copies, int repeat,
                       double *audio_s, double *wall_s, char *err, size_t errlen);
/* pocketsphinx_continuous -infile path: its lines joined, and its wall time. */
int sb_continuous(const char *path, char **text, double *wall_s, char *err, size_t errlen);

/* ---- the parts (servicebench_parts.c) ---- */

int sb_part_overhead(stt_servicebench *b, char *err, size_t errlen);
int sb_part_accuracy(stt_servicebench *b, char *err, size_t errlen);
int sb_part_memory(stt_servicebench *b, char *err, size_t errlen);
/* Parts 4 to 6 share one two-worker server. */
int sb_part_threads(stt_servicebench *b, const stt_sut *sv, char *err, size_t errlen);
int sb_part_throughput(stt_servicebench *b, const stt_sut *sv, char *err, size_t errlen);
int sb_part_fairness(stt_servicebench *b, const stt_sut *sv, char *err, size_t errlen);

#endif
