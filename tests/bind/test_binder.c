/* The binder: rules, units, transforms, modes, the quality rules case by
 * case, the input queue (order, window, late, duplicates, unknown sensors),
 * topic patterns, staleness, anchoring, determinism and exact counting. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <unistd.h>

#include "bind_test.h"

typedef struct bfx {
    fixture f;
    tw_bind *b;
    tw_bind_sensors *t;
} bfx;

static bool bfx_init(bfx *x, double window, bool fixed_anchor, double anchor)
{
    if (!fx_init(&x->f, NULL)) return false;
    tw_bind_desc d;
    memset(&d, 0, sizeof d);
    d.reorder_window = window;
    d.anchor = fixed_anchor ? TW_BIND_ANCHOR_FIXED : TW_BIND_ANCHOR_FIRST_SAMPLE;
    d.anchor_time = anchor;
    d.keep_applied = true;
    d.log = &quiet_log;
    tw_diag diag;
    if (tw_bind_new(x->f.w, &d, &x->b, &diag) != TW_OK) return false;
    x->t = tw_bind_get_sensors(x->b);
    return true;
}

static void bfx_fini(bfx *x)
{
    tw_bind_free(x->b);
    fx_fini(&x->f);
}

static tw_status add(bfx *x, tw_bind_rule r)
{
    tw_diag d;
    tw_status st = tw_bind_add_rule(x->b, &r, &d);
    if (st != TW_OK) fprintf(stderr, "  add_rule: %s\n", d.message);
    return st;
}

static void push(bfx *x, const char *sensor, double t, double v)
{
    tw_bind_sample s = sample(x->t, sensor, t, v);
    tw_bind_push(x->b, &s, 1);
}

static float temp(bfx *x, tw_entity e) { return fx_room(&x->f, e)->temperature; }

TEST(bind_set_at_tick_boundaries)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 1000));
    REQUIRE(add(&x, rule_set("t1", "site/room-1", "Room.temperature")) == TW_OK);
    push(&x, "t1", 1000, 21);
    push(&x, "t1", 1010, 22);
    push(&x, "t1", 1020, 23);
    CHECK_EQ_U64(tw_bind_get_counters(x.b)->pending, 3);
    REQUIRE(tw_bind_apply_until(x.b, x.f.w, 5) == TW_OK);
    CHECK(temp(&x, x.f.room1) == 21.0f);
    REQUIRE(tw_bind_apply_until(x.b, x.f.w, 10) == TW_OK); /* measured at or before the tick */
    CHECK(temp(&x, x.f.room1) == 22.0f);
    tw_bind_apply_until(x.b, x.f.w, 19.9);
    CHECK(temp(&x, x.f.room1) == 22.0f);
    tw_bind_apply_until(x.b, x.f.w, 20);
    CHECK(temp(&x, x.f.room1) == 23.0f);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->received, 3);
    CHECK_EQ_U64(c->applied, 3);
    CHECK_EQ_U64(c->pending, 0);
    CHECK_IDENTITY(c);
    CHECK(temp(&x, x.f.room2) == 20.0f); /* nothing else touched */
    CHECK(tw_bind_anchor_time(x.b) == 1000);
    bfx_fini(&x);
}

TEST(bind_rule_errors)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    tw_diag d;
    tw_bind_rule r = rule_set("t1", "site/room-9", "Room.temperature");
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_NOT_FOUND);
    CHECK_CONTAINS(d.message, "did you mean \"site/room-1\"");
    r = rule_set("t1", "site/room-1", "Room.temprature");
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_NOT_FOUND);
    CHECK_CONTAINS(d.message, "temperature");
    r = rule_set("t1", "site/meter", "Room.temperature");
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_NOT_FOUND);
    CHECK_CONTAINS(d.message, "has no Room component");
    r = rule_set("t1", "site/room-1", "Room.label");
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "numeric");
    r = rule_set("t1", "site/room-1", "Room.temperature");
    r.unit = "W";
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "unit mismatch: W cannot be converted to degC");
    r.unit = "furlong";
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "unknown unit");
    r = rule_set("t1", "site/room-1", "Room.people");
    r.unit = "degC";
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "has no unit");
    r = rule_set("t1", "site/room-1", "Room.temperature");
    r.topic = "a/+";
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    r = rule_set(NULL, "site/{nope}", "Room.temperature");
    r.topic = "a/{room}";
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "capture");
    r = rule_set("t1", "site/room-1", "Room.temperature");
    r.has_range = true;
    r.range_min = 5;
    r.range_max = 1;
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    r = rule_set("t1", "site/room-1", "Room.temperature");
    r.smoothing_alpha = 0.5;
    r.smoothing_tau = 3;
    CHECK_EQ_INT(tw_bind_add_rule(x.b, &r, &d), TW_ERR_INVALID);
    CHECK_EQ_INT(tw_bind_rule_count(x.b), 0);
    CHECK_EQ_INT(tw_bind_binding_count(x.b), 0);
    bfx_fini(&x);
}

TEST(bind_unit_conversion_to_field_unit)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    tw_bind_rule r = rule_set("tf", "site/room-1", "Room.temperature");
    r.unit = "degF";
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("co2pct", "site/room-1", "Room.co2");
    r.unit = "%";
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("wh", "site/room-1", "Room.energy");
    r.unit = "Wh";
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("kw", "site/room-1", "Room.power");
    r.unit = "kW";
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("occ", "site/room-1", "Room.occupancy"); /* no unit on the field: % becomes a fraction */
    r.unit = "%";
    REQUIRE(add(&x, r) == TW_OK);
    push(&x, "tf", 1, 212);
    push(&x, "co2pct", 1, 0.1);
    push(&x, "wh", 1, 2500);
    push(&x, "kw", 1, 1.5);
    push(&x, "occ", 1, 50);
    tw_bind_apply_until(x.b, x.f.w, 1);
    Room *rm = fx_room(&x.f, x.f.room1);
    CHECK_NEAR(rm->temperature, 100.0, 1e-4);
    CHECK_NEAR(rm->co2, 1000.0, 1e-3);
    CHECK_NEAR(rm->energy, 2.5, 1e-12);
    CHECK_NEAR(rm->power, 1500.0, 1e-3);
    CHECK_NEAR(rm->occupancy, 0.5, 1e-6);
    CHECK_EQ_U64(tw_bind_get_counters(x.b)->applied, 5);
    bfx_fini(&x);
}

TEST(bind_sample_unit_and_scale_offset)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    tw_bind_rule r = rule_set("raw", "site/room-2", "Room.temperature");
    r.scale = 0.1; /* counts of 0.1 degC from -40 */
    r.offset = -40;
    REQUIRE(add(&x, r) == TW_OK);
    /* A sample that states its unit (SenML, a unit column) converts from it. */
    tw_bind_sample s = sample(x.t, "t", 1, 300);
    s.unit = tw_bind_unit_lookup("K", 1);
    tw_bind_push(x.b, &s, 1);
    push(&x, "raw", 1, 650);
    tw_bind_apply_until(x.b, x.f.w, 1);
    CHECK_NEAR(temp(&x, x.f.room1), 26.85, 1e-4);
    CHECK_NEAR(temp(&x, x.f.room2), 25.0, 1e-4);
    /* A unit that does not convert, or that twin does not know, is rejected. */
    s = sample(x.t, "t", 2, 5);
    s.unit = tw_bind_unit_lookup("W", 1);
    tw_bind_push(x.b, &s, 1);
    s = sample(x.t, "t", 3, 5);
    s.unit = TW_BIND_UNIT_UNKNOWN;
    tw_bind_push(x.b, &s, 1);
    tw_bind_apply_until(x.b, x.f.w, 3);
    CHECK_NEAR(temp(&x, x.f.room1), 26.85, 1e-4);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_UNIT], 2);
    CHECK_IDENTITY(c);
    bfx_fini(&x);
}

TEST(bind_quality_nan_inf_bad)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    push(&x, "t", 1, 21);
    push(&x, "t", 2, NAN);
    push(&x, "t", 3, INFINITY);
    push(&x, "t", 4, -INFINITY);
    tw_bind_sample s = sample(x.t, "t", 5, 30);
    s.quality = TW_BIND_SAMPLE_BAD;
    tw_bind_push(x.b, &s, 1);
    s = sample(x.t, "t", NAN, 30); /* no usable time */
    tw_bind_push(x.b, &s, 1);
    s = sample(x.t, "t", 6, 22);
    s.quality = TW_BIND_SAMPLE_UNCERTAIN;
    tw_bind_push(x.b, &s, 1);
    tw_bind_apply_until(x.b, x.f.w, 10);
    CHECK(temp(&x, x.f.room1) == 22.0f);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->received, 7);
    CHECK_EQ_U64(c->applied, 2);
    CHECK_EQ_U64(c->uncertain, 1);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_NAN], 1);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_INF], 2);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_QUALITY], 1);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_TIME], 1);
    CHECK_EQ_U64(c->rejected, 5);
    CHECK_IDENTITY(c);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room1), TW_BIND_QUALITY_UNCERTAIN);
    bfx_fini(&x);
}

TEST(bind_range_reject_and_clamp)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    tw_bind_rule r = rule_set("t", "site/room-1", "Room.temperature");
    r.has_range = true;
    r.range_min = 0;
    r.range_max = 50;
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("c", "site/room-2", "Room.temperature");
    r.has_range = true;
    r.range_min = 0;
    r.range_max = 50;
    r.out_of_range = TW_BIND_RANGE_CLAMP;
    REQUIRE(add(&x, r) == TW_OK);
    /* The range is in the field's unit, after conversion. */
    r = rule_set("f", "site/room-3", "Room.temperature");
    r.unit = "degF";
    r.has_range = true;
    r.range_min = -INFINITY;
    r.range_max = 30; /* degC */
    REQUIRE(add(&x, r) == TW_OK);
    /* One input: pushed in time order (the window is 0). */
    push(&x, "t", 1, 21);
    push(&x, "c", 1, 60);
    push(&x, "f", 1, 104); /* 40 degC */
    push(&x, "t", 2, 60);
    push(&x, "c", 2, -5);
    push(&x, "f", 2, 77); /* 25 degC */
    push(&x, "t", 3, -1);
    tw_bind_apply_until(x.b, x.f.w, 1);
    CHECK(temp(&x, x.f.room2) == 50.0f);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room2), TW_BIND_QUALITY_UNCERTAIN);
    tw_bind_apply_until(x.b, x.f.w, 2);
    CHECK(temp(&x, x.f.room1) == 21.0f);
    CHECK(temp(&x, x.f.room2) == 0.0f);
    CHECK_NEAR(temp(&x, x.f.room3), 25.0, 1e-4);
    tw_bind_apply_until(x.b, x.f.w, 3);
    CHECK(temp(&x, x.f.room1) == 21.0f);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_RANGE], 3);
    CHECK_EQ_U64(c->clamped, 2);
    CHECK_EQ_U64(c->applied, 4);
    CHECK_IDENTITY(c);
    tw_bind_binding_info info;
    REQUIRE(tw_bind_binding_get(x.b, 1, &info));
    CHECK_EQ_U64(info.clamped, 2);
    bfx_fini(&x);
}

TEST(bind_deadband)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    tw_bind_rule r = rule_set("t", "site/room-1", "Room.temperature");
    r.deadband = 0.5;
    REQUIRE(add(&x, r) == TW_OK);
    const double v[] = { 20.0, 20.3, 20.6, 20.8, 19.9, 20.2 };
    const float want[] = { 20.0f, 20.0f, 20.6f, 20.6f, 19.9f, 19.9f };
    for (int i = 0; i < 6; i++) {
        push(&x, "t", i + 1, v[i]);
        tw_bind_apply_until(x.b, x.f.w, i + 1);
        CHECK_NEAR(temp(&x, x.f.room1), want[i], 1e-5);
    }
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->applied, 6); /* held samples count as taken: data keeps arriving */
    CHECK_EQ_U64(c->deadband_held, 3);
    bfx_fini(&x);
}

TEST(bind_smoothing)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    tw_bind_rule r = rule_set("a", "site/room-1", "Room.temperature");
    r.smoothing_alpha = 0.5;
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("tau", "site/room-2", "Room.temperature");
    r.smoothing_tau = 10;
    REQUIRE(add(&x, r) == TW_OK);
    push(&x, "a", 0, 20);
    push(&x, "tau", 0, 20);
    push(&x, "a", 1, 30);
    push(&x, "a", 2, 30);
    push(&x, "tau", 10, 30);
    push(&x, "tau", 12, 30);
    tw_bind_apply_until(x.b, x.f.w, 0);
    CHECK(temp(&x, x.f.room1) == 20.0f);
    tw_bind_apply_until(x.b, x.f.w, 1);
    CHECK(temp(&x, x.f.room1) == 25.0f);
    tw_bind_apply_until(x.b, x.f.w, 2);
    CHECK(temp(&x, x.f.room1) == 27.5f);
    tw_bind_apply_until(x.b, x.f.w, 10);
    double s10 = 20 + (1 - exp(-1.0)) * 10;
    CHECK_NEAR(temp(&x, x.f.room2), s10, 1e-4);
    tw_bind_apply_until(x.b, x.f.w, 12);
    CHECK_NEAR(temp(&x, x.f.room2), s10 + (1 - exp(-0.2)) * (30 - s10), 1e-4);
    bfx_fini(&x);
}

TEST(bind_assimilate_and_observe)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    tw_bind_rule r = rule_set("a", "site/room-1", "Room.temperature");
    r.mode = TW_BIND_ASSIMILATE;
    r.gain = 0.5;
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("o", "site/room-2", "Room.temperature");
    r.mode = TW_BIND_OBSERVE;
    REQUIRE(add(&x, r) == TW_OK);
    push(&x, "a", 1, 24);
    push(&x, "o", 1, 25);
    push(&x, "a", 2, 24);
    tw_bind_apply_until(x.b, x.f.w, 1);
    CHECK(temp(&x, x.f.room1) == 22.0f); /* 20 + 0.5 * (24 - 20) */
    CHECK(temp(&x, x.f.room2) == 20.0f); /* observe leaves the field alone */
    tw_bind_apply_until(x.b, x.f.w, 2);
    CHECK(temp(&x, x.f.room1) == 23.0f);
    tw_bind_binding_info a, o;
    REQUIRE(tw_bind_binding_get(x.b, 0, &a));
    REQUIRE(tw_bind_binding_get(x.b, 1, &o));
    CHECK_EQ_U64(a.residual_count, 2);
    CHECK_NEAR(a.residual_last, 2.0, 1e-6);
    CHECK_NEAR(a.residual_mean, 3.0, 1e-6);
    CHECK_NEAR(a.residual_rms, sqrt(10.0), 1e-6);
    CHECK_EQ_INT(a.mode, TW_BIND_ASSIMILATE);
    CHECK_NEAR(o.last_value, 25.0, 1e-9);
    CHECK_NEAR(o.residual_last, 5.0, 1e-6);
    CHECK_EQ_INT(o.quality, TW_BIND_QUALITY_GOOD);
    CHECK(o.last_time == 1.0);
    bfx_fini(&x);
}

TEST(bind_out_of_order_within_window_applied_in_order)
{
    bfx x;
    REQUIRE(bfx_init(&x, 10, true, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    push(&x, "t", 0, 1);
    push(&x, "t", 5, 2);
    push(&x, "t", 3, 3);
    push(&x, "t", 8, 4);
    push(&x, "t", 4, 5);
    tw_bind_apply_until(x.b, x.f.w, 4);
    uint32_t n;
    const tw_bind_sample *s = tw_bind_applied(x.b, &n);
    REQUIRE(n == 3);
    CHECK(s[0].time == 0 && s[1].time == 3 && s[2].time == 4);
    CHECK(temp(&x, x.f.room1) == 5.0f);
    tw_bind_apply_until(x.b, x.f.w, 10);
    s = tw_bind_applied(x.b, &n);
    REQUIRE(n == 2);
    CHECK(s[0].time == 5 && s[1].time == 8);
    CHECK(temp(&x, x.f.room1) == 4.0f);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->late, 0);
    CHECK_EQ_U64(c->applied, 5);
    bfx_fini(&x);
}

TEST(bind_late_samples_dropped)
{
    bfx x;
    REQUIRE(bfx_init(&x, 2, true, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    push(&x, "t", 0, 1);
    push(&x, "t", 10, 2);
    push(&x, "t", 9, 3); /* within 2 s of the newest: fine */
    push(&x, "t", 5, 4); /* 5 s behind the newest: late */
    tw_bind_apply_until(x.b, x.f.w, 20);
    push(&x, "t", 15, 5); /* its tick has been applied already */
    push(&x, "t", 20, 6); /* so has this one (at or before the tick) */
    push(&x, "t", 21, 7);
    tw_bind_apply_until(x.b, x.f.w, 30);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->late, 3);
    CHECK_EQ_U64(c->late_window, 1);
    CHECK_EQ_U64(c->late_applied, 2);
    CHECK_EQ_U64(c->applied, 4);
    CHECK(temp(&x, x.f.room1) == 7.0f);
    CHECK_IDENTITY(c);
    bfx_fini(&x);
}

TEST(bind_duplicates_dropped)
{
    bfx x;
    REQUIRE(bfx_init(&x, 10, true, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    REQUIRE(add(&x, rule_set("u", "site/room-2", "Room.temperature")) == TW_OK);
    push(&x, "t", 5, 1);
    push(&x, "t", 5, 1); /* exact duplicate */
    push(&x, "t", 5, 2); /* same sensor and time, other value: still a duplicate, counted as a conflict */
    push(&x, "u", 5, 3); /* another sensor at the same time is not */
    push(&x, "t", 4, 9); /* earlier, within the window: applied before the time-5 sample */
    tw_bind_apply_until(x.b, x.f.w, 5);
    CHECK(temp(&x, x.f.room1) == 1.0f);
    CHECK(temp(&x, x.f.room2) == 3.0f);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->duplicate, 2);
    CHECK_EQ_U64(c->duplicate_conflict, 1);
    CHECK_EQ_U64(c->applied, 3);
    CHECK_IDENTITY(c);
    bfx_fini(&x);
}

TEST(bind_unknown_sensors_listed)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    const char *names[] = { "x", "y", "z", "w" };
    const int counts[] = { 5, 3, 3, 1 };
    int k = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < counts[i]; j++) push(&x, names[i], ++k, 1);
    push(&x, "t", 1, 1);
    tw_bind_apply_until(x.b, x.f.w, 100);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->unknown_sensor, 12);
    CHECK_EQ_U64(c->applied, 1);
    tw_bind_sensor_count top[8];
    CHECK_EQ_INT(tw_bind_unknown_sensors(x.b, top, 8), 4);
    CHECK_STR(top[0].sensor, "x");
    CHECK_EQ_U64(top[0].count, 5);
    CHECK_STR(top[1].sensor, "y"); /* ties: by name */
    CHECK_STR(top[2].sensor, "z");
    CHECK_STR(top[3].sensor, "w");
    CHECK_EQ_U64(top[3].count, 1);
    CHECK_EQ_INT(tw_bind_unknown_sensors(x.b, top, 1), 4);
    CHECK_STR(top[0].sensor, "x");
    bfx_fini(&x);
}

TEST(bind_topic_pattern_captures)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    /* A sensor seen before the rule is matched when the rule comes. */
    push(&x, "bldg/b1/room/room-1/temp", 1, 18);
    tw_bind_rule r;
    memset(&r, 0, sizeof r);
    r.topic = "bldg/+/room/{room}/temp";
    r.entity = "site/{room}";
    r.field = "Room.temperature";
    REQUIRE(add(&x, r) == TW_OK);
    CHECK_EQ_INT(tw_bind_binding_count(x.b), 1);
    push(&x, "bldg/b1/room/room-1/temp", 2, 21);
    push(&x, "bldg/b2/room/room-2/temp", 2, 22);
    push(&x, "bldg/b2/room/room-9/temp", 2, 23); /* no such entity */
    push(&x, "bldg/b2/room/room-3/hum", 2, 50);  /* does not match */
    /* An exact sensor rule and a pattern both take a sample. */
    REQUIRE(add(&x, rule_set("bldg/b2/room/room-2/temp", "site/room-3", "Room.temperature")) == TW_OK);
    push(&x, "bldg/b2/room/room-2/temp", 3, 24);
    tw_bind_apply_until(x.b, x.f.w, 10);
    CHECK(temp(&x, x.f.room1) == 21.0f);
    CHECK(temp(&x, x.f.room2) == 24.0f);
    CHECK(temp(&x, x.f.room3) == 24.0f);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->unresolved_sensors, 1);
    CHECK_EQ_U64(c->unknown_sensor, 3); /* the sample before the rule, room-9, hum */
    CHECK_EQ_U64(c->applied, 3);
    CHECK_EQ_INT(tw_bind_binding_count(x.b), 3);
    CHECK_IDENTITY(c);
    bfx_fini(&x);
}

TEST(bind_stale_detection)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    tw_bind_rule r = rule_set("t", "site/room-1", "Room.temperature");
    r.stale_after = 60;
    REQUIRE(add(&x, r) == TW_OK);
    r = rule_set("never", "site/room-2", "Room.temperature");
    r.stale_after = 10;
    REQUIRE(add(&x, r) == TW_OK);
    REQUIRE(add(&x, rule_set("nostale", "site/room-3", "Room.temperature")) == TW_OK);
    push(&x, "t", 0, 21);
    tw_bind_apply_until(x.b, x.f.w, 10);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room1), TW_BIND_QUALITY_GOOD);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room2), TW_BIND_QUALITY_NONE);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.meter), TW_BIND_QUALITY_NONE);
    tw_bind_apply_until(x.b, x.f.w, 11); /* no data since the anchor for more than 10 s */
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room2), TW_BIND_QUALITY_STALE);
    tw_bind_apply_until(x.b, x.f.w, 60);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room1), TW_BIND_QUALITY_GOOD);
    tw_bind_apply_until(x.b, x.f.w, 60.5);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room1), TW_BIND_QUALITY_STALE);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->stale_fields, 2);
    CHECK_EQ_U64(c->stale_events, 2);
    push(&x, "t", 70, 22);
    tw_bind_apply_until(x.b, x.f.w, 70);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room1), TW_BIND_QUALITY_GOOD);
    CHECK_EQ_U64(c->stale_fields, 1);
    tw_bind_apply_until(x.b, x.f.w, 200);
    CHECK_EQ_U64(c->stale_fields, 2);
    CHECK_EQ_U64(c->stale_events, 3);
    CHECK_EQ_INT(tw_bind_entity_quality(x.b, x.f.room3), TW_BIND_QUALITY_NONE);
    tw_bind_binding_info info;
    REQUIRE(tw_bind_binding_get(x.b, 0, &info));
    CHECK_EQ_INT(info.quality, TW_BIND_QUALITY_STALE);
    bfx_fini(&x);
}

TEST(bind_anchor_first_sample_from_files)
{
    bfx x;
    REQUIRE(bfx_init(&x, 10, false, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    tw_bind_source_desc d = mem_desc("time,sensor,value\n1709539205,t,2\n1709539200,t,1\n1709539210,t,3\n",
                                     TW_BIND_FORMAT_CSV, x.t);
    tw_bind_source *src;
    tw_diag diag;
    REQUIRE(tw_bind_source_open(&d, &src, &diag) == TW_OK);
    REQUIRE(tw_bind_add_source(x.b, src) == TW_OK);
    double anchor;
    REQUIRE(tw_bind_prime(x.b, &anchor) == TW_OK);
    CHECK(anchor == 1709539200.0); /* the earliest, not the first line */
    tw_bind_apply_until(x.b, x.f.w, 0);
    CHECK(temp(&x, x.f.room1) == 1.0f);
    tw_bind_apply_until(x.b, x.f.w, 5);
    CHECK(temp(&x, x.f.room1) == 2.0f);
    CHECK_NEAR(tw_bind_data_end(x.b), 10.0, 1e-9);
    CHECK(!tw_bind_finished(x.b));
    tw_bind_apply_until(x.b, x.f.w, 10);
    CHECK(tw_bind_finished(x.b));
    CHECK_EQ_INT(tw_bind_source_count(x.b), 1);
    bfx_fini(&x);
}

TEST(bind_target_gone_is_rejected)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 0));
    REQUIRE(add(&x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
    push(&x, "t", 1, 21);
    tw_ecs_remove(x.f.w, x.f.room1, x.f.room);
    tw_bind_apply_until(x.b, x.f.w, 1);
    CHECK_EQ_U64(tw_bind_get_counters(x.b)->rejected_by[TW_BIND_REJECT_TARGET], 1);
    bfx_fini(&x);
}

/* ---- a messy log, counted exactly --------------------------------------------------------- */

TEST(bind_messy_log_counted_exactly)
{
    bfx x;
    REQUIRE(bfx_init(&x, 10, false, 0));
    tw_bind_rule r = rule_set("t1", "site/room-1", "Room.temperature");
    r.has_range = true;
    r.range_min = 0;
    r.range_max = 50;
    REQUIRE(add(&x, r) == TW_OK);
    REQUIRE(add(&x, rule_set("t2", "site/room-2", "Room.co2")) == TW_OK);
    const char *text = "time,sensor,value\n"
                       "0,t1,20\n"      /* applied */
                       "1,t1,NaN\n"     /* rejected: nan */
                       "garbage line\n" /* rejected: line */
                       "2,t1,inf\n"     /* rejected: inf */
                       "3,zz,5\n"       /* unknown */
                       "4,t1,21\n"      /* applied */
                       "4,t1,21\n"      /* duplicate */
                       "3.5,t1,19\n"    /* out of order within the window: applied before 4 */
                       "5,t1,abc\n"     /* rejected: value */
                       "100,t1,22\n"    /* applied */
                       "50,t1,23\n"     /* late */
                       "101,t1,99\n"    /* rejected: range */
                       "102,t2,600\n"   /* applied */
                       "2,zz,1\n";      /* unknown (before the late check) */
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, x.t);
    d.name = "messy.csv";
    tw_bind_source *src;
    tw_diag diag;
    REQUIRE(tw_bind_source_open(&d, &src, &diag) == TW_OK);
    REQUIRE(tw_bind_add_source(x.b, src) == TW_OK);
    double t = 0;
    while (!tw_bind_finished(x.b) && t < 1000) {
        REQUIRE(tw_bind_apply_until(x.b, x.f.w, t) == TW_OK);
        t += 0.5;
    }
    CHECK(tw_bind_finished(x.b));
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->received, 14);
    CHECK_EQ_U64(c->applied, 5);
    CHECK_EQ_U64(c->rejected, 5);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_NAN], 1);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_INF], 1);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_LINE], 1);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_VALUE], 1);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_RANGE], 1);
    CHECK_EQ_U64(c->late, 1);
    CHECK_EQ_U64(c->duplicate, 1);
    CHECK_EQ_U64(c->unknown_sensor, 2);
    CHECK_EQ_U64(c->pending, 0);
    CHECK_IDENTITY(c);
    CHECK(temp(&x, x.f.room1) == 22.0f);
    CHECK(fx_room(&x.f, x.f.room2)->co2 == 600.0f);
    tw_bind_sensor_count top[2];
    CHECK_EQ_INT(tw_bind_unknown_sensors(x.b, top, 2), 1);
    CHECK_STR(top[0].sensor, "zz");
    CHECK_EQ_U64(top[0].count, 2);
    bfx_fini(&x);
}

/* A generated log of 20,000 lines with every kind of trouble mixed in at
 * random, read from a file in small chunks: the counters must equal what the
 * generator put in, and the queue must stay small (the file streams). */
TEST(bind_generated_log_runs_to_the_end)
{
    enum { LINES = 20000 };
    size_t cap = (size_t)LINES * 48 + 64;
    char *text = malloc(cap);
    REQUIRE(text);
    size_t o = (size_t)snprintf(text, cap, "time,sensor,value\n");
    uint64_t rng = 12345;
    uint64_t want_applied = 0, want_nan = 0, want_line = 0, want_unknown = 0, want_dup = 0, want_late = 0,
             want_range = 0, want_value = 0;
    int last_good_sensor = -1, last_good_line = 0;
    double last_good_time = 0, last_good_value = 0;
    for (int i = 0; i < LINES; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int kind = (int)((rng >> 33) % 100);
        int sensor = (int)((rng >> 20) % 3) + 1;
        double base = 1000 + i;
        double value = (double)((rng >> 40) % 400) / 10.0;
        if (kind < 3) {
            o += (size_t)snprintf(text + o, cap - o, "%.0f,t%d,NaN\n", base, sensor);
            want_nan++;
        } else if (kind < 6) {
            o += (size_t)snprintf(text + o, cap - o, "#%d this is ## not data,,,,\n", i); /* a comment: nothing */
        } else if (kind < 9) {
            o += (size_t)snprintf(text + o, cap - o, "%d garbage without fields\n", i);
            want_line++;
        } else if (kind < 12) {
            o += (size_t)snprintf(text + o, cap - o, "%.0f,stray%d,%.1f\n", base, sensor, value);
            want_unknown++;
        } else if (kind < 15 && last_good_sensor > 0 && i - last_good_line <= 3) {
            o += (size_t)snprintf(text + o, cap - o, "%.2f,t%d,%.1f\n", last_good_time, last_good_sensor,
                                  last_good_value);
            want_dup++;
        } else if (kind < 18 && i > 100) {
            o += (size_t)snprintf(text + o, cap - o, "%.0f,t%d,%.1f\n", base - 50, sensor, value);
            want_late++;
        } else if (kind < 21) {
            o += (size_t)snprintf(text + o, cap - o, "%.0f,t%d,%.1f\n", base, sensor, value + 100);
            want_range++;
        } else if (kind < 23) {
            o += (size_t)snprintf(text + o, cap - o, "%.0f,t%d,%.1fx\n", base, sensor, value);
            want_value++;
        } else {
            /* Good; one in five is out of order by 3.25 s (within the 10 s window). */
            double tm = kind < 40 ? base - 3.25 : base;
            o += (size_t)snprintf(text + o, cap - o, "%.2f,t%d,%.1f\n", tm, sensor, value);
            want_applied++;
            last_good_sensor = sensor;
            last_good_line = i;
            last_good_time = tm;
            last_good_value = value;
        }
    }
    char path[64];
    REQUIRE(write_temp(text, o, path, sizeof path));
    free(text);

    bfx x;
    REQUIRE(bfx_init(&x, 10, false, 0));
    for (int s = 1; s <= 3; s++) {
        char name[8], ent[32];
        snprintf(name, sizeof name, "t%d", s);
        snprintf(ent, sizeof ent, "site/room-%d", s);
        tw_bind_rule r = rule_set(name, ent, "Room.temperature");
        r.has_range = true;
        r.range_min = -10;
        r.range_max = 60;
        REQUIRE(add(&x, r) == TW_OK);
    }
    tw_bind_source_desc d = tw_bind_reader_defaults(x.b);
    d.path = path;
    d.chunk_size = 4096;
    tw_bind_source *src;
    tw_diag diag;
    REQUIRE(tw_bind_source_open(&d, &src, &diag) == TW_OK);
    REQUIRE(tw_bind_add_source(x.b, src) == TW_OK);
    uint64_t max_pending = 0;
    double t = 0;
    while (!tw_bind_finished(x.b)) {
        REQUIRE(tw_bind_apply_until(x.b, x.f.w, t) == TW_OK);
        uint64_t p = tw_bind_get_counters(x.b)->pending;
        if (p > max_pending) max_pending = p;
        t += 1.0;
        REQUIRE(t < LINES + 2000);
    }
    unlink(path);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->applied, want_applied);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_NAN], want_nan);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_LINE], want_line);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_RANGE], want_range);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_VALUE], want_value);
    CHECK_EQ_U64(c->unknown_sensor, want_unknown);
    CHECK_EQ_U64(c->duplicate, want_dup);
    CHECK_EQ_U64(c->late, want_late);
    CHECK_EQ_U64(c->received, want_applied + want_nan + want_line + want_range + want_value + want_unknown +
                                  want_dup + want_late);
    CHECK_IDENTITY(c);
    /* Streaming: the queue holds about a window plus one batch, never the file. */
    CHECK(max_pending < 600);
    bfx_fini(&x);
}

/* ---- determinism ----------------------------------------------------------------------------- */

static void run_two_sources(double dt, double *final, tw_bind_counters *counters, uint64_t *applied_hash)
{
    /* Two inputs overlapping in time, out of order within the window, a
     * duplicate across inputs: the order applied must not depend on dt. */
    const char *a = "time,sensor,value\n0,t,1\n2,t,2\n1.5,u,3\n4,t,4\n3,t,5\n6,u,6\n9,t,7\n";
    const char *b = "time,sensor,value\n1,t,10\n2,t,11\n2.5,u,12\n3,t,13\n8,t,14\n7,u,15\n9,t,16\n";
    bfx x;
    if (!bfx_init(&x, 5, false, 0)) return;
    add(&x, rule_set("t", "site/room-1", "Room.temperature"));
    tw_bind_rule r = rule_set("u", "site/room-2", "Room.temperature");
    r.smoothing_alpha = 0.3;
    add(&x, r);
    tw_bind_source_desc d = mem_desc(a, TW_BIND_FORMAT_CSV, x.t);
    d.chunk_size = 9;
    tw_bind_source *src;
    tw_diag diag;
    tw_bind_source_open(&d, &src, &diag);
    tw_bind_add_source(x.b, src);
    d = mem_desc(b, TW_BIND_FORMAT_CSV, x.t);
    d.chunk_size = 13;
    tw_bind_source_open(&d, &src, &diag);
    tw_bind_add_source(x.b, src);
    uint64_t h = 1469598103934665603ull;
    for (double t = 0; !tw_bind_finished(x.b); t += dt) {
        tw_bind_apply_until(x.b, x.f.w, t);
        uint32_t n;
        const tw_bind_sample *s = tw_bind_applied(x.b, &n);
        for (uint32_t i = 0; i < n; i++) {
            h = (h ^ (uint64_t)(s[i].value * 1000)) * 1099511628211ull;
            h = (h ^ s[i].lane) * 1099511628211ull;
        }
    }
    final[0] = temp(&x, x.f.room1);
    final[1] = temp(&x, x.f.room2);
    *counters = *tw_bind_get_counters(x.b);
    *applied_hash = h;
    bfx_fini(&x);
}

TEST(bind_same_result_whatever_the_tick)
{
    double f1[2] = { 0 }, f2[2] = { 0 }, f3[2] = { 0 };
    tw_bind_counters c1, c2, c3;
    uint64_t h1 = 0, h2 = 0, h3 = 0;
    run_two_sources(0.1, f1, &c1, &h1);
    run_two_sources(7.3, f2, &c2, &h2);
    run_two_sources(100, f3, &c3, &h3);
    CHECK(h1 == h2 && h1 == h3);
    CHECK(f1[0] == f2[0] && f1[0] == f3[0]);
    CHECK(f1[1] == f2[1] && f1[1] == f3[1]);
    CHECK(memcmp(&c1, &c2, sizeof c1) == 0);
    CHECK(memcmp(&c1, &c3, sizeof c1) == 0);
    CHECK_EQ_U64(c1.received, 14);
    CHECK_EQ_U64(c1.duplicate, 3); /* t at 2, 3 and 9 come from both inputs */
    CHECK_EQ_U64(c1.late, 0);
    CHECK(f1[0] == 7.0f); /* at t = 9 input 1 comes first, input 2's sample is the duplicate */
    CHECK_IDENTITY(&c1);
}

/* Two inputs of 3,000 lines each (more than a read batch), interleaved in
 * time, out of order within the window, with duplicates across inputs: any
 * tick length gives the same applied sequence, counters and fields. */
static char *gen_input(int which)
{
    size_t cap = 3000 * 40;
    char *text = malloc(cap);
    size_t o = (size_t)snprintf(text, cap, "time,sensor,value\n");
    for (int i = 0; i < 3000; i++) {
        double t = which == 0 ? i - (i % 7 == 0 ? 2.5 : 0) : i + (i % 5 == 0 ? 0 : 0.5) - (i % 11 == 0 ? 3 : 0);
        o += (size_t)snprintf(text + o, cap - o, "%.2f,%s,%d\n", t, i % 3 ? "t" : "u", which * 10000 + i);
    }
    return text;
}

static void run_generated(double dt, const char *a, const char *b, double *final, tw_bind_counters *counters,
                          uint64_t *applied_hash)
{
    bfx x;
    if (!bfx_init(&x, 5, false, 0)) return;
    add(&x, rule_set("t", "site/room-1", "Room.temperature"));
    tw_bind_rule r = rule_set("u", "site/room-2", "Room.temperature");
    r.smoothing_tau = 4;
    add(&x, r);
    const char *texts[2] = { a, b };
    for (int k = 0; k < 2; k++) {
        tw_bind_source_desc d = mem_desc(texts[k], TW_BIND_FORMAT_CSV, x.t);
        d.chunk_size = 1000 + 77 * (size_t)k;
        tw_bind_source *src;
        tw_diag diag;
        tw_bind_source_open(&d, &src, &diag);
        tw_bind_add_source(x.b, src);
    }
    uint64_t h = 1469598103934665603ull;
    for (double t = 0; !tw_bind_finished(x.b); t += dt) {
        tw_bind_apply_until(x.b, x.f.w, t);
        uint32_t n;
        const tw_bind_sample *s = tw_bind_applied(x.b, &n);
        for (uint32_t i = 0; i < n; i++) {
            h = (h ^ (uint64_t)s[i].value) * 1099511628211ull;
            h = (h ^ s[i].lane) * 1099511628211ull;
        }
    }
    final[0] = temp(&x, x.f.room1);
    final[1] = temp(&x, x.f.room2);
    *counters = *tw_bind_get_counters(x.b);
    *applied_hash = h;
    bfx_fini(&x);
}

TEST(bind_same_result_whatever_the_tick_generated)
{
    char *a = gen_input(0), *b = gen_input(1);
    const double dts[4] = { 0.25, 1.0, 13.7, 500 };
    double f0[2] = { 0 };
    tw_bind_counters c0;
    uint64_t h0 = 0;
    run_generated(dts[0], a, b, f0, &c0, &h0);
    CHECK_EQ_U64(c0.received, 6000);
    CHECK_EQ_U64(c0.late, 0);
    CHECK(c0.duplicate > 0);
    CHECK_IDENTITY(&c0);
    for (int k = 1; k < 4; k++) {
        double f[2] = { 0 };
        tw_bind_counters c;
        uint64_t h = 0;
        run_generated(dts[k], a, b, f, &c, &h);
        CHECK(h == h0);
        CHECK(f[0] == f0[0] && f[1] == f0[1]);
        CHECK(memcmp(&c, &c0, sizeof c) == 0);
    }
    free(a);
    free(b);
}

TEST(bind_recorded_samples_replay_to_the_same_state)
{
    /* What apply_until took, pushed into a fresh binder tick by tick, gives the
     * same fields: the recorder's path for replays. */
    const char *text = "time,sensor,value\n0,t,1\n3,t,2\n1,t,3\n5,u,4\n5,u,4\n7,t,5\n6.5,u,6\n12,t,7\n";
    bfx live, replay;
    REQUIRE(bfx_init(&live, 3, false, 0));
    REQUIRE(bfx_init(&replay, 3, true, 0));
    tw_bind_rule r = rule_set("u", "site/room-2", "Room.temperature");
    r.mode = TW_BIND_ASSIMILATE;
    for (int k = 0; k < 2; k++) {
        bfx *x = k ? &replay : &live;
        REQUIRE(add(x, rule_set("t", "site/room-1", "Room.temperature")) == TW_OK);
        REQUIRE(add(x, r) == TW_OK);
    }
    tw_bind_source_desc d = mem_desc(text, TW_BIND_FORMAT_CSV, live.t);
    tw_bind_source *src;
    tw_diag diag;
    REQUIRE(tw_bind_source_open(&d, &src, &diag) == TW_OK);
    REQUIRE(tw_bind_add_source(live.b, src) == TW_OK);
    for (double t = 0; t <= 14; t += 0.5) {
        tw_bind_apply_until(live.b, live.f.w, t);
        uint32_t n;
        const tw_bind_sample *s = tw_bind_applied(live.b, &n);
        for (uint32_t i = 0; i < n; i++) {
            /* Sensor ids are per binder: map by name. */
            tw_bind_sample c = s[i];
            const char *name = tw_bind_sensors_name(live.t, c.sensor);
            tw_bind_sensors_intern(replay.t, name, strlen(name), &c.sensor);
            tw_bind_push(replay.b, &c, 1);
        }
        tw_bind_apply_until(replay.b, replay.f.w, t);
        CHECK(temp(&live, live.f.room1) == temp(&replay, replay.f.room1));
        CHECK(temp(&live, live.f.room2) == temp(&replay, replay.f.room2));
    }
    CHECK(temp(&live, live.f.room1) == 7.0f);
    CHECK_EQ_U64(tw_bind_get_counters(replay.b)->duplicate, 1);
    bfx_fini(&live);
    bfx_fini(&replay);
}

/* ---- summary ------------------------------------------------------------------------------------ */

TEST(bind_summary_json)
{
    bfx x;
    REQUIRE(bfx_init(&x, 0, true, 1709539200));
    tw_bind_rule r = rule_set("t", "site/room-1", "Room.temperature");
    r.mode = TW_BIND_OBSERVE;
    REQUIRE(add(&x, r) == TW_OK);
    tw_bind_source_desc d =
        mem_desc("time,sensor,value\n1709539200,t,21\n1709539201,q\"x,1\nbad\n1709539202,t,NaN\n", TW_BIND_FORMAT_CSV,
                 x.t);
    d.name = "in \"quoted\".csv";
    tw_bind_source *src;
    tw_diag diag;
    REQUIRE(tw_bind_source_open(&d, &src, &diag) == TW_OK);
    REQUIRE(tw_bind_add_source(x.b, src) == TW_OK);
    tw_bind_apply_until(x.b, x.f.w, 10);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    REQUIRE(f);
    fputs("{\"telemetry\": ", f);
    CHECK_EQ_INT(tw_bind_write_json(x.b, f, 0), TW_OK);
    fputs("}\n", f);
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    if (!root) fprintf(stderr, "%s\n", buf);
    REQUIRE(root);
    const cJSON *tel = cJSON_GetObjectItem(root, "telemetry");
    CHECK_EQ_INT(cJSON_GetObjectItem(tel, "received")->valueint, 4);
    CHECK_EQ_INT(cJSON_GetObjectItem(tel, "applied")->valueint, 1);
    CHECK_EQ_INT(cJSON_GetObjectItem(tel, "rejected")->valueint, 2);
    CHECK_EQ_INT(cJSON_GetObjectItem(tel, "unknown_sensor")->valueint, 1);
    CHECK(cJSON_GetObjectItem(tel, "late") && cJSON_GetObjectItem(tel, "duplicate") &&
          cJSON_GetObjectItem(tel, "stale_fields"));
    CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(tel, "rejected_by"), "nan")->valueint, 1);
    CHECK_STR(cJSON_GetObjectItem(tel, "anchor")->valuestring, "2024-03-04T08:00:00Z");
    const cJSON *unk = cJSON_GetArrayItem(cJSON_GetObjectItem(tel, "unknown_sensors"), 0);
    CHECK_STR(cJSON_GetObjectItem(unk, "sensor")->valuestring, "q\"x");
    const cJSON *src0 = cJSON_GetArrayItem(cJSON_GetObjectItem(tel, "sources"), 0);
    CHECK_STR(cJSON_GetObjectItem(src0, "name")->valuestring, "in \"quoted\".csv");
    CHECK_CONTAINS(cJSON_GetArrayItem(cJSON_GetObjectItem(src0, "first_errors"), 0)->valuestring, ".csv:4:");
    const cJSON *b0 = cJSON_GetArrayItem(cJSON_GetObjectItem(tel, "bindings"), 0);
    CHECK_STR(cJSON_GetObjectItem(b0, "entity")->valuestring, "site/room-1");
    CHECK_STR(cJSON_GetObjectItem(b0, "mode")->valuestring, "observe");
    CHECK_NEAR(cJSON_GetObjectItem(b0, "residual_rms")->valuedouble, 1.0, 1e-9);
    cJSON_Delete(root);
    free(buf);
    bfx_fini(&x);
}
