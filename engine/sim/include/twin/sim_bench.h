/* twin/sim_bench.h: workloads that `twin bench sim` times.
 *
 * Each builds its own world, runs it, frees it, and reports milliseconds of
 * wall time per tick (medians over several rounds, after a warm-up). They read
 * the wall clock, so nothing in a simulation may call them. */
#ifndef TWIN_SIM_BENCH_H
#define TWIN_SIM_BENCH_H

#include <stdint.h>

#include "twin/status.h"

/* A walled square floor about 20 % covered by `agents` circles of r = 0.5 m,
 * each pushed every tick toward its own slowly turning heading at 1 m/s.
 * engine: what the engine's physics costs per tick, i.e. tw_sim physics_sync
 * (structure and door checks, space membership), handing each body its wanted
 * velocity by entity handle (as steering does), pushing edits made to Body,
 * cpSpaceStep, and copying position, velocity and angle back into Body and
 * Transform; computing the steering itself and the other systems are not
 * included.
 * bare: the same bodies, walls and settings in one bare cpSpace, each body
 * handed its wanted velocity directly, then cpSpaceStep. Both runs start identical and stay
 * identical (float velocities in both), so the ratio is the engine's
 * overhead. ticks: measured ticks per run (0: 200). */
tw_status tw_sim_bench_physics(uint32_t agents, uint32_t ticks, double *engine_ms_per_tick, double *bare_ms_per_tick);

#endif
