/* The sensor table: sensor-id strings interned to 1, 2, ...
 *
 * Readers look every sample's sensor up here, so the lookup is one hash of
 * the bytes and a probe of an open-addressing table of ids, with no copy and
 * no allocation for a name already known. Names live NUL-terminated in one
 * growing pool, addressed by offset so growing it moves nothing that is
 * referenced. */
#include <string.h>

#include "bind_internal.h"
#include "twin/hash.h"

typedef struct sensor_entry {
    uint64_t hash;
    uint32_t offset;   /* into pool */
    uint32_t length;
} sensor_entry;

struct tw_bind_sensors {
    tw_allocator alloc;
    sensor_entry *entries;  /* entries[id - 1] */
    size_t entry_cap;
    uint32_t count;
    uint32_t max;
    uint32_t *slots;        /* ids, 0 = empty; slot_cap a power of two */
    uint32_t slot_cap;
    char *pool;
    size_t pool_len, pool_cap;
    tw_bind_sensor_hook on_new;
    void *user;
};

static const uint64_t SENSOR_SEED = 0x5e9502d5ULL;

tw_bind_sensors *tw_bind_sensors_new(const tw_bind_sensors_desc *desc)
{
    tw_allocator a = tw_allocator_or_default(desc ? desc->allocator : NULL);
    tw_bind_sensors *t = tw_calloc(&a, 1, sizeof *t);
    if (!t) return NULL;
    t->alloc = a;
    t->max = desc && desc->max_sensors ? desc->max_sensors : 65536;
    if (desc) {
        t->on_new = desc->on_new;
        t->user = desc->user;
    }
    return t;
}

void tw_bind_sensors_free(tw_bind_sensors *t)
{
    if (!t) return;
    tw_allocator a = t->alloc;
    tw_free(&a, t->entries, t->entry_cap * sizeof *t->entries);
    tw_free(&a, t->slots, (size_t)t->slot_cap * sizeof *t->slots);
    tw_free(&a, t->pool, t->pool_cap);
    tw_free(&a, t, sizeof *t);
}

static uint32_t probe(const tw_bind_sensors *t, uint64_t hash, const char *name, size_t length, bool *found)
{
    uint32_t mask = t->slot_cap - 1;
    uint32_t i = (uint32_t)hash & mask;
    for (;;) {
        uint32_t id = t->slots[i];
        if (id == 0) {
            *found = false;
            return i;
        }
        const sensor_entry *e = &t->entries[id - 1];
        if (e->hash == hash && e->length == length && memcmp(t->pool + e->offset, name, length) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

uint32_t tw_bind_sensors_find(const tw_bind_sensors *t, const char *name, size_t length)
{
    if (!t || t->count == 0) return 0;
    bool found;
    uint64_t h = tw_hash_bytes(name, length, SENSOR_SEED);
    uint32_t slot = probe(t, h, name, length, &found);
    return found ? t->slots[slot] : 0;
}

static tw_status grow_slots(tw_bind_sensors *t)
{
    uint32_t ncap = t->slot_cap ? t->slot_cap * 2 : 64;
    uint32_t *ns = tw_calloc(&t->alloc, ncap, sizeof *ns);
    if (!ns) return TW_ERR_NOMEM;
    for (uint32_t id = 1; id <= t->count; id++) {
        uint32_t i = (uint32_t)t->entries[id - 1].hash & (ncap - 1);
        while (ns[i]) i = (i + 1) & (ncap - 1);
        ns[i] = id;
    }
    tw_free(&t->alloc, t->slots, (size_t)t->slot_cap * sizeof *t->slots);
    t->slots = ns;
    t->slot_cap = ncap;
    return TW_OK;
}

tw_status tw_bind_sensors_intern(tw_bind_sensors *t, const char *name, size_t length, uint32_t *id)
{
    TW_CHECK(t != NULL && id != NULL && (name != NULL || length == 0),
             "tw_bind_sensors_intern needs a table, a name and an out id.");
    uint64_t h = tw_hash_bytes(name, length, SENSOR_SEED);
    bool found = false;
    uint32_t slot = 0;
    if (t->slot_cap) {
        slot = probe(t, h, name, length, &found);
        if (found) {
            *id = t->slots[slot];
            return TW_OK;
        }
    }
    if (t->count >= t->max) {
        *id = TW_BIND_SENSOR_OTHER;
        return TW_OK;
    }
    /* Reserve everything first, so a failure leaves the table as it was. */
    if ((size_t)(t->count + 1) * 2 > t->slot_cap) {
        if (grow_slots(t) != TW_OK) return TW_ERR_NOMEM;
        slot = probe(t, h, name, length, &found);
    }
    if (tw_grow(&t->alloc, (void **)&t->entries, &t->entry_cap, (size_t)t->count + 1, sizeof *t->entries))
        return TW_ERR_NOMEM;
    if (tw_grow(&t->alloc, (void **)&t->pool, &t->pool_cap, t->pool_len + length + 1, 1)) return TW_ERR_NOMEM;
    if (t->pool_len + length + 1 > UINT32_MAX) return TW_ERR_LIMIT;
    sensor_entry *e = &t->entries[t->count];
    e->hash = h;
    e->offset = (uint32_t)t->pool_len;
    e->length = (uint32_t)length;
    if (length) memcpy(t->pool + t->pool_len, name, length);
    t->pool[t->pool_len + length] = '\0';
    t->pool_len += length + 1;
    t->count++;
    t->slots[slot] = t->count;
    *id = t->count;
    if (t->on_new) {
        tw_status st = t->on_new(t->user, t->count, t->pool + e->offset, length);
        if (st != TW_OK) return st; /* the name stays interned; the hook's owner counts the failure */
    }
    return TW_OK;
}

const char *tw_bind_sensors_name(const tw_bind_sensors *t, uint32_t id)
{
    if (id == TW_BIND_SENSOR_OTHER) return "(other)";
    if (!t || id == 0 || id > t->count) return "";
    return t->pool + t->entries[id - 1].offset;
}

uint32_t tw_bind_sensors_count(const tw_bind_sensors *t) { return t ? t->count : 0; }
