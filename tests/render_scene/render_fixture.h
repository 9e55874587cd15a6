/* tests/render_scene: the set-up both test executables share. A renderer
 * with the Khronos validation layer on (any validation message fails the
 * test that caused it), a scene session, its view and a W x H target.
 * Header-only with static functions: each executable is one source file. */
#ifndef TWIN_TESTS_RENDER_FIXTURE_H
#define TWIN_TESTS_RENDER_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "twin/app.h"
#include "twin/view.h"

#include "render_log.h"

enum { W = 320, H = 180 };

typedef struct ctx {
    tw_render *r;
    test_render_log rl;
    tw_app_session s;
    int open;
    tw_view *v;
    tw_render_target t;
    uint8_t px[W * H * 4];
} ctx;

/* The renderer alone (render_log.h: validation on, skip or fail without). */
static int renderer_init(ctx *c)
{
    test_render_log_init(&c->rl);
    return test_render_open((tw_render_desc){ 0 }, &c->rl, &c->r);
}

/* The scene file at path simulated to at_s seconds, its view and a W x H
 * target; on failure nothing is left to free. */
static int ctx_open(ctx *c, const char *path, double at_s)
{
    memset(c, 0, sizeof *c);
    if (renderer_init(c)) return -1;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_app_open_desc od = { .scene_path = path };
    if (tw_app_session_open(&od, &c->s, &diag) != TW_OK) {
        TEST_FAIL_AT(__FILE__, __LINE__, "loading %s failed: %s", path, diag.message);
        tw_render_free(c->r);
        return -1;
    }
    c->open = 1;
    uint64_t ticks = (uint64_t)llround(at_s / tw_sim_dt(c->s.sim));
    for (uint64_t k = 0; k < ticks; k++) {
        tw_sim_step(c->s.sim);
        tw_sim_events_clear(c->s.sim);
    }
    tw_status st = tw_view_new(c->r, c->s.world, c->s.sim, &c->v, &diag);
    if (!st) st = tw_render_target_create(c->r, &(tw_render_target_desc){ .width = W, .height = H }, &c->t);
    if (st) {
        TEST_FAIL_AT(__FILE__, __LINE__, "setting up the view failed: %s (%s)", tw_status_str(st), diag.message);
        return -1;
    }
    return 0;
}

static void ctx_fini(ctx *c)
{
    tw_view_free(c->v);
    tw_render_free(c->r);
    if (c->open) tw_app_session_close(&c->s);
    CHECK_EQ_INT(c->rl.validation, 0);
    memset(c, 0, sizeof *c);
}

/* The instance an entity is drawn with in dl, or NULL. */
static const tw_render_instance *instance_of(const tw_render_drawlist *dl, tw_entity e)
{
    for (uint32_t i = 0; i < dl->instance_count; i++)
        if (dl->instances[i].pick_id == tw_entity_index(e) + 1u) return &dl->instances[i];
    return NULL;
}

#endif
