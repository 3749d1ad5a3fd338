/* http_api: sttd's HTTP server (libmicrohttpd), the routes of DESIGN.md.
 *
 * Routes: POST /v1/audio/transcriptions and /inference (multipart), GET
 * /v1/models, /health, /ready, /metrics. Every error is one JSON shape with
 * the right status. Each response carries X-Request-Id, X-Queue-Time-Ms,
 * X-Process-Time-Ms and X-Audio-Duration-S (transcriptions only).
 * One line per request is logged to the log stream.
 */
#ifndef STT_HTTP_API_H
#define STT_HTTP_API_H

#include <stdio.h>

#include "backend.h"

typedef struct stt_server stt_server;

typedef struct stt_server_params {
    const char *host;            /* default "127.0.0.1" */
    int port;                    /* default 8080; 0 = any free port */
    stt_backend backend;         /* required */
    const char *api_key;         /* NULL = no authentication */
    size_t max_upload_bytes;     /* default 100 MiB; larger bodies get 413 */
    double max_duration_s;       /* default 3600; longer audio gets 413 */
    unsigned timeout_s;          /* idle connection timeout, default 30 */
    unsigned max_connections;    /* default 256 */
    const char *default_profile; /* default "balanced" */
    FILE *log;                   /* request log; default stderr; NULL after init = none */
} stt_server_params;

stt_server_params stt_server_default_params(void);

/* Starts listening; returns NULL with err set on failure (port in use, ...). */
stt_server *stt_server_start(const stt_server_params *params, char *err, size_t errlen);

/* The bound port (useful with port 0). */
int stt_server_port(const stt_server *s);

/* Stops accepting connections, lets requests in flight finish for at most
 * grace_s seconds, then closes everything and frees s. */
void stt_server_stop(stt_server *s, double grace_s);

#endif
