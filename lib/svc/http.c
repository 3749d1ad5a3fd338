/* http: see http.h. One thread per connection (libmicrohttpd); the request's
 * state lives in a req from the first handler call to the completion
 * callback, both on the connection's thread. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "clock.h"
#include "conns.h"
#include "error.h"
#include "form.h"
#include "metrics.h"
#include "text.h"

#ifndef STT_VERSION
#define STT_VERSION "unknown"
#endif

/* Field values other than the file are short; this keeps them from being
 * used to smuggle large bodies past the per-field checks. */
#define MAX_FIELD_BYTES 4096
/* After an early answer to an upload, the rest of its body is read and
 * dropped for at most this much (or LINGER_S), so that the client reads the
 * answer before the connection closes (closing with unread data sends a
 * reset, which can destroy the answer in flight). */
#define DISCARD_SLACK (4u << 20)
#define LINGER_S 2.0
/* The probe listener's own connections. */
#define PROBE_CONNECTIONS 16
/* libmicrohttpd accepts this many beyond max_connections, so that a newcomer
 * can evict a connection that is slow to send its headers (lib/svc/conns.h)
 * instead of being refused. */
#define EVICT_HEADROOM 16

enum route {
    R_OTHER,
    R_TRANSCRIBE,
    R_INFERENCE,
    R_MODELS,
    R_HEALTH,
    R_READY,
    R_METRICS,
};

static const struct {
    const char *path;
    int post;  /* 1: POST only; 0: GET/HEAD only */
    int probe; /* also served on the probe port */
} routes[] = {
    [R_OTHER] = {"other", 0, 0},
    [R_TRANSCRIBE] = {STT_ROUTE_TRANSCRIPTIONS, 1, 0},
    [R_INFERENCE] = {STT_ROUTE_INFERENCE, 1, 0},
    [R_MODELS] = {STT_ROUTE_MODELS, 0, 0},
    [R_HEALTH] = {STT_ROUTE_HEALTH, 0, 1},
    [R_READY] = {STT_ROUTE_READY, 0, 1},
    [R_METRICS] = {STT_ROUTE_METRICS, 0, 1},
};

struct stt_server {
    struct MHD_Daemon *d, *pd; /* main, probe (NULL when none) */
    stt_server_params p;       /* strings point at the copies below */
    char *host, *api_key, *default_profile;
    int default_idx;
    int port, probe_port;
    char id_prefix[9];
    atomic_ulong next_id;
    stt_conns *conns, *probe_conns;

    stt_metrics *metrics;
    stt_metric *m_requests, *m_duration, *m_queue_wait, *m_audio, *m_queue_depth, *m_capacity,
        *m_busy, *m_workers, *m_restarts, *m_threads, *m_build, *m_in_flight, *m_cut;

    pthread_mutex_t mu; /* guards the fields below */
    pthread_cond_t idle;
    int inflight; /* main-port requests whose handler ran and whose completion has not */
    int draining, cancelled;
    double ewma_job_s; /* recent admitted-to-done time, for Retry-After */
};

typedef struct req {
    stt_server *s;
    stt_conns *cs; /* the registry of the port it arrived on */
    stt_conn *conn;
    int probe; /* arrived on the probe port */
    enum route route;
    double t0;
    char id[65];
    char method[16];
    char path[256]; /* escaped for the log */
    const char *raw_url;
    unsigned status;
    size_t bytes;
    double audio_s, queue_ms, process_ms;
    int responded;
    int deferred; /* a GET or HEAD waiting for the end of its request */
    int admitted; /* holds one backend admission */

    stt_form *form;
    int upload_fd; /* the file part, streamed; -1 until the body starts */
    size_t upload_len;
    size_t received;
    /* Answered while its body was still arriving: the rest is dropped. */
    int answered_early;
    double answered_at;
    size_t discarded;
} req;

stt_server_params stt_server_default_params(void)
{
    stt_server_params p = {
        .host = "127.0.0.1",
        .port = 8080,
        .probe_port = -1,
        .api_key = NULL,
        .max_upload_bytes = 100u << 20,
        .max_duration_s = 3600,
        .timeout_s = 30,
        .max_connections = 256,
        .max_connections_per_ip = 64,
        .header_timeout_s = 10,
        .min_upload_rate_bps = 16384,
        .default_profile = STT_DEFAULT_PROFILE,
        .log = stderr,
    };
    return p;
}

static int is_draining(stt_server *s)
{
    pthread_mutex_lock(&s->mu);
    int d = s->draining;
    pthread_mutex_unlock(&s->mu);
    return d;
}

/* ---- replies ---------------------------------------------------------- */

static void release_admission(req *r);

/* An answer is on its way: what the request holds is given back now, not
 * when a slow client has read the answer. */
static void count_reply(req *r, unsigned status, size_t len)
{
    release_admission(r);
    stt_form_free(r->form);
    r->form = NULL;
    if (r->upload_fd >= 0) close(r->upload_fd);
    r->upload_fd = -1;
    r->status = status;
    r->bytes = len;
    r->responded = 1;
    /* Counted here rather than on completion so that a client that has its
     * reply already finds it in /metrics. */
    char st[8];
    snprintf(st, sizeof st, "%u", status);
    const char *l[] = {"route", routes[r->route].path, "status", st, NULL};
    stt_metric_inc(r->s->m_requests, l, 1);
    const char *lr[] = {"route", routes[r->route].path, NULL};
    stt_metric_observe(r->s->m_duration, lr, stt_now_s() - r->t0);
}

/* Queues body (malloc'd; ownership passes here) with status and headers
 * (NULL-terminated name, value pairs). Every reply goes through here so each
 * carries its media type and X-Request-Id, and the log and metrics see it. */
static enum MHD_Result reply(req *r, struct MHD_Connection *c, unsigned status, const char *ctype,
                             char *body, size_t len, const char *const *hdrs)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, STT_HDR_REQUEST_ID, r->id);
    for (size_t i = 0; hdrs && hdrs[i]; i += 2)
        MHD_add_response_header(resp, hdrs[i], hdrs[i + 1]);
    if (!r->probe && is_draining(r->s))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    count_reply(r, status, len);
    return ret;
}

/* The body for a reply that could not be built (jansson refuses invalid
 * UTF-8 and fails without memory): still JSON, still a status. */
static const char fallback_body[] =
    "{\"error\":{\"message\":\"the reply could not be built\",\"type\":\"server_error\","
    "\"param\":null,\"code\":\"internal_error\"}}";

static enum MHD_Result reply_json(req *r, struct MHD_Connection *c, unsigned status, json_t *j,
                                  const char *const *hdrs)
{
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) {
        body = strdup(fallback_body);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        hdrs = NULL;
        if (!body) return MHD_NO;
    }
    return reply(r, c, status, "application/json", body, strlen(body), hdrs);
}

static int retry_after_s(stt_server *s);

/* The headers an error's status calls for (Retry-After on 503, Allow on
 * 405, WWW-Authenticate on 401) into hdrs (room for 4 pairs). */
static void error_headers(req *r, int code, char *ra, size_t ralen, const char **hdrs)
{
    int n = 0, status = stt_err_http_status(code);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
        snprintf(ra, ralen, "%d", retry_after_s(r->s));
        hdrs[n++] = MHD_HTTP_HEADER_RETRY_AFTER;
        hdrs[n++] = ra;
    } else if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        hdrs[n++] = MHD_HTTP_HEADER_ALLOW;
        hdrs[n++] = routes[r->route].post ? "POST" : "GET, HEAD";
    } else if (status == MHD_HTTP_UNAUTHORIZED) {
        hdrs[n++] = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
        hdrs[n++] = "Bearer";
    }
    hdrs[n] = NULL;
}

/* OpenAI's error shape {"error":{"message","type","param","code"}}; message
 * and param are made valid UTF-8. */
static json_t *error_json(int code, const char *param, const char *msg)
{
    char m[640], pm[160];
    stt_text_utf8(m, sizeof m, msg, strlen(msg));
    if (param) stt_text_utf8(pm, sizeof pm, param, strlen(param));
    return json_pack("{s:{s:s,s:s,s:s?,s:s}}", "error", "message", m, "type", stt_err_type(code),
                     "param", param ? pm : NULL, "code", stt_err_code(code));
}

/* The one builder of error replies: status, type and code come from the
 * STT_E* code (lib/base/error.h), so the same failure always gets the same
 * answer; the caller says which field (param, or NULL) and why. */
static enum MHD_Result reply_err(req *r, struct MHD_Connection *c, int code, const char *param,
                                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum MHD_Result reply_err(req *r, struct MHD_Connection *c, int code, const char *param,
                                 const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char ra[16];
    const char *hdrs[9];
    error_headers(r, code, ra, sizeof ra, hdrs);
    return reply_json(r, c, (unsigned)stt_err_http_status(code), error_json(code, param, msg),
                      hdrs);
}

/* Writes an error reply straight to the socket fd (id: the X-Request-Id, or
 * NULL; hdrs: extra name, value pairs) and stops sending on it; returns the
 * body's length. For answers libmicrohttpd cannot queue: it only takes one
 * once the headers are in or the body is complete, and a client that is told
 * early stops sending (curl does, and so do the HTTP stacks of the OpenAI
 * SDKs). Non-blocking: a client that cannot take a few hundred bytes is gone. */
static size_t write_raw_error(int fd, const char *id, int code, const char *param, const char *msg,
                              const char *const *hdrs)
{
    unsigned status = (unsigned)stt_err_http_status(code);
    json_t *j = error_json(code, param, msg);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    const char *b = body ? body : fallback_body;
    size_t blen = strlen(b);
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n",
                     status, MHD_get_reason_phrase_for(status), blen);
    if (id && n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s: %s\r\n", STT_HDR_REQUEST_ID, id);
    for (size_t i = 0; hdrs && hdrs[i] && n > 0 && (size_t)n < sizeof head; i += 2)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s: %s\r\n", hdrs[i], hdrs[i + 1]);
    if (n > 0 && (size_t)n < sizeof head) n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (fd >= 0 && n > 0 && (size_t)n < sizeof head) {
        struct iovec iov[2] = {{head, (size_t)n}, {(void *)b, blen}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        shutdown(fd, SHUT_WR);
    }
    free(body);
    return blen;
}

/* The error reply of reply_err(), written straight to the socket while the
 * request's body is still arriving (write_raw_error); the connection is
 * closed afterwards, after a short linger (see take_upload). */
static void raw_err(req *r, int code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void raw_err(req *r, int code, const char *param, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char ra[16];
    const char *hdrs[9];
    error_headers(r, code, ra, sizeof ra, hdrs);
    size_t len = write_raw_error(stt_conn_fd(r->conn), r->id, code, param, msg, hdrs);
    count_reply(r, (unsigned)stt_err_http_status(code), len);
    r->answered_early = 1;
    r->answered_at = stt_now_s();
}

/* ---- request bookkeeping ---------------------------------------------- */

static int sane_request_id(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > 64) return 0;
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              strchr("._:-", *v)))
            return 0;
    return 1;
}

static enum route find_route(const char *url)
{
    for (size_t i = 1; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(url, routes[i].path) == 0) return (enum route)i;
    return R_OTHER;
}

static stt_conns *conns_of(stt_server *s, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *di = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    return di && s->pd && di->daemon == s->pd ? s->probe_conns : s->conns;
}

static stt_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static req *req_new(stt_server *s, struct MHD_Connection *c, const char *url, const char *method)
{
    req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->s = s;
    r->t0 = stt_now_s();
    r->upload_fd = -1;
    r->route = find_route(url);
    r->raw_url = url;
    r->cs = conns_of(s, c);
    r->conn = conn_of(c);
    const union MHD_ConnectionInfo *di = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    r->probe = di && s->pd && di->daemon == s->pd;
    stt_text_log(r->method, sizeof r->method, method);
    stt_text_log(r->path, sizeof r->path, url);
    const char *cid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, STT_HDR_REQUEST_ID);
    if (sane_request_id(cid))
        snprintf(r->id, sizeof r->id, "%s", cid);
    else
        snprintf(r->id, sizeof r->id, "%s%08lx", s->id_prefix,
                 (unsigned long)(atomic_fetch_add(&s->next_id, 1) & 0xffffffffu));
    if (r->conn) stt_conn_set_phase(r->cs, r->conn, STT_CONN_BUSY);
    if (!r->probe) {
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
    }
    return r;
}

static void log_request(stt_server *s, const req *r)
{
    if (!s->p.log) return;
    char ts[32];
    stt_utc_now(ts, sizeof ts);
    /* One fprintf per line: stdio locks the stream, so lines never interleave.
     * Method and path were escaped (stt_text_log): no client byte breaks a line. */
    fprintf(s->p.log,
            "%s id=%s %s %s status=%u bytes=%zu audio_s=%.2f queue_ms=%.1f process_ms=%.1f "
            "total_ms=%.1f\n",
            ts, r->id, r->method, r->path, r->status, r->bytes, r->audio_s, r->queue_ms,
            r->process_ms, (stt_now_s() - r->t0) * 1e3);
    fflush(s->p.log);
}

static void release_admission(req *r)
{
    if (!r->admitted) return;
    r->admitted = 0;
    r->s->p.backend.release(r->s->p.backend.ctx);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    stt_server *s = cls;
    req *r = *con_cls;
    (void)toe;
    if (!r) return;
    *con_cls = NULL;
    /* No answer queued: the watcher cut it (and said 408), or the client left. */
    if (!r->responded) count_reply(r, r->conn && stt_conn_was_cut(r->cs, r->conn) ? 408 : 499, 0);
    log_request(s, r);
    release_admission(r);
    stt_form_free(r->form);
    if (r->upload_fd >= 0) close(r->upload_fd);
    if (r->conn) stt_conn_set_phase(r->cs, r->conn, STT_CONN_IDLE);
    int probe = r->probe;
    free(r);
    (void)c;
    if (probe) return;
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    stt_server *s = cls;
    stt_conns *cs = conns_of(s, c);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? stt_conns_add(cs, ci->connect_fd, NULL) : NULL;
    } else {
        stt_conns_remove(cs, *socket_context);
        *socket_context = NULL;
    }
}

/* From the connection watcher (lib/svc/conns.h), just before it cuts c. An
 * upload that is too slow is told why (a 408, written straight to the
 * socket: its own thread is blocked reading); a connection that never sent
 * its headers is closed silently, as it may be an idle keep-alive connection
 * whose client is about to reuse it. */
static void on_cut(void *ctx, stt_conn *c, int fd, const char *reason)
{
    stt_server *s = ctx;
    (void)c;
    const char *l[] = {"reason", reason, NULL};
    stt_metric_inc(s->m_cut, l, 1);
    if (strcmp(reason, "slow_upload") != 0) return;
    char msg[160];
    snprintf(msg, sizeof msg, "the upload arrived slower than %.0f bytes/s; connection closed",
             s->p.min_upload_rate_bps);
    write_raw_error(fd, NULL, STT_ESLOW, STT_FIELD_FILE, msg, NULL);
}

/* ---- authentication --------------------------------------------------- */

/* Compares in time that depends only on the expected key's length. */
static int key_equal(const char *given, const char *key)
{
    size_t gl = strlen(given), kl = strlen(key);
    unsigned char diff = (unsigned char)(gl != kl);
    for (size_t i = 0; i < kl; i++)
        diff |= (unsigned char)key[i] ^ (unsigned char)(i < gl ? given[i] : 0);
    return diff == 0;
}

static int authorized(const stt_server *s, struct MHD_Connection *c)
{
    if (!s->api_key) return 1;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        auth += 7;
        while (*auth == ' ')
            auth++;
        if (key_equal(auth, s->api_key)) return 1;
    }
    const char *x = MHD_lookup_connection_value(c, MHD_HEADER_KIND, STT_HDR_API_KEY);
    return x && key_equal(x, s->api_key);
}

/* ---- GET routes ------------------------------------------------------- */

static void backend_status(stt_server *s, stt_backend_status *st)
{
    memset(st, 0, sizeof *st);
    s->p.backend.status(s->p.backend.ctx, st);
}

static enum MHD_Result get_health(req *r, struct MHD_Connection *c)
{
    stt_backend_status st;
    backend_status(r->s, &st);
    if (st.broken)
        return reply_json(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s, s:s}", "status", "broken", "reason",
                                    "the decoder pool stopped by itself; restart the process"),
                          NULL);
    return reply_json(r, c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
}

/* Readiness is "this pod can take work", not "this instant has room": a full
 * queue answers 503 + Retry-After per request, and pulling a busy pod out of
 * its Service on every burst would only move the burst elsewhere. */
static enum MHD_Result get_ready(req *r, struct MHD_Connection *c)
{
    stt_backend_status st;
    backend_status(r->s, &st);
    const char *reason = st.broken                          ? "broken"
                         : is_draining(r->s) || st.draining ? "draining"
                         : !st.ready                        ? "no decoder available"
                                                            : NULL;
    if (!reason)
        return reply_json(r, c, MHD_HTTP_OK,
                          json_pack("{s:s,s:i,s:i,s:i}", "status", "ready", "in_flight",
                                    st.in_flight, "active", st.active, "capacity", st.capacity),
                          NULL);
    return reply_json(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                      json_pack("{s:s,s:s,s:i,s:i,s:i}", "status", "not ready", "reason", reason,
                                "in_flight", st.in_flight, "active", st.active, "capacity",
                                st.capacity),
                      NULL);
}

static unsigned loaded_profiles(stt_server *s)
{
    stt_backend_status st;
    backend_status(s, &st);
    return st.profile_mask ? st.profile_mask : (1u << STT_N_PROFILES) - 1;
}

static enum MHD_Result get_models(req *r, struct MHD_Connection *c)
{
    unsigned mask = loaded_profiles(r->s);
    json_t *data = json_array();
    for (int i = 0; i < STT_N_PROFILES; i++)
        if (mask & (1u << i))
            json_array_append_new(data,
                                  json_pack("{s:s,s:s,s:i,s:s}", "id", stt_profile_names[i],
                                            "object", "model", "created", 0, "owned_by", "sttlab"));
    return reply_json(r, c, MHD_HTTP_OK, json_pack("{s:s,s:o}", "object", "list", "data", data),
                      NULL);
}

static enum MHD_Result get_metrics(req *r, struct MHD_Connection *c)
{
    stt_server *s = r->s;
    stt_backend_status st;
    backend_status(s, &st);
    stt_metric_set(s->m_queue_depth, NULL, st.active);
    stt_metric_set(s->m_in_flight, NULL, st.in_flight);
    stt_metric_set(s->m_capacity, NULL, st.capacity);
    stt_metric_set(s->m_busy, NULL, st.busy);
    stt_metric_set(s->m_workers, NULL, st.workers);
    stt_metric_set(s->m_restarts, NULL, (double)st.restarts);
    stt_metric_set(s->m_threads, NULL, st.threads);
    char *out;
    size_t len;
    if (stt_metrics_render(s->metrics, &out, &len) != 0)
        return reply_err(r, c, STT_ENOMEM, NULL, "cannot render the metrics");
    return reply(r, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", out, len, NULL);
}

/* ---- transcriptions: the upload --------------------------------------- */

static int upload_sink(void *ctx, const void *buf, size_t n)
{
    req *r = ctx;
    const char *p = buf;
    while (n) {
        ssize_t w = pwrite(r->upload_fd, p, n, (off_t)r->upload_len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return errno == ENOSPC || errno == ENOMEM ? STT_ENOMEM : STT_EIO;
        r->upload_len += (size_t)w;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The request's headers are in: everything that can be refused without the
 * body is refused here, then the request is admitted (or 503) before a byte
 * of the body is read. */
static enum MHD_Result begin_upload(req *r, struct MHD_Connection *c)
{
    stt_server *s = r->s;
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && n > s->p.max_upload_bytes)
            return reply_err(r, c, STT_ETOOBIG, STT_FIELD_FILE,
                             "request body of %llu bytes exceeds the limit of %zu bytes", n,
                             s->p.max_upload_bytes);
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    stt_form_limits lim = stt_form_default_limits();
    lim.max_body_bytes = s->p.max_upload_bytes;
    lim.max_field_bytes = MAX_FIELD_BYTES;
    char err[256];
    int rc = stt_form_create(ct, &lim, &r->form, err, sizeof err);
    if (rc) return reply_err(r, c, rc, NULL, "%s", err);
    if ((rc = s->p.backend.admit(s->p.backend.ctx, err, sizeof err)) < 0)
        return reply_err(r, c, rc, NULL, "%s", err);
    r->admitted = 1;
    r->upload_fd = memfd_create("stt-upload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (r->upload_fd < 0) return reply_err(r, c, STT_EIO, NULL, "cannot stage the upload");
    if ((rc = stt_form_stream_part(r->form, STT_FIELD_FILE, upload_sink, r)) < 0)
        return reply_err(r, c, rc, NULL, "cannot stage the upload");
    if (r->conn) stt_conn_set_phase(r->cs, r->conn, STT_CONN_UPLOAD);
    return MHD_YES;
}

/* An error found while the body streams in is answered at once (raw_err). */
static void upload_failed(req *r, int code, const char *param, const char *msg)
{
    raw_err(r, code, param, "%s", msg);
    /* Nothing more of this body is needed: release what it took now. */
    stt_form_free(r->form);
    r->form = NULL;
    if (r->upload_fd >= 0) close(r->upload_fd);
    r->upload_fd = -1;
    release_admission(r);
}

static enum MHD_Result take_upload(req *r, const char *data, size_t n)
{
    if (r->conn) stt_conn_add_bytes(r->cs, r->conn, n);
    if (r->answered_early) {
        r->discarded += n;
        return r->discarded > DISCARD_SLACK || stt_now_s() - r->answered_at > LINGER_S ? MHD_NO
                                                                                       : MHD_YES;
    }
    if (r->conn && stt_conn_was_cut(r->cs, r->conn)) return MHD_NO;
    pthread_mutex_lock(&r->s->mu);
    int cancelled = r->s->cancelled;
    pthread_mutex_unlock(&r->s->mu);
    if (cancelled) {
        upload_failed(r, STT_ESHUTDOWN, NULL,
                      "cancelled: the server's grace period for stopping ended");
        return MHD_YES;
    }
    size_t max = r->s->p.max_upload_bytes;
    r->received += n;
    if (r->received > max) {
        char msg[160];
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes", max);
        upload_failed(r, STT_ETOOBIG, STT_FIELD_FILE, msg);
        return MHD_YES;
    }
    if (!r->form) return MHD_YES;
    int rc = stt_form_feed(r->form, data, n);
    if (rc) upload_failed(r, rc, stt_form_error_field(r->form), stt_form_error(r->form));
    return MHD_YES;
}

/* ---- transcriptions: the answer --------------------------------------- */

/* A short text field's value, trimmed, or NULL when absent. */
static const char *field(req *r, const char *name, char *buf, size_t buflen)
{
    const stt_form_part *p = stt_form_get(r->form, name);
    if (!p) return NULL;
    size_t n = p->len < buflen - 1 ? p->len : buflen - 1;
    const char *v = p->data;
    while (n && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

static int retry_after_s(stt_server *s)
{
    stt_backend_status st;
    backend_status(s, &st);
    pthread_mutex_lock(&s->mu);
    double job = s->ewma_job_s;
    pthread_mutex_unlock(&s->mu);
    int workers = st.workers > 0 ? st.workers : 1;
    /* Time for the admitted requests ahead to drain through the workers. */
    double est =
        job > 0 ? ceil(job * (st.active > 0 ? st.active : 1) / workers) : 1 + st.active / workers;
    return est < 1 ? 1 : est > 30 ? 30 : (int)est;
}

/* 1 when the client closed its connection (it will never read the answer). */
static int client_gone(void *ctx)
{
    req *r = ctx;
    int fd = stt_conn_fd(r->conn);
    if (fd < 0) return 0;
    struct pollfd pf = {fd, POLLIN | POLLRDHUP, 0};
    if (poll(&pf, 1, 0) <= 0) return 0;
    if (pf.revents & (POLLHUP | POLLERR | POLLRDHUP)) return 1;
    char b;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* The fields of a transcription request, checked. */
typedef struct fields {
    int profile, threads;
    stt_format fmt;
    stt_format_opts opts;
} fields;

/* Reads and checks the fields into f. Returns 0, or 1 when a field is wrong:
 * its answer is then queued, with *ret what the handler must return. */
static int bad_fields(req *r, struct MHD_Connection *c, fields *f, enum MHD_Result *ret)
{
    stt_server *s = r->s;
    char buf[MAX_FIELD_BYTES + 1];
    f->profile = s->default_idx;
    const char *v = field(r, STT_FIELD_MODEL, buf, sizeof buf);
    unsigned loaded = loaded_profiles(s);
    if (v && *v) {
        f->profile = stt_profile_index(v);
        /* OpenAI clients name Whisper models ("whisper-1"): serve them the default. */
        if (f->profile < 0 && strncasecmp(v, "whisper", 7) == 0) f->profile = s->default_idx;
        if (f->profile < 0)
            return (*ret = reply_err(r, c, STT_EMODEL, STT_FIELD_MODEL,
                                     "unknown model '%.64s'; valid models: %s", v,
                                     stt_profile_list())),
                   1;
    }
    if (!(loaded & (1u << f->profile))) {
        char list[64] = "";
        for (int i = 0; i < STT_N_PROFILES; i++)
            if (loaded & (1u << i)) {
                if (list[0]) strcat(list, ", ");
                strcat(list, stt_profile_names[i]);
            }
        return (*ret = reply_err(r, c, STT_EMODEL, STT_FIELD_MODEL,
                                 "model '%s' is not loaded by this server; loaded: %s",
                                 stt_profile_names[f->profile], list)),
               1;
    }
    v = field(r, STT_FIELD_LANGUAGE, buf, sizeof buf);
    if (v && *v && strcasecmp(v, "en") != 0 && strcasecmp(v, "english") != 0)
        return (*ret = reply_err(r, c, STT_ELANGUAGE, STT_FIELD_LANGUAGE,
                                 "unsupported language '%.64s'; this server transcribes 'en' only",
                                 v)),
               1;
    f->fmt = STT_FMT_JSON;
    v = field(r, STT_FIELD_RESPONSE_FORMAT, buf, sizeof buf);
    if (v && *v && stt_format_parse(v, &f->fmt) != 0)
        return (*ret = reply_err(
                    r, c, STT_EINVAL, STT_FIELD_RESPONSE_FORMAT,
                    "unknown response_format '%.64s'; valid: json, text, verbose_json, srt, "
                    "vtt",
                    v)),
               1;
    f->opts = stt_format_default_opts();
    f->opts.language = "en";
    int granular = 0, want_words = 0, want_segments = 0;
    for (size_t i = 0; i < stt_form_count(r->form); i++) {
        const stt_form_part *p = stt_form_part_at(r->form, i);
        if (strcmp(p->name, STT_FIELD_GRANULARITIES) != 0 &&
            strcmp(p->name, "timestamp_granularities") != 0)
            continue;
        granular = 1;
        if (strcmp(p->data, "word") == 0)
            want_words = 1;
        else if (strcmp(p->data, "segment") == 0)
            want_segments = 1;
        else
            return (*ret = reply_err(r, c, STT_EINVAL, STT_FIELD_GRANULARITIES,
                                     "unknown timestamp granularity '%.64s'; valid: segment, word",
                                     p->data)),
                   1;
    }
    if (granular) {
        f->opts.words = want_words;
        f->opts.segments = want_segments;
    }
    f->threads = 0;
    v = field(r, STT_FIELD_THREADS, buf, sizeof buf);
    if (v && *v) {
        char *end;
        errno = 0;
        long t = strtol(v, &end, 10);
        if (errno || *end || t < 1 || t > 1024)
            return (*ret = reply_err(r, c, STT_EINVAL, STT_FIELD_THREADS,
                                     "threads must be an integer from 1 to 1024, got '%.64s'", v)),
                   1;
        f->threads = (int)t;
    }
    return 0;
}

static enum MHD_Result transcribe(req *r, struct MHD_Connection *c)
{
    stt_server *s = r->s;
    if (r->conn) stt_conn_set_phase(r->cs, r->conn, STT_CONN_BUSY);
    int rc = stt_form_finish(r->form);
    if (rc)
        return reply_err(r, c, rc, stt_form_error_field(r->form), "%s", stt_form_error(r->form));
    const stt_form_part *file = stt_form_get(r->form, STT_FIELD_FILE);
    if (!file)
        return reply_err(r, c, STT_EMISSING, STT_FIELD_FILE, "missing required field 'file'");
    fields f;
    enum MHD_Result bad;
    if (bad_fields(r, c, &f, &bad)) return bad;
    if (r->upload_len == 0) return reply_err(r, c, STT_EAUDIO, STT_FIELD_FILE, "empty upload");
    /* Sealed: the worker that maps it sees exactly these bytes. */
    if (fcntl(r->upload_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
        return reply_err(r, c, STT_EIO, NULL, "cannot seal the upload");
    stt_form_free(r->form);
    r->form = NULL;

    stt_media media = {r->upload_fd, r->upload_len};
    stt_job_opts o = {f.profile, f.threads, s->p.max_duration_s, client_gone, r};
    stt_transcript *t = NULL;
    stt_job_stats js = {0};
    char err[256] = "";
    rc = s->p.backend.transcribe(s->p.backend.ctx, &media, &o, &t, &js, err, sizeof err);
    close(r->upload_fd);
    r->upload_fd = -1;
    release_admission(r);
    r->audio_s = js.audio_s;
    if (rc || !t) {
        stt_transcript_free(t);
        int code = rc ? rc : STT_EENGINE;
        int is_media = code == STT_EAUDIO || code == STT_EFORMAT || code == STT_ETOOLONG;
        return reply_err(r, c, code, is_media ? STT_FIELD_FILE : NULL, "%s",
                         err[0] ? err : stt_strerror(code));
    }
    r->queue_ms = js.queue_ms;
    r->process_ms = js.process_ms;
    char *body = NULL;
    size_t len = 0;
    rc = stt_transcript_format(t, f.fmt, &f.opts, &body, &len);
    stt_transcript_free(t);
    if (rc) return reply_err(r, c, rc, NULL, "cannot format the transcript");

    pthread_mutex_lock(&s->mu);
    double job_s = (js.queue_ms + js.process_ms) / 1e3;
    s->ewma_job_s = s->ewma_job_s > 0 ? 0.8 * s->ewma_job_s + 0.2 * job_s : job_s;
    pthread_mutex_unlock(&s->mu);
    stt_metric_observe(s->m_queue_wait, NULL, js.queue_ms / 1e3);
    stt_metric_inc(s->m_audio, NULL, r->audio_s);

    char qt[32], pt[32], ad[32], pc[16];
    snprintf(qt, sizeof qt, "%.1f", js.queue_ms);
    snprintf(pt, sizeof pt, "%.1f", js.process_ms);
    snprintf(ad, sizeof ad, "%.3f", r->audio_s);
    snprintf(pc, sizeof pc, "%d", js.pieces);
    const char *hdrs[] = {STT_HDR_QUEUE_MS,
                          qt,
                          STT_HDR_PROCESS_MS,
                          pt,
                          STT_HDR_AUDIO_S,
                          ad,
                          STT_HDR_PIECES,
                          pc,
                          NULL};
    return reply(r, c, MHD_HTTP_OK, stt_format_content_type(f.fmt), body, len, hdrs);
}

/* ---- dispatch --------------------------------------------------------- */

static enum MHD_Result first_call(req *r, struct MHD_Connection *c, const char *method)
{
    stt_server *s = r->s;
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int is_post = strcmp(method, "POST") == 0;
    /* The probe port serves the probes only. */
    if (r->probe && !routes[r->route].probe) r->route = R_OTHER;
    /* Probes need no key (kubelets carry none) and work while draining:
     * /ready then says so, which is how an endpoint leaves its Service. */
    if ((r->route == R_HEALTH || r->route == R_READY) && is_get)
        return r->route == R_HEALTH ? get_health(r, c) : get_ready(r, c);
    if (!r->probe && is_draining(s))
        return reply_err(r, c, STT_ESHUTDOWN, NULL, "the server is shutting down");
    if (!r->probe && !authorized(s, c))
        return reply_err(r, c, STT_EAUTH, NULL,
                         "missing or invalid API key (send 'Authorization: Bearer KEY' or "
                         "'X-API-Key: KEY')");
    if (r->route == R_OTHER) {
        char path[200];
        stt_text_utf8(path, sizeof path, r->raw_url, strlen(r->raw_url));
        return reply_err(r, c, STT_ENOTFOUND, NULL, "no route for %s %s", r->method, path);
    }
    if (routes[r->route].post ? !is_post : !is_get)
        return reply_err(r, c, STT_EMETHOD, NULL, "method %s not allowed on %s", r->method,
                         routes[r->route].path);
    switch (r->route) {
    case R_TRANSCRIBE:
    case R_INFERENCE:
        return begin_upload(r, c);
    case R_MODELS:
        return get_models(r, c);
    case R_METRICS:
        return get_metrics(r, c);
    case R_HEALTH:
    case R_READY:
    case R_OTHER:
        break;
    }
    return reply_err(r, c, STT_EIO, NULL, "unhandled route");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    req *r = *con_cls;
    (void)version;
    if (!r) {
        r = req_new(cls, c, url, method);
        if (!r) return MHD_NO;
        *con_cls = r;
        /* libmicrohttpd closes the connection after a reply queued before the
         * request was read to its end. A GET or HEAD is answered on the next
         * call, once complete, so that clients keep their connection; a POST is
         * checked at once, so that a request refused anyway is not uploaded. */
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
            r->deferred = 1;
            return MHD_YES;
        }
        return first_call(r, c, method);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->answered_early) return take_upload(r, upload_data, n);
        if (r->responded || r->deferred) return MHD_YES;
        return take_upload(r, upload_data, n);
    }
    if (r->deferred) {
        r->deferred = 0;
        return first_call(r, c, method);
    }
    if (r->answered_early) return MHD_NO; /* said and done: close */
    if (r->responded) return MHD_YES;
    return transcribe(r, c);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    stt_server *s = cls;
    if (!s->p.log) return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    /* Its messages may quote client bytes: one line, whatever they hold. */
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) line[i] = '?';
    char ts[32];
    stt_utc_now(ts, sizeof ts);
    fprintf(s->p.log, "%s microhttpd: %s\n", ts, line);
    fflush(s->p.log);
}

/* ---- lifecycle -------------------------------------------------------- */

static int make_metrics(stt_server *s)
{
    stt_metrics *m = s->metrics = stt_metrics_create();
    if (!m) return STT_ENOMEM;
    const double *lb = stt_metrics_latency_buckets;
    size_t nlb = stt_metrics_n_latency_buckets;
    s->m_requests = stt_metrics_add(m, "sttd_requests_total", "HTTP requests by route and status.",
                                    STT_METRIC_COUNTER, NULL, 0);
    s->m_duration = stt_metrics_add(m, "sttd_request_duration_seconds",
                                    "Time from request headers to response ready, by route.",
                                    STT_METRIC_HISTOGRAM, lb, nlb);
    s->m_queue_wait = stt_metrics_add(m, "sttd_queue_wait_seconds",
                                      "Time a transcription waited for its first decoder.",
                                      STT_METRIC_HISTOGRAM, lb, nlb);
    s->m_audio =
        stt_metrics_add(m, "sttd_audio_seconds_total", "Seconds of audio transcribed successfully.",
                        STT_METRIC_COUNTER, NULL, 0);
    s->m_queue_depth =
        stt_metrics_add(m, "sttd_queue_depth",
                        "Transcriptions handed to the decoders and not finished (queued or "
                        "running).",
                        STT_METRIC_GAUGE, NULL, 0);
    s->m_in_flight =
        stt_metrics_add(m, "sttd_requests_in_flight",
                        "Transcriptions admitted and not finished (uploading, "
                        "queued or running); admission refuses at sttd_queue_capacity.",
                        STT_METRIC_GAUGE, NULL, 0);
    s->m_capacity =
        stt_metrics_add(m, "sttd_queue_capacity", "Admitted transcriptions allowed before 503.",
                        STT_METRIC_GAUGE, NULL, 0);
    s->m_busy =
        stt_metrics_add(m, "sttd_workers_busy", "Decoders working now.", STT_METRIC_GAUGE, NULL, 0);
    s->m_workers =
        stt_metrics_add(m, "sttd_workers", "Decoders available.", STT_METRIC_GAUGE, NULL, 0);
    s->m_restarts = stt_metrics_add(m, "sttd_worker_restarts_total",
                                    "Workers replaced after dying.", STT_METRIC_COUNTER, NULL, 0);
    s->m_threads =
        stt_metrics_add(m, "sttd_threads_per_request", "Default pieces in flight per request.",
                        STT_METRIC_GAUGE, NULL, 0);
    s->m_cut = stt_metrics_add(m, "sttd_connections_cut_total",
                               "Connections closed for being too slow, by reason "
                               "(header_timeout, slow_upload).",
                               STT_METRIC_COUNTER, NULL, 0);
    s->m_build = stt_metrics_add(m, "sttd_build_info", "Build of this server; value is 1.",
                                 STT_METRIC_GAUGE, NULL, 0);
    if (!s->m_requests || !s->m_duration || !s->m_queue_wait || !s->m_audio || !s->m_queue_depth ||
        !s->m_in_flight || !s->m_capacity || !s->m_busy || !s->m_workers || !s->m_restarts ||
        !s->m_threads || !s->m_cut || !s->m_build)
        return STT_ENOMEM;
    const char *bl[] = {"version", STT_VERSION, NULL};
    return stt_metric_set(s->m_build, bl, 1);
}

static void server_free(stt_server *s)
{
    stt_conns_stop(s->conns);
    stt_conns_stop(s->probe_conns);
    stt_metrics_free(s->metrics);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s->host);
    if (s->api_key) explicit_bzero(s->api_key, strlen(s->api_key));
    free(s->api_key);
    free(s->default_profile);
    free(s);
}

static struct MHD_Daemon *listen_on(stt_server *s, const struct sockaddr_in *sa, unsigned limit,
                                    unsigned per_ip, int *port_out)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES) flags |= MHD_USE_POLL;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, ntohs(sa->sin_port), NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)s->p.timeout_s, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!d) return NULL;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : ntohs(sa->sin_port);
    return d;
}

stt_server *stt_server_start(const stt_server_params *params, char *err, size_t errlen)
{
    if (!params || !params->backend.transcribe || !params->backend.status ||
        !params->backend.admit || !params->backend.release) {
        stt_seterr(err, errlen, STT_EINVAL,
                   "a backend with admit, release, transcribe and status is required");
        return NULL;
    }
    const char *dp = params->default_profile ? params->default_profile : STT_DEFAULT_PROFILE;
    int didx = stt_profile_index(dp);
    if (didx < 0) {
        stt_seterr(err, errlen, STT_EMODEL, "unknown default profile '%s'; valid: %s", dp,
                   stt_profile_list());
        return NULL;
    }
    if (params->port < 0 || params->port > 65535 || params->probe_port > 65535 ||
        params->max_upload_bytes == 0) {
        stt_seterr(err, errlen, STT_EINVAL, "bad port or upload limit");
        return NULL;
    }
    const char *host = params->host ? params->host : "127.0.0.1";
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai != 0 || !ai) {
        stt_seterr(err, errlen, STT_EINVAL, "cannot resolve '%s' as IPv4: %s", host,
                   gai_strerror(gai));
        return NULL;
    }
    struct sockaddr_in sa;
    memcpy(&sa, ai->ai_addr, sizeof sa);
    freeaddrinfo(ai);

    stt_server *s = calloc(1, sizeof *s);
    if (!s) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->idle, &ca);
    pthread_condattr_destroy(&ca);
    s->p = *params;
    s->host = strdup(host);
    s->default_profile = strdup(dp);
    s->api_key = params->api_key ? strdup(params->api_key) : NULL;
    s->p.host = s->host;
    s->p.default_profile = s->default_profile;
    s->p.api_key = s->api_key;
    s->default_idx = didx;
    s->probe_port = -1;
    stt_conns_params cp = stt_conns_default_params();
    cp.header_timeout_s = params->header_timeout_s;
    cp.min_rate_bps = params->min_upload_rate_bps;
    cp.on_cut = on_cut;
    cp.ctx = s;
    cp.max_open = params->max_connections;
    stt_conns_params pcp = cp;
    pcp.max_open = 0;
    if (!s->host || !s->default_profile || (params->api_key && !s->api_key) ||
        make_metrics(s) != 0 || !(s->conns = stt_conns_start(&cp, err, errlen)) ||
        (params->probe_port >= 0 && !(s->probe_conns = stt_conns_start(&pcp, err, errlen)))) {
        server_free(s);
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    unsigned char rnd[4] = {0};
    if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
        unsigned long x = (unsigned long)getpid() ^ (unsigned long)time(NULL);
        memcpy(rnd, &x, sizeof rnd);
    }
    snprintf(s->id_prefix, sizeof s->id_prefix, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);

    /* A client that hangs up mid-reply must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    sa.sin_port = htons((uint16_t)params->port);
    s->d = listen_on(s, &sa, params->max_connections + EVICT_HEADROOM,
                     params->max_connections_per_ip, &s->port);
    if (s->d && params->probe_port >= 0) {
        struct sockaddr_in pa = sa;
        pa.sin_port = htons((uint16_t)params->probe_port);
        s->pd = listen_on(s, &pa, PROBE_CONNECTIONS, 0, &s->probe_port);
        if (!s->pd) {
            MHD_stop_daemon(s->d);
            s->d = NULL;
        }
    }
    if (!s->d) {
        stt_seterr(err, errlen, STT_EIO, "cannot listen on %s:%d%s (address in use or not local?)",
                   host, params->port, params->probe_port >= 0 ? " and its probe port" : "");
        server_free(s);
        return NULL;
    }
    return s;
}

int stt_server_port(const stt_server *s)
{
    return s ? s->port : STT_EINVAL;
}

int stt_server_probe_port(const stt_server *s)
{
    return s && s->pd ? s->probe_port : -1;
}

void stt_server_drain(stt_server *s)
{
    pthread_mutex_lock(&s->mu);
    int first = !s->draining;
    s->draining = 1;
    pthread_mutex_unlock(&s->mu);
    if (!first) return;
    /* Closing the listening socket now makes new connections fail at once
     * (refused) instead of waiting in the backlog for the whole grace period. */
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET) {
        /* shutdown() first: the polling thread may still hold the socket in
         * poll(), and close() alone would leave it listening until it wakes. */
        shutdown(ls, SHUT_RDWR);
        close(ls);
    }
    if (s->p.backend.drain) s->p.backend.drain(s->p.backend.ctx);
}

int stt_server_in_flight(stt_server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->inflight;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void stt_server_cancel(stt_server *s)
{
    pthread_mutex_lock(&s->mu);
    int first = !s->cancelled;
    s->cancelled = 1;
    pthread_mutex_unlock(&s->mu);
    if (!first) return;
    if (s->p.backend.cancel) s->p.backend.cancel(s->p.backend.ctx);
}

static void wait_idle(stt_server *s, double seconds)
{
    double end = stt_now_s() + (seconds > 0 ? seconds : 0);
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0) {
        double left = end - stt_now_s();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double whole = floor(left);
        ts.tv_sec += (time_t)whole;
        ts.tv_nsec += (long)((left - whole) * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->idle, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
}

void stt_server_stop(stt_server *s, double grace_s)
{
    if (!s) return;
    stt_server_drain(s);
    wait_idle(s, grace_s);
    if (stt_server_in_flight(s) > 0) {
        stt_server_cancel(s);
        /* The cancelled requests answer within moments; uploads still
         * arriving are cut by MHD_stop_daemon below. */
        wait_idle(s, 1.0);
    }
    /* Joins every connection thread, so nothing uses s after this returns. */
    MHD_stop_daemon(s->d);
    if (s->pd) MHD_stop_daemon(s->pd);
    server_free(s);
}
