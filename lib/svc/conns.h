/* conns: the server's open connections, and the clock that each must beat.
 *
 * libmicrohttpd bounds a connection only by inactivity: a client that sends a
 * header byte every few seconds, or trickles its upload, holds a connection
 * (and, once admitted, a request slot) for ever. This registry records, for
 * every connection, what it is doing and since when, and a watcher thread
 * cuts (shutdown(2) of the socket, which makes libmicrohttpd close it) those
 * that are late:
 *  - STT_CONN_IDLE (opened, or answered and kept alive): the next request's
 *    headers must be complete within header_timeout_s;
 *  - STT_CONN_UPLOAD (reading a body): after rate_grace_s, the bytes received
 *    must keep up with min_rate_bps x (elapsed - rate_grace_s);
 *  - STT_CONN_BUSY (headers in, and not uploading: being handled or
 *    answered): no deadline here; the request's own limits apply.
 * And when a new connection makes more than max_open, the one that has waited
 * longest for its headers (STT_CONN_IDLE) is cut to make room: slow clients
 * holding every connection cannot lock out a client that sends its request
 * at once (libmicrohttpd itself would refuse the newcomer), only each other.
 * Before cutting, on_cut is called with the socket (from the watcher thread,
 * or from stt_conns_add(); the registry locked: it must not call back into
 * it), so that the server can count it and, for an upload, write its answer
 * first.
 * Written by hand: libmicrohttpd offers no per-request deadline (its
 * MHD_OPTION_CONNECTION_TIMEOUT restarts with every byte).
 *
 * Thread-safe: every function may be called from any thread; a stt_conn
 * must not be used after stt_conns_remove().
 */
#ifndef STT_CONNS_H
#define STT_CONNS_H

#include <stddef.h>

typedef struct stt_conns stt_conns;
typedef struct stt_conn stt_conn;

typedef enum { STT_CONN_IDLE, STT_CONN_BUSY, STT_CONN_UPLOAD } stt_conn_phase;

typedef struct stt_conns_params {
    double header_timeout_s; /* default 10; <= 0: no deadline for headers */
    double min_rate_bps;     /* default 16384 bytes/s; <= 0: no rate rule */
    double rate_grace_s;     /* default 10 */
    double tick_s;           /* how often the watcher looks; default 0.1 */
    size_t max_open;         /* above this, evict (see above); default 0 = never */
    /* reason: "header_timeout", "slow_upload" or "evicted". */
    void (*on_cut)(void *ctx, stt_conn *c, int fd, const char *reason);
    void *ctx;
} stt_conns_params;

stt_conns_params stt_conns_default_params(void);

/* Starts the watcher; NULL with err set when no thread can be started. */
stt_conns *stt_conns_start(const stt_conns_params *params, char *err, size_t errlen);
/* Stops the watcher and frees the registry (connections must be removed). */
void stt_conns_stop(stt_conns *cs);

/* Tracks a new connection on socket fd, in STT_CONN_IDLE; NULL when out of
 * memory (the connection is then simply not watched). user is kept for the
 * caller (stt_conn_user). */
stt_conn *stt_conns_add(stt_conns *cs, int fd, void *user);
void stt_conns_remove(stt_conns *cs, stt_conn *c);

/* Moves c to phase, restarting its clock (and, for STT_CONN_UPLOAD, its byte count). */
void stt_conn_set_phase(stt_conns *cs, stt_conn *c, stt_conn_phase phase);
/* Counts n more bytes of the body being uploaded. */
void stt_conn_add_bytes(stt_conns *cs, stt_conn *c, size_t n);
/* 1 once the watcher cut c. */
int stt_conn_was_cut(stt_conns *cs, const stt_conn *c);
int stt_conn_fd(const stt_conn *c);
void *stt_conn_user(const stt_conn *c);
/* How many connections are open now. */
size_t stt_conns_count(stt_conns *cs);

#endif
