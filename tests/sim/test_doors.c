/* Doors: people and AGVs open a shut door on their way before they reach it,
 * self-closing doors shut close_delay after the doorway was last occupied
 * (never on someone standing in it), locked doors stay shut and routing goes
 * round them, held-open doors stay open, passages are counted, and identical
 * worlds stay identical. */
#include "sim_internal.h"
#include "test.h"

typedef struct dr_fixture {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_entity site, ground;
    tw_entity outer, mid;
    tw_entity front, door1, door2;         /* front: the exit in the outer wall */
    tw_entity entrance, a1, w1, w2, b1, desk;
    tw_sim *s;
} dr_fixture;

static tw_entity dr_named(dr_fixture *f, tw_entity parent, const char *name, tw_kind kind)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, e, name);
    tw_ecs_entity_set_kind(f->w, e, kind);
    if (!tw_entity_is_null(parent)) tw_ecs_entity_set_parent(f->w, e, parent);
    return e;
}

static tw_entity dr_waypoint(dr_fixture *f, const char *name, float x, float y, int role, tw_entity door)
{
    tw_entity e = dr_named(f, f->ground, name, TW_KIND_WAYPOINT);
    tw_ecs_set(f->w, e, f->c.transform, &(Transform){ { x, y, 0 }, 0 });
    tw_ecs_set(f->w, e, f->c.waypoint, &(Waypoint){ .role = role, .door = door });
    return e;
}

static void dr_link(dr_fixture *f, tw_entity a, tw_entity b)
{
    Waypoint *wp = tw_ecs_get(f->w, a, f->c.waypoint);
    wp->links[wp->link_count++] = b;
}

static tw_entity dr_wall(dr_fixture *f, const char *name, const float (*pts)[2], uint32_t n)
{
    tw_entity e = dr_named(f, f->ground, name, TW_KIND_ELEMENT);
    Shape sh = { .kind = TW_SHAPE_POLYLINE, .height = 3, .thickness = 0.2f, .point_count = n };
    memcpy(sh.points, pts, n * sizeof *pts);
    tw_ecs_set(f->w, e, f->c.wall, &(Wall){ 0 });
    tw_ecs_set(f->w, e, f->c.shape, &sh);
    return e;
}

static tw_entity dr_door(dr_fixture *f, const char *name, tw_entity wall, float offset, Door d)
{
    tw_entity e = dr_named(f, f->ground, name, TW_KIND_ELEMENT);
    d.wall = wall;
    d.offset = offset;
    d.width = 1.0f;
    tw_ecs_set(f->w, e, f->c.door, &d);
    return e;
}

/* Two rooms (A: x 0..8, B: x 8..16, y 0..10). The exit is a doorway in the
 * west facade (door "front" at (0, 5)); the wall between the rooms has
 * door1 at y = 5 and, with two_doors, door2 at y = 8.5. The walk in goes
 * entrance - a1 (5, 5) - w1 (doorway, 8, 5) - b1 (11, 5) - desk (14, 5). */
static void dr_building(dr_fixture *f, Door front, Door d1, int two_doors, Door d2)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(NULL);
    tw_sim_register_components(f->w, &f->c);
    f->site = dr_named(f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    tw_ecs_set(f->w, f->site, f->c.mobility, &(Mobility){ 0 });
    f->ground = dr_named(f, f->site, "ground", TW_KIND_STOREY);
    tw_ecs_set(f->w, f->ground, f->c.storey, &(Storey){ 0.0f, 3.5f });
    const float outer[5][2] = { { 0, 0 }, { 16, 0 }, { 16, 10 }, { 0, 10 }, { 0, 0 } };
    f->outer = dr_wall(f, "outer", outer, 5);
    const float mid[2][2] = { { 8, 0 }, { 8, 10 } };
    f->mid = dr_wall(f, "mid", mid, 2);
    f->front = dr_door(f, "front", f->outer, 16 + 10 + 16 + 5, front);
    f->door1 = dr_door(f, "door1", f->mid, 5, d1);
    f->entrance = dr_waypoint(f, "entrance", 0, 5, TW_WAYPOINT_ENTRANCE, f->front);
    ((Waypoint *)tw_ecs_get(f->w, f->entrance, f->c.waypoint))->exit = 1;
    f->a1 = dr_waypoint(f, "a1", 5, 5, TW_WAYPOINT_PATH, TW_ENTITY_NULL);
    f->w1 = dr_waypoint(f, "w1", 8, 5, TW_WAYPOINT_PATH, f->door1);
    f->b1 = dr_waypoint(f, "b1", 11, 5, TW_WAYPOINT_PATH, TW_ENTITY_NULL);
    f->desk = dr_waypoint(f, "desk", 14, 5, TW_WAYPOINT_DESK, TW_ENTITY_NULL);
    dr_link(f, f->entrance, f->a1);
    dr_link(f, f->a1, f->w1);
    dr_link(f, f->w1, f->b1);
    dr_link(f, f->b1, f->desk);
    if (two_doors) {
        f->door2 = dr_door(f, "door2", f->mid, 8.5f, d2);
        f->w2 = dr_waypoint(f, "w2", 8, 8.5f, TW_WAYPOINT_PATH, f->door2);
        dr_link(f, f->a1, f->w2);
        dr_link(f, f->w2, f->b1);
    }
}

static tw_entity dr_person(dr_fixture *f, const char *name, float arrive, float leave)
{
    tw_entity e = dr_named(f, f->ground, name, TW_KIND_AGENT);
    Agent a = { .type = TW_AGENT_PERSON, .max_speed = 1.3f, .home = f->desk, .arrive_hour = arrive,
                .leave_hour = leave };
    tw_ecs_set(f->w, e, f->c.agent, &a);
    tw_ecs_set(f->w, e, f->c.body, &(Body){ .shape = TW_BODY_CIRCLE, .radius = 0.3f, .mass = 70 });
    tw_ecs_set(f->w, e, f->c.transform, &(Transform){ { 0, 0, 0 }, 0 });
    return e;
}

static int dr_start(dr_fixture *f, double hour)
{
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = tw_sim_new(f->w, &(tw_sim_desc){ .dt = 0.1, .seed = 3, .start_time = hour * 3600.0 }, &f->s, &d);
    if (st) fprintf(stderr, "tw_sim_new: %s\n", d.message);
    return st == TW_OK;
}

static void dr_fini(dr_fixture *f)
{
    tw_sim_free(f->s);
    tw_ecs_world_free(f->w);
}

static Door *dr_d(dr_fixture *f, tw_entity door) { return tw_ecs_get(f->w, door, f->c.door); }
static Agent *dr_agent(dr_fixture *f, tw_entity e) { return tw_ecs_get(f->w, e, f->c.agent); }
static Body *dr_body(dr_fixture *f, tw_entity e) { return tw_ecs_get(f->w, e, f->c.body); }

static float dr_dist(dr_fixture *f, tw_entity e, float x, float y)
{
    const Body *b = dr_body(f, e);
    return hypotf(b->position[0] - x, b->position[1] - y);
}

/* Distance from a body's centre to door1's leaf (x = 8, y 4.5..5.5). */
static float dr_leaf_dist(dr_fixture *f, tw_entity e)
{
    const Body *b = dr_body(f, e);
    float y = b->position[1] < 4.5f ? 4.5f : b->position[1] > 5.5f ? 5.5f : b->position[1];
    return hypotf(b->position[0] - 8.0f, b->position[1] - y);
}

static void dr_run(dr_fixture *f, double seconds)
{
    uint64_t n = (uint64_t)(seconds / 0.1 + 0.5);
    for (uint64_t i = 0; i < n; i++) tw_sim_step(f->s);
}

/* A line across door1 is clear only while its leaf is not solid. */
static int dr_door1_passable_in_physics(dr_fixture *f)
{
    const float a[2] = { 7.0f, 5.0f }, b[2] = { 9.0f, 5.0f };
    return tw_sim_physics_line_clear(f->s, f->ground, a, b);
}

TEST(doors_shut_door_on_the_only_route_is_opened_in_time_and_passed)
{
    /* The same day twice: door1 open from the start, and door1 shut. */
    dr_fixture o, f;
    dr_building(&o, (Door){ .open = 1 }, (Door){ .open = 1 }, 0, (Door){ 0 });
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 0 }, 0, (Door){ 0 });
    tw_entity po = dr_person(&o, "ann", 7.5f, 8.5f), p = dr_person(&f, "ann", 7.5f, 8.5f);
    REQUIRE(dr_start(&o, 7.0) && dr_start(&f, 7.0));
    CHECK(!dr_door1_passable_in_physics(&f));
    float opened_at = -1, closest_while_shut = 100;
    int at_desk = 0;
    for (int i = 0; i < 2 * 36000; i++) {
        int was_open = dr_d(&f, f.door1)->open;
        tw_sim_step(o.s);
        tw_sim_step(f.s);
        const Agent *a = dr_agent(&f, p);
        if (a->state == TW_AGENT_OUTSIDE) continue;
        float d = dr_dist(&f, p, 8, 5);
        if (!was_open && dr_d(&f, f.door1)->open && opened_at < 0) opened_at = d;
        if (!dr_door1_passable_in_physics(&f) && d < closest_while_shut) closest_while_shut = d;
        if (a->state == TW_AGENT_IDLE && dr_dist(&f, p, 14, 5) < 0.6f) at_desk = 1;
    }
    CHECK(at_desk);
    /* opened on reaching a1, 3 m before the doorway; solid only while she was far */
    CHECK(opened_at > 2.0f && opened_at < 3.5f);
    CHECK(closest_while_shut > 2.0f);
    /* she never touched it: her day is the same, to the bit, as with the door open */
    CHECK(memcmp(dr_body(&o, po), dr_body(&f, p), sizeof(Body)) == 0);
    CHECK(memcmp(dr_agent(&o, po), dr_agent(&f, p), sizeof(Agent)) == 0);
    CHECK_EQ_INT(dr_agent(&f, p)->state, TW_AGENT_OUTSIDE);
    CHECK_EQ_INT(dr_agent(&f, p)->trips, 2);
    /* not self-closing: it stays open; in and out, each door twice */
    CHECK_EQ_INT(dr_d(&f, f.door1)->open, 1);
    CHECK(dr_door1_passable_in_physics(&f));
    CHECK_EQ_INT(dr_d(&f, f.door1)->passages, 2);
    CHECK_EQ_INT(dr_d(&f, f.front)->passages, 2);
    CHECK_EQ_INT(dr_d(&o, o.door1)->passages, 2);
    dr_fini(&o);
    dr_fini(&f);
}

TEST(doors_self_closing_door_shuts_close_delay_after_the_agent_has_passed)
{
    dr_fixture f;
    const Door self = { .open = 0, .self_closing = 1, .close_delay = 5.0f };
    dr_building(&f, self, self, 0, (Door){ 0 });
    tw_entity p = dr_person(&f, "ann", 7.5f, 12.0f);
    REQUIRE(dr_start(&f, 7.0));
    /* Step until she is at her desk; note the last tick whose start saw her
     * centre within 1.2 m of door1's leaf (positions after step n are what
     * tick n + 1 starts from). */
    uint64_t last_near = 0, shut_tick = 0;
    int at_desk = 0;
    for (int i = 0; i < 2 * 36000 && !at_desk; i++) {
        tw_sim_step(f.s);
        const Agent *a = dr_agent(&f, p);
        if (a->state == TW_AGENT_OUTSIDE) continue;
        if (dr_leaf_dist(&f, p) < 1.2f) last_near = tw_sim_tick(f.s);
        at_desk = a->state == TW_AGENT_IDLE && dr_dist(&f, p, 14, 5) < 0.6f;
    }
    REQUIRE(at_desk);
    REQUIRE(last_near > 0);
    Door *d = dr_d(&f, f.door1);
    CHECK_EQ_INT(d->passages, 1);
    /* counting down from the last tick she was in the doorway */
    CHECK_NEAR(d->close_at, (double)last_near * 0.1 + 5.0, 1e-6);
    while (d->open && tw_sim_tick(f.s) < last_near + 100) {
        tw_sim_step(f.s);
        if (!d->open) shut_tick = tw_sim_tick(f.s) - 1; /* the tick that shut it */
        d = dr_d(&f, f.door1);
    }
    CHECK_EQ_U64(shut_tick, last_near + 50);
    CHECK_NEAR(d->close_at, 0, 0);
    tw_sim_step(f.s);
    CHECK(!dr_door1_passable_in_physics(&f));
    /* the front door she came in by shut behind her too */
    CHECK_EQ_INT(dr_d(&f, f.front)->open, 0);
    CHECK_EQ_INT(dr_d(&f, f.front)->passages, 1);
    dr_fini(&f);
}

TEST(doors_self_closing_door_waits_for_whoever_stands_in_it)
{
    dr_fixture f;
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 1, .self_closing = 1, .close_delay = 2.0f }, 0, (Door){ 0 });
    /* a visitor standing in the doorway (anyone with a body counts) */
    tw_entity v = dr_named(&f, f.ground, "visitor", TW_KIND_ELEMENT);
    tw_ecs_set(f.w, v, f.c.body, &(Body){ .shape = TW_BODY_CIRCLE, .radius = 0.3f, .mass = 70, .position = { 8.0f, 5.0f } });
    REQUIRE(dr_start(&f, 3.0));
    dr_run(&f, 60);
    CHECK_EQ_INT(dr_d(&f, f.door1)->open, 1);
    CHECK(dr_door1_passable_in_physics(&f));
    /* neither trapped nor launched */
    CHECK(dr_dist(&f, v, 8, 5) < 0.01f);
    /* he steps 1.5 m aside: 2 s later the door shuts */
    dr_body(&f, v)->position[0] = 9.5f;
    dr_run(&f, 1.5);
    CHECK_EQ_INT(dr_d(&f, f.door1)->open, 1);
    dr_run(&f, 1.0);
    CHECK_EQ_INT(dr_d(&f, f.door1)->open, 0);
    tw_sim_step(f.s);
    CHECK(!dr_door1_passable_in_physics(&f));
    CHECK(dr_dist(&f, v, 9.5f, 5) < 0.01f);
    dr_fini(&f);
}

TEST(doors_shut_from_outside_turn_solid_only_once_the_leaf_is_clear)
{
    dr_fixture f;
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 1 }, 0, (Door){ 0 });
    tw_entity v = dr_named(&f, f.ground, "visitor", TW_KIND_ELEMENT);
    tw_ecs_set(f.w, v, f.c.body, &(Body){ .shape = TW_BODY_CIRCLE, .radius = 0.3f, .mass = 70, .position = { 8.1f, 5.0f } });
    REQUIRE(dr_start(&f, 3.0));
    tw_sim_step(f.s);
    /* a binding shuts it while he stands in it: it waits for him */
    dr_d(&f, f.door1)->open = 0;
    dr_run(&f, 5);
    CHECK(dr_door1_passable_in_physics(&f));
    CHECK(dr_dist(&f, v, 8.1f, 5) < 0.01f);
    CHECK(hypotf(dr_body(&f, v)->velocity[0], dr_body(&f, v)->velocity[1]) < 0.01f);
    dr_body(&f, v)->position[0] = 9.0f;
    dr_run(&f, 0.2);
    CHECK(!dr_door1_passable_in_physics(&f));
    /* and a rebuild of the spaces (a keyframe) applies the same rule */
    dr_body(&f, v)->position[0] = 8.1f;
    dr_d(&f, f.door1)->open = 1;
    tw_sim_step(f.s);
    dr_d(&f, f.door1)->open = 0;
    CHECK_EQ_INT(tw_sim_physics_rebuild(f.s), TW_OK);
    CHECK(dr_door1_passable_in_physics(&f));
    dr_fini(&f);
}

TEST(doors_locked_door_is_never_opened_and_routing_goes_round_it)
{
    dr_fixture f;
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 0, .locked = 1 }, 1, (Door){ .open = 0 });
    tw_entity p = dr_person(&f, "ann", 7.5f, 12.0f);
    REQUIRE(dr_start(&f, 7.0));
    float closest_w1 = 100;
    int at_desk = 0;
    for (int i = 0; i < 2 * 36000 && !at_desk; i++) {
        tw_sim_step(f.s);
        const Agent *a = dr_agent(&f, p);
        if (a->state == TW_AGENT_OUTSIDE) continue;
        float d = dr_dist(&f, p, 8, 5);
        if (d < closest_w1) closest_w1 = d;
        CHECK(!dr_d(&f, f.door1)->open);
        at_desk = a->state == TW_AGENT_IDLE && dr_dist(&f, p, 14, 5) < 0.6f;
    }
    CHECK(at_desk);
    CHECK(closest_w1 > 1.5f);
    CHECK_EQ_INT(dr_d(&f, f.door1)->passages, 0);
    CHECK_EQ_INT(dr_d(&f, f.door2)->open, 1); /* the shut one on the other way, opened */
    CHECK_EQ_INT(dr_d(&f, f.door2)->passages, 1);
    dr_fini(&f);
}

TEST(doors_locked_door_on_the_only_route_makes_people_wait)
{
    dr_fixture f;
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 1, .locked = 1, .self_closing = 1 }, 0, (Door){ 0 });
    tw_entity p = dr_person(&f, "ann", 7.5f, 12.0f);
    REQUIRE(dr_start(&f, 7.0));
    int waited = 0;
    for (int i = 0; i < 2 * 36000 && !waited; i++) {
        tw_sim_step(f.s);
        waited = dr_agent(&f, p)->state == TW_AGENT_WAITING;
    }
    REQUIRE(waited);
    dr_run(&f, 60);
    CHECK_EQ_INT(dr_agent(&f, p)->state, TW_AGENT_WAITING);
    CHECK(dr_body(&f, p)->position[0] < 7.5f);
    CHECK(!dr_door1_passable_in_physics(&f)); /* open is set, but locked is shut */
    CHECK_NEAR(dr_d(&f, f.door1)->close_at, 0, 0); /* a locked door does not count down */
    CHECK_EQ_INT(dr_d(&f, f.door1)->passages, 0);
    /* a locked entrance keeps people out: the only one is locked, so she never comes in */
    dr_fixture g;
    dr_building(&g, (Door){ .open = 0, .locked = 1 }, (Door){ .open = 1 }, 0, (Door){ 0 });
    tw_entity q = dr_person(&g, "bob", 7.5f, 12.0f);
    REQUIRE(dr_start(&g, 7.0));
    dr_run(&g, 2 * 3600);
    CHECK_EQ_INT(dr_agent(&g, q)->state, TW_AGENT_OUTSIDE);
    CHECK_EQ_INT(dr_d(&g, g.front)->open, 0);
    CHECK_EQ_INT(dr_d(&g, g.front)->passages, 0);
    dr_fini(&g);
    dr_fini(&f);
}

TEST(doors_held_open_door_stays_open)
{
    dr_fixture f;
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 1, .close_delay = 1.0f }, 0, (Door){ 0 });
    tw_entity p = dr_person(&f, "ann", 7.5f, 8.5f);
    REQUIRE(dr_start(&f, 7.0));
    int was_shut = 0;
    for (int i = 0; i < 2 * 36000; i++) {
        tw_sim_step(f.s);
        was_shut |= !dr_d(&f, f.door1)->open || !dr_d(&f, f.front)->open;
        CHECK_NEAR(dr_d(&f, f.door1)->close_at, 0, 0);
        if (test_failed_checks) break;
    }
    CHECK(!was_shut);
    CHECK(dr_door1_passable_in_physics(&f));
    CHECK_EQ_INT(dr_agent(&f, p)->trips, 2);
    CHECK_EQ_INT(dr_d(&f, f.door1)->passages, 2);
    dr_fini(&f);
}

TEST(doors_agvs_open_automatic_doors)
{
    dr_fixture f;
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 0, .self_closing = 1, .close_delay = 3.0f }, 0, (Door){ 0 });
    tw_entity s1 = dr_waypoint(&f, "s1", 4, 3, TW_WAYPOINT_STATION, TW_ENTITY_NULL);
    tw_entity s2 = dr_waypoint(&f, "s2", 12, 3, TW_WAYPOINT_STATION, TW_ENTITY_NULL);
    dr_link(&f, s1, f.a1);
    dr_link(&f, s2, f.b1);
    tw_entity v = dr_named(&f, f.ground, "agv", TW_KIND_AGENT);
    tw_ecs_set(f.w, v, f.c.agent, &(Agent){ .type = TW_AGENT_AGV, .max_speed = 1.0f, .home = s1, .route = { s1, s2 },
                                             .route_length = 2 });
    tw_ecs_set(f.w, v, f.c.body, &(Body){ .shape = TW_BODY_BOX, .size = { 0.8f, 0.5f }, .mass = 200 });
    REQUIRE(dr_start(&f, 3.0));
    uint32_t closings = 0;
    int prev = dr_d(&f, f.door1)->open;
    for (int i = 0; i < 6000; i++) {
        tw_sim_step(f.s);
        int now_open = dr_d(&f, f.door1)->open;
        if (prev && !now_open) closings++;
        prev = now_open;
    }
    const Agent *a = dr_agent(&f, v);
    /* legs of about 10.5 m at 1 m/s and 10 s at each stop: about 29 legs in 600 s */
    CHECK(a->trips >= 25);
    uint32_t passed = dr_d(&f, f.door1)->passages;
    CHECK(passed + 1 >= a->trips && passed <= a->trips + 1); /* one a leg */
    /* it shuts while the AGV dwells at a stop, and opens for the next leg */
    CHECK(closings + 1 >= a->trips);
    dr_fini(&f);
}

/* Three people and self-closing doors. */
static void dr_busy(dr_fixture *f, int self_closing)
{
    Door sc = { .open = 0, .self_closing = (uint8_t)self_closing, .close_delay = 4.0f };
    dr_building(f, sc, sc, 1, sc);
    dr_person(f, "ann", 7.5f, 9.0f);
    dr_person(f, "bob", 7.6f, 9.2f);
    dr_person(f, "cat", 7.7f, 9.1f);
}

TEST(doors_identical_worlds_stay_identical)
{
    dr_fixture a, b, c;
    dr_busy(&a, 1);
    dr_busy(&b, 1);
    dr_busy(&c, 0);
    REQUIRE(dr_start(&a, 7.0) && dr_start(&b, 7.0) && dr_start(&c, 7.0));
    for (int i = 0; i < 4 * 36000; i++) {
        tw_sim_step(a.s);
        tw_sim_step(b.s);
        tw_sim_step(c.s);
    }
    CHECK_EQ_U64(tw_sim_state_hash(a.s), tw_sim_state_hash(b.s));
    CHECK(tw_sim_state_hash(a.s) != tw_sim_state_hash(c.s));
    /* everyone came and went, through doors that shut behind them */
    CHECK_EQ_INT(((Mobility *)tw_ecs_get(a.w, a.site, a.c.mobility))->inside, 0);
    CHECK_EQ_INT(dr_d(&a, a.front)->passages, 6);
    CHECK_EQ_INT(dr_d(&a, a.door1)->passages + dr_d(&a, a.door2)->passages, 6);
    CHECK_EQ_INT(dr_d(&a, a.front)->open, 0);
    CHECK_EQ_INT(dr_d(&a, a.door1)->open, 0);
    CHECK_EQ_INT(dr_d(&c, c.front)->open, 1);
    dr_fini(&a);
    dr_fini(&b);
    dr_fini(&c);
}

/* Pushed back round the door frame (a crowd in a doorway does this), a
 * walker whose next waypoint is behind a wall plans again from where it
 * stands instead of walking into the wall for ever. */
TEST(doors_walker_pushed_behind_the_door_frame_finds_its_way)
{
    dr_fixture f;
    dr_building(&f, (Door){ .open = 1 }, (Door){ .open = 0, .self_closing = 1 }, 0, (Door){ 0 });
    tw_entity p = dr_person(&f, "ann", 7.5f, 12.0f);
    REQUIRE(dr_start(&f, 7.0));
    int through = 0;
    for (int i = 0; i < 2 * 36000 && !through; i++) {
        tw_sim_step(f.s);
        const Agent *a = dr_agent(&f, p);
        through = a->state == TW_AGENT_WALKING && a->path_length && tw_entity_eq(a->path[0], f.b1);
    }
    REQUIRE(through);
    /* back into room A, the wall between her and b1 */
    dr_body(&f, p)->position[0] = 7.0f;
    dr_body(&f, p)->position[1] = 2.0f;
    const float from[2] = { 7.0f, 2.0f }, to[2] = { 11.0f, 5.0f };
    CHECK(!tw_sim_physics_walls_clear(f.s, f.ground, from, to));
    int at_desk = 0;
    for (int i = 0; i < 600 && !at_desk; i++) {
        tw_sim_step(f.s);
        at_desk = dr_agent(&f, p)->state == TW_AGENT_IDLE && dr_dist(&f, p, 14, 5) < 0.6f;
    }
    CHECK(at_desk);
    CHECK_EQ_INT(dr_d(&f, f.door1)->passages, 2); /* through the doorway twice */
    dr_fini(&f);
}
