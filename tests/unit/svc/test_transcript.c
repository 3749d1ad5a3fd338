#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "testlib.h"
#include "transcript.h"

/* Two segments, with fillers and a pronunciation variant among the tokens. */
static stt_transcript *sample(void)
{
    stt_transcript *t = stt_transcript_create();
    if (!t) return NULL;
    stt_transcript_begin_segment(t, 0.0, 1.5);
    CHECK(stt_transcript_add_word(t, "<s>", 0.0, 0.1, 1.0) == 1);
    CHECK(stt_transcript_add_word(t, "hello", 0.1, 0.5, 0.9) == 0);
    CHECK(stt_transcript_add_word(t, "<sil>", 0.5, 0.6, 1.0) == 1);
    CHECK(stt_transcript_add_word(t, "world(2)", 0.6, 1.2, 0.8) == 0);
    CHECK(stt_transcript_add_word(t, "</s>", 1.2, 1.5, 1.0) == 1);
    stt_transcript_begin_segment(t, 2.0, 3.25);
    CHECK(stt_transcript_add_word(t, "[NOISE]", 2.0, 2.1, 1.0) == 1);
    CHECK(stt_transcript_add_word(t, "good", 2.1, 2.5, 1.0) == 0);
    CHECK(stt_transcript_add_word(t, "morning", 2.6, 3.2, 0.5) == 0);
    stt_transcript_set_duration(t, 3.5);
    return t;
}

static char *render(const stt_transcript *t, stt_format f, const stt_format_opts *o)
{
    char *out = NULL;
    size_t len = 0;
    int rc = stt_transcript_format(t, f, o, &out, &len);
    CHECK(rc == 0);
    if (rc == 0) CHECK(strlen(out) == len);
    /* Identical transcripts must give identical bytes. */
    char *again = NULL;
    size_t len2 = 0;
    if (rc == 0 && stt_transcript_format(t, f, o, &again, &len2) == 0) {
        CHECK(len2 == len && memcmp(out, again, len) == 0);
        free(again);
    }
    return out;
}

static void test_structure(void)
{
    stt_transcript *t = sample();
    REQUIRE(t);
    CHECK(stt_transcript_n_segments(t) == 2);
    CHECK(stt_transcript_n_words(t) == 4);
    CHECK_STR_EQ(stt_transcript_word(t, 1)->text, "world");
    const stt_segment *s = stt_transcript_segment(t, 1);
    CHECK(s->first_word == 2 && s->n_words == 2);
    CHECK(s->start == 2.0 && s->end == 3.25);
    CHECK(stt_transcript_segment(t, 2) == NULL && stt_transcript_word(t, 4) == NULL);
    CHECK(stt_transcript_duration(t) == 3.5);
    char *text = stt_transcript_text(t);
    CHECK_STR_EQ(text, "hello world good morning");
    free(text);

    /* A word outside its segment widens it; a word with no open segment opens one. */
    stt_transcript_begin_segment(t, 4.0, 4.5);
    CHECK(stt_transcript_add_word(t, "late", 3.9, 5.0, 1.0) == 0);
    s = stt_transcript_segment(t, 2);
    CHECK(s->start == 3.9 && s->end == 5.0);
    stt_transcript *u = stt_transcript_create();
    REQUIRE(u);
    CHECK(stt_transcript_add_word(u, "solo", 1.0, 2.0, 1.0) == 0);
    CHECK(stt_transcript_n_segments(u) == 1);
    CHECK(stt_transcript_segment(u, 0)->start == 1.0);
    CHECK(stt_transcript_add_word(u, NULL, 1.0, 2.0, 1.0) == STT_EINVAL);
    CHECK(stt_transcript_add_word(u, "x", NAN, 2.0, 1.0) == STT_EINVAL);
    CHECK(stt_transcript_begin_segment(u, 0.0, INFINITY) == STT_EINVAL);
    CHECK(stt_transcript_add_word(u, "x", 1e11, 1e11, 1.0) == STT_EINVAL);
    CHECK(stt_transcript_append(u, u, 1.0) == STT_EINVAL);
    stt_transcript_free(u);
    stt_transcript_free(t);
}

static void test_fillers_and_variants(void)
{
    static const char *const fillers[] = {
        "<s>",  "</s>",   "<sil>",     "[NOISE]", "[BREATH]",   "[COUGH]",     "[SMACK]", "[UH]",
        "[UM]", "++UH++", "++LAUGH++", "<unk>",   "[anything]", "++garbage++", "(3)",     ""};
    stt_transcript *t = stt_transcript_create();
    REQUIRE(t);
    for (size_t i = 0; i < sizeof fillers / sizeof *fillers; i++) {
        int rc = stt_transcript_add_word(t, fillers[i], 0.0, 1.0, 1.0);
        if (rc != 1) fprintf(stderr, "  not dropped: '%s'\n", fillers[i]);
        CHECK(rc == 1);
    }
    CHECK(stt_transcript_n_words(t) == 0);

    static const char *const in[] = {"read(2)", "the(10)", "a", "don't", "read()", "x(y)", "++a"};
    static const char *const want[] = {"read", "the", "a", "don't", "read()", "x(y)", "++a"};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        CHECK(stt_transcript_add_word(t, in[i], (double)i, (double)i + 0.5, 1.0) == 0);
        CHECK_STR_EQ(stt_transcript_word(t, i)->text, want[i]);
    }
    /* Bytes that would break JSON or a subtitle cue are neutralised. */
    CHECK(stt_transcript_add_word(t, "a\nb\xff", 9.0, 9.5, 1.0) == 0);
    CHECK_STR_EQ(stt_transcript_word(t, stt_transcript_n_words(t) - 1)->text, "a?b?");
    CHECK(stt_transcript_add_word(t, "caf\xc3\xa9", 10.0, 10.5, 2.0) == 0);
    const stt_word *w = stt_transcript_word(t, stt_transcript_n_words(t) - 1);
    CHECK_STR_EQ(w->text, "caf\xc3\xa9");
    CHECK(w->prob == 1.0);
    char *out = render(t, STT_FMT_JSON, NULL);
    CHECK(out && strstr(out, "a?b?") && strstr(out, "caf\xc3\xa9"));
    free(out);
    stt_transcript_free(t);
}

static void test_formats_exact(void)
{
    stt_transcript *t = sample();
    REQUIRE(t);
    char *s = render(t, STT_FMT_JSON, NULL);
    CHECK_STR_EQ(s, "{\"text\":\"hello world good morning\"}");
    free(s);
    s = render(t, STT_FMT_TEXT, NULL);
    CHECK_STR_EQ(s, "hello world good morning\n");
    free(s);
    s = render(t, STT_FMT_SRT, NULL);
    CHECK_STR_EQ(s, "1\n00:00:00,000 --> 00:00:01,500\nhello world\n\n"
                    "2\n00:00:02,000 --> 00:00:03,250\ngood morning\n\n");
    free(s);
    s = render(t, STT_FMT_VTT, NULL);
    CHECK_STR_EQ(s, "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nhello world\n\n"
                    "00:00:02.000 --> 00:00:03.250\ngood morning\n\n");
    free(s);

    /* Hours, minutes and millisecond rounding in cue times. */
    stt_transcript *l = stt_transcript_create();
    REQUIRE(l);
    stt_transcript_begin_segment(l, 3723.4567, 3724.0);
    stt_transcript_add_word(l, "late", 3723.5, 3723.9999, 1.0);
    s = render(l, STT_FMT_SRT, NULL);
    CHECK_STR_EQ(s, "1\n01:02:03,457 --> 01:02:04,000\nlate\n\n");
    free(s);
    stt_transcript_free(l);
    stt_transcript_free(t);
}

static void test_verbose_json(void)
{
    stt_transcript *t = sample();
    REQUIRE(t);
    stt_format_opts o = stt_format_default_opts();
    CHECK(o.segments == 1 && o.words == 0 && strcmp(o.language, "en") == 0);
    o.words = 1;
    char *s = render(t, STT_FMT_VERBOSE_JSON, &o);
    REQUIRE(s);
    CHECK(strncmp(s, "{\"task\":\"transcribe\",\"language\":\"english\",\"duration\":3.5,", 57) ==
          0);
    json_error_t je;
    json_t *root = json_loads(s, 0, &je);
    REQUIRE(root);
    CHECK_STR_EQ(json_string_value(json_object_get(root, "task")), "transcribe");
    CHECK_STR_EQ(json_string_value(json_object_get(root, "language")), "english");
    CHECK(json_real_value(json_object_get(root, "duration")) == 3.5);
    CHECK_STR_EQ(json_string_value(json_object_get(root, "text")), "hello world good morning");
    json_t *segs = json_object_get(root, "segments");
    CHECK(json_array_size(segs) == 2);
    json_t *s1 = json_array_get(segs, 1);
    CHECK(json_integer_value(json_object_get(s1, "id")) == 1);
    CHECK(json_integer_value(json_object_get(s1, "seek")) == 200);
    CHECK(json_real_value(json_object_get(s1, "start")) == 2.0);
    CHECK(json_real_value(json_object_get(s1, "end")) == 3.25);
    CHECK_STR_EQ(json_string_value(json_object_get(s1, "text")), " good morning");
    CHECK(json_is_array(json_object_get(s1, "tokens")));
    CHECK(json_real_value(json_object_get(s1, "temperature")) == 0.0);
    /* mean(log 1, log 0.5) = -0.3466 -> -0.35 */
    CHECK(json_real_value(json_object_get(s1, "avg_logprob")) == -0.35);
    CHECK(json_real_value(json_object_get(s1, "compression_ratio")) == 1.0);
    CHECK(json_is_real(json_object_get(s1, "no_speech_prob")));
    json_t *words = json_object_get(root, "words");
    CHECK(json_array_size(words) == 4);
    json_t *w1 = json_array_get(words, 1);
    CHECK_STR_EQ(json_string_value(json_object_get(w1, "word")), "world");
    CHECK(json_real_value(json_object_get(w1, "start")) == 0.6);
    CHECK(json_real_value(json_object_get(w1, "end")) == 1.2);
    json_decref(root);
    free(s);

    /* Times are rounded to hundredths and printed short. */
    stt_transcript *r = stt_transcript_create();
    REQUIRE(r);
    stt_transcript_add_word(r, "x", 0.123456, 1.0 / 3.0, 1.0);
    stt_transcript_set_duration(r, 2.0 / 3.0);
    o.language = "de";
    s = render(r, STT_FMT_VERBOSE_JSON, &o);
    CHECK(s && strstr(s, "\"language\":\"german\",\"duration\":0.67,"));
    CHECK(s && strstr(s, "\"words\":[{\"word\":\"x\",\"start\":0.12,\"end\":0.33}]}"));
    free(s);
    o.segments = 0;
    o.words = 0;
    s = render(r, STT_FMT_VERBOSE_JSON, &o);
    CHECK(s && !strstr(s, "segments") && !strstr(s, "words"));
    free(s);
    stt_transcript_free(r);
    stt_transcript_free(t);
}

static void test_empty_transcript(void)
{
    stt_transcript *t = stt_transcript_create();
    REQUIRE(t);
    stt_transcript_begin_segment(t, 0.0, 1.0); /* a segment with only fillers */
    stt_transcript_add_word(t, "<sil>", 0.0, 1.0, 1.0);
    char *s = render(t, STT_FMT_JSON, NULL);
    CHECK_STR_EQ(s, "{\"text\":\"\"}");
    free(s);
    s = render(t, STT_FMT_TEXT, NULL);
    CHECK_STR_EQ(s, "\n");
    free(s);
    s = render(t, STT_FMT_SRT, NULL);
    CHECK_STR_EQ(s, "");
    free(s);
    s = render(t, STT_FMT_VTT, NULL);
    CHECK_STR_EQ(s, "WEBVTT\n\n");
    free(s);
    stt_format_opts o = stt_format_default_opts();
    o.words = 1;
    s = render(t, STT_FMT_VERBOSE_JSON, &o);
    CHECK_STR_EQ(s, "{\"task\":\"transcribe\",\"language\":\"english\",\"duration\":0.0,"
                    "\"text\":\"\",\"segments\":[],\"words\":[]}");
    free(s);
    stt_transcript_free(t);
}

static void test_format_names(void)
{
    static const char *const names[] = {"json", "text", "verbose_json", "srt", "vtt"};
    static const char *const types[] = {"application/json", "text/plain; charset=utf-8",
                                        "application/json", "application/x-subrip", "text/vtt"};
    for (size_t i = 0; i < 5; i++) {
        stt_format f;
        CHECK(stt_format_parse(names[i], &f) == 0);
        CHECK_STR_EQ(stt_format_name(f), names[i]);
        CHECK_STR_EQ(stt_format_content_type(f), types[i]);
    }
    stt_format f;
    CHECK(stt_format_parse("JSON", &f) == STT_EINVAL);
    CHECK(stt_format_parse("", &f) == STT_EINVAL);
    CHECK(stt_format_parse(NULL, &f) == STT_EINVAL);
    stt_transcript *t = stt_transcript_create();
    char *out;
    size_t len;
    CHECK(stt_transcript_format(t, (stt_format)99, NULL, &out, &len) == STT_EINVAL);
    stt_format_opts o = stt_format_default_opts();
    o.language = "\xff";
    CHECK(stt_transcript_format(t, STT_FMT_VERBOSE_JSON, &o, &out, &len) == STT_EINVAL);
    stt_transcript_free(t);
}

static void test_append_offset(void)
{
    stt_transcript *all = stt_transcript_create(), *p1 = sample(), *p2 = sample();
    REQUIRE(all && p1 && p2);
    CHECK(stt_transcript_append(all, p1, 0.0) == 0);
    CHECK(stt_transcript_append(all, p2, 10.0) == 0);
    CHECK(stt_transcript_n_segments(all) == 4);
    CHECK(stt_transcript_n_words(all) == 8);
    CHECK(stt_transcript_duration(all) == 13.5);
    const stt_segment *s = stt_transcript_segment(all, 2);
    CHECK(s->start == 10.0 && s->end == 11.5 && s->first_word == 4 && s->n_words == 2);
    /* Every word keeps its place relative to its piece, and time only moves forward. */
    for (size_t i = 0; i < 4; i++) {
        const stt_word *a = stt_transcript_word(all, i + 4), *b = stt_transcript_word(p2, i);
        CHECK(fabs(a->start - (b->start + 10.0)) < 1e-9);
        CHECK(fabs(a->end - (b->end + 10.0)) < 1e-9);
        CHECK(a->prob == b->prob && strcmp(a->text, b->text) == 0);
    }
    for (size_t i = 1; i < 8; i++)
        CHECK(stt_transcript_word(all, i)->start >= stt_transcript_word(all, i - 1)->end);
    /* The appended words are copies, independent of the source. */
    stt_transcript_free(p2);
    char *s2 = render(all, STT_FMT_SRT, NULL);
    CHECK(s2 && strstr(s2, "4\n00:00:12,000 --> 00:00:13,250\ngood morning\n\n"));
    free(s2);
    /* Words added after an append extend the last appended segment. */
    CHECK(stt_transcript_add_word(all, "more", 13.3, 13.4, 1.0) == 0);
    CHECK(stt_transcript_segment(all, 3)->n_words == 3);
    stt_transcript_free(p1);
    stt_transcript_free(all);
}

/* Parses "HH:MM:SS,mmm" (or '.'). */
static double parse_time(const char *s)
{
    int h, m, sec, ms;
    char sep;
    if (sscanf(s, "%d:%d:%d%c%d", &h, &m, &sec, &sep, &ms) != 5) return -1;
    return h * 3600.0 + m * 60.0 + sec + ms / 1000.0;
}

/* Checks the cues of an srt rendering of one segment against the limits and
 * that they carry every word once, in order; returns the number of cues. */
static int check_cues(const char *srt, const stt_transcript *t)
{
    char *copy = strdup(srt), *save = NULL;
    int cues = 0;
    size_t next_word = 0;
    double last_end = 0.0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *arrow = strstr(line, " --> ");
        if (!arrow) continue;
        double a = parse_time(line), b = parse_time(arrow + 5);
        CHECK(a >= 0 && b >= a && a >= last_end);
        CHECK(b - a <= 10.0 + 1e-9);
        last_end = b;
        char *words = strtok_r(NULL, "\n", &save);
        CHECK(words != NULL);
        if (!words) break;
        int n = 0;
        char *ws = NULL;
        for (char *w = strtok_r(words, " ", &ws); w; w = strtok_r(NULL, " ", &ws), n++) {
            CHECK(next_word < stt_transcript_n_words(t));
            if (next_word < stt_transcript_n_words(t))
                CHECK_STR_EQ(w, stt_transcript_word(t, next_word)->text);
            next_word++;
        }
        CHECK(n >= 1 && n <= 16);
        cues++;
    }
    CHECK(next_word == stt_transcript_n_words(t));
    free(copy);
    return cues;
}

static void test_cue_splitting(void)
{
    /* 40 quick words in 12 s: too many words for one cue. */
    stt_transcript *t = stt_transcript_create();
    REQUIRE(t);
    stt_transcript_begin_segment(t, 0.0, 12.0);
    char w[16];
    for (int i = 0; i < 40; i++) {
        snprintf(w, sizeof w, "w%d", i);
        stt_transcript_add_word(t, w, i * 0.3, i * 0.3 + 0.25, 1.0);
    }
    char *s = render(t, STT_FMT_SRT, NULL);
    REQUIRE(s);
    CHECK(check_cues(s, t) == 3);
    CHECK(strncmp(s, "1\n00:00:00,000 --> ", 19) == 0);
    CHECK(strstr(s, "\n3\n") != NULL && strstr(s, "\n4\n") == NULL);
    free(s);
    s = render(t, STT_FMT_VTT, NULL);
    CHECK(s && strncmp(s, "WEBVTT\n\n00:00:00.000 --> ", 25) == 0);
    free(s);
    stt_transcript_free(t);

    /* 10 slow words over 25 s: too long for one cue. */
    t = stt_transcript_create();
    REQUIRE(t);
    stt_transcript_begin_segment(t, 0.0, 25.0);
    for (int i = 0; i < 10; i++) {
        snprintf(w, sizeof w, "slow%d", i);
        stt_transcript_add_word(t, w, i * 2.5, i * 2.5 + 2.0, 1.0);
    }
    s = render(t, STT_FMT_SRT, NULL);
    REQUIRE(s);
    int cues = check_cues(s, t);
    CHECK(cues >= 3 && cues <= 4);
    free(s);
    /* verbose_json keeps the segment whole. */
    s = render(t, STT_FMT_VERBOSE_JSON, NULL);
    CHECK(s && strstr(s, "\"segments\":[{\"id\":0,") && !strstr(s, "\"id\":1"));
    free(s);
    stt_transcript_free(t);

    /* A segment within the limits stays one cue. */
    t = stt_transcript_create();
    REQUIRE(t);
    for (int i = 0; i < 16; i++) {
        snprintf(w, sizeof w, "ok%d", i);
        stt_transcript_add_word(t, w, i * 0.5, i * 0.5 + 0.4, 1.0);
    }
    s = render(t, STT_FMT_SRT, NULL);
    CHECK(s && check_cues(s, t) == 1);
    free(s);
    stt_transcript_free(t);
}

static int same_transcript(const stt_transcript *a, const stt_transcript *b)
{
    if (stt_transcript_n_words(a) != stt_transcript_n_words(b) ||
        stt_transcript_n_segments(a) != stt_transcript_n_segments(b) ||
        stt_transcript_duration(a) != stt_transcript_duration(b))
        return 0;
    for (size_t i = 0; i < stt_transcript_n_words(a); i++) {
        const stt_word *x = stt_transcript_word(a, i), *y = stt_transcript_word(b, i);
        if (strcmp(x->text, y->text) || x->start != y->start || x->end != y->end ||
            x->prob != y->prob)
            return 0;
    }
    for (size_t i = 0; i < stt_transcript_n_segments(a); i++) {
        const stt_segment *x = stt_transcript_segment(a, i), *y = stt_transcript_segment(b, i);
        if (x->start != y->start || x->end != y->end || x->first_word != y->first_word ||
            x->n_words != y->n_words)
            return 0;
    }
    return 1;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void putf64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void test_serialize_roundtrip(void)
{
    stt_transcript *t = sample();
    REQUIRE(t);
    stt_transcript_begin_segment(t, 4.0, 5.0); /* an empty segment survives too */
    void *buf;
    size_t len;
    REQUIRE(stt_transcript_serialize(t, &buf, &len) == 0);
    CHECK(memcmp(buf, "STTX", 4) == 0);
    stt_transcript *u = NULL;
    REQUIRE(stt_transcript_deserialize(buf, len, &u) == 0);
    CHECK(same_transcript(t, u));
    char *a = render(t, STT_FMT_VERBOSE_JSON, NULL), *b = render(u, STT_FMT_VERBOSE_JSON, NULL);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    stt_transcript_free(u);

    stt_transcript *e = stt_transcript_create();
    void *ebuf;
    size_t elen;
    REQUIRE(stt_transcript_serialize(e, &ebuf, &elen) == 0);
    CHECK(stt_transcript_deserialize(ebuf, elen, &u) == 0);
    CHECK(u && stt_transcript_n_words(u) == 0 && stt_transcript_n_segments(u) == 0);
    stt_transcript_free(u);
    free(ebuf);
    stt_transcript_free(e);

    /* Every truncation is rejected. */
    for (size_t n = 0; n < len; n++) {
        u = (stt_transcript *)1;
        CHECK(stt_transcript_deserialize(buf, n, &u) == STT_EINVAL);
        CHECK(u == NULL);
    }
    unsigned char *c = malloc(len + 8);
    REQUIRE(c);
#define CORRUPT(stmt, l)                                                                           \
    do {                                                                                           \
        memcpy(c, buf, len);                                                                       \
        stmt;                                                                                      \
        CHECK(stt_transcript_deserialize(c, (l), &u) == STT_EINVAL);                               \
    } while (0)
    CORRUPT(c[0] = 'X', len);                      /* magic */
    CORRUPT(put32(c + 4, 2), len);                 /* version */
    CORRUPT(memset(c + 8, 0xff, 8), len);          /* duration NaN */
    CORRUPT(put32(c + 16, 0xffffffffu), len);      /* segment count */
    CORRUPT(put32(c + 20, 0xffffffffu), len);      /* word count */
    CORRUPT(put32(c + 20, 3), len);                /* words != segments' sum */
    CORRUPT(put32(c + 24 + 16, 3), len);           /* first segment claims 3 words */
    CORRUPT(put32(c + 24 + 16, 0xfffffff0u), len); /* ... or nearly 2^32 */
    CORRUPT(putf64(c + 24 + 8, -1.0), len);        /* segment end before start */
    CORRUPT(c[len] = 0, len + 1);                  /* trailing byte */
    size_t w0 = 24 + 3 * 20;                       /* first word */
    CORRUPT(put32(c + w0 + 24, 0xffffffffu), len); /* word length */
    CORRUPT(put32(c + w0 + 24, 0), len);           /* empty word */
    CORRUPT(memcpy(c + w0 + 28, "<sil>", 5), len); /* a filler where "hello" was */
    CORRUPT(c[w0 + 28] = '\n', len);               /* a control character */
    CORRUPT(c[w0 + 28] = '\0', len);               /* an embedded NUL */
    CORRUPT(memset(c + w0 + 16, 0xff, 8), len);    /* prob NaN */
    CORRUPT(putf64(c + w0, -1.0), len);            /* word starts before its segment */
#undef CORRUPT
    CHECK(stt_transcript_deserialize(NULL, 0, &u) == STT_EINVAL);
    free(c);
    free(buf);
    stt_transcript_free(t);
}

int main(void)
{
    TEST_RUN(test_structure);
    TEST_RUN(test_fillers_and_variants);
    TEST_RUN(test_formats_exact);
    TEST_RUN(test_verbose_json);
    TEST_RUN(test_empty_transcript);
    TEST_RUN(test_format_names);
    TEST_RUN(test_append_offset);
    TEST_RUN(test_cue_splitting);
    TEST_RUN(test_serialize_roundtrip);
    return test_summary();
}
