/* Private to engine/app: output writers shared by the runner and checker. */
#ifndef TWIN_APP_INTERNAL_H
#define TWIN_APP_INTERNAL_H

#include <stdio.h>

#include "twin/app.h"
#include "twin/bind.h"
#include "twin/replay.h"
#include "twin/scenario.h"

/* Opens path for writing; on failure fills diag with the path and the OS reason. */
FILE *tw_app_open_output(const char *dir, const char *name, tw_diag *diag);
/* Writes v as a JSON/CSV number ("%.10g"); NaN and infinities as an empty CSV cell or JSON null. */
void tw_app_write_number(FILE *f, double v, int json);
/* Writes s as a JSON string with escapes. */
void tw_app_write_json_string(FILE *f, const char *s);

/* chart.c: a PNG line chart of a KPI in two worlds (values[i * stride], NaN gaps). */
int tw_app_charts_available(void);
tw_status tw_app_chart_png(const char *path, const char *title, const char *unit, const double *t, const double *base,
                           const double *scen, size_t n, size_t stride, double fork_t, tw_diag *diag);

/* ---- telemetry (telemetry.c) ----------------------------------------------------------- */

/* Keyframe sections of a run driven by telemetry (docs/log-format.md):
 * "BIND" the binder's state (twin/bind_state.h) in every keyframe, and
 * "BNDR" the bindings it was made from, in the first keyframe only, so a
 * log replays without the bindings files it was recorded with. */
#define APP_SECTION_BIND TW_REPLAY_SECTION_TAG('B', 'I', 'N', 'D')
#define APP_SECTION_RULES TW_REPLAY_SECTION_TAG('B', 'N', 'D', 'R')

/* One source of binding rules, as loaded: its name (a path) and its text. */
typedef struct app_text {
    char *name;
    char *text;
    size_t length;
} app_text;

/* A what-if change acting on recorded samples (override, silence). */
typedef struct app_filter {
    const tw_scenario_change *change;
    uint32_t log_sensor;          /* the log's number for its sensor */
} app_filter;

/* The telemetry side of a run, a replay or one world of a what-if. */
typedef struct app_telemetry {
    const tw_allocator *alloc;
    const tw_log *log;
    tw_bind *b;                   /* NULL: no telemetry */
    tw_ecs_world *world;          /* the world b was made for */
    app_text *texts;              /* rule sources in load order */
    uint32_t text_count, text_cap;
    /* recording: bind sensor id -> log sensor number (0: not interned yet) */
    uint32_t *log_ids;
    size_t log_ids_cap;
    void *state;                  /* keyframe section buffers */
    size_t state_cap, state_size;
    void *rules;
    size_t rules_cap, rules_size;
    /* replay: log sensor number -> bind sensor id (0: not interned yet) */
    const tw_replay_log *rlog;
    double start_time;            /* the log's start: the binder's anchor */
    uint32_t *bind_ids;
    size_t bind_ids_cap;
    app_filter *filters;          /* active what-if filters */
    uint32_t filter_count, filter_cap;
    uint64_t silenced, overridden;
    tw_status failed;             /* the first error of a callback that cannot return one */
    double live_anchor;           /* live (MQTT) runs: Unix s of tick 0; NAN otherwise */
} app_telemetry;

void app_tel_init(app_telemetry *t, const tw_allocator *alloc, const tw_log *log);
void app_tel_fini(app_telemetry *t);

/* Makes the binder for w and loads its rules: the scene's "bindings", then
 * each of bindings[]; when neither gives any and files are given, the
 * default file next to the first of them (docs/telemetry.md "twin run").
 * With required, no rule at all is an error that says where it looked. */
tw_status app_tel_load_rules(app_telemetry *t, tw_ecs_world *w, const tw_scene *scene, const char *scene_path,
                             const char *const *bindings, uint32_t binding_count, const char *const *files,
                             uint32_t file_count, int keep_applied, int required, tw_diag *diag);
/* Opens every file ("-": standard input) as a source and fixes the anchor
 * (NaN when there is no sample at all). */
tw_status app_tel_open_sources(app_telemetry *t, const char *const *files, uint32_t file_count, double *anchor,
                               tw_diag *diag);

/* run.c: opens a session driven by telemetry, for `twin run` and `twin view`:
 * the world, the binder (mqtt_url: live, tick 0 now; else the files, whose
 * first samples fix the anchor), then the sim starting at the anchor.
 * Without files and mqtt_url, a plain session and tel without a binder.
 * Initialises tel itself; on failure nothing is left open. */
tw_status app_session_open_telemetry(const tw_app_open_desc *od, const char *mqtt_url, const char *const *bindings,
                                     uint32_t bindings_count, const char *const *files, uint32_t file_count,
                                     int keep_applied, tw_app_session *s, app_telemetry *tel, tw_diag *diag);

/* Recording: the keyframe sections (rules only when with_rules) into out[2]. */
tw_status app_tel_sections(app_telemetry *t, int with_rules, tw_replay_section *out, uint32_t *count);
/* Recording: the samples the last tw_bind_apply_until took, at tick. */
tw_status app_tel_record_applied(app_telemetry *t, tw_replay_recorder *rec, uint64_t tick);

/* Replay: reads the bindings from the log's first keyframe. Without them
 * (a run without telemetry) t stays without a binder and samples are skipped. */
tw_status app_tel_from_log(app_telemetry *t, const tw_replay_log *log, tw_diag *diag);
/* Replay: fills the player's callbacks (user, on_input, on_section, on_tick). */
void app_tel_player_hooks(app_telemetry *t, tw_replay_player_desc *pd);
/* What-if: starts filtering a sensor's recorded samples (override, silence).
 * TW_ERR_NOT_FOUND with a sentence when the log has no such sensor. */
tw_status app_tel_filter_add(app_telemetry *t, const tw_scenario_change *ch, tw_diag *diag);

/* The "telemetry" member of summary.json (and where its rules came from), if any. */
void app_tel_write_summary(const app_telemetry *t, FILE *f);

#endif
