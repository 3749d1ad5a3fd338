/* testreport: the object, its metadata and the rules; readers in ctest.c and
 * coverage.c, the comparisons in history.c and stability.c, writers in
 * json.c, html.c and junit.c. */
#include "testreport.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "internal.h"

stt_testreport_params stt_testreport_default_params(void)
{
    stt_testreport_params p = {
        .slow_seconds = 5.0,
        .max_test_seconds = 10.0,
        .min_line_coverage = 80.0,
        .slower_factor = 2.0,
        .tiny_seconds = 0.05,
        .unstable_time_ratio = 3.0,
        .slow_label = "slow",
    };
    return p;
}

/* ---- text ---- */

char *tr_clean_text(const char *s, size_t keep_tail)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    size_t skip = 0;
    if (keep_tail && n > keep_tail) {
        skip = n - keep_tail;
        /* Start on a character boundary. */
        while (skip < n && ((unsigned char)s[skip] & 0xC0) == 0x80)
            skip++;
    }
    const unsigned char *in = (const unsigned char *)s + skip;
    size_t len = n - skip;
    const char *mark = skip ? "[... earlier output cut ...]\n" : "";
    char *out = malloc(strlen(mark) + len + 1);
    if (!out) return NULL;
    size_t o = strlen(mark);
    memcpy(out, mark, o);
    for (size_t i = 0; i < len;) {
        unsigned char c = in[i];
        size_t need = c < 0x80             ? 1
                      : (c & 0xE0) == 0xC0 ? 2
                      : (c & 0xF0) == 0xE0 ? 3
                      : (c & 0xF8) == 0xF0 ? 4
                                           : 0;
        if (need == 1) {
            out[o++] = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F ? '?' : (char)c;
            i++;
            continue;
        }
        int ok = need > 1 && i + need <= len;
        for (size_t k = 1; ok && k < need; k++)
            if ((in[i + k] & 0xC0) != 0x80) ok = 0;
        if (ok && need == 2 && c < 0xC2) ok = 0; /* overlong */
        if (ok && need == 4 && c > 0xF4) ok = 0;
        if (ok) {
            memcpy(out + o, in + i, need);
            o += need;
            i += need;
        } else {
            out[o++] = '?';
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

int tr_append(char **dst, const char *text)
{
    if (!text || !*text) return 0;
    size_t a = *dst ? strlen(*dst) : 0, b = strlen(text);
    char *s = realloc(*dst, a + b + 2);
    if (!s) return STT_ENOMEM;
    if (a && s[a - 1] != '\n') s[a++] = '\n';
    memcpy(s + a, text, b + 1);
    *dst = s;
    return 0;
}

const char *tr_status_name(stt_test_status s)
{
    return s == STT_TEST_FAILED ? "failed" : s == STT_TEST_SKIPPED ? "skipped" : "passed";
}

const char *tr_change_name(stt_test_change c)
{
    switch (c) {
    case STT_TEST_NEW_FAILURE:
        return "new_failure";
    case STT_TEST_FIXED:
        return "fixed";
    case STT_TEST_SLOWER:
        return "slower";
    default:
        return NULL;
    }
}

int tr_has_label(const tr_program *p, const char *label)
{
    for (size_t k = 0; k < p->v.nlabels; k++)
        if (!strcmp(p->labels[k], label)) return 1;
    return 0;
}

const char *tr_kind(const stt_testreport *r, const tr_program *p)
{
    for (size_t k = 0; k < p->v.nlabels; k++)
        if (strcmp(p->labels[k], r->p.slow_label)) return p->labels[k];
    return p->v.nlabels ? p->labels[0] : "tests";
}

/* ---- the object ---- */

stt_testreport *stt_testreport_create(const stt_testreport_params *params)
{
    stt_testreport *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->p = params ? *params : stt_testreport_default_params();
    if (!r->p.slow_label) r->p.slow_label = "slow";
    r->config = json_object();
    r->phases = json_object();
    r->checks = json_array();
    char date[40];
    stt_utc_now(date, sizeof date);
    r->date = strdup(date);
    if (!r->config || !r->phases || !r->checks || !r->date) {
        stt_testreport_free(r);
        return NULL;
    }
    r->totals.coverage_ok = 1;
    return r;
}

void stt_testreport_free(stt_testreport *r)
{
    if (!r) return;
    tr_run_free(&r->main);
    for (size_t i = 0; i < r->nruns; i++)
        tr_run_free(&r->runs[i]);
    free(r->runs);
    tr_stability_free(r);
    free(r->cases);
    for (size_t i = 0; i < r->ncov; i++)
        free(r->cov[i].file);
    free(r->cov);
    free(r->low);
    json_decref(r->prev);
    free(r->prev_label);
    free(r->commit);
    free(r->date);
    free(r->cpu_model);
    free(r->kernel);
    json_decref(r->config);
    json_decref(r->phases);
    json_decref(r->checks);
    free(r);
}

/* ---- metadata ---- */

static int replace_str(char **dst, const char *s)
{
    char *c = tr_clean_text(s ? s : "", 0);
    if (!c) return STT_ENOMEM;
    free(*dst);
    *dst = c;
    return 0;
}

int stt_testreport_set_machine(stt_testreport *r, const char *cpu_model, long cores,
                               long long mem_bytes, const char *kernel)
{
    if (replace_str(&r->cpu_model, cpu_model) || replace_str(&r->kernel, kernel)) return STT_ENOMEM;
    r->cores = cores;
    r->mem_bytes = mem_bytes;
    return 0;
}

int stt_testreport_set_commit(stt_testreport *r, const char *commit)
{
    return replace_str(&r->commit, commit);
}

int stt_testreport_set_date(stt_testreport *r, const char *iso8601)
{
    return replace_str(&r->date, iso8601);
}

int stt_testreport_set_config(stt_testreport *r, const char *key, const char *value)
{
    char *k = tr_clean_text(key, 0), *v = tr_clean_text(value ? value : "", 0);
    int rc = k && v && !json_object_set_new(r->config, k, json_string(v)) ? 0 : STT_ENOMEM;
    free(k);
    free(v);
    return rc;
}

int stt_testreport_add_phase(stt_testreport *r, const char *name, double seconds)
{
    char *k = tr_clean_text(name, 0);
    int rc = k && !json_object_set_new(r->phases, k, json_real(seconds)) ? 0 : STT_ENOMEM;
    free(k);
    return rc;
}

int stt_testreport_add_check(stt_testreport *r, const char *name, int passed, const char *detail)
{
    char *n = tr_clean_text(name, 0), *d = tr_clean_text(detail ? detail : "", 0);
    int rc = STT_ENOMEM;
    if (n && d)
        rc = json_array_append_new(
                 r->checks, json_pack("{s:s, s:b, s:s}", "name", n, "passed", passed, "detail", d))
                 ? STT_ENOMEM
                 : 0;
    free(n);
    free(d);
    return rc;
}

/* ---- loading (the readers are in ctest.c and coverage.c) ---- */

int stt_testreport_load_junit(stt_testreport *r, const char *path, char *err, size_t errlen)
{
    if (!r || !path) return stt_seterr(err, errlen, STT_EINVAL, "no JUnit file given");
    if (r->junit_loaded) return stt_seterr(err, errlen, STT_EINVAL, "JUnit already loaded");
    int rc = tr_run_load_junit(&r->main, path, err, errlen);
    if (rc == 0) r->junit_loaded = 1;
    return rc;
}

int stt_testreport_load_cases(stt_testreport *r, const char *dir, char *err, size_t errlen)
{
    if (!r->junit_loaded)
        return stt_seterr(err, errlen, STT_EINVAL, "load the JUnit before the cases");
    return tr_run_load_cases(&r->main, dir, err, errlen);
}

int stt_testreport_add_stability_run(stt_testreport *r, const char *junit, const char *cases_dir,
                                     char *err, size_t errlen)
{
    tr_run *grown = realloc(r->runs, (r->nruns + 1) * sizeof *grown);
    if (!grown) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    r->runs = grown;
    tr_run *run = &r->runs[r->nruns];
    memset(run, 0, sizeof *run);
    int rc = tr_run_load_junit(run, junit, err, errlen);
    if (!rc && cases_dir) rc = tr_run_load_cases(run, cases_dir, err, errlen);
    if (!rc) rc = tr_run_finish_cases(run);
    if (rc) {
        if (rc == STT_ENOMEM) stt_seterr(err, errlen, rc, "%s: out of memory", junit);
        tr_run_free(run);
        return rc;
    }
    r->nruns++;
    return 0;
}

/* ---- rules ---- */

static int by_line_percent(const void *a, const void *b)
{
    const stt_coverage_file *x = a, *y = b;
    if (x->line_percent != y->line_percent) return x->line_percent < y->line_percent ? -1 : 1;
    return strcmp(x->file, y->file);
}

double tr_percent(size_t covered, size_t total)
{
    return total ? 100.0 * (double)covered / (double)total : 100.0;
}

/* The main run's cases in program order, as views. */
static int build_cases(stt_testreport *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->main.nprogs; i++)
        n += r->main.progs[i].ncases;
    free(r->cases);
    r->cases = calloc(n ? n : 1, sizeof *r->cases);
    r->ncases = 0;
    if (!r->cases) return STT_ENOMEM;
    for (size_t i = 0; i < r->main.nprogs; i++) {
        const tr_program *p = &r->main.progs[i];
        for (size_t k = 0; k < p->ncases; k++) {
            const tr_case *c = &p->cases[k];
            tr_case_view *cv = &r->cases[r->ncases++];
            cv->program = i;
            cv->v = (stt_testreport_case){.name = c->name,
                                          .program = p->name,
                                          .label = tr_kind(r, p),
                                          .status = c->status,
                                          .seconds = c->seconds,
                                          .message = c->message,
                                          .slow = c->status != STT_TEST_SKIPPED &&
                                                  c->seconds > r->p.slow_seconds,
                                          .change = STT_TEST_SAME,
                                          .previous_seconds = -1};
        }
    }
    return 0;
}

int stt_testreport_analyze(stt_testreport *r)
{
    stt_testreport_totals *s = &r->totals;
    memset(s, 0, sizeof *s);
    const stt_testreport_params *p = &r->p;
    int rc = tr_run_finish_cases(&r->main);
    if (!rc) rc = build_cases(r);
    if (rc) return rc;
    for (size_t i = 0; i < r->main.nprogs; i++) {
        tr_program *t = &r->main.progs[i];
        t->v.name = t->name;
        t->v.labels = (const char *const *)t->labels;
        t->v.output = t->output;
        s->tests++;
        s->seconds += t->v.seconds;
        if (t->v.status == STT_TEST_PASSED) s->passed++;
        if (t->v.status == STT_TEST_FAILED) s->failed++;
        if (t->v.status == STT_TEST_SKIPPED) s->skipped++;
        int ran = t->v.status != STT_TEST_SKIPPED;
        t->v.slow = ran && t->v.seconds > p->slow_seconds;
        t->v.violation =
            ran && t->v.seconds > p->max_test_seconds && !tr_has_label(t, p->slow_label);
        s->slow += (size_t)t->v.slow;
        s->violations += (size_t)t->v.violation;
        t->v.change = STT_TEST_SAME;
        t->v.previous_seconds = -1;
    }
    for (size_t i = 0; i < r->ncases; i++) {
        const stt_testreport_case *c = &r->cases[i].v;
        s->cases++;
        s->cases_passed += c->status == STT_TEST_PASSED;
        s->cases_failed += c->status == STT_TEST_FAILED;
        s->cases_skipped += c->status == STT_TEST_SKIPPED;
        s->cases_slow += (size_t)c->slow;
    }
    tr_history_compare(r);
    if ((rc = tr_stability_analyze(r))) return rc;

    free(r->low);
    r->low = NULL;
    r->nlow = 0;
    s->has_coverage = r->has_coverage;
    s->coverage_ok = 1;
    if (r->has_coverage) {
        s->line_percent = tr_percent(r->lines_covered, r->lines_total);
        s->branch_percent = tr_percent(r->branches_covered, r->branches_total);
        if (p->min_line_coverage >= 0) {
            s->coverage_ok = s->line_percent >= p->min_line_coverage;
            r->low = calloc(r->ncov + 1, sizeof *r->low);
            if (!r->low) return STT_ENOMEM;
            for (size_t i = 0; i < r->ncov; i++)
                if (r->cov[i].v.line_percent < p->min_line_coverage)
                    r->low[r->nlow++] = r->cov[i].v;
            qsort(r->low, r->nlow, sizeof *r->low, by_line_percent);
        }
    }
    size_t i;
    json_t *c;
    json_array_foreach(r->checks, i, c)
    {
        if (!json_is_true(json_object_get(c, "passed"))) s->checks_failed++;
    }
    s->ok = !s->failed && !s->violations && s->coverage_ok && !s->checks_failed && !s->flaky;
    return 0;
}

stt_testreport_totals stt_testreport_get_totals(const stt_testreport *r)
{
    return r->totals;
}

size_t stt_testreport_count(const stt_testreport *r)
{
    return r->main.nprogs;
}

const stt_testcase *stt_testreport_test(const stt_testreport *r, size_t i)
{
    return i < r->main.nprogs ? &r->main.progs[i].v : NULL;
}

size_t stt_testreport_case_count(const stt_testreport *r)
{
    return r->ncases;
}

const stt_testreport_case *stt_testreport_case_at(const stt_testreport *r, size_t i)
{
    return i < r->ncases ? &r->cases[i].v : NULL;
}

size_t stt_testreport_stability_count(const stt_testreport *r)
{
    return r->nstable;
}

const stt_testreport_stable_case *stt_testreport_stability_case(const stt_testreport *r, size_t i)
{
    return i < r->nstable ? &r->stable[i].v : NULL;
}

const stt_coverage_file *stt_testreport_low_coverage(const stt_testreport *r, size_t *n)
{
    *n = r->nlow;
    return r->low;
}

char *stt_testreport_summary_line(const stt_testreport *r, char *buf, size_t len)
{
    const stt_testreport_totals *s = &r->totals;
    if (s->skipped)
        snprintf(buf, len, "%zu passed, %zu failed, %zu skipped", s->passed, s->failed, s->skipped);
    else
        snprintf(buf, len, "%zu passed, %zu failed", s->passed, s->failed);
    return buf;
}
