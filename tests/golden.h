/* tests/golden.h: golden-image comparison for the Vulkan tests (include after
 * test.h and twin/render.h).
 *
 * A pixel differs when a channel is off by more than 24; up to 0.5 % of
 * pixels may differ (rasterisation rules move edges by a pixel between
 * drivers) and the mean error must stay under 1.5 levels. With
 * TWIN_UPDATE_GOLDEN=1 the picture is written as the new golden instead; look
 * at it before committing. A failing picture is saved as NAME.actual.png. */
#ifndef TWIN_TEST_GOLDEN_H
#define TWIN_TEST_GOLDEN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void test_check_golden(const char *dir, const char *name, const uint8_t *px, uint32_t w, uint32_t h)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s.png", TWIN_SOURCE_DIR, dir, name);
    const char *upd = getenv("TWIN_UPDATE_GOLDEN");
    if (upd && strcmp(upd, "1") == 0) {
        CHECK(tw_render_png_save(path, w, h, px, 0) == TW_OK);
        printf("     updated %s\n", path);
        return;
    }
    tw_render_image img;
    if (tw_render_png_load(path, NULL, &img) != TW_OK) {
        TEST_FAIL_AT(__FILE__, __LINE__, "golden %s is missing; run with TWIN_UPDATE_GOLDEN=1 and look at it", path);
        return;
    }
    int same_size = img.width == w && img.height == h;
    CHECK(same_size);
    if (same_size) {
        uint64_t differ = 0, sum = 0;
        for (size_t k = 0; k < (size_t)w * h; k++) {
            int worst = 0;
            for (int c = 0; c < 4; c++) {
                int d = abs((int)px[4 * k + c] - (int)img.rgba[4 * k + c]);
                sum += (uint64_t)d;
                if (d > worst) worst = d;
            }
            if (worst > 24) differ++;
        }
        double frac = (double)differ / ((double)w * h), mean = (double)sum / ((double)w * h * 4);
        if (frac > 0.005 || mean > 1.5) {
            char out[256];
            snprintf(out, sizeof out, "%s.actual.png", name);
            tw_render_png_save(out, w, h, px, 0);
            TEST_FAIL_AT(__FILE__, __LINE__, "%s differs from its golden: %.2f%% of pixels, mean error %.2f (see %s)",
                         name, 100.0 * frac, mean, out);
        }
    }
    tw_render_image_free(NULL, &img);
}

#endif
