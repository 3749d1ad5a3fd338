/* sttd end to end: the real binary on loopback, the real engine, real speech.
 * Every upload format gives the spoken words; bad input, a full queue, an API
 * key and SIGTERM draining behave as the HTTP contract says. */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "testlib.h"

#define CLIP                                                                                       \
    "librivox/sense_and_sensibility_01_austen_64kb-0880.wav" /* "he was not an ill disposed young  \
                                                                man" */
#define LONG_CLIP "librivox/sense_and_sensibility_01_austen_64kb-0870.wav"

static test_server srv;
static char url_tr[128];
static const char *tmp;

/* Re-encodes the clip with libsndfile into format, with channels copies of the
 * mono signal. */
static int write_variant(const char *path, int format, int channels)
{
    SF_INFO in = {0};
    SNDFILE *src = sf_open(test_data(CLIP), SFM_READ, &in);
    if (!src) return -1;
    short *mono = malloc(sizeof(short) * (size_t)in.frames);
    sf_count_t n = sf_readf_short(src, mono, in.frames);
    sf_close(src);
    short *multi = malloc(sizeof(short) * (size_t)n * (size_t)channels);
    for (sf_count_t i = 0; i < n; i++)
        for (int c = 0; c < channels; c++)
            multi[i * channels + c] = mono[i];
    SF_INFO out = {0};
    out.samplerate = in.samplerate;
    out.channels = channels;
    out.format = format;
    SNDFILE *dst = sf_open(path, SFM_WRITE, &out);
    if (!dst) {
        fprintf(stderr, "  cannot write %s: %s\n", path, sf_strerror(NULL));
        free(mono);
        free(multi);
        return -1;
    }
    /* int samples written to a float file are scaled to [-1, 1] like real float WAVs */
    sf_command(dst, SFC_SET_SCALE_INT_FLOAT_WRITE, NULL, SF_TRUE);
    sf_writef_short(dst, multi, n);
    sf_close(dst);
    free(mono);
    free(multi);
    return 0;
}

static void expect_words(const char *path, const char *what)
{
    test_response r;
    const char *f[] = {"response_format", "json", NULL};
    REQUIRE(test_post_file(url_tr, path, NULL, 0, f, NULL, &r) == 0);
    fprintf(stderr, "  %s -> %ld %s", what, r.status, r.body);
    CHECK(r.status == 200);
    CHECK(strstr(r.body, "young man") != NULL);
    test_response_free(&r);
}

static void test_every_upload_format_gives_the_spoken_words(void)
{
    static const struct {
        const char *name;
        int format, channels;
    } v[] = {
        {"pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1},
        {"pcm24_stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2},
        {"float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1},
        {"u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1},
        {"clip.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1},
        {"clip.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 1},
        {"clip.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 1},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", tmp, v[i].name);
        REQUIRE(write_variant(path, v[i].format, v[i].channels) == 0);
        expect_words(path, v[i].name);
    }
}

static void test_response_formats_and_timing_headers(void)
{
    static const struct {
        const char *fmt, *ctype, *marker;
    } v[] = {
        {"json", "application/json", "\"text\""},
        {"text", "text/plain", "young man"},
        {"verbose_json", "application/json", "\"segments\""},
        {"srt", "application/x-subrip", " --> "},
        {"vtt", "text/vtt", "WEBVTT"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        test_response r;
        const char *f[] = {"response_format",
                           v[i].fmt,
                           "timestamp_granularities[]",
                           "segment",
                           "timestamp_granularities[]",
                           "word",
                           NULL};
        REQUIRE(test_post_file(url_tr, test_data(CLIP), NULL, 0, f, NULL, &r) == 0);
        CHECK(r.status == 200);
        const char *ct = test_header(&r, "Content-Type");
        CHECK(ct && strstr(ct, v[i].ctype) == ct);
        CHECK(strstr(r.body, v[i].marker) != NULL);
        CHECK(test_header(&r, "X-Request-Id") != NULL);
        const char *q = test_header(&r, "X-Queue-Time-Ms");
        CHECK(q && atof(q) >= 0);
        const char *p = test_header(&r, "X-Process-Time-Ms");
        CHECK(p && atof(p) > 0);
        const char *d = test_header(&r, "X-Audio-Duration-S");
        CHECK(d && atof(d) > 2.9 && atof(d) < 3.1);
        if (!strcmp(v[i].fmt, "verbose_json")) {
            json_t *j = json_loads(r.body, 0, NULL);
            CHECK(j && json_array_size(json_object_get(j, "words")) >= 6);
            CHECK(j && json_array_size(json_object_get(j, "segments")) >= 1);
            json_decref(j);
        }
        test_response_free(&r);
    }
}

static void test_inference_alias_and_models(void)
{
    test_response r;
    char url[160];
    snprintf(url, sizeof url, "%s/inference", srv.url);
    const char *f[] = {"response_format", "text", NULL};
    REQUIRE(test_post_file(url, test_data(CLIP), NULL, 0, f, NULL, &r) == 0);
    CHECK(r.status == 200 && strstr(r.body, "young man"));
    test_response_free(&r);
    snprintf(url, sizeof url, "%s/v1/models", srv.url);
    REQUIRE(test_request("GET", url, NULL, &r) == 0);
    CHECK(r.status == 200);
    CHECK(strstr(r.body, "\"fast\"") && strstr(r.body, "\"balanced\"") &&
          strstr(r.body, "\"accurate\""));
    test_response_free(&r);
}

static void test_bad_input_gets_4xx_and_the_server_stays_up(void)
{
    static const char garbage[] = "this is not audio at all, just some text";
    test_response r;
    REQUIRE(test_post_file(url_tr, NULL, garbage, sizeof garbage, NULL, NULL, &r) == 0);
    CHECK(r.status == 400);
    CHECK(strstr(r.body, "\"error\"") != NULL);
    test_response_free(&r);
    /* a WAV header that promises far more than it holds */
    size_t len;
    char *wav = test_read_file(test_data(CLIP), &len);
    REQUIRE(wav);
    REQUIRE(test_post_file(url_tr, NULL, wav, 60, NULL, NULL, &r) == 0);
    CHECK(r.status == 400);
    test_response_free(&r);
    free(wav);
    const char *bad_model[] = {"model", "huge", NULL};
    REQUIRE(test_post_file(url_tr, test_data(CLIP), NULL, 0, bad_model, NULL, &r) == 0);
    CHECK(r.status == 400);
    CHECK(strstr(r.body, "fast, balanced, accurate") != NULL);
    test_response_free(&r);
    char url[160];
    snprintf(url, sizeof url, "%s/health", srv.url);
    REQUIRE(test_request("GET", url, NULL, &r) == 0);
    CHECK(r.status == 200);
    test_response_free(&r);
}

typedef struct {
    const char *url, *path;
    long status;
    char *body;
} post_job;

static void *post_thread(void *arg)
{
    post_job *j = arg;
    test_response r;
    const char *f[] = {"response_format", "json", "threads", "1", NULL};
    if (test_post_file(j->url, j->path, NULL, 0, f, NULL, &r) == 0) {
        j->status = r.status;
        j->body = strdup(r.body);
    }
    test_response_free(&r);
    return NULL;
}

static void test_full_queue_gets_503_with_retry_after(void)
{
    test_server one;
    const char *args[] = {"--workers", "1", "--queue", "0", "--profiles", "accurate", NULL};
    REQUIRE(test_server_start(&one, args) == 0);
    char url[160];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", one.url);
    char long_clip[4096]; /* test_data()'s buffer is reused by the next call */
    snprintf(long_clip, sizeof long_clip, "%s", test_data(LONG_CLIP));
    post_job j = {url, long_clip, 0, NULL};
    pthread_t th;
    pthread_create(&th, NULL, post_thread, &j);
    /* while the only worker is busy, the next request is refused at once,
     * and the pod stays ready: a full queue is not "cannot take work" */
    char metrics[160], ready[160];
    snprintf(metrics, sizeof metrics, "%s/metrics", one.url);
    snprintf(ready, sizeof ready, "%s/ready", one.url);
    test_response r;
    int full = 0;
    for (int i = 0; i < 500 && !full; i++) {
        usleep(20000);
        test_request("GET", metrics, NULL, &r);
        full = r.body && strstr(r.body, "sttd_requests_in_flight 1") != NULL;
        test_response_free(&r);
    }
    CHECK(full);
    REQUIRE(test_request("GET", ready, NULL, &r) == 0);
    CHECK(r.status == 200);
    test_response_free(&r);
    const char *f[] = {"model", "accurate", NULL};
    REQUIRE(test_post_file(url, test_data(CLIP), NULL, 0, f, NULL, &r) == 0);
    CHECK(r.status == 503);
    const char *ra = test_header(&r, "Retry-After");
    CHECK(ra && atoi(ra) >= 1);
    test_response_free(&r);
    pthread_join(th, NULL);
    CHECK(j.status == 200);
    free(j.body);
    CHECK(test_server_stop(&one, SIGTERM) == 0);
}

/* 1 when needle is in the readable memory of pid, 0 when not, -1 when it
 * cannot be read (a descendant's memory is readable by its ancestor). */
static int memory_holds(pid_t pid, const char *needle)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    FILE *mem = fopen(path, "rb");
    if (!maps || !mem) {
        if (maps) fclose(maps);
        if (mem) fclose(mem);
        return -1;
    }
    char line[512];
    int found = 0;
    size_t nl = strlen(needle);
    while (!found && fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r') continue;
        if (strstr(line, "[vvar]") || hi - lo > (1ul << 30)) continue;
        char *buf = malloc(hi - lo);
        if (buf && fseek(mem, (long)lo, SEEK_SET) == 0) {
            size_t got = fread(buf, 1, hi - lo, mem);
            found = got >= nl && memmem(buf, got, needle, nl) != NULL;
        }
        clearerr(mem);
        free(buf);
    }
    fclose(maps);
    fclose(mem);
    return found;
}

static void test_api_key_is_required_when_configured(void)
{
    char keyfile[512];
    snprintf(keyfile, sizeof keyfile, "%s/key", tmp);
    FILE *f = fopen(keyfile, "w");
    REQUIRE(f);
    fputs("s3cret-key\n", f);
    fclose(f);
    test_server k;
    const char *args[] = {"--workers", "1", "--api-key-file", keyfile, "--profiles", "fast", NULL};
    REQUIRE(test_server_start(&k, args) == 0);
    char url[160];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", k.url);
    const char *fields[] = {"model", "fast", NULL};
    test_response r;
    REQUIRE(test_post_file(url, test_data(CLIP), NULL, 0, fields, NULL, &r) == 0);
    CHECK(r.status == 401);
    test_response_free(&r);
    const char *wrong[] = {"Authorization: Bearer s3cret-kez", NULL};
    REQUIRE(test_post_file(url, test_data(CLIP), NULL, 0, fields, wrong, &r) == 0);
    CHECK(r.status == 401);
    test_response_free(&r);
    const char *bearer[] = {"Authorization: Bearer s3cret-key", NULL};
    REQUIRE(test_post_file(url, test_data(CLIP), NULL, 0, fields, bearer, &r) == 0);
    CHECK(r.status == 200);
    test_response_free(&r);
    const char *xkey[] = {"X-API-Key: s3cret-key", NULL};
    REQUIRE(test_post_file(url, test_data(CLIP), NULL, 0, fields, xkey, &r) == 0);
    CHECK(r.status == 200);
    test_response_free(&r);
    /* Probes carry no key: a pod with a key becomes ready. */
    const char *probes[] = {"/health", "/ready"};
    for (int i = 0; i < 2; i++) {
        snprintf(url, sizeof url, "%s%s", k.url, probes[i]);
        REQUIRE(test_request("GET", url, NULL, &r) == 0);
        CHECK(r.status == 200);
        test_response_free(&r);
    }
    /* The decoders parse untrusted bytes: the key is nowhere in their memory. */
    pid_t procs[8];
    int n = stt_proc_tree(k.pid, procs, 8);
    CHECK(n == 3); /* sttd, the model loader, one worker */
    CHECK(memory_holds(k.pid, "s3cret-key") == 1);
    for (int i = 1; i < n; i++)
        CHECK(memory_holds(procs[i], "s3cret-key") == 0);
    CHECK(test_server_stop(&k, SIGTERM) == 0);
}

static void test_sigterm_drains_requests_in_flight(void)
{
    test_server d;
    const char *args[] = {"--workers", "1", "--profiles", "accurate", NULL};
    REQUIRE(test_server_start(&d, args) == 0);
    char url[160];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", d.url);
    char long_clip[4096]; /* test_data()'s buffer is reused by the next call */
    snprintf(long_clip, sizeof long_clip, "%s", test_data(LONG_CLIP));
    post_job j = {url, long_clip, 0, NULL};
    pthread_t th;
    pthread_create(&th, NULL, post_thread, &j);
    char ready[160];
    snprintf(ready, sizeof ready, "%s/metrics", d.url);
    /* wait until the request is being decoded */
    for (int i = 0; i < 200; i++) {
        test_response r;
        test_request("GET", ready, NULL, &r);
        int busy = r.body && strstr(r.body, "sttd_workers_busy 1") != NULL;
        test_response_free(&r);
        if (busy) break;
        usleep(10000);
    }
    int rc = test_server_stop(&d, SIGTERM);
    pthread_join(th, NULL);
    CHECK(rc == 0);
    CHECK(j.status == 200);
    CHECK(j.body && strstr(j.body, "dashwood") != NULL);
    free(j.body);
}

int main(void)
{
    tmp = test_tmpdir();
    const char *args[] = {"--workers", "2", NULL};
    if (!tmp || test_server_start(&srv, args) != 0) {
        fprintf(stderr, "cannot start sttd\n");
        return 1;
    }
    snprintf(url_tr, sizeof url_tr, "%s/v1/audio/transcriptions", srv.url);
    TEST_RUN(test_every_upload_format_gives_the_spoken_words);
    TEST_RUN(test_response_formats_and_timing_headers);
    TEST_RUN(test_inference_alias_and_models);
    TEST_RUN(test_bad_input_gets_4xx_and_the_server_stays_up);
    TEST_RUN(test_full_queue_gets_503_with_retry_after);
    TEST_RUN(test_api_key_is_required_when_configured);
    TEST_RUN(test_sigterm_drains_requests_in_flight);
    CHECK(test_server_stop(&srv, SIGTERM) == 0);
    return test_summary();
}
