/* clock: a monotonic clock that advances with time, and UTC stamps. */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "testlib.h"

static void test_monotonic(void)
{
    double a = stt_now_s();
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    double b = stt_now_s();
    CHECK(b - a >= 0.019 && b - a < 2);
}

static void test_utc(void)
{
    char s[32];
    stt_utc_now(s, sizeof s);
    CHECK(strlen(s) == 20);
    CHECK(s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[19] == 'Z');
    char tiny[4] = "xxx";
    stt_utc_now(tiny, sizeof tiny);
    CHECK(tiny[0] == 0); /* too small: empty, never a partial stamp */
}

int main(void)
{
    TEST_RUN(test_monotonic);
    TEST_RUN(test_utc);
    return test_summary();
}
