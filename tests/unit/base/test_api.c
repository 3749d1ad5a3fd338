/* api: the profile names the service and the laboratory share. */
#include <string.h>

#include "api.h"
#include "error.h"
#include "testlib.h"

static void test_profiles(void)
{
    for (int i = 0; i < STT_N_PROFILES; i++)
        CHECK(stt_profile_index(stt_profile_names[i]) == i);
    CHECK(stt_profile_index(STT_DEFAULT_PROFILE) >= 0);
    CHECK(stt_profile_index("whisper-1") == STT_EMODEL);
    CHECK(stt_profile_index("") == STT_EMODEL);
    CHECK(stt_profile_index(NULL) == STT_EMODEL);
    /* The list names every profile. */
    for (int i = 0; i < STT_N_PROFILES; i++)
        CHECK(strstr(stt_profile_list(), stt_profile_names[i]) != NULL);
}

int main(void)
{
    TEST_RUN(test_profiles);
    return test_summary();
}
