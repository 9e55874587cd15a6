/* People and AGVs: daily plans, routing over the walking graph, steering,
 * opening the doors on their way, arrivals, trip statistics and room
 * occupancy.
 *
 * Everything an agent does follows from its components, the seed and the
 * time: a person's plan for a day is drawn afresh from its own random stream
 * (seed, day, entity slot) whenever needed, and what the plan asks for now is
 * compared with Agent.goal once a simulated second. So the state that a
 * keyframe captures (Agent, Body) is all there is, and adding one agent does
 * not change anyone else's day.
 *
 * Per tick the work is a loop over walking agents (steer, check arrival); the
 * plan check runs once a second per agent, staggered by slot; occupancy once
 * a second through a per-storey grid of room indices built at start. At night,
 * with everyone outside, a tick is a loop over a few dozen records.
 *
 * An Evacuation (a site component) overrides every person's plan while its
 * alarm is set: out by the nearest exit, nobody in; its state and figures are
 * in the component, like everything else. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

#define AG_REACH 0.4            /* m: a waypoint is reached this close */
#define AG_SLOW_RADIUS 1.2      /* m: slow down this close to the final goal */
#define AG_MIN_SPEED 0.25       /* m/s while closing in on a goal */
#define AG_NEIGHBOUR 1.2        /* m: others closer than this push a walker aside */
#define AG_RETRY 5              /* s between route attempts while blocked */
#define AG_DOOR_AHEAD 1.5f      /* m: a walker opens (and holds) a door on its path this close */
#define AG_DWELL 10.0           /* s an AGV stays at each stop */
#define AG_PLAN_SD 0.25         /* h: spread of arrival and departure (15 min) */
#define AG_MAX_SLOTS 10         /* lunch and meetings a day */
#define SEP_BUCKETS 256         /* separation hash grid (power of two) */
#define OCC_CELL 0.25f          /* m: occupancy grid resolution */
#define OCC_MAX_CELLS (1u << 20)

typedef struct plan_slot {
    float start, end;           /* h of day */
    int32_t node;
} plan_slot;

typedef struct agent_plan {
    int64_t day;                /* the day it was drawn for; INT64_MIN: none */
    /* The Agent parameters it was drawn from: a command that changes them
     * mid-day redraws the plan at once, as a seek (which draws plans afresh
     * in the restored world) would. */
    float arrive_hour, leave_hour;
    uint32_t meetings;
    float arrive, leave;        /* h of day */
    int32_t entrance;           /* node */
    uint32_t slot_count;
    plan_slot slots[AG_MAX_SLOTS];
} agent_plan;

typedef struct agent_rec {
    tw_entity e;
    Agent *a;
    Body *b;
    agent_plan plan;
    int32_t storey_grid;        /* occupancy grid of Agent.storey, cached with storey_seen */
    tw_entity storey_seen;
} agent_rec;

typedef struct occ_grid {
    tw_entity storey;
    float origin[2];            /* min corner of the rooms */
    float hi[2];                /* max corner */
    float cell;
    uint32_t w, h;
    int32_t *cells;             /* space index + 1, 0: none */
} occ_grid;

struct tw_sim_agents {
    tw_sim_nav *nav;
    agent_rec *recs;
    size_t count, cap;
    uint64_t version;
    tw_ecs_query q_agent, q_space, q_mobility, q_evacuation;
    Mobility *mobility;
    Evacuation *evacuation;     /* the first in the world, or NULL */
    /* nodes by role; fire_exits are the exit waypoints an evacuation heads for */
    int32_t *entry_low, *exits, *meetings, *kitchens, *fire_exits;
    uint32_t n_entry_low, n_exits, n_meetings, n_kitchens, n_fire_exits;
    size_t role_cap;
    /* rooms */
    tw_entity *spaces;
    Space **space_data;
    float *space_count_now;
    size_t space_n, space_cap;
    occ_grid *grids;
    uint32_t grid_n;
    /* separation grid, rebuilt each tick there is a walker */
    int32_t head[SEP_BUCKETS];
    int32_t *next;
    size_t next_cap;
    uint32_t period;            /* ticks per simulated second */
    uint32_t nav_generation;    /* of the graph the role lists were made from */
};

static uint32_t hash_cell(int32_t cx, int32_t cy, uint32_t storey)
{
    uint32_t h = (uint32_t)cx * 73856093u ^ (uint32_t)cy * 19349663u ^ storey * 83492791u;
    return h & (SEP_BUCKETS - 1);
}

static void path_of(const tw_sim *s, tw_entity e, char *buf, size_t n)
{
    if (tw_ecs_entity_path(s->world, e, buf, n) <= 0) snprintf(buf, n, "#%u", tw_entity_index(e));
}

/* ---- caches rebuilt after structural changes ----------------------------- */

static tw_status roles_build(tw_sim *s)
{
    tw_sim_agents *ag = s->agents;
    tw_sim_nav *nav = ag->nav;
    uint32_t n = tw_sim_nav_node_count(nav);
    size_t need = n ? n : 1;
    if (need > ag->role_cap) {
        int32_t **arrs[5] = { &ag->entry_low, &ag->exits, &ag->meetings, &ag->kitchens, &ag->fire_exits };
        for (int i = 0; i < 5; i++) {
            int32_t *p = tw_realloc(&s->alloc, *arrs[i], ag->role_cap * sizeof(int32_t), need * sizeof(int32_t));
            if (!p) return TW_ERR_NOMEM; /* the others keep their old size: role_cap stays valid for them */
            *arrs[i] = p;
        }
        ag->role_cap = need;
    }
    ag->n_entry_low = ag->n_exits = ag->n_meetings = ag->n_kitchens = ag->n_fire_exits = 0;
    /* The lowest storey that has an entrance is where people come in. */
    float low = INFINITY;
    for (uint32_t pass = 0; pass < 2; pass++)
        for (uint32_t k = 0; k < n; k++) {
            const Waypoint *wp = tw_ecs_get(s->world, tw_sim_nav_node_entity(nav, (int32_t)k), s->c.waypoint);
            int entrance = wp->exit || wp->role == TW_WAYPOINT_ENTRANCE;
            const Storey *st = tw_ecs_get(s->world, tw_sim_nav_node_storey(nav, (int32_t)k), s->c.storey);
            float el = st ? st->elevation : 0.0f;
            if (pass == 0) {
                if (entrance && el < low) low = el;
                continue;
            }
            if (entrance) {
                ag->exits[ag->n_exits++] = (int32_t)k;
                if (el == low) ag->entry_low[ag->n_entry_low++] = (int32_t)k;
            }
            if (wp->exit) ag->fire_exits[ag->n_fire_exits++] = (int32_t)k;
            if (wp->role == TW_WAYPOINT_MEETING) ag->meetings[ag->n_meetings++] = (int32_t)k;
            if (wp->role == TW_WAYPOINT_KITCHEN) ag->kitchens[ag->n_kitchens++] = (int32_t)k;
        }
    return TW_OK;
}

static int point_in_poly(const float (*pts)[2], uint32_t n, float x, float y)
{
    int in = 0;
    for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
        if ((pts[i][1] > y) != (pts[j][1] > y) &&
            x < (pts[j][0] - pts[i][0]) * (y - pts[i][1]) / (pts[j][1] - pts[i][1]) + pts[i][0])
            in = !in;
    }
    return in;
}

/* A room's footprint as a polygon: its extrusion, or its box. */
static uint32_t space_footprint(const tw_sim *s, tw_entity e, float (*pts)[2])
{
    const Shape *sh = tw_ecs_get(s->world, e, s->c.shape);
    if (!sh) return 0;
    if (sh->kind == TW_SHAPE_EXTRUSION && sh->point_count >= 3 && sh->point_count <= TW_SHAPE_MAX_POINTS) {
        memcpy(pts, sh->points, sh->point_count * sizeof *pts);
        return sh->point_count;
    }
    if (sh->kind == TW_SHAPE_BOX) {
        const Transform *t = tw_ecs_get(s->world, e, s->c.transform);
        float cx = t ? t->position[0] : 0, cy = t ? t->position[1] : 0;
        float hx = sh->size[0] * 0.5f, hy = sh->size[1] * 0.5f;
        float box[4][2] = { { cx - hx, cy - hy }, { cx + hx, cy - hy }, { cx + hx, cy + hy }, { cx - hx, cy + hy } };
        memcpy(pts, box, sizeof box);
        return 4;
    }
    return 0;
}

static int32_t grid_of(const tw_sim_agents *ag, tw_entity storey)
{
    for (uint32_t g = 0; g < ag->grid_n; g++)
        if (tw_entity_eq(ag->grids[g].storey, storey)) return (int32_t)g;
    return -1;
}

static void grids_free(tw_sim *s)
{
    tw_sim_agents *ag = s->agents;
    for (uint32_t i = 0; i < ag->grid_n; i++)
        tw_free(&s->alloc, ag->grids[i].cells, (size_t)ag->grids[i].w * ag->grids[i].h * sizeof(int32_t));
    tw_free(&s->alloc, ag->grids, ag->grid_n * sizeof *ag->grids);
    ag->grids = NULL;
    ag->grid_n = 0;
}

static void poly_bounds(const float (*pts)[2], uint32_t n, float lo[2], float hi[2])
{
    lo[0] = lo[1] = INFINITY;
    hi[0] = hi[1] = -INFINITY;
    for (uint32_t k = 0; k < n; k++)
        for (int d = 0; d < 2; d++) {
            if (pts[k][d] < lo[d]) lo[d] = pts[k][d];
            if (pts[k][d] > hi[d]) hi[d] = pts[k][d];
        }
}

/* One grid per storey holding, for each cell, the room whose footprint
 * contains the cell's centre: locating an agent is then one array read. */
static tw_status grids_build(tw_sim *s)
{
    tw_sim_agents *ag = s->agents;
    grids_free(s);
    float pts[TW_SHAPE_MAX_POINTS][2], lo[2], hi[2];
    /* the storeys that have rooms, and the bounds of their rooms */
    for (size_t i = 0; i < ag->space_n; i++) {
        tw_entity st = tw_ecs_entity_ancestor_of_kind(s->world, ag->spaces[i], TW_KIND_STOREY);
        uint32_t n = space_footprint(s, ag->spaces[i], pts);
        if (tw_entity_is_null(st) || !n) continue;
        poly_bounds((const float(*)[2])pts, n, lo, hi);
        uint32_t g = 0;
        while (g < ag->grid_n && !tw_entity_eq(ag->grids[g].storey, st)) g++;
        if (g == ag->grid_n) {
            occ_grid *ng = tw_realloc(&s->alloc, ag->grids, g * sizeof *ng, (g + 1) * sizeof *ng);
            if (!ng) return TW_ERR_NOMEM;
            ag->grids = ng;
            ag->grid_n++;
            ng[g] = (occ_grid){ .storey = st, .origin = { lo[0], lo[1] }, .hi = { hi[0], hi[1] } };
        }
        occ_grid *gr = &ag->grids[g];
        for (int d = 0; d < 2; d++) {
            if (lo[d] < gr->origin[d]) gr->origin[d] = lo[d];
            if (hi[d] > gr->hi[d]) gr->hi[d] = hi[d];
        }
    }
    for (uint32_t g = 0; g < ag->grid_n; g++) {
        occ_grid *gr = &ag->grids[g];
        float cell = OCC_CELL, wx = gr->hi[0] - gr->origin[0], wy = gr->hi[1] - gr->origin[1];
        while (((double)wx / cell + 1) * ((double)wy / cell + 1) > OCC_MAX_CELLS) cell *= 2;
        gr->cell = cell;
        gr->w = (uint32_t)ceilf(wx / cell) + 1;
        gr->h = (uint32_t)ceilf(wy / cell) + 1;
        gr->cells = tw_calloc(&s->alloc, (size_t)gr->w * gr->h, sizeof(int32_t));
        if (!gr->cells) {
            gr->w = gr->h = 0;
            return TW_ERR_NOMEM;
        }
    }
    /* rasterise each room over its own bounds; the first room claims a cell */
    for (size_t i = 0; i < ag->space_n; i++) {
        tw_entity st = tw_ecs_entity_ancestor_of_kind(s->world, ag->spaces[i], TW_KIND_STOREY);
        uint32_t n = space_footprint(s, ag->spaces[i], pts);
        int32_t g = tw_entity_is_null(st) || !n ? -1 : grid_of(ag, st);
        if (g < 0) continue;
        occ_grid *gr = &ag->grids[g];
        poly_bounds((const float(*)[2])pts, n, lo, hi);
        uint32_t x0 = (uint32_t)((lo[0] - gr->origin[0]) / gr->cell), y0 = (uint32_t)((lo[1] - gr->origin[1]) / gr->cell);
        uint32_t x1 = (uint32_t)((hi[0] - gr->origin[0]) / gr->cell), y1 = (uint32_t)((hi[1] - gr->origin[1]) / gr->cell);
        for (uint32_t y = y0; y <= y1 && y < gr->h; y++)
            for (uint32_t x = x0; x <= x1 && x < gr->w; x++) {
                int32_t *c = &gr->cells[(size_t)y * gr->w + x];
                if (*c) continue;
                float px = gr->origin[0] + (x + 0.5f) * gr->cell, py = gr->origin[1] + (y + 0.5f) * gr->cell;
                if (point_in_poly((const float(*)[2])pts, n, px, py)) *c = (int32_t)i + 1;
            }
    }
    return TW_OK;
}

/* Rooms: rebuild the grids only when the set of rooms changed. */
static tw_status spaces_refresh(tw_sim *s, int force)
{
    tw_sim_agents *ag = s->agents;
    uint32_t n = tw_ecs_query_count(s->world, &ag->q_space);
    int same = !force && n == ag->space_n;
    size_t k = 0;
    if (n > ag->space_cap) {
        size_t cap = n;
        tw_entity *e = tw_realloc(&s->alloc, ag->spaces, ag->space_cap * sizeof *e, cap * sizeof *e);
        if (e) ag->spaces = e;
        Space **d = tw_realloc(&s->alloc, ag->space_data, ag->space_cap * sizeof *d, cap * sizeof *d);
        if (d) ag->space_data = d;
        float *c = tw_realloc(&s->alloc, ag->space_count_now, ag->space_cap * sizeof *c, cap * sizeof *c);
        if (c) ag->space_count_now = c;
        if (!e || !d || !c) return TW_ERR_NOMEM;
        ag->space_cap = cap;
    }
    tw_ecs_iter it = tw_ecs_query_iter(s->world, &ag->q_space);
    while (tw_ecs_iter_next(&it)) {
        Space *sp = it.columns[0];
        for (uint32_t i = 0; i < it.count && k < n; i++, k++) {
            if (same && !tw_entity_eq(ag->spaces[k], it.entities[i])) same = 0;
            ag->spaces[k] = it.entities[i];
            ag->space_data[k] = &sp[i];
        }
    }
    ag->space_n = k;
    return same ? TW_OK : grids_build(s);
}

static tw_status recs_refresh(tw_sim *s)
{
    tw_sim_agents *ag = s->agents;
    uint32_t n = tw_ecs_query_count(s->world, &ag->q_agent);
    if (n > ag->cap) {
        agent_rec *r = tw_realloc(&s->alloc, ag->recs, ag->cap * sizeof *r, n * sizeof *r);
        if (!r) return TW_ERR_NOMEM;
        ag->recs = r;
        ag->cap = n;
    }
    size_t k = 0;
    tw_ecs_iter it = tw_ecs_query_iter(s->world, &ag->q_agent);
    while (tw_ecs_iter_next(&it)) {
        Agent *a = it.columns[0];
        Body *b = it.columns[1];
        for (uint32_t i = 0; i < it.count && k < n; i++, k++) {
            agent_rec *r = &ag->recs[k];
            /* a plan is a pure function of (seed, day, slot): drop it, it is redrawn when needed */
            *r = (agent_rec){ .e = it.entities[i], .a = &a[i], .b = &b[i], .storey_grid = -1 };
            r->plan.day = INT64_MIN;
        }
    }
    ag->count = k;
    size_t need = k ? k : 1;
    if (need > ag->next_cap) {
        int32_t *nx = tw_realloc(&s->alloc, ag->next, ag->next_cap * sizeof *nx, need * sizeof *nx);
        if (!nx) return TW_ERR_NOMEM;
        ag->next = nx;
        ag->next_cap = need;
    }
    ag->mobility = NULL;
    it = tw_ecs_query_iter(s->world, &ag->q_mobility);
    while (tw_ecs_iter_next(&it))
        if (!ag->mobility && it.count) ag->mobility = it.columns[0];
    ag->evacuation = NULL;
    it = tw_ecs_query_iter(s->world, &ag->q_evacuation);
    while (tw_ecs_iter_next(&it))
        if (!ag->evacuation && it.count) ag->evacuation = it.columns[0];
    return TW_OK;
}

static tw_status refresh(tw_sim *s, tw_diag *diag)
{
    tw_sim_agents *ag = s->agents;
    uint64_t v = tw_ecs_world_structure_version(s->world);
    if (v == ag->version) return TW_OK;
    tw_status st;
    if ((st = tw_sim_nav_refresh(s, ag->nav, diag))) return st;
    if (tw_sim_nav_generation(ag->nav) != ag->nav_generation) {
        if ((st = roles_build(s))) return st;
        ag->nav_generation = tw_sim_nav_generation(ag->nav);
    }
    if ((st = spaces_refresh(s, 0)) || (st = recs_refresh(s))) return st;
    ag->version = v;
    return TW_OK;
}

/* ---- lifecycle ------------------------------------------------------------ */

static tw_status validate(tw_sim *s, tw_diag *diag)
{
    tw_sim_agents *ag = s->agents;
    char pa[TW_ECS_PATH_MAX], pb[TW_ECS_PATH_MAX];
    for (size_t i = 0; i < ag->count; i++) {
        const Agent *a = ag->recs[i].a;
        tw_entity bad = TW_ENTITY_NULL;
        const char *what = "home";
        if (!tw_entity_is_null(a->home) && tw_sim_nav_node(ag->nav, a->home) < 0) bad = a->home;
        for (uint32_t k = 0; k < a->route_length && k < TW_AGENT_MAX_ROUTE && tw_entity_is_null(bad); k++)
            if (tw_sim_nav_node(ag->nav, a->route[k]) < 0) {
                bad = a->route[k];
                what = "route stop";
            }
        if (a->route_length > TW_AGENT_MAX_ROUTE) {
            path_of(s, ag->recs[i].e, pa, sizeof pa);
            tw_diag_set(diag, "agent %s has route_length %u, more than the %d stops a route holds", pa,
                        a->route_length, TW_AGENT_MAX_ROUTE);
            return TW_ERR_INVALID;
        }
        if (!tw_entity_is_null(bad)) {
            path_of(s, ag->recs[i].e, pa, sizeof pa);
            path_of(s, bad, pb, sizeof pb);
            tw_diag_set(diag, "agent %s has %s %s, which is not a waypoint", pa, what, pb);
            return TW_ERR_INVALID;
        }
    }
    return TW_OK;
}

tw_status tw_sim_agents_new(tw_sim *s, tw_diag *diag)
{
    tw_sim_agents *ag = tw_calloc(&s->alloc, 1, sizeof *ag);
    if (!ag) return TW_ERR_NOMEM;
    s->agents = ag;
    double per = 1.0 / s->dt;
    ag->period = per < 1.5 ? 1u : (uint32_t)lround(per);
    tw_status st;
    if ((st = tw_ecs_query_init(s->world, &ag->q_agent, &(tw_ecs_query_desc){ .with = { s->c.agent, s->c.body } })) ||
        (st = tw_ecs_query_init(s->world, &ag->q_space, &(tw_ecs_query_desc){ .with = { s->c.space } })) ||
        (st = tw_ecs_query_init(s->world, &ag->q_mobility, &(tw_ecs_query_desc){ .with = { s->c.mobility } })) ||
        (st = tw_ecs_query_init(s->world, &ag->q_evacuation, &(tw_ecs_query_desc){ .with = { s->c.evacuation } })) ||
        (st = tw_sim_nav_new(s, &ag->nav, diag)) || (st = roles_build(s)) || (st = spaces_refresh(s, 1)) ||
        (st = recs_refresh(s)))
        return st;
    ag->nav_generation = tw_sim_nav_generation(ag->nav);
    ag->version = tw_ecs_world_structure_version(s->world);
    return validate(s, diag);
}

void tw_sim_agents_free(tw_sim *s)
{
    tw_sim_agents *ag = s->agents;
    if (!ag) return;
    if (ag->nav) tw_sim_nav_free(s, ag->nav);
    grids_free(s);
    tw_free(&s->alloc, ag->recs, ag->cap * sizeof *ag->recs);
    tw_free(&s->alloc, ag->entry_low, ag->role_cap * sizeof(int32_t));
    tw_free(&s->alloc, ag->exits, ag->role_cap * sizeof(int32_t));
    tw_free(&s->alloc, ag->meetings, ag->role_cap * sizeof(int32_t));
    tw_free(&s->alloc, ag->kitchens, ag->role_cap * sizeof(int32_t));
    tw_free(&s->alloc, ag->fire_exits, ag->role_cap * sizeof(int32_t));
    tw_free(&s->alloc, ag->spaces, ag->space_cap * sizeof *ag->spaces);
    tw_free(&s->alloc, ag->space_data, ag->space_cap * sizeof *ag->space_data);
    tw_free(&s->alloc, ag->space_count_now, ag->space_cap * sizeof *ag->space_count_now);
    tw_free(&s->alloc, ag->next, ag->next_cap * sizeof *ag->next);
    tw_ecs_query_fini(&ag->q_agent);
    tw_ecs_query_fini(&ag->q_space);
    tw_ecs_query_fini(&ag->q_mobility);
    tw_ecs_query_fini(&ag->q_evacuation);
    tw_free(&s->alloc, ag, sizeof *ag);
    s->agents = NULL;
}

/* ---- plans -------------------------------------------------------------- */

static int64_t day_of(const tw_sim *s)
{
    return (int64_t)floor((s->start_time + tw_sim_now(s)) / 86400.0);
}

/* A person's day, drawn from its own stream so nobody else's draws move it. */
static void plan_draw(tw_sim *s, agent_rec *r, int64_t day)
{
    tw_sim_agents *ag = s->agents;
    const Agent *a = r->a;
    agent_plan *p = &r->plan;
    tw_rng rng;
    tw_rng_seed(&rng, s->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(day + 1)), tw_entity_index(r->e));
    memset(p, 0, sizeof *p);
    p->day = day;
    p->arrive_hour = a->arrive_hour;
    p->leave_hour = a->leave_hour;
    p->meetings = a->meetings;
    double arrive = tw_rng_normal(&rng, a->arrive_hour, AG_PLAN_SD);
    double leave = tw_rng_normal(&rng, a->leave_hour, AG_PLAN_SD);
    if (arrive < 0) arrive = 0;
    if (arrive > 22.5) arrive = 22.5;
    if (leave < arrive + 1.0) leave = arrive + 1.0;
    if (leave > 23.9) leave = 23.9;
    p->arrive = (float)arrive;
    p->leave = (float)leave;
    p->entrance = ag->n_entry_low ? ag->entry_low[tw_rng_below(&rng, ag->n_entry_low)] : -1;
    /* lunch some time from 12:00, over by 13:30 */
    double lunch = tw_rng_range(&rng, 12.0, 13.0);
    uint32_t kitchen = tw_rng_below(&rng, ag->n_kitchens);
    if (ag->n_kitchens && lunch >= arrive && lunch + 0.5 <= leave)
        p->slots[p->slot_count++] = (plan_slot){ (float)lunch, (float)(lunch + 0.5), ag->kitchens[kitchen] };
    uint32_t m = a->meetings < AG_MAX_SLOTS - 1 ? a->meetings : AG_MAX_SLOTS - 1;
    for (uint32_t i = 0; i < m; i++) {
        double start = tw_rng_range(&rng, arrive + 0.25, leave - 1.0);
        double dur = tw_rng_range(&rng, 0.5, 1.0);
        uint32_t room = tw_rng_below(&rng, ag->n_meetings);
        if (ag->n_meetings && leave - 1.0 > arrive + 0.25)
            p->slots[p->slot_count++] = (plan_slot){ (float)start, (float)(start + dur), ag->meetings[room] };
    }
}

/* Where the plan wants a person at hour h: a node, or -2 for "out of the building". */
#define PLAN_OUT (-2)
static int32_t plan_want(tw_sim *s, agent_rec *r, double h)
{
    int64_t day = day_of(s);
    const Agent *a = r->a;
    if (r->plan.day != day || r->plan.arrive_hour != a->arrive_hour || r->plan.leave_hour != a->leave_hour ||
        r->plan.meetings != a->meetings)
        plan_draw(s, r, day);
    const agent_plan *p = &r->plan;
    if (h < p->arrive || h >= p->leave) return PLAN_OUT;
    /* the latest-starting slot under way wins (a meeting called over lunch) */
    int32_t node = -1;
    float best = -1;
    for (uint32_t i = 0; i < p->slot_count; i++)
        if (h >= p->slots[i].start && h < p->slots[i].end && p->slots[i].start > best) {
            best = p->slots[i].start;
            node = p->slots[i].node;
        }
    if (node >= 0) return node;
    int32_t home = tw_sim_nav_node(s->agents->nav, r->a->home);
    return home >= 0 ? home : p->entrance;
}

/* ---- doors ---------------------------------------------------------------- */

/* The door a waypoint passes through, or NULL. */
static Door *door_at(const tw_sim *s, tw_entity waypoint)
{
    const Waypoint *wp = tw_ecs_get(s->world, waypoint, s->c.waypoint);
    if (!wp || tw_entity_is_null(wp->door)) return NULL;
    return tw_ecs_get(s->world, wp->door, s->c.door);
}

/* Opens a door that is not locked; close enough to it (hold), a self-closing
 * door does not start counting down before the walker is through (physics.c
 * keeps it open while anyone stands in the doorway). */
static void door_open(tw_sim *s, Door *d, int hold)
{
    if (d->locked) return;
    if (!d->open) d->open = 1;
    if (hold && d->self_closing) {
        double at = tw_sim_now(s) + (d->close_delay > 0 ? d->close_delay : 0);
        if (d->close_at < at) d->close_at = at;
    }
}

/* A walker opens the door of its next waypoint as soon as that is the next
 * one (it has reached the waypoint before), and the one after when it comes
 * within AG_DOOR_AHEAD of it. The physics sees the door open at the next
 * tick, well before the walker gets there. Only walkers do this, on their
 * next two waypoints: a tick with nobody near a door does no door work. */
static void doors_ahead(tw_sim *s, agent_rec *r)
{
    const Agent *a = r->a;
    tw_sim_nav *nav = s->agents->nav;
    for (uint32_t i = 0; i < a->path_length && i < 2; i++) {
        Door *d = door_at(s, a->path[i]);
        if (!d) continue;
        int32_t k = tw_sim_nav_node(nav, a->path[i]);
        if (k < 0 || !tw_entity_eq(tw_sim_nav_node_storey(nav, k), a->storey)) continue;
        const float *p = tw_sim_nav_node_position(nav, k);
        int near = hypotf(p[0] - r->b->position[0], p[1] - r->b->position[1]) < AG_DOOR_AHEAD;
        if (i == 0 || near) door_open(s, d, near);
    }
}

/* ---- routing ------------------------------------------------------------ */

static void trip_done(tw_sim *s, Agent *a, double now);


static void set_position(agent_rec *r, const float p[2])
{
    r->b->position[0] = p[0];
    r->b->position[1] = p[1];
    r->b->velocity[0] = r->b->velocity[1] = 0;
}

/* The node to plan from: the goal an idle agent stands at, the next waypoint
 * of a walker (while it can still be entered), else the nearest waypoint on
 * the agent's storey that it can see. */
static int32_t start_node(tw_sim *s, agent_rec *r)
{
    tw_sim_nav *nav = s->agents->nav;
    const Agent *a = r->a;
    if (a->state == TW_AGENT_IDLE) {
        int32_t g = tw_sim_nav_node(nav, a->goal);
        if (g >= 0) return g;
    }
    if (a->state == TW_AGENT_WALKING && a->path_length) {
        int32_t n0 = tw_sim_nav_node(nav, a->path[0]);
        if (n0 >= 0 && tw_sim_nav_node_passable(s, nav, n0)) return n0;
    }
    int32_t best = -1, best_blind = -1;
    float bd = INFINITY, bd_blind = INFINITY;
    uint32_t n = tw_sim_nav_node_count(nav);
    for (uint32_t k = 0; k < n; k++) {
        if (!tw_entity_eq(tw_sim_nav_node_storey(nav, (int32_t)k), a->storey)) continue;
        if (!tw_sim_nav_node_passable(s, nav, (int32_t)k)) continue;
        const float *p = tw_sim_nav_node_position(nav, (int32_t)k);
        float d = hypotf(p[0] - r->b->position[0], p[1] - r->b->position[1]);
        if (d < bd_blind) {
            bd_blind = d;
            best_blind = (int32_t)k;
        }
        if (d < bd && tw_sim_physics_line_clear(s, a->storey, r->b->position, p)) {
            bd = d;
            best = (int32_t)k;
        }
    }
    return best >= 0 ? best : best_blind;
}

/* Routes r to the nearest of goals. Keeps walking toward the start node when
 * the agent is not standing on it. Returns 0 when no route exists (then the
 * agent waits and retries). */
static int route_to(tw_sim *s, agent_rec *r, const int32_t *goals, uint32_t goal_count)
{
    tw_sim_agents *ag = s->agents;
    Agent *a = r->a;
    int32_t from = start_node(s, r);
    int32_t reached = -1;
    tw_entity path[TW_AGENT_MAX_PATH];
    int32_t len = from >= 0 ? tw_sim_nav_route(s, ag->nav, from, goals, goal_count, path + 1, TW_AGENT_MAX_PATH - 1,
                                               &reached)
                            : -1;
    double now = tw_sim_now(s);
    int was_walking = a->state == TW_AGENT_WALKING;
    if (len < 0) {
        if (a->state != TW_AGENT_WAITING && !was_walking) a->trip_started = now;
        a->state = TW_AGENT_WAITING;
        a->path_length = 0;
        if (goal_count == 1) a->goal = tw_sim_nav_node_entity(ag->nav, goals[0]);
        return 0;
    }
    /* Stand on the start node already? Then the path begins after it. */
    const float *fp = tw_sim_nav_node_position(ag->nav, from);
    float d = hypotf(fp[0] - r->b->position[0], fp[1] - r->b->position[1]);
    uint32_t k = 0;
    if (d > AG_REACH && tw_entity_eq(tw_sim_nav_node_storey(ag->nav, from), a->storey)) path[k++] = tw_sim_nav_node_entity(ag->nav, from);
    for (int32_t i = 0; i < len && k < TW_AGENT_MAX_PATH; i++) path[k++] = path[i + 1];
    a->goal = tw_sim_nav_node_entity(ag->nav, reached);
    if (k == 0) { /* standing on the goal already */
        a->path_length = 0;
        if (a->state != TW_AGENT_IDLE) trip_done(s, a, now);
        a->state = TW_AGENT_IDLE;
        return 1;
    }
    memcpy(a->path, path, k * sizeof *path);
    a->path_length = k;
    if (a->state == TW_AGENT_IDLE) a->trip_started = now;
    a->state = TW_AGENT_WALKING;
    return 1;
}

static int goal_is(const tw_sim_agents *ag, const Agent *a, int32_t node)
{
    return tw_sim_nav_node(ag->nav, a->goal) == node;
}

static int goal_in(const tw_sim_agents *ag, const Agent *a, const int32_t *nodes, uint32_t n)
{
    int32_t g = tw_sim_nav_node(ag->nav, a->goal);
    for (uint32_t i = 0; i < n; i++)
        if (nodes[i] == g) return 1;
    return 0;
}

static int goal_is_exit(const tw_sim_agents *ag, const Agent *a) { return goal_in(ag, a, ag->exits, ag->n_exits); }

/* ---- evacuation ----------------------------------------------------------- */

/* While Evacuation.active is set, people leave and nobody comes in. */
static int evacuating(const tw_sim_agents *ag) { return ag->evacuation && ag->evacuation->active; }

/* Where an evacuation sends people: the exit waypoints; a scene that marks
 * none sends them out the way they came in. */
static const int32_t *evacuation_exits(const tw_sim_agents *ag, uint32_t *n)
{
    if (ag->n_fire_exits) {
        *n = ag->n_fire_exits;
        return ag->fire_exits;
    }
    *n = ag->n_exits;
    return ag->exits;
}

static uint32_t people_inside(const tw_sim_agents *ag)
{
    uint32_t n = 0;
    for (size_t i = 0; i < ag->count; i++)
        n += ag->recs[i].a->type == TW_AGENT_PERSON && ag->recs[i].a->state != TW_AGENT_OUTSIDE;
    return n;
}

/* Start of a tick: an alarm newly raised starts an evacuation (its figures
 * reset), one cleared calls it off (its figures stay). The state lives in the
 * component, so a keyframe restored mid-evacuation carries on exactly. */
static void evacuation_begin(tw_sim *s, double now)
{
    tw_sim_agents *ag = s->agents;
    Evacuation *ev = ag->evacuation;
    if (!ev) return;
    if (!ev->active) {
        ev->state = TW_EVACUATION_NONE;
        return;
    }
    if (ev->state != TW_EVACUATION_NONE) return;
    ev->state = TW_EVACUATION_UNDER_WAY;
    ev->started_at = now;
    ev->finished_at = 0;
    ev->duration = 0;
    ev->evacuees = ev->remaining = people_inside(ag);
    if (!ev->evacuees) {
        ev->state = TW_EVACUATION_COMPLETE;
        ev->finished_at = now;
    }
}

/* End of a tick (after arrivals): who is still inside, and is everyone out?
 * Times count to the end of the tick, when the last evacuee stepped out. */
static void evacuation_end(tw_sim *s, double now)
{
    tw_sim_agents *ag = s->agents;
    Evacuation *ev = ag->evacuation;
    if (!ev || ev->state != TW_EVACUATION_UNDER_WAY) return;
    double end = now + s->dt;
    ev->remaining = people_inside(ag);
    ev->duration = (float)(end - ev->started_at);
    if (!ev->remaining) {
        ev->state = TW_EVACUATION_COMPLETE;
        ev->finished_at = end;
    }
}

/* A door on the path ahead has been locked (a shut one is simply opened). */
static int path_blocked(tw_sim *s, const Agent *a)
{
    tw_sim_nav *nav = s->agents->nav;
    for (uint32_t i = 0; i < a->path_length; i++) {
        int32_t k = tw_sim_nav_node(nav, a->path[i]);
        if (k >= 0 && !tw_sim_nav_node_passable(s, nav, k)) return 1;
    }
    return 0;
}

/* A walker pushed out of sight of its next waypoint (round a corner by a
 * crowd at a doorway) would steer into the wall for ever. Door leaves do not
 * count: a shut door ahead is opened. */
static int off_track(tw_sim *s, const agent_rec *r)
{
    tw_sim_nav *nav = s->agents->nav;
    const Agent *a = r->a;
    if (!a->path_length) return 0;
    int32_t k = tw_sim_nav_node(nav, a->path[0]);
    if (k < 0 || !tw_entity_eq(tw_sim_nav_node_storey(nav, k), a->storey)) return 0;
    return !tw_sim_physics_walls_clear(s, a->storey, r->b->position, tw_sim_nav_node_position(nav, k));
}

static void enter_at(tw_sim *s, agent_rec *r, int32_t node)
{
    tw_sim_nav *nav = s->agents->nav;
    Agent *a = r->a;
    /* Appearing in a doorway (an entrance): its door opens before the body
     * is placed at the next tick, so the body never lands inside a solid leaf. */
    Door *d = door_at(s, tw_sim_nav_node_entity(nav, node));
    if (d) door_open(s, d, 1);
    a->storey = tw_sim_nav_node_storey(nav, node);
    a->goal = tw_sim_nav_node_entity(nav, node);
    a->path_length = 0;
    a->busy_until = 0;
    a->state = TW_AGENT_IDLE;
    set_position(r, tw_sim_nav_node_position(nav, node));
}

/* Once a second: what does the person's plan want, and is it on its way? */
static void person_decide(tw_sim *s, agent_rec *r, int retry)
{
    tw_sim_agents *ag = s->agents;
    Agent *a = r->a;
    /* An evacuation overrides the plan: out by the nearest exit, and stay out. */
    int evac = evacuating(ag);
    int32_t want = evac ? PLAN_OUT : plan_want(s, r, tw_sim_hour_of_day(s));
    if (a->state == TW_AGENT_OUTSIDE) {
        if (want == PLAN_OUT || r->plan.entrance < 0) return;
        if (s->tick < s->agents->period) {
            /* The run starts in the middle of the day (this is the agent's
             * first look at its plan): be where the plan says. */
            enter_at(s, r, want);
            return;
        }
        int32_t in = r->plan.entrance;
        if (!tw_sim_nav_node_passable(s, ag->nav, in)) {
            /* its door is locked: the first entrance that is not, else wait outside */
            in = -1;
            for (uint32_t k = 0; k < ag->n_entry_low && in < 0; k++)
                if (tw_sim_nav_node_passable(s, ag->nav, ag->entry_low[k])) in = ag->entry_low[k];
            if (in < 0) return;
        }
        enter_at(s, r, in);
        Door *d = door_at(s, tw_sim_nav_node_entity(ag->nav, in));
        if (d) d->passages++;
        a->trip_started = tw_sim_now(s);
        if (want != in) route_to(s, r, &want, 1);
        return;
    }
    if (a->state == TW_AGENT_WAITING && !retry) return;
    if (tw_sim_agent_in_transit(a, tw_sim_now(s))) return;
    /* lost its way: plan again from the nearest waypoint in sight */
    int lost = a->state == TW_AGENT_WALKING && off_track(s, r);
    if (lost) a->path_length = 0;
    if (want == PLAN_OUT) {
        uint32_t n_out = ag->n_exits;
        const int32_t *out = evac ? evacuation_exits(ag, &n_out) : ag->exits;
        if (a->state == TW_AGENT_WALKING && goal_in(ag, a, out, n_out) && !lost && !path_blocked(s, a)) return;
        if (a->state == TW_AGENT_IDLE && goal_in(ag, a, out, n_out)) {
            /* already at an exit: go */
            a->state = TW_AGENT_OUTSIDE;
            return;
        }
        route_to(s, r, out, n_out);
        return;
    }
    if (goal_is(ag, a, want) && a->state == TW_AGENT_IDLE) return;
    if (goal_is(ag, a, want) && a->state == TW_AGENT_WALKING) {
        /* on the way: replan only if lost or a door on the path has been locked */
        if (lost || path_blocked(s, a)) route_to(s, r, &want, 1);
        return;
    }
    route_to(s, r, &want, 1);
}

static void agv_decide(tw_sim *s, agent_rec *r, int retry)
{
    tw_sim_agents *ag = s->agents;
    Agent *a = r->a;
    double now = tw_sim_now(s);
    uint32_t len = a->route_length < TW_AGENT_MAX_ROUTE ? a->route_length : TW_AGENT_MAX_ROUTE;
    if (a->state == TW_AGENT_OUTSIDE) {
        int32_t first = len ? tw_sim_nav_node(ag->nav, a->route[0]) : tw_sim_nav_node(ag->nav, a->home);
        if (first < 0) return;
        enter_at(s, r, first);
        a->route_position = len ? 1u % len : 0;
        a->busy_until = now + AG_DWELL;
        return;
    }
    if (len < 2) return;
    if (a->state == TW_AGENT_IDLE && now >= a->busy_until) {
        int32_t next = tw_sim_nav_node(ag->nav, a->route[a->route_position % len]);
        if (next >= 0) route_to(s, r, &next, 1);
        return;
    }
    if (a->state == TW_AGENT_WAITING && retry) {
        int32_t next = tw_sim_nav_node(ag->nav, a->route[a->route_position % len]);
        if (next >= 0) route_to(s, r, &next, 1);
        return;
    }
    if (a->state == TW_AGENT_WALKING && !tw_sim_agent_in_transit(a, now)) {
        int lost = off_track(s, r);
        if (lost) a->path_length = 0; /* plan again from the nearest waypoint in sight */
        int32_t next = tw_sim_nav_node(ag->nav, a->goal);
        if ((lost || path_blocked(s, a)) && next >= 0) route_to(s, r, &next, 1);
    }
}

/* ---- steering ------------------------------------------------------------- */

static uint32_t storey_key(tw_entity storey) { return tw_entity_index(storey) + 1u; }

static void separation_build(tw_sim *s, double now)
{
    tw_sim_agents *ag = s->agents;
    for (int i = 0; i < SEP_BUCKETS; i++) ag->head[i] = -1;
    for (size_t i = 0; i < ag->count; i++) {
        const agent_rec *r = &ag->recs[i];
        if (!tw_sim_agent_in_space(r->a, now)) continue;
        int32_t cx = (int32_t)floorf(r->b->position[0] / AG_NEIGHBOUR);
        int32_t cy = (int32_t)floorf(r->b->position[1] / AG_NEIGHBOUR);
        uint32_t h = hash_cell(cx, cy, storey_key(r->a->storey));
        ag->next[i] = ag->head[h];
        ag->head[h] = (int32_t)i;
    }
}

/* Push away from neighbours closer than AG_NEIGHBOUR, plus a nudge to the
 * right of anyone ahead so two walkers meeting head-on pass each other. */
static void separation(const tw_sim_agents *ag, size_t self, const float dir[2], float out[2])
{
    const agent_rec *r = &ag->recs[self];
    float px = r->b->position[0], py = r->b->position[1];
    int32_t cx = (int32_t)floorf(px / AG_NEIGHBOUR), cy = (int32_t)floorf(py / AG_NEIGHBOUR);
    uint32_t sk = storey_key(r->a->storey);
    out[0] = out[1] = 0;
    uint32_t seen[9];
    int nseen = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            uint32_t h = hash_cell(cx + dx, cy + dy, sk);
            int dup = 0;
            for (int k = 0; k < nseen; k++) dup |= seen[k] == h;
            if (dup) continue; /* two cells hashed to one bucket: visit it once */
            seen[nseen++] = h;
            for (int32_t j = ag->head[h]; j >= 0; j = ag->next[j]) {
                if ((size_t)j == self) continue;
                const agent_rec *o = &ag->recs[j];
                if (!tw_entity_eq(o->a->storey, r->a->storey)) continue;
                float ox = px - o->b->position[0], oy = py - o->b->position[1];
                float d2 = ox * ox + oy * oy;
                if (d2 >= AG_NEIGHBOUR * AG_NEIGHBOUR || d2 < 1e-8f) continue;
                float d = sqrtf(d2), w = 1.0f - d / AG_NEIGHBOUR;
                out[0] += ox / d * w;
                out[1] += oy / d * w;
                if (-ox * dir[0] - oy * dir[1] > 0) { /* the other is ahead */
                    out[0] += dir[1] * w * 0.5f;
                    out[1] += -dir[0] * w * 0.5f;
                }
            }
        }
}

static void steer(tw_sim *s, size_t i)
{
    tw_sim_agents *ag = s->agents;
    agent_rec *r = &ag->recs[i];
    Agent *a = r->a;
    Body *b = r->b;
    if (!a->path_length) {
        b->velocity[0] = b->velocity[1] = 0;
        return;
    }
    int32_t k = tw_sim_nav_node(ag->nav, a->path[0]);
    if (k < 0) { /* the waypoint was removed: drop it, replan next second */
        memmove(a->path, a->path + 1, (a->path_length - 1) * sizeof *a->path);
        a->path_length--;
        return;
    }
    const float *t = tw_sim_nav_node_position(ag->nav, k);
    float dx = t[0] - b->position[0], dy = t[1] - b->position[1];
    float d = sqrtf(dx * dx + dy * dy);
    float vmax = a->max_speed > 0 ? a->max_speed : 1.3f;
    float speed = vmax;
    if (a->path_length == 1 && d < AG_SLOW_RADIUS) {
        speed = vmax * d / AG_SLOW_RADIUS;
        if (speed < AG_MIN_SPEED) speed = AG_MIN_SPEED;
    }
    float dir[2] = { d > 1e-6f ? dx / d : 0, d > 1e-6f ? dy / d : 0 };
    float sep[2];
    separation(ag, i, dir, sep);
    float vx = dir[0] * speed + sep[0] * vmax * 0.6f, vy = dir[1] * speed + sep[1] * vmax * 0.6f;
    float v = sqrtf(vx * vx + vy * vy);
    if (v > vmax) {
        vx *= vmax / v;
        vy *= vmax / v;
    }
    tw_sim_physics_drive(s, r->e, vx, vy);
    if (a->type == TW_AGENT_AGV && v > 0.05f) b->angle = atan2f(vy, vx);
}

void tw_sim_agents_step(tw_sim *s)
{
    tw_sim_agents *ag = s->agents;
    if (refresh(s, NULL)) {
        TW_LOG(&s->log, TW_LOG_ERROR, "agents", "the walking graph could not be rebuilt; agents stand still");
        return;
    }
    double now = tw_sim_now(s);
    uint64_t tick = s->tick;
    int walkers = 0;
    evacuation_begin(s, now);
    for (size_t i = 0; i < ag->count; i++) {
        agent_rec *r = &ag->recs[i];
        Agent *a = r->a;
        uint32_t slot = tw_entity_index(r->e);
        /* staggered: each agent thinks once a second, on its own tick */
        if ((tick + slot) % ag->period == 0) {
            int retry = (tick + slot) % (ag->period * AG_RETRY) == 0;
            if (a->type == TW_AGENT_AGV) agv_decide(s, r, retry);
            else person_decide(s, r, retry);
        }
        if (a->state == TW_AGENT_WALKING) {
            if (a->busy_until > 0 && now >= a->busy_until) a->busy_until = 0; /* off the stairs */
            if (!tw_sim_agent_in_transit(a, now)) walkers++;
        }
    }
    if (!walkers) return;
    separation_build(s, now);
    for (size_t i = 0; i < ag->count; i++) {
        agent_rec *r = &ag->recs[i];
        if (r->a->state == TW_AGENT_WALKING && !tw_sim_agent_in_transit(r->a, now)) {
            doors_ahead(s, r);
            steer(s, i);
        }
    }
}

/* ---- arrivals, occupancy ---------------------------------------------------- */

static void trip_done(tw_sim *s, Agent *a, double now)
{
    tw_sim_agents *ag = s->agents;
    double t = now - a->trip_started;
    if (t < 0) t = 0;
    a->trips++;
    a->trip_time_total += t;
    Mobility *m = ag->mobility;
    if (m) {
        m->trips++;
        m->trip_time_mean += (float)((t - m->trip_time_mean) / m->trips);
        if (t > m->trip_time_max) m->trip_time_max = (float)t;
    }
}

static void arrive(tw_sim *s, agent_rec *r, double now)
{
    tw_sim_agents *ag = s->agents;
    Agent *a = r->a;
    a->path_length = 0;
    r->b->velocity[0] = r->b->velocity[1] = 0;
    trip_done(s, a, now);
    if (a->type == TW_AGENT_AGV) {
        uint32_t len = a->route_length < TW_AGENT_MAX_ROUTE ? a->route_length : TW_AGENT_MAX_ROUTE;
        a->state = TW_AGENT_IDLE;
        a->busy_until = now + AG_DWELL;
        if (len) a->route_position = (a->route_position + 1) % len;
        return;
    }
    /* A person who reaches an exit while the plan says "out" (or the
     * building is being evacuated) leaves. */
    if (goal_is_exit(ag, a) && (evacuating(ag) || plan_want(s, r, tw_sim_hour_of_day(s)) == PLAN_OUT)) {
        a->state = TW_AGENT_OUTSIDE;
        return;
    }
    a->state = TW_AGENT_IDLE;
}

static void check_reached(tw_sim *s, agent_rec *r, double now)
{
    tw_sim_agents *ag = s->agents;
    Agent *a = r->a;
    Body *b = r->b;
    if (!a->path_length) return;
    int32_t k = tw_sim_nav_node(ag->nav, a->path[0]);
    if (k < 0) return;
    const float *t = tw_sim_nav_node_position(ag->nav, k);
    float d = hypotf(t[0] - b->position[0], t[1] - b->position[1]);
    int final = a->path_length == 1;
    /* Within reach, or close and held up by a crowd on the spot (a meeting
     * table, a busy doorway): good enough. */
    float v = hypotf(b->velocity[0], b->velocity[1]);
    int reached = d < AG_REACH || (d < (final ? 2.0f : 1.0f) && v < 0.2f * (a->max_speed > 0 ? a->max_speed : 1.3f));
    if (!reached) return;
    tw_entity node = a->path[0];
    memmove(a->path, a->path + 1, (a->path_length - 1) * sizeof *a->path);
    a->path_length--;
    Door *door = door_at(s, node);
    if (door) door->passages++;
    if (!a->path_length) {
        if (tw_entity_eq(node, a->goal)) {
            arrive(s, r, now);
        } else {
            /* a long route was cut to TW_AGENT_MAX_PATH waypoints: plan the rest from here */
            int32_t from = tw_sim_nav_node(ag->nav, node), goal = tw_sim_nav_node(ag->nav, a->goal);
            tw_entity path[TW_AGENT_MAX_PATH];
            int32_t len = from >= 0 && goal >= 0
                              ? tw_sim_nav_route(s, ag->nav, from, &goal, 1, path, TW_AGENT_MAX_PATH, NULL)
                              : -1;
            if (len > 0) {
                memcpy(a->path, path, (size_t)len * sizeof *path);
                a->path_length = (uint32_t)len;
            } else {
                a->state = TW_AGENT_WAITING; /* retried every AG_RETRY seconds */
            }
        }
        return;
    }
    /* The next waypoint is on another storey: take the stairs. */
    int32_t nk = tw_sim_nav_node(ag->nav, a->path[0]);
    if (nk >= 0 && !tw_entity_eq(tw_sim_nav_node_storey(ag->nav, nk), a->storey)) {
        a->storey = tw_sim_nav_node_storey(ag->nav, nk);
        a->busy_until = now + tw_sim_nav_stair_time();
        set_position(r, tw_sim_nav_node_position(ag->nav, nk));
    }
}

static void occupancy(tw_sim *s, double now)
{
    tw_sim_agents *ag = s->agents;
    for (size_t i = 0; i < ag->space_n; i++) ag->space_count_now[i] = 0;
    uint32_t inside = 0;
    for (size_t i = 0; i < ag->count; i++) {
        agent_rec *r = &ag->recs[i];
        const Agent *a = r->a;
        if (a->state == TW_AGENT_OUTSIDE) continue;
        inside++;
        if (a->type != TW_AGENT_PERSON || tw_sim_agent_in_transit(a, now)) continue;
        if (!tw_entity_eq(r->storey_seen, a->storey)) {
            r->storey_seen = a->storey;
            r->storey_grid = grid_of(ag, a->storey);
        }
        if (r->storey_grid < 0) continue;
        const occ_grid *g = &ag->grids[r->storey_grid];
        float fx = (r->b->position[0] - g->origin[0]) / g->cell, fy = (r->b->position[1] - g->origin[1]) / g->cell;
        if (!(fx >= 0 && fy >= 0)) continue;
        uint32_t x = (uint32_t)fx, y = (uint32_t)fy;
        if (x >= g->w || y >= g->h) continue;
        int32_t c = g->cells[(size_t)y * g->w + x];
        if (c) ag->space_count_now[c - 1] += 1;
    }
    for (size_t i = 0; i < ag->space_n; i++) ag->space_data[i]->occupants = ag->space_count_now[i];
    if (ag->mobility) ag->mobility->inside = inside;
}

void tw_sim_agents_post(tw_sim *s)
{
    tw_sim_agents *ag = s->agents;
    if (ag->version != tw_ecs_world_structure_version(s->world)) return; /* refresh failed this tick */
    double now = tw_sim_now(s);
    for (size_t i = 0; i < ag->count; i++) {
        agent_rec *r = &ag->recs[i];
        if (r->a->state == TW_AGENT_WALKING && !tw_sim_agent_in_transit(r->a, now)) check_reached(s, r, now);
    }
    evacuation_end(s, now);
    if (s->tick % ag->period == 0) occupancy(s, now);
}
