/* queueing: the planner's model against closed-form queueing results, and the
 * simulated queue against both. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

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

/* Exponential-like service: n draws from an exponential of mean 1 s, rescaled
 * to mean exactly 1 so that only the simulation's own error remains. */
#define EXP_N 20000
static double exp_svc[EXP_N];

static void fill_exp_svc(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    REQUIRE(rng);
    gsl_rng_set(rng, 7);
    double sum = 0;
    for (int i = 0; i < EXP_N; i++)
        sum += exp_svc[i] = gsl_ran_exponential(rng, 1.0);
    for (int i = 0; i < EXP_N; i++)
        exp_svc[i] *= EXP_N / sum;
    gsl_rng_free(rng);
}

static stt_mgc_params exp_params(int servers, double lambda)
{
    stt_mgc_params p = stt_mgc_default_params();
    p.servers = servers;
    p.lambda = lambda;
    p.service_s = exp_svc;
    p.n = EXP_N;
    return p;
}

/* M/M/1: the response time is exponential with rate mu - lambda, so its p95 is
 * -ln(0.05) / (mu - lambda). The long run lands on it; the band of runs as long
 * as a measurement holds it, and is wider for shorter runs. */
static void test_simulate_mm1(void)
{
    double mu = 1.0, lambda = 0.5, exact = -log(0.05) / (mu - lambda);
    stt_mgc_params p = exp_params(1, lambda);
    stt_mgc_sim shortrun, longrun;
    REQUIRE(stt_mgc_simulate(&p, 100, 2.0, 300, 1, &shortrun, NULL, 0) == 0);
    REQUIRE(stt_mgc_simulate(&p, 2000, 2.0, 300, 1, &longrun, NULL, 0) == 0);
    CHECK(near(shortrun.steady, exact, 0.08));
    CHECK(near(longrun.steady, exact, 0.08));
    CHECK(shortrun.lo <= shortrun.mid && shortrun.mid <= shortrun.hi);
    CHECK(shortrun.lo < shortrun.steady && shortrun.steady < shortrun.hi);
    CHECK(longrun.lo < longrun.steady && longrun.steady < longrun.hi);
    CHECK(shortrun.hi - shortrun.lo > 2 * (longrun.hi - longrun.lo));
    /* Another quantile: the median response time is ln(2) / (mu - lambda). */
    p.quantile = 0.5;
    stt_mgc_sim med;
    REQUIRE(stt_mgc_simulate(&p, 100, 2.0, 50, 1, &med, NULL, 0) == 0);
    CHECK(near(med.steady, log(2.0) / (mu - lambda), 0.08));
}

/* M/M/3: the model is exact for exponential service (Allen-Cunneen with cs2 =
 * 1 is Erlang C, the wait independent of the request's own service), so the
 * long run agrees with stt_mgc_eval. */
static void test_simulate_mmc_matches_model(void)
{
    stt_mgc_params p = exp_params(3, 2.1);
    stt_mgc_result r;
    stt_mgc_sim sim;
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    REQUIRE(stt_mgc_simulate(&p, 200, 2.0, 20, 5, &sim, NULL, 0) == 0);
    CHECK(near(sim.steady, r.t_q, 0.08));
}

/* Weights choose the service times: with all the weight on 1 s, a light load
 * never sees the 3 s service; with equal weights its p95 does. */
static void test_simulate_weights(void)
{
    double s[2] = {1.0, 3.0}, w[2] = {1.0, 0.0};
    stt_mgc_params p = stt_mgc_default_params();
    p.servers = 1;
    p.lambda = 0.05;
    p.service_s = s;
    p.n = 2;
    stt_mgc_sim eq, one;
    REQUIRE(stt_mgc_simulate(&p, 200, 0.0, 20, 3, &eq, NULL, 0) == 0);
    p.weight = w;
    REQUIRE(stt_mgc_simulate(&p, 200, 0.0, 20, 3, &one, NULL, 0) == 0);
    CHECK(eq.steady >= 3.0);
    CHECK(one.steady >= 1.0 && one.steady < 3.0);
    CHECK(one.hi < 3.0);
}

/* The same seed gives the same figures, another seed another draw. */
static void test_simulate_deterministic(void)
{
    stt_mgc_params p = exp_params(2, 1.2);
    stt_mgc_sim a, b, c;
    REQUIRE(stt_mgc_simulate(&p, 150, 1.0, 40, 42, &a, NULL, 0) == 0);
    REQUIRE(stt_mgc_simulate(&p, 150, 1.0, 40, 42, &b, NULL, 0) == 0);
    REQUIRE(stt_mgc_simulate(&p, 150, 1.0, 40, 43, &c, NULL, 0) == 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(a.lo != c.lo || a.hi != c.hi || a.steady != c.steady);
}

typedef struct sim_job {
    stt_mgc_params p;
    stt_mgc_sim out;
    int rc;
} sim_job;

static void *sim_thread(void *arg)
{
    sim_job *j = arg;
    j->rc = stt_mgc_simulate(&j->p, 150, 1.0, 40, 42, &j->out, NULL, 0);
    return NULL;
}

/* Calls at the same time from several threads give what one call alone gives. */
static void test_simulate_thread_safe(void)
{
    stt_mgc_params p = exp_params(2, 1.2);
    stt_mgc_sim alone;
    REQUIRE(stt_mgc_simulate(&p, 150, 1.0, 40, 42, &alone, NULL, 0) == 0);
    sim_job jobs[3];
    pthread_t thr[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (sim_job){.p = p, .rc = -100};
        REQUIRE(pthread_create(&thr[i], NULL, sim_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(thr[i], NULL);
        CHECK(jobs[i].rc == 0);
        CHECK(memcmp(&jobs[i].out, &alone, sizeof alone) == 0);
    }
}

static void test_simulate_bad_arguments(void)
{
    stt_mgc_params p = exp_params(1, 0.5);
    stt_mgc_sim out;
    char err[128] = "";
    CHECK(stt_mgc_simulate(NULL, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    CHECK(err[0] != 0);
    CHECK(stt_mgc_simulate(&p, 100, 0, 10, 1, NULL, err, sizeof err) == STT_EINVAL);
    CHECK(stt_mgc_simulate(&p, 0, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    CHECK(stt_mgc_simulate(&p, 100, 0, 0, 1, &out, err, sizeof err) == STT_EINVAL);
    CHECK(stt_mgc_simulate(&p, 100, -1, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    CHECK(stt_mgc_simulate(&p, 100, NAN, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    stt_mgc_params q = p;
    q.lambda = 0;
    CHECK(stt_mgc_simulate(&q, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    q = p;
    q.servers = 0;
    CHECK(stt_mgc_simulate(&q, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    q = p;
    q.n = 0;
    CHECK(stt_mgc_simulate(&q, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    q = p;
    q.quantile = 1.0;
    CHECK(stt_mgc_simulate(&q, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    q = p;
    q.ca2 = 2.0;
    CHECK(stt_mgc_simulate(&q, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    double s[2] = {1.0, 2.0}, neg[2] = {1.0, -1.0}, zero[2] = {0.0, 0.0};
    q = p;
    q.service_s = s;
    q.n = 2;
    q.weight = neg;
    CHECK(stt_mgc_simulate(&q, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
    q.weight = zero;
    CHECK(stt_mgc_simulate(&q, 100, 0, 10, 1, &out, err, sizeof err) == STT_EINVAL);
}

/* ---- the fleet ---- */

static void test_routing_names(void)
{
    for (int r = 0; r < STT_ROUTING_N; r++)
        CHECK(stt_routing_of(stt_routing_name((stt_routing)r)) == r);
    CHECK_STR_EQ(stt_routing_name(STT_ROUTING_CENTRAL), "leastconn");
    CHECK(stt_routing_of("random") == STT_ROUTING_RANDOM);
    CHECK(stt_routing_of("nope") == STT_EINVAL);
    CHECK(stt_routing_name(STT_ROUTING_N) == NULL);
}

/* The formulas: a central queue is M/G/(k c) at the whole rate; random
 * routing k independent M/G/c at rate / k; round robin halves ca2 for k = 2. */
static void test_fleet_eval(void)
{
    stt_fleet_params f = stt_fleet_default_params();
    f.pods = 2;
    f.pod = exp_params(1, 1.2);
    stt_mgc_result central, random, rr, ref;
    f.routing = STT_ROUTING_CENTRAL;
    REQUIRE(stt_fleet_eval(&f, &central, NULL, 0) == 0);
    f.routing = STT_ROUTING_RANDOM;
    REQUIRE(stt_fleet_eval(&f, &random, NULL, 0) == 0);
    f.routing = STT_ROUTING_ROUNDROBIN;
    REQUIRE(stt_fleet_eval(&f, &rr, NULL, 0) == 0);
    stt_mgc_params two = exp_params(2, 1.2), one = exp_params(1, 0.6);
    REQUIRE(stt_mgc_eval(&two, &ref, NULL, 0) == 0);
    CHECK(near(central.t_q, ref.t_q, 1e-12));
    REQUIRE(stt_mgc_eval(&one, &ref, NULL, 0) == 0);
    CHECK(near(random.t_q, ref.t_q, 1e-12));
    CHECK(near(random.rho, 0.6, 1e-3) && near(central.rho, 0.6, 1e-3));
    /* the same utilisation, three tails: central < round robin < random */
    CHECK(central.t_q < rr.t_q && rr.t_q < random.t_q);
    one.ca2 = 0.5;
    REQUIRE(stt_mgc_eval(&one, &ref, NULL, 0) == 0);
    CHECK(near(rr.wq_mean, ref.wq_mean, 1e-12));
    f.capacity = 3;
    char err[128] = "";
    CHECK(stt_fleet_eval(&f, &rr, err, sizeof err) == STT_EINVAL && err[0]);
    f.capacity = 0;
    f.pods = 0;
    CHECK(stt_fleet_eval(&f, &rr, NULL, 0) == STT_EINVAL);
}

static stt_fleet_sim_params sim_params(int requests, int runs, unsigned long seed)
{
    stt_fleet_sim_params s = stt_fleet_sim_default_params();
    s.requests = requests;
    s.runs = runs;
    s.group = 1;
    s.seed = seed;
    return s;
}

/* Random routing of M/M/1 pods: each pod is M/M/1 at rate / k, whose p95 is
 * -ln(0.05) / (mu - lambda / k); a central queue does better. */
static void test_fleet_simulate_routing(void)
{
    stt_fleet_params f = stt_fleet_default_params();
    f.pods = 2;
    f.pod = exp_params(1, 1.2);
    stt_fleet_sim_params s = sim_params(100, 50, 3);
    stt_fleet_sim random, central, rr;
    REQUIRE(stt_fleet_simulate(&f, &s, &random, NULL, 0) == 0);
    CHECK(near(random.steady, -log(0.05) / (1.0 - 0.6), 0.08));
    CHECK(near(random.in_system, 0.6 / (1 - 0.6), 0.08)); /* M/M/1: L = rho / (1 - rho) */
    CHECK(random.refused == 0);
    f.routing = STT_ROUTING_CENTRAL;
    REQUIRE(stt_fleet_simulate(&f, &s, &central, NULL, 0) == 0);
    stt_mgc_params two = exp_params(2, 1.2);
    stt_mgc_result m2;
    REQUIRE(stt_mgc_eval(&two, &m2, NULL, 0) == 0);
    CHECK(near(central.steady, m2.t_q, 0.08));
    f.routing = STT_ROUTING_ROUNDROBIN;
    REQUIRE(stt_fleet_simulate(&f, &s, &rr, NULL, 0) == 0);
    CHECK(central.steady < rr.steady && rr.steady < random.steady);
}

/* M/M/1/K: the refused fraction is (1 - rho) rho^K / (1 - rho^(K+1)). */
static void test_fleet_simulate_capacity(void)
{
    stt_fleet_params f = stt_fleet_default_params();
    f.pod = exp_params(1, 0.5);
    f.capacity = 2;
    stt_fleet_sim_params s = sim_params(50, 10, 5);
    stt_fleet_sim out;
    REQUIRE(stt_fleet_simulate(&f, &s, &out, NULL, 0) == 0);
    double exact = 0.5 * 0.25 / (1 - 0.125);
    CHECK(near(out.refused, exact, 0.05));
    f.capacity = 0;
    REQUIRE(stt_fleet_simulate(&f, &s, &out, NULL, 0) == 0);
    CHECK(out.refused == 0);
    f.capacity = 1;
    f.pod.servers = 2; /* a capacity below the servers makes no sense */
    char err[128] = "";
    CHECK(stt_fleet_simulate(&f, &s, &out, err, sizeof err) == STT_EINVAL && err[0]);
}

/* Groups of runs: the band of a median of 5 runs is inside the band of one run. */
static void test_fleet_simulate_groups(void)
{
    stt_fleet_params f = stt_fleet_default_params();
    f.pod = exp_params(1, 0.6);
    stt_fleet_sim_params s = sim_params(40, 500, 9);
    s.group = 5;
    stt_fleet_sim out;
    REQUIRE(stt_fleet_simulate(&f, &s, &out, NULL, 0) == 0);
    CHECK(out.lo <= out.group_lo && out.group_hi <= out.hi);
    CHECK(out.group_lo < out.mid && out.mid < out.group_hi);
    s.group = 501;
    CHECK(stt_fleet_simulate(&f, &s, &out, NULL, 0) == STT_EINVAL);
}

/* The target utilisation: the model at it meets the objective with the margin,
 * a little above it does not; a bigger margin gives a lower target. */
static void test_target_rho(void)
{
    double one = 1.0;
    stt_mgc_params p = stt_mgc_default_params();
    p.service_s = &one;
    p.n = 1;
    double rho, rho_margin;
    REQUIRE(stt_mgc_target_rho(&p, 5.0, 1.0, -1, &rho, NULL, 0) == 0);
    REQUIRE(stt_mgc_target_rho(&p, 5.0, 1.25, -1, &rho_margin, NULL, 0) == 0);
    CHECK(rho > 0.5 && rho < 1);
    CHECK(rho_margin < rho);
    stt_mgc_result r;
    p.lambda = rho; /* E[S] = 1, one server */
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    CHECK(r.t_q <= 5.0);
    p.lambda = rho + 0.003;
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    CHECK(r.t_q > 5.0);
    /* one request alone takes longer than the objective: nothing is safe */
    REQUIRE(stt_mgc_target_rho(&p, 0.5, 1.0, -1, &rho, NULL, 0) == 0);
    CHECK(rho == 0);
    CHECK(stt_mgc_target_rho(&p, 5.0, 0.5, -1, &rho, NULL, 0) == STT_EINVAL);
}

/* The objective of a class: short requests in a mix with long ones wait as
 * the mix makes them wait but are served in their own time, so a target
 * that no whole-mix p95 could meet exists for them. */
static void test_target_rho_of_a_class(void)
{
    double s[2] = {1.0, 10.0}, w[2] = {0.9, 0.1};
    stt_mgc_params p = stt_mgc_default_params();
    p.servers = 2;
    p.service_s = s;
    p.weight = w;
    p.n = 2;
    double all, shorts;
    REQUIRE(stt_mgc_target_rho(&p, 5.0, 1.0, -1, &all, NULL, 0) == 0);
    REQUIRE(stt_mgc_target_rho(&p, 5.0, 1.0, 1.0, &shorts, NULL, 0) == 0);
    CHECK(all == 0); /* a long request alone takes 10 s */
    CHECK(shorts > 0.1 && shorts < 1);
    stt_mgc_result r;
    p.lambda = shorts * 2 / 1.9; /* E[S] = 1.9 */
    REQUIRE(stt_mgc_eval(&p, &r, NULL, 0) == 0);
    CHECK(1.0 + r.wq_q <= 5.0 + 1e-9);
}

/* M/M/1 at rho 0.5: K = 5 refuses 1.6%, K = 6 0.79%: a 1% budget needs a
 * queue of 5 beyond the one worker. */
static void test_queue_for_budget(void)
{
    stt_mgc_params p = exp_params(1, 0.5);
    int q;
    double refused;
    REQUIRE(stt_mgc_queue_for_budget(&p, 0.01, 20, 11, &q, &refused, NULL, 0) == 0);
    CHECK(q == 5);
    CHECK(refused <= 0.01 && refused > 0.005);
    int q2;
    REQUIRE(stt_mgc_queue_for_budget(&p, 0.001, 20, 11, &q2, &refused, NULL, 0) == 0);
    CHECK(q2 > q);
    /* a budget no queue in range meets: the bound, with its fraction */
    REQUIRE(stt_mgc_queue_for_budget(&p, 1e-9, 2, 11, &q, &refused, NULL, 0) == 0);
    CHECK(q == 2 && refused > 1e-9);
    CHECK(stt_mgc_queue_for_budget(&p, -1, 2, 11, &q, &refused, NULL, 0) == STT_EINVAL);
}

int main(void)
{
    TEST_RUN(test_erlang_c_values);
    TEST_RUN(test_mmc_wait);
    TEST_RUN(test_md1_pollaczek_khinchine);
    TEST_RUN(test_mixture_quantile);
    TEST_RUN(test_max_rate);
    fill_exp_svc();
    TEST_RUN(test_simulate_mm1);
    TEST_RUN(test_simulate_mmc_matches_model);
    TEST_RUN(test_simulate_weights);
    TEST_RUN(test_simulate_deterministic);
    TEST_RUN(test_simulate_thread_safe);
    TEST_RUN(test_simulate_bad_arguments);
    TEST_RUN(test_routing_names);
    TEST_RUN(test_fleet_eval);
    TEST_RUN(test_fleet_simulate_routing);
    TEST_RUN(test_fleet_simulate_capacity);
    TEST_RUN(test_fleet_simulate_groups);
    TEST_RUN(test_target_rho);
    TEST_RUN(test_target_rho_of_a_class);
    TEST_RUN(test_queue_for_budget);
    return test_summary();
}
