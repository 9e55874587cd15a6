/* The input queue: samples ordered by (measured time, lane, sequence).
 *
 * Telemetry mostly arrives in order, so each lane (input) keeps a FIFO of
 * samples that came in order, and only the stragglers go to one binary heap.
 * The smallest sample is the least of the FIFO heads and the heap's top.
 * Storage grows by doubling and is kept, so a steady run allocates nothing. */
#include <math.h>
#include <string.h>

#include "bind_internal.h"

void bind_queue_init(bind_queue *q, const tw_allocator *alloc)
{
    memset(q, 0, sizeof *q);
    q->alloc = tw_allocator_or_default(alloc);
}

void bind_queue_fini(bind_queue *q)
{
    for (uint32_t i = 0; i < q->lane_count; i++)
        tw_free(&q->alloc, q->fifos[i].items, (size_t)q->fifos[i].cap * sizeof(tw_bind_sample));
    tw_free(&q->alloc, q->fifos, (size_t)q->lane_count * sizeof *q->fifos);
    tw_free(&q->alloc, q->heap, (size_t)q->heap_cap * sizeof *q->heap);
    memset(q, 0, sizeof *q);
}

tw_status bind_queue_set_lanes(bind_queue *q, uint32_t lanes)
{
    if (lanes <= q->lane_count) return TW_OK;
    bind_fifo *nf = tw_realloc(&q->alloc, q->fifos, (size_t)q->lane_count * sizeof *nf, (size_t)lanes * sizeof *nf);
    if (!nf) return TW_ERR_NOMEM;
    memset(nf + q->lane_count, 0, (size_t)(lanes - q->lane_count) * sizeof *nf);
    for (uint32_t i = q->lane_count; i < lanes; i++) nf[i].last_time = -INFINITY;
    q->fifos = nf;
    q->lane_count = lanes;
    return TW_OK;
}

static tw_status fifo_push(bind_queue *q, bind_fifo *f, const tw_bind_sample *s)
{
    if (f->count == f->cap) {
        uint32_t ncap = f->cap ? f->cap * 2 : 256;
        if (ncap < f->cap) return TW_ERR_LIMIT;
        tw_bind_sample *ni = tw_alloc(&q->alloc, (size_t)ncap * sizeof *ni);
        if (!ni) return TW_ERR_NOMEM;
        /* Unwrap the ring into the new array. */
        for (uint32_t i = 0; i < f->count; i++) ni[i] = f->items[(f->head + i) & (f->cap - 1)];
        tw_free(&q->alloc, f->items, (size_t)f->cap * sizeof *f->items);
        f->items = ni;
        f->cap = ncap;
        f->head = 0;
    }
    f->items[(f->head + f->count) & (f->cap - 1)] = *s;
    f->count++;
    f->last_time = s->time;
    return TW_OK;
}

static tw_status heap_push(bind_queue *q, const tw_bind_sample *s)
{
    if (q->heap_count == q->heap_cap) {
        uint32_t ncap = q->heap_cap ? q->heap_cap * 2 : 256;
        if (ncap < q->heap_cap) return TW_ERR_LIMIT;
        tw_bind_sample *nh =
            tw_realloc(&q->alloc, q->heap, (size_t)q->heap_cap * sizeof *nh, (size_t)ncap * sizeof *nh);
        if (!nh) return TW_ERR_NOMEM;
        q->heap = nh;
        q->heap_cap = ncap;
    }
    uint32_t i = q->heap_count++;
    tw_bind_sample *h = q->heap;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!bind_sample_before(s, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = *s;
    return TW_OK;
}

static void heap_pop(bind_queue *q, tw_bind_sample *out)
{
    tw_bind_sample *h = q->heap;
    *out = h[0];
    tw_bind_sample last = h[--q->heap_count];
    uint32_t n = q->heap_count, i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && bind_sample_before(&h[c + 1], &h[c])) c++;
        if (!bind_sample_before(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (n) h[i] = last;
}

tw_status bind_queue_push(bind_queue *q, const tw_bind_sample *s)
{
    bind_fifo *f = &q->fifos[s->lane];
    /* Within a lane seq only grows, so time order alone keeps the FIFO sorted. */
    tw_status st = s->time >= f->last_time ? fifo_push(q, f, s) : heap_push(q, s);
    if (st == TW_OK) q->size++;
    return st;
}

const tw_bind_sample *bind_queue_peek(const bind_queue *q)
{
    const tw_bind_sample *best = q->heap_count ? &q->heap[0] : NULL;
    for (uint32_t i = 0; i < q->lane_count; i++) {
        const bind_fifo *f = &q->fifos[i];
        if (!f->count) continue;
        const tw_bind_sample *c = &f->items[f->head];
        if (!best || bind_sample_before(c, best)) best = c;
    }
    return best;
}

void bind_queue_pop(bind_queue *q, tw_bind_sample *out)
{
    const tw_bind_sample *best = bind_queue_peek(q);
    if (!best) return;
    if (q->heap_count && best == &q->heap[0]) {
        heap_pop(q, out);
    } else {
        bind_fifo *f = &q->fifos[best->lane];
        *out = *best;
        f->head = (f->head + 1) & (f->cap - 1);
        f->count--;
    }
    q->size--;
}
