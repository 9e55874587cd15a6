/* Names, the run's identity, the header payload, and commands. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "replay_internal.h"
#include "twin/ecs_snapshot.h"

static const char *const type_names[TW_REPLAY_REC_TYPE_COUNT] = {
    "unknown", "header", "sensor", "input", "command", "keyframe", "event", "sync", "index", "end"
};

const char *tw_replay_record_type_name(uint32_t type)
{
    return type < TW_REPLAY_REC_TYPE_COUNT ? type_names[type] : "unknown";
}

const char *tw_replay_integrity_name(tw_replay_integrity i)
{
    switch (i) {
    case TW_REPLAY_INTACT: return "ok";
    case TW_REPLAY_UNCLOSED: return "unclosed";
    case TW_REPLAY_TORN_TAIL: return "torn tail";
    case TW_REPLAY_CORRUPT: return "corrupt";
    }
    return "unknown";
}

tw_status tw_replay_scene_hash(const tw_ecs_world *w, const tw_scene *scene, uint64_t *out, tw_diag *diag)
{
    TW_CHECK(w != NULL && out != NULL, "tw_replay_scene_hash needs the loaded world and somewhere to put the hash.");
    char *text = NULL;
    size_t len = 0;
    tw_status st = tw_scene_save_text(w, scene, &text, &len, diag);
    if (st) return st;
    *out = tw_hash_bytes(text, len, 0x74777363656e65ull /* "twscene" */);
    tw_free(tw_ecs_world_allocator(w), text, len + 1);
    return TW_OK;
}

void tw_replay_header_init(tw_replay_header *h, const tw_sim *sim, uint64_t scene_hash, const char *scene_name)
{
    TW_CHECK(h != NULL && sim != NULL, "tw_replay_header_init needs a header to fill and the sim about to run.");
    memset(h, 0, sizeof *h);
    tw_sim_state st;
    tw_sim_state_get(sim, &st);
    h->format_version = TW_REPLAY_FORMAT_VERSION;
    h->scene_hash = scene_hash;
    snprintf(h->scene_name, sizeof h->scene_name, "%s", scene_name ? scene_name : "");
    h->layout_fingerprint = tw_ecs_layout_fingerprint(tw_sim_world(sim));
    h->dt = st.dt;
    h->seed = st.seed;
    h->start_time = st.start_time;
    h->keyframe_every = tw_sim_rebuild_every(sim);
    snprintf(h->writer, sizeof h->writer, "twin 0.1.0");
}

void rp_header_encode(rp_buf *b, const tw_replay_header *h)
{
    rp_u32(b, TW_REPLAY_FORMAT_VERSION);
    rp_u64(b, h->scene_hash);
    rp_u64(b, h->layout_fingerprint);
    rp_f64(b, h->dt);
    rp_u64(b, h->seed);
    rp_f64(b, h->start_time);
    rp_u32(b, h->keyframe_every);
    rp_f64(b, h->created);
    rp_str(b, h->scene_name, sizeof h->scene_name - 1);
    rp_str(b, h->writer, sizeof h->writer - 1);
}

tw_status rp_header_decode(const unsigned char *p, size_t n, tw_replay_header *h)
{
    rp_in in = { p, p + n, 0 };
    memset(h, 0, sizeof *h);
    h->format_version = rp_get_u32(&in);
    h->scene_hash = rp_get_u64(&in);
    h->layout_fingerprint = rp_get_u64(&in);
    h->dt = rp_get_f64(&in);
    h->seed = rp_get_u64(&in);
    h->start_time = rp_get_f64(&in);
    h->keyframe_every = rp_get_u32(&in);
    h->created = rp_get_f64(&in);
    rp_get_str(&in, h->scene_name, sizeof h->scene_name);
    rp_get_str(&in, h->writer, sizeof h->writer);
    if (in.bad || !(h->dt > 0 && h->dt <= 10) || !isfinite(h->start_time) || h->keyframe_every == 0)
        return TW_ERR_INVALID;
    return TW_OK;
}

int rp_record_tick(uint32_t type, const unsigned char *payload, size_t n, uint64_t *tick)
{
    switch (type) {
    case TW_REPLAY_REC_INPUT:
    case TW_REPLAY_REC_COMMAND:
    case TW_REPLAY_REC_KEYFRAME:
    case TW_REPLAY_REC_EVENT:
    case TW_REPLAY_REC_SYNC:
        if (n < 8) return -1;
        memcpy(tick, payload, 8);
        return 1;
    case TW_REPLAY_REC_END:
        if (n < 16) return -1;
        memcpy(tick, payload + 8, 8);
        return 1;
    default:
        return 0;
    }
}

void rp_index_end_encode(rp_buf *b, const rp_index *ix, uint64_t index_offset)
{
    size_t at = rp_record_begin(b, TW_REPLAY_REC_INDEX);
    rp_u64(b, ix->end_tick);
    rp_u64(b, ix->first_tick);
    rp_u64(b, ix->last_tick);
    rp_u64(b, ix->samples);
    rp_u32(b, TW_REPLAY_REC_TYPE_COUNT);
    for (uint32_t t = 0; t < TW_REPLAY_REC_TYPE_COUNT; t++) rp_u64(b, ix->records[t]);
    rp_u32(b, (uint32_t)ix->kf_count);
    for (size_t i = 0; i < ix->kf_count; i++) {
        rp_u64(b, ix->kf[i].tick);
        rp_u64(b, ix->kf[i].offset);
    }
    rp_u32(b, (uint32_t)ix->sensor_count);
    for (size_t i = 0; i < ix->sensor_count; i++) rp_str(b, ix->sensors[i], TW_REPLAY_SENSOR_MAX - 1);
    rp_u32(b, (uint32_t)ix->event_count);
    for (size_t i = 0; i < ix->event_count; i++) {
        const rp_ev *e = &ix->events[i];
        rp_u64(b, e->tick);
        rp_f64(b, e->ev.time);
        rp_u64(b, e->ev.alarm.id);
        rp_u64(b, e->ev.target.id);
        rp_f32(b, e->ev.value);
        rp_u32(b, (uint32_t)e->ev.state);
    }
    rp_record_end(b, at);
    at = rp_record_begin(b, TW_REPLAY_REC_END);
    rp_u64(b, index_offset);
    rp_u64(b, ix->end_tick);
    rp_record_end(b, at);
}

/* ---- zero runs ------------------------------------------------------------------- */

/* Tokens: varint h; h odd: a literal of h >> 1 bytes follows; h even: h >> 1
 * zero bytes. Runs shorter than RP_RLE_MIN_ZEROS stay in literals. */
void rp_rle_encode(rp_buf *b, const unsigned char *raw, size_t n)
{
    rp_u64(b, n);
    size_t lit = 0, i = 0;
    while (i < n) {
        /* memchr finds the next zero; zero runs are then skipped a word at a time. */
        const unsigned char *z = memchr(raw + i, 0, n - i);
        if (!z) break;
        i = (size_t)(z - raw);
        size_t j = i;
        for (uint64_t w; j + 8 <= n; j += 8) {
            memcpy(&w, raw + j, 8);
            if (w) break;
        }
        while (j < n && raw[j] == 0) j++;
        if (j - i >= RP_RLE_MIN_ZEROS) {
            if (i > lit) {
                rp_varint(b, (uint64_t)(i - lit) << 1 | 1);
                rp_put(b, raw + lit, i - lit);
            }
            rp_varint(b, (uint64_t)(j - i) << 1);
            lit = j;
        }
        i = j;
    }
    if (n > lit) {
        rp_varint(b, (uint64_t)(n - lit) << 1 | 1);
        rp_put(b, raw + lit, n - lit);
    }
}

int rp_rle_decode(const unsigned char *p, size_t n, unsigned char *out, uint64_t *raw_size)
{
    rp_in in = { p, p + n, 0 };
    uint64_t want = rp_get_u64(&in), got = 0;
    if (in.bad || want > RP_RLE_MAX_RAW) return -1;
    while (in.p < in.end) {
        uint64_t h = rp_get_varint(&in), len = h >> 1;
        if (in.bad || len == 0 || len > want - got) return -1;
        if (h & 1) {
            const unsigned char *lit = rp_take(&in, (size_t)len);
            if (!lit) return -1;
            if (out) memcpy(out + got, lit, (size_t)len);
        } else if (out) {
            memset(out + got, 0, (size_t)len);
        }
        got += len;
    }
    if (got != want) return -1;
    *raw_size = want;
    return 0;
}

tw_status tw_replay_keyframe_ecs(const tw_replay_keyframe *kf, const tw_allocator *allocator, void **scratch,
                                 size_t *scratch_cap, const void **data, size_t *size)
{
    TW_CHECK(kf && scratch && scratch_cap && data && size, "tw_replay_keyframe_ecs needs a keyframe, a scratch buffer and out pointers.");
    const tw_replay_section *s = tw_replay_keyframe_section(kf, TW_REPLAY_SECTION_ECS);
    if (s) {
        *data = s->data;
        *size = s->size;
        return TW_OK;
    }
    s = tw_replay_keyframe_section(kf, TW_REPLAY_SECTION_ECS_RLE);
    uint64_t raw;
    if (!s || rp_rle_decode(s->data, s->size, NULL, &raw)) return TW_ERR_INVALID;
    tw_allocator a = tw_allocator_or_default(allocator);
    if (tw_grow(&a, scratch, scratch_cap, raw ? (size_t)raw : 1, 1)) return TW_ERR_NOMEM;
    rp_rle_decode(s->data, s->size, *scratch, &raw);
    *data = *scratch;
    *size = (size_t)raw;
    return TW_OK;
}

/* ---- commands ----------------------------------------------------------------- */

tw_status tw_replay_command_apply(tw_ecs_world *w, const tw_replay_command *cmd, tw_diag *diag)
{
    TW_CHECK(w != NULL && cmd != NULL, "tw_replay_command_apply needs a world and a command.");
    tw_entity e = tw_ecs_lookup_path(w, cmd->entity);
    if (tw_entity_is_null(e)) {
        tw_diag_set(diag, "command on \"%s\": no such entity", cmd->entity);
        return TW_ERR_NOT_FOUND;
    }
    if (cmd->op == TW_REPLAY_CMD_DESTROY) {
        tw_ecs_entity_destroy(w, e);
        return TW_OK;
    }
    if (cmd->op != TW_REPLAY_CMD_SET) {
        tw_diag_set(diag, "command on \"%s\": unknown operation %d", cmd->entity, (int)cmd->op);
        return TW_ERR_INVALID;
    }
    tw_ecs_field_ref ref;
    tw_status st = tw_ecs_field_resolve(w, cmd->field, &ref, diag);
    if (st) return st;
    void *data = tw_ecs_get(w, e, ref.component);
    if (!data) {
        tw_diag_set(diag, "command on \"%s\": the entity has no %s component", cmd->entity,
                    tw_ecs_component_get_info(w, ref.component)->name);
        return TW_ERR_INVALID;
    }
    if (!tw_field_write_f64(data, ref.field, ref.element, cmd->value)) {
        tw_diag_set(diag, "command on \"%s\": %s is not a number field (%s)", cmd->entity, cmd->field,
                    tw_type_name(ref.field->type));
        return TW_ERR_INVALID;
    }
    return TW_OK;
}
