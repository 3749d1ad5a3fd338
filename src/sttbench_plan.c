/* sttbench plan: pods of which shape for a given traffic (M/G/c model). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "report.h"
#include "sttbench.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sttbench plan --rate R --mix MANIFEST_OR_AUDIO_JSON --slo p95=S\n"
               "                     [--in RESULTS_DIR] [--profile balanced]\n"
               "                     [--price-core-hour 0.04] [--price-gib-hour 0.005]\n\n"
               "How many pods of each measured shape serve R requests/s of this mix of audio\n"
               "lengths with p95 latency <= S, from an M/G/c model (Erlang C with the\n"
               "Allen-Cunneen correction) fed with audio.json's time fits and cpu.json's\n"
               "throughput per core count. --mix: corpus manifest.json, audio.json, or a load\n"
               "mix file (PATH [WEIGHT] lines). --in defaults to results.\n");
}

int bench_plan_main(int argc, char **argv)
{
    const char *mixf = NULL, *in = "results";
    double rate = 0, slo = 0;
    stt_report_params p = stt_report_default_params();
    static const struct option opts[] = {{"rate", required_argument, 0, 'r'},
                                         {"mix", required_argument, 0, 'm'},
                                         {"slo", required_argument, 0, 's'},
                                         {"in", required_argument, 0, 'i'},
                                         {"profile", required_argument, 0, 'p'},
                                         {"price-core-hour", required_argument, 0, 'c'},
                                         {"price-gib-hour", required_argument, 0, 'g'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rate = strtod(optarg, NULL);
            break;
        case 'm':
            mixf = optarg;
            break;
        case 's':
            if (strncmp(optarg, "p95=", 4)) {
                fprintf(stderr, "sttbench plan: --slo takes p95=SECONDS\n");
                return 2;
            }
            slo = strtod(optarg + 4, NULL);
            break;
        case 'i':
            in = optarg;
            break;
        case 'p':
            p.profile = optarg;
            break;
        case 'c':
            p.price_core_hour = strtod(optarg, NULL);
            break;
        case 'g':
            p.price_gib_hour = strtod(optarg, NULL);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!mixf || !(rate > 0) || !(slo > 0) || optind < argc) {
        usage(stderr);
        return 2;
    }
    char err[512] = "";
    stt_mix mix;
    if (stt_mix_load(mixf, &mix, err, sizeof err)) {
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
