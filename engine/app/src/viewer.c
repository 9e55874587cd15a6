/* The desktop viewer: the window loop of `twin view`.
 *
 * One frame:
 *   1. input: script steps due at this frame, then the window's events
 *      (both through one handler, so a script drives exactly what a person
 *      does); held fly keys move the camera;
 *   2. simulation: tw_sim_advance(wall_dt x speed): whole ticks of the
 *      scene's dt, never a partial one, so the frame rate cannot change the
 *      simulation; a single step (N) runs one tick while paused;
 *   3. view: tw_view_build fills the draw list (agents interpolated with
 *      tw_sim_alpha); the orbit camera is set;
 *   4. overlay: the HUD, the inspector and the help drawn on the CPU
 *      (viewer_ui.c) into an RGBA bitmap the renderer blends over the frame;
 *   5. tw_render_frame draws and presents; a screenshot, when asked for, is
 *      the target's readback of that frame, HUD included.
 *
 * Picking uses the frame on screen: a click reads the id buffer of the last
 * frame drawn (tw_render_pick), which is the frame the user clicked on. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "twin/clock.h"
#include "viewer_internal.h"

#define VIEWER_LOG "viewer"

const viewer_colorby viewer_colorbys[] = {
    { NULL, "none", 0.0f, 0.0f },
    { "Thermal.temperature", "temperature", 16.0f, 30.0f },
    { "Air.co2", "CO2", 400.0f, 1500.0f },
    { "Space.occupants", "occupants", 0.0f, 8.0f },
};
const int viewer_colorby_count = (int)(sizeof viewer_colorbys / sizeof viewer_colorbys[0]);

static const float DEG = 0.017453292519943295f;
enum { CLICK_SLOP = 4 };  /* pixels a press may move and still be a click */

/* ---- small vector helpers ------------------------------------------------------ */

static void v3_set(float o[3], float x, float y, float z) { o[0] = x, o[1] = y, o[2] = z; }
static float v3_len(const float a[3]) { return sqrtf(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]); }
static void v3_norm(float a[3])
{
    float l = v3_len(a);
    if (l > 0.0f) a[0] /= l, a[1] /= l, a[2] /= l;
}

/* ---- the orbit camera ------------------------------------------------------------- */

static void orbit_eye_dir(const viewer_orbit *o, float d[3])
{
    float cp = cosf(o->pitch * DEG);
    v3_set(d, cp * cosf(o->yaw * DEG), cp * sinf(o->yaw * DEG), sinf(o->pitch * DEG));
}

static void orbit_to_camera(const viewer_orbit *o, tw_render_camera *cam)
{
    float d[3];
    orbit_eye_dir(o, d);
    memset(cam, 0, sizeof *cam);
    for (int k = 0; k < 3; k++) {
        cam->target[k] = o->target[k];
        cam->eye[k] = o->target[k] + d[k] * o->distance;
    }
    cam->fov_y = o->fov;
    /* Near and far follow the distance, so depth precision holds when
     * zoomed into a room and when the whole site is in view. */
    cam->near_plane = fminf(fmaxf(o->distance * 0.005f, 0.02f), 1.0f);
    cam->far_plane = fmaxf(2000.0f, o->distance * 20.0f);
}

static void orbit_from_camera(const tw_render_camera *cam, viewer_orbit *o)
{
    float d[3] = { cam->eye[0] - cam->target[0], cam->eye[1] - cam->target[1], cam->eye[2] - cam->target[2] };
    float len = v3_len(d);
    memcpy(o->target, cam->target, sizeof o->target);
    o->distance = len > 0.01f ? len : 10.0f;
    o->yaw = atan2f(d[1], d[0]) / DEG;
    o->pitch = len > 0.0f ? asinf(fmaxf(-1.0f, fminf(1.0f, d[2] / len))) / DEG : 30.0f;
    o->fov = cam->fov_y > 0.0f ? cam->fov_y : 45.0f;
}

/* forward (eye → target), right and up of the camera. */
static void orbit_basis(const viewer_orbit *o, float fwd[3], float right[3], float up[3])
{
    float d[3];
    orbit_eye_dir(o, d);
    v3_set(fwd, -d[0], -d[1], -d[2]);
    v3_set(right, fwd[1], -fwd[0], 0.0f); /* fwd x +z */
    if (v3_len(right) < 1e-4f) v3_set(right, -sinf(o->yaw * DEG), cosf(o->yaw * DEG), 0.0f);
    v3_norm(right);
    v3_set(up, right[1] * fwd[2] - right[2] * fwd[1], right[2] * fwd[0] - right[0] * fwd[2],
           right[0] * fwd[1] - right[1] * fwd[0]);
}

static void orbit_rotate(viewer_orbit *o, float dx, float dy)
{
    o->yaw = fmodf(o->yaw - dx * 0.3f, 360.0f);
    o->pitch = fmaxf(-85.0f, fminf(89.0f, o->pitch + dy * 0.3f));
}

static void orbit_pan(viewer_orbit *o, float dx, float dy, uint32_t height)
{
    float fwd[3], right[3], up[3];
    orbit_basis(o, fwd, right, up);
    /* One pixel at the target's distance, so the point under the pointer
     * follows it. */
    float s = 2.0f * o->distance * tanf(o->fov * 0.5f * DEG) / (float)(height ? height : 1);
    for (int k = 0; k < 3; k++) o->target[k] += -dx * s * right[k] + dy * s * up[k];
}

static void orbit_zoom(viewer_orbit *o, float notches)
{
    o->distance = fmaxf(0.3f, fminf(20000.0f, o->distance * powf(0.85f, notches)));
}

/* ---- entity bounds (focus) ------------------------------------------------------- */

static void bounds_add(float mn[3], float mx[3], const float a[3], const float b[3])
{
    for (int k = 0; k < 3; k++) {
        mn[k] = fminf(mn[k], fminf(a[k], b[k]));
        mx[k] = fmaxf(mx[k], fmaxf(a[k], b[k]));
    }
}

static float storey_elevation(const viewer *v, tw_entity storey)
{
    const Storey *s = tw_entity_is_null(storey) ? NULL : tw_ecs_get(v->world, storey, v->ids.storey);
    return s ? s->elevation : 0.0f;
}

/* The box an entity takes (its children's when it has no shape of its own).
 * Returns 0 when there is nothing to frame. */
static int entity_bounds(const viewer *v, tw_entity e, float mn[3], float mx[3], int depth)
{
    const Transform *t = tw_ecs_get(v->world, e, v->ids.transform);
    const Shape *sh = tw_ecs_get(v->world, e, v->ids.shape);
    const Body *b = tw_ecs_get(v->world, e, v->ids.body);
    float a[3], c[3];
    if (b) {
        const Agent *ag = tw_ecs_get(v->world, e, v->ids.agent);
        float z = ag && !tw_entity_is_null(ag->storey) ? storey_elevation(v, ag->storey) : t ? t->position[2] : 0.0f;
        v3_set(a, b->position[0] - 0.5f, b->position[1] - 0.5f, z);
        v3_set(c, b->position[0] + 0.5f, b->position[1] + 0.5f, z + 1.8f);
        bounds_add(mn, mx, a, c);
        return 1;
    }
    if (sh) {
        float z0 = t ? t->position[2] : 0.0f;
        if (sh->kind == TW_SHAPE_BOX && t) {
            float r = 0.5f * sqrtf(sh->size[0] * sh->size[0] + sh->size[1] * sh->size[1]); /* any yaw */
            v3_set(a, t->position[0] - r, t->position[1] - r, z0);
            v3_set(c, t->position[0] + r, t->position[1] + r, z0 + sh->size[2]);
            bounds_add(mn, mx, a, c);
            return 1;
        }
        if ((sh->kind == TW_SHAPE_EXTRUSION || sh->kind == TW_SHAPE_POLYLINE) && sh->point_count > 0) {
            float pad = sh->kind == TW_SHAPE_POLYLINE ? sh->thickness * 0.5f : 0.0f;
            uint32_t n = sh->point_count < TW_SHAPE_MAX_POINTS ? sh->point_count : TW_SHAPE_MAX_POINTS;
            for (uint32_t k = 0; k < n; k++) {
                v3_set(a, sh->points[k][0] - pad, sh->points[k][1] - pad, z0);
                v3_set(c, sh->points[k][0] + pad, sh->points[k][1] + pad, z0 + fmaxf(sh->height, 0.2f));
                bounds_add(mn, mx, a, c);
            }
            return 1;
        }
    }
    int any = 0;
    if (depth < 6)
        for (tw_entity ch = tw_ecs_entity_first_child(v->world, e); !tw_entity_is_null(ch);
             ch = tw_ecs_entity_next_sibling(v->world, ch))
            any |= entity_bounds(v, ch, mn, mx, depth + 1);
    if (!any && t) {
        v3_set(a, t->position[0] - 1.0f, t->position[1] - 1.0f, t->position[2]);
        v3_set(c, t->position[0] + 1.0f, t->position[1] + 1.0f, t->position[2] + 2.0f);
        bounds_add(mn, mx, a, c);
        any = 1;
    }
    return any;
}

static void focus_selection(viewer *v)
{
    if (tw_entity_is_null(v->selected)) {
        snprintf(v->status, sizeof v->status, "nothing selected: click an element first");
        return;
    }
    float mn[3] = { INFINITY, INFINITY, INFINITY }, mx[3] = { -INFINITY, -INFINITY, -INFINITY };
    if (!entity_bounds(v, v->selected, mn, mx, 0)) return;
    float d[3] = { mx[0] - mn[0], mx[1] - mn[1], mx[2] - mn[2] };
    float radius = 0.5f * v3_len(d);
    for (int k = 0; k < 3; k++) v->cam.target[k] = 0.5f * (mn[k] + mx[k]);
    v->cam.distance = fmaxf(2.0f, radius / sinf(v->cam.fov * 0.5f * DEG) * 1.15f);
}

/* ---- storeys: isolate and section ------------------------------------------------- */

static tw_entity lowest_storey(const viewer *v)
{
    tw_entity best = TW_ENTITY_NULL;
    float z = INFINITY;
    uint32_t cap = tw_ecs_entity_capacity(v->world);
    for (uint32_t i = 0; i < cap; i++) {
        tw_entity e = tw_ecs_entity_at(v->world, i);
        const Storey *s = tw_entity_is_null(e) ? NULL : tw_ecs_get(v->world, e, v->ids.storey);
        if (s && s->elevation < z) z = s->elevation, best = e;
    }
    return best;
}

static tw_entity selection_storey(const viewer *v)
{
    if (tw_entity_is_null(v->selected)) return TW_ENTITY_NULL;
    tw_entity s = tw_ecs_entity_ancestor_of_kind(v->world, v->selected, TW_KIND_STOREY);
    if (tw_entity_is_null(s)) {
        const Agent *ag = tw_ecs_get(v->world, v->selected, v->ids.agent);
        if (ag) s = ag->storey;
    }
    return s;
}

static void toggle_isolate(viewer *v)
{
    if (v->isolate) {
        v->isolate = 0;
        v->style.isolate = TW_ENTITY_NULL;
        snprintf(v->status, sizeof v->status, "all storeys shown");
        return;
    }
    tw_entity s = selection_storey(v);
    if (tw_entity_is_null(s)) {
        snprintf(v->status, sizeof v->status, "select something on a storey first, then I isolates that storey");
        return;
    }
    v->isolate = 1;
    v->style.isolate = s;
    snprintf(v->status, sizeof v->status, "x-ray: %s alone", tw_ecs_entity_name(v->world, s));
}

static void toggle_section(viewer *v)
{
    v->section = !v->section;
    if (v->section) {
        tw_entity s = v->isolate ? v->style.isolate : selection_storey(v);
        if (tw_entity_is_null(s)) s = lowest_storey(v);
        /* Cut where an architect cuts a plan: a little above the sills. */
        v->section_height = storey_elevation(v, s) + 1.2f;
    }
    snprintf(v->status, sizeof v->status, v->section ? "section at %.2f m ([ and ] move it)" : "section off",
             (double)v->section_height);
}

/* ---- selection, picking ------------------------------------------------------------ */

static void select_entity(viewer *v, tw_entity e, int print)
{
    v->selected = e;
    v->inspector_scroll = 0;
    if (!print) return;
    if (tw_entity_is_null(e)) {
        fprintf(v->out, "picked nothing\n");
    } else {
        char path[TW_ECS_PATH_MAX];
        if (tw_ecs_entity_path(v->world, e, path, sizeof path) < 0) snprintf(path, sizeof path, "(unnamed)");
        fprintf(v->out, "picked %s (%s)\n", path, tw_kind_name(tw_ecs_entity_kind(v->world, e)));
        v->result->picks++;
        viewer_print_sensors(v);
    }
    fflush(v->out);
}

static void pick_at(viewer *v, int x, int y)
{
    if (viewer_rect_contains(&v->inspector_rect, x, y) || (v->help && viewer_rect_contains(&v->help_rect, x, y)))
        return;
    if (x < 0 || y < 0) return;
    uint32_t id = 0;
    if (tw_render_pick(v->render, v->window, (uint32_t)x, (uint32_t)y, &id) != TW_OK) return;
    select_entity(v, tw_view_entity_from_pick(v->view, id), 1);
}

/* ---- screenshots ----------------------------------------------------------------------- */

static void next_screenshot_path(viewer *v)
{
    /* twin-screenshot-N.png in the working directory, never overwriting. */
    for (;;) {
        v->screenshot_counter++;
        snprintf(v->screenshot_path, sizeof v->screenshot_path, "twin-screenshot-%u.png", v->screenshot_counter);
        if (access(v->screenshot_path, F_OK) != 0) return;
    }
}

static void save_screenshot(viewer *v, double now)
{
    tw_status st = tw_render_target_save_png(v->render, v->window, v->screenshot_path);
    if (st == TW_OK) {
        v->result->screenshots++;
        snprintf(v->status, sizeof v->status, "saved %.180s", v->screenshot_path);
        TW_LOG(&v->log, TW_LOG_INFO, VIEWER_LOG, "screenshot %s", v->screenshot_path);
    } else {
        snprintf(v->status, sizeof v->status, "could not save %.160s", v->screenshot_path);
    }
    v->status_until = now + 3.0;
}

/* ---- input ---------------------------------------------------------------------------- */

static void change_speed(viewer *v, int dir)
{
    if (v->live) return; /* live telemetry: the sim follows the wall clock */
    v->speed = tw_viewer_speed_step(v->speed, dir);
}

static void cycle_colorby(viewer *v)
{
    for (int tries = 0; tries < viewer_colorby_count; tries++) {
        v->colorby_index = (v->colorby_index + 1) % viewer_colorby_count;
        const viewer_colorby *c = &viewer_colorbys[v->colorby_index];
        if (c->field && tw_view_colorby_check(v->view, c->field, NULL) != TW_OK) continue; /* not in this scene */
        v->style.colorby = c->field;
        v->style.range_min = c->min;
        v->style.range_max = c->max;
        snprintf(v->status, sizeof v->status, "colour by: %s", c->field ? c->field : "none");
        return;
    }
}

/* Outlines by size on screen (the renderer's level of detail), on every element, off. */
static void cycle_edges(viewer *v)
{
    if (v->style.no_edges) {
        v->style.no_edges = 0;
        v->style.edges_always = 0;
    } else if (v->style.edges_always) {
        v->style.no_edges = 1;
    } else {
        v->style.edges_always = 1;
    }
    snprintf(v->status, sizeof v->status, "outlines: %s",
             v->style.no_edges ? "off" : v->style.edges_always ? "on every element" : "by size on screen");
}

static void handle_key(viewer *v, const tw_platform_event *ev, double now)
{
    int k = ev->key;
    if (ev->type == TW_PLATFORM_EVENT_KEY_UP) {
        if (k >= 0 && k < 128) v->held[k] = 0;
        if (k == TW_KEY_SHIFT) v->mods &= ~(uint32_t)TW_MOD_SHIFT;
        return;
    }
    v->mods = ev->mods;
    if (k == TW_KEY_ESCAPE || (k == 'q' && (ev->mods & TW_MOD_CTRL))) {
        v->quit = 1;
        v->result->quit_by_user = 1;
        return;
    }
    /* Held keys fly; the rest act once per press. */
    if (k == 'w' || k == 'a' || k == 's' || k == 'd' || k == 'q' || k == 'e') {
        v->held[k] = 1;
        return;
    }
    if (ev->repeat && k != '=' && k != '-' && k != TW_KEY_KP_PLUS && k != TW_KEY_KP_MINUS && k != 'n' && k != '.' &&
        k != TW_KEY_KP_PERIOD && k != '[' && k != ']')
        return;
    int help = 0;
    switch (k) {
    case TW_KEY_SPACE:
        if (v->replay && v->at_end) {
            /* Playing never runs past the recorded end. */
            snprintf(v->status, sizeof v->status, "end of log: Home, [ or a click on the timeline goes back");
            break;
        }
        v->paused = !v->paused;
        snprintf(v->status, sizeof v->status, v->paused ? "paused" : v->replay ? "playing" : "running");
        break;
    case 'n':
    case '.':
    case TW_KEY_KP_PERIOD:
        v->paused = 1;
        v->step_requested++;
        break;
    case '=':
    case TW_KEY_KP_PLUS:
        change_speed(v, +1);
        snprintf(v->status, sizeof v->status, v->live ? "live telemetry: speed fixed at x1" : "speed x%g", v->speed);
        break;
    case '-':
    case TW_KEY_KP_MINUS:
        change_speed(v, -1);
        snprintf(v->status, sizeof v->status, v->live ? "live telemetry: speed fixed at x1" : "speed x%g", v->speed);
        break;
    case 'c': cycle_colorby(v); break;
    case 'o': cycle_edges(v); break;
    case 'i': toggle_isolate(v); break;
    case 'x': toggle_section(v); break;
    case '[':
    case ']':
        if (v->replay && !(v->section && (ev->mods & TW_MOD_SHIFT))) {
            v->alarm_request = k == ']' ? 1 : -1; /* the loop seeks */
            break;
        }
        if (v->section) {
            v->section_height += k == ']' ? 0.25f : -0.25f;
            snprintf(v->status, sizeof v->status, "section at %.2f m", (double)v->section_height);
        }
        break;
    case TW_KEY_HOME:
    case TW_KEY_END:
        if (v->replay) {
            v->seek_pending = (int64_t)(k == TW_KEY_HOME ? v->rp_first : v->rp_end);
            v->seek_why = k == TW_KEY_HOME ? "start" : "end";
        }
        break;
    case 'f': focus_selection(v); break;
    case 'h': v->cam = v->home; break;
    case 'p':
    case TW_KEY_F12:
        if (!v->screenshot) next_screenshot_path(v);
        v->screenshot = 1;
        break;
    case TW_KEY_F1:
    case '/': help = 1; break;
    default: return;
    }
    if (help) v->help = !v->help;
    v->status_until = v->status[0] ? now + 2.5 : 0.0;
}

static void handle_event(viewer *v, const tw_platform_event *ev, double now)
{
    switch (ev->type) {
    case TW_PLATFORM_EVENT_QUIT:
        v->quit = 1;
        v->result->quit_by_user = 1;
        break;
    case TW_PLATFORM_EVENT_KEY_DOWN:
    case TW_PLATFORM_EVENT_KEY_UP: handle_key(v, ev, now); break;
    case TW_PLATFORM_EVENT_MOUSE_DOWN:
        if (v->replay && ev->button == TW_BUTTON_LEFT && viewer_rect_contains(&v->timeline_rect, ev->x, ev->y)) {
            /* The timeline: a press seeks there, a drag scrubs; neither orbits nor picks. */
            v->scrubbing = 1;
            v->seek_pending = (int64_t)tw_viewer_timeline_tick_at(&v->timeline, ev->x);
            v->seek_why = "timeline";
            break;
        }
        v->buttons |= 1u << ev->button;
        v->mouse_x = v->press_x = ev->x;
        v->mouse_y = v->press_y = ev->y;
        v->press_button = ev->button;
        v->dragging = 0;
        break;
    case TW_PLATFORM_EVENT_MOUSE_MOVE: {
        int dx = ev->x - v->mouse_x, dy = ev->y - v->mouse_y;
        v->mouse_x = ev->x;
        v->mouse_y = ev->y;
        if (v->scrubbing) {
            v->seek_pending = (int64_t)tw_viewer_timeline_tick_at(&v->timeline, ev->x);
            v->seek_why = "scrub";
            break;
        }
        if (!v->buttons) break;
        if (!v->dragging && (abs(ev->x - v->press_x) > CLICK_SLOP || abs(ev->y - v->press_y) > CLICK_SLOP))
            v->dragging = 1;
        if (!v->dragging) break;
        if (v->buttons & (1u << TW_BUTTON_LEFT)) orbit_rotate(&v->cam, (float)dx, (float)dy);
        else orbit_pan(&v->cam, (float)dx, (float)dy, v->height);
        break;
    }
    case TW_PLATFORM_EVENT_MOUSE_UP: {
        if (v->scrubbing && ev->button == TW_BUTTON_LEFT) {
            v->scrubbing = 0;
            v->mouse_x = ev->x;
            v->mouse_y = ev->y;
            break;
        }
        int was_held = (v->buttons >> ev->button) & 1u;
        v->buttons &= ~(1u << ev->button);
        v->mouse_x = ev->x;
        v->mouse_y = ev->y;
        if (was_held && !v->dragging && ev->button == TW_BUTTON_LEFT && v->press_button == TW_BUTTON_LEFT)
            pick_at(v, ev->x, ev->y);
        if (!v->buttons) v->dragging = 0;
        break;
    }
    case TW_PLATFORM_EVENT_WHEEL: {
        int x = ev->x >= 0 ? ev->x : v->mouse_x, y = ev->y >= 0 ? ev->y : v->mouse_y;
        if (viewer_rect_contains(&v->inspector_rect, x, y)) {
            v->inspector_scroll -= (int)lroundf(ev->wheel * 3.0f);
            if (v->inspector_scroll < 0) v->inspector_scroll = 0;
        } else {
            orbit_zoom(&v->cam, ev->wheel);
        }
        break;
    }
    case TW_PLATFORM_EVENT_RESIZE:
        v->width = ev->width;
        v->height = ev->height;
        tw_render_window_resize(v->render, v->window, ev->width, ev->height);
        break;
    default: break;
    }
}

static void apply_step(viewer *v, const tw_viewer_step *s, double now)
{
    switch (s->command) {
    case TW_VIEWER_INPUT: {
        tw_platform_event ev = s->ev;
        if (ev.type == TW_PLATFORM_EVENT_MOUSE_MOVE) ev.buttons = v->buttons;
        handle_event(v, &ev, now);
        break;
    }
    case TW_VIEWER_RESIZE: tw_platform_set_size(v->platform, s->ev.width, s->ev.height); break;
    case TW_VIEWER_SCREENSHOT:
        if (s->arg[0]) snprintf(v->screenshot_path, sizeof v->screenshot_path, "%s", s->arg);
        else next_screenshot_path(v);
        v->screenshot = 1;
        break;
    case TW_VIEWER_QUIT: v->quit = 1; break;
    }
}

/* WASD flies along the view, Q/E down and up; Shift is four times faster. */
static void fly(viewer *v, double dt)
{
    float fwd[3], right[3], up[3];
    orbit_basis(&v->cam, fwd, right, up);
    float f = (float)(v->held['w'] - v->held['s']), r = (float)(v->held['d'] - v->held['a']);
    float z = (float)(v->held['e'] - v->held['q']);
    if (f == 0.0f && r == 0.0f && z == 0.0f) return;
    float speed = fmaxf(1.5f, v->cam.distance * 0.6f) * ((v->mods & TW_MOD_SHIFT) ? 4.0f : 1.0f) * (float)dt;
    for (int k = 0; k < 3; k++) v->cam.target[k] += (f * fwd[k] + r * right[k]) * speed;
    v->cam.target[2] += z * speed;
}

/* ---- setup ------------------------------------------------------------------------------ */

/* ---- the simulation and its telemetry ----------------------------------------------------- */

/* Keeps the alarm transitions of the last tick in the ring, then clears them. */
void viewer_take_events(viewer *v)
{
    uint32_t n;
    const tw_sim_event *ev = tw_sim_events(v->sim, &n);
    for (uint32_t i = 0; i < n; i++) {
        viewer_alarm *a = &v->alarms[v->alarm_count % VIEWER_ALARMS];
        a->time = ev[i].time;
        a->state = ev[i].state;
        a->value = ev[i].value;
        if (tw_ecs_entity_path(v->world, ev[i].target, a->target, sizeof a->target) < 0) a->target[0] = '\0';
        v->alarm_count++;
    }
    tw_sim_events_clear(v->sim);
}

/* One tick, as `twin run` does it: the samples measured up to now, then the systems. */
static tw_status sim_tick(viewer *v)
{
    /* With --record, as `twin run --record` does: the keyframe when one is
     * due, the samples as applied, then the tick's alarm events. */
    uint64_t tick = tw_sim_tick(v->sim);
    app_recording_before_tick(&v->rec, &v->tel, v->sim, tick);
    if (v->tel.b) {
        tw_status bst = tw_bind_apply_until(v->tel.b, v->world, tw_sim_time(v->sim));
        if (bst != TW_OK && !v->source_failed) {
            v->source_failed = 1;
            TW_LOG(&v->log, TW_LOG_WARN, "telemetry", "a telemetry source stopped (%s); the view goes on without it",
                   tw_status_str(bst));
        }
        app_recording_applied(&v->rec, &v->tel, tick);
    }
    tw_status st = tw_sim_step(v->sim);
    app_recording_after_tick(&v->rec, v->sim, tick);
    viewer_take_events(v);
    return st;
}

void viewer_drop_backlog(viewer *v, double dt)
{
    if (v->accumulator >= dt) {
        uint64_t behind = (uint64_t)(v->accumulator / dt);
        v->dropped_ticks += behind;
        v->accumulator -= (double)behind * dt;
    }
}

/* Runs the whole ticks that sim_dt (simulated s) adds up to, like
 * tw_sim_advance: at most max_catchup, the rest of a backlog dropped and
 * counted rather than spiralling. */
static tw_status sim_advance(viewer *v, double sim_dt)
{
    if (!(sim_dt > 0.0)) return TW_OK;
    double dt = tw_sim_dt(v->sim);
    v->accumulator += sim_dt;
    uint32_t ran = 0;
    while (v->accumulator >= dt && ran < v->max_catchup) {
        tw_status st = sim_tick(v);
        if (st != TW_OK) return st;
        v->accumulator -= dt;
        ran++;
    }
    viewer_drop_backlog(v, dt);
    return TW_OK;
}

/* tw_view_style.quality: the worst quality of the entity's bindings. */
int viewer_entity_quality(void *user, tw_entity e)
{
    const viewer *v = user;
    const tw_bind *b = viewer_binder(v);
    return b ? (int)tw_bind_entity_quality(b, e) : 0;
}

/* The inspector's row under a field: the sensor bound to it, its last
 * value, quality and (assimilate, observe) residual. */
int viewer_field_sensor(void *user, tw_entity e, tw_component c, uint32_t field_index, char *out, size_t size)
{
    const viewer *v = user;
    const tw_bind *b = viewer_binder(v);
    if (!b) return 0;
    const tw_ecs_component_info *info = tw_ecs_component_get_info(v->world, c);
    if (!info || field_index >= info->field_count) return 0;
    const tw_field *fd = &info->fields[field_index];
    size_t cl = strlen(info->name), fl = strlen(fd->name);
    uint32_t nb = tw_bind_binding_count(b);
    for (uint32_t i = 0; i < nb; i++) {
        tw_bind_binding_info bi;
        if (!tw_bind_binding_get(b, i, &bi) || !tw_entity_eq(bi.entity, e) || !bi.field) continue;
        /* "Component.field" or "Component.field[k]" */
        if (strncmp(bi.field, info->name, cl) || bi.field[cl] != '.' || strncmp(bi.field + cl + 1, fd->name, fl) ||
            (bi.field[cl + 1 + fl] != '\0' && bi.field[cl + 1 + fl] != '['))
            continue;
        const char *unit = viewer_unit_display(fd->unit);
        int n;
        if (isnan(bi.last_time))
            n = snprintf(out, size, "%s  no data yet", bi.sensor ? bi.sensor : "?");
        else
            n = snprintf(out, size, "%s  %.4g%s%s  %s", bi.sensor ? bi.sensor : "?", bi.last_value, unit[0] ? " " : "",
                         unit, tw_bind_quality_name(bi.quality));
        if (n > 0 && (size_t)n < size && bi.mode != TW_BIND_SET && bi.residual_count > 0)
            snprintf(out + n, size - (size_t)n, "  res %+.3g", bi.residual_last); /* measured - simulated */
        else if (n > 0 && (size_t)n < size && bi.mode != TW_BIND_SET)
            snprintf(out + n, size - (size_t)n, "  %s", tw_bind_mode_name(bi.mode));
        return 1;
    }
    return 0;
}

/* One line a bound field of the selection, on the out stream (after a pick
 * or a seek), so scripts and tests see what the inspector shows. */
void viewer_print_sensors(viewer *v)
{
    if (!v->sensor || tw_entity_is_null(v->selected) || !tw_ecs_entity_alive(v->world, v->selected)) return;
    char path[TW_ECS_PATH_MAX], line[192];
    if (tw_ecs_entity_path(v->world, v->selected, path, sizeof path) < 0) return;
    tw_component comps[TW_ECS_MAX_COMPONENTS];
    uint32_t nc = tw_ecs_entity_components(v->world, v->selected, comps, TW_ECS_MAX_COMPONENTS);
    if (nc > TW_ECS_MAX_COMPONENTS) nc = TW_ECS_MAX_COMPONENTS;
    for (uint32_t c = 0; c < nc; c++) {
        const tw_ecs_component_info *info = tw_ecs_component_get_info(v->world, comps[c]);
        for (uint32_t f = 0; info && f < info->field_count; f++)
            if (v->sensor(v->sensor_user, v->selected, comps[c], f, line, sizeof line))
                fprintf(v->out, "sensor %s %s.%s <- %s (tick %llu)\n", path, info->name, info->fields[f].name, line,
                        (unsigned long long)tw_sim_tick(v->sim));
    }
    fflush(v->out);
}

/* ---- setup ------------------------------------------------------------------------------ */

static tw_status open_world(viewer *v, tw_diag *diag)
{
    const tw_viewer_desc *d = v->desc;
    if (d->replay_path) return viewer_replay_open(v, diag);
    tw_app_open_desc od = { .scene_path = d->scene_path, .has_seed = d->has_seed, .seed = d->seed, .log = d->log };
    /* The same setup as `twin run`: the binder fixes the anchor, the sim starts there. */
    tw_status st = app_session_open_telemetry(&od, d->mqtt_url, d->bindings, d->bindings_count, d->telemetry,
                                              d->mqtt_url ? 0u : d->telemetry_count, d->record_log != NULL,
                                              &v->session, &v->tel, diag);
    if (st != TW_OK) return st;
    v->tel_open = 1;
    v->world = v->session.world;
    v->sim = v->session.sim;
    v->ids = *tw_sim_component_ids(v->sim);
    v->start_time = v->session.scene.settings.start_time;
    v->max_catchup = v->session.scene.settings.max_catchup_steps ? v->session.scene.settings.max_catchup_steps : 10;
    if (v->tel.b) {
        v->live = d->mqtt_url != NULL;
        if (v->live) v->speed = 1.0;
        v->style.quality = viewer_entity_quality;
        v->style.quality_user = v;
        v->sensor = viewer_field_sensor;
        v->sensor_user = v;
    }
    /* Recording starts at tick 0, so a --at prologue is in the log too. */
    if (d->record_log && (st = app_recording_open(&v->rec, d->record_log, 0, &v->session, &v->log, diag)) != TW_OK)
        return st;
    if (d->at > 0.0) {
        TW_LOG(&v->log, TW_LOG_INFO, VIEWER_LOG, "simulating headless to %.0f s before the window opens", d->at);
        while (tw_sim_time(v->sim) < d->at - 1e-9) {
            if (d->cancel && *d->cancel) return TW_OK;
            st = sim_tick(v);
            if (st != TW_OK) {
                tw_diag_set(diag, "the simulation failed at %.1f s: %s", tw_sim_time(v->sim), tw_status_str(st));
                return st;
            }
        }
    }
    return TW_OK;
}

/* The view of v->world (a replay's seek makes a new world, and calls this again). */
tw_status viewer_view_new(viewer *v, tw_diag *diag)
{
    const tw_viewer_desc *d = v->desc;
    tw_status st = tw_view_new(v->render, v->world, v->sim, &v->view, diag);
    if (st != TW_OK) return st;
    tw_view_set_scene_path(v->view, d->scene_path); /* relative mesh files live beside the scene */
    return TW_OK;
}

static tw_status open_window(viewer *v, tw_diag *diag)
{
    const tw_viewer_desc *d = v->desc;
    char title[160];
    snprintf(title, sizeof title, "twin view - %s", v->session.scene.name);
    tw_platform_desc pd = { .title = title, .width = d->width, .height = d->height, .alloc = &v->alloc, .log = &v->log };
    tw_status st = tw_platform_new(&pd, &v->platform, diag);
    if (st != TW_OK) return st;
    const char *const *exts;
    uint32_t next;
    tw_platform_vulkan_extensions(v->platform, &exts, &next);
    tw_render_desc rd = { .log = &v->log, .instance_extensions = exts, .instance_extension_count = next };
    st = tw_render_new(&rd, &v->render);
    if (st != TW_OK) {
        tw_diag_set(diag, st == TW_ERR_UNSUPPORTED
                              ? "no Vulkan device: install a driver (Debian: mesa-vulkan-drivers provides lavapipe)"
                              : "the renderer could not start (%s); run with --log debug for details",
                    tw_status_str(st));
        return st == TW_ERR_NOT_FOUND ? TW_ERR_UNSUPPORTED : st;
    }
    tw_platform_drawable_size(v->platform, &v->width, &v->height);
    int vsync = d->vsync > 0 || (d->vsync == 0 && d->frames == 0);
    tw_render_window_desc wd = { .create_surface = tw_platform_create_surface, .user = v->platform,
                                 .width = v->width, .height = v->height, .vsync = vsync, .label = "viewer" };
    st = tw_render_window_create(v->render, &wd, &v->window);
    if (st != TW_OK) {
        tw_diag_set(diag, "cannot present to the window on this Vulkan device (%s)", tw_status_str(st));
        return st;
    }
    st = viewer_view_new(v, diag);
    if (st != TW_OK) return st;

    tw_platform_font_desc fd = { .path = d->font_path, .size_px = 14, .alloc = &v->alloc };
    st = tw_platform_font_open(&fd, &v->font, diag);
    if (st == TW_OK) {
        fd.path = d->font_path ? d->font_path : TW_PLATFORM_FONT_BOLD;
        st = tw_platform_font_open(&fd, &v->bold, diag);
    }
    if (st == TW_OK) {
        fd.path = d->font_path ? d->font_path : TW_PLATFORM_FONT_MONO;
        fd.size_px = 12;
        st = tw_platform_font_open(&fd, &v->mono, diag);
    }
    if (st != TW_OK) return st;
    v->line = tw_platform_font_line_height(v->font);

    /* The home view: the preset over everything drawn. */
    tw_render_camera cam = { .fov_y = 45.0f };
    float aspect = v->height ? (float)v->width / (float)v->height : 1.6f;
    tw_view_camera_preset(v->view, "home", aspect, &cam);
    orbit_from_camera(&cam, &v->home);
    v->cam = v->home;
    return TW_OK;
}

static tw_status ensure_canvas(viewer *v)
{
    size_t need = (size_t)v->width * v->height * 4;
    if (need <= v->canvas_size && v->canvas) return TW_OK;
    uint8_t *c = tw_calloc(&v->alloc, need ? need : 4, 1);
    if (!c) return TW_ERR_NOMEM;
    tw_free(&v->alloc, v->canvas, v->canvas_size);
    v->canvas = c;
    v->canvas_size = need ? need : 4;
    return TW_OK;
}

/* Mean milliseconds per drawn frame spent in one phase of the loop. */
static double per(const viewer *v, int phase)
{
    return v->result->frames ? v->phase_ms[phase] / (double)v->result->frames : 0.0;
}

static void print_stats(viewer *v, const tw_render_counters *c)
{
    tw_viewer_result *r = v->result;
    fprintf(v->out,
            "stats frames=%llu presented=%llu skipped=%llu wall=%.2fs fps=%.1f sim_time=%.1f picks=%u "
            "screenshots=%u swapchain_rebuilds=%u validation_messages=%u validation_errors=%u "
            "ms_sim=%.2f ms_view=%.2f ms_hud=%.2f ms_render=%.2f records_per_frame=%.1f tick=%llu "
            "state_hash=%016llx\n",
            (unsigned long long)r->frames, (unsigned long long)c->frames_presented,
            (unsigned long long)c->frames_skipped, r->wall_time,
            r->wall_time > 0 ? (double)r->frames / r->wall_time : 0.0, r->sim_time, r->picks, r->screenshots,
            c->swapchain_rebuilds, c->validation_messages, c->validation_errors, per(v, 0), per(v, 1), per(v, 2),
            per(v, 3), r->frames ? (double)v->records_uploaded / (double)r->frames : 0.0,
            (unsigned long long)(v->sim ? tw_sim_tick(v->sim) : 0), (unsigned long long)r->state_hash);
    if (v->replay)
        fprintf(v->out, "replay log=%s first_tick=%llu end_tick=%llu seeks=%u speed=%g dropped_ticks=%llu\n", v->rp_name,
                (unsigned long long)v->rp_first, (unsigned long long)v->rp_end, r->seeks, v->speed,
                (unsigned long long)v->dropped_ticks);
    const tw_bind *b = viewer_binder(v);
    if (b) {
        const tw_bind_counters *t = tw_bind_get_counters(b);
        fprintf(v->out,
                "telemetry received=%llu applied=%llu rejected=%llu late=%llu duplicate=%llu unknown=%llu "
                "pending=%llu stale_fields=%llu alarm_events=%u dropped_ticks=%llu\n",
                (unsigned long long)t->received, (unsigned long long)t->applied, (unsigned long long)t->rejected,
                (unsigned long long)t->late, (unsigned long long)t->duplicate, (unsigned long long)t->unknown_sensor,
                (unsigned long long)t->pending, (unsigned long long)t->stale_fields, v->alarm_count,
                (unsigned long long)v->dropped_ticks);
    }
    fflush(v->out);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static tw_status run_loop(viewer *v)
{
    const tw_viewer_desc *d = v->desc;
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    double start = tw_clock_monotonic_s(), last = start;
    tw_status st = TW_OK;
    while (!v->quit) {
        if (d->cancel && *d->cancel) break;
        double now = tw_clock_monotonic_s();
        double real_dt = now - last;
        last = now;
        double dt = d->frame_dt > 0.0 ? d->frame_dt : fmin(real_dt, 0.25);

        while (v->script_pos < v->script.count && v->script.steps[v->script_pos].frame <= v->frame)
            apply_step(v, &v->script.steps[v->script_pos++], now);
        tw_platform_event ev;
        while (tw_platform_poll(v->platform, &ev)) {
            if (v->record && (ev.type != TW_PLATFORM_EVENT_MOUSE_MOVE || v->buttons))
                tw_viewer_script_write_event(v->record, v->frame, &ev);
            handle_event(v, &ev, now);
        }
        if (v->quit) break;
        fly(v, dt);

        /* A replay's seeks asked for by this frame's input (the timeline,
         * Home/End, [ ]): one each, however many events asked. */
        double c0 = tw_clock_monotonic_s();
        if (v->replay && v->seek_pending >= 0) {
            uint64_t to = (uint64_t)v->seek_pending;
            v->seek_pending = -1;
            if ((st = viewer_replay_seek(v, to, v->seek_why)) != TW_OK) return st;
        }
        if (v->replay && v->alarm_request) {
            int dir = v->alarm_request;
            v->alarm_request = 0;
            if ((st = viewer_replay_alarm(v, dir)) != TW_OK) return st;
        }
        if (!tw_entity_is_null(v->selected) && !tw_ecs_entity_alive(v->world, v->selected))
            v->selected = TW_ENTITY_NULL;

        /* The simulation: whole ticks only, paced by wall time x speed. */
        double t0 = tw_sim_time(v->sim);
        if (!v->paused)
            st = v->replay ? viewer_replay_advance(v, dt * v->speed) : sim_advance(v, dt * v->speed);
        if (st != TW_OK) return st;
        for (; v->step_requested > 0; v->step_requested--) {
            st = v->replay ? viewer_replay_step(v) : sim_tick(v);
            if (st != TW_OK) return st;
        }
        /* Paused, a recording still reaches the disk within the recorder's interval. */
        if (v->rec.rec && !v->rec.failed && v->paused)
            v->rec.failed = tw_replay_recorder_tick(v->rec.rec, tw_sim_tick(v->sim));
        if (dt > 0.0 && !v->paused) {
            double a = (tw_sim_time(v->sim) - t0) / dt;
            v->achieved = v->achieved > 0.0 ? v->achieved * 0.9 + a * 0.1 : a;
        }

        if (v->width == 0 || v->height == 0) {
            /* Minimised: nothing to draw; wait for the window to come back. */
            tw_platform_wait(v->platform, 50);
            v->frame++;
            if (d->frames && v->frame >= d->frames) break;
            continue;
        }
        if ((st = ensure_canvas(v)) != TW_OK) return st;
        viewer_replay_layout(v);

        double c1 = tw_clock_monotonic_s();
        v->style.selected = v->selected;
        v->style.section = v->section;
        v->style.section_height = v->section_height;
        tw_status vs = tw_view_build(v->view, &v->style, v->accumulator / tw_sim_dt(v->sim), tw_sim_time(v->sim),
                                     &dl);
        if (vs != TW_OK && vs != TW_ERR_NOT_FOUND) return vs;
        orbit_to_camera(&v->cam, &dl.camera);
        if (dl.colorby.colormap != TW_RENDER_COLORMAP_NONE) {
            /* A horizontal bar at the bottom centre; its labels are HUD text. */
            float w = fminf(320.0f, (float)v->width * 0.4f);
            dl.colorby.legend = 1;
            dl.colorby.legend_rect[0] = roundf(((float)v->width - w) * 0.5f);
            dl.colorby.legend_rect[1] = (float)v->height - 40.0f - (float)v->bottom;
            dl.colorby.legend_rect[2] = roundf(w);
            dl.colorby.legend_rect[3] = 12.0f;
        }
        double c2 = tw_clock_monotonic_s();
        viewer_ui_draw(v, now);
        dl.overlay = &v->overlay;
        double c3 = tw_clock_monotonic_s();
        st = tw_render_frame(v->render, v->window, &dl, &v->last_stats);
        if (st != TW_OK) return st;
        double c4 = tw_clock_monotonic_s();
        v->phase_ms[0] += (c1 - c0) * 1e3;
        v->phase_ms[1] += (c2 - c1) * 1e3;
        v->phase_ms[2] += (c3 - c2) * 1e3;
        v->phase_ms[3] += (c4 - c3) * 1e3;
        v->records_uploaded += v->last_stats.records_uploaded;
        if (v->last_stats.presented) v->result->presented++;
        if (real_dt > 0.0) {
            v->frame_ms = v->frame_ms > 0.0 ? v->frame_ms * 0.9 + real_dt * 1e3 * 0.1 : real_dt * 1e3;
            v->fps = 1e3 / v->frame_ms;
        }
        if (v->screenshot) {
            save_screenshot(v, now);
            v->screenshot = 0;
        }
        v->frame++;
        v->result->frames++;
        if (d->frames && v->frame >= d->frames) break;
    }
    v->result->wall_time = tw_clock_monotonic_s() - start;
    return TW_OK;
}

tw_status tw_viewer_run(const tw_viewer_desc *desc, tw_viewer_result *result, tw_diag *diag)
{
    TW_CHECK(desc && desc->scene_path && result, "tw_viewer_run needs a desc with a scene path and a result.");
    memset(result, 0, sizeof *result);
    tw_allocator alloc = tw_allocator_default();
    viewer *v = tw_calloc(&alloc, 1, sizeof *v);
    if (!v) return TW_ERR_NOMEM;
    v->desc = desc;
    v->alloc = alloc;
    if (desc->log) v->log = *desc->log;
    v->out = desc->out ? desc->out : stdout;
    v->result = result;
    v->speed = desc->speed > 0.0 ? desc->speed : 1.0;
    v->paused = desc->paused;

    tw_status st = TW_OK;
    if (desc->script_path) st = tw_viewer_script_load(desc->script_path, &v->alloc, &v->script, diag);
    if (st == TW_OK) st = open_world(v, diag);
    if (st == TW_OK && desc->select) {
        tw_entity e = tw_ecs_lookup_path(v->world, desc->select);
        if (tw_entity_is_null(e)) {
            tw_diag_set(diag, "--select: no entity at the path \"%s\"", desc->select);
            st = TW_ERR_NOT_FOUND;
        } else {
            v->selected = e;
        }
    }
    if (st == TW_OK && !(desc->cancel && *desc->cancel)) st = open_window(v, diag);
    v->style.no_edges = desc->edges < 0;
    v->style.edges_always = desc->edges > 0;
    if (st == TW_OK && desc->colorby && desc->colorby[0]) {
        st = tw_view_colorby_check(v->view, desc->colorby, diag);
        v->colorby_index = 0;
        for (int k = 1; k < viewer_colorby_count; k++)
            if (!strcmp(viewer_colorbys[k].field, desc->colorby)) v->colorby_index = k;
        v->style.colorby = desc->colorby;
        v->style.range_min = viewer_colorbys[v->colorby_index].min;
        v->style.range_max = viewer_colorbys[v->colorby_index].max;
    }
    if (st == TW_OK && desc->record_path) {
        v->record = fopen(desc->record_path, "w");
        if (!v->record) {
            tw_diag_set(diag, "cannot write the script %s", desc->record_path);
            st = TW_ERR_IO;
        } else {
            fprintf(v->record, "# twin view script, recorded from %s in a %ux%u window\n", desc->scene_path,
                    v->width, v->height);
        }
    }
    if (st == TW_OK && !(desc->cancel && *desc->cancel)) st = run_loop(v);
    if (st != TW_OK && diag && !diag->message[0]) tw_diag_set(diag, "the viewer stopped: %s", tw_status_str(st));

    if (st == TW_OK && v->render && desc->screenshot_path && result->frames > 0) {
        if (tw_render_target_save_png(v->render, v->window, desc->screenshot_path) == TW_OK) {
            result->screenshots++;
        } else {
            tw_diag_set(diag, "cannot write the screenshot %s", desc->screenshot_path);
            st = TW_ERR_IO;
        }
    }
    if (v->sim) {
        result->sim_time = tw_sim_time(v->sim);
        result->state_hash = tw_sim_state_hash(v->sim);
    }
    result->dropped_ticks = v->dropped_ticks;
    result->alarm_events = v->alarm_count;
    if (v->rec.rec) {
        /* Whatever ended the session (quit, Esc, SIGINT, --frames): the log is closed properly. */
        uint64_t bytes = 0;
        tw_diag rd;
        tw_diag_clear(&rd);
        tw_status rst = app_recording_close(&v->rec, &v->tel, v->sim, &bytes, NULL, &rd);
        if (rst != TW_OK && st == TW_OK) {
            if (diag) *diag = rd;
            st = rst;
        } else if (rst == TW_OK) {
            fprintf(v->out, "recorded %s ticks=%llu bytes=%llu\n", desc->record_log,
                    (unsigned long long)tw_sim_tick(v->sim), (unsigned long long)bytes);
        }
    }
    if (v->record) fclose(v->record);
    tw_view_free(v->view);
    if (v->render) {
        if (v->window.id) tw_render_target_destroy(v->render, v->window);
        tw_render_wait_idle(v->render);
        tw_render_counters c;
        tw_render_get_counters(v->render, &c);
        result->validation_messages = c.validation_messages;
        result->validation_errors = c.validation_errors;
        result->swapchain_rebuilds = c.swapchain_rebuilds;
        if (desc->stats) print_stats(v, &c);
        tw_render_free(v->render);
    }
    tw_platform_font_close(v->font);
    tw_platform_font_close(v->bold);
    tw_platform_font_close(v->mono);
    tw_platform_free(v->platform);
    tw_free(&v->alloc, v->canvas, v->canvas_size);
    tw_viewer_script_fini(&v->script);
    if (v->tel_open) app_tel_fini(&v->tel); /* before the session: the binder borrows its world */
    viewer_replay_close(v);                 /* the player's world and sim, before the scene's session */
    tw_app_session_close(&v->session);
    tw_free(&alloc, v, sizeof *v);
    return st;
}
