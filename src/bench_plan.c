/* sttbench plan: pods of which shape for a given traffic (M/G/c model). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "mix.h"
#include "parse.h"
#include "report.h"
#include "sttbench.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sttbench plan --rate R --mix MIX --slo p95=S [options]\n\n"
            "How many pods of each measured shape serve R requests/s of this mix of audio\n"
            "lengths with p95 latency <= S, from an M/G/c model (Erlang C with the Allen-Cunneen\n"
            "correction) fed with audio.json's time fits and cpu.json's throughput per core\n"
            "count.\n\n"
            "  --rate R               requests per second (> 0)\n"
            "  --mix MIX              the traffic: a corpus manifest (or its folder), an\n"
            "                         audio.json, or 'PATH [WEIGHT]' lines (real weights), read\n"
            "                         as sttbench load reads it\n"
            "  --mix-weights F=W,...  corpus manifest: weight W >= 0 of file F (0 drops it)\n"
            "  --mix-max-duration S   corpus manifest: only files of at most S seconds\n"
            "  --mix-formats wav,...  corpus manifest: only files of these formats\n"
            "  --slo p95=SECONDS      the latency objective\n"
            "  --in DIR               results folder (default results)\n"
            "  --profile NAME         profile of the service times (default balanced)\n"
            "  --price-core-hour P    default 0.04\n"
            "  --price-gib-hour P     default 0.005\n"
            "  --help                 this text\n\n"
            "Exit status: 0 done, 1 failure, 2 usage.\n");
}

static const struct option opts[] = {
    {"rate", 1, 0, 'r'},
    {"mix", 1, 0, 'm'},
    {"mix-weights", 1, 0, 'W'},
    {"mix-formats", 1, 0, 'F'},
    {"mix-max-duration", 1, 0, 'D'},
    {"slo", 1, 0, 's'},
    {"in", 1, 0, 'i'},
    {"profile", 1, 0, 'p'},
    {"price-core-hour", 1, 0, 'c'},
    {"price-gib-hour", 1, 0, 'g'},
    {"help", 0, 0, 'h'},
    {0, 0, 0, 0},
};

int bench_plan_main(int argc, char **argv)
{
    const char *mixf = NULL, *in = "results";
    double rate = 0, slo = 0;
    stt_report_params p = stt_report_default_params();
    stt_mix_params mp = stt_mix_default_params();
    int o, idx = 0, bad = 0;
    optind = 1;
    while (!bad && (o = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
        switch (o) {
        case 'r':
            bad = stt_parse_double(optarg, 1e-9, 1e9, &rate);
            break;
        case 'm':
            mixf = optarg;
            break;
        case 'W':
            mp.weights = optarg;
            break;
        case 'F':
            mp.formats = optarg;
            break;
        case 'D':
            bad = stt_parse_double(optarg, 1e-3, 1e9, &mp.max_duration_s);
            break;
        case 's':
            bad = strncmp(optarg, "p95=", 4) || stt_parse_double(optarg + 4, 1e-6, 1e6, &slo);
            break;
        case 'i':
            in = optarg;
            break;
        case 'p':
            p.profile = optarg;
            break;
        case 'c':
            bad = stt_parse_double(optarg, 0, 1e9, &p.price_core_hour);
            break;
        case 'g':
            bad = stt_parse_double(optarg, 0, 1e9, &p.price_gib_hour);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "sttbench plan: see sttbench plan --help\n");
            return 2;
        }
    }
    if (bad) {
        fprintf(stderr, "sttbench plan: bad value for --%s: '%s' (see --help)\n", opts[idx].name,
                optarg);
        return 2;
    }
    if (!mixf || !(rate > 0) || !(slo > 0) || optind < argc) {
        fprintf(stderr, "sttbench plan: --rate, --mix and --slo p95=S are required (see --help)\n");
        return 2;
    }
    char err[1024] = "";
    stt_mix mix;
    if (stt_mix_read(mixf, &mp, &mix, NULL, err, sizeof err)) {
        fprintf(stderr, "sttbench plan: %s\n", err);
        return 1;
    }
    stt_report *r = NULL;
    const char *dirs[1] = {in};
    int rc = stt_report_load(dirs, 1, &r, err, sizeof err);
    if (!rc) rc = stt_report_plan(r, &p, &mix, rate, slo, stdout, err, sizeof err);
    if (rc) fprintf(stderr, "sttbench plan: %s\n", err);
    stt_report_free(r);
    stt_mix_free(&mix);
    return rc ? 1 : 0;
}
