// C entry points for the image codecs Glimpse decodes with.
//
// TurboJPEG and libwebp report errors by return value and are called from Swift directly.
// libpng reports errors with longjmp, which Swift cannot catch, so PNG decoding lives in a
// small C shim (png_decode.c) that turns libpng errors into return codes and messages.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <turbojpeg.h>
#include <webp/decode.h>

/// Reads a PNG header: size, bit depth and colour type (libpng's PNG_COLOR_TYPE_*).
/// Returns 0 on success, -1 with `error` filled in on failure.
int glimpse_png_header(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                       int *bit_depth, int *color_type, char *error, size_t error_size);

/// Decodes a PNG to 8-bit RGB (`width * height * 3` bytes at `rgb`) the way Pillow's
/// `Image.open(...).convert("RGB")` does: palette expanded, alpha dropped (not composited),
/// 16-bit RGB reduced to its high byte, 16-bit grayscale clipped to 255 (Pillow's I;16 → RGB).
/// Returns 0 on success, -1 with `error` filled in on failure (truncated or corrupt data).
int glimpse_png_decode_rgb(const uint8_t *data, size_t size, uint8_t *rgb, uint32_t width,
                           uint32_t height, char *error, size_t error_size);

/// Copies the payload of the PNG `eXIf` chunk, if any, to a malloc'd buffer (caller frees).
/// Returns its length, or 0 when there is none.
size_t glimpse_png_exif(const uint8_t *data, size_t size, uint8_t **exif);
