/* The source object: one interface (a vtable) over the readers, the shared
 * bookkeeping (sequence numbers, counts, kept error messages) and opening
 * files, standard input, descriptors and memory with format detection. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bind_internal.h"
#include "twin/clock.h"

const char *tw_bind_reject_name(tw_bind_reject r)
{
    static const char *const names[TW_BIND_REJECT_COUNT] = { "line",    "time",  "value", "sensor", "quality",
                                                             "nan",     "inf",   "range", "unit",   "target" };
    return (unsigned)r < TW_BIND_REJECT_COUNT ? names[r] : "unknown";
}

const char *tw_bind_format_name(tw_bind_format f)
{
    switch (f) {
    case TW_BIND_FORMAT_CSV: return "csv";
    case TW_BIND_FORMAT_JSONL: return "jsonl";
    case TW_BIND_FORMAT_SENML: return "senml";
    default: return "auto";
    }
}

static tw_bind_source *source_alloc(const tw_allocator *alloc, const char *name, bool live, tw_bind_sensors *sensors,
                                    const tw_log *log)
{
    tw_allocator a = tw_allocator_or_default(alloc);
    tw_bind_source *s = tw_calloc(&a, 1, sizeof *s);
    if (!s) return NULL;
    s->alloc = a;
    if (log) s->log = *log;
    s->sensors = sensors;
    s->live = live;
    snprintf(s->name, sizeof s->name, "%s", name ? name : "source");
    return s;
}

void tw_bind_source_free(tw_bind_source *s)
{
    if (!s) return;
    if (s->vt && s->vt->destroy) s->vt->destroy(s, s->impl);
    tw_allocator a = s->alloc;
    tw_free(&a, s, sizeof *s);
}

tw_status tw_bind_source_new_custom(const tw_bind_source_vtable *vt, void *impl, const char *name, bool live,
                                    tw_bind_sensors *sensors, const tw_allocator *allocator, const tw_log *log,
                                    tw_bind_source **out)
{
    TW_CHECK(vt != NULL && vt->read != NULL && sensors != NULL && out != NULL,
             "tw_bind_source_new_custom needs a vtable with a read function, a sensor table and an out pointer.");
    *out = NULL;
    tw_bind_source *s = source_alloc(allocator, name ? name : vt->kind, live, sensors, log);
    if (!s) {
        if (vt->destroy) vt->destroy(NULL, impl);
        return TW_ERR_NOMEM;
    }
    s->vt = vt;
    s->impl = impl;
    *out = s;
    return TW_OK;
}

void tw_bind_source_set_state(tw_bind_source *s, tw_bind_source_state state) { s->state = state; }

void tw_bind_source_report(tw_bind_source *s, uint64_t line, const char *fmt, ...)
{
    s->stats.errors++;
    /* Format only what will be kept or logged: a file of garbage costs a count. */
    bool keep = s->errors_kept < TW_BIND_SOURCE_ERRORS_KEPT;
    bool log = s->stats.errors <= TW_BIND_SOURCE_ERRORS_KEPT && TW_LOG_WARN >= tw_log_get_level(&s->log);
    if (!keep && !log) return;
    char msg[TW_BIND_ERROR_MAX];
    int o = line ? snprintf(msg, sizeof msg, "%.200s:%llu: ", s->name, (unsigned long long)line)
                 : snprintf(msg, sizeof msg, "%.200s: ", s->name);
    if (o < 0) o = 0;
    if ((size_t)o >= sizeof msg) o = (int)sizeof msg - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + o, sizeof msg - (size_t)o, fmt, ap);
    va_end(ap);
    if (keep) memcpy(s->errors[s->errors_kept++], msg, sizeof msg);
    if (log) {
        tw_log_write(&s->log, TW_LOG_WARN, "bind", "%s", msg);
        if (s->stats.errors == TW_BIND_SOURCE_ERRORS_KEPT)
            tw_log_write(&s->log, TW_LOG_WARN, "bind", "%s: further errors are counted but not shown", s->name);
    }
}

tw_status tw_bind_source_read(tw_bind_source *s, tw_bind_sample *out, uint32_t max, uint32_t *count)
{
    TW_CHECK(s != NULL && count != NULL && (out != NULL || max == 0),
             "tw_bind_source_read needs a source, an out array and a count.");
    *count = 0;
    if (s->state == TW_BIND_SOURCE_END || s->state == TW_BIND_SOURCE_FAILED || max == 0) return TW_OK;
    uint32_t n = 0;
    tw_status st = s->vt->read(s, s->impl, out, max, &n);
    double now = s->live && n ? tw_clock_unix_s() : 0.0;
    for (uint32_t i = 0; i < n; i++) {
        tw_bind_sample *x = &out[i];
        x->seq = ++s->seq;
        if (s->live) x->arrival = now;
        if (x->kind == TW_BIND_SAMPLE_MALFORMED)
            s->stats.malformed++;
        else if (x->kind == TW_BIND_SAMPLE_IGNORED)
            s->stats.ignored++;
    }
    s->stats.samples += n;
    *count = n;
    if (st != TW_OK) s->state = TW_BIND_SOURCE_FAILED;
    return st;
}

tw_bind_source_state tw_bind_source_get_state(const tw_bind_source *s) { return s->state; }
const tw_bind_source_stats *tw_bind_source_get_stats(const tw_bind_source *s) { return &s->stats; }
const char *tw_bind_source_name(const tw_bind_source *s) { return s->name; }
tw_bind_format tw_bind_source_format(const tw_bind_source *s) { return s->format; }
tw_bind_sensors *tw_bind_source_sensors(const tw_bind_source *s) { return s->sensors; }
bool tw_bind_source_is_live(const tw_bind_source *s) { return s->live; }
uint32_t tw_bind_source_error_count(const tw_bind_source *s) { return s->errors_kept; }
const char *tw_bind_source_error(const tw_bind_source *s, uint32_t i)
{
    return i < s->errors_kept ? s->errors[i] : NULL;
}

tw_status bind_intern_sensor(tw_bind_sensors *t, const char *prefix, size_t prefix_len, const char *key,
                             size_t key_len, const char *name, size_t len, uint32_t *id)
{
    if (!prefix_len && !key_len) {
        if (len == 0 || len > TW_BIND_SENSOR_NAME_MAX) return TW_ERR_LIMIT;
        return tw_bind_sensors_intern(t, name, len, id);
    }
    size_t total = prefix_len + (key_len ? key_len + 1 : 0) + len;
    if (len == 0 || total > TW_BIND_SENSOR_NAME_MAX) return TW_ERR_LIMIT;
    char buf[TW_BIND_SENSOR_NAME_MAX];
    size_t o = 0;
    if (prefix_len) memcpy(buf, prefix, prefix_len);
    o += prefix_len;
    if (key_len) {
        memcpy(buf + o, key, key_len);
        o += key_len;
        buf[o++] = '/';
    }
    memcpy(buf + o, name, len);
    o += len;
    return tw_bind_sensors_intern(t, buf, o, id);
}

/* ---- opening ---------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (k > n) return false;
    for (size_t i = 0; i < k; i++) {
        char a = s[n - k + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

static tw_bind_format format_from_name(const char *path)
{
    if (!path) return TW_BIND_FORMAT_AUTO;
    if (ends_with(path, ".csv") || ends_with(path, ".tsv") || ends_with(path, ".txt")) return TW_BIND_FORMAT_CSV;
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson")) return TW_BIND_FORMAT_JSONL;
    if (ends_with(path, ".senml") || ends_with(path, ".senml.json") || ends_with(path, ".json"))
        return TW_BIND_FORMAT_SENML;
    return TW_BIND_FORMAT_AUTO;
}

/* From the first non-blank byte: '[' is a SenML pack, '{' a JSON Lines
 * object, anything else CSV. Fills the input as needed (never consumes). */
static tw_bind_format format_from_content(bind_input *in)
{
    size_t i = 0;
    for (;;) {
        while (in->start + i < in->end) {
            char c = in->buf[in->start + i];
            if (c == '[') return TW_BIND_FORMAT_SENML;
            if (c == '{') return TW_BIND_FORMAT_JSONL;
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return TW_BIND_FORMAT_CSV;
            i++;
        }
        bind_fill r = bind_input_fill(in);
        if (r != BIND_FILL_MORE) return TW_BIND_FORMAT_CSV;
    }
}

tw_status tw_bind_source_open(const tw_bind_source_desc *desc, tw_bind_source **out, tw_diag *diag)
{
    TW_CHECK(desc != NULL && out != NULL, "tw_bind_source_open needs a desc and an out pointer.");
    TW_CHECK(desc->sensors != NULL, "tw_bind_source_desc.sensors must name the sensor table the source interns into.");
    int inputs = (desc->path != NULL) + (desc->use_fd ? 1 : 0) + (desc->data != NULL);
    TW_CHECK(inputs == 1, "tw_bind_source_desc needs exactly one input: path, use_fd with fd, or data with size.");
    *out = NULL;
    tw_diag_clear(diag);
    const char *name = desc->name;
    bool is_stdin = desc->path && strcmp(desc->path, "-") == 0;
    if (!name) name = desc->path ? (is_stdin ? "stdin" : desc->path) : desc->use_fd ? "fd" : "memory";
    if (diag) snprintf(diag->file, sizeof diag->file, "%s", name);

    tw_bind_source *s = source_alloc(desc->allocator, name, desc->live, desc->sensors, desc->log);
    if (!s) {
        tw_diag_set(diag, "out of memory opening a telemetry source");
        return TW_ERR_NOMEM;
    }
    bind_input in;
    bind_input_init(&in, &s->alloc, desc->chunk_size, desc->max_record, desc->live);
    if (desc->data) {
        in.mem = desc->data;
        in.mem_size = desc->size;
    } else if (desc->use_fd) {
        in.fd = desc->fd;
    } else if (is_stdin) {
        in.fd = STDIN_FILENO;
    } else {
        int fd;
        do fd = open(desc->path, O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            tw_diag_set(diag, "cannot open telemetry file %s: %s", desc->path, strerror(errno));
            tw_free(&s->alloc, s, sizeof *s);
            return TW_ERR_IO;
        }
        in.fd = fd;
        in.own_fd = true;
    }
    tw_bind_format fmt = desc->format;
    if (fmt == TW_BIND_FORMAT_AUTO) fmt = format_from_name(desc->path ? desc->path : desc->name);
    if (fmt == TW_BIND_FORMAT_AUTO) {
        if (desc->live) {
            fmt = TW_BIND_FORMAT_JSONL; /* cannot wait to look: live streams are JSON Lines unless told */
        } else {
            fmt = format_from_content(&in);
            if (in.nomem || in.err) {
                tw_diag_set(diag, "cannot read %s: %s", name, in.nomem ? "out of memory" : strerror(in.err));
                bind_input_fini(&in);
                tw_free(&s->alloc, s, sizeof *s);
                return in.nomem ? TW_ERR_NOMEM : TW_ERR_IO;
            }
        }
    }
    s->format = fmt;
    tw_status st = fmt == TW_BIND_FORMAT_CSV ? bind_csv_open(s, &in, desc, diag)
                                             : bind_json_open(s, &in, desc, fmt == TW_BIND_FORMAT_SENML, diag);
    if (st != TW_OK) {
        tw_bind_source_free(s);
        return st;
    }
    *out = s;
    return TW_OK;
}
