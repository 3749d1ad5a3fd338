/* service: sttd's parts, started and stopped in the order that keeps their
 * promises.
 *
 * Start: the worker pool first (it forks the model loader, so it must come
 * before any thread, and before the API key is read: no decoder process ever
 * holds the key), then the key, then the HTTP server.
 * Stop (docs/SERVICE.md): drain (the listener closes at once, /ready says
 * 503, what would wait for a decoder is refused with 503 + Retry-After, what
 * runs goes on), then stop (what is left is cancelled, 503 + Retry-After,
 * everything closes; within about a second of being called).
 *
 * The caller blocks the stop signals before calling stt_service_start() and
 * handles them (src/sttd.c). One thread uses a service.
 */
#ifndef STT_SERVICE_H
#define STT_SERVICE_H

#include <stddef.h>

#include "config.h"

typedef struct stt_service stt_service;

/* NULL with err set when the model, a worker, the key or the port fails. */
stt_service *stt_service_start(const stt_config *cfg, char *err, size_t errlen);

/* "listening on http://HOST:PORT (workers W, threads T, queue Q[, probes on
 * port P])", the line scripts wait for. */
void stt_service_describe(stt_service *s, char *buf, size_t len);

void stt_service_drain(stt_service *s);
/* 1 when no request is in flight. */
int stt_service_idle(stt_service *s);
/* Cancels what is left, closes everything and frees s. */
void stt_service_stop(stt_service *s);

#endif
