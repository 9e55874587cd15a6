/* The viewer's 2D layer: HUD, inspector, help and legend labels, drawn on
 * the CPU into the overlay bitmap (premultiplied RGBA, sRGB).
 *
 * Each element clears and fills its own rectangle and lists it in the
 * overlay, so the renderer uploads and blends only those rectangles and
 * nothing has to clear the whole bitmap. Text comes from SDL2_ttf through
 * engine/platform's glyph cache. The inspector reads every reflected field
 * of every component of the selected entity, so a new component shows up
 * here with no code. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "twin/clock.h"
#include "viewer_internal.h"

/* Colours: sRGB, straight alpha. */
static const uint8_t C_PANEL[4] = { 22, 26, 32, 242 };
static const uint8_t C_BORDER[4] = { 80, 92, 108, 255 };
static const uint8_t C_TEXT[4] = { 236, 239, 243, 255 };
static const uint8_t C_DIM[4] = { 150, 162, 176, 255 };
static const uint8_t C_ACCENT[4] = { 120, 196, 255, 255 };
static const uint8_t C_DERIVED[4] = { 170, 214, 170, 255 };
static const uint8_t C_WARN[4] = { 255, 196, 84, 255 };

enum { PAD = 10, INSPECTOR_W = 380, VALUE_X = 168, MAX_ROWS = VIEWER_MAX_ROWS };

int viewer_rect_contains(const viewer_rect *r, int x, int y)
{
    return r->w > 0 && x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h;
}

/* ---- the canvas -------------------------------------------------------------------- */

static tw_platform_bitmap canvas(const viewer *v)
{
    return (tw_platform_bitmap){ v->canvas, v->width, v->height, (size_t)v->width * 4 };
}

static viewer_rect clip(const viewer *v, viewer_rect r)
{
    int x0 = r.x < 0 ? 0 : r.x, y0 = r.y < 0 ? 0 : r.y;
    int x1 = r.x + r.w, y1 = r.y + r.h;
    if (x1 > (int)v->width) x1 = (int)v->width;
    if (y1 > (int)v->height) y1 = (int)v->height;
    if (x1 <= x0 || y1 <= y0) return (viewer_rect){ 0, 0, 0, 0 };
    return (viewer_rect){ x0, y0, x1 - x0, y1 - y0 };
}

/* Premultiplied "over" of a flat colour; a = 0 with clear clears. */
static void fill(viewer *v, viewer_rect r, const uint8_t c[4], int clear)
{
    r = clip(v, r);
    uint32_t a = c[3];
    if (clear) {
        /* One premultiplied pixel, copied along the row: panels are large. */
        uint8_t px[4] = { (uint8_t)(c[0] * a / 255u), (uint8_t)(c[1] * a / 255u), (uint8_t)(c[2] * a / 255u),
                          (uint8_t)a };
        for (int y = r.y; y < r.y + r.h; y++) {
            uint8_t *p = v->canvas + ((size_t)y * v->width + (size_t)r.x) * 4;
            if (y == r.y) {
                for (int x = 0; x < r.w; x++) memcpy(p + (size_t)x * 4, px, 4);
            } else {
                memcpy(p, v->canvas + ((size_t)r.y * v->width + (size_t)r.x) * 4, (size_t)r.w * 4);
            }
        }
        return;
    }
    for (int y = r.y; y < r.y + r.h; y++) {
        uint8_t *p = v->canvas + ((size_t)y * v->width + (size_t)r.x) * 4;
        for (int x = 0; x < r.w; x++, p += 4) {
            for (int k = 0; k < 3; k++) p[k] = (uint8_t)((c[k] * a + p[k] * (255u - a) + 127u) / 255u);
            p[3] = (uint8_t)((255u * a + p[3] * (255u - a) + 127u) / 255u);
        }
    }
}

static void add_rect(viewer *v, viewer_rect r)
{
    r = clip(v, r);
    if (!r.w) return;
    tw_render_overlay *o = &v->overlay;
    if (o->rect_count == TW_RENDER_OVERLAY_MAX_RECTS) { /* merge into the last one */
        uint32_t *q = o->rects[o->rect_count - 1];
        int x0 = r.x < (int)q[0] ? r.x : (int)q[0], y0 = r.y < (int)q[1] ? r.y : (int)q[1];
        int x1 = r.x + r.w > (int)(q[0] + q[2]) ? r.x + r.w : (int)(q[0] + q[2]);
        int y1 = r.y + r.h > (int)(q[1] + q[3]) ? r.y + r.h : (int)(q[1] + q[3]);
        q[0] = (uint32_t)x0, q[1] = (uint32_t)y0, q[2] = (uint32_t)(x1 - x0), q[3] = (uint32_t)(y1 - y0);
        return;
    }
    uint32_t *q = o->rects[o->rect_count++];
    q[0] = (uint32_t)r.x, q[1] = (uint32_t)r.y, q[2] = (uint32_t)r.w, q[3] = (uint32_t)r.h;
}

/* A panel: cleared, filled, a one-pixel border, listed in the overlay. */
static void panel(viewer *v, viewer_rect r)
{
    fill(v, r, C_PANEL, 1);
    fill(v, (viewer_rect){ r.x, r.y, r.w, 1 }, C_BORDER, 1);
    fill(v, (viewer_rect){ r.x, r.y + r.h - 1, r.w, 1 }, C_BORDER, 1);
    fill(v, (viewer_rect){ r.x, r.y, 1, r.h }, C_BORDER, 1);
    fill(v, (viewer_rect){ r.x + r.w - 1, r.y, 1, r.h }, C_BORDER, 1);
    add_rect(v, r);
}

static int text(viewer *v, tw_platform_font *f, int x, int y, const char *s, const uint8_t c[4])
{
    tw_platform_bitmap b = canvas(v);
    return tw_platform_text_draw(f, &b, x, y, s, c);
}

/* Shortens s in place from the start ("…tail") until it fits max_w. */
static void fit_left(tw_platform_font *f, char *s, int max_w)
{
    if (tw_platform_text_width(f, s) <= max_w) return;
    size_t n = strlen(s);
    char buf[512];
    for (size_t cut = 1; cut < n; cut++) {
        if (((unsigned char)s[cut] & 0xC0) == 0x80) continue; /* a UTF-8 continuation byte */
        snprintf(buf, sizeof buf, "\xE2\x80\xA6%s", s + cut);
        if (tw_platform_text_width(f, buf) <= max_w) {
            memcpy(s, buf, strlen(buf) + 1);
            return;
        }
    }
}

/* Shortens s in place at the end ("head…") until it fits max_w. */
static void fit_right(tw_platform_font *f, char *s, int max_w)
{
    if (tw_platform_text_width(f, s) <= max_w) return;
    size_t n = strlen(s);
    while (n > 0) {
        n--;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        if (n + 4 > 512) continue;
        memcpy(s + n, "\xE2\x80\xA6", 4);
        if (tw_platform_text_width(f, s) <= max_w) return;
    }
}

/* ---- values ------------------------------------------------------------------------------ */

const char *viewer_unit_display(const char *unit) { return tw_view_unit_display(unit); } /* legend_label.c */

static void format_number(double x, tw_type t, char *out, size_t size)
{
    if (t != TW_TYPE_F32 && t != TW_TYPE_F64) {
        snprintf(out, size, "%.0f", x);
        return;
    }
    double a = fabs(x);
    if (!isfinite(x)) snprintf(out, size, "%s", isnan(x) ? "NaN" : x > 0 ? "inf" : "-inf");
    else if (a == 0.0) snprintf(out, size, "0");
    else if (a >= 1e7 || a < 1e-3) snprintf(out, size, "%.3g", x);
    else if (a >= 1000.0) snprintf(out, size, "%.0f", x);
    else if (a >= 100.0) snprintf(out, size, "%.1f", x);
    else if (a >= 1.0) snprintf(out, size, "%.2f", x);
    else snprintf(out, size, "%.3f", x);
}

static void entity_label(const viewer *v, tw_entity e, char *out, size_t size)
{
    if (tw_entity_is_null(e)) {
        snprintf(out, size, "\xE2\x80\x94"); /* an em dash: none */
        return;
    }
    if (!tw_ecs_entity_alive(v->world, e)) {
        snprintf(out, size, "(gone)");
        return;
    }
    if (tw_ecs_entity_path(v->world, e, out, size) < 0) snprintf(out, size, "%s", tw_ecs_entity_name(v->world, e));
}

/* How many elements of an array field are in use (its len_field), or all. */
static uint32_t used_count(const tw_ecs_component_info *info, const void *data, const tw_field *f)
{
    uint32_t count = f->count ? f->count : 1;
    if (!f->len_field || !info) return count;
    uint32_t idx;
    const tw_field *lf = tw_ecs_field_lookup(info, f->len_field, &idx);
    if (!lf || lf->type != TW_TYPE_U32) return count;
    uint32_t n;
    memcpy(&n, (const char *)data + lf->offset, sizeof n);
    return n < count ? n : count;
}

static void format_scalar(const viewer *v, const void *data, const tw_field *f, uint32_t idx, char *out, size_t size)
{
    switch (f->type) {
    case TW_TYPE_ENTITY: {
        tw_entity e;
        memcpy(&e, (const char *)data + f->offset + (size_t)idx * sizeof e, sizeof e);
        entity_label(v, e, out, size);
        return;
    }
    case TW_TYPE_BOOL: {
        double d = 0.0;
        tw_field_read_f64(data, f, idx, &d);
        snprintf(out, size, "%s", d != 0.0 ? "yes" : "no");
        return;
    }
    case TW_TYPE_ENUM: {
        double d = 0.0;
        tw_field_read_f64(data, f, idx, &d);
        int k = (int)d;
        if (f->enum_names && k >= 0 && (uint32_t)k < f->enum_count) snprintf(out, size, "%s", f->enum_names[k]);
        else snprintf(out, size, "%d", k);
        return;
    }
    default: {
        double d = 0.0;
        if (!tw_field_read_f64(data, f, idx, &d)) {
            snprintf(out, size, "?");
            return;
        }
        format_number(d, f->type, out, size);
        return;
    }
    }
}

static void format_field(const viewer *v, const tw_ecs_component_info *info, const void *data, const tw_field *f,
                         char *out, size_t size)
{
    out[0] = '\0';
    if (f->type == TW_TYPE_STR) {
        const char *s = (const char *)data + f->offset;
        uint32_t cap = f->count ? f->count : 1;
        snprintf(out, size, "%.*s", (int)strnlen(s, cap), s);
        if (!out[0]) snprintf(out, size, "\xE2\x80\x94");
        return;
    }
    uint32_t count = f->count ? f->count : 1, tuple = f->tuple ? f->tuple : 1;
    uint32_t used = used_count(info, data, f);
    if (count > 1 && tuple == 2 && f->type == TW_TYPE_F32) { /* a polygon or polyline */
        snprintf(out, size, "%u point%s", used, used == 1 ? "" : "s");
        return;
    }
    size_t len = 0;
    if (count > 1) {
        if (used == 0) {
            snprintf(out, size, "none");
            return;
        }
        if (f->type == TW_TYPE_ENTITY) { /* names only: paths would not fit */
            for (uint32_t k = 0; k < used && k < 3 && len + 1 < size; k++) {
                tw_entity e;
                memcpy(&e, (const char *)data + f->offset + (size_t)k * sizeof e, sizeof e);
                len += (size_t)snprintf(out + len, size - len, "%s%s", k ? ", " : "",
                                        tw_entity_is_null(e) ? "\xE2\x80\x94" : tw_ecs_entity_name(v->world, e));
            }
            if (used > 3 && len + 1 < size) snprintf(out + len, size - len, " \xE2\x80\xA6 (%u)", used);
            return;
        }
    }
    uint32_t elems = count > 1 ? used : 1;
    if (elems > 4) elems = 4;
    for (uint32_t e = 0; e < elems && len + 1 < size; e++) {
        if (tuple > 1) len += (size_t)snprintf(out + len, size - len, "%s(", e ? ", " : "");
        else if (e) len += (size_t)snprintf(out + len, size - len, ", ");
        for (uint32_t t = 0; t < tuple && len + 1 < size; t++) {
            char one[TW_ECS_PATH_MAX];
            format_scalar(v, data, f, e * tuple + t, one, sizeof one);
            len += (size_t)snprintf(out + len, size - len, "%s%s", t ? ", " : "", one);
        }
        if (tuple > 1 && len + 1 < size) len += (size_t)snprintf(out + len, size - len, ")");
    }
    if (count > 1 && used > 4 && len + 1 < size) snprintf(out + len, size - len, " \xE2\x80\xA6 (%u)", used);
}

void viewer_format_field(const viewer *v, const void *data, const tw_field *f, char *out, size_t size)
{
    format_field(v, NULL, data, f, out, size);
}

/* ---- the HUD ---------------------------------------------------------------------------- */

static void clock_text(const viewer *v, char *clock, size_t csize, char *date, size_t dsize, char *elapsed,
                       size_t esize)
{
    double t = tw_sim_time(v->sim);
    double unix_s = v->start_time + t;
    time_t secs = (time_t)floor(unix_s);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(clock, csize, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    strftime(date, dsize, "%a %d %b %Y", &tm);
    long long e = (long long)floor(t);
    long long days = e / 86400;
    if (days > 0)
        snprintf(elapsed, esize, "%lld d %02lld:%02lld:%02lld", days, (e / 3600) % 24, (e / 60) % 60, e % 60);
    else
        snprintf(elapsed, esize, "%02lld:%02lld:%02lld", e / 3600, (e / 60) % 60, e % 60);
}

static void draw_hud(viewer *v)
{
    char clock[32], date[64], elapsed[48], l2[160], l3[160], l4[160], l5[200];
    clock_text(v, clock, sizeof clock, date, sizeof date, elapsed, sizeof elapsed);
    snprintf(l2, sizeof l2, "elapsed %s  \xC2\xB7  tick %llu", elapsed, (unsigned long long)tw_sim_tick(v->sim));
    char speed[64];
    snprintf(speed, sizeof speed, "speed \xC3\x97%g", v->speed);
    int behind = !v->paused && v->achieved > 0.0 && v->achieved < v->speed * 0.8 && v->speed > 1.0;
    if (behind) snprintf(l3, sizeof l3, "%s  (the sim keeps up \xC3\x97%.3g)", speed, v->achieved);
    else snprintf(l3, sizeof l3, "%s", speed);
    snprintf(l4, sizeof l4, "%.0f fps  \xC2\xB7  %.1f ms  \xC2\xB7  %u elements", v->fps, v->frame_ms,
             v->last_stats.instances_drawn);
    size_t n = 0;
    l5[0] = '\0';
    if (v->style.colorby && v->style.colorby[0])
        n += (size_t)snprintf(l5 + n, sizeof l5 - n, "colour: %s", v->style.colorby);
    if (v->isolate && n < sizeof l5)
        n += (size_t)snprintf(l5 + n, sizeof l5 - n, "%sx-ray: %s", n ? "  \xC2\xB7  " : "",
                              tw_ecs_entity_name(v->world, v->style.isolate));
    if (v->section && n < sizeof l5)
        snprintf(l5 + n, sizeof l5 - n, "%ssection %.2f m", n ? "  \xC2\xB7  " : "", (double)v->section_height);

    /* Lines below the fixed four: telemetry counters, the MQTT link, the last alarm transitions. */
    enum { EXTRA = 1 + 3 + 1 + VIEWER_ALARMS };
    char extra[EXTRA][200];
    const uint8_t *extra_c[EXTRA];
    int ne = 0;
    if (v->replay) {
        snprintf(extra[ne], sizeof extra[ne], "REPLAY  %s  \xC2\xB7  \xC3\x97%g%s", v->rp_name, v->speed,
                 v->at_end ? "  \xC2\xB7  end of log" : "");
        extra_c[ne++] = v->at_end ? C_WARN : C_ACCENT;
    }
    const tw_bind *b = viewer_binder(v);
    if (b && v->replay) {
        /* The player's binder restarts its counters at every keyframe it restores: not worth showing. */
        snprintf(extra[ne], sizeof extra[ne], "telemetry as recorded: %u sensors, %u bindings",
                 tw_replay_log_sensor_count(v->rp.log), tw_bind_binding_count(b));
        extra_c[ne++] = C_ACCENT;
    } else if (b) {
        const tw_bind_counters *t = tw_bind_get_counters(b);
        snprintf(extra[ne], sizeof extra[ne],
                 "telemetry  received %llu  \xC2\xB7  applied %llu  \xC2\xB7  rejected %llu  \xC2\xB7  late %llu",
                 (unsigned long long)t->received, (unsigned long long)t->applied, (unsigned long long)t->rejected,
                 (unsigned long long)t->late);
        extra_c[ne++] = C_ACCENT;
        snprintf(extra[ne], sizeof extra[ne], "duplicate %llu  \xC2\xB7  unknown %llu  \xC2\xB7  stale fields %llu",
                 (unsigned long long)t->duplicate, (unsigned long long)t->unknown_sensor,
                 (unsigned long long)t->stale_fields);
        extra_c[ne++] = t->stale_fields ? C_WARN : C_ACCENT;
        tw_bind_mqtt_status ms;
        if (v->live && tw_bind_source_count(v->tel.b) > 0 &&
            tw_bind_mqtt_status_get(tw_bind_source_at(v->tel.b, 0), &ms)) {
            char link[160];
            tw_bind_mqtt_status_format(&ms, link, sizeof link);
            snprintf(extra[ne], sizeof extra[ne], "MQTT: %s", link);
            extra_c[ne++] = ms.state == TW_BIND_MQTT_CONNECTED ? C_ACCENT : C_WARN;
        }
    }
    if (v->alarm_count > 0) {
        uint32_t kept = v->alarm_count < VIEWER_ALARMS ? v->alarm_count : VIEWER_ALARMS;
        snprintf(extra[ne], sizeof extra[ne], "alarms: the last %u of %u transitions", kept, v->alarm_count);
        extra_c[ne++] = C_DIM;
        static const char *const names[] = { "normal", "pending", "ACTIVE" };
        for (uint32_t k = 0; k < kept && ne < EXTRA; k++) {
            const viewer_alarm *a = &v->alarms[(v->alarm_count - 1 - k) % VIEWER_ALARMS];
            char when[40];
            tw_time_format_iso8601(v->start_time + a->time, when, (int)sizeof when);
            int st = a->state >= 0 && a->state <= 2 ? a->state : 0;
            /* "2024-06-03T08:21:20Z": the time of day is enough here. */
            const char *tod = strlen(when) >= 19 ? when + 11 : when;
            snprintf(extra[ne], sizeof extra[ne], "%.8s  %s  %s (%.4g)", tod, a->target, names[st], (double)a->value);
            extra_c[ne++] = st == 2 ? C_WARN : st == 1 ? C_TEXT : C_DIM;
        }
    }

    int lh = v->line;
    int bl = tw_platform_font_line_height(v->bold);
    int w = tw_platform_text_width(v->bold, clock) + 12 + tw_platform_text_width(v->font, date);
    const char *lines[4] = { l2, l3, l4, l5 };
    int nlines = l5[0] ? 4 : 3;
    for (int k = 0; k < nlines; k++) {
        int lw = tw_platform_text_width(v->font, lines[k]);
        if (k == 1 && v->paused) lw += 12 + tw_platform_text_width(v->bold, "PAUSED");
        if (lw > w) w = lw;
    }
    for (int k = 0; k < ne; k++) {
        int lw = tw_platform_text_width(v->font, extra[k]);
        if (lw > w) w = lw;
    }
    int max_w = (int)v->width - 24 - (tw_entity_is_null(v->selected) ? 0 : INSPECTOR_W + 12);
    if (max_w > 200 && w > max_w - 2 * PAD) w = max_w - 2 * PAD;
    viewer_rect r = { 12, 12, w + 2 * PAD, bl + (nlines + ne) * lh + 2 * PAD - 2 };
    panel(v, r);
    int x = r.x + PAD, y = r.y + PAD - 2;
    int cx = text(v, v->bold, x, y, clock, C_TEXT);
    text(v, v->font, cx + 12, y + (bl - lh) / 2 + 1, date, C_DIM);
    y += bl;
    text(v, v->font, x, y, l2, C_DIM);
    y += lh;
    int sx = text(v, v->font, x, y, l3, behind ? C_WARN : C_TEXT);
    if (v->paused) text(v, v->bold, sx + 12, y, "PAUSED", C_WARN);
    y += lh;
    text(v, v->font, x, y, l4, C_DIM);
    y += lh;
    if (l5[0]) {
        text(v, v->font, x, y, l5, C_ACCENT);
        y += lh;
    }
    for (int k = 0; k < ne; k++) {
        fit_right(v->font, extra[k], w);
        text(v, v->font, x, y, extra[k], extra_c[k]);
        y += lh;
    }
}

/* ---- the inspector --------------------------------------------------------------------- */

typedef enum row_kind { ROW_TITLE, ROW_PATH, ROW_INFO, ROW_HEADER, ROW_FIELD, ROW_SENSOR } row_kind;
typedef viewer_row row;

static void draw_inspector(viewer *v)
{
    memset(&v->inspector_rect, 0, sizeof v->inspector_rect);
    if (tw_entity_is_null(v->selected) || (int)v->width < INSPECTOR_W + 40) return;
    row *rows = v->rows;
    uint32_t n = 0;
    tw_ecs_world *w = v->world;
    tw_entity e = v->selected;
    row *r = &rows[n++];
    memset(r, 0, sizeof *r);
    r->kind = ROW_TITLE;
    snprintf(r->left, sizeof r->left, "%s", tw_ecs_entity_name(w, e)[0] ? tw_ecs_entity_name(w, e) : "(unnamed)");
    r = &rows[n++];
    memset(r, 0, sizeof *r);
    r->kind = ROW_PATH;
    entity_label(v, e, r->right, sizeof r->right);
    r = &rows[n++];
    memset(r, 0, sizeof *r);
    r->kind = ROW_INFO;
    const char *ext = tw_ecs_entity_external_id(w, e);
    snprintf(r->right, sizeof r->right, "%s%s%s", tw_kind_name(tw_ecs_entity_kind(w, e)), ext[0] ? "  \xC2\xB7  id " : "",
             ext);

    tw_component comps[TW_ECS_MAX_COMPONENTS];
    uint32_t nc = tw_ecs_entity_components(w, e, comps, TW_ECS_MAX_COMPONENTS);
    if (nc > TW_ECS_MAX_COMPONENTS) nc = TW_ECS_MAX_COMPONENTS;
    for (uint32_t c = 0; c < nc && n < MAX_ROWS; c++) {
        const tw_ecs_component_info *info = tw_ecs_component_get_info(w, comps[c]);
        const void *data = tw_ecs_get(w, e, comps[c]);
        if (!info || !data) continue;
        r = &rows[n++];
        memset(r, 0, sizeof *r);
        r->kind = ROW_HEADER;
        snprintf(r->left, sizeof r->left, "%s", info->name);
        for (uint32_t f = 0; f < info->field_count && n < MAX_ROWS; f++) {
            const tw_field *fd = &info->fields[f];
            r = &rows[n++];
            memset(r, 0, sizeof *r);
            r->kind = ROW_FIELD;
            r->derived = (fd->flags & TW_FIELD_DERIVED) != 0;
            snprintf(r->left, sizeof r->left, "%s", fd->name);
            char value[192];
            format_field(v, info, data, fd, value, sizeof value);
            /* A count of points has no unit, whatever the points are in. */
            int points = (fd->count > 1 && fd->tuple == 2 && fd->type == TW_TYPE_F32);
            const char *unit = points ? "" : viewer_unit_display(fd->unit);
            snprintf(r->right, sizeof r->right, "%s%s%s", value, unit[0] && fd->type != TW_TYPE_ENUM ? " " : "",
                     fd->type != TW_TYPE_ENUM ? unit : "");
            /* TELEMETRY HOOK: the sensor bound to this field, its value and quality. */
            if (v->sensor && n < MAX_ROWS) {
                char s[192];
                if (v->sensor(v->sensor_user, e, comps[c], f, s, sizeof s)) {
                    r = &rows[n++];
                    memset(r, 0, sizeof *r);
                    r->kind = ROW_SENSOR;
                    snprintf(r->right, sizeof r->right, "\xE2\x86\x90 %s", s);
                }
            }
        }
    }
    v->inspector_lines = (int)n;

    int lh = v->line, bl = tw_platform_font_line_height(v->bold), ml = tw_platform_font_line_height(v->mono);
    int max_h = (int)v->height - 24 - 56 - v->bottom; /* room for the legend (and the timeline) at the bottom */
    int x0 = (int)v->width - INSPECTOR_W - 12;
    /* The first rows (title, path, kind) stay; the fields scroll. */
    int head_h = bl + ml + lh + 6;
    int body_rows = (int)n - 3;
    int fits = (max_h - 2 * PAD - head_h) / lh;
    if (fits < 1) fits = 1;
    int scroll = v->inspector_scroll;
    if (scroll > body_rows - fits) scroll = body_rows - fits > 0 ? body_rows - fits : 0;
    v->inspector_scroll = scroll;
    int shown = body_rows - scroll < fits ? body_rows - scroll : fits;
    int more = body_rows - scroll - shown > 0;
    viewer_rect pr = { x0, 12, INSPECTOR_W, 2 * PAD + head_h + (shown + more) * lh };
    panel(v, pr);
    v->inspector_rect = pr;
    int x = x0 + PAD, y = 12 + PAD - 2, inner = INSPECTOR_W - 2 * PAD;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", rows[0].left);
    fit_right(v->bold, buf, inner);
    text(v, v->bold, x, y, buf, C_TEXT);
    y += bl;
    snprintf(buf, sizeof buf, "%s", rows[1].right);
    fit_left(v->mono, buf, inner);
    text(v, v->mono, x, y, buf, C_DIM);
    y += ml;
    text(v, v->font, x, y, rows[2].right, C_ACCENT);
    y += lh + 6;
    for (int k = 0; k < shown; k++) {
        const row *rw = &rows[3 + scroll + k];
        if (rw->kind == ROW_HEADER) {
            text(v, v->bold, x, y, rw->left, C_ACCENT);
        } else if (rw->kind == ROW_SENSOR) {
            snprintf(buf, sizeof buf, "%s", rw->right);
            /* The whole width: sensor id, value, quality and residual are long. */
            fit_right(v->font, buf, inner - 22);
            text(v, v->font, x + 22, y, buf, C_WARN);
        } else {
            snprintf(buf, sizeof buf, "%s", rw->left);
            fit_right(v->font, buf, VALUE_X - 22);
            text(v, v->font, x + 10, y, buf, C_DIM);
            snprintf(buf, sizeof buf, "%s", rw->right);
            fit_right(v->font, buf, inner - VALUE_X);
            text(v, v->font, x + VALUE_X, y, buf, rw->derived ? C_DERIVED : C_TEXT);
        }
        y += lh;
    }
    if (more) {
        snprintf(buf, sizeof buf, "\xE2\x80\xA6 %d more (wheel over the panel scrolls)", body_rows - scroll - shown);
        text(v, v->font, x + 10, y, buf, C_DIM);
    }
}

/* ---- help --------------------------------------------------------------------------------- */

static void draw_help(viewer *v)
{
    memset(&v->help_rect, 0, sizeof v->help_rect);
    if (!v->help) return;
    /* live: 1 shown live only, 2 shown in a replay only, 0 both. */
    static const struct { const char *key, *action; int mode; } keys[] = {
        { "left drag", "orbit", 0 },
        { "right or middle drag", "pan", 0 },
        { "wheel", "zoom", 0 },
        { "W A S D", "fly (Shift: faster)", 0 },
        { "Q / E", "down / up", 0 },
        { "click", "pick: inspect an element", 0 },
        { "F", "focus on the selection", 0 },
        { "H", "home view", 0 },
        { "click or drag the timeline", "seek / scrub the recorded run", 2 },
        { "Space", "pause / run", 1 },
        { "Space", "play / pause (stops at the end of the log)", 2 },
        { "N or .", "one tick (pauses)", 0 },
        { "+ / -", "faster / slower (\xC3\x97" "0.1 \xE2\x80\xA6 \xC3\x97" "1000)", 0 },
        { "[ / ]", "previous / next alarm event", 2 },
        { "Home / End", "start / end of the log", 2 },
        { "C", "colour by: none, temperature, CO\xE2\x82\x82, occupants", 0 },
        { "I", "isolate the selection's storey (x-ray)", 0 },
        { "O", "outlines: by size on screen, on every element, off", 0 },
        { "X", "section plane;  [ ] lower / raise it", 1 },
        { "X", "section plane;  Shift+[ ] lower / raise it", 2 },
        { "F12 or P", "screenshot (twin-screenshot-N.png)", 0 },
        { "F1 or ?", "this help", 0 },
        { "Esc or Ctrl+Q", "quit", 0 },
    };
    const int all = (int)(sizeof keys / sizeof keys[0]);
    int skip = v->replay ? 1 : 2;
    int kw = 0, aw = 0, n = 0;
    for (int k = 0; k < all; k++) {
        if (keys[k].mode == skip) continue;
        int a = tw_platform_text_width(v->bold, keys[k].key), b = tw_platform_text_width(v->font, keys[k].action);
        if (a > kw) kw = a;
        if (b > aw) aw = b;
        n++;
    }
    int lh = v->line + 2, bl = tw_platform_font_line_height(v->bold);
    int w = kw + 24 + aw + 2 * PAD + 8, h = bl + 8 + n * lh + 2 * PAD;
    viewer_rect r = { ((int)v->width - w) / 2, ((int)v->height - v->bottom - h) / 2, w, h };
    panel(v, r);
    v->help_rect = r;
    int x = r.x + PAD + 4, y = r.y + PAD;
    text(v, v->bold, x, y, v->replay ? "twin view \xE2\x80\x94 replay: keys and mouse" : "twin view \xE2\x80\x94 keys and mouse",
         C_ACCENT);
    y += bl + 8;
    for (int k = 0; k < all; k++) {
        if (keys[k].mode == skip) continue;
        text(v, v->bold, x, y, keys[k].key, keys[k].mode == 2 ? C_ACCENT : C_TEXT);
        text(v, v->font, x + kw + 24, y, keys[k].action, C_DIM);
        y += lh;
    }
}

/* ---- the replay timeline ------------------------------------------------------------------ */

/* "HH:MM:SS" (or "HH:MM" when short) of simulated time t from the run's start. */
static void timeline_clock(const viewer *v, double t, int seconds, char *out, size_t size)
{
    time_t secs = (time_t)floor(v->start_time + t + 1e-6);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (seconds) snprintf(out, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    else snprintf(out, size, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

static void draw_timeline(viewer *v)
{
    if (!v->replay || v->timeline_rect.w <= 0) return;
    const viewer_rect r = v->timeline_rect;
    const tw_viewer_timeline *tl = &v->timeline;
    const tw_replay_log *log = v->rp.log;
    double dt = tw_replay_log_header(log)->dt;
    uint64_t now = tw_replay_player_tick(v->rp.player);
    panel(v, r);
    int lh = v->line;

    /* Row 1: what is playing, where, how fast. */
    char buf[256], clock[16], end[16];
    int x = r.x + PAD, y = r.y + 6;
    x = text(v, v->bold, x, y, "REPLAY", C_ACCENT);
    snprintf(buf, sizeof buf, "%s", v->rp_name);
    fit_right(v->font, buf, r.w / 3);
    text(v, v->font, x + 8, y, buf, C_TEXT);
    timeline_clock(v, (double)now * dt, 1, clock, sizeof clock);
    timeline_clock(v, (double)tl->last * dt, 1, end, sizeof end);
    snprintf(buf, sizeof buf, "%s of %s  \xC2\xB7  tick %llu  \xC2\xB7  \xC3\x97%g%s", clock, end,
             (unsigned long long)now, v->speed,
             v->at_end ? "  \xC2\xB7  end of log" : v->paused ? "  \xC2\xB7  paused" : "");
    int bw = tw_platform_text_width(v->font, buf);
    text(v, v->font, r.x + r.w - PAD - bw, y, buf, v->at_end ? C_WARN : C_TEXT);

    /* The track, the part played, the alarm events as marks, the cursor. */
    int ty = y + lh + 8, th = 6;
    int cx = tw_viewer_timeline_x_of(tl, now);
    fill(v, (viewer_rect){ tl->x0, ty, tl->x1 - tl->x0 + 1, th }, (const uint8_t[4]){ 52, 58, 68, 255 }, 1);
    fill(v, (viewer_rect){ tl->x0, ty, cx - tl->x0 + 1, th }, (const uint8_t[4]){ 64, 128, 184, 255 }, 1);
    uint32_t ne = tw_replay_log_event_count(log);
    int last_x = -1, last_s = -1;
    for (uint32_t i = 0; i < ne; i++) {
        uint64_t et;
        tw_sim_event ev;
        tw_replay_log_event_at(log, i, &et, &ev);
        int ex = tw_viewer_timeline_x_of(tl, et + 1);
        int st = ev.state >= 0 && ev.state <= 2 ? ev.state : 0;
        if (ex == last_x && st <= last_s) continue; /* one mark a column: the worst state wins */
        last_x = ex, last_s = st;
        const uint8_t *c = st == 2 ? C_WARN : st == 1 ? C_TEXT : C_DERIVED;
        /* Up from the track for a rising alarm, down for one back to normal. */
        fill(v, (viewer_rect){ ex - 1, st == 0 ? ty + th : ty - 7, 3, 7 }, c, 1);
    }
    fill(v, (viewer_rect){ cx - 1, ty - 6, 3, th + 12 }, C_TEXT, 1);

    /* Clock labels: the span's ends, and round times between them. */
    int ly = ty + th + 5;
    timeline_clock(v, (double)tl->first * dt, 1, buf, sizeof buf);
    int left_end = text(v, v->font, tl->x0, ly, buf, C_DIM);
    int ew = tw_platform_text_width(v->font, end);
    int right_start = tl->x1 - ew;
    text(v, v->font, right_start, ly, end, C_DIM);
    static const double steps[] = { 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 10800, 21600, 43200, 86400 };
    double span = (double)(tl->last - tl->first) * dt;
    int px = tl->x1 - tl->x0;
    if (span <= 0.0 || px <= 0) return;
    int label_w = tw_platform_text_width(v->font, "00:00:00") + 24;
    double step = steps[sizeof steps / sizeof steps[0] - 1];
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        if (steps[k] / span * px >= label_w) {
            step = steps[k];
            break;
        }
    double t0 = (double)tl->first * dt, abs0 = v->start_time + t0;
    double first_mark = ceil(abs0 / step) * step - v->start_time; /* round times of day (UTC) */
    for (double t = first_mark; t < (double)tl->last * dt; t += step) {
        int mx = tw_viewer_timeline_x_of(tl, (uint64_t)llround(t / dt));
        timeline_clock(v, t, step < 60, buf, sizeof buf);
        int w = tw_platform_text_width(v->font, buf);
        fill(v, (viewer_rect){ mx, ty + th, 1, 3 }, C_DIM, 1);
        if (mx - w / 2 <= left_end + 8 || mx + w / 2 >= right_start - 8) continue;
        text(v, v->font, mx - w / 2, ly, buf, C_DIM);
    }
}

/* ---- legend labels and the status line ---------------------------------------------------- */

static void draw_legend(viewer *v)
{
    if (!v->style.colorby || !v->style.colorby[0]) return;
    /* Where viewer.c asked the renderer to put the bar. */
    float bw = fminf(320.0f, (float)v->width * 0.4f);
    int bx = (int)roundf(((float)v->width - bw) * 0.5f), by = (int)v->height - 40 - v->bottom, bwi = (int)roundf(bw);
    int lh = v->line;
    char lo[48], hi[48], title[160];
    const char *unit = "";
    tw_ecs_field_ref ref;
    if (tw_ecs_field_resolve(v->world, v->style.colorby, &ref, NULL) == TW_OK)
        unit = viewer_unit_display(ref.field->unit);
    snprintf(lo, sizeof lo, "%.4g", (double)v->last_stats.value_min);
    snprintf(hi, sizeof hi, "%.4g", (double)v->last_stats.value_max);
    snprintf(title, sizeof title, "%s%s%s%s", v->style.colorby, unit[0] ? " (" : "", unit, unit[0] ? ")" : "");
    int lw = tw_platform_text_width(v->font, lo), hw = tw_platform_text_width(v->font, hi);
    viewer_rect r = { bx - lw - 18, by - lh - 8, bwi + lw + hw + 36, lh + 12 + 12 + 8 };
    panel(v, r);
    /* A hole for the bar the renderer drew: the overlay goes on top of it. */
    fill(v, (viewer_rect){ bx - 1, by - 1, bwi + 2, 14 }, (const uint8_t[4]){ 0, 0, 0, 0 }, 1);
    int tw = tw_platform_text_width(v->font, title);
    text(v, v->font, bx + (bwi - tw) / 2, by - lh - 4, title, C_TEXT);
    text(v, v->font, bx - lw - 8, by + 6 - lh / 2, lo, C_TEXT);
    text(v, v->font, bx + bwi + 8, by + 6 - lh / 2, hi, C_TEXT);
}

static void draw_status(viewer *v, double now)
{
    char buf[256];
    int has_status = v->status[0] && now < v->status_until;
    if (!has_status && tw_entity_is_null(v->selected) && v->frame > 600) return; /* the hint fades once learnt */
    snprintf(buf, sizeof buf, "%s", has_status ? v->status : "F1 or ? for help  \xC2\xB7  click an element to inspect it");
    int w = tw_platform_text_width(v->font, buf);
    int lh = v->line;
    viewer_rect r = { 12, (int)v->height - lh - 2 * 6 - 12 - v->bottom, w + 2 * PAD, lh + 12 };
    if (v->style.colorby && v->style.colorby[0] && r.x + r.w > (int)v->width / 2 - 200) return; /* the legend's place */
    panel(v, r);
    text(v, v->font, r.x + PAD, r.y + 6, buf, has_status ? C_WARN : C_DIM);
}

void viewer_ui_draw(viewer *v, double now)
{
    v->overlay = (tw_render_overlay){ .rgba = v->canvas, .width = v->width, .height = v->height };
    /* rect_count stays at 0 while nothing is drawn: one rect of nothing
     * would mean "the whole image", so an empty overlay is no overlay. */
    draw_hud(v);
    draw_inspector(v);
    draw_legend(v);
    draw_timeline(v);
    draw_status(v, now);
    draw_help(v);
    if (v->overlay.rect_count == 0) v->overlay.width = v->overlay.height = 0;
}
