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

#endif
