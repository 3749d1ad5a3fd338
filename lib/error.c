#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *stt_strerror(int code)
{
    switch (code) {
    case STT_OK:
        return "success";
    case STT_ENOMEM:
        return "out of memory";
    case STT_EINVAL:
        return "invalid argument";
    case STT_EAUDIO:
        return "undecodable audio";
    case STT_EFORMAT:
        return "unsupported media type";
    case STT_ETOOBIG:
        return "too large";
    case STT_EBUSY:
        return "server busy";
    case STT_EWORKER:
        return "worker failed";
    case STT_EENGINE:
        return "recognizer failed";
    case STT_EIO:
        return "input/output error";
    case STT_ESHUTDOWN:
        return "shutting down";
    case STT_ENOTFOUND:
        return "not found";
    default:
        return "unknown error";
    }
}

int stt_seterr(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}
