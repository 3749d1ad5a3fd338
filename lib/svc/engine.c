#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct stt_engine {
    const stt_engine_ops *ops;
    void *h;
    char profile[32];
};

stt_engine *stt_engine_load(const stt_engine_ops *ops, const char *model_dir, const char *profile,
                            char *err, size_t errlen)
{
    if (stt_profile_index(profile) < 0) {
        stt_seterr(err, errlen, STT_EMODEL, "unknown profile '%s' (valid: %s)",
                   profile ? profile : "", stt_profile_list());
        return NULL;
    }
    stt_engine *e = calloc(1, sizeof *e);
    if (!e) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    e->ops = ops;
    snprintf(e->profile, sizeof e->profile, "%s", profile);
    e->h = ops->load(model_dir, profile, err, errlen);
    if (!e->h) {
        free(e);
        return NULL;
    }
    return e;
}

int stt_engine_decode(stt_engine *e, const int16_t *samples, size_t n, stt_transcript *out,
                      char *err, size_t errlen)
{
    return e->ops->decode(e->h, samples, n, out, err, errlen);
}

const char *stt_engine_profile(const stt_engine *e)
{
    return e->profile;
}

void stt_engine_free(stt_engine *e)
{
    if (!e) return;
    e->ops->unload(e->h);
    free(e);
}
