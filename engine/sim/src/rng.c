/* PCG32 (O'Neill, pcg-random.org): small state, good statistics, deterministic. */
#include "twin/rng.h"

#include <math.h>

void tw_rng_seed(tw_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = 0;
    r->inc = (stream << 1u) | 1u;
    tw_rng_u32(r);
    r->state += seed;
    tw_rng_u32(r);
}

uint32_t tw_rng_u32(tw_rng *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ull + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

double tw_rng_uniform(tw_rng *r)
{
    return tw_rng_u32(r) * (1.0 / 4294967296.0);
}

double tw_rng_range(tw_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * tw_rng_uniform(r);
}

uint32_t tw_rng_below(tw_rng *r, uint32_t n)
{
    if (n == 0) return 0;
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = tw_rng_u32(r);
        if (x >= threshold) return x % n;
    }
}

double tw_rng_normal(tw_rng *r, double mean, double sd)
{
    /* Box-Muller; u1 kept away from 0 so log() is finite. */
    double u1 = (tw_rng_u32(r) + 1.0) * (1.0 / 4294967297.0);
    double u2 = tw_rng_uniform(r);
    return mean + sd * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
