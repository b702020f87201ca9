// PNG through libpng and JPEG through libjpeg-turbo, into a caller-owned RGB8 buffer (see
// include/CImageCodecs.h). Both libraries report errors by longjmp: each decoder below owns its
// jmp_buf, every setjmp is in this file, and callers only ever see an ic_status.
//
// Conversions follow stb_image with req_comp = 3 (what llama.cpp's mtmd helper calls): grey to RGB by
// replication, alpha dropped, palette expanded, 16-bit samples cut to their high byte (png_set_strip_16,
// stb's `orig >> 8`), no gamma, CMYK multiplied by K with the same rounding stb uses.
#include "CImageCodecs.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

// A progressive JPEG may carry any number of scans, and each one re-walks the whole coefficient buffer;
// libjpeg-turbo's own TurboJPEG API caps them the same way against that denial of service.
#define IC_JPEG_MAX_SCANS 500
// libpng's default cap on one ancillary chunk's allocation (iCCP, zTXt, ...), kept below max_memory.
#define IC_PNG_CHUNK_MAX ((uint64_t)8 << 20)

static void set_message(char *message, size_t capacity, const char *text) {
    if (capacity == 0) return;
    snprintf(message, capacity, "%s", text);
}

ic_format ic_sniff(const void *bytes, size_t count) {
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const uint8_t *b = bytes;
    if (b == NULL) return IC_FORMAT_UNKNOWN;
    if (count >= 8 && memcmp(b, png_signature, 8) == 0) return IC_FORMAT_PNG;
    if (count >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return IC_FORMAT_JPEG;
    return IC_FORMAT_UNKNOWN;
}

/// Checks a header's size against the limits and the output buffer; IC_OK when decoding may go on.
static ic_status check_size(uint32_t width, uint32_t height, uint32_t expected_width, uint32_t expected_height,
                            const ic_limits *limits, size_t out_capacity, char *message, size_t capacity) {
    if (width == 0 || height == 0) {
        set_message(message, capacity, "the image has zero width or height");
        return IC_MALFORMED;
    }
    if (width != expected_width || height != expected_height) {
        set_message(message, capacity, "the header's size differs from the probed one");
        return IC_BAD_ARGUMENT;
    }
    if (width > limits->max_side || height > limits->max_side || (uint64_t)width * height > limits->max_pixels) {
        set_message(message, capacity, "the image is larger than the limits allow");
        return IC_TOO_LARGE;
    }
    if ((uint64_t)width * height * 3 > out_capacity) {
        set_message(message, capacity, "the output buffer is smaller than width x height x 3");
        return IC_BAD_ARGUMENT;
    }
    return IC_OK;
}

// MARK: - PNG

typedef struct {
    const uint8_t *bytes;
    size_t count;
    size_t offset;
    int ran_out;
    char *message;
    size_t message_capacity;
    jmp_buf jump;
} png_source;

static void png_read_from_memory(png_structp png, png_bytep data, size_t length) {
    png_source *source = png_get_io_ptr(png);
    if (length > source->count - source->offset) {
        source->ran_out = 1;
        png_error(png, "the PNG data ends early");
    }
    memcpy(data, source->bytes + source->offset, length);
    source->offset += length;
}

static void png_on_error(png_structp png, png_const_charp text) {
    png_source *source = png_get_error_ptr(png);
    set_message(source->message, source->message_capacity, text);
    longjmp(source->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

/// Decodes a PNG whose size the caller has probed (png_probe) and checked.
static ic_status png_run(const uint8_t *bytes, size_t count, const ic_limits *limits, const uint32_t *width,
                         const uint32_t *height, uint8_t *out, size_t out_capacity, char *message, size_t capacity) {
    png_source source = {.bytes = bytes, .count = count, .message = message, .message_capacity = capacity};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_on_error, png_on_warning);
    if (png == NULL) {
        set_message(message, capacity, "libpng could not start");
        return IC_TOO_LARGE;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_message(message, capacity, "libpng could not start");
        return IC_TOO_LARGE;
    }
    png_bytep *volatile rows = NULL;
    volatile ic_status status = IC_OK;
    if (setjmp(source.jump)) {
        status = source.ran_out ? IC_TRUNCATED : IC_MALFORMED;
        goto done;
    }
    png_set_read_fn(png, &source, png_read_from_memory);
    png_set_user_limits(png, limits->max_side, limits->max_side);
    png_set_chunk_malloc_max(png, limits->max_memory < IC_PNG_CHUNK_MAX ? limits->max_memory : IC_PNG_CHUNK_MAX);
    png_read_info(png, info);
    png_uint_32 w = 0, h = 0;
    int depth = 0, color = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &color, NULL, NULL, NULL);
    status = check_size(w, h, *width, *height, limits, out_capacity, message, capacity);
    if (status != IC_OK) goto done;

    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if ((color & PNG_COLOR_MASK_COLOR) == 0 && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    // Palette transparency becomes an alpha channel through the expansion above; strip it too.
    png_set_strip_alpha(png);
    if ((color & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
        png_get_rowbytes(png, info) != (size_t)w * 3) {
        set_message(message, capacity, "libpng did not produce 8-bit RGB rows");
        status = IC_UNSUPPORTED;
        goto done;
    }
    rows = malloc((size_t)h * sizeof(png_bytep));
    if (rows == NULL) {
        set_message(message, capacity, "no memory for the row table");
        status = IC_TOO_LARGE;
        goto done;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out + (size_t)y * w * 3;
    png_read_image(png, rows);

done:
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return status;
}

// MARK: - JPEG

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    ic_status status;
    char *message;
    size_t message_capacity;
} jpeg_errors;

static void jpeg_fail(j_common_ptr cinfo, ic_status status) {
    jpeg_errors *errors = (jpeg_errors *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    errors->base.format_message(cinfo, text);
    set_message(errors->message, errors->message_capacity, text);
    errors->status = status;
    longjmp(errors->jump, 1);
}

static void jpeg_on_error(j_common_ptr cinfo) {
    switch (cinfo->err->msg_code) {
    case JERR_INPUT_EOF: jpeg_fail(cinfo, IC_TRUNCATED); break;
    case JERR_OUT_OF_MEMORY:
    case JERR_NO_BACKING_STORE:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW: jpeg_fail(cinfo, IC_TOO_LARGE); break;
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_NO_ARITH_TABLE: jpeg_fail(cinfo, IC_UNSUPPORTED); break;
    default: jpeg_fail(cinfo, IC_MALFORMED); break;
    }
}

/// Warnings (level -1) about corrupt data are failures here: libjpeg would go on and hand back grey
/// or garbled blocks. The few that say nothing about the pixels are let through.
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    switch (cinfo->err->msg_code) {
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_ADOBE_XFORM:
    case JWRN_BOGUS_ICC:
    case JWRN_NOT_SEQUENTIAL: return;
    case JWRN_JPEG_EOF: jpeg_fail(cinfo, IC_TRUNCATED); break;
    default: jpeg_fail(cinfo, IC_MALFORMED); break;
    }
}

static void jpeg_on_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > IC_JPEG_MAX_SCANS) {
        jpeg_errors *errors = (jpeg_errors *)cinfo->err;
        set_message(errors->message, errors->message_capacity, "the JPEG has more progressive scans than allowed");
        errors->status = IC_TOO_LARGE;
        longjmp(errors->jump, 1);
    }
}

/// x × y / 255, rounded, as stb_image multiplies CMYK by K.
static uint8_t multiply_255(uint8_t x, uint8_t y) {
    unsigned t = (unsigned)x * y + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

/// Reads a JPEG's header, and with `limits` its pixels; `limits` NULL means probing.
static ic_status jpeg_run(const uint8_t *bytes, size_t count, const ic_limits *limits, uint32_t *width,
                          uint32_t *height, uint8_t *out, size_t out_capacity, char *message, size_t capacity) {
    struct jpeg_decompress_struct cinfo;
    jpeg_errors errors;
    struct jpeg_progress_mgr progress;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&errors, 0, sizeof errors);
    memset(&progress, 0, sizeof progress);
    cinfo.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = jpeg_on_error;
    errors.base.emit_message = jpeg_on_message;
    errors.message = message;
    errors.message_capacity = capacity;
    uint8_t *volatile cmyk_row = NULL;
    volatile ic_status status = IC_OK;
    if (setjmp(errors.jump)) {
        status = errors.status;
        goto done;
    }
    jpeg_create_decompress(&cinfo);
    if (limits != NULL) {
        cinfo.mem->max_memory_to_use = limits->max_memory > LONG_MAX ? LONG_MAX : (long)limits->max_memory;
    }
    progress.progress_monitor = jpeg_on_progress;
    cinfo.progress = &progress;
    if (count > ULONG_MAX) {
        set_message(message, capacity, "the JPEG is too long");
        status = IC_TOO_LARGE;
        goto done;
    }
    jpeg_mem_src(&cinfo, bytes, (unsigned long)count);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        set_message(message, capacity, "the JPEG has no image (tables only)");
        status = IC_MALFORMED;
        goto done;
    }
    if (limits == NULL) {
        *width = cinfo.image_width;
        *height = cinfo.image_height;
        goto done;
    }
    status = check_size(cinfo.image_width, cinfo.image_height, *width, *height, limits, out_capacity, message, capacity);
    if (status != IC_OK) goto done;

    int cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB: cinfo.out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK:
        // stb_image reads four components as CMYK or YCCK only under an Adobe marker (without one it
        // takes the first three as YCbCr); that guess is not worth copying.
        if (!cinfo.saw_Adobe_marker) {
            set_message(message, capacity, "a four-component JPEG without an Adobe marker (unknown colour space)");
            status = IC_UNSUPPORTED;
            goto done;
        }
        cinfo.out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default:
        set_message(message, capacity, "the JPEG's colour space is not grey, YCbCr, RGB, CMYK or YCCK");
        status = IC_UNSUPPORTED;
        goto done;
    }
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.do_block_smoothing = FALSE;
    jpeg_start_decompress(&cinfo);
    uint32_t w = cinfo.output_width;
    if (w != cinfo.image_width || cinfo.output_height != cinfo.image_height ||
        cinfo.output_components != (cmyk ? 4 : 3)) {
        set_message(message, capacity, "libjpeg did not produce rows of the header's size");
        status = IC_UNSUPPORTED;
        goto done;
    }
    if (cmyk) {
        cmyk_row = malloc((size_t)w * 4);
        if (cmyk_row == NULL) {
            set_message(message, capacity, "no memory for a CMYK row");
            status = IC_TOO_LARGE;
            goto done;
        }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = out + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW target = cmyk ? cmyk_row : row;
        if (jpeg_read_scanlines(&cinfo, &target, 1) != 1) {
            set_message(message, capacity, "the JPEG data ends early");
            status = IC_TRUNCATED;
            goto done;
        }
        if (cmyk) {
            for (uint32_t x = 0; x < w; x++) {
                const uint8_t *p = cmyk_row + (size_t)x * 4;
                row[x * 3 + 0] = multiply_255(p[0], p[3]);
                row[x * 3 + 1] = multiply_255(p[1], p[3]);
                row[x * 3 + 2] = multiply_255(p[2], p[3]);
            }
        }
    }

done:
    free(cmyk_row);
    jpeg_destroy_decompress(&cinfo);
    return status;
}

/// A PNG's size from its IHDR, which must come first: 13 bytes after the signature and the chunk's
/// length and type. libpng's png_read_info would read on to the first IDAT, so a header alone would
/// look truncated; the rest of IHDR (and its CRC) is libpng's to check when decoding.
static ic_status png_probe(const uint8_t *bytes, size_t count, ic_info *info, char *message, size_t capacity) {
    static const uint8_t ihdr[8] = {0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    if (count < 8 + 8 + 8) {
        set_message(message, capacity, "the PNG ends inside its IHDR chunk");
        return IC_TRUNCATED;
    }
    if (memcmp(bytes + 8, ihdr, 8) != 0) {
        set_message(message, capacity, "the PNG does not start with a 13-byte IHDR chunk");
        return IC_MALFORMED;
    }
    const uint8_t *p = bytes + 16;
    uint32_t width = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    uint32_t height = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    if (width > 0x7fffffff || height > 0x7fffffff) {
        set_message(message, capacity, "the PNG's IHDR has a size above 2^31 - 1");
        return IC_MALFORMED;
    }
    info->width = width;
    info->height = height;
    return IC_OK;
}

// MARK: - Entry points

ic_status ic_probe(const void *bytes, size_t count, ic_info *info, char *message, size_t message_capacity) {
    if (message_capacity > 0) message[0] = 0;
    info->format = ic_sniff(bytes, count);
    info->width = 0;
    info->height = 0;
    switch (info->format) {
    case IC_FORMAT_PNG: return png_probe(bytes, count, info, message, message_capacity);
    case IC_FORMAT_JPEG: return jpeg_run(bytes, count, NULL, &info->width, &info->height, NULL, 0, message, message_capacity);
    default:
        set_message(message, message_capacity, "neither a PNG nor a JPEG signature");
        return IC_UNKNOWN_FORMAT;
    }
}

ic_status ic_decode(const void *bytes, size_t count, const ic_limits *limits, uint32_t width, uint32_t height,
                    uint8_t *out, size_t out_capacity, char *message, size_t message_capacity) {
    if (message_capacity > 0) message[0] = 0;
    uint32_t w = width, h = height;
    switch (ic_sniff(bytes, count)) {
    case IC_FORMAT_PNG: return png_run(bytes, count, limits, &w, &h, out, out_capacity, message, message_capacity);
    case IC_FORMAT_JPEG: return jpeg_run(bytes, count, limits, &w, &h, out, out_capacity, message, message_capacity);
    default:
        set_message(message, message_capacity, "neither a PNG nor a JPEG signature");
        return IC_UNKNOWN_FORMAT;
    }
}
