/* The words of a headless frame's colour bar: the renderer draws the bar
 * (its position and range come back in tw_render_frame_stats), and this
 * writes the field, its unit, the two ends and a few round values beside
 * it, with cairo, onto the frame's pixels before they become a PNG. The
 * desktop viewer labels its bar with SDL2_ttf instead (viewer_ui.c); both
 * show units through tw_view_unit_display.
 *
 * Only the rectangle the words cover is converted to cairo's pixel format
 * and back, so labelling a 4K frame costs about as much as a thumbnail. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "twin/view.h"

const char *tw_view_unit_display(const char *unit)
{
    static const struct { const char *si, *shown; } map[] = {
        { "degC", "\xC2\xB0" "C" }, { "m2", "m\xC2\xB2" }, { "m3", "m\xC2\xB3" },
        { "m3/s", "m\xC2\xB3/s" },   { "1/h", "/h" },      { "kgCO2e", "kg CO\xE2\x82\x82" "e" },
    };
    if (!unit) return "";
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
        if (!strcmp(unit, map[k].si)) return map[k].shown;
    return unit;
}

tw_status tw_view_frame_save_png(tw_render *r, tw_render_target target, const tw_view_legend *legend,
                                 const tw_allocator *alloc, const char *path, tw_diag *diag)
{
    TW_CHECK(r && path, "tw_view_frame_save_png needs a renderer and a file path.");
    tw_status st;
    if (!legend || !tw_view_legend_available()) {
        if ((st = tw_render_target_save_png(r, target, path))) tw_diag_set(diag, "writing %s failed: %s", path, tw_status_str(st));
        return st;
    }
    uint32_t w, h;
    if ((st = tw_render_target_size(r, target, &w, &h))) {
        tw_diag_set(diag, "the frame for %s has no target: %s", path, tw_status_str(st));
        return st;
    }
    tw_allocator a = tw_allocator_or_default(alloc);
    size_t size = (size_t)w * h * 4;
    uint8_t *px = tw_alloc(&a, size);
    if (!px) {
        tw_diag_set(diag, "out of memory for the %ux%u frame %s", w, h, path);
        return TW_ERR_NOMEM;
    }
    if ((st = tw_render_target_read(r, target, px, size))) {
        tw_diag_set(diag, "reading back the frame for %s failed: %s", path, tw_status_str(st));
    } else if (!(st = tw_view_legend_draw(px, w, h, 0, legend, diag))) {
        if ((st = tw_render_png_save(path, w, h, px, 0))) tw_diag_set(diag, "writing %s failed: %s", path, tw_status_str(st));
    }
    tw_free(&a, px, size);
    return st;
}

#ifdef TWIN_HAVE_CAIRO
#include <cairo/cairo.h>

int tw_view_legend_available(void) { return 1; }

/* One label: its text, where along the bar it belongs (pixels from the
 * bar's low end) and where it was placed. */
typedef struct label {
    char text[48];
    double at;
    double x, y, w, h; /* the text's box, image pixels */
    double bx, by;     /* where cairo_show_text starts (baseline) */
} label;

enum { LABELS_MAX = 12 };
static const double PI = 3.14159265358979323846;

/* A "nice" step (1, 2 or 5 times a power of ten) giving about n steps over span (as chart.c). */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* v with the decimals of the ticks, one more for an end that falls between
 * them (19.8 beside ticks 20, 21, 22); very large or small numbers as %g. */
static void format_value(char *out, size_t size, double v, int decimals, int is_end)
{
    double a = fabs(v);
    if (a >= 1e6 || (a > 0 && a < 1e-4)) {
        snprintf(out, size, "%.4g", v);
        return;
    }
    if (is_end) {
        double q = pow(10.0, decimals), r = v * q;
        if (fabs(r - round(r)) > 1e-6 * fmax(1.0, fabs(r))) decimals++;
    }
    if (decimals > 6) decimals = 6;
    snprintf(out, size, "%.*f", decimals, fabs(v) < 0.5 * pow(10.0, -decimals) ? 0.0 : v);
}

static int overlaps(const label *a, const label *b, double gap)
{
    return a->x < b->x + b->w + gap && b->x < a->x + a->w + gap && a->y < b->y + b->h + gap && b->y < a->y + a->h + gap;
}

/* The labels' texts and positions along the bar: both ends, then round
 * values between that leave room for their neighbours. */
static uint32_t make_labels(const tw_view_legend *lg, double len, double fs, label *out)
{
    double lo = lg->min, hi = lg->max;
    uint32_t n = 0;
    if (!(hi > lo)) {
        /* One value (a range of no width): name it once, at the low end. */
        format_value(out[0].text, sizeof out[0].text, lo, 2, 0);
        out[0].at = 0;
        return 1;
    }
    int want = (int)fmin(8.0, fmax(2.0, floor(len / (fs * 2.6))));
    double step = nice_step(hi - lo, want);
    int decimals = (int)fmax(0.0, -floor(log10(step) + 1e-9));
    format_value(out[n].text, sizeof out[n].text, lo, decimals, 1);
    out[n++].at = 0;
    format_value(out[n].text, sizeof out[n].text, hi, decimals, 1);
    out[n++].at = len;
    double v = ceil(lo / step) * step;
    for (int i = 0; i < 4 * LABELS_MAX && v < hi && n < LABELS_MAX; i++, v += step) {
        double at = (v - lo) / (hi - lo) * len;
        if (at <= 0 || at >= len) continue;
        format_value(out[n].text, sizeof out[n].text, v, decimals, 0);
        out[n++].at = at;
    }
    return n;
}

/* The words laid out for a bar at rect: labels beside it (left of a
 * vertical bar, below a horizontal one), the title above; returns how many
 * labels survive (ticks that would collide with an end are dropped). */
static uint32_t layout(cairo_t *cr, const tw_view_legend *lg, double fs, label *lb, char *title, size_t title_size,
                       double *title_fs, double *tx, double *ty, uint32_t width)
{
    double x = lg->rect[0], y = lg->rect[1], w = lg->rect[2], h = lg->rect[3];
    int vertical = h >= w;
    double tick = fmax(3.0, round(fs * 0.35)), gap = fmax(2.0, round(fs * 0.3));
    cairo_set_font_size(cr, fs);
    cairo_text_extents_t digit;
    cairo_text_extents(cr, "0", &digit); /* the height of figures: labels centre on their value */
    uint32_t n = make_labels(lg, vertical ? h : w, fs, lb), kept = 0;
    for (uint32_t k = 0; k < n; k++) {
        label *l = &lb[k];
        cairo_text_extents_t ex;
        cairo_text_extents(cr, l->text, &ex);
        l->w = ex.x_advance;
        l->h = digit.height;
        if (vertical) {
            double vy = y + h - l->at;
            l->x = x - tick - gap - l->w;
            l->y = vy - l->h / 2;
        } else {
            double vx = x + l->at;
            l->x = vx - l->w / 2;
            l->y = y + h + tick + gap;
        }
        l->bx = l->x;
        l->by = l->y + l->h;
        /* The ends come first, so a round value that crowds one is the one left out. */
        int clash = 0;
        for (uint32_t j = 0; j < kept; j++)
            if (overlaps(l, &lb[j], fs * 0.4)) clash = 1;
        if (!clash) lb[kept++] = *l;
    }
    const char *unit = tw_view_unit_display(lg->unit);
    snprintf(title, title_size, "%s%s%s%s", lg->field ? lg->field : "", unit[0] ? " (" : "", unit, unit[0] ? ")" : "");
    /* The title ends at the bar's right edge (the bar sits at the frame's
     * right by default), smaller when it would run off the left. */
    cairo_text_extents_t te;
    cairo_text_extents(cr, title, &te);
    double room = vertical ? x + w - 4 : (double)width - 8;
    *title_fs = te.x_advance > room && te.x_advance > 0 ? fmax(6.0, fs * room / te.x_advance) : fs;
    cairo_set_font_size(cr, *title_fs);
    cairo_text_extents(cr, title, &te);
    *tx = vertical ? x + w - te.x_advance : fmin(fmax(4.0, x + (w - te.x_advance) / 2), (double)width - 4 - te.x_advance);
    /* Above the bar, clear of the top end's label (centred on the bar's top edge). */
    *ty = y - gap - 0.25 * *title_fs - (vertical ? digit.height * 0.5 : 0.0);
    return kept;
}

tw_status tw_view_legend_draw(uint8_t *rgba, uint32_t width, uint32_t height, size_t stride,
                              const tw_view_legend *lg, tw_diag *diag)
{
    TW_CHECK(rgba && lg, "tw_view_legend_draw needs pixels and the legend to label.");
    TW_CHECK(!stride || stride >= (size_t)width * 4, "tw_view_legend_draw needs a stride of at least width * 4 bytes.");
    if (!stride) stride = (size_t)width * 4;
    const float *rc = lg->rect;
    if (!(rc[2] > 0 && rc[3] > 0) || !isfinite(rc[0]) || !isfinite(rc[1]) || !isfinite(lg->min) ||
        !isfinite(lg->max) || !width || !height)
        return TW_OK;
    /* Words scale with the frame, readable from thumbnails to 4K. */
    double fs = fmin(28.0, fmax(9.0, round(height * 0.024)));
    /* A thumbnail's bar is too short for words: they would cover the picture. */
    if ((rc[3] >= rc[2] ? rc[3] : rc[2]) < 3 * fs) return TW_OK;

    /* Measure first, on a scratch surface, to know the rectangle to touch. */
    cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t *cr = cairo_create(scratch);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    label lb[LABELS_MAX];
    char title[256];
    double title_fs, tx, ty;
    uint32_t n = layout(cr, lg, fs, lb, title, sizeof title, &title_fs, &tx, &ty, width);
    cairo_set_font_size(cr, title_fs);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    cairo_text_extents_t te;
    cairo_text_extents(cr, title, &te);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_destroy(scratch);
    if (cs != CAIRO_STATUS_SUCCESS) {
        tw_diag_set(diag, "laying out the legend's labels failed: %s", cairo_status_to_string(cs));
        return TW_ERR_IO;
    }
    /* The panel, two boxes with a margin: the title's, and the bar's with
     * its labels and ticks (one box for both would veil a corner of the
     * scene for nothing when the title is the wider). */
    double pad = fmax(3.0, round(fs * 0.45));
    double box[2][4] = { { tx, ty - fe.ascent, tx + te.x_advance, ty + fe.descent },
                         { rc[0] - 1, rc[1] - 1, rc[0] + rc[2] + 1, rc[1] + rc[3] + 1 } };
    for (uint32_t k = 0; k < n; k++) {
        box[1][0] = fmin(box[1][0], lb[k].x);
        box[1][1] = fmin(box[1][1], lb[k].y);
        box[1][2] = fmax(box[1][2], lb[k].x + lb[k].w);
        box[1][3] = fmax(box[1][3], lb[k].y + lb[k].h);
    }
    for (int b = 0; b < 2; b++) {
        box[b][0] = floor(box[b][0] - pad), box[b][1] = floor(box[b][1] - pad);
        box[b][2] = ceil(box[b][2] + pad), box[b][3] = ceil(box[b][3] + pad);
    }
    if (!title[0]) memcpy(box[0], box[1], sizeof box[0]); /* no title: no box for it */
    double x0 = fmin(box[0][0], box[1][0]), y0 = fmin(box[0][1], box[1][1]);
    double x1 = fmax(box[0][2], box[1][2]), y1 = fmax(box[0][3], box[1][3]);
    /* Clamped before the conversion: a rect far off the frame stays a valid int. */
    int ix0 = (int)fmin(fmax(0.0, x0), (double)width), iy0 = (int)fmin(fmax(0.0, y0), (double)height);
    int ix1 = (int)fmin(fmax(0.0, x1), (double)width), iy1 = (int)fmin(fmax(0.0, y1), (double)height);
    if (ix1 <= ix0 || iy1 <= iy0) return TW_OK; /* all of it off the frame */
    int rw = ix1 - ix0, rh = iy1 - iy0;

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, rw, rh);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        tw_diag_set(diag, "no memory for the legend's labels (%dx%d pixels)", rw, rh);
        cairo_surface_destroy(s);
        return TW_ERR_NOMEM;
    }
    /* RGBA bytes -> cairo's native-endian 0xXXRRGGBB words, and back below. */
    cairo_surface_flush(s);
    unsigned char *sp = cairo_image_surface_get_data(s);
    int sstride = cairo_image_surface_get_stride(s);
    for (int j = 0; j < rh; j++) {
        const uint8_t *src = rgba + (size_t)(iy0 + j) * stride + (size_t)ix0 * 4;
        uint32_t *dst = (uint32_t *)(void *)(sp + (size_t)j * (size_t)sstride);
        for (int i = 0; i < rw; i++, src += 4)
            dst[i] = 0xFF000000u | (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
    }
    cairo_surface_mark_dirty(s);

    cr = cairo_create(s);
    cairo_translate(cr, -ix0, -iy0);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    /* A pale panel of rounded boxes, drawn opaque in a group (so where the
     * boxes overlap is no paler) with a hole for the bar and its border,
     * then laid over the frame translucent. */
    double rad = fmin(pad, 6.0);
    cairo_push_group(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    for (int b = 0; b < 2; b++) {
        const double *q = box[b];
        cairo_new_sub_path(cr);
        cairo_arc(cr, q[2] - rad, q[1] + rad, rad, -PI / 2, 0);
        cairo_arc(cr, q[2] - rad, q[3] - rad, rad, 0, PI / 2);
        cairo_arc(cr, q[0] + rad, q[3] - rad, rad, PI / 2, PI);
        cairo_arc(cr, q[0] + rad, q[1] + rad, rad, PI, 3 * PI / 2);
        cairo_close_path(cr);
        cairo_fill(cr);
    }
    cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR);
    cairo_rectangle(cr, rc[0] - 1, rc[1] - 1, rc[2] + 2, rc[3] + 2);
    cairo_fill(cr);
    cairo_pop_group_to_source(cr);
    cairo_paint_with_alpha(cr, 0.82);
    /* Ticks at every label's value, then the words. */
    int vertical = rc[3] >= rc[2];
    double tick = fmax(3.0, round(fs * 0.35));
    cairo_set_source_rgb(cr, 0.08, 0.08, 0.10);
    cairo_set_line_width(cr, 1.0);
    for (uint32_t k = 0; k < n; k++) {
        if (vertical) {
            double vy = round(rc[1] + rc[3] - lb[k].at) + (lb[k].at >= rc[3] ? 0.5 : -0.5);
            cairo_move_to(cr, rc[0] - tick, vy);
            cairo_line_to(cr, rc[0], vy);
        } else {
            double vx = round(rc[0] + lb[k].at) + (lb[k].at >= rc[2] ? -0.5 : 0.5);
            cairo_move_to(cr, vx, rc[1] + rc[3]);
            cairo_line_to(cr, vx, rc[1] + rc[3] + tick);
        }
    }
    cairo_stroke(cr);
    cairo_set_font_size(cr, fs);
    for (uint32_t k = 0; k < n; k++) {
        cairo_move_to(cr, lb[k].bx, lb[k].by);
        cairo_show_text(cr, lb[k].text);
    }
    cairo_set_font_size(cr, title_fs);
    cairo_move_to(cr, tx, ty);
    cairo_show_text(cr, title);
    cs = cairo_status(cr);
    cairo_destroy(cr);

    cairo_surface_flush(s);
    for (int j = 0; j < rh; j++) {
        uint8_t *dst = rgba + (size_t)(iy0 + j) * stride + (size_t)ix0 * 4;
        const uint32_t *src = (const uint32_t *)(const void *)(sp + (size_t)j * (size_t)sstride);
        for (int i = 0; i < rw; i++, dst += 4) {
            dst[0] = (uint8_t)(src[i] >> 16);
            dst[1] = (uint8_t)(src[i] >> 8);
            dst[2] = (uint8_t)src[i];
        }
    }
    cairo_surface_destroy(s);
    if (cs != CAIRO_STATUS_SUCCESS) {
        tw_diag_set(diag, "drawing the legend's labels failed: %s", cairo_status_to_string(cs));
        return TW_ERR_IO;
    }
    return TW_OK;
}

#else

int tw_view_legend_available(void) { return 0; }

tw_status tw_view_legend_draw(uint8_t *rgba, uint32_t width, uint32_t height, size_t stride,
                              const tw_view_legend *lg, tw_diag *diag)
{
    TW_CHECK(rgba && lg, "tw_view_legend_draw needs pixels and the legend to label.");
    (void)width, (void)height, (void)stride;
    tw_diag_set(diag, "this build has no cairo (install libcairo2-dev and reconfigure): the legend has no labels");
    return TW_ERR_UNSUPPORTED;
}

#endif
