/* testreport/html: test_report.html, one self-contained page (inline CSS, no
 * scripts, no network). Every number that test_results.json also holds sits
 * in an element with an id, so that a test can compare the two. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "html.h"
#include "internal.h"
#include "results.h"

static void human_bytes(char *buf, size_t len, long long b)
{
    if (b >= (1LL << 30))
        snprintf(buf, len, "%.1f GiB", (double)b / (double)(1LL << 30));
    else
        snprintf(buf, len, "%.0f MiB", (double)b / (double)(1LL << 20));
}

static const char html_style[] =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}\n"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
    "th,td{border:1px solid #ccc;padding:0.2em 0.6em;text-align:left;vertical-align:top}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".passed{color:#176f2c}.failed{color:#b00020;font-weight:bold}.skipped{color:#8a6d00}\n"
    "tr.failed{background:#fde8ea}tr.skipped{background:#fff8e0}tr.violation{background:#ffe0c0}"
    "\n.verdict{font-size:1.5em;font-weight:bold}\n"
    ".ok{color:#176f2c}.bad{color:#b00020}\n"
    "pre{background:#f6f6f6;padding:0.5em;overflow:auto;max-height:30em;white-space:pre-wrap}\n"
    "td pre{max-height:12em;margin:0}\n"
    "meter{width:8em}\n";

static void change_note(FILE *f, stt_test_change change, double previous_seconds)
{
    switch (change) {
    case STT_TEST_NEW_FAILURE:
        fputs("new failure", f);
        break;
    case STT_TEST_FIXED:
        fputs("fixed", f);
        break;
    case STT_TEST_SLOWER:
        fprintf(f, "slower (%.3f s before)", previous_seconds);
        break;
    default:
        break;
    }
}

/* ---- programs ---- */

static void program_row(FILE *f, const stt_testreport *r, const tr_program *p, size_t i)
{
    const stt_testcase *t = &p->v;
    fprintf(f, "<tr class=\"%s%s\"><td>", tr_status_name(t->status),
            t->violation ? " violation" : "");
    if (t->output) fprintf(f, "<a href=\"#out-%zu\">", i);
    stt_html_escape(f, t->name);
    if (t->output) fputs("</a>", f);
    fputs("</td><td>", f);
    for (size_t k = 0; k < t->nlabels; k++) {
        if (k) fputs(", ", f);
        stt_html_escape(f, t->labels[k]);
    }
    size_t failed = 0;
    for (size_t k = 0; k < p->ncases; k++)
        failed += p->cases[k].status == STT_TEST_FAILED;
    fprintf(f,
            "</td><td class=\"%s\">%s</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
            "<td class=\"num\">%.3f</td><td>",
            tr_status_name(t->status), tr_status_name(t->status), p->ncases, failed, t->seconds);
    if (t->violation) fputs("over the time limit; ", f);
    if (t->slow) fputs("slow; ", f);
    change_note(f, t->change, t->previous_seconds);
    (void)r;
    fputs("</td></tr>\n", f);
}

static void programs_table(FILE *f, const stt_testreport *r, const char *id,
                           int (*pred)(const stt_testcase *))
{
    fprintf(f,
            "<table id=\"%s\">\n<tr><th>program</th><th>labels</th><th>status</th>"
            "<th class=\"num\">cases</th><th class=\"num\">failed</th>"
            "<th class=\"num\">seconds</th><th>notes</th></tr>\n",
            id);
    for (size_t i = 0; i < r->main.nprogs; i++)
        if (!pred || pred(&r->main.progs[i].v)) program_row(f, r, &r->main.progs[i], i);
    fputs("</table>\n", f);
}

static int is_violation(const stt_testcase *t)
{
    return t->violation;
}
static int is_slow(const stt_testcase *t)
{
    return t->slow;
}
static int is_changed(const stt_testcase *t)
{
    return t->change != STT_TEST_SAME;
}

/* ---- cases ---- */

static void case_row(FILE *f, const stt_testreport_case *c)
{
    fprintf(f, "<tr class=\"%s\"><td>", tr_status_name(c->status));
    stt_html_escape(f, c->name);
    fputs("</td><td>", f);
    stt_html_escape(f, c->program);
    fputs("</td><td>", f);
    stt_html_escape(f, c->label);
    fprintf(f, "</td><td class=\"%s\">%s</td><td class=\"num\">", tr_status_name(c->status),
            tr_status_name(c->status));
    if (isfinite(c->seconds))
        fprintf(f, "%.3f", c->seconds);
    else
        fputs("?", f);
    fputs("</td><td>", f);
    if (c->slow) fputs("slow; ", f);
    change_note(f, c->change, c->previous_seconds);
    if (c->message) {
        fputs("<pre>", f);
        stt_html_escape(f, c->message);
        fputs("</pre>", f);
    }
    fputs("</td></tr>\n", f);
}

static void cases_table(FILE *f, const stt_testreport *r, const char *id,
                        int (*pred)(const stt_testreport_case *))
{
    fprintf(f,
            "<table id=\"%s\">\n<tr><th>case</th><th>program</th><th>label</th><th>status</th>"
            "<th class=\"num\">seconds</th><th>notes, failed checks</th></tr>\n",
            id);
    for (size_t i = 0; i < r->ncases; i++)
        if (!pred || pred(&r->cases[i].v)) case_row(f, &r->cases[i].v);
    fputs("</table>\n", f);
}

static int case_failed(const stt_testreport_case *c)
{
    return c->status == STT_TEST_FAILED;
}
static int case_slow(const stt_testreport_case *c)
{
    return c->slow;
}
static int case_changed(const stt_testreport_case *c)
{
    return c->change != STT_TEST_SAME;
}

/* ---- coverage ---- */

static void coverage_row(FILE *f, const stt_coverage_file *c)
{
    fputs("<tr><td>", f);
    stt_html_escape(f, c->file);
    fprintf(f,
            "</td><td class=\"num\">%zu/%zu</td><td class=\"num\">%.1f%%</td>"
            "<td><meter min=\"0\" max=\"100\" value=\"%.1f\">%.1f%%</meter></td>"
            "<td class=\"num\">%zu/%zu</td><td class=\"num\">%.1f%%</td></tr>\n",
            c->lines_covered, c->lines_total, c->line_percent, c->line_percent, c->line_percent,
            c->branches_covered, c->branches_total, c->branch_percent);
}

static void coverage(FILE *f, const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    fputs("<h2>Coverage</h2>\n", f);
    if (!r->has_coverage) {
        fputs("<p>No coverage data in this run.</p>\n", f);
        return;
    }
    fprintf(f,
            "<p>Lines: <span id=\"coverage-line\">%.1f</span>%% (%zu of %zu), branches: "
            "<span id=\"coverage-branch\">%.1f</span>%% (%zu of %zu). ",
            s->line_percent, r->lines_covered, r->lines_total, s->branch_percent,
            r->branches_covered, r->branches_total);
    if (r->p.min_line_coverage >= 0)
        fprintf(f, "Threshold %.1f%% for lines: <span class=\"%s\">%s</span>.",
                r->p.min_line_coverage, s->coverage_ok ? "ok" : "bad",
                s->coverage_ok ? "met" : "NOT met");
    fputs(" The <a href=\"coverage/index.html\">line-by-line report</a> is beside this file "
          "when the run made one.</p>\n",
          f);
    const char *head = "<tr><th>file</th><th class=\"num\">lines</th><th class=\"num\">line "
                       "%</th><th></th><th class=\"num\">branches</th><th class=\"num\">branch "
                       "%</th></tr>\n";
    if (r->nlow) {
        fputs("<h3>Files below the threshold, lowest first</h3>\n<table id=\"coverage-low\">\n", f);
        fputs(head, f);
        for (size_t i = 0; i < r->nlow; i++)
            coverage_row(f, &r->low[i]);
        fputs("</table>\n", f);
    }
    fputs("<h3>Every file</h3>\n<table id=\"coverage-files\">\n", f);
    fputs(head, f);
    for (size_t i = 0; i < r->ncov; i++)
        coverage_row(f, &r->cov[i].v);
    fputs("</table>\n", f);
}

/* ---- stability ---- */

static void stability(FILE *f, const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    fputs("<h2>Stability</h2>\n", f);
    if (!r->nruns) {
        fputs("<p>Not measured in this run (<code>scripts/run_all_tests.sh --stability N</code> "
              "runs the fast subset N more times).</p>\n",
              f);
        return;
    }
    fprintf(f,
            "<p>The fast subset ran <span id=\"stability-runs\">%zu</span> more times: "
            "<span id=\"stability-cases\">%zu</span> cases, <span class=\"%s\" "
            "id=\"stability-flaky\">%zu</span> flaky (an outcome that changed between runs), "
            "<span id=\"stability-time-varies\">%zu</span> whose time varied more than "
            "%.0fx between their fastest and slowest run.</p>\n",
            s->stability_runs, r->nstable, s->flaky ? "bad" : "ok", s->flaky, s->time_varies,
            r->p.unstable_time_ratio);
    if (!s->flaky && !s->time_varies) return;
    fputs("<table id=\"stability\">\n<tr><th>case</th><th>program</th><th>outcomes</th>"
          "<th>seconds per run</th><th class=\"num\">slowest / fastest</th></tr>\n",
          f);
    for (size_t i = 0; i < r->nstable; i++) {
        const stt_testreport_stable_case *v = &r->stable[i].v;
        if (!v->flaky && !v->time_varies) continue;
        fprintf(f, "<tr class=\"%s\"><td>", v->flaky ? "failed" : "passed");
        stt_html_escape(f, v->name);
        fputs("</td><td>", f);
        stt_html_escape(f, v->program);
        fputs("</td><td>", f);
        for (size_t k = 0; k < v->runs; k++)
            fprintf(f, "%s%s", k ? ", " : "", tr_status_name(v->status[k]));
        fputs("</td><td>", f);
        for (size_t k = 0; k < v->runs; k++)
            if (isfinite(v->seconds[k]))
                fprintf(f, "%s%.3f", k ? ", " : "", v->seconds[k]);
            else
                fprintf(f, "%s?", k ? ", " : "");
        fprintf(f, "</td><td class=\"num\">%.1f</td></tr>\n", v->time_ratio);
    }
    fputs("</table>\n", f);
}

/* ---- the page ---- */

static void totals(FILE *f, const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    fputs("<h2>Totals</h2>\n<table id=\"totals\">\n<tr><th></th>", f);
    static const char *const heads[] = {"count",   "passed", "failed",    "skipped",
                                        "seconds", "slow",   "violations"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        fprintf(f, "<th class=\"num\">%s</th>", heads[i]);
    fprintf(f,
            "</tr>\n<tr><th>programs</th><td class=\"num\" id=\"total-tests\">%zu</td>"
            "<td class=\"num passed\" id=\"total-passed\">%zu</td>"
            "<td class=\"num%s\" id=\"total-failed\">%zu</td>"
            "<td class=\"num\" id=\"total-skipped\">%zu</td>"
            "<td class=\"num\" id=\"total-time\">%.3f</td>"
            "<td class=\"num\" id=\"total-slow\">%zu</td>"
            "<td class=\"num%s\" id=\"total-violations\">%zu</td></tr>\n",
            s->tests, s->passed, s->failed ? " failed" : "", s->failed, s->skipped, s->seconds,
            s->slow, s->violations ? " failed" : "", s->violations);
    fprintf(f,
            "<tr><th>cases</th><td class=\"num\" id=\"cases-total\">%zu</td>"
            "<td class=\"num passed\" id=\"cases-passed\">%zu</td>"
            "<td class=\"num%s\" id=\"cases-failed\">%zu</td>"
            "<td class=\"num\" id=\"cases-skipped\">%zu</td><td></td>"
            "<td class=\"num\" id=\"cases-slow\">%zu</td><td></td></tr>\n</table>\n",
            s->cases, s->cases_passed, s->cases_failed ? " failed" : "", s->cases_failed,
            s->cases_skipped, s->cases_slow);
}

static void history(FILE *f, const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    fputs("<h2>Changes since the previous run</h2>\n", f);
    if (!r->prev) {
        fputs("<p>No previous run to compare with.</p>\n", f);
        return;
    }
    stt_results_header h;
    stt_results_header_read(r->prev, &h, NULL, 0);
    fputs("<p>Compared with commit <code>", f);
    stt_html_escape(f, h.commit);
    fputs("</code> of ", f);
    stt_html_escape(f, h.created[0] ? h.created : "?");
    fputs(" (<code>", f);
    stt_html_escape(f, r->prev_label);
    fprintf(f,
            "</code>). Programs: <span id=\"history-new-failures\">%zu</span> new failures, "
            "<span id=\"history-fixed\">%zu</span> fixed, "
            "<span id=\"history-slower\">%zu</span> more than %.0fx slower. Cases: "
            "<span id=\"history-cases-new-failures\">%zu</span> new failures, "
            "<span id=\"history-cases-fixed\">%zu</span> fixed, "
            "<span id=\"history-cases-slower\">%zu</span> slower.</p>\n",
            s->new_failures, s->fixed, s->slower, r->p.slower_factor, s->cases_new_failures,
            s->cases_fixed, s->cases_slower);
    if (s->new_failures || s->fixed || s->slower) programs_table(f, r, "changes", is_changed);
    if (s->cases_new_failures || s->cases_fixed || s->cases_slower)
        cases_table(f, r, "case-changes", case_changed);
}

static void checks(FILE *f, const stt_testreport *r)
{
    if (!json_array_size(r->checks)) return;
    fputs("<h2>Extra checks</h2>\n<table id=\"checks\">\n<tr><th>check</th><th>result</th>"
          "<th>detail</th></tr>\n",
          f);
    size_t i;
    json_t *c;
    json_array_foreach(r->checks, i, c)
    {
        int pass = json_is_true(json_object_get(c, "passed"));
        fputs("<tr><td>", f);
        stt_html_escape(f, json_string_value(json_object_get(c, "name")));
        fprintf(f, "</td><td class=\"%s\">%s</td><td>", pass ? "passed" : "failed",
                pass ? "passed" : "failed");
        stt_html_escape(f, json_string_value(json_object_get(c, "detail")));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void machine(FILE *f, const stt_testreport *r, const stt_results_header *h)
{
    char mem[32];
    human_bytes(mem, sizeof mem, r->cpu_model ? r->mem_bytes : h->machine.mem_total);
    fputs("<h2>Machine and configuration</h2>\n<table id=\"machine\">\n<tr><th>CPU</th><td>", f);
    stt_html_escape(f, r->cpu_model ? r->cpu_model : h->machine.cpu_model);
    fprintf(f,
            "</td></tr>\n<tr><th>cores</th><td>%ld</td></tr>\n<tr><th>memory</th><td>%s</td>"
            "</tr>\n<tr><th>kernel</th><td>",
            r->cpu_model ? r->cores : (long)h->machine.logical_cores, mem);
    stt_html_escape(f, r->cpu_model ? (r->kernel ? r->kernel : "") : h->machine.kernel);
    fputs("</td></tr>\n", f);
    const char *k;
    json_t *v;
    json_object_foreach(r->config, k, v)
    {
        fputs("<tr><th>", f);
        stt_html_escape(f, k);
        fputs("</th><td>", f);
        stt_html_escape(f, json_string_value(v));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void body(FILE *f, const stt_testreport *r, const stt_results_header *h)
{
    const stt_testreport_totals *s = &r->totals;
    char line[128];
    stt_testreport_summary_line(r, line, sizeof line);

    fputs("<h1>sttlab test report</h1>\n", f);
    fprintf(f, "<p class=\"verdict %s\" id=\"verdict\">%s: ", s->ok ? "ok" : "bad",
            s->ok ? "PASS" : "FAIL");
    stt_html_escape(f, line);
    fprintf(f, " (%zu cases, %zu failed)</p>\n<p>Commit <code id=\"commit\">", s->cases,
            s->cases_failed);
    stt_html_escape(f, h->commit);
    fputs("</code>, run at <time id=\"date\" datetime=\"", f);
    stt_html_escape(f, r->date);
    fputs("\">", f);
    stt_html_escape(f, r->date);
    fputs("</time>.</p>\n", f);

    totals(f, r);
    if (s->cases_failed) {
        fputs("<h2>Failed cases</h2>\n", f);
        cases_table(f, r, "failed-cases", case_failed);
    }

    fputs("<h2>Where the time went</h2>\n", f);
    if (json_object_size(r->phases)) {
        fputs("<table id=\"timings\">\n<tr><th>phase</th><th class=\"num\">seconds</th></tr>\n", f);
        const char *k;
        json_t *v;
        json_object_foreach(r->phases, k, v)
        {
            fputs("<tr><td>", f);
            stt_html_escape(f, k);
            fprintf(f, "</td><td class=\"num\">%.1f</td></tr>\n", json_number_value(v));
        }
        fputs("</table>\n", f);
    } else {
        fputs("<p>No phase timings were recorded.</p>\n", f);
    }

    fprintf(f,
            "<h2>Rule violations</h2>\n<p>No program may take over %.1f s unless labelled "
            "<code>",
            r->p.max_test_seconds);
    stt_html_escape(f, r->p.slow_label);
    fputs("</code>.</p>\n", f);
    if (s->violations)
        programs_table(f, r, "violations", is_violation);
    else
        fputs("<p class=\"ok\">None.</p>\n", f);

    fprintf(f, "<h2>Slow programs and cases (over %.1f s)</h2>\n", r->p.slow_seconds);
    if (s->slow)
        programs_table(f, r, "slow", is_slow);
    else
        fputs("<p>No slow program.</p>\n", f);
    if (s->cases_slow)
        cases_table(f, r, "slow-cases", case_slow);
    else
        fputs("<p>No slow case.</p>\n", f);

    history(f, r);
    stability(f, r);
    checks(f, r);
    coverage(f, r);

    fputs("<h2>All programs</h2>\n", f);
    if (r->main.nprogs)
        programs_table(f, r, "tests", NULL);
    else
        fputs("<p>No tests ran.</p>\n", f);
    fputs("<h2>All cases</h2>\n", f);
    if (r->ncases)
        cases_table(f, r, "cases", NULL);
    else
        fputs("<p>No cases.</p>\n", f);

    if (s->failed) {
        fputs("<h2>Output of failed programs</h2>\n", f);
        for (size_t i = 0; i < r->main.nprogs; i++) {
            const stt_testcase *t = &r->main.progs[i].v;
            if (!t->output) continue;
            fprintf(f, "<h3 id=\"out-%zu\">", i);
            stt_html_escape(f, t->name);
            fputs("</h3>\n<pre>", f);
            stt_html_escape(f, t->output[0] ? t->output : "(no output captured)");
            fputs("</pre>\n", f);
        }
    }
    machine(f, r, h);
}

int stt_testreport_write_html(const stt_testreport *r, const char *path, char *err, size_t errlen)
{
    json_t *doc = tr_header_json(r);
    stt_results_header h;
    if (!doc || stt_results_header_read(doc, &h, err, errlen)) {
        json_decref(doc);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        json_decref(doc);
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    }
    char line[128];
    stt_testreport_summary_line(r, line, sizeof line);
    char title[192];
    snprintf(title, sizeof title, "sttlab tests: %s, %s", r->totals.ok ? "PASS" : "FAIL", line);
    stt_html_begin(f, title, html_style);
    body(f, r, &h);
    stt_html_end(f);
    json_decref(doc);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}
