/* mix: a traffic mix, the audio lengths a service receives and their shares.
 *
 * One grammar for every mix the laboratory reads (the planner, the report,
 * the load generator): a corpus manifest.json (an array of {file,
 * duration_s}), an audio.json (its results' files, each once), or a text
 * file of "PATH [WEIGHT]" lines where PATH is relative to the file's folder,
 * WEIGHT a positive real (1 when absent) and '#' starts a comment line.
 * Thread-safe; nothing global.
 */
#ifndef STT_MIX_H
#define STT_MIX_H

#include <stddef.h>

/* A traffic mix: audio durations (s) with weights. */
typedef struct stt_mix {
    double *duration_s;
    double *weight;
    size_t n;
} stt_mix;

/* Reads a corpus manifest.json (array of {duration_s}), an audio.json (its
 * results' files, each once) or a load mix file ("PATH [WEIGHT]" lines, durations
 * read with libsndfile). Returns 0 or a negative STT_E* code. */
int stt_mix_load(const char *path, stt_mix *m, char *err, size_t errlen);
void stt_mix_free(stt_mix *m);

#endif
