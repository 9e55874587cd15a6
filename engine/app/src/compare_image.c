/* The side-by-side picture of a what-if (`twin whatif --frames-at`): the
 * baseline's and the scenario's frames, rendered elsewhere and saved as PNG,
 * read back and composed with cairo under a caption each. Reading the files
 * keeps this module free of the renderer. Each frame arrives with its colour
 * bar already labelled (tw_view_frame_save_png), on one range for both. */
#include <math.h>
#include <stdio.h>

#include "compare_image.h"

#ifdef TWIN_HAVE_CAIRO
#include <cairo/cairo.h>

int app_compare_available(void) { return 1; }

enum { GAP = 6 };

static cairo_surface_t *load_png(const char *path, tw_diag *diag)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    cairo_status_t cs = cairo_surface_status(s);
    if (cs != CAIRO_STATUS_SUCCESS) {
        tw_diag_set(diag, "reading the frame %s failed: %s", path, cairo_status_to_string(cs));
        cairo_surface_destroy(s);
        return NULL;
    }
    return s;
}

/* One panel: the caption bar from x0 over width w, then the frame below it. */
static void panel(cairo_t *cr, cairo_surface_t *img, double x0, double w, double bar, const char *caption,
                  const double mark[3])
{
    cairo_save(cr);
    cairo_rectangle(cr, x0, 0, w, bar + cairo_image_surface_get_height(img));
    cairo_clip(cr);
    cairo_set_source_rgb(cr, 0.16, 0.17, 0.19);
    cairo_rectangle(cr, x0, 0, w, bar);
    cairo_fill(cr);
    double pad = bar * 0.3, sq = bar * 0.4;
    cairo_set_source_rgb(cr, mark[0], mark[1], mark[2]);
    cairo_rectangle(cr, x0 + pad, (bar - sq) / 2, sq, sq);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, bar * 0.5);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    cairo_move_to(cr, x0 + 2 * pad + sq, bar / 2 + (fe.ascent - fe.descent) / 2);
    cairo_show_text(cr, caption);
    cairo_set_source_surface(cr, img, x0, bar);
    cairo_paint(cr);
    cairo_restore(cr);
}

tw_status app_compare_png(const char *left_png, const char *right_png, const char *left_caption,
                          const char *right_caption, const char *out_png, tw_diag *diag)
{
    cairo_surface_t *a = load_png(left_png, diag);
    cairo_surface_t *b = a ? load_png(right_png, diag) : NULL;
    if (!b) {
        if (a) cairo_surface_destroy(a);
        return TW_ERR_IO;
    }
    int wa = cairo_image_surface_get_width(a), wb = cairo_image_surface_get_width(b);
    int ha = cairo_image_surface_get_height(a), hb = cairo_image_surface_get_height(b);
    int h = ha > hb ? ha : hb;
    /* The caption scales with the frame, readable from thumbnails to 4K. */
    double bar = floor(fmin(56.0, fmax(18.0, h * 0.055)));
    int width = wa + GAP + wb, height = (int)bar + h;
    cairo_surface_t *out = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(out);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    static const double blue[3] = { 0.12, 0.39, 0.71 }, orange[3] = { 0.89, 0.40, 0.05 };
    panel(cr, a, 0, wa, bar, left_caption, blue);
    panel(cr, b, wa + GAP, wb, bar, right_caption, orange);
    cairo_destroy(cr);
    cairo_status_t cs = cairo_surface_write_to_png(out, out_png);
    cairo_surface_destroy(out);
    cairo_surface_destroy(a);
    cairo_surface_destroy(b);
    if (cs != CAIRO_STATUS_SUCCESS) {
        tw_diag_set(diag, "writing %s failed: %s", out_png, cairo_status_to_string(cs));
        return TW_ERR_IO;
    }
    return TW_OK;
}

#else

int app_compare_available(void) { return 0; }

tw_status app_compare_png(const char *left_png, const char *right_png, const char *left_caption,
                          const char *right_caption, const char *out_png, tw_diag *diag)
{
    (void)left_png, (void)right_png, (void)left_caption, (void)right_caption, (void)out_png;
    tw_diag_set(diag, "this build has no cairo (install libcairo2-dev and reconfigure): no side-by-side picture");
    return TW_ERR_UNSUPPORTED;
}

#endif
