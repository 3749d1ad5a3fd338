/* ctest: labels=unit timeout=30 */
/* queueing: the planner's model against closed-form queueing results. */
#include <math.h>

#include "error.h"
#include "queueing.h"
#include "testlib.h"

static int near(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(b), 1e-12);
}

/* Textbook Erlang C values. */
static void test_erlang_c_values(void)
{
    CHECK(near(stt_erlang_c(1, 0.5), 0.5, 1e-12)); /* M/M/1: P(wait) = rho */
    CHECK(near(stt_erlang_c(2, 1.0), 1.0 / 3.0, 1e-12));
    CHECK(near(stt_erlang_c(3, 2.0), 4.0 / 9.0, 1e-12));
    /* Call-centre example: 10 erlangs on 12 agents -> 0.4493 (Erlang C tables). */
    CHECK(near(stt_erlang_c(12, 10.0), 0.4493, 1e-3));
    CHECK(stt_erlang_c(4, 4.0) == 1.0);
    CHECK(stt_erlang_c(4, 0.0) == 0.0);
    CHECK(isnan(stt_erlang_c(0, 1.0)));
    /* Large c stays finite and in (0, 1). */
    double big = stt_erlang_c(500, 480.0);
    CHECK(big > 0 && big < 1);
}

/* M/M/1: Wq = rho / (mu - lambda); M/M/c: Wq = C(c, a) / (c mu - lambda). */
static void test_mmc_wait(void)
{
    CHECK(near(stt_mmc_wq(1, 0.5, 1.0), 1.0, 1e-12));
    CHECK(near(stt_mmc_wq(1, 0.8, 1.0), 4.0, 1e-12));
    CHECK(near(stt_mmc_wq(3, 2.0, 1.0), (4.0 / 9.0) / (3.0 - 2.0), 1e-12));
    CHECK(isinf(stt_mmc_wq(2, 1.0, 2.0)));
    /* M/M/1 waiting-time quantile: P(W > t) = rho exp(-(mu - lambda) t). */
    double pw = 0.5, wq = stt_mmc_wq(1, 0.5, 1.0);
    CHECK(near(stt_wait_quantile(pw, wq, 0.95), log(0.5 / 0.05) / 0.5, 1e-12));
    CHECK(stt_wait_quantile(pw, wq, 0.4) == 0.0);
}

/* M/D/1 with Allen-Cunneen (cs2 = 0) equals Pollaczek-Khinchine:
 * Wq = rho / (2 mu (1 - rho)). */
static void test_md1_pollaczek_khinchine(void)
{
    double s = 2.0;
    stt_mgc_params p = stt_mgc_default_params();
    p.servers = 1;
    p.lambda = 0.3;
    p.service_s = &s;
    p.n = 1;
    stt_mgc_result r;
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    double rho = 0.6;
    CHECK(r.stable);
    CHECK(near(r.rho, rho, 1e-12));
    CHECK(r.cs2 == 0.0);
    CHECK(near(r.wq_mean, rho * s / (2 * (1 - rho)), 1e-12));
    /* Deterministic service: T = S + W exactly. */
    CHECK(near(r.t_q, s + r.wq_q, 1e-6));
}

/* Two service times 1 s and 3 s, equal weights: E[S] = 2, Var = 1, cs2 = 0.25. The
 * response quantile satisfies its own tail equation. */
static void test_mixture_quantile(void)
{
    double s[2] = {1.0, 3.0};
    stt_mgc_params p = stt_mgc_default_params();
    p.servers = 2;
    p.lambda = 0.6;
    p.service_s = s;
    p.n = 2;
    stt_mgc_result r;
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    CHECK(near(r.mean_s, 2.0, 1e-12));
    CHECK(near(r.cs2, 0.25, 1e-12));
    CHECK(near(r.wq_mean, stt_mmc_wq(2, 0.6, 2.0) * (1 + 0.25) / 2, 1e-12));
    double th = r.p_wait / r.wq_mean, t = r.t_q;
    double tailp = 0.5 * (t < 1 ? 1 : r.p_wait * exp(-th * (t - 1))) +
                   0.5 * (t < 3 ? 1 : r.p_wait * exp(-th * (t - 3)));
    CHECK(near(tailp, 0.05, 1e-6));
    /* Unstable load. */
    p.lambda = 1.0;
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    CHECK(!r.stable && isinf(r.t_q));
}

static void test_max_rate(void)
{
    double s = 1.0;
    stt_mgc_params p = stt_mgc_default_params();
    p.servers = 4;
    p.service_s = &s;
    p.n = 1;
    double rate = -1;
    REQUIRE(stt_mgc_max_rate(&p, 2.0, &rate, NULL, 0) == 0);
    CHECK(rate > 0 && rate < 4.0);
    stt_mgc_result r;
    p.lambda = rate;
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    CHECK(r.t_q <= 2.0 + 1e-9);
    p.lambda = rate * 1.01;
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    CHECK(r.t_q > 2.0 * 0.999);
    /* An objective below the service time itself is unreachable. */
    REQUIRE(stt_mgc_max_rate(&p, 0.5, &rate, NULL, 0) == 0);
    CHECK(rate == 0);
    char err[128] = "";
    CHECK(stt_mgc_max_rate(&p, 0.0, &rate, err, sizeof err) == STT_EINVAL);
    p.n = 0;
    CHECK(stt_mgc_eval(&p, &r, err, sizeof err) == STT_EINVAL);
    CHECK(err[0] != 0);
}

int main(void)
{
    TEST_RUN(test_erlang_c_values);
    TEST_RUN(test_mmc_wait);
    TEST_RUN(test_md1_pollaczek_khinchine);
    TEST_RUN(test_mixture_quantile);
    TEST_RUN(test_max_rate);
    return test_summary();
}
