/* Evacuation: the shipped office, full at 10:00, evacuated. Everyone inside
 * leaves by an exit and nobody comes back in while the alarm sounds; calling
 * it off sends people back to their plans; locked doors are impassable (the
 * blocked main stair makes it slower, locked exits keep people in and the
 * clock running); an empty building is evacuated at once; and two identical
 * worlds evacuate identically. */
#include "sim_internal.h"
#include "test.h"
#include "twin/scene.h"

typedef struct ev_fixture {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_scene scene;
    tw_sim *s;
    tw_entity site;
} ev_fixture;

/* The office scene, its clock set to hour of its day. */
static int ev_open(ev_fixture *f, double hour)
{
    memset(f, 0, sizeof *f);
    char path[512];
    snprintf(path, sizeof path, "%s/scenes/office.twin.json", TWIN_SOURCE_DIR);
    f->w = tw_ecs_world_new(NULL);
    if (!f->w || tw_sim_register_components(f->w, &f->c)) return 0;
    tw_diag d;
    tw_diag_clear(&d);
    if (tw_scene_load_file(f->w, path, NULL, &f->scene, &d)) {
        fprintf(stderr, "%s:%u:%u: %s\n", d.file, d.line, d.column, d.message);
        return 0;
    }
    const tw_scene_settings *st = &f->scene.settings;
    tw_sim_desc sd = { .dt = st->dt, .seed = st->seed, .start_time = st->start_time + hour * 3600.0 };
    if (tw_sim_new(f->w, &sd, &f->s, &d)) {
        fprintf(stderr, "tw_sim_new: %s\n", d.message);
        return 0;
    }
    f->site = tw_ecs_lookup_path(f->w, "hq");
    return !tw_entity_is_null(f->site) && tw_ecs_get(f->w, f->site, f->c.evacuation) != NULL;
}

static void ev_fini(ev_fixture *f)
{
    tw_sim_free(f->s);
    tw_scene_fini(&f->scene);
    tw_ecs_world_free(f->w);
}

static Evacuation *ev_get(ev_fixture *f) { return tw_ecs_get(f->w, f->site, f->c.evacuation); }

static Door *ev_door(ev_fixture *f, const char *path)
{
    tw_entity e = tw_ecs_lookup_path(f->w, path);
    return tw_entity_is_null(e) ? NULL : tw_ecs_get(f->w, e, f->c.door);
}

static int ev_run(ev_fixture *f, double seconds)
{
    uint64_t n = (uint64_t)llround(seconds / f->s->dt);
    for (uint64_t i = 0; i < n; i++)
        if (tw_sim_step(f->s)) return 0;
    return 1;
}

/* People (not AGVs) in the building now, and on floor-2. */
static uint32_t ev_inside(ev_fixture *f, uint32_t *upstairs)
{
    tw_entity floor2 = tw_ecs_lookup_path(f->w, "hq/office/floor-2");
    uint32_t n = 0, up = 0;
    uint32_t cap = tw_ecs_entity_capacity(f->w);
    for (uint32_t i = 0; i < cap; i++) {
        const Agent *a = tw_ecs_get(f->w, tw_ecs_entity_at(f->w, i), f->c.agent);
        if (!a || a->type != TW_AGENT_PERSON || a->state == TW_AGENT_OUTSIDE) continue;
        n++;
        up += tw_entity_eq(a->storey, floor2);
    }
    if (upstairs) *upstairs = up;
    return n;
}

/* Steps until the evacuation is complete or max_s has passed; its duration, or -1. */
static double ev_until_complete(ev_fixture *f, double max_s)
{
    for (double t = 0; t < max_s; t += f->s->dt) {
        if (tw_sim_step(f->s)) return -1;
        if (ev_get(f)->state == TW_EVACUATION_COMPLETE) return ev_get(f)->duration;
    }
    return -1;
}

/* The office at 10:00, people settled at their desks and meetings. */
static int ev_morning(ev_fixture *f) { return ev_open(f, 10.0) && ev_run(f, 20.0); }

TEST(evacuation_office_everyone_out_nobody_back_until_called_off)
{
    ev_fixture f;
    REQUIRE(ev_morning(&f));
    uint32_t up = 0, inside = ev_inside(&f, &up);
    CHECK(inside >= 50 && up >= 20); /* a full office on both floors */
    Door *main_in = ev_door(&f, "hq/office/floor-1/doors/d-main-entrance");
    Door *side = ev_door(&f, "hq/office/floor-1/doors/d-side-exit");
    REQUIRE(main_in && side);
    uint32_t main_before = main_in->passages, side_before = side->passages;

    double t0 = tw_sim_time(f.s);
    ev_get(&f)->active = 1;
    REQUIRE(ev_run(&f, 0.1));
    Evacuation *ev = ev_get(&f);
    CHECK_EQ_INT(ev->state, TW_EVACUATION_UNDER_WAY);
    CHECK_NEAR(ev->started_at, t0, 1e-9);
    CHECK_EQ_INT(ev->evacuees, inside);
    CHECK_EQ_INT(ev->remaining, inside);
    CHECK_NEAR(ev->finished_at, 0, 0);

    double dur = ev_until_complete(&f, 600);
    ev = ev_get(&f);
    CHECK(dur > 10 && dur < 300);
    CHECK_EQ_INT(ev->remaining, 0);
    CHECK_EQ_INT(ev_inside(&f, NULL), 0);
    CHECK_NEAR(ev->finished_at - ev->started_at, ev->duration, 1e-3);
    CHECK_NEAR(ev->finished_at, tw_sim_time(f.s), 1e-6); /* the tick it completed in has just ended */
    /* by the nearest exit: both exits were used */
    CHECK(main_in->passages > main_before && side->passages > side_before);

    /* The alarm still sounds: nobody goes back in, the figures stay. */
    REQUIRE(ev_run(&f, 120));
    CHECK_EQ_INT(ev_inside(&f, NULL), 0);
    CHECK_EQ_INT(ev_get(&f)->state, TW_EVACUATION_COMPLETE);
    CHECK_NEAR(ev_get(&f)->duration, dur, 0);

    /* Called off: people go back to their plans; the last figures are kept. */
    ev_get(&f)->active = 0;
    REQUIRE(ev_run(&f, 300));
    CHECK(ev_inside(&f, NULL) >= inside / 2);
    CHECK_EQ_INT(ev_get(&f)->state, TW_EVACUATION_NONE);
    CHECK_NEAR(ev_get(&f)->duration, dur, 0);
    CHECK_EQ_INT(ev_get(&f)->evacuees, inside);
    ev_fini(&f);
}

TEST(evacuation_blocked_main_stair_is_slower)
{
    ev_fixture open, blocked;
    REQUIRE(ev_morning(&open));
    REQUIRE(ev_morning(&blocked));
    CHECK_EQ_U64(tw_sim_state_hash(open.s), tw_sim_state_hash(blocked.s));
    const char *stair[2] = { "hq/office/floor-1/doors/d-stair-main", "hq/office/floor-2/doors/d-stair-main" };
    uint32_t passages[2];
    for (int i = 0; i < 2; i++) {
        Door *d = ev_door(&blocked, stair[i]);
        REQUIRE(d != NULL);
        d->locked = 1;
        passages[i] = d->passages;
    }
    Door *fire = ev_door(&blocked, "hq/office/floor-2/doors/d-stair-fire");
    REQUIRE(fire != NULL);
    uint32_t fire_before = fire->passages;
    ev_get(&open)->active = 1;
    ev_get(&blocked)->active = 1;
    double t_open = ev_until_complete(&open, 600), t_blocked = ev_until_complete(&blocked, 600);
    CHECK(t_open > 0 && t_blocked > 0);
    CHECK(t_blocked > t_open);
    CHECK_EQ_INT(ev_get(&open)->evacuees, ev_get(&blocked)->evacuees);
    CHECK_EQ_INT(ev_inside(&blocked, NULL), 0);
    /* nobody went through the locked stair doors; floor-2 took the fire stair */
    for (int i = 0; i < 2; i++) CHECK_EQ_INT(ev_door(&blocked, stair[i])->passages, passages[i]);
    CHECK(fire->passages >= fire_before + 20);
    printf("  evacuation of %u people: %.1f s with the main stair open, %.1f s with it blocked\n",
           ev_get(&open)->evacuees, t_open, t_blocked);
    ev_fini(&open);
    ev_fini(&blocked);
}

TEST(evacuation_locked_exits_keep_people_in_and_the_clock_running)
{
    ev_fixture f;
    REQUIRE(ev_morning(&f));
    Door *main_in = ev_door(&f, "hq/office/floor-1/doors/d-main-entrance");
    Door *side = ev_door(&f, "hq/office/floor-1/doors/d-side-exit");
    REQUIRE(main_in && side);
    main_in->locked = side->locked = 1;
    uint32_t main_before = main_in->passages;
    ev_get(&f)->active = 1;
    REQUIRE(ev_run(&f, 90));
    Evacuation *ev = ev_get(&f);
    CHECK_EQ_INT(ev->state, TW_EVACUATION_UNDER_WAY);
    CHECK(ev->evacuees > 0);
    CHECK_EQ_INT(ev->remaining, ev->evacuees);
    CHECK_NEAR(ev->duration, 90, 0.01);
    CHECK_NEAR(ev->finished_at, 0, 0);
    /* the side exit is unlocked: they get out (waiting people retry within seconds) */
    side->locked = 0;
    double dur = ev_until_complete(&f, 600);
    CHECK(dur > 90);
    CHECK_EQ_INT(ev_inside(&f, NULL), 0);
    CHECK_EQ_INT(main_in->passages, main_before);
    ev_fini(&f);
}

TEST(evacuation_of_an_empty_building_is_over_at_once)
{
    ev_fixture f;
    REQUIRE(ev_open(&f, 3.0));
    REQUIRE(ev_run(&f, 5));
    CHECK_EQ_INT(ev_inside(&f, NULL), 0);
    ev_get(&f)->active = 1;
    REQUIRE(ev_run(&f, 1));
    Evacuation *ev = ev_get(&f);
    CHECK_EQ_INT(ev->state, TW_EVACUATION_COMPLETE);
    CHECK_EQ_INT(ev->evacuees, 0);
    CHECK_NEAR(ev->duration, 0, 0);
    CHECK_NEAR(ev->finished_at, ev->started_at, 0);
    ev_fini(&f);
}

TEST(evacuation_is_deterministic_and_restarts_fresh)
{
    ev_fixture a, b;
    REQUIRE(ev_morning(&a));
    REQUIRE(ev_morning(&b));
    ev_get(&a)->active = ev_get(&b)->active = 1;
    int same = 1;
    for (int s = 0; s < 120 && same; s++) {
        REQUIRE(ev_run(&a, 1) && ev_run(&b, 1));
        same = tw_sim_state_hash(a.s) == tw_sim_state_hash(b.s);
    }
    CHECK(same);
    CHECK_EQ_INT(ev_get(&a)->state, TW_EVACUATION_COMPLETE);
    /* called off, then a second alarm: new figures from a new start */
    double first = ev_get(&a)->started_at;
    ev_get(&a)->active = 0;
    REQUIRE(ev_run(&a, 600));
    uint32_t back = ev_inside(&a, NULL);
    CHECK(back > 0);
    ev_get(&a)->active = 1;
    REQUIRE(ev_run(&a, 0.1));
    CHECK_EQ_INT(ev_get(&a)->state, TW_EVACUATION_UNDER_WAY);
    CHECK(ev_get(&a)->started_at > first);
    CHECK_EQ_INT(ev_get(&a)->evacuees, back);
    CHECK(ev_until_complete(&a, 600) > 0);
    ev_fini(&a);
    ev_fini(&b);
}
