/* capacity: with a known answer the verdicts name it with intervals that
 * cover it; noisy data give "undetermined at this n" with what would settle
 * it; conflicting metrics give "mixed"; a p95 needs its n; inputs that are
 * not at equal capacity are refused. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "capacity.h"
#include "testlib.h"

static uint64_t rng = 777;
static double gauss(void)
{
    double u = stt_stats_uniform(&rng), v = stt_stats_uniform(&rng);
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}
static double expo(void)
{
    return -log(1 - stt_stats_uniform(&rng));
}

#define R 6
#define NP 12

typedef struct world {
    double thr[2][R], sh[2][R], lg[2][R];
    double pois[2][R][NP];
    const double *pp[2][R];
    size_t np[2][R];
} world;

/* Strong 1 x 1.0 against weak 2 x 0.5, with the given weak/strong ratios. */
static void make(world *w, double thr, double sh, double lg, double p95, double noise,
                 stt_capacity_input *in)
{
    for (int r = 0; r < R; r++) {
        double drift = 1 + 0.25 * (stt_stats_uniform(&rng) - 0.5);
        double base[3] = {4, 1, 5}, ratio[3] = {thr, sh, lg};
        for (int c = 0; c < 2; c++) {
            double k[3];
            for (int m = 0; m < 3; m++)
                k[m] =
                    base[m] * (c ? ratio[m] : 1) * (m ? drift : 1 / drift) * exp(noise * gauss());
            w->thr[c][r] = k[0];
            w->sh[c][r] = k[1];
            w->lg[c][r] = k[2];
            for (int j = 0; j < NP; j++)
                w->pois[c][r][j] = (c ? p95 : 1) * drift * expo();
            w->pp[c][r] = w->pois[c][r];
            w->np[c][r] = NP;
        }
    }
    memset(in, 0, sizeof *in);
    in->nconfigs = 2;
    in->nrounds = R;
    for (int c = 0; c < 2; c++) {
        stt_capacity_config *cf = &in->cfg[c];
        cf->cores = c ? 2 : 1;
        cf->speed = c ? 0.5 : 1;
        cf->throughput = w->thr[c];
        cf->short_s = w->sh[c];
        cf->long_s = w->lg[c];
        cf->poisson = w->pp[c];
        cf->npoisson = w->np[c];
        cf->short_pieces = 1;
        cf->long_pieces = 5;
    }
}

static stt_capacity_params params(void)
{
    stt_capacity_params p = stt_capacity_default_params();
    p.resamples = 500;
    return p;
}

static void test_known_answer(void)
{
    /* Equal throughput, short request twice as slow on a half-speed core,
     * long request split across cores: equal; p95 2.5 x. */
    world w;
    stt_capacity_input in;
    make(&w, 1.0, 2.0, 1.0, 2.5, 0.01, &in);
    stt_capacity c;
    stt_capacity_params p = params();
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    REQUIRE(c.npairs == 1 && c.headline == 0);
    const stt_capacity_pair *h = &c.pair[0];
    CHECK(h->m[STT_CAP_THROUGHPUT].side == STT_CAP_EQUAL);
    CHECK(h->m[STT_CAP_SHORT].side == STT_CAP_STRONG);
    CHECK(h->m[STT_CAP_LONG].side == STT_CAP_EQUAL);
    CHECK(h->m[STT_CAP_P95].side == STT_CAP_STRONG);
    CHECK(h->m[STT_CAP_SHORT].ratio.ci.lo <= 2.0 && h->m[STT_CAP_SHORT].ratio.ci.hi >= 2.0);
    CHECK_STR_EQ(c.answer, "strong cores");
    CHECK_STR_EQ(c.confidence, "established");
    CHECK(c.settle[0] == 0);
    CHECK(strstr(c.mechanism, "1 piece(s)") && strstr(c.mechanism, "5 pieces"));
    CHECK(strstr(c.summary, "one short request strong cores") != NULL);
    CHECK(c.p95[0].supported && c.p95[0].n == R * NP);
    CHECK(c.p95[0].ci.lo <= c.p95[0].p95 && c.p95[0].p95 <= c.p95[0].ci.hi);
    CHECK(strstr(stt_capacity_caveat(), "caches") != NULL);
}

static void test_undetermined_says_what_would_settle_it(void)
{
    world w;
    stt_capacity_input in;
    make(&w, 1.02, 1.02, 1.02, 1.0, 0.2, &in);
    stt_capacity c;
    stt_capacity_params p = params();
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    const stt_capacity_pair *h = &c.pair[0];
    CHECK(h->m[STT_CAP_THROUGHPUT].side == STT_CAP_UNDETERMINED);
    CHECK(strstr(h->m[STT_CAP_THROUGHPUT].why, "undetermined at n=6") != NULL);
    CHECK(strstr(h->m[STT_CAP_THROUGHPUT].why, "rounds") != NULL);
    CHECK_STR_EQ(c.answer, "undetermined");
    CHECK_STR_EQ(c.confidence, "undetermined");
    CHECK(strstr(c.settle, "throughput") != NULL);
}

static void test_mixed_and_likely(void)
{
    world w;
    stt_capacity_input in;
    make(&w, 1.25, 2.0, 1.0, 1.0, 0.01, &in);
    stt_capacity c;
    stt_capacity_params p = params();
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    CHECK(c.pair[0].m[STT_CAP_THROUGHPUT].side == STT_CAP_WEAK);
    CHECK_STR_EQ(c.answer, "mixed");
    /* p95 not measured: the others decide, with their confidence. */
    make(&w, 1.0, 2.0, 1.0, 1.0, 0.01, &in);
    in.cfg[0].poisson = in.cfg[1].poisson = NULL;
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    CHECK(c.pair[0].m[STT_CAP_P95].side == STT_CAP_NOT_MEASURED);
    CHECK_STR_EQ(c.answer, "strong cores");
    CHECK_STR_EQ(c.confidence, "established");
    /* An excluded throughput point enters no verdict. */
    in.cfg[1].excluded = 1;
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    CHECK(c.pair[0].m[STT_CAP_THROUGHPUT].side == STT_CAP_UNDETERMINED);
    CHECK(strstr(c.pair[0].m[STT_CAP_THROUGHPUT].why, "excluded") != NULL);
    /* and the summary never prints a ratio it does not have */
    CHECK(strstr(c.summary, "nan") == NULL);
    CHECK_STR_EQ(c.confidence, "likely");
}

static void test_too_few_rounds_decide_nothing(void)
{
    /* A clear difference over 4 rounds: still undetermined, said why. */
    world w;
    stt_capacity_input in;
    make(&w, 1.0, 2.0, 1.0, 2.5, 0.01, &in);
    in.nrounds = 4;
    in.cfg[0].poisson = in.cfg[1].poisson = NULL;
    stt_capacity c;
    stt_capacity_params p = params();
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    CHECK(c.pair[0].m[STT_CAP_SHORT].side == STT_CAP_UNDETERMINED);
    CHECK(strstr(c.pair[0].m[STT_CAP_SHORT].why, "at least 5 rounds") != NULL);
    CHECK_STR_EQ(c.answer, "undetermined");
    /* no ratio is printed where none was computed */
    CHECK(strstr(c.summary, "nan") == NULL);
    /* with only 2 rounds no ratio is computed: the summary says so */
    in.nrounds = 2;
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    CHECK(strstr(c.summary, "nan") == NULL);
}

static void test_p95_needs_its_n(void)
{
    world w;
    stt_capacity_input in;
    make(&w, 1.0, 2.0, 1.0, 1.5, 0.01, &in);
    for (int c = 0; c < 2; c++)
        for (int r = 0; r < R; r++)
            w.np[c][r] = 3; /* 18 in all: below 20 */
    stt_capacity c;
    stt_capacity_params p = params();
    REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
    CHECK(!c.p95[0].supported && c.p95[0].n == 18);
    CHECK(c.pair[0].m[STT_CAP_P95].side == STT_CAP_UNDETERMINED);
    CHECK(strstr(c.pair[0].m[STT_CAP_P95].why, "n too small") != NULL);
}

static void test_p95_ratio_coverage(void)
{
    /* Exponential latencies, the weak ones 1.5 x: the round bootstrap's
     * interval of the p95 ratio covers 1.5 most of the time (a percentile
     * bootstrap over 6 rounds is not exact: the bound is 80%). */
    int covered = 0, trials = 120;
    stt_capacity_params p = params();
    for (int t = 0; t < trials; t++) {
        world w;
        stt_capacity_input in;
        make(&w, 1.0, 2.0, 1.0, 1.5, 0.01, &in);
        stt_capacity c;
        p.seed = (uint64_t)t + 1;
        REQUIRE(stt_capacity_analyse(&in, &p, &c) == 0);
        const stt_estimate *e = &c.pair[0].m[STT_CAP_P95].ratio;
        covered += e->ci.lo <= 1.5 && 1.5 <= e->ci.hi;
    }
    printf("  p95 ratio covered %d of %d\n", covered, trials);
    CHECK(covered >= trials * 80 / 100);
}

static void test_refuses_unequal_capacity(void)
{
    world w;
    stt_capacity_input in;
    make(&w, 1, 1, 1, 1, 0.01, &in);
    stt_capacity c;
    in.cfg[1].speed = 0.6;
    CHECK(stt_capacity_analyse(&in, NULL, &c) != 0);
    in.cfg[1].speed = 0.5;
    in.cfg[0].speed = 0.9;
    CHECK(stt_capacity_analyse(&in, NULL, &c) != 0);
    in.cfg[0].speed = 1;
    in.nconfigs = 1;
    CHECK(stt_capacity_analyse(&in, NULL, &c) != 0);
}

int main(void)
{
    TEST_RUN(test_known_answer);
    TEST_RUN(test_undetermined_says_what_would_settle_it);
    TEST_RUN(test_mixed_and_likely);
    TEST_RUN(test_too_few_rounds_decide_nothing);
    TEST_RUN(test_p95_needs_its_n);
    TEST_RUN(test_p95_ratio_coverage);
    TEST_RUN(test_refuses_unequal_capacity);
    return test_summary();
}
