/* scaling: on synthetic series with a known answer the intervals cover it,
 * the fits stay in their physical range, too few points give no projection,
 * excluded points stay out, and unclear data say "undetermined". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scaling.h"
#include "testlib.h"

static uint64_t rng = 4242;
static double gauss(void)
{
    double u = stt_stats_uniform(&rng), v = stt_stats_uniform(&rng);
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

#define R 8

/* x[i][r] = truth(i) x drift(r) x noise; lat the same for 1 / latency. */
static void make(const double *cores, const double *truth, size_t k, double noise, double *x,
                 double *lat)
{
    for (size_t r = 0; r < R; r++) {
        double drift = 1 + 0.25 * (stt_stats_uniform(&rng) - 0.5);
        for (size_t i = 0; i < k; i++) {
            x[i * R + r] = truth[i] * drift * exp(noise * gauss());
            if (lat) lat[i * R + r] = 10.0 / (truth[i] * drift * exp(noise * gauss()));
        }
    }
    (void)cores;
}

static stt_scaling_params params(void)
{
    stt_scaling_params p = stt_scaling_default_params();
    p.resamples = 250;
    return p;
}

static void test_known_amdahl_is_covered(void)
{
    /* s = 0.1 over 1, 2, 4, 8 cores: the speedup at 8 and s are covered. */
    double cores[] = {1, 2, 4, 8}, truth[4];
    for (int i = 0; i < 4; i++)
        truth[i] = 3 * stt_amdahl_speedup(0.1, cores[i]);
    int cov_sp = 0, cov_s = 0, trials = 50;
    for (int t = 0; t < trials; t++) {
        double x[4 * R], lat[4 * R];
        make(cores, truth, 4, 0.03, x, lat);
        stt_scaling_input in = {4, R, cores, x, lat, NULL, NULL};
        stt_scaling s;
        stt_scaling_params p = params();
        p.seed = (uint64_t)t + 1;
        REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
        REQUIRE(s.nused == 4);
        double S8 = stt_amdahl_speedup(0.1, 8);
        cov_sp += s.pt[3].speedup.ci.lo <= S8 && S8 <= s.pt[3].speedup.ci.hi;
        cov_s += s.serial.ci.lo <= 0.1 && 0.1 <= s.serial.ci.hi;
        CHECK(s.serial.ci.lo >= 0 && s.serial.ci.hi <= 1);
        CHECK(s.amdahl.status == STT_FIT_OK);
        CHECK(s.usl.status == STT_FIT_OK);
        CHECK(s.cls == STT_SCALING_SUBLINEAR); /* E(8) = 0.59 */
    }
    printf("  speedup(8) covered %d/%d, serial fraction covered %d/%d\n", cov_sp, trials, cov_s,
           trials);
    CHECK(cov_sp >= trials * 93 / 100); /* n = 8: [min, max] of ratios, 99.2% */
    CHECK(cov_s >= trials * 85 / 100);  /* percentile bootstrap at n = 8 */
}

static void test_fits_stay_in_range(void)
{
    /* Faster than linear (cache effects, noise): s is held at 0, never
     * negative, its interval too; USL's sigma and kappa are never negative. */
    double cores[] = {1, 2, 4}, truth[] = {1, 2.3, 4.9};
    double x[3 * R];
    make(cores, truth, 3, 0.01, x, NULL);
    stt_scaling_input in = {3, R, cores, x, NULL, NULL, NULL};
    stt_scaling s;
    stt_scaling_params p = params();
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.amdahl.s == 0 && s.amdahl.bounded);
    CHECK(s.serial.value >= 0 && s.serial.ci.lo >= 0 && s.serial.ci.hi <= 1);
    CHECK(s.usl.sigma >= 0 && s.usl.kappa >= 0);
    for (int i = 0; i < s.nproj; i++)
        CHECK(s.proj[i].lo > 0 && s.proj[i].lo <= s.proj[i].speedup + 1e-9 &&
              s.proj[i].speedup <= s.proj[i].hi + 1e-9);
    /* Slower with more cores: s held at 1, class retrograde. */
    double slow[] = {2, 1.5, 1.2};
    make(cores, slow, 3, 0.01, x, NULL);
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.amdahl.s == 1 && s.amdahl.bounded);
    CHECK(s.serial.ci.hi <= 1);
    CHECK(s.retrograde && s.cls == STT_SCALING_RETROGRADE);
}

static void test_two_core_counts_give_no_projection(void)
{
    /* The 2-core machine: 1 and 2 cores of a profile asked up to 16. */
    double cores[] = {1, 2}, truth[] = {1, 1.8};
    double x[2 * R], lat[2 * R];
    make(cores, truth, 2, 0.02, x, lat);
    stt_scaling_input in = {2, R, cores, x, lat, NULL, NULL};
    stt_scaling s;
    stt_scaling_params p = params();
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.nproj == 0);
    CHECK(s.amdahl.status == STT_FIT_EXACT);
    CHECK(!stt_fit_amdahl_projects(&s.amdahl));
    CHECK(s.usl.status == STT_FIT_NOT_ENOUGH);
    CHECK(s.sigma.n == 0 && isnan(s.sigma.value));
    CHECK(s.dim == STT_DIM_NOT_ENOUGH);
    CHECK(strstr(s.dim_why, "three core counts") != NULL);
    CHECK(s.measured_max == 2 && s.unmeasured_from == 4);
    /* s from the speedup's interval: 2/S - 1, in range, covering 2/1.8 - 1. */
    CHECK(s.serial.ci.lo >= 0 && s.serial.ci.hi <= 1);
    CHECK(fabs(s.serial.value - stt_amdahl_serial_fraction(1, 2, s.pt[1].speedup.value)) < 1e-12);
    CHECK(s.lat_serial.n > 0 && s.lat_serial.ci.lo >= 0);
    /* A single core count: no class, no fit. */
    stt_scaling_input one = {1, R, cores, x, lat, NULL, NULL};
    REQUIRE(stt_scaling_analyse(&one, &p, &s) == 0);
    CHECK(s.cls == STT_SCALING_NOT_ENOUGH);
    CHECK(s.amdahl.status == STT_FIT_NOT_ENOUGH);
}

static void test_excluded_points_stay_out(void)
{
    double cores[] = {1, 2, 4}, truth[] = {1, 1.9, 3.6};
    double x[3 * R];
    make(cores, truth, 3, 0.02, x, NULL);
    int excluded[] = {0, 0, 1};
    stt_scaling_input in = {3, R, cores, x, NULL, excluded, NULL};
    stt_scaling s;
    stt_scaling_params p = params();
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.nused == 2 && s.measured_max == 2);
    CHECK(s.pt[2].excluded && s.pt[2].x.n == R); /* reported ... */
    CHECK(s.pt[2].speedup.n == 0);               /* ... but not used */
    CHECK(s.amdahl.points == 2 && s.nproj == 0);
}

static void test_diminishing_found_and_undetermined(void)
{
    /* First added core: +10; 2 -> 4: +8 per core (0.8); 4 -> 8: +2 per core (0.2). */
    double cores[] = {1, 2, 4, 8}, truth[] = {10, 20, 36, 44};
    double x[4 * R];
    make(cores, truth, 4, 0.005, x, NULL);
    stt_scaling_input in = {4, R, cores, x, NULL, NULL, NULL};
    stt_scaling s;
    stt_scaling_params p = params();
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.dim == STT_DIM_FOUND && s.dim_cores == 8);
    CHECK(s.pt[3].gain_ratio.ci.hi < 0.5);
    CHECK(s.pt[2].gain_ratio.ci.lo > 0.5);
    /* Linear: never reached. */
    double lin[] = {10, 20, 40, 80};
    make(cores, lin, 4, 0.005, x, NULL);
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.dim == STT_DIM_NOT_REACHED);
    CHECK(s.cls == STT_SCALING_LINEAR);
    /* Gain ratio at 4 cores swinging around 0.5 from round to round:
     * undetermined there, said so. */
    double edge[] = {10, 20, 30, 50};
    for (int r = 0; r < R; r++)
        for (int i = 0; i < 4; i++)
            x[i * R + r] = edge[i] * (i == 2 ? (r % 2 ? 1.04 : 0.96) : 1);
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.dim == STT_DIM_UNDETERMINED);
    CHECK(s.dim_cores == 4);
}

static void test_class_undetermined_when_the_interval_straddles(void)
{
    /* Efficiency 0.9 at 2 cores with 10% noise: the interval straddles 0.9. */
    double cores[] = {1, 2}, truth[] = {1, 1.8};
    double x[2 * R];
    make(cores, truth, 2, 0.10, x, NULL);
    stt_scaling_input in = {2, R, cores, x, NULL, NULL, NULL};
    stt_scaling s;
    stt_scaling_params p = params();
    REQUIRE(stt_scaling_analyse(&in, &p, &s) == 0);
    CHECK(s.cls == STT_SCALING_UNDETERMINED);
    CHECK(s.pt[1].efficiency.ci.lo < 0.9 && s.pt[1].efficiency.ci.hi > 0.9);
    /* Linear data over 4 rounds: not enough rounds for a class. */
    double lin[] = {1, 2};
    make(cores, lin, 2, 0.001, x, NULL);
    stt_scaling_input four = {2, 4, cores, x, NULL, NULL, NULL};
    double x4[8];
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 4; r++)
            x4[i * 4 + r] = x[i * R + r];
    four.x = x4;
    REQUIRE(stt_scaling_analyse(&four, &p, &s) == 0);
    CHECK(s.cls == STT_SCALING_UNDETERMINED);
    /* Bad input. */
    double bad[] = {2, 1};
    stt_scaling_input b = {2, R, bad, x, NULL, NULL, NULL};
    CHECK(stt_scaling_analyse(&b, &p, &s) != 0);
}

static void test_threads_optimum(void)
{
    /* 1 thread: 10 s, 2: 5.2 s, 4: 5.0 s, 8: 7 s; 1% noise. 4 is best, 2
     * within 4% of it: tied at a 5% margin, so the fewest threads is 2. */
    int threads[] = {1, 2, 4, 8};
    double truth[] = {10, 5.2, 5.0, 7}, lat[4 * R];
    for (int r = 0; r < R; r++)
        for (int i = 0; i < 4; i++)
            lat[i * R + r] = truth[i] * exp(0.01 * gauss());
    stt_threads_input in = {4, R, threads, lat};
    stt_threads_optimum o;
    REQUIRE(stt_threads_optimum_find(&in, 0.95, 0.05, &o) == 0);
    CHECK(o.best == 2);
    CHECK(o.status == STT_OPT_TIED);
    CHECK(o.tied[1] && !o.tied[0] && !o.tied[3]);
    CHECK(o.recommended == 1);
    CHECK(o.lat[2].median_ci.lo <= 5.0 * 1.03 && o.lat[2].median_ci.hi >= 5.0 * 0.97);
    /* With no tie the best is found. */
    REQUIRE(stt_threads_optimum_find(&in, 0.95, 0.0, &o) == 0);
    CHECK(o.status == STT_OPT_FOUND && o.recommended == 2);
    stt_threads_input one = {1, R, threads, lat};
    REQUIRE(stt_threads_optimum_find(&one, 0.95, 0.05, &o) == 0);
    CHECK(o.status == STT_OPT_NOT_ENOUGH);
}

int main(void)
{
    TEST_RUN(test_known_amdahl_is_covered);
    TEST_RUN(test_fits_stay_in_range);
    TEST_RUN(test_two_core_counts_give_no_projection);
    TEST_RUN(test_excluded_points_stay_out);
    TEST_RUN(test_diminishing_found_and_undetermined);
    TEST_RUN(test_class_undetermined_when_the_interval_straddles);
    TEST_RUN(test_threads_optimum);
    return test_summary();
}
