/* tests/render_scene: imported meshes (Shape kind "mesh") through the view
 * and the Vulkan renderer, with the Khronos validation layer on.
 *
 * The scene tests/render_scene/data/mesh.twin.json names mesh files beside
 * it by relative paths (tests/asset/data: a glTF file written for the tests,
 * drawn by two entities; an OBJ quad), a missing file and a CityJSON
 * reference. Golden image: tests/render_scene/golden/mesh.png (320x180);
 * TWIN_UPDATE_GOLDEN=1 rewrites it. Exits 77 only without any Vulkan device. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_fixture.h"

#include "golden.h"

static const char *mesh_scene(char *buf, size_t size)
{
    snprintf(buf, size, "%s/tests/render_scene/data/mesh.twin.json", TWIN_SOURCE_DIR);
    return buf;
}

/* A renderer with validation, the mesh scene and a view of it (the base
 * dir not set yet: the cases say when). */
static int ctx_init(ctx *c)
{
    char path[1024];
    return ctx_open(c, mesh_scene(path, sizeof path), 0.0);
}

static tw_entity entity(ctx *c, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "yard/depot/ground/%s", name);
    tw_entity e = tw_ecs_lookup_path(c->s.world, path);
    if (tw_entity_is_null(e)) TEST_FAIL_AT(__FILE__, __LINE__, "no entity %s", path);
    return e;
}

/* A column-major transform applied to a point. */
static void apply(const float m[12], const float p[3], float out[3])
{
    for (int k = 0; k < 3; k++) out[k] = m[4 * k] * p[0] + m[4 * k + 1] * p[1] + m[4 * k + 2] * p[2] + m[4 * k + 3];
}

TEST(mesh_scene_golden)
{
    ctx c;
    if (ctx_init(&c)) return;
    char path[1024];
    tw_view_set_scene_path(c.v, mesh_scene(path, sizeof path));
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    dl.camera = (tw_render_camera){ .eye = { -6.0f, -16.0f, 16.0f }, .target = { 12.0f, 5.0f, 0.0f }, .fov_y = 45.0f };
    REQUIRE(tw_view_build(c.v, NULL, 1.0, 0.0, &dl) == TW_OK);
    tw_render_frame_stats fs;
    REQUIRE(tw_render_frame(c.r, c.t, &dl, &fs) == TW_OK);
    REQUIRE(tw_render_target_read(c.r, c.t, c.px, sizeof c.px) == TW_OK);
    test_check_golden("tests/render_scene/golden", "mesh", c.px, W, H);
    CHECK_EQ_INT(fs.instances_skipped, 0);

    /* The slab, two entities drawing blocks.gltf, the quad; ghost (missing
     * file) and city-block (a CityJSON reference) are counted, not drawn. */
    CHECK_EQ_INT(dl.instance_count, 4);
    tw_view_stats vs;
    tw_view_get_stats(c.v, &vs);
    CHECK_EQ_INT(vs.warnings, 2);
    /* Cube, person, slab, blocks.gltf once (shared), quad.obj. */
    CHECK_EQ_INT(vs.meshes, 5);
    CHECK_EQ_U64(vs.triangles, 12 + 24 + 24 + 2);
    const tw_render_instance *a = instance_of(&dl, entity(&c, "blocks-as-modelled"));
    const tw_render_instance *b = instance_of(&dl, entity(&c, "blocks-scaled"));
    REQUIRE(a && b);
    CHECK(a->mesh.id == b->mesh.id);
    CHECK(instance_of(&dl, entity(&c, "ghost")) == NULL);
    CHECK(instance_of(&dl, entity(&c, "city-block")) == NULL);

    /* As modelled: the file's own metres at the origin. Scaled: size
     * [0, 0, 4] on a 2 m tall model is a uniform 2, turned by 0.5 rad about
     * the model's origin at Transform.position (3, 4, 0). */
    float p[3] = { 11.0f, 5.0f, 2.0f }, q[3];
    apply(a->transform, p, q);
    CHECK_NEAR(q[0], 11.0, 1e-5);
    CHECK_NEAR(q[1], 5.0, 1e-5);
    CHECK_NEAR(q[2], 2.0, 1e-5);
    apply(b->transform, p, q);
    float c5 = cosf(0.5f), s5 = sinf(0.5f);
    CHECK_NEAR(q[0], 3.0 + 2.0 * (11.0 * c5 - 5.0 * s5), 1e-4);
    CHECK_NEAR(q[1], 4.0 + 2.0 * (11.0 * s5 + 5.0 * c5), 1e-4);
    CHECK_NEAR(q[2], 4.0, 1e-5);
    float lo[3], hi[3];
    tw_view_bounds(c.v, lo, hi);
    CHECK_NEAR(hi[2], 4.0, 1e-4);
    CHECK_NEAR(lo[1], -6.15, 0.2); /* the slab's edge, under the blocks' -3 */
    ctx_fini(&c);
}

TEST(mesh_relative_paths_follow_the_base_dir)
{
    ctx c;
    if (ctx_init(&c)) return;
    /* Right after tw_view_new the relative files wait: only the slab is drawn. */
    tw_view_stats vs;
    tw_view_get_stats(c.v, &vs);
    CHECK_EQ_INT(vs.instances, 1);
    CHECK_EQ_INT(vs.meshes, 3);
    float lo[3], hi[3];
    tw_view_bounds(c.v, lo, hi);
    CHECK(hi[2] < 0.5f);
    /* The wrong folder: every relative file is missing, and said so. */
    tw_view_set_base_dir(c.v, "/nonexistent-twin-dir");
    tw_view_get_stats(c.v, &vs);
    CHECK_EQ_INT(vs.instances, 1);
    CHECK_EQ_INT(vs.warnings, 5); /* four files missing, one CityJSON reference */
    CHECK_EQ_INT(vs.meshes, 3);
    /* The scene's folder: drawn, bounds grow at once (before any build). */
    char path[1024];
    tw_view_set_scene_path(c.v, mesh_scene(path, sizeof path));
    tw_view_get_stats(c.v, &vs);
    CHECK_EQ_INT(vs.instances, 4);
    CHECK_EQ_INT(vs.warnings, 2);
    CHECK_EQ_INT(vs.meshes, 5);
    tw_view_bounds(c.v, lo, hi);
    CHECK_NEAR(hi[2], 4.0, 1e-4);
    /* A rescan keeps the loaded files (no reload, same GPU meshes). */
    tw_view_invalidate(c.v);
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    CHECK(tw_view_build(c.v, NULL, 1.0, 0.0, &dl) == TW_OK);
    tw_view_stats after;
    tw_view_get_stats(c.v, &after);
    CHECK_EQ_INT(after.meshes, 5);
    CHECK_EQ_INT(after.instances, 4);
    CHECK(after.rescans > vs.rescans);
    ctx_fini(&c);
}

TEST(mesh_check_reports_missing_files)
{
    char path[1024];
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    REQUIRE(out);
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_app_check(mesh_scene(path, sizeof path), out, &diag);
    fclose(out);
    CHECK(st == TW_OK);
    CHECK_CONTAINS(text, "warning: yard/depot/ground/ghost: mesh file models/no-such-file.glb cannot be drawn");
    CHECK_CONTAINS(text, "No such file or directory");
    CHECK_CONTAINS(text, "mesh files: 2 readable of 3 (26 triangles)");
    CHECK_EQ_INT(diag.warnings, 1);
    free(text);
}

/* Every allocation of the view's mesh-file paths (records, paths, the
 * importer's arrays, the upload's scratch) failing in turn: an error, never
 * a leak, and a clean run at the end. */
TEST(mesh_out_of_memory)
{
    ctx c;
    if (ctx_init(&c)) return;
    char path[1024];
    CHECK_EQ_INT(view_out_of_memory_walk(&c, mesh_scene(path, sizeof path)), 4);
    ctx_fini(&c);
}

int main(int argc, char **argv) { return test_main(argc, argv); }
