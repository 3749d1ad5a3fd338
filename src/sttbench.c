/* sttbench: the laboratory that measures any speech-to-text server. */
#include <stdio.h>
#include <string.h>

#include "sttbench.h"

static const struct {
    const char *name;
    int (*main)(int, char **);
    const char *what;
} commands[] = {
    {"corpus", bench_corpus_main, "build the real-speech benchmark corpus"},
    {"audio", bench_audio_main, "time, memory and accuracy against audio length"},
    {"load", bench_load_main, "concurrency and rate sweeps, latency under load"},
    {"cpu", bench_cpu_main, "cores, weak against strong at equal capacity, threads"},
    {"compare", bench_compare_main, "regression verdict between two results files or folders"},
    {"cost", bench_cost_main, "instructions, heap, wall time, WER of sttd builds (valgrind)"},
    {"report", bench_report_main, "performance report and scaling strategy"},
    {"service", bench_service_main, "sttd against the raw engine: overhead, memory, threads"},
    {"plan", bench_plan_main, "pods of which shape for a given traffic (queueing model)"},
    {"replicas", bench_replicas_main, "k replicas behind haproxy, measured against the model"},
    {"shapes", bench_shapes_main, "pod shapes side by side: cost, tail latency, memory"},
    {"tests", bench_tests_main, "test report from a CTest run (used by run_all_tests.sh)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sttbench COMMAND [OPTIONS]   (sttbench COMMAND --help for details)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("sttbench %s\n", STT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "sttbench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
