/* twin/viewer.h: the desktop viewer (`twin view SCENE`).
 *
 * One call runs the whole session: the scene is loaded and simulated
 * (tw_app_session_open), a window opens (engine/platform), the renderer
 * presents into it (a window target), and the view (twin/view.h) turns the
 * world into a draw list every frame. The simulation advances by
 * whole ticks paced by wall_dt x speed (like tw_sim_advance, with its
 * catch-up cap), so the frame rate never changes it; agents are drawn
 * interpolated by the fraction of a tick accumulated. With telemetry, the
 * binder applies the samples measured up to each tick before it runs. The HUD, the inspector
 * and the help are drawn on the CPU with SDL2_ttf into an RGBA overlay that
 * the renderer composites over the frame (so screenshots include them).
 *
 * With replay_path the world and sim are a replay player's over a recorded
 * run (viewer_replay.c): a timeline scrubs it, [ ] jump between its alarm
 * events. With record_log the live session is recorded like `twin run
 * --record`.
 *
 * Scripted use (tests, demos, docs): --frames, --script (input events read
 * from a text file, one a line, see tw_viewer_script_parse and
 * docs/viewer.md), --screenshot, --record-script.
 *
 * Nothing here keeps state between calls. */
#ifndef TWIN_VIEWER_H
#define TWIN_VIEWER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "twin/alloc.h"
#include "twin/log.h"
#include "twin/platform.h"
#include "twin/status.h"

typedef struct tw_viewer_desc {
    const char *scene_path;
    uint32_t width, height;       /* window size; 0: 1280 x 800 */
    double speed;                 /* simulated seconds per wall second; 0: 1 */
    double at;                    /* s: simulate headless up to this time before the window opens
                                     (a replay: seek there) */
    int paused;                   /* start paused */
    uint64_t frames;              /* > 0: render this many frames, then exit */
    double frame_dt;              /* > 0: advance as if each frame took this long (reproducible
                                     scripted runs); 0: the measured wall time */
    int vsync;                    /* > 0 on, < 0 off; 0: on, off when frames > 0 */
    const char *screenshot_path;  /* save the last frame (with the HUD) as PNG */
    const char *script_path;      /* input events to replay (tw_viewer_script_parse) */
    const char *record_path;      /* write this session's input events as a script */
    const char *colorby;          /* start coloured by this field ("Air.co2"); NULL: none */
    int edges;                    /* element outlines: 0 by size on screen (none under 12 px),
                                     > 0 on every element, < 0 off; the O key cycles them */
    const char *select;           /* start with this entity (a path) selected and inspected */
    int stats;                    /* print one "stats ..." line at exit (frames, fps, validation) */
    int has_seed;
    uint64_t seed;
    const char *font_path;        /* NULL: DejaVu Sans (fonts-dejavu-core) */
    /* Telemetry (docs/telemetry.md, as `twin run`): sample files (CSV, SenML,
     * JSON lines) or a live MQTT broker (then the speed is fixed at x1), and
     * binding files beside the scene's own "bindings". */
    const char *const *telemetry;
    uint32_t telemetry_count;
    const char *const *bindings;
    uint32_t bindings_count;
    const char *mqtt_url;         /* mqtt://host[:port]/topic-filter; NULL: none */
    /* Replay (docs/viewer.md "Replay"): the recorded run of replay_path is
     * shown instead of a live simulation: at is where it starts (s from
     * tick 0), the timeline scrubs it. Excludes telemetry, mqtt, seed and
     * record_log. */
    const char *replay_path;
    /* Record this session (as `twin run --record`) into a .twlog. */
    const char *record_log;
    FILE *out;                    /* picks ("picked PATH (KIND)") and the stats line; NULL: stdout */
    const tw_log *log;
    volatile sig_atomic_t *cancel; /* set non-zero to stop (SIGINT); may be NULL */
} tw_viewer_desc;

typedef struct tw_viewer_result {
    uint64_t frames;              /* frames rendered */
    uint64_t presented;           /* of which reached the window */
    double wall_time;             /* s the window was open */
    double sim_time;              /* s of simulated time at the end */
    uint32_t picks;               /* clicks that picked something */
    uint32_t screenshots;         /* PNGs written */
    uint32_t validation_messages; /* from the Vulkan validation layer (TWIN_VALIDATION=1) */
    uint32_t validation_errors;
    uint32_t swapchain_rebuilds;
    int quit_by_user;             /* the window was closed or Esc pressed */
    uint64_t dropped_ticks;       /* ticks skipped because the sim could not keep up */
    uint32_t alarm_events;        /* alarm transitions seen */
    uint64_t state_hash;          /* tw_sim_state_hash at the end */
    uint32_t seeks;               /* replay: seeks made (timeline, keys, alarms) */
} tw_viewer_result;

/* Runs the viewer until the window is closed, Esc (or Ctrl+Q) is pressed,
 * desc->frames have been drawn, or *desc->cancel is set. TW_ERR_UNSUPPORTED
 * when there is no display or no Vulkan device (diag says which, for the
 * user); TW_ERR_INVALID (and friends) for a bad scene or script. */
tw_status tw_viewer_run(const tw_viewer_desc *desc, tw_viewer_result *result, tw_diag *diag);

/* ---- replay timeline and speeds (pure; viewer_replay.c) ------------------------
 *
 * The timeline maps the log's span of ticks, first..last, onto the pixel
 * columns x0..x1 of its bar (x1 > x0), linearly: first at x0, last at x1. */

typedef struct tw_viewer_timeline {
    int x0, x1;                   /* pixel columns of the span's ends */
    uint64_t first, last;         /* ticks */
} tw_viewer_timeline;

/* The tick under pixel column x, rounded to the nearest, clamped to the span. */
uint64_t tw_viewer_timeline_tick_at(const tw_viewer_timeline *t, int x);
/* The pixel column of tick (clamped to the span). */
int tw_viewer_timeline_x_of(const tw_viewer_timeline *t, uint64_t tick);
/* The next speed on the 1-2-5 ladder x0.1 .. x1000 above (dir > 0) or below
 * (dir < 0) speed, which need not be on the ladder; the ends stay put. */
double tw_viewer_speed_step(double speed, int dir);

/* ---- scripts ----------------------------------------------------------------
 *
 * A script is text, one event a line, each starting with the frame number
 * it happens before (frames count from 0); '#' starts a comment:
 *
 *   12 mouse_down 640 360 left      12 mouse_up 640 360 left
 *   13 move 650 362                 (the pointer moves; held buttons drag)
 *   20 wheel 2 [640 360]            (notches, > 0 zooms in)
 *   30 key space                    (press and release; names as tw_platform_key_name,
 *   31 key_down w   45 key_up w      or a character: "?", "+", "."; "ctrl+q")
 *   40 drag 600 300 700 320 [left [FRAMES]]   (down, FRAMES moves (10), up)
 *   50 click 640 360 [left]         (down and up on one spot: a pick)
 *   60 resize 1024 640              (asks the window system for a new size)
 *   70 screenshot [FILE]            (FILE: twin-screenshot-N.png)
 *   80 quit
 */

typedef enum tw_viewer_command {
    TW_VIEWER_INPUT = 0,          /* ev is a platform event */
    TW_VIEWER_RESIZE,             /* ev.width, ev.height */
    TW_VIEWER_SCREENSHOT,         /* arg: the file, "" for the next twin-screenshot-N.png */
    TW_VIEWER_QUIT
} tw_viewer_command;

typedef struct tw_viewer_step {
    uint64_t frame;
    tw_viewer_command command;
    tw_platform_event ev;
    char arg[256];
    uint32_t line;                /* in the script, for messages */
} tw_viewer_step;

typedef struct tw_viewer_script {
    tw_viewer_step *steps;        /* sorted by frame (stable: same-frame steps keep their order) */
    uint32_t count, cap;
    tw_allocator alloc;
} tw_viewer_script;

/* Parses script text (name is the file name for messages). On error diag
 * has name:line:column and what was expected, and *out holds nothing.
 * Free with tw_viewer_script_fini. */
tw_status tw_viewer_script_parse(const char *text, const char *name, const tw_allocator *alloc,
                                 tw_viewer_script *out, tw_diag *diag);
tw_status tw_viewer_script_load(const char *path, const tw_allocator *alloc, tw_viewer_script *out, tw_diag *diag);
void tw_viewer_script_fini(tw_viewer_script *s);
/* Writes one platform event as a script line ("12 mouse_down 640 360 left").
 * Returns 0 when the event has no script form (nothing written). */
int tw_viewer_script_write_event(FILE *f, uint64_t frame, const tw_platform_event *ev);

#endif
