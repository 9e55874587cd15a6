/* The draw list's instances as the GPU reads them, kept across frames.
 *
 * Every instance of the draw list has a record (gpu_instance: the transform,
 * the colour it shows, its pick id and flags) at its own index in one
 * device buffer that lives as long as the renderer. A draw list that
 * carries per-instance versions (tw_render_drawlist.list_id and
 * .instance_versions) gets only the records whose version changed
 * rewritten, plus those whose look depends on the frame itself (pulsing
 * alarms; every coloured one when the colour range moved); the rest stay
 * where they are. Rewritten records go through the frame slot's staging
 * buffer and a copy recorded ahead of the render pass.
 *
 * What depends on the camera is only the order in which records are drawn:
 * the opaque ones grouped by mesh into runs, each run's elements big enough
 * on screen for an outline apart from the others (the level of detail);
 * then the stale ones; then the faded ones, sorted back to front. That
 * order is a list of record indices, made on the CPU from a 16-byte summary
 * per instance (world centre, squared size) kept beside the records, and
 * turned into copy regions that gather the records into the slot's
 * instance buffer on the GPU (neighbouring records merge into one region,
 * so a scene sorted by mesh needs few). The vertex shaders read that buffer
 * as instance attributes, the cheapest instance fetch on lavapipe; fetching
 * records through an index in the shader made frames 1.8 times slower
 * there. A frame in which nothing changed reads about 20 bytes and writes 4
 * per element on the CPU, where writing the records would write 64 and
 * read 68.
 *
 * Which list an instance belongs to (opaque, stale, faded, hidden, or a
 * dead mesh handle) and the runs are worked out again only when a changed
 * instance moved between lists or changed mesh, when the draw list or its
 * length is another, or when a mesh was made or destroyed. A draw list
 * without versions has everything rewritten every frame. */
#include <math.h>
#include <string.h>

#include "render_internal.h"

const uint8_t twr_select_srgb[3] = { 0, 180, 255 };
const uint8_t twr_alarm_srgb[3] = { 224, 24, 24 };

/* An instance's class: its list if its mesh is live, whether it is not,
 * and the flags that make its record depend on more than the instance. */
enum {
    K_HIDDEN = 0,
    K_OPAQUE = 2,
    K_STALE = 3,
    K_FADED = 4,
    K_LIST = 7,
    K_VALUED = 8,     /* coloured by its value: rewritten when the colour range moves */
    K_ALARM = 16,     /* pulsing: rewritten every frame */
    K_DEAD_MESH = 32, /* its mesh handle is stale or zero: skipped */
};

static inline uint32_t mesh_slot_of(uint32_t id) { return (id & ((1u << POOL_SLOT_BITS) - 1)) - 1; }

/* Whether a mesh id names a live mesh, remembered for the last id asked
 * about (a list grouped by mesh asks about the same one in a row). */
typedef struct mesh_check {
    uint32_t id;
    int live;
} mesh_check;

static inline int mesh_live(const tw_render *r, uint32_t id, mesh_check *mc)
{
    if (id != mc->id) { /* id 0 never matches a live mesh: mc starts at {0, 0} */
        uint32_t slot = mesh_slot_of(id);
        mc->id = id;
        mc->live = slot < r->meshes.used && r->meshes.alive[slot] && r->meshes.gen[slot] == (id >> POOL_SLOT_BITS);
    }
    return mc->live;
}

/* The class in the low bits, the mesh id in the high ones. */
static inline uint64_t classify(const tw_render *r, const tw_render_instance *in, mesh_check *mc)
{
    uint32_t flags = in->flags, id = in->mesh.id, k;
    if (flags & TW_RENDER_INST_HIDDEN)
        k = K_HIDDEN;
    else if (flags & TW_RENDER_INST_FADED)
        k = K_FADED;
    else if (flags & TW_RENDER_INST_STALE)
        k = K_STALE;
    else
        k = K_OPAQUE;
    if ((flags & (TW_RENDER_INST_VALUE | TW_RENDER_INST_HIDDEN)) == TW_RENDER_INST_VALUE) k |= K_VALUED;
    if (flags & TW_RENDER_INST_ALARM) k |= K_ALARM;
    if ((k & K_LIST) != K_HIDDEN && !mesh_live(r, id, mc)) k |= K_DEAD_MESH;
    return (uint64_t)id << 32 | k;
}

/* ---- colours ---------------------------------------------------------------- */

/* What turns an instance's colour into the colour it shows. */
typedef struct shade {
    int map;                 /* -1: no colormap, else 0 viridis, 1 turbo */
    float vmin, vmax, vscale; /* t = (value - vmin) * vscale */
    float alarm_mix;         /* how far alarm red replaces the colour now */
    float select[3], alarm[3];
} shade;

static void shade_slow(const tw_render *r, const shade *sh, const tw_render_instance *in, uint16_t out[4])
{
    uint32_t flags = in->flags;
    float c[3];
    for (int k = 0; k < 3; k++) c[k] = r->srgb_linear[in->color[k]];
    if (sh->map >= 0 && (flags & TW_RENDER_INST_VALUE) && isfinite(in->value)) {
        float t = (in->value - sh->vmin) * sh->vscale;
        t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
        memcpy(c, r->cmap_linear[sh->map][lrintf(t * 255.0f)], sizeof c);
    }
    if (flags & TW_RENDER_INST_STALE) {
        float l = 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
        for (int k = 0; k < 3; k++) c[k] = (c[k] + (l - c[k]) * 0.85f) * 0.8f + 0.06f;
    }
    if (flags & TW_RENDER_INST_ALARM)
        for (int k = 0; k < 3; k++) c[k] += (sh->alarm[k] - c[k]) * sh->alarm_mix;
    if (flags & TW_RENDER_INST_SELECTED)
        for (int k = 0; k < 3; k++) c[k] += (sh->select[k] - c[k]) * 0.25f;
    if (flags & TW_RENDER_INST_FADED) { /* grey; the shader makes it translucent */
        float l = 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
        for (int k = 0; k < 3; k++) c[k] = 0.35f + 0.4f * l;
    }
    for (int k = 0; k < 3; k++) out[k] = twr_half_from_float(c[k]);
    out[3] = 0x3C00u; /* 1.0, unused */
}

static inline void write_record(const tw_render *r, const shade *sh, gpu_instance *g, const tw_render_instance *in)
{
    /* The public layout is the GPU's: three rows, copied as they are. */
    memcpy(g->model, in->transform, sizeof g->model);
    uint32_t flags = in->flags;
    const uint32_t special = TW_RENDER_INST_SELECTED | TW_RENDER_INST_ALARM | TW_RENDER_INST_STALE |
                             TW_RENDER_INST_FADED | TW_RENDER_INST_VALUE;
    if (!(flags & special)) {
        g->color[0] = r->srgb_half[in->color[0]];
        g->color[1] = r->srgb_half[in->color[1]];
        g->color[2] = r->srgb_half[in->color[2]];
        g->color[3] = 0x3C00u; /* 1.0 */
    } else {
        shade_slow(r, sh, in, g->color);
    }
    g->pick_id = (flags & TW_RENDER_INST_FADED) ? 0u : in->pick_id;
    g->flags = flags;
}

/* The colour state of this frame, all but an automatic colour range
 * (returns 1 when the range is to be found from the values). */
static int shade_init(const tw_render *r, const tw_render_drawlist *dl, shade *sh)
{
    const tw_render_colorby *cb = &dl->colorby;
    memset(sh, 0, sizeof *sh);
    sh->map = -1;
    /* The pulse has a period of one second, so only the fraction matters;
     * taking it in double keeps it exact at large times. */
    sh->alarm_mix = 0.55f + 0.45f * (0.5f + 0.5f * sinf(6.2831853f * (float)(dl->time - floor(dl->time))));
    for (int k = 0; k < 3; k++) {
        sh->select[k] = r->srgb_linear[twr_select_srgb[k]];
        sh->alarm[k] = r->srgb_linear[twr_alarm_srgb[k]];
    }
    if (cb->colormap == TW_RENDER_COLORMAP_NONE) return 0;
    sh->map = cb->colormap == TW_RENDER_COLORMAP_TURBO ? 1 : 0;
    if (!(cb->max != cb->min)) return 1;
    sh->vmin = cb->min;
    sh->vmax = cb->max;
    if (!(sh->vmax > sh->vmin)) sh->vmax = sh->vmin + 1.0f; /* a reversed range */
    sh->vscale = 1.0f / (sh->vmax - sh->vmin);
    return 0;
}

/* An automatic range from the lowest and highest finite value seen. */
static void shade_set_range(shade *sh, float lo, float hi)
{
    if (!(lo <= hi)) lo = 0.0f, hi = 1.0f; /* no values this frame */
    if (!(hi > lo)) hi = lo + 1.0f;        /* one value */
    sh->vmin = lo;
    sh->vmax = hi;
    sh->vscale = 1.0f / (hi - lo);
}

static inline void range_add(float v, float *lo, float *hi)
{
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

/* ---- the outline level of detail -------------------------------------------- */

/* An instance's summary for the outline test and the faded sort: the centre
 * of its mesh's bounding box in world space, and the squared diagonal of
 * that box under the instance's transform (exact for rotations and axis
 * scales); infinite for a selected element, which keeps its outline, and
 * minus infinity for one flagged TW_RENDER_INST_NO_OUTLINE, which has none. */
/* A mesh's bounding box as the summary needs it: centre, squared extents. */
typedef struct mesh_box {
    uint32_t id;             /* the mesh it is for; 0: none yet */
    float c[3], e2[3];
} mesh_box;

static inline void mesh_box_for(const tw_render *r, uint32_t id, mesh_box *mb)
{
    if (mb->id == id) return;
    const float *b = ((const mesh *)twr_pool_item(&r->meshes, mesh_slot_of(id)))->bounds;
    for (int k = 0; k < 3; k++) {
        mb->c[k] = 0.5f * (b[k] + b[3 + k]);
        mb->e2[k] = (b[3 + k] - b[k]) * (b[3 + k] - b[k]);
    }
    mb->id = id;
}

static inline void summary_of(const mesh_box *mb, const tw_render_instance *in, float out[4])
{
    const float *m = in->transform;
    float size2 = 0.0f;
    for (int k = 0; k < 3; k++) size2 += (m[k] * m[k] + m[4 + k] * m[4 + k] + m[8 + k] * m[8 + k]) * mb->e2[k];
    for (int j = 0; j < 3; j++)
        out[j] = m[4 * j] * mb->c[0] + m[4 * j + 1] * mb->c[1] + m[4 * j + 2] * mb->c[2] + m[4 * j + 3];
    /* Asked to go without: never outlined (the variant without edges);
     * selected: always. */
    out[3] = (in->flags & TW_RENDER_INST_NO_OUTLINE) ? -INFINITY : (in->flags & TW_RENDER_INST_SELECTED) ? INFINITY : size2;
}

/* Outlined when size^2 * k - depth^2 * d >= t, depth along the view
 * direction: perspective k = (focal length in pixels / threshold)^2, d = 1,
 * t = 0 (the projected size, as the GPU divides by depth); orthographic
 * k = 1, d = 0, t = the threshold in metres squared. Squares throughout,
 * no root, no branch on the camera in the loop. */
typedef struct edge_lod {
    int mode;                /* 0: none outlined, 1: all, 2: by size */
    float fwd[3], eye_depth;
    float k, d, t;
} edge_lod;

static void edge_lod_init(const tw_render_drawlist *dl, uint32_t height, const float fwd[3], edge_lod *l)
{
    memset(l, 0, sizeof *l);
    l->mode = (dl->flags & TW_RENDER_DRAW_NO_EDGES) ? 0 : (dl->flags & TW_RENDER_DRAW_EDGES_ALWAYS) ? 1 : 2;
    float px = dl->edge_min_pixels > 0.0f ? dl->edge_min_pixels : 12.0f, h = (float)(height ? height : 1);
    const tw_render_camera *cam = &dl->camera;
    l->k = 1.0f;
    if (cam->ortho_height > 0.0f) {
        float m = px * cam->ortho_height / h;
        l->t = m * m;
    } else {
        /* Pixels per metre at depth 1 (the focal length in pixels). */
        float fov = (cam->fov_y > 0.0f ? cam->fov_y : 45.0f) * 0.017453293f;
        float focal = 0.5f * h / tanf(0.5f * fov);
        l->k = (focal * focal) / (px * px);
        l->d = 1.0f;
    }
    for (int j = 0; j < 3; j++) {
        l->fwd[j] = fwd[j];
        l->eye_depth += fwd[j] * cam->eye[j];
    }
}

static inline float depth_of(const edge_lod *l, const float s[4])
{
    return l->fwd[0] * s[0] + l->fwd[1] * s[1] + l->fwd[2] * s[2] - l->eye_depth;
}

static inline int outlined(const edge_lod *l, const float s[4])
{
    if (l->mode != 2) return l->mode;
    float depth = depth_of(l, s);
    return s[3] * l->k - depth * depth * l->d >= l->t;
}

/* ---- the faded sort ------------------------------------------------------------ */

/* Farther first; ties by draw-list order, so equal depths draw the same way
 * every frame. Heapsort: no allocation, no recursion, O(n log n) always. */
static int fade_before(const twr_fade_key *a, const twr_fade_key *b)
{
    if (a->depth != b->depth) return a->depth > b->depth;
    return a->index < b->index;
}

static void sift_down(twr_fade_key *a, uint32_t root, uint32_t end)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= end) return;
        /* A max-heap on "drawn later", so that the sorted array runs from
         * the first drawn to the last. */
        if (child + 1 < end && fade_before(&a[child], &a[child + 1])) child++;
        if (!fade_before(&a[root], &a[child])) return;
        twr_fade_key t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static void fade_sort(twr_fade_key *a, uint32_t n)
{
    if (n < 2) return;
    for (uint32_t k = n / 2; k-- > 0;) sift_down(a, k, n);
    for (uint32_t end = n - 1; end > 0; end--) {
        twr_fade_key t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

/* ---- capacity ------------------------------------------------------------------- */

/* The per-instance arrays, by name and element size. */
#define TWR_INSTANCE_ARRAYS(X)                                                                          \
    X(versions) X(cls) X(summary) X(stamp) X(rewrite) X(opaque) X(stale) X(faded) X(valued) X(alarm)     \
    X(src_runs) X(copies) X(gathers) X(runs) X(fade)

/* Growing discards what the arrays held: the next frame rewrites every
 * record anyway (c->valid is cleared), so nothing is copied, and a failure
 * part-way leaves the old arrays as they were. */
static tw_status grow_arrays(tw_render *r, twr_instances *c, uint32_t need)
{
    if (need <= c->cap) return TW_OK;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < need) cap *= 2;
    enum {
#define X(a) A_##a,
        TWR_INSTANCE_ARRAYS(X)
#undef X
        A_COUNT
    };
    void **arrs[A_COUNT] = {
#define X(a) (void **)&c->a,
        TWR_INSTANCE_ARRAYS(X)
#undef X
    };
    const size_t elem[A_COUNT] = {
#define X(a) sizeof *c->a,
        TWR_INSTANCE_ARRAYS(X)
#undef X
    };
    void *fresh[A_COUNT];
    for (int k = 0; k < A_COUNT; k++) {
        fresh[k] = tw_alloc(&r->alloc, cap * elem[k]);
        if (!fresh[k]) {
            while (k-- > 0) tw_free(&r->alloc, fresh[k], cap * elem[k]);
            return TW_ERR_NOMEM;
        }
    }
    for (int k = 0; k < A_COUNT; k++) {
        tw_free(&r->alloc, *arrs[k], (size_t)c->cap * elem[k]);
        *arrs[k] = fresh[k];
    }
    memset(c->stamp, 0, cap * sizeof *c->stamp);
    c->stamp_now = 0;
    c->cap = (uint32_t)cap;
    c->valid = 0;
    return TW_OK;
}

void twr_instances_fini(tw_render *r)
{
    twr_instances *c = &r->inst;
#define X(a) tw_free(&r->alloc, c->a, (size_t)c->cap * sizeof *c->a);
    TWR_INSTANCE_ARRAYS(X)
#undef X
    twr_buffer_destroy(r, &c->records);
    memset(c, 0, sizeof *c);
}

/* The device buffer of records, big enough for `need`; a new one means
 * every record is written again. */
static tw_status ensure_records(tw_render *r, twr_instances *c, uint32_t need)
{
    if (need <= c->records_cap && c->records.buf) return TW_OK;
    uint32_t cap = c->records_cap ? c->records_cap : 1024;
    while (cap < need) cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    VkDeviceSize bytes = (VkDeviceSize)cap * sizeof(gpu_instance);
    gpu_buffer nb;
    tw_status st = twr_buffer_create(r, bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                     MEM_DEVICE, &nb);
    if (st != TW_OK) return st;
    if (c->records.buf) {
        /* Frames in flight may still gather from the old one. */
        deletion d = { .kind = DEL_BUFFER, .u.buffer = c->records };
        st = twr_defer_delete(r, &d);
    }
    c->records = nb;
    c->records_cap = cap;
    c->records_gen++;
    c->valid = 0;
    return st;
}

/* The slot's instance buffer (drawing order) and staging buffer. The
 * slot's last frame has finished (slot_acquire waited), so the old ones can
 * go at once. */
static tw_status ensure_slot(tw_render *r, frame_slot *s, uint32_t need)
{
    if (need <= s->instance_cap && s->instances.buf && s->staging.buf) return TW_OK;
    uint32_t cap = s->instance_cap ? s->instance_cap : 1024;
    while (cap < need) cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    twr_buffer_destroy(r, &s->instances);
    twr_buffer_destroy(r, &s->staging);
    s->instance_cap = 0;
    s->gathered_count = UINT32_MAX; /* a new buffer holds nothing yet */
    VkDeviceSize bytes = (VkDeviceSize)cap * sizeof(gpu_instance);
    tw_status st = twr_buffer_create(r, bytes, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                     MEM_DEVICE, &s->instances);
    if (st == TW_OK) st = twr_buffer_create(r, bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, MEM_UPLOAD, &s->staging);
    if (st != TW_OK) return st;
    s->instance_cap = cap;
    TW_LOG(&r->log, TW_LOG_DEBUG, TW_RENDER_LOG, "instance buffers grown to %u", cap);
    return TW_OK;
}

/* ---- the lists ------------------------------------------------------------------ */

/* Drawn: shown, with a live mesh. */
static inline int drawn_class(uint32_t k) { return (k & K_LIST) != K_HIDDEN && !(k & K_DEAD_MESH); }

/* Building the lists: one instance at a time, in draw-list order. */
typedef struct list_builder {
    uint32_t n_oruns, last_slot;
} list_builder;

static void lists_begin(twr_instances *c, list_builder *lb)
{
    c->n_opaque = c->n_stale = c->n_faded = c->n_valued = c->n_alarm = c->n_dead = 0;
    lb->n_oruns = 0;
    lb->last_slot = UINT32_MAX;
}

static inline void lists_add(twr_instances *c, list_builder *lb, uint32_t i, uint32_t k, uint32_t id)
{
    if (k & K_VALUED) c->valued[c->n_valued++] = i;
    if ((k & K_LIST) == K_HIDDEN) return;
    if (k & K_DEAD_MESH) {
        c->n_dead++;
        return;
    }
    if (k & K_ALARM) c->alarm[c->n_alarm++] = i;
    switch (k & K_LIST) {
    case K_FADED: c->faded[c->n_faded++] = i; break;
    case K_STALE: c->stale[c->n_stale++] = i; break;
    default: {
        uint32_t slot = mesh_slot_of(id);
        if (slot != lb->last_slot) {
            c->src_runs[lb->n_oruns++] = (twr_src_run){ slot, c->n_opaque, 0 };
            lb->last_slot = slot;
        }
        c->src_runs[lb->n_oruns - 1].count++;
        c->opaque[c->n_opaque++] = i;
        break;
    }
    }
}

/* Stale runs after the opaque ones. */
static void lists_end(twr_instances *c, const list_builder *lb)
{
    uint32_t n_oruns = lb->n_oruns, last = UINT32_MAX;
    c->n_oruns = n_oruns;
    c->n_sruns = 0;
    for (uint32_t j = 0; j < c->n_stale; j++) {
        uint32_t slot = mesh_slot_of((uint32_t)(c->cls[c->stale[j]] >> 32));
        if (slot != last) {
            c->src_runs[n_oruns + c->n_sruns++] = (twr_src_run){ slot, j, 0 };
            last = slot;
        }
        c->src_runs[n_oruns + c->n_sruns - 1].count++;
    }
}

/* The lists and runs from the classes. recheck: a mesh was made or
 * destroyed since, so each instance's mesh is looked up again. */
static void relist(tw_render *r, twr_instances *c, uint32_t n, int recheck)
{
    list_builder lb;
    lists_begin(c, &lb);
    mesh_check mc = { 0, 0 };
    for (uint32_t i = 0; i < n; i++) {
        uint64_t cls = c->cls[i];
        uint32_t k = (uint32_t)cls, id = (uint32_t)(cls >> 32);
        if (recheck && (k & K_LIST) != K_HIDDEN) {
            k = mesh_live(r, id, &mc) ? k & ~(uint32_t)K_DEAD_MESH : k | K_DEAD_MESH;
            c->cls[i] = (uint64_t)id << 32 | k;
        }
        lists_add(c, &lb, i, k, id);
    }
    lists_end(c, &lb);
}

/* Every instance: its class and list, its record (into staging, at its
 * own index) and its summary, in one pass. Records coloured by value are
 * written again once an automatic range is known. */
static void write_all(tw_render *r, twr_instances *c, const tw_render_drawlist *dl, shade *sh, int auto_range,
                      gpu_instance *stg)
{
    const tw_render_instance *ins = dl->instances;
    uint32_t n = dl->instance_count;
    float lo = INFINITY, hi = -INFINITY;
    mesh_check mc = { 0, 0 };
    mesh_box mb = { 0 };
    list_builder lb;
    lists_begin(c, &lb);
    for (uint32_t i = 0; i < n; i++) {
        const tw_render_instance *in = &ins[i];
        uint64_t cls = classify(r, in, &mc);
        uint32_t k = (uint32_t)cls;
        c->cls[i] = cls;
        write_record(r, sh, &stg[i], in);
        lists_add(c, &lb, i, k, in->mesh.id);
        if (k & K_VALUED) range_add(in->value, &lo, &hi);
        if (!drawn_class(k)) continue;
        mesh_box_for(r, in->mesh.id, &mb);
        summary_of(&mb, in, c->summary[i]);
    }
    lists_end(c, &lb);
    if (auto_range) {
        shade_set_range(sh, lo, hi);
        for (uint32_t j = 0; j < c->n_valued; j++) write_record(r, sh, &stg[c->valued[j]], &ins[c->valued[j]]);
    }
}

/* The instances whose version moved since their record was written, into
 * c->rewrite, their classes updated. Sets *moved when one of them changed
 * list, mesh or pulsing (the lists are then made again). */
static uint32_t changed_instances(tw_render *r, twr_instances *c, const tw_render_drawlist *dl, int *moved)
{
    const uint32_t *ver = dl->instance_versions;
    uint32_t n = dl->instance_count, m = 0, now = c->stamp_now;
    mesh_check mc = { 0, 0 };
    /* Blocks compared whole first: changes are usually few and clustered. */
    enum { BLOCK = 256 };
    for (uint32_t b0 = 0; b0 < n; b0 += BLOCK) {
        uint32_t end = n - b0 < BLOCK ? n : b0 + BLOCK;
        if (memcmp(ver + b0, c->versions + b0, (size_t)(end - b0) * sizeof *ver) == 0) continue;
        for (uint32_t i = b0; i < end; i++) {
            if (ver[i] == c->versions[i]) continue;
            c->versions[i] = ver[i];
            uint64_t cls = classify(r, &dl->instances[i], &mc);
            if (cls != c->cls[i]) {
                c->cls[i] = cls;
                *moved = 1;
            }
            c->stamp[i] = now;
            c->rewrite[m++] = i;
        }
    }
    return m;
}

/* Adds the listed instances not yet in c->rewrite. */
static uint32_t add_rewrites(twr_instances *c, const uint32_t *list, uint32_t count, uint32_t m)
{
    uint32_t now = c->stamp_now;
    for (uint32_t j = 0; j < count; j++) {
        uint32_t i = list[j];
        if (c->stamp[i] == now) continue;
        c->stamp[i] = now;
        c->rewrite[m++] = i;
    }
    return m;
}

/* ---- the drawing order ------------------------------------------------------------- */

/* Copy regions from the records into the slot's instance buffer, made as
 * the drawing order is decided. Outlined instances fill the buffer from the
 * front; the others are placed after all of them, so their regions are kept
 * from the back of the array (their destinations counted from the start of
 * the back) until the front's length is known. Neighbouring records that
 * land next to each other share a region. */
typedef struct gather {
    VkBufferCopy *regions;
    uint32_t cap;
    uint32_t n_front, n_back;      /* regions */
    uint32_t front, back;          /* instances */
    uint32_t front_prev, back_prev; /* the last record index placed in each */
} gather;

static const VkDeviceSize REC = sizeof(gpu_instance);

static inline void gather_front(gather *g, uint32_t i)
{
    if (i == g->front_prev + 1)
        g->regions[g->n_front - 1].size += REC;
    else
        g->regions[g->n_front++] = (VkBufferCopy){ i * REC, g->front * REC, REC };
    g->front_prev = i;
    g->front++;
}

static inline void gather_back(gather *g, uint32_t i)
{
    if (i == g->back_prev + 1)
        g->regions[g->cap - g->n_back].size += REC;
    else
        g->regions[g->cap - 1 - g->n_back++] = (VkBufferCopy){ i * REC, g->back * REC, REC };
    g->back_prev = i;
    g->back++;
}

/* Whether the slot's instance buffer already holds what these regions
 * gather: the same regions, from records unchanged since. */
static int gather_held(const tw_render *r, const frame_slot *s, const VkBufferCopy *g, uint32_t n)
{
    return n && s->gathered_gen == r->inst.records_gen && s->gathered_count == n &&
           memcmp(s->gathered, g, (size_t)n * sizeof *g) == 0;
}

/* Notes these regions as what the slot's instance buffer will hold. */
static tw_status gather_note(tw_render *r, frame_slot *s, const VkBufferCopy *g, uint32_t n)
{
    if (n > s->gathered_cap) {
        size_t cap = s->gathered_cap;
        void *items = s->gathered;
        int grown = tw_grow(&r->alloc, &items, &cap, n, sizeof *s->gathered) == 0;
        s->gathered = items;
        s->gathered_cap = (uint32_t)cap;
        if (!grown) {
            s->gathered_count = UINT32_MAX;
            return TW_ERR_NOMEM;
        }
    }
    if (n) memcpy(s->gathered, g, (size_t)n * sizeof *g);
    s->gathered_count = n;
    s->gathered_gen = r->inst.records_gen;
    return TW_OK;
}

/* Moves the back's regions after the front's, in order, at their place. */
static uint32_t gather_finish(gather *g)
{
    VkBufferCopy *b = g->regions + g->cap - g->n_back;
    for (uint32_t k = 0; k < g->n_back / 2; k++) {
        VkBufferCopy t = b[k];
        b[k] = b[g->n_back - 1 - k];
        b[g->n_back - 1 - k] = t;
    }
    memmove(g->regions + g->n_front, b, (size_t)g->n_back * sizeof *b);
    for (uint32_t k = 0; k < g->n_back; k++) g->regions[g->n_front + k].dstOffset += (VkDeviceSize)g->front * REC;
    return g->n_front + g->n_back;
}

/* ---- the frame ---------------------------------------------------------------------- */

tw_status twr_instances_prepare(tw_render *r, frame_slot *s, const tw_render_drawlist *dl, uint32_t height,
                                twr_instance_frame *f)
{
    twr_instances *c = &r->inst;
    memset(f, 0, sizeof *f);
    uint32_t n = dl->instance_count, need = n ? n : 1;
    tw_status st = grow_arrays(r, c, need);
    if (st == TW_OK) st = ensure_records(r, c, need);
    if (st == TW_OK) st = ensure_slot(r, s, need);
    if (st != TW_OK) return st;

    const int retained = dl->list_id != 0 && dl->instance_versions != NULL;
    int full = !(retained && c->valid && c->list_id == dl->list_id && c->count == n);
    if (++c->stamp_now == 0) { /* wrapped: no stamp may look current */
        memset(c->stamp, 0, c->cap * sizeof *c->stamp);
        c->stamp_now = 1;
    }
    uint32_t m = 0;
    int moved = 0;
    if (!full) {
        m = changed_instances(r, c, dl, &moved);
        int recheck = c->mesh_version != r->meshes.version;
        if (moved || recheck) relist(r, c, n, recheck);
    }

    /* The records: all of them at their own index, or the rewritten ones
     * packed at the front of the staging buffer, each copied to its index
     * (neighbours merged into one region). */
    shade sh;
    int auto_range = shade_init(r, dl, &sh);
    gpu_instance *stg = s->staging.map;
    float(*summary)[4] = c->summary;
    const tw_render_instance *ins = dl->instances;
    uint32_t copies = 0;
    if (full) {
        write_all(r, c, dl, &sh, auto_range, stg);
        if (n) c->copies[copies++] = (VkBufferCopy){ 0, 0, (VkDeviceSize)n * sizeof(gpu_instance) };
        if (retained) memcpy(c->versions, dl->instance_versions, (size_t)n * sizeof *c->versions);
    } else {
        if (auto_range) {
            float lo = INFINITY, hi = -INFINITY;
            for (uint32_t j = 0; j < c->n_valued; j++) range_add(ins[c->valued[j]].value, &lo, &hi);
            shade_set_range(&sh, lo, hi);
        }
        if (sh.map != c->map || sh.vmin != c->vmin || sh.vscale != c->vscale)
            m = add_rewrites(c, c->valued, c->n_valued, m);
        m = add_rewrites(c, c->alarm, c->n_alarm, m);
        const VkDeviceSize rec = sizeof(gpu_instance);
        mesh_box mb = { 0 };
        for (uint32_t j = 0; j < m; j++) {
            uint32_t i = c->rewrite[j];
            write_record(r, &sh, &stg[j], &ins[i]);
            if (drawn_class((uint32_t)c->cls[i])) {
                mesh_box_for(r, ins[i].mesh.id, &mb);
                summary_of(&mb, &ins[i], summary[i]);
            }
            VkBufferCopy *last = copies ? &c->copies[copies - 1] : NULL;
            if (last && last->srcOffset + last->size == j * rec && last->dstOffset + last->size == i * rec)
                last->size += rec;
            else
                c->copies[copies++] = (VkBufferCopy){ j * rec, i * rec, rec };
        }
    }
    f->vmin = sh.map >= 0 ? sh.vmin : 0.0f;
    f->vmax = sh.map >= 0 ? sh.vmax : 0.0f;
    f->copy_count = copies;
    f->records_written = full ? n : m;
    c->valid = retained;
    c->list_id = dl->list_id;
    c->count = n;
    c->mesh_version = r->meshes.version;
    c->map = sh.map;
    c->vmin = sh.vmin;
    c->vscale = sh.vscale;

    /* The order of this frame. */
    float fwd[3], len = 0.0f;
    for (int k = 0; k < 3; k++) {
        fwd[k] = dl->camera.target[k] - dl->camera.eye[k];
        len += fwd[k] * fwd[k];
    }
    len = sqrtf(len);
    for (int k = 0; k < 3; k++) fwd[k] = len > 0.0f ? fwd[k] / len : (k == 2 ? -1.0f : 0.0f);
    edge_lod lod;
    edge_lod_init(dl, height, fwd, &lod);
    gather g = { .regions = c->gathers, .cap = c->cap, .front_prev = UINT32_MAX - 1, .back_prev = UINT32_MAX - 1 };
    draw_run *runs = c->runs;
    uint32_t nr = 0;
    for (uint32_t q = 0; q < c->n_oruns + c->n_sruns; q++) {
        const twr_src_run *sr = &c->src_runs[q];
        const uint32_t *idx = (q < c->n_oruns ? c->opaque : c->stale) + sr->first;
        uint32_t first = g.front, back0 = g.back;
        if (lod.mode != 2) { /* all in front: outlined, or drawn by variants without edges */
            for (uint32_t j = 0; j < sr->count; j++) gather_front(&g, idx[j]);
        } else {
            for (uint32_t j = 0; j < sr->count; j++) {
                uint32_t i = idx[j];
                if (outlined(&lod, summary[i]))
                    gather_front(&g, i);
                else
                    gather_back(&g, i);
            }
        }
        /* plain_first counts from the start of the back until its place is known. */
        runs[nr++] = (draw_run){ sr->mesh_slot, first, g.front - first, back0, g.back - back0 };
        if (q + 1 == c->n_oruns) f->opaque_runs = nr;
    }
    f->stale_runs = nr - f->opaque_runs;
    uint32_t outlines = lod.mode ? g.front : 0;
    /* Faded instances blend over what is behind them, so they are drawn
     * back to front: the farthest first. Consecutive ones of one mesh with
     * the same outline share a draw. */
    twr_fade_key *fade = c->fade;
    for (uint32_t j = 0; j < c->n_faded; j++) {
        uint32_t i = c->faded[j];
        fade[j] = (twr_fade_key){ depth_of(&lod, summary[i]), i, mesh_slot_of(ins[i].mesh.id) };
    }
    fade_sort(fade, c->n_faded);
    uint32_t last = UINT32_MAX, nf0 = nr;
    int last_o = -1;
    for (uint32_t j = 0; j < c->n_faded; j++) {
        int o = outlined(&lod, summary[fade[j].index]);
        if (fade[j].mesh_slot != last || o != last_o) {
            runs[nr++] = (draw_run){ fade[j].mesh_slot, g.front, 0, g.front, 0 };
            last = fade[j].mesh_slot;
            last_o = o;
        }
        if (o)
            runs[nr - 1].count++;
        else
            runs[nr - 1].plain_count++;
        outlines += (uint32_t)o;
        gather_front(&g, fade[j].index);
    }
    f->faded_runs = nr - nf0;
    /* The back follows the front in the instance buffer. */
    for (uint32_t q = 0; q < nf0; q++) runs[q].plain_first += g.front;
    f->gather_count = gather_finish(&g);
    if (copies) c->records_gen++;
    if (gather_held(r, s, c->gathers, f->gather_count))
        f->gather_count = 0;
    else if ((st = gather_note(r, s, c->gathers, f->gather_count)) != TW_OK)
        return st;
    f->drawn = g.front + g.back;
    f->outlined = outlines;
    f->skipped = c->n_dead;
    return TW_OK;
}

void twr_instances_record_upload(tw_render *r, frame_slot *s, VkCommandBuffer cmd, const twr_instance_frame *f)
{
    VkMemoryBarrier mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER };
    if (f->copy_count) {
        /* Frames submitted earlier may still be gathering from the records
         * (the barrier's first scope reaches back over everything submitted
         * before on this queue); then the new records go in. */
        r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                                     NULL, 0, NULL);
        r->vk.d.vkCmdCopyBuffer(cmd, s->staging.buf, r->inst.records.buf, f->copy_count, r->inst.copies);
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
        r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                                     NULL, 0, NULL);
    }
    if (!f->gather_count) return;
    /* This slot's instance buffer was last read by this slot's previous
     * frame, which has finished. */
    r->vk.d.vkCmdCopyBuffer(cmd, r->inst.records.buf, s->instances.buf, f->gather_count, r->inst.gathers);
    mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_VERTEX_ATTRIBUTE_READ_BIT;
    r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_VERTEX_INPUT_BIT, 0, 1, &mb, 0,
                                 NULL, 0, NULL);
}

uint64_t tw_render_list_id(tw_render *r)
{
    return r ? ++r->inst.next_list_id : 0;
}
