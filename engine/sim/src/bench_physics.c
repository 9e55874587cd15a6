/* The physics benchmark: the engine's physics tick against bare cpSpaceStep
 * on the same bodies. This file reads the wall clock on purpose; it is a
 * benchmark, never part of a simulation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <chipmunk/chipmunk.h>
#include <chipmunk/chipmunk_structs.h>

#include "sim_internal.h"
#include "twin/clock.h"
#include "twin/sim_bench.h"

#define BENCH_PI 3.14159265358979323846
#define BENCH_RADIUS 0.5
#define BENCH_MASS 70.0
#define BENCH_COVER 0.2
#define BENCH_SPEED 1.0f
#define BENCH_TURN 0.2     /* rad/s every heading turns */
#define BENCH_WALL 0.2     /* m thick */
#define BENCH_ROUNDS 9
#define BENCH_WARMUP 30

typedef struct bench_setup {
    double side;            /* m, inside of the walls */
    uint32_t n;
    float (*pos)[2];
    float (*head)[2];       /* unit headings at t = 0 */
} bench_setup;

/* The wanted velocity of body i at a tick: its heading turned by the tick's angle. */
static inline void bench_velocity(const bench_setup *b, uint32_t i, float c, float s, float out[2])
{
    out[0] = (b->head[i][0] * c - b->head[i][1] * s) * BENCH_SPEED;
    out[1] = (b->head[i][0] * s + b->head[i][1] * c) * BENCH_SPEED;
}

static void bench_turn(uint64_t tick, double dt, float *c, float *s)
{
    double a = BENCH_TURN * dt * (double)tick;
    *c = (float)cos(a);
    *s = (float)sin(a);
}

static const double wall_pts[4][2][2] = { { { 0, 0 }, { 1, 0 } }, { { 1, 0 }, { 1, 1 } }, { { 1, 1 }, { 0, 1 } },
                                          { { 0, 1 }, { 0, 0 } } };

/* ---- the engine side ---------------------------------------------------- */

typedef struct engine_run {
    tw_ecs_world *w;
    tw_sim *s;
    tw_entity *bodies;
} engine_run;

static tw_status engine_build(const bench_setup *b, engine_run *r, const tw_allocator *alloc)
{
    memset(r, 0, sizeof *r);
    tw_log quiet = { 0 };
    tw_log_set_level(&quiet, TW_LOG_WARN);
    r->w = tw_ecs_world_new(&(tw_ecs_world_desc){ .log = &quiet, .initial_entities = b->n + 16 });
    if (!r->w) return TW_ERR_NOMEM;
    tw_sim_components c;
    tw_status st = tw_sim_register_components(r->w, &c);
    if (st) return st;
    tw_entity storey = tw_ecs_entity_create(r->w);
    tw_ecs_entity_set_kind(r->w, storey, TW_KIND_STOREY);
    if ((st = tw_ecs_entity_set_name(r->w, storey, "floor")) ||
        (st = tw_ecs_set(r->w, storey, c.storey, &(Storey){ 0.0f, 3.5f })))
        return st;
    for (int k = 0; k < 4; k++) {
        tw_entity wall = tw_ecs_entity_create(r->w);
        Shape sh = { .kind = TW_SHAPE_POLYLINE, .height = 3, .thickness = (float)BENCH_WALL, .point_count = 2 };
        for (int p = 0; p < 2; p++) {
            /* the wall's inner face lies on the floor's edge */
            sh.points[p][0] = (float)(wall_pts[k][p][0] * (b->side + BENCH_WALL) - BENCH_WALL / 2);
            sh.points[p][1] = (float)(wall_pts[k][p][1] * (b->side + BENCH_WALL) - BENCH_WALL / 2);
        }
        tw_ecs_entity_set_kind(r->w, wall, TW_KIND_ELEMENT);
        if ((st = tw_ecs_entity_set_parent(r->w, wall, storey)) || (st = tw_ecs_set(r->w, wall, c.wall, &(Wall){ 0 })) ||
            (st = tw_ecs_set(r->w, wall, c.shape, &sh)))
            return st;
    }
    tw_component with[2] = { c.body, c.transform };
    tw_entity *es = tw_alloc(alloc, b->n * sizeof *es);
    if (!es) return TW_ERR_NOMEM;
    st = tw_ecs_entity_create_bulk(r->w, with, 2, b->n, es);
    for (uint32_t i = 0; i < b->n && !st; i++) {
        Body body = { .shape = TW_BODY_CIRCLE, .radius = (float)BENCH_RADIUS, .mass = (float)BENCH_MASS,
                      .position = { b->pos[i][0], b->pos[i][1] } };
        bench_velocity(b, i, 1.0f, 0.0f, body.velocity);
        if (!(st = tw_ecs_set(r->w, es[i], c.body, &body))) st = tw_ecs_entity_set_parent(r->w, es[i], storey);
    }
    if (!st) {
        r->bodies = tw_alloc(alloc, b->n * sizeof *r->bodies);
        if (!r->bodies) st = TW_ERR_NOMEM;
    }
    if (!st) st = tw_sim_new(r->w, &(tw_sim_desc){ .dt = 0.1, .log = &quiet }, &r->s, NULL);
    /* The bench plays the steering system: it drives each body by entity. */
    for (uint32_t i = 0; i < b->n && !st; i++) r->bodies[i] = es[i];
    tw_free(alloc, es, b->n * sizeof *es);
    return st;
}

static void engine_tick(const bench_setup *b, engine_run *r, uint64_t tick)
{
    float c, s, v[2];
    /* the physics part of tw_sim_step, in its order: sync, then (deferred)
     * steering drives the bodies, the step, the write-back */
    tw_sim_physics_sync(r->s);
    bench_turn(tick, r->s->dt, &c, &s);
    for (uint32_t i = 0; i < b->n; i++) {
        bench_velocity(b, i, c, s, v);
        tw_sim_physics_drive(r->s, r->bodies[i], v[0], v[1]);
    }
    tw_ecs_defer_begin(r->w);
    tw_sim_physics_step(r->s);
    tw_ecs_defer_end(r->w);
}

static void engine_free(const bench_setup *b, engine_run *r, const tw_allocator *alloc)
{
    tw_sim_free(r->s);
    if (r->w) tw_ecs_world_free(r->w);
    tw_free(alloc, r->bodies, b->n * sizeof *r->bodies);
}

/* ---- the bare side ------------------------------------------------------------ */

/* The bare side drives its bodies the way the engine does (the wanted
 * velocity replaces the velocity step), so both integrate the same physics. */
typedef struct bare_drive {
    cpVect target;
    int driven;
} bare_drive;

static void bare_velocity(cpBody *body, cpVect gravity, cpFloat damping, cpFloat dt)
{
    bare_drive *d = cpBodyGetUserData(body);
    if (d->driven) {
        body->v = d->target;
        body->f = cpvzero;
        body->t = 0;
        d->driven = 0;
        return;
    }
    cpBodyUpdateVelocity(body, gravity, damping, dt);
}

typedef struct bare_run {
    cpSpace *space;
    bare_drive *drive;
    cpBody **bodies;
    cpShape **shapes;
    cpShape *walls[4];
} bare_run;

static tw_status bare_build(const bench_setup *b, bare_run *r, const tw_allocator *alloc)
{
    memset(r, 0, sizeof *r);
    r->space = tw_sim_physics_space_new();
    r->bodies = tw_calloc(alloc, b->n, sizeof *r->bodies);
    r->shapes = tw_calloc(alloc, b->n, sizeof *r->shapes);
    r->drive = tw_calloc(alloc, b->n, sizeof *r->drive);
    if (!r->space || !r->bodies || !r->shapes || !r->drive) return TW_ERR_NOMEM;
    tw_sim_physics_space_configure(r->space);
    for (int k = 0; k < 4; k++) {
        cpVect p[2];
        for (int i = 0; i < 2; i++)
            p[i] = cpv((float)(wall_pts[k][i][0] * (b->side + BENCH_WALL) - BENCH_WALL / 2),
                       (float)(wall_pts[k][i][1] * (b->side + BENCH_WALL) - BENCH_WALL / 2));
        r->walls[k] = cpSegmentShapeNew(cpSpaceGetStaticBody(r->space), p[0], p[1], (float)BENCH_WALL * 0.5f);
        cpShapeSetFriction(r->walls[k], 0);
        cpSpaceAddShape(r->space, r->walls[k]);
    }
    for (uint32_t i = 0; i < b->n; i++) {
        double radius = (float)BENCH_RADIUS, mass = (float)BENCH_MASS;
        cpBody *body = cpBodyNew(mass, cpMomentForCircle(mass, 0, radius, cpvzero));
        cpShape *sh = cpCircleShapeNew(body, radius, cpvzero);
        cpBodySetVelocityUpdateFunc(body, bare_velocity);
        cpBodySetUserData(body, &r->drive[i]);
        cpShapeSetFriction(sh, 0);
        float v[2];
        bench_velocity(b, i, 1.0f, 0.0f, v);
        cpBodySetPosition(body, cpv(b->pos[i][0], b->pos[i][1]));
        cpBodySetVelocity(body, cpv(v[0], v[1]));
        cpSpaceAddBody(r->space, body);
        cpSpaceAddShape(r->space, sh);
        r->bodies[i] = body;
        r->shapes[i] = sh;
    }
    return TW_OK;
}

static void bare_tick(const bench_setup *b, bare_run *r, uint64_t tick, double dt)
{
    float c, s, v[2];
    bench_turn(tick, dt, &c, &s);
    for (uint32_t i = 0; i < b->n; i++) {
        bench_velocity(b, i, c, s, v);
        r->drive[i].target = cpv(v[0], v[1]);
        r->drive[i].driven = 1;
        cpBodyActivate(r->bodies[i]);
    }
    cpSpaceStep(r->space, dt);
}

static void bare_free(const bench_setup *b, bare_run *r, const tw_allocator *alloc)
{
    if (r->space) cpSpaceFree(r->space);
    for (int k = 0; k < 4; k++)
        if (r->walls[k]) cpShapeFree(r->walls[k]);
    for (uint32_t i = 0; r->bodies && i < b->n; i++) {
        if (r->shapes[i]) cpShapeFree(r->shapes[i]);
        if (r->bodies[i]) cpBodyFree(r->bodies[i]);
    }
    tw_free(alloc, r->bodies, b->n * sizeof *r->bodies);
    tw_free(alloc, r->shapes, b->n * sizeof *r->shapes);
    tw_free(alloc, r->drive, b->n * sizeof *r->drive);
}

/* ---- the benchmark -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

tw_status tw_sim_bench_physics(uint32_t agents, uint32_t ticks, double *engine_ms_per_tick, double *bare_ms_per_tick)
{
    TW_CHECK(agents > 0, "tw_sim_bench_physics needs at least one agent.");
    TW_CHECK(engine_ms_per_tick && bare_ms_per_tick, "tw_sim_bench_physics needs somewhere to put its results.");
    if (ticks == 0) ticks = 200;
    uint32_t per_round = ticks / BENCH_ROUNDS ? ticks / BENCH_ROUNDS : 1;
    tw_allocator alloc = tw_allocator_default();
    bench_setup b = { 0 };
    b.n = agents;
    b.side = sqrt(agents * BENCH_PI * BENCH_RADIUS * BENCH_RADIUS / BENCH_COVER);
    b.pos = tw_alloc(&alloc, agents * sizeof *b.pos);
    b.head = tw_alloc(&alloc, agents * sizeof *b.head);
    if (!b.pos || !b.head) {
        tw_free(&alloc, b.pos, agents * sizeof *b.pos);
        tw_free(&alloc, b.head, agents * sizeof *b.head);
        return TW_ERR_NOMEM;
    }
    /* Bodies on a grid, jittered, with seeded headings: the same every run. */
    uint32_t cols = (uint32_t)ceil(sqrt((double)agents));
    double pitch = b.side / cols;
    tw_rng rng;
    tw_rng_seed(&rng, 42, 7);
    for (uint32_t i = 0; i < agents; i++) {
        double jitter = pitch * 0.5 - BENCH_RADIUS > 0 ? pitch * 0.5 - BENCH_RADIUS : 0;
        b.pos[i][0] = (float)((i % cols + 0.5) * pitch + tw_rng_range(&rng, -jitter, jitter));
        b.pos[i][1] = (float)((i / cols + 0.5) * pitch + tw_rng_range(&rng, -jitter, jitter));
        double a = tw_rng_range(&rng, 0, 2 * BENCH_PI);
        b.head[i][0] = (float)cos(a);
        b.head[i][1] = (float)sin(a);
    }

    engine_run er;
    bare_run br;
    memset(&er, 0, sizeof er);
    memset(&br, 0, sizeof br);
    tw_status st = engine_build(&b, &er, &alloc);
    if (!st) st = bare_build(&b, &br, &alloc);
    if (!st) {
        const double dt = 0.1;
        uint64_t tick = 0;
        for (; tick < BENCH_WARMUP; tick++) {
            engine_tick(&b, &er, tick);
            bare_tick(&b, &br, tick, dt);
        }
        double e_ms[BENCH_ROUNDS], b_ms[BENCH_ROUNDS];
        /* Rounds alternate so both sides see the same machine noise. */
        for (int round = 0; round < BENCH_ROUNDS; round++) {
            uint64_t t0 = tw_clock_monotonic_ns();
            for (uint32_t k = 0; k < per_round; k++) engine_tick(&b, &er, tick + k);
            uint64_t t1 = tw_clock_monotonic_ns();
            for (uint32_t k = 0; k < per_round; k++) bare_tick(&b, &br, tick + k, dt);
            uint64_t t2 = tw_clock_monotonic_ns();
            tick += per_round;
            e_ms[round] = (double)(t1 - t0) / 1e6 / per_round;
            b_ms[round] = (double)(t2 - t1) / 1e6 / per_round;
        }
        *engine_ms_per_tick = median(e_ms, BENCH_ROUNDS);
        *bare_ms_per_tick = median(b_ms, BENCH_ROUNDS);
    }
    engine_free(&b, &er, &alloc);
    bare_free(&b, &br, &alloc);
    tw_free(&alloc, b.pos, agents * sizeof *b.pos);
    tw_free(&alloc, b.head, agents * sizeof *b.head);
    return st;
}
