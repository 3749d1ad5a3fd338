/* mix: the one traffic-mix grammar: a manifest or audio.json, or PATH
 * [WEIGHT] lines relative to the file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "mix.h"
#include "testlib.h"

#define SAMPLE STT_SOURCE_DIR "/tests/data/results"

static void test_from_audio_json(void)
{
    stt_mix m;
    char err[256];
    REQUIRE(stt_mix_load(SAMPLE "/audio/audio.json", &m, err, sizeof err) == 0);
    CHECK(m.n == 3); /* each file once, whatever its repeats and profiles */
    CHECK(fabs(m.duration_s[0] - 7.7) < 1e-9);
    CHECK(m.weight[0] == 1);
    stt_mix_free(&m);
    CHECK(stt_mix_load("/nonexistent/mix", &m, err, sizeof err) == STT_EIO);
}

static void test_path_weight_lines(void)
{
    const char *dir = test_tmpdir();
    char path[512], wav[512];
    snprintf(wav, sizeof wav, "%s",
             test_data("librivox/sense_and_sensibility_01_austen_64kb-0870.wav"));
    snprintf(path, sizeof path, "%s/mix.txt", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "# two parts of one, one of the same\n%s 2.5\n%s\n", wav, wav);
    fclose(f);
    stt_mix m;
    char err[256];
    REQUIRE(stt_mix_load(path, &m, err, sizeof err) == 0);
    CHECK(m.n == 2);
    CHECK(m.weight[0] == 2.5 && m.weight[1] == 1);
    CHECK(m.duration_s[0] > 1 && m.duration_s[0] == m.duration_s[1]);
    stt_mix_free(&m);
    f = fopen(path, "w");
    fprintf(f, "missing.wav 1\n");
    fclose(f);
    CHECK(stt_mix_load(path, &m, err, sizeof err) == STT_EAUDIO);
    CHECK(strstr(err, "missing.wav") != NULL);
}

int main(void)
{
    TEST_RUN(test_from_audio_json);
    TEST_RUN(test_path_weight_lines);
    return test_summary();
}
