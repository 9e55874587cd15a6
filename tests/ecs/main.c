/* Tests of the ECS: entities, components, queries, deferred changes,
 * hierarchy, reflection and out-of-memory behaviour. Each case builds and
 * frees its own world. */
#include <stddef.h>

#include "test.h"
#include "twin/ecs.h"

typedef struct Pos { float x, y, z; } Pos;
typedef struct Vel { float x, y, z; } Vel;
typedef struct Temp {
    float temperature;
    double energy;
    int32_t mode;
    uint32_t count;
    uint64_t big;
    uint8_t on;
    int32_t level;
    float pts[4][2];
    uint32_t npts;
    char label[16];
    tw_entity target;
} Temp;

static const char *const mode_names[] = { "off", "heat", "cool" };

static const tw_field pos_fields[] = {
    { "x", TW_TYPE_F32, offsetof(Pos, x), 1, 1, "m", NULL, 0, NULL, 0, "x" },
    { "y", TW_TYPE_F32, offsetof(Pos, y), 1, 1, "m", NULL, 0, NULL, 0, "y" },
    { "z", TW_TYPE_F32, offsetof(Pos, z), 1, 1, "m", NULL, 0, NULL, 0, "z" },
};
static const tw_field vel_fields[] = {
    { "v", TW_TYPE_F32, 0, 1, 3, "m/s", NULL, 0, NULL, 0, "velocity" },
};
static const tw_field temp_fields[] = {
    { "temperature", TW_TYPE_F32, offsetof(Temp, temperature), 1, 1, "degC", NULL, 0, NULL, 0, "air temperature" },
    { "energy", TW_TYPE_F64, offsetof(Temp, energy), 1, 1, "kWh", NULL, 0, NULL, 0, NULL },
    { "mode", TW_TYPE_ENUM, offsetof(Temp, mode), 1, 1, NULL, mode_names, 3, NULL, 0, NULL },
    { "count", TW_TYPE_U32, offsetof(Temp, count), 1, 1, NULL, NULL, 0, NULL, 0, NULL },
    { "big", TW_TYPE_U64, offsetof(Temp, big), 1, 1, NULL, NULL, 0, NULL, 0, NULL },
    { "on", TW_TYPE_BOOL, offsetof(Temp, on), 1, 1, NULL, NULL, 0, NULL, 0, NULL },
    { "level", TW_TYPE_I32, offsetof(Temp, level), 1, 1, NULL, NULL, 0, NULL, 0, NULL },
    { "pts", TW_TYPE_F32, offsetof(Temp, pts), 4, 2, "m", NULL, 0, "npts", 0, NULL },
    { "npts", TW_TYPE_U32, offsetof(Temp, npts), 1, 1, NULL, NULL, 0, NULL, 0, NULL },
    { "label", TW_TYPE_STR, offsetof(Temp, label), sizeof(((Temp *)0)->label), 1, NULL, NULL, 0, NULL, 0, NULL },
    { "target", TW_TYPE_ENTITY, offsetof(Temp, target), 1, 1, NULL, NULL, 0, NULL, 0, NULL },
};
static const Pos pos_default = { 1, 2, 3 };
static const Temp temp_default = { 20.0f, 0, 1, 0, 0, 1, 0, { { 0 } }, 0, "room", { 0 } };

typedef struct fixture {
    tw_ecs_world *w;
    tw_component pos, vel, temp;
} fixture;

static tw_status register_all(tw_ecs_world *w, fixture *f)
{
    tw_ecs_component_desc dp = { "Pos", sizeof(Pos), 4, pos_fields, 3, &pos_default, "position" };
    tw_ecs_component_desc dv = { "Vel", sizeof(Vel), 4, vel_fields, 1, NULL, "velocity" };
    tw_ecs_component_desc dt = { "Thermal", sizeof(Temp), 8, temp_fields, 11, &temp_default, "thermal" };
    tw_status st;
    if ((st = tw_ecs_component_register(w, &dp, &f->pos))) return st;
    if ((st = tw_ecs_component_register(w, &dv, &f->vel))) return st;
    return tw_ecs_component_register(w, &dt, &f->temp);
}

static fixture setup(void)
{
    fixture f = { 0 };
    f.w = tw_ecs_world_new(NULL);
    if (f.w && register_all(f.w, &f) != TW_OK) {
        tw_ecs_world_free(f.w);
        f.w = NULL;
    }
    return f;
}

/* ---- entities ---------------------------------------------------------------- */

TEST(entity_create_destroy_generations)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity a = tw_ecs_entity_create(f.w);
    tw_entity b = tw_ecs_entity_create(f.w);
    CHECK(!tw_entity_is_null(a));
    CHECK(!tw_entity_eq(a, b));
    CHECK(tw_ecs_entity_alive(f.w, a));
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 2);
    uint32_t va = (uint32_t)tw_ecs_world_structure_version(f.w);
    tw_ecs_entity_destroy(f.w, a);
    CHECK((uint32_t)tw_ecs_world_structure_version(f.w) > va);
    CHECK(!tw_ecs_entity_alive(f.w, a));
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 1);
    tw_ecs_entity_destroy(f.w, a); /* dead handle: a no-op */
    tw_entity c = tw_ecs_entity_create(f.w);
    CHECK_EQ_INT(tw_entity_index(c), tw_entity_index(a)); /* slot reused */
    CHECK(!tw_entity_eq(c, a));                           /* generation differs */
    CHECK(!tw_ecs_entity_alive(f.w, a));
    CHECK(tw_ecs_entity_alive(f.w, c));
    CHECK(!tw_ecs_entity_alive(f.w, TW_ENTITY_NULL));
    CHECK(tw_ecs_get(f.w, a, f.pos) == NULL);
    CHECK(tw_ecs_add(f.w, a, f.pos) == NULL);
    CHECK(tw_ecs_set(f.w, a, f.pos, &pos_default) != TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_capacity(f.w), 2);
    CHECK(tw_entity_eq(tw_ecs_entity_at(f.w, tw_entity_index(b)), b));
    CHECK(tw_entity_eq(tw_ecs_entity_at(f.w, tw_entity_index(c)), c));
    CHECK(tw_entity_is_null(tw_ecs_entity_at(f.w, 99)));
    tw_ecs_world_free(f.w);
}

TEST(entity_add_remove_get_set)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity e = tw_ecs_entity_create(f.w);
    CHECK(!tw_ecs_has(f.w, e, f.pos));
    Pos *p = tw_ecs_add(f.w, e, f.pos);
    REQUIRE(p);
    CHECK_NEAR(p->x, 1, 0);
    CHECK_NEAR(p->z, 3, 0);
    p->x = 10;
    Vel v = { 4, 5, 6 };
    CHECK_EQ_INT(tw_ecs_set(f.w, e, f.vel, &v), TW_OK);
    p = tw_ecs_get(f.w, e, f.pos);
    REQUIRE(p);
    CHECK_NEAR(p->x, 10, 0); /* survived the move to another table */
    Vel *pv = tw_ecs_get(f.w, e, f.vel);
    REQUIRE(pv);
    CHECK_NEAR(pv->y, 5, 0);
    CHECK(tw_ecs_add(f.w, e, f.pos) == tw_ecs_get(f.w, e, f.pos)); /* already there: same data */
    tw_component list[4];
    CHECK_EQ_INT(tw_ecs_entity_components(f.w, e, list, 4), 2);
    CHECK_EQ_INT(list[0].id, f.pos.id);
    CHECK_EQ_INT(list[1].id, f.vel.id);
    tw_ecs_remove(f.w, e, f.pos);
    CHECK(!tw_ecs_has(f.w, e, f.pos));
    CHECK(tw_ecs_has(f.w, e, f.vel));
    pv = tw_ecs_get(f.w, e, f.vel);
    REQUIRE(pv);
    CHECK_NEAR(pv->z, 6, 0);
    tw_ecs_remove(f.w, e, f.pos); /* missing: a no-op */
    Temp *t = tw_ecs_add(f.w, e, f.temp);
    REQUIRE(t);
    CHECK_NEAR(t->temperature, 20, 0);
    CHECK_STR(t->label, "room");
    tw_ecs_world_free(f.w);
}

TEST(entity_swap_remove_keeps_others)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_component cs[2] = { f.pos, f.vel };
    tw_entity es[100];
    for (int i = 0; i < 100; i++) {
        es[i] = tw_ecs_entity_create_with(f.w, cs, 2);
        REQUIRE(!tw_entity_is_null(es[i]));
        Pos *p = tw_ecs_get(f.w, es[i], f.pos);
        REQUIRE(p);
        CHECK_NEAR(p->y, 2, 0);
        p->x = (float)i;
    }
    for (int i = 0; i < 100; i += 3) tw_ecs_entity_destroy(f.w, es[i]);
    for (int i = 1; i < 100; i += 3) tw_ecs_remove(f.w, es[i], f.vel);
    for (int i = 0; i < 100; i++) {
        Pos *p = tw_ecs_get(f.w, es[i], f.pos);
        if (i % 3 == 0) {
            CHECK(p == NULL);
        } else {
            REQUIRE(p);
            CHECK_NEAR(p->x, i, 0);
            CHECK(tw_ecs_has(f.w, es[i], f.vel) == (i % 3 == 2));
        }
    }
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 66);
    tw_ecs_world_free(f.w);
}

TEST(entity_create_bulk)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_component cs[2] = { f.pos, f.temp };
    tw_entity first = tw_ecs_entity_create(f.w);
    tw_ecs_entity_destroy(f.w, first); /* a free slot the bulk create reuses */
    tw_entity out[1000];
    CHECK_EQ_INT(tw_ecs_entity_create_bulk(f.w, cs, 2, 1000, out), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 1000);
    CHECK_EQ_INT(tw_ecs_entity_capacity(f.w), 1000);
    for (int i = 0; i < 1000; i++) {
        Pos *p = tw_ecs_get(f.w, out[i], f.pos);
        Temp *t = tw_ecs_get(f.w, out[i], f.temp);
        REQUIRE(p && t);
        CHECK_NEAR(p->z, 3, 0);
        CHECK_NEAR(t->temperature, 20, 0);
        CHECK_STR(t->label, "room");
    }
    /* Bulk entities are roots in creation order. */
    tw_entity r = tw_ecs_root_first(f.w);
    int n = 0;
    while (!tw_entity_is_null(r)) {
        if (n < 1000) CHECK(tw_entity_eq(r, out[n]));
        n++;
        r = tw_ecs_entity_next_sibling(f.w, r);
    }
    CHECK_EQ_INT(n, 1000);
    CHECK_EQ_INT(tw_ecs_entity_create_bulk(f.w, cs, 2, 5, NULL), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 1005);
    tw_ecs_world_free(f.w);
}

/* ---- queries ------------------------------------------------------------------ */

TEST(query_two_and_three_components)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_component pv[2] = { f.pos, f.vel };
    tw_component pvt[3] = { f.pos, f.vel, f.temp };
    for (int i = 0; i < 10; i++) tw_ecs_entity_create_with(f.w, pv, 2);
    for (int i = 0; i < 5; i++) tw_ecs_entity_create_with(f.w, pvt, 3);
    for (int i = 0; i < 7; i++) tw_ecs_entity_create_with(f.w, pv, 1);

    tw_ecs_query q;
    tw_ecs_query_desc d = { .with = { f.vel, f.pos } };
    REQUIRE(tw_ecs_query_init(f.w, &q, &d) == TW_OK);
    CHECK_EQ_INT(tw_ecs_query_count(f.w, &q), 15);
    int seen = 0;
    for (tw_ecs_iter it = tw_ecs_query_iter(f.w, &q); tw_ecs_iter_next(&it);) {
        Vel *v = it.columns[0];
        Pos *p = it.columns[1];
        for (uint32_t i = 0; i < it.count; i++) {
            v[i].x = 1;
            p[i].x += v[i].x;
            CHECK(tw_ecs_get(f.w, it.entities[i], f.pos) == &p[i]);
        }
        seen += (int)it.count;
    }
    CHECK_EQ_INT(seen, 15);

    tw_ecs_query q3;
    tw_ecs_query_desc d3 = { .with = { f.pos, f.vel, f.temp } };
    REQUIRE(tw_ecs_query_init(f.w, &q3, &d3) == TW_OK);
    CHECK_EQ_INT(tw_ecs_query_count(f.w, &q3), 5);

    tw_ecs_query qx;
    tw_ecs_query_desc dx = { .with = { f.pos }, .without = { f.temp } };
    REQUIRE(tw_ecs_query_init(f.w, &qx, &dx) == TW_OK);
    CHECK_EQ_INT(tw_ecs_query_count(f.w, &qx), 17);

    /* A table created after init is picked up. */
    tw_component pt[2] = { f.pos, f.temp };
    tw_entity late = tw_ecs_entity_create_with(f.w, pv, 2);
    tw_ecs_add(f.w, late, f.temp);
    tw_ecs_remove(f.w, late, f.vel);
    CHECK_EQ_INT(tw_ecs_query_count(f.w, &q3), 5);
    CHECK_EQ_INT(tw_ecs_query_count(f.w, &qx), 17);
    tw_ecs_entity_create_with(f.w, pt, 2);
    tw_ecs_query qp;
    tw_ecs_query_desc dp = { .with = { f.temp } };
    REQUIRE(tw_ecs_query_init(f.w, &qp, &dp) == TW_OK);
    CHECK_EQ_INT(tw_ecs_query_count(f.w, &qp), 7);

    tw_ecs_query_fini(&q);
    tw_ecs_query_fini(&q3);
    tw_ecs_query_fini(&qx);
    tw_ecs_query_fini(&qp);
    tw_ecs_world_free(f.w);
}

TEST(query_skips_empty_tables)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity e = tw_ecs_entity_create_with(f.w, &f.pos, 1);
    tw_ecs_add(f.w, e, f.vel); /* leaves the {Pos} table empty */
    tw_ecs_query q;
    tw_ecs_query_desc d = { .with = { f.pos } };
    REQUIRE(tw_ecs_query_init(f.w, &q, &d) == TW_OK);
    int chunks = 0;
    for (tw_ecs_iter it = tw_ecs_query_iter(f.w, &q); tw_ecs_iter_next(&it);) {
        CHECK(it.count > 0);
        chunks++;
    }
    CHECK_EQ_INT(chunks, 1);
    tw_ecs_query_fini(&q);
    tw_ecs_world_free(f.w);
}

/* ---- deferred ----------------------------------------------------------------- */

TEST(defer_changes_during_iteration)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_component pv[2] = { f.pos, f.vel };
    tw_entity es[20];
    for (int i = 0; i < 20; i++) es[i] = tw_ecs_entity_create_with(f.w, pv, 2);
    tw_ecs_query q;
    tw_ecs_query_desc d = { .with = { f.pos } };
    REQUIRE(tw_ecs_query_init(f.w, &q, &d) == TW_OK);

    tw_ecs_defer_begin(f.w);
    CHECK(tw_ecs_is_deferred(f.w));
    uint64_t v0 = tw_ecs_world_structure_version(f.w);
    tw_entity spawned[20];
    int n = 0;
    for (tw_ecs_iter it = tw_ecs_query_iter(f.w, &q); tw_ecs_iter_next(&it);) {
        for (uint32_t i = 0; i < it.count; i++) {
            tw_entity e = it.entities[i];
            uint32_t k = tw_entity_index(e);
            if (k % 2 == 0) tw_ecs_entity_destroy(f.w, e);
            else tw_ecs_add(f.w, e, f.temp);
            spawned[n] = tw_ecs_entity_create_with(f.w, &f.temp, 1);
            CHECK(tw_ecs_entity_alive(f.w, spawned[n]));
            CHECK(tw_ecs_get(f.w, spawned[n], f.temp) == NULL);
            n++;
        }
    }
    CHECK_EQ_INT(n, 20);
    CHECK(tw_ecs_world_structure_version(f.w) == v0);
    CHECK(tw_ecs_entity_alive(f.w, es[0])); /* destroy is queued */
    CHECK(tw_ecs_get(f.w, es[1], f.temp) == NULL);
    tw_ecs_defer_begin(f.w); /* nested */
    Pos np = { 7, 8, 9 };
    CHECK_EQ_INT(tw_ecs_set(f.w, es[1], f.pos, &np), TW_OK);
    CHECK_EQ_INT(tw_ecs_defer_end(f.w), TW_OK);
    CHECK(tw_ecs_is_deferred(f.w));
    CHECK(tw_ecs_get(f.w, es[1], f.temp) == NULL);
    CHECK_EQ_INT(tw_ecs_defer_end(f.w), TW_OK);
    CHECK(!tw_ecs_is_deferred(f.w));
    CHECK(tw_ecs_world_structure_version(f.w) > v0);

    for (int i = 0; i < 20; i++) {
        if (tw_entity_index(es[i]) % 2 == 0) {
            CHECK(!tw_ecs_entity_alive(f.w, es[i]));
        } else {
            CHECK(tw_ecs_has(f.w, es[i], f.temp));
        }
        Temp *t = tw_ecs_get(f.w, spawned[i], f.temp);
        REQUIRE(t);
        CHECK_NEAR(t->temperature, 20, 0);
    }
    Pos *p = tw_ecs_get(f.w, es[1], f.pos);
    REQUIRE(p);
    CHECK_NEAR(p->y, 8, 0);
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 30);
    tw_ecs_query_fini(&q);
    tw_ecs_world_free(f.w);
}

TEST(defer_destroy_created_in_same_block)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_ecs_defer_begin(f.w);
    tw_entity a = tw_ecs_entity_create_with(f.w, &f.pos, 1);
    tw_entity b = tw_ecs_entity_create(f.w);
    tw_entity child = tw_ecs_entity_create(f.w);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, a, "a"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, child, "kid"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, child, a), TW_OK);
    Pos v = { 5, 5, 5 };
    tw_ecs_set(f.w, a, f.pos, &v);
    tw_ecs_add(f.w, b, f.vel);
    tw_ecs_entity_destroy(f.w, a);
    tw_ecs_add(f.w, a, f.vel); /* after the destroy: skipped */
    CHECK(tw_ecs_entity_alive(f.w, a));
    CHECK_EQ_INT(tw_ecs_defer_end(f.w), TW_OK);
    CHECK(!tw_ecs_entity_alive(f.w, a));
    CHECK(!tw_ecs_entity_alive(f.w, child));
    CHECK(tw_entity_is_null(tw_ecs_lookup_path(f.w, "a/kid")));
    CHECK(tw_ecs_has(f.w, b, f.vel));
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 1);
    tw_ecs_world_free(f.w);
}

/* ---- two worlds --------------------------------------------------------------- */

TEST(world_two_side_by_side)
{
    fixture f1 = setup(), f2 = setup();
    REQUIRE(f1.w && f2.w);
    CHECK_EQ_INT(f1.pos.id, f2.pos.id);
    tw_entity a = tw_ecs_entity_create_with(f1.w, &f1.pos, 1);
    tw_ecs_entity_create(f2.w);
    tw_entity b = tw_ecs_entity_create_with(f2.w, &f2.pos, 1);
    ((Pos *)tw_ecs_get(f1.w, a, f1.pos))->x = 100;
    ((Pos *)tw_ecs_get(f2.w, b, f2.pos))->x = 200;
    CHECK_NEAR(((Pos *)tw_ecs_get(f1.w, a, f1.pos))->x, 100, 0);
    CHECK_NEAR(((Pos *)tw_ecs_get(f2.w, b, f2.pos))->x, 200, 0);
    CHECK_EQ_INT(tw_ecs_entity_count(f1.w), 1);
    CHECK_EQ_INT(tw_ecs_entity_count(f2.w), 2);
    tw_ecs_entity_set_name(f1.w, a, "same");
    tw_ecs_entity_set_name(f2.w, b, "same");
    CHECK(tw_entity_eq(tw_ecs_lookup_path(f1.w, "same"), a));
    CHECK(tw_entity_eq(tw_ecs_lookup_path(f2.w, "same"), b));
    tw_ecs_world_free(f1.w);
    tw_ecs_world_free(f2.w);
}

/* ---- hierarchy ------------------------------------------------------------------ */

TEST(hierarchy_paths_and_external_ids)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity hq = tw_ecs_entity_create(f.w);
    tw_entity fl = tw_ecs_entity_create(f.w);
    tw_entity r1 = tw_ecs_entity_create(f.w);
    tw_entity r2 = tw_ecs_entity_create(f.w);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, hq, "hq"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, fl, "floor-2"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, r1, "room-201"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, r2, "room-202"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, fl, hq), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, r1, fl), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, r2, fl), TW_OK);
    tw_ecs_entity_set_kind(f.w, hq, TW_KIND_BUILDING);
    tw_ecs_entity_set_kind(f.w, fl, TW_KIND_STOREY);
    tw_ecs_entity_set_kind(f.w, r1, TW_KIND_SPACE);

    char path[TW_ECS_PATH_MAX];
    CHECK_EQ_INT(tw_ecs_entity_path(f.w, r1, path, sizeof path), (int)strlen("hq/floor-2/room-201"));
    CHECK_STR(path, "hq/floor-2/room-201");
    char small[8];
    CHECK_EQ_INT(tw_ecs_entity_path(f.w, r1, small, sizeof small), -1);
    CHECK(tw_entity_eq(tw_ecs_lookup_path(f.w, "hq/floor-2/room-201"), r1));
    CHECK(tw_entity_eq(tw_ecs_lookup_path(f.w, "hq/floor-2"), fl));
    CHECK(tw_entity_is_null(tw_ecs_lookup_path(f.w, "hq/floor-3")));
    CHECK(tw_entity_is_null(tw_ecs_lookup_path(f.w, "floor-2")));
    CHECK(tw_entity_eq(tw_ecs_entity_parent(f.w, r2), fl));
    CHECK(tw_entity_eq(tw_ecs_entity_first_child(f.w, fl), r1));
    CHECK(tw_entity_eq(tw_ecs_entity_next_sibling(f.w, r1), r2));
    CHECK(tw_entity_is_null(tw_ecs_entity_next_sibling(f.w, r2)));
    CHECK(tw_entity_eq(tw_ecs_root_first(f.w), hq));
    CHECK(tw_entity_is_null(tw_ecs_entity_next_sibling(f.w, hq)));
    CHECK(tw_entity_eq(tw_ecs_entity_ancestor_of_kind(f.w, r1, TW_KIND_STOREY), fl));
    CHECK(tw_entity_eq(tw_ecs_entity_ancestor_of_kind(f.w, r1, TW_KIND_SPACE), r1));
    CHECK(tw_entity_is_null(tw_ecs_entity_ancestor_of_kind(f.w, r1, TW_KIND_SITE)));
    CHECK_EQ_INT(tw_ecs_entity_kind(f.w, fl), TW_KIND_STOREY);

    /* Name rules: unique among siblings, no '/', under 64 bytes; cycles refused. */
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, r2, "room-201"), TW_ERR_INVALID);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, r2, "a/b"), TW_ERR_INVALID);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, r2, "0123456789012345678901234567890123456789012345678901234567890123"),
                 TW_ERR_INVALID);
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, hq, r1), TW_ERR_INVALID);
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, hq, hq), TW_ERR_INVALID);
    tw_entity other = tw_ecs_entity_create(f.w);
    tw_ecs_entity_set_name(f.w, other, "room-201");
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, other, fl), TW_ERR_INVALID);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, r1, "room-101"), TW_OK);
    CHECK(tw_entity_is_null(tw_ecs_lookup_path(f.w, "hq/floor-2/room-201")));
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, other, fl), TW_OK);
    CHECK(tw_entity_eq(tw_ecs_lookup_path(f.w, "hq/floor-2/room-201"), other));
    CHECK(tw_entity_is_null(tw_ecs_lookup_path(f.w, "room-201")));

    /* External ids. */
    CHECK_EQ_INT(tw_ecs_entity_set_external_id(f.w, r1, "2O2Fr$t4X7Zf8NOew3FLOH"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_external_id(f.w, r2, "2O2Fr$t4X7Zf8NOew3FLOH"), TW_ERR_INVALID);
    CHECK(tw_entity_eq(tw_ecs_lookup_external_id(f.w, "2O2Fr$t4X7Zf8NOew3FLOH"), r1));
    CHECK_STR(tw_ecs_entity_external_id(f.w, r1), "2O2Fr$t4X7Zf8NOew3FLOH");
    CHECK_STR(tw_ecs_entity_external_id(f.w, r2), "");
    CHECK_EQ_INT(tw_ecs_entity_set_external_id(f.w, r2, "b-1"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_external_id(f.w, r2, ""), TW_OK);
    CHECK(tw_entity_is_null(tw_ecs_lookup_external_id(f.w, "b-1")));

    /* Destroy is recursive and clears names and ids. */
    tw_ecs_entity_destroy(f.w, hq);
    CHECK(!tw_ecs_entity_alive(f.w, fl));
    CHECK(!tw_ecs_entity_alive(f.w, r1));
    CHECK(!tw_ecs_entity_alive(f.w, other));
    CHECK(tw_entity_is_null(tw_ecs_lookup_path(f.w, "hq")));
    CHECK(tw_entity_is_null(tw_ecs_lookup_external_id(f.w, "2O2Fr$t4X7Zf8NOew3FLOH")));
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 0);
    CHECK(tw_entity_is_null(tw_ecs_root_first(f.w)));
    tw_entity again = tw_ecs_entity_create(f.w);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, again, "hq"), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_set_external_id(f.w, again, "2O2Fr$t4X7Zf8NOew3FLOH"), TW_OK);
    CHECK_STR(tw_ecs_entity_name(f.w, again), "hq");
    tw_ecs_world_free(f.w);
}

TEST(hierarchy_children_order_and_roots)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity p = tw_ecs_entity_create(f.w);
    tw_entity c[5];
    for (int i = 0; i < 5; i++) c[i] = tw_ecs_entity_create(f.w);
    /* attach in order 3, 1, 4, 0, 2 */
    int order[5] = { 3, 1, 4, 0, 2 };
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, c[order[i]], p), TW_OK);
    tw_entity k = tw_ecs_entity_first_child(f.w, p);
    for (int i = 0; i < 5; i++) {
        CHECK(tw_entity_eq(k, c[order[i]]));
        k = tw_ecs_entity_next_sibling(f.w, k);
    }
    CHECK(tw_entity_is_null(k));
    /* detach 4: it becomes the last root */
    CHECK_EQ_INT(tw_ecs_entity_set_parent(f.w, c[4], TW_ENTITY_NULL), TW_OK);
    CHECK(tw_entity_eq(tw_ecs_root_first(f.w), p));
    CHECK(tw_entity_eq(tw_ecs_entity_next_sibling(f.w, p), c[4]));
    tw_ecs_entity_destroy(f.w, c[1]);
    k = tw_ecs_entity_first_child(f.w, p);
    CHECK(tw_entity_eq(k, c[3]));
    CHECK(tw_entity_eq(tw_ecs_entity_next_sibling(f.w, k), c[0]));
    CHECK_STR(tw_kind_name(TW_KIND_WAYPOINT), "waypoint");
    CHECK_STR(tw_kind_name(TW_KIND_NONE), "none");
    tw_kind kind;
    CHECK(tw_kind_from_name("storey", &kind) && kind == TW_KIND_STOREY);
    CHECK(tw_kind_from_name("group", &kind) && kind == TW_KIND_GROUP);
    CHECK(!tw_kind_from_name("floor", &kind));
    tw_ecs_world_free(f.w);
}

TEST(hierarchy_deep_destroy)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity root = tw_ecs_entity_create(f.w), cur = root;
    for (int i = 0; i < 5000; i++) {
        tw_entity n = tw_ecs_entity_create_with(f.w, &f.pos, 1);
        tw_ecs_entity_set_parent(f.w, n, cur);
        cur = n;
    }
    tw_ecs_entity_destroy(f.w, root);
    CHECK_EQ_INT(tw_ecs_entity_count(f.w), 0);
    tw_ecs_world_free(f.w);
}

/* ---- reflection ---------------------------------------------------------------- */

TEST(reflect_register_and_info)
{
    fixture f = setup();
    REQUIRE(f.w);
    CHECK_EQ_INT(tw_ecs_component_count(f.w), 3);
    CHECK_EQ_INT(tw_ecs_component_lookup(f.w, "Thermal").id, f.temp.id);
    CHECK_EQ_INT(tw_ecs_component_lookup(f.w, "Nope").id, 0);
    const tw_ecs_component_info *info = tw_ecs_component_get_info(f.w, f.temp);
    REQUIRE(info);
    CHECK_STR(info->name, "Thermal");
    CHECK_EQ_INT(info->size, sizeof(Temp));
    CHECK_EQ_INT(info->field_count, 11);
    CHECK(info->fields != temp_fields); /* a copy */
    uint32_t idx;
    const tw_field *fl = tw_ecs_field_lookup(info, "mode", &idx);
    REQUIRE(fl);
    CHECK_EQ_INT(idx, 2);
    CHECK_STR(fl->enum_names[2], "cool");
    const tw_ecs_component_info *vinfo = tw_ecs_component_get_info(f.w, f.vel);
    REQUIRE(vinfo && vinfo->defaults);
    CHECK(((const Vel *)vinfo->defaults)->x == 0);
    CHECK(tw_ecs_component_get_info(f.w, (tw_component){ 99 }) == NULL);

    tw_component dup;
    tw_ecs_component_desc d = { "Pos", sizeof(Pos), 4, pos_fields, 3, NULL, NULL };
    CHECK_EQ_INT(tw_ecs_component_register(f.w, &d, &dup), TW_ERR_INVALID);
    d.name = "Small";
    d.size = 8; /* z lies past the end */
    CHECK_EQ_INT(tw_ecs_component_register(f.w, &d, &dup), TW_ERR_INVALID);
    tw_field bad_enum = { "m", TW_TYPE_ENUM, 0, 1, 1, NULL, NULL, 0, NULL, 0, NULL };
    tw_ecs_component_desc de = { "E", 4, 4, &bad_enum, 1, NULL, NULL };
    CHECK_EQ_INT(tw_ecs_component_register(f.w, &de, &dup), TW_ERR_INVALID);
    tw_field bad_len[2] = { { "n", TW_TYPE_F32, 0, 1, 1, NULL, NULL, 0, NULL, 0, NULL },
                            { "a", TW_TYPE_F32, 4, 2, 1, NULL, NULL, 0, "n", 0, NULL } };
    tw_ecs_component_desc dl = { "L", 12, 4, bad_len, 2, NULL, NULL };
    CHECK_EQ_INT(tw_ecs_component_register(f.w, &dl, &dup), TW_ERR_INVALID);
    bad_len[0].type = TW_TYPE_U32;
    CHECK_EQ_INT(tw_ecs_component_register(f.w, &dl, &dup), TW_OK);
    CHECK_EQ_INT(tw_ecs_component_count(f.w), 4);
    for (int i = 0; i < 60; i++) {
        char name[16];
        snprintf(name, sizeof name, "C%d", i);
        tw_ecs_component_desc dc = { name, 4, 4, NULL, 0, NULL, NULL };
        tw_status st = tw_ecs_component_register(f.w, &dc, &dup);
        CHECK_EQ_INT(st, TW_OK);
    }
    tw_ecs_component_desc over = { "Over", 4, 4, NULL, 0, NULL, NULL };
    CHECK_EQ_INT(tw_ecs_component_register(f.w, &over, &dup), TW_ERR_LIMIT);
    /* The 64th component works in tables and queries. */
    tw_entity e = tw_ecs_entity_create_with(f.w, &dup, 1);
    CHECK(tw_ecs_has(f.w, e, dup));
    CHECK_EQ_INT(dup.id, 64);
    tw_ecs_world_free(f.w);
}

TEST(reflect_resolve_and_did_you_mean)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_ecs_field_ref ref;
    tw_diag diag;
    tw_diag_clear(&diag);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermal.temperature", &ref, &diag), TW_OK);
    CHECK_EQ_INT(ref.component.id, f.temp.id);
    CHECK_STR(ref.field->name, "temperature");
    CHECK_EQ_INT(ref.field_index, 0);
    CHECK_EQ_INT(ref.element, 0);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermal.pts[5]", &ref, &diag), TW_OK);
    CHECK_EQ_INT(ref.element, 5);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermal.pts[8]", &ref, &diag), TW_ERR_INVALID);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermall.temperature", &ref, &diag), TW_ERR_NOT_FOUND);
    CHECK_CONTAINS(diag.message, "unknown component \"Thermall\"; did you mean \"Thermal\"?");
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermal.temprature", &ref, &diag), TW_ERR_NOT_FOUND);
    CHECK_CONTAINS(diag.message, "did you mean \"temperature\"?");
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Zzzzzzzzzz.x", &ref, &diag), TW_ERR_NOT_FOUND);
    CHECK(strstr(diag.message, "did you mean") == NULL);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermal", &ref, &diag), TW_ERR_PARSE);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermal.pts[x]", &ref, &diag), TW_ERR_PARSE);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Thermal.pts[1", &ref, &diag), TW_ERR_PARSE);
    CHECK_EQ_INT(tw_ecs_field_resolve(f.w, "Vel.v[2]", &ref, NULL), TW_OK);
    tw_ecs_world_free(f.w);
}

TEST(reflect_read_write_f64)
{
    fixture f = setup();
    REQUIRE(f.w);
    const tw_ecs_component_info *info = tw_ecs_component_get_info(f.w, f.temp);
    Temp t = temp_default;
    double v;
    const tw_field *fl;
    fl = tw_ecs_field_lookup(info, "temperature", NULL);
    CHECK(tw_field_write_f64(&t, fl, 0, 21.5));
    CHECK(tw_field_read_f64(&t, fl, 0, &v) && v == 21.5);
    CHECK(!tw_field_read_f64(&t, fl, 1, &v));
    fl = tw_ecs_field_lookup(info, "energy", NULL);
    CHECK(tw_field_write_f64(&t, fl, 0, 1e10 + 0.25));
    CHECK(tw_field_read_f64(&t, fl, 0, &v) && v == 1e10 + 0.25);
    fl = tw_ecs_field_lookup(info, "mode", NULL);
    CHECK(tw_field_write_f64(&t, fl, 0, 2));
    CHECK_EQ_INT(t.mode, 2);
    CHECK(!tw_field_write_f64(&t, fl, 0, 3));
    CHECK(!tw_field_write_f64(&t, fl, 0, -1));
    CHECK(!tw_field_write_f64(&t, fl, 0, 1.5));
    CHECK_EQ_INT(t.mode, 2);
    fl = tw_ecs_field_lookup(info, "count", NULL);
    CHECK(tw_field_write_f64(&t, fl, 0, 4000000000.0));
    CHECK(t.count == 4000000000u);
    CHECK(!tw_field_write_f64(&t, fl, 0, -1));
    CHECK(!tw_field_write_f64(&t, fl, 0, 5e9));
    fl = tw_ecs_field_lookup(info, "big", NULL);
    CHECK(tw_field_write_f64(&t, fl, 0, 9007199254740992.0));
    CHECK(t.big == 9007199254740992ull);
    fl = tw_ecs_field_lookup(info, "level", NULL);
    CHECK(tw_field_write_f64(&t, fl, 0, -7));
    CHECK(tw_field_read_f64(&t, fl, 0, &v) && v == -7);
    CHECK(!tw_field_write_f64(&t, fl, 0, 3e9));
    CHECK(!tw_field_write_f64(&t, fl, 0, NAN));
    fl = tw_ecs_field_lookup(info, "on", NULL);
    CHECK(tw_field_write_f64(&t, fl, 0, 0));
    CHECK(tw_field_read_f64(&t, fl, 0, &v) && v == 0);
    CHECK(tw_field_write_f64(&t, fl, 0, 5));
    CHECK_EQ_INT(t.on, 1);
    fl = tw_ecs_field_lookup(info, "pts", NULL);
    CHECK_EQ_INT(tw_field_scalars(fl), 8);
    CHECK(tw_field_write_f64(&t, fl, 7, 3.5));
    CHECK_NEAR(t.pts[3][1], 3.5, 0);
    fl = tw_ecs_field_lookup(info, "label", NULL);
    CHECK_EQ_INT(tw_field_scalars(fl), 1);
    CHECK(!tw_field_read_f64(&t, fl, 0, &v));
    CHECK(!tw_field_write_f64(&t, fl, 0, 1));
    fl = tw_ecs_field_lookup(info, "target", NULL);
    CHECK(!tw_field_read_f64(&t, fl, 0, &v));
    CHECK_EQ_INT(tw_type_size(TW_TYPE_ENTITY), 8);
    CHECK_EQ_INT(tw_type_size(TW_TYPE_BOOL), 1);
    CHECK_STR(tw_type_name(TW_TYPE_U64), "u64");
    tw_ecs_world_free(f.w);
}


/* ---- more storage cases ---------------------------------------------------------- */

typedef struct Wide { _Alignas(64) float v[16]; } Wide;

TEST(entity_over_aligned_component)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_component wide;
    tw_ecs_component_desc d = { "Wide", sizeof(Wide), 64, NULL, 0, NULL, NULL };
    REQUIRE(tw_ecs_component_register(f.w, &d, &wide) == TW_OK);
    tw_component cs[2] = { f.pos, wide };
    tw_entity es[300];
    for (int i = 0; i < 300; i++) {
        es[i] = tw_ecs_entity_create_with(f.w, cs, 2);
        Wide *x = tw_ecs_get(f.w, es[i], wide);
        REQUIRE(x);
        CHECK(((uintptr_t)x & 63) == 0);
        x->v[15] = (float)i;
    }
    for (int i = 0; i < 300; i++) {
        Wide *x = tw_ecs_get(f.w, es[i], wide);
        REQUIRE(x);
        CHECK(((uintptr_t)x & 63) == 0);
        CHECK_NEAR(x->v[15], i, 0);
    }
    CHECK_EQ_INT(tw_ecs_entity_create_bulk(f.w, cs, 2, 1000, NULL), TW_OK);
    tw_ecs_query q;
    tw_ecs_query_desc qd = { .with = { wide } };
    REQUIRE(tw_ecs_query_init(f.w, &q, &qd) == TW_OK);
    for (tw_ecs_iter it = tw_ecs_query_iter(f.w, &q); tw_ecs_iter_next(&it);)
        CHECK(((uintptr_t)it.columns[0] & 63) == 0);
    CHECK_EQ_INT(tw_ecs_query_count(f.w, &q), 1300);
    tw_ecs_query_fini(&q);
    tw_ecs_world_free(f.w);
}

TEST(entity_bulk_refused_while_deferred)
{
    tw_log quiet = { 0 };
    tw_log_set_level(&quiet, TW_LOG_OFF);
    tw_ecs_world_desc wd = { NULL, &quiet, 16 };
    tw_ecs_world *w = tw_ecs_world_new(&wd);
    REQUIRE(w);
    tw_ecs_defer_begin(w);
    CHECK_EQ_INT(tw_ecs_entity_create_bulk(w, NULL, 0, 10, NULL), TW_ERR_STATE);
    CHECK_EQ_INT(tw_ecs_defer_end(w), TW_OK);
    CHECK_EQ_INT(tw_ecs_entity_count(w), 0);
    tw_ecs_world_free(w);
}

TEST(entity_slots_walk_in_creation_order)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity es[50];
    for (int i = 0; i < 50; i++) es[i] = tw_ecs_entity_create_with(f.w, &f.pos, (uint32_t)(i % 2));
    uint32_t k = 0;
    for (uint32_t s = 0; s < tw_ecs_entity_capacity(f.w); s++) {
        tw_entity e = tw_ecs_entity_at(f.w, s);
        if (tw_entity_is_null(e)) continue;
        CHECK(tw_entity_eq(e, es[k]));
        k++;
    }
    CHECK_EQ_INT(k, 50);
    tw_ecs_world_free(f.w);
}

TEST(hierarchy_names_after_growth)
{
    fixture f = setup();
    REQUIRE(f.w);
    tw_entity first = tw_ecs_entity_create(f.w);
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, first, "first"), TW_OK);
    char name[32];
    tw_entity es[2000];
    for (int i = 0; i < 2000; i++) {
        es[i] = tw_ecs_entity_create(f.w);
        snprintf(name, sizeof name, "e%d", i);
        REQUIRE(tw_ecs_entity_set_name(f.w, es[i], name) == TW_OK);
        REQUIRE(tw_ecs_entity_set_external_id(f.w, es[i], name) == TW_OK);
        if (i) REQUIRE(tw_ecs_entity_set_parent(f.w, es[i], es[(i - 1) / 2]) == TW_OK);
    }
    CHECK_STR(tw_ecs_entity_name(f.w, first), "first");
    CHECK(tw_entity_eq(tw_ecs_lookup_path(f.w, "e0/e1/e3/e7"), es[7]));
    CHECK(tw_entity_eq(tw_ecs_lookup_external_id(f.w, "e1999"), es[1999]));
    char path[TW_ECS_PATH_MAX];
    CHECK(tw_ecs_entity_path(f.w, es[1999], path, sizeof path) > 0);
    CHECK(tw_entity_eq(tw_ecs_lookup_path(f.w, path), es[1999]));
    CHECK_EQ_INT(tw_ecs_entity_set_name(f.w, es[5], ""), TW_OK); /* clears */
    CHECK_STR(tw_ecs_entity_name(f.w, es[5]), "");
    CHECK(tw_entity_is_null(tw_ecs_lookup_path(f.w, "e0/e2/e5")));
    tw_ecs_entity_destroy(f.w, es[1]); /* half the tree */
    CHECK(tw_entity_is_null(tw_ecs_lookup_external_id(f.w, "e1023")));
    CHECK(!tw_ecs_entity_alive(f.w, es[1023]));
    CHECK(tw_entity_eq(tw_ecs_lookup_external_id(f.w, "e1998"), es[1998]));
    tw_ecs_world_free(f.w);
}

/* A random sequence of operations checked against a plain model, with and
 * without deferral. The model holds, per entity, which components it has
 * and the x of its Pos. */
enum { MODEL_N = 300 };
typedef struct model {
    tw_entity e[MODEL_N];
    int alive[MODEL_N];
    int has[MODEL_N][3];
    float x[MODEL_N];
} model;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

TEST(entity_random_operations_match_model)
{
    fixture f = setup();
    REQUIRE(f.w);
    static model m, pend;
    memset(&m, 0, sizeof m);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    tw_component comps[3] = { f.pos, f.vel, f.temp };
    for (int round = 0; round < 40; round++) {
        int deferred = round % 3 == 2;
        if (deferred) tw_ecs_defer_begin(f.w);
        pend = m; /* what the world will hold once the round's changes apply */
        for (int op = 0; op < 400; op++) {
            uint32_t k = (uint32_t)(rng_next(&seed) % MODEL_N);
            uint32_t c = (uint32_t)(rng_next(&seed) % 3);
            switch (rng_next(&seed) % 5) {
            case 0:
                if (!pend.alive[k] && !(deferred && m.alive[k])) {
                    pend.e[k] = tw_ecs_entity_create_with(f.w, &comps[c], 1);
                    pend.alive[k] = 1;
                    memset(pend.has[k], 0, sizeof pend.has[k]);
                    pend.has[k][c] = 1;
                    pend.x[k] = c == 0 ? 1.0f : 0.0f;
                    if (!deferred) m = pend;
                }
                break;
            case 1:
                if (pend.alive[k]) {
                    tw_ecs_entity_destroy(f.w, pend.e[k]);
                    pend.alive[k] = 0;
                }
                break;
            case 2:
                if (pend.alive[k]) {
                    tw_ecs_add(f.w, pend.e[k], comps[c]);
                    if (!pend.has[k][c] && c == 0) pend.x[k] = 1.0f;
                    pend.has[k][c] = 1;
                }
                break;
            case 3:
                if (pend.alive[k]) {
                    tw_ecs_remove(f.w, pend.e[k], comps[c]);
                    pend.has[k][c] = 0;
                }
                break;
            case 4:
                if (pend.alive[k]) {
                    Pos p = { (float)op, 0, 0 };
                    tw_ecs_set(f.w, pend.e[k], f.pos, &p);
                    pend.has[k][0] = 1;
                    pend.x[k] = (float)op;
                }
                break;
            }
            if (!deferred) m = pend;
        }
        if (deferred) {
            /* Until the flush the world still looks like m. */
            for (int k = 0; k < MODEL_N; k++)
                if (m.alive[k]) CHECK(tw_ecs_entity_alive(f.w, m.e[k]));
            CHECK_EQ_INT(tw_ecs_defer_end(f.w), TW_OK);
        }
        m = pend;
        uint32_t live = 0;
        for (int k = 0; k < MODEL_N; k++) {
            if (!m.alive[k]) {
                if (!tw_entity_is_null(m.e[k])) CHECK(!tw_ecs_entity_alive(f.w, m.e[k]));
                continue;
            }
            live++;
            CHECK(tw_ecs_entity_alive(f.w, m.e[k]));
            for (int c = 0; c < 3; c++) CHECK(tw_ecs_has(f.w, m.e[k], comps[c]) == (m.has[k][c] != 0));
            Pos *p = tw_ecs_get(f.w, m.e[k], f.pos);
            if (p) CHECK_NEAR(p->x, m.x[k], 0);
        }
        CHECK_EQ_INT(tw_ecs_entity_count(f.w), live);
        tw_ecs_query q;
        tw_ecs_query_desc qd = { .with = { f.pos, f.vel } };
        REQUIRE(tw_ecs_query_init(f.w, &q, &qd) == TW_OK);
        uint32_t expect = 0;
        for (int k = 0; k < MODEL_N; k++) expect += m.alive[k] && m.has[k][0] && m.has[k][1];
        CHECK_EQ_INT(tw_ecs_query_count(f.w, &q), expect);
        tw_ecs_query_fini(&q);
    }
    tw_ecs_world_free(f.w);
}

/* ---- out of memory ---------------------------------------------------------------- */

/* A small workload touching every allocating path; returns 0 when it ran to the end. */
static int oom_workload(tw_ecs_world *w)
{
    fixture f = { w };
    if (register_all(w, &f) != TW_OK) return 1;
    tw_component pv[2] = { f.pos, f.vel };
    tw_entity es[40];
    for (int i = 0; i < 40; i++) {
        es[i] = tw_ecs_entity_create_with(w, pv, (uint32_t)(1 + i % 2));
        if (tw_entity_is_null(es[i])) return 1;
    }
    if (tw_ecs_entity_create_bulk(w, pv, 2, 100, NULL) != TW_OK) return 1;
    for (int i = 0; i < 40; i += 2)
        if (!tw_ecs_add(w, es[i], f.temp)) return 1;
    Pos p = { 0, 0, 0 };
    Temp t = temp_default;
    if (tw_ecs_set(w, es[1], f.temp, &t) != TW_OK) return 1;
    if (tw_ecs_set(w, es[1], f.pos, &p) != TW_OK) return 1;
    tw_ecs_remove(w, es[3], f.vel);
    tw_ecs_query q;
    tw_ecs_query_desc d = { .with = { f.pos, f.temp } };
    if (tw_ecs_query_init(w, &q, &d) != TW_OK) return 1;
    tw_ecs_defer_begin(w);
    for (tw_ecs_iter it = tw_ecs_query_iter(w, &q); tw_ecs_iter_next(&it);)
        for (uint32_t i = 0; i < it.count; i++) {
            tw_ecs_remove(w, it.entities[i], f.vel);
            tw_ecs_entity_create_with(w, &f.vel, 1);
        }
    tw_ecs_entity_destroy(w, es[5]);
    tw_status st = tw_ecs_defer_end(w);
    tw_ecs_query_fini(&q);
    if (st) return 1;
    char name[16];
    for (int i = 6; i < 26; i++) {
        snprintf(name, sizeof name, "n%d", i);
        if (tw_ecs_entity_set_name(w, es[i], name) != TW_OK) return 1;
        if (tw_ecs_entity_set_external_id(w, es[i], name) != TW_OK) return 1;
        if (i > 6 && tw_ecs_entity_set_parent(w, es[i], es[i - 1]) != TW_OK) return 1;
    }
    tw_ecs_entity_destroy(w, es[10]);
    return 0;
}

TEST(oom_every_allocation_fails_cleanly)
{
    int completed = 0;
    for (uint64_t fail_at = 1; fail_at < 2000 && !completed; fail_at++) {
        tw_failing_alloc st = { 0 };
        st.fail_at = fail_at;
        tw_allocator a = tw_failing_alloc_allocator(&st);
        tw_ecs_world_desc d = { &a, NULL, 0 };
        tw_log quiet = { 0 };
        tw_log_set_level(&quiet, TW_LOG_OFF);
        d.log = &quiet;
        tw_ecs_world *w = tw_ecs_world_new(&d);
        if (w) {
            int r = oom_workload(w);
            if (r == 0 && st.failures == 0) completed = 1;
            tw_ecs_world_free(w);
        }
        CHECK_EQ_INT(st.live_bytes, 0);
        if (st.live_bytes) break;
    }
    CHECK(completed);
}

int main(int argc, char **argv) { return test_main(argc, argv); }
