/* sttd: the speech-to-text service.
 *
 *   sttd [OPTIONS]                 serve HTTP (see --help)
 *   sttd transcribe [OPTIONS] FILE...   transcribe files offline, same engine
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio.h"
#include "cpus.h"
#include "error.h"
#include "http.h"
#include "pool.h"

typedef struct options {
    stt_pool_params pool;
    stt_server_params server;
    const char *api_key_file;
    double grace_s;
    int quiet;
} options;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sttd [OPTIONS]\n"
        "       sttd transcribe [--model P] [--response-format F] [--threads N] FILE...\n"
        "\n"
        "Speech-to-text service (OpenAI-compatible /v1/audio/transcriptions,\n"
        "whisper.cpp-compatible /inference) on CMU PocketSphinx.\n"
        "\n"
        "options:\n"
        "  --host ADDR           address to listen on (default 127.0.0.1)\n"
        "  --port N              port (default 8080; 0 = any free port, printed at start)\n"
        "  --workers N           decoder processes (default: usable CPUs = %d here)\n"
        "  --threads N           pieces of one request decoded at once (default: workers)\n"
        "  --queue N             requests admitted beyond --workers before 503\n"
        "                        (default: 2 x workers)\n"
        "  --profiles LIST       profiles to load (default fast,balanced,accurate)\n"
        "  --model-dir DIR       PocketSphinx model (default %s)\n"
        "  --api-key-file FILE   require this key (Authorization: Bearer or X-API-Key)\n"
        "  --max-upload-mb N     largest upload (default 100; larger gets 413)\n"
        "  --max-duration-s S    longest audio (default 3600; longer gets 413)\n"
        "  --max-piece-s S       longest piece one worker decodes at once (default 30)\n"
        "  --timeout-s S         drop clients idle this long (default 30)\n"
        "  --max-connections N   concurrent connections (default 256)\n"
        "  --grace-s S           on SIGTERM, wait this long for requests in flight (default 30)\n"
        "  --quiet               no request log\n"
        "  --help, --version\n",
        stt_usable_cpus(), STT_MODEL_DIR);
}

static int parse_int(const char *name, const char *v, int min, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < min || x > 1000000) {
        fprintf(stderr, "sttd: --%s needs an integer >= %d, got '%s'\n", name, min, v);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int parse_double(const char *name, const char *v, double min, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || *end || !(x >= min)) {
        fprintf(stderr, "sttd: --%s needs a number >= %g, got '%s'\n", name, min, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_profiles(const char *list, unsigned *mask)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *mask = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i = stt_profile_index(tok);
        if (i < 0) {
            fprintf(stderr, "sttd: unknown profile '%s' (valid: %s)\n", tok, stt_profile_list());
            return -1;
        }
        *mask |= 1u << i;
    }
    return *mask ? 0 : -1;
}

/* Returns 0 to go on, 1 to exit 0 (help/version), -1 to exit 2. */
static int parse_options(int argc, char **argv, options *o)
{
    enum {
        O_HOST = 256,
        O_PORT,
        O_WORKERS,
        O_THREADS,
        O_QUEUE,
        O_PROFILES,
        O_MODEL_DIR,
        O_KEY,
        O_UPLOAD,
        O_DURATION,
        O_PIECE,
        O_TIMEOUT,
        O_CONNS,
        O_GRACE,
        O_QUIET,
        O_HELP,
        O_VERSION
    };
    static const struct option longopts[] = {{"host", 1, 0, O_HOST},
                                             {"port", 1, 0, O_PORT},
                                             {"workers", 1, 0, O_WORKERS},
                                             {"threads", 1, 0, O_THREADS},
                                             {"queue", 1, 0, O_QUEUE},
                                             {"profiles", 1, 0, O_PROFILES},
                                             {"model-dir", 1, 0, O_MODEL_DIR},
                                             {"api-key-file", 1, 0, O_KEY},
                                             {"max-upload-mb", 1, 0, O_UPLOAD},
                                             {"max-duration-s", 1, 0, O_DURATION},
                                             {"max-piece-s", 1, 0, O_PIECE},
                                             {"timeout-s", 1, 0, O_TIMEOUT},
                                             {"max-connections", 1, 0, O_CONNS},
                                             {"grace-s", 1, 0, O_GRACE},
                                             {"quiet", 0, 0, O_QUIET},
                                             {"help", 0, 0, O_HELP},
                                             {"version", 0, 0, O_VERSION},
                                             {0, 0, 0, 0}};
    int c, v;
    double d;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_HOST:
            o->server.host = optarg;
            break;
        case O_PORT:
            if (parse_int("port", optarg, 0, &o->server.port) < 0 || o->server.port > 65535)
                return -1;
            break;
        case O_WORKERS:
            if (parse_int("workers", optarg, 1, &o->pool.workers) < 0) return -1;
            break;
        case O_THREADS:
            if (parse_int("threads", optarg, 1, &o->pool.threads) < 0) return -1;
            break;
        case O_QUEUE:
            if (parse_int("queue", optarg, 0, &v) < 0) return -1;
            /* 0 means "default" to the pool; an explicit 0 means "no queue". */
            o->pool.queue = v ? v : -1;
            break;
        case O_PROFILES:
            if (parse_profiles(optarg, &o->pool.profile_mask) < 0) return -1;
            break;
        case O_MODEL_DIR:
            o->pool.model_dir = optarg;
            break;
        case O_KEY:
            o->api_key_file = optarg;
            break;
        case O_UPLOAD:
            if (parse_double("max-upload-mb", optarg, 0.001, &d) < 0) return -1;
            o->server.max_upload_bytes = (size_t)(d * 1024 * 1024);
            break;
        case O_DURATION:
            if (parse_double("max-duration-s", optarg, 0.1, &o->server.max_duration_s) < 0)
                return -1;
            break;
        case O_PIECE:
            if (parse_double("max-piece-s", optarg, 2, &o->pool.vad.max_piece_s) < 0) return -1;
            break;
        case O_TIMEOUT:
            if (parse_int("timeout-s", optarg, 1, &v) < 0) return -1;
            o->server.timeout_s = (unsigned)v;
            break;
        case O_CONNS:
            if (parse_int("max-connections", optarg, 1, &v) < 0) return -1;
            o->server.max_connections = (unsigned)v;
            break;
        case O_GRACE:
            if (parse_double("grace-s", optarg, 0, &o->grace_s) < 0) return -1;
            break;
        case O_QUIET:
            o->quiet = 1;
            break;
        case O_HELP:
            usage(stdout);
            return 1;
        case O_VERSION:
            printf("sttd %s\n", STT_VERSION);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sttd: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* Reads the API key: the file's first line, without surrounding whitespace. */
static char *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sttd: cannot read --api-key-file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char buf[1024] = "";
    char *ok = fgets(buf, sizeof buf, f);
    fclose(f);
    size_t n = ok ? strcspn(buf, "\r\n") : 0;
    while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    if (!n) {
        fprintf(stderr, "sttd: --api-key-file %s is empty\n", path);
        return NULL;
    }
    return strdup(buf);
}

static int serve(options *o)
{
    char err[512];
    char *key = NULL;
    if (o->api_key_file && !(key = read_key(o->api_key_file))) return 2;
    o->server.api_key = key;
    if (o->quiet) o->server.log = NULL;

    /* The pool forks its processes: before any thread exists. */
    stt_pool *pool = stt_pool_create(&o->pool, err, sizeof err);
    if (!pool) {
        fprintf(stderr, "sttd: %s\n", err);
        free(key);
        return 1;
    }
    /* SIGTERM/SIGINT are taken by sigwait() below; every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Requests that name no profile get "balanced", or the first one loaded. */
    unsigned mask = o->pool.profile_mask ? o->pool.profile_mask : (1u << STT_N_PROFILES) - 1;
    if (!(mask & (1u << stt_profile_index("balanced"))))
        for (int i = 0; i < STT_N_PROFILES; i++)
            if (mask & (1u << i)) {
                o->server.default_profile = stt_profile_names[i];
                break;
            }
    o->server.backend = stt_pool_backend(pool);
    stt_server *srv = stt_server_start(&o->server, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "sttd: %s\n", err);
        stt_pool_free(pool);
        free(key);
        return 1;
    }
    stt_backend_status st;
    stt_pool_status(pool, &st);
    fprintf(stderr, "sttd: listening on http://%s:%d (workers %d, threads %d, queue %d)\n",
            o->server.host, stt_server_port(srv), st.workers, st.threads, st.capacity - st.workers);
    fflush(stderr);

    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "sttd: %s received, draining (grace %.0f s)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", o->grace_s);
    stt_server_stop(srv, o->grace_s);
    stt_pool_free(pool);
    free(key);
    fprintf(stderr, "sttd: stopped\n");
    return 0;
}

static int transcribe_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"model", 1, 0, 'm'},
                                             {"response-format", 1, 0, 'f'},
                                             {"threads", 1, 0, 't'},
                                             {"workers", 1, 0, 'w'},
                                             {"model-dir", 1, 0, 'd'},
                                             {"help", 0, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *model = "balanced", *fmtname = "text";
    stt_pool_params pp = stt_pool_default_params();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'f':
            fmtname = optarg;
            break;
        case 't':
            if (parse_int("threads", optarg, 1, &pp.threads) < 0) return 2;
            break;
        case 'w':
            if (parse_int("workers", optarg, 1, &pp.workers) < 0) return 2;
            break;
        case 'd':
            pp.model_dir = optarg;
            break;
        case 'h':
            printf("usage: sttd transcribe [--model fast|balanced|accurate] [--response-format "
                   "json|text|verbose_json|srt|vtt] [--threads N] [--workers N] FILE...\n");
            return 0;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "sttd transcribe: no input files (see --help)\n");
        return 2;
    }
    int profile = stt_profile_index(model);
    stt_format fmt;
    if (profile < 0) {
        fprintf(stderr, "sttd: unknown model '%s' (valid: %s)\n", model, stt_profile_list());
        return 2;
    }
    if (stt_format_parse(fmtname, &fmt) < 0) {
        fprintf(stderr, "sttd: unknown response format '%s'\n", fmtname);
        return 2;
    }
    pp.profile_mask = 1u << profile;
    char err[512];
    stt_pool *pool = stt_pool_create(&pp, err, sizeof err);
    if (!pool) {
        fprintf(stderr, "sttd: %s\n", err);
        return 1;
    }
    int status = 0;
    stt_audio_params ap = stt_audio_default_params();
    ap.max_duration_s = 0; /* offline: no service limit, only the decoder's own cap */
    stt_format_opts fo = stt_format_default_opts();
    fo.words = 1;
    for (int i = optind; i < argc; i++) {
        stt_audio a = {0};
        stt_transcript *t = NULL;
        char *out = NULL;
        size_t len;
        int rc = stt_audio_load_file(argv[i], &ap, &a, err, sizeof err);
        if (rc == 0) rc = stt_pool_transcribe(pool, &a, profile, 0, &t, NULL, err, sizeof err);
        if (rc == 0) rc = stt_transcript_format(t, fmt, &fo, &out, &len);
        if (rc < 0) {
            fprintf(stderr, "sttd: %s: %s\n", argv[i], err);
            status = 1;
        } else {
            if (argc - optind > 1) printf("==> %s <==\n", argv[i]);
            fwrite(out, 1, len, stdout);
        }
        free(out);
        stt_transcript_free(t);
        stt_audio_free(&a);
    }
    stt_pool_free(pool);
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "transcribe")) return transcribe_main(argc - 1, argv + 1);
    options o = {0};
    o.pool = stt_pool_default_params();
    o.server = stt_server_default_params();
    o.grace_s = 30;
    int r = parse_options(argc, argv, &o);
    if (r) return r > 0 ? 0 : 2;
    return serve(&o);
}
