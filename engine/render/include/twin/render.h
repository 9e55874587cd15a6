/* twin/render.h: the Vulkan renderer, headless or in a window.
 *
 * The renderer never sees the ECS. The app owns a flat draw list (camera,
 * lights, an array of instances) and hands it over once per frame; nothing in
 * it is retained after tw_render_frame returns. Long-lived GPU resources are
 * typed handles (index + generation, zero is invalid): a mesh or a target
 * used after it was destroyed is detected and reported, never dereferenced.
 *
 * Lifetimes: a tw_render owns every mesh and target created from it; freeing
 * the renderer frees them all. GPU objects released while frames are in
 * flight are destroyed once those frames have finished (deferred deletion).
 * One thread calls into a renderer at a time; two renderers may live side by
 * side in one process.
 *
 * Coordinates: world space in metres, z up (the engine's convention), right
 * handed. Pixel coordinates start at the top-left corner of a target.
 * Colours are sRGB bytes, as a colour picker shows them.
 *
 * Vulkan types stay inside engine/render: this header has handles and plain
 * structs only. Environment: TWIN_VALIDATION=1 turns the Khronos validation
 * layer on, TWIN_GPU=<index|name substring> picks the device. */
#ifndef TWIN_RENDER_H
#define TWIN_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "twin/alloc.h"
#include "twin/log.h"
#include "twin/status.h"

/* ---- constants ---------------------------------------------------------- */

/* Per-instance state flags (tw_render_instance.flags). */
enum {
    TW_RENDER_INST_SELECTED = 1u << 0, /* outlined in the selection colour */
    TW_RENDER_INST_ALARM = 1u << 1,    /* red, pulsing with tw_render_drawlist.time */
    TW_RENDER_INST_STALE = 1u << 2,    /* desaturated and hatched: its data is old */
    TW_RENDER_INST_FADED = 1u << 3,    /* translucent grey (x-ray), not pickable */
    TW_RENDER_INST_VALUE = 1u << 4,    /* .value is valid: coloured by data when a colormap is on */
    TW_RENDER_INST_HIDDEN = 1u << 5,   /* not drawn at all */
    TW_RENDER_INST_NO_OUTLINE = 1u << 6 /* never outlined, not even when selected (the tint still shows) */
};

/* Draw-list switches (tw_render_drawlist.flags). */
/* Element outlines by default follow the element's size on screen (level of
 * detail): an element smaller than tw_render_drawlist.edge_min_pixels, whose
 * outline would cover most of it, is drawn without (selected ones always
 * keep theirs). The switches below override that. */
enum {
    TW_RENDER_DRAW_NO_EDGES = 1u << 0,    /* no element outlines at all */
    TW_RENDER_DRAW_EDGES_ALWAYS = 1u << 1 /* outlines on every element, whatever its size */
};

typedef enum tw_render_colormap {
    TW_RENDER_COLORMAP_NONE = 0, /* colour by data off */
    TW_RENDER_COLORMAP_VIRIDIS,
    TW_RENDER_COLORMAP_TURBO
} tw_render_colormap;

enum { TW_RENDER_FRAMES_IN_FLIGHT = 2 };

/* ---- handles ------------------------------------------------------------ */

typedef struct tw_render tw_render;
typedef struct { uint32_t id; } tw_render_mesh;   /* 0: invalid */
typedef struct { uint32_t id; } tw_render_target; /* 0: invalid */

/* ---- setup -------------------------------------------------------------- */

typedef struct tw_render_desc {
    const tw_allocator *alloc;   /* NULL: the C library (copied, not retained) */
    const tw_log *log;           /* NULL: default log (copied, not retained) */
    int validation;              /* 0: from TWIN_VALIDATION; > 0 on; < 0 off */
    const char *gpu;             /* NULL: from TWIN_GPU; "<index>" or a name substring */
    uint32_t max_instances;      /* initial per-frame instance capacity (grows); 0: 16384 */
    /* For window targets: the instance extensions the platform needs
     * (SDL_Vulkan_GetInstanceExtensions). With VK_KHR_surface among them the
     * device also gets VK_KHR_swapchain. Copied. */
    const char *const *instance_extensions;
    uint32_t instance_extension_count;
} tw_render_desc;

/* What was chosen, for logs and reports. */
typedef struct tw_render_info {
    char device_name[256];
    const char *device_type;     /* "discrete", "integrated", "virtual", "cpu", "other" */
    uint32_t device_index;       /* index in the loader's enumeration */
    uint32_t api_version;        /* VK_MAKE_API_VERSION packing */
    int validation;              /* the validation layer is on */
} tw_render_info;

/* Running totals since tw_render_new. Tests assert on these. */
typedef struct tw_render_counters {
    uint64_t frames;              /* tw_render_frame calls that drew */
    uint64_t heap_allocations;    /* allocations through the renderer's allocator */
    uint64_t gpu_allocations;     /* device-memory allocations (vkAllocateMemory) */
    uint32_t validation_messages; /* warnings and errors from the validation layer */
    uint32_t validation_errors;   /* of which errors */
    uint32_t invalid_handles;     /* uses of a stale or zero mesh/target handle */
    uint64_t frames_presented;    /* frames that reached a window */
    uint64_t frames_skipped;      /* frames not drawn: a minimised window */
    uint32_t swapchain_rebuilds;  /* swapchains (re)made: resize, out of date, suboptimal */
} tw_render_counters;

/* Creates a renderer: loads libvulkan at run time, picks a device, builds the
 * pipelines. TW_ERR_UNSUPPORTED means no Vulkan loader, driver or device
 * exists at all (tests skip on it); TW_ERR_NOT_FOUND that devices exist but
 * none can serve (or none matches TWIN_GPU); any other error is a real
 * failure. The caller frees *out with tw_render_free. */
tw_status tw_render_new(const tw_render_desc *desc, tw_render **out);
/* Waits for the GPU and releases everything. r may be NULL. */
void tw_render_free(tw_render *r);

void tw_render_get_info(const tw_render *r, tw_render_info *out);
void tw_render_get_counters(const tw_render *r, tw_render_counters *out);
/* Blocks until every submitted frame has finished. */
void tw_render_wait_idle(tw_render *r);

/* ---- meshes ------------------------------------------------------------- */

typedef struct tw_render_vertex {
    float position[3]; /* m, model space */
    float normal[3];   /* unit length */
} tw_render_vertex;

typedef struct tw_render_mesh_desc {
    const tw_render_vertex *vertices;
    uint32_t vertex_count;
    const uint32_t *indices;     /* triangles, counter-clockwise seen from outside */
    uint32_t index_count;        /* a multiple of 3 */
    /* Element edges, per vertex: three edge coordinates (255 = 1; the
     * fourth byte is unused), interpolated across the face; a pixel is on an
     * outline edge where one of them, or one minus it, is near 0. A quad's
     * corners carry (u, v, 1/2); a triangle carries its barycentric
     * coordinates, with 1/2 for a side that is no edge. tw_render_geom
     * builds them. NULL: derived from the triangles (open borders and
     * creases sharper than 30 degrees), giving every triangle its own three
     * vertices. */
    const uint8_t (*edges)[4];
    const char *label;           /* for logs; copied */
} tw_render_mesh_desc;

/* Uploads into the renderer's shared vertex and index buffers. The data is
 * copied; the arrays may be freed on return. */
tw_status tw_render_mesh_create(tw_render *r, const tw_render_mesh_desc *desc, tw_render_mesh *out);
/* Returns TW_ERR_STATE for a stale or zero handle (and counts it). The
 * storage is reused once frames in flight no longer read it. */
tw_status tw_render_mesh_destroy(tw_render *r, tw_render_mesh mesh);
int tw_render_mesh_valid(const tw_render *r, tw_render_mesh mesh);
/* Model-space bounds (min xyz, max xyz); TW_ERR_STATE for a stale handle. */
tw_status tw_render_mesh_bounds(const tw_render *r, tw_render_mesh mesh, float min[3], float max[3]);

/* ---- targets ------------------------------------------------------------ */

/* An offscreen target: colour, depth, an entity-id buffer (picking) and a
 * host-visible copy of the last frame (readback). */
typedef struct tw_render_target_desc {
    uint32_t width, height;      /* pixels; 0: 1280 x 720 */
    const char *label;           /* for logs; copied */
} tw_render_target_desc;

tw_status tw_render_target_create(tw_render *r, const tw_render_target_desc *desc, tw_render_target *out);
tw_status tw_render_target_destroy(tw_render *r, tw_render_target target);
int tw_render_target_valid(const tw_render *r, tw_render_target target);
/* New size; the contents are lost until the next frame. */
tw_status tw_render_target_resize(tw_render *r, tw_render_target target, uint32_t width, uint32_t height);
tw_status tw_render_target_size(const tw_render *r, tw_render_target target, uint32_t *width, uint32_t *height);

/* ---- window targets --------------------------------------------------------
 *
 * A window target draws like an offscreen one (colour, id and depth images
 * of the window's size, readback, picking) and then copies the frame into a
 * swapchain image and presents it. The platform makes the VkSurfaceKHR (the
 * renderer never sees SDL): the renderer must have been created with the
 * instance extensions the platform needs (tw_render_desc), and hands its
 * VkInstance out as an integer. Handles cross as uint64_t so that neither
 * side's header needs the other's types.
 *
 * Resize, minimise (a 0x0 size: frames are skipped, tw_render_frame returns
 * TW_OK with stats.presented 0), and out-of-date or suboptimal swapchains
 * are handled inside: the swapchain and the target's images are remade
 * before the next frame, old images through deferred deletion. */

/* Makes a VkSurfaceKHR for the VkInstance vk_instance; both are Vulkan
 * handles cast to integers. */
typedef tw_status (*tw_render_surface_fn)(void *user, uint64_t vk_instance, uint64_t *vk_surface);

typedef struct tw_render_window_desc {
    uint64_t surface;            /* a VkSurfaceKHR made from tw_render_vk_instance; 0: call create_surface */
    tw_render_surface_fn create_surface;
    void *user;                  /* for create_surface */
    uint32_t width, height;      /* the window's drawable size in pixels; 0x0: minimised */
    int vsync;                   /* nonzero: wait for the display (FIFO); 0: MAILBOX or IMMEDIATE when offered */
    const char *label;           /* for logs; copied */
} tw_render_window_desc;

/* The renderer's VkInstance as an integer (for SDL_Vulkan_CreateSurface). */
uint64_t tw_render_vk_instance(const tw_render *r);
/* A target that presents into a window. The renderer owns the surface from
 * here on (tw_render_target_destroy destroys it, even when this fails).
 * TW_ERR_UNSUPPORTED when the renderer was made without the platform's
 * instance extensions or the device cannot present to the surface. */
tw_status tw_render_window_create(tw_render *r, const tw_render_window_desc *desc, tw_render_target *out);
/* The window's new drawable size; 0x0 (minimised) skips frames until it is
 * restored. The swapchain is remade before the next frame. Also reached
 * through tw_render_target_resize (which refuses a zero size). */
tw_status tw_render_window_resize(tw_render *r, tw_render_target target, uint32_t width, uint32_t height);
int tw_render_target_is_window(const tw_render *r, tw_render_target target);

/* Copies the last frame drawn into the target as RGBA8 (sRGB), rows top-down,
 * tightly packed: size must be at least width * height * 4. Waits for that
 * frame. TW_ERR_STATE if nothing was drawn yet. */
tw_status tw_render_target_read(tw_render *r, tw_render_target target, uint8_t *rgba, size_t size);
/* Saves the last frame as a PNG file. */
tw_status tw_render_target_save_png(tw_render *r, tw_render_target target, const char *path);
/* The pick id under pixel (x, y) of the last frame: 0 for the background,
 * for faded instances and outside the target. Waits for that frame. */
tw_status tw_render_pick(tw_render *r, tw_render_target target, uint32_t x, uint32_t y, uint32_t *id);

/* ---- the draw list (filled by the app each frame) ------------------------ */

typedef struct tw_render_camera {
    float eye[3];                /* m */
    float target[3];             /* m, the point looked at */
    float up[3];                 /* zero: +z */
    float fov_y;                 /* degrees, vertical; 0: 45 */
    float near_plane, far_plane; /* m; 0: 0.1 and 2000 */
    float ortho_height;          /* m; > 0 gives an orthographic view this tall */
} tw_render_camera;

/* Hemispheric ambient (sky above, ground below) plus one directional sun.
 * All zero: the default daylight. Colours are linear RGB multipliers. */
typedef struct tw_render_lights {
    float sky[3];
    float ground[3];
    float sun_direction[3];      /* the direction the light travels (points down) */
    float sun_color[3];
} tw_render_lights;

/* Colour by data: instances flagged TW_RENDER_INST_VALUE take the colormap's
 * colour for .value over [min, max]; the others keep theirs. */
typedef struct tw_render_colorby {
    tw_render_colormap colormap; /* NONE: off */
    float min, max;              /* fixed range; min == max: automatic, from this frame's values */
    int legend;                  /* nonzero: draw the colour bar */
    float legend_rect[4];        /* x, y, width, height in pixels; all zero: along the right edge */
} tw_render_colorby;

/* A section plane: fragments where dot(normal, p) > offset are cut away,
 * and the cut reveals a dark section fill. For "clip above height h":
 * normal (0,0,1), offset h. */
typedef struct tw_render_section {
    int enabled;
    float normal[3];
    float offset;                /* m */
} tw_render_section;

/* An RGBA image composited over the finished frame (HUD text, panels),
 * drawn on the CPU by the app. Premultiplied alpha, sRGB bytes, rows
 * top-down. Only the rectangles listed are uploaded and drawn, so a HUD
 * that covers a corner costs that corner. It is drawn last, over the
 * legend; it writes no pick id (what lies under it stays pickable) and is
 * part of what tw_render_target_read and _save_png return. */
enum { TW_RENDER_OVERLAY_MAX_RECTS = 8 };
typedef struct tw_render_overlay {
    const uint8_t *rgba;         /* width * height pixels, stride bytes a row */
    uint32_t width, height;
    size_t stride;               /* 0: width * 4 */
    int32_t x, y;                /* where the overlay's top-left corner goes in the target */
    uint32_t rect_count;         /* 0: the whole image */
    uint32_t rects[TW_RENDER_OVERLAY_MAX_RECTS][4]; /* x, y, width, height in overlay pixels */
} tw_render_overlay;

typedef struct tw_render_instance {
    tw_render_mesh mesh;
    float transform[12];         /* model → world, the affine matrix's three rows (row-major):
                                  * world = M · (x, y, z, 1); rows k = transform[4k .. 4k+3],
                                  * the translation in transform[3], [7], [11] */
    uint8_t color[4];            /* sRGB; alpha is ignored (faded elements have a fixed opacity) */
    uint32_t flags;              /* TW_RENDER_INST_* */
    uint32_t pick_id;            /* written to the id buffer; 0: not pickable */
    float value;                 /* the data value when TW_RENDER_INST_VALUE is set */
} tw_render_instance;

/* One frame's input. Consecutive instances of the same mesh become one
 * instanced draw, so a list grouped by mesh (a loop over one kind of
 * entity) draws fastest; any order gives the same picture.
 *
 * Retained drawing (optional): the renderer keeps every instance's GPU
 * record between frames. A draw list with a list_id (from
 * tw_render_list_id) and instance_versions promises that an instance whose
 * version is the same as when the renderer last drew that list is
 * byte-identical to what it was then; only instances whose version moved
 * are uploaded again (a counter bumped on every change is the usual
 * version). Without them, every instance is uploaded every frame. A list
 * whose order or length changes takes a new list_id. */
typedef struct tw_render_drawlist {
    tw_render_camera camera;
    tw_render_lights lights;
    const tw_render_instance *instances;
    uint32_t instance_count;
    uint64_t list_id;                  /* 0: no retained drawing */
    const uint32_t *instance_versions; /* instance_count of them, or NULL */
    tw_render_colorby colorby;
    tw_render_section section;
    double time;                 /* s, drives the alarm pulse (sim or wall time) */
    uint8_t background[4];       /* sRGB; all zero: a light grey */
    uint32_t flags;              /* TW_RENDER_DRAW_* */
    const tw_render_overlay *overlay; /* NULL: none; the pixels are copied during tw_render_frame */
    float edge_min_pixels;       /* outline level of detail: the projected size (bounding-box
                                  * diagonal, pixels) below which an element has no outline; 0: 12 */
} tw_render_drawlist;

typedef struct tw_render_frame_stats {
    uint32_t instances_drawn;
    uint32_t instances_skipped;  /* stale/zero mesh handles (each also counted in invalid_handles) */
    uint32_t draw_calls;
    uint32_t instances_outlined; /* drawn with element outlines (level of detail, selection) */
    uint32_t records_uploaded;   /* instance records written this frame (retained drawing: those that changed) */
    float value_min, value_max;  /* the colormap range used (for legend labels) */
    float legend_rect[4];        /* where the bar was drawn, pixels */
    double cpu_ms;               /* CPU time in tw_render_frame, excluding the wait for a free frame slot */
    int presented;               /* a window target's frame was presented (0: offscreen, or skipped) */
} tw_render_frame_stats;

/* A fresh, non-zero identity for a retained draw list (see tw_render_drawlist). */
uint64_t tw_render_list_id(tw_render *r);

/* Draws one frame into the target. Returns once the work is submitted; the
 * readback, pick and save calls wait for it. stats may be NULL. Instances
 * with a stale mesh are skipped and counted, never dereferenced. */
tw_status tw_render_frame(tw_render *r, tw_render_target target, const tw_render_drawlist *dl,
                          tw_render_frame_stats *stats);

/* ---- helpers (no GPU) ----------------------------------------------------- */

/* The 3x4 row-major instance transform (tw_render_instance.transform):
 * translation, a rotation about +z (radians) and a scale. */
void tw_render_transform_trs(float out[12], const float position[3], float yaw, const float scale[3]);
/* View and projection matrices (column-major, Vulkan clip space: y down,
 * depth 0..1) for a camera and an aspect ratio (width / height). */
void tw_render_camera_matrices(const tw_render_camera *cam, float aspect, float view[16], float proj[16]);
/* Sets eye and target so the box [min, max] fills the view, seen from the
 * given azimuth (degrees from +x towards +y) and elevation (degrees above
 * the horizon). Keeps cam's fov and up. */
void tw_render_camera_fit(tw_render_camera *cam, const float min[3], const float max[3], float aspect,
                          float azimuth_deg, float elevation_deg);
/* The colormap's sRGB colour at t in [0, 1] (clamped), as the shaders draw it. */
void tw_render_colormap_sample(tw_render_colormap map, float t, uint8_t rgb[3]);

/* ---- PNG ----------------------------------------------------------------- */

typedef struct tw_render_image {
    uint32_t width, height;
    uint8_t *rgba;               /* width * height * 4 bytes, rows top-down */
} tw_render_image;

/* Writes RGBA8 pixels (rows top-down, stride bytes apart; 0: width * 4). */
tw_status tw_render_png_save(const char *path, uint32_t width, uint32_t height, const uint8_t *rgba,
                             size_t stride);
/* Reads any PNG as RGBA8. Free img->rgba with tw_render_image_free. */
tw_status tw_render_png_load(const char *path, const tw_allocator *alloc, tw_render_image *img);
void tw_render_image_free(const tw_allocator *alloc, tw_render_image *img);

/* ---- benchmark hook (twin bench render) --------------------------------- */

typedef struct tw_render_bench_desc {
    uint32_t instances;          /* unit cubes on a grid; 0: 10000 */
    uint32_t width, height;      /* 0: 1280 x 720 */
    uint32_t frames;             /* timed frames per side; 0: 20 */
    uint32_t warmup;             /* untimed frames first (shader compilation); 0: 3 */
} tw_render_bench_desc;

typedef struct tw_render_bench_result {
    double engine_ms;            /* median ms/frame: tw_render_frame + tw_render_target_read (edges by
                                  * level of detail, the default) */
    double baseline_ms;          /* median ms/frame: clear + one instanced draw + readback */
    double ratio;                /* engine_ms / baseline_ms */
    double no_edges_ms;          /* the engine with TW_RENDER_DRAW_NO_EDGES */
    double no_edges_ratio;       /* no_edges_ms / baseline_ms */
    double edges_ms;             /* the engine with TW_RENDER_DRAW_EDGES_ALWAYS */
    double edges_ratio;          /* edges_ms / baseline_ms */
    uint32_t outlined;           /* instances outlined by the level of detail (of .instances) */
    double cpu_ms;               /* median CPU time of tw_render_frame (upload and recording) */
    uint64_t triangles;          /* per frame */
    uint64_t steady_allocations; /* heap + GPU allocations during the timed engine frames */
} tw_render_bench_result;

/* Renders the same N cubes by the engine (edges by level of detail, forced
 * on, off) and by the bare baseline, frames interleaved, in one run. */
tw_status tw_render_bench_run(tw_render *r, const tw_render_bench_desc *desc, tw_render_bench_result *out);

/* The bare baseline for any draw list: every drawn instance's triangles in
 * world space, in one vertex buffer, drawn once with the trivial shader into
 * a target of its own (clear, the draw, readback). Made from the draw list as
 * it is now (meshes, transforms, camera); nothing of it is retained. */
typedef struct tw_render_bench_bare tw_render_bench_bare;
tw_status tw_render_bench_bare_new(tw_render *r, const tw_render_drawlist *dl, uint32_t width, uint32_t height,
                                   tw_render_bench_bare **out);
/* One bare frame: submits, waits, copies the pixels to memory. */
tw_status tw_render_bench_bare_frame(tw_render *r, tw_render_bench_bare *b);
uint64_t tw_render_bench_bare_triangles(const tw_render_bench_bare *b);
void tw_render_bench_bare_free(tw_render *r, tw_render_bench_bare *b);

#endif
