/* World snapshots: the whole world as bytes and back (twin/ecs_snapshot.h).
 *
 * The snapshot mirrors the world's own layout rather than a neutral one:
 * tables in index order with their rows in order, slots with generations and
 * the free list, the sibling lists. A restored world is then not merely
 * equal in content but identical in everything that decides what happens
 * next: query order (tables, then rows), the slot the next create takes, the
 * handle it gets. Byte layout: docs/log-format.md, "ECS section".
 *
 * Restore builds straight into the world's internal arrays (this file is
 * part of the ECS), after validating the whole buffer, so no public call can
 * trip over a half-built world. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ecs_internal.h"
#include "twin/ecs_snapshot.h"
#include "twin/hash.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "twin snapshots copy component bytes as they are in memory: they are defined for little-endian hosts only"
#endif

#define SNAP_MAGIC 0x53455754u /* "TWES" */

/* ---- fingerprint ------------------------------------------------------------ */

static void hash_str(tw_hasher *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    tw_hasher_u64(h, n);
    if (n) tw_hasher_update(h, s, n);
}

uint64_t tw_ecs_layout_fingerprint(const tw_ecs_world *w)
{
    TW_CHECK(w != NULL, "tw_ecs_layout_fingerprint needs a world: pass the one tw_ecs_world_new returned.");
    tw_hasher h;
    tw_hasher_init(&h, 0x7477656c61796f75ull /* "twelayou" */);
    tw_hasher_u64(&h, w->comp_count);
    for (uint32_t id = 1; id <= w->comp_count; id++) {
        const tw_ecs_component_info *c = &w->comps[id].info;
        hash_str(&h, c->name);
        tw_hasher_u64(&h, c->size);
        tw_hasher_u64(&h, c->align);
        tw_hasher_u64(&h, c->field_count);
        for (uint32_t i = 0; i < c->field_count; i++) {
            const tw_field *f = &c->fields[i];
            hash_str(&h, f->name);
            tw_hasher_u64(&h, (uint64_t)f->type);
            tw_hasher_u64(&h, f->offset);
            tw_hasher_u64(&h, f->count ? f->count : 1);
            tw_hasher_u64(&h, f->tuple ? f->tuple : 1);
            hash_str(&h, f->len_field);
        }
    }
    return tw_hasher_final(&h);
}

/* ---- writing ---------------------------------------------------------------- */

enum { HEAD_BYTES = 4 + 4 + 8 + 4 * 7 + 8, SLOT_BYTES = 4 + 4 + 1 + 1, HIER_BYTES = 5 * 4 };

static const char *str_of(const tw_ecs_world *w, uint32_t s, int ext)
{
    if (s >= w->strs_cap) return NULL;
    return ext ? w->strs[s].ext_id : w->strs[s].name;
}

size_t tw_ecs_snapshot_size(const tw_ecs_world *w)
{
    TW_CHECK(w != NULL, "tw_ecs_snapshot_size needs a world: pass the one tw_ecs_world_new returned.");
    size_t n = HEAD_BYTES + (size_t)w->slot_count * SLOT_BYTES;
    for (uint32_t s = 0; s < w->slot_count; s++) {
        if (!w->records[s].alive) continue;
        const char *name = str_of(w, s, 0), *ext = str_of(w, s, 1);
        n += HIER_BYTES + 2 + (name ? strlen(name) : 0) + 2 + (ext ? strlen(ext) : 0);
    }
    for (uint32_t i = 0; i < w->table_count; i++) {
        const ecs_table *t = w->tables[i];
        n += 8 + 4 + (size_t)t->count * 8;
        for (uint32_t c = 0; c < t->column_count; c++) n += (size_t)t->count * t->column_size[c];
    }
    return n;
}

typedef struct wbuf {
    unsigned char *p;
    size_t n;
} wbuf;

static void put(wbuf *b, const void *src, size_t size)
{
    if (size) memcpy(b->p + b->n, src, size);
    b->n += size;
}
static void put_u8(wbuf *b, uint8_t v) { put(b, &v, 1); }
static void put_u16(wbuf *b, uint16_t v) { put(b, &v, 2); }
static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }

static void put_str(wbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u16(b, (uint16_t)n);
    put(b, s, n);
}

tw_status tw_ecs_snapshot_write(const tw_ecs_world *w, void *out, size_t capacity, size_t *written)
{
    TW_CHECK(w != NULL && out != NULL && written != NULL,
             "tw_ecs_snapshot_write needs a world, a buffer and somewhere to put the size written.");
    TW_CHECK(w->defer_depth == 0,
             "tw_ecs_snapshot_write was called while the world is deferred: snapshot between ticks, after "
             "tw_ecs_defer_end.");
    *written = 0;
    size_t need = tw_ecs_snapshot_size(w);
    if (capacity < need) return TW_ERR_LIMIT;
    wbuf b = { out, 0 };
    put_u32(&b, SNAP_MAGIC);
    put_u32(&b, TW_ECS_SNAPSHOT_VERSION);
    put_u64(&b, tw_ecs_layout_fingerprint(w));
    put_u32(&b, w->comp_count);
    put_u32(&b, w->slot_count);
    put_u32(&b, w->free_head);
    put_u32(&b, w->live_count);
    put_u32(&b, w->root_first);
    put_u32(&b, w->root_last);
    put_u32(&b, w->table_count);
    put_u64(&b, w->structure_version);
    for (uint32_t s = 0; s < w->slot_count; s++) {
        const ecs_record *r = &w->records[s];
        put_u32(&b, r->gen);
        put_u32(&b, r->alive ? 0u : r->row); /* a free slot's row is the next free slot */
        put_u8(&b, r->alive);
        put_u8(&b, r->alive ? r->kind : 0);
    }
    for (uint32_t s = 0; s < w->slot_count; s++) {
        if (!w->records[s].alive) continue;
        const ecs_hier *h = &w->hier[s];
        put_u32(&b, h->parent);
        put_u32(&b, h->first_child);
        put_u32(&b, h->last_child);
        put_u32(&b, h->next);
        put_u32(&b, h->prev);
        put_str(&b, str_of(w, s, 0));
        put_str(&b, str_of(w, s, 1));
    }
    for (uint32_t i = 0; i < w->table_count; i++) {
        const ecs_table *t = w->tables[i];
        put_u64(&b, t->mask);
        put_u32(&b, t->count);
        put(&b, t->entities, (size_t)t->count * sizeof(tw_entity));
        for (uint32_t c = 0; c < t->column_count; c++) put(&b, t->columns[c], (size_t)t->count * t->column_size[c]);
    }
    *written = b.n;
    return TW_OK;
}

/* ---- reading and validating --------------------------------------------------- */

typedef struct rbuf {
    const unsigned char *p;
    size_t n, at;
    int bad;
} rbuf;

static const void *take(rbuf *b, size_t size)
{
    if (b->bad || size > b->n - b->at) {
        b->bad = 1;
        return NULL;
    }
    const void *p = b->p + b->at;
    b->at += size;
    return p;
}

static uint8_t get_u8(rbuf *b)
{
    const unsigned char *p = take(b, 1);
    return p ? *p : 0;
}
static uint16_t get_u16(rbuf *b)
{
    uint16_t v = 0;
    const void *p = take(b, 2);
    if (p) memcpy(&v, p, 2);
    return v;
}
static uint32_t get_u32(rbuf *b)
{
    uint32_t v = 0;
    const void *p = take(b, 4);
    if (p) memcpy(&v, p, 4);
    return v;
}
static uint64_t get_u64(rbuf *b)
{
    uint64_t v = 0;
    const void *p = take(b, 8);
    if (p) memcpy(&v, p, 8);
    return v;
}

/* Where each part of the buffer is, found by one validating pass. */
typedef struct snap_view {
    uint32_t comp_count, slot_count, free_head, live_count, root_first, root_last, table_count;
    uint64_t structure_version;
    size_t slots_at;      /* slot records */
    size_t hier_at;       /* hierarchy + strings of the live slots, in slot order */
    size_t tables_at;
} snap_view;

static int slot_ok(uint32_t s, const snap_view *v) { return s == ECS_NONE || s < v->slot_count; }

static tw_status bad(tw_diag *diag, const char *what)
{
    tw_diag_set(diag, "the ECS snapshot is damaged: %s", what);
    return TW_ERR_INVALID;
}

/* Whether a component row holds sane strings and array lengths (code reading
 * components trusts both). */
static int row_ok(const tw_ecs_component_info *info, const unsigned char *row)
{
    for (uint32_t i = 0; i < info->field_count; i++) {
        const tw_field *f = &info->fields[i];
        if (f->type == TW_TYPE_STR) {
            uint32_t n = f->count ? f->count : 1;
            if (!memchr(row + f->offset, '\0', n)) return 0;
        } else if (f->len_field) {
            uint32_t li;
            const tw_field *len = tw_ecs_field_lookup(info, f->len_field, &li);
            if (len && len->type == TW_TYPE_U32) {
                uint32_t used;
                memcpy(&used, row + len->offset, sizeof used);
                if (used > (f->count ? f->count : 1)) return 0;
            }
        }
    }
    return 1;
}

static int name_ok(const unsigned char *s, size_t n)
{
    if (n >= TW_ECS_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == '\0') return 0;
    return 1;
}

static int ext_ok(const unsigned char *s, size_t n) { return !memchr(s, '\0', n); }

static tw_status validate(const tw_ecs_world *w, rbuf *b, snap_view *v, uint8_t *mark, tw_diag *diag)
{
    /* Header. */
    if (get_u32(b) != SNAP_MAGIC) return bad(diag, "it does not start with the snapshot magic \"TWES\"");
    uint32_t version = get_u32(b);
    if (!b->bad && version != TW_ECS_SNAPSHOT_VERSION) {
        tw_diag_set(diag, "the ECS snapshot has format version %u; this build reads version %u", version,
                    TW_ECS_SNAPSHOT_VERSION);
        return TW_ERR_INVALID;
    }
    uint64_t fp = get_u64(b);
    v->comp_count = get_u32(b);
    v->slot_count = get_u32(b);
    v->free_head = get_u32(b);
    v->live_count = get_u32(b);
    v->root_first = get_u32(b);
    v->root_last = get_u32(b);
    v->table_count = get_u32(b);
    v->structure_version = get_u64(b);
    if (b->bad) return bad(diag, "its header is cut short");
    if (fp != tw_ecs_layout_fingerprint(w) || v->comp_count != w->comp_count) {
        tw_diag_set(diag,
                    "the snapshot was taken from a world whose components have another layout (%u components, "
                    "fingerprint %016llx; this world has %u, %016llx): it comes from an incompatible build",
                    v->comp_count, (unsigned long long)fp, w->comp_count,
                    (unsigned long long)tw_ecs_layout_fingerprint(w));
        return TW_ERR_INVALID;
    }
    if (v->slot_count >= ECS_NONE || v->live_count > v->slot_count) return bad(diag, "its entity counts disagree");
    if (v->table_count == 0 || v->table_count > (1u << 24)) return bad(diag, "its table count is out of range");
    if ((size_t)v->slot_count * SLOT_BYTES > b->n - b->at) return bad(diag, "its slot list is cut short");

    /* Slots. mark: 1 alive, 2 free, |4 seen in the free list, |8 placed in a table, |16 in the hierarchy. */
    v->slots_at = b->at;
    uint32_t live = 0;
    for (uint32_t s = 0; s < v->slot_count; s++) {
        uint32_t gen = get_u32(b), next = get_u32(b);
        uint8_t alive = get_u8(b), kind = get_u8(b);
        if (gen == 0 || alive > 1 || kind >= TW_KIND_COUNT) return bad(diag, "a slot has a zero generation or a bad flag");
        if (alive) {
            mark[s] = 1;
            live++;
        } else {
            if (!slot_ok(next, v)) return bad(diag, "a free slot links outside the slot list");
            mark[s] = 2;
        }
    }
    if (live != v->live_count) return bad(diag, "its live entity count disagrees with the slots");
    /* The free list visits every free slot once. */
    uint32_t free_n = 0;
    rbuf sb = { b->p, b->n, v->slots_at, 0 };
    for (uint32_t s = v->free_head; s != ECS_NONE;) {
        if (!slot_ok(s, v) || mark[s] != 2) return bad(diag, "the free list reaches a live or repeated slot");
        mark[s] |= 4;
        free_n++;
        sb.at = v->slots_at + (size_t)s * SLOT_BYTES + 4;
        s = get_u32(&sb);
    }
    if (free_n != v->slot_count - live) return bad(diag, "the free list misses free slots");

    /* Hierarchy and strings of the live slots. */
    v->hier_at = b->at;
    for (uint32_t s = 0; s < v->slot_count; s++) {
        if (!(mark[s] & 1)) continue;
        for (int k = 0; k < 5; k++) {
            uint32_t x = get_u32(b);
            if (!b->bad && (!slot_ok(x, v) || (x != ECS_NONE && !(mark[x] & 1))))
                return bad(diag, "a hierarchy link points at a free or missing slot");
        }
        uint16_t n = get_u16(b);
        const unsigned char *name = take(b, n);
        if (name && !name_ok(name, n)) return bad(diag, "an entity name is too long or holds '/' or NUL");
        n = get_u16(b);
        const unsigned char *ext = take(b, n);
        if (ext && !ext_ok(ext, n)) return bad(diag, "an external id holds NUL");
        if (b->bad) return bad(diag, "the hierarchy is cut short");
    }

    /* Tables. */
    v->tables_at = b->at;
    uint64_t all = w->comp_count >= 64 ? ~0ull : (1ull << w->comp_count) - 1;
    for (uint32_t i = 0; i < v->table_count; i++) {
        uint64_t mask = get_u64(b);
        uint32_t count = get_u32(b);
        if (b->bad) return bad(diag, "a table header is cut short");
        if ((mask & ~all) || (i == 0) != (mask == 0)) return bad(diag, "a table names unknown components");
        if ((size_t)count * 8 > b->n - b->at) return bad(diag, "a table's rows are cut short");
        const unsigned char *ents = take(b, (size_t)count * 8);
        for (uint32_t r = 0; r < count; r++) {
            uint64_t id;
            memcpy(&id, ents + (size_t)r * 8, 8);
            uint32_t s = (uint32_t)id;
            if (s >= v->slot_count || (mark[s] & 9) != 1) return bad(diag, "a table row holds a free or repeated entity");
            rbuf gb = { b->p, b->n, v->slots_at + (size_t)s * SLOT_BYTES, 0 };
            if (get_u32(&gb) != (uint32_t)(id >> 32)) return bad(diag, "a table row's generation disagrees with its slot");
            mark[s] |= 8;
        }
        for (uint32_t c = 1; c <= w->comp_count; c++) {
            if (!(mask & ecs_bit(c))) continue;
            const tw_ecs_component_info *info = &w->comps[c].info;
            size_t bytes = (size_t)count * info->size;
            const unsigned char *col = take(b, bytes);
            if (!col) return bad(diag, "a component column is cut short");
            for (uint32_t r = 0; r < count; r++)
                if (!row_ok(info, col + (size_t)r * info->size))
                    return bad(diag, "a component holds an unterminated string or an array length past its end");
        }
    }
    for (uint32_t s = 0; s < v->slot_count; s++)
        if ((mark[s] & 1) && !(mark[s] & 8)) return bad(diag, "a live entity sits in no table");
    if (b->at != b->n) return bad(diag, "bytes follow its last table");
    return TW_OK;
}

/* Walks every sibling list from the roots down: each live slot must be met
 * exactly once with consistent back links, which rules out cycles. hier is
 * indexed by slot. queue holds live_count slots. */
static tw_status check_tree(const snap_view *v, const ecs_hier *hier, uint8_t *mark, uint32_t *queue, tw_diag *diag)
{
    uint32_t qn = 0, qi = 0;
    uint32_t parent = ECS_NONE, first = v->root_first, last = v->root_last;
    for (;;) {
        uint32_t prev = ECS_NONE;
        for (uint32_t s = first; s != ECS_NONE; s = hier[s].next) {
            if (!slot_ok(s, v) || !(mark[s] & 1) || (mark[s] & 16) || qn >= v->live_count)
                return bad(diag, "the hierarchy has a cycle or links a slot twice");
            if (hier[s].parent != parent || hier[s].prev != prev)
                return bad(diag, "a sibling list's links disagree");
            mark[s] |= 16;
            queue[qn++] = s;
            prev = s;
        }
        if (prev != last) return bad(diag, "a sibling list ends elsewhere than its last link says");
        if (qi == qn) break;
        parent = queue[qi++];
        first = hier[parent].first_child;
        last = hier[parent].last_child;
    }
    if (qn != v->live_count) return bad(diag, "some live entities are not in the hierarchy");
    return TW_OK;
}

/* ---- restoring ---------------------------------------------------------------- */

static void name_key(char *out, size_t size, uint32_t parent, const char *name)
{
    /* The key format of hierarchy.c's name map. */
    if (parent == ECS_NONE) snprintf(out, size, "r/%s", name);
    else snprintf(out, size, "%u/%s", (unsigned)parent, name);
}

/* Puts w back to fresh: no entities, table 0 alone, empty maps. */
static void make_fresh(tw_ecs_world *w)
{
    for (uint32_t s = 0; s < w->strs_cap; s++) {
        ecs_strs *x = &w->strs[s];
        if (x->name) tw_free(&w->alloc, x->name, strlen(x->name) + 1);
        if (x->ext_id) tw_free(&w->alloc, x->ext_id, strlen(x->ext_id) + 1);
    }
    tw_free(&w->alloc, w->strs, (size_t)w->strs_cap * sizeof *w->strs);
    w->strs = NULL;
    w->strs_cap = 0;
    tw_strmap_fini(&w->names);
    tw_strmap_fini(&w->ext_ids);
    tw_strmap_init(&w->names, &w->alloc);
    tw_strmap_init(&w->ext_ids, &w->alloc);
    for (uint32_t i = 1; i < w->table_count; i++) {
        ecs_table *t = w->tables[i];
        for (uint32_t c = 0; c < t->column_count; c++) tw_free(&w->alloc, t->raw[c], t->raw_bytes[c]);
        tw_free(&w->alloc, t->entities, t->entity_bytes);
        tw_free(&w->alloc, t, sizeof *t);
    }
    if (w->table_count > 1) {
        w->table_count = 1;
        /* Empty the map and put table 0 back (linear probing: re-insert
         * rather than punch holes). */
        for (uint32_t i = 0; i < w->map_cap; i++) w->map_vals[i] = ECS_NONE;
        uint32_t j = (uint32_t)(tw_hash_mix64(0) & (w->map_cap - 1));
        w->map_keys[j] = 0;
        w->map_vals[j] = 0;
    }
    ecs_table *t0 = w->tables[0];
    t0->count = 0;
    memset(t0->add_edge, 0, sizeof t0->add_edge);
    memset(t0->remove_edge, 0, sizeof t0->remove_edge);
    w->slot_count = 0;
    w->live_count = 0;
    w->free_head = ECS_NONE;
    w->root_first = w->root_last = ECS_NONE;
    w->create_mask = 0;
    w->create_table = ECS_NONE;
    w->structure_version++;
}

static tw_status table_fill(tw_ecs_world *w, ecs_table *t, rbuf *b, uint32_t count)
{
    if (!count) return TW_OK;
    size_t eb = (size_t)count * sizeof(tw_entity);
    t->entities = tw_alloc(&w->alloc, eb);
    if (!t->entities) return TW_ERR_NOMEM;
    t->entity_bytes = eb;
    memcpy(t->entities, take(b, eb), eb);
    for (uint32_t c = 0; c < t->column_count; c++) {
        /* The layout world.c's column_grow keeps: realloc'd blocks for
         * alignments malloc gives, over-allocated and aligned otherwise. */
        size_t bytes = (size_t)count * t->column_size[c];
        size_t align = t->column_align[c];
        size_t raw = align <= 16 ? bytes : bytes + align;
        unsigned char *p = tw_alloc(&w->alloc, raw ? raw : 1);
        if (!p) return TW_ERR_NOMEM;
        t->raw[c] = p;
        t->raw_bytes[c] = raw ? raw : 1;
        t->columns[c] = align <= 16 ? p : (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
        memcpy(t->columns[c], take(b, bytes), bytes);
    }
    t->cap = count;
    t->count = count;
    return TW_OK;
}

static tw_status build(tw_ecs_world *w, const unsigned char *data, size_t size, const snap_view *v)
{
    /* Slots: the same capacity rule as world.c's slots_reserve. */
    uint32_t cap = v->slot_count < 64 ? 64 : v->slot_count;
    if (cap > w->record_cap) {
        ecs_record *r = tw_realloc(&w->alloc, w->records, (size_t)w->record_cap * sizeof *r, (size_t)cap * sizeof *r);
        if (!r) return TW_ERR_NOMEM;
        w->records = r;
        w->record_cap = cap;
    }
    if (w->record_cap > w->hier_cap) {
        ecs_hier *h = tw_realloc(&w->alloc, w->hier, (size_t)w->hier_cap * sizeof *h,
                                 (size_t)w->record_cap * sizeof *h);
        if (!h) return TW_ERR_NOMEM;
        w->hier = h;
        w->hier_cap = w->record_cap;
    }
    rbuf b = { data, size, v->slots_at, 0 };
    for (uint32_t s = 0; s < v->slot_count; s++) {
        ecs_record *r = &w->records[s];
        r->gen = get_u32(&b);
        uint32_t next = get_u32(&b);
        r->alive = get_u8(&b);
        r->kind = get_u8(&b);
        r->unused = 0;
        r->table = ECS_NONE;
        r->row = r->alive ? 0 : next;
        w->hier[s] = (ecs_hier){ ECS_NONE, ECS_NONE, ECS_NONE, ECS_NONE, ECS_NONE };
    }
    w->slot_count = v->slot_count;
    w->live_count = v->live_count;
    w->free_head = v->free_head;
    w->root_first = v->root_first;
    w->root_last = v->root_last;

    /* Hierarchy, names, external ids. */
    b.at = v->hier_at;
    int any_str = 0;
    for (uint32_t s = 0; s < v->slot_count; s++) {
        if (!w->records[s].alive) continue;
        ecs_hier *h = &w->hier[s];
        h->parent = get_u32(&b);
        h->first_child = get_u32(&b);
        h->last_child = get_u32(&b);
        h->next = get_u32(&b);
        h->prev = get_u32(&b);
        uint16_t n = get_u16(&b);
        take(&b, n);
        uint16_t m = get_u16(&b);
        take(&b, m);
        any_str |= n || m;
    }
    if (any_str) {
        w->strs = tw_calloc(&w->alloc, w->hier_cap, sizeof *w->strs);
        if (!w->strs) return TW_ERR_NOMEM;
        w->strs_cap = w->hier_cap;
        b.at = v->hier_at;
        char key[TW_ECS_NAME_MAX + 16];
        for (uint32_t s = 0; s < v->slot_count; s++) {
            if (!w->records[s].alive) continue;
            take(&b, HIER_BYTES);
            for (int ext = 0; ext < 2; ext++) {
                uint16_t n = get_u16(&b);
                const char *src = take(&b, n);
                if (!n) continue;
                char *copy = tw_alloc(&w->alloc, (size_t)n + 1);
                if (!copy) return TW_ERR_NOMEM;
                memcpy(copy, src, n);
                copy[n] = '\0';
                tw_entity e = ecs_handle(w, s);
                if (ext) {
                    w->strs[s].ext_id = copy;
                    if (tw_strmap_get(&w->ext_ids, copy, NULL)) return TW_ERR_INVALID;
                    if (tw_strmap_put(&w->ext_ids, copy, e.id)) return TW_ERR_NOMEM;
                } else {
                    w->strs[s].name = copy;
                    name_key(key, sizeof key, w->hier[s].parent, copy);
                    if (tw_strmap_get(&w->names, key, NULL)) return TW_ERR_INVALID;
                    if (tw_strmap_put(&w->names, key, e.id)) return TW_ERR_NOMEM;
                }
            }
        }
    }

    /* Tables, in the same order, so they get the same indices. */
    b.at = v->tables_at;
    for (uint32_t i = 0; i < v->table_count; i++) {
        uint64_t mask = get_u64(&b);
        uint32_t count = get_u32(&b);
        uint32_t ti;
        tw_status st = ecs_table_for_mask(w, mask, &ti);
        if (st) return st;
        if (ti != i) return TW_ERR_INVALID; /* a mask repeated */
        ecs_table *t = w->tables[ti];
        if ((st = table_fill(w, t, &b, count))) return st;
        for (uint32_t r = 0; r < count; r++) {
            uint32_t s = (uint32_t)t->entities[r].id;
            w->records[s].table = ti;
            w->records[s].row = r;
        }
    }
    w->structure_version = v->structure_version + 1;
    return TW_OK;
}

tw_status tw_ecs_snapshot_restore(tw_ecs_world *w, const void *data, size_t size, tw_diag *diag)
{
    TW_CHECK(w != NULL && (data != NULL || size == 0),
             "tw_ecs_snapshot_restore needs a world and the snapshot's bytes.");
    if (w->defer_depth > 0 || w->slot_count != 0 || w->table_count != 1 || w->tables[0]->count != 0) {
        tw_diag_set(diag, "a snapshot restores only into a fresh world (components registered, no entity created "
                          "yet): make a new world for it");
        return TW_ERR_STATE;
    }
    rbuf b = { data, size, 0, 0 };
    snap_view v;
    memset(&v, 0, sizeof v);
    /* The slot count is not known before the header is read: peek it. */
    if (size < HEAD_BYTES) return bad(diag, "it is shorter than its header");
    uint32_t slots;
    memcpy(&slots, (const unsigned char *)data + 16 + 4, 4);
    if ((size_t)slots * SLOT_BYTES > size) return bad(diag, "its slot list is cut short");
    size_t mark_bytes = slots ? slots : 1;
    uint8_t *mark = tw_calloc(&w->alloc, mark_bytes, 1);
    if (!mark) return TW_ERR_NOMEM;
    tw_status st = validate(w, &b, &v, mark, diag);
    uint32_t *queue = NULL;
    ecs_hier *hier = NULL;
    if (!st) {
        /* The tree check needs the links by slot; gather them. */
        queue = tw_alloc(&w->alloc, (size_t)(v.live_count ? v.live_count : 1) * sizeof *queue);
        hier = tw_alloc(&w->alloc, (size_t)mark_bytes * sizeof *hier);
        if (!queue || !hier) {
            st = TW_ERR_NOMEM;
        } else {
            rbuf hb = { data, size, v.hier_at, 0 };
            for (uint32_t s = 0; s < v.slot_count; s++) {
                if (!(mark[s] & 1)) continue;
                ecs_hier *h = &hier[s];
                h->parent = get_u32(&hb);
                h->first_child = get_u32(&hb);
                h->last_child = get_u32(&hb);
                h->next = get_u32(&hb);
                h->prev = get_u32(&hb);
                take(&hb, get_u16(&hb));
                take(&hb, get_u16(&hb));
            }
            st = check_tree(&v, hier, mark, queue, diag);
        }
    }
    tw_free(&w->alloc, queue, (size_t)(v.live_count ? v.live_count : 1) * sizeof *queue);
    tw_free(&w->alloc, hier, (size_t)mark_bytes * sizeof *hier);
    tw_free(&w->alloc, mark, mark_bytes);
    if (st) return st;
    st = build(w, data, size, &v);
    if (st) {
        if (st == TW_ERR_INVALID) bad(diag, "two siblings share a name, two entities an external id, or two tables a component set");
        else tw_diag_set(diag, "out of memory restoring the ECS snapshot");
        make_fresh(w);
    }
    return st;
}
