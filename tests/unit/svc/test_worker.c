/* worker: a real worker process (forked here) with a test-double engine. A
 * piece comes back as a transcript, also when it is too large for one socket
 * message; an upload comes back as a sealed memfd of 16 kHz samples or as the
 * decoder's error; a job over its CPU budget is answered STT_EDEADLINE and
 * the worker leaves; malformed jobs and results are refused. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "ipc.h"
#include "testlib.h"
#include "worker.h"

#define WAV "librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
#define SPIN 12345 /* a piece of this many samples never ends */
#define HUGE 7777  /* a piece of this many samples gives a huge transcript */

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
    if (n == SPIN)
        for (volatile unsigned long i = 0;; i++) {
        }
    if (n == HUGE) {
        stt_transcript_begin_segment(out, 0, 1);
        for (int i = 0; i < 60000; i++)
            stt_transcript_add_word(out, "supercalifragilistic", i * 1e-4, i * 1e-4, 1);
        return 0;
    }
    long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    stt_transcript_begin_segment(out, 0, (double)n / 16000);
    stt_transcript_add_word(out, sum == 0 ? "silence" : "sound", 0, (double)n / 16000, 1);
    return 0;
}

static void fake_unload(void *h)
{
    (void)h;
}

static const stt_engine_ops fake_ops = {"fake", fake_load, fake_decode, fake_unload};

typedef struct child {
    pid_t pid;
    int sock;
    char *buf;
} child;

static int spawn(child *c)
{
    int sv[2];
    if (stt_ipc_pair(sv) < 0) return -1;
    char err[64];
    stt_engine *e = stt_engine_load(&fake_ops, "", "balanced", err, sizeof err);
    stt_engine *engines[STT_N_PROFILES] = {NULL, e, NULL};
    c->pid = fork();
    if (c->pid == 0) {
        close(sv[0]);
        stt_worker_main(sv[1], engines);
    }
    close(sv[1]);
    stt_engine_free(e);
    c->sock = sv[0];
    c->buf = malloc(STT_WORKER_MSG_MAX);
    return c->pid > 0 && c->buf ? 0 : -1;
}

static int finish(child *c)
{
    close(c->sock);
    free(c->buf);
    int st = 0;
    waitpid(c->pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int pcm_memfd(size_t n, int16_t value)
{
    int fd = memfd_create("t", MFD_CLOEXEC);
    int16_t *s = calloc(n ? n : 1, sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = value;
    if (write(fd, s, n * sizeof *s) != (ssize_t)(n * sizeof *s)) fd = -1;
    free(s);
    return fd;
}

static void test_piece(void)
{
    child c;
    REQUIRE(spawn(&c) == 0);
    int fd = pcm_memfd(32000, 0);
    stt_worker_job j = {STT_JOB_PIECE, 41, fd, 16000, 8000, 1, 0, 5};
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    stt_worker_result r;
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.job_id == 41 && r.kind == STT_JOB_PIECE && r.status == 0);
    CHECK(r.transcript && stt_transcript_n_words(r.transcript) == 1);
    CHECK(r.transcript && !strcmp(stt_transcript_word(r.transcript, 0)->text, "silence"));
    CHECK(r.cpu_s >= 0 && r.cpu_s < 5);
    stt_transcript_free(r.transcript);
    /* A piece beyond the audio, or for a profile not loaded, is malformed. */
    j.id = 42;
    j.offset = 30000;
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.job_id == 42 && r.status == STT_EINVAL && strstr(r.err, "malformed"));
    j.id = 43;
    j.offset = 0;
    j.profile = 2;
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.job_id == 43 && r.status == STT_EINVAL);
    close(fd);
    CHECK(finish(&c) == 0);
}

/* 60000 words serialize to more than one SEQPACKET message may hold. */
static void test_large_result_travels_in_a_memfd(void)
{
    child c;
    REQUIRE(spawn(&c) == 0);
    int fd = pcm_memfd(HUGE, 1);
    stt_worker_job j = {STT_JOB_PIECE, 7, fd, 0, HUGE, 1, 0, 30};
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    stt_worker_result r;
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.status == 0 && r.transcript && stt_transcript_n_words(r.transcript) == 60000);
    stt_transcript_free(r.transcript);
    close(fd);
    CHECK(finish(&c) == 0);
}

static void test_cpu_budget(void)
{
    child c;
    REQUIRE(spawn(&c) == 0);
    int fd = pcm_memfd(SPIN, 1);
    stt_worker_job j = {STT_JOB_PIECE, 9, fd, 0, SPIN, 1, 0, 0.2};
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    stt_worker_result r;
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.job_id == 9 && r.status == STT_EDEADLINE);
    /* and it left */
    CHECK(stt_worker_recv_result(c.sock, c.buf, &r) == STT_EWORKER);
    close(fd);
    CHECK(finish(&c) == 0);
}

static int upload_memfd(const void *data, size_t len)
{
    int fd = memfd_create("u", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (write(fd, data, len) != (ssize_t)len) return -1;
    return fd;
}

static void test_media(void)
{
    child c;
    REQUIRE(spawn(&c) == 0);
    size_t len;
    char *wav = test_read_file(test_data(WAV), &len);
    REQUIRE(wav);
    int fd = upload_memfd(wav, len);
    stt_worker_job j = {STT_JOB_MEDIA, 11, fd, 0, len, 0, 600, 10};
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    stt_worker_result r;
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.job_id == 11 && r.kind == STT_JOB_MEDIA && r.status == 0);
    CHECK(r.n_samples == (len - 44) / 2 && r.src_rate == 16000 && r.src_channels == 1);
    CHECK(!strcmp(r.src_format, "wav"));
    REQUIRE(r.pcm_fd >= 0);
    int seals = fcntl(r.pcm_fd, F_GET_SEALS);
    CHECK((seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) ==
          (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW));
    int16_t *pcm = mmap(NULL, r.n_samples * 2, PROT_READ, MAP_SHARED, r.pcm_fd, 0);
    REQUIRE(pcm != MAP_FAILED);
    CHECK(!memcmp(pcm, wav + 44, r.n_samples * 2));
    munmap(pcm, r.n_samples * 2);
    /* The decoded audio goes straight on to a piece job. */
    stt_worker_job p = {STT_JOB_PIECE, 12, r.pcm_fd, 0, r.n_samples, 1, 0, 5};
    REQUIRE(stt_worker_send_job(c.sock, &p) == 0);
    stt_worker_result pr;
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &pr) == 0);
    CHECK(pr.status == 0 && pr.transcript &&
          !strcmp(stt_transcript_word(pr.transcript, 0)->text, "sound"));
    stt_transcript_free(pr.transcript);
    close(r.pcm_fd);
    close(fd);
    /* Not audio: the decoder's own answer, nothing attached. */
    static const char text[] = "this is not audio";
    fd = upload_memfd(text, sizeof text);
    j.id = 13;
    j.n = sizeof text;
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.status == STT_EAUDIO && r.pcm_fd < 0 && strstr(r.err, "not an audio file"));
    /* Over the duration limit. */
    close(fd);
    fd = upload_memfd(wav, len);
    j.id = 14;
    j.n = len;
    j.max_duration_s = 1;
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.status == STT_ETOOLONG);
    /* Longer than the memfd holds. */
    j.id = 15;
    j.n = len + 100;
    REQUIRE(stt_worker_send_job(c.sock, &j) == 0);
    REQUIRE(stt_worker_recv_result(c.sock, c.buf, &r) == 0);
    CHECK(r.status == STT_EINVAL);
    close(fd);
    free(wav);
    CHECK(finish(&c) == 0);
}

/* What the pool receives is checked: garbage, or a media answer whose memfd
 * is not sealed, means the worker is not to be trusted. */
static void test_bad_results(void)
{
    int sv[2];
    REQUIRE(stt_ipc_pair(sv) == 0);
    char *buf = malloc(STT_WORKER_MSG_MAX);
    stt_worker_result r;
    CHECK(stt_ipc_send(sv[1], "xy", 2, -1) == 0);
    CHECK(stt_worker_recv_result(sv[0], buf, &r) == STT_EWORKER);
    /* A media result (kind 2) claiming samples, with an unsealed memfd. */
    struct {
        uint64_t job_id, n_samples;
        double cpu_s;
        int32_t status, kind, rate, channels, in_fd;
        char fmt[16];
    } h = {1, 100, 0, 0, STT_JOB_MEDIA, 16000, 1, 0, "wav"};
    int fd = pcm_memfd(100, 0);
    CHECK(stt_ipc_send(sv[1], &h, sizeof h, fd) == 0);
    CHECK(stt_worker_recv_result(sv[0], buf, &r) == STT_EWORKER && r.pcm_fd < 0);
    close(fd);
    close(sv[1]);
    CHECK(stt_worker_recv_result(sv[0], buf, &r) == STT_EWORKER);
    close(sv[0]);
    free(buf);
    CHECK(stt_ipc_max_send(-1) > 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_piece);
    TEST_RUN(test_large_result_travels_in_a_memfd);
    TEST_RUN(test_cpu_budget);
    TEST_RUN(test_media);
    TEST_RUN(test_bad_results);
    return test_summary();
}
