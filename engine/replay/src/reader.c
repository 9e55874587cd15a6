/* The reader: open (index or scan), the record cursor, decoders, repair.
 *
 * Bytes come through a read window: a file is read with pread in blocks of
 * at least WINDOW bytes, so walking records costs one system call per block
 * rather than per record; bytes in memory are their own window. A record is
 * whole when its length fits before the end of the valid part and its CRC32C
 * matches; a scan also checks what each record says (ticks never go back,
 * sensors are numbered in order, keyframes have their sections, the end
 * record is last), so the player can trust what a scan let through. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay_internal.h"
#include "twin/ecs_snapshot.h"

enum { WINDOW = 256 * 1024 };

struct tw_replay_log {
    tw_allocator alloc;
    int fd;                       /* -1: bytes in memory */
    const unsigned char *mem;
    uint64_t size;
    uint64_t limit;               /* records are read below this offset only */
    unsigned char *win;           /* read window (files) */
    size_t win_cap, win_len;
    uint64_t win_off;
    uint64_t cursor;
    uint64_t first;               /* offset of the first record after the header */
    tw_replay_header header;
    tw_replay_log_info info;
    char **sensors;               /* id - 1 -> name (owned) */
    size_t sensor_count, sensor_cap;
    rp_kf *kf;
    size_t kf_count, kf_cap;
    rp_ev *ev;
    size_t ev_count, ev_cap;
};

/* ---- bytes ---------------------------------------------------------------------- */

/* n bytes at off, or NULL when they do not lie in the file (or a read fails). */
static const unsigned char *bytes_at(tw_replay_log *l, uint64_t off, size_t n)
{
    if (off > l->size || n > l->size - off) return NULL;
    if (l->fd < 0) return l->mem + off;
    if (off >= l->win_off && off + n <= l->win_off + l->win_len) return l->win + (off - l->win_off);
    size_t want = n > WINDOW ? n : WINDOW;
    if (want > l->size - off) want = (size_t)(l->size - off);
    if (want > l->win_cap) {
        unsigned char *p = tw_realloc(&l->alloc, l->win, l->win_cap, want);
        if (!p) return NULL;
        l->win = p;
        l->win_cap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(l->fd, l->win + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    l->win_off = off;
    l->win_len = got;
    return got >= n ? l->win : NULL;
}

enum { REC_OK = 0, REC_TORN, REC_BAD, REC_NOMEM };

/* Reads the framed record at off, which must end at or before limit. */
static int frame_at(tw_replay_log *l, uint64_t off, uint64_t limit, tw_replay_record *rec, const char **why)
{
    if (limit < off || limit - off < RP_FRAME) {
        *why = "the record's frame is cut short";
        return REC_TORN;
    }
    const unsigned char *h = bytes_at(l, off, 5);
    if (!h) {
        *why = "the file could not be read";
        return REC_NOMEM;
    }
    uint32_t len;
    memcpy(&len, h, 4);
    uint8_t type = h[4];
    if (len > TW_REPLAY_MAX_RECORD) {
        *why = "the record declares an impossible length";
        return REC_BAD;
    }
    if ((uint64_t)len + RP_FRAME > limit - off) {
        *why = "the record runs past the end of the file";
        return REC_TORN;
    }
    const unsigned char *p = bytes_at(l, off, (size_t)len + RP_FRAME);
    if (!p) {
        *why = "out of memory or a read error";
        return REC_NOMEM;
    }
    uint32_t crc;
    memcpy(&crc, p + 5 + len, 4);
    if (tw_crc32c(0, p + 4, (size_t)len + 1) != crc) {
        *why = "the record fails its CRC32C check";
        return REC_BAD;
    }
    if (type == 0 || type >= TW_REPLAY_REC_TYPE_COUNT) {
        *why = "the record has an unknown type";
        return REC_BAD;
    }
    rec->type = type;
    rec->offset = off;
    rec->size = len;
    rec->payload = p + 5;
    uint64_t tick = 0;
    int has = rp_record_tick(type, rec->payload, len, &tick);
    if (has < 0) {
        *why = "the record is too short for its type";
        return REC_BAD;
    }
    rec->has_tick = has;
    rec->tick = tick;
    return REC_OK;
}

/* ---- decoders ------------------------------------------------------------------------ */

tw_status tw_replay_input_begin(const tw_replay_log *log, const tw_replay_record *rec, tw_replay_input_iter *it)
{
    TW_CHECK(log && rec && it, "tw_replay_input_begin needs a log, a record and an iterator.");
    memset(it, 0, sizeof *it);
    if (rec->type != TW_REPLAY_REC_INPUT || rec->size < 12) return TW_ERR_INVALID;
    it->log = log;
    memcpy(&it->left, rec->payload + 8, 4);
    it->p = rec->payload + 12;
    it->end = rec->payload + rec->size;
    return TW_OK;
}

int tw_replay_input_next(tw_replay_input_iter *it, tw_replay_sample *out)
{
    if (!it->log) return -1;
    if (it->left == 0) return it->p == it->end ? 0 : -1;
    rp_in in = { it->p, it->end, 0 };
    uint64_t key = rp_get_varint(&in);
    uint64_t id = key >> RP_S_SHIFT;
    if (in.bad || id == 0 || id > it->log->sensor_count) return -1;
    memset(out, 0, sizeof *out);
    if (key & RP_S_TIME_REPEAT) {
        if (!it->have_time) return -1;
    } else {
        it->time = rp_get_f64(&in);
        it->have_time = 1;
    }
    out->time = it->time;
    out->value = (key & RP_S_F32) ? (double)rp_get_f32(&in) : rp_get_f64(&in);
    if (key & RP_S_EXTRA) {
        out->quality = rp_get_u8(&in);
        out->unit = rp_get_u8(&in);
    }
    if (in.bad) return -1;
    out->sensor_id = (uint32_t)id;
    out->sensor = it->log->sensors[id - 1];
    it->p = in.p;
    it->left--;
    return 1;
}

tw_status tw_replay_command_decode(const tw_replay_record *rec, tw_replay_command *out)
{
    TW_CHECK(rec && out, "tw_replay_command_decode needs a record and a command to fill.");
    memset(out, 0, sizeof *out);
    if (rec->type != TW_REPLAY_REC_COMMAND) return TW_ERR_INVALID;
    rp_in in = { rec->payload, rec->payload + rec->size, 0 };
    rp_get_u64(&in);
    out->op = (tw_replay_command_op)rp_get_u8(&in);
    rp_get_str(&in, out->entity, sizeof out->entity);
    rp_get_str(&in, out->field, sizeof out->field);
    out->value = rp_get_f64(&in);
    if (in.bad || in.p != in.end || (out->op != TW_REPLAY_CMD_SET && out->op != TW_REPLAY_CMD_DESTROY))
        return TW_ERR_INVALID;
    return TW_OK;
}

tw_status tw_replay_event_decode(const tw_replay_record *rec, tw_sim_event *out)
{
    TW_CHECK(rec && out, "tw_replay_event_decode needs a record and an event to fill.");
    memset(out, 0, sizeof *out);
    if (rec->type != TW_REPLAY_REC_EVENT) return TW_ERR_INVALID;
    rp_in in = { rec->payload, rec->payload + rec->size, 0 };
    rp_get_u64(&in);
    out->time = rp_get_f64(&in);
    out->alarm.id = rp_get_u64(&in);
    out->target.id = rp_get_u64(&in);
    out->value = rp_get_f32(&in);
    out->state = (int32_t)rp_get_u32(&in);
    return in.bad || in.p != in.end ? TW_ERR_INVALID : TW_OK;
}

tw_status tw_replay_keyframe_decode(const tw_replay_record *rec, tw_replay_keyframe *out)
{
    TW_CHECK(rec && out, "tw_replay_keyframe_decode needs a record and a keyframe to fill.");
    memset(out, 0, sizeof *out);
    if (rec->type != TW_REPLAY_REC_KEYFRAME) return TW_ERR_INVALID;
    rp_in in = { rec->payload, rec->payload + rec->size, 0 };
    out->tick = rp_get_u64(&in);
    out->state_hash = rp_get_u64(&in);
    uint32_t n = rp_get_u32(&in);
    if (in.bad || n > TW_REPLAY_MAX_SECTIONS) return TW_ERR_INVALID;
    int have_sim = 0, have_ecs = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag = rp_get_u32(&in);
        uint64_t size = rp_get_u64(&in);
        if (in.bad || size > (uint64_t)(in.end - in.p)) return TW_ERR_INVALID;
        const unsigned char *data = rp_take(&in, (size_t)size);
        out->sections[i] = (tw_replay_section){ tag, data, (size_t)size };
        if (tag == TW_REPLAY_SECTION_SIM) {
            if (size != RP_SIM_SECTION || have_sim) return TW_ERR_INVALID;
            rp_in s = { data, data + size, 0 };
            out->sim.tick = rp_get_u64(&s);
            out->sim.seed = rp_get_u64(&s);
            out->sim.dt = rp_get_f64(&s);
            out->sim.start_time = rp_get_f64(&s);
            out->sim.rng.state = rp_get_u64(&s);
            out->sim.rng.inc = rp_get_u64(&s);
            have_sim = 1;
        } else if (tag == TW_REPLAY_SECTION_ECS || tag == TW_REPLAY_SECTION_ECS_RLE) {
            uint64_t raw;
            if (have_ecs || (tag == TW_REPLAY_SECTION_ECS_RLE && rp_rle_decode(data, (size_t)size, NULL, &raw)))
                return TW_ERR_INVALID;
            have_ecs = 1;
        }
    }
    out->section_count = n;
    if (in.bad || in.p != in.end || !have_sim || !have_ecs || out->sim.tick != out->tick) return TW_ERR_INVALID;
    return TW_OK;
}

const tw_replay_section *tw_replay_keyframe_section(const tw_replay_keyframe *kf, uint32_t tag)
{
    for (uint32_t i = 0; i < kf->section_count; i++)
        if (kf->sections[i].tag == tag) return &kf->sections[i];
    return NULL;
}

/* ---- the log's tables ------------------------------------------------------------------ */

static int sensor_add(tw_replay_log *l, const char *name, size_t n)
{
    if (tw_grow(&l->alloc, (void **)&l->sensors, &l->sensor_cap, l->sensor_count + 1, sizeof *l->sensors)) return -1;
    char *copy = tw_alloc(&l->alloc, n + 1);
    if (!copy) return -1;
    memcpy(copy, name, n);
    copy[n] = '\0';
    l->sensors[l->sensor_count++] = copy;
    return 0;
}

static int kf_add(tw_replay_log *l, uint64_t tick, uint64_t offset)
{
    if (tw_grow(&l->alloc, (void **)&l->kf, &l->kf_cap, l->kf_count + 1, sizeof *l->kf)) return -1;
    l->kf[l->kf_count++] = (rp_kf){ tick, offset };
    return 0;
}

static int ev_add(tw_replay_log *l, uint64_t tick, const tw_sim_event *ev)
{
    if (tw_grow(&l->alloc, (void **)&l->ev, &l->ev_cap, l->ev_count + 1, sizeof *l->ev)) return -1;
    l->ev[l->ev_count++] = (rp_ev){ tick, *ev };
    return 0;
}

static void tables_clear(tw_replay_log *l)
{
    l->ev_count = 0;
    for (size_t i = 0; i < l->sensor_count; i++) tw_free(&l->alloc, l->sensors[i], strlen(l->sensors[i]) + 1);
    l->sensor_count = 0;
    l->kf_count = 0;
}

static int sensor_name_ok(const unsigned char *s, size_t n)
{
    return n > 0 && n < TW_REPLAY_SENSOR_MAX && !memchr(s, '\0', n);
}

/* ---- scanning ---------------------------------------------------------------------------- */

/* What a record says makes sense, given what came before it. Updates the tables. */
static const char *check_record(tw_replay_log *l, const tw_replay_record *rec, uint64_t *last_tick, int *any_tick,
                                int *nomem)
{
    tw_replay_log_info *info = &l->info;
    if (rec->has_tick) {
        if (*any_tick && rec->tick < *last_tick) return "its tick goes back in time";
        if (!*any_tick) info->first_tick = rec->tick;
        *any_tick = 1;
        *last_tick = rec->tick;
    }
    rp_in in = { rec->payload, rec->payload + rec->size, 0 };
    switch (rec->type) {
    case TW_REPLAY_REC_HEADER:
        return "a second header";
    case TW_REPLAY_REC_SENSOR: {
        uint32_t id = rp_get_u32(&in);
        uint16_t n = rp_get_u16(&in);
        const unsigned char *name = rp_take(&in, n);
        if (in.bad || in.p != in.end || !sensor_name_ok(name, n)) return "a malformed sensor record";
        if (id != l->sensor_count + 1) return "sensors are not numbered in order";
        if (sensor_add(l, (const char *)name, n)) *nomem = 1;
        return NULL;
    }
    case TW_REPLAY_REC_INPUT: {
        tw_replay_input_iter it;
        tw_replay_sample s;
        if (tw_replay_input_begin(l, rec, &it)) return "a malformed input record";
        int k;
        uint64_t n = 0;
        while ((k = tw_replay_input_next(&it, &s)) == 1) n++;
        if (k < 0) return "a malformed sample (or one of a sensor never declared)";
        info->samples += n;
        return NULL;
    }
    case TW_REPLAY_REC_COMMAND: {
        tw_replay_command c;
        return tw_replay_command_decode(rec, &c) ? "a malformed command" : NULL;
    }
    case TW_REPLAY_REC_KEYFRAME: {
        tw_replay_keyframe kf;
        if (tw_replay_keyframe_decode(rec, &kf)) return "a malformed keyframe";
        if (l->kf_count && kf.tick <= l->kf[l->kf_count - 1].tick) return "two keyframes of one tick";
        if (kf_add(l, kf.tick, rec->offset)) *nomem = 1;
        return NULL;
    }
    case TW_REPLAY_REC_EVENT: {
        tw_sim_event ev;
        if (tw_replay_event_decode(rec, &ev)) return "a malformed event";
        if (ev_add(l, rec->tick, &ev)) *nomem = 1;
        return NULL;
    }
    case TW_REPLAY_REC_SYNC:
        return rec->size == 8 ? NULL : "a malformed sync record";
    case TW_REPLAY_REC_INDEX:
        return NULL; /* what it says is rebuilt by the scan anyway */
    case TW_REPLAY_REC_END:
        if (rec->size != RP_END_PAYLOAD) return "a malformed end record";
        if (rec->offset + RP_FRAME + RP_END_PAYLOAD != l->size) return "bytes follow the end record";
        return NULL;
    }
    return "an unknown record type";
}

static tw_status scan(tw_replay_log *l, tw_diag *diag)
{
    tw_replay_log_info *info = &l->info;
    tables_clear(l);
    memset(info->records, 0, sizeof info->records);
    info->records[TW_REPLAY_REC_HEADER] = 1;
    info->samples = 0;
    info->scanned = 1;
    info->indexed = 0;
    uint64_t off = l->first, last_tick = 0;
    int any_tick = 0, ended = 0;
    uint64_t end_tick = 0;
    for (;;) {
        if (off == l->size) break;
        tw_replay_record rec;
        const char *why = NULL;
        int r = frame_at(l, off, l->size, &rec, &why);
        int nomem = 0;
        if (r == REC_OK) {
            why = check_record(l, &rec, &last_tick, &any_tick, &nomem);
            if (why) r = REC_BAD;
        }
        if (r == REC_NOMEM || nomem) {
            tw_diag_set(diag, "out of memory (or a read error) scanning the log");
            return TW_ERR_NOMEM;
        }
        if (r != REC_OK) {
            info->integrity = r == REC_TORN ? TW_REPLAY_TORN_TAIL : TW_REPLAY_CORRUPT;
            info->bad_offset = off;
            snprintf(info->problem, sizeof info->problem, "%s", why);
            break;
        }
        info->records[rec.type]++;
        if (rec.type == TW_REPLAY_REC_INDEX) info->indexed = 1;
        if (rec.type == TW_REPLAY_REC_END) {
            ended = 1;
            end_tick = rec.tick;
        }
        off += RP_FRAME + rec.size;
    }
    info->valid_size = off;
    info->dropped_bytes = l->size - off;
    info->last_tick = last_tick;
    info->end_tick = ended ? end_tick : last_tick;
    if (info->integrity == TW_REPLAY_INTACT && !ended) {
        info->integrity = TW_REPLAY_UNCLOSED;
        snprintf(info->problem, sizeof info->problem, "no end record: the run that wrote it did not close it");
    }
    if (!ended) info->indexed = 0;
    l->limit = off;
    return TW_OK;
}

/* Trusts the index a clean close wrote; 0 when there is none to trust. */
static int load_index(tw_replay_log *l)
{
    if (l->size < l->first + 2 * RP_FRAME + RP_END_PAYLOAD) return 0;
    uint64_t end_off = l->size - RP_FRAME - RP_END_PAYLOAD;
    tw_replay_record end, ix;
    const char *why;
    if (frame_at(l, end_off, l->size, &end, &why) != REC_OK || end.type != TW_REPLAY_REC_END ||
        end.size != RP_END_PAYLOAD)
        return 0;
    uint64_t ix_off, end_tick;
    memcpy(&ix_off, end.payload, 8);
    memcpy(&end_tick, end.payload + 8, 8);
    if (ix_off < l->first || ix_off >= end_off) return 0;
    if (frame_at(l, ix_off, end_off, &ix, &why) != REC_OK || ix.type != TW_REPLAY_REC_INDEX ||
        ix_off + RP_FRAME + ix.size != end_off)
        return 0;
    tw_replay_log_info *info = &l->info;
    rp_in in = { ix.payload, ix.payload + ix.size, 0 };
    uint64_t ix_end = rp_get_u64(&in);
    info->first_tick = rp_get_u64(&in);
    info->last_tick = rp_get_u64(&in);
    info->samples = rp_get_u64(&in);
    uint32_t types = rp_get_u32(&in);
    if (in.bad || types > 64 || ix_end != end_tick) return 0;
    for (uint32_t t = 0; t < types; t++) {
        uint64_t c = rp_get_u64(&in);
        if (t < TW_REPLAY_REC_TYPE_COUNT) info->records[t] = c;
    }
    uint32_t nk = rp_get_u32(&in);
    if (in.bad || (uint64_t)nk * 16 > (uint64_t)(in.end - in.p)) return 0;
    for (uint32_t i = 0; i < nk; i++) {
        uint64_t tick = rp_get_u64(&in), off = rp_get_u64(&in);
        if (off < l->first || off >= ix_off || (l->kf_count && tick <= l->kf[l->kf_count - 1].tick)) goto bad;
        if (kf_add(l, tick, off)) goto bad;
    }
    uint32_t ns = rp_get_u32(&in);
    for (uint32_t i = 0; i < ns && !in.bad; i++) {
        uint16_t n = rp_get_u16(&in);
        const unsigned char *name = rp_take(&in, n);
        if (!name || !sensor_name_ok(name, n) || sensor_add(l, (const char *)name, n)) goto bad;
    }
    uint32_t ne = rp_get_u32(&in);
    if (in.bad || (uint64_t)ne * 40 > (uint64_t)(in.end - in.p)) goto bad;
    for (uint32_t i = 0; i < ne; i++) {
        tw_sim_event ev;
        uint64_t tick = rp_get_u64(&in);
        ev.time = rp_get_f64(&in);
        ev.alarm.id = rp_get_u64(&in);
        ev.target.id = rp_get_u64(&in);
        ev.value = rp_get_f32(&in);
        ev.state = (int32_t)rp_get_u32(&in);
        if ((l->ev_count && tick < l->ev[l->ev_count - 1].tick) || ev_add(l, tick, &ev)) goto bad;
    }
    if (in.bad || in.p != in.end) goto bad;
    info->records[TW_REPLAY_REC_INDEX]++;
    info->records[TW_REPLAY_REC_END]++;
    info->end_tick = end_tick;
    if (end_tick > info->last_tick) info->last_tick = end_tick;
    info->valid_size = l->size;
    info->indexed = 1;
    info->scanned = 0;
    info->integrity = TW_REPLAY_INTACT;
    l->limit = l->size;
    return 1;
bad:
    tables_clear(l);
    memset(info->records, 0, sizeof info->records);
    return 0;
}

/* ---- open and close ----------------------------------------------------------------------- */

void tw_replay_log_close(tw_replay_log *l)
{
    if (!l) return;
    if (l->fd >= 0) close(l->fd);
    tables_clear(l);
    tw_free(&l->alloc, l->sensors, l->sensor_cap * sizeof *l->sensors);
    tw_free(&l->alloc, l->kf, l->kf_cap * sizeof *l->kf);
    tw_free(&l->alloc, l->ev, l->ev_cap * sizeof *l->ev);
    tw_free(&l->alloc, l->win, l->win_cap);
    tw_allocator a = l->alloc;
    tw_free(&a, l, sizeof *l);
}

static tw_status open_common(tw_replay_log *l, const tw_replay_log_desc *desc, tw_diag *diag)
{
    l->info.file_size = l->size;
    const unsigned char *pre = bytes_at(l, 0, RP_PREFIX);
    if (!pre || memcmp(pre, TW_REPLAY_MAGIC, 8) != 0) {
        tw_diag_set(diag, "not a twin log (*.twlog): it does not start with the log magic");
        return pre || l->size < RP_PREFIX ? TW_ERR_INVALID : TW_ERR_IO;
    }
    uint32_t version;
    memcpy(&version, pre + 8, 4);
    if (version != TW_REPLAY_FORMAT_VERSION) {
        tw_diag_set(diag, "the log has format version %u; this build reads version %u", version,
                    TW_REPLAY_FORMAT_VERSION);
        return TW_ERR_UNSUPPORTED;
    }
    tw_replay_record rec;
    const char *why = NULL;
    int r = frame_at(l, RP_PREFIX, l->size, &rec, &why);
    if (r == REC_NOMEM) {
        tw_diag_set(diag, "out of memory (or a read error) reading the log's header");
        return TW_ERR_NOMEM;
    }
    if (r != REC_OK || rec.type != TW_REPLAY_REC_HEADER || rp_header_decode(rec.payload, rec.size, &l->header)) {
        tw_diag_set(diag, "the log's header record is %s: nothing in it can be used",
                    r == REC_TORN ? "cut short" : "damaged");
        return TW_ERR_INVALID;
    }
    l->first = RP_PREFIX + RP_FRAME + rec.size;
    l->cursor = l->first;
    if ((desc && desc->verify) || !load_index(l)) {
        tw_status st = scan(l, diag);
        if (st) return st;
    }
    return TW_OK;
}

static tw_replay_log *log_new(const tw_replay_log_desc *desc)
{
    tw_allocator alloc = tw_allocator_or_default(desc ? desc->allocator : NULL);
    tw_replay_log *l = tw_calloc(&alloc, 1, sizeof *l);
    if (!l) return NULL;
    l->alloc = alloc;
    l->fd = -1;
    return l;
}

tw_status tw_replay_log_open(const char *path, const tw_replay_log_desc *desc, tw_replay_log **out, tw_diag *diag)
{
    TW_CHECK(path != NULL && out != NULL, "tw_replay_log_open needs a path and somewhere to put the log.");
    *out = NULL;
    tw_replay_log *l = log_new(desc);
    if (!l) return TW_ERR_NOMEM;
    l->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (l->fd < 0 || fstat(l->fd, &sb) != 0) {
        tw_diag_set(diag, "cannot open the log %s: %s", path, strerror(errno));
        tw_replay_log_close(l);
        return TW_ERR_IO;
    }
    l->size = (uint64_t)sb.st_size;
    tw_status st = open_common(l, desc, diag);
    if (st) {
        if (diag && !diag->file[0]) snprintf(diag->file, sizeof diag->file, "%s", path);
        tw_replay_log_close(l);
        return st;
    }
    *out = l;
    return TW_OK;
}

tw_status tw_replay_log_open_memory(const void *data, size_t size, const tw_replay_log_desc *desc,
                                    tw_replay_log **out, tw_diag *diag)
{
    TW_CHECK((data != NULL || size == 0) && out != NULL, "tw_replay_log_open_memory needs the bytes and an out pointer.");
    *out = NULL;
    tw_replay_log *l = log_new(desc);
    if (!l) return TW_ERR_NOMEM;
    l->mem = data;
    l->size = size;
    tw_status st = open_common(l, desc, diag);
    if (st) {
        tw_replay_log_close(l);
        return st;
    }
    *out = l;
    return TW_OK;
}

/* ---- queries ------------------------------------------------------------------------------- */

const tw_replay_header *tw_replay_log_header(const tw_replay_log *l) { return &l->header; }
const tw_replay_log_info *tw_replay_log_get_info(const tw_replay_log *l) { return &l->info; }
uint32_t tw_replay_log_sensor_count(const tw_replay_log *l) { return (uint32_t)l->sensor_count; }

const char *tw_replay_log_sensor_name(const tw_replay_log *l, uint32_t id)
{
    return id >= 1 && id <= l->sensor_count ? l->sensors[id - 1] : NULL;
}

uint32_t tw_replay_log_keyframe_count(const tw_replay_log *l) { return (uint32_t)l->kf_count; }

void tw_replay_log_keyframe_at(const tw_replay_log *l, uint32_t i, uint64_t *tick, uint64_t *offset)
{
    TW_CHECK(i < l->kf_count, "tw_replay_log_keyframe_at was asked for keyframe %u of %zu.", i, l->kf_count);
    if (tick) *tick = l->kf[i].tick;
    if (offset) *offset = l->kf[i].offset;
}

uint32_t tw_replay_log_event_count(const tw_replay_log *l) { return (uint32_t)l->ev_count; }

void tw_replay_log_event_at(const tw_replay_log *l, uint32_t i, uint64_t *tick, tw_sim_event *ev)
{
    TW_CHECK(i < l->ev_count, "tw_replay_log_event_at was asked for event %u of %zu.", i, l->ev_count);
    if (tick) *tick = l->ev[i].tick;
    if (ev) *ev = l->ev[i].ev;
}

uint32_t tw_replay_log_event_after(const tw_replay_log *l, uint64_t tick)
{
    size_t lo = 0, hi = l->ev_count; /* first event with tick > wanted */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->ev[mid].tick <= tick) lo = mid + 1;
        else hi = mid;
    }
    return (uint32_t)lo;
}

int64_t tw_replay_log_keyframe_find(const tw_replay_log *l, uint64_t tick)
{
    size_t lo = 0, hi = l->kf_count; /* first keyframe with tick > wanted */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->kf[mid].tick <= tick) lo = mid + 1;
        else hi = mid;
    }
    return (int64_t)lo - 1;
}

tw_status tw_replay_log_check(const tw_replay_log *l, uint64_t scene_hash, const tw_ecs_world *w, tw_diag *diag)
{
    if (l->header.scene_hash != scene_hash) {
        tw_diag_set(diag,
                    "the log was recorded from another scene (\"%s\", scene hash %016llx; this scene's is %016llx): "
                    "replay it with the scene file it was recorded from",
                    l->header.scene_name, (unsigned long long)l->header.scene_hash, (unsigned long long)scene_hash);
        return TW_ERR_INVALID;
    }
    if (w && l->header.layout_fingerprint != tw_ecs_layout_fingerprint(w)) {
        tw_diag_set(diag,
                    "the log was written by a build whose components have another layout (written by \"%s\"): "
                    "replay it with that build",
                    l->header.writer);
        return TW_ERR_INVALID;
    }
    return TW_OK;
}

/* ---- cursor ---------------------------------------------------------------------------------- */

uint64_t tw_replay_log_first(const tw_replay_log *l) { return l->first; }
void tw_replay_log_rewind(tw_replay_log *l, uint64_t offset) { l->cursor = offset < l->first ? l->first : offset; }

tw_status tw_replay_log_next(tw_replay_log *l, tw_replay_record *rec, tw_diag *diag)
{
    TW_CHECK(l && rec, "tw_replay_log_next needs a log and a record to fill.");
    if (l->cursor >= l->limit) return TW_ERR_NOT_FOUND;
    const char *why = NULL;
    int r = frame_at(l, l->cursor, l->limit, rec, &why);
    if (r == REC_NOMEM) {
        tw_diag_set(diag, "out of memory (or a read error) reading the log at offset %llu",
                    (unsigned long long)l->cursor);
        return TW_ERR_NOMEM;
    }
    if (r != REC_OK) {
        tw_diag_set(diag, "the log is damaged at offset %llu: %s (`twin log repair` cuts it there)",
                    (unsigned long long)l->cursor, why);
        return TW_ERR_INVALID;
    }
    l->cursor += RP_FRAME + rec->size;
    return TW_OK;
}

/* ---- repair ------------------------------------------------------------------------------------- */

static tw_status copy_range(int in, int out, uint64_t n, tw_diag *diag)
{
    unsigned char buf[1 << 16];
    uint64_t off = 0;
    while (off < n) {
        size_t want = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        ssize_t k = pread(in, buf, want, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            tw_diag_set(diag, "reading the log failed: %s", k < 0 ? strerror(errno) : "it shrank");
            return TW_ERR_IO;
        }
        for (ssize_t done = 0; done < k;) {
            ssize_t w = write(out, buf + done, (size_t)(k - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                tw_diag_set(diag, "writing the repaired log failed: %s", strerror(errno));
                return TW_ERR_IO;
            }
            done += w;
        }
        off += (uint64_t)k;
    }
    return TW_OK;
}

tw_status tw_replay_log_repair(const char *path, const tw_allocator *allocator, tw_replay_repair_result *result,
                               tw_diag *diag)
{
    TW_CHECK(path && result, "tw_replay_log_repair needs a path and a result to fill.");
    memset(result, 0, sizeof *result);
    tw_replay_log_desc d = { .allocator = allocator, .verify = 1 };
    tw_replay_log *l;
    tw_status st = tw_replay_log_open(path, &d, &l, diag);
    if (st) return st;
    const tw_replay_log_info *info = &l->info;
    result->kept_bytes = info->valid_size;
    result->dropped_bytes = info->dropped_bytes;
    if (info->integrity == TW_REPLAY_INTACT) {
        result->was_intact = 1;
        result->indexed = 1;
        tw_replay_log_close(l);
        return TW_OK;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.repair-tmp", path) >= (int)sizeof tmp) {
        tw_diag_set(diag, "the log's path is too long");
        tw_replay_log_close(l);
        return TW_ERR_INVALID;
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        tw_diag_set(diag, "cannot create %s: %s", tmp, strerror(errno));
        tw_replay_log_close(l);
        return TW_ERR_IO;
    }
    st = copy_range(l->fd, out, info->valid_size, diag);
    rp_buf b = { .alloc = l->alloc };
    if (!st) {
        uint64_t records[TW_REPLAY_REC_TYPE_COUNT];
        memcpy(records, info->records, sizeof records);
        rp_index ix = { info->end_tick, info->first_tick, info->last_tick, info->samples, records,
                        l->kf, l->kf_count, l->sensors, l->sensor_count, l->ev, l->ev_count };
        rp_index_end_encode(&b, &ix, info->valid_size);
        if (b.failed) {
            tw_diag_set(diag, "out of memory writing the index");
            st = TW_ERR_NOMEM;
        }
        for (size_t done = 0; !st && done < b.n;) {
            ssize_t w = write(out, b.p + done, b.n - done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                tw_diag_set(diag, "writing the repaired log failed: %s", strerror(errno));
                st = TW_ERR_IO;
                break;
            }
            done += (size_t)w;
        }
    }
    rp_buf_free(&b);
    if (!st && fsync(out) != 0) {
        tw_diag_set(diag, "syncing the repaired log failed: %s", strerror(errno));
        st = TW_ERR_IO;
    }
    if (close(out) != 0 && !st) {
        tw_diag_set(diag, "closing the repaired log failed: %s", strerror(errno));
        st = TW_ERR_IO;
    }
    if (!st && rename(tmp, path) != 0) {
        tw_diag_set(diag, "cannot replace %s: %s", path, strerror(errno));
        st = TW_ERR_IO;
    }
    if (st) unlink(tmp);
    else result->indexed = 1;
    tw_replay_log_close(l);
    return st;
}
