/* `twin bench render`: the renderer and the view that feeds it, on whatever
 * Vulkan device exists (lavapipe without a GPU), 1280x720 with readback.
 *
 *   render.cubes_10k, render.cubes_100k  the renderer's frame (draw list, frame,
 *                            readback) for N unit cubes vs a bare baseline in the
 *                            same run (clear, one instanced draw of the same
 *                            triangles with a trivial shader, readback), frames
 *                            interleaved (tw_render_bench_run). Target ratio <= 1.2.
 *   render.office            scenes/office.twin.json at 10:00 from the home camera,
 *                            the whole path (tw_view_build, frame, readback) vs the
 *                            bare path drawing the office's own triangles, baked to
 *                            world space, in one draw (tw_render_bench_bare).
 *   render.upload_100k       CPU ms per frame to build and upload the draw list of
 *                            100,000 elements while 1 % of them move and the camera
 *                            turns (the CPU part of tw_render_frame; the view's
 *                            steady and orbiting figures beside it, with
 *                            tw_view_build), vs a plain memcpy of the draw list's
 *                            bytes. Target <= 1 ms.
 *   render.steady_alloc      heap and device allocations by the view and the
 *                            renderer over frames of the running office (colour
 *                            by data, a selection, moving people). Target 0.
 *
 * Warm-up frames run first (the first frame compiles shaders, ~146 ms on
 * lavapipe). --quick: fewer frames, no 100k cubes (for tests). Exit 0 when
 * every line was measured (targets missed or not), 1 when a measurement
 * failed, 77 when there is no Vulkan device at all. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "twin/app.h"
#include "twin/clock.h"
#include "twin/view.h"

enum { W = 1280, H = 720 };

static void fail(const char *what, tw_status st)
{
    fprintf(stderr, "twin bench render: %s failed: %s\n", what, tw_status_str(st));
}

static int bench_cubes(tw_render *r, uint32_t n, uint32_t frames, const char *name)
{
    tw_render_bench_desc d = { .instances = n, .width = W, .height = H, .frames = frames, .warmup = 3 };
    tw_render_bench_result res;
    tw_status st = tw_render_bench_run(r, &d, &res);
    if (st) {
        fail(name, st);
        return 1;
    }
    /* The headline is the default (outlines by level of detail); forced on
     * and off follow as lines of their own, each against the same baseline. */
    char extra[512];
    snprintf(extra, sizeof extra,
             "\"instances\":%u,\"outlined\":%u,\"triangles\":%llu,\"frames\":%u,\"edges\":\"auto\","
             "\"no_edges_ms\":%.3f,\"no_edges_ratio\":%.3f,\"edges_on_ms\":%.3f,\"edges_on_ratio\":%.3f,"
             "\"cpu_ms\":%.3f,\"steady_allocations\":%llu,\"measures\":\"tw_render_frame + readback\"",
             n, res.outlined, (unsigned long long)res.triangles, frames, res.no_edges_ms, res.no_edges_ratio,
             res.edges_ms, res.edges_ratio, res.cpu_ms, (unsigned long long)res.steady_allocations);
    bench_line line = { .bench = name,
                        .value = res.engine_ms,
                        .unit = "ms/frame",
                        .baseline = res.baseline_ms,
                        .baseline_name = "bare Vulkan: clear, one instanced draw of the same cubes, readback",
                        .target = "ratio <= 1.2",
                        .met = res.ratio <= 1.2,
                        .extra_json = extra };
    bench_emit(stdout, &line);
    char sub_name[96];
    const char *modes[2] = { "on", "off" };
    double ms[2] = { res.edges_ms, res.no_edges_ms };
    for (int k = 0; k < 2; k++) {
        snprintf(sub_name, sizeof sub_name, "%s.edges_%s", name, modes[k]);
        snprintf(extra, sizeof extra, "\"instances\":%u,\"outlined\":%u,\"frames\":%u,\"edges\":\"%s\"", n,
                 k == 0 ? n : 0u, frames, modes[k]);
        bench_line sub = { .bench = sub_name,
                           .value = ms[k],
                           .unit = "ms/frame",
                           .baseline = res.baseline_ms,
                           .baseline_name = "bare Vulkan: clear, one instanced draw of the same cubes, readback",
                           .target = "ratio <= 1.2",
                           .met = res.baseline_ms > 0.0 && ms[k] / res.baseline_ms <= 1.2,
                           .extra_json = extra };
        bench_emit(stdout, &sub);
    }
    return 0;
}

static const char *office_path(char *buf, size_t size)
{
    const char *dir = getenv("TWIN_SCENE_DIR");
    if (dir)
        snprintf(buf, size, "%s/office.twin.json", dir);
    else
        snprintf(buf, size, "%s/scenes/office.twin.json", TWIN_SOURCE_DIR);
    return buf;
}

/* The office at 10:00 with its people in. */
static tw_status office_open(tw_app_session *s)
{
    char path[1024];
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_app_open_desc od = { .scene_path = office_path(path, sizeof path) };
    tw_status st = tw_app_session_open(&od, s, &diag);
    if (st) {
        fprintf(stderr, "twin bench render: %s\n", diag.message);
        return st;
    }
    for (int k = 0; k < 360000 && !st; k++) {
        st = tw_sim_step(s->sim);
        tw_sim_events_clear(s->sim);
    }
    if (st) tw_app_session_close(s);
    return st;
}

static int bench_office(tw_render *r, uint32_t frames)
{
    tw_app_session s;
    tw_status st = office_open(&s);
    if (st) {
        fail("loading the office", st);
        return 1;
    }
    tw_view *v = NULL;
    tw_render_target t = { 0 };
    uint8_t *px = malloc((size_t)W * H * 4);
    double *te = calloc(frames, sizeof *te), *tn = calloc(frames, sizeof *tn), *tb = calloc(frames, sizeof *tb);
    tw_render_bench_bare *bare = NULL;
    tw_diag diag;
    tw_diag_clear(&diag);
    int rc = 1;
    if (!px || !te || !tn || !tb) goto done;
    if ((st = tw_view_new(r, s.world, s.sim, &v, &diag)) ||
        (st = tw_render_target_create(r, &(tw_render_target_desc){ .width = W, .height = H }, &t))) {
        fail("setting up the office view", st);
        goto done;
    }
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    tw_view_camera_preset(v, "home", (float)W / (float)H, &dl.camera);
    /* The baseline: the office's own triangles, baked to world space, one
     * draw with the trivial shader (tw_render_bench_bare). */
    tw_view_style style = { 0 }, plain = { .no_edges = 1 };
    if ((st = tw_view_build(v, &style, 0.5, tw_sim_time(s.sim), &dl)) ||
        (st = tw_render_bench_bare_new(r, &dl, W, H, &bare))) {
        fail("the office's baseline", st);
        goto done;
    }
    /* Frames rotate through the engine with and without element edges and
     * the bare path, so that the machine's noise hits all three alike. */
    for (uint32_t k = 0; k < 3 + frames && !st; k++) {
        for (int pass = 0; pass < 3 && !st; pass++) {
            double t0 = tw_clock_monotonic_s();
            if (pass == 2) {
                st = tw_render_bench_bare_frame(r, bare);
            } else {
                st = tw_view_build(v, pass ? &plain : &style, 0.5, tw_sim_time(s.sim), &dl);
                if (!st) st = tw_render_frame(r, t, &dl, NULL);
                if (!st) st = tw_render_target_read(r, t, px, (size_t)W * H * 4);
            }
            if (k >= 3) (pass == 2 ? tb : pass ? tn : te)[k - 3] = (tw_clock_monotonic_s() - t0) * 1e3;
        }
    }
    if (st) {
        fail("drawing the office", st);
        goto done;
    }
    tw_view_stats vs;
    tw_view_get_stats(v, &vs);
    double value = bench_median(te, (int)frames), no_edges = bench_median(tn, (int)frames);
    double base = bench_median(tb, (int)frames);
    char extra[512];
    snprintf(extra, sizeof extra,
             "\"instances\":%u,\"triangles\":%llu,\"frames\":%u,\"baseline_triangles\":%llu,\"no_edges_ms\":%.3f,"
             "\"no_edges_ratio\":%.3f,"
             "\"measures\":\"tw_view_build + tw_render_frame + readback, home camera, 10:00\"",
             vs.instances, (unsigned long long)vs.triangles, frames,
             (unsigned long long)tw_render_bench_bare_triangles(bare), no_edges, no_edges / base);
    bench_line line = { .bench = "render.office",
                        .value = value,
                        .unit = "ms/frame",
                        .baseline = base,
                        .baseline_name = "bare Vulkan: clear, one draw of the office's triangles (baked to world "
                                         "space) with a trivial shader, readback",
                        .target = "ratio <= 1.2",
                        .met = value / base <= 1.2,
                        .extra_json = extra };
    bench_emit(stdout, &line);
    rc = 0;
done:
    tw_render_bench_bare_free(r, bare);
    if (t.id) tw_render_target_destroy(r, t);
    tw_view_free(v);
    free(px);
    free(te);
    free(tn);
    free(tb);
    tw_app_session_close(&s);
    return rc;
}

static int quality_good(void *user, tw_entity e)
{
    (void)user;
    (void)e;
    return 1;
}

/* The camera turned by deg degrees about the vertical through its target. */
static void orbit(tw_render_camera *cam, float deg)
{
    float a = deg * 0.017453293f, dx = cam->eye[0] - cam->target[0], dy = cam->eye[1] - cam->target[1];
    cam->eye[0] = cam->target[0] + dx * cosf(a) - dy * sinf(a);
    cam->eye[1] = cam->target[1] + dx * sinf(a) + dy * cosf(a);
}

/* 100,000 equipment boxes on a grid, in a world of their own (no sim).
 * Scenarios, each the CPU time of tw_view_build (where the view builds the
 * list) plus that of tw_render_frame:
 *   steady   the view's list, nothing changed, the camera still;
 *   orbit    the same, the camera turning 1 degree a frame (the outline
 *            level of detail is decided again for every element);
 *   moving   a copy of the list in which 1,000 elements (1 %) move every
 *            frame while the camera turns: the headline, what a viewer
 *            over a busy site pays per frame;
 *   full     that copy without versions: every record written every frame
 *            (what a list of another identity costs, e.g. after a rescan). */
static int bench_upload(tw_render *r, uint32_t n, uint32_t frames)
{
    tw_ecs_world *w = tw_ecs_world_new(NULL);
    if (!w) return 1;
    tw_sim_components c;
    tw_status st = tw_sim_register_components(w, &c);
    tw_component comps[2] = { c.transform, c.shape };
    enum { S_STEADY, S_ORBIT, S_MOVING, S_FULL, S_COUNT };
    tw_entity *es = malloc((size_t)n * sizeof *es);
    double *times = calloc((size_t)S_COUNT * 3 * frames, sizeof *times); /* view, render, sum per scenario */
    double *tm = calloc(frames, sizeof *tm), *tf = calloc(frames, sizeof *tf);
    tw_render_instance *own = calloc(n, sizeof *own);
    uint32_t *versions = calloc(n, sizeof *versions);
    tw_view *v = NULL;
    tw_render_target t = { 0 };
    int rc = 1;
    if (!es || !times || !tm || !tf || !own || !versions) goto done;
    if (!st) st = tw_ecs_entity_create_bulk(w, comps, 2, n, es);
    uint32_t side = (uint32_t)ceil(sqrt((double)n));
    for (uint32_t k = 0; k < n && !st; k++) {
        Transform *tr = tw_ecs_get(w, es[k], c.transform);
        tr->position[0] = 1.5f * (float)(k % side);
        tr->position[1] = 1.5f * (float)(k / side);
        tw_ecs_entity_set_kind(w, es[k], TW_KIND_EQUIPMENT);
    }
    tw_diag diag;
    tw_diag_clear(&diag);
    if (!st) st = tw_view_new(r, w, NULL, &v, &diag);
    /* A small target: the figure is CPU time, the GPU's fill is not what is measured. */
    if (!st) st = tw_render_target_create(r, &(tw_render_target_desc){ .width = 320, .height = 180 }, &t);
    if (st) {
        fail("setting up 100,000 elements", st);
        goto done;
    }
    tw_render_drawlist dl, mine; /* the view's list; the copy the moving and full scenarios change */
    memset(&dl, 0, sizeof dl);
    memset(&mine, 0, sizeof mine);
    tw_view_camera_preset(v, "home", 16.0f / 9.0f, &dl.camera);
    tw_view_style style = { 0 };
    uint32_t uploaded[S_COUNT] = { 0 };
    for (int sc = 0; sc < S_COUNT && !st; sc++) {
        double *tv = times + (size_t)sc * 3 * frames, *tc = tv + frames, *ts = tc + frames;
        for (uint32_t k = 0; k < 2 + frames && !st; k++) {
            double t0 = tw_clock_monotonic_s(), t1 = t0;
            const tw_render_drawlist *draw = &dl;
            if (sc <= S_ORBIT) {
                if (sc == S_ORBIT) orbit(&dl.camera, 1.0f);
                st = tw_view_build(v, &style, 1.0, 0.0, &dl);
                t1 = tw_clock_monotonic_s();
            } else {
                if (k == 0) { /* the copy, once per scenario */
                    memcpy(own, dl.instances, (size_t)n * sizeof *own);
                    mine = dl;
                    mine.instances = own;
                    mine.list_id = sc == S_MOVING ? tw_render_list_id(r) : 0;
                    mine.instance_versions = sc == S_MOVING ? versions : NULL;
                }
                orbit(&mine.camera, 1.0f);
                /* 1 % of the elements move a little, spread over the list. */
                for (uint32_t j = 0; j < n / 100; j++) {
                    uint32_t i = (j * 100 + k * 7) % n;
                    own[i].transform[3] += (k & 1) ? 0.01f : -0.01f;
                    versions[i]++;
                }
                draw = &mine;
            }
            tw_render_frame_stats fs;
            if (!st) st = tw_render_frame(r, t, draw, &fs);
            if (k >= 2 && !st) {
                tv[k - 2] = (t1 - t0) * 1e3;
                tc[k - 2] = fs.cpu_ms;
                ts[k - 2] = tv[k - 2] + fs.cpu_ms;
                uploaded[sc] = fs.records_uploaded;
            }
            if (sc == S_STEADY && k >= 2) {
                /* The same bytes, copied plainly (after the frame: the cache holds what it holds). */
                double t2 = tw_clock_monotonic_s();
                memcpy(own, dl.instances, (size_t)n * sizeof *own);
                tm[k - 2] = (tw_clock_monotonic_s() - t2) * 1e3;
            }
        }
    }
    /* A style change makes the view rewrite every instance (a full pass):
     * alternate a quality callback on and off. */
    for (uint32_t k = 0; k < frames && !st; k++) {
        tw_view_style alt = { .quality = (k & 1) ? NULL : quality_good };
        double t0 = tw_clock_monotonic_s();
        st = tw_view_build(v, &alt, 1.0, 0.0, &dl);
        tf[k] = (tw_clock_monotonic_s() - t0) * 1e3;
    }
    if (!st) tw_render_wait_idle(r);
    if (st) {
        fail("drawing 100,000 elements", st);
        goto done;
    }
    double med[S_COUNT];
    for (int sc = 0; sc < S_COUNT; sc++) med[sc] = bench_median(times + ((size_t)sc * 3 + 2) * frames, (int)frames);
    double view_ms = bench_median(times, (int)frames), cpu_ms = bench_median(times + frames, (int)frames);
    double base = bench_median(tm, (int)frames), full_view_ms = bench_median(tf, (int)frames);
    char extra[1024];
    snprintf(extra, sizeof extra,
             "\"elements\":%u,\"frames\":%u,\"scenario\":\"1%% of the elements move every frame, the camera turns\","
             "\"moved_per_frame\":%u,\"records_uploaded\":%u,\"bytes_full_list\":%zu,"
             "\"steady_ms\":%.3f,\"steady_view_build_ms\":%.3f,\"steady_render_cpu_ms\":%.3f,\"orbit_ms\":%.3f,"
             "\"full_upload_ms\":%.3f,\"view_full_pass_ms\":%.3f,\"full_pass_value\":%.3f,"
             "\"measures\":\"CPU time of tw_render_frame (+ tw_view_build in steady and orbit)\"",
             n, frames, n / 100, uploaded[S_MOVING], (size_t)n * sizeof *own, med[S_STEADY], view_ms, cpu_ms,
             med[S_ORBIT], med[S_FULL], full_view_ms, full_view_ms + med[S_FULL]);
    char name[64];
    snprintf(name, sizeof name, "render.upload_%uk", n / 1000);
    bench_line line = { .bench = name,
                        .value = med[S_MOVING],
                        .unit = "ms/frame",
                        .baseline = base,
                        .baseline_name = "memcpy of the draw list's bytes",
                        .target = "<= 1 ms",
                        .met = med[S_MOVING] <= 1.0 && med[S_ORBIT] <= 1.0 && med[S_STEADY] <= 1.0,
                        .extra_json = extra };
    bench_emit(stdout, &line);
    rc = 0;
done:
    if (t.id) tw_render_target_destroy(r, t);
    tw_view_free(v);
    tw_ecs_world_free(w);
    free(es);
    free(times);
    free(tm);
    free(tf);
    free(own);
    free(versions);
    return rc;
}

/* Frames of the running office: the sim steps between them (people move,
 * doors swing, alarms come and go), the view colours by temperature and
 * outlines a room. Counts what the view and the renderer allocate. */
static int bench_steady(tw_render *r, uint32_t frames)
{
    tw_app_session s;
    tw_status st = office_open(&s);
    if (st) {
        fail("loading the office", st);
        return 1;
    }
    tw_view *v = NULL;
    tw_render_target t = { 0 };
    tw_diag diag;
    tw_diag_clear(&diag);
    int rc = 1;
    if ((st = tw_view_new(r, s.world, s.sim, &v, &diag)) ||
        (st = tw_render_target_create(r, &(tw_render_target_desc){ .width = 320, .height = 180 }, &t))) {
        fail("setting up the office view", st);
        goto done;
    }
    tw_render_drawlist dl;
    memset(&dl, 0, sizeof dl);
    tw_view_camera_preset(v, "home", 16.0f / 9.0f, &dl.camera);
    tw_view_style style = { .colorby = "Thermal.temperature",
                            .selected = tw_ecs_lookup_path(s.world, "hq/office/floor-2/room-203") };
    uint64_t view0 = 0, rend0 = 0;
    for (uint32_t k = 0; k < 5 + frames && !st; k++) {
        if (k == 5) {
            tw_view_stats vs;
            tw_render_counters rc0;
            tw_view_get_stats(v, &vs);
            tw_render_get_counters(r, &rc0);
            view0 = vs.heap_allocations;
            rend0 = rc0.heap_allocations + rc0.gpu_allocations;
        }
        for (int j = 0; j < 10 && !st; j++) {
            st = tw_sim_step(s.sim);
            tw_sim_events_clear(s.sim);
        }
        if (!st) st = tw_view_build(v, &style, 0.5, tw_sim_time(s.sim), &dl);
        if (!st) st = tw_render_frame(r, t, &dl, NULL);
    }
    if (!st) tw_render_wait_idle(r);
    if (st) {
        fail("the steady-state frames", st);
        goto done;
    }
    tw_view_stats vs;
    tw_render_counters rc1;
    tw_view_get_stats(v, &vs);
    tw_render_get_counters(r, &rc1);
    uint64_t view_allocs = vs.heap_allocations - view0, rend_allocs = rc1.heap_allocations + rc1.gpu_allocations - rend0;
    char extra[256];
    snprintf(extra, sizeof extra,
             "\"frames\":%u,\"view_allocations\":%llu,\"render_allocations\":%llu,"
             "\"measures\":\"office, 10 ticks between frames, colour by Thermal.temperature, a selection\"",
             frames, (unsigned long long)view_allocs, (unsigned long long)rend_allocs);
    bench_line line = { .bench = "render.steady_alloc",
                        .value = (double)(view_allocs + rend_allocs),
                        .unit = "allocations",
                        .baseline = 0,
                        .baseline_name = "none: the target is zero",
                        .target = "0 allocations",
                        .met = view_allocs + rend_allocs == 0,
                        .extra_json = extra };
    bench_emit(stdout, &line);
    rc = 0;
done:
    if (t.id) tw_render_target_destroy(r, t);
    tw_view_free(v);
    tw_app_session_close(&s);
    return rc;
}

int bench_render(int argc, char **argv)
{
    int quick = 0;
    const char *only = NULL; /* one line, by the name after "render." */
    static const char *const names[] = { "cubes_10k", "cubes_100k", "office", "upload_100k", "steady_alloc" };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = 1;
            continue;
        }
        if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i];
            int known = 0;
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) known |= !strcmp(only, names[k]);
            if (known) continue;
        }
        fprintf(stderr, "usage: twin bench render [--quick] [--only cubes_10k|cubes_100k|office|upload_100k|"
                        "steady_alloc]\n");
        return 2;
    }
    tw_log log = { 0 };
    tw_log_set_level(&log, TW_LOG_WARN);
    tw_render *r;
    tw_status st = tw_render_new(&(tw_render_desc){ .log = &log }, &r);
    if (st == TW_ERR_UNSUPPORTED) {
        fprintf(stderr, "twin bench render: no Vulkan device on this machine (install mesa-vulkan-drivers for "
                        "lavapipe); skipped\n");
        return 77;
    }
    if (st) {
        fail("starting the renderer", st);
        return 1;
    }
    int rc = 0;
#define WANT(name) (!only || !strcmp(only, name))
    if (WANT("cubes_10k")) rc |= bench_cubes(r, 10000, quick ? 5 : 40, "render.cubes_10k");
    if (!quick && WANT("cubes_100k")) rc |= bench_cubes(r, 100000, 10, "render.cubes_100k");
    if (WANT("office")) rc |= bench_office(r, quick ? 5 : 40);
    if (WANT("upload_100k")) rc |= bench_upload(r, 100000, quick ? 3 : 15);
    if (WANT("steady_alloc")) rc |= bench_steady(r, quick ? 20 : 100);
#undef WANT
    tw_render_free(r);
    return rc ? 1 : 0;
}
