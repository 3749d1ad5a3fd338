/* error: every code has its own name, message, status and API code, generated
 * from one list; unknown codes are answered safely. */
#include <string.h>

#include "error.h"
#include "testlib.h"

static void test_codes_are_distinct_and_negative(void)
{
    static const int codes[] = {
#define XX(name, msg, status, type, code) STT_##name,
        STT_ERRNO_MAP(XX)
#undef XX
    };
    int n = (int)(sizeof codes / sizeof codes[0]);
    CHECK(n == STT__NERRORS);
    for (int i = 0; i < n; i++) {
        CHECK(codes[i] < 0);
        for (int j = 0; j < i; j++)
            CHECK(codes[i] != codes[j]);
        CHECK(strcmp(stt_strerror(codes[i]), "unknown error") != 0);
        CHECK(strncmp(stt_errname(codes[i]), "STT_E", 5) == 0);
        int st = stt_err_http_status(codes[i]);
        CHECK(st >= 400 && st < 600);
        /* OpenAI's convention: client errors are invalid_request_error. */
        CHECK_STR_EQ(stt_err_type(codes[i]), st < 500 ? "invalid_request_error" : "server_error");
        CHECK(stt_err_code(codes[i])[0] != 0);
    }
}

static void test_the_table_says_what_clients_rely_on(void)
{
    CHECK_STR_EQ(stt_strerror(STT_ENOMEM), "out of memory");
    CHECK_STR_EQ(stt_errname(STT_EBUSY), "STT_EBUSY");
    CHECK(stt_err_http_status(STT_EBUSY) == 503);
    CHECK(stt_err_http_status(STT_ETOOBIG) == 413);
    CHECK(stt_err_http_status(STT_ETOOLONG) == 413);
    CHECK_STR_EQ(stt_err_code(STT_ETOOBIG), "file_too_large");
    CHECK_STR_EQ(stt_err_code(STT_ETOOLONG), "audio_too_long");
    CHECK(stt_err_http_status(STT_EFORMAT) == 415);
    CHECK(stt_err_http_status(STT_EAUTH) == 401);
    CHECK(stt_err_http_status(STT_EMETHOD) == 405);
    CHECK(stt_err_http_status(STT_ENOTFOUND) == 404);
}

static void test_unknown_codes(void)
{
    CHECK_STR_EQ(stt_strerror(0), "success");
    CHECK_STR_EQ(stt_errname(0), "STT_OK");
    CHECK_STR_EQ(stt_strerror(-1000), "unknown error");
    CHECK_STR_EQ(stt_strerror(5), "unknown error");
    CHECK_STR_EQ(stt_errname(-1000), "STT_UNKNOWN");
    CHECK(stt_err_http_status(-1000) == 500);
    CHECK_STR_EQ(stt_err_code(-1000), "internal_error");
}

static void test_seterr(void)
{
    char err[8];
    CHECK(stt_seterr(err, sizeof err, STT_EINVAL, "%s %d", "value", 12345) == STT_EINVAL);
    CHECK_STR_EQ(err, "value 1"); /* truncated, terminated */
    CHECK(stt_seterr(NULL, 0, STT_EIO, "x") == STT_EIO);
}

int main(void)
{
    TEST_RUN(test_codes_are_distinct_and_negative);
    TEST_RUN(test_the_table_says_what_clients_rely_on);
    TEST_RUN(test_unknown_codes);
    TEST_RUN(test_seterr);
    return test_summary();
}
