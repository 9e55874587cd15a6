/* tests/render_scene: the shipped scenes through the view (world → draw
 * list) and the Vulkan renderer, always with the Khronos validation layer
 * on; any validation message fails the test that caused it.
 *
 * Golden images (320x180) live in tests/render_scene/golden/.
 * TWIN_UPDATE_GOLDEN=1 rewrites them from this run (look at them before
 * committing); a mismatch writes <name>.actual.png into the working
 * directory. The goldens show the scenes at their start (no people yet), so
 * that a change to how people move does not change them. The executable
 * exits 77 (skip) only when no Vulkan loader, driver or device exists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_fixture.h"

#include "golden.h"

/* ---- a renderer and a scene per test ------------------------------------------ */

static const char *scene_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/scenes/%s", TWIN_SOURCE_DIR, name);
    return buf;
}

/* The scene simulated to at_s seconds, its view and a W x H target. */
static int ctx_init(ctx *c, const char *scene, double at_s)
{
    char path[1024];
    return ctx_open(c, scene_path(scene, path, sizeof path), at_s);
}

static tw_entity path_entity(ctx *c, const char *path)
{
    tw_entity e = tw_ecs_lookup_path(c->s.world, path);
    if (tw_entity_is_null(e)) TEST_FAIL_AT(__FILE__, __LINE__, "no entity %s", path);
    return e;
}

/* A fixed camera over the office from the south-west (independent of the presets). */
static tw_render_camera office_camera(void)
{
    return (tw_render_camera){ .eye = { -7.0f, -13.1f, 25.0f }, .target = { 14.6f, 8.5f, -0.7f }, .fov_y = 45.0f };
}

static tw_status draw(ctx *c, const tw_view_style *style, const tw_render_camera *cam, tw_render_drawlist *dl,
                      tw_render_frame_stats *fs)
{
    memset(dl, 0, sizeof *dl);
    dl->camera = *cam;
    tw_status st = tw_view_build(c->v, style, 1.0, 0.25, dl);
    if (st) return st;
    if ((st = tw_render_frame(c->r, c->t, dl, fs))) return st;
    return tw_render_target_read(c->r, c->t, c->px, sizeof c->px);
}

/* ---- golden images -------------------------------------------------------------- */

static void check_golden(const char *name, const uint8_t *px)
{
    test_check_golden("tests/render_scene/golden", name, px, W, H);
}

/* Where a world point lands in pixels (top-left origin). */
static void project(const tw_render_camera *cam, const float p[3], int *x, int *y)
{
    float view[16], proj[16];
    tw_render_camera_matrices(cam, (float)W / (float)H, view, proj);
    float e[4], cl[4];
    for (int r = 0; r < 4; r++)
        e[r] = view[0 * 4 + r] * p[0] + view[1 * 4 + r] * p[1] + view[2 * 4 + r] * p[2] + view[3 * 4 + r];
    for (int r = 0; r < 4; r++)
        cl[r] = proj[0 * 4 + r] * e[0] + proj[1 * 4 + r] * e[1] + proj[2 * 4 + r] * e[2] + proj[3 * 4 + r] * e[3];
    *x = (int)floorf((cl[0] / cl[3] * 0.5f + 0.5f) * (float)W);
    *y = (int)floorf((cl[1] / cl[3] * 0.5f + 0.5f) * (float)H);
}

/* ---- cases ------------------------------------------------------------------------ */

TEST(view_office_golden)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    tw_render_camera cam = office_camera();
    tw_render_drawlist dl;
    tw_render_frame_stats fs;
    CHECK(draw(&c, NULL, &cam, &dl, &fs) == TW_OK);
    check_golden("office", c.px);
    /* 37 slabs, 38 walls, 36 doors, 5 boxes, 60 people (outside at midnight: hidden). */
    CHECK_EQ_INT(dl.instance_count, 176);
    CHECK_EQ_INT(fs.instances_skipped, 0);
    uint32_t hidden = 0;
    for (uint32_t i = 0; i < dl.instance_count; i++) hidden += (dl.instances[i].flags & TW_RENDER_INST_HIDDEN) != 0;
    CHECK_EQ_INT(hidden, 60);
    /* Consecutive instances share meshes: boxes, doors (the cube) and people make few draws. */
    CHECK(fs.draw_calls <= dl.instance_count - 60 - 41 + 2);
    tw_view_stats vs;
    tw_view_get_stats(c.v, &vs);
    CHECK_EQ_INT(vs.meshes, 37 + 38 + 2);
    CHECK_EQ_INT(vs.warnings, 0);
    ctx_fini(&c);
}

TEST(view_factory_golden)
{
    ctx c;
    if (ctx_init(&c, "factory.twin.json", 0.0)) return;
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    REQUIRE(tw_view_camera_preset(c.v, "home", (float)W / (float)H, &dl.camera) == TW_OK);
    tw_render_camera cam = dl.camera;
    CHECK(draw(&c, NULL, &cam, &dl, NULL) == TW_OK);
    check_golden("factory", c.px);
    /* The AGVs are drawn (they start on the floor), as are the conveyors. */
    const tw_render_instance *agv = instance_of(&dl, path_entity(&c, "plant/factory/hall/agvs/agv-1"));
    REQUIRE(agv);
    CHECK(!(agv->flags & TW_RENDER_INST_HIDDEN));
    CHECK(instance_of(&dl, path_entity(&c, "plant/factory/hall/production/conveyor-1")) != NULL);
    ctx_fini(&c);
}

TEST(view_colorby_golden)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    /* Temperatures set here (not simulated), so the picture pins the colouring only. */
    tw_component thermal = tw_sim_component_ids(c.s.sim)->thermal;
    uint32_t n = 0;
    for (uint32_t i = 0; i < tw_ecs_entity_capacity(c.s.world); i++) {
        tw_entity e = tw_ecs_entity_at(c.s.world, i);
        Thermal *th = tw_entity_is_null(e) ? NULL : tw_ecs_get(c.s.world, e, thermal);
        if (th) th->temperature = 18.0f + (float)(n++ % 9);
    }
    tw_render_camera cam = office_camera();
    tw_view_style style = { .colorby = "Thermal.temperature", .range_min = 18.0f, .range_max = 26.0f };
    tw_render_drawlist dl;
    tw_render_frame_stats fs;
    CHECK(draw(&c, &style, &cam, &dl, &fs) == TW_OK);
    check_golden("colorby", c.px);
    CHECK_EQ_INT(dl.colorby.colormap, TW_RENDER_COLORMAP_VIRIDIS);
    CHECK(dl.colorby.legend);
    CHECK_NEAR(fs.value_min, 18.0, 1e-6);
    CHECK_NEAR(fs.value_max, 26.0, 1e-6);
    /* A room has its value; a wall, which has no Thermal, is drawn grey. */
    const tw_render_instance *room = instance_of(&dl, path_entity(&c, "hq/office/floor-2/room-203"));
    const tw_render_instance *wall = instance_of(&dl, path_entity(&c, "hq/office/floor-2/walls/w-exterior"));
    REQUIRE(room && wall);
    CHECK(room->flags & TW_RENDER_INST_VALUE);
    CHECK(!(wall->flags & TW_RENDER_INST_VALUE));
    CHECK(wall->color[0] == wall->color[1] && wall->color[1] == wall->color[2]);
    /* Automatic range: the values shown. */
    style.range_min = style.range_max = 0.0f;
    CHECK(draw(&c, &style, &cam, &dl, &fs) == TW_OK);
    CHECK_NEAR(fs.value_min, 18.0, 1e-6);
    CHECK_NEAR(fs.value_max, 26.0, 1e-6);
    ctx_fini(&c);
}

TEST(view_selection_golden)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    tw_render_camera cam = office_camera();
    tw_view_style style = { .selected = path_entity(&c, "hq/office/floor-2/room-203") };
    tw_render_drawlist dl;
    CHECK(draw(&c, &style, &cam, &dl, NULL) == TW_OK);
    check_golden("selection", c.px);
    uint32_t selected = 0;
    for (uint32_t i = 0; i < dl.instance_count; i++) selected += (dl.instances[i].flags & TW_RENDER_INST_SELECTED) != 0;
    CHECK_EQ_INT(selected, 1);
    /* Selecting a storey selects what stands on it. */
    style.selected = path_entity(&c, "hq/office/floor-1");
    CHECK(draw(&c, &style, &cam, &dl, NULL) == TW_OK);
    const tw_render_instance *wall = instance_of(&dl, path_entity(&c, "hq/office/floor-1/walls/w-exterior"));
    const tw_render_instance *up = instance_of(&dl, path_entity(&c, "hq/office/floor-2/walls/w-exterior"));
    REQUIRE(wall && up);
    CHECK(wall->flags & TW_RENDER_INST_SELECTED);
    CHECK(!(up->flags & TW_RENDER_INST_SELECTED));
    /* And a selection cleared draws nothing selected. */
    style.selected = TW_ENTITY_NULL;
    CHECK(draw(&c, &style, &cam, &dl, NULL) == TW_OK);
    for (uint32_t i = 0; i < dl.instance_count; i++) CHECK(!(dl.instances[i].flags & TW_RENDER_INST_SELECTED));
    ctx_fini(&c);
}

TEST(view_isolate_golden)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    tw_render_camera cam = office_camera();
    /* The upper storey alone: the ground floor below it faded (x-ray). */
    tw_view_style style = { .isolate = path_entity(&c, "hq/office/floor-2") };
    tw_render_drawlist dl;
    CHECK(draw(&c, &style, &cam, &dl, NULL) == TW_OK);
    check_golden("isolate", c.px);
    const tw_render_instance *low = instance_of(&dl, path_entity(&c, "hq/office/floor-1/room-101"));
    const tw_render_instance *high = instance_of(&dl, path_entity(&c, "hq/office/floor-2/room-201"));
    REQUIRE(low && high);
    CHECK(low->flags & TW_RENDER_INST_FADED);
    CHECK(!(high->flags & (TW_RENDER_INST_FADED | TW_RENDER_INST_HIDDEN)));
    /* The ground floor alone: the storey above is hidden, not faded. */
    style.isolate = path_entity(&c, "hq/office/floor-1");
    CHECK(draw(&c, &style, &cam, &dl, NULL) == TW_OK);
    low = instance_of(&dl, path_entity(&c, "hq/office/floor-1/room-101"));
    high = instance_of(&dl, path_entity(&c, "hq/office/floor-2/room-201"));
    REQUIRE(low && high);
    CHECK(!(low->flags & (TW_RENDER_INST_FADED | TW_RENDER_INST_HIDDEN)));
    CHECK(high->flags & TW_RENDER_INST_HIDDEN);
    ctx_fini(&c);
}

TEST(view_section_golden)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    tw_render_camera cam = office_camera();
    tw_view_style style = { .section = 1, .section_height = 1.2f };
    tw_render_drawlist dl;
    CHECK(draw(&c, &style, &cam, &dl, NULL) == TW_OK);
    check_golden("section", c.px);
    CHECK(dl.section.enabled);
    CHECK_NEAR(dl.section.offset, 1.2, 1e-6);
    CHECK_NEAR(dl.section.normal[2], 1.0, 1e-6);
    ctx_fini(&c);
}

TEST(view_pick_maps_back)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    tw_render_camera cam = office_camera();
    tw_render_drawlist dl;
    CHECK(draw(&c, NULL, &cam, &dl, NULL) == TW_OK);
    /* The south face of the upper exterior wall, the floor of a room seen from
     * above in a plan, and the background. */
    tw_entity wall = path_entity(&c, "hq/office/floor-2/walls/w-exterior");
    int x, y;
    uint32_t id = 0;
    project(&cam, (float[3]){ 12.0f, -0.15f, 5.5f }, &x, &y);
    REQUIRE(x >= 0 && y >= 0 && x < W && y < H);
    CHECK(tw_render_pick(c.r, c.t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK(tw_entity_eq(tw_view_entity_from_pick(c.v, id), wall));
    CHECK(tw_render_pick(c.r, c.t, 0, 0, &id) == TW_OK);
    CHECK_EQ_INT(id, 0);
    CHECK(tw_entity_is_null(tw_view_entity_from_pick(c.v, id)));

    tw_render_camera top = { .fov_y = 45.0f };
    REQUIRE(tw_view_camera_preset(c.v, "top", (float)W / (float)H, &top) == TW_OK);
    CHECK(top.ortho_height > 0.0f);
    CHECK(draw(&c, NULL, &top, &dl, NULL) == TW_OK);
    tw_entity room = path_entity(&c, "hq/office/floor-2/room-203");
    project(&top, (float[3]){ 13.5f, 3.0f, 3.5f }, &x, &y);
    REQUIRE(x >= 0 && y >= 0 && x < W && y < H);
    CHECK(tw_render_pick(c.r, c.t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK(tw_entity_eq(tw_view_entity_from_pick(c.v, id), room));
    ctx_fini(&c);
}

/* People at 09:30: interpolated between ticks, and frames of a running sim
 * allocate nothing. */
TEST(view_people_interpolate_steady)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 34200.0)) return;
    tw_render_camera cam = office_camera();
    tw_render_drawlist dl;
    CHECK(draw(&c, NULL, &cam, &dl, NULL) == TW_OK);
    /* Someone walking. */
    const tw_sim_components *ids = tw_sim_component_ids(c.s.sim);
    tw_entity walker = TW_ENTITY_NULL;
    uint32_t inside = 0;
    for (uint32_t i = 0; i < tw_ecs_entity_capacity(c.s.world); i++) {
        tw_entity e = tw_ecs_entity_at(c.s.world, i);
        const Agent *a = tw_entity_is_null(e) ? NULL : tw_ecs_get(c.s.world, e, ids->agent);
        if (!a || a->state == TW_AGENT_OUTSIDE) continue;
        inside++;
        const tw_render_instance *in = instance_of(&dl, e);
        CHECK(in && !(in->flags & TW_RENDER_INST_HIDDEN));
        const Body *b = tw_ecs_get(c.s.world, e, ids->body);
        if (a->state == TW_AGENT_WALKING && b && hypotf(b->velocity[0], b->velocity[1]) > 0.3f) walker = e;
    }
    CHECK(inside > 10);
    REQUIRE(!tw_entity_is_null(walker));
    const Body *b = tw_ecs_get(c.s.world, walker, ids->body);
    float p0[2] = { b->position[0], b->position[1] };
    CHECK(tw_sim_step(c.s.sim) == TW_OK);
    b = tw_ecs_get(c.s.world, walker, ids->body);
    float p1[2] = { b->position[0], b->position[1] };
    CHECK(hypotf(p1[0] - p0[0], p1[1] - p0[1]) > 0.01f);
    const double alphas[3] = { 0.0, 0.5, 1.0 };
    for (int k = 0; k < 3; k++) {
        memset(&dl, 0, sizeof dl);
        CHECK(tw_view_build(c.v, NULL, alphas[k], 0.0, &dl) == TW_OK);
        const tw_render_instance *in = instance_of(&dl, walker);
        REQUIRE(in);
        float a = (float)alphas[k];
        CHECK_NEAR(in->transform[3], p0[0] + (p1[0] - p0[0]) * a, 1e-4);
        CHECK_NEAR(in->transform[7], p0[1] + (p1[1] - p0[1]) * a, 1e-4);
    }

    /* 30 frames, 5 ticks apart, with data colours, a selection and an x-ray. */
    tw_view_style style = { .colorby = "Air.co2", .selected = path_entity(&c, "hq/office/floor-1/room-103"),
                            .isolate = path_entity(&c, "hq/office/floor-1") };
    tw_view_stats vs0, vs1;
    tw_render_counters rc0, rc1;
    for (int f = 0; f < 35; f++) {
        if (f == 5) {
            tw_view_get_stats(c.v, &vs0);
            tw_render_get_counters(c.r, &rc0);
        }
        for (int k = 0; k < 5; k++) tw_sim_step(c.s.sim);
        tw_sim_events_clear(c.s.sim);
        memset(&dl, 0, sizeof dl);
        dl.camera = cam;
        CHECK(tw_view_build(c.v, &style, 0.3, tw_sim_time(c.s.sim), &dl) == TW_OK);
        CHECK(tw_render_frame(c.r, c.t, &dl, NULL) == TW_OK);
    }
    tw_render_wait_idle(c.r);
    tw_view_get_stats(c.v, &vs1);
    tw_render_get_counters(c.r, &rc1);
    CHECK_EQ_U64(vs1.heap_allocations - vs0.heap_allocations, 0);
    CHECK_EQ_U64(rc1.heap_allocations - rc0.heap_allocations, 0);
    CHECK_EQ_U64(rc1.gpu_allocations - rc0.gpu_allocations, 0);
    CHECK_EQ_INT(vs1.rescans, vs0.rescans);
    ctx_fini(&c);
}

/* The view's retained draw list (only changed instances uploaded) gives,
 * frame after frame, the same picture as the same list uploaded whole by a
 * second renderer: moving people and doors, data colours, a selection, an
 * x-ray, the camera moving, an alarm. */
static int stale_room(void *user, tw_entity e);

TEST(view_retained_equals_full_upload)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 33000.0)) return;
    tw_render *r2 = NULL;
    tw_view *v2 = NULL;
    tw_render_target t2 = { 0 };
    tw_diag diag;
    tw_diag_clear(&diag);
    REQUIRE(tw_render_new(&(tw_render_desc){ .validation = 1, .log = &c.rl.log }, &r2) == TW_OK);
    CHECK(tw_view_new(r2, c.s.world, c.s.sim, &v2, &diag) == TW_OK);
    CHECK(tw_render_target_create(r2, &(tw_render_target_desc){ .width = W, .height = H }, &t2) == TW_OK);
    static uint8_t px2[W * H * 4];
    tw_render_camera cam = office_camera();
    tw_entity room = path_entity(&c, "hq/office/floor-1/room-103");
    Alarm *al = tw_ecs_get(c.s.world, path_entity(&c, "hq/office/floor-1/room-101/temp-high"),
                           tw_sim_component_ids(c.s.sim)->alarm);
    REQUIRE(al && v2);
    tw_view_style style = { 0 };
    uint64_t uploaded = 0, instances = 0;
    for (int f = 0; f < 40; f++) {
        if (f == 8) style.colorby = "Air.co2";
        if (f == 14) style.selected = room;
        if (f == 20) style.isolate = path_entity(&c, "hq/office/floor-1");
        if (f == 24) cam.eye[0] += 6.0f;
        if (f == 28) style.isolate = TW_ENTITY_NULL;
        if (f == 30) {
            style.quality = stale_room;
            style.quality_user = &room;
        }
        if (f == 33) style.quality = NULL;
        if (f == 35) al->state = TW_ALARM_ACTIVE;
        for (int k = 0; k < 5; k++) tw_sim_step(c.s.sim);
        tw_sim_events_clear(c.s.sim);
        tw_render_drawlist dl, dl2;
        tw_render_frame_stats fs, fs2;
        memset(&dl, 0, sizeof dl);
        memset(&dl2, 0, sizeof dl2);
        dl.camera = dl2.camera = cam;
        double t = tw_sim_time(c.s.sim);
        CHECK(tw_view_build(c.v, &style, 0.4, t, &dl) == TW_OK);
        CHECK(tw_render_frame(c.r, c.t, &dl, &fs) == TW_OK);
        CHECK(tw_render_target_read(c.r, c.t, c.px, sizeof c.px) == TW_OK);
        CHECK(tw_view_build(v2, &style, 0.4, t, &dl2) == TW_OK);
        dl2.list_id = 0; /* uploaded whole */
        CHECK(tw_render_frame(r2, t2, &dl2, &fs2) == TW_OK);
        CHECK(tw_render_target_read(r2, t2, px2, sizeof px2) == TW_OK);
        size_t differ = 0;
        for (size_t k = 0; k < (size_t)W * H; k++) differ += memcmp(&c.px[4 * k], &px2[4 * k], 4) != 0;
        if (differ) TEST_FAIL_AT(__FILE__, __LINE__, "frame %d: %zu pixels differ from a full upload", f, differ);
        CHECK_EQ_INT(fs.instances_drawn, fs2.instances_drawn);
        CHECK_EQ_INT(fs2.records_uploaded, dl2.instance_count);
        if (f > 0) {
            uploaded += fs.records_uploaded;
            instances += dl.instance_count;
        }
    }
    /* Most frames upload only what moved or changed colour. */
    CHECK(uploaded * 4 < instances);
    fprintf(stderr, "  retained: %llu of %llu instance records uploaded over 39 frames\n",
            (unsigned long long)uploaded, (unsigned long long)instances);
    tw_view_free(v2);
    tw_render_free(r2);
    ctx_fini(&c);
}

static int stale_room(void *user, tw_entity e)
{
    const tw_entity *stale = user;
    return tw_entity_eq(e, *stale) ? 3 : 1;
}

static int quality_of(void *user, tw_entity e)
{
    const tw_entity *stale = user;
    return tw_entity_eq(e, *stale) ? 3 : 1;
}

TEST(view_alarm_stale_doors)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    const tw_sim_components *ids = tw_sim_component_ids(c.s.sim);
    /* An alarm with no target watches its parent, the room. */
    Alarm *al = tw_ecs_get(c.s.world, path_entity(&c, "hq/office/floor-1/room-101/temp-high"), ids->alarm);
    REQUIRE(al);
    al->state = TW_ALARM_ACTIVE;
    tw_entity stale = path_entity(&c, "hq/office/floor-1/room-102");
    tw_view_style style = { .quality = quality_of, .quality_user = &stale };
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    CHECK(tw_view_build(c.v, &style, 1.0, 0.0, &dl) == TW_OK);
    const tw_render_instance *r101 = instance_of(&dl, path_entity(&c, "hq/office/floor-1/room-101"));
    const tw_render_instance *r102 = instance_of(&dl, stale);
    REQUIRE(r101 && r102);
    CHECK(r101->flags & TW_RENDER_INST_ALARM);
    CHECK(!(r101->flags & TW_RENDER_INST_STALE));
    CHECK(r102->flags & TW_RENDER_INST_STALE);
    CHECK(!(r102->flags & TW_RENDER_INST_ALARM));
    /* Back to normal: the flag goes (on the fast path too). */
    al->state = TW_ALARM_NORMAL;
    style.quality = NULL;
    CHECK(tw_view_build(c.v, &style, 1.0, 0.0, &dl) == TW_OK);
    CHECK(tw_view_build(c.v, &style, 1.0, 0.0, &dl) == TW_OK);
    r101 = instance_of(&dl, path_entity(&c, "hq/office/floor-1/room-101"));
    CHECK(!(r101->flags & (TW_RENDER_INST_ALARM | TW_RENDER_INST_STALE)));
    al->state = TW_ALARM_ACTIVE;
    CHECK(tw_view_build(c.v, &style, 1.0, 0.0, &dl) == TW_OK);
    r101 = instance_of(&dl, path_entity(&c, "hq/office/floor-1/room-101"));
    CHECK(r101->flags & TW_RENDER_INST_ALARM);

    /* A door: shut, it stands in its wall's line; open, it is turned 90 degrees. */
    tw_entity de = path_entity(&c, "hq/office/floor-1/doors/d-room-101");
    Door *door = tw_ecs_get(c.s.world, de, ids->door);
    REQUIRE(door);
    door->open = 0;
    CHECK(tw_view_build(c.v, &style, 1.0, 0.0, &dl) == TW_OK);
    const tw_render_instance *d = instance_of(&dl, de);
    REQUIRE(d);
    float shut_x = d->transform[0], shut_y = d->transform[4]; /* the panel's width axis */
    door->open = 1;
    CHECK(tw_view_build(c.v, &style, 1.0, 0.0, &dl) == TW_OK);
    d = instance_of(&dl, de);
    CHECK_NEAR(shut_x * d->transform[0] + shut_y * d->transform[4], 0.0, 1e-4);
    ctx_fini(&c);
}

TEST(view_follows_structure)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    const tw_sim_components *ids = tw_sim_component_ids(c.s.sim);
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    CHECK(tw_view_build(c.v, NULL, 1.0, 0.0, &dl) == TW_OK);
    uint32_t n0 = dl.instance_count;
    tw_view_stats s0, s1;
    tw_view_get_stats(c.v, &s0);
    /* A box (the shared cube) and an extruded footprint (a mesh of its own). */
    tw_entity box = tw_ecs_entity_create(c.s.world), slab = tw_ecs_entity_create(c.s.world);
    Shape sh = { .kind = TW_SHAPE_BOX, .size = { 1, 2, 3 } };
    Transform tr = { { 5, 5, 0 }, 0 };
    CHECK(tw_ecs_set(c.s.world, box, ids->shape, &sh) == TW_OK);
    CHECK(tw_ecs_set(c.s.world, box, ids->transform, &tr) == TW_OK);
    Shape ex = { .kind = TW_SHAPE_EXTRUSION, .height = 1.0f, .point_count = 3, .points = { { 50, 0 }, { 52, 0 }, { 51, 2 } } };
    CHECK(tw_ecs_set(c.s.world, slab, ids->shape, &ex) == TW_OK);
    CHECK(tw_view_build(c.v, NULL, 1.0, 0.0, &dl) == TW_OK);
    CHECK_EQ_INT(dl.instance_count, n0 + 2);
    tw_view_get_stats(c.v, &s1);
    CHECK_EQ_INT(s1.meshes, s0.meshes + 1);
    const tw_render_instance *bi = instance_of(&dl, box);
    REQUIRE(bi);
    CHECK_NEAR(bi->transform[0], 1.0, 1e-6); /* the unit cube scaled by the size */
    CHECK_NEAR(bi->transform[10], 3.0, 1e-6);
    float lo[3], hi[3];
    tw_view_bounds(c.v, lo, hi);
    CHECK_NEAR(hi[0], 52.0, 1e-4); /* the new shape widens the bounds */
    /* Gone again: its mesh is released. */
    tw_ecs_entity_destroy(c.s.world, slab);
    tw_ecs_entity_destroy(c.s.world, box);
    CHECK(tw_view_build(c.v, NULL, 1.0, 0.0, &dl) == TW_OK);
    CHECK_EQ_INT(dl.instance_count, n0);
    tw_view_get_stats(c.v, &s1);
    CHECK_EQ_INT(s1.meshes, s0.meshes);
    /* An in-place edit needs tw_view_invalidate. */
    tw_entity printer = path_entity(&c, "hq/office/floor-1/room-102/printer");
    Transform *pt = tw_ecs_get(c.s.world, printer, ids->transform);
    pt->position[0] += 1.0f;
    tw_view_invalidate(c.v);
    CHECK(tw_view_build(c.v, NULL, 1.0, 0.0, &dl) == TW_OK);
    CHECK_NEAR(instance_of(&dl, printer)->transform[3], pt->position[0], 1e-5);
    ctx_fini(&c);
}

TEST(view_camera_and_colorby_errors)
{
    ctx c;
    if (ctx_init(&c, "office.twin.json", 0.0)) return;
    tw_render_camera cam = { 0 };
    const char *presets[] = { "home", "top", "front", "side" };
    float lo[3], hi[3];
    tw_view_bounds(c.v, lo, hi);
    CHECK_NEAR(lo[0], -0.15, 1e-4);
    CHECK_NEAR(hi[0], 42.15, 1e-4);
    CHECK_NEAR(hi[2], 7.0, 1e-4);
    for (int k = 0; k < 4; k++) {
        CHECK(tw_view_camera_preset(c.v, presets[k], 16.0f / 9.0f, &cam) == TW_OK);
        /* Every corner of the bounds is in view. */
        for (int q = 0; q < 8; q++) {
            float p[3] = { (q & 1) ? hi[0] : lo[0], (q & 2) ? hi[1] : lo[1], (q & 4) ? hi[2] : lo[2] };
            int x, y;
            project(&cam, p, &x, &y);
            CHECK(x >= -1 && x <= W && y >= -1 && y <= H);
        }
    }
    CHECK(tw_view_camera_preset(c.v, "nope", 1.0f, &cam) == TW_ERR_NOT_FOUND);
    CHECK(tw_view_camera_parse(c.v, "1,2,3,4,5,6.5", 1.0f, &cam) == TW_OK);
    CHECK_NEAR(cam.eye[2], 3.0, 1e-6);
    CHECK_NEAR(cam.target[2], 6.5, 1e-6);
    CHECK(tw_view_camera_parse(c.v, "1,2,3", 1.0f, &cam) == TW_ERR_INVALID);
    CHECK(tw_view_camera_parse(c.v, "1,2,3,4,5,6,7", 1.0f, &cam) == TW_ERR_INVALID);

    tw_diag diag;
    tw_diag_clear(&diag);
    CHECK(tw_view_colorby_check(c.v, "Thermal.temprature", &diag) == TW_ERR_NOT_FOUND);
    CHECK_CONTAINS(diag.message, "temperature");
    CHECK(tw_view_colorby_check(c.v, "Thermal.temperature", NULL) == TW_OK);
    tw_view_style style = { .colorby = "Nope.value" };
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    CHECK(tw_view_build(c.v, &style, 1.0, 0.0, &dl) == TW_ERR_NOT_FOUND);
    CHECK_EQ_INT(dl.instance_count, 176); /* still filled, uncoloured */
    CHECK_EQ_INT(dl.colorby.colormap, TW_RENDER_COLORMAP_NONE);
    ctx_fini(&c);
}

/* Every allocation the view makes, failed in turn: no leak, no crash, and
 * the renderer keeps no mesh of a view that failed. */
TEST(view_out_of_memory)
{
    ctx c;
    memset(&c, 0, sizeof c);
    if (renderer_init(&c)) return;
    /* A world without the simulation's components is refused, not dereferenced. */
    tw_ecs_world *bare = tw_ecs_world_new(NULL);
    REQUIRE(bare);
    tw_view *none = (tw_view *)&c; /* overwritten with NULL */
    tw_diag why;
    tw_diag_clear(&why);
    CHECK(tw_view_new(c.r, bare, NULL, &none, &why) == TW_ERR_INVALID);
    CHECK(none == NULL);
    CHECK_CONTAINS(why.message, "tw_sim_register_components");
    tw_ecs_world_free(bare);

    char path[1024];
    CHECK(view_out_of_memory_walk(&c, scene_path("factory.twin.json", path, sizeof path)) > 0);
    ctx_fini(&c);
}

int main(int argc, char **argv) { return test_main(argc, argv); }
