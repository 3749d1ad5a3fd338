/* error: the project's error codes.
 *
 * Functions that can fail return 0 (or a non-negative value) on success and a
 * negative STT_E* code on failure; details go into a caller-owned message
 * buffer (char *err, size_t errlen) when the function takes one.
 */
#ifndef STT_ERROR_H
#define STT_ERROR_H

#include <stddef.h>

enum {
    STT_OK = 0,
    STT_ENOMEM = -1,     /* out of memory */
    STT_EINVAL = -2,     /* bad argument or field */
    STT_EAUDIO = -3,     /* audio present but undecodable (empty, truncated, corrupt) */
    STT_EFORMAT = -4,    /* a media type we do not read */
    STT_ETOOBIG = -5,    /* over a size or duration limit */
    STT_EBUSY = -6,      /* queue full: try again later */
    STT_EWORKER = -7,    /* a worker died while serving the request */
    STT_EENGINE = -8,    /* the recognizer failed */
    STT_EIO = -9,        /* system call or file failure */
    STT_ESHUTDOWN = -10, /* the service is stopping */
    STT_ENOTFOUND = -11, /* no such thing (profile, route, file) */
};

/* Static, never NULL, for any int. */
const char *stt_strerror(int code);

/* Writes printf-style text into err (if err && errlen), always NUL-terminated.
 * Returns code, so callers can write `return stt_seterr(err, n, STT_EINVAL, ...)`. */
int stt_seterr(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
