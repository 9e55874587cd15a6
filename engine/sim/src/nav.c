/* The walking graph: every Waypoint is a node; links are two-way (listed on
 * either side counts) and cost their plan distance; a portal joins landings
 * on two storeys at the cost of a stair trip. A waypoint whose door is
 * locked cannot be entered; a shut door that is not locked costs nothing
 * extra (whoever comes through opens it, agents.c). Door state is read when
 * a route is asked for, so locking a door needs no rebuild. The adjacency is
 * rebuilt only when the set of waypoints changes (a new part on a conveyor
 * does not count). */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

/* A stair trip between two landings, and what it costs a walker in metres
 * (at the default walking speed) when routes are compared. */
#define NAV_STAIR_TIME 20.0
#define NAV_WALK_SPEED 1.3

typedef struct nav_node {
    tw_entity e;
    tw_entity storey;
    tw_entity door;
    float pos[2];
} nav_node;

typedef struct nav_edge {
    int32_t to;
    float cost;
} nav_edge;

struct tw_sim_nav {
    nav_node *nodes;
    uint32_t node_count;
    uint32_t node_alloc;      /* size of the per-node arrays */
    uint32_t *edge_start;     /* node_count + 1 offsets into edges (CSR) */
    nav_edge *edges;
    uint32_t edge_count;
    int32_t *slot_node;       /* entity slot -> node, -1 */
    uint32_t slot_cap;
    /* Dijkstra scratch, sized to the node count */
    float *dist;
    int32_t *prev;
    int32_t *heap;
    int32_t *heap_pos;
    uint8_t *is_goal;
    uint64_t version;
    uint32_t generation;      /* bumped on every rebuild */
    tw_ecs_query q;
};

double tw_sim_nav_stair_time(void) { return NAV_STAIR_TIME; }

static void nav_clear(tw_sim *s, tw_sim_nav *n)
{
    uint32_t c = n->node_alloc;
    tw_free(&s->alloc, n->nodes, c * sizeof *n->nodes);
    tw_free(&s->alloc, n->edge_start, (c + 1) * sizeof *n->edge_start);
    tw_free(&s->alloc, n->edges, n->edge_count * sizeof *n->edges);
    tw_free(&s->alloc, n->slot_node, n->slot_cap * sizeof *n->slot_node);
    tw_free(&s->alloc, n->dist, c * sizeof *n->dist);
    tw_free(&s->alloc, n->prev, c * sizeof *n->prev);
    tw_free(&s->alloc, n->heap, c * sizeof *n->heap);
    tw_free(&s->alloc, n->heap_pos, c * sizeof *n->heap_pos);
    tw_free(&s->alloc, n->is_goal, c * sizeof *n->is_goal);
    n->nodes = NULL;
    n->edge_start = NULL;
    n->edges = NULL;
    n->slot_node = NULL;
    n->dist = NULL;
    n->prev = NULL;
    n->heap = NULL;
    n->heap_pos = NULL;
    n->is_goal = NULL;
    n->node_count = n->node_alloc = n->edge_count = n->slot_cap = 0;
}

int32_t tw_sim_nav_node(const tw_sim_nav *n, tw_entity e)
{
    uint32_t slot = tw_entity_index(e);
    if (tw_entity_is_null(e) || slot >= n->slot_cap) return TW_SIM_NAV_NONE;
    int32_t k = n->slot_node[slot];
    return k >= 0 && tw_entity_eq(n->nodes[k].e, e) ? k : TW_SIM_NAV_NONE;
}

uint32_t tw_sim_nav_node_count(const tw_sim_nav *n) { return n->node_count; }
uint32_t tw_sim_nav_generation(const tw_sim_nav *n) { return n->generation; }
tw_entity tw_sim_nav_node_entity(const tw_sim_nav *n, int32_t k) { return n->nodes[k].e; }
tw_entity tw_sim_nav_node_storey(const tw_sim_nav *n, int32_t k) { return n->nodes[k].storey; }
const float *tw_sim_nav_node_position(const tw_sim_nav *n, int32_t k) { return n->nodes[k].pos; }

int tw_sim_nav_node_passable(const tw_sim *s, const tw_sim_nav *n, int32_t k)
{
    tw_entity door = n->nodes[k].door;
    if (tw_entity_is_null(door)) return 1;
    const Door *d = tw_ecs_get(s->world, door, s->c.door);
    if (!d) return 1; /* the door is gone: nothing blocks the way */
    return !d->locked; /* shut is no obstacle: people and AGVs open doors */
}

static void path_of(const tw_sim *s, tw_entity e, char *buf, size_t size)
{
    if (tw_ecs_entity_path(s->world, e, buf, size) <= 0) snprintf(buf, size, "#%u", tw_entity_index(e));
}

typedef struct pair { int32_t a, b; float cost; } pair;

static int pair_cmp(const pair *x, const pair *y)
{
    if (x->a != y->a) return x->a < y->a ? -1 : 1;
    if (x->b != y->b) return x->b < y->b ? -1 : 1;
    return 0;
}

/* Sorts pairs (insertion into runs would be O(n^2) for big sites: a plain
 * merge sort, stable and allocation-free into a scratch array). */
static void pair_sort(pair *v, pair *tmp, uint32_t n)
{
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = pair_cmp(&v[j], &v[i]) < 0 ? v[j++] : v[i++];
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
}

static tw_status nav_build(tw_sim *s, tw_sim_nav *n, tw_diag *diag)
{
    tw_ecs_world *w = s->world;
    nav_clear(s, n);
    uint32_t count = tw_ecs_query_count(w, &n->q);
    uint32_t c = count ? count : 1;
    n->slot_cap = tw_ecs_entity_capacity(w);
    n->nodes = tw_calloc(&s->alloc, c, sizeof *n->nodes);
    n->edge_start = tw_calloc(&s->alloc, c + 1, sizeof *n->edge_start);
    n->slot_node = tw_calloc(&s->alloc, n->slot_cap ? n->slot_cap : 1, sizeof *n->slot_node);
    n->dist = tw_calloc(&s->alloc, c, sizeof *n->dist);
    n->prev = tw_calloc(&s->alloc, c, sizeof *n->prev);
    n->heap = tw_calloc(&s->alloc, c, sizeof *n->heap);
    n->heap_pos = tw_calloc(&s->alloc, c, sizeof *n->heap_pos);
    n->is_goal = tw_calloc(&s->alloc, c, sizeof *n->is_goal);
    n->node_alloc = c;
    n->slot_cap = n->slot_cap ? n->slot_cap : 1;
    if (!n->nodes || !n->edge_start || !n->slot_node || !n->dist || !n->prev || !n->heap || !n->heap_pos ||
        !n->is_goal)
        return TW_ERR_NOMEM;
    n->node_count = 0;
    for (uint32_t i = 0; i < n->slot_cap; i++) n->slot_node[i] = -1;

    tw_ecs_iter it = tw_ecs_query_iter(w, &n->q);
    while (tw_ecs_iter_next(&it)) {
        const Waypoint *wp = it.columns[0];
        for (uint32_t i = 0; i < it.count && n->node_count < count; i++) {
            nav_node *nd = &n->nodes[n->node_count];
            nd->e = it.entities[i];
            nd->storey = tw_ecs_entity_ancestor_of_kind(w, nd->e, TW_KIND_STOREY);
            nd->door = wp[i].door;
            const Transform *t = tw_ecs_get(w, nd->e, s->c.transform);
            if (t) {
                nd->pos[0] = t->position[0];
                nd->pos[1] = t->position[1];
            }
            n->slot_node[tw_entity_index(nd->e)] = (int32_t)n->node_count++;
        }
    }
    /* Gather links and portals as ordered pairs both ways, then dedupe. */
    pair *pairs = NULL, *tmp = NULL;
    size_t np = 0, cap = 0;
    tw_status st = TW_OK;
    char pa[TW_ECS_PATH_MAX], pb[TW_ECS_PATH_MAX];
    for (uint32_t k = 0; k < n->node_count && !st; k++) {
        const Waypoint *wp = tw_ecs_get(w, n->nodes[k].e, s->c.waypoint);
        uint32_t links = wp->link_count < TW_WAYPOINT_MAX_LINKS ? wp->link_count : TW_WAYPOINT_MAX_LINKS;
        for (uint32_t l = 0; l <= links; l++) {
            int portal = l == links;
            tw_entity other = portal ? wp->portal : wp->links[l];
            if (tw_entity_is_null(other)) continue;
            int32_t o = tw_sim_nav_node(n, other);
            if (o < 0) {
                path_of(s, n->nodes[k].e, pa, sizeof pa);
                path_of(s, other, pb, sizeof pb);
                tw_diag_set(diag, "waypoint %s has a %s to %s, which is not a waypoint", pa, portal ? "portal" : "link",
                            pb);
                st = TW_ERR_INVALID;
                break;
            }
            if (o == (int32_t)k) continue;
            float cost = portal ? (float)(NAV_STAIR_TIME * NAV_WALK_SPEED)
                                : (float)hypot(n->nodes[o].pos[0] - n->nodes[k].pos[0],
                                               n->nodes[o].pos[1] - n->nodes[k].pos[1]);
            if (tw_grow(&s->alloc, (void **)&pairs, &cap, np + 2, sizeof *pairs)) {
                st = TW_ERR_NOMEM;
                break;
            }
            pairs[np++] = (pair){ (int32_t)k, o, cost };
            pairs[np++] = (pair){ o, (int32_t)k, cost };
        }
    }
    if (!st && np) {
        tmp = tw_alloc(&s->alloc, np * sizeof *tmp);
        if (!tmp) st = TW_ERR_NOMEM;
    }
    if (!st) {
        pair_sort(pairs, tmp, (uint32_t)np);
        size_t m = 0;
        for (size_t i = 0; i < np; i++) {
            /* a pair listed twice keeps its cheaper cost (a portal beside a link) */
            if (m && pairs[m - 1].a == pairs[i].a && pairs[m - 1].b == pairs[i].b) {
                if (pairs[i].cost < pairs[m - 1].cost) pairs[m - 1].cost = pairs[i].cost;
                continue;
            }
            pairs[m++] = pairs[i];
        }
        n->edges = tw_alloc(&s->alloc, (m ? m : 1) * sizeof *n->edges);
        if (!n->edges) st = TW_ERR_NOMEM;
        else {
            n->edge_count = (uint32_t)(m ? m : 1);
            for (size_t i = 0; i < m; i++) {
                n->edges[i] = (nav_edge){ pairs[i].b, pairs[i].cost };
                n->edge_start[pairs[i].a + 1]++;
            }
            for (uint32_t k = 0; k < n->node_count; k++) n->edge_start[k + 1] += n->edge_start[k];
        }
    }
    tw_free(&s->alloc, pairs, cap * sizeof *pairs);
    tw_free(&s->alloc, tmp, np * sizeof *tmp);
    n->version = tw_ecs_world_structure_version(w);
    n->generation++;
    return st;
}

tw_status tw_sim_nav_new(tw_sim *s, tw_sim_nav **out, tw_diag *diag)
{
    tw_sim_nav *n = tw_calloc(&s->alloc, 1, sizeof *n);
    if (!n) return TW_ERR_NOMEM;
    *out = n;
    tw_status st = tw_ecs_query_init(s->world, &n->q, &(tw_ecs_query_desc){ .with = { s->c.waypoint } });
    if (st) return st;
    return nav_build(s, n, diag);
}

void tw_sim_nav_free(tw_sim *s, tw_sim_nav *n)
{
    if (!n) return;
    nav_clear(s, n);
    tw_ecs_query_fini(&n->q);
    tw_free(&s->alloc, n, sizeof *n);
}

tw_status tw_sim_nav_refresh(tw_sim *s, tw_sim_nav *n, tw_diag *diag)
{
    uint64_t v = tw_ecs_world_structure_version(s->world);
    if (v == n->version) return TW_OK;
    /* Same waypoints in the same order: nothing to do. */
    uint32_t count = tw_ecs_query_count(s->world, &n->q), k = 0;
    int same = count == n->node_count && tw_ecs_entity_capacity(s->world) <= n->slot_cap;
    if (same) {
        tw_ecs_iter it = tw_ecs_query_iter(s->world, &n->q);
        while (same && tw_ecs_iter_next(&it))
            for (uint32_t i = 0; i < it.count && same; i++, k++)
                same = k < n->node_count && tw_entity_eq(n->nodes[k].e, it.entities[i]);
    }
    if (same) {
        n->version = v;
        return TW_OK;
    }
    return nav_build(s, n, diag);
}

/* ---- Dijkstra ---------------------------------------------------------- */

static void heap_swap(tw_sim_nav *n, uint32_t i, uint32_t j)
{
    int32_t a = n->heap[i], b = n->heap[j];
    n->heap[i] = b;
    n->heap[j] = a;
    n->heap_pos[b] = (int32_t)i;
    n->heap_pos[a] = (int32_t)j;
}

/* Ties break on node index so equal-cost routes are chosen the same way every run. */
static int heap_less(const tw_sim_nav *n, int32_t a, int32_t b)
{
    return n->dist[a] < n->dist[b] || (n->dist[a] == n->dist[b] && a < b);
}

static void heap_up(tw_sim_nav *n, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heap_less(n, n->heap[i], n->heap[parent])) break;
        heap_swap(n, i, parent);
        i = parent;
    }
}

static void heap_down(tw_sim_nav *n, uint32_t i, uint32_t size)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < size && heap_less(n, n->heap[l], n->heap[m])) m = l;
        if (r < size && heap_less(n, n->heap[r], n->heap[m])) m = r;
        if (m == i) break;
        heap_swap(n, i, m);
        i = m;
    }
}

int32_t tw_sim_nav_route(tw_sim *s, tw_sim_nav *n, int32_t from, const int32_t *goals, uint32_t goal_count,
                         tw_entity *path, uint32_t path_max, int32_t *reached)
{
    if (from < 0 || (uint32_t)from >= n->node_count || goal_count == 0) return -1;
    uint32_t N = n->node_count;
    for (uint32_t i = 0; i < N; i++) {
        n->dist[i] = INFINITY;
        n->prev[i] = -1;
        n->heap_pos[i] = -1;
        n->is_goal[i] = 0;
    }
    uint32_t live_goals = 0;
    for (uint32_t g = 0; g < goal_count; g++)
        if (goals[g] >= 0 && (uint32_t)goals[g] < N && !n->is_goal[goals[g]]) {
            n->is_goal[goals[g]] = 1;
            live_goals++;
        }
    if (!live_goals) return -1;
    uint32_t size = 0;
    n->dist[from] = 0;
    n->heap[size] = from;
    n->heap_pos[from] = (int32_t)size++;
    int32_t found = -1;
    while (size) {
        int32_t u = n->heap[0];
        heap_swap(n, 0, size - 1);
        size--;
        n->heap_pos[u] = -2; /* settled */
        heap_down(n, 0, size);
        if (n->is_goal[u]) {
            found = u;
            break;
        }
        for (uint32_t e = n->edge_start[u]; e < n->edge_start[u + 1]; e++) {
            int32_t v = n->edges[e].to;
            if (n->heap_pos[v] == -2) continue;
            /* The agent may leave the node it stands on, but enters no node behind a locked door. */
            if (!tw_sim_nav_node_passable(s, n, v)) continue;
            float d = n->dist[u] + n->edges[e].cost;
            if (d < n->dist[v]) {
                n->dist[v] = d;
                n->prev[v] = u;
                if (n->heap_pos[v] < 0) {
                    n->heap[size] = v;
                    n->heap_pos[v] = (int32_t)size++;
                }
                heap_up(n, (uint32_t)n->heap_pos[v]);
            }
        }
    }
    if (found < 0) return -1;
    if (reached) *reached = found;
    /* Count the hops, then write the first path_max of them in order. */
    uint32_t hops = 0;
    for (int32_t v = found; v != from; v = n->prev[v]) hops++;
    uint32_t k = hops;
    for (int32_t v = found; v != from; v = n->prev[v]) {
        k--;
        if (k < path_max) path[k] = n->nodes[v].e; /* keep the first path_max hops */
    }
    return (int32_t)(hops < path_max ? hops : path_max);
}
