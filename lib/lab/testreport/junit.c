/* testreport/junit: junit.xml for CI, case by case.
 *
 *   <testsuites name="sttlab" tests failures errors skipped time>
 *     <testsuite name=PROGRAM tests failures errors skipped time timestamp>
 *       <properties> labels, the program's status </properties>
 *       <testcase name=CASE classname=KIND.PROGRAM time>
 *         <failure message="FIRST FAILED CHECK" type="check">every failed check</failure>
 *       </testcase> ...
 *       <testcase name="(time limit)">  a violation of the time rule, as a failure
 *     </testsuite> ...
 *     <testsuite name="checks"> the coverage threshold and each extra pass </testsuite>
 *   </testsuites>
 *
 * The counts on every element are those of the elements written, so that a
 * consumer (Jenkins, GitLab, junitparser) counts what this report counts. */
#include <errno.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "internal.h"

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
    return xmlTextWriterWriteAttribute(w, (const xmlChar *)name,
                                       (const xmlChar *)(value ? value : "")) < 0;
}

static int xw_start(xmlTextWriterPtr w, const char *name)
{
    return xmlTextWriterStartElement(w, (const xmlChar *)name) < 0;
}

static int xw_end(xmlTextWriterPtr w)
{
    return xmlTextWriterEndElement(w) < 0;
}

static int xw_text(xmlTextWriterPtr w, const char *s)
{
    return xmlTextWriterWriteString(w, (const xmlChar *)(s ? s : "")) < 0;
}

static int failure(xmlTextWriterPtr w, const char *message, const char *type, const char *body)
{
    return xw_start(w, "failure") || xw_str(w, "message", message) || xw_str(w, "type", type) ||
           (body && xw_text(w, body)) || xw_end(w);
}

/* Counts of one program's suite as written. */
typedef struct suite_counts {
    size_t tests, failures, skipped;
} suite_counts;

static suite_counts count_program(const tr_program *p)
{
    suite_counts c = {p->ncases + (size_t)p->v.violation, (size_t)p->v.violation, 0};
    for (size_t k = 0; k < p->ncases; k++) {
        c.failures += p->cases[k].status == STT_TEST_FAILED;
        c.skipped += p->cases[k].status == STT_TEST_SKIPPED;
    }
    return c;
}

static int program_suite(xmlTextWriterPtr w, const stt_testreport *r, const tr_program *p)
{
    suite_counts n = count_program(p);
    const char *kind = tr_kind(r, p);
    char classname[512];
    snprintf(classname, sizeof classname, "%s.%s", kind, p->name);
    int e = xw_start(w, "testsuite") || xw_str(w, "name", p->name) ||
            xw_attr(w, "tests", "%zu", n.tests) || xw_attr(w, "failures", "%zu", n.failures) ||
            xw_str(w, "errors", "0") || xw_attr(w, "skipped", "%zu", n.skipped) ||
            xw_attr(w, "time", "%.3f", p->v.seconds) || xw_str(w, "timestamp", r->date);
    e = e || xw_start(w, "properties");
    for (size_t k = 0; !e && k < p->v.nlabels; k++)
        e = xw_start(w, "property") || xw_str(w, "name", "label") ||
            xw_str(w, "value", p->labels[k]) || xw_end(w);
    e = e || xw_start(w, "property") || xw_str(w, "name", "program_status") ||
        xw_str(w, "value", tr_status_name(p->v.status)) || xw_end(w) || xw_end(w);
    for (size_t k = 0; !e && k < p->ncases; k++) {
        const tr_case *c = &p->cases[k];
        e = xw_start(w, "testcase") || xw_str(w, "name", c->name) ||
            xw_str(w, "classname", classname);
        if (isfinite(c->seconds)) e = e || xw_attr(w, "time", "%.6f", c->seconds);
        if (c->status == STT_TEST_FAILED) {
            char first[512];
            const char *m = c->message ? c->message : "failed";
            snprintf(first, sizeof first, "%.*s", (int)strcspn(m, "\n"), m);
            e = e || failure(w, first, "check", c->message);
        } else if (c->status == STT_TEST_SKIPPED) {
            e = e || xw_start(w, "skipped") || xw_end(w);
        }
        e = e || xw_end(w);
    }
    if (p->v.violation) {
        /* A rule violation fails the run, so CI must show it as a failure too. */
        char msg[200];
        snprintf(msg, sizeof msg, "took %.1f s, over the %.1f s limit for tests not labelled %s",
                 p->v.seconds, r->p.max_test_seconds, r->p.slow_label);
        e = e || xw_start(w, "testcase") || xw_str(w, "name", "(time limit)") ||
            xw_str(w, "classname", classname) || xw_attr(w, "time", "%.3f", p->v.seconds) ||
            failure(w, msg, "time-limit", NULL) || xw_end(w);
    }
    return e || xw_end(w);
}

static int checks_suite(xmlTextWriterPtr w, const stt_testreport *r)
{
    size_t n = json_array_size(r->checks) + (r->has_coverage ? 1 : 0);
    size_t failed = r->totals.checks_failed + (r->totals.coverage_ok ? 0 : 1);
    int e = xw_start(w, "testsuite") || xw_str(w, "name", "checks") ||
            xw_attr(w, "tests", "%zu", n) || xw_attr(w, "failures", "%zu", failed) ||
            xw_str(w, "errors", "0") || xw_str(w, "skipped", "0") || xw_str(w, "time", "0");
    if (r->has_coverage) {
        e = e || xw_start(w, "testcase") || xw_str(w, "name", "line_coverage") ||
            xw_str(w, "classname", "checks.coverage") || xw_str(w, "time", "0");
        if (!r->totals.coverage_ok) {
            char msg[128];
            snprintf(msg, sizeof msg, "line coverage %.1f%% is below %.1f%%",
                     r->totals.line_percent, r->p.min_line_coverage);
            e = e || failure(w, msg, "coverage", NULL);
        }
        e = e || xw_end(w);
    }
    size_t i;
    json_t *c;
    json_array_foreach(r->checks, i, c)
    {
        e = e || xw_start(w, "testcase") ||
            xw_str(w, "name", json_string_value(json_object_get(c, "name"))) ||
            xw_str(w, "classname", "checks.pass") || xw_str(w, "time", "0");
        if (!json_is_true(json_object_get(c, "passed")))
            e = e || failure(w, json_string_value(json_object_get(c, "detail")), "check", NULL);
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
    suite_counts all = {json_array_size(r->checks) + (r->has_coverage ? 1 : 0),
                        s->checks_failed + (s->coverage_ok ? 0 : 1), 0};
    for (size_t i = 0; i < r->main.nprogs; i++) {
        suite_counts n = count_program(&r->main.progs[i]);
        all.tests += n.tests;
        all.failures += n.failures;
        all.skipped += n.skipped;
    }
    xmlTextWriterSetIndent(w, 1);
    int e = xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
    e = e || xw_start(w, "testsuites") || xw_str(w, "name", "sttlab") ||
        xw_attr(w, "tests", "%zu", all.tests) || xw_attr(w, "failures", "%zu", all.failures) ||
        xw_str(w, "errors", "0") || xw_attr(w, "skipped", "%zu", all.skipped) ||
        xw_attr(w, "time", "%.3f", s->seconds);
    for (size_t i = 0; !e && i < r->main.nprogs; i++)
        e = program_suite(w, r, &r->main.progs[i]);
    e = e || checks_suite(w, r) || xw_end(w) || xmlTextWriterEndDocument(w) < 0;
    xmlFreeTextWriter(w); /* flushes and frees the buffer, which leaves f open */
    if (fclose(f) != 0) e = 1;
    if (e) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}
