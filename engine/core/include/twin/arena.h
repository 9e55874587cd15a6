/* twin/arena.h: a bump allocator for per-tick and per-frame scratch.
 *
 * Memory comes from the arena's allocator in blocks that are kept across
 * resets, so a steady-state tick that resets its arena allocates nothing. */
#ifndef TWIN_ARENA_H
#define TWIN_ARENA_H

#include <stddef.h>
#include "twin/alloc.h"

typedef struct tw_arena_block tw_arena_block;

typedef struct tw_arena {
    tw_allocator alloc;
    tw_arena_block *head;   /* block being filled */
    tw_arena_block *blocks; /* all blocks, for fini */
    size_t block_size;
} tw_arena;

void tw_arena_init(tw_arena *a, const tw_allocator *alloc, size_t block_size);
void tw_arena_fini(tw_arena *a);
/* Aligned to 16 bytes. NULL when the allocator fails. */
void *tw_arena_alloc(tw_arena *a, size_t size);
/* Forget every allocation, keep the blocks. */
void tw_arena_reset(tw_arena *a);

#endif
