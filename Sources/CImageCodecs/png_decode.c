#include "CImageCodecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const uint8_t *data;
  size_t size;
  size_t offset;
  char *error;
  size_t error_size;
} png_source;

static void read_from_memory(png_structp png, png_bytep out, size_t length) {
  png_source *source = (png_source *)png_get_io_ptr(png);
  if (source->offset + length > source->size) {
    png_error(png, "truncated PNG data");
  }
  memcpy(out, source->data + source->offset, length);
  source->offset += length;
}

static void on_error(png_structp png, png_const_charp message) {
  png_source *source = (png_source *)png_get_error_ptr(png);
  snprintf(source->error, source->error_size, "%s", message);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

/// Creates the read structs; the caller must set the jump point before any libpng call.
static int open_png(png_source *source, png_structp *png, png_infop *info) {
  *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, on_error, on_warning);
  if (!*png) {
    snprintf(source->error, source->error_size, "out of memory");
    return -1;
  }
  *info = png_create_info_struct(*png);
  if (!*info) {
    png_destroy_read_struct(png, NULL, NULL);
    snprintf(source->error, source->error_size, "out of memory");
    return -1;
  }
  png_set_read_fn(*png, source, read_from_memory);
  // Decompression bombs are refused by the caller from the header's size; allow big chunks.
  png_set_user_limits(*png, 0x7fffffff, 0x7fffffff);
  return 0;
}

int glimpse_png_header(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                       int *bit_depth, int *color_type, char *error, size_t error_size) {
  png_source source = {data, size, 0, error, error_size};
  png_structp png;
  png_infop info;
  if (open_png(&source, &png, &info) != 0) return -1;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    return -1;
  }
  png_read_info(png, info);
  *width = png_get_image_width(png, info);
  *height = png_get_image_height(png, info);
  *bit_depth = png_get_bit_depth(png, info);
  *color_type = png_get_color_type(png, info);
  png_destroy_read_struct(&png, &info, NULL);
  return 0;
}

/// Sets libpng's transformations so every row comes out as 8-bit RGB (or 16-bit gray).
static int configure_transforms(png_structp png, png_infop info) {
  int color_type = png_get_color_type(png, info);
  int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  // 16-bit gray is kept at 16 bits and clipped below, as Pillow's I;16 -> RGB does.
  int gray16 = (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) &&
               bit_depth == 16;
  if (bit_depth == 16 && !gray16) png_set_strip_16(png);
  // Expanding a palette also turns tRNS into an alpha channel; Pillow's convert("RGB")
  // ignores transparency, so alpha is stripped whatever its origin.
  if ((color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) {
    png_set_strip_alpha(png);
  }
  if (gray16) png_set_swap(png);  // host (little-endian) order for the clip below
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return gray16;
}

/// Copies decoded gray rows into packed 8-bit RGB: each value fills three channels, 16-bit
/// gray is clipped as Pillow's I;16 -> RGB does.
static void pack_rgb(png_bytep *rows, uint8_t *rgb, uint32_t width, uint32_t height, int gray16) {
  for (uint32_t y = 0; y < height; y++) {
    uint8_t *out = rgb + (size_t)y * width * 3;
    if (gray16) {
      const uint16_t *row = (const uint16_t *)rows[y];
      for (uint32_t x = 0; x < width; x++) {
        uint16_t value = row[x];
        uint8_t clipped = value > 255 ? 255 : (uint8_t)value;
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = clipped;
      }
    } else {
      for (uint32_t x = 0; x < width; x++) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = rows[y][x];
    }
  }
}

int glimpse_png_decode_rgb(const uint8_t *data, size_t size, uint8_t *rgb, uint32_t width,
                           uint32_t height, char *error, size_t error_size) {
  png_source source = {data, size, 0, error, error_size};
  png_structp png;
  png_infop info;
  // Assigned after setjmp and read after longjmp: without volatile the compiler may keep
  // them in registers that longjmp restores to their old (NULL) values, and the buffers leak
  // on every corrupt file.
  uint8_t *volatile scratch = NULL;
  png_bytep *volatile rows = NULL;
  if (open_png(&source, &png, &info) != 0) return -1;
  if (setjmp(png_jmpbuf(png))) {
    free(rows);
    free(scratch);
    png_destroy_read_struct(&png, &info, NULL);
    return -1;
  }
  png_read_info(png, info);
  if (png_get_image_width(png, info) != width || png_get_image_height(png, info) != height) {
    png_error(png, "image size changed between header and decode");
  }
  int gray16 = configure_transforms(png, info);
  size_t row_bytes = png_get_rowbytes(png, info);
  int direct = !gray16 && png_get_channels(png, info) == 3;
  rows = malloc(sizeof(png_bytep) * height);
  // 8-bit RGB rows are decoded straight into the output; gray needs a scratch buffer.
  if (!direct) scratch = malloc(row_bytes * height);
  if (!rows || (!direct && !scratch)) png_error(png, "out of memory");
  uint8_t *base = direct ? rgb : scratch;
  size_t stride = direct ? (size_t)width * 3 : row_bytes;
  for (uint32_t y = 0; y < height; y++) rows[y] = base + y * stride;
  png_read_image(png, rows);
  if (!direct) pack_rgb(rows, rgb, width, height, gray16);
  free(rows);
  free(scratch);
  png_destroy_read_struct(&png, &info, NULL);
  return 0;
}

size_t glimpse_png_exif(const uint8_t *data, size_t size, uint8_t **exif) {
  char error[128];
  png_source source = {data, size, 0, error, sizeof error};
  png_structp png;
  png_infop info;
  *exif = NULL;
  if (open_png(&source, &png, &info) != 0) return 0;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
  }
  png_read_info(png, info);
  png_uint_32 length = 0;
  png_bytep payload = NULL;
  size_t copied = 0;
  if (png_get_eXIf_1(png, info, &length, &payload) && length > 0) {
    *exif = malloc(length);
    if (*exif) {
      memcpy(*exif, payload, length);
      copied = length;
    }
  }
  png_destroy_read_struct(&png, &info, NULL);
  return copied;
}
