#include "cimaging.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <zlib.h>

static void set_error(char *err, size_t err_len, const char *message) {
    if (err != NULL && err_len > 0) {
        snprintf(err, err_len, "%s", message);
    }
}

void ci_free(void *pointer) { free(pointer); }

int ci_png_encode(const uint8_t *pixels, int width, int height, int channels,
                  uint8_t **out, size_t *out_len, char *err, size_t err_len) {
    if (width <= 0 || height <= 0 || (channels != 3 && channels != 4)) {
        set_error(err, err_len, "invalid image dimensions or channel count");
        return 1;
    }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL)) {
        set_error(err, err_len, image.message);
        png_image_free(&image);
        return 2;
    }
    uint8_t *buffer = malloc(size);
    if (buffer == NULL) {
        set_error(err, err_len, "out of memory");
        return 3;
    }
    if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
        set_error(err, err_len, image.message);
        free(buffer);
        png_image_free(&image);
        return 4;
    }
    *out = buffer;
    *out_len = size;
    return 0;
}

int ci_png_decode_rgba(const uint8_t *data, size_t len, uint8_t **out, int *width, int *height,
                       char *err, size_t err_len) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, len)) {
        set_error(err, err_len, image.message);
        return 1;
    }
    image.format = PNG_FORMAT_RGBA;
    size_t size = PNG_IMAGE_SIZE(image);
    uint8_t *buffer = malloc(size);
    if (buffer == NULL) {
        set_error(err, err_len, "out of memory");
        png_image_free(&image);
        return 2;
    }
    if (!png_image_finish_read(&image, NULL, buffer, 0, NULL)) {
        set_error(err, err_len, image.message);
        free(buffer);
        png_image_free(&image);
        return 3;
    }
    *out = buffer;
    *width = (int)image.width;
    *height = (int)image.height;
    return 0;
}

/* libjpeg reports fatal errors through error_exit; jump back instead of exiting. */
struct ci_jpeg_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void ci_jpeg_error_exit(j_common_ptr info) {
    struct ci_jpeg_error *error = (struct ci_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

static void ci_jpeg_silence(j_common_ptr info, int level) { (void)info; (void)level; }

/* Error handling that jumps back to our setjmp and prints nothing. */
static struct jpeg_error_mgr *ci_jpeg_errors(struct ci_jpeg_error *error) {
    struct jpeg_error_mgr *manager = jpeg_std_error(&error->base);
    error->base.error_exit = ci_jpeg_error_exit;
    error->base.emit_message = ci_jpeg_silence;
    return manager;
}

int ci_jpeg_encode_rgb(const uint8_t *pixels, int width, int height, int quality,
                       const char *comment, uint8_t **out, size_t *out_len, char *err, size_t err_len) {
    if (width <= 0 || height <= 0) {
        set_error(err, err_len, "invalid image dimensions");
        return 1;
    }
    struct jpeg_compress_struct info;
    struct ci_jpeg_error error;
    unsigned char *buffer = NULL;
    unsigned long size = 0;
    info.err = ci_jpeg_errors(&error);
    if (setjmp(error.jump)) {
        set_error(err, err_len, error.message);
        jpeg_destroy_compress(&info);
        free(buffer);
        return 2;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, &buffer, &size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    if (comment != NULL) {
        jpeg_write_marker(&info, JPEG_COM, (const JOCTET *)comment, (unsigned int)strlen(comment));
    }
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    *out = buffer;
    *out_len = size;
    return 0;
}

int ci_jpeg_decode_rgb(const uint8_t *data, size_t len, uint8_t **out, int *width, int *height,
                       char *err, size_t err_len) {
    struct jpeg_decompress_struct info;
    struct ci_jpeg_error error;
    /* volatile: assigned after setjmp and read after a longjmp. */
    uint8_t *volatile buffer = NULL;
    info.err = ci_jpeg_errors(&error);
    if (setjmp(error.jump)) {
        set_error(err, err_len, error.message);
        jpeg_destroy_decompress(&info);
        free((void *)buffer);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)len);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * 3;
    buffer = malloc(stride * info.output_height);
    if (buffer == NULL) {
        set_error(err, err_len, "out of memory");
        jpeg_destroy_decompress(&info);
        return 2;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = (JSAMPROW)(buffer + (size_t)info.output_scanline * stride);
        jpeg_read_scanlines(&info, &row, 1);
    }
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    *out = (uint8_t *)buffer;
    return 0;
}

uint32_t ci_crc32(uint32_t crc, const uint8_t *data, size_t len) {
    return (uint32_t)crc32((uLong)crc, data, (uInt)len);
}
