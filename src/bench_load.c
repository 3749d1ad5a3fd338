/* sttbench load: concurrency and rate sweeps, and the highest rate under an
 * objective, against a speech-to-text server (lib/lab/loadbench.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "loadbench.h"
#include "parse.h"
#include "sttbench.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sttbench load --url URL [options]\n"
        "\n"
        "Drives a speech-to-text server (sttd, OpenAI-compatible or whisper.cpp) with a "
        "closed-loop\n"
        "concurrency sweep or an open-loop rate sweep, and/or searches the highest rate meeting a\n"
        "p95 objective. Latency is timed from each request's scheduled send and includes failed\n"
        "requests (timed to the failure); every figure comes with n and a 95%% interval.\n"
        "\n"
        "  --url URL              server; a URL without a path gets the --api route\n"
        "  --api openai|whisper-cpp  /v1/audio/transcriptions (default) or /inference\n"
        "  --method POST|GET      POST uploads audio (default); GET sends bare GETs (/health)\n"
        "  --file AUDIO           the upload, read once into memory\n"
        "  --mix MIX              several uploads: a corpus manifest (corpus/manifest, its .json\n"
        "                         or .tsv, or the folder) or 'PATH [WEIGHT]' lines (real weights)\n"
        "  --mix-weights F=W,...  corpus manifest: weight W >= 0 of file F (0 drops it; others 1)\n"
        "  --mix-max-duration S   corpus manifest: only files of at most S seconds\n"
        "  --mix-formats wav,...  corpus manifest: only files of these formats\n"
        "  --concurrency 1,2,4,8  closed loop: requests kept in flight per step (default)\n"
        "  --rate R1,R2,...       open loop: requests per second per step\n"
        "  --arrival poisson|constant  open-loop arrivals (default poisson; constant pacing is no\n"
        "                         capacity figure)\n"
        "  --trace FILE           replay recorded arrivals (docs/LOAD.md), at each --rate if "
        "given\n"
        "  --trace-from-log LOG   print the trace of an sttd request log, then exit\n"
        "  --duration S           measured seconds per run (default 10)\n"
        "  --requests N           or: this many counted requests per run\n"
        "  --warmup S             unmeasured seconds before each run (default 2)\n"
        "  --repeats N            runs per step, in shuffled interleaved rounds (default 1)\n"
        "  --max-extend N         an unstable run is measured again at twice the length, at most\n"
        "                         N times (default 2); still unstable, it is excluded from "
        "decisions\n"
        "  --threads N            generator threads (default 1)\n"
        "  --timeout S            per request (default 120)\n"
        "  --max-inflight N       open-loop cap on requests in flight (default 1024)\n"
        "  --retry-after          closed loop: after a 503 with Retry-After, wait as told\n"
        "  --model PROFILE        multipart 'model' field (default balanced)\n"
        "  --seed N               arrivals and the rounds' order (default 1)\n"
        "  --find-max-rate        search the highest rate meeting --slo (after the sweep if\n"
        "                         --concurrency or --rate is given too)\n"
        "  --slo p95=SECONDS      the latency objective of the search\n"
        "  --error-budget F       largest share of failed requests, e.g. 1%% or 0.01 (default "
        "1%%)\n"
        "  --probe-repeats N      runs per probe, >= 3 (default 3)\n"
        "  --min-requests N       counted requests per probe run (default 100)\n"
        "  --start-rate R         the first probe (default 1/s)\n"
        "  --max-probes N         at most N probes (default 12)\n"
        "  --server-workers N     workers for the model check (default: the server's\n"
        "                         sttd_workers from /metrics, else this machine's CPUs)\n"
        "  --out DIR              write load.json, load_report.md and charts there\n"
        "  --help                 this text\n"
        "\n"
        "Exit status: 0 done, 1 failure, 2 usage.\n");
}

/* Long options only; the letters are internal codes. */
/* clang-format off */
static const struct option opts[] = {{"url", 1, 0, 'u'},
                                     {"api", 1, 0, 'a'},
                                     {"method", 1, 0, 'M'},
                                     {"file", 1, 0, 'f'},
                                     {"mix", 1, 0, 'x'},
                                     {"mix-weights", 1, 0, 'W'},
                                     {"mix-formats", 1, 0, 'F'},
                                     {"mix-max-duration", 1, 0, 'D'},
                                     {"concurrency", 1, 0, 'c'},
                                     {"rate", 1, 0, 'r'},
                                     {"arrival", 1, 0, 'A'},
                                     {"trace", 1, 0, 'R'},
                                     {"trace-from-log", 1, 0, 'L'},
                                     {"duration", 1, 0, 'd'},
                                     {"requests", 1, 0, 'n'},
                                     {"warmup", 1, 0, 'w'},
                                     {"repeats", 1, 0, 'k'},
                                     {"max-extend", 1, 0, 'E'},
                                     {"threads", 1, 0, 't'},
                                     {"timeout", 1, 0, 'T'},
                                     {"max-inflight", 1, 0, 'I'},
                                     {"retry-after", 0, 0, 'y'},
                                     {"model", 1, 0, 'm'},
                                     {"seed", 1, 0, 's'},
                                     {"find-max-rate", 0, 0, 'X'},
                                     {"slo", 1, 0, 'S'},
                                     {"error-budget", 1, 0, 'B'},
                                     {"probe-repeats", 1, 0, 'P'},
                                     {"min-requests", 1, 0, 'q'},
                                     {"start-rate", 1, 0, 'z'},
                                     {"max-probes", 1, 0, 'Z'},
                                     {"server-workers", 1, 0, 'K'},
                                     {"out", 1, 0, 'o'},
                                     {"help", 0, 0, 'h'},
                                     {0, 0, 0, 0}};
/* clang-format on */

/* "1%" or "0.01" as a share in [0, 1). */
static int parse_share(const char *s, double *out)
{
    char num[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof num) return STT_EINVAL;
    int pct = s[n - 1] == '%';
    snprintf(num, sizeof num, "%.*s", (int)(n - pct), s);
    double v;
    if (stt_parse_double(num, 0, pct ? 99.999 : 0.99999, &v)) return STT_EINVAL;
    *out = pct ? v / 100 : v;
    return 0;
}

/* A count >= 1 into *out. */
static int take_count(const char *a, long *out)
{
    int v;
    if (stt_parse_int(a, 1, 1 << 30, &v)) return STT_EINVAL;
    *out = v;
    return 0;
}

/* One option into p; 0, or STT_EINVAL. */
static int take(stt_loadbench_params *p, int o, const char *a, const char **from_log)
{
    stt_sweep_params *s = &p->sweep;
    const struct {
        int code;
        const char **to;
    } names[] = {{'u', &p->url},
                 {'a', &p->api},
                 {'f', &p->file},
                 {'x', &p->mix},
                 {'R', &p->trace},
                 {'L', from_log},
                 {'m', &p->model},
                 {'o', &p->out},
                 {'W', &p->mix_params.weights},
                 {'F', &p->mix_params.formats}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == o) {
            *names[i].to = a;
            return 0;
        }
    int v;
    switch (o) {
    case 'M':
        if (strcmp(a, "POST") && strcmp(a, "GET")) return STT_EINVAL;
        p->post = !strcmp(a, "POST");
        return 0;
    case 'D':
        return stt_parse_double(a, 1e-3, 1e9, &p->mix_params.max_duration_s);
    case 'c':
    case 'r':
        if (p->sweep_given) return STT_EINVAL; /* one of them, once */
        p->sweep_given = 1;
        s->mode = o == 'r' ? STT_LOAD_OPEN : STT_LOAD_CLOSED;
        return stt_parse_double_list(a, 1e-6, 1e6, s->values, STT_SWEEP_MAX_POINTS, &s->nvalues);
    case 'A':
        if (strcmp(a, "poisson") && strcmp(a, "constant")) return STT_EINVAL;
        s->arrival = strcmp(a, "poisson") ? STT_ARRIVAL_CONSTANT : STT_ARRIVAL_POISSON;
        return 0;
    case 'd':
        return stt_parse_double(a, 1e-3, 1e6, &s->duration_s);
    case 'n':
        return take_count(a, &s->requests);
    case 'w':
        return stt_parse_double(a, 0, 1e6, &s->warmup_s);
    case 'k':
        return stt_parse_int(a, 1, 1000, &s->repeats);
    case 'E':
        return stt_parse_int(a, 0, 10, &s->max_extend);
    case 't':
        return stt_parse_int(a, 1, 1024, &p->threads);
    case 'T':
        return stt_parse_double(a, 1e-3, 1e6, &p->timeout_s);
    case 'I':
        return stt_parse_int(a, 1, 1 << 20, &p->max_inflight);
    case 'y':
        p->retry_after = 1;
        return 0;
    case 's':
        if (stt_parse_int(a, 0, 2147483647, &v)) return STT_EINVAL;
        s->seed = (uint64_t)v;
        return 0;
    case 'X':
        p->find_max = 1;
        return 0;
    case 'S':
        return strncmp(a, "p95=", 4) ? STT_EINVAL
                                     : stt_parse_double(a + 4, 1e-6, 1e6, &p->search.slo_p95_s);
    case 'B':
        return parse_share(a, &p->search.error_budget);
    case 'P':
        return stt_parse_int(a, 3, 1000, &p->search.repeats);
    case 'q':
        return take_count(a, &p->search.min_requests);
    case 'z':
        return stt_parse_double(a, 1e-6, 1e6, &p->search.start_rate);
    case 'Z':
        return stt_parse_int(a, 1, 100, &p->search.max_probes);
    case 'K':
        return stt_parse_int(a, 1, 4096, &p->server_workers);
    }
    return STT_EINVAL;
}

int bench_load_main(int argc, char **argv)
{
    stt_loadbench_params p = stt_loadbench_default_params();
    const char *from_log = NULL;
    char err[1024] = "";
    int o, idx;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
        if (o == 'h') {
            usage(stdout);
            return 0;
        }
        if (o == '?' || take(&p, o, optarg, &from_log)) {
            if (o != '?')
                fprintf(stderr, "sttbench load: bad value for --%s: '%s' (see --help)\n",
                        opts[idx].name, optarg ? optarg : "");
            else
                fprintf(stderr, "sttbench load: see sttbench load --help\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sttbench load: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (from_log) {
        int rc = stt_loadbench_trace_from_log(from_log, stdout, err, sizeof err);
        if (rc) fprintf(stderr, "sttbench load: %s\n", err);
        return rc ? 1 : 0;
    }
    if (stt_loadbench_check(&p, err, sizeof err)) {
        fprintf(stderr, "sttbench load: %s (see --help)\n", err);
        return 2;
    }
    p.progress = stderr;
    int rc = stt_loadbench_run(&p, stdout, err, sizeof err);
    if (rc) fprintf(stderr, "sttbench load: %s\n", err);
    return rc ? 1 : 0;
}
