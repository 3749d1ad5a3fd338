/* form: a multipart/form-data body (RFC 7578), collected part by part.
 *
 * The body is fed in whatever chunks the transport delivers; each part's
 * headers are parsed and its bytes are kept in memory, so the caller can look
 * fields up by name once the body is complete, except for one part (the
 * upload) that can be streamed to a sink as it arrives (stt_form_stream_part).
 * Memory is bounded by the limits: at most max_parts parts, max_header_bytes
 * of headers per part, max_field_bytes per kept part (or max_body_bytes in
 * all), plus one internal chunk window.
 *
 * This parser is written by hand rather than on libmicrohttpd's
 * MHD_PostProcessor because MHD_create_post_processor() only accepts a live
 * MHD_Connection (it reads the Content-Type from it), so the PostProcessor can
 * be neither unit-tested nor fuzzed without a socket; the HTTP layer feeds
 * MHD's upload chunks straight into stt_form_feed().
 *
 * Not thread-safe; a form belongs to one request.
 */
#ifndef STT_FORM_H
#define STT_FORM_H

#include <stddef.h>

typedef struct stt_form stt_form;

typedef struct stt_form_limits {
    size_t max_body_bytes;   /* whole body as fed, default 100 MiB */
    size_t max_parts;        /* default 64 */
    size_t max_header_bytes; /* one part's header block, default 8 KiB */
    size_t max_field_bytes;  /* one kept (not streamed) part's data; 0 = no own limit */
} stt_form_limits;

typedef struct stt_form_part {
    const char *name;         /* from Content-Disposition; never NULL */
    const char *filename;     /* NULL when the part had none */
    const char *content_type; /* NULL when the part had none */
    const char *data;         /* the part's bytes, followed by a NUL not counted in len */
    size_t len;
} stt_form_part;

stt_form_limits stt_form_default_limits(void);

/* Creates a form for a request with this Content-Type header value.
 * Errors: STT_EFORMAT (not multipart/form-data), STT_EMULTIPART (no or bad
 * boundary), STT_ENOMEM. On success *out is owned by the caller. */
int stt_form_create(const char *content_type, const stt_form_limits *limits, stt_form **out,
                    char *err, size_t errlen);

/* Receives a streamed part's bytes in order; returns 0 or a negative STT_E*
 * code, which becomes the form's sticky error. */
typedef int (*stt_form_sink_fn)(void *ctx, const void *buf, size_t n);

/* Before the first stt_form_feed(): the part named name goes to sink instead
 * of memory. It is then listed with data "" and len = the bytes streamed; a
 * second part with that name is STT_EMULTIPART. Returns 0, STT_EINVAL or
 * STT_ENOMEM. */
int stt_form_stream_part(stt_form *f, const char *name, stt_form_sink_fn sink, void *ctx);

/* Feeds the next len bytes of the body. Returns 0, or the first error, which
 * sticks (later calls return it again without reading): STT_EMULTIPART
 * (malformed multipart), STT_ETOOBIG (a size or count limit was passed),
 * STT_EINVAL (a kept field over max_field_bytes), STT_ENOMEM, or the sink's
 * error. */
int stt_form_feed(stt_form *f, const void *buf, size_t len);

/* Says the body is complete. Returns 0, or STT_EMULTIPART when the closing
 * boundary never came, or the sticky error of stt_form_feed(). */
int stt_form_finish(stt_form *f);

/* The detail of the last error ("" when none); valid until f is freed. */
const char *stt_form_error(const stt_form *f);
/* The name of the field the last error concerns, or NULL. */
const char *stt_form_error_field(const stt_form *f);

/* Complete parts, in body order. Pointers stay valid until stt_form_free(). */
size_t stt_form_count(const stt_form *f);
const stt_form_part *stt_form_part_at(const stt_form *f, size_t i);
/* The first complete part with this name (case-sensitive), or NULL. */
const stt_form_part *stt_form_get(const stt_form *f, const char *name);

/* An upper bound on the heap bytes the form holds now (for tests of the memory bound). */
size_t stt_form_memory(const stt_form *f);

void stt_form_free(stt_form *f);

#endif
