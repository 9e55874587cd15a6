/* twin/scenario.h: what-if scenario files (twin-scenario/1, docs/whatif.md).
 *
 * A scenario is a list of changes to apply to a copy of a run's world at a
 * fork time (or later, with "at"): set a field of an entity (a parameter, a
 * setpoint, a fault flag, a door's state), destroy an entity (remove an
 * agent, a machine), clone one (add agents like an existing one), override
 * a sensor's samples with a value, or silence a sensor. A change marked
 * "both" applies to the baseline as well (the evacuation alarm that both
 * worlds hear, so that only the blocked stair differs). The file is only
 * parsed here; entities and fields are resolved against the world when the
 * changes are applied. The tw_scenario is caller-owned; free it with
 * tw_scenario_fini. */
#ifndef TWIN_SCENARIO_H
#define TWIN_SCENARIO_H

#include <stdint.h>

#include "twin/ecs.h"

#define TW_SCENARIO_FORMAT "twin-scenario/1"

typedef enum tw_scenario_op {
    TW_SCENARIO_SET = 1,      /* entity's field = value */
    TW_SCENARIO_DESTROY,      /* entity (and its children) removed */
    TW_SCENARIO_CLONE,        /* count copies of entity beside it, named "<name>-copy-<i>" */
    TW_SCENARIO_OVERRIDE,     /* every sample of sensor takes value */
    TW_SCENARIO_SILENCE       /* samples of sensor are dropped */
} tw_scenario_op;

typedef struct tw_scenario_change {
    tw_scenario_op op;
    double at;                       /* s of simulated time to apply it; < 0: at the fork */
    char entity[TW_ECS_PATH_MAX];    /* SET, DESTROY, CLONE */
    char field[128];                 /* SET: "Component.field" or "Component.field[i]" */
    double value;                    /* SET, OVERRIDE (true/false read as 1/0) */
    char sensor[256];                /* OVERRIDE, SILENCE */
    uint32_t count;                  /* CLONE: copies, default 1 */
    uint8_t both;                    /* applies to the baseline too: the premise both worlds share */
} tw_scenario_change;

typedef struct tw_scenario {
    char name[TW_ECS_NAME_MAX];
    char description[512];
    tw_scenario_change *changes;     /* owned */
    uint32_t change_count;
    tw_allocator alloc;
} tw_scenario;

/* Reads a scenario. Errors fill diag with the file, line and column, the JSON
 * path and what was expected; nothing is left to free. allocator may be NULL. */
tw_status tw_scenario_load_file(const char *path, const tw_allocator *allocator, tw_scenario *out, tw_diag *diag);
tw_status tw_scenario_load_text(const char *text, size_t length, const char *filename, const tw_allocator *allocator,
                                tw_scenario *out, tw_diag *diag);
void tw_scenario_fini(tw_scenario *s);
const char *tw_scenario_op_name(tw_scenario_op op); /* "set", "destroy", ... */

#endif
