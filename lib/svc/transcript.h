/* transcript: what recognition produced, and its output formats.
 *
 * A transcript is an ordered list of segments (one per decoded utterance or
 * piece), each with its words; times are seconds on the file's timeline.
 * Filler and silence tokens (<s>, </s>, <sil>, [NOISE], ...) are never stored:
 * stt_transcript_add_word() drops them and strips pronunciation variants
 * ("read(2)" -> "read").
 * Not thread-safe; a transcript belongs to one request at a time.
 */
#ifndef STT_TRANSCRIPT_H
#define STT_TRANSCRIPT_H

#include <stddef.h>

typedef struct stt_word {
    const char *text;  /* owned by the transcript */
    double start, end; /* seconds */
    double prob;       /* 0..1 posterior, or 1 when the engine gives none */
} stt_word;

typedef struct stt_segment {
    double start, end;
    size_t first_word; /* index into the word list */
    size_t n_words;
} stt_segment;

typedef struct stt_transcript stt_transcript;

stt_transcript *stt_transcript_create(void);
void stt_transcript_free(stt_transcript *t);

/* Opens a new segment; later words belong to it until the next one.
 * Returns 0, STT_ENOMEM or STT_EINVAL (a time not finite or beyond +-1e10 s). */
int stt_transcript_begin_segment(stt_transcript *t, double start, double end);
/* Adds a word to the current segment (opening one if none is open); widens the
 * segment to cover it. Fillers are tokens in <>, [] or ++ ++ (<s>, </s>,
 * <sil>, [NOISE], [UM], ++LAUGH++, ...); bytes that are control characters or
 * invalid UTF-8 are stored as '?'; end < start is read as end = start; prob is
 * clamped to 0..1. Returns 0, STT_ENOMEM, STT_EINVAL (NULL text, or a time
 * that is not finite or beyond +-1e10 s), or 1 when the token was a filler and was dropped. */
int stt_transcript_add_word(stt_transcript *t, const char *text, double start, double end,
                            double prob);
/* Appends every segment and word of src, shifted by offset_s seconds (src's
 * last segment becomes the current one); the duration becomes at least
 * offset_s + src's duration. On failure t is unchanged. */
int stt_transcript_append(stt_transcript *t, const stt_transcript *src, double offset_s);

size_t stt_transcript_n_segments(const stt_transcript *t);
const stt_segment *stt_transcript_segment(const stt_transcript *t, size_t i);
size_t stt_transcript_n_words(const stt_transcript *t);
const stt_word *stt_transcript_word(const stt_transcript *t, size_t i);

/* Duration of the audio it came from (for verbose_json's "duration"). */
void stt_transcript_set_duration(stt_transcript *t, double seconds);
double stt_transcript_duration(const stt_transcript *t);

/* The words joined by single spaces; malloc'd. */
char *stt_transcript_text(const stt_transcript *t);

typedef enum {
    STT_FMT_JSON,         /* {"text": "..."} */
    STT_FMT_TEXT,         /* text + "\n" */
    STT_FMT_VERBOSE_JSON, /* OpenAI verbose_json: task, language, duration, text, segments[, words]
                           */
    STT_FMT_SRT,
    STT_FMT_VTT,
} stt_format;

/* Parses "json", "text", "verbose_json", "srt", "vtt"; returns STT_EINVAL otherwise. */
int stt_format_parse(const char *name, stt_format *out);
const char *stt_format_name(stt_format f);
/* The HTTP media type of a format, e.g. "application/x-subrip". */
const char *stt_format_content_type(stt_format f);

typedef struct stt_format_opts {
    int words;            /* verbose_json: include top-level "words" (granularity word) */
    int segments;         /* verbose_json: include "segments" (default 1) */
    const char *language; /* "en" */
} stt_format_opts;

stt_format_opts stt_format_default_opts(void);

/* Renders t; *out is malloc'd and NUL-terminated, *len excludes the NUL.
 * The bytes depend only on t and opts. JSON is compact with keys in a fixed
 * order; times are rounded to hundredths in verbose_json. Segments without
 * words are left out of verbose_json, srt and vtt. srt/vtt give one cue per
 * segment, except that a segment over 10 s or 16 words is cut at word
 * boundaries into near-equal cues within those limits. verbose_json's
 * avg_logprob is the mean log word posterior and compression_ratio is
 * words / distinct words (1 without repeats). Returns 0, STT_ENOMEM, or
 * STT_EINVAL (unknown format, language not UTF-8). opts may be NULL. */
int stt_transcript_format(const stt_transcript *t, stt_format f, const stt_format_opts *opts,
                          char **out, size_t *len);

/* A compact binary form for passing a transcript between processes
 * (versioned, little-endian, independent of the host).
 * serialize: *out malloc'd. deserialize: validates every count, length, time
 * and word against len and the transcript's invariants, returns STT_EINVAL on
 * any inconsistency (the bytes may come from a crashed process), never reads
 * past buf + len, and allocates at most a small multiple of len. */
int stt_transcript_serialize(const stt_transcript *t, void **out, size_t *len);
int stt_transcript_deserialize(const void *buf, size_t len, stt_transcript **out);

#endif
