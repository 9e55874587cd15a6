/* twin/scene.h: load and save twin-scene/1 JSON files (docs/scene-format.md).
 *
 * Loading reads a scene into a world whose components are already
 * registered: entities with their hierarchy, names, kinds, external ids and
 * components (fields by reflection, entity references by path), plus the
 * simulation settings and KPI definitions, which go into a tw_scene the
 * caller owns. A bad scene gets a tw_diag with file:line:column, the JSON
 * path and what was expected; on any error nothing stays in the world.
 *
 * Saving writes the world back in canonical form (two-space indent, keys in a
 * fixed order, a field only where it differs from the component default, no
 * derived fields), so a canonical file loads and saves back byte for byte. */
#ifndef TWIN_SCENE_H
#define TWIN_SCENE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twin/ecs.h"

#define TW_SCENE_FORMAT "twin-scene/1"

typedef enum tw_scene_aggregate {
    TW_SCENE_AGG_VALUE = 0, /* the entity's own value */
    TW_SCENE_AGG_SUM,       /* over the entity and its descendants that have the field */
    TW_SCENE_AGG_MEAN,
    TW_SCENE_AGG_MIN,
    TW_SCENE_AGG_MAX
} tw_scene_aggregate;

/* A KPI: a reflected field of one entity, or aggregated over a subtree
 * (entity "" means the whole world). */
typedef struct tw_scene_kpi {
    char name[TW_ECS_NAME_MAX];          /* column name in kpis.csv */
    char field[TW_ECS_NAME_MAX * 2];     /* "Thermal.temperature" */
    char entity[TW_ECS_PATH_MAX];        /* path, or "" */
    tw_scene_aggregate aggregate;
    char unit[16];                       /* copied from the field's reflection when empty */
} tw_scene_kpi;

typedef struct tw_scene_settings {
    double dt;                  /* s; default 0.1 */
    double duration;            /* s; default 86400 */
    uint64_t seed;              /* default 1 */
    double start_time;          /* Unix s of tick 0; default 2024-01-01T00:00:00Z */
    double kpi_interval;        /* s between KPI samples; default 60 */
    uint32_t max_catchup_steps; /* default 10 */
    double keyframe_interval;   /* s of simulated time between replay keyframes (and physics
                                   rebuilds); default 60; saved only when not the default */
} tw_scene_settings;

typedef struct tw_scene {
    char name[TW_ECS_NAME_MAX];
    char description[512];
    tw_scene_settings settings;
    tw_scene_kpi *kpis;         /* owned; free with tw_scene_fini */
    uint32_t kpi_count;
    uint32_t kpi_cap;
    tw_allocator alloc;
    /* The scene's "bindings" member (telemetry bindings, docs/telemetry.md)
     * as raw JSON text, exactly as written in the file: an object (the body
     * of a twin-bindings/1 file), a list of bindings, or a string naming a
     * bindings file relative to the scene. The scene module only keeps it
     * (and saves it back as it is); the app hands it to the binder. NULL when
     * the scene has none. Owned, NUL-terminated; freed by tw_scene_fini. */
    char *bindings;
    size_t bindings_length;
} tw_scene;

typedef struct tw_scene_load_desc {
    const tw_allocator *allocator; /* for tw_scene's own arrays and parsing scratch; NULL: the world's */
    uint32_t max_depth;            /* JSON nesting limit; 0: 64 */
} tw_scene_load_desc;

/* Settings with every default filled in. */
tw_scene_settings tw_scene_settings_default(void);

/* Reads path into w. On failure returns non-zero, fills diag (its file is
 * path) and leaves neither entities in w nor allocations in out. desc may be
 * NULL. */
tw_status tw_scene_load_file(tw_ecs_world *w, const char *path, const tw_scene_load_desc *desc, tw_scene *out,
                             tw_diag *diag);
/* The same from memory; filename is only used in diagnostics. */
tw_status tw_scene_load_text(tw_ecs_world *w, const char *text, size_t length, const char *filename,
                             const tw_scene_load_desc *desc, tw_scene *out, tw_diag *diag);
void tw_scene_fini(tw_scene *s);

/* Writes w and s in canonical form. *out_text is allocated with w's allocator
 * and NUL-terminated; free it with tw_free(alloc, text, length + 1). */
tw_status tw_scene_save_text(const tw_ecs_world *w, const tw_scene *s, char **out_text, size_t *out_length,
                             tw_diag *diag);
/* Writes to a temporary file beside path, then renames it over path. */
tw_status tw_scene_save_file(const tw_ecs_world *w, const tw_scene *s, const char *path, tw_diag *diag);

const char *tw_scene_aggregate_name(tw_scene_aggregate a);

/* How scenes write numbers: the shortest "%.*g" that reads back to v (as a
 * float when single), without an exponent for whole numbers (1500, not
 * 1.5e+03). out should hold at least 32 bytes. */
void tw_scene_format_number(char *out, size_t size, double v, bool single);

#endif
