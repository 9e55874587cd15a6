#version 450
/* The overlay's pixels, one texel per target pixel: premultiplied alpha with
 * sRGB-encoded colour (what the app drew on the CPU). The target is sRGB, so
 * the colour is decoded here and blended in linear light (ONE,
 * ONE_MINUS_SRC_ALPHA). No pick id is written (the id attachment's write
 * mask is zero): what lies under the HUD stays pickable. */

layout(set = 0, binding = 0) uniform sampler2D u_overlay;
layout(push_constant) uniform Overlay {
    vec4 rect;
    vec4 viewport;
} pc;

layout(location = 0) out vec4 o_color;
layout(location = 1) out uint o_id;

vec3 decode_srgb(vec3 c)
{
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), greaterThan(c, vec3(0.04045)));
}

void main()
{
    vec4 c = texelFetch(u_overlay, ivec2(gl_FragCoord.xy - pc.viewport.zw), 0);
    vec3 rgb = c.a > 0.0 ? c.rgb / c.a : vec3(0.0);
    o_color = vec4(decode_srgb(rgb) * c.a, c.a);
    o_id = 0u;
}
