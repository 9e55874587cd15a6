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
} tw_app_run_result;

/* Loads the scene, runs it headless, writes out_dir/kpis.csv, events.csv and
 * summary.json. The output folder is only created once the scene has loaded,
 * so a bad scene leaves nothing behind. */
tw_status tw_app_run(const tw_app_run_desc *desc, tw_app_run_result *result, tw_diag *diag);

/* ---- twin check ------------------------------------------------------------ */

/* Loads and validates a scene (including what the simulation checks: doors on
 * walls, waypoint links, alarm fields) and prints a summary to out. */
tw_status tw_app_check(const char *scene_path, FILE *out, tw_diag *diag);

/* ---- reports ----------------------------------------------------------------- */

/* "%016llx" of a state hash, as written in summary.json. */
void tw_app_format_hash(uint64_t hash, char out[17]);
/* Creates a directory and its parents (mkdir -p). */
tw_status tw_app_make_dirs(const char *path, tw_diag *diag);

#endif
