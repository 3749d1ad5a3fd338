/* Fuzz target with a structure-aware mutator for WAV and FLAC headers.
 *
 * Random bit flips rarely produce a WAV whose fmt chunk is consistent but
 * for one impossible field, or a FLAC STREAMINFO with an odd rate and a
 * plausible block size; yet those are what the header checks in
 * lib/svc/audio.c must judge. LLVMFuzzerCustomMutator() finds the fields in
 * the input and sets one (or a few) to a boundary value: channels, rate, byte
 * rate, block align, bits and valid bits, the codec tag and extensible GUID,
 * the RIFF, fmt and data sizes; for FLAC the block type, length, block and
 * frame sizes, rate, channels, bits and total samples. Inputs that are
 * neither are mutated by libFuzzer's own mutator (or the smoke driver's).
 *
 * The target decodes like a worker does, with a sink, and checks what the
 * decoder promises: a failure has a message; a success holds samples within
 * the duration limit, and never more than it said. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define LIMIT_S 30.0

static int count(void *ctx, const int16_t *s, size_t n)
{
    (void)s;
    *(size_t *)ctx += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stt_audio_params p = stt_audio_default_params();
    p.max_duration_s = LIMIT_S;
    stt_audio info;
    size_t got = 0;
    char err[256] = "";
    int rc = stt_audio_decode_to(data, size, &p, count, &got, &info, err, sizeof err);
    if (rc < 0 && err[0] == '\0') abort();
    if (rc == 0 && (info.n_samples == 0 || info.n_samples != got || info.samples)) abort();
    if (got > (size_t)(LIMIT_S * STT_SAMPLE_RATE) + STT_SAMPLE_RATE / 100) abort();
    return 0;
}

/* ---- the mutator ------------------------------------------------------- */

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

/* Values at and around the edges the checks draw. */
static uint32_t interesting(uint32_t *s)
{
    static const uint32_t v[] = {
        0,     1,     2,      3,          4,          6,          7,         8,      9,
        12,    15,    16,     17,         24,         31,         32,        33,     48,
        63,    64,    65,     255,        256,        1000,       8000,      16000,  44100,
        48000, 96000, 192000, 383999,     384000,     384001,     655350,    768000, 1048575,
        65535, 65536, 0x7fff, 0x7fff0000, 0x7fffffff, 0xfffffffe, 0xffffffff};
    uint32_t r = rnd(s);
    return r % 4 == 0 ? rnd(s) : v[r % (sizeof v / sizeof v[0])];
}

/* The offset of chunk id's body in a RIFF/RF64 WAVE, its size in *len; 0 when absent. */
static size_t find_chunk(const uint8_t *d, size_t size, const char *id, uint32_t *len)
{
    for (size_t off = 12; off + 8 <= size;) {
        uint32_t n = le32(d + off + 4);
        if (!memcmp(d + off, id, 4)) {
            *len = n;
            return off + 8;
        }
        uint64_t next = (uint64_t)off + 8 + n + (n & 1);
        if (next > size) break;
        off = (size_t)next;
    }
    return 0;
}

static size_t mutate_wav(uint8_t *d, size_t size, uint32_t *s)
{
    static const uint32_t tags[] = {1, 2, 3, 6, 7, 0x11, 0x31, 0x55, 0xfffe};
    uint32_t flen = 0, dlen = 0;
    size_t fmt = find_chunk(d, size, "fmt ", &flen), data = find_chunk(d, size, "data", &dlen);
    if (!fmt || fmt + 16 > size) return 0;
    int edits = 1 + (int)(rnd(s) % 3);
    for (int e = 0; e < edits; e++) {
        uint32_t v = interesting(s);
        switch (rnd(s) % 14) {
        case 0: /* the codec tag: any value, or one that means something */
            put16(d + fmt, rnd(s) % 2 ? v : tags[rnd(s) % (sizeof tags / sizeof tags[0])]);
            break;
        case 1:
            put16(d + fmt + 2, v);
            break; /* channels */
        case 2:
            put32(d + fmt + 4, v);
            break; /* rate */
        case 3:
            put32(d + fmt + 8, v);
            break; /* byte rate */
        case 4:
            put16(d + fmt + 12, v);
            break; /* block align */
        case 5:
            put16(d + fmt + 14, v);
            break; /* bits */
        case 6:    /* a consistent block align for whatever channels and bits say */
            put16(d + fmt + 12, le16(d + fmt + 2) * (le16(d + fmt + 14) / 8));
            break;
        case 7:
            put32(d + 4, v);
            break; /* RIFF size */
        case 8:
            put32(d + fmt - 4, rnd(s) % 2 ? v : 40);
            break; /* fmt size */
        case 9:
            if (data) put32(d + data - 4, v); /* data size */
            break;
        case 10: /* extensible: valid bits, channel mask, subformat */
            if (fmt + 40 <= size) {
                put16(d + fmt + 16, 22);
                put16(d + fmt + 18, v);
                put32(d + fmt + 20, interesting(s));
                put16(d + fmt + 24, rnd(s) % 4);
            }
            break;
        case 11:
            if (fmt + 40 <= size) d[fmt + 26 + rnd(s) % 14] ^= (uint8_t)(1u << (rnd(s) % 8));
            break;
        case 12:
            memcpy(d, rnd(s) % 2 ? "RF64" : "RIFX", 4);
            break;
        default: /* the fmt chunk after data, or twice */
            if (data && data + 8 <= size) memcpy(d + data - 8, "fmt ", 4);
            break;
        }
    }
    return size;
}

static size_t mutate_flac(uint8_t *d, size_t size, uint32_t *s)
{
    if (size < 42) return 0;
    uint8_t *b = d + 8; /* STREAMINFO */
    int edits = 1 + (int)(rnd(s) % 3);
    for (int e = 0; e < edits; e++) {
        uint32_t v = interesting(s);
        switch (rnd(s) % 10) {
        case 0:
            d[4] = (uint8_t)(rnd(s) % 2 ? v : (d[4] & 0x80) | (rnd(s) % 8));
            break;
        case 1: /* block length */
            d[5] = (uint8_t)(v >> 16);
            d[6] = (uint8_t)(v >> 8);
            d[7] = (uint8_t)v;
            break;
        case 2: /* min block size (big-endian, as all of FLAC) */
            b[0] = (uint8_t)(v >> 8);
            b[1] = (uint8_t)v;
            break;
        case 3: /* max block size */
            b[2] = (uint8_t)(v >> 8);
            b[3] = (uint8_t)v;
            break;
        case 4: /* min and max frame size */
            b[4 + rnd(s) % 6] = (uint8_t)v;
            break;
        case 5: /* rate: 20 bits */
            b[10] = (uint8_t)(v >> 12);
            b[11] = (uint8_t)(v >> 4);
            b[12] = (uint8_t)((b[12] & 0x0f) | (v & 0xf) << 4);
            break;
        case 6:
            b[12] = (uint8_t)((b[12] & 0xf1) | (rnd(s) % 8) << 1);
            break; /* channels */
        case 7: {  /* bits per sample: 5 bits across two bytes */
            uint32_t bps = rnd(s) % 32;
            b[12] = (uint8_t)((b[12] & 0xfe) | bps >> 4);
            b[13] = (uint8_t)((b[13] & 0x0f) | (bps & 0xf) << 4);
            break;
        }
        case 8: /* total samples: 36 bits */
            b[13] = (uint8_t)((b[13] & 0xf0) | (rnd(s) % 16));
            b[14] = (uint8_t)(v >> 24);
            b[15] = (uint8_t)(v >> 16);
            b[16] = (uint8_t)(v >> 8);
            b[17] = (uint8_t)v;
            break;
        default:
            memset(b + 18, (int)(v & 0xff), 16);
            break; /* the MD5 */
        }
    }
    return size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    uint32_t s = seed ? seed : 0x9e3779b9u;
    size_t n = 0;
    if (size >= 12 &&
        (!memcmp(data, "RIFF", 4) || !memcmp(data, "RF64", 4) || !memcmp(data, "RIFX", 4)) &&
        !memcmp(data + 8, "WAVE", 4))
        n = mutate_wav(data, size, &s);
    else if (size >= 4 && !memcmp(data, "fLaC", 4))
        n = mutate_flac(data, size, &s);
    return n ? n : LLVMFuzzerMutate(data, size, max_size);
}
