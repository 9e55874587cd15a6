/* Threshold alarms: each Alarm entity watches one numeric field of its
 * target (its parent when Alarm.target is null) and walks
 *
 *   NORMAL -> PENDING  when the condition starts (since = now)
 *   PENDING -> NORMAL  when it ends before min_duration (no event)
 *   PENDING -> ACTIVE  once it has held for min_duration (event, activations++)
 *   ACTIVE -> NORMAL   when the value is back inside by more than the hysteresis (event)
 *
 * with min_duration 0 going from NORMAL to ACTIVE in one tick. All state is in
 * the Alarm component; this file caches only where each watched value lives,
 * rebuilt when the world's structure changes. Alarms are evaluated in slot
 * order, so events of one tick come out in a defined order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

typedef struct tw_alarm_item {
    tw_entity e;
    Alarm *alarm;
    tw_entity target;
    const unsigned char *value;   /* the watched scalar inside the target's component; NULL: unavailable */
    tw_type type;
} tw_alarm_item;

struct tw_sim_alarms {
    uint64_t structure_version;
    bool built;
    tw_ecs_query q_alarm;
    uint32_t unresolved;          /* alarms skipped after the last rebuild (logged when it changes) */
    tw_alarm_item *items;
    size_t count, cap;
};

static int slot_cmp(const void *a, const void *b)
{
    uint32_t ia = tw_entity_index(((const tw_alarm_item *)a)->e), ib = tw_entity_index(((const tw_alarm_item *)b)->e);
    return (ia > ib) - (ia < ib);
}

static const char *path_of(const tw_ecs_world *w, tw_entity e, char *buf, size_t size)
{
    return tw_ecs_entity_path(w, e, buf, size) < 0 ? "(path too long)" : buf;
}

/* Where the alarm's value lives, or an error in diag naming the alarm. */
static tw_status resolve(tw_sim *s, tw_alarm_item *item, tw_diag *diag)
{
    tw_ecs_world *w = s->world;
    char path[TW_ECS_PATH_MAX]; /* filled only on the way to an error: rebuilds are frequent in busy worlds */
    const Alarm *a = item->alarm;

    item->target = tw_entity_is_null(a->target) ? tw_ecs_entity_parent(w, item->e) : a->target;
    if (tw_entity_is_null(item->target)) {
        tw_diag_set(diag, "alarm %s has no target and no parent: set Alarm.target or put the alarm under the entity it watches",
                    path_of(w, item->e, path, sizeof path));
        return TW_ERR_INVALID;
    }
    if (!tw_ecs_entity_alive(w, item->target)) {
        tw_diag_set(diag, "alarm %s watches an entity that no longer exists: point Alarm.target at a live entity",
                    path_of(w, item->e, path, sizeof path));
        return TW_ERR_NOT_FOUND;
    }
    char field[TW_ECS_NAME_MAX];
    memcpy(field, a->field, sizeof field);
    field[sizeof field - 1] = '\0';
    tw_ecs_field_ref ref;
    tw_diag inner;
    tw_diag_clear(&inner);
    tw_status st = tw_ecs_field_resolve(w, field, &ref, &inner);
    if (st) {
        tw_diag_set(diag, "alarm %s: Alarm.field \"%s\": %s", path_of(w, item->e, path, sizeof path), field, inner.message);
        return st;
    }
    const tw_ecs_component_info *info = tw_ecs_component_get_info(w, ref.component);
    switch (ref.field->type) {
    case TW_TYPE_F32: case TW_TYPE_F64: case TW_TYPE_I32: case TW_TYPE_U32:
    case TW_TYPE_U64: case TW_TYPE_BOOL: case TW_TYPE_ENUM:
        break;
    default:
        tw_diag_set(diag, "alarm %s: Alarm.field \"%s\" is a %s, not a number: watch a numeric field",
                    path_of(w, item->e, path, sizeof path), field, tw_type_name(ref.field->type));
        return TW_ERR_INVALID;
    }
    const unsigned char *data = tw_ecs_get(w, item->target, ref.component);
    if (!data) {
        char tpath[TW_ECS_PATH_MAX];
        tw_diag_set(diag, "alarm %s watches %s on %s, which has no %s component", path_of(w, item->e, path, sizeof path),
                    field, path_of(w, item->target, tpath, sizeof tpath), info->name);
        return TW_ERR_INVALID;
    }
    item->type = ref.field->type;
    item->value = data + ref.field->offset + (size_t)ref.element * tw_type_size(ref.field->type);
    return TW_OK;
}

/* Re-resolves every alarm. During setup (diag given) the first error fails
 * the build; during a run an alarm that no longer resolves is logged and
 * skipped until the structure changes again. */
static tw_status rebuild(tw_sim *s, tw_diag *diag)
{
    tw_sim_alarms *al = s->alarms;
    al->count = 0;
    tw_ecs_iter it = tw_ecs_query_iter(s->world, &al->q_alarm);
    while (tw_ecs_iter_next(&it)) {
        Alarm *col = it.columns[0];
        if (tw_grow(&s->alloc, (void **)&al->items, &al->cap, al->count + it.count, sizeof *al->items))
            return TW_ERR_NOMEM;
        for (uint32_t i = 0; i < it.count; i++)
            al->items[al->count++] = (tw_alarm_item){ .e = it.entities[i], .alarm = &col[i] };
    }
    if (al->count > 1) qsort(al->items, al->count, sizeof *al->items, slot_cmp);
    uint32_t unresolved = 0;
    for (size_t i = 0; i < al->count; i++) {
        tw_diag local;
        tw_diag_clear(&local);
        tw_status st = resolve(s, &al->items[i], diag ? diag : &local);
        if (st && diag) return st;
        if (st) {
            unresolved++;
            /* Structural changes can be frequent (parts, agents): say it once, not at every rebuild. */
            if (unresolved > al->unresolved) TW_LOG(&s->log, TW_LOG_WARN, "sim", "%s; the alarm is ignored", local.message);
        }
    }
    al->unresolved = unresolved;
    al->structure_version = tw_ecs_world_structure_version(s->world);
    al->built = true;
    return TW_OK;
}

tw_status tw_sim_alarms_new(tw_sim *s, tw_diag *diag)
{
    tw_sim_alarms *al = tw_calloc(&s->alloc, 1, sizeof *al);
    if (!al) return TW_ERR_NOMEM;
    s->alarms = al;
    tw_ecs_query_desc d = { .with = { s->c.alarm } };
    tw_status st = tw_ecs_query_init(s->world, &al->q_alarm, &d);
    if (st) return st;
    tw_diag local;
    tw_diag_clear(&local);
    return rebuild(s, diag ? diag : &local);
}

void tw_sim_alarms_free(tw_sim *s)
{
    tw_sim_alarms *al = s->alarms;
    if (!al) return;
    tw_ecs_query_fini(&al->q_alarm);
    tw_free(&s->alloc, al->items, al->cap * sizeof *al->items);
    tw_free(&s->alloc, al, sizeof *al);
    s->alarms = NULL;
}

static double read_value(const unsigned char *p, tw_type type)
{
    switch (type) {
    case TW_TYPE_F32: { float v; memcpy(&v, p, sizeof v); return v; }
    case TW_TYPE_F64: { double v; memcpy(&v, p, sizeof v); return v; }
    case TW_TYPE_I32:
    case TW_TYPE_ENUM: { int32_t v; memcpy(&v, p, sizeof v); return v; }
    case TW_TYPE_U32: { uint32_t v; memcpy(&v, p, sizeof v); return v; }
    case TW_TYPE_U64: { uint64_t v; memcpy(&v, p, sizeof v); return (double)v; }
    case TW_TYPE_BOOL: return *p ? 1.0 : 0.0;
    default: return 0.0;
    }
}

static void emit(tw_sim *s, const tw_alarm_item *item, double now, double value, int32_t state)
{
    tw_sim_event ev = { .time = now, .alarm = item->e, .target = item->target, .value = (float)value, .state = state };
    tw_sim_event_push(s, &ev);
}

void tw_sim_alarms_step(tw_sim *s)
{
    tw_sim_alarms *al = s->alarms;
    if (!al->built || al->structure_version != tw_ecs_world_structure_version(s->world)) {
        if (rebuild(s, NULL)) {
            al->built = false;
            TW_LOG(&s->log, TW_LOG_WARN, "sim", "alarms skipped tick %llu: out of memory", (unsigned long long)s->tick);
            return;
        }
    }
    double now = tw_sim_now(s);
    /* now is tick * dt, which is not exact in binary (1.7 and 2.7 are not):
     * a relative slack keeps a condition that has held for exactly
     * min_duration from missing its tick by a rounding error. */
    double slack = 1e-12 * fabs(now) + 1e-9;
    for (size_t i = 0; i < al->count; i++) {
        const tw_alarm_item *item = &al->items[i];
        if (!item->value) continue;
        Alarm *a = item->alarm;
        double v = read_value(item->value, item->type);
        bool beyond = (a->use_high && v > a->high) || (a->use_low && v < a->low);
        switch (a->state) {
        case TW_ALARM_NORMAL:
            if (!beyond) break;
            /* Then on into PENDING: a zero min_duration activates at once. */
            a->state = TW_ALARM_PENDING;
            a->since = now;
            /* fall through */
        case TW_ALARM_PENDING:
            if (!beyond) {
                a->state = TW_ALARM_NORMAL;
            } else if (now - a->since + slack >= a->min_duration) {
                a->state = TW_ALARM_ACTIVE;
                a->activations++;
                emit(s, item, now, v, TW_ALARM_ACTIVE);
            }
            break;
        case TW_ALARM_ACTIVE: {
            bool inside = (!a->use_high || v < a->high - a->hysteresis) && (!a->use_low || v > a->low + a->hysteresis);
            if (inside) {
                a->state = TW_ALARM_NORMAL;
                emit(s, item, now, v, TW_ALARM_NORMAL);
            }
            break;
        }
        default: /* a state written from outside: start over */
            a->state = TW_ALARM_NORMAL;
            break;
        }
    }
}
