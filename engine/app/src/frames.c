/* Offscreen frames during a run (`twin run --frames-every S`): a renderer
 * and a target of their own, the view made from the run's world at the
 * first frame, one PNG each time the simulated clock passes a multiple of S. */
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
    tw_view *view;
    tw_ecs_world *world;     /* the world the view was made from */
    char dir[1024];
    double next;             /* s of simulated time of the next frame */
    uint32_t written;
    int dir_made;
};

tw_status tw_view_frames_new(const tw_view_frames_desc *desc, tw_view_frames **out, tw_diag *diag)
{
    TW_CHECK(desc && desc->dir && out, "tw_view_frames_new needs a description with a directory, and somewhere to put the result.");
    *out = NULL;
    if (!(desc->every > 0.0) || !isfinite(desc->every)) {
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
    tw_view_free(f->view);
    tw_render_free(f->r);
    tw_allocator a = f->alloc;
    tw_free(&a, f, sizeof *f);
}

uint32_t tw_view_frames_written(const tw_view_frames *f) { return f ? f->written : 0; }

tw_status tw_view_frames_tick(tw_view_frames *f, tw_ecs_world *w, const tw_sim *sim, tw_diag *diag)
{
    TW_CHECK(f && w && sim, "tw_view_frames_tick needs the frames, a world and its sim.");
    double t = tw_sim_time(sim), half = 0.5 * tw_sim_dt(sim);
    if (t + half < f->next) return TW_OK;
    while (f->next <= t + half) f->next += f->d.every;
    tw_status st;
    if (!f->dir_made) {
        if ((st = tw_app_make_dirs(f->dir, diag))) return st;
        f->dir_made = 1;
    }
    if (f->view && f->world != w) {
        tw_view_free(f->view);
        f->view = NULL;
    }
    if (!f->view) {
        if ((st = tw_view_new(f->r, w, sim, &f->view, diag))) return st;
        f->world = w;
    }
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    float aspect = (float)f->d.width / (float)f->d.height;
    if (tw_view_camera_parse(f->view, f->d.camera, aspect, &dl.camera)) {
        tw_diag_set(diag, "camera \"%s\" is neither a preset (home, top, front, side) nor ex,ey,ez,tx,ty,tz",
                    f->d.camera);
        return TW_ERR_INVALID;
    }
    st = tw_view_build(f->view, &f->d.style, 1.0, t, &dl);
    if (st && st != TW_ERR_NOT_FOUND) {
        tw_diag_set(diag, "building the frame at %g s failed: %s", t, tw_status_str(st));
        return st;
    }
    if ((st = tw_render_frame(f->r, f->target, &dl, NULL))) {
        tw_diag_set(diag, "rendering the frame at %g s failed: %s", t, tw_status_str(st));
        return st;
    }
    /* Names sort in time order: whole seconds zero-padded, or milliseconds
     * for sub-second intervals. */
    char path[1200];
    double rounded = floor(t + 0.5);
    if (f->d.every >= 1.0 && fabs(t - rounded) < half)
        snprintf(path, sizeof path, "%s/frame-%06.0f.png", f->dir, rounded);
    else
        snprintf(path, sizeof path, "%s/frame-%010.3f.png", f->dir, t);
    if ((st = tw_render_target_save_png(f->r, f->target, path))) {
        tw_diag_set(diag, "writing %s failed: %s", path, tw_status_str(st));
        return TW_ERR_IO;
    }
    f->written++;
    return TW_OK;
}
