/* `twin bench ecs`: the ECS against plain C arrays, measured in the same run.
 *
 *   ecs.update_1m      Position += Velocity * dt through a query, ns/entity;
 *                      baseline: the same loop over plain malloc'd arrays.
 *                      Median of reps x passes single-pass samples.
 *   ecs.create_1m      tw_ecs_entity_create_with (two components), one by one;
 *   ecs.create_bulk_1m tw_ecs_entity_create_bulk, the same entities in one call;
 *                      baseline for both: malloc the two plain arrays and fill
 *                      them with the default values, element by element.
 *   ecs.add_1m         tw_ecs_add twice per entity (the general path that moves
 *                      rows between tables); baseline: create_with from this run.
 *
 * Every figure is the median of several repetitions after a warm-up. --quick
 * uses 100,000 entities and fewer repetitions (for tests); nothing but the
 * JSON lines goes to stdout.
 *
 * Creation is measured twice, each time with a fresh world per repetition:
 * "cold" takes every big block fresh from the kernel, so it includes the
 * first-touch page faults (about 2.4 us per 4 KiB page on a Firecracker VM,
 * i.e. ~40 ns per entity for the ~68 bytes an entity with two 12-byte
 * components occupies); the headline value lets the C library keep freed
 * pages, as a long-running process does, so it shows the ECS's own cost.
 * The plain-array baseline gets the same treatment in both. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bench/bench.h"
#include "twin/clock.h"
#include "twin/ecs.h"

typedef struct BenchPos { float x, y, z; } BenchPos;
typedef struct BenchVel { float x, y, z; } BenchVel;

static const BenchPos pos_default = { 0.0f, 0.0f, 0.0f };
static const BenchVel vel_default = { 1.0f, 0.5f, 0.25f };

enum { MAX_REPS = 15 };

typedef struct bench_cfg {
    uint32_t n;
    int reps;         /* measured repetitions per figure */
    int update_inner; /* update passes per repetition */
    const char *n_label;
} bench_cfg;

/* The kernel both sides run: the ECS hands out the same kind of arrays, so
 * any difference is the cost of storage layout and iteration. Not inlined,
 * so the compiler treats both call sites alike. */
__attribute__((noinline)) static void integrate(BenchPos *restrict p, const BenchVel *restrict v, uint32_t n, float dt)
{
    for (uint32_t i = 0; i < n; i++) {
        p[i].x += v[i].x * dt;
        p[i].y += v[i].y * dt;
        p[i].z += v[i].z * dt;
    }
}

static tw_ecs_world *bench_world(tw_component *pos, tw_component *vel)
{
    tw_ecs_world *w = tw_ecs_world_new(NULL);
    if (!w) return NULL;
    static const tw_field pf[] = { { "p", TW_TYPE_F32, 0, 1, 3, "m", NULL, 0, NULL, 0, NULL } };
    static const tw_field vf[] = { { "v", TW_TYPE_F32, 0, 1, 3, "m/s", NULL, 0, NULL, 0, NULL } };
    tw_ecs_component_desc dp = { "Position", sizeof(BenchPos), 4, pf, 1, &pos_default, NULL };
    tw_ecs_component_desc dv = { "Velocity", sizeof(BenchVel), 4, vf, 1, &vel_default, NULL };
    if (tw_ecs_component_register(w, &dp, pos) || tw_ecs_component_register(w, &dv, vel)) {
        tw_ecs_world_free(w);
        return NULL;
    }
    return w;
}

static double ns_per(uint64_t t0, uint64_t t1, double count) { return (double)(t1 - t0) / count; }

/* ---- update ----------------------------------------------------------------------- */

static int bench_update(const bench_cfg *cfg, double *ecs_ns, double *plain_ns)
{
    tw_component cp, cv;
    tw_ecs_world *w = bench_world(&cp, &cv);
    if (!w) return 1;
    tw_component both[2] = { cp, cv };
    if (tw_ecs_entity_create_bulk(w, both, 2, cfg->n, NULL) != TW_OK) {
        tw_ecs_world_free(w);
        return 1;
    }
    tw_ecs_query q;
    tw_ecs_query_desc qd = { .with = { cp, cv } };
    if (tw_ecs_query_init(w, &q, &qd) != TW_OK) {
        tw_ecs_world_free(w);
        return 1;
    }
    BenchPos *pp = malloc((size_t)cfg->n * sizeof *pp);
    BenchVel *pv = malloc((size_t)cfg->n * sizeof *pv);
    if (!pp || !pv) {
        free(pp);
        free(pv);
        tw_ecs_query_fini(&q);
        tw_ecs_world_free(w);
        return 1;
    }
    for (uint32_t i = 0; i < cfg->n; i++) {
        pp[i] = pos_default;
        pv[i] = vel_default;
    }
    const float dt = 0.01f;
    /* One sample per pass, ECS and plain interleaved pass by pass so that
     * drift and neighbours' load hit both alike; two warm-up rounds first. */
    enum { MAX_SAMPLES = MAX_REPS * 16 };
    double ecs_t[MAX_SAMPLES], plain_t[MAX_SAMPLES];
    int samples = 0;
    for (int r = -2; r < cfg->reps; r++) {
        for (int k = 0; k < cfg->update_inner; k++) {
            uint64_t t0 = tw_clock_monotonic_ns();
            for (tw_ecs_iter it = tw_ecs_query_iter(w, &q); tw_ecs_iter_next(&it);)
                integrate(it.columns[0], it.columns[1], it.count, dt);
            uint64_t t1 = tw_clock_monotonic_ns();
            integrate(pp, pv, cfg->n, dt);
            uint64_t t2 = tw_clock_monotonic_ns();
            if (r < 0 || samples >= MAX_SAMPLES) continue;
            ecs_t[samples] = ns_per(t0, t1, cfg->n);
            plain_t[samples] = ns_per(t1, t2, cfg->n);
            samples++;
        }
    }
    *ecs_ns = bench_median(ecs_t, samples);
    *plain_ns = bench_median(plain_t, samples);
    free(pp);
    free(pv);
    tw_ecs_query_fini(&q);
    tw_ecs_world_free(w);
    return 0;
}

/* ---- creation ---------------------------------------------------------------------- */

enum create_mode { CREATE_WITH, CREATE_BULK, CREATE_ADD };

/* One repetition: a fresh world, n entities made the given way. Returns ns/entity, or -1. */
static double create_once(const bench_cfg *cfg, enum create_mode mode, tw_entity *handles)
{
    tw_component cp, cv;
    tw_ecs_world *w = bench_world(&cp, &cv);
    if (!w) return -1;
    tw_component both[2] = { cp, cv };
    uint32_t n = cfg->n;
    int ok = 1;
    uint64_t t0 = 0, t1 = 0;
    switch (mode) {
    case CREATE_WITH:
        t0 = tw_clock_monotonic_ns();
        for (uint32_t i = 0; i < n; i++)
            if (tw_entity_is_null(tw_ecs_entity_create_with(w, both, 2))) ok = 0;
        t1 = tw_clock_monotonic_ns();
        break;
    case CREATE_BULK:
        t0 = tw_clock_monotonic_ns();
        ok = tw_ecs_entity_create_bulk(w, both, 2, n, NULL) == TW_OK;
        t1 = tw_clock_monotonic_ns();
        break;
    case CREATE_ADD:
        /* The entities exist already; only the two adds are timed. */
        ok = tw_ecs_entity_create_bulk(w, NULL, 0, n, handles) == TW_OK;
        t0 = tw_clock_monotonic_ns();
        for (uint32_t i = 0; ok && i < n; i++)
            if (!tw_ecs_add(w, handles[i], cp) || !tw_ecs_add(w, handles[i], cv)) ok = 0;
        t1 = tw_clock_monotonic_ns();
        break;
    }
    if (ok && tw_ecs_entity_count(w) != n) ok = 0;
    tw_ecs_world_free(w);
    return ok ? ns_per(t0, t1, n) : -1;
}

/* The baseline: what storing the same data in plain arrays costs. */
static double plain_create_once(const bench_cfg *cfg)
{
    uint64_t t0 = tw_clock_monotonic_ns();
    BenchPos *pp = malloc((size_t)cfg->n * sizeof *pp);
    BenchVel *pv = malloc((size_t)cfg->n * sizeof *pv);
    if (!pp || !pv) {
        free(pp);
        free(pv);
        return -1;
    }
    for (uint32_t i = 0; i < cfg->n; i++) {
        pp[i] = pos_default;
        pv[i] = vel_default;
    }
    uint64_t t1 = tw_clock_monotonic_ns();
    /* Read one value back so the fill cannot be optimised away. */
    volatile float sink = pp[cfg->n / 2].x + pv[cfg->n - 1].z;
    (void)sink;
    free(pp);
    free(pv);
    return ns_per(t0, t1, cfg->n);
}

static int median_of(const bench_cfg *cfg, enum create_mode mode, tw_entity *handles, double *out)
{
    double v[MAX_REPS];
    if (create_once(cfg, mode, handles) < 0) return 1; /* warm-up */
    for (int r = 0; r < cfg->reps; r++)
        if ((v[r] = create_once(cfg, mode, handles)) < 0) return 1;
    *out = bench_median(v, cfg->reps);
    return 0;
}

static int plain_median(const bench_cfg *cfg, double *out)
{
    double v[MAX_REPS];
    if (plain_create_once(cfg) < 0) return 1;
    for (int r = 0; r < cfg->reps; r++)
        if ((v[r] = plain_create_once(cfg)) < 0) return 1;
    *out = bench_median(v, cfg->reps);
    return 0;
}

typedef struct create_figures {
    double plain, with, bulk, add;
} create_figures;

static int measure_creates(const bench_cfg *cfg, create_figures *out)
{
    tw_entity *handles = malloc((size_t)cfg->n * sizeof *handles);
    if (!handles) return 1;
    int bad = plain_median(cfg, &out->plain) || median_of(cfg, CREATE_WITH, NULL, &out->with) ||
              median_of(cfg, CREATE_BULK, NULL, &out->bulk) || median_of(cfg, CREATE_ADD, handles, &out->add);
    free(handles);
    return bad;
}

/* Where freed memory goes: back to the kernel at once (cold), or kept in the
 * heap for the next allocation (warm). Process-wide, so restored after. */
static void heap_mode(int warm)
{
#if defined(__GLIBC__)
    if (warm) {
        mallopt(M_MMAP_THRESHOLD, 1 << 30);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    } else {
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    }
#else
    (void)warm;
#endif
}

static void usage(FILE *f)
{
    fprintf(f, "usage: twin bench ecs [--quick]\n"
               "  Measures ECS update, creation and add against plain C arrays; one JSON line per figure.\n"
               "  --quick  100,000 entities and fewer repetitions (for tests)\n");
}

int bench_ecs(int argc, char **argv)
{
    bench_cfg cfg = { 1000000u, 7, 10, "1000000" };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            cfg.n = 100000u;
            cfg.reps = 3;
            cfg.update_inner = 10;
            cfg.n_label = "100000";
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "twin bench ecs: unknown option \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    char extra[512];

    double ecs_ns, plain_ns;
    if (bench_update(&cfg, &ecs_ns, &plain_ns)) goto fail;
    snprintf(extra, sizeof extra, "\"n\":%s,\"reps\":%d,\"passes\":%d", cfg.n_label, cfg.reps, cfg.update_inner);
    bench_line l = { "ecs.update_1m", ecs_ns, "ns/entity", plain_ns, "plain C arrays, same loop", "ratio <= 1.2",
                     ecs_ns <= 1.2 * plain_ns, extra };
    bench_emit(stdout, &l);

    create_figures cold, warm;
    heap_mode(0);
    int bad = measure_creates(&cfg, &cold);
    heap_mode(1);
    bad = bad || measure_creates(&cfg, &warm);
    heap_mode(0);
    if (bad) goto fail;

    const char *plain_is = "malloc + fill two plain arrays";
    snprintf(extra, sizeof extra,
             "\"n\":%s,\"reps\":%d,\"components\":2,\"memory\":\"heap pages reused\","
             "\"cold_value\":%.6g,\"cold_baseline\":%.6g",
             cfg.n_label, cfg.reps, cold.with, cold.plain);
    bench_line lc = { "ecs.create_1m", warm.with, "ns/entity", warm.plain, plain_is, "<= 50 ns/entity",
                      warm.with <= 50.0, extra };
    bench_emit(stdout, &lc);
    snprintf(extra, sizeof extra,
             "\"n\":%s,\"reps\":%d,\"components\":2,\"memory\":\"heap pages reused\","
             "\"cold_value\":%.6g,\"cold_baseline\":%.6g",
             cfg.n_label, cfg.reps, cold.bulk, cold.plain);
    bench_line lb = { "ecs.create_bulk_1m", warm.bulk, "ns/entity", warm.plain, plain_is, "<= 20 ns/entity",
                      warm.bulk <= 20.0, extra };
    bench_emit(stdout, &lb);
    snprintf(extra, sizeof extra,
             "\"n\":%s,\"reps\":%d,\"components\":2,\"memory\":\"heap pages reused\","
             "\"cold_value\":%.6g,\"cold_baseline\":%.6g",
             cfg.n_label, cfg.reps, cold.add, cold.with);
    bench_line la = { "ecs.add_1m", warm.add, "ns/entity", warm.with, "create_with of the same two components",
                      NULL, -1, extra };
    bench_emit(stdout, &la);
    return 0;

fail:
    heap_mode(0);
    fprintf(stderr, "twin bench ecs: out of memory while setting up the benchmark\n");
    return 1;
}
