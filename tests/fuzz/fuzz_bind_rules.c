/* libFuzzer target for the twin-bindings/1 loader: any bytes against a small
 * world (a Room component on site/room-1..3). It checks the loader's promises:
 *   - a failed load says where (a line and a column) and keeps no rule;
 *   - a load that succeeds leaves rules whose bindings resolve, and the
 *     binder then takes samples and writes its summary without trouble. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/bind.h"

typedef struct Room {
    float temperature;
    float co2;
    double energy;
    uint32_t people;
} Room;

static const tw_field room_fields[] = {
    { "temperature", TW_TYPE_F32, offsetof(Room, temperature), 1, 1, "degC", NULL, 0, NULL, 0, "t" },
    { "co2", TW_TYPE_F32, offsetof(Room, co2), 1, 1, "ppm", NULL, 0, NULL, 0, "c" },
    { "energy", TW_TYPE_F64, offsetof(Room, energy), 1, 1, "kWh", NULL, 0, NULL, 0, "e" },
    { "people", TW_TYPE_U32, offsetof(Room, people), 1, 1, NULL, NULL, 0, NULL, 0, "p" },
};

static tw_log quiet = { TW_LOG_OFF + 1, NULL, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_ecs_world *w = tw_ecs_world_new(NULL);
    tw_component room;
    tw_ecs_component_desc rd = { "Room", sizeof(Room), 8, room_fields, 4, NULL, "a room" };
    if (!w || tw_ecs_component_register(w, &rd, &room) != TW_OK) abort();
    tw_entity site = tw_ecs_entity_create(w);
    tw_ecs_entity_set_name(w, site, "site");
    for (int i = 1; i <= 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "room-%d", i);
        tw_entity e = tw_ecs_entity_create_with(w, &room, 1);
        tw_ecs_entity_set_name(w, e, name);
        tw_ecs_entity_set_parent(w, e, site);
    }
    tw_bind_desc bd;
    memset(&bd, 0, sizeof bd);
    bd.log = &quiet;
    bd.max_sensors = 256;
    tw_bind *b;
    tw_diag diag;
    if (tw_bind_new(w, &bd, &b, &diag) != TW_OK) abort();
    tw_status st = tw_bind_load_text(b, (const char *)data, size, "fuzz", &diag);
    if (st != TW_OK) {
        if (st != TW_ERR_NOMEM && (diag.line < 1 || diag.column < 1)) {
            fprintf(stderr, "fuzz_bind_rules: an error without a position: %s\n", diag.message);
            abort();
        }
        if (tw_bind_rule_count(b) != 0 || tw_bind_binding_count(b) != 0) {
            fprintf(stderr, "fuzz_bind_rules: a failed load kept rules\n");
            abort();
        }
    } else {
        /* Drive what loaded: samples for every bound sensor, then the summary. */
        tw_bind_sensors *t = tw_bind_get_sensors(b);
        for (uint32_t i = 0; i < tw_bind_rule_count(b); i++) {
            const tw_bind_rule *r = tw_bind_rule_get(b, i);
            const char *name = r->sensor ? r->sensor : "site/room-2/x";
            tw_bind_sample s;
            memset(&s, 0, sizeof s);
            if (tw_bind_sensors_intern(t, name, strlen(name), &s.sensor) != TW_OK) continue;
            s.time = 1.0 + i;
            s.value = 21.5;
            tw_bind_push(b, &s, 1);
        }
        tw_bind_apply_until(b, w, 100);
        const tw_bind_counters *c = tw_bind_get_counters(b);
        if (c->received != c->applied + c->rejected + c->late + c->duplicate + c->unknown_sensor + c->ignored +
                               c->pending) {
            fprintf(stderr, "fuzz_bind_rules: the counters do not add up\n");
            abort();
        }
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            tw_bind_write_json(b, null, 2);
            fclose(null);
        }
    }
    tw_bind_free(b);
    tw_ecs_world_free(w);
    return 0;
}
