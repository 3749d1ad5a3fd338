/* sttbench: the subcommands of the laboratory program. Each lives in
 * src/bench_<name>.c (src/sttbench_<name>.c until thinned) and defines bench_<name>_main(); argv[0]
 * is the subcommand's name. Returns the process exit status (0 ok, 1 failure, 2 usage). */
#ifndef STT_STTBENCH_H
#define STT_STTBENCH_H

int bench_corpus_main(int argc, char **argv);
int bench_audio_main(int argc, char **argv);
int bench_load_main(int argc, char **argv);
int bench_cpu_main(int argc, char **argv);
int bench_report_main(int argc, char **argv);
int bench_tests_main(int argc, char **argv);
int bench_service_main(int argc, char **argv);
int bench_plan_main(int argc, char **argv);
int bench_replicas_main(int argc, char **argv);
int bench_shapes_main(int argc, char **argv);
int bench_compare_main(int argc, char **argv);
int bench_cost_main(int argc, char **argv);

#endif
