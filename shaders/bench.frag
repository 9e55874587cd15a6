#version 450
layout(location = 0) in vec3 v_normal;
layout(location = 0) out vec4 o_color;

void main()
{
    float l = 0.4 + 0.6 * max(dot(normalize(v_normal), normalize(vec3(0.4, 0.3, 0.85))), 0.0);
    o_color = vec4(vec3(0.8, 0.78, 0.75) * l, 1.0);
}
