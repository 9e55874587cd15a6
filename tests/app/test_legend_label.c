/* The words of a headless frame's colour bar (engine/app/src/legend_label.c),
 * drawn on synthetic pixels: no renderer needed. Part of test_app. */
#include "test.h"
#include "twin/view.h"

enum { W = 400, H = 300 };

/* A flat grey frame with a red bar at rect. */
static uint8_t *frame_with_bar(uint32_t w, uint32_t h, size_t stride, const float rect[4])
{
    uint8_t *px = malloc(stride * h);
    memset(px, 0xEE, stride * h); /* padding bytes stay 0xEE: the labels must not touch them */
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = px + y * stride + x * 4;
            int in_bar = rect && x >= rect[0] && x < rect[0] + rect[2] && y >= rect[1] && y < rect[1] + rect[3];
            p[0] = in_bar ? 220 : 200, p[1] = in_bar ? 30 : 200, p[2] = in_bar ? 30 : 200, p[3] = 255;
        }
    return px;
}

/* Dark, grey (text) pixels in [x0,x1) x [y0,y1). */
static int dark_pixels(const uint8_t *px, size_t stride, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *p = px + (size_t)y * stride + (size_t)x * 4;
            n += p[0] < 100 && p[1] < 100 && p[2] < 100;
        }
    return n;
}

static int same_region(const uint8_t *a, const uint8_t *b, size_t stride, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y < y1; y++)
        if (memcmp(a + (size_t)y * stride + (size_t)x0 * 4, b + (size_t)y * stride + (size_t)x0 * 4,
                   (size_t)(x1 - x0) * 4))
            return 0;
    return 1;
}

TEST(legend_unit_display)
{
    CHECK_STR(tw_view_unit_display("degC"), "\xC2\xB0" "C");
    CHECK_STR(tw_view_unit_display("m3/s"), "m\xC2\xB3/s");
    CHECK_STR(tw_view_unit_display("ppm"), "ppm");
    CHECK_STR(tw_view_unit_display(NULL), "");
}

TEST(legend_vertical_bar_labelled_left_of_it)
{
    tw_view_legend lg = { .field = "Thermal.temperature", .unit = "degC", .min = 18.0f, .max = 26.0f,
                          .rect = { 360, 60, 12, 180 } };
    size_t stride = W * 4;
    uint8_t *px = frame_with_bar(W, H, stride, lg.rect), *before = frame_with_bar(W, H, stride, lg.rect);
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_view_legend_draw(px, W, H, 0, &lg, &diag);
    if (!tw_view_legend_available()) {
        CHECK_EQ_INT(st, TW_ERR_UNSUPPORTED);
        CHECK(same_region(px, before, stride, 0, 0, W, H));
        free(px), free(before);
        TEST_SKIP("this build has no cairo: no legend labels");
    }
    CHECK_EQ_INT(st, TW_OK);
    /* Values left of the bar, the title above it; the bar itself as drawn. */
    CHECK(dark_pixels(px, stride, 300, 50, 358, 250) > 60);
    CHECK(dark_pixels(px, stride, 200, 20, 374, 58) > 40);
    CHECK(same_region(px, before, stride, 360, 60, 372, 240));
    /* Far from the bar nothing changes. */
    CHECK(same_region(px, before, stride, 0, 0, 150, H));
    CHECK(same_region(px, before, stride, 0, 270, W, H));
    free(px), free(before);
}

TEST(legend_horizontal_bar_labelled_below_it)
{
    if (!tw_view_legend_available()) TEST_SKIP("this build has no cairo: no legend labels");
    tw_view_legend lg = { .field = "Air.co2", .unit = "ppm", .min = 400.0f, .max = 1200.0f,
                          .rect = { 100, 200, 200, 12 } };
    size_t stride = W * 4 + 24; /* rows with padding */
    uint8_t *px = frame_with_bar(W, H, stride, lg.rect), *before = frame_with_bar(W, H, stride, lg.rect);
    CHECK_EQ_INT(tw_view_legend_draw(px, W, H, stride, &lg, NULL), TW_OK);
    CHECK(dark_pixels(px, stride, 90, 214, 310, 240) > 60);
    CHECK(same_region(px, before, stride, 100, 200, 300, 212));
    CHECK(same_region(px, before, stride, 0, 0, W, 150));
    for (uint32_t y = 0; y < H; y++) CHECK(px[y * stride + W * 4] == 0xEE && px[y * stride + stride - 1] == 0xEE);
    free(px), free(before);
}

/* Bad or odd input draws nothing or stays inside the frame; never a crash
 * (the sanitizer build checks every byte touched). */
TEST(legend_odd_input)
{
    if (!tw_view_legend_available()) TEST_SKIP("this build has no cairo: no legend labels");
    size_t stride = W * 4;
    uint8_t *px = frame_with_bar(W, H, stride, NULL), *before = frame_with_bar(W, H, stride, NULL);
    tw_view_legend none[] = {
        { .field = "a.b", .min = NAN, .max = 1, .rect = { 360, 60, 12, 180 } },       /* range not finite */
        { .field = "a.b", .min = 0, .max = INFINITY, .rect = { 360, 60, 12, 180 } },
        { .field = "a.b", .min = 0, .max = 1, .rect = { 0, 0, 0, 0 } },               /* no bar */
        { .field = "a.b", .min = 0, .max = 1, .rect = { 360, 60, -12, 180 } },
        { .field = "a.b", .min = 0, .max = 1, .rect = { NAN, 60, 12, 180 } },
        { .field = "a.b", .min = 0, .max = 1, .rect = { 360, 60, 12, 20 } },          /* too short for words */
        { .field = "a.b", .min = 0, .max = 1, .rect = { -5000, -5000, 12, 180 } },    /* off the frame */
        { .field = "a.b", .min = 0, .max = 1, .rect = { 9000, 9000, 12, 180 } },
        { .field = "a.b", .min = 0, .max = 1, .rect = { 1e30f, -1e30f, 12, 180 } },
    };
    for (size_t k = 0; k < sizeof none / sizeof none[0]; k++) {
        CHECK_EQ_INT(tw_view_legend_draw(px, W, H, 0, &none[k], NULL), TW_OK);
        CHECK(same_region(px, before, stride, 0, 0, W, H));
    }
    tw_view_legend some[] = {
        { .field = "a.b", .min = 5, .max = 5, .rect = { 360, 60, 12, 180 } },          /* one value */
        { .field = "a.b", .min = -1e30f, .max = 1e30f, .rect = { 360, 60, 12, 180 } }, /* huge */
        { .field = "a.b", .min = 1e-7f, .max = 2e-7f, .rect = { 360, 60, 12, 180 } },  /* tiny */
        { .field = "a.b", .min = -3, .max = -2.99f, .rect = { 360, 60, 12, 180 } },
        { .field = NULL, .unit = NULL, .min = 0, .max = 1, .rect = { 390, -100, 40, 600 } }, /* half outside */
        { .field = "A.very_long_field_name_that_is_wider_than_the_frame_itself_and_then_some_more_text",
          .unit = "kgCO2e", .min = 0, .max = 100, .rect = { 5, 60, 12, 180 } },      /* bar at the left edge */
        { .field = "a.b", .min = 0, .max = 1, .rect = { 0, 0, W, H } },               /* the whole frame */
        { .field = "a.b", .min = -3e38f, .max = 3e38f, .rect = { 360, 60, 12, 1e9f } },  /* extremes */
        { .field = "a.b", .min = 1e15f, .max = 1.0000001e15f, .rect = { 360, 60, 12, 180 } },
    };
    for (size_t k = 0; k < sizeof some / sizeof some[0]; k++)
        CHECK_EQ_INT(tw_view_legend_draw(px, W, H, 0, &some[k], NULL), TW_OK);
    free(px), free(before);
}
