/* sysinfo: the machine description every results file carries. */
#include <string.h>

#include "cpus.h"
#include "sysinfo.h"
#include "testlib.h"

static void test_machine(void)
{
    stt_sysinfo s;
    stt_sysinfo_get(&s);
    CHECK(s.logical_cores >= 1);
    CHECK(s.cpus_allowed >= 1 && s.cpus_allowed <= s.logical_cores);
    CHECK(s.cpus_usable >= 1 && s.cpus_usable <= s.cpus_allowed);
    CHECK(s.cpus_usable == stt_usable_cpus());
    CHECK(s.cpu_quota >= 0);
    CHECK(s.mem_total > 64LL * 1024 * 1024);
    CHECK(strncmp(s.kernel, "Linux ", 6) == 0);
    CHECK(s.cpu_model[0] != 0);
    CHECK(s.hostname[0] != 0);
}

int main(void)
{
    TEST_RUN(test_machine);
    return test_summary();
}
