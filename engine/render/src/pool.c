/* Handle pools: slots with generations, sokol_gfx style.
 *
 * Items live in one array that grows by 1.5x; callers keep ids, never item
 * pointers across a create, because growth moves the array. A freed slot
 * goes back on a free list with its generation advanced, so the old id no
 * longer resolves even after the slot is reused (until the 12-bit generation
 * wraps, 4095 reuses later). */
#include <string.h>

#include "render_internal.h"

void twr_pool_init(rpool *p, size_t item_size)
{
    memset(p, 0, sizeof *p);
    p->item_size = item_size;
}

void twr_pool_fini(rpool *p, const tw_allocator *a)
{
    tw_free(a, p->items, (size_t)p->cap * p->item_size);
    tw_free(a, p->gen, (size_t)p->cap * sizeof *p->gen);
    tw_free(a, p->alive, (size_t)p->cap);
    tw_free(a, p->free_slots, (size_t)p->cap * sizeof *p->free_slots);
    size_t item_size = p->item_size;
    twr_pool_init(p, item_size);
}

static int rpool_grow(rpool *p, const tw_allocator *a)
{
    uint32_t cap = p->cap ? p->cap + p->cap / 2 : 16;
    if (cap > POOL_MAX_SLOTS) cap = POOL_MAX_SLOTS;
    if (cap <= p->cap) return -1;
    /* Each array is reallocated on its own; on failure the pool keeps its old
     * capacity (arrays already grown are merely bigger than needed). */
    void *items = tw_realloc(a, p->items, (size_t)p->cap * p->item_size, (size_t)cap * p->item_size);
    if (!items) return -1;
    p->items = items;
    void *gen = tw_realloc(a, p->gen, (size_t)p->cap * sizeof *p->gen, (size_t)cap * sizeof *p->gen);
    if (!gen) return -1;
    p->gen = gen;
    void *alive = tw_realloc(a, p->alive, p->cap, cap);
    if (!alive) return -1;
    p->alive = alive;
    void *fs = tw_realloc(a, p->free_slots, (size_t)p->cap * sizeof *p->free_slots,
                          (size_t)cap * sizeof *p->free_slots);
    if (!fs) return -1;
    p->free_slots = fs;
    for (uint32_t k = p->cap; k < cap; k++) {
        p->gen[k] = 1;
        p->alive[k] = 0;
    }
    p->cap = cap;
    return 0;
}

uint32_t twr_pool_alloc(rpool *p, const tw_allocator *a)
{
    uint32_t slot;
    if (p->free_count) {
        slot = p->free_slots[--p->free_count];
    } else {
        if (p->used == p->cap && rpool_grow(p, a) != 0) return 0;
        slot = p->used++;
    }
    p->alive[slot] = 1;
    p->version++;
    memset(twr_pool_item(p, slot), 0, p->item_size);
    return ((uint32_t)p->gen[slot] << POOL_SLOT_BITS) | (slot + 1);
}

int64_t twr_pool_lookup(const rpool *p, uint32_t id)
{
    uint32_t slot1 = id & ((1u << POOL_SLOT_BITS) - 1);
    if (slot1 == 0 || slot1 > p->used) return -1;
    uint32_t slot = slot1 - 1;
    if (!p->alive[slot] || p->gen[slot] != (id >> POOL_SLOT_BITS)) return -1;
    return slot;
}

void twr_pool_free(rpool *p, uint32_t id)
{
    int64_t s = twr_pool_lookup(p, id);
    if (s < 0) return;
    uint32_t slot = (uint32_t)s;
    p->alive[slot] = 0;
    p->version++;
    p->gen[slot] = (uint16_t)((p->gen[slot] & POOL_GEN_MASK) + 1);
    if (p->gen[slot] > POOL_GEN_MASK) p->gen[slot] = 1;
    /* free_slots has room for every slot, so this never overflows. */
    p->free_slots[p->free_count++] = slot;
}
