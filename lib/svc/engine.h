/* engine: a speech recognizer behind a small ops table.
 *
 * An engine model (stt_engine) is created once per profile before workers are
 * forked and is then only used by one worker process at a time (a PocketSphinx
 * decoder is not thread-safe; each forked worker owns its copy-on-write copy).
 * decode() turns one piece of 16 kHz mono audio into words with times relative
 * to the piece's start; each call is independent of earlier calls (the stream
 * state is reset first), so the same samples always give the same words.
 */
#ifndef STT_ENGINE_H
#define STT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "transcript.h"

typedef struct stt_engine stt_engine;

typedef struct stt_engine_ops {
    const char *name;
    /* Loads the model for profile; returns an engine-private handle or NULL with err set. */
    void *(*load)(const char *model_dir, const char *profile, char *err, size_t errlen);
    /* Decodes samples as one utterance, adding words to out (times from piece start). */
    int (*decode)(void *h, const int16_t *samples, size_t n, stt_transcript *out, char *err,
                  size_t errlen);
    void (*unload)(void *h);
} stt_engine_ops;

/* The built-in engines. */
extern const stt_engine_ops stt_engine_pocketsphinx;

stt_engine *stt_engine_load(const stt_engine_ops *ops, const char *model_dir, const char *profile,
                            char *err, size_t errlen);
int stt_engine_decode(stt_engine *e, const int16_t *samples, size_t n, stt_transcript *out,
                      char *err, size_t errlen);
const char *stt_engine_profile(const stt_engine *e);
void stt_engine_free(stt_engine *e);

#endif
