/* servicebench: see servicebench.h. This file runs the parts in order,
 * holds the helpers they share and writes service.json and
 * service_report.md; the parts are in servicebench_parts.c. */
#include "servicebench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "corpus.h"
#include "error.h"
#include "results.h"
#include "servicebench_internal.h"

const char *const sb_clip_ids[SB_CLIPS] = {
    "sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0880",
    "sense_and_sensibility_01_austen_64kb-0890", "sense_and_sensibility_01_austen_64kb-0920",
    "sense_and_sensibility_01_austen_64kb-0930"};
const char *const sb_profiles[3] = {"fast", "balanced", "accurate"};

stt_servicebench_params stt_servicebench_default_params(void)
{
    return (stt_servicebench_params){.corpus = "corpus",
                                     .out = "results/service",
                                     .testdata = NULL,
                                     .bin_dir = NULL,
                                     .repeat = 5,
                                     .min_rounds = 5,
                                     .quick = 0,
                                     .long_reps = 12,
                                     .long_reps_quick = 2,
                                     .per_client = 4,
                                     .per_client_quick = 2,
                                     .fairness_delay_s = 2.0,
                                     .parts = 0};
}

const char *stt_service_verdict_name(stt_service_verdict v)
{
    switch (v) {
    case STT_SERVICE_PASS:
        return "PASS";
    case STT_SERVICE_FAIL:
        return "FAIL";
    case STT_SERVICE_INFO:
        return "info";
    case STT_SERVICE_NOT_MEASURED:
        return "not measured";
    default:
        return "undetermined";
    }
}

stt_service_verdict stt_servicebench_judge(const stt_summary *s, double threshold,
                                           int higher_is_better, size_t min_n)
{
    if (!s || s->n < min_n || s->n == 0) return STT_SERVICE_UNDETERMINED;
    stt_side side = stt_stats_side(&s->median_ci, threshold);
    if (side == STT_UNDETERMINED) return STT_SERVICE_UNDETERMINED;
    int good = higher_is_better ? side == STT_ABOVE : side == STT_BELOW;
    return good ? STT_SERVICE_PASS : STT_SERVICE_FAIL;
}

/* ---- helpers ---- */

void sb_add(sb_series *s, double v)
{
    if (s->n < STT_SERVICEBENCH_MAX_REPEAT) s->v[s->n++] = v;
}

stt_summary sb_summary(const sb_series *s)
{
    stt_summary out;
    if (stt_stats_summarize(s->v, s->n ? s->n : 1, 0.95, &out) || !s->n) {
        memset(&out, 0, sizeof out);
        out.median = out.mean = out.min = out.max = NAN;
        out.median_ci.lo = out.median_ci.hi = out.median_ci.coverage = NAN;
    }
    return out;
}

json_t *sb_series_json(const sb_series *s, const char *unit)
{
    stt_summary m = sb_summary(s);
    json_t *xs = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(xs, stt_results_num(s->v[i]));
    return json_pack("{s:s, s:I, s:o, s:[o, o], s:o, s:o, s:o, s:o}", "unit", unit, "n",
                     (json_int_t)m.n, "median", stt_results_num(m.median), "ci",
                     stt_results_num(m.median_ci.lo), stt_results_num(m.median_ci.hi), "coverage",
                     stt_results_num(m.median_ci.coverage), "min", stt_results_num(m.min), "max",
                     stt_results_num(m.max), "samples", xs);
}

json_t *sb_wer_json(const stt_wer_counts *c)
{
    return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "wer", stt_results_num(stt_wer_rate(c)),
                     "ref_words", (json_int_t)c->ref_words, "errors", (json_int_t)stt_wer_errors(c),
                     "substitutions", (json_int_t)c->substitutions, "deletions",
                     (json_int_t)c->deletions, "insertions", (json_int_t)c->insertions);
}

void sb_metric(stt_servicebench *b, const char *name, const char *unit, int higher,
               const sb_series *s)
{
    if (s->n) stt_results_add_metric(b->doc, name, unit, higher, s->v, s->n);
}

static sb_target *new_target(stt_servicebench *b, const char *name, const char *goal)
{
    if (b->ntargets >= SB_MAX_TARGETS) return NULL;
    sb_target *t = &b->targets[b->ntargets++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->goal, sizeof t->goal, "%s", goal);
    t->v.name = t->name;
    t->v.goal = t->goal;
    t->v.measured = t->measured;
    t->v.settle = t->settle;
    t->v.figure.median = NAN;
    return t;
}

void sb_timed_target(stt_servicebench *b, const char *name, const char *goal, double threshold,
                     int higher, const sb_series *ratio, const char *unit, const char *detail_fmt,
                     ...)
{
    sb_target *t = new_target(b, name, goal);
    if (!t) return;
    t->v.figure = sb_summary(ratio);
    t->v.verdict = stt_servicebench_judge(&t->v.figure, threshold, higher, (size_t)b->p.min_rounds);
    char detail[200];
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof detail, detail_fmt, ap);
    va_end(ap);
    const stt_summary *s = &t->v.figure;
    snprintf(t->measured, sizeof t->measured, "%.3f%s [%.3f, %.3f], n %zu; %s", s->median, unit,
             s->median_ci.lo, s->median_ci.hi, s->n, detail);
    if (t->v.verdict == STT_SERVICE_UNDETERMINED)
        snprintf(t->settle, sizeof t->settle,
                 s->n < (size_t)b->p.min_rounds
                     ? "at least %d rounds (--repeat)"
                     : "more rounds (--repeat) to narrow the interval, or a quieter machine",
                 b->p.min_rounds);
}

void sb_count_target(stt_servicebench *b, const char *name, const char *goal, stt_service_verdict v,
                     const char *fmt, ...)
{
    sb_target *t = new_target(b, name, goal);
    if (!t) return;
    t->v.verdict = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->measured, sizeof t->measured, fmt, ap);
    va_end(ap);
}

void sb_progress(stt_servicebench *b, int part, const char *fmt, ...)
{
    if (!b->progress) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    b->progress(b->arg, part, line);
}

stt_sut *sb_server(stt_servicebench *b, const char *name, const char *const *args, char *err,
                   size_t errlen)
{
    char cmd[PATH_MAX + 512], log[PATH_MAX], why[512];
    int k = snprintf(cmd, sizeof cmd, "'%s' --host {host} --port {port} --quiet", b->sttd);
    for (int i = 0; args[i] && k > 0 && (size_t)k < sizeof cmd; i++)
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, " %s", args[i]);
    snprintf(log, sizeof log, "%s/sttd_%s.log", b->p.out, name);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = cmd;
    sp.log_path = log;
    stt_sut *sv = stt_sut_start(&sp, why, sizeof why);
    if (!sv) stt_seterr(err, errlen, STT_EIO, "%s (see %s)", why, log);
    return sv;
}

int sb_post(const char *url, const sb_input *in, const char *profile, int threads, double *wall_s,
            char **text, char *err, size_t errlen)
{
    stt_client_params cp = stt_client_default_params();
    cp.profile = profile;
    cp.threads = threads;
    cp.timeout_s = 1800;
    stt_client_reply r;
    int rc = stt_client_transcribe(url, &in->u, &cp, &r);
    *wall_s = r.elapsed_s;
    if (text) *text = NULL;
    if (rc || !r.text) {
        stt_seterr(err, errlen, STT_EIO, "%s", r.error[0] ? r.error : "no text");
        stt_client_reply_free(&r);
        return STT_EIO;
    }
    if (text) {
        *text = r.text;
        r.text = NULL;
    }
    stt_client_reply_free(&r);
    return 0;
}

stt_wer_counts sb_score(const char *ref, const char *hyp, stt_wer_counts *acc)
{
    stt_wer_counts c = {0};
    if (stt_wer_align_text(ref, hyp ? hyp : "", 1, &c) == 0 && acc) stt_wer_add(acc, &c);
    return c;
}

/* ---- outputs ---- */

static json_t *targets_json(const stt_servicebench *b)
{
    json_t *jt = json_array();
    for (int i = 0; i < b->ntargets; i++) {
        const stt_servicebench_target *t = &b->targets[i].v;
        json_t *e =
            json_pack("{s:s, s:s, s:s, s:s}", "target", t->name, "goal", t->goal, "measured",
                      t->measured, "verdict", stt_service_verdict_name(t->verdict));
        if (t->figure.n) {
            json_object_set_new(e, "n", json_integer((json_int_t)t->figure.n));
            json_object_set_new(e, "median", stt_results_num(t->figure.median));
            json_object_set_new(e, "ci",
                                json_pack("[o, o]", stt_results_num(t->figure.median_ci.lo),
                                          stt_results_num(t->figure.median_ci.hi)));
            json_object_set_new(e, "coverage", stt_results_num(t->figure.median_ci.coverage));
        }
        if (t->settle[0]) json_object_set_new(e, "settle", json_string(t->settle));
        json_array_append_new(jt, e);
    }
    return jt;
}

static int write_markdown(const stt_servicebench *b, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/service_report.md", b->p.out);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fprintf(f, "# sttd against the raw engine\n\n");
    fprintf(f,
            "%d rounds per part, sttd and its baseline alternating within each round. A timed "
            "figure is the median of the per-round ratios with its 95%% order-statistic "
            "interval and n; a verdict needs the whole interval on one side of the goal and at "
            "least %d rounds, else it is undetermined. WER figures are exact counts on a fixed "
            "set. Long file: %.1f s (%s). Machine, commit and every raw value: "
            "service.json.\n\n",
            b->p.repeat, b->p.min_rounds, b->longf.audio_s, b->long_source ? b->long_source : "?");
    fprintf(f, "| target | goal | measured | verdict |\n|---|---|---|---|\n");
    for (int i = 0; i < b->ntargets; i++) {
        const stt_servicebench_target *t = &b->targets[i].v;
        fprintf(f, "| %s | %s | %s | %s%s%s |\n", t->name, t->goal, t->measured,
                stt_service_verdict_name(t->verdict), t->settle[0] ? ": needs " : "", t->settle);
    }
    json_t *acc = json_object_get(b->measurements, "accuracy");
    if (acc) {
        fprintf(f, "\n## Profiles (five LibriVox clips, one core)\n\n"
                   "| profile | n | RTF [95%% interval] | RTFx | WER |\n|---|---|---|---|---|\n");
        for (int p = 0; p < 3; p++) {
            json_t *jp = json_object_get(json_object_get(acc, "profiles"), sb_profiles[p]);
            json_t *rtf = json_object_get(jp, "rtf");
            double m = stt_results_get_num(rtf, "median");
            json_t *ci = json_object_get(rtf, "ci");
            fprintf(f, "| %s | %d | %.3f [%.3f, %.3f] | %.1f | %.1f%% |\n", sb_profiles[p],
                    (int)json_integer_value(json_object_get(rtf, "n")), m,
                    json_number_value(json_array_get(ci, 0)),
                    json_number_value(json_array_get(ci, 1)), 1 / m,
                    100 * stt_results_get_num(json_object_get(jp, "wer"), "wer"));
        }
        fprintf(f, "| pocketsphinx_continuous | | | | %.1f%% |\n",
                100 * stt_results_get_num(
                          json_object_get(json_object_get(acc, "pocketsphinx_continuous"), "wer"),
                          "wer"));
    }
    fprintf(f, "\nMethods: docs/SERVICE_BENCH.md. Server logs: sttd_*.log in this folder.\n");
    if (fclose(f)) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}

static int write_outputs(stt_servicebench *b, char *err, size_t errlen)
{
    json_object_set_new(b->doc, "elapsed_s", stt_results_num(b->elapsed_s));
    json_object_set_new(b->doc, "targets", targets_json(b));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/service.json", b->p.out);
    int rc = stt_results_write(b->doc, path, err, errlen);
    return rc ? rc : write_markdown(b, err, errlen);
}

/* ---- running ---- */

static json_t *config_json(const stt_servicebench *b)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:b, s:i, s:i, s:f, s:I, s:s, s:s}", "corpus",
                     b->p.corpus, "testdata", b->testdata, "repeat", b->p.repeat, "min_rounds",
                     b->p.min_rounds, "quick", b->p.quick, "long_reps", b->long_reps,
                     "requests_per_client", b->per_client, "fairness_delay_s",
                     b->p.fairness_delay_s, "parts", (json_int_t)b->p.parts, "sttd", b->sttd,
                     "sttraw", b->sttraw);
}

static int want(const stt_servicebench *b, int part)
{
    return !b->p.parts || (b->p.parts & (1u << (part - 1)));
}

static void run_parts(stt_servicebench *b)
{
    static const char *const names[STT_SERVICEBENCH_PARTS] = {
        "1 overhead", "2 accuracy", "3 memory", "4 threads", "5 throughput", "6 fairness"};
    char err[512];
    int (*const solo[3])(stt_servicebench *, char *, size_t) = {sb_part_overhead, sb_part_accuracy,
                                                                sb_part_memory};
    for (int i = 0; i < 3; i++)
        if (want(b, i + 1) && solo[i](b, err, sizeof err))
            sb_count_target(b, names[i], "", STT_SERVICE_NOT_MEASURED, "%.300s", err);
    if (!want(b, 4) && !want(b, 5) && !want(b, 6)) return;
    const char *args[] = {"--workers", "2", "--profiles", "balanced", NULL};
    stt_sut *sv = sb_server(b, "two_workers", args, err, sizeof err);
    if (!sv) {
        sb_count_target(b, "4-6", "", STT_SERVICE_NOT_MEASURED, "%.300s", err);
        return;
    }
    double w;
    char *text = NULL;
    sb_post(stt_sut_url(sv), &b->cat, "balanced", 0, &w, &text, err, sizeof err); /* warm-up */
    free(text);
    int (*const shared[3])(stt_servicebench *, const stt_sut *, char *,
                           size_t) = {sb_part_threads, sb_part_throughput, sb_part_fairness};
    for (int i = 0; i < 3; i++)
        if (want(b, i + 4) && shared[i](b, sv, err, sizeof err))
            sb_count_target(b, names[i + 3], "", STT_SERVICE_NOT_MEASURED, "%.300s", err);
    stt_sut_stop(sv, 10);
}

int stt_servicebench_run(const stt_servicebench_params *p, stt_servicebench_progress_fn progress,
                         void *arg, stt_servicebench **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!p->out || p->repeat < 1 || p->repeat > STT_SERVICEBENCH_MAX_REPEAT || p->min_rounds < 1 ||
        p->long_reps < 1 || p->long_reps_quick < 1 || p->per_client < 1 ||
        p->per_client_quick < 1 || !(p->fairness_delay_s >= 0) ||
        p->parts >= (1u << STT_SERVICEBENCH_PARTS))
        return stt_seterr(err, errlen, STT_EINVAL, "bad service benchmark parameters");
    stt_servicebench *b = calloc(1, sizeof *b);
    if (!b) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    b->p = *p;
    b->progress = progress;
    b->arg = arg;
    b->t0 = stt_now_s();
    b->testdata = p->testdata ? p->testdata : stt_corpus_default_params().testdata_dir;
    b->long_reps = p->quick ? p->long_reps_quick : p->long_reps;
    b->per_client = p->quick ? p->per_client_quick : p->per_client;
    char dir[PATH_MAX - 16];
    if (p->bin_dir)
        snprintf(dir, sizeof dir, "%s", p->bin_dir);
    else
        stt_sut_exe_dir(dir, sizeof dir);
    snprintf(b->sttd, sizeof b->sttd, "%s/sttd", dir);
    snprintf(b->sttraw, sizeof b->sttraw, "%s/sttraw", dir);
    int rc = 0;
    if (access(b->sttd, X_OK) || access(b->sttraw, X_OK))
        rc = stt_seterr(err, errlen, STT_ENOTFOUND, "%s and %s must be built", b->sttd, b->sttraw);
    else if (stt_results_mkdirs(p->out))
        rc = stt_seterr(err, errlen, STT_EIO, "cannot create %s", p->out);
    snprintf(b->workdir, sizeof b->workdir, "/tmp/sttbench-service-XXXXXX");
    if (!rc && !mkdtemp(b->workdir)) {
        b->workdir[0] = 0;
        rc = stt_seterr(err, errlen, STT_EIO, "mkdtemp: %s", strerror(errno));
    }
    if (!rc) rc = sb_prepare_inputs(b, err, errlen);
    if (!rc) {
        b->doc = stt_results_new(STT_RESULTS_SERVICE, "service", config_json(b));
        b->measurements = json_object();
        if (!b->doc || !b->measurements)
            rc = STT_ENOMEM;
        else
            json_object_set_new(b->doc, "measurements", b->measurements);
    }
    if (!rc) {
        run_parts(b);
        b->elapsed_s = stt_now_s() - b->t0;
        rc = write_outputs(b, err, errlen);
    }
    if (rc) {
        if (rc == STT_ENOMEM) stt_seterr(err, errlen, rc, "out of memory");
        stt_servicebench_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void stt_servicebench_free(stt_servicebench *b)
{
    if (!b) return;
    sb_free_inputs(b);
    json_decref(b->doc);
    free(b);
}

size_t stt_servicebench_target_count(const stt_servicebench *b)
{
    return (size_t)b->ntargets;
}

const stt_servicebench_target *stt_servicebench_target_at(const stt_servicebench *b, size_t i)
{
    return i < (size_t)b->ntargets ? &b->targets[i].v : NULL;
}

int stt_servicebench_failed(const stt_servicebench *b)
{
    for (int i = 0; i < b->ntargets; i++)
        if (b->targets[i].v.verdict == STT_SERVICE_FAIL ||
            b->targets[i].v.verdict == STT_SERVICE_NOT_MEASURED)
            return 1;
    return 0;
}

double stt_servicebench_elapsed_s(const stt_servicebench *b)
{
    return b->elapsed_s;
}
