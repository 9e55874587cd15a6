/* Physics bridge: bodies move, walls and shut doors stop them, open doors let
 * them through, structural changes are picked up, and stepping (also after a
 * rebuild of the spaces) is deterministic. */
#include "sim_internal.h"
#include "test.h"

typedef struct ph_fixture {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_entity storey;
    tw_sim *s;
} ph_fixture;

static void ph_init(ph_fixture *f)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(NULL);
    tw_sim_register_components(f->w, &f->c);
    f->storey = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, f->storey, "ground");
    tw_ecs_entity_set_kind(f->w, f->storey, TW_KIND_STOREY);
    tw_ecs_set(f->w, f->storey, f->c.storey, &(Storey){ 1.5f, 3.5f });
}

static tw_entity ph_wall(ph_fixture *f, const char *name, float x0, float y0, float x1, float y1)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, e, name);
    tw_ecs_entity_set_kind(f->w, e, TW_KIND_ELEMENT);
    tw_ecs_entity_set_parent(f->w, e, f->storey);
    Shape sh = { .kind = TW_SHAPE_POLYLINE, .height = 3, .thickness = 0.2f, .point_count = 2,
                 .points = { { x0, y0 }, { x1, y1 } } };
    tw_ecs_set(f->w, e, f->c.wall, &(Wall){ 0 });
    tw_ecs_set(f->w, e, f->c.shape, &sh);
    return e;
}

static tw_entity ph_body(ph_fixture *f, float x, float y, float vx, float vy)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_parent(f->w, e, f->storey);
    Body b = { .shape = TW_BODY_CIRCLE, .radius = 0.3f, .mass = 70, .position = { x, y }, .velocity = { vx, vy } };
    tw_ecs_set(f->w, e, f->c.body, &b);
    tw_ecs_set(f->w, e, f->c.transform, &(Transform){ { x, y, 0 }, 0 });
    return e;
}

static void ph_start(ph_fixture *f)
{
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = tw_sim_new(f->w, &(tw_sim_desc){ .dt = 0.1, .seed = 7 }, &f->s, &d);
    if (st) fprintf(stderr, "tw_sim_new: %s\n", d.message);
}

static void ph_fini(ph_fixture *f)
{
    tw_sim_free(f->s);
    tw_ecs_world_free(f->w);
}

static Body *ph_get(ph_fixture *f, tw_entity e) { return tw_ecs_get(f->w, e, f->c.body); }

/* Steps n ticks, pushing body e at (vx, vy) every tick the way steering does. */
static void ph_push(ph_fixture *f, tw_entity e, float vx, float vy, int n)
{
    for (int i = 0; i < n; i++) {
        tw_sim_physics_drive(f->s, e, vx, vy);
        tw_sim_step(f->s);
    }
}

TEST(physics_body_moves_and_mirrors_transform)
{
    ph_fixture f;
    ph_init(&f);
    tw_entity e = ph_body(&f, 0, 0, 1, 0);
    ph_start(&f);
    REQUIRE(f.s != NULL);
    ph_push(&f, e, 1.0f, 0.0f, 20);
    const Body *b = ph_get(&f, e);
    /* 2 s at 1 m/s (the first tick's drive moves it from the second on) */
    CHECK(b->position[0] > 1.85f && b->position[0] < 2.05f);
    CHECK_NEAR(b->velocity[0], 1.0, 1e-6);
    CHECK_NEAR(b->position[1], 0, 1e-4);
    const Transform *t = tw_ecs_get(f.w, e, f.c.transform);
    CHECK_NEAR(t->position[0], b->position[0], 1e-6);
    CHECK_NEAR(t->position[2], 1.5, 1e-6); /* the storey's elevation */
    /* Left alone, damping stops it and it falls asleep where it is. */
    for (int i = 0; i < 100; i++) tw_sim_step(f.s);
    float x = ph_get(&f, e)->position[0];
    CHECK(fabsf(ph_get(&f, e)->velocity[0]) < 0.06f);
    for (int i = 0; i < 20; i++) tw_sim_step(f.s);
    CHECK_NEAR(ph_get(&f, e)->position[0], x, 0.01);
    ph_fini(&f);
}

TEST(physics_wall_stops_body)
{
    ph_fixture f;
    ph_init(&f);
    ph_wall(&f, "east", 3, -5, 3, 5);
    tw_entity e = ph_body(&f, 0, 0, 0, 0);
    tw_entity free_body = ph_body(&f, 0, 10, 0, 0); /* a control with no wall in its way */
    ph_start(&f);
    REQUIRE(f.s != NULL);
    for (int i = 0; i < 100; i++) {
        tw_sim_physics_drive(f.s, free_body, 1.0f, 0.0f);
        ph_push(&f, e, 1.0f, 0.0f, 1);
    }
    float x = ph_get(&f, e)->position[0];
    CHECK(x < 3.0f - 0.1f - 0.3f + 0.03f); /* wall face minus radius, a little slop */
    CHECK(x > 2.4f);
    CHECK(ph_get(&f, free_body)->position[0] > 6.0f);
    ph_fini(&f);
}

TEST(physics_door_shut_blocks_open_lets_through)
{
    ph_fixture f;
    ph_init(&f);
    tw_entity wall = ph_wall(&f, "east", 3, -5, 3, 5);
    tw_entity door = tw_ecs_entity_create(f.w);
    tw_ecs_entity_set_name(f.w, door, "door");
    tw_ecs_entity_set_parent(f.w, door, f.storey);
    tw_ecs_set(f.w, door, f.c.door, &(Door){ .wall = wall, .offset = 5.0f, .width = 1.0f, .open = 0 });
    tw_entity e = ph_body(&f, 0, 0, 0, 0);
    ph_start(&f);
    REQUIRE(f.s != NULL);
    ph_push(&f, e, 1.0f, 0.0f, 60);
    CHECK(ph_get(&f, e)->position[0] < 2.65f);
    /* Opened by anyone (a binding, a what-if): physics picks it up. */
    ((Door *)tw_ecs_get(f.w, door, f.c.door))->open = 1;
    ph_push(&f, e, 1.0f, 0.0f, 40);
    CHECK(ph_get(&f, e)->position[0] > 4.0f);
    CHECK_NEAR(ph_get(&f, e)->position[1], 0, 0.05);
    /* Locked: shut again, even though "open" is still set. */
    ((Door *)tw_ecs_get(f.w, door, f.c.door))->locked = 1;
    ph_push(&f, e, -1.0f, 0.0f, 60);
    CHECK(ph_get(&f, e)->position[0] > 3.35f);
    /* The wall beside the opening is still solid. */
    tw_entity side = ph_body(&f, 0, 2.0f, 0, 0);
    tw_sim_step(f.s);
    ph_push(&f, side, 1.0f, 0.0f, 60);
    CHECK(ph_get(&f, side)->position[0] < 2.65f);
    ph_fini(&f);
}

TEST(physics_door_on_a_non_wall_is_an_error)
{
    ph_fixture f;
    ph_init(&f);
    tw_entity door = tw_ecs_entity_create(f.w);
    tw_ecs_entity_set_name(f.w, door, "door");
    tw_ecs_entity_set_parent(f.w, door, f.storey);
    tw_ecs_set(f.w, door, f.c.door, &(Door){ .wall = f.storey, .offset = 1, .width = 1 });
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = tw_sim_new(f.w, &(tw_sim_desc){ 0 }, &f.s, &d);
    CHECK(st != TW_OK);
    CHECK(f.s == NULL);
    CHECK_CONTAINS(d.message, "ground/door");
    ph_fini(&f);
}

TEST(physics_picks_up_new_and_removed_bodies)
{
    ph_fixture f;
    ph_init(&f);
    tw_entity a = ph_body(&f, 0, 0, 0, 0);
    ph_start(&f);
    REQUIRE(f.s != NULL);
    tw_sim_step(f.s);
    tw_entity b = ph_body(&f, 5, 0, 0, 0);
    ph_push(&f, b, 0, 1.0f, 10);
    CHECK(ph_get(&f, b)->position[1] > 0.5f);
    tw_ecs_entity_destroy(f.w, a);
    ph_push(&f, b, 0, 1.0f, 10);
    CHECK(ph_get(&f, b)->position[1] > 1.2f);
    /* a body teleported and stopped by someone else (a binding, an edit)
     * lands where it was put */
    ph_get(&f, b)->position[0] = -4.0f;
    ph_get(&f, b)->velocity[1] = 0;
    tw_sim_step(f.s);
    CHECK_NEAR(ph_get(&f, b)->position[0], -4.0, 1e-3);
    CHECK_NEAR(ph_get(&f, b)->velocity[1], 0, 1e-6);
    /* and a velocity set that way drives it like steering does */
    ph_get(&f, b)->velocity[0] = 1.0f;
    for (int i = 0; i < 10; i++) tw_sim_step(f.s);
    CHECK(ph_get(&f, b)->position[0] > -3.95f);
    ph_fini(&f);
}

/* A walled box with bodies pushing every which way. */
static void ph_crowd(ph_fixture *f, tw_entity *bodies, int n)
{
    ph_init(f);
    ph_wall(f, "s", -1, -1, 9, -1);
    ph_wall(f, "e", 9, -1, 9, 9);
    ph_wall(f, "n", 9, 9, -1, 9);
    ph_wall(f, "w", -1, 9, -1, -1);
    for (int i = 0; i < n; i++) bodies[i] = ph_body(f, (float)(i % 6) * 1.3f, (float)(i / 6) * 1.3f, 0, 0);
    ph_start(f);
}

static void ph_crowd_tick(ph_fixture *f, tw_entity *bodies, int n, int t)
{
    for (int i = 0; i < n; i++) {
        float a = (float)i * 2.4f + (float)t * 0.03f;
        tw_sim_physics_drive(f->s, bodies[i], cosf(a) * 1.2f, sinf(a) * 1.2f);
    }
    tw_sim_step(f->s);
}

static int ph_same_bodies(ph_fixture *a, ph_fixture *b, tw_entity *ba, tw_entity *bb, int n)
{
    for (int i = 0; i < n; i++)
        if (memcmp(ph_get(a, ba[i]), ph_get(b, bb[i]), sizeof(Body)) != 0) return 0;
    return 1;
}

TEST(physics_identical_worlds_step_identically)
{
    enum { N = 30 };
    ph_fixture a, b;
    tw_entity ba[N], bb[N];
    ph_crowd(&a, ba, N);
    ph_crowd(&b, bb, N);
    REQUIRE(a.s && b.s);
    for (int t = 0; t < 300; t++) {
        ph_crowd_tick(&a, ba, N, t);
        ph_crowd_tick(&b, bb, N, t);
    }
    CHECK(ph_same_bodies(&a, &b, ba, bb, N));
    /* and they did move and collide */
    float moved = 0;
    for (int i = 0; i < N; i++) moved += fabsf(ph_get(&a, ba[i])->position[0] - (float)(i % 6) * 1.3f);
    CHECK(moved > 5.0f);
    ph_fini(&a);
    ph_fini(&b);
}

TEST(physics_rebuild_then_step_is_deterministic)
{
    enum { N = 30 };
    ph_fixture a, b, c;
    tw_entity ba[N], bb[N], bc[N];
    ph_crowd(&a, ba, N);
    ph_crowd(&b, bb, N);
    ph_crowd(&c, bc, N);
    REQUIRE(a.s && b.s && c.s);
    for (int t = 0; t < 400; t++) {
        if (t == 150) {
            /* a and b rebuild at the keyframe boundary; c plays on */
            CHECK_EQ_INT(tw_sim_physics_rebuild(a.s), TW_OK);
            CHECK_EQ_INT(tw_sim_physics_rebuild(b.s), TW_OK);
            CHECK(ph_same_bodies(&a, &c, ba, bc, N));
        }
        ph_crowd_tick(&a, ba, N, t);
        ph_crowd_tick(&b, bb, N, t);
        ph_crowd_tick(&c, bc, N, t);
    }
    CHECK(ph_same_bodies(&a, &b, ba, bb, N));
    /* the bodies are all still simulated after the rebuild */
    for (int i = 0; i < N; i++) {
        const Body *p = ph_get(&a, ba[i]);
        CHECK(p->position[0] > -1 && p->position[0] < 9 && p->position[1] > -1 && p->position[1] < 9);
    }
    ph_fini(&a);
    ph_fini(&b);
    ph_fini(&c);
}
