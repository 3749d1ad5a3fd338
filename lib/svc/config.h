/* config: sttd's command line, checked, and the one home of its defaults.
 *
 * stt_config_default_params() holds every default; stt_config_parse() turns
 * argv into a config, checking each value whole and against its range (the
 * ranges are listed in stt_config_usage()'s text and in docs/SERVICE.md), so
 * that a bad option is refused at start, never by every request later.
 * Nothing here prints, exits or starts anything. Not thread-safe (getopt).
 */
#ifndef STT_CONFIG_H
#define STT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "http.h"
#include "pool.h"
#include "transcript.h"

typedef struct stt_config {
    stt_pool_params pool;
    stt_server_params server;
    const char *api_key_file; /* NULL = no key */
    double grace_s;           /* SIGTERM: requests in flight may finish this long; default 30 */
    int quiet;                /* no request log */
    int help, version;        /* asked for --help / --version: print, don't serve */
} stt_config;

stt_config stt_config_default_params(void);

/* Parses sttd's options (argv[0] is the program name). Returns 0, or
 * STT_EINVAL with err saying which option and why (exit status 2). Strings in
 * cfg point into argv. */
int stt_config_parse(stt_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* The --help text. */
void stt_config_usage(FILE *f);

/* The API key in path: its first line without surrounding whitespace, 1 to
 * STT_CONFIG_MAX_KEY printable ASCII characters without spaces (anything else
 * would be silently unusable). *key is malloc'd (the caller wipes and frees it).
 * Returns 0, STT_EIO (unreadable) or STT_EINVAL (empty, too long, bad bytes). */
#define STT_CONFIG_MAX_KEY 512
int stt_config_read_api_key(const char *path, char **key, char *err, size_t errlen);

/* `sttd transcribe [options] FILE...`. */
typedef struct stt_transcribe_config {
    stt_pool_params pool;
    int profile;       /* default balanced */
    stt_format format; /* default text */
    int first_file;    /* index in argv of the first file */
    int help;
} stt_transcribe_config;

stt_transcribe_config stt_transcribe_default_params(void);
/* argv[0] is "transcribe". Returns 0 or STT_EINVAL with err set. */
int stt_config_parse_transcribe(stt_transcribe_config *cfg, int argc, char **argv, char *err,
                                size_t errlen);
void stt_config_transcribe_usage(FILE *f);

#endif
