/* testreport/json: test_results.json (schema in docs/TESTING.md), with the
 * header every results file has (lib/lab/results.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "internal.h"
#include "results.h"

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *coverage_file_json(const stt_coverage_file *f)
{
    return json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:f}", "file", f->file, "line_total",
                     (json_int_t)f->lines_total, "line_covered", (json_int_t)f->lines_covered,
                     "line_percent", f->line_percent, "branch_total", (json_int_t)f->branches_total,
                     "branch_covered", (json_int_t)f->branches_covered, "branch_percent",
                     f->branch_percent);
}

static json_t *program_json(const stt_testreport *r, const tr_program *p)
{
    const stt_testcase *t = &p->v;
    json_t *labels = json_array();
    for (size_t k = 0; k < t->nlabels; k++)
        json_array_append_new(labels, json_string(t->labels[k]));
    size_t failed = 0;
    for (size_t k = 0; k < p->ncases; k++)
        failed += p->cases[k].status == STT_TEST_FAILED;
    json_t *jt =
        json_pack("{s:s, s:s, s:o, s:s, s:f, s:b, s:b, s:I, s:I}", "name", t->name, "label",
                  tr_kind(r, p), "labels", labels, "status", tr_status_name(t->status), "time",
                  t->seconds, "slow", t->slow, "violation", t->violation, "cases",
                  (json_int_t)p->ncases, "cases_failed", (json_int_t)failed);
    const char *ch = tr_change_name(t->change);
    json_object_set_new(jt, "change", ch ? json_string(ch) : json_null());
    json_object_set_new(jt, "previous_time",
                        t->previous_seconds >= 0 ? json_real(t->previous_seconds) : json_null());
    if (t->output) json_object_set_new(jt, "output", json_string(t->output));
    return jt;
}

static json_t *case_json(const stt_testreport_case *c)
{
    json_t *jc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "name", c->name, "program", c->program,
                           "label", c->label, "status", tr_status_name(c->status), "time",
                           num_or_null(c->seconds), "slow", c->slow);
    if (c->message) json_object_set_new(jc, "message", json_string(c->message));
    const char *ch = tr_change_name(c->change);
    json_object_set_new(jc, "change", ch ? json_string(ch) : json_null());
    json_object_set_new(jc, "previous_time",
                        c->previous_seconds >= 0 ? json_real(c->previous_seconds) : json_null());
    return jc;
}

static json_t *case_ref(const stt_testreport_case *c)
{
    return json_pack("{s:s, s:s}", "program", c->program, "name", c->name);
}

static json_t *history_json(const stt_testreport *r)
{
    const stt_testreport_params *p = &r->p;
    stt_results_header h;
    stt_results_header_read(r->prev, &h, NULL, 0);
    json_t *nf = json_array(), *fx = json_array(), *sl = json_array();
    for (size_t i = 0; i < r->main.nprogs; i++) {
        const stt_testcase *t = &r->main.progs[i].v;
        if (t->change == STT_TEST_NEW_FAILURE) json_array_append_new(nf, json_string(t->name));
        if (t->change == STT_TEST_FIXED) json_array_append_new(fx, json_string(t->name));
        if (t->change == STT_TEST_SLOWER)
            json_array_append_new(
                sl, json_pack("{s:s, s:f, s:f, s:f}", "name", t->name, "time", t->seconds,
                              "previous_time", t->previous_seconds, "ratio",
                              t->seconds / fmax(t->previous_seconds, p->tiny_seconds)));
    }
    json_t *cnf = json_array(), *cfx = json_array(), *csl = json_array();
    for (size_t i = 0; i < r->ncases; i++) {
        const stt_testreport_case *c = &r->cases[i].v;
        if (c->change == STT_TEST_NEW_FAILURE) {
            json_t *e = case_ref(c);
            if (c->message) json_object_set_new(e, "message", json_string(c->message));
            json_array_append_new(cnf, e);
        }
        if (c->change == STT_TEST_FIXED) json_array_append_new(cfx, case_ref(c));
        if (c->change == STT_TEST_SLOWER) {
            json_t *e = case_ref(c);
            json_object_set_new(e, "time", json_real(c->seconds));
            json_object_set_new(e, "previous_time", json_real(c->previous_seconds));
            json_object_set_new(e, "ratio",
                                json_real(c->seconds / fmax(c->previous_seconds, p->tiny_seconds)));
            json_array_append_new(csl, e);
        }
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:{s:o, s:o, s:o}}", "previous", r->prev_label,
                     "previous_commit", h.commit, "previous_date", h.created, "new_failures", nf,
                     "fixed", fx, "slower", sl, "cases", "new_failures", cnf, "fixed", cfx,
                     "slower", csl);
}

static json_t *stability_json(const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    json_t *flaky = json_array(), *varies = json_array(), *run_s = json_array();
    for (size_t k = 0; k < r->nruns; k++) {
        double sum = 0;
        for (size_t i = 0; i < r->runs[k].nprogs; i++)
            sum += r->runs[k].progs[i].v.seconds;
        json_array_append_new(run_s, json_real(sum));
    }
    for (size_t i = 0; i < r->nstable; i++) {
        const stt_testreport_stable_case *v = &r->stable[i].v;
        if (!v->flaky && !v->time_varies) continue;
        json_t *outcomes = json_array(), *times = json_array();
        for (size_t k = 0; k < v->runs; k++) {
            json_array_append_new(outcomes, json_string(tr_status_name(v->status[k])));
            json_array_append_new(times, num_or_null(v->seconds[k]));
        }
        json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:o}", "program", v->program, "name", v->name,
                              "outcomes", outcomes, "times", times, "time_ratio",
                              num_or_null(v->time_ratio));
        json_array_append_new(v->flaky ? flaky : varies, e);
        if (v->flaky && v->time_varies) json_array_append(varies, e);
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:f, s:b, s:o, s:o, s:o}", "runs",
                     (json_int_t)s->stability_runs, "cases", (json_int_t)r->nstable, "flaky_count",
                     (json_int_t)s->flaky, "time_varies_count", (json_int_t)s->time_varies,
                     "time_ratio_threshold", r->p.unstable_time_ratio, "ok", s->flaky == 0,
                     "run_time_s", run_s, "flaky", flaky, "time_varies", varies);
}

/* The header: results.h's, with what the caller set in place of what this
 * process would look up. */
json_t *tr_header_json(const stt_testreport *r)
{
    const stt_testreport_params *p = &r->p;
    json_t *config = json_deep_copy(r->config);
    json_object_set_new(config, "slow_seconds", json_real(p->slow_seconds));
    json_object_set_new(config, "max_test_seconds", json_real(p->max_test_seconds));
    json_object_set_new(config, "min_line_coverage", json_real(p->min_line_coverage));
    json_object_set_new(config, "slower_factor", json_real(p->slower_factor));
    json_object_set_new(config, "unstable_time_ratio", json_real(p->unstable_time_ratio));
    json_object_set_new(config, "slow_label", json_string(p->slow_label));
    json_t *root = stt_results_new(STT_RESULTS_TESTS, "tests", config);
    if (!root) return NULL;
    json_object_set_new(root, "created", json_string(r->date));
    if (r->commit) json_object_set_new(root, "commit", json_string(r->commit));
    json_t *m = json_object_get(root, "machine");
    if (r->cpu_model && m) {
        json_object_set_new(m, "cpu_model", json_string(r->cpu_model));
        json_object_set_new(m, "logical_cores", json_integer(r->cores));
        json_object_set_new(m, "mem_total_bytes", json_integer(r->mem_bytes));
        json_object_set_new(m, "kernel", json_string(r->kernel ? r->kernel : ""));
    }
    return root;
}

json_t *tr_report_json(const stt_testreport *r)
{
    const stt_testreport_totals *s = &r->totals;
    json_t *root = tr_header_json(r);
    if (!root) return NULL;
    json_object_set_new(root, "ok", json_boolean(s->ok));
    json_object_set(root, "timings", r->phases);
    json_object_set_new(
        root, "totals",
        json_pack("{s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I}", "tests",
                  (json_int_t)s->tests, "passed", (json_int_t)s->passed, "failed",
                  (json_int_t)s->failed, "skipped", (json_int_t)s->skipped, "time", s->seconds,
                  "slow", (json_int_t)s->slow, "violations", (json_int_t)s->violations,
                  "new_failures", (json_int_t)s->new_failures, "fixed", (json_int_t)s->fixed,
                  "slower", (json_int_t)s->slower, "checks_failed", (json_int_t)s->checks_failed));
    json_object_set_new(
        root, "case_totals",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "cases", (json_int_t)s->cases,
                  "passed", (json_int_t)s->cases_passed, "failed", (json_int_t)s->cases_failed,
                  "skipped", (json_int_t)s->cases_skipped, "slow", (json_int_t)s->cases_slow,
                  "new_failures", (json_int_t)s->cases_new_failures, "fixed",
                  (json_int_t)s->cases_fixed, "slower", (json_int_t)s->cases_slower));

    json_t *tests = json_array(), *violations = json_array(), *slow = json_array();
    for (size_t i = 0; i < r->main.nprogs; i++) {
        const stt_testcase *t = &r->main.progs[i].v;
        json_array_append_new(tests, program_json(r, &r->main.progs[i]));
        if (t->slow) json_array_append_new(slow, json_string(t->name));
        if (t->violation)
            json_array_append_new(
                violations,
                json_pack("{s:s, s:f, s:s}", "name", t->name, "time", t->seconds, "rule",
                          "no test over max_test_seconds unless labelled slow_label"));
    }
    json_object_set_new(root, "tests", tests);
    json_t *cases = json_array(), *slow_cases = json_array();
    for (size_t i = 0; i < r->ncases; i++) {
        const stt_testreport_case *c = &r->cases[i].v;
        json_array_append_new(cases, case_json(c));
        if (c->slow) {
            json_t *e = case_ref(c);
            json_object_set_new(e, "time", json_real(c->seconds));
            json_array_append_new(slow_cases, e);
        }
    }
    json_object_set_new(root, "cases", cases);
    json_object_set_new(root, "slow_tests", slow);
    json_object_set_new(root, "slow_cases", slow_cases);
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
                                s->branch_percent, "threshold", r->p.min_line_coverage, "ok",
                                s->coverage_ok, "files", files, "below_threshold", low);
        json_object_set_new(root, "coverage", cov);
    } else {
        json_object_set_new(root, "coverage", json_null());
    }
    json_object_set_new(root, "history", r->prev ? history_json(r) : json_null());
    json_object_set_new(root, "stability", r->nruns ? stability_json(r) : json_null());
    json_object_set(root, "checks", r->checks);

    /* The comparable figures: the suite's time over the stability runs, and
     * line coverage. */
    if (r->nruns) {
        double *t = calloc(r->nruns, sizeof *t);
        for (size_t k = 0; t && k < r->nruns; k++)
            for (size_t i = 0; i < r->runs[k].nprogs; i++)
                t[k] += r->runs[k].progs[i].v.seconds;
        if (t) stt_results_add_metric(root, "time_s/fast_subset", "s", 0, t, r->nruns);
        free(t);
    }
    if (r->has_coverage)
        stt_results_add_metric(root, "coverage/line_percent", "%", 1, &s->line_percent, 1);
    return root;
}

int stt_testreport_write_json(const stt_testreport *r, const char *path, char *err, size_t errlen)
{
    json_t *root = tr_report_json(r);
    if (!root) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    int rc = stt_results_write(root, path, err, errlen);
    json_decref(root);
    return rc;
}
