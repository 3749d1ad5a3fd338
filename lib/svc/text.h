/* text: bytes from clients made safe to echo.
 *
 * Whatever a client sends (a path, a field name or value, a model name) may be
 * any bytes. JSON needs valid UTF-8 (jansson refuses anything else, which
 * would leave the client without an answer), and a log line must stay one
 * line that no client can forge. Both functions cut only at character
 * boundaries, always NUL-terminate (when dstlen > 0) and return the bytes
 * written. Pure functions: thread-safe, no allocation.
 */
#ifndef STT_TEXT_H
#define STT_TEXT_H

#include <stddef.h>

/* Copies at most srclen bytes of src (stopping at a NUL) into dst as valid
 * UTF-8: each byte that does not start a well-formed sequence (overlong forms,
 * surrogates and code points above U+10FFFF included) becomes U+FFFD. When
 * the result does not fit, it is cut before the last whole character that
 * fits and "..." is appended. */
size_t stt_text_utf8(char *dst, size_t dstlen, const char *src, size_t srclen);

/* Copies src for a log line: printable ASCII except space, '"' and '\\' is
 * kept; every other byte is written as \xNN (so a line never breaks and
 * fields stay separated by spaces). Cut with "..." when it does not fit. */
size_t stt_text_log(char *dst, size_t dstlen, const char *src);

#endif
