/* server: a server process under test ("sut"), started from a command template.
 *
 * The template is run by /bin/sh as `exec TEMPLATE` after these are replaced:
 * {bin} (directory of the running program), {port}, {workers}, {threads},
 * {host}. The child may be put under a CPU limit (lib/cpulimit.h) before exec,
 * so the server and everything it forks start restricted. stt_sut_start()
 * returns once GET {url}{ready_path} answers 200; stt_sut_stop() sends
 * SIGTERM, waits, and SIGKILLs the process group if it must.
 *
 * Uses libcurl's easy interface: call curl_global_init() once in main() first.
 * One stt_sut is used by one thread.
 */
#ifndef STT_SUT_SERVER_H
#define STT_SUT_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "cpulimit.h"

typedef struct stt_sut_params {
    const char *command;       /* template (required) */
    const char *host;          /* "127.0.0.1" */
    int port;                  /* <= 0: a free port picked at start */
    int workers, threads;      /* values of {workers}, {threads} (0 leaves them "0") */
    const char *ready_path;    /* "/ready" */
    double ready_timeout_s;    /* 120 */
    const char *log_path;      /* server stdout+stderr; NULL: /dev/null */
    const stt_cpulimit *limit; /* borrowed; NULL: unrestricted */
} stt_sut_params;

typedef struct stt_sut stt_sut;

stt_sut_params stt_sut_default_params(void);

/* Starts the server and waits for readiness. Returns NULL with err when the
 * command cannot start, exits early, or is not ready in time (then it has been
 * stopped). */
stt_sut *stt_sut_start(const stt_sut_params *p, char *err, size_t errlen);

pid_t stt_sut_pid(const stt_sut *s);
int stt_sut_port(const stt_sut *s);
/* "http://HOST:PORT" (no trailing slash). */
const char *stt_sut_url(const stt_sut *s);
/* The command line actually run (template expanded). */
const char *stt_sut_command(const stt_sut *s);

/* GET url+path into a malloc'd NUL-terminated body (body may be NULL to
 * discard). Returns the HTTP status, or STT_EIO when no answer arrived. */
int stt_sut_get(const stt_sut *s, const char *path, char **body, double timeout_s);

/* SIGTERM, wait up to grace_s, then SIGKILL to the process group; frees s.
 * Returns the wait status, or -1. NULL is a no-op. */
int stt_sut_stop(stt_sut *s, double grace_s);

/* A TCP port free on the loopback now (bind to port 0); -1 on failure. */
int stt_sut_free_port(void);

/* Directory of the running program (/proc/self/exe), or "." */
void stt_sut_exe_dir(char *out, size_t len);

#endif
