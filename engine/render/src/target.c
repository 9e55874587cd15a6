/* Offscreen targets: the images a frame draws into, the host-visible copy
 * of its result (readback), and picking from the id buffer.
 *
 * Every frame into an offscreen target ends with a copy of its colour into
 * the target's readback buffer, inside the frame's own command buffer; a
 * read then only waits for that frame and copies memory. Picking copies one
 * texel of the id image on demand. A window target (swapchain.c) is one of
 * these plus a swapchain: the same images and readback, then a copy of the
 * colour into the acquired swapchain image, presented. */
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

enum { DEFAULT_WIDTH = 1280, DEFAULT_HEIGHT = 720 };

target *twr_target_get(tw_render *r, tw_render_target t)
{
    int64_t s = twr_pool_lookup(&r->targets, t.id);
    return s < 0 ? NULL : twr_pool_item(&r->targets, (uint32_t)s);
}

static target *target_checked(tw_render *r, tw_render_target t, const char *fn)
{
    target *tg = twr_target_get(r, t);
    if (!tg) {
        r->counters.invalid_handles++;
        TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
               "%s: target handle 0x%08x is stale or was never created; nothing done", fn, t.id);
    }
    return tg;
}

/* Hands every GPU object of tg to deferred deletion (frames in flight may
 * still draw into it) and clears it, keeping the label. */
static void target_release(tw_render *r, target *tg)
{
    gpu_image *imgs[3] = { &tg->color, &tg->id, &tg->depth };
    for (int k = 0; k < 3; k++) {
        if (!imgs[k]->img) continue;
        deletion d = { .kind = DEL_IMAGE, .u.image = *imgs[k] };
        twr_defer_delete(r, &d);
    }
    if (tg->fb) {
        deletion d = { .kind = DEL_FRAMEBUFFER, .u.framebuffer = tg->fb };
        twr_defer_delete(r, &d);
    }
    if (tg->readback.buf) {
        deletion d = { .kind = DEL_BUFFER, .u.buffer = tg->readback };
        twr_defer_delete(r, &d);
    }
    char label[sizeof tg->label];
    memcpy(label, tg->label, sizeof label);
    struct twr_window *window = tg->window;
    memset(tg, 0, sizeof *tg);
    memcpy(tg->label, label, sizeof label);
    tg->window = window;
    tg->last_frame = -1;
}

static tw_status target_build(tw_render *r, target *tg, uint32_t w, uint32_t h)
{
    tg->width = w;
    tg->height = h;
    tg->last_frame = -1;
    const VkImageUsageFlags att = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
    tw_status st = twr_image_create(r, w, h, VK_FORMAT_R8G8B8A8_SRGB, att, VK_IMAGE_ASPECT_COLOR_BIT, &tg->color);
    if (st == TW_OK) st = twr_image_create(r, w, h, VK_FORMAT_R32_UINT, att, VK_IMAGE_ASPECT_COLOR_BIT, &tg->id);
    if (st == TW_OK)
        st = twr_image_create(r, w, h, r->depth_format, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT,
                              VK_IMAGE_ASPECT_DEPTH_BIT, &tg->depth);
    if (st == TW_OK)
        st = twr_buffer_create(r, (VkDeviceSize)w * h * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, MEM_READBACK,
                               &tg->readback);
    if (st != TW_OK) return st;
    VkImageView views[3] = { tg->color.view, tg->id.view, tg->depth.view };
    VkFramebufferCreateInfo fci = {
        .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
        .renderPass = r->rp_scene,
        .attachmentCount = 3,
        .pAttachments = views,
        .width = w,
        .height = h,
        .layers = 1,
    };
    return twr_vk_status(r, r->vk.d.vkCreateFramebuffer(r->device, &fci, NULL, &tg->fb), "vkCreateFramebuffer");
}

static tw_status check_size(tw_render *r, uint32_t w, uint32_t h)
{
    if (w > r->props.limits.maxFramebufferWidth || h > r->props.limits.maxFramebufferHeight ||
        w > r->props.limits.maxImageDimension2D || h > r->props.limits.maxImageDimension2D) {
        TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "a %ux%u target is larger than the device allows (%ux%u)", w, h,
               r->props.limits.maxFramebufferWidth, r->props.limits.maxFramebufferHeight);
        return TW_ERR_LIMIT;
    }
    return TW_OK;
}

tw_status tw_render_target_create(tw_render *r, const tw_render_target_desc *desc, tw_render_target *out)
{
    TW_CHECK(r && out, "tw_render_target_create needs a renderer and an output handle.");
    out->id = 0;
    tw_render_target_desc d = desc ? *desc : (tw_render_target_desc){ 0 };
    uint32_t w = d.width ? d.width : DEFAULT_WIDTH;
    uint32_t h = d.height ? d.height : DEFAULT_HEIGHT;
    tw_status st = check_size(r, w, h);
    if (st != TW_OK) return st;
    uint32_t id = twr_pool_alloc(&r->targets, &r->alloc);
    if (!id) return TW_ERR_NOMEM;
    target *tg = twr_pool_item(&r->targets, (uint32_t)twr_pool_lookup(&r->targets, id));
    snprintf(tg->label, sizeof tg->label, "%s", d.label ? d.label : "");
    st = target_build(r, tg, w, h);
    if (st != TW_OK) {
        target_release(r, tg);
        twr_pool_free(&r->targets, id);
        return st;
    }
    out->id = id;
    return TW_OK;
}

tw_status tw_render_target_destroy(tw_render *r, tw_render_target t)
{
    TW_CHECK(r != NULL, "tw_render_target_destroy needs a renderer: r is NULL.");
    target *tg = target_checked(r, t, "tw_render_target_destroy");
    if (!tg) return TW_ERR_STATE;
    if (tg->window) twr_window_destroy(r, tg);
    target_release(r, tg);
    twr_pool_free(&r->targets, t.id);
    return TW_OK;
}

int tw_render_target_valid(const tw_render *r, tw_render_target t)
{
    TW_CHECK(r != NULL, "tw_render_target_valid needs a renderer: r is NULL.");
    return twr_pool_lookup(&r->targets, t.id) >= 0;
}

tw_status tw_render_target_resize(tw_render *r, tw_render_target t, uint32_t w, uint32_t h)
{
    TW_CHECK(r != NULL, "tw_render_target_resize needs a renderer: r is NULL.");
    TW_CHECK(w > 0 && h > 0, "tw_render_target_resize needs a size of at least 1x1 (got %ux%u).", w, h);
    target *tg = target_checked(r, t, "tw_render_target_resize");
    if (!tg) return TW_ERR_STATE;
    if (tg->window) return twr_window_resize(r, tg, w, h); /* the swapchain decides the size */
    if (tg->width == w && tg->height == h) return TW_OK;
    tw_status st = check_size(r, w, h);
    if (st != TW_OK) return st;
    target_release(r, tg);
    st = target_build(r, tg, w, h);
    if (st != TW_OK) target_release(r, tg); /* the handle stays valid; a later resize may succeed */
    return st;
}

tw_status tw_render_target_size(const tw_render *r, tw_render_target t, uint32_t *w, uint32_t *h)
{
    TW_CHECK(r && w && h, "tw_render_target_size needs a renderer and two outputs.");
    int64_t s = twr_pool_lookup(&r->targets, t.id);
    if (s < 0) return TW_ERR_STATE;
    const target *tg = twr_pool_item(&r->targets, (uint32_t)s);
    *w = tg->width;
    *h = tg->height;
    return TW_OK;
}

void twr_targets_fini(tw_render *r)
{
    for (uint32_t s = 0; s < r->targets.used; s++) {
        if (!r->targets.alive[s]) continue;
        target *tg = twr_pool_item(&r->targets, s);
        if (tg->window) twr_window_destroy(r, tg);
        target_release(r, tg);
    }
}

tw_status twr_target_rebuild(tw_render *r, target *tg, uint32_t w, uint32_t h)
{
    tw_status st = check_size(r, w, h);
    if (st != TW_OK) return st;
    target_release(r, tg);
    st = target_build(r, tg, w, h);
    if (st != TW_OK) target_release(r, tg);
    return st;
}

/* Waits for the last frame drawn into tg. */
static tw_status target_wait(tw_render *r, target *tg, const char *fn)
{
    if (tg->last_frame < 0 || !tg->readback.buf) {
        TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG, "%s: nothing has been drawn into target %s yet", fn, tg->label);
        return TW_ERR_STATE;
    }
    return twr_wait_frame(r, tg->last_frame);
}

tw_status tw_render_target_read(tw_render *r, tw_render_target t, uint8_t *rgba, size_t size)
{
    TW_CHECK(r && rgba, "tw_render_target_read needs a renderer and a pixel buffer.");
    target *tg = target_checked(r, t, "tw_render_target_read");
    if (!tg) return TW_ERR_STATE;
    size_t need = (size_t)tg->width * tg->height * 4;
    TW_CHECK(size >= need, "tw_render_target_read: the buffer holds %zu bytes but a %ux%u RGBA8 frame needs %zu.",
             size, tg->width, tg->height, need);
    tw_status st = target_wait(r, tg, "tw_render_target_read");
    if (st != TW_OK) return st;
    memcpy(rgba, tg->readback.map, need);
    return TW_OK;
}

tw_status tw_render_target_save_png(tw_render *r, tw_render_target t, const char *path)
{
    TW_CHECK(r && path, "tw_render_target_save_png needs a renderer and a file path.");
    target *tg = target_checked(r, t, "tw_render_target_save_png");
    if (!tg) return TW_ERR_STATE;
    tw_status st = target_wait(r, tg, "tw_render_target_save_png");
    if (st != TW_OK) return st;
    st = tw_render_png_save(path, tg->width, tg->height, tg->readback.map, (size_t)tg->width * 4);
    if (st != TW_OK) TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "could not write %s", path);
    return st;
}

tw_status tw_render_pick(tw_render *r, tw_render_target t, uint32_t x, uint32_t y, uint32_t *id)
{
    TW_CHECK(r && id, "tw_render_pick needs a renderer and somewhere to put the id.");
    *id = 0;
    target *tg = target_checked(r, t, "tw_render_pick");
    if (!tg) return TW_ERR_STATE;
    if (tg->last_frame < 0) return TW_ERR_STATE;
    if (x >= tg->width || y >= tg->height) return TW_OK;
    /* The frame left the id image in TRANSFER_SRC_OPTIMAL and its render
     * pass's outgoing dependency covers this copy. */
    VkCommandBuffer cmd = twr_once_begin(r);
    VkBufferImageCopy region = {
        .bufferOffset = 0,
        .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
        .imageOffset = { (int32_t)x, (int32_t)y, 0 },
        .imageExtent = { 1, 1, 1 },
    };
    r->vk.d.vkCmdCopyImageToBuffer(cmd, tg->id.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, r->pick_buf.buf, 1,
                                   &region);
    VkBufferMemoryBarrier bb = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .buffer = r->pick_buf.buf,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
    r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, NULL, 1, &bb,
                                 0, NULL);
    tw_status st = twr_once_submit(r);
    if (st != TW_OK) return st;
    memcpy(id, r->pick_buf.map, sizeof *id);
    return TW_OK;
}
