/* testreport/history: the previous report, what changed since it (per
 * program and per case), and the archive of earlier reports. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "internal.h"
#include "results.h"

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
    char *l = tr_clean_text(label ? label : path, 0);
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

/* The entry of array key in the previous report with this name (and this
 * program, when program is not NULL), or NULL. */
static json_t *previous(const stt_testreport *r, const char *key, const char *program,
                        const char *name)
{
    size_t i;
    json_t *jt;
    json_array_foreach(json_object_get(r->prev, key), i, jt)
    {
        const char *n = json_string_value(json_object_get(jt, "name"));
        const char *p = json_string_value(json_object_get(jt, "program"));
        if (n && !strcmp(n, name) && (!program || (p && !strcmp(p, program)))) return jt;
    }
    return NULL;
}

/* One comparison: the change of an entry now (status, seconds) against its
 * previous entry pt (NULL when it did not exist). */
static stt_test_change change_of(const stt_testreport_params *p, stt_test_status status,
                                 double seconds, json_t *pt, double *previous_seconds)
{
    const char *pst = pt ? json_string_value(json_object_get(pt, "status")) : NULL;
    int prev_failed = pst && !strcmp(pst, "failed");
    int prev_passed = pst && !strcmp(pst, "passed");
    json_t *pv = pt ? json_object_get(pt, "time") : NULL;
    *previous_seconds = json_is_number(pv) ? json_number_value(pv) : -1;
    if (status == STT_TEST_FAILED && !prev_failed) return STT_TEST_NEW_FAILURE;
    if (status == STT_TEST_PASSED && prev_failed) return STT_TEST_FIXED;
    if (status == STT_TEST_PASSED && prev_passed && *previous_seconds >= 0 && isfinite(seconds)) {
        /* Timer noise on tiny tests says nothing, so both sides are floored at
         * tiny_seconds: 1 ms -> 3 ms is not a regression, 1 ms -> 0.5 s is. */
        double before = fmax(*previous_seconds, p->tiny_seconds);
        if (seconds >= p->tiny_seconds && seconds > p->slower_factor * before)
            return STT_TEST_SLOWER;
    }
    return STT_TEST_SAME;
}

void tr_history_compare(stt_testreport *r)
{
    stt_testreport_totals *s = &r->totals;
    if (!r->prev) return;
    for (size_t i = 0; i < r->main.nprogs; i++) {
        stt_testcase *t = &r->main.progs[i].v;
        t->change = change_of(&r->p, t->status, t->seconds, previous(r, "tests", NULL, t->name),
                              &t->previous_seconds);
        s->new_failures += t->change == STT_TEST_NEW_FAILURE;
        s->fixed += t->change == STT_TEST_FIXED;
        s->slower += t->change == STT_TEST_SLOWER;
    }
    /* A report from before cases were recorded has no "cases": then nothing
     * is new at case level either, rather than everything. */
    if (!json_is_array(json_object_get(r->prev, "cases"))) return;
    for (size_t i = 0; i < r->ncases; i++) {
        stt_testreport_case *c = &r->cases[i].v;
        c->change = change_of(&r->p, c->status, c->seconds,
                              previous(r, "cases", c->program, c->name), &c->previous_seconds);
        s->cases_new_failures += c->change == STT_TEST_NEW_FAILURE;
        s->cases_fixed += c->change == STT_TEST_FIXED;
        s->cases_slower += c->change == STT_TEST_SLOWER;
    }
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return STT_EIO;
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return STT_EIO;
    }
    char buf[65536];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) bad = 1;
    bad |= ferror(in);
    fclose(in);
    if (fclose(out) != 0) bad = 1;
    return bad ? STT_EIO : 0;
}

int stt_testreport_archive(const char *path, const char *history_dir, char *archived, size_t len,
                           char *err, size_t errlen)
{
    archived[0] = '\0';
    if (access(path, R_OK) != 0) return 0;
    if (stt_results_mkdirs(history_dir))
        return stt_seterr(err, errlen, STT_EIO, "cannot create %s: %s", history_dir,
                          strerror(errno));
    /* Named after when it was made; a damaged file still gets archived. */
    json_t *doc = json_load_file(path, 0, NULL);
    stt_results_header h;
    const char *when = "unknown-date";
    if (doc && stt_results_header_read(doc, &h, NULL, 0) == 0 && h.created[0]) when = h.created;
    char stamp[64];
    size_t o = 0;
    for (const char *d = when; *d && o + 1 < sizeof stamp; d++)
        if (*d != ':') stamp[o++] = *d == '/' ? '-' : *d;
    stamp[o] = '\0';
    json_decref(doc);
    for (int n = 0; n < 1000; n++) {
        if (n)
            snprintf(archived, len, "%s/test_results-%s-%d.json", history_dir, stamp, n);
        else
            snprintf(archived, len, "%s/test_results-%s.json", history_dir, stamp);
        if (access(archived, F_OK) != 0) break;
    }
    if (copy_file(path, archived)) {
        int e = errno;
        archived[0] = '\0';
        return stt_seterr(err, errlen, STT_EIO, "cannot archive %s into %s: %s", path, history_dir,
                          strerror(e));
    }
    return 0;
}
