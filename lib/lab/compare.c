/* compare: see compare.h. The statistics come from stats.h; what is here is
 * the verdict rule, the pairing of figures and utterances, and the checks
 * that two files measured the same thing. */
#include "compare.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

stt_compare_params stt_compare_default_params(void)
{
    stt_compare_params p = {.threshold = 0.05,
                            .alpha = 0.05,
                            .level = 0.95,
                            .resamples = 2000,
                            .seed = 1,
                            .allow_different = 0,
                            .gate = STT_COMPARE_GATE_ALL};
    return p;
}

const char *stt_compare_verdict_name(int verdict)
{
    return verdict == STT_COMPARE_WORSE ? "worse" : verdict == STT_COMPARE_BETTER ? "better" : "~";
}

const char *stt_compare_answer(const stt_compare_result *r)
{
    if (!r || (!r->nmetrics && !r->nacc)) return "undetermined";
    return r->regressions ? "regression" : "no regression";
}

/* ---- the statistics ---- */

/* +1 when the change goes up, -1 down, into a verdict for the metric's direction. */
static int direction_verdict(int up, int higher_is_better)
{
    return (up > 0) == (higher_is_better != 0) ? STT_COMPARE_BETTER : STT_COMPARE_WORSE;
}

int stt_compare_samples(const double *a, size_t na, const double *b, size_t nb,
                        int higher_is_better, int deterministic, const stt_compare_params *p,
                        stt_compare_metric *out)
{
    if (stt_stats_summarize(a, na, p->level, &out->base) ||
        stt_stats_summarize(b, nb, p->level, &out->head))
        return STT_EINVAL;
    out->higher_is_better = higher_is_better;
    out->deterministic = deterministic;
    out->p = NAN;
    out->verdict = STT_COMPARE_SAME;
    out->why = "";
    out->ratio = out->base.median != 0 ? out->head.median / out->base.median : NAN;
    out->ratio_ci = (stt_interval){NAN, NAN, NAN};
    double hi = 1 + p->threshold, lo = 1 - p->threshold;
    if (deterministic) {
        /* An exact count: the ratio is the change, no test is needed. */
        out->test = "exact count";
        out->ratio_ci = (stt_interval){out->ratio, out->ratio, 1};
        if (!isfinite(out->ratio))
            out->why = "ratio undefined (base is 0)";
        else if (out->ratio > hi || (p->threshold == 0 && out->ratio > 1))
            out->verdict = direction_verdict(1, higher_is_better);
        else if (out->ratio < lo || (p->threshold == 0 && out->ratio < 1))
            out->verdict = direction_verdict(-1, higher_is_better);
        else
            out->why = "within the margin";
        return 0;
    }
    if (out->base.n < 2 || out->head.n < 2) {
        out->test = "none: n < 2";
        out->why = "n too small for a test";
        return 0;
    }
    out->test = "Mann-Whitney U";
    double u;
    if (stt_stats_mann_whitney(a, na, b, nb, &u, &out->p)) return STT_EINVAL;
    double ratio;
    if (stt_stats_ratio_ci(a, na, b, nb, p->level, p->resamples, p->seed, &ratio, &out->ratio_ci)) {
        out->why = "ratio undefined (a median <= 0)";
        return 0;
    }
    out->ratio = ratio;
    if (out->p > p->alpha) {
        out->why = "p > alpha";
        return 0;
    }
    if (stt_stats_side(&out->ratio_ci, hi) == STT_ABOVE)
        out->verdict = direction_verdict(1, higher_is_better);
    else if (stt_stats_side(&out->ratio_ci, lo) == STT_BELOW)
        out->verdict = direction_verdict(-1, higher_is_better);
    else if (out->ratio_ci.lo >= lo && out->ratio_ci.hi <= hi)
        out->why = "within the margin";
    else
        out->why = "interval includes the margin";
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int stt_compare_paired_wer(const int *ea, const int *eb, const int *w, size_t n,
                           const stt_compare_params *p, stt_compare_accuracy *out)
{
    if (!n || !ea || !eb || !w) return STT_EINVAL;
    long words = 0, sa = 0, sb = 0;
    double *d = malloc(n * sizeof *d);
    int R = p->resamples < 200 ? 200 : p->resamples;
    double *boot = malloc((size_t)R * sizeof *boot);
    if (!d || !boot) {
        free(d);
        free(boot);
        return STT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        words += w[i];
        sa += ea[i];
        sb += eb[i];
        d[i] = (double)eb[i] - (double)ea[i];
    }
    if (words <= 0) {
        free(d);
        free(boot);
        return STT_EINVAL;
    }
    out->utterances = n;
    out->words = words;
    out->base_errors = sa;
    out->head_errors = sb;
    out->base_wer = (double)sa / (double)words;
    out->head_wer = (double)sb / (double)words;
    out->diff = out->head_wer - out->base_wer;
    stt_stats_sign_test(d, n, &out->p, &out->worse, &out->better);
    /* Paired bootstrap (utterances resampled with their pair, as sc_stats'
     * resampling does): the interval of the corpus WER difference. */
    uint64_t state = p->seed;
    for (int r = 0; r < R; r++) {
        long ww = 0, xa = 0, xb = 0;
        for (size_t k = 0; k < n; k++) {
            size_t i = (size_t)(stt_stats_uniform(&state) * (double)n);
            if (i >= n) i = n - 1;
            ww += w[i];
            xa += ea[i];
            xb += eb[i];
        }
        boot[r] = ww > 0 ? ((double)xb - (double)xa) / (double)ww : 0;
    }
    qsort(boot, (size_t)R, sizeof *boot, cmp_double);
    double tail = (1 - p->level) / 2;
    out->diff_ci.lo = stt_stats_quantile(boot, (size_t)R, tail);
    out->diff_ci.hi = stt_stats_quantile(boot, (size_t)R, 1 - tail);
    out->diff_ci.coverage = p->level;
    free(d);
    free(boot);
    out->verdict = STT_COMPARE_SAME;
    out->why = "";
    if (!(out->p <= p->alpha))
        out->why = "p > alpha";
    else if (out->diff_ci.lo > 0)
        out->verdict = STT_COMPARE_WORSE;
    else if (out->diff_ci.hi < 0)
        out->verdict = STT_COMPARE_BETTER;
    else
        out->why = "interval includes 0";
    return 0;
}

/* ---- what differs between the two sides ---- */

static void add_line(char (*lines)[320], int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_line(char (*lines)[320], int *n, const char *fmt, ...)
{
    if (*n >= STT_COMPARE_MAX_NOTES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lines[(*n)++], 320, fmt, ap);
    va_end(ap);
}

/* Config keys that name where a run read or wrote, or which build it ran,
 * not what it measured: they may differ between two comparable runs. */
static const char *const run_identity_keys[] = {"out",       "in",     "label", "sttd", "sttbench",
                                                "build_dir", "commit", "url",   "log",  NULL};

static int is_identity_key(const char *k)
{
    for (const char *const *i = run_identity_keys; *i; i++)
        if (!strcmp(*i, k)) return 1;
    return 0;
}

static void dump_short(const json_t *v, char *b, size_t n)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(b, n, "%.100s%s", s ? s : "absent", s && strlen(s) > 100 ? "..." : "");
    free(s);
}

static void diff_config(const json_t *a, const json_t *b, const char *label, stt_compare_result *r)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        if (is_identity_key(k)) continue;
        json_t *w = json_object_get(b, k);
        if (w && json_equal(v, w)) continue;
        char x[128], y[128];
        dump_short(v, x, sizeof x);
        dump_short(w, y, sizeof y);
        add_line(r->differences, &r->ndiff, "%s: config.%s: %s in base, %s in head", label, k, x,
                 y);
    }
    json_object_foreach((json_t *)b, k, v)
    {
        if (is_identity_key(k) || json_object_get(a, k)) continue;
        char y[128];
        dump_short(v, y, sizeof y);
        add_line(r->differences, &r->ndiff, "%s: config.%s: absent in base, %s in head", label, k,
                 y);
    }
}

static void diff_machines(const stt_sysinfo *a, const stt_sysinfo *b, const char *label,
                          stt_compare_result *r)
{
    if (strcmp(a->cpu_model, b->cpu_model))
        add_line(r->differences, &r->ndiff, "%s: machine.cpu_model: '%s' in base, '%s' in head",
                 label, a->cpu_model, b->cpu_model);
    if (a->logical_cores != b->logical_cores)
        add_line(r->differences, &r->ndiff, "%s: machine.logical_cores: %d in base, %d in head",
                 label, a->logical_cores, b->logical_cores);
    if (a->cpus_usable != b->cpus_usable)
        add_line(r->differences, &r->ndiff, "%s: machine.cpus_usable: %d in base, %d in head",
                 label, a->cpus_usable, b->cpus_usable);
    if (fabs(a->cpu_quota - b->cpu_quota) > 1e-9)
        add_line(r->differences, &r->ndiff, "%s: machine.cpu_quota: %g in base, %g in head", label,
                 a->cpu_quota, b->cpu_quota);
    /* memory as the kernel reports it moves by a few MB between boots */
    double ma = (double)a->mem_total, mb = (double)b->mem_total;
    if (ma > 0 && mb > 0 && fabs(ma - mb) > 0.1 * fmax(ma, mb))
        add_line(r->differences, &r->ndiff,
                 "%s: machine.mem_total_bytes: %.0f in base, %.0f in head", label, ma, mb);
}

/* ---- pairing the figures ---- */

static void *grow(void *p, size_t n, size_t size)
{
    return realloc(p, (n + 1) * size);
}

static int add_metric(stt_compare_result *r, const char *label, const stt_results_metric *a,
                      const stt_results_metric *b, int deterministic, const stt_compare_params *p)
{
    stt_compare_metric *m = grow(r->metrics, r->nmetrics, sizeof *m);
    if (!m) return STT_ENOMEM;
    r->metrics = m;
    m = &r->metrics[r->nmetrics];
    memset(m, 0, sizeof *m);
    snprintf(m->file, sizeof m->file, "%s", label);
    snprintf(m->name, sizeof m->name, "%s", a->name);
    snprintf(m->unit, sizeof m->unit, "%s", a->unit);
    if (stt_compare_samples(a->samples, a->n, b->samples, b->n, a->higher_is_better, deterministic,
                            p, m)) {
        add_line(r->notes, &r->nnotes, "%s: %s has no finite sample on one side", label, a->name);
        return 0;
    }
    m->gated = p->gate == STT_COMPARE_GATE_ALL || deterministic;
    if (m->verdict == STT_COMPARE_WORSE && m->gated) r->regressions++;
    if (m->verdict == STT_COMPARE_BETTER) r->improvements++;
    r->nmetrics++;
    return 0;
}

static const char *utterance_of(const stt_results_accuracy *a, size_t i)
{
    return a->utterances && a->utterances[i] ? a->utterances[i] : "";
}

static int add_accuracy(stt_compare_result *r, const char *label, const stt_results_accuracy *a,
                        const stt_results_accuracy *b, const stt_compare_params *p)
{
    size_t n = a->n;
    int *ea = malloc((n ? n : 1) * sizeof *ea), *eb = malloc((n ? n : 1) * sizeof *eb),
        *w = malloc((n ? n : 1) * sizeof *w);
    if (!ea || !eb || !w) {
        free(ea);
        free(eb);
        free(w);
        return STT_ENOMEM;
    }
    /* pair by utterance id; files without ids pair by position */
    size_t k = 0, unpaired = 0, mismatched = 0;
    for (size_t i = 0; i < a->n; i++) {
        const char *id = utterance_of(a, i);
        size_t j = b->n;
        if (*id) {
            for (j = 0; j < b->n && strcmp(id, utterance_of(b, j)); j++)
                ;
        } else if (a->n == b->n) {
            j = i;
        }
        if (j >= b->n) {
            unpaired++;
            continue;
        }
        if (a->words[i] != b->words[j]) { /* not the same reference */
            mismatched++;
            continue;
        }
        ea[k] = a->errors[i];
        eb[k] = b->errors[j];
        w[k++] = a->words[i];
    }
    size_t paired = k + mismatched;
    unpaired = (a->n - paired) + (b->n > paired ? b->n - paired : 0);
    if (mismatched)
        add_line(r->notes, &r->nnotes,
                 "%s: %s: %zu utterance(s) have different reference lengths in base and head "
                 "(left out)",
                 label, a->name, mismatched);
    stt_compare_accuracy *c = grow(r->acc, r->nacc, sizeof *c);
    int rc = 0;
    if (!c) {
        rc = STT_ENOMEM;
    } else {
        r->acc = c;
        c = &r->acc[r->nacc];
        memset(c, 0, sizeof *c);
        snprintf(c->file, sizeof c->file, "%s", label);
        snprintf(c->name, sizeof c->name, "%s", a->name);
        if (k == 0 || stt_compare_paired_wer(ea, eb, w, k, p, c)) {
            add_line(r->notes, &r->nnotes, "%s: %s: no utterance in common with words to score",
                     label, a->name);
        } else {
            c->unpaired = unpaired;
            c->gated = 1; /* word errors of a fixed input are as exact as a count */
            if (c->verdict == STT_COMPARE_WORSE) r->regressions++;
            if (c->verdict == STT_COMPARE_BETTER) r->improvements++;
            r->nacc++;
        }
    }
    free(ea);
    free(eb);
    free(w);
    return rc;
}

int stt_compare_docs(const json_t *base, const json_t *head, const char *label,
                     const stt_compare_params *p, stt_compare_result *res, char *err, size_t errlen)
{
    stt_results_header ha, hb;
    if (stt_results_header_read(base, &ha, err, errlen) ||
        stt_results_header_read(head, &hb, err, errlen))
        return STT_EINVAL;
    if (ha.kind != hb.kind)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "%s: base is a %s results file and head a %s one: only files of the "
                          "same kind compare",
                          label, stt_results_kind_name(ha.kind) ?: "unknown",
                          stt_results_kind_name(hb.kind) ?: "unknown");
    if (!res->pairs++) {
        res->base_h = ha;
        res->head_h = hb;
        res->base_h.config = res->head_h.config = NULL;
    }
    res->gate = p->gate;
    int before = res->ndiff;
    diff_machines(&ha.machine, &hb.machine, label, res);
    if (ha.config && hb.config) diff_config(ha.config, hb.config, label, res);
    if (res->ndiff > before && !p->allow_different) {
        char what[2048] = "";
        size_t used = 0;
        for (int i = before; i < res->ndiff && used + 3 < sizeof what; i++)
            used += (size_t)snprintf(what + used, sizeof what - used, "%s%s",
                                     i > before ? "; " : "", res->differences[i]);
        return stt_seterr(err, errlen, STT_EINVAL,
                          "not the same machine or configuration: %s. Pass "
                          "--allow-different-machines to compare anyway",
                          what);
    }
    stt_results_metric *ma = NULL, *mb = NULL;
    stt_results_accuracy *aa = NULL, *ab = NULL;
    size_t nma = 0, nmb = 0, naa = 0, nab = 0;
    int rc = stt_results_metrics_read(base, &ma, &nma, &aa, &naa, err, errlen);
    if (!rc) rc = stt_results_metrics_read(head, &mb, &nmb, &ab, &nab, err, errlen);
    const json_t *jm = json_object_get(base, "metrics"), *jh = json_object_get(head, "metrics");
    for (size_t i = 0; !rc && i < nma; i++) {
        size_t j = 0;
        while (j < nmb && strcmp(ma[i].name, mb[j].name))
            j++;
        if (j == nmb) {
            add_line(res->notes, &res->nnotes, "%s: %s is in base only", label, ma[i].name);
            continue;
        }
        int det = json_is_true(json_object_get(json_array_get(jm, i), "deterministic")) &&
                  json_is_true(json_object_get(json_array_get(jh, j), "deterministic"));
        rc = add_metric(res, label, &ma[i], &mb[j], det, p);
    }
    for (size_t j = 0; !rc && j < nmb; j++) {
        size_t i = 0;
        while (i < nma && strcmp(ma[i].name, mb[j].name))
            i++;
        if (i == nma)
            add_line(res->notes, &res->nnotes, "%s: %s is in head only", label, mb[j].name);
    }
    for (size_t i = 0; !rc && i < naa; i++) {
        size_t j = 0;
        while (j < nab && strcmp(aa[i].name, ab[j].name))
            j++;
        if (j == nab)
            add_line(res->notes, &res->nnotes, "%s: accuracy %s is in base only", label,
                     aa[i].name);
        else
            rc = add_accuracy(res, label, &aa[i], &ab[j], p);
    }
    if (!rc && !nma && !naa)
        add_line(res->notes, &res->nnotes,
                 "%s: no comparable figures (no \"metrics\" or \"accuracy\" block: written "
                 "before the results schema had them)",
                 label);
    stt_results_metrics_free(ma, nma, aa, naa);
    stt_results_metrics_free(mb, nmb, ab, nab);
    return rc;
}

/* ---- files and folders ---- */

/* The newest file called name under dir (depth <= 8, history/ skipped). */
static void find_newest(const char *dir, const char *name, int depth, char *best, size_t n,
                        time_t *mtime)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%.3000s/%.1000s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st)) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 8 && strcmp(e->d_name, "history"))
                find_newest(path, name, depth + 1, best, n, mtime);
        } else if (!strcmp(e->d_name, name) && (!best[0] || st.st_mtime > *mtime)) {
            snprintf(best, n, "%s", path);
            *mtime = st.st_mtime;
        }
    }
    closedir(d);
}

static int compare_files(const char *a, const char *b, const char *label,
                         const stt_compare_params *p, stt_compare_result *r, char *err,
                         size_t errlen)
{
    json_t *ja = stt_results_load(a, -1, NULL, err, errlen);
    if (!ja) return STT_EIO;
    json_t *jb = stt_results_load(b, -1, NULL, err, errlen);
    if (!jb) {
        json_decref(ja);
        return STT_EIO;
    }
    stt_results_header h;
    stt_results_header_read(ja, &h, NULL, 0);
    char kind[64];
    snprintf(kind, sizeof kind, "%s", label ? label : stt_results_kind_name(h.kind) ?: "results");
    int rc = stt_compare_docs(ja, jb, kind, p, r, err, errlen);
    json_decref(ja);
    json_decref(jb);
    return rc;
}

int stt_compare_paths(const char *base, const char *head, const stt_compare_params *p,
                      stt_compare_result **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat sa, sb;
    if (stat(base, &sa)) return stt_seterr(err, errlen, STT_EIO, "%s: %s", base, strerror(errno));
    if (stat(head, &sb)) return stt_seterr(err, errlen, STT_EIO, "%s: %s", head, strerror(errno));
    if (S_ISDIR(sa.st_mode) != S_ISDIR(sb.st_mode))
        return stt_seterr(err, errlen, STT_EINVAL,
                          "compare two results files or two results folders, not one of each");
    stt_compare_result *r = calloc(1, sizeof *r);
    if (!r) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    snprintf(r->base_path, sizeof r->base_path, "%s", base);
    snprintf(r->head_path, sizeof r->head_path, "%s", head);
    r->kind = -1;
    r->gate = p->gate;
    int rc = 0;
    if (!S_ISDIR(sa.st_mode)) {
        rc = compare_files(base, head, NULL, p, r, err, errlen);
        r->kind = r->base_h.kind;
    } else {
        int pairs = 0;
        for (int k = 0; !rc && k < STT_RESULTS_N; k++) {
            const char *name = stt_results_file_name((stt_results_kind)k);
            char fa[PATH_MAX] = "", fb[PATH_MAX] = "";
            time_t ta = 0, tb = 0;
            find_newest(base, name, 0, fa, sizeof fa, &ta);
            find_newest(head, name, 0, fb, sizeof fb, &tb);
            if (fa[0] && fb[0]) {
                rc = compare_files(fa, fb, stt_results_kind_name((stt_results_kind)k), p, r, err,
                                   errlen);
                pairs++;
            } else if (fa[0] || fb[0]) {
                add_line(r->notes, &r->nnotes, "%s: only in %s", name, fa[0] ? "base" : "head");
            }
        }
        if (!rc && !pairs)
            rc = stt_seterr(err, errlen, STT_EINVAL,
                            "no results file of the same kind in %s and %s", base, head);
    }
    if (rc) {
        stt_compare_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void stt_compare_free(stt_compare_result *r)
{
    if (!r) return;
    free(r->metrics);
    free(r->acc);
    free(r);
}
