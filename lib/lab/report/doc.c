/* report/doc: cited figures and markdown/HTML blocks for the report's writers. */
#include "internal.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

/* ---- text: one writer, markdown or HTML ---- */

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
const char *rpt_cite(doc *d, const src *s, const char *unit, const char *fmt, ...)
{
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    char *b = d->ring[d->next++ % 24];
    double v = s ? rpt_jnumv(rpt_jpath(s->j, path)) : NAN;
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
const char *rpt_derived(doc *d, double v, const char *unit, const char *how)
{
    char *b = d->ring[d->next++ % 24];
    char num[64];
    fmt_num(num, sizeof num, v);
    snprintf(b, 768, "%s%s%s (derived: %s)", num, unit && *unit ? " " : "", unit ? unit : "", how);
    return b;
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
    if (d->html)
        stt_html_escape(d->f, s);
    else
        fputs(s, d->f);
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
    if (n) rpt_close_blocks(d);
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

void rpt_missing(doc *d, int k)
{
    rpt_para(d,
             "Missing: no %s was found under the results directories, so this part is not "
             "measured. Produce it with: %s.",
             rpt_kind_file[k], rpt_kind_cmd[k]);
}
