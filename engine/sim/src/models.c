/* Mechanism models: weather, equipment power and health, HVAC control, the
 * thermal balance and CO2 of each space, and energy and carbon meters.
 *
 * Every piece of simulated state lives in components; this file keeps only
 * caches (which entity feeds which space and meter, and pointers into the
 * component columns). The caches are rebuilt whenever the world's structure
 * version moves, because component pointers are only valid until the next
 * structural change. Lists are sorted by entity slot so sums run in the same
 * order whatever the archetype tables look like (a world restored from a
 * keyframe has other tables than the run that wrote it, and float sums must
 * not depend on that).
 *
 * Two rates. Equipment power and meters run every tick, so a switched-off or
 * failed machine shows on its meter at once and energy is exact. The slow
 * models (weather, health, HVAC control, thermal, CO2) run every
 * TW_MODEL_STEP seconds of simulated time (every N ticks, N = round(10 s /
 * dt), at least 1), on the tick whose number is a multiple of N. That is not
 * only a saving: the state is float32, and at dt = 0.1 s a room with
 * C = 2e6 J/K changes by 5e-8 K per watt per tick, below half an ulp of 21
 * degC (9.5e-7 K) for any net heat flow under 19 W. Explicit Euler at 0.1 s
 * would stall 0.3 K short of the steady state and Health.health at the
 * default wear (0.001/h, 2.8e-8 per tick) would never move. At 10 s the
 * stall is 3 mK and wear rounds to within 1 %. The choice of tick is a pure
 * function of the tick counter, so a run restored from a keyframe steps the
 * models on the same ticks as the run that wrote it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* s of simulated time between two runs of the slow models. */
#define TW_MODEL_STEP 10.0
/* W of fan power per m3/s of airflow while an HVAC runs (a specific fan
 * power of 0.3 kW/(m3/s): a small, efficient terminal fan; central air
 * handlers are 1-2 kW/(m3/s)). */
#define TW_FAN_POWER_PER_AIRFLOW 300.0
/* degC outdoors when the world has no Weather. */
#define TW_DEFAULT_OUTDOOR 12.0
/* degC around a machine that sits in no space with a Thermal. */
#define TW_DEFAULT_AMBIENT 20.0
/* m of a space's height when neither its Shape nor a Storey says. */
#define TW_DEFAULT_HEIGHT 3.0
#define TW_TWO_PI 6.283185307179586

/* A space (anything with Thermal or Air) and what feeds it this step. */
typedef struct tw_zone {
    tw_entity e;
    Thermal *thermal;   /* may be NULL */
    Air *air;           /* may be NULL */
    Space *space;       /* may be NULL: then no occupants and no volume */
    int32_t weather;    /* index into weathers, -1: the default outdoor temperature */
    /* Per-step sums, cleared at each slow step. */
    double equipment_heat; /* W */
    double hvac_output;    /* W */
    double hvac_airflow;   /* m3/s */
    uint8_t hvac_running;
} tw_zone;

typedef struct tw_equip_item {
    tw_entity e;
    Equipment *eq;
    Health *health;     /* same entity, may be NULL */
    int32_t zone;       /* -1: none */
    int32_t meter;      /* -1: none */
} tw_equip_item;

typedef struct tw_hvac_item {
    tw_entity e;
    Hvac *hvac;
    int32_t zone;
    int32_t meter;
} tw_hvac_item;

typedef struct tw_health_item { /* Health on an entity without Equipment */
    tw_entity e;
    Health *health;
    int32_t zone;
} tw_health_item;

typedef struct tw_meter_item {
    tw_entity e;
    Meter *meter;
    double power;       /* W, this tick's sum */
} tw_meter_item;

typedef struct tw_weather_item {
    tw_entity e;
    Weather *weather;
} tw_weather_item;

/* A growable array of one of the item types above. */
typedef struct tw_list {
    void *items;
    size_t count, cap;
} tw_list;

struct tw_sim_models {
    uint64_t structure_version;
    bool built;
    uint32_t step_ticks;          /* N: ticks per slow step */
    tw_ecs_query q_thermal, q_air, q_space, q_hvac, q_equipment, q_health, q_meter, q_weather;
    tw_list zones, equipment, hvacs, healths, meters, weathers;
    tw_list scratch;              /* tw_entity, while collecting zones */
    int32_t *slot_map;            /* slot -> index + 1 during a rebuild; all zero between uses */
    size_t slot_map_cap;
};

#define LIST_AT(list, T) ((T *)(list).items)

/* ---- setup ------------------------------------------------------------------ */

static int slot_cmp(const void *a, const void *b)
{
    /* Every item type starts with its tw_entity. */
    uint32_t ia = tw_entity_index(*(const tw_entity *)a), ib = tw_entity_index(*(const tw_entity *)b);
    return (ia > ib) - (ia < ib);
}

static tw_status list_push(tw_sim *s, tw_list *l, const void *item, size_t size)
{
    if (tw_grow(&s->alloc, &l->items, &l->cap, l->count + 1, size)) return TW_ERR_NOMEM;
    memcpy((char *)l->items + l->count * size, item, size);
    l->count++;
    return TW_OK;
}

static void list_free(tw_sim *s, tw_list *l, size_t size)
{
    tw_free(&s->alloc, l->items, l->cap * size);
    *l = (tw_list){ 0 };
}

static void list_sort(tw_list *l, size_t size)
{
    if (l->count > 1) qsort(l->items, l->count, size, slot_cmp);
}

/* Collects every entity of q with its first column into l, as {entity, pointer} items. */
static tw_status collect(tw_sim *s, tw_ecs_query *q, tw_list *l, size_t size, size_t ptr_offset)
{
    unsigned char item[64];
    TW_CHECK(size <= sizeof item && ptr_offset + sizeof(void *) <= size, "models.c: an item type outgrew collect().");
    const tw_ecs_component_info *info = tw_ecs_component_get_info(s->world, q->terms[0]);
    l->count = 0;
    tw_ecs_iter it = tw_ecs_query_iter(s->world, q);
    while (tw_ecs_iter_next(&it)) {
        for (uint32_t i = 0; i < it.count; i++) {
            memset(item, 0, sizeof item);
            void *ptr = (char *)it.columns[0] + (size_t)i * info->size;
            memcpy(item, &it.entities[i], sizeof(tw_entity));
            memcpy(item + ptr_offset, &ptr, sizeof ptr);
            tw_status st = list_push(s, l, item, size);
            if (st) return st;
        }
    }
    list_sort(l, size);
    return TW_OK;
}

static tw_status slot_map_reserve(tw_sim *s)
{
    tw_sim_models *m = s->models;
    size_t need = tw_ecs_entity_capacity(s->world);
    if (need <= m->slot_map_cap) return TW_OK;
    size_t old = m->slot_map_cap;
    if (tw_grow(&s->alloc, (void **)&m->slot_map, &m->slot_map_cap, need, sizeof *m->slot_map)) return TW_ERR_NOMEM;
    memset(m->slot_map + old, 0, (m->slot_map_cap - old) * sizeof *m->slot_map);
    return TW_OK;
}

/* Marks the entities of a list (the first member of each item) in the slot map. */
static void slot_map_mark(tw_sim_models *m, const tw_list *l, size_t size, bool set)
{
    for (size_t i = 0; i < l->count; i++) {
        tw_entity e;
        memcpy(&e, (const char *)l->items + i * size, sizeof e);
        m->slot_map[tw_entity_index(e)] = set ? (int32_t)i + 1 : 0;
    }
}

/* Index of the nearest marked entity among e and its ancestors, or -1. */
static int32_t find_up(const tw_sim *s, tw_entity e)
{
    while (!tw_entity_is_null(e)) {
        int32_t v = s->models->slot_map[tw_entity_index(e)];
        if (v) return v - 1;
        e = tw_ecs_entity_parent(s->world, e);
    }
    return -1;
}

static double polygon_area(const Shape *sh)
{
    uint32_t n = sh->point_count < TW_SHAPE_MAX_POINTS ? sh->point_count : TW_SHAPE_MAX_POINTS;
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        const float *a = sh->points[i], *b = sh->points[(i + 1) % n];
        sum += (double)a[0] * b[1] - (double)b[0] * a[1];
    }
    return fabs(sum) * 0.5;
}

/* Space.area and Space.volume from the space's Shape and its storey. A space
 * without a box or extrusion keeps the values it has (a scene may give them). */
static void derive_space_geometry(tw_sim *s, tw_entity e, Space *sp)
{
    const Shape *sh = tw_ecs_get(s->world, e, s->c.shape);
    if (!sh) return;
    double area;
    if (sh->kind == TW_SHAPE_EXTRUSION) area = polygon_area(sh);
    else if (sh->kind == TW_SHAPE_BOX) area = (double)sh->size[0] * sh->size[1];
    else return;
    double height = sh->height;
    if (!(height > 0)) {
        height = TW_DEFAULT_HEIGHT;
        for (tw_entity a = tw_ecs_entity_parent(s->world, e); !tw_entity_is_null(a);
             a = tw_ecs_entity_parent(s->world, a)) {
            const Storey *st = tw_ecs_get(s->world, a, s->c.storey);
            if (st) {
                if (st->height > 0) height = st->height;
                break;
            }
        }
    }
    sp->area = (float)area;
    sp->volume = (float)(area * height);
}

static tw_status rebuild(tw_sim *s)
{
    tw_sim_models *m = s->models;
    tw_ecs_world *w = s->world;
    tw_status st;

    if ((st = slot_map_reserve(s))) return st;
    if ((st = collect(s, &m->q_weather, &m->weathers, sizeof(tw_weather_item), offsetof(tw_weather_item, weather))) ||
        (st = collect(s, &m->q_meter, &m->meters, sizeof(tw_meter_item), offsetof(tw_meter_item, meter))) ||
        (st = collect(s, &m->q_equipment, &m->equipment, sizeof(tw_equip_item), offsetof(tw_equip_item, eq))) ||
        (st = collect(s, &m->q_hvac, &m->hvacs, sizeof(tw_hvac_item), offsetof(tw_hvac_item, hvac))) ||
        (st = collect(s, &m->q_health, &m->healths, sizeof(tw_health_item), offsetof(tw_health_item, health))))
        return st;

    /* Derived geometry of every space, whether or not it has a thermal model. */
    tw_ecs_iter it = tw_ecs_query_iter(w, &m->q_space);
    while (tw_ecs_iter_next(&it)) {
        Space *col = it.columns[0];
        for (uint32_t i = 0; i < it.count; i++) derive_space_geometry(s, it.entities[i], &col[i]);
    }

    /* Zones: every entity with Thermal or Air, once, in slot order. */
    tw_list *sc = &m->scratch;
    sc->count = 0;
    tw_ecs_query *zq[2] = { &m->q_thermal, &m->q_air };
    for (int k = 0; k < 2; k++) {
        it = tw_ecs_query_iter(w, zq[k]);
        while (tw_ecs_iter_next(&it))
            for (uint32_t i = 0; i < it.count; i++)
                if ((st = list_push(s, sc, &it.entities[i], sizeof(tw_entity)))) return st;
    }
    list_sort(sc, sizeof(tw_entity));
    m->zones.count = 0;
    const tw_entity *ents = sc->items;
    for (size_t i = 0; i < sc->count; i++) {
        if (i > 0 && tw_entity_eq(ents[i], ents[i - 1])) continue;
        tw_zone z = { .e = ents[i] };
        z.thermal = tw_ecs_get(w, z.e, s->c.thermal);
        z.air = tw_ecs_get(w, z.e, s->c.air);
        z.space = tw_ecs_get(w, z.e, s->c.space);
        if ((st = list_push(s, &m->zones, &z, sizeof z))) return st;
    }
    tw_zone *zones = m->zones.items;

    /* The outdoor temperature of a zone: its nearest ancestor with Weather,
     * else the first Weather in slot order. */
    slot_map_mark(m, &m->weathers, sizeof(tw_weather_item), true);
    for (size_t i = 0; i < m->zones.count; i++) {
        int32_t wi = find_up(s, zones[i].e);
        zones[i].weather = wi >= 0 ? wi : (m->weathers.count ? 0 : -1);
    }
    slot_map_mark(m, &m->weathers, sizeof(tw_weather_item), false);

    /* Consumers and machines feed the nearest zone at or above them. */
    tw_equip_item *eqs = m->equipment.items;
    tw_hvac_item *hvs = m->hvacs.items;
    tw_health_item *hls = m->healths.items;
    slot_map_mark(m, &m->zones, sizeof(tw_zone), true);
    for (size_t i = 0; i < m->equipment.count; i++) {
        eqs[i].zone = find_up(s, eqs[i].e);
        eqs[i].health = tw_ecs_get(w, eqs[i].e, s->c.health);
    }
    for (size_t i = 0; i < m->hvacs.count; i++) hvs[i].zone = find_up(s, hvs[i].e);
    size_t kept = 0; /* Health without Equipment only; the rest is handled with its Equipment */
    for (size_t i = 0; i < m->healths.count; i++) {
        if (tw_ecs_has(w, hls[i].e, s->c.equipment)) continue;
        hls[i].zone = find_up(s, hls[i].e);
        hls[kept++] = hls[i];
    }
    m->healths.count = kept;
    slot_map_mark(m, &m->zones, sizeof(tw_zone), false);

    /* Every consumer adds its power to its nearest meter at or above it. */
    slot_map_mark(m, &m->meters, sizeof(tw_meter_item), true);
    for (size_t i = 0; i < m->equipment.count; i++) eqs[i].meter = find_up(s, eqs[i].e);
    for (size_t i = 0; i < m->hvacs.count; i++) hvs[i].meter = find_up(s, hvs[i].e);
    slot_map_mark(m, &m->meters, sizeof(tw_meter_item), false);

    m->structure_version = tw_ecs_world_structure_version(w);
    m->built = true;
    return TW_OK;
}

tw_status tw_sim_models_new(tw_sim *s, tw_diag *diag)
{
    (void)diag;
    tw_sim_models *m = tw_calloc(&s->alloc, 1, sizeof *m);
    if (!m) return TW_ERR_NOMEM;
    s->models = m;
    double n = floor(TW_MODEL_STEP / s->dt + 0.5);
    m->step_ticks = n < 1 ? 1u : n > 1e6 ? 1000000u : (uint32_t)n;

    const tw_component terms[8] = { s->c.thermal, s->c.air, s->c.space, s->c.hvac,
                                    s->c.equipment, s->c.health, s->c.meter, s->c.weather };
    tw_ecs_query *qs[8] = { &m->q_thermal, &m->q_air, &m->q_space, &m->q_hvac,
                            &m->q_equipment, &m->q_health, &m->q_meter, &m->q_weather };
    for (int i = 0; i < 8; i++) {
        tw_ecs_query_desc d = { .with = { terms[i] } };
        tw_status st = tw_ecs_query_init(s->world, qs[i], &d);
        if (st) return st; /* tw_sim_free cleans up */
    }
    return rebuild(s);
}

void tw_sim_models_free(tw_sim *s)
{
    tw_sim_models *m = s->models;
    if (!m) return;
    tw_ecs_query *qs[8] = { &m->q_thermal, &m->q_air, &m->q_space, &m->q_hvac,
                            &m->q_equipment, &m->q_health, &m->q_meter, &m->q_weather };
    for (int i = 0; i < 8; i++) tw_ecs_query_fini(qs[i]);
    list_free(s, &m->zones, sizeof(tw_zone));
    list_free(s, &m->equipment, sizeof(tw_equip_item));
    list_free(s, &m->hvacs, sizeof(tw_hvac_item));
    list_free(s, &m->healths, sizeof(tw_health_item));
    list_free(s, &m->meters, sizeof(tw_meter_item));
    list_free(s, &m->weathers, sizeof(tw_weather_item));
    list_free(s, &m->scratch, sizeof(tw_entity));
    tw_free(&s->alloc, m->slot_map, m->slot_map_cap * sizeof *m->slot_map);
    tw_free(&s->alloc, m, sizeof *m);
    s->models = NULL;
}

/* ---- per tick --------------------------------------------------------------- */

/* In [on, off) of the day, wrapping past midnight when on > off. */
static bool in_schedule(double hour, float on, float off)
{
    if (on <= off) return hour >= on && hour < off;
    return hour >= on || hour < off;
}

static bool equipment_on(const Equipment *eq, double hour)
{
    return eq->running && !eq->failed && (eq->schedule_on == eq->schedule_off ||
                                          in_schedule(hour, eq->schedule_on, eq->schedule_off));
}

/* Wear while drawing power; failure below the threshold; the condition
 * curves: vibration = 1 + 12 (1 - h)^2 mm/s (ISO 10816 "good" to "unacceptable"
 * as h goes from 1 to about 0.2), bearing temperature = ambient + 25 K at full
 * load + up to 30 K of friction as it wears. */
static void health_update(Health *hl, Equipment *eq, double hour, double ambient, double h)
{
    double util = eq ? eq->utilisation : 0.0;
    if (eq && equipment_on(eq, hour)) {
        double v = hl->health - hl->wear_per_hour * h / 3600.0 * util;
        hl->health = (float)(v > 0 ? v : 0);
    }
    if (eq && hl->health < hl->fail_below) eq->failed = 1; /* stays failed until someone resets it */
    double worn = 1.0 - hl->health;
    double running = eq && equipment_on(eq, hour) ? 1.0 : 0.0;
    hl->vibration = (float)(1.0 + 12.0 * worn * worn);
    hl->temperature = (float)(ambient + 25.0 * util * running + 30.0 * worn);
}

static double zone_ambient(const tw_sim_models *m, int32_t zi)
{
    const tw_zone *z = zi >= 0 ? &LIST_AT(m->zones, tw_zone)[zi] : NULL;
    return z && z->thermal ? z->thermal->temperature : TW_DEFAULT_AMBIENT;
}

static double zone_outdoor(const tw_sim_models *m, const tw_zone *z)
{
    return z->weather >= 0 ? LIST_AT(m->weathers, tw_weather_item)[z->weather].weather->temperature
                           : TW_DEFAULT_OUTDOOR;
}

static double zone_occupants(const tw_zone *z) { return z->space ? z->space->occupants : 0.0; }

/* Net heat into the zone without its HVAC, W. */
static double zone_passive_heat(const tw_sim_models *m, const tw_zone *z)
{
    const Thermal *th = z->thermal;
    return th->ua * (zone_outdoor(m, z) - th->temperature) + th->gain_equipment +
           zone_occupants(z) * th->gain_per_person + z->equipment_heat;
}

/* Proportional control with saturation and a deadband between the
 * setpoints. The controller acts on the temperature at the end of the step
 * (semi-implicit: out = gain (sp - T_next), T_next = T + h (rest + out) / C,
 * solved for out), so it is stable at any step, even in a closet whose C/gain
 * is shorter than the step, where explicit control would overshoot back and
 * forth. At steady state T_next = T and out = gain (sp - T) exactly, the same
 * equilibrium as the continuous controller. */
static void hvac_update(const tw_sim_models *m, tw_hvac_item *item, double hour, double h)
{
    Hvac *hv = item->hvac;
    tw_zone *z = item->zone >= 0 ? &LIST_AT(m->zones, tw_zone)[item->zone] : NULL;
    bool runs = hv->enabled && !hv->failed && in_schedule(hour, hv->schedule_on, hv->schedule_off);
    if (!runs) {
        hv->output = 0;
        hv->power = 0;
        return;
    }
    double out = 0.0;
    if (z && z->thermal) {
        const Thermal *th = z->thermal;
        double t = th->temperature;
        double rest = zone_passive_heat(m, z) + z->hvac_output; /* other HVACs of the zone count too */
        double k = th->capacitance > 0 ? h / th->capacitance : 0.0; /* K per W over the step */
        double g = hv->gain;
        if (t < hv->heat_setpoint) {
            out = g * (hv->heat_setpoint - t - k * rest) / (1.0 + g * k);
            out = fmin(hv->max_heating, fmax(0.0, out));
        } else if (t > hv->cool_setpoint) {
            out = g * (t - hv->cool_setpoint + k * rest) / (1.0 + g * k);
            out = -fmin(hv->max_cooling, fmax(0.0, out));
        }
    }
    double power = 0.0;
    if (out > 0 && hv->cop_heating > 0) power = out / hv->cop_heating;
    else if (out < 0 && hv->cop_cooling > 0) power = -out / hv->cop_cooling;
    power += TW_FAN_POWER_PER_AIRFLOW * hv->airflow;
    hv->output = (float)out;
    hv->power = (float)power;
    if (z) {
        z->hvac_output += out;
        z->hvac_airflow += hv->airflow;
        z->hvac_running = 1;
    }
}

/* C dT/dt = UA (T_out - T) + gains + equipment heat + HVAC, explicit Euler
 * over h (stable while C/UA > h/2: hours for real rooms). */
static void thermal_update(const tw_sim_models *m, tw_zone *z, double h)
{
    Thermal *th = z->thermal;
    double t = th->temperature;
    double q = zone_passive_heat(m, z) + z->hvac_output;
    if (zone_occupants(z) > 0.5 && (t < th->comfort_low || t > th->comfort_high)) th->discomfort_hours += h / 3600.0;
    if (th->capacitance > 0) th->temperature = (float)(t + h * q / th->capacitance);
    th->heat_flow = (float)q;
}

/* V dC/dt = G + Q (C_out - C) is linear with constant coefficients over a
 * step, so its exact solution is used: stable for any h, even a tiny room
 * with a huge airflow. */
static void air_update(tw_zone *z, double h)
{
    Air *air = z->air;
    double v = z->space ? z->space->volume : 0.0;
    if (!(v > 0)) return;
    double g = zone_occupants(z) * air->co2_per_person * 1e6; /* ppm m3/s */
    double q = z->hvac_running ? z->hvac_airflow : air->infiltration * v / 3600.0;
    double c = air->co2;
    if (q > 0) {
        double ss = air->outdoor_co2 + g / q;
        c = ss + (c - ss) * exp(-q * h / v);
    } else {
        c += g * h / v;
    }
    air->co2 = (float)c;
}

static void slow_step(tw_sim *s, double hour, double h)
{
    tw_sim_models *m = s->models;

    tw_weather_item *ws = m->weathers.items;
    for (size_t i = 0; i < m->weathers.count; i++) {
        Weather *w = ws[i].weather;
        w->temperature = (float)(w->mean + w->amplitude * cos(TW_TWO_PI * (hour - w->peak_hour) / 24.0));
    }

    tw_equip_item *eqs = m->equipment.items;
    for (size_t i = 0; i < m->equipment.count; i++)
        if (eqs[i].health) health_update(eqs[i].health, eqs[i].eq, hour, zone_ambient(m, eqs[i].zone), h);
    tw_health_item *hls = m->healths.items;
    for (size_t i = 0; i < m->healths.count; i++)
        health_update(hls[i].health, NULL, hour, zone_ambient(m, hls[i].zone), h);
}

static void zone_step(tw_sim *s, double hour, double h)
{
    tw_sim_models *m = s->models;
    tw_zone *zones = m->zones.items;
    for (size_t i = 0; i < m->zones.count; i++) {
        zones[i].equipment_heat = 0;
        zones[i].hvac_output = 0;
        zones[i].hvac_airflow = 0;
        zones[i].hvac_running = 0;
    }
    tw_equip_item *eqs = m->equipment.items;
    for (size_t i = 0; i < m->equipment.count; i++)
        if (eqs[i].zone >= 0) zones[eqs[i].zone].equipment_heat += (double)eqs[i].eq->power * eqs[i].eq->heat_fraction;
    tw_hvac_item *hvs = m->hvacs.items;
    for (size_t i = 0; i < m->hvacs.count; i++) hvac_update(m, &hvs[i], hour, h);
    for (size_t i = 0; i < m->zones.count; i++) {
        if (zones[i].thermal) thermal_update(m, &zones[i], h);
        if (zones[i].air) air_update(&zones[i], h);
    }
}

void tw_sim_models_step(tw_sim *s)
{
    tw_sim_models *m = s->models;
    if (!m->built || m->structure_version != tw_ecs_world_structure_version(s->world)) {
        tw_status st = rebuild(s);
        if (st) {
            m->built = false;
            TW_LOG(&s->log, TW_LOG_WARN, "sim", "models skipped tick %llu: %s while rebuilding their caches",
                   (unsigned long long)s->tick, tw_status_str(st));
            return;
        }
    }
    double hour = tw_sim_hour_of_day(s);
    bool slow = s->tick % m->step_ticks == 0;
    double h = m->step_ticks * s->dt;

    if (slow) slow_step(s, hour, h);

    tw_equip_item *eqs = m->equipment.items;
    for (size_t i = 0; i < m->equipment.count; i++) {
        Equipment *eq = eqs[i].eq;
        eq->power = equipment_on(eq, hour) ? eq->rated_power * eq->utilisation : 0.0f;
    }

    if (slow) zone_step(s, hour, h);

    tw_meter_item *ms = m->meters.items;
    for (size_t i = 0; i < m->meters.count; i++) ms[i].power = ms[i].meter->base_load;
    tw_hvac_item *hvs = m->hvacs.items;
    for (size_t i = 0; i < m->hvacs.count; i++)
        if (hvs[i].meter >= 0) ms[hvs[i].meter].power += hvs[i].hvac->power;
    for (size_t i = 0; i < m->equipment.count; i++)
        if (eqs[i].meter >= 0) ms[eqs[i].meter].power += eqs[i].eq->power;
    double kwh_per_w = s->dt / 3.6e6;
    for (size_t i = 0; i < m->meters.count; i++) {
        Meter *mt = ms[i].meter;
        double kwh = ms[i].power * kwh_per_w;
        mt->power = (float)ms[i].power;
        mt->energy += kwh;
        mt->carbon += kwh * mt->grid_factor;
    }
}
