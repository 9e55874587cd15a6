/* Deferred structural changes: a command buffer applied in order at the
 * outermost defer_end. The buffer keeps its memory between flushes so a
 * steady-state tick allocates nothing. */
#include <string.h>

#include "ecs_internal.h"

typedef struct ecs_cmd {
    uint32_t op;
    uint32_t comp;
    uint64_t entity;
    uint64_t mask;  /* CREATE: the components */
    uint32_t size;  /* payload bytes after the header (SET: the value) */
    uint32_t pad;
} ecs_cmd;

static size_t align8(size_t v) { return (v + 7) & ~(size_t)7; }

tw_status ecs_defer_push(tw_ecs_world *w, uint32_t op, tw_entity e, uint32_t comp, uint64_t mask, const void *data,
                         uint32_t size)
{
    size_t need = w->cmd_size + sizeof(ecs_cmd) + align8(size);
    if (need > w->cmd_cap) {
        size_t ncap = w->cmd_cap ? w->cmd_cap * 2 : 4096;
        while (ncap < need) ncap *= 2;
        unsigned char *p = tw_realloc(&w->alloc, w->cmds, w->cmd_cap, ncap);
        if (!p) return TW_ERR_NOMEM;
        w->cmds = p;
        w->cmd_cap = ncap;
    }
    ecs_cmd c = { op, comp, e.id, mask, size, 0 };
    memcpy(w->cmds + w->cmd_size, &c, sizeof c);
    if (size) memcpy(w->cmds + w->cmd_size + sizeof c, data, size);
    w->cmd_size = need;
    return TW_OK;
}

void ecs_defer_fini(tw_ecs_world *w)
{
    tw_free(&w->alloc, w->cmds, w->cmd_cap);
    w->cmds = NULL;
    w->cmd_size = w->cmd_cap = 0;
}

void tw_ecs_defer_begin(tw_ecs_world *w)
{
    TW_CHECK(w != NULL, "tw_ecs_defer_begin needs a world: pass the one tw_ecs_world_new returned.");
    w->defer_depth++;
}

bool tw_ecs_is_deferred(const tw_ecs_world *w) { return w->defer_depth > 0; }

/* Applies one command. Commands for entities that died earlier in the buffer
 * are skipped: the handle's generation no longer matches. */
static tw_status apply(tw_ecs_world *w, const ecs_cmd *c, const void *payload)
{
    tw_entity e = { c->entity };
    ecs_record *r = ecs_record_of(w, e);
    if (!r) return TW_OK;
    uint32_t slot = (uint32_t)e.id;
    tw_status st = TW_OK;
    switch (c->op) {
    case ECS_CMD_CREATE:
        if (r->table != ECS_NONE) break;
        st = ecs_place_pending(w, slot, c->mask);
        if (st) {
            /* The handle was given out, but the entity cannot exist: it dies
             * (with any children attached meanwhile), as if destroyed. */
            TW_LOG(&w->log, TW_LOG_ERROR, "ecs", "out of memory: deferred entity %u could not be created",
                   (unsigned)slot);
            ecs_destroy_now(w, slot);
        }
        break;
    case ECS_CMD_ADD:
    case ECS_CMD_SET:
        st = ecs_add_now(w, slot, c->comp, c->op == ECS_CMD_SET ? payload : NULL, NULL);
        if (st)
            TW_LOG(&w->log, TW_LOG_ERROR, "ecs", "out of memory: the deferred %s of %s on entity %u was dropped",
                   c->op == ECS_CMD_SET ? "set" : "add", w->comps[c->comp].info.name, (unsigned)slot);
        break;
    case ECS_CMD_REMOVE:
        ecs_remove_now(w, slot, c->comp);
        break;
    case ECS_CMD_DESTROY:
        ecs_destroy_now(w, slot);
        break;
    default:
        break;
    }
    return st;
}

tw_status tw_ecs_defer_end(tw_ecs_world *w)
{
    TW_CHECK(w != NULL, "tw_ecs_defer_end needs a world: pass the one tw_ecs_world_new returned.");
    TW_CHECK(w->defer_depth > 0, "tw_ecs_defer_end was called without a matching tw_ecs_defer_begin.");
    if (--w->defer_depth > 0) return TW_OK;
    tw_status first = TW_OK;
    size_t off = 0;
    while (off < w->cmd_size) {
        ecs_cmd c;
        memcpy(&c, w->cmds + off, sizeof c);
        tw_status st = apply(w, &c, w->cmds + off + sizeof c);
        if (st && !first) first = st;
        off += sizeof c + align8(c.size);
    }
    w->cmd_size = 0;
    return first;
}
