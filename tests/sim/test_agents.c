/* Agents: people follow their day (in, desk, meetings, lunch, out), routes
 * avoid locked doors (shut ones they open: test_doors.c), blocked people
 * wait and retry, stairs move people between storeys, AGVs lap their route,
 * rooms count their occupants, and identical worlds give identical days. */
#include "sim_internal.h"
#include "test.h"

typedef struct ag_fixture {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_entity ground, upper, site;
    tw_entity room_a, room_b;
    tw_entity wall, door1, door2;
    tw_entity entrance, w1, w2, desk, meeting, kitchen;
    tw_sim *s;
} ag_fixture;

static tw_entity ag_named(ag_fixture *f, tw_entity parent, const char *name, tw_kind kind)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, e, name);
    tw_ecs_entity_set_kind(f->w, e, kind);
    if (!tw_entity_is_null(parent)) tw_ecs_entity_set_parent(f->w, e, parent);
    return e;
}

static tw_entity ag_waypoint(ag_fixture *f, tw_entity storey, const char *name, float x, float y, int role)
{
    tw_entity e = ag_named(f, storey, name, TW_KIND_WAYPOINT);
    tw_ecs_set(f->w, e, f->c.transform, &(Transform){ { x, y, 0 }, 0 });
    tw_ecs_set(f->w, e, f->c.waypoint, &(Waypoint){ .role = role });
    return e;
}

static void ag_link(ag_fixture *f, tw_entity a, tw_entity b)
{
    /* listed on one side only: links are two-way */
    Waypoint *wp = tw_ecs_get(f->w, a, f->c.waypoint);
    wp->links[wp->link_count++] = b;
}

static tw_entity ag_storey(ag_fixture *f, const char *name, float elevation)
{
    tw_entity e = ag_named(f, f->site, name, TW_KIND_STOREY);
    tw_ecs_set(f->w, e, f->c.storey, &(Storey){ elevation, 3.5f });
    return e;
}

static tw_entity ag_room(ag_fixture *f, tw_entity storey, const char *name, float x0, float y0, float x1, float y1)
{
    tw_entity e = ag_named(f, storey, name, TW_KIND_SPACE);
    Shape sh = { .kind = TW_SHAPE_EXTRUSION, .height = 3, .point_count = 4,
                 .points = { { x0, y0 }, { x1, y0 }, { x1, y1 }, { x0, y1 } } };
    tw_ecs_set(f->w, e, f->c.shape, &sh);
    tw_ecs_set(f->w, e, f->c.space, &(Space){ .capacity = 4 });
    return e;
}

static tw_entity ag_wall(ag_fixture *f, tw_entity storey, const char *name, const float (*pts)[2], uint32_t n)
{
    tw_entity e = ag_named(f, storey, name, TW_KIND_ELEMENT);
    Shape sh = { .kind = TW_SHAPE_POLYLINE, .height = 3, .thickness = 0.2f, .point_count = n };
    memcpy(sh.points, pts, n * sizeof *pts);
    tw_ecs_set(f->w, e, f->c.wall, &(Wall){ 0 });
    tw_ecs_set(f->w, e, f->c.shape, &sh);
    return e;
}

/* Two rooms side by side (A: x 0..8, B: x 8..16, y 0..10) in an outer wall,
 * the wall between them with a door at y = 2 and one at y = 8. The entrance
 * is in A, the desk in B; each door has a waypoint in its opening. */
static void ag_building_with(ag_fixture *f, const tw_allocator *alloc)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(&(tw_ecs_world_desc){ .allocator = alloc });
    tw_sim_register_components(f->w, &f->c);
    f->site = ag_named(f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    tw_ecs_set(f->w, f->site, f->c.mobility, &(Mobility){ 0 });
    f->ground = ag_storey(f, "ground", 0.0f);
    const float outer[5][2] = { { 0, 0 }, { 16, 0 }, { 16, 10 }, { 0, 10 }, { 0, 0 } };
    ag_wall(f, f->ground, "outer", outer, 5);
    const float mid[2][2] = { { 8, 0 }, { 8, 10 } };
    f->wall = ag_wall(f, f->ground, "mid", mid, 2);
    f->door1 = ag_named(f, f->ground, "door1", TW_KIND_ELEMENT);
    tw_ecs_set(f->w, f->door1, f->c.door, &(Door){ .wall = f->wall, .offset = 2, .width = 1.0f, .open = 1 });
    f->door2 = ag_named(f, f->ground, "door2", TW_KIND_ELEMENT);
    tw_ecs_set(f->w, f->door2, f->c.door, &(Door){ .wall = f->wall, .offset = 8, .width = 1.0f, .open = 1 });
    f->room_a = ag_room(f, f->ground, "room-a", 0, 0, 8, 10);
    f->room_b = ag_room(f, f->ground, "room-b", 8, 0, 16, 10);
    f->entrance = ag_waypoint(f, f->ground, "entrance", 1, 5, TW_WAYPOINT_ENTRANCE);
    ((Waypoint *)tw_ecs_get(f->w, f->entrance, f->c.waypoint))->exit = 1;
    f->w1 = ag_waypoint(f, f->ground, "w1", 8, 2, TW_WAYPOINT_PATH);
    ((Waypoint *)tw_ecs_get(f->w, f->w1, f->c.waypoint))->door = f->door1;
    f->w2 = ag_waypoint(f, f->ground, "w2", 8, 8, TW_WAYPOINT_PATH);
    ((Waypoint *)tw_ecs_get(f->w, f->w2, f->c.waypoint))->door = f->door2;
    f->desk = ag_waypoint(f, f->ground, "desk", 14, 5, TW_WAYPOINT_DESK);
    ag_link(f, f->entrance, f->w1);
    ag_link(f, f->entrance, f->w2);
    ag_link(f, f->desk, f->w1);
    ag_link(f, f->desk, f->w2);
}

static void ag_building(ag_fixture *f) { ag_building_with(f, NULL); }

static tw_entity ag_person(ag_fixture *f, const char *name, tw_entity home, float arrive, float leave, uint32_t meetings)
{
    tw_entity e = ag_named(f, TW_ENTITY_NULL, name, TW_KIND_AGENT);
    Agent a = { .type = TW_AGENT_PERSON, .max_speed = 1.3f, .home = home, .arrive_hour = arrive,
                .leave_hour = leave, .meetings = meetings };
    tw_ecs_set(f->w, e, f->c.agent, &a);
    tw_ecs_set(f->w, e, f->c.body, &(Body){ .shape = TW_BODY_CIRCLE, .radius = 0.3f, .mass = 70 });
    tw_ecs_set(f->w, e, f->c.transform, &(Transform){ { 0, 0, 0 }, 0 });
    return e;
}

static int ag_start(ag_fixture *f, double hour, uint64_t seed)
{
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = tw_sim_new(f->w, &(tw_sim_desc){ .dt = 0.1, .seed = seed, .start_time = hour * 3600.0 }, &f->s, &d);
    if (st) fprintf(stderr, "tw_sim_new: %s\n", d.message);
    return st == TW_OK;
}

static void ag_fini(ag_fixture *f)
{
    tw_sim_free(f->s);
    tw_ecs_world_free(f->w);
}

static Agent *ag_agent(ag_fixture *f, tw_entity e) { return tw_ecs_get(f->w, e, f->c.agent); }
static Body *ag_body(ag_fixture *f, tw_entity e) { return tw_ecs_get(f->w, e, f->c.body); }

static float ag_dist(ag_fixture *f, tw_entity agent, tw_entity waypoint)
{
    const Body *b = ag_body(f, agent);
    const Transform *t = tw_ecs_get(f->w, waypoint, f->c.transform);
    return hypotf(b->position[0] - t->position[0], b->position[1] - t->position[1]);
}

/* Runs until the agent stands idle at the waypoint, at most max_s simulated seconds. */
static int ag_run_until_at(ag_fixture *f, tw_entity agent, tw_entity waypoint, double max_s)
{
    uint64_t n = (uint64_t)(max_s / 0.1);
    for (uint64_t i = 0; i < n; i++) {
        tw_sim_step(f->s);
        const Agent *a = ag_agent(f, agent);
        if (a->state == TW_AGENT_IDLE && tw_entity_eq(a->goal, waypoint) && ag_dist(f, agent, waypoint) < 0.6f)
            return 1;
    }
    return 0;
}

static void ag_run(ag_fixture *f, double seconds)
{
    uint64_t n = (uint64_t)(seconds / 0.1 + 0.5);
    for (uint64_t i = 0; i < n; i++) tw_sim_step(f->s);
}

TEST(agents_person_arrives_works_and_leaves)
{
    ag_fixture f;
    ag_building(&f);
    tw_entity p = ag_person(&f, "ann", f.desk, 7.5f, 8.5f, 0);
    REQUIRE(ag_start(&f, 7.0, 1));
    CHECK_EQ_INT(ag_agent(&f, p)->state, TW_AGENT_OUTSIDE);
    /* within three hours she comes in, sits at her desk, and goes home */
    int seen_at_desk = 0, seen_in_b = 0;
    for (int i = 0; i < 3 * 36000; i++) {
        tw_sim_step(f.s);
        const Agent *a = ag_agent(&f, p);
        if (a->state == TW_AGENT_IDLE && ag_dist(&f, p, f.desk) < 0.6f) seen_at_desk = 1;
        if (((Space *)tw_ecs_get(f.w, f.room_b, f.c.space))->occupants == 1.0f) seen_in_b = 1;
    }
    CHECK(seen_at_desk);
    CHECK(seen_in_b);
    const Agent *a = ag_agent(&f, p);
    CHECK_EQ_INT(a->state, TW_AGENT_OUTSIDE);
    CHECK_EQ_INT(a->trips, 2); /* entrance -> desk, desk -> exit */
    CHECK(a->trip_time_total > 2 * 10.0 && a->trip_time_total < 2 * 40.0);
    const Mobility *m = tw_ecs_get(f.w, f.site, f.c.mobility);
    CHECK_EQ_INT(m->trips, 2);
    CHECK_EQ_INT(m->inside, 0);
    CHECK_NEAR(m->trip_time_mean, a->trip_time_total / 2, 1e-3);
    CHECK(m->trip_time_max >= m->trip_time_mean);
    CHECK_NEAR(((Space *)tw_ecs_get(f.w, f.room_b, f.c.space))->occupants, 0, 0);
    ag_fini(&f);
}

TEST(agents_occupancy_counts_people_in_rooms)
{
    ag_fixture f;
    ag_building(&f);
    tw_entity p = ag_person(&f, "ann", f.desk, 8.0f, 17.0f, 0);
    tw_entity q = ag_person(&f, "bob", f.entrance, 8.0f, 17.0f, 0);
    /* starting mid-morning: people are where their plan says */
    REQUIRE(ag_start(&f, 10.0, 3));
    ag_run(&f, 2.0);
    CHECK_EQ_INT(ag_agent(&f, p)->state, TW_AGENT_IDLE);
    CHECK(ag_dist(&f, p, f.desk) < 0.6f);
    CHECK(ag_dist(&f, q, f.entrance) < 0.6f);
    CHECK_NEAR(((Space *)tw_ecs_get(f.w, f.room_a, f.c.space))->occupants, 1, 0);
    CHECK_NEAR(((Space *)tw_ecs_get(f.w, f.room_b, f.c.space))->occupants, 1, 0);
    CHECK_EQ_INT(((Mobility *)tw_ecs_get(f.w, f.site, f.c.mobility))->inside, 2);
    ag_fini(&f);
}

TEST(agents_route_avoids_a_locked_door)
{
    ag_fixture f;
    ag_building(&f);
    ((Door *)tw_ecs_get(f.w, f.door1, f.c.door))->locked = 1;
    tw_entity p = ag_person(&f, "ann", f.desk, 7.0f, 12.0f, 0);
    REQUIRE(ag_start(&f, 6.0, 1));
    float closest_w1 = 100;
    int crossed_high = 0;
    for (int i = 0; i < 90000; i++) {
        tw_sim_step(f.s);
        const Agent *a = ag_agent(&f, p);
        if (a->state == TW_AGENT_OUTSIDE) continue;
        float d = ag_dist(&f, p, f.w1);
        if (d < closest_w1) closest_w1 = d;
        const Body *b = ag_body(&f, p);
        if (fabsf(b->position[0] - 8) < 0.3f && b->position[1] > 7 && b->position[1] < 9) crossed_high = 1;
        if (a->state == TW_AGENT_IDLE && ag_dist(&f, p, f.desk) < 0.6f) break;
    }
    CHECK(crossed_high);
    CHECK(closest_w1 > 2.0f);
    CHECK(ag_dist(&f, p, f.desk) < 0.6f);
    ag_fini(&f);
}

TEST(agents_wait_while_blocked_then_retry)
{
    ag_fixture f;
    ag_building(&f);
    ((Door *)tw_ecs_get(f.w, f.door1, f.c.door))->locked = 1;
    ((Door *)tw_ecs_get(f.w, f.door2, f.c.door))->open = 0;
    ((Door *)tw_ecs_get(f.w, f.door2, f.c.door))->locked = 1;
    tw_entity p = ag_person(&f, "ann", f.desk, 7.0f, 12.0f, 0);
    REQUIRE(ag_start(&f, 6.0, 1));
    int waited = 0;
    for (int i = 0; i < 90000 && !waited; i++) {
        tw_sim_step(f.s);
        waited = ag_agent(&f, p)->state == TW_AGENT_WAITING;
    }
    REQUIRE(waited);
    ag_run(&f, 30);
    CHECK_EQ_INT(ag_agent(&f, p)->state, TW_AGENT_WAITING);
    CHECK(ag_body(&f, p)->position[0] < 8);
    CHECK_EQ_INT(((Door *)tw_ecs_get(f.w, f.door2, f.c.door))->open, 0);
    /* someone unlocks door 2 (still shut): within a retry period she is on
     * her way, and opens it */
    ((Door *)tw_ecs_get(f.w, f.door2, f.c.door))->locked = 0;
    ag_run(&f, 6);
    CHECK_EQ_INT(ag_agent(&f, p)->state, TW_AGENT_WALKING);
    CHECK(ag_run_until_at(&f, p, f.desk, 120));
    CHECK_EQ_INT(((Door *)tw_ecs_get(f.w, f.door2, f.c.door))->open, 1);
    CHECK_EQ_INT(((Door *)tw_ecs_get(f.w, f.door1, f.c.door))->open, 1); /* locked, never touched */
    ag_fini(&f);
}

TEST(agents_replan_when_a_door_ahead_is_locked)
{
    ag_fixture f;
    ag_building(&f);
    tw_entity p = ag_person(&f, "ann", f.desk, 7.0f, 12.0f, 0);
    REQUIRE(ag_start(&f, 6.0, 1));
    int walking = 0;
    for (int i = 0; i < 90000 && !walking; i++) {
        tw_sim_step(f.s);
        walking = ag_agent(&f, p)->state == TW_AGENT_WALKING;
    }
    REQUIRE(walking);
    /* lock the door it is heading for, just in front of it (a shut one she
     * would open) */
    const Agent *a = ag_agent(&f, p);
    int via1 = 0;
    for (uint32_t k = 0; k < a->path_length; k++) via1 |= tw_entity_eq(a->path[k], f.w1);
    tw_entity shut = via1 ? f.door1 : f.door2, other_wp = via1 ? f.w2 : f.w1;
    ((Door *)tw_ecs_get(f.w, shut, f.c.door))->open = 0;
    ((Door *)tw_ecs_get(f.w, shut, f.c.door))->locked = 1;
    float closest_other = 100;
    int arrived = 0;
    for (int i = 0; i < 1200 && !arrived; i++) {
        tw_sim_step(f.s);
        float d = ag_dist(&f, p, other_wp);
        if (d < closest_other) closest_other = d;
        arrived = ag_agent(&f, p)->state == TW_AGENT_IDLE && ag_dist(&f, p, f.desk) < 0.6f;
    }
    CHECK(arrived);
    CHECK(closest_other < 1.0f);
    ag_fini(&f);
}

TEST(agents_take_the_stairs_to_another_storey)
{
    ag_fixture f;
    memset(&f, 0, sizeof f);
    f.w = tw_ecs_world_new(NULL);
    tw_sim_register_components(f.w, &f.c);
    f.site = ag_named(&f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    f.ground = ag_storey(&f, "ground", 0.0f);
    f.upper = ag_storey(&f, "upper", 3.5f);
    f.entrance = ag_waypoint(&f, f.ground, "entrance", 1, 5, TW_WAYPOINT_ENTRANCE);
    tw_entity l1 = ag_waypoint(&f, f.ground, "stair", 5, 5, TW_WAYPOINT_STAIR);
    tw_entity l2 = ag_waypoint(&f, f.upper, "stair", 5, 5, TW_WAYPOINT_STAIR);
    f.desk = ag_waypoint(&f, f.upper, "desk", 10, 5, TW_WAYPOINT_DESK);
    /* an entrance upstairs too: people still come in on the lowest storey */
    tw_entity roof = ag_waypoint(&f, f.upper, "roof-door", 12, 5, TW_WAYPOINT_ENTRANCE);
    ag_link(&f, f.entrance, l1);
    ((Waypoint *)tw_ecs_get(f.w, l1, f.c.waypoint))->portal = l2;
    ag_link(&f, l2, f.desk);
    ag_link(&f, f.desk, roof);
    tw_entity p = ag_person(&f, "ann", f.desk, 7.0f, 12.0f, 0);
    REQUIRE(ag_start(&f, 6.0, 1));
    int transit_seen = 0, came_in_below = 0;
    for (int i = 0; i < 90000; i++) {
        tw_sim_step(f.s);
        const Agent *a = ag_agent(&f, p);
        if (a->state == TW_AGENT_WALKING && tw_entity_eq(a->storey, f.ground) && a->path_length) came_in_below = 1;
        if (tw_sim_agent_in_transit(a, tw_sim_time(f.s))) transit_seen = 1;
        if (a->state == TW_AGENT_IDLE && ag_dist(&f, p, f.desk) < 0.6f) break;
    }
    const Agent *a = ag_agent(&f, p);
    CHECK(came_in_below);
    CHECK(transit_seen);
    CHECK_EQ_INT(a->state, TW_AGENT_IDLE);
    CHECK(tw_entity_eq(a->storey, f.upper));
    CHECK(ag_dist(&f, p, f.desk) < 0.6f);
    CHECK_NEAR(((Transform *)tw_ecs_get(f.w, p, f.c.transform))->position[2], 3.5, 1e-6);
    CHECK(a->trip_time_total >= tw_sim_nav_stair_time());
    ag_fini(&f);
}

TEST(agents_agv_laps_its_route)
{
    ag_fixture f;
    ag_building(&f);
    tw_entity s1 = ag_waypoint(&f, f.ground, "s1", 2, 2, TW_WAYPOINT_STATION);
    tw_entity s2 = ag_waypoint(&f, f.ground, "s2", 6, 2, TW_WAYPOINT_STATION);
    tw_entity s3 = ag_waypoint(&f, f.ground, "s3", 6, 8, TW_WAYPOINT_STATION);
    ag_link(&f, s1, s2);
    ag_link(&f, s2, s3);
    ag_link(&f, s3, s1);
    tw_entity v = ag_named(&f, TW_ENTITY_NULL, "agv", TW_KIND_AGENT);
    Agent a = { .type = TW_AGENT_AGV, .max_speed = 1.0f, .home = s1, .route = { s1, s2, s3 }, .route_length = 3 };
    tw_ecs_set(f.w, v, f.c.agent, &a);
    tw_ecs_set(f.w, v, f.c.body, &(Body){ .shape = TW_BODY_BOX, .size = { 0.8f, 0.5f }, .mass = 200 });
    REQUIRE(ag_start(&f, 3.0, 1)); /* AGVs work at night too */
    ag_run(&f, 600);
    const Agent *ap = ag_agent(&f, v);
    /* legs of 4-7 m at 1 m/s plus 10 s at each stop: about 17 s a leg */
    CHECK(ap->trips >= 25);
    CHECK(ap->trips <= 40);
    CHECK(ap->trip_time_total / ap->trips > 3.5 && ap->trip_time_total / ap->trips < 12);
    CHECK(ap->state != TW_AGENT_OUTSIDE);
    /* it faces where it drives */
    ag_run_until_at(&f, v, s2, 60);
    ag_run(&f, 11);
    const Body *b = ag_body(&f, v);
    CHECK_NEAR(b->angle, atan2f(6.0f, 0.0f), 0.3);
    ag_fini(&f);
}

TEST(agents_link_to_a_non_waypoint_is_an_error)
{
    ag_fixture f;
    ag_building(&f);
    ag_link(&f, f.desk, f.room_b);
    tw_diag d;
    tw_diag_clear(&d);
    tw_status st = tw_sim_new(f.w, &(tw_sim_desc){ 0 }, &f.s, &d);
    CHECK(st != TW_OK);
    CHECK_CONTAINS(d.message, "site/ground/desk");
    CHECK_CONTAINS(d.message, "site/ground/room-b");
    ag_fini(&f);
}

/* Three people with meetings and lunch in the two-room building. */
static void ag_office(ag_fixture *f, tw_entity people[3], int extra)
{
    ag_building(f);
    f->meeting = ag_waypoint(f, f->ground, "meet", 12, 8.5f, TW_WAYPOINT_MEETING);
    f->kitchen = ag_waypoint(f, f->ground, "kitchen", 3, 8, TW_WAYPOINT_KITCHEN);
    ag_link(f, f->meeting, f->w2);
    ag_link(f, f->meeting, f->desk);
    ag_link(f, f->kitchen, f->entrance);
    tw_entity desk2 = ag_waypoint(f, f->ground, "desk2", 14, 2, TW_WAYPOINT_DESK);
    ag_link(f, desk2, f->w1);
    people[0] = ag_person(f, "ann", f->desk, 8.0f, 16.5f, 2);
    people[1] = ag_person(f, "bob", desk2, 8.5f, 17.0f, 1);
    people[2] = ag_person(f, "cat", f->desk, 9.0f, 17.5f, 3);
    if (extra) ag_person(f, "dan", desk2, 8.2f, 16.0f, 2);
}

TEST(agents_day_is_deterministic_and_everyone_goes_home)
{
    ag_fixture a, b;
    tw_entity pa[3], pb[3];
    ag_office(&a, pa, 0);
    ag_office(&b, pb, 0);
    REQUIRE(ag_start(&a, 6.0, 99) && ag_start(&b, 6.0, 99));
    /* 06:00 to 20:00 */
    uint32_t max_inside = 0;
    for (int i = 0; i < 14 * 36000; i++) {
        tw_sim_step(a.s);
        tw_sim_step(b.s);
        uint32_t in = ((Mobility *)tw_ecs_get(a.w, a.site, a.c.mobility))->inside;
        if (in > max_inside) max_inside = in;
    }
    CHECK_EQ_INT(max_inside, 3);
    for (int k = 0; k < 3; k++) {
        CHECK(memcmp(ag_body(&a, pa[k]), ag_body(&b, pb[k]), sizeof(Body)) == 0);
        CHECK(memcmp(ag_agent(&a, pa[k]), ag_agent(&b, pb[k]), sizeof(Agent)) == 0);
        const Agent *ak = ag_agent(&a, pa[k]);
        CHECK_EQ_INT(ak->state, TW_AGENT_OUTSIDE);
        /* in, out, and two trips per meeting and for lunch (some may overlap) */
        CHECK(ak->trips >= 4);
    }
    const Mobility *m = tw_ecs_get(a.w, a.site, a.c.mobility);
    CHECK_EQ_INT(m->inside, 0);
    CHECK(m->trip_time_mean > 3 && m->trip_time_mean < 60);
    ag_fini(&a);
    ag_fini(&b);
}

static int ag_first_in_tick(ag_fixture *f, tw_entity p)
{
    for (int i = 0; i < 6 * 36000; i++) {
        tw_sim_step(f->s);
        if (ag_agent(f, p)->state != TW_AGENT_OUTSIDE) return i;
    }
    return -1;
}

TEST(agents_plans_do_not_depend_on_other_agents)
{
    ag_fixture a, b;
    tw_entity pa[3], pb[3];
    ag_office(&a, pa, 0);
    ag_office(&b, pb, 1); /* one more person */
    REQUIRE(ag_start(&a, 6.0, 5) && ag_start(&b, 6.0, 5));
    int ta = ag_first_in_tick(&a, pa[2]), tb = ag_first_in_tick(&b, pb[2]);
    CHECK(ta > 0);
    CHECK_EQ_INT(ta, tb);
    ag_fini(&a);
    ag_fini(&b);
    /* and another seed gives another day */
    ag_office(&a, pa, 0);
    REQUIRE(ag_start(&a, 6.0, 6));
    CHECK(ag_first_in_tick(&a, pa[2]) != ta);
    ag_fini(&a);
}

/* Every allocation tw_sim_new and the first ticks make can fail: each failure
 * is reported as a status (or logged and survived in a tick), and nothing leaks. */
TEST(agents_out_of_memory_fails_cleanly)
{
    tw_failing_alloc fa = { 0 };
    tw_allocator alloc = tw_failing_alloc_allocator(&fa);
    ag_fixture f;
    ag_building_with(&f, &alloc);
    ag_person(&f, "ann", f.desk, 8.0f, 17.0f, 1);
    tw_entity v = ag_named(&f, TW_ENTITY_NULL, "agv", TW_KIND_AGENT);
    tw_ecs_set(f.w, v, f.c.agent, &(Agent){ .type = TW_AGENT_AGV, .max_speed = 1, .route = { f.entrance, f.desk },
                                             .route_length = 2 });
    tw_ecs_set(f.w, v, f.c.body, &(Body){ .radius = 0.3f, .mass = 100 });
    tw_log quiet = { 0 };
    tw_log_set_level(&quiet, TW_LOG_OFF);
    int64_t base = fa.live_bytes;
    int succeeded = 0;
    uint64_t k = 1;
    for (; k < 2000 && !succeeded; k++) {
        fa.fail_at = fa.allocations + k;
        tw_sim *s = NULL;
        tw_diag d;
        tw_status st = tw_sim_new(f.w, &(tw_sim_desc){ .seed = 1, .start_time = 9 * 3600.0, .log = &quiet }, &s, &d);
        if (st == TW_OK) {
            for (int i = 0; i < 30; i++) tw_sim_step(s);
            succeeded = fa.failures == 0 || fa.fail_at > fa.allocations;
            tw_sim_free(s);
        } else {
            CHECK(s == NULL);
        }
        fa.fail_at = 0;
        CHECK_EQ_INT(fa.live_bytes, base);
        if (fa.live_bytes != base) break;
    }
    CHECK(succeeded);
    CHECK(k > 20); /* it did walk through many allocations */
    tw_ecs_world_free(f.w);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

/* A route longer than Agent.path holds is walked in pieces. */
TEST(agents_long_routes_are_walked_in_pieces)
{
    ag_fixture f;
    memset(&f, 0, sizeof f);
    f.w = tw_ecs_world_new(NULL);
    tw_sim_register_components(f.w, &f.c);
    f.site = ag_named(&f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    f.ground = ag_storey(&f, "ground", 0.0f);
    enum { N = 2 * TW_AGENT_MAX_PATH + 5 };
    tw_entity chain[N];
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        chain[i] = ag_waypoint(&f, f.ground, name, (float)i, (float)(i % 2) * 0.5f, TW_WAYPOINT_STATION);
        if (i) ag_link(&f, chain[i], chain[i - 1]);
    }
    tw_entity v = ag_named(&f, TW_ENTITY_NULL, "agv", TW_KIND_AGENT);
    tw_ecs_set(f.w, v, f.c.agent, &(Agent){ .type = TW_AGENT_AGV, .max_speed = 2, .route = { chain[0], chain[N - 1] },
                                             .route_length = 2 });
    tw_ecs_set(f.w, v, f.c.body, &(Body){ .radius = 0.3f, .mass = 100 });
    REQUIRE(ag_start(&f, 0.0, 1));
    CHECK(ag_run_until_at(&f, v, chain[N - 1], 200));
    CHECK_EQ_INT(ag_agent(&f, v)->trips, 1);
    ag_fini(&f);
}
