/* fit: Amdahl and USL recover known parameters, their intervals cover the
 * truth, verdicts follow their definitions, and too few points say so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fit.h"
#include "testlib.h"

/* Deterministic Gaussian noise (Box-Muller on a small LCG). */
static unsigned long long rng = 88172645463325252ULL;
static double uniform(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
    return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

static const double cores[] = {1, 2, 4, 8, 16, 32};

static void test_amdahl_exact_without_noise(void)
{
    double x[6];
    for (int i = 0; i < 6; i++)
        x[i] = 3.0 * stt_amdahl_speedup(0.08, cores[i]);
    stt_amdahl_fit f;
    REQUIRE(stt_fit_amdahl(cores, x, 6, &f) == 0);
    CHECK(f.status == STT_FIT_OK);
    CHECK(f.points == 6);
    CHECK(fabs(f.s - 0.08) < 1e-6);
    CHECK(fabs(f.x1 - 3.0) < 1e-6);
    CHECK(f.s_ci[0] <= 0.08 + 1e-9 && f.s_ci[1] >= 0.08 - 1e-9);
}

static void test_amdahl_two_points_is_exact(void)
{
    /* X(1) = 2, X(2) = 3.6 gives S = 1.8 and s = 2/S - 1 = 1/9. */
    double n[] = {1, 2}, x[] = {2.0, 3.6};
    stt_amdahl_fit f;
    REQUIRE(stt_fit_amdahl(n, x, 2, &f) == 0);
    CHECK(f.status == STT_FIT_EXACT);
    CHECK(fabs(f.s - 1.0 / 9.0) < 1e-6);
    CHECK(fabs(f.x1 - 2.0) < 1e-6);
    CHECK(isnan(f.s_ci[0]) && isnan(f.s_ci[1]));
    /* One core count only, even repeated: not enough. */
    double n1[] = {2, 2}, x1[] = {3.0, 3.1};
    REQUIRE(stt_fit_amdahl(n1, x1, 2, &f) == 0);
    CHECK(f.status == STT_FIT_NOT_ENOUGH);
    CHECK(isnan(f.s));
}

static void test_amdahl_noise_ci_covers_truth(void)
{
    /* Over many noisy data sets the 95% interval covers the truth most of the
     * time, and the estimate is close. Covariance intervals of a nonlinear fit
     * are asymptotic and the noise here is proportional, so the bound is 80%
     * rather than the nominal 95%. */
    int covered = 0, trials = 200;
    for (int t = 0; t < trials; t++) {
        double n[12], x[12];
        for (int i = 0; i < 12; i++) {
            n[i] = cores[i % 6];
            x[i] = 5.0 * stt_amdahl_speedup(0.05, n[i]) * (1 + 0.02 * gauss());
        }
        stt_amdahl_fit f;
        REQUIRE(stt_fit_amdahl(n, x, 12, &f) == 0);
        REQUIRE(f.status == STT_FIT_OK);
        CHECK(fabs(f.s - 0.05) < 0.02);
        covered += f.s_ci[0] <= 0.05 && 0.05 <= f.s_ci[1];
    }
    printf("  Amdahl 95%% interval covered the truth in %d of %d trials\n", covered, trials);
    CHECK(covered >= trials * 80 / 100);
}

static void test_usl_recovers_parameters(void)
{
    double x[6];
    stt_usl_fit truth = {.lambda = 4.0, .sigma = 0.05, .kappa = 0.002};
    for (int i = 0; i < 6; i++)
        x[i] = stt_usl_eval(&truth, cores[i]);
    stt_usl_fit f;
    REQUIRE(stt_fit_usl(cores, x, 6, &f) == 0);
    CHECK(f.status == STT_FIT_OK);
    CHECK(fabs(f.lambda - 4.0) < 1e-4);
    CHECK(fabs(f.sigma - 0.05) < 1e-4);
    CHECK(fabs(f.kappa - 0.002) < 1e-5);
    CHECK(fabs(f.peak_n - sqrt(0.95 / 0.002)) < 0.05);

    int covered_s = 0, covered_k = 0, trials = 100;
    for (int t = 0; t < trials; t++) {
        double n[18], y[18];
        for (int i = 0; i < 18; i++) {
            n[i] = cores[i % 6];
            y[i] = stt_usl_eval(&truth, n[i]) * (1 + 0.01 * gauss());
        }
        REQUIRE(stt_fit_usl(n, y, 18, &f) == 0);
        REQUIRE(f.status == STT_FIT_OK);
        covered_s += f.sigma_ci[0] <= 0.05 && 0.05 <= f.sigma_ci[1];
        covered_k += f.kappa_ci[0] <= 0.002 && 0.002 <= f.kappa_ci[1];
    }
    printf("  USL intervals covered sigma %d, kappa %d of %d\n", covered_s, covered_k, trials);
    CHECK(covered_s >= trials * 80 / 100);
    CHECK(covered_k >= trials * 80 / 100);
}

static void test_usl_needs_three_points(void)
{
    double n[] = {1, 2}, x[] = {1, 1.9};
    stt_usl_fit f;
    REQUIRE(stt_fit_usl(n, x, 2, &f) == 0);
    CHECK(f.status == STT_FIT_NOT_ENOUGH);
    CHECK(isnan(f.sigma) && isnan(f.kappa) && isnan(f.peak_n));
    double n3[] = {1, 2, 4}, x3[] = {1, 1.9, 3.4};
    REQUIRE(stt_fit_usl(n3, x3, 3, &f) == 0);
    CHECK(f.status == STT_FIT_EXACT);
    for (int i = 0; i < 3; i++)
        CHECK(fabs(stt_usl_eval(&f, n3[i]) - x3[i]) < 1e-6);
    CHECK(isnan(f.sigma_ci[0]));
    /* Bad input is refused. */
    double bad[] = {1, -2, 4};
    CHECK(stt_fit_usl(bad, x3, 3, &f) < 0);
    CHECK(stt_fit_amdahl(n3, bad, 3, (stt_amdahl_fit[1]){0}) < 0);
}

static void test_classify(void)
{
    double n[] = {1, 2, 4};
    double lin[] = {1, 1.98, 3.7}, sub[] = {1, 1.8, 3.0}, retro[] = {1, 1.8, 1.6};
    CHECK(stt_fit_classify(n, lin, 3) == STT_SCALING_LINEAR);
    CHECK(stt_fit_classify(n, sub, 3) == STT_SCALING_SUBLINEAR);
    CHECK(stt_fit_classify(n, retro, 3) == STT_SCALING_RETROGRADE);
    CHECK(stt_fit_classify(n, lin, 1) == STT_SCALING_NOT_ENOUGH);
    /* Efficiency exactly 0.9 at the largest n counts as linear. */
    double edge[] = {2, 3.6};
    CHECK(stt_fit_classify(n, edge, 2) == STT_SCALING_LINEAR);
}

static void test_diminishing(void)
{
    /* Gains per core: 10 (first), 9, 6, 4 -> the core count after which one
     * more core adds less than half (5) is 4. */
    double n[] = {1, 2, 4, 8}, x[] = {10, 19, 31, 47};
    CHECK(stt_fit_diminishing(n, x, 4) == 4);
    double lin[] = {10, 20, 40, 80};
    CHECK(stt_fit_diminishing(n, lin, 4) == -1);
    CHECK(stt_fit_diminishing(n, x, 1) == -1);
    /* Amdahl: S(n+1) - S(n) < 0.5 first at the computed n. */
    for (double s = 0.01; s < 0.5; s += 0.07) {
        int d = stt_amdahl_diminishing(s);
        CHECK(d >= 1);
        CHECK(stt_amdahl_speedup(s, d + 1) - stt_amdahl_speedup(s, d) < 0.5);
        if (d > 1) CHECK(stt_amdahl_speedup(s, d) - stt_amdahl_speedup(s, d - 1) >= 0.5);
    }
    CHECK(stt_amdahl_diminishing(0) == 0);
}

static void test_optimal_threads(void)
{
    int t[] = {4, 1, 2};
    double lat[] = {10.0, 20.0, 10.2};
    CHECK(stt_fit_optimal_threads(t, lat, 3, 0.03) == 2); /* tie within 3%: fewer threads */
    CHECK(stt_fit_optimal_threads(t, lat, 3, 0.0) == 0);
    double none[] = {NAN, NAN, NAN};
    CHECK(stt_fit_optimal_threads(t, none, 3, 0.03) == -1);
    CHECK(stt_fit_optimal_threads(t, lat, 0, 0.03) == -1);
}

int main(void)
{
    TEST_RUN(test_amdahl_exact_without_noise);
    TEST_RUN(test_amdahl_two_points_is_exact);
    TEST_RUN(test_amdahl_noise_ci_covers_truth);
    TEST_RUN(test_usl_recovers_parameters);
    TEST_RUN(test_usl_needs_three_points);
    TEST_RUN(test_classify);
    TEST_RUN(test_diminishing);
    TEST_RUN(test_optimal_threads);
    return test_summary();
}
