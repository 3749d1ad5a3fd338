/* compare: the regression verdict between two results files of the same
 * kind (BASE and HEAD), or between two results folders (files paired by
 * kind).
 *
 * What is compared is what each file lists as comparable (results.h):
 *  - every metric of the "metrics" blocks, matched by name: the ratio of
 *    medians head/base with a bootstrap interval and a two-sided
 *    Mann-Whitney test on the repeated samples (as benchstat does); a metric
 *    marked "deterministic" (an exact count such as instructions, one
 *    sample) is judged by its ratio alone, since it has no sampling noise;
 *  - every "accuracy" entry, matched by name and paired utterance by
 *    utterance: an exact sign test on the per-utterance word errors (as NIST
 *    sc_stats does) and a paired bootstrap interval of the WER difference.
 *
 * Verdict of a metric: "worse" or "better" only when the test is
 * significant (p <= alpha) and the interval of the ratio lies wholly beyond
 * the equivalence margin (1 +- threshold) on one side; otherwise "~" (no
 * detectable change), with the reason: p > alpha, or the interval includes
 * the margin (within it: equivalent). Accuracy: "worse" or "better" when the
 * sign test is significant and the interval of the WER difference excludes 0.
 * A regression is a "worse" in a gated figure: every figure (gate ALL) or the
 * deterministic ones and accuracy only (gate DETERMINISTIC: what CI can gate
 * on when wall time on a shared machine drifts).
 *
 * Files from different machines, or whose configurations differ, are refused
 * unless allow_different is set; what differs is listed either way.
 *
 * The statistics are pure; stt_compare_paths() reads files; the writers
 * (compare_write.c) print only into the FILE given. Thread-safe.
 */
#ifndef STT_COMPARE_H
#define STT_COMPARE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results.h"
#include "stats.h"

typedef enum { STT_COMPARE_GATE_ALL, STT_COMPARE_GATE_DETERMINISTIC } stt_compare_gate;

typedef struct stt_compare_params {
    double threshold;      /* equivalence margin, a fraction (0.05 = 5%) */
    double alpha;          /* significance level of the tests (0.05) */
    double level;          /* level of the intervals (0.95) */
    int resamples;         /* bootstrap resamples (2000) */
    uint64_t seed;         /* bootstrap seed (1): the same files give the same output */
    int allow_different;   /* compare across machines and configurations (0) */
    stt_compare_gate gate; /* which figures decide "regression" (ALL) */
} stt_compare_params;

stt_compare_params stt_compare_default_params(void);

enum { STT_COMPARE_WORSE = -1, STT_COMPARE_SAME = 0, STT_COMPARE_BETTER = 1 };

typedef struct stt_compare_metric {
    char file[64]; /* the kind of file it comes from ("cost", "load", ...) */
    char name[160], unit[32];
    int higher_is_better, deterministic;
    stt_summary base, head;
    double ratio; /* median(head) / median(base) */
    stt_interval ratio_ci;
    double p;         /* Mann-Whitney p; NaN when not tested */
    const char *test; /* "Mann-Whitney U", "exact count", "none: n < 2" (static) */
    int verdict;      /* STT_COMPARE_* */
    const char *why;  /* the reason for "~" (static), "" otherwise */
    int gated;
} stt_compare_metric;

typedef struct stt_compare_accuracy {
    char file[64], name[160];
    size_t utterances; /* paired */
    size_t unpaired;   /* utterances in one file only, left out */
    long words, base_errors, head_errors;
    double base_wer, head_wer, diff; /* fractions; diff = head - base */
    stt_interval diff_ci;            /* paired bootstrap */
    double p;                        /* sign test */
    int worse, better;               /* utterances with more / fewer errors in head */
    int verdict;
    const char *why;
    int gated;
} stt_compare_accuracy;

#define STT_COMPARE_MAX_NOTES 32

typedef struct stt_compare_result {
    char base_path[512], head_path[512];
    stt_results_header base_h, head_h;            /* of the first pair compared (config not kept) */
    int kind;                                     /* of a file pair; -1 for folders */
    int pairs;                                    /* file pairs compared */
    char differences[STT_COMPARE_MAX_NOTES][320]; /* what differs between the two sides */
    int ndiff;
    char notes[STT_COMPARE_MAX_NOTES][320]; /* figures or files on one side only, ... */
    int nnotes;
    stt_compare_metric *metrics;
    size_t nmetrics;
    stt_compare_accuracy *acc;
    size_t nacc;
    int regressions, improvements; /* gated figures worse / any figure better */
    stt_compare_gate gate;
} stt_compare_result;

/* ---- the statistics (pure) ---- */

/* One metric's samples a (base) and b (head). Fills out's summaries, ratio,
 * test and verdict; leaves file, name, unit and gated alone. Returns 0 or
 * STT_EINVAL (a side without a finite sample). */
int stt_compare_samples(const double *a, size_t na, const double *b, size_t nb,
                        int higher_is_better, int deterministic, const stt_compare_params *p,
                        stt_compare_metric *out);

/* One accuracy entry, paired: word errors of base (ea) and head (eb) and
 * reference words w for the same n utterances. Returns 0 or STT_EINVAL
 * (n == 0, no reference words). */
int stt_compare_paired_wer(const int *ea, const int *eb, const int *w, size_t n,
                           const stt_compare_params *p, stt_compare_accuracy *out);

/* ---- comparing files ---- */

/* Compares two loaded results documents of the same kind (label names them
 * in the output) and adds their figures to *res. Returns 0; STT_EINVAL when
 * the kinds differ, or when the machines or configurations differ and
 * p->allow_different is not set (err and res->differences say what), or a
 * figure is malformed. */
int stt_compare_docs(const json_t *base, const json_t *head, const char *label,
                     const stt_compare_params *p, stt_compare_result *res, char *err,
                     size_t errlen);

/* Compares two results files, or two folders (each results file found in
 * both, by kind, at any depth; the newest of a kind wins, as in the
 * report). *out is the caller's (stt_compare_free). Returns 0, STT_EIO
 * (unreadable), STT_EINVAL (as stt_compare_docs, or nothing in common). */
int stt_compare_paths(const char *base, const char *head, const stt_compare_params *p,
                      stt_compare_result **out, char *err, size_t errlen);

void stt_compare_free(stt_compare_result *r);

/* "regression", "no regression", or "undetermined" when nothing was compared. */
const char *stt_compare_answer(const stt_compare_result *r);
/* "worse", "better", "~". */
const char *stt_compare_verdict_name(int verdict);

/* ---- output (compare_write.c) ---- */

/* The regression.json document (results.h header, kind "regression"):
 * both sides' commits and machines, what differs, every change and the
 * verdict in the form the report quotes ("verdict": question, answer,
 * confidence, figure). NULL when out of memory. */
json_t *stt_compare_to_json(const stt_compare_result *r, const stt_compare_params *p);
/* The same document, indented, to f; markdown and HTML tables of it. 0 or STT_EIO. */
int stt_compare_write_json(const stt_compare_result *r, const stt_compare_params *p, FILE *f);
int stt_compare_write_md(const stt_compare_result *r, const stt_compare_params *p, FILE *f);
int stt_compare_write_html(const stt_compare_result *r, const stt_compare_params *p, FILE *f);
/* Writes dir/regression.json, regression.md and regression.html (creating
 * dir); the paths written are appended to `written`, one per line. Returns 0
 * or STT_EIO with err. */
int stt_compare_write_all(const stt_compare_result *r, const stt_compare_params *p, const char *dir,
                          char *written, size_t wlen, char *err, size_t errlen);
/* Parses a margin: "5%" or a fraction "0.05", in [0, 1). 0 or STT_EINVAL. */
int stt_compare_parse_threshold(const char *s, double *out);
/* Appends one line (created, commits, machine, verdict, every figure's base
 * and head value, ratio and verdict) to the JSON-lines history at path,
 * creating it and its folder. Returns 0 or STT_EIO. */
int stt_compare_history_append(const stt_compare_result *r, const char *path, char *err,
                               size_t errlen);

#endif
