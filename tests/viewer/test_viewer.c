/* tests/viewer: the viewer's parts that need no display: scripts, key
 * names, text through SDL2_ttf, and the renderer's RGBA overlay composited
 * offscreen (on lavapipe, validation on). The window itself is tested under
 * Xvfb by viewer_test.sh (test_viewer_window.c and `twin view`). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "twin/platform.h"
#include "twin/render.h"
#include "twin/render_geom.h"
#include "twin/viewer.h"

/* ---- scripts ------------------------------------------------------------------ */

static const tw_viewer_step *step_at(const tw_viewer_script *s, uint32_t i) { return i < s->count ? &s->steps[i] : NULL; }

TEST(viewer_script_parses_every_event)
{
    const char *text = "# a comment\n"
                       "\n"
                       "12 mouse_down 640 360 left\n"
                       "12 mouse_up 641 361   # trailing comment\n"
                       "13 move 650 362\n"
                       "20 wheel 2.5\n"
                       "21 wheel -1 100 200\n"
                       "30 key space\n"
                       "31 key_down w\n"
                       "45 key_up w\n"
                       "46 key ?\n"
                       "47 key ctrl+q\n"
                       "48 key F12\n"
                       "50 click 640 360\n"
                       "60 resize 1024 640\n"
                       "70 screenshot shot.png\n"
                       "71 screenshot\n"
                       "80 quit\n"
                       "40 drag 600 300 700 320 right 4\n";
    tw_viewer_script s;
    tw_diag d;
    tw_diag_clear(&d);
    REQUIRE(tw_viewer_script_parse(text, "t.txt", NULL, &s, &d) == TW_OK);
    /* 2 + 1 + 2 + 2 (key) + 1 + 1 + 2 + 2 + 2 + 2 (click) + 1 + 2 + 1 + drag (1 move + down + 4 moves + up) */
    CHECK_EQ_INT(s.count, 2 + 1 + 2 + 2 + 1 + 1 + 2 + 2 + 2 + 2 + 1 + 2 + 1 + 7);
    const tw_viewer_step *a = step_at(&s, 0);
    REQUIRE(a);
    CHECK_EQ_INT(a->frame, 12);
    CHECK_EQ_INT(a->ev.type, TW_PLATFORM_EVENT_MOUSE_DOWN);
    CHECK_EQ_INT(a->ev.x, 640);
    CHECK_EQ_INT(a->ev.button, TW_BUTTON_LEFT);
    CHECK_EQ_INT(step_at(&s, 1)->ev.type, TW_PLATFORM_EVENT_MOUSE_UP);
    CHECK_EQ_INT(step_at(&s, 1)->ev.button, TW_BUTTON_LEFT); /* the default */
    CHECK_EQ_INT(step_at(&s, 2)->ev.type, TW_PLATFORM_EVENT_MOUSE_MOVE);
    CHECK_NEAR(step_at(&s, 3)->ev.wheel, 2.5, 1e-6);
    CHECK_EQ_INT(step_at(&s, 3)->ev.x, -1); /* wherever the pointer is */
    CHECK_EQ_INT(step_at(&s, 4)->ev.y, 200);
    CHECK_EQ_INT(step_at(&s, 5)->ev.key, TW_KEY_SPACE);
    CHECK_EQ_INT(step_at(&s, 5)->ev.type, TW_PLATFORM_EVENT_KEY_DOWN);
    CHECK_EQ_INT(step_at(&s, 6)->ev.type, TW_PLATFORM_EVENT_KEY_UP);
    CHECK_EQ_INT(step_at(&s, 7)->ev.key, 'w');
    CHECK_EQ_INT(step_at(&s, 7)->frame, 31);
    /* The drag (frame 40) sorts before the key_up at 45, after the key_down at 31. */
    const tw_viewer_step *dr = step_at(&s, 8);
    CHECK_EQ_INT(dr->frame, 40);
    CHECK_EQ_INT(dr->ev.type, TW_PLATFORM_EVENT_MOUSE_MOVE);
    CHECK_EQ_INT(step_at(&s, 9)->ev.type, TW_PLATFORM_EVENT_MOUSE_DOWN);
    CHECK_EQ_INT(step_at(&s, 9)->ev.button, TW_BUTTON_RIGHT);
    CHECK_EQ_INT(step_at(&s, 10)->frame, 41);
    CHECK_EQ_INT(step_at(&s, 10)->ev.x, 625);
    CHECK_EQ_INT(step_at(&s, 13)->ev.x, 700); /* the last move reaches the end */
    CHECK_EQ_INT(step_at(&s, 14)->ev.type, TW_PLATFORM_EVENT_MOUSE_UP);
    CHECK_EQ_INT(step_at(&s, 14)->frame, 44);
    CHECK_EQ_INT(step_at(&s, 14)->ev.y, 320);
    CHECK_EQ_INT(step_at(&s, 15)->ev.key, 'w'); /* key_up w at 45 */
    CHECK_EQ_INT(step_at(&s, 15)->ev.type, TW_PLATFORM_EVENT_KEY_UP);
    CHECK_EQ_INT(step_at(&s, 16)->ev.key, '/'); /* ? is shift + / */
    CHECK(step_at(&s, 16)->ev.mods & TW_MOD_SHIFT);
    CHECK_EQ_INT(step_at(&s, 18)->ev.key, 'q');
    CHECK(step_at(&s, 18)->ev.mods & TW_MOD_CTRL);
    CHECK_EQ_INT(step_at(&s, 20)->ev.key, TW_KEY_F12);
    CHECK_EQ_INT(step_at(&s, 22)->ev.type, TW_PLATFORM_EVENT_MOUSE_DOWN); /* click */
    CHECK_EQ_INT(step_at(&s, 23)->ev.type, TW_PLATFORM_EVENT_MOUSE_UP);
    CHECK_EQ_INT(step_at(&s, 24)->command, TW_VIEWER_RESIZE);
    CHECK_EQ_INT(step_at(&s, 24)->ev.width, 1024);
    CHECK_EQ_INT(step_at(&s, 25)->command, TW_VIEWER_SCREENSHOT);
    CHECK_STR(step_at(&s, 25)->arg, "shot.png");
    CHECK_STR(step_at(&s, 26)->arg, "");
    CHECK_EQ_INT(step_at(&s, 27)->command, TW_VIEWER_QUIT);
    for (uint32_t k = 1; k < s.count; k++) CHECK(s.steps[k - 1].frame <= s.steps[k].frame);
    tw_viewer_script_fini(&s);
}

TEST(viewer_script_errors_say_where)
{
    static const struct { const char *text; int line, column; const char *says; } bad[] = {
        { "x mouse_down 1 2\n", 1, 1, "frame number" },
        { "1 mouse_down 1 2\n2 jump 3 4\n", 2, 3, "unknown event" },
        { "5 key nosuchkey\n", 1, 7, "unknown key" },
        { "5 click 1 2 sideways\n", 1, 13, "left, middle or right" },
        { "5 drag 1 2 3\n", 1, 3, "X0 Y0 X1 Y1" },
        { "5 resize 0 10\n", 1, 10, "1..16384" },
        { "5 quit now\n", 1, 3, "takes nothing" },
        { "5 click 1 y\n", 1, 11, "pixel coordinate" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        tw_viewer_script s;
        tw_diag d;
        tw_diag_clear(&d);
        tw_status st = tw_viewer_script_parse(bad[k].text, "bad.txt", NULL, &s, &d);
        CHECK_EQ_INT(st, TW_ERR_PARSE);
        CHECK_EQ_INT(d.line, bad[k].line);
        CHECK_EQ_INT(d.column, bad[k].column);
        CHECK_CONTAINS(d.message, bad[k].says);
        CHECK_STR(d.file, "bad.txt");
        CHECK(s.steps == NULL && s.count == 0);
    }
}

TEST(viewer_script_survives_allocation_failures)
{
    const char *text = "1 drag 0 0 100 100 left 50\n2 click 3 4\n3 key a\n";
    for (uint64_t n = 1; n < 64; n++) {
        tw_failing_alloc fa = { .fail_at = n };
        tw_allocator a = tw_failing_alloc_allocator(&fa);
        tw_viewer_script s;
        tw_status st = tw_viewer_script_parse(text, "t", &a, &s, NULL);
        if (st == TW_OK) {
            CHECK_EQ_INT(s.count, 53 + 2 + 2);
            tw_viewer_script_fini(&s);
        } else {
            CHECK_EQ_INT(st, TW_ERR_NOMEM);
        }
        CHECK_EQ_INT(fa.live_bytes, 0);
        if (fa.failures == 0) break;
    }
}

TEST(viewer_script_round_trips_recorded_events)
{
    tw_platform_event evs[] = {
        { .type = TW_PLATFORM_EVENT_MOUSE_DOWN, .button = TW_BUTTON_MIDDLE, .x = 10, .y = 20 },
        { .type = TW_PLATFORM_EVENT_MOUSE_MOVE, .x = 15, .y = 25 },
        { .type = TW_PLATFORM_EVENT_MOUSE_UP, .button = TW_BUTTON_MIDDLE, .x = 16, .y = 26 },
        { .type = TW_PLATFORM_EVENT_WHEEL, .wheel = -2.0f, .x = 100, .y = 50 },
        { .type = TW_PLATFORM_EVENT_KEY_DOWN, .key = '/', .mods = TW_MOD_SHIFT },
        { .type = TW_PLATFORM_EVENT_KEY_UP, .key = TW_KEY_F1 },
        { .type = TW_PLATFORM_EVENT_KEY_DOWN, .key = 'q', .mods = TW_MOD_CTRL },
    };
    const int n = (int)(sizeof evs / sizeof evs[0]);
    char buf[2048];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    REQUIRE(f);
    for (int k = 0; k < n; k++) CHECK(tw_viewer_script_write_event(f, (uint64_t)k * 3, &evs[k]) == 1);
    tw_platform_event resize = { .type = TW_PLATFORM_EVENT_RESIZE, .width = 5, .height = 5 };
    CHECK(tw_viewer_script_write_event(f, 99, &resize) == 0); /* no script form */
    fclose(f);
    tw_viewer_script s;
    tw_diag d;
    tw_diag_clear(&d);
    REQUIRE(tw_viewer_script_parse(buf, "rec", NULL, &s, &d) == TW_OK);
    REQUIRE(s.count == (uint32_t)n);
    for (int k = 0; k < n; k++) {
        const tw_platform_event *a = &evs[k], *b = &s.steps[k].ev;
        CHECK_EQ_INT(s.steps[k].frame, k * 3);
        CHECK_EQ_INT(b->type, a->type);
        CHECK_EQ_INT(b->x, a->x);
        CHECK_EQ_INT(b->y, a->y);
        CHECK_EQ_INT(b->key, a->key);
        CHECK_EQ_INT(b->mods, a->mods);
        if (a->type == TW_PLATFORM_EVENT_MOUSE_DOWN || a->type == TW_PLATFORM_EVENT_MOUSE_UP)
            CHECK_EQ_INT(b->button, a->button);
        CHECK_NEAR(b->wheel, a->wheel, 1e-6);
    }
    tw_viewer_script_fini(&s);
}

TEST(platform_key_names_round_trip)
{
    int keys[] = { 'a', 'z', '0', '9', ' ', '/', '.', '=', '-', '[', ']', TW_KEY_ESCAPE, TW_KEY_RETURN, TW_KEY_F1,
                   TW_KEY_F12, TW_KEY_LEFT, TW_KEY_PAGE_DOWN, TW_KEY_KP_PLUS, TW_KEY_SHIFT };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *name = tw_platform_key_name(keys[k]);
        CHECK(name[0] != '\0');
        uint32_t mods = 99;
        CHECK_EQ_INT(tw_platform_key_from_name(name, &mods), keys[k]);
        CHECK_EQ_INT(mods, 0);
    }
    uint32_t mods = 0;
    CHECK_EQ_INT(tw_platform_key_from_name("+", &mods), '=');
    CHECK_EQ_INT(mods, TW_MOD_SHIFT);
    CHECK_EQ_INT(tw_platform_key_from_name("Escape", NULL), TW_KEY_ESCAPE);
    CHECK_EQ_INT(tw_platform_key_from_name("esc", NULL), TW_KEY_ESCAPE);
    CHECK_EQ_INT(tw_platform_key_from_name("F13", NULL), TW_KEY_UNKNOWN);
    CHECK_EQ_INT(tw_platform_key_from_name("", NULL), TW_KEY_UNKNOWN);
    CHECK_STR(tw_platform_key_name(0x7FFF), "");
    CHECK_EQ_INT(tw_platform_button_from_name("right"), TW_BUTTON_RIGHT);
    CHECK_STR(tw_platform_button_name(TW_BUTTON_MIDDLE), "middle");
}

TEST(platform_no_display_is_a_clear_error)
{
    /* Only meaningful where no display is configured at all. */
    if (getenv("DISPLAY") || getenv("WAYLAND_DISPLAY") || getenv("SDL_VIDEODRIVER"))
        TEST_SKIP("a display is configured");
    tw_platform *p = NULL;
    tw_diag d;
    tw_diag_clear(&d);
    CHECK_EQ_INT(tw_platform_new(NULL, &p, &d), TW_ERR_UNSUPPORTED);
    CHECK(p == NULL);
    CHECK_CONTAINS(d.message, "no display");
}

/* ---- text -------------------------------------------------------------------- */

TEST(platform_text_draws_and_caches_glyphs)
{
    tw_failing_alloc fa = { 0 };
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_platform_font *f = NULL;
    tw_diag d;
    tw_diag_clear(&d);
    tw_platform_font_desc fd = { .size_px = 16, .alloc = &a };
    REQUIRE(tw_platform_font_open(&fd, &f, &d) == TW_OK);
    enum { BW = 200, BH = 40 };
    uint8_t *px = calloc(BW * BH, 4);
    REQUIRE(px);
    tw_platform_bitmap b = { px, BW, BH, 0 };
    const char *s = "twin 21.5 \xC2\xB0" "C";
    int w = tw_platform_text_width(f, s);
    CHECK(w > 40 && w < 150);
    CHECK(tw_platform_font_line_height(f) >= 16);
    const uint8_t white[4] = { 255, 255, 255, 255 };
    int end = tw_platform_text_draw(f, &b, 10, 5, s, white);
    CHECK_EQ_INT(end, 10 + w);
    /* Ink inside the text's box, none outside; premultiplied: colour <= alpha. */
    int ink = 0, outside = 0, bad = 0;
    for (int y = 0; y < BH; y++)
        for (int x = 0; x < BW; x++) {
            const uint8_t *p = px + (size_t)(y * BW + x) * 4;
            if (!p[3]) continue;
            if (x < 8 || x > 12 + w || y < 5 || y >= 5 + tw_platform_font_line_height(f) + 2) outside++;
            else ink++;
            if (p[0] > p[3]) bad++;
        }
    CHECK(ink > 100);
    CHECK_EQ_INT(outside, 0);
    CHECK_EQ_INT(bad, 0);
    /* Drawn again: every glyph is cached, so nothing is allocated. */
    uint64_t before = fa.allocations;
    tw_platform_text_draw(f, &b, 10, 5, s, white);
    tw_platform_text_width(f, s);
    CHECK_EQ_U64(fa.allocations, before);
    /* Clipping at every edge, and malformed UTF-8, are harmless. */
    tw_platform_text_draw(f, &b, -30, -8, "clipped \xFF\xC3 text", white);
    tw_platform_text_draw(f, &b, BW - 5, BH - 5, "far", white);
    free(px);
    tw_platform_font_close(f);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

TEST(platform_missing_font_is_not_found)
{
    tw_platform_font *f = NULL;
    tw_diag d;
    tw_diag_clear(&d);
    tw_platform_font_desc fd = { .path = "/nonexistent/font.ttf" };
    CHECK_EQ_INT(tw_platform_font_open(&fd, &f, &d), TW_ERR_NOT_FOUND);
    CHECK(f == NULL);
    CHECK_CONTAINS(d.message, "fonts-dejavu-core");
}

/* ---- the overlay, offscreen --------------------------------------------------- */

typedef struct vlog {
    int validation;
} vlog;

static void vlog_sink(void *user, tw_log_level level, const char *module, const char *msg)
{
    vlog *l = user;
    if (strncmp(msg, "validation:", 11) == 0) l->validation++;
    if (level >= TW_LOG_WARN) fprintf(stderr, "  [%s] %s\n", module, msg);
}

static tw_render *renderer(vlog *l, tw_log *log, const tw_allocator *a)
{
    memset(l, 0, sizeof *l);
    memset(log, 0, sizeof *log);
    log->sink = vlog_sink;
    log->user = l;
    tw_render *r = NULL;
    tw_render_desc rd = { .validation = 1, .log = log, .alloc = a };
    tw_status st = tw_render_new(&rd, &r);
    if (st == TW_ERR_UNSUPPORTED) return NULL;
    CHECK_EQ_INT(st, TW_OK);
    return r;
}

static const uint8_t *pixel(const uint8_t *img, uint32_t w, uint32_t x, uint32_t y)
{
    return img + ((size_t)y * w + x) * 4;
}

TEST(render_overlay_composites_over_the_frame)
{
    enum { W = 160, H = 120 };
    vlog l;
    tw_log log;
    tw_failing_alloc fa = { 0 };
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_render *r = renderer(&l, &log, &a);
    if (!r) TEST_SKIP("no Vulkan device on this machine");
    tw_render_geom g;
    tw_render_geom_init(&g, NULL);
    REQUIRE(tw_render_geom_box(&g, (float[3]){ -0.5f, -0.5f, 0 }, (float[3]){ 0.5f, 0.5f, 1 }) == TW_OK);
    tw_render_mesh box;
    REQUIRE(tw_render_mesh_create(r, &(tw_render_mesh_desc){ .vertices = g.vertices, .vertex_count = g.vertex_count,
                                                             .indices = g.indices, .index_count = g.index_count,
                                                             .edges = (const uint8_t(*)[4])g.edges },
                                  &box) == TW_OK);
    tw_render_geom_fini(&g);
    tw_render_target t;
    REQUIRE(tw_render_target_create(r, &(tw_render_target_desc){ .width = W, .height = H }, &t) == TW_OK);
    CHECK(!tw_render_target_is_window(r, t));

    /* A big box filling the middle of the frame, pick id 7. */
    tw_render_instance inst = { .mesh = box, .color = { 200, 196, 188, 255 }, .pick_id = 7 };
    tw_render_transform_trs(inst.transform, (float[3]){ 0, 0, 0 }, 0.0f, (float[3]){ 4, 4, 4 });
    tw_render_drawlist dl = { .camera = { .eye = { -6, -8, 7 }, .target = { 0, 0, 1.5f } }, .instances = &inst,
                              .instance_count = 1 };
    REQUIRE(tw_render_frame(r, t, &dl, NULL) == TW_OK);
    uint8_t *plain = malloc(W * H * 4), *over = malloc(W * H * 4);
    REQUIRE(plain && over);
    REQUIRE(tw_render_target_read(r, t, plain, W * H * 4) == TW_OK);
    uint32_t id = 0;
    REQUIRE(tw_render_pick(r, t, W / 2, H / 2, &id) == TW_OK);
    CHECK_EQ_INT(id, 7);

    /* The overlay: an opaque red square over the box's middle, a 50 %
     * white square in a corner, one rectangle listed off the image. */
    uint8_t *ov = calloc((size_t)W * H, 4);
    REQUIRE(ov);
    for (int y = 50; y < 70; y++)
        for (int x = 70; x < 90; x++) memcpy(ov + ((size_t)y * W + x) * 4, (uint8_t[4]){ 255, 0, 0, 255 }, 4);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++) memcpy(ov + ((size_t)y * W + x) * 4, (uint8_t[4]){ 128, 128, 128, 128 }, 4);
    tw_render_overlay o = { .rgba = ov, .width = W, .height = H, .rect_count = 3,
                            .rects = { { 70, 50, 20, 20 }, { 0, 0, 10, 10 }, { W + 5, 0, 10, 10 } } };
    dl.overlay = &o;
    for (int k = 0; k < 3; k++) REQUIRE(tw_render_frame(r, t, &dl, NULL) == TW_OK);
    REQUIRE(tw_render_target_read(r, t, over, W * H * 4) == TW_OK);
    const uint8_t *red = pixel(over, W, 80, 60);
    CHECK(red[0] == 255 && red[1] == 0 && red[2] == 0);
    /* Half white over the light background: lighter than it was, not white. */
    const uint8_t *corner = pixel(over, W, 3, 3), *was = pixel(plain, W, 3, 3);
    CHECK(corner[0] > was[0] && corner[0] < 255);
    /* Outside the listed rectangles nothing changed, and the id buffer is the scene's. */
    int changed = 0;
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            int in = (x >= 70 && x < 90 && y >= 50 && y < 70) || (x < 10 && y < 10);
            if (!in && memcmp(pixel(over, W, x, y), pixel(plain, W, x, y), 4) != 0) changed++;
        }
    CHECK_EQ_INT(changed, 0);
    REQUIRE(tw_render_pick(r, t, 80, 60, &id) == TW_OK);
    CHECK_EQ_INT(id, 7);

    /* Steady state: the same overlay again allocates nothing, host or GPU. */
    tw_render_counters c0, c1;
    tw_render_get_counters(r, &c0);
    for (int k = 0; k < 5; k++) REQUIRE(tw_render_frame(r, t, &dl, NULL) == TW_OK);
    tw_render_get_counters(r, &c1);
    CHECK_EQ_U64(c1.heap_allocations, c0.heap_allocations);
    CHECK_EQ_U64(c1.gpu_allocations, c0.gpu_allocations);

    /* A larger overlay (the whole image, no rects) replaces the image; a
     * frame without one draws none. */
    tw_render_overlay big = { .rgba = ov, .width = W, .height = H };
    dl.overlay = &big;
    REQUIRE(tw_render_frame(r, t, &dl, NULL) == TW_OK);
    REQUIRE(tw_render_target_resize(r, t, W * 2, H) == TW_OK);
    uint8_t *ov2 = calloc((size_t)W * 2 * H, 4);
    REQUIRE(ov2);
    tw_render_overlay wide = { .rgba = ov2, .width = W * 2, .height = H };
    dl.overlay = &wide;
    REQUIRE(tw_render_frame(r, t, &dl, NULL) == TW_OK);
    REQUIRE(tw_render_target_resize(r, t, W, H) == TW_OK);
    dl.overlay = NULL;
    REQUIRE(tw_render_frame(r, t, &dl, NULL) == TW_OK);
    REQUIRE(tw_render_target_read(r, t, over, W * H * 4) == TW_OK);
    CHECK(memcmp(over, plain, W * H * 4) == 0);

    free(plain);
    free(over);
    free(ov);
    free(ov2);
    tw_render_free(r);
    CHECK_EQ_INT(l.validation, 0);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

static tw_status must_not_be_called(void *user, uint64_t instance, uint64_t *surface)
{
    (void)instance;
    (void)surface;
    *(int *)user = 1;
    return TW_ERR_STATE;
}

TEST(render_window_needs_the_platform_extensions)
{
    vlog l;
    tw_log log;
    tw_render *r = renderer(&l, &log, NULL);
    if (!r) TEST_SKIP("no Vulkan device on this machine");
    CHECK(tw_render_vk_instance(r) != 0);
    int called = 0;
    tw_render_target t = { 99 };
    tw_render_window_desc wd = { .create_surface = must_not_be_called, .user = &called, .width = 64, .height = 64 };
    CHECK_EQ_INT(tw_render_window_create(r, &wd, &t), TW_ERR_UNSUPPORTED);
    CHECK_EQ_INT(t.id, 0);
    CHECK_EQ_INT(called, 0);
    /* Window calls on an offscreen target are refused, not obeyed. */
    tw_render_target off;
    REQUIRE(tw_render_target_create(r, &(tw_render_target_desc){ .width = 32, .height = 32 }, &off) == TW_OK);
    CHECK_EQ_INT(tw_render_window_resize(r, off, 10, 10), TW_ERR_STATE);
    tw_render_free(r);
    CHECK_EQ_INT(l.validation, 0);
}

/* ---- replay: the timeline's mapping and the speed ladder ----------------------------- */

TEST(viewer_timeline_maps_pixels_to_ticks_and_back)
{
    tw_viewer_timeline t = { .x0 = 30, .x1 = 1250, .first = 0, .last = 54000 };
    CHECK(tw_viewer_timeline_tick_at(&t, 30) == 0);
    CHECK(tw_viewer_timeline_tick_at(&t, 1250) == 54000);
    CHECK(tw_viewer_timeline_tick_at(&t, 640) == 27000);          /* the middle */
    CHECK(tw_viewer_timeline_tick_at(&t, 572) == 23990);          /* 542/1220 of the span, rounded */
    CHECK(tw_viewer_timeline_tick_at(&t, -100) == 0);             /* outside: clamped */
    CHECK(tw_viewer_timeline_tick_at(&t, 99999) == 54000);
    CHECK_EQ_INT(tw_viewer_timeline_x_of(&t, 0), 30);
    CHECK_EQ_INT(tw_viewer_timeline_x_of(&t, 54000), 1250);
    CHECK_EQ_INT(tw_viewer_timeline_x_of(&t, 27000), 640);
    CHECK_EQ_INT(tw_viewer_timeline_x_of(&t, 999999), 1250);
    /* x -> tick -> x is the identity on every column (a tick is finer than a pixel). */
    for (int x = t.x0; x <= t.x1; x++) CHECK_EQ_INT(tw_viewer_timeline_x_of(&t, tw_viewer_timeline_tick_at(&t, x)), x);
    /* A span that does not start at 0. */
    tw_viewer_timeline u = { .x0 = 0, .x1 = 100, .first = 1000, .last = 1100 };
    CHECK(tw_viewer_timeline_tick_at(&u, 50) == 1050);
    CHECK(tw_viewer_timeline_tick_at(&u, 0) == 1000);
    CHECK_EQ_INT(tw_viewer_timeline_x_of(&u, 10), 0);              /* before the span */
    CHECK_EQ_INT(tw_viewer_timeline_x_of(&u, 1075), 75);
    /* Degenerate: an empty span or a bar of no width maps everything to its start. */
    tw_viewer_timeline e = { .x0 = 10, .x1 = 200, .first = 7, .last = 7 };
    CHECK(tw_viewer_timeline_tick_at(&e, 100) == 7);
    CHECK_EQ_INT(tw_viewer_timeline_x_of(&e, 7), 10);
    tw_viewer_timeline z = { .x0 = 10, .x1 = 10, .first = 0, .last = 100 };
    CHECK(tw_viewer_timeline_tick_at(&z, 10) == 0);
    CHECK(tw_viewer_timeline_tick_at(&z, 11) == 0);
}

TEST(viewer_speed_steps_1_2_5_from_a_tenth_to_a_thousand)
{
    static const double ladder[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
    const int n = (int)(sizeof ladder / sizeof ladder[0]);
    double s = 0.1;
    for (int k = 1; k < n; k++) {
        s = tw_viewer_speed_step(s, +1);
        CHECK_NEAR(s, ladder[k], 1e-12);
    }
    CHECK_NEAR(tw_viewer_speed_step(1000, +1), 1000, 1e-12); /* the top stays */
    for (int k = n - 2; k >= 0; k--) {
        s = tw_viewer_speed_step(s, -1);
        CHECK_NEAR(s, ladder[k], 1e-12);
    }
    CHECK_NEAR(tw_viewer_speed_step(0.1, -1), 0.1, 1e-12);   /* the bottom stays */
    /* Off the ladder (--speed 3, --speed 5000): the next rung either way. */
    CHECK_NEAR(tw_viewer_speed_step(3, +1), 5, 1e-12);
    CHECK_NEAR(tw_viewer_speed_step(3, -1), 2, 1e-12);
    CHECK_NEAR(tw_viewer_speed_step(5000, -1), 1000, 1e-12);
    CHECK_NEAR(tw_viewer_speed_step(0.01, +1), 0.1, 1e-12);
    CHECK_NEAR(tw_viewer_speed_step(7, 0), 7, 1e-12);
}

int main(int argc, char **argv) { return test_main(argc, argv); }
