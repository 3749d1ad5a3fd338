/* The worker pool on the real engine: real speech in, the right words out;
 * pieces in parallel give the same transcript as one at a time; a killed worker
 * fails only its own request and is replaced. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio.h"
#include "corpus.h"
#include "error.h"
#include "pool.h"
#include "proc.h"
#include "testlib.h"
#include "wer.h"

static stt_pool *pool;

static int load_clip(int i, stt_audio *a)
{
    char rel[256], err[256];
    snprintf(rel, sizeof rel, "librivox/%s.wav", test_librivox_ids[i]);
    stt_audio_params ap = stt_audio_default_params();
    return stt_audio_load_file(test_data(rel), &ap, a, err, sizeof err);
}

/* The five clips joined with 0.6 s of silence between them. */
static int load_all(stt_audio *out, int repeat)
{
    stt_audio clips[TEST_LIBRIVOX_N] = {0};
    size_t gap = STT_SAMPLE_RATE * 6 / 10, n = 0;
    for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
        if (load_clip(i, &clips[i]) < 0) return -1;
        n += clips[i].n_samples + gap;
    }
    memset(out, 0, sizeof *out);
    out->samples = calloc(n * (size_t)repeat, sizeof(int16_t));
    for (int r = 0; r < repeat; r++)
        for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
            memcpy(out->samples + out->n_samples, clips[i].samples,
                   clips[i].n_samples * sizeof(int16_t));
            out->n_samples += clips[i].n_samples + gap;
        }
    for (int i = 0; i < TEST_LIBRIVOX_N; i++)
        stt_audio_free(&clips[i]);
    return 0;
}

static char *transcribe_text(const stt_audio *a, int threads, int *rc_out, stt_job_stats *st)
{
    stt_transcript *t = NULL;
    char err[256] = "";
    int rc = stt_pool_transcribe(pool, a, stt_profile_index("balanced"), threads, &t, st, err,
                                 sizeof err);
    if (rc_out) *rc_out = rc;
    if (rc < 0) {
        fprintf(stderr, "  transcribe: %s (%s)\n", stt_strerror(rc), err);
        return NULL;
    }
    char *out = NULL;
    size_t len;
    stt_format_opts fo = stt_format_default_opts();
    fo.words = 1;
    stt_transcript_format(t, STT_FMT_VERBOSE_JSON, &fo, &out, &len);
    stt_transcript_free(t);
    return out;
}

static void test_real_speech_gives_the_spoken_words(void)
{
    stt_audio a = {0};
    REQUIRE(load_clip(1, &a) == 0); /* "he was not an ill disposed young man" */
    stt_transcript *t = NULL;
    stt_job_stats st;
    char err[256];
    int rc =
        stt_pool_transcribe(pool, &a, stt_profile_index("balanced"), 0, &t, &st, err, sizeof err);
    REQUIRE(rc == 0);
    char *text = stt_transcript_text(t);
    fprintf(stderr, "  text: %s\n", text);
    CHECK(strstr(text, "young man") != NULL);
    CHECK(strstr(text, "he was") != NULL);
    CHECK(st.pieces >= 1);
    CHECK(st.process_ms > 0);
    free(text);
    stt_transcript_free(t);
    stt_audio_free(&a);
}

static void test_threads_do_not_change_the_transcript(void)
{
    stt_audio a;
    REQUIRE(load_all(&a, 1) == 0);
    stt_job_stats s1, s2;
    char *one = transcribe_text(&a, 1, NULL, &s1);
    char *two = transcribe_text(&a, 2, NULL, &s2);
    REQUIRE(one && two);
    CHECK(s1.pieces >= 5);
    CHECK_STR_EQ(one, two);
    /* and a third time, after the workers decoded other pieces in between */
    char *again = transcribe_text(&a, 2, NULL, NULL);
    CHECK_STR_EQ(one, again);
    free(one);
    free(two);
    free(again);
    stt_audio_free(&a);
}

/* Every piece is decoded from its own place in the file: the joined clips give
 * their references' words (raw pocketsphinx_continuous: 36.6% WER on these). */
static void test_joined_clips_match_their_references(void)
{
    stt_audio a;
    REQUIRE(load_all(&a, 1) == 0);
    char ref[8192] = "", r[2048], err[256];
    for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
        REQUIRE(stt_corpus_clip_reference(STT_TESTDATA_DIR, test_librivox_ids[i], r, sizeof r, err,
                                          sizeof err) == 0);
        if (i) strcat(ref, " ");
        strcat(ref, r);
    }
    stt_transcript *t = NULL;
    REQUIRE(stt_pool_transcribe(pool, &a, stt_profile_index("balanced"), 2, &t, NULL, err,
                                sizeof err) == 0);
    char *hyp = stt_transcript_text(t);
    REQUIRE(hyp);
    stt_wer_counts c;
    REQUIRE(stt_wer_align_text(ref, hyp, 1, &c) == 0);
    double wer = stt_wer_rate(&c);
    fprintf(stderr, "  WER %.1f%% on %zu reference words\n", 100 * wer, c.ref_words);
    CHECK(c.ref_words > 40);
    CHECK(wer < 0.40);
    free(hyp);
    stt_transcript_free(t);
    stt_audio_free(&a);
}

static void test_timestamps_follow_the_file_timeline(void)
{
    stt_audio a;
    REQUIRE(load_all(&a, 1) == 0);
    stt_transcript *t = NULL;
    char err[256];
    REQUIRE(stt_pool_transcribe(pool, &a, 1, 2, &t, NULL, err, sizeof err) == 0);
    size_t n = stt_transcript_n_words(t);
    CHECK(n > 40);
    double prev = 0;
    for (size_t i = 0; i < n; i++) {
        const stt_word *w = stt_transcript_word(t, i);
        CHECK(w->start >= prev - 1e-9);
        CHECK(w->end >= w->start);
        prev = w->start;
    }
    CHECK(prev > 20.0); /* the last words are near the end of the 27.7 s file */
    CHECK(prev < stt_audio_duration(&a));
    stt_transcript_free(t);
    stt_audio_free(&a);
}

static void test_silence_gives_an_empty_transcript(void)
{
    stt_audio a = {0};
    a.n_samples = STT_SAMPLE_RATE * 3;
    a.samples = calloc(a.n_samples, sizeof(int16_t));
    stt_transcript *t = NULL;
    char err[256];
    REQUIRE(stt_pool_transcribe(pool, &a, 1, 0, &t, NULL, err, sizeof err) == 0);
    CHECK(stt_transcript_n_words(t) == 0);
    stt_transcript_free(t);
    stt_audio_free(&a);
}

typedef struct {
    stt_audio *a;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    char *s = transcribe_text(j->a, 1, &j->rc, NULL);
    free(s);
    return NULL;
}

static void test_killed_worker_fails_only_its_request(void)
{
    stt_audio a;
    REQUIRE(load_all(&a, 3) == 0);
    pid_t before[8];
    int nb = stt_pool_worker_pids(pool, before, 8);
    REQUIRE(nb == 2);
    job j = {&a, 1};
    pthread_t th;
    pthread_create(&th, NULL, run_job, &j);
    /* wait until a worker is busy, then kill every worker */
    stt_backend_status st;
    for (int i = 0; i < 200; i++) {
        stt_pool_status(pool, &st);
        if (st.busy > 0) break;
        usleep(10000);
    }
    CHECK(st.busy > 0);
    kill(before[0], SIGKILL);
    pthread_join(th, NULL);
    CHECK(j.rc == STT_EWORKER);
    /* the replacement appears and the next request succeeds */
    for (int i = 0; i < 300; i++) {
        stt_pool_status(pool, &st);
        if (st.workers == 2) break;
        usleep(10000);
    }
    CHECK(st.workers == 2);
    CHECK(st.restarts >= 1);
    pid_t after[8];
    int na = stt_pool_worker_pids(pool, after, 8);
    CHECK(na == 2);
    CHECK(after[0] != before[0] || after[1] != before[0]);
    stt_audio_free(&a);
    test_real_speech_gives_the_spoken_words();
}

/* Last: it breaks the pool. Without its model loader the pool can never
 * replace a worker; it says so (broken), stops admitting, and answers at once. */
static void test_loader_gone_marks_the_pool_broken(void)
{
    pid_t w[8];
    REQUIRE(stt_pool_worker_pids(pool, w, 8) >= 1);
    pid_t loader = 0;
    REQUIRE(stt_proc_parent(w[0], &loader) == 0);
    REQUIRE(loader > 1 && loader != getpid());
    stt_backend_status st;
    stt_pool_status(pool, &st);
    CHECK(!st.broken);
    kill(loader, SIGKILL);
    for (int i = 0; i < 300; i++) {
        stt_pool_status(pool, &st);
        if (st.broken) break;
        usleep(10000);
    }
    CHECK(st.broken);
    CHECK(!st.ready);
    CHECK(st.workers == 0); /* not counted (nor kept) once broken */
    CHECK(stt_pool_admit(pool, NULL, 0) == STT_ESHUTDOWN);
    stt_audio a;
    REQUIRE(load_clip(0, &a) == 0);
    int rc = 0;
    stt_job_stats js;
    char *text = transcribe_text(&a, 1, &rc, &js);
    CHECK(text == NULL && rc < 0);
    free(text);
    stt_audio_free(&a);
}

int main(void)
{
    stt_pool_params pp = stt_pool_default_params();
    pp.workers = 2;
    pp.profile_mask = 1u << stt_profile_index("balanced");
    char err[512];
    pool = stt_pool_create(&pp, err, sizeof err);
    if (!pool) {
        fprintf(stderr, "pool: %s\n", err);
        return 1;
    }
    TEST_RUN(test_real_speech_gives_the_spoken_words);
    TEST_RUN(test_threads_do_not_change_the_transcript);
    TEST_RUN(test_joined_clips_match_their_references);
    TEST_RUN(test_timestamps_follow_the_file_timeline);
    TEST_RUN(test_silence_gives_an_empty_transcript);
    TEST_RUN(test_killed_worker_fails_only_its_request);
    TEST_RUN(test_loader_gone_marks_the_pool_broken);
    stt_pool_free(pool);
    return test_summary();
}
