/* loadbench: `sttbench load` as one library call.
 *
 * Reads the uploads (one file, or a mix: lib/lab/mix.h) and the arrivals (a
 * trace: lib/lab/trace.h), runs a sweep (lib/lab/sweep.h) and/or the
 * max-rate search (lib/lab/maxrate.h) against the server, checks the queueing
 * model against what it measured, prints the tables, and writes load.json,
 * load_report.md and the charts (lib/lab/sweep_output.h).
 *
 * Call once at a time per process (it initialises libcurl itself). Prints
 * only into the FILEs given.
 */
#ifndef STT_LOADBENCH_H
#define STT_LOADBENCH_H

#include <stdio.h>

#include "maxrate.h"
#include "mix.h"
#include "sweep.h"

typedef struct stt_loadbench_params {
    const char *url;           /* required; without a path it gets the api's route */
    const char *api;           /* "openai" (default) or "whisper-cpp" */
    int post;                  /* 1 (default): transcription uploads; 0: bare GETs */
    const char *file;          /* one upload, or */
    const char *mix;           /* a mix file (either is needed for POST) */
    stt_mix_params mix_params; /* --mix-weights, --mix-formats, --mix-max-duration */
    const char *trace;         /* arrivals to replay: an open loop of trace arrivals */
    const char *model;         /* the "model" field (default "balanced") */
    int threads;               /* generator threads (default 1) */
    double timeout_s;          /* per request (default 120) */
    int max_inflight;          /* open-loop cap (default 1024) */
    int retry_after;           /* closed loop: honour a 503's Retry-After (default 0) */
    /* The sweep: mode, arrival (Poisson by default), values, duration_s,
     * requests, warmup_s, seed, repeats, max_extend. A trace without rates
     * replays at its recorded rate. */
    stt_sweep_params sweep;
    int sweep_given; /* 0: --find-max-rate alone runs no sweep */
    int find_max;    /* search the highest rate meeting search.slo_p95_s */
    /* The search: slo_p95_s, error_budget (0.01), repeats (3), min_requests
     * (100), start_rate (1), tolerance, max_probes; how runs are measured
     * comes from the sweep's params. */
    stt_maxrate_params search;
    /* Workers of the server for the model check: 0 (default) reads sttd's
     * sttd_workers from URL/metrics, else this machine's usable CPUs. */
    int server_workers;
    const char *out; /* results folder; NULL writes none */
    FILE *progress;  /* a line per run; NULL: silent */
} stt_loadbench_params;

stt_loadbench_params stt_loadbench_default_params(void);

/* Checks p before anything is read or sent: STT_EINVAL (a usage error, err
 * says which) or 0. */
int stt_loadbench_check(const stt_loadbench_params *p, char *err, size_t errlen);

/* Runs it all; tables and verdicts go to out. Returns 0, STT_EINVAL (bad
 * params or input files), STT_EIO, STT_ENOMEM; failed requests are results. */
int stt_loadbench_run(const stt_loadbench_params *p, FILE *out, char *err, size_t errlen);

/* Writes to f the trace (lib/lab/trace.h) of the sttd request log at
 * log_path. Returns 0, STT_EIO or STT_EINVAL. */
int stt_loadbench_trace_from_log(const char *log_path, FILE *f, char *err, size_t errlen);

#endif
