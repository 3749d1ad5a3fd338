/* sttbench compare: the regression verdict between two results files or folders. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "parse.h"
#include "sttbench.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sttbench compare BASE HEAD [--threshold 5%%] [--alpha 0.05]\n"
        "                        [--gate all|deterministic] [--allow-different-machines]\n"
        "                        [--format md|json|html] [--out DIR] [--history FILE]\n\n"
        "BASE and HEAD: two results files of the same kind, or two results folders (files\n"
        "paired by kind). For every figure of their \"metrics\" blocks: the change (ratio of\n"
        "medians with a 95%% bootstrap interval), a Mann-Whitney test (p, n) and a verdict,\n"
        "worse / better / ~ (no detectable change: p > alpha, or the interval includes the\n"
        "--threshold margin); exact counts by their ratio alone. Accuracy: per utterance,\n"
        "sign test and paired bootstrap interval of the WER difference.\n"
        "  --threshold M     equivalence margin, \"5%%\" or 0.05 (default 5%%)\n"
        "  --alpha A         significance level of the tests (0.05)\n"
        "  --gate G          which figures make a regression: all (default), or\n"
        "                    deterministic (exact counts and accuracy; wall time reported only)\n"
        "  --allow-different-machines  compare across machines, profiles or configurations\n"
        "                    (refused otherwise; what differs is listed either way)\n"
        "  --format F        what to print: md (default), json, html\n"
        "  --out DIR         also write DIR/regression.{json,md,html}\n"
        "  --history FILE    append this comparison as one line to FILE (JSON lines)\n"
        "Exit status: 0 no regression, 1 regression, 2 usage or not comparable.\n"
        "See docs/REGRESSION.md.\n");
}

typedef struct options {
    const char *base, *head, *format, *out, *history;
    stt_compare_params p;
} options;

/* 0, 1 for --help, -1 for bad usage (said on stderr). */
static int parse(int argc, char **argv, options *o)
{
    static const struct option opts[] = {{"threshold", required_argument, 0, 't'},
                                         {"alpha", required_argument, 0, 'a'},
                                         {"gate", required_argument, 0, 'g'},
                                         {"allow-different-machines", no_argument, 0, 'A'},
                                         {"format", required_argument, 0, 'f'},
                                         {"out", required_argument, 0, 'o'},
                                         {"history", required_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (stt_compare_parse_threshold(optarg, &o->p.threshold)) {
                fprintf(stderr, "sttbench compare: bad --threshold '%s' (e.g. 5%%)\n", optarg);
                return -1;
            }
            break;
        case 'a':
            if (stt_parse_double(optarg, 1e-9, 0.5, &o->p.alpha)) {
                fprintf(stderr, "sttbench compare: bad --alpha '%s'\n", optarg);
                return -1;
            }
            break;
        case 'g':
            if (strcmp(optarg, "all") && strcmp(optarg, "deterministic")) {
                fprintf(stderr, "sttbench compare: --gate is all or deterministic\n");
                return -1;
            }
            o->p.gate =
                strcmp(optarg, "all") ? STT_COMPARE_GATE_DETERMINISTIC : STT_COMPARE_GATE_ALL;
            break;
        case 'A':
            o->p.allow_different = 1;
            break;
        case 'f':
            if (strcmp(optarg, "md") && strcmp(optarg, "json") && strcmp(optarg, "html")) {
                fprintf(stderr, "sttbench compare: --format is md, json or html\n");
                return -1;
            }
            o->format = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'H':
            o->history = optarg;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    if (argc - optind != 2) return -1;
    o->base = argv[optind];
    o->head = argv[optind + 1];
    return 0;
}

int bench_compare_main(int argc, char **argv)
{
    options o = {.format = "md", .p = stt_compare_default_params()};
    int u = parse(argc, argv, &o);
    if (u) {
        usage(u > 0 ? stdout : stderr);
        return u > 0 ? 0 : 2;
    }
    char err[4096] = "", written[2048] = "";
    stt_compare_result *r = NULL;
    if (stt_compare_paths(o.base, o.head, &o.p, &r, err, sizeof err)) {
        fprintf(stderr, "sttbench compare: %s\n", err);
        return 2;
    }
    int rc = !strcmp(o.format, "json")   ? stt_compare_write_json(r, &o.p, stdout)
             : !strcmp(o.format, "html") ? stt_compare_write_html(r, &o.p, stdout)
                                         : stt_compare_write_md(r, &o.p, stdout);
    if (!rc && o.out)
        rc = stt_compare_write_all(r, &o.p, o.out, written, sizeof written, err, sizeof err);
    if (!rc && o.history) rc = stt_compare_history_append(r, o.history, err, sizeof err);
    if (rc) fprintf(stderr, "sttbench compare: %s\n", err[0] ? err : "write failed");
    fprintf(stderr, "sttbench compare: %s (%d gated figure(s) worse, %d better)%s\n",
            stt_compare_answer(r), r->regressions, r->improvements,
            r->gate == STT_COMPARE_GATE_DETERMINISTIC
                ? "; gate: deterministic figures and accuracy, wall time reported only"
                : "");
    int status = rc ? 2 : r->regressions ? 1 : 0;
    stt_compare_free(r);
    return status;
}
