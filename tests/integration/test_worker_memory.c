/* Memory per worker on the real engine: sttd's decoders are forked from one
 * loaded model and share it copy-on-write, so each additional worker costs far
 * less than a separately loaded decoder (about 90-100 MB). Measured as PSS summed
 * over sttd and all its descendants (lib/sysinfo), 1 against 3 workers, after
 * every worker has decoded speech (decoding touches pages a fresh fork shares). */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "testlib.h"

#define LIMIT_BYTES 40e6 /* the target: 40 MB per additional worker */
#define PARALLEL 3

typedef struct job {
    const char *url;
    const char *clip; /* test_data() returns a static buffer: resolved before the threads */
    int ok;
} job;

static void *post_clip(void *arg)
{
    job *j = arg;
    /* threads=1: each request holds exactly one worker, so PARALLEL requests
     * reach PARALLEL different workers when that many exist. */
    const char *fields[] = {"model", "balanced", "threads", "1", NULL};
    test_response r;
    j->ok = test_post_file(j->url, j->clip, NULL, 0, fields, NULL, &r) == 0 && r.status == 200;
    test_response_free(&r);
    return NULL;
}

/* Starts sttd with `workers`, makes every worker decode, and returns the PSS of
 * the whole tree in bytes (-1 on failure). */
static double pss_after_decoding(int workers)
{
    char w[16];
    snprintf(w, sizeof w, "%d", workers);
    const char *args[] = {"--workers", w, "--queue", "8", "--profiles", "balanced", NULL};
    test_server s;
    if (test_server_start(&s, args) != 0) return -1;
    char url[128];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", s.url);
    int ok = 1;
    char clip[4096];
    snprintf(clip, sizeof clip, "%s",
             test_data("librivox/sense_and_sensibility_01_austen_64kb-0870.wav"));
    for (int round = 0; round < 2; round++) {
        pthread_t th[PARALLEL];
        job j[PARALLEL];
        for (int i = 0; i < PARALLEL; i++) {
            j[i] = (job){url, clip, 0};
            pthread_create(&th[i], NULL, post_clip, &j[i]);
        }
        for (int i = 0; i < PARALLEL; i++) {
            pthread_join(th[i], NULL);
            ok &= j[i].ok;
        }
    }
    CHECK(ok);
    pid_t leaves[64];
    int n = stt_proc_leaves(s.pid, leaves, 64), decoded = 0;
    for (int i = 0; i < n; i++) {
        double cpu = 0; /* one 7.1 s clip costs well over 0.3 s */
        if (stt_proc_cpu_s(leaves[i], &cpu) == 0 && cpu > 0.3) decoded++;
    }
    fprintf(stderr, "  %d workers: %d worker processes, %d decoded\n", workers, n, decoded);
    CHECK(n == workers);
    CHECK(decoded == workers);
    usleep(300 * 1000);
    stt_memusage m;
    char err[256];
    double pss = stt_proc_mem_tree(s.pid, &m, err, sizeof err) == 0 ? (double)m.pss : -1;
    CHECK(test_server_stop(&s, SIGTERM) == 0);
    return ok ? pss : -1;
}

static void test_each_additional_worker_costs_under_40_mb(void)
{
    double p1 = pss_after_decoding(1);
    double p3 = pss_after_decoding(PARALLEL);
    REQUIRE(p1 > 0 && p3 > 0);
    double per = (p3 - p1) / (PARALLEL - 1);
    fprintf(stderr, "  PSS 1 worker %.1f MB, %d workers %.1f MB: %.1f MB per additional worker\n",
            p1 / 1e6, PARALLEL, p3 / 1e6, per / 1e6);
    /* A second worker must cost something (a private heap and decoder state),
     * and far less than a separately loaded model. */
    CHECK(per > 1e6);
    CHECK(per < LIMIT_BYTES);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TEST_RUN(test_each_additional_worker_costs_under_40_mb);
    curl_global_cleanup();
    return test_summary();
}
