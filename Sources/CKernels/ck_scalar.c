// ck_scalar.c — the portable scalar reference: integer partials, dot products, mat-vec, mat-mat.
//
// This is the definition every SIMD path is tested against. The integer partials (ck_isums_*) are
// the exact part of each quantized dot product; the float result combines them with the block
// scales as: sum over blocks of (d_w * d_a) * isum  [- (dmin_w * d_a) * msum for Q4_K/Q5_K].
// The SIMD paths compute the same integers and the same two scale products, and differ only in the
// order they add the per-block float terms (lanes, FMA), which the tests bound. Q4_0 and Q4_K sum in
// llama.cpp's x86 order (see ck_vec_dot_q4_0_q8_0); the x86 paths that follow it are bit-identical.
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ck_fp16.h"
#include "ck_types.h"

// MARK: - Per-block integer partials

static inline int32_t q4_0_block(const block_q4_0 *w, const block_q8_0 *a) {
    int32_t s = 0;
    for (int j = 0; j < 16; ++j) {
        s += ((w->qs[j] & 0xF) - 8) * a->qs[j];
        s += ((w->qs[j] >> 4) - 8) * a->qs[j + 16];
    }
    return s;
}

static inline int32_t q5_0_block(const block_q5_0 *w, const block_q8_0 *a) {
    const uint32_t qh = ck_load_u32(w->qh);
    int32_t s = 0;
    for (int j = 0; j < 16; ++j) {
        const int lo = (w->qs[j] & 0xF) | (int)(((qh >> j) & 1u) << 4);
        const int hi = (w->qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        s += (lo - 16) * a->qs[j] + (hi - 16) * a->qs[j + 16];
    }
    return s;
}

static inline int32_t q8_0_block(const block_q8_0 *w, const block_q8_0 *a) {
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += w->qs[j] * a->qs[j];
    return s;
}

static inline int16_t bsum(const block_q8_K *a, int g) { return (int16_t)ck_load_u16(&a->bsums[g]); }

// Q4_K: isum = sum_s sc_s * dot_s (nibbles unsigned), msum = sum_s m_s * (bsum_2s + bsum_2s+1).
static inline void q4_K_block(const block_q4_K *w, const block_q8_K *a, int32_t *isum, int32_t *msum) {
    uint8_t sc[8], m[8];
    ck_unpack_scales_k4(w->scales, sc, m);
    int32_t is = 0, ms = 0;
    for (int c = 0; c < 4; ++c) {
        const uint8_t *q = w->qs + 32 * c;
        const int8_t *a0 = a->qs + 64 * c, *a1 = a0 + 32;
        int32_t s0 = 0, s1 = 0;
        for (int l = 0; l < 32; ++l) {
            s0 += (q[l] & 0xF) * a0[l];
            s1 += (q[l] >> 4) * a1[l];
        }
        is += sc[2 * c] * s0 + sc[2 * c + 1] * s1;
    }
    for (int s = 0; s < 8; ++s) ms += m[s] * (bsum(a, 2 * s) + bsum(a, 2 * s + 1));
    *isum = is;
    *msum = ms;
}

static inline void q5_K_block(const block_q5_K *w, const block_q8_K *a, int32_t *isum, int32_t *msum) {
    uint8_t sc[8], m[8];
    ck_unpack_scales_k4(w->scales, sc, m);
    int32_t is = 0, ms = 0;
    for (int c = 0; c < 4; ++c) {
        const uint8_t *q = w->qs + 32 * c;
        const int8_t *a0 = a->qs + 64 * c, *a1 = a0 + 32;
        int32_t s0 = 0, s1 = 0;
        for (int l = 0; l < 32; ++l) {
            const int h0 = (w->qh[l] >> (2 * c)) & 1, h1 = (w->qh[l] >> (2 * c + 1)) & 1;
            s0 += ((q[l] & 0xF) | (h0 << 4)) * a0[l];
            s1 += ((q[l] >> 4) | (h1 << 4)) * a1[l];
        }
        is += sc[2 * c] * s0 + sc[2 * c + 1] * s1;
    }
    for (int s = 0; s < 8; ++s) ms += m[s] * (bsum(a, 2 * s) + bsum(a, 2 * s + 1));
    *isum = is;
    *msum = ms;
}

// Q6_K: output element e of the super-block lives in half h = e/128; within the half, element
// 32*k + l (k = 0..3) takes bits from ql/qh as in the dequantizer; group g = e/16 has scale sc[g].
static inline int32_t q6_K_block(const block_q6_K *w, const block_q8_K *a) {
    int32_t is = 0;
    for (int h = 0; h < 2; ++h) {
        const uint8_t *ql = w->ql + 64 * h, *qh = w->qh + 32 * h;
        const int8_t *sc = w->scales + 8 * h;
        const int8_t *q8 = a->qs + 128 * h;
        int32_t g[8] = {0};
        for (int l = 0; l < 32; ++l) {
            const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            const int is16 = l / 16;
            g[is16 + 0] += q1 * q8[l];
            g[is16 + 2] += q2 * q8[l + 32];
            g[is16 + 4] += q3 * q8[l + 64];
            g[is16 + 6] += q4 * q8[l + 96];
        }
        for (int k = 0; k < 8; ++k) is += sc[k] * g[k];
    }
    return is;
}

void ck_isums_q4_0_q8_0(size_t nb, const void *w, const void *xq, int32_t *out) {
    const block_q4_0 *x = w;
    const block_q8_0 *y = xq;
    for (size_t b = 0; b < nb; ++b) out[b] = q4_0_block(x + b, y + b);
}
void ck_isums_q5_0_q8_0(size_t nb, const void *w, const void *xq, int32_t *out) {
    const block_q5_0 *x = w;
    const block_q8_0 *y = xq;
    for (size_t b = 0; b < nb; ++b) out[b] = q5_0_block(x + b, y + b);
}
void ck_isums_q8_0_q8_0(size_t nb, const void *w, const void *xq, int32_t *out) {
    const block_q8_0 *x = w;
    const block_q8_0 *y = xq;
    for (size_t b = 0; b < nb; ++b) out[b] = q8_0_block(x + b, y + b);
}
void ck_isums_q4_K_q8_K(size_t nb, const void *w, const void *xq, int32_t *out) {
    const block_q4_K *x = w;
    const block_q8_K *y = xq;
    for (size_t b = 0; b < nb; ++b) q4_K_block(x + b, y + b, &out[2 * b], &out[2 * b + 1]);
}
void ck_isums_q5_K_q8_K(size_t nb, const void *w, const void *xq, int32_t *out) {
    const block_q5_K *x = w;
    const block_q8_K *y = xq;
    for (size_t b = 0; b < nb; ++b) q5_K_block(x + b, y + b, &out[2 * b], &out[2 * b + 1]);
}
void ck_isums_q6_K_q8_K(size_t nb, const void *w, const void *xq, int32_t *out) {
    const block_q6_K *x = w;
    const block_q8_K *y = xq;
    for (size_t b = 0; b < nb; ++b) out[b] = q6_K_block(x + b, y + b);
}

// MARK: - Dot products

static inline float h2f(const void *p) { return ck_half_to_float(ck_load_u16(p)); }

// Q4_0 and Q4_K follow llama.cpp's x86 order for these types (rows repacked 8 at a time, one float
// lane per row: ggml_gemv_q4_0_8x8_q8_0 and ggml_gemv_q4_K_8x8_q8_K in ggml-cpu/arch/x86/repack.cpp):
// per block, in order, one FMA of the converted integer partial with the rounded product d_w*d_a;
// Q4_K keeps a second chain for the mins and subtracts it once at the end.
float ck_vec_dot_q4_0_q8_0(size_t n, const void *w, const void *xq) {
    const block_q4_0 *x = w;
    const block_q8_0 *y = xq;
    float s = 0.0f;
    for (size_t b = 0; b < n / CK_QK4_0; ++b) s = fmaf((float)q4_0_block(x + b, y + b), h2f(&x[b].d) * h2f(&y[b].d), s);
    return s;
}
float ck_vec_dot_q5_0_q8_0(size_t n, const void *w, const void *xq) {
    const block_q5_0 *x = w;
    const block_q8_0 *y = xq;
    float s = 0.0f;
    for (size_t b = 0; b < n / CK_QK5_0; ++b) s += (h2f(&x[b].d) * h2f(&y[b].d)) * (float)q5_0_block(x + b, y + b);
    return s;
}
float ck_vec_dot_q8_0_q8_0(size_t n, const void *w, const void *xq) {
    const block_q8_0 *x = w;
    const block_q8_0 *y = xq;
    float s = 0.0f;
    for (size_t b = 0; b < n / CK_QK8_0; ++b) s += (h2f(&x[b].d) * h2f(&y[b].d)) * (float)q8_0_block(x + b, y + b);
    return s;
}
float ck_vec_dot_q4_K_q8_K(size_t n, const void *w, const void *xq) {
    const block_q4_K *x = w;
    const block_q8_K *y = xq;
    float s = 0.0f, sm = 0.0f;
    for (size_t b = 0; b < n / CK_QKK; ++b) {
        int32_t is, ms;
        q4_K_block(x + b, y + b, &is, &ms);
        const float da = ck_load_f32(&y[b].d);
        s = fmaf((float)is, h2f(&x[b].d) * da, s);
        sm = fmaf((float)ms, h2f(&x[b].dmin) * da, sm);
    }
    return s - sm;
}
float ck_vec_dot_q5_K_q8_K(size_t n, const void *w, const void *xq) {
    const block_q5_K *x = w;
    const block_q8_K *y = xq;
    float s = 0.0f;
    for (size_t b = 0; b < n / CK_QKK; ++b) {
        int32_t is, ms;
        q5_K_block(x + b, y + b, &is, &ms);
        const float da = ck_load_f32(&y[b].d);
        s += (h2f(&x[b].d) * da) * (float)is;
        s -= (h2f(&x[b].dmin) * da) * (float)ms;
    }
    return s;
}
float ck_vec_dot_q6_K_q8_K(size_t n, const void *w, const void *xq) {
    const block_q6_K *x = w;
    const block_q8_K *y = xq;
    float s = 0.0f;
    for (size_t b = 0; b < n / CK_QKK; ++b) s += (h2f(&x[b].d) * ck_load_f32(&y[b].d)) * (float)q6_K_block(x + b, y + b);
    return s;
}
float ck_vec_dot_f32(size_t n, const void *w, const float *x) {
    const uint8_t *p = w;
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) s += ck_load_f32(p + 4 * i) * x[i];
    return s;
}
float ck_vec_dot_f16(size_t n, const void *w, const float *x) {
    const uint8_t *p = w;
    float s = 0.0f;
    // F16 weights take F16 activations (llama.cpp's vec_dot_type for F16): x rounded to F16 first.
    for (size_t i = 0; i < n; ++i) s += h2f(p + 2 * i) * ck_half_to_float(ck_float_to_half(x[i]));
    return s;
}
float ck_vec_dot_bf16(size_t n, const void *w, const float *x) {
    const uint8_t *p = w;
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) s += ck_bf16_to_float(ck_load_u16(p + 2 * i)) * x[i];
    return s;
}

// MARK: - Mat-vec / mat-mat (reference: one dot per output; the SIMD paths reuse weight blocks)

#define CK_SCALAR_MAT(t, dotexpr)                                                                       \
    void ck_matvec_##t(const void *w, size_t rs, const void *xq, float *y, size_t r0, size_t r1,          \
                       size_t cols) {                                                                   \
        for (size_t r = r0; r < r1; ++r) {                                                              \
            const void *row = (const uint8_t *)w + r * rs;                                              \
            const void *xv = xq;                                                                        \
            y[r] = dotexpr;                                                                             \
        }                                                                                               \
    }                                                                                                   \
    void ck_matmul_##t(const void *w, size_t rs, const void *xq, size_t xs, size_t nvec, float *y,        \
                       size_t ys, size_t r0, size_t r1, size_t cols) {                                   \
        for (size_t r = r0; r < r1; ++r) {                                                              \
            const void *row = (const uint8_t *)w + r * rs;                                              \
            for (size_t j = 0; j < nvec; ++j) {                                                         \
                const void *xv = (const uint8_t *)xq + j * xs;                                          \
                y[j * ys + r] = dotexpr;                                                                \
            }                                                                                           \
        }                                                                                               \
    }

CK_SCALAR_MAT(f32, ck_vec_dot_f32(cols, row, (const float *)xv))
CK_SCALAR_MAT(f16, ck_vec_dot_f16(cols, row, (const float *)xv))
CK_SCALAR_MAT(bf16, ck_vec_dot_bf16(cols, row, (const float *)xv))
CK_SCALAR_MAT(q8_0, ck_vec_dot_q8_0_q8_0(cols, row, xv))
CK_SCALAR_MAT(q4_0, ck_vec_dot_q4_0_q8_0(cols, row, xv))
CK_SCALAR_MAT(q5_0, ck_vec_dot_q5_0_q8_0(cols, row, xv))
CK_SCALAR_MAT(q4_K, ck_vec_dot_q4_K_q8_K(cols, row, xv))
CK_SCALAR_MAT(q5_K, ck_vec_dot_q5_K_q8_K(cols, row, xv))
CK_SCALAR_MAT(q6_K, ck_vec_dot_q6_K_q8_K(cols, row, xv))

// Table adapters: the float dots take `const float *`, the table type takes `const void *`.
CK_INTERNAL float ck_scalar_dot_f32(size_t n, const void *w, const void *x) { return ck_vec_dot_f32(n, w, x); }
CK_INTERNAL float ck_scalar_dot_f16(size_t n, const void *w, const void *x) { return ck_vec_dot_f16(n, w, x); }
CK_INTERNAL float ck_scalar_dot_bf16(size_t n, const void *w, const void *x) { return ck_vec_dot_bf16(n, w, x); }
