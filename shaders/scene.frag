#version 450
/* The scene pass: element edges, stale hatching, the pick id.
 *
 * Edges come from v_edge, three coordinates interpolated across the face,
 * each mapped to [-1, 1] by the vertex shader: a pixel is on an outline
 * edge when one of them is within a pixel of -1 or 1, i.e. when the largest
 * magnitude m is within fwidth(m) of 1 (its screen-space rate is the size
 * of a pixel). Quads carry (u, v, 1/2) before the mapping, so their four
 * sides are u = 0, u = 1, v = 0 and v = 1 and their diagonal is none; a
 * triangle of a polygon cap carries its barycentric coordinates, each 0
 * along one side, held at 1/2 for an inner diagonal (a barycentric is 1
 * only at a corner, which lies on the outline anyway). The outline's colour
 * and width (wider, in the selection colour, for selected elements) come
 * flat from the vertex shader.
 *
 * lavapipe runs every line of this shader for every pixel (a branch on a
 * flag is a mask, not a jump, and every input is set up per triangle),
 * so what few instances need goes into variants: TWL_STALE hatches every
 * pixel (the renderer draws its stale opaque instances with it), TWL_FADED
 * is translucent and hatches where the stale flag is set; TWL_CAPS is the section fill (back
 * faces revealed by the cut, drawn flat and dark); TWL_NO_EDGES has no edge
 * work at all (the draw list's NO_EDGES switch). No discard here: it would
 * turn off early depth tests. */
#include "twin_common.glsl"

layout(location = 0) flat in vec3 v_color;
#if !defined(TWL_CAPS) && !defined(TWL_NO_EDGES)
#define TWL_EDGES 1
layout(location = 1) noperspective in vec3 v_edge;
layout(location = 3) flat in vec4 v_outline;
#else
#define TWL_EDGES 0
#endif
layout(location = 2) flat in uint v_id;
#ifdef TWL_FADED
layout(location = 4) flat in uint v_flags;
#endif

layout(location = 0) out vec4 o_color;
layout(location = 1) out uint o_id;

void main()
{
#ifdef TWL_CAPS
    o_color = vec4(v_color * 0.18 + 0.015, 1.0);
#else
    vec3 color = v_color;
#if TWL_EDGES
    /* One derivative, of the coordinate nearest a side: near an edge that
     * side's coordinate is the largest, so its rate is the right one. */
    vec3 e = abs(v_edge);
    float m = max(max(e.x, e.y), e.z);
    if (m > 1.0 - fwidth(m) * v_outline.a) color = v_outline.rgb;
#endif
#if defined(TWL_STALE) || defined(TWL_FADED)
    /* Diagonal hatching marks data that is out of date. The stale variant
     * draws only stale instances; the faded one, any. */
#ifdef TWL_FADED
    if ((v_flags & TWL_FLAG_STALE) != 0u)
#endif
    {
        int k = int(gl_FragCoord.x + gl_FragCoord.y) & 7;
        if (k < 2) color *= 0.72;
    }
#endif
#ifdef TWL_FADED
    o_color = vec4(color, TWL_FADED_ALPHA);
#else
    o_color = vec4(color, 1.0);
#endif
#endif
    o_id = v_id;
}
