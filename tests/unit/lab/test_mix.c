/* mix: the one traffic-mix grammar: a corpus manifest (selected and weighted),
 * an audio.json, or PATH [WEIGHT] lines relative to the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
    stt_mix_files f;
    REQUIRE(stt_mix_read(SAMPLE "/audio/audio.json", NULL, &m, &f, err, sizeof err) == 0);
    CHECK(f.n == 3);
    CHECK(f.path[0] == NULL); /* names only: nothing to upload */
    CHECK(f.name[0] != NULL);
    stt_mix_free(&m);
    stt_mix_files_free(&f);
    CHECK(stt_mix_load("/nonexistent/mix", &m, err, sizeof err) == STT_EIO);
    /* selection is for corpus manifests */
    stt_mix_params p = stt_mix_default_params();
    p.max_duration_s = 10;
    CHECK(stt_mix_read(SAMPLE "/audio/audio.json", &p, &m, NULL, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "corpus manifest") != NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_path_weight_lines(void)
{
    const char *dir = test_tmpdir();
    char path[512], wav[512], text[2048];
    snprintf(wav, sizeof wav, "%s",
             test_data("librivox/sense_and_sensibility_01_austen_64kb-0870.wav"));
    snprintf(path, sizeof path, "%s/mix.txt", dir);
    snprintf(text, sizeof text,
             "# two parts of one, one of the same, none of a third\n%s 2.5\n\n  %s\n%s 0\n", wav,
             wav, wav);
    write_file(path, text);
    stt_mix m;
    stt_mix_files f;
    char err[256];
    REQUIRE(stt_mix_read(path, NULL, &m, &f, err, sizeof err) == 0);
    CHECK(m.n == 2); /* weight 0 leaves a line out */
    CHECK(m.weight[0] == 2.5 && m.weight[1] == 1);
    CHECK(fabs(stt_mix_total_weight(&m) - 3.5) < 1e-12);
    CHECK(m.duration_s[0] > 1 && m.duration_s[0] == m.duration_s[1]);
    CHECK(f.path[0] && !strcmp(f.path[0], wav));
    CHECK(f.format[0] && !strcmp(f.format[0], "wav"));
    CHECK(stt_mix_find(&f, "sense_and_sensibility_01_austen_64kb-0870.wav") == 0);
    CHECK(stt_mix_find(&f, "nope.wav") == -1);
    stt_mix_free(&m);
    stt_mix_files_free(&f);

    /* A bad weight is an error with the line, not a silent 1. */
    snprintf(text, sizeof text, "%s\n%s heavy\n", wav, wav);
    write_file(path, text);
    CHECK(stt_mix_load(path, &m, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "mix.txt:2") != NULL);
    snprintf(text, sizeof text, "%s -1\n", wav);
    write_file(path, text);
    CHECK(stt_mix_load(path, &m, err, sizeof err) == STT_EINVAL);
    snprintf(text, sizeof text, "%s 1 extra\n", wav);
    write_file(path, text);
    CHECK(stt_mix_load(path, &m, err, sizeof err) == STT_EINVAL);

    write_file(path, "missing.wav 1\n");
    CHECK(stt_mix_load(path, &m, err, sizeof err) == STT_EIO);
    CHECK(strstr(err, "missing.wav") != NULL);

    /* A file that is no audio: an error, unless durations are optional. */
    char junk[600];
    snprintf(junk, sizeof junk, "%s/junk.bin", dir);
    write_file(junk, "not audio at all");
    write_file(path, "junk.bin 3\n");
    CHECK(stt_mix_load(path, &m, err, sizeof err) == STT_EAUDIO);
    stt_mix_params p = stt_mix_default_params();
    p.require_durations = 0;
    REQUIRE(stt_mix_read(path, &p, &m, NULL, err, sizeof err) == 0);
    CHECK(m.n == 1 && m.duration_s[0] == 0 && m.weight[0] == 3);
    stt_mix_free(&m);

    write_file(path, "# nothing\n");
    CHECK(stt_mix_load(path, &m, err, sizeof err) == STT_EINVAL);
}

/* A corpus manifest as `sttbench corpus` writes it (only the fields read). */
static const char *make_corpus(void)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/corpus", test_tmpdir());
    char cmd[1100], path[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd)) return NULL;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    write_file(path, "[{\"file\": \"a_8s.wav\", \"duration_s\": 8, \"format\": \"wav\"},\n"
                     " {\"file\": \"a_8s.mp3\", \"duration_s\": 8, \"format\": \"mp3\"},\n"
                     " {\"file\": \"b_25s.wav\", \"duration_s\": 25, \"format\": \"wav\"},\n"
                     " {\"file\": \"c_60s.flac\", \"duration_s\": 60, \"format\": \"flac\"}]\n");
    snprintf(path, sizeof path, "%s/manifest.tsv", dir);
    write_file(path, "file\tduration_s\n");
    return dir;
}

static void test_corpus_manifest(void)
{
    const char *dir = make_corpus();
    REQUIRE(dir);
    char path[700], err[512];
    stt_mix m;
    /* The folder, DIR/manifest, DIR/manifest.json and DIR/manifest.tsv name it alike. */
    const char *names[] = {"", "/manifest", "/manifest.json", "/manifest.tsv"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s%s", dir, names[i]);
        REQUIRE(stt_mix_load(path, &m, err, sizeof err) == 0);
        CHECK(m.n == 4);
        CHECK(stt_mix_total_weight(&m) == 4);
        stt_mix_free(&m);
    }
    stt_mix_params p = stt_mix_default_params();
    p.formats = "wav,flac";
    p.max_duration_s = 30;
    p.weights = "a_8s.wav=2.5,b_25s.wav=0.5";
    stt_mix_files f;
    REQUIRE(stt_mix_read(dir, &p, &m, &f, err, sizeof err) == 0);
    CHECK(m.n == 2 && f.n == 2);
    int a = stt_mix_find(&f, "a_8s.wav"), b = stt_mix_find(&f, "b_25s.wav");
    REQUIRE(a >= 0 && b >= 0);
    CHECK(m.weight[a] == 2.5 && m.weight[b] == 0.5); /* real weights, not rounded */
    CHECK(m.duration_s[b] == 25);
    snprintf(path, sizeof path, "%s/b_25s.wav", dir);
    CHECK_STR_EQ(f.path[b], path);
    CHECK_STR_EQ(f.format[b], "wav");
    CHECK(stt_mix_nearest(&m, 20) == b && stt_mix_nearest(&m, 1) == a);
    stt_mix_free(&m);
    stt_mix_files_free(&f);

    /* Weight 0 drops a file; a name the manifest lacks, a malformed item,
     * an unknown format and an empty selection are errors. */
    p = stt_mix_default_params();
    p.weights = "a_8s.wav=0,a_8s.mp3=0,b_25s.wav=0,c_60s.flac=0";
    CHECK(stt_mix_read(dir, &p, &m, &f, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "selected") != NULL);
    p.weights = "nope.wav=3";
    CHECK(stt_mix_read(dir, &p, &m, &f, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "nope.wav") != NULL);
    p.weights = "a_8s.wav";
    CHECK(stt_mix_read(dir, &p, &m, &f, err, sizeof err) == STT_EINVAL);
    p.weights = "a_8s.wav=-2";
    CHECK(stt_mix_read(dir, &p, &m, &f, err, sizeof err) == STT_EINVAL);
    p.weights = NULL;
    p.formats = "opus";
    CHECK(stt_mix_read(dir, &p, &m, &f, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "opus") != NULL);
    p.formats = NULL;
    p.max_duration_s = 1;
    CHECK(stt_mix_read(dir, &p, &m, &f, err, sizeof err) == STT_EINVAL);
    CHECK(m.n == 0 && m.duration_s == NULL && f.n == 0 && f.path == NULL);
}

/* The single clips audio.json measures for the fixed cost are not traffic. */
static void test_audio_json_leaves_out_the_clip_set(void)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/audio.json", test_tmpdir());
    write_file(path, "{\"results\": [{\"file\": \"a.wav\", \"duration_s\": 60},"
                     "{\"file\": \"c1.wav\", \"duration_s\": 3, \"set\": \"clips\"},"
                     "{\"file\": \"b.wav\", \"duration_s\": 300, \"set\": \"main\"}]}\n");
    stt_mix m;
    REQUIRE(stt_mix_load(path, &m, err, sizeof err) == 0);
    CHECK(m.n == 2);
    CHECK(m.duration_s[0] == 60 && m.duration_s[1] == 300);
    stt_mix_free(&m);
}

int main(void)
{
    TEST_RUN(test_from_audio_json);
    TEST_RUN(test_path_weight_lines);
    TEST_RUN(test_corpus_manifest);
    TEST_RUN(test_audio_json_leaves_out_the_clip_set);
    return test_summary();
}
