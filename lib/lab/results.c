/* results: see results.h. */
#include "results.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "stats.h"

static const struct {
    const char *name, *file;
} kinds[STT_RESULTS_N] = {
    [STT_RESULTS_AUDIO] = {"audio", "audio.json"},
    [STT_RESULTS_LOAD] = {"load", "load.json"},
    [STT_RESULTS_CPU] = {"cpu", "cpu.json"},
    [STT_RESULTS_SERVICE] = {"service", "service.json"},
    [STT_RESULTS_REPLICAS] = {"replicas", "replicas.json"},
    [STT_RESULTS_TESTS] = {"tests", "test_results.json"},
    [STT_RESULTS_REGRESSION] = {"regression", "regression.json"},
    [STT_RESULTS_SHAPES] = {"shapes", "shapes.json"},
    [STT_RESULTS_COST] = {"cost", "cost.json"},
};

const char *stt_results_kind_name(stt_results_kind k)
{
    return (unsigned)k < STT_RESULTS_N ? kinds[k].name : NULL;
}

const char *stt_results_file_name(stt_results_kind k)
{
    return (unsigned)k < STT_RESULTS_N ? kinds[k].file : NULL;
}

int stt_results_kind_of(const char *name)
{
    for (int k = 0; name && k < STT_RESULTS_N; k++)
        if (!strcmp(name, kinds[k].name)) return k;
    return STT_ENOTFOUND;
}

json_t *stt_results_num(double v)
{
    return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

double stt_results_get_num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* First line of a fixed shell command's output; 0, or STT_EIO when it failed
 * or printed nothing. */
static int first_line(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    if (!p) return STT_EIO;
    char line[256] = "";
    int got = fgets(line, sizeof line, p) != NULL;
    int st = pclose(p);
    line[strcspn(line, "\r\n")] = 0;
    if (!got || st != 0 || !line[0]) return STT_EIO;
    snprintf(out, len, "%s", line);
    return 0;
}

static int commit_of(const char *dir, char *out, size_t len)
{
    if (strchr(dir, '\'')) return STT_EINVAL;
    char cmd[PATH_MAX + 128], id[64], dirty[16] = "";
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", dir);
    if (first_line(cmd, id, sizeof id)) return STT_ENOTFOUND;
    snprintf(cmd, sizeof cmd, "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null",
             dir);
    int is_dirty = first_line(cmd, dirty, sizeof dirty) == 0;
    snprintf(out, len, "%.40s%s", id, is_dirty ? "+dirty" : "");
    return 0;
}

void stt_results_commit(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        if (commit_of(exe, out, len) == 0) return;
    }
    if (commit_of(".", out, len) == 0) return;
    snprintf(out, len, "unknown");
}

json_t *stt_results_new(stt_results_kind kind, const char *command, json_t *config)
{
    if ((unsigned)kind >= STT_RESULTS_N) {
        json_decref(config);
        return NULL;
    }
    stt_sysinfo si;
    stt_sysinfo_get(&si);
    char schema[64], tool[128], created[40], commit[64];
    snprintf(schema, sizeof schema, "sttlab.%s/%d", kinds[kind].name, STT_RESULTS_VERSION);
    snprintf(tool, sizeof tool, "sttbench %s %s", command ? command : kinds[kind].name,
             STT_VERSION);
    stt_utc_now(created, sizeof created);
    stt_results_commit(commit, sizeof commit);
    json_t *machine =
        json_pack("{s:s, s:i, s:i, s:i, s:o, s:I, s:s, s:s}", "cpu_model", si.cpu_model,
                  "logical_cores", si.logical_cores, "cpus_allowed", si.cpus_allowed, "cpus_usable",
                  si.cpus_usable, "cpu_quota", stt_results_num(si.cpu_quota), "mem_total_bytes",
                  (json_int_t)si.mem_total, "kernel", si.kernel, "hostname", si.hostname);
    return json_pack("{s:s, s:s, s:s, s:o*, s:s, s:o}", "schema", schema, "tool", tool, "created",
                     created, "machine", machine, "commit", commit, "config",
                     config ? config : json_object());
}

static void copy_str(char *out, size_t len, const json_t *v, const char *dflt)
{
    const char *s = json_string_value(v);
    snprintf(out, len, "%s", s && *s ? s : dflt);
}

/* The first of the keys that obj has, or NULL. */
static const json_t *first_of(const json_t *obj, const char *a, const char *b, const char *c)
{
    const json_t *v = json_object_get(obj, a);
    if (!v && b) v = json_object_get(obj, b);
    if (!v && c) v = json_object_get(obj, c);
    return v;
}

/* Files from before the schema are recognised by their own fields. */
static int legacy_kind(const json_t *doc)
{
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    const char *tool = json_string_value(json_object_get(doc, "tool"));
    if (schema && !strncmp(schema, "sttlab.", 7)) {
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(schema + 7, "/."), schema + 7);
        if (!strcmp(name, "test_results")) return STT_RESULTS_TESTS;
        return stt_results_kind_of(name);
    }
    if (tool && !strncmp(tool, "sttbench ", 9)) {
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(tool + 9, " "), tool + 9);
        return stt_results_kind_of(name);
    }
    return STT_ENOTFOUND;
}

int stt_results_header_read(const json_t *doc, stt_results_header *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    if (!json_is_object(doc)) return stt_seterr(err, errlen, STT_EINVAL, "not a JSON object");
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    const char *slash = schema ? strrchr(schema, '/') : NULL;
    h->version = slash ? atoi(slash + 1) : 1;
    if (h->version < 1) h->version = 1;
    h->kind = legacy_kind(doc);
    copy_str(h->tool, sizeof h->tool, json_object_get(doc, "tool"), "unknown");
    copy_str(h->created, sizeof h->created, first_of(doc, "created", "created_utc", "date"), "");
    copy_str(h->commit, sizeof h->commit, first_of(doc, "commit", "git_commit", NULL), "unknown");
    h->config = json_object_get(doc, "config");
    const json_t *m = json_object_get(doc, "machine");
    stt_sysinfo *si = &h->machine;
    copy_str(si->cpu_model, sizeof si->cpu_model, json_object_get(m, "cpu_model"), "unknown");
    copy_str(si->kernel, sizeof si->kernel, json_object_get(m, "kernel"), "unknown");
    copy_str(si->hostname, sizeof si->hostname, json_object_get(m, "hostname"), "unknown");
    si->logical_cores = (int)json_integer_value(first_of(m, "logical_cores", "cores", NULL));
    si->cpus_allowed = (int)json_integer_value(json_object_get(m, "cpus_allowed"));
    if (!si->cpus_allowed) si->cpus_allowed = si->logical_cores;
    si->cpus_usable = (int)json_integer_value(json_object_get(m, "cpus_usable"));
    if (!si->cpus_usable) si->cpus_usable = si->cpus_allowed;
    double q = stt_results_get_num(m, "cpu_quota");
    si->cpu_quota = isfinite(q) ? q : 0;
    si->mem_total =
        (long long)json_integer_value(first_of(m, "mem_total_bytes", "memory_bytes", NULL));
    return 0;
}

int stt_results_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return STT_EIO;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return STT_EIO;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? STT_EIO : 0;
}

int stt_results_write(const json_t *doc, const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (stt_results_mkdirs(dir))
            return stt_seterr(err, errlen, STT_EIO, "cannot create %s: %s", dir, strerror(errno));
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))) {
        unlink(tmp);
        return stt_seterr(err, errlen, STT_EIO, "cannot write %s", path);
    }
    if (rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return stt_seterr(err, errlen, STT_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

json_t *stt_results_load(const char *path, int want, stt_results_header *h, char *err,
                         size_t errlen)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        stt_seterr(err, errlen, STT_EINVAL, "%s: %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    stt_results_header tmp;
    stt_results_header *hh = h ? h : &tmp;
    if (stt_results_header_read(doc, hh, err, errlen)) {
        json_decref(doc);
        return NULL;
    }
    if (want >= 0 && hh->kind != want) {
        stt_seterr(err, errlen, STT_EINVAL, "%s is a %s results file, not %s", path,
                   hh->kind >= 0 ? kinds[hh->kind].name : "unknown",
                   stt_results_kind_name((stt_results_kind)want) ? kinds[want].name : "?");
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* doc[key], created as an empty array when missing. */
static json_t *array_of(json_t *doc, const char *key)
{
    json_t *a = json_object_get(doc, key);
    if (json_is_array(a)) return a;
    a = json_array();
    if (!a || json_object_set_new(doc, key, a)) return NULL;
    return a;
}

int stt_results_add_metric(json_t *doc, const char *name, const char *unit, int higher_is_better,
                           const double *samples, size_t n)
{
    stt_summary s;
    if (!name || !*name || stt_stats_summarize(samples, n, 0.95, &s)) return STT_EINVAL;
    json_t *arr = array_of(doc, "metrics"), *xs = json_array();
    if (!arr || !xs) {
        json_decref(xs);
        return STT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (isfinite(samples[i])) json_array_append_new(xs, stt_results_num(samples[i]));
    json_t *m = json_pack("{s:s, s:s, s:s, s:I, s:o, s:[o, o], s:o, s:o}", "name", name, "unit",
                          unit ? unit : "", "better", higher_is_better ? "higher" : "lower", "n",
                          (json_int_t)s.n, "median", stt_results_num(s.median), "ci",
                          stt_results_num(s.median_ci.lo), stt_results_num(s.median_ci.hi),
                          "coverage", stt_results_num(s.median_ci.coverage), "samples", xs);
    if (!m || json_array_append_new(arr, m)) return STT_ENOMEM;
    return 0;
}

int stt_results_add_accuracy(json_t *doc, const char *name, const char *const *utterances,
                             const int *errors, const int *words, size_t n)
{
    if (!name || !*name || !n) return STT_EINVAL;
    json_t *arr = array_of(doc, "accuracy"), *u = json_array(), *e = json_array(),
           *w = json_array();
    if (!arr || !u || !e || !w) {
        json_decref(u);
        json_decref(e);
        json_decref(w);
        return STT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(u, json_string(utterances && utterances[i] ? utterances[i] : ""));
        json_array_append_new(e, json_integer(errors[i]));
        json_array_append_new(w, json_integer(words[i]));
    }
    json_t *a =
        json_pack("{s:s, s:o, s:o, s:o}", "name", name, "utterances", u, "errors", e, "words", w);
    if (!a || json_array_append_new(arr, a)) return STT_ENOMEM;
    return 0;
}

void stt_results_metrics_free(stt_results_metric *m, size_t nm, stt_results_accuracy *a, size_t na)
{
    for (size_t i = 0; m && i < nm; i++)
        free(m[i].samples);
    for (size_t i = 0; a && i < na; i++) {
        free(a[i].utterances);
        free(a[i].errors);
        free(a[i].words);
    }
    free(m);
    free(a);
}

static int read_metrics(const json_t *arr, stt_results_metric **out, size_t *nout, char *err,
                        size_t errlen)
{
    size_t n = json_array_size(arr);
    stt_results_metric *m = calloc(n ? n : 1, sizeof *m);
    if (!m) return STT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i), *xs = json_object_get(e, "samples");
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *better = json_string_value(json_object_get(e, "better"));
        if (!name || !json_is_array(xs)) {
            stt_results_metrics_free(m, i, NULL, 0);
            return stt_seterr(err, errlen, STT_EINVAL, "metrics[%zu]: no name or samples", i);
        }
        m[i].name = name;
        m[i].unit = json_string_value(json_object_get(e, "unit"));
        if (!m[i].unit) m[i].unit = "";
        m[i].higher_is_better = better && !strcmp(better, "higher");
        m[i].n = json_array_size(xs);
        m[i].samples = malloc((m[i].n ? m[i].n : 1) * sizeof *m[i].samples);
        if (!m[i].samples) {
            stt_results_metrics_free(m, i, NULL, 0);
            return STT_ENOMEM;
        }
        for (size_t k = 0; k < m[i].n; k++) {
            const json_t *v = json_array_get(xs, k);
            m[i].samples[k] = json_is_number(v) ? json_number_value(v) : NAN;
        }
    }
    *out = m;
    *nout = n;
    return 0;
}

static int read_accuracy(const json_t *arr, stt_results_accuracy **out, size_t *nout, char *err,
                         size_t errlen)
{
    size_t n = json_array_size(arr);
    stt_results_accuracy *a = calloc(n ? n : 1, sizeof *a);
    if (!a) return STT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i), *u = json_object_get(e, "utterances"),
                     *er = json_object_get(e, "errors"), *w = json_object_get(e, "words");
        const char *name = json_string_value(json_object_get(e, "name"));
        size_t k = json_array_size(er);
        if (!name || !json_is_array(er) || json_array_size(w) != k ||
            (u && json_array_size(u) != k)) {
            stt_results_metrics_free(NULL, 0, a, i);
            return stt_seterr(err, errlen, STT_EINVAL,
                              "accuracy[%zu]: no name, or errors and words of different lengths",
                              i);
        }
        a[i].name = name;
        a[i].n = k;
        a[i].utterances = calloc(k ? k : 1, sizeof *a[i].utterances);
        a[i].errors = malloc((k ? k : 1) * sizeof *a[i].errors);
        a[i].words = malloc((k ? k : 1) * sizeof *a[i].words);
        if (!a[i].utterances || !a[i].errors || !a[i].words) {
            stt_results_metrics_free(NULL, 0, a, i + 1);
            return STT_ENOMEM;
        }
        for (size_t j = 0; j < k; j++) {
            a[i].utterances[j] = json_string_value(json_array_get(u, j));
            if (!a[i].utterances[j]) a[i].utterances[j] = "";
            a[i].errors[j] = (int)json_integer_value(json_array_get(er, j));
            a[i].words[j] = (int)json_integer_value(json_array_get(w, j));
        }
    }
    *out = a;
    *nout = n;
    return 0;
}

int stt_results_metrics_read(const json_t *doc, stt_results_metric **metrics, size_t *nm,
                             stt_results_accuracy **acc, size_t *na, char *err, size_t errlen)
{
    if (metrics) {
        *metrics = NULL;
        *nm = 0;
        int rc = read_metrics(json_object_get(doc, "metrics"), metrics, nm, err, errlen);
        if (rc) return rc;
    }
    if (acc) {
        *acc = NULL;
        *na = 0;
        int rc = read_accuracy(json_object_get(doc, "accuracy"), acc, na, err, errlen);
        if (rc) {
            if (metrics) stt_results_metrics_free(*metrics, *nm, NULL, 0);
            if (metrics) *metrics = NULL, *nm = 0;
            return rc;
        }
    }
    return 0;
}
