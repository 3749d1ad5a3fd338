/* trace: recorded arrivals that `sttbench load --trace` replays.
 *
 * A trace file is text, one arrival per line:
 *
 *     # sttlab trace 1
 *     # offset_s  what
 *     0.000      speech_0008s.wav
 *     0.412      25.3
 *     1.950      -
 *
 * OFFSET_S is the arrival's time in seconds after the trace's start (>= 0,
 * never earlier than the line before). WHAT says which upload it sends: a
 * file name of the mix (matched by name or last path component), a number
 * (an audio duration in seconds: the mix's file nearest in length), or '-'
 * or nothing (the mix's weighted order). Blank lines and lines starting with
 * '#' are skipped. A trace made from sttd's request log (stt_trace_from_sttd_log)
 * names durations, so it replays against any mix.
 *
 * Thread-safe; nothing global.
 */
#ifndef STT_TRACE_H
#define STT_TRACE_H

#include <stddef.h>
#include <stdio.h>

#include "mix.h"

typedef struct stt_trace {
    double *at_s;       /* arrival offsets, non-decreasing */
    char **file;        /* the named file, or NULL */
    double *duration_s; /* the named duration, or NaN */
    size_t n;
} stt_trace;

/* Reads the trace at path into *t. Returns 0, STT_EIO (cannot read),
 * STT_EINVAL (a malformed line, an offset going back, no arrival; err names
 * the line) or STT_ENOMEM. *t is empty on failure. */
int stt_trace_read(const char *path, stt_trace *t, char *err, size_t errlen);

/* Writes t in the format above (with its header). Returns 0 or STT_EIO. */
int stt_trace_write(const stt_trace *t, FILE *f);

void stt_trace_free(stt_trace *t);

/* The mean arrival rate (arrivals per second between the first and the
 * last: (n - 1) / span); 0 when n < 2 or the span is 0. */
double stt_trace_rate(const stt_trace *t);

/* The offsets, from the first arrival, stretched or compressed in time so
 * that the mean rate is `rate` (> 0): out[i] = (at[i] - at[0]) *
 * stt_trace_rate(t) / rate. The order and the relative gaps, bursts
 * included, stay as recorded. rate <= 0 (or a trace with no rate) copies
 * the offsets from the first arrival unchanged. */
void stt_trace_scaled(const stt_trace *t, double rate, double *out);

/* The upload of each arrival in m / f: body[i] = the entry named, or nearest
 * in duration, or -1 (the weighted order). Returns 0, or STT_EINVAL when a
 * named file is not in the mix (err names it and the arrival). */
int stt_trace_bind(const stt_trace *t, const stt_mix *m, const stt_mix_files *f, int *body,
                   char *err, size_t errlen);

/* A trace from sttd's request log (its stderr without --quiet): one arrival
 * per transcription request (POST /v1/audio/transcriptions or /inference,
 * whatever its status: arrivals are arrivals), at the logged completion time
 * less its total_ms, with the logged audio duration (none when 0: the
 * request was not decoded). Other lines are skipped. Sorted by arrival, from
 * 0. Returns 0, STT_EINVAL (no request in the log) or STT_ENOMEM. */
int stt_trace_from_sttd_log(FILE *log, stt_trace *t, char *err, size_t errlen);

#endif
