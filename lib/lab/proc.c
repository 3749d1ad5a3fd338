/* proc: see proc.h. */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

static int read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) return STT_ENOTFOUND;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

/* Reads "/proc/PID/stat" fields after the command name: ppid and CPU ticks. */
static int read_stat(pid_t pid, pid_t *ppid, unsigned long long ticks[4])
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (read_text(path, buf, sizeof buf)) return STT_ENOTFOUND;
    const char *p = strrchr(buf, ')');
    if (!p) return STT_ENOTFOUND;
    char state;
    long pp;
    unsigned long long t[4];
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     * cutime cstime */
    if (sscanf(p + 2, "%c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &state, &pp,
               &t[0], &t[1], &t[2], &t[3]) != 6)
        return STT_ENOTFOUND;
    if (ppid) *ppid = (pid_t)pp;
    if (ticks) memcpy(ticks, t, sizeof t);
    return 0;
}

int stt_proc_tree(pid_t root, pid_t *out, int max)
{
    if (max <= 0 || read_stat(root, NULL, NULL)) return 0;
    /* One pass over /proc collects (pid, ppid); then a breadth-first walk. */
    size_t cap = 1024, n = 0;
    pid_t(*pairs)[2] = malloc(cap * sizeof *pairs);
    DIR *d = opendir("/proc");
    if (!pairs || !d) {
        free(pairs);
        if (d) closedir(d);
        out[0] = root;
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || v <= 0) continue;
        pid_t pp;
        if (read_stat((pid_t)v, &pp, NULL)) continue;
        if (n == cap) {
            pid_t(*np)[2] = realloc(pairs, 2 * cap * sizeof *pairs);
            if (!np) break;
            pairs = np;
            cap *= 2;
        }
        pairs[n][0] = (pid_t)v;
        pairs[n][1] = pp;
        n++;
    }
    closedir(d);
    int k = 0;
    out[k++] = root;
    for (int i = 0; i < k && k < max; i++)
        for (size_t j = 0; j < n && k < max; j++)
            if (pairs[j][1] == out[i]) out[k++] = pairs[j][0];
    free(pairs);
    return k;
}

double stt_proc_tree_cpu_s(pid_t root)
{
    pid_t pids[STT_PROC_TREE_MAX];
    int n = stt_proc_tree(root, pids, STT_PROC_TREE_MAX);
    double hz = (double)sysconf(_SC_CLK_TCK), s = 0;
    for (int i = 0; i < n; i++) {
        unsigned long long t[4];
        if (read_stat(pids[i], NULL, t) == 0) s += (double)(t[0] + t[1] + t[2] + t[3]) / hz;
    }
    return s;
}

int stt_proc_machine_cpu(double *busy_s, double *steal_s)
{
    char buf[512];
    if (read_text("/proc/stat", buf, sizeof buf)) return STT_EIO;
    unsigned long long u = 0, ni = 0, sy = 0, id = 0, io = 0, irq = 0, sirq = 0, st = 0;
    int n = sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &id, &io, &irq,
                   &sirq, &st);
    if (n < 7) return STT_EIO;
    double hz = (double)sysconf(_SC_CLK_TCK);
    if (busy_s) *busy_s = (double)(u + ni + sy + irq + sirq) / hz;
    if (steal_s) *steal_s = n >= 8 ? (double)st / hz : 0;
    return 0;
}

int stt_proc_parent(pid_t pid, pid_t *ppid)
{
    return pid > 0 ? read_stat(pid, ppid, NULL) : STT_ENOTFOUND;
}

int stt_proc_cpu_s(pid_t pid, double *s)
{
    unsigned long long t[4];
    if (pid <= 0 || read_stat(pid, NULL, t)) return STT_ENOTFOUND;
    *s = (double)(t[0] + t[1]) / (double)sysconf(_SC_CLK_TCK);
    return 0;
}

/* RSS and PSS of one process in bytes; 0 when it has gone. */
static int mem_of(pid_t pid, long long *rss, long long *pss)
{
    char path[64], line[256];
    long long r = -1, p = -1, kb;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "Rss: %lld kB", &kb) == 1)
                r = kb;
            else if (sscanf(line, "Pss: %lld kB", &kb) == 1)
                p = kb;
        }
        fclose(f);
    }
    if (r < 0) {
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        if (!f) return STT_ENOTFOUND;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmRSS: %lld kB", &kb) == 1) r = kb;
        fclose(f);
        if (r < 0) r = 0; /* a zombie or kernel thread has no memory */
    }
    if (p < 0) p = r;
    *rss = r * 1024;
    *pss = p * 1024;
    return 0;
}

int stt_proc_mem_tree(pid_t pid, stt_memusage *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    pid_t *pids = malloc(STT_PROC_TREE_MAX * sizeof *pids);
    if (!pids) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    int n = pid > 0 ? stt_proc_tree(pid, pids, STT_PROC_TREE_MAX) : 0;
    for (int i = 0; i < n; i++) {
        long long r, p;
        if (mem_of(pids[i], &r, &p) == 0) {
            out->rss += r;
            out->pss += p;
            out->processes++;
        }
    }
    free(pids);
    return out->processes ? 0 : stt_seterr(err, errlen, STT_ENOTFOUND, "no process %d", (int)pid);
}

/* Children of pid over all its threads (/proc/PID/task/TID/children), up to max. */
static int child_pids(pid_t pid, pid_t *out, int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.') continue;
        char cpath[300];
        snprintf(cpath, sizeof cpath, "/proc/%d/task/%.32s/children", (int)pid, e->d_name);
        FILE *f = fopen(cpath, "r");
        int c;
        while (f && n < max && fscanf(f, "%d", &c) == 1)
            out[n++] = c;
        if (f) fclose(f);
    }
    closedir(d);
    return n;
}

int stt_proc_leaves(pid_t pid, pid_t *out, int max)
{
    pid_t kids[64];
    int nk = child_pids(pid, kids, 64), n = 0;
    for (int i = 0; i < nk && n < max; i++) {
        pid_t sub[1];
        if (child_pids(kids[i], sub, 1) == 0)
            out[n++] = kids[i];
        else
            n += stt_proc_leaves(kids[i], out + n, max - n);
    }
    return n;
}

struct stt_memsampler {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
    pid_t pid;
    int interval_ms;
    stt_memusage peak;
    int samples;
};

static void *sampler_main(void *arg)
{
    stt_memsampler *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        pthread_mutex_unlock(&s->lock);
        stt_memusage u;
        int ok = stt_proc_mem_tree(s->pid, &u, NULL, 0) == 0;
        pthread_mutex_lock(&s->lock);
        if (ok) {
            if (u.rss > s->peak.rss) s->peak.rss = u.rss;
            if (u.pss > s->peak.pss) s->peak.pss = u.pss;
            if (u.processes > s->peak.processes) s->peak.processes = u.processes;
            s->samples++;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        long long ns = until.tv_nsec + (long long)s->interval_ms * 1000000LL;
        until.tv_sec += ns / 1000000000LL;
        until.tv_nsec = ns % 1000000000LL;
        while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

stt_memsampler *stt_memsampler_start(pid_t pid, int interval_ms, char *err, size_t errlen)
{
    stt_memsampler *s = calloc(1, sizeof *s);
    if (!s) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    s->pid = pid;
    s->interval_ms = interval_ms > 0 ? interval_ms : 1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, sampler_main, s)) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
        stt_seterr(err, errlen, STT_EIO, "cannot start sampler thread");
        return NULL;
    }
    return s;
}

void stt_memsampler_stop(stt_memsampler *s, stt_memusage *peak, int *samples)
{
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    if (peak) *peak = s->peak;
    if (samples) *samples = s->samples;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
