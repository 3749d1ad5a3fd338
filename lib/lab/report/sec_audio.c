/* report/sec_audio: the "Audio length" section: time, memory and accuracy against length. */
#include "internal.h"

#include <math.h>
#include <string.h>

void rpt_sec_audio(doc *d, const stt_report *r)
{
    const src *au = rpt_primary(r, K_AUDIO);
    rpt_h(d, 2, "Audio length: time, memory, accuracy");
    if (!au) return rpt_missing(d, K_AUDIO);
    json_t *pr = json_object_get(au->j, "profiles");
    if (json_array_size(pr)) {
        rpt_trow(d, 1, "profile|RTF|RTFx|WER|audio");
        for (size_t i = 0; i < json_array_size(pr); i++) {
            const char *nm = json_string_value(rpt_jpath(json_array_get(pr, i), "profile"));
            rpt_trow(d, 0, "%s|%s|%s|%s|%s", nm ? nm : "?",
                     rpt_cite(d, au, "", "profiles[%zu].rtf", i),
                     rpt_cite(d, au, "", "profiles[%zu].rtfx", i),
                     rpt_cite(d, au, "", "profiles[%zu].wer", i),
                     rpt_cite(d, au, "s", "profiles[%zu].audio_s", i));
        }
    }
    json_t *fits = json_object_get(au->j, "fits");
    if (json_array_size(fits)) {
        rpt_trow(d, 1, "profile|y|intercept|slope per audio s|R2");
        for (size_t i = 0; i < json_array_size(fits); i++) {
            json_t *f = json_array_get(fits, i);
            const char *y = json_string_value(json_object_get(f, "y"));
            int mem = y && !strcmp(y, "peak_pss_bytes");
            rpt_trow(d, 0, "%s|%s|%s|%s|%s", json_string_value(json_object_get(f, "profile")),
                     y ? y : "?", rpt_cite(d, au, mem ? "MiB" : "s", "fits[%zu].intercept", i),
                     rpt_cite(d, au, mem ? "MiB" : "", "fits[%zu].slope", i),
                     rpt_cite(d, au, "", "fits[%zu].r2", i));
        }
    }
    json_t *sk = json_object_get(au->j, "skipped");
    if (json_array_size(sk))
        rpt_para(d, "Skipped as longer than the limit: %zu file(s), e.g. %s at %s.",
                 json_array_size(sk), json_string_value(rpt_jpath(sk, "[0].file")),
                 rpt_cite(d, au, "s", "skipped[0].duration_s"));
    rpt_charts(d, au);
    rpt_reproduce(d, K_AUDIO, au);
}
