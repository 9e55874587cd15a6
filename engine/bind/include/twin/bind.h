/* twin/bind.h: telemetry onto entity state (docs/telemetry.md).
 *
 * A tw_bind (a binder) maps sensor samples onto reflected fields of entities
 * in one world. Rules (tw_bind_rule, or a twin-bindings/1 JSON file) name a
 * sensor id or an MQTT-style topic pattern with captures, an entity path, a
 * field ("Thermal.temperature"), and how to get there: unit conversion,
 * scale and offset, a valid range (reject or clamp), a deadband, exponential
 * smoothing, and a mode (set the field, nudge it toward the measurement, or
 * only observe beside it).
 *
 * Samples come from sources (twin/bind_source.h) the binder owns, or are
 * pushed. They wait in an input queue ordered by measured time: samples up to
 * reorder_window seconds out of order are still applied in order; older ones
 * are dropped as late, exact duplicates (same sensor, same time) are dropped,
 * samples of unknown sensors are counted. Simulated time t maps onto measured
 * time through an anchor: measured = anchor + t. The anchor is fixed (the
 * scene's start) or the earliest of the first samples.
 *
 * Per tick, the fixed-step loop calls tw_bind_apply_until(b, world, t) before
 * the systems run: it reads file sources just far enough ahead, applies every
 * queued sample measured at or before anchor + t, and updates staleness. What
 * gets applied depends only on measured times and the order of samples within
 * each input, never on the wall clock or the tick length, so a run is
 * repeatable bit for bit.
 *
 * Every sample is counted exactly once:
 *   received == applied + rejected + late + duplicate + unknown_sensor + ignored + pending.
 *
 * The binder borrows the world it was made for (entities and fields are
 * resolved against it once); apply_until may be given that world or a copy
 * with the same entities (a what-if fork). No globals; not thread-safe. */
#ifndef TWIN_BIND_H
#define TWIN_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "twin/bind_source.h"
#include "twin/ecs.h"

#define TW_BIND_FORMAT_NAME "twin-bindings/1"

/* ---- units ------------------------------------------------------------------ */

/* Unit ids (a tw_bind_sample carries one in its unit byte). 0 means not
 * stated; TW_BIND_UNIT_UNKNOWN a name the table does not know. Units of one
 * dimension convert to each other: temperature (K, degC, degF), power (W, kW,
 * MW), energy (J, kJ, MJ, Wh, kWh, MWh), ratio (1, %, ppm, ppb, ...), time,
 * length, area, volume, flow, pressure, speed, illuminance. */
enum { TW_BIND_UNIT_NONE = 0, TW_BIND_UNIT_UNKNOWN = 255 };

/* Unit id of a name ("degC", "Cel", "kWh", "%RH", ...), TW_BIND_UNIT_UNKNOWN if unknown. */
uint8_t tw_bind_unit_lookup(const char *name, size_t length);
const char *tw_bind_unit_name(uint8_t unit); /* canonical name; "" for NONE, "?" for UNKNOWN */
/* to = from * scale + offset. False (and 1, 0) when the units do not convert. */
bool tw_bind_unit_conversion(uint8_t from, uint8_t to, double *scale, double *offset);
/* Converts value between two named units; false when either is unknown or they do not convert. */
bool tw_bind_unit_convert(double value, const char *from, const char *to, double *out);

/* ---- rules -------------------------------------------------------------------- */

typedef enum tw_bind_mode {
    TW_BIND_SET = 0,          /* the field takes the measurement */
    TW_BIND_ASSIMILATE,       /* field += gain * (measurement - field); the residual is kept */
    TW_BIND_OBSERVE           /* the field is untouched; the measurement is kept beside it */
} tw_bind_mode;

typedef enum tw_bind_range_action {
    TW_BIND_RANGE_REJECT = 0, /* a value outside the range is rejected */
    TW_BIND_RANGE_CLAMP       /* it is clamped to the range (and the quality becomes uncertain) */
} tw_bind_range_action;

typedef enum tw_bind_quality {
    TW_BIND_QUALITY_NONE = 0, /* no data yet */
    TW_BIND_QUALITY_GOOD,
    TW_BIND_QUALITY_UNCERTAIN,/* the last value was clamped or came marked uncertain */
    TW_BIND_QUALITY_STALE     /* no data for stale_after seconds */
} tw_bind_quality;

const char *tw_bind_mode_name(tw_bind_mode m);       /* "set", "assimilate", "observe" */
const char *tw_bind_quality_name(tw_bind_quality q); /* "none", "good", "uncertain", "stale" */

/* One binding rule; zero fields mean defaults. Nothing is retained. */
typedef struct tw_bind_rule {
    /* Exactly one of sensor and topic. A topic pattern has levels split by
     * '/': "+" matches one level, "{name}" matches one level and captures it,
     * "#" (last) matches the rest. The entity path may use the captures:
     * topic "site/+/room/{room}/temp" with entity "hq/floor-1/{room}". */
    const char *sensor;
    const char *topic;
    const char *entity;       /* entity path ("hq/floor-1/room-101") */
    const char *field;        /* numeric reflected field: "Thermal.temperature", "Shape.size[2]" */
    const char *unit;         /* the measurement's unit; NULL: the field's (no conversion) */
    double scale;             /* value * scale + offset, before unit conversion; 0: 1 */
    double offset;
    /* Valid range in the field's unit (after conversion); use +-INFINITY for
     * one side. Only checked when has_range. */
    bool has_range;
    double range_min, range_max;
    tw_bind_range_action out_of_range;
    double deadband;          /* field unit: changes smaller than this are not written; 0: off */
    /* Exponential smoothing: s += a * (x - s). Either a fixed weight
     * smoothing_alpha in (0, 1], or a time constant smoothing_tau (s), for
     * which a = 1 - exp(-dt / tau) with dt the time since the last sample. */
    double smoothing_alpha;
    double smoothing_tau;
    tw_bind_mode mode;
    double gain;              /* assimilate: weight of the measurement in (0, 1]; 0: 0.25 */
    double stale_after;       /* s without data until the binding is stale; 0: never */
} tw_bind_rule;

/* ---- the binder ------------------------------------------------------------------ */

typedef struct tw_bind tw_bind;

typedef enum tw_bind_anchor {
    TW_BIND_ANCHOR_FIRST_SAMPLE = 0, /* the earliest of the first samples of every file source */
    TW_BIND_ANCHOR_FIXED             /* anchor_time (e.g. the scene's simulation.start) */
} tw_bind_anchor;

typedef struct tw_bind_desc {
    const tw_allocator *allocator;   /* NULL: the world's */
    const tw_log *log;               /* NULL: default stderr log */
    double reorder_window;           /* s; samples up to this much out of order are applied in order; 0: none */
    tw_bind_anchor anchor;
    double anchor_time;              /* Unix s, used with TW_BIND_ANCHOR_FIXED */
    double scene_start;              /* Unix s that a bindings file's "anchor": "scene" means */
    uint32_t max_sensors;            /* distinct sensor ids kept, bound and unknown; 0: 65536 */
    bool keep_applied;               /* keep each apply_until's samples for tw_bind_applied (a recorder) */
} tw_bind_desc;

/* Counters of everything that happened to samples. */
typedef struct tw_bind_counters {
    uint64_t received;        /* samples read or pushed, malformed records included */
    uint64_t applied;         /* accepted by at least one binding */
    uint64_t rejected;        /* the sum of rejected_by */
    uint64_t late;            /* older than the reorder window allows */
    uint64_t duplicate;       /* same sensor and same time as a sample already taken */
    uint64_t unknown_sensor;  /* no binding for the sensor */
    uint64_t ignored;         /* well-formed records without a number */
    uint64_t pending;         /* queued, not applied yet */
    uint64_t stale_fields;    /* bindings stale now */
    uint64_t stale_events;    /* times a binding turned stale */
    uint64_t rejected_by[TW_BIND_REJECT_COUNT];
    uint64_t clamped;         /* applied after clamping */
    uint64_t deadband_held;   /* applied, but within the deadband: the field was not written */
    uint64_t uncertain;       /* applied samples marked uncertain by their source */
    uint64_t late_window;     /* late: more than the window behind the newest sample of its input */
    uint64_t late_applied;    /* late: its tick had already been applied (live inputs) */
    uint64_t duplicate_conflict; /* duplicates whose value differed from the sample taken */
    uint64_t unresolved_sensors; /* sensors matching a topic pattern whose entity does not exist */
} tw_bind_counters;

typedef struct tw_bind_sensor_count {
    const char *sensor;       /* valid until the next read or push */
    uint64_t count;
} tw_bind_sensor_count;

/* What one resolved binding (a rule applied to one sensor) is doing. */
typedef struct tw_bind_binding_info {
    const char *sensor;       /* strings valid while the binder lives (sensor: until the next read) */
    const char *field;        /* "Thermal.temperature" */
    uint32_t rule;            /* index of its rule */
    tw_entity entity;
    tw_bind_mode mode;
    tw_bind_quality quality;
    double last_time;         /* Unix s of the last accepted sample; NaN: none */
    double last_value;        /* the last accepted value in the field's unit, after smoothing */
    uint64_t applied, rejected, clamped, held;
    uint64_t residual_count;  /* assimilate and observe: measurement - simulated value */
    double residual_last, residual_mean, residual_rms;
} tw_bind_binding_info;

/* ---- setup ------------------------------------------------------------------------------ */

/* A binder for w (borrowed; it must outlive the binder). desc may be NULL. */
tw_status tw_bind_new(tw_ecs_world *w, const tw_bind_desc *desc, tw_bind **out, tw_diag *diag);
/* Frees the binder and every source it owns. */
void tw_bind_free(tw_bind *b);

/* Adds a rule. A sensor rule's entity and field are resolved now; a topic
 * rule's field now and its entity per matching sensor. TW_ERR_NOT_FOUND (unknown
 * entity, component or field, with a "did you mean"), TW_ERR_INVALID (both or
 * neither of sensor and topic, a bad pattern, a unit that does not convert to
 * the field's, a bad parameter). */
tw_status tw_bind_add_rule(tw_bind *b, const tw_bind_rule *rule, tw_diag *diag);

/* Reads a twin-bindings/1 file (or the "bindings" member of a twin-scene/1
 * file): its rules, and the reader and queue settings it gives. Errors name
 * file:line:column and the JSON path. On failure no rule of the file is kept. */
tw_status tw_bind_load_file(tw_bind *b, const char *path, tw_diag *diag);
tw_status tw_bind_load_text(tw_bind *b, const char *text, size_t length, const char *filename, tw_diag *diag);

uint32_t tw_bind_rule_count(const tw_bind *b);
/* The rule as added (strings owned by the binder); NULL past the end. */
const tw_bind_rule *tw_bind_rule_get(const tw_bind *b, uint32_t i);

/* ---- inputs -------------------------------------------------------------------------------- */

/* Reading options from the bindings file (or zeros), with the binder's
 * sensor table, allocator and log filled in: set the input and open it. */
tw_bind_source_desc tw_bind_reader_defaults(const tw_bind *b);
tw_bind_sensors *tw_bind_get_sensors(tw_bind *b);

/* Adds a source (opened with this binder's sensor table). The binder owns it
 * from now on, also when this fails. Inputs are numbered 1, 2, ... in the order added. */
tw_status tw_bind_add_source(tw_bind *b, tw_bind_source *src);
/* Opens path ("-": standard input) with tw_bind_reader_defaults and adds it. */
tw_status tw_bind_open(tw_bind *b, const char *path, tw_diag *diag);

/* Opens an MQTT source (tw_bind_mqtt_open, twin/bind_source.h) with
 * tw_bind_reader_defaults and adds it as a live input. opt may be NULL. Live
 * samples measured at or before a tick already applied are dropped as late
 * (late_applied): a loop following the wall clock should apply a little
 * behind it (docs/telemetry.md "MQTT"). */
tw_status tw_bind_open_mqtt(tw_bind *b, const char *url, const tw_bind_mqtt_options *opt, tw_diag *diag);

/* Samples from the caller (a replay, a callback): input 0, in the order given. */
tw_status tw_bind_push(tw_bind *b, const tw_bind_sample *samples, uint32_t count);

/* Fixes the anchor now if it is not fixed yet (reading the first samples of
 * every file source) and returns it; NaN when there is no sample at all and no
 * fixed anchor. Call it before making the simulation, whose start time should
 * then be the anchor. apply_until calls it on first use. */
tw_status tw_bind_prime(tw_bind *b, double *anchor);

/* ---- per tick ----------------------------------------------------------------------------- */

/* Applies every queued sample measured at or before anchor + t_sim, in order
 * of measured time, to w, after reading file sources far enough ahead (to
 * anchor + t_sim + reorder_window) and live sources as far as they have data;
 * then updates staleness at that time. Bad samples are counted, never an
 * error: non-OK only when a source fails (TW_ERR_IO, TW_ERR_NOMEM; the run
 * can go on without it). */
tw_status tw_bind_apply_until(tw_bind *b, tw_ecs_world *w, double t_sim);

/* True when every source has ended and nothing is queued: the data is over. */
bool tw_bind_finished(const tw_bind *b);

/* ---- queries -------------------------------------------------------------------------------- */

double tw_bind_anchor_time(const tw_bind *b);     /* NaN until fixed */
/* Latest measured time seen in any input, as simulated time (minus the anchor); NaN: none. */
double tw_bind_data_end(const tw_bind *b);
const tw_bind_counters *tw_bind_get_counters(const tw_bind *b);
/* Unknown sensors, most frequent first (ties by name); returns how many there are in all. */
uint32_t tw_bind_unknown_sensors(const tw_bind *b, tw_bind_sensor_count *out, uint32_t max);
uint32_t tw_bind_binding_count(const tw_bind *b);
bool tw_bind_binding_get(const tw_bind *b, uint32_t i, tw_bind_binding_info *out);
/* Worst quality of e's bindings (stale > uncertain > good; none when it has no
 * binding or no data yet). O(bindings). */
tw_bind_quality tw_bind_entity_quality(const tw_bind *b, tw_entity e);
uint32_t tw_bind_source_count(const tw_bind *b);
tw_bind_source *tw_bind_source_at(const tw_bind *b, uint32_t i); /* 0-based */
/* With keep_applied: the samples the last apply_until took from the queue, in
 * the order applied (duplicates included); valid until the next call. */
const tw_bind_sample *tw_bind_applied(const tw_bind *b, uint32_t *count);

/* Writes the counters, unknown sensors, sources (with their kept errors) and
 * bindings (quality, residuals) as one JSON object: the "telemetry" member of
 * summary.json. indent is the indentation of the object's own lines. */
tw_status tw_bind_write_json(const tw_bind *b, FILE *f, int indent);

/* Writes an MQTT source's status (tw_bind_mqtt_status) as one JSON object,
 * for summary.json beside the "telemetry" counters; TW_ERR_INVALID when s is
 * not an MQTT source. */
tw_status tw_bind_mqtt_write_json(const tw_bind_source *s, FILE *f, int indent);

#endif
