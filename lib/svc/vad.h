/* vad: cuts speech at its pauses into pieces the workers decode in parallel.
 *
 * Energy-based voice activity detection over 10 ms frames with an adaptive
 * noise floor. Cuts are placed in the middle of pauses at least
 * min_pause_s long; a piece never exceeds max_piece_s (speech without pauses
 * is cut at the quietest frame inside the allowed window). Pieces cover all
 * speech in order and never overlap; leading/trailing silence may be dropped;
 * audio that is silence only gives zero pieces. The result depends only on the
 * samples and params (deterministic). Thread-safe: no shared state.
 */
#ifndef STT_VAD_H
#define STT_VAD_H

#include <stddef.h>
#include <stdint.h>

typedef struct stt_piece {
    size_t start;     /* first sample */
    size_t n_samples; /* length */
} stt_piece;

typedef struct stt_vad_params {
    double min_pause_s; /* shortest pause that may be cut at (default 0.3) */
    double max_piece_s; /* hard upper bound on a piece (default 30) */
    double min_piece_s; /* shorter pieces are merged with a neighbour (default 1.0) */
    double pad_s;       /* silence kept around speech at each cut (default 0.1) */
} stt_vad_params;

stt_vad_params stt_vad_default_params(void);

/* Splits samples (16 kHz mono); params NULL means the defaults. On success
 * returns 0 with *pieces malloc'd (caller frees; NULL when *n_pieces is 0).
 * Pieces shorter than min_piece_s remain only where merging would exceed
 * max_piece_s. Returns STT_EINVAL for NULL pieces/n_pieces, NULL samples with
 * n > 0, or params out of range (non-finite, min_pause_s <= 0,
 * max_piece_s outside [0.1, 86400], min_piece_s outside [0, max_piece_s],
 * pad_s outside [0, 60], min_pause_s > 3600), and
 * STT_ENOMEM; on failure *pieces is NULL and *n_pieces 0. */
int stt_vad_split(const int16_t *samples, size_t n, const stt_vad_params *params,
                  stt_piece **pieces, size_t *n_pieces);

/* 0 when stt_vad_split() accepts params (the ranges above), else STT_EINVAL:
 * the one home of those ranges, for option checking. */
int stt_vad_params_check(const stt_vad_params *params);

#endif
