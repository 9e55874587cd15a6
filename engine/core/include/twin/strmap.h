/* twin/strmap.h: an open-addressing map from strings to 64-bit values.
 *
 * Keys are copied into the map (owned by it). Used for name and path
 * lookups; not for per-tick work. */
#ifndef TWIN_STRMAP_H
#define TWIN_STRMAP_H

#include <stddef.h>
#include <stdint.h>
#include "twin/alloc.h"
#include "twin/status.h"

typedef struct tw_strmap_slot tw_strmap_slot;

typedef struct tw_strmap {
    tw_allocator alloc;
    tw_strmap_slot *slots;
    size_t cap;   /* power of two, or 0 */
    size_t count;
    size_t tombstones;
} tw_strmap;

void tw_strmap_init(tw_strmap *m, const tw_allocator *alloc);
void tw_strmap_fini(tw_strmap *m);
/* Inserts or replaces. */
tw_status tw_strmap_put(tw_strmap *m, const char *key, uint64_t value);
/* Returns 1 and sets *value when found, else 0. value may be NULL. */
int tw_strmap_get(const tw_strmap *m, const char *key, uint64_t *value);
int tw_strmap_remove(tw_strmap *m, const char *key);

/* Edit distance, for "did you mean" suggestions (case-insensitive). */
int tw_edit_distance(const char *a, const char *b);
/* The candidate closest to word, or NULL if none is within max(2, len/3) edits. */
const char *tw_closest_word(const char *word, const char *const *candidates, size_t count);

#endif
