// ck_arm.h — AArch64 kernels, compiled twice: ck_neon.c (baseline Advanced SIMD: int8 products via
// smull + sadalp) and ck_dotprod.c (ARMv8.2 dot product: sdot). Includer defines CK_PFX, CK_TGT and
// CK_DOTPROD.
//
// AArch64 has signed x signed int8 dot products, so unlike x86 no offset tricks are needed: Q4_0 /
// Q5_0 / Q6_K quants are re-centred to int8 (q - 8, q - 16, q - 32) and multiplied directly. Integer
// partials are exact for all weight bytes and all activation bytes (smull's int16 product of two
// int8 is at most 16384; sdot accumulates in int32).
//
// Float order: per row, vector lanes over the blocks (Q4_0 / Q4_K included), not llama.cpp's. Its
// ARM builds repack Q4_0 / Q4_K too, but into other layouts (q4_0_4x4 / 4x8, q4_K_8x4 / 8x8, chosen
// by dotprod / i8mm) with their own orders, and our fixtures come from an x86 build, so matching
// the x86 gemv order here (as ck_x86_*_rows*.h do) would not make ARM results bit-identical
// to anything we can test; results agree with the reference within the float-order tolerance.
#include <arm_neon.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ck_fp16.h"
#include "ck_mat_template.h"
#include "ck_types.h"

#define CK_FN(name) CK_CAT(CK_PFX, name)
#define CK_INL static CK_ALWAYS_INLINE CK_TGT

// MARK: - Helpers

// acc + sum of 4 adjacent int8 products per int32 lane (sdot), or the same total spread differently
// over the lanes (smull + pairwise add-accumulate) without the extension.
CK_INL int32x4_t CK_FN(dot16)(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if CK_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

CK_INL float CK_FN(h2f)(const void *p) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(ck_load_u16(p)))), 0);
}

// 16 bits -> 16 bytes, 0x10 where the bit is set (Q5_0's 5th bit, element order).
CK_INL uint8x16_t CK_FN(bits16_to_0x10)(uint32_t bits) {
    static const uint8_t sel[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t v = vcombine_u8(vdup_n_u8((uint8_t)bits), vdup_n_u8((uint8_t)(bits >> 8)));
    return vandq_u8(vtstq_u8(v, vld1q_u8(sel)), vdupq_n_u8(0x10));
}

// MARK: - Q4_0 / Q5_0 / Q8_0 x Q8_0

typedef struct {
    int8x16_t lo, hi;  // elements 0..15, 16..31 as int8
} ck_w32;

CK_INL int32x4_t CK_FN(isum32)(ck_w32 q, const block_q8_0 *a) {
    const int32x4_t z = vdupq_n_s32(0);
    return CK_FN(dot16)(CK_FN(dot16)(z, q.lo, vld1q_s8(a->qs)), q.hi, vld1q_s8(a->qs + 16));
}

CK_INL ck_w32 CK_FN(unpack_q4_0)(const block_q4_0 *w) {
    const uint8x16_t v = vld1q_u8(w->qs);
    const int8x16_t eight = vdupq_n_s8(8);
    ck_w32 q = {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F))), eight),
                vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), eight)};
    return q;
}

CK_INL ck_w32 CK_FN(unpack_q5_0)(const block_q5_0 *w) {
    const uint32_t qh = ck_load_u32(w->qh);
    const uint8x16_t v = vld1q_u8(w->qs);
    const uint8x16_t lo = vorrq_u8(vandq_u8(v, vdupq_n_u8(0x0F)), CK_FN(bits16_to_0x10)(qh));
    const uint8x16_t hi = vorrq_u8(vshrq_n_u8(v, 4), CK_FN(bits16_to_0x10)(qh >> 16));
    const int8x16_t sixteen = vdupq_n_s8(16);
    ck_w32 q = {vsubq_s8(vreinterpretq_s8_u8(lo), sixteen), vsubq_s8(vreinterpretq_s8_u8(hi), sixteen)};
    return q;
}

CK_INL ck_w32 CK_FN(unpack_q8_0)(const block_q8_0 *w) {
    ck_w32 q = {vld1q_s8(w->qs), vld1q_s8(w->qs + 16)};
    return q;
}

#define CK_MK_QX_0(t, BLK)                                                                              \
    CK_INL void CK_FN(mk_##t)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {    \
        const BLK *w = wv;                                                                              \
        const block_q8_0 *x[4];                                                                         \
        float32x4_t acc[4];                                                                             \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            acc[c] = vdupq_n_f32(0.0f);                                                                 \
        }                                                                                               \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            const ck_w32 q = CK_FN(unpack_##t)(&w[b]);                                                  \
            const float dw = CK_FN(h2f)(&w[b].d);                                                       \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                const int32x4_t is = CK_FN(isum32)(q, &x[c][b]);                                        \
                acc[c] = vfmaq_n_f32(acc[c], vcvtq_f32_s32(is), dw * CK_FN(h2f)(&x[c][b].d));           \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = vaddvq_f32(acc[c]);               \
    }                                                                                                   \
    static CK_TGT void CK_FN(isums_##t)(size_t nb, const void *wv, const void *xv, int32_t *out) {       \
        const BLK *w = wv;                                                                              \
        const block_q8_0 *x = xv;                                                                       \
        for (size_t b = 0; b < nb; ++b) out[b] = vaddvq_s32(CK_FN(isum32)(CK_FN(unpack_##t)(&w[b]), &x[b])); \
    }

CK_MK_QX_0(q4_0, block_q4_0)
CK_MK_QX_0(q5_0, block_q5_0)
CK_MK_QX_0(q8_0, block_q8_0)

// MARK: - K-quants x Q8_K

// 16 unpacked quants (u8 0..31 or int8) per register: q[2s], q[2s+1] = sub-block s (32 elements).
CK_INL void CK_FN(q4_K_unpack)(const block_q4_K *w, int8x16_t q[16]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) {
        const uint8x16_t v0 = vld1q_u8(w->qs + 32 * c), v1 = vld1q_u8(w->qs + 32 * c + 16);
        q[4 * c + 0] = vreinterpretq_s8_u8(vandq_u8(v0, m4));
        q[4 * c + 1] = vreinterpretq_s8_u8(vandq_u8(v1, m4));
        q[4 * c + 2] = vreinterpretq_s8_u8(vshrq_n_u8(v0, 4));
        q[4 * c + 3] = vreinterpretq_s8_u8(vshrq_n_u8(v1, 4));
    }
}

CK_INL void CK_FN(q5_K_unpack)(const block_q5_K *w, int8x16_t q[16]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), b16 = vdupq_n_u8(0x10);
    const uint8x16_t h0 = vld1q_u8(w->qh), h1 = vld1q_u8(w->qh + 16);
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) {
        const uint8x16_t v0 = vld1q_u8(w->qs + 32 * c), v1 = vld1q_u8(w->qs + 32 * c + 16);
        const uint8x16_t s0 = vdupq_n_u8((uint8_t)(1u << (2 * c))), s1 = vdupq_n_u8((uint8_t)(2u << (2 * c)));
        q[4 * c + 0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v0, m4), vandq_u8(vtstq_u8(h0, s0), b16)));
        q[4 * c + 1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v1, m4), vandq_u8(vtstq_u8(h1, s0), b16)));
        q[4 * c + 2] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v0, 4), vandq_u8(vtstq_u8(h0, s1), b16)));
        q[4 * c + 3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v1, 4), vandq_u8(vtstq_u8(h1, s1), b16)));
    }
}

CK_INL void CK_FN(k4_scales)(const uint8_t *s, int32_t sc[8], int16x8_t *m16) {
    const uint32_t a = ck_load_u32(s), b = ck_load_u32(s + 4), c = ck_load_u32(s + 8);
    const uint32_t w[4] = {a & 0x3f3f3f3fu, (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4), b & 0x3f3f3f3fu,
                           ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4)};
    const uint8x16_t v = vreinterpretq_u8_u32(vld1q_u32(w));
    uint8_t tmp[8];
    vst1_u8(tmp, vget_low_u8(v));
    for (int i = 0; i < 8; ++i) sc[i] = tmp[i];
    *m16 = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(v)));
}

CK_INL int32x4_t CK_FN(k4_isum)(const int8x16_t q[16], const int32_t sc[8], const block_q8_K *a) {
    int32x4_t acc = vdupq_n_s32(0);
    _Pragma("GCC unroll 8") for (int s = 0; s < 8; ++s) {
        int32x4_t d = CK_FN(dot16)(vdupq_n_s32(0), q[2 * s], vld1q_s8(a->qs + 32 * s));
        d = CK_FN(dot16)(d, q[2 * s + 1], vld1q_s8(a->qs + 32 * s + 16));
        acc = vmlaq_n_s32(acc, d, sc[s]);
    }
    return acc;
}

CK_INL int32x4_t CK_FN(k4_msum)(int16x8_t m16, const block_q8_K *a) {
    const int16x8_t b0 = vld1q_s16(a->bsums), b1 = vld1q_s16(a->bsums + 8);
    const int16x8_t pairs = vpaddq_s16(b0, b1);  // bsum_2s + bsum_2s+1, s = 0..7 (|.| <= 4064)
    return vaddq_s32(vmull_s16(vget_low_s16(pairs), vget_low_s16(m16)), vmull_high_s16(pairs, m16));
}

#define CK_MK_K4(t, BLK)                                                                                \
    CK_INL void CK_FN(mk_##t)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {    \
        const BLK *w = wv;                                                                              \
        const block_q8_K *x[4];                                                                         \
        float32x4_t acc[4];                                                                             \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            acc[c] = vdupq_n_f32(0.0f);                                                                 \
        }                                                                                               \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            int8x16_t q[16];                                                                            \
            int32_t sc[8];                                                                              \
            int16x8_t m16;                                                                              \
            CK_FN(t##_unpack)(&w[b], q);                                                                \
            CK_FN(k4_scales)(w[b].scales, sc, &m16);                                                    \
            const float dw = CK_FN(h2f)(&w[b].d), dmw = CK_FN(h2f)(&w[b].dmin);                         \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                const block_q8_K *a = &x[c][b];                                                         \
                const float da = ck_load_f32(&a->d);                                                    \
                acc[c] = vfmaq_n_f32(acc[c], vcvtq_f32_s32(CK_FN(k4_isum)(q, sc, a)), dw * da);         \
                acc[c] = vfmsq_n_f32(acc[c], vcvtq_f32_s32(CK_FN(k4_msum)(m16, a)), dmw * da);          \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = vaddvq_f32(acc[c]);               \
    }                                                                                                   \
    static CK_TGT void CK_FN(isums_##t)(size_t nb, const void *wv, const void *xv, int32_t *out) {       \
        const BLK *w = wv;                                                                              \
        const block_q8_K *x = xv;                                                                       \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            int8x16_t q[16];                                                                            \
            int32_t sc[8];                                                                              \
            int16x8_t m16;                                                                              \
            CK_FN(t##_unpack)(&w[b], q);                                                                \
            CK_FN(k4_scales)(w[b].scales, sc, &m16);                                                    \
            out[2 * b] = vaddvq_s32(CK_FN(k4_isum)(q, sc, &x[b]));                                      \
            out[2 * b + 1] = vaddvq_s32(CK_FN(k4_msum)(m16, &x[b]));                                    \
        }                                                                                               \
    }

CK_MK_K4(q4_K, block_q4_K)
CK_MK_K4(q5_K, block_q5_K)

// Q6_K: q[g] = the 16 quants of group g (scale sc[g]) re-centred to -32..31.
CK_INL void CK_FN(q6_K_unpack)(const block_q6_K *w, int8x16_t q[16]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03);
    const int8x16_t off = vdupq_n_s8(32);
    _Pragma("GCC unroll 2") for (int h = 0; h < 2; ++h) {
        _Pragma("GCC unroll 2") for (int i = 0; i < 2; ++i) {  // elements l = 16i .. 16i+15
            const uint8x16_t l0 = vld1q_u8(w->ql + 64 * h + 16 * i);
            const uint8x16_t l1 = vld1q_u8(w->ql + 64 * h + 32 + 16 * i);
            const uint8x16_t hb = vld1q_u8(w->qh + 32 * h + 16 * i);
            const uint8x16_t q1 = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m3), 4));
            const uint8x16_t q2 = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4));
            const uint8x16_t q3 = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4));
            const uint8x16_t q4 = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
            q[8 * h + 0 + i] = vsubq_s8(vreinterpretq_s8_u8(q1), off);
            q[8 * h + 2 + i] = vsubq_s8(vreinterpretq_s8_u8(q2), off);
            q[8 * h + 4 + i] = vsubq_s8(vreinterpretq_s8_u8(q3), off);
            q[8 * h + 6 + i] = vsubq_s8(vreinterpretq_s8_u8(q4), off);
        }
    }
}

CK_INL int32x4_t CK_FN(q6_K_isum)(const int8x16_t q[16], const int8_t *sc, const block_q8_K *a) {
    int32x4_t acc = vdupq_n_s32(0);
    _Pragma("GCC unroll 16") for (int g = 0; g < 16; ++g) {
        const int32x4_t d = CK_FN(dot16)(vdupq_n_s32(0), q[g], vld1q_s8(a->qs + 16 * g));
        acc = vmlaq_n_s32(acc, d, sc[g]);
    }
    return acc;
}

CK_INL void CK_FN(mk_q6_K)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {
    const block_q6_K *w = wv;
    const block_q8_K *x[4];
    float32x4_t acc[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        acc[c] = vdupq_n_f32(0.0f);
    }
    for (size_t b = 0; b < nb; ++b) {
        int8x16_t q[16];
        CK_FN(q6_K_unpack)(&w[b], q);
        const float dw = CK_FN(h2f)(&w[b].d);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const block_q8_K *a = &x[c][b];
            acc[c] = vfmaq_n_f32(acc[c], vcvtq_f32_s32(CK_FN(q6_K_isum)(q, w[b].scales, a)), dw * ck_load_f32(&a->d));
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = vaddvq_f32(acc[c]);
}

static CK_TGT void CK_FN(isums_q6_K)(size_t nb, const void *wv, const void *xv, int32_t *out) {
    const block_q6_K *w = wv;
    const block_q8_K *x = xv;
    for (size_t b = 0; b < nb; ++b) {
        int8x16_t q[16];
        CK_FN(q6_K_unpack)(&w[b], q);
        out[b] = vaddvq_s32(CK_FN(q6_K_isum)(q, w[b].scales, &x[b]));
    }
}

// MARK: - Float weights x f32 activations (4 lanes, 2 accumulators per column)

CK_INL float32x4_t CK_FN(load_f32w)(const uint8_t *p) { return vld1q_f32((const float *)(const void *)p); }
CK_INL float32x4_t CK_FN(load_f16w)(const uint8_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)(const void *)p)));
}
CK_INL float32x4_t CK_FN(load_bf16w)(const uint8_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)(const void *)p), 16));
}
CK_INL float CK_FN(scalar_f32w)(const uint8_t *p) { return ck_load_f32(p); }
CK_INL float CK_FN(scalar_f16w)(const uint8_t *p) { return ck_half_to_float(ck_load_u16(p)); }
// Activations as each weight type takes them: F16 weights multiply F16-rounded activations
// (llama.cpp's vec_dot_type for F16), the others f32 ones.
CK_INL float32x4_t CK_FN(load_f32x)(const float *p) { return vld1q_f32(p); }
CK_INL float32x4_t CK_FN(load_bf16x)(const float *p) { return vld1q_f32(p); }
CK_INL float32x4_t CK_FN(load_f16x)(const float *p) { return vcvt_f32_f16(vcvt_f16_f32(vld1q_f32(p))); }
CK_INL float CK_FN(scalar_f32x)(float v) { return v; }
CK_INL float CK_FN(scalar_bf16x)(float v) { return v; }
CK_INL float CK_FN(scalar_f16x)(float v) { return ck_half_to_float(ck_float_to_half(v)); }
CK_INL float CK_FN(scalar_bf16w)(const uint8_t *p) { return ck_bf16_to_float(ck_load_u16(p)); }

#define CK_MK_FLOAT(t, ESZ)                                                                             \
    CK_INL void CK_FN(mk_##t)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {     \
        const uint8_t *w = wv;                                                                          \
        const float *x[4];                                                                              \
        float32x4_t a0[4], a1[4];                                                                       \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            a0[c] = vdupq_n_f32(0.0f);                                                                  \
            a1[c] = vdupq_n_f32(0.0f);                                                                  \
        }                                                                                               \
        size_t i = 0;                                                                                   \
        for (; i + 8 <= n; i += 8) {                                                                    \
            const float32x4_t w0 = CK_FN(load_##t##w)(w + (ESZ) * i);                                   \
            const float32x4_t w1 = CK_FN(load_##t##w)(w + (ESZ) * (i + 4));                             \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                a0[c] = vfmaq_f32(a0[c], w0, CK_FN(load_##t##x)(x[c] + i));                             \
                a1[c] = vfmaq_f32(a1[c], w1, CK_FN(load_##t##x)(x[c] + i + 4));                         \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            float s = vaddvq_f32(vaddq_f32(a0[c], a1[c]));                                              \
            for (size_t k = i; k < n; ++k) s += CK_FN(scalar_##t##w)(w + (ESZ) * k) * CK_FN(scalar_##t##x)(x[c][k]); \
            out[c] = s;                                                                                 \
        }                                                                                               \
    }

CK_MK_FLOAT(f32, 4)
CK_MK_FLOAT(f16, 2)
CK_MK_FLOAT(bf16, 2)

CK_DEFINE_MAT(q4_0, CK_QK4_0)
CK_DEFINE_MAT(q5_0, CK_QK5_0)
CK_DEFINE_MAT(q8_0, CK_QK8_0)
CK_DEFINE_MAT(q4_K, CK_QKK)
CK_DEFINE_MAT(q5_K, CK_QKK)
CK_DEFINE_MAT(q6_K, CK_QKK)
CK_DEFINE_MAT(f32, 1)
CK_DEFINE_MAT(f16, 1)
CK_DEFINE_MAT(bf16, 1)

// F16 with the activations rounded once (ck_f16_rounded.h): mk_f16's rounding (vector over whole
// steps of 8, scalar past them) done once, and mk_f16 on the rounded values.
CK_INL float32x4_t CK_FN(load_f16_prew)(const uint8_t *p) { return CK_FN(load_f16w)(p); }
CK_INL float32x4_t CK_FN(load_f16_prex)(const float *p) { return vld1q_f32(p); }
CK_INL float CK_FN(scalar_f16_prew)(const uint8_t *p) { return CK_FN(scalar_f16w)(p); }
CK_INL float CK_FN(scalar_f16_prex)(float v) { return v; }
CK_MK_FLOAT(f16_pre, 2)
CK_INL void CK_FN(f16_round_row)(const float *x, float *r, size_t n) {
    const size_t np = n & ~(size_t)7;
    for (size_t i = 0; i < np; i += 4) vst1q_f32(r + i, CK_FN(load_f16x)(x + i));
    for (size_t k = np; k < n; ++k) r[k] = CK_FN(scalar_f16x)(x[k]);
}
#include "ck_f16_rounded.h"

// MARK: - Activation quantizers (the AArch64 definition: id = 1/d, round half to even)

static CK_TGT void CK_FN(quantize_q8_0)(const float *x, void *vy, size_t n) {
    block_q8_0 *y = vy;
    for (size_t i = 0; i < n / CK_QK8_0; ++i, x += CK_QK8_0) {
        float32x4_t v[8];
        float32x4_t mx = vdupq_n_f32(0.0f);
        for (int k = 0; k < 8; ++k) {
            v[k] = vld1q_f32(x + 4 * k);
            mx = vmaxq_f32(mx, vabsq_f32(v[k]));
        }
        const float amax = vmaxvq_f32(mx);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = ck_float_to_half(d);
        memcpy(&y[i].d, &dh, 2);
        for (int k = 0; k < 8; k += 2) {
            const int32x4_t q0 = vcvtnq_s32_f32(vmulq_n_f32(v[k], id));
            const int32x4_t q1 = vcvtnq_s32_f32(vmulq_n_f32(v[k + 1], id));
            const int16x8_t q16 = vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1));
            vst1_s8(y[i].qs + 4 * k, vqmovn_s16(q16));
        }
    }
}

static CK_TGT void CK_FN(quantize_q8_K)(const float *x, void *vy, size_t n) {
    block_q8_K *y = vy;
    for (size_t i = 0; i < n / CK_QKK; ++i, x += CK_QKK) {
        float32x4_t mx = vdupq_n_f32(0.0f);
        for (int k = 0; k < CK_QKK; k += 4) mx = vmaxnmq_f32(mx, vabsq_f32(vld1q_f32(x + k)));
        const float amax = vmaxvq_f32(mx);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        int j = 0;
        while (j < CK_QKK - 1 && fabsf(x[j]) != amax) ++j;  // the first element of largest |x| keeps its sign
        const float iscale = -127.0f / x[j];
        const int32x4_t lim = vdupq_n_s32(127);
        for (int k = 0; k < CK_QKK; k += 16) {
            int16x8_t h[2];
            for (int p = 0; p < 2; ++p) {
                const int32x4_t a = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + k + 8 * p), iscale)), lim);
                const int32x4_t b = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + k + 8 * p + 4), iscale)), lim);
                h[p] = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
            }
            const int8x16_t q = vcombine_s8(vqmovn_s16(h[0]), vqmovn_s16(h[1]));
            vst1q_s8(y[i].qs + k, q);
            const int16_t s = (int16_t)vaddlvq_s8(q);
            memcpy(&y[i].bsums[k / 16], &s, 2);
        }
        const float d = 1.0f / iscale;
        memcpy(&y[i].d, &d, sizeof d);
    }
}

static CK_TGT void CK_FN(fp16_to_fp32_row)(const void *src, void *dst, size_t n) {
    const uint16_t *s = src;
    float *d = dst;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(d + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s + i))));
    for (; i < n; ++i) d[i] = ck_half_to_float(ck_load_u16(s + i));
}

static CK_TGT void CK_FN(fp32_to_fp16_row)(const void *src, void *dst, size_t n) {
    const float *s = src;
    uint16_t *d = dst;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(d + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(s + i))));
    for (; i < n; ++i) {
        const uint16_t h = ck_float_to_half(s[i]);
        memcpy(d + i, &h, 2);
    }
}

// MARK: - Table

CK_INTERNAL void CK_FN(fill_table)(ck_kernels *k) {
    k->quantize_q8_0 = CK_FN(quantize_q8_0);
    k->quantize_q8_K = CK_FN(quantize_q8_K);
    k->fp16_to_fp32_row = CK_FN(fp16_to_fp32_row);
    k->fp32_to_fp16_row = CK_FN(fp32_to_fp16_row);
    CK_SET_ALL_KERNELS(k)
    k->matvec[CK_TYPE_F16] = CK_FN(matvec_f16_rounded);
    k->matmul[CK_TYPE_F16] = CK_FN(matmul_f16_rounded);
}
