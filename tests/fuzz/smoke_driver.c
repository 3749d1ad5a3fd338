/* Replays every seed in a directory through LLVMFuzzerTestOneInput, then a
 * bounded number of deterministic mutations of each (bit flips, truncations,
 * byte runs), so a plain build exercises the fuzz targets without libFuzzer.
 * A target built with STT_FUZZ_CUSTOM_MUTATOR has its own
 * LLVMFuzzerCustomMutator: then every other mutation is the target's, and
 * this driver provides the LLVMFuzzerMutate it falls back on (as libFuzzer
 * does).
 * Usage: fuzz_x SEED_DIR [ITERATIONS_PER_SEED] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#ifdef STT_FUZZ_CUSTOM_MUTATOR
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
#endif

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One of the driver's own mutations; m has room for 64 more bytes. */
static size_t mutate(uint8_t *m, size_t mlen)
{
    int kind = (int)(next_rand() % 4);
    if (kind == 0 && mlen) { /* flip a few bits */
        for (int k = 0; k < 4; k++)
            m[next_rand() % mlen] ^= (uint8_t)(1u << (next_rand() % 8));
    } else if (kind == 1 && mlen) { /* truncate */
        mlen = next_rand() % mlen;
    } else if (kind == 2 && mlen) { /* overwrite a run with an extreme byte */
        size_t at = next_rand() % mlen, n = 1 + next_rand() % 16;
        memset(m + at, (next_rand() & 1) ? 0xff : 0x00, at + n > mlen ? mlen - at : n);
    } else { /* append garbage */
        for (int k = 0; k < 64; k++)
            m[mlen + (size_t)k] = (uint8_t)next_rand();
        mlen += 64;
    }
    return mlen;
}

#ifdef STT_FUZZ_CUSTOM_MUTATOR
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
    return size + 64 <= max_size ? mutate(data, size) : size;
}
#endif

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SEED_DIR [ITERATIONS]\n", argv[0]);
        return 2;
    }
    long iters = argc > 2 ? atol(argv[2]) : 200;
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 2;
    }
    struct dirent *e;
    int seeds = 0;
    long runs = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        size_t len;
        char *buf = test_read_file(path, &len);
        if (!buf) continue;
        seeds++;
        LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        runs++;
        uint8_t *m = malloc(len + 64);
        for (long i = 0; i < iters && m; i++) {
            memcpy(m, buf, len);
            size_t mlen = len;
#ifdef STT_FUZZ_CUSTOM_MUTATOR
            if (i % 2)
                mlen = LLVMFuzzerCustomMutator(m, mlen, len + 64, (unsigned)next_rand());
            else
#endif
                mlen = mutate(m, mlen);
            LLVMFuzzerTestOneInput(m, mlen);
            runs++;
        }
        free(m);
        free(buf);
    }
    closedir(d);
    printf("%d seeds, %ld runs\n", seeds, runs);
    printf("%d passed, 0 failed\n", seeds ? 1 : 0);
    return seeds ? 0 : 1;
}
