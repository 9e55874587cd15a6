/* Hierarchy: names, parents, children, kinds, external ids, path lookup.
 *
 * Kept per slot outside the component tables, so naming or re-parenting an
 * entity never moves component data. Every live entity sits in exactly one
 * sibling list: its parent's children, or the roots. Names are unique among
 * siblings through one map keyed "<parent slot>/<name>" ("r/<name>" for
 * roots), which is also how a path is walked. */
#include <stdio.h>
#include <string.h>

#include "ecs_internal.h"

static const char *const kind_names[TW_KIND_COUNT] = { "none",      "site",   "building", "storey",
                                                       "space",     "element", "equipment", "sensor",
                                                       "agent",     "waypoint", "alarm",    "group" };

const char *tw_kind_name(tw_kind k)
{
    if ((unsigned)k >= TW_KIND_COUNT) return "none";
    return kind_names[k];
}

bool tw_kind_from_name(const char *name, tw_kind *out)
{
    if (!name) return false;
    for (int i = 0; i < TW_KIND_COUNT; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            if (out) *out = (tw_kind)i;
            return true;
        }
    }
    return false;
}

/* ---- sibling lists ---------------------------------------------------------- */

static void list_unlink(tw_ecs_world *w, uint32_t s)
{
    ecs_hier *h = &w->hier[s];
    uint32_t *first, *last;
    if (h->parent == ECS_NONE) {
        first = &w->root_first;
        last = &w->root_last;
    } else {
        first = &w->hier[h->parent].first_child;
        last = &w->hier[h->parent].last_child;
    }
    if (h->prev != ECS_NONE) w->hier[h->prev].next = h->next;
    else *first = h->next;
    if (h->next != ECS_NONE) w->hier[h->next].prev = h->prev;
    else *last = h->prev;
    h->next = h->prev = ECS_NONE;
}

static void list_append(tw_ecs_world *w, uint32_t s, uint32_t parent)
{
    ecs_hier *h = &w->hier[s];
    uint32_t *first, *last;
    if (parent == ECS_NONE) {
        first = &w->root_first;
        last = &w->root_last;
    } else {
        first = &w->hier[parent].first_child;
        last = &w->hier[parent].last_child;
    }
    h->parent = parent;
    h->next = ECS_NONE;
    h->prev = *last;
    if (*last != ECS_NONE) w->hier[*last].next = s;
    else *first = s;
    *last = s;
}

/* A freed slot always has its strings released, so a reused one starts clean. */
void ecs_hier_init_slot(tw_ecs_world *w, uint32_t slot)
{
    ecs_hier *h = &w->hier[slot];
    h->parent = h->first_child = h->last_child = h->next = h->prev = ECS_NONE;
    list_append(w, slot, ECS_NONE);
}

static const char *slot_name(const tw_ecs_world *w, uint32_t s)
{
    return s < w->strs_cap ? w->strs[s].name : NULL;
}

/* Makes w->strs cover slot s (zeroed where new). */
static tw_status strs_ensure(tw_ecs_world *w, uint32_t s)
{
    if (s < w->strs_cap) return TW_OK;
    uint32_t ncap = w->hier_cap;
    ecs_strs *p = tw_realloc(&w->alloc, w->strs, (size_t)w->strs_cap * sizeof *p, (size_t)ncap * sizeof *p);
    if (!p) return TW_ERR_NOMEM;
    memset(p + w->strs_cap, 0, (size_t)(ncap - w->strs_cap) * sizeof *p);
    w->strs = p;
    w->strs_cap = ncap;
    return TW_OK;
}

static void name_key(char *out, size_t size, uint32_t parent, const char *name)
{
    if (parent == ECS_NONE) snprintf(out, size, "r/%s", name);
    else snprintf(out, size, "%u/%s", (unsigned)parent, name);
}

enum { KEY_MAX = TW_ECS_NAME_MAX + 16 };

void ecs_hier_release(tw_ecs_world *w, uint32_t slot)
{
    ecs_hier *h = &w->hier[slot];
    ecs_strs none = { NULL, NULL };
    ecs_strs *x = slot < w->strs_cap ? &w->strs[slot] : &none;
    if (x->name) {
        char key[KEY_MAX];
        name_key(key, sizeof key, h->parent, x->name);
        tw_strmap_remove(&w->names, key);
        tw_free(&w->alloc, x->name, strlen(x->name) + 1);
        x->name = NULL;
    }
    if (x->ext_id) {
        tw_strmap_remove(&w->ext_ids, x->ext_id);
        tw_free(&w->alloc, x->ext_id, strlen(x->ext_id) + 1);
        x->ext_id = NULL;
    }
    list_unlink(w, slot);
    h->parent = ECS_NONE;
}

void ecs_hier_fini(tw_ecs_world *w)
{
    for (uint32_t s = 0; s < w->strs_cap; s++) {
        ecs_strs *x = &w->strs[s];
        if (x->name) tw_free(&w->alloc, x->name, strlen(x->name) + 1);
        if (x->ext_id) tw_free(&w->alloc, x->ext_id, strlen(x->ext_id) + 1);
        x->name = x->ext_id = NULL;
    }
    tw_strmap_fini(&w->names);
    tw_strmap_fini(&w->ext_ids);
}

/* ---- names and parents ------------------------------------------------------ */

static bool name_valid(const char *name)
{
    size_t n = strlen(name);
    return n < TW_ECS_NAME_MAX && strchr(name, '/') == NULL;
}

tw_status tw_ecs_entity_set_name(tw_ecs_world *w, tw_entity e, const char *name)
{
    TW_CHECK(w != NULL, "tw_ecs_entity_set_name needs a world: pass the one tw_ecs_world_new returned.");
    TW_CHECK(name != NULL, "tw_ecs_entity_set_name needs a name: pass \"\" to clear it.");
    if (!ecs_record_of(w, e)) return TW_ERR_INVALID;
    if (!name_valid(name)) return TW_ERR_INVALID;
    uint32_t s = (uint32_t)e.id;
    ecs_hier *h = &w->hier[s];
    const char *old = slot_name(w, s);
    if (old ? strcmp(old, name) == 0 : !name[0]) return TW_OK;
    if (strs_ensure(w, s) != TW_OK) return TW_ERR_NOMEM;
    ecs_strs *x = &w->strs[s];
    char key[KEY_MAX];
    char *copy = NULL;
    if (name[0]) {
        name_key(key, sizeof key, h->parent, name);
        if (tw_strmap_get(&w->names, key, NULL)) return TW_ERR_INVALID; /* a sibling has it */
        copy = tw_strdup(&w->alloc, name);
        if (!copy) return TW_ERR_NOMEM;
        if (tw_strmap_put(&w->names, key, e.id) != TW_OK) {
            tw_free(&w->alloc, copy, strlen(copy) + 1);
            return TW_ERR_NOMEM;
        }
    }
    if (x->name) {
        name_key(key, sizeof key, h->parent, x->name);
        tw_strmap_remove(&w->names, key);
        tw_free(&w->alloc, x->name, strlen(x->name) + 1);
    }
    x->name = copy;
    w->structure_version++;
    return TW_OK;
}

const char *tw_ecs_entity_name(const tw_ecs_world *w, tw_entity e)
{
    if (!ecs_record_of(w, e)) return "";
    const char *n = slot_name(w, (uint32_t)e.id);
    return n ? n : "";
}

tw_status tw_ecs_entity_set_parent(tw_ecs_world *w, tw_entity e, tw_entity parent)
{
    TW_CHECK(w != NULL, "tw_ecs_entity_set_parent needs a world: pass the one tw_ecs_world_new returned.");
    if (!ecs_record_of(w, e)) return TW_ERR_INVALID;
    uint32_t s = (uint32_t)e.id;
    uint32_t p = ECS_NONE;
    if (!tw_entity_is_null(parent)) {
        if (!ecs_record_of(w, parent)) return TW_ERR_INVALID;
        p = (uint32_t)parent.id;
        for (uint32_t a = p; a != ECS_NONE; a = w->hier[a].parent)
            if (a == s) return TW_ERR_INVALID; /* e would become its own ancestor */
    }
    ecs_hier *h = &w->hier[s];
    if (h->parent == p) return TW_OK;
    const char *name = slot_name(w, s);
    if (name) {
        char key[KEY_MAX];
        name_key(key, sizeof key, p, name);
        if (tw_strmap_get(&w->names, key, NULL)) return TW_ERR_INVALID;
        if (tw_strmap_put(&w->names, key, e.id) != TW_OK) return TW_ERR_NOMEM;
        name_key(key, sizeof key, h->parent, name);
        tw_strmap_remove(&w->names, key);
    }
    list_unlink(w, s);
    list_append(w, s, p);
    w->structure_version++;
    return TW_OK;
}

static tw_entity handle_or_null(const tw_ecs_world *w, uint32_t s)
{
    return s == ECS_NONE ? TW_ENTITY_NULL : ecs_handle(w, s);
}

tw_entity tw_ecs_entity_parent(const tw_ecs_world *w, tw_entity e)
{
    if (!ecs_record_of(w, e)) return TW_ENTITY_NULL;
    return handle_or_null(w, w->hier[(uint32_t)e.id].parent);
}

tw_entity tw_ecs_entity_first_child(const tw_ecs_world *w, tw_entity e)
{
    if (!ecs_record_of(w, e)) return TW_ENTITY_NULL;
    return handle_or_null(w, w->hier[(uint32_t)e.id].first_child);
}

tw_entity tw_ecs_entity_next_sibling(const tw_ecs_world *w, tw_entity e)
{
    if (!ecs_record_of(w, e)) return TW_ENTITY_NULL;
    return handle_or_null(w, w->hier[(uint32_t)e.id].next);
}

tw_entity tw_ecs_root_first(const tw_ecs_world *w) { return handle_or_null(w, w->root_first); }

void tw_ecs_entity_set_kind(tw_ecs_world *w, tw_entity e, tw_kind kind)
{
    TW_CHECK((unsigned)kind < TW_KIND_COUNT, "tw_ecs_entity_set_kind was given kind %d, which is not a tw_kind.",
             (int)kind);
    if (!ecs_record_of(w, e)) return;
    w->records[(uint32_t)e.id].kind = (uint8_t)kind;
}

tw_kind tw_ecs_entity_kind(const tw_ecs_world *w, tw_entity e)
{
    if (!ecs_record_of(w, e)) return TW_KIND_NONE;
    return (tw_kind)w->records[(uint32_t)e.id].kind;
}

/* ---- external ids ---------------------------------------------------------- */

tw_status tw_ecs_entity_set_external_id(tw_ecs_world *w, tw_entity e, const char *external_id)
{
    TW_CHECK(w != NULL, "tw_ecs_entity_set_external_id needs a world: pass the one tw_ecs_world_new returned.");
    TW_CHECK(external_id != NULL, "tw_ecs_entity_set_external_id needs an id: pass \"\" to clear it.");
    if (!ecs_record_of(w, e)) return TW_ERR_INVALID;
    uint32_t s = (uint32_t)e.id;
    const char *old = s < w->strs_cap ? w->strs[s].ext_id : NULL;
    if (old ? strcmp(old, external_id) == 0 : !external_id[0]) return TW_OK;
    if (strs_ensure(w, s) != TW_OK) return TW_ERR_NOMEM;
    ecs_strs *h = &w->strs[s];
    char *copy = NULL;
    if (external_id[0]) {
        if (tw_strmap_get(&w->ext_ids, external_id, NULL)) return TW_ERR_INVALID; /* another entity has it */
        copy = tw_strdup(&w->alloc, external_id);
        if (!copy) return TW_ERR_NOMEM;
        if (tw_strmap_put(&w->ext_ids, external_id, e.id) != TW_OK) {
            tw_free(&w->alloc, copy, strlen(copy) + 1);
            return TW_ERR_NOMEM;
        }
    }
    if (h->ext_id) {
        tw_strmap_remove(&w->ext_ids, h->ext_id);
        tw_free(&w->alloc, h->ext_id, strlen(h->ext_id) + 1);
    }
    h->ext_id = copy;
    w->structure_version++; /* lookups by id change, as they do when names change */
    return TW_OK;
}

const char *tw_ecs_entity_external_id(const tw_ecs_world *w, tw_entity e)
{
    if (!ecs_record_of(w, e)) return "";
    uint32_t s = (uint32_t)e.id;
    const char *x = s < w->strs_cap ? w->strs[s].ext_id : NULL;
    return x ? x : "";
}

tw_entity tw_ecs_lookup_external_id(const tw_ecs_world *w, const char *external_id)
{
    uint64_t v;
    if (!external_id || !external_id[0] || !tw_strmap_get(&w->ext_ids, external_id, &v)) return TW_ENTITY_NULL;
    tw_entity e = { v };
    return ecs_record_of(w, e) ? e : TW_ENTITY_NULL;
}

/* ---- paths ------------------------------------------------------------------ */

int tw_ecs_entity_path(const tw_ecs_world *w, tw_entity e, char *out, size_t out_size)
{
    if (out && out_size) out[0] = '\0';
    if (!ecs_record_of(w, e)) return -1;
    size_t len = 0;
    for (uint32_t s = (uint32_t)e.id; s != ECS_NONE; s = w->hier[s].parent) {
        const char *n = slot_name(w, s);
        len += (n ? strlen(n) : 0) + (w->hier[s].parent != ECS_NONE ? 1 : 0);
    }
    if (!out || len + 1 > out_size) return -1;
    out[len] = '\0';
    size_t end = len;
    for (uint32_t s = (uint32_t)e.id; s != ECS_NONE; s = w->hier[s].parent) {
        const char *n = slot_name(w, s);
        size_t nl = n ? strlen(n) : 0;
        end -= nl;
        memcpy(out + end, n ? n : "", nl);
        if (w->hier[s].parent != ECS_NONE) out[--end] = '/';
    }
    return (int)len;
}

tw_entity tw_ecs_lookup_path(const tw_ecs_world *w, const char *path)
{
    if (!path) return TW_ENTITY_NULL;
    if (*path == '/') path++;
    if (!*path) return TW_ENTITY_NULL;
    uint32_t parent = ECS_NONE;
    tw_entity found = TW_ENTITY_NULL;
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n >= TW_ECS_NAME_MAX) return TW_ENTITY_NULL;
        char seg[TW_ECS_NAME_MAX];
        memcpy(seg, p, n);
        seg[n] = '\0';
        char key[KEY_MAX];
        name_key(key, sizeof key, parent, seg);
        uint64_t v;
        if (!tw_strmap_get(&w->names, key, &v)) return TW_ENTITY_NULL;
        found.id = v;
        if (!ecs_record_of(w, found)) return TW_ENTITY_NULL;
        parent = (uint32_t)v;
        p += n;
        if (*p == '/') p++;
    }
    return found;
}

tw_entity tw_ecs_entity_ancestor_of_kind(const tw_ecs_world *w, tw_entity e, tw_kind kind)
{
    if (!ecs_record_of(w, e)) return TW_ENTITY_NULL;
    for (uint32_t s = (uint32_t)e.id; s != ECS_NONE; s = w->hier[s].parent)
        if (w->records[s].kind == (uint8_t)kind) return ecs_handle(w, s);
    return TW_ENTITY_NULL;
}
