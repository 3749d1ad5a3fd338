/* histogram: a log-bucketed histogram of non-negative integer values (the load
 * generator records latencies in microseconds), in the manner of HdrHistogram.
 *
 * Values below 2048 are stored exactly; above, each power-of-two range is split
 * into 1024 equal buckets, so a reported percentile is within 0.05% of a recorded
 * value (better than 3 significant digits). min, max, count and mean are exact.
 * Values above STT_HISTOGRAM_MAX are clamped to it (max still records the truth).
 *
 * Written here because no C library packaged by Debian offers an HdrHistogram-like
 * histogram (GSL's gsl_histogram has fixed bins chosen in advance).
 *
 * Thread safety: none; give each thread its own histogram and merge them.
 */
#ifndef STT_HISTOGRAM_H
#define STT_HISTOGRAM_H

#include <stdint.h>

/* About 19 hours in microseconds. */
#define STT_HISTOGRAM_MAX ((uint64_t)1 << 36)

typedef struct stt_histogram stt_histogram;

/* Returns NULL when out of memory. The histogram holds about 220 KB. */
stt_histogram *stt_histogram_create(void);
void stt_histogram_free(stt_histogram *h);
void stt_histogram_reset(stt_histogram *h);

void stt_histogram_record(stt_histogram *h, uint64_t value);
/* Adds every value of src into dst. */
void stt_histogram_merge(stt_histogram *dst, const stt_histogram *src);

uint64_t stt_histogram_count(const stt_histogram *h);
/* 0 when the histogram is empty. */
uint64_t stt_histogram_min(const stt_histogram *h);
uint64_t stt_histogram_max(const stt_histogram *h);
double stt_histogram_mean(const stt_histogram *h);
/* The value at percentile p (0..100) by the nearest-rank rule: the smallest
 * recorded value v such that at least p% of the values are <= v, to the
 * histogram's precision; p <= 0 gives min, p >= 100 gives max; 0 when empty. */
uint64_t stt_histogram_percentile(const stt_histogram *h, double p);

#endif
