/* Shared fixture of the bind tests: a small world with a room-like
 * component (fields in degC, ppm, W, kWh, %, and unit-less ones), and
 * helpers to read a whole source. Each case builds and frees its own. */
#ifndef TWIN_TEST_BIND_H
#define TWIN_TEST_BIND_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind_internal.h"
#include "test.h"
#include "twin/bind.h"
#include "twin/ecs.h"

typedef struct Room {
    float temperature; /* degC */
    float co2;         /* ppm */
    float power;       /* W */
    double energy;     /* kWh */
    float humidity;    /* % */
    float occupancy;   /* no unit */
    uint32_t people;   /* no unit */
    float light;       /* lx */
    char label[16];
} Room;

static const tw_field room_fields[] = {
    { "temperature", TW_TYPE_F32, offsetof(Room, temperature), 1, 1, "degC", NULL, 0, NULL, 0, "air temperature" },
    { "co2", TW_TYPE_F32, offsetof(Room, co2), 1, 1, "ppm", NULL, 0, NULL, 0, "CO2" },
    { "power", TW_TYPE_F32, offsetof(Room, power), 1, 1, "W", NULL, 0, NULL, 0, "power" },
    { "energy", TW_TYPE_F64, offsetof(Room, energy), 1, 1, "kWh", NULL, 0, NULL, 0, "energy" },
    { "humidity", TW_TYPE_F32, offsetof(Room, humidity), 1, 1, "%", NULL, 0, NULL, 0, "relative humidity" },
    { "occupancy", TW_TYPE_F32, offsetof(Room, occupancy), 1, 1, NULL, NULL, 0, NULL, 0, "occupied 0/1" },
    { "people", TW_TYPE_U32, offsetof(Room, people), 1, 1, NULL, NULL, 0, NULL, 0, "people" },
    { "light", TW_TYPE_F32, offsetof(Room, light), 1, 1, "lx", NULL, 0, NULL, 0, "illuminance" },
    { "label", TW_TYPE_STR, offsetof(Room, label), 16, 1, NULL, NULL, 0, NULL, 0, "a name" },
};
static const Room room_default = { 20.0f, 420.0f, 0.0f, 0.0, 40.0f, 0.0f, 0, 0.0f, "" };

typedef struct Tag { uint32_t id; } Tag;
static const tw_field tag_fields[] = {
    { "id", TW_TYPE_U32, 0, 1, 1, NULL, NULL, 0, NULL, 0, "an id" },
};

typedef struct fixture {
    tw_ecs_world *w;
    tw_component room, tag;
    tw_entity site, room1, room2, room3, meter;
} fixture;

static inline tw_entity fx_entity(fixture *f, const char *name, tw_entity parent, bool room)
{
    tw_entity e = room ? tw_ecs_entity_create_with(f->w, &f->room, 1) : tw_ecs_entity_create_with(f->w, &f->tag, 1);
    tw_ecs_entity_set_name(f->w, e, name);
    if (!tw_entity_is_null(parent)) tw_ecs_entity_set_parent(f->w, e, parent);
    return e;
}

/* site/{room-1, room-2, room-3, meter}; site and meter have only a Tag. */
static inline bool fx_init(fixture *f, const tw_allocator *a)
{
    memset(f, 0, sizeof *f);
    tw_ecs_world_desc wd = { a, NULL, 0 };
    f->w = tw_ecs_world_new(&wd);
    if (!f->w) return false;
    tw_ecs_component_desc rd = { "Room", sizeof(Room), 8, room_fields,
                                 sizeof room_fields / sizeof room_fields[0], &room_default, "a room" };
    tw_ecs_component_desc td = { "Tag", sizeof(Tag), 4, tag_fields, 1, NULL, "a tag" };
    if (tw_ecs_component_register(f->w, &rd, &f->room) != TW_OK) return false;
    if (tw_ecs_component_register(f->w, &td, &f->tag) != TW_OK) return false;
    f->site = fx_entity(f, "site", TW_ENTITY_NULL, false);
    f->room1 = fx_entity(f, "room-1", f->site, true);
    f->room2 = fx_entity(f, "room-2", f->site, true);
    f->room3 = fx_entity(f, "room-3", f->site, true);
    f->meter = fx_entity(f, "meter", f->site, false);
    return !tw_entity_is_null(f->meter);
}

static inline void fx_fini(fixture *f) { tw_ecs_world_free(f->w); }

static inline Room *fx_room(fixture *f, tw_entity e) { return tw_ecs_get(f->w, e, f->room); }

/* Tests check messages through the kept errors; the log stays quiet. */
static tw_log quiet_log = { TW_LOG_OFF + 1, NULL, NULL };

/* A memory source desc over text. */
static inline tw_bind_source_desc mem_desc(const char *text, tw_bind_format fmt, tw_bind_sensors *sensors)
{
    tw_bind_source_desc d;
    memset(&d, 0, sizeof d);
    d.data = text;
    d.size = strlen(text);
    d.name = "mem";
    d.format = fmt;
    d.sensors = sensors;
    d.log = &quiet_log;
    return d;
}

/* Opens d and reads everything into out (at most max; the rest is counted
 * in *total). Returns the open/read status. */
static inline tw_status read_all_desc(const tw_bind_source_desc *d, tw_bind_sample *out, uint32_t max, uint32_t *n,
                                      tw_bind_source **keep)
{
    tw_bind_source *s;
    tw_diag diag;
    *n = 0;
    tw_status st = tw_bind_source_open(d, &s, &diag);
    if (st != TW_OK) return st;
    tw_bind_sample batch[7]; /* an odd batch size, to exercise resumption */
    for (;;) {
        uint32_t k;
        st = tw_bind_source_read(s, batch, 7, &k);
        for (uint32_t i = 0; i < k; i++) {
            if (*n < max) out[*n] = batch[i];
            (*n)++;
        }
        if (st != TW_OK || (k == 0 && tw_bind_source_get_state(s) != TW_BIND_SOURCE_READY)) break;
    }
    if (keep)
        *keep = s;
    else
        tw_bind_source_free(s);
    return st;
}

static inline tw_bind_sample sample(tw_bind_sensors *t, const char *sensor, double time, double value)
{
    tw_bind_sample s;
    memset(&s, 0, sizeof s);
    uint32_t id = 0;
    tw_bind_sensors_intern(t, sensor, strlen(sensor), &id);
    s.sensor = id;
    s.time = time;
    s.value = value;
    return s;
}

static inline tw_bind_rule rule_set(const char *sensor, const char *entity, const char *field)
{
    tw_bind_rule r;
    memset(&r, 0, sizeof r);
    r.sensor = sensor;
    r.entity = entity;
    r.field = field;
    return r;
}

/* Every sample is in exactly one bucket. */
#define CHECK_IDENTITY(c)                                                                                        \
    CHECK_EQ_U64((c)->received, (c)->applied + (c)->rejected + (c)->late + (c)->duplicate + (c)->unknown_sensor + \
                                    (c)->ignored + (c)->pending)

/* Writes text to a fresh temporary file; returns its path in buf. */
static inline const char *write_temp(const char *text, size_t len, char *buf, size_t size)
{
    snprintf(buf, size, "/tmp/twin_bind_test_XXXXXX");
    int fd = mkstemp(buf);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) return NULL;
    fwrite(text, 1, len, f);
    fclose(f);
    return buf;
}

#endif
