/* twin/platform.h: the desktop around the viewer: a window, its input, the
 * Vulkan surface the renderer presents into, and text.
 *
 * SDL2 and SDL2_ttf stay inside engine/platform: this header has plain
 * structs and integers only. The renderer never sees SDL and the platform
 * never sees Vulkan beyond two handles passed as integers (the renderer's
 * VkInstance in, a VkSurfaceKHR out), so each side keeps its own headers.
 *
 * Lifetimes: a tw_platform owns one window; tw_platform_free closes it (the
 * renderer must have destroyed the surface's target first). Fonts are
 * independent of any window: text can be drawn with no display at all,
 * which is what the unit tests do.
 *
 * Pixels: event coordinates are in the window's drawable pixels (what the
 * renderer draws into), top-left origin, so a click maps straight to
 * tw_render_pick. Bitmaps are RGBA8 with premultiplied alpha and sRGB
 * colour, rows top-down (tw_render_overlay's layout). */
#ifndef TWIN_PLATFORM_H
#define TWIN_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "twin/alloc.h"
#include "twin/log.h"
#include "twin/status.h"

/* ---- keys, buttons, modifiers ---------------------------------------------- */

/* Keys: printable keys are their unshifted ASCII character in lower case
 * ('a', '1', ' ', '/', '=', '-', '.'); the rest are these. The same key
 * gives the same code on any layout position SDL reports (SDL keycodes). */
enum {
    TW_KEY_UNKNOWN = 0,
    TW_KEY_BACKSPACE = 8,
    TW_KEY_TAB = 9,
    TW_KEY_RETURN = 13,
    TW_KEY_ESCAPE = 27,
    TW_KEY_SPACE = ' ',
    TW_KEY_F1 = 0x100, /* F1..F12 are consecutive */
    TW_KEY_F12 = TW_KEY_F1 + 11,
    TW_KEY_LEFT = 0x110,
    TW_KEY_RIGHT,
    TW_KEY_UP,
    TW_KEY_DOWN,
    TW_KEY_PAGE_UP,
    TW_KEY_PAGE_DOWN,
    TW_KEY_HOME,
    TW_KEY_END,
    TW_KEY_KP_PLUS,
    TW_KEY_KP_MINUS,
    TW_KEY_KP_PERIOD,
    TW_KEY_SHIFT,
    TW_KEY_CTRL,
    TW_KEY_ALT
};

enum { TW_MOD_SHIFT = 1u << 0, TW_MOD_CTRL = 1u << 1, TW_MOD_ALT = 1u << 2 };

enum { TW_BUTTON_LEFT = 1, TW_BUTTON_MIDDLE = 2, TW_BUTTON_RIGHT = 3 };

/* The key's name as scripts write it ("space", "f1", "a", "slash", "escape");
 * "" for an unknown key. Never NULL. */
const char *tw_platform_key_name(int key);
/* The key a name stands for (case-insensitive; also single characters such
 * as "?" (the '/' key), "+" (the '=' key), "."); TW_KEY_UNKNOWN if none.
 * *mods gets TW_MOD_SHIFT for names that need it ("?", "+"); may be NULL. */
int tw_platform_key_from_name(const char *name, uint32_t *mods);
const char *tw_platform_button_name(int button); /* "left", "middle", "right" */
int tw_platform_button_from_name(const char *name); /* 0 if none */

/* ---- events ---------------------------------------------------------------- */

typedef enum tw_platform_event_type {
    TW_PLATFORM_EVENT_NONE = 0,
    TW_PLATFORM_EVENT_QUIT,        /* the window was closed */
    TW_PLATFORM_EVENT_KEY_DOWN,    /* key, mods, repeat */
    TW_PLATFORM_EVENT_KEY_UP,      /* key, mods */
    TW_PLATFORM_EVENT_MOUSE_DOWN,  /* button, x, y */
    TW_PLATFORM_EVENT_MOUSE_UP,    /* button, x, y */
    TW_PLATFORM_EVENT_MOUSE_MOVE,  /* x, y, buttons held (bit 1 << button) */
    TW_PLATFORM_EVENT_WHEEL,       /* wheel (> 0: away from the user), x, y: the pointer */
    TW_PLATFORM_EVENT_RESIZE       /* width, height: the new drawable size; 0x0: minimised */
} tw_platform_event_type;

typedef struct tw_platform_event {
    tw_platform_event_type type;
    int32_t key;                   /* TW_KEY_* or a lower-case character */
    uint32_t mods;                 /* TW_MOD_* held */
    int32_t repeat;                /* a key held down, repeating */
    int32_t button;                /* TW_BUTTON_* */
    uint32_t buttons;              /* MOUSE_MOVE: buttons held, bit (1 << button) */
    int32_t x, y;                  /* drawable pixels */
    float wheel;                   /* notches */
    uint32_t width, height;        /* RESIZE */
} tw_platform_event;

/* ---- the window -------------------------------------------------------------- */

typedef struct tw_platform tw_platform;

typedef struct tw_platform_desc {
    const char *title;             /* NULL: "twin" */
    uint32_t width, height;        /* window size in pixels; 0: 1280 x 800 */
    const tw_allocator *alloc;     /* NULL: the C library (copied) */
    const tw_log *log;             /* NULL: default (copied) */
} tw_platform_desc;

/* Opens a window that Vulkan can present to. TW_ERR_UNSUPPORTED when there
 * is no display to open it on (no DISPLAY or WAYLAND_DISPLAY, or the server
 * refused) or SDL finds no Vulkan loader; diag says which, in a sentence for
 * the user. The caller frees *out with tw_platform_free. */
tw_status tw_platform_new(const tw_platform_desc *desc, tw_platform **out, tw_diag *diag);
void tw_platform_free(tw_platform *p);

/* Vulkan instance extensions the window's surface needs (VK_KHR_surface and
 * the windowing system's); valid until tw_platform_free. For tw_render_desc. */
void tw_platform_vulkan_extensions(const tw_platform *p, const char *const **names, uint32_t *count);
/* Makes a VkSurfaceKHR for the window from a VkInstance, both as integers.
 * Shaped as tw_render_surface_fn: pass it with the tw_platform as user. */
tw_status tw_platform_create_surface(void *platform, uint64_t vk_instance, uint64_t *vk_surface);
/* The size Vulkan draws at, in pixels (may exceed the window size on HiDPI). 0x0 while minimised. */
void tw_platform_drawable_size(const tw_platform *p, uint32_t *width, uint32_t *height);
/* Asks the window system for a new window size (scripts use it to test resizing). */
void tw_platform_set_size(tw_platform *p, uint32_t width, uint32_t height);
void tw_platform_set_title(tw_platform *p, const char *title);
/* The SDL video driver in use ("x11", "wayland"), for logs. */
const char *tw_platform_driver(const tw_platform *p);

/* Takes the next pending event; returns 0 when there is none. Never blocks. */
int tw_platform_poll(tw_platform *p, tw_platform_event *ev);
/* Sleeps until an event arrives or timeout_ms passes (a minimised viewer). */
void tw_platform_wait(tw_platform *p, int timeout_ms);

/* ---- text ------------------------------------------------------------------- */

/* An RGBA8 bitmap: premultiplied alpha, sRGB colour, rows top-down. */
typedef struct tw_platform_bitmap {
    uint8_t *rgba;
    uint32_t width, height;
    size_t stride;                 /* bytes a row; 0: width * 4 */
} tw_platform_bitmap;

typedef struct tw_platform_font tw_platform_font;

/* Debian's fonts-dejavu-core. */
#define TW_PLATFORM_FONT_DEFAULT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define TW_PLATFORM_FONT_BOLD "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#define TW_PLATFORM_FONT_MONO "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

typedef struct tw_platform_font_desc {
    const char *path;              /* a TrueType/OpenType file; NULL: TW_PLATFORM_FONT_DEFAULT */
    int size_px;                   /* 0: 14 */
    const tw_allocator *alloc;     /* the glyph cache; NULL: the C library (copied) */
} tw_platform_font_desc;

/* TW_ERR_NOT_FOUND (diag names the file and the Debian package) when the
 * font cannot be opened. Needs no window. */
tw_status tw_platform_font_open(const tw_platform_font_desc *desc, tw_platform_font **out, tw_diag *diag);
void tw_platform_font_close(tw_platform_font *f);
int tw_platform_font_line_height(const tw_platform_font *f); /* pixels from one baseline to the next */
/* Width in pixels of a UTF-8 string drawn in one line. */
int tw_platform_text_width(tw_platform_font *f, const char *utf8);
/* Draws a UTF-8 string (one line) with its top-left at (x, y), clipped to
 * the bitmap, blended over what is there in colour rgba (sRGB, straight
 * alpha). Returns the x where the next character would go. Glyphs are
 * rasterised once and cached, so drawing the same characters again
 * allocates nothing. */
int tw_platform_text_draw(tw_platform_font *f, const tw_platform_bitmap *dst, int x, int y, const char *utf8,
                          const uint8_t rgba[4]);

#endif
