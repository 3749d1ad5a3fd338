/* corpus: the real-speech benchmark corpus and its manifest.
 *
 * stt_corpus_build() turns the speech Debian ships in pocketsphinx-testdata
 * (LibriVox and AN4 "cards" clips, goforward.raw) into benchmark files from
 * about 8 s to about 13.5 min: clips are concatenated in a fixed order, each
 * followed by a pause of exact digital silence, and every file's reference is
 * the concatenation of its clips' references. The same speech is also written
 * as MP3, FLAC, Ogg/Vorbis and 44.1 kHz stereo WAV. Output is deterministic:
 * two builds from the same testdata give identical bytes.
 *
 * The manifest (DIR/manifest.json, with DIR/manifest.tsv for shell use) lists
 * every file; stt_corpus_load_manifest() reads it back for other subcommands.
 * Nothing here keeps global state; every function is thread-safe.
 */
#ifndef STT_CORPUS_H
#define STT_CORPUS_H

#include <stddef.h>

typedef struct stt_corpus_params {
    const char *testdata_dir; /* pocketsphinx-testdata; default /usr/share/pocketsphinx/test/data */
    double max_duration_s;    /* build only lengths up to this (<= 0: all) */
    double pause_s;           /* silence after every clip; default 0.6 */
    int formats;              /* also write the MP3/FLAC/OGG/44.1k copies; default 1 */
    int clips;                /* also write the clip set (STT_CORPUS_CLIPS_DIR); default 1 */
} stt_corpus_params;

/* The clip set: each source clip alone with its pause (1 to 7 s, one
 * utterance each), in this subfolder of the corpus with a manifest of its
 * own, so that other readers of the main manifest do not see it. */
#define STT_CORPUS_CLIPS_DIR "clips"

typedef struct stt_corpus_entry {
    char *file;        /* name relative to the corpus directory */
    double duration_s; /* audio length, from the sample count */
    long long bytes;   /* file size */
    char *format;      /* "wav", "mp3", "flac", "ogg" */
    int sample_rate;
    int channels;
    char *reference; /* lower-case words of every clip, in order */
    int clips;       /* number of source clips concatenated */
} stt_corpus_entry;

stt_corpus_params stt_corpus_default_params(void);

/* Writes the corpus into out_dir (created if missing; existing files of the
 * same names are replaced). On success *out / *n_out (either may be NULL)
 * receive the entries of both manifests (the clip set's files named
 * "clips/NAME"), to free with stt_corpus_free_entries().
 * Returns 0, STT_EIO (testdata missing, write failure), STT_EAUDIO or STT_ENOMEM. */
int stt_corpus_build(const char *out_dir, const stt_corpus_params *p, stt_corpus_entry **out,
                     size_t *n_out, char *err, size_t errlen);

/* Reads dir/manifest.json. The caller frees *out with stt_corpus_free_entries().
 * Returns 0, STT_EIO (no such file), STT_EINVAL (malformed) or STT_ENOMEM. */
int stt_corpus_load_manifest(const char *dir, stt_corpus_entry **out, size_t *n_out, char *err,
                             size_t errlen);

/* dir/manifest.json followed by the clip set's manifest when there is one,
 * its files named "clips/NAME" (relative to dir). As load_manifest. */
int stt_corpus_load_all(const char *dir, stt_corpus_entry **out, size_t *n_out, char *err,
                        size_t errlen);

void stt_corpus_free_entries(stt_corpus_entry *e, size_t n);

/* The benchmark's selection rule: 1 when the entry is measured under
 * max_duration_s (duration <= max; max <= 0 means no limit), 0 when skipped. */
int stt_corpus_selected(const stt_corpus_entry *e, double max_duration_s);

/* The references of a testdata clip set, for tests: the reference text of
 * clip `id` (e.g. "sense_and_sensibility_01_austen_64kb-0880", "cards/003",
 * "goforward") into buf. Returns 0 or STT_ENOTFOUND / STT_EIO. */
int stt_corpus_clip_reference(const char *testdata_dir, const char *id, char *buf, size_t len,
                              char *err, size_t errlen);

/* The samples of a testdata clip (16 kHz mono, 16-bit) into *pcm (malloc'd,
 * the caller frees) and *n. Returns 0 or STT_EIO / STT_EAUDIO / STT_ENOMEM. */
int stt_corpus_clip_pcm(const char *testdata_dir, const char *id, short **pcm, size_t *n, char *err,
                        size_t errlen);

#define STT_CORPUS_RATE 16000

#endif
