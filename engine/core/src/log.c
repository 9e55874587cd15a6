/* Levelled logging. The level is checked before formatting (see TW_LOG). */
#include "twin/log.h"

#include <stdarg.h>

static const char *level_name(tw_log_level l)
{
    switch (l) {
    case TW_LOG_TRACE: return "trace";
    case TW_LOG_DEBUG: return "debug";
    case TW_LOG_INFO: return "info";
    case TW_LOG_WARN: return "warning";
    case TW_LOG_ERROR: return "error";
    default: return "";
    }
}

void tw_log_set_level(tw_log *log, tw_log_level level)
{
    log->level_plus_one = (int)level + 1;
}

tw_log_level tw_log_get_level(const tw_log *log)
{
    if (!log || log->level_plus_one == 0) return TW_LOG_INFO;
    return (tw_log_level)(log->level_plus_one - 1);
}

void tw_log_write(const tw_log *log, tw_log_level level, const char *module, const char *fmt, ...)
{
    if (level < tw_log_get_level(log)) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log && log->sink) {
        log->sink(log->user, level, module, msg);
        return;
    }
    fprintf(stderr, "twin: %s: %s: %s\n", level_name(level), module ? module : "", msg);
}
