/* svctime: the service time of one request, as the planner and the
 * deployment decisions model it:
 *
 *     S(d) = fixed + per_audio_s x d / min(pieces(d), threads)
 *
 * - fixed: what a request costs whatever its length (decoding the upload,
 *   finding the pauses, the answer), and per_audio_s: one core's decoding time
 *   per audio second. Both come from audio.json's fit of the processing time
 *   on single-piece files only (fits[] entry with y "process_s_single":
 *   intercept, slope), where no parallel piece hides either.
 * - pieces(d) = max(1, ceil(d / piece_s)), piece_s the mean audio length of a
 *   piece over audio.json's multi-piece results (their "pieces"): sttd cuts a
 *   file at its pauses and decodes `threads` pieces at once.
 *
 * When audio.json has no single-piece fit for the profile, the fit of
 * process_s over every file is used instead: it mixes single- and
 * multi-piece files, so its intercept is not a fixed cost; `single` and
 * `source` say which was used. Without "pieces" in the results piece_s is
 * sttd's longest piece (--max-piece-s, 30 s), which gives the fewest pieces a
 * file can have, the slowest case.
 *
 * The occupation of one worker by a request is S(d) with threads = 1: what a
 * pod of c workers serves c of at a time under load.
 * Pure functions of a loaded document; thread-safe.
 */
#ifndef STT_SVCTIME_H
#define STT_SVCTIME_H

#include <jansson.h>
#include <stddef.h>

#define STT_SVCTIME_MAX_PIECE_S 30.0 /* sttd's --max-piece-s default */

typedef struct stt_svctime {
    char profile[32];
    double fixed_s;      /* s */
    double per_audio_s;  /* s of one core per audio s */
    double piece_s;      /* mean audio s per piece */
    int single;          /* 1: fitted on single-piece files; 0: the mixed fallback */
    int pieces_measured; /* piece_s from results' "pieces" (else the 30 s bound) */
    int fit_index;       /* index of the fit in audio.json's fits[] */
    int n;               /* points of that fit */
    char y[32];          /* "process_s_single" or "process_s" */
} stt_svctime;

/* Reads the model for profile from audio.json's document. Returns 0;
 * STT_ENOTFOUND when the document has no usable fit for that profile (a
 * negative slope or intercept is not usable: no physical cost is negative). */
int stt_svctime_from_audio(const json_t *audio, const char *profile, stt_svctime *out);

/* pieces(d) as above (>= 1). */
int stt_svctime_pieces(const stt_svctime *m, double duration_s);

/* One request of d audio seconds alone on a pod decoding `threads` (>= 1)
 * pieces at once, in s. */
double stt_svctime_request_s(const stt_svctime *m, double duration_s, int threads);

/* The shortest duration (to 1 s, up to 4 h) at which one request alone is at
 * least `gain` (e.g. 0.1) faster on 2 x cores than on `cores`: where a file
 * starts to profit from a bigger pod. INFINITY when none is. */
double stt_svctime_long_threshold_s(const stt_svctime *m, int cores, double gain);

/* "audio.json fits[3]: process_s_single (single-piece files, 7 points); pieces
 * measured (mean 5.4 s)" and the like, into out. */
void stt_svctime_describe(const stt_svctime *m, char *out, size_t len);

#endif
