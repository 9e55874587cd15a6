/* The recorder: records go into an in-memory buffer, which is written out
 * (write + optional fdatasync) when it grows past flush_bytes, at every
 * keyframe, at least every flush_interval of wall time, and at close. So a
 * tick costs a few memcpys, and a crash loses at most what the last interval
 * buffered; the file always ends at a whole record or inside the one being
 * written when the process died (the reader drops that torn tail).
 *
 * Samples of one tick share one INPUT record, kept open at the end of the
 * buffer until something else is written; SENSOR records go in front of the
 * first sample of each new sensor. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "replay_internal.h"
#include "twin/clock.h"
#include "twin/ecs_snapshot.h"
#include "twin/strmap.h"

enum { INPUT_RECORD_MAX = 1u << 20 };

struct tw_replay_recorder {
    tw_allocator alloc;
    tw_log log;
    char *path;
    int fd;
    int sync;
    int failed;                   /* an I/O or allocation error: nothing more is written */
    double flush_interval;
    size_t flush_bytes;
    double last_flush;            /* wall clock */

    rp_buf buf;
    uint64_t file_offset;         /* bytes in the file (buffer starts here) */

    /* The INPUT record being filled, at the end of buf. */
    int input_open;
    size_t input_at;              /* its length field in buf */
    size_t input_count_at;        /* its sample count in buf */
    uint32_t input_count;
    uint64_t input_tick;
    double input_time;            /* measured time of the last sample in it */

    uint64_t last_tick;
    uint64_t first_tick;
    int any_tick;

    tw_strmap sensors;            /* text -> id */
    char **sensor_names;          /* id - 1 -> text (owned) */
    size_t sensor_count, sensor_cap;

    rp_kf *keyframes;
    size_t kf_count, kf_cap;
    rp_ev *events;                /* the alarm timeline, for the index */
    size_t ev_count, ev_cap;
    unsigned char *snap;          /* the raw ECS snapshot, before zero-run coding */
    size_t snap_cap;

    tw_replay_recorder_stats stats;
};

/* ---- writing the buffer out --------------------------------------------------------- */

static tw_status fail_io(tw_replay_recorder *r, const char *what)
{
    if (!r->failed)
        TW_LOG(&r->log, TW_LOG_ERROR, "replay", "%s %s failed: %s; recording stops here", what, r->path,
               strerror(errno));
    r->failed = 1;
    return TW_ERR_IO;
}

static tw_status write_all(tw_replay_recorder *r, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t k = write(r->fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return fail_io(r, "writing");
        }
        p += k;
        n -= (size_t)k;
        r->file_offset += (uint64_t)k;
        r->stats.bytes += (uint64_t)k;
    }
    return TW_OK;
}

static void input_close(tw_replay_recorder *r)
{
    if (!r->input_open) return;
    r->input_open = 0;
    if (r->buf.failed) return;
    memcpy(r->buf.p + r->input_count_at, &r->input_count, 4);
    rp_record_end(&r->buf, r->input_at);
}

static void note_tick(tw_replay_recorder *r, uint64_t tick)
{
    if (!r->any_tick) {
        r->first_tick = tick;
        r->any_tick = 1;
    }
    if (tick > r->last_tick) r->last_tick = tick;
}

static tw_status write_out(tw_replay_recorder *r)
{
    if (r->failed) return TW_ERR_IO;
    if (r->buf.failed) {
        r->failed = 1;
        TW_LOG(&r->log, TW_LOG_ERROR, "replay", "out of memory buffering the log %s; recording stops here", r->path);
        return TW_ERR_NOMEM;
    }
    double t0 = tw_clock_monotonic_s();
    tw_status st = write_all(r, r->buf.p, r->buf.n);
    r->buf.n = 0;
    if (!st && r->sync && fdatasync(r->fd) != 0) st = fail_io(r, "syncing");
    double took = tw_clock_monotonic_s() - t0;
    r->stats.flushes++;
    r->stats.flush_total_s += took;
    if (took > r->stats.flush_max_s) r->stats.flush_max_s = took;
    r->last_flush = tw_clock_monotonic_s();
    return st;
}

tw_status tw_replay_recorder_flush(tw_replay_recorder *r, uint64_t tick)
{
    TW_CHECK(r != NULL, "tw_replay_recorder_flush needs the recorder tw_replay_recorder_open made.");
    if (r->failed) return TW_ERR_IO;
    input_close(r);
    if (tick < r->last_tick) tick = r->last_tick;
    note_tick(r, tick);
    size_t at = rp_record_begin(&r->buf, TW_REPLAY_REC_SYNC);
    rp_u64(&r->buf, tick);
    rp_record_end(&r->buf, at);
    r->stats.records[TW_REPLAY_REC_SYNC]++;
    return write_out(r);
}

/* ---- open and close ------------------------------------------------------------------- */

static void recorder_free(tw_replay_recorder *r)
{
    if (r->fd >= 0) close(r->fd);
    rp_buf_free(&r->buf);
    tw_strmap_fini(&r->sensors);
    for (size_t i = 0; i < r->sensor_count; i++) tw_free(&r->alloc, r->sensor_names[i], strlen(r->sensor_names[i]) + 1);
    tw_free(&r->alloc, r->sensor_names, r->sensor_cap * sizeof *r->sensor_names);
    tw_free(&r->alloc, r->keyframes, r->kf_cap * sizeof *r->keyframes);
    tw_free(&r->alloc, r->events, r->ev_cap * sizeof *r->events);
    tw_free(&r->alloc, r->snap, r->snap_cap);
    if (r->path) tw_free(&r->alloc, r->path, strlen(r->path) + 1);
    tw_allocator a = r->alloc;
    tw_free(&a, r, sizeof *r);
}

tw_status tw_replay_recorder_open(const tw_replay_recorder_desc *desc, tw_replay_recorder **out, tw_diag *diag)
{
    TW_CHECK(desc != NULL && desc->path != NULL && desc->header != NULL && out != NULL,
             "tw_replay_recorder_open needs a desc with a path and a header, and somewhere to put the recorder.");
    TW_CHECK(desc->header->keyframe_every > 0,
             "tw_replay_recorder_open was given a header with keyframe_every 0: make the sim with "
             "rebuild_every_ticks set (the keyframe interval) and fill the header with tw_replay_header_init.");
    *out = NULL;
    tw_allocator alloc = tw_allocator_or_default(desc->allocator);
    tw_replay_recorder *r = tw_calloc(&alloc, 1, sizeof *r);
    if (!r) return TW_ERR_NOMEM;
    r->alloc = alloc;
    r->fd = -1;
    if (desc->log) r->log = *desc->log;
    r->buf.alloc = alloc;
    tw_strmap_init(&r->sensors, &alloc);
    r->sync = desc->sync;
    r->flush_interval = desc->flush_interval > 0 ? desc->flush_interval : 1.0;
    r->flush_bytes = desc->flush_bytes ? desc->flush_bytes : (size_t)4 << 20;
    r->path = tw_strdup(&alloc, desc->path);
    if (!r->path) {
        recorder_free(r);
        return TW_ERR_NOMEM;
    }
    r->fd = open(desc->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r->fd < 0) {
        tw_diag_set(diag, "cannot create the log %s: %s", desc->path, strerror(errno));
        recorder_free(r);
        return TW_ERR_IO;
    }
    tw_replay_header h = *desc->header;
    if (h.created == 0) h.created = tw_clock_unix_s();
    rp_put(&r->buf, TW_REPLAY_MAGIC, 8);
    rp_u32(&r->buf, TW_REPLAY_FORMAT_VERSION);
    size_t at = rp_record_begin(&r->buf, TW_REPLAY_REC_HEADER);
    rp_header_encode(&r->buf, &h);
    rp_record_end(&r->buf, at);
    r->stats.records[TW_REPLAY_REC_HEADER]++;
    tw_status st = write_out(r);
    if (st) {
        tw_diag_set(diag, "cannot write the log %s: %s", desc->path, st == TW_ERR_NOMEM ? "out of memory" : strerror(errno));
        recorder_free(r);
        return st;
    }
    *out = r;
    return TW_OK;
}

tw_status tw_replay_recorder_close(tw_replay_recorder *r, uint64_t end_tick, tw_diag *diag)
{
    if (!r) return TW_OK;
    tw_status st = TW_OK;
    if (!r->failed) {
        input_close(r);
        if (end_tick < r->last_tick) end_tick = r->last_tick;
        note_tick(r, end_tick);
        uint64_t index_offset = r->file_offset + r->buf.n;
        rp_index ix = { end_tick, r->first_tick, r->last_tick, r->stats.samples, r->stats.records,
                        r->keyframes, r->kf_count, r->sensor_names, r->sensor_count, r->events, r->ev_count };
        rp_index_end_encode(&r->buf, &ix, index_offset);
        r->stats.records[TW_REPLAY_REC_INDEX]++;
        r->stats.records[TW_REPLAY_REC_END]++;
        st = write_out(r);
        if (!st && r->sync && fsync(r->fd) != 0) st = fail_io(r, "syncing");
    } else {
        st = TW_ERR_IO;
    }
    if (r->fd >= 0 && close(r->fd) != 0 && !st) st = fail_io(r, "closing");
    r->fd = -1;
    if (st) tw_diag_set(diag, "writing the log %s failed (disk full?): it holds what was flushed before", r->path);
    recorder_free(r);
    return st;
}

void tw_replay_recorder_get_stats(const tw_replay_recorder *r, tw_replay_recorder_stats *out) { *out = r->stats; }

/* ---- records ---------------------------------------------------------------------------- */

static tw_status check_tick(tw_replay_recorder *r, uint64_t tick, const char *fn)
{
    TW_CHECK(tick >= r->last_tick,
             "%s was given tick %llu after tick %llu: a log's ticks never go backwards (record inputs as they "
             "are applied).",
             fn, (unsigned long long)tick, (unsigned long long)r->last_tick);
    return r->failed ? TW_ERR_IO : TW_OK;
}

tw_status tw_replay_recorder_sensor(tw_replay_recorder *r, const char *sensor, uint32_t *id)
{
    TW_CHECK(r != NULL && sensor != NULL && id != NULL, "tw_replay_recorder_sensor needs a recorder, a sensor id and an out pointer.");
    uint64_t v;
    if (tw_strmap_get(&r->sensors, sensor, &v)) {
        *id = (uint32_t)v;
        return TW_OK;
    }
    if (r->failed) return TW_ERR_IO;
    size_t len = strlen(sensor);
    if (len == 0 || len >= TW_REPLAY_SENSOR_MAX) return TW_ERR_INVALID;
    char *copy = tw_strdup(&r->alloc, sensor);
    if (!copy || tw_grow(&r->alloc, (void **)&r->sensor_names, &r->sensor_cap, r->sensor_count + 1, sizeof(char *))) {
        if (copy) tw_free(&r->alloc, copy, len + 1);
        return TW_ERR_NOMEM;
    }
    uint32_t nid = (uint32_t)r->sensor_count + 1;
    if (tw_strmap_put(&r->sensors, sensor, nid)) {
        tw_free(&r->alloc, copy, len + 1);
        return TW_ERR_NOMEM;
    }
    r->sensor_names[r->sensor_count++] = copy;
    input_close(r);
    size_t at = rp_record_begin(&r->buf, TW_REPLAY_REC_SENSOR);
    rp_u32(&r->buf, nid);
    rp_str(&r->buf, sensor, TW_REPLAY_SENSOR_MAX - 1);
    rp_record_end(&r->buf, at);
    r->stats.records[TW_REPLAY_REC_SENSOR]++;
    *id = nid;
    return TW_OK;
}

tw_status tw_replay_recorder_input(tw_replay_recorder *r, uint64_t tick, const tw_replay_sample *s)
{
    TW_CHECK(r != NULL && s != NULL, "tw_replay_recorder_input needs a recorder and a sample.");
    tw_status st = check_tick(r, tick, "tw_replay_recorder_input");
    if (st) return st;
    uint32_t id = s->sensor_id;
    if (id == 0) {
        TW_CHECK(s->sensor != NULL, "tw_replay_recorder_input was given a sample with neither a sensor id text nor a number.");
        if ((st = tw_replay_recorder_sensor(r, s->sensor, &id))) return st;
    } else {
        TW_CHECK(id <= r->sensor_count,
                 "tw_replay_recorder_input was given sensor number %u, which this log never interned: get numbers "
                 "from tw_replay_recorder_sensor.", id);
    }
    if (r->input_open && (r->input_tick != tick || r->buf.n - r->input_at > INPUT_RECORD_MAX)) input_close(r);
    if (!r->input_open) {
        r->input_at = rp_record_begin(&r->buf, TW_REPLAY_REC_INPUT);
        rp_u64(&r->buf, tick);
        r->input_count_at = r->buf.n;
        rp_u32(&r->buf, 0);
        r->input_open = 1;
        r->input_count = 0;
        r->input_tick = tick;
        r->stats.records[TW_REPLAY_REC_INPUT]++;
        note_tick(r, tick);
    }
    unsigned flags = 0;
    /* Compare bit patterns: a NaN time repeats too, and -0.0 is not 0.0. */
    if (r->input_count > 0 && memcmp(&s->time, &r->input_time, sizeof s->time) == 0) flags |= RP_S_TIME_REPEAT;
    /* Four bytes when the value survives float32 bit for bit (sensors that
     * send float32 do), eight otherwise: the log is always exact. */
    float f = (float)s->value;
    double back = (double)f;
    if (memcmp(&back, &s->value, 8) == 0) flags |= RP_S_F32;
    if (s->quality || s->unit) flags |= RP_S_EXTRA;
    rp_varint(&r->buf, (uint64_t)id << RP_S_SHIFT | flags);
    if (!(flags & RP_S_TIME_REPEAT)) rp_f64(&r->buf, s->time);
    if (flags & RP_S_F32) rp_f32(&r->buf, f);
    else rp_f64(&r->buf, s->value);
    if (flags & RP_S_EXTRA) {
        rp_u8(&r->buf, s->quality);
        rp_u8(&r->buf, s->unit);
    }
    r->input_time = s->time;
    r->input_count++;
    r->stats.samples++;
    return r->buf.failed ? TW_ERR_NOMEM : TW_OK;
}

tw_status tw_replay_recorder_command(tw_replay_recorder *r, uint64_t tick, const tw_replay_command *cmd)
{
    TW_CHECK(r != NULL && cmd != NULL, "tw_replay_recorder_command needs a recorder and a command.");
    tw_status st = check_tick(r, tick, "tw_replay_recorder_command");
    if (st) return st;
    input_close(r);
    size_t at = rp_record_begin(&r->buf, TW_REPLAY_REC_COMMAND);
    rp_u64(&r->buf, tick);
    rp_u8(&r->buf, (uint8_t)cmd->op);
    rp_str(&r->buf, cmd->entity, sizeof cmd->entity - 1);
    rp_str(&r->buf, cmd->field, sizeof cmd->field - 1);
    rp_f64(&r->buf, cmd->value);
    rp_record_end(&r->buf, at);
    r->stats.records[TW_REPLAY_REC_COMMAND]++;
    note_tick(r, tick);
    return r->buf.failed ? TW_ERR_NOMEM : TW_OK;
}

tw_status tw_replay_recorder_event(tw_replay_recorder *r, uint64_t tick, const tw_sim_event *ev)
{
    TW_CHECK(r != NULL && ev != NULL, "tw_replay_recorder_event needs a recorder and an event.");
    tw_status st = check_tick(r, tick, "tw_replay_recorder_event");
    if (st) return st;
    input_close(r);
    size_t at = rp_record_begin(&r->buf, TW_REPLAY_REC_EVENT);
    rp_u64(&r->buf, tick);
    rp_f64(&r->buf, ev->time);
    rp_u64(&r->buf, ev->alarm.id);
    rp_u64(&r->buf, ev->target.id);
    rp_f32(&r->buf, ev->value);
    rp_u32(&r->buf, (uint32_t)ev->state);
    rp_record_end(&r->buf, at);
    r->stats.records[TW_REPLAY_REC_EVENT]++;
    note_tick(r, tick);
    if (tw_grow(&r->alloc, (void **)&r->events, &r->ev_cap, r->ev_count + 1, sizeof *r->events)) {
        r->failed = 1;
        return TW_ERR_NOMEM;
    }
    r->events[r->ev_count++] = (rp_ev){ tick, *ev };
    return r->buf.failed ? TW_ERR_NOMEM : TW_OK;
}

tw_status tw_replay_recorder_keyframe(tw_replay_recorder *r, const tw_sim *sim, const tw_replay_section *extra,
                                      uint32_t extra_count)
{
    TW_CHECK(r != NULL && sim != NULL, "tw_replay_recorder_keyframe needs a recorder and the sim to capture.");
    TW_CHECK(extra_count + 2 <= TW_REPLAY_MAX_SECTIONS && (extra_count == 0 || extra != NULL),
             "tw_replay_recorder_keyframe takes at most %d extra sections.", TW_REPLAY_MAX_SECTIONS - 2);
    tw_sim_state ss;
    tw_sim_state_get(sim, &ss);
    tw_status st = check_tick(r, ss.tick, "tw_replay_recorder_keyframe");
    if (st) return st;
    input_close(r);
    const tw_ecs_world *w = tw_sim_world(sim);
    size_t ecs_size = tw_ecs_snapshot_size(w);
    uint64_t offset = r->file_offset + r->buf.n;
    size_t at = rp_record_begin(&r->buf, TW_REPLAY_REC_KEYFRAME);
    rp_u64(&r->buf, ss.tick);
    rp_u64(&r->buf, tw_sim_state_hash(sim));
    rp_u32(&r->buf, 2 + extra_count);
    rp_u32(&r->buf, TW_REPLAY_SECTION_SIM);
    rp_u64(&r->buf, RP_SIM_SECTION);
    rp_u64(&r->buf, ss.tick);
    rp_u64(&r->buf, ss.seed);
    rp_f64(&r->buf, ss.dt);
    rp_f64(&r->buf, ss.start_time);
    rp_u64(&r->buf, ss.rng.state);
    rp_u64(&r->buf, ss.rng.inc);
    /* The snapshot goes through a scratch buffer and into the record with
     * its zero runs squeezed (section "ECSR"). */
    if (tw_grow(&r->alloc, (void **)&r->snap, &r->snap_cap, ecs_size ? ecs_size : 1, 1)) {
        r->buf.failed = 1;
    } else {
        size_t written = 0;
        tw_ecs_snapshot_write(w, r->snap, ecs_size, &written);
        rp_u32(&r->buf, TW_REPLAY_SECTION_ECS_RLE);
        size_t size_at = r->buf.n;
        rp_u64(&r->buf, 0);
        size_t start = r->buf.n;
        rp_rle_encode(&r->buf, r->snap, written);
        uint64_t enc = r->buf.n - start;
        if (!r->buf.failed) memcpy(r->buf.p + size_at, &enc, 8);
    }
    for (uint32_t i = 0; i < extra_count; i++) {
        rp_u32(&r->buf, extra[i].tag);
        rp_u64(&r->buf, extra[i].size);
        rp_put(&r->buf, extra[i].data, extra[i].size);
    }
    if (!r->buf.failed && r->buf.n - at - 5 > TW_REPLAY_MAX_RECORD) {
        TW_LOG(&r->log, TW_LOG_ERROR, "replay", "a keyframe of %zu bytes is past the format's limit; recording stops",
               r->buf.n - at);
        r->failed = 1;
        return TW_ERR_LIMIT;
    }
    rp_record_end(&r->buf, at);
    if (r->buf.failed) return write_out(r);
    if (tw_grow(&r->alloc, (void **)&r->keyframes, &r->kf_cap, r->kf_count + 1, sizeof *r->keyframes)) {
        r->failed = 1;
        return TW_ERR_NOMEM;
    }
    r->keyframes[r->kf_count++] = (rp_kf){ ss.tick, offset };
    r->stats.records[TW_REPLAY_REC_KEYFRAME]++;
    note_tick(r, ss.tick);
    /* A keyframe is a natural flush point: everything before it is whole. */
    return tw_replay_recorder_flush(r, ss.tick);
}

tw_status tw_replay_recorder_tick(tw_replay_recorder *r, uint64_t tick)
{
    TW_CHECK(r != NULL, "tw_replay_recorder_tick needs the recorder tw_replay_recorder_open made.");
    if (r->failed) return TW_ERR_IO;
    if (r->buf.n >= r->flush_bytes) return tw_replay_recorder_flush(r, tick);
    /* A monotonic clock read is tens of nanoseconds: cheap beside a tick. */
    if (tw_clock_monotonic_s() - r->last_flush >= r->flush_interval) return tw_replay_recorder_flush(r, tick);
    return TW_OK;
}
