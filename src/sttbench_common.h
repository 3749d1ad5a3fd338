/* sttbench_common: small helpers shared by the sttbench subcommands (clock,
 * JSON numbers, option values, directories, curl bodies). All are thread-safe
 * and print nothing. */
#ifndef STT_STTBENCH_COMMON_H
#define STT_STTBENCH_COMMON_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

#include "loadgen.h"
#include "proc.h"
#include "sysinfo.h"

/* The "machine" object of a results file: cpu_model, logical_cores,
 * cpus_allowed, mem_total_bytes, kernel, hostname. */
json_t *bench_machine_json(const stt_sysinfo *si);

/* The "machine" object of load.json and replicas.json: cpu_model, cores,
 * cpus_allowed, memory_bytes, hostname, kernel (from stt_sysinfo_get()). */
json_t *bench_host_json(void);

/* `git rev-parse --short HEAD` of the working directory as a JSON string, or
 * null outside a checkout. */
json_t *bench_git_commit(void);

/* The source tree's commit (stt_results_commit), looked up once. */
const char *bench_commit(void);

/* Seconds of CLOCK_MONOTONIC. */
double bench_now_s(void);

/* v rounded to 6 decimals as a JSON real; null when v is not finite. */
json_t *bench_jnum(double v);

/* *v = the whole of s as a number >= min. Returns 0, or -1 (s empty, trailing
 * text, out of range or below min; *v is then unspecified). */
int bench_parse_double(const char *s, double *v, double min);

/* *out = the whole of s as an integer in [lo, hi]. Returns 0, or -1 and leaves
 * *out unchanged. */
int bench_parse_int(const char *s, int lo, int hi, int *out);

/* mkdir -p: creates path and its missing parents. Returns 0 or -1 (errno set). */
int bench_mkdirs(const char *path);

/* A growing NUL-terminated byte buffer; the caller frees p. */
typedef struct bench_buf {
    char *p;
    size_t n;
} bench_buf;

/* curl CURLOPT_WRITEFUNCTION that appends to the bench_buf in arg; returns 0
 * (curl then fails the transfer) when out of memory. */
size_t bench_buf_append(char *data, size_t size, size_t nmemb, void *arg);

/* The multipart form of a transcription request on h: "file" (the file at
 * path; or, when path is NULL, a copy of len bytes at data named filename
 * with media type ctype), "model" = profile and
 * "response_format" = json. The caller may add parts and frees it with
 * curl_mime_free(). NULL when out of memory. */
curl_mime *bench_transcription_form(CURL *h, const char *path, const void *data, size_t len,
                                    const char *filename, const char *ctype, const char *profile);

/* The "text" of a transcription reply: a malloc'd copy when the transfer
 * succeeded (rc) with status 200 and a JSON body holding "text"; otherwise NULL
 * with the reason (curl's error, "HTTP <status>: <body>", or the missing
 * field) in error. body may be NULL. */
char *bench_reply_text(CURLcode rc, long status, const char *body, char *error, size_t errlen);

#endif
