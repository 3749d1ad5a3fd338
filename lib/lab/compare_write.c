/* compare_write: a comparison as regression.json, markdown, HTML and one
 * line of the history (see compare.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "compare.h"
#include "error.h"
#include "html.h"
#include "parse.h"

static json_t *side_json(const stt_results_header *h, const char *path)
{
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:i, s:i}}", "path", path, "commit", h->commit,
                     "created", h->created, "machine", "cpu_model", h->machine.cpu_model,
                     "logical_cores", h->machine.logical_cores, "cpus_usable",
                     h->machine.cpus_usable);
}

static json_t *summary_json(const stt_summary *s)
{
    return json_pack("{s:I, s:o, s:[o, o]}", "n", (json_int_t)s->n, "median",
                     stt_results_num(s->median), "ci", stt_results_num(s->median_ci.lo),
                     stt_results_num(s->median_ci.hi));
}

/* The figure the verdict turns on: the first gated change that is worse,
 * else the first deterministic metric, else the first metric. */
static const stt_compare_metric *deciding(const stt_compare_result *r)
{
    for (size_t i = 0; i < r->nmetrics; i++)
        if (r->metrics[i].gated && r->metrics[i].verdict == STT_COMPARE_WORSE)
            return &r->metrics[i];
    for (size_t i = 0; i < r->nmetrics; i++)
        if (r->metrics[i].deterministic) return &r->metrics[i];
    return r->nmetrics ? &r->metrics[0] : NULL;
}

static const char *confidence(const stt_compare_result *r)
{
    if (!r->nmetrics && !r->nacc) return "undetermined";
    if (r->regressions) return "established";
    /* "no regression" is established only when every gated figure was
     * decided: within the margin, or an exact count */
    for (size_t i = 0; i < r->nmetrics; i++) {
        const stt_compare_metric *m = &r->metrics[i];
        if (m->gated && m->verdict == STT_COMPARE_SAME && strcmp(m->why, "within the margin"))
            return "likely";
    }
    return "established";
}

json_t *stt_compare_to_json(const stt_compare_result *r, const stt_compare_params *p)
{
    json_t *cfg =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:i, s:s, s:b}", "base", r->base_path, "head",
                  r->head_path, "threshold", stt_results_num(p->threshold), "alpha",
                  stt_results_num(p->alpha), "level", stt_results_num(p->level), "resamples",
                  p->resamples, "gate", p->gate == STT_COMPARE_GATE_ALL ? "all" : "deterministic",
                  "allow_different_machines", p->allow_different);
    json_t *doc = stt_results_new(STT_RESULTS_REGRESSION, "compare", cfg);
    if (!doc) return NULL;
    /* the verdict is about HEAD's code, whichever tree ran the comparison */
    json_object_set_new(doc, "commit", json_string(r->head_h.commit));
    json_object_set_new(doc, "base", side_json(&r->base_h, r->base_path));
    json_object_set_new(doc, "head", side_json(&r->head_h, r->head_path));
    json_t *diffs = json_array(), *notes = json_array(), *ch = json_array(), *ac = json_array();
    json_t *regs = json_array(), *imps = json_array(), *ungated = json_array();
    for (int i = 0; i < r->ndiff; i++)
        json_array_append_new(diffs, json_string(r->differences[i]));
    for (int i = 0; i < r->nnotes; i++)
        json_array_append_new(notes, json_string(r->notes[i]));
    for (size_t i = 0; i < r->nmetrics; i++) {
        const stt_compare_metric *m = &r->metrics[i];
        json_array_append_new(
            ch, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:[o, o], s:o, s:s, "
                          "s:s, s:b}",
                          "file", m->file, "name", m->name, "unit", m->unit, "better",
                          m->higher_is_better ? "higher" : "lower", "deterministic",
                          m->deterministic, "test", m->test, "base", summary_json(&m->base), "head",
                          summary_json(&m->head), "ratio", stt_results_num(m->ratio), "ratio_ci",
                          stt_results_num(m->ratio_ci.lo), stt_results_num(m->ratio_ci.hi), "p",
                          stt_results_num(m->p), "verdict", stt_compare_verdict_name(m->verdict),
                          "why", m->why, "gated", m->gated));
        json_t *list = m->verdict == STT_COMPARE_BETTER              ? imps
                       : m->verdict == STT_COMPARE_WORSE && m->gated ? regs
                                                                     : NULL;
        if (list) json_array_append_new(list, json_string(m->name));
        if (!m->gated)
            json_array_append_new(ungated, json_pack("{s:s, s:s}", "name", m->name, "verdict",
                                                     stt_compare_verdict_name(m->verdict)));
    }
    for (size_t i = 0; i < r->nacc; i++) {
        const stt_compare_accuracy *a = &r->acc[i];
        json_array_append_new(
            ac, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:[o, o], s:o, s:i, s:i, "
                          "s:s, s:s, s:b}",
                          "file", a->file, "name", a->name, "utterances", (json_int_t)a->utterances,
                          "unpaired", (json_int_t)a->unpaired, "words", (json_int_t)a->words,
                          "base_wer", stt_results_num(a->base_wer), "head_wer",
                          stt_results_num(a->head_wer), "diff", stt_results_num(a->diff), "diff_ci",
                          stt_results_num(a->diff_ci.lo), stt_results_num(a->diff_ci.hi), "p",
                          stt_results_num(a->p), "worse", a->worse, "better", a->better, "verdict",
                          stt_compare_verdict_name(a->verdict), "why", a->why, "gated", a->gated));
        if (a->verdict == STT_COMPARE_WORSE) json_array_append_new(regs, json_string(a->name));
        if (a->verdict == STT_COMPARE_BETTER) json_array_append_new(imps, json_string(a->name));
    }
    json_object_set_new(doc, "differences", diffs);
    json_object_set_new(doc, "notes", notes);
    json_object_set_new(doc, "changes", ch);
    json_object_set_new(doc, "accuracy_changes", ac);
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "question", "regression", "answer",
                          stt_compare_answer(r), "confidence", confidence(r), "gate",
                          p->gate == STT_COMPARE_GATE_ALL ? "all figures"
                                                          : "deterministic figures and accuracy",
                          "regressions", regs, "improvements", imps, "not_gated", ungated);
    const stt_compare_metric *m = deciding(r);
    if (v && m) {
        char name[224];
        snprintf(name, sizeof name, "%s, head/base", m->name);
        json_object_set_new(
            v, "figure",
            json_pack("{s:s, s:o, s:[o, o], s:I, s:s, s:b}", "name", name, "value",
                      stt_results_num(m->ratio), "ci", stt_results_num(m->ratio_ci.lo),
                      stt_results_num(m->ratio_ci.hi), "n", (json_int_t)m->head.n, "unit", "x",
                      "deterministic", m->deterministic));
    }
    json_object_set_new(doc, "verdict", v);
    return doc;
}

int stt_compare_write_json(const stt_compare_result *r, const stt_compare_params *p, FILE *f)
{
    json_t *doc = stt_compare_to_json(r, p);
    int rc = doc ? json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
    json_decref(doc);
    if (rc == 0) fputc('\n', f);
    return rc || ferror(f) ? STT_EIO : 0;
}

/* ---- text ---- */

static void num(char *b, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(b, n, "n/a");
    else
        snprintf(b, n, "%.6g", v);
}

typedef struct row {
    char cells[9][400];
} row;

static void metric_row(const stt_compare_metric *m, row *o)
{
    char a[64], b[64], lo[64], hi[64];
    snprintf(o->cells[0], 400, "%s: %s", m->file, m->name);
    num(a, sizeof a, m->base.median);
    num(b, sizeof b, m->head.median);
    snprintf(o->cells[1], 400, "%s %s (n=%zu)", a, m->unit, m->base.n);
    snprintf(o->cells[2], 400, "%s %s (n=%zu)", b, m->unit, m->head.n);
    num(lo, sizeof lo, 100 * (m->ratio_ci.lo - 1));
    num(hi, sizeof hi, 100 * (m->ratio_ci.hi - 1));
    if (m->deterministic || !isfinite(m->ratio_ci.lo))
        snprintf(o->cells[3], 400, "%+.2f%%", 100 * (m->ratio - 1));
    else
        snprintf(o->cells[3], 400, "%+.2f%% [%s%%, %s%%]", 100 * (m->ratio - 1), lo, hi);
    if (isfinite(m->p))
        snprintf(o->cells[4], 400, "%s p=%.3g", m->test, m->p);
    else
        snprintf(o->cells[4], 400, "%s", m->test);
    snprintf(o->cells[5], 400, "%s%s%s%s", stt_compare_verdict_name(m->verdict),
             m->why[0] ? " (" : "", m->why, m->why[0] ? ")" : "");
    snprintf(o->cells[6], 400, "%s", m->gated ? "yes" : "no (reported only)");
}

static void accuracy_row(const stt_compare_accuracy *a, row *o)
{
    snprintf(o->cells[0], 400, "%s: %s", a->file, a->name);
    snprintf(o->cells[1], 400, "%.2f%%", 100 * a->base_wer);
    snprintf(o->cells[2], 400, "%.2f%%", 100 * a->head_wer);
    snprintf(o->cells[3], 400, "%+.2f points [%+.2f, %+.2f]", 100 * a->diff, 100 * a->diff_ci.lo,
             100 * a->diff_ci.hi);
    snprintf(o->cells[4], 400, "sign test p=%.3g: %d worse, %d better of %zu utterances", a->p,
             a->worse, a->better, a->utterances);
    snprintf(o->cells[5], 400, "%s%s%s%s", stt_compare_verdict_name(a->verdict),
             a->why[0] ? " (" : "", a->why, a->why[0] ? ")" : "");
    snprintf(o->cells[6], 400, "%s", a->gated ? "yes" : "no");
}

static const char *const metric_head[] = {"figure", "base",    "head",  "change [95% interval]",
                                          "test",   "verdict", "gated", NULL};
static const char *const accuracy_head[] = {
    "accuracy",    "base WER", "head WER", "difference [95% interval]",
    "paired test", "verdict",  "gated",    NULL};

static void intro(const stt_compare_result *r, const stt_compare_params *p, char *b, size_t n)
{
    snprintf(b, n,
             "Head %s (commit %.12s) against base %s (commit %.12s). Verdict: %s. Figures worse: "
             "%d gated; better: %d. Rule: worse or better only when p <= %g and the %g%% "
             "interval of the change lies beyond the +-%g%% margin; otherwise ~ (no detectable "
             "change). Gate: %s.",
             r->head_path, r->head_h.commit, r->base_path, r->base_h.commit, stt_compare_answer(r),
             r->regressions, r->improvements, p->alpha, 100 * p->level, 100 * p->threshold,
             p->gate == STT_COMPARE_GATE_ALL
                 ? "every figure"
                 : "deterministic figures (exact counts) and accuracy only; wall time is "
                   "reported, not gated");
}

static void md_table(FILE *f, const char *const *head, const row *rows, size_t n)
{
    if (!n) return;
    for (int c = 0; head[c]; c++)
        fprintf(f, "| %s ", head[c]);
    fputs("|\n", f);
    for (int c = 0; head[c]; c++)
        fputs("|---", f);
    fputs("|\n", f);
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; head[c]; c++)
            fprintf(f, "| %s ", rows[i].cells[c]);
        fputs("|\n", f);
    }
    fputs("\n", f);
}

static row *all_rows(const stt_compare_result *r, int accuracy, size_t *n)
{
    *n = accuracy ? r->nacc : r->nmetrics;
    row *rows = calloc(*n ? *n : 1, sizeof *rows);
    for (size_t i = 0; rows && i < *n; i++) {
        if (accuracy)
            accuracy_row(&r->acc[i], &rows[i]);
        else
            metric_row(&r->metrics[i], &rows[i]);
    }
    return rows;
}

int stt_compare_write_md(const stt_compare_result *r, const stt_compare_params *p, FILE *f)
{
    char b[2048];
    intro(r, p, b, sizeof b);
    fprintf(f, "# Regression check\n\n%s\n\n", b);
    for (int i = 0; i < r->ndiff; i++)
        fprintf(f, "%s %s\n",
                i ? "-"
                  : "Differences between the two sides (compared because "
                    "they were allowed):\n\n-",
                r->differences[i]);
    if (r->ndiff) fputs("\n", f);
    size_t n;
    row *rows = all_rows(r, 0, &n);
    if (rows) md_table(f, metric_head, rows, n);
    free(rows);
    rows = all_rows(r, 1, &n);
    if (rows) md_table(f, accuracy_head, rows, n);
    free(rows);
    for (int i = 0; i < r->nnotes; i++)
        fprintf(f, "- %s\n", r->notes[i]);
    return ferror(f) ? STT_EIO : 0;
}

static void html_table(FILE *f, const char *const *head, const row *rows, size_t n)
{
    if (!n) return;
    fputs("<table>\n<tr>", f);
    for (int c = 0; head[c]; c++) {
        fputs("<th>", f);
        stt_html_escape(f, head[c]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr>", f);
        for (int c = 0; head[c]; c++) {
            fputs("<td>", f);
            stt_html_escape(f, rows[i].cells[c]);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

int stt_compare_write_html(const stt_compare_result *r, const stt_compare_params *p, FILE *f)
{
    stt_html_begin(f, "Regression check",
                   "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}\n"
                   "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
                   "padding:.2em .5em;text-align:left}th{background:#eee}\n");
    char b[2048];
    intro(r, p, b, sizeof b);
    fputs("<h1>Regression check</h1>\n<p>", f);
    stt_html_escape(f, b);
    fputs("</p>\n", f);
    if (r->ndiff) fputs("<p>Differences between the two sides:</p>\n<ul>\n", f);
    for (int i = 0; i < r->ndiff; i++) {
        fputs("<li>", f);
        stt_html_escape(f, r->differences[i]);
        fputs("</li>\n", f);
    }
    if (r->ndiff) fputs("</ul>\n", f);
    size_t n;
    row *rows = all_rows(r, 0, &n);
    if (rows) html_table(f, metric_head, rows, n);
    free(rows);
    rows = all_rows(r, 1, &n);
    if (rows) html_table(f, accuracy_head, rows, n);
    free(rows);
    if (r->nnotes) fputs("<ul>\n", f);
    for (int i = 0; i < r->nnotes; i++) {
        fputs("<li>", f);
        stt_html_escape(f, r->notes[i]);
        fputs("</li>\n", f);
    }
    if (r->nnotes) fputs("</ul>\n", f);
    stt_html_end(f);
    return ferror(f) ? STT_EIO : 0;
}

int stt_compare_history_append(const stt_compare_result *r, const char *path, char *err,
                               size_t errlen)
{
    char created[40], machine[320];
    stt_utc_now(created, sizeof created);
    snprintf(machine, sizeof machine, "%s, %d cores", r->head_h.machine.cpu_model,
             r->head_h.machine.logical_cores);
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{}, s:{}}", "created", created, "head",
                             r->head_h.commit, "base", r->base_h.commit, "machine", machine,
                             "verdict", stt_compare_answer(r), "metrics", "accuracy");
    if (!line) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    json_t *ms = json_object_get(line, "metrics"), *as = json_object_get(line, "accuracy");
    for (size_t i = 0; i < r->nmetrics; i++) {
        const stt_compare_metric *m = &r->metrics[i];
        json_object_set_new(ms, m->name,
                            json_pack("{s:o, s:o, s:o, s:s, s:s, s:b}", "base",
                                      stt_results_num(m->base.median), "head",
                                      stt_results_num(m->head.median), "ratio",
                                      stt_results_num(m->ratio), "unit", m->unit, "verdict",
                                      stt_compare_verdict_name(m->verdict), "gated", m->gated));
    }
    for (size_t i = 0; i < r->nacc; i++) {
        const stt_compare_accuracy *a = &r->acc[i];
        json_object_set_new(
            as, a->name,
            json_pack("{s:o, s:o, s:o, s:o, s:s}", "base", stt_results_num(a->base_wer), "head",
                      stt_results_num(a->head_wer), "diff", stt_results_num(a->diff), "p",
                      stt_results_num(a->p), "verdict", stt_compare_verdict_name(a->verdict)));
    }
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        if (dir[0] && stt_results_mkdirs(dir)) {
            free(text);
            return stt_seterr(err, errlen, STT_EIO, "cannot create %s", dir);
        }
    }
    FILE *f = fopen(path, "a");
    int rc = 0;
    if (!f || fprintf(f, "%s\n", text) < 0) rc = STT_EIO;
    if (f && fclose(f)) rc = STT_EIO;
    free(text);
    if (rc) return stt_seterr(err, errlen, rc, "%s: cannot append", path);
    return 0;
}

int stt_compare_parse_threshold(const char *s, double *out)
{
    if (!s || !*s) return STT_EINVAL;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    size_t l = strlen(buf);
    int pct = l && buf[l - 1] == '%';
    if (pct) buf[l - 1] = 0;
    double v;
    if (stt_parse_double(buf, 0, pct ? 99.999 : 0.99999, &v)) return STT_EINVAL;
    *out = pct ? v / 100 : v;
    return 0;
}

int stt_compare_write_all(const stt_compare_result *r, const stt_compare_params *p, const char *dir,
                          char *written, size_t wlen, char *err, size_t errlen)
{
    if (stt_results_mkdirs(dir)) return stt_seterr(err, errlen, STT_EIO, "cannot create %s", dir);
    char path[4200];
    json_t *doc = stt_compare_to_json(r, p);
    if (!doc) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/regression.json", dir);
    int rc = stt_results_write(doc, path, err, errlen);
    json_decref(doc);
    if (rc) return rc;
    size_t used = strlen(written);
    if (used < wlen) used += (size_t)snprintf(written + used, wlen - used, "%s\n", path);
    for (int html = 0; html < 2; html++) {
        snprintf(path, sizeof path, "%s/regression.%s", dir, html ? "html" : "md");
        FILE *f = fopen(path, "w");
        if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
        rc = html ? stt_compare_write_html(r, p, f) : stt_compare_write_md(r, p, f);
        if (fclose(f) || rc) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
        if (used < wlen) used += (size_t)snprintf(written + used, wlen - used, "%s\n", path);
    }
    return 0;
}
