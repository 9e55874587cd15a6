/* tests/viewer: window targets on a real display (viewer_test.sh runs this
 * under a private Xvfb): the swapchain through SDL's surface, presenting,
 * resizing through the window system, minimise (a 0x0 size skips frames),
 * picking and screenshots from a window target, several windows one after
 * another, all with the validation layer on. Skips (77) without a display. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "twin/platform.h"
#include "twin/render.h"
#include "twin/render_geom.h"

#include "render_log.h"

typedef struct win {
    test_render_log rl;
    tw_platform *p;
    tw_render *r;
    tw_render_target t;
    tw_render_mesh box;
} win;

/* 0: ready; -1: skipped or failed (already reported). */
static int win_open(win *w, uint32_t width, uint32_t height)
{
    memset(w, 0, sizeof *w);
    test_render_log_init(&w->rl);
    tw_diag d;
    tw_diag_clear(&d);
    tw_platform_desc pd = { .title = "twin test", .width = width, .height = height, .log = &w->rl.log };
    tw_status st = tw_platform_new(&pd, &w->p, &d);
    if (st == TW_ERR_UNSUPPORTED) {
        snprintf(test_skip_reason, sizeof test_skip_reason, "no display: %.200s", d.message);
        test_skipped_flag = 1;
        return -1;
    }
    if (st != TW_OK) {
        TEST_FAIL_AT(__FILE__, __LINE__, "tw_platform_new: %s", d.message);
        return -1;
    }
    const char *const *exts;
    uint32_t n;
    tw_platform_vulkan_extensions(w->p, &exts, &n);
    CHECK(n >= 2); /* VK_KHR_surface and the window system's */
    tw_render_desc rd = { .validation = 1, .log = &w->rl.log, .instance_extensions = exts, .instance_extension_count = n };
    st = tw_render_new(&rd, &w->r);
    if (st == TW_ERR_UNSUPPORTED) {
        snprintf(test_skip_reason, sizeof test_skip_reason, "no Vulkan device on this machine");
        test_skipped_flag = 1;
        tw_platform_free(w->p);
        return -1;
    }
    if (st != TW_OK) {
        TEST_FAIL_AT(__FILE__, __LINE__, "tw_render_new: %s", tw_status_str(st));
        tw_platform_free(w->p);
        return -1;
    }
    uint32_t dw, dh;
    tw_platform_drawable_size(w->p, &dw, &dh);
    tw_render_window_desc wd = { .create_surface = tw_platform_create_surface, .user = w->p, .width = dw,
                                 .height = dh };
    st = tw_render_window_create(w->r, &wd, &w->t);
    if (st != TW_OK) {
        TEST_FAIL_AT(__FILE__, __LINE__, "tw_render_window_create: %s", tw_status_str(st));
        tw_render_free(w->r);
        tw_platform_free(w->p);
        return -1;
    }
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    tw_render_geom_box(&g, (float[3]){ -0.5f, -0.5f, 0 }, (float[3]){ 0.5f, 0.5f, 1 });
    st = tw_render_mesh_create(w->r, &(tw_render_mesh_desc){ .vertices = g.vertices, .vertex_count = g.vertex_count,
                                                             .indices = g.indices, .index_count = g.index_count,
                                                             .edges = (const uint8_t(*)[4])g.edges },
                               &w->box);
    tw_render_geom_fini(&g);
    CHECK_EQ_INT(st, TW_OK);
    return 0;
}

static void win_close(win *w)
{
    if (w->t.id) CHECK_EQ_INT(tw_render_target_destroy(w->r, w->t), TW_OK);
    tw_render_free(w->r);
    tw_platform_free(w->p);
    CHECK_EQ_INT(w->rl.validation, 0);
}

static tw_status draw(win *w, tw_render_frame_stats *fs, const tw_render_overlay *ov)
{
    tw_render_instance inst = { .mesh = w->box, .color = { 90, 140, 200, 255 }, .pick_id = 42 };
    tw_render_transform_trs(inst.transform, (float[3]){ 0, 0, 0 }, 0.3f, (float[3]){ 4, 4, 3 });
    tw_render_drawlist dl = { .camera = { .eye = { -7, -9, 7 }, .target = { 0, 0, 1.5f } }, .instances = &inst,
                              .instance_count = 1, .overlay = ov };
    return tw_render_frame(w->r, w->t, &dl, fs);
}

/* Events until the drawable size is w x h (the window system answers a
 * resize asynchronously), at most about two seconds. */
static int wait_for_size(win *w, uint32_t want_w, uint32_t want_h)
{
    for (int k = 0; k < 200; k++) {
        tw_platform_event ev;
        while (tw_platform_poll(w->p, &ev))
            if (ev.type == TW_PLATFORM_EVENT_RESIZE) tw_render_window_resize(w->r, w->t, ev.width, ev.height);
        uint32_t dw, dh;
        tw_platform_drawable_size(w->p, &dw, &dh);
        if (dw == want_w && dh == want_h) {
            tw_render_window_resize(w->r, w->t, dw, dh);
            return 1;
        }
        tw_platform_wait(w->p, 10);
    }
    return 0;
}

TEST(window_presents_picks_and_saves)
{
    win w;
    if (win_open(&w, 320, 240) != 0) return;
    CHECK(tw_render_target_is_window(w.r, w.t));
    uint32_t tw, th;
    REQUIRE(tw_render_target_size(w.r, w.t, &tw, &th) == TW_OK);
    CHECK_EQ_INT(tw, 320);
    CHECK_EQ_INT(th, 240);
    /* A HUD-like overlay in a corner. */
    uint8_t *ov = calloc(320 * 240, 4);
    REQUIRE(ov);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 40; x++) memcpy(ov + ((size_t)y * 320 + x) * 4, (uint8_t[4]){ 0, 0, 0, 255 }, 4);
    tw_render_overlay o = { .rgba = ov, .width = 320, .height = 240, .rect_count = 1, .rects = { { 0, 0, 40, 20 } } };
    tw_render_frame_stats fs;
    for (int k = 0; k < 5; k++) {
        REQUIRE(draw(&w, &fs, &o) == TW_OK);
        CHECK_EQ_INT(fs.presented, 1);
    }
    uint32_t id = 0;
    REQUIRE(tw_render_pick(w.r, w.t, 160, 120, &id) == TW_OK);
    CHECK_EQ_INT(id, 42);
    REQUIRE(tw_render_pick(w.r, w.t, 2, 2, &id) == TW_OK);
    CHECK_EQ_INT(id, 0);
    uint8_t *px = malloc(320 * 240 * 4);
    REQUIRE(px);
    REQUIRE(tw_render_target_read(w.r, w.t, px, 320 * 240 * 4) == TW_OK);
    CHECK(px[0] == 0 && px[1] == 0 && px[2] == 0); /* the overlay is in the frame */
    CHECK(px[(120 * 320 + 160) * 4 + 2] > px[(120 * 320 + 160) * 4 + 0]); /* the blue box */
    free(px);
    free(ov);
    tw_render_counters c;
    tw_render_get_counters(w.r, &c);
    CHECK_EQ_U64(c.frames_presented, 5);
    CHECK_EQ_INT(c.swapchain_rebuilds, 1);
    win_close(&w);
}

TEST(window_resize_and_minimise)
{
    win w;
    if (win_open(&w, 320, 240) != 0) return;
    tw_render_frame_stats fs;
    REQUIRE(draw(&w, &fs, NULL) == TW_OK);

    /* The window system resizes: the swapchain and the target follow. */
    tw_platform_set_size(w.p, 400, 300);
    if (!wait_for_size(&w, 400, 300)) {
        win_close(&w);
        TEST_SKIP("the X server did not resize the window");
    }
    for (int k = 0; k < 3; k++) REQUIRE(draw(&w, &fs, NULL) == TW_OK);
    uint32_t tw, th;
    REQUIRE(tw_render_target_size(w.r, w.t, &tw, &th) == TW_OK);
    CHECK_EQ_INT(tw, 400);
    CHECK_EQ_INT(th, 300);
    CHECK_EQ_INT(fs.presented, 1);

    /* Minimised: frames are skipped, not errors. */
    tw_render_counters c0, c1;
    tw_render_get_counters(w.r, &c0);
    REQUIRE(tw_render_window_resize(w.r, w.t, 0, 0) == TW_OK);
    for (int k = 0; k < 3; k++) {
        REQUIRE(draw(&w, &fs, NULL) == TW_OK);
        CHECK_EQ_INT(fs.presented, 0);
    }
    tw_render_get_counters(w.r, &c1);
    CHECK_EQ_U64(c1.frames_skipped - c0.frames_skipped, 3);
    CHECK_EQ_U64(c1.frames_presented, c0.frames_presented);

    /* Restored. */
    REQUIRE(tw_render_window_resize(w.r, w.t, 400, 300) == TW_OK);
    REQUIRE(draw(&w, &fs, NULL) == TW_OK);
    CHECK_EQ_INT(fs.presented, 1);
    tw_render_get_counters(w.r, &c1);
    CHECK(c1.swapchain_rebuilds > c0.swapchain_rebuilds);
    /* A frame drawn into the resized window can be saved. */
    CHECK_EQ_INT(tw_render_target_save_png(w.r, w.t, "window-test.png"), TW_OK);
    tw_render_image img = { 0 };
    REQUIRE(tw_render_png_load("window-test.png", NULL, &img) == TW_OK);
    CHECK_EQ_INT(img.width, 400);
    CHECK_EQ_INT(img.height, 300);
    tw_render_image_free(NULL, &img);
    remove("window-test.png");
    win_close(&w);
}

TEST(window_twice_and_destroy_early)
{
    /* Surfaces and swapchains are released with their target: a second
     * window in the same process starts clean, and a target destroyed
     * before the renderer leaves nothing behind. */
    for (int round = 0; round < 2; round++) {
        win w;
        if (win_open(&w, 200, 150) != 0) return;
        tw_render_frame_stats fs;
        REQUIRE(draw(&w, &fs, NULL) == TW_OK);
        REQUIRE(tw_render_target_destroy(w.r, w.t) == TW_OK);
        CHECK_EQ_INT(draw(&w, &fs, NULL), TW_ERR_STATE); /* the handle is dead */
        w.t.id = 0;
        win_close(&w);
    }
}

int main(int argc, char **argv) { return test_main(argc, argv); }
