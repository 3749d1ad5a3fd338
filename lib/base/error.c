/* error: see error.h. Every table below is generated from STT_ERRNO_MAP. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct row {
    const char *name, *message, *type, *code;
    int status;
} row;

static const row rows[STT__NERRORS] = {
#define STT_XX_ROW(n, msg, st, ty, cd) [STT__I_##n] = {"STT_" #n, msg, ty, cd, st},
    STT_ERRNO_MAP(STT_XX_ROW)
#undef STT_XX_ROW
};

static const row *row_of(int code)
{
    int i = -code - 1;
    return code < 0 && i < STT__NERRORS ? &rows[i] : NULL;
}

const char *stt_strerror(int code)
{
    const row *r = row_of(code);
    return r ? r->message : code == STT_OK ? "success" : "unknown error";
}

const char *stt_errname(int code)
{
    const row *r = row_of(code);
    return r ? r->name : code == STT_OK ? "STT_OK" : "STT_UNKNOWN";
}

int stt_err_http_status(int code)
{
    const row *r = row_of(code);
    return r ? r->status : 500;
}

const char *stt_err_type(int code)
{
    const row *r = row_of(code);
    return r ? r->type : "server_error";
}

const char *stt_err_code(int code)
{
    const row *r = row_of(code);
    return r ? r->code : "internal_error";
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
