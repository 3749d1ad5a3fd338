/* sttbench cpu: the CPU profile (lib/lab/profile.h, docs/CPU.md): argv ->
 * params -> stt_profile_run() -> cpu.json and the report -> exit status. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "error.h"
#include "parse.h"
#include "profile.h"
#include "sttbench.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sttbench cpu [options]\n"
            "       sttbench cpu --compare A.json B.json [--price-core-hour P] [--out DIR]\n"
            "\n"
            "Starts the server once per configuration under a proven CPU restriction and\n"
            "measures all of them side by side in interleaved rounds: throughput and one long\n"
            "request against cores (1, 2, 4, 8, 16 as far as this machine goes), a CFS quota\n"
            "against pinned cores, many weak cores against few strong ones at equal capacity\n"
            "(k cores at full speed, 2k at half speed, 4k at a quarter where there are cores),\n"
            "and threads per request searched up to twice the cores, idle and under load.\n"
            "Writes DIR/cpu.json, DIR/cpu_scaling_report.md and charts.\n"
            "\n"
            "  --server-cmd T      command template (default \"" STT_PROFILE_DEFAULT_CMD "\")\n"
            "                      {bin} = this program's directory; {port} {workers} {threads}\n"
            "  --corpus DIR        corpus from `sttbench corpus` (corpus)\n"
            "  --out DIR           output directory (results/cpu)\n"
            "  --quick             2-4 minutes on 2 cores: 5 rounds, 2 completions, a 28 s\n"
            "                      long file, requests of the fast profile, no quota, no\n"
            "                      Poisson p95, no thread search; wider intervals\n"
            "  --profile P         the requests' profile (the server's default, balanced;\n"
            "                      quick fast)\n"
            "  --cores LIST        core counts (default 1,2,4,8,16 up to the usable CPUs)\n"
            "  --max-cores N       the profile's largest core count, unmeasured beyond (16)\n"
            "  --rounds N          interleaved rounds, n >= 5 (8; quick 5)\n"
            "  --extra-rounds N    rounds added while a point is unstable (3; quick 0)\n"
            "  --requests N        completions timed per throughput measurement, rounded up to\n"
            "                      a multiple of the workers (8; quick 2)\n"
            "  --quota W           CFS quota at: all, largest or none core counts (all; quick\n"
            "                      none)\n"
            "  --no-capacity       skip the equal-capacity (weak against strong) experiment\n"
            "  --capacity-cores K  strong cores k (default max(1, usable / 4))\n"
            "  --speeds LIST       weak cores' speeds (0.5, and 0.25 with 4k cores)\n"
            "  --period-us N       CFS period of a weak core (10000)\n"
            "  --poisson N         requests per configuration per round at Poisson arrivals\n"
            "                      for the p95 (6; quick 0 = not measured)\n"
            "  --poisson-load F    their rate, a share of the strong capacity (0.5)\n"
            "  --thread-search W   at: all, largest or none core counts (all; quick none)\n"
            "  --short-s S         the short file: the WAV nearest S seconds (8)\n"
            "  --long-s S          the long file (60; quick 28)\n"
            "  --margin M          equivalence band of the weak/strong verdicts (0.05)\n"
            "  --saturation F      a round counts when the server used F of its CPUs (0.95)\n"
            "  --seed N            round order, arrivals, bootstrap (1)\n"
            "  --compare A B       two machines' cpu.json side by side\n"
            "  --price-core-hour P price of one core-hour for --compare (0.04)\n");
}

static int bad(const char *opt, const char *v, const char *want)
{
    fprintf(stderr, "sttbench cpu: bad value for --%s: '%s' (%s)\n", opt, v, want);
    return -2;
}

static int where(const char *v, int *out)
{
    if (!strcmp(v, "all"))
        *out = 2;
    else if (!strcmp(v, "largest"))
        *out = 1;
    else if (!strcmp(v, "none"))
        *out = 0;
    else
        return -1;
    return 0;
}

typedef struct options {
    stt_profile_params p;
    const char *cmp_a, *cmp_b;
    double price;
} options;

/* Returns 0, 1 after --help, -1 for a usage error, -2 for a bad value (said). */
static int parse(int argc, char **argv, options *o)
{
    /* clang-format off */
    static const struct option opts[] = {
        {"server-cmd", 1, 0, 's'}, {"corpus", 1, 0, 'C'}, {"out", 1, 0, 'o'},
        {"quick", 0, 0, 'q'}, {"cores", 1, 0, 'c'}, {"max-cores", 1, 0, 'M'},
        {"rounds", 1, 0, 'r'}, {"extra-rounds", 1, 0, 'e'}, {"requests", 1, 0, 'n'},
        {"quota", 1, 0, 'Q'}, {"no-capacity", 0, 0, 'K'}, {"capacity-cores", 1, 0, 'k'},
        {"speeds", 1, 0, 'S'}, {"period-us", 1, 0, 'P'}, {"poisson", 1, 0, 'p'},
        {"poisson-load", 1, 0, 'L'}, {"thread-search", 1, 0, 'T'}, {"short-s", 1, 0, 'a'},
        {"long-s", 1, 0, 'b'}, {"margin", 1, 0, 'g'}, {"seed", 1, 0, 'z'}, {"saturation", 1, 0, 'u'},
        {"compare", 1, 0, 'x'}, {"price-core-hour", 1, 0, 'y'}, {"profile", 1, 0, 'm'},
        {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    /* clang-format on */
    /* --quick first, so that explicit options override its settings. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--quick")) stt_profile_quick(&o->p);
    optind = 1;
    int c, v;
    double d;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->p.server_cmd = optarg;
            break;
        case 'C':
            o->p.corpus = optarg;
            break;
        case 'o':
            o->p.out = optarg;
            break;
        case 'q':
            break;
        case 'c':
            if (stt_parse_int_list(optarg, 1, 4096, o->p.cores, STT_PROFILE_MAXV, &o->p.ncores))
                return bad("cores", optarg, "a list of counts >= 1");
            break;
        case 'M':
            if (stt_parse_int(optarg, 1, 4096, &o->p.max_cores))
                return bad("max-cores", optarg, ">= 1");
            break;
        case 'r':
            if (stt_parse_int(optarg, 5, STT_PROFILE_MAX_ROUNDS, &o->p.rounds))
                return bad("rounds", optarg, "5 to 32");
            break;
        case 'e':
            if (stt_parse_int(optarg, 0, 27, &o->p.extra_rounds))
                return bad("extra-rounds", optarg, "0 to 27");
            break;
        case 'n':
            if (stt_parse_int(optarg, 1, 10000, &o->p.requests))
                return bad("requests", optarg, ">= 1");
            break;
        case 'Q':
            if (where(optarg, &o->p.quota)) return bad("quota", optarg, "all, largest or none");
            break;
        case 'K':
            o->p.capacity = 0;
            break;
        case 'k':
            if (stt_parse_int(optarg, 1, 4096, &o->p.capacity_cores))
                return bad("capacity-cores", optarg, ">= 1");
            break;
        case 'S':
            if (stt_parse_double_list(optarg, 0.01, 0.99, o->p.speeds, 3, &o->p.nspeeds))
                return bad("speeds", optarg, "up to 3 speeds in (0, 1)");
            break;
        case 'P':
            if (stt_parse_int(optarg, 1000, 1000000, &v))
                return bad("period-us", optarg, "1000 to 1000000");
            o->p.period_us = v;
            break;
        case 'p':
            if (stt_parse_int(optarg, 0, 10000, &o->p.poisson))
                return bad("poisson", optarg, ">= 0");
            break;
        case 'L':
            if (stt_parse_double(optarg, 0.01, 0.99, &o->p.poisson_load))
                return bad("poisson-load", optarg, "in (0, 1)");
            break;
        case 'T':
            if (where(optarg, &o->p.threads))
                return bad("thread-search", optarg, "all, largest or none");
            break;
        case 'm':
            if (stt_profile_index(optarg) < 0) return bad("profile", optarg, stt_profile_list());
            o->p.request_profile = optarg;
            break;
        case 'a':
            if (stt_parse_double(optarg, 0.1, 36000, &o->p.short_s))
                return bad("short-s", optarg, "seconds");
            break;
        case 'b':
            if (stt_parse_double(optarg, 0.1, 36000, &o->p.long_s))
                return bad("long-s", optarg, "seconds");
            break;
        case 'u':
            if (stt_parse_double(optarg, 0, 1, &o->p.saturation))
                return bad("saturation", optarg, "a share from 0 to 1");
            break;
        case 'g':
            if (stt_parse_double(optarg, 0, 0.5, &o->p.margin))
                return bad("margin", optarg, "0 to 0.5");
            break;
        case 'z':
            if (stt_parse_double(optarg, 0, 1e15, &d) || d != floor(d))
                return bad("seed", optarg, "a whole number");
            o->p.seed = (uint64_t)d;
            break;
        case 'x':
            o->cmp_a = optarg;
            if (optind >= argc) return -1;
            o->cmp_b = argv[optind++];
            break;
        case 'y':
            if (stt_parse_double(optarg, 0, 1e9, &o->price))
                return bad("price-core-hour", optarg, "a price >= 0");
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            return -1;
        }
    }
    return optind < argc ? -1 : 0;
}

static int tty;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void progress(void *arg, const char *line)
{
    (void)arg;
    if (tty)
        fprintf(stderr, "\r\033[K%s", line);
    else
        printf("%s\n", line);
    fflush(stdout);
}

int bench_cpu_main(int argc, char **argv)
{
    options o = {.p = stt_profile_default_params(), .price = 0.04};
    int pa = parse(argc, argv, &o);
    if (pa > 0) return 0;
    if (pa < 0) {
        if (pa == -1) usage(stderr);
        return 2;
    }
    char err[700] = "";
    if (o.cmp_a) {
        char *summary = NULL;
        int rc = stt_profile_compare(o.cmp_a, o.cmp_b, o.price, o.p.out, &summary, err, sizeof err);
        if (summary) fputs(summary, stdout);
        free(summary);
        if (rc) fprintf(stderr, "sttbench cpu: %s: %s\n", stt_strerror(rc), err);
        return rc ? 1 : 0;
    }
    tty = isatty(2);
    o.p.progress = progress;
    /* Ctrl-C or a TERM ends the run cleanly: servers stopped, cgroups removed. */
    o.p.stop = &stop;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    stt_profile *r = NULL;
    int rc = stt_profile_run(&o.p, &r, err, sizeof err);
    if (tty) fprintf(stderr, "\r\033[K");
    if (rc) {
        fprintf(stderr, "sttbench cpu: %s: %s%s\n", stt_strerror(rc), err,
                rc == STT_EIO ? " (build the corpus with `sttbench corpus`)" : "");
        return 1;
    }
    int status = stt_profile_failed(r);
    rc = stt_profile_write(r, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench cpu: %s\n", err);
        status = 1;
    }
    fputs(stt_profile_summary(r), stdout);
    stt_profile_free(r);
    return status;
}
