/* sttbench service: sttd measured against the raw engine on this machine
 * (lib/lab/servicebench.h, docs/SERVICE_BENCH.md). */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "parse.h"
#include "servicebench.h"
#include "sttbench.h"

static void usage(FILE *f, const stt_servicebench_params *d)
{
    fprintf(f,
            "usage: sttbench service [--corpus DIR] [--out DIR] [--repeat N] [--quick] "
            "[--only LIST]\n"
            "\n"
            "Measures sttd (built next to sttbench, started here on free ports) against the raw\n"
            "engine (sttraw, pocketsphinx_continuous), both sides alternating in every round,\n"
            "and gives each target its median, 95%% interval, n and verdict (PASS, FAIL, or\n"
            "undetermined when the interval straddles the goal or n < %d):\n"
            "  1 overhead      24.7 s request, 1 worker 1 thread / sttraw decode (<= 1.05x)\n"
            "  2 accuracy      WER per profile on the 5 LibriVox clips; balanced within 1\n"
            "                  point of pocketsphinx_continuous; RTF per profile\n"
            "  3 memory        PSS per extra worker, 1 against 4 workers (<= 40 MB)\n"
            "  4 threads       the long file, threads=1 / threads=2 on 2 workers (>= 1.8x);\n"
            "                  its WER against sttraw on the whole file (<= 1 point worse)\n"
            "  5 throughput    2 clients x %d requests / 2 sttraw --repeat %d (>= 0.95x)\n"
            "  6 fairness      a 3 s clip behind the long request / idle (< 3x)\n"
            "\n"
            "  --corpus DIR       corpus with librivox_x12.wav, the long file (%s; the same\n"
            "                     file is built in a temporary folder when missing)\n"
            "  --out DIR          output folder (%s)\n"
            "  --repeat N         rounds of every part (%d)\n"
            "  --only LIST        run only these parts, e.g. --only 1,3\n"
            "  --quick            a %d x clips long file (55 s) instead of 12 x (332.8 s), and\n"
            "                     %d requests per client in part 5\n"
            "Writes OUT/service.json and OUT/service_report.md. Exit status 1 when a target\n"
            "fails or cannot be measured.\n",
            d->min_rounds, d->per_client, d->per_client, d->corpus, d->out, d->repeat,
            d->long_reps_quick, d->per_client_quick);
}

static void on_progress(void *arg, int part, const char *step)
{
    (void)arg;
    fprintf(stderr, "\r\033[K[%d/6] %s", part, step);
}

int bench_service_main(int argc, char **argv)
{
    static const struct option opts[] = {{"corpus", required_argument, 0, 'c'},
                                         {"out", required_argument, 0, 'o'},
                                         {"repeat", required_argument, 0, 'r'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"only", required_argument, 0, 'O'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    stt_servicebench_params p = stt_servicebench_default_params(), d = p;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            p.corpus = optarg;
            break;
        case 'o':
            p.out = optarg;
            break;
        case 'r':
            if (stt_parse_int(optarg, 1, STT_SERVICEBENCH_MAX_REPEAT, &p.repeat)) goto usage;
            break;
        case 'q':
            p.quick = 1;
            break;
        case 'O': {
            int parts[STT_SERVICEBENCH_PARTS], n = 0;
            if (stt_parse_int_list(optarg, 1, STT_SERVICEBENCH_PARTS, parts, STT_SERVICEBENCH_PARTS,
                                   &n))
                goto usage;
            for (int i = 0; i < n; i++)
                p.parts |= 1u << (parts[i] - 1);
            break;
        }
        case 'h':
            usage(stdout, &d);
            return 0;
        default:
            goto usage;
        }
    }
    if (optind < argc) goto usage;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int tty = isatty(2);
    char err[512] = "";
    stt_servicebench *s = NULL;
    int rc = stt_servicebench_run(&p, tty ? on_progress : NULL, NULL, &s, err, sizeof err);
    if (tty) fprintf(stderr, "\r\033[K");
    if (rc) {
        fprintf(stderr, "sttbench service: %s: %s\n", stt_strerror(rc), err);
        curl_global_cleanup();
        return 1;
    }
    printf("%-20s %-24s %-13s %s\n", "target", "goal", "verdict", "measured");
    for (size_t i = 0; i < stt_servicebench_target_count(s); i++) {
        const stt_servicebench_target *t = stt_servicebench_target_at(s, i);
        printf("%-20s %-24s %-13s %s\n", t->name, t->goal, stt_service_verdict_name(t->verdict),
               t->measured);
        if (t->settle[0]) printf("%-20s %-24s %-13s needs %s\n", "", "", "", t->settle);
    }
    printf("results: %s/service.json, %s/service_report.md (%.0f s)\n", p.out, p.out,
           stt_servicebench_elapsed_s(s));
    int status = stt_servicebench_failed(s) ? 1 : 0;
    stt_servicebench_free(s);
    curl_global_cleanup();
    return status;
usage:
    usage(stderr, &d);
    return 2;
}
