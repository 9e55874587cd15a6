/* Window targets: an offscreen target plus a swapchain it is copied into.
 *
 * Why a copy and not the swapchain image as the colour attachment: the
 * frame's render pass, pipelines, id buffer, readback and picking stay the
 * same for both kinds of target, and the surface's format (often BGRA) never
 * reaches the pipelines. The copy is one transfer per frame; on lavapipe it
 * is a memcpy.
 *
 * Per frame (tw_render_frame): acquire an image (the frame slot's
 * "acquired" semaphore), draw as usual, then in the same command buffer
 * transition the image to TRANSFER_DST (at the transfer stage, which is
 * where the submission waits for "acquired"), copy or blit the colour into
 * it, transition it to PRESENT_SRC; the submission signals the image's
 * "rendered" semaphore and the present waits for it. "rendered" is per
 * swapchain image, not per frame slot: an image's semaphore is only reused
 * once that image has been acquired again, which is the one point the
 * presentation engine guarantees it is done with it.
 *
 * Out of date (resize, a window manager's whim), suboptimal and minimised
 * (a 0x0 extent) all end in one place: the swapchain is marked stale and
 * rebuilt before the next frame, after the GPU is idle (rare; simpler and
 * safer than tracking which old images are still in use). The target's own
 * images follow the swapchain's extent through deferred deletion. */
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

enum { MAX_IMAGES = 8 };

typedef struct twr_window {
    VkSurfaceKHR surface;
    VkSwapchainKHR swapchain;
    VkSurfaceFormatKHR format;
    VkPresentModeKHR mode;
    int blit;                               /* the formats differ: blit (converts), else copy */
    uint32_t image_count;
    VkImage images[MAX_IMAGES];
    VkSemaphore rendered[MAX_IMAGES];       /* per image: the frame is in it, present may go */
    VkSemaphore acquired[TW_RENDER_FRAMES_IN_FLIGHT]; /* per frame slot: the image may be written */
    uint32_t image_index;                   /* acquired for the frame being recorded */
    uint32_t acquired_slot;
    uint32_t want_width, want_height;       /* the window's drawable size; 0x0: minimised */
    int stale;                              /* rebuild before the next frame */
    int vsync;
} twr_window;

int twr_device_has_extension(tw_render *r, VkPhysicalDevice pd, const char *name)
{
    uint32_t n = 0;
    if (r->vk.i.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *props = tw_calloc(&r->alloc, n, sizeof *props);
    if (!props) return 0;
    int found = 0;
    if (r->vk.i.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, props) == VK_SUCCESS)
        for (uint32_t k = 0; k < n && !found; k++) found = strcmp(props[k].extensionName, name) == 0;
    tw_free(&r->alloc, props, (size_t)n * sizeof *props);
    return found;
}

uint64_t tw_render_vk_instance(const tw_render *r)
{
    TW_CHECK(r != NULL, "tw_render_vk_instance needs a renderer: r is NULL.");
    /* VkInstance is a pointer (a dispatchable handle). */
    return (uint64_t)(uintptr_t)r->instance;
}

static int slot_index(const tw_render *r, const frame_slot *s) { return (int)(s - r->slots); }

/* The best surface format for an sRGB frame: an sRGB swapchain keeps the
 * bytes (copy, or a blit that decodes and re-encodes exactly). */
static VkSurfaceFormatKHR choose_format(tw_render *r, twr_window *w, int *blit)
{
    uint32_t n = 0;
    VkSurfaceFormatKHR formats[64];
    r->vk.i.vkGetPhysicalDeviceSurfaceFormatsKHR(r->phys, w->surface, &n, NULL);
    if (n > 64) n = 64;
    r->vk.i.vkGetPhysicalDeviceSurfaceFormatsKHR(r->phys, w->surface, &n, formats);
    static const VkFormat prefer[] = { VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_R8G8B8A8_UNORM,
                                       VK_FORMAT_B8G8R8A8_UNORM };
    for (size_t p = 0; p < sizeof prefer / sizeof prefer[0]; p++)
        for (uint32_t k = 0; k < n; k++) {
            if (formats[k].format != prefer[p] || formats[k].colorSpace != VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) continue;
            /* RGBA, sRGB or not: the bytes are the frame's sRGB bytes, a
             * plain copy. BGRA sRGB: a blit swaps the channels exactly.
             * BGRA UNORM: a blit would store linear values, too dark. */
            *blit = prefer[p] == VK_FORMAT_B8G8R8A8_SRGB || prefer[p] == VK_FORMAT_B8G8R8A8_UNORM;
            if (prefer[p] == VK_FORMAT_B8G8R8A8_UNORM)
                TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
                       "the window offers no sRGB format; colours in the window will look too dark");
            return formats[k];
        }
    *blit = 1;
    return n ? formats[0] : (VkSurfaceFormatKHR){ VK_FORMAT_B8G8R8A8_SRGB, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR };
}

static VkPresentModeKHR choose_mode(tw_render *r, twr_window *w)
{
    if (w->vsync) return VK_PRESENT_MODE_FIFO_KHR; /* always offered */
    uint32_t n = 0;
    VkPresentModeKHR modes[16];
    r->vk.i.vkGetPhysicalDeviceSurfacePresentModesKHR(r->phys, w->surface, &n, NULL);
    if (n > 16) n = 16;
    r->vk.i.vkGetPhysicalDeviceSurfacePresentModesKHR(r->phys, w->surface, &n, modes);
    VkPresentModeKHR best = VK_PRESENT_MODE_FIFO_KHR;
    for (uint32_t k = 0; k < n; k++) {
        if (modes[k] == VK_PRESENT_MODE_MAILBOX_KHR) return modes[k];
        if (modes[k] == VK_PRESENT_MODE_IMMEDIATE_KHR) best = modes[k];
    }
    return best;
}

static void destroy_semaphores(tw_render *r, twr_window *w)
{
    for (uint32_t k = 0; k < MAX_IMAGES; k++)
        if (w->rendered[k]) {
            r->vk.d.vkDestroySemaphore(r->device, w->rendered[k], NULL);
            w->rendered[k] = VK_NULL_HANDLE;
        }
    for (int k = 0; k < TW_RENDER_FRAMES_IN_FLIGHT; k++)
        if (w->acquired[k]) {
            r->vk.d.vkDestroySemaphore(r->device, w->acquired[k], NULL);
            w->acquired[k] = VK_NULL_HANDLE;
        }
}

static tw_status create_semaphores(tw_render *r, twr_window *w)
{
    VkSemaphoreCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
    tw_status st = TW_OK;
    for (uint32_t k = 0; k < w->image_count && st == TW_OK; k++)
        st = twr_vk_status(r, r->vk.d.vkCreateSemaphore(r->device, &ci, NULL, &w->rendered[k]), "vkCreateSemaphore");
    for (int k = 0; k < TW_RENDER_FRAMES_IN_FLIGHT && st == TW_OK; k++)
        st = twr_vk_status(r, r->vk.d.vkCreateSemaphore(r->device, &ci, NULL, &w->acquired[k]), "vkCreateSemaphore");
    return st;
}

/* (Re)makes the swapchain at the window's size and the target's images to
 * match. *skip when the surface has no area (minimised): the swapchain
 * stays stale and the frame is not drawn. */
static tw_status rebuild(tw_render *r, target *tg, int *skip)
{
    twr_window *w = tg->window;
    *skip = 0;
    VkSurfaceCapabilitiesKHR caps;
    tw_status st = twr_vk_status(
        r, r->vk.i.vkGetPhysicalDeviceSurfaceCapabilitiesKHR(r->phys, w->surface, &caps),
        "vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
    if (st != TW_OK) return st;
    VkExtent2D ext = caps.currentExtent;
    if (ext.width == UINT32_MAX) { /* the surface takes the swapchain's size: the window's */
        ext.width = w->want_width;
        ext.height = w->want_height;
        if (ext.width < caps.minImageExtent.width) ext.width = caps.minImageExtent.width;
        if (ext.height < caps.minImageExtent.height) ext.height = caps.minImageExtent.height;
        if (ext.width > caps.maxImageExtent.width) ext.width = caps.maxImageExtent.width;
        if (ext.height > caps.maxImageExtent.height) ext.height = caps.maxImageExtent.height;
    }
    if (ext.width == 0 || ext.height == 0 || w->want_width == 0 || w->want_height == 0) {
        *skip = 1;
        return TW_OK;
    }
    if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT)) {
        TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "the window's swapchain images cannot be copied into");
        return TW_ERR_UNSUPPORTED;
    }

    /* Nothing may still use the old swapchain's images or semaphores. */
    tw_render_wait_idle(r);
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount) count = caps.maxImageCount;
    if (count > MAX_IMAGES) count = MAX_IMAGES;
    VkSwapchainKHR old = w->swapchain;
    VkSwapchainCreateInfoKHR ci = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
        .surface = w->surface,
        .minImageCount = count,
        .imageFormat = w->format.format,
        .imageColorSpace = w->format.colorSpace,
        .imageExtent = ext,
        .imageArrayLayers = 1,
        .imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT,
        .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .preTransform = (caps.supportedTransforms & VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR)
                            ? VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR
                            : caps.currentTransform,
        .compositeAlpha = (caps.supportedCompositeAlpha & VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR)
                              ? VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
                              : (VkCompositeAlphaFlagBitsKHR)(caps.supportedCompositeAlpha &
                                                              (~caps.supportedCompositeAlpha + 1u)),
        .presentMode = w->mode,
        .clipped = VK_TRUE,
        .oldSwapchain = old,
    };
    VkSwapchainKHR sc = VK_NULL_HANDLE;
    st = twr_vk_status(r, r->vk.d.vkCreateSwapchainKHR(r->device, &ci, NULL, &sc), "vkCreateSwapchainKHR");
    if (old) r->vk.d.vkDestroySwapchainKHR(r->device, old, NULL);
    w->swapchain = sc;
    destroy_semaphores(r, w);
    w->image_count = 0;
    if (st != TW_OK) return st;
    uint32_t n = 0;
    r->vk.d.vkGetSwapchainImagesKHR(r->device, sc, &n, NULL);
    if (n > MAX_IMAGES) n = MAX_IMAGES;
    VkResult res = r->vk.d.vkGetSwapchainImagesKHR(r->device, sc, &n, w->images);
    if (res != VK_SUCCESS && res != VK_INCOMPLETE) return twr_vk_status(r, res, "vkGetSwapchainImagesKHR");
    w->image_count = n;
    st = create_semaphores(r, w);
    if (st != TW_OK) return st;
    if (tg->width != ext.width || tg->height != ext.height || !tg->fb) {
        st = twr_target_rebuild(r, tg, ext.width, ext.height);
        if (st != TW_OK) return st;
    }
    w->stale = 0;
    r->counters.swapchain_rebuilds++;
    TW_LOG(&r->log, TW_LOG_DEBUG, TW_RENDER_LOG, "swapchain %ux%u, %u images, format %d, present mode %d",
           ext.width, ext.height, n, (int)w->format.format, (int)w->mode);
    return TW_OK;
}

tw_status tw_render_window_create(tw_render *r, const tw_render_window_desc *desc, tw_render_target *out)
{
    TW_CHECK(r && desc && out, "tw_render_window_create needs a renderer, a desc and an output handle.");
    TW_CHECK(desc->surface || desc->create_surface,
             "tw_render_window_create needs a surface or a create_surface callback.");
    out->id = 0;
    VkSurfaceKHR surface = (VkSurfaceKHR)(uintptr_t)desc->surface;
    if (!r->surface_ext || !r->vk.i.vkDestroySurfaceKHR) {
        TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG,
               "a window target needs the renderer made with the platform's instance extensions "
               "(tw_render_desc.instance_extensions, VK_KHR_surface among them)");
        if (surface && r->vk.i.vkDestroySurfaceKHR) r->vk.i.vkDestroySurfaceKHR(r->instance, surface, NULL);
        return TW_ERR_UNSUPPORTED;
    }
    if (!surface) {
        uint64_t handle = 0;
        tw_status st = desc->create_surface(desc->user, tw_render_vk_instance(r), &handle);
        if (st != TW_OK) return st;
        surface = (VkSurfaceKHR)(uintptr_t)handle;
        if (!surface) return TW_ERR_STATE;
    }
    VkBool32 can_present = VK_FALSE;
    r->vk.i.vkGetPhysicalDeviceSurfaceSupportKHR(r->phys, r->queue_family, surface, &can_present);
    if (!r->swapchain_ext || !r->vk.d.vkCreateSwapchainKHR || !can_present) {
        TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "the Vulkan device %s cannot present to this window%s",
               r->info.device_name, r->swapchain_ext ? "" : " (no VK_KHR_swapchain)");
        r->vk.i.vkDestroySurfaceKHR(r->instance, surface, NULL);
        return TW_ERR_UNSUPPORTED;
    }
    twr_window *w = tw_calloc(&r->alloc, 1, sizeof *w);
    uint32_t id = w ? twr_pool_alloc(&r->targets, &r->alloc) : 0;
    if (!id) {
        tw_free(&r->alloc, w, sizeof *w);
        r->vk.i.vkDestroySurfaceKHR(r->instance, surface, NULL);
        return TW_ERR_NOMEM;
    }
    target *tg = twr_pool_item(&r->targets, (uint32_t)twr_pool_lookup(&r->targets, id));
    snprintf(tg->label, sizeof tg->label, "%s", desc->label ? desc->label : "window");
    tg->last_frame = -1;
    tg->window = w;
    w->surface = surface;
    w->vsync = desc->vsync;
    w->want_width = desc->width;
    w->want_height = desc->height;
    w->format = choose_format(r, w, &w->blit);
    w->mode = choose_mode(r, w);
    w->stale = 1;
    if (w->blit) {
        VkFormatProperties src, dst;
        r->vk.i.vkGetPhysicalDeviceFormatProperties(r->phys, VK_FORMAT_R8G8B8A8_SRGB, &src);
        r->vk.i.vkGetPhysicalDeviceFormatProperties(r->phys, w->format.format, &dst);
        if (!(src.optimalTilingFeatures & VK_FORMAT_FEATURE_BLIT_SRC_BIT) ||
            !(dst.optimalTilingFeatures & VK_FORMAT_FEATURE_BLIT_DST_BIT)) {
            TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG,
                   "the window's format (%d) cannot be blitted into on %s", (int)w->format.format,
                   r->info.device_name);
            tw_render_target_destroy(r, (tw_render_target){ id });
            return TW_ERR_UNSUPPORTED;
        }
    }
    /* Made now, so that errors show here and not at the first frame. */
    int skip = 0;
    tw_status st = rebuild(r, tg, &skip);
    if (st != TW_OK) {
        tw_render_target_destroy(r, (tw_render_target){ id });
        return st;
    }
    TW_LOG(&r->log, TW_LOG_INFO, TW_RENDER_LOG, "window target %ux%u, present mode %s", tg->width, tg->height,
           w->mode == VK_PRESENT_MODE_FIFO_KHR        ? "fifo (vsync)"
           : w->mode == VK_PRESENT_MODE_MAILBOX_KHR   ? "mailbox"
           : w->mode == VK_PRESENT_MODE_IMMEDIATE_KHR ? "immediate"
                                                      : "other");
    out->id = id;
    return TW_OK;
}

tw_status twr_window_resize(tw_render *r, target *tg, uint32_t w, uint32_t h)
{
    (void)r;
    twr_window *win = tg->window;
    if (win->want_width != w || win->want_height != h || w == 0 || h == 0) win->stale = 1;
    win->want_width = w;
    win->want_height = h;
    return TW_OK;
}

tw_status tw_render_window_resize(tw_render *r, tw_render_target t, uint32_t w, uint32_t h)
{
    TW_CHECK(r != NULL, "tw_render_window_resize needs a renderer: r is NULL.");
    target *tg = twr_target_get(r, t);
    if (!tg || !tg->window) {
        r->counters.invalid_handles++;
        TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
               "tw_render_window_resize: target handle 0x%08x is not a live window target; nothing done", t.id);
        return TW_ERR_STATE;
    }
    return twr_window_resize(r, tg, w, h);
}

int tw_render_target_is_window(const tw_render *r, tw_render_target t)
{
    TW_CHECK(r != NULL, "tw_render_target_is_window needs a renderer: r is NULL.");
    int64_t s = twr_pool_lookup(&r->targets, t.id);
    return s >= 0 && ((const target *)twr_pool_item(&r->targets, (uint32_t)s))->window != NULL;
}

tw_status twr_window_acquire(tw_render *r, target *tg, const frame_slot *s, int *skip)
{
    twr_window *w = tg->window;
    *skip = 0;
    /* Two tries: a swapchain found out of date at acquire is rebuilt once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (w->stale || !w->swapchain) {
            tw_status st = rebuild(r, tg, skip);
            if (st != TW_OK || *skip) return st;
        }
        int k = slot_index(r, s);
        VkResult res = r->vk.d.vkAcquireNextImageKHR(r->device, w->swapchain, UINT64_MAX, w->acquired[k],
                                                     VK_NULL_HANDLE, &w->image_index);
        if (res == VK_SUCCESS || res == VK_SUBOPTIMAL_KHR) {
            /* Suboptimal still presents; the swapchain is remade after. */
            if (res == VK_SUBOPTIMAL_KHR) w->stale = 1;
            w->acquired_slot = (uint32_t)k;
            return TW_OK;
        }
        if (res != VK_ERROR_OUT_OF_DATE_KHR) return twr_vk_status(r, res, "vkAcquireNextImageKHR");
        w->stale = 1;
    }
    *skip = 1; /* still out of date: try again next frame */
    return TW_OK;
}

void twr_window_record(tw_render *r, target *tg, VkCommandBuffer cmd)
{
    twr_window *w = tg->window;
    VkImage img = w->images[w->image_index];
    VkImageMemoryBarrier to_dst = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = 0,
        .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED, /* the previous contents do not matter */
        .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = img,
        .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
    };
    /* The source stage is the one the submission waits for "acquired" at,
     * so the layout transition happens after the image is ours. */
    r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0,
                                 NULL, 1, &to_dst);
    VkImageSubresourceLayers sub = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 };
    if (w->blit) {
        VkImageBlit b = {
            .srcSubresource = sub,
            .srcOffsets = { { 0, 0, 0 }, { (int32_t)tg->width, (int32_t)tg->height, 1 } },
            .dstSubresource = sub,
            .dstOffsets = { { 0, 0, 0 }, { (int32_t)tg->width, (int32_t)tg->height, 1 } },
        };
        r->vk.d.vkCmdBlitImage(cmd, tg->color.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, img,
                               VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &b, VK_FILTER_NEAREST);
    } else {
        VkImageCopy c = {
            .srcSubresource = sub,
            .dstSubresource = sub,
            .extent = { tg->width, tg->height, 1 },
        };
        r->vk.d.vkCmdCopyImage(cmd, tg->color.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, img,
                               VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &c);
    }
    VkImageMemoryBarrier to_present = to_dst;
    to_present.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    to_present.dstAccessMask = 0; /* the present's semaphore makes the writes visible */
    to_present.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    to_present.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
    r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL,
                                 0, NULL, 1, &to_present);
}

void twr_window_submit_info(target *tg, const frame_slot *s, VkSubmitInfo *si)
{
    (void)s;
    twr_window *w = tg->window;
    static const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    si->waitSemaphoreCount = 1;
    si->pWaitSemaphores = &w->acquired[w->acquired_slot];
    si->pWaitDstStageMask = &wait_stage;
    si->signalSemaphoreCount = 1;
    si->pSignalSemaphores = &w->rendered[w->image_index];
}

tw_status twr_window_present(tw_render *r, target *tg, int *presented)
{
    twr_window *w = tg->window;
    *presented = 0;
    VkPresentInfoKHR pi = {
        .sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
        .waitSemaphoreCount = 1,
        .pWaitSemaphores = &w->rendered[w->image_index],
        .swapchainCount = 1,
        .pSwapchains = &w->swapchain,
        .pImageIndices = &w->image_index,
    };
    VkResult res = r->vk.d.vkQueuePresentKHR(r->queue, &pi);
    if (res == VK_SUCCESS || res == VK_SUBOPTIMAL_KHR) {
        if (res == VK_SUBOPTIMAL_KHR) w->stale = 1;
        *presented = 1;
        r->counters.frames_presented++;
        return TW_OK;
    }
    if (res == VK_ERROR_OUT_OF_DATE_KHR) {
        w->stale = 1;
        return TW_OK;
    }
    return twr_vk_status(r, res, "vkQueuePresentKHR");
}

void twr_window_destroy(tw_render *r, target *tg)
{
    twr_window *w = tg->window;
    if (!w) return;
    /* The swapchain's images may be in use by frames in flight or queued
     * for presentation. */
    tw_render_wait_idle(r);
    destroy_semaphores(r, w);
    if (w->swapchain) r->vk.d.vkDestroySwapchainKHR(r->device, w->swapchain, NULL);
    if (w->surface) r->vk.i.vkDestroySurfaceKHR(r->instance, w->surface, NULL);
    tw_free(&r->alloc, w, sizeof *w);
    tg->window = NULL;
}
