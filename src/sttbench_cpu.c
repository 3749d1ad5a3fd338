/* sttbench cpu: a cores x threads grid of a server under proven CPU
 * restrictions, scaling-law fits, pod shapes, and a side-by-side comparison
 * of two machines. See docs/CPU.md. This file holds the options, the choice
 * of the corpus files and the grid; sttbench_cpu.h lists the other parts. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpus.h"
#include "cpulimit.h"
#include "error.h"
#include "sut.h"
#include "sttbench.h"
#include "sttbench_common.h"
#include "sttbench_cpu.h"
#include "proc.h"
#include "sysinfo.h"

#define DEFAULT_CMD "{bin}/sttd --port {port} --workers {workers} --threads {threads} --quiet"

static int tty;
void cpu_progress(const char *fmt, ...)
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
static int parse_args(int argc, char **argv, cpu_config *c)
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
            c->ncores = parse_list(optarg, c->cores, CPU_MAXV);
            if (c->ncores <= 0) return bad_value("cores", optarg, "a list of counts >= 1");
            for (int i = 0; i < c->ncores; i++)
                if (c->cores[i] < 1) return bad_value("cores", optarg, "a list of counts >= 1");
            break;
        case 't':
            c->nthreads = parse_list(optarg, c->threads, CPU_MAXV);
            if (c->nthreads <= 0) return bad_value("threads", optarg, "a list of counts");
            break;
        case 'w':
            c->nworkers = parse_list(optarg, c->workers, CPU_MAXV);
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
        for (int n = 1; n <= usable && c->ncores < CPU_MAXV; n *= 2)
            c->cores[c->ncores++] = n;
    }
    return 0;
}

static int load_file(const char *dir, const stt_corpus_entry *e, cpu_file *f)
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
    cpu_config c;
    int pa = parse_args(argc, argv, &c);
    if (pa > 0) return 0;
    if (pa < 0) {
        if (pa == -1) print_usage(stderr);
        return 2;
    }
    if (c.cmp_a) return cpu_compare_main(&c);
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
    cpu_file files[CPU_NROLES] = {0};
    int roles[CPU_NROLES], nroles = 0;
    const stt_corpus_entry *pick[CPU_NROLES] = {
        closest(ent, nent, 8, NULL), c.quick ? NULL : closest(ent, nent, 60, NULL),
        c.quick ? closest(ent, nent, 28, NULL) : closest(ent, nent, 332.8, "librivox_x12.wav")};
    for (int r = 0; r < CPU_NROLES; r++) {
        if (!pick[r]) continue;
        if (load_file(c.corpus, pick[r], &files[r])) {
            fprintf(stderr, "sttbench cpu: cannot read %s/%s\n", c.corpus, pick[r]->file);
            stt_corpus_free_entries(ent, nent);
            return 1;
        }
        roles[nroles++] = r;
    }
    if (!files[CPU_ROLE_SHORT].e || !files[CPU_ROLE_LONG].e) {
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
    cpu_point *pts = calloc(CPU_MAXPTS, sizeof *pts);
    int npts = 0;
    double t_start = bench_now_s();
    for (int m = 0; m < c.nmodes; m++)
        for (int ci = 0; ci < c.ncores; ci++) {
            int n = c.cores[ci];
            int ws[CPU_MAXV], nw = 0, ts[CPU_MAXV], nt = 0;
            if (c.nworkers)
                for (int i = 0; i < c.nworkers; i++)
                    ws[nw++] = c.workers[i] ? c.workers[i] : n;
            else
                ws[nw++] = n;
            if (c.nthreads)
                for (int i = 0; i < c.nthreads; i++)
                    ts[nt++] = c.threads[i];
            else
                for (int t = 1; t <= n && nt < CPU_MAXV; t *= 2)
                    ts[nt++] = t;
            for (int wi = 0; wi < nw; wi++)
                for (int ti = 0; ti < nt && npts < CPU_MAXPTS; ti++) {
                    cpu_point *p = &pts[npts++];
                    p->mode = c.modes[m];
                    p->cores = n;
                    p->workers = ws[wi];
                    p->threads = ts[ti];
                    cpu_run_point(&c, p, files, roles, nroles, &files[CPU_ROLE_SHORT], sttd);
                    cpu_progress("%s %d core(s), %d workers, %d threads: %s%s%s (%.2f audio s/s, "
                                 "long %.2f s)",
                                 cpu_mode_name(p->mode), n, p->workers, p->threads, p->status,
                                 p->reason[0] ? ": " : "", p->reason, p->have_thr ? p->thr : NAN,
                                 p->latency[CPU_ROLE_LONG].n ? p->latency[CPU_ROLE_LONG].med : NAN);
                    if (tty) fputc('\n', stderr);
                }
        }
    cpu_analysis an[2];
    int nan_ = 0;
    for (int m = 0; m < c.nmodes; m++) {
        cpu_analyse(pts, npts, c.modes[m], &an[nan_]);
        if (an[nan_].sr.n) nan_++;
    }
    cpu_shape sh[8];
    int nsh = 0;
    int C = 0;
    for (int j = 0; nan_ && j < an[0].sr.n; j++)
        C = (int)an[0].sr.cores[j];
    if (c.shapes && C >= 2) nsh = cpu_run_shapes(&c, C, &files[CPU_ROLE_SHORT], sh, 8);
    if (tty) fprintf(stderr, "\r\033[K");
    stt_sysinfo si;
    char dir[PATH_MAX];
    stt_sut_exe_dir(dir, sizeof dir);
    stt_sysinfo_get(&si);
    cpu_verdict v;
    cpu_decide(nan_ ? &an[0] : &(cpu_analysis){0}, si.cpus_allowed, &v);

    cpu_results res = {.c = &c,
                       .si = &si,
                       .cgroup = cgv,
                       .files = files,
                       .roles = roles,
                       .nroles = nroles,
                       .pts = pts,
                       .npts = npts,
                       .an = an,
                       .nan_ = nan_,
                       .sh = sh,
                       .nsh = nsh,
                       .v = &v,
                       .t_start = t_start};
    int status = cpu_write_outputs(&res);
    if (!nan_) status = 1;
    for (int i = 0; i < npts; i++)
        json_decref(pts[i].verification);
    free(pts);
    for (int r = 0; r < CPU_NROLES; r++)
        free(files[r].data);
    stt_corpus_free_entries(ent, nent);
    curl_global_cleanup();
    return status;
}
