#include "error.h"
#include "testlib.h"
#include "vad.h"

#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 16000
#define FRAME 160

typedef struct buf {
    int16_t *s;
    size_t n, cap;
} buf;

static int buf_reserve(buf *b, size_t more)
{
    if (b->n + more <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + more)
        cap *= 2;
    int16_t *s = realloc(b->s, cap * sizeof *s);
    if (!s) return 0;
    b->s = s;
    b->cap = cap;
    return 1;
}

static int buf_append(buf *b, const int16_t *s, size_t n)
{
    if (!buf_reserve(b, n)) return 0;
    memcpy(b->s + b->n, s, n * sizeof *s);
    b->n += n;
    return 1;
}

static int buf_silence(buf *b, size_t n)
{
    if (!buf_reserve(b, n)) return 0;
    memset(b->s + b->n, 0, n * sizeof *b->s);
    b->n += n;
    return 1;
}

static buf clips[TEST_LIBRIVOX_N];
static int clips_loaded;

static int load_clips(void)
{
    if (clips_loaded) return clips_loaded > 0;
    clips_loaded = -1;
    for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "librivox/%s.wav", test_librivox_ids[i]);
        SF_INFO info = {0};
        SNDFILE *f = sf_open(test_data(rel), SFM_READ, &info);
        if (!f) return 0;
        int ok = info.samplerate == RATE && info.channels == 1 && info.frames > 0 &&
                 buf_reserve(&clips[i], (size_t)info.frames);
        if (ok) {
            clips[i].n = (size_t)sf_read_short(f, clips[i].s, info.frames);
            ok = clips[i].n == (size_t)info.frames;
        }
        sf_close(f);
        if (!ok) return 0;
    }
    clips_loaded = 1;
    return 1;
}

static void free_clips(void)
{
    for (int i = 0; i < TEST_LIBRIVOX_N; i++)
        free(clips[i].s);
}

/* (a) the five clips back to back. */
static buf make_concat(void)
{
    buf b = {0};
    for (int i = 0; i < TEST_LIBRIVOX_N; i++)
        buf_append(&b, clips[i].s, clips[i].n);
    return b;
}

/* (b) the five clips 12 times, each followed by 0.6 s of digital silence
 * (332.8 s); the centres of the silences (in samples) go to *gaps. */
#define LONG_REPEATS 12
#define LONG_GAP (RATE * 6 / 10)
static buf make_long(size_t *gaps, size_t *n_gaps)
{
    buf b = {0};
    size_t g = 0;
    for (int r = 0; r < LONG_REPEATS; r++)
        for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
            buf_append(&b, clips[i].s, clips[i].n);
            if (gaps) gaps[g] = b.n + LONG_GAP / 2;
            g++;
            buf_silence(&b, LONG_GAP);
        }
    if (n_gaps) *n_gaps = g;
    return b;
}

/* A steady voiced sound: 125 Hz (an exact 128-sample period) with 12 harmonics
 * falling at 6 dB per octave, amplitude-modulated at 4 Hz between base-depth
 * and base+depth, never silent. */
static buf make_voiced(double seconds, double base, double depth)
{
    buf b = {0};
    size_t n = (size_t)(seconds * RATE);
    if (!buf_reserve(&b, n)) return b;
    double period[128], peak = 0;
    for (int t = 0; t < 128; t++) {
        double v = 0;
        for (int k = 1; k <= 12; k++)
            v += sin(2 * M_PI * k * t / 128.0 + 0.3 * k) / k;
        period[t] = v;
        if (fabs(v) > peak) peak = fabs(v);
    }
    for (size_t i = 0; i < n; i++) {
        double env = base + depth * sin(2 * M_PI * 4.0 * (double)i / RATE);
        b.s[i] = (int16_t)lrint(9000.0 * env * period[i % 128] / peak);
    }
    b.n = n;
    return b;
}

static double frame_db(const int16_t *s, size_t n, size_t j)
{
    size_t a = j * FRAME, e = a + FRAME < n ? a + FRAME : n;
    double sum = 0;
    for (size_t i = a; i < e; i++)
        sum += (double)s[i] * s[i];
    return 10 * log10(sum / (double)(e - a) + 1);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* An independent estimate of the background: 10th percentile of the frames
 * that are not digital zeros. */
static double noise_floor(const int16_t *s, size_t n)
{
    size_t nf = (n + FRAME - 1) / FRAME, m = 0;
    double *v = malloc(nf * sizeof *v);
    if (!v) return 0;
    for (size_t j = 0; j < nf; j++) {
        double d = frame_db(s, n, j);
        if (d >= 6) v[m++] = d;
    }
    qsort(v, m, sizeof *v, cmp_d);
    double f = m ? v[m / 10] : 0;
    free(v);
    return f;
}

/* (h): sorted, non-empty, non-overlapping, within [0, n), each at most max. */
static void check_layout(const stt_piece *p, size_t k, size_t n, const stt_vad_params *prm)
{
    size_t max_s = (size_t)llround(prm->max_piece_s * RATE);
    for (size_t i = 0; i < k; i++) {
        CHECK(p[i].n_samples > 0);
        CHECK(p[i].n_samples <= max_s);
        CHECK(p[i].start + p[i].n_samples <= n);
        if (i > 0) CHECK(p[i - 1].start + p[i - 1].n_samples <= p[i].start);
    }
}

/* A piece under min_piece_s is only left alone when neither neighbour can
 * take it without going over max_piece_s. */
static void check_merging(const stt_piece *p, size_t k, const stt_vad_params *prm)
{
    size_t min_s = (size_t)llround(prm->min_piece_s * RATE);
    size_t max_s = (size_t)llround(prm->max_piece_s * RATE);
    for (size_t i = 0; i < k; i++) {
        if (p[i].n_samples >= min_s) continue;
        size_t end = p[i].start + p[i].n_samples;
        if (i > 0) CHECK(end - p[i - 1].start > max_s);
        if (i + 1 < k) CHECK(p[i + 1].start + p[i + 1].n_samples - p[i].start > max_s);
    }
}

/* Every frame well above the background lies wholly inside the pieces. */
static void check_coverage(const int16_t *s, size_t n, const stt_piece *p, size_t k)
{
    unsigned char *cov = calloc(n, 1);
    REQUIRE(cov);
    for (size_t i = 0; i < k; i++)
        memset(cov + p[i].start, 1, p[i].n_samples);
    double floor_db = noise_floor(s, n);
    size_t nf = (n + FRAME - 1) / FRAME, missed = 0;
    for (size_t j = 0; j < nf; j++) {
        if (frame_db(s, n, j) < floor_db + 20) continue;
        size_t a = j * FRAME, e = a + FRAME < n ? a + FRAME : n;
        for (size_t i = a; i < e; i++)
            if (!cov[i]) {
                missed++;
                break;
            }
    }
    CHECK(missed == 0);
    free(cov);
}

/* Every cut between two pieces that do not touch lies in quiet frames. */
static void check_cuts_quiet(const int16_t *s, size_t n, const stt_piece *p, size_t k)
{
    double floor_db = noise_floor(s, n);
    for (size_t i = 0; i < k; i++) {
        size_t end = p[i].start + p[i].n_samples;
        if (i > 0 && p[i - 1].start + p[i - 1].n_samples < p[i].start)
            CHECK(frame_db(s, n, p[i].start / FRAME) < floor_db + 10);
        if (i + 1 < k && end < p[i + 1].start)
            CHECK(frame_db(s, n, (end - 1) / FRAME) < floor_db + 10);
    }
}

static int cmp_sz(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static void describe(const char *what, const stt_piece *p, size_t k)
{
    if (k == 0) return;
    size_t *len = malloc(k * sizeof *len);
    if (!len) return;
    for (size_t i = 0; i < k; i++)
        len[i] = p[i].n_samples;
    qsort(len, k, sizeof *len, cmp_sz);
    fprintf(stderr, "  %s: %zu pieces, length min %.2f s, median %.2f s, max %.2f s\n", what, k,
            (double)len[0] / RATE, (double)len[k / 2] / RATE, (double)len[k - 1] / RATE);
    free(len);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_defaults(void)
{
    stt_vad_params p = stt_vad_default_params();
    CHECK(p.min_pause_s > 0 && p.min_pause_s < 1);
    CHECK(p.max_piece_s >= 10);
    CHECK(p.min_piece_s > 0 && p.min_piece_s < p.max_piece_s);
    CHECK(p.pad_s >= 0 && 2 * p.pad_s <= p.min_pause_s);
}

static void test_bad_arguments(void)
{
    int16_t s[320] = {0};
    stt_piece *p = (stt_piece *)1;
    size_t k = 7;
    CHECK(stt_vad_split(s, 320, NULL, NULL, &k) == STT_EINVAL);
    CHECK(stt_vad_split(s, 320, NULL, &p, NULL) == STT_EINVAL);
    CHECK(stt_vad_split(NULL, 320, NULL, &p, &k) == STT_EINVAL);
    stt_vad_params bad[] = {
        {0, 30, 1, 0.1},   {0.3, 0, 1, 0.1},        {0.3, 30, 40, 0.1},   {0.3, 30, 1, -1},
        {NAN, 30, 1, 0.1}, {0.3, INFINITY, 1, 0.1}, {0.3, 30, -0.5, 0.1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(stt_vad_split(s, 320, &bad[i], &p, &k) == STT_EINVAL);
        CHECK(p == NULL && k == 0);
    }
    CHECK(stt_vad_split(NULL, 0, NULL, &p, &k) == STT_OK);
    CHECK(p == NULL && k == 0);
}

static void test_concat(void)
{
    REQUIRE(load_clips());
    buf a = make_concat();
    REQUIRE(a.s);
    stt_vad_params prm = stt_vad_default_params();
    stt_piece *p = NULL;
    size_t k = 0;
    REQUIRE(stt_vad_split(a.s, a.n, &prm, &p, &k) == STT_OK);
    describe("five clips (24.7 s)", p, k);
    /* Reading aloud pauses at least every few sentences. */
    CHECK(k >= 3);
    check_layout(p, k, a.n, &prm);
    check_merging(p, k, &prm);
    check_coverage(a.s, a.n, p, k);
    check_cuts_quiet(a.s, a.n, p, k);
    free(p);
    free(a.s);
}

static void test_long(void)
{
    REQUIRE(load_clips());
    size_t gaps[LONG_REPEATS * TEST_LIBRIVOX_N], n_gaps = 0;
    buf b = make_long(gaps, &n_gaps);
    REQUIRE(b.s);
    CHECK(fabs((double)b.n / RATE - 332.8) < 0.1);
    stt_vad_params prm = stt_vad_default_params();
    stt_piece *p = NULL;
    size_t k = 0;
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        free(p);
        double t0 = now_s();
        REQUIRE(stt_vad_split(b.s, b.n, &prm, &p, &k) == STT_OK);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    fprintf(stderr, "  332.8 s split in %.1f ms\n", best * 1e3);
    /* Well under 50 ms optimized; the bound leaves room for sanitizer builds. */
    CHECK(best < 0.5);
    describe("five clips x12 with 0.6 s gaps (332.8 s)", p, k);
    CHECK(k >= 60);
    check_layout(p, k, b.n, &prm);
    check_merging(p, k, &prm);
    check_coverage(b.s, b.n, p, k);
    check_cuts_quiet(b.s, b.n, p, k);

    /* Nearly all 0.6 s silences between clips are cut (a short piece may be merged
     * across one). */
    size_t cut_gaps = 0;
    for (size_t g = 0; g < n_gaps; g++) {
        int inside = 0;
        for (size_t i = 0; i < k; i++)
            if (p[i].start <= gaps[g] && gaps[g] < p[i].start + p[i].n_samples) inside = 1;
        cut_gaps += !inside;
    }
    fprintf(stderr, "  %zu of %zu clip gaps cut\n", cut_gaps, n_gaps);
    CHECK(cut_gaps * 10 >= n_gaps * 9);

    /* (g) a tighter max_piece_s still holds, with the same guarantees. */
    stt_vad_params tight = prm;
    tight.max_piece_s = 2.5;
    stt_piece *q = NULL;
    size_t kq = 0;
    REQUIRE(stt_vad_split(b.s, b.n, &tight, &q, &kq) == STT_OK);
    describe("same with max_piece_s 2.5", q, kq);
    CHECK(kq >= k);
    check_layout(q, kq, b.n, &tight);
    check_merging(q, kq, &tight);
    check_coverage(b.s, b.n, q, kq);
    free(q);
    free(p);
    free(b.s);
}

/* (f) same samples and params give the same pieces, wherever the samples are. */
static void test_deterministic(void)
{
    REQUIRE(load_clips());
    buf b = make_long(NULL, NULL);
    REQUIRE(b.s);
    int16_t *copy = malloc(b.n * sizeof *copy);
    REQUIRE(copy);
    memcpy(copy, b.s, b.n * sizeof *copy);
    stt_vad_params prm = stt_vad_default_params();
    stt_piece *p1 = NULL, *p2 = NULL;
    size_t k1 = 0, k2 = 0;
    REQUIRE(stt_vad_split(b.s, b.n, &prm, &p1, &k1) == STT_OK);
    REQUIRE(stt_vad_split(copy, b.n, &prm, &p2, &k2) == STT_OK);
    CHECK(k1 == k2 && k1 > 0);
    if (k1 == k2 && k1 > 0) CHECK(memcmp(p1, p2, k1 * sizeof *p1) == 0);
    free(p1);
    free(p2);
    free(copy);
    free(b.s);
}

static void test_digital_silence(void)
{
    buf b = {0};
    REQUIRE(buf_silence(&b, 10 * RATE));
    stt_piece *p = (stt_piece *)1;
    size_t k = 7;
    CHECK(stt_vad_split(b.s, b.n, NULL, &p, &k) == STT_OK);
    CHECK(k == 0 && p == NULL);
    free(b.s);
}

static void test_quiet_noise(void)
{
    size_t n = 5 * RATE;
    int16_t *s = malloc(n * sizeof *s);
    REQUIRE(s);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        s[i] = (int16_t)((int)(x >> 16) % 61 - 30);
    }
    stt_piece *p = NULL;
    size_t k = 7;
    CHECK(stt_vad_split(s, n, NULL, &p, &k) == STT_OK);
    CHECK(k == 0 && p == NULL);

    /* Quiet noise with one word-long burst of voice: one piece around it. */
    buf v = make_voiced(0.4, 0.8, 0.2);
    REQUIRE(v.s);
    for (size_t i = 0; i < v.n; i++)
        s[2 * RATE + i] = (int16_t)(s[2 * RATE + i] + v.s[i]);
    CHECK(stt_vad_split(s, n, NULL, &p, &k) == STT_OK);
    CHECK(k == 1);
    if (k == 1) {
        CHECK(p[0].start <= 2 * RATE && p[0].start + p[0].n_samples >= 2 * RATE + v.n);
        CHECK(p[0].n_samples <= v.n + 2 * (size_t)RATE / 10 + 2 * FRAME);
    }
    free(p);
    free(v.s);
    free(s);
}

/* (e) speech with no pause long enough: cut only by max_piece_s, at quiet
 * frames, into contiguous pieces covering all of it. */
static void check_continuous(double base, double depth)
{
    buf v = make_voiced(95, base, depth);
    REQUIRE(v.s);
    stt_vad_params prm = stt_vad_default_params();
    prm.max_piece_s = 20;
    stt_piece *p = NULL;
    size_t k = 0;
    REQUIRE(stt_vad_split(v.s, v.n, &prm, &p, &k) == STT_OK);
    describe("95 s without pauses, max 20 s", p, k);
    /* Each cut lies in the last third of a 20 s window: 13.3 to 20 s each. */
    CHECK(k >= 5 && k <= 8);
    REQUIRE(k > 0);
    check_layout(p, k, v.n, &prm);
    CHECK(p[0].start == 0);
    CHECK(p[k - 1].start + p[k - 1].n_samples == v.n);
    for (size_t i = 0; i + 1 < k; i++) {
        CHECK(p[i].start + p[i].n_samples == p[i + 1].start);
        CHECK(p[i].n_samples >= (size_t)(20.0 * 2 / 3 * RATE) - FRAME);
    }
    free(p);
    free(v.s);
}

static void test_continuous(void)
{
    check_continuous(0.7, 0.3);   /* steady: 8 dB of modulation */
    check_continuous(0.55, 0.45); /* deep: 20 dB of modulation */
}

static void test_short_speech(void)
{
    /* Shorter than min_piece_s and even than one frame: one piece each. */
    buf v = make_voiced(0.5, 0.8, 0.2);
    REQUIRE(v.s);
    stt_piece *p = NULL;
    size_t k = 0;
    CHECK(stt_vad_split(v.s, v.n, NULL, &p, &k) == STT_OK);
    CHECK(k == 1 && p && p[0].start == 0 && p[0].n_samples == v.n);
    free(p);
    CHECK(stt_vad_split(v.s, 100, NULL, &p, &k) == STT_OK);
    CHECK(k == 1 && p && p[0].start == 0 && p[0].n_samples == 100);
    free(p);
    free(v.s);

    REQUIRE(load_clips());
    const buf *c = &clips[1];
    stt_vad_params prm = stt_vad_default_params();
    CHECK(stt_vad_split(c->s, c->n, &prm, &p, &k) == STT_OK);
    CHECK(k >= 1);
    check_layout(p, k, c->n, &prm);
    check_coverage(c->s, c->n, p, k);
    free(p);
}

/* Pauses are cut in their middle, keeping pad_s each side; shorter ones are not. */
static void test_pause_cutting(void)
{
    buf b = {0};
    buf w = make_voiced(1.5, 0.8, 0.2);
    REQUIRE(w.s);
    buf_silence(&b, RATE);
    buf_append(&b, w.s, w.n); /* 1.0 - 2.5 s */
    buf_silence(&b, RATE / 5);
    buf_append(&b, w.s, w.n); /* 2.7 - 4.2 s: 0.2 s pause, kept */
    buf_silence(&b, RATE);
    buf_append(&b, w.s, w.n); /* 5.2 - 6.7 s: 1 s pause, cut */
    buf_silence(&b, RATE);
    REQUIRE(b.s);
    stt_vad_params prm = stt_vad_default_params();
    stt_piece *p = NULL;
    size_t k = 0;
    REQUIRE(stt_vad_split(b.s, b.n, &prm, &p, &k) == STT_OK);
    CHECK(k == 2);
    size_t pad = (size_t)llround(prm.pad_s * RATE);
    if (k == 2) {
        CHECK(p[0].start == RATE - pad);
        CHECK(p[0].start + p[0].n_samples == 42 * RATE / 10 + pad);
        CHECK(p[1].start == 52 * RATE / 10 - pad);
        CHECK(p[1].start + p[1].n_samples == 67 * RATE / 10 + pad);
    }
    free(p);

    /* A short piece goes to the nearer neighbour. */
    buf c = {0};
    buf_append(&c, w.s, w.n);      /* 0 - 1.5 s */
    buf_silence(&c, RATE);         /* 1 s pause */
    buf_append(&c, w.s, RATE / 2); /* 2.5 - 3.0 s: short */
    buf_silence(&c, RATE / 2);     /* 0.5 s pause */
    buf_append(&c, w.s, w.n);      /* 3.5 - 5.0 s */
    REQUIRE(c.s);
    REQUIRE(stt_vad_split(c.s, c.n, &prm, &p, &k) == STT_OK);
    CHECK(k == 2);
    if (k == 2) {
        CHECK(p[0].start == 0 && p[0].n_samples == 15 * RATE / 10 + pad);
        CHECK(p[1].start == 25 * RATE / 10 - pad && p[1].start + p[1].n_samples == c.n);
    }
    free(p);
    free(c.s);
    free(b.s);
    free(w.s);
}

/* A pause exactly min_pause_s long is cut; one frame shorter is not. */
static void test_min_pause_boundary(void)
{
    buf w = make_voiced(1.5, 0.8, 0.2);
    REQUIRE(w.s);
    stt_vad_params prm = stt_vad_default_params();
    size_t pause = (size_t)llround(prm.min_pause_s * RATE);
    REQUIRE(pause % FRAME == 0 && w.n % FRAME == 0);
    for (size_t shorter = 0; shorter < 2; shorter++) {
        buf b = {0};
        buf_silence(&b, RATE);
        buf_append(&b, w.s, w.n);
        buf_silence(&b, pause - shorter * FRAME);
        buf_append(&b, w.s, w.n);
        buf_silence(&b, RATE);
        REQUIRE(b.s);
        stt_piece *p = NULL;
        size_t k = 0;
        REQUIRE(stt_vad_split(b.s, b.n, &prm, &p, &k) == STT_OK);
        CHECK(k == (shorter ? 1u : 2u));
        free(p);
        free(b.s);
    }
    free(w.s);
}

int main(void)
{
    TEST_RUN(test_defaults);
    TEST_RUN(test_bad_arguments);
    TEST_RUN(test_concat);
    TEST_RUN(test_long);
    TEST_RUN(test_deterministic);
    TEST_RUN(test_digital_silence);
    TEST_RUN(test_quiet_noise);
    TEST_RUN(test_continuous);
    TEST_RUN(test_short_speech);
    TEST_RUN(test_pause_cutting);
    TEST_RUN(test_min_pause_boundary);
    free_clips();
    return test_summary();
}
