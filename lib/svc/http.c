#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "error.h"
#include "form.h"
#include "metrics.h"

#ifndef STT_VERSION
#define STT_VERSION "unknown"
#endif

/* Field values other than the file are short; this keeps them from being
 * used to smuggle large bodies past the per-field checks. */
#define MAX_FIELD_BYTES 4096
/* After a body passes its limit the rest is read and dropped (libmicrohttpd
 * cannot answer mid-upload), but only up to this much more, then the
 * connection is cut. */
#define DISCARD_SLACK (16u << 20)

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
    int post; /* 1: POST only; 0: GET/HEAD only */
} routes[] = {
    [R_OTHER] = {"other", 0},          [R_TRANSCRIBE] = {"/v1/audio/transcriptions", 1},
    [R_INFERENCE] = {"/inference", 1}, [R_MODELS] = {"/v1/models", 0},
    [R_HEALTH] = {"/health", 0},       [R_READY] = {"/ready", 0},
    [R_METRICS] = {"/metrics", 0},
};

struct stt_server {
    struct MHD_Daemon *d;
    stt_server_params p; /* strings point at the copies below */
    char *host, *api_key, *default_profile;
    int default_idx;
    int port;
    char id_prefix[9];
    atomic_ulong next_id;

    stt_metrics *metrics;
    stt_metric *m_requests, *m_duration, *m_queue_wait, *m_audio, *m_queue_depth, *m_capacity,
        *m_busy, *m_workers, *m_restarts, *m_threads, *m_build;

    pthread_mutex_t mu; /* guards the fields below */
    pthread_cond_t idle;
    int inflight; /* requests whose handler ran and whose completion has not */
    int stopping;
    double ewma_job_s; /* recent admitted-to-done time, for Retry-After */
};

/* Per-request state; lives from the first handler call to the completion
 * callback, both on the connection's thread. */
typedef struct req {
    stt_server *s;
    enum route route;
    struct timespec t0;
    char id[65];
    char method[16];
    char path[128];
    unsigned status;
    size_t bytes;
    double audio_s, queue_ms, process_ms;
    int responded;
    int deferred; /* a GET or HEAD waiting for the end of its request */

    stt_form *form;
    size_t received;
    /* An upload error found while streaming, answered once the body ends. */
    unsigned up_status;
    const char *up_code, *up_param;
    char up_msg[200];
} req;

stt_server_params stt_server_default_params(void)
{
    stt_server_params p = {
        .host = "127.0.0.1",
        .port = 8080,
        .api_key = NULL,
        .max_upload_bytes = 100u << 20,
        .max_duration_s = 3600,
        .timeout_s = 30,
        .max_connections = 256,
        .default_profile = "balanced",
        .log = stderr,
    };
    return p;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- replies ---------------------------------------------------------- */

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
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    for (size_t i = 0; hdrs && hdrs[i]; i += 2)
        MHD_add_response_header(resp, hdrs[i], hdrs[i + 1]);
    pthread_mutex_lock(&r->s->mu);
    int stopping = r->s->stopping;
    pthread_mutex_unlock(&r->s->mu);
    if (stopping) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
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
    stt_metric_observe(r->s->m_duration, lr, ms_since(&r->t0) / 1e3);
    return ret;
}

static enum MHD_Result reply_json(req *r, struct MHD_Connection *c, unsigned status, json_t *j,
                                  const char *const *hdrs)
{
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) return MHD_NO;
    return reply(r, c, status, "application/json", body, strlen(body), hdrs);
}

/* The one builder of error replies: OpenAI's shape
 * {"error":{"message","type","param","code"}}, with the status it names.
 * extra_name/extra_value add one header (Allow, Retry-After, ...). */
static enum MHD_Result reply_error(req *r, struct MHD_Connection *c, unsigned status,
                                   const char *param, const char *code, const char *extra_name,
                                   const char *extra_value, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static enum MHD_Result reply_error(req *r, struct MHD_Connection *c, unsigned status,
                                   const char *param, const char *code, const char *extra_name,
                                   const char *extra_value, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *type = status >= 500                     ? "server_error"
                       : status == MHD_HTTP_UNAUTHORIZED ? "authentication_error"
                       : status == MHD_HTTP_NOT_FOUND    ? "not_found_error"
                                                         : "invalid_request_error";
    json_t *j = json_pack("{s:{s:s,s:s,s:s?,s:s}}", "error", "message", msg, "type", type, "param",
                          param, "code", code);
    const char *hdrs[] = {extra_name, extra_value, NULL};
    return reply_json(r, c, status, j, extra_name ? hdrs : NULL);
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

static req *req_new(stt_server *s, struct MHD_Connection *c, const char *url, const char *method)
{
    req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->s = s;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->route = find_route(url);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", url);
    const char *cid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (sane_request_id(cid))
        snprintf(r->id, sizeof r->id, "%s", cid);
    else
        snprintf(r->id, sizeof r->id, "%s%08lx", s->id_prefix,
                 (unsigned long)(atomic_fetch_add(&s->next_id, 1) & 0xffffffffu));
    pthread_mutex_lock(&s->mu);
    s->inflight++;
    pthread_mutex_unlock(&s->mu);
    return r;
}

static void log_request(stt_server *s, const req *r, double total_ms)
{
    if (!s->p.log) return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line: stdio locks the stream, so lines never interleave. */
    fprintf(s->p.log,
            "%s.%03ldZ id=%s %s %s status=%u bytes=%zu audio_s=%.2f queue_ms=%.1f "
            "process_ms=%.1f total_ms=%.1f\n",
            ts, now.tv_nsec / 1000000, r->id, r->method, r->path, r->status, r->bytes, r->audio_s,
            r->queue_ms, r->process_ms, total_ms);
    fflush(s->p.log);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    stt_server *s = cls;
    req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    log_request(s, r, ms_since(&r->t0));
    stt_form_free(r->form);
    free(r);
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
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
    const char *x = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
    return x && key_equal(x, s->api_key);
}

/* ---- GET routes ------------------------------------------------------- */

static enum MHD_Result get_ready(req *r, struct MHD_Connection *c)
{
    stt_backend_status st = {0};
    r->s->p.backend.status(r->s->p.backend.ctx, &st);
    const char *reason = !st.ready                  ? "decoders not ready"
                         : st.active >= st.capacity ? "queue full"
                                                    : NULL;
    if (!reason) return reply_json(r, c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ready"), NULL);
    return reply_json(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                      json_pack("{s:s,s:s,s:i,s:i}", "status", "not ready", "reason", reason,
                                "active", st.active, "capacity", st.capacity),
                      NULL);
}

static enum MHD_Result get_models(req *r, struct MHD_Connection *c)
{
    json_t *data = json_array();
    for (int i = 0; i < STT_N_PROFILES; i++)
        json_array_append_new(data,
                              json_pack("{s:s,s:s,s:i,s:s}", "id", stt_profile_names[i], "object",
                                        "model", "created", 0, "owned_by", "sttlab"));
    return reply_json(r, c, MHD_HTTP_OK, json_pack("{s:s,s:o}", "object", "list", "data", data),
                      NULL);
}

static enum MHD_Result get_metrics(req *r, struct MHD_Connection *c)
{
    stt_server *s = r->s;
    stt_backend_status st = {0};
    s->p.backend.status(s->p.backend.ctx, &st);
    stt_metric_set(s->m_queue_depth, NULL, st.active);
    stt_metric_set(s->m_capacity, NULL, st.capacity);
    stt_metric_set(s->m_busy, NULL, st.busy);
    stt_metric_set(s->m_workers, NULL, st.workers);
    stt_metric_set(s->m_restarts, NULL, (double)st.restarts);
    stt_metric_set(s->m_threads, NULL, st.threads);
    char *out;
    size_t len;
    if (stt_metrics_render(s->metrics, &out, &len) != 0)
        return reply_error(r, c, 500, NULL, "internal_error", NULL, NULL, "out of memory");
    return reply(r, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", out, len, NULL);
}

/* ---- transcriptions --------------------------------------------------- */

static void upload_error(req *r, unsigned status, const char *param, const char *code,
                         const char *msg)
{
    if (r->up_status) return;
    r->up_status = status;
    r->up_param = param;
    r->up_code = code;
    snprintf(r->up_msg, sizeof r->up_msg, "%s", msg);
    /* Nothing more of this body is needed: release what it took. */
    stt_form_free(r->form);
    r->form = NULL;
}

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
            return reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "file", "file_too_large", NULL,
                               NULL, "request body of %llu bytes exceeds the limit of %zu bytes", n,
                               s->p.max_upload_bytes);
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    stt_form_limits lim = stt_form_default_limits();
    lim.max_body_bytes = s->p.max_upload_bytes;
    char err[200];
    int rc = stt_form_create(ct, &lim, &r->form, err, sizeof err);
    if (rc == STT_EFORMAT)
        return reply_error(r, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL, "unsupported_media_type",
                           NULL, NULL, "%s", err);
    if (rc == STT_EINVAL)
        return reply_error(r, c, MHD_HTTP_BAD_REQUEST, NULL, "invalid_multipart", NULL, NULL, "%s",
                           err);
    if (rc) return reply_error(r, c, 500, NULL, "internal_error", NULL, NULL, "%s", err);
    return MHD_YES;
}

static enum MHD_Result take_upload(req *r, const char *data, size_t n)
{
    size_t max = r->s->p.max_upload_bytes;
    r->received += n;
    if (r->received > max) {
        char msg[160];
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes", max);
        upload_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "file", "file_too_large", msg);
        return r->received - max > DISCARD_SLACK ? MHD_NO : MHD_YES;
    }
    if (!r->form) return MHD_YES;
    int rc = stt_form_feed(r->form, data, n);
    if (rc == STT_ETOOBIG)
        upload_error(r, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "too_large", stt_form_error(r->form));
    else if (rc == STT_EINVAL)
        upload_error(r, MHD_HTTP_BAD_REQUEST, NULL, "invalid_multipart", stt_form_error(r->form));
    else if (rc)
        upload_error(r, 500, NULL, "internal_error", stt_form_error(r->form));
    return MHD_YES;
}

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
    stt_backend_status st = {0};
    s->p.backend.status(s->p.backend.ctx, &st);
    pthread_mutex_lock(&s->mu);
    double job = s->ewma_job_s;
    pthread_mutex_unlock(&s->mu);
    int workers = st.workers > 0 ? st.workers : 1;
    /* Time for the admitted requests ahead to drain through the workers. */
    double est =
        job > 0 ? ceil(job * (st.active > 0 ? st.active : 1) / workers) : 1 + st.active / workers;
    return est < 1 ? 1 : est > 30 ? 30 : (int)est;
}

static enum MHD_Result transcribe(req *r, struct MHD_Connection *c)
{
    stt_server *s = r->s;
    if (!r->up_status) {
        int rc = stt_form_finish(r->form);
        if (rc) {
            upload_error(r, rc == STT_ETOOBIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST,
                         NULL, rc == STT_ETOOBIG ? "too_large" : "invalid_multipart",
                         stt_form_error(r->form));
        }
    }
    if (r->up_status)
        return reply_error(r, c, r->up_status, r->up_param, r->up_code, NULL, NULL, "%s",
                           r->up_msg);

    for (size_t i = 0; i < stt_form_count(r->form); i++) {
        const stt_form_part *p = stt_form_part_at(r->form, i);
        if (strcmp(p->name, "file") != 0 && p->len > MAX_FIELD_BYTES)
            return reply_error(r, c, MHD_HTTP_BAD_REQUEST, p->name, "invalid_value", NULL, NULL,
                               "field '%s' is longer than %d bytes", p->name, MAX_FIELD_BYTES);
    }
    const stt_form_part *file = stt_form_get(r->form, "file");
    if (!file)
        return reply_error(r, c, MHD_HTTP_BAD_REQUEST, "file", "missing_file", NULL, NULL,
                           "missing required field 'file'");

    char buf[MAX_FIELD_BYTES + 1];
    int profile = s->default_idx;
    const char *v = field(r, "model", buf, sizeof buf);
    if (v && *v) {
        profile = stt_profile_index(v);
        /* OpenAI clients name Whisper models ("whisper-1"): serve them the default. */
        if (profile < 0 && strncasecmp(v, "whisper", 7) == 0) profile = s->default_idx;
        if (profile < 0)
            return reply_error(r, c, MHD_HTTP_BAD_REQUEST, "model", "model_not_found", NULL, NULL,
                               "unknown model '%s'; valid models: %s", v, stt_profile_list());
    }
    v = field(r, "language", buf, sizeof buf);
    if (v && *v && strcasecmp(v, "en") != 0 && strcasecmp(v, "english") != 0)
        return reply_error(r, c, MHD_HTTP_BAD_REQUEST, "language", "unsupported_language", NULL,
                           NULL, "unsupported language '%s'; this server transcribes 'en' only", v);
    stt_format fmt = STT_FMT_JSON;
    v = field(r, "response_format", buf, sizeof buf);
    if (v && *v && stt_format_parse(v, &fmt) != 0)
        return reply_error(r, c, MHD_HTTP_BAD_REQUEST, "response_format", "invalid_value", NULL,
                           NULL,
                           "unknown response_format '%s'; valid: json, text, verbose_json, srt, "
                           "vtt",
                           v);
    stt_format_opts opts = stt_format_default_opts();
    opts.language = "en";
    int granular = 0, want_words = 0, want_segments = 0;
    for (size_t i = 0; i < stt_form_count(r->form); i++) {
        const stt_form_part *p = stt_form_part_at(r->form, i);
        if (strcmp(p->name, "timestamp_granularities[]") != 0 &&
            strcmp(p->name, "timestamp_granularities") != 0)
            continue;
        granular = 1;
        if (strcmp(p->data, "word") == 0)
            want_words = 1;
        else if (strcmp(p->data, "segment") == 0)
            want_segments = 1;
        else
            return reply_error(
                r, c, MHD_HTTP_BAD_REQUEST, "timestamp_granularities[]", "invalid_value", NULL,
                NULL, "unknown timestamp granularity '%.64s'; valid: segment, word", p->data);
    }
    if (granular) {
        opts.words = want_words;
        opts.segments = want_segments;
    }
    int threads = 0;
    v = field(r, "threads", buf, sizeof buf);
    if (v && *v) {
        char *end;
        errno = 0;
        long t = strtol(v, &end, 10);
        if (errno || *end || t < 1 || t > 1024)
            return reply_error(r, c, MHD_HTTP_BAD_REQUEST, "threads", "invalid_value", NULL, NULL,
                               "threads must be an integer from 1 to 1024, got '%s'", v);
        threads = (int)t;
    }

    char err[256] = "";
    stt_audio_params ap = stt_audio_default_params();
    ap.max_duration_s = s->p.max_duration_s;
    stt_audio audio = {0};
    int rc = stt_audio_decode(file->data, file->len, &ap, &audio, err, sizeof err);
    if (rc == STT_EAUDIO)
        return reply_error(r, c, MHD_HTTP_BAD_REQUEST, "file", "invalid_audio", NULL, NULL,
                           "could not decode audio: %s", err);
    if (rc == STT_EFORMAT)
        return reply_error(r, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "file",
                           "unsupported_audio_format", NULL, NULL, "%s", err);
    if (rc == STT_ETOOBIG)
        return reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "file", "audio_too_long", NULL, NULL,
                           "%s", err);
    if (rc) return reply_error(r, c, 500, NULL, "internal_error", NULL, NULL, "%s", err);
    /* The upload is no longer needed while the (possibly long) job runs. */
    stt_form_free(r->form);
    r->form = NULL;
    r->audio_s = stt_audio_duration(&audio);

    stt_transcript *t = NULL;
    stt_job_stats js = {0};
    err[0] = '\0';
    rc = s->p.backend.transcribe(s->p.backend.ctx, &audio, profile, threads, &t, &js, err,
                                 sizeof err);
    stt_audio_free(&audio);
    if (rc == STT_EBUSY) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after_s(s));
        return reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "server_busy",
                           MHD_HTTP_HEADER_RETRY_AFTER, ra,
                           "all decoders are busy and the queue is full; retry later");
    }
    if (rc == STT_ESHUTDOWN)
        return reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "shutting_down", NULL, NULL,
                           "the server is shutting down");
    if (rc == STT_EINVAL)
        return reply_error(r, c, MHD_HTTP_BAD_REQUEST, NULL, "invalid_value", NULL, NULL, "%s",
                           err);
    if (rc == STT_ETOOBIG)
        return reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "file", "audio_too_long", NULL, NULL,
                           "%s", err);
    if (rc || !t)
        return reply_error(r, c, 500, NULL, "internal_error", NULL, NULL,
                           "transcription failed: %s", err[0] ? err : stt_strerror(rc));
    r->queue_ms = js.queue_ms;
    r->process_ms = js.process_ms;
    stt_transcript_set_duration(t, r->audio_s);
    char *body = NULL;
    size_t len = 0;
    rc = stt_transcript_format(t, fmt, &opts, &body, &len);
    stt_transcript_free(t);
    if (rc) return reply_error(r, c, 500, NULL, "internal_error", NULL, NULL, "formatting failed");

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
    const char *hdrs[] = {"X-Queue-Time-Ms",
                          qt,
                          "X-Process-Time-Ms",
                          pt,
                          "X-Audio-Duration-S",
                          ad,
                          "X-Pieces",
                          pc,
                          NULL};
    return reply(r, c, MHD_HTTP_OK, stt_format_content_type(fmt), body, len, hdrs);
}

/* ---- dispatch --------------------------------------------------------- */

static enum MHD_Result first_call(req *r, struct MHD_Connection *c, const char *method)
{
    stt_server *s = r->s;
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int is_post = strcmp(method, "POST") == 0;
    pthread_mutex_lock(&s->mu);
    int stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (stopping)
        return reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "shutting_down", NULL, NULL,
                           "the server is shutting down");
    /* Liveness probes must work without credentials. A backend that stopped by
     * itself fails them, so that an orchestrator restarts the process. */
    if (r->route == R_HEALTH && is_get) {
        stt_backend_status st = {0};
        if (s->p.backend.status) s->p.backend.status(s->p.backend.ctx, &st);
        if (st.broken)
            return reply_json(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                              json_pack("{s:s, s:s}", "status", "broken", "reason",
                                        "the decoder pool stopped by itself; restart the process"),
                              NULL);
        return reply_json(r, c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
    }
    if (!authorized(s, c))
        return reply_error(r, c, MHD_HTTP_UNAUTHORIZED, NULL, "invalid_api_key",
                           MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer",
                           "missing or invalid API key (send 'Authorization: Bearer KEY' or "
                           "'X-API-Key: KEY')");
    if (r->route == R_OTHER)
        return reply_error(r, c, MHD_HTTP_NOT_FOUND, NULL, "not_found", NULL, NULL,
                           "no route for %s %s", r->method, r->path);
    if (routes[r->route].post ? !is_post : !is_get)
        return reply_error(r, c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "method_not_allowed",
                           MHD_HTTP_HEADER_ALLOW, routes[r->route].post ? "POST" : "GET, HEAD",
                           "method %s not allowed on %s", r->method, r->path);
    switch (r->route) {
    case R_TRANSCRIBE:
    case R_INFERENCE:
        return begin_upload(r, c);
    case R_MODELS:
        return get_models(r, c);
    case R_HEALTH:
        break;
    case R_READY:
        return get_ready(r, c);
    case R_METRICS:
        return get_metrics(r, c);
    case R_OTHER:
        break;
    }
    return MHD_NO;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    req *r = *con_cls;
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
        if (r->responded || r->deferred) return MHD_YES;
        return take_upload(r, upload_data, n);
    }
    if (r->deferred) {
        r->deferred = 0;
        return first_call(r, c, method);
    }
    if (r->responded) return MHD_YES;
    return transcribe(r, c);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    stt_server *s = cls;
    if (!s->p.log) return;
    vfprintf(s->p.log, fmt, ap);
    fflush(s->p.log);
}

/* ---- lifecycle -------------------------------------------------------- */

static int make_metrics(stt_server *s)
{
    stt_metrics *m = s->metrics = stt_metrics_create();
    if (!m) return -1;
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
    s->m_queue_depth = stt_metrics_add(
        m, "sttd_queue_depth", "Transcriptions admitted and not finished (queued or running).",
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
    s->m_build = stt_metrics_add(m, "sttd_build_info", "Build of this server; value is 1.",
                                 STT_METRIC_GAUGE, NULL, 0);
    if (!s->m_requests || !s->m_duration || !s->m_queue_wait || !s->m_audio || !s->m_queue_depth ||
        !s->m_capacity || !s->m_busy || !s->m_workers || !s->m_restarts || !s->m_threads ||
        !s->m_build)
        return -1;
    const char *bl[] = {"version", STT_VERSION, NULL};
    return stt_metric_set(s->m_build, bl, 1);
}

static void server_free(stt_server *s)
{
    stt_metrics_free(s->metrics);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s->host);
    free(s->api_key);
    free(s->default_profile);
    free(s);
}

stt_server *stt_server_start(const stt_server_params *params, char *err, size_t errlen)
{
    if (!params || !params->backend.transcribe || !params->backend.status) {
        stt_seterr(err, errlen, STT_EINVAL, "a backend with transcribe and status is required");
        return NULL;
    }
    const char *dp = params->default_profile ? params->default_profile : "balanced";
    int didx = stt_profile_index(dp);
    if (didx < 0) {
        stt_seterr(err, errlen, STT_EINVAL, "unknown default profile '%s'; valid: %s", dp,
                   stt_profile_list());
        return NULL;
    }
    if (params->port < 0 || params->port > 65535 || params->max_upload_bytes == 0) {
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
    sa.sin_port = htons((uint16_t)params->port);

    stt_server *s = calloc(1, sizeof *s);
    if (!s) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle, NULL);
    s->p = *params;
    s->host = strdup(host);
    s->default_profile = strdup(dp);
    s->api_key = params->api_key ? strdup(params->api_key) : NULL;
    s->p.host = s->host;
    s->p.default_profile = s->default_profile;
    s->p.api_key = s->api_key;
    s->default_idx = didx;
    if (!s->host || !s->default_profile || (params->api_key && !s->api_key) ||
        make_metrics(s) != 0) {
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
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES) flags |= MHD_USE_POLL;
    s->d = MHD_start_daemon(flags, (uint16_t)params->port, NULL, NULL, handler, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)params->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned int)params->max_connections, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, s, MHD_OPTION_END);
    if (!s->d) {
        stt_seterr(err, errlen, STT_EIO, "cannot listen on %s:%d (address in use or not local?)",
                   host, params->port);
        server_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : params->port;
    return s;
}

int stt_server_port(const stt_server *s)
{
    return s ? s->port : -1;
}

void stt_server_stop(stt_server *s, double grace_s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    double whole = floor(grace_s > 0 ? grace_s : 0);
    deadline.tv_sec += (time_t)whole;
    deadline.tv_nsec += (long)((grace_s > 0 ? grace_s - whole : 0) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->mu, &deadline) == ETIMEDOUT) break;
    pthread_mutex_unlock(&s->mu);
    /* Joins every connection thread (a handler still inside the backend is
     * waited for), so nothing uses s after this returns. */
    MHD_stop_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET) close(ls);
    server_free(s);
}
