/* KPI charts for what-if runs: one PNG per KPI with the baseline and the
 * scenario over time, drawn with cairo (the DESIGN's plotting library).
 * Built only when cairo was found at configure time (TWIN_HAVE_CAIRO);
 * otherwise tw_app_charts_available says so and no chart is written. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app_internal.h"

#ifdef TWIN_HAVE_CAIRO
#include <cairo/cairo.h>

int tw_app_charts_available(void) { return 1; }

enum { W = 800, H = 420, ML = 78, MR = 24, MT = 44, MB = 56 };

/* A "nice" step (1, 2 or 5 times a power of ten) giving about n ticks over span. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void series(cairo_t *cr, const double *t, const double *v, size_t n, size_t stride, double t0, double t1,
                   double v0, double v1)
{
    int pen = 0;
    for (size_t i = 0; i < n; i++) {
        double y = v[i * stride];
        if (!isfinite(y)) {
            pen = 0;
            continue;
        }
        double px = ML + (t[i * stride] - t0) / (t1 - t0) * (W - ML - MR);
        double py = H - MB - (y - v0) / (v1 - v0) * (H - MT - MB);
        if (pen) cairo_line_to(cr, px, py);
        else cairo_move_to(cr, px, py);
        pen = 1;
    }
    cairo_stroke(cr);
}

tw_status tw_app_chart_png(const char *path, const char *title, const char *unit, const double *t, const double *base,
                           const double *scen, size_t n, size_t stride, double fork_t, tw_diag *diag)
{
    double t0 = INFINITY, t1 = -INFINITY, v0 = INFINITY, v1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double tt = t[i * stride], a = base[i * stride], b = scen[i * stride];
        if (tt < t0) t0 = tt;
        if (tt > t1) t1 = tt;
        if (isfinite(a)) { v0 = fmin(v0, a); v1 = fmax(v1, a); }
        if (isfinite(b)) { v0 = fmin(v0, b); v1 = fmax(v1, b); }
    }
    if (!(t1 > t0)) t1 = t0 + 1;
    if (!isfinite(v0)) v0 = 0, v1 = 1;
    if (v1 - v0 < 1e-9 * fmax(1.0, fabs(v1))) {
        double pad = fmax(fabs(v1) * 0.05, 0.5);
        v0 -= pad;
        v1 += pad;
    } else {
        double pad = (v1 - v0) * 0.06;
        v0 -= pad;
        v1 += pad;
    }
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

    /* grid and axis labels */
    char buf[96];
    cairo_set_font_size(cr, 11);
    cairo_set_line_width(cr, 1);
    double vs = nice_step(v1 - v0, 5);
    for (double v = ceil(v0 / vs) * vs; v <= v1; v += vs) {
        double py = H - MB - (v - v0) / (v1 - v0) * (H - MT - MB);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, ML, py);
        cairo_line_to(cr, W - MR, py);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
        snprintf(buf, sizeof buf, "%g", fabs(v) < vs * 1e-6 ? 0.0 : v);
        cairo_text_extents_t ex;
        cairo_text_extents(cr, buf, &ex);
        cairo_move_to(cr, ML - 6 - ex.width, py + 4);
        cairo_show_text(cr, buf);
    }
    double span_h = (t1 - t0) / 3600.0;
    double ts = nice_step(span_h > 0 ? span_h : 1, 6) * 3600.0;
    for (double tt = ceil(t0 / ts) * ts; tt <= t1; tt += ts) {
        double px = ML + (tt - t0) / (t1 - t0) * (W - ML - MR);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, px, MT);
        cairo_line_to(cr, px, H - MB);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
        snprintf(buf, sizeof buf, "%.4gh", tt / 3600.0);
        cairo_move_to(cr, px - 10, H - MB + 16);
        cairo_show_text(cr, buf);
    }
    cairo_move_to(cr, W / 2.0 - 60, H - 14);
    cairo_show_text(cr, "simulated time (h)");
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
    cairo_stroke(cr);

    /* the fork */
    if (fork_t >= t0 && fork_t <= t1) {
        double px = ML + (fork_t - t0) / (t1 - t0) * (W - ML - MR);
        double dash[] = { 4, 4 };
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_move_to(cr, px, MT);
        cairo_line_to(cr, px, H - MB);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    cairo_set_line_width(cr, 2);
    cairo_set_source_rgb(cr, 0.12, 0.39, 0.71); /* baseline: blue */
    series(cr, t, base, n, stride, t0, t1, v0, v1);
    cairo_set_source_rgb(cr, 0.89, 0.40, 0.05); /* scenario: orange */
    series(cr, t, scen, n, stride, t0, t1, v0, v1);

    /* title and legend */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 15);
    snprintf(buf, sizeof buf, "%s%s%s%s", title, unit && unit[0] ? " (" : "", unit ? unit : "", unit && unit[0] ? ")" : "");
    cairo_move_to(cr, ML, 28);
    cairo_show_text(cr, buf);
    cairo_set_font_size(cr, 12);
    const char *names[2] = { "baseline", "scenario" };
    double colours[2][3] = { { 0.12, 0.39, 0.71 }, { 0.89, 0.40, 0.05 } };
    for (int k = 0; k < 2; k++) {
        double x = W - MR - 190 + k * 95;
        cairo_set_source_rgb(cr, colours[k][0], colours[k][1], colours[k][2]);
        cairo_rectangle(cr, x, 18, 18, 4);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x + 24, 25);
        cairo_show_text(cr, names[k]);
    }
    cairo_destroy(cr);
    cairo_status_t cs = cairo_surface_write_to_png(surf, path);
    cairo_surface_destroy(surf);
    if (cs != CAIRO_STATUS_SUCCESS) {
        tw_diag_set(diag, "writing the chart %s failed: %s", path, cairo_status_to_string(cs));
        return TW_ERR_IO;
    }
    return TW_OK;
}

#else

int tw_app_charts_available(void) { return 0; }

tw_status tw_app_chart_png(const char *path, const char *title, const char *unit, const double *t, const double *base,
                           const double *scen, size_t n, size_t stride, double fork_t, tw_diag *diag)
{
    (void)path, (void)title, (void)unit, (void)t, (void)base, (void)scen, (void)n, (void)stride, (void)fork_t;
    tw_diag_set(diag, "this build has no cairo (install libcairo2-dev and reconfigure): no charts");
    return TW_ERR_UNSUPPORTED;
}

#endif
