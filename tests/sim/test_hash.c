/* Tests of tw_sim_state_hash (engine/sim/src/state_hash.c): equal worlds
 * hash alike, however their tables were built; every hashed field, derived
 * ones included, changes the hash; NOHASH fields, string bytes after the NUL,
 * array elements past their length and the sign of zero do not; the
 * hierarchy and the clock count; two runs of the same world stay equal. */
#include <stddef.h>
#include <string.h>

#include "test.h"
#include "twin/clock.h"
#include "twin/sim.h"

/* A test component with a presentation-only field. */
typedef struct Look {
    float color[3];
    float size;
} Look;

static const tw_field look_fields[] = {
    { "color", TW_TYPE_F32, offsetof(Look, color), 1, 3, NULL, NULL, 0, NULL, TW_FIELD_NOHASH, "display colour" },
    { "size", TW_TYPE_F32, offsetof(Look, size), 1, 1, "m", NULL, 0, NULL, 0, "hashed" },
};

typedef struct hfx {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_component look;
    tw_sim *s;
    tw_entity room_a, room_b, press, wall, door, wp1, wp2, floor;
} hfx;

#define HGET(f, e, T, comp) ((T *)tw_ecs_get((f)->w, (e), (f)->c.comp))

static tw_entity mk(hfx *f, tw_entity parent, const char *name, tw_kind kind)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, e, name);
    tw_ecs_entity_set_kind(f->w, e, kind);
    if (!tw_entity_is_null(parent)) tw_ecs_entity_set_parent(f->w, e, parent);
    return e;
}

static void add_all(hfx *f, tw_entity e, const tw_component *cs, int n, int reversed)
{
    for (int i = 0; i < n; i++) tw_ecs_add(f->w, e, cs[reversed ? n - 1 - i : i]);
}

/* A small site with most components. reversed adds each entity's components
 * in the opposite order (other archetype tables, same contents). */
static int build(hfx *f, int reversed)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(NULL);
    if (!f->w || tw_sim_register_components(f->w, &f->c) != TW_OK) return 0;
    tw_ecs_component_desc d = { "Look", sizeof(Look), _Alignof(Look), look_fields, 2, NULL, "test" };
    if (tw_ecs_component_register(f->w, &d, &f->look) != TW_OK) return 0;
    const tw_sim_components *c = &f->c;

    tw_entity site = mk(f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    tw_component sc[2] = { c->weather, c->meter };
    add_all(f, site, sc, 2, reversed);
    tw_entity hq = mk(f, site, "hq", TW_KIND_BUILDING);
    f->floor = mk(f, hq, "floor-1", TW_KIND_STOREY);
    tw_ecs_add(f->w, f->floor, c->storey);

    f->room_a = mk(f, f->floor, "room-a", TW_KIND_SPACE);
    tw_component rc[7] = { c->transform, c->shape, c->space, c->thermal, c->air, c->hvac, f->look };
    add_all(f, f->room_a, rc, 7, reversed);
    f->room_b = mk(f, f->floor, "room-b", TW_KIND_SPACE);
    add_all(f, f->room_b, rc, 5, reversed);

    tw_entity pc = mk(f, f->room_a, "pc", TW_KIND_EQUIPMENT);
    tw_ecs_add(f->w, pc, c->equipment);
    f->press = mk(f, f->room_a, "press", TW_KIND_EQUIPMENT);
    tw_component mc[3] = { c->transform, c->equipment, c->health };
    add_all(f, f->press, mc, 3, reversed);
    tw_entity al = mk(f, f->press, "vibration", TW_KIND_ALARM);
    tw_ecs_add(f->w, al, c->alarm);

    f->wall = mk(f, f->floor, "wall-1", TW_KIND_ELEMENT);
    tw_component wc[2] = { c->wall, c->shape };
    add_all(f, f->wall, wc, 2, reversed);
    f->door = mk(f, f->floor, "door-1", TW_KIND_ELEMENT);
    tw_ecs_add(f->w, f->door, c->door);
    f->wp1 = mk(f, f->floor, "wp-1", TW_KIND_WAYPOINT);
    f->wp2 = mk(f, f->floor, "wp-2", TW_KIND_WAYPOINT);
    tw_component pc2[2] = { c->transform, c->waypoint };
    add_all(f, f->wp1, pc2, 2, reversed);
    add_all(f, f->wp2, pc2, 2, reversed);

    /* Values, now that the structure is final. */
    HGET(f, f->floor, Storey, storey)->height = 3.2f;
    Shape *sh = HGET(f, f->room_a, Shape, shape);
    sh->kind = TW_SHAPE_EXTRUSION;
    sh->height = 0;
    sh->point_count = 4;
    const float pts[4][2] = { { 0, 0 }, { 6, 0 }, { 6, 4 }, { 0, 4 } };
    memcpy(sh->points, pts, sizeof pts);
    snprintf(sh->mesh, sizeof sh->mesh, "ifc:0abc");
    sh = HGET(f, f->room_b, Shape, shape);
    sh->size[0] = 3;
    sh->size[1] = 4;
    sh = HGET(f, f->wall, Shape, shape);
    sh->kind = TW_SHAPE_POLYLINE;
    sh->point_count = 2;
    sh->points[1][0] = 6;
    HGET(f, f->wall, Wall, wall)->exterior = 1;
    Door *door = HGET(f, f->door, Door, door);
    door->wall = f->wall;
    door->offset = 3;
    Waypoint *w1 = HGET(f, f->wp1, Waypoint, waypoint);
    w1->links[0] = f->wp2;
    w1->link_count = 1;
    Waypoint *w2 = HGET(f, f->wp2, Waypoint, waypoint);
    w2->links[0] = f->wp1;
    w2->link_count = 1;
    HGET(f, f->wp2, Transform, transform)->position[0] = 5;
    Alarm *a = HGET(f, al, Alarm, alarm);
    snprintf(a->field, sizeof a->field, "Health.vibration");
    a->high = 3;
    Health *hl = HGET(f, f->press, Health, health);
    hl->wear_per_hour = 0.5f;
    HGET(f, f->room_a, Space, space)->occupants = 2;
    Look *lk = tw_ecs_get(f->w, f->room_a, f->look);
    lk->size = 1;
    lk->color[0] = 0.5f;

    tw_sim_desc sd = { .dt = 1.0, .seed = 42, .start_time = 6 * 3600.0 };
    tw_diag diag;
    tw_diag_clear(&diag);
    if (tw_sim_new(f->w, &sd, &f->s, &diag) != TW_OK) {
        fprintf(stderr, "tw_sim_new: %s\n", diag.message);
        return 0;
    }
    return 1;
}

static void hfx_fini(hfx *f)
{
    tw_sim_free(f->s);
    tw_ecs_world_free(f->w);
}

TEST(hash_equal_worlds_hash_alike)
{
    hfx a, b, r;
    REQUIRE(build(&a, 0));
    REQUIRE(build(&b, 0));
    REQUIRE(build(&r, 1));
    uint64_t ha = tw_sim_state_hash(a.s);
    CHECK_EQ_U64(ha, tw_sim_state_hash(a.s)); /* reading does not change it */
    CHECK_EQ_U64(ha, tw_sim_state_hash(b.s));
    CHECK_EQ_U64(ha, tw_sim_state_hash(r.s)); /* other tables, same contents */
    /* Derived state was set up by the sim: the area of room-a counts. */
    CHECK_NEAR(HGET(&a, a.room_a, Space, space)->area, 24, 1e-5);
    hfx_fini(&a);
    hfx_fini(&b);
    hfx_fini(&r);
}

TEST(hash_two_runs_stay_equal)
{
    hfx a, b, r;
    REQUIRE(build(&a, 0));
    REQUIRE(build(&b, 0));
    REQUIRE(build(&r, 1));
    uint64_t h0 = tw_sim_state_hash(a.s);
    for (int i = 0; i < 3000; i++) {
        REQUIRE(tw_sim_step(a.s) == TW_OK);
        REQUIRE(tw_sim_step(b.s) == TW_OK);
        REQUIRE(tw_sim_step(r.s) == TW_OK);
        if (i % 500 == 499) {
            uint64_t ha = tw_sim_state_hash(a.s);
            CHECK_EQ_U64(ha, tw_sim_state_hash(b.s));
            CHECK_EQ_U64(ha, tw_sim_state_hash(r.s));
        }
    }
    CHECK(tw_sim_state_hash(a.s) != h0);
    /* Something did happen: the press wore and the meter counted. */
    CHECK(HGET(&a, a.press, Health, health)->health < 1.0f);
    /* One more tick on one of them, and they differ. */
    REQUIRE(tw_sim_step(a.s) == TW_OK);
    CHECK(tw_sim_state_hash(a.s) != tw_sim_state_hash(b.s));
    hfx_fini(&a);
    hfx_fini(&b);
    hfx_fini(&r);
}

/* Changes one scalar (element 0) of field f in data; false when it cannot. */
static int perturb(hfx *x, unsigned char *data, const tw_field *f, const tw_ecs_component_info *info)
{
    unsigned char *p = data + f->offset;
    if (f->len_field) {
        const tw_field *len = tw_ecs_field_lookup(info, f->len_field, NULL);
        uint32_t used;
        memcpy(&used, data + len->offset, sizeof used);
        if (used == 0) return 0;
    }
    switch (f->type) {
    case TW_TYPE_STR:
        if (!p[0]) p[1] = '\0'; /* "" becomes "x" */
        p[0] = p[0] == 'x' ? 'y' : 'x';
        return 1;
    case TW_TYPE_ENTITY: {
        tw_entity e;
        memcpy(&e, p, sizeof e);
        e = tw_entity_eq(e, x->wp1) ? x->wp2 : x->wp1;
        memcpy(p, &e, sizeof e);
        return 1;
    }
    case TW_TYPE_ENUM: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        if (f->enum_count < 2) return 0;
        v = (v + 1) % (int32_t)f->enum_count;
        memcpy(p, &v, sizeof v);
        return 1;
    }
    case TW_TYPE_BOOL:
        p[0] = !p[0];
        return 1;
    default: {
        double v;
        if (!tw_field_read_f64(data, f, 0, &v)) return 0;
        return tw_field_write_f64(data, f, 0, v + 1);
    }
    }
}

TEST(hash_every_field_counts)
{
    hfx x;
    REQUIRE(build(&x, 0));
    REQUIRE(tw_sim_step(x.s) == TW_OK); /* derived fields hold values now */
    const uint64_t h0 = tw_sim_state_hash(x.s);
    int changed = 0, unchanged = 0, derived = 0;
    uint32_t cap = tw_ecs_entity_capacity(x.w);
    for (uint32_t slot = 0; slot < cap; slot++) {
        tw_entity e = tw_ecs_entity_at(x.w, slot);
        if (tw_entity_is_null(e)) continue;
        tw_component comps[TW_ECS_MAX_COMPONENTS];
        uint32_t nc = tw_ecs_entity_components(x.w, e, comps, TW_ECS_MAX_COMPONENTS);
        for (uint32_t c = 0; c < nc; c++) {
            const tw_ecs_component_info *info = tw_ecs_component_get_info(x.w, comps[c]);
            unsigned char *data = tw_ecs_get(x.w, e, comps[c]);
            REQUIRE(info && data);
            unsigned char saved[4096];
            REQUIRE(info->size <= sizeof saved);
            for (uint32_t fi = 0; fi < info->field_count; fi++) {
                const tw_field *f = &info->fields[fi];
                memcpy(saved, data, info->size);
                if (!perturb(&x, data, f, info)) continue;
                uint64_t h = tw_sim_state_hash(x.s);
                if (f->flags & TW_FIELD_NOHASH) {
                    if (h != h0) fprintf(stderr, "  NOHASH %s.%s changed the hash\n", info->name, f->name);
                    unchanged += h == h0;
                    CHECK(h == h0);
                } else {
                    if (h == h0) fprintf(stderr, "  %s.%s on slot %u did not change the hash\n", info->name, f->name, slot);
                    CHECK(h != h0);
                    changed += h != h0;
                    derived += (f->flags & TW_FIELD_DERIVED) && h != h0;
                }
                memcpy(data, saved, info->size);
                CHECK_EQ_U64(tw_sim_state_hash(x.s), h0);
            }
        }
    }
    CHECK(changed > 100);
    CHECK(derived > 15);
    CHECK_EQ_INT(unchanged, 1); /* Look.color */
    hfx_fini(&x);
}

TEST(hash_ignores_what_is_not_state)
{
    hfx x;
    REQUIRE(build(&x, 0));
    const uint64_t h0 = tw_sim_state_hash(x.s);
    /* Bytes after a string's NUL. */
    Shape *sh = HGET(&x, x.room_a, Shape, shape);
    sh->mesh[20] = 'z';
    CHECK_EQ_U64(tw_sim_state_hash(x.s), h0);
    /* Array elements past the used length. */
    sh->points[10][0] = 99;
    Waypoint *w = HGET(&x, x.wp1, Waypoint, waypoint);
    w->links[5] = x.room_a;
    CHECK_EQ_U64(tw_sim_state_hash(x.s), h0);
    /* The sign of zero. */
    HGET(&x, x.wp1, Transform, transform)->yaw = -0.0f;
    HGET(&x, x.room_b, Thermal, thermal)->discomfort_hours = -0.0;
    CHECK_EQ_U64(tw_sim_state_hash(x.s), h0);
    /* But the length itself does. */
    sh->point_count = 5;
    CHECK(tw_sim_state_hash(x.s) != h0);
    sh->point_count = 4;
    CHECK_EQ_U64(tw_sim_state_hash(x.s), h0);
    hfx_fini(&x);
}

TEST(hash_hierarchy_and_clock_count)
{
    hfx x;
    REQUIRE(build(&x, 0));
    const uint64_t h0 = tw_sim_state_hash(x.s);
    REQUIRE(tw_ecs_entity_set_name(x.w, x.room_b, "room-c") == TW_OK);
    CHECK(tw_sim_state_hash(x.s) != h0);
    REQUIRE(tw_ecs_entity_set_name(x.w, x.room_b, "room-b") == TW_OK);
    CHECK_EQ_U64(tw_sim_state_hash(x.s), h0);
    tw_ecs_entity_set_kind(x.w, x.room_b, TW_KIND_GROUP);
    CHECK(tw_sim_state_hash(x.s) != h0);
    tw_ecs_entity_set_kind(x.w, x.room_b, TW_KIND_SPACE);
    CHECK_EQ_U64(tw_sim_state_hash(x.s), h0);
    REQUIRE(tw_ecs_entity_set_parent(x.w, x.wp2, x.room_b) == TW_OK);
    uint64_t moved = tw_sim_state_hash(x.s);
    CHECK(moved != h0);
    REQUIRE(tw_ecs_entity_set_parent(x.w, x.wp2, x.floor) == TW_OK);
    /* A component with no fields still counts by its presence. */
    tw_ecs_add(x.w, x.wp2, x.c.mobility);
    CHECK(tw_sim_state_hash(x.s) != h0);
    tw_ecs_remove(x.w, x.wp2, x.c.mobility);
    uint64_t back = tw_sim_state_hash(x.s);
    /* An entity that dies: its slot leaves the stream. */
    tw_entity extra = tw_ecs_entity_create(x.w);
    CHECK(tw_sim_state_hash(x.s) != back);
    tw_ecs_entity_destroy(x.w, extra);
    CHECK_EQ_U64(tw_sim_state_hash(x.s), back);
    hfx_fini(&x);

    /* Another seed, another hash. */
    hfx a;
    REQUIRE(build(&a, 0));
    uint64_t ha = tw_sim_state_hash(a.s);
    tw_sim_free(a.s);
    tw_sim_desc sd = { .dt = 1.0, .seed = 43, .start_time = 6 * 3600.0 };
    REQUIRE(tw_sim_new(a.w, &sd, &a.s, NULL) == TW_OK);
    CHECK(tw_sim_state_hash(a.s) != ha);
    tw_sim_free(a.s);
    sd.seed = 42;
    sd.dt = 0.5;
    REQUIRE(tw_sim_new(a.w, &sd, &a.s, NULL) == TW_OK);
    CHECK(tw_sim_state_hash(a.s) != ha);
    hfx_fini(&a);
}

TEST(hash_cost_office)
{
    /* 24 rooms with their equipment, walls, waypoints and alarms: well under a millisecond. */
    hfx x;
    REQUIRE(build(&x, 0));
    const tw_sim_components *c = &x.c;
    char name[32];
    tw_sim_free(x.s);
    for (int r = 0; r < 24; r++) {
        snprintf(name, sizeof name, "office-%02d", r);
        tw_entity room = mk(&x, x.floor, name, TW_KIND_SPACE);
        tw_component rc[6] = { c->transform, c->shape, c->space, c->thermal, c->air, c->hvac };
        add_all(&x, room, rc, 6, 0);
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof name, "wall-%d", k);
            tw_entity wl = mk(&x, room, name, TW_KIND_ELEMENT);
            tw_ecs_add(x.w, wl, c->wall);
            tw_ecs_add(x.w, wl, c->shape);
            snprintf(name, sizeof name, "desk-%d", k);
            tw_entity wp = mk(&x, room, name, TW_KIND_WAYPOINT);
            tw_ecs_add(x.w, wp, c->transform);
            tw_ecs_add(x.w, wp, c->waypoint);
            snprintf(name, sizeof name, "pc-%d", k);
            tw_entity pc = mk(&x, room, name, TW_KIND_EQUIPMENT);
            tw_ecs_add(x.w, pc, c->equipment);
        }
        tw_entity al = mk(&x, room, "co2", TW_KIND_ALARM);
        Alarm *a = tw_ecs_add(x.w, al, c->alarm);
        REQUIRE(a);
        snprintf(a->field, sizeof a->field, "Air.co2");
    }
    for (int p = 0; p < 60; p++) { /* people-sized records */
        snprintf(name, sizeof name, "person-%02d", p);
        tw_entity e = mk(&x, x.floor, name, TW_KIND_AGENT);
        tw_ecs_add(x.w, e, c->transform);
        tw_ecs_add(x.w, e, c->body);
    }
    tw_sim_desc sd = { .dt = 0.1, .seed = 1 };
    REQUIRE(tw_sim_new(x.w, &sd, &x.s, NULL) == TW_OK);
    const int reps = 200;
    uint64_t h = 0;
    double t0 = tw_clock_monotonic_s();
    for (int i = 0; i < reps; i++) h ^= tw_sim_state_hash(x.s);
    double us = (tw_clock_monotonic_s() - t0) / reps * 1e6;
    printf("     state hash of %u entities: %.1f us\n", tw_ecs_entity_count(x.w), us);
    CHECK(h == 0); /* an even number of equal hashes */
    /* The time is printed for information; speed targets belong in benchmarks. */
    hfx_fini(&x);
}
