/* sttbench load: concurrency and rate sweeps against a speech-to-text server. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "corpus.h"
#include "error.h"
#include "loadgen.h"
#include "sttbench.h"
#include "sttbench_common.h"

#define MAX_STEPS 64
#define MAX_BODIES 256

typedef struct {
    const char *url, *api, *method, *file, *mix, *model, *out, *arrival_name;
    const char *mix_weights, *mix_formats; /* corpus manifest selection */
    double mix_max_duration;
    double values[MAX_STEPS];
    int nvalues;
    int open; /* --rate given */
    stt_load_arrival arrival;
    double duration, warmup, timeout, slo_p95;
    long requests, min_requests;
    int threads, max_inflight, find_max, retry_after;
    unsigned long long seed;
    char full_url[2048];
    const char *concurrency_arg, *rate_arg;
} config;

typedef struct {
    stt_load_step step;
    stt_load_result res;
} step_run;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sttbench load --url URL [options]\n"
        "\n"
        "Drives a speech-to-text server (sttd, OpenAI-compatible or whisper.cpp) with a\n"
        "closed-loop concurrency sweep or an open-loop rate sweep and reports throughput,\n"
        "latency percentiles (open loop: from the scheduled send time), errors and the knee.\n"
        "\n"
        "  --url URL              server; a URL without a path gets the --api route\n"
        "  --api openai|whisper-cpp  /v1/audio/transcriptions (default) or /inference\n"
        "  --method POST|GET      POST uploads audio (default); GET sends bare GETs\n"
        "                         (a URL without a path then gets /health)\n"
        "  --file AUDIO           the upload, read once into memory\n"
        "  --mix MANIFEST         several uploads: the corpus manifest (corpus/manifest,\n"
        "                         its .json or .tsv, or the corpus folder), or a list with\n"
        "                         one 'PATH [WEIGHT]' per line ('#' comments, paths relative\n"
        "                         to the list's folder)\n"
        "  --mix-weights F=W,...  corpus manifest: weight W (>= 0; 0 leaves it out) of file F;\n"
        "                         files not named weigh 1\n"
        "  --mix-max-duration S   corpus manifest: only files of at most S seconds\n"
        "  --mix-formats wav,...  corpus manifest: only files of these formats\n"
        "  --concurrency 1,2,4,8  closed loop: requests kept in flight per step (default)\n"
        "  --rate R1,R2,...       open loop: requests per second per step\n"
        "  --arrival constant|poisson  open-loop arrivals (default constant)\n"
        "  --duration S           measured seconds per step (default 10)\n"
        "  --requests N           or: this many counted requests per step\n"
        "  --warmup S             unmeasured seconds before each step (default 2)\n"
        "  --threads N            generator threads (default 1)\n"
        "  --timeout S            per request (default 120)\n"
        "  --max-inflight N       open-loop cap on requests in flight (default 1024)\n"
        "  --retry-after          closed loop: after a 503 with Retry-After, that client\n"
        "                         waits as told (at most 60 s) instead of resending at once\n"
        "  --model PROFILE        multipart 'model' field (default balanced)\n"
        "  --seed N               Poisson arrivals and mix order (default 1)\n"
        "  --find-max-rate        search the highest open-loop rate meeting --slo\n"
        "  --slo p95=SECONDS      latency objective for --find-max-rate\n"
        "  --min-requests N       requests per search probe (default 100; --requests raises it)\n"
        "  --out DIR              write load.json, load_report.md and charts there\n"
        "  --help                 this text\n"
        "\n"
        "Exit status: 0 done, 1 failure, 2 usage.\n");
}

static int parse_list(const char *s, double *out, int *n)
{
    *n = 0;
    char *copy = strdup(s), *save = NULL;
    if (!copy) return -1;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        double v = strtod(tok, &end);
        if (*end || !(v > 0) || *n >= MAX_STEPS) {
            free(copy);
            return -1;
        }
        out[(*n)++] = v;
    }
    free(copy);
    return *n > 0 ? 0 : -1;
}

/* The corpus folder when path names a corpus manifest (the folder itself,
 * DIR/manifest, DIR/manifest.json or DIR/manifest.tsv with manifest.json beside
 * it), else NULL: a PATH [WEIGHT] list. malloc'd. */
static char *corpus_dir_of(const char *path)
{
    struct stat st;
    char buf[4096];
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, sizeof buf, "%s/manifest.json", path);
        return access(buf, R_OK) == 0 ? strdup(path) : NULL;
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strcmp(base, "manifest") && strcmp(base, "manifest.json") && strcmp(base, "manifest.tsv"))
        return NULL;
    int dirlen = slash ? (int)(slash - path) : 1;
    snprintf(buf, sizeof buf, "%.*s/manifest.json", dirlen, slash ? path : ".");
    if (access(buf, R_OK)) return NULL;
    buf[strlen(buf) - strlen("/manifest.json")] = 0;
    return strdup(buf);
}

/* 1 when name is one of the comma-separated items of list (NULL: all). */
static int in_list(const char *list, const char *name)
{
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, name, n)) return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

/* The weight --mix-weights gives file (1 when not named); -1 when the list is
 * malformed. */
static double named_weight(const char *weights, const char *file)
{
    if (!weights) return 1;
    size_t n = strlen(file);
    for (const char *p = weights; *p;) {
        size_t k = strcspn(p, ",");
        const char *eq = memchr(p, '=', k);
        if (!eq) return -1;
        if ((size_t)(eq - p) == n && !strncmp(p, file, n)) {
            char num[64];
            size_t vl = k - (size_t)(eq + 1 - p);
            if (vl == 0 || vl >= sizeof num) return -1;
            memcpy(num, eq + 1, vl);
            num[vl] = 0;
            double w;
            return bench_parse_double(num, &w, 0) ? -1 : w;
        }
        p += k + (p[k] == ',');
    }
    return 1;
}

/* Uploads from the corpus manifest of dir, selected and weighted by the
 * --mix-* options. Weights are whole numbers of turns in the request order, so
 * a fractional weight is rounded (at least 1 for a file kept). */
static int load_corpus_mix(const config *c, const char *dir, stt_upload *bodies, size_t *n,
                           char **paths)
{
    stt_corpus_entry *e = NULL;
    size_t ne = 0;
    char err[512];
    if (stt_corpus_load_manifest(dir, &e, &ne, err, sizeof err)) {
        fprintf(stderr, "sttbench load: %s\n", err);
        return -1;
    }
    int rc = 0;
    /* Every name in --mix-weights must be a file of the manifest. */
    for (const char *p = c->mix_weights; p && *p && !rc;) {
        size_t k = strcspn(p, ",");
        const char *eq = memchr(p, '=', k);
        size_t nl = eq ? (size_t)(eq - p) : k;
        int found = 0;
        for (size_t i = 0; i < ne && !found; i++)
            found = strlen(e[i].file) == nl && !strncmp(e[i].file, p, nl);
        if (!found) {
            fprintf(stderr, "sttbench load: --mix-weights: %.*s is not in %s/manifest.json\n",
                    (int)nl, p, dir);
            rc = -1;
        }
        p += k + (p[k] == ',');
    }
    *n = 0;
    for (size_t i = 0; i < ne && !rc; i++) {
        double w = named_weight(c->mix_weights, e[i].file);
        if (w < 0) {
            fprintf(stderr, "sttbench load: --mix-weights takes FILE=WEIGHT,...\n");
            rc = -1;
            break;
        }
        if (w == 0 || !in_list(c->mix_formats, e[i].format) ||
            (c->mix_max_duration > 0 && e[i].duration_s > c->mix_max_duration))
            continue;
        if (*n >= MAX_BODIES) {
            fprintf(stderr, "sttbench load: more than %d files in the mix\n", MAX_BODIES);
            rc = -1;
            break;
        }
        char *full = malloc(strlen(dir) + strlen(e[i].file) + 2);
        if (!full) {
            rc = -1;
            break;
        }
        sprintf(full, "%s/%s", dir, e[i].file);
        unsigned wi = w < 1 ? 1 : (unsigned)lround(w);
        if (stt_upload_read(full, wi, &bodies[*n], NULL, 0)) {
            fprintf(stderr, "sttbench load: cannot read %s\n", full);
            free(full);
            rc = -1;
            break;
        }
        paths[*n] = full;
        bodies[*n].filename = strrchr(full, '/') + 1;
        if (e[i].duration_s > 0) bodies[*n].audio_s = e[i].duration_s;
        (*n)++;
    }
    stt_corpus_free_entries(e, ne);
    if (!rc && *n == 0) {
        fprintf(stderr, "sttbench load: no file of %s/manifest.json is selected\n", dir);
        rc = -1;
    }
    return rc;
}

/* Reads the mix's uploads; paths are kept alive in *paths for the bodies. */
static int load_mix(const config *c, stt_upload *bodies, size_t *n, char **paths)
{
    const char *manifest = c->mix;
    char *cdir = corpus_dir_of(manifest);
    if (cdir) {
        int rc = load_corpus_mix(c, cdir, bodies, n, paths);
        free(cdir);
        return rc;
    }
    if (c->mix_weights || c->mix_formats || c->mix_max_duration > 0) {
        fprintf(stderr, "sttbench load: --mix-weights, --mix-formats and --mix-max-duration "
                        "apply to a corpus manifest only\n");
        return -1;
    }
    FILE *f = fopen(manifest, "r");
    if (!f) {
        fprintf(stderr, "sttbench load: cannot open %s: %s\n", manifest, strerror(errno));
        return -1;
    }
    char dir[1024] = ".";
    const char *slash = strrchr(manifest, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - manifest), manifest);
    char line[2048];
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        char path[1536];
        unsigned weight = 1;
        if (sscanf(p, "%1535s %u", path, &weight) < 1) continue;
        if (*n >= MAX_BODIES) break;
        char *full = malloc(strlen(dir) + strlen(path) + 2);
        if (!full) break;
        if (path[0] == '/')
            strcpy(full, path);
        else
            sprintf(full, "%s/%s", dir, path);
        if (stt_upload_read(full, weight ? weight : 1, &bodies[*n], NULL, 0)) {
            fprintf(stderr, "sttbench load: cannot read %s\n", full);
            free(full);
            fclose(f);
            return -1;
        }
        paths[*n] = full;
        bodies[*n].filename = strrchr(full, '/') ? strrchr(full, '/') + 1 : full;
        (*n)++;
    }
    fclose(f);
    if (*n == 0) fprintf(stderr, "sttbench load: %s lists no audio\n", manifest);
    return *n ? 0 : -1;
}

static void resolve_url(config *c)
{
    const char *scheme = strstr(c->url, "://");
    const char *host = scheme ? scheme + 3 : c->url;
    const char *path = strchr(host, '/');
    if (path && path[1]) {
        snprintf(c->full_url, sizeof c->full_url, "%s", c->url);
        return;
    }
    const char *route = strcmp(c->method, "GET") == 0        ? "/health"
                        : strcmp(c->api, "whisper-cpp") == 0 ? "/inference"
                                                             : "/v1/audio/transcriptions";
    int hostlen = path ? (int)(path - c->url) : (int)strlen(c->url);
    snprintf(c->full_url, sizeof c->full_url, "%.*s%s", hostlen, c->url, route);
}

/* Interim: the knee rule until the sweep module holds it. */
static int stt_load_find_knee(const double *throughput, const double *p95, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (throughput[i + 1] < throughput[i] * 1.05 && p95[i + 1] > p95[i]) return (int)i;
    return -1;
}

static void progress(void *arg, double elapsed, uint64_t done)
{
    const char *label = arg;
    fprintf(stderr, "\r  %s  elapsed %6.1f s  requests done %8llu", label, elapsed,
            (unsigned long long)done);
    fflush(stderr);
}

static double pct_s(const stt_histogram *h, double p)
{
    return (double)stt_histogram_percentile(h, p) / 1e6;
}

/* A latency in milliseconds with at least three significant digits, from
 * 0.0123 ms (a GET on loopback) to 12345 ms (a long transcription). */
static const char *fmt_ms(char *buf, size_t len, double s)
{
    double ms = s * 1e3;
    int dec = ms >= 100 ? 0 : ms >= 10 ? 1 : ms >= 1 ? 2 : ms >= 0.1 ? 3 : 4;
    snprintf(buf, len, "%.*f", dec, ms);
    return buf;
}

static double offered(const step_run *r)
{
    return r->step.mode == STT_LOAD_OPEN ? r->step.rate : r->step.concurrency;
}

static uint64_t errors_total(const stt_load_result *r)
{
    uint64_t n = 0;
    for (int i = 0; i < STT_LOAD_ERR_N; i++)
        n += r->errors[i];
    return n;
}

static int run_one(const stt_load_params *p, step_run *r, const char *label, int tty)
{
    char err[256];
    char lab[128];
    snprintf(lab, sizeof lab, "%s", label);
    stt_load_params pp = *p;
    if (tty) {
        pp.progress = progress;
        pp.progress_arg = lab;
    }
    int rc = stt_load_run_step(&pp, &r->step, &r->res, err, sizeof err);
    if (tty) fprintf(stderr, "\r%-70s\r", "");
    if (rc) fprintf(stderr, "sttbench load: %s: %s\n", label, err);
    return rc;
}

/* Latency columns of the table and the report, in this order. */
static const double table_pcts[] = {50, 90, 95, 99, 99.9, 100};

static void print_header(void)
{
    printf("latency in ms; p50(unc)/p99(unc): from the first byte sent (as wrk measures); gen: "
           "CPU of the busiest generator thread\n");
    printf("%-9s %8s %8s %7s %8s %8s %8s %8s %8s %8s %9s %9s %6s %5s %5s %4s %s\n", "offered",
           "sent", "ok/s", "audio/s", "p50", "p90", "p95", "p99", "p99.9", "max", "p50(unc)",
           "p99(unc)", "errors", "late", "drop", "gen", "stable");
}

static void print_row(const step_run *r)
{
    const stt_load_result *s = &r->res;
    char off[32], v[8][24];
    if (r->step.mode == STT_LOAD_OPEN)
        snprintf(off, sizeof off, "%g/s", r->step.rate);
    else
        snprintf(off, sizeof off, "c=%d", r->step.concurrency);
    for (int i = 0; i < 6; i++)
        fmt_ms(v[i], sizeof v[i], pct_s(s->latency, table_pcts[i]));
    fmt_ms(v[6], sizeof v[6], pct_s(s->latency_uncorrected, 50));
    fmt_ms(v[7], sizeof v[7], pct_s(s->latency_uncorrected, 99));
    printf("%-9s %8llu %8.1f %7.2f %8s %8s %8s %8s %8s %8s %9s %9s %6llu %5llu %5llu %3.0f%% %s\n",
           off, (unsigned long long)s->sent, s->ok_rps, s->audio_s_per_s, v[0], v[1], v[2], v[3],
           v[4], v[5], v[6], v[7], (unsigned long long)errors_total(s), (unsigned long long)s->late,
           (unsigned long long)s->dropped, 100 * s->busiest_thread_cpu,
           s->stable ? "yes" : "UNSTABLE");
}

static json_t *hist_json(const stt_histogram *h, double scale)
{
    if (stt_histogram_count(h) == 0) return json_null();
    return json_pack(
        "{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "n", (json_int_t)stt_histogram_count(h),
        "min", stt_histogram_min(h) * scale, "mean", stt_histogram_mean(h) * scale, "p50",
        stt_histogram_percentile(h, 50) * scale, "p90", stt_histogram_percentile(h, 90) * scale,
        "p95", stt_histogram_percentile(h, 95) * scale, "p99",
        stt_histogram_percentile(h, 99) * scale, "p99_9", stt_histogram_percentile(h, 99.9) * scale,
        "max", stt_histogram_max(h) * scale);
}

static json_t *step_json(const step_run *r)
{
    const stt_load_result *s = &r->res;
    json_t *errs = json_object();
    for (int i = 0; i < STT_LOAD_ERR_N; i++)
        json_object_set_new(errs, stt_load_err_name(i), json_integer((json_int_t)s->errors[i]));
    json_t *wins = json_array();
    for (int i = 0; i < s->nwindows; i++)
        json_array_append_new(wins, json_pack("{s:f, s:f, s:f}", "rps", s->window_rps[i],
                                              "latency_mean_s", s->window_latency_s[i],
                                              "latency_uncorrected_mean_s",
                                              s->window_latency_uncorrected_s[i]));
    json_t *j = json_pack(
        "{s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:f, s:f, s:f, s:o, s:o, s:o, s:o, "
        "s:o, s:b, s:{s:f, s:f, s:i, s:f, s:b}}",
        "mode", r->step.mode == STT_LOAD_OPEN ? "open" : "closed", "offered", offered(r), "sent",
        (json_int_t)s->sent, "completed", (json_int_t)s->completed, "ok", (json_int_t)s->ok, "late",
        (json_int_t)s->late, "dropped", (json_int_t)s->dropped, "warmup_sent",
        (json_int_t)s->warmup_sent, "errors", errs, "elapsed_s", s->elapsed_s, "throughput_rps",
        s->rps, "ok_rps", s->ok_rps, "audio_s_per_s", s->audio_s_per_s, "latency_s",
        hist_json(s->latency, 1e-6), "latency_uncorrected_s",
        hist_json(s->latency_uncorrected, 1e-6), "server_queue_ms", hist_json(s->queue, 1e-3),
        "server_process_ms", hist_json(s->process, 1e-3), "windows", wins, "stable", s->stable,
        "generator", "cpu_user_s", s->cpu_user_s, "cpu_sys_s", s->cpu_sys_s, "peak_rss_kb",
        (int)s->peak_rss_kb, "busiest_thread_cpu", s->busiest_thread_cpu, "saturated",
        s->saturated);
    json_object_set_new(j, "retry_after_waits", json_integer((json_int_t)s->retry_waits));
    if (r->step.mode == STT_LOAD_OPEN)
        json_object_set_new(
            j, "arrival",
            json_string(r->step.arrival == STT_ARRIVAL_POISSON ? "poisson" : "constant"));
    return j;
}

static json_t *config_json(const config *c)
{
    json_t *vals = json_array();
    for (int i = 0; i < c->nvalues; i++)
        json_array_append_new(vals, json_real(c->values[i]));
    return json_pack(
        "{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:f, s:s, s:s, s:o, s:s, s:f, s:I, "
        "s:f, s:i, s:f, s:i, s:s?, s:I, s:b, s:f, s:I, s:b}",
        "url", c->full_url, "api", c->api, "method", c->method, "file", c->file, "mix", c->mix,
        "mix_weights", c->mix_weights, "mix_formats", c->mix_formats, "mix_max_duration_s",
        c->mix_max_duration, "mode", c->open ? "open" : "closed", "sweep",
        c->open ? "rate" : "concurrency", "values", vals, "arrival", c->arrival_name, "duration_s",
        c->duration, "requests", (json_int_t)c->requests, "warmup_s", c->warmup, "threads",
        c->threads, "timeout_s", c->timeout, "max_inflight", c->max_inflight, "model", c->model,
        "seed", (json_int_t)c->seed, "find_max_rate", c->find_max, "slo_p95_s", c->slo_p95,
        "min_requests", (json_int_t)c->min_requests, "retry_after", c->retry_after);
}

/* Writes gnuplot data and script and runs gnuplot; returns 0 when charts exist. */
static int write_charts(const char *dir, const step_run *runs, int n, int open)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/load_steps.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "# offered ok_rps p50_s p90_s p95_s p99_s p99_9_s p99_uncorrected_s\n");
    for (int i = 0; i < n; i++) {
        const stt_load_result *s = &runs[i].res;
        fprintf(f, "%g %g %g %g %g %g %g %g\n", offered(&runs[i]), s->ok_rps, pct_s(s->latency, 50),
                pct_s(s->latency, 90), pct_s(s->latency, 95), pct_s(s->latency, 99),
                pct_s(s->latency, 99.9), pct_s(s->latency_uncorrected, 99));
    }
    fclose(f);
    /* The latency distribution of every step as a percentile spectrum: x is
     * the number of nines, -log10(1 - p), so that 90%, 99% and 99.9% are evenly
     * spaced (HdrHistogram's percentile plot). One block per step. */
    static const double spectrum[] = {0,  10,    20,   30,    40,   50,    60,   70, 75,
                                      80, 85,    90,   92.5,  95,   96.25, 97.5, 98, 98.5,
                                      99, 99.25, 99.5, 99.75, 99.9, 99.95, 99.99};
    snprintf(path, sizeof path, "%s/load_distribution.dat", dir);
    f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "# one block per step (offered load in its header): percentile nines latency_s\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s\"%s%g\"\n", i ? "\n\n" : "", open ? "" : "c=", offered(&runs[i]));
        if (stt_histogram_count(runs[i].res.latency) == 0) fprintf(f, "0 0 NaN\n");
        for (size_t k = 0; k < sizeof spectrum / sizeof spectrum[0]; k++)
            if (stt_histogram_count(runs[i].res.latency))
                fprintf(f, "%g %.4f %g\n", spectrum[k], -log10(1 - spectrum[k] / 100),
                        pct_s(runs[i].res.latency, spectrum[k]));
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/load.gp", dir);
    f = fopen(path, "w");
    if (!f) return -1;
    const char *x = open ? "offered rate (requests/s)" : "concurrency (requests in flight)";
    fprintf(f,
            "# Charts of load_steps.dat; run from this folder: gnuplot load.gp\n"
            "set grid\nset key top left\nset xlabel '%s'\n"
            "do for [fmt in 'png svg'] {\n"
            "  if (fmt eq 'png') { set terminal pngcairo size 900,560 } "
            "else { set terminal svg size 900,560 }\n"
            "  set output 'load_throughput.'.fmt\n"
            "  set ylabel 'throughput (requests/s)'\n"
            "  set title 'Throughput against offered load'\n"
            "  plot 'load_steps.dat' using 1:2 with linespoints title 'achieved'%s\n"
            "  set output 'load_latency.'.fmt\n"
            "  set ylabel 'latency (s)'\n"
            "  set title 'Latency percentiles against offered load'\n"
            "  plot 'load_steps.dat' using 1:3 with linespoints title 'p50', "
            "'' using 1:5 with linespoints title 'p95', '' using 1:6 with linespoints title "
            "'p99', '' using 1:7 with linespoints title 'p99.9'%s\n"
            "  set output 'load_distribution.'.fmt\n"
            "  set title 'Latency distribution of each step'\n"
            "  set xlabel 'percentile'\n  set ylabel 'latency (s)'\n  set logscale y\n"
            "  set xtics ('0%%%%' 0, '90%%%%' 1, '99%%%%' 2, '99.9%%%%' 3, '99.99%%%%' 4)\n"
            "  plot for [i=0:*] 'load_distribution.dat' index i using 2:3 with linespoints "
            "title columnheader(1)\n"
            "  unset logscale y\n  set xtics autofreq\n  set xlabel '%s'\n"
            "  unset output\n"
            "}\n",
            x, open ? ", x with lines dashtype 2 title 'offered'" : "",
            open ? ", '' using 1:8 with linespoints dashtype 3 title 'p99 uncorrected'" : "", x);
    fclose(f);
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) return 1;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot load.gp 2>/dev/null", dir);
    if (system(cmd) != 0) {
        /* pngcairo may be missing; the plain png terminal is enough. */
        snprintf(cmd, sizeof cmd, "cd '%s' && sed -i 's/pngcairo/png/' load.gp && gnuplot load.gp",
                 dir);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

static void write_report(const char *dir, const config *c, const step_run *runs, int n, int knee,
                         double max_rate, int charts)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/load_report.md", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "sttbench load: cannot write %s\n", path);
        return;
    }
    fprintf(f, "# Load test of %s\n\n", c->full_url);
    fprintf(f,
            "%s loop, %s%s%s, %d generator thread(s), warm-up %g s, %s per step. "
            "Latency in milliseconds%s; \"unc.\": from the first byte sent, as wrk measures it; "
            "gen.: CPU of the busiest generator thread. Data: `load.json`.\n\n",
            c->open ? "Open" : "Closed", c->method, c->mix || c->file ? " " : "",
            c->mix    ? c->mix
            : c->file ? c->file
                      : "",
            c->threads, c->warmup, c->requests > 0 ? "fixed request count" : "fixed duration",
            c->open ? ", measured from each request's scheduled send time (p99 unc.: from the "
                      "actual send)"
                    : "");
    fprintf(f, "| offered | sent | ok/s | audio s/s | p50 | p90 | p95 | p99 | p99.9 | max | p50 "
               "unc. | p99 unc. | errors | late | dropped | gen. | stable |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const stt_load_result *s = &runs[i].res;
        fprintf(f, "| %s%g | %llu | %.1f | %.2f |", c->open ? "" : "c=", offered(&runs[i]),
                (unsigned long long)s->sent, s->ok_rps, s->audio_s_per_s);
        char v[24];
        for (int k = 0; k < 6; k++)
            fprintf(f, " %s |", fmt_ms(v, sizeof v, pct_s(s->latency, table_pcts[k])));
        fprintf(f, " %s |", fmt_ms(v, sizeof v, pct_s(s->latency_uncorrected, 50)));
        fprintf(f, " %s |", fmt_ms(v, sizeof v, pct_s(s->latency_uncorrected, 99)));
        fprintf(f, " %llu | %llu | %llu | %.0f%%%s | %s |\n", (unsigned long long)errors_total(s),
                (unsigned long long)s->late, (unsigned long long)s->dropped,
                100 * s->busiest_thread_cpu, s->saturated ? " **saturated**" : "",
                s->stable ? "yes" : "**no**");
    }
    int sat = 0;
    for (int i = 0; i < n; i++)
        sat += runs[i].res.saturated;
    if (sat)
        fprintf(f,
                "\n%d step(s) ran a generator thread at %.0f%% of a core or more: there the "
                "generator, not the server, may have set the pace; rerun with more `--threads` "
                "or on another machine.\n",
                sat, 100 * STT_LOAD_SATURATED);
    if (knee >= 0) {
        fprintf(f,
                "\nKnee at %s%g: throughput grows by less than 5%% beyond it while p95 "
                "latency keeps rising.\n",
                c->open ? "" : "concurrency ", offered(&runs[knee]));
        if (!c->open)
            fprintf(f,
                    "Advice for sttd: `--workers %d --queue %d` (workers = concurrency at the "
                    "knee; a queue as deep again absorbs bursts, beyond it 503).\n",
                    (int)offered(&runs[knee]), (int)offered(&runs[knee]));
    } else if (n > 1) {
        fprintf(f, "\nNo knee within the sweep: throughput still grows with load.\n");
    }
    if (c->find_max)
        fprintf(f, "\nHighest rate meeting p95 <= %g s: %s%.3g requests/s.\n", c->slo_p95,
                max_rate > 0 ? "" : "none found; ", max_rate);
    if (charts == 0)
        fprintf(f, "\n![throughput](load_throughput.svg)\n![latency](load_latency.svg)\n"
                   "![latency distribution](load_distribution.svg)\n");
    fclose(f);
}

/* Open-loop probe for the rate search; returns 1 when the SLO is met. */
static int probe(const stt_load_params *p, const config *c, double rate, step_run *r, int tty,
                 json_t *probes)
{
    memset(r, 0, sizeof *r);
    r->step.mode = STT_LOAD_OPEN;
    r->step.rate = rate;
    r->step.arrival = c->arrival;
    r->step.requests = c->requests > c->min_requests ? c->requests : c->min_requests;
    r->step.warmup_s = c->warmup;
    r->step.seed = c->seed;
    char label[64];
    snprintf(label, sizeof label, "probe %g/s", rate);
    if (run_one(p, r, label, tty)) return -1;
    uint64_t bad = errors_total(&r->res) + r->res.dropped;
    double p95 = pct_s(r->res.latency, 95);
    /* Errors count against the objective: more than 1% fails it. */
    int pass = r->res.ok > 0 && p95 <= c->slo_p95 &&
               (double)bad <= 0.01 * (double)(r->res.sent + r->res.dropped);
    fprintf(stderr, "  rate %8.3g/s: p95 %.4f s, errors %llu, dropped %llu -> %s\n", rate, p95,
            (unsigned long long)errors_total(&r->res), (unsigned long long)r->res.dropped,
            pass ? "meets SLO" : "misses SLO");
    json_array_append_new(probes, json_pack("{s:f, s:f, s:I, s:b}", "rate", rate, "p95_s", p95,
                                            "errors", (json_int_t)bad, "pass", pass));
    return pass;
}

int bench_load_main(int argc, char **argv)
{
    config c = {0};
    c.api = "openai";
    c.method = "POST";
    c.model = "balanced";
    c.arrival_name = "constant";
    c.duration = 10;
    c.warmup = 2;
    c.timeout = 120;
    c.threads = 1;
    c.max_inflight = 1024;
    c.seed = 1;
    c.min_requests = 100;
    enum {
        O_CONC = 256,
        O_RATE,
        O_ARRIVAL,
        O_FIND,
        O_SLO,
        O_MINREQ,
        O_MAXINF,
        O_API,
        O_METHOD,
        O_MIXW,
        O_MIXF,
        O_MIXD,
        O_RETRY
    };
    static const struct option opts[] = {
        {"url", required_argument, 0, 'u'},
        {"api", required_argument, 0, O_API},
        {"method", required_argument, 0, O_METHOD},
        {"file", required_argument, 0, 'f'},
        {"mix", required_argument, 0, 'x'},
        {"mix-weights", required_argument, 0, O_MIXW},
        {"mix-formats", required_argument, 0, O_MIXF},
        {"mix-max-duration", required_argument, 0, O_MIXD},
        {"retry-after", no_argument, 0, O_RETRY},
        {"concurrency", required_argument, 0, O_CONC},
        {"rate", required_argument, 0, O_RATE},
        {"arrival", required_argument, 0, O_ARRIVAL},
        {"duration", required_argument, 0, 'd'},
        {"requests", required_argument, 0, 'n'},
        {"warmup", required_argument, 0, 'w'},
        {"threads", required_argument, 0, 't'},
        {"timeout", required_argument, 0, 'T'},
        {"max-inflight", required_argument, 0, O_MAXINF},
        {"model", required_argument, 0, 'm'},
        {"out", required_argument, 0, 'o'},
        {"seed", required_argument, 0, 's'},
        {"find-max-rate", no_argument, 0, O_FIND},
        {"slo", required_argument, 0, O_SLO},
        {"min-requests", required_argument, 0, O_MINREQ},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    optind = 1;
    int o, ival;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'u':
            c.url = optarg;
            break;
        case O_API:
            c.api = optarg;
            break;
        case O_METHOD:
            c.method = optarg;
            break;
        case 'f':
            c.file = optarg;
            break;
        case 'x':
            c.mix = optarg;
            break;
        case O_MIXW:
            c.mix_weights = optarg;
            break;
        case O_MIXF:
            c.mix_formats = optarg;
            break;
        case O_RETRY:
            c.retry_after = 1;
            break;
        case O_MIXD:
            if (bench_parse_double(optarg, &c.mix_max_duration, 1e-3)) goto bad;
            break;
        case O_CONC:
            c.concurrency_arg = optarg;
            break;
        case O_RATE:
            c.rate_arg = optarg;
            break;
        case O_ARRIVAL:
            c.arrival_name = optarg;
            break;
        case 'd':
            if (bench_parse_double(optarg, &c.duration, 1e-3)) goto bad;
            break;
        case 'n':
            if (bench_parse_int(optarg, 0, INT32_MAX, &ival)) goto bad;
            c.requests = ival;
            break;
        case 'w':
            if (bench_parse_double(optarg, &c.warmup, 0)) goto bad;
            break;
        case 't':
            if (bench_parse_int(optarg, 1, 1024, &c.threads)) goto bad;
            break;
        case 'T':
            if (bench_parse_double(optarg, &c.timeout, 1e-3)) goto bad;
            break;
        case O_MAXINF:
            if (bench_parse_int(optarg, 1, 1 << 20, &c.max_inflight)) goto bad;
            break;
        case 'm':
            c.model = optarg;
            break;
        case 'o':
            c.out = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            c.seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') goto bad;
            break;
        }
        case O_FIND:
            c.find_max = 1;
            break;
        case O_SLO:
            if (strncmp(optarg, "p95=", 4) || bench_parse_double(optarg + 4, &c.slo_p95, 1e-6))
                goto bad;
            break;
        case O_MINREQ:
            if (bench_parse_int(optarg, 1, INT32_MAX, &ival)) goto bad;
            c.min_requests = ival;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !c.url) goto bad;
    if (strcmp(c.api, "openai") && strcmp(c.api, "whisper-cpp")) goto bad;
    if (strcmp(c.method, "POST") && strcmp(c.method, "GET")) goto bad;
    int post = !strcmp(c.method, "POST");
    if (post && !c.file == !c.mix) {
        fprintf(stderr, "sttbench load: POST needs exactly one of --file and --mix\n");
        return 2;
    }
    if (!strcmp(c.arrival_name, "poisson"))
        c.arrival = STT_ARRIVAL_POISSON;
    else if (strcmp(c.arrival_name, "constant"))
        goto bad;
    if (c.concurrency_arg && c.rate_arg) goto bad;
    if (c.threads < 1 || c.max_inflight < 1 || c.requests < 0 || c.min_requests < 1) goto bad;
    if (c.find_max && !(c.slo_p95 > 0)) {
        fprintf(stderr, "sttbench load: --find-max-rate needs --slo p95=SECONDS\n");
        return 2;
    }
    c.open = c.rate_arg != NULL || c.find_max;
    if (parse_list(c.rate_arg          ? c.rate_arg
                   : c.concurrency_arg ? c.concurrency_arg
                                       : "1,2,4,8",
                   c.values, &c.nvalues))
        goto bad;
    if (c.find_max && !c.rate_arg) c.values[0] = 1, c.nvalues = 1;
    resolve_url(&c);

    stt_upload bodies[MAX_BODIES];
    char *paths[MAX_BODIES] = {0};
    size_t nbodies = 0;
    if (post) {
        if (c.file) {
            if (stt_upload_read(c.file, 1, &bodies[0], NULL, 0)) {
                fprintf(stderr, "sttbench load: cannot read %s\n", c.file);
                return 1;
            }
            nbodies = 1;
        } else if (load_mix(&c, bodies, &nbodies, paths)) {
            for (size_t i = 0; i < nbodies; i++)
                free((void *)bodies[i].data), free(paths[i]);
            return 1;
        }
        for (size_t i = 0; i < nbodies; i++)
            if (bodies[i].audio_s <= 0)
                fprintf(stderr,
                        "sttbench load: cannot read the duration of %s; audio seconds count "
                        "only what the server reports in X-Audio-Duration-S\n",
                        bodies[i].filename);
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    stt_load_params p = stt_load_default_params();
    p.url = c.full_url;
    p.post = post;
    p.model = c.model;
    p.bodies = bodies;
    p.nbodies = nbodies;
    p.threads = c.threads;
    p.retry_after = c.retry_after;
    p.timeout_s = c.timeout;
    p.max_inflight = c.max_inflight;
    int tty = isatty(2);
    int status = 0;
    step_run *runs = calloc(MAX_STEPS + 64, sizeof *runs);
    int nruns = 0, knee = -1;
    double max_rate = 0;
    json_t *probes = json_array();
    if (!runs) {
        status = 1;
        goto done;
    }
    printf("sttbench load: %s %s, %s loop, %d thread(s)\n", c.method, c.full_url,
           c.open ? "open" : "closed", c.threads);

    if (c.find_max) {
        /* Double the rate until the SLO breaks, then bisect between the last pass
         * and the first failure to within 5%. */
        double lo = 0, hi = 0, rate = c.values[0];
        for (int i = 0; i < 24 && nruns < MAX_STEPS + 64; i++) {
            int pass = probe(&p, &c, rate, &runs[nruns], tty, probes);
            if (pass < 0) {
                status = 1;
                goto done;
            }
            nruns++;
            if (pass) {
                lo = rate;
                if (hi == 0) rate *= 2;
            } else {
                hi = rate;
                if (lo == 0 && rate < 1e-3) break;
            }
            if (hi > 0) {
                if (lo > 0 && (hi - lo) <= 0.05 * lo) break;
                rate = lo > 0 ? (lo + hi) / 2 : hi / 2;
            }
        }
        max_rate = lo;
        printf("highest rate with p95 <= %g s: %g requests/s\n", c.slo_p95, max_rate);
    } else {
        print_header();
        for (int i = 0; i < c.nvalues; i++) {
            step_run *r = &runs[nruns];
            r->step.mode = c.open ? STT_LOAD_OPEN : STT_LOAD_CLOSED;
            r->step.concurrency = (int)c.values[i];
            r->step.rate = c.values[i];
            r->step.arrival = c.arrival;
            r->step.duration_s = c.duration;
            r->step.requests = c.requests;
            r->step.warmup_s = c.warmup;
            r->step.seed = c.seed + (unsigned long long)i;
            char label[64];
            snprintf(label, sizeof label, "step %d/%d (%s %g)", i + 1, c.nvalues,
                     c.open ? "rate" : "concurrency", c.values[i]);
            if (run_one(&p, r, label, tty)) {
                status = 1;
                goto done;
            }
            nruns++;
            print_row(r);
            fflush(stdout);
        }
        double tput[MAX_STEPS], p95[MAX_STEPS];
        for (int i = 0; i < nruns; i++) {
            /* Answered, not refused: a server shedding load with fast 503s must
             * not look as if its throughput still grew. */
            tput[i] = runs[i].res.ok_rps;
            p95[i] = pct_s(runs[i].res.latency, 95);
        }
        knee = stt_load_find_knee(tput, p95, (size_t)nruns);
        if (knee >= 0) {
            printf("knee at %s%g (%.1f req/s, p95 %.3f s)\n", c.open ? "rate " : "concurrency ",
                   offered(&runs[knee]), tput[knee], p95[knee]);
            if (!c.open)
                printf("advice for sttd: --workers %d --queue %d\n", (int)offered(&runs[knee]),
                       (int)offered(&runs[knee]));
        } else if (nruns > 1) {
            printf("no knee within the sweep: throughput still grows\n");
        }
        for (int i = 0; i < nruns; i++)
            if (runs[i].res.saturated)
                printf("warning: step %d: a generator thread was busy %.0f%% of the time: the "
                       "generator may be what was measured; add --threads\n",
                       i + 1, 100 * runs[i].res.busiest_thread_cpu);
        for (int i = 0; i < nruns; i++)
            if (!runs[i].res.stable)
                printf("warning: step %d unstable (last three windows' throughput differ by "
                       "more than 10%%); lengthen --duration\n",
                       i + 1);
    }

    if (c.out) {
        if (mkdir(c.out, 0755) && errno != EEXIST) {
            fprintf(stderr, "sttbench load: cannot create %s: %s\n", c.out, strerror(errno));
            status = 1;
            goto done;
        }
        json_t *steps = json_array();
        for (int i = 0; i < nruns; i++)
            json_array_append_new(steps, step_json(&runs[i]));
        char when[32];
        time_t now = time(NULL);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        json_t *root =
            json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "tool", "sttbench load", "version",
                      STT_VERSION, "created", when, "machine", bench_host_json(), "git_commit",
                      bench_git_commit(), "config", config_json(&c), "steps", steps);
        json_t *uploads = json_array();
        for (size_t i = 0; i < nbodies; i++)
            json_array_append_new(uploads,
                                  json_pack("{s:s, s:I, s:f, s:I}", "file", bodies[i].filename,
                                            "weight", (json_int_t)bodies[i].weight, "audio_s",
                                            bodies[i].audio_s, "bytes", (json_int_t)bodies[i].len));
        json_object_set_new(json_object_get(root, "config"), "uploads", uploads);
        if (knee >= 0) {
            json_object_set_new(root, "knee",
                                json_pack("{s:i, s:f, s:f, s:f}", "index", knee, "offered",
                                          offered(&runs[knee]), "throughput_rps",
                                          runs[knee].res.ok_rps, "p95_s",
                                          pct_s(runs[knee].res.latency, 95)));
            if (!c.open)
                json_object_set_new(root, "advice",
                                    json_pack("{s:i, s:i}", "workers", (int)offered(&runs[knee]),
                                              "queue", (int)offered(&runs[knee])));
        } else {
            json_object_set_new(root, "knee", json_null());
        }
        if (c.find_max)
            json_object_set_new(root, "find_max_rate",
                                json_pack("{s:f, s:f, s:O}", "slo_p95_s", c.slo_p95, "max_rate",
                                          max_rate, "probes", probes));
        char path[4096];
        snprintf(path, sizeof path, "%s/load.json", c.out);
        if (json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS)) {
            fprintf(stderr, "sttbench load: cannot write %s\n", path);
            status = 1;
        }
        json_decref(root);
        int charts = c.find_max ? 1 : write_charts(c.out, runs, nruns, c.open);
        if (charts > 0 && !c.find_max)
            fprintf(stderr,
                    "sttbench load: gnuplot not found; charts skipped (data and script "
                    "are in %s)\n",
                    c.out);
        else if (charts < 0)
            fprintf(stderr, "sttbench load: gnuplot failed; charts skipped\n");
        write_report(c.out, &c, runs, nruns, knee, max_rate, charts);
        printf("results in %s/load.json and %s/load_report.md\n", c.out, c.out);
    }

done:
    for (int i = 0; runs && i < nruns; i++)
        stt_load_result_free(&runs[i].res);
    free(runs);
    json_decref(probes);
    for (size_t i = 0; i < nbodies; i++) {
        free((void *)bodies[i].data);
        free(paths[i]);
    }
    curl_global_cleanup();
    return status;

bad:
    fprintf(stderr, "sttbench load: bad or missing option (see sttbench load --help)\n");
    return 2;
}
