/* vad: energy-based voice activity detection and cutting into pieces.
 *
 * Written by hand: the libraries this project uses (libsndfile, libsoxr, GSL)
 * have no voice activity detector, and PocketSphinx's own VAD is streaming,
 * stateful and tied to a decoder, while we need cut points chosen from the
 * whole file, reproducibly, before any decoder sees it.
 *
 * Steps, all over 10 ms frames:
 *   1. log-energy per frame, 10*log10(mean square + 1) (digital zero = 0 dB,
 *      full scale about 90 dB);
 *   2. noise floor = a low percentile of the energies of the whole file,
 *      leaving out digitally silent frames so that zero padding does not pull
 *      the floor below the real background;
 *   3. speech = runs of frames above floor + VAD_HOLD_DB that contain at least
 *      one frame above floor + VAD_ON_DB (hysteresis: soft onsets and decays
 *      stay with the loud part they belong to);
 *   4. pauses of at least min_pause_s between runs are cut, keeping pad_s of
 *      silence on each side; shorter pauses stay inside a piece;
 *   5. stretches longer than max_piece_s are cut at the quietest frame in the
 *      last third of the allowed window;
 *   6. pieces shorter than min_piece_s are merged with the nearer neighbour
 *      when the result still fits max_piece_s.
 */
#include "vad.h"

#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VAD_RATE 16000
#define VAD_FRAME 160 /* 10 ms */

/* Frames below this are digital silence (rms < 2 LSB): not background noise. */
#define VAD_DIGITAL_SILENCE_DB 6.0
/* The floor is this percentile of the non-silent frames: low enough to sit in
 * the pauses of speech that pauses only now and then, high enough to ignore a
 * few dropouts. */
#define VAD_FLOOR_PERCENTILE 0.10
#define VAD_PEAK_PERCENTILE 0.95
/* A run of speech must reach floor + VAD_ON_DB somewhere and extends while it
 * stays above floor + VAD_HOLD_DB. */
#define VAD_ON_DB 12.0
#define VAD_HOLD_DB 6.0
/* Nothing quieter than this (about -55 dBFS rms) counts as speech. */
#define VAD_ABS_ON_DB 35.0
/* A file whose loud frames are within VAD_ON_DB of its floor has no pauses to
 * find: it is all speech if its median frame is at least this loud (about
 * -40 dBFS rms, above any room tone), otherwise all background. */
#define VAD_STEADY_SPEECH_DB 50.0

stt_vad_params stt_vad_default_params(void)
{
    stt_vad_params p = {
        .min_pause_s = 0.3,
        .max_piece_s = 30.0,
        .min_piece_s = 1.0,
        .pad_s = 0.1,
    };
    return p;
}

typedef struct run {
    size_t start, end; /* [start, end), frames or samples depending on use */
} run;

typedef struct piece_list {
    stt_piece *v;
    size_t n, cap;
} piece_list;

static int push_piece(piece_list *l, size_t start, size_t end)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        stt_piece *v = realloc(l->v, cap * sizeof *v);
        if (!v) return STT_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].start = start;
    l->v[l->n].n_samples = end - start;
    l->n++;
    return STT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile_sorted(const double *v, size_t n, double q)
{
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void frame_energies(const int16_t *s, size_t n, double *e, size_t nf)
{
    for (size_t j = 0; j < nf; j++) {
        size_t a = j * VAD_FRAME, b = a + VAD_FRAME < n ? a + VAD_FRAME : n;
        int64_t sum = 0;
        for (size_t i = a; i < b; i++)
            sum += (int32_t)s[i] * s[i];
        e[j] = 10.0 * log10((double)sum / (double)(b - a) + 1.0);
    }
}

/* Fills active[] with 1 for speech frames; returns the number of them or a
 * negative error. */
static long mark_speech(const double *e, size_t nf, unsigned char *active)
{
    double *sorted = malloc(nf * sizeof *sorted);
    if (!sorted) return STT_ENOMEM;
    size_t m = 0;
    for (size_t j = 0; j < nf; j++)
        if (e[j] >= VAD_DIGITAL_SILENCE_DB) sorted[m++] = e[j];
    memset(active, 0, nf);
    if (m == 0) {
        free(sorted);
        return 0;
    }
    qsort(sorted, m, sizeof *sorted, cmp_double);
    double floor_db = percentile_sorted(sorted, m, VAD_FLOOR_PERCENTILE);
    double peak_db = percentile_sorted(sorted, m, VAD_PEAK_PERCENTILE);
    double median_db = percentile_sorted(sorted, m, 0.5);
    free(sorted);

    long count = 0;
    if (peak_db - floor_db < VAD_ON_DB) {
        if (median_db < VAD_STEADY_SPEECH_DB) return 0;
        for (size_t j = 0; j < nf; j++)
            active[j] = e[j] >= VAD_DIGITAL_SILENCE_DB;
        for (size_t j = 0; j < nf; j++)
            count += active[j];
        return count;
    }

    double on = floor_db + VAD_ON_DB;
    if (on < VAD_ABS_ON_DB) on = VAD_ABS_ON_DB;
    double hold = on - (VAD_ON_DB - VAD_HOLD_DB);
    size_t j = 0;
    while (j < nf) {
        if (e[j] < hold) {
            j++;
            continue;
        }
        size_t a = j;
        int loud = 0;
        while (j < nf && e[j] >= hold)
            loud |= e[j++] >= on;
        if (!loud) continue;
        memset(active + a, 1, j - a);
        count += (long)(j - a);
    }
    return count;
}

/* The cut for a stretch starting at sample cur that is longer than max_s: the
 * middle of the quietest frame lying wholly in the last third of the window
 * [cur, cur + max_s]. Ties go to the later frame, giving fewer pieces. */
static size_t quiet_cut(const double *e, size_t cur, size_t max_s)
{
    size_t w0 = cur + max_s - max_s / 3, w1 = cur + max_s;
    size_t j0 = (w0 + VAD_FRAME - 1) / VAD_FRAME, j1 = w1 / VAD_FRAME; /* frames [j0, j1) */
    if (j0 >= j1) return w1;
    size_t best = j0;
    for (size_t j = j0 + 1; j < j1; j++)
        if (e[j] <= e[best]) best = j;
    return best * VAD_FRAME + VAD_FRAME / 2;
}

/* Merges pieces shorter than min_s into the neighbour across the shorter gap,
 * as long as the merged piece is at most max_s long. */
static void merge_short(piece_list *l, size_t min_s, size_t max_s)
{
    size_t i = 0;
    while (i < l->n) {
        stt_piece *p = &l->v[i];
        if (p->n_samples >= min_s) {
            i++;
            continue;
        }
        size_t end = p->start + p->n_samples;
        int left_ok = 0, right_ok = 0;
        size_t left_gap = 0, right_gap = 0;
        if (i > 0) {
            const stt_piece *q = &l->v[i - 1];
            left_gap = p->start - (q->start + q->n_samples);
            left_ok = end - q->start <= max_s;
        }
        if (i + 1 < l->n) {
            const stt_piece *q = &l->v[i + 1];
            right_gap = q->start - end;
            right_ok = q->start + q->n_samples - p->start <= max_s;
        }
        if (!left_ok && !right_ok) {
            i++;
            continue;
        }
        size_t keep; /* index of the merged piece */
        if (left_ok && (!right_ok || left_gap <= right_gap)) {
            keep = i - 1;
            l->v[keep].n_samples = end - l->v[keep].start;
        } else {
            keep = i;
            const stt_piece *q = &l->v[i + 1];
            p->n_samples = q->start + q->n_samples - p->start;
        }
        memmove(&l->v[keep + 1], &l->v[keep + 2], (l->n - keep - 2) * sizeof *l->v);
        l->n--;
        /* The merged piece may still be short; look at it again. */
        i = keep;
    }
}

static int valid_params(const stt_vad_params *p)
{
    return isfinite(p->min_pause_s) && isfinite(p->max_piece_s) && isfinite(p->min_piece_s) &&
           isfinite(p->pad_s) && p->min_pause_s > 0.0 && p->max_piece_s >= 0.1 &&
           p->max_piece_s <= 86400.0 && p->min_piece_s >= 0.0 && p->min_piece_s <= p->max_piece_s &&
           p->pad_s >= 0.0 && p->pad_s <= 60.0 && p->min_pause_s <= 3600.0;
}

int stt_vad_params_check(const stt_vad_params *p)
{
    return p && valid_params(p) ? 0 : STT_EINVAL;
}

int stt_vad_split(const int16_t *samples, size_t n, const stt_vad_params *params,
                  stt_piece **pieces, size_t *n_pieces)
{
    if (!pieces || !n_pieces || (!samples && n > 0)) return STT_EINVAL;
    *pieces = NULL;
    *n_pieces = 0;
    stt_vad_params def = stt_vad_default_params();
    const stt_vad_params *p = params ? params : &def;
    if (!valid_params(p)) return STT_EINVAL;
    if (n == 0) return STT_OK;

    size_t nf = (n + VAD_FRAME - 1) / VAD_FRAME;
    double *e = malloc(nf * sizeof *e);
    unsigned char *active = malloc(nf);
    run *segs = NULL;
    piece_list out = {0};
    int rc = STT_ENOMEM;
    if (!e || !active) goto done;
    frame_energies(samples, n, e, nf);
    long n_active = mark_speech(e, nf, active);
    if (n_active < 0) {
        rc = (int)n_active;
        goto done;
    }
    if (n_active == 0) {
        rc = STT_OK;
        goto done;
    }

    /* Speech stretches in samples, with pauses shorter than min_pause_s bridged. */
    size_t min_pause_f = (size_t)ceil(p->min_pause_s * (VAD_RATE / VAD_FRAME) - 1e-9);
    size_t n_segs = 0, cap_segs = 0;
    for (size_t j = 0; j < nf;) {
        if (!active[j]) {
            j++;
            continue;
        }
        size_t a = j;
        while (j < nf && active[j])
            j++;
        if (n_segs > 0 && a - segs[n_segs - 1].end < min_pause_f) {
            segs[n_segs - 1].end = j;
            continue;
        }
        if (n_segs == cap_segs) {
            cap_segs = cap_segs ? cap_segs * 2 : 64;
            run *v = realloc(segs, cap_segs * sizeof *v);
            if (!v) goto done;
            segs = v;
        }
        segs[n_segs].start = a;
        segs[n_segs].end = j;
        n_segs++;
    }
    for (size_t i = 0; i < n_segs; i++) {
        segs[i].start *= VAD_FRAME;
        segs[i].end = segs[i].end * VAD_FRAME < n ? segs[i].end * VAD_FRAME : n;
    }

    size_t pad_s = (size_t)llround(p->pad_s * VAD_RATE);
    size_t max_s = (size_t)llround(p->max_piece_s * VAD_RATE);
    size_t min_s = (size_t)llround(p->min_piece_s * VAD_RATE);
    for (size_t i = 0; i < n_segs; i++) {
        /* Half of each pause at most goes to either side, so pieces never overlap. */
        size_t before = i == 0 ? segs[i].start : (segs[i].start - segs[i - 1].end) / 2;
        size_t after = i + 1 == n_segs ? n - segs[i].end : (segs[i + 1].start - segs[i].end) / 2;
        size_t cur = segs[i].start - (pad_s < before ? pad_s : before);
        size_t end = segs[i].end + (pad_s < after ? pad_s : after);
        while (end - cur > max_s) {
            size_t cut = quiet_cut(e, cur, max_s);
            if (push_piece(&out, cur, cut) < 0) goto done;
            cur = cut;
        }
        if (push_piece(&out, cur, end) < 0) goto done;
    }
    merge_short(&out, min_s, max_s);
    *pieces = out.v;
    *n_pieces = out.n;
    out.v = NULL;
    rc = STT_OK;
done:
    free(out.v);
    free(segs);
    free(active);
    free(e);
    return rc;
}
