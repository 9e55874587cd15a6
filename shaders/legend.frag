#version 450
/* The legend bar: the colormap from its low end (bottom, or left when the
 * bar is wider than tall) to its high end, in a dark one-pixel border. */
#include "twin_common.glsl"

layout(location = 0) out vec4 o_color;
layout(location = 1) out uint o_id;

void main()
{
    vec4 rc = u.legend_rect;
    vec2 q = gl_FragCoord.xy;
    bool border = q.x < rc.x || q.x >= rc.z || q.y < rc.y || q.y >= rc.w;
    bool vertical = (rc.w - rc.y) >= (rc.z - rc.x);
    float t = clamp(vertical ? (rc.w - q.y) / (rc.w - rc.y) : (q.x - rc.x) / (rc.z - rc.x), 0.0, 1.0);
    float x = t * float(TWL_COLORMAP_N - 1);
    int i = min(int(x), TWL_COLORMAP_N - 2);
    vec3 c = srgb_to_linear(mix(u.colormap[i].rgb, u.colormap[i + 1].rgb, x - float(i)));
    o_color = vec4(border ? vec3(0.02) : c, 1.0);
    o_id = 0u;
}
