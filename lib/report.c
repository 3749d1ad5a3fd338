/* report: results files -> performance report, scaling strategy, manifests, plans. */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "html.h"
#include "queueing.h"

enum { K_TESTS, K_AUDIO, K_LOAD, K_CPU, K_SERVICE, K_REPLICAS, K_N };
static const char *const kind_file[K_N] = {"test_results.json", "audio.json",   "load.json",
                                           "cpu.json",          "service.json", "replicas.json"};
static const char *const kind_cmd[K_N] = {
    "scripts/run_all_tests.sh",
    "scripts/benchmark_all_audio.sh (sttbench audio --corpus corpus --spawn --out results/audio)",
    "sttbench load --url URL --rate R1,R2,... --out results/load",
    "scripts/profile_cpu_scaling.sh (sttbench cpu)",
    "scripts/benchmark_service.sh (sttbench service)",
    "sttbench replicas --out results/replicas (as root; scripts/study.sh runs it)"};

typedef struct src {
    char label[PATH_MAX]; /* cited name */
    char dir[PATH_MAX];   /* folder of the file: charts live beside it */
    json_t *j;
    time_t mtime;
} src;

typedef struct machine {
    char in[PATH_MAX];
    src k[K_N];
} machine;

struct stt_report {
    machine *m;
    int n;
};

stt_report_params stt_report_default_params(void)
{
    stt_report_params p = {.price_core_hour = 0.04,
                           .price_gib_hour = 0.005,
                           .slo_p95_s = 0,
                           .memory_margin = 0.15,
                           .max_audio_s = 600,
                           .profile = "balanced",
                           .image = "sttlab/sttd:0.1.0",
                           .asset_dir = NULL};
    return p;
}

/* ---- loading ---- */

static int walk(machine *mc, const char *root, const char *rel, int depth, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) {
        if (depth == 0) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[PATH_MAX], full[PATH_MAX * 2];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st)) continue;
        if (S_ISDIR(st.st_mode)) {
            /* history/ holds earlier test reports, not this machine's current one */
            if (depth < 8 && strcmp(e->d_name, "history"))
                rc = walk(mc, root, sub, depth + 1, err, errlen);
            continue;
        }
        for (int k = 0; k < K_N; k++) {
            if (strcmp(e->d_name, kind_file[k])) continue;
            src *s = &mc->k[k];
            if (s->j && s->mtime >= st.st_mtime) break; /* the newest one wins */
            json_error_t je;
            json_t *j = json_load_file(full, 0, &je);
            if (!j) {
                rc = stt_seterr(err, errlen, STT_EINVAL, "%s:%d: %s", full, je.line, je.text);
                break;
            }
            json_decref(s->j);
            s->j = j;
            s->mtime = st.st_mtime;
            snprintf(s->label, sizeof s->label, "%s", sub);
            snprintf(s->dir, sizeof s->dir, "%.4000s", full);
            char *slash = strrchr(s->dir, '/');
            if (slash) *slash = 0;
        }
    }
    closedir(d);
    return rc;
}

int stt_report_load(const char *const *dirs, int ndirs, stt_report **out, char *err, size_t errlen)
{
    if (!dirs || ndirs < 1 || !out)
        return stt_seterr(err, errlen, STT_EINVAL, "no results directory");
    stt_report *r = calloc(1, sizeof *r);
    if (!r || !(r->m = calloc((size_t)ndirs, sizeof *r->m))) {
        free(r);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    r->n = ndirs;
    for (int i = 0; i < ndirs; i++) {
        snprintf(r->m[i].in, sizeof r->m[i].in, "%s", dirs[i]);
        int rc = walk(&r->m[i], dirs[i], "", 0, err, errlen);
        if (rc) {
            stt_report_free(r);
            return rc;
        }
        if (ndirs > 1)
            for (int k = 0; k < K_N; k++) {
                if (!r->m[i].k[k].j) continue;
                char tmp[PATH_MAX];
                snprintf(tmp, sizeof tmp, "%s", r->m[i].k[k].label);
                snprintf(r->m[i].k[k].label, sizeof r->m[i].k[k].label, "%.2000s/%.2000s", dirs[i],
                         tmp);
            }
    }
    *out = r;
    return 0;
}

void stt_report_free(stt_report *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++)
            json_decref(r->m[i].k[k].j);
    free(r->m);
    free(r);
}

int stt_report_found(const stt_report *r)
{
    int n = 0;
    for (int i = 0; r && i < r->n; i++)
        for (int k = 0; k < K_N; k++)
            n += r->m[i].k[k].j != NULL;
    return n;
}

/* The first machine (in --in order) that has this kind of file. */
static const src *primary(const stt_report *r, int k)
{
    for (int i = 0; i < r->n; i++)
        if (r->m[i].k[k].j) return &r->m[i].k[k];
    return NULL;
}

/* ---- JSON paths: "a.b[2].c" ---- */

static json_t *jpath(json_t *j, const char *path)
{
    const char *p = path;
    while (j && *p) {
        if (*p == '.') p++;
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']') return NULL;
            j = json_array_get(j, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        j = json_object_get(j, key);
        p += n;
    }
    return j;
}

static double jnumv(json_t *j)
{
    return json_is_number(j) ? json_number_value(j) : NAN;
}

static double jnum_at(const src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static double jnum_at(const src *s, const char *fmt, ...)
{
    if (!s) return NAN;
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return jnumv(jpath(s->j, path));
}

static const char *jstr_at(const src *s, const char *path)
{
    json_t *j = s ? jpath(s->j, path) : NULL;
    return json_is_string(j) ? json_string_value(j) : NULL;
}

/* ---- text: one writer, markdown or HTML ---- */

typedef struct doc {
    FILE *f;
    int html;
    const stt_report_params *p;
    char ring[24][768]; /* cited numbers live until 24 later ones */
    int next;
    int in_list, in_table;
} doc;

static void fmt_num(char *b, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(b, n, "n/a");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(b, n, "%.0f", v);
    else
        snprintf(b, n, "%.4g", v);
}

/* "VALUE UNIT (FILE: PATH)"; unit "MiB"/"GiB" scales bytes. Missing -> "not measured". */
static const char *cite(doc *d, const src *s, const char *unit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *cite(doc *d, const src *s, const char *unit, const char *fmt, ...)
{
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    char *b = d->ring[d->next++ % 24];
    double v = s ? jnumv(jpath(s->j, path)) : NAN;
    if (!isfinite(v)) {
        snprintf(b, 768, "not measured (%.300s: %.200s)", s ? s->label : "missing file", path);
        return b;
    }
    if (unit && !strcmp(unit, "MiB")) v /= 1048576.0;
    if (unit && !strcmp(unit, "GiB")) v /= 1073741824.0;
    char num[64];
    fmt_num(num, sizeof num, v);
    snprintf(b, 768, "%s%s%s (%.300s: %.200s)", num, unit && *unit ? " " : "", unit ? unit : "",
             s->label, path);
    return b;
}

/* A computed figure: "VALUE UNIT (derived: HOW)". */
static const char *derived(doc *d, double v, const char *unit, const char *how)
{
    char *b = d->ring[d->next++ % 24];
    char num[64];
    fmt_num(num, sizeof num, v);
    snprintf(b, 768, "%s%s%s (derived: %s)", num, unit && *unit ? " " : "", unit ? unit : "", how);
    return b;
}

static void close_blocks(doc *d)
{
    if (d->in_list) {
        fputs(d->html ? "</ul>\n" : "\n", d->f);
        d->in_list = 0;
    }
    if (d->in_table) {
        fputs(d->html ? "</table>\n" : "\n", d->f);
        d->in_table = 0;
    }
}

static void vtext(doc *d, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) return;
    if (d->html)
        stt_html_escape(d->f, s);
    else
        fputs(s, d->f);
    free(s);
}

static void h(doc *d, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void h(doc *d, int level, const char *fmt, ...)
{
    close_blocks(d);
    va_list ap;
    va_start(ap, fmt);
    if (d->html)
        fprintf(d->f, "<h%d>", level);
    else
        fprintf(d->f, "%.*s ", level, "######");
    vtext(d, fmt, ap);
    fprintf(d->f, d->html ? "</h%d>\n" : "\n\n", level);
    va_end(ap);
}

static void para(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void para(doc *d, const char *fmt, ...)
{
    close_blocks(d);
    va_list ap;
    va_start(ap, fmt);
    fputs(d->html ? "<p>" : "", d->f);
    vtext(d, fmt, ap);
    fputs(d->html ? "</p>\n" : "\n\n", d->f);
    va_end(ap);
}

static void li(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void li(doc *d, const char *fmt, ...)
{
    if (d->in_table) close_blocks(d);
    if (!d->in_list) {
        if (d->html) fputs("<ul>\n", d->f);
        d->in_list = 1;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs(d->html ? "<li>" : "- ", d->f);
    vtext(d, fmt, ap);
    fputs(d->html ? "</li>\n" : "\n", d->f);
    va_end(ap);
}

/* Table: header cells separated by '|'; then rows the same way. Cells are text. */
static void trow(doc *d, int header, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void trow(doc *d, int header, const char *fmt, ...)
{
    if (d->in_list) close_blocks(d);
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (rc < 0) return;
    if (header && !d->in_table) {
        if (d->html) fputs("<table>\n", d->f);
        d->in_table = 1;
    }
    int cols = 1;
    for (char *c = s; *c; c++)
        cols += *c == '|';
    if (d->html) {
        fputs("<tr>", d->f);
        char *save = NULL;
        for (char *c = strtok_r(s, "|", &save); c; c = strtok_r(NULL, "|", &save)) {
            fputs(header ? "<th>" : "<td>", d->f);
            stt_html_escape(d->f, c);
            fputs(header ? "</th>" : "</td>", d->f);
        }
        fputs("</tr>\n", d->f);
    } else {
        fprintf(d->f, "| %s |\n", s);
        if (header) {
            for (int i = 0; i < cols; i++)
                fputs("|---", d->f);
            fputs("|\n", d->f);
        }
    }
    free(s);
}

/* Base64 by hand: the project's libraries (jansson, curl, GSL...) export no encoder. */
static void base64_file(FILE *out, const char *path)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *f = fopen(path, "rb");
    if (!f) return;
    unsigned char in[3];
    size_t n;
    while ((n = fread(in, 1, 3, f)) > 0) {
        if (n < 3) memset(in + n, 0, 3 - n);
        fputc(t[in[0] >> 2], out);
        fputc(t[((in[0] & 3) << 4) | (in[1] >> 4)], out);
        fputc(n > 1 ? t[((in[1] & 15) << 2) | (in[2] >> 6)] : '=', out);
        fputc(n > 2 ? t[in[2] & 63] : '=', out);
    }
    fclose(f);
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* to, relative to the folder from (both resolved); 0 when either cannot be resolved. */
static int relpath(char *out, size_t n, const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!from || !realpath(to, a) || !realpath(from, b)) return 0;
    size_t common = 0, k = 0;
    for (; a[k] && a[k] == b[k]; k++)
        if (a[k] == '/') common = k;
    if (!b[k] && a[k] == '/') common = k; /* from is a prefix folder of to */
    out[0] = 0;
    size_t used = 0;
    for (const char *c = b + common; *c; c++)
        if (*c == '/' && used + 3 < n) {
            memcpy(out + used, "../", 4);
            used += 3;
        }
    snprintf(out + used, n - used, "%s", a + common + 1);
    return 1;
}

/* Embeds (HTML) or links (markdown) every PNG beside a results file. */
static void charts(doc *d, const src *s)
{
    if (!s) return;
    DIR *dir = opendir(s->dir);
    if (!dir) return;
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".png")) names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof *names, cmpstr);
    if (n) close_blocks(d);
    for (int i = 0; i < n; i++) {
        if (!names[i]) continue;
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", s->dir, names[i]);
        if (d->html) {
            fputs("<figure><img alt=\"", d->f);
            stt_html_escape(d->f, names[i]);
            fputs("\" src=\"data:image/png;base64,", d->f);
            base64_file(d->f, path);
            fputs("\"><figcaption>", d->f);
            stt_html_escape(d->f, names[i]);
            fputs("</figcaption></figure>\n", d->f);
        } else {
            char rel[PATH_MAX * 2];
            const char *link = relpath(rel, sizeof rel, d->p->asset_dir, path) ? rel : path;
            fprintf(d->f, "![%s](%s)\n\n", names[i], link);
        }
        free(names[i]);
    }
}

/* ---- the figures the decisions rest on ---- */

/* Index of cpu.json's analysis entry for a mode, or -1. */
static int analysis_index(const src *cpu, const char *mode)
{
    json_t *a = cpu ? json_object_get(cpu->j, "analysis") : NULL;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *m = json_string_value(json_object_get(json_array_get(a, i), "mode"));
        if (m && !strcmp(m, mode)) return (int)i;
    }
    return -1;
}

/* Largest peak PSS over cpu.json's ok points with this core count (bytes, or NaN). */
static double cpu_peak_pss(const src *cpu, int cores, int *index)
{
    json_t *pts = cpu ? json_object_get(cpu->j, "points") : NULL;
    double best = NAN;
    for (size_t i = 0; i < json_array_size(pts); i++) {
        json_t *pt = json_array_get(pts, i);
        const char *st = json_string_value(json_object_get(pt, "status"));
        if (!st || strcmp(st, "ok") || json_integer_value(json_object_get(pt, "cores")) != cores)
            continue;
        double v = jnumv(jpath(pt, "memory.peak_pss_bytes"));
        if (isfinite(v) && !(v <= best)) {
            best = v;
            if (index) *index = (int)i;
        }
    }
    return best;
}

/* Index of the audio.json fit of y for a profile, or -1. */
static int fit_index(const src *audio, const char *profile, const char *y)
{
    json_t *fits = audio ? json_object_get(audio->j, "fits") : NULL;
    for (size_t i = 0; i < json_array_size(fits); i++) {
        json_t *f = json_array_get(fits, i);
        const char *pr = json_string_value(json_object_get(f, "profile"));
        const char *yy = json_string_value(json_object_get(f, "y"));
        if (pr && yy && !strcmp(pr, profile) && !strcmp(yy, y)) return (int)i;
    }
    return -1;
}

/* Mean duration of the files audio.json measured (each file once), or NaN. */
static double audio_mean_duration(const src *audio)
{
    json_t *res = audio ? json_object_get(audio->j, "results") : NULL;
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *x = json_array_get(res, i);
        const char *f = json_string_value(json_object_get(x, "file"));
        int seen = 0;
        for (size_t k = 0; k < i && f; k++) {
            const char *g = json_string_value(json_object_get(json_array_get(res, k), "file"));
            if (g && !strcmp(f, g)) seen = 1;
        }
        double dur = jnumv(json_object_get(x, "duration_s"));
        if (!seen && isfinite(dur)) {
            sum += dur;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

typedef struct shape {
    int cores, series_index;
    double x;         /* audio s per s */
    double mem_bytes; /* with margin */
    double cost;      /* per audio hour */
    double long_latency;
} shape;

/* Pod shapes from cpu.json's cpuset series; returns how many (<= max). */
static int shapes(const stt_report *r, const stt_report_params *p, shape *out, int max)
{
    const src *cpu = primary(r, K_CPU);
    int a = analysis_index(cpu, "cpuset");
    if (a < 0) return 0;
    json_t *series = jpath(cpu->j, "analysis");
    series = json_object_get(json_array_get(series, (size_t)a), "series");
    int n = 0;
    for (size_t i = 0; i < json_array_size(series) && n < max; i++) {
        json_t *e = json_array_get(series, i);
        shape s = {.cores = (int)json_integer_value(json_object_get(e, "cores")),
                   .series_index = (int)i,
                   .x = jnumv(json_object_get(e, "audio_s_per_s")),
                   .long_latency = jnumv(json_object_get(e, "long_latency_s"))};
        if (s.cores < 1 || !(s.x > 0)) continue;
        s.mem_bytes = cpu_peak_pss(cpu, s.cores, NULL) * (1 + p->memory_margin);
        double gib = isfinite(s.mem_bytes) ? s.mem_bytes / 1073741824.0 : 0;
        /* P_core n + P_gib m per wall hour, over X audio hours per hour */
        s.cost = (p->price_core_hour * s.cores + p->price_gib_hour * gib) / s.x;
        out[n++] = s;
    }
    return n;
}

static double slo_used(const stt_report *r, const stt_report_params *p)
{
    if (p->slo_p95_s > 0) return p->slo_p95_s;
    double s = jnum_at(primary(r, K_LOAD), "config.slo_p95_s");
    return s > 0 ? s : 0;
}

/* Service-time distribution of one worker for the shape: audio.json's fit gives
 * the shape of a + b d over the mix; cpu.json's throughput at that core count
 * fixes its mean (c workers each take c E[d] / X seconds per request). */
static int service_times(const stt_report *r, const stt_report_params *p, const shape *sh,
                         const stt_mix *mix, double *out)
{
    const src *audio = primary(r, K_AUDIO);
    int fi = fit_index(audio, p->profile, "process_s");
    if (fi < 0) return -1;
    double a = jnum_at(audio, "fits[%d].intercept", fi), b = jnum_at(audio, "fits[%d].slope", fi);
    double wsum = 0, ed = 0, es = 0;
    for (size_t i = 0; i < mix->n; i++) {
        out[i] = fmax(1e-3, a + b * mix->duration_s[i]);
        wsum += mix->weight[i];
        ed += mix->weight[i] * mix->duration_s[i];
        es += mix->weight[i] * out[i];
    }
    if (!(wsum > 0)) return -1;
    ed /= wsum;
    es /= wsum;
    if (sh && sh->x > 0) {
        double scale = (sh->cores * ed / sh->x) / es;
        for (size_t i = 0; i < mix->n; i++)
            out[i] *= scale;
    }
    return 0;
}

void stt_report_decide(const stt_report *r, const stt_report_params *p, stt_report_decision *d)
{
    memset(d, 0, sizeof *d);
    const src *t = primary(r, K_TESTS), *au = primary(r, K_AUDIO), *ld = primary(r, K_LOAD),
              *cpu = primary(r, K_CPU);
    d->has_tests = t != NULL;
    d->has_audio = au != NULL;
    d->has_load = ld != NULL;
    d->has_cpu = cpu != NULL;
    d->has_service = primary(r, K_SERVICE) != NULL;
    d->coverage_line = NAN;
    d->fit_a = d->fit_b = d->quota_ratio = d->quota_latency_ratio = d->best_cost_per_audio_hour =
        d->best_audio_s_per_s = d->memory_bytes = NAN;
    if (t) {
        d->tests_total = (int)jnum_at(t, "totals.tests");
        d->tests_passed = (int)jnum_at(t, "totals.passed");
        d->tests_failed = (int)jnum_at(t, "totals.failed");
        d->tests_skipped = (int)jnum_at(t, "totals.skipped");
        d->tests_ok = json_is_true(json_object_get(t->j, "ok"));
        d->coverage_line = jnum_at(t, "coverage.line_percent");
        double thr = jnum_at(t, "coverage.threshold");
        d->tested_stable = d->tests_ok && d->tests_failed == 0 && d->tests_total > 0 &&
                           isfinite(d->coverage_line) && !(d->coverage_line < thr);
    }
    d->cpu_answer = jstr_at(cpu, "verdict.answer");
    d->slo_p95_s = slo_used(r, p);

    int fi = fit_index(au, p->profile, "process_s");
    if (fi >= 0) {
        d->fit_a = jnum_at(au, "fits[%d].intercept", fi);
        d->fit_b = jnum_at(au, "fits[%d].slope", fi);
    }

    /* Pod shape: the cheapest per audio hour whose single long request meets
     * the objective (scale up until one request is fast enough, then out). */
    shape sh[32];
    int ns = shapes(r, p, sh, 32), best = -1;
    for (int i = 0; i < ns; i++) {
        int meets = !(d->slo_p95_s > 0) || !isfinite(sh[i].long_latency) ||
                    sh[i].long_latency <= d->slo_p95_s;
        if (meets && (best < 0 || sh[i].cost < sh[best].cost)) best = i;
    }
    if (best < 0 && ns > 0) /* nothing meets it: the fastest single request */
        for (int i = 0; i < ns; i++)
            if (best < 0 || sh[i].long_latency < sh[best].long_latency) best = i;
    d->best_cores = best >= 0 ? sh[best].cores : 0;
    if (best >= 0) {
        d->best_cost_per_audio_hour = sh[best].cost;
        d->best_audio_s_per_s = sh[best].x;
        d->memory_bytes = sh[best].mem_bytes;
    }

    /* CPU limit: a CFS quota (what limits.cpu sets) against pinned cores, at the
     * chosen shape's core count (else the first measured). It is dropped when
     * it costs over 5% of throughput or over 10% of one long request's time. */
    d->cpu_limit = 1;
    json_t *qv = cpu ? json_object_get(cpu->j, "quota_vs_cpuset") : NULL;
    for (size_t i = 0; i < json_array_size(qv); i++) {
        json_t *e = json_array_get(qv, i);
        int c = (int)json_integer_value(json_object_get(e, "cores"));
        if (c == d->best_cores || (!isfinite(d->quota_ratio))) {
            d->quota_ratio = jnumv(json_object_get(e, "throughput_ratio"));
            d->quota_latency_ratio = jnumv(json_object_get(e, "latency_ratio"));
        }
    }
    if (d->quota_ratio < 0.95 || d->quota_latency_ratio > 1.10) d->cpu_limit = 0;

    /* Memory: with no cpu.json peak, audio.json's memory fit at the longest audio. */
    int mi = fit_index(au, p->profile, "peak_pss_bytes");
    if (mi >= 0) {
        double m = (jnum_at(au, "fits[%d].intercept", mi) +
                    jnum_at(au, "fits[%d].slope", mi) * p->max_audio_s) *
                   (1 + p->memory_margin);
        if (!(m <= d->memory_bytes)) d->memory_bytes = m;
    }

    /* HPA: the utilisation at which the queueing model still meets the
     * objective; else the knee's share of the peak throughput. */
    d->hpa_cpu_percent = 70;
    d->hpa_basis = "default (no objective and no knee measured)";
    double emean = audio_mean_duration(au);
    if (best >= 0 && d->slo_p95_s > 0 && isfinite(emean) && fi >= 0) {
        double dur = emean, w = 1, s;
        stt_mix mix = {&dur, &w, 1};
        if (service_times(r, p, &sh[best], &mix, &s) == 0) {
            /* the shape of the distribution: every measured duration */
            stt_mgc_params q = stt_mgc_default_params();
            q.servers = sh[best].cores;
            q.service_s = &s;
            q.n = 1;
            double rate;
            if (stt_mgc_max_rate(&q, d->slo_p95_s, &rate, NULL, 0) == 0 && rate > 0) {
                int pct = (int)floor(100.0 * rate * s / q.servers);
                d->hpa_cpu_percent = pct < 30 ? 30 : pct > 90 ? 90 : pct;
                d->hpa_basis = "queueing model: utilisation at which p95 meets the objective";
            }
        }
    }
    if (!strncmp(d->hpa_basis, "default", 7) && ld &&
        json_is_object(json_object_get(ld->j, "knee"))) {
        double kt = jnum_at(ld, "knee.throughput_rps"), mx = 0;
        json_t *steps = json_object_get(ld->j, "steps");
        for (size_t i = 0; i < json_array_size(steps); i++)
            mx = fmax(mx, jnumv(jpath(json_array_get(steps, i), "throughput_rps")));
        if (kt > 0 && mx > 0) {
            int pct = (int)floor(90.0 * kt / mx);
            d->hpa_cpu_percent = pct < 30 ? 30 : pct > 90 ? 90 : pct;
            d->hpa_basis = "load knee: 90% of the knee's share of peak throughput";
        }
    }
    d->queue_depth_target = d->best_cores > 0 ? d->best_cores : NAN;
    double w = jnum_at(ld, "advice.workers");
    if (!isfinite(d->queue_depth_target) && w > 0) d->queue_depth_target = w;

    /* Grace: the slowest profile's time for the longest allowed audio, +50%, +10 s. */
    double worst = NAN;
    json_t *fits = au ? json_object_get(au->j, "fits") : NULL;
    for (size_t i = 0; i < json_array_size(fits); i++) {
        json_t *f = json_array_get(fits, i);
        const char *y = json_string_value(json_object_get(f, "y"));
        if (!y || strcmp(y, "process_s")) continue;
        double v = jnumv(json_object_get(f, "intercept")) +
                   jnumv(json_object_get(f, "slope")) * p->max_audio_s;
        if (!(v <= worst)) worst = v;
    }
    d->grace_s = isfinite(worst) ? (int)ceil(worst * 1.5) + 10 : (int)ceil(p->max_audio_s) + 10;
}

/* ---- PERFORMANCE_REPORT ---- */

static void missing(doc *d, int k)
{
    para(d,
         "Missing: no %s was found under the results directories, so this part is not "
         "measured. Produce it with: %s.",
         kind_file[k], kind_cmd[k]);
}

static void reproduce(doc *d, int k, const src *s)
{
    para(d, "How to reproduce (%s): %s", s ? s->label : kind_file[k], kind_cmd[k]);
}

static void summary(doc *d, const stt_report *r, const stt_report_decision *dc)
{
    const src *t = primary(r, K_TESTS), *cpu = primary(r, K_CPU), *ld = primary(r, K_LOAD),
              *au = primary(r, K_AUDIO);
    h(d, 2, "Executive summary");
    if (t)
        li(d,
           "1. Tested and stable? %s: %s tests, %s passed, %s failed, %s skipped; line coverage "
           "of lib/ %s against a threshold of %s.",
           dc->tested_stable ? "Yes" : "No", cite(d, t, "", "totals.tests"),
           cite(d, t, "", "totals.passed"), cite(d, t, "", "totals.failed"),
           cite(d, t, "", "totals.skipped"), cite(d, t, "%", "coverage.line_percent"),
           cite(d, t, "%", "coverage.threshold"));
    else
        li(d, "1. Tested and stable? Unknown: test_results.json is missing (run %s).",
           kind_cmd[K_TESTS]);
    int a = analysis_index(cpu, "cpuset");
    if (cpu && a >= 0) {
        json_t *series = jpath(cpu->j, "analysis");
        int last =
            (int)json_array_size(json_object_get(json_array_get(series, (size_t)a), "series")) - 1;
        li(d,
           "2. Many weak cores or few strong ones? cpu.json answers \"%s\". Throughput speedup "
           "at %s cores is %s (efficiency %s); serial fraction (Amdahl) %s; one core "
           "transcribes %s audio seconds per second.",
           dc->cpu_answer ? dc->cpu_answer : "undetermined",
           cite(d, cpu, "", "analysis[%d].series[%d].cores", a, last),
           cite(d, cpu, "x", "analysis[%d].series[%d].speedup", a, last),
           cite(d, cpu, "", "analysis[%d].series[%d].efficiency", a, last),
           cite(d, cpu, "", "analysis[%d].throughput.amdahl.serial_fraction", a),
           cite(d, cpu, "", "analysis[%d].series[0].audio_s_per_s", a));
    } else {
        li(d, "2. Many weak cores or few strong ones? Unknown: %s (run %s).",
           cpu ? "cpu.json has no cpuset analysis" : "cpu.json is missing", kind_cmd[K_CPU]);
    }
    char up[512] = "", out[512] = "";
    if (dc->best_cores > 0)
        snprintf(up, sizeof up,
                 "Pods of %d core%s (the cheapest measured shape per audio hour whose single "
                 "long request meets the objective); give a pod more cores only while one "
                 "request is slower than the objective; ",
                 dc->best_cores, dc->best_cores == 1 ? "" : "s");
    else
        snprintf(up, sizeof up, "No pod shape can be chosen without cpu.json; ");
    if (ld && json_is_object(json_object_get(ld->j, "knee")))
        snprintf(out, sizeof out, "scale out when a pod nears its knee at %s %s, p95 %s",
                 cite(d, ld, "", "knee.offered"),
                 jstr_at(ld, "config.mode") && !strcmp(jstr_at(ld, "config.mode"), "open")
                     ? "requests/s"
                     : "requests in flight",
                 cite(d, ld, "s", "knee.p95_s"));
    else
        snprintf(out, sizeof out, "the load knee is %s",
                 ld ? "not found in load.json" : "unknown (load.json missing)");
    int fi = fit_index(au, d->p->profile, "process_s");
    li(d,
       "3. When to scale up and when out? %s%s. One request costs %s + %s per audio second "
       "(profile %s). HPA target %d%% CPU (%s).",
       up, out, fi >= 0 ? cite(d, au, "s", "fits[%d].intercept", fi) : "not measured (audio.json)",
       fi >= 0 ? cite(d, au, "s", "fits[%d].slope", fi) : "not measured", d->p->profile,
       dc->hpa_cpu_percent, dc->hpa_basis);
}

static void sec_tests(doc *d, const stt_report *r)
{
    const src *t = primary(r, K_TESTS);
    h(d, 2, "Tests");
    if (!t) return missing(d, K_TESTS);
    trow(d, 1, "figure|value");
    trow(d, 0, "tests|%s", cite(d, t, "", "totals.tests"));
    trow(d, 0, "passed|%s", cite(d, t, "", "totals.passed"));
    trow(d, 0, "failed|%s", cite(d, t, "", "totals.failed"));
    trow(d, 0, "skipped|%s", cite(d, t, "", "totals.skipped"));
    trow(d, 0, "slow (over the slow limit)|%s", cite(d, t, "", "totals.slow"));
    trow(d, 0, "violations|%s", cite(d, t, "", "totals.violations"));
    trow(d, 0, "line coverage of lib/|%s", cite(d, t, "%", "coverage.line_percent"));
    trow(d, 0, "branch coverage of lib/|%s", cite(d, t, "%", "coverage.branch_percent"));
    trow(d, 0, "time of the tests|%s", cite(d, t, "s", "totals.time"));
    json_t *ch = json_object_get(t->j, "checks");
    for (size_t i = 0; i < json_array_size(ch); i++) {
        json_t *c = json_array_get(ch, i);
        const char *nm = json_string_value(json_object_get(c, "name"));
        trow(d, 0, "deeper pass %s|%s", nm ? nm : "?",
             json_is_true(json_object_get(c, "passed")) ? "passed" : "FAILED");
    }
    para(d, "Commit %s, %s. The full report: test_reports/test_report.html.",
         jstr_at(t, "commit") ? jstr_at(t, "commit") : "unknown",
         jstr_at(t, "date") ? jstr_at(t, "date") : "undated");
    reproduce(d, K_TESTS, t);
}

static void sec_audio(doc *d, const stt_report *r)
{
    const src *au = primary(r, K_AUDIO);
    h(d, 2, "Audio length: time, memory, accuracy");
    if (!au) return missing(d, K_AUDIO);
    json_t *pr = json_object_get(au->j, "profiles");
    if (json_array_size(pr)) {
        trow(d, 1, "profile|RTF|RTFx|WER|audio");
        for (size_t i = 0; i < json_array_size(pr); i++) {
            const char *nm = json_string_value(jpath(json_array_get(pr, i), "profile"));
            trow(d, 0, "%s|%s|%s|%s|%s", nm ? nm : "?", cite(d, au, "", "profiles[%zu].rtf", i),
                 cite(d, au, "", "profiles[%zu].rtfx", i), cite(d, au, "", "profiles[%zu].wer", i),
                 cite(d, au, "s", "profiles[%zu].audio_s", i));
        }
    }
    json_t *fits = json_object_get(au->j, "fits");
    if (json_array_size(fits)) {
        trow(d, 1, "profile|y|intercept|slope per audio s|R2");
        for (size_t i = 0; i < json_array_size(fits); i++) {
            json_t *f = json_array_get(fits, i);
            const char *y = json_string_value(json_object_get(f, "y"));
            int mem = y && !strcmp(y, "peak_pss_bytes");
            trow(d, 0, "%s|%s|%s|%s|%s", json_string_value(json_object_get(f, "profile")),
                 y ? y : "?", cite(d, au, mem ? "MiB" : "s", "fits[%zu].intercept", i),
                 cite(d, au, mem ? "MiB" : "", "fits[%zu].slope", i),
                 cite(d, au, "", "fits[%zu].r2", i));
        }
    }
    json_t *sk = json_object_get(au->j, "skipped");
    if (json_array_size(sk))
        para(d, "Skipped as longer than the limit: %zu file(s), e.g. %s at %s.",
             json_array_size(sk), json_string_value(jpath(sk, "[0].file")),
             cite(d, au, "s", "skipped[0].duration_s"));
    charts(d, au);
    reproduce(d, K_AUDIO, au);
}

static void sec_load(doc *d, const stt_report *r, const stt_report_params *p)
{
    const src *ld = primary(r, K_LOAD);
    h(d, 2, "Load: throughput and latency");
    if (!ld) return missing(d, K_LOAD);
    json_t *steps = json_object_get(ld->j, "steps");
    trow(d, 1, "step|mode|offered|req/s|audio s/s|p50|p95|p99|stable");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        trow(d, 0, "%zu|%s|%s|%s|%s|%s|%s|%s|%s", i, json_string_value(json_object_get(s, "mode")),
             cite(d, ld, "", "steps[%zu].offered", i),
             cite(d, ld, "", "steps[%zu].throughput_rps", i),
             cite(d, ld, "", "steps[%zu].audio_s_per_s", i),
             cite(d, ld, "s", "steps[%zu].latency_s.p50", i),
             cite(d, ld, "s", "steps[%zu].latency_s.p95", i),
             cite(d, ld, "s", "steps[%zu].latency_s.p99", i),
             json_is_true(json_object_get(s, "stable")) ? "yes" : "no");
    }
    if (json_is_object(json_object_get(ld->j, "knee")))
        para(d, "Knee: step %s, offered %s, throughput %s, p95 %s.", cite(d, ld, "", "knee.index"),
             cite(d, ld, "", "knee.offered"), cite(d, ld, "req/s", "knee.throughput_rps"),
             cite(d, ld, "s", "knee.p95_s"));
    else
        para(d, "No knee was found in this sweep (throughput still grew at every step).");
    charts(d, ld);
    reproduce(d, K_LOAD, ld);
    (void)p;
}

/* Model p95 for each load.json step against the measured one. */
static void sec_validation(doc *d, const stt_report *r, const stt_report_params *p)
{
    const src *ld = primary(r, K_LOAD), *au = primary(r, K_AUDIO);
    h(d, 2, "Queueing model against measured load");
    if (!ld) {
        para(d, "Not validated: load.json is missing.");
        return;
    }
    int c = (int)jnum_at(ld, "machine.cores");
    if (c < 1) c = 1;
    json_t *steps = json_object_get(ld->j, "steps");
    /* The service time S: preferably measured in the same run, at a closed-loop
     * step with one request in flight (no queueing, same machine state);
     * else audio.json's time fit at the file's length. */
    double s = NAN;
    int s_step = -1;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        const char *mode = json_string_value(json_object_get(st, "mode"));
        if (mode && !strcmp(mode, "closed") && jnumv(json_object_get(st, "offered")) == 1 &&
            jnumv(jpath(st, "latency_s.mean")) > 0) {
            s = jnumv(jpath(st, "latency_s.mean"));
            s_step = (int)i;
            break;
        }
    }
    const char *file = jstr_at(ld, "config.file");
    char s_text[1024];
    if (s_step >= 0) {
        snprintf(s_text, sizeof s_text, "%s, the mean latency with one request in flight",
                 cite(d, ld, "s", "steps[%d].latency_s.mean", s_step));
    } else {
        int fi = au ? fit_index(au, p->profile, "process_s") : -1;
        double dur = NAN;
        json_t *res = au ? json_object_get(au->j, "results") : NULL;
        for (size_t i = 0; file && i < json_array_size(res); i++) {
            const char *f = json_string_value(jpath(json_array_get(res, i), "file"));
            const char *base = strrchr(file, '/');
            base = base ? base + 1 : file;
            if (f && !strcmp(f, base)) dur = jnumv(jpath(json_array_get(res, i), "duration_s"));
        }
        if (fi < 0 || !isfinite(dur)) {
            para(d,
                 "Not validated: load.json has no step with one request in flight, and "
                 "audio.json has no %s process-time fit covering the load's file (%s).",
                 p->profile, file ? file : "a mix");
            return;
        }
        s = jnum_at(au, "fits[%d].intercept", fi) + jnum_at(au, "fits[%d].slope", fi) * dur;
        snprintf(s_text, sizeof s_text, "%s from audio.json's time fit at %.4g s of audio",
                 derived(d, s, "s", "audio.json fit intercept + slope x duration"), dur);
    }
    para(d,
         "Model: M/G/c with c = %d workers (sttd's default: one per core, %s), service time S "
         "= %s (%s); Poisson arrivals for open-loop steps. Closed-loop steps use C requests "
         "always in flight: p95 = S + max(0, C - c) S / c. Target: within 20%%.",
         c, cite(d, ld, "", "machine.cores"), s_text, file ? file : "the load's mix");
    trow(d, 1, "step|offered|measured p95|model p95|error");
    int within = 0, total = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        const char *mode = json_string_value(json_object_get(st, "mode"));
        double off = jnumv(json_object_get(st, "offered")),
               meas = jnumv(jpath(st, "latency_s.p95"));
        double model = NAN;
        if (mode && !strcmp(mode, "open")) {
            stt_mgc_params q = stt_mgc_default_params();
            stt_mgc_result mr;
            q.servers = c;
            q.lambda = off;
            q.service_s = &s;
            q.n = 1;
            if (stt_mgc_eval(&q, &mr, NULL, 0) == 0) model = mr.t_q;
        } else if (off > 0) {
            model = s + fmax(0, off - c) * s / c;
        }
        char e[64] = "n/a";
        if (isfinite(model) && meas > 0) {
            double err = (model - meas) / meas;
            snprintf(e, sizeof e, "%+.0f%%", 100 * err);
            total++;
            within += fabs(err) <= 0.2;
        } else if (!isfinite(model)) {
            snprintf(e, sizeof e, "model: saturated");
            total++;
        }
        trow(d, 0, "%zu|%s|%s|%s|%s", i, cite(d, ld, "", "steps[%zu].offered", i),
             cite(d, ld, "s", "steps[%zu].latency_s.p95", i),
             isfinite(model) ? derived(d, model, "s", "model") : "unstable", e);
    }
    para(d,
         "%d of %d steps within 20%%%s. The model ignores the server's splitting of a request "
         "across threads and any warm-up; errors above 20%% are reported as they are.",
         within, total, s_step >= 0 ? " (the step with one request in flight supplies S)" : "");
}

static void sec_cpu(doc *d, const stt_report *r)
{
    const src *cpu = primary(r, K_CPU);
    h(d, 2, "CPU: cores and threads");
    if (!cpu) return missing(d, K_CPU);
    json_t *an = json_object_get(cpu->j, "analysis");
    for (size_t a = 0; a < json_array_size(an); a++) {
        json_t *e = json_array_get(an, a);
        h(d, 3, "Mode %s: %s", json_string_value(json_object_get(e, "mode")),
          json_string_value(json_object_get(e, "classification")) ?: "unclassified");
        json_t *series = json_object_get(e, "series");
        trow(d, 1, "cores|threads|audio s/s|speedup|efficiency|long-file latency");
        for (size_t i = 0; i < json_array_size(series); i++)
            trow(d, 0, "%s|%s|%s|%s|%s|%s",
                 cite(d, cpu, "", "analysis[%zu].series[%zu].cores", a, i),
                 cite(d, cpu, "", "analysis[%zu].series[%zu].threads", a, i),
                 cite(d, cpu, "", "analysis[%zu].series[%zu].audio_s_per_s", a, i),
                 cite(d, cpu, "x", "analysis[%zu].series[%zu].speedup", a, i),
                 cite(d, cpu, "", "analysis[%zu].series[%zu].efficiency", a, i),
                 cite(d, cpu, "s", "analysis[%zu].series[%zu].long_latency_s", a, i));
        li(d, "Amdahl serial fraction (throughput): %s",
           cite(d, cpu, "", "analysis[%zu].throughput.amdahl.serial_fraction", a));
        li(d, "USL peak: %s", cite(d, cpu, "cores", "analysis[%zu].throughput.usl.peak_cores", a));
        li(d, "Diminishing returns after: %s",
           cite(d, cpu, "cores", "analysis[%zu].diminishing_returns_cores", a));
        json_t *pj = json_object_get(e, "projections");
        for (size_t i = 0; i < json_array_size(pj); i++)
            li(d, "Projection (Amdahl, not measured): %s cores -> speedup %s (interval %s to %s)",
               cite(d, cpu, "", "analysis[%zu].projections[%zu].cores", a, i),
               cite(d, cpu, "x", "analysis[%zu].projections[%zu].speedup", a, i),
               cite(d, cpu, "", "analysis[%zu].projections[%zu].lo", a, i),
               cite(d, cpu, "", "analysis[%zu].projections[%zu].hi", a, i));
    }
    json_t *qv = json_object_get(cpu->j, "quota_vs_cpuset");
    if (json_array_size(qv)) {
        h(d, 3, "CFS quota against pinned cores");
        trow(d, 1, "cores|throughput quota/cpuset|latency quota/cpuset|throttled fraction");
        for (size_t i = 0; i < json_array_size(qv); i++)
            trow(d, 0, "%s|%s|%s|%s", cite(d, cpu, "", "quota_vs_cpuset[%zu].cores", i),
                 cite(d, cpu, "", "quota_vs_cpuset[%zu].throughput_ratio", i),
                 cite(d, cpu, "", "quota_vs_cpuset[%zu].latency_ratio", i),
                 cite(d, cpu, "", "quota_vs_cpuset[%zu].throttled_fraction", i));
    }
    json_t *sh = json_object_get(cpu->j, "shapes");
    if (json_array_size(sh)) {
        h(d, 3, "Same cores, different pod shapes");
        trow(d, 1, "replicas x cores|balancer|audio s/s|p95");
        for (size_t i = 0; i < json_array_size(sh); i++) {
            json_t *e = json_array_get(sh, i);
            trow(d, 0, "%lld x %lld|%s|%s|%s", json_integer_value(json_object_get(e, "replicas")),
                 json_integer_value(json_object_get(e, "cores_each")),
                 json_string_value(json_object_get(e, "balancer")) ?: "?",
                 cite(d, cpu, "", "shapes[%zu].audio_s_per_s", i),
                 cite(d, cpu, "s", "shapes[%zu].p95_s", i));
        }
    }
    json_t *rs = jpath(cpu->j, "verdict.reasons");
    para(d, "Verdict: %s.", jstr_at(cpu, "verdict.answer") ?: "none");
    for (size_t i = 0; i < json_array_size(rs); i++)
        li(d, "%s", json_string_value(json_array_get(rs, i)));
    charts(d, cpu);
    reproduce(d, K_CPU, cpu);
}

static void sec_service(doc *d, const stt_report *r)
{
    const src *sv = primary(r, K_SERVICE);
    h(d, 2, "Service against the raw engine");
    if (!sv) return missing(d, K_SERVICE);
    json_t *t = json_object_get(sv->j, "targets");
    trow(d, 1, "target|goal|measured|verdict");
    for (size_t i = 0; i < json_array_size(t); i++) {
        json_t *e = json_array_get(t, i);
        trow(d, 0, "%s|%s|%s|%s", json_string_value(json_object_get(e, "target")) ?: "",
             json_string_value(json_object_get(e, "goal")) ?: "",
             json_string_value(json_object_get(e, "measured")) ?: "",
             json_string_value(json_object_get(e, "verdict")) ?: "");
    }
    para(d, "Measured values as service.json states them (targets[].measured); raw series in "
            "its measurements object.");
    reproduce(d, K_SERVICE, sv);
}

/* Horizontal scaling measured: replicas as separate hosts behind haproxy,
 * against the queueing model (replicas.json from `sttbench replicas`). */
static void sec_replicas(doc *d, const stt_report *r)
{
    const src *rp = primary(r, K_REPLICAS);
    h(d, 2, "Horizontal scaling measured: replicas behind a load balancer");
    if (!rp) return missing(d, K_REPLICAS);
    const char *skipped = json_string_value(json_object_get(rp->j, "skipped"));
    if (skipped) {
        para(d, "Not measured on this machine: %s (%s: skipped).", skipped, rp->label);
        return reproduce(d, K_REPLICAS, rp);
    }
    para(d,
         "Each replica is sttd in its own network namespace on %s CPU(s) of its own, %s "
         "worker(s), profile %s; haproxy (leastconn, at most one request per worker in each "
         "replica, so that it holds one queue) spreads open-loop Poisson arrivals at %s of the "
         "replicas' capacity; service time measured on one idle replica: mean %s. The "
         "prediction is the planner's M/G/c model with c = replicas x workers.",
         cite(d, rp, "", "config.cores_per_replica"), cite(d, rp, "", "config.workers"),
         jstr_at(rp, "config.profile") ? jstr_at(rp, "config.profile") : "?",
         cite(d, rp, "", "config.load"), cite(d, rp, "s", "service_time.mean_s"));
    trow(d, 1,
         "replicas|offered req/s|achieved req/s|p50|p95 measured|p95 predicted|model "
         "error|simulated "
         "p95 band of a run this long");
    json_t *pts = json_object_get(rp->j, "points");
    int within = 0, inband = 0, n = (int)json_array_size(pts);
    for (int i = 0; i < n; i++) {
        json_t *pt = json_array_get(pts, (size_t)i);
        within += json_is_true(json_object_get(pt, "within_20pct"));
        inband += json_is_true(jpath(pt, "simulated.within_band"));
        trow(d, 0, "%s|%s|%s|%s|%s|%s|%s|%s to %s", cite(d, rp, "", "points[%d].replicas", i),
             cite(d, rp, "", "points[%d].offered_rps", i),
             cite(d, rp, "", "points[%d].achieved_rps", i),
             cite(d, rp, "s", "points[%d].latency_s.p50", i),
             cite(d, rp, "s", "points[%d].latency_s.p95", i),
             cite(d, rp, "s", "points[%d].predicted.p95_s", i),
             cite(d, rp, "%", "points[%d].p95_error_pct", i),
             cite(d, rp, "s", "points[%d].simulated.p95_band_s[0]", i),
             cite(d, rp, "s", "points[%d].simulated.p95_band_s[1]", i));
    }
    para(d,
         "%d of %d point(s) within 20%% of the model's p95; %d of %d inside the band where 90%% "
         "of simulated runs of the same length fall.",
         within, n, inband, n);
    if (n >= 2)
        para(d,
             "At the same utilisation, the model expects p95 to go from %s with %s replica(s) "
             "to %s with %s: one queue in front of more servers waits less, so at a given load "
             "per core more replicas mean shorter tails. Measured: %s and %s.",
             cite(d, rp, "s", "points[0].predicted.p95_s"), cite(d, rp, "", "points[0].replicas"),
             cite(d, rp, "s", "points[%d].predicted.p95_s", n - 1),
             cite(d, rp, "", "points[%d].replicas", n - 1),
             cite(d, rp, "s", "points[0].latency_s.p95"),
             cite(d, rp, "s", "points[%d].latency_s.p95", n - 1));
    para(d, "On a machine with as many cores as replicas the load generator and haproxy share "
            "the replicas' cores; the band, not the 20%% line, says whether a short run agrees "
            "with the model.");
    reproduce(d, K_REPLICAS, rp);
}

static void sec_machines(doc *d, const stt_report *r)
{
    h(d, 2, "Machines measured");
    trow(d, 1, "results directory|file|CPU|cores|commit");
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++) {
            const src *s = &r->m[i].k[k];
            if (!s->j) continue;
            json_t *m = json_object_get(s->j, "machine");
            json_t *cores = json_object_get(m, "logical_cores");
            if (!cores) cores = json_object_get(m, "cores");
            const char *commit = json_string_value(json_object_get(s->j, "commit"));
            if (!commit) commit = json_string_value(json_object_get(s->j, "git_commit"));
            trow(d, 0, "%s|%s|%s|%lld|%s", r->m[i].in, s->label,
                 json_string_value(json_object_get(m, "cpu_model")) ?: "unknown",
                 json_integer_value(cores), commit ?: "unknown");
        }
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++)
            if (!r->m[i].k[k].j) li(d, "%s: no %s", r->m[i].in, kind_file[k]);
}

static void report_body(doc *d, const stt_report *r)
{
    stt_report_decision dc;
    stt_report_decide(r, d->p, &dc);
    summary(d, r, &dc);
    sec_tests(d, r);
    sec_cpu(d, r);
    sec_audio(d, r);
    sec_load(d, r, d->p);
    sec_validation(d, r, d->p);
    sec_replicas(d, r);
    sec_service(d, r);
    sec_machines(d, r);
    close_blocks(d);
}

int stt_report_write_md(const stt_report *r, const stt_report_params *p, FILE *f)
{
    doc *d = calloc(1, sizeof *d);
    if (!d) return STT_ENOMEM;
    d->f = f;
    d->p = p;
    fprintf(f,
            "# Performance report\n\nGenerated by `sttbench report` from %d results file(s). "
            "Every number names the results file and JSON field it comes from; "
            "\"derived\" marks a computation, \"projection\" a figure not measured.\n\n",
            stt_report_found(r));
    report_body(d, r);
    free(d);
    return ferror(f) ? STT_EIO : 0;
}

int stt_report_write_html(const stt_report *r, const stt_report_params *p, FILE *f)
{
    doc *d = calloc(1, sizeof *d);
    if (!d) return STT_ENOMEM;
    d->f = f;
    d->p = p;
    d->html = 1;
    stt_html_begin(f, "Performance report",
                   "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}\n"
                   "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
                   "padding:.2em .5em;text-align:left}th{background:#eee}\nimg{max-width:100%}\n"
                   "pre{background:#f6f6f6;padding:.5em}\n");
    fputs("<h1>Performance report</h1>\n", f);
    fprintf(f,
            "<p>Generated by sttbench report from %d results file(s). Every number names "
            "the results file and JSON field it comes from.</p>\n",
            stt_report_found(r));
    report_body(d, r);
    stt_html_end(f);
    free(d);
    return ferror(f) ? STT_EIO : 0;
}

/* ---- SCALING_STRATEGY ---- */

int stt_report_write_strategy(const stt_report *r, const stt_report_params *p, FILE *f)
{
    doc *d = calloc(1, sizeof *d);
    if (!d) return STT_ENOMEM;
    d->f = f;
    d->p = p;
    stt_report_decision dc;
    stt_report_decide(r, p, &dc);
    const src *cpu = primary(r, K_CPU), *ld = primary(r, K_LOAD), *au = primary(r, K_AUDIO);
    fprintf(f,
            "# Scaling strategy\n\nGenerated by `sttbench report` from the results files; "
            "every figure names its source. Prices: %.4g per core-hour, %.4g per GiB-hour "
            "(`--price-core-hour`, `--price-gib-hour`; defaults 0.04 and 0.005).\n\n",
            p->price_core_hour, p->price_gib_hour);
    h(d, 2, "When to scale vertically (bigger pods)");
    int a = analysis_index(cpu, "cpuset");
    if (a >= 0) {
        json_t *series = json_object_get(
            json_array_get(json_object_get(cpu->j, "analysis"), (size_t)a), "series");
        for (size_t i = 0; i < json_array_size(series); i++)
            li(d,
               "%s cores: one long request takes %s (speedup %s for one request, throughput "
               "efficiency %s)",
               cite(d, cpu, "", "analysis[%d].series[%zu].cores", a, i),
               cite(d, cpu, "s", "analysis[%d].series[%zu].long_latency_s", a, i),
               cite(d, cpu, "x", "analysis[%d].series[%zu].latency_speedup", a, i),
               cite(d, cpu, "", "analysis[%d].series[%zu].efficiency", a, i));
        para(d,
             "Scale up while a single request is slower than the objective and one more core "
             "still adds at least half of what the first added (diminishing returns after %s). "
             "Beyond that, more cores per pod buy little latency: scale out.",
             cite(d, cpu, "cores", "analysis[%d].diminishing_returns_cores", a));
    } else {
        missing(d, K_CPU);
    }
    h(d, 2, "When to scale horizontally (more pods)");
    if (ld && json_is_object(json_object_get(ld->j, "knee")))
        para(d,
             "One pod's knee: %s offered, %s completed, p95 %s. Add pods before the per-pod "
             "load reaches it; past the knee latency grows without more throughput.",
             cite(d, ld, "", "knee.offered"), cite(d, ld, "req/s", "knee.throughput_rps"),
             cite(d, ld, "s", "knee.p95_s"));
    else
        para(d, "The knee is not measured (%s). Run `sttbench load` against one pod.",
             ld ? "no knee in load.json" : "load.json missing");
    if (dc.best_cores > 0)
        para(d,
             "Throughput per pod of %d cores: %s; requests per pod = that / the mean audio "
             "length of the traffic. `sttbench plan` turns a request rate into pods with the "
             "M/G/c model.",
             dc.best_cores,
             derived(d, dc.best_audio_s_per_s, "audio s/s", "cpu.json cpuset series"));
    h(d, 2, "Decision matrix");
    trow(d, 1, "signal|threshold|action");
    if (dc.slo_p95_s > 0)
        trow(d, 0,
             "p95 latency of short requests|above %.4g s (the objective) while CPU < %d%%|"
             "queueing is not the cause: scale up (threads) or pick a faster profile",
             dc.slo_p95_s, dc.hpa_cpu_percent);
    else
        trow(d, 0,
             "p95 latency|no objective given (--slo-p95)|set one; thresholds below still apply");
    trow(d, 0, "pod CPU utilisation|above %d%% (%s)|scale out (HPA)", dc.hpa_cpu_percent,
         dc.hpa_basis);
    if (isfinite(dc.queue_depth_target))
        trow(d, 0,
             "sttd_queue_depth per pod|above %.0f (= workers: every decoder busy)|scale out; "
             "503s with Retry-After mean the queue is full",
             dc.queue_depth_target);
    int fi = fit_index(au, p->profile, "process_s");
    if (fi >= 0)
        trow(d, 0,
             "audio length mix|files longer than %.0f s dominate (fixed cost %s is under "
             "10%% of the time)|scale up: long files gain from threads; short files gain "
             "only from more pods",
             10 * jnum_at(au, "fits[%d].intercept", fi) /
                 fmax(jnum_at(au, "fits[%d].slope", fi), 1e-9),
             cite(d, au, "s", "fits[%d].intercept", fi));
    if (isfinite(dc.quota_ratio))
        trow(d, 0, "quota/cpuset throughput|%s|%s",
             derived(d, dc.quota_ratio, "", "cpu.json quota_vs_cpuset"),
             dc.quota_ratio >= 0.95 ? "under 5% loss: no objection to a CPU limit"
                                    : "over 5% loss: no CPU limit, or static CPU manager with "
                                      "whole cores");
    if (isfinite(dc.quota_latency_ratio))
        trow(d, 0, "quota/cpuset time of one long request|%s|%s",
             derived(d, dc.quota_latency_ratio, "", "cpu.json quota_vs_cpuset"),
             dc.quota_latency_ratio <= 1.10
                 ? "under 10% slower: no objection to a CPU limit"
                 : "over 10% slower: no CPU limit (Burstable), or Guaranteed QoS with the static "
                   "CPU manager (exclusive whole cores, the pinned case measured)");
    h(d, 2, "Cost per audio hour by pod shape");
    shape sh[32];
    int ns = shapes(r, p, sh, 32);
    if (!ns)
        para(d, "Not computable: cpu.json with a cpuset series is missing.");
    else
        trow(d, 1, "cores|audio s/s|memory (with margin)|cost per audio hour");
    for (int i = 0; i < ns; i++) {
        char mem[64];
        if (isfinite(sh[i].mem_bytes))
            snprintf(mem, sizeof mem, "%.0f MiB", sh[i].mem_bytes / 1048576);
        else
            snprintf(mem, sizeof mem, "not measured (not counted)");
        trow(d, 0, "%d|%s|%s|%s", sh[i].cores,
             cite(d, cpu, "", "analysis[%d].series[%d].audio_s_per_s", a, sh[i].series_index), mem,
             derived(d, sh[i].cost, "", "(price_core x cores + price_GiB x GiB) / audio s per s"));
    }
    h(d, 2, "Tuning");
    li(d,
       "Profile: `fast`, `balanced`, `accurate` trade speed for accuracy (see the audio table in "
       "PERFORMANCE_REPORT.md); choose the fastest whose WER is acceptable.");
    li(d,
       "--workers: one per core (%d per pod here); more workers than cores only queue inside "
       "the CPU.",
       dc.best_cores);
    li(d, "--threads: pieces of one request decoded at once; raise it for long files when pods "
          "are idle, keep 1 under heavy load (throughput is the same, fairness better).");
    li(d, "--queue: requests admitted beyond the workers; keep it small (about the workers) so "
          "that overload turns into fast 503s the balancer can retry elsewhere.");
    close_blocks(d);
    free(d);
    return ferror(f) ? STT_EIO : 0;
}

/* ---- Kubernetes ---- */

int stt_report_write_k8s(const stt_report *r, const stt_report_params *p, FILE *dep, FILE *svc,
                         FILE *hpa)
{
    stt_report_decision dc;
    stt_report_decide(r, p, &dc);
    const src *cpu = primary(r, K_CPU), *au = primary(r, K_AUDIO);
    int cores = dc.best_cores > 0 ? dc.best_cores : 2;
    char cpu_src[512], mem_src[512];
    snprintf(cpu_src, sizeof cpu_src,
             dc.best_cores > 0 ? "cheapest measured shape per audio hour meeting the objective (%s)"
                               : "no measurement: %s missing; 2 is a placeholder",
             cpu ? cpu->label : "cpu.json");
    double mem = dc.memory_bytes;
    int mem_mi = isfinite(mem) ? (int)ceil(mem / 1048576.0) : 1024;
    if (isfinite(mem))
        snprintf(mem_src, sizeof mem_src,
                 "peak PSS at the pod's concurrency (%.150s%s%.150s) + %.0f%% margin",
                 cpu ? cpu->label : "", cpu && au ? ", " : "", au ? au->label : "",
                 100 * p->memory_margin);
    else
        snprintf(mem_src, sizeof mem_src, "no measurement: placeholder, measure before use");
    fprintf(
        dep,
        "# Generated by sttbench report; every number says where it came from.\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: sttd\n  labels:\n"
        "    app: sttd\nspec:\n  replicas: 2 # policy: two for availability; the HPA takes over\n"
        "  selector:\n    matchLabels:\n      app: sttd\n  template:\n    metadata:\n"
        "      labels:\n        app: sttd\n    spec:\n"
        "      terminationGracePeriodSeconds: %d # longest allowed request (%.0f s audio): %s\n"
        "      containers:\n        - name: sttd\n          image: %s\n"
        "          args: [\"--host\", \"0.0.0.0\", \"--port\", \"8080\", \"--workers\", \"%d\", "
        "\"--queue\", \"%d\", \"--max-duration-s\", \"%.0f\", \"--grace-s\", \"%d\"]"
        " # workers = cores (one decoder per core); queue = workers; grace = the pod's minus 5 s\n"
        "          ports:\n            - name: http\n              containerPort: 8080\n"
        "          resources:\n            requests:\n"
        "              cpu: \"%d\" # %s\n"
        "              memory: %dMi # %s\n            limits:\n",
        dc.grace_s, p->max_audio_s,
        dc.has_audio ? "slowest profile's audio.json time fit x 1.5 + 10 s"
                     : "no audio.json: real time (1 s per audio s) + 10 s, a placeholder",
        p->image, cores, cores, p->max_audio_s, dc.grace_s - 5 > 1 ? dc.grace_s - 5 : 1, cores,
        cpu_src, mem_mi, mem_src);
    if (dc.cpu_limit && !isfinite(dc.quota_ratio))
        fprintf(dep,
                "              cpu: \"%d\" # no quota-vs-cpuset measurement (cpu.json): limit = "
                "request by default; measure throttling before relying on it\n",
                cores);
    else if (dc.cpu_limit)
        fprintf(dep,
                "              cpu: \"%d\" # quota/cpuset throughput %.3g, long request time "
                "%.3g (cpu.json quota_vs_cpuset): throttling costs under 5%% and 10%%, so a "
                "limit equal to the request (Guaranteed QoS) is kept\n",
                cores, isfinite(dc.quota_ratio) ? dc.quota_ratio : 1.0,
                isfinite(dc.quota_latency_ratio) ? dc.quota_latency_ratio : 1.0);
    else
        fprintf(dep,
                "              # no cpu limit: under a CFS quota against pinned cores, throughput "
                "x%.3g and one long request's time x%.3g (cpu.json quota_vs_cpuset); the "
                "policy drops the limit beyond 5%% / 10%%. Or keep limit = request with the "
                "kubelet's static CPU manager, which pins whole cores\n",
                dc.quota_ratio, dc.quota_latency_ratio);
    fprintf(dep,
            "              memory: %dMi # = request: memory is not compressible, overcommit ends "
            "in OOM kills\n"
            "          readinessProbe: # 503 while decoders load or the queue is full\n"
            "            httpGet: {path: /ready, port: http}\n            periodSeconds: 5\n"
            "            failureThreshold: 1\n"
            "          livenessProbe: # /health answers from the HTTP thread even when workers are "
            "busy; 503 once the decoder pool stopped by itself\n"
            "            httpGet: {path: /health, port: http}\n            periodSeconds: 10\n"
            "            timeoutSeconds: 5\n            failureThreshold: 3\n"
            "          startupProbe: # policy: up to 60 s (30 x 2 s) to load the model\n"
            "            httpGet: {path: /health, port: http}\n            periodSeconds: 2\n"
            "            failureThreshold: 30\n",
            mem_mi);
    fprintf(svc, "# Generated by sttbench report.\napiVersion: v1\nkind: Service\nmetadata:\n"
                 "  name: sttd\nspec:\n  selector:\n    app: sttd\n  ports:\n"
                 "    - name: http\n      port: 80\n      targetPort: http\n");
    fprintf(
        hpa,
        "# Generated by sttbench report.\napiVersion: autoscaling/v2\nkind: "
        "HorizontalPodAutoscaler\n"
        "metadata:\n  name: sttd\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n"
        "    kind: Deployment\n    name: sttd\n"
        "  minReplicas: 2 # policy: availability\n  maxReplicas: 20 # policy: budget cap\n"
        "  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n        target:\n"
        "          type: Utilization\n          averageUtilization: %d # %s\n",
        dc.hpa_cpu_percent, dc.hpa_basis);
    fprintf(
        hpa,
        "    # Queue depth instead (needs a Prometheus adapter exposing the pod metric\n"
        "    # sttd_queue_depth from /metrics, e.g. prometheus-adapter with a rule for it):\n"
        "    # - type: Pods\n    #   pods:\n    #     metric:\n    #       name: sttd_queue_depth\n"
        "    #     target:\n    #       type: AverageValue\n"
        "    #       averageValue: \"%d\" # = workers per pod: all decoders busy, none queued\n"
        "  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: %d # policy: at least the "
        "grace period, so that long requests drain\n",
        cores, dc.grace_s > 300 ? dc.grace_s : 300);
    return ferror(dep) || ferror(svc) || ferror(hpa) ? STT_EIO : 0;
}

/* ---- traffic mix and plan ---- */

void stt_mix_free(stt_mix *m)
{
    if (!m) return;
    free(m->duration_s);
    free(m->weight);
    memset(m, 0, sizeof *m);
}

static int mix_add(stt_mix *m, double dur, double w)
{
    double *a = realloc(m->duration_s, (m->n + 1) * sizeof *a);
    if (!a) return STT_ENOMEM;
    m->duration_s = a;
    double *b = realloc(m->weight, (m->n + 1) * sizeof *b);
    if (!b) return STT_ENOMEM;
    m->weight = b;
    m->duration_s[m->n] = dur;
    m->weight[m->n++] = w;
    return 0;
}

int stt_mix_load(const char *path, stt_mix *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    int rc = 0;
    if (j) {
        json_t *arr = json_is_array(j) ? j : json_object_get(j, "results");
        for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
            json_t *e = json_array_get(arr, i);
            const char *f = json_string_value(json_object_get(e, "file"));
            int seen = 0;
            for (size_t k = 0; f && k < i; k++) {
                const char *g = json_string_value(json_object_get(json_array_get(arr, k), "file"));
                if (g && !strcmp(f, g)) seen = 1;
            }
            double dur = jnumv(json_object_get(e, "duration_s"));
            if (!seen && dur > 0) rc = mix_add(m, dur, 1.0);
        }
        json_decref(j);
    } else {
        FILE *f = fopen(path, "r");
        if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
        char line[PATH_MAX + 64], dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
        while (!rc && fgets(line, sizeof line, f)) {
            char name[PATH_MAX];
            double w = 1;
            if (line[0] == '#' || sscanf(line, "%4095s %lf", name, &w) < 1) continue;
            char full[PATH_MAX * 2];
            snprintf(full, sizeof full, "%s%s%s", name[0] == '/' ? "" : dir,
                     name[0] == '/' ? "" : "/", name);
            SF_INFO info = {0};
            SNDFILE *sf = sf_open(full, SFM_READ, &info);
            if (!sf) {
                rc = stt_seterr(err, errlen, STT_EAUDIO, "%s: %s", full, sf_strerror(NULL));
                break;
            }
            sf_close(sf);
            rc = mix_add(m, (double)info.frames / info.samplerate, w > 0 ? w : 1);
        }
        fclose(f);
    }
    if (!rc && m->n == 0)
        rc = stt_seterr(err, errlen, STT_EINVAL, "%s: no audio durations in the mix", path);
    if (rc) stt_mix_free(m);
    return rc;
}

int stt_report_plan(const stt_report *r, const stt_report_params *p, const stt_mix *mix,
                    double rate, double slo, FILE *f, char *err, size_t errlen)
{
    if (!mix || !mix->n || !(rate > 0) || !(slo > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "need a mix, a rate > 0 and an objective > 0");
    if (fit_index(primary(r, K_AUDIO), p->profile, "process_s") < 0)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "no audio.json with a process-time fit for profile %s", p->profile);
    shape sh[32];
    int ns = shapes(r, p, sh, 32);
    if (ns == 0) {
        /* without cpu.json: one-worker pods fed by the audio fit as measured */
        sh[0] = (shape){.cores = 1, .x = 0, .mem_bytes = NAN, .cost = NAN};
        ns = 1;
    }
    double *s = calloc(mix->n, sizeof *s);
    if (!s) return STT_ENOMEM;
    double wsum = 0, ed = 0;
    for (size_t i = 0; i < mix->n; i++) {
        wsum += mix->weight[i];
        ed += mix->weight[i] * mix->duration_s[i];
    }
    ed /= wsum;
    fprintf(f,
            "Traffic: %.4g requests/s, mean audio %.4g s (%zu lengths), p95 objective %.4g s. "
            "Model: M/G/c per pod (Erlang C, Allen-Cunneen), requests spread evenly over pods.\n\n",
            rate, ed, mix->n, slo);
    fprintf(f, "| cores per pod | pods | utilisation | p95 (model) | cost per hour | cost per "
               "audio hour |\n"
               "|---|---|---|---|---|---|\n");
    int rc = 0;
    for (int k = 0; k < ns; k++) {
        if (service_times(r, p, sh[k].x > 0 ? &sh[k] : NULL, mix, s)) {
            rc = stt_seterr(err, errlen, STT_EINVAL, "cannot derive service times");
            break;
        }
        stt_mgc_params q = stt_mgc_default_params();
        q.servers = sh[k].cores;
        q.service_s = s;
        q.weight = mix->weight;
        q.n = mix->n;
        stt_mgc_result mr = {0};
        int pods = 0;
        for (int n = 1; n <= 100000; n++) {
            q.lambda = rate / n;
            if (stt_mgc_eval(&q, &mr, err, errlen)) break;
            if (mr.stable && mr.t_q <= slo) {
                pods = n;
                break;
            }
            if (mr.stable && q.lambda < 1e-9) break;
        }
        if (!pods) {
            fprintf(
                f,
                "| %d | - | - | objective unreachable (one request alone takes longer) | - | - |\n",
                sh[k].cores);
            continue;
        }
        double gib = isfinite(sh[k].mem_bytes) ? sh[k].mem_bytes / 1073741824.0 : 0;
        double hour = pods * (p->price_core_hour * sh[k].cores + p->price_gib_hour * gib);
        fprintf(f, "| %d | %d | %.0f%% | %.3g s | %.4g | %.4g |\n", sh[k].cores, pods, 100 * mr.rho,
                mr.t_q, hour, hour / (rate * ed));
    }
    free(s);
    if (!rc)
        fprintf(f,
                "\nService times: audio.json fit for profile %s, scaled per shape to cpu.json's "
                "throughput. Projections from a model, not measurements.\n",
                p->profile);
    return rc;
}
