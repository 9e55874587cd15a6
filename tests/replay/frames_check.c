/* frames_check: checks the PNG frames of `twin whatif --frames-at`.
 *
 *   frames_check size FILE W H   the PNG is W x H and not blank (its
 *                                luminance varies and many colours appear)
 *   frames_check differ A B      A and B (same size) differ visibly: more
 *                                than 0.2 % of the pixels by more than 24
 *                                levels in a channel
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
        fprintf(stderr, "frames_check: cannot read %s\n", path);
        return -1;
    }
    return 0;
}

static int check_size(const char *path, uint32_t w, uint32_t h)
{
    tw_render_image img;
    if (load(path, &img)) return 1;
    int ok = img.width == w && img.height == h;
    double sum = 0.0, sum2 = 0.0;
    static uint8_t seen[1 << 15];
    memset(seen, 0, sizeof seen);
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
    if (!(sd > 8.0) || colours < 16) ok = 0;
    printf("%s: %ux%u (expected %ux%u), luminance mean %.1f sd %.1f, %u colours\n", path, img.width, img.height, w, h,
           mean, sd, colours);
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

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "size")) return check_size(argv[2], (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "differ")) return check_differ(argv[2], argv[3]);
    fprintf(stderr, "usage: frames_check size FILE W H | frames_check differ A B\n");
    return 2;
}
