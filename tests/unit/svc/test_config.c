/* config: the defaults are the ones documented, every option is range-checked
 * at start (not by every request later), and the API key file is read
 * strictly. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "error.h"
#include "testlib.h"

static int parse(stt_config *c, const char *const *args, char *err, size_t errlen)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "sttd";
    for (int i = 0; args && args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    *c = stt_config_default_params();
    return stt_config_parse(c, argc, argv, err, errlen);
}

static void test_defaults(void)
{
    stt_config c = stt_config_default_params();
    CHECK(c.grace_s == 30);
    CHECK(c.server.port == 8080);
    CHECK(c.server.probe_port == -1);
    CHECK(c.server.max_upload_bytes == 100u << 20);
    CHECK(c.server.max_duration_s == 3600);
    CHECK(c.server.max_connections == 256);
    CHECK(c.server.max_connections_per_ip == 64);
    CHECK(c.server.header_timeout_s == 10);
    CHECK(c.pool.max_rtf == 3.0);
    CHECK(c.pool.min_deadline_s == 5);
    CHECK(c.pool.decode_cpu_s == 60);
    CHECK(c.pool.broken_after_s == 30);
    CHECK(c.pool.vad.max_piece_s == 30);
    CHECK(c.api_key_file == NULL && !c.quiet && !c.help && !c.version);
    char err[256];
    CHECK(parse(&c, NULL, err, sizeof err) == 0);
    CHECK_STR_EQ(c.server.default_profile, "balanced");
}

static void test_every_option(void)
{
    const char *args[] = {"--host",
                          "0.0.0.0",
                          "--port",
                          "0",
                          "--probe-port",
                          "9091",
                          "--workers",
                          "3",
                          "--threads",
                          "2",
                          "--queue",
                          "0",
                          "--profiles",
                          "fast,accurate",
                          "--model-dir",
                          "/m",
                          "--api-key-file",
                          "/k",
                          "--max-upload-mb",
                          "1.5",
                          "--max-duration-s",
                          "120",
                          "--max-piece-s",
                          "20",
                          "--max-rtf",
                          "0.5",
                          "--min-deadline-s",
                          "2",
                          "--max-decode-cpu-s",
                          "7",
                          "--timeout-s",
                          "5",
                          "--header-timeout-s",
                          "3",
                          "--min-upload-kib-s",
                          "8",
                          "--max-connections",
                          "40",
                          "--max-connections-per-ip",
                          "0",
                          "--broken-after-s",
                          "4",
                          "--grace-s",
                          "6",
                          "--quiet",
                          NULL};
    stt_config c;
    char err[256] = "";
    int rc = parse(&c, args, err, sizeof err);
    if (rc) fprintf(stderr, "  %s\n", err);
    REQUIRE(rc == 0);
    CHECK_STR_EQ(c.server.host, "0.0.0.0");
    CHECK(c.server.port == 0 && c.server.probe_port == 9091);
    CHECK(c.pool.workers == 3 && c.pool.threads == 2);
    CHECK(c.pool.queue == -1); /* an explicit 0: no queue */
    CHECK(c.pool.profile_mask == ((1u << 0) | (1u << 2)));
    CHECK_STR_EQ(c.server.default_profile, "fast"); /* balanced is not loaded */
    CHECK_STR_EQ(c.pool.model_dir, "/m");
    CHECK_STR_EQ(c.api_key_file, "/k");
    CHECK(c.server.max_upload_bytes == (size_t)(1.5 * 1024 * 1024));
    CHECK(c.server.max_duration_s == 120 && c.pool.vad.max_piece_s == 20);
    CHECK(c.pool.max_rtf == 0.5 && c.pool.min_deadline_s == 2 && c.pool.decode_cpu_s == 7);
    CHECK(c.server.timeout_s == 5 && c.server.header_timeout_s == 3);
    CHECK(c.server.min_upload_rate_bps == 8 * 1024);
    CHECK(c.server.max_connections == 40 && c.server.max_connections_per_ip == 0);
    CHECK(c.pool.broken_after_s == 4 && c.grace_s == 6);
    CHECK(c.quiet && c.server.log == NULL);
}

/* Each bad value names its option; none is accepted to fail every request later. */
static void test_ranges(void)
{
    static const char *const bad[][2] = {
        {"--port", "65536"},
        {"--port", "-1"},
        {"--probe-port", "x"},
        {"--workers", "0"},
        {"--workers", "2000"},
        {"--threads", "0"},
        {"--queue", "-3"},
        {"--profiles", "huge"},
        {"--profiles", ","},
        {"--max-upload-mb", "0"},
        {"--max-upload-mb", "1e9"},
        {"--max-duration-s", "0"},
        {"--max-duration-s", "1e9"},
        {"--max-piece-s", "100000"},
        {"--max-piece-s", "1"},
        {"--max-rtf", "-1"},
        {"--max-rtf", "nan"},
        {"--min-deadline-s", "0"},
        {"--max-decode-cpu-s", "0"},
        {"--timeout-s", "0"},
        {"--header-timeout-s", "-1"},
        {"--min-upload-kib-s", "-5"},
        {"--max-connections", "0"},
        {"--max-connections-per-ip", "-1"},
        {"--broken-after-s", "0"},
        {"--grace-s", "-1"},
        {"--grace-s", "10s"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = {bad[i][0], bad[i][1], NULL};
        stt_config c;
        char err[256] = "";
        int rc = parse(&c, args, err, sizeof err);
        if (rc != STT_EINVAL) fprintf(stderr, "  accepted %s %s\n", bad[i][0], bad[i][1]);
        CHECK(rc == STT_EINVAL);
        CHECK(strstr(err, bad[i][0] + 2) != NULL);
    }
    const char *unknown[] = {"--frobnicate", NULL};
    stt_config c;
    char err[256];
    CHECK(parse(&c, unknown, err, sizeof err) == STT_EINVAL);
    const char *extra[] = {"stray", NULL};
    CHECK(parse(&c, extra, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "stray") != NULL);
    const char *help[] = {"--help", NULL};
    CHECK(parse(&c, help, err, sizeof err) == 0 && c.help);
}

static const char *write_key(const char *text, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/key", test_tmpdir());
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

static void test_api_key_file(void)
{
    char *key = NULL, err[256];
    const char *p = write_key("  \t s3cret-key \r\nsecond line\n", 29);
    REQUIRE(p);
    CHECK(stt_config_read_api_key(p, &key, err, sizeof err) == 0);
    CHECK_STR_EQ(key, "s3cret-key"); /* leading and trailing blanks are not the key */
    free(key);
    p = write_key("\n\n  \n", 5);
    CHECK(stt_config_read_api_key(p, &key, err, sizeof err) == STT_EINVAL && !key);
    char lng[STT_CONFIG_MAX_KEY + 2];
    memset(lng, 'k', sizeof lng);
    p = write_key(lng, sizeof lng); /* refused, not silently cut */
    CHECK(stt_config_read_api_key(p, &key, err, sizeof err) == STT_EINVAL && !key);
    CHECK(strstr(err, "longer") != NULL);
    p = write_key(lng, STT_CONFIG_MAX_KEY);
    CHECK(stt_config_read_api_key(p, &key, err, sizeof err) == 0 && key &&
          strlen(key) == STT_CONFIG_MAX_KEY);
    free(key);
    p = write_key("two words\n", 10);
    CHECK(stt_config_read_api_key(p, &key, err, sizeof err) == STT_EINVAL);
    p = write_key("caf\xc3\xa9\n", 6);
    CHECK(stt_config_read_api_key(p, &key, err, sizeof err) == STT_EINVAL);
    CHECK(stt_config_read_api_key("/nonexistent/key", &key, err, sizeof err) == STT_EIO);
}

static void test_transcribe_options(void)
{
    char *argv[] = {"transcribe", "--model", "fast", "--response-format", "srt", "--threads", "2",
                    "a.wav",      "b.wav",   NULL};
    stt_transcribe_config t = stt_transcribe_default_params();
    char err[256];
    REQUIRE(stt_config_parse_transcribe(&t, 9, argv, err, sizeof err) == 0);
    CHECK(t.pool.max_rtf == 0); /* offline: no CPU budget per request */
    CHECK(t.profile == 0 && t.format == STT_FMT_SRT && t.pool.threads == 2);
    CHECK(t.first_file == 7 && t.pool.profile_mask == 1);
    char *none[] = {"transcribe", NULL};
    t = stt_transcribe_default_params();
    CHECK(stt_config_parse_transcribe(&t, 1, none, err, sizeof err) == STT_EINVAL);
    char *bad[] = {"transcribe", "--model", "huge", "a.wav", NULL};
    t = stt_transcribe_default_params();
    CHECK(stt_config_parse_transcribe(&t, 4, bad, err, sizeof err) == STT_EINVAL);
}

static void test_usage_lists_every_option(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/usage", test_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    stt_config_usage(f);
    fclose(f);
    char *text = test_read_file(path, NULL);
    REQUIRE(text);
    static const char *const opts[] = {"--host",
                                       "--port",
                                       "--probe-port",
                                       "--workers",
                                       "--threads",
                                       "--queue",
                                       "--profiles",
                                       "--model-dir",
                                       "--api-key-file",
                                       "--max-upload-mb",
                                       "--max-duration-s",
                                       "--max-piece-s",
                                       "--max-rtf",
                                       "--min-deadline-s",
                                       "--max-decode-cpu-s",
                                       "--timeout-s",
                                       "--header-timeout-s",
                                       "--min-upload-kib-s",
                                       "--max-connections",
                                       "--max-connections-per-ip",
                                       "--broken-after-s",
                                       "--grace-s",
                                       "--quiet",
                                       "--help"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        CHECK(strstr(text, opts[i]) != NULL);
    free(text);
}

int main(void)
{
    TEST_RUN(test_defaults);
    TEST_RUN(test_every_option);
    TEST_RUN(test_ranges);
    TEST_RUN(test_api_key_file);
    TEST_RUN(test_transcribe_options);
    TEST_RUN(test_usage_lists_every_option);
    return test_summary();
}
