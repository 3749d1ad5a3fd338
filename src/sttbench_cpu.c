/* sttbench cpu: a cores x threads grid of a server under proven CPU
 * restrictions, scaling-law fits, pod shapes, and a side-by-side comparison
 * of two machines. See docs/CPU.md. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "corpus.h"
#include "cpulimit.h"
#include "error.h"
#include "fit.h"
#include "loadgen.h"
#include "server.h"
#include "sttbench.h"
#include "sttbench_common.h"
#include "sysinfo.h"

#define MAXV 16
#define MAXPTS 512
#define MAXREPLICAS 64 /* replicas of one pod shape */
#define DEFAULT_CMD "{bin}/sttd --port {port} --workers {workers} --threads {threads} --quiet"

enum { ROLE_SHORT, ROLE_MEDIUM, ROLE_LONG, NROLES };
static const char *const role_name[NROLES] = {"short", "medium", "long"};

typedef struct config {
    const char *server_cmd, *corpus, *out;
    int cores[MAXV], ncores;
    int modes[2], nmodes; /* stt_cpulimit_mode values */
    int threads[MAXV], nthreads;
    int workers[MAXV], nworkers; /* 0: workers = cores */
    int quick, shapes, repeat;
    double duration;
    const char *cmp_a, *cmp_b;
    double price;
} config;

typedef struct file {
    const stt_corpus_entry *e;
    unsigned char *data;
    size_t len;
} file;

typedef struct lat {
    int n;
    double med, min, max;
} lat;

typedef struct point {
    int mode, cores, threads, workers;
    const char *status;
    char reason[600];
    json_t *verification; /* owned */
    lat latency[NROLES];
    int have_thr;
    double thr, thr_rel_se, rps, p50, p95, thr_dur;
    long long completed, ok, errors;
    int stable, concurrency;
    double cpu_s, wall_s, util;
    long long peak_pss, peak_rss;
    int quota;
    stt_cpulimit_throttling th;
} point;

static json_t *jpair(double a, double b)
{
    if (!isfinite(a) || !isfinite(b)) return json_null();
    return json_pack("[o, o]", bench_jnum(a), bench_jnum(b));
}

static const char *mode_name(int m)
{
    return m == STT_CPULIMIT_QUOTA ? "quota" : "cpuset";
}

static int tty;
static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (tty) {
        fprintf(stderr, "\r\033[K");
        vfprintf(stderr, fmt, ap);
    } else {
        vfprintf(stdout, fmt, ap);
        fputc('\n', stdout);
        fflush(stdout);
    }
    va_end(ap);
}

static int parse_list(const char *s, int *out, int max)
{
    int n = 0;
    char *end;
    while (*s && n < max) {
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > 4096) return -1;
        out[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

static void print_usage(FILE *f)
{
    fprintf(f, "usage: sttbench cpu [options]\n"
               "       sttbench cpu --compare A.json B.json [--price-core-hour P]\n"
               "\n"
               "Starts the server once per grid point (mode x cores x workers x threads) under a\n"
               "CPU restriction, proves the restriction took effect (affinity or cgroup quota of\n"
               "every process of the tree, the server's /metrics), then measures single-request\n"
               "latency (short, medium, long file; median of --repeat), saturated throughput\n"
               "(closed loop, concurrency 2 x workers), CPU use, peak PSS and throttling. Fits\n"
               "Amdahl and USL, writes DIR/cpu.json, DIR/cpu_scaling_report.md and charts.\n"
               "\n"
               "  --server-cmd T   command template (default \"" DEFAULT_CMD "\")\n"
               "                   {bin} = this program's directory; {port} {workers} {threads}\n"
               "  --cores LIST     core counts (default: powers of two up to the usable CPUs)\n"
               "  --mode M         cpuset, quota or cpuset,quota (default)\n"
               "  --threads LIST   threads per request (default: powers of two up to cores)\n"
               "  --workers LIST   workers (default: = cores at each point)\n"
               "  --corpus DIR     corpus from `sttbench corpus` (default corpus)\n"
               "  --repeat N       single requests per file, N >= 3 (3)\n"
               "  --duration S     seconds of saturated load per point (30; --quick 10)\n"
               "  --quick          short and ~28 s files only, 10 s of load\n"
               "  --no-shapes      skip the pod-shape comparison (haproxy)\n"
               "  --out DIR        output directory (default results/cpu)\n"
               "  --compare A B    compare two cpu.json files (two machines)\n"
               "  --price-core-hour P   price of one core-hour for --compare (0.04)\n");
}

/* Says which option value is refused and why; returns -2, parse_args()'s
 * "usage error, already explained". */
static int bad_value(const char *opt, const char *v, const char *want)
{
    fprintf(stderr, "sttbench cpu: bad value for --%s: '%s' (%s)\n", opt, v, want);
    return -2;
}

/* Returns 0, 1 after --help, -1 for a usage error, -2 for a bad option value
 * (already reported). */
static int parse_args(int argc, char **argv, config *c)
{
    memset(c, 0, sizeof *c);
    c->server_cmd = DEFAULT_CMD;
    c->corpus = "corpus";
    c->out = "results/cpu";
    c->repeat = 3;
    c->shapes = 1;
    c->price = 0.04;
    c->duration = NAN;
    c->modes[0] = STT_CPULIMIT_CPUSET;
    c->modes[1] = STT_CPULIMIT_QUOTA;
    c->nmodes = 2;
    static const struct option opts[] = {{"server-cmd", 1, 0, 's'},
                                         {"cores", 1, 0, 'c'},
                                         {"mode", 1, 0, 'm'},
                                         {"threads", 1, 0, 't'},
                                         {"workers", 1, 0, 'w'},
                                         {"corpus", 1, 0, 'C'},
                                         {"quick", 0, 0, 'q'},
                                         {"duration", 1, 0, 'd'},
                                         {"out", 1, 0, 'o'},
                                         {"compare", 1, 0, 'x'},
                                         {"price-core-hour", 1, 0, 'p'},
                                         {"repeat", 1, 0, 'r'},
                                         {"no-shapes", 0, 0, 'S'},
                                         {"shapes", 0, 0, 'H'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            c->server_cmd = optarg;
            break;
        case 'c':
            c->ncores = parse_list(optarg, c->cores, MAXV);
            if (c->ncores <= 0) return bad_value("cores", optarg, "a list of counts >= 1");
            for (int i = 0; i < c->ncores; i++)
                if (c->cores[i] < 1) return bad_value("cores", optarg, "a list of counts >= 1");
            break;
        case 't':
            c->nthreads = parse_list(optarg, c->threads, MAXV);
            if (c->nthreads <= 0) return bad_value("threads", optarg, "a list of counts");
            break;
        case 'w':
            c->nworkers = parse_list(optarg, c->workers, MAXV);
            if (c->nworkers <= 0) return bad_value("workers", optarg, "a list of counts");
            break;
        case 'm':
            c->nmodes = 0;
            if (strstr(optarg, "cpuset")) c->modes[c->nmodes++] = STT_CPULIMIT_CPUSET;
            if (strstr(optarg, "quota")) c->modes[c->nmodes++] = STT_CPULIMIT_QUOTA;
            if (!c->nmodes) return bad_value("mode", optarg, "cpuset, quota or cpuset,quota");
            break;
        case 'C':
            c->corpus = optarg;
            break;
        case 'q':
            c->quick = 1;
            break;
        case 'd':
            if (bench_parse_double(optarg, &c->duration, 2) || !isfinite(c->duration))
                return bad_value("duration", optarg, "seconds, at least 2");
            break;
        case 'o':
            c->out = optarg;
            break;
        case 'x':
            c->cmp_a = optarg;
            if (optind >= argc) return -1;
            c->cmp_b = argv[optind++];
            break;
        case 'p':
            if (bench_parse_double(optarg, &c->price, 0) || !isfinite(c->price))
                return bad_value("price-core-hour", optarg, "a price >= 0");
            break;
        case 'r':
            if (bench_parse_int(optarg, 3, 1000, &c->repeat))
                return bad_value("repeat", optarg, "a count from 3 to 1000");
            break;
        case 'S':
            c->shapes = 0;
            break;
        case 'H':
            c->shapes = 1;
            break;
        case 'h':
            print_usage(stdout);
            return 1;
        default:
            return -1;
        }
    }
    if (optind < argc) return -1;
    if (!isfinite(c->duration)) c->duration = c->quick ? 10 : 30;
    if (!c->ncores) {
        cpu_set_t set;
        int usable = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
        for (int n = 1; n <= usable && c->ncores < MAXV; n *= 2)
            c->cores[c->ncores++] = n;
    }
    return 0;
}

/* ---- measuring ---- */

static int load_file(const char *dir, const stt_corpus_entry *e, file *f)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, e->file);
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    f->e = e;
    f->data = malloc((size_t)e->bytes + 1);
    f->len = f->data ? fread(f->data, 1, (size_t)e->bytes, fp) : 0;
    fclose(fp);
    return f->len == (size_t)e->bytes ? 0 : -1;
}

static stt_load_params load_params(const char *url, stt_load_body *b)
{
    stt_load_params lp = stt_load_default_params();
    lp.url = url;
    lp.bodies = b;
    lp.nbodies = 1;
    lp.timeout_s = 900;
    lp.threads = 1;
    return lp;
}

static stt_load_body body_of(const file *f)
{
    stt_load_body b = {f->e->file, "audio/wav", f->data, f->len, f->e->duration_s, 1};
    return b;
}

/* Median of n single requests, one at a time. */
static int single_latency(const char *url, const file *f, int n, lat *out, char *err, size_t errlen)
{
    stt_load_body b = body_of(f);
    stt_load_params lp = load_params(url, &b);
    stt_load_step st = {0};
    st.mode = STT_LOAD_CLOSED;
    st.concurrency = 1;
    st.requests = n;
    stt_load_result r;
    int rc = stt_load_run_step(&lp, &st, &r, err, errlen);
    if (rc) return rc;
    out->n = (int)stt_histogram_count(r.latency);
    out->med = stt_histogram_percentile(r.latency, 50) / 1e6;
    out->min = stt_histogram_min(r.latency) / 1e6;
    out->max = stt_histogram_max(r.latency) / 1e6;
    int bad = r.ok < (uint64_t)n;
    stt_load_result_free(&r);
    if (bad)
        return stt_seterr(err, errlen, STT_EIO, "%s: only %d of %d requests succeeded", f->e->file,
                          out->n, n);
    return 0;
}

typedef struct thr {
    double audio_s_per_s, rel_se, rps, p50, p95, elapsed;
    long long completed, ok, errors;
    int stable;
} thr;

static int saturate(const char *url, const file *f, int conc, double dur, thr *t, char *err,
                    size_t errlen)
{
    stt_load_body b = body_of(f);
    stt_load_params lp = load_params(url, &b);
    lp.threads = conc > 8 ? 2 : 1;
    stt_load_step st = {0};
    st.mode = STT_LOAD_CLOSED;
    st.concurrency = conc;
    st.duration_s = dur;
    st.warmup_s = fmin(3.0, dur / 4);
    stt_load_result r;
    int rc = stt_load_run_step(&lp, &st, &r, err, errlen);
    if (rc) return rc;
    t->audio_s_per_s = r.audio_s_per_s;
    t->rps = r.ok_rps;
    t->p50 = stt_histogram_percentile(r.latency, 50) / 1e6;
    t->p95 = stt_histogram_percentile(r.latency, 95) / 1e6;
    t->completed = (long long)r.completed;
    t->ok = (long long)r.ok;
    t->errors = (long long)(r.completed - r.ok);
    t->stable = r.stable;
    t->elapsed = r.elapsed_s;
    /* Relative standard error of the throughput from its windows. */
    double m = 0, v = 0;
    for (int i = 0; i < r.nwindows; i++)
        m += r.window_rps[i] / r.nwindows;
    for (int i = 0; i < r.nwindows; i++)
        v += (r.window_rps[i] - m) * (r.window_rps[i] - m);
    t->rel_se = r.nwindows > 1 && m > 0 ? sqrt(v / (r.nwindows - 1) / r.nwindows) / m : NAN;
    stt_load_result_free(&r);
    return 0;
}

static void add_check(json_t *checks, int *ok, const char *what, const char *expected,
                      const char *observed, int good)
{
    json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:b}", "what", what, "expected",
                                            expected, "observed", observed, "ok", good));
    if (!good) *ok = 0;
}

/* Runs `{bin}/sttd --help` under the same limit and reads how many CPUs sttd
 * itself computes as usable: the service's own view of the restriction. */
static int sttd_usable_under(const stt_cpulimit *l)
{
    char dir[PATH_MAX], bin[PATH_MAX + 8];
    stt_sut_exe_dir(dir, sizeof dir);
    snprintf(bin, sizeof bin, "%s/sttd", dir);
    int fds[2];
    if (access(bin, X_OK) || pipe(fds)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (stt_cpulimit_apply_child(l)) _exit(126);
        dup2(fds[1], 1);
        close(fds[0]);
        execl(bin, bin, "--help", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[8192];
    size_t n = 0;
    ssize_t k;
    while (pid > 0 && n < sizeof buf - 1 && (k = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    close(fds[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
    const char *p = strstr(buf, "usable CPUs = ");
    return p ? atoi(p + 14) : -1;
}

/* Proves the restriction: the tree's affinity or cgroup, the quota, the
 * server's own gauges, and sttd's own count of usable CPUs. */
static json_t *verify(const stt_cpulimit *l, stt_sut *s, const point *pt, int sttd, int *ok,
                      char *reason, size_t rlen)
{
    json_t *v = json_object(), *checks = json_array(), *procs = json_array();
    char err[512] = "", exp[128], obs[600];
    *ok = 1;
    stt_cpulimit_evidence *ev = malloc(sizeof *ev);
    if (!ev || stt_cpulimit_verify(l, stt_sut_pid(s), ev, err, sizeof err)) {
        add_check(checks, ok, "process tree readable", "yes", err[0] ? err : "out of memory", 0);
    } else {
        int good = 0;
        for (int i = 0; i < ev->nprocs; i++) {
            const stt_cpulimit_proc *p = &ev->procs[i];
            good += pt->mode == STT_CPULIMIT_CPUSET
                        ? !strcmp(p->cpus_allowed_list, stt_cpulimit_cpu_list(l))
                        : p->cgroup_member == 1;
            json_array_append_new(
                procs,
                json_pack("{s:i, s:s, s:s, s:o}", "pid", (int)p->pid, "comm", p->comm,
                          "cpus_allowed_list", p->cpus_allowed_list, "cgroup_member",
                          p->cgroup_member < 0 ? json_null() : json_boolean(p->cgroup_member)));
        }
        if (pt->mode == STT_CPULIMIT_CPUSET)
            snprintf(exp, sizeof exp, "Cpus_allowed_list %s for all", stt_cpulimit_cpu_list(l));
        else
            snprintf(exp, sizeof exp, "all in %s", stt_cpulimit_cgroup_path(l));
        snprintf(obs, sizeof obs, "%d of %d processes%s%s", good, ev->nprocs, ev->ok ? "" : "; ",
                 ev->ok ? "" : ev->reason);
        add_check(checks, ok,
                  pt->mode == STT_CPULIMIT_CPUSET ? "affinity of every process"
                                                  : "cgroup membership of every "
                                                    "process",
                  exp, obs, ev->ok && good == ev->nprocs && ev->nprocs > 0);
        if (pt->mode == STT_CPULIMIT_QUOTA) {
            long want = (long)(pt->cores * 100000.0 + 0.5);
            snprintf(exp, sizeof exp, "%ld/100000", want);
            snprintf(obs, sizeof obs, "%ld/%ld", ev->quota_us, ev->period_us);
            add_check(checks, ok, "cgroup quota/period (us)", exp, obs,
                      ev->quota_us == want && ev->period_us == 100000);
            json_object_set_new(
                v, "cgroup",
                json_pack("{s:s, s:s, s:I, s:I}", "version", stt_cpulimit_cgroup_kind(l), "path",
                          stt_cpulimit_cgroup_path(l), "quota_us", (json_int_t)ev->quota_us,
                          "period_us", (json_int_t)ev->period_us));
        } else {
            json_object_set_new(v, "cgroup", json_null());
        }
    }
    free(ev);
    char *m = NULL;
    int st = stt_sut_get(s, "/metrics", &m, 10);
    double w = st == 200 ? stt_sut_metric(m, "sttd_workers") : NAN;
    double t = st == 200 ? stt_sut_metric(m, "sttd_threads_per_request") : NAN;
    free(m);
    if (isfinite(w) || sttd) {
        snprintf(exp, sizeof exp, "%d", pt->workers);
        if (isfinite(w))
            snprintf(obs, sizeof obs, "%.0f", w);
        else
            snprintf(obs, sizeof obs, "absent (HTTP %d)", st);
        add_check(checks, ok, "server gauge sttd_workers", exp, obs, w == pt->workers);
        snprintf(exp, sizeof exp, "%d", pt->threads);
        if (isfinite(t))
            snprintf(obs, sizeof obs, "%.0f", t);
        else
            snprintf(obs, sizeof obs, "absent");
        add_check(checks, ok, "server gauge sttd_threads_per_request", exp, obs, t == pt->threads);
    }
    if (sttd) {
        int u = sttd_usable_under(l);
        snprintf(exp, sizeof exp, "%d", pt->cores);
        snprintf(obs, sizeof obs, "%d", u);
        add_check(checks, ok, "usable CPUs sttd computes under the same limit", exp, obs,
                  u == pt->cores);
    }
    json_object_set_new(v, "processes", procs);
    json_object_set_new(v, "metrics",
                        json_pack("{s:o, s:o}", "sttd_workers", bench_jnum(w),
                                  "sttd_threads_per_request", bench_jnum(t)));
    json_object_set_new(v, "checks", checks);
    reason[0] = 0;
    for (size_t i = 0; i < json_array_size(checks); i++) {
        json_t *ck = json_array_get(checks, i);
        if (!json_is_true(json_object_get(ck, "ok"))) {
            snprintf(reason, rlen, "%s: expected %s, observed %s",
                     json_string_value(json_object_get(ck, "what")),
                     json_string_value(json_object_get(ck, "expected")),
                     json_string_value(json_object_get(ck, "observed")));
            break;
        }
    }
    return v;
}

static void run_point(const config *c, point *pt, const file *files, const int *roles, int nroles,
                      const file *tfile, int sttd)
{
    char err[600] = "", log[PATH_MAX];
    pt->status = "failed";
    stt_cpulimit_params lp = stt_cpulimit_default_params();
    lp.mode = (stt_cpulimit_mode)pt->mode;
    lp.cpus = pt->cores;
    stt_cpulimit *l = stt_cpulimit_create(&lp, err, sizeof err);
    if (!l) {
        pt->status = "refused";
        snprintf(pt->reason, sizeof pt->reason, "restriction could not be set: %.500s", err);
        return;
    }
    snprintf(log, sizeof log, "%s/server_%s_c%d_w%d_t%d.log", c->out, mode_name(pt->mode),
             pt->cores, pt->workers, pt->threads);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = c->server_cmd;
    sp.workers = pt->workers;
    sp.threads = pt->threads;
    sp.log_path = log;
    sp.limit = l;
    stt_sut *s = stt_sut_start(&sp, err, sizeof err);
    if (!s) {
        snprintf(pt->reason, sizeof pt->reason, "%s", err);
        stt_cpulimit_free(l);
        return;
    }
    int ok;
    pt->verification = verify(l, s, pt, sttd, &ok, pt->reason, sizeof pt->reason);
    json_object_set_new(pt->verification, "ok", json_boolean(ok));
    if (!ok) {
        pt->status = "refused";
        goto out;
    }
    char url[256];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", stt_sut_url(s));
    stt_memsampler *ms = stt_memsampler_start(stt_sut_pid(s), 100, NULL, 0);
    lat warm;
    /* The first request pays for lazy set-up; not measured. */
    if (single_latency(url, tfile, 1, &warm, err, sizeof err)) {
        snprintf(pt->reason, sizeof pt->reason, "warm-up request failed: %.500s", err);
        goto stop_sampler;
    }
    for (int i = 0; i < nroles; i++) {
        progress("%s %d core(s), %d workers, %d threads: %s file x%d", mode_name(pt->mode),
                 pt->cores, pt->workers, pt->threads, role_name[roles[i]], c->repeat);
        if (single_latency(url, &files[roles[i]], c->repeat, &pt->latency[roles[i]], err,
                           sizeof err)) {
            snprintf(pt->reason, sizeof pt->reason, "%s", err);
            goto stop_sampler;
        }
    }
    progress("%s %d core(s), %d workers, %d threads: saturated load %.0f s", mode_name(pt->mode),
             pt->cores, pt->workers, pt->threads, c->duration);
    stt_cpulimit_throttling th0 = {0}, th1 = {0};
    pt->quota = pt->mode == STT_CPULIMIT_QUOTA;
    if (pt->quota) stt_cpulimit_throttling_read(l, &th0, NULL, 0);
    double cpu0 = stt_proc_tree_cpu_s(stt_sut_pid(s)), t0 = bench_now_s();
    thr t;
    pt->concurrency = 2 * pt->workers;
    int rc = saturate(url, tfile, pt->concurrency, c->duration, &t, err, sizeof err);
    pt->wall_s = bench_now_s() - t0;
    pt->cpu_s = stt_proc_tree_cpu_s(stt_sut_pid(s)) - cpu0;
    pt->util = pt->cpu_s / pt->wall_s / pt->cores;
    if (pt->quota) {
        stt_cpulimit_throttling_read(l, &th1, NULL, 0);
        pt->th.nr_periods = th1.nr_periods - th0.nr_periods;
        pt->th.nr_throttled = th1.nr_throttled - th0.nr_throttled;
        pt->th.throttled_s = th1.throttled_s - th0.throttled_s;
    }
    if (rc) {
        snprintf(pt->reason, sizeof pt->reason, "load: %.500s", err);
        goto stop_sampler;
    }
    pt->have_thr = 1;
    pt->thr = t.audio_s_per_s;
    pt->thr_rel_se = t.rel_se;
    pt->rps = t.rps;
    pt->p50 = t.p50;
    pt->p95 = t.p95;
    pt->thr_dur = t.elapsed;
    pt->completed = t.completed;
    pt->ok = t.ok;
    pt->errors = t.errors;
    pt->stable = t.stable;
    /* Measured proof: a tree that used more CPU than granted was not restricted. */
    json_t *checks = json_object_get(pt->verification, "checks");
    char obs[64];
    snprintf(obs, sizeof obs, "%.3f of %d CPU(s)", pt->util, pt->cores);
    int uok = 1;
    add_check(checks, &uok, "CPU used under saturation <= granted (+10%)", "<= 1.10", obs,
              pt->util <= 1.10);
    if (!uok) {
        json_object_set_new(pt->verification, "ok", json_false());
        pt->status = "refused";
        snprintf(pt->reason, sizeof pt->reason, "server tree used %.2f x the granted CPUs",
                 pt->util);
        goto stop_sampler;
    }
    pt->status = t.ok > 0 ? "ok" : "failed";
    if (!t.ok) snprintf(pt->reason, sizeof pt->reason, "no request succeeded under load");
stop_sampler:;
    stt_memusage peak = {0};
    if (ms) stt_memsampler_stop(ms, &peak, NULL);
    pt->peak_pss = peak.pss;
    pt->peak_rss = peak.rss;
out:
    stt_sut_stop(s, 30);
    stt_cpulimit_free(l);
}

/* ---- pod shapes ---- */

typedef struct shape {
    int replicas, cores_each, concurrency;
    const char *status;
    char reason[600];
    double thr, p50, p95;
    long long errors, peak_pss;
} shape;

/* Runs sh->replicas servers of sh->cores_each pinned CPUs behind haproxy and
 * measures them under saturation; fills the rest of *sh. */
static void run_shape(const config *c, shape *sh, const file *tfile)
{
    char err[600] = "", path[PATH_MAX];
    int k = sh->replicas, each = sh->cores_each;
    stt_cpulimit *lim[MAXREPLICAS] = {0};
    stt_sut *srv[MAXREPLICAS] = {0};
    stt_memsampler *ms[MAXREPLICAS] = {0};
    pid_t hp = -1;
    sh->status = "failed";
    if (k < 1 || k > MAXREPLICAS) {
        snprintf(sh->reason, sizeof sh->reason, "%d replicas: at most %d", k, MAXREPLICAS);
        return;
    }
    for (int i = 0; i < k; i++) {
        stt_cpulimit_params lp = stt_cpulimit_default_params();
        lp.cpus = each;
        lp.first_cpu = i * each;
        if (!(lim[i] = stt_cpulimit_create(&lp, err, sizeof err))) goto out;
        stt_sut_params sp = stt_sut_default_params();
        sp.command = c->server_cmd;
        sp.workers = each;
        sp.threads = each;
        sp.limit = lim[i];
        snprintf(path, sizeof path, "%s/server_shape%dx%d_%d.log", c->out, k, each, i);
        sp.log_path = path;
        if (!(srv[i] = stt_sut_start(&sp, err, sizeof err))) goto out;
        stt_cpulimit_evidence ev;
        char verr[512] = "";
        if (stt_cpulimit_verify(lim[i], stt_sut_pid(srv[i]), &ev, verr, sizeof verr) || !ev.ok) {
            sh->status = "refused";
            snprintf(err, sizeof err, "replica %d: %s", i, verr[0] ? verr : ev.reason);
            goto out;
        }
        ms[i] = stt_memsampler_start(stt_sut_pid(srv[i]), 100, NULL, 0);
    }
    int port = stt_sut_free_port();
    snprintf(path, sizeof path, "%s/haproxy_%dx%d.cfg", c->out, k, each);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, sizeof err, "%.400s: %s", path, strerror(errno));
        goto out;
    }
    fprintf(f,
            "global\n  maxconn 1024\ndefaults\n  mode http\n  timeout connect 5s\n"
            "  timeout client 900s\n  timeout server 900s\nfrontend fe\n  bind 127.0.0.1:%d\n"
            "  default_backend be\nbackend be\n  balance leastconn\n  option httpchk GET "
            "/health\n",
            port);
    for (int i = 0; i < k; i++)
        fprintf(f, "  server r%d 127.0.0.1:%d check inter 1s\n", i, stt_sut_port(srv[i]));
    fclose(f);
    hp = fork();
    if (hp == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("haproxy", "haproxy", "-f", path, "-db", (char *)NULL);
        _exit(127);
    }
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/audio/transcriptions", port);
    /* Wait until haproxy listens and its health checks see every replica up. */
    char health[128];
    snprintf(health, sizeof health, "http://127.0.0.1:%d/health", port);
    usleep(1500 * 1000);
    lat warm;
    if (single_latency(url, tfile, 1, &warm, err, sizeof err)) {
        memmove(err + 9, err, sizeof err - 10);
        memcpy(err, "haproxy: ", 9);
        err[sizeof err - 1] = 0;
        goto out;
    }
    sh->concurrency = 2 * k * each;
    thr t;
    progress("shape %d x %d core(s): saturated load %.0f s", k, each, c->duration);
    if (saturate(url, tfile, sh->concurrency, c->duration, &t, err, sizeof err)) goto out;
    sh->thr = t.audio_s_per_s;
    sh->p50 = t.p50;
    sh->p95 = t.p95;
    sh->errors = t.errors;
    err[0] = 0;
    /* Throughput of a shape that failed its requests is not its capacity. */
    if (t.errors > 0.01 * (double)(t.completed > 0 ? t.completed : 1))
        snprintf(err, sizeof err, "%lld of %lld requests failed", t.errors, t.completed);
    else
        sh->status = "ok";
out:
    if (hp > 0) {
        kill(hp, SIGTERM);
        waitpid(hp, NULL, 0);
    }
    for (int i = 0; i < k; i++) {
        if (ms[i]) {
            stt_memusage peak = {0};
            stt_memsampler_stop(ms[i], &peak, NULL);
            sh->peak_pss += peak.pss;
        }
        if (srv[i]) stt_sut_stop(srv[i], 30);
        stt_cpulimit_free(lim[i]);
    }
    snprintf(sh->reason, sizeof sh->reason, "%s", err);
}

/* ---- analysis ---- */

typedef struct series {
    int n;
    double cores[MAXV], x[MAXV], se[MAXV], lat[MAXV], threads[MAXV];
    int opt_threads[MAXV];
    double opt_lat[MAXV];
} series;

/* The best throughput and the best long-file latency at each core count. */
static void build_series(const point *pts, int npts, int mode, int long_role, series *sr)
{
    memset(sr, 0, sizeof *sr);
    for (int i = 0; i < npts; i++) {
        const point *p = &pts[i];
        if (p->mode != mode || strcmp(p->status, "ok") || !p->have_thr || !(p->thr > 0)) continue;
        int j = 0;
        while (j < sr->n && sr->cores[j] != p->cores)
            j++;
        if (j == sr->n) {
            if (sr->n == MAXV) continue;
            sr->n++;
            sr->cores[j] = p->cores;
            sr->x[j] = -1;
            sr->lat[j] = INFINITY;
        }
        if (p->thr > sr->x[j]) {
            sr->x[j] = p->thr;
            sr->se[j] = p->thr_rel_se;
            sr->threads[j] = p->threads;
        }
        if (p->latency[long_role].n && p->latency[long_role].med < sr->lat[j])
            sr->lat[j] = p->latency[long_role].med;
    }
    /* Sort by cores. */
    for (int a = 0; a < sr->n; a++)
        for (int b = a + 1; b < sr->n; b++)
            if (sr->cores[b] < sr->cores[a]) {
                double t;
#define SWAP(f)                                                                                    \
    t = sr->f[a];                                                                                  \
    sr->f[a] = sr->f[b];                                                                           \
    sr->f[b] = t
                SWAP(cores);
                SWAP(x);
                SWAP(se);
                SWAP(lat);
                SWAP(threads);
#undef SWAP
            }
    for (int j = 0; j < sr->n; j++) {
        int th[MAXPTS];
        double la[MAXPTS];
        int idx[MAXPTS], k = 0;
        for (int i = 0; i < npts && k < MAXPTS; i++) {
            const point *p = &pts[i];
            if (p->mode != mode || strcmp(p->status, "ok") || p->cores != sr->cores[j]) continue;
            th[k] = p->threads;
            la[k] = p->latency[long_role].n ? p->latency[long_role].med : NAN;
            idx[k++] = i;
        }
        int b = stt_fit_optimal_threads(th, la, (size_t)k, 0.03);
        sr->opt_threads[j] = b >= 0 ? th[b] : 0;
        sr->opt_lat[j] = b >= 0 ? la[b] : NAN;
        (void)idx;
        if (!isfinite(sr->lat[j])) sr->lat[j] = NAN;
    }
}

/* Amdahl's s through two points, X(n) = X1 / (s + (1 - s) / n). */
static double s_two(double n1, double x1, double n2, double x2)
{
    double R = x2 / x1;
    return (R / n2 - 1.0 / n1) / (1.0 - 1.0 / n1 - R + R / n2);
}

typedef struct fits {
    stt_amdahl_fit am;
    stt_usl_fit usl;
    double s_lo, s_hi; /* interval used for projections */
    const char *interval_from;
} fits;

static void do_fits(const double *n, const double *x, const double *se, int k, fits *f)
{
    stt_fit_amdahl(n, x, (size_t)k, &f->am);
    stt_fit_usl(n, x, (size_t)k, &f->usl);
    f->s_lo = f->s_hi = NAN;
    f->interval_from = "none";
    if (f->am.status == STT_FIT_OK) {
        f->s_lo = f->am.s_ci[0];
        f->s_hi = f->am.s_ci[1];
        f->interval_from = "fit covariance (95%)";
    } else if (f->am.status == STT_FIT_EXACT && k == 2 && se && isfinite(se[0]) &&
               isfinite(se[1])) {
        /* Two points: the spread of each throughput over its windows (two
         * standard errors) moved to the extremes gives the range of s. */
        f->s_lo = s_two(n[0], x[0] * (1 + 2 * se[0]), n[1], x[1] * (1 - 2 * se[1]));
        f->s_hi = s_two(n[0], x[0] * (1 - 2 * se[0]), n[1], x[1] * (1 + 2 * se[1]));
        if (f->s_lo > f->s_hi) {
            double t = f->s_lo;
            f->s_lo = f->s_hi;
            f->s_hi = t;
        }
        f->interval_from = "window spread of the two throughputs (2 standard errors)";
    }
}

static json_t *fits_json(const fits *f)
{
    const stt_amdahl_fit *a = &f->am;
    const stt_usl_fit *u = &f->usl;
    return json_pack(
        "{s:i, s:{s:s, s:o, s:o, s:o, s:o, s:s}, s:{s:s, s:o, s:o, s:o, s:o, s:o, s:o}}", "points",
        a->points, "amdahl", "status", stt_fit_status_name(a->status), "serial_fraction",
        bench_jnum(a->s), "x1", bench_jnum(a->x1), "ci95", jpair(a->s_ci[0], a->s_ci[1]),
        "projection_interval", jpair(f->s_lo, f->s_hi), "projection_interval_from",
        f->interval_from, "usl", "status", stt_fit_status_name(u->status), "lambda",
        bench_jnum(u->lambda), "sigma", bench_jnum(u->sigma), "kappa", bench_jnum(u->kappa),
        "sigma_ci95", jpair(u->sigma_ci[0], u->sigma_ci[1]), "kappa_ci95",
        jpair(u->kappa_ci[0], u->kappa_ci[1]), "peak_cores", bench_jnum(u->peak_n));
}

typedef struct analysis {
    int mode;
    series sr;
    double speedup[MAXV], eff[MAXV], lspeed[MAXV], leff[MAXV];
    fits thr, lat;
    stt_scaling_class cls;
    double dim_measured;
    int dim_projected;
    int lat_ok;
} analysis;

static void analyse(const point *pts, int npts, int mode, analysis *a)
{
    memset(a, 0, sizeof *a);
    a->mode = mode;
    build_series(pts, npts, mode, ROLE_LONG, &a->sr);
    series *sr = &a->sr;
    double inv[MAXV];
    a->lat_ok = sr->n > 0;
    for (int j = 0; j < sr->n; j++) {
        a->speedup[j] = sr->x[j] / sr->x[0] * sr->cores[0];
        a->eff[j] = a->speedup[j] / sr->cores[j];
        a->lspeed[j] = sr->lat[0] / sr->lat[j] * sr->cores[0];
        a->leff[j] = a->lspeed[j] / sr->cores[j];
        inv[j] = 1.0 / sr->lat[j];
        if (!isfinite(inv[j])) a->lat_ok = 0;
    }
    do_fits(sr->cores, sr->x, sr->se, sr->n, &a->thr);
    if (a->lat_ok)
        do_fits(sr->cores, inv, NULL, sr->n, &a->lat);
    else {
        stt_fit_amdahl(NULL, NULL, 0, &a->lat.am);
        stt_fit_usl(NULL, NULL, 0, &a->lat.usl);
        a->lat.s_lo = a->lat.s_hi = NAN;
        a->lat.interval_from = "none";
    }
    a->cls = stt_fit_classify(sr->cores, sr->x, (size_t)sr->n);
    a->dim_measured = stt_fit_diminishing(sr->cores, sr->x, (size_t)sr->n);
    a->dim_projected = isfinite(a->thr.am.s) ? stt_amdahl_diminishing(a->thr.am.s) : -1;
}

static json_t *analysis_json(const analysis *a)
{
    const series *sr = &a->sr;
    json_t *ser = json_array(), *opt = json_array(), *proj = json_array();
    for (int j = 0; j < sr->n; j++) {
        json_array_append_new(
            ser,
            json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "cores", (int)sr->cores[j],
                      "threads", (int)sr->threads[j], "audio_s_per_s", bench_jnum(sr->x[j]),
                      "speedup", bench_jnum(a->speedup[j]), "efficiency", bench_jnum(a->eff[j]),
                      "long_latency_s", bench_jnum(sr->lat[j]), "latency_speedup",
                      bench_jnum(a->lspeed[j]), "latency_efficiency", bench_jnum(a->leff[j])));
        if (sr->opt_threads[j])
            json_array_append_new(opt, json_pack("{s:i, s:i, s:o}", "cores", (int)sr->cores[j],
                                                 "threads", sr->opt_threads[j], "long_latency_s",
                                                 bench_jnum(sr->opt_lat[j])));
    }
    double maxn = sr->n ? sr->cores[sr->n - 1] : 0;
    if (isfinite(a->thr.am.s))
        for (int m = 2; m <= 64; m *= 2) {
            if (m <= maxn) continue;
            double S = stt_amdahl_speedup(a->thr.am.s, m);
            double lo = isfinite(a->thr.s_hi) ? stt_amdahl_speedup(a->thr.s_hi, m) : NAN;
            double hi = isfinite(a->thr.s_lo) ? stt_amdahl_speedup(a->thr.s_lo, m) : NAN;
            json_array_append_new(proj, json_pack("{s:i, s:o, s:o, s:o, s:b}", "cores", m,
                                                  "speedup", bench_jnum(S), "lo", bench_jnum(lo),
                                                  "hi", bench_jnum(hi), "projection", 1));
        }
    return json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "mode", mode_name(a->mode),
                     "series", ser, "throughput", fits_json(&a->thr), "latency", fits_json(&a->lat),
                     "classification", stt_scaling_class_name(a->cls), "diminishing_returns_cores",
                     a->dim_measured > 0 ? json_integer((json_int_t)a->dim_measured) : json_null(),
                     "diminishing_returns_projected_cores",
                     a->dim_projected > 0 ? json_integer(a->dim_projected) : json_null(),
                     "optimal_threads", opt, "projections", proj);
}

/* ---- verdict, outputs ---- */

typedef struct verdict {
    const char *answer;
    char reasons[4][600];
    int nreasons;
    char to_confirm[600];
} verdict;

static void decide(const analysis *a, int ncores_machine, verdict *v)
{
    memset(v, 0, sizeof *v);
    const series *sr = &a->sr;
    snprintf(v->to_confirm, sizeof v->to_confirm,
             "Measured at %d core count(s) (up to %d cores) on a %d-core machine. Confirm on a "
             "machine with at least 8 usable cores: at least three core counts are needed for "
             "the USL fit (contention sigma and coherency kappa), and `sttbench cpu --compare` "
             "against this file gives per-core speed and cost per audio hour side by side.",
             sr->n, sr->n ? (int)sr->cores[sr->n - 1] : 0, ncores_machine);
    if (sr->n < 2) {
        v->answer = "undetermined";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Only one core count was measured; scaling cannot be judged.");
        return;
    }
    int k = sr->n - 1;
    double E = a->eff[k], sl = a->lat.am.s, st = a->thr.am.s;
    snprintf(v->reasons[v->nreasons++], 600,
             "Throughput (independent requests, one decoder per worker) went from %.2f to %.2f "
             "audio s/s between %d and %d cores: speedup %.2f, efficiency %.2f, Amdahl serial "
             "fraction %.3f. %s",
             sr->x[0], sr->x[k], (int)sr->cores[0], (int)sr->cores[k], a->speedup[k], E, st,
             E >= 0.85 ? "Capacity grows with the number of cores."
                       : "Capacity grew far less than the cores granted; the per-point CPU "
                         "utilisation shows whether the server or the machine held it back.");
    if (a->lat_ok)
        snprintf(v->reasons[v->nreasons++], 600,
                 "One long request went from %.2f s to %.2f s: latency speedup %.2f, serial "
                 "fraction %.3f. A single request's latency is per-core time x (s + (1 - s)/n), so "
                 "beyond a few cores it is set by per-core speed.",
                 sr->lat[0], sr->lat[k], a->lspeed[k], sl);
    if (E >= 0.85 && isfinite(sl) && sl <= 0.2) {
        v->answer = "many cores";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Both throughput and single-request latency scale well: more, cheaper cores "
                 "buy capacity and latency alike; choose by price per core-hour.");
    } else if (E >= 0.85) {
        v->answer = "either";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Throughput scales nearly linearly, so for batch/throughput work the total "
                 "core count matters, not core strength; for interactive long files, whose "
                 "latency gains little from more cores, per-core speed (strong cores) decides.");
    } else {
        v->answer = "strong cores";
        snprintf(v->reasons[v->nreasons++], 600,
                 "Scaling is sub-linear (efficiency %.2f < 0.85): each added core delivers less, "
                 "so fewer, faster cores give more per core-hour.",
                 E);
    }
}

static void write_report(const config *c, const stt_sysinfo *si, const file *files,
                         const int *roles, int nroles, const point *pts, int npts,
                         const analysis *an, int nan_, const shape *sh, int nsh, const verdict *v,
                         int charts_ok, FILE *f)
{
    fprintf(f, "# CPU scaling profile\n\n");
    fprintf(f,
            "Machine: %s, %d logical cores (%d usable), %.1f GiB RAM, %s. Commit %s.\n"
            "Server: `%s`. Saturated load: closed loop, concurrency 2 x workers, %.0f s per "
            "point, file %s. Single requests: median of %d.\n\n",
            si->cpu_model, si->logical_cores, si->cpus_allowed, si->mem_total / 1073741824.0,
            si->kernel, si->commit, c->server_cmd, c->duration, files[ROLE_SHORT].e->file,
            c->repeat);
    fprintf(f, "Every point was started under its restriction and verified (affinity or cgroup "
               "of every process of the server tree, the quota read back, the server's "
               "`sttd_workers`/`sttd_threads_per_request` gauges, sttd's own usable-CPU count, and "
               "CPU used under saturation <= granted); unverified points are refused, not "
               "measured.\n\n");
    fprintf(f, "## Answers\n\n");
    fprintf(f, "1. **Many weak cores or few strong ones?** %s.", v->answer);
    for (int i = 0; i < v->nreasons; i++)
        fprintf(f, " %s", v->reasons[i]);
    fprintf(f, "\n");
    for (int m = 0; m < nan_; m++) {
        const analysis *a = &an[m];
        const series *sr = &a->sr;
        if (sr->n < 1) continue;
        int k = sr->n - 1;
        fprintf(f,
                "2. **Linear or sub-linear (%s)?** %s: speedup %.2f at %d cores (efficiency "
                "%.2f); Amdahl serial fraction %.3f (%s%s",
                mode_name(a->mode), stt_scaling_class_name(a->cls), a->speedup[k],
                (int)sr->cores[k], a->eff[k], a->thr.am.s, stt_fit_status_name(a->thr.am.status),
                a->thr.am.status == STT_FIT_EXACT ? ", two points" : "");
        if (isfinite(a->thr.s_lo))
            fprintf(f, "; interval %.3f..%.3f from %s", a->thr.s_lo, a->thr.s_hi,
                    a->thr.interval_from);
        fprintf(f, "); USL: %s", stt_fit_status_name(a->thr.usl.status));
        if (isfinite(a->thr.usl.sigma))
            fprintf(f, " (sigma %.4f, kappa %.5f, peak %.1f cores)", a->thr.usl.sigma,
                    a->thr.usl.kappa, a->thr.usl.peak_n);
        fprintf(f, ".\n");
    }
    const analysis *a0 = nan_ ? &an[0] : NULL;
    fprintf(f, "3. **Optimal thread count:**");
    if (a0)
        for (int j = 0; j < a0->sr.n; j++)
            if (a0->sr.opt_threads[j])
                fprintf(f, " %d core(s): --threads %d (long file %.2f s);", (int)a0->sr.cores[j],
                        a0->sr.opt_threads[j], a0->sr.opt_lat[j]);
    fprintf(f,
            " (%s mode, lowest median latency of the %s file, ties within 3%% go to fewer "
            "threads).\n",
            a0 ? mode_name(a0->mode) : "-", files[ROLE_LONG].e->file);
    fprintf(f, "4. **Where returns diminish:** ");
    if (a0 && a0->dim_measured > 0)
        fprintf(f,
                "measured: after %.0f cores one more core adds less than half what the "
                "first added. ",
                a0->dim_measured);
    else
        fprintf(f, "not within the measured core counts. ");
    if (a0 && a0->dim_projected > 0)
        fprintf(f,
                "Projected from Amdahl (s = %.3f): after %d cores (a projection, not a "
                "measurement).",
                a0->thr.am.s, a0->dim_projected);
    fprintf(f, "\n\nTo confirm: %s\n\n", v->to_confirm);

    fprintf(f, "## Points\n\n| mode | cores | workers | threads | status | ");
    for (int i = 0; i < nroles; i++)
        fprintf(f, "%s %.0f s: median (min-max) s | ", role_name[roles[i]],
                files[roles[i]].e->duration_s);
    fprintf(f, "audio s/s | p95 s | CPU util | peak PSS MiB | throttled |\n|---|---|---|---|---|");
    for (int i = 0; i < nroles; i++)
        fprintf(f, "---|");
    fprintf(f, "---|---|---|---|---|\n");
    for (int i = 0; i < npts; i++) {
        const point *p = &pts[i];
        fprintf(f, "| %s | %d | %d | %d | %s%s%s | ", mode_name(p->mode), p->cores, p->workers,
                p->threads, p->status, p->reason[0] ? ": " : "", p->reason);
        for (int r = 0; r < nroles; r++) {
            const lat *l = &p->latency[roles[r]];
            if (l->n)
                fprintf(f, "%.2f (%.2f-%.2f) | ", l->med, l->min, l->max);
            else
                fprintf(f, "- | ");
        }
        char thb[96] = "-";
        if (p->quota && p->th.nr_periods > 0)
            snprintf(thb, sizeof thb, "%lld of %lld periods, %.2f s", p->th.nr_throttled,
                     p->th.nr_periods, p->th.throttled_s);
        if (p->have_thr)
            fprintf(f, "%.2f | %.2f | %.2f | %.0f | %s |\n", p->thr, p->p95, p->util,
                    p->peak_pss / 1048576.0, thb);
        else
            fprintf(f, "- | - | - | - | - |\n");
    }
    fprintf(f, "\n## Scaling\n\n| mode | cores | audio s/s | speedup | efficiency | long latency s "
               "| latency speedup |\n|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < nan_; m++)
        for (int j = 0; j < an[m].sr.n; j++)
            fprintf(f, "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", mode_name(an[m].mode),
                    (int)an[m].sr.cores[j], an[m].sr.x[j], an[m].speedup[j], an[m].eff[j],
                    an[m].sr.lat[j], an[m].lspeed[j]);
    if (a0 && isfinite(a0->thr.am.s)) {
        fprintf(f,
                "\nProjections beyond this machine (Amdahl, %s mode; **projections, not "
                "measurements**):\n\n| cores | speedup | range |\n|---|---|---|\n",
                mode_name(a0->mode));
        double maxn = a0->sr.cores[a0->sr.n - 1];
        for (int m = 2; m <= 64; m *= 2) {
            if (m <= maxn) continue;
            char range[96] = "unknown (exact two-point fit, no spread)";
            if (isfinite(a0->thr.s_lo))
                snprintf(range, sizeof range, "%.2f - %.2f", stt_amdahl_speedup(a0->thr.s_hi, m),
                         stt_amdahl_speedup(a0->thr.s_lo, m));
            fprintf(f, "| %d | %.2f | %s |\n", m, stt_amdahl_speedup(a0->thr.am.s, m), range);
        }
        fprintf(f, "\nRange: %s.\n", a0->thr.interval_from);
    }
    if (nsh) {
        fprintf(f, "\n## Pod shapes (haproxy leastconn, same closed-loop load)\n\n| shape | "
                   "audio s/s | p50 s | p95 s | errors | peak PSS MiB (all replicas) | status "
                   "|\n|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < nsh; i++)
            fprintf(f, "| %d x %d cores | %.2f | %.2f | %.2f | %lld | %.0f | %s%s%s |\n",
                    sh[i].replicas, sh[i].cores_each, sh[i].thr, sh[i].p50, sh[i].p95, sh[i].errors,
                    sh[i].peak_pss / 1048576.0, sh[i].status, sh[i].reason[0] ? ": " : "",
                    sh[i].reason);
    }
    if (charts_ok)
        fprintf(f,
                "\n## Charts\n\n![speedup](speedup_vs_cores.png)\n"
                "![latency](latency_vs_threads.png)\n%s",
                nsh ? "![shapes](shapes_throughput.png)\n" : "");
    else
        fprintf(f, "\n(gnuplot failed: no charts.)\n");
}

static int write_charts(const config *c, const analysis *an, int nan_, const point *pts, int npts,
                        const shape *sh, int nsh)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu_charts.dat", c->out);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    /* index m: measured speedups per mode; index nan_: long latency against threads. */
    for (int m = 0; m < nan_; m++) {
        fprintf(f, "# %s: cores speedup efficiency latency_speedup\n", mode_name(an[m].mode));
        for (int j = 0; j < an[m].sr.n; j++)
            fprintf(f, "%g %g %g %g\n", an[m].sr.cores[j], an[m].speedup[j], an[m].eff[j],
                    an[m].lspeed[j]);
        fprintf(f, "\n\n");
    }
    fprintf(f, "# cores threads long_latency_s (first mode)\n");
    int any_lat = 0;
    for (int i = 0; i < npts; i++)
        if (nan_ && pts[i].mode == an[0].mode && !strcmp(pts[i].status, "ok") &&
            pts[i].latency[ROLE_LONG].n) {
            fprintf(f, "%d %d %g\n", pts[i].cores, pts[i].threads, pts[i].latency[ROLE_LONG].med);
            any_lat = 1;
        }
    fprintf(f, "\n\n# shape audio_s_per_s p95_s\n");
    for (int i = 0; i < nsh; i++)
        fprintf(f, "\"%dx%d\" %g %g\n", sh[i].replicas, sh[i].cores_each, sh[i].thr, sh[i].p95);
    fclose(f);
    snprintf(path, sizeof path, "%s/cpu_charts.gp", c->out);
    f = fopen(path, "w");
    if (!f) return 0;
    double maxn = 2;
    for (int m = 0; m < nan_; m++)
        if (an[m].sr.n) maxn = fmax(maxn, an[m].sr.cores[an[m].sr.n - 1]);
    double xmax = fmax(8, maxn * 4);
    static const char *const term[2][2] = {{"pngcairo size 900,560", "png"},
                                           {"svg size 900,560 dynamic", "svg"}};
    for (int t = 0; t < 2; t++) {
        fprintf(f, "set terminal %s\nset grid\nset key left top\n", term[t][0]);
        fprintf(f,
                "set output 'speedup_vs_cores.%s'\nset title 'Throughput speedup vs cores "
                "(lines beyond %g cores are projections)'\nset xlabel 'cores'\nset ylabel "
                "'speedup X(n)/X(1)'\nset xrange [1:%g]\nset yrange [0:*]\n",
                term[t][1], maxn, xmax);
        fprintf(f, "plot x with lines dashtype 3 title 'ideal'");
        for (int m = 0; m < nan_; m++) {
            fprintf(f,
                    ", 'cpu_charts.dat' index %d using 1:2 with points pt 7 ps 1.5 title '%s "
                    "measured'",
                    m, mode_name(an[m].mode));
            if (isfinite(an[m].thr.am.s))
                fprintf(f, ", 1/(%.9g+(1-%.9g)/x) with lines title '%s Amdahl s=%.3f'",
                        an[m].thr.am.s, an[m].thr.am.s, mode_name(an[m].mode), an[m].thr.am.s);
            if (isfinite(an[m].thr.usl.sigma))
                fprintf(f, ", x/(1+%.9g*(x-1)+%.9g*x*(x-1)) with lines dashtype 2 title '%s USL'",
                        an[m].thr.usl.sigma, an[m].thr.usl.kappa, mode_name(an[m].mode));
        }
        fprintf(f, "\nunset xrange\nunset yrange\nunset title\n");
        if (any_lat) {
            fprintf(f,
                    "set output 'latency_vs_threads.%s'\nset title 'Long-file latency vs "
                    "--threads, per core count'\nset xlabel 'threads per request'\nset "
                    "ylabel 'median latency (s)'\nset logscale x 2\n",
                    term[t][1]);
            fprintf(f, "plot ");
            int first = 1;
            for (int j = 0; nan_ && j < an[0].sr.n; j++) {
                fprintf(f,
                        "%s'cpu_charts.dat' index %d using ($1==%g?$2:1/0):3 with "
                        "linespoints title '%g cores'",
                        first ? "" : ", ", nan_, an[0].sr.cores[j], an[0].sr.cores[j]);
                first = 0;
            }
            fprintf(f, "\nunset logscale x\nunset title\n");
        }
        if (nsh)
            fprintf(f,
                    "set output 'shapes_throughput.%s'\nset title 'Pod shapes: replicas x "
                    "cores'\nset style data histograms\nset style fill solid 0.6\nset "
                    "ylabel 'audio s per s'\nset xlabel ''\nset yrange [0:*]\nplot "
                    "'cpu_charts.dat' index %d using 2:xtic(1) title 'throughput'\nunset "
                    "style\nunset yrange\nunset title\nset style data points\n",
                    term[t][1], nan_ + 1);
    }
    fclose(f);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot cpu_charts.gp 2>gnuplot.log", c->out);
    return system(cmd) == 0;
}

static json_t *points_json(const point *pts, int npts, const file *files)
{
    json_t *arr = json_array();
    for (int i = 0; i < npts; i++) {
        const point *p = &pts[i];
        json_t *o =
            json_pack("{s:s, s:i, s:i, s:i, s:s, s:o}", "mode", mode_name(p->mode), "cores",
                      p->cores, "threads", p->threads, "workers", p->workers, "status", p->status,
                      "reason", p->reason[0] ? json_string(p->reason) : json_null());
        json_object_set(o, "verification", p->verification ? p->verification : json_null());
        json_t *lt = json_array();
        for (int r = 0; r < NROLES; r++) {
            const lat *l = &p->latency[r];
            if (!l->n) continue;
            json_array_append_new(
                lt, json_pack(
                        "{s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:o}", "role", role_name[r], "file",
                        files[r].e->file, "audio_s", bench_jnum(files[r].e->duration_s), "n", l->n,
                        "median_s", bench_jnum(l->med), "min_s", bench_jnum(l->min), "max_s",
                        bench_jnum(l->max), "rtfx", bench_jnum(files[r].e->duration_s / l->med)));
        }
        json_object_set_new(o, "latency", lt);
        json_object_set_new(
            o, "throughput",
            p->have_thr
                ? json_pack("{s:i, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:b, s:o}",
                            "concurrency", p->concurrency, "duration_s", bench_jnum(p->thr_dur),
                            "completed", (json_int_t)p->completed, "ok", (json_int_t)p->ok,
                            "errors", (json_int_t)p->errors, "audio_s_per_s", bench_jnum(p->thr),
                            "rps", bench_jnum(p->rps), "p50_s", bench_jnum(p->p50), "p95_s",
                            bench_jnum(p->p95), "stable", p->stable, "relative_standard_error",
                            bench_jnum(p->thr_rel_se))
                : json_null());
        json_object_set_new(
            o, "cpu",
            p->have_thr ? json_pack("{s:o, s:o, s:o}", "cpu_s", bench_jnum(p->cpu_s), "wall_s",
                                    bench_jnum(p->wall_s), "utilisation", bench_jnum(p->util))
                        : json_null());
        json_object_set_new(o, "memory",
                            json_pack("{s:I, s:I}", "peak_pss_bytes", (json_int_t)p->peak_pss,
                                      "peak_rss_bytes", (json_int_t)p->peak_rss));
        json_object_set_new(
            o, "throttling",
            p->quota && p->have_thr
                ? json_pack("{s:I, s:I, s:o, s:o}", "nr_periods", (json_int_t)p->th.nr_periods,
                            "nr_throttled", (json_int_t)p->th.nr_throttled, "throttled_s",
                            bench_jnum(p->th.throttled_s), "throttled_fraction",
                            bench_jnum(p->th.nr_periods
                                           ? (double)p->th.nr_throttled / p->th.nr_periods
                                           : NAN))
                : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

/* ---- compare ---- */

static int compare_main(const config *c)
{
    const char *names[2] = {c->cmp_a, c->cmp_b};
    json_t *root[2] = {0}, *ms = json_array();
    double cost[2] = {NAN, NAN}, per[2] = {NAN, NAN};
    for (int i = 0; i < 2; i++) {
        json_error_t je;
        root[i] = json_load_file(names[i], 0, &je);
        if (!root[i]) {
            fprintf(stderr, "sttbench cpu: %s: %s\n", names[i], je.text);
            json_decref(ms);
            if (i) json_decref(root[0]);
            return 1;
        }
        json_t *an = json_object_get(root[i], "analysis"), *a = json_array_get(an, 0);
        for (size_t k = 0; k < json_array_size(an); k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(an, k), "mode")) ?: "",
                        "cpuset"))
                a = json_array_get(an, k);
        json_t *ser = json_object_get(a, "series");
        size_t n = json_array_size(ser);
        if (!n) {
            fprintf(stderr, "sttbench cpu: %s: no measured series\n", names[i]);
            json_decref(ms);
            json_decref(root[0]);
            if (i) json_decref(root[1]);
            return 1;
        }
        json_t *first = json_array_get(ser, 0), *last = json_array_get(ser, n - 1);
        double n0 = json_number_value(json_object_get(first, "cores"));
        double x0 = json_number_value(json_object_get(first, "audio_s_per_s"));
        double nm = json_number_value(json_object_get(last, "cores"));
        double xm = json_number_value(json_object_get(last, "audio_s_per_s"));
        per[i] = x0 / n0;
        cost[i] = c->price * nm / xm;
        json_t *mach = json_object_get(root[i], "machine");
        json_array_append_new(
            ms, json_pack("{s:s, s:s, s:i, s:o, s:o, s:i, s:o, s:O, s:o}", "file", names[i],
                          "cpu_model", json_string_value(json_object_get(mach, "cpu_model")) ?: "?",
                          "cores", (int)json_integer_value(json_object_get(mach, "cpus_allowed")),
                          "per_core_audio_s_per_s", bench_jnum(per[i]), "efficiency_at_max",
                          bench_jnum(json_number_value(json_object_get(last, "efficiency"))),
                          "max_cores", (int)nm, "audio_s_per_s_at_max", bench_jnum(xm),
                          "long_latency_s_at_max",
                          json_object_get(last, "long_latency_s") ?: json_null(),
                          "cost_per_audio_hour", bench_jnum(cost[i])));
    }
    json_t *out = json_pack("{s:s, s:o, s:o, s:s, s:s}", "schema", "sttbench-cpu-compare/1",
                            "price_core_hour", bench_jnum(c->price), "machines", ms,
                            "faster_per_core", per[0] >= per[1] ? names[0] : names[1],
                            "cheaper_per_audio_hour", cost[0] <= cost[1] ? names[0] : names[1]);
    mkdir(c->out, 0777);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/compare.json", c->out);
    int rc = json_dump_file(out, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%-40s %14s %12s %10s %16s\n", "file", "per-core a/s", "efficiency", "max cores",
           "cost/audio hour");
    for (int i = 0; i < 2; i++) {
        json_t *m = json_array_get(ms, (size_t)i);
        printf("%-40s %14.3f %12.2f %10d %16.4f\n", names[i], per[i],
               json_number_value(json_object_get(m, "efficiency_at_max")),
               (int)json_integer_value(json_object_get(m, "max_cores")), cost[i]);
    }
    printf("faster per core: %s; cheaper per audio hour (at %.3f per core-hour): %s\n",
           per[0] >= per[1] ? names[0] : names[1], c->price,
           cost[0] <= cost[1] ? names[0] : names[1]);
    json_decref(out);
    json_decref(root[0]);
    json_decref(root[1]);
    if (rc) fprintf(stderr, "sttbench cpu: %s: cannot write\n", path);
    return rc ? 1 : 0;
}

/* ---- main ---- */

/* The 16 kHz mono WAV closest in length to want seconds. */
static const stt_corpus_entry *closest(const stt_corpus_entry *e, size_t n, double want,
                                       const char *prefer)
{
    const stt_corpus_entry *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e[i].format, "wav") || e[i].sample_rate != 16000 || e[i].channels != 1) continue;
        if (prefer && !strcmp(e[i].file, prefer)) return &e[i];
        if (!best || fabs(e[i].duration_s - want) < fabs(best->duration_s - want)) best = &e[i];
    }
    return best;
}

int bench_cpu_main(int argc, char **argv)
{
    config c;
    int pa = parse_args(argc, argv, &c);
    if (pa > 0) return 0;
    if (pa < 0) {
        if (pa == -1) print_usage(stderr);
        return 2;
    }
    if (c.cmp_a) return compare_main(&c);
    tty = isatty(2);
    char err[600] = "";
    stt_corpus_entry *ent = NULL;
    size_t nent = 0;
    int rc = stt_corpus_load_manifest(c.corpus, &ent, &nent, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench cpu: %s: %s (build it with `sttbench corpus --out %s`)\n",
                stt_strerror(rc), err, c.corpus);
        return 1;
    }
    file files[NROLES] = {0};
    int roles[NROLES], nroles = 0;
    const stt_corpus_entry *pick[NROLES] = {
        closest(ent, nent, 8, NULL), c.quick ? NULL : closest(ent, nent, 60, NULL),
        c.quick ? closest(ent, nent, 28, NULL) : closest(ent, nent, 332.8, "librivox_x12.wav")};
    for (int r = 0; r < NROLES; r++) {
        if (!pick[r]) continue;
        if (load_file(c.corpus, pick[r], &files[r])) {
            fprintf(stderr, "sttbench cpu: cannot read %s/%s\n", c.corpus, pick[r]->file);
            stt_corpus_free_entries(ent, nent);
            return 1;
        }
        roles[nroles++] = r;
    }
    if (!files[ROLE_SHORT].e || !files[ROLE_LONG].e) {
        fprintf(stderr, "sttbench cpu: the corpus has no 16 kHz mono WAV files\n");
        stt_corpus_free_entries(ent, nent);
        return 1;
    }
    if (mkdir(c.out, 0777) && errno != EEXIST) {
        fprintf(stderr, "sttbench cpu: %s: %s\n", c.out, strerror(errno));
        return 1;
    }
    char cgv_err[512] = "";
    const char *cgv = stt_cpulimit_cgroup_version(cgv_err, sizeof cgv_err);
    for (int m = 0; m < c.nmodes; m++)
        if (c.modes[m] == STT_CPULIMIT_QUOTA && !strcmp(cgv, "none"))
            fprintf(stderr, "sttbench cpu: quota mode unavailable: %s (its points are refused)\n",
                    cgv_err);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int sttd = strstr(c.server_cmd, "{bin}/sttd") != NULL;
    point *pts = calloc(MAXPTS, sizeof *pts);
    int npts = 0;
    double t_start = bench_now_s();
    for (int m = 0; m < c.nmodes; m++)
        for (int ci = 0; ci < c.ncores; ci++) {
            int n = c.cores[ci];
            int ws[MAXV], nw = 0, ts[MAXV], nt = 0;
            if (c.nworkers)
                for (int i = 0; i < c.nworkers; i++)
                    ws[nw++] = c.workers[i] ? c.workers[i] : n;
            else
                ws[nw++] = n;
            if (c.nthreads)
                for (int i = 0; i < c.nthreads; i++)
                    ts[nt++] = c.threads[i];
            else
                for (int t = 1; t <= n && nt < MAXV; t *= 2)
                    ts[nt++] = t;
            for (int wi = 0; wi < nw; wi++)
                for (int ti = 0; ti < nt && npts < MAXPTS; ti++) {
                    point *p = &pts[npts++];
                    p->mode = c.modes[m];
                    p->cores = n;
                    p->workers = ws[wi];
                    p->threads = ts[ti];
                    run_point(&c, p, files, roles, nroles, &files[ROLE_SHORT], sttd);
                    progress("%s %d core(s), %d workers, %d threads: %s%s%s (%.2f audio s/s, "
                             "long %.2f s)",
                             mode_name(p->mode), n, p->workers, p->threads, p->status,
                             p->reason[0] ? ": " : "", p->reason, p->have_thr ? p->thr : NAN,
                             p->latency[ROLE_LONG].n ? p->latency[ROLE_LONG].med : NAN);
                    if (tty) fputc('\n', stderr);
                }
        }
    analysis an[2];
    int nan_ = 0;
    for (int m = 0; m < c.nmodes; m++) {
        analyse(pts, npts, c.modes[m], &an[nan_]);
        if (an[nan_].sr.n) nan_++;
    }
    shape sh[8];
    int nsh = 0;
    int C = 0;
    for (int j = 0; nan_ && j < an[0].sr.n; j++)
        C = (int)an[0].sr.cores[j];
    if (c.shapes && C >= 2) {
        if (system("command -v haproxy >/dev/null 2>&1")) {
            fprintf(stderr, "sttbench cpu: haproxy not found: pod shapes skipped\n");
        } else {
            for (int k = 1; k <= C && k <= MAXREPLICAS && nsh < 8; k *= 2) {
                if (C % k) continue;
                memset(&sh[nsh], 0, sizeof sh[nsh]);
                sh[nsh].replicas = k;
                sh[nsh].cores_each = C / k;
                run_shape(&c, &sh[nsh], &files[ROLE_SHORT]);
                nsh++;
            }
        }
    }
    if (tty) fprintf(stderr, "\r\033[K");
    stt_sysinfo si;
    char dir[PATH_MAX];
    stt_sut_exe_dir(dir, sizeof dir);
    stt_sysinfo_get(&si, dir);
    verdict v;
    decide(nan_ ? &an[0] : &(analysis){0}, si.cpus_allowed, &v);

    json_t *root = json_object();
    char created[32];
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_set_new(root, "schema", json_string("sttbench-cpu/1"));
    json_object_set_new(root, "created", json_string(created));
    json_object_set_new(root, "machine",
                        json_pack("{s:s, s:i, s:i, s:I, s:s, s:s}", "cpu_model", si.cpu_model,
                                  "logical_cores", si.logical_cores, "cpus_allowed",
                                  si.cpus_allowed, "mem_total_bytes", (json_int_t)si.mem_total,
                                  "kernel", si.kernel, "hostname", si.hostname));
    json_object_set_new(root, "commit", json_string(si.commit));
    json_t *jc = json_array(), *jm = json_array(), *jt = json_array(), *jw = json_array();
    for (int i = 0; i < c.ncores; i++)
        json_array_append_new(jc, json_integer(c.cores[i]));
    for (int i = 0; i < c.nmodes; i++)
        json_array_append_new(jm, json_string(mode_name(c.modes[i])));
    for (int i = 0; i < c.nthreads; i++)
        json_array_append_new(jt, json_integer(c.threads[i]));
    for (int i = 0; i < c.nworkers; i++)
        json_array_append_new(jw, json_integer(c.workers[i]));
    json_t *jf = json_object();
    for (int r = 0; r < NROLES; r++)
        if (files[r].e)
            json_object_set_new(jf, role_name[r],
                                json_pack("{s:s, s:o}", "file", files[r].e->file, "audio_s",
                                          bench_jnum(files[r].e->duration_s)));
    json_object_set_new(
        root, "config",
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:b, s:o, s:i, s:s, s:o, s:s, s:b}", "server_cmd",
                  c.server_cmd, "cores", jc, "modes", jm, "threads", jt, "workers",
                  c.nworkers ? jw : (json_decref(jw), json_null()), "corpus", c.corpus, "quick",
                  c.quick, "duration_s", bench_jnum(c.duration), "repeat", c.repeat, "cgroup", cgv,
                  "files", jf, "throughput_file", files[ROLE_SHORT].e->file, "shapes", c.shapes));
    json_object_set_new(root, "points", points_json(pts, npts, files));
    json_t *ja = json_array();
    for (int m = 0; m < nan_; m++)
        json_array_append_new(ja, analysis_json(&an[m]));
    json_object_set_new(root, "analysis", ja);
    json_t *qv = json_array();
    const analysis *acs = NULL, *aq = NULL;
    for (int m = 0; m < nan_; m++) {
        if (an[m].mode == STT_CPULIMIT_CPUSET) acs = &an[m];
        if (an[m].mode == STT_CPULIMIT_QUOTA) aq = &an[m];
    }
    for (int j = 0; acs && aq && j < acs->sr.n; j++)
        for (int k = 0; k < aq->sr.n; k++) {
            if (aq->sr.cores[k] != acs->sr.cores[j]) continue;
            double thf = NAN;
            for (int i = 0; i < npts; i++)
                if (pts[i].mode == STT_CPULIMIT_QUOTA && pts[i].cores == aq->sr.cores[k] &&
                    pts[i].have_thr && pts[i].th.nr_periods &&
                    pts[i].threads == (int)aq->sr.threads[k])
                    thf = (double)pts[i].th.nr_throttled / pts[i].th.nr_periods;
            json_array_append_new(
                qv, json_pack("{s:i, s:o, s:o, s:o}", "cores", (int)acs->sr.cores[j],
                              "throughput_ratio", bench_jnum(aq->sr.x[k] / acs->sr.x[j]),
                              "latency_ratio", bench_jnum(aq->sr.lat[k] / acs->sr.lat[j]),
                              "throttled_fraction", bench_jnum(thf)));
        }
    json_object_set_new(root, "quota_vs_cpuset", qv);
    json_t *jr = json_array();
    for (int i = 0; i < v.nreasons; i++)
        json_array_append_new(jr, json_string(v.reasons[i]));
    json_object_set_new(root, "verdict",
                        json_pack("{s:s, s:o, s:s}", "answer", v.answer, "reasons", jr,
                                  "to_confirm", v.to_confirm));
    json_t *js = json_array();
    for (int i = 0; i < nsh; i++)
        json_array_append_new(
            js, json_pack("{s:i, s:i, s:s, s:i, s:o, s:o, s:o, s:I, s:I, s:s, s:o}", "replicas",
                          sh[i].replicas, "cores_each", sh[i].cores_each, "balancer",
                          "haproxy leastconn", "concurrency", sh[i].concurrency, "audio_s_per_s",
                          bench_jnum(sh[i].thr), "p50_s", bench_jnum(sh[i].p50), "p95_s",
                          bench_jnum(sh[i].p95), "errors", (json_int_t)sh[i].errors,
                          "peak_pss_bytes", (json_int_t)sh[i].peak_pss, "status", sh[i].status,
                          "reason", sh[i].reason[0] ? json_string(sh[i].reason) : json_null()));
    json_object_set_new(root, "shapes", js);
    json_object_set_new(root, "wall_s", bench_jnum(bench_now_s() - t_start));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu.json", c.out);
    int status = 0;
    if (json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
        fprintf(stderr, "sttbench cpu: %s: cannot write\n", path);
        status = 1;
    }
    int charts_ok = write_charts(&c, an, nan_, pts, npts, sh, nsh);
    snprintf(path, sizeof path, "%s/cpu_scaling_report.md", c.out);
    FILE *f = fopen(path, "w");
    if (f) {
        write_report(&c, &si, files, roles, nroles, pts, npts, an, nan_, sh, nsh, &v, charts_ok, f);
        fclose(f);
    } else {
        status = 1;
    }
    /* Summary. */
    printf("\n%-7s %5s %9s %8s %10s %12s\n", "mode", "cores", "audio/s", "speedup", "efficiency",
           "long lat s");
    for (int m = 0; m < nan_; m++)
        for (int j = 0; j < an[m].sr.n; j++)
            printf("%-7s %5d %9.2f %8.2f %10.2f %12.2f\n", mode_name(an[m].mode),
                   (int)an[m].sr.cores[j], an[m].sr.x[j], an[m].speedup[j], an[m].eff[j],
                   an[m].sr.lat[j]);
    for (int m = 0; m < nan_; m++)
        printf("%s: %s; Amdahl serial fraction %.3f (%s), latency serial fraction %.3f; USL %s\n",
               mode_name(an[m].mode), stt_scaling_class_name(an[m].cls), an[m].thr.am.s,
               stt_fit_status_name(an[m].thr.am.status), an[m].lat.am.s,
               stt_fit_status_name(an[m].thr.usl.status));
    for (int i = 0; i < nsh; i++)
        printf("shape %d x %d cores: %.2f audio s/s, p95 %.2f s, peak PSS %.0f MiB (%s)\n",
               sh[i].replicas, sh[i].cores_each, sh[i].thr, sh[i].p95, sh[i].peak_pss / 1048576.0,
               sh[i].status);
    printf("verdict: %s\nresults: %s/cpu.json, %s/cpu_scaling_report.md\n", v.answer, c.out, c.out);
    int refused = 0;
    for (int i = 0; i < npts; i++)
        refused += strcmp(pts[i].status, "ok") != 0;
    if (refused) printf("%d point(s) refused or failed; see the report\n", refused);
    if (!nan_) status = 1;
    for (int i = 0; i < npts; i++)
        json_decref(pts[i].verification);
    json_decref(root);
    free(pts);
    for (int r = 0; r < NROLES; r++)
        free(files[r].data);
    stt_corpus_free_entries(ent, nent);
    curl_global_cleanup();
    return status;
}
