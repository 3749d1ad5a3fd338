/* Fairness of sttd's pool on the real engine: while two workers are busy with
 * a long request, a 3 s clip waits for at most one piece, not for the whole long
 * request, so its latency stays within 3x of its latency on an idle server. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio.h"
#include "testlib.h"

#define LONG_REPEATS 6 /* the five clips 6 times with pauses: 166 s of speech */
#define PROBES 3

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The five LibriVox clips, each followed by 0.6 s of silence, `repeats` times,
 * written as a WAV file into dir. Returns the path (static) or NULL. */
static const char *write_long_file(const char *dir, int repeats)
{
    static char path[4200];
    stt_audio clips[TEST_LIBRIVOX_N] = {0};
    size_t gap = STT_SAMPLE_RATE * 6 / 10, n = 0;
    for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
        char rel[256], err[256];
        snprintf(rel, sizeof rel, "librivox/%s.wav", test_librivox_ids[i]);
        stt_audio_params ap = stt_audio_default_params();
        if (stt_audio_load_file(test_data(rel), &ap, &clips[i], err, sizeof err) < 0) return NULL;
        n += clips[i].n_samples + gap;
    }
    int16_t *pcm = calloc(n * (size_t)repeats, sizeof *pcm);
    size_t at = 0;
    for (int r = 0; pcm && r < repeats; r++)
        for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
            memcpy(pcm + at, clips[i].samples, clips[i].n_samples * sizeof *pcm);
            at += clips[i].n_samples + gap;
        }
    for (int i = 0; i < TEST_LIBRIVOX_N; i++)
        stt_audio_free(&clips[i]);
    if (!pcm) return NULL;
    snprintf(path, sizeof path, "%s/long.wav", dir);
    SF_INFO info = {
        .samplerate = STT_SAMPLE_RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    sf_count_t w = f ? sf_write_short(f, pcm, (sf_count_t)at) : -1;
    if (f) sf_close(f);
    free(pcm);
    return w == (sf_count_t)at ? path : NULL;
}

static const char *const fields[] = {"model", "balanced", "response_format", "json", NULL};

/* One timed request; returns its latency in seconds, or -1 unless it got 200.
 * *queue_s (may be NULL) gets the server's X-Queue-Time-Ms in seconds. */
static double timed_post(const char *url, const char *path, double *queue_s)
{
    test_response r;
    double t0 = now_s();
    int rc = test_post_file(url, path, NULL, 0, fields, NULL, &r);
    double dt = now_s() - t0;
    int ok = rc == 0 && r.status == 200 && strstr(r.body, "\"text\"");
    if (!ok) fprintf(stderr, "  HTTP %ld: %.200s\n", r.status, r.body ? r.body : "");
    const char *q = ok ? test_header(&r, "X-Queue-Time-Ms") : NULL;
    if (queue_s) *queue_s = q ? atof(q) / 1000 : -1;
    test_response_free(&r);
    return ok ? dt : -1;
}

typedef struct long_job {
    const char *url, *path;
    double latency;
    volatile int done;
} long_job;

static void *run_long(void *arg)
{
    long_job *j = arg;
    j->latency = timed_post(j->url, j->path, NULL);
    __atomic_store_n(&j->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_short_request_is_not_starved_by_a_long_one(void)
{
    const char *dir = test_tmpdir();
    REQUIRE(dir != NULL);
    const char *longpath = write_long_file(dir, LONG_REPEATS);
    REQUIRE(longpath != NULL);
    char shortpath[4096];
    snprintf(shortpath, sizeof shortpath, "%s",
             test_data("librivox/sense_and_sensibility_01_austen_64kb-0880.wav"));

    test_server s;
    const char *args[] = {"--workers", "2", "--profiles", "balanced", NULL};
    REQUIRE(test_server_start(&s, args) == 0);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", s.url);

    /* Idle latency, after one unmeasured request that warms both workers. */
    double idle[PROBES];
    CHECK(timed_post(url, shortpath, NULL) > 0);
    for (int i = 0; i < PROBES; i++) {
        idle[i] = timed_post(url, shortpath, NULL);
        CHECK(idle[i] > 0);
    }
    double idle_med = median(idle, PROBES);

    /* Probes sent while the long request keeps both workers busy; a probe that
     * ends after the long request did not meet contention for its whole life
     * and is not counted. */
    long_job j = {url, longpath, -1, 0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, run_long, &j) == 0);
    usleep(2000 * 1000);
    double busy[PROBES], queued[PROBES];
    int nb = 0;
    while (nb < PROBES && !__atomic_load_n(&j.done, __ATOMIC_SEQ_CST)) {
        double q, lat = timed_post(url, shortpath, &q);
        CHECK(lat > 0);
        if (lat > 0 && !__atomic_load_n(&j.done, __ATOMIC_SEQ_CST)) {
            queued[nb] = q;
            busy[nb++] = lat;
        }
        usleep(300 * 1000);
    }
    pthread_join(th, NULL);
    CHECK(j.latency > 0);
    fprintf(stderr, "  idle %.2f s; long request %.1f s; %d probes behind it:", idle_med, j.latency,
            nb);
    for (int i = 0; i < nb; i++)
        fprintf(stderr, " %.2f (queued %.2f)", busy[i], queued[i]);
    fprintf(stderr, " s\n");
    REQUIRE(nb >= 1);
    /* Not starved: a probe waits for one piece of the long request to end, never
     * for the request (first come, first served would queue it for all of it). */
    for (int i = 0; i < nb; i++) {
        CHECK(queued[i] >= 0);
        CHECK(queued[i] < j.latency / 4);
        CHECK(busy[i] < 6 * idle_med);
    }
    /* The service target is 3x (sttbench service measures it). Here the bound has
     * a third more room: on a shared 2-core machine other work slows the probe's
     * decode further while the long request holds the second core. Under
     * AddressSanitizer the long request's pieces decode about twice as slowly
     * as in a plain build while a short probe barely slows, so the wait for
     * one piece is no longer comparable to the idle latency: there only the
     * structural checks above hold (one piece, never the whole request). */
    double busy_med = median(busy, nb);
#if defined(__SANITIZE_ADDRESS__)
    fprintf(stderr, "  latency ratio %.1f not checked under AddressSanitizer\n",
            busy_med / idle_med);
#else
    CHECK(busy_med < 4 * idle_med);
#endif
    /* The probes really overlapped the long request: it outlasted them. */
    CHECK(j.latency > busy_med);
    CHECK(test_server_stop(&s, SIGTERM) == 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TEST_RUN(test_short_request_is_not_starved_by_a_long_one);
    curl_global_cleanup();
    return test_summary();
}
