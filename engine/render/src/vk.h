/* vk.h: Vulkan loaded the volk way, written for twin.
 *
 * Nothing links against libvulkan: tw_vk_open dlopens the loader, takes
 * vkGetInstanceProcAddr from it and fills three tables: global functions,
 * instance functions (through vkGetInstanceProcAddr) and device functions
 * (through vkGetDeviceProcAddr, which skips the loader's per-call dispatch).
 * Each table hangs off a renderer, so two renderers can coexist.
 *
 * Only files in engine/render/src include this header; Vulkan types never
 * leave the module. */
#ifndef TWIN_RENDER_VK_H
#define TWIN_RENDER_VK_H

#ifndef VK_NO_PROTOTYPES
#error "engine/render must be compiled with VK_NO_PROTOTYPES: Vulkan is loaded at run time, never linked."
#endif
#include <vulkan/vulkan.h>

#include "twin/status.h"

#define TW_VK_GLOBAL_FUNCS(X)                   \
    X(vkCreateInstance)                         \
    X(vkEnumerateInstanceExtensionProperties)   \
    X(vkEnumerateInstanceLayerProperties)

#define TW_VK_INSTANCE_FUNCS(X)                 \
    X(vkDestroyInstance)                        \
    X(vkEnumeratePhysicalDevices)               \
    X(vkGetPhysicalDeviceProperties)            \
    X(vkGetPhysicalDeviceFeatures)              \
    X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkGetPhysicalDeviceMemoryProperties)      \
    X(vkGetPhysicalDeviceFormatProperties)      \
    X(vkEnumerateDeviceExtensionProperties)     \
    X(vkCreateDevice)                           \
    X(vkGetDeviceProcAddr)

/* Present only when their extension was enabled; may stay NULL. */
#define TW_VK_INSTANCE_OPTIONAL_FUNCS(X)         \
    X(vkCreateDebugUtilsMessengerEXT)           \
    X(vkDestroyDebugUtilsMessengerEXT)          \
    X(vkDestroySurfaceKHR)                      \
    X(vkGetPhysicalDeviceSurfaceSupportKHR)     \
    X(vkGetPhysicalDeviceSurfaceCapabilitiesKHR) \
    X(vkGetPhysicalDeviceSurfaceFormatsKHR)     \
    X(vkGetPhysicalDeviceSurfacePresentModesKHR)

#define TW_VK_DEVICE_FUNCS(X)                   \
    X(vkDestroyDevice)                          \
    X(vkGetDeviceQueue)                         \
    X(vkDeviceWaitIdle)                         \
    X(vkQueueSubmit)                            \
    X(vkQueueWaitIdle)                          \
    X(vkCreateBuffer)                           \
    X(vkDestroyBuffer)                          \
    X(vkGetBufferMemoryRequirements)            \
    X(vkBindBufferMemory)                       \
    X(vkCreateImage)                            \
    X(vkDestroyImage)                           \
    X(vkGetImageMemoryRequirements)             \
    X(vkBindImageMemory)                        \
    X(vkCreateImageView)                        \
    X(vkDestroyImageView)                       \
    X(vkAllocateMemory)                         \
    X(vkFreeMemory)                             \
    X(vkMapMemory)                              \
    X(vkUnmapMemory)                            \
    X(vkInvalidateMappedMemoryRanges)           \
    X(vkFlushMappedMemoryRanges)                \
    X(vkCreateSampler)                          \
    X(vkDestroySampler)                         \
    X(vkCreateShaderModule)                     \
    X(vkDestroyShaderModule)                    \
    X(vkCreateRenderPass)                       \
    X(vkDestroyRenderPass)                      \
    X(vkCreateFramebuffer)                      \
    X(vkDestroyFramebuffer)                     \
    X(vkCreateDescriptorSetLayout)              \
    X(vkDestroyDescriptorSetLayout)             \
    X(vkCreatePipelineLayout)                   \
    X(vkDestroyPipelineLayout)                  \
    X(vkCreateGraphicsPipelines)                \
    X(vkDestroyPipeline)                        \
    X(vkCreateDescriptorPool)                   \
    X(vkDestroyDescriptorPool)                  \
    X(vkAllocateDescriptorSets)                 \
    X(vkFreeDescriptorSets)                     \
    X(vkUpdateDescriptorSets)                   \
    X(vkCreateCommandPool)                      \
    X(vkDestroyCommandPool)                     \
    X(vkResetCommandPool)                       \
    X(vkAllocateCommandBuffers)                 \
    X(vkBeginCommandBuffer)                     \
    X(vkEndCommandBuffer)                       \
    X(vkCreateFence)                            \
    X(vkDestroyFence)                           \
    X(vkWaitForFences)                          \
    X(vkResetFences)                            \
    X(vkGetFenceStatus)                         \
    X(vkCmdBeginRenderPass)                     \
    X(vkCmdEndRenderPass)                       \
    X(vkCmdBindPipeline)                        \
    X(vkCmdBindDescriptorSets)                  \
    X(vkCmdBindVertexBuffers)                   \
    X(vkCmdBindIndexBuffer)                     \
    X(vkCmdSetViewport)                         \
    X(vkCmdSetScissor)                          \
    X(vkCmdPushConstants)                       \
    X(vkCmdDraw)                                \
    X(vkCmdDrawIndexed)                         \
    X(vkCmdCopyBuffer)                          \
    X(vkCmdCopyImageToBuffer)                   \
    X(vkCmdPipelineBarrier)                     \
    X(vkCmdCopyBufferToImage)                   \
    X(vkCmdCopyImage)                           \
    X(vkCmdBlitImage)                           \
    X(vkCreateSemaphore)                        \
    X(vkDestroySemaphore)

/* Window targets (swapchain.c): present only when VK_KHR_swapchain was
 * enabled on the device; may stay NULL. */
#define TW_VK_DEVICE_OPTIONAL_FUNCS(X)          \
    X(vkCreateSwapchainKHR)                     \
    X(vkDestroySwapchainKHR)                    \
    X(vkGetSwapchainImagesKHR)                  \
    X(vkAcquireNextImageKHR)                    \
    X(vkQueuePresentKHR)

#define TW_VK_DECLARE(name) PFN_##name name;

typedef struct tw_vk_global { TW_VK_GLOBAL_FUNCS(TW_VK_DECLARE) } tw_vk_global;
typedef struct tw_vk_instance {
    TW_VK_INSTANCE_FUNCS(TW_VK_DECLARE)
    TW_VK_INSTANCE_OPTIONAL_FUNCS(TW_VK_DECLARE)
} tw_vk_instance;
typedef struct tw_vk_device {
    TW_VK_DEVICE_FUNCS(TW_VK_DECLARE)
    TW_VK_DEVICE_OPTIONAL_FUNCS(TW_VK_DECLARE)
} tw_vk_device;

typedef struct tw_vk {
    void *library;                               /* dlopen handle */
    PFN_vkGetInstanceProcAddr get_instance_proc; /* the loader's entry point */
    PFN_vkEnumerateInstanceVersion enumerate_instance_version; /* NULL on a 1.0 loader */
    tw_vk_global g;
    tw_vk_instance i;
    tw_vk_device d;
} tw_vk;

/* Opens the loader and the global functions. TW_ERR_UNSUPPORTED when there is
 * no libvulkan.so.1 (or it lacks an entry point). */
tw_status tw_vk_open(tw_vk *vk);
/* Instance functions for inst; TW_ERR_UNSUPPORTED if a required one is missing. */
tw_status tw_vk_load_instance(tw_vk *vk, VkInstance inst);
/* Device functions straight from the driver. */
tw_status tw_vk_load_device(tw_vk *vk, VkDevice dev);
void tw_vk_close(tw_vk *vk);

#endif
