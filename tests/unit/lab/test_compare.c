/* compare: verdicts on synthetic samples with known differences and known
 * p-values, the paired WER test, the refusals, folders, and the outputs. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "error.h"
#include "results.h"
#include "testlib.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

/* n samples around m with a small deterministic spread (+-0.05%). */
static void samples(double *x, size_t n, double m)
{
    for (size_t i = 0; i < n; i++)
        x[i] = m * (1 + 0.001 * ((double)i / (double)(n - 1) - 0.5));
}

static stt_compare_metric run(const double *a, size_t na, const double *b, size_t nb, int higher,
                              int det, double threshold)
{
    stt_compare_params p = stt_compare_default_params();
    p.threshold = threshold;
    stt_compare_metric m;
    memset(&m, 0, sizeof m);
    CHECK(stt_compare_samples(a, na, b, nb, higher, det, &p, &m) == 0);
    return m;
}

static void test_no_change(void)
{
    double a[10], b[10];
    samples(a, 10, 2.0);
    for (int i = 0; i < 10; i++)
        b[i] = a[9 - i]; /* the same values in another order */
    stt_compare_metric m = run(a, 10, b, 10, 0, 0, 0.05);
    CHECK(m.verdict == STT_COMPARE_SAME);
    CHECK(NEAR(m.ratio, 1.0, 1e-12));
    /* every value tied across the samples: U = 50, p = 1 */
    CHECK(NEAR(m.p, 1.0, 1e-9));
    CHECK(!strcmp(m.why, "p > alpha"));
    CHECK(m.base.n == 10 && m.head.n == 10);
}

static void test_plus_5_percent(void)
{
    double a[10], b[10];
    samples(a, 10, 1.0);
    samples(b, 10, 1.05);
    /* wholly separated samples of 10 and 10: exact p = 2 / C(20, 10) */
    stt_compare_metric m = run(a, 10, b, 10, 0, 0, 0.05);
    CHECK(NEAR(m.p, 2.0 / 184756.0, 1e-9));
    CHECK(NEAR(m.ratio, 1.05, 1e-3));
    CHECK(m.ratio_ci.lo <= 1.05 && m.ratio_ci.hi >= 1.05 - 1e-3);
    /* significant, but the interval includes the 5% margin: no detectable change */
    CHECK(m.verdict == STT_COMPARE_SAME);
    CHECK(!strcmp(m.why, "interval includes the margin"));
    /* against a 3% margin it is a slowdown */
    m = run(a, 10, b, 10, 0, 0, 0.03);
    CHECK(m.verdict == STT_COMPARE_WORSE);
    /* a throughput (higher is better) that rose 5% is better */
    m = run(a, 10, b, 10, 1, 0, 0.03);
    CHECK(m.verdict == STT_COMPARE_BETTER);
}

static void test_plus_50_percent(void)
{
    double a[5], b[5];
    samples(a, 5, 10);
    samples(b, 5, 15);
    stt_compare_metric m = run(a, 5, b, 5, 0, 0, 0.05);
    /* 5 against 5, wholly separated: exact p = 2 / C(10, 5) = 0.0079 */
    CHECK(NEAR(m.p, 2.0 / 252.0, 1e-9));
    CHECK(!strcmp(m.test, "Mann-Whitney U"));
    CHECK(m.verdict == STT_COMPARE_WORSE);
    CHECK(m.ratio_ci.lo > 1.4 && m.ratio_ci.hi < 1.6);
    /* at alpha 0.005 the same data is not significant */
    stt_compare_params p = stt_compare_default_params();
    p.alpha = 0.005;
    CHECK(stt_compare_samples(a, 5, b, 5, 0, 0, &p, &m) == 0);
    CHECK(m.verdict == STT_COMPARE_SAME && !strcmp(m.why, "p > alpha"));
    /* too few repeats for a test */
    m = run(a, 1, b, 5, 0, 0, 0.05);
    CHECK(m.verdict == STT_COMPARE_SAME && !strcmp(m.test, "none: n < 2"));
}

static void test_overlapping_noise(void)
{
    /* interleaved samples: no detectable change whatever the margin */
    double a[8] = {1.00, 1.04, 0.98, 1.07, 1.01, 0.95, 1.03, 0.99};
    double b[8] = {1.02, 0.97, 1.05, 1.00, 0.96, 1.06, 1.01, 0.98};
    stt_compare_metric m = run(a, 8, b, 8, 0, 0, 0.0);
    CHECK(m.verdict == STT_COMPARE_SAME);
    CHECK(m.p > 0.5);
}

static void test_exact_counts(void)
{
    double a = 1.0e9, b2 = 1.02e9, b4 = 1.04e9, b_down = 0.9e9;
    /* 2% more instructions: within a 3% margin */
    stt_compare_metric m = run(&a, 1, &b2, 1, 0, 1, 0.03);
    CHECK(m.verdict == STT_COMPARE_SAME && !strcmp(m.why, "within the margin"));
    CHECK(!strcmp(m.test, "exact count") && isnan(m.p));
    /* 4%: beyond it, a regression without any test */
    m = run(&a, 1, &b4, 1, 0, 1, 0.03);
    CHECK(m.verdict == STT_COMPARE_WORSE && NEAR(m.ratio, 1.04, 1e-12));
    m = run(&a, 1, &b_down, 1, 0, 1, 0.03);
    CHECK(m.verdict == STT_COMPARE_BETTER);
    /* an exact count equal on both sides */
    m = run(&a, 1, &a, 1, 0, 1, 0);
    CHECK(m.verdict == STT_COMPARE_SAME);
}

static void test_paired_wer(void)
{
    stt_compare_params p = stt_compare_default_params();
    p.alpha = 0.01;
    int w[20], ea[20], eb[20];
    for (int i = 0; i < 20; i++) {
        w[i] = 10;
        ea[i] = eb[i] = i % 3;
    }
    stt_compare_accuracy a;
    memset(&a, 0, sizeof a);
    /* the same errors: p = 1, no change */
    CHECK(stt_compare_paired_wer(ea, eb, w, 20, &p, &a) == 0);
    CHECK(a.verdict == STT_COMPARE_SAME && NEAR(a.p, 1, 1e-12) && a.diff == 0);
    /* a WER drop on a few utterances (3 of 20 worse): sign test p = 2 / 8 */
    eb[2] += 2;
    eb[7] += 1;
    eb[11] += 3;
    CHECK(stt_compare_paired_wer(ea, eb, w, 20, &p, &a) == 0);
    CHECK(a.worse == 3 && a.better == 0);
    CHECK(NEAR(a.p, 0.25, 1e-12));
    CHECK(NEAR(a.diff, 6.0 / 200.0, 1e-12));
    CHECK(a.verdict == STT_COMPARE_SAME && !strcmp(a.why, "p > alpha"));
    CHECK(a.diff_ci.lo >= 0 && a.diff_ci.hi > a.diff);
    /* worse on 9 of 10 utterances, one tie: p = 2 / 2^9 < 0.01, a regression */
    for (int i = 0; i < 10; i++)
        eb[i] = ea[i] + (i == 4 ? 0 : 1 + i % 2);
    CHECK(stt_compare_paired_wer(ea, eb, w, 10, &p, &a) == 0);
    CHECK(a.worse == 9 && a.better == 0);
    CHECK(NEAR(a.p, 2.0 / 512.0, 1e-12));
    CHECK(a.diff_ci.lo > 0);
    CHECK(a.verdict == STT_COMPARE_WORSE);
    /* and the mirror image is an improvement */
    CHECK(stt_compare_paired_wer(eb, ea, w, 10, &p, &a) == 0);
    CHECK(a.verdict == STT_COMPARE_BETTER && a.diff_ci.hi < 0);
    int zero[3] = {0, 0, 0};
    CHECK(stt_compare_paired_wer(zero, zero, zero, 3, &p, &a) == STT_EINVAL);
}

/* A cost-like results document: wall samples, an exact instruction count,
 * and per-utterance accuracy. */
static json_t *doc(const char *cpu, const char *profile, double wall, double instr,
                   const int *errors)
{
    json_t *d = stt_results_new(STT_RESULTS_COST, "cost",
                                json_pack("{s:s, s:s}", "profile", profile, "out", "/tmp/x"));
    json_t *m = json_object_get(d, "machine");
    json_object_set_new(m, "cpu_model", json_string(cpu));
    double w[10];
    samples(w, 10, wall);
    stt_results_add_metric(d, "wall_s", "s", 0, w, 10);
    stt_results_add_metric(d, "instructions_per_audio_s", "instructions", 0, &instr, 1);
    json_object_set_new(json_array_get(json_object_get(d, "metrics"), 1), "deterministic",
                        json_true());
    const char *ids[10] = {"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"};
    int words[10] = {8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
    stt_results_add_accuracy(d, "wer/balanced", ids, errors, words, 10);
    return d;
}

static const int same_errors[10] = {1, 0, 2, 1, 0, 3, 1, 0, 0, 2};
static const int more_errors[10] = {3, 2, 4, 2, 0, 5, 2, 1, 2, 4};

static void test_docs_and_refusals(void)
{
    stt_compare_params p = stt_compare_default_params();
    char err[2048];
    /* A/A: nothing changes */
    json_t *a = doc("AMD EPYC", "balanced", 1.0, 1e9, same_errors);
    json_t *b = doc("AMD EPYC", "balanced", 1.0, 1e9, same_errors);
    stt_compare_result *r = calloc(1, sizeof *r);
    REQUIRE(r);
    CHECK(stt_compare_docs(a, b, "cost", &p, r, err, sizeof err) == 0);
    CHECK(r->nmetrics == 2 && r->nacc == 1 && r->regressions == 0);
    CHECK(!strcmp(stt_compare_answer(r), "no regression"));
    for (size_t i = 0; i < r->nmetrics; i++)
        CHECK(r->metrics[i].verdict == STT_COMPARE_SAME);
    CHECK(r->metrics[1].deterministic && r->metrics[1].gated);
    stt_compare_free(r);
    json_decref(b);
    /* a planted slowdown (+50% wall, +40% instructions) and accuracy drop */
    b = doc("AMD EPYC", "balanced", 1.5, 1.4e9, more_errors);
    r = calloc(1, sizeof *r);
    CHECK(stt_compare_docs(a, b, "cost", &p, r, err, sizeof err) == 0);
    CHECK(r->regressions == 3);
    CHECK(r->acc[0].verdict == STT_COMPARE_WORSE && r->acc[0].worse == 9);
    CHECK(!strcmp(stt_compare_answer(r), "regression"));
    /* the JSON states the verdict the report quotes */
    json_t *j = stt_compare_to_json(r, &p);
    REQUIRE(j);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(j, "verdict"), "answer")),
                  "regression"));
    CHECK(json_array_size(json_object_get(j, "changes")) == 2);
    stt_results_header h;
    CHECK(stt_results_header_read(j, &h, NULL, 0) == 0 && h.kind == STT_RESULTS_REGRESSION);
    json_decref(j);
    /* with the deterministic gate, the wall-time slowdown is reported, not gated */
    stt_compare_free(r);
    r = calloc(1, sizeof *r);
    p.gate = STT_COMPARE_GATE_DETERMINISTIC;
    CHECK(stt_compare_docs(a, b, "cost", &p, r, err, sizeof err) == 0);
    CHECK(r->regressions == 2 && !r->metrics[0].gated &&
          r->metrics[0].verdict == STT_COMPARE_WORSE);
    stt_compare_free(r);
    json_decref(b);
    p.gate = STT_COMPARE_GATE_ALL;
    /* another machine: refused, saying what differs; allowed on request */
    b = doc("Intel Xeon", "balanced", 1.0, 1e9, same_errors);
    r = calloc(1, sizeof *r);
    CHECK(stt_compare_docs(a, b, "cost", &p, r, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "machine.cpu_model") && strstr(err, "Intel Xeon") &&
          strstr(err, "--allow-different-machines"));
    stt_compare_free(r);
    r = calloc(1, sizeof *r);
    p.allow_different = 1;
    CHECK(stt_compare_docs(a, b, "cost", &p, r, err, sizeof err) == 0);
    CHECK(r->ndiff == 1 && strstr(r->differences[0], "cpu_model"));
    stt_compare_free(r);
    json_decref(b);
    p.allow_different = 0;
    /* another profile: refused; the output folder (config.out) is no difference */
    b = doc("AMD EPYC", "accurate", 1.0, 1e9, same_errors);
    json_object_set_new((json_t *)json_object_get(b, "config"), "out", json_string("/elsewhere"));
    r = calloc(1, sizeof *r);
    CHECK(stt_compare_docs(a, b, "cost", &p, r, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "config.profile") && strstr(err, "accurate") && !strstr(err, "config.out"));
    stt_compare_free(r);
    json_decref(b);
    /* another kind: refused whatever is allowed */
    b = stt_results_new(STT_RESULTS_LOAD, "load", NULL);
    r = calloc(1, sizeof *r);
    p.allow_different = 1;
    CHECK(stt_compare_docs(a, b, "x", &p, r, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "same kind"));
    stt_compare_free(r);
    json_decref(b);
    json_decref(a);
}

static void write_doc(json_t *d, const char *dir, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    CHECK(stt_results_write(d, path, NULL, 0) == 0);
    json_decref(d);
}

static void test_folders_outputs_history(void)
{
    const char *tmp = test_tmpdir();
    char base[600], head[600], out[600], hist[700];
    snprintf(base, sizeof base, "%s/base", tmp);
    snprintf(head, sizeof head, "%s/head", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(hist, sizeof hist, "%s/out/history.jsonl", tmp);
    write_doc(doc("AMD EPYC", "balanced", 1.0, 1e9, same_errors), base, "cost/cost.json");
    write_doc(doc("AMD EPYC", "balanced", 1.0, 1.1e9, same_errors), head, "x/cost/cost.json");
    write_doc(stt_results_new(STT_RESULTS_LOAD, "load", NULL), base, "load/load.json");
    stt_compare_params p = stt_compare_default_params();
    stt_compare_result *r = NULL;
    char err[1024];
    REQUIRE(stt_compare_paths(base, head, &p, &r, err, sizeof err) == 0);
    CHECK(r->regressions == 1 && r->nmetrics == 2);
    int only = 0;
    for (int i = 0; i < r->nnotes; i++)
        only += strstr(r->notes[i], "load.json: only in base") != NULL;
    CHECK(only == 1);
    char written[2048] = "";
    CHECK(stt_compare_write_all(r, &p, out, written, sizeof written, err, sizeof err) == 0);
    CHECK(strstr(written, "regression.json") && strstr(written, "regression.html"));
    CHECK(stt_compare_history_append(r, hist, err, sizeof err) == 0);
    CHECK(stt_compare_history_append(r, hist, err, sizeof err) == 0);
    char *text = test_read_file(hist, NULL);
    REQUIRE(text);
    int lines = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        json_t *j = json_loads(l, 0, NULL);
        CHECK(j && !strcmp(json_string_value(json_object_get(j, "verdict")), "regression"));
        CHECK(json_object_get(
            json_object_get(json_object_get(j, "metrics"), "instructions_per_audio_s"), "ratio"));
        json_decref(j);
        lines++;
    }
    CHECK(lines == 2);
    free(text);
    char path[800];
    snprintf(path, sizeof path, "%s/regression.md", out);
    char *md = test_read_file(path, NULL);
    CHECK(md && strstr(md, "instructions_per_audio_s") && strstr(md, "+10.00%") &&
          strstr(md, "Verdict: regression"));
    free(md);
    stt_compare_free(r);
    /* a file and a folder do not compare; nor do folders with nothing in common */
    char file[700];
    snprintf(file, sizeof file, "%s/cost/cost.json", base);
    CHECK(stt_compare_paths(file, head, &p, &r, err, sizeof err) == STT_EINVAL);
    CHECK(stt_compare_paths(out, head, &p, &r, err, sizeof err) == STT_EINVAL);
    CHECK(stt_compare_paths("/nonexistent", head, &p, &r, err, sizeof err) == STT_EIO);
}

static void test_threshold_parse(void)
{
    double t = -1;
    CHECK(stt_compare_parse_threshold("5%", &t) == 0 && NEAR(t, 0.05, 1e-12));
    CHECK(stt_compare_parse_threshold("0.03", &t) == 0 && NEAR(t, 0.03, 1e-12));
    CHECK(stt_compare_parse_threshold("0%", &t) == 0 && t == 0);
    CHECK(stt_compare_parse_threshold("150%", &t) == STT_EINVAL);
    CHECK(stt_compare_parse_threshold("5", &t) == STT_EINVAL);
    CHECK(stt_compare_parse_threshold("", &t) == STT_EINVAL);
    CHECK(!strcmp(stt_compare_verdict_name(STT_COMPARE_WORSE), "worse"));
    CHECK(!strcmp(stt_compare_answer(NULL), "undetermined"));
}

int main(void)
{
    TEST_RUN(test_no_change);
    TEST_RUN(test_plus_5_percent);
    TEST_RUN(test_plus_50_percent);
    TEST_RUN(test_overlapping_noise);
    TEST_RUN(test_exact_counts);
    TEST_RUN(test_paired_wer);
    TEST_RUN(test_docs_and_refusals);
    TEST_RUN(test_folders_outputs_history);
    TEST_RUN(test_threshold_parse);
    return test_summary();
}
