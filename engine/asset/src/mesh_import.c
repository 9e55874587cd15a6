/* Mesh files through Assimp's C API, into arrays of our own.
 *
 * Two passes over the node tree: the first counts what every placed mesh
 * adds (so caps are checked and each array is allocated once, before
 * anything is copied), the second copies with the accumulated transforms
 * applied. Assimp's scene is read only and released before returning, so no
 * Assimp type leaves this file. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <assimp/cimport.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include "twin/mesh_import.h"

/* Row-major 4x4 (Assimp's layout: a4, b4, c4 hold the translation). */
typedef struct mat4 {
    float m[4][4];
} mat4;

static mat4 mat_from_ai(const struct aiMatrix4x4 *a)
{
    mat4 r = { { { a->a1, a->a2, a->a3, a->a4 },
                 { a->b1, a->b2, a->b3, a->b4 },
                 { a->c1, a->c2, a->c3, a->c4 },
                 { a->d1, a->d2, a->d3, a->d4 } } };
    return r;
}

static mat4 mat_mul(const mat4 *x, const mat4 *y)
{
    mat4 r;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            float s = 0.0f;
            for (int k = 0; k < 4; k++) s += x->m[i][k] * y->m[k][j];
            r.m[i][j] = s;
        }
    return r;
}

/* The normal matrix: the cofactors of the upper 3x3 (det x inverse
 * transpose), with the determinant's sign, so a mirroring node keeps its
 * normals pointing out. Scale does not matter: normals are renormalised. */
static void normal_matrix(const mat4 *t, float n[3][3], float *det)
{
    const float(*a)[4] = t->m;
    n[0][0] = a[1][1] * a[2][2] - a[1][2] * a[2][1];
    n[0][1] = a[1][2] * a[2][0] - a[1][0] * a[2][2];
    n[0][2] = a[1][0] * a[2][1] - a[1][1] * a[2][0];
    n[1][0] = a[0][2] * a[2][1] - a[0][1] * a[2][2];
    n[1][1] = a[0][0] * a[2][2] - a[0][2] * a[2][0];
    n[1][2] = a[0][1] * a[2][0] - a[0][0] * a[2][1];
    n[2][0] = a[0][1] * a[1][2] - a[0][2] * a[1][1];
    n[2][1] = a[0][2] * a[1][0] - a[0][0] * a[1][2];
    n[2][2] = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    *det = a[0][0] * n[0][0] + a[0][1] * n[0][1] + a[0][2] * n[0][2];
    if (*det < 0.0f)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) n[i][j] = -n[i][j];
}

typedef struct walk {
    const struct aiScene *scene;
    tw_asset_mesh *out;
    uint64_t vertices, indices; /* pass 1: totals; pass 2: write positions */
    uint64_t max_tris;
    int fill;                   /* 0: count, 1: copy */
    int keep_axes;
    uint8_t *used;              /* per scene mesh: placed at least once */
    tw_status st;
    tw_diag *diag;
    const char *path;
} walk;

/* Triangles of one mesh (faces that are not triangles are skipped:
 * aiProcess_Triangulate leaves only points and lines, which are removed). */
static uint32_t mesh_tris(const struct aiMesh *m)
{
    uint32_t n = 0;
    for (unsigned f = 0; f < m->mNumFaces; f++) n += m->mFaces[f].mNumIndices == 3;
    return n;
}

static void to_engine(const walk *w, const float in[3], float out[3])
{
    if (w->keep_axes) {
        memcpy(out, in, 3 * sizeof(float));
    } else { /* Y up to Z up: a quarter turn about +x */
        out[0] = in[0];
        out[1] = -in[2];
        out[2] = in[1];
    }
}

static void place_mesh(walk *w, const struct aiMesh *m, const mat4 *t)
{
    tw_asset_mesh *o = w->out;
    uint32_t base = (uint32_t)w->vertices;
    float nm[3][3], det;
    normal_matrix(t, nm, &det);
    for (unsigned v = 0; v < m->mNumVertices; v++) {
        const struct aiVector3D *p = &m->mVertices[v];
        float q[3];
        for (int i = 0; i < 3; i++) q[i] = t->m[i][0] * p->x + t->m[i][1] * p->y + t->m[i][2] * p->z + t->m[i][3];
        if (!isfinite(q[0]) || !isfinite(q[1]) || !isfinite(q[2])) {
            tw_diag_set(w->diag, "%s: mesh \"%s\" has a vertex that is not a finite number", w->path, m->mName.data);
            w->st = TW_ERR_INVALID;
            return;
        }
        to_engine(w, q, o->positions[base + v]);
        float n[3] = { 0.0f, 0.0f, 0.0f };
        if (m->mNormals) {
            const struct aiVector3D *s = &m->mNormals[v];
            for (int i = 0; i < 3; i++) n[i] = nm[i][0] * s->x + nm[i][1] * s->y + nm[i][2] * s->z;
        }
        float l = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (l > 1e-20f && isfinite(l)) {
            for (int i = 0; i < 3; i++) n[i] /= l;
        } else { /* a degenerate normal: up in the file's frame, so lit like a floor */
            n[0] = 0.0f, n[1] = 1.0f, n[2] = 0.0f;
        }
        to_engine(w, n, o->normals[base + v]);
    }
    /* A mirroring transform turns the winding over: swap two corners back. */
    int flip = det < 0.0f;
    uint64_t k = w->indices;
    for (unsigned f = 0; f < m->mNumFaces; f++) {
        const struct aiFace *face = &m->mFaces[f];
        if (face->mNumIndices != 3) continue;
        uint32_t a = face->mIndices[0], b = face->mIndices[1], c = face->mIndices[2];
        if (a >= m->mNumVertices || b >= m->mNumVertices || c >= m->mNumVertices) {
            tw_diag_set(w->diag, "%s: mesh \"%s\" has a face with a vertex index out of range", w->path,
                        m->mName.data);
            w->st = TW_ERR_PARSE;
            return;
        }
        o->indices[k++] = base + a;
        o->indices[k++] = base + (flip ? c : b);
        o->indices[k++] = base + (flip ? b : c);
    }
    w->indices = k;
    w->vertices += m->mNumVertices;
}

static void walk_node(walk *w, const struct aiNode *node, const mat4 *parent, int depth)
{
    if (w->st) return;
    if (depth >= TW_ASSET_MESH_MAX_DEPTH) {
        tw_diag_set(w->diag, "%s: the node hierarchy is deeper than %d levels", w->path, TW_ASSET_MESH_MAX_DEPTH);
        w->st = TW_ERR_LIMIT;
        return;
    }
    mat4 local = mat_from_ai(&node->mTransformation), t = mat_mul(parent, &local);
    for (unsigned i = 0; i < node->mNumMeshes && !w->st; i++) {
        unsigned id = node->mMeshes[i];
        if (id >= w->scene->mNumMeshes) continue;
        const struct aiMesh *m = w->scene->mMeshes[id];
        uint32_t tris = m ? mesh_tris(m) : 0;
        if (!tris || !m->mVertices) continue;
        if (!w->fill) {
            w->vertices += m->mNumVertices;
            w->indices += 3ull * tris;
            w->used[id] = 1;
            w->out->instance_count++;
            if (w->indices / 3 > w->max_tris) {
                tw_diag_set(w->diag, "%s: more than %llu triangles, the cap per mesh file: simplify the model "
                                     "(or split it into several files)",
                            w->path, (unsigned long long)w->max_tris);
                w->st = TW_ERR_LIMIT;
            }
            continue;
        }
        place_mesh(w, m, &t);
    }
    for (unsigned c = 0; c < node->mNumChildren && !w->st; c++)
        if (node->mChildren[c]) walk_node(w, node->mChildren[c], &t, depth + 1);
}

void tw_asset_mesh_fini(tw_asset_mesh *m)
{
    if (!m) return;
    const tw_allocator *a = &m->alloc;
    if (a->fn) {
        tw_free(a, m->positions, (size_t)m->vertex_count * sizeof *m->positions);
        tw_free(a, m->normals, (size_t)m->vertex_count * sizeof *m->normals);
        tw_free(a, m->indices, (size_t)m->index_count * sizeof *m->indices);
    }
    memset(m, 0, sizeof *m);
}

/* Refuses what Assimp need not see: a missing file, a folder, a huge one. */
static tw_status check_file(const char *path, tw_diag *diag)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        tw_diag_set(diag, "%s: cannot read the mesh file: %s", path, strerror(errno));
        return TW_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        tw_diag_set(diag, "%s: is not a file (a mesh file was expected)", path);
        return TW_ERR_IO;
    }
    if ((unsigned long long)sb.st_size > TW_ASSET_MESH_MAX_FILE_BYTES) {
        tw_diag_set(diag, "%s: %llu bytes is more than the %llu MiB a mesh file may have", path,
                    (unsigned long long)sb.st_size, TW_ASSET_MESH_MAX_FILE_BYTES >> 20);
        return TW_ERR_LIMIT;
    }
    if (sb.st_size == 0) {
        tw_diag_set(diag, "%s: the mesh file is empty", path);
        return TW_ERR_PARSE;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        tw_diag_set(diag, "%s: cannot read the mesh file: %s", path, strerror(errno));
        return TW_ERR_IO;
    }
    fclose(f);
    return TW_OK;
}

tw_status tw_asset_mesh_load(const tw_asset_mesh_desc *desc, tw_asset_mesh *out, tw_diag *diag)
{
    TW_CHECK(desc && desc->path && out, "tw_asset_mesh_load needs a desc with a path and somewhere to put the mesh.");
    memset(out, 0, sizeof *out);
    const char *path = desc->path;
    tw_status st = check_file(path, diag);
    if (st) return st;

    /* Triangulate polygons, drop points and lines, make normals where the
     * file has none; Assimp's own checks catch broken index data. */
    struct aiPropertyStore *props = aiCreatePropertyStore();
    if (!props) {
        tw_diag_set(diag, "%s: out of memory starting the mesh reader", path);
        return TW_ERR_NOMEM;
    }
    aiSetImportPropertyInteger(props, AI_CONFIG_PP_SBP_REMOVE, aiPrimitiveType_POINT | aiPrimitiveType_LINE);
    unsigned flags = aiProcess_Triangulate | aiProcess_SortByPType | aiProcess_GenNormals |
                     aiProcess_ValidateDataStructure;
    const struct aiScene *scene = aiImportFileExWithProperties(path, flags, NULL, props);
    aiReleasePropertyStore(props);
    if (!scene) {
        const char *why = aiGetErrorString();
        tw_diag_set(diag, "%s: not a mesh file the reader (Assimp) can read: %s", path,
                    why && why[0] ? why : "no reason given");
        return TW_ERR_PARSE;
    }
    /* A scene can come back without an error yet hold nothing usable
     * (FACTS.md: Assimp loads some files empty): check what it holds. */
    if ((scene->mFlags & AI_SCENE_FLAGS_INCOMPLETE) || !scene->mRootNode || scene->mNumMeshes == 0 ||
        !scene->mMeshes) {
        tw_diag_set(diag, "%s: the file holds no mesh (an empty or incomplete scene)", path);
        aiReleaseImport(scene);
        return TW_ERR_INVALID;
    }

    tw_allocator alloc = tw_allocator_or_default(desc->alloc);
    walk w = { .scene = scene, .out = out, .max_tris = desc->max_triangles ? desc->max_triangles
                                                                           : TW_ASSET_MESH_MAX_TRIANGLES,
               .keep_axes = desc->keep_axes, .diag = diag, .path = path };
    w.used = tw_calloc(&alloc, scene->mNumMeshes, 1);
    if (!w.used) {
        tw_diag_set(diag, "%s: out of memory reading the mesh", path);
        aiReleaseImport(scene);
        return TW_ERR_NOMEM;
    }
    mat4 id = { { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } } };
    walk_node(&w, scene->mRootNode, &id, 0);
    if (!w.st && w.indices == 0) {
        tw_diag_set(diag, "%s: the file holds no triangles (only points, lines or empty meshes)", path);
        w.st = TW_ERR_INVALID;
    }
    if (!w.st && w.vertices > UINT32_MAX) {
        tw_diag_set(diag, "%s: more than %u vertices", path, UINT32_MAX);
        w.st = TW_ERR_LIMIT;
    }
    uint32_t meshes = 0;
    for (unsigned i = 0; i < scene->mNumMeshes; i++) meshes += w.used[i];
    tw_free(&alloc, w.used, scene->mNumMeshes);
    w.used = NULL;
    if (!w.st) {
        out->alloc = alloc;
        out->vertex_count = (uint32_t)w.vertices;
        out->index_count = (uint32_t)w.indices;
        out->positions = tw_alloc(&alloc, (size_t)out->vertex_count * sizeof *out->positions);
        out->normals = tw_alloc(&alloc, (size_t)out->vertex_count * sizeof *out->normals);
        out->indices = tw_alloc(&alloc, (size_t)out->index_count * sizeof *out->indices);
        if (!out->positions || !out->normals || !out->indices) {
            tw_diag_set(diag, "%s: out of memory for %u vertices and %u triangles", path, out->vertex_count,
                        out->index_count / 3);
            w.st = TW_ERR_NOMEM;
        }
    }
    if (!w.st) {
        uint32_t instances = out->instance_count;
        w.fill = 1;
        w.vertices = w.indices = 0;
        walk_node(&w, scene->mRootNode, &id, 0);
        out->instance_count = instances;
    }
    aiReleaseImport(scene);
    if (w.st) {
        tw_asset_mesh_fini(out);
        return w.st;
    }
    out->triangle_count = out->index_count / 3;
    out->mesh_count = meshes;
    for (int k = 0; k < 3; k++) {
        out->min[k] = INFINITY;
        out->max[k] = -INFINITY;
    }
    for (uint32_t v = 0; v < out->vertex_count; v++)
        for (int k = 0; k < 3; k++) {
            float x = out->positions[v][k];
            if (x < out->min[k]) out->min[k] = x;
            if (x > out->max[k]) out->max[k] = x;
        }
    return TW_OK;
}
