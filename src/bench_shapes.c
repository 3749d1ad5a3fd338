/* sttbench shapes: which pod shape, measured side by side (lib/lab/shapes.h,
 * docs/SCALING.md). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"
#include "parse.h"
#include "results.h"
#include "shapes.h"
#include "sttbench.h"

static void usage(FILE *f, const stt_shapes_params *d)
{
    fprintf(f,
            "usage: sttbench shapes [--cores C] [--profile %s] [--short FILE] [--long FILE]\n"
            "                       [--long-share %.2g] [--load %.2g] [--repeats %d]\n"
            "                       [--slo-p95 S] [--load-json LOAD_JSON]\n"
            "                       [--price-core-hour %.2g] [--price-gib-hour %.3g]\n"
            "                       [--memory chosen|all|none] [--memory-queue Q]\n"
            "                       [--max-upload-mb %.0f] [--max-duration-s %.0f]\n"
            "                       [--quick] [--out DIR] [--sttd PATH] [--seed N]\n"
            "       sttbench shapes --rejudge SHAPES_JSON [--out DIR]\n"
            "\n"
            "The pod shape measured: C CPUs as k pods of C/k cores (k = 1, 2, 4, ...), each pod\n"
            "sttd with C/k workers in its own network namespace on its own CPUs, behind haproxy\n"
            "routing at random per pod as a Kubernetes Service does. In --repeats interleaved\n"
            "rounds: the throughput of a closed loop over the mix of short and long files, the\n"
            "p95 of the short requests under a mixed-length Poisson load at the same rate for\n"
            "every shape, one long request alone, each pod's memory cgroup peak. The choice:\n"
            "the cheapest shape per audio hour whose short-request p95 interval lies under the\n"
            "objective, with its confidence and price sensitivity. Then the worst case the\n"
            "chosen pod admits (workers + queue of the largest, longest allowed uploads, each\n"
            "profile in turn), measured as its memory cgroup's peak, for the memory limit.\n"
            "Needs root, ip (iproute2) and haproxy; without them it writes {\"skipped\":\n"
            "reason} and exits 0.\n"
            "\n"
            "  --cores C              CPUs to split (all this process may use)\n"
            "  --profile P            profile of the requests: %s (%s)\n"
            "  --profiles LIST        the profiles each pod loads (sttd's default: all)\n"
            "  --short FILE           the short file (%s)\n"
            "  --long FILE            the long file (%s)\n"
            "  --long-share X         share of the requests that are long (%.2g)\n"
            "  --load RHO             latency trials at RHO of the weakest shape (%.2g)\n"
            "  --repeats N            rounds (%d)\n"
            "  --slo-p95 S            the objective for short requests' p95 (else --load-json's)\n"
            "  --load-json FILE       load.json whose config.slo_p95_s is the objective\n"
            "  --price-core-hour P    (%.2g)   --price-gib-hour P  (%.3g)\n"
            "  --memory WHICH         worst-case memory for the chosen pod size, all, none\n"
            "  --memory-queue Q       sttd --queue in the worst case (2 x workers)\n"
            "  --memory-margin X      added to the worst case for the limit (%.2g)\n"
            "  --memory-profiles LIST the profiles asked for in turn (those the pods load)\n"
            "  --memory-hold-s S      seconds each admission phase is watched (%.0f)\n"
            "  --max-upload-mb M      the pod's largest upload (%.0f)\n"
            "  --max-duration-s S     the pod's longest audio (%.0f)\n"
            "  --quick                the study's quick experiment: 12 throughput and 20 latency\n"
            "                         requests per trial, worst case watched 5 s\n"
            "  --out DIR              results folder (results/shapes)\n"
            "  --sttd PATH            the server binary (sttd beside sttbench)\n"
            "  --seed N               order and arrivals (%llu)\n"
            "  --rejudge FILE         measure nothing: the choice and the verdict of FILE again,\n"
            "                         by these rules, with its own prices and objective;\n"
            "                         written to --out or beside FILE\n"
            "  --help\n"
            "\n"
            "Writes DIR/shapes.json (its \"verdict\" answers when to scale up and when out)\n"
            "and DIR/shapes_report.md. Exit status: 0 done or skipped,\n"
            "1 failure, 2 usage or a configuration this machine cannot hold.\n",
            d->profile, d->long_share, d->load, d->repeats, d->price_core_hour, d->price_gib_hour,
            d->max_upload_mb, d->max_duration_s, stt_profile_list(), d->profile, d->short_file,
            d->long_file, d->long_share, d->load, d->repeats, d->price_core_hour, d->price_gib_hour,
            d->memory_margin, d->memory_hold_s, d->max_upload_mb, d->max_duration_s, d->seed);
}

static void log_line(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "sttbench shapes: %s\n", line);
}

static int bad(const char *opt, const char *what, const char *got)
{
    fprintf(stderr, "sttbench shapes: %s needs %s, got '%s' (see --help)\n", opt, what, got);
    return 2;
}

/* --rejudge FILE: the choice and verdict of FILE again, by these rules;
 * written to DIR (--out) or beside FILE. */
static int rejudge_main(const char *file, const char *out)
{
    char err[1024] = "", dir[PATH_MAX];
    json_t *doc = stt_results_load(file, STT_RESULTS_SHAPES, NULL, err, sizeof err);
    if (!doc) {
        fprintf(stderr, "sttbench shapes: %s\n", err);
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", out ? out : file);
    if (!out) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
    }
    int rc = stt_shapes_rejudge(doc, err, sizeof err);
    if (!rc) rc = stt_shapes_write(doc, dir, err, sizeof err);
    if (!rc) stt_shapes_print(doc, stdout);
    json_decref(doc);
    if (rc) {
        fprintf(stderr, "sttbench shapes: %s: %s\n", file, err);
        return rc == STT_EINVAL ? 2 : 1;
    }
    printf("rejudged: %s/shapes.json and %s/shapes_report.md\n", dir, dir);
    return 0;
}

int bench_shapes_main(int argc, char **argv)
{
    stt_shapes_params p = stt_shapes_default_params();
    const char *out = "results/shapes";
    int quick = 0, out_given = 0;
    const char *rejudge = NULL;
    static const struct option opts[] = {{"cores", 1, 0, 'c'},
                                         {"profile", 1, 0, 'p'},
                                         {"profiles", 1, 0, 'P'},
                                         {"short", 1, 0, 's'},
                                         {"long", 1, 0, 'L'},
                                         {"long-share", 1, 0, 'x'},
                                         {"load", 1, 0, 'l'},
                                         {"repeats", 1, 0, 'r'},
                                         {"slo-p95", 1, 0, 'S'},
                                         {"load-json", 1, 0, 'j'},
                                         {"price-core-hour", 1, 0, 'C'},
                                         {"price-gib-hour", 1, 0, 'G'},
                                         {"memory", 1, 0, 'm'},
                                         {"memory-queue", 1, 0, 'q'},
                                         {"memory-margin", 1, 0, 'M'},
                                         {"max-upload-mb", 1, 0, 'u'},
                                         {"max-duration-s", 1, 0, 'd'},
                                         {"quick", 0, 0, 'Q'},
                                         {"memory-profiles", 1, 0, 'F'},
                                         {"memory-hold-s", 1, 0, 'H'},
                                         {"out", 1, 0, 'o'},
                                         {"sttd", 1, 0, 't'},
                                         {"seed", 1, 0, 'e'},
                                         {"rejudge", 1, 0, 'R'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 1;
    for (int o; (o = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (o) {
        case 'c':
            if (stt_parse_int(optarg, 2, 1024, &p.cores)) return bad("--cores", ">= 2", optarg);
            break;
        case 'p':
            p.profile = optarg;
            break;
        case 'P':
            p.profiles = optarg;
            break;
        case 's':
            p.short_file = optarg;
            break;
        case 'L':
            p.long_file = optarg;
            break;
        case 'x':
            if (stt_parse_double(optarg, 0, 0.95, &p.long_share))
                return bad("--long-share", "0 <= X <= 0.95", optarg);
            break;
        case 'l':
            if (stt_parse_double(optarg, 0.01, 0.99, &p.load))
                return bad("--load", "0 < RHO < 1", optarg);
            break;
        case 'r':
            if (stt_parse_int(optarg, 1, STT_SHAPES_MAX_REP, &p.repeats))
                return bad("--repeats", "1..50", optarg);
            break;
        case 'S':
            if (stt_parse_double(optarg, 1e-3, 1e6, &p.slo_p95_s))
                return bad("--slo-p95", "seconds > 0", optarg);
            break;
        case 'j':
            p.load_json = optarg;
            break;
        case 'C':
            if (stt_parse_double(optarg, 0, 1e6, &p.price_core_hour))
                return bad("--price-core-hour", ">= 0", optarg);
            break;
        case 'G':
            if (stt_parse_double(optarg, 0, 1e6, &p.price_gib_hour))
                return bad("--price-gib-hour", ">= 0", optarg);
            break;
        case 'm':
            if (!strcmp(optarg, "chosen"))
                p.memory = STT_SHAPES_MEMORY_CHOSEN;
            else if (!strcmp(optarg, "all"))
                p.memory = STT_SHAPES_MEMORY_ALL;
            else if (!strcmp(optarg, "none"))
                p.memory = STT_SHAPES_MEMORY_NONE;
            else
                return bad("--memory", "chosen, all or none", optarg);
            break;
        case 'q':
            if (stt_parse_int(optarg, 0, 4096, &p.memory_queue))
                return bad("--memory-queue", "0..4096", optarg);
            break;
        case 'M':
            if (stt_parse_double(optarg, 0, 10, &p.memory_margin))
                return bad("--memory-margin", "0..10", optarg);
            break;
        case 'u':
            if (stt_parse_double(optarg, 0.01, 1e5, &p.max_upload_mb))
                return bad("--max-upload-mb", "> 0", optarg);
            break;
        case 'd':
            if (stt_parse_double(optarg, 1, 4 * 3600, &p.max_duration_s))
                return bad("--max-duration-s", "1..14400", optarg);
            break;
        case 'F':
            p.memory_profiles = optarg;
            break;
        case 'H':
            if (stt_parse_double(optarg, 0.1, 600, &p.memory_hold_s))
                return bad("--memory-hold-s", "0.1..600", optarg);
            break;
        case 'Q':
            quick = 1;
            break;
        case 'o':
            out = optarg;
            out_given = 1;
            break;
        case 't':
            p.sttd = optarg;
            break;
        case 'e': {
            char *end;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-')
                return bad("--seed", "a whole number >= 0", optarg);
            p.seed = s;
            break;
        }
        case 'R':
            rejudge = optarg;
            break;
        case 'h':
            usage(stdout, &p);
            return 0;
        default:
            fprintf(stderr, "see sttbench shapes --help\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sttbench shapes: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (rejudge) return rejudge_main(rejudge, out_given ? out : NULL);
    if (stt_profile_index(p.profile) < 0) return bad("--profile", stt_profile_list(), p.profile);
    if (quick) {
        stt_shapes_params d = stt_shapes_default_params(), q = p;
        stt_shapes_quick(&q);
        /* explicit options win over the quick set */
        if (p.memory != d.memory) q.memory = p.memory;
        if (p.memory_hold_s != d.memory_hold_s) q.memory_hold_s = p.memory_hold_s;
        p = q;
    }
    p.log = log_line;
    json_t *doc = NULL;
    char err[1024] = "";
    int rc = stt_shapes_run(&p, &doc, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench shapes: %s\n", err[0] ? err : stt_strerror(rc));
        return rc == STT_EINVAL ? 2 : 1;
    }
    stt_shapes_print(doc, stdout);
    rc = stt_shapes_write(doc, out, err, sizeof err);
    json_decref(doc);
    if (rc) {
        fprintf(stderr, "sttbench shapes: %s\n", err);
        return 1;
    }
    printf("results in %s/shapes.json and %s/shapes_report.md\n", out, out);
    return 0;
}
