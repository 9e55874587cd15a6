/* Queries: a cached list of the tables whose component set matches. Tables
 * are never deleted and keep their index, so the cache only ever grows: each
 * iteration first examines the tables created since the last one. */
#include <string.h>

#include "ecs_internal.h"

static tw_status query_catch_up(tw_ecs_world *w, tw_ecs_query *q)
{
    for (uint32_t i = q->tables_seen; i < w->table_count; i++) {
        const ecs_table *t = w->tables[i];
        if ((t->mask & q->with_mask) == q->with_mask && !(t->mask & q->without_mask)) {
            if (q->table_count == q->table_cap) {
                size_t cap = q->table_cap;
                if (tw_grow(&q->alloc, (void **)&q->tables, &cap, (size_t)q->table_count + 1, sizeof *q->tables))
                    return TW_ERR_NOMEM;
                q->table_cap = (uint32_t)cap;
            }
            q->tables[q->table_count++] = i;
        }
        q->tables_seen = i + 1;
    }
    return TW_OK;
}

tw_status tw_ecs_query_init(tw_ecs_world *w, tw_ecs_query *q, const tw_ecs_query_desc *desc)
{
    TW_CHECK(w != NULL && q != NULL && desc != NULL,
             "tw_ecs_query_init needs a world, a query to fill and a desc: none of them may be NULL.");
    memset(q, 0, sizeof *q);
    q->alloc = w->alloc;
    for (uint32_t i = 0; i < TW_ECS_QUERY_MAX_TERMS && desc->with[i].id; i++) {
        ECS_CHECK_COMPONENT(w, desc->with[i], "tw_ecs_query_init");
        q->terms[q->term_count++] = desc->with[i];
        q->with_mask |= ecs_bit(desc->with[i].id);
    }
    for (uint32_t i = 0; i < TW_ECS_QUERY_MAX_EXCLUDE && desc->without[i].id; i++) {
        ECS_CHECK_COMPONENT(w, desc->without[i], "tw_ecs_query_init");
        q->without_mask |= ecs_bit(desc->without[i].id);
    }
    tw_status st = query_catch_up(w, q);
    if (st) tw_ecs_query_fini(q);
    return st;
}

void tw_ecs_query_fini(tw_ecs_query *q)
{
    if (!q) return;
    tw_free(&q->alloc, q->tables, (size_t)q->table_cap * sizeof *q->tables);
    q->tables = NULL;
    q->table_count = q->table_cap = q->tables_seen = 0;
}

tw_ecs_iter tw_ecs_query_iter(tw_ecs_world *w, tw_ecs_query *q)
{
    tw_ecs_iter it;
    memset(&it, 0, sizeof it);
    it.world = w;
    it.query = q;
    if (query_catch_up(w, q) != TW_OK)
        TW_LOG(&w->log, TW_LOG_ERROR, "ecs", "out of memory: a query skips %u newer tables this time",
               (unsigned)(w->table_count - q->tables_seen));
    return it;
}

bool tw_ecs_iter_next(tw_ecs_iter *it)
{
    const tw_ecs_query *q = it->query;
    tw_ecs_world *w = it->world;
    while (it->next_table < q->table_count) {
        const ecs_table *t = w->tables[q->tables[it->next_table++]];
        if (!t->count) continue;
        it->count = t->count;
        it->entities = t->entities;
        for (uint32_t i = 0; i < q->term_count; i++) it->columns[i] = t->columns[t->column_of[q->terms[i].id]];
        return true;
    }
    it->count = 0;
    return false;
}

uint32_t tw_ecs_query_count(tw_ecs_world *w, tw_ecs_query *q)
{
    query_catch_up(w, q);
    uint32_t n = 0;
    for (uint32_t i = 0; i < q->table_count; i++) n += w->tables[q->tables[i]]->count;
    return n;
}
