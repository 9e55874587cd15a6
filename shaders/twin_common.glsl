/* shaders/twin_common.glsl: the frame uniforms and helpers every pass uses. */
#include "twin_layout.h"

layout(std140, set = 0, binding = TWL_BINDING_FRAME) uniform Frame {
    TWL_FRAME_FIELDS;
} u;

vec3 srgb_to_linear(vec3 c)
{
    vec3 lo = c / 12.92;
    vec3 hi = pow((c + 0.055) / 1.055, vec3(2.4));
    return mix(hi, lo, lessThanEqual(c, vec3(0.04045)));
}
