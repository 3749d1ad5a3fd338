/* report/doc: cited figures, the sources table they point to, and markdown/HTML
 * blocks for the report's writers. */
#include "internal.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "html.h"

/* ---- cited figures ---- */

/* A reference travels in text as REF_OPEN ID REF_CLOSE (ID: the source's
 * index + 1) until a block writer prints it. It is numbered then, in the
 * order the reader meets it (the order of a printf's arguments is not the
 * order of its text), as " [N]" in markdown and a link in HTML. */
#define REF_OPEN '\x01'
#define REF_CLOSE '\x02'

static void fmt_num(char *b, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(b, n, "n/a");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(b, n, "%.0f", v);
    else
        snprintf(b, n, "%.4g", v);
}

/* The reference number of (s, type, field), registered on first use; 0 when
 * the table is full (the figure is then printed without one). */
static int source_ref(doc *d, const src *s, int type, const char *field, int present)
{
    for (int i = 0; i < d->nsources; i++) {
        rpt_source *e = &d->sources[i];
        if (e->s == s && e->type == type && !strncmp(e->field, field, sizeof e->field - 1))
            return i + 1;
    }
    if (d->nsources == RPT_MAX_SOURCES) return 0;
    rpt_source *e = &d->sources[d->nsources++];
    e->s = s;
    e->type = type;
    e->present = present;
    snprintf(e->field, sizeof e->field, "%.319s", field);
    return d->nsources;
}

/* "TEXT [N]" into the next ring slot. */
static const char *with_ref(doc *d, const char *text, int ref)
{
    char *b = d->ring[d->next++ % 24];
    if (!ref)
        snprintf(b, 768, "%.700s", text);
    else
        snprintf(b, 768, "%.700s%c%d%c", text, REF_OPEN, ref, REF_CLOSE);
    return b;
}

static void value_text(char *b, size_t n, double v, const char *unit)
{
    if (unit && !strcmp(unit, "MiB")) v /= 1048576.0;
    if (unit && !strcmp(unit, "GiB")) v /= 1073741824.0;
    char num[64];
    fmt_num(num, sizeof num, v);
    snprintf(b, n, "%s%s%s", num, unit && *unit ? " " : "", unit ? unit : "");
}

const char *rpt_cite(doc *d, const src *s, const char *unit, const char *fmt, ...)
{
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    if (!s) return with_ref(d, "not measured", 0);
    double v = rpt_jnumv(rpt_jpath(s->j, path));
    int ref = source_ref(d, s, RPT_SRC_FIELD, path, isfinite(v));
    if (!isfinite(v)) return with_ref(d, "not measured", ref);
    char text[128];
    value_text(text, sizeof text, v, unit);
    return with_ref(d, text, ref);
}

const char *rpt_cite_ci(doc *d, const src *s, const char *unit, const char *base, const char *key,
                        const char *ci_key, const char *n_key)
{
    char path[300];
    snprintf(path, sizeof path, "%s.%s", base, key);
    if (!s) return with_ref(d, "not measured", 0);
    double v = rpt_jnumv(rpt_jpath(s->j, path));
    int ref = source_ref(d, s, RPT_SRC_FIELD, path, isfinite(v));
    if (!isfinite(v)) return with_ref(d, "not measured", ref);
    char text[320], iv[160] = "", nn[48] = "";
    value_text(text, sizeof text, v, unit);
    snprintf(path, sizeof path, "%s.%s", base, ci_key);
    json_t *ci = rpt_jpath(s->j, path);
    double lo = rpt_jnumv(json_array_get(ci, 0)), hi = rpt_jnumv(json_array_get(ci, 1));
    double scale = unit && !strcmp(unit, "MiB")   ? 1048576.0
                   : unit && !strcmp(unit, "GiB") ? 1073741824.0
                                                  : 1;
    if (isfinite(lo) && isfinite(hi)) {
        char a[64], b[64];
        fmt_num(a, sizeof a, lo / scale);
        fmt_num(b, sizeof b, hi / scale);
        snprintf(iv, sizeof iv, " [%s, %s]", a, b);
    } else {
        snprintf(iv, sizeof iv, " (no interval)");
    }
    if (n_key) {
        snprintf(path, sizeof path, "%s.%s", base, n_key);
        double n = rpt_jnumv(rpt_jpath(s->j, path));
        if (isfinite(n))
            snprintf(nn, sizeof nn, ", n=%.0f", n);
        else
            snprintf(nn, sizeof nn, ", n not recorded");
    }
    size_t l = strlen(text);
    snprintf(text + l, sizeof text - l, "%s%s", iv, nn);
    return with_ref(d, text, ref);
}

const char *rpt_derived(doc *d, double v, const char *unit, const char *how)
{
    char text[128];
    value_text(text, sizeof text, v, unit);
    return with_ref(d, text, source_ref(d, NULL, RPT_SRC_DERIVED, how ? how : "", 1));
}

int rpt_metric_get(const src *s, const char *name, rpt_fig *out)
{
    memset(out, 0, sizeof *out);
    out->median = out->lo = out->hi = out->coverage = NAN;
    out->unit = "";
    json_t *ms = s ? json_object_get(s->j, "metrics") : NULL;
    for (size_t i = 0; name && i < json_array_size(ms); i++) {
        json_t *m = json_array_get(ms, i);
        const char *nm = json_string_value(json_object_get(m, "name"));
        if (!nm || strcmp(nm, name)) continue;
        json_t *ci = json_object_get(m, "ci");
        out->found = 1;
        out->n = (size_t)json_integer_value(json_object_get(m, "n"));
        out->median = rpt_jnumv(json_object_get(m, "median"));
        out->lo = rpt_jnumv(json_array_get(ci, 0));
        out->hi = rpt_jnumv(json_array_get(ci, 1));
        out->coverage = rpt_jnumv(json_object_get(m, "coverage"));
        out->unit = json_string_value(json_object_get(m, "unit")) ?: "";
        const char *better = json_string_value(json_object_get(m, "better"));
        out->higher_is_better = better && !strcmp(better, "higher");
        out->deterministic = json_is_true(json_object_get(m, "deterministic"));
        break;
    }
    return out->found;
}

const char *rpt_metric(doc *d, const src *s, const char *fmt, ...)
{
    char name[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (!s) return with_ref(d, "not measured", 0);
    rpt_fig f;
    rpt_metric_get(s, name, &f);
    int ref = source_ref(d, s, RPT_SRC_METRIC, name, f.found && isfinite(f.median));
    if (!f.found || !isfinite(f.median)) return with_ref(d, "not measured", ref);
    const char *unit = f.unit;
    double scale = 1;
    if (!strcmp(unit, "bytes") || !strcmp(unit, "B")) {
        unit = "MiB";
        scale = 1048576.0;
    }
    char med[64], lo[64], hi[64], text[320];
    fmt_num(med, sizeof med, f.median / scale);
    fmt_num(lo, sizeof lo, f.lo / scale);
    fmt_num(hi, sizeof hi, f.hi / scale);
    if (f.deterministic || f.n <= 1)
        snprintf(text, sizeof text, "%s%s%s%s", med, *unit ? " " : "", unit,
                 f.deterministic ? " (exact count)" : ", n=1");
    else
        snprintf(text, sizeof text, "%s%s%s [%s, %s], n=%zu%s", med, *unit ? " " : "", unit, lo, hi,
                 f.n, "");
    if (!f.deterministic && f.n > 1 && f.coverage < 0.945) {
        size_t l = strlen(text);
        snprintf(text + l, sizeof text - l, " (%.0f%% interval)", 100 * f.coverage);
    }
    return with_ref(d, text, ref);
}

const char *rpt_verdict_figure(doc *d, const rpt_verdict *v)
{
    json_t *f = v && v->v ? json_object_get(v->v, "figure") : NULL;
    if (!json_is_object(f)) return NULL;
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *metric = json_string_value(json_object_get(f, "metric"));
    char text[480], path[64];
    if (metric) {
        snprintf(text, sizeof text, "%.200s = %s", name ? name : metric,
                 rpt_metric(d, v->s, "%s", metric));
        return with_ref(d, text, 0); /* the metric carries its own reference */
    }
    double val = rpt_jnumv(json_object_get(f, "value"));
    if (!isfinite(val)) return NULL;
    json_t *ci = json_object_get(f, "ci");
    double lo = rpt_jnumv(json_array_get(ci, 0)), hi = rpt_jnumv(json_array_get(ci, 1));
    json_int_t n = json_integer_value(json_object_get(f, "n"));
    const char *unit = json_string_value(json_object_get(f, "unit"));
    char num[64], a[64], b[64];
    value_text(num, sizeof num, val, unit);
    fmt_num(a, sizeof a, lo);
    fmt_num(b, sizeof b, hi);
    int used = snprintf(text, sizeof text, "%s%s%s", name ? name : "", name ? " = " : "", num);
    if (json_is_true(json_object_get(f, "deterministic")))
        snprintf(text + used, sizeof text - (size_t)used, " (exact count)");
    else if (isfinite(lo) && isfinite(hi))
        used += snprintf(text + used, sizeof text - (size_t)used, " [%s, %s]", a, b);
    else
        used += snprintf(text + used, sizeof text - (size_t)used, " (no interval stated)");
    if (n > 0 && !json_is_true(json_object_get(f, "deterministic")) && used < (int)sizeof text)
        snprintf(text + used, sizeof text - (size_t)used, ", n=%lld", (long long)n);
    snprintf(path, sizeof path, "%s.figure", v->path);
    return with_ref(d, text, source_ref(d, v->s, RPT_SRC_FIELD, path, 1));
}

const char *rpt_verdict_measured(doc *d, const rpt_verdict *v)
{
    json_t *why = v && v->v ? json_array_get(json_object_get(v->v, "reasons"), 0) : NULL;
    if (!json_is_string(why)) return NULL;
    char path[64];
    snprintf(path, sizeof path, "%s.reasons[0]", v->path);
    return with_ref(d, json_string_value(why), source_ref(d, v->s, RPT_SRC_FIELD, path, 1));
}

/* The tooltip of a reference: "FILE: FIELD". */
static void ref_title(const rpt_source *e, char *b, size_t n)
{
    if (e->type == RPT_SRC_DERIVED)
        snprintf(b, n, "computed by sttbench report: %s", e->field);
    else
        snprintf(b, n, "%.300s: %s%s%s", e->s->label, e->type == RPT_SRC_METRIC ? "metrics " : "",
                 e->field, e->present ? "" : " (absent)");
}

/* The number the reader sees for source id, given on first printing. */
static int shown_number(doc *d, int id)
{
    rpt_source *e = &d->sources[id - 1];
    if (!e->shown) e->shown = ++d->nshown;
    return e->shown;
}

/* Writes s (escaped for HTML), printing its references. */
static void text_out(doc *d, const char *s)
{
    while (s && *s) {
        const char *open = strchr(s, REF_OPEN);
        size_t plain = open ? (size_t)(open - s) : strlen(s);
        if (d->html) {
            char *chunk = strndup(s, plain);
            stt_html_escape(d->f, chunk);
            free(chunk);
        } else {
            fwrite(s, 1, plain, d->f);
        }
        if (!open) return;
        const char *close = strchr(open, REF_CLOSE);
        int id = atoi(open + 1);
        if (close && id >= 1 && id <= d->nsources) {
            int n = shown_number(d, id);
            if (d->html) {
                char title[512];
                ref_title(&d->sources[id - 1], title, sizeof title);
                fprintf(d->f, "<sup class=\"ref\"><a href=\"#src-%d\" title=\"", n);
                stt_html_escape(d->f, title);
                fprintf(d->f, "\">[%d]</a></sup>", n);
            } else {
                fprintf(d->f, " [%d]", n);
            }
        }
        /* a reference cut short by a caller's truncation is dropped */
        s = close ? close + 1 : open + 1 + strspn(open + 1, "0123456789");
    }
}

void rpt_close_blocks(doc *d)
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
    text_out(d, s);
    free(s);
}

void rpt_h(doc *d, int level, const char *fmt, ...)
{
    rpt_close_blocks(d);
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

void rpt_para(doc *d, const char *fmt, ...)
{
    rpt_close_blocks(d);
    va_list ap;
    va_start(ap, fmt);
    fputs(d->html ? "<p>" : "", d->f);
    vtext(d, fmt, ap);
    fputs(d->html ? "</p>\n" : "\n\n", d->f);
    va_end(ap);
}

void rpt_li(doc *d, const char *fmt, ...)
{
    if (d->in_table) rpt_close_blocks(d);
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

void rpt_answer(doc *d, const char *question, const char *answer, const char *confidence,
                const char *fmt, ...)
{
    rpt_close_blocks(d);
    if (d->html) {
        fputs("<p class=\"answer\"><strong>", d->f);
        stt_html_escape(d->f, question);
        fputs("</strong> ", d->f);
        if (strcasecmp(answer, confidence)) stt_html_escape(d->f, answer);
        fprintf(d->f, " <span class=\"conf %s\">", confidence);
        stt_html_escape(d->f, confidence);
        fputs("</span> ", d->f);
    } else if (!strcasecmp(answer, confidence)) {
        fprintf(d->f, "**%s** *%s*. ", question, confidence);
    } else {
        fprintf(d->f, "**%s** %s (*%s*). ", question, answer, confidence);
    }
    va_list ap;
    va_start(ap, fmt);
    vtext(d, fmt, ap);
    va_end(ap);
    fputs(d->html ? "</p>\n" : "\n\n", d->f);
}

/* Table: header cells separated by '|'; then rows the same way. Cells are text. */
void rpt_trow(doc *d, int header, const char *fmt, ...)
{
    if (d->in_list) rpt_close_blocks(d);
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (rc < 0) return;
    if (header) {
        rpt_close_blocks(d); /* a header row starts a table of its own */
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
            text_out(d, c);
            fputs(header ? "</th>" : "</td>", d->f);
        }
        fputs("</tr>\n", d->f);
    } else {
        fputs("| ", d->f);
        text_out(d, s);
        fputs(" |\n", d->f);
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

/* Marks path as shown; 0 when it already was. */
static int first_showing(doc *d, const char *path)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the path */
    for (const char *c = path; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    for (int i = 0; i < d->ncharts; i++)
        if (d->charts[i] == h) return 0;
    if (d->ncharts < RPT_MAX_CHARTS) d->charts[d->ncharts++] = h;
    return 1;
}

static void show_chart(doc *d, const char *path, const char *name, const char *caption)
{
    rpt_close_blocks(d);
    if (d->html) {
        fputs("<figure><img alt=\"", d->f);
        stt_html_escape(d->f, caption ? caption : name);
        fputs("\" src=\"data:image/png;base64,", d->f);
        base64_file(d->f, path);
        fputs("\"><figcaption>", d->f);
        stt_html_escape(d->f, caption ? caption : name);
        fputs("</figcaption></figure>\n", d->f);
    } else {
        char rel[PATH_MAX * 2];
        const char *link = relpath(rel, sizeof rel, d->p->asset_dir, path) ? rel : path;
        fprintf(d->f, "![%s](%s)\n\n", caption ? caption : name, link);
    }
}

void rpt_chart_path(doc *d, const char *path, const char *caption)
{
    if (!path || access(path, R_OK) || !first_showing(d, path)) return;
    const char *name = strrchr(path, '/');
    show_chart(d, path, name ? name + 1 : path, caption);
}

void rpt_chart(doc *d, const src *s, const char *name, const char *caption)
{
    if (!s || !name || strchr(name, '/')) return;
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    if (access(path, R_OK) || !first_showing(d, path)) return;
    show_chart(d, path, name, caption);
}

/* Embeds (HTML) or links (markdown) every PNG beside a results file not yet shown. */
void rpt_charts(doc *d, const src *s)
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
    for (int i = 0; i < n; i++) {
        if (!names[i]) continue;
        rpt_chart(d, s, names[i], NULL);
        free(names[i]);
    }
}

/* ---- the sources table ---- */

static int cmp_src_ptr(const void *a, const void *b)
{
    const src *x = *(const src *const *)a, *y = *(const src *const *)b;
    return strcmp(x->label, y->label);
}

void rpt_sources(doc *d)
{
    rpt_close_blocks(d);
    if (!d->nshown) return;
    rpt_h(d, 2, "Sources");
    rpt_para(d, "Each [N] in the text is a reference to a row here: the results file and the JSON "
                "field (or the comparable figure of its \"metrics\" block) that the number was "
                "read from. \"computed\" rows are calculations of the report itself.");
    if (d->html)
        fputs("<table class=\"sources\">\n<tr><th>ref</th><th>file</th><th>field</th></tr>\n",
              d->f);
    else
        fputs("| ref | file | field |\n|---|---|---|\n", d->f);
    const rpt_source **order = calloc((size_t)d->nshown, sizeof *order);
    if (!order) return;
    for (int i = 0; i < d->nsources; i++)
        if (d->sources[i].shown) order[d->sources[i].shown - 1] = &d->sources[i];
    const src *files[RPT_MAX_SOURCES];
    int nfiles = 0;
    for (int i = 0; i < d->nshown; i++) {
        const rpt_source *e = order[i];
        char field[360];
        const char *file = e->s ? e->s->label : "computed";
        snprintf(field, sizeof field, "%s%s%s", e->type == RPT_SRC_METRIC ? "metrics: " : "",
                 e->field, e->present ? "" : " (absent)");
        if (d->html) {
            fprintf(d->f, "<tr id=\"src-%d\"><td>%d</td><td>", i + 1, i + 1);
            stt_html_escape(d->f, file);
            fputs("</td><td>", d->f);
            stt_html_escape(d->f, field);
            fputs("</td></tr>\n", d->f);
        } else {
            fprintf(d->f, "| %d | %s | %s |\n", i + 1, file, field);
        }
        int seen = !e->s;
        for (int k = 0; k < nfiles && !seen; k++)
            seen = files[k] == e->s;
        if (!seen) files[nfiles++] = e->s;
    }
    free(order);
    fputs(d->html ? "</table>\n" : "\n", d->f);
    if (!nfiles) return;
    qsort(files, (size_t)nfiles, sizeof *files, cmp_src_ptr);
    rpt_trow(d, 1, "file|made by");
    for (int k = 0; k < nfiles; k++)
        rpt_trow(d, 0, "%s|%s", files[k]->label, rpt_kind_cmd[files[k]->kind]);
    rpt_close_blocks(d);
}

void rpt_missing(doc *d, int k)
{
    rpt_para(d,
             "Missing: no %s was found under the results directories, so this part is not "
             "measured. Produce it with: %s.",
             rpt_kind_file[k], rpt_kind_cmd[k]);
}
