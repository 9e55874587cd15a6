/* `twin bench replay`: replay throughput and seek latency.
 *
 *   replay.seek_1h, replay.seek_24h   median latency of a seek to a random time in a
 *                                     synthesised log of 1,000 sensors at 1 Hz for 1 and
 *                                     24 hours (target <= 50 ms), and the 24 h / 1 h ratio
 *                                     (target <= 2: seek cost does not grow with the log)
 *   replay.throughput                 samples applied per second while playing, and
 *                                     simulated over wall time
 *
 * The logs are made here: a world of 1,000 rooms (Transform, Thermal, Air),
 * one sensor per room writing Thermal.temperature, a keyframe every 60 s of
 * simulated time (dt 0.1 s). Values are float32 (as most sensors send them),
 * so a sample takes 6 bytes. They are written under $TMPDIR (or /tmp) and
 * removed afterwards. --quick uses 1 h and 2 h logs. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "twin/clock.h"
#include "twin/rng.h"
#include "twin/replay.h"

enum { SENSORS = 1000 };

typedef struct bench_ctx {
    tw_component thermal;
    tw_entity rooms[SENSORS];
    uint32_t generation;          /* of the player world the rooms were looked up in */
} bench_ctx;

static tw_status build_world(tw_ecs_world **out_w, tw_sim **out_s, uint32_t keyframe_every)
{
    tw_ecs_world *w = tw_ecs_world_new(NULL);
    if (!w) return TW_ERR_NOMEM;
    tw_sim_components c;
    tw_status st = tw_sim_register_components(w, &c);
    tw_entity site = tw_ecs_entity_create(w);
    if (!st) st = tw_ecs_entity_set_name(w, site, "site");
    tw_component comps[3] = { c.transform, c.thermal, c.air };
    for (uint32_t i = 0; i < SENSORS && !st; i++) {
        tw_entity e = tw_ecs_entity_create_with(w, comps, 3);
        char name[32];
        snprintf(name, sizeof name, "room-%04u", i);
        if ((st = tw_ecs_entity_set_name(w, e, name)) || (st = tw_ecs_entity_set_parent(w, e, site))) break;
        tw_ecs_entity_set_kind(w, e, TW_KIND_SPACE);
        Transform *t = tw_ecs_get(w, e, c.transform);
        t->position[0] = (float)(i % 40) * 5.0f;
        t->position[1] = (float)(i / 40) * 5.0f;
    }
    tw_sim *s = NULL;
    tw_sim_desc sd = { .dt = 0.1, .seed = 7, .start_time = 1717372800.0, .rebuild_every_ticks = keyframe_every };
    tw_diag diag;
    tw_diag_clear(&diag);
    if (!st) st = tw_sim_new(w, &sd, &s, &diag);
    if (st) {
        tw_ecs_world_free(w);
        return st;
    }
    *out_w = w;
    *out_s = s;
    return TW_OK;
}

/* Writes hours of 1 Hz samples of every sensor, with keyframes, to path. */
static tw_status synthesise(const char *path, double hours, double *write_s, uint64_t *bytes)
{
    const uint32_t keyframe_every = 600;
    tw_ecs_world *w;
    tw_sim *sim;
    tw_status st = build_world(&w, &sim, keyframe_every);
    if (st) return st;
    tw_replay_header h;
    tw_replay_header_init(&h, sim, 0x62656e6368ull, "bench-1000-sensors");
    tw_replay_recorder_desc rd = { .path = path, .header = &h, .flush_bytes = (size_t)8 << 20, .flush_interval = 1e9 };
    tw_replay_recorder *rec;
    tw_diag diag;
    tw_diag_clear(&diag);
    double t0 = tw_clock_monotonic_s();
    if ((st = tw_replay_recorder_open(&rd, &rec, &diag))) goto out;
    uint32_t ids[SENSORS];
    for (uint32_t i = 0; i < SENSORS && !st; i++) {
        char name[32];
        snprintf(name, sizeof name, "site/room-%04u/temp", i);
        st = tw_replay_recorder_sensor(rec, name, &ids[i]);
    }
    tw_rng rng;
    tw_rng_seed(&rng, 1, 2);
    uint64_t seconds = (uint64_t)llround(hours * 3600.0);
    tw_sim_state ss;
    tw_sim_state_get(sim, &ss);
    for (uint64_t sec = 0; sec <= seconds && !st; sec++) {
        uint64_t tick = sec * 10;
        if (tick % keyframe_every == 0) {
            /* The world stands for one of this size at this time: its
             * content does not matter to the cost of a seek. */
            ss.tick = tick;
            if ((st = tw_sim_state_set(sim, &ss)) || (st = tw_replay_recorder_keyframe(rec, sim, NULL, 0))) break;
        }
        if (sec == seconds) break;
        tw_replay_sample s = { .time = h.start_time + (double)sec };
        for (uint32_t i = 0; i < SENSORS && !st; i++) {
            s.sensor_id = ids[i];
            s.value = (double)(float)(20.0 + 4.0 * tw_rng_uniform(&rng));
            st = tw_replay_recorder_input(rec, tick, &s);
        }
        if (!st) st = tw_replay_recorder_tick(rec, tick + 10);
    }
    tw_replay_recorder_stats rs;
    tw_replay_recorder_get_stats(rec, &rs);
    tw_status cst = tw_replay_recorder_close(rec, seconds * 10, &diag);
    if (!st) st = cst;
    *bytes = rs.bytes;
out:
    *write_s = tw_clock_monotonic_s() - t0;
    tw_sim_free(sim);
    tw_ecs_world_free(w);
    return st;
}

static void on_input(void *user, tw_ecs_world *w, tw_sim *sim, const tw_replay_sample *s)
{
    (void)sim;
    bench_ctx *b = user;
    uint32_t i = s->sensor_id - 1;
    if (i >= SENSORS || b->thermal.id == 0) return; /* before the first rebind */
    Thermal *t = tw_ecs_get(w, b->rooms[i], b->thermal);
    if (t) t->temperature = (float)s->value;
}

/* Rooms are looked up again in each new world the player makes. */
static void rebind(bench_ctx *b, tw_replay_player *p)
{
    if (b->generation == tw_replay_player_generation(p)) return;
    tw_ecs_world *w = tw_replay_player_world(p);
    b->thermal = tw_ecs_component_lookup(w, "Thermal");
    for (uint32_t i = 0; i < SENSORS; i++) {
        char path[48];
        snprintf(path, sizeof path, "site/room-%04u", i);
        b->rooms[i] = tw_ecs_lookup_path(w, path);
    }
    b->generation = tw_replay_player_generation(p);
}

typedef struct seek_result {
    double median_ms, max_ms, open_ms, write_s;
    uint64_t bytes;
    double samples_per_s, sim_over_wall;
} seek_result;

static int measure(const char *dir, double hours, int seeks, int throughput, seek_result *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench-%gh.twlog", dir, hours);
    memset(out, 0, sizeof *out);
    tw_status st = synthesise(path, hours, &out->write_s, &out->bytes);
    if (st) {
        fprintf(stderr, "twin bench replay: writing the %g h log failed: %s\n", hours, tw_status_str(st));
        unlink(path);
        return 1;
    }
    double t0 = tw_clock_monotonic_s();
    tw_replay_log *log;
    tw_diag diag;
    tw_diag_clear(&diag);
    if ((st = tw_replay_log_open(path, NULL, &log, &diag))) {
        fprintf(stderr, "twin bench replay: opening the %g h log failed: %s\n", hours, diag.message);
        unlink(path);
        return 1;
    }
    out->open_ms = (tw_clock_monotonic_s() - t0) * 1e3;
    bench_ctx b = { .generation = 0 };
    /* The callback finds rooms by the player's current world. */
    tw_replay_player_desc pd = { .on_input = on_input, .user = &b };
    tw_replay_player *p;
    tw_replay_player_new(log, &pd, &p, &diag);
    uint64_t end = tw_replay_log_get_info(log)->end_tick;
    tw_rng rng;
    tw_rng_seed(&rng, 42, 1);
    double *lat = calloc((size_t)seeks, sizeof *lat);
    int rc = 0;
    /* Warm the page cache and the allocator the way a viewer would. */
    tw_replay_player_seek(p, end / 2, &diag);
    rebind(&b, p);
    for (int i = 0; i < seeks && !rc; i++) {
        uint64_t target = (uint64_t)(tw_rng_uniform(&rng) * (double)end);
        /* Restore first so the room pointers match the world the inputs land in. */
        double a = tw_clock_monotonic_s();
        int64_t k = tw_replay_log_keyframe_find(log, target);
        uint64_t kt;
        tw_replay_log_keyframe_at(log, (uint32_t)k, &kt, NULL);
        st = tw_replay_player_seek(p, kt, &diag);
        rebind(&b, p);
        if (!st) st = tw_replay_player_seek(p, target, &diag);
        lat[i] = (tw_clock_monotonic_s() - a) * 1e3;
        if (st) {
            fprintf(stderr, "twin bench replay: a seek failed: %s\n", diag.message);
            rc = 1;
        }
        if (lat[i] > out->max_ms) out->max_ms = lat[i];
    }
    out->median_ms = bench_median(lat, seeks);
    free(lat);
    if (throughput && !rc) {
        tw_replay_player_stats s0, s1;
        st = tw_replay_player_seek(p, 0, &diag);
        rebind(&b, p);
        tw_replay_player_get_stats(p, &s0);
        uint64_t ticks = end < 36000 ? end : 36000; /* an hour of the log */
        double a = tw_clock_monotonic_s();
        for (uint64_t i = 0; i < ticks && !st; i++) {
            st = tw_replay_player_step(p, &diag);
            rebind(&b, p);
        }
        double wall = tw_clock_monotonic_s() - a;
        tw_replay_player_get_stats(p, &s1);
        out->samples_per_s = wall > 0 ? (double)(s1.samples_applied - s0.samples_applied) / wall : 0;
        out->sim_over_wall = wall > 0 ? (double)ticks * 0.1 / wall : 0;
        if (st) rc = 1;
    }
    tw_replay_player_free(p);
    tw_replay_log_close(log);
    unlink(path);
    return rc;
}

int bench_replay(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else {
            fprintf(stderr, "twin bench replay: unknown option '%s' (known: --quick)\n", argv[i]);
            return 2;
        }
    }
    const char *tmp = getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/twin-bench-replay-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "twin bench replay: cannot make a temporary folder under %s\n", tmp ? tmp : "/tmp");
        return 1;
    }
    double small_h = 1.0, big_h = quick ? 2.0 : 24.0;
    int seeks = quick ? 9 : 41;
    seek_result a, b;
    int rc = measure(dir, small_h, seeks, 1, &a);
    if (!rc) rc = measure(dir, big_h, seeks, 0, &b);
    rmdir(dir);
    if (rc) return rc;

    char extra[320];
    snprintf(extra, sizeof extra,
             "\"sensors\":%d,\"hours\":%g,\"log_bytes\":%llu,\"seeks\":%d,\"max_ms\":%.2f,\"open_ms\":%.2f,"
             "\"write_s\":%.2f,\"keyframe_s\":60",
             SENSORS, small_h, (unsigned long long)a.bytes, seeks, a.max_ms, a.open_ms, a.write_s);
    bench_line l1 = { .bench = "replay.seek_1h", .value = a.median_ms, .unit = "ms", .baseline = 50.0,
                      .baseline_name = "the target latency (50 ms)", .target = "median <= 50 ms",
                      .met = a.median_ms <= 50.0, .extra_json = extra };
    bench_emit(stdout, &l1);
    char name[32];
    snprintf(name, sizeof name, "replay.seek_%gh", big_h);
    snprintf(extra, sizeof extra,
             "\"sensors\":%d,\"hours\":%g,\"log_bytes\":%llu,\"seeks\":%d,\"max_ms\":%.2f,\"open_ms\":%.2f,"
             "\"write_s\":%.2f,\"ratio_to_1h_target\":\"<= 2\",\"ratio_met\":%s",
             SENSORS, big_h, (unsigned long long)b.bytes, seeks, b.max_ms, b.open_ms, b.write_s,
             b.median_ms <= 2.0 * a.median_ms ? "true" : "false");
    bench_line l2 = { .bench = name, .value = b.median_ms, .unit = "ms", .baseline = a.median_ms,
                      .baseline_name = "the same seek into the 1 h log",
                      .target = "<= 50 ms and ratio <= 2",
                      .met = b.median_ms <= 50.0 && b.median_ms <= 2.0 * a.median_ms, .extra_json = extra };
    bench_emit(stdout, &l2);
    snprintf(extra, sizeof extra, "\"sim_over_wall\":%.0f,\"sensors\":%d,\"hz\":1,\"sim_s\":3600", a.sim_over_wall,
             SENSORS);
    bench_line l3 = { .bench = "replay.throughput", .value = a.samples_per_s, .unit = "samples/s",
                      .baseline = 1000.0, .baseline_name = "real time (1,000 sensors at 1 Hz)",
                      .target = NULL, .met = -1, .extra_json = extra };
    bench_emit(stdout, &l3);
    return 0;
}
