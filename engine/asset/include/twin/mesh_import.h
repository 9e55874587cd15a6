/* twin/mesh_import.h: mesh files (glTF .gltf/.glb, OBJ, whatever Assimp
 * reads) loaded into plain arrays the engine owns.
 *
 * Every mesh of the file is placed by the node hierarchy (each node's
 * transform applied down the tree; a mesh used by several nodes appears once
 * per node) and merged into one triangle list. Coordinates are metres, right
 * handed, Z up: Assimp hands every format over Y up (glTF is Y up by its
 * specification), so a point (x, y, z) of the file becomes (x, -z, y).
 * Points and lines are dropped; polygons are triangulated; missing normals
 * are generated (flat).
 *
 * tw_asset_mesh_load fills caller storage; tw_asset_mesh_fini frees what it
 * allocated (through the allocator of the desc). Nothing of the desc is
 * retained. Assimp keeps its last error message in one process-wide string,
 * so two threads loading at once may see each other's message (never a
 * crash); the loaded data does not mix. */
#ifndef TWIN_MESH_IMPORT_H
#define TWIN_MESH_IMPORT_H

#include <stdint.h>

#include "twin/alloc.h"
#include "twin/status.h"

enum {
    TW_ASSET_MESH_MAX_TRIANGLES = 2000000, /* default cap per file */
    TW_ASSET_MESH_MAX_DEPTH = 256          /* node hierarchy depth */
};
/* Files larger than this are refused before Assimp reads them (bytes). */
#define TW_ASSET_MESH_MAX_FILE_BYTES (512ull * 1024ull * 1024ull)

typedef struct tw_asset_mesh_desc {
    const char *path;              /* the file; its extension picks the reader */
    const tw_allocator *alloc;     /* NULL: the C library */
    uint32_t max_triangles;        /* 0: TW_ASSET_MESH_MAX_TRIANGLES; more is an error (TW_ERR_LIMIT) */
    int keep_axes;                 /* 1: no Y-up to Z-up turn (a file already written Z up) */
} tw_asset_mesh_desc;

typedef struct tw_asset_mesh {
    float (*positions)[3];         /* m, model space, Z up */
    float (*normals)[3];           /* unit length, per vertex */
    uint32_t *indices;             /* triangles, counter-clockwise seen from outside */
    uint32_t vertex_count;
    uint32_t index_count;          /* 3 x triangle_count */
    uint32_t triangle_count;
    uint32_t mesh_count;           /* meshes that gave triangles (Assimp's: one per glTF primitive) */
    uint32_t instance_count;       /* their placements by the node hierarchy */
    float min[3], max[3];          /* model-space bounds (m) */
    tw_allocator alloc;            /* what the arrays were allocated with */
} tw_asset_mesh;

/* Loads desc->path. On failure out is left empty (nothing to free) and diag
 * says why with the path: TW_ERR_IO (missing, unreadable), TW_ERR_PARSE (not
 * a mesh file Assimp can read, or a broken one), TW_ERR_INVALID (no
 * triangles, coordinates that are not finite), TW_ERR_LIMIT (too many
 * triangles, too big a file, too deep a hierarchy), TW_ERR_NOMEM. */
tw_status tw_asset_mesh_load(const tw_asset_mesh_desc *desc, tw_asset_mesh *out, tw_diag *diag);
/* Frees the arrays and zeroes m; a zeroed m is fine. */
void tw_asset_mesh_fini(tw_asset_mesh *m);

#endif
