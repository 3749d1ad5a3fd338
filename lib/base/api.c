/* api: see api.h. */
#include "api.h"

#include <string.h>

#include "error.h"

const char *const stt_profile_names[STT_N_PROFILES] = {"fast", "balanced", "accurate"};

int stt_profile_index(const char *name)
{
    for (int i = 0; name && i < STT_N_PROFILES; i++)
        if (!strcmp(name, stt_profile_names[i])) return i;
    return STT_EMODEL;
}

const char *stt_profile_list(void)
{
    return "fast, balanced, accurate";
}
