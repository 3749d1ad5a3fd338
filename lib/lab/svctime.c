/* svctime: the service-time model of one request. See svctime.h. */
#include "svctime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The fit of y for profile, -1 when there is none usable. */
static int find_fit(const json_t *fits, const char *profile, const char *y)
{
    for (size_t i = 0; i < json_array_size(fits); i++) {
        const json_t *f = json_array_get(fits, i);
        const char *pr = json_string_value(json_object_get(f, "profile"));
        const char *yy = json_string_value(json_object_get(f, "y"));
        double a = num(f, "intercept"), b = num(f, "slope");
        if (pr && yy && !strcmp(pr, profile) && !strcmp(yy, y) && a >= 0 && b > 0) return (int)i;
    }
    return -1;
}

int stt_svctime_from_audio(const json_t *audio, const char *profile, stt_svctime *out)
{
    if (!audio || !profile || !out) return STT_ENOTFOUND;
    memset(out, 0, sizeof *out);
    const json_t *fits = json_object_get(audio, "fits");
    int fi = find_fit(fits, profile, "process_s_single");
    out->single = fi >= 0;
    if (fi < 0) fi = find_fit(fits, profile, "process_s");
    if (fi < 0) return STT_ENOTFOUND;
    const json_t *f = json_array_get(fits, (size_t)fi);
    snprintf(out->profile, sizeof out->profile, "%s", profile);
    snprintf(out->y, sizeof out->y, "%s", out->single ? "process_s_single" : "process_s");
    out->fit_index = fi;
    out->fixed_s = num(f, "intercept");
    out->per_audio_s = num(f, "slope");
    double n = num(f, "n");
    out->n = isfinite(n) ? (int)n : 0;
    /* Mean piece length over the files sttd cut into several pieces: a
     * single-piece file says nothing about where the cuts fall. */
    double audio_s = 0, pieces = 0;
    const json_t *res = json_object_get(audio, "results");
    for (size_t i = 0; i < json_array_size(res); i++) {
        const json_t *r = json_array_get(res, i);
        const char *pr = json_string_value(json_object_get(r, "profile"));
        double d = num(r, "duration_s"), p = num(r, "pieces");
        if (pr && strcmp(pr, profile)) continue;
        if (d > 0 && p >= 2) {
            audio_s += d;
            pieces += p;
        }
    }
    out->pieces_measured = pieces > 0;
    out->piece_s = pieces > 0 ? audio_s / pieces : STT_SVCTIME_MAX_PIECE_S;
    return 0;
}

int stt_svctime_pieces(const stt_svctime *m, double d)
{
    if (!(d > 0) || !(m->piece_s > 0)) return 1;
    double p = ceil(d / m->piece_s - 1e-9);
    return p < 1 ? 1 : p > 1e6 ? 1000000 : (int)p;
}

double stt_svctime_request_s(const stt_svctime *m, double d, int threads)
{
    int p = stt_svctime_pieces(m, d), par = threads < 1 ? 1 : threads < p ? threads : p;
    return m->fixed_s + m->per_audio_s * (d > 0 ? d : 0) / par;
}

double stt_svctime_long_threshold_s(const stt_svctime *m, int cores, double gain)
{
    if (cores < 1 || !(gain > 0 && gain < 1)) return INFINITY;
    for (double d = 1; d <= 4 * 3600; d += 1)
        if (stt_svctime_request_s(m, d, 2 * cores) <=
            (1 - gain) * stt_svctime_request_s(m, d, cores))
            return d;
    return INFINITY;
}

void stt_svctime_describe(const stt_svctime *m, char *out, size_t len)
{
    char pieces[96];
    if (m->pieces_measured)
        snprintf(pieces, sizeof pieces, "pieces from the results (mean %.3g s of audio each)",
                 m->piece_s);
    else
        snprintf(pieces, sizeof pieces,
                 "no result names its pieces: %.0f s each, the longest sttd cuts", m->piece_s);
    snprintf(out, len, "fits[%d] of audio.json, %s for %s (%s, %d points); %s", m->fit_index, m->y,
             m->profile,
             m->single ? "single-piece files: intercept = fixed cost"
                       : "fallback: every file, single- and multi-piece mixed",
             m->n, pieces);
}
