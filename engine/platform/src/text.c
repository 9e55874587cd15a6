/* Text through SDL2_ttf, into RGBA bitmaps.
 *
 * Why a glyph cache instead of TTF_RenderUTF8 per string: a HUD redraws its
 * clock and frame rate every frame, and rendering whole strings makes an
 * SDL surface (a heap allocation) each time. Here each character is
 * rasterised once (anti-aliased, TTF_RenderGlyph32_Blended), its coverage
 * kept through the font's allocator, and strings are laid out glyph by glyph
 * with the font's advances and kerning. Latin text needs no more shaping
 * than that. A character the font lacks is drawn as '?'. */
#include <SDL.h>
#include <SDL_ttf.h>
#include <string.h>

#include "twin/platform.h"

typedef struct glyph {
    uint32_t cp;
    int ready;               /* rasterised (alpha may still be NULL for a blank glyph) */
    int origin_x;            /* the pen position inside the cell */
    int advance;
    int w, h;                /* cell size */
    uint8_t *alpha;          /* w * h coverage */
} glyph;

struct tw_platform_font {
    tw_allocator alloc;
    TTF_Font *font;
    int line_height;
    glyph ascii[128];        /* the common case, direct */
    glyph *extra;            /* everything else, searched linearly (a HUD uses a handful) */
    uint32_t extra_count, extra_cap;
};

tw_status tw_platform_font_open(const tw_platform_font_desc *desc_in, tw_platform_font **out, tw_diag *diag)
{
    TW_CHECK(out != NULL, "tw_platform_font_open needs somewhere to put the font: out is NULL.");
    *out = NULL;
    tw_platform_font_desc desc = desc_in ? *desc_in : (tw_platform_font_desc){ 0 };
    const char *path = desc.path ? desc.path : TW_PLATFORM_FONT_DEFAULT;
    int size = desc.size_px > 0 ? desc.size_px : 14;
    tw_allocator a = tw_allocator_or_default(desc.alloc);
    /* SDL_ttf counts TTF_Init calls; each font holds one. */
    if (TTF_Init() != 0) {
        tw_diag_set(diag, "SDL_ttf could not start: %s", TTF_GetError());
        return TW_ERR_UNSUPPORTED;
    }
    TTF_Font *font = TTF_OpenFont(path, size);
    if (!font) {
        tw_diag_set(diag, "cannot open the font %s: %s (Debian: fonts-dejavu-core)", path, TTF_GetError());
        TTF_Quit();
        return TW_ERR_NOT_FOUND;
    }
    tw_platform_font *f = tw_calloc(&a, 1, sizeof *f);
    if (!f) {
        TTF_CloseFont(font);
        TTF_Quit();
        return TW_ERR_NOMEM;
    }
    f->alloc = a;
    f->font = font;
    /* Light hinting keeps small HUD text crisp without distorting shapes. */
    TTF_SetFontHinting(font, TTF_HINTING_LIGHT);
    f->line_height = TTF_FontLineSkip(font);
    *out = f;
    return TW_OK;
}

static void glyph_free(tw_platform_font *f, glyph *g)
{
    if (g->alpha) tw_free(&f->alloc, g->alpha, (size_t)g->w * (size_t)g->h);
    g->alpha = NULL;
}

void tw_platform_font_close(tw_platform_font *f)
{
    if (!f) return;
    for (int k = 0; k < 128; k++) glyph_free(f, &f->ascii[k]);
    for (uint32_t k = 0; k < f->extra_count; k++) glyph_free(f, &f->extra[k]);
    tw_free(&f->alloc, f->extra, (size_t)f->extra_cap * sizeof *f->extra);
    TTF_CloseFont(f->font);
    TTF_Quit();
    tw_allocator a = f->alloc;
    tw_free(&a, f, sizeof *f);
}

int tw_platform_font_line_height(const tw_platform_font *f)
{
    TW_CHECK(f != NULL, "tw_platform_font_line_height needs a font: f is NULL.");
    return f->line_height;
}

/* Next code point of a UTF-8 string; malformed bytes read as U+FFFD. */
static uint32_t utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t c = p[0];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (n < 0) {
        *s += 1;
        return 0xFFFD;
    }
    c = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k <= n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            *s += k;
            return 0xFFFD;
        }
        c = (c << 6) | (p[k] & 0x3F);
    }
    *s += n + 1;
    return c;
}

static void rasterise(tw_platform_font *f, glyph *g, uint32_t cp)
{
    g->cp = cp;
    g->ready = 1;
    if (!TTF_GlyphIsProvided32(f->font, cp)) cp = '?';
    int minx = 0, maxx = 0, miny = 0, maxy = 0, advance = 0;
    if (TTF_GlyphMetrics32(f->font, cp, &minx, &maxx, &miny, &maxy, &advance) != 0) return;
    g->advance = advance;
    /* SDL_ttf lays a one-glyph string out from pen x = 0, widening the cell
     * to the left when the glyph overhangs it. */
    g->origin_x = minx < 0 ? -minx : 0;
    if (cp == ' ') return;
    SDL_Color white = { 255, 255, 255, 255 };
    SDL_Surface *s = TTF_RenderGlyph32_Blended(f->font, cp, white);
    if (!s) return;
    uint8_t *alpha = s->w > 0 && s->h > 0 ? tw_alloc(&f->alloc, (size_t)s->w * (size_t)s->h) : NULL;
    if (alpha) {
        SDL_LockSurface(s);
        for (int y = 0; y < s->h; y++) {
            const uint8_t *row = (const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch;
            for (int x = 0; x < s->w; x++) {
                Uint32 px = 0;
                memcpy(&px, row + (size_t)x * s->format->BytesPerPixel, s->format->BytesPerPixel);
                Uint8 r, gg, b, aa;
                SDL_GetRGBA(px, s->format, &r, &gg, &b, &aa);
                alpha[(size_t)y * (size_t)s->w + (size_t)x] = aa;
            }
        }
        SDL_UnlockSurface(s);
        g->alpha = alpha;
        g->w = s->w;
        g->h = s->h;
    }
    SDL_FreeSurface(s);
}

static const glyph *glyph_get(tw_platform_font *f, uint32_t cp)
{
    glyph *g = NULL;
    if (cp < 128) {
        g = &f->ascii[cp];
    } else {
        for (uint32_t k = 0; k < f->extra_count && !g; k++)
            if (f->extra[k].cp == cp) g = &f->extra[k];
        if (!g) {
            if (f->extra_count == f->extra_cap) {
                size_t cap = f->extra_cap;
                void *items = f->extra;
                if (tw_grow(&f->alloc, &items, &cap, (size_t)f->extra_count + 1, sizeof *f->extra) != 0)
                    return glyph_get(f, '?');
                f->extra = items;
                /* tw_grow leaves the new tail uninitialised. */
                memset(f->extra + f->extra_cap, 0, (cap - f->extra_cap) * sizeof *f->extra);
                f->extra_cap = (uint32_t)cap;
            }
            g = &f->extra[f->extra_count++];
        }
    }
    if (!g->ready) rasterise(f, g, cp);
    return g;
}

int tw_platform_text_width(tw_platform_font *f, const char *utf8)
{
    TW_CHECK(f && utf8, "tw_platform_text_width needs a font and a string.");
    int x = 0;
    uint32_t prev = 0;
    while (*utf8) {
        uint32_t cp = utf8_next(&utf8);
        if (prev) x += TTF_GetFontKerningSizeGlyphs32(f->font, prev, cp);
        x += glyph_get(f, cp)->advance;
        prev = cp;
    }
    return x;
}

int tw_platform_text_draw(tw_platform_font *f, const tw_platform_bitmap *dst, int x, int y, const char *utf8,
                          const uint8_t rgba[4])
{
    TW_CHECK(f && dst && utf8 && rgba, "tw_platform_text_draw needs a font, a bitmap, a string and a colour.");
    size_t stride = dst->stride ? dst->stride : (size_t)dst->width * 4;
    uint32_t prev = 0;
    while (*utf8) {
        uint32_t cp = utf8_next(&utf8);
        if (prev) x += TTF_GetFontKerningSizeGlyphs32(f->font, prev, cp);
        prev = cp;
        const glyph *g = glyph_get(f, cp);
        int gx = x - g->origin_x;
        for (int j = 0; g->alpha && j < g->h; j++) {
            int py = y + j;
            if (py < 0 || py >= (int)dst->height) continue;
            uint8_t *row = dst->rgba + (size_t)py * stride;
            const uint8_t *cov = g->alpha + (size_t)j * (size_t)g->w;
            for (int i = 0; i < g->w; i++) {
                int px = gx + i;
                if (px < 0 || px >= (int)dst->width || !cov[i]) continue;
                /* Premultiplied "over": dst = src + dst * (1 - src_alpha). */
                uint32_t a = (uint32_t)cov[i] * rgba[3] / 255u;
                uint8_t *d = row + (size_t)px * 4;
                for (int c = 0; c < 3; c++) d[c] = (uint8_t)((rgba[c] * a + d[c] * (255u - a) + 127u) / 255u);
                d[3] = (uint8_t)((255u * a + d[3] * (255u - a) + 127u) / 255u);
            }
        }
        x += g->advance;
    }
    return x;
}
