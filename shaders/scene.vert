#version 450
/* The scene pass: instanced meshes, lit per vertex.
 *
 * Faces are flat (each face has its own vertices), so lighting per vertex is
 * exact for the hemispheric ambient and the directional sun, and it keeps
 * the per-pixel work to the edges; lavapipe pays for every pixel's
 * instructions. The instance colour arrives with its state (colormap, alarm,
 * stale, selected, faded) already applied by the CPU.
 *
 * Variants (glslc -D): TWL_CLIP writes gl_ClipDistance for the section plane;
 * TWL_CAPS passes the unlit colour for the section fill; TWL_NO_EDGES drops
 * the edge coordinates (lavapipe pays for every interpolated output);
 * TWL_FADED passes the flags, which only the faded pass reads. */
#include "twin_common.glsl"

layout(location = TWL_LOC_POSITION) in vec3 a_position;
#if defined(TWL_CAPS) || defined(TWL_NO_EDGES)
#define TWL_EDGES 0
#else
#define TWL_EDGES 1
#endif
#ifndef TWL_CAPS
layout(location = TWL_LOC_NORMAL) in vec3 a_normal;
#endif
#if TWL_EDGES
layout(location = TWL_LOC_EDGE) in vec3 a_edge;
#endif
layout(location = TWL_LOC_MODEL0) in vec4 a_model0;
layout(location = TWL_LOC_MODEL1) in vec4 a_model1;
layout(location = TWL_LOC_MODEL2) in vec4 a_model2;
/* One fetch for the rest of the instance (lavapipe fetches every instance
 * attribute for every vertex): the colour as four half floats in x and y,
 * the pick id, the flags. */
layout(location = TWL_LOC_INST) in uvec4 a_inst;

/* Flat: faces are flat, so their light is constant across them, and a
 * flat output costs lavapipe no interpolation set-up per triangle. */
layout(location = 0) flat out vec3 v_color;  /* linear, lit */
#if TWL_EDGES
layout(location = 1) noperspective out vec3 v_edge;
/* What an outline pixel of this instance shows, decided here once per
 * vertex rather than in every pixel: rgb the colour, a the width in pixels
 * (0: no outlines). */
layout(location = 3) flat out vec4 v_outline;
#endif
/* Separate outputs, so that a fragment shader variant that does not read
 * the flags leaves them out (lavapipe sets up every input per triangle). */
layout(location = 2) flat out uint v_id;     /* pick id */
#ifdef TWL_FADED
layout(location = 4) flat out uint v_flags;
#endif

#ifdef TWL_CLIP
out gl_PerVertex {
    vec4 gl_Position;
    float gl_ClipDistance[1];
};
#endif

void main()
{
    vec4 p = vec4(a_position, 1.0);
    vec3 world = vec3(dot(a_model0, p), dot(a_model1, p), dot(a_model2, p));
#ifdef TWL_CAPS
    /* The section fill is drawn 1 cm towards the eye, so that an element's
     * inner floor wins over the surface it stands on (a machine on a slab).
     * Metres, not depth units: the offset means the same at any distance. */
    vec3 to_eye = u.eye_time.xyz - world;
    gl_Position = u.view_proj * vec4(world + to_eye * min(0.01 / max(length(to_eye), 1e-6), 0.5), 1.0);
#else
    gl_Position = u.view_proj * vec4(world, 1.0);
#endif
#ifdef TWL_CLIP
    gl_ClipDistance[0] = u.section.w - dot(u.section.xyz, world);
#endif

    vec3 albedo = vec3(unpackHalf2x16(a_inst.x), unpackHalf2x16(a_inst.y).x);
    uint flags = a_inst.w;
#ifdef TWL_CAPS
    v_color = albedo;
#else
    /* Normals go through the cofactor matrix (the inverse transpose up to a
     * scale), so non-uniform scales keep them perpendicular. */
    vec3 c0 = vec3(a_model0.x, a_model1.x, a_model2.x);
    vec3 c1 = vec3(a_model0.y, a_model1.y, a_model2.y);
    vec3 c2 = vec3(a_model0.z, a_model1.z, a_model2.z);
    vec3 n = normalize(mat3(cross(c1, c2), cross(c2, c0), cross(c0, c1)) * a_normal);
    vec3 light = mix(u.ground.rgb, u.sky.rgb, 0.5 + 0.5 * n.z) + u.sun_color.rgb * max(dot(n, -u.sun_dir.xyz), 0.0);
    vec3 lit = albedo * light;
    v_color = lit;
#endif
#if TWL_EDGES
    v_edge = a_edge * 2.0 - 1.0; /* sides at -1 and 1: see scene.frag */
    /* Outline width: none (edges off, or an element the app asked to go
     * without), the selection's, or one pixel. Written in this shape on
     * purpose: lavapipe drew the office 10-12 % slower with the same
     * widths chosen as "edges off ? 0 : selected ? w : no outline ? 0 : 1"
     * (or by uniforms alone), in alternating runs; the cause is inside
     * llvmpipe and was not found. */
    bool sel = (flags & TWL_FLAG_SELECTED) != 0u;
    v_outline = vec4(sel ? u.select_color.rgb : mix(lit, u.edge_color.rgb, u.edge_color.a),
                     (u.modes.z == 0u || (flags & TWL_FLAG_NO_OUTLINE) != 0u) ? 0.0
                     : sel ? u.select_color.a : 1.0);
#endif
    v_id = a_inst.z;
#ifdef TWL_FADED
    v_flags = flags;
#endif
}
