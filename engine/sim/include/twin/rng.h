/* twin/rng.h: seeded random numbers for simulation (PCG32).
 *
 * Plain data, copied freely; the same seed and stream give the same numbers
 * on every run. Simulation code uses only this. */
#ifndef TWIN_RNG_H
#define TWIN_RNG_H

#include <stdint.h>

typedef struct tw_rng {
    uint64_t state;
    uint64_t inc;
} tw_rng;

void tw_rng_seed(tw_rng *r, uint64_t seed, uint64_t stream);
uint32_t tw_rng_u32(tw_rng *r);
double tw_rng_uniform(tw_rng *r);                       /* [0, 1) */
double tw_rng_range(tw_rng *r, double lo, double hi);   /* [lo, hi) */
uint32_t tw_rng_below(tw_rng *r, uint32_t n);           /* [0, n), unbiased; 0 when n == 0 */
double tw_rng_normal(tw_rng *r, double mean, double sd);

#endif
