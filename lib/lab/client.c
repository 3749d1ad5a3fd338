/* client: see client.h. */
#include "client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api.h"
#include "clock.h"
#include "error.h"

const char *stt_media_type(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot) return "application/octet-stream";
    if (!strcasecmp(dot, ".wav")) return "audio/wav";
    if (!strcasecmp(dot, ".mp3")) return "audio/mpeg";
    if (!strcasecmp(dot, ".flac")) return "audio/flac";
    if (!strcasecmp(dot, ".ogg") || !strcasecmp(dot, ".oga")) return "audio/ogg";
    return "application/octet-stream";
}

static double audio_duration(const char *path)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return 0;
    sf_close(f);
    return info.samplerate > 0 ? (double)info.frames / info.samplerate : 0;
}

int stt_upload_read(const char *path, unsigned weight, stt_upload *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    FILE *f = fopen(path, "rb");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot open %s", path);
    struct stat st;
    if (fstat(fileno(f), &st) || st.st_size <= 0) {
        fclose(f);
        return stt_seterr(err, errlen, STT_EINVAL, "%s is empty", path);
    }
    unsigned char *buf = malloc((size_t)st.st_size);
    if (!buf) {
        fclose(f);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory reading %s", path);
    }
    size_t got = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (got != (size_t)st.st_size) {
        free(buf);
        return stt_seterr(err, errlen, STT_EIO, "cannot read %s", path);
    }
    const char *slash = strrchr(path, '/');
    *u = (stt_upload){slash ? slash + 1 : path, stt_media_type(path), buf,
                      (size_t)st.st_size,       audio_duration(path), weight ? weight : 1};
    return 0;
}

void stt_upload_free(stt_upload *u)
{
    if (!u) return;
    free((void *)u->data);
    u->data = NULL;
    u->len = 0;
}

stt_client_params stt_client_default_params(void)
{
    return (stt_client_params){
        .route = STT_ROUTE_TRANSCRIPTIONS, .response_format = "json", .timeout_s = 600};
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    buf *b = arg;
    size_t k = size * nmemb;
    char *p = realloc(b->p, b->n + k + 1);
    if (!p) return 0;
    memcpy(p + b->n, data, k);
    b->n += k;
    p[b->n] = 0;
    b->p = p;
    return k;
}

/* X-* headers of the answer, as they arrive. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    stt_client_reply *r = arg;
    size_t n = size * nmemb;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), data);
    char *colon = strchr(line, ':');
    if (!colon) return n;
    *colon = 0;
    double v = strtod(colon + 1, NULL);
    if (!strcasecmp(line, STT_HDR_QUEUE_MS)) r->queue_ms = v;
    if (!strcasecmp(line, STT_HDR_PROCESS_MS)) r->process_ms = v;
    if (!strcasecmp(line, STT_HDR_AUDIO_S)) r->audio_s = v;
    if (!strcasecmp(line, STT_HDR_PIECES)) r->pieces = (int)v;
    return n;
}

static void add_field(curl_mime *m, const char *name, const char *value)
{
    curl_mimepart *part = curl_mime_addpart(m);
    curl_mime_name(part, name);
    curl_mime_data(part, value, CURL_ZERO_TERMINATED);
}

static int is_json_format(const char *f)
{
    return !f || !strcmp(f, "json") || !strcmp(f, "verbose_json");
}

int stt_client_transcribe(const char *base_url, const stt_upload *u, const stt_client_params *p,
                          stt_client_reply *r)
{
    stt_client_params dp = stt_client_default_params();
    if (!p) p = &dp;
    memset(r, 0, sizeof *r);
    r->queue_ms = r->process_ms = r->audio_s = NAN;
    buf b = {0};
    CURL *h = curl_easy_init();
    curl_mime *m = h ? curl_mime_init(h) : NULL;
    struct curl_slist *hdrs = NULL;
    if (!m) {
        curl_easy_cleanup(h);
        snprintf(r->error, sizeof r->error, "out of memory");
        r->body = strdup("");
        return STT_ENOMEM;
    }
    curl_mimepart *part = curl_mime_addpart(m);
    curl_mime_name(part, STT_FIELD_FILE);
    curl_mime_data(part, (const char *)u->data, u->len);
    curl_mime_filename(part, u->filename ? u->filename : "audio.wav");
    if (u->content_type) curl_mime_type(part, u->content_type);
    if (p->profile) add_field(m, STT_FIELD_MODEL, p->profile);
    if (p->response_format) add_field(m, STT_FIELD_RESPONSE_FORMAT, p->response_format);
    if (p->threads > 0) {
        char t[16];
        snprintf(t, sizeof t, "%d", p->threads);
        add_field(m, STT_FIELD_THREADS, t);
    }
    char url[1024], auth[512];
    snprintf(url, sizeof url, "%s%s", base_url, p->route ? p->route : STT_ROUTE_TRANSCRIPTIONS);
    if (p->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->api_key);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, m);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(p->timeout_s * 1000));
    double t0 = stt_now_s();
    CURLcode rc = curl_easy_perform(h);
    r->elapsed_s = stt_now_s() - t0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    curl_mime_free(m);
    curl_easy_cleanup(h);
    r->body = b.p ? b.p : strdup("");
    r->len = b.n;
    if (rc != CURLE_OK) {
        snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(rc));
        return STT_EIO;
    }
    if (r->status != 200) {
        snprintf(r->error, sizeof r->error, "HTTP %ld: %.200s", r->status, r->body ? r->body : "");
        return STT_EINVAL;
    }
    if (!is_json_format(p->response_format)) return 0;
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    const char *text = json_string_value(json_object_get(j, "text"));
    r->text = text ? strdup(text) : NULL;
    json_decref(j);
    if (!r->text) {
        snprintf(r->error, sizeof r->error, "answer has no \"text\"");
        return STT_EINVAL;
    }
    return 0;
}

void stt_client_reply_free(stt_client_reply *r)
{
    if (!r) return;
    free(r->body);
    free(r->text);
    r->body = r->text = NULL;
}

int stt_client_get(const char *url, double timeout_s, long *status, char **body)
{
    *status = 0;
    if (body) *body = NULL;
    CURL *h = curl_easy_init();
    if (!h) return STT_ENOMEM;
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    if (body && rc == CURLE_OK)
        *body = b.p ? b.p : strdup("");
    else
        free(b.p);
    return rc == CURLE_OK ? 0 : STT_EIO;
}

double stt_client_metric(const char *text, const char *name)
{
    size_t l = strlen(name);
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, name, l) && (p[l] == ' ' || p[l] == '\t')) return strtod(p + l, NULL);
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NAN;
}
