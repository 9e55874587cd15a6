/* twin/view.h: what the renderer draws of a world. The app module turns the
 * ECS into the renderer's flat draw list (the renderer never sees the ECS).
 *
 * A tw_view borrows a renderer, a world and (optionally) its sim; all three
 * must outlive it. It owns the GPU meshes made from the world's Shapes and
 * the instance array it hands out in the draw list. Meshes and the static
 * elements' placement are read when the world's structure version changes
 * (entities or components added or removed); moving things (agents, parts:
 * their Body) and state (doors, alarms, data values) are read every build.
 * After editing a Shape or a static Transform in place, call
 * tw_view_invalidate.
 *
 * Pick ids are the entity's slot index + 1 (0: background). One thread at a
 * time; never build while a tick runs. */
#ifndef TWIN_VIEW_H
#define TWIN_VIEW_H

#include <stdint.h>

#include "twin/ecs.h"
#include "twin/render.h"
#include "twin/sim.h"
#include "twin/status.h"

typedef struct tw_view tw_view;

typedef struct tw_view_style {
    tw_entity selected;            /* outlined; null: none */
    tw_entity isolate;             /* a storey shown alone, the others faded (x-ray); null: all */
    const char *colorby;           /* "Thermal.temperature" or NULL/"" for none */
    int colormap;                  /* tw_render_colormap; 0 with colorby set: viridis */
    float range_min, range_max;    /* fixed colour range; equal: automatic over the visible values */
    int section;                   /* clip everything above section_height */
    float section_height;          /* m */
    int no_edges;                  /* element outlines off (wins over edges_always) */
    int edges_always;              /* outlines on every element; 0: by size on screen (the renderer's
                                      level of detail: none under 12 px, docs/rendering.md) */
    /* Data quality per entity (telemetry): returns 0 none, 1 good, 2 uncertain, 3 stale; NULL: none.
     * Stale entities get TW_RENDER_INST_STALE. */
    int (*quality)(void *user, tw_entity e);
    void *quality_user;
} tw_view_style;

/* Builds GPU meshes for every entity with a Shape (once; rebuilt when the
 * world's structure version changes). sim may be NULL (then no alarm states). */
tw_status tw_view_new(tw_render *r, tw_ecs_world *w, const tw_sim *sim, tw_view **out, tw_diag *diag);
void tw_view_free(tw_view *v);
/* Fills dl for this frame (instances owned by the view, valid until the next
 * call); camera and lights are left as the caller set them. alpha in [0,1]
 * interpolates agents between the previous and the current tick; time_s
 * drives the alarm pulse. No heap allocation in steady state.
 * Also sets dl->colorby (legend on while colouring), dl->section, dl->time
 * and the TW_RENDER_DRAW_NO_EDGES bit of dl->flags. Returns TW_ERR_NOT_FOUND
 * when style->colorby names no reflected field (the list is still filled,
 * without colour by data; tw_view_colorby_check says why). */
tw_status tw_view_build(tw_view *v, const tw_view_style *style, double alpha, double time_s, tw_render_drawlist *dl);
/* The entity a pick id (from tw_render_pick) stands for, or null. */
tw_entity tw_view_entity_from_pick(const tw_view *v, uint32_t pick_id);
/* Bounds of everything drawn (m). */
void tw_view_bounds(const tw_view *v, float min[3], float max[3]);
/* Camera presets over the bounds: "home" (3/4 view from the south-west), "top", "front", "side".
 * Returns TW_ERR_NOT_FOUND for an unknown name.
 * (Sets eye, target, up and ortho_height: "top" is an orthographic plan with
 * north up, the others are perspective; keeps fov_y and the planes.) */
tw_status tw_view_camera_preset(const tw_view *v, const char *name, float aspect, tw_render_camera *cam);

/* ---- additions ------------------------------------------------------------ */

/* Resolves a colour-by reference ("Thermal.temperature") against the view's
 * world; TW_ERR_NOT_FOUND with a "did you mean" in diag. NULL or "": TW_OK. */
tw_status tw_view_colorby_check(const tw_view *v, const char *colorby, tw_diag *diag);
/* Re-reads meshes and placements at the next build (after in-place edits of
 * Shape or Transform that changed no structure). */
void tw_view_invalidate(tw_view *v);

/* Mesh files (Shape kind "mesh"): a relative path resolves against dir (the
 * scene file's folder; copied; NULL or "": the working directory). Re-reads
 * the world at once, so tw_view_bounds and the camera presets include the
 * meshes. Until this is called (or the first tw_view_build, which then uses
 * the working directory), relative mesh files are not loaded. Each distinct
 * file is loaded once and its GPU mesh shared by every entity naming it. */
void tw_view_set_base_dir(tw_view *v, const char *dir);
/* The same with the folder of a scene file ("scenes/a.twin.json" -> "scenes"). */
void tw_view_set_scene_path(tw_view *v, const char *scene_path);

/* What the last build did, for tests, HUDs and benchmarks. */
typedef struct tw_view_stats {
    uint32_t instances;            /* in the draw list (hidden ones included) */
    uint32_t meshes;               /* GPU meshes the view owns */
    uint32_t rescans;              /* world re-reads since tw_view_new */
    uint64_t heap_allocations;     /* allocations by the view since tw_view_new */
    uint32_t warnings;             /* entities skipped (mesh files, bad shapes) at the last rescan */
    uint64_t triangles;            /* drawn by the last build (hidden instances left out) */
} tw_view_stats;
void tw_view_get_stats(const tw_view *v, tw_view_stats *out);

/* A camera from the command line: a preset name (tw_view_camera_preset) or
 * "ex,ey,ez,tx,ty,tz" (eye and target, m). TW_ERR_INVALID for anything else. */
tw_status tw_view_camera_parse(const tw_view *v, const char *spec, float aspect, tw_render_camera *cam);

/* ---- offscreen frames during a run (twin run --frames-every) ----------------- */

/* Writes dir/frame-<sim seconds>.png every `every` seconds of simulated time
 * through an offscreen renderer of its own. Made before the run (so a machine
 * without Vulkan fails at once); the view is made at the first frame from
 * the world it is given and kept while that world stays the same.
 * tw_view_free (and so tw_view_frames_free) touches only the renderer and
 * the view's own memory, so it may run after the world is gone. */
typedef struct tw_view_frames tw_view_frames;

typedef struct tw_view_frames_desc {
    const char *dir;               /* created (with parents) at the first frame */
    double every;                  /* s of simulated time between frames, > 0; 0: only tw_view_frames_write */
    uint32_t width, height;        /* pixels; 0: 1280 x 720 */
    const char *camera;            /* tw_view_camera_parse; NULL: "home" */
    tw_view_style style;           /* copied; colorby must outlive the frames */
    const tw_log *log;
    const char *scene_path;        /* relative mesh files resolve against its folder; must outlive the frames */
    /* A storey path (hq/office/floor-2) shown alone, resolved in each world
     * at its first frame (so it fits two worlds); overrides style.isolate.
     * Copied. NULL or "": style.isolate. */
    const char *isolate_path;
} tw_view_frames_desc;

/* TW_ERR_UNSUPPORTED: no Vulkan loader, driver or device at all. */
tw_status tw_view_frames_new(const tw_view_frames_desc *desc, tw_view_frames **out, tw_diag *diag);
void tw_view_frames_free(tw_view_frames *f);
/* Call at every tick boundary (before the first tick and after each one);
 * writes a frame when one is due at this simulated time. */
tw_status tw_view_frames_tick(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, tw_diag *diag);
/* Frames written so far. */
uint32_t tw_view_frames_written(const tw_view_frames *f);
/* Writes a frame of w now, to path (its folder must exist), whatever
 * `every` says (0: frames only through this call). Keeps a view for each of
 * up to two worlds (a what-if's baseline and scenario, through the one
 * renderer), and frames every picture with the first one's camera, so the
 * two worlds are seen alike. At a world's first frame, a colour-by field or
 * isolate_path it lacks is TW_ERR_NOT_FOUND (a field that is not a number:
 * TW_ERR_INVALID) with the reason in diag. */
tw_status tw_view_frames_write(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, const char *path, tw_diag *diag);
/* Frames of two worlds at once (a what-if's baseline and scenario, to
 * path[0] and path[1]): when colouring by data without a fixed range, both
 * pictures share one range over both worlds' values, so equal colours mean
 * equal values; range (may be NULL) receives the range used. */
tw_status tw_view_frames_write_pair(tw_view_frames *f, tw_ecs_world *const w[2], const tw_sim *const sim[2],
                                   const char *const path[2], float range[2], tw_diag *diag);
/* Makes w's view now, without drawing: checks the colour-by field and
 * isolate_path before a long run reaches its first frame. */
tw_status tw_view_frames_attach(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, tw_diag *diag);

/* ---- legend labels on headless frames (legend_label.c) ----------------------- */

/* What a frame's colour bar means. The renderer draws the bar alone; these
 * are its words, drawn with cairo onto the frame's pixels before they are
 * written (twin render, tw_view_frames, the what-if's frames). */
typedef struct tw_view_legend {
    const char *field;             /* "Thermal.temperature" */
    const char *unit;              /* as reflected ("degC", "ppm"), shown as people read it; NULL/"": none */
    float min, max;                /* the range the bar spans, low end (bottom, or left) to high end */
    float rect[4];                 /* x, y, width, height in pixels: tw_render_frame_stats.legend_rect */
} tw_view_legend;

/* "degC" -> "°C", "m2" -> "m²": a unit as people read it (UTF-8; NULL: ""). */
const char *tw_view_unit_display(const char *unit);
/* 1 when this build draws legend labels (cairo found at configure time);
 * 0: frames carry the bar without words. */
int tw_view_legend_available(void);
/* Draws the legend's words onto RGBA8 pixels (rows top-down, stride bytes
 * apart; 0: width * 4): field and unit above the bar, min and max at its
 * ends, a few round values with ticks between, dark on a pale panel that
 * leaves the bar itself untouched. A bar of no size, one too short for words
 * (a thumbnail's) or a range that is not finite draws nothing; words that
 * would fall off the frame are cut at its edge. TW_ERR_UNSUPPORTED without
 * cairo (pixels unchanged). */
tw_status tw_view_legend_draw(uint8_t *rgba, uint32_t width, uint32_t height, size_t stride,
                              const tw_view_legend *legend, tw_diag *diag);
/* Saves the target's last frame to path as PNG, with legend's words on it
 * when legend is not NULL and this build draws them. alloc (NULL: the
 * default) holds the copy of the pixels while they are labelled. */
tw_status tw_view_frame_save_png(tw_render *r, tw_render_target target, const tw_view_legend *legend,
                                 const tw_allocator *alloc, const char *path, tw_diag *diag);

#endif
