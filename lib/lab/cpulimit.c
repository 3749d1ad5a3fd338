/* cpulimit: CPU restriction of a child by affinity or cgroup quota, and its proof. */
#include "cpulimit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpus.h"
#include "error.h"
#include "proc.h"

struct stt_cpulimit {
    stt_cpulimit_params p;
    cpu_set_t set;                         /* cpuset, cores */
    int cpu[STT_CPULIMIT_MAX_CORES], ncpu; /* the granted CPUs, ascending */
    char cpu_list[256];
    char kind[4];        /* "v1", "v2" or "" */
    char dir[1200];      /* cgroup directory (cores: the tree's) */
    char rel[700];       /* cgroup path of the processes as /proc/PID/cgroup shows it */
    char procs[1300];    /* cgroup.procs the child joins, prepared for the child */
    char self_dir[1024]; /* v2: leaf this process moved itself into */
    int cgroup;          /* quota, or cores below full speed */
    /* cores: the pinned workers */
    int nworkers;
    pid_t worker[STT_CPULIMIT_MAX_CORES];
};

static atomic_int next_id;

stt_cpulimit_params stt_cpulimit_default_params(void)
{
    stt_cpulimit_params p = {0};
    p.mode = STT_CPULIMIT_CPUSET;
    p.cpus = 1;
    p.speed = 1;
    p.period_us = 100000;
    return p;
}

const char *stt_cpulimit_mode_name(stt_cpulimit_mode m)
{
    return m == STT_CPULIMIT_QUOTA ? "quota" : m == STT_CPULIMIT_CORES ? "cores" : "cpuset";
}

static int read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) return STT_EIO;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

/* 0, or STT_EIO with errno saying why. */
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

/* This process's cgroup path for a v1 controller ("cpu") or v2 (ctrl NULL). */
static int own_cgroup(const char *ctrl, char *out, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return STT_EIO;
    char line[4096];
    int found = STT_ENOTFOUND;
    while (found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        if (!c1) continue;
        char *c2 = strchr(c1 + 1, ':');
        if (!c2) continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        if (!ctrl) {
            if (!strcmp(line, "0") && !*ctrls) found = 0;
        } else {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", ctrls);
            for (char *s = NULL, *t = strtok_r(tmp, ",", &s); t; t = strtok_r(NULL, ",", &s))
                if (!strcmp(t, ctrl)) found = 0;
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

/* Fills base (the directory under which to create) and rel (its path as seen in
 * /proc/PID/cgroup); returns "v1", "v2" or NULL with err. */
static const char *detect(char *base, size_t blen, char *rel, size_t rlen, char *err, size_t errlen)
{
    char own[512] = "", path[1400], text[512];
    if (access("/sys/fs/cgroup/cgroup.controllers", R_OK) == 0) {
        if (own_cgroup(NULL, own, sizeof own)) own[0] = '\0';
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.controllers", own);
        if (read_text(path, text, sizeof text) || !strstr(text, "cpu")) {
            stt_seterr(err, errlen, STT_EIO, "cgroup v2: the cpu controller is not available in %s",
                       path);
            return NULL;
        }
        snprintf(base, blen, "/sys/fs/cgroup%s", own);
        snprintf(rel, rlen, "%s", own);
        if (access(base, W_OK)) {
            stt_seterr(err, errlen, STT_EIO, "cgroup v2: %s is not writable (need root)", base);
            return NULL;
        }
        return "v2";
    }
    if (access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", R_OK) == 0) {
        if (own_cgroup("cpu", own, sizeof own)) own[0] = '\0';
        snprintf(base, blen, "/sys/fs/cgroup/cpu%s", own);
        snprintf(rel, rlen, "%s", own);
        if (!is_dir(base)) { /* a cgroup namespace can hide the prefix */
            snprintf(base, blen, "/sys/fs/cgroup/cpu");
            rel[0] = '\0';
        }
        if (access(base, W_OK)) {
            stt_seterr(err, errlen, STT_EIO, "cgroup v1: %s is not writable (need root)", base);
            return NULL;
        }
        return "v1";
    }
    stt_seterr(err, errlen, STT_EIO,
               "no cgroup CPU controller found (neither /sys/fs/cgroup/cgroup.controllers nor "
               "/sys/fs/cgroup/cpu/cpu.cfs_quota_us)");
    return NULL;
}

const char *stt_cpulimit_cgroup_version(char *err, size_t errlen)
{
    char base[1024], rel[512];
    const char *v = detect(base, sizeof base, rel, sizeof rel, err, errlen);
    return v ? v : "none";
}

/* Parses a kernel CPU list ("0-3,6") into a set; 0 or STT_EINVAL. */
static int parse_set(const char *s, cpu_set_t *out)
{
    int cpu[CPU_SETSIZE];
    int n = stt_cpus_parse(s, cpu, CPU_SETSIZE);
    if (n < 0) return n;
    CPU_ZERO(out);
    for (int i = 0; i < n; i++)
        if (cpu[i] < CPU_SETSIZE) CPU_SET(cpu[i], out);
    return 0;
}

/* v2: the cpu controller must be enabled for children of base; a cgroup with
 * processes of its own cannot enable it, so move this process into a leaf first. */
static int v2_enable_cpu(stt_cpulimit *l, const char *base, char *err, size_t errlen)
{
    char path[1400], text[512];
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", base);
    if (read_text(path, text, sizeof text) == 0 && strstr(text, "cpu")) return 0;
    int r = write_text(path, "+cpu");
    if (r && errno == EBUSY) {
        snprintf(l->self_dir, sizeof l->self_dir, "%.900s/sttbench-%ld-self", base, (long)getpid());
        if (mkdir(l->self_dir, 0755) && errno != EEXIST)
            return stt_seterr(err, errlen, STT_EIO, "%s: %s", l->self_dir, strerror(errno));
        snprintf(path, sizeof path, "%s/cgroup.procs", l->self_dir);
        char pid[32];
        snprintf(pid, sizeof pid, "%ld", (long)getpid());
        if ((r = write_text(path, pid)))
            return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", base);
        r = write_text(path, "+cpu");
    }
    if (r) return stt_seterr(err, errlen, STT_EIO, "%s: +cpu: %s", path, strerror(errno));
    return 0;
}

/* Creates the cgroup dir and writes its quota (quota_us per period_us). 0 or
 * STT_EIO with err. */
static int make_cgroup(const char *kind, const char *dir, long quota_us, long period_us, char *err,
                       size_t errlen)
{
    if (mkdir(dir, 0755) && errno != EEXIST)
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", dir, strerror(errno));
    if (quota_us <= 0) return 0;
    char path[1400], a[64], b[64];
    int r;
    if (!strcmp(kind, "v1")) {
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
        snprintf(a, sizeof a, "%ld", period_us);
        r = write_text(path, a);
        if (!r) {
            snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
            snprintf(b, sizeof b, "%ld", quota_us);
            r = write_text(path, b);
        }
    } else {
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        snprintf(a, sizeof a, "%ld %ld", quota_us, period_us);
        r = write_text(path, a);
    }
    if (r) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

/* Reads a cgroup's quota and period back; -1 for none ("max"). */
static void read_quota(const char *kind, const char *dir, long *quota_us, long *period_us)
{
    char path[1400], buf[128];
    *quota_us = *period_us = -1;
    if (!strcmp(kind, "v1")) {
        snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
        if (read_text(path, buf, sizeof buf) == 0) *quota_us = atol(buf);
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
        if (read_text(path, buf, sizeof buf) == 0) *period_us = atol(buf);
    } else {
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        if (read_text(path, buf, sizeof buf) == 0 &&
            sscanf(buf, "%ld %ld", quota_us, period_us) != 2)
            *quota_us = -1; /* "max": no limit */
    }
}

static long quota_of(const stt_cpulimit *l, double cpus)
{
    return (long)(cpus * (double)l->p.period_us + 0.5);
}

/* The CPUs of a cpuset or cores limit: `want` of this process's usable ones
 * (lib/base/cpus.h) from index first_cpu. */
static int pick_cpus(stt_cpulimit *l, int want, char *err, size_t errlen)
{
    int mine[CPU_SETSIZE];
    int n = stt_cpus_allowed(mine, CPU_SETSIZE);
    if (n < 0) return stt_seterr(err, errlen, STT_EIO, "cannot read this process's CPUs");
    if (want > STT_CPULIMIT_MAX_CORES || l->p.first_cpu < 0 || l->p.first_cpu + want > n)
        return stt_seterr(err, errlen, STT_EINVAL, "asked for CPUs %d..%d, only %d usable",
                          l->p.first_cpu, l->p.first_cpu + want - 1, n);
    CPU_ZERO(&l->set);
    for (int i = 0; i < want; i++) {
        l->cpu[i] = mine[l->p.first_cpu + i];
        CPU_SET(l->cpu[i], &l->set);
    }
    l->ncpu = want;
    stt_cpus_format(l->cpu, want, l->cpu_list, sizeof l->cpu_list);
    return 0;
}

stt_cpulimit *stt_cpulimit_create(const stt_cpulimit_params *p, char *err, size_t errlen)
{
    if (!p || !(p->cpus > 0)) {
        stt_seterr(err, errlen, STT_EINVAL, "cpus must be > 0");
        return NULL;
    }
    if (p->mode == STT_CPULIMIT_CORES && !(p->speed > 0 && p->speed <= 1)) {
        stt_seterr(err, errlen, STT_EINVAL, "a core's speed must be in (0, 1], got %g", p->speed);
        return NULL;
    }
    stt_cpulimit *l = calloc(1, sizeof *l);
    if (!l) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    l->p = *p;
    if (l->p.period_us <= 0) l->p.period_us = 100000;
    if (p->mode != STT_CPULIMIT_CORES) l->p.speed = 1;
    if (p->mode != STT_CPULIMIT_QUOTA) {
        int want = (int)p->cpus;
        if (want != p->cpus) {
            stt_seterr(err, errlen, STT_EINVAL, "%s needs a whole number of CPUs, got %g",
                       stt_cpulimit_mode_name(p->mode), p->cpus);
            free(l);
            return NULL;
        }
        if (pick_cpus(l, want, err, errlen)) {
            free(l);
            return NULL;
        }
        if (p->mode == STT_CPULIMIT_CPUSET || l->p.speed >= 1) return l;
    }
    l->cgroup = 1;
    char base[1024], rel[512];
    const char *v = detect(base, sizeof base, rel, sizeof rel, err, errlen);
    if (!v) {
        free(l);
        return NULL;
    }
    snprintf(l->kind, sizeof l->kind, "%s", v);
    if (!strcmp(v, "v2") && v2_enable_cpu(l, base, err, errlen)) {
        stt_cpulimit_free(l);
        return NULL;
    }
    char name[128];
    if (p->name)
        snprintf(name, sizeof name, "%s", p->name);
    else
        snprintf(name, sizeof name, "sttbench-%ld-%d", (long)getpid(),
                 atomic_fetch_add(&next_id, 1));
    snprintf(l->dir, sizeof l->dir, "%s/%s", base, name);
    double total = p->mode == STT_CPULIMIT_CORES ? p->cpus * l->p.speed : p->cpus;
    if (make_cgroup(v, l->dir, quota_of(l, total), l->p.period_us, err, errlen)) {
        if (access(l->dir, F_OK)) l->dir[0] = '\0'; /* nothing to remove */
        stt_cpulimit_free(l);
        return NULL;
    }
    if (p->mode == STT_CPULIMIT_QUOTA) {
        snprintf(l->rel, sizeof l->rel, "%s/%s", rel, name);
        snprintf(l->procs, sizeof l->procs, "%s/cgroup.procs", l->dir);
        return l;
    }
    /* cores: the tree's own processes in a leaf "main" (cgroup v2 lets no
     * process sit in a cgroup that delegates cpu to children), each worker
     * later in its own "core<i>". */
    char path[1400];
    if (!strcmp(v, "v2")) {
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", l->dir);
        if (write_text(path, "+cpu")) {
            stt_seterr(err, errlen, STT_EIO, "%s: +cpu: %s", path, strerror(errno));
            stt_cpulimit_free(l);
            return NULL;
        }
    }
    snprintf(path, sizeof path, "%s/main", l->dir);
    if (make_cgroup(v, path, 0, 0, err, errlen)) {
        stt_cpulimit_free(l);
        return NULL;
    }
    snprintf(l->rel, sizeof l->rel, "%s/%s/main", rel, name);
    snprintf(l->procs, sizeof l->procs, "%s/main/cgroup.procs", l->dir);
    return l;
}

int stt_cpulimit_apply_child(const stt_cpulimit *l)
{
    if (l->p.mode != STT_CPULIMIT_QUOTA && sched_setaffinity(0, sizeof l->set, &l->set))
        return STT_EIO;
    if (!l->cgroup) return 0;
    /* Only async-signal-safe calls here: format the pid by hand. */
    char buf[24];
    int k = (int)sizeof buf;
    long v = (long)getpid();
    buf[--k] = '\0';
    do {
        buf[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k > 0);
    int fd = open(l->procs, O_WRONLY);
    if (fd < 0) return STT_EIO;
    ssize_t n = write(fd, buf + k, strlen(buf + k));
    close(fd);
    return n < 0 ? STT_EIO : 0;
}

int stt_cpulimit_apply_pid(const stt_cpulimit *l, pid_t pid, char *err, size_t errlen)
{
    if (l->p.mode != STT_CPULIMIT_QUOTA && sched_setaffinity(pid, sizeof l->set, &l->set))
        return stt_seterr(err, errlen, STT_EIO, "sched_setaffinity(%ld): %s", (long)pid,
                          strerror(errno));
    if (!l->cgroup) return 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", (long)pid);
    int r = write_text(l->procs, buf);
    if (r) return stt_seterr(err, errlen, STT_EIO, "%s: %s", l->procs, strerror(errno));
    return 0;
}

stt_cpulimit_mode stt_cpulimit_mode_of(const stt_cpulimit *l)
{
    return l->p.mode;
}

double stt_cpulimit_cpus(const stt_cpulimit *l)
{
    return l->p.cpus;
}

double stt_cpulimit_speed(const stt_cpulimit *l)
{
    return l->p.speed;
}

long stt_cpulimit_period_us(const stt_cpulimit *l)
{
    return l->p.period_us;
}

/* Pins every thread of pid to one CPU. */
static int pin_all_threads(pid_t pid, int cpu, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    if (!d) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    int rc = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        pid_t tid = (pid_t)atol(e->d_name);
        if (sched_setaffinity(tid, sizeof one, &one) && errno != ESRCH && !rc)
            rc = stt_seterr(err, errlen, STT_EIO, "sched_setaffinity(%ld, CPU %d): %s", (long)tid,
                            cpu, strerror(errno));
        n++;
    }
    closedir(d);
    if (!rc && !n) rc = stt_seterr(err, errlen, STT_EIO, "process %ld has no threads", (long)pid);
    return rc;
}

int stt_cpulimit_pin_workers(stt_cpulimit *l, const pid_t *pids, int n, char *err, size_t errlen)
{
    if (l->p.mode != STT_CPULIMIT_CORES || n < 0 || n > l->ncpu || l->nworkers)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "pinning %d workers needs a fresh cores limit of at least as many", n);
    for (int i = 0; i < n; i++) {
        int rc = pin_all_threads(pids[i], l->cpu[i], err, errlen);
        if (rc) return rc;
        l->worker[l->nworkers++] = pids[i];
        if (!l->cgroup) continue;
        char dir[1300], procs[1400], buf[32];
        snprintf(dir, sizeof dir, "%s/core%d", l->dir, i);
        if ((rc = make_cgroup(l->kind, dir, quota_of(l, l->p.speed), l->p.period_us, err, errlen)))
            return rc;
        snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
        snprintf(buf, sizeof buf, "%ld", (long)pids[i]);
        if (write_text(procs, buf))
            return stt_seterr(err, errlen, STT_EIO, "%s: %s", procs, strerror(errno));
    }
    return 0;
}

const char *stt_cpulimit_cpu_list(const stt_cpulimit *l)
{
    return l->cpu_list;
}

const char *stt_cpulimit_cgroup_path(const stt_cpulimit *l)
{
    return l->dir;
}

const char *stt_cpulimit_cgroup_kind(const stt_cpulimit *l)
{
    return l->kind;
}

/* 1 when pid's cgroup (for the limit's hierarchy) is rel, 0 if not. */
static int member_of(const stt_cpulimit *l, pid_t pid, const char *rel)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
    if (read_text(path, buf, sizeof buf)) return 0;
    for (char *s = NULL, *line = strtok_r(buf, "\n", &s); line; line = strtok_r(NULL, "\n", &s)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        int match = 0;
        if (!strcmp(l->kind, "v2")) {
            match = !strcmp(line, "0") && !c1[1];
        } else {
            char *ctl = c1 + 1;
            for (char *s2 = NULL, *t = strtok_r(ctl, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
                if (!strcmp(t, "cpu")) match = 1;
        }
        if (match) return !strcmp(c2 + 1, rel);
    }
    return 0;
}

/* cores: the index of pid among the pinned workers, or -1. */
static int worker_index(const stt_cpulimit *l, pid_t pid)
{
    for (int i = 0; i < l->nworkers; i++)
        if (l->worker[i] == pid) return i;
    return -1;
}

static void fail(stt_cpulimit_evidence *ev, const char *fmt, const char *a, long b, const char *c)
{
    if (ev->ok) snprintf(ev->reason, sizeof ev->reason, fmt, a, b, c);
    ev->ok = 0;
}

int stt_cpulimit_verify(const stt_cpulimit *l, pid_t root, stt_cpulimit_evidence *ev, char *err,
                        size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    ev->quota_us = ev->period_us = -1;
    pid_t pids[STT_CPULIMIT_MAX_PROCS];
    int n = stt_proc_tree(root, pids, STT_CPULIMIT_MAX_PROCS);
    if (n == 0) return stt_seterr(err, errlen, STT_ENOTFOUND, "process %ld not found", (long)root);
    ev->ok = 1;
    int cores = l->p.mode == STT_CPULIMIT_CORES;
    for (int i = 0; i < n; i++) {
        stt_cpulimit_proc *pr = &ev->procs[ev->nprocs];
        char path[64], buf[8192];
        pr->pid = pids[i];
        pr->cgroup_member = -1;
        pr->core = cores ? worker_index(l, pids[i]) : -1;
        snprintf(path, sizeof path, "/proc/%ld/status", (long)pids[i]);
        if (read_text(path, buf, sizeof buf)) continue; /* exited meanwhile */
        ev->nprocs++;
        const char *name = strstr(buf, "Name:\t"), *cal = strstr(buf, "Cpus_allowed_list:\t");
        if (name) sscanf(name + 6, "%31[^\n]", pr->comm);
        if (cal) sscanf(cal + 19, "%127[^\n]", pr->cpus_allowed_list);
        if (l->p.mode != STT_CPULIMIT_QUOTA) {
            cpu_set_t got, want = l->set;
            if (pr->core >= 0) {
                CPU_ZERO(&want);
                CPU_SET(l->cpu[pr->core], &want);
            }
            if (!cal || parse_set(pr->cpus_allowed_list, &got) || !CPU_EQUAL(&got, &want))
                fail(ev, "process %s (pid %ld) may run on CPUs %s", pr->comm, (long)pr->pid,
                     pr->cpus_allowed_list);
        }
        if (!l->cgroup) continue;
        char rel[800];
        if (pr->core >= 0) {
            size_t k = strlen(l->rel) - strlen("/main");
            snprintf(rel, sizeof rel, "%.*s/core%d", (int)k, l->rel, pr->core);
        } else {
            snprintf(rel, sizeof rel, "%s", l->rel);
        }
        pr->cgroup_member = member_of(l, pids[i], rel);
        if (!pr->cgroup_member)
            fail(ev, "process %s (pid %ld) is not in cgroup %.400s", pr->comm, (long)pr->pid, rel);
    }
    if (!l->cgroup && ev->ok && ev->nprocs == 0)
        fail(ev, "%sno process of pid %ld readable%s", "", root, "");
    if (cores) {
        for (int i = 0; i < l->nworkers; i++) {
            stt_cpulimit_core *c = &ev->cores[ev->ncores++];
            c->pid = l->worker[i];
            c->cpu = l->cpu[i];
            c->quota_us = c->period_us = -1;
            int seen = 0;
            for (int k = 0; k < ev->nprocs; k++)
                seen += ev->procs[k].pid == c->pid;
            if (!seen)
                fail(ev, "pinned worker %s(pid %ld) is no longer in the tree%s", "", (long)c->pid,
                     "");
            if (!l->cgroup) continue;
            char dir[1300];
            snprintf(dir, sizeof dir, "%s/core%d", l->dir, i);
            read_quota(l->kind, dir, &c->quota_us, &c->period_us);
            if (c->quota_us != quota_of(l, l->p.speed) || c->period_us != l->p.period_us)
                fail(ev, "core cgroup %.400s quota reads back wrong (%ld us)%s", dir, c->quota_us,
                     "");
        }
    }
    if (!l->cgroup) return 0;
    read_quota(l->kind, l->dir, &ev->quota_us, &ev->period_us);
    long want = quota_of(l, cores ? l->p.cpus * l->p.speed : l->p.cpus);
    if (ev->quota_us != want || ev->period_us != l->p.period_us)
        fail(ev, "cgroup %.400s quota reads back wrong (%ld us)%s", l->dir, ev->quota_us, "");
    return 0;
}

static int read_stat(const char *dir, stt_cpulimit_throttling *out, char *err, size_t errlen)
{
    char path[1400], buf[2048];
    snprintf(path, sizeof path, "%s/cpu.stat", dir);
    if (read_text(path, buf, sizeof buf))
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    for (char *s = NULL, *line = strtok_r(buf, "\n", &s); line; line = strtok_r(NULL, "\n", &s)) {
        char key[64];
        long long v;
        if (sscanf(line, "%63s %lld", key, &v) != 2) continue;
        if (!strcmp(key, "nr_periods")) out->nr_periods += v;
        if (!strcmp(key, "nr_throttled")) out->nr_throttled += v;
        if (!strcmp(key, "throttled_time")) out->throttled_s += (double)v / 1e9; /* v1: ns */
        if (!strcmp(key, "throttled_usec")) out->throttled_s += (double)v / 1e6; /* v2 */
    }
    return 0;
}

int stt_cpulimit_throttling_read(const stt_cpulimit *l, stt_cpulimit_throttling *out, char *err,
                                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!l->cgroup) return stt_seterr(err, errlen, STT_EINVAL, "not a limit with a cgroup");
    if (l->p.mode == STT_CPULIMIT_QUOTA) return read_stat(l->dir, out, err, errlen);
    for (int i = 0; i < l->nworkers; i++) {
        char dir[1300];
        snprintf(dir, sizeof dir, "%s/core%d", l->dir, i);
        int rc = read_stat(dir, out, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

/* rmdir, waiting up to 2 s: a cgroup can be removed only once its last
 * process has gone, and exiting processes leave it a moment after they are
 * reaped. */
static void remove_cgroup(const char *dir)
{
    for (int i = 0; i < 200 && rmdir(dir) && errno == EBUSY; i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
}

void stt_cpulimit_free(stt_cpulimit *l)
{
    if (!l) return;
    if (l->dir[0] && l->p.mode == STT_CPULIMIT_CORES) {
        char dir[1300];
        for (int i = 0; i < l->nworkers; i++) {
            snprintf(dir, sizeof dir, "%s/core%d", l->dir, i);
            remove_cgroup(dir);
        }
        snprintf(dir, sizeof dir, "%s/main", l->dir);
        remove_cgroup(dir);
    }
    if (l->dir[0]) remove_cgroup(l->dir);
    /* The v2 leaf this process moved into (self_dir) stays: the parent now
     * delegates cpu and may not hold processes itself. */
    free(l);
}
