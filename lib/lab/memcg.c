/* memcg: a memory cgroup for a child and the kernel's charge. See memcg.h. */
#include "memcg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

struct stt_memcg {
    char kind[4];
    char dir[1200];
    char procs[1300];   /* dir/cgroup.procs, prepared for the child */
    char current[1300]; /* memory.current / memory.usage_in_bytes */
    char peak[1300];    /* memory.peak / memory.max_usage_in_bytes */
    char stat[1300];    /* memory.stat */
};

static atomic_int next_id;

static int read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) return STT_EIO;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0) return STT_EIO;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n < 0 ? STT_EIO : 0;
}

/* This process's cgroup for the v1 memory controller, or v2's (v1 = 0). */
static int own_cgroup(int v1, char *out, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return STT_EIO;
    char line[4096];
    int found = STT_ENOTFOUND;
    while (found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        if (!v1) {
            if (!strncmp(line, "0", 2) && !*ctrls) found = 0;
        } else {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", ctrls);
            for (char *s = NULL, *t = strtok_r(tmp, ",", &s); t; t = strtok_r(NULL, ",", &s))
                if (!strcmp(t, "memory")) found = 0;
        }
        if (!found) snprintf(out, len, "%s", strcmp(path, "/") ? path : "");
    }
    fclose(f);
    return found;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory under which to create, and "v1"/"v2"; NULL with err. */
static const char *detect(char *base, size_t blen, char *err, size_t errlen)
{
    char own[512] = "", path[1400], text[512];
    if (access("/sys/fs/cgroup/cgroup.controllers", R_OK) == 0) {
        if (own_cgroup(0, own, sizeof own)) own[0] = '\0';
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.controllers", own);
        if (read_text(path, text, sizeof text) || !strstr(text, "memory")) {
            stt_seterr(err, errlen, STT_EIO,
                       "cgroup v2: the memory controller is not available in %s", path);
            return NULL;
        }
        snprintf(base, blen, "/sys/fs/cgroup%s", own);
        if (access(base, W_OK)) {
            stt_seterr(err, errlen, STT_EIO, "cgroup v2: %s is not writable (need root)", base);
            return NULL;
        }
        return "v2";
    }
    if (access("/sys/fs/cgroup/memory/memory.usage_in_bytes", R_OK) == 0) {
        if (own_cgroup(1, own, sizeof own)) own[0] = '\0';
        snprintf(base, blen, "/sys/fs/cgroup/memory%s", own);
        if (!is_dir(base)) snprintf(base, blen, "/sys/fs/cgroup/memory"); /* cgroup namespace */
        if (access(base, W_OK)) {
            stt_seterr(err, errlen, STT_EIO, "cgroup v1: %s is not writable (need root)", base);
            return NULL;
        }
        return "v1";
    }
    stt_seterr(err, errlen, STT_EIO,
               "no cgroup memory controller (neither /sys/fs/cgroup/cgroup.controllers nor "
               "/sys/fs/cgroup/memory)");
    return NULL;
}

const char *stt_memcg_version(char *err, size_t errlen)
{
    char base[1024];
    const char *v = detect(base, sizeof base, err, errlen);
    return v ? v : "none";
}

/* v2: the memory controller must be enabled for base's children; a cgroup
 * holding processes itself cannot enable one, so this process moves into a
 * leaf of its own first (the same leaf lib/lab/cpulimit.c uses). */
static int v2_enable_memory(const char *base, char *err, size_t errlen)
{
    char path[1400], text[512];
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", base);
    if (read_text(path, text, sizeof text) == 0 && strstr(text, "memory")) return 0;
    int r = write_text(path, "+memory");
    if (r && errno == EBUSY) {
        char self[1200], pid[32];
        snprintf(self, sizeof self, "%.900s/sttbench-%ld-self", base, (long)getpid());
        if (mkdir(self, 0755) && errno != EEXIST)
            return stt_seterr(err, errlen, STT_EIO, "%s: %s", self, strerror(errno));
        snprintf(path, sizeof path, "%s/cgroup.procs", self);
        snprintf(pid, sizeof pid, "%ld", (long)getpid());
        if (write_text(path, pid))
            return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", base);
        r = write_text(path, "+memory");
    }
    if (r) return stt_seterr(err, errlen, STT_EIO, "%s: +memory: %s", path, strerror(errno));
    return 0;
}

stt_memcg *stt_memcg_create(const char *name, char *err, size_t errlen)
{
    char base[1024];
    const char *kind = detect(base, sizeof base, err, errlen);
    if (!kind) return NULL;
    if (!strcmp(kind, "v2") && v2_enable_memory(base, err, errlen)) return NULL;
    stt_memcg *m = calloc(1, sizeof *m);
    if (!m) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    char nm[96];
    if (name)
        snprintf(nm, sizeof nm, "%s", name);
    else
        snprintf(nm, sizeof nm, "sttbench-%ld-mem-%d", (long)getpid(),
                 atomic_fetch_add(&next_id, 1));
    snprintf(m->dir, sizeof m->dir, "%.1000s/%s", base, nm);
    if (mkdir(m->dir, 0755) && errno != EEXIST) {
        stt_seterr(err, errlen, STT_EIO, "mkdir %s: %s", m->dir, strerror(errno));
        free(m);
        return NULL;
    }
    int v2 = !strcmp(kind, "v2");
    snprintf(m->procs, sizeof m->procs, "%s/cgroup.procs", m->dir);
    snprintf(m->current, sizeof m->current, "%s/%s", m->dir,
             v2 ? "memory.current" : "memory.usage_in_bytes");
    snprintf(m->peak, sizeof m->peak, "%s/%s", m->dir,
             v2 ? "memory.peak" : "memory.max_usage_in_bytes");
    snprintf(m->stat, sizeof m->stat, "%s/memory.stat", m->dir);
    return m;
}

int stt_memcg_apply_child(const stt_memcg *m)
{
    /* "0" is the writing process itself, in v1 and v2 alike: no formatting,
     * nothing but open/write/close, which are async-signal-safe. */
    int fd = open(m->procs, O_WRONLY);
    if (fd < 0) return STT_EIO;
    ssize_t n = write(fd, "0", 1);
    close(fd);
    return n == 1 ? 0 : STT_EIO;
}

const char *stt_memcg_path(const stt_memcg *m)
{
    return m->dir;
}

const char *stt_memcg_kind(const stt_memcg *m)
{
    return m->kind;
}

static long long read_bytes(const char *path)
{
    char text[64];
    if (read_text(path, text, sizeof text)) return errno == ENOENT ? STT_ENOTFOUND : STT_EIO;
    char *end;
    long long v = strtoll(text, &end, 10);
    return end == text || v < 0 ? STT_EIO : v;
}

long long stt_memcg_current(const stt_memcg *m)
{
    long long v = read_bytes(m->current);
    return v == STT_ENOTFOUND ? STT_EIO : v;
}

long long stt_memcg_peak(const stt_memcg *m)
{
    return read_bytes(m->peak);
}

int stt_memcg_stat_read(const stt_memcg *m, stt_memcg_stat *out)
{
    FILE *f = fopen(m->stat, "r");
    if (!f) return STT_EIO;
    out->anon = out->file = -1;
    int v2 = !strcmp(m->kind, "v2");
    long long rss = -1, huge = 0;
    char key[64];
    long long val;
    while (fscanf(f, "%63s %lld", key, &val) == 2) {
        if (v2 && !strcmp(key, "anon")) out->anon = val;
        if (v2 && !strcmp(key, "file")) out->file = val;
        if (!v2 && !strcmp(key, "rss")) rss = val;
        if (!v2 && !strcmp(key, "rss_huge")) huge = val;
        if (!v2 && !strcmp(key, "cache")) out->file = val;
    }
    fclose(f);
    if (!v2 && rss >= 0) out->anon = rss + huge;
    return 0;
}

/* ---- sampling ---- */

struct stt_memcg_sampler {
    const stt_memcg *m;
    int interval_ms;
    pthread_t thr;
    pthread_mutex_t mu;
    int stop;
    long long phase_max, run_max;
    int samples;
};

static void *sample_loop(void *arg)
{
    stt_memcg_sampler *s = arg;
    struct timespec ts = {.tv_sec = s->interval_ms / 1000,
                          .tv_nsec = (long)(s->interval_ms % 1000) * 1000000L};
    for (;;) {
        long long v = stt_memcg_current(s->m);
        pthread_mutex_lock(&s->mu);
        if (v >= 0) {
            if (v > s->phase_max) s->phase_max = v;
            if (v > s->run_max) s->run_max = v;
            s->samples++;
        }
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) return NULL;
        nanosleep(&ts, NULL);
    }
}

stt_memcg_sampler *stt_memcg_sampler_start(const stt_memcg *m, int interval_ms, char *err,
                                           size_t errlen)
{
    stt_memcg_sampler *s = m && interval_ms >= 1 ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        stt_seterr(err, errlen, STT_EINVAL, "no cgroup, or an interval under 1 ms");
        return NULL;
    }
    s->m = m;
    s->interval_ms = interval_ms;
    s->phase_max = s->run_max = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thr, NULL, sample_loop, s)) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        stt_seterr(err, errlen, STT_EIO, "cannot start the memory sampler");
        return NULL;
    }
    return s;
}

long long stt_memcg_sampler_take(stt_memcg_sampler *s)
{
    pthread_mutex_lock(&s->mu);
    long long v = s->phase_max;
    s->phase_max = -1;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void stt_memcg_sampler_stop(stt_memcg_sampler *s, long long *max, int *samples)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thr, NULL);
    if (max) *max = s->run_max;
    if (samples) *samples = s->samples;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void stt_memcg_free(stt_memcg *m)
{
    if (!m) return;
    /* A cgroup can be removed once its last process is gone; the kernel
     * needs a moment after the final exit. */
    for (int i = 0; i < 100 && rmdir(m->dir) && errno == EBUSY; i++)
        usleep(20 * 1000);
    free(m);
}
