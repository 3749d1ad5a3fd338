/* trace: the arrivals file `sttbench load --trace` replays, and making one
 * from sttd's request log. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "testlib.h"
#include "trace.h"

static const char *write_tmp(const char *name, const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_read_and_write(void)
{
    const char *path = write_tmp("t.trace", "# sttlab trace 1\n"
                                            "0.000 a.wav\n"
                                            "\n"
                                            "0.500 25.3\n"
                                            "0.500 -\n"
                                            "2.000\n");
    REQUIRE(path);
    stt_trace t;
    char err[512];
    REQUIRE(stt_trace_read(path, &t, err, sizeof err) == 0);
    REQUIRE(t.n == 4);
    CHECK_STR_EQ(t.file[0], "a.wav");
    CHECK(t.file[1] == NULL && t.duration_s[1] == 25.3);
    CHECK(t.file[2] == NULL && isnan(t.duration_s[2]));
    CHECK(t.file[3] == NULL && isnan(t.duration_s[3]) && t.at_s[3] == 2);
    CHECK(fabs(stt_trace_rate(&t) - 1.5) < 1e-12); /* 3 gaps in 2 s */

    /* What is written reads back the same. */
    char out[600];
    snprintf(out, sizeof out, "%s/copy.trace", test_tmpdir());
    FILE *f = fopen(out, "w");
    REQUIRE(f);
    CHECK(stt_trace_write(&t, f) == 0);
    fclose(f);
    stt_trace u;
    REQUIRE(stt_trace_read(out, &u, err, sizeof err) == 0);
    CHECK(u.n == t.n);
    for (size_t i = 0; i < t.n && i < u.n; i++) {
        CHECK(fabs(u.at_s[i] - t.at_s[i]) < 1e-9);
        CHECK((u.file[i] == NULL) == (t.file[i] == NULL));
        CHECK(isnan(u.duration_s[i]) == isnan(t.duration_s[i]));
    }
    stt_trace_free(&u);

    /* Scaled to twice the rate: the same arrivals in half the time. */
    double s[4];
    stt_trace_scaled(&t, 3.0, s);
    CHECK(s[0] == 0 && fabs(s[1] - 0.25) < 1e-12 && fabs(s[3] - 1.0) < 1e-12);
    stt_trace_scaled(&t, 0, s);
    CHECK(s[3] == 2);
    stt_trace_free(&t);
}

static void test_bad_traces(void)
{
    stt_trace t;
    char err[512];
    CHECK(stt_trace_read("/nonexistent/trace", &t, err, sizeof err) == STT_EIO);
    CHECK(stt_trace_read(write_tmp("b1", "1.0 a.wav\n0.5 b.wav\n"), &t, err, sizeof err) ==
          STT_EINVAL);
    CHECK(strstr(err, ":2:") != NULL);
    CHECK(stt_trace_read(write_tmp("b2", "soon a.wav\n"), &t, err, sizeof err) == STT_EINVAL);
    CHECK(stt_trace_read(write_tmp("b3", "-1 a.wav\n"), &t, err, sizeof err) == STT_EINVAL);
    CHECK(stt_trace_read(write_tmp("b4", "1 a.wav extra\n"), &t, err, sizeof err) == STT_EINVAL);
    CHECK(stt_trace_read(write_tmp("b5", "# only a comment\n"), &t, err, sizeof err) == STT_EINVAL);
    CHECK(t.n == 0 && t.at_s == NULL);
}

static void test_bind_to_a_mix(void)
{
    double dur[] = {8, 25, 60}, w[] = {1, 1, 1};
    stt_mix m = {dur, w, 3};
    char *paths[] = {"/c/a.wav", "/c/b.wav", "/c/c.wav"};
    char *names[] = {"a.wav", "sub/b.wav", "c.wav"};
    char *formats[] = {"wav", "wav", "wav"};
    stt_mix_files f = {3, paths, names, formats};
    const char *path = write_tmp("bind", "0 b.wav\n0.1 58\n0.2 -\n0.3 9.5\n");
    stt_trace t;
    char err[512];
    REQUIRE(stt_trace_read(path, &t, err, sizeof err) == 0);
    int body[4];
    REQUIRE(stt_trace_bind(&t, &m, &f, body, err, sizeof err) == 0);
    CHECK(body[0] == 1 && body[1] == 2 && body[2] == -1 && body[3] == 0);
    stt_trace_free(&t);
    REQUIRE(stt_trace_read(write_tmp("bind2", "0 zz.wav\n"), &t, err, sizeof err) == 0);
    CHECK(stt_trace_bind(&t, &m, &f, body, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "zz.wav") != NULL);
    stt_trace_free(&t);
}

/* sttd logs a request when it completes; the trace puts it at its arrival. */
static void test_from_sttd_log(void)
{
    const char *log =
        "sttd: listening on 127.0.0.1:8080 (workers 2, threads 1, queue 2)\n"
        "2025-01-02T03:04:10.000Z id=a1 POST /v1/audio/transcriptions status=200 bytes=10 "
        "audio_s=60.00 queue_ms=0.0 process_ms=9000.0 total_ms=9500.0\n"
        "2025-01-02T03:04:05.000Z id=a2 GET /health status=200 bytes=15 audio_s=0.00 "
        "queue_ms=0.0 process_ms=0.0 total_ms=0.1\n"
        "2025-01-02T03:04:05.500Z id=a3 POST /inference status=200 bytes=10 audio_s=8.00 "
        "queue_ms=0.0 process_ms=1000.0 total_ms=1000.0\n"
        "2025-01-02T03:04:06.000Z id=a4 POST /v1/audio/transcriptions status=503 bytes=0 "
        "audio_s=0.00 queue_ms=0.0 process_ms=0.0 total_ms=0.5\n";
    FILE *f = fmemopen((void *)log, strlen(log), "r");
    REQUIRE(f);
    stt_trace t;
    char err[512];
    REQUIRE(stt_trace_from_sttd_log(f, &t, err, sizeof err) == 0);
    fclose(f);
    REQUIRE(t.n == 3); /* the GET is no arrival of the service's work */
    /* arrivals: a1 at 00.5, a3 at 04.5, a4 at 05.9995 */
    CHECK(t.at_s[0] == 0 && t.duration_s[0] == 60);
    CHECK(fabs(t.at_s[1] - 4.0) < 1e-6 && t.duration_s[1] == 8);
    CHECK(fabs(t.at_s[2] - 5.4995) < 1e-6 && isnan(t.duration_s[2]));
    stt_trace_free(&t);
    f = fmemopen((void *)"nothing here\n", 13, "r");
    CHECK(stt_trace_from_sttd_log(f, &t, err, sizeof err) == STT_EINVAL);
    fclose(f);
}

int main(void)
{
    TEST_RUN(test_read_and_write);
    TEST_RUN(test_bad_traces);
    TEST_RUN(test_bind_to_a_mix);
    TEST_RUN(test_from_sttd_log);
    return test_summary();
}
