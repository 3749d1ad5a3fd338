/* Fuzz target: any bytes through stt_audio_decode with the service's kind of
 * limit. A failure must come with a message; a success must hold 16 kHz
 * samples within that limit. */
#include <stdint.h>
#include <stdlib.h>

#include "audio.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stt_audio_params p = stt_audio_default_params();
    p.max_duration_s = 60;
    stt_audio a;
    char err[256] = "";
    int rc = stt_audio_decode(data, size, &p, &a, err, sizeof err);
    if (rc < 0 && (err[0] == '\0' || a.samples || a.n_samples)) abort();
    if (rc == 0 && (!a.samples || a.n_samples == 0 || stt_audio_duration(&a) > 60.01)) abort();
    stt_audio_free(&a);
    return 0;
}
