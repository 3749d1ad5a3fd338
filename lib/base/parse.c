/* parse: see parse.h. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Parses one integer from s up to stop (s < stop); 0 or STT_EINVAL. */
static int int_span(const char *s, const char *stop, long lo, long hi, long *v)
{
    char *end;
    if (isspace((unsigned char)*s)) return STT_EINVAL;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || end != stop || errno || x < lo || x > hi) return STT_EINVAL;
    *v = x;
    return 0;
}

static int double_span(const char *s, const char *stop, double lo, double hi, double *v)
{
    char *end;
    if (isspace((unsigned char)*s)) return STT_EINVAL;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || end != stop || errno || !isfinite(x) || x < lo || x > hi) return STT_EINVAL;
    *v = x;
    return 0;
}

int stt_parse_int(const char *s, long lo, long hi, int *out)
{
    long v;
    if (!s || lo < -2147483647L - 1 || hi > 2147483647L) return STT_EINVAL;
    if (int_span(s, s + strlen(s), lo, hi, &v)) return STT_EINVAL;
    *out = (int)v;
    return 0;
}

int stt_parse_double(const char *s, double lo, double hi, double *out)
{
    double v;
    if (!s || double_span(s, s + strlen(s), lo, hi, &v)) return STT_EINVAL;
    *out = v;
    return 0;
}

int stt_parse_int_list(const char *s, long lo, long hi, int *out, int max, int *n)
{
    if (!s || !*s || lo < -2147483647L - 1 || hi > 2147483647L) return STT_EINVAL;
    int k = 0;
    for (const char *p = s;; k++) {
        const char *comma = strchr(p, ','), *stop = comma ? comma : p + strlen(p);
        long v;
        if (k >= max || int_span(p, stop, lo, hi, &v)) return STT_EINVAL;
        if (!comma) break;
        p = comma + 1;
    }
    k = 0;
    for (const char *p = s;; p = strchr(p, ',') + 1) {
        out[k++] = (int)strtol(p, NULL, 10);
        if (!strchr(p, ',')) break;
    }
    *n = k;
    return 0;
}

int stt_parse_double_list(const char *s, double lo, double hi, double *out, int max, int *n)
{
    if (!s || !*s) return STT_EINVAL;
    int k = 0;
    for (const char *p = s;; k++) {
        const char *comma = strchr(p, ','), *stop = comma ? comma : p + strlen(p);
        double v;
        if (k >= max || double_span(p, stop, lo, hi, &v)) return STT_EINVAL;
        if (!comma) break;
        p = comma + 1;
    }
    k = 0;
    for (const char *p = s;; p = strchr(p, ',') + 1) {
        out[k++] = strtod(p, NULL);
        if (!strchr(p, ',')) break;
    }
    *n = k;
    return 0;
}
