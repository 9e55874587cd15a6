/* Tests of the threshold alarms (engine/sim/src/alarms.c): min_duration,
 * activation, hysteresis, clearing, low thresholds, targets, events and the
 * errors a bad alarm gives at setup. Values are driven through a test-only
 * Probe component that no system writes, so each tick's value is exactly
 * what the test set. */
#include <stddef.h>
#include <string.h>

#include "test.h"
#include "twin/sim.h"

typedef struct Probe {
    float value;
    char label[16];
} Probe;

static const tw_field probe_fields[] = {
    { "value", TW_TYPE_F32, offsetof(Probe, value), 1, 1, NULL, NULL, 0, NULL, 0, "the watched value" },
    { "label", TW_TYPE_STR, offsetof(Probe, label), 16, 1, NULL, NULL, 0, NULL, 0, "not a number" },
};

typedef struct afx {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_component probe;
    tw_sim *s;
} afx;

#define AGET(f, e, T, comp) ((T *)tw_ecs_get((f)->w, (e), (comp)))

static int afx_init(afx *f)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(NULL);
    if (!f->w || tw_sim_register_components(f->w, &f->c) != TW_OK) return 0;
    tw_ecs_component_desc d = { "Probe", sizeof(Probe), _Alignof(Probe), probe_fields, 2, NULL, "test value" };
    return tw_ecs_component_register(f->w, &d, &f->probe) == TW_OK;
}

static tw_status afx_start(afx *f, double dt, tw_diag *diag)
{
    tw_sim_desc d = { .dt = dt, .seed = 7 };
    return tw_sim_new(f->w, &d, &f->s, diag);
}

static void afx_fini(afx *f)
{
    tw_sim_free(f->s);
    tw_ecs_world_free(f->w);
}

static tw_entity named(afx *f, tw_entity parent, const char *name, tw_kind kind)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, e, name);
    tw_ecs_entity_set_kind(f->w, e, kind);
    if (!tw_entity_is_null(parent)) tw_ecs_entity_set_parent(f->w, e, parent);
    return e;
}

static tw_entity probe(afx *f, const char *name)
{
    tw_entity e = named(f, TW_ENTITY_NULL, name, TW_KIND_SENSOR);
    tw_ecs_add(f->w, e, f->probe);
    return e;
}

/* An alarm under parent watching field; high/low as given. */
static tw_entity alarm(afx *f, tw_entity parent, const char *name, const char *field, int use_high, float high,
                       int use_low, float low, float hysteresis, float min_duration)
{
    tw_entity e = named(f, parent, name, TW_KIND_ALARM);
    Alarm *a = tw_ecs_add(f->w, e, f->c.alarm);
    if (!a) return e;
    snprintf(a->field, sizeof a->field, "%s", field);
    a->use_high = (uint8_t)use_high;
    a->high = high;
    a->use_low = (uint8_t)use_low;
    a->low = low;
    a->hysteresis = hysteresis;
    a->min_duration = min_duration;
    return e;
}

/* Sets the probe to each value in turn and steps once per value. */
static int feed(afx *f, tw_entity p, const float *values, int n)
{
    for (int i = 0; i < n; i++) {
        AGET(f, p, Probe, f->probe)->value = values[i];
        if (tw_sim_step(f->s) != TW_OK) return 0;
    }
    return 1;
}

TEST(alarms_min_duration_activation_hysteresis_clearing)
{
    afx f;
    REQUIRE(afx_init(&f));
    tw_entity p = probe(&f, "pump");
    tw_entity al = alarm(&f, p, "hot", "Probe.value", 1, 80, 0, 0, 5, 3);
    REQUIRE(afx_start(&f, 1.0, NULL) == TW_OK);

    /* t=0..2: a 1 s spike is shorter than min_duration: no event. */
    const float spike[] = { 70, 85, 70 };
    REQUIRE(feed(&f, p, spike, 3));
    uint32_t n;
    tw_sim_events(f.s, &n);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(AGET(&f, al, Alarm, f.c.alarm)->state, TW_ALARM_NORMAL);

    /* t=3: above from t=4 on; held 3 s at t=7: active. */
    const float rise[] = { 70, 85, 86, 87 };
    REQUIRE(feed(&f, p, rise, 4));
    CHECK_EQ_INT(AGET(&f, al, Alarm, f.c.alarm)->state, TW_ALARM_PENDING);
    CHECK_NEAR(AGET(&f, al, Alarm, f.c.alarm)->since, 4.0, 0);
    tw_sim_events(f.s, &n);
    CHECK_EQ_INT(n, 0);
    const float hold[] = { 88 };
    REQUIRE(feed(&f, p, hold, 1));
    const tw_sim_event *ev = tw_sim_events(f.s, &n);
    REQUIRE(n == 1);
    CHECK_NEAR(ev[0].time, 7.0, 0);
    CHECK_EQ_INT(ev[0].state, TW_ALARM_ACTIVE);
    CHECK_NEAR(ev[0].value, 88, 0);
    CHECK(tw_entity_eq(ev[0].alarm, al));
    CHECK(tw_entity_eq(ev[0].target, p));
    CHECK_EQ_INT(AGET(&f, al, Alarm, f.c.alarm)->activations, 1);

    /* t=8..12: wobbling around the threshold but not below 75: no chattering. */
    const float wobble[] = { 79, 81, 78, 80.5f, 75 };
    REQUIRE(feed(&f, p, wobble, 5));
    tw_sim_events(f.s, &n);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(AGET(&f, al, Alarm, f.c.alarm)->state, TW_ALARM_ACTIVE);

    /* t=13: back inside by more than the hysteresis: cleared. */
    const float clear[] = { 74.9f };
    REQUIRE(feed(&f, p, clear, 1));
    ev = tw_sim_events(f.s, &n);
    REQUIRE(n == 2);
    CHECK_NEAR(ev[1].time, 13.0, 0);
    CHECK_EQ_INT(ev[1].state, TW_ALARM_NORMAL);
    CHECK_NEAR(ev[1].value, 74.9f, 0);
    CHECK_EQ_INT(AGET(&f, al, Alarm, f.c.alarm)->state, TW_ALARM_NORMAL);

    /* A second episode counts again; the list clears on request. */
    tw_sim_events_clear(f.s);
    const float again[] = { 90, 90, 90, 90 };
    REQUIRE(feed(&f, p, again, 4)); /* t=14..17: active at 17 */
    ev = tw_sim_events(f.s, &n);
    REQUIRE(n == 1);
    CHECK_NEAR(ev[0].time, 17.0, 0);
    CHECK_EQ_INT(AGET(&f, al, Alarm, f.c.alarm)->activations, 2);
    afx_fini(&f);
}

TEST(alarms_exact_tick_at_small_dt)
{
    /* dt = 0.1 s, condition from tick 17 (t = 1.7 s): with min_duration 1 s
     * active at tick 27, not a tick late from rounding; with 0.93 s at tick 27
     * too (held 1.0 s), not at tick 26 (held only 0.9 s). */
    afx f;
    REQUIRE(afx_init(&f));
    tw_entity p = probe(&f, "p");
    alarm(&f, p, "a", "Probe.value", 1, 1, 0, 0, 0, 1.0f);
    alarm(&f, p, "b", "Probe.value", 1, 1, 0, 0, 0, 0.93f);
    REQUIRE(afx_start(&f, 0.1, NULL) == TW_OK);
    for (int tick = 0; tick < 40; tick++) {
        AGET(&f, p, Probe, f.probe)->value = tick >= 17 ? 2.0f : 0.0f;
        REQUIRE(tw_sim_step(f.s) == TW_OK);
        uint32_t n;
        const tw_sim_event *ev = tw_sim_events(f.s, &n);
        CHECK_EQ_INT(n, tick >= 27 ? 2 : 0);
        for (uint32_t i = 0; i < n; i++) CHECK(ev[i].time == 27 * 0.1);
    }
    afx_fini(&f);
}

TEST(alarms_low_threshold_and_zero_duration)
{
    afx f;
    REQUIRE(afx_init(&f));
    tw_entity p = probe(&f, "tank");
    tw_entity al = alarm(&f, p, "low", "Probe.value", 0, 0, 1, 10, 1, 0);
    REQUIRE(afx_start(&f, 1.0, NULL) == TW_OK);
    const float seq[] = { 12, 9.5f, 10.5f, 10.9f, 11.5f, 10 };
    REQUIRE(feed(&f, p, seq, 6));
    uint32_t n;
    const tw_sim_event *ev = tw_sim_events(f.s, &n);
    REQUIRE(n == 2);
    CHECK_NEAR(ev[0].time, 1.0, 0); /* zero min_duration: active the tick it starts */
    CHECK_EQ_INT(ev[0].state, TW_ALARM_ACTIVE);
    CHECK_NEAR(ev[1].time, 4.0, 0); /* 10.5 and 10.9 are within the hysteresis */
    CHECK_EQ_INT(ev[1].state, TW_ALARM_NORMAL);
    CHECK_EQ_INT(AGET(&f, al, Alarm, f.c.alarm)->state, TW_ALARM_NORMAL); /* 10 is not below 10 */
    afx_fini(&f);
}

TEST(alarms_band_with_both_thresholds)
{
    afx f;
    REQUIRE(afx_init(&f));
    tw_entity p = probe(&f, "room");
    alarm(&f, p, "band", "Probe.value", 1, 26, 1, 18, 0.5f, 0);
    REQUIRE(afx_start(&f, 1.0, NULL) == TW_OK);
    const float seq[] = { 22, 27, 25.7f, 25.4f, 17, 18.3f, 18.6f };
    REQUIRE(feed(&f, p, seq, 7));
    uint32_t n;
    const tw_sim_event *ev = tw_sim_events(f.s, &n);
    REQUIRE(n == 4);
    const double times[4] = { 1, 3, 4, 6 };
    const int states[4] = { TW_ALARM_ACTIVE, TW_ALARM_NORMAL, TW_ALARM_ACTIVE, TW_ALARM_NORMAL };
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(ev[i].time, times[i], 0);
        CHECK_EQ_INT(ev[i].state, states[i]);
    }
    afx_fini(&f);
}

TEST(alarms_explicit_target_and_models_field)
{
    /* An alarm elsewhere in the tree pointing at a machine whose vibration
     * grows with wear: it fires once the vibration has stayed high. */
    afx f;
    REQUIRE(afx_init(&f));
    tw_entity plant = named(&f, TW_ENTITY_NULL, "plant", TW_KIND_BUILDING);
    tw_entity mc = named(&f, plant, "press", TW_KIND_EQUIPMENT);
    Equipment *eq = tw_ecs_add(f.w, mc, f.c.equipment);
    REQUIRE(eq);
    eq->utilisation = 1;
    Health *hl = tw_ecs_add(f.w, mc, f.c.health);
    REQUIRE(hl);
    hl->wear_per_hour = 0.2f;
    hl->fail_below = 0;
    tw_entity alarms = named(&f, plant, "alarms", TW_KIND_GROUP);
    tw_entity al = alarm(&f, alarms, "press-vibration", "Health.vibration", 1, 2.5f, 0, 0, 0.2f, 600);
    AGET(&f, al, Alarm, f.c.alarm)->target = mc;
    REQUIRE(afx_start(&f, 10.0, NULL) == TW_OK);
    /* vibration = 1 + 12 (1 - h)^2 > 2.5 once 1 - h > 0.3536: after 1.768 h. */
    for (int i = 0; i < 4 * 360; i++) REQUIRE(tw_sim_step(f.s) == TW_OK);
    uint32_t n;
    const tw_sim_event *ev = tw_sim_events(f.s, &n);
    REQUIRE(n == 1);
    CHECK(tw_entity_eq(ev[0].target, mc));
    CHECK(ev[0].value > 2.5f);
    /* Pending from the first step above 2.5, active 600 s later. */
    double above = 3600 * 0.35355339 / 0.2;
    CHECK(ev[0].time >= above + 600 - 20 && ev[0].time <= above + 600 + 20);
    afx_fini(&f);
}

TEST(alarms_bad_alarm_fails_setup_with_its_path)
{
    afx f;
    tw_diag diag;

    /* An unknown field: the path and a suggestion. */
    REQUIRE(afx_init(&f));
    tw_entity site = named(&f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    tw_entity p = named(&f, site, "pump", TW_KIND_EQUIPMENT);
    tw_ecs_add(f.w, p, f.probe);
    alarm(&f, p, "hot", "Probe.valeu", 1, 1, 0, 0, 0, 0);
    tw_diag_clear(&diag);
    CHECK(afx_start(&f, 1.0, &diag) != TW_OK);
    CHECK(f.s == NULL);
    CHECK_CONTAINS(diag.message, "site/pump/hot");
    CHECK_CONTAINS(diag.message, "value");
    afx_fini(&f);

    /* A target without the component. */
    REQUIRE(afx_init(&f));
    site = named(&f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    p = named(&f, site, "pump", TW_KIND_EQUIPMENT);
    alarm(&f, p, "vib", "Health.vibration", 1, 1, 0, 0, 0, 0);
    tw_diag_clear(&diag);
    CHECK(afx_start(&f, 1.0, &diag) != TW_OK);
    CHECK_CONTAINS(diag.message, "site/pump/vib");
    CHECK_CONTAINS(diag.message, "Health");
    afx_fini(&f);

    /* Not a number. */
    REQUIRE(afx_init(&f));
    p = probe(&f, "pump");
    alarm(&f, p, "label", "Probe.label", 1, 1, 0, 0, 0, 0);
    tw_diag_clear(&diag);
    CHECK(afx_start(&f, 1.0, &diag) != TW_OK);
    CHECK_CONTAINS(diag.message, "pump/label");
    afx_fini(&f);

    /* No target and no parent. */
    REQUIRE(afx_init(&f));
    alarm(&f, TW_ENTITY_NULL, "orphan", "Probe.value", 1, 1, 0, 0, 0, 0);
    tw_diag_clear(&diag);
    CHECK(afx_start(&f, 1.0, &diag) != TW_OK);
    CHECK_CONTAINS(diag.message, "orphan");
    afx_fini(&f);
}

TEST(alarms_added_later_and_target_removed)
{
    afx f;
    REQUIRE(afx_init(&f));
    tw_entity p = probe(&f, "p");
    tw_log quiet = { 0 };
    tw_log_set_level(&quiet, TW_LOG_OFF);
    tw_sim_desc d = { .dt = 1.0, .log = &quiet };
    REQUIRE(tw_sim_new(f.w, &d, &f.s, NULL) == TW_OK);
    AGET(&f, p, Probe, f.probe)->value = 5;
    REQUIRE(tw_sim_step(f.s) == TW_OK);
    alarm(&f, p, "late", "Probe.value", 1, 1, 0, 0, 0, 0);
    REQUIRE(tw_sim_step(f.s) == TW_OK); /* picked up at the next tick */
    uint32_t n;
    const tw_sim_event *ev = tw_sim_events(f.s, &n);
    REQUIRE(n == 1);
    CHECK_NEAR(ev[0].time, 1.0, 0);
    /* The watched component goes away: the alarm is skipped, not read. */
    tw_ecs_remove(f.w, p, f.probe);
    REQUIRE(tw_sim_step(f.s) == TW_OK);
    tw_sim_events(f.s, &n);
    CHECK_EQ_INT(n, 1);
    afx_fini(&f);
}
