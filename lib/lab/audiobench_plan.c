/* audiobench_plan: which corpus files are measured, why the others are not,
 * and the interleaved order of each round. */
#include <stdio.h>
#include <string.h>

#include "audiobench_internal.h"
#include "stats.h"

int ab_reference_format(const stt_corpus_entry *e)
{
    return !strcmp(e->format, "wav") && e->sample_rate == 16000 && e->channels == 1;
}

stt_audiobench_selection stt_audiobench_select(const stt_audiobench_params *p,
                                               const stt_corpus_entry *e)
{
    if (!stt_corpus_selected(e, p->max_duration_s)) return STT_AUDIOBENCH_TOO_LONG;
    if (p->quick && (!ab_reference_format(e) || e->duration_s > p->quick_max_s))
        return STT_AUDIOBENCH_NOT_QUICK;
    return STT_AUDIOBENCH_MEASURED;
}

const char *stt_audiobench_reason(const stt_audiobench_params *p, stt_audiobench_selection s,
                                  char *buf, size_t len)
{
    switch (s) {
    case STT_AUDIOBENCH_TOO_LONG:
        snprintf(buf, len, "longer than --max-duration (%g s)", p->max_duration_s);
        break;
    case STT_AUDIOBENCH_NOT_QUICK:
        snprintf(buf, len, "not in the --quick set (16 kHz mono WAV up to %g s)", p->quick_max_s);
        break;
    default:
        snprintf(buf, len, "%s", "");
    }
    return buf;
}

void stt_audiobench_round_order(uint64_t seed, int round, size_t n, size_t *order)
{
    /* A different stream per round, the same for the same seed. */
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + (uint64_t)round + 1;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(stt_stats_uniform(&state) * (double)i);
        if (j >= i) j = i - 1;
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

void ab_metric_file(const char *file, char *out, size_t len)
{
    size_t n = strlen(file);
    if (n > 4 && !strcmp(file + n - 4, ".wav")) n -= 4;
    snprintf(out, len, "%.*s", (int)n, file);
}
