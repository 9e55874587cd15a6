/* The window and its input, through SDL2.
 *
 * SDL keeps process-wide state of its own; twin holds none: each
 * tw_platform initialises SDL's video subsystem (SDL counts the calls) and
 * quits it when freed. Events are translated into tw_platform_event, with
 * mouse positions scaled from window coordinates into drawable pixels so
 * that they address the renderer's target directly. */
#include <SDL.h>
#include <SDL_vulkan.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin/platform.h"

#define TW_PLATFORM_LOG "platform"

enum { MAX_EXTENSIONS = 16 };

struct tw_platform {
    tw_allocator alloc;
    tw_log log;
    SDL_Window *window;
    const char *extensions[MAX_EXTENSIONS]; /* SDL's static strings */
    uint32_t extension_count;
    uint32_t last_width, last_height;       /* the drawable size last reported */
};

/* ---- key names ------------------------------------------------------------- */

static const struct {
    int key;
    const char *name;
} key_names[] = {
    { TW_KEY_BACKSPACE, "backspace" }, { TW_KEY_TAB, "tab" },        { TW_KEY_RETURN, "return" },
    { TW_KEY_ESCAPE, "escape" },       { TW_KEY_SPACE, "space" },    { TW_KEY_LEFT, "left" },
    { TW_KEY_RIGHT, "right" },         { TW_KEY_UP, "up" },          { TW_KEY_DOWN, "down" },
    { TW_KEY_PAGE_UP, "pageup" },      { TW_KEY_PAGE_DOWN, "pagedown" }, { TW_KEY_HOME, "home" },
    { TW_KEY_END, "end" },             { TW_KEY_KP_PLUS, "kp_plus" }, { TW_KEY_KP_MINUS, "kp_minus" },
    { TW_KEY_KP_PERIOD, "kp_period" }, { TW_KEY_SHIFT, "shift" },    { TW_KEY_CTRL, "ctrl" },
    { TW_KEY_ALT, "alt" },             { '/', "slash" },             { '.', "period" },
    { '=', "equals" },                 { '-', "minus" },             { ',', "comma" },
    { ';', "semicolon" },              { '\'', "quote" },            { '[', "leftbracket" },
    { ']', "rightbracket" },           { '\\', "backslash" },        { '`', "backquote" },
};

const char *tw_platform_key_name(int key)
{
    static const char *const fkeys[12] = { "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12" };
    static const char *const chars[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
                                         "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z" };
    static const char *const digits[] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };
    if (key >= TW_KEY_F1 && key <= TW_KEY_F12) return fkeys[key - TW_KEY_F1];
    if (key >= 'a' && key <= 'z') return chars[key - 'a'];
    if (key >= '0' && key <= '9') return digits[key - '0'];
    for (size_t k = 0; k < sizeof key_names / sizeof key_names[0]; k++)
        if (key_names[k].key == key) return key_names[k].name;
    return "";
}

int tw_platform_key_from_name(const char *name, uint32_t *mods)
{
    if (mods) *mods = 0;
    if (!name || !*name) return TW_KEY_UNKNOWN;
    if (name[1] == '\0') {
        int c = tolower((unsigned char)name[0]);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return c;
        /* Shifted characters on a US layout: the key that types them. */
        static const char shifted[] = "?/+=_->.<,:;\"'{[}]|\\~`";
        for (const char *p = shifted; *p; p += 2)
            if (c == p[0]) {
                if (mods) *mods = TW_MOD_SHIFT;
                return p[1];
            }
        if (c == ' ') return TW_KEY_SPACE;
        if (strchr("/.=-,;'[]\\`", c)) return c;
        return TW_KEY_UNKNOWN;
    }
    char low[32];
    size_t n = 0;
    for (; name[n] && n + 1 < sizeof low; n++) low[n] = (char)tolower((unsigned char)name[n]);
    low[n] = '\0';
    if (low[0] == 'f' && low[1] >= '1' && low[1] <= '9') {
        int v = atoi(low + 1);
        if (v >= 1 && v <= 12) return TW_KEY_F1 + v - 1;
    }
    if (!strcmp(low, "esc")) return TW_KEY_ESCAPE;
    if (!strcmp(low, "enter")) return TW_KEY_RETURN;
    if (!strcmp(low, "plus")) {
        if (mods) *mods = TW_MOD_SHIFT;
        return '=';
    }
    if (!strcmp(low, "question")) {
        if (mods) *mods = TW_MOD_SHIFT;
        return '/';
    }
    if (!strcmp(low, "dot")) return '.';
    for (size_t k = 0; k < sizeof key_names / sizeof key_names[0]; k++)
        if (!strcmp(low, key_names[k].name)) return key_names[k].key;
    return TW_KEY_UNKNOWN;
}

const char *tw_platform_button_name(int button)
{
    switch (button) {
    case TW_BUTTON_LEFT: return "left";
    case TW_BUTTON_MIDDLE: return "middle";
    case TW_BUTTON_RIGHT: return "right";
    default: return "";
    }
}

int tw_platform_button_from_name(const char *name)
{
    if (!name) return 0;
    if (!strcmp(name, "left")) return TW_BUTTON_LEFT;
    if (!strcmp(name, "middle")) return TW_BUTTON_MIDDLE;
    if (!strcmp(name, "right")) return TW_BUTTON_RIGHT;
    return 0;
}

static int key_from_sdl(SDL_Keycode k)
{
    if (k >= SDLK_F1 && k <= SDLK_F12) return TW_KEY_F1 + (int)(k - SDLK_F1);
    if (k >= 'A' && k <= 'Z') return k - 'A' + 'a';
    if (k > 0 && k < 128 && k != SDLK_DELETE) return (int)k; /* SDL's printable keycodes are ASCII */
    switch (k) {
    case SDLK_LEFT: return TW_KEY_LEFT;
    case SDLK_RIGHT: return TW_KEY_RIGHT;
    case SDLK_UP: return TW_KEY_UP;
    case SDLK_DOWN: return TW_KEY_DOWN;
    case SDLK_PAGEUP: return TW_KEY_PAGE_UP;
    case SDLK_PAGEDOWN: return TW_KEY_PAGE_DOWN;
    case SDLK_HOME: return TW_KEY_HOME;
    case SDLK_END: return TW_KEY_END;
    case SDLK_KP_PLUS: return TW_KEY_KP_PLUS;
    case SDLK_KP_MINUS: return TW_KEY_KP_MINUS;
    case SDLK_KP_PERIOD: return TW_KEY_KP_PERIOD;
    case SDLK_KP_ENTER: return TW_KEY_RETURN;
    case SDLK_LSHIFT:
    case SDLK_RSHIFT: return TW_KEY_SHIFT;
    case SDLK_LCTRL:
    case SDLK_RCTRL: return TW_KEY_CTRL;
    case SDLK_LALT:
    case SDLK_RALT: return TW_KEY_ALT;
    default: return TW_KEY_UNKNOWN;
    }
}

static uint32_t mods_from_sdl(Uint16 m)
{
    uint32_t out = 0;
    if (m & KMOD_SHIFT) out |= TW_MOD_SHIFT;
    if (m & KMOD_CTRL) out |= TW_MOD_CTRL;
    if (m & KMOD_ALT) out |= TW_MOD_ALT;
    return out;
}

static int button_from_sdl(Uint8 b)
{
    switch (b) {
    case SDL_BUTTON_LEFT: return TW_BUTTON_LEFT;
    case SDL_BUTTON_MIDDLE: return TW_BUTTON_MIDDLE;
    case SDL_BUTTON_RIGHT: return TW_BUTTON_RIGHT;
    default: return 0;
    }
}

/* ---- the window ------------------------------------------------------------- */

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

tw_status tw_platform_new(const tw_platform_desc *desc_in, tw_platform **out, tw_diag *diag)
{
    TW_CHECK(out != NULL, "tw_platform_new needs somewhere to put the platform: out is NULL.");
    *out = NULL;
    tw_platform_desc desc = desc_in ? *desc_in : (tw_platform_desc){ 0 };
    /* Without a display server SDL can only fail; say why in the user's terms. */
    if (!env_set("DISPLAY") && !env_set("WAYLAND_DISPLAY") && !env_set("SDL_VIDEODRIVER")) {
        tw_diag_set(diag, "no display: neither DISPLAY nor WAYLAND_DISPLAY is set. `twin view` needs a desktop "
                          "session (or Xvfb); `twin render` makes headless frames");
        return TW_ERR_UNSUPPORTED;
    }
    tw_allocator a = tw_allocator_or_default(desc.alloc);
    tw_platform *p = tw_calloc(&a, 1, sizeof *p);
    if (!p) return TW_ERR_NOMEM;
    p->alloc = a;
    if (desc.log) p->log = *desc.log;

    /* A click that focuses the window also counts as a click; the viewer
     * may keep the screen awake only while it is in front. */
    SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1"); /* the CLI handles SIGINT itself */
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        tw_diag_set(diag, "no display: SDL could not open one (%s). `twin view` needs a desktop session (or Xvfb); "
                          "`twin render` makes headless frames", SDL_GetError());
        tw_free(&a, p, sizeof *p);
        return TW_ERR_UNSUPPORTED;
    }
    int w = desc.width ? (int)desc.width : 1280, h = desc.height ? (int)desc.height : 800;
    p->window = SDL_CreateWindow(desc.title ? desc.title : "twin", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                                 SDL_WINDOW_VULKAN | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!p->window) {
        tw_diag_set(diag, "could not open a Vulkan window: %s (Debian: libvulkan1 and mesa-vulkan-drivers)",
                    SDL_GetError());
        tw_platform_free(p);
        return TW_ERR_UNSUPPORTED;
    }
    unsigned n = 0;
    if (!SDL_Vulkan_GetInstanceExtensions(p->window, &n, NULL) || n > MAX_EXTENSIONS ||
        !SDL_Vulkan_GetInstanceExtensions(p->window, &n, p->extensions)) {
        tw_diag_set(diag, "SDL cannot name the Vulkan extensions for this window: %s", SDL_GetError());
        tw_platform_free(p);
        return TW_ERR_UNSUPPORTED;
    }
    p->extension_count = n;
    tw_platform_drawable_size(p, &p->last_width, &p->last_height);
    TW_LOG(&p->log, TW_LOG_INFO, TW_PLATFORM_LOG, "window %ux%u on %s", p->last_width, p->last_height,
           tw_platform_driver(p));
    *out = p;
    return TW_OK;
}

void tw_platform_free(tw_platform *p)
{
    if (!p) return;
    if (p->window) SDL_DestroyWindow(p->window);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    tw_allocator a = p->alloc;
    tw_free(&a, p, sizeof *p);
}

void tw_platform_vulkan_extensions(const tw_platform *p, const char *const **names, uint32_t *count)
{
    TW_CHECK(p && names && count, "tw_platform_vulkan_extensions needs a platform and two outputs.");
    *names = p->extensions;
    *count = p->extension_count;
}

tw_status tw_platform_create_surface(void *platform, uint64_t vk_instance, uint64_t *vk_surface)
{
    tw_platform *p = platform;
    TW_CHECK(p && vk_instance && vk_surface,
             "tw_platform_create_surface needs the platform, a VkInstance and somewhere to put the surface.");
    VkSurfaceKHR surface = 0;
    /* VkInstance is a pointer; VkSurfaceKHR a 64-bit handle. */
    if (!SDL_Vulkan_CreateSurface(p->window, (VkInstance)(uintptr_t)vk_instance, &surface)) {
        TW_LOG(&p->log, TW_LOG_ERROR, TW_PLATFORM_LOG, "SDL_Vulkan_CreateSurface failed: %s", SDL_GetError());
        return TW_ERR_UNSUPPORTED;
    }
    *vk_surface = (uint64_t)surface;
    return TW_OK;
}

void tw_platform_drawable_size(const tw_platform *p, uint32_t *width, uint32_t *height)
{
    TW_CHECK(p && width && height, "tw_platform_drawable_size needs a platform and two outputs.");
    int w = 0, h = 0;
    if (!(SDL_GetWindowFlags(p->window) & SDL_WINDOW_MINIMIZED)) SDL_Vulkan_GetDrawableSize(p->window, &w, &h);
    *width = w > 0 ? (uint32_t)w : 0;
    *height = h > 0 ? (uint32_t)h : 0;
}

void tw_platform_set_size(tw_platform *p, uint32_t width, uint32_t height)
{
    TW_CHECK(p && width > 0 && height > 0, "tw_platform_set_size needs a platform and a size of at least 1x1.");
    SDL_SetWindowSize(p->window, (int)width, (int)height);
}

void tw_platform_set_title(tw_platform *p, const char *title)
{
    TW_CHECK(p && title, "tw_platform_set_title needs a platform and a title.");
    SDL_SetWindowTitle(p->window, title);
}

const char *tw_platform_driver(const tw_platform *p)
{
    (void)p;
    const char *d = SDL_GetCurrentVideoDriver();
    return d ? d : "none";
}

/* Window coordinates → drawable pixels (they differ on HiDPI screens). */
static void to_pixels(const tw_platform *p, int wx, int wy, int32_t *x, int32_t *y)
{
    int ww = 0, wh = 0, dw = 0, dh = 0;
    SDL_GetWindowSize(p->window, &ww, &wh);
    SDL_Vulkan_GetDrawableSize(p->window, &dw, &dh);
    *x = (ww > 0 && dw > 0 && dw != ww) ? (int32_t)((int64_t)wx * dw / ww) : wx;
    *y = (wh > 0 && dh > 0 && dh != wh) ? (int32_t)((int64_t)wy * dh / wh) : wy;
}

/* A size change (or minimise/restore) becomes one RESIZE event with the
 * drawable size, only when it really changed. */
static int size_event(tw_platform *p, tw_platform_event *ev)
{
    uint32_t w, h;
    tw_platform_drawable_size(p, &w, &h);
    if (w == p->last_width && h == p->last_height) return 0;
    p->last_width = w;
    p->last_height = h;
    ev->type = TW_PLATFORM_EVENT_RESIZE;
    ev->width = w;
    ev->height = h;
    return 1;
}

static int translate(tw_platform *p, const SDL_Event *e, tw_platform_event *ev)
{
    memset(ev, 0, sizeof *ev);
    switch (e->type) {
    case SDL_QUIT: ev->type = TW_PLATFORM_EVENT_QUIT; return 1;
    case SDL_WINDOWEVENT:
        switch (e->window.event) {
        case SDL_WINDOWEVENT_CLOSE: ev->type = TW_PLATFORM_EVENT_QUIT; return 1;
        case SDL_WINDOWEVENT_SIZE_CHANGED:
        case SDL_WINDOWEVENT_RESIZED:
        case SDL_WINDOWEVENT_MINIMIZED:
        case SDL_WINDOWEVENT_RESTORED:
        case SDL_WINDOWEVENT_MAXIMIZED:
        case SDL_WINDOWEVENT_SHOWN:
        case SDL_WINDOWEVENT_EXPOSED: return size_event(p, ev);
        default: return 0;
        }
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        ev->type = e->type == SDL_KEYDOWN ? TW_PLATFORM_EVENT_KEY_DOWN : TW_PLATFORM_EVENT_KEY_UP;
        ev->key = key_from_sdl(e->key.keysym.sym);
        ev->mods = mods_from_sdl(e->key.keysym.mod);
        ev->repeat = e->key.repeat;
        return ev->key != TW_KEY_UNKNOWN;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        ev->type = e->type == SDL_MOUSEBUTTONDOWN ? TW_PLATFORM_EVENT_MOUSE_DOWN : TW_PLATFORM_EVENT_MOUSE_UP;
        ev->button = button_from_sdl(e->button.button);
        to_pixels(p, e->button.x, e->button.y, &ev->x, &ev->y);
        ev->mods = mods_from_sdl(SDL_GetModState());
        return ev->button != 0;
    case SDL_MOUSEMOTION: {
        ev->type = TW_PLATFORM_EVENT_MOUSE_MOVE;
        to_pixels(p, e->motion.x, e->motion.y, &ev->x, &ev->y);
        Uint32 s = e->motion.state;
        if (s & SDL_BUTTON_LMASK) ev->buttons |= 1u << TW_BUTTON_LEFT;
        if (s & SDL_BUTTON_MMASK) ev->buttons |= 1u << TW_BUTTON_MIDDLE;
        if (s & SDL_BUTTON_RMASK) ev->buttons |= 1u << TW_BUTTON_RIGHT;
        ev->mods = mods_from_sdl(SDL_GetModState());
        return 1;
    }
    case SDL_MOUSEWHEEL: {
        ev->type = TW_PLATFORM_EVENT_WHEEL;
        float dy = e->wheel.preciseY != 0.0f ? e->wheel.preciseY : (float)e->wheel.y;
        if (e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED) dy = -dy;
        ev->wheel = dy;
        int mx = 0, my = 0;
        SDL_GetMouseState(&mx, &my);
        to_pixels(p, mx, my, &ev->x, &ev->y);
        ev->mods = mods_from_sdl(SDL_GetModState());
        return dy != 0.0f;
    }
    default: return 0;
    }
}

int tw_platform_poll(tw_platform *p, tw_platform_event *ev)
{
    TW_CHECK(p && ev, "tw_platform_poll needs a platform and an event to fill.");
    SDL_Event e;
    while (SDL_PollEvent(&e))
        if (translate(p, &e, ev)) return 1;
    return 0;
}

void tw_platform_wait(tw_platform *p, int timeout_ms)
{
    TW_CHECK(p != NULL, "tw_platform_wait needs a platform: p is NULL.");
    /* Leaves the event queued for the next tw_platform_poll. */
    SDL_WaitEventTimeout(NULL, timeout_ms);
}
