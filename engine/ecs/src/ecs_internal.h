/* ecs_internal.h: the world's private layout, shared by the ECS sources.
 *
 * Storage: archetype tables (one per component set, keyed by a 64-bit mask
 * with bit id-1 per component). A table is one heap block holding an entity
 * column and one 64-byte-aligned column per component. Entity records are
 * indexed by slot; hierarchy data lives beside them, outside the tables. */
#ifndef TWIN_ECS_INTERNAL_H
#define TWIN_ECS_INTERNAL_H

#include <string.h>

#include "twin/ecs.h"
#include "twin/strmap.h"

#define ECS_NONE UINT32_MAX
#define ECS_NO_COLUMN 0xFFu

enum { ECS_COLUMN_ALIGN = 64 };

static inline uint64_t ecs_bit(uint32_t component_id) { return 1ull << (component_id - 1); }

typedef struct ecs_component {
    tw_ecs_component_info info; /* pointers into blob */
    void *blob;                 /* defaults, fields array, strings: one allocation */
    size_t blob_size;
} ecs_component;

typedef struct ecs_table {
    uint64_t mask;
    uint32_t index;
    uint32_t column_count;
    uint32_t count, cap;
    tw_entity *entities;                                 /* count handles */
    uint8_t *columns[TW_ECS_MAX_COMPONENTS];             /* column i holds component column_comp[i] */
    uint32_t column_size[TW_ECS_MAX_COMPONENTS];
    uint8_t column_comp[TW_ECS_MAX_COMPONENTS];
    uint8_t column_of[TW_ECS_MAX_COMPONENTS + 1];        /* component id -> column, ECS_NO_COLUMN if absent */
    uint32_t add_edge[TW_ECS_MAX_COMPONENTS + 1];        /* cached target table + 1; 0 unknown */
    uint32_t remove_edge[TW_ECS_MAX_COMPONENTS + 1];
    /* Each column is its own allocation, grown with realloc: a big column
     * then moves by remapping pages instead of copying and faulting them
     * in again. raw differs from columns[i] only for over-aligned types. */
    void *raw[TW_ECS_MAX_COMPONENTS];
    size_t raw_bytes[TW_ECS_MAX_COMPONENTS];
    uint32_t column_align[TW_ECS_MAX_COMPONENTS];
    size_t entity_bytes;
} ecs_table;

/* An entity slot. alive: the slot holds a live entity; otherwise row is the
 * next free slot. table is ECS_NONE while a deferred create is pending. The
 * kind lives here rather than in ecs_hier to keep both small: a million
 * entities touch these arrays once each, and fresh pages are not free. */
typedef struct ecs_record {
    uint32_t table;
    uint32_t row;
    uint32_t gen;
    uint8_t alive;
    uint8_t kind;
    uint16_t unused;
} ecs_record;

/* Hierarchy links of a slot (ECS_NONE for none). */
typedef struct ecs_hier {
    uint32_t parent;
    uint32_t first_child, last_child;
    uint32_t next, prev;
} ecs_hier;

/* Names and external ids, allocated only once a world uses them. */
typedef struct ecs_strs {
    char *name;     /* NULL when unnamed */
    char *ext_id;   /* NULL when none */
} ecs_strs;

enum ecs_cmd_op { ECS_CMD_CREATE = 1, ECS_CMD_ADD, ECS_CMD_SET, ECS_CMD_REMOVE, ECS_CMD_DESTROY };

struct tw_ecs_world {
    tw_allocator alloc;
    tw_log log;

    ecs_component comps[TW_ECS_MAX_COMPONENTS + 1]; /* index by id; [0] unused */
    uint32_t comp_count;

    ecs_record *records;
    ecs_hier *hier;
    ecs_strs *strs;         /* strs_cap entries, NULL until the first name or id */
    uint32_t strs_cap;
    uint32_t slot_count;    /* slots ever used: the entity capacity */
    uint32_t record_cap, hier_cap;
    uint32_t free_head;     /* first free slot, ECS_NONE when none */
    uint32_t live_count;

    ecs_table **tables;
    uint32_t table_count, table_cap;
    uint64_t *map_keys;     /* table lookup by mask: open addressing */
    uint32_t *map_vals;     /* table index, ECS_NONE empty */
    uint32_t map_cap;

    uint64_t structure_version;

    /* The last mask created with, and its table: skips the lookup when a
     * loader creates many entities alike. */
    uint64_t create_mask;
    uint32_t create_table;

    /* deferred commands */
    int defer_depth;
    unsigned char *cmds;
    size_t cmd_size, cmd_cap;

    /* hierarchy */
    uint32_t root_first, root_last;
    tw_strmap names;        /* "<parent slot>/<name>" or "r/<name>" -> entity id */
    tw_strmap ext_ids;      /* external id -> entity id */
};

static inline tw_entity ecs_handle(const tw_ecs_world *w, uint32_t slot)
{
    tw_entity e = { ((uint64_t)w->records[slot].gen << 32) | slot };
    return e;
}

/* The record of a live entity, or NULL for a dead or foreign handle. */
static inline ecs_record *ecs_record_of(const tw_ecs_world *w, tw_entity e)
{
    uint32_t slot = (uint32_t)e.id;
    if (slot >= w->slot_count) return NULL;
    ecs_record *r = &w->records[slot];
    if (!r->alive || r->gen != (uint32_t)(e.id >> 32)) return NULL;
    return r;
}

#define ECS_CHECK_COMPONENT(w, c, fn)                                                                         \
    TW_CHECK((c).id >= 1 && (c).id <= (w)->comp_count,                                                        \
             "%s was given component id %u, which this world never registered: register it first and use " \
             "the id tw_ecs_component_register returned.",                                                   \
             fn, (unsigned)(c).id)

/* world.c */
tw_status ecs_table_for_mask(tw_ecs_world *w, uint64_t mask, uint32_t *out);
tw_status ecs_slot_reserve(tw_ecs_world *w, uint32_t *slot);
void ecs_slot_release(tw_ecs_world *w, uint32_t slot);
tw_status ecs_place_pending(tw_ecs_world *w, uint32_t slot, uint64_t mask);
tw_status ecs_add_now(tw_ecs_world *w, uint32_t slot, uint32_t comp, const void *value, void **data);
void ecs_remove_now(tw_ecs_world *w, uint32_t slot, uint32_t comp);
void ecs_destroy_now(tw_ecs_world *w, uint32_t slot);

/* hierarchy.c */
void ecs_hier_init_slot(tw_ecs_world *w, uint32_t slot); /* clears and appends to the roots */
void ecs_hier_release(tw_ecs_world *w, uint32_t slot);   /* leaf only: unlinks, drops name and id */
void ecs_hier_fini(tw_ecs_world *w);

/* defer.c */
tw_status ecs_defer_push(tw_ecs_world *w, uint32_t op, tw_entity e, uint32_t comp, uint64_t mask, const void *data,
                         uint32_t size);
void ecs_defer_fini(tw_ecs_world *w);

/* reflect.c */
void ecs_components_fini(tw_ecs_world *w);

#endif
