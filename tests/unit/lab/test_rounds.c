/* rounds: the interleaved order is a reproducible permutation; the paired
 * ratio and the round bootstrap cover a known answer at their stated rate on
 * synthetic data with drift; the band and "rounds needed" follow their
 * definitions. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rounds.h"
#include "testlib.h"

static uint64_t rng = 12345;
static double gauss(void)
{
    double u = stt_stats_uniform(&rng), v = stt_stats_uniform(&rng);
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static void test_order_is_a_reproducible_shuffle(void)
{
    int first[6] = {0};
    for (int r = 0; r < 60; r++) {
        int o[6], o2[6], seen[6] = {0};
        stt_rounds_order(6, r, 7, o);
        stt_rounds_order(6, r, 7, o2);
        CHECK(memcmp(o, o2, sizeof o) == 0);
        for (int i = 0; i < 6; i++) {
            REQUIRE(o[i] >= 0 && o[i] < 6);
            seen[o[i]]++;
        }
        for (int i = 0; i < 6; i++)
            CHECK(seen[i] == 1);
        first[o[0]]++;
    }
    /* No configuration is always (or never) first. */
    for (int i = 0; i < 6; i++)
        CHECK(first[i] > 0 && first[i] < 60);
    int a[3], b[3];
    stt_rounds_order(3, 0, 1, a);
    stt_rounds_order(3, 1, 1, b);
    int differ = 0;
    for (int r = 2; r < 10 && !differ; r++) {
        stt_rounds_order(3, r, 1, b);
        differ = memcmp(a, b, sizeof a) != 0;
    }
    CHECK(differ);
}

/* Per-round ratios of B to A, true ratio 1.3, with a drift common to the
 * round (25%) and independent noise: the order-statistic interval covers the
 * true median ratio at its stated coverage (93.75% at n = 5, 96.9% at 6). */
static void coverage_of_ratio(size_t n, double want)
{
    int covered = 0, trials = 2000;
    double cov = NAN;
    for (int t = 0; t < trials; t++) {
        double a[16], b[16];
        for (size_t r = 0; r < n; r++) {
            double drift = 1 + 0.25 * (stt_stats_uniform(&rng) - 0.5);
            a[r] = 10 * drift * exp(0.05 * gauss());
            b[r] = 13 * drift * exp(0.05 * gauss());
        }
        stt_estimate e;
        REQUIRE(stt_rounds_ratio(a, b, n, 0, 0.95, &e) == 0);
        CHECK(e.n == n);
        cov = e.ci.coverage;
        covered += e.ci.lo <= 1.3 && 1.3 <= e.ci.hi;
    }
    double rate = (double)covered / trials;
    printf("  n=%zu: stated coverage %.4f, observed %.4f\n", n, cov, rate);
    CHECK(fabs(cov - want) < 1e-3);
    CHECK(rate > want - 0.025 && rate < want + 0.025);
}

static void test_paired_ratio_covers_the_truth(void)
{
    coverage_of_ratio(5, 0.9375);
    coverage_of_ratio(6, 0.96875);
    /* invert: a / b; missing rounds are left out. */
    double a[] = {2, 4, NAN, 8}, b[] = {1, 2, 3, 4};
    stt_estimate e;
    REQUIRE(stt_rounds_ratio(a, b, 4, 1, 0.95, &e) == 0);
    CHECK(e.n == 3 && fabs(e.value - 2) < 1e-12);
    double z[] = {NAN, NAN};
    CHECK(stt_rounds_ratio(z, z, 2, 0, 0.95, &e) != 0);
    CHECK(e.n == 0 && isnan(e.value));
}

typedef struct mean_arg {
    const double *x;
} mean_arg;

static double mean_stat(const size_t *idx, size_t n, void *arg)
{
    const mean_arg *m = arg;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += m->x[idx[i]];
    return s / (double)n;
}

static void test_bootstrap_covers_and_is_deterministic(void)
{
    /* The percentile bootstrap of a mean of 20 normal values: near 95%. */
    int covered = 0, trials = 300;
    for (int t = 0; t < trials; t++) {
        double x[20];
        for (int i = 0; i < 20; i++)
            x[i] = 5 + gauss();
        mean_arg a = {x};
        stt_estimate e;
        REQUIRE(stt_rounds_bootstrap(20, mean_stat, &a, 0.95, 500, (uint64_t)t, &e) == 0);
        covered += e.ci.lo <= 5 && 5 <= e.ci.hi;
        CHECK(e.ci.coverage == 0.95);
    }
    printf("  bootstrap mean, n=20: %d of %d covered\n", covered, trials);
    CHECK(covered >= trials * 88 / 100);
    double x[] = {1, 2, 3, 4, 5};
    mean_arg a = {x};
    stt_estimate e1, e2;
    stt_rounds_bootstrap(5, mean_stat, &a, 0.95, 400, 9, &e1);
    stt_rounds_bootstrap(5, mean_stat, &a, 0.95, 400, 9, &e2);
    CHECK(e1.ci.lo == e2.ci.lo && e1.ci.hi == e2.ci.hi);
    CHECK(fabs(e1.value - 3) < 1e-12);
    CHECK(e1.ci.lo >= 1 && e1.ci.hi <= 5 && e1.ci.lo < 3 && e1.ci.hi > 3);
    CHECK(stt_rounds_bootstrap(1, mean_stat, &a, 0.95, 400, 9, &e1) != 0);
}

static void test_band_and_rounds_needed(void)
{
    stt_estimate e = {5, 1.2, {1.1, 1.3, 0.94}, "x"};
    int eq;
    CHECK(stt_rounds_side(&e, 0.05, &eq) == STT_ABOVE && !eq);
    e = (stt_estimate){5, 0.8, {0.7, 0.9, 0.94}, "x"};
    CHECK(stt_rounds_side(&e, 0.05, &eq) == STT_BELOW);
    e = (stt_estimate){5, 1.0, {0.97, 1.02, 0.94}, "x"};
    CHECK(stt_rounds_side(&e, 0.05, &eq) == STT_UNDETERMINED && eq);
    e = (stt_estimate){5, 1.04, {0.9, 1.2, 0.94}, "x"};
    CHECK(stt_rounds_side(&e, 0.05, &eq) == STT_UNDETERMINED && !eq);
    CHECK(stt_rounds_side(NULL, 0.05, &eq) == STT_UNDETERMINED);
    /* Fewer rounds than the minimum decide nothing, however narrow. */
    e = (stt_estimate){4, 1.5, {1.49, 1.51, 0.875}, "x"};
    CHECK(stt_rounds_side(&e, 0.05, &eq) == STT_UNDETERMINED && !eq);
    /* 1.2 with half-width 0.2 against 1.05: needs (0.2 / 0.15)^2 x 5 = 8.9 -> 9. */
    e = (stt_estimate){5, 1.2, {1.0, 1.4, 0.94}, "x"};
    CHECK(stt_rounds_needed(&e, 1.05) == 9);
    e = (stt_estimate){5, 1.2, {1.1, 1.3, 0.94}, "x"};
    CHECK(stt_rounds_needed(&e, 1.05) == 0);
    e = (stt_estimate){5, 1.05, {1.0, 1.1, 0.94}, "x"};
    CHECK(stt_rounds_needed(&e, 1.05) == -1);
    stt_estimate none = stt_estimate_none();
    CHECK(stt_rounds_needed(&none, 1) == -1);
}

int main(void)
{
    TEST_RUN(test_order_is_a_reproducible_shuffle);
    TEST_RUN(test_paired_ratio_covers_the_truth);
    TEST_RUN(test_bootstrap_covers_and_is_deterministic);
    TEST_RUN(test_band_and_rounds_needed);
    return test_summary();
}
