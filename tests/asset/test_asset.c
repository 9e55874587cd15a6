/* tests/asset: the mesh importer (engine/asset) on files written for these
 * tests (tests/asset/data: a 1 x 2 x 3 m block placed twice by a node tree,
 * as .gltf with a base64 buffer and as .glb; a quad as .obj) and on bad
 * input (missing, garbage, truncated, empty, over the cap, out of memory).
 * Bad files are written into the working directory (the build's test dir). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "twin/mesh_import.h"

static const char *data_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/tests/asset/data/%s", TWIN_SOURCE_DIR, name);
    return buf;
}

static tw_status load(const char *path, tw_asset_mesh *m, tw_diag *d)
{
    tw_diag_clear(d);
    return tw_asset_mesh_load(&(tw_asset_mesh_desc){ .path = path }, m, d);
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static void *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = len > 0 ? malloc((size_t)len) : NULL;
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = p ? (size_t)len : 0;
    return p;
}

/* The block file, in engine axes: glTF (x, y, z) -> (x, -z, y). Block a at
 * glTF x 10..11, y 0..2, z 0..3; block b at x 0..1, y 0..2, z -5..-2. */
static void check_blocks(const tw_asset_mesh *m)
{
    CHECK_EQ_INT(m->triangle_count, 24);
    CHECK_EQ_INT(m->index_count, 72);
    CHECK_EQ_INT(m->vertex_count, 48);
    CHECK_EQ_INT(m->mesh_count, 1);
    CHECK_EQ_INT(m->instance_count, 2);
    CHECK_NEAR(m->min[0], 0.0, 1e-6);
    CHECK_NEAR(m->max[0], 11.0, 1e-6);
    CHECK_NEAR(m->min[1], -3.0, 1e-6);
    CHECK_NEAR(m->max[1], 5.0, 1e-6);
    CHECK_NEAR(m->min[2], 0.0, 1e-6);
    CHECK_NEAR(m->max[2], 2.0, 1e-6);
    /* Every triangle counter-clockwise seen from outside: its geometric
     * normal agrees with the vertex normals, and those are unit length. */
    int bad = 0, up = 0;
    for (uint32_t t = 0; t < m->triangle_count; t++) {
        const float *a = m->positions[m->indices[3 * t]], *b = m->positions[m->indices[3 * t + 1]],
                    *c = m->positions[m->indices[3 * t + 2]];
        float u[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] }, v[3] = { c[0] - a[0], c[1] - a[1], c[2] - a[2] };
        float n[3] = { u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0] };
        const float *vn = m->normals[m->indices[3 * t]];
        if (n[0] * vn[0] + n[1] * vn[1] + n[2] * vn[2] <= 0.0f) bad++;
    }
    for (uint32_t v = 0; v < m->vertex_count; v++) {
        const float *n = m->normals[v];
        CHECK_NEAR(n[0] * n[0] + n[1] * n[1] + n[2] * n[2], 1.0, 1e-5);
        if (n[2] > 0.999f) up++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(up, 8); /* the glTF +y faces (4 corners, 2 blocks) now face +z */
}

TEST(asset_gltf_counts_bounds_and_axes)
{
    char path[1024];
    tw_asset_mesh m;
    tw_diag d;
    REQUIRE(load(data_path("blocks.gltf", path, sizeof path), &m, &d) == TW_OK);
    check_blocks(&m);
    tw_asset_mesh_fini(&m);
    CHECK(m.positions == NULL && m.vertex_count == 0);
    tw_asset_mesh_fini(&m); /* a zeroed mesh is fine */
}

TEST(asset_glb_matches_gltf)
{
    char path[1024];
    tw_asset_mesh m;
    tw_diag d;
    REQUIRE(load(data_path("blocks.glb", path, sizeof path), &m, &d) == TW_OK);
    check_blocks(&m);
    tw_asset_mesh_fini(&m);
}

TEST(asset_keep_axes_leaves_y_up)
{
    char path[1024];
    tw_asset_mesh m;
    tw_diag d;
    tw_asset_mesh_desc desc = { .path = data_path("blocks.gltf", path, sizeof path), .keep_axes = 1 };
    REQUIRE(tw_asset_mesh_load(&desc, &m, &d) == TW_OK);
    CHECK_NEAR(m.min[0], 0.0, 1e-6);
    CHECK_NEAR(m.max[0], 11.0, 1e-6);
    CHECK_NEAR(m.min[1], 0.0, 1e-6);
    CHECK_NEAR(m.max[1], 2.0, 1e-6);
    CHECK_NEAR(m.min[2], -5.0, 1e-6);
    CHECK_NEAR(m.max[2], 3.0, 1e-6);
    tw_asset_mesh_fini(&m);
}

TEST(asset_obj_quad_triangulated_lines_dropped)
{
    char path[1024];
    tw_asset_mesh m;
    tw_diag d;
    REQUIRE(load(data_path("quad.obj", path, sizeof path), &m, &d) == TW_OK);
    CHECK_EQ_INT(m.triangle_count, 2);
    CHECK_EQ_INT(m.mesh_count, 1);
    CHECK_NEAR(m.min[0], 0.0, 1e-6);
    CHECK_NEAR(m.max[0], 2.0, 1e-6);
    CHECK_NEAR(m.min[1], 0.0, 1e-6);
    CHECK_NEAR(m.max[1], 1.0, 1e-6);
    CHECK_NEAR(m.min[2], 0.0, 1e-6);
    CHECK_NEAR(m.max[2], 0.0, 1e-6);
    for (uint32_t v = 0; v < m.vertex_count; v++) CHECK_NEAR(m.normals[v][2], 1.0, 1e-6);
    tw_asset_mesh_fini(&m);
}

TEST(asset_missing_file_names_the_path)
{
    tw_asset_mesh m;
    tw_diag d;
    CHECK(load("no-such-dir/no-such-mesh.glb", &m, &d) == TW_ERR_IO);
    CHECK_CONTAINS(d.message, "no-such-dir/no-such-mesh.glb");
    CHECK_CONTAINS(d.message, "No such file");
    CHECK(m.positions == NULL && m.triangle_count == 0);
    CHECK(load(".", &m, &d) == TW_ERR_IO);
    CHECK_CONTAINS(d.message, "not a file");
}

TEST(asset_garbage_is_refused)
{
    static const char *names[] = { "garbage.glb", "garbage.gltf", "garbage.obj", "garbage.bin", "garbage" };
    uint8_t junk[4096];
    uint32_t x = 12345u;
    for (size_t k = 0; k < sizeof junk; k++) {
        x = x * 1664525u + 1013904223u;
        junk[k] = (uint8_t)(x >> 24);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        REQUIRE(write_file(names[i], junk, sizeof junk) == 0);
        tw_asset_mesh m;
        tw_diag d;
        tw_status st = load(names[i], &m, &d);
        if (st == TW_OK) TEST_FAIL_AT(__FILE__, __LINE__, "%s loaded as a mesh", names[i]);
        printf("     %s\n", d.message);
        CHECK_CONTAINS(d.message, names[i]);
        CHECK(m.positions == NULL);
        remove(names[i]);
    }
    /* An empty file and a text file that is not a mesh. */
    REQUIRE(write_file("empty.glb", "", 0) == 0);
    tw_asset_mesh m;
    tw_diag d;
    CHECK(load("empty.glb", &m, &d) != TW_OK);
    CHECK_CONTAINS(d.message, "empty.glb");
    remove("empty.glb");
    const char *text = "this is not a mesh\n";
    REQUIRE(write_file("words.obj", text, strlen(text)) == 0);
    CHECK(load("words.obj", &m, &d) != TW_OK);
    CHECK_CONTAINS(d.message, "words.obj");
    remove("words.obj");
}

TEST(asset_truncated_glb_is_refused)
{
    char path[1024];
    size_t n;
    uint8_t *glb = read_file(data_path("blocks.glb", path, sizeof path), &n);
    REQUIRE(glb && n > 100);
    uint32_t tried = 0, refused = 0;
    for (size_t cut = 1; cut < n; cut += cut < 64 ? 1 : 29) {
        REQUIRE(write_file("cut.glb", glb, cut) == 0);
        tw_asset_mesh m;
        tw_diag d;
        tw_status st = load("cut.glb", &m, &d);
        tried++;
        if (st != TW_OK) {
            refused++;
            if (cut == 20 || cut + 29 >= n) printf("     %zu of %zu bytes: %s\n", cut, n, d.message);
            CHECK_CONTAINS(d.message, "cut.glb");
        } else {
            tw_asset_mesh_fini(&m);
        }
    }
    remove("cut.glb");
    CHECK_EQ_INT(refused, tried);
    free(glb);
}

TEST(asset_empty_scene_is_refused)
{
    const char *gltf = "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0]}],"
                       "\"nodes\":[{\"name\":\"nothing\"}]}";
    REQUIRE(write_file("nomesh.gltf", gltf, strlen(gltf)) == 0);
    tw_asset_mesh m;
    tw_diag d;
    tw_status st = load("nomesh.gltf", &m, &d);
    CHECK(st == TW_ERR_INVALID || st == TW_ERR_PARSE);
    CHECK_CONTAINS(d.message, "nomesh.gltf");
    remove("nomesh.gltf");
}

TEST(asset_triangle_cap)
{
    char path[1024];
    tw_asset_mesh m;
    tw_diag d;
    tw_diag_clear(&d);
    tw_asset_mesh_desc desc = { .path = data_path("blocks.gltf", path, sizeof path), .max_triangles = 20 };
    CHECK(tw_asset_mesh_load(&desc, &m, &d) == TW_ERR_LIMIT);
    CHECK_CONTAINS(d.message, "blocks.gltf");
    CHECK_CONTAINS(d.message, "more than 20 triangles");
    CHECK(m.positions == NULL);
    desc.max_triangles = 24;
    CHECK(tw_asset_mesh_load(&desc, &m, &d) == TW_OK);
    tw_asset_mesh_fini(&m);
}

TEST(asset_out_of_memory_everywhere)
{
    char path[1024];
    data_path("blocks.gltf", path, sizeof path);
    int ok = 0;
    for (uint64_t n = 1; n < 64 && !ok; n++) {
        tw_failing_alloc fa = { .fail_at = n };
        tw_allocator a = tw_failing_alloc_allocator(&fa);
        tw_asset_mesh m;
        tw_diag d;
        tw_diag_clear(&d);
        tw_status st = tw_asset_mesh_load(&(tw_asset_mesh_desc){ .path = path, .alloc = &a }, &m, &d);
        if (st == TW_OK) {
            ok = 1;
            check_blocks(&m);
            tw_asset_mesh_fini(&m);
        } else {
            CHECK(st == TW_ERR_NOMEM);
            CHECK_CONTAINS(d.message, "out of memory");
        }
        CHECK_EQ_INT(fa.live_bytes, 0);
    }
    CHECK(ok);
}

int main(int argc, char **argv) { return test_main(argc, argv); }
