/* The Chipmunk2D bridge: one cpSpace per storey, walls and doors as static
 * segments, conveyor belts as sensor segments carrying a surface velocity,
 * and one dynamic body per Body entity on a storey.
 *
 * The ECS is the source of truth; Chipmunk is a cache of it that also holds
 * contact state. Each body keeps the values this file last wrote into its
 * Body component, so a change made by anyone else (a steering system, a
 * binding, a what-if edit) shows up as a difference and is pushed into
 * Chipmunk before the step: nobody else needs a cpBody pointer, and none is
 * stored in a component.
 *
 * Per tick the work is tight loops over our own arrays: compare cached door,
 * belt and agent states and count open self-closing doors down
 * (physics_sync), push changed Body values, step only the spaces with an
 * awake body, copy results back (physics_step). A structural change in the
 * world (structure version) rebuilds the arrays; a change to storeys, walls,
 * doors or conveyors rebuilds every space. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <chipmunk/chipmunk.h>
#include <chipmunk/chipmunk_structs.h>

#include "sim_internal.h"

/* Space settings. Damping makes a pushed idle body stop within a couple of
 * seconds (there is no floor friction in a top-down plan); a body whose
 * velocity was set this tick takes it as is (see drive_velocity).
 * Bodies slower than the idle speed for the sleep time fall asleep, which
 * makes people sitting at desks free. */
#define PHYS_ITERATIONS 6
#define PHYS_DAMPING 0.2          /* fraction of velocity kept after 1 s unsteered */
#define PHYS_IDLE_SPEED 0.05      /* m/s */
#define PHYS_SLEEP_TIME 0.5       /* s */
#define PHYS_SLOP 0.01            /* m of overlap allowed */

/* A body whose centre is this close to a door leaf stands in the doorway: a
 * self-closing door waits for it (agents.c opens doors 1.5 m ahead, so a
 * walker holds its door from the moment it arrives until it has gone). */
#define PHYS_DOOR_CLEAR 1.2       /* m */

/* Collision categories: people and vehicles hit walls, doors and each other;
 * parts hit parts and walls only (a person walking by does not knock parts
 * off a belt); belts are pure data holders and pair with nothing. */
enum { CAT_WALL = 1u, CAT_BODY = 2u, CAT_PART = 4u, CAT_BELT = 8u };

typedef struct phys_space {
    tw_entity storey;
    cpSpace *space;
    float elevation;
    uint32_t awake;            /* awake bodies seen before this tick's step */
} phys_space;

typedef struct phys_door {
    tw_entity door;
    Door *data;
    cpShape *shape;            /* NULL when the door could not be placed */
    int32_t space;             /* index into spaces, -1 with no shape */
    cpVect a, b;               /* the leaf, end to end */
    double radius;             /* half the leaf's thickness */
    uint8_t shut;              /* what the shape says now */
} phys_door;

typedef struct phys_belt {
    tw_entity conveyor;
    Conveyor *data;
    uint32_t first, count;     /* range in belt_shapes */
    float speed;               /* what the shapes say now */
    uint8_t running;
} phys_belt;

typedef struct phys_body {
    tw_entity e;
    cpBody *body;
    cpShape *shape;
    int32_t space;             /* index into spaces, -1: in none */
    int32_t fixed_space;       /* non-agents: their storey's space, -1 none */
    Body *b;
    Transform *t;
    const Agent *a;
    float pos[2], vel[2], angle, spin; /* the values last written to or read from b */
    cpVect target;             /* velocity someone asked for this tick */
    int driven;                /* target is set: the velocity step takes it */
} phys_body;

struct tw_sim_physics {
    phys_space *spaces;
    uint32_t space_count;
    cpShape **statics;         /* wall pieces and door leaves, freed at teardown */
    size_t static_count, static_cap;
    cpShape **belt_shapes;
    size_t belt_shape_count, belt_shape_cap;
    phys_door *doors;
    size_t door_count, door_cap;
    phys_belt *belts;
    size_t belt_count, belt_cap;
    phys_body *bodies;
    size_t body_count, body_cap;
    int32_t *slot_body;        /* entity slot -> index in bodies, -1 */
    size_t slot_cap;
    tw_entity *sig;            /* storeys, walls, doors, conveyors: rebuild when this list changes */
    size_t sig_count, sig_cap;
    uint64_t version;
    tw_ecs_query q_storey, q_wall, q_door, q_conveyor, q_body;
};

/* Debian's Chipmunk is a debug build: the first cpSpaceInit in a process
 * printf()s a two-line banner to stdout, which would corrupt output meant
 * for pipes (`twin fmt`, `twin bench` JSON lines). The library prints it once
 * per process (its own static flag), so the first space is made with stdout
 * pointed at /dev/null. */
static void silence_chipmunk_banner(void)
{
    static int done; /* process-wide by nature: it mirrors the library's own flag */
    if (done) return;
    done = 1;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int null_fd = open("/dev/null", O_WRONLY);
    if (saved < 0 || null_fd < 0) {
        if (saved >= 0) close(saved);
        if (null_fd >= 0) close(null_fd);
        return;
    }
    dup2(null_fd, STDOUT_FILENO);
    cpSpaceFree(cpSpaceNew());
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(null_fd);
}

struct cpSpace *tw_sim_physics_space_new(void)
{
    silence_chipmunk_banner();
    return cpSpaceNew();
}

void tw_sim_physics_space_configure(struct cpSpace *space)
{
    cpSpaceSetGravity(space, cpvzero);
    cpSpaceSetIterations(space, PHYS_ITERATIONS);
    cpSpaceSetDamping(space, PHYS_DAMPING);
    cpSpaceSetIdleSpeedThreshold(space, PHYS_IDLE_SPEED);
    cpSpaceSetSleepTimeThreshold(space, PHYS_SLEEP_TIME);
    cpSpaceSetCollisionSlop(space, PHYS_SLOP);
}

/* A velocity written into Body (by steering, a belt, a binding) replaces the
 * velocity step of the next cpSpaceStep instead of being poked into the body
 * before it: Chipmunk integrates positions before it solves contacts, so a
 * velocity set directly would carry a walker a whole tick into a wall every
 * tick. Taken here, the contact solver still removes the part that points
 * into a wall or a neighbour before anything moves. */
static void drive_velocity(cpBody *body, cpVect gravity, cpFloat damping, cpFloat dt)
{
    phys_body *pb = cpBodyGetUserData(body);
    if (pb && pb->driven) {
        body->v = pb->target;
        body->f = cpvzero;
        body->t = 0;
        pb->driven = 0;
        return;
    }
    cpBodyUpdateVelocity(body, gravity, damping, dt);
}

/* ---- small helpers ------------------------------------------------------ */

static int push_ptr(const tw_allocator *a, cpShape ***items, size_t *count, size_t *cap, cpShape *x)
{
    if (tw_grow(a, (void **)items, cap, *count + 1, sizeof **items)) return -1;
    (*items)[(*count)++] = x;
    return 0;
}

static int32_t space_index(const tw_sim_physics *p, tw_entity storey)
{
    for (uint32_t i = 0; i < p->space_count; i++)
        if (tw_entity_eq(p->spaces[i].storey, storey)) return (int32_t)i;
    return -1;
}

static int32_t entity_space(const tw_sim *s, tw_entity e)
{
    return space_index(s->physics, tw_ecs_entity_ancestor_of_kind(s->world, e, TW_KIND_STOREY));
}

static void path_of(const tw_sim *s, tw_entity e, char *buf, size_t n)
{
    if (tw_ecs_entity_path(s->world, e, buf, n) <= 0) snprintf(buf, n, "#%u", tw_entity_index(e));
}

/* Length of a polyline and the point at distance d along it. */
static double poly_length(const Shape *sh)
{
    double len = 0;
    for (uint32_t i = 1; i < sh->point_count; i++)
        len += hypot(sh->points[i][0] - sh->points[i - 1][0], sh->points[i][1] - sh->points[i - 1][1]);
    return len;
}

static cpVect poly_point_at(const Shape *sh, double d)
{
    double acc = 0;
    for (uint32_t i = 1; i < sh->point_count; i++) {
        cpVect a = cpv(sh->points[i - 1][0], sh->points[i - 1][1]), b = cpv(sh->points[i][0], sh->points[i][1]);
        double l = cpvdist(a, b);
        if (d <= acc + l || i + 1 == sh->point_count) {
            double t = l > 0 ? (d - acc) / l : 0;
            if (t < 0) t = 0;
            if (t > 1) t = 1;
            return cpvlerp(a, b, t);
        }
        acc += l;
    }
    return cpv(sh->points[0][0], sh->points[0][1]);
}

static int door_shut(const Door *d) { return !d->open || d->locked; }

/* The user data of every door leaf's shape (walls have none). */
static const char door_leaf_tag = 'd';

/* Distance from point c to the segment a-b. */
static double segment_distance(cpVect a, cpVect b, cpVect c)
{
    cpVect ab = cpvsub(b, a);
    double len2 = cpvlengthsq(ab);
    double t = len2 > 0 ? cpvdot(cpvsub(c, a), ab) / len2 : 0;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    return cpvdist(c, cpvadd(a, cpvmult(ab, t)));
}

/* How far a body reaches from its centre. */
static double body_reach(const Body *b)
{
    if (b->shape == TW_BODY_BOX) {
        double w = b->size[0] > 0 ? b->size[0] : 0.5, h = b->size[1] > 0 ? b->size[1] : 0.5;
        return 0.5 * sqrt(w * w + h * h);
    }
    return b->radius > 0 ? b->radius : 0.3;
}

/* True when a body in the door's space has its centre within clear of the
 * leaf, or (clear < 0) overlaps the leaf itself. A loop over the bodies: it
 * runs only for open self-closing doors and doors about to turn solid, a few
 * at a time. */
static int door_occupied(const tw_sim_physics *p, const phys_door *pd, double clear)
{
    if (pd->space < 0) return 0;
    for (size_t i = 0; i < p->body_count; i++) {
        const phys_body *pb = &p->bodies[i];
        if (pb->space != pd->space) continue;
        double reach = clear >= 0 ? clear : pd->radius + body_reach(pb->b) - PHYS_SLOP;
        if (segment_distance(pd->a, pd->b, cpv(pb->b->position[0], pb->b->position[1])) < reach) return 1;
    }
    return 0;
}

static int door_in_leaf(const tw_sim_physics *p, const phys_door *pd) { return door_occupied(p, pd, -1.0); }

/* An open self-closing door: counts down from the last tick a body stood in
 * its doorway (Door.close_at, in the component so keyframes keep it), and
 * shuts when the count is over. */
static void door_close_timer(tw_sim *s, phys_door *pd, double now)
{
    Door *d = pd->data;
    double delay = d->close_delay > 0 ? d->close_delay : 0;
    if (door_occupied(s->physics, pd, PHYS_DOOR_CLEAR)) {
        d->close_at = now + delay;
        return;
    }
    if (d->close_at == 0) d->close_at = now + delay; /* opened since the last tick, by anyone */
    /* half a tick of slack: now and close_at are both sums of dt, rounded */
    if (now + 0.5 * s->dt >= d->close_at) {
        d->open = 0;
        d->close_at = 0;
    }
}

/* ---- static geometry ---------------------------------------------------- */

/* A wall's shape when it can carry doors: a polyline of at least two points. */
static const Shape *wall_polyline(const tw_sim *s, tw_entity wall)
{
    if (!tw_ecs_has(s->world, wall, s->c.wall)) return NULL;
    const Shape *sh = tw_ecs_get(s->world, wall, s->c.shape);
    if (!sh || sh->kind != TW_SHAPE_POLYLINE || sh->point_count < 2 || sh->point_count > TW_SHAPE_MAX_POINTS)
        return NULL;
    return sh;
}

static cpShape *add_static_segment(tw_sim *s, cpSpace *space, cpVect a, cpVect b, double radius, int belt)
{
    tw_sim_physics *p = s->physics;
    cpShape *sh = cpSegmentShapeNew(cpSpaceGetStaticBody(space), a, b, radius);
    if (!sh) return NULL;
    cpShapeSetFriction(sh, 0);
    cpShapeSetElasticity(sh, 0);
    if (belt) {
        cpShapeSetSensor(sh, cpTrue);
        cpShapeSetFilter(sh, cpShapeFilterNew(CP_NO_GROUP, CAT_BELT, 0));
    } else {
        cpShapeSetFilter(sh, cpShapeFilterNew(CP_NO_GROUP, CAT_WALL, CAT_BODY | CAT_PART));
    }
    if (belt ? push_ptr(&s->alloc, &p->belt_shapes, &p->belt_shape_count, &p->belt_shape_cap, sh)
             : push_ptr(&s->alloc, &p->statics, &p->static_count, &p->static_cap, sh)) {
        cpShapeFree(sh);
        return NULL;
    }
    cpSpaceAddShape(space, sh);
    return sh;
}

/* Wall pieces between door openings. Each opening is cut wider than the door
 * by half the wall thickness on both sides, so the rounded ends of the pieces
 * stop at the door's edges and the clear width is Door.width. */
static tw_status build_wall(tw_sim *s, tw_entity wall, const Shape *sh, cpSpace *space)
{
    tw_sim_physics *p = s->physics;
    double r = sh->thickness > 0 ? sh->thickness * 0.5 : 0.05;
    double cut[2 * 64];
    uint32_t ncut = 0;
    for (size_t i = 0; i < p->door_count && ncut < 64; i++) {
        const Door *d = p->doors[i].data;
        if (!d || !tw_entity_eq(d->wall, wall)) continue;
        double lo = d->offset - d->width * 0.5 - r, hi = d->offset + d->width * 0.5 + r;
        /* keep the cuts sorted by start (few doors per wall: insertion) */
        uint32_t k = ncut++;
        while (k > 0 && cut[2 * (k - 1)] > lo) {
            cut[2 * k] = cut[2 * (k - 1)];
            cut[2 * k + 1] = cut[2 * (k - 1) + 1];
            k--;
        }
        cut[2 * k] = lo;
        cut[2 * k + 1] = hi;
    }
    double acc = 0;
    for (uint32_t i = 1; i < sh->point_count; i++) {
        cpVect a = cpv(sh->points[i - 1][0], sh->points[i - 1][1]), b = cpv(sh->points[i][0], sh->points[i][1]);
        double l = cpvdist(a, b);
        if (l <= 0) continue;
        /* walk [acc, acc + l] skipping the cut intervals */
        double from = acc, end = acc + l;
        for (uint32_t c = 0; c <= ncut; c++) {
            double to = c < ncut ? cut[2 * c] : end;
            if (to > end) to = end;
            if (to - from > 1e-6) {
                if (!add_static_segment(s, space, cpvlerp(a, b, (from - acc) / l), cpvlerp(a, b, (to - acc) / l), r,
                                        0))
                    return TW_ERR_NOMEM;
            }
            if (c < ncut && cut[2 * c + 1] > from) from = cut[2 * c + 1];
            if (from >= end) break;
        }
        acc = end;
    }
    return TW_OK;
}

/* Every storey gets a space; walls, doors and belts go into their storey's. */
static tw_status build_spaces(tw_sim *s, tw_diag *diag)
{
    tw_sim_physics *p = s->physics;
    tw_ecs_world *w = s->world;
    char pa[TW_ECS_PATH_MAX], pb[TW_ECS_PATH_MAX];

    uint32_t n = tw_ecs_query_count(w, &p->q_storey);
    p->spaces = tw_calloc(&s->alloc, n ? n : 1, sizeof *p->spaces);
    if (!p->spaces) return TW_ERR_NOMEM;
    p->space_count = 0;
    tw_ecs_iter it = tw_ecs_query_iter(w, &p->q_storey);
    while (tw_ecs_iter_next(&it)) {
        const Storey *st = it.columns[0];
        for (uint32_t i = 0; i < it.count; i++) {
            phys_space *ps = &p->spaces[p->space_count];
            ps->storey = it.entities[i];
            ps->elevation = st[i].elevation;
            ps->space = tw_sim_physics_space_new();
            if (!ps->space) return TW_ERR_NOMEM;
            tw_sim_physics_space_configure(ps->space);
            p->space_count++;
        }
    }

    /* Doors first (walls need them for their openings). */
    p->door_count = 0;
    it = tw_ecs_query_iter(w, &p->q_door);
    while (tw_ecs_iter_next(&it)) {
        Door *d = it.columns[0];
        for (uint32_t i = 0; i < it.count; i++) {
            if (tw_grow(&s->alloc, (void **)&p->doors, &p->door_cap, p->door_count + 1, sizeof *p->doors))
                return TW_ERR_NOMEM;
            p->doors[p->door_count++] = (phys_door){ .door = it.entities[i], .data = &d[i], .space = -1 };
        }
    }
    for (size_t i = 0; i < p->door_count; i++) {
        phys_door *pd = &p->doors[i];
        const Shape *sh = wall_polyline(s, pd->data->wall);
        if (!sh) {
            path_of(s, pd->door, pa, sizeof pa);
            path_of(s, pd->data->wall, pb, sizeof pb);
            tw_diag_set(diag, "door %s sits in %s, which is not a wall with a polyline shape of two or more points",
                        pa, pb);
            pd->data = NULL;
            return TW_ERR_INVALID;
        }
        double len = poly_length(sh);
        if (pd->data->width <= 0 || pd->data->offset < 0 || pd->data->offset > len) {
            path_of(s, pd->door, pa, sizeof pa);
            tw_diag_set(diag, "door %s: offset %.2f m and width %.2f m do not fit on its wall (%.2f m long)", pa,
                        pd->data->offset, pd->data->width, len);
            return TW_ERR_INVALID;
        }
        int32_t si = entity_space(s, pd->data->wall);
        if (si < 0) continue; /* a wall on no storey has no space to block */
        double r = sh->thickness > 0 ? sh->thickness * 0.5 : 0.05;
        cpVect a = poly_point_at(sh, pd->data->offset - pd->data->width * 0.5);
        cpVect b = poly_point_at(sh, pd->data->offset + pd->data->width * 0.5);
        pd->shape = add_static_segment(s, p->spaces[si].space, a, b, r, 0);
        if (!pd->shape) return TW_ERR_NOMEM;
        cpShapeSetUserData(pd->shape, (cpDataPointer)&door_leaf_tag); /* walls_clear looks past it */
        pd->space = si;
        pd->a = a;
        pd->b = b;
        pd->radius = r;
        pd->shut = (uint8_t)door_shut(pd->data);
        cpShapeSetSensor(pd->shape, pd->shut ? cpFalse : cpTrue);
    }

    it = tw_ecs_query_iter(w, &p->q_wall);
    while (tw_ecs_iter_next(&it)) {
        const Shape *shp = it.columns[1];
        for (uint32_t i = 0; i < it.count; i++) {
            const Shape *sh = &shp[i];
            if (sh->kind != TW_SHAPE_POLYLINE || sh->point_count < 2) continue;
            int32_t si = entity_space(s, it.entities[i]);
            if (si < 0) continue;
            tw_status st = build_wall(s, it.entities[i], sh, p->spaces[si].space);
            if (st) return st;
        }
    }

    /* Belts: one sensor segment per polyline segment, its surface velocity
     * speed x direction of travel (zero while stopped). */
    p->belt_count = 0;
    it = tw_ecs_query_iter(w, &p->q_conveyor);
    while (tw_ecs_iter_next(&it)) {
        Conveyor *cv = it.columns[0];
        const Shape *shp = it.columns[1];
        for (uint32_t i = 0; i < it.count; i++) {
            const Shape *sh = &shp[i];
            int32_t si = entity_space(s, it.entities[i]);
            if (sh->kind != TW_SHAPE_POLYLINE || sh->point_count < 2 || si < 0) continue;
            if (tw_grow(&s->alloc, (void **)&p->belts, &p->belt_cap, p->belt_count + 1, sizeof *p->belts))
                return TW_ERR_NOMEM;
            phys_belt *pbelt = &p->belts[p->belt_count++];
            *pbelt = (phys_belt){ it.entities[i], &cv[i], (uint32_t)p->belt_shape_count, 0, cv[i].speed,
                                  cv[i].running };
            double r = sh->thickness > 0 ? sh->thickness * 0.5 : 0.25;
            for (uint32_t k = 1; k < sh->point_count; k++) {
                cpVect a = cpv(sh->points[k - 1][0], sh->points[k - 1][1]);
                cpVect b = cpv(sh->points[k][0], sh->points[k][1]);
                cpShape *seg = add_static_segment(s, p->spaces[si].space, a, b, r, 1);
                if (!seg) return TW_ERR_NOMEM;
                double v = cv[i].running ? cv[i].speed : 0.0;
                cpShapeSetSurfaceVelocity(seg, cpvmult(cpvnormalize(cpvsub(b, a)), v));
                pbelt->count++;
            }
        }
    }
    return TW_OK;
}

/* ---- bodies --------------------------------------------------------------- */

static int32_t body_target_space(const tw_sim *s, const phys_body *pb)
{
    if (!pb->a) return pb->fixed_space;
    if (!tw_sim_agent_in_space(pb->a, tw_sim_now(s))) return -1;
    if (!tw_entity_is_null(pb->a->storey)) return space_index(s->physics, pb->a->storey);
    return pb->fixed_space;
}

static void body_place(tw_sim *s, phys_body *pb, int32_t space)
{
    tw_sim_physics *p = s->physics;
    if (pb->space == space) return;
    if (pb->space >= 0) {
        cpSpace *old = p->spaces[pb->space].space;
        cpSpaceRemoveShape(old, pb->shape);
        cpSpaceRemoveBody(old, pb->body);
    }
    pb->space = space;
    pb->driven = 0;
    if (space >= 0) {
        /* Enter where the ECS says the body is. */
        const Body *b = pb->b;
        cpBodySetPosition(pb->body, cpv(b->position[0], b->position[1]));
        cpBodySetVelocity(pb->body, cpv(b->velocity[0], b->velocity[1]));
        cpBodySetAngle(pb->body, b->angle);
        if (pb->body->i != INFINITY) cpBodySetAngularVelocity(pb->body, b->angular_velocity);
        memcpy(pb->pos, b->position, sizeof pb->pos);
        memcpy(pb->vel, b->velocity, sizeof pb->vel);
        pb->angle = b->angle;
        pb->spin = b->angular_velocity;
        cpSpaceAddBody(p->spaces[space].space, pb->body);
        cpSpaceAddShape(p->spaces[space].space, pb->shape);
    }
}

static void body_destroy(tw_sim *s, phys_body *pb)
{
    body_place(s, pb, -1);
    if (pb->shape) cpShapeFree(pb->shape);
    if (pb->body) cpBodyFree(pb->body);
    pb->shape = NULL;
    pb->body = NULL;
}

/* Creates the Chipmunk body of an entity from its Body component. People and
 * vehicles get an infinite moment: they turn because steering says so, not
 * because a shoulder brushed a door frame. */
static tw_status body_create(tw_sim *s, phys_body *pb)
{
    const Body *b = pb->b;
    double mass = b->mass > 0 ? b->mass : 1.0;
    int is_box = b->shape == TW_BODY_BOX;
    double w = b->size[0] > 0 ? b->size[0] : 0.5, h = b->size[1] > 0 ? b->size[1] : 0.5;
    double r = b->radius > 0 ? b->radius : 0.3;
    double moment = pb->a ? INFINITY : is_box ? cpMomentForBox(mass, w, h) : cpMomentForCircle(mass, 0, r, cpvzero);
    pb->body = cpBodyNew(mass, moment);
    if (!pb->body) return TW_ERR_NOMEM;
    cpBodySetVelocityUpdateFunc(pb->body, drive_velocity);
    cpBodySetUserData(pb->body, pb);
    pb->shape = is_box ? cpBoxShapeNew(pb->body, w, h, 0) : cpCircleShapeNew(pb->body, r, cpvzero);
    if (!pb->shape) {
        cpBodyFree(pb->body);
        pb->body = NULL;
        return TW_ERR_NOMEM;
    }
    cpShapeSetFriction(pb->shape, 0);
    cpShapeSetElasticity(pb->shape, 0);
    int part = tw_ecs_has(s->world, pb->e, s->c.part);
    cpShapeSetFilter(pb->shape, part ? cpShapeFilterNew(CP_NO_GROUP, CAT_PART, CAT_PART | CAT_WALL)
                                     : cpShapeFilterNew(CP_NO_GROUP, CAT_BODY, CAT_BODY | CAT_WALL));
    pb->space = -1;
    return TW_OK;
}

/* Refreshes component pointers and each body's fixed storey after a structural change. */
static void body_bind(tw_sim *s, phys_body *pb)
{
    tw_ecs_world *w = s->world;
    pb->b = tw_ecs_get(w, pb->e, s->c.body);
    pb->t = tw_ecs_get(w, pb->e, s->c.transform);
    pb->a = tw_ecs_get(w, pb->e, s->c.agent);
    pb->fixed_space = entity_space(s, pb->e);
    if (pb->fixed_space < 0 && !pb->a) {
        const Part *part = tw_ecs_get(w, pb->e, s->c.part);
        if (part) pb->fixed_space = entity_space(s, part->conveyor);
    }
}

static tw_status slot_map_fit(tw_sim *s)
{
    tw_sim_physics *p = s->physics;
    size_t need = tw_ecs_entity_capacity(s->world);
    if (need <= p->slot_cap) return TW_OK;
    size_t old = p->slot_cap;
    int32_t *m = tw_realloc(&s->alloc, p->slot_body, old * sizeof *m, need * sizeof *m);
    if (!m) return TW_ERR_NOMEM;
    for (size_t i = old; i < need; i++) m[i] = -1;
    p->slot_body = m;
    p->slot_cap = need;
    return TW_OK;
}

/* Brings the body list in line with the world: new Body entities get a
 * cpBody, gone ones lose theirs, survivors keep theirs (and their contacts).
 * The list follows query order, so worlds built the same way match. */
static tw_status bodies_refresh(tw_sim *s)
{
    tw_sim_physics *p = s->physics;
    tw_ecs_world *w = s->world;
    tw_status st = slot_map_fit(s);
    if (st) return st;
    uint32_t n = tw_ecs_query_count(w, &p->q_body);
    phys_body *next = tw_calloc(&s->alloc, n ? n : 1, sizeof *next);
    if (!next) return TW_ERR_NOMEM;
    uint32_t k = 0;
    tw_ecs_iter it = tw_ecs_query_iter(w, &p->q_body);
    while (tw_ecs_iter_next(&it)) {
        for (uint32_t i = 0; i < it.count && k < n; i++, k++) {
            tw_entity e = it.entities[i];
            int32_t old = p->slot_body[tw_entity_index(e)];
            if (old >= 0 && (size_t)old < p->body_count && tw_entity_eq(p->bodies[old].e, e) && p->bodies[old].body) {
                next[k] = p->bodies[old];
                p->bodies[old].body = NULL; /* moved */
                p->bodies[old].shape = NULL;
            } else {
                next[k].e = e;
                next[k].space = -1;
            }
            body_bind(s, &next[k]);
        }
    }
    /* Free what no longer exists (its entity is gone or lost Body). */
    for (size_t i = 0; i < p->body_count; i++)
        if (p->bodies[i].body) body_destroy(s, &p->bodies[i]);
    tw_free(&s->alloc, p->bodies, p->body_cap * sizeof *p->bodies);
    p->bodies = next;
    p->body_count = k;
    p->body_cap = n ? n : 1;
    for (size_t i = 0; i < p->slot_cap; i++) p->slot_body[i] = -1;
    for (size_t i = 0; i < k; i++) {
        p->slot_body[tw_entity_index(next[i].e)] = (int32_t)i;
        next[i].driven = 0;
        if (!next[i].body && (st = body_create(s, &next[i]))) return st;
        cpBodySetUserData(next[i].body, &next[i]); /* the record moved */
    }
    for (size_t i = 0; i < k; i++) body_place(s, &next[i], body_target_space(s, &next[i]));
    return TW_OK;
}

/* ---- teardown and rebuild -------------------------------------------------- */

static void spaces_teardown(tw_sim *s)
{
    tw_sim_physics *p = s->physics;
    /* A body that fell asleep touching another keeps a heap copy of its
     * contacts that only waking frees (cpSpaceDeactivateBody/ActivateBody);
     * cpSpaceFree does not. Wake every body first, or each rebuild leaks. */
    for (size_t i = 0; i < p->body_count; i++)
        if (p->bodies[i].body && p->bodies[i].space >= 0) cpBodyActivate(p->bodies[i].body);
    /* cpSpaceFree touches the bodies still in it, so free spaces first, then
     * every shape and body. */
    for (uint32_t i = 0; i < p->space_count; i++)
        if (p->spaces[i].space) cpSpaceFree(p->spaces[i].space);
    for (size_t i = 0; i < p->static_count; i++) cpShapeFree(p->statics[i]);
    for (size_t i = 0; i < p->belt_shape_count; i++) cpShapeFree(p->belt_shapes[i]);
    for (size_t i = 0; i < p->body_count; i++) {
        phys_body *pb = &p->bodies[i];
        if (pb->shape) cpShapeFree(pb->shape);
        if (pb->body) cpBodyFree(pb->body);
        pb->shape = NULL;
        pb->body = NULL;
        pb->space = -1;
    }
    tw_free(&s->alloc, p->spaces, (p->space_count ? p->space_count : 1) * sizeof *p->spaces);
    p->spaces = NULL;
    p->space_count = 0;
    p->static_count = 0;
    p->belt_shape_count = 0;
    p->door_count = 0;
    p->belt_count = 0;
}

/* The list of entities whose change means rebuilding the static geometry. */
static tw_status signature(tw_sim *s, tw_entity **out, size_t *count, size_t *cap)
{
    tw_sim_physics *p = s->physics;
    tw_ecs_query *qs[] = { &p->q_storey, &p->q_wall, &p->q_door, &p->q_conveyor };
    *count = 0;
    for (size_t q = 0; q < 4; q++) {
        tw_ecs_iter it = tw_ecs_query_iter(s->world, qs[q]);
        while (tw_ecs_iter_next(&it)) {
            if (tw_grow(&s->alloc, (void **)out, cap, *count + it.count + 1, sizeof **out)) return TW_ERR_NOMEM;
            memcpy(*out + *count, it.entities, it.count * sizeof **out);
            *count += it.count;
        }
        if (tw_grow(&s->alloc, (void **)out, cap, *count + 1, sizeof **out)) return TW_ERR_NOMEM;
        (*out)[(*count)++] = TW_ENTITY_NULL; /* separator */
    }
    return TW_OK;
}

static tw_status rebuild(tw_sim *s, tw_diag *diag)
{
    tw_sim_physics *p = s->physics;
    spaces_teardown(s);
    tw_status st = signature(s, &p->sig, &p->sig_count, &p->sig_cap);
    if (!st) st = build_spaces(s, diag);
    /* Every body is made anew from its component, in query order. */
    for (size_t i = 0; i < p->body_count; i++) p->bodies[i].e = TW_ENTITY_NULL;
    if (!st) st = bodies_refresh(s);
    /* A shut door with someone standing in its leaf waits, as in physics_sync
     * (bodies are placed only now, so the check comes after them). */
    for (size_t i = 0; !st && i < p->door_count; i++) {
        phys_door *pd = &p->doors[i];
        if (pd->shape && pd->shut && door_in_leaf(p, pd)) {
            pd->shut = 0;
            cpShapeSetSensor(pd->shape, cpTrue);
        }
    }
    p->version = tw_ecs_world_structure_version(s->world);
    return st;
}

tw_status tw_sim_physics_rebuild(tw_sim *s)
{
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = rebuild(s, &diag);
    if (st) TW_LOG(&s->log, TW_LOG_ERROR, "physics", "rebuilding the spaces failed: %s", diag.message);
    return st;
}

/* ---- lifecycle ------------------------------------------------------------ */

tw_status tw_sim_physics_new(tw_sim *s, tw_diag *diag)
{
    tw_sim_physics *p = tw_calloc(&s->alloc, 1, sizeof *p);
    if (!p) return TW_ERR_NOMEM;
    s->physics = p;
    tw_ecs_world *w = s->world;
    tw_status st;
    if ((st = tw_ecs_query_init(w, &p->q_storey, &(tw_ecs_query_desc){ .with = { s->c.storey } })) ||
        (st = tw_ecs_query_init(w, &p->q_wall, &(tw_ecs_query_desc){ .with = { s->c.wall, s->c.shape } })) ||
        (st = tw_ecs_query_init(w, &p->q_door, &(tw_ecs_query_desc){ .with = { s->c.door } })) ||
        (st = tw_ecs_query_init(w, &p->q_conveyor,
                                &(tw_ecs_query_desc){ .with = { s->c.conveyor, s->c.shape } })) ||
        (st = tw_ecs_query_init(w, &p->q_body, &(tw_ecs_query_desc){ .with = { s->c.body } })))
        return st;
    return rebuild(s, diag);
}

void tw_sim_physics_free(tw_sim *s)
{
    tw_sim_physics *p = s->physics;
    if (!p) return;
    spaces_teardown(s);
    tw_free(&s->alloc, p->statics, p->static_cap * sizeof *p->statics);
    tw_free(&s->alloc, p->belt_shapes, p->belt_shape_cap * sizeof *p->belt_shapes);
    tw_free(&s->alloc, p->doors, p->door_cap * sizeof *p->doors);
    tw_free(&s->alloc, p->belts, p->belt_cap * sizeof *p->belts);
    tw_free(&s->alloc, p->bodies, p->body_cap * sizeof *p->bodies);
    tw_free(&s->alloc, p->slot_body, p->slot_cap * sizeof *p->slot_body);
    tw_free(&s->alloc, p->sig, p->sig_cap * sizeof *p->sig);
    tw_ecs_query_fini(&p->q_storey);
    tw_ecs_query_fini(&p->q_wall);
    tw_ecs_query_fini(&p->q_door);
    tw_ecs_query_fini(&p->q_conveyor);
    tw_ecs_query_fini(&p->q_body);
    tw_free(&s->alloc, p, sizeof *p);
    s->physics = NULL;
}

/* ---- per tick ------------------------------------------------------------- */

static tw_status structure_changed(tw_sim *s)
{
    tw_sim_physics *p = s->physics;
    tw_entity *sig = NULL;
    size_t n = 0, cap = 0;
    tw_status st = signature(s, &sig, &n, &cap);
    int same = !st && n == p->sig_count && memcmp(sig, p->sig, n * sizeof *sig) == 0;
    tw_free(&s->alloc, sig, cap * sizeof *sig);
    if (st) return st;
    if (!same) return tw_sim_physics_rebuild(s);
    /* Static geometry unchanged: re-point at moved component data, diff bodies. */
    tw_ecs_world *w = s->world;
    for (size_t i = 0; i < p->door_count; i++) p->doors[i].data = tw_ecs_get(w, p->doors[i].door, s->c.door);
    for (size_t i = 0; i < p->belt_count; i++)
        p->belts[i].data = tw_ecs_get(w, p->belts[i].conveyor, s->c.conveyor);
    st = bodies_refresh(s);
    p->version = tw_ecs_world_structure_version(w);
    return st;
}

tw_status tw_sim_physics_sync(tw_sim *s)
{
    tw_sim_physics *p = s->physics;
    if (tw_ecs_world_structure_version(s->world) != p->version) {
        tw_status st = structure_changed(s);
        if (st) return st;
    }
    double now = tw_sim_now(s);
    for (size_t i = 0; i < p->door_count; i++) {
        phys_door *pd = &p->doors[i];
        Door *d = pd->data;
        if (!d) continue;
        if (d->self_closing && d->open && !d->locked) door_close_timer(s, pd, now);
        else if (d->close_at != 0) d->close_at = 0;
        if (!pd->shape) continue;
        uint8_t shut = (uint8_t)door_shut(d);
        if (shut == pd->shut) continue;
        /* A door does not swing shut through a body in its leaf (Chipmunk
         * would push it out at speed, maybe through the wall): it turns solid
         * at the first tick the leaf is clear. */
        if (shut && door_in_leaf(p, pd)) continue;
        pd->shut = shut;
        cpShapeSetSensor(pd->shape, shut ? cpFalse : cpTrue);
    }
    for (size_t i = 0; i < p->belt_count; i++) {
        phys_belt *pbelt = &p->belts[i];
        const Conveyor *cv = pbelt->data;
        if (!cv || (cv->speed == pbelt->speed && cv->running == pbelt->running)) continue;
        pbelt->speed = cv->speed;
        pbelt->running = cv->running;
        double v = cv->running ? cv->speed : 0.0;
        for (uint32_t k = 0; k < pbelt->count; k++) {
            cpShape *seg = p->belt_shapes[pbelt->first + k];
            cpVect d = cpvnormalize(cpvsub(cpSegmentShapeGetB(seg), cpSegmentShapeGetA(seg)));
            cpShapeSetSurfaceVelocity(seg, cpvmult(d, v));
        }
    }
    /* Agents walk in and out of the building and take the stairs by changing
     * their state and storey; move their bodies to match. */
    for (size_t i = 0; i < p->body_count; i++) {
        phys_body *pb = &p->bodies[i];
        if (!pb->a) continue;
        int32_t want = body_target_space(s, pb);
        if (want != pb->space) body_place(s, pb, want);
    }
    return TW_OK;
}

void tw_sim_physics_step(tw_sim *s)
{
    tw_sim_physics *p = s->physics;
    for (uint32_t i = 0; i < p->space_count; i++) p->spaces[i].awake = 0;

    /* Push what others wrote into Body since we last wrote it. */
    for (size_t i = 0; i < p->body_count; i++) {
        phys_body *pb = &p->bodies[i];
        if (pb->space < 0) continue;
        Body *b = pb->b;
        cpBody *cb = pb->body;
        if (b->position[0] != pb->pos[0] || b->position[1] != pb->pos[1]) {
            cpBodySetPosition(cb, cpv(b->position[0], b->position[1]));
            pb->pos[0] = b->position[0];
            pb->pos[1] = b->position[1];
        }
        if (b->velocity[0] != pb->vel[0] || b->velocity[1] != pb->vel[1]) {
            pb->target = cpv(b->velocity[0], b->velocity[1]);
            pb->driven = 1;
            cpBodyActivate(cb);
            pb->vel[0] = b->velocity[0];
            pb->vel[1] = b->velocity[1];
        }
        if (b->angle != pb->angle) {
            cpBodySetAngle(cb, b->angle);
            pb->angle = b->angle;
        }
        if (b->angular_velocity != pb->spin) {
            if (cb->i != INFINITY) cpBodySetAngularVelocity(cb, b->angular_velocity);
            pb->spin = b->angular_velocity;
        }
        if (!cb->sleeping.root) p->spaces[pb->space].awake++;
    }

    for (uint32_t i = 0; i < p->space_count; i++)
        if (p->spaces[i].awake) cpSpaceStep(p->spaces[i].space, s->dt);

    /* Copy results back; a body asleep before the step did not move. Reading
     * the struct fields directly keeps this loop free of library calls. */
    for (size_t i = 0; i < p->body_count; i++) {
        phys_body *pb = &p->bodies[i];
        if (pb->space < 0 || !p->spaces[pb->space].awake) continue;
        const cpBody *cb = pb->body;
        Body *b = pb->b;
        b->position[0] = pb->pos[0] = (float)cb->p.x;
        b->position[1] = pb->pos[1] = (float)cb->p.y;
        b->velocity[0] = pb->vel[0] = (float)cb->v.x;
        b->velocity[1] = pb->vel[1] = (float)cb->v.y;
        b->angle = pb->angle = (float)cb->a;
        b->angular_velocity = pb->spin = cb->i == INFINITY ? b->angular_velocity : (float)cb->w;
        if (pb->t) {
            pb->t->position[0] = b->position[0];
            pb->t->position[1] = b->position[1];
            pb->t->position[2] = p->spaces[pb->space].elevation;
            pb->t->yaw = b->angle;
        }
    }
}

int tw_sim_physics_drive(tw_sim *s, tw_entity e, float vx, float vy)
{
    tw_sim_physics *p = s->physics;
    uint32_t slot = tw_entity_index(e);
    if (slot >= p->slot_cap) return 0;
    int32_t k = p->slot_body[slot];
    if (k < 0 || (size_t)k >= p->body_count || !tw_entity_eq(p->bodies[k].e, e)) return 0;
    phys_body *pb = &p->bodies[k];
    /* Body shows the command until the step reports what came of it. */
    pb->b->velocity[0] = pb->vel[0] = vx;
    pb->b->velocity[1] = pb->vel[1] = vy;
    if (pb->space < 0) return 0;
    pb->target = cpv(vx, vy);
    pb->driven = 1;
    cpBodyActivate(pb->body);
    return 1;
}

int tw_sim_physics_belt_velocity(const tw_sim *s, tw_entity conveyor, uint32_t seg, float out[2])
{
    const tw_sim_physics *p = s->physics;
    for (size_t i = 0; i < p->belt_count; i++) {
        const phys_belt *pbelt = &p->belts[i];
        if (!tw_entity_eq(pbelt->conveyor, conveyor)) continue;
        if (seg >= pbelt->count) return 0;
        cpVect v = cpShapeGetSurfaceVelocity(p->belt_shapes[pbelt->first + seg]);
        out[0] = (float)v.x;
        out[1] = (float)v.y;
        return 1;
    }
    return 0;
}

static void line_hit(cpShape *shape, cpVect point, cpVect normal, cpFloat alpha, void *data)
{
    (void)point;
    (void)normal;
    (void)alpha;
    if (!cpShapeGetSensor(shape)) *(int *)data = 1;
}

int tw_sim_physics_line_clear(const tw_sim *s, tw_entity storey, const float a[2], const float b[2])
{
    int32_t si = space_index(s->physics, storey);
    if (si < 0) return 1;
    int hit = 0;
    cpSpaceSegmentQuery(s->physics->spaces[si].space, cpv(a[0], a[1]), cpv(b[0], b[1]), 0,
                        cpShapeFilterNew(CP_NO_GROUP, CP_ALL_CATEGORIES, CAT_WALL), line_hit, &hit);
    return !hit;
}

static void wall_hit(cpShape *shape, cpVect point, cpVect normal, cpFloat alpha, void *data)
{
    (void)point;
    (void)normal;
    (void)alpha;
    if (!cpShapeGetSensor(shape) && cpShapeGetUserData(shape) != (cpDataPointer)&door_leaf_tag) *(int *)data = 1;
}

int tw_sim_physics_walls_clear(const tw_sim *s, tw_entity storey, const float a[2], const float b[2])
{
    int32_t si = space_index(s->physics, storey);
    if (si < 0) return 1;
    int hit = 0;
    cpSpaceSegmentQuery(s->physics->spaces[si].space, cpv(a[0], a[1]), cpv(b[0], b[1]), 0,
                        cpShapeFilterNew(CP_NO_GROUP, CP_ALL_CATEGORIES, CAT_WALL), wall_hit, &hit);
    return !hit;
}
