/* client: uploads read from disk, one transcription against a small server
 * that answers like sttd (text, X-* headers, errors), GETs, metric lookup. */
#include <curl/curl.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "client.h"
#include "error.h"
#include "testlib.h"

static struct MHD_Daemon *daemon_;
static char base[64];

/* POST /v1/audio/transcriptions: 200 with text; /inference: 503; /bad: 200
 * without text. GET /metrics: Prometheus text. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **state)
{
    (void)cls, (void)version, (void)data;
    if (!*state) {
        *state = (void *)1;
        return MHD_YES;
    }
    if (*size) { /* swallow the upload */
        *size = 0;
        return MHD_YES;
    }
    const char *body = "{\"text\":\"hello world\"}";
    unsigned status = 200;
    if (!strcmp(url, STT_ROUTE_INFERENCE)) {
        status = 503;
        body = "{\"error\":{\"message\":\"busy\"}}";
    } else if (!strcmp(url, "/bad")) {
        body = "not json";
    } else if (!strcmp(method, "GET")) {
        body = "# HELP x\nsttd_busy_workers_total 9\nsttd_busy_workers 3\n";
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, STT_HDR_QUEUE_MS, "12.5");
    MHD_add_response_header(r, STT_HDR_PROCESS_MS, "250");
    MHD_add_response_header(r, STT_HDR_AUDIO_S, "7.1");
    MHD_add_response_header(r, STT_HDR_PIECES, "2");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void test_media_types(void)
{
    CHECK_STR_EQ(stt_media_type("a/b.WAV"), "audio/wav");
    CHECK_STR_EQ(stt_media_type("x.mp3"), "audio/mpeg");
    CHECK_STR_EQ(stt_media_type("x.flac"), "audio/flac");
    CHECK_STR_EQ(stt_media_type("x.oga"), "audio/ogg");
    CHECK_STR_EQ(stt_media_type("x"), "application/octet-stream");
}

static void test_upload_read(void)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s",
             test_data("librivox/sense_and_sensibility_01_austen_64kb-0870.wav"));
    stt_upload u;
    REQUIRE(stt_upload_read(path, 0, &u, err, sizeof err) == 0);
    CHECK_STR_EQ(u.filename, "sense_and_sensibility_01_austen_64kb-0870.wav");
    CHECK_STR_EQ(u.content_type, "audio/wav");
    CHECK(u.len > 44 && u.data[0] == 'R');
    CHECK(u.audio_s > 1 && u.audio_s < 30);
    CHECK(u.weight == 1);
    stt_upload_free(&u);
    CHECK(u.data == NULL);
    CHECK(stt_upload_read("/nonexistent.wav", 1, &u, err, sizeof err) == STT_EIO);
    CHECK(strstr(err, "/nonexistent.wav") != NULL);
    CHECK(stt_upload_read("/dev/null", 1, &u, err, sizeof err) == STT_EINVAL);
}

static void test_transcribe(void)
{
    static const unsigned char bytes[] = "RIFF....WAVE";
    stt_upload u = {"a.wav", "audio/wav", bytes, sizeof bytes, 1.0, 1};
    stt_client_params p = stt_client_default_params();
    p.profile = "fast";
    p.threads = 2;
    stt_client_reply r;
    CHECK(stt_client_transcribe(base, &u, &p, &r) == 0);
    CHECK(r.status == 200);
    CHECK_STR_EQ(r.text, "hello world");
    CHECK(fabs(r.queue_ms - 12.5) < 1e-9 && fabs(r.process_ms - 250) < 1e-9);
    CHECK(fabs(r.audio_s - 7.1) < 1e-9 && r.pieces == 2);
    CHECK(r.elapsed_s > 0 && r.elapsed_s < 10);
    stt_client_reply_free(&r);

    p.route = STT_ROUTE_INFERENCE;
    CHECK(stt_client_transcribe(base, &u, &p, &r) == STT_EINVAL);
    CHECK(r.status == 503);
    CHECK(strstr(r.error, "HTTP 503") != NULL);
    stt_client_reply_free(&r);

    p.route = "/bad";
    CHECK(stt_client_transcribe(base, &u, &p, &r) == STT_EINVAL);
    CHECK(r.text == NULL && strstr(r.error, "text") != NULL);
    stt_client_reply_free(&r);
    p.response_format = "text"; /* not JSON: any 200 is an answer */
    CHECK(stt_client_transcribe(base, &u, &p, &r) == 0);
    stt_client_reply_free(&r);

    CHECK(stt_client_transcribe("http://127.0.0.1:1", &u, NULL, &r) == STT_EIO);
    CHECK(r.status == 0 && r.error[0] != 0);
    stt_client_reply_free(&r);
}

static void test_get_and_metric(void)
{
    char url[128], *body = NULL;
    long status = 0;
    snprintf(url, sizeof url, "%s%s", base, STT_ROUTE_METRICS);
    REQUIRE(stt_client_get(url, 5, &status, &body) == 0);
    CHECK(status == 200);
    CHECK(stt_client_metric(body, "sttd_busy_workers") == 3); /* not the _total line */
    CHECK(isnan(stt_client_metric(body, "sttd_missing")));
    free(body);
    CHECK(stt_client_get("http://127.0.0.1:1/", 2, &status, NULL) == STT_EIO);
    CHECK(status == 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
                               MHD_OPTION_END);
    if (!daemon_) return 1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", info->port);
    TEST_RUN(test_media_types);
    TEST_RUN(test_upload_read);
    TEST_RUN(test_transcribe);
    TEST_RUN(test_get_and_metric);
    MHD_stop_daemon(daemon_);
    curl_global_cleanup();
    return test_summary();
}
