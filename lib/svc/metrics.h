/* metrics: a small registry of Prometheus counters, gauges and histograms.
 *
 * Written by hand because no C library in Debian produces the Prometheus text
 * exposition format (version 0.0.4); it is a few lines of text per series.
 * A registry owns metric families; a family owns its series, one per distinct
 * label set. Labels are given as a NULL-terminated list of name, value pairs,
 * e.g. (const char *[]){"route", "/health", "status", "200", NULL}; values
 * are escaped on output. A family without labels always shows its one series.
 *
 * Thread-safe: every call may be made from any thread; one mutex per registry
 * (updates are a few per request, so contention is negligible).
 */
#ifndef STT_METRICS_H
#define STT_METRICS_H

#include <stddef.h>

typedef struct stt_metrics stt_metrics;
typedef struct stt_metric stt_metric;

typedef enum { STT_METRIC_COUNTER, STT_METRIC_GAUGE, STT_METRIC_HISTOGRAM } stt_metric_type;

/* Upper bounds in seconds spanning 1 ms to 10 min, for latency histograms. */
extern const double stt_metrics_latency_buckets[];
extern const size_t stt_metrics_n_latency_buckets;

stt_metrics *stt_metrics_create(void);
/* Frees the registry and all its families; no call may be in progress. */
void stt_metrics_free(stt_metrics *m);

/* Adds a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*; histograms take
 * n_buckets ascending finite upper bounds (copied). Returns NULL on a bad
 * argument, a duplicate name or out of memory. The family lives as long as m. */
stt_metric *stt_metrics_add(stt_metrics *m, const char *name, const char *help,
                            stt_metric_type type, const double *buckets, size_t n_buckets);

/* Counter or gauge: adds v (a counter ignores v < 0). */
int stt_metric_inc(stt_metric *f, const char *const *labels, double v);
/* Gauge: sets v. Also allowed on a counter that mirrors a monotonic count kept
 * elsewhere (e.g. worker restarts counted by the pool). */
int stt_metric_set(stt_metric *f, const char *const *labels, double v);
/* Histogram: records one observation. */
int stt_metric_observe(stt_metric *f, const char *const *labels, double v);
/* A counter's or gauge's value, or a histogram's observation count; 0 when
 * the series does not exist. */
double stt_metric_value(stt_metric *f, const char *const *labels);

/* Renders every family in registration order; *out is malloc'd and
 * NUL-terminated, *len excludes the NUL. Returns 0 or STT_ENOMEM. */
int stt_metrics_render(stt_metrics *m, char **out, size_t *len);

#endif
