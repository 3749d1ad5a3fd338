/* report/sec_audio: the "Audio length" section: time, memory and accuracy
 * against length, with n and 95% intervals, and why files were skipped. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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
                 rpt_cite_ci(d, au, "", base, "rtf", "rtf_ci", "n"),
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
                 rpt_cite_ci(d, au, mem ? "MiB" : "s", base, "intercept", "intercept_ci", NULL),
                 rpt_cite_ci(d, au, mem ? "MiB" : "", base, "slope", "slope_ci", NULL),
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
