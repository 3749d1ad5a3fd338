/* transcript: storage, output formats and the worker wire format.
 *
 * Invariant: segments partition the word list in order (segment i's words
 * directly follow segment i-1's), and the last segment is the one that
 * stt_transcript_add_word() extends. Every stored word is non-empty, valid
 * UTF-8 without control characters, and neither a filler nor a variant
 * ("read(2)"); every time is finite. The deserializer enforces the same
 * invariant, so a transcript is well formed whichever way it was made.
 */
#include "transcript.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Times beyond this many seconds (300 years) are refused: no audio is that
 * long, and the bound keeps every later conversion (milliseconds, frames) in
 * range. */
#define TIME_MAX 1e10

static int valid_time(double t)
{
    return isfinite(t) && fabs(t) <= TIME_MAX;
}

struct stt_transcript {
    stt_word *words;
    size_t n_words, cap_words;
    stt_segment *segs;
    size_t n_segs, cap_segs;
    double duration;
};

stt_transcript *stt_transcript_create(void)
{
    return calloc(1, sizeof(stt_transcript));
}

void stt_transcript_free(stt_transcript *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_words; i++)
        free((char *)t->words[i].text);
    free(t->words);
    free(t->segs);
    free(t);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem) return STT_ENOMEM;
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (!q) return STT_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int push_segment(stt_transcript *t, double start, double end)
{
    if (grow((void **)&t->segs, &t->cap_segs, t->n_segs + 1, sizeof *t->segs)) return STT_ENOMEM;
    t->segs[t->n_segs++] = (stt_segment){start, end < start ? start : end, t->n_words, 0};
    return 0;
}

int stt_transcript_begin_segment(stt_transcript *t, double start, double end)
{
    if (!t || !valid_time(start) || !valid_time(end)) return STT_EINVAL;
    return push_segment(t, start, end);
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Reject overlong forms, surrogates and values past Unicode: jansson
     * refuses such strings, and the output must always be valid JSON. */
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

static int is_filler(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') return 1;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') return 1;
    if (n >= 4 && s[0] == '+' && s[1] == '+' && s[n - 2] == '+' && s[n - 1] == '+') return 1;
    return 0;
}

/* The stored form of an engine token: NULL (with *filler set) when it is to
 * be dropped, else a malloc'd copy without its "(N)" variant suffix and with
 * bytes that would break JSON or subtitles (control characters, invalid
 * UTF-8) replaced by '?'. Returns STT_ENOMEM or 0. */
static int clean_token(const char *text, char **out, int *filler)
{
    size_t n = strlen(text);
    *out = NULL;
    *filler = 0;
    if (n >= 3 && text[n - 1] == ')') {
        size_t open = n - 2;
        while (open > 0 && text[open] >= '0' && text[open] <= '9')
            open--;
        if (text[open] == '(' && open < n - 2) n = open;
    }
    if (n == 0 || is_filler(text, n)) {
        *filler = 1;
        return 0;
    }
    char *s = malloc(n + 1);
    if (!s) return STT_ENOMEM;
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)text + i;
        size_t len = utf8_len(u, n - i);
        if (len == 0 || (len == 1 && (u[0] < 0x20 || u[0] == 0x7f))) {
            s[i++] = '?';
        } else {
            memcpy(s + i, u, len);
            i += len;
        }
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

static int push_word(stt_transcript *t, char *text, double start, double end, double prob)
{
    if (grow((void **)&t->words, &t->cap_words, t->n_words + 1, sizeof *t->words))
        return STT_ENOMEM;
    if (t->n_segs == 0 && push_segment(t, start, end)) return STT_ENOMEM;
    if (end < start) end = start;
    if (!(prob >= 0.0)) prob = 0.0; /* also catches NaN */
    if (prob > 1.0) prob = 1.0;
    t->words[t->n_words++] = (stt_word){text, start, end, prob};
    stt_segment *seg = &t->segs[t->n_segs - 1];
    seg->n_words++;
    if (start < seg->start) seg->start = start;
    if (end > seg->end) seg->end = end;
    return 0;
}

int stt_transcript_add_word(stt_transcript *t, const char *text, double start, double end,
                            double prob)
{
    if (!t || !text || !valid_time(start) || !valid_time(end)) return STT_EINVAL;
    char *s;
    int filler;
    if (clean_token(text, &s, &filler)) return STT_ENOMEM;
    if (filler) return 1;
    if (push_word(t, s, start, end, prob)) {
        free(s);
        return STT_ENOMEM;
    }
    return 0;
}

int stt_transcript_append(stt_transcript *t, const stt_transcript *src, double offset_s)
{
    if (!t || !src || !valid_time(offset_s)) return STT_EINVAL;
    if (t == src) return STT_EINVAL;
    if (grow((void **)&t->words, &t->cap_words, t->n_words + src->n_words, sizeof *t->words) ||
        grow((void **)&t->segs, &t->cap_segs, t->n_segs + src->n_segs, sizeof *t->segs))
        return STT_ENOMEM;
    /* Copy all texts first so a failure leaves t unchanged. */
    char **texts = calloc(src->n_words ? src->n_words : 1, sizeof *texts);
    if (!texts) return STT_ENOMEM;
    for (size_t i = 0; i < src->n_words; i++) {
        texts[i] = strdup(src->words[i].text);
        if (!texts[i]) {
            for (size_t j = 0; j < i; j++)
                free(texts[j]);
            free(texts);
            return STT_ENOMEM;
        }
    }
    size_t base = t->n_words;
    for (size_t i = 0; i < src->n_words; i++) {
        stt_word w = src->words[i];
        t->words[t->n_words++] = (stt_word){texts[i], w.start + offset_s, w.end + offset_s, w.prob};
    }
    for (size_t i = 0; i < src->n_segs; i++) {
        stt_segment s = src->segs[i];
        t->segs[t->n_segs++] =
            (stt_segment){s.start + offset_s, s.end + offset_s, s.first_word + base, s.n_words};
    }
    free(texts);
    if (offset_s + src->duration > t->duration) t->duration = offset_s + src->duration;
    return 0;
}

size_t stt_transcript_n_segments(const stt_transcript *t)
{
    return t->n_segs;
}

const stt_segment *stt_transcript_segment(const stt_transcript *t, size_t i)
{
    return i < t->n_segs ? &t->segs[i] : NULL;
}

size_t stt_transcript_n_words(const stt_transcript *t)
{
    return t->n_words;
}

const stt_word *stt_transcript_word(const stt_transcript *t, size_t i)
{
    return i < t->n_words ? &t->words[i] : NULL;
}

void stt_transcript_set_duration(stt_transcript *t, double seconds)
{
    t->duration = valid_time(seconds) && seconds > 0 ? seconds : 0.0;
}

double stt_transcript_duration(const stt_transcript *t)
{
    return t->duration;
}

/* Words [first, first+n) joined by single spaces, with a leading space when
 * lead is set (OpenAI's segment texts start with one). */
static char *join_words(const stt_transcript *t, size_t first, size_t n, int lead)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(t->words[first + i].text) + 1;
    char *s = malloc(len), *p = s;
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 || lead) *p++ = ' ';
        size_t k = strlen(t->words[first + i].text);
        memcpy(p, t->words[first + i].text, k);
        p += k;
    }
    *p = '\0';
    return s;
}

char *stt_transcript_text(const stt_transcript *t)
{
    return join_words(t, 0, t->n_words, 0);
}

static const char *const format_names[] = {"json", "text", "verbose_json", "srt", "vtt"};
static const char *const format_types[] = {"application/json", "text/plain; charset=utf-8",
                                           "application/json", "application/x-subrip", "text/vtt"};

int stt_format_parse(const char *name, stt_format *out)
{
    for (size_t i = 0; name && i < sizeof format_names / sizeof *format_names; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (stt_format)i;
            return 0;
        }
    }
    return STT_EINVAL;
}

const char *stt_format_name(stt_format f)
{
    return (unsigned)f < sizeof format_names / sizeof *format_names ? format_names[f] : "unknown";
}

const char *stt_format_content_type(stt_format f)
{
    return (unsigned)f < sizeof format_types / sizeof *format_types ? format_types[f]
                                                                    : "application/octet-stream";
}

stt_format_opts stt_format_default_opts(void)
{
    return (stt_format_opts){.words = 0, .segments = 1, .language = "en"};
}

/* A small growable string for the subtitle formats. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_append(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (grow((void **)&b->s, &b->cap, b->len + n + 1, 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_append(b, s, strlen(s));
}

static int sb_finish(sbuf *b, char **out, size_t *len)
{
    if (!b->oom && !b->s) sb_append(b, "", 0);
    if (b->oom) {
        free(b->s);
        return STT_ENOMEM;
    }
    *out = b->s;
    *len = b->len;
    return 0;
}

/* Rounds to hundredths; with jansson's %.15g this prints "1.23", not the
 * binary expansion, and identically on every run. */
static double round2(double x)
{
    double r = round(x * 100.0) / 100.0;
    return r == 0.0 || !isfinite(r) ? 0.0 : r; /* no "-0.0" */
}

static int valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_len((const unsigned char *)s + i, n - i)) == 0) return 0;
    return 1;
}

static const char *language_name(const char *code)
{
    static const char *const map[][2] = {
        {"en", "english"}, {"de", "german"},   {"fr", "french"},     {"es", "spanish"},
        {"it", "italian"}, {"nl", "dutch"},    {"pt", "portuguese"}, {"ru", "russian"},
        {"zh", "chinese"}, {"ja", "japanese"}, {"ko", "korean"},     {"pl", "polish"},
    };
    if (!code || !*code) return "english";
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(code, map[i][0]) == 0) return map[i][1];
    return code;
}

/* The posterior-based figures OpenAI reports per segment. avg_logprob is the
 * mean natural log of the word posteriors. compression_ratio in Whisper is a
 * gzip ratio used to spot repetition loops; without zlib at hand it is given
 * here as words / distinct words, which is 1 for text without repeats and
 * grows the same way on loops. */
static void segment_scores(const stt_transcript *t, const stt_segment *s, double *avg_logprob,
                           double *compression)
{
    double sum = 0.0;
    size_t distinct = 0;
    for (size_t i = 0; i < s->n_words; i++) {
        const stt_word *w = &t->words[s->first_word + i];
        sum += log(w->prob > 1e-10 ? w->prob : 1e-10);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->words[s->first_word + j].text, w->text) == 0;
        distinct += !seen;
    }
    *avg_logprob = s->n_words ? sum / (double)s->n_words : 0.0;
    *compression = distinct ? (double)s->n_words / (double)distinct : 1.0;
}

static int json_add(json_t *obj, const char *key, json_t *val)
{
    return val ? json_object_set_new(obj, key, val) : -1;
}

static json_t *verbose_json(const stt_transcript *t, const stt_format_opts *o, const char *text)
{
    json_t *root = json_object();
    if (!root) return NULL;
    int bad = 0;
    bad |= json_add(root, "task", json_string("transcribe"));
    bad |= json_add(root, "language", json_string(language_name(o->language)));
    bad |= json_add(root, "duration", json_real(round2(t->duration)));
    bad |= json_add(root, "text", json_string(text));
    if (o->segments) {
        json_t *segs = json_array();
        bad |= json_add(root, "segments", segs);
        size_t id = 0;
        for (size_t i = 0; segs && i < t->n_segs; i++) {
            const stt_segment *s = &t->segs[i];
            if (s->n_words == 0) continue;
            char *st = join_words(t, s->first_word, s->n_words, 1);
            double lp, cr;
            segment_scores(t, s, &lp, &cr);
            json_t *js = json_object();
            bad |= json_array_append_new(segs, js);
            if (!js || !st) {
                free(st);
                bad = 1;
                break;
            }
            bad |= json_add(js, "id", json_integer((json_int_t)id++));
            /* Whisper's seek is the 100 Hz frame where the window began. */
            double seek = s->start > 0 ? fmin(s->start, 1e12) : 0.0;
            bad |= json_add(js, "seek", json_integer((json_int_t)floor(seek * 100.0)));
            bad |= json_add(js, "start", json_real(round2(s->start)));
            bad |= json_add(js, "end", json_real(round2(s->end)));
            bad |= json_add(js, "text", json_string(st));
            bad |= json_add(js, "tokens", json_array());
            bad |= json_add(js, "temperature", json_real(0.0));
            bad |= json_add(js, "avg_logprob", json_real(round2(lp)));
            bad |= json_add(js, "compression_ratio", json_real(round2(cr)));
            bad |= json_add(js, "no_speech_prob", json_real(0.0));
            free(st);
        }
    }
    if (o->words) {
        json_t *words = json_array();
        bad |= json_add(root, "words", words);
        for (size_t i = 0; words && i < t->n_words; i++) {
            const stt_word *w = &t->words[i];
            json_t *jw = json_object();
            bad |= json_array_append_new(words, jw);
            if (!jw) break;
            bad |= json_add(jw, "word", json_string(w->text));
            bad |= json_add(jw, "start", json_real(round2(w->start)));
            bad |= json_add(jw, "end", json_real(round2(w->end)));
        }
    }
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int format_json(const stt_transcript *t, stt_format f, const stt_format_opts *o, char **out,
                       size_t *len)
{
    char *text = stt_transcript_text(t);
    if (!text) return STT_ENOMEM;
    json_t *root;
    if (f == STT_FMT_JSON) {
        root = json_object();
        if (root && json_add(root, "text", json_string(text))) {
            json_decref(root);
            root = NULL;
        }
    } else {
        root = verbose_json(t, o, text);
    }
    free(text);
    if (!root) return STT_ENOMEM;
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!s) return STT_ENOMEM;
    *out = s;
    *len = strlen(s);
    return 0;
}

/* Subtitle readability limits (per cue). */
#define CUE_MAX_SECONDS 10.0
#define CUE_MAX_WORDS 16

static void cue_time(sbuf *b, double t, char sep)
{
    /* Appends can add offsets, so clamp once more before converting. */
    long long ms = llround((isfinite(t) && t > 0 ? fmin(t, 1e12) : 0.0) * 1000.0);
    char buf[64];
    snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60,
             ms / 1000 % 60, sep, ms % 1000);
    sb_puts(b, buf);
}

typedef struct cue_ctx {
    sbuf *b;
    int vtt;
    size_t index;
} cue_ctx;

static void emit_cue(cue_ctx *c, const stt_transcript *t, size_t first, size_t n, double start,
                     double end)
{
    char num[32];
    if (!c->vtt) {
        snprintf(num, sizeof num, "%zu\n", ++c->index);
        sb_puts(c->b, num);
    }
    if (end < start) end = start;
    cue_time(c->b, start, c->vtt ? '.' : ',');
    sb_puts(c->b, " --> ");
    cue_time(c->b, end, c->vtt ? '.' : ',');
    sb_puts(c->b, "\n");
    for (size_t i = 0; i < n; i++) {
        if (i) sb_puts(c->b, " ");
        sb_puts(c->b, t->words[first + i].text);
    }
    sb_puts(c->b, "\n\n");
}

/* Bounds of chunk k of n words cut into k_total near-equal chunks. */
static void chunk_bounds(size_t n, size_t k_total, size_t k, size_t *lo, size_t *hi)
{
    *lo = n * k / k_total;
    *hi = n * (k + 1) / k_total;
}

static double chunk_start(const stt_transcript *t, const stt_segment *s, size_t lo)
{
    return lo == 0 ? s->start : t->words[s->first_word + lo].start;
}

static double chunk_end(const stt_transcript *t, const stt_segment *s, size_t hi)
{
    return hi == s->n_words ? s->end : t->words[s->first_word + hi - 1].end;
}

/* One cue per segment, except that a segment too long to read at once is cut
 * at word boundaries into the fewest near-equal chunks that each stay within
 * CUE_MAX_WORDS words and CUE_MAX_SECONDS seconds (a single word longer than
 * that stays one cue). */
static void emit_segment(cue_ctx *c, const stt_transcript *t, const stt_segment *s)
{
    size_t n = s->n_words;
    size_t k = (n + CUE_MAX_WORDS - 1) / CUE_MAX_WORDS;
    for (;; k++) {
        int ok = 1;
        for (size_t j = 0; j < k && ok; j++) {
            size_t lo, hi;
            chunk_bounds(n, k, j, &lo, &hi);
            if (hi - lo > 1 && chunk_end(t, s, hi) - chunk_start(t, s, lo) > CUE_MAX_SECONDS)
                ok = 0;
        }
        if (ok || k >= n) break;
    }
    for (size_t j = 0; j < k; j++) {
        size_t lo, hi;
        chunk_bounds(n, k, j, &lo, &hi);
        emit_cue(c, t, s->first_word + lo, hi - lo, chunk_start(t, s, lo), chunk_end(t, s, hi));
    }
}

static int format_subtitles(const stt_transcript *t, int vtt, char **out, size_t *len)
{
    sbuf b = {0};
    cue_ctx c = {&b, vtt, 0};
    if (vtt) sb_puts(&b, "WEBVTT\n\n");
    for (size_t i = 0; i < t->n_segs; i++)
        if (t->segs[i].n_words) emit_segment(&c, t, &t->segs[i]);
    return sb_finish(&b, out, len);
}

int stt_transcript_format(const stt_transcript *t, stt_format f, const stt_format_opts *opts,
                          char **out, size_t *len)
{
    if (!t || !out || !len) return STT_EINVAL;
    stt_format_opts o = opts ? *opts : stt_format_default_opts();
    if (o.language && !valid_utf8(o.language)) return STT_EINVAL;
    switch (f) {
    case STT_FMT_JSON:
    case STT_FMT_VERBOSE_JSON:
        return format_json(t, f, &o, out, len);
    case STT_FMT_TEXT: {
        sbuf b = {0};
        char *text = stt_transcript_text(t);
        if (!text) return STT_ENOMEM;
        sb_puts(&b, text);
        sb_puts(&b, "\n");
        free(text);
        return sb_finish(&b, out, len);
    }
    case STT_FMT_SRT:
        return format_subtitles(t, 0, out, len);
    case STT_FMT_VTT:
        return format_subtitles(t, 1, out, len);
    }
    return STT_EINVAL;
}

/* Wire format, all integers and doubles little-endian:
 *   "STTX" u32 version=1 f64 duration u32 n_segments u32 n_words
 *   n_segments x { f64 start f64 end u32 n_words }
 *   n_words    x { f64 start f64 end f64 prob u32 len, len bytes of text }
 * Segment word ranges are implied: they follow each other from word 0. */
#define WIRE_MAGIC "STTX"
#define WIRE_VERSION 1u
#define WIRE_HEADER 24u
#define WIRE_SEG 20u
#define WIRE_WORD 28u

static void put_u32(unsigned char **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char **p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    for (int i = 0; i < 8; i++)
        *(*p)++ = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char **p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)(*p)[i] << (8 * i);
    *p += 4;
    return v;
}

static double get_f64(const unsigned char **p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)(*p)[i] << (8 * i);
    *p += 8;
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

int stt_transcript_serialize(const stt_transcript *t, void **out, size_t *len)
{
    if (!t || !out || !len) return STT_EINVAL;
    if (t->n_segs > UINT32_MAX || t->n_words > UINT32_MAX) return STT_ETOOBIG;
    size_t total = WIRE_HEADER + t->n_segs * WIRE_SEG + t->n_words * WIRE_WORD;
    for (size_t i = 0; i < t->n_words; i++) {
        size_t k = strlen(t->words[i].text);
        if (k > UINT32_MAX) return STT_ETOOBIG;
        total += k;
    }
    unsigned char *buf = malloc(total), *p = buf;
    if (!buf) return STT_ENOMEM;
    memcpy(p, WIRE_MAGIC, 4);
    p += 4;
    put_u32(&p, WIRE_VERSION);
    put_f64(&p, t->duration);
    put_u32(&p, (uint32_t)t->n_segs);
    put_u32(&p, (uint32_t)t->n_words);
    for (size_t i = 0; i < t->n_segs; i++) {
        put_f64(&p, t->segs[i].start);
        put_f64(&p, t->segs[i].end);
        put_u32(&p, (uint32_t)t->segs[i].n_words);
    }
    for (size_t i = 0; i < t->n_words; i++) {
        const stt_word *w = &t->words[i];
        size_t k = strlen(w->text);
        put_f64(&p, w->start);
        put_f64(&p, w->end);
        put_f64(&p, w->prob);
        put_u32(&p, (uint32_t)k);
        memcpy(p, w->text, k);
        p += k;
    }
    *out = buf;
    *len = total;
    return 0;
}

int stt_transcript_deserialize(const void *buf, size_t len, stt_transcript **out)
{
    if (!buf || !out) return STT_EINVAL;
    *out = NULL;
    const unsigned char *p = buf, *end = p + len;
    if (len < WIRE_HEADER || memcmp(p, WIRE_MAGIC, 4) != 0) return STT_EINVAL;
    p += 4;
    if (get_u32(&p) != WIRE_VERSION) return STT_EINVAL;
    double duration = get_f64(&p);
    size_t n_segs = get_u32(&p), n_words = get_u32(&p);
    /* Both tables must fit in what is left before anything is allocated, so
     * allocation stays within a small multiple of len. */
    size_t left = (size_t)(end - p);
    if (n_segs > left / WIRE_SEG || n_words > (left - n_segs * WIRE_SEG) / WIRE_WORD)
        return STT_EINVAL;
    if (!valid_time(duration) || duration < 0) return STT_EINVAL;

    stt_transcript *t = stt_transcript_create();
    if (!t) return STT_ENOMEM;
    int rc = STT_ENOMEM;
    if (grow((void **)&t->segs, &t->cap_segs, n_segs, sizeof *t->segs) ||
        grow((void **)&t->words, &t->cap_words, n_words, sizeof *t->words))
        goto fail;
    rc = STT_EINVAL;
    t->duration = duration;
    size_t covered = 0;
    for (size_t i = 0; i < n_segs; i++) {
        double s = get_f64(&p), e = get_f64(&p);
        size_t n = get_u32(&p);
        if (!valid_time(s) || !valid_time(e) || e < s || n > n_words - covered) goto fail;
        t->segs[t->n_segs++] = (stt_segment){s, e, covered, n};
        covered += n;
    }
    if (covered != n_words) goto fail;
    for (size_t i = 0; i < n_words; i++) {
        if ((size_t)(end - p) < WIRE_WORD) goto fail;
        double s = get_f64(&p), e = get_f64(&p), prob = get_f64(&p);
        size_t k = get_u32(&p);
        if (k == 0 || k > (size_t)(end - p)) goto fail;
        if (!valid_time(s) || !valid_time(e) || e < s || !(prob >= 0.0 && prob <= 1.0)) goto fail;
        char *raw = malloc(k + 1), *clean;
        if (!raw) {
            rc = STT_ENOMEM;
            goto fail;
        }
        memcpy(raw, p, k);
        raw[k] = '\0';
        p += k;
        int filler;
        if (clean_token(raw, &clean, &filler)) {
            free(raw);
            rc = STT_ENOMEM;
            goto fail;
        }
        /* Only text that add_word would have stored unchanged is accepted. */
        int same = clean && strlen(raw) == k && strcmp(clean, raw) == 0;
        free(raw);
        if (!same) {
            free(clean);
            goto fail;
        }
        t->words[t->n_words++] = (stt_word){clean, s, e, prob};
    }
    if (p != end) goto fail;
    /* A segment must cover its words, as add_word guarantees. */
    for (size_t i = 0; i < t->n_segs; i++) {
        const stt_segment *sg = &t->segs[i];
        for (size_t j = 0; j < sg->n_words; j++) {
            const stt_word *w = &t->words[sg->first_word + j];
            if (w->start < sg->start || w->end > sg->end) goto fail;
        }
    }
    *out = t;
    return 0;
fail:
    stt_transcript_free(t);
    return rc;
}
