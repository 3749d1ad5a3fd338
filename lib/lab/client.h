/* client: the laboratory's one HTTP client for single requests (libcurl easy).
 *
 * Everything that sends one transcription and waits for it, or fetches a
 * page (/ready, /metrics), goes through here: the audio, CPU, service and
 * replicas benchmarks and the server launcher. The load generator
 * (lib/lab/loadgen.h) drives many requests at once with its own curl multi
 * loop but sends the same uploads (stt_upload) and the same form fields
 * (lib/base/api.h).
 *
 * Call curl_global_init() once in main() before the first request.
 * Thread-safe: each call uses its own handle.
 */
#ifndef STT_CLIENT_H
#define STT_CLIENT_H

#include <stddef.h>

/* One upload: a file's bytes with its name, media type and audio length. */
typedef struct stt_upload {
    const char *filename;     /* name sent in the multipart part */
    const char *content_type; /* e.g. "audio/wav"; NULL lets curl guess */
    const unsigned char *data;
    size_t len;
    double audio_s;  /* audio duration, used when the server does not report it */
    unsigned weight; /* share of the requests using this upload in a mix (>= 1) */
} stt_upload;

/* The media type of a file from its extension: audio/wav, audio/mpeg,
 * audio/flac, audio/ogg, else application/octet-stream. Static. */
const char *stt_media_type(const char *path);

/* Reads the file at path into u: the bytes (malloc'd; stt_upload_free()), the
 * file name (borrowed from path), the media type, the audio duration from
 * libsndfile (0 when it cannot tell) and weight. Returns 0, or STT_EIO (cannot
 * read) / STT_EINVAL (empty) / STT_ENOMEM with err. */
int stt_upload_read(const char *path, unsigned weight, stt_upload *u, char *err, size_t errlen);

/* Frees the bytes stt_upload_read() allocated. */
void stt_upload_free(stt_upload *u);

typedef struct stt_client_params {
    const char *route;           /* STT_ROUTE_TRANSCRIPTIONS */
    const char *profile;         /* "model" field; NULL: omitted (the server's default) */
    const char *response_format; /* "json" */
    int threads;                 /* sttd's "threads" field; 0: omitted */
    double timeout_s;            /* whole request; 600 */
    const char *api_key;         /* Authorization: Bearer; NULL: none */
} stt_client_params;

stt_client_params stt_client_default_params(void);

typedef struct stt_client_reply {
    long status; /* HTTP status; 0 when no answer arrived */
    char *body;  /* malloc'd, NUL-terminated ("" when empty) */
    size_t len;
    char *text;        /* the "text" of a JSON answer (malloc'd), or NULL */
    double elapsed_s;  /* from the request leaving to the last byte */
    double queue_ms;   /* X-Queue-Time-Ms, NaN when absent */
    double process_ms; /* X-Process-Time-Ms, NaN when absent */
    double audio_s;    /* X-Audio-Duration-S, NaN when absent */
    int pieces;        /* X-Pieces, 0 when absent */
    char error[256];   /* why it did not succeed: curl's error, "HTTP 503: ...", "no text" */
} stt_client_reply;

/* POSTs u to base_url + p->route as a multipart form and waits for the answer.
 * Returns 0 when a 200 answer with a "text" arrived (json formats; any 200 for
 * other formats), STT_EIO when no answer arrived, STT_EINVAL for another
 * status or a body without text; r is filled in every case (free it with
 * stt_client_reply_free()). */
int stt_client_transcribe(const char *base_url, const stt_upload *u, const stt_client_params *p,
                          stt_client_reply *r);

void stt_client_reply_free(stt_client_reply *r);

/* GETs url; *status gets the HTTP status (0 when no answer) and *body (when
 * body is not NULL) the malloc'd NUL-terminated body. Returns 0 when an answer
 * arrived, STT_EIO otherwise. */
int stt_client_get(const char *url, double timeout_s, long *status, char **body);

/* The value of an unlabelled sample `name` in Prometheus text, NaN when absent. */
double stt_client_metric(const char *prom_text, const char *name);

#endif
