/* trace: see trace.h. */
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "error.h"
#include "parse.h"

void stt_trace_free(stt_trace *t)
{
    if (!t) return;
    for (size_t i = 0; t->file && i < t->n; i++)
        free(t->file[i]);
    free(t->at_s);
    free(t->file);
    free(t->duration_s);
    memset(t, 0, sizeof *t);
}

static int trace_add(stt_trace *t, size_t *cap, double at, const char *file, double dur)
{
    if (t->n == *cap) {
        size_t n = *cap ? 2 * *cap : 256;
        double *a = realloc(t->at_s, n * sizeof *a);
        if (!a) return STT_ENOMEM;
        t->at_s = a;
        char **f = realloc(t->file, n * sizeof *f);
        if (!f) return STT_ENOMEM;
        t->file = f;
        double *d = realloc(t->duration_s, n * sizeof *d);
        if (!d) return STT_ENOMEM;
        t->duration_s = d;
        *cap = n;
    }
    t->at_s[t->n] = at;
    t->duration_s[t->n] = dur;
    t->file[t->n] = file ? strdup(file) : NULL;
    t->n++;
    return file && !t->file[t->n - 1] ? STT_ENOMEM : 0;
}

int stt_trace_read(const char *path, stt_trace *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    char line[4352];
    size_t cap = 0;
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line + strspn(line, " \t\r\n");
        if (*s == '#' || !*s) continue;
        char at_text[64], what[4096] = "", extra[8] = "";
        int k = sscanf(s, "%63s %4095s %7s", at_text, what, extra);
        double at, dur = NAN;
        if (k < 1 || k > 2 || stt_parse_double(at_text, 0, 1e9, &at)) {
            rc = stt_seterr(err, errlen, STT_EINVAL,
                            "%s:%d: expected 'OFFSET_S [FILE | DURATION_S | -]' with an offset "
                            ">= 0",
                            path, lineno);
            break;
        }
        if (t->n && at < t->at_s[t->n - 1]) {
            rc =
                stt_seterr(err, errlen, STT_EINVAL, "%s:%d: offset %g is earlier than %g before it",
                           path, lineno, at, t->at_s[t->n - 1]);
            break;
        }
        const char *file = NULL;
        if (k == 2 && strcmp(what, "-")) {
            if (stt_parse_double(what, 0, 1e9, &dur)) file = what;
        }
        rc = trace_add(t, &cap, at, file, dur);
    }
    fclose(f);
    if (!rc && t->n == 0) rc = stt_seterr(err, errlen, STT_EINVAL, "%s: no arrival", path);
    if (rc) stt_trace_free(t);
    return rc;
}

int stt_trace_write(const stt_trace *t, FILE *f)
{
    fprintf(f, "# sttlab trace 1\n# offset_s  file | duration_s | -\n");
    for (size_t i = 0; i < t->n; i++) {
        if (t->file && t->file[i])
            fprintf(f, "%.3f %s\n", t->at_s[i], t->file[i]);
        else if (isfinite(t->duration_s[i]))
            fprintf(f, "%.3f %.2f\n", t->at_s[i], t->duration_s[i]);
        else
            fprintf(f, "%.3f -\n", t->at_s[i]);
    }
    return ferror(f) ? STT_EIO : 0;
}

double stt_trace_rate(const stt_trace *t)
{
    if (t->n < 2) return 0;
    double span = t->at_s[t->n - 1] - t->at_s[0];
    return span > 0 ? (double)(t->n - 1) / span : 0;
}

void stt_trace_scaled(const stt_trace *t, double rate, double *out)
{
    double r = stt_trace_rate(t);
    double k = rate > 0 && r > 0 ? r / rate : 1;
    for (size_t i = 0; i < t->n; i++)
        out[i] = (t->at_s[i] - t->at_s[0]) * k;
}

int stt_trace_bind(const stt_trace *t, const stt_mix *m, const stt_mix_files *f, int *body,
                   char *err, size_t errlen)
{
    for (size_t i = 0; i < t->n; i++) {
        body[i] = -1;
        if (t->file && t->file[i]) {
            body[i] = stt_mix_find(f, t->file[i]);
            if (body[i] < 0)
                return stt_seterr(err, errlen, STT_EINVAL,
                                  "trace arrival %zu names %s, which is not in the mix", i + 1,
                                  t->file[i]);
        } else if (isfinite(t->duration_s[i])) {
            body[i] = stt_mix_nearest(m, t->duration_s[i]);
        }
    }
    return 0;
}

/* "2025-01-02T03:04:05.678Z" as seconds since the epoch; 0 or STT_EINVAL. */
static int log_time(const char *s, double *out)
{
    struct tm tm = {0};
    int ms = 0;
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 ||
        z != 'Z')
        return STT_EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (double)timegm(&tm) + ms / 1000.0;
    return 0;
}

/* The number after " key=" in line, or NaN. */
static double log_field(const char *line, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(line, pat);
    if (!p) return NAN;
    char *end;
    double v = strtod(p + strlen(pat), &end);
    return end == p + strlen(pat) ? NAN : v;
}

/* 1 when line logs a transcription request: "... POST /route[?...] status=". */
static int is_transcription(const char *line)
{
    const char *routes[] = {STT_ROUTE_TRANSCRIPTIONS, STT_ROUTE_INFERENCE};
    const char *m = strstr(line, " POST ");
    if (!m) return 0;
    const char *path = m + 6;
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(routes[i]);
        if (!strncmp(path, routes[i], n) && (path[n] == ' ' || path[n] == '?')) return 1;
    }
    return 0;
}

static int cmp_arrival(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

int stt_trace_from_sttd_log(FILE *log, stt_trace *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    /* (arrival, duration) pairs, sorted before they become the trace: the log
     * is in completion order, and a long request completes after later ones. */
    double *pairs = NULL;
    size_t n = 0, cap = 0;
    char line[8192];
    int rc = 0;
    while (fgets(line, sizeof line, log)) {
        double done, total_ms = log_field(line, "total_ms"), audio = log_field(line, "audio_s");
        if (log_time(line, &done) || !is_transcription(line) || !(total_ms >= 0)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            double *p = realloc(pairs, cap * 2 * sizeof *p);
            if (!p) {
                free(pairs);
                return STT_ENOMEM;
            }
            pairs = p;
        }
        pairs[2 * n] = done - total_ms / 1000.0;
        pairs[2 * n + 1] = audio > 0 ? audio : NAN;
        n++;
    }
    if (n == 0) {
        free(pairs);
        return stt_seterr(err, errlen, STT_EINVAL,
                          "no transcription request in the log (sttd logs them unless --quiet)");
    }
    qsort(pairs, n, 2 * sizeof *pairs, cmp_arrival);
    size_t tcap = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = trace_add(t, &tcap, pairs[2 * i] - pairs[0], NULL, pairs[2 * i + 1]);
    free(pairs);
    if (rc) stt_trace_free(t);
    return rc;
}
