/* mix: a traffic mix, the audio files a service receives and their shares.
 *
 * One grammar for every mix the laboratory reads (the load generator, the
 * planner, the report). A mix file is one of:
 *
 * - a corpus manifest, as `sttbench corpus` writes it: the corpus folder
 *   itself, DIR/manifest, DIR/manifest.json or DIR/manifest.tsv (with
 *   DIR/manifest.json beside it). Every file of the manifest weighs 1; the
 *   selection parameters below keep, drop and weigh them.
 * - an audio.json (its results' files, each once, weight 1; the single
 *   clips of its "clips" set, measured for the fixed cost, are left out);
 *   its entries have durations and names but no readable path.
 * - a text list of "PATH [WEIGHT]" lines: PATH (no white space) relative to
 *   the list's folder unless absolute, WEIGHT a real >= 0 (1 when absent; 0
 *   leaves the line out); blank lines and lines starting with '#' are skipped.
 *   Each file's duration is read with libsndfile.
 *
 * Weights are real numbers everywhere: a consumer that needs whole turns (the
 * load generator's request order) derives them from the weights itself.
 * Thread-safe; nothing global.
 */
#ifndef STT_MIX_H
#define STT_MIX_H

#include <stddef.h>

/* A traffic mix: n entries with durations (s) and weights (> 0), what the
 * queueing model needs; a caller may build one by hand ({dur, w, n}). What
 * stt_mix_read() allocates is freed with stt_mix_free(). */
typedef struct stt_mix {
    double *duration_s; /* 0 when unknown (only with require_durations = 0) */
    double *weight;
    size_t n;
} stt_mix;

/* The files behind a mix's entries, entry by entry (what a load generator
 * uploads and a trace names). Owned by the reader (stt_mix_files_free). */
typedef struct stt_mix_files {
    size_t n;      /* the mix's n */
    char **path;   /* readable file of each entry, or NULL (audio.json entries) */
    char **name;   /* the entry's name: the manifest's file, the list's PATH */
    char **format; /* "wav", "mp3", ... from the manifest or the extension; or NULL */
} stt_mix_files;

/* How a mix file is read; stt_mix_default_params() holds every default. */
typedef struct stt_mix_params {
    /* Corpus manifest only (STT_EINVAL for another kind of mix file): */
    const char *weights;   /* "FILE=W,...": weight W >= 0 of FILE (0 drops it); others 1; NULL */
    const char *formats;   /* "wav,flac": only files of these formats; NULL: all */
    double max_duration_s; /* only files of at most this length; <= 0: no limit (default 0) */
    /* 1 (default): a list entry whose duration libsndfile cannot read fails
     * with STT_EAUDIO; 0: its duration is 0 and the entry is kept. */
    int require_durations;
} stt_mix_params;

stt_mix_params stt_mix_default_params(void);

/* Reads the mix file at path (any kind above) with p (NULL: defaults) into
 * *m and, when files is not NULL, its files into *files. Returns 0; STT_EIO (cannot read),
 * STT_EINVAL (malformed line or selection, a --mix-weights name not in the manifest, selection on a
 * file that is not a corpus manifest, nothing selected), STT_EAUDIO or STT_ENOMEM, with err naming
 * the file and line. *m and *files are empty on failure. */
int stt_mix_read(const char *path, const stt_mix_params *p, stt_mix *m, stt_mix_files *files,
                 char *err, size_t errlen);

/* stt_mix_read() with the defaults. */
int stt_mix_load(const char *path, stt_mix *m, char *err, size_t errlen);

void stt_mix_free(stt_mix *m);
void stt_mix_files_free(stt_mix_files *f);

/* Index of the entry whose name, or the last component of whose name, is
 * name; -1 when none. */
int stt_mix_find(const stt_mix_files *f, const char *name);

/* Index of the entry nearest in duration to duration_s (the first of equals);
 * -1 for an empty mix. */
int stt_mix_nearest(const stt_mix *m, double duration_s);

/* The sum of the weights. */
double stt_mix_total_weight(const stt_mix *m);

#endif
