/* sttbench audio: time, memory and accuracy of a speech-to-text server
 * against audio length, per profile, on the benchmark corpus
 * (lib/lab/audiobench.h, docs/AUDIO_BENCH.md). */
#include <curl/curl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audiobench.h"
#include "error.h"
#include "parse.h"
#include "sttbench.h"

static void usage(FILE *f, const stt_audiobench_params *d)
{
    fprintf(f,
            "usage: sttbench audio --corpus DIR --out DIR (--url URL | --spawn) [options]\n"
            "\n"
            "Sends every corpus file up to --max-duration (and the clip set) to the server once\n"
            "per profile per round, each round in its own shuffled order, and records wall,\n"
            "queue and process time, the pieces the server cut the file into (X-Pieces), WER\n"
            "against the reference and the peak memory of the server's process tree. Gives\n"
            "every figure as n, median and 95%% interval, and fits time and memory against\n"
            "duration (process time over all files and over one-piece files).\n"
            "Writes DIR/audio.json, DIR/audio_report.md and charts (PNG + SVG).\n"
            "\n"
            "  --corpus DIR        corpus built by `sttbench corpus`\n"
            "  --url URL           server base URL\n"
            "  --api A             openai (POST /v1/audio/transcriptions, default) or\n"
            "                      whisper-cpp (POST /inference)\n"
            "  --max-duration S    measure files up to S s, list the rest as skipped (%g; 0: all)\n"
            "  --profiles LIST     comma-separated model names (%s)\n"
            "  --repeat N          rounds (%d; at least 5 for intervals that decide)\n"
            "  --quick             the quick set (16 kHz mono WAV up to %g s), first profile\n"
            "  --no-warmup         skip the unmeasured first request per profile\n"
            "  --seed N            the shuffled order (%llu)\n"
            "  --server-pid PID    server process whose memory tree is sampled\n"
            "  --spawn             start the server (build/sttd next to sttbench, log in\n"
            "                      DIR/sttd.log) and stop it at the end\n"
            "  --server-cmd T      the command --spawn runs ({bin} {host} {port} {workers}\n"
            "                      {threads} are replaced)\n"
            "  --port P            port for --spawn (a free one)\n"
            "  --workers N, --threads N   passed to the spawned sttd\n"
            "  --out DIR           output directory\n",
            d->max_duration_s, d->profiles, d->repeat, d->quick_max_s, (unsigned long long)d->seed);
}

static int bad(const char *opt, const char *v, const char *want)
{
    fprintf(stderr, "sttbench audio: bad value for --%s: '%s' (%s)\n", opt, v, want);
    return 2;
}

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, stt_audiobench_params *p)
{
    static const struct option opts[] = {
        {"corpus", required_argument, 0, 'c'},   {"url", required_argument, 0, 'u'},
        {"api", required_argument, 0, 'a'},      {"max-duration", required_argument, 0, 'm'},
        {"profiles", required_argument, 0, 'p'}, {"repeat", required_argument, 0, 'r'},
        {"quick", no_argument, 0, 'q'},          {"no-warmup", no_argument, 0, 'W'},
        {"seed", required_argument, 0, 'e'},     {"server-pid", required_argument, 0, 's'},
        {"spawn", no_argument, 0, 'S'},          {"server-cmd", required_argument, 0, 'C'},
        {"port", required_argument, 0, 'P'},     {"workers", required_argument, 0, 'w'},
        {"threads", required_argument, 0, 't'},  {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    stt_audiobench_params d = stt_audiobench_default_params();
    int o, v;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            p->corpus = optarg;
            break;
        case 'u':
            p->url = optarg;
            break;
        case 'a':
            p->api = optarg;
            break;
        case 'm':
            if (stt_parse_double(optarg, 0, 1e9, &p->max_duration_s))
                return bad("max-duration", optarg, "seconds >= 0; 0: no limit");
            break;
        case 'p':
            p->profiles = optarg;
            break;
        case 'r':
            if (stt_parse_int(optarg, 1, STT_AUDIOBENCH_MAX_REPEAT, &p->repeat))
                return bad("repeat", optarg, "a count from 1 to 50");
            break;
        case 'q':
            p->quick = 1;
            break;
        case 'W':
            p->warmup = 0;
            break;
        case 'e':
            if (stt_parse_int(optarg, 0, 1 << 30, &v)) return bad("seed", optarg, "a number");
            p->seed = (uint64_t)v;
            break;
        case 's':
            if (stt_parse_int(optarg, 1, 1 << 30, &p->server_pid))
                return bad("server-pid", optarg, "a process id");
            break;
        case 'S':
            p->spawn = 1;
            break;
        case 'C':
            p->server_command = optarg;
            break;
        case 'P':
            if (stt_parse_int(optarg, 1, 65535, &p->port))
                return bad("port", optarg, "a TCP port from 1 to 65535");
            break;
        case 'w':
            if (stt_parse_int(optarg, 1, 4096, &p->workers))
                return bad("workers", optarg, "a count from 1 to 4096");
            break;
        case 't':
            if (stt_parse_int(optarg, 1, 4096, &p->threads))
                return bad("threads", optarg, "a count from 1 to 4096");
            break;
        case 'o':
            p->out = optarg;
            break;
        case 'h':
            usage(stdout, &d);
            return 0;
        default:
            usage(stderr, &d);
            return 2;
        }
    }
    if (optind < argc || !p->corpus || !p->out || (!p->url && !p->spawn) ||
        (strcmp(p->api, "openai") && strcmp(p->api, "whisper-cpp"))) {
        usage(stderr, &d);
        return 2;
    }
    return -1;
}

/* On a terminal one line kept up to date; into a log, a line at each round's
 * start and every 30 s, so that a long run shows it is alive. */
typedef struct progress {
    int tty;
    int last_round; /* the round of the last line written to a log */
    double last_s;  /* and its elapsed time */
} progress;

static void on_progress(void *arg, const stt_audiobench_progress *pr)
{
    progress *g = arg;
    if (g->tty) {
        fprintf(stderr, "\r\033[K[%zu/%zu] round %d %s %s  elapsed %.0f s, ~%.0f s left",
                pr->done + 1, pr->total, pr->round + 1, pr->file, pr->profile, pr->elapsed_s,
                pr->remaining_s);
        return;
    }
    if (pr->round == g->last_round && pr->elapsed_s - g->last_s < 30) return;
    g->last_round = pr->round;
    g->last_s = pr->elapsed_s;
    if (isfinite(pr->remaining_s))
        fprintf(stderr, "[%zu/%zu] round %d, elapsed %.0f s, about %.0f s left\n", pr->done + 1,
                pr->total, pr->round + 1, pr->elapsed_s, pr->remaining_s);
    else
        fprintf(stderr, "[%zu/%zu] round %d, elapsed %.0f s\n", pr->done + 1, pr->total,
                pr->round + 1, pr->elapsed_s);
}

static void print_summary(const stt_audiobench *b, const char *out)
{
    for (size_t i = 0; i < stt_audiobench_skip_count(b); i++) {
        const stt_audiobench_skip *s = stt_audiobench_skip_at(b, i);
        printf("skipped %s (%.1f s): %s\n", s->file, s->duration_s, s->reason);
    }
    printf("%-28s %-9s %7s %6s %2s %-24s %6s\n", "file", "profile", "audio_s", "pieces", "n",
           "process_s [95% interval]", "WER");
    for (size_t i = 0; i < stt_audiobench_result_count(b); i++) {
        const stt_audiobench_result *r = stt_audiobench_result_at(b, i);
        if (!r->n_ok) {
            printf("%-28s %-9s failed: %s\n", r->file, r->profile, r->error ? r->error : "");
            continue;
        }
        printf("%-28s %-9s %7.1f %6d %2d %6.2f [%6.2f, %6.2f]   %5.1f%%\n", r->file, r->profile,
               r->duration_s, r->pieces, r->n_ok, r->process_s.median, r->process_s.median_ci.lo,
               r->process_s.median_ci.hi, 100 * r->wer);
    }
    printf("\n%-10s %5s %8s %2s %-22s %7s %6s\n", "profile", "files", "audio_s", "n",
           "RTF [95% interval]", "RTFx", "WER");
    for (size_t p = 0; p < stt_audiobench_profile_count(b); p++) {
        const stt_audiobench_profile *r = stt_audiobench_profile_at(b, p);
        printf("%-10s %5d %8.1f %2zu %.3f [%.3f, %.3f] %7.1f %5.1f%%\n", r->profile, r->files,
               r->audio_s, r->rtf.n, r->rtf.median, r->rtf.median_ci.lo, r->rtf.median_ci.hi,
               1 / r->rtf.median, 100 * r->wer);
    }
    static const char *const ys[] = {"process_s", "process_s_single"};
    for (size_t p = 0; p < stt_audiobench_profile_count(b); p++)
        for (int k = 0; k < 2; k++) {
            const stt_audiobench_fit *f = stt_audiobench_fit_of(b, p, ys[k]);
            printf("fit %-10s %-16s = %.3f [%.3f, %.3f] + %.4f [%.4f, %.4f] * duration_s "
                   "(n %d, R^2 %.4f%s%s)\n",
                   stt_audiobench_profile_at(b, p)->profile, ys[k], f->intercept,
                   f->intercept_ci[0], f->intercept_ci[1], f->slope, f->slope_ci[0], f->slope_ci[1],
                   f->n, f->r2, f->constraint ? ", " : "", f->constraint ? f->constraint : "");
        }
    if (!stt_audiobench_memory_sampled(b))
        printf("memory not sampled (no --server-pid or --spawn)\n");
    printf("results: %s/audio.json, %s/audio_report.md (%.0f s)\n", out, out,
           stt_audiobench_elapsed_s(b));
}

int bench_audio_main(int argc, char **argv)
{
    stt_audiobench_params p = stt_audiobench_default_params();
    int st = parse(argc, argv, &p);
    if (st >= 0) return st;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[512] = "";
    stt_audiobench *b = NULL;
    progress g = {.tty = isatty(2), .last_round = -1, .last_s = -1e9};
    int rc = stt_audiobench_run(&p, on_progress, &g, &b, err, sizeof err);
    if (g.tty) fprintf(stderr, "\r\033[K");
    if (rc) {
        fprintf(stderr, "sttbench audio: %s: %s\n", stt_strerror(rc), err);
        curl_global_cleanup();
        return 1;
    }
    print_summary(b, p.out);
    int status = stt_audiobench_failures(b) ? 1 : 0;
    stt_audiobench_free(b);
    curl_global_cleanup();
    return status;
}
