/* clock: the two clocks the project reads. Durations and deadlines use the
 * monotonic clock (it never jumps with the wall clock); results files and logs
 * carry the wall clock in UTC. Thread-safe. */
#ifndef STT_CLOCK_H
#define STT_CLOCK_H

#include <stddef.h>

/* Seconds of CLOCK_MONOTONIC. */
double stt_now_s(void);

/* The wall clock now as ISO 8601 UTC, "2026-12-01T09:13:47Z", into out
 * (at least 21 bytes; truncated otherwise). */
void stt_utc_now(char *out, size_t len);

#endif
