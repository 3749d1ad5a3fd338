#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "testlib.h"
#include "wer.h"

static stt_wer_counts align(const char *ref, const char *hyp)
{
    stt_wer_counts c;
    memset(&c, 0xff, sizeof c);
    int rc = stt_wer_align_text(ref, hyp, 0, &c);
    CHECK(rc == 0);
    return c;
}

#define CHECK_COUNTS(c, S, D, I, N)                                                                \
    do {                                                                                           \
        CHECK((c).substitutions == (S));                                                           \
        CHECK((c).deletions == (D));                                                               \
        CHECK((c).insertions == (I));                                                              \
        CHECK((c).ref_words == (N));                                                               \
        CHECK((c).correct == (N) - (S) - (D));                                                     \
    } while (0)

static void test_hand_cases(void)
{
    stt_wer_counts c = align("a b c d", "a b c d");
    CHECK_COUNTS(c, 0, 0, 0, 4);
    CHECK(c.utterances == 1 && c.utterances_wrong == 0);
    CHECK(stt_wer_rate(&c) == 0.0);

    c = align("a b c d", "a x c");
    CHECK_COUNTS(c, 1, 1, 0, 4);
    CHECK(c.hyp_words == 3 && c.utterances_wrong == 1);
    CHECK(stt_wer_rate(&c) == 0.5);

    /* Moving a word costs an insertion and a deletion (3 + 3), cheaper than
     * the substitutions (4 each) that would also explain it. */
    c = align("the cat sat on the mat", "the cat sat mat on the");
    CHECK_COUNTS(c, 0, 1, 1, 6);

    c = align("", "");
    CHECK_COUNTS(c, 0, 0, 0, 0);
    CHECK(stt_wer_rate(&c) == 0.0);

    c = align("", "hello there");
    CHECK_COUNTS(c, 0, 0, 2, 0);
    CHECK(stt_wer_rate(&c) == 1.0);

    c = align("one two three", "");
    CHECK_COUNTS(c, 0, 3, 0, 3);
    CHECK(stt_wer_rate(&c) == 1.0);

    c = align("a b c", "x y z");
    CHECK_COUNTS(c, 3, 0, 0, 3);

    /* One substitution (4) is cheaper than a deletion plus an insertion (6). */
    c = align("a b", "a c");
    CHECK_COUNTS(c, 1, 0, 0, 2);

    c = align("a", "b a");
    CHECK_COUNTS(c, 0, 0, 1, 1);

    /* Where a deletion and an insertion cost the same, the insertion is kept:
     * sclite scores this C1 S3 D0 I1; preferring the deletion gives S0 D2 I3
     * at the same cost. */
    c = align("a b b a", "c c c a b");
    CHECK_COUNTS(c, 3, 0, 1, 4);

    /* White space of any kind separates words. */
    c = align("  a\tb\n c ", "a b c");
    CHECK_COUNTS(c, 0, 0, 0, 3);

    const char *r[] = {"x", "y"};
    CHECK(stt_wer_align(r, 2, NULL, 0, &c) == 0);
    CHECK_COUNTS(c, 0, 2, 0, 2);
    CHECK(stt_wer_align(NULL, 2, r, 2, &c) == STT_EINVAL);
    CHECK(stt_wer_align(r, 2, r, 2, NULL) == STT_EINVAL);
}

static void test_normalize(void)
{
    char *s = stt_wer_normalize("Don't STOP -- 'now'!");
    CHECK_STR_EQ(s, "don't stop now");
    free(s);
    s = stt_wer_normalize("  Hello,world...  It's   9 O'CLOCK.\n");
    CHECK_STR_EQ(s, "hello world it's 9 o'clock");
    free(s);
    s = stt_wer_normalize("''' ,,, ");
    CHECK_STR_EQ(s, "");
    free(s);
    s = stt_wer_normalize("caf\xc3\xa9 ol\xc3\xa9");
    CHECK_STR_EQ(s, "caf\xc3\xa9 ol\xc3\xa9");
    free(s);
    CHECK(stt_wer_normalize(NULL) == NULL);

    stt_wer_counts c;
    CHECK(stt_wer_align_text("Hello, World!", "hello world", 1, &c) == 0);
    CHECK_COUNTS(c, 0, 0, 0, 2);
    CHECK(stt_wer_align_text("Hello, World!", "hello world", 0, &c) == 0);
    CHECK_COUNTS(c, 2, 0, 0, 2);
}

static void test_corpus_accumulation(void)
{
    stt_wer_counts acc = {0}, c;
    CHECK(stt_wer_align_text("a b c d", "a b c d", 0, &c) == 0);
    stt_wer_add(&acc, &c);
    CHECK(stt_wer_align_text("a b", "x", 0, &c) == 0);
    stt_wer_add(&acc, &c);
    /* Corpus WER is total errors over total reference words (2/6), not the
     * mean of the per-utterance rates ((0 + 1) / 2). */
    CHECK(acc.ref_words == 6 && stt_wer_errors(&acc) == 2);
    CHECK(acc.utterances == 2 && acc.utterances_wrong == 1);
    CHECK(stt_wer_rate(&acc) > 0.333 && stt_wer_rate(&acc) < 0.334);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *find_sclite(void)
{
    static const char *const paths[] = {"/usr/lib/sctk/bin/sclite", "/usr/bin/sclite",
                                        "/usr/local/bin/sclite"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (access(paths[i], X_OK) == 0) return paths[i];
    return NULL;
}

enum { N_UTT = 300, MAX_WORDS = 14 };

typedef struct pair {
    char ref[MAX_WORDS * 8], hyp[MAX_WORDS * 8 + 64];
    stt_wer_counts ours;
    int seen;
} pair;

/* A reference from a tiny vocabulary (so alignments have many ties) and a
 * hypothesis made from it by random edits, the way recognisers err. */
static void make_pair(pair *p)
{
    static const char *const vocab[] = {"a", "b", "c", "d", "e", "the", "cat"};
    const size_t nv = sizeof vocab / sizeof *vocab;
    unsigned n = rnd(MAX_WORDS) + 1;
    const char *r[MAX_WORDS], *h[MAX_WORDS * 2 + 2];
    unsigned nh = 0;
    for (unsigned i = 0; i < n; i++)
        r[i] = vocab[rnd((unsigned)nv)];
    for (unsigned i = 0; i < n; i++) {
        unsigned op = rnd(10);
        if (op == 0) continue;                           /* drop */
        if (op == 1) h[nh++] = vocab[rnd((unsigned)nv)]; /* insert before */
        h[nh++] = op == 2 ? vocab[rnd((unsigned)nv)] : r[i];
    }
    if (rnd(4) == 0) h[nh++] = vocab[rnd((unsigned)nv)];
    if (rnd(6) == 0) { /* a badly broken hypothesis */
        unsigned keep = rnd(3);
        if (keep < nh) nh = keep;
    }
    p->ref[0] = p->hyp[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        strcat(p->ref, r[i]);
        strcat(p->ref, " ");
    }
    for (unsigned i = 0; i < nh; i++) {
        strcat(p->hyp, h[i]);
        strcat(p->hyp, " ");
    }
}

static void test_matches_sclite(void)
{
    const char *sclite = find_sclite();
    if (!sclite) {
        printf("SKIP test_matches_sclite: sclite not installed (Debian package sctk)\n");
        return;
    }
    static pair pairs[N_UTT];
    stt_wer_counts total = {0};
    for (int i = 0; i < N_UTT; i++) {
        make_pair(&pairs[i]);
        REQUIRE(stt_wer_align_text(pairs[i].ref, pairs[i].hyp, 0, &pairs[i].ours) == 0);
        stt_wer_add(&total, &pairs[i].ours);
    }

    const char *dir = test_tmpdir();
    REQUIRE(dir);
    char refp[4200], hypp[4200], cmd[9000];
    snprintf(refp, sizeof refp, "%s/ref.trn", dir);
    snprintf(hypp, sizeof hypp, "%s/hyp.trn", dir);
    FILE *rf = fopen(refp, "w"), *hf = fopen(hypp, "w");
    REQUIRE(rf && hf);
    for (int i = 0; i < N_UTT; i++) {
        fprintf(rf, "%s(spk_u%03d)\n", pairs[i].ref, i);
        fprintf(hf, "%s(spk_u%03d)\n", pairs[i].hyp, i);
    }
    fclose(rf);
    fclose(hf);

    /* rsum: corpus totals as counts; pralign: per-utterance counts. */
    snprintf(cmd, sizeof cmd, "'%s' -r '%s' trn -h '%s' trn -i spu_id -o rsum pralign stdout 2>&1",
             sclite, refp, hypp);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    char line[4096];
    int cur = -1, n_scores = 0, got_sum = 0;
    size_t snt = 0, wrd = 0, corr = 0, sub = 0, del = 0, ins = 0, err = 0, serr = 0;
    while (fgets(line, sizeof line, p)) {
        int id;
        size_t c, s, d, in;
        if (sscanf(line, "id: (spk_u%d)", &id) == 1) {
            cur = id;
        } else if (sscanf(line, "Scores: (#C #S #D #I) %zu %zu %zu %zu", &c, &s, &d, &in) == 4) {
            REQUIRE(cur >= 0 && cur < N_UTT);
            pair *q = &pairs[cur];
            q->seen = 1;
            n_scores++;
            int same = q->ours.correct == c && q->ours.substitutions == s &&
                       q->ours.deletions == d && q->ours.insertions == in;
            if (!same)
                fprintf(stderr,
                        "  utt %d: ref '%s' hyp '%s'\n  sclite C%zu S%zu D%zu I%zu, ours "
                        "C%zu S%zu D%zu I%zu\n",
                        cur, q->ref, q->hyp, c, s, d, in, q->ours.correct, q->ours.substitutions,
                        q->ours.deletions, q->ours.insertions);
            CHECK(same);
            cur = -1;
        } else if (strstr(line, "| Sum ")) {
            for (char *x = line; *x; x++)
                if (*x == '|') *x = ' ';
            got_sum = sscanf(line, " Sum %zu %zu %zu %zu %zu %zu %zu %zu", &snt, &wrd, &corr, &sub,
                             &del, &ins, &err, &serr) == 8;
        }
    }
    CHECK(pclose(p) == 0);
    CHECK(n_scores == N_UTT);
    REQUIRE(got_sum);
    CHECK(snt == total.utterances);
    CHECK(wrd == total.ref_words);
    CHECK(corr == total.correct);
    CHECK(sub == total.substitutions);
    CHECK(del == total.deletions);
    CHECK(ins == total.insertions);
    CHECK(err == stt_wer_errors(&total));
    CHECK(serr == total.utterances_wrong);
    printf("sclite agrees on %d utterances: N=%zu S=%zu D=%zu I=%zu\n", n_scores, wrd, sub, del,
           ins);
    unlink(refp);
    unlink(hypp);
    rmdir(dir);
}

int main(void)
{
    TEST_RUN(test_hand_cases);
    TEST_RUN(test_normalize);
    TEST_RUN(test_corpus_accumulation);
    TEST_RUN(test_matches_sclite);
    return test_summary();
}
