#ifndef CIMAGING_H
#define CIMAGING_H

#include <stddef.h>
#include <stdint.h>

/* Small wrappers around libpng's simplified API and libjpeg, so that Swift never touches
   setjmp/longjmp. Every function returns 0 on success and a non-zero code on failure, with a
   message copied into `err` (size `err_len`). Buffers returned through `out` are allocated
   with malloc and must be released with ci_free. */

void ci_free(void *pointer);

/* Encodes 8-bit RGB (channels == 3) or RGBA (channels == 4) pixels as PNG. */
int ci_png_encode(const uint8_t *pixels, int width, int height, int channels,
                  uint8_t **out, size_t *out_len, char *err, size_t err_len);

/* Decodes a PNG to 8-bit RGBA; an image of more than `max_pixels` is refused from its header,
   before anything is allocated. */
int ci_png_decode_rgba(const uint8_t *data, size_t len, uint64_t max_pixels, uint8_t **out, int *width, int *height,
                       char *err, size_t err_len);

/* A preview of a non-interlaced PNG that fits `box`x`box`: rows are read one at a time and
   averaged into the preview, so only one row of the image is ever in memory. Returns 5 for an
   interlaced PNG (decode it whole instead). */
int ci_png_thumbnail(const uint8_t *data, size_t len, uint64_t max_pixels, int box, uint8_t **out,
                     int *width, int *height, char *err, size_t err_len);

/* Encodes 8-bit RGB pixels as a baseline JPEG of the given quality (1-100), with an optional
   comment (COM marker), which may be NULL. */
int ci_jpeg_encode_rgb(const uint8_t *pixels, int width, int height, int quality,
                       const char *comment, uint8_t **out, size_t *out_len, char *err, size_t err_len);

/* Decodes a JPEG to 8-bit RGB, at 1/scale_denom of its size (1, 2, 4 or 8: libjpeg's DCT
   scaling); an image of more than `max_pixels` is refused from its header. */
int ci_jpeg_decode_rgb(const uint8_t *data, size_t len, uint64_t max_pixels, int scale_denom, uint8_t **out,
                       int *width, int *height, char *err, size_t err_len);

/* CRC-32 as PNG chunks use it (zlib's). */
uint32_t ci_crc32(uint32_t crc, const uint8_t *data, size_t len);

#endif
