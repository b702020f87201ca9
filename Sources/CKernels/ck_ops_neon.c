// ck_ops_neon.c — the float ops for AArch64 Advanced SIMD (the neon and dotprod paths): 4 floats per
// vector, the arithmetic of ggml-cpu's `__ARM_NEON && __aarch64__` build without SVE and without FP16
// vector arithmetic (vec.h's NEON ggml_v_expf is the same algorithm as its AVX2 one; the per-block sum
// is vaddvq_f32). See CKernelsOps.h.
#include "ck_ops_impl.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define INL static inline __attribute__((always_inline))

// MARK: - ggml_v_expf / ggml_v_silu (NEON), operation for operation

INL float32x4_t neon_expf(float32x4_t x) {
    const float32x4_t r = vdupq_n_f32(CK_EXP_SHIFT);
    const float32x4_t z = vfmaq_f32(r, x, vdupq_n_f32(CK_EXP_LOG2E));
    const float32x4_t n = vsubq_f32(z, r);
    const float32x4_t b =
        vfmsq_f32(vfmsq_f32(x, n, vdupq_n_f32(CK_EXP_LN2_HI)), n, vdupq_n_f32(CK_EXP_LN2_LO));
    const uint32x4_t e = vshlq_n_u32(vreinterpretq_u32_f32(z), 23);
    const float32x4_t k = vreinterpretq_f32_u32(vaddq_u32(e, vreinterpretq_u32_f32(vdupq_n_f32(1.0f))));
    const uint32x4_t c = vcagtq_f32(n, vdupq_n_f32(126.0f));
    const float32x4_t u = vmulq_f32(b, b);
    const float32x4_t j = vfmaq_f32(vmulq_f32(vdupq_n_f32(CK_EXP_C0), b),
                                    vfmaq_f32(vfmaq_f32(vdupq_n_f32(CK_EXP_C1), vdupq_n_f32(CK_EXP_C2), b),
                                              vfmaq_f32(vdupq_n_f32(CK_EXP_C3), vdupq_n_f32(CK_EXP_C4), b), u),
                                    u);
    if (vmaxvq_u32(c) == 0) return vfmaq_f32(k, j, k);
    const uint32x4_t d = vandq_u32(vclezq_f32(n), vdupq_n_u32(0x82000000u));
    const float32x4_t s1 = vreinterpretq_f32_u32(vaddq_u32(d, vdupq_n_u32(0x7f000000u)));
    const float32x4_t s2 = vreinterpretq_f32_u32(vsubq_u32(e, d));
    return vbslq_f32(vcagtq_f32(n, vdupq_n_f32(192.0f)), vmulq_f32(s1, s1),
                     vbslq_f32(c, vmulq_f32(vfmaq_f32(s2, s2, j), s1), vfmaq_f32(k, k, j)));
}

INL float32x4_t neon_silu(float32x4_t x) {
    const float32x4_t e = neon_expf(vsubq_f32(vdupq_n_f32(0.0f), x));
    return vdivq_f32(x, vaddq_f32(vdupq_n_f32(1.0f), e));
}

// MARK: - RMSNorm

static void neon_rms_norm(size_t n, const float *x, const float *w, float eps, float *y) {
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0), s2 = vdupq_n_f64(0.0), s3 = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
        const float32x4_t a2 = vmulq_f32(a, a), b2 = vmulq_f32(b, b);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(a2)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(a2));
        s2 = vaddq_f64(s2, vcvt_f64_f32(vget_low_f32(b2)));
        s3 = vaddq_f64(s3, vcvt_high_f64_f32(b2));
    }
    double sum = vaddvq_f64(vaddq_f64(vaddq_f64(s0, s1), vaddq_f64(s2, s3)));
    for (; i < n; ++i) sum += (double)(x[i] * x[i]);

    const float scale = ck_rms_scale(ck_rms_mean_from_any_order(n, x, sum), eps);
    const float32x4_t vs = vdupq_n_f32(scale);
    i = 0;
    if (w) {
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(vmulq_f32(vld1q_f32(x + i), vs), vld1q_f32(w + i)));
        for (; i < n; ++i) y[i] = (x[i] * scale) * w[i];
    } else {
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(vld1q_f32(x + i), vs));
        for (; i < n; ++i) y[i] = x[i] * scale;
    }
}

// MARK: - RoPE

// (a, b, cos, sin) -> (fma(a, cos, -(b·sin)), fma(a, sin, b·cos)), as ck_rope_pair.
INL void neon_rope4(float32x4_t a, float32x4_t b, float32x4_t c, float32x4_t s, float32x4_t *ra, float32x4_t *rb) {
    *ra = vfmaq_f32(vnegq_f32(vmulq_f32(b, s)), a, c);
    *rb = vfmaq_f32(vmulq_f32(b, c), a, s);
}

static void neon_rope_norm(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x,
                           float *y) {
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        size_t i = 0;
        for (; i + 8 <= n_dims; i += 8) {
            const float32x4x2_t v = vld2q_f32(xh + i);     // even (a) and odd (b) elements
            const float32x4x2_t p = vld2q_f32(cache + i);  // cos and sin
            float32x4x2_t out;
            neon_rope4(v.val[0], v.val[1], p.val[0], p.val[1], &out.val[0], &out.val[1]);
            vst2q_f32(yh + i, out);
        }
        for (; i < n_dims; i += 2) ck_rope_pair(xh[i], xh[i + 1], cache[i], cache[i + 1], &yh[i], &yh[i + 1]);
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

static void neon_rope_neox(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x,
                           float *y) {
    const size_t half = n_dims / 2;
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        size_t k = 0;
        for (; k + 4 <= half; k += 4) {
            const float32x4x2_t p = vld2q_f32(cache + 2 * k);
            float32x4_t ra, rb;
            neon_rope4(vld1q_f32(xh + k), vld1q_f32(xh + half + k), p.val[0], p.val[1], &ra, &rb);
            vst1q_f32(yh + k, ra);
            vst1q_f32(yh + half + k, rb);
        }
        for (; k < half; ++k) {
            ck_rope_pair(xh[k], xh[k + half], cache[2 * k], cache[2 * k + 1], &yh[k], &yh[k + half]);
        }
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

// MARK: - Softmax

static float neon_max(size_t n, const float *x) {
    size_t i = 0;
    float m = -INFINITY;
    if (n >= 4) {
        float32x4_t v = vld1q_f32(x);
        for (i = 4; i + 4 <= n; i += 4) v = vmaxq_f32(v, vld1q_f32(x + i));
        m = vmaxvq_f32(v);
    }
    for (; i < n; ++i) m = m > x[i] ? m : x[i];
    return m;
}

static double neon_exp_sub(size_t n, const float *x, float max, float *y) {
    const float32x4_t vm = vdupq_n_f32(max);
    double sum = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = neon_expf(vsubq_f32(vld1q_f32(x + i), vm));
        vst1q_f32(y + i, v);
        sum += (double)vaddvq_f32(v);  // faddp, faddp: (v0+v1) + (v2+v3)
    }
    for (; i < n; ++i) {
        const float v = expf(x[i] - max);
        sum += (double)v;
        y[i] = v;
    }
    return sum;
}

static void neon_scale(size_t n, const float *x, float s, float *y) {
    const float32x4_t vs = vdupq_n_f32(s);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(vld1q_f32(x + i), vs));
    for (; i < n; ++i) y[i] = x[i] * s;
}

static void neon_softmax(size_t n, const float *x, float scale, const float *mask, float *y) {
    size_t i = 0;
    if (mask) {
        const float32x4_t vs = vdupq_n_f32(scale);
        for (; i + 4 <= n; i += 4) {
            const float32x4_t v = vmulq_f32(vld1q_f32(x + i), vs);
            vst1q_f32(y + i, vaddq_f32(v, vld1q_f32(mask + i)));
        }
        for (; i < n; ++i) {
            const float v = x[i] * scale;
            y[i] = v + mask[i];
        }
    } else {
        neon_scale(n, x, scale, y);
    }
    const float max = neon_max(n, y);
    if (max == -INFINITY) {
        ck_softmax_zero(n, y);
        return;
    }
    const double sum = neon_exp_sub(n, y, max, y);
    neon_scale(n, y, (float)(1.0 / sum), y);
}

// MARK: - SiLU, SwiGLU

static void neon_silu_row(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, neon_silu(vld1q_f32(x + i)));
    for (; i < n; ++i) y[i] = ck_silu_scalar(x[i]);
}

static void neon_swiglu(size_t n, const float *gate, const float *up, float *y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(neon_silu(vld1q_f32(gate + i)), vld1q_f32(up + i)));
    for (; i < n; ++i) y[i] = ck_silu_scalar(gate[i]) * up[i];
}

// MARK: - GELU, GeGLU

// table[f16(v)] for 8 lanes: FCVTN rounds to nearest even (FPCR default), lookups one by one (no
// gather on NEON), FCVTL back.
INL void neon_gelu_lookup8(const uint16_t *t, float32x4_t v0, float32x4_t v1, float32x4_t *r0, float32x4_t *r1) {
    uint16_t h[8];
    vst1q_u16(h, vreinterpretq_u16_f16(vcombine_f16(vcvt_f16_f32(v0), vcvt_f16_f32(v1))));
    for (int j = 0; j < 8; ++j) h[j] = t[h[j]];
    const float16x8_t g = vreinterpretq_f16_u16(vld1q_u16(h));
    *r0 = vcvt_f32_f16(vget_low_f16(g));
    *r1 = vcvt_high_f32_f16(g);
}

INL float32x4_t neon_gelu_select(float32x4_t v, float32x4_t table_value) {
    const float32x4_t r = vbslq_f32(vcgeq_f32(v, vdupq_n_f32(10.0f)), v, table_value);
    return vbslq_f32(vcleq_f32(v, vdupq_n_f32(-10.0f)), vdupq_n_f32(0.0f), r);
}

static void neon_gelu(size_t n, const float *x, float *y) {
    const uint16_t *t = ck_gelu_table();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t v0 = vld1q_f32(x + i), v1 = vld1q_f32(x + i + 4);
        float32x4_t g0, g1;
        neon_gelu_lookup8(t, v0, v1, &g0, &g1);
        vst1q_f32(y + i, neon_gelu_select(v0, g0));
        vst1q_f32(y + i + 4, neon_gelu_select(v1, g1));
    }
    for (; i < n; ++i) y[i] = ck_gelu_one(t, x[i]);
}

static void neon_geglu(size_t n, const float *gate, const float *up, float *y) {
    const uint16_t *t = ck_gelu_table();
    const float32x4_t lo = vdupq_n_f32(-10.0f), hi = vdupq_n_f32(10.0f), zero = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t v0 = vld1q_f32(gate + i), v1 = vld1q_f32(gate + i + 4);
        float32x4_t g0, g1;
        neon_gelu_lookup8(t, v0, v1, &g0, &g1);
        const float32x4_t p0 = vmulq_f32(vbslq_f32(vcgeq_f32(v0, hi), v0, g0), vld1q_f32(up + i));
        const float32x4_t p1 = vmulq_f32(vbslq_f32(vcgeq_f32(v1, hi), v1, g1), vld1q_f32(up + i + 4));
        vst1q_f32(y + i, vbslq_f32(vcleq_f32(v0, lo), zero, p0));
        vst1q_f32(y + i + 4, vbslq_f32(vcleq_f32(v1, lo), zero, p1));
    }
    for (; i < n; ++i) y[i] = ck_geglu_one(t, gate[i], up[i]);
}

// MARK: - Element-wise

static void neon_add(size_t n, const float *a, const float *b, float *y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    for (; i < n; ++i) y[i] = a[i] + b[i];
}

static void neon_mul(size_t n, const float *a, const float *b, float *y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    for (; i < n; ++i) y[i] = a[i] * b[i];
}

// MARK: - F16 KV helpers

INL float32x4_t neon_load_f16(const uint8_t *p) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))); }

static float neon_dot_f16(size_t n, const void *k, const float *q) {
    // ggml_vec_dot_f16's NEON blocking (no FP16 arithmetic): 4 accumulators over blocks of 16.
    const uint8_t *p = k;
    const size_t np = n & ~(size_t)15;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f), acc2 = vdupq_n_f32(0.0f), acc3 = vdupq_n_f32(0.0f);
    for (size_t i = 0; i < np; i += 16) {
        acc0 = vfmaq_f32(acc0, neon_load_f16(p + 2 * i), vld1q_f32(q + i));
        acc1 = vfmaq_f32(acc1, neon_load_f16(p + 2 * i + 8), vld1q_f32(q + i + 4));
        acc2 = vfmaq_f32(acc2, neon_load_f16(p + 2 * i + 16), vld1q_f32(q + i + 8));
        acc3 = vfmaq_f32(acc3, neon_load_f16(p + 2 * i + 24), vld1q_f32(q + i + 12));
    }
    acc0 = vaddq_f32(vaddq_f32(acc0, acc2), vaddq_f32(acc1, acc3));
    double sum = (double)vaddvq_f32(acc0);
    for (size_t i = np; i < n; ++i) sum += (double)(ck_half_to_float(ck_load_u16(p + 2 * i)) * q[i]);
    return (float)sum;
}

static void neon_axpy_f16(size_t n, float a, const void *v, float *y) {
    const uint8_t *p = v;
    const float32x4_t va = vdupq_n_f32(a);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), neon_load_f16(p + 2 * i), va));
    for (; i < n; ++i) y[i] = fmaf(ck_half_to_float(ck_load_u16(p + 2 * i)), a, y[i]);
}

// MARK: - Table

CK_INTERNAL void ck_ops_neon_fill(ck_ops *t) {
    t->rms_norm = neon_rms_norm;
    t->rope_norm = neon_rope_norm;
    t->rope_neox = neon_rope_neox;
    t->max = neon_max;
    t->exp_sub = neon_exp_sub;
    t->softmax = neon_softmax;
    t->silu = neon_silu_row;
    t->swiglu = neon_swiglu;
    t->gelu = neon_gelu;
    t->geglu = neon_geglu;
    t->add = neon_add;
    t->mul = neon_mul;
    t->scale = neon_scale;
    t->dot_f16 = neon_dot_f16;
    t->axpy_f16 = neon_axpy_f16;
}

#endif  // __aarch64__
