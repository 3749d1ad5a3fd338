#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "error.h"
#include "testlib.h"

#define MAX_S 30.0 /* the 8 s and 25 s files and the 25 s copies */

static stt_corpus_entry *find(stt_corpus_entry *e, size_t n, const char *file)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].file, file)) return &e[i];
    return NULL;
}

static void test_build_deterministic(void)
{
    char a[512], b[512], err[256] = "";
    snprintf(a, sizeof a, "%s", test_tmpdir());
    snprintf(b, sizeof b, "%s", test_tmpdir());
    stt_corpus_params p = stt_corpus_default_params();
    p.testdata_dir = STT_TESTDATA_DIR;
    p.max_duration_s = MAX_S;
    stt_corpus_entry *ea = NULL, *eb = NULL;
    size_t na = 0, nb = 0;
    REQUIRE(stt_corpus_build(a, &p, &ea, &na, err, sizeof err) == 0);
    REQUIRE(stt_corpus_build(b, &p, &eb, &nb, err, sizeof err) == 0);
    REQUIRE(na == nb);
    CHECK(na == 16); /* 8 s, 25 s and its MP3, FLAC, OGG, 44.1 kHz copies; 10 clips */
    const char *formats[] = {"wav", "mp3", "flac", "ogg"};
    for (size_t f = 0; f < 4; f++) {
        int seen = 0;
        for (size_t i = 0; i < na; i++)
            seen |= !strcmp(ea[i].format, formats[f]);
        CHECK(seen);
    }
    for (size_t i = 0; i < na; i++) {
        CHECK(ea[i].duration_s <= MAX_S);
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", a, ea[i].file);
        snprintf(pb, sizeof pb, "%s/%s", b, ea[i].file);
        size_t la = 0, lb = 0;
        char *da = test_read_file(pa, &la), *db = test_read_file(pb, &lb);
        REQUIRE(da && db);
        CHECK(la == lb && memcmp(da, db, la) == 0);
        CHECK((long long)la == ea[i].bytes);
        free(da);
        free(db);
    }
    const char *man[] = {"manifest.json", "manifest.tsv", "clips/manifest.json"};
    for (size_t k = 0; k < 3; k++) {
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", a, man[k]);
        snprintf(pb, sizeof pb, "%s/%s", b, man[k]);
        size_t la = 0, lb = 0;
        char *da = test_read_file(pa, &la), *db = test_read_file(pb, &lb);
        REQUIRE(da && db);
        CHECK(la == lb && memcmp(da, db, la) == 0);
        free(da);
        free(db);
    }

    /* The manifest reads back as built, and every duration is the file's own. */
    stt_corpus_entry *m = NULL;
    size_t nm = 0;
    REQUIRE(stt_corpus_load_all(a, &m, &nm, err, sizeof err) == 0);
    REQUIRE(nm == na);
    for (size_t i = 0; i < nm; i++) {
        CHECK_STR_EQ(m[i].file, ea[i].file);
        CHECK_STR_EQ(m[i].reference, ea[i].reference);
        CHECK(m[i].bytes == ea[i].bytes && m[i].clips == ea[i].clips);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", a, m[i].file);
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(path, SFM_READ, &info);
        REQUIRE(sf);
        sf_close(sf);
        double d = (double)info.frames / info.samplerate;
        CHECK(d > m[i].duration_s - 0.001 && d < m[i].duration_s + 0.001);
        CHECK(info.samplerate == m[i].sample_rate && info.channels == m[i].channels);
    }

    /* References are the clips' transcripts, in order; lengths are clips + pauses. */
    char r[512], want[4096] = "";
    stt_corpus_entry *e8 = find(m, nm, "speech_0008s.wav");
    stt_corpus_entry *e25 = find(m, nm, "speech_0025s.wav");
    REQUIRE(e8 && e25);
    REQUIRE(stt_corpus_clip_reference(STT_TESTDATA_DIR, test_librivox_ids[0], r, sizeof r, err,
                                      sizeof err) == 0);
    CHECK(strstr(r, "mister john dashwood") != NULL && !strchr(r, '<') && !strchr(r, '('));
    CHECK_STR_EQ(e8->reference, r);
    double clip_s = 0;
    for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
        REQUIRE(stt_corpus_clip_reference(STT_TESTDATA_DIR, test_librivox_ids[i], r, sizeof r, err,
                                          sizeof err) == 0);
        if (i) strcat(want, " ");
        strcat(want, r);
        char path[1024];
        snprintf(path, sizeof path, "librivox/%s.wav", test_librivox_ids[i]);
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(test_data(path), SFM_READ, &info);
        REQUIRE(sf);
        sf_close(sf);
        clip_s += (double)info.frames / info.samplerate;
    }
    CHECK_STR_EQ(e25->reference, want);
    CHECK(e25->clips == 5);
    double expect = clip_s + 5 * p.pause_s;
    CHECK(e25->duration_s > expect - 0.001 && e25->duration_s < expect + 0.001);
    CHECK(e8->duration_s > 6 && e8->duration_s < 10);
    stt_corpus_entry *mp3 = find(m, nm, "speech_0025s.mp3");
    REQUIRE(mp3);
    CHECK_STR_EQ(mp3->reference, want);
    stt_corpus_free_entries(m, nm);
    stt_corpus_free_entries(ea, na);
    stt_corpus_free_entries(eb, nb);
}

/* Reads a mono 16 kHz file's samples; NULL on failure. */
static short *read_pcm(const char *path, size_t *n)
{
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) return NULL;
    short *s = NULL;
    if (info.channels == 1 && info.samplerate == 16000 && info.frames > 0) {
        s = malloc(sizeof(short) * (size_t)info.frames);
        *n = s ? (size_t)sf_readf_short(sf, s, info.frames) : 0;
    }
    sf_close(sf);
    return s;
}

/* Every clip is followed by its pause of digital silence: clip 1, pause, clip 2, ... */
static void test_pause_after_each_clip(void)
{
    char dir[512], path[1024], err[256] = "";
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    stt_corpus_params p = stt_corpus_default_params();
    p.testdata_dir = STT_TESTDATA_DIR;
    p.max_duration_s = MAX_S;
    p.formats = 0;
    REQUIRE(stt_corpus_build(dir, &p, NULL, NULL, err, sizeof err) == 0);
    size_t n = 0, n0 = 0, n1 = 0;
    snprintf(path, sizeof path, "%s/speech_0025s.wav", dir);
    short *all = read_pcm(path, &n);
    snprintf(path, sizeof path, "librivox/%s.wav", test_librivox_ids[0]);
    short *c0 = read_pcm(test_data(path), &n0);
    snprintf(path, sizeof path, "librivox/%s.wav", test_librivox_ids[1]);
    short *c1 = read_pcm(test_data(path), &n1);
    size_t pause = (size_t)(p.pause_s * 16000 + 0.5);
    REQUIRE(all && c0 && c1 && pause > 0);
    REQUIRE(n >= n0 + pause + n1);
    CHECK(memcmp(all, c0, n0 * sizeof *all) == 0);
    size_t nonzero = 0;
    for (size_t i = n0; i < n0 + pause; i++)
        nonzero += all[i] != 0;
    CHECK(nonzero == 0);
    CHECK(memcmp(all + n0 + pause, c1, n1 * sizeof *all) == 0);
    free(all);
    free(c0);
    free(c1);
}

static void test_clip_references(void)
{
    char r[256], err[128];
    CHECK(stt_corpus_clip_reference(STT_TESTDATA_DIR, "cards/005", r, sizeof r, err, sizeof err) ==
          0);
    CHECK_STR_EQ(r, "eight of spades four of clubs seven of hearts");
    CHECK(stt_corpus_clip_reference(STT_TESTDATA_DIR, "no-such-clip", r, sizeof r, err,
                                    sizeof err) == STT_ENOTFOUND);
}

static void test_selection(void)
{
    stt_corpus_entry under = {0}, over = {0}, exact = {0};
    under.duration_s = 599.999;
    exact.duration_s = 600.0;
    over.duration_s = 600.001;
    CHECK(stt_corpus_selected(&under, 600) == 1);
    CHECK(stt_corpus_selected(&exact, 600) == 1);
    CHECK(stt_corpus_selected(&over, 600) == 0);
    CHECK(stt_corpus_selected(&over, 0) == 1); /* no limit */
}

/* The clip set: every source clip but 0870 (which speech_0008s.wav is) alone
 * with its pause, in clips/ with a manifest of its own that the main one
 * does not include. */
static void test_clip_set(void)
{
    char a[512], err[256] = "";
    snprintf(a, sizeof a, "%s", test_tmpdir());
    stt_corpus_params p = stt_corpus_default_params();
    p.testdata_dir = STT_TESTDATA_DIR;
    p.max_duration_s = 10;
    p.formats = 0;
    stt_corpus_entry *e = NULL, *m = NULL, *c = NULL;
    size_t n = 0, nm = 0, nc = 0;
    REQUIRE(stt_corpus_build(a, &p, &e, &n, err, sizeof err) == 0);
    REQUIRE(stt_corpus_load_manifest(a, &m, &nm, err, sizeof err) == 0);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/clips", a);
    REQUIRE(stt_corpus_load_manifest(sub, &c, &nc, err, sizeof err) == 0);
    CHECK(nm == 1 && !strcmp(m[0].file, "speech_0008s.wav"));
    CHECK(nc == 10 && n == 11);
    CHECK(find(e, n, "clips/clip_0880.wav") && find(e, n, "clips/clip_cards_001.wav") &&
          find(e, n, "clips/clip_goforward.wav") && !find(e, n, "clips/clip_0870.wav"));
    for (size_t i = 0; i < nc; i++) {
        CHECK(c[i].clips == 1 && c[i].sample_rate == 16000 && c[i].channels == 1);
        CHECK(c[i].duration_s > 1.0 && c[i].duration_s < 7.5);
    }
    stt_corpus_entry *g = find(c, nc, "clip_goforward.wav");
    REQUIRE(g);
    CHECK_STR_EQ(g->reference, "go forward ten meters");
    stt_corpus_entry *k = find(c, nc, "clip_0880.wav");
    REQUIRE(k);
    CHECK(fabs(k->duration_s - (2.99 + p.pause_s)) < 0.001);
    /* A corpus built without the clip set loads as before. */
    stt_corpus_entry *all = NULL;
    size_t nall = 0;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/clips'", a);
    CHECK(system(cmd) == 0);
    CHECK(stt_corpus_load_all(a, &all, &nall, err, sizeof err) == 0 && nall == 1);
    stt_corpus_free_entries(all, nall);
    stt_corpus_free_entries(e, n);
    stt_corpus_free_entries(m, nm);
    stt_corpus_free_entries(c, nc);
}

static void test_bad_manifest(void)
{
    char dir[512], path[1024], err[256];
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    stt_corpus_entry *e = NULL;
    size_t n = 0;
    CHECK(stt_corpus_load_manifest(dir, &e, &n, err, sizeof err) == STT_EIO);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("[{\"file\": 3}]", f);
    fclose(f);
    CHECK(stt_corpus_load_manifest(dir, &e, &n, err, sizeof err) == STT_EINVAL);
    CHECK(e == NULL && n == 0);
}

int main(void)
{
    TEST_RUN(test_build_deterministic);
    TEST_RUN(test_clip_references);
    TEST_RUN(test_pause_after_each_clip);
    TEST_RUN(test_selection);
    TEST_RUN(test_bad_manifest);
    TEST_RUN(test_clip_set);
    return test_summary();
}
