/* config: see config.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audio.h"
#include "cpus.h"
#include "error.h"
#include "parse.h"
#include "vad.h"

stt_config stt_config_default_params(void)
{
    stt_config c;
    memset(&c, 0, sizeof c);
    c.pool = stt_pool_default_params();
    c.server = stt_server_default_params();
    c.grace_s = 30;
    return c;
}

void stt_config_usage(FILE *f)
{
    stt_config d = stt_config_default_params();
    fprintf(
        f,
        "usage: sttd [OPTIONS]\n"
        "       sttd transcribe [--model P] [--response-format F] [--threads N] FILE...\n"
        "\n"
        "Speech-to-text service (OpenAI-compatible /v1/audio/transcriptions,\n"
        "whisper.cpp-compatible /inference) on CMU PocketSphinx.\n"
        "\n"
        "options (ranges in brackets):\n"
        "  --host ADDR           address to listen on (default %s)\n"
        "  --port N              port (default %d; 0 = any free port, printed at start)\n"
        "  --probe-port N        also serve GET /health, /ready and /metrics here, without\n"
        "                        an API key and with their own connections (default: none;\n"
        "                        0 = any free port) [0-65535]\n"
        "  --workers N           decoder processes (default: usable CPUs = %d here) [1-1024]\n"
        "  --threads N           pieces of one request decoded at once (default: workers)\n"
        "  --queue N             requests admitted beyond --workers before 503\n"
        "                        (default: 2 x workers) [0-100000]\n"
        "  --profiles LIST       profiles to load (default fast,balanced,accurate)\n"
        "  --model-dir DIR       PocketSphinx model (default %s)\n"
        "  --api-key-file FILE   require this key (Authorization: Bearer or X-API-Key);\n"
        "                        /health and /ready never need it\n"
        "  --max-upload-mb N     largest upload (default %g; larger gets 413) [0.001-4096]\n"
        "  --max-duration-s S    longest audio (default %g; longer gets 413) [0.1-%g]\n"
        "  --max-piece-s S       longest piece one worker decodes at once (default %g) [2-600]\n"
        "  --max-rtf R           recognition CPU per second of audio before a request fails\n"
        "                        with 422 (default %g; 0 = no limit) [0-100]\n"
        "  --min-deadline-s S    that CPU budget is at least this (default %g) [0.1-3600]\n"
        "  --max-decode-cpu-s S  CPU one upload's decoding may use (default %g) [0.1-3600]\n"
        "  --timeout-s S         drop clients idle this long (default %u) [1-3600]\n"
        "  --header-timeout-s S  a request's headers must arrive within this of the\n"
        "                        connection opening or its previous answer (default %g;\n"
        "                        0 = none) [0-3600]\n"
        "  --min-upload-kib-s N  uploads slower than this (after 10 s) are cut, 408\n"
        "                        (default %g; 0 = none) [0-1048576]\n"
        "  --max-connections N   concurrent connections (default %u) [1-65536]\n"
        "  --max-connections-per-ip N  per client address (default %u; 0 = no limit)\n"
        "                        [0-65536]\n"
        "  --broken-after-s S    no worker for this long: /health fails (default %g) [0.1-3600]\n"
        "  --grace-s S           on SIGTERM, let requests in flight finish this long, then\n"
        "                        cancel them; exit within S + 2 (default %g) [0-86400]\n"
        "  --quiet               no request log\n"
        "  --help, --version\n"
        "\n"
        "Signals: SIGTERM or SIGINT drains (a second one is ignored); SIGQUIT or a third\n"
        "stops at once. See docs/SERVICE.md.\n",
        d.server.host, d.server.port, stt_usable_cpus(), STT_MODEL_DIR,
        (double)d.server.max_upload_bytes / (1024 * 1024), d.server.max_duration_s,
        STT_AUDIO_MAX_DURATION_S, d.pool.vad.max_piece_s, d.pool.max_rtf, d.pool.min_deadline_s,
        d.pool.decode_cpu_s, d.server.timeout_s, d.server.header_timeout_s,
        d.server.min_upload_rate_bps / 1024, d.server.max_connections,
        d.server.max_connections_per_ip, d.pool.broken_after_s, d.grace_s);
}

static int bad(char *err, size_t errlen, const char *name, const char *v, const char *want)
{
    return stt_seterr(err, errlen, STT_EINVAL, "--%s needs %s, got '%s'", name, want, v);
}

static int opt_int(const char *name, const char *v, long lo, long hi, int *out, char *err,
                   size_t errlen)
{
    if (stt_parse_int(v, lo, hi, out) == 0) return 0;
    char want[80];
    snprintf(want, sizeof want, "an integer from %ld to %ld", lo, hi);
    return bad(err, errlen, name, v, want);
}

static int opt_double(const char *name, const char *v, double lo, double hi, double *out, char *err,
                      size_t errlen)
{
    if (stt_parse_double(v, lo, hi, out) == 0) return 0;
    char want[80];
    snprintf(want, sizeof want, "a number from %g to %g", lo, hi);
    return bad(err, errlen, name, v, want);
}

static int parse_profiles(const char *list, unsigned *mask, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(list) >= sizeof buf) return bad(err, errlen, "profiles", list, "a short list");
    snprintf(buf, sizeof buf, "%s", list);
    *mask = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i = stt_profile_index(tok);
        if (i < 0)
            return stt_seterr(err, errlen, STT_EINVAL,
                              "--profiles: unknown profile '%s' (valid: %s)", tok,
                              stt_profile_list());
        *mask |= 1u << i;
    }
    if (!*mask) return bad(err, errlen, "profiles", list, "at least one profile");
    return 0;
}

enum {
    O_HOST = 256,
    O_PORT,
    O_PROBE_PORT,
    O_WORKERS,
    O_THREADS,
    O_QUEUE,
    O_PROFILES,
    O_MODEL_DIR,
    O_KEY,
    O_UPLOAD,
    O_DURATION,
    O_PIECE,
    O_RTF,
    O_MIN_DEADLINE,
    O_DECODE_CPU,
    O_TIMEOUT,
    O_HEADER_TIMEOUT,
    O_MIN_RATE,
    O_CONNS,
    O_CONNS_IP,
    O_BROKEN,
    O_GRACE,
    O_QUIET,
    O_HELP,
    O_VERSION
};

static const struct option longopts[] = {{"host", 1, 0, O_HOST},
                                         {"port", 1, 0, O_PORT},
                                         {"probe-port", 1, 0, O_PROBE_PORT},
                                         {"workers", 1, 0, O_WORKERS},
                                         {"threads", 1, 0, O_THREADS},
                                         {"queue", 1, 0, O_QUEUE},
                                         {"profiles", 1, 0, O_PROFILES},
                                         {"model-dir", 1, 0, O_MODEL_DIR},
                                         {"api-key-file", 1, 0, O_KEY},
                                         {"max-upload-mb", 1, 0, O_UPLOAD},
                                         {"max-duration-s", 1, 0, O_DURATION},
                                         {"max-piece-s", 1, 0, O_PIECE},
                                         {"max-rtf", 1, 0, O_RTF},
                                         {"min-deadline-s", 1, 0, O_MIN_DEADLINE},
                                         {"max-decode-cpu-s", 1, 0, O_DECODE_CPU},
                                         {"timeout-s", 1, 0, O_TIMEOUT},
                                         {"header-timeout-s", 1, 0, O_HEADER_TIMEOUT},
                                         {"min-upload-kib-s", 1, 0, O_MIN_RATE},
                                         {"max-connections", 1, 0, O_CONNS},
                                         {"max-connections-per-ip", 1, 0, O_CONNS_IP},
                                         {"broken-after-s", 1, 0, O_BROKEN},
                                         {"grace-s", 1, 0, O_GRACE},
                                         {"quiet", 0, 0, O_QUIET},
                                         {"help", 0, 0, O_HELP},
                                         {"version", 0, 0, O_VERSION},
                                         {0, 0, 0, 0}};

static int one_option(stt_config *o, int c, const char *v, char *err, size_t errlen)
{
    int i = 0;
    double d = 0;
    int rc = 0;
    switch (c) {
    case O_HOST:
        o->server.host = v;
        return 0;
    case O_PORT:
        return opt_int("port", v, 0, 65535, &o->server.port, err, errlen);
    case O_PROBE_PORT:
        return opt_int("probe-port", v, 0, 65535, &o->server.probe_port, err, errlen);
    case O_WORKERS:
        return opt_int("workers", v, 1, 1024, &o->pool.workers, err, errlen);
    case O_THREADS:
        return opt_int("threads", v, 1, 1024, &o->pool.threads, err, errlen);
    case O_QUEUE:
        rc = opt_int("queue", v, 0, 100000, &i, err, errlen);
        /* 0 means "default" to the pool; an explicit 0 means "no queue". */
        o->pool.queue = i ? i : -1;
        return rc;
    case O_PROFILES:
        return parse_profiles(v, &o->pool.profile_mask, err, errlen);
    case O_MODEL_DIR:
        o->pool.model_dir = v;
        return 0;
    case O_KEY:
        o->api_key_file = v;
        return 0;
    case O_UPLOAD:
        rc = opt_double("max-upload-mb", v, 0.001, 4096, &d, err, errlen);
        o->server.max_upload_bytes = (size_t)(d * 1024 * 1024);
        return rc;
    case O_DURATION:
        return opt_double("max-duration-s", v, 0.1, STT_AUDIO_MAX_DURATION_S,
                          &o->server.max_duration_s, err, errlen);
    case O_PIECE:
        rc = opt_double("max-piece-s", v, 2, 600, &o->pool.vad.max_piece_s, err, errlen);
        if (!rc && stt_vad_params_check(&o->pool.vad) < 0)
            rc = bad(err, errlen, "max-piece-s", v, "a value the splitter accepts");
        return rc;
    case O_RTF:
        return opt_double("max-rtf", v, 0, 100, &o->pool.max_rtf, err, errlen);
    case O_MIN_DEADLINE:
        return opt_double("min-deadline-s", v, 0.1, 3600, &o->pool.min_deadline_s, err, errlen);
    case O_DECODE_CPU:
        return opt_double("max-decode-cpu-s", v, 0.1, 3600, &o->pool.decode_cpu_s, err, errlen);
    case O_TIMEOUT:
        rc = opt_int("timeout-s", v, 1, 3600, &i, err, errlen);
        o->server.timeout_s = (unsigned)i;
        return rc;
    case O_HEADER_TIMEOUT:
        return opt_double("header-timeout-s", v, 0, 3600, &o->server.header_timeout_s, err, errlen);
    case O_MIN_RATE:
        rc = opt_double("min-upload-kib-s", v, 0, 1048576, &d, err, errlen);
        o->server.min_upload_rate_bps = d * 1024;
        return rc;
    case O_CONNS:
        rc = opt_int("max-connections", v, 1, 65536, &i, err, errlen);
        o->server.max_connections = (unsigned)i;
        return rc;
    case O_CONNS_IP:
        rc = opt_int("max-connections-per-ip", v, 0, 65536, &i, err, errlen);
        o->server.max_connections_per_ip = (unsigned)i;
        return rc;
    case O_BROKEN:
        return opt_double("broken-after-s", v, 0.1, 3600, &o->pool.broken_after_s, err, errlen);
    case O_GRACE:
        return opt_double("grace-s", v, 0, 86400, &o->grace_s, err, errlen);
    case O_QUIET:
        o->quiet = 1;
        return 0;
    case O_HELP:
        o->help = 1;
        return 0;
    case O_VERSION:
        o->version = 1;
        return 0;
    default:
        return stt_seterr(err, errlen, STT_EINVAL, "unknown option (see --help)");
    }
}

int stt_config_parse(stt_config *o, int argc, char **argv, char *err, size_t errlen)
{
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == '?' || c == ':')
            return stt_seterr(err, errlen, STT_EINVAL, "unknown option or missing value: '%s'",
                              argv[optind - 1]);
        int rc = one_option(o, c, optarg, err, errlen);
        if (rc) return rc;
    }
    if (optind < argc)
        return stt_seterr(err, errlen, STT_EINVAL, "unexpected argument '%s'", argv[optind]);
    /* Requests that name no profile get "balanced", or the first one loaded. */
    unsigned mask = o->pool.profile_mask ? o->pool.profile_mask : (1u << STT_N_PROFILES) - 1;
    o->server.default_profile = STT_DEFAULT_PROFILE;
    if (!(mask & (1u << stt_profile_index(STT_DEFAULT_PROFILE))))
        for (int i = 0; i < STT_N_PROFILES; i++)
            if (mask & (1u << i)) {
                o->server.default_profile = stt_profile_names[i];
                break;
            }
    if (o->quiet) o->server.log = NULL;
    return 0;
}

int stt_config_read_api_key(const char *path, char **key, char *err, size_t errlen)
{
    *key = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return stt_seterr(err, errlen, STT_EIO, "cannot read --api-key-file %s: %s", path,
                          strerror(errno));
    /* Room for the longest key, its surrounding blanks and the rest of the line. */
    char buf[STT_CONFIG_MAX_KEY + 4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int eof = feof(f), bad_read = ferror(f);
    fclose(f);
    if (bad_read) return stt_seterr(err, errlen, STT_EIO, "cannot read --api-key-file %s", path);
    buf[n] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t len = strcspn(s, "\r\n");
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    int rc = 0;
    if (len == 0)
        rc = stt_seterr(err, errlen, STT_EINVAL, "--api-key-file %s holds no key", path);
    else if (len > STT_CONFIG_MAX_KEY || (!eof && s + len == buf + n))
        rc = stt_seterr(err, errlen, STT_EINVAL,
                        "--api-key-file %s: the key is longer than %d characters", path,
                        STT_CONFIG_MAX_KEY);
    for (size_t i = 0; !rc && i < len; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            rc = stt_seterr(err, errlen, STT_EINVAL,
                            "--api-key-file %s: the key may hold printable ASCII only, without "
                            "spaces (character %zu is not)",
                            path, i + 1);
    if (!rc && !(*key = strndup(s, len))) rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* ---- sttd transcribe --------------------------------------------------- */

stt_transcribe_config stt_transcribe_default_params(void)
{
    stt_transcribe_config c;
    memset(&c, 0, sizeof c);
    c.pool = stt_pool_default_params();
    /* Offline, the caller waits for the answer however long it takes: no CPU
     * budget per request. The service's budget also failed `sttbench cost`,
     * whose runs under valgrind are several times slower than native. */
    c.pool.max_rtf = 0;
    c.profile = stt_profile_index(STT_DEFAULT_PROFILE);
    c.format = STT_FMT_TEXT;
    return c;
}

void stt_config_transcribe_usage(FILE *f)
{
    fprintf(f, "usage: sttd transcribe [--model fast|balanced|accurate] [--response-format "
               "json|text|verbose_json|srt|vtt] [--threads N] [--workers N] [--model-dir DIR] "
               "FILE...\n");
}

int stt_config_parse_transcribe(stt_transcribe_config *o, int argc, char **argv, char *err,
                                size_t errlen)
{
    static const struct option lo[] = {{"model", 1, 0, 'm'},
                                       {"response-format", 1, 0, 'f'},
                                       {"threads", 1, 0, 't'},
                                       {"workers", 1, 0, 'w'},
                                       {"model-dir", 1, 0, 'd'},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    int c, rc = 0;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->profile = stt_profile_index(optarg);
            if (o->profile < 0)
                rc = stt_seterr(err, errlen, STT_EINVAL, "unknown model '%s' (valid: %s)", optarg,
                                stt_profile_list());
            break;
        case 'f':
            if (stt_format_parse(optarg, &o->format) < 0)
                rc = stt_seterr(err, errlen, STT_EINVAL, "unknown response format '%s'", optarg);
            break;
        case 't':
            rc = opt_int("threads", optarg, 1, 1024, &o->pool.threads, err, errlen);
            break;
        case 'w':
            rc = opt_int("workers", optarg, 1, 1024, &o->pool.workers, err, errlen);
            break;
        case 'd':
            o->pool.model_dir = optarg;
            break;
        case 'h':
            o->help = 1;
            return 0;
        default:
            rc = stt_seterr(err, errlen, STT_EINVAL, "unknown option or missing value: '%s'",
                            argv[optind - 1]);
        }
    }
    if (rc) return rc;
    if (optind >= argc) return stt_seterr(err, errlen, STT_EINVAL, "no input files (see --help)");
    o->first_file = optind;
    o->pool.profile_mask = 1u << o->profile;
    return 0;
}
