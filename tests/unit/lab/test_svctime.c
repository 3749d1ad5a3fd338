/* svctime: the service-time model read from audio.json: the single-piece fit
 * first, the mixed fit as the fallback it says it is, pieces from the results,
 * and the "long file" threshold derived from them. */
#include <math.h>
#include <string.h>

#include "error.h"
#include "svctime.h"
#include "testlib.h"

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static json_t *audio_doc(int with_single, int with_pieces)
{
    json_t *fits =
        json_pack("[{s:s, s:s, s:f, s:f, s:i}, {s:s, s:s, s:f, s:f, s:i}]", "profile", "balanced",
                  "y", "process_s", "intercept", 0.9, "slope", 0.05, "n", 7, "profile", "fast", "y",
                  "process_s", "intercept", 0.1, "slope", -0.01, "n", 7);
    if (with_single)
        json_array_append_new(fits, json_pack("{s:s, s:s, s:f, s:f, s:i}", "profile", "balanced",
                                              "y", "process_s_single", "intercept", 0.4, "slope",
                                              0.06, "n", 4));
    json_t *res = json_array();
    /* two multi-piece files: 60 s in 10 pieces, 120 s in 20: 6 s a piece */
    json_array_append_new(res, json_pack("{s:s, s:f, s:i}", "profile", "balanced", "duration_s",
                                         60.0, "pieces", with_pieces ? 10 : 0));
    json_array_append_new(res, json_pack("{s:s, s:f, s:i}", "profile", "balanced", "duration_s",
                                         120.0, "pieces", with_pieces ? 20 : 0));
    json_array_append_new(
        res, json_pack("{s:s, s:f, s:i}", "profile", "balanced", "duration_s", 8.0, "pieces", 1));
    return json_pack("{s:o, s:o}", "fits", fits, "results", res);
}

static void test_single_piece_fit_first(void)
{
    json_t *a = audio_doc(1, 1);
    stt_svctime m;
    REQUIRE(stt_svctime_from_audio(a, "balanced", &m) == 0);
    CHECK(m.single);
    CHECK_STR_EQ(m.y, "process_s_single");
    CHECK(m.fit_index == 2 && m.n == 4);
    CHECK(near(m.fixed_s, 0.4, 1e-12) && near(m.per_audio_s, 0.06, 1e-12));
    CHECK(m.pieces_measured && near(m.piece_s, 6.0, 1e-12));
    CHECK(stt_svctime_pieces(&m, 5) == 1 && stt_svctime_pieces(&m, 6) == 1);
    CHECK(stt_svctime_pieces(&m, 6.5) == 2 && stt_svctime_pieces(&m, 60) == 10);
    /* 60 s on one core: 0.4 + 3.6; on 4: 0.4 + 0.9; pieces cap the parallelism */
    CHECK(near(stt_svctime_request_s(&m, 60, 1), 4.0, 1e-9));
    CHECK(near(stt_svctime_request_s(&m, 60, 4), 1.3, 1e-9));
    CHECK(near(stt_svctime_request_s(&m, 12, 4), 0.4 + 0.72 / 2, 1e-9));
    char d[400];
    stt_svctime_describe(&m, d, sizeof d);
    CHECK(strstr(d, "process_s_single") && strstr(d, "fixed cost") && strstr(d, "6 s"));
    json_decref(a);
}

static void test_mixed_fit_is_a_labelled_fallback(void)
{
    json_t *a = audio_doc(0, 0);
    stt_svctime m;
    REQUIRE(stt_svctime_from_audio(a, "balanced", &m) == 0);
    CHECK(!m.single);
    CHECK_STR_EQ(m.y, "process_s");
    CHECK(!m.pieces_measured && m.piece_s == STT_SVCTIME_MAX_PIECE_S);
    char d[400];
    stt_svctime_describe(&m, d, sizeof d);
    CHECK(strstr(d, "fallback") != NULL);
    /* a negative slope is no cost: unusable */
    CHECK(stt_svctime_from_audio(a, "fast", &m) == STT_ENOTFOUND);
    CHECK(stt_svctime_from_audio(a, "accurate", &m) == STT_ENOTFOUND);
    CHECK(stt_svctime_from_audio(NULL, "balanced", &m) == STT_ENOTFOUND);
    json_decref(a);
}

/* The long-file threshold follows the model: a file of one piece never gains
 * from more cores; a larger fixed cost needs a longer file to gain 10%. */
static void test_long_threshold(void)
{
    stt_svctime m = {.fixed_s = 0.4, .per_audio_s = 0.06, .piece_s = 6};
    double t = stt_svctime_long_threshold_s(&m, 1, 0.1);
    CHECK(t > 6 && t < 20);
    CHECK(stt_svctime_request_s(&m, t, 2) <= 0.9 * stt_svctime_request_s(&m, t, 1));
    CHECK(stt_svctime_request_s(&m, t - 1, 2) > 0.9 * stt_svctime_request_s(&m, t - 1, 1));
    stt_svctime heavy = m;
    heavy.fixed_s = 4;
    CHECK(stt_svctime_long_threshold_s(&heavy, 1, 0.1) > t);
    stt_svctime whole = m;
    whole.piece_s = 1e9; /* never cut: never gains */
    CHECK(isinf(stt_svctime_long_threshold_s(&whole, 1, 0.1)));
    CHECK(isinf(stt_svctime_long_threshold_s(&m, 0, 0.1)));
}

int main(void)
{
    TEST_RUN(test_single_piece_fit_first);
    TEST_RUN(test_mixed_fit_is_a_labelled_fallback);
    TEST_RUN(test_long_threshold);
    return test_summary();
}
