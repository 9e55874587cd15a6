/* twin/replay.h: run logs (*.twlog): recording, reading, replay with seek.
 *
 * A log holds what a run cannot re-derive: its identity (the scene's hash,
 * dt, seed, start time, the component layout), every input as it was applied
 * (telemetry samples, user and what-if commands) with its tick, alarm events,
 * and every keyframe_interval of simulated time a keyframe: the whole world
 * (an ECS snapshot) plus the sim's own state. Seeking restores the latest
 * keyframe at or before the target and plays the recorded inputs from there,
 * so its cost is bounded by the keyframe interval, not the log's length.
 * docs/log-format.md describes the file byte by byte; docs/replay.md its use.
 *
 * Lifetimes. The recorder owns its file and buffer until close. A tw_replay_log
 * (reader) owns its file handle, index and sensor table; records it hands out
 * point into its read buffer and stay valid until the next call on that log.
 * The player borrows a log (which must outlive it) and owns the world and sim
 * it replays into; both are replaced by a seek that goes backwards or far, so
 * re-read tw_replay_player_world/sim after every seek. No globals; none of
 * these objects is thread-safe. */
#ifndef TWIN_REPLAY_H
#define TWIN_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "twin/ecs.h"
#include "twin/log.h"
#include "twin/scene.h"
#include "twin/sim.h"

/* ---- format constants ------------------------------------------------------- */

#define TW_REPLAY_MAGIC "TWLOG\r\n\x1a" /* 8 bytes, the file's first */
#define TW_REPLAY_FORMAT_VERSION 1u

enum {
    TW_REPLAY_MAX_RECORD = 1u << 30,     /* payload bytes a record may declare */
    TW_REPLAY_SENSOR_MAX = 256,          /* bytes of a sensor id */
    TW_REPLAY_FIELD_MAX = 128,           /* bytes of a "Component.field[i]" reference */
    TW_REPLAY_MAX_SECTIONS = 8           /* sections in one keyframe */
};

typedef enum tw_replay_record_type {
    TW_REPLAY_REC_HEADER = 1,   /* the run's identity; always the first record */
    TW_REPLAY_REC_SENSOR = 2,   /* interns a sensor id: number -> text */
    TW_REPLAY_REC_INPUT = 3,    /* telemetry samples applied at one tick */
    TW_REPLAY_REC_COMMAND = 4,  /* a user or what-if command applied at a tick */
    TW_REPLAY_REC_KEYFRAME = 5, /* the whole state at a tick */
    TW_REPLAY_REC_EVENT = 6,    /* an alarm transition (for timelines; replay re-derives them) */
    TW_REPLAY_REC_SYNC = 7,     /* "the run reached this tick": written at every flush */
    TW_REPLAY_REC_INDEX = 8,    /* keyframe ticks and offsets, sensors, counts: at close */
    TW_REPLAY_REC_END = 9,      /* clean close; points at the index */
    TW_REPLAY_REC_TYPE_COUNT
} tw_replay_record_type;

const char *tw_replay_record_type_name(uint32_t type); /* "input", ...; "unknown" */

/* Keyframe section tags (four ASCII bytes, little-endian). */
#define TW_REPLAY_SECTION_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TW_REPLAY_SECTION_ECS TW_REPLAY_SECTION_TAG('E', 'C', 'S', ' ')
#define TW_REPLAY_SECTION_SIM TW_REPLAY_SECTION_TAG('S', 'I', 'M', ' ')
/* The ECS snapshot with its zero runs squeezed (what the recorder writes:
 * component structs are mostly zeros, so keyframes shrink about 3x). */
#define TW_REPLAY_SECTION_ECS_RLE TW_REPLAY_SECTION_TAG('E', 'C', 'S', 'R')

/* ---- plain data ------------------------------------------------------------------ */

/* Who the log belongs to. */
typedef struct tw_replay_header {
    uint32_t format_version;
    uint64_t scene_hash;          /* tw_replay_scene_hash of the scene as loaded */
    char scene_name[TW_ECS_NAME_MAX];
    uint64_t layout_fingerprint;  /* tw_ecs_layout_fingerprint of the recording world */
    double dt;
    uint64_t seed;
    double start_time;            /* Unix s of tick 0 */
    uint32_t keyframe_every;      /* ticks between keyframes (and physics rebuilds) */
    double created;               /* wall-clock Unix s the recording began (informational) */
    char writer[32];              /* "twin 0.1.0" */
} tw_replay_header;

/* A telemetry sample as applied. */
typedef struct tw_replay_sample {
    double time;                  /* measured, Unix seconds */
    double value;
    const char *sensor;           /* the sensor id text (recorder: interned when sensor_id is 0) */
    uint32_t sensor_id;           /* the log's number for it, 1.. (reader fills it) */
    uint8_t quality;              /* tw_bind_sample_quality: 0 good */
    uint8_t unit;                 /* tw_bind unit id the value was in; 0 none */
} tw_replay_sample;

typedef enum tw_replay_command_op {
    TW_REPLAY_CMD_SET = 1,        /* entity's field = value (numeric scalars: bool, enum, int, float) */
    TW_REPLAY_CMD_DESTROY = 2     /* destroy entity and its children */
} tw_replay_command_op;

typedef struct tw_replay_command {
    tw_replay_command_op op;
    char entity[TW_ECS_PATH_MAX]; /* path, "hq/floor-1/door-3" */
    char field[TW_REPLAY_FIELD_MAX]; /* "Door.open", "Shape.size[2]"; "" for DESTROY */
    double value;
} tw_replay_command;

/* A section of a keyframe beyond the ECS and sim ones (another module's
 * state, such as the telemetry binder's filters). */
typedef struct tw_replay_section {
    uint32_t tag;
    const void *data;
    size_t size;
} tw_replay_section;

/* ---- identity ------------------------------------------------------------------ */

/* Hash of the scene's canonical text (tw_scene_save_text) of w as loaded,
 * before any tick. A log replays only against a scene with the same hash. */
tw_status tw_replay_scene_hash(const tw_ecs_world *w, const tw_scene *scene, uint64_t *out, tw_diag *diag);
/* Fills h from a sim about to run: dt, seed, start time, keyframe_every (the
 * sim's rebuild_every; 0 is refused later), the world's layout fingerprint. */
void tw_replay_header_init(tw_replay_header *h, const tw_sim *sim, uint64_t scene_hash, const char *scene_name);

/* Applies a command to w now. TW_ERR_NOT_FOUND (entity, field) or
 * TW_ERR_INVALID (a non-numeric field, the entity lacks the component), with
 * the reason in diag. */
tw_status tw_replay_command_apply(tw_ecs_world *w, const tw_replay_command *cmd, tw_diag *diag);

/* ---- recording --------------------------------------------------------------- */

typedef struct tw_replay_recorder tw_replay_recorder;

typedef struct tw_replay_recorder_desc {
    const char *path;             /* created or truncated */
    const tw_replay_header *header;
    const tw_allocator *allocator;/* NULL: the C library */
    const tw_log *log;
    double flush_interval;        /* wall seconds between flushes at most; 0: 1 */
    size_t flush_bytes;           /* flush once this much is buffered; 0: 4 MiB */
    int sync;                     /* fdatasync after every flush (slower, survives power loss) */
} tw_replay_recorder_desc;

typedef struct tw_replay_recorder_stats {
    uint64_t bytes;               /* written to the file so far */
    uint64_t records[TW_REPLAY_REC_TYPE_COUNT];
    uint64_t samples;
    uint64_t flushes;
    double flush_max_s;           /* longest flush (write + optional sync) */
    double flush_total_s;
} tw_replay_recorder_stats;

/* Creates the file and writes (and flushes) its header. */
tw_status tw_replay_recorder_open(const tw_replay_recorder_desc *desc, tw_replay_recorder **out, tw_diag *diag);
/* Records a sample applied at tick. Ticks never go backwards. */
tw_status tw_replay_recorder_input(tw_replay_recorder *r, uint64_t tick, const tw_replay_sample *sample);
/* The log's number for a sensor id (interning it), for callers that record by number. */
tw_status tw_replay_recorder_sensor(tw_replay_recorder *r, const char *sensor, uint32_t *id);
tw_status tw_replay_recorder_command(tw_replay_recorder *r, uint64_t tick, const tw_replay_command *cmd);
tw_status tw_replay_recorder_event(tw_replay_recorder *r, uint64_t tick, const tw_sim_event *ev);
/* Writes a keyframe of sim (its world and state, at its current tick), plus
 * extra sections, then flushes. Call between ticks, before that tick's inputs. */
tw_status tw_replay_recorder_keyframe(tw_replay_recorder *r, const tw_sim *sim, const tw_replay_section *extra,
                                      uint32_t extra_count);
/* Once per tick after the step: flushes when the buffer or the wall-clock
 * interval says so. Cheap otherwise. */
tw_status tw_replay_recorder_tick(tw_replay_recorder *r, uint64_t tick);
/* Writes out everything buffered, with a SYNC record for tick. */
tw_status tw_replay_recorder_flush(tw_replay_recorder *r, uint64_t tick);
void tw_replay_recorder_get_stats(const tw_replay_recorder *r, tw_replay_recorder_stats *out);
/* Writes the index and the end record, flushes and frees r (also after an
 * error, then returning it). end_tick: the tick the run stopped at. */
tw_status tw_replay_recorder_close(tw_replay_recorder *r, uint64_t end_tick, tw_diag *diag);

/* ---- reading ------------------------------------------------------------------ */

typedef struct tw_replay_log tw_replay_log;

typedef enum tw_replay_integrity {
    TW_REPLAY_INTACT = 0,         /* every record whole and checked, closed cleanly */
    TW_REPLAY_UNCLOSED,           /* every record whole, but no index/end: the run did not close it */
    TW_REPLAY_TORN_TAIL,          /* the last record is cut short (a crash mid-write) */
    TW_REPLAY_CORRUPT             /* a record fails its CRC or makes no sense */
} tw_replay_integrity;

const char *tw_replay_integrity_name(tw_replay_integrity i); /* "ok", "unclosed", "torn tail", "corrupt" */

typedef struct tw_replay_log_info {
    uint64_t file_size;
    uint64_t valid_size;          /* bytes up to the end of the last whole, good record */
    uint64_t dropped_bytes;       /* file_size - valid_size */
    tw_replay_integrity integrity;
    uint64_t bad_offset;          /* where the torn or corrupt record starts */
    char problem[160];            /* what is wrong there, "" when intact */
    int scanned;                  /* 1: every record was read and checked; 0: the index was trusted */
    int indexed;                  /* the log has an INDEX record (closed cleanly) */
    uint64_t first_tick, last_tick; /* span of ticks seen (inputs, keyframes, syncs, end) */
    uint64_t end_tick;            /* the END record's tick, or last_tick */
    uint64_t records[TW_REPLAY_REC_TYPE_COUNT];
    uint64_t samples;
} tw_replay_log_info;

typedef struct tw_replay_log_desc {
    const tw_allocator *allocator;/* NULL: the C library */
    int verify;                   /* read and check every record even when the log has an index */
} tw_replay_log_desc;

/* Opens a log: header, then the index at the end (or, for a log that was not
 * closed or with verify, a scan of every record that stops at the first torn
 * or corrupt one: info tells how many bytes were dropped). Fails only when
 * not even a whole header can be read, or for a log of another format
 * version (TW_ERR_UNSUPPORTED). */
tw_status tw_replay_log_open(const char *path, const tw_replay_log_desc *desc, tw_replay_log **out, tw_diag *diag);
/* The same over bytes in memory (borrowed; they must outlive the log). */
tw_status tw_replay_log_open_memory(const void *data, size_t size, const tw_replay_log_desc *desc,
                                    tw_replay_log **out, tw_diag *diag);
void tw_replay_log_close(tw_replay_log *log);

const tw_replay_header *tw_replay_log_header(const tw_replay_log *log);
const tw_replay_log_info *tw_replay_log_get_info(const tw_replay_log *log);
/* Checks the log belongs to this scene and build: the scene hash and the
 * world's component layout. TW_ERR_INVALID with a sentence in diag. */
tw_status tw_replay_log_check(const tw_replay_log *log, uint64_t scene_hash, const tw_ecs_world *w, tw_diag *diag);

uint32_t tw_replay_log_sensor_count(const tw_replay_log *log);
const char *tw_replay_log_sensor_name(const tw_replay_log *log, uint32_t id); /* NULL when unknown */
uint32_t tw_replay_log_keyframe_count(const tw_replay_log *log);
/* Tick and file offset of keyframe i (0..count-1, in tick order). */
void tw_replay_log_keyframe_at(const tw_replay_log *log, uint32_t i, uint64_t *tick, uint64_t *offset);
/* Index of the latest keyframe at or before tick; -1 when there is none. */
int64_t tw_replay_log_keyframe_find(const tw_replay_log *log, uint64_t tick);

/* The alarm timeline (EVENT records, from the index or the scan), in tick
 * order: for a viewer's "next / previous alarm". */
uint32_t tw_replay_log_event_count(const tw_replay_log *log);
void tw_replay_log_event_at(const tw_replay_log *log, uint32_t i, uint64_t *tick, tw_sim_event *ev);
/* Index of the first event after tick, or the count when none: the latest
 * event at or before tick is that index minus 1. */
uint32_t tw_replay_log_event_after(const tw_replay_log *log, uint64_t tick);

/* One record. payload points into the log's buffer: valid until the next call on the log. */
typedef struct tw_replay_record {
    uint32_t type;
    uint64_t offset;              /* of the record's first byte (its length field) */
    uint32_t size;                /* payload bytes */
    const unsigned char *payload;
    uint64_t tick;                /* input, command, keyframe, event, sync, end: their tick; else 0 */
    int has_tick;
} tw_replay_record;

/* Positions the cursor at a record's offset (the first record: tw_replay_log_first). */
void tw_replay_log_rewind(tw_replay_log *log, uint64_t offset);
uint64_t tw_replay_log_first(const tw_replay_log *log);
/* Reads the record at the cursor and moves past it. TW_ERR_NOT_FOUND at the
 * end of the valid part; TW_ERR_INVALID (diag says why) for a record that
 * fails its check there (possible only when the index was trusted). */
tw_status tw_replay_log_next(tw_replay_log *log, tw_replay_record *rec, tw_diag *diag);

/* Samples of an INPUT record, one by one. */
typedef struct tw_replay_input_iter {
    const tw_replay_log *log;
    const unsigned char *p, *end;
    uint32_t left;
    double time;
    int have_time;
} tw_replay_input_iter;

tw_status tw_replay_input_begin(const tw_replay_log *log, const tw_replay_record *rec, tw_replay_input_iter *it);
/* 1 and *out filled (out->sensor points into the log's sensor table), 0 at
 * the end, -1 when the record is malformed. */
int tw_replay_input_next(tw_replay_input_iter *it, tw_replay_sample *out);

tw_status tw_replay_command_decode(const tw_replay_record *rec, tw_replay_command *out);
tw_status tw_replay_event_decode(const tw_replay_record *rec, tw_sim_event *out);

typedef struct tw_replay_keyframe {
    uint64_t tick;
    uint64_t state_hash;          /* tw_sim_state_hash when it was taken */
    tw_sim_state sim;
    uint32_t section_count;
    tw_replay_section sections[TW_REPLAY_MAX_SECTIONS]; /* data points into the record */
} tw_replay_keyframe;

tw_status tw_replay_keyframe_decode(const tw_replay_record *rec, tw_replay_keyframe *out);
/* The section with this tag, or NULL. */
const tw_replay_section *tw_replay_keyframe_section(const tw_replay_keyframe *kf, uint32_t tag);
/* The keyframe's ECS snapshot bytes: the "ECS " section as it is, or the
 * "ECSR" one expanded into *scratch (grown with allocator; the caller frees
 * it with tw_free(allocator, *scratch, *scratch_cap)). TW_ERR_INVALID for a
 * malformed section, TW_ERR_NOMEM. */
tw_status tw_replay_keyframe_ecs(const tw_replay_keyframe *kf, const tw_allocator *allocator, void **scratch,
                                 size_t *scratch_cap, const void **data, size_t *size);

/* ---- repair ------------------------------------------------------------------------ */

typedef struct tw_replay_repair_result {
    uint64_t kept_bytes;
    uint64_t dropped_bytes;
    int was_intact;               /* nothing to do */
    int indexed;                  /* an index and end record were written */
} tw_replay_repair_result;

/* Cuts the log at the end of its last whole record and closes it properly
 * (index and end record), writing a temporary file beside it and renaming it
 * over the original: a crash during repair leaves the original. */
tw_status tw_replay_log_repair(const char *path, const tw_allocator *allocator, tw_replay_repair_result *result,
                               tw_diag *diag);

/* ---- playing ------------------------------------------------------------------------ */

typedef struct tw_replay_player tw_replay_player;

/* Applies one recorded sample to the world (the telemetry binding's job).
 * NULL: samples are counted as skipped. */
typedef void (*tw_replay_input_fn)(void *user, tw_ecs_world *w, tw_sim *sim, const tw_replay_sample *sample);
/* Registers components in a new world; NULL: tw_sim_register_components. */
typedef tw_status (*tw_replay_setup_fn)(void *user, tw_ecs_world *w);
/* Restores a keyframe's extra section into the new world/sim (after the ECS and sim). */
typedef tw_status (*tw_replay_section_fn)(void *user, tw_ecs_world *w, tw_sim *sim, const tw_replay_section *sec);
/* Runs once per tick after that tick's recorded inputs went to on_input and
 * before the step: where a telemetry binder applies the samples on_input
 * handed it, as the recording run did at its tick boundary. */
typedef tw_status (*tw_replay_tick_fn)(void *user, tw_ecs_world *w, tw_sim *sim);

typedef struct tw_replay_player_desc {
    const tw_allocator *allocator;/* NULL: the C library */
    const tw_log *log;
    tw_replay_setup_fn setup;
    tw_replay_input_fn on_input;
    tw_replay_section_fn on_section;
    void *user;
    uint32_t max_catchup_steps;   /* for the sim; 0: 10 */
    int verify;                   /* compare the state hash with every keyframe met while playing */
    tw_replay_tick_fn on_tick;    /* NULL: nothing between the inputs and the step */
} tw_replay_player_desc;

typedef struct tw_replay_player_stats {
    uint64_t samples_applied;
    uint64_t samples_skipped;     /* no on_input */
    uint64_t commands_applied;
    uint64_t commands_failed;
    uint64_t keyframes_restored;
    uint64_t keyframes_verified;
    uint64_t ticks_stepped;
} tw_replay_player_stats;

/* Makes the player; it starts with no world until the first seek. */
tw_status tw_replay_player_new(tw_replay_log *log, const tw_replay_player_desc *desc, tw_replay_player **out,
                               tw_diag *diag);
void tw_replay_player_free(tw_replay_player *p);
/* Goes to tick: restores the latest keyframe at or before it (unless playing
 * on from where the player is is no longer), then plays the recorded inputs up
 * to it. TW_ERR_NOT_FOUND when no keyframe lies at or before tick. */
tw_status tw_replay_player_seek(tw_replay_player *p, uint64_t tick, tw_diag *diag);
/* Applies the inputs recorded for the current tick, then runs one tick.
 * TW_ERR_STATE (verify) when the state differs from a keyframe's. */
tw_status tw_replay_player_step(tw_replay_player *p, tw_diag *diag);
tw_ecs_world *tw_replay_player_world(const tw_replay_player *p); /* NULL before the first seek */
tw_sim *tw_replay_player_sim(const tw_replay_player *p);
uint64_t tw_replay_player_tick(const tw_replay_player *p);
/* Changes whenever seek replaced the world and sim. */
uint32_t tw_replay_player_generation(const tw_replay_player *p);
void tw_replay_player_get_stats(const tw_replay_player *p, tw_replay_player_stats *out);

#endif
