/* png_check FILE WIDTH HEIGHT [--inspector]: checks a viewer screenshot.
 *
 * The PNG has the size asked for; it is not blank (the luminance varies and
 * many colours appear); the HUD panel (top left) is there, dark over the
 * light background; with --inspector, so is the inspector panel (top right).
 * Prints what it measured. Exit 0 when all hold, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/render.h"

static double region_luma(const tw_render_image *img, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
    double sum = 0.0;
    uint64_t n = 0;
    for (uint32_t y = y0; y < y1 && y < img->height; y++)
        for (uint32_t x = x0; x < x1 && x < img->width; x++) {
            const uint8_t *p = img->rgba + ((size_t)y * img->width + x) * 4;
            sum += 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
            n++;
        }
    return n ? sum / (double)n : 0.0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: png_check FILE WIDTH HEIGHT [--inspector]\n");
        return 2;
    }
    uint32_t w = (uint32_t)atoi(argv[2]), h = (uint32_t)atoi(argv[3]);
    int inspector = argc > 4 && !strcmp(argv[4], "--inspector");
    tw_render_image img = { 0 };
    if (tw_render_png_load(argv[1], NULL, &img) != TW_OK) {
        fprintf(stderr, "png_check: cannot read %s\n", argv[1]);
        return 1;
    }
    int ok = 1;
    if (img.width != w || img.height != h) {
        fprintf(stderr, "png_check: %s is %ux%u, expected %ux%u\n", argv[1], img.width, img.height, w, h);
        ok = 0;
    }
    /* Luminance spread and distinct colours (quantised to 5 bits a channel). */
    double sum = 0.0, sum2 = 0.0;
    static uint8_t seen[1 << 15];
    uint32_t colours = 0;
    size_t n = (size_t)img.width * img.height;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = img.rgba + k * 4;
        double l = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
        sum += l;
        sum2 += l * l;
        unsigned q = ((unsigned)(p[0] >> 3) << 10) | ((unsigned)(p[1] >> 3) << 5) | (unsigned)(p[2] >> 3);
        if (!seen[q]) seen[q] = 1, colours++;
    }
    double mean = n ? sum / (double)n : 0.0;
    double sd = n ? sqrt(fmax(0.0, sum2 / (double)n - mean * mean)) : 0.0;
    double hud = region_luma(&img, 16, 16, 200, 60);
    double insp = inspector ? region_luma(&img, img.width > 300 ? img.width - 300 : 0, 20, img.width - 30, 120) : 0.0;
    double middle = region_luma(&img, img.width / 4, img.height / 4, img.width * 3 / 4, img.height * 3 / 4);
    printf("png_check: %ux%u mean %.1f sd %.1f colours %u hud %.1f inspector %.1f middle %.1f\n", img.width,
           img.height, mean, sd, colours, hud, insp, middle);
    if (sd < 15.0 || colours < 40) {
        fprintf(stderr, "png_check: the picture is (nearly) blank\n");
        ok = 0;
    }
    if (hud > 110.0) {
        fprintf(stderr, "png_check: no HUD panel at the top left\n");
        ok = 0;
    }
    if (inspector && insp > 110.0) {
        fprintf(stderr, "png_check: no inspector panel at the top right\n");
        ok = 0;
    }
    tw_render_image_free(NULL, &img);
    return ok ? 0 : 1;
}
