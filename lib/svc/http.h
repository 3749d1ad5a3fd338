/* http: sttd's HTTP server (libmicrohttpd), the routes of DESIGN.md.
 *
 * Routes: POST /v1/audio/transcriptions and /inference (multipart), GET
 * /v1/models, /health, /ready, /metrics. Every answer is JSON with a status
 * (or the transcript's own media type), including errors, which all come
 * from one builder fed an STT_E* code (status, OpenAI type and code from
 * lib/base/error.h; the caller gives param and message); client bytes echoed
 * in them are made valid UTF-8 first (lib/svc/text.h). Each transcription
 * answer carries X-Request-Id, X-Queue-Time-Ms, X-Process-Time-Ms,
 * X-Audio-Duration-S and X-Pieces; every answer carries X-Request-Id. One
 * line per request (escaped: a client cannot forge lines) goes to the log.
 *
 * Admission before work: a transcription is admitted by the backend, or
 * refused with 503 + Retry-After, as soon as its headers arrive; a declared
 * Content-Length over the limit gets 413 before the body is read, a chunked
 * body gets 413 when it crosses the limit. The upload is streamed into a
 * memfd (the form's other fields, at most 4 KiB each, stay in memory) and
 * handed to the backend, which decodes it outside this process. So memory
 * per admitted request is bounded by max_upload_bytes + a few hundred KiB,
 * plus the backend's decoded audio (max_duration_s x 32 KB/s).
 *
 * Connections are bounded by count (max_connections, max_connections_per_ip)
 * and by time (lib/svc/conns.h: header deadline, minimum upload rate). The
 * probe listener (probe_port) serves GET /health, /ready and /metrics only,
 * without an API key, with its own few connections, so that probes keep
 * answering while every connection of the main port is taken. /health and
 * /ready never need the API key on either port.
 *
 * /ready is 200 when the backend can take work (loaded, a worker alive, not
 * draining, not broken), never 503 only because the queue is momentarily full;
 * /health is 503 only when the backend is broken.
 *
 * Stopping: stt_server_drain() closes the main listener at once (new
 * connections are refused, not left hanging), makes /ready say 503, and asks
 * the backend to refuse what would have to wait; requests in flight go on.
 * stt_server_cancel() fails what is left (503 + Retry-After), cutting uploads
 * still in progress. stt_server_stop() closes everything.
 *
 * Where libmicrohttpd answers by itself, the answer is its own small HTML
 * page (it offers no hook): 431 and 414 for headers or a URL larger than the
 * connection's memory (32 KiB), 400 for a malformed request line, header,
 * chunk or Content-Length, 413 for an unparseable chunk size, 505 for an
 * unsupported HTTP version, and 500 when it runs out of memory.
 */
#ifndef STT_HTTP_H
#define STT_HTTP_H

#include <stdio.h>

#include "backend.h"

typedef struct stt_server stt_server;

typedef struct stt_server_params {
    const char *host;                /* default "127.0.0.1" */
    int port;                        /* default 8080; 0 = any free port */
    int probe_port;                  /* default -1 (none); 0 = any free port */
    stt_backend backend;             /* required: admit, release, transcribe, status */
    const char *api_key;             /* NULL = no authentication */
    size_t max_upload_bytes;         /* default 100 MiB; larger bodies get 413 */
    double max_duration_s;           /* default 3600; longer audio gets 413 */
    unsigned timeout_s;              /* idle connection timeout, default 30 */
    unsigned max_connections;        /* default 256 */
    unsigned max_connections_per_ip; /* default 64; 0 = no per-address limit */
    double header_timeout_s;         /* default 10 (lib/svc/conns.h) */
    double min_upload_rate_bps;      /* default 16384 bytes/s after 10 s (lib/svc/conns.h) */
    const char *default_profile;     /* default "balanced" */
    FILE *log;                       /* request log; default stderr; NULL after init = none */
} stt_server_params;

stt_server_params stt_server_default_params(void);

/* Starts listening; returns NULL with err set on failure (port in use, ...). */
stt_server *stt_server_start(const stt_server_params *params, char *err, size_t errlen);

/* The bound port (useful with port 0), and the probe port (-1 when none). */
int stt_server_port(const stt_server *s);
int stt_server_probe_port(const stt_server *s);

/* See "Stopping" above. drain and cancel may be called from any thread, once. */
void stt_server_drain(stt_server *s);
/* Requests being handled on the main port (headers received, not yet answered). */
int stt_server_in_flight(stt_server *s);
void stt_server_cancel(stt_server *s);

/* Drains, lets requests in flight finish for at most grace_s seconds,
 * cancels the rest, then closes everything and frees s. */
void stt_server_stop(stt_server *s, double grace_s);

#endif
