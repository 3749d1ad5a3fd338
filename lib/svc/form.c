#include "form.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

/* Input is processed in slices of at most this size so the window of
 * unconsumed bytes stays small whatever chunk size the caller feeds. */
#define SLICE 65536
#define MAX_BOUNDARY 200

enum { S_PREAMBLE, S_AFTER_DELIM, S_HEADERS, S_BODY, S_EPILOGUE };

typedef struct part {
    stt_form_part pub;
    char *name, *filename, *ctype, *data;
    size_t cap;
} part;

struct stt_form {
    stt_form_limits lim;
    char delim[MAX_BOUNDARY + 5]; /* "\r\n--" boundary */
    size_t dlen;
    int state;
    int error;
    char errmsg[160];
    size_t fed;
    char *win; /* unconsumed input */
    size_t wlen, wcap;
    part *parts; /* complete parts, then possibly the one being read */
    size_t n_parts, parts_cap;
    int in_part;       /* parts[n_parts] is being read */
    size_t hdr_used;   /* header bytes of the current part */
    size_t data_bytes; /* capacity held by part data */
    char errfield[64]; /* the field an error concerns, "" when none */
    /* The part streamed to a sink instead of being kept (see stt_form_stream_part). */
    char *sink_name;
    stt_form_sink_fn sink;
    void *sink_ctx;
    int sinking;    /* the current part goes to the sink */
    int sink_parts; /* parts seen with the sink's name */
};

stt_form_limits stt_form_default_limits(void)
{
    stt_form_limits l = {.max_body_bytes = 100u << 20,
                         .max_parts = 64,
                         .max_header_bytes = 8192,
                         .max_field_bytes = 0};
    return l;
}

static int fail(stt_form *f, int code, const char *msg)
{
    if (!f->error) {
        f->error = code;
        snprintf(f->errmsg, sizeof f->errmsg, "%s", msg);
    }
    return f->error;
}

/* RFC 2046 bchars, so a boundary never needs escaping or trimming. */
static int boundary_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("'()+_,-./:=? ", c));
}

/* Reads a token or quoted-string value at *p (after '='); writes it, NUL-
 * terminated, into out (truncated to outlen-1) and returns its full length. */
static size_t read_param_value(const char **p, char *out, size_t outlen)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '"') {
        s++;
        while (*s && *s != '"') {
            if (*s == '\\' && s[1]) s++;
            if (n + 1 < outlen) out[n] = *s;
            n++;
            s++;
        }
        if (*s == '"') s++;
    } else {
        while (*s && *s != ';' && *s != ' ' && *s != '\t') {
            if (n + 1 < outlen) out[n] = *s;
            n++;
            s++;
        }
    }
    if (outlen) out[n < outlen ? n : outlen - 1] = '\0';
    *p = s;
    return n;
}

/* Walks "; key=value" parameters after a media type or disposition type,
 * calling fn for each; stops early when fn returns non-zero. */
static int each_param(const char *s, int (*fn)(void *, const char *, const char *, size_t),
                      void *cls, char *val, size_t vallen)
{
    while (*s) {
        while (*s == ';' || *s == ' ' || *s == '\t')
            s++;
        if (!*s) break;
        char key[64];
        size_t k = 0;
        while (*s && *s != '=' && *s != ';') {
            if (k + 1 < sizeof key && *s != ' ' && *s != '\t') key[k++] = *s;
            s++;
        }
        key[k] = '\0';
        if (*s != '=') continue;
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = read_param_value(&s, val, vallen);
        int r = fn(cls, key, val, n);
        if (r) return r;
    }
    return 0;
}

static int take_boundary(void *cls, const char *key, const char *val, size_t n)
{
    stt_form *f = cls;
    if (strcasecmp(key, "boundary") != 0) return 0;
    if (n == 0 || n > MAX_BOUNDARY || val[n - 1] == ' ') return STT_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!boundary_char((unsigned char)val[i])) return STT_EINVAL;
    memcpy(f->delim, "\r\n--", 4);
    memcpy(f->delim + 4, val, n);
    f->dlen = n + 4;
    return 1;
}

int stt_form_create(const char *content_type, const stt_form_limits *limits, stt_form **out,
                    char *err, size_t errlen)
{
    static const char mt[] = "multipart/form-data";
    *out = NULL;
    if (!content_type || strncasecmp(content_type, mt, sizeof mt - 1) != 0 ||
        (content_type[sizeof mt - 1] && content_type[sizeof mt - 1] != ';' &&
         content_type[sizeof mt - 1] != ' '))
        return stt_seterr(err, errlen, STT_EFORMAT, "expected multipart/form-data, got '%s'",
                          content_type ? content_type : "");
    stt_form *f = calloc(1, sizeof *f);
    if (!f) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    f->lim = limits ? *limits : stt_form_default_limits();
    if (f->lim.max_header_bytes < 64) f->lim.max_header_bytes = 64;
    char val[MAX_BOUNDARY + 2];
    int r = each_param(content_type + sizeof mt - 1, take_boundary, f, val, sizeof val);
    if (r != 1) {
        free(f);
        return stt_seterr(err, errlen, STT_EMULTIPART,
                          "multipart/form-data without a valid boundary");
    }
    f->wcap = SLICE + f->dlen + f->lim.max_header_bytes + 2;
    f->win = malloc(f->wcap);
    if (!f->win) {
        free(f);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    /* A body may start with its first boundary, which then lacks the CRLF
     * that precedes every other delimiter: supply it. */
    memcpy(f->win, "\r\n", 2);
    f->wlen = 2;
    f->state = S_PREAMBLE;
    *out = f;
    return 0;
}

static void part_clear(part *p)
{
    free(p->name);
    free(p->filename);
    free(p->ctype);
    free(p->data);
    memset(p, 0, sizeof *p);
}

static int begin_part(stt_form *f)
{
    if (f->n_parts >= f->lim.max_parts) return fail(f, STT_ETOOBIG, "too many form fields");
    if (f->n_parts == f->parts_cap) {
        size_t nc = f->parts_cap ? f->parts_cap * 2 : 8;
        part *np = realloc(f->parts, nc * sizeof *np);
        if (!np) return fail(f, STT_ENOMEM, "out of memory");
        f->parts = np;
        f->parts_cap = nc;
    }
    memset(&f->parts[f->n_parts], 0, sizeof(part));
    f->in_part = 1;
    f->hdr_used = 0;
    return 0;
}

static int append_data(stt_form *f, const char *buf, size_t n)
{
    part *p = &f->parts[f->n_parts];
    if (f->sinking) {
        int rc = n ? f->sink(f->sink_ctx, buf, n) : 0;
        if (rc < 0) return fail(f, rc, "cannot store the uploaded file");
        p->pub.len += n;
        return 0;
    }
    if (f->lim.max_field_bytes && p->pub.len + n > f->lim.max_field_bytes) {
        snprintf(f->errfield, sizeof f->errfield, "%s", p->name ? p->name : "");
        char msg[128];
        snprintf(msg, sizeof msg, "a form field is longer than %zu bytes", f->lim.max_field_bytes);
        return fail(f, STT_EINVAL, msg);
    }
    if (p->pub.len + n + 1 > p->cap) {
        size_t nc = p->cap ? p->cap : 256;
        while (nc < p->pub.len + n + 1)
            nc *= 2;
        char *nd = realloc(p->data, nc);
        if (!nd) return fail(f, STT_ENOMEM, "out of memory");
        f->data_bytes += nc - p->cap;
        p->data = nd;
        p->cap = nc;
    }
    memcpy(p->data + p->pub.len, buf, n);
    p->pub.len += n;
    p->data[p->pub.len] = '\0';
    return 0;
}

static int end_part(stt_form *f)
{
    part *p = &f->parts[f->n_parts];
    f->sinking = 0;
    if (!p->data) {
        /* A streamed part keeps only its length; its data reads as "". */
        p->data = calloc(1, 1);
        if (!p->data) return fail(f, STT_ENOMEM, "out of memory");
        p->cap = 1;
        f->data_bytes += 1;
    }
    p->pub.name = p->name;
    p->pub.filename = p->filename;
    p->pub.content_type = p->ctype;
    p->pub.data = p->data;
    f->n_parts++;
    f->in_part = 0;
    return 0;
}

static int take_disposition(void *cls, const char *key, const char *val, size_t n)
{
    part *p = cls;
    char **dst = NULL;
    if (strcasecmp(key, "name") == 0)
        dst = &p->name;
    else if (strcasecmp(key, "filename") == 0)
        dst = &p->filename;
    if (!dst) return 0;
    free(*dst);
    *dst = strdup(val);
    return *dst ? 0 : STT_ENOMEM;
}

/* Parses one header line (NUL-terminated) of the current part. */
static int header_line(stt_form *f, char *line)
{
    part *p = &f->parts[f->n_parts];
    char *colon = strchr(line, ':');
    if (!colon) return fail(f, STT_EMULTIPART, "malformed part header");
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strcasecmp(line, "Content-Disposition") == 0) {
        static const char fd[] = "form-data";
        if (strncasecmp(v, fd, sizeof fd - 1) != 0 ||
            (v[sizeof fd - 1] && v[sizeof fd - 1] != ';' && v[sizeof fd - 1] != ' '))
            return fail(f, STT_EMULTIPART, "part is not form-data");
        /* Values can be as long as the header block, so size the buffer to it. */
        size_t vallen = strlen(v) + 1;
        char *val = malloc(vallen);
        if (!val) return fail(f, STT_ENOMEM, "out of memory");
        int r = each_param(v + sizeof fd - 1, take_disposition, p, val, vallen);
        free(val);
        if (r) return fail(f, r, "out of memory");
    } else if (strcasecmp(line, "Content-Type") == 0) {
        free(p->ctype);
        p->ctype = strdup(v);
        if (!p->ctype) return fail(f, STT_ENOMEM, "out of memory");
    }
    return 0;
}

/* Consumes as much of the window as the state machine can; returns 0 when it
 * needs more input, or the error. */
static int run(stt_form *f)
{
    size_t off = 0;
    for (;;) {
        const char *b = f->win + off;
        size_t n = f->wlen - off;
        if (f->state == S_EPILOGUE) {
            off = f->wlen;
            break;
        }
        if (f->state == S_PREAMBLE || f->state == S_BODY) {
            const char *d = memmem(b, n, f->delim, f->dlen);
            size_t take = d ? (size_t)(d - b) : (n >= f->dlen ? n - (f->dlen - 1) : 0);
            if (f->state == S_BODY && take && append_data(f, b, take)) return f->error;
            off += take;
            if (!d) break;
            if (f->state == S_BODY && end_part(f)) return f->error;
            off += f->dlen;
            f->state = S_AFTER_DELIM;
        } else if (f->state == S_AFTER_DELIM) {
            if (n < 2) break;
            if (b[0] == '-' && b[1] == '-') {
                f->state = S_EPILOGUE;
                continue;
            }
            if (b[0] == ' ' || b[0] == '\t') { /* transport padding */
                off++;
                continue;
            }
            if (b[0] != '\r' || b[1] != '\n')
                return fail(f, STT_EMULTIPART, "malformed boundary line");
            off += 2;
            if (begin_part(f)) return f->error;
            f->state = S_HEADERS;
        } else { /* S_HEADERS */
            const char *eol = memmem(b, n, "\r\n", 2);
            /* Without its end in sight a line is at least n-1 bytes plus CRLF
             * (the last byte may be the CR), so the verdict never depends on
             * how the body was chunked. */
            size_t line = eol ? (size_t)(eol - b) : n;
            if (f->hdr_used + line + (eol ? 2 : 1) > f->lim.max_header_bytes)
                return fail(f, STT_ETOOBIG, "part headers too large");
            if (!eol) break;
            f->hdr_used += line + 2;
            if (line == 0) {
                off += 2;
                const char *name = f->parts[f->n_parts].name;
                if (!name) return fail(f, STT_EMULTIPART, "form field without a name");
                if (f->sink && !strcmp(name, f->sink_name)) {
                    if (++f->sink_parts > 1) {
                        snprintf(f->errfield, sizeof f->errfield, "%s", name);
                        return fail(f, STT_EMULTIPART, "more than one file part");
                    }
                    f->sinking = 1;
                }
                f->state = S_BODY;
                continue;
            }
            char *copy = strndup(b, line);
            if (!copy) return fail(f, STT_ENOMEM, "out of memory");
            int r = header_line(f, copy);
            free(copy);
            if (r) return r;
            off += line + 2;
        }
    }
    memmove(f->win, f->win + off, f->wlen - off);
    f->wlen -= off;
    return 0;
}

int stt_form_feed(stt_form *f, const void *buf, size_t len)
{
    if (f->error) return f->error;
    if (len > f->lim.max_body_bytes - f->fed) return fail(f, STT_ETOOBIG, "request body too large");
    f->fed += len;
    const char *p = buf;
    while (len) {
        size_t n = len < SLICE ? len : SLICE;
        /* After run() the window holds less than one delimiter or one header
         * line, so a slice always fits in wcap. */
        memcpy(f->win + f->wlen, p, n);
        f->wlen += n;
        p += n;
        len -= n;
        if (run(f)) return f->error;
    }
    return 0;
}

int stt_form_finish(stt_form *f)
{
    if (f->error) return f->error;
    if (f->state != S_EPILOGUE)
        return fail(f, STT_EMULTIPART, "multipart body ends before its closing boundary");
    return 0;
}

const char *stt_form_error(const stt_form *f)
{
    return f->errmsg;
}

const char *stt_form_error_field(const stt_form *f)
{
    return f->errfield[0] ? f->errfield : NULL;
}

int stt_form_stream_part(stt_form *f, const char *name, stt_form_sink_fn sink, void *ctx)
{
    if (!f || !name || !sink || f->fed || f->sink) return STT_EINVAL;
    f->sink_name = strdup(name);
    if (!f->sink_name) return STT_ENOMEM;
    f->sink = sink;
    f->sink_ctx = ctx;
    return 0;
}

size_t stt_form_count(const stt_form *f)
{
    return f->n_parts;
}

const stt_form_part *stt_form_part_at(const stt_form *f, size_t i)
{
    return i < f->n_parts ? &f->parts[i].pub : NULL;
}

const stt_form_part *stt_form_get(const stt_form *f, const char *name)
{
    for (size_t i = 0; i < f->n_parts; i++)
        if (strcmp(f->parts[i].name, name) == 0) return &f->parts[i].pub;
    return NULL;
}

size_t stt_form_memory(const stt_form *f)
{
    return sizeof *f + f->wcap + f->parts_cap * sizeof(part) + f->data_bytes +
           (f->n_parts + 1) * 3 * f->lim.max_header_bytes;
}

void stt_form_free(stt_form *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_parts + (size_t)f->in_part; i++)
        part_clear(&f->parts[i]);
    free(f->parts);
    free(f->win);
    free(f->sink_name);
    free(f);
}
