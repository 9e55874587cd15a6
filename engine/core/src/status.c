/* Status names, diagnostics and the API-misuse panic. */
#include "twin/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tw_status_str(tw_status s)
{
    switch (s) {
    case TW_OK: return "ok";
    case TW_ERR_INVALID: return "invalid";
    case TW_ERR_PARSE: return "parse";
    case TW_ERR_NOT_FOUND: return "not found";
    case TW_ERR_NOMEM: return "out of memory";
    case TW_ERR_IO: return "i/o";
    case TW_ERR_LIMIT: return "limit exceeded";
    case TW_ERR_STATE: return "wrong state";
    case TW_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}

void tw_diag_clear(tw_diag *d)
{
    if (d) memset(d, 0, sizeof *d);
}

void tw_diag_setv(tw_diag *d, const char *fmt, va_list ap)
{
    if (!d) return;
    vsnprintf(d->message, sizeof d->message, fmt, ap);
}

void tw_diag_set(tw_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_diag_setv(d, fmt, ap);
    va_end(ap);
}

void tw_diag_format(const tw_diag *d, char *out, size_t out_size)
{
    if (!out || out_size == 0) return;
    out[0] = '\0';
    if (!d) return;
    size_t n = 0;
#define TW_APPEND(...)                                                        \
    do {                                                                      \
        int w = snprintf(out + n, out_size - n, __VA_ARGS__);                 \
        if (w < 0) return;                                                    \
        n += (size_t)w;                                                       \
        if (n >= out_size) { out[out_size - 1] = '\0'; return; }              \
    } while (0)
    if (d->file[0]) {
        TW_APPEND("%s", d->file);
        if (d->line > 0) TW_APPEND(":%d", d->line);
        if (d->line > 0 && d->column > 0) TW_APPEND(":%d", d->column);
        TW_APPEND(": ");
    }
    if (d->path[0]) TW_APPEND("%s: ", d->path);
    TW_APPEND("%s", d->message[0] ? d->message : "error");
#undef TW_APPEND
}

void tw_panic(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "twin: API misuse at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
