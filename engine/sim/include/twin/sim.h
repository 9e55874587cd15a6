/* twin/sim.h: the fixed-timestep simulation of one world.
 *
 * A tw_sim advances a tw_ecs_world by ticks of dt seconds of simulated time.
 * Each tick runs the systems in a fixed order: agents (plans and steering),
 * physics (Chipmunk2D, one space per storey), conveyors and machines, thermal
 * and HVAC, CO2, energy and carbon, equipment health, alarms. Nothing here
 * reads a wall clock or an unseeded random number: the same world, seed and
 * inputs give the same state, bit for bit (tw_sim_state_hash proves it).
 *
 * The sim borrows the world (it must outlive the sim) and owns its physics
 * spaces, navigation graph and event list. Structural changes to the world
 * made outside tw_sim_step (adding agents, removing walls) are picked up at
 * the start of the next tick. */
#ifndef TWIN_SIM_H
#define TWIN_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "twin/ecs.h"
#include "twin/rng.h"
#include "twin/sim_components.h"

typedef struct tw_sim tw_sim;

typedef struct tw_sim_desc {
    double dt;                  /* s per tick; 0: 0.1 */
    uint64_t seed;              /* the one source of randomness */
    double start_time;          /* Unix seconds at tick 0 (sets the time of day); 0: midnight 1970-01-01 */
    uint32_t max_catchup_steps; /* tw_sim_advance runs at most this many ticks per call; 0: 10 */
    const tw_log *log;
    /* Rebuild the physics spaces from the ECS at the start of every tick
     * whose number is a multiple of this (0: never). Chipmunk keeps contact
     * state no keyframe holds; rebuilding at keyframe ticks in every run,
     * recorded or not, makes a seek step exactly like the continuous run.
     * The app sets it from the scene's keyframe_interval. */
    uint32_t rebuild_every_ticks;
} tw_sim_desc;

/* What the sim itself keeps beside the world: enough, with a world
 * snapshot, to continue a run exactly (a replay keyframe). */
typedef struct tw_sim_state {
    uint64_t tick;
    uint64_t seed;
    double dt;
    double start_time;
    tw_rng rng;
} tw_sim_state;

/* An alarm changing state. */
typedef struct tw_sim_event {
    double time;                /* s of simulated time */
    tw_entity alarm;            /* the Alarm entity */
    tw_entity target;           /* what it watches */
    float value;
    int32_t state;              /* tw_alarm_state after the change */
} tw_sim_event;

/* ---- lifecycle ---------------------------------------------------------- */

/* Builds physics spaces and the walking graph from w. Errors (a door on a
 * wall with no polyline, a waypoint link to a non-waypoint) go to diag. */
tw_status tw_sim_new(tw_ecs_world *w, const tw_sim_desc *desc, tw_sim **out, tw_diag *diag);
void tw_sim_free(tw_sim *s);
const tw_sim_components *tw_sim_component_ids(const tw_sim *s);

/* ---- per tick ------------------------------------------------------------- */

tw_status tw_sim_step(tw_sim *s);
/* Fixed-step accumulator for a live viewer: adds wall_dt (scaled by the
 * caller) and runs whole ticks, at most max_catchup_steps; the rest of a
 * backlog is dropped and counted. Returns the ticks run. */
uint32_t tw_sim_advance(tw_sim *s, double wall_dt);
/* Fraction of a tick accumulated but not yet run, for interpolating a view. */
double tw_sim_alpha(const tw_sim *s);
uint64_t tw_sim_dropped_ticks(const tw_sim *s);

/* ---- queries ------------------------------------------------------------- */

double tw_sim_time(const tw_sim *s);         /* s since tick 0 */
uint64_t tw_sim_tick(const tw_sim *s);
double tw_sim_dt(const tw_sim *s);
double tw_sim_hour_of_day(const tw_sim *s);  /* 0..24, from start_time + time */
tw_ecs_world *tw_sim_world(const tw_sim *s);

/* Hash of every simulated field of every entity (reflection, in slot order),
 * the hierarchy, the tick and the random state. Fields flagged
 * TW_FIELD_NOHASH are left out. */
uint64_t tw_sim_state_hash(const tw_sim *s);

/* ---- keyframes -------------------------------------------------------------- */

void tw_sim_state_get(const tw_sim *s, tw_sim_state *out);
/* Continues from a saved state: sets the tick and the random state, then
 * rebuilds the physics spaces from the world (which the caller has restored
 * to the same moment). TW_ERR_INVALID when dt, seed or start time differ
 * from this sim's (it was made for another run). */
tw_status tw_sim_state_set(tw_sim *s, const tw_sim_state *state);
uint32_t tw_sim_rebuild_every(const tw_sim *s);

/* Alarm transitions since the last clear, oldest first. */
const tw_sim_event *tw_sim_events(const tw_sim *s, uint32_t *count);
void tw_sim_events_clear(tw_sim *s);

#endif
