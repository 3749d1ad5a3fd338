/* sttbench service: sttd measured against the raw engine on this machine.
 *
 * Six targets, each measured side by side with its baseline in one run:
 * per-request overhead, accuracy per profile, memory per extra worker, one
 * request on two cores, throughput, and fairness between a long and a short
 * request. Results: OUT/service.json (every raw value) and OUT/service_report.md.
 *
 * The server is build/sttd next to this binary, started through lib/server. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

#define MAX_REPEAT 50
#define N_CLIPS 5
#define N_PROFILES 3
#define LONG_REPEAT_DEFAULT 3
#define SHORT_CLIP 1  /* 0880, 2.99 s: the fairness probe */
#define MEMORY_CLIP 0 /* 0870, 7.1 s: the memory warm-up request */

static const char *const clip_ids[N_CLIPS] = {
    "sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0880",
    "sense_and_sensibility_01_austen_64kb-0890", "sense_and_sensibility_01_austen_64kb-0920",
    "sense_and_sensibility_01_austen_64kb-0930"};
static const char *const profiles[N_PROFILES] = {"fast", "balanced", "accurate"};

/* A file sent to the server: read once into memory so that disk reads are not timed. */
typedef struct upload {
    char path[PATH_MAX];
    unsigned char *data;
    size_t len;
    double audio_s;
    char *reference;
} upload;

typedef struct svc {
    const char *corpus, *out;
    int repeat, long_repeat, quick, tty;
    unsigned only; /* bit k: run part k+1; 0 = all */
    char sttd[PATH_MAX], sttraw[PATH_MAX], workdir[64];
    const char *testdata;
    upload clips[N_CLIPS], cat, longf;
    int long_reps; /* how many times the five clips repeat in longf */
    const char *long_source;
    json_t *measurements;
    double t0;
} svc;

typedef struct target {
    char name[64], measured[160], goal[64];
    int pass; /* 1 pass, 0 fail, -1 not measured */
} target;

#define MAX_TARGETS 12
static target targets[MAX_TARGETS];
static int n_targets;

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) && errno == EINTR) {
    }
}

static void progress(const svc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const svc *s, const char *fmt, ...)
{
    if (!s->tty) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r\033[K[%4.0f s] ", bench_now_s() - s->t0);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void add_target(const char *name, int pass, const char *goal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_target(const char *name, int pass, const char *goal, const char *fmt, ...)
{
    if (n_targets >= MAX_TARGETS) return;
    target *t = &targets[n_targets++];
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->goal, sizeof t->goal, "%s", goal);
    t->pass = pass;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->measured, sizeof t->measured, fmt, ap);
    va_end(ap);
}

/* ---- statistics of repeated measurements ---- */

typedef struct series {
    double v[MAX_REPEAT];
    int n;
} series;

static void series_add(series *s, double v)
{
    if (s->n < MAX_REPEAT) s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double series_median(const series *s)
{
    if (s->n <= 0) return NAN;
    double v[MAX_REPEAT];
    memcpy(v, s->v, sizeof(double) * (size_t)s->n);
    qsort(v, (size_t)s->n, sizeof *v, cmp_double);
    return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

static double series_min(const series *s)
{
    double m = NAN;
    for (int i = 0; i < s->n; i++)
        if (!(s->v[i] >= m)) m = s->v[i];
    return m;
}

static double series_max(const series *s)
{
    double m = NAN;
    for (int i = 0; i < s->n; i++)
        if (!(s->v[i] <= m)) m = s->v[i];
    return m;
}

static json_t *jseries(const series *s, const char *unit)
{
    json_t *vals = json_array();
    for (int i = 0; i < s->n; i++)
        json_array_append_new(vals, bench_jnum(s->v[i]));
    return json_pack("{s:s, s:i, s:o, s:o, s:o, s:o}", "unit", unit, "n", s->n, "median",
                     bench_jnum(series_median(s)), "min", bench_jnum(series_min(s)), "max",
                     bench_jnum(series_max(s)), "values", vals);
}

static json_t *jwer(const stt_wer_counts *c)
{
    return json_pack("{s:o, s:I, s:I, s:I, s:I}", "wer", bench_jnum(stt_wer_rate(c)), "ref_words",
                     (json_int_t)c->ref_words, "substitutions", (json_int_t)c->substitutions,
                     "deletions", (json_int_t)c->deletions, "insertions",
                     (json_int_t)c->insertions);
}

/* ---- audio inputs ---- */

static int write_wav(const char *path, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
    SF_INFO info = {
        .samplerate = STT_CORPUS_RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(NULL));
    sf_count_t w = sf_write_short(f, pcm, (sf_count_t)n);
    sf_close(f);
    if (w != (sf_count_t)n) return stt_seterr(err, errlen, STT_EIO, "%s: short write", path);
    return 0;
}

static int read_upload(upload *u, char *err, size_t errlen)
{
    FILE *f = fopen(u->path, "rb");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", u->path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    u->data = malloc(len > 0 ? (size_t)len : 1);
    u->len = u->data ? fread(u->data, 1, (size_t)(len > 0 ? len : 0), f) : 0;
    fclose(f);
    if (!u->data || u->len != (size_t)len)
        return stt_seterr(err, errlen, STT_EIO, "%s: cannot read", u->path);
    return 0;
}

/* The reference of n clips repeated reps times, space-joined. */
static char *joined_reference(upload *clips, int n, int reps)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += (strlen(clips[i].reference) + 1) * (size_t)reps;
    char *r = malloc(len), *p = r;
    if (!r) return NULL;
    *p = 0;
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < n; i++)
            p += sprintf(p, "%s%s", p == r ? "" : " ", clips[i].reference);
    return r;
}

/* Loads the clips and builds the 24.7 s concatenation (no pauses) and the long
 * file: the corpus's librivox_x12.wav when it is there (full run), else the same
 * construction (clips, 0.6 s of silence after each) made here. */
static int prepare_audio(svc *s, char *err, size_t errlen)
{
    struct {
        short *samples;
        size_t n_samples;
    } a[N_CLIPS];
    memset(a, 0, sizeof a);
    size_t total = 0;
    int rc = 0;
    for (int i = 0; i < N_CLIPS; i++) {
        upload *u = &s->clips[i];
        snprintf(u->path, sizeof u->path, "%s/librivox/%s.wav", s->testdata, clip_ids[i]);
        if ((rc = stt_corpus_clip_pcm(s->testdata, clip_ids[i], &a[i].samples, &a[i].n_samples,
                                      err, errlen)) < 0)
            goto out;
        u->audio_s = (double)a[i].n_samples / STT_CORPUS_RATE;
        char ref[4096];
        if ((rc = stt_corpus_clip_reference(s->testdata, clip_ids[i], ref, sizeof ref, err,
                                            errlen)) < 0)
            goto out;
        u->reference = strdup(ref);
        if ((rc = read_upload(u, err, errlen)) < 0) goto out;
        total += a[i].n_samples;
    }
    int16_t *pcm = malloc(sizeof *pcm * total);
    if (!pcm) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (int i = 0; i < N_CLIPS; i++) {
        memcpy(pcm + k, a[i].samples, a[i].n_samples * sizeof *pcm);
        k += a[i].n_samples;
    }
    snprintf(s->cat.path, sizeof s->cat.path, "%s/librivox_cat.wav", s->workdir);
    rc = write_wav(s->cat.path, pcm, k, err, errlen);
    free(pcm);
    if (rc < 0) goto out;
    s->cat.audio_s = (double)k / STT_CORPUS_RATE;
    s->cat.reference = joined_reference(s->clips, N_CLIPS, 1);
    if ((rc = read_upload(&s->cat, err, errlen)) < 0) goto out;

    s->long_reps = s->quick ? 3 : 12;
    stt_corpus_entry *ent = NULL;
    size_t n_ent = 0;
    char cerr[256];
    if (!s->quick && stt_corpus_load_manifest(s->corpus, &ent, &n_ent, cerr, sizeof cerr) == 0) {
        for (size_t i = 0; i < n_ent; i++)
            if (!strcmp(ent[i].file, "librivox_x12.wav")) {
                snprintf(s->longf.path, sizeof s->longf.path, "%s/%s", s->corpus, ent[i].file);
                s->longf.audio_s = ent[i].duration_s;
                s->longf.reference = strdup(ent[i].reference);
                s->long_source = "corpus";
            }
        stt_corpus_free_entries(ent, n_ent);
    }
    if (!s->long_source) {
        size_t gap = STT_CORPUS_RATE * 6 / 10, n = (k + gap * N_CLIPS) * (size_t)s->long_reps;
        pcm = calloc(n, sizeof *pcm);
        if (!pcm) {
            rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
            goto out;
        }
        size_t at = 0;
        for (int r = 0; r < s->long_reps; r++)
            for (int i = 0; i < N_CLIPS; i++) {
                memcpy(pcm + at, a[i].samples, a[i].n_samples * sizeof *pcm);
                at += a[i].n_samples + gap;
            }
        snprintf(s->longf.path, sizeof s->longf.path, "%s/librivox_x%d.wav", s->workdir,
                 s->long_reps);
        rc = write_wav(s->longf.path, pcm, n, err, errlen);
        free(pcm);
        if (rc < 0) goto out;
        s->longf.audio_s = (double)n / STT_CORPUS_RATE;
        s->longf.reference = joined_reference(s->clips, N_CLIPS, s->long_reps);
        s->long_source = "built here (clips + 0.6 s pauses, as `sttbench corpus`)";
    }
    rc = read_upload(&s->longf, err, errlen);
out:
    for (int i = 0; i < N_CLIPS; i++)
        free(a[i].samples);
    return rc;
}

static void free_upload(upload *u)
{
    free(u->data);
    free(u->reference);
}

/* ---- HTTP client ---- */

typedef struct reply {
    long status;
    double wall_s;
    char *text;
    char error[256];
} reply;

/* POSTs u to url's /v1/audio/transcriptions; threads <= 0 omits the field.
 * Thread-safe (one easy handle per call). Returns 0 on a 200 with text. */
static int post(const char *url, const upload *u, const char *profile, int threads, reply *r)
{
    memset(r, 0, sizeof *r);
    char full[256], tbuf[16];
    snprintf(full, sizeof full, "%s/v1/audio/transcriptions", url);
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(r->error, sizeof r->error, "curl_easy_init failed");
        return -1;
    }
    curl_mime *mime =
        bench_transcription_form(h, NULL, u->data, u->len, "audio.wav", "audio/wav", profile);
    if (threads > 0) {
        snprintf(tbuf, sizeof tbuf, "%d", threads);
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, "threads");
        curl_mime_data(part, tbuf, CURL_ZERO_TERMINATED);
    }
    bench_buf body = {0};
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench_buf_append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 1800L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    double t0 = bench_now_s();
    CURLcode rc = curl_easy_perform(h);
    r->wall_s = bench_now_s() - t0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    r->text = bench_reply_text(rc, r->status, body.p, r->error, sizeof r->error);
    free(body.p);
    curl_mime_free(mime);
    curl_easy_cleanup(h);
    return r->text ? 0 : -1;
}

/* A request run on its own thread. */
typedef struct async_post {
    pthread_t th;
    const char *url;
    const upload *u;
    const char *profile;
    int threads, count; /* count requests one after another */
    double start_s, end_s;
    int ok;
    reply last;
} async_post;

static void *async_run(void *arg)
{
    async_post *a = arg;
    a->start_s = bench_now_s();
    for (int i = 0; i < a->count; i++) {
        if (i) free(a->last.text);
        if (post(a->url, a->u, a->profile, a->threads, &a->last) == 0) a->ok++;
    }
    a->end_s = bench_now_s();
    return NULL;
}

/* ---- the server ---- */

/* Starts sttd (next to this binary) on a free port with the NULL-terminated
 * extra args, its log in OUT/sttd_<name>.log, and waits until /ready says 200
 * (at most 120 s). Returns NULL with err on failure. */
static stt_sut *server_start(const svc *s, const char *name, const char *const *args, char *err,
                             size_t errlen)
{
    char cmd[1024], log[PATH_MAX], why[512];
    int k = snprintf(cmd, sizeof cmd, "{bin}/sttd --host {host} --port {port} --quiet");
    for (int i = 0; args[i] && k > 0 && (size_t)k < sizeof cmd; i++)
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, " %s", args[i]);
    snprintf(log, sizeof log, "%s/sttd_%s.log", s->out, name);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = cmd;
    sp.log_path = log;
    sp.ready_timeout_s = 120;
    stt_sut *sv = stt_sut_start(&sp, why, sizeof why);
    if (!sv) stt_seterr(err, errlen, STT_EIO, "%s (see %s)", why, log);
    return sv;
}

/* Stops sttd: SIGTERM, then SIGKILL after 10 s. */
static void server_stop(stt_sut *sv)
{
    stt_sut_stop(sv, 10);
}

/* ---- external programs ---- */

/* Runs a shell command, captures stdout (malloc'd into *out), returns wall seconds
 * or -1 on failure. */
static double run_capture(const char *cmd, char **out)
{
    double t0 = bench_now_s();
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    bench_buf b = {0};
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, p)) > 0)
        bench_buf_append(chunk, 1, k, &b);
    int st = pclose(p);
    double wall = bench_now_s() - t0;
    *out = b.p ? b.p : strdup("");
    return st == 0 ? wall : -1;
}

/* One sttraw output line: "<decode s> <audio s> <hyp>". */
static int parse_raw_line(const char *line, double *decode_s, char **hyp)
{
    char *end;
    *decode_s = strtod(line, &end);
    if (end == line) return -1;
    strtod(end, &end);
    while (*end == ' ')
        end++;
    size_t n = strcspn(end, "\n");
    *hyp = strndup(end, n);
    return 0;
}

static void score(const char *ref, const char *hyp, stt_wer_counts *acc)
{
    stt_wer_counts c;
    if (stt_wer_align_text(ref, hyp ? hyp : "", 1, &c) == 0) stt_wer_add(acc, &c);
}

/* ---- the six measurements ---- */

/* 1. Overhead: one 24.7 s request to a one-worker, one-thread server against
 * sttraw's decode of the same samples, interleaved so that both see the same
 * background load. */
static int part_overhead(svc *s, char *err, size_t errlen)
{
    const char *args[] = {"--workers", "1", "--threads", "1", "--profiles", "balanced", NULL};
    stt_sut *sv = server_start(s, "overhead", args, err, errlen);
    if (!sv) return STT_EIO;
    int rc = 0;
    reply r;
    post(stt_sut_url(sv), &s->cat, "balanced", 0, &r); /* warm-up, not measured */
    free(r.text);
    series req = {0}, dec = {0}, wall = {0}, ratio = {0};
    stt_wer_counts w_sttd = {0}, w_raw = {0};
    char cmd[PATH_MAX * 2 + 64];
    snprintf(cmd, sizeof cmd, "'%s' '%s' 2>/dev/null", s->sttraw, s->cat.path);
    for (int i = 0; i < s->repeat; i++) {
        progress(s, "1/6 overhead: round %d/%d", i + 1, s->repeat);
        if (post(stt_sut_url(sv), &s->cat, "balanced", 0, &r) < 0) {
            rc = stt_seterr(err, errlen, STT_EIO, "overhead request: %s", r.error);
            break;
        }
        series_add(&req, r.wall_s);
        if (i == 0) score(s->cat.reference, r.text, &w_sttd);
        free(r.text);
        char *out = NULL, *hyp = NULL;
        double d, wl = run_capture(cmd, &out);
        if (wl < 0 || parse_raw_line(out, &d, &hyp) < 0) {
            free(out);
            rc = stt_seterr(err, errlen, STT_EIO, "sttraw failed: %s", cmd);
            break;
        }
        series_add(&dec, d);
        series_add(&wall, wl);
        series_add(&ratio, req.v[i] / d);
        if (i == 0) score(s->cat.reference, hyp, &w_raw);
        free(hyp);
        free(out);
    }
    server_stop(sv);
    if (rc < 0) return rc;
    double x = series_median(&req) / series_median(&dec);
    json_object_set_new(s->measurements, "overhead",
                        json_pack("{s:s, s:f, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "file",
                                  "librivox_cat.wav", "audio_s", s->cat.audio_s, "server",
                                  "--workers 1 --threads 1 --profiles balanced", "sttd_request_s",
                                  jseries(&req, "s"), "sttraw_decode_s", jseries(&dec, "s"),
                                  "sttraw_wall_s", jseries(&wall, "s"), "per_round_ratio",
                                  jseries(&ratio, "x"), "ratio_of_medians", bench_jnum(x),
                                  "sttd_wer", jwer(&w_sttd), "sttraw_wer", jwer(&w_raw)));
    add_target("1 overhead", x <= 1.05, "<= 1.05x",
               "sttd %.2f s (%.2f-%.2f) / sttraw decode %.2f s (%.2f-%.2f) = %.3fx; sttraw wall "
               "%.2f s",
               series_median(&req), series_min(&req), series_max(&req), series_median(&dec),
               series_min(&dec), series_max(&dec), x, series_median(&wall));
    return 0;
}

/* 2. Accuracy and speed per profile on the five clips, one request each, against
 * pocketsphinx_continuous on the same clips. */
static int part_accuracy(svc *s, char *err, size_t errlen)
{
    const char *args[] = {"--workers", "1", "--threads", "1", NULL};
    stt_sut *sv = server_start(s, "accuracy", args, err, errlen);
    if (!sv) return STT_EIO;
    int rc = 0;
    json_t *jp = json_object();
    double wer_bal = NAN;
    char line[160] = "";
    for (int p = 0; p < N_PROFILES && rc == 0; p++) {
        reply r;
        post(stt_sut_url(sv), &s->clips[SHORT_CLIP], profiles[p], 0, &r); /* warm-up */
        free(r.text);
        series rtf = {0};
        stt_wer_counts w = {0};
        json_t *hyps = json_array();
        double audio = 0;
        for (int k = 0; k < s->repeat && rc == 0; k++) {
            double busy = 0;
            audio = 0;
            for (int i = 0; i < N_CLIPS; i++) {
                progress(s, "2/6 accuracy: %s, pass %d/%d, clip %d", profiles[p], k + 1, s->repeat,
                         i + 1);
                if (post(stt_sut_url(sv), &s->clips[i], profiles[p], 0, &r) < 0) {
                    rc = stt_seterr(err, errlen, STT_EIO, "%s request: %s", profiles[p], r.error);
                    break;
                }
                busy += r.wall_s;
                audio += s->clips[i].audio_s;
                if (k == 0) {
                    score(s->clips[i].reference, r.text, &w);
                    json_array_append_new(hyps, json_string(r.text));
                }
                free(r.text);
            }
            if (rc == 0) series_add(&rtf, busy / audio);
        }
        double m = series_median(&rtf);
        if (p == 1) wer_bal = stt_wer_rate(&w);
        json_object_set_new(jp, profiles[p],
                            json_pack("{s:o, s:o, s:o, s:f, s:o}", "rtf", jseries(&rtf, "s/s"),
                                      "rtfx_median", bench_jnum(1 / m), "wer", jwer(&w), "audio_s",
                                      audio, "hypotheses", hyps));
        size_t l = strlen(line);
        snprintf(line + l, sizeof line - l, "%s%s %.1f%% RTF %.3f", p ? "; " : "", profiles[p],
                 100 * stt_wer_rate(&w), m);
    }
    server_stop(sv);
    if (rc < 0) {
        json_decref(jp);
        return rc;
    }
    stt_wer_counts wc = {0};
    series cwall = {0};
    json_t *chyps = json_array();
    for (int i = 0; i < N_CLIPS; i++) {
        progress(s, "2/6 accuracy: pocketsphinx_continuous clip %d", i + 1);
        char cmd[PATH_MAX + 80], *out = NULL;
        snprintf(cmd, sizeof cmd, "pocketsphinx_continuous -infile '%s' 2>/dev/null",
                 s->clips[i].path);
        double wl = run_capture(cmd, &out);
        if (wl < 0) {
            free(out);
            json_decref(chyps);
            json_decref(jp);
            return stt_seterr(err, errlen, STT_EIO, "pocketsphinx_continuous failed");
        }
        /* One line per utterance it found. */
        for (char *c = out; *c; c++)
            if (*c == '\n') *c = ' ';
        score(s->clips[i].reference, out, &wc);
        json_array_append_new(chyps, json_string(out));
        series_add(&cwall, wl);
        free(out);
    }
    double wer_c = stt_wer_rate(&wc);
    json_object_set_new(s->measurements, "accuracy",
                        json_pack("{s:s, s:o, s:{s:o, s:o, s:o}}", "server",
                                  "--workers 1 --threads 1 (one core per request)", "profiles", jp,
                                  "pocketsphinx_continuous", "wer", jwer(&wc), "wall_s_per_clip",
                                  jseries(&cwall, "s"), "hypotheses", chyps));
    add_target("2 accuracy", wer_bal <= wer_c + 0.01, "balanced <= ref + 1 pt",
               "balanced %.1f%% vs pocketsphinx_continuous %.1f%%", 100 * wer_bal, 100 * wer_c);
    add_target("2 profiles (info)", -1, "speed/accuracy", "%s", line);
    return 0;
}

/* Memory of a server tree after every worker decoded: 4 parallel one-thread
 * requests of a 7 s clip, twice. */
static int memory_of(svc *s, int workers, series *pss, json_t **detail, char *err, size_t errlen)
{
    char w[16];
    snprintf(w, sizeof w, "%d", workers);
    const char *args[] = {"--workers", w, "--queue", "8", "--profiles", "balanced", NULL};
    char name[32];
    snprintf(name, sizeof name, "memory_w%d", workers);
    stt_sut *sv = server_start(s, name, args, err, errlen);
    if (!sv) return STT_EIO;
    int rc = 0;
    series idle = {0};
    stt_memusage m;
    if (stt_proc_mem_tree(stt_sut_pid(sv), &m, NULL, 0) == 0) series_add(&idle, (double)m.pss);
    for (int round = 0; round < 2; round++) {
        async_post a[4];
        memset(a, 0, sizeof a);
        for (int i = 0; i < 4; i++) {
            a[i] = (async_post){.url = stt_sut_url(sv),
                                .u = &s->clips[MEMORY_CLIP],
                                .profile = "balanced",
                                .threads = 1,
                                .count = 1};
            pthread_create(&a[i].th, NULL, async_run, &a[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(a[i].th, NULL);
            if (!a[i].ok && rc == 0)
                rc = stt_seterr(err, errlen, STT_EIO, "memory request: %s", a[i].last.error);
            free(a[i].last.text);
        }
    }
    sleep_s(0.5);
    json_t *jw = json_array();
    int decoded = 0;
    pid_t kids[64];
    int nk = stt_proc_leaves(stt_sut_pid(sv), kids, 64);
    for (int i = 0; i < nk; i++) {
        stt_memusage km = {0};
        stt_proc_mem_tree(kids[i], &km, NULL, 0);
        double cpu = NAN;
        stt_proc_cpu_s(kids[i], &cpu);
        /* Decoding the 7.1 s clip once costs a worker well over 0.3 s of CPU. */
        if (cpu > 0.3) decoded++;
        json_array_append_new(jw,
                              json_pack("{s:i, s:o, s:o}", "pid", (int)kids[i], "cpu_s",
                                        bench_jnum(cpu), "pss_bytes", bench_jnum((double)km.pss)));
    }
    int procs = 0;
    for (int i = 0; i < 5; i++) {
        if (stt_proc_mem_tree(stt_sut_pid(sv), &m, NULL, 0) == 0) {
            series_add(pss, (double)m.pss);
            procs = m.processes;
        }
        sleep_s(0.2);
    }
    server_stop(sv);
    *detail = json_pack("{s:i, s:i, s:i, s:o, s:o, s:o}", "workers", workers, "processes", procs,
                        "workers_that_decoded", decoded, "pss_before_requests_bytes",
                        jseries(&idle, "bytes"), "pss_bytes", jseries(pss, "bytes"),
                        "worker_processes", jw);
    if (rc == 0 && decoded < workers)
        rc = stt_seterr(err, errlen, STT_EIO, "only %d of %d workers decoded", decoded, workers);
    return rc;
}

/* 3. PSS per additional worker, 1 against 4 workers. */
static int part_memory(svc *s, char *err, size_t errlen)
{
    series p1 = {0}, p4 = {0};
    json_t *d1 = NULL, *d4 = NULL;
    progress(s, "3/6 memory: 1 worker");
    int rc = memory_of(s, 1, &p1, &d1, err, errlen);
    if (rc == 0) {
        progress(s, "3/6 memory: 4 workers");
        rc = memory_of(s, 4, &p4, &d4, err, errlen);
    }
    double per = (series_median(&p4) - series_median(&p1)) / 3 / 1e6;
    json_object_set_new(
        s->measurements, "memory",
        json_pack("{s:s, s:o, s:o, s:o}", "method",
                  "PSS summed over sttd and descendants after every worker "
                  "decoded (4 parallel threads=1 requests of the 7.1 s clip, twice)",
                  "workers_1", d1 ? d1 : json_null(), "workers_4", d4 ? d4 : json_null(),
                  "per_additional_worker_mb", bench_jnum(per)));
    if (rc < 0) return rc;
    add_target("3 memory/worker", per <= 40, "<= 40 MB",
               "PSS 1 worker %.1f MB, 4 workers %.1f MB: %.1f MB per extra worker",
               series_median(&p1) / 1e6, series_median(&p4) / 1e6, per);
    return 0;
}

/* 4 and 6 share a two-worker server (--profiles balanced; default threads = 2);
 * threads=1 is asked per request. 5 uses the same server. */
static int part_threads(svc *s, const stt_sut *sv, char *err, size_t errlen)
{
    series t1 = {0}, t2 = {0}, sp = {0};
    stt_wer_counts w1 = {0}, w2 = {0}, wr = {0};
    for (int i = 0; i < s->long_repeat; i++) {
        for (int th = 1; th <= 2; th++) {
            progress(s, "4/6 one request on 2 cores: round %d/%d, threads=%d", i + 1,
                     s->long_repeat, th);
            reply r;
            if (post(stt_sut_url(sv), &s->longf, "balanced", th, &r) < 0)
                return stt_seterr(err, errlen, STT_EIO, "long request: %s", r.error);
            series_add(th == 1 ? &t1 : &t2, r.wall_s);
            if (i == 0) score(s->longf.reference, r.text, th == 1 ? &w1 : &w2);
            free(r.text);
        }
        series_add(&sp, t1.v[i] / t2.v[i]);
    }
    progress(s, "4/6 one request on 2 cores: sttraw, whole file as one utterance");
    char cmd[PATH_MAX * 2 + 64], *out = NULL, *hyp = NULL;
    snprintf(cmd, sizeof cmd, "'%s' '%s' 2>/dev/null", s->sttraw, s->longf.path);
    double d, wl = run_capture(cmd, &out);
    if (wl < 0 || parse_raw_line(out, &d, &hyp) < 0) {
        free(out);
        return stt_seterr(err, errlen, STT_EIO, "sttraw failed: %s", cmd);
    }
    score(s->longf.reference, hyp, &wr);
    free(hyp);
    free(out);
    double x = series_median(&t1) / series_median(&t2);
    double dw = stt_wer_rate(&w2) - stt_wer_rate(&wr);
    json_object_set_new(
        s->measurements, "threads",
        json_pack("{s:s, s:s, s:f, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:f, s:o}}", "file",
                  s->longf.path, "source", s->long_source, "audio_s", s->longf.audio_s, "server",
                  "--workers 2 --profiles balanced; request field threads=1 or 2", "threads_1_s",
                  jseries(&t1, "s"), "threads_2_s", jseries(&t2, "s"), "per_round_speedup",
                  jseries(&sp, "x"), "speedup_of_medians", bench_jnum(x), "wer_threads_1",
                  jwer(&w1), "wer_threads_2", jwer(&w2), "sttraw_whole_wer", jwer(&wr),
                  "sttraw_whole", "decode_s", d, "wall_s", bench_jnum(wl)));
    add_target("4 speedup 2 cores", x >= 1.8, ">= 1.8x",
               "threads=1 %.1f s (%.1f-%.1f), threads=2 %.1f s (%.1f-%.1f): %.2fx",
               series_median(&t1), series_min(&t1), series_max(&t1), series_median(&t2),
               series_min(&t2), series_max(&t2), x);
    add_target("4 long-file WER", dw <= 0.01, "<= raw + 1 pt",
               "sttd %.1f%% (threads=1 %.1f%%) vs sttraw whole %.1f%% (decode %.1f s)",
               100 * stt_wer_rate(&w2), 100 * stt_wer_rate(&w1), 100 * stt_wer_rate(&wr), d);
    return 0;
}

static int part_throughput(svc *s, const stt_sut *sv, char *err, size_t errlen)
{
    const int per_client = 4;
    series ts = {0}, tr = {0}, ratio = {0};
    for (int i = 0; i < s->long_repeat; i++) {
        progress(s, "5/6 throughput: round %d/%d, sttd", i + 1, s->long_repeat);
        async_post a[2];
        memset(a, 0, sizeof a);
        double t0 = bench_now_s();
        for (int c = 0; c < 2; c++) {
            a[c] = (async_post){
                .url = stt_sut_url(sv), .u = &s->cat, .profile = "balanced", .count = per_client};
            pthread_create(&a[c].th, NULL, async_run, &a[c]);
        }
        int ok = 0;
        for (int c = 0; c < 2; c++) {
            pthread_join(a[c].th, NULL);
            ok += a[c].ok;
            free(a[c].last.text);
        }
        double el = bench_now_s() - t0;
        if (ok != 2 * per_client)
            return stt_seterr(err, errlen, STT_EIO, "throughput: %d of %d requests failed",
                              2 * per_client - ok, 2 * per_client);
        series_add(&ts, ok * s->cat.audio_s / el);

        progress(s, "5/6 throughput: round %d/%d, two sttraw", i + 1, s->long_repeat);
        char cmd[PATH_MAX * 2 + 64];
        snprintf(cmd, sizeof cmd, "'%s' --repeat %d '%s' 2>/dev/null", s->sttraw, per_client,
                 s->cat.path);
        t0 = bench_now_s();
        FILE *p[2] = {popen(cmd, "r"), popen(cmd, "r")};
        double audio = 0;
        for (int c = 0; c < 2; c++) {
            char line[8192];
            while (p[c] && fgets(line, sizeof line, p[c])) {
                double d, au;
                if (sscanf(line, "%lf %lf", &d, &au) == 2) audio += au;
            }
            if (p[c]) pclose(p[c]);
        }
        el = bench_now_s() - t0;
        if (audio <= 0) return stt_seterr(err, errlen, STT_EIO, "sttraw failed: %s", cmd);
        series_add(&tr, audio / el);
        series_add(&ratio, ts.v[i] / tr.v[i]);
    }
    double x = series_median(&ts) / series_median(&tr);
    json_object_set_new(
        s->measurements, "throughput",
        json_pack("{s:s, s:i, s:o, s:o, s:o, s:o}", "method",
                  "2 clients x 4 sequential requests of librivox_cat.wav to sttd --workers 2, "
                  "against 2 `sttraw --repeat 4` processes side by side (model load included)",
                  "requests_per_client", per_client, "sttd_audio_s_per_s", jseries(&ts, "s/s"),
                  "sttraw_audio_s_per_s", jseries(&tr, "s/s"), "per_round_ratio",
                  jseries(&ratio, "x"), "ratio_of_medians", bench_jnum(x)));
    add_target("5 throughput", x >= 0.95, ">= 0.95x",
               "sttd %.2f audio s/s (%.2f-%.2f) vs 2 sttraw %.2f (%.2f-%.2f): %.3fx",
               series_median(&ts), series_min(&ts), series_max(&ts), series_median(&tr),
               series_min(&tr), series_max(&tr), x);
    return 0;
}

static int part_fairness(svc *s, const stt_sut *sv, char *err, size_t errlen)
{
    const upload *shortf = &s->clips[SHORT_CLIP];
    series idle = {0}, busy = {0}, longs = {0};
    int late = 0;
    reply r;
    for (int i = 0; i < s->repeat; i++) {
        progress(s, "6/6 fairness: idle latency %d/%d", i + 1, s->repeat);
        if (post(stt_sut_url(sv), shortf, "balanced", 0, &r) < 0)
            return stt_seterr(err, errlen, STT_EIO, "short request: %s", r.error);
        series_add(&idle, r.wall_s);
        free(r.text);
    }
    for (int i = 0; i < s->long_repeat; i++) {
        progress(s, "6/6 fairness: busy latency %d/%d", i + 1, s->long_repeat);
        async_post a = {.url = stt_sut_url(sv), .u = &s->longf, .profile = "balanced", .count = 1};
        pthread_create(&a.th, NULL, async_run, &a);
        sleep_s(2.0);
        int rc = post(stt_sut_url(sv), shortf, "balanced", 0, &r);
        double lat = r.wall_s, probe_end = bench_now_s();
        free(r.text);
        pthread_join(a.th, NULL);
        free(a.last.text);
        if (rc < 0) return stt_seterr(err, errlen, STT_EIO, "short request: %s", r.error);
        if (!a.ok) return stt_seterr(err, errlen, STT_EIO, "long request: %s", a.last.error);
        /* A probe that came back after the long request ended did not meet contention
         * for its whole life; the JSON counts such probes. */
        if (a.end_s < probe_end) late++;
        series_add(&busy, lat);
        series_add(&longs, a.end_s - a.start_s);
    }
    double x = series_median(&busy) / series_median(&idle);
    json_object_set_new(s->measurements, "fairness",
                        json_pack("{s:s, s:s, s:f, s:o, s:o, s:o, s:i, s:o}", "method",
                                  "sttd --workers 2 (threads 2); short clip sent 2 s after the "
                                  "long request started",
                                  "short_clip", clip_ids[SHORT_CLIP], "short_audio_s",
                                  shortf->audio_s, "idle_latency_s", jseries(&idle, "s"),
                                  "busy_latency_s", jseries(&busy, "s"), "long_request_s",
                                  jseries(&longs, "s"), "probes_ending_after_long_request", late,
                                  "ratio_of_medians", bench_jnum(x)));
    add_target("6 fairness", x < 3, "< 3x",
               "short clip idle %.2f s (%.2f-%.2f), behind long %.2f s (%.2f-%.2f): %.2fx",
               series_median(&idle), series_min(&idle), series_max(&idle), series_median(&busy),
               series_min(&busy), series_max(&busy), x);
    return 0;
}

/* ---- output ---- */

static const char *verdict(int pass)
{
    return pass < 0 ? "info" : pass ? "PASS" : "FAIL";
}

static int write_outputs(svc *s, const stt_sysinfo *si, double elapsed, char *err, size_t errlen)
{
    json_t *jt = json_array();
    for (int i = 0; i < n_targets; i++)
        json_array_append_new(jt,
                              json_pack("{s:s, s:s, s:s, s:s}", "target", targets[i].name, "goal",
                                        targets[i].goal, "measured", targets[i].measured, "verdict",
                                        verdict(targets[i].pass)));
    json_t *root = json_pack(
        "{s:s, s:{s:s, s:i, s:i, s:I, s:s, s:s}, s:s, s:{s:s, s:i, s:i, s:b, s:s, s:s}, s:f, "
        "s:O, s:o}",
        "tool", "sttbench service", "machine", "cpu_model", si->cpu_model, "logical_cores",
        si->logical_cores, "cpus_allowed", si->cpus_allowed, "mem_total_bytes",
        (json_int_t)si->mem_total, "kernel", si->kernel, "hostname", si->hostname, "commit",
        bench_commit(), "config", "corpus", s->corpus, "repeat", s->repeat, "long_repeat",
        s->long_repeat, "quick", s->quick, "sttd", s->sttd, "sttraw", s->sttraw, "elapsed_s",
        elapsed, "measurements", s->measurements, "targets", jt);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/service.json", s->out);
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc) return stt_seterr(err, errlen, STT_EIO, "%s: cannot write", path);

    snprintf(path, sizeof path, "%s/service_report.md", s->out);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fprintf(f, "# sttd against the raw engine\n\n");
    fprintf(f,
            "Machine: %s, %d logical cores (%d usable), %.1f GiB RAM, %s. Commit %s. "
            "Repeats: %d (long-file parts %d)%s. Every figure is a median; ranges are min-max "
            "over the repeats. Raw values: service.json.\n\n",
            si->cpu_model, si->logical_cores, si->cpus_allowed, si->mem_total / 1073741824.0,
            si->kernel, bench_commit(), s->repeat, s->long_repeat,
            s->quick ? "; --quick: a 3x file (83 s) stands in for the 332.8 s one" : "");
    fprintf(f, "| target | goal | measured | verdict |\n|---|---|---|---|\n");
    for (int i = 0; i < n_targets; i++)
        fprintf(f, "| %s | %s | %s | %s |\n", targets[i].name, targets[i].goal, targets[i].measured,
                verdict(targets[i].pass));
    json_t *acc = json_object_get(s->measurements, "accuracy");
    if (acc) {
        fprintf(f, "\n## Profiles (five LibriVox clips, one request each, one core)\n\n"
                   "| profile | RTF | RTFx | WER |\n|---|---|---|---|\n");
        for (int p = 0; p < N_PROFILES; p++) {
            json_t *jp = json_object_get(json_object_get(acc, "profiles"), profiles[p]);
            double rtf = json_number_value(json_object_get(json_object_get(jp, "rtf"), "median"));
            double wer = json_number_value(json_object_get(json_object_get(jp, "wer"), "wer"));
            fprintf(f, "| %s | %.3f | %.1f | %.1f%% |\n", profiles[p], rtf, 1 / rtf, 100 * wer);
        }
        double wc = json_number_value(json_object_get(
            json_object_get(json_object_get(acc, "pocketsphinx_continuous"), "wer"), "wer"));
        fprintf(f, "| pocketsphinx_continuous | | | %.1f%% |\n", 100 * wc);
    }
    fprintf(f, "\nMethods: docs/SERVICE_BENCH.md. Server logs: sttd_*.log in this directory.\n");
    fclose(f);
    return 0;
}

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: sttbench service [--corpus DIR] [--out DIR] [--repeat N] [--long-repeat N] "
            "[--quick] [--only LIST]\n"
            "\n"
            "Measures sttd (build/sttd, started here on a free port) against the raw engine\n"
            "(build/sttraw, pocketsphinx_continuous) and prints PASS/FAIL per target:\n"
            "  1 overhead      24.7 s request, 1 worker 1 thread vs sttraw decode (<= 1.05x)\n"
            "  2 accuracy      WER per profile on the 5 LibriVox clips; balanced within 1\n"
            "                  point of pocketsphinx_continuous; RTF/RTFx per profile\n"
            "  3 memory        PSS per extra worker, 1 vs 4 workers after all decoded "
            "(<= 40 MB)\n"
            "  4 threads       332.8 s file, threads=1 vs 2 on 2 workers (>= 1.8x); its WER\n"
            "                  vs sttraw on the whole file (<= 1 point worse)\n"
            "  5 throughput    2 clients x 4 requests vs 2 sttraw --repeat 4 (>= 0.95x)\n"
            "  6 fairness      3 s clip behind the long request vs idle (< 3x)\n"
            "\n"
            "  --corpus DIR       corpus with librivox_x12.wav (default corpus; built\n"
            "                     in a temporary directory when missing)\n"
            "  --out DIR          output directory (default results/service)\n"
            "  --repeat N         rounds of the short parts 1, 2 and 6-idle (default 5)\n"
            "  --long-repeat N    rounds of the long-file parts 4, 5, 6 (default %d)\n"
            "  --only LIST        run only these parts, e.g. --only 1,3\n"
            "  --quick            repeat 2, long-repeat 1, an 83 s (x3) long file instead of\n"
            "                     the 332.8 s one\n"
            "Writes OUT/service.json and OUT/service_report.md.\n",
            LONG_REPEAT_DEFAULT);
}

int bench_service_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"corpus", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'},
        {"repeat", required_argument, 0, 'r'}, {"long-repeat", required_argument, 0, 'l'},
        {"quick", no_argument, 0, 'q'},        {"only", required_argument, 0, 'O'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    svc s;
    memset(&s, 0, sizeof s);
    s.corpus = "corpus";
    s.out = "results/service";
    s.repeat = -1;
    s.long_repeat = -1;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            s.corpus = optarg;
            break;
        case 'o':
            s.out = optarg;
            break;
        case 'r':
            if (bench_parse_int(optarg, 1, MAX_REPEAT, &s.repeat)) goto usage;
            break;
        case 'l':
            if (bench_parse_int(optarg, 1, MAX_REPEAT, &s.long_repeat)) goto usage;
            break;
        case 'q':
            s.quick = 1;
            break;
        case 'O':
            for (const char *c = optarg; *c; c++) {
                if (*c >= '1' && *c <= '6')
                    s.only |= 1u << (*c - '1');
                else if (*c != ',')
                    goto usage;
            }
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        default:
            goto usage;
        }
    }
    if (optind < argc) goto usage;
    if (s.repeat < 0) s.repeat = s.quick ? 2 : 5;
    if (s.long_repeat < 0) s.long_repeat = s.quick ? 1 : LONG_REPEAT_DEFAULT;
    s.tty = isatty(2);
    s.t0 = bench_now_s();
    s.testdata = stt_corpus_default_params().testdata_dir;

    char dir[PATH_MAX - 16], err[512] = "";
    stt_sut_exe_dir(dir, sizeof dir);
    snprintf(s.sttd, sizeof s.sttd, "%s/sttd", dir);
    snprintf(s.sttraw, sizeof s.sttraw, "%s/sttraw", dir);
    if (access(s.sttd, X_OK) || access(s.sttraw, X_OK)) {
        fprintf(stderr, "sttbench service: %s and %s must be built\n", s.sttd, s.sttraw);
        return 1;
    }
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", s.out);
    if (system(cmd) != 0) {
        fprintf(stderr, "sttbench service: cannot create %s\n", s.out);
        return 1;
    }
    snprintf(s.workdir, sizeof s.workdir, "/tmp/sttbench-service-XXXXXX");
    if (!mkdtemp(s.workdir)) {
        fprintf(stderr, "sttbench service: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s.measurements = json_object();
    int status = 0;
    int rc = prepare_audio(&s, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "sttbench service: %s\n", err);
        status = 1;
        goto out;
    }

    struct {
        const char *name;
        int (*fn)(svc *, char *, size_t);
    } solo[] = {{"overhead", part_overhead}, {"accuracy", part_accuracy}, {"memory", part_memory}};
    for (size_t i = 0; i < sizeof solo / sizeof solo[0]; i++) {
        if (s.only && !(s.only & 1u << i)) continue;
        if ((rc = solo[i].fn(&s, err, sizeof err)) < 0) {
            fprintf(stderr, "%ssttbench service: %s: %s\n", s.tty ? "\r\033[K" : "", solo[i].name,
                    err);
            add_target(solo[i].name, 0, "", "not measured: %.120s", err);
        }
    }
    stt_sut *sv = NULL;
    const char *args[] = {"--workers", "2", "--profiles", "balanced", NULL};
    if (s.only && !(s.only & 070u)) {
        /* parts 4-6 not asked for */
    } else if (!(sv = server_start(&s, "two_workers", args, err, sizeof err))) {
        fprintf(stderr, "sttbench service: %s\n", err);
        add_target("4-6", 0, "", "not measured: %.120s", err);
    } else {
        reply r;
        post(stt_sut_url(sv), &s.cat, "balanced", 0, &r); /* warm-up of both workers */
        free(r.text);
        struct {
            const char *name;
            int (*fn)(svc *, const stt_sut *, char *, size_t);
        } shared[] = {{"threads", part_threads},
                      {"throughput", part_throughput},
                      {"fairness", part_fairness}};
        for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
            if (s.only && !(s.only & 1u << (i + 3))) {
                continue;
            } else if ((rc = shared[i].fn(&s, sv, err, sizeof err)) < 0) {
                fprintf(stderr, "%ssttbench service: %s: %s\n", s.tty ? "\r\033[K" : "",
                        shared[i].name, err);
                add_target(shared[i].name, 0, "", "not measured: %.120s", err);
            }
        server_stop(sv);
    }
    if (s.tty) fprintf(stderr, "\r\033[K");

    stt_sysinfo si;
    stt_sysinfo_get(&si);
    if (write_outputs(&s, &si, bench_now_s() - s.t0, err, sizeof err) < 0) {
        fprintf(stderr, "sttbench service: %s\n", err);
        status = 1;
    }
    printf("%-20s %-24s %-6s %s\n", "target", "goal", "result", "measured");
    for (int i = 0; i < n_targets; i++) {
        printf("%-20s %-24s %-6s %s\n", targets[i].name, targets[i].goal, verdict(targets[i].pass),
               targets[i].measured);
        if (targets[i].pass == 0) status = 1;
    }
    printf("results: %s/service.json, %s/service_report.md (%.0f s)\n", s.out, s.out,
           bench_now_s() - s.t0);
out:
    json_decref(s.measurements);
    for (int i = 0; i < N_CLIPS; i++)
        free_upload(&s.clips[i]);
    free_upload(&s.cat);
    free_upload(&s.longf);
    unlink(s.cat.path);
    if (strncmp(s.longf.path, s.workdir, strlen(s.workdir)) == 0) unlink(s.longf.path);
    rmdir(s.workdir);
    curl_global_cleanup();
    return status;
usage:
    print_usage(stderr);
    return 2;
}
