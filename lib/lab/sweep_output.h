/* sweep_output: what a load run writes: load.json, load_report.md, the
 * charts, and the table printed on the terminal.
 *
 * load.json (schema sttlab.load/2, docs/LOAD.md) holds every point with its
 * runs and windows, the figures with n and intervals, the decisions (knee,
 * advice, service time, model check, max rate) and, for `sttbench compare`,
 * the comparable figures as metrics (stable names, samples):
 *   load/<step>/throughput_rps  2xx per second of every window (higher is better)
 *   load/<step>/p95_s           each run's p95, failures included (lower)
 *   load/service_time_s         the 2xx latencies at c=1 (lower)
 *   load/max_rate_rps           the highest rate meeting the SLO (higher; one sample)
 * where <step> is "c=4" or "rate=0.5"; only stable points are listed.
 *
 * Printing goes only to the FILE given. Not thread-safe per document.
 */
#ifndef STT_SWEEP_OUTPUT_H
#define STT_SWEEP_OUTPUT_H

#include <jansson.h>
#include <stdio.h>

#include "maxrate.h"
#include "sweep.h"

/* A new load.json document (stt_results_new) with config (stolen) and the
 * sweep and/or the search (either may be NULL). NULL when out of memory. */
json_t *stt_sweep_json(const stt_sweep *sw, const stt_maxrate *mr, json_t *config);

/* The terminal's view: one row per point (n, 2xx/s with its interval,
 * percentiles or "n too small", failures, stability), then the decisions. */
void stt_sweep_print(const stt_sweep *sw, FILE *f);
void stt_maxrate_print(const stt_maxrate *mr, FILE *f);

/* load_report.md: title as its heading, then the same in markdown, and the
 * charts when charts != 0. */
void stt_sweep_write_markdown(const stt_sweep *sw, const stt_maxrate *mr, const char *title,
                              int charts, FILE *f);

/* load_steps.dat, load_distribution.dat and load.gp in dir, then gnuplot
 * (lib/lab/chart.h). Returns 0, STT_ENOTFOUND (no gnuplot: data and script
 * stay), STT_EIO. */
int stt_sweep_write_charts(const stt_sweep *sw, const char *dir, char *err, size_t errlen);

/* Everything above into dir (created): load.json from doc (borrowed),
 * load_report.md, and the sweep's charts. *charts gets 1 when they were
 * drawn. Returns 0 or STT_EIO; a missing gnuplot is not a failure. */
int stt_sweep_write_all(const char *dir, const json_t *doc, const stt_sweep *sw,
                        const stt_maxrate *mr, const char *title, int *charts, char *err,
                        size_t errlen);

/* "c=4" or "rate=0.5": a point's name in metrics and tables. */
void stt_sweep_point_name(const stt_sweep_point *pt, char *buf, size_t len);

#endif
