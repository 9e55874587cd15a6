/* The renderer's setup and teardown: the instance (with the validation layer
 * and a messenger that counts every message), the device choice, memory
 * helpers, synchronous one-shot submissions and deferred deletion. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"
enum { DEFAULT_INSTANCES = 16384 };

/* ---- allocation counting ----------------------------------------------- */

/* Every heap allocation the renderer makes goes through here, so a test can
 * prove that a steady-state frame makes none. */
static void *counting_alloc(void *user, void *ptr, size_t old_size, size_t new_size)
{
    tw_render *r = user;
    if (new_size) r->counters.heap_allocations++;
    return r->user_alloc.fn(r->user_alloc.user, ptr, old_size, new_size);
}

/* ---- errors -------------------------------------------------------------- */

static const char *vk_result_name(VkResult res)
{
    switch (res) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    default: return "a Vulkan error";
    }
}

tw_status twr_vk_status(tw_render *r, VkResult res, const char *what)
{
    if (res == VK_SUCCESS) return TW_OK;
    TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "%s failed: %s (%d)", what, vk_result_name(res), (int)res);
    switch (res) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return TW_ERR_NOMEM;
    case VK_ERROR_INCOMPATIBLE_DRIVER:
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT:
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return TW_ERR_UNSUPPORTED;
    default: return TW_ERR_STATE;
    }
}

/* ---- validation messages -------------------------------------------------- */

static VKAPI_ATTR VkBool32 VKAPI_CALL debug_messenger(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                     void *user)
{
    (void)types;
    tw_render *r = user;
    int error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    /* Atomic: drivers may report from their own threads. */
    __atomic_fetch_add(&r->counters.validation_messages, 1u, __ATOMIC_RELAXED);
    if (error) __atomic_fetch_add(&r->counters.validation_errors, 1u, __ATOMIC_RELAXED);
    TW_LOG(&r->log, error ? TW_LOG_ERROR : TW_LOG_WARN, TW_RENDER_LOG, "validation: %s",
           data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

static void messenger_info(tw_render *r, VkDebugUtilsMessengerCreateInfoEXT *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    ci->messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    ci->messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    ci->pfnUserCallback = debug_messenger;
    ci->pUserData = r;
}

/* ---- instance ------------------------------------------------------------ */

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0 && strcmp(v, "off") != 0 && strcmp(v, "false") != 0;
}

static int has_layer(tw_render *r, const char *name)
{
    uint32_t n = 0;
    if (r->vk.g.vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *props = tw_calloc(&r->alloc, n, sizeof *props);
    if (!props) return 0;
    int found = 0;
    if (r->vk.g.vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
        for (uint32_t k = 0; k < n && !found; k++) found = strcmp(props[k].layerName, name) == 0;
    tw_free(&r->alloc, props, (size_t)n * sizeof *props);
    return found;
}

static int has_instance_extension(tw_render *r, const char *layer, const char *name)
{
    uint32_t n = 0;
    if (r->vk.g.vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *props = tw_calloc(&r->alloc, n, sizeof *props);
    if (!props) return 0;
    int found = 0;
    if (r->vk.g.vkEnumerateInstanceExtensionProperties(layer, &n, props) == VK_SUCCESS)
        for (uint32_t k = 0; k < n && !found; k++) found = strcmp(props[k].extensionName, name) == 0;
    tw_free(&r->alloc, props, (size_t)n * sizeof *props);
    return found;
}

enum { MAX_INSTANCE_EXTENSIONS = 16 };

static tw_status create_instance(tw_render *r, const tw_render_desc *desc)
{
    int want_validation = desc->validation > 0 || (desc->validation == 0 && env_flag("TWIN_VALIDATION"));
    int validation = 0;
    if (want_validation) {
        if (!has_layer(r, VALIDATION_LAYER))
            TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
                   "validation was asked for but %s is not installed (Debian: vulkan-validationlayers); "
                   "running without it", VALIDATION_LAYER);
        else if (!has_instance_extension(r, NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
            TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
                   "validation was asked for but %s is missing; running without it",
                   VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        else
            validation = 1;
    }

    const char *exts[MAX_INSTANCE_EXTENSIONS];
    uint32_t next = 0;
    if (validation) exts[next++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    for (uint32_t k = 0; k < desc->instance_extension_count; k++) {
        const char *e = desc->instance_extensions[k];
        if (next == MAX_INSTANCE_EXTENSIONS) return TW_ERR_LIMIT;
        if (!has_instance_extension(r, NULL, e)) {
            TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "the Vulkan instance extension %s is not available", e);
            return TW_ERR_UNSUPPORTED;
        }
        exts[next++] = e;
        /* A platform that asks for VK_KHR_surface wants window targets:
         * the device will get VK_KHR_swapchain (swapchain.c). */
        if (strcmp(e, VK_KHR_SURFACE_EXTENSION_NAME) == 0) r->surface_ext = 1;
    }

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "twin",
        .applicationVersion = 1,
        .pEngineName = "twin",
        .engineVersion = 1,
        .apiVersion = VK_API_VERSION_1_0,
    };
    const char *layers[1] = { VALIDATION_LAYER };
    VkDebugUtilsMessengerCreateInfoEXT mci;
    messenger_info(r, &mci);
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        /* Chained so that vkCreateInstance and vkDestroyInstance report too. */
        .pNext = validation ? &mci : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1u : 0u,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = next,
        .ppEnabledExtensionNames = exts,
    };
    VkResult res = r->vk.g.vkCreateInstance(&ci, NULL, &r->instance);
    if (res == VK_ERROR_INCOMPATIBLE_DRIVER) {
        TW_LOG(&r->log, TW_LOG_INFO, TW_RENDER_LOG,
               "no Vulkan driver is installed (Debian: mesa-vulkan-drivers provides lavapipe)");
        return TW_ERR_UNSUPPORTED;
    }
    tw_status st = twr_vk_status(r, res, "vkCreateInstance");
    if (st != TW_OK) return st;
    st = tw_vk_load_instance(&r->vk, r->instance);
    if (st != TW_OK) return st;
    if (validation) {
        if (!r->vk.i.vkCreateDebugUtilsMessengerEXT) return TW_ERR_UNSUPPORTED;
        st = twr_vk_status(r, r->vk.i.vkCreateDebugUtilsMessengerEXT(r->instance, &mci, NULL, &r->messenger),
                       "vkCreateDebugUtilsMessengerEXT");
        if (st != TW_OK) return st;
    }
    r->info.validation = validation;
    return TW_OK;
}

/* ---- device choice --------------------------------------------------------- */

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
    }
}

static const char *type_name(VkPhysicalDeviceType t)
{
    static const char *const names[] = { "discrete", "integrated", "virtual", "cpu", "other" };
    return names[type_rank(t)];
}

static int format_has(tw_render *r, VkPhysicalDevice pd, VkFormat f, VkFormatFeatureFlags need)
{
    VkFormatProperties fp;
    r->vk.i.vkGetPhysicalDeviceFormatProperties(pd, f, &fp);
    return (fp.optimalTilingFeatures & need) == need;
}

static VkFormat pick_depth_format(tw_render *r, VkPhysicalDevice pd)
{
    static const VkFormat cands[] = { VK_FORMAT_D32_SFLOAT, VK_FORMAT_X8_D24_UNORM_PACK32,
                                      VK_FORMAT_D24_UNORM_S8_UINT, VK_FORMAT_D16_UNORM };
    for (size_t k = 0; k < sizeof cands / sizeof cands[0]; k++)
        if (format_has(r, pd, cands[k], VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT)) return cands[k];
    return VK_FORMAT_UNDEFINED;
}

/* Why a device cannot serve, or NULL when it can. */
static const char *device_unsuitable(tw_render *r, VkPhysicalDevice pd, uint32_t *family)
{
    uint32_t n = 0;
    r->vk.i.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties qf[32];
    if (n > 32) n = 32;
    r->vk.i.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, qf);
    uint32_t k = 0;
    while (k < n && !(qf[k].queueFlags & VK_QUEUE_GRAPHICS_BIT)) k++;
    if (k == n) return "no graphics queue";
    *family = k;
    VkPhysicalDeviceFeatures feat;
    r->vk.i.vkGetPhysicalDeviceFeatures(pd, &feat);
    if (!feat.independentBlend) return "no independentBlend";
    if (!feat.shaderClipDistance) return "no shaderClipDistance";
    if (!format_has(r, pd, VK_FORMAT_R32_UINT, VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT))
        return "R32_UINT cannot be a colour attachment";
    if (!format_has(r, pd, VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BLEND_BIT))
        return "R8G8B8A8_SRGB cannot be a blended colour attachment";
    if (pick_depth_format(r, pd) == VK_FORMAT_UNDEFINED) return "no depth format";
    return NULL;
}

static int name_matches(const char *name, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = name; *p; p++) {
        size_t k = 0;
        while (k < n && p[k] && tolower((unsigned char)p[k]) == tolower((unsigned char)want[k])) k++;
        if (k == n) return 1;
    }
    return 0;
}

static tw_status choose_device(tw_render *r, const char *want)
{
    uint32_t n = 0;
    VkResult res = r->vk.i.vkEnumeratePhysicalDevices(r->instance, &n, NULL);
    if (res != VK_SUCCESS || n == 0) {
        TW_LOG(&r->log, TW_LOG_INFO, TW_RENDER_LOG,
               "Vulkan reports no device (Debian: mesa-vulkan-drivers provides lavapipe)");
        return TW_ERR_UNSUPPORTED;
    }
    VkPhysicalDevice devs[16];
    if (n > 16) n = 16;
    res = r->vk.i.vkEnumeratePhysicalDevices(r->instance, &n, devs);
    if (res != VK_SUCCESS && res != VK_INCOMPLETE) return twr_vk_status(r, res, "vkEnumeratePhysicalDevices");

    int want_index = -1;
    if (want && *want) {
        char *end = NULL;
        long v = strtol(want, &end, 10);
        if (end && *end == '\0' && v >= 0) want_index = (int)v;
    }

    int best = -1, best_rank = 99;
    uint32_t best_family = 0;
    for (uint32_t k = 0; k < n; k++) {
        VkPhysicalDeviceProperties p;
        r->vk.i.vkGetPhysicalDeviceProperties(devs[k], &p);
        uint32_t family = 0;
        const char *why = device_unsuitable(r, devs[k], &family);
        TW_LOG(&r->log, TW_LOG_DEBUG, TW_RENDER_LOG, "device %u: %s (%s)%s%s", k, p.deviceName,
               type_name(p.deviceType), why ? ": unsuitable, " : "", why ? why : "");
        int wanted = 1;
        if (want && *want) wanted = want_index >= 0 ? (int)k == want_index : name_matches(p.deviceName, want);
        if (!wanted) continue;
        if (why) {
            if (want && *want)
                TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "TWIN_GPU=%s names %s, which cannot serve: %s",
                       want, p.deviceName, why);
            continue;
        }
        int rank = type_rank(p.deviceType);
        if (rank < best_rank) {
            best = (int)k;
            best_rank = rank;
            best_family = family;
        }
    }
    if (best < 0) {
        if (want && *want) {
            TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG,
                   "no usable Vulkan device matches TWIN_GPU=%s (give an index or part of a name; "
                   "`vulkaninfo --summary` lists them)", want);
            return TW_ERR_NOT_FOUND;
        }
        /* Devices exist but none can serve: a real failure, not "no Vulkan". */
        TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG,
               "no Vulkan device has what the renderer needs (run with log level debug to see why)");
        return TW_ERR_NOT_FOUND;
    }
    r->phys = devs[best];
    r->queue_family = best_family;
    r->vk.i.vkGetPhysicalDeviceProperties(r->phys, &r->props);
    r->vk.i.vkGetPhysicalDeviceMemoryProperties(r->phys, &r->mem_props);
    r->depth_format = pick_depth_format(r, r->phys);
    snprintf(r->info.device_name, sizeof r->info.device_name, "%s", r->props.deviceName);
    r->info.device_type = type_name(r->props.deviceType);
    r->info.device_index = (uint32_t)best;
    r->info.api_version = r->props.apiVersion;
    return TW_OK;
}

static tw_status create_device(tw_render *r)
{
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = r->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkPhysicalDeviceFeatures feat = { .independentBlend = VK_TRUE, .shaderClipDistance = VK_TRUE };
    /* Window targets need VK_KHR_swapchain; it is enabled only when the
     * platform asked for surfaces and the device has it. */
    const char *dev_exts[1] = { VK_KHR_SWAPCHAIN_EXTENSION_NAME };
    r->swapchain_ext = r->surface_ext && twr_device_has_extension(r, r->phys, VK_KHR_SWAPCHAIN_EXTENSION_NAME);
    VkDeviceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = r->swapchain_ext ? 1u : 0u,
        .ppEnabledExtensionNames = dev_exts,
        .pEnabledFeatures = &feat,
    };
    tw_status st = twr_vk_status(r, r->vk.i.vkCreateDevice(r->phys, &ci, NULL, &r->device), "vkCreateDevice");
    if (st != TW_OK) return st;
    st = tw_vk_load_device(&r->vk, r->device);
    if (st != TW_OK) return st;
    r->vk.d.vkGetDeviceQueue(r->device, r->queue_family, 0, &r->queue);
    return TW_OK;
}

/* ---- memory ---------------------------------------------------------------- */

static int memory_type(tw_render *r, uint32_t bits, VkMemoryPropertyFlags need, VkMemoryPropertyFlags prefer)
{
    int fallback = -1;
    for (uint32_t k = 0; k < r->mem_props.memoryTypeCount; k++) {
        VkMemoryPropertyFlags f = r->mem_props.memoryTypes[k].propertyFlags;
        if (!(bits & (1u << k)) || (f & need) != need) continue;
        if ((f & prefer) == prefer) return (int)k;
        if (fallback < 0) fallback = (int)k;
    }
    return fallback;
}

static tw_status allocate_memory(tw_render *r, VkMemoryRequirements req, int mem, VkDeviceMemory *out)
{
    VkMemoryPropertyFlags need = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, prefer = 0;
    if (mem == MEM_UPLOAD) {
        need = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        prefer = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT; /* resizable BAR when present */
    } else if (mem == MEM_READBACK) {
        need = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        prefer = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    }
    int type = memory_type(r, req.memoryTypeBits, need, prefer);
    if (type < 0) return TW_ERR_UNSUPPORTED;
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    r->counters.gpu_allocations++;
    return twr_vk_status(r, r->vk.d.vkAllocateMemory(r->device, &ai, NULL, out), "vkAllocateMemory");
}

tw_status twr_buffer_create(tw_render *r, VkDeviceSize size, VkBufferUsageFlags usage, int mem, gpu_buffer *out)
{
    memset(out, 0, sizeof *out);
    VkBufferCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size ? size : 16,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    tw_status st = twr_vk_status(r, r->vk.d.vkCreateBuffer(r->device, &ci, NULL, &out->buf), "vkCreateBuffer");
    if (st != TW_OK) return st;
    VkMemoryRequirements req;
    r->vk.d.vkGetBufferMemoryRequirements(r->device, out->buf, &req);
    st = allocate_memory(r, req, mem, &out->mem);
    if (st == TW_OK) st = twr_vk_status(r, r->vk.d.vkBindBufferMemory(r->device, out->buf, out->mem, 0), "vkBindBufferMemory");
    if (st == TW_OK && mem != MEM_DEVICE)
        st = twr_vk_status(r, r->vk.d.vkMapMemory(r->device, out->mem, 0, VK_WHOLE_SIZE, 0, &out->map), "vkMapMemory");
    if (st != TW_OK) {
        twr_buffer_destroy(r, out);
        return st;
    }
    out->size = ci.size;
    return TW_OK;
}

void twr_buffer_destroy(tw_render *r, gpu_buffer *b)
{
    if (b->buf) r->vk.d.vkDestroyBuffer(r->device, b->buf, NULL);
    if (b->mem) r->vk.d.vkFreeMemory(r->device, b->mem, NULL); /* unmaps too */
    memset(b, 0, sizeof *b);
}

tw_status twr_image_create(tw_render *r, uint32_t w, uint32_t h, VkFormat format, VkImageUsageFlags usage,
                           VkImageAspectFlags aspect, gpu_image *out)
{
    memset(out, 0, sizeof *out);
    VkImageCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = format,
        .extent = { w, h, 1 },
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    tw_status st = twr_vk_status(r, r->vk.d.vkCreateImage(r->device, &ci, NULL, &out->img), "vkCreateImage");
    if (st != TW_OK) return st;
    VkMemoryRequirements req;
    r->vk.d.vkGetImageMemoryRequirements(r->device, out->img, &req);
    st = allocate_memory(r, req, MEM_DEVICE, &out->mem);
    if (st == TW_OK) st = twr_vk_status(r, r->vk.d.vkBindImageMemory(r->device, out->img, out->mem, 0), "vkBindImageMemory");
    if (st == TW_OK) {
        VkImageViewCreateInfo vci = {
            .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
            .image = out->img,
            .viewType = VK_IMAGE_VIEW_TYPE_2D,
            .format = format,
            .subresourceRange = { aspect, 0, 1, 0, 1 },
        };
        st = twr_vk_status(r, r->vk.d.vkCreateImageView(r->device, &vci, NULL, &out->view), "vkCreateImageView");
    }
    if (st != TW_OK) twr_image_destroy(r, out);
    return st;
}

void twr_image_destroy(tw_render *r, gpu_image *img)
{
    if (img->view) r->vk.d.vkDestroyImageView(r->device, img->view, NULL);
    if (img->img) r->vk.d.vkDestroyImage(r->device, img->img, NULL);
    if (img->mem) r->vk.d.vkFreeMemory(r->device, img->mem, NULL);
    memset(img, 0, sizeof *img);
}

/* ---- deferred deletion ------------------------------------------------------ */

static void delete_now(tw_render *r, deletion *d);

tw_status twr_defer_delete(tw_render *r, const deletion *d)
{
    if (r->del_count == r->del_cap) {
        size_t cap = r->del_cap;
        void *items = r->dels;
        int grown = tw_grow(&r->alloc, &items, &cap, (size_t)r->del_count + 1, sizeof *r->dels) == 0;
        r->dels = items;
        r->del_cap = (uint32_t)cap;
        if (!grown) {
            /* Out of memory: the safe fallback is to wait for the GPU and
             * delete at once. */
            r->vk.d.vkDeviceWaitIdle(r->device);
            deletion now = *d;
            delete_now(r, &now);
            return TW_OK;
        }
    }
    r->dels[r->del_count] = *d;
    /* Every frame submitted so far may still read the object. */
    r->dels[r->del_count].after = r->frames_submitted;
    r->del_count++;
    return TW_OK;
}

static void delete_now(tw_render *r, deletion *d)
{
    switch (d->kind) {
    case DEL_BUFFER: twr_buffer_destroy(r, &d->u.buffer); break;
    case DEL_IMAGE: twr_image_destroy(r, &d->u.image); break;
    case DEL_FRAMEBUFFER: r->vk.d.vkDestroyFramebuffer(r->device, d->u.framebuffer, NULL); break;
    case DEL_VERTEX_RANGE: twr_range_free(r, &r->vfree, d->u.range); break;
    case DEL_INDEX_RANGE: twr_range_free(r, &r->ifree, d->u.range); break;
    }
}

void twr_run_deletions(tw_render *r, int all)
{
    uint32_t keep = 0;
    for (uint32_t k = 0; k < r->del_count; k++) {
        deletion *d = &r->dels[k];
        if (all || d->after <= r->frames_done)
            delete_now(r, d);
        else
            r->dels[keep++] = *d;
    }
    r->del_count = keep;
}

/* ---- one-shot submissions ----------------------------------------------------- */

VkCommandBuffer twr_once_begin(tw_render *r)
{
    r->vk.d.vkResetCommandPool(r->device, r->once_pool, 0);
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    r->vk.d.vkBeginCommandBuffer(r->once_cmd, &bi);
    return r->once_cmd;
}

tw_status twr_once_submit(tw_render *r)
{
    tw_status st = twr_vk_status(r, r->vk.d.vkEndCommandBuffer(r->once_cmd), "vkEndCommandBuffer");
    if (st != TW_OK) return st;
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &r->once_cmd,
    };
    st = twr_vk_status(r, r->vk.d.vkQueueSubmit(r->queue, 1, &si, r->once_fence), "vkQueueSubmit");
    if (st != TW_OK) return st;
    st = twr_vk_status(r, r->vk.d.vkWaitForFences(r->device, 1, &r->once_fence, VK_TRUE, UINT64_MAX),
                   "vkWaitForFences");
    r->vk.d.vkResetFences(r->device, 1, &r->once_fence);
    return st;
}

tw_status twr_staging_reserve(tw_render *r, VkDeviceSize size)
{
    if (r->staging.buf && r->staging.size >= size) return TW_OK;
    VkDeviceSize cap = r->staging.size ? r->staging.size : 1u << 20;
    while (cap < size) cap *= 2;
    /* The staging buffer is only used by synchronous one-shot work, which has
     * finished, so it can go at once. */
    twr_buffer_destroy(r, &r->staging);
    return twr_buffer_create(r, cap, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             MEM_UPLOAD, &r->staging);
}

tw_status twr_wait_frame(tw_render *r, int64_t frame)
{
    if (frame < 0) return TW_ERR_STATE;
    frame_slot *s = &r->slots[(uint64_t)frame % TW_RENDER_FRAMES_IN_FLIGHT];
    /* The slot holds this frame or a later one; a later one means this frame
     * was already waited for when the slot was reused. */
    if (!s->in_flight) return TW_OK;
    return twr_vk_status(r, r->vk.d.vkWaitForFences(r->device, 1, &s->fence, VK_TRUE, UINT64_MAX),
                     "vkWaitForFences");
}

/* ---- frames in flight --------------------------------------------------------- */

static tw_status slots_create(tw_render *r)
{
    for (int k = 0; k < TW_RENDER_FRAMES_IN_FLIGHT; k++) {
        frame_slot *s = &r->slots[k];
        VkCommandPoolCreateInfo pci = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
            .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
            .queueFamilyIndex = r->queue_family,
        };
        tw_status st = twr_vk_status(r, r->vk.d.vkCreateCommandPool(r->device, &pci, NULL, &s->pool), "vkCreateCommandPool");
        if (st != TW_OK) return st;
        VkCommandBufferAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = s->pool,
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        st = twr_vk_status(r, r->vk.d.vkAllocateCommandBuffers(r->device, &ai, &s->cmd), "vkAllocateCommandBuffers");
        if (st != TW_OK) return st;
        VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
        st = twr_vk_status(r, r->vk.d.vkCreateFence(r->device, &fci, NULL, &s->fence), "vkCreateFence");
        if (st != TW_OK) return st;
        st = twr_buffer_create(r, sizeof(gpu_frame), VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, MEM_UPLOAD, &s->uniforms);
        if (st != TW_OK) return st;
        s->instance_cap = r->initial_instances;
        st = twr_buffer_create(r, (VkDeviceSize)s->instance_cap * sizeof(gpu_instance),
                               VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, MEM_DEVICE,
                               &s->instances);
        if (st != TW_OK) return st;
        st = twr_buffer_create(r, (VkDeviceSize)s->instance_cap * sizeof(gpu_instance), VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                               MEM_UPLOAD, &s->staging);
        if (st != TW_OK) return st;
        VkDescriptorSetAllocateInfo dai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = r->desc_pool,
            .descriptorSetCount = 1,
            .pSetLayouts = &r->dsl_frame,
        };
        st = twr_vk_status(r, r->vk.d.vkAllocateDescriptorSets(r->device, &dai, &s->set), "vkAllocateDescriptorSets");
        if (st != TW_OK) return st;
        VkDescriptorBufferInfo bi = { s->uniforms.buf, 0, sizeof(gpu_frame) };
        VkWriteDescriptorSet w = {
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = s->set,
            .dstBinding = TWL_BINDING_FRAME,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
            .pBufferInfo = &bi,
        };
        r->vk.d.vkUpdateDescriptorSets(r->device, 1, &w, 0, NULL);
    }
    return TW_OK;
}

static tw_status once_create(tw_render *r)
{
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = r->queue_family,
    };
    tw_status st = twr_vk_status(r, r->vk.d.vkCreateCommandPool(r->device, &pci, NULL, &r->once_pool), "vkCreateCommandPool");
    if (st != TW_OK) return st;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = r->once_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    st = twr_vk_status(r, r->vk.d.vkAllocateCommandBuffers(r->device, &ai, &r->once_cmd), "vkAllocateCommandBuffers");
    if (st != TW_OK) return st;
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    st = twr_vk_status(r, r->vk.d.vkCreateFence(r->device, &fci, NULL, &r->once_fence), "vkCreateFence");
    if (st != TW_OK) return st;
    return twr_buffer_create(r, 16, VK_BUFFER_USAGE_TRANSFER_DST_BIT, MEM_READBACK, &r->pick_buf);
}

/* ---- public ------------------------------------------------------------------- */

tw_status tw_render_new(const tw_render_desc *desc_in, tw_render **out)
{
    TW_CHECK(out != NULL, "tw_render_new needs somewhere to put the renderer: out is NULL.");
    *out = NULL;
    tw_render_desc desc = desc_in ? *desc_in : (tw_render_desc){ 0 };
    tw_allocator ua = tw_allocator_or_default(desc.alloc);
    tw_render *r = tw_calloc(&ua, 1, sizeof *r);
    if (!r) return TW_ERR_NOMEM;
    r->user_alloc = ua;
    r->alloc = (tw_allocator){ counting_alloc, r };
    if (desc.log) r->log = *desc.log;
    r->initial_instances = desc.max_instances ? desc.max_instances : DEFAULT_INSTANCES;
    twr_pool_init(&r->meshes, sizeof(mesh));
    twr_pool_init(&r->targets, sizeof(target));
    r->info.device_type = "none";

    tw_status st = tw_vk_open(&r->vk);
    if (st != TW_OK) {
        TW_LOG(&r->log, TW_LOG_INFO, TW_RENDER_LOG,
               "the Vulkan loader libvulkan.so.1 is not installed (Debian: libvulkan1)");
        goto fail;
    }
    st = create_instance(r, &desc);
    if (st != TW_OK) goto fail;
    st = choose_device(r, desc.gpu ? desc.gpu : getenv("TWIN_GPU"));
    if (st != TW_OK) goto fail;
    st = create_device(r);
    if (st != TW_OK) goto fail;
    twr_tables_init(r);
    st = twr_pipelines_create(r);
    if (st != TW_OK) goto fail;
    st = slots_create(r);
    if (st != TW_OK) goto fail;
    st = once_create(r);
    if (st != TW_OK) goto fail;
    st = twr_meshes_init(r);
    if (st != TW_OK) goto fail;
    TW_LOG(&r->log, TW_LOG_INFO, TW_RENDER_LOG, "Vulkan device %u: %s (%s), validation %s", r->info.device_index,
           r->info.device_name, r->info.device_type, r->info.validation ? "on" : "off");
    *out = r;
    return TW_OK;
fail:
    tw_render_free(r);
    return st;
}

void tw_render_free(tw_render *r)
{
    if (!r) return;
    if (r->device) {
        r->vk.d.vkDeviceWaitIdle(r->device);
        twr_targets_fini(r);
        twr_overlay_fini(r);
        twr_meshes_fini(r);
        twr_run_deletions(r, 1);
        twr_instances_fini(r);
        for (int k = 0; k < TW_RENDER_FRAMES_IN_FLIGHT; k++) {
            frame_slot *s = &r->slots[k];
            twr_buffer_destroy(r, &s->instances);
            twr_buffer_destroy(r, &s->staging);
            tw_free(&r->alloc, s->gathered, (size_t)s->gathered_cap * sizeof *s->gathered);
            twr_buffer_destroy(r, &s->uniforms);
            if (s->fence) r->vk.d.vkDestroyFence(r->device, s->fence, NULL);
            if (s->pool) r->vk.d.vkDestroyCommandPool(r->device, s->pool, NULL);
        }
        twr_buffer_destroy(r, &r->staging);
        twr_buffer_destroy(r, &r->pick_buf);
        if (r->once_fence) r->vk.d.vkDestroyFence(r->device, r->once_fence, NULL);
        if (r->once_pool) r->vk.d.vkDestroyCommandPool(r->device, r->once_pool, NULL);
        twr_pipelines_destroy(r);
        r->vk.d.vkDestroyDevice(r->device, NULL);
    }
    if (r->messenger) r->vk.i.vkDestroyDebugUtilsMessengerEXT(r->instance, r->messenger, NULL);
    if (r->instance) r->vk.i.vkDestroyInstance(r->instance, NULL);
    tw_vk_close(&r->vk);
    tw_free(&r->alloc, r->dels, (size_t)r->del_cap * sizeof *r->dels);
    tw_free(&r->alloc, r->vfree.items, (size_t)r->vfree.cap * sizeof(range));
    tw_free(&r->alloc, r->ifree.items, (size_t)r->ifree.cap * sizeof(range));
    twr_pool_fini(&r->meshes, &r->alloc);
    twr_pool_fini(&r->targets, &r->alloc);
    tw_allocator ua = r->user_alloc;
    tw_free(&ua, r, sizeof *r);
}

void tw_render_get_info(const tw_render *r, tw_render_info *out)
{
    TW_CHECK(r && out, "tw_render_get_info needs a renderer and an output struct.");
    *out = r->info;
}

void tw_render_get_counters(const tw_render *r, tw_render_counters *out)
{
    TW_CHECK(r && out, "tw_render_get_counters needs a renderer and an output struct.");
    *out = r->counters;
    out->validation_messages = __atomic_load_n(&r->counters.validation_messages, __ATOMIC_RELAXED);
    out->validation_errors = __atomic_load_n(&r->counters.validation_errors, __ATOMIC_RELAXED);
}

void tw_render_wait_idle(tw_render *r)
{
    TW_CHECK(r != NULL, "tw_render_wait_idle needs a renderer: r is NULL.");
    r->vk.d.vkDeviceWaitIdle(r->device);
    for (int k = 0; k < TW_RENDER_FRAMES_IN_FLIGHT; k++) {
        frame_slot *s = &r->slots[k];
        if (!s->in_flight) continue;
        r->vk.d.vkResetFences(r->device, 1, &s->fence);
        s->in_flight = 0;
    }
    r->frames_done = r->frames_submitted;
    twr_run_deletions(r, 0);
}
