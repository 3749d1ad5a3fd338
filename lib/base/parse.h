/* parse: numbers from options and configuration text, checked whole.
 *
 * Every function reads the entire string (no trailing text, no empty string),
 * checks the range, and returns 0 or STT_EINVAL; on failure the output is left
 * unchanged. Lists are comma-separated ("1,2,4"). Thread-safe, no allocation.
 */
#ifndef STT_PARSE_H
#define STT_PARSE_H

#include <stddef.h>

/* An integer in [lo, hi]. */
int stt_parse_int(const char *s, long lo, long hi, int *out);

/* A finite real number in [lo, hi]. */
int stt_parse_double(const char *s, double lo, double hi, double *out);

/* 1 to max integers, each in [lo, hi]; *n gets how many. */
int stt_parse_int_list(const char *s, long lo, long hi, int *out, int max, int *n);

/* 1 to max finite reals, each in [lo, hi]; *n gets how many. */
int stt_parse_double_list(const char *s, double lo, double hi, double *out, int max, int *n);

#endif
