/* replicas: horizontal scaling measured, and the planner validated with it.
 *
 * k pods (lib/lab/replicas_pod.h: sttd in a network namespace of its own, on
 * CPUs of its own) behind haproxy (lib/lab/haproxy.h) take open-loop Poisson
 * load at a utilisation rho of their capacity. The routing is the one a
 * Kubernetes Service has, random per pod with no central queue (or round
 * robin), and, as the second mode, haproxy's leastconn with one central
 * queue, to show what the difference is worth.
 *
 * The experiment is a set of cells (replica count, routing, utilisation),
 * each measured `repeats` times; every repeat round runs all cells in an
 * order of its own drawn from the seed (interleaved: drift lands on every
 * cell alike). A one-pod cell has no routing to choose: it is measured once
 * per round, as "random".
 *
 * Each cell is set beside the model (lib/lab/queueing.h, stt_fleet_eval) fed
 * with the planner's own input, the service time audio.json's fit gives for
 * this file (lib/lab/svctime.h) when --audio names one, and with the service
 * times measured on an idle pod as well; beside the simulated fleet too: the
 * band where the median of `repeats` runs as long as the trials falls.
 *
 * replicas.json (kind "replicas"): the header of lib/lab/results.h, then
 *   "service_time": {"measured": {n, samples, median, ci, mean_s},
 *                    "planner": {service_s, source, ...} or null, "planner_note"}
 *   "trials": [...]: every trial in the order it ran
 *   "cells": [...]: per cell its p95 (n, median, interval), the predictions,
 *                   the simulated band and the verdicts
 *   "routing_difference": [...]: random against leastconn where both ran
 *   "validation": what the report and the deployment decisions use
 *   "metrics": p95_s/<routing>/k=<k>/rho=<rho> per cell
 * or, when the machine cannot make hosts, the header and "skipped": reason.
 * See docs/REPLICAS.md. One run at a time per process (lib/lab/netns.h).
 */
#ifndef STT_REPLICAS_H
#define STT_REPLICAS_H

#include <jansson.h>
#include <stdio.h>

#include "queueing.h"

#define STT_REPLICAS_MAX_K 16    /* replicas at most, and replica counts in one run */
#define STT_REPLICAS_MAX_LOADS 8 /* utilisations in one run */

typedef struct stt_replicas_params {
    int replicas[STT_REPLICAS_MAX_K]; /* replica counts ({1, 2}) */
    int nreplicas;
    double loads[STT_REPLICAS_MAX_LOADS]; /* utilisations, 0 < rho < 1 ({0.3, 0.5, 0.7}) */
    int nloads;
    stt_routing routings[STT_ROUTING_N]; /* {random, leastconn} */
    int nroutings;
    int routings_at_top_only; /* 1: the routings after the first only at the highest load (0) */
    int cores_per_replica;    /* CPUs of each pod: pod i gets [i*C, (i+1)*C) (1) */
    int workers;              /* sttd --workers per pod, --threads 1 (1) */
    int queue;                /* sttd --queue: deep enough that nothing is refused (64) */
    int repeats;              /* trials per cell (5) */
    int requests;             /* counted requests per trial, >= 20 for a p95 (40) */
    int service_samples;      /* sequential requests on an idle pod (15) */
    const char *profile;      /* "fast" */
    const char *file;         /* the upload ("corpus/speech_0008s.wav") */
    const char *audio_json;   /* the planner's input: audio.json; NULL: none */
    const char *sttd;         /* NULL: sttd beside the running program */
    unsigned long long seed;  /* arrivals, trial order, simulation (20240601) */
    int sim_runs;             /* simulated runs per cell (2000) */
    int quick;                /* recorded: the values came from stt_replicas_quick() */
    /* Progress, one line at a time without newline; NULL: silent. Called
     * from the thread that runs stt_replicas_run(). */
    void (*log)(void *arg, const char *line);
    void *log_arg;
} stt_replicas_params;

stt_replicas_params stt_replicas_default_params(void);

/* The study's quick experiment (about 4 minutes on 2 cores): utilisations
 * 0.4, 0.6, 0.8, 3 repeats of 25 requests, leastconn at the highest load
 * only, 10 service samples. Changes nothing else. */
void stt_replicas_quick(stt_replicas_params *p);

/* Runs the experiment and gives its results document (*doc, the caller's).
 * Returns 0 with a complete document, or with one that says "skipped" when
 * the machine cannot make hosts or has no haproxy; STT_EINVAL (err says why)
 * for parameters or a configuration this machine cannot hold (more CPUs than
 * it has, an unreadable file or server); STT_EIO and the like when the
 * measurement failed. Everything it created is removed on every path and on
 * SIGINT/SIGTERM/SIGHUP. */
int stt_replicas_run(const stt_replicas_params *p, json_t **doc, char *err, size_t errlen);

/* Adds "cells", "routing_difference", "validation" and the metrics to doc
 * from its "config", "service_time" and "trials". Pure: no I/O; the same
 * document gives the same result. Returns 0 or STT_EINVAL (err says what is
 * missing). */
int stt_replicas_analyse(json_t *doc, char *err, size_t errlen);

/* Writes DIR/replicas.json and DIR/replicas_report.md. 0 or STT_EIO. */
int stt_replicas_write(const json_t *doc, const char *dir, char *err, size_t errlen);

/* The cells as a text table (or the reason it was skipped) to f. */
void stt_replicas_print(const json_t *doc, FILE *f);

#endif
