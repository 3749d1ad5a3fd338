#include "histogram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Layout: indices [0, 2048) hold the values 0..2047 exactly; for a value with its
 * highest set bit at position b >= 11, shift = b - 10 keeps 11 significant bits
 * (v >> shift in [1024, 2047]) and the index is 2048 + (shift - 1) * 1024 +
 * (v >> shift) - 1024. */
#define SUB_BITS 11
#define SUB_COUNT (1u << SUB_BITS)
#define HALF_COUNT (SUB_COUNT / 2)
#define MAX_BITS 36
#define NBUCKETS (SUB_COUNT + (MAX_BITS - SUB_BITS + 1) * HALF_COUNT)

struct stt_histogram {
    uint64_t count, min, max;
    double sum;
    uint64_t counts[NBUCKETS];
};

static unsigned bucket_of(uint64_t v)
{
    if (v >= STT_HISTOGRAM_MAX) v = STT_HISTOGRAM_MAX - 1;
    if (v < SUB_COUNT) return (unsigned)v;
    unsigned b = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = b - (SUB_BITS - 1);
    return SUB_COUNT + (shift - 1) * HALF_COUNT + (unsigned)(v >> shift) - HALF_COUNT;
}

/* The lowest value of bucket i and its width. */
static void bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
    if (i < SUB_COUNT) {
        *lo = i;
        *width = 1;
        return;
    }
    unsigned shift = (i - SUB_COUNT) / HALF_COUNT + 1;
    uint64_t sub = (i - SUB_COUNT) % HALF_COUNT + HALF_COUNT;
    *lo = sub << shift;
    *width = (uint64_t)1 << shift;
}

stt_histogram *stt_histogram_create(void)
{
    return calloc(1, sizeof(stt_histogram));
}

void stt_histogram_free(stt_histogram *h)
{
    free(h);
}

void stt_histogram_reset(stt_histogram *h)
{
    memset(h, 0, sizeof *h);
}

void stt_histogram_record(stt_histogram *h, uint64_t value)
{
    if (h->count == 0 || value < h->min) h->min = value;
    if (value > h->max) h->max = value;
    h->count++;
    h->sum += (double)value;
    h->counts[bucket_of(value)]++;
}

void stt_histogram_merge(stt_histogram *dst, const stt_histogram *src)
{
    if (src->count == 0) return;
    if (dst->count == 0 || src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
    for (unsigned i = 0; i < NBUCKETS; i++)
        dst->counts[i] += src->counts[i];
}

uint64_t stt_histogram_count(const stt_histogram *h)
{
    return h->count;
}

uint64_t stt_histogram_min(const stt_histogram *h)
{
    return h->min;
}

uint64_t stt_histogram_max(const stt_histogram *h)
{
    return h->max;
}

double stt_histogram_mean(const stt_histogram *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

uint64_t stt_histogram_percentile(const stt_histogram *h, double p)
{
    if (h->count == 0) return 0;
    if (p <= 0) return h->min;
    if (p >= 100) return h->max;
    /* The epsilon keeps float error from pushing an exact rank up by one. */
    double x = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)ceil(x - x * 1e-12);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t lo, width;
            bucket_range(i, &lo, &width);
            /* The middle of the bucket halves the worst-case error; the exact
             * extremes bound it at both ends. */
            uint64_t v = lo + width / 2;
            if (v < h->min) v = h->min;
            if (v > h->max) v = h->max;
            return v;
        }
    }
    return h->max;
}
