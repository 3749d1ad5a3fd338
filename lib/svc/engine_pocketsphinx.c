/* The PocketSphinx engine (Debian's libpocketsphinx, model pocketsphinx-en-us). */
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"

/* Search settings per profile. "balanced" is PocketSphinx's own default search
 * (what pocketsphinx_continuous uses); "fast" narrows every beam, keeps fewer
 * HMMs and Gaussians per frame and skips the flat-lexicon second pass; "accurate" widens the beams
 * and lets more HMMs and words survive each frame. Measured trade-offs are in the README
 * (scripts/benchmark_profiles.sh). */
static const char *const profile_args[STT_N_PROFILES][16] = {
    /* fast */
    {"-beam", "1e-35", "-pbeam", "1e-30", "-wbeam", "1e-25", "-maxhmmpf", "3000", "-fwdflat", "no",
     "-topn", "2", NULL},
    /* balanced */
    {NULL},
    /* accurate */
    {"-beam", "1e-70", "-pbeam", "1e-70", "-wbeam", "1e-50", "-fwdflatbeam", "1e-80",
     "-fwdflatwbeam", "1e-50", "-maxhmmpf", "-1", "-topn", "6", NULL},
};

typedef struct ps_engine {
    ps_decoder_t *ps;
    double frame_rate;
} ps_engine;

static void *ps_load(const char *model_dir, const char *profile, char *err, size_t errlen)
{
    int p = stt_profile_index(profile);
    if (p < 0) {
        stt_seterr(err, errlen, STT_EMODEL, "unknown profile '%s'", profile);
        return NULL;
    }
    char hmm[4096], lm[4096], dict[4096];
    snprintf(hmm, sizeof hmm, "%s/en-us", model_dir);
    snprintf(lm, sizeof lm, "%s/en-us.lm.bin", model_dir);
    snprintf(dict, sizeof dict, "%s/cmudict-en-us.dict", model_dir);
    FILE *probe = fopen(dict, "r");
    if (!probe) {
        stt_seterr(err, errlen, STT_EIO, "model not found: %s (install pocketsphinx-en-us)", dict);
        return NULL;
    }
    fclose(probe);

    /* PocketSphinx logs every step at INFO; a service logs its own lines only. */
    err_set_logfp(NULL);
    const char *argv[48];
    int argc = 0;
    const char *base[] = {"-hmm", hmm, "-lm", lm, "-dict", dict, "-logfn", "/dev/null"};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        argv[argc++] = base[i];
    for (int i = 0; profile_args[p][i]; i++)
        argv[argc++] = profile_args[p][i];
    cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), argc, (char **)argv, FALSE);
    if (!config) {
        stt_seterr(err, errlen, STT_EENGINE, "bad PocketSphinx configuration for '%s'", profile);
        return NULL;
    }
    ps_engine *e = calloc(1, sizeof *e);
    if (!e) {
        cmd_ln_free_r(config);
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    e->ps = ps_init(config);
    e->frame_rate = cmd_ln_int32_r(config, "-frate");
    cmd_ln_free_r(config); /* the decoder keeps its own reference */
    if (!e->ps) {
        free(e);
        stt_seterr(err, errlen, STT_EENGINE, "PocketSphinx could not load the model in %s",
                   model_dir);
        return NULL;
    }
    return e;
}

static int ps_decode(void *h, const int16_t *samples, size_t n, stt_transcript *out, char *err,
                     size_t errlen)
{
    ps_engine *e = h;
    /* A fresh stream resets the channel state (cepstral mean, ...) so a piece's
     * words never depend on what this decoder saw before. */
    if (ps_start_stream(e->ps) < 0 || ps_start_utt(e->ps) < 0)
        return stt_seterr(err, errlen, STT_EENGINE, "PocketSphinx could not start an utterance");
    if (n && ps_process_raw(e->ps, samples, n, FALSE, TRUE) < 0) {
        ps_end_utt(e->ps);
        return stt_seterr(err, errlen, STT_EENGINE, "PocketSphinx failed to process the audio");
    }
    if (ps_end_utt(e->ps) < 0)
        return stt_seterr(err, errlen, STT_EENGINE, "PocketSphinx failed to end the utterance");

    double dur = (double)n / 16000.0;
    int rc = stt_transcript_begin_segment(out, 0.0, dur);
    /* ps_seg_next() frees the iterator when it returns NULL; one left early
     * is freed here, and never touched again. */
    for (ps_seg_t *seg = ps_seg_iter(e->ps); seg; seg = ps_seg_next(seg)) {
        int sf, ef;
        ps_seg_frames(seg, &sf, &ef);
        int32 ascr, lscr, lback;
        int32 lp = ps_seg_prob(seg, &ascr, &lscr, &lback);
        double prob = logmath_exp(ps_get_logmath(e->ps), lp);
        if (prob > 1.0 || prob < 0.0) prob = 1.0;
        rc = stt_transcript_add_word(out, ps_seg_word(seg), sf / e->frame_rate,
                                     (ef + 1) / e->frame_rate, prob);
        if (rc == 1) rc = 0;
        if (rc < 0) {
            ps_seg_free(seg);
            break;
        }
    }
    return rc < 0 ? stt_seterr(err, errlen, rc, "out of memory") : 0;
}

static void ps_unload(void *h)
{
    ps_engine *e = h;
    if (!e) return;
    ps_free(e->ps);
    free(e);
}

const stt_engine_ops stt_engine_pocketsphinx = {"pocketsphinx", ps_load, ps_decode, ps_unload};
