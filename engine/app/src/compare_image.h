/* compare_image.h: two frames of a what-if side by side, captioned (cairo). */
#ifndef TWIN_APP_COMPARE_IMAGE_H
#define TWIN_APP_COMPARE_IMAGE_H

#include "twin/status.h"

/* 1 when this build can compose the picture (cairo found at configure time). */
int app_compare_available(void);
/* Reads two PNGs and writes them side by side into out_png, each under a
 * caption bar (left: blue mark, right: orange, as in the charts). Images of
 * different sizes are top-aligned. TW_ERR_IO (with the file named in diag)
 * when one cannot be read or the result cannot be written;
 * TW_ERR_UNSUPPORTED without cairo. */
tw_status app_compare_png(const char *left_png, const char *right_png, const char *left_caption,
                          const char *right_caption, const char *out_png, tw_diag *diag);

#endif
