/* libFuzzer target for what-if scenario files (twin-scenario/1): any bytes.
 * Besides memory errors and undefined behaviour it checks that a failed
 * load says where, and that a loaded scenario's changes are well formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_scenario sc;
    tw_diag d;
    tw_status st = tw_scenario_load_text((const char *)data, size, "fuzz", NULL, &sc, &d);
    if (st) {
        if (!d.message[0]) {
            fprintf(stderr, "fuzz_scenario: an error without a message\n");
            abort();
        }
        return 0;
    }
    for (uint32_t i = 0; i < sc.change_count; i++) {
        const tw_scenario_change *c = &sc.changes[i];
        int sensor = c->op == TW_SCENARIO_OVERRIDE || c->op == TW_SCENARIO_SILENCE;
        if (c->op < TW_SCENARIO_SET || c->op > TW_SCENARIO_SILENCE || (sensor ? !c->sensor[0] : !c->entity[0]) ||
            (c->op == TW_SCENARIO_SET && !c->field[0]) || c->count < 1) {
            fprintf(stderr, "fuzz_scenario: change %u is malformed\n", i);
            abort();
        }
    }
    tw_scenario_fini(&sc);
    return 0;
}
