/* server: spawn a server under test from a command template, wait, stop. */
#include "sut.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "error.h"

struct stt_sut {
    pid_t pid;
    int port;
    char url[128];
    char *command;
};

stt_sut_params stt_sut_default_params(void)
{
    stt_sut_params p = {0};
    p.host = "127.0.0.1";
    p.ready_path = "/ready";
    p.ready_timeout_s = 120;
    return p;
}


void stt_sut_exe_dir(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(out, len, ".");
        return;
    }
    self[n] = 0;
    snprintf(out, len, "%s", dirname(self));
}

int stt_sut_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Expands the template's {names}; unknown braces are copied as they are. */
static char *expand(const char *tpl, const char *const names[], const char *const values[], int n)
{
    size_t cap = strlen(tpl) + 1;
    for (int i = 0; i < n; i++)
        cap += 8 * strlen(values[i]);
    char *out = malloc(cap + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (const char *p = tpl; *p;) {
        int hit = 0;
        if (*p == '{')
            for (int i = 0; i < n && !hit; i++) {
                size_t l = strlen(names[i]);
                if (!strncmp(p + 1, names[i], l) && p[1 + l] == '}') {
                    size_t vl = strlen(values[i]);
                    if (k + vl >= cap) break;
                    memcpy(out + k, values[i], vl);
                    k += vl;
                    p += l + 2;
                    hit = 1;
                }
            }
        if (!hit && k < cap)
            out[k++] = *p++;
        else if (!hit)
            break;
    }
    out[k] = '\0';
    return out;
}

int stt_sut_get(const stt_sut *s, const char *path, char **body, double timeout_s)
{
    char url[1200];
    snprintf(url, sizeof url, "%s%s", s->url, path);
    long status = 0;
    if (stt_client_get(url, timeout_s, &status, body)) return STT_EIO;
    return (int)status;
}

stt_sut *stt_sut_start(const stt_sut_params *p, char *err, size_t errlen)
{
    if (!p || !p->command) {
        stt_seterr(err, errlen, STT_EINVAL, "no server command");
        return NULL;
    }
    stt_sut *s = calloc(1, sizeof *s);
    if (!s) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    s->port = p->port > 0 ? p->port : stt_sut_free_port();
    const char *host = p->host ? p->host : "127.0.0.1";
    char bin[PATH_MAX], port[16], workers[16], threads[16];
    stt_sut_exe_dir(bin, sizeof bin);
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(workers, sizeof workers, "%d", p->workers);
    snprintf(threads, sizeof threads, "%d", p->threads);
    const char *names[] = {"bin", "port", "workers", "threads", "host"};
    const char *values[] = {bin, port, workers, threads, host};
    s->command = expand(p->command, names, values, 5);
    size_t sl = s->command ? strlen(s->command) + 8 : 0;
    char *shell = s->command ? malloc(sl) : NULL;
    if (!shell) {
        free(s->command);
        free(s);
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(shell, sl, "exec %s", s->command);
    snprintf(s->url, sizeof s->url, "http://%s:%d", host, s->port);
    /* Opened before fork: the child may only make async-signal-safe calls. */
    int logfd = open(p->log_path ? p->log_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = fork();
    if (pid < 0) {
        stt_seterr(err, errlen, STT_EIO, "fork: %s", strerror(errno));
        if (logfd >= 0) close(logfd);
        free(shell);
        free(s->command);
        free(s);
        return NULL;
    }
    if (pid == 0) {
        /* Own process group, so stop can reach every process the server forked. */
        setpgid(0, 0);
        if (p->limit && stt_cpulimit_apply_child(p->limit)) _exit(126);
        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
            close(logfd);
        }
        execl("/bin/sh", "sh", "-c", shell, (char *)NULL);
        _exit(127);
    }
    if (logfd >= 0) close(logfd);
    free(shell);
    s->pid = pid;
    char ready[1200];
    snprintf(ready, sizeof ready, "%s%s", s->url, p->ready_path ? p->ready_path : "/ready");
    double limit = p->ready_timeout_s > 0 ? p->ready_timeout_s : 120;
    for (double t0 = stt_now_s(); stt_now_s() - t0 < limit;) {
        long status = 0;
        if (stt_client_get(ready, 5, &status, NULL) == 0 && status == 200) return s;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            stt_seterr(err, errlen, STT_EIO, "`%s` exited (status %d) before it was ready%s",
                       s->command, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                       WIFEXITED(st) && WEXITSTATUS(st) == 126 ? ": CPU limit not applied" : "");
            kill(-pid, SIGKILL);
            free(s->command);
            free(s);
            return NULL;
        }
        usleep(100 * 1000);
    }
    stt_seterr(err, errlen, STT_EIO, "`%s` not ready after %.0f s", s->command, limit);
    stt_sut_stop(s, 5);
    return NULL;
}

pid_t stt_sut_pid(const stt_sut *s)
{
    return s->pid;
}

int stt_sut_port(const stt_sut *s)
{
    return s->port;
}

const char *stt_sut_url(const stt_sut *s)
{
    return s->url;
}

const char *stt_sut_command(const stt_sut *s)
{
    return s->command;
}

int stt_sut_stop(stt_sut *s, double grace_s)
{
    if (!s) return -1;
    int st = -1, gone = 0;
    kill(s->pid, SIGTERM);
    for (double t0 = stt_now_s(); !gone && stt_now_s() - t0 < grace_s;) {
        gone = waitpid(s->pid, &st, WNOHANG) == s->pid;
        if (!gone) usleep(50 * 1000);
    }
    if (!gone) {
        kill(-s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
    }
    /* Anything the server forked and left behind goes too. */
    kill(-s->pid, SIGKILL);
    free(s->command);
    free(s);
    return st;
}
