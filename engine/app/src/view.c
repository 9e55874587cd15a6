/* The view: the world turned into the renderer's draw list.
 *
 * At a rescan (the world's structure version changed) every drawable entity
 * becomes an item, and each item gets a ready-made instance (mesh, transform,
 * colour, pick id) in one array, grouped by mesh so the renderer merges
 * neighbours into one instanced draw: first everything drawn with the shared
 * unit cube (equipment boxes, door panels, AGVs, parts), then people (the
 * shared person column), then the meshes of their own (floor slabs, walls,
 * conveyors, other extrusions). A build then only patches what changes from
 * frame to frame: moving things, doors, flags and data values. That keeps a
 * build a straight pass over arrays with no allocation.
 *
 * The picture aims at an architectural reading: each space is a thin floor
 * slab under its storey (coloured by data when asked), walls stand the full
 * storey height up to the slab above, door openings are cut where doors
 * are, and a door is a thin panel, closed in its opening or swung open. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "twin/hash.h"
#include "twin/mesh_import.h"
#include "twin/render_geom.h"
#include "twin/sim_components.h"
#include "twin/view.h"

#define VIEW_LOG "view"

/* Dimensions of the things a scene gives no size for, in metres. */
static const float SLAB = 0.15f;         /* floor slab under each space */
static const float DOOR_HEIGHT = 2.1f;   /* door openings and panels */
static const float DOOR_PANEL = 0.05f;   /* panel thickness */
static const float PERSON_HEIGHT = 1.75f;
static const float AGV_HEIGHT = 0.45f;
static const float BELT = 0.12f;         /* belt thickness on top of a conveyor */
static const float TELEPORT = 3.0f;      /* a jump longer than this between ticks is not interpolated */

/* sRGB colours by kind: a light architectural palette, with what moves in
 * strong colours so it reads against it. */
static const uint8_t COL_SLAB[3] = { 236, 231, 220 };
static const uint8_t COL_WALL[3] = { 222, 220, 214 };
static const uint8_t COL_WALL_EXT[3] = { 196, 193, 186 };
static const uint8_t COL_DOOR[3] = { 176, 128, 82 };
static const uint8_t COL_DOOR_LOCKED[3] = { 150, 52, 44 };
static const uint8_t COL_EQUIPMENT[3] = { 128, 140, 152 };
static const uint8_t COL_MACHINE[3] = { 70, 112, 168 };
static const uint8_t COL_CONVEYOR[3] = { 84, 88, 96 };
static const uint8_t COL_PART[3] = { 200, 90, 50 };
static const uint8_t COL_PERSON[3] = { 240, 130, 30 };
static const uint8_t COL_AGV[3] = { 240, 200, 30 };
static const uint8_t COL_OTHER[3] = { 176, 176, 172 };

typedef enum item_kind {
    ITEM_BOX = 0,   /* Shape box: the unit cube scaled */
    ITEM_DOOR,      /* a panel (unit cube), shut in its opening or swung open */
    ITEM_AGV,
    ITEM_PART,
    ITEM_PERSON,
    ITEM_MESH       /* a mesh of its own, in world coordinates */
} item_kind;

typedef struct view_item {
    tw_entity e;
    tw_entity storey;       /* the storey it stands on (static items; dynamic ones read it per build) */
    float storey_z;         /* that storey's elevation */
    uint8_t kind;           /* item_kind */
    uint8_t selected;       /* e or an ancestor is the selected entity (cached per selection) */
    uint8_t rank;           /* own meshes: drawn walls (0), other shapes (1), then slabs (2) */
    uint8_t color[3];       /* by kind */
    uint32_t aux;           /* ITEM_DOOR: index into doors */
    uint32_t tris;          /* triangles of its mesh */
    float size[3];          /* dynamic items: the scale of their mesh */
} view_item;

/* Moving or changing things, rewritten at every build. */
static int is_dynamic(const view_item *it) { return it->kind != ITEM_BOX && it->kind != ITEM_MESH; }

/* A door's two panel placements, worked out from its wall at a rescan. */
typedef struct view_door {
    float shut[12], open[12];
} view_door;

/* A door as found at a rescan, sorted by wall so each wall finds its openings. */
typedef struct door_rec {
    uint32_t wall_slot;
    float offset, width;
    tw_entity door;
} door_rec;

/* A mesh made for one entity, kept across rescans while its inputs stay the same. */
typedef struct mesh_rec {
    uint64_t id;            /* the entity it belongs to; 0: free */
    uint64_t sig;           /* hash of what it was built from */
    tw_render_mesh mesh;
    uint32_t seen;          /* rescan stamp: unseen ones are destroyed */
    uint32_t tris;
    float min[3], max[3];
} mesh_rec;

/* Where a moving thing was at the previous and the current tick. */
typedef struct pos_rec {
    uint64_t id;
    float prev[3], cur[3];
    float yaw;
} pos_rec;

/* A mesh file (Shape kind "mesh"), loaded once per resolved path and shared
 * by every entity that names it; kept across rescans while one does. A file
 * that failed keeps its reason, so it is neither retried nor reported again
 * at every rescan. */
typedef struct file_rec {
    char *path;             /* resolved (tw_strdup); NULL: a free record */
    tw_render_mesh mesh;    /* 0: the file failed */
    tw_status st;
    uint32_t seen;          /* rescan stamp: unseen ones are let go */
    uint32_t tris;
    int warned;
    float min[3], max[3];   /* model space */
    char why[TW_DIAG_MSG_MAX];
} file_rec;

typedef struct storey_rec {
    tw_entity e;
    float elevation, height;
} storey_rec;

typedef struct count_alloc {
    tw_allocator inner;
    uint64_t allocations;
} count_alloc;

struct tw_view {
    tw_render *r;
    tw_ecs_world *w;
    const tw_sim *sim;
    count_alloc ca;
    tw_allocator alloc;      /* counts into ca */
    tw_sim_components c;

    uint64_t version;        /* structure version at the last rescan */
    int dirty;               /* rescan at the next build */
    uint32_t rescans;
    uint32_t warnings;
    int warned_refs[3];      /* cityjson: and ifc: references, mesh Shapes naming no file: said once */

    /* Mesh files: one record per resolved path. */
    file_rec *files;
    size_t file_cap;
    char base_dir[4096];     /* relative mesh paths resolve against it; "": the working directory */
    int defer_relative;      /* tw_view_new's first scan: relative mesh paths wait for the base dir */
    uint32_t deferred;       /* ...and how many did */

    tw_render_mesh cube, person;
    uint32_t cube_tris, person_tris;
    uint64_t triangles;      /* drawn by the last build */

    view_item *items;
    tw_render_instance *inst;
    uint32_t *inst_version;  /* per item: bumped whenever its instance changes (retained drawing) */
    uint64_t list_id;        /* the renderer's identity of inst[], new at every rescan */
    uint8_t *alarm;          /* per item, this build */
    size_t item_cap;
    uint32_t item_count;

    view_door *doors;
    size_t door_cap;
    uint32_t door_count;
    door_rec *door_recs;
    size_t door_rec_cap;
    uint32_t door_rec_count;
    tw_render_opening *openings;
    size_t opening_cap;

    storey_rec *storeys;
    size_t storey_cap;
    uint32_t storey_count;

    /* Per entity slot. */
    uint32_t *item_of_slot;  /* UINT32_MAX: not drawn */
    mesh_rec *meshes;
    pos_rec *pos;
    size_t slot_cap;
    uint32_t mesh_count;

    uint32_t *dynamic;       /* items that move or change state (doors, agents, parts) */
    size_t dynamic_cap;
    uint32_t dynamic_count;
    uint32_t *valued;        /* static items with the coloured-by field (since the last full pass) */
    size_t valued_cap;
    uint32_t valued_count;
    uint32_t *alarm_list, *alarm_prev; /* items with an active alarm, this build and the one before */
    size_t alarm_cap, alarm_prev_cap;
    uint32_t alarm_count, alarm_prev_count;

    /* What the last full pass was made with; a build with the same style
     * only rewrites what can have changed. */
    int full_valid;
    tw_entity key_iso;
    float key_iso_z;
    int key_colour;
    tw_ecs_field_ref key_ref;
    int key_quality;
    uint64_t static_tris;

    /* Scratch for ordering the own meshes (grown at rescans only). */
    struct order_rec *order;
    size_t order_cap;
    view_item *tmp_items;
    tw_render_instance *tmp_inst;
    size_t tmp_cap;

    tw_render_geom geom;
    tw_ecs_query alarms;
    int alarms_ready;

    float bmin[3], bmax[3];

    /* Interpolation: the tick whose positions are in pos[].cur. */
    uint64_t tick;
    int has_tick;

    /* Caches keyed by style fields. */
    tw_entity sel_cached;
    int sel_valid;
    char colorby[TW_ECS_NAME_MAX * 2];
    int colorby_state;       /* 0 none, 1 resolved, -1 unknown */
    tw_ecs_field_ref ref;
};

/* ---- memory ------------------------------------------------------------------ */

static void *count_fn(void *user, void *ptr, size_t old_size, size_t new_size)
{
    count_alloc *ca = user;
    if (new_size) ca->allocations++;
    return ca->inner.fn(ca->inner.user, ptr, old_size, new_size);
}

static int grow(tw_view *v, void *items, size_t *cap, size_t need, size_t elem)
{
    return tw_grow(&v->alloc, (void **)items, cap, need, elem);
}

/* Arrays that share one capacity grow together: every new block is
 * allocated before any old one is let go, so a failure leaves all of them
 * as they were (and every size handed to free stays exact). */
typedef struct grow_spec {
    void **p;
    size_t elem;
} grow_spec;

static int grow_together(tw_view *v, const grow_spec *arrs, int n, size_t old, size_t cap)
{
    void *fresh[4] = { 0 };
    for (int k = 0; k < n; k++) {
        fresh[k] = tw_alloc(&v->alloc, cap * arrs[k].elem);
        if (!fresh[k]) {
            for (int j = 0; j < k; j++) tw_free(&v->alloc, fresh[j], cap * arrs[j].elem);
            return -1;
        }
    }
    for (int k = 0; k < n; k++) {
        if (old) memcpy(fresh[k], *arrs[k].p, old * arrs[k].elem);
        memset((char *)fresh[k] + old * arrs[k].elem, 0, (cap - old) * arrs[k].elem);
        tw_free(&v->alloc, *arrs[k].p, old * arrs[k].elem);
        *arrs[k].p = fresh[k];
    }
    return 0;
}

/* ---- small maths ---------------------------------------------------------------- */

static void identity(float m[12])
{
    memset(m, 0, 12 * sizeof(float));
    m[0] = m[5] = m[10] = 1.0f;
}

static void set_rgb(uint8_t out[3], const uint8_t in[3]) { memcpy(out, in, 3); }

/* The point at arc length s along a polyline, and the direction there. */
static void polyline_at(const float (*p)[2], uint32_t n, float s, float out[2], float *angle)
{
    float acc = 0.0f;
    for (uint32_t i = 1; i < n; i++) {
        float dx = p[i][0] - p[i - 1][0], dy = p[i][1] - p[i - 1][1], l = sqrtf(dx * dx + dy * dy);
        if (l <= 0.0f) continue;
        if (s <= acc + l || i == n - 1) {
            float t = (s - acc) / l;
            out[0] = p[i - 1][0] + dx * t;
            out[1] = p[i - 1][1] + dy * t;
            *angle = atan2f(dy, dx);
            return;
        }
        acc += l;
    }
    out[0] = p[0][0];
    out[1] = p[0][1];
    *angle = 0.0f;
}

static void bounds_add(tw_view *v, const float lo[3], const float hi[3])
{
    for (int k = 0; k < 3; k++) {
        if (lo[k] < v->bmin[k]) v->bmin[k] = lo[k];
        if (hi[k] > v->bmax[k]) v->bmax[k] = hi[k];
    }
}

/* ---- the world ------------------------------------------------------------------ */

static const storey_rec *storey_find(const tw_view *v, tw_entity st)
{
    for (uint32_t i = 0; i < v->storey_count; i++)
        if (tw_entity_eq(v->storeys[i].e, st)) return &v->storeys[i];
    return NULL;
}

/* The storey an entity stands on: its storey ancestor. */
static tw_entity storey_of(const tw_view *v, tw_entity e)
{
    return tw_ecs_entity_ancestor_of_kind(v->w, e, TW_KIND_STOREY);
}

static float base_z(const tw_view *v, tw_entity e, tw_entity storey)
{
    const Transform *t = tw_ecs_get(v->w, e, v->c.transform);
    if (t) return t->position[2];
    const storey_rec *s = storey_find(v, storey);
    return s ? s->elevation : 0.0f;
}

/* The floor level of the next storey above z (where a wall stops under the
 * slab), or +inf. */
static float next_floor_above(const tw_view *v, float z)
{
    float best = INFINITY;
    for (uint32_t i = 0; i < v->storey_count; i++) {
        float el = v->storeys[i].elevation;
        if (el > z + 0.5f && el < best) best = el;
    }
    return best;
}

static int door_cmp(const void *a, const void *b)
{
    const door_rec *x = a, *y = b;
    if (x->wall_slot != y->wall_slot) return x->wall_slot < y->wall_slot ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The door records of one wall (door_recs is sorted by wall slot). */
static uint32_t doors_of_wall(const tw_view *v, uint32_t wall_slot, uint32_t *first)
{
    uint32_t lo = 0, hi = v->door_rec_count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v->door_recs[mid].wall_slot < wall_slot) lo = mid + 1;
        else hi = mid;
    }
    uint32_t n = 0;
    while (lo + n < v->door_rec_count && v->door_recs[lo + n].wall_slot == wall_slot) n++;
    *first = lo;
    return n;
}

/* A closed loop given as a polyline repeats its first point at the end. */
static uint32_t wall_points(const Shape *sh, int *closed)
{
    uint32_t n = sh->point_count > TW_SHAPE_MAX_POINTS ? TW_SHAPE_MAX_POINTS : sh->point_count;
    *closed = 0;
    if (n >= 4 && sh->points[0][0] == sh->points[n - 1][0] && sh->points[0][1] == sh->points[n - 1][1]) {
        *closed = 1;
        n--;
    }
    return n;
}

/* ---- meshes ---------------------------------------------------------------------- */

static tw_status mesh_upload(tw_view *v, const char *label, tw_render_mesh *out)
{
    const tw_render_geom *g = &v->geom;
    tw_render_mesh_desc d = { .vertices = g->vertices, .vertex_count = g->vertex_count, .indices = g->indices,
                              .index_count = g->index_count, .edges = (const uint8_t(*)[4])g->edges, .label = label };
    return tw_render_mesh_create(v->r, &d, out);
}

/* Builds the geometry of one entity's own mesh into v->geom (world coordinates). */
static tw_status geom_for(tw_view *v, tw_entity e, const Shape *sh, tw_entity storey, int is_space, int is_conveyor)
{
    tw_render_geom *g = &v->geom;
    tw_render_geom_reset(g);
    float z0 = base_z(v, e, storey);
    uint32_t n = sh->point_count > TW_SHAPE_MAX_POINTS ? TW_SHAPE_MAX_POINTS : sh->point_count;
    if (sh->kind == TW_SHAPE_EXTRUSION) {
        if (is_space) return tw_render_geom_extrude(g, (const float(*)[2])sh->points, n, z0 - SLAB, SLAB);
        return tw_render_geom_extrude(g, (const float(*)[2])sh->points, n, z0, sh->height);
    }
    /* Polylines: conveyors are a belt on a narrower base; the rest are walls. */
    int closed;
    uint32_t np = wall_points(sh, &closed);
    float thick = sh->thickness > 0.0f ? sh->thickness : 0.2f;
    if (is_conveyor) {
        float h = sh->height > BELT ? sh->height : BELT + 0.01f;
        tw_render_wall_desc belt = { .points = (const float(*)[2])sh->points, .point_count = np, .closed = closed,
                                     .thickness = thick, .z0 = z0 + h - BELT, .height = BELT };
        tw_status st = tw_render_geom_wall(g, &belt);
        if (st) return st;
        tw_render_wall_desc base = belt;
        base.thickness = thick * 0.6f;
        base.z0 = z0;
        base.height = h - BELT;
        return tw_render_geom_wall(g, &base);
    }
    float top = z0 + sh->height;
    float above = next_floor_above(v, z0);
    if (top > above - SLAB) top = above - SLAB; /* stop under the slab of the storey above */
    if (!(top > z0)) top = z0 + sh->height;
    uint32_t first, nd = doors_of_wall(v, tw_entity_index(e), &first);
    if (grow(v, &v->openings, &v->opening_cap, nd ? nd : 1, sizeof *v->openings)) return TW_ERR_NOMEM;
    float door_top = DOOR_HEIGHT < top - z0 - 0.05f ? DOOR_HEIGHT : top - z0;
    for (uint32_t k = 0; k < nd; k++) {
        const door_rec *d = &v->door_recs[first + k];
        v->openings[k] = (tw_render_opening){ d->offset - 0.5f * d->width, d->offset + 0.5f * d->width, 0.0f, door_top };
    }
    tw_render_wall_desc wd = { .points = (const float(*)[2])sh->points, .point_count = np, .closed = closed,
                               .thickness = thick, .z0 = z0, .height = top - z0, .openings = v->openings,
                               .opening_count = nd };
    return tw_render_geom_wall(g, &wd);
}

/* What a mesh depends on: when this changes, it is rebuilt. */
static uint64_t mesh_sig(const tw_view *v, tw_entity e, const Shape *sh, tw_entity storey, int is_space,
                         int is_conveyor)
{
    tw_hasher h;
    tw_hasher_init(&h, 0x7669657721ull);
    tw_hasher_u64(&h, (uint64_t)sh->kind);
    tw_hasher_update(&h, sh->size, sizeof sh->size);
    tw_hasher_f64(&h, sh->height);
    tw_hasher_f64(&h, sh->thickness);
    tw_hasher_u64(&h, sh->point_count);
    uint32_t n = sh->point_count > TW_SHAPE_MAX_POINTS ? TW_SHAPE_MAX_POINTS : sh->point_count;
    tw_hasher_update(&h, sh->points, n * sizeof sh->points[0]);
    float z0 = base_z(v, e, storey);
    tw_hasher_f64(&h, z0);
    tw_hasher_u64(&h, (uint64_t)(is_space | is_conveyor << 1));
    if (sh->kind == TW_SHAPE_POLYLINE && !is_conveyor) {
        tw_hasher_f64(&h, next_floor_above(v, z0));
        uint32_t first, nd = doors_of_wall(v, tw_entity_index(e), &first);
        for (uint32_t k = 0; k < nd; k++) {
            tw_hasher_f64(&h, v->door_recs[first + k].offset);
            tw_hasher_f64(&h, v->door_recs[first + k].width);
        }
    }
    return tw_hasher_final(&h);
}

/* The entity's own mesh, from the cache or built now. */
static tw_status own_mesh(tw_view *v, tw_entity e, const Shape *sh, tw_entity storey, int is_space, int is_conveyor,
                          mesh_rec **out)
{
    uint32_t slot = tw_entity_index(e);
    mesh_rec *m = &v->meshes[slot];
    uint64_t sig = mesh_sig(v, e, sh, storey, is_space, is_conveyor);
    if (m->id == e.id && m->sig == sig && tw_render_mesh_valid(v->r, m->mesh)) {
        m->seen = v->rescans;
        *out = m;
        return TW_OK;
    }
    if (m->id) {
        tw_render_mesh_destroy(v->r, m->mesh);
        v->mesh_count--;
        memset(m, 0, sizeof *m);
    }
    tw_status st = geom_for(v, e, sh, storey, is_space, is_conveyor);
    if (st) return st;
    tw_render_mesh mesh;
    if ((st = mesh_upload(v, tw_ecs_entity_name(v->w, e), &mesh))) return st;
    m->id = e.id;
    m->sig = sig;
    m->mesh = mesh;
    m->seen = v->rescans;
    tw_render_geom_bounds(&v->geom, m->min, m->max);
    m->tris = v->geom.index_count / 3;
    v->mesh_count++;
    *out = m;
    return TW_OK;
}

/* ---- rescan ---------------------------------------------------------------------- */

static tw_status item_push(tw_view *v, tw_entity e, item_kind kind, tw_render_mesh mesh, const uint8_t color[3],
                           tw_entity storey, view_item **out)
{
    if (v->item_count == v->item_cap) {
        size_t cap = v->item_cap ? v->item_cap + v->item_cap / 2 : 256;
        grow_spec arrs[4] = { { (void **)&v->items, sizeof *v->items },
                              { (void **)&v->inst, sizeof *v->inst },
                              { (void **)&v->alarm, sizeof *v->alarm },
                              { (void **)&v->inst_version, sizeof *v->inst_version } };
        if (grow_together(v, arrs, 4, v->item_cap, cap)) return TW_ERR_NOMEM;
        v->item_cap = cap;
    }
    uint32_t i = v->item_count++;
    view_item *it = &v->items[i];
    memset(it, 0, sizeof *it);
    it->e = e;
    it->kind = (uint8_t)kind;
    set_rgb(it->color, color);
    it->storey = storey;
    it->tris = mesh.id == v->cube.id ? v->cube_tris : mesh.id == v->person.id ? v->person_tris : 0;
    const storey_rec *s = storey_find(v, storey);
    it->storey_z = s ? s->elevation : 0.0f;
    tw_render_instance *in = &v->inst[i];
    memset(in, 0, sizeof *in);
    v->inst_version[i] = 0;
    in->mesh = mesh;
    identity(in->transform);
    set_rgb(in->color, color);
    in->color[3] = 255;
    in->pick_id = tw_entity_index(e) + 1u;
    v->item_of_slot[tw_entity_index(e)] = i;
    *out = it;
    return TW_OK;
}

static tw_status ensure_slots(tw_view *v, size_t need)
{
    if (need <= v->slot_cap) return TW_OK;
    size_t old = v->slot_cap, cap = old + old / 2;
    if (cap < need) cap = need;
    grow_spec arrs[3] = { { (void **)&v->item_of_slot, sizeof *v->item_of_slot },
                          { (void **)&v->meshes, sizeof *v->meshes },
                          { (void **)&v->pos, sizeof *v->pos } };
    if (grow_together(v, arrs, 3, old, cap)) return TW_ERR_NOMEM;
    v->slot_cap = cap;
    return TW_OK;
}

static tw_status collect_storeys(tw_view *v, uint32_t cap)
{
    v->storey_count = 0;
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(v->w, i);
        if (tw_entity_is_null(e)) continue;
        const Storey *s = tw_ecs_get(v->w, e, v->c.storey);
        if (!s) continue;
        if (grow(v, &v->storeys, &v->storey_cap, (size_t)v->storey_count + 1, sizeof *v->storeys)) return TW_ERR_NOMEM;
        v->storeys[v->storey_count++] = (storey_rec){ e, s->elevation, s->height };
    }
    return TW_OK;
}

static tw_status collect_doors(tw_view *v, uint32_t cap)
{
    v->door_rec_count = 0;
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(v->w, i);
        if (tw_entity_is_null(e)) continue;
        const Door *d = tw_ecs_get(v->w, e, v->c.door);
        if (!d || !tw_ecs_entity_alive(v->w, d->wall)) continue;
        const Shape *ws = tw_ecs_get(v->w, d->wall, v->c.shape);
        if (!ws || ws->kind != TW_SHAPE_POLYLINE || !(d->width > 0.0f)) continue;
        if (grow(v, &v->door_recs, &v->door_rec_cap, (size_t)v->door_rec_count + 1, sizeof *v->door_recs))
            return TW_ERR_NOMEM;
        v->door_recs[v->door_rec_count++] = (door_rec){ tw_entity_index(d->wall), d->offset, d->width, e };
    }
    if (v->door_rec_count > 1) /* with none, door_recs may be NULL, which qsort must not see */
        qsort(v->door_recs, v->door_rec_count, sizeof *v->door_recs, door_cmp);
    return TW_OK;
}

/* Pass 1: everything drawn with the unit cube. */
static tw_status scan_cubes(tw_view *v, uint32_t cap)
{
    tw_status st;
    view_item *it;
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(v->w, i);
        if (tw_entity_is_null(e)) continue;
        const Shape *sh = tw_ecs_get(v->w, e, v->c.shape);
        if (!sh || sh->kind != TW_SHAPE_BOX || tw_ecs_has(v->w, e, v->c.body)) continue;
        const Transform *t = tw_ecs_get(v->w, e, v->c.transform);
        tw_entity storey = storey_of(v, e);
        const uint8_t *col = tw_ecs_has(v->w, e, v->c.machine) ? COL_MACHINE
                             : tw_ecs_has(v->w, e, v->c.equipment) || tw_ecs_entity_kind(v->w, e) == TW_KIND_EQUIPMENT
                                 ? COL_EQUIPMENT
                                 : COL_OTHER;
        if ((st = item_push(v, e, ITEM_BOX, v->cube, col, storey, &it))) return st;
        float pos[3] = { 0, 0, base_z(v, e, storey) }, yaw = 0.0f;
        if (t) {
            memcpy(pos, t->position, sizeof pos);
            yaw = t->yaw;
        }
        tw_render_transform_trs(v->inst[v->item_count - 1].transform, pos, yaw, sh->size);
        /* Bounds of the turned box: its corners' extent. */
        float c = fabsf(cosf(yaw)), s = fabsf(sinf(yaw));
        float hx = 0.5f * (c * sh->size[0] + s * sh->size[1]), hy = 0.5f * (s * sh->size[0] + c * sh->size[1]);
        bounds_add(v, (float[3]){ pos[0] - hx, pos[1] - hy, pos[2] },
                   (float[3]){ pos[0] + hx, pos[1] + hy, pos[2] + sh->size[2] });
    }
    /* Door panels, placed from their wall. */
    v->door_count = 0;
    for (uint32_t k = 0; k < v->door_rec_count; k++) {
        const door_rec *d = &v->door_recs[k];
        tw_entity wall = tw_ecs_entity_at(v->w, d->wall_slot);
        const Shape *ws = tw_ecs_get(v->w, wall, v->c.shape);
        tw_entity storey = storey_of(v, wall);
        if ((st = item_push(v, d->door, ITEM_DOOR, v->cube, COL_DOOR, storey, &it))) return st;
        if (grow(v, &v->doors, &v->door_cap, (size_t)v->door_count + 1, sizeof *v->doors)) return TW_ERR_NOMEM;
        it->aux = v->door_count;
        view_door *vd = &v->doors[v->door_count++];
        uint32_t n = ws->point_count > TW_SHAPE_MAX_POINTS ? TW_SHAPE_MAX_POINTS : ws->point_count;
        float z0 = base_z(v, wall, storey), p[2], ang;
        float h = DOOR_HEIGHT < ws->height - 0.05f ? DOOR_HEIGHT : ws->height;
        polyline_at((const float(*)[2])ws->points, n, d->offset, p, &ang);
        tw_render_transform_trs(vd->shut, (float[3]){ p[0], p[1], z0 }, ang, (float[3]){ d->width, DOOR_PANEL, h });
        /* Open: swung 90 degrees about the jamb at the start of the opening,
         * into the side on the left of the wall's direction. */
        float c = cosf(ang), s = sinf(ang), half = 0.5f * d->width;
        float hinge[2] = { p[0] - c * half, p[1] - s * half };
        float centre[3] = { hinge[0] - s * half, hinge[1] + c * half, z0 };
        tw_render_transform_trs(vd->open, centre, ang + 1.5707963f, (float[3]){ d->width, DOOR_PANEL, h });
    }
    /* AGVs and parts: sized once, placed every build. */
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(v->w, i);
        if (tw_entity_is_null(e)) continue;
        const Body *b = tw_ecs_get(v->w, e, v->c.body);
        if (!b) continue;
        const Agent *a = tw_ecs_get(v->w, e, v->c.agent);
        const Part *p = tw_ecs_get(v->w, e, v->c.part);
        if (a && a->type == TW_AGENT_AGV) {
            if ((st = item_push(v, e, ITEM_AGV, v->cube, COL_AGV, storey_of(v, e), &it))) return st;
            if (b->shape == TW_BODY_BOX) {
                it->size[0] = b->size[0];
                it->size[1] = b->size[1];
            } else {
                it->size[0] = 2.0f * b->radius;
                it->size[1] = 1.5f * b->radius;
            }
            it->size[2] = AGV_HEIGHT;
        } else if (p) {
            /* A part rides on its belt: the conveyor's storey and height. */
            tw_entity storey = tw_ecs_entity_alive(v->w, p->conveyor) ? storey_of(v, p->conveyor) : storey_of(v, e);
            if ((st = item_push(v, e, ITEM_PART, v->cube, COL_PART, storey, &it))) return st;
            float d = b->shape == TW_BODY_BOX ? b->size[0] : 2.0f * b->radius;
            it->size[0] = it->size[1] = it->size[2] = d;
        }
    }
    return TW_OK;
}

/* Pass 2: people, with the shared column. */
static tw_status scan_people(tw_view *v, uint32_t cap)
{
    view_item *it;
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(v->w, i);
        if (tw_entity_is_null(e)) continue;
        const Body *b = tw_ecs_get(v->w, e, v->c.body);
        const Agent *a = tw_ecs_get(v->w, e, v->c.agent);
        if (!b || !a || a->type == TW_AGENT_AGV) continue;
        tw_status st = item_push(v, e, ITEM_PERSON, v->person, COL_PERSON, storey_of(v, e), &it);
        if (st) return st;
        float r = b->shape == TW_BODY_BOX ? 0.5f * b->size[0] : b->radius;
        if (!(r > 0.05f)) r = 0.25f;
        it->size[0] = it->size[1] = r;
        it->size[2] = PERSON_HEIGHT;
    }
    return TW_OK;
}

/* ---- mesh files (Shape kind "mesh") ------------------------------------------------ */

/* The engine's meshes come in tw_render_vertex form: positions and normals
 * interleaved. Outline edges are left to the renderer (derived from creases).
 * *scratch is set when our own allocator failed (not the renderer). */
static tw_status file_upload(tw_view *v, const tw_asset_mesh *am, const char *label, tw_render_mesh *out,
                             int *scratch)
{
    size_t bytes = (size_t)am->vertex_count * sizeof(tw_render_vertex);
    tw_render_vertex *vx = tw_alloc(&v->alloc, bytes);
    *scratch = vx == NULL;
    if (!vx) return TW_ERR_NOMEM;
    for (uint32_t k = 0; k < am->vertex_count; k++) {
        memcpy(vx[k].position, am->positions[k], sizeof vx[k].position);
        memcpy(vx[k].normal, am->normals[k], sizeof vx[k].normal);
    }
    tw_render_mesh_desc d = { .vertices = vx, .vertex_count = am->vertex_count, .indices = am->indices,
                              .index_count = am->index_count, .label = label };
    tw_status st = tw_render_mesh_create(v->r, &d, out);
    tw_free(&v->alloc, vx, bytes);
    return st;
}

/* The record of a resolved path: found, or made now by loading the file
 * (a failure is recorded too). NULL only when out of memory. */
static file_rec *file_get(tw_view *v, const char *path)
{
    size_t free_slot = SIZE_MAX;
    for (size_t i = 0; i < v->file_cap; i++) {
        if (!v->files[i].path) {
            if (free_slot == SIZE_MAX) free_slot = i;
            continue;
        }
        if (strcmp(v->files[i].path, path) == 0) return &v->files[i];
    }
    if (free_slot == SIZE_MAX) {
        free_slot = v->file_cap;
        if (grow(v, &v->files, &v->file_cap, v->file_cap + 1, sizeof *v->files)) return NULL;
        memset(v->files + free_slot, 0, (v->file_cap - free_slot) * sizeof *v->files);
    }
    file_rec *f = &v->files[free_slot];
    memset(f, 0, sizeof *f);
    if (!(f->path = tw_strdup(&v->alloc, path))) return NULL;
    tw_asset_mesh am;
    tw_diag diag;
    tw_diag_clear(&diag);
    f->st = tw_asset_mesh_load(&(tw_asset_mesh_desc){ .path = path, .alloc = &v->alloc }, &am, &diag);
    int ours = f->st == TW_ERR_NOMEM; /* our allocator failed, not the file */
    if (f->st == TW_OK) {
        /* The renderer refusing the mesh (its buffers' limits) is the file's failure: reported, not retried. */
        f->st = file_upload(v, &am, path, &f->mesh, &ours);
        if (f->st) tw_diag_set(&diag, "%s: uploading its %u triangles failed (%s)", path, am.triangle_count,
                               tw_status_str(f->st));
    }
    if (f->st == TW_OK) {
        f->tris = am.triangle_count;
        memcpy(f->min, am.min, sizeof f->min);
        memcpy(f->max, am.max, sizeof f->max);
        v->mesh_count++;
    } else {
        f->mesh.id = 0;
        snprintf(f->why, sizeof f->why, "%s", diag.message);
    }
    tw_asset_mesh_fini(&am);
    if (ours) { /* not the file's fault: forget it, so the next rescan tries again */
        tw_free(&v->alloc, f->path, strlen(f->path) + 1);
        f->path = NULL;
        return NULL;
    }
    return f;
}

static void file_release(tw_view *v, file_rec *f)
{
    if (f->mesh.id) {
        tw_render_mesh_destroy(v->r, f->mesh);
        v->mesh_count--;
    }
    tw_free(&v->alloc, f->path, strlen(f->path) + 1);
    memset(f, 0, sizeof *f);
}

/* Files no entity named at this rescan are let go. */
static void files_sweep(tw_view *v)
{
    for (size_t i = 0; i < v->file_cap; i++)
        if (v->files[i].path && v->files[i].seen != v->rescans) file_release(v, &v->files[i]);
}

/* The scale that fits the model into Shape.size (m, the entity's own axes).
 * [1, 1, 1] (the default: no size given) and all zeros keep the model's own
 * size; an axis given as 0 (or along which the model is flat) takes the
 * smallest scale of the axes given, so [0, 0, 2.5] scales uniformly to a
 * height of 2.5 m. */
static void mesh_scale(const float size[3], const float lo[3], const float hi[3], float out[3])
{
    out[0] = out[1] = out[2] = 1.0f;
    if (size[0] == 1.0f && size[1] == 1.0f && size[2] == 1.0f) return;
    float s[3], least = INFINITY;
    int given[3];
    for (int k = 0; k < 3; k++) {
        float ext = hi[k] - lo[k];
        given[k] = size[k] > 0.0f && isfinite(size[k]) && ext > 1e-6f;
        s[k] = given[k] ? size[k] / ext : 0.0f;
        if (given[k] && s[k] < least) least = s[k];
    }
    if (!isfinite(least)) return;
    for (int k = 0; k < 3; k++) out[k] = given[k] ? s[k] : least;
}

/* Relative paths join the base dir; the result names the file's record. */
static int mesh_resolve(const tw_view *v, const char *ref, char *out, size_t size)
{
    int n = ref[0] == '/' || !v->base_dir[0] ? snprintf(out, size, "%s", ref)
                                             : snprintf(out, size, "%s/%s", v->base_dir, ref);
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

typedef struct mesh_refs {
    uint32_t cityjson, ifc, empty;
} mesh_refs;

/* One entity with a Shape of kind mesh: counted when it refers to a CityJSON
 * or IFC object (not drawn yet), drawn from its file otherwise; a file that
 * fails is reported once (naming the entity and the reason) and the entity
 * is counted in the warnings. */
static tw_status scan_mesh(tw_view *v, tw_entity e, const Shape *sh, mesh_refs *refs)
{
    char ref[TW_REF_MAX + 1];
    size_t len = strnlen(sh->mesh, TW_REF_MAX);
    memcpy(ref, sh->mesh, len);
    ref[len] = '\0';
    if (!strncmp(ref, "cityjson:", 9)) return refs->cityjson++, TW_OK;
    if (!strncmp(ref, "ifc:", 4)) return refs->ifc++, TW_OK;
    if (!ref[0]) return refs->empty++, TW_OK;
    if (ref[0] != '/' && v->defer_relative) return v->deferred++, TW_OK;
    char path[TW_ECS_PATH_MAX];
    char file[4096];
    if (mesh_resolve(v, ref, file, sizeof file)) {
        if (tw_ecs_entity_path(v->w, e, path, sizeof path) < 0) path[0] = '\0';
        TW_LOG(NULL, TW_LOG_WARN, VIEW_LOG, "%s: mesh file %s: the path is too long; it is not drawn", path, ref);
        v->warnings++;
        return TW_OK;
    }
    file_rec *f = file_get(v, file);
    if (!f) return TW_ERR_NOMEM;
    f->seen = v->rescans;
    if (f->st) {
        if (!f->warned) {
            if (tw_ecs_entity_path(v->w, e, path, sizeof path) < 0) path[0] = '\0';
            TW_LOG(NULL, TW_LOG_WARN, VIEW_LOG, "%s: its mesh file is not drawn: %s", path, f->why);
            f->warned = 1;
        }
        v->warnings++;
        return TW_OK;
    }
    tw_entity storey = storey_of(v, e);
    const uint8_t *col = tw_ecs_has(v->w, e, v->c.machine)     ? COL_MACHINE
                         : tw_ecs_has(v->w, e, v->c.equipment) ? COL_EQUIPMENT
                                                               : COL_OTHER;
    view_item *it;
    tw_status st = item_push(v, e, ITEM_MESH, f->mesh, col, storey, &it);
    if (st) return st;
    it->tris = f->tris;
    it->rank = 1;
    /* The model's origin at Transform.position, turned by yaw, scaled to Shape.size. */
    const Transform *t = tw_ecs_get(v->w, e, v->c.transform);
    float pos[3] = { 0, 0, base_z(v, e, storey) }, yaw = 0.0f, scale[3];
    if (t) {
        memcpy(pos, t->position, sizeof pos);
        yaw = t->yaw;
    }
    mesh_scale(sh->size, f->min, f->max, scale);
    float *m = v->inst[v->item_count - 1].transform;
    tw_render_transform_trs(m, pos, yaw, scale);
    /* Bounds: the model box's corners through the placement (column-major). */
    float lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    for (int c = 0; c < 8; c++) {
        float p[3] = { (c & 1) ? f->max[0] : f->min[0], (c & 2) ? f->max[1] : f->min[1],
                       (c & 4) ? f->max[2] : f->min[2] };
        for (int k = 0; k < 3; k++) {
            float w = m[4 * k] * p[0] + m[4 * k + 1] * p[1] + m[4 * k + 2] * p[2] + m[4 * k + 3];
            lo[k] = fminf(lo[k], w);
            hi[k] = fmaxf(hi[k], w);
        }
    }
    bounds_add(v, lo, hi);
    return TW_OK;
}

/* Pass 3: slabs, walls, conveyors and other shapes with a mesh of their own,
 * and meshes from files. */
static tw_status scan_own(tw_view *v, uint32_t cap)
{
    mesh_refs refs = { 0 };
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(v->w, i);
        if (tw_entity_is_null(e)) continue;
        const Shape *sh = tw_ecs_get(v->w, e, v->c.shape);
        if (!sh || sh->kind == TW_SHAPE_BOX || tw_ecs_has(v->w, e, v->c.body)) continue;
        if (sh->kind == TW_SHAPE_MESH) {
            tw_status st = scan_mesh(v, e, sh, &refs);
            if (st) return st;
            continue;
        }
        if (sh->kind != TW_SHAPE_EXTRUSION && sh->kind != TW_SHAPE_POLYLINE) continue;
        tw_entity storey = storey_of(v, e);
        int is_space = sh->kind == TW_SHAPE_EXTRUSION &&
                       (tw_ecs_has(v->w, e, v->c.space) || tw_ecs_entity_kind(v->w, e) == TW_KIND_SPACE);
        int is_conveyor = sh->kind == TW_SHAPE_POLYLINE && tw_ecs_has(v->w, e, v->c.conveyor);
        mesh_rec *m;
        tw_status st = own_mesh(v, e, sh, storey, is_space, is_conveyor, &m);
        if (st == TW_ERR_NOMEM) return st;
        if (st) {
            /* A degenerate footprint or polyline: say which, draw the rest. */
            char path[TW_ECS_PATH_MAX];
            if (tw_ecs_entity_path(v->w, e, path, sizeof path) < 0) path[0] = '\0';
            TW_LOG(NULL, TW_LOG_WARN, VIEW_LOG, "%s: its Shape makes no mesh (%s); it is not drawn", path,
                   tw_status_str(st));
            v->warnings++;
            continue;
        }
        const uint8_t *col = COL_OTHER;
        if (is_space) col = COL_SLAB;
        else if (is_conveyor) col = COL_CONVEYOR;
        else if (tw_ecs_has(v->w, e, v->c.wall)) {
            const Wall *wl = tw_ecs_get(v->w, e, v->c.wall);
            col = wl->exterior ? COL_WALL_EXT : COL_WALL;
        } else if (sh->kind == TW_SHAPE_POLYLINE) col = COL_WALL;
        else if (tw_ecs_has(v->w, e, v->c.machine)) col = COL_MACHINE;
        else if (tw_ecs_has(v->w, e, v->c.equipment)) col = COL_EQUIPMENT;
        view_item *it;
        if ((st = item_push(v, e, ITEM_MESH, m->mesh, col, storey, &it))) return st;
        it->tris = m->tris;
        it->rank = is_space ? 2 : tw_ecs_has(v->w, e, v->c.wall) ? 0 : 1;
        bounds_add(v, m->min, m->max);
    }
    /* References into CityJSON and IFC models are not drawn yet: said once per kind. */
    static const char *const ref_what[3] = { "refer to CityJSON objects (\"cityjson:ID\"), which the view does not "
                                             "draw yet",
                                             "refer to IFC elements (\"ifc:GlobalId\"), which the view does not draw "
                                             "yet",
                                             "have a Shape of kind mesh naming no file" };
    const uint32_t ref_n[3] = { refs.cityjson, refs.ifc, refs.empty };
    for (int k = 0; k < 3; k++) {
        if (!ref_n[k]) continue;
        v->warnings += ref_n[k];
        if (!v->warned_refs[k]) TW_LOG(NULL, TW_LOG_WARN, VIEW_LOG, "%u entities %s", ref_n[k], ref_what[k]);
        v->warned_refs[k] = 1;
    }
    files_sweep(v);
    return TW_OK;
}

/* Draw order of the own meshes: top storey first, and within a storey the
 * walls before the slabs. Seen from above (every preset but the elevations)
 * the nearest surfaces then come first, and the depth test rejects what
 * they hide before it is shaded: on a CPU rasteriser like lavapipe that is
 * most of a frame's cost. The picture does not depend on it. */
typedef struct order_rec {
    float z;
    uint32_t rank;
    uint32_t index;
} order_rec;

static int order_cmp(const void *a, const void *b)
{
    const order_rec *x = a, *y = b;
    if (x->z != y->z) return x->z > y->z ? -1 : 1;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static tw_status sort_own(tw_view *v, uint32_t first)
{
    uint32_t n = v->item_count - first;
    if (n < 2) return TW_OK;
    if (grow(v, &v->order, &v->order_cap, n, sizeof *v->order)) return TW_ERR_NOMEM;
    if (n > v->tmp_cap) {
        grow_spec arrs[2] = { { (void **)&v->tmp_items, sizeof *v->tmp_items },
                              { (void **)&v->tmp_inst, sizeof *v->tmp_inst } };
        size_t cap = v->tmp_cap + v->tmp_cap / 2;
        if (cap < n) cap = n;
        if (grow_together(v, arrs, 2, v->tmp_cap, cap)) return TW_ERR_NOMEM;
        v->tmp_cap = cap;
    }
    for (uint32_t k = 0; k < n; k++) {
        const view_item *it = &v->items[first + k];
        v->order[k] = (order_rec){ it->storey_z, it->rank, k };
    }
    qsort(v->order, n, sizeof *v->order, order_cmp);
    for (uint32_t k = 0; k < n; k++) {
        v->tmp_items[k] = v->items[first + v->order[k].index];
        v->tmp_inst[k] = v->inst[first + v->order[k].index];
    }
    memcpy(v->items + first, v->tmp_items, n * sizeof *v->items);
    memcpy(v->inst + first, v->tmp_inst, n * sizeof *v->inst);
    for (uint32_t k = 0; k < n; k++) v->item_of_slot[tw_entity_index(v->items[first + k].e)] = first + k;
    return TW_OK;
}

static tw_status rescan(tw_view *v)
{
    uint32_t cap = tw_ecs_entity_capacity(v->w);
    tw_status st = ensure_slots(v, cap ? cap : 1);
    if (st) return st;
    v->rescans++;
    v->warnings = 0;
    v->item_count = 0;
    for (uint32_t i = 0; i < cap; i++) v->item_of_slot[i] = UINT32_MAX;
    for (int k = 0; k < 3; k++) {
        v->bmin[k] = INFINITY;
        v->bmax[k] = -INFINITY;
    }
    uint32_t first_own = 0;
    if ((st = collect_storeys(v, cap)) || (st = collect_doors(v, cap)) || (st = scan_cubes(v, cap)) ||
        (st = scan_people(v, cap)))
        return st;
    first_own = v->item_count;
    if ((st = scan_own(v, cap)) || (st = sort_own(v, first_own))) return st;
    /* Meshes of entities that are gone (or changed shape) go too. */
    for (uint32_t i = 0; i < v->slot_cap; i++) {
        mesh_rec *m = &v->meshes[i];
        if (m->id && m->seen != v->rescans) {
            tw_render_mesh_destroy(v->r, m->mesh);
            v->mesh_count--;
            memset(m, 0, sizeof *m);
        }
    }
    if (!(v->bmin[0] <= v->bmax[0])) { /* nothing static: a unit box at the origin */
        for (int k = 0; k < 3; k++) {
            v->bmin[k] = k == 2 ? 0.0f : -0.5f;
            v->bmax[k] = k == 2 ? 1.0f : 0.5f;
        }
    }
    v->version = tw_ecs_world_structure_version(v->w);
    /* Item indices changed: alarms and style caches start over. */
    memset(v->alarm, 0, v->item_count);
    v->alarm_count = v->alarm_prev_count = 0;
    v->dynamic_count = 0;
    for (uint32_t i = 0; i < v->item_count; i++) {
        if (!is_dynamic(&v->items[i])) continue;
        if (grow(v, &v->dynamic, &v->dynamic_cap, (size_t)v->dynamic_count + 1, sizeof *v->dynamic))
            return TW_ERR_NOMEM;
        v->dynamic[v->dynamic_count++] = i;
    }
    v->dirty = 0;
    v->sel_valid = 0;
    v->full_valid = 0;
    /* Items moved: to the renderer, a list it has not drawn. */
    v->list_id = tw_render_list_id(v->r);
    return TW_OK;
}

/* ---- per build ------------------------------------------------------------------ */

/* Where a moving thing is now (m), or 0 when it is not in the building. */
static int body_now(const tw_view *v, const view_item *it, float out[3], float *yaw)
{
    const Body *b = tw_ecs_get(v->w, it->e, v->c.body);
    if (!b) return 0;
    out[0] = b->position[0];
    out[1] = b->position[1];
    *yaw = b->angle;
    if (it->kind == ITEM_PART) {
        const Part *p = tw_ecs_get(v->w, it->e, v->c.part);
        const Shape *belt = p ? tw_ecs_get(v->w, p->conveyor, v->c.shape) : NULL;
        const Transform *bt = p ? tw_ecs_get(v->w, p->conveyor, v->c.transform) : NULL;
        const Transform *t = tw_ecs_get(v->w, it->e, v->c.transform);
        float z = bt ? bt->position[2] : t ? t->position[2] : it->storey_z;
        out[2] = z + (belt ? belt->height : 0.0f);
        return 1;
    }
    const Agent *a = tw_ecs_get(v->w, it->e, v->c.agent);
    /* People outside the building are not drawn; AGVs never leave it (and
     * read "outside" until their first tick). */
    if (!a || (a->state == TW_AGENT_OUTSIDE && a->type != TW_AGENT_AGV)) return 0;
    const Storey *st = tw_ecs_get(v->w, a->storey, v->c.storey);
    out[2] = st ? st->elevation : it->storey_z;
    return 1;
}

/* At the first build of a new tick, the current positions become the previous ones. */
static void record_positions(tw_view *v)
{
    uint64_t tick = v->sim ? tw_sim_tick(v->sim) : 0;
    int fresh = !v->sim || !v->has_tick || tick != v->tick;
    if (!fresh) return;
    int step = v->sim && v->has_tick && tick == v->tick + 1;
    for (uint32_t k = 0; k < v->dynamic_count; k++) {
        view_item *it = &v->items[v->dynamic[k]];
        if (it->kind != ITEM_AGV && it->kind != ITEM_PART && it->kind != ITEM_PERSON) continue;
        pos_rec *p = &v->pos[tw_entity_index(it->e)];
        float now[3], yaw;
        if (!body_now(v, it, now, &yaw)) {
            p->id = 0; /* not in the building: no position to come from */
            continue;
        }
        int known = p->id == it->e.id && step;
        float dx = now[0] - p->cur[0], dy = now[1] - p->cur[1], dz = now[2] - p->cur[2];
        if (!known || dx * dx + dy * dy > TELEPORT * TELEPORT || dz != 0.0f) memcpy(p->prev, now, sizeof now);
        else memcpy(p->prev, p->cur, sizeof now);
        memcpy(p->cur, now, sizeof now);
        p->yaw = yaw;
        p->id = it->e.id;
    }
    v->tick = tick;
    v->has_tick = 1;
}

/* Alarm flags: every ACTIVE alarm marks its target's item, or the nearest
 * drawn ancestor of a target that is not drawn itself. The items marked are
 * listed, so the next build clears just those. */
static tw_status mark_alarms(tw_view *v)
{
    uint32_t *prev = v->alarm_list, n = v->alarm_count;
    for (uint32_t k = 0; k < n; k++)
        if (prev[k] < v->item_count) v->alarm[prev[k]] = 0;
    /* The previous list moves to the spare slot: its items need redrawing too. */
    uint32_t *tmp = v->alarm_prev;
    size_t tcap = v->alarm_prev_cap;
    v->alarm_prev = v->alarm_list;
    v->alarm_prev_cap = v->alarm_cap;
    v->alarm_prev_count = n;
    v->alarm_list = tmp;
    v->alarm_cap = tcap;
    v->alarm_count = 0;
    if (!v->alarms_ready || !v->sim) return TW_OK;
    tw_ecs_iter it = tw_ecs_query_iter(v->w, &v->alarms);
    while (tw_ecs_iter_next(&it)) {
        const Alarm *al = it.columns[0];
        for (uint32_t k = 0; k < it.count; k++) {
            if (al[k].state != TW_ALARM_ACTIVE) continue;
            tw_entity t = tw_entity_is_null(al[k].target) ? tw_ecs_entity_parent(v->w, it.entities[k]) : al[k].target;
            for (int depth = 0; depth < 16 && tw_ecs_entity_alive(v->w, t); depth++) {
                uint32_t slot = tw_entity_index(t);
                uint32_t item = slot < v->slot_cap ? v->item_of_slot[slot] : UINT32_MAX;
                if (item != UINT32_MAX && item < v->item_count && tw_entity_eq(v->items[item].e, t)) {
                    if (!v->alarm[item]) {
                        if (grow(v, &v->alarm_list, &v->alarm_cap, (size_t)v->alarm_count + 1, sizeof *v->alarm_list))
                            return TW_ERR_NOMEM;
                        v->alarm_list[v->alarm_count++] = item;
                        v->alarm[item] = 1;
                    }
                    break;
                }
                t = tw_ecs_entity_parent(v->w, t);
            }
        }
    }
    return TW_OK;
}

static void update_selection(tw_view *v, tw_entity sel)
{
    if (v->sel_valid && tw_entity_eq(sel, v->sel_cached)) return;
    for (uint32_t i = 0; i < v->item_count; i++) {
        view_item *it = &v->items[i];
        it->selected = 0;
        if (tw_entity_is_null(sel)) continue;
        tw_entity e = it->e;
        for (int depth = 0; depth < 64 && !tw_entity_is_null(e); depth++) {
            if (tw_entity_eq(e, sel)) {
                it->selected = 1;
                break;
            }
            e = tw_ecs_entity_parent(v->w, e);
        }
    }
    v->sel_cached = sel;
    v->sel_valid = 1;
    v->full_valid = 0; /* every item's flags change */
}

/* Resolves style->colorby when it changed; returns 1 when colouring is on. */
static int update_colorby(tw_view *v, const char *colorby)
{
    if (!colorby || !colorby[0]) {
        v->colorby[0] = '\0';
        v->colorby_state = 0;
        return 0;
    }
    if (v->colorby_state != 0 && strcmp(colorby, v->colorby) == 0) return v->colorby_state > 0;
    snprintf(v->colorby, sizeof v->colorby, "%s", colorby);
    v->colorby_state = tw_ecs_field_resolve(v->w, colorby, &v->ref, NULL) == TW_OK ? 1 : -1;
    return v->colorby_state > 0;
}

/* Entities without the field shown: grey by their lightness, so the data stands out. */
static void neutral(uint8_t c[4])
{
    unsigned l = (54u * c[0] + 183u * c[1] + 19u * c[2]) >> 8;
    uint8_t g = (uint8_t)(120u + l * 100u / 255u);
    c[0] = c[1] = c[2] = g;
}

/* What one build applies to every item. */
typedef struct build_ctx {
    const tw_view_style *style;
    float alpha;
    int colour;
    int isolating;
    float iso_z;
} build_ctx;

/* Writes item i's instance for this build; returns its triangles (0 when hidden). */
static uint32_t item_update(tw_view *v, uint32_t i, const build_ctx *bc)
{
    view_item *it = &v->items[i];
    tw_render_instance *in = &v->inst[i];
    const tw_render_instance before = *in;
    const tw_view_style *style = bc->style;
    uint32_t flags = 0;
    tw_entity storey = it->storey;
    float storey_z = it->storey_z;
    memcpy(in->color, it->color, 3);
    switch ((item_kind)it->kind) {
    case ITEM_DOOR: {
        const Door *d = tw_ecs_get(v->w, it->e, v->c.door);
        const view_door *vd = &v->doors[it->aux];
        int open = d ? d->open : 1;
        memcpy(in->transform, open ? vd->open : vd->shut, sizeof in->transform);
        if (d && d->locked) memcpy(in->color, COL_DOOR_LOCKED, 3);
        break;
    }
    case ITEM_AGV:
    case ITEM_PART:
    case ITEM_PERSON: {
        const pos_rec *p = &v->pos[tw_entity_index(it->e)];
        if (p->id != it->e.id) {
            flags |= TW_RENDER_INST_HIDDEN; /* outside the building */
            break;
        }
        float pos[3];
        for (int k = 0; k < 3; k++) pos[k] = p->prev[k] + (p->cur[k] - p->prev[k]) * bc->alpha;
        tw_render_transform_trs(in->transform, pos, it->kind == ITEM_PERSON ? 0.0f : p->yaw, it->size);
        if (it->kind == ITEM_PART) break;
        const Agent *ag = tw_ecs_get(v->w, it->e, v->c.agent);
        if (ag && !tw_entity_is_null(ag->storey)) {
            storey = ag->storey;
            storey_z = p->cur[2];
        }
        break;
    }
    case ITEM_BOX:
    case ITEM_MESH:
        break;
    }
    if (bc->isolating && !tw_entity_eq(storey, style->isolate)) {
        if (!tw_entity_is_null(storey) && storey_z > bc->iso_z) flags |= TW_RENDER_INST_HIDDEN;
        else flags |= TW_RENDER_INST_FADED;
    }
    if (bc->colour) {
        const void *data = tw_ecs_get(v->w, it->e, v->ref.component);
        double val;
        if (data && tw_field_read_f64(data, v->ref.field, v->ref.element, &val) && isfinite(val)) {
            if (!(flags & (TW_RENDER_INST_FADED | TW_RENDER_INST_HIDDEN))) flags |= TW_RENDER_INST_VALUE;
            in->value = (float)val;
        } else {
            neutral(in->color);
        }
    }
    if (v->alarm[i]) flags |= TW_RENDER_INST_ALARM;
    if (it->selected) flags |= TW_RENDER_INST_SELECTED;
    if (style->quality && style->quality(style->quality_user, it->e) == 3) flags |= TW_RENDER_INST_STALE;
    in->flags = flags;
    /* Only a real change costs the renderer an upload. */
    if (memcmp(&before, in, sizeof before) != 0) v->inst_version[i]++;
    return (flags & TW_RENDER_INST_HIDDEN) ? 0u : it->tris;
}

/* A full pass writes every instance and lists the static items whose look
 * changes from build to build (those with the coloured-by field). */
static tw_status full_pass(tw_view *v, const build_ctx *bc)
{
    uint64_t stat = 0, dyn = 0;
    v->valued_count = 0;
    for (uint32_t i = 0; i < v->item_count; i++) {
        uint32_t t = item_update(v, i, bc);
        if (is_dynamic(&v->items[i])) {
            dyn += t;
            continue;
        }
        stat += t;
        if (bc->colour && tw_ecs_has(v->w, v->items[i].e, v->ref.component)) {
            if (grow(v, &v->valued, &v->valued_cap, (size_t)v->valued_count + 1, sizeof *v->valued))
                return TW_ERR_NOMEM;
            v->valued[v->valued_count++] = i;
        }
    }
    v->static_tris = stat;
    v->triangles = stat + dyn;
    return TW_OK;
}

/* Between full passes only moving things, data values and alarm changes are rewritten. */
static void fast_pass(tw_view *v, const build_ctx *bc)
{
    uint64_t dyn = 0;
    for (uint32_t k = 0; k < v->dynamic_count; k++) dyn += item_update(v, v->dynamic[k], bc);
    for (uint32_t k = 0; k < v->valued_count; k++) item_update(v, v->valued[k], bc);
    for (uint32_t k = 0; k < v->alarm_prev_count; k++)
        if (v->alarm_prev[k] < v->item_count && !is_dynamic(&v->items[v->alarm_prev[k]]))
            item_update(v, v->alarm_prev[k], bc);
    for (uint32_t k = 0; k < v->alarm_count; k++)
        if (!is_dynamic(&v->items[v->alarm_list[k]])) item_update(v, v->alarm_list[k], bc);
    v->triangles = v->static_tris + dyn;
}

tw_status tw_view_build(tw_view *v, const tw_view_style *style, double alpha, double time_s, tw_render_drawlist *dl)
{
    TW_CHECK(v && dl, "tw_view_build needs a view and a draw list to fill.");
    static const tw_view_style plain = { 0 };
    if (!style) style = &plain;
    tw_status st = TW_OK;
    if (v->dirty || v->version != tw_ecs_world_structure_version(v->w)) {
        if ((st = rescan(v))) {
            dl->instances = NULL;
            dl->instance_count = 0;
            v->dirty = 1;
            return st;
        }
    }
    if (!(alpha >= 0.0)) alpha = 0.0;
    if (alpha > 1.0) alpha = 1.0;
    record_positions(v);
    if ((st = mark_alarms(v))) {
        v->full_valid = 0;
        return st;
    }
    update_selection(v, style->selected);
    build_ctx bc = { .style = style, .alpha = (float)alpha, .colour = update_colorby(v, style->colorby) };
    /* Isolation: the isolated storey as usual, those above it hidden, the rest faded. */
    bc.isolating = !tw_entity_is_null(style->isolate);
    if (bc.isolating) {
        const Storey *s = tw_ecs_get(v->w, style->isolate, v->c.storey);
        bc.iso_z = s ? s->elevation : 0.0f;
    }
    /* Everything is rewritten when the style changed, after a rescan, or
     * when a quality callback may change any entity's look. */
    int same = v->full_valid && tw_entity_eq(v->key_iso, style->isolate) && v->key_iso_z == bc.iso_z &&
               v->key_colour == bc.colour && (!bc.colour || (v->key_ref.component.id == v->ref.component.id &&
                                                            v->key_ref.field == v->ref.field &&
                                                            v->key_ref.element == v->ref.element)) &&
               !style->quality && !v->key_quality;
    if (same) {
        fast_pass(v, &bc);
    } else if ((st = full_pass(v, &bc))) {
        v->full_valid = 0;
        return st;
    } else {
        v->full_valid = 1;
        v->key_iso = style->isolate;
        v->key_iso_z = bc.iso_z;
        v->key_colour = bc.colour;
        v->key_ref = v->ref;
        v->key_quality = style->quality != NULL;
    }

    dl->instances = v->inst;
    dl->instance_count = v->item_count;
    dl->list_id = v->list_id;
    dl->instance_versions = v->inst_version;
    dl->time = time_s;
    memset(&dl->colorby, 0, sizeof dl->colorby);
    if (bc.colour) {
        dl->colorby.colormap = style->colormap ? (tw_render_colormap)style->colormap : TW_RENDER_COLORMAP_VIRIDIS;
        dl->colorby.min = style->range_min;
        dl->colorby.max = style->range_max;
        dl->colorby.legend = 1;
    }
    dl->section = (tw_render_section){ .enabled = style->section != 0, .normal = { 0, 0, 1 },
                                       .offset = style->section_height };
    dl->flags &= ~(uint32_t)(TW_RENDER_DRAW_NO_EDGES | TW_RENDER_DRAW_EDGES_ALWAYS);
    if (style->no_edges) dl->flags |= TW_RENDER_DRAW_NO_EDGES;
    else if (style->edges_always) dl->flags |= TW_RENDER_DRAW_EDGES_ALWAYS;
    return !bc.colour && style->colorby && style->colorby[0] ? TW_ERR_NOT_FOUND : TW_OK;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static tw_status shared_meshes(tw_view *v)
{
    tw_render_geom *g = &v->geom;
    tw_render_geom_reset(g);
    tw_status st = tw_render_geom_box(g, (float[3]){ -0.5f, -0.5f, 0.0f }, (float[3]){ 0.5f, 0.5f, 1.0f });
    v->cube_tris = g->index_count / 3;
    if (!st) st = mesh_upload(v, "view: unit cube", &v->cube);
    if (st) return st;
    /* A person: an octagonal column of radius 1 and height 1, scaled per agent. */
    float oct[8][2];
    for (int k = 0; k < 8; k++) {
        float t = (float)k * 0.78539816f + 0.39269908f;
        oct[k][0] = cosf(t);
        oct[k][1] = sinf(t);
    }
    tw_render_geom_reset(g);
    st = tw_render_geom_extrude(g, (const float(*)[2])oct, 8, 0.0f, 1.0f);
    v->person_tris = g->index_count / 3;
    if (!st) st = mesh_upload(v, "view: person", &v->person);
    return st;
}

tw_status tw_view_new(tw_render *r, tw_ecs_world *w, const tw_sim *sim, tw_view **out, tw_diag *diag)
{
    TW_CHECK(r && w && out, "tw_view_new needs a renderer, a world and somewhere to put the view.");
    *out = NULL;
    tw_allocator base = tw_allocator_or_default(tw_ecs_world_allocator(w));
    tw_view *v = tw_calloc(&base, 1, sizeof *v);
    if (!v) {
        tw_diag_set(diag, "out of memory creating the view");
        return TW_ERR_NOMEM;
    }
    v->r = r;
    v->w = w;
    v->sim = sim;
    v->ca.inner = base;
    v->ca.allocations = 1;
    v->alloc = (tw_allocator){ count_fn, &v->ca };
    tw_render_geom_init(&v->geom, &v->alloc);
    if (sim) {
        v->c = *tw_sim_component_ids(sim);
    } else {
        v->c.transform = tw_ecs_component_lookup(w, "Transform");
        v->c.shape = tw_ecs_component_lookup(w, "Shape");
        v->c.storey = tw_ecs_component_lookup(w, "Storey");
        v->c.space = tw_ecs_component_lookup(w, "Space");
        v->c.wall = tw_ecs_component_lookup(w, "Wall");
        v->c.door = tw_ecs_component_lookup(w, "Door");
        v->c.equipment = tw_ecs_component_lookup(w, "Equipment");
        v->c.machine = tw_ecs_component_lookup(w, "Machine");
        v->c.conveyor = tw_ecs_component_lookup(w, "Conveyor");
        v->c.part = tw_ecs_component_lookup(w, "Part");
        v->c.body = tw_ecs_component_lookup(w, "Body");
        v->c.agent = tw_ecs_component_lookup(w, "Agent");
        v->c.alarm = tw_ecs_component_lookup(w, "Alarm");
    }
    tw_status st = TW_OK;
    const tw_component need[] = { v->c.transform, v->c.shape,    v->c.storey,   v->c.space, v->c.wall,
                                  v->c.door,      v->c.equipment, v->c.machine, v->c.conveyor, v->c.part,
                                  v->c.body,      v->c.agent,     v->c.alarm };
    int missing = 0;
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) missing |= need[k].id == 0;
    if (missing) {
        tw_diag_set(diag, "the world lacks the simulation's components (Shape, Transform, Door, Body, ...): "
                          "register them (tw_sim_register_components) before making a view");
        st = TW_ERR_INVALID;
    }
    if (!st) {
        tw_ecs_query_desc qd = { .with = { v->c.alarm } };
        st = tw_ecs_query_init(w, &v->alarms, &qd);
        if (!st) v->alarms_ready = 1;
    }
    if (!st) st = shared_meshes(v);
    v->defer_relative = 1; /* relative mesh files wait for tw_view_set_base_dir or the first build */
    if (!st) st = rescan(v);
    v->defer_relative = 0;
    if (v->deferred) v->dirty = 1;
    if (st) {
        if (!diag || !diag->message[0])
            tw_diag_set(diag, "making the view's meshes failed: %s", tw_status_str(st));
        tw_view_free(v);
        return st;
    }
    *out = v;
    return TW_OK;
}

void tw_view_free(tw_view *v)
{
    if (!v) return;
    for (uint32_t i = 0; i < v->slot_cap; i++)
        if (v->meshes[i].id) tw_render_mesh_destroy(v->r, v->meshes[i].mesh);
    for (size_t i = 0; i < v->file_cap; i++)
        if (v->files[i].path) file_release(v, &v->files[i]);
    tw_free(&v->alloc, v->files, v->file_cap * sizeof *v->files);
    if (v->cube.id) tw_render_mesh_destroy(v->r, v->cube);
    if (v->person.id) tw_render_mesh_destroy(v->r, v->person);
    if (v->alarms_ready) tw_ecs_query_fini(&v->alarms);
    tw_render_geom_fini(&v->geom);
    const tw_allocator *a = &v->alloc;
    tw_free(a, v->items, v->item_cap * sizeof *v->items);
    tw_free(a, v->inst, v->item_cap * sizeof *v->inst);
    tw_free(a, v->alarm, v->item_cap * sizeof *v->alarm);
    tw_free(a, v->inst_version, v->item_cap * sizeof *v->inst_version);
    tw_free(a, v->doors, v->door_cap * sizeof *v->doors);
    tw_free(a, v->door_recs, v->door_rec_cap * sizeof *v->door_recs);
    tw_free(a, v->openings, v->opening_cap * sizeof *v->openings);
    tw_free(a, v->storeys, v->storey_cap * sizeof *v->storeys);
    tw_free(a, v->dynamic, v->dynamic_cap * sizeof *v->dynamic);
    tw_free(a, v->order, v->order_cap * sizeof *v->order);
    tw_free(a, v->tmp_items, v->tmp_cap * sizeof *v->tmp_items);
    tw_free(a, v->tmp_inst, v->tmp_cap * sizeof *v->tmp_inst);
    tw_free(a, v->valued, v->valued_cap * sizeof *v->valued);
    tw_free(a, v->alarm_list, v->alarm_cap * sizeof *v->alarm_list);
    tw_free(a, v->alarm_prev, v->alarm_prev_cap * sizeof *v->alarm_prev);
    tw_free(a, v->item_of_slot, v->slot_cap * sizeof *v->item_of_slot);
    tw_free(a, v->meshes, v->slot_cap * sizeof *v->meshes);
    tw_free(a, v->pos, v->slot_cap * sizeof *v->pos);
    tw_allocator base = v->ca.inner;
    tw_free(&base, v, sizeof *v);
}

/* ---- queries -------------------------------------------------------------------- */

tw_entity tw_view_entity_from_pick(const tw_view *v, uint32_t pick_id)
{
    TW_CHECK(v, "tw_view_entity_from_pick needs a view.");
    if (pick_id == 0) return TW_ENTITY_NULL;
    return tw_ecs_entity_at(v->w, pick_id - 1u);
}

void tw_view_bounds(const tw_view *v, float min[3], float max[3])
{
    TW_CHECK(v && min && max, "tw_view_bounds needs a view and two output points.");
    memcpy(min, v->bmin, sizeof v->bmin);
    memcpy(max, v->bmax, sizeof v->bmax);
}

/* Frames the bounds tightly. With the view's axes s (right), u (up) and f
 * (forward) fixed, the eye is C + a s + b u - D f; a corner p with offsets
 * (X, Y, Z) from C lands at x = (X - a) / (Z + D). Fitting every corner
 * inside [-th, th] needs D >= (max(X - th Z) - min(X + th Z)) / 2 th, and
 * centres with a at the mean of the two; the same vertically. (A bounding
 * sphere would leave a long building small.) */
static void fit_box(tw_render_camera *cam, const float lo[3], const float hi[3], float aspect, float az_deg,
                    float el_deg)
{
    float az = az_deg * 3.14159265f / 180.0f, el = el_deg * 3.14159265f / 180.0f;
    float f[3] = { -cosf(el) * cosf(az), -cosf(el) * sinf(az), -sinf(el) };
    float up[3] = { cam->up[0], cam->up[1], cam->up[2] };
    if (up[0] == 0.0f && up[1] == 0.0f && up[2] == 0.0f) up[2] = 1.0f;
    float s[3] = { f[1] * up[2] - f[2] * up[1], f[2] * up[0] - f[0] * up[2], f[0] * up[1] - f[1] * up[0] };
    float sl = sqrtf(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]);
    if (!(sl > 1e-6f)) {
        s[0] = 1.0f, s[1] = 0.0f, s[2] = 0.0f;
        sl = 1.0f;
    }
    for (int k = 0; k < 3; k++) s[k] /= sl;
    float u[3] = { s[1] * f[2] - s[2] * f[1], s[2] * f[0] - s[0] * f[2], s[0] * f[1] - s[1] * f[0] };
    float centre[3];
    for (int k = 0; k < 3; k++) centre[k] = 0.5f * (lo[k] + hi[k]);
    float fov = cam->fov_y > 0.0f ? cam->fov_y : 45.0f;
    if (!(aspect > 0.0f)) aspect = 1.0f;
    float tv = tanf(fov * 0.5f * 3.14159265f / 180.0f), th = tv * aspect;
    int ortho = cam->ortho_height > 0.0f;
    if (ortho) th = tv = 0.0f; /* parallel rays: depth does not shrink anything */
    float R = -INFINITY, L = INFINITY, T = -INFINITY, B = INFINITY, zmin = INFINITY, radius = 0.0f;
    for (int c = 0; c < 8; c++) {
        float p[3] = { (c & 1) ? hi[0] : lo[0], (c & 2) ? hi[1] : lo[1], (c & 4) ? hi[2] : lo[2] };
        float q[3] = { p[0] - centre[0], p[1] - centre[1], p[2] - centre[2] };
        float X = q[0] * s[0] + q[1] * s[1] + q[2] * s[2];
        float Y = q[0] * u[0] + q[1] * u[1] + q[2] * u[2];
        float Z = q[0] * f[0] + q[1] * f[1] + q[2] * f[2];
        R = fmaxf(R, X - th * Z);
        L = fminf(L, X + th * Z);
        T = fmaxf(T, Y - tv * Z);
        B = fminf(B, Y + tv * Z);
        zmin = fminf(zmin, Z);
        radius = fmaxf(radius, sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]));
    }
    float a = 0.5f * (R + L), b = 0.5f * (T + B), dist;
    if (ortho) {
        cam->ortho_height = 1.06f * fmaxf(T - B, (R - L) / aspect);
        dist = radius * 2.0f + 1.0f;
    } else {
        dist = fmaxf((R - L) / (2.0f * th), (T - B) / (2.0f * tv)) * 1.06f; /* a margin */
    }
    if (!(dist > -zmin + 0.5f)) dist = -zmin + 0.5f; /* never inside the box */
    for (int k = 0; k < 3; k++) {
        cam->target[k] = centre[k] + a * s[k] + b * u[k];
        cam->eye[k] = cam->target[k] - f[k] * dist;
    }
    float reach = dist + 2.0f * radius;
    if ((cam->far_plane == 0.0f && reach > 2000.0f) || (cam->far_plane > 0.0f && cam->far_plane < reach))
        cam->far_plane = reach;
}

tw_status tw_view_camera_preset(const tw_view *v, const char *name, float aspect, tw_render_camera *cam)
{
    TW_CHECK(v && name && cam, "tw_view_camera_preset needs a view, a preset name and a camera.");
    float az, el;
    float up[3] = { 0, 0, 0 };
    int plan = 0;
    if (!strcmp(name, "home")) az = 225.0f, el = 40.0f;
    else if (!strcmp(name, "top")) az = 270.0f, el = 90.0f, up[1] = 1.0f, plan = 1;
    else if (!strcmp(name, "front")) az = 270.0f, el = 12.0f;
    else if (!strcmp(name, "side")) az = 0.0f, el = 12.0f;
    else return TW_ERR_NOT_FOUND;
    memcpy(cam->up, up, sizeof up);
    /* The top view is a plan: orthographic, north up. The others are perspective. */
    cam->ortho_height = plan ? 1.0f : 0.0f;
    fit_box(cam, v->bmin, v->bmax, aspect, az, el);
    return TW_OK;
}

tw_status tw_view_colorby_check(const tw_view *v, const char *colorby, tw_diag *diag)
{
    TW_CHECK(v, "tw_view_colorby_check needs a view.");
    if (!colorby || !colorby[0]) return TW_OK;
    tw_ecs_field_ref ref;
    tw_status st = tw_ecs_field_resolve(v->w, colorby, &ref, diag);
    if (st) return st;
    tw_type t = ref.field->type;
    if (t == TW_TYPE_STR || t == TW_TYPE_ENTITY) {
        tw_diag_set(diag, "%s is not a number: colour by a numeric field", colorby);
        return TW_ERR_INVALID;
    }
    return TW_OK;
}

void tw_view_invalidate(tw_view *v)
{
    TW_CHECK(v, "tw_view_invalidate needs a view.");
    v->dirty = 1;
}

void tw_view_set_base_dir(tw_view *v, const char *dir)
{
    TW_CHECK(v, "tw_view_set_base_dir needs a view.");
    size_t n = dir ? strlen(dir) : 0;
    if (n >= sizeof v->base_dir) {
        TW_LOG(NULL, TW_LOG_WARN, VIEW_LOG, "the scene's folder path is %zu bytes, more than %zu: relative mesh "
               "paths resolve against the working directory", n, sizeof v->base_dir - 1);
        n = 0;
    }
    memcpy(v->base_dir, dir ? dir : "", n);
    v->base_dir[n] = '\0';
    /* Re-read now, so the bounds (camera presets) include the meshes; a
     * failure is left for the next build to report. */
    if (rescan(v)) v->dirty = 1;
}

void tw_view_set_scene_path(tw_view *v, const char *scene_path)
{
    TW_CHECK(v, "tw_view_set_scene_path needs a view.");
    const char *slash = scene_path ? strrchr(scene_path, '/') : NULL;
    if (!slash) {
        tw_view_set_base_dir(v, NULL);
        return;
    }
    char dir[4096];
    size_t n = slash == scene_path ? 1 : (size_t)(slash - scene_path);
    if (n >= sizeof dir) n = sizeof dir - 1;
    memcpy(dir, scene_path, n);
    dir[n] = '\0';
    tw_view_set_base_dir(v, dir);
}

void tw_view_get_stats(const tw_view *v, tw_view_stats *out)
{
    TW_CHECK(v && out, "tw_view_get_stats needs a view and somewhere to write.");
    memset(out, 0, sizeof *out);
    out->instances = v->item_count;
    out->meshes = v->mesh_count + (v->cube.id != 0) + (v->person.id != 0);
    out->rescans = v->rescans;
    out->heap_allocations = v->ca.allocations;
    out->warnings = v->warnings;
    out->triangles = v->triangles;
}

tw_status tw_view_camera_parse(const tw_view *v, const char *spec, float aspect, tw_render_camera *cam)
{
    TW_CHECK(v && cam, "tw_view_camera_parse needs a view and a camera.");
    if (!spec || !spec[0]) spec = "home";
    if (tw_view_camera_preset(v, spec, aspect, cam) == TW_OK) return TW_OK;
    float f[6];
    const char *p = spec;
    for (int k = 0; k < 6; k++) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x)) return TW_ERR_INVALID;
        f[k] = (float)x;
        p = end;
        if (k < 5) {
            if (*p != ',') return TW_ERR_INVALID;
            p++;
        }
    }
    if (*p) return TW_ERR_INVALID;
    memcpy(cam->eye, f, 3 * sizeof(float));
    memcpy(cam->target, f + 3, 3 * sizeof(float));
    memset(cam->up, 0, sizeof cam->up);
    return TW_OK;
}
