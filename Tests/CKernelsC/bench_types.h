// bench_types.h — the weight types the timing benches (bench_incache.c, bench_stream.c) know, and their
// synthetic weights: random bytes with finite block scales.
#ifndef BENCH_TYPES_H
#define BENCH_TYPES_H
#include "CKernels.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    ck_type type;
    size_t block_bytes, block_elems;
    int scales;          // f16 scales per block (d, and dmin for Q4_K / Q5_K)
    size_t scale_at[2];  // their byte offsets in the block
    int kquant;          // activations quantized to Q8_K (else Q8_0, or f32 for float types)
    int is_float;
} bench_type;

static const bench_type bench_types[] = {
    {"q4_K", CK_TYPE_Q4_K, 144, 256, 2, {0, 2}, 1, 0}, {"q5_K", CK_TYPE_Q5_K, 176, 256, 2, {0, 2}, 1, 0},
    {"q6_K", CK_TYPE_Q6_K, 210, 256, 1, {208, 0}, 1, 0}, {"q4_0", CK_TYPE_Q4_0, 18, 32, 1, {0, 0}, 0, 0},
    {"q5_0", CK_TYPE_Q5_0, 22, 32, 1, {0, 0}, 0, 0},    {"q8_0", CK_TYPE_Q8_0, 34, 32, 1, {0, 0}, 0, 0},
    {"f16", CK_TYPE_F16, 2, 1, 0, {0, 0}, 0, 1},        {"f32", CK_TYPE_F32, 4, 1, 0, {0, 0}, 0, 1},
};

// The type called `name`, or NULL.
static inline const bench_type *bench_find_type(const char *name) {
    for (size_t i = 0; i < sizeof bench_types / sizeof bench_types[0]; ++i) {
        if (!strcmp(bench_types[i].name, name)) return &bench_types[i];
    }
    return NULL;
}

// rows x cols weights of type bt into w (rows * cols / block_elems * block_bytes bytes): random bytes,
// each block's scales 1/16 (no NaN or subnormals); float types small random values.
static inline void bench_fill_weights(const bench_type *bt, unsigned char *w, size_t rows, size_t cols) {
    const size_t blocks = rows * (cols / bt->block_elems);
    srand(1);
    for (size_t i = 0; i < blocks * bt->block_bytes; ++i) w[i] = (unsigned char)rand();
    if (bt->is_float) {
        for (size_t i = 0; i < rows * cols; ++i) {
            const float v = (float)rand() / (float)RAND_MAX - 0.5f;
            if (bt->type == CK_TYPE_F16) { const uint16_t h = ck_fp32_to_fp16(v); memcpy(w + 2 * i, &h, 2); }
            else memcpy(w + 4 * i, &v, 4);
        }
    }
    for (size_t b = 0; b < blocks; ++b) {
        for (int d = 0; d < bt->scales; ++d) memcpy(w + b * bt->block_bytes + bt->scale_at[d], &(unsigned short){0x2c00}, 2);
    }
}
#endif  // BENCH_TYPES_H
