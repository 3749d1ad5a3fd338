/* sttbench cost: instructions, peak heap, wall time and WER of sttd builds on a fixed input. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cost.h"
#include "parse.h"
#include "sttbench.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sttbench cost --sttd PATH [--label sttd] --out DIR [options]\n"
        "       sttbench cost --base PATH --head PATH --out DIR [options]\n\n"
        "Measures one sttd build, or two side by side (wall time interleaved ABBA), on a\n"
        "fixed short real-speech input: wall time of one request over HTTP (--runs each),\n"
        "WER per utterance on the testdata clips, instructions per audio second counted by\n"
        "valgrind cachegrind (sttd transcribe, workers traced, minus a run on silence) and\n"
        "peak heap by massif. Writes DIR/<label>/cost.json per side (labels: base, head).\n"
        "  --profile P           engine profile of every side (balanced)\n"
        "  --base-profile P, --head-profile P     per side\n"
        "  --model-dir D, --base-model-dir D, --head-model-dir D\n"
        "  --base-commit C, --head-commit C       commit recorded for each side\n"
        "  --runs N              wall-time repeats per side (10)\n"
        "  --input ID            testdata clip of the fixed input\n"
        "                        (sense_and_sensibility_01_austen_64kb-0880, 3 s)\n"
        "  --testdata DIR        pocketsphinx-testdata (/usr/share/pocketsphinx/test/data)\n"
        "  --no-valgrind         skip instruction counts and peak heap\n"
        "  --counts-only         only the valgrind counts (no wall time, no accuracy)\n"
        "Then: sttbench compare DIR/base/cost.json DIR/head/cost.json. See docs/REGRESSION.md.\n");
}

static void progress(const char *line, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "sttbench cost: %s\n", line);
}

/* 0, 1 for --help, -1 for bad usage. */
static int parse(int argc, char **argv, stt_cost_params *p)
{
    static const struct option opts[] = {
        {"sttd", 1, 0, 's'},           {"label", 1, 0, 'l'},
        {"base", 1, 0, 'B'},           {"head", 1, 0, 'H'},
        {"profile", 1, 0, 'p'},        {"base-profile", 1, 0, 'q'},
        {"head-profile", 1, 0, 'r'},   {"model-dir", 1, 0, 'm'},
        {"base-model-dir", 1, 0, 'n'}, {"head-model-dir", 1, 0, 'N'},
        {"base-commit", 1, 0, 'c'},    {"head-commit", 1, 0, 'C'},
        {"runs", 1, 0, 'R'},           {"input", 1, 0, 'i'},
        {"testdata", 1, 0, 't'},       {"no-valgrind", 0, 0, 'V'},
        {"counts-only", 0, 0, 'W'},    {"out", 1, 0, 'o'},
        {"help", 0, 0, 'h'},           {0, 0, 0, 0}};
    stt_cost_side *one = &p->side[0], *base = &p->side[0], *head = &p->side[1];
    const char *profile = "balanced", *mdir = NULL, *sttd = NULL, *bp = NULL, *hp = NULL,
               *bm = NULL, *hm = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            sttd = optarg;
            break;
        case 'l':
            one->label = optarg;
            break;
        case 'B':
            base->sttd = optarg;
            break;
        case 'H':
            head->sttd = optarg;
            break;
        case 'p':
            profile = optarg;
            break;
        case 'q':
            bp = optarg;
            break;
        case 'r':
            hp = optarg;
            break;
        case 'm':
            mdir = optarg;
            break;
        case 'n':
            bm = optarg;
            break;
        case 'N':
            hm = optarg;
            break;
        case 'c':
            base->commit = optarg;
            break;
        case 'C':
            head->commit = optarg;
            break;
        case 'R':
            if (stt_parse_int(optarg, 1, 256, &p->runs)) {
                fprintf(stderr, "sttbench cost: --runs wants 1 to 256\n");
                return -1;
            }
            break;
        case 'i':
            p->input = optarg;
            break;
        case 't':
            p->testdata_dir = optarg;
            break;
        case 'V':
            p->valgrind = 0;
            break;
        case 'W':
            p->wall = 0;
            break;
        case 'o':
            p->out_dir = optarg;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    if (optind != argc || !p->out_dir) return -1;
    if (sttd && !base->sttd && !head->sttd) {
        p->nsides = 1;
        one->sttd = sttd;
        if (!one->label) one->label = "sttd";
    } else if (!sttd && base->sttd && head->sttd) {
        p->nsides = 2;
        base->label = "base";
        head->label = "head";
    } else {
        fprintf(stderr, "sttbench cost: give --sttd, or both --base and --head\n");
        return -1;
    }
    for (int s = 0; s < p->nsides; s++) {
        p->side[s].profile = s == 0 && p->nsides == 2 && bp ? bp : s == 1 && hp ? hp : profile;
        p->side[s].model_dir = s == 0 && p->nsides == 2 && bm ? bm : s == 1 && hm ? hm : mdir;
    }
    return 0;
}

int bench_cost_main(int argc, char **argv)
{
    stt_cost_params p = stt_cost_default_params();
    p.progress = progress;
    int u = parse(argc, argv, &p);
    if (u) {
        usage(u > 0 ? stdout : stderr);
        return u > 0 ? 0 : 2;
    }
    char err[1024] = "", written[4096] = "";
    int rc = stt_cost_run(&p, written, sizeof written, err, sizeof err);
    for (char *line = strtok(written, "\n"); line; line = strtok(NULL, "\n"))
        printf("wrote %s\n", line);
    if (rc) fprintf(stderr, "sttbench cost: %s\n", err);
    return rc ? 1 : 0;
}
