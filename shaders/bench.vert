#version 450
/* The bare baseline of the render benchmark: instanced cubes, one offset
 * per instance, the least a renderer must do to draw the same triangles. */
#include "twin_layout.h"

layout(push_constant) uniform Bench { TWL_BENCH_FIELDS; } pc;
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec4 a_offset;
layout(location = 0) out vec3 v_normal;

void main()
{
    v_normal = a_normal;
    gl_Position = pc.view_proj * vec4(a_position + a_offset.xyz, 1.0);
}
