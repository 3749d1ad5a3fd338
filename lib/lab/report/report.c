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

const char *const rpt_kind_file[K_N] = {"test_results.json", "audio.json",   "load.json",
                                        "cpu.json",          "service.json", "replicas.json",
                                        "shapes.json"};
const char *const rpt_kind_cmd[K_N] = {
    "scripts/run_all_tests.sh",
    "scripts/benchmark_all_audio.sh (sttbench audio --corpus corpus --spawn --out results/audio)",
    "sttbench load --url URL --rate R1,R2,... --out results/load",
    "scripts/profile_cpu_scaling.sh (sttbench cpu)",
    "scripts/benchmark_service.sh (sttbench service)",
    "sttbench replicas --out results/replicas (as root; scripts/study.sh runs it)",
    "sttbench shapes --out results/shapes (as root; scripts/study.sh runs it)"};

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
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < K_N; k++)
            json_decref(r->m[i].k[k].j);
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
