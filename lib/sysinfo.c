/* sysinfo: see sysinfo.h. */
#include "sysinfo.h"

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t k = 0;
    while (s[k] && isspace((unsigned char)s[k]))
        k++;
    memmove(s, s + k, n - k + 1);
}

/* Runs a fixed command and keeps its first line of output. */
static int first_line(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[256] = "";
    int got = fgets(line, sizeof line, p) != NULL;
    int st = pclose(p);
    if (!got || st != 0) return -1;
    trim(line);
    snprintf(out, len, "%s", line);
    return 0;
}

void stt_sysinfo_get(stt_sysinfo *out, const char *source_dir)
{
    memset(out, 0, sizeof *out);
    snprintf(out->cpu_model, sizeof out->cpu_model, "unknown");
    snprintf(out->commit, sizeof out->commit, "unknown");
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (!strncmp(line, "model name", 10) && colon) {
                snprintf(out->cpu_model, sizeof out->cpu_model, "%s", colon + 1);
                trim(out->cpu_model);
                break;
            }
        }
        fclose(f);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->logical_cores = n > 0 ? (int)n : 0;
    cpu_set_t set;
    out->cpus_allowed = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    out->mem_total = pages > 0 && psize > 0 ? (long long)pages * psize : 0;
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(out->kernel, sizeof out->kernel, "%s %s %s", u.sysname, u.release, u.machine);
        snprintf(out->hostname, sizeof out->hostname, "%s", u.nodename);
    }
    if (source_dir && !strchr(source_dir, '\'')) {
        char cmd[1200], c[64];
        snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", source_dir);
        if (first_line(cmd, c, sizeof c) == 0) {
            char dirty[16] = "";
            snprintf(cmd, sizeof cmd,
                     "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null", source_dir);
            if (first_line(cmd, dirty, sizeof dirty) == 0 && dirty[0])
                snprintf(out->commit, sizeof out->commit, "%.40s+dirty", c);
            else
                snprintf(out->commit, sizeof out->commit, "%.40s", c);
        }
    }
}

/* The command name in /proc/PID/stat may hold spaces and parentheses, so the
 * fields are parsed after the last ')'. */
pid_t stt_proc_parent(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    int ppid;
    char state;
    if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2) return -1;
    return (pid_t)ppid;
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
        if (!f) return -1;
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

int stt_mem_tree(pid_t pid, stt_memusage *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (pid <= 0 || stt_proc_parent(pid) < 0)
        return stt_seterr(err, errlen, STT_ENOTFOUND, "no process %d", (int)pid);
    /* One pass over /proc gives every (pid, ppid); the tree is then closed
     * under "parent is in the tree" (pids are listed in no useful order). */
    size_t cap = 256, n = 0;
    pid_t *pids = malloc(cap * sizeof *pids), *ppids = malloc(cap * sizeof *ppids);
    char *in = NULL;
    if (!pids || !ppids) goto oom;
    DIR *d = opendir("/proc");
    if (!d) {
        free(pids);
        free(ppids);
        return stt_seterr(err, errlen, STT_EIO, "cannot read /proc");
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0])) continue;
        pid_t p = (pid_t)atoi(de->d_name), pp = stt_proc_parent(p);
        if (pp < 0) continue;
        if (n == cap) {
            cap *= 2;
            pid_t *a = realloc(pids, cap * sizeof *a);
            if (a) pids = a;
            pid_t *b = realloc(ppids, cap * sizeof *b);
            if (b) ppids = b;
            if (!a || !b) {
                closedir(d);
                goto oom;
            }
        }
        pids[n] = p;
        ppids[n++] = pp;
    }
    closedir(d);
    in = calloc(n ? n : 1, 1);
    if (!in) goto oom;
    for (size_t i = 0; i < n; i++)
        in[i] = pids[i] == pid;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (in[i]) continue;
            for (size_t j = 0; j < n; j++)
                if (in[j] && pids[j] == ppids[i]) {
                    in[i] = 1;
                    changed = 1;
                    break;
                }
        }
    }
    for (size_t i = 0; i < n; i++) {
        long long r, p;
        if (in[i] && mem_of(pids[i], &r, &p) == 0) {
            out->rss += r;
            out->pss += p;
            out->processes++;
        }
    }
    free(in);
    free(pids);
    free(ppids);
    return out->processes ? 0 : stt_seterr(err, errlen, STT_ENOTFOUND, "no process %d", (int)pid);
oom:
    free(in);
    free(pids);
    free(ppids);
    return STT_ENOMEM;
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

double stt_proc_cpu_s(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    const char *p = ok ? strrchr(line, ')') : NULL;
    unsigned long ut, st;
    /* Fields after the command name: state(3) ... utime(14) stime(15). */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
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
        int ok = stt_mem_tree(s->pid, &u, NULL, 0) == 0;
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
