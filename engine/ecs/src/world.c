/* The world: lifecycle, archetype tables, entity slots, and the immediate
 * (non-deferred) structural changes. Public calls made while deferred are
 * queued by defer.c and applied later through the ecs_*_now functions. */
#include <stdint.h>
#include <string.h>

#include "ecs_internal.h"
#include "twin/hash.h"

/* ---- world lifecycle ---------------------------------------------------- */

static void table_free(tw_ecs_world *w, ecs_table *t);
static tw_status table_create(tw_ecs_world *w, uint64_t mask, uint32_t *out);
static tw_status table_reserve(tw_ecs_world *w, ecs_table *t, uint32_t need);
static tw_status slots_reserve(tw_ecs_world *w, uint32_t need);

tw_ecs_world *tw_ecs_world_new(const tw_ecs_world_desc *desc)
{
    tw_allocator alloc = tw_allocator_or_default(desc ? desc->allocator : NULL);
    tw_ecs_world *w = tw_calloc(&alloc, 1, sizeof *w);
    if (!w) return NULL;
    w->alloc = alloc;
    if (desc && desc->log) w->log = *desc->log;
    w->free_head = ECS_NONE;
    w->create_table = ECS_NONE;
    w->root_first = w->root_last = ECS_NONE;
    tw_strmap_init(&w->names, &w->alloc);
    tw_strmap_init(&w->ext_ids, &w->alloc);
    /* Table 0 is the empty archetype: entities with no components live there. */
    uint32_t empty;
    if (table_create(w, 0, &empty) != TW_OK ||
        (desc && desc->initial_entities && slots_reserve(w, desc->initial_entities) != TW_OK)) {
        tw_ecs_world_free(w);
        return NULL;
    }
    return w;
}

void tw_ecs_world_free(tw_ecs_world *w)
{
    if (!w) return;
    ecs_defer_fini(w);
    ecs_hier_fini(w);
    for (uint32_t i = 0; i < w->table_count; i++) table_free(w, w->tables[i]);
    tw_free(&w->alloc, w->tables, (size_t)w->table_cap * sizeof *w->tables);
    tw_free(&w->alloc, w->map_keys, (size_t)w->map_cap * sizeof *w->map_keys);
    tw_free(&w->alloc, w->map_vals, (size_t)w->map_cap * sizeof *w->map_vals);
    tw_free(&w->alloc, w->records, (size_t)w->record_cap * sizeof *w->records);
    tw_free(&w->alloc, w->hier, (size_t)w->hier_cap * sizeof *w->hier);
    tw_free(&w->alloc, w->strs, (size_t)w->strs_cap * sizeof *w->strs);
    ecs_components_fini(w);
    tw_allocator a = w->alloc;
    tw_free(&a, w, sizeof *w);
}

const tw_allocator *tw_ecs_world_allocator(const tw_ecs_world *w) { return &w->alloc; }
uint64_t tw_ecs_world_structure_version(const tw_ecs_world *w) { return w->structure_version; }

/* ---- tables --------------------------------------------------------------- */

static size_t round_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

/* Copies one value; the common small sizes become plain moves. */
static inline void copy_value(void *dst, const void *src, uint32_t size)
{
    switch (size) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 12: memcpy(dst, src, 12); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, size); break;
    }
}


static void table_free(tw_ecs_world *w, ecs_table *t)
{
    for (uint32_t i = 0; i < t->column_count; i++) tw_free(&w->alloc, t->raw[i], t->raw_bytes[i]);
    tw_free(&w->alloc, t->entities, t->entity_bytes);
    tw_free(&w->alloc, t, sizeof *t);
}

static uint32_t map_slot(uint64_t mask, uint32_t cap) { return (uint32_t)(tw_hash_mix64(mask) & (cap - 1)); }

static tw_status map_grow(tw_ecs_world *w)
{
    uint32_t ncap = w->map_cap ? w->map_cap * 2 : 16;
    uint64_t *keys = tw_alloc(&w->alloc, (size_t)ncap * sizeof *keys);
    uint32_t *vals = tw_alloc(&w->alloc, (size_t)ncap * sizeof *vals);
    if (!keys || !vals) {
        tw_free(&w->alloc, keys, (size_t)ncap * sizeof *keys);
        tw_free(&w->alloc, vals, (size_t)ncap * sizeof *vals);
        return TW_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < ncap; i++) vals[i] = ECS_NONE;
    for (uint32_t i = 0; i < w->map_cap; i++) {
        if (w->map_vals[i] == ECS_NONE) continue;
        uint32_t j = map_slot(w->map_keys[i], ncap);
        while (vals[j] != ECS_NONE) j = (j + 1) & (ncap - 1);
        keys[j] = w->map_keys[i];
        vals[j] = w->map_vals[i];
    }
    tw_free(&w->alloc, w->map_keys, (size_t)w->map_cap * sizeof *w->map_keys);
    tw_free(&w->alloc, w->map_vals, (size_t)w->map_cap * sizeof *w->map_vals);
    w->map_keys = keys;
    w->map_vals = vals;
    w->map_cap = ncap;
    return TW_OK;
}

static uint32_t map_find(const tw_ecs_world *w, uint64_t mask)
{
    if (!w->map_cap) return ECS_NONE;
    uint32_t j = map_slot(mask, w->map_cap);
    while (w->map_vals[j] != ECS_NONE) {
        if (w->map_keys[j] == mask) return w->map_vals[j];
        j = (j + 1) & (w->map_cap - 1);
    }
    return ECS_NONE;
}

static tw_status table_create(tw_ecs_world *w, uint64_t mask, uint32_t *out)
{
    /* Every allocation first, so a failure leaves the world unchanged. */
    if ((w->table_count + 1) * 2 > w->map_cap && map_grow(w) != TW_OK) return TW_ERR_NOMEM;
    size_t cap = w->table_cap;
    if (tw_grow(&w->alloc, (void **)&w->tables, &cap, (size_t)w->table_count + 1, sizeof *w->tables))
        return TW_ERR_NOMEM;
    w->table_cap = (uint32_t)cap;
    ecs_table *t = tw_calloc(&w->alloc, 1, sizeof *t);
    if (!t) return TW_ERR_NOMEM;
    t->mask = mask;
    t->index = w->table_count;
    memset(t->column_of, ECS_NO_COLUMN, sizeof t->column_of);
    for (uint32_t id = 1; id <= TW_ECS_MAX_COMPONENTS; id++) {
        if (!(mask & ecs_bit(id))) continue;
        uint32_t col = t->column_count++;
        t->column_comp[col] = (uint8_t)id;
        t->column_of[id] = (uint8_t)col;
        t->column_size[col] = w->comps[id].info.size;
        t->column_align[col] = w->comps[id].info.align;
    }
    uint32_t j = map_slot(mask, w->map_cap);
    while (w->map_vals[j] != ECS_NONE) j = (j + 1) & (w->map_cap - 1);
    w->map_keys[j] = mask;
    w->map_vals[j] = t->index;
    w->tables[w->table_count++] = t;
    w->structure_version++;
    *out = t->index;
    return TW_OK;
}

tw_status ecs_table_for_mask(tw_ecs_world *w, uint64_t mask, uint32_t *out)
{
    uint32_t idx = map_find(w, mask);
    if (idx != ECS_NONE) {
        *out = idx;
        return TW_OK;
    }
    return table_create(w, mask, out);
}

/* Grows one column to hold cap rows. Types aligned to at most 16 bytes (what
 * malloc gives) grow in place with realloc; over-aligned ones are copied. */
static tw_status column_grow(tw_ecs_world *w, ecs_table *t, uint32_t i, uint32_t cap)
{
    size_t bytes = (size_t)cap * t->column_size[i];
    size_t usable = t->raw[i] ? t->raw_bytes[i] - (size_t)(t->columns[i] - (uint8_t *)t->raw[i]) : 0;
    if (bytes <= usable) return TW_OK;
    if (t->column_align[i] <= 16) {
        void *p = tw_realloc(&w->alloc, t->raw[i], t->raw_bytes[i], bytes);
        if (!p) return TW_ERR_NOMEM;
        t->raw[i] = p;
        t->columns[i] = p;
        t->raw_bytes[i] = bytes;
        return TW_OK;
    }
    size_t align = t->column_align[i];
    unsigned char *p = tw_alloc(&w->alloc, bytes + align);
    if (!p) return TW_ERR_NOMEM;
    unsigned char *col = (unsigned char *)round_up((size_t)(uintptr_t)p, align);
    if (t->count) memcpy(col, t->columns[i], (size_t)t->count * t->column_size[i]);
    tw_free(&w->alloc, t->raw[i], t->raw_bytes[i]);
    t->raw[i] = p;
    t->columns[i] = col;
    t->raw_bytes[i] = bytes + align;
    return TW_OK;
}

/* Makes room for need rows. On failure some columns may have grown; each
 * column remembers its own size, so that is harmless. */
static tw_status table_reserve(tw_ecs_world *w, ecs_table *t, uint32_t need)
{
    if (need <= t->cap) return TW_OK;
    uint64_t ncap64 = (uint64_t)t->cap * 2;
    if (ncap64 < 16) ncap64 = 16;
    if (ncap64 < need) ncap64 = need;
    if (ncap64 > UINT32_MAX) ncap64 = UINT32_MAX;
    uint32_t ncap = (uint32_t)ncap64;
    size_t ebytes = (size_t)ncap * sizeof(tw_entity);
    if (ebytes > t->entity_bytes) {
        tw_entity *e = tw_realloc(&w->alloc, t->entities, t->entity_bytes, ebytes);
        if (!e) return TW_ERR_NOMEM;
        t->entities = e;
        t->entity_bytes = ebytes;
    }
    for (uint32_t i = 0; i < t->column_count; i++)
        if (column_grow(w, t, i, ncap) != TW_OK) return TW_ERR_NOMEM;
    t->cap = ncap;
    return TW_OK;
}

/* Removes a row by moving the table's last row into it. */
static void table_swap_remove(tw_ecs_world *w, ecs_table *t, uint32_t row)
{
    uint32_t last = t->count - 1;
    if (row != last) {
        tw_entity moved = t->entities[last];
        t->entities[row] = moved;
        for (uint32_t i = 0; i < t->column_count; i++) {
            uint32_t sz = t->column_size[i];
            copy_value(t->columns[i] + (size_t)row * sz, t->columns[i] + (size_t)last * sz, sz);
        }
        w->records[(uint32_t)moved.id].row = row;
    }
    t->count = last;
}

/* Fills n rows from first with each column's default value, doubling the
 * copied span so a large fill costs a few big memcpys. */
static void table_fill_defaults(tw_ecs_world *w, ecs_table *t, uint32_t first, uint32_t n)
{
    if (!n) return;
    for (uint32_t i = 0; i < t->column_count; i++) {
        size_t sz = t->column_size[i];
        uint8_t *dst = t->columns[i] + (size_t)first * sz;
        const void *def = w->comps[t->column_comp[i]].info.defaults;
        memcpy(dst, def, sz);
        size_t done = 1;
        while (done < n) {
            size_t chunk = done < n - done ? done : n - done;
            memcpy(dst + done * sz, dst, chunk * sz);
            done += chunk;
        }
    }
}

/* ---- slots ------------------------------------------------------------------ */

static tw_status slots_reserve(tw_ecs_world *w, uint32_t need)
{
    if (need > w->record_cap) {
        uint64_t ncap = (uint64_t)w->record_cap * 2;
        if (ncap < 64) ncap = 64;
        if (ncap < need) ncap = need;
        if (ncap > UINT32_MAX - 1) ncap = UINT32_MAX - 1;
        ecs_record *r = tw_realloc(&w->alloc, w->records, (size_t)w->record_cap * sizeof *r, (size_t)ncap * sizeof *r);
        if (!r) return TW_ERR_NOMEM;
        w->records = r;
        w->record_cap = (uint32_t)ncap;
    }
    if (need > w->hier_cap) {
        uint32_t ncap = w->record_cap;
        ecs_hier *h = tw_realloc(&w->alloc, w->hier, (size_t)w->hier_cap * sizeof *h, (size_t)ncap * sizeof *h);
        if (!h) return TW_ERR_NOMEM;
        w->hier = h;
        w->hier_cap = ncap;
    }
    return TW_OK;
}

/* Takes a free slot (or a new one) and marks it alive with no table yet. */
tw_status ecs_slot_reserve(tw_ecs_world *w, uint32_t *slot)
{
    uint32_t s;
    if (w->free_head != ECS_NONE) {
        s = w->free_head;
        w->free_head = w->records[s].row;
    } else {
        if (w->slot_count == UINT32_MAX - 1) return TW_ERR_LIMIT;
        if (slots_reserve(w, w->slot_count + 1) != TW_OK) return TW_ERR_NOMEM;
        s = w->slot_count++;
        w->records[s].gen = 1;
    }
    ecs_record *r = &w->records[s];
    r->alive = 1;
    r->kind = TW_KIND_NONE;
    r->table = ECS_NONE;
    r->row = 0;
    ecs_hier_init_slot(w, s);
    w->live_count++;
    *slot = s;
    return TW_OK;
}

/* Frees a slot whose entity is out of its table and out of the hierarchy.
 * The generation moves on so every old handle to the slot reads as dead. */
void ecs_slot_release(tw_ecs_world *w, uint32_t slot)
{
    ecs_record *r = &w->records[slot];
    r->alive = 0;
    r->gen = r->gen == UINT32_MAX ? 1 : r->gen + 1;
    r->table = ECS_NONE;
    r->row = w->free_head;
    w->free_head = slot;
    w->live_count--;
}

/* Appends a row for slot to table ti, which has room, at default values. */
static void table_append_default(tw_ecs_world *w, uint32_t ti, uint32_t slot)
{
    ecs_table *t = w->tables[ti];
    uint32_t row = t->count++;
    t->entities[row] = ecs_handle(w, slot);
    for (uint32_t i = 0; i < t->column_count; i++) {
        uint32_t sz = t->column_size[i];
        copy_value(t->columns[i] + (size_t)row * sz, w->comps[t->column_comp[i]].info.defaults, sz);
    }
    w->records[slot].table = ti;
    w->records[slot].row = row;
    w->structure_version++;
}

/* Puts a reserved slot's entity into the table for mask, at default values. */
tw_status ecs_place_pending(tw_ecs_world *w, uint32_t slot, uint64_t mask)
{
    uint32_t ti;
    tw_status st = ecs_table_for_mask(w, mask, &ti);
    if (st) return st;
    ecs_table *t = w->tables[ti];
    if ((st = table_reserve(w, t, t->count + 1))) return st;
    table_append_default(w, ti, slot);
    return TW_OK;
}

/* ---- entities --------------------------------------------------------------- */

static uint64_t mask_of(const tw_ecs_world *w, const tw_component *components, uint32_t count, const char *fn)
{
    uint64_t mask = 0;
    TW_CHECK(count == 0 || components != NULL, "%s was given %u components but a NULL array.", fn, (unsigned)count);
    for (uint32_t i = 0; i < count; i++) {
        ECS_CHECK_COMPONENT(w, components[i], fn);
        mask |= ecs_bit(components[i].id);
    }
    return mask;
}

static tw_entity create_masked(tw_ecs_world *w, uint64_t mask)
{
    uint32_t slot;
    if (w->defer_depth > 0) {
        /* The handle is valid at once; the entity enters its table at defer_end. */
        if (ecs_slot_reserve(w, &slot) != TW_OK) return TW_ENTITY_NULL;
        tw_entity e = ecs_handle(w, slot);
        if (ecs_defer_push(w, ECS_CMD_CREATE, e, 0, mask, NULL, 0) != TW_OK) {
            ecs_hier_release(w, slot);
            ecs_slot_release(w, slot);
            return TW_ENTITY_NULL;
        }
        return e;
    }
    /* Make room in the table before taking a slot, so a failure undoes nothing. */
    uint32_t ti;
    if (mask == w->create_mask && w->create_table != ECS_NONE) {
        ti = w->create_table;
    } else {
        if (ecs_table_for_mask(w, mask, &ti) != TW_OK) return TW_ENTITY_NULL;
        w->create_mask = mask;
        w->create_table = ti;
    }
    ecs_table *t = w->tables[ti];
    if (t->count == t->cap && table_reserve(w, t, t->count + 1) != TW_OK) return TW_ENTITY_NULL;
    if (ecs_slot_reserve(w, &slot) != TW_OK) return TW_ENTITY_NULL;
    table_append_default(w, ti, slot);
    return ecs_handle(w, slot);
}

tw_entity tw_ecs_entity_create(tw_ecs_world *w)
{
    TW_CHECK(w != NULL, "tw_ecs_entity_create needs a world: pass the one tw_ecs_world_new returned.");
    return create_masked(w, 0);
}

tw_entity tw_ecs_entity_create_with(tw_ecs_world *w, const tw_component *components, uint32_t count)
{
    TW_CHECK(w != NULL, "tw_ecs_entity_create_with needs a world: pass the one tw_ecs_world_new returned.");
    return create_masked(w, mask_of(w, components, count, "tw_ecs_entity_create_with"));
}

tw_status tw_ecs_entity_create_bulk(tw_ecs_world *w, const tw_component *components, uint32_t component_count,
                                    uint32_t count, tw_entity *out)
{
    TW_CHECK(w != NULL, "tw_ecs_entity_create_bulk needs a world: pass the one tw_ecs_world_new returned.");
    uint64_t mask = mask_of(w, components, component_count, "tw_ecs_entity_create_bulk");
    if (w->defer_depth > 0) {
        TW_LOG(&w->log, TW_LOG_ERROR, "ecs",
               "tw_ecs_entity_create_bulk was called while the world is deferred: create in bulk outside "
               "defer_begin/defer_end, or create one by one");
        return TW_ERR_STATE;
    }
    if (count == 0) return TW_OK;
    uint32_t ti;
    tw_status st = ecs_table_for_mask(w, mask, &ti);
    if (st) return st;
    ecs_table *t = w->tables[ti];
    if ((uint64_t)t->count + count > UINT32_MAX) return TW_ERR_LIMIT;
    /* Reserve rows and slots first: after this nothing can fail. */
    uint32_t free_n = 0;
    for (uint32_t s = w->free_head; s != ECS_NONE && free_n < count; s = w->records[s].row) free_n++;
    uint64_t new_slots = (uint64_t)w->slot_count + (count - free_n);
    if (new_slots > UINT32_MAX - 1) return TW_ERR_LIMIT;
    if ((st = table_reserve(w, t, t->count + count))) return st;
    if ((st = slots_reserve(w, (uint32_t)new_slots))) return st;

    uint32_t first = t->count;
    table_fill_defaults(w, t, first, count);
    ecs_record *recs = w->records;
    ecs_hier *hier = w->hier;
    uint32_t prev_root = w->root_last;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t s;
        if (w->free_head != ECS_NONE) {
            s = w->free_head;
            w->free_head = recs[s].row;
        } else {
            s = w->slot_count++;
            recs[s].gen = 1;
        }
        ecs_record *r = &recs[s];
        r->alive = 1;
        r->kind = TW_KIND_NONE;
        r->table = ti;
        r->row = first + i;
        tw_entity e = { ((uint64_t)r->gen << 32) | s };
        t->entities[first + i] = e;
        if (out) out[i] = e;
        /* Inline root-list append: the loop runs a million times in big scenes. */
        ecs_hier *h = &hier[s];
        h->parent = h->first_child = h->last_child = h->next = ECS_NONE;
        h->prev = prev_root;
        if (prev_root == ECS_NONE)
            w->root_first = s;
        else
            hier[prev_root].next = s;
        prev_root = s;
    }
    w->root_last = prev_root;
    t->count = first + count;
    w->live_count += count;
    w->structure_version++;
    return TW_OK;
}

void ecs_destroy_now(tw_ecs_world *w, uint32_t slot)
{
    /* Post-order walk without recursion: go down to a leaf, destroy it, climb
     * to its parent and go down again; every link is walked once. */
    uint32_t cur = slot;
    for (;;) {
        while (w->hier[cur].first_child != ECS_NONE) cur = w->hier[cur].first_child;
        uint32_t parent = w->hier[cur].parent;
        ecs_record *r = &w->records[cur];
        if (r->table != ECS_NONE) table_swap_remove(w, w->tables[r->table], r->row);
        ecs_hier_release(w, cur);
        ecs_slot_release(w, cur);
        w->structure_version++;
        if (cur == slot) break;
        cur = parent;
    }
}

void tw_ecs_entity_destroy(tw_ecs_world *w, tw_entity e)
{
    TW_CHECK(w != NULL, "tw_ecs_entity_destroy needs a world: pass the one tw_ecs_world_new returned.");
    if (!ecs_record_of(w, e)) return;
    if (w->defer_depth > 0) {
        if (ecs_defer_push(w, ECS_CMD_DESTROY, e, 0, 0, NULL, 0) != TW_OK)
            TW_LOG(&w->log, TW_LOG_ERROR, "ecs",
                   "out of memory: the deferred destroy of entity %u was dropped", (unsigned)(uint32_t)e.id);
        return;
    }
    ecs_destroy_now(w, (uint32_t)e.id);
}

bool tw_ecs_entity_alive(const tw_ecs_world *w, tw_entity e) { return w && ecs_record_of(w, e) != NULL; }
uint32_t tw_ecs_entity_count(const tw_ecs_world *w) { return w->live_count; }
uint32_t tw_ecs_entity_capacity(const tw_ecs_world *w) { return w->slot_count; }

tw_entity tw_ecs_entity_at(const tw_ecs_world *w, uint32_t index)
{
    if (index >= w->slot_count || !w->records[index].alive) return TW_ENTITY_NULL;
    return ecs_handle(w, index);
}

uint32_t tw_ecs_entity_components(const tw_ecs_world *w, tw_entity e, tw_component *out, uint32_t max)
{
    ecs_record *r = ecs_record_of(w, e);
    if (!r || r->table == ECS_NONE) return 0;
    const ecs_table *t = w->tables[r->table];
    for (uint32_t i = 0; i < t->column_count && i < max; i++) out[i].id = t->column_comp[i];
    return t->column_count;
}

/* ---- components on entities ----------------------------------------------- */

/* Moves the entity in slot to table dst, carrying the components both have
 * and giving new ones their defaults. */
static tw_status entity_move(tw_ecs_world *w, uint32_t slot, uint32_t dst_index)
{
    ecs_record *r = &w->records[slot];
    ecs_table *src = w->tables[r->table];
    ecs_table *dst = w->tables[dst_index];
    if (dst->count == dst->cap) {
        tw_status st = table_reserve(w, dst, dst->count + 1);
        if (st) return st;
    }
    uint32_t row = dst->count++;
    uint32_t src_row = r->row;
    dst->entities[row] = src->entities[src_row];
    for (uint32_t i = 0; i < dst->column_count; i++) {
        uint32_t c = dst->column_comp[i], sz = dst->column_size[i];
        uint8_t sc = src->column_of[c];
        const void *from = sc != ECS_NO_COLUMN ? src->columns[sc] + (size_t)src_row * sz : w->comps[c].info.defaults;
        copy_value(dst->columns[i] + (size_t)row * sz, from, sz);
    }
    table_swap_remove(w, src, src_row);
    r->table = dst_index;
    r->row = row;
    w->structure_version++;
    return TW_OK;
}

tw_status ecs_add_now(tw_ecs_world *w, uint32_t slot, uint32_t comp, const void *value, void **data)
{
    ecs_record *r = &w->records[slot];
    if (r->table == ECS_NONE) return TW_ERR_STATE;
    ecs_table *t = w->tables[r->table];
    uint8_t col = t->column_of[comp];
    if (col == ECS_NO_COLUMN) {
        uint32_t dst = t->add_edge[comp];
        if (dst) {
            dst -= 1;
        } else {
            tw_status st = ecs_table_for_mask(w, t->mask | ecs_bit(comp), &dst);
            if (st) return st;
            t->add_edge[comp] = dst + 1;
            w->tables[dst]->remove_edge[comp] = t->index + 1;
        }
        tw_status st = entity_move(w, slot, dst);
        if (st) return st;
        t = w->tables[dst];
        col = t->column_of[comp];
    }
    uint32_t sz = t->column_size[col];
    void *p = t->columns[col] + (size_t)r->row * sz;
    if (value) memcpy(p, value, sz);
    if (data) *data = p;
    return TW_OK;
}

void ecs_remove_now(tw_ecs_world *w, uint32_t slot, uint32_t comp)
{
    ecs_record *r = &w->records[slot];
    if (r->table == ECS_NONE) return;
    ecs_table *t = w->tables[r->table];
    if (t->column_of[comp] == ECS_NO_COLUMN) return;
    uint32_t dst = t->remove_edge[comp];
    if (dst) {
        dst -= 1;
    } else {
        if (ecs_table_for_mask(w, t->mask & ~ecs_bit(comp), &dst) != TW_OK) goto nomem;
        t->remove_edge[comp] = dst + 1;
        w->tables[dst]->add_edge[comp] = t->index + 1;
    }
    if (entity_move(w, slot, dst) != TW_OK) goto nomem;
    return;
nomem:
    TW_LOG(&w->log, TW_LOG_ERROR, "ecs", "out of memory: component %s stays on entity %u",
           w->comps[comp].info.name, (unsigned)slot);
}

void *tw_ecs_add(tw_ecs_world *w, tw_entity e, tw_component c)
{
    TW_CHECK(w != NULL, "tw_ecs_add needs a world: pass the one tw_ecs_world_new returned.");
    ECS_CHECK_COMPONENT(w, c, "tw_ecs_add");
    if (!ecs_record_of(w, e)) return NULL;
    if (w->defer_depth > 0) {
        if (ecs_defer_push(w, ECS_CMD_ADD, e, c.id, 0, NULL, 0) != TW_OK)
            TW_LOG(&w->log, TW_LOG_ERROR, "ecs", "out of memory: the deferred add of %s was dropped",
                   w->comps[c.id].info.name);
        return NULL;
    }
    void *p = NULL;
    if (ecs_add_now(w, (uint32_t)e.id, c.id, NULL, &p) != TW_OK) return NULL;
    return p;
}

tw_status tw_ecs_set(tw_ecs_world *w, tw_entity e, tw_component c, const void *value)
{
    TW_CHECK(w != NULL, "tw_ecs_set needs a world: pass the one tw_ecs_world_new returned.");
    ECS_CHECK_COMPONENT(w, c, "tw_ecs_set");
    TW_CHECK(value != NULL, "tw_ecs_set needs a value to copy: pass a pointer to a %s.", w->comps[c.id].info.name);
    if (!ecs_record_of(w, e)) return TW_ERR_INVALID;
    if (w->defer_depth > 0)
        return ecs_defer_push(w, ECS_CMD_SET, e, c.id, 0, value, w->comps[c.id].info.size);
    return ecs_add_now(w, (uint32_t)e.id, c.id, value, NULL);
}

void tw_ecs_remove(tw_ecs_world *w, tw_entity e, tw_component c)
{
    TW_CHECK(w != NULL, "tw_ecs_remove needs a world: pass the one tw_ecs_world_new returned.");
    ECS_CHECK_COMPONENT(w, c, "tw_ecs_remove");
    if (!ecs_record_of(w, e)) return;
    if (w->defer_depth > 0) {
        if (ecs_defer_push(w, ECS_CMD_REMOVE, e, c.id, 0, NULL, 0) != TW_OK)
            TW_LOG(&w->log, TW_LOG_ERROR, "ecs", "out of memory: the deferred removal of %s was dropped",
                   w->comps[c.id].info.name);
        return;
    }
    ecs_remove_now(w, (uint32_t)e.id, c.id);
}

bool tw_ecs_has(const tw_ecs_world *w, tw_entity e, tw_component c)
{
    ECS_CHECK_COMPONENT(w, c, "tw_ecs_has");
    ecs_record *r = ecs_record_of(w, e);
    if (!r || r->table == ECS_NONE) return false;
    return w->tables[r->table]->column_of[c.id] != ECS_NO_COLUMN;
}

void *tw_ecs_get(const tw_ecs_world *w, tw_entity e, tw_component c)
{
    ECS_CHECK_COMPONENT(w, c, "tw_ecs_get");
    ecs_record *r = ecs_record_of(w, e);
    if (!r || r->table == ECS_NONE) return NULL;
    const ecs_table *t = w->tables[r->table];
    uint8_t col = t->column_of[c.id];
    if (col == ECS_NO_COLUMN) return NULL;
    return t->columns[col] + (size_t)r->row * t->column_size[col];
}
