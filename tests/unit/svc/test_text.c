/* text: any bytes become valid UTF-8 (so jansson never refuses a reply) or
 * one unforgeable log field, cut only between characters. */
#include <jansson.h>
#include <string.h>

#include "testlib.h"
#include "text.h"

static int json_ok(const char *s)
{
    json_t *j = json_pack("{s:s}", "m", s);
    int ok = j != NULL;
    json_decref(j);
    return ok;
}

static void test_utf8_repairs(void)
{
    char out[64];
    CHECK(stt_text_utf8(out, sizeof out, "plain", 5) == 5 && !strcmp(out, "plain"));
    stt_text_utf8(out, sizeof out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa4", 64);
    CHECK_STR_EQ(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa4"); /* valid text stays */
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "a\xc3",            /* cut sequence */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\x80\x80",         /* lone continuations */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!json_ok(bad[i]));
        stt_text_utf8(out, sizeof out, bad[i], strlen(bad[i]));
        CHECK(json_ok(out));
        CHECK(strstr(out, "\xef\xbf\xbd") != NULL);
    }
    stt_text_utf8(out, sizeof out, "a\xffz", 3);
    CHECK_STR_EQ(out, "a\xef\xbf\xbdz");
}

static void test_utf8_cuts_between_characters(void)
{
    char src[100], out[16];
    for (int i = 0; i < 30; i++)
        memcpy(src + 3 * i, "\xe2\x82\xac", 3);
    src[90] = '\0';
    size_t n = stt_text_utf8(out, sizeof out, src, 90);
    CHECK(n < sizeof out && out[n] == '\0');
    CHECK(json_ok(out));
    CHECK(n >= 3 && !strcmp(out + n - 3, "..."));
    CHECK((n - 3) % 3 == 0); /* whole euro signs only */
    char tiny[2];
    CHECK(stt_text_utf8(tiny, sizeof tiny, "abc", 3) == 0 && tiny[0] == '\0');
    CHECK(stt_text_utf8(out, sizeof out, NULL, 0) == 0 && out[0] == '\0');
}

static void test_log_is_one_line(void)
{
    char out[128];
    stt_text_log(out, sizeof out, "/v1/x\n2026-01-01T00:00:00Z id=forged GET /admin status=200");
    CHECK(strchr(out, '\n') == NULL && strchr(out, ' ') == NULL);
    CHECK(strstr(out, "\\x0a") != NULL && strstr(out, "\\x20") != NULL);
    stt_text_log(out, sizeof out, "a\"b\\c\r\x7f\xff");
    CHECK_STR_EQ(out, "a\\x22b\\x5cc\\x0d\\x7f\\xff");
    char small[10];
    size_t n = stt_text_log(small, sizeof small, "\n\n\n\n");
    CHECK(n < sizeof small && !strcmp(small, "\\x0a..."));
}

int main(void)
{
    TEST_RUN(test_utf8_repairs);
    TEST_RUN(test_utf8_cuts_between_characters);
    TEST_RUN(test_log_is_one_line);
    return test_summary();
}
