/* report/sec_audio: the "Audio length" section: time, memory and accuracy
 * against length, with n and 95% intervals, and why files were skipped. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "MEDIAN (cited) [LO, HI], n N" for the figure at base.key with its
 * interval at base.ci_key (an array of two) and its n at base.n_key (NULL:
 * not shown): the
 * interval belongs to the cited object, so one citation gives its source.
 * Files from before intervals were recorded give the cited median alone.
 * Lives in d's ring like rpt_cite's text. */
static const char *cite_ci(doc *d, const src *s, const char *unit, const char *base,
                           const char *key, const char *ci_key, const char *n_key)
{
    const char *m = rpt_cite(d, s, unit, "%s.%s", base, key);
    char path[300];
    snprintf(path, sizeof path, "%s.%s", base, ci_key);
    json_t *ci = rpt_jpath(s->j, path);
    double n = NAN;
    if (n_key) {
        snprintf(path, sizeof path, "%s.%s", base, n_key);
        n = rpt_jnumv(rpt_jpath(s->j, path));
    }
    double lo = rpt_jnumv(json_array_get(ci, 0)), hi = rpt_jnumv(json_array_get(ci, 1));
    double scale = unit && !strcmp(unit, "MiB") ? 1048576.0 : 1;
    char iv[80], nn[40];
    if (isfinite(lo) && isfinite(hi))
        snprintf(iv, sizeof iv, " [%.4g, %.4g]", lo / scale, hi / scale);
    else
        snprintf(iv, sizeof iv, " (no interval)");
    if (!n_key)
        nn[0] = 0;
    else if (isfinite(n))
        snprintf(nn, sizeof nn, ", n %.0f", n);
    else
        snprintf(nn, sizeof nn, ", n not recorded");
    char *b = d->ring[d->next++ % 24];
    snprintf(b, 768, "%.600s%s%s", m, iv, nn);
    return b;
}

static void profiles(doc *d, const src *au)
{
    json_t *pr = json_object_get(au->j, "profiles");
    if (!json_array_size(pr)) return;
    rpt_trow(d, 1, "profile|RTF, median of rounds [95%% interval], n|RTFx|WER|audio");
    for (size_t i = 0; i < json_array_size(pr); i++) {
        const char *nm = json_string_value(rpt_jpath(json_array_get(pr, i), "profile"));
        char base[64];
        snprintf(base, sizeof base, "profiles[%zu]", i);
        rpt_trow(d, 0, "%s|%s|%s|%s|%s", nm ? nm : "?",
                 cite_ci(d, au, "", base, "rtf", "rtf_ci", "n"),
                 rpt_cite(d, au, "", "profiles[%zu].rtfx", i),
                 rpt_cite(d, au, "", "profiles[%zu].wer", i),
                 rpt_cite(d, au, "s", "profiles[%zu].audio_s", i));
    }
}

static void fits(doc *d, const src *au)
{
    json_t *fits = json_object_get(au->j, "fits");
    if (!json_array_size(fits)) return;
    rpt_close_blocks(d);
    rpt_trow(d, 1,
             "profile|y|over|points|intercept [95%% interval]|slope per audio s [95%% "
             "interval]|R2|note");
    for (size_t i = 0; i < json_array_size(fits); i++) {
        json_t *f = json_array_get(fits, i);
        const char *y = json_string_value(json_object_get(f, "y"));
        const char *pr = json_string_value(json_object_get(f, "profile"));
        const char *constraint = json_string_value(json_object_get(f, "constraint"));
        json_t *proj = json_object_get(f, "projection");
        int mem = y && !strcmp(y, "peak_pss_bytes");
        int single = y && !strcmp(y, "process_s_single");
        char base[64], note[160];
        snprintf(base, sizeof base, "fits[%zu]", i);
        snprintf(note, sizeof note, "%s%s%s", constraint ? constraint : "",
                 constraint && json_is_false(proj) ? "; " : "",
                 json_is_false(proj) ? "too few points to project" : "");
        rpt_trow(d, 0, "%s|%s|%s|%s|%s|%s|%s|%s", pr ? pr : "?", y ? y : "?",
                 single ? "one-piece files" : "all 16 kHz WAV files",
                 rpt_cite(d, au, "", "fits[%zu].n", i),
                 cite_ci(d, au, mem ? "MiB" : "s", base, "intercept", "intercept_ci", NULL),
                 cite_ci(d, au, mem ? "MiB" : "", base, "slope", "slope_ci", NULL),
                 rpt_cite(d, au, "", "fits[%zu].r2", i), note[0] ? note : "-");
    }
    rpt_para(d, "Over one-piece files (X-Pieces 1) the intercept is the fixed cost of a request "
                "and the slope one core's time per audio second; a request cut into k pieces "
                "takes about slope x duration / min(k, threads) + intercept. Over all files the "
                "slope mixes in the pieces decoded in parallel.");
}

static const char *reason_of(json_t *sk, size_t i)
{
    const char *w = json_string_value(json_object_get(json_array_get(sk, i), "reason"));
    return w ? w : "no reason recorded";
}

/* One sentence per distinct reason, with the count and an example: the
 * reason each file gives, never one assumed for all. */
static void skipped(doc *d, const src *au)
{
    json_t *sk = json_object_get(au->j, "skipped");
    size_t n = json_array_size(sk);
    for (size_t i = 0; i < n; i++) {
        const char *why = reason_of(sk, i);
        int first = 1, count = 0;
        for (size_t k = 0; k < n; k++) {
            if (strcmp(reason_of(sk, k), why)) continue;
            if (k < i) first = 0;
            count++;
        }
        if (!first) continue;
        const char *file = json_string_value(json_object_get(json_array_get(sk, i), "file"));
        rpt_li(d, "Skipped, %s: %d file(s), e.g. %s at %s.", why, count, file ? file : "?",
               rpt_cite(d, au, "s", "skipped[%zu].duration_s", i));
    }
}

void rpt_sec_audio(doc *d, const stt_report *r)
{
    const src *au = rpt_primary(r, K_AUDIO);
    rpt_h(d, 2, "Audio length: time, memory, accuracy");
    if (!au) return rpt_missing(d, K_AUDIO);
    double rounds = rpt_jnum_at(au, "config.repeat");
    if (isfinite(rounds))
        rpt_para(d,
                 "%.0f round(s), each sending every file once per profile in its own order; "
                 "a figure is the median over the rounds with its 95%% interval and n.",
                 rounds);
    profiles(d, au);
    fits(d, au);
    skipped(d, au);
    rpt_charts(d, au);
    rpt_reproduce(d, K_AUDIO, au);
}
