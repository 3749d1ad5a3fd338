/* audiobench_internal: what the audiobench*.c files share; not part of the
 * public API. audiobench.c measures, audiobench_plan.c selects and orders,
 * audiobench_fit.c fits and summarises, audiobench_output.c writes. */
#ifndef STT_AUDIOBENCH_INTERNAL_H
#define STT_AUDIOBENCH_INTERNAL_H

#include <jansson.h>

#include "audiobench.h"
#include "client.h"
#include "corpus.h"
#include "wer.h"

/* The three fits of a profile, in this order. */
enum { AB_FIT_PROCESS, AB_FIT_SINGLE, AB_FIT_MEMORY, AB_NFITS };
extern const char *const ab_fit_y[AB_NFITS];

/* One (file, profile) pair and its repeats. */
typedef struct ab_result {
    stt_audiobench_result v;
    size_t file; /* index into b->files */
    int profile; /* index into b->profile */
    int n_ok;
    double wall[STT_AUDIOBENCH_MAX_REPEAT], process[STT_AUDIOBENCH_MAX_REPEAT],
        queue[STT_AUDIOBENCH_MAX_REPEAT];
    int round_ok[STT_AUDIOBENCH_MAX_REPEAT];         /* round k answered */
    double round_process[STT_AUDIOBENCH_MAX_REPEAT]; /* by round, NaN when not answered */
    int pieces[STT_AUDIOBENCH_MAX_REPEAT];
    int n_mem;
    double peak_rss[STT_AUDIOBENCH_MAX_REPEAT], peak_pss[STT_AUDIOBENCH_MAX_REPEAT],
        added_pss[STT_AUDIOBENCH_MAX_REPEAT];
    int process_from_server; /* every answer carried X-Process-Time-Ms */
    int have_wer;
    stt_wer_counts wer;
    char *hypothesis;
    long http_status;
    char error[256];
} ab_result;

struct stt_audiobench {
    stt_audiobench_params p;
    char *profiles_buf;
    const char *profile[STT_AUDIOBENCH_MAX_PROFILES];
    int nprofiles;
    stt_corpus_entry *ent;
    size_t nent;
    const stt_corpus_entry **files; /* the measured entries */
    size_t nfiles;
    stt_upload *uploads; /* one per file, read once so that disk reads are not timed */
    ab_result *res;      /* nfiles * nprofiles, file-major */
    size_t nres;
    stt_audiobench_profile rows[STT_AUDIOBENCH_MAX_PROFILES];
    double round_rtf[STT_AUDIOBENCH_MAX_PROFILES][STT_AUDIOBENCH_MAX_REPEAT];
    int nround_rtf[STT_AUDIOBENCH_MAX_PROFILES];
    stt_audiobench_fit fits[STT_AUDIOBENCH_MAX_PROFILES][AB_NFITS];
    stt_audiobench_skip *skips;
    char (*reasons)[160];
    size_t nskips;
    int failures;
    int memory; /* a server pid was sampled */
    char url[256];
    char server_command[1024]; /* as run, "" when not spawned */
    double elapsed_s;
};

/* The file enters the fits and the profile rows: 16 kHz mono WAV, so that the
 * decoding cost of other formats does not bend the lines. */
int ab_reference_format(const stt_corpus_entry *e);

/* Summaries, profile rows and fits from the measured repeats (audiobench_fit.c). */
void ab_analyse(stt_audiobench *b);

/* The stable name of a file in metric names: its name without ".wav". */
void ab_metric_file(const char *file, char *out, size_t len);

/* audio.json, audio_report.md and the charts (audiobench_output.c). 0 or
 * STT_EIO with err. */
int ab_write_outputs(const stt_audiobench *b, char *err, size_t errlen);
/* The document alone (for tests through the outputs). */
json_t *ab_document(const stt_audiobench *b);

#endif
