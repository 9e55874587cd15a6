/* One frame: the draw list's instances (instances.c works out which
 * records changed and the drawing order), then the command buffer: the
 * records' upload and gather, the render pass with its opaque, stale,
 * section and faded draws, the legend, the overlay, the readback.
 *
 * Stale instances are drawn by pipelines with the hatching that the others
 * need not pay for; faded ones come last, back to front, since they blend
 * over what lies behind them. Each run of one mesh is one instanced draw
 * (two when some of its elements are too small on screen for an outline),
 * so a draw list grouped by mesh (the natural order of a loop over one kind
 * of entity) costs about one draw per mesh.
 *
 * Nothing here allocates unless the draw list outgrew the buffers and the
 * scratch arrays sized with it, so a steady-state frame makes no heap
 * allocation. */
#include <math.h>
#include <string.h>

#include "twin/clock.h"
#include "render_internal.h"


/* Daylight: a cool sky, a warm ground bounce, and the sun from the
 * south-west (over the shoulder of the usual view from -x, -y), so the two
 * visible walls of a box differ in brightness and its top is brightest. */
static const float default_sky[3] = { 0.50f, 0.53f, 0.58f };
static const float default_ground[3] = { 0.25f, 0.23f, 0.21f };
static const float default_sun_dir[3] = { 0.55f, 0.35f, -0.76f };
static const float default_sun[3] = { 0.60f, 0.57f, 0.50f };
static const uint8_t default_background[4] = { 0xE4, 0xE7, 0xEB, 0xFF };

static float srgb_to_linear(float c)
{
    return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

/* Float to IEEE half, for colours in [0, a few]: values below half's normal
 * range become 0. */
uint16_t twr_half_from_float(float f)
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
        r->srgb_half[k] = twr_half_from_float(r->srgb_linear[k]);
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
    for (int k = 0; k < 3; k++) f.select_color[k] = r->srgb_linear[twr_select_srgb[k]];
    /* Selected outlines are a little wider on large frames. */
    f.select_color[3] = fmaxf(2.0f, (float)tg->height / 360.0f);
    f.edge_color[0] = f.edge_color[1] = 0.02f;
    f.edge_color[2] = 0.025f;
    f.edge_color[3] = 0.55f;
    f.modes[2] = (dl->flags & TW_RENDER_DRAW_NO_EDGES) ? 0u : 1u;
    /* One write into mapped (possibly write-combined) memory. */
    memcpy(u, &f, sizeof f);
}

static void draw_part(tw_render *r, VkCommandBuffer cmd, const draw_run *run, int plain, uint32_t *draws)
{
    const mesh *me = twr_pool_item(&r->meshes, run->mesh_slot);
    r->vk.d.vkCmdDrawIndexed(cmd, me->index_count, plain ? run->plain_count : run->count, me->first_index,
                             (int32_t)me->first_vertex, plain ? run->plain_first : run->first);
    (*draws)++;
}

/* The runs' outlined parts with pipe, then their plain parts with plain,
 * the variant without edges (one loop when they are the same pipeline). */
static void draw_runs(tw_render *r, VkCommandBuffer cmd, VkPipeline pipe, VkPipeline plain, const draw_run *runs,
                      uint32_t n, uint32_t *draws)
{
    if (n == 0) return;
    r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
    uint32_t plain_left = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (runs[k].count) draw_part(r, cmd, &runs[k], 0, draws);
        if (runs[k].plain_count && plain == pipe)
            draw_part(r, cmd, &runs[k], 1, draws);
        else
            plain_left += runs[k].plain_count;
    }
    if (plain_left == 0) return;
    r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, plain);
    for (uint32_t k = 0; k < n; k++)
        if (runs[k].plain_count) draw_part(r, cmd, &runs[k], 1, draws);
}

/* Runs whose order matters (faded: back to front), each either outlined
 * or plain, switching pipelines as they come. */
static void draw_runs_in_order(tw_render *r, VkCommandBuffer cmd, VkPipeline pipe, VkPipeline plain,
                               const draw_run *runs, uint32_t n, uint32_t *draws)
{
    VkPipeline bound = VK_NULL_HANDLE;
    for (uint32_t k = 0; k < n; k++) {
        int is_plain = runs[k].count == 0;
        VkPipeline want = is_plain ? plain : pipe;
        if (want != bound) {
            r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, want);
            bound = want;
        }
        draw_part(r, cmd, &runs[k], is_plain, draws);
    }
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
    twr_overlay_frame ov = { 0 };
    st = twr_overlay_prepare(r, s, dl, tg, &ov);
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

    /* The records that changed and this frame's drawing order. */
    twr_instance_frame inf;
    tw_status prep = twr_instances_prepare(r, s, dl, tg->height, &inf);
    if (prep != TW_OK) {
        /* Nothing of what was prepared reaches the GPU. An acquired window
         * image must still be submitted for: the frame goes out empty, and
         * the error is returned after it. */
        r->inst.valid = 0;
        s->gathered_count = UINT32_MAX;
        if (!tg->window) return prep;
        memset(&inf, 0, sizeof inf);
    }
    uint32_t drawn = inf.drawn, skipped = inf.skipped;
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
    twr_instances_record_upload(r, s, cmd, &inf);

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
        /* Each pass has a variant with edges and one without (for
         * TW_RENDER_DRAW_NO_EDGES, and for elements too small on screen for
         * an outline). */
        VkPipeline opaque = section ? r->pipe_clip : r->pipe_opaque;
        VkPipeline opaque_small = section ? r->pipe_clip_plain : r->pipe_opaque_plain;
        VkPipeline stale_pipe = section ? r->pipe_stale_clip : r->pipe_stale;
        VkPipeline stale_small = section ? r->pipe_stale_clip_plain : r->pipe_stale_plain;
        VkPipeline faded = section ? r->pipe_faded_clip : r->pipe_faded;
        VkPipeline faded_small = section ? r->pipe_faded_clip_plain : r->pipe_faded_plain;
        if (plain) {
            opaque = opaque_small;
            stale_pipe = stale_small;
            faded = faded_small;
        }
        const draw_run *runs = r->inst.runs;
        uint32_t nro = inf.opaque_runs, nrs = inf.stale_runs, nrf = inf.faded_runs;
        draw_runs(r, cmd, opaque, opaque_small, runs, nro, &draws);
        draw_runs(r, cmd, stale_pipe, stale_small, runs + nro, nrs, &draws);
        if (section) draw_runs(r, cmd, r->pipe_caps, r->pipe_caps, runs, nro + nrs, &draws);
        draw_runs_in_order(r, cmd, faded, faded_small, runs + nro + nrs, nrf, &draws);
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
    if (st != TW_OK) {
        r->inst.valid = 0; /* the records' copy never ran */
        s->gathered_count = UINT32_MAX;
        return st;
    }

    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    if (tg->window) twr_window_submit_info(tg, s, &si);
    st = twr_vk_status(r, r->vk.d.vkQueueSubmit(r->queue, 1, &si, s->fence), "vkQueueSubmit");
    if (st != TW_OK) {
        r->inst.valid = 0;
        s->gathered_count = UINT32_MAX;
        return st;
    }
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
    fs->instances_outlined = inf.outlined;
    fs->records_uploaded = inf.records_written;
    fs->value_min = inf.vmin;
    fs->value_max = inf.vmax;
    memcpy(fs->legend_rect, legend, sizeof legend);
    fs->cpu_ms = (double)(tw_clock_monotonic_ns() - t0) / 1e6;
    return prep;
}
