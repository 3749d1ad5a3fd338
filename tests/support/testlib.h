/* testlib: the few helpers every test program shares.
 *
 * A test program is a main() that calls TEST_RUN(fn) for each case; a failed
 * CHECK prints file:line and the expression, marks the case failed and goes on,
 * REQUIRE returns from the case. main() ends with `return test_summary();`,
 * which prints "N passed, N failed" and returns non-zero on any failure.
 * With STT_TEST_CASES_DIR set, every case is also recorded, with its time and
 * the file:line of each failed check, in DIR/PROGRAM.cases (format in
 * testlib.c), which the test report reads.
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

/* ---- integration helpers: a real sttd process and an HTTP client ---- */
#include <sys/types.h>

typedef struct test_server {
    pid_t pid;
    int port;
    char url[64];
    char log[4200]; /* the server's stderr */
    int probe_port; /* --probe-port's port, or -1 */
    char probe_url[64];
} test_server;

/* Starts build/sttd --port 0 --quiet with the given NULL-terminated extra
 * arguments and waits (up to 60 s) until it listens. Returns 0 or -1. */
int test_server_start(test_server *s, const char *const *args);
/* Sends sig (SIGTERM to drain) and waits; returns the exit status or -1. */
int test_server_stop(test_server *s, int sig);
/* As test_server_start; with own_group the server runs in a process group of
 * its own (so a test can signal the whole group, as a terminal or `timeout`
 * does), and s->pid is also that group's id. */
int test_server_start_opts(test_server *s, const char *const *args, int own_group);
/* Waits at most timeout_s for the server to exit: its exit status (128 + the
 * signal when killed), or -1 when it is still running. *took_s (may be NULL)
 * gets the time waited. */
int test_server_wait(test_server *s, double timeout_s, double *took_s);
/* The text of the server's log (malloc'd), or NULL. */
char *test_server_log(const test_server *s);

/* Writes a 16 kHz mono WAV of the five LibriVox clips joined with 0.6 s of
 * silence, n times over; returns its duration in seconds, or -1. */
double test_write_speech_wav(const char *path, int n);
/* The value of one series ("sttd_workers", or with labels) in url/metrics,
 * or -1 when the server or the series is missing. */
double test_metric(const char *url, const char *series);
/* Seconds of CLOCK_MONOTONIC. */
double test_now(void);
/* A TCP connection to 127.0.0.1:port, from 127.0.0.from (0: any local
 * address). Returns the socket, or -1 with errno in *err (err may be NULL). */
int test_connect_loopback(int port, int from, int *err);

typedef struct test_response {
    long status;
    char *body; /* malloc'd, NUL-terminated */
    size_t len;
    char *headers; /* malloc'd, raw header block */
} test_response;

/* POSTs a multipart form: the file part (from path, or from mem/mem_len when
 * path is NULL) and NULL-terminated name/value pairs. Returns 0 when an HTTP
 * answer arrived (any status), -1 on a transport error. */
int test_post_file(const char *url, const char *path, const void *mem, size_t mem_len,
                   const char *const *fields, const char *const *headers, test_response *r);
/* GET (or another method) with optional extra headers. */
int test_request(const char *method, const char *url, const char *const *headers, test_response *r);
/* The value of a response header (case-insensitive), copied into a static buffer, or NULL. */
const char *test_header(const test_response *r, const char *name);
void test_response_free(test_response *r);
