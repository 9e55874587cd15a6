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

/* ---- run outputs (outputs.c): kpis.csv, events.csv, summary.json ------------------------- */

/* Running statistics of one KPI column for summary.json. */
typedef struct app_kpi_stats {
    double last, min, max, sum;
    uint64_t n;
} app_kpi_stats;

/* The files a run, a replay or one world of a what-if writes. */
typedef struct app_outputs {
    FILE *kpis;
    FILE *events;
    double *values;               /* one row of KPI values (scratch) */
    app_kpi_stats *stats;
    uint32_t kpi_count;
    const tw_allocator *alloc;
    char dir[1024];
} app_outputs;

/* Creates dir (and parents) and opens kpis.csv and events.csv there with
 * their header lines, for the KPIs of kpis. On failure diag says which file. */
tw_status app_outputs_open(app_outputs *o, const char *dir, const tw_kpi_sampler *kpis, const tw_allocator *alloc,
                           tw_diag *diag);
/* Samples the session's KPIs into a kpis.csv row at time t (s). */
void app_outputs_kpi_row(app_outputs *o, tw_app_session *s, double t);
/* The sim's pending alarm events into events.csv (counted into *total), then clears them. */
void app_outputs_events(app_outputs *o, tw_app_session *s, double start_time, uint32_t *total);
/* Writes dir/summary.json; TW_ERR_IO (diag says so) when it cannot. */
tw_status app_outputs_summary(app_outputs *o, const tw_app_session *s, const char *scene_path,
                              const tw_app_run_result *r, const app_telemetry *tel, tw_diag *diag);
/* Closes the files (TW_ERR_IO when a write had failed, e.g. a full disk) and frees. */
tw_status app_outputs_close(app_outputs *o, tw_diag *diag);
/* The progress bar on stderr: done of total simulated s at rtf x real time. */
void app_progress_draw(double done, double total, double rtf);
/* Whether to redraw it after this tick: the clock is read once every 1024 ticks, and the bar
 * redrawn at most every 0.2 s (*next_draw, wall s; start it at the loop's start). On 1, *now is
 * the wall time read. */
int app_progress_due(uint64_t tick, double *next_draw, double *now);

/* ---- recording (recording.c): a run's inputs into a .twlog ------------------------------- */

/* The recording side of a run or a viewer session: keyframes at the
 * keyframe ticks (with the binder's state), the samples as applied, alarm
 * events and the tick each flush reached. The first error stops recording
 * (kept in failed) without stopping the run; app_recording_close reports it. */
typedef struct app_recording {
    tw_replay_recorder *rec;      /* NULL: not recording */
    uint32_t keyframe_every;      /* ticks */
    tw_status failed;
    char path[1024];
} app_recording;

tw_status app_recording_open(app_recording *r, const char *path, int sync, const tw_app_session *s,
                             const tw_log *log, tw_diag *diag);
/* Before tick's inputs: the keyframe when one is due. */
void app_recording_before_tick(app_recording *r, app_telemetry *tel, const tw_sim *sim, uint64_t tick);
/* After the binder applied tick's samples: records them. */
void app_recording_applied(app_recording *r, app_telemetry *tel, uint64_t tick);
/* After tick's step: its alarm events and the tick reached. */
void app_recording_after_tick(app_recording *r, const tw_sim *sim, uint64_t tick);
/* Records a user command applied before tick (twin view: doors, ...). */
void app_recording_command(app_recording *r, uint64_t tick, const tw_replay_command *cmd);
/* Closes the log (a last keyframe when the end falls on a keyframe tick,
 * the index, the end record). Returns the first recording error, with diag
 * set; the log's size and longest flush go into log_bytes/flush_max_s. */
tw_status app_recording_close(app_recording *r, app_telemetry *tel, const tw_sim *sim, uint64_t *log_bytes,
                              double *flush_max_s, tw_diag *diag);

/* ---- playing a recorded run (replay_run.c) ------------------------------------------------ */

/* Opens a log and its scene as one session: the log is read (a torn or
 * corrupt tail is logged as a warning: everything before it plays), the
 * scene is loaded with the recorded seed, the two are checked to belong
 * together (scene hash, component layout) and the session's start time is
 * the recording's. *out_log is the open log (the caller closes it). On
 * failure nothing is left open. */
tw_status app_replay_session_open(const char *scene_path, const char *log_path, const tw_log *log,
                                  tw_app_session *s, tw_replay_log **out_log, tw_diag *diag);

/* One player over a recorded run, with the telemetry the log carries. */
typedef struct app_replay {
    tw_replay_log *log;           /* owned */
    tw_replay_player *player;
    app_telemetry tel;            /* the recorded samples through a binder made from the log's rules */
    int tel_open;
} app_replay;

/* Starts a player for session s over log (taken over, closed by
 * app_replay_stop even on failure; NULL: log_path is opened). verify: compare
 * the state hash with every keyframe met. The player has no world until
 * its first seek. */
tw_status app_replay_start(app_replay *p, tw_replay_log *log, const char *log_path, const tw_app_session *s,
                           int verify, const tw_log *lg, tw_diag *diag);
void app_replay_stop(app_replay *p);

#endif
