#version 450
/* The app's RGBA overlay (HUD, panels): one screen-space quad per rectangle
 * of the overlay that holds something, in target pixels. */

layout(push_constant) uniform Overlay {
    vec4 rect;      /* x0, y0, x1, y1 in target pixels */
    vec4 viewport;  /* 1/width, 1/height of the target; the overlay's origin in the target */
} pc;

void main()
{
    vec2 corner = vec2(float((0x32 >> gl_VertexIndex) & 1), float((0x1C >> gl_VertexIndex) & 1));
    vec2 px = mix(pc.rect.xy, pc.rect.zw, corner);
    gl_Position = vec4(px * pc.viewport.xy * 2.0 - 1.0, 0.0, 1.0);
}
