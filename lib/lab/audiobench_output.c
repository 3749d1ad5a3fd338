/* audiobench_output: audio.json (docs/AUDIO_BENCH.md), audio_report.md and
 * the gnuplot charts of an audio benchmark. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audiobench_internal.h"
#include "chart.h"
#include "error.h"
#include "results.h"

static json_t *num(double v)
{
    return stt_results_num(v);
}

/* A summary with its samples: {n, median, ci, coverage, min, max, samples}. */
static json_t *summary_json(const stt_summary *s, const double *v, int n)
{
    json_t *xs = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(xs, num(v[i]));
    return json_pack("{s:i, s:o, s:[o, o], s:o, s:o, s:o, s:o}", "n", (int)s->n, "median",
                     num(s->median), "ci", num(s->median_ci.lo), num(s->median_ci.hi), "coverage",
                     num(s->median_ci.coverage), "min", num(s->min), "max", num(s->max), "samples",
                     xs);
}

static json_t *config_json(const stt_audiobench *b)
{
    const stt_audiobench_params *p = &b->p;
    json_t *profiles = json_array();
    for (int i = 0; i < b->nprofiles; i++)
        json_array_append_new(profiles, json_string(b->profile[i]));
    return json_pack("{s:s, s:s, s:s, s:f, s:o, s:i, s:b, s:f, s:b, s:b, s:s, s:i, s:i, s:i, "
                     "s:i, s:s, s:I}",
                     "corpus", p->corpus, "url", b->url, "api", p->api, "max_duration_s",
                     p->max_duration_s, "profiles", profiles, "repeat", p->repeat, "quick",
                     p->quick, "quick_max_s", p->quick_max_s, "spawn", p->spawn, "warmup",
                     p->warmup, "server_command", b->server_command, "server_pid", p->server_pid,
                     "workers", p->workers, "threads", p->threads, "memory_sample_ms", p->sample_ms,
                     "order", "each round shuffled (seed below)", "seed", (json_int_t)p->seed);
}

static json_t *result_json(const stt_audiobench *b, const ab_result *r)
{
    const stt_audiobench_result *v = &r->v;
    const stt_corpus_entry *e = b->files[r->file];
    double rtf = v->process_s.median / v->duration_s;
    json_t *o = json_pack(
        "{s:s, s:s, s:f, s:I, s:s, s:i, s:i, s:b, s:s, s:i, s:i, s:i, s:I, s:o, s:o, s:o}", "file",
        e->file, "format", e->format, "duration_s", e->duration_s, "bytes", (json_int_t)e->bytes,
        "profile", v->profile, "sample_rate", e->sample_rate, "channels", e->channels,
        "reference_format", v->reference_format, "process_time_source",
        r->process_from_server ? "X-Process-Time-Ms" : "client wall time", "n", v->n, "n_ok",
        v->n_ok, "pieces", v->pieces, "http_status", (json_int_t)r->http_status, "wall_s",
        summary_json(&v->wall_s, r->wall, r->n_ok), "process_s",
        summary_json(&v->process_s, r->process, r->n_ok), "queue_s",
        summary_json(&v->queue_s, r->queue, r->n_ok));
    /* The clip set is there for the one-piece fit; a reader that takes
     * audio.json's files as a traffic mix can leave it out by this. */
    json_object_set_new(
        o, "set",
        json_string(strncmp(e->file, STT_CORPUS_CLIPS_DIR "/", sizeof STT_CORPUS_CLIPS_DIR)
                        ? "main"
                        : "clips"));
    json_object_set_new(o, "rtf", num(rtf));
    json_object_set_new(o, "rtfx", num(1 / rtf));
    json_object_set_new(o, "wer",
                        json_pack("{s:o, s:I, s:I, s:I, s:I}", "rate", num(v->wer), "ref_words",
                                  (json_int_t)r->wer.ref_words, "substitutions",
                                  (json_int_t)r->wer.substitutions, "deletions",
                                  (json_int_t)r->wer.deletions, "insertions",
                                  (json_int_t)r->wer.insertions));
    if (b->memory) {
        stt_summary rss, added;
        memset(&rss, 0, sizeof rss);
        memset(&added, 0, sizeof added);
        if (r->n_mem) {
            stt_stats_summarize(r->peak_rss, (size_t)r->n_mem, 0.95, &rss);
            stt_stats_summarize(r->added_pss, (size_t)r->n_mem, 0.95, &added);
        }
        json_object_set_new(
            o, "memory",
            json_pack("{s:s, s:o, s:o, s:o}", "scope", "server and descendants", "peak_pss_bytes",
                      summary_json(&v->peak_pss_bytes, r->peak_pss, r->n_mem), "peak_rss_bytes",
                      summary_json(&rss, r->peak_rss, r->n_mem), "added_pss_bytes",
                      summary_json(&added, r->added_pss, r->n_mem)));
    } else {
        json_object_set_new(o, "memory", json_null());
    }
    json_object_set_new(o, "hypothesis", r->hypothesis ? json_string(r->hypothesis) : json_null());
    if (r->error[0]) json_object_set_new(o, "error", json_string(r->error));
    return o;
}

static json_t *pair(double lo, double hi)
{
    return json_pack("[o, o]", num(lo), num(hi));
}

static json_t *fit_json(const char *profile, const char *y, const stt_audiobench_fit *f)
{
    const char *over = !strcmp(y, "process_s_single")
                           ? "16 kHz mono WAV files answered as one piece (X-Pieces: 1)"
                           : "16 kHz mono WAV files";
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "profile",
                     profile, "y", y, "x", "duration_s", "over", over, "n", f->n, "distinct_x",
                     f->distinct, "slope", num(f->slope), "intercept", num(f->intercept),
                     "slope_ci", pair(f->slope_ci[0], f->slope_ci[1]), "intercept_ci",
                     pair(f->intercept_ci[0], f->intercept_ci[1]), "r2", num(f->r2), "constraint",
                     f->constraint ? json_string(f->constraint) : json_null(), "projection",
                     f->projection);
}

static json_t *profile_json(const stt_audiobench *b, int p)
{
    const stt_audiobench_profile *row = &b->rows[p];
    const stt_summary *s = &row->rtf;
    return json_pack("{s:s, s:i, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "profile",
                     row->profile, "files", row->files, "audio_s", num(row->audio_s), "n",
                     (int)s->n, "rtf", num(s->median), "rtf_ci",
                     pair(s->median_ci.lo, s->median_ci.hi), "rtfx", num(1 / s->median), "rtfx_ci",
                     pair(1 / s->median_ci.hi, 1 / s->median_ci.lo), "wer", num(row->wer),
                     "ref_words", (json_int_t)row->ref_words, "rtf_per_round",
                     summary_json(s, b->round_rtf[p], b->nround_rtf[p]));
}

/* The comparable figures: each pair's process time, each profile's RTF per
 * round, each pair's peak memory; and the word errors per file. */
static void add_metrics(const stt_audiobench *b, json_t *doc)
{
    char name[512], file[400];
    for (size_t i = 0; i < b->nres; i++) {
        const ab_result *r = &b->res[i];
        if (!r->n_ok) continue;
        ab_metric_file(r->v.file, file, sizeof file);
        snprintf(name, sizeof name, "process_s/%s/%s", r->v.profile, file);
        stt_results_add_metric(doc, name, "s", 0, r->process, (size_t)r->n_ok);
        if (r->n_mem) {
            snprintf(name, sizeof name, "peak_pss_bytes/%s/%s", r->v.profile, file);
            stt_results_add_metric(doc, name, "bytes", 0, r->peak_pss, (size_t)r->n_mem);
        }
    }
    for (int p = 0; p < b->nprofiles; p++) {
        if (!b->nround_rtf[p]) continue;
        snprintf(name, sizeof name, "rtf/%s", b->profile[p]);
        stt_results_add_metric(doc, name, "", 0, b->round_rtf[p], (size_t)b->nround_rtf[p]);
    }
    for (int p = 0; p < b->nprofiles; p++) {
        const char **utt = calloc(b->nfiles + 1, sizeof *utt);
        int *errs = calloc(b->nfiles + 1, sizeof *errs),
            *words = calloc(b->nfiles + 1, sizeof *words);
        size_t n = 0;
        for (size_t i = 0; utt && errs && words && i < b->nres; i++) {
            const ab_result *r = &b->res[i];
            if (r->profile != p || !r->have_wer) continue;
            utt[n] = r->v.file;
            errs[n] = (int)stt_wer_errors(&r->wer);
            words[n++] = (int)r->wer.ref_words;
        }
        snprintf(name, sizeof name, "wer/%s", b->profile[p]);
        if (n) stt_results_add_accuracy(doc, name, utt, errs, words, n);
        free(utt);
        free(errs);
        free(words);
    }
}

json_t *ab_document(const stt_audiobench *b)
{
    json_t *doc = stt_results_new(STT_RESULTS_AUDIO, "audio", config_json(b));
    if (!doc) return NULL;
    json_t *jr = json_array(), *jf = json_array(), *jp = json_array(), *js = json_array();
    for (size_t i = 0; i < b->nres; i++)
        json_array_append_new(jr, result_json(b, &b->res[i]));
    for (int p = 0; p < b->nprofiles; p++) {
        for (int k = 0; k < AB_NFITS; k++)
            if (k != AB_FIT_MEMORY || b->memory)
                json_array_append_new(jf, fit_json(b->profile[p], ab_fit_y[k], &b->fits[p][k]));
        json_array_append_new(jp, profile_json(b, p));
    }
    for (size_t i = 0; i < b->nskips; i++) {
        const stt_audiobench_skip *s = &b->skips[i];
        json_array_append_new(
            js, json_pack("{s:s, s:f, s:s, s:s}", "file", s->file, "duration_s", s->duration_s,
                          "why", s->why == STT_AUDIOBENCH_TOO_LONG ? "max_duration" : "quick",
                          "reason", s->reason));
    }
    json_object_set_new(doc, "elapsed_s", num(b->elapsed_s));
    json_object_set_new(doc, "failures", json_integer(b->failures));
    json_object_set_new(doc, "results", jr);
    json_object_set_new(doc, "fits", jf);
    json_object_set_new(doc, "profiles", jp);
    json_object_set_new(doc, "skipped", js);
    add_metrics(b, doc);
    return doc;
}

/* ---- charts ---- */

static int write_charts(const stt_audiobench *b, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/audio_points.dat", b->p.out);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    /* One block per profile (gnuplot's `index`). */
    for (int p = 0; p < b->nprofiles; p++) {
        fprintf(f, "# profile %s: duration_s process_s ci_lo ci_hi rtf peak_pss_mib pieces\n",
                b->profile[p]);
        for (size_t i = 0; i < b->nres; i++) {
            const ab_result *r = &b->res[i];
            if (r->profile != p || !r->n_ok || !r->v.reference_format) continue;
            const stt_summary *s = &r->v.process_s;
            double mem = r->v.peak_pss_bytes.n ? r->v.peak_pss_bytes.median / 1048576.0 : NAN;
            fprintf(f, "%.3f %.4f %.4f %.4f %.5f %.2f %d\n", r->v.duration_s, s->median,
                    s->median_ci.lo, s->median_ci.hi, s->median / r->v.duration_s, mem,
                    r->v.pieces);
        }
        fprintf(f, "\n\n");
    }
    if (fclose(f)) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    snprintf(path, sizeof path, "%s/audio_charts.gp", b->p.out);
    if (!(f = fopen(path, "w")))
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    static const char *const term[2][2] = {{"pngcairo size 900,560", "png"},
                                           {"svg size 900,560 dynamic", "svg"}};
    fprintf(f, "set key left top\nset grid\nset xlabel 'audio duration (s)'\nset datafile missing "
               "'nan'\n");
    for (int p = 0; p < b->nprofiles; p++)
        for (int k = 0; k < 2; k++) {
            const stt_audiobench_fit *ft = &b->fits[p][k];
            if (isfinite(ft->slope))
                fprintf(f, "f%d_%d(x) = %.9g + %.9g*x\n", p, k, ft->intercept, ft->slope);
            else
                fprintf(f, "f%d_%d(x) = NaN\n", p, k);
        }
    static const char *const charts[3][3] = {
        {"time_vs_duration", "processing time (s), median and 95% interval", "1:2:3:4"},
        {"rtf_vs_duration", "real-time factor (process / audio)", "1:5"},
        {"memory_vs_duration", "peak PSS of the server tree (MiB)", "1:6"},
    };
    for (int k = 0; k < 2; k++)
        for (int ch = 0; ch < 3; ch++) {
            if (ch == 2 && !b->memory) continue;
            fprintf(f, "set terminal %s\nset output '%s.%s'\nset ylabel '%s'\nplot ", term[k][0],
                    charts[ch][0], term[k][1], charts[ch][1]);
            for (int p = 0; p < b->nprofiles; p++) {
                fprintf(f, "%s'audio_points.dat' index %d using %s with %s title '%s'",
                        p ? ", " : "", p, charts[ch][2], ch == 0 ? "yerrorbars" : "points",
                        b->profile[p]);
                if (ch == 0)
                    fprintf(f,
                            ", f%d_0(x) with lines dashtype 2 title '%s: all files', f%d_1(x) "
                            "with lines dashtype 3 title '%s: one-piece files'",
                            p, b->profile[p], p, b->profile[p]);
            }
            fprintf(f, "\n");
        }
    if (fclose(f)) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}

/* ---- audio_report.md ---- */

static void fmt_ci(char *buf, size_t len, const stt_summary *s, const char *fmt)
{
    if (!s->n || !isfinite(s->median)) {
        snprintf(buf, len, "n/a");
        return;
    }
    char m[32], lo[32], hi[32];
    snprintf(m, sizeof m, fmt, s->median);
    snprintf(lo, sizeof lo, fmt, s->median_ci.lo);
    snprintf(hi, sizeof hi, fmt, s->median_ci.hi);
    snprintf(buf, len, "%s [%s, %s]", m, lo, hi);
}

static void fmt_pair(char *buf, size_t len, double v, const double ci[2], const char *fmt)
{
    char m[32], lo[32], hi[32];
    snprintf(m, sizeof m, fmt, v);
    if (!isfinite(ci[0])) {
        snprintf(buf, len, "%s", m);
        return;
    }
    snprintf(lo, sizeof lo, fmt, ci[0]);
    snprintf(hi, sizeof hi, fmt, ci[1]);
    snprintf(buf, len, "%s [%s, %s]", m, lo, hi);
}

static int write_markdown(const stt_audiobench *b, int charts_ok, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/audio_report.md", b->p.out);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fprintf(f, "# Audio benchmark\n\n");
    fprintf(f,
            "Server %s (%s API). %d rounds; each round sends every file once per profile in "
            "its own shuffled order. Every figure is the median over the rounds with its 95%% "
            "interval in brackets (order statistics; below 6 rounds the widest one, min to max, "
            "covers less, and audio.json states its coverage); n is the number of rounds. "
            "Machine and commit: audio.json.\n\n",
            b->url, b->p.api, b->p.repeat);
    fprintf(f, "## Profiles (16 kHz mono WAV files)\n\n| profile | files | audio s | n | RTF | "
               "RTFx | WER | ref words |\n|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < b->nprofiles; p++) {
        const stt_audiobench_profile *r = &b->rows[p];
        char rtf[128];
        fmt_ci(rtf, sizeof rtf, &r->rtf, "%.3f");
        fprintf(f, "| %s | %d | %.1f | %zu | %s | %.1f | %.1f%% | %zu |\n", r->profile, r->files,
                r->audio_s, r->rtf.n, rtf, 1 / r->rtf.median, 100 * r->wer, r->ref_words);
    }
    fprintf(f, "\n## Fits against duration (least squares, GSL; 95%% intervals)\n\n| profile | "
               "y | over | n | intercept | slope per audio s | R² | note |\n"
               "|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < b->nprofiles; p++)
        for (int k = 0; k < AB_NFITS; k++) {
            if (k == AB_FIT_MEMORY && !b->memory) continue;
            const stt_audiobench_fit *ft = &b->fits[p][k];
            char a[128], s[128];
            fmt_pair(a, sizeof a, ft->intercept, ft->intercept_ci,
                     k == AB_FIT_MEMORY ? "%.4g" : "%.3f");
            fmt_pair(s, sizeof s, ft->slope, ft->slope_ci, "%.4g");
            fprintf(f, "| %s | %s | %s | %d | %s | %s | %.4f | %s%s%s |\n", b->profile[p],
                    ab_fit_y[k], k == AB_FIT_SINGLE ? "one-piece files" : "all files", ft->n, a, s,
                    ft->r2, ft->constraint ? ft->constraint : "",
                    ft->constraint && !ft->projection ? "; " : "",
                    ft->projection ? "" : "too few points to project");
        }
    fprintf(f, "\nFor time over the one-piece files, the intercept is the fixed cost of a "
               "request and the slope one core's time per audio second; over all files the "
               "slope mixes in the pieces decoded in parallel. For memory: bytes at zero length "
               "and per audio second.\n\n");
    fprintf(f, "## Files\n\n| file | format | duration s | profile | pieces | n | process s | "
               "wall s | queue s | RTF | WER | peak PSS MiB |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < b->nres; i++) {
        const stt_audiobench_result *r = &b->res[i].v;
        if (!r->n_ok) {
            fprintf(f, "| %s | %s | %.1f | %s | | %d | failed: %s |||||\n", r->file, r->format,
                    r->duration_s, r->profile, r->n, r->error ? r->error : "");
            continue;
        }
        char pr[128], wl[128], q[128], mem[32];
        fmt_ci(pr, sizeof pr, &r->process_s, "%.2f");
        fmt_ci(wl, sizeof wl, &r->wall_s, "%.2f");
        fmt_ci(q, sizeof q, &r->queue_s, "%.3f");
        if (r->peak_pss_bytes.n)
            snprintf(mem, sizeof mem, "%.1f", r->peak_pss_bytes.median / 1048576.0);
        else
            snprintf(mem, sizeof mem, "n/a");
        fprintf(f, "| %s | %s | %.1f | %s | %d | %d | %s | %s | %s | %.3f | %.1f%% | %s |\n",
                r->file, r->format, r->duration_s, r->profile, r->pieces, r->n_ok, pr, wl, q,
                r->process_s.median / r->duration_s, 100 * r->wer, mem);
    }
    fprintf(f, "\n## Skipped\n\n");
    for (size_t i = 0; i < b->nskips; i++)
        fprintf(f, "- %s (%.1f s): %s\n", b->skips[i].file, b->skips[i].duration_s,
                b->skips[i].reason);
    if (!b->nskips) fprintf(f, "None.\n");
    if (charts_ok)
        fprintf(f, "\n## Charts\n\n![time](time_vs_duration.png)\n![rtf](rtf_vs_duration.png)\n%s",
                b->memory ? "![memory](memory_vs_duration.png)\n" : "");
    else
        fprintf(f, "\n(No charts: gnuplot missing or failed, see gnuplot.log.)\n");
    if (fclose(f)) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}

int ab_write_outputs(const stt_audiobench *b, char *err, size_t errlen)
{
    json_t *doc = ab_document(b);
    if (!doc) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/audio.json", b->p.out);
    int rc = stt_results_write(doc, path, err, errlen);
    json_decref(doc);
    if (!rc) rc = write_charts(b, err, errlen);
    char why[256];
    int charts_ok = !rc && stt_chart_run(b->p.out, "audio_charts.gp", why, sizeof why) == 0;
    if (!rc) rc = write_markdown(b, charts_ok, err, errlen);
    return rc;
}
