/* Camera matrices, transforms and colormaps: plain math, no GPU. */
#include <math.h>
#include <string.h>

#include "render_internal.h"

static void v3_sub(float o[3], const float a[3], const float b[3])
{
    o[0] = a[0] - b[0];
    o[1] = a[1] - b[1];
    o[2] = a[2] - b[2];
}

static void v3_cross(float o[3], const float a[3], const float b[3])
{
    float x = a[1] * b[2] - a[2] * b[1];
    float y = a[2] * b[0] - a[0] * b[2];
    float z = a[0] * b[1] - a[1] * b[0];
    o[0] = x;
    o[1] = y;
    o[2] = z;
}

static float v3_dot(const float a[3], const float b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static int v3_normalize(float v[3])
{
    float l = sqrtf(v3_dot(v, v));
    if (!(l > 1e-12f)) return -1;
    v[0] /= l;
    v[1] /= l;
    v[2] /= l;
    return 0;
}

void tw_render_transform_trs(float out[12], const float position[3], float yaw, const float scale[3])
{
    float c = cosf(yaw), s = sinf(yaw);
    float sx = scale ? scale[0] : 1.0f, sy = scale ? scale[1] : 1.0f, sz = scale ? scale[2] : 1.0f;
    memset(out, 0, 12 * sizeof(float));
    out[0] = c * sx;
    out[1] = -s * sy;
    out[4] = s * sx;
    out[5] = c * sy;
    out[10] = sz;
    out[3] = position ? position[0] : 0.0f;
    out[7] = position ? position[1] : 0.0f;
    out[11] = position ? position[2] : 0.0f;
}

void tw_render_camera_matrices(const tw_render_camera *cam, float aspect, float view[16], float proj[16])
{
    TW_CHECK(cam && view && proj, "tw_render_camera_matrices needs a camera and two output matrices.");
    float up[3] = { cam->up[0], cam->up[1], cam->up[2] };
    if (up[0] == 0.0f && up[1] == 0.0f && up[2] == 0.0f) up[2] = 1.0f;
    float f[3];
    v3_sub(f, cam->target, cam->eye);
    if (v3_normalize(f) != 0) {
        f[0] = 0.0f; /* eye on target: look along -z, a plan view */
        f[1] = 0.0f;
        f[2] = -1.0f;
    }
    float s[3];
    v3_cross(s, f, up);
    if (v3_normalize(s) != 0) {
        /* Looking along up: any perpendicular does. */
        float alt[3] = { 0.0f, 1.0f, 0.0f };
        if (fabsf(f[1]) > 0.9f) alt[1] = 0.0f, alt[0] = 1.0f;
        v3_cross(s, f, alt);
        v3_normalize(s);
    }
    float u[3];
    v3_cross(u, s, f);

    /* Column-major: view[col * 4 + row]. Rows are s, u, -f. */
    memset(view, 0, 16 * sizeof(float));
    for (int c = 0; c < 3; c++) {
        view[c * 4 + 0] = s[c];
        view[c * 4 + 1] = u[c];
        view[c * 4 + 2] = -f[c];
    }
    view[12] = -v3_dot(s, cam->eye);
    view[13] = -v3_dot(u, cam->eye);
    view[14] = v3_dot(f, cam->eye);
    view[15] = 1.0f;

    float n = cam->near_plane > 0.0f ? cam->near_plane : 0.1f;
    float fa = cam->far_plane > n ? cam->far_plane : 2000.0f;
    if (!(aspect > 0.0f)) aspect = 1.0f;
    memset(proj, 0, 16 * sizeof(float));
    if (cam->ortho_height > 0.0f) {
        float h = cam->ortho_height, w = h * aspect;
        proj[0] = 2.0f / w;
        proj[5] = -2.0f / h; /* Vulkan's y points down */
        proj[10] = -1.0f / (fa - n);
        proj[14] = -n / (fa - n);
        proj[15] = 1.0f;
    } else {
        float fov = cam->fov_y > 0.0f ? cam->fov_y : 45.0f;
        float t = 1.0f / tanf(fov * 0.5f * 3.14159265f / 180.0f);
        proj[0] = t / aspect;
        proj[5] = -t;
        proj[10] = fa / (n - fa); /* depth 0 at near, 1 at far */
        proj[11] = -1.0f;
        proj[14] = n * fa / (n - fa);
    }
}

void tw_render_camera_fit(tw_render_camera *cam, const float min[3], const float max[3], float aspect,
                          float azimuth_deg, float elevation_deg)
{
    TW_CHECK(cam && min && max, "tw_render_camera_fit needs a camera and the bounds.");
    float centre[3], radius = 0.0f;
    for (int k = 0; k < 3; k++) {
        centre[k] = 0.5f * (min[k] + max[k]);
        float e = 0.5f * (max[k] - min[k]);
        radius += e * e;
    }
    radius = sqrtf(radius);
    if (!(radius > 1e-3f)) radius = 1.0f;
    float fov = cam->fov_y > 0.0f ? cam->fov_y : 45.0f;
    if (!(aspect > 0.0f)) aspect = 1.0f;
    /* The bounding sphere must fit the narrower of the two view angles. */
    float half_v = fov * 0.5f * 3.14159265f / 180.0f;
    float half_h = atanf(tanf(half_v) * aspect);
    float half = half_v < half_h ? half_v : half_h;
    float dist = radius / sinf(half);
    float az = azimuth_deg * 3.14159265f / 180.0f, el = elevation_deg * 3.14159265f / 180.0f;
    float dir[3] = { cosf(el) * cosf(az), cosf(el) * sinf(az), sinf(el) };
    for (int k = 0; k < 3; k++) {
        cam->target[k] = centre[k];
        cam->eye[k] = centre[k] + dir[k] * dist;
    }
    if (cam->ortho_height > 0.0f) cam->ortho_height = 2.0f * radius;
    if (cam->far_plane > 0.0f && cam->far_plane < dist + 2.0f * radius) cam->far_plane = dist + 2.0f * radius;
}

/* ---- colormaps ------------------------------------------------------------- */

/* 17 samples (t = k/16) of each map, sRGB. viridis: matplotlib's table
 * (Smith, van der Walt, Firing; CC0). turbo: Google's table (Mikhailov,
 * Apache-2.0). Both at entries min(16k, 255) of their 256. */
static const float viridis[TWL_COLORMAP_N][3] = {
    { 0.267004f, 0.004874f, 0.329415f }, { 0.282327f, 0.094955f, 0.417331f }, { 0.278826f, 0.175490f, 0.483397f },
    { 0.258965f, 0.251537f, 0.524736f }, { 0.229739f, 0.322361f, 0.545706f }, { 0.199430f, 0.387607f, 0.554642f },
    { 0.172719f, 0.448791f, 0.557885f }, { 0.149039f, 0.508051f, 0.557250f }, { 0.127568f, 0.566949f, 0.550556f },
    { 0.120638f, 0.625828f, 0.533488f }, { 0.157851f, 0.683765f, 0.501686f }, { 0.246070f, 0.738910f, 0.452024f },
    { 0.369214f, 0.788888f, 0.382914f }, { 0.515992f, 0.831158f, 0.294279f }, { 0.678489f, 0.863742f, 0.189503f },
    { 0.845561f, 0.887322f, 0.099702f }, { 0.993248f, 0.906157f, 0.143936f },
};
static const float turbo[TWL_COLORMAP_N][3] = {
    { 0.18995f, 0.07176f, 0.23217f }, { 0.25107f, 0.25237f, 0.63374f }, { 0.27628f, 0.42118f, 0.89123f },
    { 0.25862f, 0.57958f, 0.99876f }, { 0.15844f, 0.73551f, 0.92305f }, { 0.09267f, 0.86554f, 0.76230f },
    { 0.19659f, 0.94901f, 0.59466f }, { 0.42778f, 0.99419f, 0.38575f }, { 0.64362f, 0.98999f, 0.23356f },
    { 0.80473f, 0.92452f, 0.20459f }, { 0.93301f, 0.81236f, 0.22667f }, { 0.99314f, 0.67408f, 0.20348f },
    { 0.98360f, 0.49291f, 0.12849f }, { 0.92105f, 0.31489f, 0.05475f }, { 0.81608f, 0.18462f, 0.01809f },
    { 0.66449f, 0.08436f, 0.00424f }, { 0.47960f, 0.01583f, 0.01055f },
};

void twr_colormap_table(tw_render_colormap map, float out[TWL_COLORMAP_N][4])
{
    const float(*t)[3] = map == TW_RENDER_COLORMAP_TURBO ? turbo : viridis;
    for (int k = 0; k < TWL_COLORMAP_N; k++) {
        out[k][0] = t[k][0];
        out[k][1] = t[k][1];
        out[k][2] = t[k][2];
        out[k][3] = 1.0f;
    }
}

void tw_render_colormap_sample(tw_render_colormap map, float t, uint8_t rgb[3])
{
    TW_CHECK(rgb != NULL, "tw_render_colormap_sample needs an output colour.");
    const float(*tab)[3] = map == TW_RENDER_COLORMAP_TURBO ? turbo : viridis;
    if (!(t > 0.0f)) t = 0.0f; /* also NaN */
    if (t > 1.0f) t = 1.0f;
    float x = t * (float)(TWL_COLORMAP_N - 1);
    int i = (int)x;
    if (i > TWL_COLORMAP_N - 2) i = TWL_COLORMAP_N - 2;
    float f = x - (float)i;
    for (int c = 0; c < 3; c++) {
        float v = tab[i][c] + (tab[i + 1][c] - tab[i][c]) * f;
        rgb[c] = (uint8_t)lrintf(v * 255.0f);
    }
}
