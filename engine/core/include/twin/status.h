/* twin/status.h: status codes and diagnostics shared by every module.
 *
 * Fallible calls return tw_status (TW_OK == 0) and hand results back through
 * out-parameters. Parsers also fill a tw_diag owned by the caller: where the
 * problem is (file, line, column, JSON path) and a sentence saying what was
 * expected. There is no process-global "last error". */
#ifndef TWIN_STATUS_H
#define TWIN_STATUS_H

#include <stdarg.h>
#include <stddef.h>

typedef enum tw_status {
    TW_OK = 0,
    TW_ERR_INVALID,   /* bad argument or bad input content */
    TW_ERR_PARSE,     /* malformed text (syntax) */
    TW_ERR_NOT_FOUND, /* a named thing does not exist */
    TW_ERR_NOMEM,     /* the allocator returned NULL */
    TW_ERR_IO,        /* a file could not be read or written */
    TW_ERR_LIMIT,     /* a fixed capacity was exceeded */
    TW_ERR_STATE,     /* call not allowed in the object's current state */
    TW_ERR_UNSUPPORTED
} tw_status;

/* Short lower-case name of a status ("invalid", "parse", ...). Never NULL. */
const char *tw_status_str(tw_status s);

enum { TW_DIAG_MSG_MAX = 512, TW_DIAG_PATH_MAX = 256, TW_DIAG_FILE_MAX = 256 };

/* Where and why something failed. line and column are 1-based; 0 means unknown. */
typedef struct tw_diag {
    char file[TW_DIAG_FILE_MAX];
    int line;
    int column;
    char path[TW_DIAG_PATH_MAX]; /* JSON path such as $.entities[3].components.Thermal */
    char message[TW_DIAG_MSG_MAX];
    int warnings; /* count of warnings reported alongside (not errors) */
} tw_diag;

void tw_diag_clear(tw_diag *d);
/* Sets the message (printf-style). d may be NULL, then nothing happens. */
void tw_diag_set(tw_diag *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void tw_diag_setv(tw_diag *d, const char *fmt, va_list ap);
/* Formats "file:line:column: path: message" into out (always terminated). */
void tw_diag_format(const tw_diag *d, char *out, size_t out_size);

/* Misuse of the API: print the sentence and abort. Used at public entry points
 * for programming errors (never for bad input, which returns a status). */
void tw_panic(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;
#define TW_CHECK(cond, ...) \
    do { if (!(cond)) tw_panic(__FILE__, __LINE__, __VA_ARGS__); } while (0)

#endif
