/* sttbench_replicas_hosts: the namespaces, links and processes of `sttbench
 * replicas`, and the registry that removes them. See sttbench_replicas_hosts.h. */
#include "sttbench_replicas_hosts.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "sut.h"
#include "sttbench_common.h"

/* ---- what this run created, so that every exit path can remove it ----
 *
 * Names are registered before the thing is created and pids right after fork()
 * under the same lock, so a signal arriving at any moment finds everything. The
 * lock is held only for short operations (running `ip`, stopping a process). */
static struct {
    pthread_mutex_t mu;
    char tmpdir[PATH_MAX];
    int nnet;
    char ns[HOSTS_MAX][32], veth[HOSTS_MAX][16];
    pid_t sttd[HOSTS_MAX]; /* process-group leaders, 0 for none */
    pid_t haproxy;
    int closed; /* torn down: nothing may be created any more */
} reg = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The signals the signal thread takes, the mask before, the thread. */
static struct {
    sigset_t set, old;
    pthread_t thr;
    int started;
} guard;

/* ---- child processes ---- */

/* In a child after fork(): async-signal-safe only. The parent blocks the
 * signals it waits for; its children must not inherit that. */
static void child_common(int outfd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (outfd >= 0) {
        dup2(outfd, 1);
        dup2(outfd, 2);
        close(outfd);
    }
}

int hosts_run_cmd(char *const argv[], char *out, size_t outlen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child_common(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    char buf[512];
    ssize_t r;
    while ((r = read(fds[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
        for (ssize_t i = 0; out && i < r && n + 1 < outlen; i++)
            out[n++] = buf[i];
    }
    close(fds[0]);
    if (out && outlen) {
        while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
            n--;
        out[n] = 0;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `ip ARGS...` (NULL-terminated). Returns 0, or -1 with "ip ARGS: output" in err. */
static int ip(char *err, size_t errlen, ...)
{
    char *argv[16] = {"ip"};
    int n = 1;
    va_list ap;
    va_start(ap, errlen);
    for (char *a; n < 15 && (a = va_arg(ap, char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char out[512] = "";
    int rc = hosts_run_cmd(argv, out, sizeof out);
    if (rc == 0) return 0;
    if (err) {
        size_t k = (size_t)snprintf(err, errlen, "ip");
        for (int i = 1; i < n && k < errlen; i++)
            k += (size_t)snprintf(err + k, errlen - k, " %s", argv[i]);
        if (k < errlen) snprintf(err + k, errlen - k, ": %s", out[0] ? out : "failed");
    }
    return -1;
}

/* SIGTERM to pid, up to grace_s for it to exit, then SIGKILL to its process
 * group (sttd's decoder workers are in it). Reaps pid. */
static void stop_group(pid_t pid, double grace_s)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int gone = 0;
    for (double t0 = bench_now_s(); !gone && bench_now_s() - t0 < grace_s;) {
        pid_t w = waitpid(pid, NULL, WNOHANG);
        gone = w == pid || (w < 0 && errno == ECHILD);
        if (!gone) usleep(20 * 1000);
    }
    kill(-pid, SIGKILL);
    if (!gone) waitpid(pid, NULL, 0);
}

/* hosts_teardown() with reg.mu held. */
static void teardown_locked(double grace_s)
{
    reg.closed = 1;
    if (reg.haproxy > 0) stop_group(reg.haproxy, grace_s);
    reg.haproxy = 0;
    for (int i = 0; i < HOSTS_MAX; i++) {
        if (reg.sttd[i] > 0) stop_group(reg.sttd[i], grace_s);
        reg.sttd[i] = 0;
    }
    for (int i = reg.nnet - 1; i >= 0; i--) {
        /* Anything still inside the namespace (a server mid-start) goes first:
         * deleting a namespace does not end its processes. */
        char pids[4096] = "";
        char *argv[] = {"ip", "netns", "pids", reg.ns[i], NULL};
        if (hosts_run_cmd(argv, pids, sizeof pids) == 0)
            for (char *p = pids, *end; *p; p = end) {
                long v = strtol(p, &end, 10);
                if (end == p) break;
                if (v > 1) kill((pid_t)v, SIGKILL);
            }
        /* Deleting one end of a veth pair deletes both. */
        ip(NULL, 0, "link", "del", reg.veth[i], (char *)NULL);
        ip(NULL, 0, "netns", "del", reg.ns[i], (char *)NULL);
    }
    reg.nnet = 0;
    if (reg.tmpdir[0]) {
        DIR *d = opendir(reg.tmpdir);
        struct dirent *e;
        char path[PATH_MAX + 260];
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", reg.tmpdir, e->d_name);
                unlink(path);
            }
        if (d) closedir(d);
        rmdir(reg.tmpdir);
        reg.tmpdir[0] = 0;
    }
}

void hosts_teardown(double grace_s)
{
    pthread_mutex_lock(&reg.mu);
    teardown_locked(grace_s);
    pthread_mutex_unlock(&reg.mu);
}

/* Takes SIGINT/SIGTERM/SIGHUP for the whole process (every other thread has
 * them blocked), removes what the run created and exits; SIGUSR1 ends it
 * quietly at the end of a normal run. */
static void *signal_thread(void *arg)
{
    const sigset_t *set = arg;
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    if (sig == SIGUSR1) return NULL;
    fprintf(stderr,
            "\nsttbench replicas: %s: removing the namespaces, links and processes of "
            "this run\n",
            strsignal(sig));
    hosts_teardown(2.0);
    _exit(128 + sig);
}

int hosts_guard_start(void)
{
    sigemptyset(&guard.set);
    sigaddset(&guard.set, SIGINT);
    sigaddset(&guard.set, SIGTERM);
    sigaddset(&guard.set, SIGHUP);
    sigaddset(&guard.set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &guard.set, &guard.old);
    guard.started = pthread_create(&guard.thr, NULL, signal_thread, &guard.set) == 0;
    return guard.started ? 0 : -1;
}

void hosts_guard_stop(void)
{
    if (guard.started) {
        pthread_kill(guard.thr, SIGUSR1);
        pthread_join(guard.thr, NULL);
        guard.started = 0;
    }
    pthread_sigmask(SIG_SETMASK, &guard.old, NULL);
}

int hosts_open(char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&reg.mu);
    snprintf(reg.tmpdir, sizeof reg.tmpdir, "/tmp/sttr-%d-XXXXXX", (int)getpid());
    if (!mkdtemp(reg.tmpdir)) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        reg.tmpdir[0] = 0;
        rc = -1;
    }
    pthread_mutex_unlock(&reg.mu);
    return rc;
}

/* ---- HTTP ---- */

static size_t discard(char *p, size_t s, size_t n, void *a)
{
    (void)p, (void)a;
    return s * n;
}

/* Status of GET url, or -1 on a transport failure. */
static long http_get(const char *url, double timeout_s)
{
    CURL *c = curl_easy_init();
    if (!c) return -1;
    long status = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* ---- network ---- */

int hosts_free_subnet(void)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs)) return (int)(getpid() % 250);
    int start = (int)(getpid() % 250);
    for (int t = 0; t < 250; t++) {
        int x = (start + t) % 250, used = 0;
        for (struct ifaddrs *a = ifs; a && !used; a = a->ifa_next) {
            if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
            uint32_t v = ntohl(((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr.s_addr);
            used = (v >> 8) ==
                   ((uint32_t)HOSTS_NET_A << 16 | (uint32_t)HOSTS_NET_B << 8 | (uint32_t)x);
        }
        if (!used) {
            freeifaddrs(ifs);
            return x;
        }
    }
    freeifaddrs(ifs);
    return -1;
}

/* ---- the replicas ---- */

int hosts_net_up(int i, int subnet, hosts_replica *r, char *err, size_t errlen)
{
    char hostaddr[40], nsaddr[40];
    snprintf(hostaddr, sizeof hostaddr, "%d.%d.%d.%d/30", HOSTS_NET_A, HOSTS_NET_B, subnet,
             4 * i + 1);
    snprintf(nsaddr, sizeof nsaddr, "%d.%d.%d.%d/30", HOSTS_NET_A, HOSTS_NET_B, subnet, 4 * i + 2);
    snprintf(r->addr, sizeof r->addr, "%d.%d.%d.%d", HOSTS_NET_A, HOSTS_NET_B, subnet, 4 * i + 2);
    char ns[32], vh[16], vn[16];
    snprintf(ns, sizeof ns, "sttr-%d-%d", (int)getpid(), i);
    snprintf(vh, sizeof vh, "sr%dh%d", (int)getpid(), i);
    snprintf(vn, sizeof vn, "sr%dn%d", (int)getpid(), i);
    memcpy(r->ns, ns, sizeof ns);
    pthread_mutex_lock(&reg.mu);
    if (reg.closed) {
        pthread_mutex_unlock(&reg.mu);
        snprintf(err, errlen, "stopping");
        return -1;
    }
    memcpy(reg.ns[reg.nnet], ns, sizeof ns);
    memcpy(reg.veth[reg.nnet], vh, sizeof vh);
    reg.nnet++;
    int rc = ip(err, errlen, "netns", "add", ns, (char *)NULL) ? -2 : 0;
    if (!rc)
        rc = ip(err, errlen, "link", "add", vh, "type", "veth", "peer", "name", vn, (char *)NULL) ||
             ip(err, errlen, "link", "set", vn, "netns", ns, (char *)NULL) ||
             ip(err, errlen, "addr", "add", hostaddr, "dev", vh, (char *)NULL) ||
             ip(err, errlen, "link", "set", vh, "up", (char *)NULL) ||
             ip(err, errlen, "-n", ns, "addr", "add", nsaddr, "dev", vn, (char *)NULL) ||
             ip(err, errlen, "-n", ns, "link", "set", vn, "up", (char *)NULL) ||
             ip(err, errlen, "-n", ns, "link", "set", "lo", "up", (char *)NULL);
    pthread_mutex_unlock(&reg.mu);
    return rc == -2 ? -2 : rc ? -1 : 0;
}

/* The last line of a log file, for error messages. */
static void log_tail(const char *path, char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n' && len) {
            size_t n = strnlen(line, len - 1);
            memcpy(out, line, n);
            out[n] = 0;
        }
    fclose(f);
    out[strcspn(out, "\n")] = 0;
}

/* Not through stt_sut_start(): the pid must be registered the moment it
 * exists, so an interrupt during the start can end it. */
int hosts_replica_start(int i, const char *sttd, const char *profile, int cores, int workers,
                        hosts_replica *r, char *err, size_t errlen)
{
    stt_cpulimit_params lp = stt_cpulimit_default_params();
    lp.mode = STT_CPULIMIT_CPUSET;
    lp.cpus = cores;
    lp.first_cpu = i * cores;
    if (!(r->limit = stt_cpulimit_create(&lp, err, errlen))) return -1;
    snprintf(r->cpus, sizeof r->cpus, "%s", stt_cpulimit_cpu_list(r->limit));
    char nworkers[16], port[16], logp[PATH_MAX + 32];
    snprintf(nworkers, sizeof nworkers, "%d", workers);
    snprintf(port, sizeof port, "%d", HOSTS_STTD_PORT);
    snprintf(logp, sizeof logp, "%s/sttd_%d.log", reg.tmpdir, i);
    /* --threads 1: one request occupies one decoder, so a replica is exactly
     * `workers` servers of the queue. */
    char *argv[] = {"ip",      "netns",     "exec",   reg.ns[i],    (char *)sttd,
                    "--host",  r->addr,     "--port", port,         "--workers",
                    nworkers,  "--threads", "1",      "--profiles", (char *)profile,
                    "--quiet", NULL};
    int logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pthread_mutex_lock(&reg.mu);
    /* A signal's teardown may have run while this thread waited for the lock. */
    pid_t pid = reg.closed ? -1 : fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (stt_cpulimit_apply_child(r->limit)) _exit(126);
        child_common(logfd);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid > 0) reg.sttd[i] = pid;
    pthread_mutex_unlock(&reg.mu);
    if (logfd >= 0) close(logfd);
    if (pid < 0) {
        stt_seterr(err, errlen, STT_EIO, "fork: %s", strerror(errno));
        return -1;
    }
    snprintf(r->url, sizeof r->url, "http://%.31s:%d", r->addr, HOSTS_STTD_PORT);
    char ready[160];
    snprintf(ready, sizeof ready, "%s/ready", r->url);
    for (double t0 = bench_now_s(); bench_now_s() - t0 < 120;) {
        if (http_get(ready, 2) == 200) {
            stt_cpulimit_evidence *ev = malloc(sizeof *ev);
            if (!ev) {
                stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
                return -1;
            }
            int vrc = stt_cpulimit_verify(r->limit, pid, ev, err, errlen);
            r->verified = !vrc && ev->ok;
            if (!vrc && !ev->ok)
                snprintf(err, errlen, "replica %d is not restricted to CPUs %s: %s", i, r->cpus,
                         ev->reason);
            free(ev);
            return r->verified ? 0 : -1;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            pthread_mutex_lock(&reg.mu);
            reg.sttd[i] = 0;
            kill(-pid, SIGKILL);
            pthread_mutex_unlock(&reg.mu);
            char tail[300];
            log_tail(logp, tail, sizeof tail);
            snprintf(err, errlen, "replica %d: sttd exited (status %d) before it was ready: %s", i,
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1, tail[0] ? tail : "(no output)");
            return -1;
        }
        usleep(100 * 1000);
    }
    snprintf(err, errlen, "replica %d: sttd not ready after 120 s (%s)", i, ready);
    return -1;
}

/* maxconn <workers> per server makes haproxy hold every request beyond the
 * replicas' workers in its own backend queue and hand each to the first
 * worker that frees up: one FIFO queue before c = k x workers servers, which
 * is the M/G/c queue the planner models. Without it leastconn would push
 * requests into the replicas' own queues, k separate M/G/workers queues that
 * wait longer at the same utilisation. */
int hosts_haproxy_start(int k, const hosts_replica *rs, int workers, const int *spare, int nspare,
                        char *err, size_t errlen)
{
    int port = stt_sut_free_port();
    char cfg[PATH_MAX + 32], logp[PATH_MAX + 32];
    snprintf(cfg, sizeof cfg, "%s/haproxy_%d.cfg", reg.tmpdir, k);
    snprintf(logp, sizeof logp, "%s/haproxy_%d.log", reg.tmpdir, k);
    FILE *f = fopen(cfg, "w");
    if (!f || port < 0) {
        if (f) fclose(f);
        stt_seterr(err, errlen, STT_EIO, "%s: %s", cfg, strerror(errno));
        return -1;
    }
    /* No health checks: every replica answered /ready before haproxy starts, and
     * a check would take a slot of maxconn. http-server-close: a fresh backend
     * connection per request, so a connection sttd closed when idle is never
     * reused. timeout queue: a request waits in the queue as long as it must. */
    fprintf(f,
            "global\n  maxconn 4096\n"
            "defaults\n  mode http\n  option http-server-close\n  timeout connect 5s\n"
            "  timeout client %ds\n  timeout server %ds\n  timeout queue %ds\n"
            "frontend fe\n  bind 127.0.0.1:%d\n  default_backend be\n"
            "backend be\n  balance leastconn\n",
            HOSTS_REQ_TIMEOUT_S, HOSTS_REQ_TIMEOUT_S, HOSTS_REQ_TIMEOUT_S, port);
    for (int i = 0; i < k; i++)
        fprintf(f, "  server r%d %s:%d maxconn %d\n", i, rs[i].addr, HOSTS_STTD_PORT, workers);
    fclose(f);
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < nspare; i++)
        CPU_SET(spare[i], &set);
    int logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pthread_mutex_lock(&reg.mu);
    /* A signal's teardown may have run while this thread waited for the lock. */
    pid_t pid = reg.closed ? -1 : fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (nspare) sched_setaffinity(0, sizeof set, &set);
        child_common(logfd);
        execlp("haproxy", "haproxy", "-f", cfg, "-db", (char *)NULL);
        _exit(127);
    }
    if (pid > 0) reg.haproxy = pid;
    pthread_mutex_unlock(&reg.mu);
    if (logfd >= 0) close(logfd);
    if (pid < 0) {
        stt_seterr(err, errlen, STT_EIO, "fork: %s", strerror(errno));
        return -1;
    }
    char health[96];
    snprintf(health, sizeof health, "http://127.0.0.1:%d/health", port);
    for (double t0 = bench_now_s(); bench_now_s() - t0 < 15;) {
        if (http_get(health, 2) == 200) return port;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            pthread_mutex_lock(&reg.mu);
            reg.haproxy = 0;
            pthread_mutex_unlock(&reg.mu);
            char tail[300];
            log_tail(logp, tail, sizeof tail);
            snprintf(err, errlen, "haproxy exited: %s", tail[0] ? tail : "(no output)");
            return -1;
        }
        usleep(100 * 1000);
    }
    snprintf(err, errlen, "haproxy not answering %s after 15 s", health);
    return -1;
}

void hosts_haproxy_stop(void)
{
    pthread_mutex_lock(&reg.mu);
    stop_group(reg.haproxy, 5);
    reg.haproxy = 0;
    pthread_mutex_unlock(&reg.mu);
}

double hosts_cpu_s(void)
{
    double s = 0;
    pthread_mutex_lock(&reg.mu);
    for (int i = 0; i < HOSTS_MAX; i++)
        if (reg.sttd[i] > 0) s += stt_proc_tree_cpu_s(reg.sttd[i]);
    if (reg.haproxy > 0) s += stt_proc_tree_cpu_s(reg.haproxy);
    pthread_mutex_unlock(&reg.mu);
    return s;
}
