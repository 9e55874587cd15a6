#version 450
/* The colormap legend: one screen-space quad, a pixel larger than the bar
 * on each side for its border. */
#include "twin_common.glsl"

void main()
{
    vec2 corner = vec2(float((0x32 >> gl_VertexIndex) & 1), float((0x1C >> gl_VertexIndex) & 1));
    vec2 px = mix(u.legend_rect.xy - 1.0, u.legend_rect.zw + 1.0, corner);
    gl_Position = vec4(px * u.viewport.zw * 2.0 - 1.0, 0.0, 1.0);
}
