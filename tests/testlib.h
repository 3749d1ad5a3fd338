/* testlib: the few helpers every test program shares.
 *
 * A test program is a main() that calls TEST_RUN(fn) for each case; a failed
 * CHECK prints file:line and the expression, marks the case failed and goes on,
 * REQUIRE returns from the case. main() ends with `return test_summary();`,
 * which prints "N passed, N failed" and returns non-zero on any failure.
 */
#ifndef STT_TESTLIB_H
#define STT_TESTLIB_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern int test_case_failed;

void test_fail(const char *file, int line, const char *expr);
void test_run(const char *name, void (*fn)(void));
int test_summary(void);

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) test_fail(__FILE__, __LINE__, #expr);                                         \
    } while (0)
#define REQUIRE(expr)                                                                              \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            test_fail(__FILE__, __LINE__, #expr);                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "  got:      %s\n  expected: %s\n", a_ ? a_ : "(null)",                \
                    b_ ? b_ : "(null)");                                                           \
            test_fail(__FILE__, __LINE__, #a " == " #b);                                           \
        }                                                                                          \
    } while (0)
#define TEST_RUN(fn) test_run(#fn, fn)

/* Reads a whole file into a malloc'd buffer (NUL-terminated, *len excludes the
 * NUL). Returns NULL on failure. */
char *test_read_file(const char *path, size_t *len);

/* Path of a file under pocketsphinx-testdata; returns a static buffer. */
const char *test_data(const char *rel);

/* Path of a file in the build tree (sttd, sttbench); returns a static buffer. */
const char *test_bin(const char *name);

/* Makes a fresh temporary directory; returns a static buffer. */
const char *test_tmpdir(void);

/* The five LibriVox clips, in fileids order. */
#define TEST_LIBRIVOX_N 5
extern const char *const test_librivox_ids[TEST_LIBRIVOX_N];

#endif
