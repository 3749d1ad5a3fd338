/* sttbench replicas: horizontal scaling measured for real and set beside the
 * capacity planner's M/G/c prediction. Each replica is sttd in its own network
 * namespace ("host") on its own CPUs; haproxy on the host spreads an open-loop
 * Poisson load over them. See docs/REPLICAS.md. This file holds the options,
 * the measurement, the prediction and the output; the hosts and their teardown
 * are sttbench_replicas_hosts.c, the simulated queue stt_mgc_simulate(). */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpulimit.h"
#include "api.h"
#include "error.h"
#include "loadgen.h"
#include "queueing.h"
#include "sut.h"
#include "sttbench.h"
#include "sttbench_common.h"
#include "sttbench_replicas_hosts.h"
#include "proc.h"
#include "sysinfo.h"

#define MAXR HOSTS_MAX   /* replica counts in one run, and replicas at most */
#define MAXCPU 1024      /* CPUs this process may use, at most */
#define SVC_WARMUP 2     /* requests per replica before any measurement */
#define SVC_SAMPLES 15   /* sequential service-time samples on replica 0 */
#define SEED 20240601ULL /* default --seed */
#define SIM_RUNS 2000    /* simulated runs per point for the sampling band */

typedef struct config {
    int replicas[MAXR], nreplicas, kmax;
    int cores, workers, requests;
    double load;
    unsigned long long seed; /* Poisson arrivals: the k-replica point uses seed + k */
    const char *profile, *file, *out;
    char sttd[PATH_MAX];
} config;

typedef struct point {
    int replicas, servers, requests;
    double offered, warmup_s;
    stt_load_result res;
    int have_res;
    stt_mgc_result pred;          /* at the offered rate: the comparison */
    stt_mgc_result pred_achieved; /* at the rate the sample actually had */
    double p50, p95, p99, mean, err_pct;
    uint64_t errors;
    /* The exact FCFS queue, simulated: p95 of runs as long as this one (5th,
     * 50th, 95th percentile over SIM_RUNS) and of one long run. */
    double band_lo, band_mid, band_hi, steady_p95;
    /* sttd's processing time under load over the idle service time, and the
     * model with the samples scaled by it. */
    double slowdown;
    stt_mgc_result pred_loaded;
    /* CPUs (CPU-seconds per second) during the step: the whole machine busy,
     * this run's processes, everything else, stolen by the hypervisor. */
    double busy_cpus, own_cpus, other_cpus, steal_cpus;
} point;

static int tty;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sttbench replicas: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Puts a printf-style prefix before the message in err (truncating its end). */
static void err_prefix(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_prefix(char *err, size_t len, const char *fmt, ...)
{
    char pre[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    size_t pl = strlen(pre), ml = strlen(err);
    if (pl + 1 >= len) return;
    if (pl + ml + 1 > len) ml = len - pl - 1;
    memmove(err + pl, err, ml);
    memcpy(err, pre, pl);
    err[pl + ml] = 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sttbench replicas [--replicas 1,2] [--cores-per-replica 1] [--workers 1]\n"
            "                         [--profile fast] [--file AUDIO] [--load 0.7]\n"
            "                         [--requests 120] [--out DIR] [--sttd PATH] [--seed N]\n"
            "\n"
            "Horizontal scaling measured for real: each replica is sttd in its own network\n"
            "namespace (a veth link to the host) on its own CPUs; haproxy on the host\n"
            "(leastconn, maxconn = workers per replica, so it holds one central queue) spreads\n"
            "open-loop Poisson load over k replicas. Service times are measured once on one\n"
            "idle replica; each k is loaded at rate rho x k x workers / mean service time and\n"
            "its measured p50/p95/p99 are set beside the M/G/c prediction of the planner.\n"
            "Needs root, ip (iproute2) and haproxy; without them it writes\n"
            "{\"skipped\": reason} and exits 0.\n"
            "\n"
            "  --replicas LIST          replica counts to measure (default 1,2)\n"
            "  --cores-per-replica C    CPUs of each replica; replica i gets CPUs\n"
            "                           [i*C, (i+1)*C) of those this process may use (1)\n"
            "  --workers W              sttd decoder workers per replica (1)\n"
            "  --profile P              engine profile: %s (fast)\n"
            "  --file AUDIO             the upload (corpus/speech_0008s.wav)\n"
            "  --load RHO               target utilisation, 0 < RHO < 1 (0.7)\n"
            "  --requests N             counted requests per point, N >= 100 (120)\n"
            "  --out DIR                results folder (results/replicas)\n"
            "  --sttd PATH              the server binary ({bin}/sttd: beside sttbench)\n"
            "  --seed N                 Poisson arrivals; the same N gives the same arrival\n"
            "                           times, another N another draw (20240601)\n"
            "  --help\n"
            "\n"
            "Writes DIR/replicas.json and DIR/replicas_report.md. Exit status: 0 done or\n"
            "skipped, 1 failure, 2 usage or a configuration this machine cannot hold.\n",
            stt_profile_list());
}

static int parse_list(const char *s, int *out, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > MAXR || n == max) return -1;
        out[n++] = (int)v;
        if (*end && *end != ',') return -1;
        s = *end ? end + 1 : end;
        if (*end && !*s) return -1;
    }
    return n;
}

/* ---- HTTP ---- */

/* One transcription request; *secs = its wall time. Returns 0 when it got 200
 * with a transcript, else -1 with the reason in err. */
static int post_once(const char *url, const stt_upload *b, const char *profile, double *secs,
                     char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        stt_seterr(err, errlen, STT_ENOMEM, "curl_easy_init failed");
        return -1;
    }
    curl_mime *m =
        bench_transcription_form(c, NULL, b->data, b->len, b->filename, b->content_type, profile);
    bench_buf body = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)HOSTS_REQ_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_buf_append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    double t0 = bench_now_s();
    CURLcode rc = curl_easy_perform(c);
    *secs = bench_now_s() - t0;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char *text = bench_reply_text(rc, status, body.p, err, errlen);
    free(body.p);
    curl_mime_free(m);
    curl_easy_cleanup(c);
    if (!text) return -1;
    free(text);
    return 0;
}

/* ---- machine ---- */

static int allowed_cpus(int *cpu, int max)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set)) return 0;
    int n = 0;
    for (int i = 0; i < CPU_SETSIZE && n < max; i++)
        if (CPU_ISSET(i, &set)) cpu[n++] = i;
    return n;
}

/* "0-1" / "2,4" style list of cpu[0..n). */
static void cpu_list(const int *cpu, int n, char *out, size_t len)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < n && k < len; i++) {
        int j = i;
        while (j + 1 < n && cpu[j + 1] == cpu[j] + 1)
            j++;
        k += (size_t)snprintf(out + k, len - k, "%s%d", k ? "," : "", cpu[i]);
        if (j > i && k < len) k += (size_t)snprintf(out + k, len - k, "-%d", cpu[j]);
        i = j;
    }
}

static int in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char dir[PATH_MAX + 64];
    for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, p, prog);
        if (n && access(dir, X_OK) == 0) return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

/* First line of `haproxy -v`, or null. */
static json_t *haproxy_version(void)
{
    char buf[512] = "";
    char *argv[] = {"haproxy", "-v", NULL};
    if (hosts_run_cmd(argv, buf, sizeof buf) != 0) return json_null();
    buf[strcspn(buf, "\n")] = 0;
    return json_string(buf);
}

static void utc_now(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
}

/* ---- results ---- */

static double pct_s(const stt_histogram *h, double p)
{
    return stt_histogram_count(h) ? (double)stt_histogram_percentile(h, p) / 1e6 : NAN;
}

/* Writes {"skipped": reason} (plus tool, version, time) and a one-line report. */
static int write_skipped(const char *out, const char *reason)
{
    printf("sttbench replicas: skipped: %s\n", reason);
    char when[32], path[PATH_MAX + 32];
    utc_now(when, sizeof when);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "tool", "sttbench replicas", "version",
                          STT_VERSION, "created", when, "skipped", reason);
    snprintf(path, sizeof path, "%s/replicas.json", out);
    int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    if (rc) {
        say("cannot write %s", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/replicas_report.md", out);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "# Replicas: measured against the M/G/c model\n\nSkipped: %s. Nothing was "
                "measured.\n",
                reason);
        fclose(f);
    }
    return 0;
}

typedef struct svc {
    double s[SVC_SAMPLES];
    int n;
    double mean, p50, p95;
} svc;

static json_t *config_json(const config *c, const stt_upload *b, int subnet,
                           const hosts_replica *rs, const char *harness_cpus, int navail)
{
    json_t *ks = json_array(), *hosts = json_array();
    for (int i = 0; i < c->nreplicas; i++)
        json_array_append_new(ks, json_integer(c->replicas[i]));
    for (int i = 0; i < c->kmax; i++) {
        json_array_append_new(hosts, json_pack("{s:i, s:s, s:s, s:s, s:b}", "index", i, "netns",
                                               rs[i].ns, "address", rs[i].addr, "cpus", rs[i].cpus,
                                               "cpus_verified", rs[i].verified));
    }
    char net[32];
    snprintf(net, sizeof net, "%d.%d.%d.0/24", HOSTS_NET_A, HOSTS_NET_B, subnet);
    return json_pack(
        "{s:o, s:i, s:i, s:i, s:s, s:s, s:o, s:f, s:i, s:s, s:I, s:s, s:s, s:o, s:i, s:o, s:s, "
        "s:i, s:s}",
        "replicas", ks, "cores_per_replica", c->cores, "workers", c->workers, "sttd_threads", 1,
        "profile", c->profile, "file", c->file, "audio_s", bench_jnum(b->audio_s), "load", c->load,
        "requests", c->requests, "arrival", "poisson", "seed", (json_int_t)c->seed, "sttd", c->sttd,
        "balancer", "haproxy leastconn, maxconn = workers per server, no health checks", "haproxy",
        haproxy_version(), "service_samples", SVC_SAMPLES, "hosts", hosts, "network", net,
        "cpus_available", navail, "harness_cpus", harness_cpus);
}

static json_t *hist_s(const stt_histogram *h)
{
    if (!stt_histogram_count(h)) return json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "n", (json_int_t)stt_histogram_count(h), "mean",
                     bench_jnum(stt_histogram_mean(h) / 1e6), "p50", bench_jnum(pct_s(h, 50)),
                     "p95", bench_jnum(pct_s(h, 95)), "max",
                     bench_jnum((double)stt_histogram_max(h) / 1e6));
}

static json_t *pred_json(const stt_mgc_result *r, double lambda)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "lambda_rps", bench_jnum(lambda),
                     "p95_s", bench_jnum(r->t_q), "mean_s", bench_jnum(r->t_mean), "rho",
                     bench_jnum(r->rho), "p_wait", bench_jnum(r->p_wait), "cs2", bench_jnum(r->cs2),
                     "stable", r->stable);
}

static int within20(double pct)
{
    return isfinite(pct) && fabs(pct) <= 20;
}

/* The measured p95 lies where runs of this length of the exact queue put it. */
static int in_band(const point *p)
{
    return p->p95 >= p->band_lo && p->p95 <= p->band_hi;
}

static json_t *point_json(const point *p)
{
    const stt_load_result *r = &p->res;
    json_t *errs = json_object();
    for (int i = 0; i < STT_LOAD_ERR_N; i++)
        json_object_set_new(errs, stt_load_err_name(i), json_integer((json_int_t)r->errors[i]));
    json_t *j = json_pack(
        "{s:i, s:i, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:I, s:o, s:I, s:I, s:I, s:I, s:o, "
        "s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
        "replicas", p->replicas, "servers", p->servers, "offered_rps", bench_jnum(p->offered),
        "achieved_rps", bench_jnum(r->rps), "ok_rps", bench_jnum(r->ok_rps), "latency_s", "p50",
        bench_jnum(p->p50), "p95", bench_jnum(p->p95), "p99", bench_jnum(p->p99), "mean",
        bench_jnum(p->mean), "errors", (json_int_t)p->errors, "errors_by_class", errs, "sent",
        (json_int_t)r->sent, "ok", (json_int_t)r->ok, "late", (json_int_t)r->late, "dropped",
        (json_int_t)r->dropped, "warmup_s", bench_jnum(p->warmup_s), "elapsed_s",
        bench_jnum(r->elapsed_s), "server_process_s", hist_s(r->process), "server_queue_s",
        hist_s(r->queue), "predicted", pred_json(&p->pred, p->offered),
        "predicted_at_achieved_rate", pred_json(&p->pred_achieved, r->ok_rps), "p95_error_pct",
        bench_jnum(p->err_pct), "within_20pct", within20(p->err_pct));
    json_object_set_new(j, "simulated",
                        json_pack("{s:i, s:i, s:[o, o], s:o, s:o, s:b}", "runs", SIM_RUNS,
                                  "requests_per_run", p->requests, "p95_band_s",
                                  bench_jnum(p->band_lo), bench_jnum(p->band_hi), "p95_median_s",
                                  bench_jnum(p->band_mid), "steady_p95_s",
                                  bench_jnum(p->steady_p95), "within_band", in_band(p)));
    json_object_set_new(j, "service_slowdown", bench_jnum(p->slowdown));
    json_object_set_new(j, "predicted_with_loaded_service", pred_json(&p->pred_loaded, p->offered));
    json_object_set_new(j, "machine_cpus",
                        json_pack("{s:o, s:o, s:o, s:o}", "busy", bench_jnum(p->busy_cpus), "run",
                                  bench_jnum(p->own_cpus), "other", bench_jnum(p->other_cpus),
                                  "steal", bench_jnum(p->steal_cpus)));
    return j;
}

/* The server's own processing time during the point (s), NaN when not reported. */
static double process_mean_s(const point *p)
{
    return stt_histogram_count(p->res.process) ? stt_histogram_mean(p->res.process) / 1e6 : NAN;
}

static void print_table(FILE *f, const point *pts, int n, int md)
{
    if (md)
        fprintf(f, "| replicas | servers c | offered req/s | achieved req/s | p50 s | p95 s | "
                   "p99 s | predicted p95 s | p95 error | within 20%% | simulated p95, 90%% of "
                   "runs this long, s | in band | steady-state p95 (simulated) s | errors |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|:---:|---:|---:|\n");
    else
        fprintf(f, "%8s %7s %9s %10s %7s %7s %7s %8s %8s %6s %13s %7s %6s %9s\n", "replicas",
                "servers", "offered/s", "achieved/s", "p50 s", "p95 s", "p99 s", "pred p95",
                "p95 err", "<=20%", "sim p95 band", "in band", "errors", "other cpu");
    for (int i = 0; i < n; i++) {
        const point *p = &pts[i];
        const char *w = within20(p->err_pct) ? "yes" : "no", *ib = in_band(p) ? "yes" : "no";
        char band[48];
        snprintf(band, sizeof band, "%.3f-%.3f", p->band_lo, p->band_hi);
        if (md)
            fprintf(
                f,
                "| %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %+.1f%% | %s | %s | %s | "
                "%.3f | %llu |\n",
                p->replicas, p->servers, p->offered, p->res.rps, p->p50, p->p95, p->p99,
                p->pred.t_q, p->err_pct, w, band, ib, p->steady_p95, (unsigned long long)p->errors);
        else
            fprintf(f,
                    "%8d %7d %9.3f %10.3f %7.3f %7.3f %7.3f %8.3f %+7.1f%% %6s %13s %7s %6llu "
                    "%9.2f\n",
                    p->replicas, p->servers, p->offered, p->res.rps, p->p50, p->p95, p->p99,
                    p->pred.t_q, p->err_pct, w, band, ib, (unsigned long long)p->errors,
                    p->other_cpus);
    }
}

/* The conditions of each point: what the model was not told. */
static void print_conditions(FILE *f, const point *pts, int n)
{
    fprintf(f, "| replicas | measured mean s | predicted mean s | sttd processing under load, "
               "mean s | slowdown vs idle | predicted p95 with that slowdown s | CPUs used by "
               "this run | CPUs used by other work | CPUs stolen |\n"
               "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n; i++) {
        const point *p = &pts[i];
        char loaded[32];
        if (p->pred_loaded.stable)
            snprintf(loaded, sizeof loaded, "%.3f", p->pred_loaded.t_q);
        else
            snprintf(loaded, sizeof loaded, "unstable (rho %.2f)", p->pred_loaded.rho);
        fprintf(f, "| %d | %.3f | %.3f | %.3f | %.2fx | %s | %.2f | %.2f | %.2f |\n", p->replicas,
                p->mean, p->pred.t_mean, process_mean_s(p), p->slowdown, loaded, p->own_cpus,
                p->other_cpus, p->steal_cpus);
    }
}

static int write_report(const config *c, const svc *sv, const point *pts, int n,
                        const char *harness_cpus, int navail, const stt_upload *b)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/replicas_report.md", c->out);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    stt_sysinfo si;
    stt_sysinfo_get(&si);
    fprintf(f, "# Replicas: measured against the M/G/c model\n\n");
    fprintf(f,
            "Machine: %s, %d CPU(s) usable. Each replica: sttd in its own network namespace, "
            "%d CPU(s), %d worker(s), profile `%s`; load: `%s` (%.1f s of audio), open-loop "
            "Poisson at rho = %.2f, %d counted requests per point, through haproxy on the host "
            "(leastconn, `maxconn %d` per replica). Service time on one idle replica: mean "
            "%.3f s, p50 %.3f s, p95 %.3f s (%d sequential requests). Results: "
            "`replicas.json`.\n\n",
            si.cpu_model, navail, c->cores, c->workers, c->profile, c->file, b->audio_s, c->load,
            c->requests, c->workers, sv->mean, sv->p50, sv->p95, sv->n);
    print_table(f, pts, n, 1);
    fprintf(f, "\nConditions of each point:\n\n");
    print_conditions(f, pts, n);
    int within = 0, inb = 0;
    for (int i = 0; i < n; i++) {
        within += within20(pts[i].err_pct);
        inb += in_band(&pts[i]);
    }
    fprintf(f,
            "\nEach row compares the p95 latency measured from each request's scheduled send "
            "time with the planner's M/G/c prediction (Erlang C with the Allen-Cunneen "
            "correction, `lib/queueing.h`) for c = replicas x workers servers at the offered "
            "rate, fed with the idle service times above: %d of %d point(s) are within 20%%. "
            "A run of %d requests is short: the band is where 90%% of the p95s of %d simulated "
            "runs of the exact first-come first-served queue fall (same servers, rate, "
            "service-time samples, warm-up and length, starting empty), and %d of %d "
            "measurement(s) lie in it; the steady-state column is that queue's p95 over a long "
            "run, so predicted against steady-state is the model's own error and measured "
            "against the band is the run's luck (arrivals drawn with seed %llu + k: the same "
            "draw in every run with that seed; achieved against offered rate shows how far it "
            "is from the rate asked for). ",
            within, n, c->requests, SIM_RUNS, inb, n, c->seed);
    if (strcmp(harness_cpus, "shared"))
        fprintf(f,
                "The load generator and haproxy ran on CPU(s) %s, apart from the replicas; the "
                "memory system and the kernel remain shared.",
                harness_cpus);
    else
        fprintf(f,
                "Limits: the replicas took all %d CPU(s), so the load generator and haproxy ran "
                "on the replicas' CPUs (on a 2-core machine two 1-core replicas share the "
                "machine with the generator and haproxy), and a namespace separates network "
                "stacks, not caches or memory bandwidth; where sttd's processing time under "
                "load exceeds the idle service time, the model was given too little work.",
                navail);
    for (int i = 0; i < n; i++)
        if (pts[i].other_cpus > 0.2 || pts[i].steal_cpus > 0.2)
            fprintf(f,
                    " During the %d-replica point other work on this machine used %.2f CPUs "
                    "and the hypervisor took %.2f: that point measured a machine shared with "
                    "them, not the fleet alone.",
                    pts[i].replicas, pts[i].other_cpus, pts[i].steal_cpus);
    fprintf(f, "\n");
    fclose(f);
    return 0;
}

static void step_progress(void *arg, double elapsed, uint64_t done)
{
    const point *p = arg;
    fprintf(stderr, "\r\033[Ksttbench replicas: k=%d: %.0f s, %llu/%d requests", p->replicas,
            elapsed, (unsigned long long)done, p->requests);
}

/* Warms every replica with SVC_WARMUP requests, then times SVC_SAMPLES
 * sequential requests sent straight to replica 0 (no haproxy, nothing else
 * running): the service-time distribution the model is given. */
static int measure_service(const hosts_replica *rs, int n, const stt_upload *b,
                           const char *profile, svc *sv, char *err, size_t errlen)
{
    char url[160];
    for (int i = 0; i < n; i++) {
        snprintf(url, sizeof url, "%s/v1/audio/transcriptions", rs[i].url);
        for (int j = 0; j < SVC_WARMUP; j++) {
            double t;
            if (post_once(url, b, profile, &t, err, errlen)) {
                err_prefix(err, errlen, "replica %d warm-up: ", i);
                return -1;
            }
        }
    }
    say("measuring the service time: %d sequential requests on replica 0", SVC_SAMPLES);
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", rs[0].url);
    for (sv->n = 0; sv->n < SVC_SAMPLES; sv->n++)
        if (post_once(url, b, profile, &sv->s[sv->n], err, errlen)) {
            err_prefix(err, errlen, "service-time request %d: ", sv->n + 1);
            return -1;
        }
    double sorted[SVC_SAMPLES];
    memcpy(sorted, sv->s, sizeof sorted);
    gsl_sort(sorted, 1, (size_t)sv->n);
    sv->mean = gsl_stats_mean(sorted, 1, (size_t)sv->n);
    sv->p50 = gsl_stats_quantile_from_sorted_data(sorted, 1, (size_t)sv->n, 0.50);
    sv->p95 = gsl_stats_quantile_from_sorted_data(sorted, 1, (size_t)sv->n, 0.95);
    say("service time: mean %.3f s, p50 %.3f s, p95 %.3f s", sv->mean, sv->p50, sv->p95);
    return 0;
}

/* The model at arrival rate lambda for the point's servers, with the service
 * samples multiplied by scale. */
static int predict(const point *p, const svc *sv, double lambda, double scale, stt_mgc_result *r,
                   char *err, size_t errlen)
{
    double scaled[SVC_SAMPLES];
    for (int i = 0; i < sv->n; i++)
        scaled[i] = sv->s[i] * scale;
    stt_mgc_params mp = stt_mgc_default_params();
    mp.servers = p->servers;
    mp.lambda = lambda;
    mp.ca2 = 1; /* Poisson arrivals */
    mp.service_s = scaled;
    mp.weight = NULL;
    mp.n = (size_t)sv->n;
    mp.quantile = 0.95;
    return stt_mgc_eval(&mp, r, err, errlen);
}

/* CPU seconds the machine spent busy (user, nice, system, irq, softirq) and
 * stolen by the hypervisor, from /proc/stat. Returns 0 or -1. */
static int machine_cpu(double *busy_s, double *steal_s)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long u = 0, ni = 0, sy = 0, id = 0, io = 0, irq = 0, sirq = 0, st = 0;
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &id, &io,
                       &irq, &sirq, &st)
              : 0;
    if (f) fclose(f);
    double hz = (double)sysconf(_SC_CLK_TCK);
    *busy_s = (double)(u + ni + sy + irq + sirq) / hz;
    *steal_s = (double)st / hz;
    return n >= 7 ? 0 : -1;
}

/* CPU seconds used so far by this run: the replicas' trees, haproxy's, and
 * this process (all its threads). */
static double own_cpu_s(void)
{
    double s = hosts_cpu_s();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return s + (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One point: haproxy before replicas 0..p->replicas-1, an open-loop Poisson
 * step at rho x servers / mean service time, and the model's prediction. */
static int run_point(const config *c, const hosts_replica *rs, const int *spare, int nspare,
                     const svc *sv, const stt_upload *b, point *p, char *err, size_t errlen)
{
    p->servers = p->replicas * c->workers;
    p->requests = c->requests;
    p->offered = c->load * p->servers / sv->mean;
    p->warmup_s = fmax(1.0, 2.0 / p->offered); /* about two requests */
    int port = hosts_haproxy_start(p->replicas, rs, c->workers, spare, nspare, err, errlen);
    if (port < 0) return -1;
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/audio/transcriptions", port);
    say("k=%d replica(s), c=%d: %d Poisson requests at %.3f/s (about %.0f s)", p->replicas,
        p->servers, c->requests, p->offered, p->warmup_s + c->requests / p->offered);
    stt_load_params lp = stt_load_default_params();
    lp.url = url;
    lp.model = c->profile;
    lp.bodies = b;
    lp.nbodies = 1;
    lp.threads = 1;
    lp.timeout_s = HOSTS_REQ_TIMEOUT_S;
    if (tty) {
        lp.progress = step_progress;
        lp.progress_arg = p;
    }
    stt_load_step st = {0};
    st.mode = STT_LOAD_OPEN;
    st.rate = p->offered;
    st.arrival = STT_ARRIVAL_POISSON;
    st.requests = c->requests;
    st.warmup_s = p->warmup_s;
    st.seed = c->seed + (uint64_t)p->replicas;
    double busy0, steal0, own0 = own_cpu_s(), t0 = bench_now_s();
    int have_cpu = machine_cpu(&busy0, &steal0) == 0;
    int rc = stt_load_run_step(&lp, &st, &p->res, err, errlen);
    double busy1, steal1, own1 = own_cpu_s(), wall = bench_now_s() - t0;
    have_cpu = have_cpu && machine_cpu(&busy1, &steal1) == 0 && wall > 0;
    p->busy_cpus = have_cpu ? (busy1 - busy0) / wall : NAN;
    p->steal_cpus = have_cpu ? (steal1 - steal0) / wall : NAN;
    p->own_cpus = (own1 - own0) / wall;
    p->other_cpus = have_cpu ? fmax(0, p->busy_cpus - p->own_cpus) : NAN;
    if (tty) fprintf(stderr, "\r\033[K");
    hosts_haproxy_stop();
    if (rc) return -1;
    p->have_res = 1;
    for (int e = 0; e < STT_LOAD_ERR_N; e++)
        p->errors += p->res.errors[e];
    if (!p->res.ok) {
        snprintf(err, errlen, "k=%d: no request succeeded through haproxy", p->replicas);
        return -1;
    }
    p->p50 = pct_s(p->res.latency, 50);
    p->p95 = pct_s(p->res.latency, 95);
    p->p99 = pct_s(p->res.latency, 99);
    p->mean = stt_histogram_mean(p->res.latency) / 1e6;
    p->slowdown = process_mean_s(p) / sv->mean;
    if (predict(p, sv, p->offered, 1, &p->pred, err, errlen) ||
        predict(p, sv, p->res.ok_rps, 1, &p->pred_achieved, err, errlen) ||
        predict(p, sv, p->offered, isfinite(p->slowdown) ? p->slowdown : 1, &p->pred_loaded, err,
                errlen))
        return -1;
    p->err_pct = 100 * (p->pred.t_q - p->p95) / p->p95;
    /* The exact queue the model approximates, at the offered rate with the
     * idle service times: what runs of this length show, and its long run. */
    stt_mgc_params mp = stt_mgc_default_params();
    mp.servers = p->servers;
    mp.lambda = p->offered;
    mp.service_s = sv->s;
    mp.n = (size_t)sv->n;
    mp.quantile = 0.95;
    stt_mgc_sim sim;
    if (stt_mgc_simulate(&mp, p->requests, p->warmup_s, SIM_RUNS,
                         (unsigned long)(c->seed + (unsigned long long)p->servers), &sim, err,
                         errlen))
        return -1;
    p->band_lo = sim.lo;
    p->band_mid = sim.mid;
    p->band_hi = sim.hi;
    p->steady_p95 = sim.steady;
    say("k=%d: %.3f req/s achieved, p95 %.3f s measured, %.3f s predicted (%+.1f%%), %llu "
        "error(s); sttd %.2fx slower than idle, other work on the machine %.2f CPUs",
        p->replicas, p->res.rps, p->p95, p->pred.t_q, p->err_pct, (unsigned long long)p->errors,
        p->slowdown, p->other_cpus);
    return 0;
}

/* ---- main ---- */

int bench_replicas_main(int argc, char **argv)
{
    config c = {.cores = 1,
                .workers = 1,
                .requests = 120,
                .load = 0.7,
                .seed = SEED,
                .profile = "fast",
                .file = "corpus/speech_0008s.wav",
                .out = "results/replicas"};
    const char *replicas_arg = "1,2", *sttd_arg = NULL;
    static const struct option opts[] = {
        {"replicas", required_argument, 0, 'r'}, {"cores-per-replica", required_argument, 0, 'c'},
        {"workers", required_argument, 0, 'w'},  {"profile", required_argument, 0, 'p'},
        {"file", required_argument, 0, 'f'},     {"load", required_argument, 0, 'l'},
        {"requests", required_argument, 0, 'n'}, {"out", required_argument, 0, 'o'},
        {"sttd", required_argument, 0, 's'},     {"seed", required_argument, 0, 'S'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int o;
    optind = 1;
    opterr = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
            replicas_arg = optarg;
            break;
        case 'c':
            if (bench_parse_int(optarg, 1, MAXCPU, &c.cores)) {
                say("--cores-per-replica needs a whole number >= 1, got '%s'", optarg);
                return 2;
            }
            break;
        case 'w':
            if (bench_parse_int(optarg, 1, 256, &c.workers)) {
                say("--workers needs a whole number in 1..256, got '%s'", optarg);
                return 2;
            }
            break;
        case 'p':
            c.profile = optarg;
            break;
        case 'f':
            c.file = optarg;
            break;
        case 'l':
            if (bench_parse_double(optarg, &c.load, 1e-9) || !(c.load < 1)) {
                say("--load needs a utilisation 0 < RHO < 1, got '%s' (at 1 or more the queue "
                    "grows without bound)",
                    optarg);
                return 2;
            }
            break;
        case 'n':
            if (bench_parse_int(optarg, 100, 1000000, &c.requests)) {
                say("--requests needs a whole number >= 100 (a p95 needs that many), got '%s'",
                    optarg);
                return 2;
            }
            break;
        case 'o':
            c.out = optarg;
            break;
        case 's':
            sttd_arg = optarg;
            break;
        case 'S': {
            char *end;
            errno = 0;
            c.seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || optarg[0] == '-') {
                say("--seed needs a whole number >= 0, got '%s'", optarg);
                return 2;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "see sttbench replicas --help\n");
            return 2;
        }
    }
    if (optind < argc) {
        say("unexpected argument '%s' (see --help)", argv[optind]);
        return 2;
    }
    if ((c.nreplicas = parse_list(replicas_arg, c.replicas, MAXR)) <= 0) {
        say("--replicas needs a list of replica counts in 1..%d like 1,2, got '%s'", MAXR,
            replicas_arg);
        return 2;
    }
    for (int i = 0; i < c.nreplicas; i++)
        if (c.replicas[i] > c.kmax) c.kmax = c.replicas[i];
    if (stt_profile_index(c.profile) < 0) {
        say("unknown --profile '%s' (valid: %s)", c.profile, stt_profile_list());
        return 2;
    }
    if (sttd_arg) {
        snprintf(c.sttd, sizeof c.sttd, "%s", sttd_arg);
    } else {
        char bin[PATH_MAX];
        stt_sut_exe_dir(bin, sizeof bin);
        snprintf(c.sttd, sizeof c.sttd, "%.*s/sttd", PATH_MAX - 8, bin);
    }
    if (bench_mkdirs(c.out)) {
        say("cannot create %s: %s", c.out, strerror(errno));
        return 1;
    }

    /* What this machine must offer; without it the run is skipped, not failed. */
    const char *skip = NULL;
    if (geteuid() != 0)
        skip = "not root: network namespaces and veth links need CAP_SYS_ADMIN and "
               "CAP_NET_ADMIN";
    else if (!in_path("ip"))
        skip = "ip (iproute2) not found in PATH";
    else if (!in_path("haproxy"))
        skip = "haproxy not found in PATH";
    if (skip) return write_skipped(c.out, skip);

    int avail[MAXCPU];
    int navail = allowed_cpus(avail, MAXCPU);
    if (c.kmax * c.cores > navail) {
        say("%d replica(s) x %d CPU(s) need %d CPUs; this process may use %d. Lower --replicas "
            "or --cores-per-replica",
            c.kmax, c.cores, c.kmax * c.cores, navail);
        return 2;
    }
    if (access(c.sttd, X_OK)) {
        say("cannot run --sttd %s: %s", c.sttd, strerror(errno));
        return 2;
    }
    stt_upload body;
    if (stt_upload_read(c.file, 1, &body, NULL, 0)) {
        say("cannot read --file %s: %s", c.file, strerror(errno));
        return 2;
    }
    /* The harness (this process's load threads and haproxy) gets the CPUs the
     * replicas leave; when there are none it shares theirs. */
    int *spare = avail + c.kmax * c.cores, nspare = navail - c.kmax * c.cores;
    char harness_cpus[256] = "shared";
    if (nspare > 0) cpu_list(spare, nspare, harness_cpus, sizeof harness_cpus);

    tty = isatty(2);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int have_guard = hosts_guard_start() == 0;

    int status = 1, skipped = 0, npts = 0;
    char err[1024] = "";
    hosts_replica rs[MAXR];
    memset(rs, 0, sizeof rs);
    point *pts = calloc((size_t)c.nreplicas, sizeof *pts);
    svc sv = {0};
    int subnet = -1;

    if (hosts_open(err, sizeof err) || !pts || !have_guard) goto done;
    if ((subnet = hosts_free_subnet()) < 0) {
        snprintf(err, sizeof err, "no free 10.213.X.0/24 for the replica links");
        goto done;
    }

    for (int i = 0; i < c.kmax; i++) {
        int rc = hosts_net_up(i, subnet, &rs[i], err, sizeof err);
        if (rc == -2 && i == 0) {
            char reason[1100];
            snprintf(reason, sizeof reason, "cannot create a network namespace: %s", err);
            hosts_teardown(5);
            status = write_skipped(c.out, reason);
            skipped = 1;
            goto done;
        }
        if (rc) goto done;
    }
    for (int i = 0; i < c.kmax; i++) {
        say("replica %d: starting sttd in netns %s at %s:%d", i, rs[i].ns, rs[i].addr,
            HOSTS_STTD_PORT);
        if (hosts_replica_start(i, c.sttd, c.profile, c.cores, c.workers, &rs[i], err, sizeof err))
            goto done;
        say("replica %d ready on CPU(s) %s (verified)", i, rs[i].cpus);
    }
    if (nspare > 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int i = 0; i < nspare; i++)
            CPU_SET(spare[i], &set);
        /* Threads started from here on (the load generator's) inherit this. */
        sched_setaffinity(0, sizeof set, &set);
        say("generator and haproxy on CPU(s) %s", harness_cpus);
    } else {
        say("no CPU left over: the generator and haproxy share the replicas' CPUs");
    }

    if (measure_service(rs, c.kmax, &body, c.profile, &sv, err, sizeof err)) goto done;
    for (int i = 0; i < c.nreplicas; i++) {
        pts[i].replicas = c.replicas[i];
        if (run_point(&c, rs, spare, nspare, &sv, &body, &pts[i], err, sizeof err)) goto done;
        npts++;
    }
    status = 0;

done:
    hosts_teardown(10);
    if (status == 0 && !skipped) {
        print_table(stdout, pts, npts, 0);
        json_t *svcj = json_array();
        for (int i = 0; i < sv.n; i++)
            json_array_append_new(svcj, bench_jnum(sv.s[i]));
        json_t *ptsj = json_array();
        for (int i = 0; i < npts; i++)
            json_array_append_new(ptsj, point_json(&pts[i]));
        char when[32];
        utc_now(when, sizeof when);
        json_t *root = json_pack(
            "{s:s, s:s, s:s, s:o, s:o, s:o, s:{s:i, s:o, s:o, s:o, s:s, s:o}, s:o}", "tool",
            "sttbench replicas", "version", STT_VERSION, "created", when, "machine",
            bench_host_json(), "git_commit", bench_git_commit(), "config",
            config_json(&c, &body, subnet, rs, harness_cpus, navail), "service_time", "n", sv.n,
            "mean_s", bench_jnum(sv.mean), "p50_s", bench_jnum(sv.p50), "p95_s", bench_jnum(sv.p95),
            "measured_on", "replica 0, direct (no haproxy), sequential, idle", "samples", svcj,
            "points", ptsj);
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/replicas.json", c.out);
        if (!root || json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS)) {
            say("cannot write %s", path);
            status = 1;
        }
        json_decref(root);
        if (write_report(&c, &sv, pts, npts, harness_cpus, navail, &body)) {
            say("cannot write %s/replicas_report.md", c.out);
            status = 1;
        }
        if (!status)
            printf("results in %s/replicas.json and %s/replicas_report.md\n", c.out, c.out);
    } else if (!skipped) {
        say("%s", err[0] ? err : "failed");
    }
    for (int i = 0; i < c.kmax; i++)
        stt_cpulimit_free(rs[i].limit);
    for (int i = 0; pts && i < c.nreplicas; i++)
        if (pts[i].have_res) stt_load_result_free(&pts[i].res);
    free(pts);
    free((void *)body.data);
    hosts_guard_stop();
    curl_global_cleanup();
    return status;
}
