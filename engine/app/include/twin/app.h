/* twin/app.h: what the `twin` commands do, as library calls: the headless
 * runner, scene checking and KPI sampling.
 *
 * The app module glues the others together (scene → world → sim → outputs)
 * and owns the output files. Each call builds and frees its own world; none
 * keeps state between calls. */
#ifndef TWIN_APP_H
#define TWIN_APP_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "twin/bind.h"
#include "twin/ecs.h"
#include "twin/log.h"
#include "twin/scene.h"
#include "twin/sim.h"

/* Exit codes of the `twin` command (docs/cli.md). */
enum {
    TW_EXIT_OK = 0,
    TW_EXIT_FAILURE = 1,     /* the run failed: output could not be written, the simulation errored */
    TW_EXIT_USAGE = 2,       /* bad command line */
    TW_EXIT_BAD_INPUT = 3,   /* the scene (or another input file) is invalid */
    TW_EXIT_INTERRUPTED = 130
};

/* ---- KPI sampling --------------------------------------------------------- */

typedef struct tw_kpi_sampler tw_kpi_sampler;

/* Resolves the scene's KPI definitions against w. Errors name the KPI. */
tw_status tw_kpi_sampler_new(tw_ecs_world *w, const tw_scene_kpi *kpis, uint32_t count, tw_kpi_sampler **out,
                             tw_diag *diag);
void tw_kpi_sampler_free(tw_kpi_sampler *k);
uint32_t tw_kpi_sampler_count(const tw_kpi_sampler *k);
const tw_scene_kpi *tw_kpi_sampler_def(const tw_kpi_sampler *k, uint32_t i);
/* Reads every KPI now into values[count]. A KPI with nothing to aggregate is NaN. */
void tw_kpi_sampler_sample(tw_kpi_sampler *k, double *values);

/* ---- a loaded scene, ready to simulate ------------------------------------- */

typedef struct tw_app_session {
    tw_ecs_world *world;
    tw_scene scene;
    tw_sim *sim;
    tw_kpi_sampler *kpis;
    uint64_t scene_hash;       /* tw_replay_scene_hash of the scene as loaded (logs carry it) */
} tw_app_session;

typedef struct tw_app_open_desc {
    const char *scene_path;
    int has_seed;            /* override the scene's seed */
    uint64_t seed;
    const tw_log *log;
} tw_app_open_desc;

/* World, scene, sim and KPI sampler; on failure nothing is left to free. */
tw_status tw_app_session_open(const tw_app_open_desc *desc, tw_app_session *out, tw_diag *diag);
void tw_app_session_close(tw_app_session *s);

/* ---- twin run ------------------------------------------------------------- */

typedef struct tw_app_run_desc {
    const char *scene_path;
    const char *out_dir;
    double duration;           /* s; < 0: the scene's */
    int has_seed;
    uint64_t seed;
    int progress;              /* draw a progress bar on stderr */
    volatile sig_atomic_t *cancel; /* set non-zero to stop early (SIGINT); may be NULL */
    const tw_log *log;
    const char *record_path;   /* write a replay log (*.twlog) of the run here; NULL: none */
    int record_sync;           /* fdatasync the log at every flush */
    /* Telemetry files (CSV, JSON Lines, SenML; "-" is standard input) that
     * drive the scene through its bindings (docs/telemetry.md "twin run").
     * The sim starts at the data's anchor, samples apply at each tick
     * boundary, and with duration < 0 the run lasts as long as the data. */
    const char *const *telemetry;
    uint32_t telemetry_count;
    /* Bindings files added to the scene's own "bindings"; with neither, the
     * default file next to the first telemetry file. */
    const char *const *bindings;
    uint32_t bindings_count;
    /* Live telemetry: an MQTT URL (mqtt[s]://[user:pw@]host:port/topic-filter[?qos=1&...],
     * docs/telemetry.md). The sim starts now and follows the wall clock (one
     * tick per dt of real time), samples apply by measured time at tick
     * boundaries; with duration < 0 the run lasts until it is interrupted.
     * Not combined with telemetry files. NULL: none. */
    const char *mqtt_url;
    /* Called at every tick boundary (once before the first tick, then after
     * each) with the running session; `twin run --frames-every` writes its
     * PNG frames through it (tw_view_frames_tick). A status other than TW_OK
     * stops the run with that status. NULL: none. */
    tw_status (*on_tick)(void *user, tw_app_session *s, tw_diag *diag);
    void *on_tick_user;
} tw_app_run_desc;

typedef struct tw_app_run_result {
    double sim_time;
    uint64_t ticks;
    double wall_time;
    double real_time_factor;
    uint64_t state_hash;
    uint32_t entities;
    uint32_t alarm_events;
    int interrupted;
    uint64_t log_bytes;        /* size of the recorded log (record_path), 0 without */
    double log_flush_max_s;    /* longest single flush of the log */
    int has_telemetry;         /* telemetry drove the run (or was replayed) */
    tw_bind_counters telemetry;/* what happened to every sample (summary.json "telemetry") */
} tw_app_run_result;

/* Loads the scene, runs it headless, writes out_dir/kpis.csv, events.csv and
 * summary.json. The output folder is only created once the scene has loaded,
 * so a bad scene leaves nothing behind. */
tw_status tw_app_run(const tw_app_run_desc *desc, tw_app_run_result *result, tw_diag *diag);

/* ---- twin replay ----------------------------------------------------------- */

typedef struct tw_app_replay_desc {
    const char *scene_path;
    const char *log_path;
    const char *out_dir;
    double from;               /* s of simulated time to start at (a seek) */
    double to;                 /* s to stop at; < 0: where the log ends */
    double speed;              /* 0: as fast as possible; else paced to speed x real time */
    int verify;                /* compare the state hash with every keyframe passed */
    int progress;
    volatile sig_atomic_t *cancel;
    const tw_log *log;
} tw_app_replay_desc;

/* Replays a log against its scene headless and writes the same outputs as
 * tw_app_run (kpis.csv, events.csv, summary.json) for [from, to]. A log of
 * another scene is TW_ERR_INVALID (exit 3). */
tw_status tw_app_replay(const tw_app_replay_desc *desc, tw_app_run_result *result, tw_diag *diag);

/* ---- twin whatif ----------------------------------------------------------- */

/* Which world of a what-if a hook is called for. */
typedef enum tw_app_whatif_side {
    TW_APP_WHATIF_BASELINE = 0,
    TW_APP_WHATIF_SCENARIO = 1
} tw_app_whatif_side;

/* What the what-if's tick hook is told (valid during the call only). */
typedef struct tw_app_whatif_tick {
    tw_app_whatif_side side;
    const char *name;          /* "baseline", or the scenario's name (its file's when it has none) */
    tw_app_session *session;   /* this world: its world, sim and scene */
    /* Set at a frames_at time: write this world's PNG frame to this path
     * (out_dir/frames/<side>-<T>.png); NULL at every other tick. */
    const char *frame_path;
} tw_app_whatif_tick;

typedef struct tw_app_whatif_desc {
    const char *scene_path;
    const char *log_path;
    const char *scenario_path; /* twin-scenario/1 (twin/scenario.h) */
    const char *out_dir;
    double from;               /* s: the fork time (both worlds are restored there) */
    double to;                 /* s; < 0: where the log ends */
    int progress;
    volatile sig_atomic_t *cancel;
    const tw_log *log;
    /* Called at every tick boundary of each world (once at the fork, after
     * the changes due there, then after each tick; the baseline first, and
     * both before either steps on, so the two are at the same time), like
     * tw_app_run_desc.on_tick; `twin whatif --frames-at` renders its frames
     * through it, so this module never touches the renderer. A status other
     * than TW_OK stops the run with that status. NULL: none. */
    tw_status (*on_tick)(void *user, const tw_app_whatif_tick *tick, tw_diag *diag);
    void *on_tick_user;
    /* Simulated times (s, each in [from, to]; not retained) at which the hook
     * is given a frame_path for each world. After both frames of a time,
     * out_dir/frames/compare-<T>.png puts them side by side with captions
     * (through cairo); compare.json lists the files under "frames". A time
     * outside [from, to] is TW_ERR_INVALID with result.bad_request set. */
    const double *frames_at;
    uint32_t frames_at_count;
} tw_app_whatif_desc;

typedef struct tw_app_whatif_result {
    tw_app_run_result baseline, scenario;
    uint32_t changes_applied;
    uint32_t changes_failed;   /* a change whose entity or field did not exist (it is named in the log) */
    uint32_t charts;           /* PNG charts written into out_dir/charts (0 without cairo) */
    uint32_t frames;           /* frames_at times with both worlds' frames written */
    uint32_t compares;         /* compare-<T>.png written (0 without cairo) */
    int bad_request;           /* the desc asked for something the log cannot give (a frames_at time
                                  outside [from, to]): a command-line error, not a bad input file */
} tw_app_whatif_result;

/* Forks the recorded run at from into two worlds in one process: the
 * baseline replays the log; the scenario replays it too, with the scenario's
 * changes applied. Both run to to in lockstep. Writes out_dir/compare.csv
 * (kpi, baseline, scenario, delta, delta_pct: final values), compare.json,
 * charts/<kpi>.png (both worlds over time, through cairo), and baseline/ and
 * scenario/ with each world's kpis.csv, events.csv and summary.json. */
tw_status tw_app_whatif(const tw_app_whatif_desc *desc, tw_app_whatif_result *result, tw_diag *diag);

/* ---- twin check ------------------------------------------------------------ */

/* Loads and validates a scene (including what the simulation checks: doors on
 * walls, waypoint links, alarm fields) and prints a summary to out. */
tw_status tw_app_check(const char *scene_path, FILE *out, tw_diag *diag);

typedef struct tw_app_check_desc {
    const char *scene_path;
    const char *const *bindings; /* bindings files checked beside the scene's own "bindings" */
    uint32_t bindings_count;
    int list_sensors;            /* print only the bound sensor ids (and topic patterns), one a line */
} tw_app_check_desc;

/* tw_app_check, plus the telemetry bindings (the scene's and the given
 * files'): unknown entities and fields, unit mismatches and bad parameters
 * fail with file:line:column and the JSON path. */
tw_status tw_app_check_scene(const tw_app_check_desc *desc, FILE *out, tw_diag *diag);

/* ---- reports ----------------------------------------------------------------- */

/* "%016llx" of a state hash, as written in summary.json. */
void tw_app_format_hash(uint64_t hash, char out[17]);
/* Creates a directory and its parents (mkdir -p). */
tw_status tw_app_make_dirs(const char *path, tw_diag *diag);

#endif
