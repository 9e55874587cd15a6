/* bind_internal.h: what the bind module's files share (not installed).
 *
 * Layers, bottom up: number and time parsing (numparse.c), chunked byte
 * input (input.c), a JSON object scanner (jsonscan.c), SenML records
 * (senml.c), the source object and its vtable (source.c), the readers
 * (csv.c, json_reader.c), the sensor table (sensors.c), units (units.c), the
 * input queue (queue.c), and the binder (binder.c, rules_json.c). */
#ifndef TWIN_BIND_INTERNAL_H
#define TWIN_BIND_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twin/bind.h"
#include "twin/bind_source.h"

/* ---- numbers and times (numparse.c) ---------------------------------------- */

/* Parses the whole of s[0..n) (spaces around allowed) as a decimal number;
 * "nan", "NaN", "NA", "inf", "-Infinity" give NaN and infinities (so they are
 * counted as such, not as unreadable). False when it is not a number. */
bool bind_parse_number(const char *s, size_t n, bool decimal_comma, double *out);
/* ISO 8601 date-time: YYYY-MM-DD[(T| )hh:mm[:ss[.f]]][Z|(+|-)hh[:]mm]; no zone is UTC. */
bool bind_parse_iso8601(const char *s, size_t n, double *out);
/* Epoch number to seconds, the unit found by magnitude: below 1e11 seconds,
 * then milliseconds (1e14), microseconds (1e17), nanoseconds. */
double bind_epoch_auto(double v);
double bind_epoch_scaled(double v, tw_bind_time_format fmt);
/* A time field in the given format (AUTO: ISO when it looks like a date, else epoch). */
bool bind_parse_time(const char *s, size_t n, tw_bind_time_format fmt, bool decimal_comma, double *out);
/* good/ok/valid/0, uncertain/suspect/1, bad/invalid/2..; "" is good. False for other text. */
bool bind_parse_quality(const char *s, size_t n, uint8_t *q);
/* Trims ASCII spaces (and a trailing CR) around s[0..*n). */
const char *bind_trim(const char *s, size_t *n);
/* Case-insensitive comparison of s[0..n) with the NUL-terminated word. */
bool bind_word_eq(const char *s, size_t n, const char *word);

/* ---- chunked byte input (input.c) ------------------------------------------- */

typedef enum bind_fill {
    BIND_FILL_MORE = 1,      /* bytes were added */
    BIND_FILL_EOF = 0,       /* nothing more, ever */
    BIND_FILL_ERROR = -1,    /* I/O error (in->err) or out of memory (in->nomem) */
    BIND_FILL_WAIT = -2,     /* live: nothing now */
    BIND_FILL_FULL = -3      /* the unread bytes already fill max_record: a record is too long */
} bind_fill;

typedef struct bind_input {
    tw_allocator alloc;
    int fd;                  /* -1 for memory input */
    bool own_fd;
    const unsigned char *mem;
    size_t mem_size, mem_pos;
    bool live, eof, nomem;
    int err;                 /* errno of a failed read */
    char *buf;
    size_t cap;
    size_t start, end;       /* unread bytes are buf[start..end) */
    size_t chunk, max_record;
    uint64_t bytes;
    bool bom_checked;
} bind_input;

void bind_input_init(bind_input *in, const tw_allocator *alloc, size_t chunk, size_t max_record, bool live);
void bind_input_fini(bind_input *in);
/* Moves the unread bytes to the front, grows the buffer when they fill it
 * (up to max_record), and reads up to one chunk. Offsets relative to start
 * stay valid; pointers into buf do not. */
bind_fill bind_input_fill(bind_input *in);

/* ---- JSON objects (jsonscan.c) ------------------------------------------------ */

typedef enum bj_type { BJ_STRING = 1, BJ_NUMBER, BJ_TRUE, BJ_FALSE, BJ_NULL, BJ_OBJECT, BJ_ARRAY } bj_type;

typedef struct bj_member {
    const char *key;
    size_t key_len;          /* raw, between the quotes */
    bj_type type;
    const char *val;         /* strings: between the quotes, raw; others: the token */
    size_t val_len;
    bool key_escaped, val_escaped;
} bj_member;

enum { BJ_MAX_MEMBERS = 64 };

/* Scans one JSON object text (the whole of text[0..n)) without allocating.
 * On error returns false with *err_offset and *err_msg (a static sentence). */
bool bj_object_scan(const char *text, size_t n, bj_member *members, uint32_t max, uint32_t *count,
                    size_t *err_offset, const char **err_msg);
/* Finds a member by exact (unescaped) key; NULL if absent. */
const bj_member *bj_find(const bj_member *m, uint32_t count, const char *key);
/* Decodes the escapes of a raw JSON string into out (UTF-8); returns the
 * length, or SIZE_MAX for a bad escape or when it does not fit. */
size_t bj_unescape(const char *s, size_t n, char *out, size_t cap);
/* The text of a string member, unescaped into scratch when needed. false when it does not fit. */
bool bj_string(const bj_member *m, char *scratch, size_t cap, const char **s, size_t *n);
/* A number member's value; false for another type or a number out of range. */
bool bj_number(const bj_member *m, double *v);
/* A sample value: a number, true/false (1/0), or a string holding a number
 * (scratch as for bj_string). false when it is none of these. */
bool bj_value(const bj_member *m, char *scratch, size_t cap, double *v);

/* ---- SenML records (senml.c) ------------------------------------------------- */

/* The base fields of a SenML pack: they carry over to the records that follow. */
typedef struct bind_senml_base {
    char bn[TW_BIND_SENSOR_NAME_MAX];
    size_t bn_len;
    double bt, bv;
    uint8_t bu;
} bind_senml_base;

void bind_senml_base_reset(bind_senml_base *b);

typedef enum bind_senml_value {
    BIND_SENML_NUMBER,     /* v: value is bv + v */
    BIND_SENML_OTHER,      /* only vs, vb, vd or s: a sample twin ignores */
    BIND_SENML_MISSING,    /* a name or time but no value */
    BIND_SENML_UNREADABLE, /* a v that does not read as a number */
} bind_senml_value;

/* One SenML record read: its members collected and type-checked, the base
 * fields applied. When problem is set the record is rejected (reason why,
 * sensor 0, no time) and nothing else is filled in; base_only means it only
 * set base fields and yields no sample. */
typedef struct bind_senml_record {
    const char *problem;
    tw_bind_reject why;
    bool base_only;
    char name[TW_BIND_SENSOR_NAME_MAX]; /* n, unescaped; bn stays in the base */
    size_t name_len;
    double time;   /* bt + t, not yet made absolute */
    uint8_t unit;  /* u, else bu */
    bind_senml_value kind;
    double value;  /* for BIND_SENML_NUMBER */
    char text[96]; /* room for a problem sentence with a number in it */
} bind_senml_record;

/* Reads members[0..n) of one scanned record; updates base; scratch as for bj_string. */
void bind_senml_record_read(const bj_member *members, uint32_t n, bind_senml_base *base, char *scratch, size_t cap,
                            bind_senml_record *rec);

/* ---- sources (source.c) -------------------------------------------------------- */

struct tw_bind_source {
    const tw_bind_source_vtable *vt;
    void *impl;
    tw_allocator alloc;
    tw_log log;
    tw_bind_sensors *sensors;
    char name[TW_DIAG_FILE_MAX];
    tw_bind_format format;
    tw_bind_source_state state;
    bool live;
    tw_bind_source_stats stats;
    uint64_t seq;
    uint32_t errors_kept;
    char errors[TW_BIND_SOURCE_ERRORS_KEPT][TW_BIND_ERROR_MAX];
};

/* Interns prefix + name (with "/"-joined key when key_len > 0: prefix + key + "/" + name).
 * TW_ERR_LIMIT when the id would be longer than TW_BIND_SENSOR_NAME_MAX or empty. */
tw_status bind_intern_sensor(tw_bind_sensors *t, const char *prefix, size_t prefix_len, const char *key,
                             size_t key_len, const char *name, size_t len, uint32_t *id);

/* Reader constructors: they take over the input (also on failure) and read
 * the header when not live. */
tw_status bind_csv_open(tw_bind_source *src, bind_input *in, const tw_bind_source_desc *desc, tw_diag *diag);
tw_status bind_json_open(tw_bind_source *src, bind_input *in, const tw_bind_source_desc *desc, bool senml,
                         tw_diag *diag);

/* A malformed sample: counted by the wrapper, reported by the reader. */
static inline void bind_sample_malformed(tw_bind_sample *s, tw_bind_reject reason, uint32_t sensor, double time,
                                         uint64_t line)
{
    s->time = time;
    s->arrival = 0.0;
    s->value = 0.0;
    s->sensor = sensor;
    s->kind = TW_BIND_SAMPLE_MALFORMED;
    s->quality = TW_BIND_SAMPLE_BAD;
    s->reason = (uint8_t)reason;
    s->unit = 0;
    s->seq = 0;
    s->lane = 0;
    s->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
}

static inline void bind_sample_value(tw_bind_sample *s, double time, uint32_t sensor, double value,
                                     uint8_t quality, uint8_t unit, uint64_t line)
{
    s->time = time;
    s->arrival = 0.0;
    s->value = value;
    s->sensor = sensor;
    s->kind = TW_BIND_SAMPLE_VALUE;
    s->quality = quality;
    s->reason = 0;
    s->unit = unit;
    s->seq = 0;
    s->lane = 0;
    s->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
}

/* ---- the input queue (queue.c) ---------------------------------------------------- */

/* Samples ordered by (time, lane, seq). Each lane keeps its in-order samples
 * in a FIFO (the common case, O(1)); the rest go to one binary heap. */
typedef struct bind_fifo {
    tw_bind_sample *items;
    uint32_t cap;            /* a power of two, or 0 */
    uint32_t head, count;
    double last_time;        /* time of the newest item pushed */
} bind_fifo;

typedef struct bind_queue {
    tw_allocator alloc;
    bind_fifo *fifos;        /* one per lane */
    uint32_t lane_count;
    tw_bind_sample *heap;
    uint32_t heap_count, heap_cap;
    uint64_t size;
} bind_queue;

void bind_queue_init(bind_queue *q, const tw_allocator *alloc);
void bind_queue_fini(bind_queue *q);
tw_status bind_queue_set_lanes(bind_queue *q, uint32_t lanes);
tw_status bind_queue_push(bind_queue *q, const tw_bind_sample *s); /* s->lane < lane_count */
/* The smallest sample, or NULL when empty. */
const tw_bind_sample *bind_queue_peek(const bind_queue *q);
void bind_queue_pop(bind_queue *q, tw_bind_sample *out);

static inline bool bind_sample_before(const tw_bind_sample *a, const tw_bind_sample *b)
{
    if (a->time != b->time) return a->time < b->time;
    if (a->lane != b->lane) return a->lane < b->lane;
    return a->seq < b->seq;
}

/* ---- units (units.c) ------------------------------------------------------------------ */

/* The unit of a reflected field's unit string: NONE for NULL or "", the
 * table's id, or UNKNOWN. */
uint8_t bind_unit_of_field(const char *unit);
/* Dimension number of a unit (0 for NONE/UNKNOWN); units convert within one. */
int bind_unit_dimension(uint8_t unit);
bool bind_unit_is_ratio(uint8_t unit);

/* ---- topic patterns (binder.c) ------------------------------------------------------------- */

enum { BIND_MAX_CAPTURES = 8 };

/* Checks a pattern ('+', '#' last, '{name}' whole levels, at most
 * BIND_MAX_CAPTURES captures); false with a sentence in msg. */
bool bind_pattern_check(const char *pattern, char *msg, size_t msg_size);
/* Matches topic[0..n) against pattern; captures (pointer, length) by name order of appearance. */
bool bind_pattern_match(const char *pattern, const char *topic, size_t n, const char **cap, size_t *cap_len,
                        uint32_t *cap_count);
/* Expands "{name}" in templ with the captures of pattern; false when it does not fit. */
bool bind_pattern_expand(const char *pattern, const char *templ, const char *const *cap, const size_t *cap_len,
                         uint32_t cap_count, char *out, size_t out_size);

/* ---- binder internals shared with rules_json.c -------------------------------------------- */

/* Reader settings a bindings file may give; strings owned by the binder. */
typedef struct bind_reader_settings {
    tw_bind_source_desc desc;  /* the option fields only */
    char *strings[16];         /* owned copies the desc points into */
    uint32_t string_count;
} bind_reader_settings;

/* Settings of the bindings file that are the binder's (applied when the file loads). */
typedef struct bind_file_settings {
    bool has_window;
    double reorder_window;
    bool has_anchor;
    tw_bind_anchor anchor;
    double anchor_time;
    bool anchor_scene;
} bind_file_settings;

/* Replaces the binder's reader settings (takes the strings). */
void bind_set_reader_settings(tw_bind *b, bind_reader_settings *rs);
void bind_apply_file_settings(tw_bind *b, const bind_file_settings *fs);
/* Removes rules (and their bindings) added after the first `keep` ones. */
void bind_truncate_rules(tw_bind *b, uint32_t keep);
const tw_allocator *bind_allocator(const tw_bind *b);
tw_ecs_world *bind_world(const tw_bind *b);

#endif
