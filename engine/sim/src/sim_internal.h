/* Private to engine/sim: the tw_sim context and the systems' entry points.
 *
 * Each system file owns its own state struct (opaque here) and gets the whole
 * tw_sim, so systems can reach the world, the component ids, dt and the RNG.
 * tw_sim_step in sim.c calls them in the fixed order documented in sim.h. */
#ifndef TWIN_SIM_INTERNAL_H
#define TWIN_SIM_INTERNAL_H

#include "twin/log.h"
#include "twin/rng.h"
#include "twin/sim.h"

typedef struct tw_sim_physics tw_sim_physics; /* physics.c: Chipmunk spaces, one per storey */
typedef struct tw_sim_agents tw_sim_agents;   /* agents.c + nav.c: plans, routing, steering */
typedef struct tw_sim_models tw_sim_models;   /* models.c: thermal, HVAC, CO2, energy, health */
typedef struct tw_sim_alarms tw_sim_alarms;   /* alarms.c: threshold rules */
typedef struct tw_sim_factory tw_sim_factory; /* factory.c: machines, conveyors, parts */

struct tw_sim {
    tw_ecs_world *world;
    tw_allocator alloc;
    tw_log log;
    tw_sim_components c;

    double dt;
    uint64_t tick;
    double start_time;        /* Unix s at tick 0 */
    double accumulator;       /* s of wall time not yet simulated (tw_sim_advance) */
    uint32_t max_catchup;
    uint64_t dropped_ticks;
    uint32_t rebuild_every;   /* ticks between physics rebuilds (keyframes); 0: never */

    uint64_t seed;
    tw_rng rng;               /* shared stream for systems that need one-off draws */

    tw_sim_physics *physics;
    tw_sim_agents *agents;
    tw_sim_models *models;
    tw_sim_alarms *alarms;
    tw_sim_factory *factory;

    tw_sim_event *events;
    uint32_t event_count, event_cap;
};

/* Simulated seconds at the start of the current tick. */
static inline double tw_sim_now(const tw_sim *s) { return (double)s->tick * s->dt; }

/* Appends an alarm transition (the events list grows; failure drops it and logs). */
void tw_sim_event_push(tw_sim *s, const tw_sim_event *ev);

/* physics.c. new builds spaces from Storey, Wall, Door, Body entities; sync
 * adds and removes bodies and walls after structural changes and applies
 * changed door states; step advances every space by dt and copies positions
 * and velocities back into Body and Transform. */
tw_status tw_sim_physics_new(tw_sim *s, tw_diag *diag);
void tw_sim_physics_free(tw_sim *s);
tw_status tw_sim_physics_sync(tw_sim *s);
void tw_sim_physics_step(tw_sim *s);

/* agents.c. new builds the walking graph; step (before physics) plans and
 * steers (sets Body velocities); post (after physics) updates arrivals, Space
 * occupants and Mobility. */
tw_status tw_sim_agents_new(tw_sim *s, tw_diag *diag);
void tw_sim_agents_free(tw_sim *s);
void tw_sim_agents_step(tw_sim *s);
void tw_sim_agents_post(tw_sim *s);

/* factory.c: machines make parts onto conveyors; conveyors carry and deliver them. */
tw_status tw_sim_factory_new(tw_sim *s, tw_diag *diag);
void tw_sim_factory_free(tw_sim *s);
void tw_sim_factory_step(tw_sim *s);

/* models.c: weather, thermal and HVAC, CO2, equipment, meters, health. */
tw_status tw_sim_models_new(tw_sim *s, tw_diag *diag);
void tw_sim_models_free(tw_sim *s);
void tw_sim_models_step(tw_sim *s);

/* alarms.c */
tw_status tw_sim_alarms_new(tw_sim *s, tw_diag *diag);
void tw_sim_alarms_free(tw_sim *s);
void tw_sim_alarms_step(tw_sim *s);

/* state_hash.c implements tw_sim_state_hash. */

/* ---- motion internals shared by physics.c, agents.c, nav.c, factory.c ---- */

struct cpSpace;

/* physics.c: destroys every Chipmunk space and recreates it from the ECS
 * state alone (Body positions, velocities, angles; doors; belts). Chipmunk
 * keeps contact state (cached arbiters, sleep timers) that no keyframe can
 * capture, so seek and continuous play both call this at keyframe boundaries
 * and then step identically. */
tw_status tw_sim_physics_rebuild(tw_sim *s);
/* cpSpaceNew, with the debug build's stdout banner silenced. */
struct cpSpace *tw_sim_physics_space_new(void);
/* The settings every space gets (iterations, damping, sleeping); the physics
 * benchmark gives its bare baseline space the same. */
void tw_sim_physics_space_configure(struct cpSpace *space);
/* Steering and belts drive a body for this tick: the next step takes
 * (vx, vy) in place of its damped velocity, before contacts are solved (a
 * wall still stops it). Body.velocity shows the command until the step.
 * Returns 0 when e has no body in a space. A Body.velocity changed by anyone
 * else between steps (a binding, an edit) drives the body the same way. */
int tw_sim_physics_drive(tw_sim *s, tw_entity e, float vx, float vy);
/* Surface velocity (m/s) Chipmunk holds for segment seg of a conveyor's belt;
 * false when the conveyor has no belt or seg is out of range. */
int tw_sim_physics_belt_velocity(const tw_sim *s, tw_entity conveyor, uint32_t seg, float out[2]);

/* True when nothing solid (a wall, a shut door) lies on the straight line
 * from a to b on that storey's plan; true as well for a storey with no space. */
int tw_sim_physics_line_clear(const tw_sim *s, tw_entity storey, const float a[2], const float b[2]);
/* The same, looking past door leaves (shut or not): only walls count. */
int tw_sim_physics_walls_clear(const tw_sim *s, tw_entity storey, const float a[2], const float b[2]);

/* An agent on the stairs is in no space until busy_until. */
static inline int tw_sim_agent_in_transit(const Agent *a, double now)
{
    return a->state == TW_AGENT_WALKING && a->busy_until > now;
}
/* An agent whose body belongs in its storey's space. */
static inline int tw_sim_agent_in_space(const Agent *a, double now)
{
    return a->state != TW_AGENT_OUTSIDE && !tw_sim_agent_in_transit(a, now);
}

/* nav.c: the walking graph over every Waypoint. */
typedef struct tw_sim_nav tw_sim_nav;
enum { TW_SIM_NAV_NONE = -1 };
/* Builds the graph; a link or portal to an entity without Waypoint is an error in diag. */
tw_status tw_sim_nav_new(tw_sim *s, tw_sim_nav **out, tw_diag *diag);
void tw_sim_nav_free(tw_sim *s, tw_sim_nav *nav);
/* Rebuilds the adjacency when the world's structure changed (cheap otherwise). */
tw_status tw_sim_nav_refresh(tw_sim *s, tw_sim_nav *nav, tw_diag *diag);
/* Node index of a waypoint, or TW_SIM_NAV_NONE. */
int32_t tw_sim_nav_node(const tw_sim_nav *nav, tw_entity waypoint);
uint32_t tw_sim_nav_node_count(const tw_sim_nav *nav);
uint32_t tw_sim_nav_generation(const tw_sim_nav *nav); /* changes whenever node indices may have */
tw_entity tw_sim_nav_node_entity(const tw_sim_nav *nav, int32_t node);
tw_entity tw_sim_nav_node_storey(const tw_sim_nav *nav, int32_t node);
const float *tw_sim_nav_node_position(const tw_sim_nav *nav, int32_t node); /* plan x, y */
int tw_sim_nav_node_passable(const tw_sim *s, const tw_sim_nav *nav, int32_t node); /* its door open */
/* Cheapest route from node from to the nearest of goals[] (door state read
 * now). Writes up to path_max waypoints after from (ending at the goal when it
 * fits) to path and returns how many; *reached gets the goal chosen. Returns
 * -1 when no goal can be reached. */
int32_t tw_sim_nav_route(tw_sim *s, tw_sim_nav *nav, int32_t from, const int32_t *goals, uint32_t goal_count,
                         tw_entity *path, uint32_t path_max, int32_t *reached);
/* Seconds a stair trip between two landings takes (also its routing cost at walking speed). */
double tw_sim_nav_stair_time(void);

#endif
