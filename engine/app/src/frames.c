/* Offscreen frames during a run (`twin run --frames-every S`): a renderer
 * and a target of their own, the view made from the run's world at the
 * first frame, one PNG each time the simulated clock passes a multiple of S.
 * `twin whatif --frames-at` uses the same renderer for both worlds, a view
 * each, and asks for each frame by name (tw_view_frames_write). Frames
 * coloured by a field get their colour bar labelled (legend_label.c). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "twin/app.h"
#include "twin/view.h"

struct tw_view_frames {
    tw_view_frames_desc d;
    tw_allocator alloc;
    tw_render *r;
    tw_render_target target;
    /* One view per world: a run has one, a what-if two (baseline and
     * scenario) drawn through the same renderer and target. */
    tw_view *views[2];
    tw_ecs_world *worlds[2]; /* the world each view was made from */
    tw_entity isolate[2];    /* desc.isolate_path resolved in that world */
    tw_render_camera cam;    /* tw_view_frames_write: the first frame's camera, kept for all */
    tw_render_frame_stats fs; /* the last frame's: where its legend went and the range it spans */
    int cam_set;
    char dir[1024];
    char isolate_path[TW_ECS_PATH_MAX];
    double next;             /* s of simulated time of the next frame */
    uint32_t written;
    int dir_made;
};

tw_status tw_view_frames_new(const tw_view_frames_desc *desc, tw_view_frames **out, tw_diag *diag)
{
    TW_CHECK(desc && desc->dir && out, "tw_view_frames_new needs a description with a directory, and somewhere to put the result.");
    *out = NULL;
    if (!(desc->every >= 0.0) || !isfinite(desc->every)) {
        tw_diag_set(diag, "frames need a positive interval of simulated time, got %g s", desc->every);
        return TW_ERR_INVALID;
    }
    tw_allocator a = tw_allocator_default();
    tw_view_frames *f = tw_calloc(&a, 1, sizeof *f);
    if (!f) {
        tw_diag_set(diag, "out of memory");
        return TW_ERR_NOMEM;
    }
    f->alloc = a;
    f->d = *desc;
    if (!f->d.width) f->d.width = 1280;
    if (!f->d.height) f->d.height = 720;
    snprintf(f->dir, sizeof f->dir, "%s", desc->dir);
    f->d.dir = f->dir;
    snprintf(f->isolate_path, sizeof f->isolate_path, "%s", desc->isolate_path ? desc->isolate_path : "");
    f->d.isolate_path = f->isolate_path;
    tw_render_desc rd = { .log = desc->log };
    tw_status st = tw_render_new(&rd, &f->r);
    if (st == TW_ERR_UNSUPPORTED) {
        tw_diag_set(diag, "no Vulkan device on this machine: frames need one (install mesa-vulkan-drivers for "
                          "the CPU renderer lavapipe)");
    } else if (st) {
        tw_diag_set(diag, "the renderer could not start: %s", tw_status_str(st));
    } else {
        tw_render_target_desc td = { .width = f->d.width, .height = f->d.height, .label = "frames" };
        if ((st = tw_render_target_create(f->r, &td, &f->target)))
            tw_diag_set(diag, "a %ux%u offscreen target could not be made: %s", f->d.width, f->d.height,
                        tw_status_str(st));
    }
    if (st) {
        tw_view_frames_free(f);
        return st;
    }
    *out = f;
    return TW_OK;
}

void tw_view_frames_free(tw_view_frames *f)
{
    if (!f) return;
    tw_view_free(f->views[0]);
    tw_view_free(f->views[1]);
    tw_render_free(f->r);
    tw_allocator a = f->alloc;
    tw_free(&a, f, sizeof *f);
}

uint32_t tw_view_frames_written(const tw_view_frames *f) { return f ? f->written : 0; }

/* The view of world w (made at its first frame, with the isolated storey
 * and the colour-by field checked there), in *slot. */
static tw_status frames_view(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, uint32_t *slot, tw_diag *diag)
{
    for (uint32_t k = 0; k < 2; k++)
        if (f->views[k] && f->worlds[k] == w) {
            *slot = k;
            return TW_OK;
        }
    /* A world not seen before takes a free slot, or the first one (a run
     * whose world was replaced). */
    uint32_t k = f->views[0] && !f->views[1] ? 1 : 0;
    tw_view_free(f->views[k]);
    f->views[k] = NULL;
    f->worlds[k] = NULL;
    tw_view *v;
    tw_status st = tw_view_new(f->r, w, sim, &v, diag);
    if (st) return st;
    tw_view_set_scene_path(v, f->d.scene_path); /* relative mesh files live beside the scene */
    const char *cb = f->d.style.colorby;
    if (cb && cb[0] && (st = tw_view_colorby_check(v, cb, diag))) {
        tw_view_free(v);
        return st;
    }
    tw_entity iso = f->d.style.isolate;
    if (f->isolate_path[0]) {
        iso = tw_ecs_lookup_path(w, f->isolate_path);
        if (tw_entity_is_null(iso) || !tw_ecs_has(w, iso, tw_sim_component_ids(sim)->storey)) {
            tw_diag_set(diag, "the storey to isolate \"%s\" is %s (storeys look like hq/office/floor-1)", f->isolate_path,
                        tw_entity_is_null(iso) ? "no entity of the scene" : "not a storey");
            tw_view_free(v);
            return TW_ERR_NOT_FOUND;
        }
    }
    f->views[k] = v;
    f->worlds[k] = w;
    f->isolate[k] = iso;
    *slot = k;
    return TW_OK;
}

/* Fills dl with the view in slot at simulated time t. keep_camera: the
 * first frame's camera for every later one (two worlds framed alike). */
static tw_status frames_build(tw_view_frames *f, uint32_t slot, int keep_camera, double t, tw_render_drawlist *dl,
                              tw_diag *diag)
{
    memset(dl, 0, sizeof *dl);
    float aspect = (float)f->d.width / (float)f->d.height;
    if (keep_camera && f->cam_set) {
        dl->camera = f->cam;
    } else {
        if (tw_view_camera_parse(f->views[slot], f->d.camera, aspect, &dl->camera)) {
            tw_diag_set(diag, "camera \"%s\" is neither a preset (home, top, front, side) nor ex,ey,ez,tx,ty,tz",
                        f->d.camera);
            return TW_ERR_INVALID;
        }
        if (keep_camera) {
            f->cam = dl->camera;
            f->cam_set = 1;
        }
    }
    tw_view_style style = f->d.style;
    style.isolate = f->isolate[slot];
    tw_status st = tw_view_build(f->views[slot], &style, 1.0, t, dl);
    if (st && st != TW_ERR_NOT_FOUND) {
        tw_diag_set(diag, "building the frame at %g s failed: %s", t, tw_status_str(st));
        return st;
    }
    return TW_OK;
}

static tw_status frames_render(tw_view_frames *f, const tw_render_drawlist *dl, double t, tw_diag *diag)
{
    memset(&f->fs, 0, sizeof f->fs);
    tw_status st = tw_render_frame(f->r, f->target, dl, &f->fs);
    if (st) tw_diag_set(diag, "rendering the frame at %g s failed: %s", t, tw_status_str(st));
    return st;
}

/* Writes the last frame of the view in slot, its colour bar labelled (the
 * field, its unit and the range the renderer used) when it has one. */
static tw_status frames_save(tw_view_frames *f, uint32_t slot, const char *path, tw_diag *diag)
{
    const char *cb = f->d.style.colorby;
    tw_view_legend lg = { .field = cb, .min = f->fs.value_min, .max = f->fs.value_max };
    memcpy(lg.rect, f->fs.legend_rect, sizeof lg.rect);
    int labelled = cb && cb[0] && lg.rect[2] > 0 && lg.rect[3] > 0;
    tw_ecs_field_ref ref;
    if (labelled && tw_ecs_field_resolve(f->worlds[slot], cb, &ref, NULL) == TW_OK) lg.unit = ref.field->unit;
    tw_status st = tw_view_frame_save_png(f->r, f->target, labelled ? &lg : NULL, &f->alloc, path, diag);
    if (st) return st == TW_ERR_NOMEM ? st : TW_ERR_IO;
    f->written++;
    return TW_OK;
}

/* Widens [lo, hi] to the values the renderer would colour in dl. */
static void value_range(const tw_render_drawlist *dl, float *lo, float *hi)
{
    for (uint32_t k = 0; k < dl->instance_count; k++) {
        const tw_render_instance *in = &dl->instances[k];
        if ((in->flags & (TW_RENDER_INST_VALUE | TW_RENDER_INST_HIDDEN)) != TW_RENDER_INST_VALUE || !isfinite(in->value))
            continue;
        if (in->value < *lo) *lo = in->value;
        if (in->value > *hi) *hi = in->value;
    }
}

tw_status tw_view_frames_attach(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, tw_diag *diag)
{
    TW_CHECK(f && w && sim, "tw_view_frames_attach needs the frames, a world and its sim.");
    uint32_t slot;
    return frames_view(f, w, sim, &slot, diag);
}

tw_status tw_view_frames_write(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, const char *path, tw_diag *diag)
{
    TW_CHECK(f && w && sim && path, "tw_view_frames_write needs the frames, a world, its sim and a file path.");
    uint32_t slot;
    tw_render_drawlist dl;
    double t = tw_sim_time(sim);
    tw_status st = frames_view(f, w, sim, &slot, diag);
    if (!st) st = frames_build(f, slot, 1, t, &dl, diag);
    if (!st) st = frames_render(f, &dl, t, diag);
    return st ? st : frames_save(f, slot, path, diag);
}

tw_status tw_view_frames_write_pair(tw_view_frames *f, tw_ecs_world *const w[2], const tw_sim *const sim[2],
                                   const char *const path[2], float range[2], tw_diag *diag)
{
    TW_CHECK(f && w && sim && path && w[0] && w[1] && w[0] != w[1] && sim[0] && sim[1] && path[0] && path[1],
             "tw_view_frames_write_pair needs the frames, two different worlds, their sims and two file paths.");
    uint32_t slot[2];
    tw_render_drawlist dl[2];
    tw_status st;
    for (int k = 0; k < 2; k++) {
        if ((st = frames_view(f, w[k], sim[k], &slot[k], diag))) return st;
    }
    /* Both views' lists at once: each view owns its instances until its next build. */
    for (int k = 0; k < 2; k++)
        if ((st = frames_build(f, slot[k], 1, tw_sim_time(sim[k]), &dl[k], diag))) return st;
    float lo = dl[0].colorby.min, hi = dl[0].colorby.max;
    if (dl[0].colorby.colormap != TW_RENDER_COLORMAP_NONE && !(hi != lo)) {
        /* One scale for both pictures, or equal colours would mean different values. */
        lo = INFINITY;
        hi = -INFINITY;
        value_range(&dl[0], &lo, &hi);
        value_range(&dl[1], &lo, &hi);
        if (!(lo <= hi)) lo = 0.0f, hi = 1.0f;
        if (!(hi > lo)) hi = lo + 1.0f;
        for (int k = 0; k < 2; k++) {
            dl[k].colorby.min = lo;
            dl[k].colorby.max = hi;
        }
    }
    if (range) {
        range[0] = lo;
        range[1] = hi;
    }
    for (int k = 0; k < 2; k++) {
        double t = tw_sim_time(sim[k]);
        if ((st = frames_render(f, &dl[k], t, diag)) || (st = frames_save(f, slot[k], path[k], diag))) return st;
    }
    return TW_OK;
}

tw_status tw_view_frames_tick(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, tw_diag *diag)
{
    TW_CHECK(f && w && sim, "tw_view_frames_tick needs the frames, a world and its sim.");
    if (!(f->d.every > 0.0)) return TW_OK; /* frames only when asked (tw_view_frames_write) */
    double t = tw_sim_time(sim), half = 0.5 * tw_sim_dt(sim);
    if (t + half < f->next) return TW_OK;
    while (f->next <= t + half) f->next += f->d.every;
    tw_status st;
    if (!f->dir_made) {
        if ((st = tw_app_make_dirs(f->dir, diag))) return st;
        f->dir_made = 1;
    }
    uint32_t slot;
    if ((st = frames_view(f, w, sim, &slot, diag))) return st;
    tw_render_drawlist dl;
    if ((st = frames_build(f, slot, 0, t, &dl, diag)) || (st = frames_render(f, &dl, t, diag))) return st;
    /* Names sort in time order: whole seconds zero-padded, or milliseconds
     * for sub-second intervals. */
    char path[1200];
    double rounded = floor(t + 0.5);
    if (f->d.every >= 1.0 && fabs(t - rounded) < half)
        snprintf(path, sizeof path, "%s/frame-%06.0f.png", f->dir, rounded);
    else
        snprintf(path, sizeof path, "%s/frame-%010.3f.png", f->dir, t);
    return frames_save(f, slot, path, diag);
}
