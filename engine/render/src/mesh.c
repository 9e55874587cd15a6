/* Meshes in two shared buffers (vertices, 32-bit indices).
 *
 * All meshes share one vertex and one index buffer, so a frame binds them
 * once and each draw is an offset into them. Space is handed out first-fit
 * from sorted free-range lists; a destroyed mesh's ranges return to the
 * lists only after the frames in flight that may draw it are done. When a
 * buffer is full it is replaced by one twice as large (the old contents are
 * copied on the GPU, the old buffer is deleted later). Uploads go through a
 * staging buffer and wait, so the device-local buffers work on a real GPU
 * as on lavapipe. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "twin/render_geom.h"
#include "render_internal.h"

enum { INITIAL_VERTICES = 1u << 16, INITIAL_INDICES = 3u << 16 };

/* ---- free ranges ------------------------------------------------------------ */

static int range_insert(tw_render *r, range_list *l, uint32_t at, range rg)
{
    if (l->count == l->cap) {
        size_t cap = l->cap;
        void *items = l->items;
        if (tw_grow(&r->alloc, &items, &cap, (size_t)l->count + 1, sizeof(range)) != 0) return -1;
        l->items = items;
        l->cap = (uint32_t)cap;
    }
    memmove(&l->items[at + 1], &l->items[at], (size_t)(l->count - at) * sizeof(range));
    l->items[at] = rg;
    l->count++;
    return 0;
}

void twr_range_free(tw_render *r, range_list *l, range rg)
{
    if (rg.count == 0) return;
    uint32_t at = 0;
    while (at < l->count && l->items[at].start < rg.start) at++;
    int merge_prev = at > 0 && l->items[at - 1].start + l->items[at - 1].count == rg.start;
    int merge_next = at < l->count && rg.start + rg.count == l->items[at].start;
    if (merge_prev && merge_next) {
        l->items[at - 1].count += rg.count + l->items[at].count;
        memmove(&l->items[at], &l->items[at + 1], (size_t)(l->count - at - 1) * sizeof(range));
        l->count--;
    } else if (merge_prev) {
        l->items[at - 1].count += rg.count;
    } else if (merge_next) {
        l->items[at].start = rg.start;
        l->items[at].count += rg.count;
    } else if (range_insert(r, l, at, rg) != 0) {
        /* Out of memory: the space is leaked until the renderer is freed,
         * which is harmless. */
        TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG, "out of memory returning %u mesh elements", rg.count);
    }
}

static int range_take(range_list *l, uint32_t count, uint32_t *start)
{
    for (uint32_t k = 0; k < l->count; k++) {
        range *it = &l->items[k];
        if (it->count < count) continue;
        *start = it->start;
        it->start += count;
        it->count -= count;
        if (it->count == 0) {
            memmove(it, it + 1, (size_t)(l->count - k - 1) * sizeof(range));
            l->count--;
        }
        return 0;
    }
    return -1;
}

/* ---- shared buffers ---------------------------------------------------------- */

static tw_status shared_create(tw_render *r, VkDeviceSize bytes, VkBufferUsageFlags usage, gpu_buffer *out)
{
    return twr_buffer_create(r, bytes, usage | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                             MEM_DEVICE, out);
}

tw_status twr_meshes_init(tw_render *r)
{
    r->vcap = INITIAL_VERTICES;
    r->icap = INITIAL_INDICES;
    tw_status st = shared_create(r, (VkDeviceSize)r->vcap * sizeof(gpu_vertex), VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
                                 &r->vbuf);
    if (st == TW_OK)
        st = shared_create(r, (VkDeviceSize)r->icap * sizeof(uint32_t), VK_BUFFER_USAGE_INDEX_BUFFER_BIT, &r->ibuf);
    if (st != TW_OK) return st;
    twr_range_free(r, &r->vfree, (range){ 0, r->vcap });
    twr_range_free(r, &r->ifree, (range){ 0, r->icap });
    if (r->vfree.count != 1 || r->ifree.count != 1) return TW_ERR_NOMEM;
    return TW_OK;
}

void twr_meshes_fini(tw_render *r)
{
    twr_buffer_destroy(r, &r->vbuf);
    twr_buffer_destroy(r, &r->ibuf);
}

/* Replaces *buf by a larger one holding the same first old_bytes. */
static tw_status shared_grow(tw_render *r, gpu_buffer *buf, VkDeviceSize old_bytes, VkDeviceSize new_bytes,
                             VkBufferUsageFlags usage)
{
    gpu_buffer nb;
    tw_status st = shared_create(r, new_bytes, usage, &nb);
    if (st != TW_OK) return st;
    VkCommandBuffer cmd = twr_once_begin(r);
    VkBufferCopy region = { 0, 0, old_bytes };
    r->vk.d.vkCmdCopyBuffer(cmd, buf->buf, nb.buf, 1, &region);
    st = twr_once_submit(r);
    if (st != TW_OK) {
        twr_buffer_destroy(r, &nb);
        return st;
    }
    deletion d = { .kind = DEL_BUFFER, .u.buffer = *buf };
    st = twr_defer_delete(r, &d);
    *buf = nb;
    return st;
}

static tw_status reserve(tw_render *r, int indices, uint32_t count, uint32_t *start)
{
    range_list *l = indices ? &r->ifree : &r->vfree;
    if (range_take(l, count, start) == 0) return TW_OK;
    uint32_t *cap = indices ? &r->icap : &r->vcap;
    size_t elem = indices ? sizeof(uint32_t) : sizeof(gpu_vertex);
    uint64_t ncap = *cap;
    while (ncap < (uint64_t)*cap + count) ncap *= 2;
    if (ncap > UINT32_MAX) return TW_ERR_LIMIT;
    tw_status st = shared_grow(r, indices ? &r->ibuf : &r->vbuf, (VkDeviceSize)*cap * elem,
                               (VkDeviceSize)ncap * elem,
                               indices ? VK_BUFFER_USAGE_INDEX_BUFFER_BIT : VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);
    if (st != TW_OK) return st;
    TW_LOG(&r->log, TW_LOG_DEBUG, TW_RENDER_LOG, "shared %s buffer grown to %llu", indices ? "index" : "vertex",
           (unsigned long long)ncap);
    twr_range_free(r, l, (range){ *cap, (uint32_t)(ncap - *cap) });
    *cap = (uint32_t)ncap;
    return range_take(l, count, start) == 0 ? TW_OK : TW_ERR_NOMEM;
}

/* ---- public --------------------------------------------------------------------- */

const mesh *twr_mesh_get(const tw_render *r, tw_render_mesh m)
{
    int64_t s = twr_pool_lookup(&r->meshes, m.id);
    return s < 0 ? NULL : twr_pool_item(&r->meshes, (uint32_t)s);
}

static int8_t snorm8(float v)
{
    float x = v * 127.0f;
    x = x > 127.0f ? 127.0f : x < -127.0f ? -127.0f : x;
    return (int8_t)lrintf(x);
}

static tw_status mesh_upload(tw_render *r, const tw_render_mesh_desc *desc, const tw_render_vertex *vertices,
                             const uint8_t (*edges)[4], uint32_t vertex_count, const uint32_t *indices,
                             uint32_t index_count, tw_render_mesh *out)
{
    float bounds[6] = { INFINITY, INFINITY, INFINITY, -INFINITY, -INFINITY, -INFINITY };
    for (uint32_t k = 0; k < vertex_count; k++)
        for (int c = 0; c < 3; c++) {
            float v = vertices[k].position[c];
            if (v < bounds[c]) bounds[c] = v;
            if (v > bounds[3 + c]) bounds[3 + c] = v;
        }
    uint32_t vstart = 0, istart = 0;
    tw_status st = reserve(r, 0, vertex_count, &vstart);
    if (st != TW_OK) return st;
    st = reserve(r, 1, index_count, &istart);
    if (st != TW_OK) {
        twr_range_free(r, &r->vfree, (range){ vstart, vertex_count });
        return st;
    }
    VkDeviceSize vbytes = (VkDeviceSize)vertex_count * sizeof(gpu_vertex);
    VkDeviceSize ibytes = (VkDeviceSize)index_count * sizeof(uint32_t);
    st = twr_staging_reserve(r, vbytes + ibytes);
    if (st == TW_OK) {
        gpu_vertex *gv = r->staging.map;
        for (uint32_t k = 0; k < vertex_count; k++) {
            memcpy(gv[k].position, vertices[k].position, sizeof gv[k].position);
            for (int c = 0; c < 3; c++) gv[k].normal[c] = snorm8(vertices[k].normal[c]);
            gv[k].normal[3] = 0;
            memcpy(gv[k].edge, edges[k], 4);
        }
        memcpy((uint8_t *)r->staging.map + vbytes, indices, ibytes);
        VkCommandBuffer cmd = twr_once_begin(r);
        VkBufferCopy vr = { 0, (VkDeviceSize)vstart * sizeof(gpu_vertex), vbytes };
        VkBufferCopy ir = { vbytes, (VkDeviceSize)istart * sizeof(uint32_t), ibytes };
        r->vk.d.vkCmdCopyBuffer(cmd, r->staging.buf, r->vbuf.buf, 1, &vr);
        r->vk.d.vkCmdCopyBuffer(cmd, r->staging.buf, r->ibuf.buf, 1, &ir);
        /* Later frames read these as vertex and index data. */
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_VERTEX_ATTRIBUTE_READ_BIT | VK_ACCESS_INDEX_READ_BIT,
        };
        r->vk.d.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_VERTEX_INPUT_BIT, 0, 1,
                                     &mb, 0, NULL, 0, NULL);
        st = twr_once_submit(r);
    }
    uint32_t id = st == TW_OK ? twr_pool_alloc(&r->meshes, &r->alloc) : 0;
    if (!id) {
        twr_range_free(r, &r->vfree, (range){ vstart, vertex_count });
        twr_range_free(r, &r->ifree, (range){ istart, index_count });
        return st != TW_OK ? st : TW_ERR_NOMEM;
    }
    mesh *m = twr_pool_item(&r->meshes, (uint32_t)twr_pool_lookup(&r->meshes, id));
    m->first_vertex = vstart;
    m->vertex_count = vertex_count;
    m->first_index = istart;
    m->index_count = index_count;
    memcpy(m->bounds, bounds, sizeof bounds);
    snprintf(m->label, sizeof m->label, "%s", desc->label ? desc->label : "");
    out->id = id;
    return TW_OK;
}

tw_status tw_render_mesh_create(tw_render *r, const tw_render_mesh_desc *desc, tw_render_mesh *out)
{
    TW_CHECK(r && desc && out, "tw_render_mesh_create needs a renderer, a description and an output handle.");
    out->id = 0;
    const char *label = desc->label ? desc->label : "(unnamed)";
    if (!desc->vertices || !desc->indices || desc->vertex_count == 0 || desc->index_count == 0 ||
        desc->index_count % 3 != 0) {
        TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG,
               "mesh %s: a mesh needs vertices and a whole number of triangles (%u vertices, %u indices)", label,
               desc->vertex_count, desc->index_count);
        return TW_ERR_INVALID;
    }
    for (uint32_t k = 0; k < desc->vertex_count; k++)
        for (int c = 0; c < 3; c++)
            if (!isfinite(desc->vertices[k].position[c]) || !isfinite(desc->vertices[k].normal[c])) {
                TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "mesh %s: vertex %u is not finite", label, k);
                return TW_ERR_INVALID;
            }
    for (uint32_t k = 0; k < desc->index_count; k++)
        if (desc->indices[k] >= desc->vertex_count) {
            TW_LOG(&r->log, TW_LOG_ERROR, TW_RENDER_LOG, "mesh %s: index %u is %u, past the %u vertices", label, k,
                   desc->indices[k], desc->vertex_count);
            return TW_ERR_INVALID;
        }
    if (desc->edges)
        return mesh_upload(r, desc, desc->vertices, desc->edges, desc->vertex_count, desc->indices,
                           desc->index_count, out);
    /* No edges given: derive them (a vertex triple per triangle). */
    tw_render_geom g;
    tw_render_geom_init(&g, &r->alloc);
    tw_status st = tw_render_geom_append(&g, desc->vertices, desc->vertex_count, desc->indices, desc->index_count);
    if (st == TW_OK)
        st = mesh_upload(r, desc, g.vertices, (const uint8_t(*)[4])g.edges, g.vertex_count, g.indices, g.index_count,
                         out);
    tw_render_geom_fini(&g);
    return st;
}

tw_status tw_render_mesh_destroy(tw_render *r, tw_render_mesh h)
{
    TW_CHECK(r != NULL, "tw_render_mesh_destroy needs a renderer: r is NULL.");
    const mesh *m = twr_mesh_get(r, h);
    if (!m) {
        r->counters.invalid_handles++;
        TW_LOG(&r->log, TW_LOG_WARN, TW_RENDER_LOG,
               "tw_render_mesh_destroy: mesh handle 0x%08x is stale or was never created; nothing done", h.id);
        return TW_ERR_STATE;
    }
    deletion dv = { .kind = DEL_VERTEX_RANGE, .u.range = { m->first_vertex, m->vertex_count } };
    deletion di = { .kind = DEL_INDEX_RANGE, .u.range = { m->first_index, m->index_count } };
    tw_status st = twr_defer_delete(r, &dv);
    if (st == TW_OK) st = twr_defer_delete(r, &di);
    twr_pool_free(&r->meshes, h.id);
    return st;
}

int tw_render_mesh_valid(const tw_render *r, tw_render_mesh h)
{
    TW_CHECK(r != NULL, "tw_render_mesh_valid needs a renderer: r is NULL.");
    return twr_mesh_get(r, h) != NULL;
}

tw_status tw_render_mesh_bounds(const tw_render *r, tw_render_mesh h, float min[3], float max[3])
{
    TW_CHECK(r && min && max, "tw_render_mesh_bounds needs a renderer and two output vectors.");
    const mesh *m = twr_mesh_get(r, h);
    if (!m) return TW_ERR_STATE;
    memcpy(min, m->bounds, 3 * sizeof(float));
    memcpy(max, m->bounds + 3, 3 * sizeof(float));
    return TW_OK;
}
