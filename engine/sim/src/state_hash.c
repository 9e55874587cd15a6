/* tw_sim_state_hash: one 64-bit hash over everything that is simulated.
 *
 * The stream, in this order: the sim's tick, dt, start time, seed and random
 * state; then every live entity in slot order with its slot, parent slot,
 * kind and name, its component count, and each of its components in id order
 * (the id, then every field not flagged TW_FIELD_NOHASH, through reflection).
 * Nothing depends on the archetype tables or on pointers, so two worlds with
 * the same contents hash alike however they were built.
 *
 * Values are hashed by their bytes with the usual traps closed: -0.0 hashes as
 * +0.0 and every NaN alike, strings stop at their NUL (stale bytes after it do
 * not count), arrays with a length field count only their used elements,
 * entity references hash as slot index plus generation, and struct padding is
 * never read. */
#include <string.h>

#include "sim_internal.h"
#include "twin/hash.h"

enum { NO_LEN = UINT32_MAX, CHUNK = 64 };

/* One hashed field of one component, resolved once per call. */
typedef struct hash_field {
    uint32_t offset;
    uint32_t len_offset;      /* offset of the U32 used-length field, or NO_LEN */
    uint32_t count;           /* elements (STR: buffer bytes) */
    uint32_t tuple;           /* scalars per element */
    tw_type type;
} hash_field;

typedef struct hash_plan {
    hash_field fields[TW_ECS_MAX_COMPONENTS][TW_ECS_MAX_FIELDS];
    uint32_t field_count[TW_ECS_MAX_COMPONENTS];
} hash_plan;

static void plan_build(const tw_ecs_world *w, hash_plan *p)
{
    uint32_t n = tw_ecs_component_count(w);
    for (uint32_t id = 1; id <= n && id <= TW_ECS_MAX_COMPONENTS; id++) {
        const tw_ecs_component_info *info = tw_ecs_component_get_info(w, (tw_component){ id });
        uint32_t k = 0;
        for (uint32_t i = 0; info && i < info->field_count && k < TW_ECS_MAX_FIELDS; i++) {
            const tw_field *f = &info->fields[i];
            if (f->flags & TW_FIELD_NOHASH) continue;
            hash_field *hf = &p->fields[id - 1][k++];
            hf->offset = f->offset;
            hf->type = f->type;
            hf->count = f->count ? f->count : 1;
            hf->tuple = f->tuple ? f->tuple : 1;
            hf->len_offset = NO_LEN;
            uint32_t li;
            const tw_field *len = f->len_field ? tw_ecs_field_lookup(info, f->len_field, &li) : NULL;
            if (len && len->type == TW_TYPE_U32) hf->len_offset = len->offset;
        }
        p->field_count[id - 1] = k;
    }
}

static void hash_f32s(tw_hasher *h, const unsigned char *p, uint32_t n)
{
    uint32_t buf[CHUNK];
    while (n) {
        uint32_t m = n < CHUNK ? n : CHUNK;
        for (uint32_t i = 0; i < m; i++) {
            float v;
            memcpy(&v, p + 4u * i, 4);
            if (v == 0.0f) v = 0.0f;          /* fold -0.0 */
            if (v != v) v = __builtin_nanf(""); /* one NaN */
            memcpy(&buf[i], &v, 4);
        }
        tw_hasher_update(h, buf, (size_t)m * 4);
        p += 4u * m;
        n -= m;
    }
}

static void hash_field_value(tw_hasher *h, const unsigned char *data, const hash_field *f)
{
    const unsigned char *p = data + f->offset;
    if (f->type == TW_TYPE_STR) {
        const unsigned char *nul = memchr(p, '\0', f->count);
        size_t len = nul ? (size_t)(nul - p) : f->count;
        tw_hasher_u64(h, len);
        tw_hasher_update(h, p, len);
        return;
    }
    uint32_t elems = f->count;
    if (f->len_offset != NO_LEN) {
        uint32_t used;
        memcpy(&used, data + f->len_offset, sizeof used);
        if (used < elems) elems = used;
    }
    uint32_t n = elems * f->tuple;
    switch (f->type) {
    case TW_TYPE_F32:
        hash_f32s(h, p, n);
        break;
    case TW_TYPE_F64:
        for (uint32_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, p + 8u * i, 8);
            tw_hasher_f64(h, v);
        }
        break;
    case TW_TYPE_ENTITY: /* the handle is slot index + generation already */
    case TW_TYPE_U64:
        tw_hasher_update(h, p, (size_t)n * 8);
        break;
    case TW_TYPE_I32:
    case TW_TYPE_U32:
    case TW_TYPE_ENUM:
        tw_hasher_update(h, p, (size_t)n * 4);
        break;
    case TW_TYPE_BOOL:
        tw_hasher_update(h, p, n);
        break;
    default:
        break;
    }
}

uint64_t tw_sim_state_hash(const tw_sim *s)
{
    TW_CHECK(s != NULL, "tw_sim_state_hash needs a sim: pass the one tw_sim_new made.");
    const tw_ecs_world *w = s->world;
    hash_plan plan;
    plan_build(w, &plan);

    tw_hasher h;
    tw_hasher_init(&h, 0x74776e2d73746174ull /* "twn-stat" */);
    tw_hasher_u64(&h, s->tick);
    tw_hasher_f64(&h, s->dt);
    tw_hasher_f64(&h, s->start_time);
    tw_hasher_u64(&h, s->seed);
    tw_hasher_u64(&h, s->rng.state);
    tw_hasher_u64(&h, s->rng.inc);

    uint32_t cap = tw_ecs_entity_capacity(w);
    tw_component comps[TW_ECS_MAX_COMPONENTS];
    for (uint32_t slot = 0; slot < cap; slot++) {
        tw_entity e = tw_ecs_entity_at(w, slot);
        if (tw_entity_is_null(e)) continue;
        tw_entity parent = tw_ecs_entity_parent(w, e);
        const char *name = tw_ecs_entity_name(w, e);
        size_t name_len = strlen(name);
        tw_hasher_u64(&h, slot);
        tw_hasher_u64(&h, tw_entity_is_null(parent) ? UINT64_MAX : tw_entity_index(parent));
        tw_hasher_u64(&h, (uint64_t)tw_ecs_entity_kind(w, e));
        tw_hasher_u64(&h, name_len);
        tw_hasher_update(&h, name, name_len);

        uint32_t nc = tw_ecs_entity_components(w, e, comps, TW_ECS_MAX_COMPONENTS);
        if (nc > TW_ECS_MAX_COMPONENTS) nc = TW_ECS_MAX_COMPONENTS;
        tw_hasher_u64(&h, nc);
        for (uint32_t c = 0; c < nc; c++) {
            uint32_t id = comps[c].id;
            tw_hasher_u64(&h, id);
            const unsigned char *data = tw_ecs_get(w, e, comps[c]);
            if (!data || id == 0 || id > TW_ECS_MAX_COMPONENTS) continue;
            for (uint32_t f = 0; f < plan.field_count[id - 1]; f++) hash_field_value(&h, data, &plan.fields[id - 1][f]);
        }
    }
    return tw_hasher_final(&h);
}
