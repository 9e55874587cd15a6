/* Private to the viewer (viewer.c, viewer_ui.c, viewer_replay.c): its state, one struct. */
#ifndef TWIN_VIEWER_INTERNAL_H
#define TWIN_VIEWER_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "app_internal.h"
#include "twin/app.h"
#include "twin/platform.h"
#include "twin/render.h"
#include "twin/view.h"
#include "twin/viewer.h"

/* An orbit camera: the eye on a sphere around a target point. */
typedef struct viewer_orbit {
    float target[3];         /* m */
    float distance;          /* m, eye to target */
    float yaw;               /* degrees: the eye's azimuth from the target, from +x towards +y */
    float pitch;             /* degrees above the horizon */
    float fov;               /* degrees, vertical */
} viewer_orbit;

/* A rectangle of the overlay, in pixels. */
typedef struct viewer_rect {
    int x, y, w, h;
} viewer_rect;

/* Telemetry hook for the inspector: when a binder feeds the viewer
 * (twin view --telemetry/--mqtt), viewer.c sets this to describe the sensor bound to a field: write "sensor-id  21.4 degC  good"
 * into out and return 1; return 0 when the field has no binding. */
typedef int (*viewer_sensor_fn)(void *user, tw_entity e, tw_component c, uint32_t field_index, char *out,
                                size_t size);

/* One line of the inspector, formatted each frame. */
enum { VIEWER_MAX_ROWS = 320 };
typedef struct viewer_row {
    uint8_t kind;
    uint8_t derived;         /* a field computed by a system */
    char left[64];
    char right[200];
} viewer_row;

/* One alarm transition, for the HUD's list of the last few. */
enum { VIEWER_ALARMS = 8 };
typedef struct viewer_alarm {
    double time;             /* s of simulated time */
    int32_t state;           /* tw_alarm_state after the change */
    float value;
    char target[96];         /* the watched entity's path */
} viewer_alarm;

typedef struct viewer {
    const tw_viewer_desc *desc;
    tw_allocator alloc;
    tw_log log;
    FILE *out;
    tw_viewer_result *result;

    /* the simulated world */
    tw_app_session session;
    tw_ecs_world *world;
    tw_sim *sim;
    tw_sim_components ids;
    double start_time;       /* Unix s of tick 0 */
    double accumulator;      /* simulated s waiting to be run as whole ticks */
    uint32_t max_catchup;    /* ticks run per frame at most; the rest is dropped */
    uint64_t dropped_ticks;

    /* telemetry (NULL tel.b: none) */
    app_telemetry tel;
    int tel_open;            /* tel was initialised (and needs app_tel_fini) */
    int live;                /* MQTT: the speed is fixed at x1 */
    int source_failed;
    viewer_alarm alarms[VIEWER_ALARMS]; /* a ring of the last transitions */
    uint32_t alarm_count;    /* seen in all; the newest is alarms[(alarm_count - 1) % VIEWER_ALARMS] */

    /* window, renderer, view */
    tw_platform *platform;
    tw_render *render;
    tw_render_target window;
    tw_view *view;
    uint32_t width, height;  /* drawable pixels; 0x0 minimised */

    /* text and the overlay */
    tw_platform_font *font, *bold, *mono;
    int line;                /* line height of font */
    uint8_t *canvas;         /* width * height RGBA, premultiplied */
    size_t canvas_size;
    tw_render_overlay overlay;
    viewer_rect inspector_rect; /* where the inspector was drawn (clicks there do not pick) */
    viewer_rect help_rect;

    /* camera and input */
    viewer_orbit cam;
    viewer_orbit home;
    uint32_t buttons;        /* held, bit (1 << TW_BUTTON_*) */
    int32_t mouse_x, mouse_y;
    int32_t press_x, press_y;
    int press_button;
    int dragging;
    uint32_t mods;
    uint8_t held[128];       /* fly keys held (w a s d q e), by character */

    /* simulation control */
    double speed;
    int paused;
    int step_requested;
    double achieved;         /* measured simulated s per wall s */
    uint64_t dropped_seen;

    /* what is shown */
    tw_view_style style;
    int colorby_index;       /* into viewer_colorby[] */
    int isolate;
    int section;
    float section_height;
    tw_entity selected;
    int help;
    int inspector_scroll;    /* lines scrolled */
    int inspector_lines;     /* lines the inspector had at the last draw */
    viewer_row rows[VIEWER_MAX_ROWS]; /* the inspector's lines (scratch, kept to avoid the stack) */
    char status[200];        /* a passing message at the bottom */
    double status_until;     /* wall s */
    viewer_sensor_fn sensor; /* the inspector's telemetry rows; NULL without telemetry */
    void *sensor_user;

    /* frame timing */
    double fps;
    double frame_ms;
    tw_render_frame_stats last_stats;
    uint64_t frame;
    double phase_ms[4];      /* summed: simulation, view build, HUD, tw_render_frame (--stats) */
    uint64_t records_uploaded; /* summed: instance records the renderer uploaded (--stats) */

    /* screenshots */
    int screenshot;          /* save after this frame */
    char screenshot_path[512];
    uint32_t screenshot_counter;

    /* scripts */
    tw_viewer_script script;
    uint32_t script_pos;
    FILE *record;

    /* replay (twin view --replay): the player owns the world and the sim,
     * and a seek may replace both (viewer_replay.c rebuilds what held them) */
    int replay;
    app_replay rp;
    int rp_open;
    uint32_t rp_generation;  /* the player's, when the view was made */
    uint64_t rp_first, rp_end; /* ticks: the first keyframe, the log's end */
    const char *rp_name;     /* the log's file name, for the HUD */
    int at_end;              /* playing stopped at the end of the log */
    int scrubbing;           /* the left button went down on the timeline */
    int64_t seek_pending;    /* a tick to seek to before the next frame's ticks; -1: none */
    const char *seek_why;    /* what asked for it ("timeline", "start", "end"), for the out stream */
    int alarm_request;       /* ] +1, [ -1: the next or previous alarm event, sought by the loop */
    viewer_rect timeline_rect; /* the bar's panel; clicks there seek, never pick */
    tw_viewer_timeline timeline; /* its track, for x <-> tick */
    int bottom;              /* pixels kept free at the bottom (the timeline) */

    /* recording (twin view --record): the live session into a .twlog */
    app_recording rec;

    int quit;
} viewer;

/* The binder whose sensors the inspector and HUD show: the live one, or in
 * a replay the player's (rebuilt with each world it restores). */
static inline tw_bind *viewer_binder(const viewer *v) { return v->replay ? v->rp.tel.b : v->tel.b; }

/* The colour-by cycle of the C key. */
typedef struct viewer_colorby {
    const char *field;       /* NULL: none */
    const char *label;
    float min, max;          /* fixed range (legend labels) */
} viewer_colorby;
extern const viewer_colorby viewer_colorbys[];
extern const int viewer_colorby_count;

/* viewer.c: shared with viewer_replay.c */
void viewer_take_events(viewer *v);      /* the sim's alarm transitions into the ring, then clears them */
tw_status viewer_view_new(viewer *v, tw_diag *diag); /* v->view for v->world and v->sim */
void viewer_print_sensors(viewer *v);    /* "sensor PATH FIELD <- ..." lines of the selection */
int viewer_field_sensor(void *user, tw_entity e, tw_component c, uint32_t field_index, char *out, size_t size);
int viewer_entity_quality(void *user, tw_entity e);
/* After a frame's ticks: the whole ticks still owed (beyond the catch-up cap or the frame's
 * budget) are dropped and counted in dropped_ticks rather than spiralling. */
void viewer_drop_backlog(viewer *v, double dt);

/* viewer_replay.c: twin view --replay. */
tw_status viewer_replay_open(viewer *v, tw_diag *diag);   /* session, player, the first seek */
void viewer_replay_close(viewer *v);
/* Seeks (clamped to the log's span) and rebuilds what held the old world;
 * prints "seek to ..." on the out stream. Errors go to the status line. */
tw_status viewer_replay_seek(viewer *v, uint64_t tick, const char *why);
/* Plays sim_dt simulated s of whole ticks (a frame's worth), stopping at the end of the log. */
tw_status viewer_replay_advance(viewer *v, double sim_dt);
tw_status viewer_replay_step(viewer *v);                  /* one tick (N, .) */
tw_status viewer_replay_alarm(viewer *v, int dir);        /* ] next, [ previous alarm event */
/* Lays out the timeline for the window's size (v->timeline_rect, v->timeline, v->bottom). */
void viewer_replay_layout(viewer *v);

/* viewer_ui.c: draws the HUD, the inspector, the help and the legend labels
 * into the canvas and lists the overlay rectangles. now: wall seconds. */
void viewer_ui_draw(viewer *v, double now);
int viewer_rect_contains(const viewer_rect *r, int x, int y);
/* "degC" → "°C", "m2" → "m²": units as people read them. */
const char *viewer_unit_display(const char *unit);
/* One reflected field's value as text ("21.5", "(1, 2, 3)", "open", a path). */
void viewer_format_field(const viewer *v, const void *data, const tw_field *f, char *out, size_t size);

#endif
