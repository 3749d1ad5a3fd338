#include "testreport.h"

#include "error.h"
#include "html.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Failed tests can print megabytes; the end of the output is where the reason is. */
#define OUTPUT_KEEP 65536

struct tcase {
    stt_testcase v;
    char *name;
    char **labels;
    char *output;
};

struct covfile {
    stt_coverage_file v;
    char *file;
};

struct stt_testreport {
    stt_testreport_params p;
    struct tcase *tests;
    size_t ntests;
    int junit_loaded;

    int has_coverage;
    struct covfile *cov;
    size_t ncov;
    size_t lines_total, lines_covered, branches_total, branches_covered;
    stt_coverage_file *low;
    size_t nlow;

    json_t *prev; /* previous test_results.json, or NULL */
    char *prev_label;

    char *commit;
    char *date;
    char *cpu_model;
    char *kernel;
    long cores;
    long long mem_bytes;

    json_t *config; /* object of strings */
    json_t *phases; /* object of numbers, in insertion order */
    json_t *checks; /* array of {name, passed, detail} */

    stt_testreport_totals totals;
};

stt_testreport_params stt_testreport_default_params(void)
{
    stt_testreport_params p = {
        .slow_seconds = 5.0,
        .max_test_seconds = 10.0,
        .min_line_coverage = 80.0,
        .slower_factor = 2.0,
        .tiny_seconds = 0.05,
        .slow_label = "slow",
    };
    return p;
}

/* Copies s keeping valid UTF-8 and replacing other bytes and control characters
 * (except tab and newline) with '?': XML 1.0 cannot carry them at all, jansson
 * refuses invalid UTF-8, and test output is arbitrary bytes. When keep_tail is
 * non-zero only that many trailing bytes are kept. */
static char *clean_text(const char *s, size_t keep_tail)
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

stt_testreport *stt_testreport_create(const stt_testreport_params *params)
{
    stt_testreport *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->p = params ? *params : stt_testreport_default_params();
    if (!r->p.slow_label) r->p.slow_label = "slow";
    r->config = json_object();
    r->phases = json_object();
    r->checks = json_array();
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    r->date = strdup(date);
    r->commit = strdup("unknown");
    if (!r->config || !r->phases || !r->checks || !r->date || !r->commit) {
        stt_testreport_free(r);
        return NULL;
    }
    r->totals.coverage_ok = 1;
    return r;
}

static void free_tests(stt_testreport *r)
{
    for (size_t i = 0; i < r->ntests; i++) {
        struct tcase *t = &r->tests[i];
        free(t->name);
        for (size_t k = 0; k < t->v.nlabels; k++)
            free(t->labels[k]);
        free(t->labels);
        free(t->output);
    }
    free(r->tests);
    r->tests = NULL;
    r->ntests = 0;
}

void stt_testreport_free(stt_testreport *r)
{
    if (!r) return;
    free_tests(r);
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

/* ---- loading ---------------------------------------------------------------------------- */

static int is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static char *xml_attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *s = strdup((const char *)v);
    xmlFree(v);
    return s;
}

static char *xml_text(const xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    if (!v) return strdup("");
    char *s = strdup((const char *)v);
    xmlFree(v);
    return s;
}

/* Appends text (and a newline between pieces) to a malloc'd string. */
static int append(char **dst, const char *text)
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

static int add_testcase(stt_testreport *r, const xmlNode *n)
{
    struct tcase *grown = realloc(r->tests, (r->ntests + 1) * sizeof *grown);
    if (!grown) return STT_ENOMEM;
    r->tests = grown;
    struct tcase *t = &r->tests[r->ntests];
    memset(t, 0, sizeof *t);

    char *name = xml_attr(n, "name");
    t->name = clean_text(name ? name : "(unnamed)", 0);
    free(name);
    char *time_s = xml_attr(n, "time");
    t->v.seconds = time_s ? strtod(time_s, NULL) : 0.0;
    if (!isfinite(t->v.seconds) || t->v.seconds < 0) t->v.seconds = 0.0;
    free(time_s);
    char *status = xml_attr(n, "status");
    t->v.status = STT_TEST_PASSED;
    if (status && (!strcmp(status, "fail") || !strcmp(status, "failed")))
        t->v.status = STT_TEST_FAILED;
    else if (status && (!strcmp(status, "notrun") || !strcmp(status, "disabled") ||
                        !strcmp(status, "skipped")))
        t->v.status = STT_TEST_SKIPPED;
    free(status);

    char *output = NULL;
    int rc = 0;
    for (const xmlNode *c = n->children; c && !rc; c = c->next) {
        if (is_elem(c, "failure") || is_elem(c, "error")) {
            t->v.status = STT_TEST_FAILED;
            char *msg = xml_attr(c, "message");
            char *body = xml_text(c);
            rc = append(&output, msg);
            if (!rc) rc = append(&output, body);
            free(msg);
            free(body);
        } else if (is_elem(c, "skipped")) {
            if (t->v.status != STT_TEST_FAILED) t->v.status = STT_TEST_SKIPPED;
        } else if (is_elem(c, "system-out") || is_elem(c, "system-err")) {
            char *body = xml_text(c);
            rc = append(&output, body);
            free(body);
        }
    }
    if (!rc && t->v.status == STT_TEST_FAILED) {
        t->output = clean_text(output ? output : "", OUTPUT_KEEP);
        if (!t->output) rc = STT_ENOMEM;
    }
    free(output);
    if (!t->name) rc = STT_ENOMEM;
    t->v.previous_seconds = -1;
    r->ntests++; /* counted even on failure so that free releases it */
    return rc;
}

static int walk_junit(stt_testreport *r, const xmlNode *n)
{
    for (; n; n = n->next) {
        if (is_elem(n, "testcase")) {
            int rc = add_testcase(r, n);
            if (rc) return rc;
        } else if (n->type == XML_ELEMENT_NODE) {
            int rc = walk_junit(r, n->children);
            if (rc) return rc;
        }
    }
    return 0;
}

int stt_testreport_load_junit(stt_testreport *r, const char *path, char *err, size_t errlen)
{
    if (!r || !path) return stt_seterr(err, errlen, STT_EINVAL, "no JUnit file given");
    if (r->junit_loaded) return stt_seterr(err, errlen, STT_EINVAL, "JUnit already loaded");
    if (access(path, R_OK) != 0)
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    xmlDoc *doc = xmlReadFile(
        path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    if (!doc) return stt_seterr(err, errlen, STT_EFORMAT, "%s: not well-formed XML", path);
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || (!is_elem(root, "testsuite") && !is_elem(root, "testsuites"))) {
        xmlFreeDoc(doc);
        return stt_seterr(err, errlen, STT_EFORMAT, "%s: not JUnit XML (no <testsuite>)", path);
    }
    int rc = walk_junit(r, root);
    xmlFreeDoc(doc);
    if (rc) return stt_seterr(err, errlen, rc, "%s: out of memory", path);
    r->junit_loaded = 1;
    return 0;
}

static struct tcase *find_test(stt_testreport *r, const char *name)
{
    for (size_t i = 0; i < r->ntests; i++)
        if (!strcmp(r->tests[i].name, name)) return &r->tests[i];
    return NULL;
}

int stt_testreport_load_labels(stt_testreport *r, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return stt_seterr(err, errlen, STT_EFORMAT, "%s: %s", path, je.text);
    json_t *tests = json_object_get(root, "tests");
    if (!json_is_array(tests)) {
        json_decref(root);
        return stt_seterr(err, errlen, STT_EFORMAT, "%s: no \"tests\" array", path);
    }
    size_t i;
    json_t *jt;
    json_array_foreach(tests, i, jt)
    {
        struct tcase *t = find_test(r, json_string_value(json_object_get(jt, "name"))
                                           ? json_string_value(json_object_get(jt, "name"))
                                           : "");
        if (!t) continue;
        size_t k;
        json_t *prop;
        json_array_foreach(json_object_get(jt, "properties"), k, prop)
        {
            const char *pn = json_string_value(json_object_get(prop, "name"));
            json_t *val = json_object_get(prop, "value");
            if (!pn || strcmp(pn, "LABELS") || !json_is_array(val)) continue;
            size_t nl = json_array_size(val);
            char **labels = calloc(nl ? nl : 1, sizeof *labels);
            if (!labels) goto nomem;
            for (size_t m = 0; m < t->v.nlabels; m++)
                free(t->labels[m]);
            free(t->labels);
            t->labels = labels;
            t->v.nlabels = 0;
            for (size_t m = 0; m < nl; m++) {
                const char *l = json_string_value(json_array_get(val, m));
                if (!l) continue;
                if (!(labels[t->v.nlabels] = clean_text(l, 0))) goto nomem;
                t->v.nlabels++;
            }
        }
    }
    json_decref(root);
    return 0;
nomem:
    json_decref(root);
    return stt_seterr(err, errlen, STT_ENOMEM, "%s: out of memory", path);
}

static double percent(size_t covered, size_t total)
{
    return total ? 100.0 * (double)covered / (double)total : 100.0;
}

static size_t json_size(json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (size_t)v : 0;
}

int stt_testreport_load_coverage(stt_testreport *r, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return stt_seterr(err, errlen, STT_EFORMAT, "%s: %s", path, je.text);
    json_t *files = json_object_get(root, "files");
    if (!json_is_array(files)) {
        json_decref(root);
        return stt_seterr(err, errlen, STT_EFORMAT, "%s: no \"files\" array", path);
    }
    for (size_t i = 0; i < r->ncov; i++)
        free(r->cov[i].file);
    free(r->cov);
    r->ncov = 0;
    r->cov = calloc(json_array_size(files) + 1, sizeof *r->cov);
    if (!r->cov) {
        json_decref(root);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    r->lines_total = r->lines_covered = r->branches_total = r->branches_covered = 0;
    size_t i;
    json_t *jf;
    json_array_foreach(files, i, jf)
    {
        const char *name = json_string_value(json_object_get(jf, "file"));
        if (!name) name = json_string_value(json_object_get(jf, "filename"));
        if (!name) continue;
        stt_coverage_file *f = &r->cov[r->ncov].v;
        json_t *lines = json_object_get(jf, "lines");
        if (json_is_array(lines)) { /* gcovr --json: one entry per line */
            size_t k;
            json_t *jl;
            json_array_foreach(lines, k, jl)
            {
                if (json_is_true(json_object_get(jl, "gcovr/noncode")) ||
                    json_is_true(json_object_get(jl, "gcovr/excluded")))
                    continue;
                f->lines_total++;
                if (json_integer_value(json_object_get(jl, "count")) > 0) f->lines_covered++;
                size_t b;
                json_t *jb;
                json_array_foreach(json_object_get(jl, "branches"), b, jb)
                {
                    f->branches_total++;
                    if (json_integer_value(json_object_get(jb, "count")) > 0) f->branches_covered++;
                }
            }
        } else { /* gcovr --json-summary: counts per file */
            f->lines_total = json_size(jf, "line_total");
            f->lines_covered = json_size(jf, "line_covered");
            f->branches_total = json_size(jf, "branch_total");
            f->branches_covered = json_size(jf, "branch_covered");
        }
        f->line_percent = percent(f->lines_covered, f->lines_total);
        f->branch_percent = percent(f->branches_covered, f->branches_total);
        r->cov[r->ncov].file = clean_text(name, 0);
        if (!r->cov[r->ncov].file) {
            json_decref(root);
            return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        }
        f->file = r->cov[r->ncov].file;
        r->lines_total += f->lines_total;
        r->lines_covered += f->lines_covered;
        r->branches_total += f->branches_total;
        r->branches_covered += f->branches_covered;
        r->ncov++;
    }
    json_decref(root);
    r->has_coverage = 1;
    return 0;
}

int stt_testreport_load_previous(stt_testreport *r, const char *path, const char *label, char *err,
                                 size_t errlen)
{
    json_error_t je;
    json_t *prev = json_load_file(path, 0, &je);
    if (!prev) return stt_seterr(err, errlen, STT_EFORMAT, "%s: %s", path, je.text);
    if (!json_is_array(json_object_get(prev, "tests"))) {
        json_decref(prev);
        return stt_seterr(err, errlen, STT_EFORMAT, "%s: no \"tests\" array", path);
    }
    char *l = clean_text(label ? label : path, 0);
    if (!l) {
        json_decref(prev);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    json_decref(r->prev);
    free(r->prev_label);
    r->prev = prev;
    r->prev_label = l;
    return 0;
}

/* ---- metadata --------------------------------------------------------------------------- */

static int replace_str(char **dst, const char *s)
{
    char *c = clean_text(s ? s : "", 0);
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
    char *k = clean_text(key, 0), *v = clean_text(value ? value : "", 0);
    int rc = k && v && !json_object_set_new(r->config, k, json_string(v)) ? 0 : STT_ENOMEM;
    free(k);
    free(v);
    return rc;
}

int stt_testreport_add_phase(stt_testreport *r, const char *name, double seconds)
{
    char *k = clean_text(name, 0);
    int rc = k && !json_object_set_new(r->phases, k, json_real(seconds)) ? 0 : STT_ENOMEM;
    free(k);
    return rc;
}

int stt_testreport_add_check(stt_testreport *r, const char *name, int passed, const char *detail)
{
    char *n = clean_text(name, 0), *d = clean_text(detail ? detail : "", 0);
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

/* ---- rules ------------------------------------------------------------------------------ */

static int has_label(const struct tcase *t, const char *label)
{
    for (size_t k = 0; k < t->v.nlabels; k++)
        if (!strcmp(t->labels[k], label)) return 1;
    return 0;
}

static json_t *previous_test(const stt_testreport *r, const char *name)
{
    size_t i;
    json_t *jt;
    json_array_foreach(json_object_get(r->prev, "tests"), i, jt)
    {
        const char *n = json_string_value(json_object_get(jt, "name"));
        if (n && !strcmp(n, name)) return jt;
    }
    return NULL;
}

static int by_line_percent(const void *a, const void *b)
{
    const stt_coverage_file *x = a, *y = b;
    if (x->line_percent != y->line_percent) return x->line_percent < y->line_percent ? -1 : 1;
    return strcmp(x->file, y->file);
}

void stt_testreport_analyze(stt_testreport *r)
{
    stt_testreport_totals *s = &r->totals;
    memset(s, 0, sizeof *s);
    const stt_testreport_params *p = &r->p;
    for (size_t i = 0; i < r->ntests; i++) {
        struct tcase *t = &r->tests[i];
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
        t->v.violation = ran && t->v.seconds > p->max_test_seconds && !has_label(t, p->slow_label);
        s->slow += (size_t)t->v.slow;
        s->violations += (size_t)t->v.violation;

        t->v.change = STT_TEST_SAME;
        t->v.previous_seconds = -1;
        if (!r->prev) continue;
        json_t *pt = previous_test(r, t->name);
        const char *pst = pt ? json_string_value(json_object_get(pt, "status")) : NULL;
        int prev_failed = pst && !strcmp(pst, "failed");
        int prev_passed = pst && !strcmp(pst, "passed");
        if (pt) t->v.previous_seconds = json_number_value(json_object_get(pt, "time"));
        if (t->v.status == STT_TEST_FAILED && !prev_failed) {
            t->v.change = STT_TEST_NEW_FAILURE;
            s->new_failures++;
        } else if (t->v.status == STT_TEST_PASSED && prev_failed) {
            t->v.change = STT_TEST_FIXED;
            s->fixed++;
        } else if (t->v.status == STT_TEST_PASSED && prev_passed) {
            /* Timer noise on tiny tests says nothing, so both sides are floored at
             * tiny_seconds: 1 ms -> 3 ms is not a regression, 1 ms -> 0.5 s is. */
            double before = fmax(t->v.previous_seconds, p->tiny_seconds);
            if (t->v.seconds >= p->tiny_seconds && t->v.seconds > p->slower_factor * before) {
                t->v.change = STT_TEST_SLOWER;
                s->slower++;
            }
        }
    }

    free(r->low);
    r->low = NULL;
    r->nlow = 0;
    s->has_coverage = r->has_coverage;
    s->coverage_ok = 1;
    if (r->has_coverage) {
        s->line_percent = percent(r->lines_covered, r->lines_total);
        s->branch_percent = percent(r->branches_covered, r->branches_total);
        if (p->min_line_coverage >= 0) {
            s->coverage_ok = s->line_percent >= p->min_line_coverage;
            r->low = calloc(r->ncov + 1, sizeof *r->low);
            for (size_t i = 0; r->low && i < r->ncov; i++)
                if (r->cov[i].v.line_percent < p->min_line_coverage)
                    r->low[r->nlow++] = r->cov[i].v;
            if (r->low) qsort(r->low, r->nlow, sizeof *r->low, by_line_percent);
        }
    }
    size_t i;
    json_t *c;
    json_array_foreach(r->checks, i, c)
    {
        if (!json_is_true(json_object_get(c, "passed"))) s->checks_failed++;
    }
    s->ok = !s->failed && !s->violations && s->coverage_ok && !s->checks_failed;
}

stt_testreport_totals stt_testreport_get_totals(const stt_testreport *r)
{
    return r->totals;
}

size_t stt_testreport_count(const stt_testreport *r)
{
    return r->ntests;
}

const stt_testcase *stt_testreport_test(const stt_testreport *r, size_t i)
{
    return i < r->ntests ? &r->tests[i].v : NULL;
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

static const char *status_name(stt_test_status s)
{
    return s == STT_TEST_FAILED ? "failed" : s == STT_TEST_SKIPPED ? "skipped" : "passed";
}

static const char *change_name(stt_test_change c)
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

/* ---- JSON ------------------------------------------------------------------------------- */

static json_t *names_where(const stt_testreport *r, int (*pred)(const stt_testcase *))
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->ntests; i++)
        if (pred(&r->tests[i].v)) json_array_append_new(a, json_string(r->tests[i].name));
    return a;
}

static int is_slow(const stt_testcase *t)
{
    return t->slow;
}
static int is_new_failure(const stt_testcase *t)
{
    return t->change == STT_TEST_NEW_FAILURE;
}
static int is_fixed(const stt_testcase *t)
{
    return t->change == STT_TEST_FIXED;
}

static json_t *coverage_file_json(const stt_coverage_file *f)
{
    return json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:f}", "file", f->file, "line_total",
                     (json_int_t)f->lines_total, "line_covered", (json_int_t)f->lines_covered,
                     "line_percent", f->line_percent, "branch_total", (json_int_t)f->branches_total,
                     "branch_covered", (json_int_t)f->branches_covered, "branch_percent",
                     f->branch_percent);
}

static json_t *report_json(const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    const stt_testreport_params *p = &r->p;
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string("sttlab-test-results/1"));
    json_object_set_new(root, "ok", json_boolean(s->ok));
    json_object_set_new(root, "commit", json_string(r->commit));
    json_object_set_new(root, "date", json_string(r->date));
    json_object_set_new(root, "machine",
                        json_pack("{s:s, s:I, s:I, s:s}", "cpu_model",
                                  r->cpu_model ? r->cpu_model : "", "cores", (json_int_t)r->cores,
                                  "memory_bytes", (json_int_t)r->mem_bytes, "kernel",
                                  r->kernel ? r->kernel : ""));
    json_t *config = json_deep_copy(r->config);
    json_object_set_new(config, "slow_seconds", json_real(p->slow_seconds));
    json_object_set_new(config, "max_test_seconds", json_real(p->max_test_seconds));
    json_object_set_new(config, "min_line_coverage", json_real(p->min_line_coverage));
    json_object_set_new(config, "slow_label", json_string(p->slow_label));
    json_object_set_new(root, "config", config);
    json_object_set(root, "timings", r->phases);
    json_object_set_new(
        root, "totals",
        json_pack("{s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I}", "tests",
                  (json_int_t)s->tests, "passed", (json_int_t)s->passed, "failed",
                  (json_int_t)s->failed, "skipped", (json_int_t)s->skipped, "time", s->seconds,
                  "slow", (json_int_t)s->slow, "violations", (json_int_t)s->violations,
                  "new_failures", (json_int_t)s->new_failures, "fixed", (json_int_t)s->fixed,
                  "slower", (json_int_t)s->slower, "checks_failed", (json_int_t)s->checks_failed));

    json_t *tests = json_array(), *violations = json_array(), *slower = json_array();
    for (size_t i = 0; i < r->ntests; i++) {
        const stt_testcase *t = &r->tests[i].v;
        json_t *labels = json_array();
        for (size_t k = 0; k < t->nlabels; k++)
            json_array_append_new(labels, json_string(t->labels[k]));
        json_t *jt = json_pack("{s:s, s:o, s:s, s:f, s:b, s:b}", "name", t->name, "labels", labels,
                               "status", status_name(t->status), "time", t->seconds, "slow",
                               t->slow, "violation", t->violation);
        const char *ch = change_name(t->change);
        json_object_set_new(jt, "change", ch ? json_string(ch) : json_null());
        json_object_set_new(jt, "previous_time",
                            t->previous_seconds >= 0 ? json_real(t->previous_seconds)
                                                     : json_null());
        if (t->output) json_object_set_new(jt, "output", json_string(t->output));
        json_array_append_new(tests, jt);
        if (t->violation)
            json_array_append_new(
                violations,
                json_pack("{s:s, s:f, s:s}", "name", t->name, "time", t->seconds, "rule",
                          "no test over max_test_seconds unless labelled slow_label"));
        if (t->change == STT_TEST_SLOWER)
            json_array_append_new(
                slower, json_pack("{s:s, s:f, s:f, s:f}", "name", t->name, "time", t->seconds,
                                  "previous_time", t->previous_seconds, "ratio",
                                  t->seconds / fmax(t->previous_seconds, p->tiny_seconds)));
    }
    json_object_set_new(root, "tests", tests);
    json_object_set_new(root, "slow_tests", names_where(r, is_slow));
    json_object_set_new(root, "violations", violations);

    if (r->has_coverage) {
        json_t *files = json_array(), *low = json_array();
        for (size_t i = 0; i < r->ncov; i++)
            json_array_append_new(files, coverage_file_json(&r->cov[i].v));
        for (size_t i = 0; i < r->nlow; i++)
            json_array_append_new(low, coverage_file_json(&r->low[i]));
        json_t *cov = json_pack("{s:I, s:I, s:f, s:I, s:I, s:f, s:f, s:b, s:o, s:o}", "line_total",
                                (json_int_t)r->lines_total, "line_covered",
                                (json_int_t)r->lines_covered, "line_percent", s->line_percent,
                                "branch_total", (json_int_t)r->branches_total, "branch_covered",
                                (json_int_t)r->branches_covered, "branch_percent",
                                s->branch_percent, "threshold", p->min_line_coverage, "ok",
                                s->coverage_ok, "files", files, "below_threshold", low);
        json_object_set_new(root, "coverage", cov);
    } else {
        json_object_set_new(root, "coverage", json_null());
    }

    if (r->prev) {
        const char *pc = json_string_value(json_object_get(r->prev, "commit"));
        const char *pd = json_string_value(json_object_get(r->prev, "date"));
        json_object_set_new(root, "history",
                            json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "previous", r->prev_label,
                                      "previous_commit", pc ? pc : "", "previous_date",
                                      pd ? pd : "", "new_failures", names_where(r, is_new_failure),
                                      "fixed", names_where(r, is_fixed), "slower", slower));
    } else {
        json_decref(slower);
        json_object_set_new(root, "history", json_null());
    }
    json_object_set(root, "checks", r->checks);
    return root;
}

int stt_testreport_write_json(const stt_testreport *r, const char *path, char *err, size_t errlen)
{
    json_t *root = report_json(r);
    if (!root) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (rc) return stt_seterr(err, errlen, STT_EIO, "%s: cannot write", path);
    return 0;
}

/* ---- HTML ------------------------------------------------------------------------------- */

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
    "meter{width:8em}\n";

static void html_test_row(FILE *f, const stt_testcase *t, size_t i)
{
    fprintf(f, "<tr class=\"%s%s\"><td>", status_name(t->status), t->violation ? " violation" : "");
    if (t->output) fprintf(f, "<a href=\"#out-%zu\">", i);
    stt_html_escape(f, t->name);
    if (t->output) fputs("</a>", f);
    fputs("</td><td>", f);
    for (size_t k = 0; k < t->nlabels; k++) {
        if (k) fputs(", ", f);
        stt_html_escape(f, t->labels[k]);
    }
    fprintf(f, "</td><td class=\"%s\">%s</td><td class=\"num\">%.3f</td><td>",
            status_name(t->status), status_name(t->status), t->seconds);
    if (t->violation) fputs("over the time limit; ", f);
    if (t->slow) fputs("slow; ", f);
    switch (t->change) {
    case STT_TEST_NEW_FAILURE:
        fputs("new failure", f);
        break;
    case STT_TEST_FIXED:
        fputs("fixed", f);
        break;
    case STT_TEST_SLOWER:
        fprintf(f, "slower (%.3f s before)", t->previous_seconds);
        break;
    default:
        break;
    }
    fputs("</td></tr>\n", f);
}

static void html_tests_table(FILE *f, const stt_testreport *r, const char *id,
                             int (*pred)(const stt_testcase *))
{
    fprintf(f,
            "<table id=\"%s\">\n<tr><th>test</th><th>labels</th><th>status</th>"
            "<th class=\"num\">seconds</th><th>notes</th></tr>\n",
            id);
    for (size_t i = 0; i < r->ntests; i++)
        if (!pred || pred(&r->tests[i].v)) html_test_row(f, &r->tests[i].v, i);
    fputs("</table>\n", f);
}

static int is_violation(const stt_testcase *t)
{
    return t->violation;
}
static int is_changed(const stt_testcase *t)
{
    return t->change != STT_TEST_SAME;
}

static void html_coverage_row(FILE *f, const stt_coverage_file *c)
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

static void html_coverage(FILE *f, const stt_testreport *r)
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
            html_coverage_row(f, &r->low[i]);
        fputs("</table>\n", f);
    }
    fputs("<h3>Every file</h3>\n<table id=\"coverage-files\">\n", f);
    fputs(head, f);
    for (size_t i = 0; i < r->ncov; i++)
        html_coverage_row(f, &r->cov[i].v);
    fputs("</table>\n", f);
}

static void html_body(FILE *f, const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    char line[128];
    stt_testreport_summary_line(r, line, sizeof line);

    fputs("<h1>sttlab test report</h1>\n", f);
    fprintf(f, "<p class=\"verdict %s\" id=\"verdict\">%s: ", s->ok ? "ok" : "bad",
            s->ok ? "PASS" : "FAIL");
    stt_html_escape(f, line);
    fputs("</p>\n<p>Commit <code id=\"commit\">", f);
    stt_html_escape(f, r->commit);
    fputs("</code>, run at <time id=\"date\" datetime=\"", f);
    stt_html_escape(f, r->date);
    fputs("\">", f);
    stt_html_escape(f, r->date);
    fputs("</time>.</p>\n", f);

    fputs("<h2>Totals</h2>\n<table id=\"totals\">\n<tr>", f);
    static const char *const heads[] = {"tests",   "passed", "failed",    "skipped",
                                        "seconds", "slow",   "violations"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        fprintf(f, "<th class=\"num\">%s</th>", heads[i]);
    fprintf(f,
            "</tr>\n<tr><td class=\"num\" id=\"total-tests\">%zu</td>"
            "<td class=\"num passed\" id=\"total-passed\">%zu</td>"
            "<td class=\"num%s\" id=\"total-failed\">%zu</td>"
            "<td class=\"num\" id=\"total-skipped\">%zu</td>"
            "<td class=\"num\" id=\"total-time\">%.3f</td>"
            "<td class=\"num\" id=\"total-slow\">%zu</td>"
            "<td class=\"num%s\" id=\"total-violations\">%zu</td></tr>\n</table>\n",
            s->tests, s->passed, s->failed ? " failed" : "", s->failed, s->skipped, s->seconds,
            s->slow, s->violations ? " failed" : "", s->violations);

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
            "<h2>Rule violations</h2>\n<p>No test may take over %.1f s unless labelled "
            "<code>",
            r->p.max_test_seconds);
    stt_html_escape(f, r->p.slow_label);
    fputs("</code>.</p>\n", f);
    if (s->violations)
        html_tests_table(f, r, "violations", is_violation);
    else
        fputs("<p class=\"ok\">None.</p>\n", f);

    fprintf(f, "<h2>Slow tests (over %.1f s)</h2>\n", r->p.slow_seconds);
    if (s->slow)
        html_tests_table(f, r, "slow", is_slow);
    else
        fputs("<p>None.</p>\n", f);

    fputs("<h2>Changes since the previous run</h2>\n", f);
    if (!r->prev) {
        fputs("<p>No previous run to compare with.</p>\n", f);
    } else {
        const char *pc = json_string_value(json_object_get(r->prev, "commit"));
        const char *pd = json_string_value(json_object_get(r->prev, "date"));
        fputs("<p>Compared with commit <code>", f);
        stt_html_escape(f, pc ? pc : "?");
        fputs("</code> of ", f);
        stt_html_escape(f, pd ? pd : "?");
        fputs(" (<code>", f);
        stt_html_escape(f, r->prev_label);
        fprintf(f,
                "</code>): <span id=\"history-new-failures\">%zu</span> new failures, "
                "<span id=\"history-fixed\">%zu</span> fixed, "
                "<span id=\"history-slower\">%zu</span> more than %.0fx slower.</p>\n",
                s->new_failures, s->fixed, s->slower, r->p.slower_factor);
        if (s->new_failures || s->fixed || s->slower) html_tests_table(f, r, "changes", is_changed);
    }

    if (json_array_size(r->checks)) {
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

    html_coverage(f, r);

    fputs("<h2>All tests</h2>\n", f);
    if (r->ntests)
        html_tests_table(f, r, "tests", NULL);
    else
        fputs("<p>No tests ran.</p>\n", f);

    if (s->failed) {
        fputs("<h2>Output of failed tests</h2>\n", f);
        for (size_t i = 0; i < r->ntests; i++) {
            const stt_testcase *t = &r->tests[i].v;
            if (!t->output) continue;
            fprintf(f, "<h3 id=\"out-%zu\">", i);
            stt_html_escape(f, t->name);
            fputs("</h3>\n<pre>", f);
            stt_html_escape(f, t->output[0] ? t->output : "(no output captured)");
            fputs("</pre>\n", f);
        }
    }

    char mem[32];
    human_bytes(mem, sizeof mem, r->mem_bytes);
    fputs("<h2>Machine and configuration</h2>\n<table id=\"machine\">\n<tr><th>CPU</th><td>", f);
    stt_html_escape(f, r->cpu_model ? r->cpu_model : "unknown");
    fprintf(f,
            "</td></tr>\n<tr><th>cores</th><td>%ld</td></tr>\n<tr><th>memory</th><td>%s</td>"
            "</tr>\n<tr><th>kernel</th><td>",
            r->cores, mem);
    stt_html_escape(f, r->kernel ? r->kernel : "unknown");
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

int stt_testreport_write_html(const stt_testreport *r, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    char line[128];
    stt_testreport_summary_line(r, line, sizeof line);
    char title[192];
    snprintf(title, sizeof title, "sttlab tests: %s, %s", r->totals.ok ? "PASS" : "FAIL", line);
    stt_html_begin(f, title, html_style);
    html_body(f, r);
    stt_html_end(f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}

/* ---- JUnit ------------------------------------------------------------------------------ */

/* The classname is the test's kind: its first label other than the slow one. */
static const char *classname(const stt_testreport *r, const stt_testcase *t)
{
    for (size_t k = 0; k < t->nlabels; k++)
        if (strcmp(t->labels[k], r->p.slow_label)) return t->labels[k];
    return t->nlabels ? t->labels[0] : "tests";
}

static int xw_attr(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int xw_attr(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return xmlTextWriterWriteAttribute(w, (const xmlChar *)name, (const xmlChar *)buf) < 0;
}

static int xw_str(xmlTextWriterPtr w, const char *name, const char *value)
{
    return xmlTextWriterWriteAttribute(w, (const xmlChar *)name, (const xmlChar *)value) < 0;
}

static int xw_start(xmlTextWriterPtr w, const char *name)
{
    return xmlTextWriterStartElement(w, (const xmlChar *)name) < 0;
}

static int xw_end(xmlTextWriterPtr w)
{
    return xmlTextWriterEndElement(w) < 0;
}

static int junit_checks(xmlTextWriterPtr w, const stt_testreport *r)
{
    size_t n = json_array_size(r->checks) + (r->has_coverage ? 1 : 0);
    size_t failed = r->totals.checks_failed + (r->totals.coverage_ok ? 0 : 1);
    int e = xw_start(w, "testsuite") || xw_str(w, "name", "checks") ||
            xw_attr(w, "tests", "%zu", n) || xw_attr(w, "failures", "%zu", failed) ||
            xw_str(w, "errors", "0") || xw_str(w, "skipped", "0");
    if (r->has_coverage) {
        e = e || xw_start(w, "testcase") || xw_str(w, "name", "line_coverage") ||
            xw_str(w, "classname", "coverage") || xw_str(w, "time", "0");
        if (!r->totals.coverage_ok) {
            char msg[128];
            snprintf(msg, sizeof msg, "line coverage %.1f%% is below %.1f%%",
                     r->totals.line_percent, r->p.min_line_coverage);
            e = e || xw_start(w, "failure") || xw_str(w, "message", msg) || xw_end(w);
        }
        e = e || xw_end(w);
    }
    size_t i;
    json_t *c;
    json_array_foreach(r->checks, i, c)
    {
        e = e || xw_start(w, "testcase") ||
            xw_str(w, "name", json_string_value(json_object_get(c, "name"))) ||
            xw_str(w, "classname", "check") || xw_str(w, "time", "0");
        if (!json_is_true(json_object_get(c, "passed")))
            e = e || xw_start(w, "failure") ||
                xw_str(w, "message", json_string_value(json_object_get(c, "detail"))) || xw_end(w);
        e = e || xw_end(w);
    }
    return e || xw_end(w);
}

int stt_testreport_write_junit(const stt_testreport *r, const char *path, char *err, size_t errlen)
{
    /* Opened here rather than by libxml2, which would print its own I/O errors. */
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    xmlOutputBufferPtr ob = xmlOutputBufferCreateFile(f, NULL);
    xmlTextWriterPtr w = ob ? xmlNewTextWriter(ob) : NULL;
    if (!w) {
        if (ob) xmlOutputBufferClose(ob);
        fclose(f);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    const stt_testreport_totals *s = &r->totals;
    xmlTextWriterSetIndent(w, 1);
    size_t with_checks = json_array_size(r->checks) + (r->has_coverage ? 1 : 0);
    size_t failed_checks = s->checks_failed + (s->coverage_ok ? 0 : 1);
    size_t failing = 0; /* testcases written with a <failure> */
    for (size_t i = 0; i < r->ntests; i++)
        failing += r->tests[i].v.status == STT_TEST_FAILED || r->tests[i].v.violation;
    int e = xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
    e = e || xw_start(w, "testsuites") || xw_str(w, "name", "sttlab") ||
        xw_attr(w, "tests", "%zu", s->tests + with_checks) ||
        xw_attr(w, "failures", "%zu", failing + failed_checks) || xw_str(w, "errors", "0") ||
        xw_attr(w, "skipped", "%zu", s->skipped) || xw_attr(w, "time", "%.3f", s->seconds);
    e = e || xw_start(w, "testsuite") || xw_str(w, "name", "ctest") ||
        xw_attr(w, "tests", "%zu", s->tests) || xw_attr(w, "failures", "%zu", failing) ||
        xw_str(w, "errors", "0") || xw_attr(w, "skipped", "%zu", s->skipped) ||
        xw_attr(w, "time", "%.3f", s->seconds) || xw_str(w, "timestamp", r->date);
    for (size_t i = 0; !e && i < r->ntests; i++) {
        const stt_testcase *t = &r->tests[i].v;
        e = xw_start(w, "testcase") || xw_str(w, "name", t->name) ||
            xw_str(w, "classname", classname(r, t)) || xw_attr(w, "time", "%.3f", t->seconds);
        if (t->status == STT_TEST_FAILED) {
            e = e || xw_start(w, "failure") || xw_str(w, "message", "test failed") ||
                xmlTextWriterWriteString(w, (const xmlChar *)(t->output ? t->output : "")) < 0 ||
                xw_end(w);
        } else if (t->violation) {
            /* A rule violation fails the run, so CI must show it as a failure too. */
            char msg[160];
            snprintf(msg, sizeof msg,
                     "took %.1f s, over the %.1f s limit for tests not labelled %s", t->seconds,
                     r->p.max_test_seconds, r->p.slow_label);
            e = e || xw_start(w, "failure") || xw_str(w, "message", msg) ||
                xw_str(w, "type", "time-limit") || xw_end(w);
        } else if (t->status == STT_TEST_SKIPPED) {
            e = e || xw_start(w, "skipped") || xw_end(w);
        }
        e = e || xw_end(w);
    }
    e = e || xw_end(w) || junit_checks(w, r) || xw_end(w) || xmlTextWriterEndDocument(w) < 0;
    xmlFreeTextWriter(w); /* flushes and frees the buffer, which leaves f open */
    if (fclose(f) != 0) e = 1;
    if (e) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}
