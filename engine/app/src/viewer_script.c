/* Viewer scripts: input events replayed frame by frame (twin/viewer.h).
 *
 * The format is one event a line so that a recorded session diffs well and
 * a test script reads as what a person did. Compound events (drag, click,
 * key) are expanded here into the primitive platform events the viewer's
 * input handling sees from a real window, so scripted and live input take
 * exactly the same path. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/viewer.h"

enum { MAX_TOKENS = 8, DEFAULT_DRAG_FRAMES = 10, MAX_DRAG_FRAMES = 1000 };

static tw_status push(tw_viewer_script *s, const tw_viewer_step *st)
{
    if (s->count == s->cap) {
        size_t cap = s->cap;
        void *items = s->steps;
        if (tw_grow(&s->alloc, &items, &cap, (size_t)s->count + 1, sizeof *s->steps) != 0) return TW_ERR_NOMEM;
        s->steps = items;
        s->cap = (uint32_t)cap;
    }
    s->steps[s->count++] = *st;
    return TW_OK;
}

static int parse_int(const char *t, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(t, &end, 10);
    if (errno || end == t || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *t, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (errno || end == t || *end || !(v > -1e6 && v < 1e6)) return -1;
    *out = (float)v;
    return 0;
}

/* "ctrl+shift+q" → key and modifiers. */
static int parse_key(const char *t, int *key, uint32_t *mods)
{
    uint32_t m = 0;
    for (;;) {
        if (!strncmp(t, "ctrl+", 5) && t[5]) m |= TW_MOD_CTRL, t += 5;
        else if (!strncmp(t, "shift+", 6) && t[6]) m |= TW_MOD_SHIFT, t += 6;
        else if (!strncmp(t, "alt+", 4) && t[4]) m |= TW_MOD_ALT, t += 4;
        else break;
    }
    uint32_t km = 0;
    int k = tw_platform_key_from_name(t, &km);
    if (k == TW_KEY_UNKNOWN) return -1;
    *key = k;
    *mods = m | km;
    return 0;
}

static void sort_steps(tw_viewer_script *s)
{
    /* Insertion sort: stable, and scripts are short and nearly sorted. */
    for (uint32_t i = 1; i < s->count; i++) {
        tw_viewer_step x = s->steps[i];
        uint32_t j = i;
        while (j > 0 && s->steps[j - 1].frame > x.frame) {
            s->steps[j] = s->steps[j - 1];
            j--;
        }
        s->steps[j] = x;
    }
}

static tw_status line_error(tw_diag *d, const char *name, uint32_t line, int column, const char *fmt, const char *word)
{
    tw_diag_clear(d);
    if (d) {
        snprintf(d->file, sizeof d->file, "%s", name ? name : "script");
        d->line = (int)line;
        d->column = column;
    }
    tw_diag_set(d, fmt, word);
    return TW_ERR_PARSE;
}

static tw_status parse_line(tw_viewer_script *s, char *text, const char *name, uint32_t line, tw_diag *diag)
{
    char *tok[MAX_TOKENS];
    int col[MAX_TOKENS];
    int n = 0;
    for (char *p = text; *p && n < MAX_TOKENS + 1;) {
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (!*p || *p == '#') break;
        if (n == MAX_TOKENS) return line_error(diag, name, line, (int)(p - text) + 1, "too many words on the line%s", "");
        col[n] = (int)(p - text) + 1;
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r') p++;
        if (*p) *p++ = '\0';
    }
    if (n == 0) return TW_OK;
    long frame;
    if (parse_int(tok[0], 0, 1000000000L, &frame) != 0)
        return line_error(diag, name, line, col[0], "expected a frame number first, not \"%s\"", tok[0]);
    if (n < 2) return line_error(diag, name, line, col[0], "expected an event after the frame number%s", "");
    const char *what = tok[1];
    tw_viewer_step st;
    memset(&st, 0, sizeof st);
    st.frame = (uint64_t)frame;
    st.line = line;
    tw_platform_event *ev = &st.ev;
    long v[4];
    int need_xy = 0, first_xy = 2;

    if (!strcmp(what, "key") || !strcmp(what, "key_down") || !strcmp(what, "key_up")) {
        if (n != 3) return line_error(diag, name, line, col[1], "\"%s\" takes one key name", what);
        int key;
        uint32_t mods;
        if (parse_key(tok[2], &key, &mods) != 0)
            return line_error(diag, name, line, col[2],
                              "unknown key \"%s\" (a letter or digit, space, escape, f1..f12, slash, period, "
                              "plus, minus, ?, ctrl+q, ...)", tok[2]);
        ev->key = key;
        ev->mods = mods;
        if (strcmp(what, "key_up") != 0) {
            ev->type = TW_PLATFORM_EVENT_KEY_DOWN;
            tw_status rc = push(s, &st);
            if (rc) return rc;
        }
        if (strcmp(what, "key_down") != 0) {
            ev->type = TW_PLATFORM_EVENT_KEY_UP;
            return push(s, &st);
        }
        return TW_OK;
    }
    if (!strcmp(what, "mouse_down") || !strcmp(what, "mouse_up") || !strcmp(what, "click")) {
        if (n != 4 && n != 5) return line_error(diag, name, line, col[1], "\"%s\" takes X Y [left|middle|right]", what);
        need_xy = 1;
    } else if (!strcmp(what, "move")) {
        if (n != 4) return line_error(diag, name, line, col[1], "\"%s\" takes X Y", what);
        need_xy = 1;
    } else if (!strcmp(what, "wheel")) {
        if (n != 3 && n != 5) return line_error(diag, name, line, col[1], "\"%s\" takes NOTCHES [X Y]", what);
        if (parse_float(tok[2], &ev->wheel) != 0)
            return line_error(diag, name, line, col[2], "expected a number of notches, not \"%s\"", tok[2]);
        need_xy = n == 5;
        first_xy = 3;
    } else if (!strcmp(what, "drag")) {
        if (n < 6 || n > 8)
            return line_error(diag, name, line, col[1], "\"%s\" takes X0 Y0 X1 Y1 [left|middle|right [FRAMES]]", what);
    } else if (!strcmp(what, "resize")) {
        if (n != 4) return line_error(diag, name, line, col[1], "\"%s\" takes WIDTH HEIGHT", what);
        long w, h;
        if (parse_int(tok[2], 1, 16384, &w) != 0 || parse_int(tok[3], 1, 16384, &h) != 0)
            return line_error(diag, name, line, col[2], "expected a size of 1..16384 pixels, not \"%s\"", tok[2]);
        st.command = TW_VIEWER_RESIZE;
        ev->width = (uint32_t)w;
        ev->height = (uint32_t)h;
        return push(s, &st);
    } else if (!strcmp(what, "screenshot")) {
        if (n > 3) return line_error(diag, name, line, col[1], "\"%s\" takes at most a file name", what);
        st.command = TW_VIEWER_SCREENSHOT;
        if (n == 3) snprintf(st.arg, sizeof st.arg, "%s", tok[2]);
        return push(s, &st);
    } else if (!strcmp(what, "quit")) {
        if (n != 2) return line_error(diag, name, line, col[1], "\"%s\" takes nothing", what);
        st.command = TW_VIEWER_QUIT;
        return push(s, &st);
    } else {
        return line_error(diag, name, line, col[1],
                          "unknown event \"%s\" (key, key_down, key_up, mouse_down, mouse_up, move, wheel, drag, "
                          "click, resize, screenshot, quit)", what);
    }

    int coords = !strcmp(what, "drag") ? 4 : need_xy ? 2 : 0;
    for (int k = 0; k < coords; k++)
        if (parse_int(tok[first_xy + k], -100000, 100000, &v[k]) != 0)
            return line_error(diag, name, line, col[first_xy + k], "expected a pixel coordinate, not \"%s\"",
                              tok[first_xy + k]);
    if (coords) {
        ev->x = (int32_t)v[0];
        ev->y = (int32_t)v[1];
    }
    int bt = first_xy + coords; /* the optional button's token */
    int button = TW_BUTTON_LEFT;
    if (strcmp(what, "wheel") != 0 && strcmp(what, "move") != 0 && n > bt) {
        button = tw_platform_button_from_name(tok[bt]);
        if (!button) return line_error(diag, name, line, col[bt], "expected left, middle or right, not \"%s\"", tok[bt]);
    }
    ev->button = button;

    if (!strcmp(what, "wheel")) {
        ev->type = TW_PLATFORM_EVENT_WHEEL;
        if (!need_xy) ev->x = ev->y = -1; /* wherever the pointer is */
        return push(s, &st);
    }
    if (!strcmp(what, "move")) {
        ev->type = TW_PLATFORM_EVENT_MOUSE_MOVE;
        ev->button = 0;
        return push(s, &st);
    }
    if (!strcmp(what, "mouse_down") || !strcmp(what, "mouse_up")) {
        ev->type = !strcmp(what, "mouse_down") ? TW_PLATFORM_EVENT_MOUSE_DOWN : TW_PLATFORM_EVENT_MOUSE_UP;
        return push(s, &st);
    }
    if (!strcmp(what, "click")) {
        ev->type = TW_PLATFORM_EVENT_MOUSE_DOWN;
        tw_status rc = push(s, &st);
        if (rc) return rc;
        ev->type = TW_PLATFORM_EVENT_MOUSE_UP;
        return push(s, &st);
    }
    /* drag: down at the start, a move each frame, up at the end. */
    long frames = DEFAULT_DRAG_FRAMES;
    if (n == 8 && parse_int(tok[7], 1, MAX_DRAG_FRAMES, &frames) != 0)
        return line_error(diag, name, line, col[7], "expected a number of frames (1..1000), not \"%s\"", tok[7]);
    ev->type = TW_PLATFORM_EVENT_MOUSE_MOVE;
    ev->button = 0;
    tw_status rc = push(s, &st);
    if (rc) return rc;
    ev->type = TW_PLATFORM_EVENT_MOUSE_DOWN;
    ev->button = button;
    if ((rc = push(s, &st))) return rc;
    for (long k = 1; k <= frames; k++) {
        tw_viewer_step m = st;
        m.frame = (uint64_t)frame + (uint64_t)k;
        m.ev.type = TW_PLATFORM_EVENT_MOUSE_MOVE;
        m.ev.button = 0;
        m.ev.buttons = 1u << button;
        m.ev.x = (int32_t)(v[0] + (v[2] - v[0]) * k / frames);
        m.ev.y = (int32_t)(v[1] + (v[3] - v[1]) * k / frames);
        if ((rc = push(s, &m))) return rc;
    }
    tw_viewer_step up = st;
    up.frame = (uint64_t)frame + (uint64_t)frames;
    up.ev.type = TW_PLATFORM_EVENT_MOUSE_UP;
    up.ev.x = (int32_t)v[2];
    up.ev.y = (int32_t)v[3];
    return push(s, &up);
}

tw_status tw_viewer_script_parse(const char *text, const char *name, const tw_allocator *alloc,
                                 tw_viewer_script *out, tw_diag *diag)
{
    TW_CHECK(text && out, "tw_viewer_script_parse needs the script text and somewhere to put the script.");
    memset(out, 0, sizeof *out);
    out->alloc = tw_allocator_or_default(alloc);
    char buf[1024];
    uint32_t line = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (len >= sizeof buf) {
            tw_viewer_script_fini(out);
            return line_error(diag, name, line, 1, "the line is longer than 1023 characters%s", "");
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        tw_status st = parse_line(out, buf, name, line, diag);
        if (st != TW_OK) {
            tw_viewer_script_fini(out);
            return st;
        }
        p += len + (nl ? 1 : 0);
    }
    sort_steps(out);
    return TW_OK;
}

tw_status tw_viewer_script_load(const char *path, const tw_allocator *alloc, tw_viewer_script *out, tw_diag *diag)
{
    TW_CHECK(path && out, "tw_viewer_script_load needs a path and somewhere to put the script.");
    memset(out, 0, sizeof *out);
    tw_allocator a = tw_allocator_or_default(alloc);
    FILE *f = fopen(path, "rb");
    if (!f) {
        tw_diag_clear(diag);
        if (diag) snprintf(diag->file, sizeof diag->file, "%s", path);
        tw_diag_set(diag, "cannot open the script: %s", strerror(errno));
        return TW_ERR_IO;
    }
    size_t cap = 4096, len = 0;
    char *text = tw_alloc(&a, cap);
    tw_status st = text ? TW_OK : TW_ERR_NOMEM;
    while (st == TW_OK) {
        if (len + 1 >= cap) {
            char *bigger = tw_realloc(&a, text, cap, cap * 2);
            if (!bigger) {
                st = TW_ERR_NOMEM;
                break;
            }
            text = bigger;
            cap *= 2;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
        if (len > (64u << 20)) {
            tw_diag_set(diag, "%s is larger than 64 MiB: not a viewer script", path);
            st = TW_ERR_LIMIT;
        }
    }
    if (st == TW_OK && ferror(f)) {
        tw_diag_set(diag, "cannot read %s", path);
        st = TW_ERR_IO;
    }
    fclose(f);
    if (st == TW_OK) {
        text[len] = '\0';
        st = tw_viewer_script_parse(text, path, &a, out, diag);
    }
    if (text) tw_free(&a, text, cap);
    return st;
}

void tw_viewer_script_fini(tw_viewer_script *s)
{
    if (!s) return;
    tw_free(&s->alloc, s->steps, (size_t)s->cap * sizeof *s->steps);
    s->steps = NULL;
    s->count = s->cap = 0;
}

int tw_viewer_script_write_event(FILE *f, uint64_t frame, const tw_platform_event *ev)
{
    TW_CHECK(f && ev, "tw_viewer_script_write_event needs a file and an event.");
    unsigned long long fr = (unsigned long long)frame;
    switch (ev->type) {
    case TW_PLATFORM_EVENT_KEY_DOWN:
    case TW_PLATFORM_EVENT_KEY_UP: {
        const char *k = tw_platform_key_name(ev->key);
        if (!*k || ev->repeat) return 0;
        fprintf(f, "%llu %s %s%s%s%s\n", fr, ev->type == TW_PLATFORM_EVENT_KEY_DOWN ? "key_down" : "key_up",
                (ev->mods & TW_MOD_CTRL) ? "ctrl+" : "", (ev->mods & TW_MOD_ALT) ? "alt+" : "",
                (ev->mods & TW_MOD_SHIFT) && ev->key != TW_KEY_SHIFT ? "shift+" : "", k);
        return 1;
    }
    case TW_PLATFORM_EVENT_MOUSE_DOWN:
    case TW_PLATFORM_EVENT_MOUSE_UP:
        fprintf(f, "%llu %s %d %d %s\n", fr, ev->type == TW_PLATFORM_EVENT_MOUSE_DOWN ? "mouse_down" : "mouse_up",
                (int)ev->x, (int)ev->y, tw_platform_button_name(ev->button));
        return 1;
    case TW_PLATFORM_EVENT_MOUSE_MOVE: fprintf(f, "%llu move %d %d\n", fr, (int)ev->x, (int)ev->y); return 1;
    case TW_PLATFORM_EVENT_WHEEL:
        fprintf(f, "%llu wheel %g %d %d\n", fr, (double)ev->wheel, (int)ev->x, (int)ev->y);
        return 1;
    default: return 0;
    }
}
