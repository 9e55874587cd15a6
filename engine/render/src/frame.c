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

static inline void write_instance(const tw_render *r, const shade *sh, gpu_instance *g, const tw_render_instance *in)
{
#if defined(__SSE2__)
    /* The first three rows of the column-major matrix: a 4x4 transpose in
     * registers, four loads and three stores instead of twelve of each
     * (this loop runs for every element, 100,000 in the benchmark). */
    __m128 c0 = _mm_loadu_ps(in->transform), c1 = _mm_loadu_ps(in->transform + 4);
    __m128 c2 = _mm_loadu_ps(in->transform + 8), c3 = _mm_loadu_ps(in->transform + 12);
    _MM_TRANSPOSE4_PS(c0, c1, c2, c3);
    _mm_storeu_ps(g->model, c0);
    _mm_storeu_ps(g->model + 4, c1);
    _mm_storeu_ps(g->model + 8, c2);
#else
    const float *m = in->transform;
    g->model[0] = m[0], g->model[1] = m[4], g->model[2] = m[8], g->model[3] = m[12];
    g->model[4] = m[1], g->model[5] = m[5], g->model[6] = m[9], g->model[7] = m[13];
    g->model[8] = m[2], g->model[9] = m[6], g->model[10] = m[10], g->model[11] = m[14];
#endif
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
    g->flags = flags;
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

static void draw_runs(tw_render *r, VkCommandBuffer cmd, VkPipeline pipe, const draw_run *runs, uint32_t n,
                      uint32_t *draws)
{
    if (n == 0) return;
    r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
    for (uint32_t k = 0; k < n; k++) {
        const mesh *me = twr_pool_item(&r->meshes, runs[k].mesh_slot);
        r->vk.d.vkCmdDrawIndexed(cmd, me->index_count, runs[k].count, me->first_index, (int32_t)me->first_vertex,
                                 runs[k].first);
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
    float fwd[3];
    view_forward(&dl->camera, fwd);
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
                depth += fwd[j] * (m[j] * c[0] + m[4 + j] * c[1] + m[8 + j] * c[2] + m[12 + j] - dl->camera.eye[j]);
            fade[nf++] = (twr_fade_key){ depth, k, slot };
            continue;
        }
        if (slot != last_o) {
            if (nro) runs[nro - 1].count = oc - runs[nro - 1].first;
            runs[nro++] = (draw_run){ slot, oc, 0 };
            last_o = slot;
        }
        write_instance(r, &sh, &ring[oc++], in);
    }
    if (nro) runs[nro - 1].count = oc - runs[nro - 1].first;
    /* Stale ones, in the draw list's order, their runs after the opaque runs. */
    uint32_t nrs = 0;
    for (uint32_t k = 0; k < ns; k++) {
        const twr_fade_key *sk = &stale[-(int64_t)k];
        if (nrs == 0 || runs[nro + nrs - 1].mesh_slot != sk->mesh_slot)
            runs[nro + nrs++] = (draw_run){ sk->mesh_slot, oc, 0 };
        runs[nro + nrs - 1].count++;
        write_instance(r, &sh, &ring[oc++], &dl->instances[sk->index]);
    }
    /* Faded instances blend over what is behind them, so they are drawn
     * back to front: the farthest first. Consecutive ones of one mesh still
     * share a draw. Their runs come last. */
    fade_sort(fade, nf);
    uint32_t nrf = 0, last_f = UINT32_MAX;
    for (uint32_t k = 0; k < nf; k++) {
        if (fade[k].mesh_slot != last_f) {
            runs[nro + nrs + nrf++] = (draw_run){ fade[k].mesh_slot, oc, 0 };
            last_f = fade[k].mesh_slot;
        }
        runs[nro + nrs + nrf - 1].count++;
        write_instance(r, &sh, &ring[oc++], &dl->instances[fade[k].index]);
    }
    uint32_t drawn = oc;
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
        draw_runs(r, cmd, opaque, runs, nro, &draws);
        draw_runs(r, cmd, stale_pipe, runs + nro, nrs, &draws);
        if (section) draw_runs(r, cmd, r->pipe_caps, runs, nro + nrs, &draws);
        draw_runs(r, cmd, faded, runs + nro + nrs, nrf, &draws);
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
    fs->value_min = vmin;
    fs->value_max = vmax;
    memcpy(fs->legend_rect, legend, sizeof legend);
    fs->cpu_ms = (double)(tw_clock_monotonic_ns() - t0) / 1e6;
    return TW_OK;
}
