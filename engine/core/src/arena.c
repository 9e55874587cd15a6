/* Bump allocator in kept blocks. */
#include "twin/arena.h"

#include <stdint.h>

struct tw_arena_block {
    tw_arena_block *next; /* in the list of all blocks */
    size_t size;          /* usable bytes after the header */
    size_t used;
};

#define ARENA_ALIGN 16
#define HEADER_SIZE ((sizeof(tw_arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

void tw_arena_init(tw_arena *a, const tw_allocator *alloc, size_t block_size)
{
    a->alloc = tw_allocator_or_default(alloc);
    a->head = NULL;
    a->blocks = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
}

void tw_arena_fini(tw_arena *a)
{
    tw_arena_block *b = a->blocks;
    while (b) {
        tw_arena_block *next = b->next;
        tw_free(&a->alloc, b, HEADER_SIZE + b->size);
        b = next;
    }
    a->head = a->blocks = NULL;
}

void *tw_arena_alloc(tw_arena *a, size_t size)
{
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    /* Walk forward through kept blocks (after a reset) before allocating. */
    for (tw_arena_block *b = a->head ? a->head : a->blocks; b; b = b->next) {
        if (b->size - b->used >= size) {
            void *p = (unsigned char *)b + HEADER_SIZE + b->used;
            b->used += size;
            a->head = b;
            return p;
        }
    }
    size_t bsize = size > a->block_size ? size : a->block_size;
    tw_arena_block *b = tw_alloc(&a->alloc, HEADER_SIZE + bsize);
    if (!b) return NULL;
    b->size = bsize;
    b->used = size;
    /* Append so that the walk above keeps its order. */
    b->next = NULL;
    if (!a->blocks) {
        a->blocks = b;
    } else {
        tw_arena_block *t = a->head ? a->head : a->blocks;
        while (t->next) t = t->next;
        t->next = b;
    }
    a->head = b;
    return (unsigned char *)b + HEADER_SIZE;
}

void tw_arena_reset(tw_arena *a)
{
    for (tw_arena_block *b = a->blocks; b; b = b->next) b->used = 0;
    a->head = a->blocks;
}
