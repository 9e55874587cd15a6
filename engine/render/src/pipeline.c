/* The render pass, the descriptor layout and the pipelines.
 *
 * One pass draws a frame into colour (RGBA8 sRGB, the output), id (R32_UINT,
 * the app's pick ids) and depth: opaque instances, then the section fill
 * (when a section plane is on), then faded instances blended on top (they
 * write no id: x-rayed storeys are not pickable), then the legend. Element
 * edges and the selection are drawn by the scene shaders themselves: a
 * full-screen post pass costs lavapipe more than the whole scene.
 * Pipelines use a dynamic viewport, so one set serves targets of any size.
 * The SPIR-V is compiled from shaders/ by the build and embedded here. */
#include <string.h>

#include "render_internal.h"

static const uint32_t spv_scene_vert[] =
#include "scene.vert.inc"
    ;
static const uint32_t spv_scene_clip_vert[] =
#include "scene_clip.vert.inc"
    ;
static const uint32_t spv_scene_caps_vert[] =
#include "scene_caps.vert.inc"
    ;
static const uint32_t spv_scene_frag[] =
#include "scene.frag.inc"
    ;
static const uint32_t spv_scene_caps_frag[] =
#include "scene_caps.frag.inc"
    ;
static const uint32_t spv_scene_plain_vert[] =
#include "scene_plain.vert.inc"
    ;
static const uint32_t spv_scene_plain_frag[] =
#include "scene_plain.frag.inc"
    ;
static const uint32_t spv_scene_stale_frag[] =
#include "scene_stale.frag.inc"
    ;
static const uint32_t spv_scene_plain_stale_frag[] =
#include "scene_plain_stale.frag.inc"
    ;
static const uint32_t spv_scene_faded_vert[] =
#include "scene_faded.vert.inc"
    ;
static const uint32_t spv_scene_plain_faded_vert[] =
#include "scene_plain_faded.vert.inc"
    ;
static const uint32_t spv_scene_clip_faded_vert[] =
#include "scene_clip_faded.vert.inc"
    ;
static const uint32_t spv_scene_clip_plain_vert[] =
#include "scene_clip_plain.vert.inc"
    ;
static const uint32_t spv_scene_clip_plain_faded_vert[] =
#include "scene_clip_plain_faded.vert.inc"
    ;
static const uint32_t spv_scene_faded_frag[] =
#include "scene_faded.frag.inc"
    ;
static const uint32_t spv_scene_plain_faded_frag[] =
#include "scene_plain_faded.frag.inc"
    ;
static const uint32_t spv_legend_vert[] =
#include "legend.vert.inc"
    ;
static const uint32_t spv_legend_frag[] =
#include "legend.frag.inc"
    ;
const uint32_t twr_spv_bench_vert[] =
#include "bench.vert.inc"
    ;
const uint32_t twr_spv_bench_frag[] =
#include "bench.frag.inc"
    ;
const size_t twr_spv_bench_vert_size = sizeof twr_spv_bench_vert;
const size_t twr_spv_bench_frag_size = sizeof twr_spv_bench_frag;

_Static_assert(sizeof(gpu_frame) == TWL_FRAME_VEC4_COUNT * 16, "gpu_frame must match the std140 block");
_Static_assert(sizeof(gpu_instance) == 64 && offsetof(gpu_instance, pick_id) == 56 && offsetof(gpu_instance, flags) == 60,
               "gpu_instance is 64 bytes; its last 16 (colour, pick id, flags) are one uint4 attribute");
_Static_assert(sizeof(gpu_vertex) == 20, "gpu_vertex is 20 bytes");
_Static_assert(TWL_FLAG_SELECTED == TW_RENDER_INST_SELECTED && TWL_FLAG_ALARM == TW_RENDER_INST_ALARM &&
                   TWL_FLAG_STALE == TW_RENDER_INST_STALE && TWL_FLAG_FADED == TW_RENDER_INST_FADED &&
                   TWL_FLAG_VALUE == TW_RENDER_INST_VALUE && TWL_FLAG_NO_OUTLINE == TW_RENDER_INST_NO_OUTLINE,
               "shader flag bits must equal the public TW_RENDER_INST_* bits");

tw_status twr_shader_module(tw_render *r, const uint32_t *code, size_t size, VkShaderModule *out)
{
    VkShaderModuleCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = size,
        .pCode = code,
    };
    return twr_vk_status(r, r->vk.d.vkCreateShaderModule(r->device, &ci, NULL, out), "vkCreateShaderModule");
}

static tw_status create_render_pass(tw_render *r)
{
    VkAttachmentDescription att[3] = {
        { 0, VK_FORMAT_R8G8B8A8_SRGB, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR,
          VK_ATTACHMENT_STORE_OP_STORE, VK_ATTACHMENT_LOAD_OP_DONT_CARE, VK_ATTACHMENT_STORE_OP_DONT_CARE,
          VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL },
        { 0, VK_FORMAT_R32_UINT, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR,
          VK_ATTACHMENT_STORE_OP_STORE, VK_ATTACHMENT_LOAD_OP_DONT_CARE, VK_ATTACHMENT_STORE_OP_DONT_CARE,
          VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL },
        { 0, r->depth_format, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR,
          VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_ATTACHMENT_LOAD_OP_DONT_CARE, VK_ATTACHMENT_STORE_OP_DONT_CARE,
          VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL },
    };
    VkAttachmentReference color_refs[2] = {
        { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL },
        { 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL },
    };
    VkAttachmentReference depth_ref = { 2, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL };
    VkSubpassDescription sub = {
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
        .colorAttachmentCount = 2,
        .pColorAttachments = color_refs,
        .pDepthStencilAttachment = &depth_ref,
    };
    /* In: the previous frame's readback and pick copies, and its writes to
     * the same images, must be done. Out: this frame's readback copies the
     * colour, picking copies the id. */
    VkSubpassDependency deps[2] = {
        { VK_SUBPASS_EXTERNAL, 0,
          VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT |
              VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT,
          VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT |
              VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT,
          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
          VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT |
              VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_READ_BIT | VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
          0 },
        { 0, VK_SUBPASS_EXTERNAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, 0 },
    };
    VkRenderPassCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
        .attachmentCount = 3,
        .pAttachments = att,
        .subpassCount = 1,
        .pSubpasses = &sub,
        .dependencyCount = 2,
        .pDependencies = deps,
    };
    return twr_vk_status(r, r->vk.d.vkCreateRenderPass(r->device, &ci, NULL, &r->rp_scene), "vkCreateRenderPass");
}

static tw_status create_layouts(tw_render *r)
{
    VkDescriptorSetLayoutBinding frame_b = {
        TWL_BINDING_FRAME, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1,
        VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, NULL
    };
    VkDescriptorSetLayoutCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 1,
        .pBindings = &frame_b,
    };
    tw_status st = twr_vk_status(r, r->vk.d.vkCreateDescriptorSetLayout(r->device, &ci, NULL, &r->dsl_frame),
                                 "vkCreateDescriptorSetLayout");
    if (st != TW_OK) return st;
    VkPipelineLayoutCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &r->dsl_frame,
    };
    st = twr_vk_status(r, r->vk.d.vkCreatePipelineLayout(r->device, &pci, NULL, &r->pl_scene),
                       "vkCreatePipelineLayout");
    if (st != TW_OK) return st;
    VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, TW_RENDER_FRAMES_IN_FLIGHT };
    VkDescriptorPoolCreateInfo dpi = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = TW_RENDER_FRAMES_IN_FLIGHT,
        .poolSizeCount = 1,
        .pPoolSizes = &ps,
    };
    return twr_vk_status(r, r->vk.d.vkCreateDescriptorPool(r->device, &dpi, NULL, &r->desc_pool),
                         "vkCreateDescriptorPool");
}

tw_status twr_graphics_pipeline(tw_render *r, const twr_pipeline_desc *desc, VkPipeline *out)
{
    VkPipelineShaderStageCreateInfo stages[2] = {
        { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0, VK_SHADER_STAGE_VERTEX_BIT, desc->vs, "main",
          NULL },
        { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0, VK_SHADER_STAGE_FRAGMENT_BIT, desc->fs, "main",
          NULL },
    };
    VkPipelineVertexInputStateCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
        .vertexBindingDescriptionCount = desc->binding_count,
        .pVertexBindingDescriptions = desc->bindings,
        .vertexAttributeDescriptionCount = desc->attr_count,
        .pVertexAttributeDescriptions = desc->attrs,
    };
    VkPipelineInputAssemblyStateCreateInfo ia = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
        .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
    };
    VkPipelineViewportStateCreateInfo vp = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
        .viewportCount = 1,
        .scissorCount = 1,
    };
    VkPipelineRasterizationStateCreateInfo rs = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
        .polygonMode = VK_POLYGON_MODE_FILL,
        .cullMode = desc->cull,
        .frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
        .lineWidth = 1.0f,
    };
    VkPipelineMultisampleStateCreateInfo ms = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
        .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT,
    };
    VkPipelineDepthStencilStateCreateInfo ds = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO,
        .depthTestEnable = desc->depth_test,
        .depthWriteEnable = desc->depth_write,
        .depthCompareOp = VK_COMPARE_OP_LESS_OR_EQUAL,
    };
    VkPipelineColorBlendStateCreateInfo cb = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
        .attachmentCount = desc->blend_count,
        .pAttachments = desc->blend,
    };
    VkDynamicState dyn[2] = { VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR };
    VkPipelineDynamicStateCreateInfo dy = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
        .dynamicStateCount = 2,
        .pDynamicStates = dyn,
    };
    VkGraphicsPipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
        .stageCount = 2,
        .pStages = stages,
        .pVertexInputState = &vi,
        .pInputAssemblyState = &ia,
        .pViewportState = &vp,
        .pRasterizationState = &rs,
        .pMultisampleState = &ms,
        .pDepthStencilState = &ds,
        .pColorBlendState = &cb,
        .pDynamicState = &dy,
        .layout = desc->layout,
        .renderPass = desc->render_pass,
        .subpass = 0,
    };
    return twr_vk_status(r, r->vk.d.vkCreateGraphicsPipelines(r->device, VK_NULL_HANDLE, 1, &ci, NULL, out),
                         "vkCreateGraphicsPipelines");
}

typedef enum variant { V_OPAQUE, V_CLIP, V_CAPS, V_FADED, V_FADED_CLIP, V_LEGEND } variant;

/* no_edges: the shaders read no edge coordinates (the last attribute). */
static tw_status create_pipeline(tw_render *r, VkShaderModule vs, VkShaderModule fs, variant v, int no_edges,
                                 VkPipeline *out)
{
    static const VkVertexInputBindingDescription bindings[2] = {
        { 0, sizeof(gpu_vertex), VK_VERTEX_INPUT_RATE_VERTEX },
        { 1, sizeof(gpu_instance), VK_VERTEX_INPUT_RATE_INSTANCE },
    };
    /* The section fill reads neither normals nor edges: they come last so
     * that its pipeline can leave them out. */
    static const VkVertexInputAttributeDescription attrs[7] = {
        { TWL_LOC_POSITION, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(gpu_vertex, position) },
        { TWL_LOC_MODEL0, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(gpu_instance, model) },
        { TWL_LOC_MODEL1, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(gpu_instance, model) + 16 },
        { TWL_LOC_MODEL2, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(gpu_instance, model) + 32 },
        { TWL_LOC_INST, 1, VK_FORMAT_R32G32B32A32_UINT, offsetof(gpu_instance, color) },
        { TWL_LOC_NORMAL, 0, VK_FORMAT_R8G8B8A8_SNORM, offsetof(gpu_vertex, normal) },
        { TWL_LOC_EDGE, 0, VK_FORMAT_R8G8B8A8_UNORM, offsetof(gpu_vertex, edge) },
    };
    int faded = v == V_FADED || v == V_FADED_CLIP;
    const VkColorComponentFlags rgba = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                                       VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT;
    VkPipelineColorBlendAttachmentState blend[2] = {
        { VK_FALSE, 0, 0, 0, 0, 0, 0, rgba },
        { VK_FALSE, 0, 0, 0, 0, 0, 0, VK_COLOR_COMPONENT_R_BIT },
    };
    if (faded) {
        /* Faded (x-ray) elements blend over what is behind them and leave
         * the id buffer alone, so what shows through stays pickable. */
        blend[0] = (VkPipelineColorBlendAttachmentState){
            VK_TRUE, VK_BLEND_FACTOR_SRC_ALPHA, VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA, VK_BLEND_OP_ADD,
            VK_BLEND_FACTOR_ONE, VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA, VK_BLEND_OP_ADD, rgba
        };
    }
    if (faded || v == V_LEGEND) blend[1].colorWriteMask = 0;
    twr_pipeline_desc desc = {
        .vs = vs,
        .fs = fs,
        .bindings = bindings,
        .binding_count = v == V_LEGEND ? 0u : 2u,
        .attrs = attrs,
        .attr_count = v == V_LEGEND ? 0u : v == V_CAPS ? 5u : no_edges ? 6u : 7u,
        /* The section fill draws exactly the back faces: where the cut
         * opened an element, its inside shows. */
        .cull = v == V_CAPS ? VK_CULL_MODE_FRONT_BIT : v == V_LEGEND ? VK_CULL_MODE_NONE : VK_CULL_MODE_BACK_BIT,
        .depth_test = v == V_LEGEND ? VK_FALSE : VK_TRUE,
        .depth_write = (faded || v == V_LEGEND) ? VK_FALSE : VK_TRUE,
        .blend = blend,
        .blend_count = 2,
        .layout = r->pl_scene,
        .render_pass = r->rp_scene,
    };
    return twr_graphics_pipeline(r, &desc, out);
}

enum {
    M_VS, M_VS_CLIP, M_VS_CAPS, M_VS_PLAIN, M_FS, M_FS_CAPS, M_FS_PLAIN, M_FS_STALE, M_FS_PLAIN_STALE,
    M_VS_FADED, M_VS_PLAIN_FADED, M_VS_CLIP_FADED, M_FS_FADED, M_FS_PLAIN_FADED, M_LEGEND_VS, M_LEGEND_FS,
    M_VS_CLIP_PLAIN, M_VS_CLIP_PLAIN_FADED, M_COUNT
};

tw_status twr_pipelines_create(tw_render *r)
{
    tw_status st = create_render_pass(r);
    if (st == TW_OK) st = create_layouts(r);
    if (st != TW_OK) return st;

    static const struct { const uint32_t *code; size_t size; } src[M_COUNT] = {
        [M_VS] = { spv_scene_vert, sizeof spv_scene_vert },
        [M_VS_CLIP] = { spv_scene_clip_vert, sizeof spv_scene_clip_vert },
        [M_VS_CAPS] = { spv_scene_caps_vert, sizeof spv_scene_caps_vert },
        [M_VS_PLAIN] = { spv_scene_plain_vert, sizeof spv_scene_plain_vert },
        [M_FS] = { spv_scene_frag, sizeof spv_scene_frag },
        [M_FS_CAPS] = { spv_scene_caps_frag, sizeof spv_scene_caps_frag },
        [M_FS_PLAIN] = { spv_scene_plain_frag, sizeof spv_scene_plain_frag },
        [M_FS_STALE] = { spv_scene_stale_frag, sizeof spv_scene_stale_frag },
        [M_FS_PLAIN_STALE] = { spv_scene_plain_stale_frag, sizeof spv_scene_plain_stale_frag },
        [M_VS_FADED] = { spv_scene_faded_vert, sizeof spv_scene_faded_vert },
        [M_VS_PLAIN_FADED] = { spv_scene_plain_faded_vert, sizeof spv_scene_plain_faded_vert },
        [M_VS_CLIP_FADED] = { spv_scene_clip_faded_vert, sizeof spv_scene_clip_faded_vert },
        [M_FS_FADED] = { spv_scene_faded_frag, sizeof spv_scene_faded_frag },
        [M_FS_PLAIN_FADED] = { spv_scene_plain_faded_frag, sizeof spv_scene_plain_faded_frag },
        [M_LEGEND_VS] = { spv_legend_vert, sizeof spv_legend_vert },
        [M_LEGEND_FS] = { spv_legend_frag, sizeof spv_legend_frag },
        [M_VS_CLIP_PLAIN] = { spv_scene_clip_plain_vert, sizeof spv_scene_clip_plain_vert },
        [M_VS_CLIP_PLAIN_FADED] = { spv_scene_clip_plain_faded_vert, sizeof spv_scene_clip_plain_faded_vert },
    };
    VkShaderModule mods[M_COUNT] = { 0 };
    for (int k = 0; k < M_COUNT && st == TW_OK; k++) st = twr_shader_module(r, src[k].code, src[k].size, &mods[k]);
    if (st == TW_OK) st = create_pipeline(r, mods[M_VS], mods[M_FS], V_OPAQUE, 0, &r->pipe_opaque);
    if (st == TW_OK) st = create_pipeline(r, mods[M_VS_PLAIN], mods[M_FS_PLAIN], V_OPAQUE, 1, &r->pipe_opaque_plain);
    if (st == TW_OK) st = create_pipeline(r, mods[M_VS_CLIP], mods[M_FS], V_CLIP, 0, &r->pipe_clip);
    if (st == TW_OK) st = create_pipeline(r, mods[M_VS_CAPS], mods[M_FS_CAPS], V_CAPS, 1, &r->pipe_caps);
    /* Stale instances (hatched) have pipelines of their own, so that the
     * others pay nothing for the hatching; faded ones may be stale too, and
     * only their shaders read the flags. */
    if (st == TW_OK) st = create_pipeline(r, mods[M_VS], mods[M_FS_STALE], V_OPAQUE, 0, &r->pipe_stale);
    if (st == TW_OK)
        st = create_pipeline(r, mods[M_VS_PLAIN], mods[M_FS_PLAIN_STALE], V_OPAQUE, 1, &r->pipe_stale_plain);
    if (st == TW_OK) st = create_pipeline(r, mods[M_VS_CLIP], mods[M_FS_STALE], V_CLIP, 0, &r->pipe_stale_clip);
    if (st == TW_OK) st = create_pipeline(r, mods[M_VS_FADED], mods[M_FS_FADED], V_FADED, 0, &r->pipe_faded);
    if (st == TW_OK)
        st = create_pipeline(r, mods[M_VS_PLAIN_FADED], mods[M_FS_PLAIN_FADED], V_FADED, 1, &r->pipe_faded_plain);
    if (st == TW_OK)
        st = create_pipeline(r, mods[M_VS_CLIP_FADED], mods[M_FS_FADED], V_FADED_CLIP, 0, &r->pipe_faded_clip);
    /* The section view's variants for elements too small for an outline. */
    if (st == TW_OK)
        st = create_pipeline(r, mods[M_VS_CLIP_PLAIN], mods[M_FS_PLAIN], V_CLIP, 1, &r->pipe_clip_plain);
    if (st == TW_OK)
        st = create_pipeline(r, mods[M_VS_CLIP_PLAIN], mods[M_FS_PLAIN_STALE], V_CLIP, 1, &r->pipe_stale_clip_plain);
    if (st == TW_OK)
        st = create_pipeline(r, mods[M_VS_CLIP_PLAIN_FADED], mods[M_FS_PLAIN_FADED], V_FADED_CLIP, 1,
                             &r->pipe_faded_clip_plain);
    if (st == TW_OK) st = create_pipeline(r, mods[M_LEGEND_VS], mods[M_LEGEND_FS], V_LEGEND, 1, &r->pipe_legend);
    /* Pipelines keep what they need; the modules can go. */
    for (int k = 0; k < M_COUNT; k++)
        if (mods[k]) r->vk.d.vkDestroyShaderModule(r->device, mods[k], NULL);
    return st;
}

void twr_pipelines_destroy(tw_render *r)
{
    VkDevice d = r->device;
    VkPipeline pipes[] = { r->pipe_opaque,     r->pipe_opaque_plain, r->pipe_clip,           r->pipe_caps,
                           r->pipe_faded,      r->pipe_faded_plain,  r->pipe_faded_clip,     r->pipe_legend,
                           r->pipe_stale,      r->pipe_stale_plain,  r->pipe_stale_clip,     r->pipe_clip_plain,
                           r->pipe_stale_clip_plain, r->pipe_faded_clip_plain };
    for (size_t k = 0; k < sizeof pipes / sizeof pipes[0]; k++)
        if (pipes[k]) r->vk.d.vkDestroyPipeline(d, pipes[k], NULL);
    if (r->pl_scene) r->vk.d.vkDestroyPipelineLayout(d, r->pl_scene, NULL);
    if (r->dsl_frame) r->vk.d.vkDestroyDescriptorSetLayout(d, r->dsl_frame, NULL);
    if (r->desc_pool) r->vk.d.vkDestroyDescriptorPool(d, r->desc_pool, NULL);
    if (r->rp_scene) r->vk.d.vkDestroyRenderPass(d, r->rp_scene, NULL);
}
