/* The HTTP layer against a test double backend, driven by libcurl. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "error.h"
#include "http.h"
#include "testlib.h"

#define WAV "librivox/sense_and_sensibility_01_austen_64kb-0880.wav"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the backend double ---- */

typedef struct fake {
    atomic_int result;       /* what transcribe returns */
    atomic_int admit_result; /* what admit returns */
    atomic_int block_ms;     /* how long transcribe blocks */
    atomic_int entered;      /* transcribe calls started */
    atomic_int admitted;     /* admissions held now */
    atomic_int admits;       /* admissions granted in all */
    atomic_int saw_cancel;   /* transcribe saw its client go */
    atomic_int last_profile, last_threads;
    atomic_int active, capacity, ready, broken, drained, cancelled;
    atomic_uint mask;
    atomic_long last_len;
} fake;

static int fake_admit(void *ctx, char *err, size_t errlen)
{
    fake *f = ctx;
    if (f->admit_result) return stt_seterr(err, errlen, f->admit_result, "fake refusal");
    atomic_fetch_add(&f->admitted, 1);
    atomic_fetch_add(&f->admits, 1);
    return 0;
}

static void fake_release(void *ctx)
{
    fake *f = ctx;
    atomic_fetch_sub(&f->admitted, 1);
}

/* Decodes the upload like the pool's workers do (so undecodable input gets
 * the same answer), then blocks, fails or answers "hello world". */
static int fake_transcribe(void *ctx, const stt_media *media, const stt_job_opts *o,
                           stt_transcript **out, stt_job_stats *stats, char *err, size_t errlen)
{
    fake *f = ctx;
    atomic_fetch_add(&f->entered, 1);
    f->last_profile = o->profile;
    f->last_threads = o->threads;
    f->last_len = (long)media->len;
    void *map = mmap(NULL, media->len, PROT_READ, MAP_SHARED, media->fd, 0);
    if (map == MAP_FAILED) return stt_seterr(err, errlen, STT_EIO, "cannot map the upload");
    stt_audio a;
    stt_audio_params ap = stt_audio_default_params();
    ap.max_duration_s = o->max_duration_s;
    int rc = stt_audio_decode(map, media->len, &ap, &a, err, errlen);
    munmap(map, media->len);
    if (rc) return rc;
    stats->audio_s = stt_audio_duration(&a);
    stt_audio_free(&a);
    int ms = f->block_ms;
    for (int waited = 0; waited < ms; waited += 10) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
        if (o->cancelled && o->cancelled(o->cancel_ctx)) {
            f->saw_cancel = 1;
            return stt_seterr(err, errlen, STT_ECANCELED, "client gone");
        }
    }
    if (f->result) return stt_seterr(err, errlen, f->result, "fake failure");
    stt_transcript *t = stt_transcript_create();
    if (!t) return STT_ENOMEM;
    stt_transcript_begin_segment(t, 0, 1.5);
    stt_transcript_add_word(t, "hello", 0.1, 0.5, 1);
    stt_transcript_add_word(t, "world", 0.6, 1.2, 1);
    *out = t;
    stats->queue_ms = 1.5;
    stats->process_ms = 2.5;
    stats->pieces = 1;
    return 0;
}

static void fake_status(void *ctx, stt_backend_status *st)
{
    fake *f = ctx;
    st->workers = 2;
    st->busy = 0;
    st->active = f->active;
    st->in_flight = f->admitted;
    st->capacity = f->capacity;
    st->restarts = 3;
    st->threads = 2;
    st->profile_mask = f->mask;
    st->ready = f->ready;
    st->broken = f->broken;
    st->draining = f->drained;
}

static void fake_drain(void *ctx)
{
    ((fake *)ctx)->drained = 1;
}

static void fake_cancel(void *ctx)
{
    ((fake *)ctx)->cancelled = 1;
}

static fake F;
static stt_server *S;
static char base[64];
static char logpath[512];
static FILE *logf_;

static int probe_port;
static char probe_base[64];

static int start_with(const char *api_key, size_t max_upload, const stt_server_params *over)
{
    memset(&F, 0, sizeof F);
    F.capacity = 4;
    F.ready = 1;
    F.mask = 7;
    stt_server_params p = over ? *over : stt_server_default_params();
    p.port = 0;
    p.backend = (stt_backend){&F,          fake_admit, fake_release, fake_transcribe,
                              fake_status, fake_drain, fake_cancel};
    p.api_key = api_key;
    if (max_upload) p.max_upload_bytes = max_upload;
    if (!over) p.timeout_s = 10;
    snprintf(logpath, sizeof logpath, "%s/requests.log", test_tmpdir());
    logf_ = fopen(logpath, "w");
    p.log = logf_;
    char err[256];
    S = stt_server_start(&p, err, sizeof err);
    if (!S) {
        fprintf(stderr, "start: %s\n", err);
        return 0;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", stt_server_port(S));
    probe_port = stt_server_probe_port(S);
    snprintf(probe_base, sizeof probe_base, "http://127.0.0.1:%d", probe_port);
    return stt_server_port(S) > 0;
}

static int start(const char *api_key, size_t max_upload)
{
    return start_with(api_key, max_upload, NULL);
}

static void stop(void)
{
    stt_server_stop(S, 5);
    S = NULL;
    if (logf_) fclose(logf_);
    logf_ = NULL;
}

/* ---- the client ---- */

typedef struct resp {
    long status;
    char *body;
    size_t len;
    char hdr[8192];
    size_t hlen;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *cls)
{
    resp *r = cls;
    char *nb = realloc(r->body, r->len + sz * n + 1);
    if (!nb) return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, sz * n);
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *cls)
{
    resp *r = cls;
    size_t k = sz * n;
    if (r->hlen + k < sizeof r->hdr) {
        memcpy(r->hdr + r->hlen, p, k);
        r->hlen += k;
        r->hdr[r->hlen] = '\0';
    }
    return k;
}

/* The value of a response header (static buffer), or NULL. */
static const char *header(const resp *r, const char *name)
{
    static char val[512];
    size_t nl = strlen(name);
    for (const char *line = r->hdr; line && *line;) {
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r\n");
            if (k >= sizeof val) k = sizeof val - 1;
            memcpy(val, v, k);
            val[k] = '\0';
            return val;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return NULL;
}

static void resp_free(resp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Sends a request. fields: NULL or name, value pairs sent as multipart along
 * with file (when file_len is not (size_t)-1); raw: a non-multipart body. */
static resp request_at(const char *at, const char *method, const char *path,
                       const char *const *hdrs, const char *const *fields, const void *file,
                       size_t file_len, const char *raw, const char *raw_type)
{
    resp r = {0};
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "%s%s", at, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        hl = curl_slist_append(hl, hdrs[i]);
    char ct[256];
    if (raw) {
        snprintf(ct, sizeof ct, "Content-Type: %s", raw_type);
        hl = curl_slist_append(hl, ct);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, raw);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(raw));
    }
    curl_mime *mime = NULL;
    if (fields || file_len != (size_t)-1) {
        mime = curl_mime_init(c);
        for (size_t i = 0; fields && fields[i]; i += 2) {
            curl_mimepart *part = curl_mime_addpart(mime);
            curl_mime_name(part, fields[i]);
            curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
        }
        if (file_len != (size_t)-1) {
            curl_mimepart *part = curl_mime_addpart(mime);
            curl_mime_name(part, "file");
            curl_mime_filename(part, "audio.wav");
            curl_mime_data(part, file, file_len);
        }
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    else
        fprintf(stderr, "  curl: %s\n", curl_easy_strerror(rc));
    curl_mime_free(mime);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return r;
}

static resp request(const char *method, const char *path, const char *const *hdrs,
                    const char *const *fields, const void *file, size_t file_len, const char *raw,
                    const char *raw_type)
{
    return request_at(base, method, path, hdrs, fields, file, file_len, raw, raw_type);
}

static resp get(const char *path, const char *const *hdrs)
{
    return request("GET", path, hdrs, NULL, NULL, (size_t)-1, NULL, NULL);
}

static char *wav_data(size_t *len)
{
    return test_read_file(test_data(WAV), len);
}

static resp post_wav(const char *path, const char *const *fields, const char *const *hdrs)
{
    size_t len = 0;
    char *wav = wav_data(&len);
    resp r = request("POST", path, hdrs, fields, wav, wav ? len : 0, NULL, NULL);
    free(wav);
    return r;
}

static int is_error_json(const resp *r, const char *code)
{
    const char *ct = header(r, "Content-Type");
    return r->body && ct && strncmp(ct, "application/json", 16) == 0 &&
           strstr(r->body, "{\"error\":{\"message\":") && strstr(r->body, "\"type\":") &&
           (!code || strstr(r->body, code));
}

/* ---- cases ---- */

static void test_simple_routes(void)
{
    REQUIRE(start(NULL, 0));
    resp r = get("/health", NULL);
    CHECK(r.status == 200);
    CHECK(r.body && strstr(r.body, "\"status\":\"ok\""));
    CHECK_STR_EQ(header(&r, "Content-Type"), "application/json");
    CHECK(header(&r, "X-Request-Id") != NULL);
    resp_free(&r);

    r = get("/ready", NULL);
    CHECK(r.status == 200);
    CHECK(r.body && strstr(r.body, "\"status\":\"ready\""));
    resp_free(&r);
    /* Readiness means "can take work", not "has room this instant". */
    F.active = 4; /* == capacity */
    r = get("/ready", NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    F.active = 0;
    F.ready = 0;
    r = get("/ready", NULL);
    CHECK(r.status == 503);
    resp_free(&r);
    F.ready = 1;

    /* A backend that stopped by itself fails liveness. */
    F.broken = 1;
    r = get("/health", NULL);
    CHECK(r.status == 503);
    CHECK(r.body && strstr(r.body, "\"status\":\"broken\""));
    resp_free(&r);
    r = get("/ready", NULL);
    CHECK(r.status == 503);
    CHECK(r.body && strstr(r.body, "broken"));
    resp_free(&r);
    F.broken = 0;

    r = get("/v1/models", NULL);
    CHECK(r.status == 200);
    CHECK(r.body && strstr(r.body, "\"object\":\"list\""));
    CHECK(r.body && strstr(r.body, "{\"id\":\"fast\",\"object\":\"model\",\"created\":0,"
                                   "\"owned_by\":\"sttlab\"}"));
    CHECK(r.body && strstr(r.body, "\"balanced\"") && strstr(r.body, "\"accurate\""));
    resp_free(&r);

    r = get("/nope", NULL);
    CHECK(r.status == 404);
    CHECK(is_error_json(&r, "not_found"));
    resp_free(&r);

    r = request("DELETE", "/health", NULL, NULL, NULL, (size_t)-1, NULL, NULL);
    CHECK(r.status == 405);
    CHECK(is_error_json(&r, "method_not_allowed"));
    CHECK(header(&r, "Allow") && strstr(header(&r, "Allow"), "GET"));
    resp_free(&r);
    r = get("/v1/audio/transcriptions", NULL);
    CHECK(r.status == 405);
    CHECK_STR_EQ(header(&r, "Allow"), "POST");
    resp_free(&r);
    stop();
    /* One log line per request. */
    size_t len = 0;
    char *log = test_read_file(logpath, &len);
    REQUIRE(log);
    int lines = 0;
    for (char *p = log; (p = strstr(p, " id=")); p++)
        lines++;
    if (lines != 10) fprintf(stderr, "  log:\n%s", log);
    CHECK(lines == 10);
    CHECK(strstr(log, "GET /nope status=404") != NULL);
    free(log);
}

static void test_formats(void)
{
    REQUIRE(start(NULL, 0));
    static const struct {
        const char *fmt, *ctype, *needle;
    } cases[] = {
        {"json", "application/json", "{\"text\":"},
        {"text", "text/plain", "hello world"},
        {"verbose_json", "application/json", "\"segments\""},
        {"srt", "application/x-subrip", "-->"},
        {"vtt", "text/vtt", "WEBVTT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *fields[] = {"response_format", cases[i].fmt, NULL};
        resp r = post_wav("/v1/audio/transcriptions", fields, NULL);
        CHECK(r.status == 200);
        const char *ct = header(&r, "Content-Type");
        CHECK(ct && strncmp(ct, cases[i].ctype, strlen(cases[i].ctype)) == 0);
        CHECK(r.body && strstr(r.body, cases[i].needle));
        CHECK(r.body && strstr(r.body, "hello"));
        if (!r.body || !strstr(r.body, cases[i].needle)) fprintf(stderr, "  body: %s\n", r.body);
        resp_free(&r);
    }
    /* Headers, the whisper.cpp alias, OpenAI's model name, an echoed id. */
    const char *fields[] = {"model",  "whisper-1", "language", "en", "temperature", "0",
                            "prompt", "ignored",   "threads",  "3",  NULL};
    const char *hdrs[] = {"X-Request-Id: client-id-42", NULL};
    resp r = post_wav("/inference", fields, hdrs);
    CHECK(r.status == 200);
    CHECK_STR_EQ(header(&r, "X-Request-Id"), "client-id-42");
    CHECK(header(&r, "X-Queue-Time-Ms") && atof(header(&r, "X-Queue-Time-Ms")) == 1.5);
    CHECK(header(&r, "X-Process-Time-Ms") && atof(header(&r, "X-Process-Time-Ms")) == 2.5);
    CHECK(header(&r, "X-Audio-Duration-S") && atof(header(&r, "X-Audio-Duration-S")) > 1);
    CHECK_STR_EQ(header(&r, "X-Pieces"), "1");
    CHECK(F.last_profile == 1); /* balanced, the default */
    CHECK(F.last_threads == 3);
    resp_free(&r);
    const char *f2[] = {
        "model", "fast", "response_format", "verbose_json", "timestamp_granularities[]",
        "word",  NULL};
    r = post_wav("/v1/audio/transcriptions", f2, NULL);
    CHECK(r.status == 200);
    CHECK(F.last_profile == 0);
    CHECK(r.body && strstr(r.body, "\"words\""));
    resp_free(&r);
    /* Generated ids differ. */
    resp a = get("/health", NULL), b = get("/health", NULL);
    char ida[128] = "";
    if (header(&a, "X-Request-Id")) snprintf(ida, sizeof ida, "%s", header(&a, "X-Request-Id"));
    CHECK(ida[0] && header(&b, "X-Request-Id") && strcmp(ida, header(&b, "X-Request-Id")) != 0);
    resp_free(&a);
    resp_free(&b);
    stop();
}

static void test_bad_requests(void)
{
    REQUIRE(start(NULL, 0));
    const char *only_model[] = {"model", "fast", NULL};
    resp r =
        request("POST", "/v1/audio/transcriptions", NULL, only_model, NULL, (size_t)-1, NULL, NULL);
    CHECK(r.status == 400);
    CHECK(is_error_json(&r, "missing required field 'file'"));
    CHECK(r.body && strstr(r.body, "\"param\":\"file\""));
    resp_free(&r);

    const char *bad_model[] = {"model", "large-v3", NULL};
    r = post_wav("/v1/audio/transcriptions", bad_model, NULL);
    CHECK(r.status == 400);
    CHECK(is_error_json(&r, "fast, balanced, accurate"));
    resp_free(&r);

    const char *bad_lang[] = {"language", "fr", NULL};
    r = post_wav("/v1/audio/transcriptions", bad_lang, NULL);
    CHECK(r.status == 400);
    CHECK(is_error_json(&r, "language"));
    resp_free(&r);

    const char *bad_fmt[] = {"response_format", "xml", NULL};
    r = post_wav("/v1/audio/transcriptions", bad_fmt, NULL);
    CHECK(r.status == 400);
    CHECK(is_error_json(&r, "response_format"));
    resp_free(&r);

    const char *bad_gran[] = {"timestamp_granularities[]", "char", NULL};
    r = post_wav("/v1/audio/transcriptions", bad_gran, NULL);
    CHECK(r.status == 400);
    resp_free(&r);

    const char *bad_threads[] = {"threads", "0", NULL};
    r = post_wav("/v1/audio/transcriptions", bad_threads, NULL);
    CHECK(r.status == 400);
    CHECK(is_error_json(&r, "threads"));
    resp_free(&r);

    const char *text = "this is plain text, not audio at all\n";
    r = request("POST", "/v1/audio/transcriptions", NULL, NULL, text, strlen(text), NULL, NULL);
    CHECK(r.status == 400);
    CHECK(is_error_json(&r, "invalid_audio"));
    resp_free(&r);

    r = request("POST", "/v1/audio/transcriptions", NULL, NULL, NULL, (size_t)-1, "{\"a\":1}",
                "application/json");
    CHECK(r.status == 415);
    CHECK(is_error_json(&r, NULL));
    resp_free(&r);

    r = request("POST", "/inference", NULL, NULL, NULL, (size_t)-1, "--xyz\r\nbroken",
                "multipart/form-data; boundary=xyz");
    CHECK(r.status == 400);
    CHECK(is_error_json(&r, "invalid_multipart"));
    resp_free(&r);
    /* Only the text upload reached the backend (it decodes media); bad fields
     * and bad multipart never did, and every admission was given back. */
    CHECK(F.entered == 1);
    CHECK(F.admitted == 0);

    /* The server still serves after all that. */
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    stop();
}

static void test_too_large(void)
{
    REQUIRE(start(NULL, 32 * 1024));
    resp r = post_wav("/v1/audio/transcriptions", NULL, NULL); /* ~95 KB, Content-Length */
    CHECK(r.status == 413);
    CHECK(is_error_json(&r, "file_too_large"));
    resp_free(&r);
    /* Chunked: no Content-Length, so the limit is found while streaming. */
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    r = post_wav("/v1/audio/transcriptions", NULL, chunked);
    CHECK(r.status == 413);
    CHECK(is_error_json(&r, NULL));
    resp_free(&r);
    CHECK(F.entered == 0);
    r = get("/health", NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    stop();
}

static void test_auth(void)
{
    REQUIRE(start("s3cret-key", 0));
    resp r = get("/v1/models", NULL);
    CHECK(r.status == 401);
    CHECK_STR_EQ(header(&r, "WWW-Authenticate"), "Bearer");
    CHECK(is_error_json(&r, "invalid_api_key"));
    resp_free(&r);
    const char *wrong[] = {"Authorization: Bearer s3cret-kex", NULL};
    r = get("/v1/models", wrong);
    CHECK(r.status == 401);
    resp_free(&r);
    const char *prefix[] = {"X-API-Key: s3cret", NULL};
    r = get("/v1/models", prefix);
    CHECK(r.status == 401);
    resp_free(&r);
    /* The key with anything appended is another key. */
    const char *longer[] = {"Authorization: Bearer s3cret-key2", NULL};
    r = get("/v1/models", longer);
    CHECK(r.status == 401);
    resp_free(&r);
    const char *bearer[] = {"Authorization: Bearer s3cret-key", NULL};
    r = get("/v1/models", bearer);
    CHECK(r.status == 200);
    resp_free(&r);
    const char *xkey[] = {"X-API-Key: s3cret-key", NULL};
    r = post_wav("/v1/audio/transcriptions", NULL, xkey);
    CHECK(r.status == 200);
    resp_free(&r);
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 401);
    resp_free(&r);
    /* Probes need no key: kubelets send none. */
    r = get("/health", NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    r = get("/ready", NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    r = get("/metrics", NULL);
    CHECK(r.status == 401);
    resp_free(&r);
    stop();
}

static void test_backend_errors(void)
{
    REQUIRE(start(NULL, 0));
    F.result = STT_EBUSY;
    resp r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 503);
    CHECK(is_error_json(&r, "server_busy"));
    const char *ra = header(&r, "Retry-After");
    CHECK(ra && atoi(ra) >= 1 && atoi(ra) <= 30);
    resp_free(&r);
    F.result = STT_ESHUTDOWN;
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 503);
    resp_free(&r);
    F.result = STT_EWORKER;
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 500);
    CHECK(is_error_json(&r, "server_error"));
    resp_free(&r);
    /* Every code gets the status, type and code of its row in the one table. */
    static const int codes[] = {STT_EDEADLINE, STT_ETOOLONG, STT_EFORMAT, STT_EAUDIO,
                                STT_ECANCELED, STT_EENGINE,  STT_ENOMEM};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        F.result = codes[i];
        r = post_wav("/v1/audio/transcriptions", NULL, NULL);
        CHECK(r.status == stt_err_http_status(codes[i]));
        CHECK(is_error_json(&r, stt_err_code(codes[i])));
        CHECK(r.body && strstr(r.body, stt_err_type(codes[i])));
        resp_free(&r);
    }
    F.result = 0;
    CHECK(F.admitted == 0);
    stop();
}

/* Admission happens at the headers: a refused request is answered before its
 * body is read, and never reaches the backend. */
static void test_admission_before_the_body(void)
{
    REQUIRE(start(NULL, 0));
    F.admit_result = STT_EBUSY;
    resp r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 503);
    CHECK(is_error_json(&r, "server_busy"));
    CHECK(header(&r, "Retry-After") && atoi(header(&r, "Retry-After")) >= 1);
    resp_free(&r);
    /* A large upload announced with Expect: 100-continue is never sent. */
    size_t big = 8u << 20;
    char *junk = calloc(1, big);
    REQUIRE(junk);
    double t0 = now_s();
    r = request("POST", "/v1/audio/transcriptions", NULL, NULL, junk, big, NULL, NULL);
    double took = now_s() - t0;
    CHECK(r.status == 503);
    CHECK(took < 2.0);
    resp_free(&r);
    free(junk);
    F.admit_result = STT_ESHUTDOWN;
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 503);
    CHECK(header(&r, "Retry-After") != NULL);
    resp_free(&r);
    CHECK(F.entered == 0);
    CHECK(F.admits == 0);
    F.admit_result = 0;
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    CHECK(F.admits == 1 && F.admitted == 0);
    CHECK(F.last_len > 1000);
    stop();
}

/* The value of a sample line starting with series (name, labels and the space). */
static double metric(const char *text, const char *series)
{
    for (const char *p = text; p && (p = strstr(p, series)); p++)
        if (p == text || p[-1] == '\n') return atof(p + strlen(series));
    return 0;
}

static void test_metrics(void)
{
    REQUIRE(start(NULL, 0));
    resp m0 = get("/metrics", NULL);
    CHECK(m0.status == 200);
    CHECK_STR_EQ(header(&m0, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    resp r = get("/health", NULL);
    resp_free(&r);
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    r = get("/nope", NULL);
    resp_free(&r);
    resp m1 = get("/metrics", NULL);
    REQUIRE(m1.body);
    const char *h = "sttd_requests_total{route=\"/health\",status=\"200\"} ";
    CHECK(metric(m1.body, h) == metric(m0.body, h) + 1);
    CHECK(metric(m1.body,
                 "sttd_requests_total{route=\"/v1/audio/transcriptions\",status=\"200\"} ") == 1);
    CHECK(metric(m1.body, "sttd_requests_total{route=\"other\",status=\"404\"} ") == 1);
    CHECK(metric(m1.body, "sttd_audio_seconds_total ") > 1);
    CHECK(metric(m1.body, "sttd_queue_wait_seconds_count ") == 1);
    CHECK(metric(m1.body,
                 "sttd_request_duration_seconds_count{route=\"/v1/audio/transcriptions\"} ") == 1);
    CHECK(metric(m1.body, "sttd_workers ") == 2);
    CHECK(metric(m1.body, "sttd_worker_restarts_total ") == 3);
    CHECK(metric(m1.body, "sttd_threads_per_request ") == 2);
    CHECK(strstr(m1.body, "sttd_build_info{version=\"") != NULL);
    CHECK(strstr(m1.body, "sttd_workers_busy ") && strstr(m1.body, "sttd_queue_depth "));
    CHECK(strstr(m1.body, "sttd_requests_in_flight 0") != NULL);
    CHECK(strstr(m1.body, "sttd_connections_cut_total") != NULL);
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char path[512], cmd[1024];
        snprintf(path, sizeof path, "%s/metrics.txt", test_tmpdir());
        FILE *f = fopen(path, "w");
        REQUIRE(f);
        fputs(m1.body, f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "promtool check metrics < '%s'", path);
        CHECK(system(cmd) == 0);
    } else {
        fprintf(stderr, "  skipped the promtool check: promtool not in PATH\n");
    }
    resp_free(&m0);
    resp_free(&m1);
    stop();
}

static resp drain_resp;

static void *drain_client(void *arg)
{
    drain_resp = post_wav("/v1/audio/transcriptions", NULL, NULL);
    return arg;
}

static void test_stop_drains(void)
{
    REQUIRE(start(NULL, 0));
    F.block_ms = 300;
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, drain_client, NULL) == 0);
    double t0 = now_s();
    while (F.entered == 0 && now_s() - t0 < 10)
        usleep(1000);
    CHECK(F.entered == 1);
    double t1 = now_s();
    stop();
    double took = now_s() - t1;
    pthread_join(th, NULL);
    CHECK(drain_resp.status == 200);
    CHECK(drain_resp.body && strstr(drain_resp.body, "hello world"));
    CHECK(took > 0.1 && took < 5);
    resp_free(&drain_resp);
}

/* Clients keep their connection: GETs and successful transcriptions leave it
 * open for the next request; a request refused before its body was read
 * closes it (the unread body must not be taken for the next request). */
static void test_keep_alive(void)
{
    REQUIRE(start("k", 0));
    size_t wav_len = 0;
    char *wav = wav_data(&wav_len);
    REQUIRE(wav);
    CURL *c = curl_easy_init();
    struct curl_slist *auth = curl_slist_append(NULL, "Authorization: Bearer k");
    char url[256];
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, auth);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    /* path, POST a file?, expected status, expected new connections */
    const struct {
        const char *path;
        int post;
        long status, connects;
    } steps[] = {{"/health", 0, 200, 1},
                 {"/health", 0, 200, 0},
                 {"/v1/models", 0, 200, 0},
                 {"/metrics", 0, 200, 0},
                 {"/v1/audio/transcriptions", 1, 200, 0},
                 {"/ready", 0, 200, 0},
                 {"/nope", 0, 404, 0},
                 {"/health", 0, 200, 0}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        resp r = {0};
        snprintf(url, sizeof url, "%s%s", base, steps[i].path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_mime *mime = NULL;
        if (steps[i].post) {
            mime = curl_mime_init(c);
            curl_mimepart *part = curl_mime_addpart(mime);
            curl_mime_name(part, "file");
            curl_mime_filename(part, "audio.wav");
            curl_mime_data(part, wav, wav_len);
            curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
        } else {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        }
        long status = 0, connects = -1;
        CHECK(curl_easy_perform(c) == CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
        if (status != steps[i].status || connects != steps[i].connects)
            fprintf(stderr, "  %s: status %ld, new connections %ld\n", steps[i].path, status,
                    connects);
        CHECK(status == steps[i].status);
        CHECK(connects == steps[i].connects);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
        curl_mime_free(mime);
        resp_free(&r);
    }
    /* Refused before the upload is read: the server closes, the client reconnects. */
    resp r = {0};
    curl_slist_free_all(auth);
    auth = curl_slist_append(NULL, "Authorization: Bearer wrong");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, auth);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", base);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x");
    long status = 0, connects = -1;
    CHECK(curl_easy_perform(c) == CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    CHECK(status == 401);
    resp_free(&r);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    snprintf(url, sizeof url, "%s/health", base);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    CHECK(curl_easy_perform(c) == CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
    CHECK(status == 200);
    CHECK(connects == 1);
    resp_free(&r);
    curl_slist_free_all(auth);
    curl_easy_cleanup(c);
    free(wav);
    stop();
}

/* Every echoed place takes any bytes: the answer is still JSON with a status
 * (jansson refuses invalid UTF-8, which used to leave an empty reply). */
static void test_invalid_utf8_everywhere(void)
{
    REQUIRE(start(NULL, 0));
    resp r = get("/%ff%fe/\xc3", NULL);
    CHECK(r.status == 404);
    CHECK(is_error_json(&r, "not_found"));
    resp_free(&r);
    const char *model[] = {"model", "\xff\xfe", NULL};
    r = post_wav("/v1/audio/transcriptions", model, NULL);
    CHECK(r.status == 400 && is_error_json(&r, "model_not_found"));
    resp_free(&r);
    const char *lang[] = {"language", "\xc3\x28", NULL};
    r = post_wav("/v1/audio/transcriptions", lang, NULL);
    CHECK(r.status == 400 && is_error_json(&r, "unsupported_language"));
    resp_free(&r);
    const char *fmt[] = {"response_format", "\xe2\x82", NULL};
    r = post_wav("/v1/audio/transcriptions", fmt, NULL);
    CHECK(r.status == 400 && is_error_json(&r, "invalid_value"));
    resp_free(&r);
    const char *th[] = {"threads", "\xff", NULL};
    r = post_wav("/v1/audio/transcriptions", th, NULL);
    CHECK(r.status == 400 && is_error_json(&r, "threads"));
    resp_free(&r);
    /* A value cut at 64 bytes in the middle of a character. */
    char cut[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(cut, "\xe2\x82\xac");
    const char *gran[] = {"timestamp_granularities[]", cut, NULL};
    r = post_wav("/v1/audio/transcriptions", gran, NULL);
    CHECK(r.status == 400 && is_error_json(&r, "invalid_value"));
    resp_free(&r);
    /* A field name that is not UTF-8, in an over-long field. */
    char *longv = malloc(5000);
    REQUIRE(longv);
    memset(longv, 'v', 4999);
    longv[4999] = '\0';
    const char *name[] = {"\xff\xfe", longv, NULL};
    r = post_wav("/v1/audio/transcriptions", name, NULL);
    CHECK(r.status == 400 && is_error_json(&r, "longer than 4096"));
    resp_free(&r);
    free(longv);
    r = post_wav("/v1/audio/transcriptions", NULL, NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    stop();
}

/* A URL cannot add lines to the request log. */
static void test_log_cannot_be_forged(void)
{
    REQUIRE(start(NULL, 0));
    resp r = get("/x%0a2026-01-01T00:00:00Z%20id=forged%20GET%20/admin%20status=200", NULL);
    CHECK(r.status == 404);
    resp_free(&r);
    stop();
    char *log = test_read_file(logpath, NULL);
    REQUIRE(log);
    int lines = 0;
    for (char *p = log; *p; p++)
        lines += *p == '\n';
    CHECK(lines == 1);
    CHECK(strstr(log, " id=forged") == NULL); /* not a field of its own */
    CHECK(strstr(log, "\\x0a") != NULL);
    free(log);
}

/* Profiles not loaded are not offered, and asking for one says so. */
static void test_unloaded_profile(void)
{
    REQUIRE(start(NULL, 0));
    F.mask = 1u << 1; /* balanced only */
    resp r = get("/v1/models", NULL);
    CHECK(r.status == 200 && r.body && strstr(r.body, "\"balanced\""));
    CHECK(r.body && !strstr(r.body, "\"fast\"") && !strstr(r.body, "\"accurate\""));
    resp_free(&r);
    const char *acc[] = {"model", "accurate", NULL};
    r = post_wav("/v1/audio/transcriptions", acc, NULL);
    CHECK(r.status == 400 && is_error_json(&r, "model_not_found"));
    CHECK(r.body && strstr(r.body, "\"param\":\"model\"") && strstr(r.body, "not loaded"));
    resp_free(&r);
    CHECK(F.entered == 0);
    stop();
}

/* The probe port answers /health, /ready and /metrics without a key, and
 * nothing else. */
static void test_probe_port(void)
{
    stt_server_params p = stt_server_default_params();
    p.probe_port = 0;
    p.timeout_s = 10;
    REQUIRE(start_with("k3y", 0, &p));
    REQUIRE(probe_port > 0 && probe_port != stt_server_port(S));
    const char *paths[] = {"/health", "/ready", "/metrics"};
    for (int i = 0; i < 3; i++) {
        resp r = request_at(probe_base, "GET", paths[i], NULL, NULL, NULL, (size_t)-1, NULL, NULL);
        CHECK(r.status == 200);
        resp_free(&r);
    }
    resp r = request_at(probe_base, "GET", "/v1/models", NULL, NULL, NULL, (size_t)-1, NULL, NULL);
    CHECK(r.status == 404);
    resp_free(&r);
    r = get("/metrics", NULL); /* the main port still wants the key */
    CHECK(r.status == 401);
    resp_free(&r);
    stop();
}

/* Draining closes the main listener at once (new connections are refused,
 * not left waiting), /ready says 503 on the probe port, and the backend is
 * told; cancel reaches the backend too. */
static void test_drain_refuses_new_connections(void)
{
    stt_server_params p = stt_server_default_params();
    p.probe_port = 0;
    REQUIRE(start_with(NULL, 0, &p));
    int before = test_connect_loopback(stt_server_port(S), 0, NULL);
    CHECK(before >= 0);
    if (before >= 0) close(before);
    stt_server_drain(S);
    CHECK(F.drained == 1);
    int fd = test_connect_loopback(stt_server_port(S), 0, NULL);
    CHECK(fd < 0);
    if (fd >= 0) close(fd);
    resp r = request_at(probe_base, "GET", "/ready", NULL, NULL, NULL, (size_t)-1, NULL, NULL);
    CHECK(r.status == 503 && r.body && strstr(r.body, "draining"));
    resp_free(&r);
    r = request_at(probe_base, "GET", "/health", NULL, NULL, NULL, (size_t)-1, NULL, NULL);
    CHECK(r.status == 200);
    resp_free(&r);
    stt_server_cancel(S);
    CHECK(F.cancelled == 1);
    stop();
}

/* A client that sends its headers too slowly is cut; one that trickles its
 * upload below the minimum rate gets 408 and is cut; the server keeps
 * serving, and both are counted. */
static void test_slow_clients_are_cut(void)
{
    stt_server_params p = stt_server_default_params();
    p.header_timeout_s = 0.5;
    p.min_upload_rate_bps = 100000;
    p.timeout_s = 30;
    REQUIRE(start_with(NULL, 0, &p));
    int hdr = test_connect_loopback(stt_server_port(S), 0, NULL);
    REQUIRE(hdr >= 0);
    CHECK(write(hdr, "GET /health HTTP/1.1\r\nHo", 24) == 24);
    char buf[512];
    double t0 = now_s();
    ssize_t n = recv(hdr, buf, sizeof buf, 0); /* blocks until the server cuts */
    double took = now_s() - t0;
    CHECK(n == 0 || n < 0);
    CHECK(took > 0.3 && took < 5);
    close(hdr);

    int up = test_connect_loopback(stt_server_port(S), 0, NULL);
    REQUIRE(up >= 0);
    static const char head[] = "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: multipart/form-data; boundary=b\r\n"
                               "Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: "
                               "form-data; name=file\r\n\r\n";
    CHECK(write(up, head, sizeof head - 1) == (ssize_t)(sizeof head - 1));
    t0 = now_s();
    size_t got = 0;
    buf[0] = '\0';
    for (int i = 0; i < 300; i++) {
        if (write(up, "x", 1) != 1) break;
        n = recv(up, buf + got, sizeof buf - 1 - got, MSG_DONTWAIT);
        if (n > 0) got += (size_t)n;
        if (n == 0) break;
        usleep(50000);
    }
    buf[got] = '\0';
    took = now_s() - t0;
    CHECK(strstr(buf, "HTTP/1.1 408") == buf);
    CHECK(strstr(buf, "request_timeout") != NULL);
    CHECK(took < 14);
    close(up);
    resp r = get("/metrics", NULL);
    CHECK(r.status == 200);
    CHECK(r.body && strstr(r.body, "sttd_connections_cut_total{reason=\"header_timeout\"} "));
    CHECK(r.body && strstr(r.body, "sttd_connections_cut_total{reason=\"slow_upload\"} 1"));
    resp_free(&r);
    CHECK(F.entered == 0 && F.admitted == 0);
    stop();
}

static void *abandoning_client(void *arg)
{
    (void)arg;
    size_t len = 0;
    char *wav = wav_data(&len);
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", base);
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, "file");
    curl_mime_filename(part, "a.wav");
    curl_mime_data(part, wav, len);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 500L); /* gives up while the backend works */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    resp r = {0};
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_perform(c);
    free(r.body);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    free(wav);
    return NULL;
}

/* A client that disconnects while its request waits cancels it: the backend
 * is told (it drops queued work and abandons running pieces). */
static void test_client_disconnect_cancels(void)
{
    REQUIRE(start(NULL, 0));
    F.block_ms = 10000;
    pthread_t th;
    double t0 = now_s();
    REQUIRE(pthread_create(&th, NULL, abandoning_client, NULL) == 0);
    pthread_join(th, NULL);
    while (!F.saw_cancel && now_s() - t0 < 5)
        usleep(10000);
    CHECK(F.saw_cancel == 1);
    CHECK(now_s() - t0 < 5);
    F.block_ms = 0;
    for (int i = 0; i < 100 && F.admitted; i++)
        usleep(10000);
    CHECK(F.admitted == 0);
    stop();
    char *log = test_read_file(logpath, NULL);
    CHECK(log && strstr(log, "status=499") != NULL);
    free(log);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TEST_RUN(test_simple_routes);
    TEST_RUN(test_formats);
    TEST_RUN(test_bad_requests);
    TEST_RUN(test_too_large);
    TEST_RUN(test_auth);
    TEST_RUN(test_backend_errors);
    TEST_RUN(test_admission_before_the_body);
    TEST_RUN(test_metrics);
    TEST_RUN(test_stop_drains);
    TEST_RUN(test_keep_alive);
    TEST_RUN(test_invalid_utf8_everywhere);
    TEST_RUN(test_log_cannot_be_forged);
    TEST_RUN(test_unloaded_profile);
    TEST_RUN(test_probe_port);
    TEST_RUN(test_drain_refuses_new_connections);
    TEST_RUN(test_slow_clients_are_cut);
    TEST_RUN(test_client_disconnect_cancels);
    curl_global_cleanup();
    return test_summary();
}
