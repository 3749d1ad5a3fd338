/* netns: the hosts (network namespaces, veth links), the processes started
 * in them, and the registry that removes them. See netns.h. */
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "proc.h"

/* ---- what this run created, so that every exit path can remove it ---- */
static struct {
    pthread_mutex_t mu;
    char tmpdir[PATH_MAX];
    char network[32];
    int subnet; /* X of 10.213.X.0/24, -1 before open */
    int nnet;
    char ns[STT_NETNS_MAX][32], veth[STT_NETNS_MAX][16];
    pid_t procs[STT_NETNS_PROCS]; /* process-group leaders, 0 for a free slot */
    int closed;                   /* torn down: nothing may be created any more */
} reg = {.mu = PTHREAD_MUTEX_INITIALIZER, .subnet = -1};

/* The signals the signal thread takes, the mask before, the thread. */
static struct {
    sigset_t set, old;
    pthread_t thr;
    int started;
    char who[64];
} guard;

/* ---- child processes ---- */

/* In a child after fork(): async-signal-safe only. The parent blocks the
 * signals its guard waits for; children must not inherit that. */
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

int stt_netns_run(char *const argv[], char *out, size_t outlen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) return STT_EIO;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return STT_EIO;
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
        if (errno != EINTR) return STT_EIO;
    return WIFEXITED(st) ? WEXITSTATUS(st) : STT_EIO;
}

/* `ip ARGS...` (NULL-terminated). Returns 0, or STT_EIO with "ip ARGS: output"
 * in err. */
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
    if (stt_netns_run(argv, out, sizeof out) == 0) return 0;
    if (err && errlen) {
        size_t k = (size_t)snprintf(err, errlen, "ip");
        for (int i = 1; i < n && k < errlen; i++)
            k += (size_t)snprintf(err + k, errlen - k, " %s", argv[i]);
        if (k < errlen) snprintf(err + k, errlen - k, ": %s", out[0] ? out : "failed");
    }
    return STT_EIO;
}

/* Whether pid has exited (it stays a zombie, so its pid and process group
 * cannot be reused until it is reaped). */
static int exited_unreaped(pid_t pid)
{
    siginfo_t si = {0};
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT)) return errno == ECHILD;
    return si.si_pid == pid;
}

/* SIGTERM to pid, up to grace_s for it to exit, then SIGKILL to its process
 * group (sttd's decoder workers are in it) while pid, unreaped, still holds
 * the group's id; then reaps pid. */
static void stop_group(pid_t pid, double grace_s)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (double t0 = stt_now_s(); !exited_unreaped(pid) && stt_now_s() - t0 < grace_s;)
        usleep(20 * 1000);
    kill(-pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX + 260];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    rmdir(dir);
}

/* stt_netns_teardown() with reg.mu held. */
static void teardown_locked(double grace_s)
{
    reg.closed = 1;
    /* Later slots first: the balancer is usually started after the servers
     * behind it. */
    for (int i = STT_NETNS_PROCS - 1; i >= 0; i--) {
        if (reg.procs[i] > 0) stop_group(reg.procs[i], grace_s);
        reg.procs[i] = 0;
    }
    for (int i = reg.nnet - 1; i >= 0; i--) {
        /* Anything still inside the namespace (a server mid-start) goes first:
         * deleting a namespace does not end its processes. */
        char pids[4096] = "";
        char *argv[] = {"ip", "netns", "pids", reg.ns[i], NULL};
        if (stt_netns_run(argv, pids, sizeof pids) == 0)
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
        remove_tree(reg.tmpdir);
        reg.tmpdir[0] = 0;
    }
}

void stt_netns_teardown(double grace_s)
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
    fprintf(stderr, "\n%s: %s: removing the namespaces, links and processes of this run\n",
            guard.who, strsignal(sig));
    stt_netns_teardown(2.0);
    _exit(128 + sig);
}

int stt_netns_guard_start(const char *who)
{
    snprintf(guard.who, sizeof guard.who, "%s", who ? who : "sttbench");
    sigemptyset(&guard.set);
    sigaddset(&guard.set, SIGINT);
    sigaddset(&guard.set, SIGTERM);
    sigaddset(&guard.set, SIGHUP);
    sigaddset(&guard.set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &guard.set, &guard.old);
    guard.started = pthread_create(&guard.thr, NULL, signal_thread, &guard.set) == 0;
    return guard.started ? 0 : STT_EIO;
}

void stt_netns_guard_stop(void)
{
    if (guard.started) {
        pthread_kill(guard.thr, SIGUSR1);
        pthread_join(guard.thr, NULL);
        guard.started = 0;
    }
    pthread_sigmask(SIG_SETMASK, &guard.old, NULL);
}

int stt_netns_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char f[PATH_MAX + 64];
    for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(f, sizeof f, "%.*s/%s", (int)n, p, prog);
        if (n && access(f, X_OK) == 0) return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

int stt_netns_check(char *why, size_t len)
{
    if (geteuid() != 0)
        return stt_seterr(why, len, STT_ENOTFOUND,
                          "not root: network namespaces and veth links need CAP_SYS_ADMIN and "
                          "CAP_NET_ADMIN");
    if (!stt_netns_in_path("ip"))
        return stt_seterr(why, len, STT_ENOTFOUND, "ip (iproute2) not found in PATH");
    return 0;
}

/* The third octet X of a 10.213.X.0/24 that no interface here uses; -1 if none. */
static int free_subnet(void)
{
    struct ifaddrs *ifs = NULL;
    int start = (int)(getpid() % 250);
    if (getifaddrs(&ifs)) return start;
    for (int t = 0; t < 250; t++) {
        int x = (start + t) % 250, used = 0;
        for (struct ifaddrs *a = ifs; a && !used; a = a->ifa_next) {
            if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
            uint32_t v = ntohl(((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr.s_addr);
            used = (v >> 8) ==
                   ((uint32_t)STT_NETNS_NET_A << 16 | (uint32_t)STT_NETNS_NET_B << 8 | (uint32_t)x);
        }
        if (!used) {
            freeifaddrs(ifs);
            return x;
        }
    }
    freeifaddrs(ifs);
    return -1;
}

int stt_netns_open(char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&reg.mu);
    snprintf(reg.tmpdir, sizeof reg.tmpdir, "/tmp/sttr-%d-XXXXXX", (int)getpid());
    if (reg.closed) {
        rc = stt_seterr(err, errlen, STT_EIO, "this run was torn down");
        reg.tmpdir[0] = 0;
    } else if (!mkdtemp(reg.tmpdir)) {
        rc = stt_seterr(err, errlen, STT_EIO, "mkdtemp: %s", strerror(errno));
        reg.tmpdir[0] = 0;
    } else if ((reg.subnet = free_subnet()) < 0) {
        rc = stt_seterr(err, errlen, STT_EIO, "no free %d.%d.X.0/24 for the host links",
                        STT_NETNS_NET_A, STT_NETNS_NET_B);
    } else {
        snprintf(reg.network, sizeof reg.network, "%d.%d.%d.0/24", STT_NETNS_NET_A, STT_NETNS_NET_B,
                 reg.subnet);
    }
    pthread_mutex_unlock(&reg.mu);
    return rc;
}

const char *stt_netns_tmpdir(void)
{
    return reg.tmpdir;
}

const char *stt_netns_network(void)
{
    return reg.network;
}

int stt_netns_add(int i, stt_netns_host *h, char *err, size_t errlen)
{
    if (i < 0 || i >= STT_NETNS_MAX || !h)
        return stt_seterr(err, errlen, STT_EIO, "host %d: at most %d hosts", i, STT_NETNS_MAX);
    char hostaddr[40], nsaddr[40], vh[16], vn[16];
    int x = reg.subnet;
    snprintf(hostaddr, sizeof hostaddr, "%d.%d.%d.%d/30", STT_NETNS_NET_A, STT_NETNS_NET_B, x,
             4 * i + 1);
    snprintf(nsaddr, sizeof nsaddr, "%d.%d.%d.%d/30", STT_NETNS_NET_A, STT_NETNS_NET_B, x,
             4 * i + 2);
    memset(h, 0, sizeof *h);
    h->index = i;
    snprintf(h->addr, sizeof h->addr, "%d.%d.%d.%d", STT_NETNS_NET_A, STT_NETNS_NET_B, x,
             4 * i + 2);
    snprintf(h->ns, sizeof h->ns, "sttr-%d-%d", (int)getpid(), i);
    snprintf(vh, sizeof vh, "sr%dh%d", (int)getpid(), i);
    snprintf(vn, sizeof vn, "sr%dn%d", (int)getpid(), i);
    pthread_mutex_lock(&reg.mu);
    if (reg.closed || x < 0 || reg.nnet != i) {
        pthread_mutex_unlock(&reg.mu);
        return stt_seterr(err, errlen, STT_EIO, "host %d: %s", i,
                          reg.closed ? "stopping" : "hosts are made in order after open");
    }
    memcpy(reg.ns[reg.nnet], h->ns, sizeof h->ns);
    memcpy(reg.veth[reg.nnet], vh, sizeof vh);
    reg.nnet++;
    int rc = ip(err, errlen, "netns", "add", h->ns, (char *)NULL) ? STT_ENOTFOUND : 0;
    if (!rc &&
        (ip(err, errlen, "link", "add", vh, "type", "veth", "peer", "name", vn, (char *)NULL) ||
         ip(err, errlen, "link", "set", vn, "netns", h->ns, (char *)NULL) ||
         ip(err, errlen, "addr", "add", hostaddr, "dev", vh, (char *)NULL) ||
         ip(err, errlen, "link", "set", vh, "up", (char *)NULL) ||
         ip(err, errlen, "-n", h->ns, "addr", "add", nsaddr, "dev", vn, (char *)NULL) ||
         ip(err, errlen, "-n", h->ns, "link", "set", vn, "up", (char *)NULL) ||
         ip(err, errlen, "-n", h->ns, "link", "set", "lo", "up", (char *)NULL)))
        rc = STT_EIO;
    pthread_mutex_unlock(&reg.mu);
    return rc;
}

int stt_netns_spawn(const stt_netns_spawn_params *p, pid_t *pid_out, char *err, size_t errlen)
{
    if (!p || !p->argv || !p->argv[0] || !pid_out || p->host < -1 || p->host >= STT_NETNS_MAX)
        return stt_seterr(err, errlen, STT_EIO, "bad spawn parameters");
    /* In a host: `ip netns exec NS argv...`, built before fork(). */
    char *argv[72];
    int n = 0;
    char ns[32] = "";
    if (p->host >= 0) {
        pthread_mutex_lock(&reg.mu);
        if (p->host < reg.nnet) memcpy(ns, reg.ns[p->host], sizeof ns);
        pthread_mutex_unlock(&reg.mu);
        if (!ns[0]) return stt_seterr(err, errlen, STT_EIO, "no host %d", p->host);
        argv[n++] = "ip";
        argv[n++] = "netns";
        argv[n++] = "exec";
        argv[n++] = ns;
    }
    for (int i = 0; p->argv[i]; i++) {
        if (n == 71) return stt_seterr(err, errlen, STT_EIO, "too many arguments");
        argv[n++] = p->argv[i];
    }
    argv[n] = NULL;
    int logfd = open(p->log_path ? p->log_path : "/dev/null",
                     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pthread_mutex_lock(&reg.mu);
    int slot = -1;
    for (int i = 0; i < STT_NETNS_PROCS && slot < 0; i++)
        if (!reg.procs[i]) slot = i;
    /* A signal's teardown may have run while this thread waited for the lock. */
    pid_t pid = reg.closed || slot < 0 ? -1 : fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (p->limit && stt_cpulimit_apply_child(p->limit)) _exit(126);
        if (p->memcg && stt_memcg_apply_child(p->memcg)) _exit(126);
        child_common(logfd);
        execvp(argv[0], argv);
        _exit(127);
    }
    int e = errno;
    if (pid > 0) reg.procs[slot] = pid;
    int closed = reg.closed;
    pthread_mutex_unlock(&reg.mu);
    if (logfd >= 0) close(logfd);
    if (pid < 0)
        return stt_seterr(err, errlen, STT_EIO, "%s",
                          closed     ? "this run is being torn down"
                          : slot < 0 ? "too many processes in this run"
                                     : strerror(e));
    *pid_out = pid;
    return 0;
}

/* Clears pid's slot; the caller holds reg.mu. */
static void unregister_locked(pid_t pid)
{
    for (int i = 0; i < STT_NETNS_PROCS; i++)
        if (reg.procs[i] == pid) reg.procs[i] = 0;
}

int stt_netns_alive(pid_t pid, int *status)
{
    if (!exited_unreaped(pid)) return 1;
    pthread_mutex_lock(&reg.mu);
    unregister_locked(pid);
    /* Its workers may outlive it: they are in its process group, whose id
     * the zombie still holds. */
    kill(-pid, SIGKILL);
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    pthread_mutex_unlock(&reg.mu);
    if (status) *status = w == pid ? (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)) : -1;
    return 0;
}

void stt_netns_stop(pid_t pid, double grace_s)
{
    pthread_mutex_lock(&reg.mu);
    int found = 0;
    for (int i = 0; i < STT_NETNS_PROCS; i++)
        found |= reg.procs[i] == pid;
    if (found && pid > 0) stop_group(pid, grace_s);
    unregister_locked(pid);
    pthread_mutex_unlock(&reg.mu);
}

double stt_netns_cpu_s(void)
{
    double s = 0;
    pthread_mutex_lock(&reg.mu);
    for (int i = 0; i < STT_NETNS_PROCS; i++)
        if (reg.procs[i] > 0) s += stt_proc_tree_cpu_s(reg.procs[i]);
    pthread_mutex_unlock(&reg.mu);
    return s;
}

void stt_netns_log_tail(const char *path, char *out, size_t len)
{
    if (!len) return;
    out[0] = 0;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n') {
            size_t n = strnlen(line, len - 1);
            memcpy(out, line, n);
            out[n] = 0;
        }
    fclose(f);
    out[strcspn(out, "\n")] = 0;
}
