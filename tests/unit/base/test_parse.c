/* parse: whole strings only, ranges checked, outputs untouched on failure. */
#include <math.h>

#include "error.h"
#include "parse.h"
#include "testlib.h"

static void test_int(void)
{
    int v = 7;
    CHECK(stt_parse_int("42", 0, 100, &v) == 0 && v == 42);
    CHECK(stt_parse_int("-3", -5, 5, &v) == 0 && v == -3);
    v = 7;
    CHECK(stt_parse_int("", 0, 100, &v) == STT_EINVAL);
    CHECK(stt_parse_int("12x", 0, 100, &v) == STT_EINVAL);
    CHECK(stt_parse_int(" 12", 0, 100, &v) == STT_EINVAL);
    CHECK(stt_parse_int("101", 0, 100, &v) == STT_EINVAL);
    CHECK(stt_parse_int("99999999999999999999", 0, 100, &v) == STT_EINVAL);
    CHECK(stt_parse_int(NULL, 0, 100, &v) == STT_EINVAL);
    CHECK(v == 7);
}

static void test_double(void)
{
    double v = 1;
    CHECK(stt_parse_double("0.25", 0, 1, &v) == 0 && v == 0.25);
    CHECK(stt_parse_double("1e-3", 0, 1, &v) == 0 && fabs(v - 1e-3) < 1e-12);
    v = 1;
    CHECK(stt_parse_double("nan", 0, 1, &v) == STT_EINVAL);
    CHECK(stt_parse_double("inf", 0, INFINITY, &v) == STT_EINVAL);
    CHECK(stt_parse_double("2", 0, 1, &v) == STT_EINVAL);
    CHECK(stt_parse_double("0.5s", 0, 1, &v) == STT_EINVAL);
    CHECK(v == 1);
}

static void test_lists(void)
{
    int iv[4] = {0}, n = -1;
    CHECK(stt_parse_int_list("1,2,4", 1, 16, iv, 4, &n) == 0 && n == 3);
    CHECK(iv[0] == 1 && iv[1] == 2 && iv[2] == 4);
    n = -1;
    CHECK(stt_parse_int_list("1,,2", 1, 16, iv, 4, &n) == STT_EINVAL);
    CHECK(stt_parse_int_list("1,2,", 1, 16, iv, 4, &n) == STT_EINVAL);
    CHECK(stt_parse_int_list("1,2,3,4,5", 1, 16, iv, 4, &n) == STT_EINVAL);
    CHECK(stt_parse_int_list("1,32", 1, 16, iv, 4, &n) == STT_EINVAL);
    CHECK(stt_parse_int_list("", 1, 16, iv, 4, &n) == STT_EINVAL);
    CHECK(n == -1);
    double dv[3];
    CHECK(stt_parse_double_list("0.5,1.5", 0.1, 10, dv, 3, &n) == 0 && n == 2);
    CHECK(dv[0] == 0.5 && dv[1] == 1.5);
    CHECK(stt_parse_double_list("0.5,x", 0.1, 10, dv, 3, &n) == STT_EINVAL);
    CHECK(stt_parse_double_list("0", 0.1, 10, dv, 3, &n) == STT_EINVAL);
}

int main(void)
{
    TEST_RUN(test_int);
    TEST_RUN(test_double);
    TEST_RUN(test_lists);
    return test_summary();
}
