/* cpus: the usable-CPU rule, and kernel CPU lists both ways. */
#include <sched.h>
#include <string.h>

#include "cpus.h"
#include "error.h"
#include "testlib.h"

static void test_allowed_and_usable(void)
{
    int cpu[1024];
    int n = stt_cpus_allowed(cpu, 1024);
    REQUIRE(n >= 1);
    for (int i = 1; i < n; i++)
        CHECK(cpu[i] > cpu[i - 1]);
    cpu_set_t set;
    REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
    CHECK(n == CPU_COUNT(&set));
    int u = stt_usable_cpus();
    CHECK(u >= 1 && u <= n);
    double q = stt_cpus_quota();
    CHECK(q >= 0);
    if (q > 0) CHECK(u <= (int)q + 1);
}

/* Pinned to one CPU, the process may use one. */
static void test_usable_follows_affinity(void)
{
    cpu_set_t all, one;
    REQUIRE(sched_getaffinity(0, sizeof all, &all) == 0);
    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
    int u = stt_usable_cpus(), cpu[4], n = stt_cpus_allowed(cpu, 4);
    sched_setaffinity(0, sizeof all, &all);
    CHECK(u == 1);
    CHECK(n == 1 && cpu[0] == first);
}

static void test_lists(void)
{
    int cpu[16];
    char s[64];
    CHECK(stt_cpus_parse("0-3,6\n", cpu, 16) == 5);
    CHECK(cpu[0] == 0 && cpu[3] == 3 && cpu[4] == 6);
    stt_cpus_format(cpu, 5, s, sizeof s);
    CHECK_STR_EQ(s, "0-3,6");
    int one[] = {2, 4, 5};
    stt_cpus_format(one, 3, s, sizeof s);
    CHECK_STR_EQ(s, "2,4-5");
    stt_cpus_format(one, 0, s, sizeof s);
    CHECK_STR_EQ(s, "");
    CHECK(stt_cpus_parse("", cpu, 16) == 0);
    CHECK(stt_cpus_parse("3-1", cpu, 16) == STT_EINVAL);
    CHECK(stt_cpus_parse("1;2", cpu, 16) == STT_EINVAL);
    CHECK(stt_cpus_parse("0-20", cpu, 16) == STT_EINVAL);
    char tiny[4];
    stt_cpus_format(cpu, 0, tiny, sizeof tiny);
    int many[] = {10, 12, 14};
    stt_cpus_format(many, 3, tiny, sizeof tiny);
    CHECK(strlen(tiny) < sizeof tiny); /* truncated at a whole entry */
}

int main(void)
{
    TEST_RUN(test_allowed_and_usable);
    TEST_RUN(test_usable_follows_affinity);
    TEST_RUN(test_lists);
    return test_summary();
}
