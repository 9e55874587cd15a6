/* Mesh helpers for architecture: boxes, extruded footprints (ear clipping),
 * walls along polylines with mitred corners and openings, and imported
 * triangle meshes.
 *
 * Every face gets its own vertices (flat normals: crisp edges read better
 * than smooth shading for buildings). Quads are oriented by the normal they
 * should face, so callers never reason about winding.
 *
 * Each vertex also carries three "edge coordinates" (unorm8, 255 = 1) that
 * the fragment shader turns into outline lines: a pixel is on an edge where
 * one of them, or one minus it, is near 0. A quad uses (u, v, 1/2), so its
 * four sides are edges and its diagonal is not; a triangle of a polygon cap
 * uses its barycentric coordinates, each 0 along one side, held at 1/2 for
 * a side that is an inner diagonal. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "twin/render_geom.h"

void tw_render_geom_init(tw_render_geom *g, const tw_allocator *alloc)
{
    TW_CHECK(g != NULL, "tw_render_geom_init needs a builder: g is NULL.");
    memset(g, 0, sizeof *g);
    g->alloc = tw_allocator_or_default(alloc);
}

void tw_render_geom_fini(tw_render_geom *g)
{
    if (!g) return;
    tw_free(&g->alloc, g->vertices, (size_t)g->vertex_cap * sizeof *g->vertices);
    tw_free(&g->alloc, g->edges, (size_t)g->vertex_cap * sizeof *g->edges);
    tw_free(&g->alloc, g->indices, (size_t)g->index_cap * sizeof *g->indices);
    tw_free(&g->alloc, g->scratch, (size_t)g->scratch_cap * sizeof *g->scratch);
    tw_allocator a = g->alloc;
    memset(g, 0, sizeof *g);
    g->alloc = a;
}

void tw_render_geom_reset(tw_render_geom *g)
{
    TW_CHECK(g != NULL, "tw_render_geom_reset needs a builder: g is NULL.");
    g->vertex_count = 0;
    g->index_count = 0;
}

static tw_status reserve(tw_render_geom *g, uint32_t vertices, uint32_t indices)
{
    if ((uint64_t)g->vertex_count + vertices > UINT32_MAX || (uint64_t)g->index_count + indices > UINT32_MAX)
        return TW_ERR_LIMIT;
    size_t need = (size_t)g->vertex_count + vertices;
    if (need > g->vertex_cap) {
        size_t cap = g->vertex_cap ? g->vertex_cap + g->vertex_cap / 2 : 64;
        if (cap < need) cap = need;
        if (cap > UINT32_MAX) cap = UINT32_MAX;
        /* Vertices and edges grow together; if the second fails the first
         * is merely larger than vertex_cap says, which frees fine. */
        void *v = tw_realloc(&g->alloc, g->vertices, (size_t)g->vertex_cap * sizeof *g->vertices, cap * sizeof *g->vertices);
        if (!v) return TW_ERR_NOMEM;
        g->vertices = v;
        void *e = tw_realloc(&g->alloc, g->edges, (size_t)g->vertex_cap * sizeof *g->edges, cap * sizeof *g->edges);
        if (!e) return TW_ERR_NOMEM;
        g->edges = e;
        g->vertex_cap = (uint32_t)cap;
    }
    size_t cap = g->index_cap;
    void *p = g->indices;
    if (tw_grow(&g->alloc, &p, &cap, (size_t)g->index_count + indices, sizeof *g->indices) != 0) return TW_ERR_NOMEM;
    g->indices = p;
    g->index_cap = (uint32_t)cap;
    return TW_OK;
}

static tw_status scratch_reserve(tw_render_geom *g, size_t words)
{
    if (words <= g->scratch_cap) return TW_OK;
    size_t cap = g->scratch_cap;
    void *p = g->scratch;
    if (tw_grow(&g->alloc, &p, &cap, words, sizeof *g->scratch) != 0) return TW_ERR_NOMEM;
    g->scratch = p;
    g->scratch_cap = (uint32_t)cap;
    return TW_OK;
}

static void sub3(float o[3], const float a[3], const float b[3])
{
    o[0] = a[0] - b[0];
    o[1] = a[1] - b[1];
    o[2] = a[2] - b[2];
}

static void cross3(float o[3], const float a[3], const float b[3])
{
    o[0] = a[1] * b[2] - a[2] * b[1];
    o[1] = a[2] * b[0] - a[0] * b[2];
    o[2] = a[0] * b[1] - a[1] * b[0];
}

static void push_vertex(tw_render_geom *g, const float p[3], const float n[3], const uint8_t e[4])
{
    memcpy(g->edges[g->vertex_count], e, 4);
    tw_render_vertex *v = &g->vertices[g->vertex_count++];
    memcpy(v->position, p, sizeof v->position);
    memcpy(v->normal, n, sizeof v->normal);
}

/* The edge coordinates of a triangle's corners A, B, C given which of its
 * sides are outline edges (bit 0: AB, 1: BC, 2: CA). Component x is A's
 * barycentric coordinate, 0 along BC; y is B's (0 along CA); z is C's (0
 * along AB); a side that is no edge holds its component at 1/2. */
static void triangle_edges(unsigned mask, uint8_t out[3][4])
{
    const uint8_t H = 128;
    int ab = (mask & 1) != 0, bc = (mask & 2) != 0, ca = (mask & 4) != 0;
    const uint8_t e[3][4] = {
        { bc ? 255 : H, ca ? 0 : H, ab ? 0 : H, 0 },
        { bc ? 0 : H, ca ? 255 : H, ab ? 0 : H, 0 },
        { bc ? 0 : H, ca ? 0 : H, ab ? 255 : H, 0 },
    };
    memcpy(out, e, sizeof e);
}

/* A planar quad facing roughly `hint`; space must be reserved (4 v, 6 i).
 * Degenerate quads (zero area) are dropped. */
static void quad(tw_render_geom *g, const float p[4][3], const float hint[3])
{
    float e1[3], e2[3], n[3];
    sub3(e1, p[1], p[0]);
    sub3(e2, p[2], p[0]);
    cross3(n, e1, e2);
    float len = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (!(len > 1e-12f)) {
        /* The first triangle may be degenerate while the quad is not. */
        sub3(e1, p[2], p[0]);
        sub3(e2, p[3], p[0]);
        cross3(n, e1, e2);
        len = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(len > 1e-12f)) return;
    }
    for (int k = 0; k < 3; k++) n[k] /= len;
    int flip = n[0] * hint[0] + n[1] * hint[1] + n[2] * hint[2] < 0.0f;
    if (flip)
        for (int k = 0; k < 3; k++) n[k] = -n[k];
    /* Corner k at (u, v) = (0,0), (1,0), (1,1), (0,1); the third coordinate
     * stays at 1/2. */
    static const uint8_t e[4][4] = { { 0, 0, 128, 0 }, { 255, 0, 128, 0 }, { 255, 255, 128, 0 }, { 0, 255, 128, 0 } };
    uint32_t base = g->vertex_count;
    for (int k = 0; k < 4; k++) push_vertex(g, p[flip ? 3 - k : k], n, e[k]);
    static const uint32_t tri[6] = { 0, 1, 2, 0, 2, 3 };
    for (int k = 0; k < 6; k++) g->indices[g->index_count++] = base + tri[k];
}

tw_status tw_render_geom_box(tw_render_geom *g, const float min[3], const float max[3])
{
    TW_CHECK(g && min && max, "tw_render_geom_box needs a builder and the two corners.");
    for (int k = 0; k < 3; k++)
        if (!(max[k] > min[k]) || !isfinite(min[k]) || !isfinite(max[k])) return TW_ERR_INVALID;
    tw_status st = reserve(g, 24, 36);
    if (st != TW_OK) return st;
    float c[8][3];
    for (int k = 0; k < 8; k++) {
        c[k][0] = (k & 1) ? max[0] : min[0];
        c[k][1] = (k & 2) ? max[1] : min[1];
        c[k][2] = (k & 4) ? max[2] : min[2];
    }
    /* Corners of each face (in ring order) and the way it faces. */
    static const int faces[6][4] = { { 0, 2, 6, 4 }, { 1, 3, 7, 5 }, { 0, 1, 5, 4 },
                                     { 2, 3, 7, 6 }, { 0, 1, 3, 2 }, { 4, 5, 7, 6 } };
    static const float normals[6][3] = { { -1, 0, 0 }, { 1, 0, 0 }, { 0, -1, 0 },
                                         { 0, 1, 0 },  { 0, 0, -1 }, { 0, 0, 1 } };
    for (int f = 0; f < 6; f++) {
        float p[4][3];
        for (int k = 0; k < 4; k++) memcpy(p[k], c[faces[f][k]], sizeof p[k]);
        quad(g, p, normals[f]);
    }
    return TW_OK;
}

/* ---- ear clipping ---------------------------------------------------------- */

static double area2(const float a[2], const float b[2], const float c[2])
{
    return ((double)b[0] - a[0]) * ((double)c[1] - a[1]) - ((double)b[1] - a[1]) * ((double)c[0] - a[0]);
}

static int same_point(const float a[2], const float b[2]) { return a[0] == b[0] && a[1] == b[1]; }

static int inside_triangle(const float p[2], const float a[2], const float b[2], const float c[2])
{
    return area2(a, b, p) >= 0.0 && area2(b, c, p) >= 0.0 && area2(c, a, p) >= 0.0;
}

/* Triangulates the CCW polygon xy[idx[k]] (k < n) into out, four words per
 * triangle: three indices into xy and the mask of its sides that lie on the
 * polygon's outline (bit 0: first→second, 1: second→third, 2: third→first).
 * link[i] tells whether the ring's link from i to its current successor is
 * outline (all start so; a clipped ear leaves a diagonal). Returns the
 * triangle count, or -1 if the polygon is not simple. */
static int ear_clip(const float (*xy)[2], uint32_t *idx, uint32_t *link, uint32_t n, uint32_t *out, double eps)
{
    uint32_t m = n;
    int tris = 0;
    for (uint32_t k = 0; k < n; k++) link[idx[k]] = 1;
    while (m > 3) {
        int found = 0;
        for (uint32_t i = 0; i < m && !found; i++) {
            uint32_t a = idx[(i + m - 1) % m], b = idx[i], c = idx[(i + 1) % m];
            double ar = area2(xy[a], xy[b], xy[c]);
            if (fabs(ar) <= eps) {
                /* A collinear or repeated vertex adds no area: drop it; the
                 * merged link is outline if both parts were. */
                link[a] = link[a] && link[b];
                memmove(&idx[i], &idx[i + 1], (size_t)(m - i - 1) * sizeof *idx);
                m--;
                found = 1;
                break;
            }
            if (ar < 0.0) continue; /* reflex */
            int ear = 1;
            for (uint32_t k = 0; k < m && ear; k++) {
                uint32_t q = idx[k];
                if (q == a || q == b || q == c) continue;
                if (same_point(xy[q], xy[a]) || same_point(xy[q], xy[b]) || same_point(xy[q], xy[c])) continue;
                if (inside_triangle(xy[q], xy[a], xy[b], xy[c])) ear = 0;
            }
            if (!ear) continue;
            out[4 * tris + 0] = a;
            out[4 * tris + 1] = b;
            out[4 * tris + 2] = c;
            out[4 * tris + 3] = (link[a] ? 1u : 0u) | (link[b] ? 2u : 0u);
            tris++;
            link[a] = 0; /* a→c is a diagonal now */
            memmove(&idx[i], &idx[i + 1], (size_t)(m - i - 1) * sizeof *idx);
            m--;
            found = 1;
        }
        if (!found) return -1;
    }
    if (m == 3 && area2(xy[idx[0]], xy[idx[1]], xy[idx[2]]) > eps) {
        out[4 * tris + 0] = idx[0];
        out[4 * tris + 1] = idx[1];
        out[4 * tris + 2] = idx[2];
        out[4 * tris + 3] = (link[idx[0]] ? 1u : 0u) | (link[idx[1]] ? 2u : 0u) | (link[idx[2]] ? 4u : 0u);
        tris++;
    }
    return tris;
}

tw_status tw_render_geom_extrude(tw_render_geom *g, const float (*xy)[2], uint32_t count, float z0, float height)
{
    TW_CHECK(g && (xy || count == 0), "tw_render_geom_extrude needs a builder and the footprint points.");
    if (count < 3 || !(height > 0.0f) || !isfinite(z0) || !isfinite(height)) return TW_ERR_INVALID;
    double area = 0.0, scale = 0.0;
    for (uint32_t k = 0; k < count; k++) {
        const float *a = xy[k], *b = xy[(k + 1) % count];
        if (!isfinite(a[0]) || !isfinite(a[1])) return TW_ERR_INVALID;
        area += (double)a[0] * b[1] - (double)b[0] * a[1];
        scale = fmax(scale, fmax(fabs(a[0]), fabs(a[1])));
    }
    double eps = 1e-9 * (scale * scale + 1.0);
    if (fabs(area) <= eps) return TW_ERR_INVALID;

    /* Work space: the ring order (CCW), the outline links, the triangles. */
    tw_status st = scratch_reserve(g, (size_t)count * 6);
    if (st != TW_OK) return st;
    uint32_t *idx = g->scratch, *link = g->scratch + count, *tri = g->scratch + 2 * (size_t)count;
    for (uint32_t k = 0; k < count; k++) idx[k] = area > 0.0 ? k : count - 1 - k;
    int ntri = ear_clip(xy, idx, link, count, tri, eps);
    if (ntri <= 0) return TW_ERR_INVALID;

    st = reserve(g, 2 * 3 * (uint32_t)ntri + 4 * count, 2 * 3 * (uint32_t)ntri + 6 * count);
    if (st != TW_OK) return st;
    float z1 = z0 + height;
    static const float up[3] = { 0, 0, 1 }, down[3] = { 0, 0, -1 };
    for (int t = 0; t < ntri; t++) {
        uint8_t e[3][4];
        triangle_edges(tri[4 * t + 3], e);
        uint32_t base = g->vertex_count;
        for (int k = 0; k < 3; k++) {
            const float *p = xy[tri[4 * t + k]];
            float v[3] = { p[0], p[1], z1 };
            push_vertex(g, v, up, e[k]);
        }
        for (int k = 0; k < 3; k++) g->indices[g->index_count++] = base + (uint32_t)k;
        base = g->vertex_count;
        for (int k = 0; k < 3; k++) {
            const float *p = xy[tri[4 * t + k]];
            float v[3] = { p[0], p[1], z0 };
            push_vertex(g, v, down, e[k]);
        }
        /* Reversed, so the bottom faces down. */
        for (int k = 2; k >= 0; k--) g->indices[g->index_count++] = base + (uint32_t)k;
    }
    int ccw = area > 0.0;
    for (uint32_t k = 0; k < count; k++) {
        const float *a = xy[k], *b = xy[(k + 1) % count];
        if (same_point(a, b)) continue;
        /* Outward: right of the edge for a CCW ring, left for a CW one. */
        float dx = b[0] - a[0], dy = b[1] - a[1];
        float out[3] = { ccw ? dy : -dy, ccw ? -dx : dx, 0.0f };
        float p[4][3] = { { a[0], a[1], z0 }, { b[0], b[1], z0 }, { b[0], b[1], z1 }, { a[0], a[1], z1 } };
        quad(g, p, out);
    }
    return TW_OK;
}

/* ---- walls ------------------------------------------------------------------ */

/* A prism over the footprint quad (a_left, b_left, b_right, a_right) from
 * za to zb; d is the segment direction (for the end caps' facing). */
static void prism(tw_render_geom *g, const float al[2], const float bl[2], const float br[2], const float ar[2],
                  float za, float zb, const float d[2])
{
    const float *ring[4] = { al, bl, br, ar };
    float top[4][3], bot[4][3];
    for (int k = 0; k < 4; k++) {
        top[k][0] = bot[k][0] = ring[k][0];
        top[k][1] = bot[k][1] = ring[k][1];
        top[k][2] = zb;
        bot[k][2] = za;
    }
    static const float up[3] = { 0, 0, 1 }, down[3] = { 0, 0, -1 };
    quad(g, top, up);
    quad(g, bot, down);
    /* Sides: left (al→bl), end (bl→br), right (br→ar), start (ar→al). */
    float left[3] = { -d[1], d[0], 0 }, right[3] = { d[1], -d[0], 0 };
    float fwd[3] = { d[0], d[1], 0 }, back[3] = { -d[0], -d[1], 0 };
    const float *hints[4] = { left, fwd, right, back };
    for (int s = 0; s < 4; s++) {
        const float *p0 = ring[s], *p1 = ring[(s + 1) % 4];
        float q[4][3] = { { p0[0], p0[1], za }, { p1[0], p1[1], za }, { p1[0], p1[1], zb }, { p0[0], p0[1], zb } };
        quad(g, q, hints[s]);
    }
}

/* Left and right offset points of the wall at polyline vertex v, as seen
 * from segment seg's direction; mitred where two segments meet. */
static void joint(const float (*pts)[2], uint32_t n, int closed, uint32_t v, const float (*dirs)[2], uint32_t seg,
                  uint32_t nseg, float half, float left[2], float right[2])
{
    const float *nd = dirs[seg];
    float nl[2] = { -nd[1], nd[0] };
    int has_prev, has_next;
    uint32_t other;
    if (v == seg) { /* start of seg: joins the previous segment */
        has_prev = closed || seg > 0;
        other = seg > 0 ? seg - 1 : nseg - 1;
        has_next = 0;
    } else { /* end of seg: joins the next */
        has_prev = 0;
        has_next = closed || seg + 1 < nseg;
        other = seg + 1 < nseg ? seg + 1 : 0;
    }
    const float *p = pts[v % n];
    float m[2] = { nl[0], nl[1] }, len = half;
    if (has_prev || has_next) {
        const float *od = dirs[other];
        float ol[2] = { -od[1], od[0] };
        float sx = nl[0] + ol[0], sy = nl[1] + ol[1];
        float sl = sqrtf(sx * sx + sy * sy);
        if (sl > 1e-6f) {
            m[0] = sx / sl;
            m[1] = sy / sl;
            float c = m[0] * nl[0] + m[1] * nl[1];
            /* Very sharp corners would spike out: cap the mitre at 4x. */
            len = half / fmaxf(c, 0.25f);
        }
    }
    left[0] = p[0] + m[0] * len;
    left[1] = p[1] + m[1] * len;
    right[0] = p[0] - m[0] * len;
    right[1] = p[1] - m[1] * len;
}

enum { WALL_MAX_POINTS = 4096 };

tw_status tw_render_geom_wall(tw_render_geom *g, const tw_render_wall_desc *w)
{
    TW_CHECK(g && w, "tw_render_geom_wall needs a builder and a wall description.");
    TW_CHECK(w->opening_count == 0 || w->openings, "tw_render_geom_wall: %u openings but no opening array.",
             w->opening_count);
    uint32_t n = w->point_count;
    if (!w->points || n < 2 || (w->closed && n < 3) || n > WALL_MAX_POINTS || !(w->thickness > 0.0f) ||
        !(w->height > 0.0f) || !isfinite(w->z0))
        return TW_ERR_INVALID;
    uint32_t nseg = w->closed ? n : n - 1;
    float half = 0.5f * w->thickness;

    /* Segment directions and lengths; the scratch space holds them as floats. */
    tw_status sst = scratch_reserve(g, (size_t)nseg * 3 + 2 + 2 * (size_t)w->opening_count);
    if (sst != TW_OK) return sst;
    _Static_assert(sizeof(float) == sizeof(uint32_t), "scratch holds floats");
    float(*dirs)[2] = (float(*)[2])(void *)g->scratch;
    float *lens = (float *)(void *)(g->scratch + 2 * (size_t)nseg);
    float *cuts = lens + nseg;
    float total = 0.0f;
    for (uint32_t s = 0; s < nseg; s++) {
        const float *a = w->points[s], *b = w->points[(s + 1) % n];
        float dx = b[0] - a[0], dy = b[1] - a[1], l = sqrtf(dx * dx + dy * dy);
        if (!isfinite(l)) return TW_ERR_INVALID;
        lens[s] = l;
        dirs[s][0] = l > 0.0f ? dx / l : 1.0f;
        dirs[s][1] = l > 0.0f ? dy / l : 0.0f;
        total += l;
    }
    if (!(total > 0.0f)) return TW_ERR_INVALID;
    /* A zero-length segment has no direction of its own: borrow the next one's,
     * so mitres stay sensible. */
    for (uint32_t s = 0; s < nseg; s++)
        if (lens[s] == 0.0f)
            for (uint32_t k = 1; k < nseg; k++) {
                uint32_t o = (s + k) % nseg;
                if (lens[o] > 0.0f) {
                    dirs[s][0] = dirs[o][0];
                    dirs[s][1] = dirs[o][1];
                    break;
                }
            }

    float s0 = 0.0f;
    for (uint32_t s = 0; s < nseg; s++) {
        float s1 = s0 + lens[s];
        if (lens[s] <= 0.0f) continue;
        /* Cut positions inside this segment, sorted (insertion sort: few). */
        uint32_t nc = 0;
        cuts[nc++] = s0;
        cuts[nc++] = s1;
        for (uint32_t k = 0; k < w->opening_count; k++) {
            float e[2] = { w->openings[k].start, w->openings[k].end };
            for (int j = 0; j < 2; j++)
                if (e[j] > s0 && e[j] < s1) cuts[nc++] = e[j];
        }
        for (uint32_t i = 1; i < nc; i++)
            for (uint32_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                float t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        const float *pa = w->points[s];
        float al[2], ar[2], bl[2], br[2];
        joint(w->points, n, w->closed, s, (const float(*)[2])dirs, s, nseg, half, al, ar);
        joint(w->points, n, w->closed, s + 1, (const float(*)[2])dirs, s, nseg, half, bl, br);
        const float *d = dirs[s];

        /* Walk the pieces between cuts; each is solid, or holed with a sill
         * and a lintel left around its opening. */
        uint32_t i = 0;
        while (i + 1 < nc) {
            float u = cuts[i];
            float hole_lo = 0.0f, hole_hi = 0.0f;
            int holed = 0;
            float mid = 0.5f * (cuts[i] + cuts[i + 1]);
            for (uint32_t k = 0; k < w->opening_count; k++) {
                const tw_render_opening *o = &w->openings[k];
                if (!(mid > o->start && mid < o->end)) continue;
                float lo = fmaxf(o->bottom, 0.0f), hi = o->top > 0.0f ? fminf(o->top, w->height) : w->height;
                if (!(hi > lo)) continue;
                hole_lo = holed ? fminf(hole_lo, lo) : lo;
                hole_hi = holed ? fmaxf(hole_hi, hi) : hi;
                holed = 1;
            }
            uint32_t j = i + 1;
            if (cuts[j] - u <= 0.0f) {
                i = j;
                continue;
            }
            float v = cuts[j];
            /* Footprint corners at u and v: the joint's mitre at a segment
             * end, a square cut elsewhere. */
            float ul[2], ur[2], vl[2], vr[2];
            if (u <= s0) {
                memcpy(ul, al, sizeof ul);
                memcpy(ur, ar, sizeof ur);
            } else {
                float px = pa[0] + d[0] * (u - s0), py = pa[1] + d[1] * (u - s0);
                ul[0] = px - d[1] * half;
                ul[1] = py + d[0] * half;
                ur[0] = px + d[1] * half;
                ur[1] = py - d[0] * half;
            }
            if (v >= s1) {
                memcpy(vl, bl, sizeof vl);
                memcpy(vr, br, sizeof vr);
            } else {
                float px = pa[0] + d[0] * (v - s0), py = pa[1] + d[1] * (v - s0);
                vl[0] = px - d[1] * half;
                vl[1] = py + d[0] * half;
                vr[0] = px + d[1] * half;
                vr[1] = py - d[0] * half;
            }
            tw_status st = reserve(g, 2 * 24, 2 * 36);
            if (st != TW_OK) return st;
            float z0 = w->z0, z1 = w->z0 + w->height;
            if (!holed) {
                prism(g, ul, vl, vr, ur, z0, z1, d);
            } else {
                if (hole_lo > 0.0f) prism(g, ul, vl, vr, ur, z0, z0 + hole_lo, d);        /* sill */
                if (hole_hi < w->height) prism(g, ul, vl, vr, ur, z0 + hole_hi, z1, d);   /* lintel */
            }
            i = j;
        }
        s0 = s1;
    }
    return TW_OK;
}

/* ---- imported meshes: derived edges ---------------------------------------- */

typedef struct weld_item { float p[3]; uint32_t index; } weld_item;
typedef struct edge_item { uint32_t a, b, tri, side; } edge_item;

static int weld_cmp(const void *x, const void *y)
{
    const weld_item *a = x, *b = y;
    for (int k = 0; k < 3; k++)
        if (a->p[k] != b->p[k]) return a->p[k] < b->p[k] ? -1 : 1;
    return 0;
}

static int edge_cmp(const void *x, const void *y)
{
    const edge_item *a = x, *b = y;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    if (a->b != b->b) return a->b < b->b ? -1 : 1;
    return 0;
}

tw_status tw_render_geom_append(tw_render_geom *g, const tw_render_vertex *v, uint32_t vertex_count,
                                const uint32_t *indices, uint32_t index_count)
{
    TW_CHECK(g && (v || vertex_count == 0) && (indices || index_count == 0),
             "tw_render_geom_append needs a builder and the arrays it counts.");
    if (index_count % 3 != 0) return TW_ERR_INVALID;
    for (uint32_t k = 0; k < index_count; k++)
        if (indices[k] >= vertex_count) return TW_ERR_INVALID;
    if (index_count == 0) return TW_OK;
    uint32_t ntri = index_count / 3;

    /* Weld equal positions, so the triangles around an edge find each other
     * however the vertices were split for normals or texture seams. */
    weld_item *weld = tw_alloc(&g->alloc, (size_t)vertex_count * sizeof *weld);
    uint32_t *canon = tw_alloc(&g->alloc, (size_t)vertex_count * sizeof *canon);
    edge_item *edges = tw_alloc(&g->alloc, (size_t)index_count * sizeof *edges);
    float (*fn)[3] = tw_alloc(&g->alloc, (size_t)ntri * sizeof *fn);
    uint8_t *mask = tw_calloc(&g->alloc, ntri, 1);
    tw_status st = weld && canon && edges && fn && mask ? reserve(g, index_count, index_count) : TW_ERR_NOMEM;
    if (st == TW_OK) {
        for (uint32_t k = 0; k < vertex_count; k++) {
            memcpy(weld[k].p, v[k].position, sizeof weld[k].p);
            weld[k].index = k;
        }
        qsort(weld, vertex_count, sizeof *weld, weld_cmp);
        uint32_t id = 0;
        for (uint32_t k = 0; k < vertex_count; k++) {
            if (k > 0 && weld_cmp(&weld[k - 1], &weld[k]) != 0) id++;
            canon[weld[k].index] = id;
        }
        for (uint32_t t = 0; t < ntri; t++) {
            const float *p0 = v[indices[3 * t]].position, *p1 = v[indices[3 * t + 1]].position,
                        *p2 = v[indices[3 * t + 2]].position;
            float e1[3], e2[3];
            sub3(e1, p1, p0);
            sub3(e2, p2, p0);
            cross3(fn[t], e1, e2);
            float l = sqrtf(fn[t][0] * fn[t][0] + fn[t][1] * fn[t][1] + fn[t][2] * fn[t][2]);
            for (int c = 0; c < 3; c++) fn[t][c] = l > 0.0f ? fn[t][c] / l : 0.0f;
            for (uint32_t j = 0; j < 3; j++) {
                uint32_t a = canon[indices[3 * t + j]], b = canon[indices[3 * t + (j + 1) % 3]];
                edges[3 * t + j] = (edge_item){ a < b ? a : b, a < b ? b : a, t, j };
            }
        }
        qsort(edges, index_count, sizeof *edges, edge_cmp);
        /* An outline edge: an open border, a non-manifold edge, or a crease
         * sharper than 30 degrees. */
        const float cos30 = 0.8660254f;
        for (uint32_t k = 0; k < index_count;) {
            uint32_t e = k + 1;
            while (e < index_count && edges[e].a == edges[k].a && edges[e].b == edges[k].b) e++;
            int feature = 1;
            if (e - k == 2) {
                const float *n0 = fn[edges[k].tri], *n1 = fn[edges[k + 1].tri];
                feature = n0[0] * n1[0] + n0[1] * n1[1] + n0[2] * n1[2] < cos30;
            }
            if (feature)
                for (uint32_t q = k; q < e; q++) mask[edges[q].tri] |= (uint8_t)(1u << edges[q].side);
            k = e;
        }
        for (uint32_t t = 0; t < ntri; t++) {
            uint8_t ed[3][4];
            triangle_edges(mask[t], ed);
            uint32_t base = g->vertex_count;
            for (int k = 0; k < 3; k++) {
                const tw_render_vertex *src = &v[indices[3 * t + k]];
                push_vertex(g, src->position, src->normal, ed[k]);
            }
            for (uint32_t k = 0; k < 3; k++) g->indices[g->index_count++] = base + k;
        }
    }
    tw_free(&g->alloc, weld, (size_t)vertex_count * sizeof *weld);
    tw_free(&g->alloc, canon, (size_t)vertex_count * sizeof *canon);
    tw_free(&g->alloc, edges, (size_t)index_count * sizeof *edges);
    tw_free(&g->alloc, fn, (size_t)ntri * sizeof *fn);
    tw_free(&g->alloc, mask, ntri);
    return st;
}

void tw_render_geom_bounds(const tw_render_geom *g, float min[3], float max[3])
{
    TW_CHECK(g && min && max, "tw_render_geom_bounds needs a builder and two outputs.");
    if (g->vertex_count == 0) {
        memset(min, 0, 3 * sizeof(float));
        memset(max, 0, 3 * sizeof(float));
        return;
    }
    for (int c = 0; c < 3; c++) min[c] = max[c] = g->vertices[0].position[c];
    for (uint32_t k = 1; k < g->vertex_count; k++)
        for (int c = 0; c < 3; c++) {
            float p = g->vertices[k].position[c];
            if (p < min[c]) min[c] = p;
            if (p > max[c]) max[c] = p;
        }
}
