/* pool: its scheduling and life cycle with a test-double engine (fast, no
 * model): uploads that decode to silence finish even when they queue behind
 * each other on one worker; admission refuses beyond capacity; a piece over
 * its CPU budget fails its request with STT_EDEADLINE and the worker is
 * replaced; a client that leaves cancels; drain refuses what waits and lets
 * what runs finish; cancel fails the rest; a profile not loaded is refused. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "pool.h"
#include "testlib.h"

/* The engine: a piece holding the sample value SPIN burns CPU for ever;
 * others take SLEEP_US per second of audio (sleeping: no CPU). */
#define SPIN 12345
#define SLEEP_US 100000

static void *fake_load(const char *model_dir, const char *profile, char *err, size_t errlen)
{
    (void)model_dir, (void)profile, (void)err, (void)errlen;
    static int h;
    return &h;
}

static int fake_decode(void *h, const int16_t *samples, size_t n, stt_transcript *out, char *err,
                       size_t errlen)
{
    (void)h, (void)err, (void)errlen;
    for (size_t k = 0; k < n; k++)
        if (samples[k] == SPIN)
            for (volatile unsigned long i = 0;; i++) {
            }
    usleep((useconds_t)((double)n / 16000 * SLEEP_US));
    stt_transcript_begin_segment(out, 0, (double)n / 16000);
    stt_transcript_add_word(out, "word", 0, (double)n / 16000, 1);
    return 0;
}

static void fake_unload(void *h)
{
    (void)h;
}

static const stt_engine_ops fake_ops = {"fake", fake_load, fake_decode, fake_unload};

static stt_pool *make(int workers, int queue, double max_rtf)
{
    stt_pool_params pp = stt_pool_default_params();
    pp.engine = &fake_ops;
    pp.workers = workers;
    pp.queue = queue;
    pp.max_rtf = max_rtf;
    pp.min_deadline_s = 0.2;
    pp.profile_mask = 1u << 1; /* balanced */
    char err[256];
    stt_pool *p = stt_pool_create(&pp, err, sizeof err);
    if (!p) fprintf(stderr, "  pool: %s\n", err);
    return p;
}

/* A WAV in a memfd: seconds of silence, or of a tone when loud. */
static stt_media wav_media(double seconds, int loud)
{
    size_t n = (size_t)(seconds * 16000), bytes = 44 + 2 * n;
    uint8_t *b = calloc(1, bytes);
    memcpy(b, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0\x10\0data",
           40);
    uint32_t d = (uint32_t)(2 * n), r = (uint32_t)(bytes - 8);
    memcpy(b + 4, &r, 4);
    memcpy(b + 40, &d, 4);
    for (size_t i = 0; loud && i < n; i++) {
        int16_t v = (int16_t)((i / 20) % 2 ? 8000 : -8000);
        memcpy(b + 44 + 2 * i, &v, 2);
    }
    int fd = memfd_create("t", MFD_CLOEXEC);
    if (write(fd, b, bytes) != (ssize_t)bytes) fd = -1;
    free(b);
    return (stt_media){fd, bytes};
}

typedef struct job {
    stt_pool *p;
    stt_media m;
    stt_job_opts o;
    int rc;
    char err[256];
    double took;
    atomic_int gone; /* the cancel callback's answer */
} job;

static int is_gone(void *ctx)
{
    return ((job *)ctx)->gone;
}

static void *run(void *arg)
{
    job *j = arg;
    stt_transcript *t = NULL;
    stt_job_stats st;
    double t0 = test_now();
    if ((j->rc = stt_pool_admit(j->p, j->err, sizeof j->err)) == 0) {
        j->rc = stt_pool_run_media(j->p, &j->m, &j->o, &t, &st, j->err, sizeof j->err);
        stt_pool_release(j->p);
    }
    j->took = test_now() - t0;
    stt_transcript_free(t);
    return NULL;
}

static void job_init(job *j, stt_pool *p, double seconds, int loud)
{
    memset(j, 0, sizeof *j);
    j->p = p;
    j->m = wav_media(seconds, loud);
    j->o = (stt_job_opts){1, 1, 600, is_gone, j};
}

/* Both decode to silence (no pieces): the second, queued behind the first
 * on the only worker, must still be served. */
static void test_silent_uploads_queue_and_finish(void)
{
    stt_pool *p = make(1, 4, 1.0);
    REQUIRE(p);
    job j[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        job_init(&j[i], p, 5, 0);
        pthread_create(&th[i], NULL, run, &j[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(j[i].rc == 0);
        CHECK(j[i].took < 10);
        close(j[i].m.fd);
    }
    stt_pool_free(p);
}

static void test_admission(void)
{
    stt_pool *p = make(1, -1, 1.0); /* capacity 1 */
    REQUIRE(p);
    char err[128];
    CHECK(stt_pool_admit(p, err, sizeof err) == 0);
    CHECK(stt_pool_admit(p, err, sizeof err) == STT_EBUSY && strstr(err, "busy"));
    stt_backend_status st;
    stt_pool_status(p, &st);
    CHECK(st.in_flight == 1 && st.capacity == 1 && st.ready && st.profile_mask == 2);
    stt_pool_release(p);
    CHECK(stt_pool_admit(p, err, sizeof err) == 0);
    stt_pool_release(p);
    job j;
    job_init(&j, p, 1, 1);
    j.o.profile = 2; /* accurate: not loaded */
    run(&j);
    CHECK(j.rc == STT_EMODEL && strstr(j.err, "not loaded"));
    close(j.m.fd);
    stt_pool_free(p);
}

/* A piece that never ends uses its CPU budget: the request fails with
 * STT_EDEADLINE and the worker is replaced. */
static void test_cpu_deadline(void)
{
    stt_pool *p = make(1, 2, 0.5);
    REQUIRE(p);
    stt_audio a = {0};
    a.n_samples = 16000;
    a.samples = calloc(a.n_samples, sizeof(int16_t));
    for (size_t i = 0; i < a.n_samples; i++)
        a.samples[i] = (int16_t)((i / 20) % 2 ? SPIN : -SPIN);
    stt_transcript *t = NULL;
    char err[256];
    double t0 = test_now();
    int rc = stt_pool_transcribe(p, &a, 1, 0, &t, NULL, err, sizeof err);
    fprintf(stderr, "  %s after %.2f s: %s\n", stt_errname(rc), test_now() - t0, err);
    CHECK(rc == STT_EDEADLINE && strstr(err, "CPU budget"));
    stt_backend_status st;
    for (int i = 0; i < 300; i++) {
        stt_pool_status(p, &st);
        if (st.workers == 1 && st.restarts == 1) break;
        usleep(10000);
    }
    CHECK(st.workers == 1 && st.restarts == 1);
    free(a.samples);
    /* and the next request is served */
    job j;
    job_init(&j, p, 1, 1);
    run(&j);
    CHECK(j.rc == 0);
    close(j.m.fd);
    stt_pool_free(p);
}

static void test_client_gone_cancels(void)
{
    stt_pool *p = make(1, 2, 0);
    REQUIRE(p);
    job j;
    job_init(&j, p, 60, 1); /* about 6 s of fake decoding */
    pthread_t th;
    pthread_create(&th, NULL, run, &j);
    usleep(500000);
    j.gone = 1;
    pthread_join(th, NULL);
    CHECK(j.rc == STT_ECANCELED);
    CHECK(j.took < 2.5);
    close(j.m.fd);
    stt_pool_free(p);
}

/* Drain: what waits for a worker is refused at once; what runs finishes.
 * Cancel: what is left fails. */
static void test_drain_and_cancel(void)
{
    stt_pool *p = make(1, 4, 0);
    REQUIRE(p);
    job a, b;
    job_init(&a, p, 20, 1);
    job_init(&b, p, 20, 1);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, run, &a);
    stt_backend_status st;
    for (int i = 0; i < 300; i++) {
        stt_pool_status(p, &st);
        if (st.busy) break;
        usleep(10000);
    }
    usleep(300000);
    pthread_create(&tb, NULL, run, &b);
    usleep(300000);
    stt_pool_drain(p);
    pthread_join(tb, NULL);
    CHECK(b.rc == STT_ESHUTDOWN && b.took < 1.5);
    stt_pool_status(p, &st);
    CHECK(st.draining && !st.ready);
    char err[64];
    CHECK(stt_pool_admit(p, err, sizeof err) == STT_ESHUTDOWN);
    pthread_join(ta, NULL);
    CHECK(a.rc == 0);
    /* Admitted before the drain, handed over after it, with the worker free:
     * it starts (what can start at once is not refused). */
    job c;
    job_init(&c, p, 2, 1);
    stt_transcript *t = NULL;
    c.rc = stt_pool_run_media(p, &c.m, &c.o, &t, NULL, c.err, sizeof c.err);
    CHECK(c.rc == 0);
    stt_transcript_free(t);
    stt_pool_cancel(p);
    close(a.m.fd);
    close(b.m.fd);
    close(c.m.fd);
    stt_pool_free(p);
}

int main(void)
{
    TEST_RUN(test_silent_uploads_queue_and_finish);
    TEST_RUN(test_admission);
    TEST_RUN(test_cpu_deadline);
    TEST_RUN(test_client_gone_cancels);
    TEST_RUN(test_drain_and_cancel);
    return test_summary();
}
