/* mix: see mix.h. */
#include "mix.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpus.h"
#include "error.h"
#include "parse.h"

stt_mix_params stt_mix_default_params(void)
{
    stt_mix_params p = {0};
    p.weights = NULL;
    p.formats = NULL;
    p.max_duration_s = 0;
    p.require_durations = 1;
    return p;
}

void stt_mix_free(stt_mix *m)
{
    if (!m) return;
    free(m->duration_s);
    free(m->weight);
    memset(m, 0, sizeof *m);
}

void stt_mix_files_free(stt_mix_files *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) {
        if (f->path) free(f->path[i]);
        if (f->name) free(f->name[i]);
        if (f->format) free(f->format[i]);
    }
    free(f->path);
    free(f->name);
    free(f->format);
    memset(f, 0, sizeof *f);
}

/* A mix being read: the entries and their files side by side. */
typedef struct {
    stt_mix *m;
    stt_mix_files *f;
} builder;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Appends one entry (strings copied; path and format may be NULL). */
static int mix_add(builder *b, double dur, double w, const char *path, const char *name,
                   const char *format)
{
    stt_mix *m = b->m;
    stt_mix_files *f = b->f;
    size_t n = m->n + 1;
    double *x = realloc(m->duration_s, n * sizeof *x);
    if (!x) return STT_ENOMEM;
    m->duration_s = x;
    double *y = realloc(m->weight, n * sizeof *y);
    if (!y) return STT_ENOMEM;
    m->weight = y;
    char **p = realloc(f->path, n * sizeof *p);
    if (!p) return STT_ENOMEM;
    f->path = p;
    char **q = realloc(f->name, n * sizeof *q);
    if (!q) return STT_ENOMEM;
    f->name = q;
    char **r = realloc(f->format, n * sizeof *r);
    if (!r) return STT_ENOMEM;
    f->format = r;
    m->duration_s[m->n] = dur;
    m->weight[m->n] = w;
    f->path[f->n] = dup_or_null(path);
    f->name[f->n] = dup_or_null(name);
    f->format[f->n] = dup_or_null(format);
    m->n++;
    f->n++;
    if ((path && !f->path[f->n - 1]) || (name && !f->name[f->n - 1]) ||
        (format && !f->format[f->n - 1]))
        return STT_ENOMEM;
    return 0;
}

/* The corpus folder when path names a corpus manifest (the folder itself,
 * DIR/manifest, DIR/manifest.json or DIR/manifest.tsv with manifest.json
 * beside it) into dir; 0 when it does not. */
static int corpus_dir_of(const char *path, char *dir, size_t len)
{
    struct stat st;
    char buf[PATH_MAX + 32];
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, sizeof buf, "%s/manifest.json", path);
        if (access(buf, R_OK)) return 0;
        snprintf(dir, len, "%s", path);
        return 1;
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strcmp(base, "manifest") && strcmp(base, "manifest.json") && strcmp(base, "manifest.tsv"))
        return 0;
    if (slash)
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, len, ".");
    snprintf(buf, sizeof buf, "%s/manifest.json", dir);
    if (access(buf, R_OK)) return 0;
    /* A manifest.json that is not a corpus manifest (an array) is read as JSON below. */
    json_t *j = json_load_file(buf, 0, NULL);
    int is_corpus = json_is_array(j);
    json_decref(j);
    return is_corpus;
}

/* 1 when name is one of the comma-separated items of list (NULL: all). */
static int in_list(const char *list, const char *name)
{
    if (!list) return 1;
    if (!name) return 0;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, name, n)) return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

/* Checks the FILE=W,... list: every item well formed, every FILE in the
 * manifest. */
static int check_weights(const char *weights, const stt_corpus_entry *e, size_t ne, const char *dir,
                         char *err, size_t errlen)
{
    for (const char *p = weights; p && *p;) {
        size_t k = strcspn(p, ",");
        const char *eq = memchr(p, '=', k);
        if (!eq || eq == p || (size_t)(eq - p) + 1 == k)
            return stt_seterr(err, errlen, STT_EINVAL,
                              "--mix-weights takes FILE=WEIGHT,...: '%.*s'", (int)k, p);
        char num[64];
        size_t vl = k - (size_t)(eq + 1 - p);
        double w;
        if (vl >= sizeof num)
            return stt_seterr(err, errlen, STT_EINVAL, "--mix-weights: weight too long");
        memcpy(num, eq + 1, vl);
        num[vl] = 0;
        if (stt_parse_double(num, 0, 1e9, &w))
            return stt_seterr(err, errlen, STT_EINVAL,
                              "--mix-weights: '%s' is not a weight >= 0 (in '%.*s')", num, (int)k,
                              p);
        size_t nl = (size_t)(eq - p);
        int found = 0;
        for (size_t i = 0; i < ne && !found; i++)
            found = strlen(e[i].file) == nl && !strncmp(e[i].file, p, nl);
        if (!found)
            return stt_seterr(err, errlen, STT_EINVAL,
                              "--mix-weights: %.*s is not in %s/manifest.json", (int)nl, p, dir);
        p += k + (p[k] == ',');
    }
    return 0;
}

/* The weight the (checked) list gives file; 1 when not named. */
static double named_weight(const char *weights, const char *file)
{
    size_t n = strlen(file);
    for (const char *p = weights; p && *p;) {
        size_t k = strcspn(p, ",");
        const char *eq = memchr(p, '=', k);
        if (eq && (size_t)(eq - p) == n && !strncmp(p, file, n)) return strtod(eq + 1, NULL);
        p += k + (p[k] == ',');
    }
    return 1;
}

static int read_corpus(const char *dir, const stt_mix_params *p, builder *m, char *err,
                       size_t errlen)
{
    stt_corpus_entry *e = NULL;
    size_t ne = 0;
    int rc = stt_corpus_load_manifest(dir, &e, &ne, err, errlen);
    if (rc) return rc;
    rc = check_weights(p->weights, e, ne, dir, err, errlen);
    if (p->formats && !rc) {
        /* A format no file has is a typo, not an empty selection. */
        for (const char *q = p->formats; *q && !rc;) {
            size_t k = strcspn(q, ",");
            int found = 0;
            for (size_t i = 0; i < ne && !found; i++)
                found = e[i].format && strlen(e[i].format) == k && !strncmp(e[i].format, q, k);
            if (!found)
                rc = stt_seterr(err, errlen, STT_EINVAL,
                                "--mix-formats: no file of %s/manifest.json is in format '%.*s'",
                                dir, (int)k, q);
            q += k + (q[k] == ',');
        }
    }
    for (size_t i = 0; i < ne && !rc; i++) {
        double w = named_weight(p->weights, e[i].file);
        if (w == 0 || !in_list(p->formats, e[i].format) ||
            (p->max_duration_s > 0 && e[i].duration_s > p->max_duration_s))
            continue;
        char full[PATH_MAX * 2];
        snprintf(full, sizeof full, "%s/%s", dir, e[i].file);
        rc = mix_add(m, e[i].duration_s, w, full, e[i].file, e[i].format);
    }
    stt_corpus_free_entries(e, ne);
    if (!rc && m->m->n == 0)
        rc = stt_seterr(err, errlen, STT_EINVAL, "no file of %s/manifest.json is selected", dir);
    return rc;
}

/* An audio.json: its results' files, each once. */
static int read_audio_json(const char *path, const json_t *j, builder *m, char *err, size_t errlen)
{
    json_t *arr = json_object_get(j, "results");
    int rc = 0;
    for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        const char *f = json_string_value(json_object_get(e, "file"));
        const char *set = json_string_value(json_object_get(e, "set"));
        double dur = json_number_value(json_object_get(e, "duration_s"));
        /* The single clips (set "clips") are measured to fit the fixed cost
         * per request; they are not part of the traffic. */
        if (set && !strcmp(set, "clips")) continue;
        if (!f || !(dur > 0) || stt_mix_find(m->f, f) >= 0) continue;
        const char *dot = strrchr(f, '.');
        rc = mix_add(m, dur, 1.0, NULL, f, dot ? dot + 1 : NULL);
    }
    if (!rc && m->m->n == 0)
        rc = stt_seterr(err, errlen, STT_EINVAL, "%s: no audio durations in the mix", path);
    return rc;
}

static double file_duration(const char *path)
{
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) return -1;
    sf_close(sf);
    return info.samplerate > 0 ? (double)info.frames / info.samplerate : -1;
}

/* A "PATH [WEIGHT]" list. */
static int read_list(const char *path, const stt_mix_params *p, builder *m, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    char line[PATH_MAX + 128];
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line + strspn(line, " \t\r\n");
        if (*s == '#' || *s == '\0') continue;
        char name[PATH_MAX], wtext[64] = "", extra[8] = "";
        int k = sscanf(s, "%4095s %63s %7s", name, wtext, extra);
        double w = 1;
        if (k == 3 || (k == 2 && stt_parse_double(wtext, 0, 1e9, &w))) {
            rc = stt_seterr(err, errlen, STT_EINVAL,
                            "%s:%d: expected 'PATH [WEIGHT]' with a weight >= 0", path, lineno);
            break;
        }
        if (w == 0) continue;
        char full[PATH_MAX * 2 + 2];
        snprintf(full, sizeof full, "%s%s%s", name[0] == '/' ? "" : dir, name[0] == '/' ? "" : "/",
                 name);
        double dur = file_duration(full);
        if (dur < 0) {
            if (access(full, R_OK)) {
                rc = stt_seterr(err, errlen, STT_EIO, "%s:%d: cannot read %s: %s", path, lineno,
                                full, strerror(errno));
                break;
            }
            if (p->require_durations) {
                rc = stt_seterr(err, errlen, STT_EAUDIO, "%s:%d: %s: %s", path, lineno, full,
                                sf_strerror(NULL));
                break;
            }
            dur = 0;
        }
        const char *dot = strrchr(name, '.');
        rc = mix_add(m, dur, w, full, name, dot && !strchr(dot, '/') ? dot + 1 : NULL);
    }
    fclose(f);
    if (!rc && m->m->n == 0) rc = stt_seterr(err, errlen, STT_EINVAL, "%s lists no audio", path);
    return rc;
}

int stt_mix_read(const char *path, const stt_mix_params *params, stt_mix *mix, stt_mix_files *files,
                 char *err, size_t errlen)
{
    stt_mix_files own = {0};
    memset(mix, 0, sizeof *mix);
    if (files) memset(files, 0, sizeof *files);
    builder bld = {mix, files ? files : &own}, *m = &bld;
    stt_mix_params p = params ? *params : stt_mix_default_params();
    if (!path) return stt_seterr(err, errlen, STT_EINVAL, "no mix file");
    if (p.formats && !*p.formats) p.formats = NULL;
    if (p.weights && !*p.weights) p.weights = NULL;
    int selecting = p.weights || p.formats || p.max_duration_s > 0;
    char dir[PATH_MAX];
    int rc;
    if (corpus_dir_of(path, dir, sizeof dir)) {
        rc = read_corpus(dir, &p, m, err, errlen);
    } else if (selecting) {
        rc = stt_seterr(err, errlen, STT_EINVAL,
                        "%s is not a corpus manifest: --mix-weights, --mix-formats and "
                        "--mix-max-duration select files of a corpus manifest only",
                        path);
    } else {
        json_t *j = json_load_file(path, 0, NULL);
        if (json_is_object(j) && json_is_array(json_object_get(j, "results")))
            rc = read_audio_json(path, j, m, err, errlen);
        else if (j)
            rc = stt_seterr(err, errlen, STT_EINVAL,
                            "%s: JSON that is neither a corpus manifest nor an audio.json", path);
        else
            rc = read_list(path, &p, m, err, errlen);
        json_decref(j);
    }
    stt_mix_files_free(&own);
    if (rc) {
        stt_mix_free(mix);
        stt_mix_files_free(files);
    }
    return rc;
}

int stt_mix_load(const char *path, stt_mix *m, char *err, size_t errlen)
{
    return stt_mix_read(path, NULL, m, NULL, err, errlen);
}

int stt_mix_find(const stt_mix_files *m, const char *name)
{
    if (!m || !m->name || !name) return -1;
    for (size_t i = 0; i < m->n; i++) {
        const char *e = m->name[i];
        if (!e) continue;
        const char *slash = strrchr(e, '/');
        if (!strcmp(e, name) || (slash && !strcmp(slash + 1, name))) return (int)i;
    }
    return -1;
}

int stt_mix_nearest(const stt_mix *m, double duration_s)
{
    int best = -1;
    for (size_t i = 0; i < m->n; i++)
        if (best < 0 ||
            fabs(m->duration_s[i] - duration_s) < fabs(m->duration_s[best] - duration_s))
            best = (int)i;
    return best;
}

double stt_mix_total_weight(const stt_mix *m)
{
    double s = 0;
    for (size_t i = 0; i < m->n; i++)
        s += m->weight[i];
    return s;
}
