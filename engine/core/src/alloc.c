/* The allocator interface, the default C-library allocator, and the failing
 * allocator used by out-of-memory tests. */
#include "twin/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *libc_alloc(void *user, void *ptr, size_t old_size, size_t new_size)
{
    (void)user;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

tw_allocator tw_allocator_default(void)
{
    tw_allocator a = { libc_alloc, NULL };
    return a;
}

tw_allocator tw_allocator_or_default(const tw_allocator *a)
{
    if (a && a->fn) return *a;
    return tw_allocator_default();
}

void *tw_alloc(const tw_allocator *a, size_t size)
{
    if (size == 0) size = 1;
    if (a && a->fn) return a->fn(a->user, NULL, 0, size);
    return malloc(size);
}

void *tw_calloc(const tw_allocator *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    size_t bytes = count * size;
    void *p = tw_alloc(a, bytes);
    if (p && bytes) memset(p, 0, bytes);
    return p;
}

void *tw_realloc(const tw_allocator *a, void *ptr, size_t old_size, size_t new_size)
{
    if (new_size == 0) new_size = 1;
    if (a && a->fn) return a->fn(a->user, ptr, old_size, new_size);
    return realloc(ptr, new_size);
}

void tw_free(const tw_allocator *a, void *ptr, size_t size)
{
    if (!ptr) return;
    if (a && a->fn) {
        a->fn(a->user, ptr, size, 0);
        return;
    }
    free(ptr);
}

char *tw_strdup(const tw_allocator *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = tw_alloc(a, n);
    if (p) memcpy(p, s, n);
    return p;
}

/* The failing allocator keeps a size header so live bytes stay exact even
 * when callers pass an approximate old_size. */
typedef struct { size_t size; size_t pad; } failing_header;

static void *failing_fn(void *user, void *ptr, size_t old_size, size_t new_size)
{
    tw_failing_alloc *st = user;
    (void)old_size;
    failing_header *h = ptr ? (failing_header *)ptr - 1 : NULL;
    if (new_size == 0) {
        if (h) {
            st->live_bytes -= (int64_t)h->size;
            free(h);
        }
        return NULL;
    }
    if (st->fail_at && st->allocations + 1 == st->fail_at) {
        st->failures++;
        st->allocations++;
        return NULL;
    }
    size_t old = h ? h->size : 0;
    failing_header *n = realloc(h, sizeof *n + new_size);
    if (!n) return NULL;
    st->allocations++;
    n->size = new_size;
    st->live_bytes += (int64_t)new_size - (int64_t)old;
    if (st->live_bytes > st->peak_bytes) st->peak_bytes = st->live_bytes;
    return n + 1;
}

tw_allocator tw_failing_alloc_allocator(tw_failing_alloc *state)
{
    tw_allocator a = { failing_fn, state };
    return a;
}

int tw_grow(const tw_allocator *a, void **items, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap + *cap / 2 : 8;
    if (ncap < need) ncap = need;
    if (elem_size && ncap > SIZE_MAX / elem_size) return -1;
    void *p = tw_realloc(a, *items, *cap * elem_size, ncap * elem_size);
    if (!p) return -1;
    *items = p;
    *cap = ncap;
    return 0;
}
