/* report: generated documents against the fixed sample results in tests/data/results. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compare.h"
#include "error.h"
#include "report.h"
#include "results.h"
#include "shapes.h"
#include "testlib.h"

#define SAMPLE STT_SOURCE_DIR "/tests/data/results"

static char *render(const stt_report *r, const stt_report_params *p, int which)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    int rc = which == 0   ? stt_report_write_md(r, p, f)
             : which == 1 ? stt_report_write_html(r, p, f)
                          : stt_report_write_strategy(r, p, f);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

static json_t *jpath(json_t *j, const char *p)
{
    while (j && *p) {
        if (*p == '.') p++;
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            j = json_array_get(j, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        j = json_object_get(j, key);
        p += n;
    }
    return j;
}

/* The sources table of a document: reference N -> "FILE\tFIELD". */
typedef struct sources {
    char *row[4096];
} sources;

static void sources_free(sources *t)
{
    for (int i = 0; i < 4096; i++)
        free(t->row[i]);
}

/* Markdown: "| N | FILE | FIELD |" after "## Sources"; HTML: the title
 * attribute of every reference link, "FILE: FIELD". Returns how many. */
static int read_sources(const char *text, int html, sources *t)
{
    memset(t, 0, sizeof *t);
    int n = 0;
    if (!html) {
        const char *s = strstr(text, "## Sources");
        for (s = s ? strstr(s, "\n| ") : NULL; s; s = strstr(s + 1, "\n| ")) {
            int ref;
            char file[512], field[512];
            if (sscanf(s, "\n| %d | %511[^|]| %511[^|]|", &ref, file, field) != 3) continue;
            if (ref < 1 || ref >= 4096) continue;
            file[strcspn(file, " ")] = 0;
            field[strlen(field) - 1] = 0; /* the space before '|' */
            char row[1100];
            snprintf(row, sizeof row, "%s\t%s", file, field);
            t->row[ref] = strdup(row);
            n++;
        }
        return n;
    }
    for (const char *s = strstr(text, "<a href=\"#src-"); s; s = strstr(s + 1, "<a href=\"#src-")) {
        int ref = atoi(s + strlen("<a href=\"#src-"));
        const char *title = strstr(s, "title=\"");
        if (!title || ref < 1 || ref >= 4096 || t->row[ref]) continue;
        title += 7;
        const char *end = strchr(title, '"'), *colon = strstr(title, ": ");
        if (!end || !colon || colon > end) continue;
        char row[1100];
        snprintf(row, sizeof row, "%.*s\t%.*s", (int)(colon - title), title, (int)(end - colon - 2),
                 colon + 2);
        t->row[ref] = strdup(row);
        n++;
    }
    return n;
}

/* The word that ends at e (exclusive) into w. */
static const char *word_before(const char *text, const char *e, char *w, size_t n)
{
    while (e > text && e[-1] == ' ')
        e--;
    const char *b = e;
    while (b > text && b[-1] != ' ' && b[-1] != '(' && b[-1] != '|' && b[-1] != '>' &&
           b[-1] != '\n')
        b--;
    snprintf(w, n, "%.*s", (int)(e - b), b);
    return b;
}

/* Every "NUMBER [UNIT] [N]" (markdown) or "NUMBER [UNIT]<sup..>[N]" (HTML) in
 * the text equals the value at the field of FILE that source N names. */
static int check_citations(const char *text, int html, int *checked)
{
    sources t;
    int bad = 0;
    *checked = 0;
    read_sources(text, html, &t);
    const char *mark = html ? "<sup class=\"ref\"><a href=\"#src-" : " [";
    const char *end_of_text = html ? text + strlen(text) : strstr(text, "## Sources");
    if (!end_of_text) end_of_text = text + strlen(text);
    for (const char *s = strstr(text, mark); s && s < end_of_text; s = strstr(s + 1, mark)) {
        const char *digits = s + strlen(mark);
        size_t nd = strspn(digits, "0123456789");
        /* "[1.12, 1.97]" is an interval, not a reference: a reference is
         * digits and then ']' (markdown) or '"' (HTML). */
        if (!nd || digits[nd] != (html ? '"' : ']')) continue;
        int ref = atoi(digits);
        if (ref < 1 || ref >= 4096 || !t.row[ref]) continue;
        char file[1200], *field;
        snprintf(file, sizeof file, "%s/%s", SAMPLE, t.row[ref]);
        field = strchr(file, '\t');
        *field++ = 0;
        if (!strncmp(t.row[ref], "computed", 8) || strstr(field, "metrics") ||
            strstr(field, "(absent)"))
            continue;
        char word[64];
        /* "VALUE [LO, HI], n=N [ref]" (rpt_cite_ci): the value stands before
         * its interval and n. */
        const char *stop = s;
        for (int k = 0; k < 2; k++) {
            const char *q = stop;
            while (q > text && q[-1] == ' ')
                q--;
            const char *b = q;
            while (b > text && b[-1] != '|' && b[-1] != '\n' && q - b < 40 && b[-1] != ',')
                b--;
            if (b > text && b[-1] == ',' && (!strncmp(b, " n=", 3) || !strncmp(b, " n not", 6)))
                stop = b - 1;
            else if (q > text && q[-1] == ']') {
                const char *open = q - 1;
                while (open > text && *open != '[')
                    open--;
                stop = open;
            } else if (q - text >= 14 && !strncmp(q - 14, " (no interval)", 14))
                stop = q - 14;
        }
        const char *w = word_before(text, stop, word, sizeof word);
        double scale = 1;
        char *end;
        double v = strtod(word, &end);
        if (!strcmp(word, "measured")) continue;
        if (end == word || *end) { /* it was a unit: the number is the word before */
            if (!strcmp(word, "MiB")) scale = 1048576.0;
            if (!strcmp(word, "GiB")) scale = 1073741824.0;
            word_before(text, w, word, sizeof word);
            v = strtod(word, &end);
            if (end == word || *end) {
                fprintf(stderr, "  no number before [%d] (%s: %s): '%s'\n", ref, file, field, word);
                bad++;
                continue;
            }
        }
        json_t *root = json_load_file(file, 0, NULL);
        double want = json_number_value(jpath(root, field));
        json_decref(root);
        if (!(fabs(v * scale - want) <= 1e-3 * fabs(want) + 1e-9 * scale)) {
            fprintf(stderr, "  %s: %s = %g, text says %g\n", file, field, want, v * scale);
            bad++;
        }
        (*checked)++;
    }
    sources_free(&t);
    return bad;
}

static void test_markdown_numbers_match_json(void)
{
    const char *dirs[] = {SAMPLE};
    stt_report *r = NULL;
    char err[256];
    REQUIRE(stt_report_load(dirs, 1, &r, err, sizeof err) == 0);
    CHECK(stt_report_found(r) == 7);
    stt_report_params p = stt_report_default_params();
    char *md = render(r, &p, 0), *st = render(r, &p, 2);
    REQUIRE(md && st);
    int n = 0;
    CHECK(check_citations(md, 0, &n) == 0);
    CHECK(n > 50);
    CHECK(check_citations(st, 0, &n) == 0);
    CHECK(n > 5);
    /* provenance is out of the sentence: no "(FILE: PATH)" left in the text
     * (the sources table at the end may name a file and what was computed) */
    const char *inline_src = strstr(md, ".json: ");
    CHECK(!inline_src || inline_src > strstr(md, "## Sources"));
    CHECK(strstr(md, "## Sources") && strstr(st, "## Sources"));
    CHECK(strstr(md, "Executive summary") && strstr(md, "**1. Tested and stable?** Yes"));
    CHECK(strstr(md, "many cores"));
    CHECK(strstr(md, "How to reproduce"));
    CHECK(strstr(md, "Queueing model against measured load"));
    CHECK(strstr(md, "Horizontal scaling measured") &&
          strstr(md, "| replicas/replicas.json | cells[1].predicted.p95_s |") &&
          strstr(md, "cell(s) inside the band"));
    CHECK(strstr(st, "Decision matrix") && strstr(st, "sttd_queue_depth"));
    free(md);
    free(st);
    stt_report_free(r);
}

static void test_decisions(void)
{
    const char *dirs[] = {SAMPLE};
    stt_report *r = NULL;
    REQUIRE(stt_report_load(dirs, 1, &r, NULL, 0) == 0);
    stt_report_params p = stt_report_default_params();
    stt_report_decision d;
    stt_report_decide(r, &p, &d);
    CHECK(d.tested_stable);
    CHECK(d.tests_total == 40 && d.tests_failed == 0);
    /* quota costs 12% throughput in the sample (ratio 0.877): no CPU limit */
    CHECK(!d.cpu_limit);
    CHECK(d.best_cores >= 1);
    CHECK(d.hpa_cpu_percent >= 30 && d.hpa_cpu_percent <= 90);
    /* memory: at least the largest peak plus the margin */
    CHECK(d.memory_bytes >= 150000000 * 1.15);
    /* grace covers the slowest profile's single-piece fit at 600 s on the
     * pod's one core (0 + 0.1933 x 600 = 116 s), one running and one
     * queued, plus the preStop delay (10 s) and 5 s */
    CHECK(d.sttd_grace_s == (int)ceil(2 * (0 + 0.1933 * 600)));
    CHECK(d.grace_s == 10 + d.sttd_grace_s + 5);
    /* an objective the 1-core pods' short requests miss: 2-core pods */
    p.slo_p95_s = 2;
    stt_report_decide(r, &p, &d);
    CHECK(d.best_cores == 2);
    /* a reachable objective: the HPA target comes from the queueing model */
    p.slo_p95_s = 60;
    stt_report_decide(r, &p, &d);
    CHECK(strstr(d.hpa_basis, "model") != NULL);
    p.slo_p95_s = 2;
    stt_report_decide(r, &p, &d);
    /* a cheaper core changes the cost, not the measured shape list */
    double before = d.best_cost_per_audio_hour;
    p.price_core_hour = 0.02;
    stt_report_decide(r, &p, &d);
    CHECK(d.best_cost_per_audio_hour < before);
    stt_report_free(r);
}

static void test_missing_inputs(void)
{
    const char *tmp = test_tmpdir();
    char sub[512];
    snprintf(sub, sizeof sub, "%s/only_tests", tmp);
    mkdir(sub, 0755);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp %s/tests/test_results.json %s/", SAMPLE, sub);
    REQUIRE(system(cmd) == 0);
    const char *dirs[] = {sub};
    stt_report *r = NULL;
    REQUIRE(stt_report_load(dirs, 1, &r, NULL, 0) == 0);
    CHECK(stt_report_found(r) == 1);
    stt_report_params p = stt_report_default_params();
    char *md = render(r, &p, 0);
    REQUIRE(md);
    CHECK(strstr(md, "Missing: no cpu.json"));
    CHECK(strstr(md, "Missing: no load.json"));
    CHECK(strstr(md, "Missing: no audio.json"));
    CHECK(strstr(md, "cpu.json is missing"));
    stt_report_decision d;
    stt_report_decide(r, &p, &d);
    CHECK(d.best_cores == 0 && !d.has_cpu && isnan(d.memory_bytes));
    free(md);
    /* the plan needs audio.json */
    double dur = 10, w = 1;
    stt_mix mix = {&dur, &w, 1};
    char err[256] = "";
    FILE *f = fopen("/dev/null", "w");
    CHECK(stt_report_plan(r, &p, &mix, 1, 5, f, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "audio.json"));
    fclose(f);
    stt_report_free(r);
    const char *none[] = {"/nonexistent/results"};
    CHECK(stt_report_load(none, 1, &r, err, sizeof err) == STT_EIO);
}

/* Minimal structure check of YAML: "key:" at an indentation under a parent key. */
static int has_key(const char *y, const char *key)
{
    return strstr(y, key) != NULL;
}

static void test_k8s_yaml(void)
{
    const char *dirs[] = {SAMPLE};
    stt_report *r = NULL;
    REQUIRE(stt_report_load(dirs, 1, &r, NULL, 0) == 0);
    stt_report_params p = stt_report_default_params();
    const char *tmp = test_tmpdir();
    char pd[512], ps[512], ph[512];
    snprintf(pd, sizeof pd, "%s/deployment.yaml", tmp);
    snprintf(ps, sizeof ps, "%s/service.yaml", tmp);
    snprintf(ph, sizeof ph, "%s/hpa.yaml", tmp);
    FILE *d = fopen(pd, "w"), *s = fopen(ps, "w"), *h = fopen(ph, "w");
    REQUIRE(d && s && h);
    CHECK(stt_report_write_k8s(r, &p, d, s, h) == 0);
    fclose(d);
    fclose(s);
    fclose(h);
    char *y = test_read_file(pd, NULL);
    REQUIRE(y);
    CHECK(has_key(y, "kind: Deployment"));
    CHECK(has_key(y, "            requests:\n              cpu: \""));
    CHECK(has_key(y, "              memory: "));
    CHECK(has_key(y, "readinessProbe:") && has_key(y, "path: /ready"));
    CHECK(has_key(y, "livenessProbe:") && has_key(y, "path: /health"));
    CHECK(has_key(y, "startupProbe:"));
    CHECK(has_key(y, "terminationGracePeriodSeconds: "));
    /* every number-bearing line of resources says where it came from */
    for (char *line = strtok(y, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, "cpu: \"") || strstr(line, "memory: ") ||
            strstr(line, "GracePeriodSeconds"))
            CHECK(strchr(line, '#') != NULL);
    free(y);
    char *hy = test_read_file(ph, NULL);
    REQUIRE(hy);
    CHECK(has_key(hy, "kind: HorizontalPodAutoscaler") && has_key(hy, "averageUtilization: "));
    CHECK(has_key(hy, "sttd_queue_depth"));
    free(hy);
    /* a real YAML parser when one is at hand */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import yaml' 2>/dev/null || exit 0; python3 -c 'import sys,yaml\n"
             "for f in sys.argv[1:]:\n d=yaml.safe_load(open(f))\n assert d[\"kind\"]\n"
             "d=yaml.safe_load(open(sys.argv[1]))\nc=d[\"spec\"][\"template\"][\"spec\"]["
             "\"containers\"][0]\n"
             "assert c[\"resources\"][\"requests\"][\"cpu\"] and "
             "c[\"resources\"][\"requests\"][\"memory\"]\n"
             "assert c[\"readinessProbe\"][\"httpGet\"][\"path\"]==\"/ready\"' %s %s %s",
             pd, ps, ph);
    CHECK(system(cmd) == 0);
    stt_report_free(r);
}

static void test_html_tidy(void)
{
    const char *dirs[] = {SAMPLE};
    stt_report *r = NULL;
    REQUIRE(stt_report_load(dirs, 1, &r, NULL, 0) == 0);
    stt_report_params p = stt_report_default_params();
    char *html = render(r, &p, 1);
    REQUIRE(html);
    CHECK(strstr(html, "<!DOCTYPE html>") && strstr(html, "</html>"));
    int n = 0;
    CHECK(check_citations(html, 1, &n) == 0 && n > 50);
    /* each reference links to its row of the sources table */
    CHECK(strstr(html, "<tr id=\"src-1\">") && strstr(html, "href=\"#src-1\""));
    if (system("command -v tidy >/dev/null 2>&1") != 0) {
        fprintf(stderr, "  tidy not installed: HTML validity not checked\n");
    } else {
        char path[512], cmd[1200];
        snprintf(path, sizeof path, "%s/r.html", test_tmpdir());
        FILE *f = fopen(path, "w");
        REQUIRE(f);
        fputs(html, f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "tidy -q -e %s", path);
        CHECK(system(cmd) == 0);
    }
    free(html);
    stt_report_free(r);
}

/* The CPU-limit policy against the measured cost of a CFS quota: the sample's
 * cpu.json with its quota_vs_cpuset entry rewritten. */
static int decide_with_quota(double tput_ratio, double lat_ratio, stt_report_decision *d)
{
    char sub[512], cmd[1400];
    snprintf(sub, sizeof sub, "%s/quota_%g_%g", test_tmpdir(), tput_ratio, lat_ratio);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp -r %s/cpu %s/audio %s/load %s/", sub, SAMPLE,
             SAMPLE, SAMPLE, sub);
    if (system(cmd)) return -1;
    char path[700];
    snprintf(path, sizeof path, "%s/cpu/cpu.json", sub);
    json_t *j = json_load_file(path, 0, NULL);
    json_t *q = json_array_get(json_object_get(j, "quota_vs_cpuset"), 0);
    if (!q) return -1;
    json_object_set_new(q, "throughput_ratio", json_real(tput_ratio));
    json_object_set_new(q, "latency_ratio", json_real(lat_ratio));
    int rc = json_dump_file(j, path, 0);
    json_decref(j);
    const char *dirs[] = {sub};
    stt_report *r = NULL;
    if (rc || stt_report_load(dirs, 1, &r, NULL, 0)) return -1;
    stt_report_params p = stt_report_default_params();
    stt_report_decide(r, &p, d);
    stt_report_free(r);
    return 0;
}

/* A replicas.json that says it was skipped is reported as not measured, with the reason. */
static void test_replicas_skipped(void)
{
    char sub[512], path[600];
    snprintf(sub, sizeof sub, "%s/skipped/replicas", test_tmpdir());
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", sub);
    REQUIRE(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/replicas.json", sub);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("{\"tool\": \"sttbench replicas\", \"skipped\": \"needs root\"}\n", f);
    fclose(f);
    *strrchr(sub, '/') = 0;
    const char *dirs[] = {sub};
    stt_report *r = NULL;
    REQUIRE(stt_report_load(dirs, 1, &r, NULL, 0) == 0);
    stt_report_params p = stt_report_default_params();
    char *md = render(r, &p, 0);
    REQUIRE(md);
    CHECK(strstr(md, "Not measured on this machine: needs root"));
    free(md);
    stt_report_free(r);
}

static void test_cpu_limit_policy(void)
{
    stt_report_decision d;
    /* neither throughput nor latency suffers: limit = request */
    REQUIRE(decide_with_quota(1.0, 1.05, &d) == 0);
    CHECK(d.cpu_limit);
    CHECK(fabs(d.quota_latency_ratio - 1.05) < 1e-9);
    /* same throughput, but one long request 30% slower: no limit */
    REQUIRE(decide_with_quota(1.0, 1.30, &d) == 0);
    CHECK(!d.cpu_limit);
    /* throughput lost: no limit */
    REQUIRE(decide_with_quota(0.90, 1.0, &d) == 0);
    CHECK(!d.cpu_limit);
}

/* ---- the summary, How sure are we, the regression section: from files
 * written with the results schema ---- */

static void put_doc(json_t *d, const char *dir, const char *rel)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    CHECK(stt_results_write(d, path, NULL, 0) == 0);
    json_decref(d);
}

static char *render_dir(const char *dir, int which)
{
    const char *dirs[] = {dir};
    stt_report *r = NULL;
    if (stt_report_load(dirs, 1, &r, NULL, 0)) return NULL;
    stt_report_params p = stt_report_default_params();
    char *out = render(r, &p, which);
    stt_report_free(r);
    return out;
}

/* A cpu.json stating an established verdict on a metric, with an excluded point. */
static json_t *cpu_doc(const char *confidence)
{
    json_t *d = stt_results_new(STT_RESULTS_CPU, "cpu", NULL);
    double x[10];
    for (int i = 0; i < 10; i++)
        x[i] = 1.30 + 0.01 * i;
    stt_results_add_metric(d, "throughput_ratio/weak_over_strong", "x", 1, x, 10);
    json_object_set_new(d, "points",
                        json_pack("[{s:i, s:i, s:s}, {s:i, s:i}]", "cores", 2, "threads", 4,
                                  "excluded", "not saturated (0.81 of 2 CPUs used)", "cores", 1,
                                  "threads", 1));
    json_t *v =
        json_pack("{s:s, s:{s:s}, s:s}", "answer", "many weak cores", "figure", "metric",
                  "throughput_ratio/weak_over_strong", "settle", "a second machine with --compare");
    if (confidence) json_object_set_new(v, "confidence", json_string(confidence));
    json_object_set_new(d, "verdict", v);
    return d;
}

static json_t *tests_doc(const char *commit, const char *created, json_t *stability)
{
    json_t *d = stt_results_new(STT_RESULTS_TESTS, "tests", NULL);
    json_object_set_new(d, "commit", json_string(commit));
    json_object_set_new(d, "created", json_string(created));
    json_object_set_new(d, "ok", json_true());
    json_object_set_new(
        d, "totals",
        json_pack("{s:i, s:i, s:i, s:i}", "tests", 166, "passed", 166, "failed", 0, "skipped", 0));
    json_object_set_new(d, "coverage",
                        json_pack("{s:f, s:f}", "line_percent", 86.5, "threshold", 80.0));
    if (stability) json_object_set_new(d, "stability", stability);
    return d;
}

static void test_summary_reads_verdicts(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/verdicts", test_tmpdir());
    json_t *cpu = cpu_doc("established");
    json_object_set_new(cpu, "commit", json_string("1111111111111111111111111111111111111111"));
    json_object_set_new(cpu, "created", json_string("2026-12-01T10:00:00Z"));
    put_doc(cpu, dir, "cpu/cpu.json");
    /* tests on an older commit, stability measured with one flaky case */
    put_doc(tests_doc("2222222", "2026-11-30T10:00:00Z",
                      json_pack("{s:i, s:[s], s:[]}", "runs", 3, "flaky", "test_pool/drain",
                                "time_varying")),
            dir, "tests/test_results.json");
    char *md = render_dir(dir, 0);
    REQUIRE(md);
    /* the cpu verdict is quoted with its metric's interval and n */
    CHECK(strstr(md, "**2. Many weak cores or few strong ones?** many weak cores (*established*)"));
    CHECK(strstr(
        md, "Deciding figure: throughput_ratio/weak_over_strong = 1.345 x [1.31, 1.38], n=10 ["));
    CHECK(!strstr(md, "What would settle it: a second machine")); /* established */
    CHECK(strstr(md, "| metrics: throughput_ratio/weak_over_strong |"));
    /* tests: flaky is "No", the older commit is named */
    CHECK(strstr(md, "**1. Tested and stable?** No (*established*)"));
    CHECK(strstr(md, "1 case(s) changed outcome over 3 runs (flaky): test_pool/drain"));
    CHECK(strstr(md, "on commit 2222222, which is older than commit 111111111111"));
    CHECK(strstr(md, "No regression check was found"));
    /* How sure are we: the metric with n, the excluded point with its reason */
    CHECK(strstr(md, "## How sure are we"));
    CHECK(
        strstr(md, "| cpu/cpu.json|throughput_ratio/weak_over_strong|1.345 x [1.31, 1.38], n=10"));
    CHECK(strstr(md, "| cpu/cpu.json|cores=2, threads=4|points[0]|not saturated (0.81 of 2 CPUs "
                     "used)"));
    /* Machines measured reads the header */
    CHECK(strstr(md, "|cpu/cpu.json|") && strstr(md, "|111111111111|2026-12-01T10:00:00Z"));
    free(md);
    /* a verdict stated without a confidence is undetermined, said plainly */
    put_doc(cpu_doc(NULL), dir, "cpu/cpu.json");
    md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(strstr(md, "**2. Many weak cores or few strong ones?** *undetermined*. cpu.json answers "
                     "\"many weak cores\" but states no interval or confidence"));
    CHECK(strstr(md, "What would settle it: a second machine with --compare"));
    free(md);
    /* other names for the stability lists, objects in them */
    put_doc(tests_doc("2222222", "2026-11-30T10:00:00Z",
                      json_pack("{s:i, s:[], s:[{s:s, s:f}]}", "repeats", 3, "flaky_cases",
                                "time_varied_cases", "name", "test_pool/drain", "ratio", 4.2)),
            dir, "tests/test_results.json");
    md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(strstr(md, "no case changed outcome over 3 runs; 1 case(s) varied more than 3x in "
                     "time: test_pool/drain"));
    CHECK(strstr(md, "**1. Tested and stable?** Yes (*likely*)"));
    free(md);
    /* the HTML reference carries the file and field as its tooltip */
    char *html = render_dir(dir, 1);
    REQUIRE(html);
    CHECK(strstr(html, "title=\"cpu/cpu.json: metrics throughput_ratio/weak_over_strong\""));
    CHECK(strstr(html, "<span class=\"conf undetermined\">"));
    free(html);
}

/* The study's fast subset (a label, no coverage) passes as "likely", never
 * "No", and says it was a subset; an undetermined verdict naming no figure is
 * quoted with what it measured. */
static void test_summary_subset_and_undetermined(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/subset", test_tmpdir());
    json_t *t = tests_doc("3333333", "2026-12-01T10:00:00Z", NULL);
    json_object_del(t, "coverage");
    json_object_set_new(t, "config", json_pack("{s:s}", "label_filter", "unit"));
    put_doc(t, dir, "tests/test_results.json");
    json_t *cpu = stt_results_new(STT_RESULTS_CPU, "cpu", NULL);
    json_object_set_new(
        cpu, "verdict",
        json_pack("{s:s, s:s, s:[s, s], s:s}", "answer", "undetermined", "confidence",
                  "undetermined", "reasons",
                  "2 x 0.5 against 1 x 1.0: one short request undetermined (weak/strong 2.02, "
                  "1.91-2.69)",
                  "second reason", "to_confirm", "more rounds"));
    put_doc(cpu, dir, "cpu/cpu.json");
    char *md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(strstr(md, "**1. Tested and stable?** Yes (*likely*)"));
    CHECK(strstr(md, "tests (the subset labelled unit; the whole suite is"));
    CHECK(strstr(md, "coverage was not measured in this run"));
    CHECK(strstr(md, "*undetermined*. Measured: 2 x 0.5 against 1 x 1.0: one short request "
                     "undetermined (weak/strong 2.02, 1.91-2.69) ["));
    CHECK(strstr(md, "What would settle it: more rounds"));
    free(md);
}

/* The third answer is shapes.json's verdict when it states one; without it,
 * undetermined, with what one pod's scaling measured and its interval. */
static void test_summary_scale(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/scale", test_tmpdir());
    json_t *sh = json_load_file(STT_SOURCE_DIR "/tests/data/results/shapes/shapes.json", 0, NULL);
    REQUIRE(sh);
    stt_shape s[STT_SHAPES_MAX];
    int n = stt_shapes_read(sh, s, STT_SHAPES_MAX);
    stt_shapes_prices pr = {0.04, 0.005};
    stt_shapes_choice c;
    REQUIRE(n > 1 && stt_shapes_choose(s, n, &pr, 0, &c) == 0 && c.chosen >= 0);
    json_t *v = stt_shapes_verdict(s, n, &c, 0);
    REQUIRE(v);
    char answer[300];
    snprintf(answer, sizeof answer, "**3. When to scale up and when out?** %s (*%s*)",
             json_string_value(json_object_get(v, "answer")),
             json_string_value(json_object_get(v, "confidence")));
    json_object_set_new(sh, "verdict", v);
    put_doc(sh, dir, "shapes/shapes.json");
    char *md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(strstr(md, answer));
    CHECK(strstr(md, "Deciding figure: cost of "));
    CHECK(strstr(md, "The manifests and the strategy follow from it."));
    free(md);
    /* no shapes verdict: what one pod's cpuset scaling says, with its interval */
    snprintf(dir, sizeof dir, "%s/scale-cpu", test_tmpdir());
    json_t *cpu = stt_results_new(STT_RESULTS_CPU, "cpu", NULL);
    json_object_set_new(
        cpu, "analysis",
        json_pack("[{s:s, s:[{s:i, s:f, s:[f, f], s:i}, {s:i, s:f, s:[f, f], s:f, s:[f, f], "
                  "s:i}]}]",
                  "mode", "cpuset", "series", "cores", 1, "efficiency", 1.0, "efficiency_ci", 1.0,
                  1.0, "n", 5, "cores", 2, "efficiency", 0.93, "efficiency_ci", 0.91, 0.95,
                  "latency_speedup", 1.8, "latency_speedup_ci", 1.7, 1.9, "n", 5));
    put_doc(cpu, dir, "cpu/cpu.json");
    md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(strstr(md, "**3. When to scale up and when out?** *undetermined*. Measured in one pod: "
                     "at 2 ["));
    CHECK(strstr(md, "throughput scaling efficiency is 0.93 [0.91, 0.95], n=5 ["));
    CHECK(strstr(md, "runs 1.8 x [1.7, 1.9] ["));
    CHECK(strstr(md, "costs little throughput per core"));
    CHECK(strstr(md, "which states no verdict here"));
    free(md);
    /* the 2-core throughput left out: its long request, timed alone, still
     * gives the answer an interval, and the answer says what is missing */
    snprintf(dir, sizeof dir, "%s/scale-cpu-excluded", test_tmpdir());
    cpu = stt_results_new(STT_RESULTS_CPU, "cpu", NULL);
    json_object_set_new(
        cpu, "analysis",
        json_pack("[{s:s, s:[{s:i, s:f, s:[f, f], s:i}], s:[{s:i, s:s, s:f, s:[f, f]}]}]", "mode",
                  "cpuset", "series", "cores", 1, "efficiency", 1.0, "efficiency_ci", 1.0, 1.0, "n",
                  5, "excluded", "cores", 2, "reason",
                  "not saturated (the generator took the CPU) in 2 of 5 rounds: details",
                  "latency_speedup", 1.4, "latency_speedup_ci", 1.2, 1.6));
    put_doc(cpu, dir, "cpu/cpu.json");
    md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(strstr(md, "**3. When to scale up and when out?** *undetermined*. Measured in one pod: "
                     "at 2 ["));
    CHECK(strstr(md, "one long request runs 1.4 x [1.2, 1.6] ["));
    CHECK(strstr(md, "left out (not saturated (the generator took the CPU) in 2 of 5 rounds)"));
    CHECK(strstr(md, "throughput scaling efficiency") == NULL);
    free(md);
}

static void test_tested_established_with_regression(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/established", test_tmpdir());
    const char *commit = "3333333333333333333333333333333333333333";
    put_doc(tests_doc(commit, "2026-12-01T11:00:00Z",
                      json_pack("{s:i, s:[], s:[]}", "runs", 3, "flaky", "time_varying")),
            dir, "tests/test_results.json");
    json_t *cpu = cpu_doc("likely");
    json_object_set_new(cpu, "commit", json_string(commit));
    put_doc(cpu, dir, "cpu/cpu.json");
    /* a regression check of this commit against its parent, no change */
    json_t *a = stt_results_new(STT_RESULTS_COST, "cost", NULL), *b;
    double w[10], instr = 8.4e8;
    for (int i = 0; i < 10; i++)
        w[i] = 1 + 0.001 * i;
    stt_results_add_metric(a, "wall_s/clip", "s", 0, w, 10);
    stt_results_add_metric(a, "instructions_per_audio_s", "instructions", 0, &instr, 1);
    json_object_set_new(json_array_get(json_object_get(a, "metrics"), 1), "deterministic",
                        json_true());
    b = json_deep_copy(a);
    json_object_set_new(a, "commit", json_string("4444444"));
    json_object_set_new(b, "commit", json_string(commit));
    stt_compare_params cp = stt_compare_default_params();
    stt_compare_result *res = calloc(1, sizeof *res);
    REQUIRE(res);
    CHECK(stt_compare_docs(a, b, "cost", &cp, res, NULL, 0) == 0);
    json_decref(a);
    json_decref(b);
    put_doc(stt_compare_to_json(res, &cp), dir, "regression/regression.json");
    /* a history whose second run moved the instruction count */
    char hist[700];
    snprintf(hist, sizeof hist, "%s/regression/history.jsonl", dir);
    CHECK(stt_compare_history_append(res, hist, NULL, 0) == 0);
    FILE *f = fopen(hist, "a");
    REQUIRE(f);
    fputs("{\"created\": \"2026-12-01T12:00:00Z\", \"head\": \"5555555aaaa\", \"base\": "
          "\"3333333\", \"verdict\": \"regression\", \"metrics\": {\"instructions_per_audio_s\": "
          "{\"base\": 8.4e8, \"head\": 9.5e8, \"ratio\": 1.13, \"verdict\": \"worse\", \"gated\": "
          "true}}, \"accuracy\": {}}\nnot json\n",
          f);
    fclose(f);
    stt_compare_free(res);
    char *md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(strstr(md, "**1. Tested and stable?** Yes (*established*)"));
    CHECK(strstr(md, "Last regression check, commit 333333333333 against 4444444: no regression "
                     "(likely); instructions_per_audio_s, head/base = 1 x (exact count) ["));
    CHECK(strstr(md, "on commit 333333333333, the one the measurements describe"));
    CHECK(strstr(md, "**2. Many weak cores or few strong ones?** many weak cores (*likely*)"));
    CHECK(strstr(md, "What would settle it: a second machine with --compare"));
    /* the regression section: the changes and where a figure moved */
    CHECK(strstr(md, "## Regression check"));
    CHECK(strstr(md, "|instructions_per_audio_s|"));
    CHECK(strstr(md, "History (regression/history.jsonl): 2 run(s)"));
    CHECK(strstr(
        md, "| 5555555aaaa|3333333|2026-12-01|instructions_per_audio_s|8.4e+08|9.5e+08|worse"));
    free(md);
    /* the report draws the trend beside itself when gnuplot is there */
    const char *dirs[] = {dir};
    stt_report *r = NULL;
    REQUIRE(stt_report_load(dirs, 1, &r, NULL, 0) == 0);
    stt_report_params p = stt_report_default_params();
    char out[700], png[800], err[256];
    snprintf(out, sizeof out, "%s/docs", dir);
    REQUIRE(stt_results_mkdirs(out) == 0);
    CHECK(stt_report_draw_charts(r, &p, out, err, sizeof err) == 0);
    snprintf(png, sizeof png, "%s/regression_trend.dat", out);
    char *dat = test_read_file(png, NULL);
    CHECK(dat && strstr(dat, "0 3333333 1 1\n") && strstr(dat, "1 5555555 ? 1.13095\n"));
    free(dat);
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        snprintf(png, sizeof png, "%s/regression_trend.png", out);
        struct stat st;
        CHECK(stat(png, &st) == 0 && st.st_size > 1000);
        p.asset_dir = out;
        md = render(r, &p, 0);
        CHECK(md && strstr(md, "regression_trend.png"));
        free(md);
    }
    stt_report_free(r);
}

int main(void)
{
    TEST_RUN(test_markdown_numbers_match_json);
    TEST_RUN(test_decisions);
    TEST_RUN(test_missing_inputs);
    TEST_RUN(test_k8s_yaml);
    TEST_RUN(test_html_tidy);
    TEST_RUN(test_cpu_limit_policy);
    TEST_RUN(test_replicas_skipped);
    TEST_RUN(test_summary_reads_verdicts);
    TEST_RUN(test_tested_established_with_regression);
    TEST_RUN(test_summary_subset_and_undetermined);
    TEST_RUN(test_summary_scale);
    return test_summary();
}
