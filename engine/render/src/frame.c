/* One frame: the draw list into the instance ring, then the command buffer.
 *
 * One pass over the app's instances writes the opaque ones into this frame's
 * segment of the instance ring (host-visible, mapped) and notes the stale
 * and the faded ones. Stale ones follow, drawn by pipelines with the
 * hatching that the others need not pay for; faded ones come last, sorted
 * back to front, since they blend over what lies behind them. Consecutive
 * instances of the same mesh form a run, and each run is one instanced
 * draw: a draw list grouped by mesh (the natural order of a loop over one
 * kind of entity) costs one draw per mesh. The colour each instance shows
 * (colormap, alarm pulse, stale, selected, faded) is resolved here, through
 * tables built once, so the shaders do no per-vertex state logic.
 *
 * Nothing here allocates unless the draw list outgrew the ring (and the
 * scratch arrays sized with it), so a steady-state frame makes no heap
 * allocation. */
#include <math.h>
#include <string.h>

#include "twin/clock.h"
#include "render_internal.h"

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

/* Daylight: a cool sky, a warm ground bounce, and the sun from the
 * south-west (over the shoulder of the usual view from -x, -y), so the two
 * visible walls of a box differ in brightness and its top is brightest. */
static const float default_sky[3] = { 0.50f, 0.53f, 0.58f };
static const float default_ground[3] = { 0.25f, 0.23f, 0.21f };
static const float default_sun_dir[3] = { 0.55f, 0.35f, -0.76f };
static const float default_sun[3] = { 0.60f, 0.57f, 0.50f };
static const uint8_t default_background[4] = { 0xE4, 0xE7, 0xEB, 0xFF };
/* Selection: a clear cyan, sRGB (0,180,255); alarm: red, sRGB (224,24,24). */
static const uint8_t select_srgb[3] = { 0, 180, 255 };
static const uint8_t alarm_srgb[3] = { 224, 24, 24 };

static float srgb_to_linear(float c)
{
    return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

/* Float to IEEE half, for colours in [0, a few]: values below half's normal
 * range become 0. */
static uint16_t half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    int32_t e = (int32_t)((x >> 23) & 0xFFu) - 127 + 15;
    uint32_t mant = x & 0x7FFFFFu;
    if (e <= 0) return (uint16_t)sign;
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    uint32_t h = sign | ((uint32_t)e << 10) | (mant >> 13);
    if (mant & 0x1000u) h++; /* round half up; a carry into the exponent is right */
    return (uint16_t)h;
}

void twr_tables_init(tw_render *r)
{
    for (int k = 0; k < 256; k++) {
        r->srgb_linear[k] = srgb_to_linear((float)k / 255.0f);
        r->srgb_half[k] = half_from_float(r->srgb_linear[k]);
    }
    for (int m = 0; m < 2; m++) {
        tw_render_colormap map = m ? TW_RENDER_COLORMAP_TURBO : TW_RENDER_COLORMAP_VIRIDIS;
        for (int k = 0; k < 256; k++) {
            uint8_t rgb[3];
            tw_render_colormap_sample(map, (float)k / 255.0f, rgb);
            for (int c = 0; c < 3; c++) r->cmap_linear[m][k][c] = r->srgb_linear[rgb[c]];
        }
    }
}

static int all_zero(const float *v, int n)
{
    for (int k = 0; k < n; k++)
        if (v[k] != 0.0f) return 0;
    return 1;
}

/* Begins the frame slot: waits for the frame that used it last, then frees
 * what waited for that. */
static tw_status slot_acquire(tw_render *r, frame_slot **out)
{
    frame_slot *s = &r->slots[r->frames_submitted % TW_RENDER_FRAMES_IN_FLIGHT];
    if (s->in_flight) {
        tw_status st = twr_vk_status(r, r->vk.d.vkWaitForFences(r->device, 1, &s->fence, VK_TRUE, UINT64_MAX),
                                     "vkWaitForFences");
        if (st != TW_OK) return st;
        r->vk.d.vkResetFences(r->device, 1, &s->fence);
        s->in_flight = 0;
    }
    /* Every earlier frame that used a slot was waited for when the slot came
     * round again, so all frames up to the one this slot held are done. */
    if (r->frames_submitted + 1 > TW_RENDER_FRAMES_IN_FLIGHT) {
        uint64_t done = r->frames_submitted + 1 - TW_RENDER_FRAMES_IN_FLIGHT;
        if (done > r->frames_done) r->frames_done = done;
    }
    twr_run_deletions(r, 0);
    *out = s;
    return TW_OK;
}

static tw_status ensure_ring(tw_render *r, frame_slot *s, uint32_t count)
{
    if (count <= s->instance_cap && s->instances.buf) return TW_OK;
    uint32_t cap = s->instance_cap ? s->instance_cap : 1024;
    while (cap < count) cap = cap > UINT32_MAX / 2 ? count : cap * 2;
    /* This slot's previous frame has finished (slot_acquire waited), so its
     * segment can go at once. */
    twr_buffer_destroy(r, &s->instances);
    tw_status st = twr_buffer_create(r, (VkDeviceSize)cap * sizeof(gpu_instance), VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
                                     MEM_UPLOAD, &s->instances);
    if (st != TW_OK) {
        s->instance_cap = 0;
        return st;
    }
    TW_LOG(&r->log, TW_LOG_DEBUG, TW_RENDER_LOG, "instance ring segment grown to %u", cap);
    s->instance_cap = cap;
    return TW_OK;
}

static tw_status ensure_runs(tw_render *r, uint32_t count)
{
    if (count > r->run_cap) {
        size_t cap = r->run_cap;
        void *items = r->runs;
        if (tw_grow(&r->alloc, &items, &cap, count, sizeof *r->runs) != 0) return TW_ERR_NOMEM;
        r->runs = items;
        r->run_cap = (uint32_t)cap;
    }
    if (count > r->fade_cap) {
        size_t cap = r->fade_cap;
        void *items = r->fade;
        if (tw_grow(&r->alloc, &items, &cap, count, sizeof *r->fade) != 0) return TW_ERR_NOMEM;
        r->fade = items;
        r->fade_cap = (uint32_t)cap;
    }
    return TW_OK;
}

/* Back to front: the farthest first; equal depths keep the draw list's
 * order, so the picture does not depend on the sort's whims. */
static int fade_before(const twr_fade_key *a, const twr_fade_key *b)
{
    return a->depth > b->depth || (a->depth == b->depth && a->index < b->index);
}

/* In place and without allocating (qsort may call malloc): a heap sort. */
static void fade_sort(twr_fade_key *a, uint32_t n)
{
    if (n < 2) return;
    for (uint32_t start = n / 2; start-- > 0;) {
        for (uint32_t root = start;;) {
            uint32_t child = 2 * root + 1;
            if (child >= n) break;
            if (child + 1 < n && fade_before(&a[child], &a[child + 1])) child++;
            if (!fade_before(&a[root], &a[child])) break;
            twr_fade_key t = a[root];
            a[root] = a[child];
            a[child] = t;
            root = child;
        }
    }
    for (uint32_t end = n - 1; end > 0; end--) {
        twr_fade_key t = a[0];
        a[0] = a[end];
        a[end] = t;
        for (uint32_t root = 0;;) {
            uint32_t child = 2 * root + 1;
            if (child >= end) break;
            if (child + 1 < end && fade_before(&a[child], &a[child + 1])) child++;
            if (!fade_before(&a[root], &a[child])) break;
            twr_fade_key u = a[root];
            a[root] = a[child];
            a[child] = u;
            root = child;
        }
    }
}

/* What turns an instance's colour into the colour it shows. */
typedef struct shade {
    int map;                 /* -1: no colormap, else 0 viridis, 1 turbo */
    float vmin, vscale;      /* t = (value - vmin) * vscale */
    float alarm_mix;         /* how far alarm red replaces the colour now */
    float select[3], alarm[3];
} shade;

static void shade_slow(const tw_render *r, const shade *sh, const tw_render_instance *in, uint16_t out[4])
{
    uint32_t flags = in->flags;
    float c[3];
    for (int k = 0; k < 3; k++) c[k] = r->srgb_linear[in->color[k]];
    if (sh->map >= 0 && (flags & TW_RENDER_INST_VALUE) && isfinite(in->value)) {
        float t = (in->value - sh->vmin) * sh->vscale;
        t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
        memcpy(c, r->cmap_linear[sh->map][lrintf(t * 255.0f)], sizeof c);
    }
    if (flags & TW_RENDER_INST_STALE) {
        float l = 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
        for (int k = 0; k < 3; k++) c[k] = (c[k] + (l - c[k]) * 0.85f) * 0.8f + 0.06f;
    }
    if (flags & TW_RENDER_INST_ALARM)
        for (int k = 0; k < 3; k++) c[k] += (sh->alarm[k] - c[k]) * sh->alarm_mix;
    if (flags & TW_RENDER_INST_SELECTED)
        for (int k = 0; k < 3; k++) c[k] += (sh->select[k] - c[k]) * 0.25f;
    if (flags & TW_RENDER_INST_FADED) { /* grey; the shader makes it translucent */
        float l = 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
        for (int k = 0; k < 3; k++) c[k] = 0.35f + 0.4f * l;
    }
    for (int k = 0; k < 3; k++) out[k] = half_from_float(c[k]);
    out[3] = 0x3C00u; /* 1.0, unused */
}

/* Outline level of detail: whether an element is big enough on screen for
 * its outline. Its size is the diagonal of its mesh's bounding box under
 * the instance's scale (exact for rotations and axis scales); perspective
 * divides it by the depth of the box's centre along the view direction (the
 * projected size, as the GPU divides), orthographic by nothing. Outlined
 * when size^2 * k - depth^2 * d >= t: perspective k = (focal length in
 * pixels / threshold)^2, d = 1, t = 0; orthographic k = 1, d = 0, t = the
 * threshold in metres squared. Squares throughout, no root, no branch on the
 * camera in the loop. */
typedef struct edge_lod {
    int mode;                /* 0: none outlined, 1: all, 2: by size */
    float fwd[3][4];         /* the view direction's components, broadcast */
    float dmask[4];          /* (0, 0, 0, d) */
    float t;
    float k;
    float eye_depth;         /* fwd . eye */
} edge_lod;

/* Per mesh, cached at each run change. */
typedef struct mesh_lod {
    float e2k[4];            /* squared bounding-box extents times k; w 0 */
    float c1[4];             /* the box's centre, model space; w 1 */
} mesh_lod;

static void edge_lod_init(const tw_render_drawlist *dl, uint32_t height, const float fwd[3], edge_lod *l)
{
    memset(l, 0, sizeof *l);
    l->mode = (dl->flags & TW_RENDER_DRAW_NO_EDGES) ? 0 : (dl->flags & TW_RENDER_DRAW_EDGES_ALWAYS) ? 1 : 2;
    float px = dl->edge_min_pixels > 0.0f ? dl->edge_min_pixels : 12.0f, h = (float)(height ? height : 1);
    const tw_render_camera *cam = &dl->camera;
    l->k = 1.0f;
    if (cam->ortho_height > 0.0f) {
        float m = px * cam->ortho_height / h;
        l->t = m * m;
    } else {
        /* Pixels per metre at depth 1 (the focal length in pixels). */
        float fov = (cam->fov_y > 0.0f ? cam->fov_y : 45.0f) * 0.017453293f;
        float focal = 0.5f * h / tanf(0.5f * fov);
        l->k = (focal * focal) / (px * px);
        l->dmask[3] = 1.0f;
    }
    for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 4; i++) l->fwd[j][i] = fwd[j];
        l->eye_depth += fwd[j] * cam->eye[j];
    }
}

static void mesh_lod_init(const edge_lod *l, const mesh *me, mesh_lod *ml)
{
    for (int k = 0; k < 3; k++) {
        float e = me->bounds[3 + k] - me->bounds[k];
        ml->e2k[k] = e * e * l->k;
        ml->c1[k] = 0.5f * (me->bounds[k] + me->bounds[3 + k]);
    }
    ml->e2k[3] = 0.0f;
    ml->c1[3] = 1.0f;
}

/* In SSE registers straight from the rows: this runs in the upload loop for
 * every element, whose budget is about 10 ns. */
static inline int edge_lod_outlined(const edge_lod *l, const mesh_lod *ml, const tw_render_instance *in)
{
    if (l->mode != 2) return l->mode;
    if (in->flags & TW_RENDER_INST_SELECTED) return 1;
    const float *m = in->transform;
#if defined(__SSE2__)
    __m128 r0 = _mm_loadu_ps(m), r1 = _mm_loadu_ps(m + 4), r2 = _mm_loadu_ps(m + 8);
    /* Lane k of s: the squared length of column k (w: the translation's). */
    __m128 s = _mm_add_ps(_mm_add_ps(_mm_mul_ps(r0, r0), _mm_mul_ps(r1, r1)), _mm_mul_ps(r2, r2));
    /* Lane k of f: fwd . column k; so the centre's depth is f . (c, 1). */
    __m128 f = _mm_add_ps(_mm_add_ps(_mm_mul_ps(r0, _mm_loadu_ps(l->fwd[0])), _mm_mul_ps(r1, _mm_loadu_ps(l->fwd[1]))),
                          _mm_mul_ps(r2, _mm_loadu_ps(l->fwd[2])));
    f = _mm_mul_ps(f, _mm_loadu_ps(ml->c1));
    f = _mm_add_ps(f, _mm_movehl_ps(f, f));
    f = _mm_add_ss(f, _mm_shuffle_ps(f, f, 1));
    float depth = _mm_cvtss_f32(f) - l->eye_depth;
    __m128 a = _mm_mul_ps(s, _mm_loadu_ps(ml->e2k));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    a = _mm_add_ss(a, _mm_shuffle_ps(a, a, 1));
    return _mm_cvtss_f32(a) - depth * depth * l->dmask[3] >= l->t;
#else
    float size2 = 0.0f, depth = -l->eye_depth;
    for (int k = 0; k < 3; k++)
        size2 += (m[k] * m[k] + m[4 + k] * m[4 + k] + m[8 + k] * m[8 + k]) * ml->e2k[k];
    for (int j = 0; j < 3; j++)
        depth += l->fwd[j][0] * (m[4 * j] * ml->c1[0] + m[4 * j + 1] * ml->c1[1] + m[4 * j + 2] * ml->c1[2] +
                                 m[4 * j + 3]);
    return size2 - depth * depth * l->dmask[3] >= l->t;
#endif
}

static inline void write_instance(const tw_render *r, const shade *sh, gpu_instance *g, const tw_render_instance *in,
                                  uint32_t extra_flags)
{
    /* The public layout is the GPU's: three rows, copied as they are. */
    memcpy(g->model, in->transform, sizeof g->model);
    uint32_t flags = in->flags;
    const uint32_t special = TW_RENDER_INST_SELECTED | TW_RENDER_INST_ALARM | TW_RENDER_INST_STALE |
                             TW_RENDER_INST_FADED | TW_RENDER_INST_VALUE;
    if (!(flags & special)) {
        g->color[0] = r->srgb_half[in->color[0]];
        g->color[1] = r->srgb_half[in->color[1]];
        g->color[2] = r->srgb_half[in->color[2]];
        g->color[3] = 0x3C00u; /* 1.0 */
    } else {
        shade_slow(r, sh, in, g->color);
    }
    g->pick_id = (flags & TW_RENDER_INST_FADED) ? 0u : in->pick_id;
    g->flags = flags | extra_flags;
}

static void fill_uniforms(const tw_render *r, const target *tg, const tw_render_drawlist *dl, gpu_frame *u,
                          float legend[4])
{
    float view[16], proj[16];
    tw_render_camera_matrices(&dl->camera, (float)tg->width / (float)tg->height, view, proj);
    gpu_frame f;
    memset(&f, 0, sizeof f);
    for (int c = 0; c < 4; c++)
        for (int rr = 0; rr < 4; rr++) {
            float acc = 0.0f;
            for (int k = 0; k < 4; k++) acc += proj[k * 4 + rr] * view[c * 4 + k];
            f.view_proj[c * 4 + rr] = acc;
        }
    memcpy(f.eye_time, dl->camera.eye, 3 * sizeof(float));
    f.eye_time[3] = (float)(dl->time - floor(dl->time));

    const tw_render_lights *L = &dl->lights;
    int dflt = all_zero(L->sky, 3) && all_zero(L->ground, 3) && all_zero(L->sun_direction, 3) &&
               all_zero(L->sun_color, 3);
    const float *sky = dflt ? default_sky : L->sky, *ground = dflt ? default_ground : L->ground;
    const float *sun_dir = dflt ? default_sun_dir : L->sun_direction, *sun = dflt ? default_sun : L->sun_color;
    float len = sqrtf(sun_dir[0] * sun_dir[0] + sun_dir[1] * sun_dir[1] + sun_dir[2] * sun_dir[2]);
    for (int k = 0; k < 3; k++) {
        f.sky[k] = sky[k];
        f.ground[k] = ground[k];
        f.sun_dir[k] = len > 0.0f ? sun_dir[k] / len : 0.0f;
        f.sun_color[k] = len > 0.0f ? sun[k] : 0.0f;
    }

    if (dl->section.enabled) {
        const float *n = dl->section.normal;
        float nl = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        for (int k = 0; k < 3; k++) f.section[k] = n[k] / nl;
        f.section[3] = dl->section.offset / nl;
        f.modes[0] = 1;
    }

    const tw_render_colorby *cb = &dl->colorby;
    if (cb->colormap != TW_RENDER_COLORMAP_NONE && cb->legend) {
        float w = (float)tg->width, h = (float)tg->height;
        if (all_zero(cb->legend_rect, 4)) {
            float bw = fmaxf(6.0f, roundf(w / 48.0f)), margin = fmaxf(8.0f, roundf(w / 40.0f));
            legend[0] = w - margin - bw;
            legend[1] = roundf(h * 0.2f);
            legend[2] = bw;
            legend[3] = roundf(h * 0.6f);
        } else {
            memcpy(legend, cb->legend_rect, 4 * sizeof(float));
        }
        f.legend_rect[0] = legend[0];
        f.legend_rect[1] = legend[1];
        f.legend_rect[2] = legend[0] + legend[2];
        f.legend_rect[3] = legend[1] + legend[3];
        f.modes[1] = legend[2] > 0.0f && legend[3] > 0.0f;
        twr_colormap_table(cb->colormap, f.colormap);
    }

    f.viewport[0] = (float)tg->width;
    f.viewport[1] = (float)tg->height;
    f.viewport[2] = 1.0f / (float)tg->width;
    f.viewport[3] = 1.0f / (float)tg->height;
    for (int k = 0; k < 3; k++) f.select_color[k] = r->srgb_linear[select_srgb[k]];
    /* Selected outlines are a little wider on large frames. */
    f.select_color[3] = fmaxf(2.0f, (float)tg->height / 360.0f);
    f.edge_color[0] = f.edge_color[1] = 0.02f;
    f.edge_color[2] = 0.025f;
    f.edge_color[3] = 0.55f;
    f.modes[2] = (dl->flags & TW_RENDER_DRAW_NO_EDGES) ? 0u : 1u;
    /* One write into mapped (possibly write-combined) memory. */
    memcpy(u, &f, sizeof f);
}

/* The runs' outlined parts with pipe, then their plain parts with plain
 * (in the same loop when it is the same pipeline). */
static void draw_runs(tw_render *r, VkCommandBuffer cmd, VkPipeline pipe, VkPipeline plain, const draw_run *runs,
                      uint32_t n, uint32_t *draws)
{
    if (n == 0) return;
    r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
    uint32_t plain_left = 0;
    for (uint32_t k = 0; k < n; k++) {
        const mesh *me = twr_pool_item(&r->meshes, runs[k].mesh_slot);
        if (runs[k].count) {
            r->vk.d.vkCmdDrawIndexed(cmd, me->index_count, runs[k].count, me->first_index,
                                     (int32_t)me->first_vertex, runs[k].first);
            (*draws)++;
        }
        if (runs[k].plain_count && plain == pipe) {
            r->vk.d.vkCmdDrawIndexed(cmd, me->index_count, runs[k].plain_count, me->first_index,
                                     (int32_t)me->first_vertex, runs[k].plain_first);
            (*draws)++;
        } else {
            plain_left += runs[k].plain_count;
        }
    }
    if (plain_left == 0) return;
    r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, plain);
    for (uint32_t k = 0; k < n; k++) {
        if (!runs[k].plain_count) continue;
        const mesh *me = twr_pool_item(&r->meshes, runs[k].mesh_slot);
        r->vk.d.vkCmdDrawIndexed(cmd, me->index_count, runs[k].plain_count, me->first_index,
                                 (int32_t)me->first_vertex, runs[k].plain_first);
        (*draws)++;
    }
}

/* The unit direction the camera looks along (the depth axis of its view). */
static void view_forward(const tw_render_camera *cam, float out[3])
{
    float len = 0.0f;
    for (int k = 0; k < 3; k++) {
        out[k] = cam->target[k] - cam->eye[k];
        len += out[k] * out[k];
    }
    len = sqrtf(len);
    for (int k = 0; k < 3; k++) out[k] = len > 0.0f ? out[k] / len : (k == 2 ? -1.0f : 0.0f);
}

tw_status tw_render_frame(tw_render *r, tw_render_target th, const tw_render_drawlist *dl,
                          tw_render_frame_stats *stats)
{
    TW_CHECK(r && dl, "tw_render_frame needs a renderer and a draw list.");
    TW_CHECK(dl->instance_count == 0 || dl->instances,
             "tw_render_frame: the draw list has %u instances but no instance array.", dl->instance_count);
    TW_CHECK(!dl->section.enabled || !all_zero(dl->section.normal, 3),
             "tw_render_frame: the section plane is enabled but its normal is zero.");
    tw_render_frame_stats st_local;
    tw_render_frame_stats *fs = stats ? stats : &st_local;
    memset(fs, 0, sizeof *fs);

    target *tg = twr_target_get(r, th);
    if (!tg) {
        r->counters.invalid_handles++;
        TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
               "tw_render_frame: target handle 0x%08x is stale or was never created; nothing drawn", th.id);
        return TW_ERR_STATE;
    }
    /* A failed resize left it empty; a window target rebuilds at acquire. */
    if (!tg->fb && !tg->window) return TW_ERR_STATE;

    frame_slot *s;
    tw_status st = slot_acquire(r, &s);
    if (st != TW_OK) return st;
    uint64_t t0 = tw_clock_monotonic_ns();
    uint32_t n = dl->instance_count;
    st = ensure_ring(r, s, n ? n : 1);
    if (st == TW_OK) st = ensure_runs(r, n ? n : 1);
    twr_overlay_frame ov = { 0 };
    if (st == TW_OK) st = twr_overlay_prepare(r, s, dl, tg, &ov);
    if (st != TW_OK) return st;
    /* Last of the steps that can fail before recording: once an image is
     * acquired, its semaphore must be waited for by a submission. */
    if (tg->window) {
        int skip = 0;
        st = twr_window_acquire(r, tg, s, &skip);
        if (st != TW_OK) return st;
        if (skip) {
            r->counters.frames_skipped++;
            fs->cpu_ms = (double)(tw_clock_monotonic_ns() - t0) / 1e6;
            return TW_OK;
        }
    }

    /* How colours are resolved this frame. */
    const tw_render_colorby *cb = &dl->colorby;
    shade sh = { .map = -1 };
    float vmin = 0.0f, vmax = 0.0f;
    if (cb->colormap != TW_RENDER_COLORMAP_NONE) {
        sh.map = cb->colormap == TW_RENDER_COLORMAP_TURBO ? 1 : 0;
        vmin = cb->min;
        vmax = cb->max;
        if (!(vmax != vmin)) { /* automatic: the range of this frame's values */
            vmin = INFINITY;
            vmax = -INFINITY;
            for (uint32_t k = 0; k < n; k++) {
                const tw_render_instance *in = &dl->instances[k];
                if ((in->flags & (TW_RENDER_INST_VALUE | TW_RENDER_INST_HIDDEN)) != TW_RENDER_INST_VALUE ||
                    !isfinite(in->value))
                    continue;
                if (in->value < vmin) vmin = in->value;
                if (in->value > vmax) vmax = in->value;
            }
            if (!(vmin <= vmax)) vmin = 0.0f, vmax = 1.0f; /* no values this frame */
        }
        if (!(vmax > vmin)) vmax = vmin + 1.0f; /* one value, or a reversed range */
        sh.vmin = vmin;
        sh.vscale = 1.0f / (vmax - vmin);
    }
    /* The pulse has a period of one second, so only the fraction matters;
     * taking it in double keeps it exact at large times. */
    sh.alarm_mix = 0.55f + 0.45f * (0.5f + 0.5f * sinf(6.2831853f * (float)(dl->time - floor(dl->time))));
    for (int k = 0; k < 3; k++) {
        sh.select[k] = r->srgb_linear[select_srgb[k]];
        sh.alarm[k] = r->srgb_linear[alarm_srgb[k]];
    }

    /* The one pass over the draw list. The pool's arrays are held in locals:
     * alive[] is bytes, which may alias anything, so the compiler would
     * reload them after every store into the ring. Opaque instances go
     * straight into the ring; faded ones are only noted, with their depth. */
    gpu_instance *ring = s->instances.map;
    draw_run *runs = r->runs;
    twr_fade_key *fade = r->fade;
    const uint8_t *alive = r->meshes.alive;
    const uint16_t *gen = r->meshes.gen;
    const uint32_t used = r->meshes.used;
    twr_fade_key *stale = r->fade + r->fade_cap - 1;
    uint32_t oc = 0, nro = 0, nf = 0, ns = 0, skipped = 0;
    uint32_t last_o = UINT32_MAX;
    /* Opaque instances too small for an outline go from the back of the
     * ring segment, so each run's plain ones are contiguous too (in reverse
     * order, which the depth test does not mind). */
    uint32_t pc = 0, outlined = 0;
    const uint32_t ring_cap = s->instance_cap;
    float fwd[3];
    view_forward(&dl->camera, fwd);
    edge_lod lod;
    edge_lod_init(dl, tg->height, fwd, &lod);
    mesh_lod mlod;
    memset(&mlod, 0, sizeof mlod);
    for (uint32_t k = 0; k < n; k++) {
        const tw_render_instance *in = &dl->instances[k];
        uint32_t flags = in->flags;
        if (flags & TW_RENDER_INST_HIDDEN) continue;
        /* The pool lookup, inlined: this loop runs for every element. */
        uint32_t id = in->mesh.id, slot = (id & ((1u << POOL_SLOT_BITS) - 1)) - 1;
        if (slot >= used || !alive[slot] || gen[slot] != (id >> POOL_SLOT_BITS)) {
            skipped++;
            continue;
        }
        if ((flags & (TW_RENDER_INST_STALE | TW_RENDER_INST_FADED)) == TW_RENDER_INST_STALE) {
            /* Hatched: drawn after the other opaque ones, by a pipeline of
             * their own. Noted from the back of the scratch array. */
            stale[-(int64_t)ns++] = (twr_fade_key){ 0.0f, k, slot };
            continue;
        }
        if (flags & TW_RENDER_INST_FADED) {
            /* The depth of the mesh's bounding-box centre, in world space. */
            const float *b = ((const mesh *)twr_pool_item(&r->meshes, slot))->bounds, *m = in->transform;
            float c[3] = { 0.5f * (b[0] + b[3]), 0.5f * (b[1] + b[4]), 0.5f * (b[2] + b[5]) }, depth = 0.0f;
            for (int j = 0; j < 3; j++)
                depth += fwd[j] * (m[4 * j] * c[0] + m[4 * j + 1] * c[1] + m[4 * j + 2] * c[2] + m[4 * j + 3] -
                                   dl->camera.eye[j]);
            fade[nf++] = (twr_fade_key){ depth, k, slot };
            continue;
        }
        if (slot != last_o) {
            if (nro) {
                runs[nro - 1].count = oc - runs[nro - 1].first;
                runs[nro - 1].plain_count = pc - (ring_cap - runs[nro - 1].plain_first);
                runs[nro - 1].plain_first = ring_cap - pc;
            }
            /* plain_first holds ring_cap - pc at the run's start until the run ends. */
            runs[nro++] = (draw_run){ slot, oc, 0, ring_cap - pc, 0 };
            last_o = slot;
            if (lod.mode == 2) mesh_lod_init(&lod, twr_pool_item(&r->meshes, slot), &mlod);
        }
        if (lod.mode != 2 || edge_lod_outlined(&lod, &mlod, in))
            write_instance(r, &sh, &ring[oc++], in, 0);
        else
            write_instance(r, &sh, &ring[ring_cap - 1 - pc++], in, TWL_FLAG_NO_OUTLINE);
    }
    if (nro) {
        runs[nro - 1].count = oc - runs[nro - 1].first;
        runs[nro - 1].plain_count = pc - (ring_cap - runs[nro - 1].plain_first);
        runs[nro - 1].plain_first = ring_cap - pc;
    }
    outlined = lod.mode ? oc : 0;
    /* Stale ones, in the draw list's order, their runs after the opaque runs. */
    uint32_t nrs = 0;
    for (uint32_t k = 0; k < ns; k++) {
        const twr_fade_key *sk = &stale[-(int64_t)k];
        if (nrs == 0 || runs[nro + nrs - 1].mesh_slot != sk->mesh_slot) {
            runs[nro + nrs++] = (draw_run){ sk->mesh_slot, oc, 0, 0, 0 };
            if (lod.mode == 2) mesh_lod_init(&lod, twr_pool_item(&r->meshes, sk->mesh_slot), &mlod);
        }
        runs[nro + nrs - 1].count++;
        int o = edge_lod_outlined(&lod, &mlod, &dl->instances[sk->index]);
        outlined += (uint32_t)o;
        write_instance(r, &sh, &ring[oc++], &dl->instances[sk->index], o ? 0u : TWL_FLAG_NO_OUTLINE);
    }
    /* Faded instances blend over what is behind them, so they are drawn
     * back to front: the farthest first. Consecutive ones of one mesh still
     * share a draw. Their runs come last. */
    fade_sort(fade, nf);
    uint32_t nrf = 0, last_f = UINT32_MAX;
    for (uint32_t k = 0; k < nf; k++) {
        if (fade[k].mesh_slot != last_f) {
            runs[nro + nrs + nrf++] = (draw_run){ fade[k].mesh_slot, oc, 0, 0, 0 };
            last_f = fade[k].mesh_slot;
            if (lod.mode == 2) mesh_lod_init(&lod, twr_pool_item(&r->meshes, last_f), &mlod);
        }
        runs[nro + nrs + nrf - 1].count++;
        int o = edge_lod_outlined(&lod, &mlod, &dl->instances[fade[k].index]);
        outlined += (uint32_t)o;
        write_instance(r, &sh, &ring[oc++], &dl->instances[fade[k].index], o ? 0u : TWL_FLAG_NO_OUTLINE);
    }
    uint32_t drawn = oc + pc;
    if (skipped) {
        r->counters.invalid_handles += skipped;
        TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
               "tw_render_frame: %u instances name a stale or zero mesh handle and were skipped", skipped);
    }

    float legend[4] = { 0 };
    fill_uniforms(r, tg, dl, s->uniforms.map, legend);

    /* ---- record ---- */
    VkCommandBuffer cmd = s->cmd;
    r->vk.d.vkResetCommandPool(r->device, s->pool, 0);
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    r->vk.d.vkBeginCommandBuffer(cmd, &bi);
    twr_overlay_record_upload(r, s, cmd, &ov);

    const uint8_t *bg = (dl->background[0] | dl->background[1] | dl->background[2] | dl->background[3])
                            ? dl->background
                            : default_background;
    VkClearValue clears[3];
    memset(clears, 0, sizeof clears);
    for (int c = 0; c < 3; c++) clears[0].color.float32[c] = r->srgb_linear[bg[c]];
    clears[0].color.float32[3] = 1.0f;
    clears[2].depthStencil.depth = 1.0f;
    VkRenderPassBeginInfo rpb = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
        .renderPass = r->rp_scene,
        .framebuffer = tg->fb,
        .renderArea = { { 0, 0 }, { tg->width, tg->height } },
        .clearValueCount = 3,
        .pClearValues = clears,
    };
    VkViewport vp = { 0.0f, 0.0f, (float)tg->width, (float)tg->height, 0.0f, 1.0f };
    VkRect2D sc = { { 0, 0 }, { tg->width, tg->height } };
    r->vk.d.vkCmdBeginRenderPass(cmd, &rpb, VK_SUBPASS_CONTENTS_INLINE);
    r->vk.d.vkCmdSetViewport(cmd, 0, 1, &vp);
    r->vk.d.vkCmdSetScissor(cmd, 0, 1, &sc);
    r->vk.d.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, r->pl_scene, 0, 1, &s->set, 0, NULL);
    uint32_t draws = 0;
    if (drawn) {
        VkBuffer vbs[2] = { r->vbuf.buf, s->instances.buf };
        VkDeviceSize offs[2] = { 0, 0 };
        r->vk.d.vkCmdBindVertexBuffers(cmd, 0, 2, vbs, offs);
        r->vk.d.vkCmdBindIndexBuffer(cmd, r->ibuf.buf, 0, VK_INDEX_TYPE_UINT32);
        /* Without edges, shaders that do no edge work at all: a switched-off
         * branch still costs lavapipe the interpolation of its input. The
         * section view keeps one variant (its uniform switch still works). */
        int section = dl->section.enabled, plain = (dl->flags & TW_RENDER_DRAW_NO_EDGES) != 0;
        VkPipeline opaque = section ? r->pipe_clip : plain ? r->pipe_opaque_plain : r->pipe_opaque;
        VkPipeline stale_pipe = section ? r->pipe_stale_clip : plain ? r->pipe_stale_plain : r->pipe_stale;
        VkPipeline faded = section ? r->pipe_faded_clip : plain ? r->pipe_faded_plain : r->pipe_faded;
        /* Opaque instances too small for an outline take the plain variant
         * (the section view's one variant hides their outline through the
         * instance flag instead, as the stale and faded passes do). */
        VkPipeline opaque_small = section ? r->pipe_clip : r->pipe_opaque_plain;
        draw_runs(r, cmd, opaque, opaque_small, runs, nro, &draws);
        draw_runs(r, cmd, stale_pipe, stale_pipe, runs + nro, nrs, &draws);
        if (section) draw_runs(r, cmd, r->pipe_caps, r->pipe_caps, runs, nro + nrs, &draws);
        draw_runs(r, cmd, faded, faded, runs + nro + nrs, nrf, &draws);
    }
    if (legend[2] > 0.0f && legend[3] > 0.0f) {
        r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, r->pipe_legend);
        r->vk.d.vkCmdDraw(cmd, 6, 1, 0, 0);
    }
    twr_overlay_record_draw(r, s, cmd, &ov, tg);
    r->vk.d.vkCmdEndRenderPass(cmd);

    /* Readback: the colour into the target's host-visible buffer. */
    VkBufferImageCopy region = {
        .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
        .imageExtent = { tg->width, tg->height, 1 },
    };
    r->vk.d.vkCmdCopyImageToBuffer(cmd, tg->color.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, tg->readback.buf, 1,
                                   &region);
    VkBufferMemoryBarrier bb = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .buffer = tg->readback.buf,
        .size = VK_WHOLE_SIZE,
    };
    r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, NULL, 1, &bb, 0,
                                 NULL);
    if (tg->window) twr_window_record(r, tg, cmd);
    st = twr_vk_status(r, r->vk.d.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    if (st != TW_OK) return st;

    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    if (tg->window) twr_window_submit_info(tg, s, &si);
    st = twr_vk_status(r, r->vk.d.vkQueueSubmit(r->queue, 1, &si, s->fence), "vkQueueSubmit");
    if (st != TW_OK) return st;
    s->in_flight = 1;
    tg->last_frame = (int64_t)r->frames_submitted;
    r->frames_submitted++;
    r->counters.frames++;
    if (tg->window) {
        st = twr_window_present(r, tg, &fs->presented);
        if (st != TW_OK) return st;
    }

    fs->instances_drawn = drawn;
    fs->instances_skipped = skipped;
    fs->draw_calls = draws;
    fs->instances_outlined = outlined;
    fs->value_min = vmin;
    fs->value_max = vmax;
    memcpy(fs->legend_rect, legend, sizeof legend);
    fs->cpu_ms = (double)(tw_clock_monotonic_ns() - t0) / 1e6;
    return TW_OK;
}
