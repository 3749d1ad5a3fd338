/* fit: Amdahl and USL recover known parameters, their intervals cover the
 * truth, both stay in their physical range, too few points project nothing,
 * and the rules follow their definitions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void test_amdahl_held_to_its_range(void)
{
    /* Faster than linear: unconstrained s would be negative (-0.09 was once
     * reported); held at 0, interval inside [0, 1]. */
    double n[] = {1, 2, 4, 1, 2, 4}, sup[] = {1, 2.2, 4.8, 1.02, 2.25, 4.7};
    stt_amdahl_fit f;
    REQUIRE(stt_fit_amdahl(n, sup, 6, &f) == 0);
    CHECK(f.status == STT_FIT_OK);
    CHECK(f.s == 0 && f.bounded);
    CHECK(f.s_ci[0] >= 0 && f.s_ci[1] <= 1 && f.s_ci[0] <= f.s && f.s <= f.s_ci[1]);
    /* Slower with more cores: s held at 1. */
    double slow[] = {2, 1.6, 1.3, 2.1, 1.5, 1.2};
    REQUIRE(stt_fit_amdahl(n, slow, 6, &f) == 0);
    CHECK(f.s == 1 && f.bounded);
    CHECK(f.s_ci[1] <= 1);
    /* Two points faster than linear: exact, still held. */
    double n2[] = {1, 2}, x2[] = {1, 2.1};
    REQUIRE(stt_fit_amdahl(n2, x2, 2, &f) == 0);
    CHECK(f.status == STT_FIT_EXACT && f.s == 0 && !stt_fit_amdahl_projects(&f));
    /* The two-point solution. */
    CHECK(fabs(stt_amdahl_serial_fraction(1, 2, 1.8) - 1.0 / 9.0) < 1e-12);
    CHECK(stt_amdahl_serial_fraction(1, 2, 2.2) == 0);
    CHECK(stt_amdahl_serial_fraction(1, 2, 0.9) == 1);
    CHECK(fabs(stt_amdahl_serial_fraction(2, 4,
                                          stt_amdahl_speedup(0.2, 4) / stt_amdahl_speedup(0.2, 2)) -
               0.2) < 1e-9);
    CHECK(isnan(stt_amdahl_serial_fraction(2, 1, 1.5)));
}

static void test_usl_held_to_its_range(void)
{
    /* Superlinear data pull sigma below 0 unconstrained: held at 0. */
    double n[] = {1, 2, 4, 8}, x[] = {1, 2.1, 4.3, 8.0};
    stt_usl_fit f;
    REQUIRE(stt_fit_usl(n, x, 4, &f) == 0);
    CHECK(f.status == STT_FIT_OK);
    CHECK(f.sigma >= 0 && f.kappa >= 0);
    CHECK(f.sigma_bounded || f.kappa_bounded);
    CHECK(f.sigma_ci[0] >= 0 && f.kappa_ci[0] >= 0);
    CHECK(f.sigma_ci[0] <= f.sigma && f.sigma <= f.sigma_ci[1]);
    CHECK(stt_fit_usl_projects(&f));
    /* Three points: exact, no projection, no peak. */
    REQUIRE(stt_fit_usl(n, x, 3, &f) == 0);
    CHECK(f.status == STT_FIT_EXACT && !stt_fit_usl_projects(&f) && isnan(f.peak_n));
    CHECK(f.sigma >= 0 && f.kappa >= 0);
}

static void test_classify(void)
{
    CHECK(stt_fit_classify(0.92, 0.99, 0) == STT_SCALING_LINEAR);
    CHECK(stt_fit_classify(0.9, 0.95, 0) == STT_SCALING_LINEAR); /* the threshold counts */
    CHECK(stt_fit_classify(0.7, 0.89, 0) == STT_SCALING_SUBLINEAR);
    CHECK(stt_fit_classify(0.85, 0.95, 0) == STT_SCALING_UNDETERMINED);
    CHECK(stt_fit_classify(0.95, 0.99, 1) == STT_SCALING_RETROGRADE);
    CHECK(stt_fit_classify(NAN, NAN, 0) == STT_SCALING_NOT_ENOUGH);
    CHECK(STT_FIT_LINEAR_EFFICIENCY == 0.9);
    CHECK(!strcmp(stt_scaling_class_name(STT_SCALING_UNDETERMINED), "undetermined"));
}

static void test_diminishing(void)
{
    /* First added core: +9. Then 2 -> 4: +6 per core (0.67), 4 -> 8: +4 per
     * core (0.44 < 0.5): the first core count below half is 8. */
    double n[] = {1, 2, 4, 8}, x[] = {10, 19, 31, 47};
    CHECK(stt_fit_diminishing(n, x, 4) == 8);
    CHECK(fabs(stt_fit_gain_ratio(n, x, 4, 2) - 6.0 / 9.0) < 1e-12);
    CHECK(fabs(stt_fit_gain_ratio(n, x, 4, 3) - 4.0 / 9.0) < 1e-12);
    double lin[] = {10, 20, 40, 80};
    CHECK(stt_fit_diminishing(n, lin, 4) == -1);
    /* Two points: no rule (the first added core is the only one). */
    CHECK(stt_fit_diminishing(n, x, 2) == -1);
    CHECK(isnan(stt_fit_gain_ratio(n, x, 2, 1)));
    double flat[] = {10, 9, 12, 14};
    CHECK(stt_fit_diminishing(n, flat, 4) == -1);
}

int main(void)
{
    TEST_RUN(test_amdahl_exact_without_noise);
    TEST_RUN(test_amdahl_two_points_is_exact);
    TEST_RUN(test_amdahl_noise_ci_covers_truth);
    TEST_RUN(test_usl_recovers_parameters);
    TEST_RUN(test_usl_needs_three_points);
    TEST_RUN(test_amdahl_held_to_its_range);
    TEST_RUN(test_usl_held_to_its_range);
    TEST_RUN(test_classify);
    TEST_RUN(test_diminishing);
    return test_summary();
}
