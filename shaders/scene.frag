#version 450
/* The scene pass: element edges, stale hatching, the pick id.
 *
 * Edges come from v_edge, three coordinates interpolated across the face: a
 * pixel is on an outline edge when one of them, or one minus it, is within
 * a pixel of 0 (its screen-space rate, fwidth, is the size of a pixel).
 * Quads carry (u, v, 1/2), so their four sides are u = 0, u = 1, v = 0 and
 * v = 1 and their diagonal is none; a triangle of a polygon cap carries its
 * barycentric coordinates, each 0 along one side, held at 1/2 for an inner
 * diagonal (one minus a barycentric is 0 only at a corner, which lies on
 * the outline anyway). Selected elements get wider lines in the selection
 * colour. No discard here: it would turn off early depth tests. TWL_CAPS
 * is the section fill: back faces revealed by the cut, drawn flat and dark.
 * TWL_NO_EDGES has no edge work at all (the draw list's NO_EDGES switch). */
#include "twin_common.glsl"

layout(location = 0) flat in vec3 v_color;
#if !defined(TWL_CAPS) && !defined(TWL_NO_EDGES)
#define TWL_EDGES 1
layout(location = 1) noperspective in vec3 v_edge;
#else
#define TWL_EDGES 0
#endif
layout(location = 2) flat in uvec2 v_ids;

layout(location = 0) out vec4 o_color;
layout(location = 1) out uint o_id;

void main()
{
#ifdef TWL_CAPS
    o_color = vec4(v_color * 0.18 + 0.015, 1.0);
#else
    vec3 color = v_color;
    uint flags = v_ids.y;
#if TWL_EDGES
    if (u.modes.z != 0u) {
        /* One derivative, of the distance to the nearest side: near an edge
         * that side's coordinate is the nearest, so its rate is the right one. */
        vec3 m = min(v_edge, 1.0 - v_edge);
        float d = min(min(m.x, m.y), m.z);
        bool sel = (flags & TWL_FLAG_SELECTED) != 0u;
        if (d < fwidth(d) * (sel ? u.select_color.a : 1.0))
            color = sel ? u.select_color.rgb : mix(color, u.edge_color.rgb, u.edge_color.a);
    }
#endif
    if ((flags & TWL_FLAG_STALE) != 0u) {
        /* Diagonal hatching marks data that is out of date. */
        int k = int(gl_FragCoord.x + gl_FragCoord.y) & 7;
        if (k < 2) color *= 0.72;
    }
    o_color = vec4(color, (flags & TWL_FLAG_FADED) != 0u ? TWL_FADED_ALPHA : 1.0);
#endif
    o_id = v_ids.x;
}
