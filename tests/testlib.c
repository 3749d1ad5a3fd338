#include "testlib.h"

#include <stdlib.h>

int test_case_failed;
static int passed, failed;

void test_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    test_case_failed = 1;
}

void test_run(const char *name, void (*fn)(void))
{
    test_case_failed = 0;
    fn();
    if (test_case_failed) {
        failed++;
        fprintf(stderr, "FAIL %s\n", name);
    } else {
        passed++;
        fprintf(stderr, "ok   %s\n", name);
    }
}

int test_summary(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

const char *test_data(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", STT_TESTDATA_DIR, rel);
    return path;
}

const char *test_bin(const char *name)
{
    static char path[4096];
    const char *dir = getenv("STT_BINARY_DIR");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : STT_BINARY_DIR, name);
    return path;
}

const char *test_tmpdir(void)
{
    static char path[4096];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/stttest.XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(path)) return NULL;
    return path;
}

const char *const test_librivox_ids[TEST_LIBRIVOX_N] = {
    "sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0880",
    "sense_and_sensibility_01_austen_64kb-0890", "sense_and_sensibility_01_austen_64kb-0920",
    "sense_and_sensibility_01_austen_64kb-0930"};
