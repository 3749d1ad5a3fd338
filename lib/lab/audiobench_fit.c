/* audiobench_fit: the figures of an audio benchmark from its repeats:
 * summaries per (file, profile), real-time factor per profile and round,
 * and the constrained linear fits against duration (GSL). */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audiobench_internal.h"

const char *const ab_fit_y[AB_NFITS] = {"process_s", "process_s_single", "peak_pss_bytes"};

static void set_nan(double v[2])
{
    v[0] = v[1] = NAN;
}

/* lo, hi of c +- t se, the lower end raised to the physical bound 0. */
static void interval(double c, double var, double t, double out[2])
{
    double h = t * sqrt(var > 0 ? var : 0);
    out[0] = fmax(0, c - h);
    out[1] = c + h;
}

void stt_audiobench_linear_fit(const double *x, const double *y, size_t n, stt_audiobench_fit *out)
{
    memset(out, 0, sizeof *out);
    out->n = (int)n;
    out->intercept = out->slope = out->r2 = NAN;
    set_nan(out->intercept_ci);
    set_nan(out->slope_ci);
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = x[k] == x[i];
        out->distinct += !seen;
    }
    out->projection = out->distinct >= 3;
    if (out->distinct < 2) return;

    double c0, c1, cov00, cov01, cov11, sumsq;
    gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
    int dof = (int)n - 2;
    if (c1 < 0) {
        /* Time or memory cannot fall with length: hold the slope at 0, and the
         * best intercept is then the mean (itself held at 0 if negative). */
        double mean = 0;
        for (size_t i = 0; i < n; i++)
            mean += y[i] / (double)n;
        c1 = 0;
        c0 = fmax(0, mean);
        cov11 = NAN;
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (y[i] - c0) * (y[i] - c0);
        cov00 = ss / ((double)n - 1) / (double)n;
        dof = (int)n - 1;
        out->constraint = "slope held at 0";
    } else if (c0 < 0) {
        /* A negative fixed cost is impossible: the line through the origin. */
        gsl_fit_mul(x, 1, y, 1, n, &c1, &cov11, &sumsq);
        c0 = 0;
        cov00 = NAN;
        dof = (int)n - 1;
        out->constraint = "intercept held at 0";
    }
    out->intercept = c0;
    out->slope = c1;
    double mean = 0, sst = 0, ssr = 0;
    for (size_t i = 0; i < n; i++)
        mean += y[i] / (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = y[i] - (c0 + c1 * x[i]);
        ssr += e * e;
        sst += (y[i] - mean) * (y[i] - mean);
    }
    out->r2 = sst > 0 ? 1 - ssr / sst : 1;
    /* Intervals need a residual degree of freedom beyond the parameters. */
    if ((int)n < 3 || dof < 1) return;
    double t = gsl_cdf_tdist_Pinv(0.975, dof);
    if (isfinite(cov00)) interval(c0, cov00, t, out->intercept_ci);
    if (isfinite(cov11)) interval(c1, cov11, t, out->slope_ci);
}

/* The most common value of v[0..n), the largest on a tie; 0 when n == 0. */
static int mode(const int *v, int n)
{
    int best = 0, best_n = 0;
    for (int i = 0; i < n; i++) {
        int c = 0;
        for (int k = 0; k < n; k++)
            c += v[k] == v[i];
        if (c > best_n || (c == best_n && v[i] > best)) {
            best = v[i];
            best_n = c;
        }
    }
    return best;
}

static void summarize(const double *v, int n, stt_summary *s)
{
    if (n <= 0 || stt_stats_summarize(v, (size_t)n, 0.95, s)) {
        memset(s, 0, sizeof *s);
        s->median = s->mean = s->min = s->max = NAN;
        s->median_ci.lo = s->median_ci.hi = s->median_ci.coverage = NAN;
    }
}

static void fit_profile(stt_audiobench *b, int p)
{
    double x[3][1024], y[3][1024];
    size_t n[3] = {0, 0, 0};
    for (size_t i = 0; i < b->nres; i++) {
        const ab_result *r = &b->res[i];
        if (r->profile != p || !r->v.reference_format || !r->n_ok) continue;
        double d = r->v.duration_s;
        if (n[0] < 1024) {
            x[0][n[0]] = d;
            y[0][n[0]++] = r->v.process_s.median;
        }
        if (r->v.pieces == 1 && n[1] < 1024) {
            x[1][n[1]] = d;
            y[1][n[1]++] = r->v.process_s.median;
        }
        if (r->v.peak_pss_bytes.n > 0 && n[2] < 1024) {
            x[2][n[2]] = d;
            y[2][n[2]++] = r->v.peak_pss_bytes.median;
        }
    }
    for (int k = 0; k < AB_NFITS; k++)
        stt_audiobench_linear_fit(x[k], y[k], n[k], &b->fits[p][k]);
}

void ab_analyse(stt_audiobench *b)
{
    for (size_t i = 0; i < b->nres; i++) {
        ab_result *r = &b->res[i];
        summarize(r->wall, r->n_ok, &r->v.wall_s);
        summarize(r->process, r->n_ok, &r->v.process_s);
        summarize(r->queue, r->n_ok, &r->v.queue_s);
        summarize(r->peak_pss, r->n_mem, &r->v.peak_pss_bytes);
        r->v.pieces = mode(r->pieces, r->n_ok);
        r->v.n_ok = r->n_ok;
        r->v.wer = r->have_wer ? stt_wer_rate(&r->wer) : NAN;
        r->v.ref_words = r->wer.ref_words;
        r->v.errors = stt_wer_errors(&r->wer);
        r->v.error = r->error[0] ? r->error : NULL;
    }
    int rounds = b->p.repeat;
    for (int p = 0; p < b->nprofiles; p++) {
        stt_audiobench_profile *row = &b->rows[p];
        memset(row, 0, sizeof *row);
        row->profile = b->profile[p];
        stt_wer_counts w = {0};
        double proc[STT_AUDIOBENCH_MAX_REPEAT] = {0};
        for (size_t i = 0; i < b->nres; i++) {
            const ab_result *r = &b->res[i];
            if (r->profile != p || !r->v.reference_format) continue;
            int all = 1;
            for (int k = 0; k < rounds; k++)
                all &= r->round_ok[k];
            if (!all) continue; /* a round missing a file would not be comparable */
            row->files++;
            row->audio_s += r->v.duration_s;
            for (int k = 0; k < rounds; k++)
                proc[k] += r->round_process[k];
            if (r->have_wer) stt_wer_add(&w, &r->wer);
        }
        b->nround_rtf[p] = 0;
        for (int k = 0; row->files && k < rounds; k++)
            b->round_rtf[p][b->nround_rtf[p]++] = proc[k] / row->audio_s;
        summarize(b->round_rtf[p], b->nround_rtf[p], &row->rtf);
        row->wer = row->files ? stt_wer_rate(&w) : NAN;
        row->ref_words = w.ref_words;
        fit_profile(b, p);
    }
}
