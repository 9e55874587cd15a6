/* twin/alloc.h: the one allocator interface every module allocates through.
 *
 * Lua-style: a single function does malloc (ptr NULL), realloc and free
 * (new_size 0). A context is set up with an allocator and keeps using it; the
 * default wraps the C library. tw_failing_alloc fails the Nth allocation so
 * tests can walk every out-of-memory path. */
#ifndef TWIN_ALLOC_H
#define TWIN_ALLOC_H

#include <stddef.h>
#include <stdint.h>

typedef void *(*tw_alloc_fn)(void *user, void *ptr, size_t old_size, size_t new_size);

typedef struct tw_allocator {
    tw_alloc_fn fn;
    void *user;
} tw_allocator;

/* The C library allocator. Returned by value; never NULL fields. */
tw_allocator tw_allocator_default(void);
/* Returns a, or the default when a is NULL or a->fn is NULL. */
tw_allocator tw_allocator_or_default(const tw_allocator *a);

void *tw_alloc(const tw_allocator *a, size_t size);
void *tw_calloc(const tw_allocator *a, size_t count, size_t size); /* zeroed; NULL on overflow */
void *tw_realloc(const tw_allocator *a, void *ptr, size_t old_size, size_t new_size);
void tw_free(const tw_allocator *a, void *ptr, size_t size);
char *tw_strdup(const tw_allocator *a, const char *s); /* free with tw_free(a, p, strlen(p)+1) */

/* Counting allocator that fails allocation number fail_at (1-based; 0 never fails).
 * Also counts live bytes so tests can assert that everything was freed. */
typedef struct tw_failing_alloc {
    uint64_t allocations;  /* successful allocations + reallocations so far */
    uint64_t fail_at;      /* the allocation number that returns NULL (0: none) */
    uint64_t failures;     /* how many NULLs were returned */
    int64_t live_bytes;    /* bytes allocated and not yet freed */
    int64_t peak_bytes;
} tw_failing_alloc;

/* An allocator that routes through the C library with the counting above. */
tw_allocator tw_failing_alloc_allocator(tw_failing_alloc *state);

/* Growable array helper: ensures *cap >= need, growing by 1.5x; elem_size bytes each. */
int tw_grow(const tw_allocator *a, void **items, size_t *cap, size_t need, size_t elem_size);

#endif
