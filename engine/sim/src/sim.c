/* The fixed-step driver: owns the tick counter and the accumulator, and runs
 * the systems in their fixed order. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

tw_status tw_sim_new(tw_ecs_world *w, const tw_sim_desc *desc, tw_sim **out, tw_diag *diag)
{
    TW_CHECK(w != NULL, "tw_sim_new needs a world: pass the world the scene was loaded into.");
    TW_CHECK(out != NULL, "tw_sim_new needs somewhere to put the sim: pass a tw_sim ** as out.");
    *out = NULL;
    const tw_allocator *alloc = tw_ecs_world_allocator(w);
    tw_sim *s = tw_calloc(alloc, 1, sizeof *s);
    if (!s) return TW_ERR_NOMEM;
    s->world = w;
    s->alloc = *alloc;
    if (desc && desc->log) s->log = *desc->log;
    s->dt = desc && desc->dt > 0 ? desc->dt : 0.1;
    s->seed = desc ? desc->seed : 0;
    s->start_time = desc ? desc->start_time : 0.0;
    s->max_catchup = desc && desc->max_catchup_steps ? desc->max_catchup_steps : 10;
    s->rebuild_every = desc ? desc->rebuild_every_ticks : 0;
    tw_rng_seed(&s->rng, s->seed, 0x7477696eu /* "twin" */);

    /* Components are registered by the caller before the scene is loaded;
     * look their ids up by name so the sim works with any such world. */
    const char *names[] = { "Transform", "Shape", "Storey", "Space", "Wall", "Door", "Thermal",
                            "Hvac", "Air", "Weather", "Meter", "Equipment", "Health", "Machine",
                            "Conveyor", "Part", "Body", "Agent", "Waypoint", "Mobility", "Alarm",
                            "Evacuation" };
    tw_component *ids = &s->c.transform;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ids[i] = tw_ecs_component_lookup(w, names[i]);
        if (ids[i].id == 0) {
            tw_diag_set(diag, "the world has no %s component: call tw_sim_register_components before loading the scene",
                        names[i]);
            tw_free(alloc, s, sizeof *s);
            return TW_ERR_STATE;
        }
    }

    tw_status st;
    if ((st = tw_sim_physics_new(s, diag)) || (st = tw_sim_agents_new(s, diag)) ||
        (st = tw_sim_factory_new(s, diag)) || (st = tw_sim_models_new(s, diag)) ||
        (st = tw_sim_alarms_new(s, diag))) {
        tw_sim_free(s);
        return st;
    }
    *out = s;
    return TW_OK;
}

void tw_sim_free(tw_sim *s)
{
    if (!s) return;
    tw_sim_alarms_free(s);
    tw_sim_models_free(s);
    tw_sim_factory_free(s);
    tw_sim_agents_free(s);
    tw_sim_physics_free(s);
    tw_free(&s->alloc, s->events, s->event_cap * sizeof *s->events);
    tw_free(&s->alloc, s, sizeof *s);
}

const tw_sim_components *tw_sim_component_ids(const tw_sim *s) { return &s->c; }

tw_status tw_sim_step(tw_sim *s)
{
    tw_status st;
    /* At keyframe ticks Chipmunk's contact caches are dropped in every run,
     * so a run restored from a keyframe steps exactly like this one. */
    if (s->rebuild_every && s->tick % s->rebuild_every == 0 && (st = tw_sim_physics_rebuild(s))) return st;
    st = tw_sim_physics_sync(s);
    if (st) return st;
    /* Systems may queue structural changes (a part delivered, an agent
     * leaving): they apply together at the end of the tick. */
    tw_ecs_defer_begin(s->world);
    tw_sim_agents_step(s);
    tw_sim_factory_step(s);
    tw_sim_physics_step(s);
    tw_sim_agents_post(s);
    tw_sim_models_step(s);
    tw_sim_alarms_step(s);
    st = tw_ecs_defer_end(s->world);
    s->tick++;
    return st;
}

uint32_t tw_sim_advance(tw_sim *s, double wall_dt)
{
    if (!(wall_dt > 0)) return 0;
    s->accumulator += wall_dt;
    uint32_t ran = 0;
    while (s->accumulator >= s->dt && ran < s->max_catchup) {
        if (tw_sim_step(s)) break;
        s->accumulator -= s->dt;
        ran++;
    }
    if (s->accumulator >= s->dt) {
        /* Too far behind: drop the backlog rather than spiral. */
        uint64_t behind = (uint64_t)(s->accumulator / s->dt);
        s->dropped_ticks += behind;
        s->accumulator -= (double)behind * s->dt;
    }
    return ran;
}

double tw_sim_alpha(const tw_sim *s) { return s->accumulator / s->dt; }
uint64_t tw_sim_dropped_ticks(const tw_sim *s) { return s->dropped_ticks; }
double tw_sim_time(const tw_sim *s) { return tw_sim_now(s); }
uint64_t tw_sim_tick(const tw_sim *s) { return s->tick; }
double tw_sim_dt(const tw_sim *s) { return s->dt; }
tw_ecs_world *tw_sim_world(const tw_sim *s) { return s->world; }

double tw_sim_hour_of_day(const tw_sim *s)
{
    double t = fmod(s->start_time + tw_sim_now(s), 86400.0);
    if (t < 0) t += 86400.0;
    return t / 3600.0;
}

void tw_sim_event_push(tw_sim *s, const tw_sim_event *ev)
{
    size_t cap = s->event_cap;
    if (tw_grow(&s->alloc, (void **)&s->events, &cap, s->event_count + 1u, sizeof *s->events)) {
        TW_LOG(&s->log, TW_LOG_WARN, "sim", "out of memory: an alarm event at t=%.1f s was dropped", ev->time);
        return;
    }
    s->event_cap = (uint32_t)cap;
    s->events[s->event_count++] = *ev;
}

const tw_sim_event *tw_sim_events(const tw_sim *s, uint32_t *count)
{
    *count = s->event_count;
    return s->events;
}

void tw_sim_events_clear(tw_sim *s) { s->event_count = 0; }

void tw_sim_state_get(const tw_sim *s, tw_sim_state *out)
{
    TW_CHECK(s != NULL && out != NULL, "tw_sim_state_get needs a sim and somewhere to put its state.");
    out->tick = s->tick;
    out->seed = s->seed;
    out->dt = s->dt;
    out->start_time = s->start_time;
    out->rng = s->rng;
}

tw_status tw_sim_state_set(tw_sim *s, const tw_sim_state *state)
{
    TW_CHECK(s != NULL && state != NULL, "tw_sim_state_set needs a sim and the state to continue from.");
    if (state->dt != s->dt || state->seed != s->seed || state->start_time != s->start_time) return TW_ERR_INVALID;
    s->tick = state->tick;
    s->rng = state->rng;
    s->accumulator = 0;
    /* Bodies were placed when the sim was made, at tick 0's time of day:
     * place them again at the restored tick (agents on the stairs). */
    return tw_sim_physics_rebuild(s);
}

uint32_t tw_sim_rebuild_every(const tw_sim *s) { return s->rebuild_every; }
