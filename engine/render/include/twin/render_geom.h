/* twin/render_geom.h: building meshes for architecture from plain arrays.
 *
 * Pure geometry, no GPU and no ECS: a tw_render_geom collects vertices and
 * triangle indices (counter-clockwise from outside, flat normals per face)
 * and the element-edge distances of each vertex, and each helper appends
 * one part to it, so a wall with a door gap or a room with its slab becomes
 * one mesh. Hand the arrays to tw_render_mesh_create afterwards (vertices,
 * indices and edges). The builder owns its arrays and frees
 * them in tw_render_geom_fini; coordinates are metres, z up. */
#ifndef TWIN_RENDER_GEOM_H
#define TWIN_RENDER_GEOM_H

#include <stdint.h>

#include "twin/alloc.h"
#include "twin/render.h"
#include "twin/status.h"

typedef struct tw_render_geom {
    tw_allocator alloc;
    tw_render_vertex *vertices;
    uint8_t (*edges)[4];         /* per vertex, see tw_render_mesh_desc.edges */
    uint32_t vertex_count, vertex_cap;
    uint32_t *indices;
    uint32_t index_count, index_cap;
    uint32_t *scratch;           /* ear-clipping work space */
    uint32_t scratch_cap;
} tw_render_geom;

void tw_render_geom_init(tw_render_geom *g, const tw_allocator *alloc); /* alloc NULL: default */
void tw_render_geom_fini(tw_render_geom *g);
void tw_render_geom_reset(tw_render_geom *g); /* empty, keeps the storage */

/* An axis-aligned box from min to max. */
tw_status tw_render_geom_box(tw_render_geom *g, const float min[3], const float max[3]);

/* A prism: the simple polygon xy[count][2] (either winding, no holes, no
 * self-intersection) from z0 up to z0 + height, with its top, bottom and side
 * walls. The caps are triangulated by ear clipping. TW_ERR_INVALID for fewer
 * than three points, a zero area or a non-positive height. */
tw_status tw_render_geom_extrude(tw_render_geom *g, const float (*xy)[2], uint32_t count, float z0,
                                 float height);

/* A cut in a wall: [start, end] metres along the polyline from its first
 * point, from bottom to top above the wall's base (top 0: the full height).
 * A door is (centre - width/2, centre + width/2, 0, 2.1); a window has a sill. */
typedef struct tw_render_opening {
    float start, end;
    float bottom, top;
} tw_render_opening;

typedef struct tw_render_wall_desc {
    const float (*points)[2];    /* the wall's centre line in plan, m */
    uint32_t point_count;        /* at least 2 */
    int closed;                  /* nonzero: the last point joins the first */
    float thickness;             /* m, centred on the line */
    float z0;                    /* m, base */
    float height;                /* m */
    const tw_render_opening *openings;
    uint32_t opening_count;
} tw_render_wall_desc;

/* A wall along a polyline, mitred at the corners, with openings cut out
 * (the parts above and below an opening stay as lintel and sill). */
tw_status tw_render_geom_wall(tw_render_geom *g, const tw_render_wall_desc *desc);

/* Appends a triangle-list mesh (imported meshes) with its normals as given.
 * Edges are derived: open borders and creases sharper than 30 degrees; for
 * that every triangle gets its own three vertices. */
tw_status tw_render_geom_append(tw_render_geom *g, const tw_render_vertex *v, uint32_t vertex_count,
                                const uint32_t *indices, uint32_t index_count);

/* Axis-aligned bounds of everything appended so far (zeros when empty). */
void tw_render_geom_bounds(const tw_render_geom *g, float min[3], float max[3]);

#endif
