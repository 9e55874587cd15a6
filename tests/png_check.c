/* png_check: checks the PNGs the end-to-end tests make (headless frames of
 * `twin whatif --frames-at`, screenshots of `twin view`).
 *
 *   png_check size FILE W H      the PNG is W x H and not blank (its
 *                                luminance varies: sd > 8, and 16 or more
 *                                colours appear)
 *   png_check differ A B         A and B (same size) differ visibly: more
 *                                than 0.2 % of the pixels by more than 24
 *                                levels in a channel
 *   png_check screenshot FILE W H [--inspector]
 *                                a viewer screenshot: W x H, not blank (sd
 *                                >= 15, 40 or more colours), the HUD panel
 *                                (top left) dark over the light background;
 *                                with --inspector, the inspector panel (top
 *                                right) too
 *
 * Prints what it measured. Exit 0 when it holds, 1 otherwise, 2 on usage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/render.h"

static int load(const char *path, tw_render_image *img)
{
    memset(img, 0, sizeof *img);
    if (tw_render_png_load(path, NULL, img) != TW_OK) {
        fprintf(stderr, "png_check: cannot read %s\n", path);
        return -1;
    }
    return 0;
}

/* How much a picture varies: luminance mean and spread, and the distinct
 * colours (quantised to 5 bits a channel), which a blank frame lacks. */
typedef struct spread {
    double mean, sd;
    uint32_t colours;
} spread;

static spread measure(const tw_render_image *img)
{
    static uint8_t seen[1 << 15];
    memset(seen, 0, sizeof seen);
    spread s = { 0 };
    double sum = 0.0, sum2 = 0.0;
    size_t n = (size_t)img->width * img->height;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = img->rgba + k * 4;
        double l = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
        sum += l;
        sum2 += l * l;
        unsigned q = ((unsigned)(p[0] >> 3) << 10) | ((unsigned)(p[1] >> 3) << 5) | (unsigned)(p[2] >> 3);
        if (!seen[q]) seen[q] = 1, s.colours++;
    }
    s.mean = n ? sum / (double)n : 0.0;
    s.sd = n ? sqrt(fmax(0.0, sum2 / (double)n - s.mean * s.mean)) : 0.0;
    return s;
}

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

static int check_size(const char *path, uint32_t w, uint32_t h)
{
    tw_render_image img;
    if (load(path, &img)) return 1;
    spread s = measure(&img);
    int ok = img.width == w && img.height == h && s.sd > 8.0 && s.colours >= 16;
    printf("%s: %ux%u (expected %ux%u), luminance mean %.1f sd %.1f, %u colours\n", path, img.width, img.height, w, h,
           s.mean, s.sd, s.colours);
    tw_render_image_free(NULL, &img);
    return ok ? 0 : 1;
}

static int check_differ(const char *a_path, const char *b_path)
{
    tw_render_image a, b;
    if (load(a_path, &a)) return 1;
    if (load(b_path, &b)) {
        tw_render_image_free(NULL, &a);
        return 1;
    }
    int ok = a.width == b.width && a.height == b.height;
    size_t n = (size_t)a.width * a.height, differ = 0;
    for (size_t k = 0; ok && k < n; k++) {
        const uint8_t *p = a.rgba + k * 4, *q = b.rgba + k * 4;
        for (int c = 0; c < 3; c++)
            if (abs((int)p[c] - (int)q[c]) > 24) {
                differ++;
                break;
            }
    }
    double frac = n ? (double)differ / (double)n : 0.0;
    printf("%s vs %s: %zu of %zu pixels differ (%.2f %%)\n", a_path, b_path, differ, n, 100.0 * frac);
    if (!(frac > 0.002)) ok = 0;
    tw_render_image_free(NULL, &a);
    tw_render_image_free(NULL, &b);
    return ok ? 0 : 1;
}

static int check_screenshot(const char *path, uint32_t w, uint32_t h, int inspector)
{
    tw_render_image img;
    if (load(path, &img)) return 1;
    int ok = 1;
    if (img.width != w || img.height != h) {
        fprintf(stderr, "png_check: %s is %ux%u, expected %ux%u\n", path, img.width, img.height, w, h);
        ok = 0;
    }
    spread s = measure(&img);
    double hud = region_luma(&img, 16, 16, 200, 60);
    double insp = inspector ? region_luma(&img, img.width > 300 ? img.width - 300 : 0, 20, img.width - 30, 120) : 0.0;
    double middle = region_luma(&img, img.width / 4, img.height / 4, img.width * 3 / 4, img.height * 3 / 4);
    printf("png_check: %ux%u mean %.1f sd %.1f colours %u hud %.1f inspector %.1f middle %.1f\n", img.width,
           img.height, s.mean, s.sd, s.colours, hud, insp, middle);
    if (s.sd < 15.0 || s.colours < 40) {
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

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "size")) return check_size(argv[2], (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "differ")) return check_differ(argv[2], argv[3]);
    if ((argc == 5 || (argc == 6 && !strcmp(argv[5], "--inspector"))) && !strcmp(argv[1], "screenshot"))
        return check_screenshot(argv[2], (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]), argc == 6);
    fprintf(stderr, "usage: png_check size FILE W H | png_check differ A B | "
                    "png_check screenshot FILE W H [--inspector]\n");
    return 2;
}
