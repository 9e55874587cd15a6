/* twin/log.h: levelled logging through a context, no globals.
 *
 * A tw_log is plain data the caller owns (zero-initialised means: level INFO,
 * to stderr). The level is checked before any formatting. */
#ifndef TWIN_LOG_H
#define TWIN_LOG_H

#include <stdio.h>

typedef enum tw_log_level {
    TW_LOG_TRACE = 0,
    TW_LOG_DEBUG,
    TW_LOG_INFO,
    TW_LOG_WARN,
    TW_LOG_ERROR,
    TW_LOG_OFF
} tw_log_level;

typedef void (*tw_log_sink)(void *user, tw_log_level level, const char *module, const char *msg);

typedef struct tw_log {
    int level_plus_one;   /* 0 = default (INFO); else level + 1 */
    tw_log_sink sink;     /* NULL: write "twin: module: msg" to stderr */
    void *user;
} tw_log;

void tw_log_set_level(tw_log *log, tw_log_level level);
tw_log_level tw_log_get_level(const tw_log *log);
/* log may be NULL: then it behaves as a default log. */
void tw_log_write(const tw_log *log, tw_log_level level, const char *module, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#define TW_LOG(log, lvl, module, ...)                                   \
    do {                                                                \
        if ((lvl) >= tw_log_get_level(log)) tw_log_write((log), (lvl), (module), __VA_ARGS__); \
    } while (0)

#endif
