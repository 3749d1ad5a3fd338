/* clock: see clock.h. */
#include "clock.h"

#include <time.h>

double stt_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

void stt_utc_now(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (len && !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) out[0] = 0;
}
