/* sttbench replicas: horizontal scaling measured with per-pod routing, and the
 * planner's model validated with it (lib/lab/replicas.h, docs/REPLICAS.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"
#include "parse.h"
#include "replicas.h"
#include "sttbench.h"

static void usage(FILE *f, const stt_replicas_params *d)
{
    fprintf(f,
            "usage: sttbench replicas [--replicas 1,2] [--loads 0.3,0.5,0.7]\n"
            "                         [--routing random,leastconn] [--repeats %d]\n"
            "                         [--requests %d] [--cores-per-replica %d] [--workers %d]\n"
            "                         [--queue %d] [--profile %s] [--file AUDIO]\n"
            "                         [--audio AUDIO_JSON] [--seed N] [--quick]\n"
            "                         [--out DIR] [--sttd PATH]\n"
            "\n"
            "Horizontal scaling measured for real, and the capacity planner validated with it.\n"
            "Each replica is sttd in its own network namespace (a veth link to the host) on its\n"
            "own CPUs; haproxy on the host routes open-loop Poisson load to k replicas: at\n"
            "random per pod with no central queue, as a Kubernetes Service does (`random`),\n"
            "in turn (`roundrobin`), or through one central queue (`leastconn`, maxconn =\n"
            "workers per replica) to show what per-pod routing costs. Every cell (replicas x\n"
            "routing x utilisation) is measured --repeats times in interleaved rounds and set\n"
            "beside the planner's model fed with its own input (the service time audio.json's\n"
            "fit gives for this file, with --audio) and with the service times measured on an\n"
            "idle replica, and beside the simulated fleet. Needs root, ip (iproute2) and\n"
            "haproxy; without them it writes {\"skipped\": reason} and exits 0.\n"
            "\n"
            "  --replicas LIST          replica counts (1,2)\n"
            "  --loads LIST             utilisations, each 0 < RHO < 1 (0.3,0.5,0.7); --load\n"
            "                           is the same\n"
            "  --routing LIST           random, roundrobin, leastconn (random,leastconn)\n"
            "  --repeats N              trials per cell (%d)\n"
            "  --requests N             counted requests per trial, N >= 20 (%d)\n"
            "  --cores-per-replica C    CPUs of each replica: replica i gets CPUs [i*C,\n"
            "                           (i+1)*C) of those this process may use (%d)\n"
            "  --workers W              sttd decoder workers per replica, --threads 1 (%d)\n"
            "  --queue Q                sttd --queue, deep enough to refuse nothing (%d)\n"
            "  --profile P              engine profile: %s (%s)\n"
            "  --file AUDIO             the upload (%s)\n"
            "  --audio AUDIO_JSON       the planner's input: audio.json of `sttbench audio`\n"
            "  --seed N                 arrivals, trial order and simulation (%llu)\n"
            "  --quick                  the study's quick experiment: loads 0.4,0.6,0.8, 3\n"
            "                           repeats of 25 requests, leastconn at 0.8 only\n"
            "                           (about 4 minutes on 2 cores)\n"
            "  --out DIR                results folder (results/replicas)\n"
            "  --sttd PATH              the server binary (sttd beside sttbench)\n"
            "  --help\n"
            "\n"
            "Writes DIR/replicas.json and DIR/replicas_report.md. Exit status: 0 done or\n"
            "skipped, 1 failure, 2 usage or a configuration this machine cannot hold.\n",
            d->repeats, d->requests, d->cores_per_replica, d->workers, d->queue, d->profile,
            d->repeats, d->requests, d->cores_per_replica, d->workers, d->queue, stt_profile_list(),
            d->profile, d->file, d->seed);
}

static void log_line(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "sttbench replicas: %s\n", line);
}

static int bad(const char *opt, const char *what, const char *got)
{
    fprintf(stderr, "sttbench replicas: %s needs %s, got '%s' (see --help)\n", opt, what, got);
    return 2;
}

int bench_replicas_main(int argc, char **argv)
{
    stt_replicas_params p = stt_replicas_default_params();
    const char *out = "results/replicas";
    const char *loads = NULL, *replicas = NULL, *routing = NULL;
    int quick = 0, v;
    static const struct option opts[] = {{"replicas", 1, 0, 'r'},
                                         {"loads", 1, 0, 'l'},
                                         {"load", 1, 0, 'l'},
                                         {"routing", 1, 0, 'R'},
                                         {"repeats", 1, 0, 'k'},
                                         {"requests", 1, 0, 'n'},
                                         {"cores-per-replica", 1, 0, 'c'},
                                         {"workers", 1, 0, 'w'},
                                         {"queue", 1, 0, 'q'},
                                         {"profile", 1, 0, 'p'},
                                         {"file", 1, 0, 'f'},
                                         {"audio", 1, 0, 'a'},
                                         {"seed", 1, 0, 'S'},
                                         {"quick", 0, 0, 'Q'},
                                         {"out", 1, 0, 'o'},
                                         {"sttd", 1, 0, 's'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 1;
    for (int o; (o = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (o) {
        case 'r':
            replicas = optarg;
            break;
        case 'l':
            loads = optarg;
            break;
        case 'R':
            routing = optarg;
            break;
        case 'k':
            if (stt_parse_int(optarg, 1, 100, &p.repeats))
                return bad("--repeats", "1..100", optarg);
            break;
        case 'n':
            if (stt_parse_int(optarg, 20, 1000000, &p.requests))
                return bad("--requests", "a whole number >= 20 (a p95 needs that many)", optarg);
            break;
        case 'c':
            if (stt_parse_int(optarg, 1, 1024, &p.cores_per_replica))
                return bad("--cores-per-replica", "a whole number >= 1", optarg);
            break;
        case 'w':
            if (stt_parse_int(optarg, 1, 256, &p.workers))
                return bad("--workers", "1..256", optarg);
            break;
        case 'q':
            if (stt_parse_int(optarg, 0, 100000, &p.queue)) return bad("--queue", ">= 0", optarg);
            break;
        case 'p':
            p.profile = optarg;
            break;
        case 'f':
            p.file = optarg;
            break;
        case 'a':
            p.audio_json = optarg;
            break;
        case 'S': {
            char *end;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-')
                return bad("--seed", "a whole number >= 0", optarg);
            p.seed = s;
            break;
        }
        case 'Q':
            quick = 1;
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            p.sttd = optarg;
            break;
        case 'h':
            usage(stdout, &p);
            return 0;
        default:
            fprintf(stderr, "see sttbench replicas --help\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sttbench replicas: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (quick) {
        int repeats = p.repeats, requests = p.requests;
        stt_replicas_quick(&p);
        /* explicit options win over the quick set */
        if (repeats != stt_replicas_default_params().repeats) p.repeats = repeats;
        if (requests != stt_replicas_default_params().requests) p.requests = requests;
    }
    if (replicas && stt_parse_int_list(replicas, 1, STT_REPLICAS_MAX_K, p.replicas,
                                       STT_REPLICAS_MAX_K, &p.nreplicas))
        return bad("--replicas", "a list of replica counts in 1..16 like 1,2", replicas);
    if (loads &&
        (stt_parse_double_list(loads, 1e-9, 0.999999, p.loads, STT_REPLICAS_MAX_LOADS, &p.nloads)))
        return bad("--loads",
                   "utilisations 0 < RHO < 1 (at 1 or more the queue grows without "
                   "bound)",
                   loads);
    if (routing) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", routing);
        p.nroutings = 0;
        for (char *s = NULL, *t = strtok_r(buf, ",", &s); t; t = strtok_r(NULL, ",", &s)) {
            if ((v = stt_routing_of(t)) < 0 || p.nroutings == STT_ROUTING_N)
                return bad("--routing", "random, roundrobin and/or leastconn", routing);
            p.routings[p.nroutings++] = (stt_routing)v;
        }
        if (!p.nroutings) return bad("--routing", "random, roundrobin and/or leastconn", routing);
    }
    if (stt_profile_index(p.profile) < 0) return bad("--profile", stt_profile_list(), p.profile);

    p.log = log_line;
    json_t *doc = NULL;
    char err[1024] = "";
    int rc = stt_replicas_run(&p, &doc, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench replicas: %s\n", err[0] ? err : stt_strerror(rc));
        return rc == STT_EINVAL ? 2 : 1;
    }
    stt_replicas_print(doc, stdout);
    rc = stt_replicas_write(doc, out, err, sizeof err);
    json_decref(doc);
    if (rc) {
        fprintf(stderr, "sttbench replicas: %s\n", err);
        return 1;
    }
    printf("results in %s/replicas.json and %s/replicas_report.md\n", out, out);
    return 0;
}
