/* server: a command template is expanded and run, readiness is polled over
 * HTTP, an early exit is reported, stopping ends the whole process group, and
 * metrics are read from Prometheus text by their exact name. The server under
 * test is a minimal HTTP responder in a thread of this program; the command
 * is a shell that waits. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "sut.h"
#include "testlib.h"

/* ---- a tiny HTTP responder: 200 "ok" to every request ---- */

static int listen_fd = -1;
static atomic_int stop_responder;

static void *responder(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_responder)) {
        int c = accept(listen_fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR) continue;
            break;
        }
        char req[4096];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof req - 1 && (r = read(c, req + n, sizeof req - 1 - n)) > 0) {
            n += (size_t)r;
            req[n] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        }
        static const char ok[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        if (write(c, ok, sizeof ok - 1) < 0) {
            /* the client may have given up; nothing to do */
        }
        close(c);
    }
    return NULL;
}

/* Listens on a free loopback port; returns the port or -1. */
static int start_responder(pthread_t *th)
{
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) || listen(listen_fd, 16) ||
        getsockname(listen_fd, (struct sockaddr *)&a, &len))
        return -1;
    atomic_store(&stop_responder, 0);
    if (pthread_create(th, NULL, responder, NULL)) return -1;
    return ntohs(a.sin_port);
}

static void stop_responder_thread(pthread_t th)
{
    atomic_store(&stop_responder, 1);
    shutdown(listen_fd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(listen_fd);
    listen_fd = -1;
}

/* Processes of group pgid that are still running (zombies waiting for a
 * reaper do not count: they run nothing). */
static int live_in_group(pid_t pgid)
{
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%.32s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        const char *rp = strrchr(buf, ')');
        char state;
        int ppid, pgrp;
        if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
            state != 'Z' && state != 'X')
            n++;
    }
    closedir(d);
    return n;
}

/* ---- cases ---- */

static void test_metric_by_exact_name(void)
{
    const char *text = "# HELP sttd_queue_depth Queue.\n"
                       "# TYPE sttd_queue_depth gauge\n"
                       "sttd_queue_depth_max 9\n"
                       "sttd_busy{worker=\"1\"} 4\n"
                       "sttd_queue_depth 3\n"
                       "sttd_busy\t2.5\n";
    CHECK(stt_client_metric(text, "sttd_queue_depth") == 3);
    CHECK(stt_client_metric(text, "sttd_queue_depth_max") == 9);
    CHECK(stt_client_metric(text, "sttd_busy") == 2.5); /* the labelled sample is not it */
    CHECK(isnan(stt_client_metric(text, "sttd_queue")));
    CHECK(isnan(stt_client_metric(text, "absent")));
    CHECK(isnan(stt_client_metric(NULL, "sttd_busy")));
}

static void test_helpers(void)
{
    int port = stt_sut_free_port();
    CHECK(port > 0 && port < 65536);
    char dir[4096];
    stt_sut_exe_dir(dir, sizeof dir);
    char self[4400];
    snprintf(self, sizeof self, "%s/%s", dir, program_invocation_short_name);
    CHECK(dir[0] == '/' && access(self, X_OK) == 0);
    stt_sut_params p = stt_sut_default_params();
    CHECK_STR_EQ(p.host, "127.0.0.1");
    CHECK_STR_EQ(p.ready_path, "/ready");
    CHECK(p.ready_timeout_s > 0);
}

static void test_start_get_stop(void)
{
    pthread_t th;
    int port = start_responder(&th);
    REQUIRE(port > 0);
    stt_sut_params p = stt_sut_default_params();
    /* The shell forks a child that must go with it, then waits; the comment
     * carries the placeholders so the expansion can be read back. */
    p.command = "sh -c 'sleep 30 & wait' # {port} {workers} {threads} {host} {nope} {bin}";
    p.port = port;
    p.workers = 3;
    p.threads = 2;
    p.ready_timeout_s = 10;
    char err[512] = "";
    stt_sut *s = stt_sut_start(&p, err, sizeof err);
    if (!s) fprintf(stderr, "  start: %s\n", err);
    if (s) {
        char want[5000], dir[4096];
        stt_sut_exe_dir(dir, sizeof dir);
        snprintf(want, sizeof want, "sh -c 'sleep 30 & wait' # %d 3 2 127.0.0.1 {nope} %s", port,
                 dir);
        CHECK_STR_EQ(stt_sut_command(s), want);
        CHECK(stt_sut_port(s) == port);
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
        CHECK_STR_EQ(stt_sut_url(s), url);
        char *body = NULL;
        CHECK(stt_sut_get(s, "/metrics", &body, 5) == 200);
        CHECK(body && !strcmp(body, "ok"));
        free(body);
        pid_t pid = stt_sut_pid(s);
        CHECK(pid > 0 && kill(pid, 0) == 0);
        int st = stt_sut_stop(s, 5);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        /* nothing of the process group is left, the forked sleep included */
        int left = 1;
        for (int i = 0; i < 50 && left; i++) {
            usleep(20 * 1000);
            left = live_in_group(pid);
        }
        CHECK(left == 0);
    }
    stop_responder_thread(th);
    CHECK(s != NULL);
}

static void test_early_exit_and_bad_params(void)
{
    stt_sut_params p = stt_sut_default_params();
    char err[512] = "";
    CHECK(stt_sut_start(&p, err, sizeof err) == NULL); /* no command */
    CHECK(err[0] != '\0');
    p.command = "sh -c 'exit 3'";
    p.ready_timeout_s = 10;
    err[0] = '\0';
    CHECK(stt_sut_start(&p, err, sizeof err) == NULL);
    CHECK(strstr(err, "exited (status 3)") != NULL);
    /* nobody answers on the port: not ready in time */
    p.command = "sleep 30";
    p.ready_timeout_s = 0.5;
    err[0] = '\0';
    CHECK(stt_sut_start(&p, err, sizeof err) == NULL);
    CHECK(strstr(err, "not ready") != NULL);
    CHECK(stt_sut_stop(NULL, 1) == -1);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_metric_by_exact_name);
    TEST_RUN(test_helpers);
    TEST_RUN(test_start_get_stop);
    TEST_RUN(test_early_exit_and_bad_params);
    curl_global_cleanup();
    return test_summary();
}
