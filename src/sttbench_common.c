/* sttbench_common: helpers shared by the sttbench subcommands. */
#include "sttbench_common.h"

#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sndfile.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

json_t *bench_machine_json(const stt_sysinfo *si)
{
    return json_pack("{s:s, s:i, s:i, s:I, s:s, s:s}", "cpu_model", si->cpu_model, "logical_cores",
                     si->logical_cores, "cpus_allowed", si->cpus_allowed, "mem_total_bytes",
                     (json_int_t)si->mem_total, "kernel", si->kernel, "hostname", si->hostname);
}

json_t *bench_host_json(void)
{
    stt_sysinfo si;
    stt_sysinfo_get(&si);
    return json_pack("{s:s, s:i, s:i, s:I, s:s, s:s}", "cpu_model", si.cpu_model, "cores",
                     si.logical_cores, "cpus_allowed", si.cpus_allowed, "memory_bytes",
                     (json_int_t)si.mem_total, "hostname", si.hostname, "kernel", si.kernel);
}

json_t *bench_git_commit(void)
{
    return json_string(bench_commit());
}

const char *bench_commit(void)
{
    static char buf[64];
    if (!buf[0]) stt_results_commit(buf, sizeof buf);
    return buf;
}

double bench_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

json_t *bench_jnum(double v)
{
    return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

int bench_parse_double(const char *s, double *v, double min)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return (end == s || *end || errno || !(*v >= min)) ? -1 : 0;
}

int bench_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (*end || end == s || x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

int bench_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

size_t bench_buf_append(char *data, size_t size, size_t nmemb, void *arg)
{
    bench_buf *b = arg;
    size_t k = size * nmemb;
    char *p = realloc(b->p, b->n + k + 1);
    if (!p) return 0;
    memcpy(p + b->n, data, k);
    b->n += k;
    p[b->n] = 0;
    b->p = p;
    return k;
}

curl_mime *bench_transcription_form(CURL *h, const char *path, const void *data, size_t len,
                                    const char *filename, const char *ctype, const char *profile)
{
    curl_mime *m = curl_mime_init(h);
    if (!m) return NULL;
    curl_mimepart *part = curl_mime_addpart(m);
    curl_mime_name(part, "file");
    if (path) {
        curl_mime_filedata(part, path);
    } else {
        curl_mime_data(part, (const char *)data, len);
        curl_mime_filename(part, filename);
        curl_mime_type(part, ctype);
    }
    part = curl_mime_addpart(m);
    curl_mime_name(part, "model");
    curl_mime_data(part, profile, CURL_ZERO_TERMINATED);
    part = curl_mime_addpart(m);
    curl_mime_name(part, "response_format");
    curl_mime_data(part, "json", CURL_ZERO_TERMINATED);
    return m;
}

char *bench_reply_text(CURLcode rc, long status, const char *body, char *error, size_t errlen)
{
    if (rc != CURLE_OK) {
        snprintf(error, errlen, "%s", curl_easy_strerror(rc));
        return NULL;
    }
    if (status != 200) {
        snprintf(error, errlen, "HTTP %ld: %.200s", status, body ? body : "");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loads(body ? body : "", 0, &je);
    const char *text = json_string_value(json_object_get(j, "text"));
    char *out = text ? strdup(text) : NULL;
    if (!text) snprintf(error, errlen, "response has no \"text\"");
    json_decref(j);
    return out;
}
