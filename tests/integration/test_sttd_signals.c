/* sttd's stop signals keep their promise (docs/SERVICE.md): on SIGTERM the
 * listener closes at once, what waits for a decoder gets 503 + Retry-After,
 * what runs (including an upload still arriving) finishes within --grace-s,
 * the rest is cancelled when it ends, and sttd exits 0 within grace + 2 s; a
 * second SIGTERM is ignored, SIGQUIT or a third stops at once; a SIGTERM to
 * the whole process group reaches sttd only (the decoders keep working); a
 * pool that cannot start a worker for --broken-after-s fails /health. The
 * real binary, the real engine, real speech. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "testlib.h"

static const char *tmp;
static char speech[512]; /* the five clips twice: about 57 s */

typedef struct call {
    const char *url, *path, *model;
    long max_send_bps; /* 0: as fast as possible */
    long status;
    char retry_after[32];
    char *body;
    double t_done;
} call;

static size_t on_data(char *p, size_t sz, size_t n, void *cls)
{
    call *c = cls;
    size_t len = c->body ? strlen(c->body) : 0;
    char *nb = realloc(c->body, len + sz * n + 1);
    if (!nb) return 0;
    memcpy(nb + len, p, sz * n);
    nb[len + sz * n] = '\0';
    c->body = nb;
    return sz * n;
}

static size_t on_hdr(char *p, size_t sz, size_t n, void *cls)
{
    call *c = cls;
    if (n * sz > 13 && !strncasecmp(p, "Retry-After:", 12))
        snprintf(c->retry_after, sizeof c->retry_after, "%.*s", (int)strcspn(p + 12, "\r\n"),
                 p + 12);
    return sz * n;
}

static void *post(void *arg)
{
    call *c = arg;
    CURL *h = curl_easy_init();
    curl_mime *m = curl_mime_init(h);
    curl_mimepart *part = curl_mime_addpart(m);
    curl_mime_name(part, "file");
    curl_mime_filedata(part, c->path);
    part = curl_mime_addpart(m);
    curl_mime_name(part, "model");
    curl_mime_data(part, c->model, CURL_ZERO_TERMINATED);
    part = curl_mime_addpart(m);
    curl_mime_name(part, "threads");
    curl_mime_data(part, "1", CURL_ZERO_TERMINATED);
    char url[160];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", c->url);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, m);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_hdr);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    if (c->max_send_bps)
        curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)c->max_send_bps);
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    c->t_done = test_now();
    curl_mime_free(m);
    curl_easy_cleanup(h);
    return NULL;
}

/* Waits until the server reports at least n busy workers. */
static int wait_busy(const test_server *s, int n)
{
    for (int i = 0; i < 3000; i++) {
        if (test_metric(s->url, "sttd_workers_busy") >= n) return 1;
        usleep(10000);
    }
    return 0;
}

static int log_has(const test_server *s, const char *needle)
{
    char *log = test_server_log(s);
    int yes = log && strstr(log, needle);
    free(log);
    return yes;
}

/* The bug this replaces: an upload still arriving at SIGTERM was reset. */
static void test_upload_in_progress_at_sigterm_is_served(void)
{
    test_server s;
    const char *args[] = {"--workers", "1", "--profiles", "fast", NULL};
    REQUIRE(test_server_start(&s, args) == 0);
    call c = {s.url, speech, "fast", 400000, 0, "", NULL, 0}; /* about 5 s of upload */
    pthread_t th;
    pthread_create(&th, NULL, post, &c);
    for (int i = 0; i < 500 && test_metric(s.url, "sttd_requests_in_flight") < 1; i++)
        usleep(10000);
    usleep(1000000);
    double t0 = test_now();
    kill(s.pid, SIGTERM);
    pthread_join(th, NULL);
    double took;
    int rc = test_server_wait(&s, 60, &took);
    fprintf(stderr, "  upload answered %.1f s after SIGTERM with %ld\n", c.t_done - t0, c.status);
    CHECK(c.status == 200);
    CHECK(c.body && strstr(c.body, "dashwood") != NULL);
    CHECK(rc == 0);
    free(c.body);
}

static void test_queued_get_503_and_running_finish(void)
{
    test_server s;
    const char *args[] = {"--workers", "1", "--queue", "2", "--profiles", "fast", NULL};
    REQUIRE(test_server_start(&s, args) == 0);
    call a = {s.url, speech, "fast", 0, 0, "", NULL, 0};
    call b = a;
    pthread_t ta, tb;
    pthread_create(&ta, NULL, post, &a);
    REQUIRE(wait_busy(&s, 1));
    pthread_create(&tb, NULL, post, &b);
    for (int i = 0; i < 500 && test_metric(s.url, "sttd_queue_depth") < 2; i++)
        usleep(10000);
    CHECK(test_metric(s.url, "sttd_queue_depth") == 2);
    double t0 = test_now();
    kill(s.pid, SIGTERM);
    pthread_join(tb, NULL);
    fprintf(stderr, "  queued request: %ld after %.2f s, Retry-After '%s'\n", b.status,
            b.t_done - t0, b.retry_after);
    CHECK(b.status == 503);
    CHECK(atoi(b.retry_after) >= 1);
    CHECK(b.t_done - t0 < 2);
    CHECK(b.body && strstr(b.body, "shutting_down"));
    pthread_join(ta, NULL);
    CHECK(a.status == 200);
    CHECK(test_server_wait(&s, 60, NULL) == 0);
    free(a.body);
    free(b.body);
}

static void test_second_sigterm_is_ignored(void)
{
    test_server s;
    const char *args[] = {"--workers", "1", "--profiles", "fast", NULL};
    REQUIRE(test_server_start(&s, args) == 0);
    call c = {s.url, speech, "fast", 0, 0, "", NULL, 0};
    pthread_t th;
    pthread_create(&th, NULL, post, &c);
    REQUIRE(wait_busy(&s, 1));
    kill(s.pid, SIGTERM);
    usleep(300000);
    kill(s.pid, SIGTERM);
    pthread_join(th, NULL);
    CHECK(c.status == 200);
    CHECK(test_server_wait(&s, 60, NULL) == 0);
    CHECK(log_has(&s, "ignored"));
    free(c.body);
}

/* The grace period is a bound: when it ends, what still runs is cancelled
 * (503 + Retry-After) and sttd exits 0 within 2 s more. */
static void test_grace_expiry_bounds_the_exit(void)
{
    test_server s;
    const char *args[] = {"--workers", "1", "--profiles", "accurate", "--grace-s", "2", NULL};
    REQUIRE(test_server_start(&s, args) == 0);
    call c = {s.url, speech, "accurate", 0, 0, "", NULL, 0};
    pthread_t th;
    pthread_create(&th, NULL, post, &c);
    REQUIRE(wait_busy(&s, 1));
    double t0 = test_now();
    kill(s.pid, SIGTERM);
    double took;
    int rc = test_server_wait(&s, 30, &took);
    pthread_join(th, NULL);
    fprintf(stderr, "  exit %d %.2f s after SIGTERM (grace 2 s); client %ld after %.2f s\n", rc,
            took, c.status, c.t_done - t0);
    CHECK(rc == 0);
    CHECK(took >= 1.9 && took <= 4.0);
    CHECK(c.status == 503);
    CHECK(atoi(c.retry_after) >= 1);
    CHECK(c.body && strstr(c.body, "grace period"));
    free(c.body);
}

static void stops_at_once(const int *sigs, int n)
{
    test_server s;
    const char *args[] = {"--workers", "1", "--profiles", "accurate", "--grace-s", "60", NULL};
    REQUIRE(test_server_start(&s, args) == 0);
    call c = {s.url, speech, "accurate", 0, 0, "", NULL, 0};
    pthread_t th;
    pthread_create(&th, NULL, post, &c);
    REQUIRE(wait_busy(&s, 1));
    for (int i = 0; i < n; i++) {
        kill(s.pid, sigs[i]);
        usleep(100000);
    }
    double took;
    int rc = test_server_wait(&s, 30, &took);
    pthread_join(th, NULL);
    fprintf(stderr, "  exit %d %.2f s after the last signal; client %ld\n", rc, took, c.status);
    CHECK(rc == 0);
    CHECK(took < 2.0);
    CHECK(c.status == 503 || c.status == 0);
    free(c.body);
}

static void test_third_signal_stops_at_once(void)
{
    const int sigs[] = {SIGTERM, SIGINT, SIGTERM};
    stops_at_once(sigs, 3);
}

static void test_sigquit_stops_at_once(void)
{
    const int sigs[] = {SIGQUIT};
    stops_at_once(sigs, 1);
}

/* Ctrl-C, `timeout` and `tini -g` signal the whole group: the decoders are
 * not in it, and ignore the stop signals anyway, so the drain finishes. */
static void test_group_sigterm_reaches_sttd_only(void)
{
    test_server s;
    const char *args[] = {"--workers", "1", "--profiles", "fast", NULL};
    REQUIRE(test_server_start_opts(&s, args, 1) == 0);
    pid_t kids[8];
    int n = stt_proc_leaves(s.pid, kids, 8);
    CHECK(n == 1);
    for (int i = 0; i < n; i++)
        CHECK(getpgid(kids[i]) != s.pid);
    call c = {s.url, speech, "fast", 0, 0, "", NULL, 0};
    pthread_t th;
    pthread_create(&th, NULL, post, &c);
    REQUIRE(wait_busy(&s, 1));
    CHECK(kill(-s.pid, SIGTERM) == 0);
    pthread_join(th, NULL);
    CHECK(c.status == 200);
    CHECK(c.body && strstr(c.body, "dashwood") != NULL);
    CHECK(test_server_wait(&s, 60, NULL) == 0);
    free(c.body);
}

/* During the drain, new connections are refused at once (not left hanging
 * for the grace period), and the probe port says "draining". */
static void test_new_connections_during_drain_are_refused(void)
{
    test_server s;
    const char *args[] = {"--workers", "1", "--profiles", "accurate", "--probe-port", "0", NULL};
    REQUIRE(test_server_start(&s, args) == 0);
    REQUIRE(s.probe_port > 0);
    call c = {s.url, speech, "accurate", 0, 0, "", NULL, 0};
    pthread_t th;
    pthread_create(&th, NULL, post, &c);
    REQUIRE(wait_busy(&s, 1));
    kill(s.pid, SIGTERM);
    int refused = 0, e = 0;
    double t0 = test_now();
    for (int i = 0; i < 200 && !refused; i++) {
        int fd = test_connect_loopback(s.port, 0, &e);
        if (fd >= 0)
            close(fd);
        else
            refused = e == ECONNREFUSED;
        usleep(10000);
    }
    fprintf(stderr, "  refused after %.2f s\n", test_now() - t0);
    CHECK(refused);
    CHECK(test_now() - t0 < 1.0);
    char url[160];
    snprintf(url, sizeof url, "%s/ready", s.probe_url);
    test_response r;
    REQUIRE(test_request("GET", url, NULL, &r) == 0);
    CHECK(r.status == 503 && strstr(r.body, "draining"));
    test_response_free(&r);
    snprintf(url, sizeof url, "%s/health", s.probe_url);
    REQUIRE(test_request("GET", url, NULL, &r) == 0);
    CHECK(r.status == 200);
    test_response_free(&r);
    kill(s.pid, SIGQUIT);
    pthread_join(th, NULL);
    CHECK(test_server_wait(&s, 30, NULL) == 0);
    free(c.body);
}

/* ---- a failed respawn (needs root and a writable pids cgroup) ---------- */

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A fresh pids cgroup (v1 or v2) in dir; -1 when this machine gives none. */
static int make_pids_cgroup(char *dir, size_t len)
{
    if (geteuid() != 0) return -1;
    if (access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0) {
        snprintf(dir, len, "/sys/fs/cgroup/pids/stt-test-%d", (int)getpid());
    } else {
        char *ctl = test_read_file("/sys/fs/cgroup/cgroup.controllers", NULL);
        int has = ctl && strstr(ctl, "pids");
        free(ctl);
        if (!has) return -1;
        write_file("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
        snprintf(dir, len, "/sys/fs/cgroup/stt-test-%d", (int)getpid());
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
    char f[600];
    snprintf(f, sizeof f, "%s/pids.max", dir);
    if (access(f, W_OK) != 0) {
        rmdir(dir);
        return -1;
    }
    return 0;
}

static int cg_write(const char *dir, const char *file, const char *text)
{
    char f[600];
    snprintf(f, sizeof f, "%s/%s", dir, file);
    return write_file(f, text);
}

static void test_failed_respawn_breaks_health(void)
{
    char dir[512];
    if (make_pids_cgroup(dir, sizeof dir) != 0) {
        printf("  skipped: needs root and a writable pids cgroup\n");
        return;
    }
    test_server s;
    const char *args[] = {"--workers", "1", "--profiles", "fast", "--broken-after-s", "3", NULL};
    if (test_server_start(&s, args) != 0) {
        rmdir(dir);
        REQUIRE(0);
    }
    pid_t worker[4], zygote = 0;
    int n = stt_proc_leaves(s.pid, worker, 4);
    REQUIRE(n == 1 && stt_proc_parent(worker[0], &zygote) == 0 && zygote > 1);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)zygote);
    /* Only the model loader is limited: it is the one that forks workers. */
    REQUIRE(cg_write(dir, "cgroup.procs", pid) == 0);
    snprintf(pid, sizeof pid, "%d", (int)worker[0]);
    REQUIRE(cg_write(dir, "cgroup.procs", pid) == 0);
    REQUIRE(cg_write(dir, "pids.max", "1") == 0); /* no room for another process */
    char health[160];
    snprintf(health, sizeof health, "%s/health", s.url);
    test_response r;

    /* A fork that fails is retried with backoff: room again in time, a worker again. */
    kill(worker[0], SIGKILL);
    usleep(1000000);
    CHECK(test_metric(s.url, "sttd_workers") == 0);
    REQUIRE(test_request("GET", health, NULL, &r) == 0);
    CHECK(r.status == 200);
    test_response_free(&r);
    REQUIRE(cg_write(dir, "pids.max", "max") == 0);
    int back = 0;
    for (int i = 0; i < 600 && !back; i++) {
        back = test_metric(s.url, "sttd_workers") == 1;
        usleep(10000);
    }
    CHECK(back);

    /* No room for longer than --broken-after-s: /health fails, the gauges say so. */
    n = stt_proc_leaves(s.pid, worker, 4);
    REQUIRE(n == 1);
    snprintf(pid, sizeof pid, "%d", (int)worker[0]);
    cg_write(dir, "cgroup.procs", pid);
    REQUIRE(cg_write(dir, "pids.max", "1") == 0);
    double t0 = test_now();
    kill(worker[0], SIGKILL);
    long st = 200;
    while (st == 200 && test_now() - t0 < 15) {
        usleep(100000);
        if (test_request("GET", health, NULL, &r) == 0) st = r.status;
        test_response_free(&r);
    }
    fprintf(stderr, "  /health %ld after %.1f s without a worker\n", st, test_now() - t0);
    CHECK(st == 503);
    CHECK(test_now() - t0 >= 2.5);
    CHECK(test_metric(s.url, "sttd_workers") == 0);
    char ready[160];
    snprintf(ready, sizeof ready, "%s/ready", s.url);
    REQUIRE(test_request("GET", ready, NULL, &r) == 0);
    CHECK(r.status == 503);
    test_response_free(&r);
    CHECK(test_server_stop(&s, SIGTERM) == 0);
    cg_write(dir, "pids.max", "max");
    for (int i = 0; i < 200 && rmdir(dir) != 0; i++)
        usleep(10000);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = test_tmpdir();
    snprintf(speech, sizeof speech, "%s/speech.wav", tmp ? tmp : "/tmp");
    if (!tmp || test_write_speech_wav(speech, 2) < 50) {
        fprintf(stderr, "cannot write %s\n", speech);
        return 1;
    }
    TEST_RUN(test_upload_in_progress_at_sigterm_is_served);
    TEST_RUN(test_queued_get_503_and_running_finish);
    TEST_RUN(test_second_sigterm_is_ignored);
    TEST_RUN(test_grace_expiry_bounds_the_exit);
    TEST_RUN(test_third_signal_stops_at_once);
    TEST_RUN(test_sigquit_stops_at_once);
    TEST_RUN(test_group_sigterm_reaches_sttd_only);
    TEST_RUN(test_new_connections_during_drain_are_refused);
    TEST_RUN(test_failed_respawn_breaks_health);
    unlink(speech);
    rmdir(tmp);
    curl_global_cleanup();
    return test_summary();
}
