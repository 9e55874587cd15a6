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

/* Every allocation of tw_view_new and its first tw_view_build, failed in
 * turn, on the scene file at path loaded into a world of its own: each
 * attempt ends in TW_OK or TW_ERR_NOMEM and leaks nothing, until one runs
 * clean. Returns that run's instance count (-1: none within 400). */
static int view_out_of_memory_walk(ctx *c, const char *path)
{
    tw_failing_alloc fa = { 0 };
    tw_allocator alloc = tw_failing_alloc_allocator(&fa);
    tw_ecs_world *w = tw_ecs_world_new(&(tw_ecs_world_desc){ .allocator = &alloc });
    if (!w) {
        TEST_FAIL_AT(__FILE__, __LINE__, "no world");
        return -1;
    }
    tw_sim_components ids;
    tw_scene scene;
    tw_diag diag;
    tw_diag_clear(&diag);
    if (tw_sim_register_components(w, &ids) != TW_OK || tw_scene_load_file(w, path, NULL, &scene, &diag) != TW_OK) {
        TEST_FAIL_AT(__FILE__, __LINE__, "loading %s failed: %s", path, diag.message);
        tw_ecs_world_free(w);
        return -1;
    }
    int64_t live0 = fa.live_bytes;
    uint64_t base = fa.allocations;
    int instances = -1;
    for (uint64_t k = 1; k < 400 && instances < 0; k++) {
        fa.fail_at = base + k;
        tw_view *v = NULL;
        tw_status st = tw_view_new(c->r, w, NULL, &v, NULL);
        if (st == TW_OK) {
            tw_view_set_scene_path(v, path); /* mesh files named relative to the scene */
            tw_render_drawlist dl;
            memset(&dl, 0, sizeof dl);
            st = tw_view_build(v, NULL, 1.0, 0.0, &dl);
            if (st == TW_OK && fa.failures == 0) {
                tw_view_stats vs;
                tw_view_get_stats(v, &vs);
                instances = (int)vs.instances;
                printf("     a clean run after %llu failing allocations\n", (unsigned long long)(k - 1));
            }
        }
        CHECK(st == TW_OK || st == TW_ERR_NOMEM);
        tw_view_free(v);
        CHECK_EQ_INT(fa.live_bytes, live0);
        base = fa.allocations;
        fa.failures = 0;
    }
    fa.fail_at = 0;
    tw_scene_fini(&scene);
    tw_ecs_world_free(w);
    CHECK_EQ_INT(fa.live_bytes, 0);
    return instances;
}

/* The instance an entity is drawn with in dl, or NULL. */
static const tw_render_instance *instance_of(const tw_render_drawlist *dl, tw_entity e)
{
    for (uint32_t i = 0; i < dl->instance_count; i++)
        if (dl->instances[i].pick_id == tw_entity_index(e) + 1u) return &dl->instances[i];
    return NULL;
}

#endif
