/* The run-time Vulkan loader: dlopen, then three function tables.
 *
 * Why not link libvulkan: a missing loader becomes a status the caller can
 * act on (tests skip, the CLI says what to install) instead of a failure to
 * start the program, and device functions fetched with vkGetDeviceProcAddr
 * call the driver directly, without the loader's trampoline. */
#include "vk.h"

#include <dlfcn.h>
#include <string.h>

tw_status tw_vk_open(tw_vk *vk)
{
    memset(vk, 0, sizeof *vk);
    static const char *const names[] = { "libvulkan.so.1", "libvulkan.so" };
    for (size_t k = 0; k < sizeof names / sizeof names[0] && !vk->library; k++)
        vk->library = dlopen(names[k], RTLD_NOW | RTLD_LOCAL);
    if (!vk->library) return TW_ERR_UNSUPPORTED;

    /* dlsym returns void *; going through memcpy keeps ISO C's object/function
     * pointer separation without a warning. */
    void *sym = dlsym(vk->library, "vkGetInstanceProcAddr");
    if (!sym) {
        tw_vk_close(vk);
        return TW_ERR_UNSUPPORTED;
    }
    memcpy(&vk->get_instance_proc, &sym, sizeof sym);

#define TW_VK_LOAD_GLOBAL(name)                                                   \
    vk->g.name = (PFN_##name)vk->get_instance_proc(VK_NULL_HANDLE, #name);        \
    if (!vk->g.name) { tw_vk_close(vk); return TW_ERR_UNSUPPORTED; }
    TW_VK_GLOBAL_FUNCS(TW_VK_LOAD_GLOBAL)
#undef TW_VK_LOAD_GLOBAL
    vk->enumerate_instance_version =
        (PFN_vkEnumerateInstanceVersion)vk->get_instance_proc(VK_NULL_HANDLE, "vkEnumerateInstanceVersion");
    return TW_OK;
}

tw_status tw_vk_load_instance(tw_vk *vk, VkInstance inst)
{
#define TW_VK_LOAD_INSTANCE(name)                                                 \
    vk->i.name = (PFN_##name)vk->get_instance_proc(inst, #name);                  \
    if (!vk->i.name) return TW_ERR_UNSUPPORTED;
    TW_VK_INSTANCE_FUNCS(TW_VK_LOAD_INSTANCE)
#undef TW_VK_LOAD_INSTANCE
#define TW_VK_LOAD_OPTIONAL(name) vk->i.name = (PFN_##name)vk->get_instance_proc(inst, #name);
    TW_VK_INSTANCE_OPTIONAL_FUNCS(TW_VK_LOAD_OPTIONAL)
#undef TW_VK_LOAD_OPTIONAL
    return TW_OK;
}

tw_status tw_vk_load_device(tw_vk *vk, VkDevice dev)
{
#define TW_VK_LOAD_DEVICE(name)                                                   \
    vk->d.name = (PFN_##name)vk->i.vkGetDeviceProcAddr(dev, #name);               \
    if (!vk->d.name) return TW_ERR_UNSUPPORTED;
    TW_VK_DEVICE_FUNCS(TW_VK_LOAD_DEVICE)
#undef TW_VK_LOAD_DEVICE
#define TW_VK_LOAD_DEVICE_OPTIONAL(name) vk->d.name = (PFN_##name)vk->i.vkGetDeviceProcAddr(dev, #name);
    TW_VK_DEVICE_OPTIONAL_FUNCS(TW_VK_LOAD_DEVICE_OPTIONAL)
#undef TW_VK_LOAD_DEVICE_OPTIONAL
    return TW_OK;
}

void tw_vk_close(tw_vk *vk)
{
    if (vk->library) dlclose(vk->library);
    memset(vk, 0, sizeof *vk);
}
