/* sttbench audio: time, memory and accuracy of a speech-to-text server
 * against audio length, per profile, on the benchmark corpus. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_fit.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "corpus.h"
#include "error.h"
#include "sut.h"
#include "sttbench.h"
#include "sttbench_common.h"
#include "proc.h"
#include "sysinfo.h"
#include "wer.h"

#define MAX_PROFILES 8
#define MAX_REPEAT 50
#define SAMPLE_MS 50

typedef struct config {
    const char *corpus, *url, *api, *out;
    double max_duration;
    char *profiles[MAX_PROFILES];
    int n_profiles;
    int repeat, quick, spawn, port, workers, threads, warmup;
    pid_t server_pid;
} config;

/* One request's measurements. */
typedef struct sample {
    int http_status;
    double wall_s, process_s, queue_s;
    int have_process, have_queue;
    stt_memusage before, peak;
    int mem_samples;
    char *text;
    char error[256];
} sample;

typedef struct result {
    const stt_corpus_entry *e;
    const char *profile;
    int n_ok, n;
    double wall[3], process[3], queue[3]; /* median, min, max */
    int process_from_server;
    double peak_rss, peak_pss, added_rss, added_pss; /* medians, bytes */
    stt_wer_counts wer;
    char *hypothesis;
    int http_status;
    char error[256];
} result;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min, max of v[0..n) (sorts v). */
static void spread(double *v, int n, double out[3])
{
    out[0] = out[1] = out[2] = NAN;
    if (n <= 0) return;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out[1] = v[0];
    out[2] = v[n - 1];
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    sample *s = arg;
    size_t k = size * nmemb;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(k < 255 ? k : 255), data);
    if (!strncasecmp(line, "X-Process-Time-Ms:", 18)) {
        s->process_s = atof(line + 18) / 1000.0;
        s->have_process = 1;
    } else if (!strncasecmp(line, "X-Queue-Time-Ms:", 16)) {
        s->queue_s = atof(line + 16) / 1000.0;
        s->have_queue = 1;
    }
    return k;
}

/* POSTs one file and measures it; the memory of the server tree is sampled
 * from another thread while the request runs. */
static void measure(const config *c, const char *path, const char *profile, sample *s)
{
    memset(s, 0, sizeof *s);
    char url[1024];
    int whisper = !strcmp(c->api, "whisper-cpp");
    snprintf(url, sizeof url, "%s%s", c->url, whisper ? "/inference" : "/v1/audio/transcriptions");
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(s->error, sizeof s->error, "curl_easy_init failed");
        return;
    }
    curl_mime *mime = bench_transcription_form(h, path, NULL, 0, NULL, NULL, profile);
    bench_buf body = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench_buf_append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 3600L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

    stt_memsampler *ms = NULL;
    if (c->server_pid > 0) {
        stt_proc_mem_tree(c->server_pid, &s->before, NULL, 0);
        ms = stt_memsampler_start(c->server_pid, SAMPLE_MS, NULL, 0);
    }
    double t0 = bench_now_s();
    CURLcode rc = curl_easy_perform(h);
    s->wall_s = bench_now_s() - t0;
    if (ms) stt_memsampler_stop(ms, &s->peak, &s->mem_samples);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    s->http_status = (int)status;
    s->text = bench_reply_text(rc, status, body.p, s->error, sizeof s->error);
    if (!s->have_process) s->process_s = s->wall_s;
    free(body.p);
    curl_mime_free(mime);
    curl_easy_cleanup(h);
}

/* Starts sttd from the sttbench binary's directory and waits until /ready. */
static stt_sut *spawn_server(const config *c, char *err, size_t errlen)
{
    char dir[PATH_MAX], bin[PATH_MAX + 8], cmd[PATH_MAX + 128], log[PATH_MAX];
    stt_sut_exe_dir(dir, sizeof dir);
    snprintf(bin, sizeof bin, "%s/sttd", dir);
    if (access(bin, X_OK)) {
        stt_seterr(err, errlen, STT_ENOTFOUND, "%s: not found", bin);
        return NULL;
    }
    snprintf(cmd, sizeof cmd, "{bin}/sttd --host 127.0.0.1 --port {port}%s%s",
             c->workers > 0 ? " --workers {workers}" : "",
             c->threads > 0 ? " --threads {threads}" : "");
    /* The server's log goes to a file so that it does not interleave with ours. */
    snprintf(log, sizeof log, "%s/sttd.log", c->out);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = cmd;
    sp.port = c->port;
    sp.workers = c->workers;
    sp.threads = c->threads;
    sp.log_path = log;
    return stt_sut_start(&sp, err, errlen);
}

/* Files that enter the fits and the profile table: one format (16 kHz mono WAV)
 * so that decoding cost of other formats does not bend the lines. */
static int is_reference_format(const stt_corpus_entry *e)
{
    return !strcmp(e->format, "wav") && e->sample_rate == 16000 && e->channels == 1;
}

static void run_one(const config *c, const stt_corpus_entry *e, const char *profile, result *r)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", c->corpus, e->file);
    double wall[MAX_REPEAT], proc[MAX_REPEAT], queue[MAX_REPEAT];
    double prss[MAX_REPEAT], ppss[MAX_REPEAT], arss[MAX_REPEAT], apss[MAX_REPEAT];
    memset(r, 0, sizeof *r);
    r->e = e;
    r->profile = profile;
    r->process_from_server = 1;
    for (int i = 0; i < c->repeat; i++) {
        sample s;
        measure(c, path, profile, &s);
        r->n++;
        r->http_status = s.http_status;
        if (s.error[0]) {
            snprintf(r->error, sizeof r->error, "%s", s.error);
            free(s.text);
            continue;
        }
        int k = r->n_ok++;
        wall[k] = s.wall_s;
        proc[k] = s.process_s;
        queue[k] = s.queue_s;
        r->process_from_server &= s.have_process;
        prss[k] = (double)s.peak.rss;
        ppss[k] = (double)s.peak.pss;
        arss[k] = (double)(s.peak.rss - s.before.rss);
        apss[k] = (double)(s.peak.pss - s.before.pss);
        if (!r->hypothesis) {
            r->hypothesis = s.text;
            stt_wer_align_text(e->reference, s.text, 1, &r->wer);
        } else {
            free(s.text);
        }
    }
    spread(wall, r->n_ok, r->wall);
    spread(proc, r->n_ok, r->process);
    spread(queue, r->n_ok, r->queue);
    double t[3];
    spread(prss, r->n_ok, t);
    r->peak_rss = t[0];
    spread(ppss, r->n_ok, t);
    r->peak_pss = t[0];
    spread(arss, r->n_ok, t);
    r->added_rss = t[0];
    spread(apss, r->n_ok, t);
    r->added_pss = t[0];
}

typedef struct fit {
    const char *profile, *metric;
    int n;
    double slope, intercept, r2;
} fit;

static fit fit_metric(const result *res, size_t n_res, const char *profile, const char *metric,
                      int memory)
{
    fit f = {profile, metric, 0, NAN, NAN, NAN};
    double x[256], y[256];
    for (size_t i = 0; i < n_res && f.n < 256; i++) {
        const result *r = &res[i];
        if (strcmp(r->profile, profile) || !r->n_ok || !is_reference_format(r->e)) continue;
        double v = memory ? r->peak_pss : r->process[0];
        if (!isfinite(v)) continue;
        x[f.n] = r->e->duration_s;
        y[f.n++] = v;
    }
    if (f.n < 2) return f;
    double c0, c1, c00, c01, c11, sumsq;
    gsl_fit_linear(x, 1, y, 1, (size_t)f.n, &c0, &c1, &c00, &c01, &c11, &sumsq);
    double mean = 0, sst = 0;
    for (int i = 0; i < f.n; i++)
        mean += y[i] / f.n;
    for (int i = 0; i < f.n; i++)
        sst += (y[i] - mean) * (y[i] - mean);
    f.intercept = c0;
    f.slope = c1;
    f.r2 = sst > 0 ? 1 - sumsq / sst : 1;
    return f;
}

typedef struct profile_row {
    const char *profile;
    int files;
    double audio_s, process_s;
    stt_wer_counts wer;
} profile_row;

static json_t *jspread(const double v[3])
{
    return json_pack("{s:o, s:o, s:o}", "median", bench_jnum(v[0]), "min", bench_jnum(v[1]), "max",
                     bench_jnum(v[2]));
}

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: sttbench audio --corpus DIR --out DIR [--url URL | --spawn] [options]\n"
            "\n"
            "POSTs every corpus file up to --max-duration to the server once per profile and\n"
            "records wall, queue and process time (X-Queue-Time-Ms, X-Process-Time-Ms), RTF,\n"
            "RTFx, WER against the reference, and peak RSS/PSS of the server and all its\n"
            "descendants (sampled every %d ms). Fits time and memory against duration.\n"
            "Writes DIR/audio.json, DIR/audio_report.md and charts (PNG + SVG).\n"
            "\n"
            "  --corpus DIR        corpus built by `sttbench corpus` (manifest.json)\n"
            "  --url URL           server base URL (default http://127.0.0.1:PORT)\n"
            "  --api A             openai (POST /v1/audio/transcriptions, default) or\n"
            "                      whisper-cpp (POST /inference)\n"
            "  --max-duration S    measure files up to S seconds, list the rest as skipped "
            "(600)\n"
            "  --profiles LIST     comma-separated model names (fast,balanced,accurate)\n"
            "  --repeat N          requests per file and profile; median and min/max (1)\n"
            "  --no-warmup         skip the unmeasured first request per profile\n"
            "  --quick             a few files under 70 s, first profile only\n"
            "  --server-pid PID    server process whose memory tree is sampled\n"
            "  --spawn             start build/sttd (next to sttbench; log in DIR/sttd.log)\n"
            "                      and stop it with SIGTERM at the end\n"
            "  --port P            port for --spawn (18090)\n"
            "  --workers N, --threads N   passed to the spawned sttd\n"
            "  --out DIR           output directory\n",
            SAMPLE_MS);
}

/* Says which option value is refused and why; returns -2, parse_args()'s
 * "usage error, already explained". */
static int bad_value(const char *opt, const char *v, const char *want)
{
    fprintf(stderr, "sttbench audio: bad value for --%s: '%s' (%s)\n", opt, v, want);
    return -2;
}

/* Returns 0, 1 after --help, -1 for a usage error, -2 for a bad option value
 * (already reported). */
static int parse_args(int argc, char **argv, config *c, char *url_buf, size_t url_len)
{
    static const struct option opts[] = {{"corpus", required_argument, 0, 'c'},
                                         {"url", required_argument, 0, 'u'},
                                         {"api", required_argument, 0, 'a'},
                                         {"max-duration", required_argument, 0, 'm'},
                                         {"profiles", required_argument, 0, 'p'},
                                         {"repeat", required_argument, 0, 'r'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"no-warmup", no_argument, 0, 'W'},
                                         {"server-pid", required_argument, 0, 's'},
                                         {"spawn", no_argument, 0, 'S'},
                                         {"port", required_argument, 0, 'P'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"threads", required_argument, 0, 't'},
                                         {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static char profiles_buf[512] = "fast,balanced,accurate";
    memset(c, 0, sizeof *c);
    c->api = "openai";
    c->max_duration = 600;
    c->repeat = 1;
    c->port = 18090;
    c->warmup = 1;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            c->corpus = optarg;
            break;
        case 'u':
            c->url = optarg;
            break;
        case 'a':
            c->api = optarg;
            break;
        case 'm':
            if (bench_parse_double(optarg, &c->max_duration, 0) || !isfinite(c->max_duration))
                return bad_value("max-duration", optarg, "seconds >= 0; 0: no limit");
            break;
        case 'p':
            snprintf(profiles_buf, sizeof profiles_buf, "%s", optarg);
            break;
        case 'r':
            if (bench_parse_int(optarg, 1, MAX_REPEAT, &c->repeat)) {
                char want[48];
                snprintf(want, sizeof want, "a count from 1 to %d", MAX_REPEAT);
                return bad_value("repeat", optarg, want);
            }
            break;
        case 'q':
            c->quick = 1;
            break;
        case 'W':
            c->warmup = 0;
            break;
        case 's': {
            int pid;
            if (bench_parse_int(optarg, 1, INT_MAX, &pid))
                return bad_value("server-pid", optarg, "a process id");
            c->server_pid = (pid_t)pid;
            break;
        }
        case 'S':
            c->spawn = 1;
            break;
        case 'P':
            if (bench_parse_int(optarg, 1, 65535, &c->port))
                return bad_value("port", optarg, "a TCP port from 1 to 65535");
            break;
        case 'w':
            if (bench_parse_int(optarg, 1, 4096, &c->workers))
                return bad_value("workers", optarg, "a count from 1 to 4096");
            break;
        case 't':
            if (bench_parse_int(optarg, 1, 4096, &c->threads))
                return bad_value("threads", optarg, "a count from 1 to 4096");
            break;
        case 'o':
            c->out = optarg;
            break;
        case 'h':
            print_usage(stdout);
            return 1;
        default:
            return -1;
        }
    }
    if (optind < argc || !c->corpus || !c->out || c->repeat < 1 || c->repeat > MAX_REPEAT ||
        (strcmp(c->api, "openai") && strcmp(c->api, "whisper-cpp")) || (!c->url && !c->spawn))
        return -1;
    if (!c->url) {
        snprintf(url_buf, url_len, "http://127.0.0.1:%d", c->port);
        c->url = url_buf;
    }
    for (char *save = NULL, *t = strtok_r(profiles_buf, ",", &save);
         t && c->n_profiles < MAX_PROFILES; t = strtok_r(NULL, ",", &save))
        c->profiles[c->n_profiles++] = t;
    if (c->n_profiles == 0) return -1;
    if (c->quick) c->n_profiles = 1;
    return 0;
}

/* Which entries run: under --max-duration, and under --quick only the short
 * 16 kHz WAVs. */
static int wanted(const config *c, const stt_corpus_entry *e)
{
    if (!stt_corpus_selected(e, c->max_duration)) return 0;
    if (!c->quick) return 1;
    if (e->duration_s > 70) return 0;
    return is_reference_format(e);
}

static void fmt_mb(char *out, size_t len, double bytes)
{
    if (isfinite(bytes))
        snprintf(out, len, "%.1f", bytes / (1024.0 * 1024.0));
    else
        snprintf(out, len, "n/a");
}

static int write_outputs(const config *c, const stt_sysinfo *si, const stt_corpus_entry *ent,
                         size_t n_ent, const int *sel, const result *res, size_t n_res,
                         const fit *fits, size_t n_fits, const profile_row *rows, char *err,
                         size_t errlen)
{
    char path[PATH_MAX];
    json_t *root = json_object();
    json_object_set_new(root, "tool", json_string("sttbench audio"));
    json_object_set_new(root, "version", json_string(STT_VERSION));
    json_object_set_new(root, "machine", bench_machine_json(si));
    json_object_set_new(root, "commit", json_string(bench_commit()));
    time_t t = time(NULL);
    char ts[64];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    json_object_set_new(root, "created_utc", json_string(ts));
    json_t *profiles = json_array();
    for (int i = 0; i < c->n_profiles; i++)
        json_array_append_new(profiles, json_string(c->profiles[i]));
    json_object_set_new(
        root, "config",
        json_pack("{s:s, s:s, s:s, s:f, s:o, s:i, s:b, s:b, s:b, s:i, s:i, s:i, s:i}", "corpus",
                  c->corpus, "url", c->url, "api", c->api, "max_duration_s", c->max_duration,
                  "profiles", profiles, "repeat", c->repeat, "quick", c->quick, "spawn", c->spawn,
                  "warmup", c->warmup, "server_pid", (int)c->server_pid, "workers", c->workers,
                  "threads", c->threads, "memory_sample_ms", SAMPLE_MS));
    json_t *jr = json_array();
    for (size_t i = 0; i < n_res; i++) {
        const result *r = &res[i];
        double rtf = r->process[0] / r->e->duration_s;
        json_t *o = json_pack(
            "{s:s, s:s, s:f, s:I, s:s, s:i, s:i, s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:s, s:o, "
            "s:o}",
            "file", r->e->file, "format", r->e->format, "duration_s", r->e->duration_s, "bytes",
            (json_int_t)r->e->bytes, "profile", r->profile, "sample_rate", r->e->sample_rate,
            "channels", r->e->channels, "process_time_source",
            r->process_from_server ? "X-Process-Time-Ms" : "client wall time", "n", r->n, "n_ok",
            r->n_ok, "http_status", r->http_status, "wall_s", jspread(r->wall), "process_s",
            jspread(r->process), "queue_s", jspread(r->queue), "memory_scope",
            c->server_pid > 0 ? "server and descendants" : "not sampled", "rtf", bench_jnum(rtf),
            "rtfx", bench_jnum(1 / rtf));
        json_object_set_new(o, "wer",
                            json_pack("{s:o, s:I, s:I, s:I, s:I}", "rate",
                                      r->n_ok ? bench_jnum(stt_wer_rate(&r->wer)) : json_null(),
                                      "ref_words", (json_int_t)r->wer.ref_words, "substitutions",
                                      (json_int_t)r->wer.substitutions, "deletions",
                                      (json_int_t)r->wer.deletions, "insertions",
                                      (json_int_t)r->wer.insertions));
        json_object_set_new(o, "peak_rss_bytes", bench_jnum(r->peak_rss));
        json_object_set_new(o, "peak_pss_bytes", bench_jnum(r->peak_pss));
        json_object_set_new(o, "added_rss_bytes", bench_jnum(r->added_rss));
        json_object_set_new(o, "added_pss_bytes", bench_jnum(r->added_pss));
        json_object_set_new(o, "hypothesis",
                            r->hypothesis ? json_string(r->hypothesis) : json_null());
        if (r->error[0]) json_object_set_new(o, "error", json_string(r->error));
        json_array_append_new(jr, o);
    }
    json_object_set_new(root, "results", jr);
    json_t *jf = json_array();
    for (size_t i = 0; i < n_fits; i++)
        json_array_append_new(jf, json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o}", "profile",
                                            fits[i].profile, "y", fits[i].metric, "x", "duration_s",
                                            "n", fits[i].n, "slope", bench_jnum(fits[i].slope),
                                            "intercept", bench_jnum(fits[i].intercept), "r2",
                                            bench_jnum(fits[i].r2)));
    json_object_set_new(root, "fits", jf);
    json_t *jp = json_array();
    for (int i = 0; i < c->n_profiles; i++) {
        const profile_row *p = &rows[i];
        double rtf = p->audio_s > 0 ? p->process_s / p->audio_s : NAN;
        json_array_append_new(
            jp,
            json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:I}", "profile", p->profile, "files",
                      p->files, "audio_s", bench_jnum(p->audio_s), "process_s",
                      bench_jnum(p->process_s), "rtf", bench_jnum(rtf), "rtfx", bench_jnum(1 / rtf),
                      "wer", p->files ? bench_jnum(stt_wer_rate(&p->wer)) : json_null(),
                      "ref_words", (json_int_t)p->wer.ref_words));
    }
    json_object_set_new(root, "profiles", jp);
    json_t *js = json_array();
    for (size_t i = 0; i < n_ent; i++)
        if (!sel[i])
            json_array_append_new(js, json_pack("{s:s, s:f, s:s}", "file", ent[i].file,
                                                "duration_s", ent[i].duration_s, "reason",
                                                stt_corpus_selected(&ent[i], c->max_duration)
                                                    ? "not in --quick set"
                                                    : "longer than --max-duration"));
    json_object_set_new(root, "skipped", js);
    snprintf(path, sizeof path, "%s/audio.json", c->out);
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc) return stt_seterr(err, errlen, STT_EIO, "%s: cannot write", path);

    /* Chart data: one block per profile (gnuplot's `index`). */
    snprintf(path, sizeof path, "%s/audio_points.dat", c->out);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    for (int p = 0; p < c->n_profiles; p++) {
        fprintf(f, "# profile %s: duration_s process_s rtf peak_pss_mb\n", c->profiles[p]);
        for (size_t i = 0; i < n_res; i++)
            if (!strcmp(res[i].profile, c->profiles[p]) && res[i].n_ok &&
                is_reference_format(res[i].e))
                fprintf(f, "%.3f %.4f %.5f %.2f\n", res[i].e->duration_s, res[i].process[0],
                        res[i].process[0] / res[i].e->duration_s,
                        isfinite(res[i].peak_pss) ? res[i].peak_pss / 1048576.0 : 0.0);
        fprintf(f, "\n\n");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/audio_charts.gp", c->out);
    f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    static const char *const term[2][2] = {{"pngcairo size 900,560", "png"},
                                           {"svg size 900,560 dynamic", "svg"}};
    fprintf(f, "set key left top\nset grid\nset xlabel 'audio duration (s)'\n");
    for (int p = 0; p < c->n_profiles; p++) {
        const fit *ft = &fits[2 * p];
        if (isfinite(ft->slope))
            fprintf(f, "f%d(x) = %.9g + %.9g*x\n", p, ft->intercept, ft->slope);
        else
            fprintf(f, "f%d(x) = NaN\n", p);
    }
    for (int k = 0; k < 2; k++) {
        const char *charts[3][3] = {
            {"time_vs_duration", "processing time (s)", "2"},
            {"rtf_vs_duration", "real-time factor (process / audio)", "3"},
            {"memory_vs_duration", "peak PSS of server tree (MiB)", "4"},
        };
        for (int ch = 0; ch < 3; ch++) {
            fprintf(f, "set terminal %s\nset output '%s.%s'\nset ylabel '%s'\nplot ", term[k][0],
                    charts[ch][0], term[k][1], charts[ch][1]);
            for (int p = 0; p < c->n_profiles; p++) {
                fprintf(f, "%s'audio_points.dat' index %d using 1:%s with linespoints title '%s'",
                        p ? ", " : "", p, charts[ch][2], c->profiles[p]);
                if (ch == 0)
                    fprintf(f, ", f%d(x) with lines dashtype 2 title '%s fit'", p, c->profiles[p]);
            }
            fprintf(f, "\n");
        }
    }
    fclose(f);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot audio_charts.gp 2>/dev/null", c->out);
    int charts_ok = system(cmd) == 0;

    snprintf(path, sizeof path, "%s/audio_report.md", c->out);
    f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fprintf(f, "# Audio benchmark\n\n");
    fprintf(f,
            "Machine: %s, %d logical cores (%d usable), %.1f GiB RAM, %s. Commit %s. "
            "Server %s (%s API), %d request(s) per file and profile, medians shown.\n\n",
            si->cpu_model, si->logical_cores, si->cpus_allowed, si->mem_total / 1073741824.0,
            si->kernel, bench_commit(), c->url, c->api, c->repeat);
    fprintf(f, "## Profiles (16 kHz WAV files)\n\n| profile | files | audio s | process s | RTF | "
               "RTFx | WER | ref words |\n|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < c->n_profiles; i++) {
        const profile_row *p = &rows[i];
        double rtf = p->audio_s > 0 ? p->process_s / p->audio_s : NAN;
        fprintf(f, "| %s | %d | %.1f | %.2f | %.3f | %.1f | %.1f%% | %zu |\n", p->profile, p->files,
                p->audio_s, p->process_s, rtf, 1 / rtf, 100 * stt_wer_rate(&p->wer),
                p->wer.ref_words);
    }
    fprintf(f, "\n## Fits against duration (least squares, GSL)\n\n| profile | y | n | slope | "
               "intercept | R² |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n_fits; i++)
        fprintf(f, "| %s | %s | %d | %.4g | %.4g | %.4f |\n", fits[i].profile, fits[i].metric,
                fits[i].n, fits[i].slope, fits[i].intercept, fits[i].r2);
    fprintf(f, "\nFor processing time the slope is the asymptotic RTF and the intercept the "
               "fixed cost per request (s); for memory, bytes per audio second and bytes at "
               "zero length.\n\n");
    fprintf(f, "## Files\n\n| file | format | duration s | profile | wall s (min-max) | "
               "process s | queue s | RTF | RTFx | WER | peak RSS MiB | peak PSS MiB | added PSS "
               "MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n_res; i++) {
        const result *r = &res[i];
        if (!r->n_ok) {
            fprintf(f, "| %s | %s | %.1f | %s | failed: %s |||||||||\n", r->e->file, r->e->format,
                    r->e->duration_s, r->profile, r->error);
            continue;
        }
        char a[32], b[32], d[32];
        fmt_mb(a, sizeof a, r->peak_rss);
        fmt_mb(b, sizeof b, r->peak_pss);
        fmt_mb(d, sizeof d, r->added_pss);
        double rtf = r->process[0] / r->e->duration_s;
        fprintf(f,
                "| %s | %s %d Hz %d ch | %.1f | %s | %.2f (%.2f-%.2f) | %.2f | %.3f | %.3f | "
                "%.1f | %.1f%% | %s | %s | %s |\n",
                r->e->file, r->e->format, r->e->sample_rate, r->e->channels, r->e->duration_s,
                r->profile, r->wall[0], r->wall[1], r->wall[2], r->process[0], r->queue[0], rtf,
                1 / rtf, 100 * stt_wer_rate(&r->wer), a, b, d);
    }
    fprintf(f, "\n## Skipped\n\n");
    int any = 0;
    for (size_t i = 0; i < n_ent; i++)
        if (!sel[i]) {
            fprintf(f, "- %s (%.1f s): %s\n", ent[i].file, ent[i].duration_s,
                    stt_corpus_selected(&ent[i], c->max_duration) ? "not in --quick set"
                                                                  : "longer than --max-duration");
            any = 1;
        }
    if (!any) fprintf(f, "None.\n");
    if (charts_ok)
        fprintf(f, "\n## Charts\n\n![time](time_vs_duration.png)\n![rtf](rtf_vs_duration.png)\n"
                   "![memory](memory_vs_duration.png)\n");
    else
        fprintf(f, "\n(gnuplot failed: no charts.)\n");
    fclose(f);
    return 0;
}

int bench_audio_main(int argc, char **argv)
{
    config c;
    char url_buf[128], err[512] = "";
    int pa = parse_args(argc, argv, &c, url_buf, sizeof url_buf);
    if (pa > 0) return 0;
    if (pa < 0) {
        if (pa == -1) print_usage(stderr);
        return 2;
    }
    stt_corpus_entry *ent = NULL;
    size_t n_ent = 0;
    int rc = stt_corpus_load_manifest(c.corpus, &ent, &n_ent, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench audio: %s: %s\n", stt_strerror(rc), err);
        return 1;
    }
    if (mkdir(c.out, 0777) && errno != EEXIST) {
        fprintf(stderr, "sttbench audio: %s: %s\n", c.out, strerror(errno));
        stt_corpus_free_entries(ent, n_ent);
        return 1;
    }
    int *sel = calloc(n_ent ? n_ent : 1, sizeof *sel);
    size_t n_sel = 0;
    double total_audio = 0;
    for (size_t i = 0; i < n_ent; i++) {
        sel[i] = wanted(&c, &ent[i]);
        if (sel[i]) {
            n_sel++;
            total_audio += ent[i].duration_s;
        } else {
            printf("skipped %s (%.1f s): %s\n", ent[i].file, ent[i].duration_s,
                   stt_corpus_selected(&ent[i], c.max_duration) ? "not in --quick set"
                                                                : "longer than --max-duration");
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    stt_sut *spawned = NULL;
    int status = 0;
    result *res = calloc(n_sel * (size_t)c.n_profiles + 1, sizeof *res);
    size_t n_res = 0;
    if (c.spawn) {
        spawned = spawn_server(&c, err, sizeof err);
        if (!spawned) {
            fprintf(stderr, "sttbench audio: %s\n", err);
            status = 1;
            goto out;
        }
        c.server_pid = stt_sut_pid(spawned);
    }
    int tty = isatty(2);
    double t0 = bench_now_s(), done_audio = 0, work = total_audio * c.n_profiles * c.repeat;
    for (int p = 0; p < c.n_profiles; p++) {
        if (c.warmup && n_sel) {
            /* The first request of a profile pays for lazy set-up; it is not measured. */
            size_t shortest = 0;
            for (size_t i = 0; i < n_ent; i++)
                if (sel[i] && (!sel[shortest] || ent[i].duration_s < ent[shortest].duration_s))
                    shortest = i;
            result w;
            run_one(&c, &ent[shortest], c.profiles[p], &w);
            free(w.hypothesis);
        }
        for (size_t i = 0; i < n_ent; i++) {
            if (!sel[i]) continue;
            if (tty) {
                double el = bench_now_s() - t0;
                double left = done_audio > 0 ? el * (work - done_audio) / done_audio : NAN;
                fprintf(stderr, "\r\033[K[%zu/%zu] %s %s  elapsed %.0f s, ~%.0f s left", n_res + 1,
                        n_sel * (size_t)c.n_profiles, ent[i].file, c.profiles[p], el, left);
            }
            run_one(&c, &ent[i], c.profiles[p], &res[n_res]);
            result *r = &res[n_res++];
            done_audio += ent[i].duration_s * c.repeat;
            if (r->n_ok < r->n) status = 1;
            if (!tty) {
                if (r->n_ok)
                    printf("%-28s %-9s %7.1f s  process %7.2f s  RTF %.3f  WER %5.1f%%\n",
                           ent[i].file, c.profiles[p], ent[i].duration_s, r->process[0],
                           r->process[0] / ent[i].duration_s, 100 * stt_wer_rate(&r->wer));
                else
                    printf("%-28s %-9s failed: %s\n", ent[i].file, c.profiles[p], r->error);
                fflush(stdout);
            }
        }
    }
    if (tty) fprintf(stderr, "\r\033[K");

    fit fits[2 * MAX_PROFILES];
    profile_row rows[MAX_PROFILES];
    memset(rows, 0, sizeof rows);
    for (int p = 0; p < c.n_profiles; p++) {
        fits[2 * p] = fit_metric(res, n_res, c.profiles[p], "process_s", 0);
        fits[2 * p + 1] = fit_metric(res, n_res, c.profiles[p], "peak_pss_bytes", 1);
        rows[p].profile = c.profiles[p];
        for (size_t i = 0; i < n_res; i++) {
            if (strcmp(res[i].profile, c.profiles[p]) || !res[i].n_ok ||
                !is_reference_format(res[i].e))
                continue;
            rows[p].files++;
            rows[p].audio_s += res[i].e->duration_s;
            rows[p].process_s += res[i].process[0];
            stt_wer_add(&rows[p].wer, &res[i].wer);
        }
    }
    char dir[PATH_MAX];
    stt_sut_exe_dir(dir, sizeof dir);
    stt_sysinfo si;
    stt_sysinfo_get(&si);
    if (c.server_pid <= 0)
        fprintf(stderr, "sttbench audio: no --server-pid or --spawn: memory not sampled\n");
    rc = write_outputs(&c, &si, ent, n_ent, sel, res, n_res, fits, 2 * (size_t)c.n_profiles, rows,
                       err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench audio: %s\n", err);
        status = 1;
    }
    printf("\n%-10s %6s %9s %7s %7s %7s\n", "profile", "files", "audio_s", "RTF", "RTFx", "WER");
    for (int p = 0; p < c.n_profiles; p++) {
        double rtf = rows[p].audio_s > 0 ? rows[p].process_s / rows[p].audio_s : NAN;
        printf("%-10s %6d %9.1f %7.3f %7.1f %6.1f%%\n", rows[p].profile, rows[p].files,
               rows[p].audio_s, rtf, 1 / rtf, 100 * stt_wer_rate(&rows[p].wer));
    }
    for (int p = 0; p < c.n_profiles; p++)
        printf("fit %-10s process_s = %.3f + %.4f * duration_s (R^2 %.4f, n %d)\n", c.profiles[p],
               fits[2 * p].intercept, fits[2 * p].slope, fits[2 * p].r2, fits[2 * p].n);
    printf("results: %s/audio.json, %s/audio_report.md\n", c.out, c.out);
out:
    if (spawned) stt_sut_stop(spawned, 10);
    for (size_t i = 0; i < n_res; i++)
        free(res[i].hypothesis);
    free(res);
    free(sel);
    stt_corpus_free_entries(ent, n_ent);
    curl_global_cleanup();
    return status;
}
