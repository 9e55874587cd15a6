/* PNG files through libpng's simplified API (Debian libpng-dev): frames out,
 * golden images in. */
#include <png.h>
#include <string.h>

#include "twin/render.h"

tw_status tw_render_png_save(const char *path, uint32_t width, uint32_t height, const uint8_t *rgba, size_t stride)
{
    TW_CHECK(path && rgba, "tw_render_png_save needs a path and the pixels.");
    TW_CHECK(width > 0 && height > 0, "tw_render_png_save needs a non-empty image (got %ux%u).", width, height);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = width;
    img.height = height;
    img.format = PNG_FORMAT_RGBA;
    /* The pixels are sRGB-encoded bytes, which is what an 8-bit PNG holds. */
    if (!png_image_write_to_file(&img, path, 0, rgba, (png_int_32)(stride ? stride : (size_t)width * 4), NULL)) {
        png_image_free(&img);
        return TW_ERR_IO;
    }
    return TW_OK;
}

tw_status tw_render_png_load(const char *path, const tw_allocator *alloc, tw_render_image *out)
{
    TW_CHECK(path && out, "tw_render_png_load needs a path and an image to fill.");
    memset(out, 0, sizeof *out);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) return TW_ERR_IO;
    img.format = PNG_FORMAT_RGBA;
    size_t size = PNG_IMAGE_SIZE(img);
    uint8_t *px = tw_alloc(alloc, size);
    if (!px) {
        png_image_free(&img);
        return TW_ERR_NOMEM;
    }
    if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
        tw_free(alloc, px, size);
        png_image_free(&img);
        return TW_ERR_PARSE;
    }
    out->width = img.width;
    out->height = img.height;
    out->rgba = px;
    return TW_OK;
}

void tw_render_image_free(const tw_allocator *alloc, tw_render_image *img)
{
    if (!img) return;
    tw_free(alloc, img->rgba, (size_t)img->width * img->height * 4);
    memset(img, 0, sizeof *img);
}
