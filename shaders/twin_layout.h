/* shaders/twin_layout.h: the layouts C and GLSL share, from one header.
 *
 * Included by the shaders (glslc defines VULKAN) and by engine/render's C
 * code. The uniform block uses only vec4, uvec4 and mat4 members, so the
 * std140 layout and the C layout are the same byte for byte; the C side
 * checks the size with a static assert. Flag bits are the public
 * TW_RENDER_INST_* bits (checked in C as well). */
#ifndef TWIN_SHADER_LAYOUT_H
#define TWIN_SHADER_LAYOUT_H

#ifdef VULKAN
#define TWL_VEC4(n) vec4 n
#define TWL_UVEC4(n) uvec4 n
#define TWL_MAT4(n) mat4 n
#define TWL_VEC4_ARRAY(n, c) vec4 n[c]
#else
#include <stdint.h>
#define TWL_VEC4(n) float n[4]
#define TWL_UVEC4(n) uint32_t n[4]
#define TWL_MAT4(n) float n[16]
#define TWL_VEC4_ARRAY(n, c) float n[c][4]
#endif

/* Instance state bits (== TW_RENDER_INST_*). Colours are resolved on the
 * CPU; the shaders only need the ones that change how pixels are drawn. */
#define TWL_FLAG_SELECTED 1u
#define TWL_FLAG_ALARM 2u
#define TWL_FLAG_STALE 4u
#define TWL_FLAG_FADED 8u
#define TWL_FLAG_VALUE 16u
#define TWL_FLAG_NO_OUTLINE 64u

/* Faded (x-ray) elements are drawn at this opacity. */
#define TWL_FADED_ALPHA 0.22

/* Vertex input locations: per vertex (binding 0), then per instance (binding 1). */
#define TWL_LOC_POSITION 0 /* float3 */
#define TWL_LOC_NORMAL 1   /* snorm8x4 */
#define TWL_LOC_EDGE 2     /* unorm8x4: edge coordinates, xyz used (see scene.frag) */
#define TWL_LOC_MODEL0 3   /* rows of the 3x4 model matrix, float4 each */
#define TWL_LOC_MODEL1 4
#define TWL_LOC_MODEL2 5
#define TWL_LOC_INST 6     /* uint4: half2 x2 (linear rgb albedo, state applied; w unused), pick id, flags */

#define TWL_BINDING_FRAME 0

#define TWL_COLORMAP_N 17

/* modes.x: section plane on; modes.y: legend on; modes.z: edges on. */
#define TWL_FRAME_FIELDS                                                              \
    TWL_MAT4(view_proj);                                                              \
    TWL_VEC4(eye_time);        /* xyz camera position, w time in s */                 \
    TWL_VEC4(sky);             /* rgb linear */                                       \
    TWL_VEC4(ground);                                                                 \
    TWL_VEC4(sun_dir);         /* xyz unit, the direction light travels */            \
    TWL_VEC4(sun_color);                                                              \
    TWL_VEC4(section);         /* xyz normal, w offset: cut where dot(n,p) > w */     \
    TWL_VEC4(legend_rect);     /* x0, y0, x1, y1 in pixels */                         \
    TWL_VEC4(viewport);        /* width, height, 1/width, 1/height */                 \
    TWL_VEC4(select_color);    /* rgb linear, a: edge width in pixels */              \
    TWL_VEC4(edge_color);      /* rgb linear, a: strength */                          \
    TWL_UVEC4(modes);                                                                 \
    TWL_VEC4_ARRAY(colormap, TWL_COLORMAP_N) /* sRGB-encoded samples at k/16 */

#define TWL_FRAME_VEC4_COUNT (4 + 11 + TWL_COLORMAP_N)

/* The bare benchmark pass: one push constant block. */
#define TWL_BENCH_FIELDS TWL_MAT4(view_proj)

#endif
