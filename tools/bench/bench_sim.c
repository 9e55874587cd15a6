/* `twin bench sim`: the simulation's benchmarks.
 *
 *   sim.physics_1000, sim.physics_5000   engine physics tick vs bare cpSpaceStep
 *                                        on the same bodies (target ratio <= 1.15)
 *   sim.office_day                        added by the lead once the scene loader exists
 *
 * --quick runs short versions (for tests): the figures are then noisy. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "twin/sim_bench.h"

static int bench_physics_line(uint32_t agents, uint32_t ticks)
{
    double engine = 0, bare = 0;
    tw_status st = tw_sim_bench_physics(agents, ticks, &engine, &bare);
    if (st) {
        fprintf(stderr, "twin bench sim: the physics benchmark with %u agents failed: %s\n", agents,
                tw_status_str(st));
        return 1;
    }
    char name[64], extra[128];
    snprintf(name, sizeof name, "sim.physics_%u", agents);
    snprintf(extra, sizeof extra, "\"agents\":%u,\"ticks\":%u,\"measures\":\"sync+drive+cpSpaceStep+write-back\"",
             agents, ticks);
    bench_line line = { .bench = name,
                        .value = engine,
                        .unit = "ms/tick",
                        .baseline = bare,
                        .baseline_name = "bare cpSpaceStep on the same bodies",
                        .target = "ratio <= 1.15",
                        .met = bare > 0 && engine / bare <= 1.15,
                        .extra_json = extra };
    bench_emit(stdout, &line);
    return 0;
}

/* TODO(lead): the default office scene for a whole simulated day, real-time
 * factor >= 5,000, once the scene loader exists. Returns an exit code. */
static int bench_office_day(int quick)
{
    (void)quick;
    return 0;
}

int bench_sim(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else {
            fprintf(stderr, "twin bench sim: unknown option '%s' (known: --quick)\n", argv[i]);
            return 2;
        }
    }
    int rc = 0;
    rc |= bench_physics_line(1000, quick ? 20 : 500);
    rc |= bench_physics_line(5000, quick ? 10 : 200);
    rc |= bench_office_day(quick);
    return rc;
}
