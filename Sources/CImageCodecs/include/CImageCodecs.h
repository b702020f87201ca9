// CImageCodecs: PNG (libpng) and JPEG (libjpeg-turbo) decoding into a caller-owned RGB8 buffer.
//
// Both libraries report errors by longjmp; every setjmp/longjmp stays inside image_codecs.c, so a
// caller only sees a status code and a message. Nothing here allocates memory that outlives a call
// (the libraries' own working memory is freed before each function returns). The Swift module Vision
// owns the policy (limits, error codes) and the pixel buffer.
#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The container format, sniffed from the first bytes.
typedef enum {
    IC_FORMAT_UNKNOWN = 0,
    IC_FORMAT_PNG = 1,
    IC_FORMAT_JPEG = 2,
} ic_format;

/// The outcome of a call.
typedef enum {
    IC_OK = 0,
    /// The bytes end before the image does.
    IC_TRUNCATED = 1,
    /// The bytes are not a valid image of their format (bad header, corrupt data, zero size).
    IC_MALFORMED = 2,
    /// A valid image this decoder does not handle (12-bit JPEG, a colour space it does not convert).
    IC_UNSUPPORTED = 3,
    /// The image exceeds the limits passed in, or needs more working memory than allowed.
    IC_TOO_LARGE = 4,
    /// Neither a PNG nor a JPEG signature.
    IC_UNKNOWN_FORMAT = 5,
    /// The output buffer is smaller than width × height × 3, or the arguments are inconsistent.
    IC_BAD_ARGUMENT = 6,
} ic_status;

/// Bounds applied while decoding (the caller also checks them after ic_probe, before allocating).
typedef struct {
    /// Largest width or height accepted.
    uint32_t max_side;
    /// Largest width × height accepted.
    uint64_t max_pixels;
    /// Most working memory a decoder may ask its library for (libjpeg's max_memory_to_use,
    /// libpng's chunk allocation cap).
    uint64_t max_memory;
} ic_limits;

/// What ic_probe reads from the header.
typedef struct {
    ic_format format;
    uint32_t width;
    uint32_t height;
} ic_info;

/// The format the signature at the start of `bytes` names.
ic_format ic_sniff(const void *_Nullable bytes, size_t count);

/// Reads the header only: the format and the size, with no image-sized allocation.
///
/// On failure writes a NUL-terminated explanation into `message` (when `message_capacity` > 0).
ic_status ic_probe(const void *_Nonnull bytes, size_t count, ic_info *_Nonnull info,
                   char *_Nonnull message, size_t message_capacity);

/// Decodes the whole image into `out` as interleaved RGB8, row-major, `width * 3` bytes a row.
///
/// `width` and `height` are the values ic_probe returned; the decoder refuses an image whose header
/// now says otherwise, or one outside `limits`. `out_capacity` must be at least width × height × 3.
/// Conversions follow stb_image with three requested channels: grey replicated, alpha dropped (not
/// composited), palettes expanded, 16-bit samples reduced to their high byte, no gamma correction,
/// CMYK (Adobe) multiplied by K; EXIF orientation ignored.
ic_status ic_decode(const void *_Nonnull bytes, size_t count, const ic_limits *_Nonnull limits,
                    uint32_t width, uint32_t height, uint8_t *_Nonnull out, size_t out_capacity,
                    char *_Nonnull message, size_t message_capacity);

#ifdef __cplusplus
}
#endif

#endif
