/* sweep_output and the report's load sections: what a sweep and a search
 * write (load.json with n, intervals, decisions and comparable metrics;
 * load_report.md; the terminal table), and that `sttbench report` shows it
 * with n and intervals, every cited number matching load.json. Synthetic
 * runs from a stand-in step runner. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "queueing.h"
#include "report.h"
#include "results.h"
#include "sweep_output.h"
#include "testlib.h"

/* A server of `workers` workers of service time 0.45..0.55 s. Closed loop:
 * c requests in flight; open loop: latencies spread so their p95 is the
 * M/G/1 model's (a server the model describes exactly). */
static double svc[200];

static void synth(stt_load_result *r, size_t n, double tput, double lo, double hi, double ramp)
{
    memset(r, 0, sizeof *r);
    r->samples = calloc(n, sizeof *r->samples);
    r->nsamples = r->completed = r->sent = r->ok = n;
    r->elapsed_s = (double)n / tput;
    r->ok_rps = r->rps = tput;
    r->audio_s_per_s = 7.7 * tput;
    r->nwindows = 5;
    for (size_t i = 0; i < n; i++) {
        double u = (double)((i * 7919) % n) / (double)n;
        r->samples[i].latency_s = (float)(lo + (hi - lo) * u);
        r->samples[i].outcome = STT_LOAD_OK;
        r->samples[i].done_s = (float)(r->elapsed_s * (double)i / (double)n);
    }
    for (int w = 0; w < 5; w++) {
        r->window_ok_rps[w] = r->window_rps[w] = tput * (1 + ramp * w);
        r->window_p95_s[w] = hi;
        r->window_n[w] = n / 5;
    }
    r->stable = stt_stats_stable(r->window_ok_rps, 5, 3, 0.10);
    r->stability_judged = 1;
}

/* The concurrency whose runs hold too few answers per window to judge; 0: none. */
static int unjudged_c;

static int run(void *arg, const stt_load_params *p, const stt_load_step *s, stt_load_result *out,
               char *err, size_t errlen)
{
    (void)arg, (void)p, (void)err, (void)errlen;
    if (s->mode == STT_LOAD_CLOSED) {
        int c = s->concurrency, busy = c < 2 ? c : 2;
        double tput = busy / 0.5, k = (double)c / busy;
        /* c=8 never settles */
        synth(out, s->requests > 0 ? (size_t)s->requests : 150, tput, 0.45 * k, 0.55 * k,
              c == 8 ? 0.2 : 0);
        if (c == unjudged_c) out->stable = out->stability_judged = 0;
        return 0;
    }
    stt_mgc_params q = stt_mgc_default_params();
    q.servers = 2;
    q.lambda = s->rate;
    q.service_s = svc;
    q.n = 200;
    stt_mgc_result mr;
    stt_mgc_eval(&q, &mr, NULL, 0);
    double p95 = mr.stable ? mr.t_q : 100;
    /* evenly spread from 0.45 s up to where 95% lie below the model's p95 */
    double hi = 0.45 + (p95 - 0.45) / 0.95;
    synth(out, (size_t)s->requests, s->rate, 0.45, hi, 0);
    return 0;
}

static json_t *make_doc(stt_sweep *sw, stt_maxrate *mr)
{
    for (int i = 0; i < 200; i++)
        svc[i] = 0.45 + 0.1 * ((i * 7919) % 200) / 200.0;
    static stt_load_params lp;
    lp = stt_load_default_params();
    stt_sweep_params p = stt_sweep_default_params();
    const double v[] = {1, 2, 4, 8};
    memcpy(p.values, v, sizeof v);
    p.nvalues = 4;
    p.requests = 150;
    p.repeats = 2;
    p.max_extend = 1;
    p.load = &lp;
    p.run = run;
    char err[256];
    if (stt_sweep_run(&p, sw, err, sizeof err)) return NULL;
    if (stt_sweep_check_model(sw, 2, 1, err, sizeof err)) return NULL;
    stt_maxrate_params m = stt_maxrate_default_params();
    m.m = p;
    m.m.arrival = STT_ARRIVAL_POISSON;
    m.slo_p95_s = 2;
    m.min_requests = 200;
    m.max_probes = 8;
    if (stt_maxrate_search(&m, mr, err, sizeof err)) return NULL;
    if (stt_maxrate_check_model(mr, &sw->service, 2, 1, err, sizeof err)) return NULL;
    return stt_sweep_json(sw, mr, json_pack("{s:s, s:i}", "url", "http://x", "server_workers", 2));
}

static json_t *metric(json_t *doc, const char *name)
{
    json_t *ms = json_object_get(doc, "metrics");
    for (size_t i = 0; i < json_array_size(ms); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(ms, i), "name")), name))
            return json_array_get(ms, i);
    return NULL;
}

static void test_load_json(void)
{
    stt_sweep sw;
    stt_maxrate mr;
    json_t *doc = make_doc(&sw, &mr);
    REQUIRE(doc);
    CHECK_STR_EQ(json_string_value(json_object_get(doc, "schema")), "sttlab.load/2");
    CHECK(json_is_true(json_object_get(doc, "latency_includes_failures")));
    json_t *steps = json_object_get(doc, "steps");
    REQUIRE(json_array_size(steps) == 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *s = json_array_get(steps, i);
        CHECK(json_integer_value(json_object_get(s, "n")) >= 300);
        CHECK(json_integer_value(json_object_get(s, "repeats")) == 2);
        CHECK(json_integer_value(json_object_get(json_object_get(s, "throughput"), "n")) == 10);
        CHECK(json_is_array(json_object_get(json_object_get(s, "throughput"), "ci")));
        json_t *lat = json_object_get(s, "latency_s");
        CHECK(json_is_true(json_object_get(lat, "includes_failures")));
        CHECK(json_is_number(json_object_get(lat, "p99"))); /* n >= 300 */
        CHECK(json_is_null(json_object_get(lat, "p99_9"))); /* needs 1000 */
        CHECK(json_array_size(json_object_get(s, "runs")) == 2);
    }
    CHECK(json_is_false(json_object_get(json_array_get(steps, 3), "stable")));
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(steps, 3), "stability")),
                 "unstable");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(steps, 0), "stability")),
                 "stable");
    /* the rounds, each a permutation */
    CHECK(json_array_size(json_object_get(doc, "order")) == 2);
    /* decisions */
    json_t *knee = json_object_get(doc, "knee");
    REQUIRE(json_is_object(knee));
    CHECK(json_integer_value(json_object_get(knee, "index")) == 1);
    CHECK(json_is_false(json_object_get(knee, "capacity"))); /* a closed loop's knee */
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(doc, "knee_state"), "state")),
                 "found");
    CHECK(json_integer_value(json_object_get(json_object_get(doc, "advice"), "workers")) == 2);
    json_t *st = json_object_get(doc, "service_time_s");
    CHECK(json_integer_value(json_object_get(st, "n")) == 300);
    CHECK(json_number_value(json_object_get(st, "median")) > 0.45 &&
          json_number_value(json_object_get(st, "median")) < 0.55);
    json_t *m = json_object_get(doc, "max_rate");
    REQUIRE(json_is_object(m));
    double rate = json_number_value(json_object_get(m, "rate_rps"));
    CHECK(rate > 0);
    CHECK(json_number_value(json_array_get(json_object_get(m, "bracket_rps"), 0)) == rate);
    CHECK(json_number_value(json_array_get(json_object_get(json_object_get(m, "p95_s"), "ci"), 1)) <
          2);
    CHECK(json_integer_value(json_object_get(json_object_get(m, "p95_s"), "n")) == 600);
    json_t *pr = json_object_get(m, "probes");
    CHECK(json_array_size(pr) >= 2);
    CHECK(json_array_size(json_object_get(json_array_get(pr, 0), "runs")) == 3);
    CHECK(
        json_is_integer(json_object_get(json_object_get(json_array_get(pr, 0), "errors"), "503")));
    /* The model describes the stand-in: below rho 0.9 a checked probe agrees
     * or is undetermined, never outside; where the model saturates but the
     * run looked steady, it is outside. */
    json_t *mc = json_object_get(json_object_get(m, "model_check"), "points");
    int within = 0;
    for (size_t i = 0; i < json_array_size(mc); i++) {
        json_t *c = json_array_get(mc, i);
        const char *v = json_string_value(json_object_get(c, "verdict"));
        within += !strcmp(v, "within");
        double rho = json_number_value(json_object_get(c, "rho"));
        if (!json_is_true(json_object_get(c, "model_stable")))
            CHECK(!strcmp(v, "outside"));
        else if (rho < 0.9) /* nearer saturation the model's tail is too steep to agree */
            CHECK(strcmp(v, "outside"));
    }
    CHECK(within >= 1);
    /* comparable figures: stable steps only, with their samples */
    json_t *t1 = metric(doc, "load/c=1/throughput_rps");
    REQUIRE(t1);
    CHECK(json_integer_value(json_object_get(t1, "n")) == 10);
    CHECK_STR_EQ(json_string_value(json_object_get(t1, "better")), "higher");
    CHECK(metric(doc, "load/c=2/p95_s") != NULL);
    CHECK(metric(doc, "load/c=8/throughput_rps") == NULL);
    CHECK(metric(doc, "load/service_time_s") != NULL);
    CHECK(metric(doc, "load/max_rate_rps") != NULL);

    /* the text forms */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    stt_sweep_print(&sw, f);
    stt_maxrate_print(&mr, f);
    stt_sweep_write_markdown(&sw, &mr, "Load test", 0, f);
    fclose(f);
    CHECK(strstr(buf, "UNSTABLE") && strstr(buf, "**no**"));
    CHECK(strstr(buf, "excluded from every decision"));
    CHECK(strstr(buf, "Knee at c=2"));
    CHECK(strstr(buf, "--workers 2 --queue 2"));
    CHECK(strstr(buf, "Highest rate meeting p95 <= 2 s"));
    CHECK(strstr(buf, "failed requests included"));
    CHECK(strstr(buf, "Model check"));
    free(buf);
    json_decref(doc);
    stt_sweep_free(&sw);
    stt_maxrate_free(&mr);
}

/* The field of load/load.json that reference N of the report's sources
 * table ("| N | load/load.json | FIELD |") names, into key; 0 when none. */
static int source_field(const char *md, int ref, char *key, size_t n)
{
    const char *t = strstr(md, "## Sources");
    char row[64];
    snprintf(row, sizeof row, "\n| %d | load/load.json | ", ref);
    const char *r = t ? strstr(t, row) : NULL;
    if (!r) return 0;
    r += strlen(row);
    snprintf(key, n, "%.*s", (int)(strcspn(r, "|") - 1), r);
    return 1;
}

/* The reference number the report gives FIELD of load/load.json, or 0. */
static int ref_of(const char *md, const char *field)
{
    char key[256];
    for (int ref = 1; ref < 4096; ref++)
        if (source_field(md, ref, key, sizeof key) && !strcmp(key, field)) return ref;
    return 0;
}

/* Whether the text from `from` to the sources table cites FIELD of load.json. */
static int cites(const char *md, const char *from, const char *field)
{
    char mark[32];
    snprintf(mark, sizeof mark, " [%d]", ref_of(md, field));
    const char *hit = strstr(from, mark), *end = strstr(md, "## Sources");
    return ref_of(md, field) && hit && (!end || hit < end);
}

/* Every "NUMBER UNIT [N]" of the section from `from` to the next section, N
 * a row of load/load.json in the sources table, is the number at that field. */
static int check_citations(const char *md, const char *from, json_t *doc, int *checked)
{
    int bad = 0;
    const char *stop = strstr(from + 1, "\n## ");
    for (const char *p = strstr(from, " ["); p && (!stop || p < stop); p = strstr(p + 1, " [")) {
        char key[256];
        if (!source_field(md, atoi(p + 2), key, sizeof key)) continue;
        /* the number before the reference, or before the unit before it */
        double v = NAN;
        const char *q = p;
        for (int tries = 0; tries < 2 && isnan(v); tries++) {
            while (q > md && q[-1] == ' ')
                q--;
            const char *w = q;
            while (w > md && !strchr(" |(", w[-1]))
                w--;
            char tok[64], *e;
            snprintf(tok, sizeof tok, "%.*s", (int)(q - w), w);
            double x = strtod(tok, &e);
            if (e != tok && *e == 0) v = x;
            q = w;
        }
        if (p - md >= 12 && !strncmp(p - 12, "not measured", 12)) continue;
        json_t *j = doc;
        for (const char *k = key; j && *k;) {
            if (*k == '.') k++;
            if (*k == '[') {
                j = json_array_get(j, strtoul(k + 1, (char **)&k, 10));
                k++;
                continue;
            }
            size_t n = strcspn(k, ".[");
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)n, k);
            j = json_object_get(j, name);
            k += n;
        }
        double want = json_number_value(j);
        if (!j || fabs(v - want) > 1e-3 * fabs(want) + 1e-9) {
            fprintf(stderr, "  %s = %g, report says %g\n", key, want, v);
            bad++;
        }
        (*checked)++;
    }
    return bad;
}

/* A step whose runs held too few answers per window is not called unstable:
 * it says so, and stays out of the decisions like an unstable one. */
static void test_unjudged_step(void)
{
    unjudged_c = 4;
    stt_sweep sw;
    stt_maxrate mr;
    json_t *doc = make_doc(&sw, &mr);
    unjudged_c = 0;
    REQUIRE(doc);
    json_t *s4 = json_array_get(json_object_get(doc, "steps"), 2);
    CHECK(json_number_value(json_object_get(s4, "offered")) == 4);
    CHECK(json_is_false(json_object_get(s4, "stable")));
    CHECK_STR_EQ(json_string_value(json_object_get(s4, "stability")),
                 "too few per window to judge");
    CHECK(json_is_false(
        json_object_get(json_array_get(json_object_get(s4, "runs"), 0), "stability_judged")));
    CHECK(metric(doc, "load/c=4/throughput_rps") == NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    stt_sweep_write_markdown(&sw, &mr, "Load test", 0, f);
    stt_sweep_print(&sw, f);
    fclose(f);
    CHECK(strstr(buf, "| **too few per window to judge** |"));
    CHECK(strstr(buf, "TOO-FEW"));
    CHECK(strstr(buf, "each an equal count of answers, timed"));
    free(buf);
    json_decref(doc);
    stt_sweep_free(&sw);
    stt_maxrate_free(&mr);
}

static void test_report_sections(void)
{
    stt_sweep sw;
    stt_maxrate mr;
    json_t *doc = make_doc(&sw, &mr);
    REQUIRE(doc);
    char dir[600], path[700], err[256];
    snprintf(dir, sizeof dir, "%s/results", test_tmpdir());
    snprintf(path, sizeof path, "%s/load/load.json", dir);
    REQUIRE(stt_results_write(doc, path, err, sizeof err) == 0);
    stt_report *r = NULL;
    const char *dirs[] = {dir};
    REQUIRE(stt_report_load(dirs, 1, &r, err, sizeof err) == 0);
    stt_report_params p = stt_report_default_params();
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    REQUIRE(stt_report_write_md(r, &p, f) == 0);
    fclose(f);
    const char *load = strstr(md, "## Load: throughput and latency");
    REQUIRE(load);
    CHECK(strstr(load, "include failed requests"));
    CHECK(strstr(load, "no: excluded from decisions"));
    CHECK(strstr(load, "n too small") == NULL || strstr(load, "n too small (n = "));
    CHECK(strstr(load, "95% interval"));
    CHECK(cites(md, load, "steps[0].n"));
    CHECK(strstr(load, "Service time with one request in flight"));
    char slo[64];
    snprintf(slo, sizeof slo, "Highest rate meeting p95 <= 2 s [%d]",
             ref_of(md, "max_rate.slo_p95_s"));
    CHECK(strstr(load, slo));
    CHECK(cites(md, load, "max_rate.p95_s.ci[1]"));
    CHECK(cites(md, load, "max_rate.p95_s.n"));
    const char *val = strstr(md, "## Queueing model against measured load");
    REQUIRE(val);
    CHECK(strstr(val, "max_rate.model_check.points[0].measured_p95_s"));
    int n = 0;
    CHECK(check_citations(md, load, doc, &n) == 0);
    CHECK(n > 40);
    free(md);
    stt_report_free(r);
    json_decref(doc);
    stt_sweep_free(&sw);
    stt_maxrate_free(&mr);
}

int main(void)
{
    TEST_RUN(test_load_json);
    TEST_RUN(test_unjudged_step);
    TEST_RUN(test_report_sections);
    return test_summary();
}
