/* report/summary: the executive summary: the seed's three questions, each
 * answered in a sentence or two with the figure that decides it, its
 * interval and a confidence word.
 *
 * The answers are the verdicts the results files state (cpu.json's verdict,
 * the test results, regression.json's verdict); nothing here recomputes a
 * decision. A verdict stated without a confidence, or not stated at all, is
 * "undetermined", and the summary says so. */
#include "fit.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Names of the cases listed in the arrays of o whose key contains one of
 * words (strings, or objects with "name" or "case"), comma-separated into b;
 * returns how many. The test report names its lists; matching on a word
 * ("flaky", "time") keeps the summary reading them if a name grows. */
static int case_list(const json_t *o, const char *const *words, char *b, size_t n)
{
    int count = 0;
    size_t used = 0;
    b[0] = 0;
    const char *key;
    json_t *a;
    json_object_foreach((json_t *)o, key, a)
    {
        int match = 0;
        for (const char *const *w = words; *w && !match; w++)
            match = strstr(key, *w) != NULL;
        if (!match || !json_is_array(a)) continue;
        for (size_t i = 0; i < json_array_size(a); i++) {
            const json_t *e = json_array_get(a, i);
            const char *nm = json_is_string(e) ? json_string_value(e)
                                               : json_string_value(json_object_get(e, "name"));
            if (!nm) nm = json_string_value(json_object_get(e, "case"));
            if (!nm) continue;
            if (count < 5 && used + strlen(nm) + 3 < n)
                used += (size_t)snprintf(b + used, n - used, "%s%s", count ? ", " : "", nm);
            count++;
        }
    }
    if (count > 5 && used + 8 < n) snprintf(b + used, n - used, ", ...");
    return count;
}

/* The stability object's lists: outcome changed (flaky), time varied over 3x. */
static const char *const flaky_keys[] = {"flaky", "outcome", NULL};
static const char *const varied_keys[] = {"time", "vari", NULL};

/* "on commit X, the commit the measurements describe" and the like. */
static void commit_text(const src *t, const stt_report *r, char *b, size_t n, int *older)
{
    const char *created = "";
    const char *desc = rpt_described_commit(r, &created);
    const char *tc = t->h.commit;
    int same = rpt_same_commit(tc, desc);
    *older = 0;
    if (same == 1)
        snprintf(b, n, "on commit %.12s, the one the measurements describe", tc);
    else if (same == 0 && t->h.created[0] && created[0] && strcmp(t->h.created, created) < 0) {
        *older = 1;
        snprintf(b, n,
                 "on commit %.12s, which is older than commit %.12s that the measurements "
                 "describe: the code measured was not the code tested",
                 tc, desc);
    } else if (same == 0)
        snprintf(b, n, "on commit %.12s; the measurements describe commit %.12s", tc, desc);
    else
        snprintf(b, n, "on commit %.12s (the measurements do not name theirs)", tc);
}

/* " Last regression check (...): VERDICT, FIGURE." into b; 1 when it found a regression. */
static int regression_text(doc *d, const stt_report *r, char *b, size_t n, int *found)
{
    rpt_verdict rv;
    *found = rpt_verdict_find(r, "regression", &rv);
    if (!*found) {
        snprintf(b, n, " No regression check was found (scripts/check_regression.sh writes one).");
        return 0;
    }
    const char *fig = rpt_verdict_figure(d, &rv);
    snprintf(b, n, " Last regression check, commit %.12s against %.12s: %s (%s)%s%s.",
             rpt_jstr_at(rv.s, "head.commit") ?: "?", rpt_jstr_at(rv.s, "base.commit") ?: "?",
             rv.answer ? rv.answer : "no verdict stated", rv.confidence, fig ? "; " : "",
             fig ? fig : "");
    return rv.answer && !strcmp(rv.answer, "regression");
}

static void answer_tested(doc *d, const stt_report *r)
{
    const char *q = "1. Tested and stable?";
    const src *t = rpt_primary(r, K_TESTS);
    char reg[1024];
    int has_reg;
    if (!t) {
        regression_text(d, r, reg, sizeof reg, &has_reg);
        rpt_answer(d, q, "Undetermined", "undetermined", "No test results were found (run %s).%s",
                   rpt_kind_cmd[K_TESTS], reg);
        return;
    }
    rpt_verdict tv;
    if (rpt_verdict_find(r, "tested", &tv) && tv.answer && tv.s == t && tv.confidence_stated) {
        const char *fig = rpt_verdict_figure(d, &tv);
        char figure[800];
        snprintf(figure, sizeof figure, "%s%s", fig ? fig : "", fig ? "." : "");
        regression_text(d, r, reg, sizeof reg, &has_reg);
        rpt_answer(d, q, tv.answer, tv.confidence, "%s%s", figure, reg);
        return;
    }
    int failed = (int)rpt_jnum_at(t, "totals.failed");
    int ok = json_is_true(json_object_get(t->j, "ok"));
    double cov = rpt_jnum_at(t, "coverage.line_percent"),
           thr = rpt_jnum_at(t, "coverage.threshold");
    /* A run without coverage (the study's fast subset) says so; it fails
     * nothing, but the answer cannot be established without it. */
    int cov_measured = isfinite(cov);
    const char *label = rpt_jstr_at(t, "config.label_filter");
    int partial = label && *label && strcmp(label, "all"); /* a subset is not the suite */
    int cov_ok = !cov_measured || partial || !(cov < thr);
    int older;
    char commit[512];
    commit_text(t, r, commit, sizeof commit, &older);
    char counts[1024], subset[160] = "";
    if (partial)
        snprintf(subset, sizeof subset,
                 " (the subset labelled %.40s; the whole suite is "
                 "scripts/run_all_tests.sh)",
                 label);
    snprintf(counts, sizeof counts, "%s of %s tests%s passed, %s failed, %s",
             rpt_cite(d, t, "", "totals.passed"), rpt_cite(d, t, "", "totals.tests"), subset,
             rpt_cite(d, t, "", "totals.failed"), commit);
    char cover[512];
    if (cov_measured)
        snprintf(cover, sizeof cover, "line coverage of lib/ %s against %s",
                 rpt_cite(d, t, "%", "coverage.line_percent"),
                 rpt_cite(d, t, "%", "coverage.threshold"));
    else
        snprintf(cover, sizeof cover,
                 "coverage was not measured in this run (scripts/run_all_tests.sh measures it)");
    json_t *st = json_object_get(t->j, "stability");
    char stab[1400], names[600];
    int flaky = 0, varied = 0;
    if (json_is_object(st)) {
        flaky = case_list(st, flaky_keys, names, sizeof names);
        int runs = (int)json_integer_value(json_object_get(st, "runs"));
        if (!runs) runs = (int)json_integer_value(json_object_get(st, "repeats"));
        if (flaky)
            snprintf(stab, sizeof stab, "%d case(s) changed outcome over %d runs (flaky): %s",
                     flaky, runs, names);
        else
            snprintf(stab, sizeof stab, "no case changed outcome over %d runs", runs);
        varied = case_list(st, varied_keys, names, sizeof names);
        size_t l = strlen(stab);
        if (varied)
            snprintf(stab + l, sizeof stab - l, "; %d case(s) varied more than 3x in time: %s",
                     varied, names);
        else
            snprintf(stab + l, sizeof stab - l, " and none varied more than 3x in time");
    } else {
        snprintf(stab, sizeof stab,
                 "stability was not measured (no repeated runs: run_all_tests.sh --stability)");
    }
    int regressed = regression_text(d, r, reg, sizeof reg, &has_reg);
    if (failed > 0 || !ok || !cov_ok || flaky) {
        rpt_answer(d, q, "No", "established", "%s; %s; %s.%s", counts, cover, stab, reg);
        return;
    }
    /* Everything passed: established only when every part of "stable" was
     * measured on the code the report describes. */
    int established = json_is_object(st) && !varied && !older && has_reg && !regressed &&
                      cov_measured && !partial;
    rpt_answer(d, q, regressed ? "Tested, but the last check found a regression" : "Yes",
               established ? "established" : "likely", "%s; %s; %s.%s", counts, cover, stab, reg);
}

/* A stated verdict: answer, figure, and what would settle it when not established. */
static void answer_stated(doc *d, const char *q, const rpt_verdict *v, const char *extra)
{
    const char *fig = rpt_verdict_figure(d, v);
    int firm = !strcmp(v->confidence, "established");
    char text[2400] = "";
    const char *measured = fig ? NULL : rpt_verdict_measured(d, v);
    if (fig)
        snprintf(text, sizeof text, "Deciding figure: %s.", fig);
    else if (measured)
        snprintf(text, sizeof text, "Measured: %s", measured);
    size_t l = strlen(text);
    if (extra) l += (size_t)snprintf(text + l, sizeof text - l, "%s%s", l ? " " : "", extra);
    if (!firm && v->settle && l < sizeof text)
        snprintf(text + l, sizeof text - l, "%sWhat would settle it: %s", l ? " " : "", v->settle);
    rpt_answer(d, q, v->answer, v->confidence, "%s", text);
    if (v->chart) rpt_chart(d, v->s, v->chart, NULL);
}

static void answer_cpu(doc *d, const stt_report *r)
{
    const char *q = "2. Many weak cores or few strong ones?";
    const src *cpu = rpt_primary(r, K_CPU);
    rpt_verdict v;
    int found = rpt_verdict_find(r, "cpu", &v);
    if (found && v.answer && v.confidence_stated) return answer_stated(d, q, &v, NULL);
    if (!cpu) {
        rpt_answer(d, q, "Undetermined", "undetermined", "cpu.json is missing (run %s).",
                   rpt_kind_cmd[K_CPU]);
        return;
    }
    /* An answer without a stated confidence is not a measured verdict. */
    char basis[1024] = "";
    int a = rpt_analysis_index(cpu, "cpuset");
    if (a >= 0) {
        json_t *series = rpt_jpath(cpu->j, "analysis");
        int last =
            (int)json_array_size(json_object_get(json_array_get(series, (size_t)a), "series")) - 1;
        snprintf(basis, sizeof basis,
                 " It rests on single, unrepeated points: throughput speedup %s at %s cores, "
                 "Amdahl serial fraction %s.",
                 rpt_cite(d, cpu, "x", "analysis[%d].series[%d].speedup", a, last),
                 rpt_cite(d, cpu, "", "analysis[%d].series[%d].cores", a, last),
                 rpt_cite(d, cpu, "", "analysis[%d].throughput.amdahl.serial_fraction", a));
    }
    if (found && v.answer)
        rpt_answer(d, q, "Undetermined", "undetermined",
                   "cpu.json answers \"%s\" but states no interval or confidence for it.%s%s%s",
                   v.answer, basis, v.settle ? " What would settle it: " : "",
                   v.settle ? v.settle : "");
    else
        rpt_answer(d, q, "Undetermined", "undetermined",
                   "cpu.json states no verdict.%s Run the equal-capacity experiment (%s).", basis,
                   rpt_kind_cmd[K_CPU]);
}

/* The cpuset analysis's point at its largest core count past the first:
 * its path in base ("" for none) and whether its throughput counts (in
 * series) or was left out (in excluded, its long request still timed). */
static int largest_cpuset_point(const src *cpu, char *base, size_t len, int *included)
{
    *base = 0;
    int a = cpu ? rpt_analysis_index(cpu, "cpuset") : -1;
    if (a < 0) return 0;
    json_t *an = json_array_get(rpt_jpath(cpu->j, "analysis"), (size_t)a);
    long best = 1;
    const char *lists[] = {"series", "excluded"};
    for (int l = 0; l < 2; l++) {
        json_t *pts = json_object_get(an, lists[l]);
        for (size_t i = 0; i < json_array_size(pts); i++) {
            long c = (long)json_integer_value(json_object_get(json_array_get(pts, i), "cores"));
            if (c <= best) continue;
            best = c;
            *included = l == 0;
            snprintf(base, len, "analysis[%d].%s[%zu]", a, lists[l], i);
        }
    }
    /* Series need two included points for an efficiency. */
    if (*included && json_array_size(json_object_get(an, "series")) < 2) *included = 0;
    return *base != 0;
}

static void answer_scale(doc *d, const stt_report *r, const stt_report_decision *dc)
{
    const char *q = "3. When to scale up and when out?";
    rpt_verdict v;
    if (rpt_verdict_find(r, "scale", &v) && v.answer && v.confidence_stated) {
        /* The run chose at its own prices; the report's may differ. */
        json_int_t cores = json_integer_value(json_object_get(v.v, "cores_per_pod"));
        char extra[200] = "The manifests and the strategy follow from it.";
        if (dc->best_cores > 0 && cores > 0 && cores != dc->best_cores)
            snprintf(extra, sizeof extra,
                     "At the report's prices the cheapest shape has pods of %d core%s instead, "
                     "and the manifests use that.",
                     dc->best_cores, dc->best_cores == 1 ? "" : "s");
        return answer_stated(d, q, &v, extra);
    }
    const src *ld = rpt_primary(r, K_LOAD), *cpu = rpt_primary(r, K_CPU);
    char in_pod[1200] = "", now[512], out[512], base[64];
    /* Without the shape experiment, what one pod's scaling says: an
     * interval, though not on the question itself. */
    int included = 0;
    if (largest_cpuset_point(cpu, base, sizeof base, &included) && included)
        snprintf(in_pod, sizeof in_pod,
                 "Measured in one pod: at %s cores the throughput scaling efficiency is %s and "
                 "one long request runs %s faster than on one core, so a bigger pod costs "
                 "%s throughput per core. ",
                 rpt_cite(d, cpu, "", "%s.cores", base),
                 rpt_cite_ci(d, cpu, "", base, "efficiency", "efficiency_ci", "n"),
                 rpt_cite_ci(d, cpu, "x", base, "latency_speedup", "latency_speedup_ci", NULL),
                 rpt_jnum_at(cpu, "%s.efficiency_ci[0]", base) >= STT_FIT_LINEAR_EFFICIENCY
                     ? "little"
                     : "some");
    else if (*base && isfinite(rpt_jnum_at(cpu, "%s.latency_speedup", base))) {
        /* The reason up to its details: "not saturated (...) in 2 of 5 rounds". */
        char why[200], path[96];
        snprintf(path, sizeof path, "%s.reason", base);
        const char *reason = rpt_jstr_at(cpu, path);
        snprintf(why, sizeof why, "%s", reason ? reason : "the one-core reference was left out");
        why[strcspn(why, ":")] = 0;
        snprintf(in_pod, sizeof in_pod,
                 "Measured in one pod: at %s cores one long request runs %s faster than on one "
                 "core, so a bigger pod shortens long requests; its throughput there was left "
                 "out (%s), so what a bigger pod costs in throughput per core is not measured. ",
                 rpt_cite(d, cpu, "", "%s.cores", base),
                 rpt_cite_ci(d, cpu, "x", base, "latency_speedup", "latency_speedup_ci", NULL),
                 why);
    }
    if (dc->best_cores > 0)
        snprintf(now, sizeof now, "the generated deployment uses pods of %d core%s", dc->best_cores,
                 dc->best_cores == 1 ? "" : "s");
    else
        snprintf(now, sizeof now, "the generated deployment uses a placeholder pod of 1 core");
    if (ld && json_is_object(json_object_get(ld->j, "knee")))
        snprintf(out, sizeof out,
                 ", and scales out before a pod reaches its load knee at %s %s "
                 "(p95 %s)",
                 rpt_cite(d, ld, "", "knee.offered"),
                 rpt_jstr_at(ld, "config.mode") && !strcmp(rpt_jstr_at(ld, "config.mode"), "open")
                     ? "requests/s"
                     : "requests in flight",
                 rpt_cite(d, ld, "s", "knee.p95_s"));
    else
        snprintf(out, sizeof out, "; the load knee is %s",
                 ld ? "not found in load.json" : "unknown (load.json missing)");
    rpt_answer(d, q, "Undetermined", "undetermined",
               "%sWhether bigger pods or more of them cost less and keep short requests fast is "
               "measured only by the pod-shape experiment (`sttbench shapes`, in "
               "`scripts/study.sh --full`), which states no verdict here; until it does, %s%s.",
               in_pod, now, out);
}

void rpt_summary(doc *d, const stt_report *r, const stt_report_decision *dc)
{
    rpt_h(d, 2, "Executive summary");
    rpt_para(d, "Each answer gives the figure it rests on with its 95%% interval and how sure it "
                "is: established (the interval clears the decision threshold and everything it "
                "needs was measured), likely (it does, but something is missing, said why), "
                "undetermined (it does not, or it was not measured). Numbers in brackets point to "
                "the sources table at the end.");
    answer_tested(d, r);
    answer_cpu(d, r);
    answer_scale(d, r, dc);
}
