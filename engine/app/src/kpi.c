/* KPI sampling: a reflected field of one entity, or an aggregate over a
 * subtree, read by reflection (so any component's field can be a KPI). */
#include <math.h>
#include <string.h>

#include "twin/app.h"

typedef struct kpi_slot {
    tw_scene_kpi def;
    tw_ecs_field_ref ref;
    tw_entity root;           /* null: the whole world */
    tw_entity *members;       /* entities aggregated (value: just root) */
    uint32_t member_count, member_cap;
} kpi_slot;

struct tw_kpi_sampler {
    tw_ecs_world *world;
    tw_allocator alloc;
    kpi_slot *slots;
    uint32_t count;
    uint64_t members_version; /* structure version the member lists were built at */
};

static int push_member(tw_kpi_sampler *k, kpi_slot *slot, tw_entity e)
{
    size_t cap = slot->member_cap;
    if (tw_grow(&k->alloc, (void **)&slot->members, &cap, slot->member_count + 1u, sizeof(tw_entity))) return -1;
    slot->member_cap = (uint32_t)cap;
    slot->members[slot->member_count++] = e;
    return 0;
}

static int collect_subtree(tw_kpi_sampler *k, kpi_slot *slot, tw_entity e)
{
    if (tw_ecs_has(k->world, e, slot->ref.component) && push_member(k, slot, e)) return -1;
    for (tw_entity c = tw_ecs_entity_first_child(k->world, e); !tw_entity_is_null(c);
         c = tw_ecs_entity_next_sibling(k->world, c))
        if (collect_subtree(k, slot, c)) return -1;
    return 0;
}

/* Member lists follow the hierarchy, so they are rebuilt only after a
 * structural change (agents leaving, parts made), not every sample. */
static tw_status rebuild_members(tw_kpi_sampler *k)
{
    for (uint32_t i = 0; i < k->count; i++) {
        kpi_slot *slot = &k->slots[i];
        slot->member_count = 0;
        if (slot->def.aggregate == TW_SCENE_AGG_VALUE) {
            if (tw_ecs_entity_alive(k->world, slot->root) && push_member(k, slot, slot->root)) return TW_ERR_NOMEM;
            continue;
        }
        if (!tw_entity_is_null(slot->root)) {
            if (tw_ecs_entity_alive(k->world, slot->root) && collect_subtree(k, slot, slot->root)) return TW_ERR_NOMEM;
            continue;
        }
        for (tw_entity r = tw_ecs_root_first(k->world); !tw_entity_is_null(r);
             r = tw_ecs_entity_next_sibling(k->world, r))
            if (collect_subtree(k, slot, r)) return TW_ERR_NOMEM;
    }
    k->members_version = tw_ecs_world_structure_version(k->world);
    return TW_OK;
}

tw_status tw_kpi_sampler_new(tw_ecs_world *w, const tw_scene_kpi *kpis, uint32_t count, tw_kpi_sampler **out,
                             tw_diag *diag)
{
    *out = NULL;
    const tw_allocator *alloc = tw_ecs_world_allocator(w);
    tw_kpi_sampler *k = tw_calloc(alloc, 1, sizeof *k);
    if (!k) return TW_ERR_NOMEM;
    k->world = w;
    k->alloc = *alloc;
    k->slots = tw_calloc(alloc, count ? count : 1, sizeof *k->slots);
    if (!k->slots) {
        tw_free(alloc, k, sizeof *k);
        return TW_ERR_NOMEM;
    }
    k->count = count;
    tw_status st = TW_OK;
    for (uint32_t i = 0; i < count && !st; i++) {
        kpi_slot *slot = &k->slots[i];
        slot->def = kpis[i];
        st = tw_ecs_field_resolve(w, kpis[i].field, &slot->ref, diag);
        if (st) {
            if (diag) {
                /* Prefix the resolver's message with the KPI's name. */
                char msg[TW_DIAG_MSG_MAX];
                memcpy(msg, diag->message, sizeof msg);
                tw_diag_set(diag, "KPI \"%.60s\": %.400s", kpis[i].name, msg);
            }
            break;
        }
        if (kpis[i].entity[0]) {
            slot->root = tw_ecs_lookup_path(w, kpis[i].entity);
            if (tw_entity_is_null(slot->root)) {
                tw_diag_set(diag, "KPI \"%s\": no entity at path \"%s\"", kpis[i].name, kpis[i].entity);
                st = TW_ERR_NOT_FOUND;
            }
        } else if (kpis[i].aggregate == TW_SCENE_AGG_VALUE) {
            tw_diag_set(diag, "KPI \"%s\": aggregate \"value\" needs an entity", kpis[i].name);
            st = TW_ERR_INVALID;
        }
    }
    if (!st) st = rebuild_members(k);
    if (st) {
        tw_kpi_sampler_free(k);
        return st;
    }
    *out = k;
    return TW_OK;
}

void tw_kpi_sampler_free(tw_kpi_sampler *k)
{
    if (!k) return;
    for (uint32_t i = 0; i < k->count; i++)
        tw_free(&k->alloc, k->slots[i].members, k->slots[i].member_cap * sizeof(tw_entity));
    tw_free(&k->alloc, k->slots, (k->count ? k->count : 1) * sizeof *k->slots);
    tw_free(&k->alloc, k, sizeof *k);
}

uint32_t tw_kpi_sampler_count(const tw_kpi_sampler *k) { return k->count; }
const tw_scene_kpi *tw_kpi_sampler_def(const tw_kpi_sampler *k, uint32_t i) { return &k->slots[i].def; }

void tw_kpi_sampler_sample(tw_kpi_sampler *k, double *values)
{
    if (k->members_version != tw_ecs_world_structure_version(k->world) && rebuild_members(k)) {
        for (uint32_t i = 0; i < k->count; i++) values[i] = NAN;
        return;
    }
    for (uint32_t i = 0; i < k->count; i++) {
        kpi_slot *slot = &k->slots[i];
        double acc = 0.0, lo = INFINITY, hi = -INFINITY;
        uint32_t n = 0;
        for (uint32_t m = 0; m < slot->member_count; m++) {
            const void *data = tw_ecs_get(k->world, slot->members[m], slot->ref.component);
            double v;
            if (!data || !tw_field_read_f64(data, slot->ref.field, slot->ref.element, &v)) continue;
            acc += v;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
            n++;
        }
        double out = NAN;
        if (n) {
            switch (slot->def.aggregate) {
            case TW_SCENE_AGG_VALUE:
            case TW_SCENE_AGG_SUM: out = acc; break;
            case TW_SCENE_AGG_MEAN: out = acc / n; break;
            case TW_SCENE_AGG_MIN: out = lo; break;
            case TW_SCENE_AGG_MAX: out = hi; break;
            }
        }
        values[i] = out;
    }
}
