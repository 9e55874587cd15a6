/* render_internal.h: the renderer's state, shared by the files of engine/render/src.
 *
 * One tw_render holds the Vulkan instance, device and function tables (vk.h),
 * the pipelines, the frames in flight with their instance ring segments, the
 * shared mesh buffers, the handle pools and the deferred-deletion queue. No
 * state lives anywhere else. */
#ifndef TWIN_RENDER_INTERNAL_H
#define TWIN_RENDER_INTERNAL_H

#include <stdint.h>

#include "twin/alloc.h"
#include "twin/log.h"
#include "twin/render.h"
#include "twin_layout.h"
#include "vk.h"

#define TW_RENDER_LOG "render"

/* ---- handle pools (pool.c) ---------------------------------------------- */

/* A handle id is (generation << 20) | (slot + 1): zero is never valid, a
 * slot's generation moves on when it is freed, so an old id stops matching. */
enum { POOL_SLOT_BITS = 20, POOL_MAX_SLOTS = (1u << POOL_SLOT_BITS) - 2, POOL_GEN_MASK = 0xFFFu };

typedef struct rpool {
    size_t item_size;
    uint8_t *items;          /* item_size bytes per slot */
    uint16_t *gen;           /* current generation per slot, 1..4095 */
    uint8_t *alive;
    uint32_t *free_slots;
    uint32_t free_count;
    uint32_t used;           /* slots ever handed out (high-water mark) */
    uint32_t cap;
    uint32_t version;        /* changes whenever an id is made or freed */
} rpool;

void twr_pool_init(rpool *p, size_t item_size);
void twr_pool_fini(rpool *p, const tw_allocator *a);
/* Returns the new id (item zeroed) or 0 when out of memory or slots. */
uint32_t twr_pool_alloc(rpool *p, const tw_allocator *a);
/* The slot of a live id, or -1 for zero, stale or foreign ids. */
int64_t twr_pool_lookup(const rpool *p, uint32_t id);
void twr_pool_free(rpool *p, uint32_t id);
static inline void *twr_pool_item(const rpool *p, uint32_t slot) { return p->items + (size_t)slot * p->item_size; }

/* ---- free-range lists for the shared mesh buffers (mesh.c) ---------------- */

typedef struct range { uint32_t start, count; } range;
typedef struct range_list {
    range *items;            /* free ranges, sorted by start, never adjacent */
    uint32_t count, cap;
} range_list;

/* ---- GPU memory ----------------------------------------------------------- */

typedef struct gpu_buffer {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map;               /* host-visible buffers stay mapped */
    VkDeviceSize size;
} gpu_buffer;

typedef struct gpu_image {
    VkImage img;
    VkDeviceMemory mem;
    VkImageView view;
} gpu_image;

enum { MEM_DEVICE = 0, MEM_UPLOAD = 1, MEM_READBACK = 2 };

/* ---- resources ------------------------------------------------------------ */

typedef struct mesh {
    uint32_t first_vertex, vertex_count;
    uint32_t first_index, index_count;
    float bounds[6];
    char label[48];
} mesh;

typedef struct target {
    uint32_t width, height;
    gpu_image color, id, depth;
    VkFramebuffer fb;
    gpu_buffer readback;     /* the last frame, RGBA8, rows top-down */
    int64_t last_frame;      /* index of the last frame drawn into it; -1: none */
    char label[48];
    struct twr_window *window; /* a window target's swapchain (swapchain.c); NULL: offscreen */
} target;

typedef struct frame_slot {
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    int in_flight;           /* submitted and not yet waited for */
    gpu_buffer instances;    /* device: this frame's instances in drawing order, gathered from the records */
    gpu_buffer staging;      /* host: this frame's rewritten records on their way (instances.c) */
    uint32_t instance_cap;   /* of both, in instances */
    /* What `instances` holds: gathered by these regions from the records at
     * generation gathered_gen (a frame drawing the same skips the copy). */
    VkBufferCopy *gathered;
    uint32_t gathered_count, gathered_cap;
    uint64_t gathered_gen;
    gpu_buffer uniforms;
    VkDescriptorSet set;
    /* overlay.c: this frame's overlay pixels on their way to the GPU, and
     * the descriptor set naming the overlay image it samples */
    gpu_buffer overlay_staging;
    VkDescriptorSet overlay_set;
    uint32_t overlay_set_version; /* r->overlay_version the set was written for */
} frame_slot;

/* ---- deferred deletion ---------------------------------------------------- */

typedef enum deletion_kind {
    DEL_BUFFER,
    DEL_IMAGE,
    DEL_FRAMEBUFFER,
    DEL_VERTEX_RANGE,
    DEL_INDEX_RANGE
} deletion_kind;

typedef struct deletion {
    deletion_kind kind;
    uint64_t after;          /* safe once this many frames are known complete */
    union {
        gpu_buffer buffer;
        gpu_image image;
        VkFramebuffer framebuffer;
        range range;
    } u;
} deletion;

/* ---- the renderer ---------------------------------------------------------- */

/* A vertex as the GPU reads it: 20 bytes. */
typedef struct gpu_vertex {
    float position[3];
    int8_t normal[4];        /* snorm8 */
    uint8_t edge[4];         /* unorm8 edge coordinates (xyz), see geom.c */
} gpu_vertex;

/* An instance as the GPU reads it: 64 bytes, written by tw_render_frame. */
typedef struct gpu_instance {
    float model[12];         /* rows 0..2 of the affine model matrix */
    uint16_t color[4];       /* half floats: linear rgb albedo with state applied; w unused */
    uint32_t pick_id;
    uint32_t flags;
} gpu_instance;

/* A faded (x-ray) instance waiting to be sorted by its distance from the eye. */
typedef struct twr_fade_key {
    float depth;             /* along the view direction, m */
    uint32_t index;          /* in the draw list */
    uint32_t mesh_slot;
} twr_fade_key;

/* A run of instances of one mesh in this frame's instance buffer: up to
 * two instanced draws, the outlined ones (first, count) and those too small
 * on screen for an outline (plain_first, plain_count). */
typedef struct draw_run {
    uint32_t mesh_slot;
    uint32_t first, count;
    uint32_t plain_first, plain_count;
} draw_run;

/* A run of one mesh in the opaque or the stale list. */
typedef struct twr_src_run {
    uint32_t mesh_slot, first, count;
} twr_src_run;

/* The instance records kept across frames, and what they were written
 * from (instances.c). */
typedef struct twr_instances {
    gpu_buffer records;      /* device: one gpu_instance per draw-list index */
    uint32_t records_cap;
    uint64_t records_gen;    /* bumped whenever a record is written */
    uint64_t next_list_id;   /* tw_render_list_id */

    /* What the records hold. valid: they were written from draw list
     * list_id of `count` instances, with meshes at mesh_version and the
     * colour state (map, vmin, vscale). */
    int valid;
    uint64_t list_id;
    uint32_t count;
    uint32_t mesh_version;
    int map;
    float vmin, vscale;

    /* Per instance (cap of each). */
    uint32_t cap;
    uint32_t *versions;      /* the draw list's version each record was written at */
    uint64_t *cls;           /* mesh id << 32 | class (instances.c) */
    float (*summary)[4];     /* world centre of the bounding box, squared size */
    uint32_t *stamp;         /* == stamp_now: already in rewrite[] this frame */
    uint32_t stamp_now;
    uint32_t *rewrite;       /* this frame's records to rewrite */
    uint32_t *opaque, *stale, *faded, *valued, *alarm; /* instance indices by list */
    uint32_t n_opaque, n_stale, n_faded, n_valued, n_alarm, n_dead;
    twr_src_run *src_runs;   /* opaque runs, then stale runs */
    uint32_t n_oruns, n_sruns;
    VkBufferCopy *copies;    /* staging → records, this frame */
    uint32_t *order;         /* this frame's record indices: outlined from the front, plain from the back */
    VkBufferCopy *gathers;   /* records → the slot's instance buffer, in drawing order */
    draw_run *runs;          /* this frame's: opaque, stale, faded */
    struct twr_fade_key *fade;
} twr_instances;

/* What twr_instances_prepare leaves for recording. */
typedef struct twr_instance_frame {
    uint32_t opaque_runs, stale_runs, faded_runs; /* in r->inst.runs, in that order */
    uint32_t copy_count;     /* regions in r->inst.copies */
    uint32_t gather_count;   /* regions in r->inst.gathers */
    uint32_t records_written;
    uint32_t drawn, skipped, outlined;
    float vmin, vmax;        /* the colour range used */
} twr_instance_frame;

typedef struct gpu_frame { TWL_FRAME_FIELDS; } gpu_frame;

struct tw_render {
    tw_allocator user_alloc;
    tw_allocator alloc;      /* counts into counters.heap_allocations, then user_alloc */
    tw_log log;
    tw_vk vk;
    tw_render_info info;
    tw_render_counters counters;

    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkFormat depth_format;

    /* pipelines (pipeline.c) */
    VkRenderPass rp_scene;
    VkDescriptorSetLayout dsl_frame;
    VkPipelineLayout pl_scene;
    VkPipeline pipe_opaque, pipe_opaque_plain, pipe_clip, pipe_caps;
    VkPipeline pipe_faded, pipe_faded_plain, pipe_faded_clip, pipe_legend;
    VkPipeline pipe_stale, pipe_stale_plain, pipe_stale_clip;
    VkPipeline pipe_clip_plain, pipe_stale_clip_plain, pipe_faded_clip_plain;
    VkDescriptorPool desc_pool;

    /* colour tables, built once (frame.c) */
    uint16_t srgb_half[256];         /* sRGB byte → linear, as a half float */
    float srgb_linear[256];          /* sRGB byte → linear */
    float cmap_linear[2][256][3];    /* viridis, turbo: t*255 → linear rgb */

    /* frames in flight */
    frame_slot slots[TW_RENDER_FRAMES_IN_FLIGHT];
    uint64_t frames_submitted;
    uint64_t frames_done;    /* every frame with a smaller index has finished */

    /* synchronous one-shot work: uploads, picks */
    VkCommandPool once_pool;
    VkCommandBuffer once_cmd;
    VkFence once_fence;
    gpu_buffer staging;
    gpu_buffer pick_buf;

    /* meshes in shared buffers */
    rpool meshes;
    gpu_buffer vbuf, ibuf;
    uint32_t vcap, icap;     /* capacities in vertices and indices */
    range_list vfree, ifree;

    rpool targets;

    /* the instance records and each frame's drawing order (instances.c) */
    twr_instances inst;

    deletion *dels;
    uint32_t del_count, del_cap;
    uint32_t initial_instances;

    /* window targets (swapchain.c) */
    int surface_ext;         /* the instance has VK_KHR_surface (the platform asked for it) */
    int swapchain_ext;       /* the device has VK_KHR_swapchain enabled */

    /* the RGBA overlay (overlay.c), made at its first use */
    VkDescriptorSetLayout dsl_overlay;
    VkPipelineLayout pl_overlay;
    VkPipeline pipe_overlay;
    VkSampler overlay_sampler;
    VkDescriptorPool overlay_pool;
    gpu_image overlay_image;
    uint32_t overlay_width, overlay_height;
    uint32_t overlay_version;        /* bumped when overlay_image is replaced */
    int overlay_ready;               /* overlay_image holds uploaded pixels (SHADER_READ_ONLY) */
};

/* render.c */
tw_status twr_buffer_create(tw_render *r, VkDeviceSize size, VkBufferUsageFlags usage, int mem,
                            gpu_buffer *out);
void twr_buffer_destroy(tw_render *r, gpu_buffer *b);
tw_status twr_image_create(tw_render *r, uint32_t w, uint32_t h, VkFormat format, VkImageUsageFlags usage,
                           VkImageAspectFlags aspect, gpu_image *out);
void twr_image_destroy(tw_render *r, gpu_image *img);
tw_status twr_vk_status(tw_render *r, VkResult res, const char *what);
/* Queue a GPU object for destruction once the frames in flight are done. */
tw_status twr_defer_delete(tw_render *r, const deletion *d);
void twr_run_deletions(tw_render *r, int all);
VkCommandBuffer twr_once_begin(tw_render *r);
tw_status twr_once_submit(tw_render *r);
tw_status twr_staging_reserve(tw_render *r, VkDeviceSize size);
/* Waits for the frame slot that last drew frame index `frame`. */
tw_status twr_wait_frame(tw_render *r, int64_t frame);

/* instances.c. Host side, before recording: the records that changed into
 * the slot's staging buffer, this frame's drawing order as copy regions
 * from the records into the slot's instance buffer, and the draws. */
tw_status twr_instances_prepare(tw_render *r, frame_slot *s, const tw_render_drawlist *dl, uint32_t height,
                                twr_instance_frame *out);
/* Outside the render pass: staging → records → the slot's instance buffer, between barriers. */
void twr_instances_record_upload(tw_render *r, frame_slot *s, VkCommandBuffer cmd, const twr_instance_frame *f);
void twr_instances_fini(tw_render *r);
extern const uint8_t twr_select_srgb[3], twr_alarm_srgb[3]; /* sRGB */
/* frame.c: float to IEEE half, for colours in [0, a few] (values below
 * half's normal range become 0). */
uint16_t twr_half_from_float(float f);

/* pipeline.c */
tw_status twr_pipelines_create(tw_render *r);
void twr_pipelines_destroy(tw_render *r);
tw_status twr_shader_module(tw_render *r, const uint32_t *code, size_t size, VkShaderModule *out);
/* What differs between the renderer's graphics pipelines (scene, overlay,
 * bench baseline). What they share is fixed by twr_graphics_pipeline: one
 * vertex and one fragment stage ("main"), triangle lists, filled polygons,
 * counter-clockwise front faces, one sample, LESS_OR_EQUAL depth when
 * tested, and a dynamic viewport and scissor so one pipeline serves targets
 * of any size. */
typedef struct twr_pipeline_desc {
    VkShaderModule vs, fs;
    const VkVertexInputBindingDescription *bindings;
    uint32_t binding_count;
    const VkVertexInputAttributeDescription *attrs;
    uint32_t attr_count;
    VkCullModeFlags cull;
    VkBool32 depth_test, depth_write;
    const VkPipelineColorBlendAttachmentState *blend; /* one per colour attachment */
    uint32_t blend_count;
    VkPipelineLayout layout;
    VkRenderPass render_pass;
} twr_pipeline_desc;
tw_status twr_graphics_pipeline(tw_render *r, const twr_pipeline_desc *desc, VkPipeline *out);
extern const uint32_t twr_spv_bench_vert[], twr_spv_bench_frag[];
extern const size_t twr_spv_bench_vert_size, twr_spv_bench_frag_size;

/* mesh.c */
tw_status twr_meshes_init(tw_render *r);
void twr_meshes_fini(tw_render *r);
void twr_range_free(tw_render *r, range_list *l, range rg);
const mesh *twr_mesh_get(const tw_render *r, tw_render_mesh m);

/* target.c */
void twr_targets_fini(tw_render *r);
target *twr_target_get(tw_render *r, tw_render_target t);

/* target.c: rebuilds a target's images at a new size (the old ones go to
 * deferred deletion); keeps its label and window. */
tw_status twr_target_rebuild(tw_render *r, target *tg, uint32_t w, uint32_t h);

/* swapchain.c: window targets */
int twr_device_has_extension(tw_render *r, VkPhysicalDevice pd, const char *name);
/* Before recording into a window target: recreates its swapchain when
 * needed and acquires an image, signalling the slot's semaphore. *skip is
 * set when there is nothing to draw into (a minimised window). */
tw_status twr_window_acquire(tw_render *r, target *tg, const frame_slot *s, int *skip);
/* Records the copy of the frame's colour into the acquired image. */
void twr_window_record(tw_render *r, target *tg, VkCommandBuffer cmd);
/* The semaphores the frame's submission waits for and signals. */
void twr_window_submit_info(target *tg, const frame_slot *s, VkSubmitInfo *si);
/* Presents the acquired image; *presented is 0 when the swapchain went out of date. */
tw_status twr_window_present(tw_render *r, target *tg, int *presented);
/* Waits for the GPU and destroys the swapchain and the surface. */
void twr_window_destroy(tw_render *r, target *tg);
tw_status twr_window_resize(tw_render *r, target *tg, uint32_t w, uint32_t h);

/* overlay.c: the draw list's RGBA overlay, composited over the frame */
typedef struct twr_overlay_frame {
    int active;
    uint32_t rect_count;
    uint32_t rects[8][4];    /* x, y, w, h in overlay pixels, clipped */
    int32_t x, y;            /* the overlay's top-left corner in the target */
    VkDeviceSize offsets[8]; /* where each rect's pixels sit in the slot's staging buffer */
} twr_overlay_frame;
/* Host side, before recording: makes the resources, copies the pixels into
 * the slot's staging buffer, points the slot's descriptor set at the image. */
tw_status twr_overlay_prepare(tw_render *r, frame_slot *s, const tw_render_drawlist *dl, const target *tg,
                              twr_overlay_frame *out);
/* Outside the render pass: staging → overlay image. */
void twr_overlay_record_upload(tw_render *r, frame_slot *s, VkCommandBuffer cmd, const twr_overlay_frame *ov);
/* Inside the render pass, last: the overlay blended over the frame. */
void twr_overlay_record_draw(tw_render *r, frame_slot *s, VkCommandBuffer cmd, const twr_overlay_frame *ov,
                             const target *tg);
void twr_overlay_fini(tw_render *r);

/* camera.c, colormap tables */
void twr_colormap_table(tw_render_colormap map, float out[TWL_COLORMAP_N][4]);
void twr_tables_init(tw_render *r);

#endif
