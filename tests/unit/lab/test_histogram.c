#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "histogram.h"
#include "testlib.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array, the histogram's definition. */
static uint64_t ref_percentile(const uint64_t *sorted, size_t n, double p)
{
    if (p <= 0) return sorted[0];
    if (p >= 100) return sorted[n - 1];
    /* The epsilon keeps float error from pushing an exact rank up by one. */
    double x = p / 100.0 * (double)n;
    size_t rank = (size_t)ceil(x - x * 1e-12);
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Log-uniform values from 1 to about 1e9, like latencies in microseconds. */
static uint64_t random_value(void)
{
    double u = (double)(rng() >> 11) / 9007199254740992.0;
    return (uint64_t)exp(u * log(1e9));
}

static const double pcts[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

static void check_against_reference(const stt_histogram *h, uint64_t *vals, size_t n)
{
    qsort(vals, n, sizeof *vals, cmp_u64);
    CHECK(stt_histogram_count(h) == n);
    CHECK(stt_histogram_min(h) == vals[0]);
    CHECK(stt_histogram_max(h) == vals[n - 1]);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
        double want = (double)ref_percentile(vals, n, pcts[i]);
        double got = (double)stt_histogram_percentile(h, pcts[i]);
        double rel = fabs(got - want) / (want > 0 ? want : 1);
        if (rel >= 0.001)
            fprintf(stderr, "  p%g: got %.0f want %.0f (rel %.5f)\n", pcts[i], got, want, rel);
        CHECK(rel < 0.001);
    }
}

static void test_random_against_sort(void)
{
    enum { N = 200000 };
    uint64_t *vals = malloc(N * sizeof *vals);
    stt_histogram *h = stt_histogram_create();
    REQUIRE(vals && h);
    double sum = 0;
    for (size_t i = 0; i < N; i++) {
        vals[i] = random_value();
        sum += (double)vals[i];
        stt_histogram_record(h, vals[i]);
    }
    CHECK(fabs(stt_histogram_mean(h) - sum / N) <= 1e-9 * sum / N);
    check_against_reference(h, vals, N);
    free(vals);
    stt_histogram_free(h);
}

static void test_small_values_exact(void)
{
    stt_histogram *h = stt_histogram_create();
    REQUIRE(h);
    for (uint64_t v = 1; v <= 1000; v++)
        stt_histogram_record(h, v);
    CHECK(stt_histogram_percentile(h, 50) == 500);
    CHECK(stt_histogram_percentile(h, 99) == 990);
    CHECK(stt_histogram_percentile(h, 99.9) == 999);
    CHECK(stt_histogram_min(h) == 1);
    CHECK(stt_histogram_max(h) == 1000);
    stt_histogram_free(h);
}

static void test_empty_and_reset(void)
{
    stt_histogram *h = stt_histogram_create();
    REQUIRE(h);
    CHECK(stt_histogram_count(h) == 0);
    CHECK(stt_histogram_percentile(h, 50) == 0);
    CHECK(stt_histogram_mean(h) == 0);
    stt_histogram_record(h, 123456789);
    CHECK(stt_histogram_percentile(h, 50) == 123456789);
    stt_histogram_reset(h);
    CHECK(stt_histogram_count(h) == 0);
    CHECK(stt_histogram_max(h) == 0);
    /* Beyond the range the buckets clamp, but max stays exact. */
    stt_histogram_record(h, STT_HISTOGRAM_MAX * 4);
    CHECK(stt_histogram_max(h) == STT_HISTOGRAM_MAX * 4);
    stt_histogram_free(h);
}

static void test_merge(void)
{
    enum { N = 50000 };
    uint64_t *vals = malloc(2 * N * sizeof *vals);
    stt_histogram *a = stt_histogram_create(), *b = stt_histogram_create();
    REQUIRE(vals && a && b);
    for (size_t i = 0; i < N; i++) {
        vals[i] = random_value() / 1000 + 1; /* a: small values */
        stt_histogram_record(a, vals[i]);
    }
    for (size_t i = N; i < 2 * N; i++) {
        vals[i] = random_value() + 1000000; /* b: large values */
        stt_histogram_record(b, vals[i]);
    }
    stt_histogram_merge(a, b);
    check_against_reference(a, vals, 2 * N);
    /* Merging an empty histogram changes nothing. */
    stt_histogram_reset(b);
    uint64_t before = stt_histogram_percentile(a, 90);
    stt_histogram_merge(a, b);
    CHECK(stt_histogram_percentile(a, 90) == before);
    CHECK(stt_histogram_count(a) == 2 * N);
    free(vals);
    stt_histogram_free(a);
    stt_histogram_free(b);
}

/* Merging into an empty histogram gives exactly the source: its extremes too. */
static void test_merge_into_empty(void)
{
    stt_histogram *src = stt_histogram_create(), *dst = stt_histogram_create();
    REQUIRE(src && dst);
    for (uint64_t v = 5000; v <= 9000; v += 1000)
        stt_histogram_record(src, v);
    stt_histogram_merge(dst, src);
    CHECK(stt_histogram_count(dst) == 5);
    CHECK(stt_histogram_min(dst) == 5000);
    CHECK(stt_histogram_max(dst) == 9000);
    CHECK(stt_histogram_percentile(dst, 0) == 5000);
    CHECK(stt_histogram_mean(dst) == 7000.0);
    stt_histogram_free(src);
    stt_histogram_free(dst);
}

int main(void)
{
    TEST_RUN(test_random_against_sort);
    TEST_RUN(test_small_values_exact);
    TEST_RUN(test_empty_and_reset);
    TEST_RUN(test_merge);
    TEST_RUN(test_merge_into_empty);
    return test_summary();
}
