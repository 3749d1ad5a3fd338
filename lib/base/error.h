/* error: the project's error codes, generated from one list.
 *
 * Functions that can fail return 0 (or a non-negative value) on success and a
 * negative STT_E* code on failure; details go into a caller-owned message
 * buffer (char *err, size_t errlen) when the function takes one. No function
 * returns -1 or -errno: a caller can always hand the code to stt_strerror().
 *
 * Each row of STT_ERRNO_MAP is: name, message, HTTP status, OpenAI-style error
 * type, API error code. The enum, stt_strerror(), stt_errname() and the HTTP
 * mapping are all generated from it (the libuv UV_ERRNO_MAP pattern), so the
 * same failure gets the same status and code wherever it is answered.
 * Everything here is thread-safe and allocation-free.
 */
#ifndef STT_ERROR_H
#define STT_ERROR_H

#include <stddef.h>

#define STT_ERRNO_MAP(XX)                                                                          \
    XX(ENOMEM, "out of memory", 500, "server_error", "out_of_memory")                              \
    XX(EINVAL, "invalid argument", 400, "invalid_request_error", "invalid_value")                  \
    XX(EMULTIPART, "malformed multipart body", 400, "invalid_request_error", "invalid_multipart")  \
    XX(EMISSING, "required field missing", 400, "invalid_request_error", "missing_file")           \
    XX(EAUDIO, "undecodable audio", 400, "invalid_request_error", "invalid_audio")                 \
    XX(EFORMAT, "unsupported media type", 415, "invalid_request_error", "unsupported_media_type")  \
    XX(ETOOBIG, "upload too large", 413, "invalid_request_error", "file_too_large")                \
    XX(ETOOLONG, "audio too long", 413, "invalid_request_error", "audio_too_long")                 \
    XX(EMODEL, "model not found", 400, "invalid_request_error", "model_not_found")                 \
    XX(ELANGUAGE, "unsupported language", 400, "invalid_request_error", "unsupported_language")    \
    XX(EAUTH, "invalid API key", 401, "invalid_request_error", "invalid_api_key")                  \
    XX(ENOTFOUND, "not found", 404, "invalid_request_error", "not_found")                          \
    XX(EMETHOD, "method not allowed", 405, "invalid_request_error", "method_not_allowed")          \
    XX(EBUSY, "server busy", 503, "server_error", "server_busy")                                   \
    XX(ESHUTDOWN, "shutting down", 503, "server_error", "shutting_down")                           \
    XX(ETIMEDOUT, "deadline exceeded", 500, "server_error", "deadline_exceeded")                   \
    XX(EWORKER, "worker failed", 500, "server_error", "worker_failed")                             \
    XX(EENGINE, "recognizer failed", 500, "server_error", "engine_failed")                         \
    XX(EIO, "input/output error", 500, "server_error", "internal_error")                           \
    XX(EDEADLINE, "processing deadline exceeded", 422, "invalid_request_error",                    \
       "processing_deadline_exceeded")                                                             \
    XX(ECANCELED, "client closed the request", 499, "invalid_request_error",                       \
       "client_closed_request")                                                                    \
    XX(ESLOW, "request sent too slowly", 408, "invalid_request_error", "request_timeout")

/* Indices, only to number the codes below. */
enum {
#define STT_XX_INDEX(name, msg, status, type, code) STT__I_##name,
    STT_ERRNO_MAP(STT_XX_INDEX)
#undef STT_XX_INDEX
        STT__NERRORS
};

enum {
    STT_OK = 0,
#define STT_XX_CODE(name, msg, status, type, code) STT_##name = -STT__I_##name - 1,
    STT_ERRNO_MAP(STT_XX_CODE)
#undef STT_XX_CODE
};

/* "out of memory" for STT_ENOMEM, "success" for 0, "unknown error" for any
 * other int. Static, never NULL. */
const char *stt_strerror(int code);

/* "STT_ENOMEM", "STT_OK", or "STT_UNKNOWN". Static, never NULL. */
const char *stt_errname(int code);

/* The HTTP status an API answers this failure with: 500 for unknown codes
 * (and for 0, which is not a failure). */
int stt_err_http_status(int code);

/* OpenAI's error type ("invalid_request_error" for 4xx, "server_error" for
 * 5xx) and the API's machine-readable code ("file_too_large"). Static. */
const char *stt_err_type(int code);
const char *stt_err_code(int code);

/* Writes printf-style text into err (if err && errlen), always NUL-terminated.
 * Returns code, so callers can write `return stt_seterr(err, n, STT_EINVAL, ...)`. */
int stt_seterr(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
