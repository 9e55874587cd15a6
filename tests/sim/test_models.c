/* Tests of the mechanism models (engine/sim/src/models.c) against their
 * analytic solutions: weather, space geometry, the thermal balance, HVAC
 * control, CO2, equipment, health and meters. Each case builds its world by
 * code and frees it.
 *
 * Cases that need people in a room set Space.occupants themselves and step
 * with step_models (the models and alarms only, as tw_sim_step runs them after
 * the agent system): a full tick would let the agent system recount the
 * occupants from agent positions, and these worlds have no agents. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"
#include "test.h"
#include "twin/clock.h"
#include "twin/sim.h"

typedef struct fx {
    tw_ecs_world *w;
    tw_sim_components c;
    tw_sim *s;
} fx;

#define GET(f, e, T, comp) ((T *)tw_ecs_get((f)->w, (e), (f)->c.comp))

static int fx_init(fx *f)
{
    memset(f, 0, sizeof *f);
    f->w = tw_ecs_world_new(NULL);
    return f->w && tw_sim_register_components(f->w, &f->c) == TW_OK;
}

static int fx_start(fx *f, double dt, double start_time)
{
    tw_sim_desc d = { .dt = dt, .seed = 1, .start_time = start_time };
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_sim_new(f->w, &d, &f->s, &diag);
    if (st) fprintf(stderr, "tw_sim_new: %s: %s\n", tw_status_str(st), diag.message);
    return st == TW_OK;
}

static void fx_fini(fx *f)
{
    tw_sim_free(f->s);
    tw_ecs_world_free(f->w);
}

static tw_entity node(fx *f, tw_entity parent, const char *name, tw_kind kind)
{
    tw_entity e = tw_ecs_entity_create(f->w);
    tw_ecs_entity_set_name(f->w, e, name);
    tw_ecs_entity_set_kind(f->w, e, kind);
    if (!tw_entity_is_null(parent)) tw_ecs_entity_set_parent(f->w, e, parent);
    return e;
}

/* A box room of w x d x h metres with Space, Shape, Thermal and Air. */
static tw_entity room(fx *f, tw_entity parent, const char *name, float w, float d, float h)
{
    tw_entity e = node(f, parent, name, TW_KIND_SPACE);
    tw_ecs_add(f->w, e, f->c.space);
    tw_ecs_add(f->w, e, f->c.thermal);
    tw_ecs_add(f->w, e, f->c.air);
    Shape *sh = tw_ecs_add(f->w, e, f->c.shape);
    if (sh) {
        sh->kind = TW_SHAPE_BOX;
        sh->size[0] = w;
        sh->size[1] = d;
        sh->size[2] = h;
        sh->height = h;
    }
    return e;
}

/* A site with a constant outdoor temperature. */
static tw_entity site(fx *f, const char *name, float outdoor)
{
    tw_entity e = node(f, TW_ENTITY_NULL, name, TW_KIND_SITE);
    Weather *wt = tw_ecs_add(f->w, e, f->c.weather);
    if (wt) {
        wt->mean = outdoor;
        wt->amplitude = 0;
    }
    return e;
}

static void set_thermal(fx *f, tw_entity e, float t, float c, float ua, float gains)
{
    Thermal *th = GET(f, e, Thermal, thermal);
    if (!th) return;
    th->temperature = t;
    th->capacitance = c;
    th->ua = ua;
    th->gain_equipment = gains;
}

static int run(fx *f, long n)
{
    for (long i = 0; i < n; i++)
        if (tw_sim_step(f->s) != TW_OK) return 0;
    return 1;
}

/* The models and alarms of one tick without the agent system (see the top). */
static void step_models(tw_sim *s)
{
    tw_ecs_defer_begin(s->world);
    tw_sim_models_step(s);
    tw_sim_alarms_step(s);
    tw_ecs_defer_end(s->world);
    s->tick++;
}

static void run_models(fx *f, long n)
{
    for (long i = 0; i < n; i++) step_models(f->s);
}

/* ---- weather and geometry ---------------------------------------------------- */

TEST(models_weather_daily_sinusoid)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = node(&f, TW_ENTITY_NULL, "site", TW_KIND_SITE);
    Weather *wt = tw_ecs_add(f.w, s, f.c.weather);
    REQUIRE(wt);
    wt->mean = 10;
    wt->amplitude = 5;
    wt->peak_hour = 15;
    REQUIRE(fx_start(&f, 10.0, 15 * 3600.0)); /* tick 0 at 15:00, the peak */
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, s, Weather, weather)->temperature, 15.0, 1e-6);
    REQUIRE(run(&f, 6 * 360)); /* last step at 21:00 */
    CHECK_NEAR(GET(&f, s, Weather, weather)->temperature, 10.0, 1e-5);
    REQUIRE(run(&f, 6 * 360)); /* 03:00, the minimum */
    CHECK_NEAR(GET(&f, s, Weather, weather)->temperature, 5.0, 1e-5);
    fx_fini(&f);
}

TEST(models_outdoor_temperature_from_nearest_weather)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 0.0f);
    tw_entity ba = node(&f, s, "a", TW_KIND_BUILDING);
    tw_entity bb = node(&f, s, "b", TW_KIND_BUILDING);
    Weather *wa = tw_ecs_add(f.w, ba, f.c.weather);
    REQUIRE(wa);
    wa->mean = 30;
    wa->amplitude = 0;
    tw_entity ra = room(&f, ba, "ra", 4, 5, 3);
    tw_entity rb = room(&f, bb, "rb", 4, 5, 3);
    tw_entity lone = room(&f, TW_ENTITY_NULL, "lone", 4, 5, 3); /* no ancestor: the first Weather (the site) */
    tw_entity rooms[3] = { ra, rb, lone };
    for (int i = 0; i < 3; i++) set_thermal(&f, rooms[i], 20, 2e6f, 60, 0);
    REQUIRE(fx_start(&f, 10.0, 0));
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, ra, Thermal, thermal)->heat_flow, 60.0 * (30 - 20), 1e-3);
    CHECK_NEAR(GET(&f, rb, Thermal, thermal)->heat_flow, 60.0 * (0 - 20), 1e-3);
    CHECK_NEAR(GET(&f, lone, Thermal, thermal)->heat_flow, 60.0 * (0 - 20), 1e-3);
    fx_fini(&f);

    /* No Weather at all: 12 degC. */
    REQUIRE(fx_init(&f));
    tw_entity r = room(&f, TW_ENTITY_NULL, "r", 4, 5, 3);
    set_thermal(&f, r, 20, 2e6f, 60, 0);
    REQUIRE(fx_start(&f, 10.0, 0));
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, r, Thermal, thermal)->heat_flow, 60.0 * (12 - 20), 1e-3);
    fx_fini(&f);
}

TEST(models_space_area_and_volume)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity b = node(&f, TW_ENTITY_NULL, "hq", TW_KIND_BUILDING);
    tw_entity st = node(&f, b, "floor-1", TW_KIND_STOREY);
    Storey *sto = tw_ecs_add(f.w, st, f.c.storey);
    REQUIRE(sto);
    sto->height = 3.5f;
    /* An L-shaped extrusion with no height of its own: the storey's applies. */
    tw_entity l = node(&f, st, "l-room", TW_KIND_SPACE);
    tw_ecs_add(f.w, l, f.c.space);
    Shape *sh = tw_ecs_add(f.w, l, f.c.shape);
    REQUIRE(sh);
    const float pts[6][2] = { { 0, 0 }, { 6, 0 }, { 6, 3 }, { 3, 3 }, { 3, 5 }, { 0, 5 } };
    sh->kind = TW_SHAPE_EXTRUSION;
    sh->height = 0;
    sh->point_count = 6;
    memcpy(sh->points, pts, sizeof pts);
    /* Clockwise points give the same area. */
    tw_entity cw = node(&f, st, "cw-room", TW_KIND_SPACE);
    tw_ecs_add(f.w, cw, f.c.space);
    sh = tw_ecs_add(f.w, cw, f.c.shape);
    REQUIRE(sh);
    sh->kind = TW_SHAPE_EXTRUSION;
    sh->height = 2.5f;
    sh->point_count = 4;
    const float sq[4][2] = { { 0, 0 }, { 0, 2 }, { 2, 2 }, { 2, 0 } };
    memcpy(sh->points, sq, sizeof sq);
    tw_entity bx = room(&f, st, "box-room", 4, 5, 2.5f);
    REQUIRE(fx_start(&f, 0.1, 0));

    Space *sp = GET(&f, l, Space, space);
    CHECK_NEAR(sp->area, 24.0, 1e-5);
    CHECK_NEAR(sp->volume, 24.0 * 3.5, 1e-4);
    sp = GET(&f, cw, Space, space);
    CHECK_NEAR(sp->area, 4.0, 1e-6);
    CHECK_NEAR(sp->volume, 10.0, 1e-5);
    sp = GET(&f, bx, Space, space);
    CHECK_NEAR(sp->area, 20.0, 1e-5);
    CHECK_NEAR(sp->volume, 50.0, 1e-4);

    /* A structural change re-derives them. */
    GET(&f, bx, Shape, shape)->size[0] = 8;
    tw_entity extra = tw_ecs_entity_create(f.w);
    tw_ecs_add(f.w, extra, f.c.equipment);
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, bx, Space, space)->area, 40.0, 1e-5);
    fx_fini(&f);
}

/* ---- thermal ----------------------------------------------------------------- */

TEST(models_thermal_free_running_follows_the_exponential)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 10.0f);
    tw_entity r = room(&f, s, "r", 4, 5, 3);
    /* tau = C / UA = 3600 s; steady state = T_out + gains / UA = 10 + 300/60 = 15. */
    const double c = 216000, ua = 60, gains = 300, t0 = 30, tss = 10 + gains / ua, tau = c / ua;
    set_thermal(&f, r, (float)t0, (float)c, (float)ua, (float)gains);
    REQUIRE(fx_start(&f, 1.0, 0));

    const double at[] = { 600, 1800, 3600, 7200, 14400 };
    double prev_t = 0, prev_v = t0;
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        REQUIRE(run(&f, (long)(at[i] - prev_t)));
        double v = GET(&f, r, Thermal, thermal)->temperature;
        double expect = tss + (t0 - tss) * exp(-at[i] / tau);
        CHECK_NEAR(v, expect, 0.02);
        /* The decay rate between two samples gives the time constant. */
        double fitted = (at[i] - prev_t) / log((prev_v - tss) / (v - tss));
        CHECK_NEAR(fitted / tau, 1.0, 0.01);
        prev_t = at[i];
        prev_v = v;
    }
    REQUIRE(run(&f, 10 * 3600 - (long)prev_t));
    const Thermal *th = GET(&f, r, Thermal, thermal);
    CHECK_NEAR(th->temperature, tss, 0.005);
    CHECK_NEAR(th->heat_flow, 0.0, 0.5);
    CHECK_NEAR(th->discomfort_hours, 0.0, 0); /* nobody there */
    fx_fini(&f);
}

TEST(models_thermal_counts_people_and_equipment_inside)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 20.0f);
    tw_entity r = room(&f, s, "r", 4, 5, 3);
    set_thermal(&f, r, 20, 2e6f, 60, 100);
    tw_entity desk = node(&f, r, "desk", TW_KIND_ELEMENT);
    tw_entity pc = node(&f, desk, "pc", TW_KIND_EQUIPMENT); /* two levels down still counts */
    Equipment *eq = tw_ecs_add(f.w, pc, f.c.equipment);
    REQUIRE(eq);
    eq->rated_power = 400;
    eq->utilisation = 0.5f;
    eq->heat_fraction = 0.75f;
    tw_entity other = room(&f, s, "other", 4, 5, 3);
    tw_entity heater = node(&f, other, "heater", TW_KIND_EQUIPMENT);
    tw_ecs_add(f.w, heater, f.c.equipment);
    REQUIRE(fx_start(&f, 10.0, 0));
    GET(&f, r, Space, space)->occupants = 3;
    step_models(f.s);
    /* UA (T_out - T) = 0; 100 W plug loads + 3 x 75 W + 400 x 0.5 x 0.75 W. */
    const Thermal *th = GET(&f, r, Thermal, thermal);
    CHECK_NEAR(th->heat_flow, 100 + 3 * 75 + 150, 1e-3);
    CHECK_NEAR(th->temperature, 20 + 10.0 * 475 / 2e6, 2e-6);
    CHECK_NEAR(GET(&f, pc, Equipment, equipment)->power, 200, 1e-4);
    fx_fini(&f);
}

TEST(models_discomfort_hours_only_while_occupied)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 30.0f);
    tw_entity hot = room(&f, s, "hot", 4, 5, 3);
    tw_entity empty = room(&f, s, "empty", 4, 5, 3);
    tw_entity cozy = room(&f, s, "cozy", 4, 5, 3);
    set_thermal(&f, hot, 30, 1e12f, 60, 0); /* a huge C: the temperature stays put */
    set_thermal(&f, empty, 30, 1e12f, 60, 0);
    set_thermal(&f, cozy, 22, 1e12f, 60, 0);
    REQUIRE(fx_start(&f, 1.0, 0));
    GET(&f, hot, Space, space)->occupants = 1;
    GET(&f, cozy, Space, space)->occupants = 2;
    GET(&f, empty, Space, space)->occupants = 0.4f; /* below half a person: empty */
    run_models(&f, 3600);
    CHECK_NEAR(GET(&f, hot, Thermal, thermal)->discomfort_hours, 1.0, 1e-9);
    CHECK_NEAR(GET(&f, empty, Thermal, thermal)->discomfort_hours, 0.0, 0);
    CHECK_NEAR(GET(&f, cozy, Thermal, thermal)->discomfort_hours, 0.0, 0);
    fx_fini(&f);
}

/* ---- HVAC --------------------------------------------------------------------- */

static tw_entity hvac_room(fx *f, tw_entity parent, const char *name)
{
    tw_entity r = room(f, parent, name, 4, 5, 3);
    Hvac *hv = tw_ecs_add(f->w, r, f->c.hvac);
    if (hv) {
        hv->schedule_on = 0;
        hv->schedule_off = 24;
    }
    set_thermal(f, r, 15, 2e6f, 60, 200);
    return r;
}

TEST(models_hvac_holds_the_heating_setpoint)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 0.0f);
    tw_entity r = hvac_room(&f, s, "r");
    REQUIRE(fx_start(&f, 10.0, 0));
    const Hvac hv0 = *GET(&f, r, Hvac, hvac);
    /* Proportional control settles where the losses meet the output:
     * UA (T_out - T) + gains + gain (sp - T) = 0. */
    const double ua = 60, gains = 200, tout = 0;
    const double teq = (ua * tout + gains + hv0.gain * hv0.heat_setpoint) / (ua + hv0.gain);
    REQUIRE(run(&f, 60)); /* 10 min: still warming at full power from 15 degC */
    CHECK_NEAR(GET(&f, r, Hvac, hvac)->output, hv0.max_heating, 1e-3);
    REQUIRE(run(&f, 24 * 360));
    const Thermal *th = GET(&f, r, Thermal, thermal);
    const Hvac *hv = GET(&f, r, Hvac, hvac);
    CHECK_NEAR(th->temperature, teq, 0.01);
    CHECK(fabs(th->temperature - hv0.heat_setpoint) < 1.0);
    CHECK_NEAR(hv->output, hv0.gain * (hv0.heat_setpoint - th->temperature), 1.0);
    CHECK(hv->output > 0 && hv->output < hv0.max_heating);
    CHECK_NEAR(hv->power, hv->output / hv0.cop_heating + 300.0 * hv0.airflow, 1e-3);
    fx_fini(&f);
}

TEST(models_hvac_cools_and_saturates)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 35.0f);
    tw_entity r = hvac_room(&f, s, "r");
    set_thermal(&f, r, 30, 2e6f, 60, 200);
    REQUIRE(fx_start(&f, 10.0, 0));
    REQUIRE(run(&f, 1));
    const Hvac *hv = GET(&f, r, Hvac, hvac);
    CHECK_NEAR(hv->output, -hv->max_cooling, 1e-3); /* 6 K above: saturated */
    CHECK_NEAR(hv->power, hv->max_cooling / hv->cop_cooling + 300.0 * hv->airflow, 1e-3);
    REQUIRE(run(&f, 48 * 360));
    const Thermal *th = GET(&f, r, Thermal, thermal);
    hv = GET(&f, r, Hvac, hvac);
    double teq = (60.0 * 35 + 200 + hv->gain * hv->cool_setpoint) / (60.0 + hv->gain);
    CHECK_NEAR(th->temperature, teq, 0.01);
    CHECK(hv->output < 0);
    CHECK_NEAR(hv->power, -hv->output / hv->cop_cooling + 300.0 * hv->airflow, 1e-3);
    fx_fini(&f);

    /* In the deadband: no output, only the fan. */
    REQUIRE(fx_init(&f));
    s = site(&f, "site", 22.0f);
    r = hvac_room(&f, s, "r");
    set_thermal(&f, r, 22, 2e6f, 60, 0);
    REQUIRE(fx_start(&f, 10.0, 0));
    REQUIRE(run(&f, 10));
    hv = GET(&f, r, Hvac, hvac);
    CHECK_NEAR(hv->output, 0, 0);
    CHECK_NEAR(hv->power, 300.0 * hv->airflow, 1e-4);
    fx_fini(&f);
}

TEST(models_hvac_failed_or_off_schedule_gives_nothing)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 0.0f);
    tw_entity failed = hvac_room(&f, s, "failed");
    tw_entity off = hvac_room(&f, s, "off");
    tw_entity night = hvac_room(&f, s, "night");
    tw_entity day = hvac_room(&f, s, "day");
    GET(&f, failed, Hvac, hvac)->failed = 1;
    GET(&f, off, Hvac, hvac)->enabled = 0;
    GET(&f, night, Hvac, hvac)->schedule_on = 22; /* overnight: 22:00 to 06:00 */
    GET(&f, night, Hvac, hvac)->schedule_off = 6;
    GET(&f, day, Hvac, hvac)->schedule_on = 6;
    GET(&f, day, Hvac, hvac)->schedule_off = 19;
    REQUIRE(fx_start(&f, 10.0, 3 * 3600.0)); /* 03:00 */
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, failed, Hvac, hvac)->output, 0, 0);
    CHECK_NEAR(GET(&f, failed, Hvac, hvac)->power, 0, 0);
    CHECK_NEAR(GET(&f, off, Hvac, hvac)->output, 0, 0);
    CHECK_NEAR(GET(&f, off, Hvac, hvac)->power, 0, 0);
    CHECK(GET(&f, night, Hvac, hvac)->output > 0);
    CHECK_NEAR(GET(&f, day, Hvac, hvac)->output, 0, 0);
    /* The failed room cools freely towards T_out + gains/UA. */
    REQUIRE(run(&f, 4 * 360)); /* 07:00 */
    CHECK(GET(&f, failed, Thermal, thermal)->temperature < 15);
    CHECK(GET(&f, night, Thermal, thermal)->temperature > 15);
    CHECK_NEAR(GET(&f, night, Hvac, hvac)->output, 0, 0);
    CHECK(GET(&f, day, Hvac, hvac)->output > 0);
    /* Repairing it brings the output back at the next step. */
    GET(&f, failed, Hvac, hvac)->failed = 0;
    REQUIRE(run(&f, 1));
    CHECK(GET(&f, failed, Hvac, hvac)->output > 0);
    fx_fini(&f);
}

TEST(models_hvac_small_room_does_not_oscillate)
{
    /* C/gain (1.3 s) far below the slow step (10 s): explicit proportional
     * control would swing by +-15 K a step; the controller settles instead,
     * from below, at the proportional equilibrium. */
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 0.0f);
    tw_entity r = hvac_room(&f, s, "closet");
    set_thermal(&f, r, 10, 2000, 5, 0);
    REQUIRE(fx_start(&f, 10.0, 0));
    const Hvac hv = *GET(&f, r, Hvac, hvac);
    const double teq = (hv.gain * hv.heat_setpoint) / (5.0 + hv.gain);
    double prev = 10;
    for (int i = 0; i < 200; i++) {
        REQUIRE(run(&f, 1));
        double t = GET(&f, r, Thermal, thermal)->temperature;
        CHECK(t >= prev - 1e-4 && t <= hv.heat_setpoint);
        prev = t;
    }
    CHECK_NEAR(prev, teq, 1e-3);
    CHECK_NEAR(GET(&f, r, Hvac, hvac)->output, hv.gain * (hv.heat_setpoint - prev), 0.5);
    fx_fini(&f);
}

/* ---- CO2 ------------------------------------------------------------------------ */

TEST(models_co2_reaches_the_exact_steady_state)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 20.0f);
    tw_entity vent = hvac_room(&f, s, "vent"); /* 4 x 5 x 3 = 60 m3, 0.05 m3/s */
    tw_entity leaky = room(&f, s, "leaky", 4, 5, 3); /* no HVAC: infiltration 0.3/h */
    REQUIRE(fx_start(&f, 1.0, 0));
    GET(&f, vent, Space, space)->occupants = 3;
    GET(&f, leaky, Space, space)->occupants = 3;
    const Air a0 = *GET(&f, vent, Air, air);
    const double v = 60, g = 3 * a0.co2_per_person * 1e6;
    const double q_vent = GET(&f, vent, Hvac, hvac)->airflow, q_leak = a0.infiltration * v / 3600;
    const double ss_vent = a0.outdoor_co2 + g / q_vent, ss_leak = a0.outdoor_co2 + g / q_leak;

    /* One slow step (10 s) is the exact solution of the linear ODE. */
    run_models(&f, 10);
    CHECK_NEAR(GET(&f, vent, Air, air)->co2, ss_vent + (a0.co2 - ss_vent) * exp(-q_vent * 10 / v), 1e-3);
    CHECK_NEAR(GET(&f, leaky, Air, air)->co2, ss_leak + (a0.co2 - ss_leak) * exp(-q_leak * 10 / v), 1e-3);
    /* 1 h later it follows the exponential. */
    run_models(&f, 3600 - 10);
    CHECK_NEAR(GET(&f, vent, Air, air)->co2, ss_vent + (a0.co2 - ss_vent) * exp(-q_vent * 3600 / v), 0.01);
    CHECK_NEAR(GET(&f, leaky, Air, air)->co2, ss_leak + (a0.co2 - ss_leak) * exp(-q_leak * 3600 / v), 0.05);
    /* 20 time constants of the ventilated room. */
    run_models(&f, (long)(20 * v / q_vent) - 3600);
    CHECK_NEAR(GET(&f, vent, Air, air)->co2, ss_vent, 0.01);
    CHECK_NEAR(ss_vent, 420 + 3 * 5e-6 * 1e6 / 0.05, 1e-3); /* 720 ppm with the defaults (float parameters) */
    fx_fini(&f);
}

TEST(models_co2_stable_with_huge_airflow_in_a_tiny_room)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 20.0f);
    tw_entity r = hvac_room(&f, s, "booth");
    Shape *sh = GET(&f, r, Shape, shape);
    sh->size[0] = sh->size[1] = 1;
    sh->height = 1; /* 1 m3 */
    GET(&f, r, Hvac, hvac)->airflow = 10; /* 10 air changes a second */
    GET(&f, r, Air, air)->co2 = 5000;
    REQUIRE(fx_start(&f, 1.0, 0));
    GET(&f, r, Space, space)->occupants = 1;
    const double ss = 420 + 5e-6 * 1e6 / 10;
    for (int i = 0; i < 600; i++) {
        step_models(f.s);
        double c = GET(&f, r, Air, air)->co2;
        CHECK(c >= ss - 1e-3 && c <= 5000);
    }
    CHECK_NEAR(GET(&f, r, Air, air)->co2, ss, 1e-3);
    fx_fini(&f);
}

/* ---- equipment, meters --------------------------------------------------------- */

TEST(models_meter_energy_and_carbon_of_a_constant_load)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity b = node(&f, TW_ENTITY_NULL, "hq", TW_KIND_BUILDING);
    Meter *m = tw_ecs_add(f.w, b, f.c.meter);
    REQUIRE(m);
    m->base_load = 1500;
    m->grid_factor = 0.4f;
    REQUIRE(fx_start(&f, 0.1, 0));
    REQUIRE(run(&f, 36000)); /* 1 h */
    m = GET(&f, b, Meter, meter);
    CHECK_NEAR(m->power, 1500, 0);
    CHECK(fabs(m->energy - 1.5) <= 1.5 * 1e-6);
    CHECK(fabs(m->carbon - m->energy * (double)0.4f) <= 1e-9);
    fx_fini(&f);
}

TEST(models_meter_sums_consumers_below_it)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 20.0f);
    tw_entity b = node(&f, s, "hq", TW_KIND_BUILDING);
    Meter *mb = tw_ecs_add(f.w, b, f.c.meter);
    REQUIRE(mb);
    mb->base_load = 100;
    tw_entity r1 = hvac_room(&f, b, "r1");
    set_thermal(&f, r1, 21, 2e6f, 60, 0); /* in the deadband all hour: the HVAC draws its fan power */
    tw_entity pc = node(&f, r1, "pc", TW_KIND_EQUIPMENT);
    Equipment *eq = tw_ecs_add(f.w, pc, f.c.equipment);
    REQUIRE(eq);
    eq->rated_power = 2000;
    eq->utilisation = 0.5f;
    /* A sub-metered room: its consumers go to its own meter only. */
    tw_entity r2 = room(&f, b, "r2", 4, 5, 3);
    tw_ecs_add(f.w, r2, f.c.meter);
    tw_entity oven = node(&f, r2, "oven", TW_KIND_EQUIPMENT);
    eq = tw_ecs_add(f.w, oven, f.c.equipment);
    REQUIRE(eq);
    eq->rated_power = 3000;
    eq->utilisation = 1;
    /* Outside any meter: counted nowhere. */
    tw_entity stray = node(&f, s, "stray", TW_KIND_EQUIPMENT);
    tw_ecs_add(f.w, stray, f.c.equipment);
    REQUIRE(fx_start(&f, 1.0, 0));
    REQUIRE(run(&f, 3600));
    double fan = 300.0 * GET(&f, r1, Hvac, hvac)->airflow;
    CHECK_NEAR(GET(&f, b, Meter, meter)->power, 100 + 1000 + fan, 1e-3);
    CHECK_NEAR(GET(&f, b, Meter, meter)->energy, (100 + 1000 + fan) / 1000.0, 1e-6);
    CHECK_NEAR(GET(&f, r2, Meter, meter)->power, 3000, 1e-3);
    CHECK_NEAR(GET(&f, r2, Meter, meter)->energy, 3.0, 1e-6);

    /* A consumer added later is picked up; a removed one drops out. */
    tw_entity kettle = node(&f, r1, "kettle", TW_KIND_EQUIPMENT);
    eq = tw_ecs_add(f.w, kettle, f.c.equipment);
    REQUIRE(eq);
    eq->rated_power = 2000;
    eq->utilisation = 1;
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, b, Meter, meter)->power, 100 + 3000 + fan, 1e-3);
    tw_ecs_entity_destroy(f.w, pc);
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, b, Meter, meter)->power, 100 + 2000 + fan, 1e-3);
    fx_fini(&f);
}

TEST(models_equipment_schedule_running_failed)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity b = node(&f, TW_ENTITY_NULL, "hq", TW_KIND_BUILDING);
    const char *names[5] = { "always", "day", "night", "stopped", "broken" };
    tw_entity e[5];
    for (int i = 0; i < 5; i++) {
        e[i] = node(&f, b, names[i], TW_KIND_EQUIPMENT);
        Equipment *eq = tw_ecs_add(f.w, e[i], f.c.equipment);
        REQUIRE(eq);
        eq->rated_power = 100;
        eq->utilisation = 1;
    }
    GET(&f, e[1], Equipment, equipment)->schedule_on = 8;
    GET(&f, e[1], Equipment, equipment)->schedule_off = 18;
    GET(&f, e[2], Equipment, equipment)->schedule_on = 18;
    GET(&f, e[2], Equipment, equipment)->schedule_off = 8;
    GET(&f, e[3], Equipment, equipment)->running = 0;
    GET(&f, e[4], Equipment, equipment)->failed = 1;
    REQUIRE(fx_start(&f, 60.0, 7 * 3600.0));
    double expect_7h[5] = { 100, 0, 100, 0, 0 };
    REQUIRE(run(&f, 59)); /* last tick at 07:58 */
    for (int i = 0; i < 5; i++) CHECK_NEAR(GET(&f, e[i], Equipment, equipment)->power, expect_7h[i], 1e-4);
    REQUIRE(run(&f, 2)); /* 08:00 */
    double expect_8h[5] = { 100, 100, 0, 0, 0 };
    for (int i = 0; i < 5; i++) CHECK_NEAR(GET(&f, e[i], Equipment, equipment)->power, expect_8h[i], 1e-4);
    fx_fini(&f);
}

TEST(models_sums_do_not_depend_on_table_layout)
{
    /* The same three consumers in the same slots, their Equipment added in
     * opposite orders so the table rows (and a query's order) differ. Float
     * sums depend on order: 2^53 + 1 + 1 = 2^53 but 1 + 1 + 2^53 = 2^53 + 2.
     * A world restored from a keyframe has other tables than the run that
     * wrote it, so the models must sum in slot order. */
    double energy[2];
    for (int order = 0; order < 2; order++) {
        fx f;
        REQUIRE(fx_init(&f));
        tw_entity b = node(&f, TW_ENTITY_NULL, "hq", TW_KIND_BUILDING);
        tw_ecs_add(f.w, b, f.c.meter);
        tw_entity e[3];
        for (int i = 0; i < 3; i++) {
            char name[8];
            snprintf(name, sizeof name, "e%d", i);
            e[i] = node(&f, b, name, TW_KIND_EQUIPMENT);
        }
        for (int i = 0; i < 3; i++) tw_ecs_add(f.w, e[order ? 2 - i : i], f.c.equipment);
        for (int i = 0; i < 3; i++) {
            Equipment *eq = GET(&f, e[i], Equipment, equipment);
            eq->rated_power = i == 0 ? 9007199254740992.0f : 1.0f;
            eq->utilisation = 1;
        }
        REQUIRE(fx_start(&f, 3.6, 0));
        REQUIRE(run(&f, 1));
        energy[order] = GET(&f, b, Meter, meter)->energy;
        fx_fini(&f);
    }
    CHECK(energy[0] == energy[1]);
}

/* ---- health --------------------------------------------------------------------- */

TEST(models_health_wears_vibrates_and_fails)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity b = node(&f, TW_ENTITY_NULL, "plant", TW_KIND_BUILDING);
    tw_entity hall = node(&f, b, "hall", TW_KIND_SPACE); /* no Thermal: ambient 20 degC */
    tw_entity mc = node(&f, hall, "press", TW_KIND_EQUIPMENT);
    Equipment *eq = tw_ecs_add(f.w, mc, f.c.equipment);
    REQUIRE(eq);
    eq->utilisation = 0.5f;
    Health *hl = tw_ecs_add(f.w, mc, f.c.health);
    REQUIRE(hl);
    hl->wear_per_hour = 0.1f;
    hl->fail_below = 0.5f;
    tw_entity idle = node(&f, hall, "idle", TW_KIND_EQUIPMENT);
    eq = tw_ecs_add(f.w, idle, f.c.equipment);
    REQUIRE(eq);
    eq->running = 0;
    tw_ecs_add(f.w, idle, f.c.health);
    REQUIRE(fx_start(&f, 10.0, 0));

    REQUIRE(run(&f, 360)); /* 1 h at half load: 0.05 of wear */
    hl = GET(&f, mc, Health, health);
    CHECK_NEAR(hl->health, 0.95, 1e-4);
    CHECK_NEAR(hl->vibration, 1 + 12 * 0.05 * 0.05, 1e-4);
    CHECK_NEAR(hl->temperature, 20 + 25 * 0.5 + 30 * 0.05, 1e-3);
    CHECK_NEAR(GET(&f, idle, Health, health)->health, 1.0, 0);
    CHECK_NEAR(GET(&f, idle, Health, health)->temperature, 20.0, 1e-5);
    float vib = hl->vibration;

    REQUIRE(run(&f, 360 * 8)); /* 9 h: 0.55 */
    hl = GET(&f, mc, Health, health);
    CHECK_NEAR(hl->health, 0.55, 1e-3);
    CHECK(hl->vibration > vib);
    CHECK(!GET(&f, mc, Equipment, equipment)->failed);
    REQUIRE(run(&f, 350)); /* just before 10 h */
    CHECK(!GET(&f, mc, Equipment, equipment)->failed);
    REQUIRE(run(&f, 20)); /* past 10 h: below 0.5 */
    CHECK(GET(&f, mc, Equipment, equipment)->failed);
    CHECK_NEAR(GET(&f, mc, Equipment, equipment)->power, 0, 0);
    float at_fail = GET(&f, mc, Health, health)->health;
    CHECK(at_fail < 0.5f && at_fail > 0.499f);
    REQUIRE(run(&f, 100)); /* failed: no more wear, cooler */
    hl = GET(&f, mc, Health, health);
    CHECK_NEAR(hl->health, at_fail, 0);
    CHECK_NEAR(hl->vibration, 1 + 12 * (1 - at_fail) * (1 - at_fail), 1e-4);
    CHECK_NEAR(hl->temperature, 20 + 30 * (1 - at_fail), 1e-3);
    /* A new condition alone does not restart it: someone must reset failed. */
    hl->health = 1;
    REQUIRE(run(&f, 10));
    CHECK(GET(&f, mc, Equipment, equipment)->failed);
    GET(&f, mc, Equipment, equipment)->failed = 0;
    REQUIRE(run(&f, 1));
    CHECK_NEAR(GET(&f, mc, Equipment, equipment)->power, 500, 1e-3);
    fx_fini(&f);
}

TEST(models_health_ambient_is_the_room_temperature)
{
    fx f;
    REQUIRE(fx_init(&f));
    tw_entity s = site(&f, "site", 30.0f);
    tw_entity r = room(&f, s, "shop", 10, 10, 4);
    set_thermal(&f, r, 30, 1e15f, 60, 0);
    tw_entity mc = node(&f, r, "lathe", TW_KIND_EQUIPMENT);
    tw_ecs_add(f.w, mc, f.c.equipment); /* utilisation 0.8 */
    tw_ecs_add(f.w, mc, f.c.health);
    REQUIRE(fx_start(&f, 10.0, 0));
    REQUIRE(run(&f, 1));
    const Health *hl = GET(&f, mc, Health, health);
    CHECK_NEAR(hl->temperature, 30 + 25 * 0.8 + 30 * (1 - hl->health), 1e-3);
    fx_fini(&f);
}

/* ---- cost -------------------------------------------------------------------------- */

/* 2 storeys x 12 rooms with Thermal, Air, Hvac; 2 PCs per room, a machine
 * with Health in every third room, a meter per storey and one for the site,
 * an alarm on every room's CO2 and every machine's vibration. */
static void build_office(fx *f)
{
    tw_entity s = site(f, "site", 8.0f);
    GET(f, s, Weather, weather)->amplitude = 5;
    tw_ecs_add(f->w, s, f->c.meter);
    tw_entity b = node(f, s, "hq", TW_KIND_BUILDING);
    char name[32];
    for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, "floor-%d", k + 1);
        tw_entity st = node(f, b, name, TW_KIND_STOREY);
        tw_ecs_add(f->w, st, f->c.storey);
        tw_ecs_add(f->w, st, f->c.meter);
        for (int i = 0; i < 12; i++) {
            snprintf(name, sizeof name, "room-%d%02d", k + 1, i + 1);
            tw_entity r = hvac_room(f, st, name);
            tw_entity al = node(f, r, "co2-high", TW_KIND_ALARM);
            Alarm *a = tw_ecs_add(f->w, al, f->c.alarm);
            if (a) {
                snprintf(a->field, sizeof a->field, "Air.co2");
                a->high = 1000;
                a->min_duration = 300;
                a->hysteresis = 50;
            }
            for (int p = 0; p < 2; p++) {
                snprintf(name, sizeof name, "pc-%d", p);
                tw_entity pc = node(f, r, name, TW_KIND_EQUIPMENT);
                tw_ecs_add(f->w, pc, f->c.equipment);
            }
            if (i % 3 == 0) {
                tw_entity mc = node(f, r, "printer", TW_KIND_EQUIPMENT);
                tw_ecs_add(f->w, mc, f->c.equipment);
                tw_ecs_add(f->w, mc, f->c.health);
                tw_entity va = node(f, mc, "vibration", TW_KIND_ALARM);
                a = tw_ecs_add(f->w, va, f->c.alarm);
                if (a) {
                    snprintf(a->field, sizeof a->field, "Health.vibration");
                    a->high = 4.5f;
                    a->min_duration = 60;
                }
            }
        }
    }
}

TEST(models_cost_per_tick_office)
{
    fx f;
    REQUIRE(fx_init(&f));
    build_office(&f);
    REQUIRE(fx_start(&f, 0.1, 8 * 3600.0));
    tw_ecs_query q;
    tw_ecs_query_desc d = { .with = { f.c.space } };
    REQUIRE(tw_ecs_query_init(f.w, &q, &d) == TW_OK);
    int rooms = 0;
    for (tw_ecs_iter it = tw_ecs_query_iter(f.w, &q); tw_ecs_iter_next(&it);) {
        Space *sp = it.columns[0];
        for (uint32_t i = 0; i < it.count; i++) sp[i].occupants = (float)(i % 4);
        rooms += (int)it.count;
    }
    tw_ecs_query_fini(&q);
    CHECK_EQ_INT(rooms, 24);

    const long ticks = 200000;
    double t0 = tw_clock_monotonic_s();
    run_models(&f, ticks);
    double per_tick = (tw_clock_monotonic_s() - t0) / ticks * 1e9;

    /* A rebuild after a structural change. */
    const int rebuilds = 200;
    tw_entity probe = tw_ecs_entity_create(f.w);
    t0 = tw_clock_monotonic_s();
    for (int i = 0; i < rebuilds; i++) {
        if (i % 2) tw_ecs_remove(f.w, probe, f.c.transform);
        else tw_ecs_add(f.w, probe, f.c.transform);
        step_models(f.s);
    }
    double per_rebuild = (tw_clock_monotonic_s() - t0) / rebuilds * 1e9 - per_tick;
    printf("     models+alarms, 24 rooms: %.0f ns/tick; %.1f us per rebuild after a structural change\n", per_tick,
           per_rebuild / 1000.0);
    /* Informational only: speed targets live in `twin bench sim` (sim.office_day),
     * never in timed tests, since these machines are shared and noisy. */
    CHECK(per_tick > 0);
    fx_fini(&f);
}

/* ---- out of memory --------------------------------------------------------------- */

TEST(models_out_of_memory_fails_cleanly)
{
    /* Every allocation of building a world with rooms, HVAC, meters and an
     * alarm, starting the sim and stepping through a structural change fails
     * in turn: no crash, no leak, and in the end a run that completes. */
    tw_log quiet = { 0 };
    tw_log_set_level(&quiet, TW_LOG_OFF);
    int completed = 0;
    for (uint64_t fail_at = 1; fail_at < 5000 && !completed; fail_at++) {
        tw_failing_alloc fa = { .fail_at = fail_at };
        tw_allocator a = tw_failing_alloc_allocator(&fa);
        tw_ecs_world_desc wd = { .allocator = &a, .log = &quiet };
        fx f = { 0 };
        f.w = tw_ecs_world_new(&wd);
        if (f.w && tw_sim_register_components(f.w, &f.c) == TW_OK) {
            tw_entity s = site(&f, "site", 5.0f);
            tw_ecs_add(f.w, s, f.c.meter);
            tw_entity r = hvac_room(&f, s, "r");
            tw_entity pc = node(&f, r, "pc", TW_KIND_EQUIPMENT);
            tw_ecs_add(f.w, pc, f.c.equipment);
            tw_ecs_add(f.w, pc, f.c.health);
            tw_entity al = node(&f, r, "co2", TW_KIND_ALARM);
            Alarm *am = tw_ecs_add(f.w, al, f.c.alarm);
            if (am) snprintf(am->field, sizeof am->field, "Air.co2");
            tw_sim_desc d = { .dt = 1.0, .log = &quiet };
            if (tw_sim_new(f.w, &d, &f.s, NULL) == TW_OK) {
                int ok = run(&f, 20);
                tw_entity late = node(&f, r, "late", TW_KIND_EQUIPMENT);
                ok = tw_ecs_add(f.w, late, f.c.equipment) != NULL && ok;
                ok = run(&f, 20) && ok;
                if (ok && fa.failures == 0) completed = 1;
            }
        }
        fx_fini(&f);
        CHECK_EQ_INT(fa.live_bytes, 0);
        if (fa.live_bytes) break;
    }
    CHECK(completed);
}
