/* engine: the ops table behind every recognizer, with a test double: the
 * profile is checked and passed through, and the handle is released. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "testlib.h"

static char loaded_profile[32];
static int loads, decodes, unloads;

static void *fake_load(const char *model_dir, const char *profile, char *err, size_t errlen)
{
    (void)model_dir;
    loads++;
    snprintf(loaded_profile, sizeof loaded_profile, "%s", profile);
    if (!strcmp(model_dir, "/missing")) {
        stt_seterr(err, errlen, STT_EIO, "no model in %s", model_dir);
        return NULL;
    }
    return &loads;
}

static int fake_decode(void *h, const int16_t *samples, size_t n, stt_transcript *out, char *err,
                       size_t errlen)
{
    (void)samples;
    (void)out;
    (void)err;
    (void)errlen;
    decodes++;
    return h == &loads ? (int)n : STT_EENGINE;
}

static void fake_unload(void *h)
{
    if (h == &loads) unloads++;
}

static const stt_engine_ops fake = {"fake", fake_load, fake_decode, fake_unload};

static void test_profile_checked_and_passed(void)
{
    char err[256] = "";
    loads = 0;
    stt_engine *e = stt_engine_load(&fake, "/model", "whisper-1", err, sizeof err);
    CHECK(e == NULL && loads == 0); /* refused before the engine is asked */
    CHECK(strstr(err, "whisper-1") && strstr(err, "balanced"));
    e = stt_engine_load(&fake, "/model", "accurate", err, sizeof err);
    REQUIRE(e);
    CHECK(loads == 1);
    CHECK_STR_EQ(loaded_profile, "accurate");
    CHECK_STR_EQ(stt_engine_profile(e), "accurate");
    int16_t pcm[7] = {0};
    CHECK(stt_engine_decode(e, pcm, 7, NULL, err, sizeof err) == 7 && decodes == 1);
    unloads = 0;
    stt_engine_free(e);
    CHECK(unloads == 1);
    stt_engine_free(NULL);
}

static void test_load_failure(void)
{
    char err[256] = "";
    stt_engine *e = stt_engine_load(&fake, "/missing", "fast", err, sizeof err);
    CHECK(e == NULL && strstr(err, "no model"));
}

int main(void)
{
    TEST_RUN(test_profile_checked_and_passed);
    TEST_RUN(test_load_failure);
    return test_summary();
}
