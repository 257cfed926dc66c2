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
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3 && channels != 4)) {
        set_error(err, err_len, "invalid image dimensions or channel count");
        return 1;
    }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 4 ? PNG_FORMAT_RGBA : channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
#ifdef PNG_IMAGE_FLAG_FAST
    /* A one-channel image is a mask of long runs: the fast filters and level compress it as
       well, in a fraction of the time. */
    if (channels == 1) image.flags |= PNG_IMAGE_FLAG_FAST;
#endif
    /* One pass: a buffer of the largest size the PNG can take (libpng's own bound), rather
       than compressing once to learn the size and again to write. */
    png_alloc_size_t size = PNG_IMAGE_PNG_SIZE_MAX(image);
    uint8_t *buffer = malloc(size);
    if (buffer == NULL) {
        set_error(err, err_len, "out of memory");
        png_image_free(&image);
        return 3;
    }
    if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
        set_error(err, err_len, image.message);
        free(buffer);
        png_image_free(&image);
        return 4;
    }
    png_image_free(&image);
    *out = buffer;
    *out_len = size;
    return 0;
}

int ci_png_decode_rgba(const uint8_t *data, size_t len, uint64_t max_pixels, uint8_t **out, int *width, int *height,
                       char *err, size_t err_len) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, len)) {
        set_error(err, err_len, image.message);
        return 1;
    }
    /* The header is read: refuse what would not fit before anything is allocated. */
    if ((uint64_t)image.width * (uint64_t)image.height > max_pixels) {
        set_error(err, err_len, "the image has more pixels than allowed");
        png_image_free(&image);
        return 4;
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
    /* Our own buffer, large enough for any baseline JPEG of this size (raw samples plus
       headers), so the library never replaces it: after an error only our pointer is valid
       and it is freed once. (libjpeg-turbo's own growing buffer would be freed or moved
       behind the caller's back.) */
    size_t capacity = (size_t)width * (size_t)height * 3 + 65536 + (comment != NULL ? strlen(comment) : 0);
    unsigned char *volatile owned = malloc(capacity);
    if (owned == NULL) {
        set_error(err, err_len, "out of memory");
        return 3;
    }
    unsigned char *buffer = owned;
    unsigned long size = (unsigned long)capacity;
    info.err = ci_jpeg_errors(&error);
    if (setjmp(error.jump)) {
        set_error(err, err_len, error.message);
        jpeg_destroy_compress(&info);
        free((void *)owned);
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
    if (buffer != owned) {
        /* Cannot happen with the capacity above; if it did, the library owns both. */
        free((void *)owned);
    }
    *out = buffer;
    *out_len = size;
    return 0;
}

int ci_jpeg_decode_rgb(const uint8_t *data, size_t len, uint64_t max_pixels, int scale_denom, uint8_t **out,
                       int *width, int *height, char *err, size_t err_len) {
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
    /* The header is read: refuse what would not fit before anything is allocated. */
    if ((uint64_t)info.image_width * (uint64_t)info.image_height > max_pixels) {
        set_error(err, err_len, "the image has more pixels than allowed");
        jpeg_destroy_decompress(&info);
        return 3;
    }
    info.out_color_space = JCS_RGB;
    /* DCT scaling: a preview decodes straight to 1/2, 1/4 or 1/8 of the size. */
    if (scale_denom == 2 || scale_denom == 4 || scale_denom == 8) {
        info.scale_num = 1;
        info.scale_denom = (unsigned int)scale_denom;
    }
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

/* libpng reports fatal errors through longjmp on png_jmpbuf; warnings are silenced. */
static void ci_png_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

struct ci_png_source {
    const uint8_t *data;
    size_t len;
    size_t offset;
};

static void ci_png_read(png_structp png, png_bytep out, png_size_t count) {
    struct ci_png_source *source = (struct ci_png_source *)png_get_io_ptr(png);
    if (source->offset + count > source->len) png_error(png, "the PNG is truncated");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

int ci_png_thumbnail(const uint8_t *data, size_t len, uint64_t max_pixels, int box, uint8_t **out,
                     int *width, int *height, char *err, size_t err_len) {
    if (box <= 0) {
        set_error(err, err_len, "invalid preview size");
        return 1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, ci_png_warning);
    if (png == NULL) {
        set_error(err, err_len, "out of memory");
        return 2;
    }
    png_infop info = png_create_info_struct(png);
    /* volatile: assigned after setjmp and freed after a longjmp. */
    uint8_t *volatile row = NULL;
    uint32_t *volatile sums = NULL;
    uint8_t *volatile result = NULL;
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        set_error(err, err_len, "the PNG is damaged or truncated");
        png_destroy_read_struct(&png, info != NULL ? &info : NULL, NULL);
        free((void *)row);
        free((void *)sums);
        free((void *)result);
        return 3;
    }
    struct ci_png_source source = { data, len, 0 };
    png_set_read_fn(png, &source, ci_png_read);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
    if ((uint64_t)w * (uint64_t)h > max_pixels) {
        set_error(err, err_len, "the image has more pixels than allowed");
        png_destroy_read_struct(&png, &info, NULL);
        return 4;
    }
    if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE) {
        /* Rows of an interlaced image come in passes: the caller decodes it whole. */
        set_error(err, err_len, "interlaced");
        png_destroy_read_struct(&png, &info, NULL);
        return 5;
    }
    /* Every PNG becomes 8-bit RGB rows: palettes and grey expanded, 16 bits cut, alpha
       composited on black. */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_read_update_info(png, info);
    double scale = (double)w / box > (double)h / box ? (double)w / box : (double)h / box;
    if (scale < 1) scale = 1;
    int tw = (int)(w / scale); if (tw < 1) tw = 1;
    int th = (int)(h / scale); if (th < 1) th = 1;
    row = malloc(png_get_rowbytes(png, info));
    sums = calloc((size_t)tw * (size_t)th * 4, sizeof(uint32_t));
    result = malloc((size_t)tw * (size_t)th * 3);
    if (row == NULL || sums == NULL || result == NULL) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) {
        png_read_row(png, (png_bytep)row, NULL);
        size_t ty = (size_t)((uint64_t)y * (uint64_t)th / h);
        for (png_uint_32 x = 0; x < w; x++) {
            size_t tx = (size_t)((uint64_t)x * (uint64_t)tw / w);
            uint32_t *cell = (uint32_t *)sums + (ty * (size_t)tw + tx) * 4;
            cell[0] += row[x * 3]; cell[1] += row[x * 3 + 1]; cell[2] += row[x * 3 + 2]; cell[3] += 1;
        }
    }
    for (size_t i = 0; i < (size_t)tw * (size_t)th; i++) {
        uint32_t n = sums[i * 4 + 3] ? sums[i * 4 + 3] : 1;
        result[i * 3] = (uint8_t)(sums[i * 4] / n);
        result[i * 3 + 1] = (uint8_t)(sums[i * 4 + 1] / n);
        result[i * 3 + 2] = (uint8_t)(sums[i * 4 + 2] / n);
    }
    png_destroy_read_struct(&png, &info, NULL);
    free((void *)row);
    free((void *)sums);
    *out = (uint8_t *)result;
    *width = tw;
    *height = th;
    return 0;
}
