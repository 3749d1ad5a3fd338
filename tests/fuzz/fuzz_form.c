/* Feeds arbitrary bytes as a multipart/form-data body through lib/form.c.
 * Byte 0 picks the mode: even = fixed boundary; odd = the next (byte 1 % 80)
 * bytes are pasted into the Content-Type as the boundary parameter, so
 * hostile Content-Type values are parsed too. The body is parsed twice, whole
 * and in chunks whose size comes from byte 0, and both parses must agree;
 * memory must stay within the limits' bound. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 16
#define MAX_HEADER 1024

static stt_form *parse(const char *ct, const uint8_t *body, size_t len, size_t step, int *rc)
{
    stt_form_limits lim = stt_form_default_limits();
    lim.max_body_bytes = 1 << 20;
    lim.max_parts = MAX_PARTS;
    lim.max_header_bytes = MAX_HEADER;
    stt_form *f = NULL;
    *rc = stt_form_create(ct, &lim, &f, NULL, 0);
    if (*rc) return NULL;
    /* Parts, headers, the window and growth slack: what the limits allow. */
    size_t bound = 2 * len + (MAX_PARTS + 2) * (4 * MAX_HEADER + 256) + 3 * 65536 + 4096;
    for (size_t i = 0; i < len && !*rc; i += step) {
        *rc = stt_form_feed(f, body + i, i + step > len ? len - i : step);
        if (stt_form_memory(f) > bound) abort();
    }
    if (!*rc) *rc = stt_form_finish(f);
    if (stt_form_count(f) > MAX_PARTS) abort();
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    char ct[160] = "multipart/form-data; boundary=";
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        size_t n = data[1] % 80;
        if (n > size - 2) n = size - 2;
        size_t at = strlen(ct);
        for (size_t i = 0; i < n; i++)
            ct[at + i] = data[2 + i] ? (char)data[2 + i] : ' ';
        ct[at + n] = '\0';
        body = data + 2 + n;
        len = size - 2 - n;
    } else {
        strcat(ct, "XbOuNdArY");
    }
    size_t step = 1 + (size_t)(data[0] >> 1) % 17;
    int rc1, rc2;
    stt_form *a = parse(ct, body, len, len ? len : 1, &rc1);
    stt_form *b = parse(ct, body, len, step, &rc2);
    /* Chunking must not change the outcome. */
    if (rc1 != rc2 || !a != !b) abort();
    if (a && rc1 == 0) {
        if (stt_form_count(a) != stt_form_count(b)) abort();
        for (size_t i = 0; i < stt_form_count(a); i++) {
            const stt_form_part *pa = stt_form_part_at(a, i), *pb = stt_form_part_at(b, i);
            if (pa->len != pb->len || memcmp(pa->data, pb->data, pa->len) != 0 ||
                strcmp(pa->name, pb->name) != 0 || pa->data[pa->len] != '\0')
                abort();
        }
    }
    stt_form_free(a);
    stt_form_free(b);
    return 0;
}
