/* The render benchmark hook (`twin bench render`): N unit cubes on a grid at
 * 1280x720, drawn by the engine (draw list, the frame, readback) with its
 * default outline level of detail, with outlines forced off and forced on,
 * and by a bare baseline in the same run (clear, one instanced draw of the
 * same triangles with a trivial shader, readback). Frames rotate through the
 * four so that machine noise hits all alike; medians are reported. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "twin/clock.h"
#include "twin/render_geom.h"
#include "render_internal.h"

typedef struct baseline {
    VkRenderPass rp;
    gpu_image color, depth;
    VkFramebuffer fb;
    VkPipelineLayout layout;
    VkPipeline pipe;
    gpu_buffer offsets, readback;
    gpu_buffer baked;        /* the bare path for a draw list: world-space triangles */
    uint32_t baked_vertices;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
} baseline;

static void baseline_destroy(tw_render *r, baseline *b)
{
    VkDevice d = r->device;
    r->vk.d.vkDeviceWaitIdle(d);
    if (b->fence) r->vk.d.vkDestroyFence(d, b->fence, NULL);
    if (b->pool) r->vk.d.vkDestroyCommandPool(d, b->pool, NULL);
    if (b->pipe) r->vk.d.vkDestroyPipeline(d, b->pipe, NULL);
    if (b->layout) r->vk.d.vkDestroyPipelineLayout(d, b->layout, NULL);
    if (b->fb) r->vk.d.vkDestroyFramebuffer(d, b->fb, NULL);
    if (b->rp) r->vk.d.vkDestroyRenderPass(d, b->rp, NULL);
    twr_image_destroy(r, &b->color);
    twr_image_destroy(r, &b->depth);
    twr_buffer_destroy(r, &b->offsets);
    twr_buffer_destroy(r, &b->readback);
    twr_buffer_destroy(r, &b->baked);
    memset(b, 0, sizeof *b);
}

static tw_status baseline_pipeline(tw_render *r, baseline *b)
{
    VkShaderModule vs = VK_NULL_HANDLE, fs = VK_NULL_HANDLE;
    tw_status st = twr_shader_module(r, twr_spv_bench_vert, twr_spv_bench_vert_size, &vs);
    if (st == TW_OK) st = twr_shader_module(r, twr_spv_bench_frag, twr_spv_bench_frag_size, &fs);
    if (st == TW_OK) {
        VkPushConstantRange pcr = { VK_SHADER_STAGE_VERTEX_BIT, 0, 64 };
        VkPipelineLayoutCreateInfo lci = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
            .pushConstantRangeCount = 1,
            .pPushConstantRanges = &pcr,
        };
        st = twr_vk_status(r, r->vk.d.vkCreatePipelineLayout(r->device, &lci, NULL, &b->layout), "vkCreatePipelineLayout");
    }
    if (st == TW_OK) {
        VkVertexInputBindingDescription bind[2] = {
            { 0, sizeof(gpu_vertex), VK_VERTEX_INPUT_RATE_VERTEX },
            { 1, 16, VK_VERTEX_INPUT_RATE_INSTANCE },
        };
        VkVertexInputAttributeDescription attr[3] = {
            { 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(gpu_vertex, position) },
            { 1, 0, VK_FORMAT_R8G8B8A8_SNORM, offsetof(gpu_vertex, normal) },
            { 2, 1, VK_FORMAT_R32G32B32A32_SFLOAT, 0 },
        };
        VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xF };
        twr_pipeline_desc desc = {
            .vs = vs,
            .fs = fs,
            .bindings = bind,
            .binding_count = 2,
            .attrs = attr,
            .attr_count = 3,
            .cull = VK_CULL_MODE_BACK_BIT,
            .depth_test = VK_TRUE,
            .depth_write = VK_TRUE,
            .blend = &cba,
            .blend_count = 1,
            .layout = b->layout,
            .render_pass = b->rp,
        };
        st = twr_graphics_pipeline(r, &desc, &b->pipe);
    }
    if (vs) r->vk.d.vkDestroyShaderModule(r->device, vs, NULL);
    if (fs) r->vk.d.vkDestroyShaderModule(r->device, fs, NULL);
    return st;
}

/* cube: `count` instances of it at `offsets`; NULL: the baked triangles in
 * b->baked, once, at offsets[0]. */
static tw_status baseline_create(tw_render *r, baseline *b, uint32_t w, uint32_t h, const mesh *cube,
                                 const float *offsets, uint32_t count, const float view_proj[16])
{
    VkAttachmentDescription att[2] = {
        { 0, VK_FORMAT_R8G8B8A8_SRGB, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR, VK_ATTACHMENT_STORE_OP_STORE,
          VK_ATTACHMENT_LOAD_OP_DONT_CARE, VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED,
          VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL },
        { 0, r->depth_format, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR, VK_ATTACHMENT_STORE_OP_DONT_CARE,
          VK_ATTACHMENT_LOAD_OP_DONT_CARE, VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED,
          VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL },
    };
    VkAttachmentReference cref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
    VkAttachmentReference dref = { 1, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL };
    VkSubpassDescription sub = {
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
        .colorAttachmentCount = 1,
        .pColorAttachments = &cref,
        .pDepthStencilAttachment = &dref,
    };
    VkSubpassDependency deps[2] = {
        { VK_SUBPASS_EXTERNAL, 0, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT,
          VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT,
          VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT, 0 },
        { 0, VK_SUBPASS_EXTERNAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, 0 },
    };
    VkRenderPassCreateInfo rci = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
        .attachmentCount = 2,
        .pAttachments = att,
        .subpassCount = 1,
        .pSubpasses = &sub,
        .dependencyCount = 2,
        .pDependencies = deps,
    };
    tw_status st = twr_vk_status(r, r->vk.d.vkCreateRenderPass(r->device, &rci, NULL, &b->rp), "vkCreateRenderPass");
    if (st == TW_OK)
        st = twr_image_create(r, w, h, VK_FORMAT_R8G8B8A8_SRGB,
                              VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                              VK_IMAGE_ASPECT_COLOR_BIT, &b->color);
    if (st == TW_OK)
        st = twr_image_create(r, w, h, r->depth_format, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT,
                              VK_IMAGE_ASPECT_DEPTH_BIT, &b->depth);
    if (st == TW_OK) {
        VkImageView views[2] = { b->color.view, b->depth.view };
        VkFramebufferCreateInfo fci = {
            .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
            .renderPass = b->rp,
            .attachmentCount = 2,
            .pAttachments = views,
            .width = w,
            .height = h,
            .layers = 1,
        };
        st = twr_vk_status(r, r->vk.d.vkCreateFramebuffer(r->device, &fci, NULL, &b->fb), "vkCreateFramebuffer");
    }
    if (st == TW_OK) st = baseline_pipeline(r, b);
    if (st == TW_OK)
        st = twr_buffer_create(r, (VkDeviceSize)count * 16, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, MEM_UPLOAD, &b->offsets);
    if (st == TW_OK)
        st = twr_buffer_create(r, (VkDeviceSize)w * h * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, MEM_READBACK, &b->readback);
    if (st != TW_OK) return st;
    memcpy(b->offsets.map, offsets, (size_t)count * 16);

    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .queueFamilyIndex = r->queue_family,
    };
    st = twr_vk_status(r, r->vk.d.vkCreateCommandPool(r->device, &pci, NULL, &b->pool), "vkCreateCommandPool");
    if (st != TW_OK) return st;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = b->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    st = twr_vk_status(r, r->vk.d.vkAllocateCommandBuffers(r->device, &ai, &b->cmd), "vkAllocateCommandBuffers");
    if (st != TW_OK) return st;
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    st = twr_vk_status(r, r->vk.d.vkCreateFence(r->device, &fci, NULL, &b->fence), "vkCreateFence");
    if (st != TW_OK) return st;

    /* Recorded once and resubmitted: the least work a frame can be. */
    VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
    r->vk.d.vkBeginCommandBuffer(b->cmd, &bi);
    VkClearValue clears[2];
    memset(clears, 0, sizeof clears);
    clears[0].color.float32[0] = clears[0].color.float32[1] = clears[0].color.float32[2] = 0.8f;
    clears[0].color.float32[3] = 1.0f;
    clears[1].depthStencil.depth = 1.0f;
    VkRenderPassBeginInfo rpb = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
        .renderPass = b->rp,
        .framebuffer = b->fb,
        .renderArea = { { 0, 0 }, { w, h } },
        .clearValueCount = 2,
        .pClearValues = clears,
    };
    r->vk.d.vkCmdBeginRenderPass(b->cmd, &rpb, VK_SUBPASS_CONTENTS_INLINE);
    VkViewport vp = { 0, 0, (float)w, (float)h, 0, 1 };
    VkRect2D sc = { { 0, 0 }, { w, h } };
    r->vk.d.vkCmdSetViewport(b->cmd, 0, 1, &vp);
    r->vk.d.vkCmdSetScissor(b->cmd, 0, 1, &sc);
    r->vk.d.vkCmdBindPipeline(b->cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, b->pipe);
    r->vk.d.vkCmdPushConstants(b->cmd, b->layout, VK_SHADER_STAGE_VERTEX_BIT, 0, 64, view_proj);
    VkBuffer vbs[2] = { cube ? r->vbuf.buf : b->baked.buf, b->offsets.buf };
    VkDeviceSize offs[2] = { 0, 0 };
    r->vk.d.vkCmdBindVertexBuffers(b->cmd, 0, 2, vbs, offs);
    if (cube) {
        r->vk.d.vkCmdBindIndexBuffer(b->cmd, r->ibuf.buf, 0, VK_INDEX_TYPE_UINT32);
        r->vk.d.vkCmdDrawIndexed(b->cmd, cube->index_count, count, cube->first_index, (int32_t)cube->first_vertex, 0);
    } else {
        r->vk.d.vkCmdDraw(b->cmd, b->baked_vertices, 1, 0, 0);
    }
    r->vk.d.vkCmdEndRenderPass(b->cmd);
    VkBufferImageCopy region = {
        .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
        .imageExtent = { w, h, 1 },
    };
    r->vk.d.vkCmdCopyImageToBuffer(b->cmd, b->color.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, b->readback.buf, 1,
                                   &region);
    VkBufferMemoryBarrier bb = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .buffer = b->readback.buf,
        .size = VK_WHOLE_SIZE,
    };
    r->vk.d.vkCmdPipelineBarrier(b->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, NULL, 1,
                                 &bb, 0, NULL);
    return twr_vk_status(r, r->vk.d.vkEndCommandBuffer(b->cmd), "vkEndCommandBuffer");
}

static tw_status baseline_frame(tw_render *r, baseline *b, uint8_t *pixels, size_t size)
{
    VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &b->cmd };
    tw_status st = twr_vk_status(r, r->vk.d.vkQueueSubmit(r->queue, 1, &si, b->fence), "vkQueueSubmit");
    if (st != TW_OK) return st;
    st = twr_vk_status(r, r->vk.d.vkWaitForFences(r->device, 1, &b->fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    r->vk.d.vkResetFences(r->device, 1, &b->fence);
    memcpy(pixels, b->readback.map, size);
    return st;
}

static void view_proj_of(const tw_render_camera *cam, float aspect, float vp[16])
{
    float view[16], proj[16];
    tw_render_camera_matrices(cam, aspect, view, proj);
    for (int c = 0; c < 4; c++)
        for (int rr = 0; rr < 4; rr++) {
            float acc = 0.0f;
            for (int k = 0; k < 4; k++) acc += proj[k * 4 + rr] * view[c * 4 + k];
            vp[c * 4 + rr] = acc;
        }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, uint32_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

tw_status tw_render_bench_run(tw_render *r, const tw_render_bench_desc *desc, tw_render_bench_result *out)
{
    TW_CHECK(r && out, "tw_render_bench_run needs a renderer and a result struct.");
    tw_render_bench_desc d = desc ? *desc : (tw_render_bench_desc){ 0 };
    uint32_t n = d.instances ? d.instances : 10000;
    uint32_t w = d.width ? d.width : 1280, h = d.height ? d.height : 720;
    uint32_t frames = d.frames ? d.frames : 20, warmup = d.warmup ? d.warmup : 3;
    memset(out, 0, sizeof *out);

    tw_render_geom g;
    tw_render_geom_init(&g, &r->alloc);
    tw_status st = tw_render_geom_box(&g, (float[3]){ -0.5f, -0.5f, -0.5f }, (float[3]){ 0.5f, 0.5f, 0.5f });
    tw_render_mesh cube = { 0 };
    if (st == TW_OK)
        st = tw_render_mesh_create(r, &(tw_render_mesh_desc){ .vertices = g.vertices, .vertex_count = g.vertex_count,
                                                              .indices = g.indices, .index_count = g.index_count,
                                                              .edges = (const uint8_t(*)[4])g.edges, .label = "bench cube" },
                                   &cube);
    tw_render_geom_fini(&g);
    if (st != TW_OK) return st;

    tw_render_target tgt = { 0 };
    size_t px_size = (size_t)w * h * 4;
    tw_render_instance *inst = tw_calloc(&r->alloc, n, sizeof *inst);
    float *offsets = tw_calloc(&r->alloc, n, 4 * sizeof(float));
    uint32_t *versions = tw_calloc(&r->alloc, n, sizeof *versions);
    uint8_t *pixels = tw_alloc(&r->alloc, px_size);
    double *te = tw_calloc(&r->alloc, frames, sizeof(double));
    double *tb = tw_calloc(&r->alloc, frames, sizeof(double));
    double *tc = tw_calloc(&r->alloc, frames, sizeof(double));
    double *tn = tw_calloc(&r->alloc, frames, sizeof(double));
    double *ta = tw_calloc(&r->alloc, frames, sizeof(double));
    baseline b;
    memset(&b, 0, sizeof b);
    if (!inst || !offsets || !versions || !pixels || !te || !tb || !tc || !tn || !ta) {
        st = TW_ERR_NOMEM;
        goto done;
    }
    st = tw_render_target_create(r, &(tw_render_target_desc){ .width = w, .height = h, .label = "bench" }, &tgt);
    if (st != TW_OK) goto done;

    /* A square grid, 1.5 m apart, on the ground. */
    uint32_t side = (uint32_t)ceil(sqrt((double)n));
    for (uint32_t k = 0; k < n; k++) {
        float p[3] = { 1.5f * (float)(k % side), 1.5f * (float)(k / side), 0.5f };
        tw_render_transform_trs(inst[k].transform, p, 0.0f, NULL);
        inst[k].mesh = cube;
        inst[k].color[0] = 200;
        inst[k].color[1] = 196;
        inst[k].color[2] = 188;
        inst[k].color[3] = 255;
        inst[k].pick_id = k + 1;
        memcpy(&offsets[4 * k], p, 3 * sizeof(float));
    }
    /* The cubes never change: a retained list whose versions stay 0. */
    tw_render_drawlist dl = { .instances = inst, .instance_count = n, .list_id = tw_render_list_id(r),
                              .instance_versions = versions };
    float span = 1.5f * (float)(side - 1) + 0.5f;
    tw_render_camera_fit(&dl.camera, (float[3]){ -0.5f, -0.5f, 0.0f }, (float[3]){ span, span, 1.0f },
                         (float)w / (float)h, -60.0f, 35.0f);
    float vp[16];
    view_proj_of(&dl.camera, (float)w / (float)h, vp);
    st = baseline_create(r, &b, w, h, twr_mesh_get(r, cube), offsets, n, vp);
    if (st != TW_OK) goto done;

    for (uint32_t k = 0; k < warmup && st == TW_OK; k++) {
        st = tw_render_frame(r, tgt, &dl, NULL);
        if (st == TW_OK) st = tw_render_target_read(r, tgt, pixels, px_size);
        if (st == TW_OK) st = baseline_frame(r, &b, pixels, px_size);
    }
    uint64_t allocs0 = r->counters.heap_allocations + r->counters.gpu_allocations;
    uint64_t steady = 0;
    tw_render_drawlist bare = dl, always = dl;
    bare.flags |= TW_RENDER_DRAW_NO_EDGES;
    always.flags |= TW_RENDER_DRAW_EDGES_ALWAYS;
    uint32_t outlined = 0;
    for (uint32_t k = 0; k < frames && st == TW_OK; k++) {
        tw_render_frame_stats fs;
        double t0 = tw_clock_monotonic_s();
        st = tw_render_frame(r, tgt, &dl, &fs);
        if (st == TW_OK) st = tw_render_target_read(r, tgt, pixels, px_size);
        double t1 = tw_clock_monotonic_s();
        steady = r->counters.heap_allocations + r->counters.gpu_allocations - allocs0;
        if (st == TW_OK) st = baseline_frame(r, &b, pixels, px_size);
        double t2 = tw_clock_monotonic_s();
        if (st == TW_OK) st = tw_render_frame(r, tgt, &bare, NULL);
        if (st == TW_OK) st = tw_render_target_read(r, tgt, pixels, px_size);
        double t3 = tw_clock_monotonic_s();
        if (st == TW_OK) st = tw_render_frame(r, tgt, &always, NULL);
        if (st == TW_OK) st = tw_render_target_read(r, tgt, pixels, px_size);
        double t4 = tw_clock_monotonic_s();
        te[k] = (t1 - t0) * 1e3;
        tb[k] = (t2 - t1) * 1e3;
        tn[k] = (t3 - t2) * 1e3;
        ta[k] = (t4 - t3) * 1e3;
        tc[k] = fs.cpu_ms;
        outlined = fs.instances_outlined;
    }
    if (st == TW_OK) {
        out->engine_ms = median(te, frames);
        out->baseline_ms = median(tb, frames);
        out->ratio = out->baseline_ms > 0.0 ? out->engine_ms / out->baseline_ms : 0.0;
        out->no_edges_ms = median(tn, frames);
        out->no_edges_ratio = out->baseline_ms > 0.0 ? out->no_edges_ms / out->baseline_ms : 0.0;
        out->edges_ms = median(ta, frames);
        out->edges_ratio = out->baseline_ms > 0.0 ? out->edges_ms / out->baseline_ms : 0.0;
        out->outlined = outlined;
        out->cpu_ms = median(tc, frames);
        out->triangles = (uint64_t)n * (twr_mesh_get(r, cube)->index_count / 3);
        out->steady_allocations = steady;
    }
done:
    baseline_destroy(r, &b);
    if (tgt.id) tw_render_target_destroy(r, tgt);
    tw_render_mesh_destroy(r, cube);
    tw_free(&r->alloc, inst, (size_t)n * sizeof *inst);
    tw_free(&r->alloc, offsets, (size_t)n * 4 * sizeof(float));
    tw_free(&r->alloc, versions, (size_t)n * sizeof *versions);
    tw_free(&r->alloc, pixels, px_size);
    tw_free(&r->alloc, te, (size_t)frames * sizeof(double));
    tw_free(&r->alloc, ta, (size_t)frames * sizeof(double));
    tw_free(&r->alloc, tb, (size_t)frames * sizeof(double));
    tw_free(&r->alloc, tc, (size_t)frames * sizeof(double));
    tw_free(&r->alloc, tn, (size_t)frames * sizeof(double));
    return st;
}

/* ---- the bare path for any draw list ---------------------------------------
 *
 * The baseline the issue defines is "one instanced draw of the same
 * triangles". For a scene of many meshes that is every drawn instance's
 * triangles, moved to world space on the CPU, in one vertex buffer, drawn
 * once by the trivial shader: what is left is the least a renderer must do
 * to put those pixels on the screen. Triangles keep the draw list's order,
 * so the depth test rejects the same hidden pixels as in the engine. */

struct tw_render_bench_bare {
    baseline b;
    uint8_t *pixels;
    size_t px_size;
    uint64_t triangles;
};

static int8_t snorm8_of(float v)
{
    v = v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
    return (int8_t)lrintf(v * 127.0f);
}

/* Copies the shared mesh buffers into host-visible ones. */
static tw_status read_shared(tw_render *r, gpu_buffer *vb, gpu_buffer *ib)
{
    r->vk.d.vkDeviceWaitIdle(r->device);
    tw_status st = twr_buffer_create(r, r->vbuf.size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, MEM_READBACK, vb);
    if (st == TW_OK) st = twr_buffer_create(r, r->ibuf.size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, MEM_READBACK, ib);
    if (st != TW_OK) return st;
    VkCommandBuffer cmd = twr_once_begin(r);
    VkBufferCopy vr = { 0, 0, r->vbuf.size }, ir = { 0, 0, r->ibuf.size };
    r->vk.d.vkCmdCopyBuffer(cmd, r->vbuf.buf, vb->buf, 1, &vr);
    r->vk.d.vkCmdCopyBuffer(cmd, r->ibuf.buf, ib->buf, 1, &ir);
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL,
                                 0, NULL);
    return twr_once_submit(r);
}

tw_status tw_render_bench_bare_new(tw_render *r, const tw_render_drawlist *dl, uint32_t width, uint32_t height,
                                   tw_render_bench_bare **out)
{
    TW_CHECK(r && dl && out, "tw_render_bench_bare_new needs a renderer, a draw list and an out pointer.");
    *out = NULL;
    uint32_t w = width ? width : 1280, h = height ? height : 720;
    uint64_t verts = 0;
    for (uint32_t k = 0; k < dl->instance_count; k++) {
        const mesh *m = (dl->instances[k].flags & TW_RENDER_INST_HIDDEN) ? NULL : twr_mesh_get(r, dl->instances[k].mesh);
        if (m) verts += m->index_count;
    }
    if (verts > UINT32_MAX / sizeof(gpu_vertex)) return TW_ERR_LIMIT;
    tw_render_bench_bare *bb = tw_calloc(&r->alloc, 1, sizeof *bb);
    if (!bb) return TW_ERR_NOMEM;
    bb->px_size = (size_t)w * h * 4;
    bb->pixels = tw_alloc(&r->alloc, bb->px_size);
    gpu_buffer vrb, irb;
    memset(&vrb, 0, sizeof vrb);
    memset(&irb, 0, sizeof irb);
    tw_status st = bb->pixels ? read_shared(r, &vrb, &irb) : TW_ERR_NOMEM;
    if (st == TW_OK)
        st = twr_buffer_create(r, (VkDeviceSize)(verts ? verts : 1) * sizeof(gpu_vertex),
                               VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, MEM_UPLOAD, &bb->b.baked);
    if (st == TW_OK) {
        const gpu_vertex *src = vrb.map;
        const uint32_t *idx = irb.map;
        gpu_vertex *dst = bb->b.baked.map;
        for (uint32_t k = 0; k < dl->instance_count; k++) {
            const tw_render_instance *in = &dl->instances[k];
            const mesh *m = (in->flags & TW_RENDER_INST_HIDDEN) ? NULL : twr_mesh_get(r, in->mesh);
            if (!m) continue;
            /* The rows as a column-major 4x4, for the loops below. */
            const float *rm = in->transform;
            float t[16] = { rm[0], rm[4], rm[8], 0.0f, rm[1], rm[5], rm[9], 0.0f,
                            rm[2], rm[6], rm[10], 0.0f, rm[3], rm[7], rm[11], 1.0f };
            /* Normals through the cofactor matrix, as scene.vert does. */
            const float *c0 = t, *c1 = t + 4, *c2 = t + 8;
            float cof[3][3] = {
                { c1[1] * c2[2] - c1[2] * c2[1], c1[2] * c2[0] - c1[0] * c2[2], c1[0] * c2[1] - c1[1] * c2[0] },
                { c2[1] * c0[2] - c2[2] * c0[1], c2[2] * c0[0] - c2[0] * c0[2], c2[0] * c0[1] - c2[1] * c0[0] },
                { c0[1] * c1[2] - c0[2] * c1[1], c0[2] * c1[0] - c0[0] * c1[2], c0[0] * c1[1] - c0[1] * c1[0] },
            };
            for (uint32_t i = 0; i < m->index_count; i++) {
                const gpu_vertex *v = &src[m->first_vertex + idx[m->first_index + i]];
                const float *p = v->position;
                float n[3] = { v->normal[0] / 127.0f, v->normal[1] / 127.0f, v->normal[2] / 127.0f }, wn[3];
                for (int c = 0; c < 3; c++) {
                    dst->position[c] = t[c] * p[0] + t[4 + c] * p[1] + t[8 + c] * p[2] + t[12 + c];
                    wn[c] = cof[0][c] * n[0] + cof[1][c] * n[1] + cof[2][c] * n[2];
                }
                float len = sqrtf(wn[0] * wn[0] + wn[1] * wn[1] + wn[2] * wn[2]);
                for (int c = 0; c < 3; c++) dst->normal[c] = snorm8_of(len > 0.0f ? wn[c] / len : 0.0f);
                dst->normal[3] = 0;
                memcpy(dst->edge, v->edge, sizeof dst->edge);
                dst++;
            }
        }
        bb->b.baked_vertices = (uint32_t)verts;
        bb->triangles = verts / 3;
    }
    twr_buffer_destroy(r, &vrb);
    twr_buffer_destroy(r, &irb);
    if (st == TW_OK) {
        float vp[16], zero[4] = { 0 };
        view_proj_of(&dl->camera, (float)w / (float)h, vp);
        st = baseline_create(r, &bb->b, w, h, NULL, zero, 1, vp);
    }
    if (st != TW_OK) {
        tw_render_bench_bare_free(r, bb);
        return st;
    }
    *out = bb;
    return TW_OK;
}

tw_status tw_render_bench_bare_frame(tw_render *r, tw_render_bench_bare *b)
{
    TW_CHECK(r && b, "tw_render_bench_bare_frame needs a renderer and a bare path.");
    return baseline_frame(r, &b->b, b->pixels, b->px_size);
}

uint64_t tw_render_bench_bare_triangles(const tw_render_bench_bare *b) { return b ? b->triangles : 0; }

void tw_render_bench_bare_free(tw_render *r, tw_render_bench_bare *b)
{
    if (!b) return;
    baseline_destroy(r, &b->b);
    tw_free(&r->alloc, b->pixels, b->px_size);
    tw_free(&r->alloc, b, sizeof *b);
}
