/* profile: the params hold the documented defaults, --quick changes only
 * what it says, and the plan measures what the machine allows: 1 and 2
 * cores on 2 CPUs with the curve beyond said to be unmeasured, the weak
 * cores only with a writable cgroup, 4 x 1.0 against 8 x 0.5 and 16 x 0.25 on
 * 16, threads searched up to twice the cores; the stability rule sees
 * through the machine's drift between rounds but not through one
 * configuration moving on its own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "profile/internal.h"
#include "testlib.h"

static const stt_profile_config *find(const stt_profile_config *c, int n, const char *label)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(c[i].label, label)) return &c[i];
    return NULL;
}

static void test_defaults_and_quick(void)
{
    stt_profile_params p = stt_profile_default_params();
    CHECK_STR_EQ(p.server_cmd, STT_PROFILE_DEFAULT_CMD);
    CHECK_STR_EQ(p.corpus, "corpus");
    CHECK_STR_EQ(p.out, "results/cpu");
    CHECK(p.rounds == 8 && p.rounds >= 5 && p.extra_rounds == 3 && p.requests == 8);
    CHECK(p.scaling_latency && p.saturation == 0.95);
    CHECK(p.quota == 2 && p.capacity == 1 && p.threads == 2 && p.poisson == 6);
    CHECK(p.period_us == 10000 && p.max_cores == 16 && p.margin == 0.05);
    CHECK(p.short_s == 8 && p.long_s == 60 && !p.quick);
    CHECK(p.request_profile == NULL); /* the server's default */
    stt_profile_quick(&p);
    CHECK(p.quick && p.rounds == 5 && p.extra_rounds == 0 && p.requests == 2);
    CHECK(p.scaling_latency); /* the scale answer's long-request speedup */
    CHECK_STR_EQ(p.request_profile, "fast");
    CHECK(p.quota == 0 && p.threads == 0 && p.poisson == 0 && p.long_s == 28);
    CHECK(p.capacity == 1 && p.margin == 0.05); /* unchanged */
}

static void test_plan_on_two_cores(void)
{
    stt_profile_params p = stt_profile_default_params();
    stt_profile_quick(&p);
    stt_profile_config c[32];
    char notes[2000];
    int n = stt_profile_plan(&p, 2, 1, c, 32, notes, sizeof notes);
    REQUIRE(n == 3);
    const stt_profile_config *one = find(c, n, "cpuset 1"), *two = find(c, n, "cpuset 2"),
                             *w = find(c, n, "2 x 0.5");
    REQUIRE(one && two && w);
    CHECK(!find(c, n, "quota 2")); /* quick: no quota */
    p.quota = 1;
    n = stt_profile_plan(&p, 2, 1, c, 32, notes, sizeof notes);
    CHECK(n == 4 && find(c, n, "quota 2") && !find(c, n, "quota 1"));
    /* ... but where a quota is compared with it, both have the long request */
    CHECK(find(c, n, "cpuset 2")->measure & STT_PROFILE_M_LONG);
    CHECK(find(c, n, "quota 2")->measure & STT_PROFILE_M_LONG);
    p.quota = 0;
    n = stt_profile_plan(&p, 2, 1, c, 32, notes, sizeof notes);
    /* 1 x 1.0 is the 1-core pinned point itself: measured once. */
    CHECK(one->strong && one->workers == 1 && one->threads == 1);
    CHECK(one->measure & STT_PROFILE_M_SHORT);
    CHECK(!(one->measure & STT_PROFILE_M_POISSON)); /* quick: no Poisson p95 */
    CHECK(two->workers == 2 && two->threads == 2 && !two->strong);
    CHECK(two->measure & STT_PROFILE_M_LONG); /* quick too: the scale-up answer rests on it */
    CHECK(w->kind == STT_PROFILE_CAPACITY && w->cores == 2 && w->speed == 0.5 && w->workers == 2);
    CHECK(w->measure & STT_PROFILE_M_THROUGHPUT && w->measure & STT_PROFILE_M_LONG);
    CHECK(strstr(notes, "4 to 16 unmeasured") != NULL);
    CHECK(strstr(notes, "thread search is not measured with --quick") != NULL);
    /* Full: quota at every count, Poisson, the thread search at 1 and 2 up
     * to twice the cores. */
    p = stt_profile_default_params();
    n = stt_profile_plan(&p, 2, 1, c, 32, notes, sizeof notes);
    CHECK(find(c, n, "quota 1") && find(c, n, "quota 2"));
    CHECK(find(c, n, "cpuset 1")->measure & STT_PROFILE_M_POISSON);
    const stt_profile_config *t = find(c, n, "threads @ 2");
    REQUIRE(t);
    CHECK(t->phase == 1 && t->workers == 4 && t->nprobe == 3);
    CHECK(t->probe[0] == 1 && t->probe[1] == 2 && t->probe[2] == 4);
    CHECK(find(c, n, "threads @ 1") && find(c, n, "threads @ 1")->nprobe == 2);
}

static void test_plan_without_cgroups(void)
{
    stt_profile_params p = stt_profile_default_params();
    stt_profile_config c[32];
    char notes[2000];
    int n = stt_profile_plan(&p, 2, 0, c, 32, notes, sizeof notes);
    for (int i = 0; i < n; i++) {
        CHECK(c[i].kind != STT_PROFILE_QUOTA);
        CHECK(c[i].kind != STT_PROFILE_CAPACITY);
        CHECK(!c[i].strong);
    }
    CHECK(find(c, n, "cpuset 1") && find(c, n, "cpuset 2"));
    CHECK(strstr(notes, "writable cgroup (run as root)") != NULL);
    CHECK(strstr(notes, "equal-capacity experiment is not measured") != NULL);
}

static void test_plan_on_sixteen_cores(void)
{
    stt_profile_params p = stt_profile_default_params();
    stt_profile_config c[32];
    char notes[2000];
    int n = stt_profile_plan(&p, 16, 1, c, 32, notes, sizeof notes);
    int cpuset = 0, quota = 0, threads = 0;
    for (int i = 0; i < n; i++) {
        cpuset += c[i].kind == STT_PROFILE_SCALING;
        quota += c[i].kind == STT_PROFILE_QUOTA;
        threads += c[i].kind == STT_PROFILE_THREADS;
    }
    CHECK(cpuset == 5 && quota == 5 && threads == 5);
    const stt_profile_config *s = find(c, n, "4 x 1.0"), *h = find(c, n, "8 x 0.5"),
                             *q = find(c, n, "16 x 0.25");
    REQUIRE(s && h && q);
    CHECK(s->strong && s->kind == STT_PROFILE_CAPACITY && s->speed == 1 && s->workers == 4);
    CHECK(h->cores * h->speed == 4 && q->cores * q->speed == 4);
    const stt_profile_config *t = find(c, n, "threads @ 16");
    REQUIRE(t);
    CHECK(t->workers == 32 && t->probe[t->nprobe - 1] == 32);
    CHECK(notes[0] == 0 || !strstr(notes, "unmeasured"));
}

static void test_plan_refuses_what_does_not_fit(void)
{
    stt_profile_params p = stt_profile_default_params();
    p.cores[0] = 1;
    p.cores[1] = 2;
    p.cores[2] = 32;
    p.ncores = 3;
    p.speeds[0] = 0.3;
    p.nspeeds = 1;
    p.threads = 0;
    stt_profile_config c[32];
    char notes[2000];
    int n = stt_profile_plan(&p, 2, 1, c, 32, notes, sizeof notes);
    CHECK(strstr(notes, "32 cores: more than the 2 usable") != NULL);
    CHECK(strstr(notes, "speed 0.3 does not give a whole number") != NULL);
    for (int i = 0; i < n; i++)
        CHECK(c[i].kind != STT_PROFILE_CAPACITY && c[i].cores <= 2);
    CHECK(!strcmp(stt_profile_kind_name(STT_PROFILE_THREADS), "threads"));
}

/* Four configurations in one phase whose throughput follows the machine's
 * speed in each round, the last three rounds 1.5, 1.8 and 2.1 times the
 * first: each alone would be unstable (1.5 lies 17% under their mean), but
 * relative to the others in its round it is steady. */
static stt_profile *drifting(void)
{
    static const double speed[5] = {1.0, 1.2, 1.5, 1.8, 2.1};
    stt_profile *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->n = 4;
    for (int j = 0; j < r->n; j++) {
        pf_config *c = &r->cfg[j];
        c->c.measure = STT_PROFILE_M_THROUGHPUT;
        c->status = "ok";
        c->nrounds = 5;
        for (int i = 0; i < PF_R; i++) {
            c->util[i] = i < 5 ? 0.99 : NAN;
            c->thr[i] = i < 5 ? (j + 1) * 3.0 * speed[i] : NAN;
        }
    }
    return r;
}

static void test_stability_relative_to_rounds(void)
{
    stt_profile *r = drifting();
    REQUIRE(r);
    for (int j = 0; j < r->n; j++) {
        CHECK(pf_count_rounds(r, &r->cfg[j], 5, 0.95) == 1);
        CHECK(r->cfg[j].stable && r->cfg[j].stable_relative && r->cfg[j].saturated);
    }
    /* Alone in its phase, it has nothing to be relative to: the rule sees
     * the drift. */
    r->cfg[1].c.phase = r->cfg[2].c.phase = r->cfg[3].c.phase = 1;
    CHECK(pf_count_rounds(r, &r->cfg[0], 5, 0.95) == 0);
    CHECK(!r->cfg[0].stable && !r->cfg[0].stable_relative);
    r->cfg[1].c.phase = r->cfg[2].c.phase = r->cfg[3].c.phase = 0;
    /* One configuration 30% faster in the fourth round than the machine
     * was: it is unstable; the other three, each measured against the
     * median of the rest, are not. */
    r->cfg[0].thr[3] *= 1.3;
    CHECK(pf_count_rounds(r, &r->cfg[0], 5, 0.95) == 0);
    CHECK(!r->cfg[0].stable && r->cfg[0].stable_relative);
    for (int j = 1; j < r->n; j++)
        CHECK(pf_count_rounds(r, &r->cfg[j], 5, 0.95) == 1);
    /* A round that does not count (under the saturation share) is left out
     * of the others' speed too. */
    r->cfg[0].util[3] = 0.5;
    CHECK(pf_count_rounds(r, &r->cfg[0], 5, 0.95) == 0); /* 4 counted rounds */
    CHECK(!r->cfg[0].saturated && r->cfg[0].stable);
    free(r);
}

int main(void)
{
    TEST_RUN(test_defaults_and_quick);
    TEST_RUN(test_plan_on_two_cores);
    TEST_RUN(test_plan_without_cgroups);
    TEST_RUN(test_plan_on_sixteen_cores);
    TEST_RUN(test_plan_refuses_what_does_not_fit);
    TEST_RUN(test_stability_relative_to_rounds);
    return test_summary();
}
