// ck_ops_avx2.c — the float ops for the AVX2 + FMA + F16C path (also used by the AVX-VNNI path):
// 8 floats per vector, the arithmetic of ggml-cpu's `__AVX2__ && __FMA__` build (vec.h ggml_v_expf /
// ggml_v_silu, vec.cpp ggml_vec_soft_max_f32 with its horizontal-sum order). See CKernelsOps.h for
// what is identical to what, and ck_ops.c for the scalar reference.
#include "ck_ops_impl.h"

#include <math.h>
#include <string.h>

#include "ck_attend_body.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TGT

// MARK: - ggml_v_expf / ggml_v_silu (AVX2 + FMA), operation for operation

INL __m256 avx2_expf(__m256 x) {
    const __m256 r = _mm256_set1_ps(CK_EXP_SHIFT);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(CK_EXP_LOG2E), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(CK_EXP_LN2_LO),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(CK_EXP_LN2_HI), x));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0f))));
    const __m256 abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    const __m256 c = _mm256_cmp_ps(abs_n, _mm256_set1_ps(126.0f), _CMP_GT_OQ);
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(CK_EXP_C4), b, _mm256_set1_ps(CK_EXP_C3)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(CK_EXP_C2), b, _mm256_set1_ps(CK_EXP_C1))),
        u, _mm256_mul_ps(_mm256_set1_ps(CK_EXP_C0), b));
    if (!_mm256_movemask_ps(c)) return _mm256_fmadd_ps(j, k, k);
    // |n| > 126: scale in two steps (s2·(1+j))·s1 so that 2^n does not overflow or flush early;
    // |n| > 192: the result is 0 or +inf (s1·s1).
    const __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                       _mm256_set1_epi32((int)0x82000000u));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    const __m256 d = _mm256_cmp_ps(abs_n, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    const __m256 mid = _mm256_blendv_ps(_mm256_fmadd_ps(k, j, k), _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1), c);
    return _mm256_blendv_ps(mid, _mm256_mul_ps(s1, s1), d);
}

INL __m256 avx2_silu(__m256 x) {
    const __m256 e = avx2_expf(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// ggml_vec_soft_max_f32's per-block sum: (v0+v4 + v2+v6) + (v1+v5 + v3+v7), in that pairing.
INL float avx2_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// MARK: - RMSNorm

static TGT void avx2_rms_norm(size_t n, const float *x, const float *w, float eps, float *y) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), s2 = _mm256_setzero_pd(), s3 = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        const __m256 a2 = _mm256_mul_ps(a, a), b2 = _mm256_mul_ps(b, b);  // the float squares ggml rounds
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(a2)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(a2, 1)));
        s2 = _mm256_add_pd(s2, _mm256_cvtps_pd(_mm256_castps256_ps128(b2)));
        s3 = _mm256_add_pd(s3, _mm256_cvtps_pd(_mm256_extractf128_ps(b2, 1)));
    }
    const __m256d s = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3));
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; ++i) sum += (double)(x[i] * x[i]);

    const float scale = ck_rms_scale(ck_rms_mean_from_any_order(n, x, sum), eps);
    const __m256 vs = _mm256_set1_ps(scale);
    i = 0;
    if (w) {
        for (; i + 8 <= n; i += 8) {
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
        }
        for (; i < n; ++i) y[i] = (x[i] * scale) * w[i];
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        for (; i < n; ++i) y[i] = x[i] * scale;
    }
}

// MARK: - RoPE

static TGT void avx2_rope_norm(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x,
                               float *y) {
    // Lanes hold pairs (a, b). With A = (a, a), B = (b, b), P = (cos, sin) — the cache as stored — and
    // Q = (-sin, cos): fma(A, P, B·Q) = (fma(a, cos, -(b·sin)), fma(a, sin, b·cos)), the scalar pair.
    const __m256 sign_even = _mm256_setr_ps(-0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f);
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        size_t i = 0;
        for (; i + 8 <= n_dims; i += 8) {
            const __m256 v = _mm256_loadu_ps(xh + i);
            const __m256 p = _mm256_loadu_ps(cache + i);
            const __m256 q = _mm256_xor_ps(_mm256_permute_ps(p, _MM_SHUFFLE(2, 3, 0, 1)), sign_even);
            const __m256 out = _mm256_fmadd_ps(_mm256_moveldup_ps(v), p, _mm256_mul_ps(_mm256_movehdup_ps(v), q));
            _mm256_storeu_ps(yh + i, out);
        }
        for (; i < n_dims; i += 2) ck_rope_pair(xh[i], xh[i + 1], cache[i], cache[i + 1], &yh[i], &yh[i + 1]);
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

// 8 cos and 8 sin from 16 interleaved cache floats.
INL void avx2_split_cache(const float *p, __m256 *c, __m256 *s) {
    const __m256 p0 = _mm256_loadu_ps(p), p1 = _mm256_loadu_ps(p + 8);
    // shuffle_ps works per 128-bit half: (c0 c1 c4 c5 | c2 c3 c6 c7); the 64-bit permute restores order.
    const __m256 ce = _mm256_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 so = _mm256_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1));
    *c = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ce), _MM_SHUFFLE(3, 1, 2, 0)));
    *s = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(so), _MM_SHUFFLE(3, 1, 2, 0)));
}

static TGT void avx2_rope_neox(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x,
                               float *y) {
    const size_t half = n_dims / 2;
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        size_t k = 0;
        for (; k + 8 <= half; k += 8) {
            __m256 c, s;
            avx2_split_cache(cache + 2 * k, &c, &s);
            const __m256 a = _mm256_loadu_ps(xh + k), b = _mm256_loadu_ps(xh + half + k);
            const __m256 ra = _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s));
            const __m256 rb = _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c));
            _mm256_storeu_ps(yh + k, ra);
            _mm256_storeu_ps(yh + half + k, rb);
        }
        for (; k < half; ++k) {
            ck_rope_pair(xh[k], xh[k + half], cache[2 * k], cache[2 * k + 1], &yh[k], &yh[k + half]);
        }
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

// MARK: - Softmax

static TGT float avx2_max(size_t n, const float *x) {
    size_t i = 0;
    float m = -INFINITY;
    if (n >= 8) {
        __m256 v = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(x + i));
        __m128 t = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        t = _mm_max_ps(t, _mm_movehl_ps(t, t));
        t = _mm_max_ss(t, _mm_movehdup_ps(t));
        m = _mm_cvtss_f32(t);
    }
    for (; i < n; ++i) m = m > x[i] ? m : x[i];
    return m;
}

static TGT double avx2_exp_sub(size_t n, const float *x, float max, float *y) {
    const __m256 vm = _mm256_set1_ps(max);
    double sum = 0.0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = avx2_expf(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(y + i, v);
        sum += (double)avx2_hsum(v);
    }
    for (; i < n; ++i) {
        const float v = expf(x[i] - max);
        sum += (double)v;
        y[i] = v;
    }
    return sum;
}

static TGT void avx2_scale(size_t n, const float *x, float s, float *y) {
    const __m256 vs = _mm256_set1_ps(s);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
    for (; i < n; ++i) y[i] = x[i] * s;
}

static TGT void avx2_softmax(size_t n, const float *x, float scale, const float *mask, float *y) {
    const __m256 vs = _mm256_set1_ps(scale);
    size_t i = 0;
    if (mask) {
        // x·scale rounded, then + mask (two roundings, as ggml's scale-then-add).
        for (; i + 8 <= n; i += 8) {
            const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
            _mm256_storeu_ps(y + i, _mm256_add_ps(v, _mm256_loadu_ps(mask + i)));
        }
        for (; i < n; ++i) {
            const float v = x[i] * scale;
            y[i] = v + mask[i];
        }
    } else {
        avx2_scale(n, x, scale, y);
    }
    const float max = avx2_max(n, y);
    if (max == -INFINITY) {
        ck_softmax_zero(n, y);
        return;
    }
    const double sum = avx2_exp_sub(n, y, max, y);
    avx2_scale(n, y, (float)(1.0 / sum), y);
}

// MARK: - SiLU, SwiGLU

static TGT void avx2_silu_row(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, avx2_silu(_mm256_loadu_ps(x + i)));
    for (; i < n; ++i) y[i] = ck_silu_scalar(x[i]);
}

static TGT void avx2_swiglu(size_t n, const float *gate, const float *up, float *y) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(avx2_silu(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    }
    for (; i < n; ++i) y[i] = ck_silu_scalar(gate[i]) * up[i];
}

// MARK: - GELU, GeGLU (table lookup by gather)

// table[f16(v)] widened, for 8 lanes: vcvtps2ph (RNE, as ggml's F16C conversion), a 32-bit gather at
// byte offset 2·index (the table's pad entry keeps index 65535 inside), low halves kept.
INL __m256 avx2_gelu_lookup(const uint16_t *t, __m256 v) {
    const __m256i idx = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    const __m256i g = _mm256_and_si256(_mm256_i32gather_epi32((const int *)(const void *)t, idx, 2),
                                       _mm256_set1_epi32(0xffff));
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(g, g), _MM_SHUFFLE(0, 0, 2, 0));
    return _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
}

static TGT void avx2_gelu(size_t n, const float *x, float *y) {
    const uint16_t *t = ck_gelu_table();
    const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        __m256 r = _mm256_blendv_ps(avx2_gelu_lookup(t, v), v, _mm256_cmp_ps(v, hi, _CMP_GE_OQ));
        r = _mm256_andnot_ps(_mm256_cmp_ps(v, lo, _CMP_LE_OQ), r);  // x <= -10 -> +0
        _mm256_storeu_ps(y + i, r);
    }
    for (; i < n; ++i) y[i] = ck_gelu_one(t, x[i]);
}

static TGT void avx2_geglu(size_t n, const float *gate, const float *up, float *y) {
    const uint16_t *t = ck_gelu_table();
    const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(gate + i);
        const __m256 r = _mm256_blendv_ps(avx2_gelu_lookup(t, v), v, _mm256_cmp_ps(v, hi, _CMP_GE_OQ));
        const __m256 p = _mm256_mul_ps(r, _mm256_loadu_ps(up + i));
        _mm256_storeu_ps(y + i, _mm256_andnot_ps(_mm256_cmp_ps(v, lo, _CMP_LE_OQ), p));
    }
    for (; i < n; ++i) y[i] = ck_geglu_one(t, gate[i], up[i]);
}

// MARK: - Element-wise

static TGT void avx2_add(size_t n, const float *a, const float *b, float *y) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; ++i) y[i] = a[i] + b[i];
}

static TGT void avx2_mul(size_t n, const float *a, const float *b, float *y) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; ++i) y[i] = a[i] * b[i];
}

// MARK: - F16 KV helpers

INL __m256 avx2_load_f16(const uint8_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}

// ggml_vec_dot_f16's blocking over the whole steps of 32 (n a multiple of 32): 4 accumulators,
// reduced (0 + 2) + (1 + 3) to one vector.
INL __m256 avx2_dot_f16_steps(size_t n, const uint8_t *p, const float *q) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(),
           acc3 = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 32) {
        acc0 = _mm256_fmadd_ps(avx2_load_f16(p + 2 * i), _mm256_loadu_ps(q + i), acc0);
        acc1 = _mm256_fmadd_ps(avx2_load_f16(p + 2 * i + 16), _mm256_loadu_ps(q + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(avx2_load_f16(p + 2 * i + 32), _mm256_loadu_ps(q + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(avx2_load_f16(p + 2 * i + 48), _mm256_loadu_ps(q + i + 24), acc3);
    }
    return _mm256_add_ps(_mm256_add_ps(acc0, acc2), _mm256_add_ps(acc1, acc3));
}

static TGT float avx2_dot_f16(size_t n, const void *k, const float *q) {
    // ... then low 128 + high 128, two horizontal adds, and the products past the steps in a double.
    const uint8_t *p = k;
    const size_t np = n & ~(size_t)31;
    const __m256 v = avx2_dot_f16_steps(np, p, q);
    const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t1 = _mm_hadd_ps(t0, t0);
    double sum = (double)_mm_cvtss_f32(_mm_hadd_ps(t1, t1));
    for (size_t i = np; i < n; ++i) sum += (double)(ck_half_to_float(ck_load_u16(p + 2 * i)) * q[i]);
    return (float)sum;
}

static TGT void avx2_axpy_f16(size_t n, float a, const void *v, float *y) {
    const uint8_t *p = v;
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(avx2_load_f16(p + 2 * i), va, _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] = fmaf(ck_half_to_float(ck_load_u16(p + 2 * i)), a, y[i]);
}

static TGT void avx2_axpy_f32(size_t n, float a, const float *x, float *y) {
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] = fmaf(x[i], a, y[i]);
}

// MARK: - One query head's attention (see CKernelsOps.h)

// P·V with each slot's accumulators in registers instead of an axpy row in memory (which made P·V
// bound by loading and storing the slot rows: two loads and a store per 8 products): slot s takes
// the positions p = s (mod lanes) of first..<visible in increasing order -- the fused multiply-adds
// the axpy rows do for it, in the same order. Up to 4 heads of a group at a time, 16 output
// dimensions at a time (2 ymm per head): each V row piece is converted from f16 once for the heads
// that use it (it was converted per head: as many conversions as multiply-adds). The slot's V rows,
// lanes positions apart, stay in L1 across the dimension pieces; the next ones are prefetched.
INL void avx2_pv_piece(int nh, float *const *base, size_t off_scores, float *const *slot, size_t c0, size_t d,
                       size_t lanes, size_t start, size_t visible, size_t cells, const uint16_t *values) {
    __m256 acc[4][2];
    _Pragma("GCC unroll 4") for (int h = 0; h < nh; ++h) acc[h][0] = acc[h][1] = _mm256_setzero_ps();
    const float *scores[4];
    _Pragma("GCC unroll 4") for (int h = 0; h < nh; ++h) scores[h] = base[h] + off_scores;
    for (size_t p = start; p < visible; p += lanes) {
        const size_t cell = p < cells ? p : p % cells;
        if (c0 == 0 && p + 4 * lanes < visible) {  // rows lanes apart: no hardware prefetcher follows them
            const size_t ahead = p + 4 * lanes, cell_ahead = ahead < cells ? ahead : ahead % cells;
            const char *row = (const char *)(values + cell_ahead * d);
            for (size_t k = 0; k < 2 * d; k += 64) _mm_prefetch(row + k, _MM_HINT_T0);
        }
        const uint8_t *v = (const uint8_t *)(values + cell * d + c0);
        const __m256 v0 = avx2_load_f16(v), v1 = avx2_load_f16(v + 16);
        _Pragma("GCC unroll 4") for (int h = 0; h < nh; ++h) {
            const __m256 a = _mm256_broadcast_ss(&scores[h][p]);
            acc[h][0] = _mm256_fmadd_ps(v0, a, acc[h][0]);
            acc[h][1] = _mm256_fmadd_ps(v1, a, acc[h][1]);
        }
    }
    _Pragma("GCC unroll 4") for (int h = 0; h < nh; ++h) {
        _mm256_storeu_ps(slot[h] + c0, acc[h][0]);
        _mm256_storeu_ps(slot[h] + c0 + 8, acc[h][1]);
    }
}

static TGT void avx2_pv_slots(size_t n_heads, float *const *base, size_t off_scores, size_t off_slots, size_t d,
                              size_t lanes, size_t first, size_t visible, size_t cells, const uint16_t *values) {
    const size_t used = visible < lanes ? visible : lanes;
    for (size_t s = 0; s < used; ++s) {
        const size_t start = first + (s + lanes - first % lanes) % lanes;
        for (size_t h0 = 0; h0 < n_heads; h0 += 4) {
            const int nh = n_heads - h0 < 4 ? (int)(n_heads - h0) : 4;
            float *slot[4];
            for (int h = 0; h < nh; ++h) slot[h] = base[h0 + (size_t)h] + off_slots + s * d;
            size_t c0 = 0;
            if (nh == 1) {  // one head: 64 dimensions per pass over the slot's rows (a head alone shares no conversion)
                const float *scores = base[h0] + off_scores;
                for (; c0 + 64 <= d; c0 += 64) {
                    __m256 acc[8];
                    _Pragma("GCC unroll 8") for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_ps();
                    for (size_t p = start; p < visible; p += lanes) {
                        const size_t cell = p < cells ? p : p % cells;
                        if (p + 4 * lanes < visible) {
                            const size_t ahead = p + 4 * lanes, cell_ahead = ahead < cells ? ahead : ahead % cells;
                            const char *row = (const char *)(values + cell_ahead * d + c0);
                            _mm_prefetch(row, _MM_HINT_T0);
                            _mm_prefetch(row + 64, _MM_HINT_T0);
                        }
                        const __m256 a = _mm256_broadcast_ss(&scores[p]);
                        const uint8_t *v = (const uint8_t *)(values + cell * d + c0);
                        _Pragma("GCC unroll 8") for (int j = 0; j < 8; ++j) {
                            acc[j] = _mm256_fmadd_ps(avx2_load_f16(v + 16 * j), a, acc[j]);
                        }
                    }
                    _Pragma("GCC unroll 8") for (int j = 0; j < 8; ++j) _mm256_storeu_ps(slot[0] + c0 + 8 * j, acc[j]);
                }
            }
            for (; c0 + 16 <= d; c0 += 16) {
                switch (nh) {
                case 4: avx2_pv_piece(4, base + h0, off_scores, slot, c0, d, lanes, start, visible, cells, values); break;
                case 3: avx2_pv_piece(3, base + h0, off_scores, slot, c0, d, lanes, start, visible, cells, values); break;
                case 2: avx2_pv_piece(2, base + h0, off_scores, slot, c0, d, lanes, start, visible, cells, values); break;
                default: avx2_pv_piece(1, base + h0, off_scores, slot, c0, d, lanes, start, visible, cells, values); break;
                }
            }
            for (int h = 0; h < nh; ++h) {
                const float *scores = base[h0 + (size_t)h] + off_scores;
                size_t c = c0;
                for (; c + 8 <= d; c += 8) {
                    __m256 acc = _mm256_setzero_ps();
                    for (size_t p = start; p < visible; p += lanes) {
                        const size_t cell = p < cells ? p : p % cells;
                        acc = _mm256_fmadd_ps(avx2_load_f16((const uint8_t *)(values + cell * d + c)), _mm256_broadcast_ss(&scores[p]), acc);
                    }
                    _mm256_storeu_ps(slot[h] + c, acc);
                }
                for (; c < d; ++c) {  // the axpy's scalar tail
                    float acc = 0.0f;
                    for (size_t p = start; p < visible; p += lanes) {
                        const size_t cell = p < cells ? p : p % cells;
                        acc = fmaf(ck_half_to_float(values[cell * d + c]), scores[p], acc);
                    }
                    slot[h][c] = acc;
                }
            }
        }
    }
}

// [low(a) + high(a) | low(b) + high(b)]
INL __m256 avx2_fold_pair(__m256 a, __m256 b) {
    return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

// K·Q for a block of positions, 8 positions at a time: each position's steps as in avx2_dot_f16
// (avx2_dot_f16_steps), then the 8 vectors' low + high 128 and two horizontal adds done together
// (two positions' halves per vector, three vhaddps for all 8) instead of an extract and two vhaddps
// per position -- the same additions of the same values in the same order, so the same floats. (A
// profile put about 40% of K·Q's samples on the per-position reduction; attention gained ~5%.) Rows whose
// length is not a whole number of steps (a double tail in avx2_dot_f16) and the block's last
// positions past a multiple of 8 take avx2_dot_f16.
static TGT void avx2_scores(size_t n_heads, float *const *base, size_t off_query, size_t off_scores, size_t d, size_t p0,
                            size_t p1, size_t cells, const uint16_t *keys) {
    for (size_t h = 0; h < n_heads; ++h) {
        const float *q = base[h] + off_query;
        float *scores = base[h] + off_scores;
        size_t p = p0;
        if (d % 32 == 0) {
            for (; p + 8 <= p1; p += 8) {
                __m256 v[8];
                _Pragma("GCC unroll 8") for (int j = 0; j < 8; ++j) {
                    const size_t pj = p + (size_t)j, cell = pj < cells ? pj : pj % cells;
                    v[j] = avx2_dot_f16_steps(d, (const uint8_t *)(keys + cell * d), q);
                }
                // u = [t0(a) | t0(b)] per pair; hadd twice gives [a c e g | b d f h] as (t0[0] + t0[1]) + (t0[2] + t0[3]).
                const __m256 h1 = _mm256_hadd_ps(avx2_fold_pair(v[0], v[1]), avx2_fold_pair(v[2], v[3]));
                const __m256 h2 = _mm256_hadd_ps(avx2_fold_pair(v[4], v[5]), avx2_fold_pair(v[6], v[7]));
                const __m256 r = _mm256_hadd_ps(h1, h2);
                _mm256_storeu_ps(scores + p, _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
            }
        }
        for (; p < p1; ++p) {
            const size_t cell = p < cells ? p : p % cells;
            scores[p] = avx2_dot_f16(d, keys + cell * d, q);
        }
    }
}

// ck_attend_f16_generic's body with the ops above called directly: the compiler inlines the 64-wide
// dot and axpy into the position loops instead of an indirect call per position and head.
static TGT void avx2_attend_f16(const ck_ops *ops, const ck_attend_args *a) {
    (void)ops;
#define CK_AT_DOT(n, k, q) avx2_dot_f16(n, k, q)
#define CK_AT_SOFTMAX(n, x, scale, mask, y) avx2_softmax(n, x, scale, mask, y)
#define CK_AT_ADD(n, p, q, y) avx2_add(n, p, q, y)
#define CK_AT_PV avx2_pv_slots
#define CK_AT_SCORES avx2_scores
    CK_ATTEND_F16_BODY(a, 1, 32);  // llama.cpp's AVX2 build: ggml_vec_dot_f16 in 4 accumulators of 8
#undef CK_AT_DOT
#undef CK_AT_SOFTMAX
#undef CK_AT_ADD
#undef CK_AT_PV
#undef CK_AT_SCORES
}

// The same for the query heads of one KV head, each K and V row walked once for all of them.
static TGT void avx2_attend_f16_heads(const ck_ops *ops, const ck_attend_args *a, size_t count) {
    if (count == 0) return;
    if (count > CK_ATTEND_MAX_HEADS) {
        for (size_t h = 0; h < count; h += CK_ATTEND_MAX_HEADS) {
            avx2_attend_f16_heads(ops, a + h, count - h < CK_ATTEND_MAX_HEADS ? count - h : CK_ATTEND_MAX_HEADS);
        }
        return;
    }
#define CK_AT_DOT(n, k, q) avx2_dot_f16(n, k, q)
#define CK_AT_SOFTMAX(n, x, scale, mask, y) avx2_softmax(n, x, scale, mask, y)
#define CK_AT_ADD(n, p, q, y) avx2_add(n, p, q, y)
#define CK_AT_PV avx2_pv_slots
#define CK_AT_SCORES avx2_scores
    CK_ATTEND_F16_BODY(a, count, 32);
#undef CK_AT_DOT
#undef CK_AT_SOFTMAX
#undef CK_AT_ADD
#undef CK_AT_PV
#undef CK_AT_SCORES
}

// MARK: - Table

CK_INTERNAL void ck_ops_avx2_fill(ck_ops *t) {
    t->rms_norm = avx2_rms_norm;
    t->rope_norm = avx2_rope_norm;
    t->rope_neox = avx2_rope_neox;
    t->max = avx2_max;
    t->exp_sub = avx2_exp_sub;
    t->softmax = avx2_softmax;
    t->silu = avx2_silu_row;
    t->swiglu = avx2_swiglu;
    t->gelu = avx2_gelu;
    t->geglu = avx2_geglu;
    t->add = avx2_add;
    t->mul = avx2_mul;
    t->scale = avx2_scale;
    t->dot_f16 = avx2_dot_f16;
    t->axpy_f16 = avx2_axpy_f16;
    t->axpy_f32 = avx2_axpy_f32;
    t->attend_f16 = avx2_attend_f16;
    t->attend_f16_heads = avx2_attend_f16_heads;
}

#endif  // __x86_64__
