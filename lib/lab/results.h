/* results: the one schema every results file follows.
 *
 * A results file is a JSON object whose header is the same for every kind:
 *
 *   "schema":  "sttlab.<kind>/<version>"   e.g. "sttlab.load/2"
 *   "tool":    "sttbench <command> <version>"
 *   "created": ISO 8601 UTC
 *   "machine": {cpu_model, logical_cores, cpus_allowed, cpus_usable,
 *               cpu_quota, mem_total_bytes, kernel, hostname}
 *   "commit":  the source tree's git commit, "+dirty" when it has local
 *              changes, or "unknown"
 *   "config":  the command's full configuration (kind-specific)
 *
 * followed by the kind's own body. Writers make the header with
 * stt_results_new(); readers get it back, typed, from stt_results_header_read(),
 * which also reads files written before the schema existed (their keys
 * "git_commit", "created_utc", "date", "cores", "memory_bytes"): that
 * translation lives here and nowhere else.
 * Thread-safe; the commit lookup runs git once per call.
 */
#ifndef STT_RESULTS_H
#define STT_RESULTS_H

#include <jansson.h>
#include <stddef.h>

#include "sysinfo.h"

#define STT_RESULTS_VERSION 2

/* The kinds of results file, and the file each is written to. */
typedef enum {
    STT_RESULTS_AUDIO,      /* audio/audio.json */
    STT_RESULTS_LOAD,       /* load/load.json */
    STT_RESULTS_CPU,        /* cpu/cpu.json */
    STT_RESULTS_SERVICE,    /* service/service.json */
    STT_RESULTS_REPLICAS,   /* replicas/replicas.json */
    STT_RESULTS_TESTS,      /* tests/test_results.json */
    STT_RESULTS_REGRESSION, /* regression/regression.json (sttbench compare) */
    STT_RESULTS_SHAPES,     /* shapes/shapes.json */
    STT_RESULTS_COST,       /* cost/cost.json (sttbench cost) */
    STT_RESULTS_N
} stt_results_kind;

/* "audio", "load", ...; NULL for a value out of range. */
const char *stt_results_kind_name(stt_results_kind k);
/* "audio.json", "test_results.json", ... */
const char *stt_results_file_name(stt_results_kind k);
/* The kind named name, or STT_ENOTFOUND. */
int stt_results_kind_of(const char *name);

typedef struct stt_results_header {
    int kind;    /* stt_results_kind, or STT_ENOTFOUND when the file names none */
    int version; /* 1 for files from before the schema */
    char tool[128];
    char created[40]; /* ISO 8601 UTC, "" when unknown */
    char commit[64];  /* "unknown" when the file does not say */
    stt_sysinfo machine;
    const json_t *config; /* borrowed from the document; NULL when absent */
} stt_results_header;

/* A new document holding the header for kind (this machine, now, the source
 * tree's commit) with config (stolen; NULL gives {}). NULL when out of memory. */
json_t *stt_results_new(stt_results_kind kind, const char *command, json_t *config);

/* Reads doc's header into *h. Returns 0, or STT_EINVAL when doc is not an
 * object (err says so). Missing fields read as "unknown"/0, never fail. */
int stt_results_header_read(const json_t *doc, stt_results_header *h, char *err, size_t errlen);

/* The git commit of the source tree sttbench was built from (the checkout
 * holding the running binary, else the working directory): 40 hex digits,
 * "+dirty" when tracked files differ from it, or "unknown". */
void stt_results_commit(char *out, size_t len);

/* Writes doc to path (indented, keys in insertion order) through a temporary
 * file renamed into place, so a reader never sees half a file. Creates
 * missing parent folders. Returns 0 or STT_EIO with err. */
int stt_results_write(const json_t *doc, const char *path, char *err, size_t errlen);

/* Loads the results file at path; with want >= 0, refuses (STT_EINVAL) a file
 * of another kind. The header goes to *h when h is not NULL (its config is
 * borrowed from the returned document). NULL with err on failure. */
json_t *stt_results_load(const char *path, int want, stt_results_header *h, char *err,
                         size_t errlen);

/* ---- comparable figures ----
 *
 * Every results file lists, besides its own body, the figures a later run
 * can be compared with (`sttbench compare`) and that the report quotes with
 * their n and interval:
 *
 *   "metrics": [{"name": "latency_s/speech_0008s/c=2", "unit": "s",
 *                "better": "lower" | "higher", "n": 10, "median": ...,
 *                "ci": [lo, hi], "coverage": 0.979, "samples": [...]}, ...]
 *   "accuracy": [{"name": "wer/balanced", "utterances": ["id", ...],
 *                 "errors": [...], "words": [...]}, ...]
 *
 * A metric's samples are independent repeats of one measurement; its name is
 * unique in the file and the same from run to run, so that two files of the
 * same kind can be matched name by name. An accuracy entry holds the word
 * errors and reference words per utterance, for a paired test. */

/* Appends a metric to doc's "metrics" (created when missing), with its
 * summary (n, median, 95% order-statistic interval) computed from samples.
 * Returns 0, STT_EINVAL (no finite sample, no name) or STT_ENOMEM. */
int stt_results_add_metric(json_t *doc, const char *name, const char *unit, int higher_is_better,
                           const double *samples, size_t n);

/* Appends per-utterance word errors and reference words to doc's "accuracy". */
int stt_results_add_accuracy(json_t *doc, const char *name, const char *const *utterances,
                             const int *errors, const int *words, size_t n);

typedef struct stt_results_metric {
    const char *name, *unit; /* borrowed from the document */
    int higher_is_better;
    double *samples; /* malloc'd */
    size_t n;
} stt_results_metric;

typedef struct stt_results_accuracy {
    const char *name;
    const char **utterances; /* malloc'd array of borrowed strings */
    int *errors, *words;     /* malloc'd */
    size_t n;
} stt_results_accuracy;

/* The metrics and accuracy entries of doc (either output may be NULL). Free
 * them with stt_results_metrics_free(); the names stay valid while doc does.
 * Returns 0, STT_EINVAL for a malformed entry (err says which), STT_ENOMEM. */
int stt_results_metrics_read(const json_t *doc, stt_results_metric **metrics, size_t *nm,
                             stt_results_accuracy **acc, size_t *na, char *err, size_t errlen);
void stt_results_metrics_free(stt_results_metric *m, size_t nm, stt_results_accuracy *a, size_t na);

/* v rounded to 6 decimals as a JSON real; null when v is not finite. The one
 * way results files hold measured numbers. */
json_t *stt_results_num(double v);

/* The number at key of obj, or NaN when absent or not a number. */
double stt_results_get_num(const json_t *obj, const char *key);

/* mkdir -p. Returns 0 or STT_EIO. */
int stt_results_mkdirs(const char *path);

#endif
