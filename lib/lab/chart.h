/* chart: runs gnuplot on a script a benchmark wrote beside its results.
 *
 * Every chart of the laboratory is a gnuplot script and its data files in
 * the results folder, so that anyone can redraw or restyle it; this is the
 * one place that runs gnuplot. The script runs with the folder as its
 * working directory; its messages go to DIR/gnuplot.log. When the pngcairo
 * terminal is missing, the script is rerun with the plain png terminal.
 * Thread-safe (fork/exec, no shell).
 */
#ifndef STT_CHART_H
#define STT_CHART_H

#include <stddef.h>

/* 1 when a gnuplot binary is on PATH. */
int stt_chart_available(void);

/* Runs `gnuplot SCRIPT` in dir. Returns 0, STT_ENOTFOUND when gnuplot is not
 * installed, or STT_EIO when it failed (err says where its log is). */
int stt_chart_run(const char *dir, const char *script, char *err, size_t errlen);

#endif
