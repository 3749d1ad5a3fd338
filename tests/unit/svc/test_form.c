#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "form.h"
#include "testlib.h"

static const char CT[] = "multipart/form-data; boundary=----b0undary";
static const char BODY[] =
    "preamble to ignore\r\n"
    "------b0undary\r\n"
    "Content-Disposition: form-data; name=\"model\"\r\n"
    "\r\n"
    "fast\r\n"
    "------b0undary  \r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".wav\"\r\n"
    "Content-Type: audio/wav\r\n"
    "\r\n"
    "RIFF\0\r\n--not-a-boundary\r\nxyz\r\n"
    "------b0undary\r\n"
    "Content-Disposition: form-data; name=\"timestamp_granularities[]\"\r\n"
    "\r\n"
    "word\r\n"
    "------b0undary\r\n"
    "Content-Disposition: form-data; name=\"timestamp_granularities[]\"\r\n"
    "\r\n"
    "\r\n"
    "------b0undary--\r\n"
    "epilogue";

static void check_parts(const stt_form *f)
{
    CHECK(stt_form_count(f) == 4);
    const stt_form_part *m = stt_form_get(f, "model");
    REQUIRE(m);
    CHECK(m->len == 4 && strcmp(m->data, "fast") == 0);
    CHECK(m->filename == NULL && m->content_type == NULL);
    const stt_form_part *file = stt_form_get(f, "file");
    REQUIRE(file);
    static const char want[] = "RIFF\0\r\n--not-a-boundary\r\nxyz";
    CHECK(file->len == sizeof want - 1 && memcmp(file->data, want, sizeof want - 1) == 0);
    CHECK_STR_EQ(file->filename, "a \"b\".wav");
    CHECK_STR_EQ(file->content_type, "audio/wav");
    const stt_form_part *g = stt_form_part_at(f, 3);
    REQUIRE(g);
    CHECK_STR_EQ(g->name, "timestamp_granularities[]");
    CHECK(g->len == 0 && g->data && g->data[0] == '\0');
    CHECK(stt_form_part_at(f, 4) == NULL);
    CHECK(stt_form_get(f, "nope") == NULL);
}

static void test_whole_and_bytewise(void)
{
    for (size_t step = 0; step <= 7; step++) {
        stt_form *f = NULL;
        REQUIRE(stt_form_create(CT, NULL, &f, NULL, 0) == 0);
        size_t n = sizeof BODY - 1;
        if (step == 0)
            CHECK(stt_form_feed(f, BODY, n) == 0);
        else
            for (size_t i = 0; i < n; i += step)
                CHECK(stt_form_feed(f, BODY + i, i + step > n ? n - i : step) == 0);
        CHECK(stt_form_finish(f) == 0);
        check_parts(f);
        stt_form_free(f);
    }
}

static void test_content_types(void)
{
    stt_form *f = NULL;
    char err[128];
    CHECK(stt_form_create("application/json", NULL, &f, err, sizeof err) == STT_EFORMAT);
    CHECK(f == NULL);
    CHECK(stt_form_create(NULL, NULL, &f, err, sizeof err) == STT_EFORMAT);
    CHECK(stt_form_create("multipart/form-datax; boundary=a", NULL, &f, err, sizeof err) ==
          STT_EFORMAT);
    CHECK(stt_form_create("multipart/form-data", NULL, &f, err, sizeof err) == STT_EMULTIPART);
    CHECK(stt_form_create("multipart/form-data; boundary=", NULL, &f, err, sizeof err) ==
          STT_EMULTIPART);
    CHECK(stt_form_create("multipart/form-data; boundary=a{b", NULL, &f, err, sizeof err) ==
          STT_EMULTIPART);
    char longb[300] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'x', 250);
    CHECK(stt_form_create(longb, NULL, &f, err, sizeof err) == STT_EMULTIPART);
    REQUIRE(stt_form_create("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"q b\"", NULL, &f, err,
                            sizeof err) == 0);
    static const char body[] =
        "--q b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--q b--";
    CHECK(stt_form_feed(f, body, sizeof body - 1) == 0);
    CHECK(stt_form_finish(f) == 0);
    CHECK(stt_form_get(f, "x") && strcmp(stt_form_get(f, "x")->data, "1") == 0);
    stt_form_free(f);
}

static int parse(const char *body, const stt_form_limits *lim, int *finish_rc)
{
    stt_form *f = NULL;
    *finish_rc = STT_EIO; /* a value no path below leaves unless finish ran */
    if (stt_form_create("multipart/form-data; boundary=b", lim, &f, NULL, 0) != 0) return STT_EIO;
    int rc = stt_form_feed(f, body, strlen(body));
    *finish_rc = stt_form_finish(f);
    stt_form_free(f);
    return rc;
}

static void test_malformed(void)
{
    int fin;
    CHECK(parse("", NULL, &fin) == 0 && fin == STT_EMULTIPART); /* no closing boundary */
    CHECK(parse("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxx", NULL, &fin) == 0 &&
          fin == STT_EMULTIPART);
    CHECK(parse("--bX\r\n", NULL, &fin) == STT_EMULTIPART);
    CHECK(parse("--b\r\nno colon here\r\n\r\n\r\n--b--", NULL, &fin) == STT_EMULTIPART);
    CHECK(parse("--b\r\nContent-Disposition: attachment; name=a\r\n\r\n\r\n--b--", NULL, &fin) ==
          STT_EMULTIPART);
    CHECK(parse("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", NULL, &fin) == STT_EMULTIPART);
    CHECK(fin == STT_EMULTIPART); /* sticky */
    CHECK(parse("--b--", NULL, &fin) == 0 && fin == 0);
}

static void test_limits(void)
{
    stt_form_limits lim = stt_form_default_limits();
    int fin;
    lim.max_body_bytes = 40;
    CHECK(parse("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxx\r\n--b--", &lim, &fin) ==
          STT_ETOOBIG);
    lim = stt_form_default_limits();
    lim.max_parts = 1;
    CHECK(parse("--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b\r\n"
                "Content-Disposition: form-data; name=c\r\n\r\n\r\n--b--",
                &lim, &fin) == STT_ETOOBIG);
    lim = stt_form_default_limits();
    lim.max_header_bytes = 100;
    char big[400] = "--b\r\nContent-Disposition: form-data; name=";
    memset(big + strlen(big), 'n', 200);
    CHECK(parse(big, &lim, &fin) == STT_ETOOBIG);

    /* A large part fed in small chunks keeps the window small. */
    stt_form *f = NULL;
    REQUIRE(stt_form_create("multipart/form-data; boundary=b", NULL, &f, NULL, 0) == 0);
    static const char head[] = "--b\r\nContent-Disposition: form-data; name=file\r\n\r\n";
    CHECK(stt_form_feed(f, head, sizeof head - 1) == 0);
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 1000; i++)
        CHECK(stt_form_feed(f, chunk, sizeof chunk) == 0);
    CHECK(stt_form_feed(f, "\r\n--b--", 7) == 0);
    CHECK(stt_form_finish(f) == 0);
    CHECK(stt_form_get(f, "file") && stt_form_get(f, "file")->len == 1000000);
    CHECK(stt_form_memory(f) < 3 * 1000000);
    stt_form_free(f);
}

typedef struct collected {
    size_t n;
    unsigned sum;
    int fail_after; /* fail once this many bytes were taken (0: never) */
} collected;

static int collect(void *ctx, const void *buf, size_t n)
{
    collected *c = ctx;
    if (c->fail_after && c->n + n > (size_t)c->fail_after) return STT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        c->sum += ((const unsigned char *)buf)[i];
    c->n += n;
    return 0;
}

/* The upload part goes to its sink as it arrives, whatever the chunking, and
 * never into the form's memory; other fields stay. */
static void test_streamed_part(void)
{
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=model\r\n\r\nfast\r\n"
                               "--b\r\nContent-Disposition: form-data; name=file; "
                               "filename=a.wav\r\n\r\nABCDEFGHIJ\r\n--b--";
    for (size_t chunk = 1; chunk <= sizeof body; chunk *= 3) {
        stt_form *f = NULL;
        REQUIRE(stt_form_create("multipart/form-data; boundary=b", NULL, &f, NULL, 0) == 0);
        collected c = {0};
        REQUIRE(stt_form_stream_part(f, "file", collect, &c) == 0);
        for (size_t at = 0; at < sizeof body - 1; at += chunk) {
            size_t n = sizeof body - 1 - at < chunk ? sizeof body - 1 - at : chunk;
            CHECK(stt_form_feed(f, body + at, n) == 0);
        }
        CHECK(stt_form_finish(f) == 0);
        CHECK(c.n == 10 && c.sum == 'A' * 10 + 45);
        const stt_form_part *p = stt_form_get(f, "file");
        CHECK(p && p->len == 10 && p->data && p->data[0] == '\0');
        CHECK(p && p->filename && !strcmp(p->filename, "a.wav"));
        CHECK(stt_form_get(f, "model") && !strcmp(stt_form_get(f, "model")->data, "fast"));
        stt_form_free(f);
    }
    /* A second file part is refused; so is a sink after the first byte. */
    stt_form *f = NULL;
    REQUIRE(stt_form_create("multipart/form-data; boundary=b", NULL, &f, NULL, 0) == 0);
    collected c = {0};
    REQUIRE(stt_form_stream_part(f, "file", collect, &c) == 0);
    CHECK(stt_form_stream_part(f, "other", collect, &c) == STT_EINVAL);
    static const char two[] = "--b\r\nContent-Disposition: form-data; name=file\r\n\r\nx\r\n"
                              "--b\r\nContent-Disposition: form-data; name=file\r\n\r\ny\r\n--b--";
    CHECK(stt_form_feed(f, two, sizeof two - 1) == STT_EMULTIPART);
    CHECK(stt_form_error_field(f) && !strcmp(stt_form_error_field(f), "file"));
    stt_form_free(f);
    /* The sink's error becomes the form's. */
    REQUIRE(stt_form_create("multipart/form-data; boundary=b", NULL, &f, NULL, 0) == 0);
    collected full = {.fail_after = 4};
    REQUIRE(stt_form_stream_part(f, "file", collect, &full) == 0);
    CHECK(stt_form_feed(f, body, sizeof body - 1) == STT_ENOMEM);
    CHECK(stt_form_finish(f) == STT_ENOMEM);
    stt_form_free(f);
}

/* A kept field longer than max_field_bytes is refused while it streams in,
 * naming the field, so memory stays bounded per field. */
static void test_field_limit(void)
{
    stt_form_limits lim = stt_form_default_limits();
    lim.max_field_bytes = 8;
    stt_form *f = NULL;
    REQUIRE(stt_form_create("multipart/form-data; boundary=b", &lim, &f, NULL, 0) == 0);
    collected c = {0};
    REQUIRE(stt_form_stream_part(f, "file", collect, &c) == 0);
    static const char ok[] = "--b\r\nContent-Disposition: form-data; name=file\r\n\r\n"
                             "0123456789abcdef\r\n--b\r\n"
                             "Content-Disposition: form-data; name=model\r\n\r\n12345678\r\n";
    CHECK(stt_form_feed(f, ok, sizeof ok - 1) == 0); /* the streamed part has no such limit */
    static const char bad[] =
        "--b\r\nContent-Disposition: form-data; name=prompt\r\n\r\n1234567890abcdef";
    CHECK(stt_form_feed(f, bad, sizeof bad - 1) == STT_EINVAL);
    CHECK(stt_form_error_field(f) && !strcmp(stt_form_error_field(f), "prompt"));
    CHECK(strstr(stt_form_error(f), "longer than 8 bytes") != NULL);
    stt_form_free(f);
}

int main(void)
{
    TEST_RUN(test_whole_and_bytewise);
    TEST_RUN(test_streamed_part);
    TEST_RUN(test_field_limit);
    TEST_RUN(test_content_types);
    TEST_RUN(test_malformed);
    TEST_RUN(test_limits);
    return test_summary();
}
