/* Fuzzes stt_transcript_deserialize(): bytes from a worker that may have
 * crashed mid-write. Whatever it accepts must render in every format and
 * serialize back to exactly the same bytes (the wire form is canonical). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stt_transcript *t = NULL;
    if (stt_transcript_deserialize(data, size, &t) != 0) {
        if (t) abort();
        return 0;
    }
    void *again;
    size_t len;
    if (stt_transcript_serialize(t, &again, &len) == 0) {
        if (len != size || memcmp(again, data, size) != 0) abort();
        free(again);
    }
    stt_format_opts o = stt_format_default_opts();
    o.words = 1;
    for (int f = STT_FMT_JSON; f <= STT_FMT_VTT; f++) {
        char *out;
        size_t n;
        if (stt_transcript_format(t, (stt_format)f, &o, &out, &n) == 0) {
            if (strlen(out) != n) abort();
            free(out);
        }
    }
    stt_transcript *joined = stt_transcript_create();
    if (joined) {
        stt_transcript_append(joined, t, 1.5);
        stt_transcript_append(joined, t, 100.0);
        stt_transcript_free(joined);
    }
    stt_transcript_free(t);
    return 0;
}
