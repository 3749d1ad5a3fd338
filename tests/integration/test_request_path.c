/* The service's request path in one process, small enough to run under
 * valgrind memcheck (run_all_tests.sh --valgrind): HTTP server, multipart
 * parsing, audio decoding, the worker pool with a forked worker, recognition of
 * a short real clip, formatting, an error reply, metrics, and a clean stop. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pool.h"
#include "testlib.h"

#define CLIP "librivox/sense_and_sensibility_01_austen_64kb-0880.wav"

static char base[64];

static void test_short_clip_transcribed_over_http(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", base);
    const char *formats[] = {"json", "verbose_json", "srt"};
    for (int i = 0; i < 3; i++) {
        test_response r;
        const char *f[] = {"response_format", formats[i], "timestamp_granularities[]", "word",
                           NULL};
        REQUIRE(test_post_file(url, test_data(CLIP), NULL, 0, f, NULL, &r) == 0);
        CHECK(r.status == 200);
        CHECK(strstr(r.body, "he was not") != NULL);
        test_response_free(&r);
    }
}

static void test_bad_upload_and_metrics(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", base);
    static const char junk[] = "RIFF\x10\0\0\0WAVEjunkjunkjunk";
    test_response r;
    REQUIRE(test_post_file(url, NULL, junk, sizeof junk - 1, NULL, NULL, &r) == 0);
    CHECK(r.status == 400);
    test_response_free(&r);
    snprintf(url, sizeof url, "%s/metrics", base);
    REQUIRE(test_request("GET", url, NULL, &r) == 0);
    CHECK(r.status == 200);
    CHECK(strstr(r.body, "sttd_requests_total") != NULL);
    test_response_free(&r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    stt_pool_params pp = stt_pool_default_params();
    pp.workers = 1;
    pp.profile_mask = 1u << stt_profile_index("fast");
    char err[512];
    stt_pool *pool = stt_pool_create(&pp, err, sizeof err);
    if (!pool) {
        fprintf(stderr, "pool: %s\n", err);
        return 1;
    }
    stt_server_params sp = stt_server_default_params();
    sp.port = 0;
    sp.backend = stt_pool_backend(pool);
    sp.default_profile = "fast";
    sp.log = NULL;
    stt_server *srv = stt_server_start(&sp, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "server: %s\n", err);
        stt_pool_free(pool);
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", stt_server_port(srv));
    TEST_RUN(test_short_clip_transcribed_over_http);
    TEST_RUN(test_bad_upload_and_metrics);
    stt_server_stop(srv, 5);
    stt_pool_free(pool);
    return test_summary();
}
