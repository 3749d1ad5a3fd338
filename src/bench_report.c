/* sttbench report: performance report, scaling strategy and Kubernetes manifests. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "parse.h"
#include "report.h"
#include "sttbench.h"

#define MAX_IN 64

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sttbench report --in RESULTS_DIR [--in DIR2 ...] --out DOCS_DIR\n"
        "                       [--k8s-out DIR] [--price-core-hour 0.04] [--price-gib-hour 0.005]\n"
        "                       [--slo-p95 S] [--profile balanced] [--memory-margin 0.15]\n"
        "                       [--max-audio-s 600] [--image NAME]\n\n"
        "Finds the results files (test_results.json, audio.json, load.json, cpu.json,\n"
        "service.json, replicas.json, shapes.json, cost.json, regression.json and the regression\n"
        "history.jsonl) under each --in directory (any depth; one machine per directory) and\n"
        "writes into --out: PERFORMANCE_REPORT.md, PERFORMANCE_REPORT.html,\n"
        "SCALING_STRATEGY.md (and regression_trend.png when there is a history); into\n"
        "--k8s-out (default: deploy/k8s beside --out's parent): deployment.yaml, service.yaml,\n"
        "hpa.yaml, keda.yaml, pdb.yaml, grafana-dashboard.json. Missing inputs are reported as\n"
        "missing. See docs/REPORT.md.\n");
}

typedef struct options {
    const char *in[MAX_IN];
    int nin;
    const char *out, *k8s;
    stt_report_params p;
} options;

/* argv into *o; 0, 1 for --help, -1 for bad usage. */
static int parse(int argc, char **argv, options *o)
{
    static const struct option opts[] = {{"in", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"k8s-out", required_argument, 0, 'k'},
                                         {"price-core-hour", required_argument, 0, 'c'},
                                         {"price-gib-hour", required_argument, 0, 'g'},
                                         {"slo-p95", required_argument, 0, 's'},
                                         {"profile", required_argument, 0, 'p'},
                                         {"memory-margin", required_argument, 0, 'm'},
                                         {"max-audio-s", required_argument, 0, 'a'},
                                         {"image", required_argument, 0, 'I'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        double *num = c == 'c'   ? &o->p.price_core_hour
                      : c == 'g' ? &o->p.price_gib_hour
                      : c == 's' ? &o->p.slo_p95_s
                      : c == 'm' ? &o->p.memory_margin
                      : c == 'a' ? &o->p.max_audio_s
                                 : NULL;
        if (num) {
            if (stt_parse_double(optarg, 0, 1e12, num)) {
                fprintf(stderr, "sttbench report: bad number '%s'\n", optarg);
                return -1;
            }
            continue;
        }
        switch (c) {
        case 'i':
            if (o->nin == MAX_IN) {
                fprintf(stderr, "sttbench report: at most %d --in\n", MAX_IN);
                return -1;
            }
            o->in[o->nin++] = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'k':
            o->k8s = optarg;
            break;
        case 'p':
            o->p.profile = optarg;
            break;
        case 'I':
            o->p.image = optarg;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    return o->nin && o->out && optind == argc ? 0 : -1;
}

int bench_report_main(int argc, char **argv)
{
    options o = {.p = stt_report_default_params()};
    int u = parse(argc, argv, &o);
    if (u) {
        usage(u > 0 ? stdout : stderr);
        return u > 0 ? 0 : 2;
    }
    char err[1024] = "", written[8192] = "";
    stt_report *r = NULL;
    if (stt_report_load(o.in, o.nin, &r, err, sizeof err)) {
        fprintf(stderr, "sttbench report: %s\n", err);
        return 1;
    }
    int rc = stt_report_write_all(r, &o.p, o.out, o.k8s, written, sizeof written, err, sizeof err);
    for (char *line = strtok(written, "\n"); line; line = strtok(NULL, "\n"))
        printf("wrote %s\n", line);
    if (rc) fprintf(stderr, "sttbench report: %s\n", err);
    stt_report_decision dc;
    stt_report_decide(r, &o.p, &dc);
    printf("%d results file(s); missing:%s%s%s%s%s\n", stt_report_found(r),
           dc.has_tests ? "" : " test_results.json", dc.has_audio ? "" : " audio.json",
           dc.has_load ? "" : " load.json", dc.has_cpu ? "" : " cpu.json",
           dc.has_service ? "" : " service.json");
    stt_report_free(r);
    return rc ? 1 : 0;
}
