/* Same audio, same transcript: the byte-identical response whatever worker
 * takes it, whatever was decoded before, however many pieces are in flight,
 * and whether the samples arrive as WAV or FLAC. */
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static test_server srv;
static char url[128];
static char joined[512], flac[512];

/* Writes the first three LibriVox clips joined with 0.6 s pauses (17.2 s) as WAV
 * and as FLAC. */
static int make_files(const char *dir)
{
    snprintf(joined, sizeof joined, "%s/joined.wav", dir);
    snprintf(flac, sizeof flac, "%s/joined.flac", dir);
    SF_INFO wi = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SF_INFO fi = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    SNDFILE *w = sf_open(joined, SFM_WRITE, &wi), *f = sf_open(flac, SFM_WRITE, &fi);
    if (!w || !f) return -1;
    static short gap[9600];
    for (int i = 0; i < 3; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "librivox/%s.wav", test_librivox_ids[i]);
        SF_INFO in = {0};
        SNDFILE *s = sf_open(test_data(rel), SFM_READ, &in);
        if (!s) return -1;
        short *buf = malloc(sizeof(short) * (size_t)in.frames);
        sf_count_t n = sf_readf_short(s, buf, in.frames);
        sf_close(s);
        sf_writef_short(w, buf, n);
        sf_writef_short(f, buf, n);
        sf_writef_short(w, gap, 9600);
        sf_writef_short(f, gap, 9600);
        free(buf);
    }
    sf_close(w);
    sf_close(f);
    return 0;
}

static char *transcribe(const char *path, const char *threads)
{
    test_response r;
    const char *f[] = {"response_format",
                       "verbose_json",
                       "timestamp_granularities[]",
                       "word",
                       "timestamp_granularities[]",
                       "segment",
                       "threads",
                       threads,
                       NULL};
    if (test_post_file(url, path, NULL, 0, f, NULL, &r) != 0 || r.status != 200) {
        test_response_free(&r);
        return NULL;
    }
    free(r.headers);
    return r.body;
}

typedef struct {
    const char *path, *threads;
    char *out;
} job;

static void *run(void *arg)
{
    job *j = arg;
    j->out = transcribe(j->path, j->threads);
    return NULL;
}

static void test_same_file_interleaved_with_others_is_identical(void)
{
    char *first = transcribe(joined, "2");
    REQUIRE(first);
    /* Several rounds: the file runs beside other speech, on whichever worker is
     * free, after whatever those workers decoded before. */
    for (int round = 0; round < 2; round++) {
        char other[256];
        snprintf(other, sizeof other, "librivox/%s.wav", test_librivox_ids[3 + round]);
        char other_path[512];
        snprintf(other_path, sizeof other_path, "%s", test_data(other));
        job a = {other_path, "1", NULL}, b = {joined, round % 2 ? "1" : "2", NULL};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, run, &a);
        pthread_create(&tb, NULL, run, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECK(a.out != NULL);
        REQUIRE(b.out != NULL);
        CHECK_STR_EQ(b.out, first);
        free(a.out);
        free(b.out);
    }
    free(first);
}

static void test_threads_one_and_two_give_identical_transcripts(void)
{
    char *one = transcribe(joined, "1"), *two = transcribe(joined, "2");
    REQUIRE(one && two);
    CHECK_STR_EQ(one, two);
    CHECK(strstr(one, "leisure to consider") != NULL);
    free(one);
    free(two);
}

static void test_wav_and_flac_of_the_same_samples_are_identical(void)
{
    char *w = transcribe(joined, "2"), *f = transcribe(flac, "2");
    REQUIRE(w && f);
    CHECK_STR_EQ(w, f);
    free(w);
    free(f);
}

int main(void)
{
    const char *dir = test_tmpdir();
    const char *args[] = {"--workers", "2", "--profiles", "balanced", NULL};
    if (!dir || make_files(dir) != 0 || test_server_start(&srv, args) != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", srv.url);
    TEST_RUN(test_same_file_interleaved_with_others_is_identical);
    TEST_RUN(test_threads_one_and_two_give_identical_transcripts);
    TEST_RUN(test_wav_and_flac_of_the_same_samples_are_identical);
    CHECK(test_server_stop(&srv, SIGTERM) == 0);
    return test_summary();
}
