/* sttd: the speech-to-text service.
 *
 *   sttd [OPTIONS]                      serve HTTP (see --help, docs/SERVICE.md)
 *   sttd transcribe [OPTIONS] FILE...   transcribe files offline, same engine
 *
 * argv -> a config (lib/svc/config.h) -> the service (lib/svc/service.h), and
 * the signals: SIGTERM or SIGINT drains for --grace-s; a second is logged and
 * ignored; SIGQUIT or a third stops at once. Exit status 0 after a signal,
 * 1 when the service cannot start, 2 for bad usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "pool.h"
#include "service.h"

static const char *signame(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGQUIT";
}

/* Waits for the next stop signal for at most timeout_s (< 0: for ever);
 * returns it, or 0 on timeout. */
static int next_signal(const sigset_t *set, double timeout_s)
{
    if (timeout_s < 0) {
        int sig = 0;
        return sigwait(set, &sig) == 0 ? sig : 0;
    }
    struct timespec ts = {(time_t)timeout_s, (long)((timeout_s - (double)(time_t)timeout_s) * 1e9)};
    int sig = sigtimedwait(set, NULL, &ts);
    return sig > 0 ? sig : 0;
}

static int serve(const stt_config *cfg, const sigset_t *stops)
{
    char err[512], line[256];
    stt_service *svc = stt_service_start(cfg, err, sizeof err);
    if (!svc) {
        fprintf(stderr, "sttd: %s\n", err);
        return 1;
    }
    stt_service_describe(svc, line, sizeof line);
    fprintf(stderr, "sttd: %s\n", line);
    fflush(stderr);

    int sig = next_signal(stops, -1);
    if (sig != SIGQUIT) {
        fprintf(stderr, "sttd: %s received, draining (grace %g s)\n", signame(sig), cfg->grace_s);
        fflush(stderr);
        stt_service_drain(svc);
        /* The grace period runs on the monotonic clock. */
        double deadline = stt_now_s() + cfg->grace_s;
        int count = 1;
        while (!stt_service_idle(svc) && stt_now_s() < deadline) {
            double left = deadline - stt_now_s();
            sig = next_signal(stops, left < 0.05 ? left : 0.05);
            if (!sig) continue;
            if (sig == SIGQUIT || ++count >= 3) break;
            fprintf(stderr,
                    "sttd: %s received while draining: ignored (SIGQUIT or a third signal stops "
                    "at once)\n",
                    signame(sig));
            fflush(stderr);
        }
        if (!stt_service_idle(svc))
            fprintf(stderr, "sttd: %s; cancelling the requests still in flight\n",
                    sig == SIGQUIT || count >= 3 ? "stopping at once" : "grace period over");
    } else {
        fprintf(stderr, "sttd: SIGQUIT received, stopping at once\n");
    }
    stt_service_stop(svc);
    fprintf(stderr, "sttd: stopped\n");
    return 0;
}

static int transcribe_main(int argc, char **argv)
{
    char err[512];
    stt_transcribe_config cfg = stt_transcribe_default_params();
    if (stt_config_parse_transcribe(&cfg, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "sttd transcribe: %s\n", err);
        return 2;
    }
    if (cfg.help) {
        stt_config_transcribe_usage(stdout);
        return 0;
    }
    stt_pool *pool = stt_pool_create(&cfg.pool, err, sizeof err);
    if (!pool) {
        fprintf(stderr, "sttd: %s\n", err);
        return 1;
    }
    int status = 0;
    stt_audio_params ap = stt_audio_default_params();
    ap.max_duration_s = 0; /* offline: no service limit, only the decoder's own cap */
    stt_format_opts fo = stt_format_default_opts();
    fo.words = 1;
    for (int i = cfg.first_file; i < argc; i++) {
        stt_audio a = {0};
        stt_transcript *t = NULL;
        char *out = NULL;
        size_t len;
        int rc = stt_audio_load_file(argv[i], &ap, &a, err, sizeof err);
        if (rc == 0) rc = stt_pool_transcribe(pool, &a, cfg.profile, 0, &t, NULL, err, sizeof err);
        if (rc == 0) rc = stt_transcript_format(t, cfg.format, &fo, &out, &len);
        if (rc < 0) {
            fprintf(stderr, "sttd: %s: %s\n", argv[i], err);
            status = 1;
        } else {
            if (argc - cfg.first_file > 1) printf("==> %s <==\n", argv[i]);
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
    /* Offline: Ctrl-C simply ends it (its children die with it). */
    if (argc > 1 && !strcmp(argv[1], "transcribe")) return transcribe_main(argc - 1, argv + 1);
    /* Before any thread or process exists, so every one inherits the mask
     * and the stop signals reach only the sigwait below. */
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGQUIT);
    sigprocmask(SIG_BLOCK, &stops, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    stt_config cfg = stt_config_default_params();
    if (stt_config_parse(&cfg, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "sttd: %s\n", err);
        return 2;
    }
    if (cfg.help) {
        stt_config_usage(stdout);
        return 0;
    }
    if (cfg.version) {
        printf("sttd %s\n", STT_VERSION);
        return 0;
    }
    return serve(&cfg, &stops);
}
