/* twin/ecs.h: the entity-component store that holds a twin's live state.
 *
 * A tw_ecs_world owns entities, the registered component types and their
 * data. Entities are generational handles: a destroyed entity's handle stays
 * detectably dead even after its slot is reused. Components are plain C
 * structs registered with reflection (every field's name, type, offset and
 * unit), which the scene loader, bindings, snapshots, inspector and state
 * hash all use, so a new component needs no code in any of them.
 *
 * Storage is archetype tables: entities with the same set of components share
 * one table with one contiguous column per component, so a query hands out
 * plain arrays. Pointers returned by get/add are valid until the next
 * structural change (create, destroy, add, remove) in that world.
 *
 * Structural changes made between tw_ecs_defer_begin and tw_ecs_defer_end are
 * queued and applied, in order, at the end (use this while iterating a query
 * or inside a physics callback). Entity handles created while deferred are
 * valid at once; their components appear at defer_end.
 *
 * Every entity also has hierarchy data outside the component tables: a name
 * (unique among its siblings), a parent, a kind (site, building, storey,
 * space, ...) and an optional external id (an IFC GlobalId, a CityJSON id),
 * with lookup by path ("hq/floor-2/room-201") and by external id.
 *
 * There are no globals: worlds are independent, and two can live side by side
 * (a what-if fork beside its baseline). A world is not thread-safe. */
#ifndef TWIN_ECS_H
#define TWIN_ECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twin/alloc.h"
#include "twin/log.h"
#include "twin/status.h"

/* ---- constants ---------------------------------------------------------- */

enum {
    TW_ECS_MAX_COMPONENTS = 64,    /* component types per world */
    TW_ECS_MAX_FIELDS = 32,        /* reflected fields per component */
    TW_ECS_QUERY_MAX_TERMS = 8,    /* components a query can ask for */
    TW_ECS_QUERY_MAX_EXCLUDE = 4,
    TW_ECS_NAME_MAX = 64,          /* entity name, including the NUL */
    TW_ECS_PATH_MAX = 512
};

/* ---- handles ------------------------------------------------------------ */

/* Entity handle: low 32 bits slot index, high 32 bits generation. 0 is invalid. */
typedef struct tw_entity { uint64_t id; } tw_entity;
/* Component type handle: 1..TW_ECS_MAX_COMPONENTS within one world. 0 is invalid. */
typedef struct tw_component { uint32_t id; } tw_component;

#define TW_ENTITY_NULL ((tw_entity){0})
static inline bool tw_entity_is_null(tw_entity e) { return e.id == 0; }
static inline bool tw_entity_eq(tw_entity a, tw_entity b) { return a.id == b.id; }
static inline uint32_t tw_entity_index(tw_entity e) { return (uint32_t)e.id; }

typedef struct tw_ecs_world tw_ecs_world;

/* ---- reflection ----------------------------------------------------------- */

typedef enum tw_type {
    TW_TYPE_F32 = 1,
    TW_TYPE_F64,
    TW_TYPE_I32,
    TW_TYPE_U32,
    TW_TYPE_U64,
    TW_TYPE_BOOL,   /* stored as uint8_t (0 or 1) */
    TW_TYPE_ENUM,   /* stored as int32_t, named through enum_names */
    TW_TYPE_ENTITY, /* tw_entity; saved in scenes as a path */
    TW_TYPE_STR     /* char[count], NUL-terminated */
} tw_type;

enum tw_field_flags {
    TW_FIELD_DERIVED = 1u << 0, /* computed by a system: not read from or written to scenes */
    TW_FIELD_NOHASH = 1u << 1   /* presentation only: left out of the state hash */
};

/* One reflected field. A field holds count elements of tuple scalars each:
 * a scalar has count 1 and tuple 1, a vec3 count 1 and tuple 3, a polygon of
 * up to 32 points count 32 and tuple 2 (0 reads as 1 for both). For
 * TW_TYPE_STR count is the buffer size in bytes. A variable-length array names
 * the U32 field that holds its used element count in len_field. In scene JSON
 * a scalar is a value, a single tuple a flat array, and count > 1 an array of
 * values or of tuples. */
typedef struct tw_field {
    const char *name;
    tw_type type;
    uint32_t offset;
    uint32_t count;               /* elements; 0 means 1 */
    uint32_t tuple;               /* scalars per element; 0 means 1 */
    const char *unit;             /* SI symbol ("degC", "W", "m", "ppm", "kWh"); NULL for none */
    const char *const *enum_names;/* TW_TYPE_ENUM: names of values 0..enum_count-1 */
    uint32_t enum_count;
    const char *len_field;        /* arrays: name of the U32 field holding the used length */
    uint32_t flags;               /* tw_field_flags */
    const char *doc;              /* one line for docs and the inspector */
} tw_field;

typedef struct tw_ecs_component_desc {
    const char *name;             /* PascalCase, unique in the world ("Thermal") */
    uint32_t size;
    uint32_t align;               /* 0: 8 */
    const tw_field *fields;
    uint32_t field_count;
    const void *defaults;         /* value a new component starts with; NULL: all zero */
    const char *doc;
} tw_ecs_component_desc;

/* What the world knows of a registered component (the desc, copied). */
typedef struct tw_ecs_component_info {
    tw_component id;
    const char *name;
    uint32_t size;
    uint32_t align;
    const tw_field *fields;       /* points into the world's copy of the desc's array */
    uint32_t field_count;
    const void *defaults;         /* never NULL (zeros when the desc gave none) */
    const char *doc;
} tw_ecs_component_info;

/* A resolved "Component.field" (or "Component.field[i]") reference. */
typedef struct tw_ecs_field_ref {
    tw_component component;
    const tw_field *field;
    uint32_t field_index;
    uint32_t element;             /* scalar index within the field (element * tuple + component) */
} tw_ecs_field_ref;

/* ---- hierarchy kinds ------------------------------------------------------ */

typedef enum tw_kind {
    TW_KIND_NONE = 0,
    TW_KIND_SITE,
    TW_KIND_BUILDING,
    TW_KIND_STOREY,
    TW_KIND_SPACE,
    TW_KIND_ELEMENT,
    TW_KIND_EQUIPMENT,
    TW_KIND_SENSOR,
    TW_KIND_AGENT,
    TW_KIND_WAYPOINT,
    TW_KIND_ALARM,
    TW_KIND_GROUP,
    TW_KIND_COUNT
} tw_kind;

const char *tw_kind_name(tw_kind k);              /* "site", "storey", ...; "none" */
bool tw_kind_from_name(const char *name, tw_kind *out);

/* ---- world lifecycle ---------------------------------------------------- */

typedef struct tw_ecs_world_desc {
    const tw_allocator *allocator; /* NULL: the C library */
    const tw_log *log;             /* NULL: default stderr log; not retained beyond the world */
    uint32_t initial_entities;     /* capacity hint */
} tw_ecs_world_desc;

/* Returns NULL when out of memory. desc may be NULL. */
tw_ecs_world *tw_ecs_world_new(const tw_ecs_world_desc *desc);
void tw_ecs_world_free(tw_ecs_world *w);
const tw_allocator *tw_ecs_world_allocator(const tw_ecs_world *w);
/* Increases on every structural change; caches compare it to know when to rebuild. */
uint64_t tw_ecs_world_structure_version(const tw_ecs_world *w);

/* ---- components ----------------------------------------------------------- */

/* Registers a component type. Its id is the registration order (1, 2, ...), so
 * worlds that register the same components in the same order share ids.
 * Fails with TW_ERR_LIMIT past TW_ECS_MAX_COMPONENTS, TW_ERR_INVALID on a
 * duplicate name or a field outside the struct. */
tw_status tw_ecs_component_register(tw_ecs_world *w, const tw_ecs_component_desc *desc, tw_component *out);
tw_component tw_ecs_component_lookup(const tw_ecs_world *w, const char *name); /* id 0 if unknown */
const tw_ecs_component_info *tw_ecs_component_get_info(const tw_ecs_world *w, tw_component c);
uint32_t tw_ecs_component_count(const tw_ecs_world *w); /* ids run 1..count */
const tw_field *tw_ecs_field_lookup(const tw_ecs_component_info *info, const char *name, uint32_t *index);

/* Resolves "Thermal.temperature" or "Shape.size[2]" (a scalar index). TW_ERR_NOT_FOUND with a
 * "did you mean" in diag when a name is unknown. */
tw_status tw_ecs_field_resolve(const tw_ecs_world *w, const char *ref, tw_ecs_field_ref *out, tw_diag *diag);

/* Reads or writes one numeric scalar (index < tw_field_scalars) of a field as double (bool/enum/int
 * converted). Returns false for non-numeric types (STR, ENTITY). */
bool tw_field_read_f64(const void *component_data, const tw_field *f, uint32_t element, double *out);
bool tw_field_write_f64(void *component_data, const tw_field *f, uint32_t element, double value);
uint32_t tw_field_scalars(const tw_field *f); /* count * tuple, with 0 read as 1 (STR: 1) */
size_t tw_type_size(tw_type t);              /* bytes of one element (1 for STR) */
const char *tw_type_name(tw_type t);

/* ---- entities ------------------------------------------------------------ */

/* A new entity with no components. Returns TW_ENTITY_NULL only when out of memory. */
tw_entity tw_ecs_entity_create(tw_ecs_world *w);
/* A new entity with these components, each at its default value. */
tw_entity tw_ecs_entity_create_with(tw_ecs_world *w, const tw_component *components, uint32_t count);
/* count entities with the same components in one go (the fast path for large
 * scenes); handles go to out (may be NULL). Not allowed while deferred. */
tw_status tw_ecs_entity_create_bulk(tw_ecs_world *w, const tw_component *components, uint32_t component_count,
                                    uint32_t count, tw_entity *out);
/* Destroys the entity and, recursively, its children. A dead handle is a no-op. */
void tw_ecs_entity_destroy(tw_ecs_world *w, tw_entity e);
bool tw_ecs_entity_alive(const tw_ecs_world *w, tw_entity e);
uint32_t tw_ecs_entity_count(const tw_ecs_world *w);     /* live entities */
/* Slot indices run 0..capacity-1; the entity living in a slot, or TW_ENTITY_NULL.
 * Walking slots in order visits entities in a stable order (creation order for
 * a world built once). */
uint32_t tw_ecs_entity_capacity(const tw_ecs_world *w);
tw_entity tw_ecs_entity_at(const tw_ecs_world *w, uint32_t index);
/* Components of e in id order; returns how many (may exceed max, then out holds max). */
uint32_t tw_ecs_entity_components(const tw_ecs_world *w, tw_entity e, tw_component *out, uint32_t max);

/* Adds c (at its default value) if missing; returns its data, or NULL while
 * deferred (the add is queued) or when out of memory. */
void *tw_ecs_add(tw_ecs_world *w, tw_entity e, tw_component c);
/* Adds if missing, then copies size bytes of value in. Works while deferred. */
tw_status tw_ecs_set(tw_ecs_world *w, tw_entity e, tw_component c, const void *value);
void tw_ecs_remove(tw_ecs_world *w, tw_entity e, tw_component c);
bool tw_ecs_has(const tw_ecs_world *w, tw_entity e, tw_component c);
/* The component's data, or NULL when e is dead or lacks c. */
void *tw_ecs_get(const tw_ecs_world *w, tw_entity e, tw_component c);

/* ---- deferred structural changes ---------------------------------------- */

/* Nestable; changes apply when the outermost defer_end runs. */
void tw_ecs_defer_begin(tw_ecs_world *w);
tw_status tw_ecs_defer_end(tw_ecs_world *w);
bool tw_ecs_is_deferred(const tw_ecs_world *w);

/* ---- queries -------------------------------------------------------------- */

typedef struct tw_ecs_query_desc {
    tw_component with[TW_ECS_QUERY_MAX_TERMS];       /* terminated by the first 0 id */
    tw_component without[TW_ECS_QUERY_MAX_EXCLUDE];
} tw_ecs_query_desc;

/* Caller-owned; caches the matching tables and picks up new ones as they appear. */
typedef struct tw_ecs_query {
    uint64_t with_mask;
    uint64_t without_mask;
    tw_component terms[TW_ECS_QUERY_MAX_TERMS];
    uint32_t term_count;
    uint32_t *tables;          /* matching table indices */
    uint32_t table_count, table_cap;
    uint32_t tables_seen;      /* world tables already examined */
    tw_allocator alloc;
} tw_ecs_query;

typedef struct tw_ecs_iter {
    uint32_t count;                           /* rows in this chunk */
    const tw_entity *entities;                /* count handles */
    void *columns[TW_ECS_QUERY_MAX_TERMS];    /* one array per with-term, in term order */
    /* private */
    tw_ecs_world *world;
    tw_ecs_query *query;
    uint32_t next_table;
} tw_ecs_iter;

tw_status tw_ecs_query_init(tw_ecs_world *w, tw_ecs_query *q, const tw_ecs_query_desc *desc);
void tw_ecs_query_fini(tw_ecs_query *q);
/* Iterates the matching tables. The world must not change structure while an
 * iterator is live: defer changes. */
tw_ecs_iter tw_ecs_query_iter(tw_ecs_world *w, tw_ecs_query *q);
bool tw_ecs_iter_next(tw_ecs_iter *it);
uint32_t tw_ecs_query_count(tw_ecs_world *w, tw_ecs_query *q);

/* ---- hierarchy ------------------------------------------------------------ */

/* Names are 1..63 bytes without '/'; unique among siblings (TW_ERR_INVALID otherwise). */
tw_status tw_ecs_entity_set_name(tw_ecs_world *w, tw_entity e, const char *name);
const char *tw_ecs_entity_name(const tw_ecs_world *w, tw_entity e); /* "" when unnamed */
/* parent may be TW_ENTITY_NULL (a root). Refuses cycles and name clashes. */
tw_status tw_ecs_entity_set_parent(tw_ecs_world *w, tw_entity e, tw_entity parent);
tw_entity tw_ecs_entity_parent(const tw_ecs_world *w, tw_entity e);
/* Children in the order they were attached. */
tw_entity tw_ecs_entity_first_child(const tw_ecs_world *w, tw_entity e);
tw_entity tw_ecs_entity_next_sibling(const tw_ecs_world *w, tw_entity e);
/* Roots in the order they were created (or detached). */
tw_entity tw_ecs_root_first(const tw_ecs_world *w);
void tw_ecs_entity_set_kind(tw_ecs_world *w, tw_entity e, tw_kind kind);
tw_kind tw_ecs_entity_kind(const tw_ecs_world *w, tw_entity e);
/* External ids are unique in the world; "" clears it. */
tw_status tw_ecs_entity_set_external_id(tw_ecs_world *w, tw_entity e, const char *external_id);
const char *tw_ecs_entity_external_id(const tw_ecs_world *w, tw_entity e); /* "" when none */

/* "hq/floor-2/room-201"; returns the length written, or -1 if it did not fit. */
int tw_ecs_entity_path(const tw_ecs_world *w, tw_entity e, char *out, size_t out_size);
tw_entity tw_ecs_lookup_path(const tw_ecs_world *w, const char *path);
tw_entity tw_ecs_lookup_external_id(const tw_ecs_world *w, const char *external_id);
/* Nearest ancestor (or e itself) of the given kind, or TW_ENTITY_NULL. */
tw_entity tw_ecs_entity_ancestor_of_kind(const tw_ecs_world *w, tw_entity e, tw_kind kind);

#endif
