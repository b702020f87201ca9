// ck_ops_avx512.c — the float ops for the AVX-512 paths (F/BW/VL/DQ; also used by AVX-512 VNNI): 16
// floats per vector, the arithmetic of ggml-cpu's `__AVX512F__ && __AVX512DQ__` build. Its
// ggml_v_expf differs from the AVX2 one (it folds the +1 into the polynomial and scales with
// vscalefps), its silu / softmax loops go straight from 16-wide blocks to the glibc tail, and its
// per-block sum is _mm512_reduce_add_ps, which GCC and Clang both expand as halving adds (written out
// below so the order does not depend on our compiler). See CKernelsOps.h.
#include <string.h>

#include "ck_ops_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#define INL static inline __attribute__((always_inline)) TGT

// MARK: - ggml_v_expf / ggml_v_silu (AVX-512), operation for operation

INL __m512 avx512_expf(__m512 x) {
    const __m512 r = _mm512_set1_ps(CK_EXP_SHIFT);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(CK_EXP_LOG2E), r);
    const __m512 n = _mm512_sub_ps(z, r);
    const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_EXP_LN2_LO),
                                      _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_EXP_LN2_HI), x));
    const __mmask16 d = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192.0f), _CMP_GT_OQ);
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(CK_EXP_C4), b, _mm512_set1_ps(CK_EXP_C3)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(CK_EXP_C2), b, _mm512_set1_ps(CK_EXP_C1))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(CK_EXP_C0), b, _mm512_set1_ps(1.0f)));
    const __m512 res = _mm512_scalef_ps(j, n);
    if (_mm512_kortestz(d, d)) return res;
    // |n| > 192: 0 for n <= 0, +inf otherwise.
    const __m512 zero = _mm512_setzero_ps();
    const __m512 alt = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, zero, _CMP_LE_OQ), _mm512_set1_ps(INFINITY), zero);
    return _mm512_mask_blend_ps(d, res, alt);
}

INL __m512 avx512_silu(__m512 x) {
    const __m512 e = avx512_expf(_mm512_sub_ps(_mm512_setzero_ps(), x));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// _mm512_reduce_add_ps as GCC's header writes it (and Clang's halving expansion computes):
// s_i = v_i + v_{i+8}; t_i = s_i + s_{i+4}; (t0 + t2) + (t1 + t3).
INL float avx512_hsum(__m512 v) {
    const __m256 s = _mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
    const __m128 t = _mm_add_ps(_mm256_extractf128_ps(s, 1), _mm256_castps256_ps128(s));
    const __m128 u = _mm_add_ps(t, _mm_shuffle_ps(t, t, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm_cvtss_f32(u) + _mm_cvtss_f32(_mm_shuffle_ps(u, u, _MM_SHUFFLE(1, 1, 1, 1)));
}

// MARK: - RMSNorm

static TGT void avx512_rms_norm(size_t n, const float *x, const float *w, float eps, float *y) {
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd(), s2 = _mm512_setzero_pd(), s3 = _mm512_setzero_pd();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        const __m512 a2 = _mm512_mul_ps(a, a), b2 = _mm512_mul_ps(b, b);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(a2)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(a2, 1)));
        s2 = _mm512_add_pd(s2, _mm512_cvtps_pd(_mm512_castps512_ps256(b2)));
        s3 = _mm512_add_pd(s3, _mm512_cvtps_pd(_mm512_extractf32x8_ps(b2, 1)));
    }
    double sum = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
    for (; i < n; ++i) sum += (double)(x[i] * x[i]);

    const float scale = ck_rms_scale(ck_rms_mean_from_any_order(n, x, sum), eps);
    const __m512 vs = _mm512_set1_ps(scale);
    i = 0;
    if (w) {
        for (; i + 16 <= n; i += 16) {
            _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vs), _mm512_loadu_ps(w + i)));
        }
        for (; i < n; ++i) y[i] = (x[i] * scale) * w[i];
    } else {
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
        for (; i < n; ++i) y[i] = x[i] * scale;
    }
}

// MARK: - RoPE (see ck_ops_avx2.c for the lane algebra)

static TGT void avx512_rope_norm(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x,
                                 float *y) {
    const __m512 sign_even = _mm512_castsi512_ps(_mm512_set1_epi64((long long)0x0000000080000000ULL));
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        size_t i = 0;
        for (; i + 16 <= n_dims; i += 16) {
            const __m512 v = _mm512_loadu_ps(xh + i);
            const __m512 p = _mm512_loadu_ps(cache + i);
            const __m512 q = _mm512_xor_ps(_mm512_permute_ps(p, _MM_SHUFFLE(2, 3, 0, 1)), sign_even);
            const __m512 out = _mm512_fmadd_ps(_mm512_moveldup_ps(v), p, _mm512_mul_ps(_mm512_movehdup_ps(v), q));
            _mm512_storeu_ps(yh + i, out);
        }
        for (; i < n_dims; i += 2) ck_rope_pair(xh[i], xh[i + 1], cache[i], cache[i + 1], &yh[i], &yh[i + 1]);
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

static TGT void avx512_rope_neox(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x,
                                 float *y) {
    const size_t half = n_dims / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        size_t k = 0;
        for (; k + 16 <= half; k += 16) {
            const __m512 p0 = _mm512_loadu_ps(cache + 2 * k), p1 = _mm512_loadu_ps(cache + 2 * k + 16);
            const __m512 c = _mm512_permutex2var_ps(p0, even, p1);
            const __m512 s = _mm512_permutex2var_ps(p0, odd, p1);
            const __m512 a = _mm512_loadu_ps(xh + k), b = _mm512_loadu_ps(xh + half + k);
            const __m512 ra = _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s));
            const __m512 rb = _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c));
            _mm512_storeu_ps(yh + k, ra);
            _mm512_storeu_ps(yh + half + k, rb);
        }
        for (; k < half; ++k) {
            ck_rope_pair(xh[k], xh[k + half], cache[2 * k], cache[2 * k + 1], &yh[k], &yh[k + half]);
        }
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

// MARK: - Softmax

static TGT float avx512_max(size_t n, const float *x) {
    size_t i = 0;
    float m = -INFINITY;
    if (n >= 16) {
        __m512 v = _mm512_loadu_ps(x);
        for (i = 16; i + 16 <= n; i += 16) v = _mm512_max_ps(v, _mm512_loadu_ps(x + i));
        m = _mm512_reduce_max_ps(v);
    }
    for (; i < n; ++i) m = m > x[i] ? m : x[i];
    return m;
}

static TGT double avx512_exp_sub(size_t n, const float *x, float max, float *y) {
    const __m512 vm = _mm512_set1_ps(max);
    double sum = 0.0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = avx512_expf(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));
        _mm512_storeu_ps(y + i, v);
        sum += (double)avx512_hsum(v);
    }
    for (; i < n; ++i) {
        const float v = expf(x[i] - max);
        sum += (double)v;
        y[i] = v;
    }
    return sum;
}

static TGT void avx512_scale(size_t n, const float *x, float s, float *y) {
    const __m512 vs = _mm512_set1_ps(s);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
    for (; i < n; ++i) y[i] = x[i] * s;
}

static TGT void avx512_softmax(size_t n, const float *x, float scale, const float *mask, float *y) {
    const __m512 vs = _mm512_set1_ps(scale);
    size_t i = 0;
    if (mask) {
        for (; i + 16 <= n; i += 16) {
            const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), vs);
            _mm512_storeu_ps(y + i, _mm512_add_ps(v, _mm512_loadu_ps(mask + i)));
        }
        for (; i < n; ++i) {
            const float v = x[i] * scale;
            y[i] = v + mask[i];
        }
    } else {
        avx512_scale(n, x, scale, y);
    }
    const float max = avx512_max(n, y);
    if (max == -INFINITY) {
        ck_softmax_zero(n, y);
        return;
    }
    const double sum = avx512_exp_sub(n, y, max, y);
    avx512_scale(n, y, (float)(1.0 / sum), y);
}

// MARK: - SiLU, SwiGLU

static TGT void avx512_silu_row(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, avx512_silu(_mm512_loadu_ps(x + i)));
    for (; i < n; ++i) y[i] = ck_silu_scalar(x[i]);
}

static TGT void avx512_swiglu(size_t n, const float *gate, const float *up, float *y) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(y + i, _mm512_mul_ps(avx512_silu(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
    }
    for (; i < n; ++i) y[i] = ck_silu_scalar(gate[i]) * up[i];
}

// MARK: - GELU, GeGLU

INL __m512 avx512_gelu_lookup(const uint16_t *t, __m512 v) {
    const __m512i idx = _mm512_cvtepu16_epi32(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    const __m512i g = _mm512_i32gather_epi32(idx, (const void *)t, 2);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));  // vpmovdw keeps the low half of each lane
}

static TGT void avx512_gelu(size_t n, const float *x, float *y) {
    const uint16_t *t = ck_gelu_table();
    const __m512 lo = _mm512_set1_ps(-10.0f), hi = _mm512_set1_ps(10.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        __m512 r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GE_OQ), avx512_gelu_lookup(t, v), v);
        r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LE_OQ), r, _mm512_setzero_ps());
        _mm512_storeu_ps(y + i, r);
    }
    for (; i < n; ++i) y[i] = ck_gelu_one(t, x[i]);
}

static TGT void avx512_geglu(size_t n, const float *gate, const float *up, float *y) {
    const uint16_t *t = ck_gelu_table();
    const __m512 lo = _mm512_set1_ps(-10.0f), hi = _mm512_set1_ps(10.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(gate + i);
        const __m512 r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GE_OQ), avx512_gelu_lookup(t, v), v);
        const __m512 p = _mm512_mul_ps(r, _mm512_loadu_ps(up + i));
        _mm512_storeu_ps(y + i, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LE_OQ), p, _mm512_setzero_ps()));
    }
    for (; i < n; ++i) y[i] = ck_geglu_one(t, gate[i], up[i]);
}

// MARK: - Element-wise

static TGT void avx512_add(size_t n, const float *a, const float *b, float *y) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    for (; i < n; ++i) y[i] = a[i] + b[i];
}

static TGT void avx512_mul(size_t n, const float *a, const float *b, float *y) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    for (; i < n; ++i) y[i] = a[i] * b[i];
}

// MARK: - F16 KV helpers

INL __m512 avx512_load_f16(const uint8_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
}

// ggml_vec_dot_f16's AVX-512 blocking over the first np (a multiple of 64) elements: 4 accumulators
// over blocks of 64, pairwise reduction; the vector avx512_hsum then sums.
INL __m512 avx512_dot_f16_lanes(size_t np, const uint8_t *p, const float *q) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(),
           acc3 = _mm512_setzero_ps();
    for (size_t i = 0; i < np; i += 64) {
        acc0 = _mm512_fmadd_ps(avx512_load_f16(p + 2 * i), _mm512_loadu_ps(q + i), acc0);
        acc1 = _mm512_fmadd_ps(avx512_load_f16(p + 2 * i + 32), _mm512_loadu_ps(q + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(avx512_load_f16(p + 2 * i + 64), _mm512_loadu_ps(q + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(avx512_load_f16(p + 2 * i + 96), _mm512_loadu_ps(q + i + 48), acc3);
    }
    return _mm512_add_ps(_mm512_add_ps(acc0, acc2), _mm512_add_ps(acc1, acc3));
}

static TGT float avx512_dot_f16(size_t n, const void *k, const float *q) {
    const uint8_t *p = k;
    const size_t np = n & ~(size_t)63;
    double sum = (double)avx512_hsum(avx512_dot_f16_lanes(np, p, q));
    for (size_t i = np; i < n; ++i) sum += (double)(ck_half_to_float(ck_load_u16(p + 2 * i)) * q[i]);
    return (float)sum;
}

static TGT void avx512_axpy_f16(size_t n, float a, const void *v, float *y) {
    const uint8_t *p = v;
    const __m512 va = _mm512_set1_ps(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(avx512_load_f16(p + 2 * i), va, _mm512_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] = fmaf(ck_half_to_float(ck_load_u16(p + 2 * i)), a, y[i]);
}

static TGT void avx512_axpy_f32(size_t n, float a, const float *x, float *y) {
    const __m512 va = _mm512_set1_ps(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(_mm512_loadu_ps(x + i), va, _mm512_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] = fmaf(x[i], a, y[i]);
}

#include "ck_ops_avx512_attend.h"

// MARK: - Table

CK_INTERNAL void ck_ops_avx512_fill(ck_ops *t) {
    t->rms_norm = avx512_rms_norm;
    t->rope_norm = avx512_rope_norm;
    t->rope_neox = avx512_rope_neox;
    t->max = avx512_max;
    t->exp_sub = avx512_exp_sub;
    t->softmax = avx512_softmax;
    t->silu = avx512_silu_row;
    t->swiglu = avx512_swiglu;
    t->gelu = avx512_gelu;
    t->geglu = avx512_geglu;
    t->add = avx512_add;
    t->mul = avx512_mul;
    t->scale = avx512_scale;
    t->dot_f16 = avx512_dot_f16;
    t->axpy_f16 = avx512_axpy_f16;
    t->attend_f16 = avx512_attend_f16;
    t->attend_f16_heads = avx512_attend_f16_heads;
    t->axpy_f32 = avx512_axpy_f32;
}

#endif  // __x86_64__
