/* report: loads the results files and reads figures out of them; the
 * decisions are in decide.c, the writers in document.c, strategy.c, k8s.c
 * and plan.c. */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "internal.h"

const char *const rpt_kind_file[K_N] = {"test_results.json", "audio.json",      "load.json",
                                        "cpu.json",          "service.json",    "replicas.json",
                                        "shapes.json",       "regression.json", "cost.json"};
const char *const rpt_kind_cmd[K_N] = {
    "scripts/run_all_tests.sh",
    "scripts/benchmark_all_audio.sh (sttbench audio --corpus corpus --spawn --out results/audio)",
    "sttbench load --url URL --rate R1,R2,... --out results/load",
    "scripts/profile_cpu_scaling.sh (sttbench cpu)",
    "scripts/benchmark_service.sh (sttbench service)",
    "sttbench replicas --out results/replicas (as root; scripts/study.sh runs it)",
    "sttbench shapes --out results/shapes (as root; scripts/study.sh runs it)",
    "scripts/check_regression.sh (sttbench cost, then sttbench compare)",
    "sttbench cost --sttd build/sttd --out results/cost"};

stt_report_params stt_report_default_params(void)
{
    stt_report_params p = {.price_core_hour = 0.04,
                           .price_gib_hour = 0.005,
                           .slo_p95_s = 0,
                           .memory_margin = 0.15,
                           .max_audio_s = 600,
                           .profile = "balanced",
                           .image = "sttlab/sttd:0.1.0",
                           .asset_dir = NULL};
    return p;
}

/* ---- loading ---- */

/* history.jsonl: one JSON object per line, appended by `sttbench compare
 * --history`; a line that does not parse is skipped (a run cut short may
 * leave half a line), the rest are kept in order. */
static int load_history(machine *mc, const char *full, const char *rel, char *err, size_t errlen)
{
    FILE *f = fopen(full, "r");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", full, strerror(errno));
    json_t *a = json_array();
    char *line = NULL;
    size_t cap = 0;
    while (a && getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (json_is_object(j))
            json_array_append_new(a, j);
        else
            json_decref(j);
    }
    free(line);
    fclose(f);
    if (!a) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    json_decref(mc->history);
    mc->history = a;
    snprintf(mc->history_label, sizeof mc->history_label, "%s", rel);
    return 0;
}

static int walk(machine *mc, const char *root, const char *rel, int depth, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) {
        if (depth == 0) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[PATH_MAX], full[PATH_MAX * 2];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st)) continue;
        if (S_ISDIR(st.st_mode)) {
            /* history/ holds earlier test reports, not this machine's current one */
            if (depth < 8 && strcmp(e->d_name, "history"))
                rc = walk(mc, root, sub, depth + 1, err, errlen);
            continue;
        }
        if (!strcmp(e->d_name, "history.jsonl")) {
            rc = load_history(mc, full, sub, err, errlen);
            continue;
        }
        for (int k = 0; k < K_N; k++) {
            if (strcmp(e->d_name, rpt_kind_file[k])) continue;
            src *s = &mc->k[k];
            if (s->j && s->mtime >= st.st_mtime) break; /* the newest one wins */
            json_error_t je;
            json_t *j = json_load_file(full, 0, &je);
            if (!j) {
                rc = stt_seterr(err, errlen, STT_EINVAL, "%s:%d: %s", full, je.line, je.text);
                break;
            }
            json_decref(s->j);
            s->j = j;
            s->mtime = st.st_mtime;
            s->kind = k;
            stt_results_header_read(j, &s->h, NULL, 0);
            snprintf(s->label, sizeof s->label, "%s", sub);
            snprintf(s->dir, sizeof s->dir, "%.4000s", full);
            char *slash = strrchr(s->dir, '/');
            if (slash) *slash = 0;
        }
    }
    closedir(d);
    return rc;
}

int stt_report_load(const char *const *dirs, int ndirs, stt_report **out, char *err, size_t errlen)
{
    if (!dirs || ndirs < 1 || !out)
        return stt_seterr(err, errlen, STT_EINVAL, "no results directory");
    stt_report *r = calloc(1, sizeof *r);
    if (!r || !(r->m = calloc((size_t)ndirs, sizeof *r->m))) {
        free(r);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    r->n = ndirs;
    for (int i = 0; i < ndirs; i++) {
        for (int k = 0; k < K_N; k++)
            r->m[i].k[k].kind = k;
        snprintf(r->m[i].in, sizeof r->m[i].in, "%s", dirs[i]);
        int rc = walk(&r->m[i], dirs[i], "", 0, err, errlen);
        if (rc) {
            stt_report_free(r);
            return rc;
        }
        if (ndirs > 1)
            for (int k = 0; k < K_N; k++) {
                if (!r->m[i].k[k].j) continue;
                char tmp[PATH_MAX];
                snprintf(tmp, sizeof tmp, "%s", r->m[i].k[k].label);
                snprintf(r->m[i].k[k].label, sizeof r->m[i].k[k].label, "%.2000s/%.2000s", dirs[i],
                         tmp);
            }
    }
    *out = r;
    return 0;
}

void stt_report_free(stt_report *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        for (int k = 0; k < K_N; k++)
            json_decref(r->m[i].k[k].j);
        json_decref(r->m[i].history);
    }
    free(r->m);
    free(r);
}

int stt_report_found(const stt_report *r)
{
    int n = 0;
    for (int i = 0; r && i < r->n; i++)
        for (int k = 0; k < K_N; k++)
            n += r->m[i].k[k].j != NULL;
    return n;
}

/* The first machine (in --in order) that has this kind of file. */
const src *rpt_primary(const stt_report *r, int k)
{
    for (int i = 0; i < r->n; i++)
        if (r->m[i].k[k].j) return &r->m[i].k[k];
    return NULL;
}

/* ---- JSON paths: "a.b[2].c" ---- */

json_t *rpt_jpath(json_t *j, const char *path)
{
    const char *p = path;
    while (j && *p) {
        if (*p == '.') p++;
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']') return NULL;
            j = json_array_get(j, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        j = json_object_get(j, key);
        p += n;
    }
    return j;
}

double rpt_jnumv(json_t *j)
{
    return json_is_number(j) ? json_number_value(j) : NAN;
}

double rpt_jnum_at(const src *s, const char *fmt, ...)
{
    if (!s) return NAN;
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return rpt_jnumv(rpt_jpath(s->j, path));
}

const char *rpt_jstr_at(const src *s, const char *path)
{
    json_t *j = s ? rpt_jpath(s->j, path) : NULL;
    return json_is_string(j) ? json_string_value(j) : NULL;
}

/* ---- verdicts the files state ---- */

static const char *const kind_question[K_N] = {
    [K_TESTS] = "tested", [K_CPU] = "cpu", [K_REGRESSION] = "regression"};

static int fill_verdict(const src *s, const json_t *v, const char *path, rpt_verdict *out)
{
    memset(out, 0, sizeof *out);
    out->s = s;
    out->v = v;
    snprintf(out->path, sizeof out->path, "%s", path);
    out->answer = json_string_value(json_object_get(v, "answer"));
    const char *c = json_string_value(json_object_get(v, "confidence"));
    out->confidence_stated =
        c && (!strcmp(c, "established") || !strcmp(c, "likely") || !strcmp(c, "undetermined"));
    out->confidence = out->confidence_stated ? c : "undetermined";
    out->settle = json_string_value(json_object_get(v, "settle"));
    if (!out->settle) out->settle = json_string_value(json_object_get(v, "to_confirm"));
    out->chart = json_string_value(json_object_get(v, "chart"));
    return 1;
}

int rpt_verdict_find(const stt_report *r, const char *question, rpt_verdict *out)
{
    for (int i = 0; r && question && i < r->n; i++)
        for (int k = 0; k < K_N; k++) {
            const src *s = &r->m[i].k[k];
            if (!s->j) continue;
            json_t *v = json_object_get(s->j, "verdict");
            const char *q = json_string_value(json_object_get(v, "question"));
            if (json_is_object(v) && !strcmp(q                  ? q
                                             : kind_question[k] ? kind_question[k]
                                                                : "",
                                             question))
                return fill_verdict(s, v, "verdict", out);
            json_t *vs = json_object_get(s->j, "verdicts");
            for (size_t n = 0; n < json_array_size(vs); n++) {
                json_t *e = json_array_get(vs, n);
                q = json_string_value(json_object_get(e, "question"));
                if (json_is_object(e) && q && !strcmp(q, question)) {
                    char path[32];
                    snprintf(path, sizeof path, "verdicts[%zu]", n);
                    return fill_verdict(s, e, path, out);
                }
            }
        }
    memset(out, 0, sizeof *out);
    out->confidence = "undetermined";
    return 0;
}

const char *rpt_described_commit(const stt_report *r, const char **created)
{
    const src *best = NULL;
    for (int i = 0; r && i < r->n; i++)
        for (int k = 0; k < K_N; k++) {
            const src *s = &r->m[i].k[k];
            if (!s->j || k == K_TESTS || !strcmp(s->h.commit, "unknown") || !s->h.commit[0])
                continue;
            if (!best || strcmp(s->h.created, best->h.created) > 0) best = s;
        }
    if (created) *created = best ? best->h.created : "";
    return best ? best->h.commit : "unknown";
}

int rpt_same_commit(const char *a, const char *b)
{
    if (!a || !b || !*a || !*b || !strcmp(a, "unknown") || !strcmp(b, "unknown")) return -1;
    size_t la = strcspn(a, "+"), lb = strcspn(b, "+");
    size_t n = la < lb ? la : lb;
    if (n < 7) return -1; /* too short to name a commit */
    return strncmp(a, b, n) == 0;
}
