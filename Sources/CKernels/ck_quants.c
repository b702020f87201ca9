// ck_quants.c — type traits, fp16/bf16 conversion, dequantizers and the activation quantizers
// (portable scalar reference).
//
// Dequantizers must reproduce gguf-py's numpy dequantizers bit for bit (committed fixtures check it).
// numpy evaluates `d * sc` then `(d*sc) * q - dmin*m` with a rounding after every operation, so this
// file must never fuse a multiply and an add into an FMA: clang honours the STDC pragma below (and
// its default, -ffp-contract=on, only fuses within one expression, which we also split); GCC ignores
// the pragma, so GCC builds get the optimize pragma and the scripts pass -ffp-contract=off too.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ck_fp16.h"
#include "ck_types.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

// MARK: - Type traits

static const ck_type_traits k_traits[CK_TYPE_COUNT] = {
    [CK_TYPE_F32] = {"f32", 0, 1, 4, CK_TYPE_F32, true},
    [CK_TYPE_F16] = {"f16", 1, 1, 2, CK_TYPE_F32, true},
    [CK_TYPE_BF16] = {"bf16", 30, 1, 2, CK_TYPE_F32, true},
    [CK_TYPE_Q8_0] = {"q8_0", 8, CK_QK8_0, sizeof(block_q8_0), CK_TYPE_Q8_0, true},
    [CK_TYPE_Q4_0] = {"q4_0", 2, CK_QK4_0, sizeof(block_q4_0), CK_TYPE_Q8_0, true},
    [CK_TYPE_Q5_0] = {"q5_0", 6, CK_QK5_0, sizeof(block_q5_0), CK_TYPE_Q8_0, true},
    [CK_TYPE_Q4_K] = {"q4_K", 12, CK_QKK, sizeof(block_q4_K), CK_TYPE_Q8_K, true},
    [CK_TYPE_Q5_K] = {"q5_K", 13, CK_QKK, sizeof(block_q5_K), CK_TYPE_Q8_K, true},
    [CK_TYPE_Q6_K] = {"q6_K", 14, CK_QKK, sizeof(block_q6_K), CK_TYPE_Q8_K, true},
    [CK_TYPE_Q8_K] = {"q8_K", 15, CK_QKK, sizeof(block_q8_K), CK_TYPE_Q8_K, false},
};

const ck_type_traits *ck_type_get_traits(ck_type type) {
    if ((unsigned)type >= CK_TYPE_COUNT) return NULL;
    return &k_traits[type];
}

int ck_type_from_ggml(uint32_t ggml_type) {
    for (int t = 0; t < CK_TYPE_COUNT; ++t) {
        if (k_traits[t].ggml_type == ggml_type) return t;
    }
    return -1;
}

size_t ck_row_bytes(ck_type type, size_t cols) {
    const ck_type_traits *tr = ck_type_get_traits(type);
    if (tr == NULL || cols % tr->block_elems != 0) return 0;
    return cols / tr->block_elems * tr->block_bytes;
}

// MARK: - Conversions

float ck_fp16_to_fp32(uint16_t h) { return ck_half_to_float(h); }
uint16_t ck_fp32_to_fp16(float f) { return ck_float_to_half(f); }
float ck_bf16_to_fp32(uint16_t h) { return ck_bf16_to_float(h); }
uint16_t ck_fp32_to_bf16(float f) { return ck_float_to_bf16(f); }

void ck_fp32_to_fp16_row(const float *src, void *dst, size_t n) {
    uint8_t *d = dst;
    for (size_t i = 0; i < n; ++i) {
        const uint16_t h = ck_float_to_half(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

void ck_fp32_to_bf16_row(const float *src, void *dst, size_t n) {
    uint8_t *d = dst;
    for (size_t i = 0; i < n; ++i) {
        const uint16_t h = ck_float_to_bf16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

// Row converters with the ck_convert_fn shape, for the scalar table.
CK_INTERNAL void ck_scalar_fp16_to_fp32_row(const void *src, void *dst, size_t n) {
    ck_dequantize_row_f16(src, dst, n);
}
CK_INTERNAL void ck_scalar_fp32_to_fp16_row(const void *src, void *dst, size_t n) {
    ck_fp32_to_fp16_row(src, dst, n);
}

// MARK: - Dequantize

void ck_dequantize_row_f32(const void *src, float *dst, size_t n) { memcpy(dst, src, n * sizeof(float)); }

void ck_dequantize_row_f16(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; ++i) dst[i] = ck_half_to_float(ck_load_u16(s + 2 * i));
}

void ck_dequantize_row_bf16(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; ++i) dst[i] = ck_bf16_to_float(ck_load_u16(s + 2 * i));
}

void ck_dequantize_row_q8_0(const void *src, float *dst, size_t n) {
    const block_q8_0 *b = src;
    for (size_t i = 0; i < n / CK_QK8_0; ++i, ++b) {
        const float d = ck_half_to_float(ck_load_u16(&b->d));
        for (int j = 0; j < CK_QK8_0; ++j) *dst++ = (float)b->qs[j] * d;
    }
}

void ck_dequantize_row_q4_0(const void *src, float *dst, size_t n) {
    const block_q4_0 *b = src;
    for (size_t i = 0; i < n / CK_QK4_0; ++i, ++b, dst += CK_QK4_0) {
        const float d = ck_half_to_float(ck_load_u16(&b->d));
        for (int j = 0; j < CK_QK4_0 / 2; ++j) {
            dst[j] = (float)((b->qs[j] & 0x0F) - 8) * d;
            dst[j + 16] = (float)((b->qs[j] >> 4) - 8) * d;
        }
    }
}

void ck_dequantize_row_q5_0(const void *src, float *dst, size_t n) {
    const block_q5_0 *b = src;
    for (size_t i = 0; i < n / CK_QK5_0; ++i, ++b, dst += CK_QK5_0) {
        const float d = ck_half_to_float(ck_load_u16(&b->d));
        const uint32_t qh = ck_load_u32(b->qh);
        for (int j = 0; j < CK_QK5_0 / 2; ++j) {
            const int lo = (b->qs[j] & 0x0F) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (b->qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            dst[j] = (float)(lo - 16) * d;
            dst[j + 16] = (float)(hi - 16) * d;
        }
    }
}

// Shared by Q4_K and Q5_K: y = (d*sc)*q - (dmin*m), each product rounded (no FMA), as numpy does.
static inline float ck_k_affine(float dsc, float q, float dm) {
    const float p = dsc * q;
    return p - dm;
}

void ck_dequantize_row_q4_K(const void *src, float *dst, size_t n) {
    const block_q4_K *b = src;
    for (size_t i = 0; i < n / CK_QKK; ++i, ++b) {
        const float d = ck_half_to_float(ck_load_u16(&b->d));
        const float dmin = ck_half_to_float(ck_load_u16(&b->dmin));
        const uint8_t *q = b->qs;
        for (int c = 0; c < 4; ++c, q += 32) {
            uint8_t sc, m;
            ck_scale_min_k4(2 * c, b->scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            ck_scale_min_k4(2 * c + 1, b->scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; ++l) *dst++ = ck_k_affine(d1, (float)(q[l] & 0xF), m1);
            for (int l = 0; l < 32; ++l) *dst++ = ck_k_affine(d2, (float)(q[l] >> 4), m2);
        }
    }
}

void ck_dequantize_row_q5_K(const void *src, float *dst, size_t n) {
    const block_q5_K *b = src;
    for (size_t i = 0; i < n / CK_QKK; ++i, ++b) {
        const float d = ck_half_to_float(ck_load_u16(&b->d));
        const float dmin = ck_half_to_float(ck_load_u16(&b->dmin));
        const uint8_t *ql = b->qs;
        for (int c = 0; c < 4; ++c, ql += 32) {
            uint8_t sc, m;
            ck_scale_min_k4(2 * c, b->scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            ck_scale_min_k4(2 * c + 1, b->scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            const uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
            for (int l = 0; l < 32; ++l) {
                const int q = (ql[l] & 0xF) + ((b->qh[l] & u1) ? 16 : 0);
                *dst++ = ck_k_affine(d1, (float)q, m1);
            }
            for (int l = 0; l < 32; ++l) {
                const int q = (ql[l] >> 4) + ((b->qh[l] & u2) ? 16 : 0);
                *dst++ = ck_k_affine(d2, (float)q, m2);
            }
        }
    }
}

void ck_dequantize_row_q6_K(const void *src, float *dst, size_t n) {
    const block_q6_K *b = src;
    for (size_t i = 0; i < n / CK_QKK; ++i, ++b) {
        const float d = ck_half_to_float(ck_load_u16(&b->d));
        for (int h = 0; h < 2; ++h) {
            const uint8_t *ql = b->ql + 64 * h;
            const uint8_t *qh = b->qh + 32 * h;
            const int8_t *sc = b->scales + 8 * h;
            float *y = dst + 128 * h;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = (d * (float)sc[is + 0]) * (float)q1;
                y[l + 32] = (d * (float)sc[is + 2]) * (float)q2;
                y[l + 64] = (d * (float)sc[is + 4]) * (float)q3;
                y[l + 96] = (d * (float)sc[is + 6]) * (float)q4;
            }
        }
        dst += CK_QKK;
    }
}

void ck_dequantize_row_q8_K(const void *src, float *dst, size_t n) {
    const block_q8_K *b = src;
    for (size_t i = 0; i < n / CK_QKK; ++i, ++b) {
        const float d = ck_load_f32(&b->d);
        for (int j = 0; j < CK_QKK; ++j) *dst++ = d * (float)b->qs[j];
    }
}

bool ck_dequantize_row(ck_type type, const void *src, float *dst, size_t n) {
    const ck_type_traits *tr = ck_type_get_traits(type);
    if (tr == NULL || n % tr->block_elems != 0) return false;
    switch (type) {
    case CK_TYPE_F32: ck_dequantize_row_f32(src, dst, n); return true;
    case CK_TYPE_F16: ck_dequantize_row_f16(src, dst, n); return true;
    case CK_TYPE_BF16: ck_dequantize_row_bf16(src, dst, n); return true;
    case CK_TYPE_Q8_0: ck_dequantize_row_q8_0(src, dst, n); return true;
    case CK_TYPE_Q4_0: ck_dequantize_row_q4_0(src, dst, n); return true;
    case CK_TYPE_Q5_0: ck_dequantize_row_q5_0(src, dst, n); return true;
    case CK_TYPE_Q4_K: ck_dequantize_row_q4_K(src, dst, n); return true;
    case CK_TYPE_Q5_K: ck_dequantize_row_q5_K(src, dst, n); return true;
    case CK_TYPE_Q6_K: ck_dequantize_row_q6_K(src, dst, n); return true;
    case CK_TYPE_Q8_K: ck_dequantize_row_q8_K(src, dst, n); return true;
    default: return false;
    }
}

// MARK: - Activation quantizers

// Round half to even of an already-rounded f32 product. rintf follows the current rounding mode,
// which is round-to-nearest-even unless someone changed it (nobody in this process does); it is the
// same operation as llama.cpp's nearest_int (magic-number add) and _mm256_round_ps(_MM_ROUND_NEAREST)
// / vcvtnq_s32_f32 for |v| < 2^22. Taking the product as a separate value keeps it rounded (no FMA).
static inline int ck_round_even(float v) { return (int)rintf(v); }

void ck_quantize_row_q8_0(const float *x, void *vy, size_t n) {
    block_q8_0 *y = vy;
    for (size_t i = 0; i < n / CK_QK8_0; ++i, x += CK_QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < CK_QK8_0; ++j) {
            const float a = fabsf(x[j]);
            amax = a > amax ? a : amax;
        }
        const float d = amax / 127.0f;
#if defined(__aarch64__)
        const float id = d != 0.0f ? 1.0f / d : 0.0f;  // llama.cpp NEON quantize_row_q8_0
#else
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;  // llama.cpp AVX quantize_row_q8_0
#endif
        const uint16_t dh = ck_float_to_half(d);
        memcpy(&y[i].d, &dh, 2);
        for (int j = 0; j < CK_QK8_0; ++j) {
            const float v = x[j] * id;
            y[i].qs[j] = (int8_t)ck_round_even(v);
        }
    }
}

void ck_quantize_row_q8_K(const float *x, void *vy, size_t n) {
    block_q8_K *y = vy;
    for (size_t i = 0; i < n / CK_QKK; ++i, x += CK_QKK) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < CK_QKK; ++j) {
            const float a = fabsf(x[j]);
            if (a > amax) {
                amax = a;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            const float zero = 0.0f;
            memcpy(&y[i].d, &zero, sizeof zero);
            memset(y[i].qs, 0, sizeof y[i].qs);
            memset(y[i].bsums, 0, sizeof y[i].bsums);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < CK_QKK; ++j) {
            const float v = iscale * x[j];
            const int q = ck_round_even(v);
            y[i].qs[j] = (int8_t)(q < 127 ? q : 127);
        }
        for (int g = 0; g < CK_QKK / 16; ++g) {
            int s = 0;
            for (int l = 0; l < 16; ++l) s += y[i].qs[16 * g + l];
            const int16_t s16 = (int16_t)s;
            memcpy(&y[i].bsums[g], &s16, 2);
        }
        const float d = 1.0f / iscale;
        memcpy(&y[i].d, &d, sizeof d);
    }
}
