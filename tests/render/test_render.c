/* tests/render: the Vulkan renderer on whatever device exists (lavapipe on
 * machines without a GPU), always with the Khronos validation layer on; any
 * validation message fails the test that caused it.
 *
 * Golden images live in tests/render/golden/. TWIN_UPDATE_GOLDEN=1 rewrites
 * them from this run (then look at them before committing). A mismatch
 * writes <name>.actual.png into the working directory for inspection. The
 * whole executable exits 77 (skip) only when no Vulkan loader, driver or
 * device exists at all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "twin/render.h"
#include "twin/render_geom.h"

#include "golden.h"
#include "render_log.h"

enum { W = 160, H = 120 };

/* ---- a renderer per test, validation counted through the log ---------------- */

typedef struct ctx {
    tw_render *r;
    test_render_log rl;
    tw_failing_alloc fa;
    tw_allocator alloc;
} ctx;

/* Returns 0 and sets up c, or -1 after marking the test skipped/failed. */
static int ctx_init_desc(ctx *c, tw_render_desc desc)
{
    memset(c, 0, sizeof *c);
    test_render_log_init(&c->rl);
    c->alloc = tw_failing_alloc_allocator(&c->fa);
    desc.alloc = &c->alloc;
    return test_render_open(desc, &c->rl, &c->r);
}

static int ctx_init(ctx *c) { return ctx_init_desc(c, (tw_render_desc){ 0 }); }

static void ctx_fini(ctx *c)
{
    tw_render_free(c->r);
    c->r = NULL;
    CHECK_EQ_INT(c->rl.validation, 0);
    CHECK_EQ_INT(c->fa.live_bytes, 0); /* everything the renderer allocated came back */
}

/* ---- images ------------------------------------------------------------------- */

static void check_golden(const char *name, const uint8_t *px, uint32_t w, uint32_t h)
{
    test_check_golden("tests/render/golden", name, px, w, h);
}

/* Where a world point lands in pixels (top-left origin). */
static void project(const tw_render_camera *cam, uint32_t w, uint32_t h, const float p[3], int *x, int *y)
{
    float view[16], proj[16];
    tw_render_camera_matrices(cam, (float)w / (float)h, view, proj);
    float e[4], c[4];
    for (int r = 0; r < 4; r++)
        e[r] = view[0 * 4 + r] * p[0] + view[1 * 4 + r] * p[1] + view[2 * 4 + r] * p[2] + view[3 * 4 + r];
    for (int r = 0; r < 4; r++)
        c[r] = proj[0 * 4 + r] * e[0] + proj[1 * 4 + r] * e[1] + proj[2 * 4 + r] * e[2] + proj[3 * 4 + r] * e[3];
    *x = (int)floorf((c[0] / c[3] * 0.5f + 0.5f) * (float)w);
    *y = (int)floorf((c[1] / c[3] * 0.5f + 0.5f) * (float)h);
}

/* ---- scenes ------------------------------------------------------------------ */

static tw_status mesh_from_geom(tw_render *r, const tw_render_geom *g, const char *label, tw_render_mesh *out)
{
    return tw_render_mesh_create(r,
                                 &(tw_render_mesh_desc){ .vertices = g->vertices, .vertex_count = g->vertex_count,
                                                         .indices = g->indices, .index_count = g->index_count,
                                                         .edges = (const uint8_t(*)[4])g->edges, .label = label },
                                 out);
}

static tw_render_mesh make_box_mesh(tw_render *r, const float min[3], const float max[3])
{
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    tw_render_mesh m = { 0 };
    if (tw_render_geom_box(&g, min, max) == TW_OK)
        mesh_from_geom(r, &g, "box", &m);
    tw_render_geom_fini(&g);
    return m;
}

static tw_render_mesh unit_cube(tw_render *r)
{
    return make_box_mesh(r, (float[3]){ -0.5f, -0.5f, -0.5f }, (float[3]){ 0.5f, 0.5f, 0.5f });
}

static void set_inst(tw_render_instance *in, tw_render_mesh m, float x, float y, float z, float yaw, float sx, float sy,
                     float sz, uint8_t cr, uint8_t cg, uint8_t cb, uint32_t id)
{
    memset(in, 0, sizeof *in);
    in->mesh = m;
    tw_render_transform_trs(in->transform, (float[3]){ x, y, z }, yaw, (float[3]){ sx, sy, sz });
    in->color[0] = cr;
    in->color[1] = cg;
    in->color[2] = cb;
    in->color[3] = 255;
    in->pick_id = id;
}

/* Ground plus three boxes. */
enum { BOXES = 4 };
static void boxes_scene(tw_render_mesh cube, tw_render_instance inst[BOXES], tw_render_drawlist *dl)
{
    set_inst(&inst[0], cube, 4.0f, 3.0f, -0.1f, 0.0f, 8.0f, 6.0f, 0.2f, 190, 190, 185, 1);
    set_inst(&inst[1], cube, 2.0f, 2.0f, 0.75f, 0.0f, 1.5f, 1.5f, 1.5f, 200, 80, 60, 2);
    set_inst(&inst[2], cube, 5.5f, 2.5f, 1.0f, 0.5f, 1.0f, 2.0f, 2.0f, 70, 130, 200, 3);
    set_inst(&inst[3], cube, 3.5f, 4.6f, 0.5f, 0.0f, 2.0f, 1.0f, 1.0f, 90, 170, 90, 4);
    memset(dl, 0, sizeof *dl);
    dl->camera = (tw_render_camera){ .eye = { -2.5f, -6.5f, 7.5f }, .target = { 4.0f, 3.0f, 0.5f }, .fov_y = 45.0f };
    dl->instances = inst;
    dl->instance_count = BOXES;
}

static tw_render_target make_target(tw_render *r, uint32_t w, uint32_t h)
{
    tw_render_target t = { 0 };
    CHECK(tw_render_target_create(r, &(tw_render_target_desc){ .width = w, .height = h, .label = "test" }, &t) ==
          TW_OK);
    return t;
}

static int render_and_read(ctx *c, tw_render_target t, const tw_render_drawlist *dl, uint8_t *px)
{
    tw_render_frame_stats fs;
    tw_status st = tw_render_frame(c->r, t, dl, &fs);
    CHECK(st == TW_OK);
    if (st != TW_OK) return -1;
    st = tw_render_target_read(c->r, t, px, (size_t)W * H * 4);
    CHECK(st == TW_OK);
    return st == TW_OK ? 0 : -1;
}

/* A two-storey L-shaped building: slabs, exterior walls with a door and a
 * window, an interior wall with a door, a machine (alarm) and a stale box. */
enum { BLD_MAX = 16 };
typedef struct building {
    tw_render_mesh slab, ext, inner, cube;
    tw_render_instance inst[BLD_MAX];
    uint32_t count;
    uint32_t machine_id, storey0_slab_id;
} building;

static const float footprint[6][2] = { { 0, 0 }, { 10, 0 }, { 10, 5 }, { 6, 5 }, { 6, 8 }, { 0, 8 } };

static int build_building(tw_render *r, building *b)
{
    memset(b, 0, sizeof *b);
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    int ok = tw_render_geom_extrude(&g, footprint, 6, -0.2f, 0.2f) == TW_OK &&
             mesh_from_geom(r, &g, "slab", &b->slab) == TW_OK;
    tw_render_geom_reset(&g);
    tw_render_opening ext_open[2] = { { 2.0f, 3.0f, 0.0f, 2.1f }, { 5.0f, 7.5f, 0.9f, 2.0f } };
    tw_render_wall_desc ext = { .points = footprint, .point_count = 6, .closed = 1, .thickness = 0.25f,
                                .z0 = 0.0f, .height = 2.8f, .openings = ext_open, .opening_count = 2 };
    ok = ok && tw_render_geom_wall(&g, &ext) == TW_OK &&
         mesh_from_geom(r, &g, "exterior walls", &b->ext) == TW_OK;
    tw_render_geom_reset(&g);
    static const float inner_line[3][2] = { { 4, 0 }, { 4, 5 }, { 6, 5 } };
    tw_render_opening in_open[1] = { { 3.0f, 4.0f, 0.0f, 2.1f } };
    tw_render_wall_desc inner = { .points = inner_line, .point_count = 3, .thickness = 0.15f, .height = 2.8f,
                                  .openings = in_open, .opening_count = 1 };
    ok = ok && tw_render_geom_wall(&g, &inner) == TW_OK &&
         mesh_from_geom(r, &g, "interior wall", &b->inner) == TW_OK;
    tw_render_geom_fini(&g);
    b->cube = unit_cube(r);
    if (!ok || !b->cube.id) return -1;

    uint32_t id = 100;
    for (int s = 0; s < 2; s++) {
        float z = 3.0f * (float)s;
        set_inst(&b->inst[b->count++], b->slab, 0, 0, z, 0, 1, 1, 1, 200, 200, 195, ++id);
        if (s == 0) b->storey0_slab_id = id;
        set_inst(&b->inst[b->count++], b->ext, 0, 0, z, 0, 1, 1, 1, 236, 231, 221, ++id);
        set_inst(&b->inst[b->count++], b->inner, 0, 0, z, 0, 1, 1, 1, 222, 216, 206, ++id);
    }
    set_inst(&b->inst[b->count], b->cube, 8.0f, 2.0f, 0.75f, 0.0f, 2.0f, 2.0f, 1.5f, 90, 130, 180, ++id);
    b->inst[b->count++].flags = TW_RENDER_INST_ALARM;
    b->machine_id = id;
    set_inst(&b->inst[b->count], b->cube, 1.75f, 6.25f, 0.5f, 0.0f, 1.5f, 1.5f, 1.0f, 120, 170, 90, ++id);
    b->inst[b->count++].flags = TW_RENDER_INST_STALE;
    return 0;
}

static void building_drawlist(building *b, tw_render_drawlist *dl)
{
    memset(dl, 0, sizeof *dl);
    dl->camera = (tw_render_camera){ .eye = { -6.0f, -10.0f, 13.0f }, .target = { 5.0f, 4.0f, 1.0f }, .fov_y = 45.0f };
    dl->instances = b->inst;
    dl->instance_count = b->count;
    dl->time = 0.25; /* the alarm pulse at its peak */
}

/* ---- lifecycle ------------------------------------------------------------------ */

TEST(render_init_shutdown)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_info info;
    tw_render_get_info(c.r, &info);
    CHECK(info.device_name[0] != '\0');
    CHECK(info.validation == 1);
    printf("     device: %s (%s), Vulkan %u.%u\n", info.device_name, info.device_type, info.api_version >> 22,
           (info.api_version >> 12) & 0x3FF);
    tw_render_counters k;
    tw_render_get_counters(c.r, &k);
    CHECK_EQ_INT(k.validation_messages, 0);
    CHECK_EQ_INT(k.frames, 0);
    ctx_fini(&c);
}

TEST(render_two_renderers_side_by_side)
{
    ctx a, b;
    if (ctx_init(&a) != 0) return;
    if (ctx_init(&b) != 0) {
        ctx_fini(&a);
        return;
    }
    tw_render_mesh ma = unit_cube(a.r), mb = unit_cube(b.r);
    CHECK(ma.id && mb.id);
    tw_render_target ta = make_target(a.r, W, H), tb = make_target(b.r, W, H);
    tw_render_instance ia[BOXES], ib[BOXES];
    tw_render_drawlist da, db;
    boxes_scene(ma, ia, &da);
    boxes_scene(mb, ib, &db);
    uint8_t *pa = malloc((size_t)W * H * 4), *pb = malloc((size_t)W * H * 4);
    CHECK(render_and_read(&a, ta, &da, pa) == 0);
    CHECK(render_and_read(&b, tb, &db, pb) == 0);
    CHECK(memcmp(pa, pb, (size_t)W * H * 4) == 0);
    free(pa);
    free(pb);
    ctx_fini(&b);
    ctx_fini(&a);
}

TEST(render_gpu_override_by_name_and_bad_name)
{
    ctx c;
    if (ctx_init_desc(&c, (tw_render_desc){ .gpu = "0" }) != 0) return;
    tw_render_info info;
    tw_render_get_info(c.r, &info);
    CHECK_EQ_INT(info.device_index, 0);
    char name[64];
    snprintf(name, sizeof name, "%.5s", info.device_name); /* a prefix, in another case */
    for (char *p = name; *p; p++) *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    ctx_fini(&c);

    tw_log quiet = { .level_plus_one = TW_LOG_OFF + 1 };
    tw_render *r = NULL;
    CHECK(tw_render_new(&(tw_render_desc){ .gpu = name, .log = &quiet }, &r) == TW_OK);
    tw_render_free(r);
    r = NULL;
    CHECK(tw_render_new(&(tw_render_desc){ .gpu = "no-such-gpu-anywhere", .log = &quiet }, &r) == TW_ERR_NOT_FOUND);
    CHECK(r == NULL);
}

/* ---- readback, size, format ---------------------------------------------------------- */

TEST(render_readback_size_and_format)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_target t = make_target(c.r, W, H);
    uint32_t w = 0, h = 0;
    CHECK(tw_render_target_size(c.r, t, &w, &h) == TW_OK);
    CHECK_EQ_INT(w, W);
    CHECK_EQ_INT(h, H);
    uint8_t *px = malloc((size_t)W * H * 4);
    /* Nothing drawn yet. */
    CHECK(tw_render_target_read(c.r, t, px, (size_t)W * H * 4) == TW_ERR_STATE);
    tw_render_drawlist dl = { .background = { 10, 128, 250, 255 } };
    CHECK(render_and_read(&c, t, &dl, px) == 0);
    int exact = 1;
    for (size_t k = 0; k < (size_t)W * H; k++)
        if (abs(px[4 * k] - 10) > 1 || abs(px[4 * k + 1] - 128) > 1 || abs(px[4 * k + 2] - 250) > 1 ||
            px[4 * k + 3] != 255)
            exact = 0;
    CHECK(exact); /* RGBA8, sRGB bytes as given, opaque, every pixel */

    /* Resizing changes the readback size; the old contents are gone. */
    CHECK(tw_render_target_resize(c.r, t, 64, 32) == TW_OK);
    CHECK(tw_render_target_size(c.r, t, &w, &h) == TW_OK);
    CHECK_EQ_INT(w, 64);
    CHECK_EQ_INT(h, 32);
    CHECK(tw_render_target_read(c.r, t, px, (size_t)W * H * 4) == TW_ERR_STATE);
    CHECK(tw_render_frame(c.r, t, &dl, NULL) == TW_OK);
    CHECK(tw_render_target_read(c.r, t, px, 64 * 32 * 4) == TW_OK);
    CHECK(abs(px[(31 * 64 + 63) * 4 + 1] - 128) <= 1);

    /* PNG save and load round trip. */
    CHECK(tw_render_target_save_png(c.r, t, "readback.png") == TW_OK);
    tw_render_image img;
    CHECK(tw_render_png_load("readback.png", NULL, &img) == TW_OK);
    CHECK_EQ_INT(img.width, 64);
    CHECK_EQ_INT(img.height, 32);
    if (img.rgba) CHECK(memcmp(img.rgba, px, 64 * 32 * 4) == 0);
    tw_render_image_free(NULL, &img);
    remove("readback.png");
    free(px);
    ctx_fini(&c);
}

/* ---- golden images ---------------------------------------------------------------------- */

TEST(render_golden_boxes)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    uint8_t *px = malloc((size_t)W * H * 4);
    if (render_and_read(&c, t, &dl, px) == 0) check_golden("boxes", px, W, H);
    tw_render_frame_stats fs;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_EQ_INT(fs.instances_drawn, BOXES);
    CHECK_EQ_INT(fs.draw_calls, 1); /* one mesh: one instanced draw */
    free(px);
    ctx_fini(&c);
}

TEST(render_no_edges_differs_only_on_edges)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    uint8_t *a = malloc((size_t)W * H * 4), *b = malloc((size_t)W * H * 4);
    CHECK(render_and_read(&c, t, &dl, a) == 0);
    dl.flags |= TW_RENDER_DRAW_NO_EDGES;
    CHECK(render_and_read(&c, t, &dl, b) == 0);
    size_t differ = 0;
    for (size_t k = 0; k < (size_t)W * H; k++) differ += memcmp(&a[4 * k], &b[4 * k], 4) != 0;
    CHECK(differ > 50);                     /* the outlines are gone */
    CHECK(differ < (size_t)W * H / 10);     /* and nothing else changed */
    uint32_t id = 0;
    int x, y;
    project(&dl.camera, W, H, (float[3]){ 2.0f, 2.0f, 1.5f }, &x, &y);
    CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK_EQ_INT(id, 2);
    free(a);
    free(b);
    ctx_fini(&c);
}

/* Outline level of detail: a cube a few pixels wide on screen loses its
 * outline by default, keeps it when forced on or selected; a near one keeps
 * it. Also through the section view's single variant (instance flag). */
static size_t pixels_differ(const uint8_t *a, const uint8_t *b)
{
    size_t n = 0;
    for (size_t k = 0; k < (size_t)W * H; k++) n += memcmp(&a[4 * k], &b[4 * k], 4) != 0;
    return n;
}

TEST(render_edges_level_of_detail)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[2];
    /* Near: a unit cube 8 m away (about 30 px); far: 0.6 m, 25 m away (about 6 px). */
    set_inst(&inst[0], cube, -1.5f, 0.0f, 0.5f, 0.3f, 1.0f, 1.0f, 1.0f, 200, 80, 60, 1);
    set_inst(&inst[1], cube, 3.0f, 17.0f, 0.5f, 0.3f, 0.6f, 0.6f, 0.6f, 200, 80, 60, 2);
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    dl.camera = (tw_render_camera){ .eye = { 0.0f, -8.0f, 2.0f }, .target = { 0.0f, 0.0f, 0.5f }, .fov_y = 45.0f };
    dl.instances = inst;
    dl.instance_count = 2;
    tw_render_frame_stats fs;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_EQ_INT(fs.instances_drawn, 2);
    CHECK_EQ_INT(fs.instances_outlined, 1);
    CHECK_EQ_INT(fs.draw_calls, 2); /* one run, split in two */
    dl.flags = TW_RENDER_DRAW_EDGES_ALWAYS;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_EQ_INT(fs.instances_outlined, 2);
    CHECK_EQ_INT(fs.draw_calls, 1);
    dl.flags = TW_RENDER_DRAW_NO_EDGES;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_EQ_INT(fs.instances_outlined, 0);
    /* A threshold below the far cube's size outlines both. */
    dl.flags = 0;
    dl.edge_min_pixels = 2.0f;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_EQ_INT(fs.instances_outlined, 2);
    dl.edge_min_pixels = 0.0f;

    uint8_t *a = malloc((size_t)W * H * 4), *on = malloc((size_t)W * H * 4), *off = malloc((size_t)W * H * 4);
    for (int section = 0; section < 2; section++) {
        /* A plane above everything: the section variant, nothing cut. */
        dl.section = (tw_render_section){ .enabled = section, .normal = { 0.0f, 0.0f, 1.0f }, .offset = 50.0f };
        for (int which = 0; which < 2; which++) {
            dl.instances = &inst[which];
            dl.instance_count = 1;
            dl.flags = 0;
            CHECK(render_and_read(&c, t, &dl, a) == 0);
            dl.flags = TW_RENDER_DRAW_EDGES_ALWAYS;
            CHECK(render_and_read(&c, t, &dl, on) == 0);
            dl.flags = TW_RENDER_DRAW_NO_EDGES;
            CHECK(render_and_read(&c, t, &dl, off) == 0);
            size_t on_off = pixels_differ(on, off), auto_off = pixels_differ(a, off), auto_on = pixels_differ(a, on);
            CHECK(on_off > 5); /* the outline shows when forced on */
            if (which == 0) {  /* near: outlined in auto */
                CHECK_EQ_INT(auto_on, 0);
                CHECK(auto_off > 5);
            } else {           /* far: none in auto */
                CHECK_EQ_INT(auto_off, 0);
                CHECK(auto_on > 5);
            }
        }
        /* Asked to go without, the near cube has none, even with outlines forced on. */
        inst[0].flags = TW_RENDER_INST_NO_OUTLINE;
        dl.instances = &inst[0];
        dl.flags = TW_RENDER_DRAW_NO_EDGES;
        CHECK(render_and_read(&c, t, &dl, off) == 0);
        dl.flags = 0;
        CHECK(render_and_read(&c, t, &dl, a) == 0);
        CHECK_EQ_INT(pixels_differ(a, off), 0);
        dl.flags = TW_RENDER_DRAW_EDGES_ALWAYS;
        CHECK(render_and_read(&c, t, &dl, on) == 0);
        CHECK_EQ_INT(pixels_differ(on, off), 0);
        /* Selected too, it shows the selection's tint and still no outline. */
        inst[0].flags = TW_RENDER_INST_SELECTED | TW_RENDER_INST_NO_OUTLINE;
        dl.flags = TW_RENDER_DRAW_NO_EDGES;
        CHECK(render_and_read(&c, t, &dl, off) == 0);
        dl.flags = 0;
        CHECK(render_and_read(&c, t, &dl, a) == 0);
        CHECK_EQ_INT(pixels_differ(a, off), 0);
        inst[0].flags = TW_RENDER_INST_SELECTED;
        CHECK(render_and_read(&c, t, &dl, on) == 0);
        CHECK(pixels_differ(on, off) > 5);
        inst[0].flags = 0;
        /* Selected, the far cube keeps its outline. */
        inst[1].flags = TW_RENDER_INST_SELECTED;
        dl.instances = &inst[1];
        dl.flags = 0;
        CHECK(render_and_read(&c, t, &dl, a) == 0);
        dl.flags = TW_RENDER_DRAW_EDGES_ALWAYS;
        CHECK(render_and_read(&c, t, &dl, on) == 0);
        CHECK_EQ_INT(pixels_differ(a, on), 0);
        inst[1].flags = 0;
    }
    free(a);
    free(on);
    free(off);
    ctx_fini(&c);
}

TEST(render_pick_ids)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    uint32_t id = 99;
    CHECK(tw_render_pick(c.r, t, 10, 10, &id) == TW_ERR_STATE); /* nothing drawn yet */
    CHECK(tw_render_frame(c.r, t, &dl, NULL) == TW_OK);
    /* The top-face centres of the boxes, and a point of the ground. */
    const float tops[4][3] = { { 1.0f, 1.0f, 0.0f }, { 2.0f, 2.0f, 1.5f }, { 5.5f, 2.5f, 2.0f }, { 3.5f, 4.6f, 1.0f } };
    for (uint32_t k = 0; k < 4; k++) {
        int x, y;
        project(&dl.camera, W, H, tops[k], &x, &y);
        CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
        CHECK_EQ_INT(id, k + 1);
    }
    /* Background: a top corner of the frame is sky. */
    CHECK(tw_render_pick(c.r, t, 2, 2, &id) == TW_OK);
    CHECK_EQ_INT(id, 0);
    CHECK(tw_render_pick(c.r, t, W + 5, 3, &id) == TW_OK); /* outside: 0 */
    CHECK_EQ_INT(id, 0);
    ctx_fini(&c);
}

TEST(render_golden_selection_outline)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    inst[2].flags |= TW_RENDER_INST_SELECTED;
    uint8_t *px = malloc((size_t)W * H * 4);
    if (render_and_read(&c, t, &dl, px) == 0) check_golden("selection", px, W, H);
    /* The outline is the selection colour (sRGB 0,180,255) just outside the box. */
    int found = 0;
    for (size_t k = 0; k < (size_t)W * H; k++)
        if (px[4 * k] == 0 && abs(px[4 * k + 1] - 180) <= 2 && px[4 * k + 2] == 255) found++;
    CHECK(found > 20);
    free(px);
    ctx_fini(&c);
}

TEST(render_golden_color_by_data)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    const float temps[3] = { 18.0f, 22.0f, 27.0f };
    for (int k = 0; k < 3; k++) {
        inst[k + 1].flags |= TW_RENDER_INST_VALUE;
        inst[k + 1].value = temps[k];
    }
    dl.colorby = (tw_render_colorby){ .colormap = TW_RENDER_COLORMAP_TURBO, .min = 16.0f, .max = 28.0f, .legend = 1 };
    uint8_t *px = malloc((size_t)W * H * 4);
    tw_render_frame_stats fs;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK(tw_render_target_read(c.r, t, px, (size_t)W * H * 4) == TW_OK);
    check_golden("colorby", px, W, H);
    CHECK_NEAR(fs.value_min, 16.0, 1e-6);
    CHECK_NEAR(fs.value_max, 28.0, 1e-6);
    /* The legend bar runs from the cold end (bottom) to the hot end (top). */
    int lx = (int)(fs.legend_rect[0] + fs.legend_rect[2] / 2);
    int rows[2] = { (int)fs.legend_rect[1] + 1, (int)(fs.legend_rect[1] + fs.legend_rect[3]) - 2 };
    for (int k = 0; k < 2; k++) {
        float tt = (fs.legend_rect[1] + fs.legend_rect[3] - ((float)rows[k] + 0.5f)) / fs.legend_rect[3];
        uint8_t want[3];
        tw_render_colormap_sample(TW_RENDER_COLORMAP_TURBO, tt, want);
        const uint8_t *got = &px[4 * (rows[k] * W + lx)];
        CHECK(abs(got[0] - want[0]) <= 3 && abs(got[1] - want[1]) <= 3 && abs(got[2] - want[2]) <= 3);
    }

    /* Automatic range: from the values of this frame. */
    dl.colorby.min = dl.colorby.max = 0.0f;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_NEAR(fs.value_min, 18.0, 1e-6);
    CHECK_NEAR(fs.value_max, 27.0, 1e-6);
    free(px);
    ctx_fini(&c);
}

TEST(render_golden_building_states)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    building b;
    REQUIRE(build_building(c.r, &b) == 0);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_drawlist dl;
    building_drawlist(&b, &dl);
    /* The ground floor alone: the upper storey hidden, the interior wall
     * selected, the machine in alarm, the box by the wall stale. */
    for (uint32_t k = 3; k < 6; k++) b.inst[k].flags |= TW_RENDER_INST_HIDDEN;
    b.inst[2].flags |= TW_RENDER_INST_SELECTED;
    uint8_t *px = malloc((size_t)W * H * 4);
    tw_render_frame_stats fs;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_EQ_INT(fs.instances_drawn, b.count - 3);
    CHECK(tw_render_target_read(c.r, t, px, (size_t)W * H * 4) == TW_OK);
    check_golden("building", px, W, H);
    /* The alarm pulses: half a second later the machine is less red. */
    int x, y;
    project(&dl.camera, W, H, (float[3]){ 8.0f, 2.0f, 1.5f }, &x, &y);
    uint32_t id = 0;
    CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK_EQ_INT(id, b.machine_id);
    uint8_t peak[4], trough[4];
    memcpy(peak, &px[4 * (y * W + x)], 4);
    dl.time = 0.75;
    if (render_and_read(&c, t, &dl, px) == 0) {
        memcpy(trough, &px[4 * (y * W + x)], 4);
        CHECK(peak[0] > trough[0] + 20 || peak[1] + 20 < trough[1]);
    }
    free(px);
    ctx_fini(&c);
}

TEST(render_golden_xray_storey)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    building b;
    REQUIRE(build_building(c.r, &b) == 0);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_drawlist dl;
    building_drawlist(&b, &dl);
    for (uint32_t k = 3; k < 6; k++) b.inst[k].flags |= TW_RENDER_INST_FADED; /* the upper storey */
    uint8_t *px = malloc((size_t)W * H * 4);
    if (render_and_read(&c, t, &dl, px) == 0) check_golden("xray", px, W, H);
    /* The ground-floor slab is pickable through the faded storey above. */
    int x, y;
    project(&dl.camera, W, H, (float[3]){ 2.0f, 4.0f, 0.0f }, &x, &y);
    uint32_t id = 0;
    CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK_EQ_INT(id, b.storey0_slab_id);
    free(px);
    ctx_fini(&c);
}

/* Faded instances blend over what lies behind them, so they must be drawn
 * back to front whatever order the draw list has: a light and a dark box on
 * one line of sight give the same picture listed near-first and far-first
 * (unsorted, the near-first list would show the far box over the near one,
 * a few levels off where they overlap). */
TEST(render_faded_sorted_back_to_front)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance near_first[3], far_first[3];
    set_inst(&near_first[0], cube, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 255, 255, 255, 1); /* near, light */
    set_inst(&near_first[1], cube, 0.0f, 3.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 0, 0, 0, 2);       /* far, dark */
    set_inst(&near_first[2], cube, 0.0f, 6.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 255, 255, 255, 3); /* farther, light */
    for (int k = 0; k < 3; k++) near_first[k].flags = TW_RENDER_INST_FADED;
    for (int k = 0; k < 3; k++) far_first[k] = near_first[2 - k];
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    dl.camera = (tw_render_camera){ .eye = { 0.3f, -4.0f, 0.4f }, .target = { 0.0f, 3.0f, 0.0f }, .fov_y = 40.0f };
    dl.instances = near_first;
    dl.instance_count = 3;
    uint8_t *a = malloc((size_t)W * H * 4), *b = malloc((size_t)W * H * 4);
    REQUIRE(a && b);
    if (render_and_read(&c, t, &dl, a) == 0) {
        dl.instances = far_first;
        if (render_and_read(&c, t, &dl, b) == 0) {
            size_t differ = 0;
            for (size_t k = 0; k < (size_t)W * H * 4; k++) differ += a[k] != b[k];
            CHECK_EQ_INT((int)differ, 0);
            /* The boxes do show: the centre is not the background. */
            const uint8_t *p = &a[((size_t)(H / 2) * W + W / 2) * 4];
            CHECK(p[0] != 0xE4 || p[1] != 0xE7 || p[2] != 0xEB);
        }
    }
    free(a);
    free(b);
    ctx_fini(&c);
}

TEST(render_golden_section_plane)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    building b;
    REQUIRE(build_building(c.r, &b) == 0);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_drawlist dl;
    building_drawlist(&b, &dl);
    dl.section = (tw_render_section){ .enabled = 1, .normal = { 0, 0, 1 }, .offset = 1.2f };
    uint8_t *px = malloc((size_t)W * H * 4);
    if (render_and_read(&c, t, &dl, px) == 0) check_golden("section", px, W, H);
    /* The machine (1.5 m tall) is cut: its side is picked below the cut,
     * and the cap at the cut, dark section fill, belongs to it as well. */
    int x, y;
    uint32_t id = 0;
    project(&dl.camera, W, H, (float[3]){ 8.0f, 1.0f, 0.5f }, &x, &y);
    CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK_EQ_INT(id, b.machine_id);
    project(&dl.camera, W, H, (float[3]){ 8.0f, 2.0f, 1.2f }, &x, &y);
    CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK_EQ_INT(id, b.machine_id);
    const uint8_t *cap = &px[4 * (y * W + x)];
    CHECK(cap[0] < 130 && cap[1] < 60 && cap[2] < 60); /* dark (alarm) red */
    /* Nothing above the cut: the upper storey's slab is gone. */
    project(&dl.camera, W, H, (float[3]){ 2.0f, 4.0f, 3.0f }, &x, &y);
    CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK(id != b.storey0_slab_id + 3);
    free(px);
    ctx_fini(&c);
}

TEST(render_stale_handles_are_detected)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh a = unit_cube(c.r);
    REQUIRE(a.id != 0);
    CHECK(tw_render_mesh_valid(c.r, a));
    CHECK(tw_render_mesh_destroy(c.r, a) == TW_OK);
    CHECK(!tw_render_mesh_valid(c.r, a));
    CHECK(tw_render_mesh_destroy(c.r, a) == TW_ERR_STATE); /* twice */
    tw_render_mesh b = unit_cube(c.r);                     /* reuses the slot, new generation */
    CHECK(b.id != a.id);
    CHECK(!tw_render_mesh_valid(c.r, a));
    CHECK(tw_render_mesh_valid(c.r, b));
    CHECK(!tw_render_mesh_valid(c.r, (tw_render_mesh){ 0 }));
    float mn[3], mx[3];
    CHECK(tw_render_mesh_bounds(c.r, a, mn, mx) == TW_ERR_STATE);
    CHECK(tw_render_mesh_bounds(c.r, b, mn, mx) == TW_OK);
    CHECK_NEAR(mx[2], 0.5, 1e-6);

    /* A draw list naming the stale mesh: that instance is skipped, the rest drawn. */
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(b, inst, &dl);
    inst[1].mesh = a;
    tw_render_frame_stats fs;
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_OK);
    CHECK_EQ_INT(fs.instances_drawn, BOXES - 1);
    CHECK_EQ_INT(fs.instances_skipped, 1);

    /* A stale target. */
    CHECK(tw_render_target_destroy(c.r, t) == TW_OK);
    CHECK(!tw_render_target_valid(c.r, t));
    CHECK(tw_render_frame(c.r, t, &dl, &fs) == TW_ERR_STATE);
    CHECK(tw_render_target_destroy(c.r, t) == TW_ERR_STATE);
    uint32_t id;
    CHECK(tw_render_pick(c.r, t, 1, 1, &id) == TW_ERR_STATE);
    tw_render_counters k;
    tw_render_get_counters(c.r, &k);
    CHECK_EQ_INT(k.invalid_handles, 5);
    ctx_fini(&c);
}

/* ---- retained drawing ------------------------------------------------------------------ */

/* A scene of a few hundred instances that changes step by step: moves,
 * colours, values that move the automatic colour range, elements turning
 * stale, faded, hidden and back, alarms, a selection, a mesh made and then
 * destroyed under an instance, the camera moving. */
enum { RET_N = 240, RET_STEPS = 9 };
typedef struct retained_scene {
    tw_render_mesh cube, slab, extra;
    tw_render_instance inst[RET_N];
    uint32_t versions[RET_N];
    tw_render_drawlist dl;
} retained_scene;

static void retained_setup(tw_render *r, retained_scene *s, uint64_t list_id)
{
    memset(s, 0, sizeof *s);
    s->cube = unit_cube(r);
    s->slab = make_box_mesh(r, (float[3]){ -1.0f, -1.0f, 0.0f }, (float[3]){ 1.0f, 1.0f, 0.2f });
    for (uint32_t k = 0; k < RET_N; k++) {
        /* Grouped by mesh, as a loop over one kind of entity gives. */
        tw_render_mesh m = k < 160 ? s->cube : s->slab;
        float x = (float)(k % 16) * 1.3f, y = (float)(k / 16) * 1.3f, size = 0.4f + 0.05f * (float)(k % 7);
        set_inst(&s->inst[k], m, x, y, 0.5f, 0.1f * (float)(k % 5), size, size, size, (uint8_t)(60 + k % 150),
                 (uint8_t)(200 - k % 120), 120, k + 1);
        if (k % 3 == 0) {
            s->inst[k].flags |= TW_RENDER_INST_VALUE;
            s->inst[k].value = (float)(k % 23);
        }
    }
    s->inst[5].flags |= TW_RENDER_INST_STALE;
    s->inst[6].flags |= TW_RENDER_INST_STALE;
    s->inst[170].flags |= TW_RENDER_INST_FADED;
    s->inst[171].flags |= TW_RENDER_INST_FADED;
    s->inst[12].flags |= TW_RENDER_INST_ALARM;
    s->inst[30].flags |= TW_RENDER_INST_HIDDEN;
    memset(&s->dl, 0, sizeof s->dl);
    s->dl.camera = (tw_render_camera){ .eye = { -6.0f, -10.0f, 14.0f }, .target = { 10.0f, 9.0f, 0.0f }, .fov_y = 45.0f };
    s->dl.instances = s->inst;
    s->dl.instance_count = RET_N;
    s->dl.colorby = (tw_render_colorby){ .colormap = TW_RENDER_COLORMAP_TURBO };
    s->dl.list_id = list_id;
    s->dl.instance_versions = list_id ? s->versions : NULL;
}

static void touch(retained_scene *s, uint32_t k) { s->versions[k]++; }

/* Step `step` of the changes (the same in every run). */
static void retained_step(tw_render *r, retained_scene *s, int step)
{
    tw_render_instance *in = s->inst;
    s->dl.time = 0.13 * step; /* the alarm pulses */
    switch (step) {
    case 1: /* a move and a colour */
        in[40].transform[3] += 0.7f;
        in[41].color[0] = 250;
        touch(s, 40);
        touch(s, 41);
        break;
    case 2: /* a value beyond the range: every coloured record changes */
        in[3].value = 60.0f;
        touch(s, 3);
        break;
    case 3: /* lists change: stale to opaque, opaque to faded, hidden to shown, a new alarm */
        in[5].flags &= ~TW_RENDER_INST_STALE;
        in[50].flags |= TW_RENDER_INST_FADED;
        in[30].flags &= ~TW_RENDER_INST_HIDDEN;
        in[13].flags |= TW_RENDER_INST_ALARM;
        touch(s, 5);
        touch(s, 50);
        touch(s, 30);
        touch(s, 13);
        break;
    case 4: /* the camera moves: outlines change, no record does */
        s->dl.camera.eye[0] += 9.0f;
        s->dl.camera.eye[2] -= 5.0f;
        break;
    case 5: /* a new mesh under one instance */
        s->extra = make_box_mesh(r, (float[3]){ -0.5f, -0.5f, 0.0f }, (float[3]){ 0.5f, 0.5f, 2.0f });
        in[100].mesh = s->extra;
        touch(s, 100);
        break;
    case 6: /* a selection; an alarm cleared */
        in[70].flags |= TW_RENDER_INST_SELECTED;
        in[12].flags &= ~TW_RENDER_INST_ALARM;
        touch(s, 70);
        touch(s, 12);
        break;
    case 7: /* the mesh destroyed under its instance, which says nothing */
        tw_render_mesh_destroy(r, s->extra);
        break;
    case 8: /* nothing at all */
        break;
    default:
        break;
    }
}

TEST(render_retained_equals_full_upload)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_target t = make_target(c.r, W, H);
    static retained_scene s;
    uint8_t *full = malloc((size_t)W * H * 4 * RET_STEPS), *px = malloc((size_t)W * H * 4);
    tw_render_frame_stats fs_full[RET_STEPS], fs;
    /* Everything uploaded every frame: the reference. */
    retained_setup(c.r, &s, 0);
    for (int step = 0; step < RET_STEPS; step++) {
        retained_step(c.r, &s, step);
        CHECK(tw_render_frame(c.r, t, &s.dl, &fs_full[step]) == TW_OK);
        CHECK(tw_render_target_read(c.r, t, full + (size_t)step * W * H * 4, (size_t)W * H * 4) == TW_OK);
        CHECK_EQ_INT(fs_full[step].records_uploaded, RET_N);
    }
    tw_render_mesh_destroy(c.r, s.cube);
    tw_render_mesh_destroy(c.r, s.slab);
    /* Retained: only what changed goes up, the pictures are the same. */
    retained_setup(c.r, &s, tw_render_list_id(c.r));
    /* Records rewritten per step: all (the first frame); the two touched
     * and the pulsing alarm; the 79 coloured ones (the alarm is one of
     * them); the 4 touched and the other alarm; the 2 alarms (the camera
     * moved, no record did); the touched one and the alarms; the 2 touched
     * and the alarm left; the alarm (the destroyed mesh changes lists, not
     * records); the alarm. */
    const uint32_t expect[RET_STEPS] = { RET_N, 3, 79, 5, 2, 3, 3, 1, 1 };
    for (int step = 0; step < RET_STEPS; step++) {
        retained_step(c.r, &s, step);
        CHECK(tw_render_frame(c.r, t, &s.dl, &fs) == TW_OK);
        CHECK(tw_render_target_read(c.r, t, px, (size_t)W * H * 4) == TW_OK);
        if (memcmp(px, full + (size_t)step * W * H * 4, (size_t)W * H * 4) != 0)
            TEST_FAIL_AT(__FILE__, __LINE__, "step %d: %zu pixels differ from a full upload", step,
                         pixels_differ(px, full + (size_t)step * W * H * 4));
        CHECK_EQ_INT(fs.instances_drawn, fs_full[step].instances_drawn);
        CHECK_EQ_INT(fs.instances_outlined, fs_full[step].instances_outlined);
        CHECK_EQ_INT(fs.instances_skipped, fs_full[step].instances_skipped);
        CHECK_EQ_INT(fs.draw_calls, fs_full[step].draw_calls);
        if (fs.records_uploaded != expect[step])
            TEST_FAIL_AT(__FILE__, __LINE__, "step %d: %u records uploaded, expected %u", step, fs.records_uploaded,
                         expect[step]);
    }
    CHECK_EQ_INT(fs_full[7].instances_skipped, 1);
    free(full);
    free(px);
    ctx_fini(&c);
}

/* A big retained list drawn while the renderer's allocations fail one by
 * one (its arrays and buffers growing past their first size): the frame
 * fails cleanly or succeeds, nothing leaks, and the next frame, with
 * memory back, shows exactly what a healthy renderer shows. */
enum { OOM_N = 3000 };
typedef struct oom_scene {
    tw_render_mesh cube;
    tw_render_instance small[BOXES], big[OOM_N];
    uint32_t versions[OOM_N];
    tw_render_drawlist dl_small, dl_big;
} oom_scene;

static void oom_setup(tw_render *r, oom_scene *s)
{
    memset(s, 0, sizeof *s);
    s->cube = unit_cube(r);
    boxes_scene(s->cube, s->small, &s->dl_small);
    for (uint32_t k = 0; k < OOM_N; k++)
        set_inst(&s->big[k], s->cube, (float)(k % 60) * 0.4f, (float)(k / 60) * 0.4f, 0.2f, 0.0f, 0.3f, 0.3f, 0.3f,
                 (uint8_t)(80 + k % 120), 150, (uint8_t)(200 - k % 90), k + 1);
    s->big[7].flags |= TW_RENDER_INST_ALARM;
    s->big[20].flags |= TW_RENDER_INST_FADED;
    s->dl_big = s->dl_small;
    s->dl_big.camera = (tw_render_camera){ .eye = { 12.0f, -14.0f, 16.0f }, .target = { 12.0f, 10.0f, 0.0f }, .fov_y = 45.0f };
    s->dl_big.instances = s->big;
    s->dl_big.instance_count = OOM_N;
    s->dl_big.list_id = tw_render_list_id(r);
    s->dl_big.instance_versions = s->versions;
}

/* After the big list's first frame: one element moves. */
static void oom_change(oom_scene *s)
{
    s->big[100].transform[3] += 1.0f;
    s->versions[100]++;
}

TEST(render_retained_survives_allocation_failures)
{
    static oom_scene s;
    uint8_t *want = malloc((size_t)W * H * 4), *px = malloc((size_t)W * H * 4);
    REQUIRE(want && px);
    ctx c;
    if (ctx_init(&c) != 0) {
        free(want);
        free(px);
        return;
    }
    tw_render_target t = make_target(c.r, W, H);
    oom_setup(c.r, &s);
    CHECK(render_and_read(&c, t, &s.dl_small, px) == 0);
    CHECK(render_and_read(&c, t, &s.dl_big, px) == 0);
    oom_change(&s);
    CHECK(render_and_read(&c, t, &s.dl_big, want) == 0);
    ctx_fini(&c);
    int failed_frames = 0;
    for (uint64_t k = 1; k < 200 && !test_failed_checks; k++) {
        if (ctx_init(&c) != 0) break;
        t = make_target(c.r, W, H);
        oom_setup(c.r, &s);
        CHECK(render_and_read(&c, t, &s.dl_small, px) == 0);
        c.fa.fail_at = c.fa.allocations + k;
        tw_status st = tw_render_frame(c.r, t, &s.dl_big, NULL);
        int failed = c.fa.failures > 0;
        c.fa.fail_at = 0;
        if (failed) {
            failed_frames += st != TW_OK;
            CHECK(st == TW_OK || st == TW_ERR_NOMEM);
        } else {
            CHECK(st == TW_OK);
        }
        oom_change(&s);
        CHECK(render_and_read(&c, t, &s.dl_big, px) == 0);
        if (memcmp(px, want, (size_t)W * H * 4) != 0)
            TEST_FAIL_AT(__FILE__, __LINE__, "allocation %llu failed: the next frame differs in %zu pixels",
                         (unsigned long long)k, pixels_differ(px, want));
        ctx_fini(&c);
        if (!failed) break; /* past the frame's last allocation */
    }
    CHECK(failed_frames > 0); /* the frame did allocate, and its failures were seen */
    fprintf(stderr, "     %d failed frames before one that allocated all it needed\n", failed_frames);
    free(want);
    free(px);
}

/* ---- memory -------------------------------------------------------------------------- */

TEST(render_steady_state_frame_allocates_nothing)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    building b;
    REQUIRE(build_building(c.r, &b) == 0);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_drawlist dl;
    building_drawlist(&b, &dl);
    b.inst[2].flags |= TW_RENDER_INST_SELECTED;
    b.inst[4].flags |= TW_RENDER_INST_FADED;
    dl.colorby.colormap = TW_RENDER_COLORMAP_VIRIDIS;
    dl.colorby.legend = 1;
    uint8_t *px = malloc((size_t)W * H * 4);
    for (int k = 0; k < 3; k++) CHECK(render_and_read(&c, t, &dl, px) == 0); /* warm up */
    tw_render_counters k0, k1;
    tw_render_get_counters(c.r, &k0);
    uint64_t fa0 = c.fa.allocations;
    for (int k = 0; k < 20; k++) {
        dl.time = 0.05 * k;
        CHECK(render_and_read(&c, t, &dl, px) == 0);
    }
    tw_render_get_counters(c.r, &k1);
    CHECK_EQ_U64(k1.heap_allocations - k0.heap_allocations, 0);
    CHECK_EQ_U64(k1.gpu_allocations - k0.gpu_allocations, 0);
    CHECK_EQ_U64(c.fa.allocations - fa0, 0);
    CHECK_EQ_U64(k1.frames - k0.frames, 20);
    free(px);
    ctx_fini(&c);
}

TEST(render_instance_ring_grows)
{
    ctx c;
    if (ctx_init_desc(&c, (tw_render_desc){ .max_instances = 2 }) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    uint8_t *px = malloc((size_t)W * H * 4);
    for (int k = 0; k < 3; k++) CHECK(render_and_read(&c, t, &dl, px) == 0);
    if (!test_failed_checks) check_golden("boxes", px, W, H); /* same picture as with a big ring */
    free(px);
    ctx_fini(&c);
}

TEST(render_shared_buffers_grow_and_keep_meshes)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    /* A mesh larger than the initial shared buffers (64k vertices). */
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    for (int k = 0; k < 3000 && !test_failed_checks; k++) {
        float x = (float)(k % 60) * 0.02f, y = (float)(k / 60) * 0.02f;
        CHECK(tw_render_geom_box(&g, (float[3]){ x, y, 0 }, (float[3]){ x + 0.01f, y + 0.01f, 0.01f }) == TW_OK);
    }
    CHECK(g.vertex_count > (1u << 16));
    tw_render_mesh big = { 0 };
    CHECK(mesh_from_geom(c.r, &g, "big", &big) == TW_OK);
    tw_render_geom_fini(&g);
    /* The cube uploaded before the growth still draws the same picture. */
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    uint8_t *px = malloc((size_t)W * H * 4);
    if (render_and_read(&c, t, &dl, px) == 0) check_golden("boxes", px, W, H);
    CHECK(tw_render_mesh_destroy(c.r, big) == TW_OK);
    CHECK(render_and_read(&c, t, &dl, px) == 0);
    free(px);
    ctx_fini(&c);
}

TEST(render_bad_mesh_is_refused)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_vertex v[3] = { { { 0, 0, 0 }, { 0, 0, 1 } }, { { 1, 0, 0 }, { 0, 0, 1 } }, { { 0, 1, 0 }, { 0, 0, 1 } } };
    uint32_t bad[3] = { 0, 1, 3 }, two[2] = { 0, 1 };
    tw_render_mesh m = { 7 };
    CHECK(tw_render_mesh_create(c.r, &(tw_render_mesh_desc){ .vertices = v, .vertex_count = 3, .indices = bad, .index_count = 3 },
                                &m) == TW_ERR_INVALID);
    CHECK_EQ_INT(m.id, 0);
    CHECK(tw_render_mesh_create(c.r, &(tw_render_mesh_desc){ .vertices = v, .vertex_count = 3, .indices = two, .index_count = 2 },
                                &m) == TW_ERR_INVALID);
    CHECK(tw_render_mesh_create(c.r, &(tw_render_mesh_desc){ .vertices = v, .indices = two }, &m) == TW_ERR_INVALID);
    ctx_fini(&c);
}

TEST(render_bench_hook_runs)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_bench_result res;
    CHECK(tw_render_bench_run(c.r, &(tw_render_bench_desc){ .instances = 200, .width = W, .height = H, .frames = 5 },
                              &res) == TW_OK);
    CHECK(res.engine_ms > 0.0);
    CHECK(res.baseline_ms > 0.0);
    CHECK_EQ_U64(res.triangles, 200 * 12);
    CHECK_EQ_U64(res.steady_allocations, 0);
    printf("     200 cubes %ux%u: engine %.2f ms, baseline %.2f ms, ratio %.2f, cpu %.3f ms\n", W, H, res.engine_ms,
           res.baseline_ms, res.ratio, res.cpu_ms);
    ctx_fini(&c);
}

/* The bare path of `twin bench render`'s office line: any draw list's
 * triangles baked to world space, drawn once. */
TEST(render_bench_bare_path)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh cube = unit_cube(c.r);
    tw_render_instance inst[BOXES];
    tw_render_drawlist dl;
    boxes_scene(cube, inst, &dl);
    inst[3].flags |= TW_RENDER_INST_HIDDEN; /* not drawn, not baked */
    tw_render_bench_bare *b = NULL;
    CHECK(tw_render_bench_bare_new(c.r, &dl, W, H, &b) == TW_OK);
    CHECK_EQ_U64(tw_render_bench_bare_triangles(b), 3 * 12);
    for (int k = 0; k < 3 && b; k++) CHECK(tw_render_bench_bare_frame(c.r, b) == TW_OK);
    tw_render_bench_bare_free(c.r, b);
    ctx_fini(&c);
}

/* ---- geometry and math (no GPU) ------------------------------------------------------------ */

/* Every triangle's winding agrees with its vertices' normal, and a closed
 * solid's area-weighted normals sum to zero. Returns the total area. */
static double check_mesh(const tw_render_geom *g, int closed)
{
    double sum[3] = { 0, 0, 0 }, area = 0.0;
    int bad = 0;
    for (uint32_t t = 0; t + 2 < g->index_count; t += 3) {
        const float *a = g->vertices[g->indices[t]].position, *b = g->vertices[g->indices[t + 1]].position,
                    *c = g->vertices[g->indices[t + 2]].position;
        double e1[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] }, e2[3] = { c[0] - a[0], c[1] - a[1], c[2] - a[2] };
        double n[3] = { e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0] };
        const float *vn = g->vertices[g->indices[t]].normal;
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (len > 1e-9 && (n[0] * vn[0] + n[1] * vn[1] + n[2] * vn[2]) / len < 0.99) bad++;
        for (int k = 0; k < 3; k++) sum[k] += 0.5 * n[k];
        area += 0.5 * len;
    }
    CHECK_EQ_INT(bad, 0);
    if (closed)
        for (int k = 0; k < 3; k++) CHECK_NEAR(sum[k], 0.0, 1e-3 * (area + 1.0));
    return area;
}

TEST(render_geom_box)
{
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    CHECK(tw_render_geom_box(&g, (float[3]){ 0, 0, 0 }, (float[3]){ 1, 2, 3 }) == TW_OK);
    CHECK_EQ_INT(g.vertex_count, 24);
    CHECK_EQ_INT(g.index_count, 36);
    CHECK_NEAR(check_mesh(&g, 1), 2 * (1 * 2 + 2 * 3 + 1 * 3), 1e-4);
    CHECK(tw_render_geom_box(&g, (float[3]){ 0, 0, 0 }, (float[3]){ 1, 0, 3 }) == TW_ERR_INVALID);
    float mn[3], mx[3];
    tw_render_geom_bounds(&g, mn, mx);
    CHECK_NEAR(mx[1], 2.0, 0);
    tw_render_geom_fini(&g);
}

TEST(render_geom_extrude_concave_both_windings)
{
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    /* The L footprint: area 10*5 + 6*3 = 68; its prism of height 2 has
     * surface 2*68 + 2*perimeter(36). */
    CHECK(tw_render_geom_extrude(&g, footprint, 6, 0.0f, 2.0f) == TW_OK);
    CHECK_EQ_INT(g.index_count, 2 * 3 * 4 + 6 * 6);
    CHECK_NEAR(check_mesh(&g, 1), 2 * 68 + 2 * 36, 1e-3);
    float rev[6][2];
    for (int k = 0; k < 6; k++) memcpy(rev[k], footprint[5 - k], sizeof rev[k]);
    tw_render_geom_reset(&g);
    CHECK(tw_render_geom_extrude(&g, rev, 6, 0.0f, 2.0f) == TW_OK);
    CHECK_NEAR(check_mesh(&g, 1), 2 * 68 + 2 * 36, 1e-3);
    /* A comb with collinear points: still the right area. */
    static const float comb2[10][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 3, 3 },
                                        { 2, 3 }, { 2, 1 }, { 1, 1 }, { 1, 3 }, { 0, 3 } };
    tw_render_geom_reset(&g);
    CHECK(tw_render_geom_extrude(&g, comb2, 10, 0.0f, 1.0f) == TW_OK);
    double top = 0.0;
    for (uint32_t t = 0; t + 2 < g.index_count; t += 3) {
        const tw_render_vertex *a = &g.vertices[g.indices[t]];
        if (a->normal[2] > 0.5f) {
            const float *p = a->position, *q = g.vertices[g.indices[t + 1]].position,
                        *r = g.vertices[g.indices[t + 2]].position;
            top += 0.5 * ((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
        }
    }
    CHECK_NEAR(top, 9.0 - 2.0, 1e-5);
    check_mesh(&g, 1);
    /* Degenerate input is refused. */
    static const float line[3][2] = { { 0, 0 }, { 1, 1 }, { 2, 2 } };
    CHECK(tw_render_geom_extrude(&g, line, 3, 0.0f, 1.0f) == TW_ERR_INVALID);
    CHECK(tw_render_geom_extrude(&g, footprint, 2, 0.0f, 1.0f) == TW_ERR_INVALID);
    CHECK(tw_render_geom_extrude(&g, footprint, 6, 0.0f, 0.0f) == TW_ERR_INVALID);
    tw_render_geom_fini(&g);
}

TEST(render_geom_wall_openings_and_mitres)
{
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    /* A straight 4 m wall with a 1 m door: two solid pieces and a lintel. */
    static const float line[2][2] = { { 0, 0 }, { 4, 0 } };
    tw_render_opening door = { 1.5f, 2.5f, 0.0f, 2.0f };
    tw_render_wall_desc w = { .points = line, .point_count = 2, .thickness = 0.2f, .height = 3.0f,
                              .openings = &door, .opening_count = 1 };
    CHECK(tw_render_geom_wall(&g, &w) == TW_OK);
    CHECK_EQ_INT(g.index_count, 3 * 36);
    check_mesh(&g, 1);
    float mn[3], mx[3];
    tw_render_geom_bounds(&g, mn, mx);
    CHECK_NEAR(mn[0], 0.0, 1e-6);
    CHECK_NEAR(mx[0], 4.0, 1e-6);
    CHECK_NEAR(mn[1], -0.1, 1e-6);
    CHECK_NEAR(mx[2], 3.0, 1e-6);
    /* A window (sill and lintel) and the solid pieces beside it. */
    tw_render_geom_reset(&g);
    tw_render_opening win = { 1.0f, 3.0f, 1.0f, 2.0f };
    w.openings = &win;
    CHECK(tw_render_geom_wall(&g, &w) == TW_OK);
    CHECK_EQ_INT(g.index_count, 4 * 36);
    /* A closed square room, mitred: the outer corners meet exactly. */
    tw_render_geom_reset(&g);
    static const float sq[4][2] = { { 0, 0 }, { 4, 0 }, { 4, 3 }, { 0, 3 } };
    tw_render_wall_desc room = { .points = sq, .point_count = 4, .closed = 1, .thickness = 0.2f, .height = 2.5f };
    CHECK(tw_render_geom_wall(&g, &room) == TW_OK);
    CHECK_EQ_INT(g.index_count, 4 * 36);
    tw_render_geom_bounds(&g, mn, mx);
    CHECK_NEAR(mn[0], -0.1, 1e-5);
    CHECK_NEAR(mn[1], -0.1, 1e-5);
    CHECK_NEAR(mx[0], 4.1, 1e-5);
    CHECK_NEAR(mx[1], 3.1, 1e-5);
    check_mesh(&g, 1);
    CHECK(tw_render_geom_wall(&g, &(tw_render_wall_desc){ .points = sq, .point_count = 1, .thickness = 0.2f,
                                                          .height = 1.0f }) == TW_ERR_INVALID);
    tw_render_geom_fini(&g);
}

/* A cube as an importer gives it: 8 shared corners, 12 triangles. */
static const tw_render_vertex shared_cube_v[8] = {
    { { 0, 0, 0 }, { -0.577f, -0.577f, -0.577f } }, { { 1, 0, 0 }, { 0.577f, -0.577f, -0.577f } },
    { { 1, 1, 0 }, { 0.577f, 0.577f, -0.577f } },   { { 0, 1, 0 }, { -0.577f, 0.577f, -0.577f } },
    { { 0, 0, 1 }, { -0.577f, -0.577f, 0.577f } },  { { 1, 0, 1 }, { 0.577f, -0.577f, 0.577f } },
    { { 1, 1, 1 }, { 0.577f, 0.577f, 0.577f } },    { { 0, 1, 1 }, { -0.577f, 0.577f, 0.577f } },
};
static const uint32_t shared_cube_i[36] = { 0, 2, 1, 0, 3, 2, 4, 5, 6, 4, 6, 7, 0, 1, 5, 0, 5, 4,
                                            1, 2, 6, 1, 6, 5, 2, 3, 7, 2, 7, 6, 3, 0, 4, 3, 4, 7 };

TEST(render_geom_append_derives_edges)
{
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    CHECK(tw_render_geom_append(&g, shared_cube_v, 8, shared_cube_i, 36) == TW_OK);
    CHECK_EQ_INT(g.vertex_count, 36); /* three of its own per triangle */
    CHECK_EQ_INT(g.index_count, 36);
    /* Each triangle has exactly one side that is no edge: the face diagonal
     * (its coordinate held at 1/2 on all three corners). */
    int bad = 0;
    for (uint32_t t = 0; t < 12; t++) {
        int held = 0;
        for (int c = 0; c < 3; c++)
            if (g.edges[3 * t][c] == 128 && g.edges[3 * t + 1][c] == 128 && g.edges[3 * t + 2][c] == 128) held++;
        if (held != 1) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(tw_render_geom_append(&g, shared_cube_v, 8, shared_cube_i, 35) == TW_ERR_INVALID);
    tw_render_geom_fini(&g);
}

TEST(render_mesh_without_edges_draws)
{
    ctx c;
    if (ctx_init(&c) != 0) return;
    tw_render_mesh m = { 0 };
    CHECK(tw_render_mesh_create(c.r, &(tw_render_mesh_desc){ .vertices = shared_cube_v, .vertex_count = 8,
                                                             .indices = shared_cube_i, .index_count = 36,
                                                             .label = "imported" },
                                &m) == TW_OK);
    tw_render_target t = make_target(c.r, W, H);
    tw_render_instance in;
    set_inst(&in, m, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 180, 120, 60, 42);
    tw_render_drawlist dl = { .camera = { .eye = { -2.0f, -3.0f, 2.5f }, .target = { 0.5f, 0.5f, 0.5f } },
                              .instances = &in, .instance_count = 1 };
    CHECK(tw_render_frame(c.r, t, &dl, NULL) == TW_OK);
    int x, y;
    project(&dl.camera, W, H, (float[3]){ 0.5f, 0.5f, 1.0f }, &x, &y);
    uint32_t id = 0;
    CHECK(tw_render_pick(c.r, t, (uint32_t)x, (uint32_t)y, &id) == TW_OK);
    CHECK_EQ_INT(id, 42);
    ctx_fini(&c);
}

TEST(render_geom_under_failing_allocator)
{
    /* Every allocation failure is reported, and nothing leaks. */
    for (uint64_t n = 1; n < 40; n++) {
        tw_failing_alloc fa = { .fail_at = n };
        tw_allocator a = tw_failing_alloc_allocator(&fa);
        tw_render_geom g;
        tw_render_geom_init(&g, &a);
        tw_status s1 = tw_render_geom_extrude(&g, footprint, 6, 0.0f, 1.0f);
        tw_render_wall_desc w = { .points = footprint, .point_count = 6, .closed = 1, .thickness = 0.2f,
                                  .height = 2.0f };
        tw_status s2 = tw_render_geom_wall(&g, &w);
        CHECK(s1 == TW_OK || s1 == TW_ERR_NOMEM);
        CHECK(s2 == TW_OK || s2 == TW_ERR_NOMEM);
        tw_render_geom_fini(&g);
        CHECK_EQ_INT(fa.live_bytes, 0);
    }
}

TEST(render_camera_math)
{
    tw_render_camera cam = { .eye = { 10, -10, 10 }, .target = { 1, 2, 3 } };
    int x, y;
    project(&cam, 200, 100, cam.target, &x, &y);
    CHECK_EQ_INT(x, 100);
    CHECK_EQ_INT(y, 50);
    /* Up is +z: a point above the target is higher on screen (smaller y). */
    project(&cam, 200, 100, (float[3]){ 1, 2, 5 }, &x, &y);
    CHECK(y < 50);
    /* The fitted camera sees every corner of the box. */
    float mn[3] = { -5, -3, 0 }, mx[3] = { 5, 3, 4 };
    tw_render_camera fit = { .fov_y = 40 };
    tw_render_camera_fit(&fit, mn, mx, 2.0f, -60.0f, 30.0f);
    for (int k = 0; k < 8; k++) {
        float p[3] = { (k & 1) ? mx[0] : mn[0], (k & 2) ? mx[1] : mn[1], (k & 4) ? mx[2] : mn[2] };
        project(&fit, 200, 100, p, &x, &y);
        CHECK(x >= 0 && x < 200 && y >= 0 && y < 100);
    }
    /* Orthographic: the target at the centre too. */
    tw_render_camera ortho = { .eye = { 0, 0, 50 }, .target = { 0, 0, 0 }, .up = { 0, 1, 0 }, .ortho_height = 10 };
    project(&ortho, 100, 100, (float[3]){ 0, 2.5f, 0 }, &x, &y);
    CHECK_EQ_INT(x, 50);
    CHECK_EQ_INT(y, 25);
    float m[12];
    tw_render_transform_trs(m, (float[3]){ 1, 2, 3 }, 1.5707963f, (float[3]){ 2, 1, 1 });
    CHECK_NEAR(m[4], 2.0, 1e-6); /* x axis scaled by 2, turned to +y: row 1, column 0 */
    CHECK_NEAR(m[3], 1.0, 0);
    CHECK_NEAR(m[7], 2.0, 0);
    CHECK_NEAR(m[11], 3.0, 0);
}

TEST(render_colormap_samples)
{
    uint8_t c[3];
    tw_render_colormap_sample(TW_RENDER_COLORMAP_VIRIDIS, 0.0f, c);
    CHECK_EQ_INT(c[0], 68); /* #440154 */
    CHECK_EQ_INT(c[1], 1);
    CHECK_EQ_INT(c[2], 84);
    tw_render_colormap_sample(TW_RENDER_COLORMAP_VIRIDIS, 1.0f, c);
    CHECK_EQ_INT(c[0], 253); /* #fde725 */
    CHECK_EQ_INT(c[1], 231);
    CHECK_EQ_INT(c[2], 37);
    tw_render_colormap_sample(TW_RENDER_COLORMAP_TURBO, 0.5f, c);
    CHECK(c[1] > 200 && c[2] < 100); /* turbo's middle is green-yellow */
    tw_render_colormap_sample(TW_RENDER_COLORMAP_TURBO, NAN, c);
    CHECK_EQ_INT(c[0], 48);
}

int main(int argc, char **argv) { return test_main(argc, argv); }
