/* testreport/ctest: what a CTest run leaves behind, read into a tr_run:
 * CTest's JUnit (one <testcase> per program), the labels of
 * `ctest --show-only=json-v1`, and testlib's per-case records. */
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "internal.h"

static void free_cases(tr_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].name);
        free(c[i].message);
    }
    free(c);
}

void tr_run_free(tr_run *run)
{
    for (size_t i = 0; i < run->nprogs; i++) {
        tr_program *t = &run->progs[i];
        free(t->name);
        for (size_t k = 0; k < t->v.nlabels; k++)
            free(t->labels[k]);
        free(t->labels);
        free(t->output);
        free(t->all_output);
        free_cases(t->cases, t->ncases);
    }
    free(run->progs);
    memset(run, 0, sizeof *run);
}

/* ---- JUnit ---- */

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

static int add_program(tr_run *run, const xmlNode *n)
{
    tr_program *grown = realloc(run->progs, (run->nprogs + 1) * sizeof *grown);
    if (!grown) return STT_ENOMEM;
    run->progs = grown;
    tr_program *t = &run->progs[run->nprogs];
    memset(t, 0, sizeof *t);

    char *name = xml_attr(n, "name");
    t->name = tr_clean_text(name ? name : "(unnamed)", 0);
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
            rc = tr_append(&output, msg);
            if (!rc) rc = tr_append(&output, body);
            free(msg);
            free(body);
        } else if (is_elem(c, "skipped")) {
            if (t->v.status != STT_TEST_FAILED) t->v.status = STT_TEST_SKIPPED;
        } else if (is_elem(c, "system-out") || is_elem(c, "system-err")) {
            char *body = xml_text(c);
            rc = tr_append(&output, body);
            free(body);
        }
    }
    t->all_output = tr_clean_text(output ? output : "", 0);
    if (!rc && t->v.status == STT_TEST_FAILED) {
        t->output = tr_clean_text(output ? output : "", TR_OUTPUT_KEEP);
        if (!t->output) rc = STT_ENOMEM;
    }
    free(output);
    if (!t->name || !t->all_output) rc = STT_ENOMEM;
    t->v.previous_seconds = -1;
    run->nprogs++; /* counted even on failure so that free releases it */
    return rc;
}

static int walk_junit(tr_run *run, const xmlNode *n)
{
    for (; n; n = n->next) {
        int rc = 0;
        if (is_elem(n, "testcase"))
            rc = add_program(run, n);
        else if (n->type == XML_ELEMENT_NODE)
            rc = walk_junit(run, n->children);
        if (rc) return rc;
    }
    return 0;
}

int tr_run_load_junit(tr_run *run, const char *path, char *err, size_t errlen)
{
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
    int rc = walk_junit(run, root);
    xmlFreeDoc(doc);
    if (rc) return stt_seterr(err, errlen, rc, "%s: out of memory", path);
    return 0;
}

static tr_program *find_program(tr_run *run, const char *name)
{
    for (size_t i = 0; name && i < run->nprogs; i++)
        if (!strcmp(run->progs[i].name, name)) return &run->progs[i];
    return NULL;
}

/* ---- labels ---- */

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
        tr_program *t = find_program(&r->main, json_string_value(json_object_get(jt, "name")));
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
                if (!(labels[t->v.nlabels] = tr_clean_text(l, 0))) goto nomem;
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

/* ---- testlib's per-case records ---- */

static tr_case *new_case(tr_program *t, const char *name)
{
    tr_case *grown = realloc(t->cases, (t->ncases + 1) * sizeof *grown);
    if (!grown) return NULL;
    t->cases = grown;
    tr_case *c = &t->cases[t->ncases];
    memset(c, 0, sizeof *c);
    c->seconds = NAN;
    c->status = STT_TEST_PASSED;
    if (!(c->name = tr_clean_text(name, 0))) return NULL;
    t->ncases++;
    return c;
}

/* Splits a record line in place at tabs and undoes testlib's escapes;
 * returns the number of fields (at most max). */
static int split_record(char *line, char **field, int max)
{
    int n = 0;
    char *out = line;
    field[n++] = out;
    for (char *p = line; *p && *p != '\n'; p++) {
        if (*p == '\t') {
            *out++ = '\0';
            if (n == max) return n;
            field[n++] = out;
        } else if (*p == '\\' && p[1]) {
            p++;
            *out++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return n;
}

/* The last case named name that has not ended, or NULL. */
static tr_case *open_case(tr_program *t, const char *name)
{
    for (size_t i = t->ncases; i-- > 0;)
        if (!t->cases[i].ended && !strcmp(t->cases[i].name, name)) return &t->cases[i];
    return NULL;
}

static int read_records(tr_program *t, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (!rc && getline(&line, &cap, f) > 0) {
        char *fld[4];
        int n = split_record(line, fld, 4);
        if (n < 2) continue;
        tr_case *c = open_case(t, fld[1]);
        if (!strcmp(fld[0], "start")) {
            if (!new_case(t, fld[1])) rc = STT_ENOMEM;
        } else if (!strcmp(fld[0], "fail") && n >= 4) {
            if (!c && !(c = new_case(t, fld[1]))) {
                rc = STT_ENOMEM;
                break;
            }
            char msg[8192];
            snprintf(msg, sizeof msg, "%s: check failed: %s", fld[2], fld[3]);
            char *clean = tr_clean_text(msg, 0);
            rc = clean ? tr_append(&c->message, clean) : STT_ENOMEM;
            free(clean);
            c->status = STT_TEST_FAILED;
        } else if (!strcmp(fld[0], "end") && n >= 4) {
            if (!c && !(c = new_case(t, fld[1]))) {
                rc = STT_ENOMEM;
                break;
            }
            c->ended = 1;
            c->status = !strcmp(fld[2], "ok") ? STT_TEST_PASSED : STT_TEST_FAILED;
            char *end;
            double s = strtod(fld[3], &end);
            c->seconds = end != fld[3] && isfinite(s) && s >= 0 ? s : NAN;
        }
    }
    free(line);
    return rc;
}

int tr_run_load_cases(tr_run *run, const char *dir, char *err, size_t errlen)
{
    if (run->cases_done)
        return stt_seterr(err, errlen, STT_EINVAL, "cases are loaded before analyze");
    if (access(dir, R_OK | X_OK) != 0)
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", dir, strerror(errno));
    for (size_t i = 0; i < run->nprogs; i++) {
        tr_program *t = &run->progs[i];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.cases", dir, t->name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* a program that does not use testlib, or did not run */
        free_cases(t->cases, t->ncases);
        t->cases = NULL;
        t->ncases = 0;
        int rc = read_records(t, f);
        fclose(f);
        if (rc) return stt_seterr(err, errlen, rc, "%s: out of memory", path);
        t->has_records = 1;
    }
    return 0;
}

/* ---- settling the cases of each program ---- */

/* The "file:line: check failed: expr" lines of text, joined; NULL when none. */
static char *failed_checks(const char *text, const char *from, const char *to)
{
    char *out = NULL;
    for (const char *p = from ? from : text; p && *p && (!to || p < to);) {
        size_t n = strcspn(p, "\n");
        const char *hit = memmem(p, n, ": check failed: ", 16);
        if (hit) {
            char line[2048];
            snprintf(line, sizeof line, "%.*s", (int)(n < 2047 ? n : 2047), p);
            if (tr_append(&out, line)) break;
        }
        p += n + (p[n] == '\n');
    }
    return out;
}

/* Cases from testlib's lines in the program's output ("ok   NAME", "FAIL
 * NAME"; the check failures printed before a FAIL line belong to it), when
 * the output is complete: it ends in "N passed, M failed" with N + M cases.
 * Returns 1 when the cases were taken, 0 when not, STT_ENOMEM. */
static int cases_from_output(tr_program *t)
{
    const char *text = t->all_output;
    if (!text) return 0;
    size_t found = 0;
    long total = -1;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        long a, b;
        char tail;
        if (!strncmp(p, "ok   ", 5) || !strncmp(p, "FAIL ", 5))
            found++;
        else if (sscanf(p, "%ld passed, %ld failed%c", &a, &b, &tail) >= 2)
            total = a + b;
        p += n + (p[n] == '\n');
    }
    if (total < 0 || (size_t)total != found || found == 0) return 0;
    const char *since = text;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        int ok = !strncmp(p, "ok   ", 5), fail = !strncmp(p, "FAIL ", 5);
        if (ok || fail) {
            char name[512];
            snprintf(name, sizeof name, "%.*s", (int)(n - 5 < 511 ? n - 5 : 511), p + 5);
            tr_case *c = new_case(t, name);
            if (!c) return STT_ENOMEM;
            c->ended = 1;
            c->status = ok ? STT_TEST_PASSED : STT_TEST_FAILED;
            if (fail) c->message = failed_checks(text, since, p);
            since = p + n;
        }
        p += n + (p[n] == '\n');
    }
    return 1;
}

static int settle(tr_program *t)
{
    if (t->v.status == STT_TEST_SKIPPED || t->ncases == 0) {
        int took = t->v.status == STT_TEST_SKIPPED ? 0 : cases_from_output(t);
        if (took < 0) return took;
        if (!took) {
            /* One case stands for a program whose cases are unknown. */
            free_cases(t->cases, t->ncases);
            t->cases = NULL;
            t->ncases = 0;
            tr_case *c = new_case(t, t->name);
            if (!c) return STT_ENOMEM;
            c->ended = 1;
            c->status = t->v.status;
            c->seconds = t->v.seconds;
            if (c->status == STT_TEST_FAILED) {
                c->message = failed_checks(t->all_output, NULL, NULL);
                if (!c->message && tr_append(&c->message, "the program failed; see its output"))
                    return STT_ENOMEM;
            }
            return 0;
        }
    }
    int any_failed = 0;
    for (size_t i = 0; i < t->ncases; i++) {
        tr_case *c = &t->cases[i];
        if (!c->ended) {
            c->status = STT_TEST_FAILED;
            if (tr_append(&c->message, "the program ended inside this case (a crash, an abort or "
                                       "the time-out); see the program's output"))
                return STT_ENOMEM;
        }
        any_failed |= c->status == STT_TEST_FAILED;
    }
    if (t->v.status == STT_TEST_FAILED && !any_failed) {
        tr_case *c = new_case(t, "(program)");
        if (!c) return STT_ENOMEM;
        c->ended = 1;
        c->status = STT_TEST_FAILED;
        if (tr_append(&c->message, "the program failed although none of its cases did (its exit "
                                   "status, a sanitizer report, or a crash after the last case); "
                                   "see its output"))
            return STT_ENOMEM;
    }
    return 0;
}

int tr_run_finish_cases(tr_run *run)
{
    if (run->cases_done) return 0;
    for (size_t i = 0; i < run->nprogs; i++) {
        int rc = settle(&run->progs[i]);
        if (rc) return rc;
    }
    run->cases_done = 1;
    return 0;
}
