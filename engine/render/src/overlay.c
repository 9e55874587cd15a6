/* The draw list's RGBA overlay: HUD text and panels the app draws on the
 * CPU, composited over the finished frame inside the same render pass.
 *
 * Why inside the pass and not a separate composite: lavapipe pays for every
 * full-screen pass (docs/rendering.md), while a HUD covers a few corners.
 * The app lists the rectangles that hold something; only those are copied
 * (host → the frame slot's staging buffer → one shared overlay image) and
 * only those are drawn, one quad each, blended over what is there. Because
 * the overlay is drawn into the target's colour attachment, readback, PNG
 * screenshots and the window all show it.
 *
 * Synchronisation: the overlay image is shared by the frames in flight. Each
 * frame's command buffer first transitions it to TRANSFER_DST (waiting for
 * the fragment shader reads of the frames submitted before it, in queue
 * order), copies, then transitions it back to SHADER_READ_ONLY for its own
 * draw. The staging buffer is per frame slot, so the host never writes
 * pixels a pending frame still copies. Descriptor sets are per slot too and
 * are rewritten only when the image was replaced, once their slot's frame
 * has finished.
 *
 * The resources are made at the first frame with an overlay, so renderers
 * that never draw one (tests, twin render) pay nothing. */
#include <string.h>

#include "render_internal.h"

static const uint32_t spv_overlay_vert[] =
#include "overlay.vert.inc"
    ;
static const uint32_t spv_overlay_frag[] =
#include "overlay.frag.inc"
    ;

/* Push constants of overlay.vert/.frag: two vec4. */
typedef struct overlay_push {
    float rect[4];           /* x0, y0, x1, y1 in target pixels */
    float viewport[4];       /* 1/width, 1/height, origin x, origin y */
} overlay_push;

static tw_status overlay_pipeline(tw_render *r)
{
    VkShaderModule vs = VK_NULL_HANDLE, fs = VK_NULL_HANDLE;
    tw_status st = twr_shader_module(r, spv_overlay_vert, sizeof spv_overlay_vert, &vs);
    if (st == TW_OK) st = twr_shader_module(r, spv_overlay_frag, sizeof spv_overlay_frag, &fs);
    if (st != TW_OK) goto done;
    const VkColorComponentFlags rgba = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                                       VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT;
    /* Premultiplied alpha over the frame; the id buffer is left alone. */
    VkPipelineColorBlendAttachmentState blend[2] = {
        { VK_TRUE, VK_BLEND_FACTOR_ONE, VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA, VK_BLEND_OP_ADD, VK_BLEND_FACTOR_ONE,
          VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA, VK_BLEND_OP_ADD, rgba },
        { VK_FALSE, 0, 0, 0, 0, 0, 0, 0 },
    };
    /* No vertex input (the shader makes its quad) and no depth test. */
    twr_pipeline_desc desc = {
        .vs = vs,
        .fs = fs,
        .cull = VK_CULL_MODE_NONE,
        .depth_test = VK_FALSE,
        .depth_write = VK_FALSE,
        .blend = blend,
        .blend_count = 2,
        .layout = r->pl_overlay,
        .render_pass = r->rp_scene,
    };
    st = twr_graphics_pipeline(r, &desc, &r->pipe_overlay);
done:
    if (vs) r->vk.d.vkDestroyShaderModule(r->device, vs, NULL);
    if (fs) r->vk.d.vkDestroyShaderModule(r->device, fs, NULL);
    return st;
}

/* Idempotent: a failure part-way leaves what was made, and the next frame
 * with an overlay makes the rest. */
static tw_status overlay_init(tw_render *r)
{
    if (r->pipe_overlay) return TW_OK;
    tw_status st = TW_OK;
    if (!r->dsl_overlay) {
        VkDescriptorSetLayoutBinding b = { 0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1,
                                           VK_SHADER_STAGE_FRAGMENT_BIT, NULL };
        VkDescriptorSetLayoutCreateInfo lci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
            .bindingCount = 1,
            .pBindings = &b,
        };
        st = twr_vk_status(r, r->vk.d.vkCreateDescriptorSetLayout(r->device, &lci, NULL, &r->dsl_overlay),
                           "vkCreateDescriptorSetLayout");
        if (st != TW_OK) return st;
    }
    if (!r->pl_overlay) {
        VkPushConstantRange pc = { VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
                                   sizeof(overlay_push) };
        VkPipelineLayoutCreateInfo pci = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
            .setLayoutCount = 1,
            .pSetLayouts = &r->dsl_overlay,
            .pushConstantRangeCount = 1,
            .pPushConstantRanges = &pc,
        };
        st = twr_vk_status(r, r->vk.d.vkCreatePipelineLayout(r->device, &pci, NULL, &r->pl_overlay),
                           "vkCreatePipelineLayout");
        if (st != TW_OK) return st;
    }
    if (!r->overlay_sampler) {
        /* texelFetch ignores filtering, but a combined image sampler needs one. */
        VkSamplerCreateInfo sci = {
            .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
            .magFilter = VK_FILTER_NEAREST,
            .minFilter = VK_FILTER_NEAREST,
            .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
            .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
            .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
            .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
            .maxLod = 0.0f,
        };
        st = twr_vk_status(r, r->vk.d.vkCreateSampler(r->device, &sci, NULL, &r->overlay_sampler),
                           "vkCreateSampler");
        if (st != TW_OK) return st;
    }
    if (!r->overlay_pool) {
        VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, TW_RENDER_FRAMES_IN_FLIGHT };
        VkDescriptorPoolCreateInfo dpi = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
            .flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
            .maxSets = TW_RENDER_FRAMES_IN_FLIGHT,
            .poolSizeCount = 1,
            .pPoolSizes = &ps,
        };
        st = twr_vk_status(r, r->vk.d.vkCreateDescriptorPool(r->device, &dpi, NULL, &r->overlay_pool),
                           "vkCreateDescriptorPool");
        if (st != TW_OK) return st;
    }
    for (int k = 0; k < TW_RENDER_FRAMES_IN_FLIGHT; k++) {
        if (r->slots[k].overlay_set) continue;
        VkDescriptorSetAllocateInfo dai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = r->overlay_pool,
            .descriptorSetCount = 1,
            .pSetLayouts = &r->dsl_overlay,
        };
        st = twr_vk_status(r, r->vk.d.vkAllocateDescriptorSets(r->device, &dai, &r->slots[k].overlay_set),
                           "vkAllocateDescriptorSets");
        if (st != TW_OK) return st;
        r->slots[k].overlay_set_version = 0;
    }
    return overlay_pipeline(r);
}

/* The shared image must hold w x h; a larger one replaces it (the old one
 * goes once the frames in flight that sample it are done). */
static tw_status overlay_image_fit(tw_render *r, uint32_t w, uint32_t h)
{
    if (r->overlay_image.img && w <= r->overlay_width && h <= r->overlay_height) return TW_OK;
    uint32_t nw = w > r->overlay_width ? w : r->overlay_width;
    uint32_t nh = h > r->overlay_height ? h : r->overlay_height;
    if (r->overlay_image.img) {
        deletion d = { .kind = DEL_IMAGE, .u.image = r->overlay_image };
        twr_defer_delete(r, &d);
        memset(&r->overlay_image, 0, sizeof r->overlay_image);
    }
    r->overlay_width = r->overlay_height = 0;
    r->overlay_ready = 0;
    r->overlay_version++;
    tw_status st = twr_image_create(r, nw, nh, VK_FORMAT_R8G8B8A8_UNORM,
                                    VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                    VK_IMAGE_ASPECT_COLOR_BIT, &r->overlay_image);
    if (st != TW_OK) return st;
    r->overlay_width = nw;
    r->overlay_height = nh;
    return TW_OK;
}

tw_status twr_overlay_prepare(tw_render *r, frame_slot *s, const tw_render_drawlist *dl, const target *tg,
                              twr_overlay_frame *out)
{
    (void)tg;
    memset(out, 0, sizeof *out);
    const tw_render_overlay *o = dl->overlay;
    if (!o) return TW_OK;
    TW_CHECK(o->rgba || !(o->width && o->height), "tw_render_frame: the overlay is %ux%u but has no pixels.",
             o->width, o->height);
    TW_CHECK(o->rect_count <= TW_RENDER_OVERLAY_MAX_RECTS,
             "tw_render_frame: the overlay lists %u rectangles; at most %d are allowed.", o->rect_count,
             TW_RENDER_OVERLAY_MAX_RECTS);
    size_t stride = o->stride ? o->stride : (size_t)o->width * 4;
    TW_CHECK(stride >= (size_t)o->width * 4, "tw_render_frame: the overlay's stride (%zu bytes) is shorter than a row.",
             stride);
    if (!o->width || !o->height) return TW_OK;

    /* The rectangles, clipped to the overlay. */
    uint32_t want = o->rect_count ? o->rect_count : 1;
    VkDeviceSize bytes = 0;
    for (uint32_t k = 0; k < want; k++) {
        uint32_t x = 0, y = 0, w = o->width, h = o->height;
        if (o->rect_count) {
            x = o->rects[k][0], y = o->rects[k][1], w = o->rects[k][2], h = o->rects[k][3];
            if (x >= o->width || y >= o->height) continue;
            if (w > o->width - x) w = o->width - x;
            if (h > o->height - y) h = o->height - y;
            if (!w || !h) continue;
        }
        uint32_t n = out->rect_count++;
        out->rects[n][0] = x, out->rects[n][1] = y, out->rects[n][2] = w, out->rects[n][3] = h;
        out->offsets[n] = bytes;
        bytes += (VkDeviceSize)w * h * 4;
    }
    if (!out->rect_count) return TW_OK;

    tw_status st = overlay_init(r);
    if (st == TW_OK) st = overlay_image_fit(r, o->width, o->height);
    if (st != TW_OK) return st;
    if (s->overlay_staging.size < bytes) {
        /* slot_acquire waited for this slot's previous frame: its staging
         * buffer is idle and can go at once. Grown with headroom, so a HUD
         * that grows by a line does not reallocate every frame. */
        VkDeviceSize cap = s->overlay_staging.size ? s->overlay_staging.size : 64 * 1024;
        while (cap < bytes) cap *= 2;
        twr_buffer_destroy(r, &s->overlay_staging);
        st = twr_buffer_create(r, cap, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, MEM_UPLOAD, &s->overlay_staging);
        if (st != TW_OK) return st;
    }
    uint8_t *dst = s->overlay_staging.map;
    for (uint32_t k = 0; k < out->rect_count; k++) {
        const uint32_t *rc = out->rects[k];
        size_t row = (size_t)rc[2] * 4;
        const uint8_t *src = o->rgba + (size_t)rc[1] * stride + (size_t)rc[0] * 4;
        uint8_t *d = dst + out->offsets[k];
        for (uint32_t y = 0; y < rc[3]; y++) memcpy(d + y * row, src + y * stride, row);
    }
    if (s->overlay_set_version != r->overlay_version) {
        VkDescriptorImageInfo ii = { r->overlay_sampler, r->overlay_image.view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
        VkWriteDescriptorSet w = {
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = s->overlay_set,
            .dstBinding = 0,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
            .pImageInfo = &ii,
        };
        r->vk.d.vkUpdateDescriptorSets(r->device, 1, &w, 0, NULL);
        s->overlay_set_version = r->overlay_version;
    }
    out->x = o->x;
    out->y = o->y;
    out->active = 1;
    return TW_OK;
}

void twr_overlay_record_upload(tw_render *r, frame_slot *s, VkCommandBuffer cmd, const twr_overlay_frame *ov)
{
    if (!ov->active) return;
    VkImageMemoryBarrier to_dst = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = 0, /* write after read: an execution dependency suffices */
        .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .oldLayout = r->overlay_ready ? VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL : VK_IMAGE_LAYOUT_UNDEFINED,
        .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = r->overlay_image.img,
        .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
    };
    r->vk.d.vkCmdPipelineBarrier(cmd,
                                 r->overlay_ready ? VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT
                                                  : VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                                 VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL, 1, &to_dst);
    VkBufferImageCopy regions[TW_RENDER_OVERLAY_MAX_RECTS];
    for (uint32_t k = 0; k < ov->rect_count; k++) {
        regions[k] = (VkBufferImageCopy){
            .bufferOffset = ov->offsets[k],
            .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
            .imageOffset = { (int32_t)ov->rects[k][0], (int32_t)ov->rects[k][1], 0 },
            .imageExtent = { ov->rects[k][2], ov->rects[k][3], 1 },
        };
    }
    r->vk.d.vkCmdCopyBufferToImage(cmd, s->overlay_staging.buf, r->overlay_image.img,
                                   VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, ov->rect_count, regions);
    VkImageMemoryBarrier to_read = to_dst;
    to_read.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    to_read.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    to_read.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    to_read.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
    r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, 0, 0, NULL,
                                 0, NULL, 1, &to_read);
    r->overlay_ready = 1;
}

void twr_overlay_record_draw(tw_render *r, frame_slot *s, VkCommandBuffer cmd, const twr_overlay_frame *ov,
                             const target *tg)
{
    if (!ov->active) return;
    r->vk.d.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, r->pipe_overlay);
    r->vk.d.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, r->pl_overlay, 0, 1, &s->overlay_set, 0,
                                    NULL);
    for (uint32_t k = 0; k < ov->rect_count; k++) {
        /* The rectangle in target pixels, clipped to the target. */
        int64_t x0 = (int64_t)ov->x + ov->rects[k][0], y0 = (int64_t)ov->y + ov->rects[k][1];
        int64_t x1 = x0 + ov->rects[k][2], y1 = y0 + ov->rects[k][3];
        if (x0 < 0) x0 = 0;
        if (y0 < 0) y0 = 0;
        if (x1 > (int64_t)tg->width) x1 = tg->width;
        if (y1 > (int64_t)tg->height) y1 = tg->height;
        if (x0 >= x1 || y0 >= y1) continue;
        overlay_push pc = {
            { (float)x0, (float)y0, (float)x1, (float)y1 },
            { 1.0f / (float)tg->width, 1.0f / (float)tg->height, (float)ov->x, (float)ov->y },
        };
        r->vk.d.vkCmdPushConstants(cmd, r->pl_overlay, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
                                   sizeof pc, &pc);
        r->vk.d.vkCmdDraw(cmd, 6, 1, 0, 0);
    }
}

void twr_overlay_fini(tw_render *r)
{
    VkDevice d = r->device;
    for (int k = 0; k < TW_RENDER_FRAMES_IN_FLIGHT; k++) twr_buffer_destroy(r, &r->slots[k].overlay_staging);
    twr_image_destroy(r, &r->overlay_image);
    if (r->pipe_overlay) r->vk.d.vkDestroyPipeline(d, r->pipe_overlay, NULL);
    if (r->pl_overlay) r->vk.d.vkDestroyPipelineLayout(d, r->pl_overlay, NULL);
    if (r->dsl_overlay) r->vk.d.vkDestroyDescriptorSetLayout(d, r->dsl_overlay, NULL);
    if (r->overlay_pool) r->vk.d.vkDestroyDescriptorPool(d, r->overlay_pool, NULL);
    if (r->overlay_sampler) r->vk.d.vkDestroySampler(d, r->overlay_sampler, NULL);
    r->pipe_overlay = VK_NULL_HANDLE;
    r->pl_overlay = VK_NULL_HANDLE;
    r->dsl_overlay = VK_NULL_HANDLE;
    r->overlay_pool = VK_NULL_HANDLE;
    r->overlay_sampler = VK_NULL_HANDLE;
}
