/* twin/bind_source.h: telemetry samples and the sources that read them.
 *
 * A sample is one measurement: when it was measured (Unix seconds), when it
 * arrived, which sensor (an id interned in a tw_bind_sensors table), the
 * value, and a quality flag. Sources turn bytes into samples: CSV (long form
 * time,sensor,value[,quality] or wide form with one column per sensor), JSON
 * Lines, SenML (RFC 8428) packs, from a file, standard input, a file
 * descriptor or memory. They stream: a file is read in chunks of chunk_size
 * bytes, so it may be far larger than memory, and a record split across two
 * chunks is put back together.
 *
 * Bad input never stops a source. A record that cannot be read comes out as a
 * sample of kind TW_BIND_SAMPLE_MALFORMED with the reason, is counted, and its
 * message ("file:line: what is wrong") is logged and kept (the first
 * TW_BIND_SOURCE_ERRORS_KEPT of them). Only I/O errors and running out of
 * memory end a source early.
 *
 * Reading allocates only while a source warms up (its buffer, a longer record
 * than any before, a sensor id never seen before): never per sample.
 *
 * Lifetimes: a source borrows its sensor table (which must outlive it) and,
 * for memory input, the bytes. Nothing else in a desc is retained: strings
 * are copied at open. A source is not thread-safe. */
#ifndef TWIN_BIND_SOURCE_H
#define TWIN_BIND_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twin/alloc.h"
#include "twin/log.h"
#include "twin/status.h"

/* ---- constants ---------------------------------------------------------- */

enum {
    TW_BIND_SENSOR_NAME_MAX = 256,   /* bytes of a sensor id, without the NUL */
    TW_BIND_SOURCE_ERRORS_KEPT = 8,  /* error messages a source keeps (all are counted) */
    TW_BIND_ERROR_MAX = 320          /* bytes of one kept message */
};

/* Sensor id handed out once a table is full (tw_bind_sensors_desc.max_sensors):
 * every further new name shares it. Its name is "(other)". */
#define TW_BIND_SENSOR_OTHER UINT32_MAX

/* ---- samples ------------------------------------------------------------ */

typedef enum tw_bind_sample_kind {
    TW_BIND_SAMPLE_VALUE = 0,   /* a number (which may still be NaN or Inf) */
    TW_BIND_SAMPLE_MALFORMED,   /* a record that could not be read: see reason */
    TW_BIND_SAMPLE_IGNORED      /* a well-formed record with no number (SenML vs, vb, vd, s) */
} tw_bind_sample_kind;

typedef enum tw_bind_sample_quality {
    TW_BIND_SAMPLE_GOOD = 0,
    TW_BIND_SAMPLE_UNCERTAIN,   /* applied, but the binding's quality shows it */
    TW_BIND_SAMPLE_BAD          /* rejected */
} tw_bind_sample_quality;

/* Why a sample was rejected. The first five are found by sources (kind
 * MALFORMED); the rest by the binder. */
typedef enum tw_bind_reject {
    TW_BIND_REJECT_LINE = 0,    /* the record could not be read at all (field count, JSON syntax, too long) */
    TW_BIND_REJECT_TIME,        /* missing or unreadable timestamp, or not finite */
    TW_BIND_REJECT_VALUE,       /* missing or unreadable value */
    TW_BIND_REJECT_SENSOR,      /* missing, empty or too long sensor id */
    TW_BIND_REJECT_QUALITY,     /* the source marked the sample bad, or its quality text is unknown */
    TW_BIND_REJECT_NAN,         /* the value is NaN */
    TW_BIND_REJECT_INF,         /* the value is infinite */
    TW_BIND_REJECT_RANGE,       /* outside the binding's valid range (rule: reject) */
    TW_BIND_REJECT_UNIT,        /* the sample's unit cannot be converted to the field's */
    TW_BIND_REJECT_TARGET,      /* the entity or its component is gone, or the field refused the value */
    TW_BIND_REJECT_COUNT
} tw_bind_reject;

/* Short snake_case name of a reason ("line", "nan", "range", ...). */
const char *tw_bind_reject_name(tw_bind_reject r);

/* One measurement. 48 bytes, copied by value. */
typedef struct tw_bind_sample {
    double time;        /* measured, Unix seconds (NaN for a malformed record without one) */
    double arrival;     /* wall-clock Unix seconds when it arrived (live sources); 0 for files */
    double value;
    uint32_t sensor;    /* id in the source's sensor table; 0: none (malformed records) */
    uint8_t kind;       /* tw_bind_sample_kind */
    uint8_t quality;    /* tw_bind_sample_quality */
    uint8_t reason;     /* tw_bind_reject, when kind is MALFORMED */
    uint8_t unit;       /* unit the value is in, as a tw_bind_unit id (twin/bind.h); 0: not stated */
    uint64_t seq;       /* 1, 2, ... in the order its source produced it */
    uint32_t lane;      /* set by the binder: which of its inputs it came from */
    uint32_t line;      /* line of the record in its source (saturates at UINT32_MAX) */
} tw_bind_sample;

/* ---- sensor ids ----------------------------------------------------------- */

/* Interns sensor-id strings to small integers 1, 2, ... so a sample carries
 * an id and lookups are by hash. Names are copied into the table. */
typedef struct tw_bind_sensors tw_bind_sensors;

/* Called once for every new id, right after it is interned (the binder uses
 * it to match topic patterns). A non-OK status fails the intern. */
typedef tw_status (*tw_bind_sensor_hook)(void *user, uint32_t id, const char *name, size_t length);

typedef struct tw_bind_sensors_desc {
    const tw_allocator *allocator;  /* NULL: the C library */
    uint32_t max_sensors;           /* distinct names kept; 0: 65536; later names map to TW_BIND_SENSOR_OTHER */
    tw_bind_sensor_hook on_new;     /* may be NULL */
    void *user;
} tw_bind_sensors_desc;

/* NULL when out of memory. desc may be NULL. */
tw_bind_sensors *tw_bind_sensors_new(const tw_bind_sensors_desc *desc);
void tw_bind_sensors_free(tw_bind_sensors *t);
/* The id of name[0..length), added if new. TW_ERR_NOMEM (nothing added) or the hook's status on failure. */
tw_status tw_bind_sensors_intern(tw_bind_sensors *t, const char *name, size_t length, uint32_t *id);
/* The id of name, or 0 if it was never interned. */
uint32_t tw_bind_sensors_find(const tw_bind_sensors *t, const char *name, size_t length);
/* NUL-terminated name of an id ("(other)" for TW_BIND_SENSOR_OTHER, "" for unknown ids).
 * Valid until the next intern. */
const char *tw_bind_sensors_name(const tw_bind_sensors *t, uint32_t id);
uint32_t tw_bind_sensors_count(const tw_bind_sensors *t); /* ids run 1..count */

/* ---- reading options ------------------------------------------------------ */

typedef enum tw_bind_format {
    TW_BIND_FORMAT_AUTO = 0,  /* from the file name (.csv .tsv .txt / .jsonl .ndjson / .senml .json), else the content */
    TW_BIND_FORMAT_CSV,
    TW_BIND_FORMAT_JSONL,
    TW_BIND_FORMAT_SENML
} tw_bind_format;

const char *tw_bind_format_name(tw_bind_format f); /* "auto", "csv", "jsonl", "senml" */

typedef enum tw_bind_time_format {
    TW_BIND_TIME_AUTO = 0,    /* text with a date is ISO 8601; a number is epoch, its unit found by magnitude */
    TW_BIND_TIME_ISO8601,
    TW_BIND_TIME_EPOCH_S,
    TW_BIND_TIME_EPOCH_MS,
    TW_BIND_TIME_EPOCH_US,
    TW_BIND_TIME_EPOCH_NS
} tw_bind_time_format;

typedef enum tw_bind_csv_layout {
    TW_BIND_CSV_AUTO = 0,     /* long when the header names a sensor and a value column (or there is no header) */
    TW_BIND_CSV_LONG,         /* time, sensor, value[, quality][, unit] */
    TW_BIND_CSV_WIDE          /* a time column and one column per sensor */
} tw_bind_csv_layout;

typedef enum tw_bind_csv_header {
    TW_BIND_HEADER_AUTO = 0,  /* a first record whose time field is not a time is a header */
    TW_BIND_HEADER_YES,
    TW_BIND_HEADER_NO
} tw_bind_csv_header;

typedef struct tw_bind_csv_options {
    tw_bind_csv_layout layout;
    tw_bind_csv_header header;
    char delimiter;            /* 0: the most frequent of , ; TAB | in the first record */
    bool decimal_comma;        /* "21,5" is 21.5 (then the delimiter cannot be ',') */
    bool no_comments;          /* lines starting with '#' are data, not comments */
    /* Header names (case-insensitive); NULL: the usual names (time: time,
     * timestamp, date, datetime, ts; sensor: sensor, sensor_id, id, name,
     * topic; value: value, val, v; quality: quality, q, status; unit: unit). */
    const char *time_column;
    const char *sensor_column;
    const char *value_column;
    const char *quality_column;
    const char *unit_column;
    const char *key_column;    /* wide form: sensor ids become "<key>/<column>" */
    const char *ignore_columns;/* wide form: comma-separated names that are not sensors */
} tw_bind_csv_options;

typedef struct tw_bind_json_options {
    /* Keys of a JSON Lines object; NULL: time, sensor, value, quality, unit. */
    const char *time_key;
    const char *sensor_key;
    const char *value_key;
    const char *quality_key;
    const char *unit_key;
    /* SenML times below 2^28 s are relative to "now" (RFC 8428). This is now
     * for files (Unix s); 0 leaves them as they are, which an anchor at the
     * first sample makes sensible. Live sources use the arrival time. */
    double senml_now;
} tw_bind_json_options;

typedef struct tw_bind_source_desc {
    /* Exactly one input: a path ("-" is standard input), a file descriptor
     * (use_fd), or memory (data, size; borrowed, not copied). */
    const char *path;
    bool use_fd;
    int fd;                    /* not closed by the source */
    const void *data;
    size_t size;

    const char *name;          /* in diagnostics; NULL: the path, "stdin" or "memory" */
    tw_bind_format format;
    tw_bind_time_format time_format;
    const char *sensor_prefix; /* prepended to every sensor id ("site1/") */
    tw_bind_csv_options csv;
    tw_bind_json_options json;
    size_t chunk_size;         /* bytes per read; 0: 256 KiB */
    size_t max_record;         /* longest record (line, JSON object); 0: 1 MiB */
    bool live;                 /* never block: read only what is there; arrival times from the wall clock */

    tw_bind_sensors *sensors;  /* required; borrowed */
    const tw_allocator *allocator; /* NULL: the C library */
    const tw_log *log;         /* the first errors are logged here (WARN); NULL: default stderr log */
} tw_bind_source_desc;

/* ---- sources -------------------------------------------------------------- */

typedef struct tw_bind_source tw_bind_source;

typedef enum tw_bind_source_state {
    TW_BIND_SOURCE_READY = 0,  /* more may be read now */
    TW_BIND_SOURCE_WAITING,    /* live: nothing to read right now */
    TW_BIND_SOURCE_END,        /* the input is exhausted */
    TW_BIND_SOURCE_FAILED      /* an I/O error or out of memory ended it */
} tw_bind_source_state;

typedef struct tw_bind_source_stats {
    uint64_t bytes;            /* read from the input */
    uint64_t lines;            /* lines seen (the last line number) */
    uint64_t records;          /* records read (CSV rows, JSON objects), header and comments excluded */
    uint64_t samples;          /* samples produced, every kind */
    uint64_t malformed;        /* samples of kind MALFORMED */
    uint64_t ignored;          /* samples of kind IGNORED */
    uint64_t empty_cells;      /* wide CSV cells with nothing in them (no sample) */
    uint64_t errors;           /* error messages reported (one per malformed record) */
} tw_bind_source_stats;

/* Opens the input and, unless live, reads the header so that configuration
 * errors (a missing column) show up here. TW_ERR_IO when the file cannot be
 * opened, TW_ERR_INVALID for bad options or a header that does not fit them;
 * diag says which and where. */
tw_status tw_bind_source_open(const tw_bind_source_desc *desc, tw_bind_source **out, tw_diag *diag);
void tw_bind_source_free(tw_bind_source *s);

/* Reads up to max samples into out and sets *count. TW_OK with *count == 0
 * means nothing now: look at the state (END, or WAITING when live). Non-OK
 * means the source failed and stays FAILED: TW_ERR_IO, TW_ERR_NOMEM, or
 * TW_ERR_INVALID when a live CSV's header (read on first use) does not fit
 * the options. Samples read before the failure are still in out. */
tw_status tw_bind_source_read(tw_bind_source *s, tw_bind_sample *out, uint32_t max, uint32_t *count);

tw_bind_source_state tw_bind_source_get_state(const tw_bind_source *s);
const tw_bind_source_stats *tw_bind_source_get_stats(const tw_bind_source *s);
const char *tw_bind_source_name(const tw_bind_source *s);
tw_bind_format tw_bind_source_format(const tw_bind_source *s);
tw_bind_sensors *tw_bind_source_sensors(const tw_bind_source *s);
bool tw_bind_source_is_live(const tw_bind_source *s);
/* Kept error messages, oldest first: "file:line: what is wrong". */
uint32_t tw_bind_source_error_count(const tw_bind_source *s);
const char *tw_bind_source_error(const tw_bind_source *s, uint32_t i);

/* ---- custom sources (MQTT, a replay log, a test) -------------------------- */

typedef struct tw_bind_source_vtable {
    const char *kind;   /* a short name for diagnostics ("mqtt") */
    /* Same contract as tw_bind_source_read. The implementation sets the
     * state through tw_bind_source_set_state and reports bad records with
     * tw_bind_source_report. */
    tw_status (*read)(tw_bind_source *s, void *impl, tw_bind_sample *out, uint32_t max, uint32_t *count);
    void (*destroy)(tw_bind_source *s, void *impl); /* frees impl; may be NULL */
} tw_bind_source_vtable;

/* A source whose reading is done by vt with impl. The vtable is borrowed
 * (usually static); impl is owned from now on, also on failure (then destroy
 * runs at once). */
tw_status tw_bind_source_new_custom(const tw_bind_source_vtable *vt, void *impl, const char *name, bool live,
                                    tw_bind_sensors *sensors, const tw_allocator *allocator, const tw_log *log,
                                    tw_bind_source **out);
void tw_bind_source_set_state(tw_bind_source *s, tw_bind_source_state state);
/* Counts one error and keeps/logs its message as "name:line: message" (line 0: no line). */
void tw_bind_source_report(tw_bind_source *s, uint64_t line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- MQTT (libmosquitto; docs/telemetry.md "MQTT") ------------------------ */

/* How an MQTT message's payload is read. */
typedef enum tw_bind_payload {
    TW_BIND_PAYLOAD_AUTO = 0,  /* '[' a SenML pack; '{' a JSON object (a SenML record when it has SenML keys
                                  and not the value key); else a bare number */
    TW_BIND_PAYLOAD_NUMBER,    /* "21.5" (also true/false): the topic is the sensor, measured at arrival */
    TW_BIND_PAYLOAD_JSON,      /* {"time": ..., "sensor": ..., "value": ...}: keys as in tw_bind_json_options;
                                  no sensor: the topic; no time: the arrival */
    TW_BIND_PAYLOAD_SENML      /* a SenML pack or one record; relative times from the arrival; no name: the topic */
} tw_bind_payload;

const char *tw_bind_payload_name(tw_bind_payload p); /* "auto", "number", "json", "senml" */

/* Options of an MQTT source; zero fields mean defaults, nothing is retained.
 * Fields left zero may also come from the URL's query (see tw_bind_mqtt_open). */
typedef struct tw_bind_mqtt_options {
    const char *const *topics;   /* topic filters besides the URL's; may be NULL */
    uint32_t topic_count;
    int qos;                     /* 0 or 1 (subscription QoS) */
    /* A persistent session (clean_session off): the broker keeps the
     * subscription, and queues QoS 1 messages while the client is away, under
     * a fixed client_id. */
    bool persistent;
    const char *client_id;       /* NULL: "twin-<pid>-<n>" (random; a persistent session needs a fixed one) */
    const char *username;        /* NULL: the URL's, else none */
    const char *password;
    bool tls;                    /* also implied by mqtts:// */
    const char *ca_file;         /* PEM CA certificate(s) the broker's certificate must chain to */
    const char *ca_path;         /* or a directory of them; neither: the system's CA store */
    const char *cert_file;       /* client certificate and key (PEM), both or neither */
    const char *key_file;
    bool tls_insecure;           /* skip the check that the certificate names the host: for tests only */
    double keepalive;            /* s; 0: 30 */
    double reconnect_min;        /* s before the first retry, doubled after each failure; 0: 0.5 */
    double reconnect_max;        /* s, the longest wait between retries; 0: 30 */
    double connect_wait;         /* s tw_bind_mqtt_open waits until connected and subscribed; 0: it does not wait */
    uint32_t queue_messages;     /* receive queue bound, in messages; 0: 65536 (more are dropped, counted) */
    size_t queue_bytes;          /* and in bytes of topics + payloads; 0: 16 MiB */
    size_t max_payload;          /* larger messages are dropped and counted; 0: 1 MiB */
    tw_bind_payload payload;
} tw_bind_mqtt_options;

typedef enum tw_bind_mqtt_state {
    TW_BIND_MQTT_CONNECTING = 0, /* never connected yet: an attempt is under way or waiting (attempt, next_in) */
    TW_BIND_MQTT_CONNECTED,
    TW_BIND_MQTT_RECONNECTING,   /* the connection was lost: retrying with backoff (attempt, next_in) */
    TW_BIND_MQTT_REFUSED,        /* the broker refused the login (credentials, client id): no more retries */
    TW_BIND_MQTT_STOPPED
} tw_bind_mqtt_state;

const char *tw_bind_mqtt_state_name(tw_bind_mqtt_state s); /* "connecting", "connected", ... */

/* What an MQTT source's connection and receive queue are doing. */
typedef struct tw_bind_mqtt_status {
    tw_bind_mqtt_state state;
    uint32_t attempt;            /* connection attempts since the last success (1 while the first is under way) */
    double next_in;              /* s until the next attempt; 0 while one is under way or when connected */
    uint64_t connects;           /* successful connections */
    uint64_t reconnects;         /* successful connections after the first */
    uint64_t failed_attempts;    /* attempts that did not connect */
    uint64_t disconnects;        /* established connections that were lost */
    bool session_present;        /* the broker resumed a persistent session at the last connection */
    uint64_t messages;           /* messages received from the broker */
    uint64_t bytes;              /* of their payloads */
    uint64_t dropped_overflow;   /* dropped: the receive queue was full (the loop did not drain it in time) */
    uint64_t dropped_oversize;   /* dropped: payload larger than max_payload */
    uint64_t queued;             /* messages waiting in the receive queue now */
    uint64_t queue_peak;         /* the most that ever waited */
    uint64_t subscribe_refused;  /* topic filters the broker refused */
    char error[TW_BIND_ERROR_MAX]; /* the last connection problem ("" if none) */
} tw_bind_mqtt_status;

/* Opens an MQTT source and starts its network thread, which connects,
 * subscribes, and reconnects with exponential backoff for as long as the
 * source lives; reading never blocks (a source with no broker is WAITING).
 *
 *   url: mqtt://[user[:password]@]host[:port][/topic-filter][?key=value&...]
 *        mqtts:// for TLS; ports 1883 / 8883 by default; no filter and no
 *        opt->topics: "#". Query keys (used where opt leaves a field zero):
 *        topic (more filters), qos, client_id, clean (false: persistent),
 *        keepalive, payload (auto, number, json, senml), ca, capath, cert,
 *        key, insecure. Percent escapes are decoded ("%23" is '#').
 *   reader: the sensor table (required), allocator, log, name, sensor_prefix,
 *        time_format and json keys (tw_bind_reader_defaults gives a binder's);
 *        its input fields are ignored. A reader format of jsonl or senml
 *        chooses the payload when neither opt nor the URL does.
 *
 * TW_ERR_INVALID for a bad URL or option (diag says which); with
 * connect_wait, TW_ERR_IO when the broker refuses the login or cannot be
 * reached in that time. Messages are decoded when read, on the caller's
 * thread; the network thread only queues them (bounded: see the options). */
tw_status tw_bind_mqtt_open(const char *url, const tw_bind_mqtt_options *opt, const tw_bind_source_desc *reader,
                            tw_bind_source **out, tw_diag *diag);

/* The connection and queue state of an MQTT source; false (and *out
 * untouched) when s is not one. Safe while the network thread runs. */
bool tw_bind_mqtt_status_get(const tw_bind_source *s, tw_bind_mqtt_status *out);
/* One line for a HUD or log: "connected", "connecting (attempt 1)",
 * "reconnecting (attempt 3, next in 2.0 s): Connection refused", "refused: ...".
 * Returns the length snprintf would give. */
int tw_bind_mqtt_status_format(const tw_bind_mqtt_status *st, char *buf, size_t size);

#endif
