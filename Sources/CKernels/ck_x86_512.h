// ck_x86_512.h — 512-bit x86-64 kernels, compiled twice: ck_avx512.c (AVX-512 F/BW/VL/DQ, integer
// dots via vpmaddubsw/vpmaddwd) and ck_avx512vnni.c (plus AVX512_VNNI: vpdpbusd / vpdpwssd).
// Includer defines CK_PFX, CK_TGT and CK_VNNI as for ck_x86_256.h.
//
// Layout choices: Q4_0 and Q4_K mat-vec / mat-mat live in ck_x86_512_rows16.h (llama.cpp's order, 16
// rows at a time); below, their isums. Q4_0 processes two 32-blocks per zmm (an odd last block is paired with a static
// all-zero block, which contributes exactly 0). Q8_0 and Q5_0 process two rows per zmm, one block at
// a time, so each row sums in llama.cpp's order (see their MARK below); Q5_0's isums still come from
// the two-blocks-per-zmm macro. The K-quants process 64 elements per zmm, laid
// out so the matching Q8_K activations are one contiguous 64-byte load; the nibble halves come from
// one broadcast 32-byte load plus a masked shift. Everything integer is exact under the same bounds
// as the 256-bit kernels (activation quants in [-127, 127]).
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ck_fp16.h"
#include "ck_mat_template.h"
#include "ck_types.h"

#define CK_FN(name) CK_CAT(CK_PFX, name)
#define CK_INL static CK_ALWAYS_INLINE CK_TGT

// MARK: - Helpers

// f16 scale -> f32. Compilers lower _cvtsh_ss (and movd + vcvtph2ps) to a vpinsrw into whatever
// register is free -- often a loop accumulator -- which chains every block behind the previous FMA
// (measured: Q8_0 mat-vec at a third of the bandwidth). The empty asm consumes the whole register,
// so the compiler must build it in full (movzx + vmovd, which zeroes the rest) instead of inserting
// one word into a stale register.
CK_INL float CK_FN(h2f)(const void *p) {
    __m128i v = _mm_cvtsi32_si128((int)ck_load_u16(p));
    __asm__("" : "+x"(v));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}

CK_INL int32_t CK_FN(hsum256_epi32)(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

CK_INL float CK_FN(hsum256_ps)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

CK_INL float CK_FN(hsum_ps)(__m512 v) {
    return CK_FN(hsum256_ps)(_mm256_add_ps(_mm512_castps512_ps256(v),
                                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

CK_INL int32_t CK_FN(hsum_epi32)(__m512i v) {
    return CK_FN(hsum256_epi32)(_mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
}

// See ck_x86_256.h: u <= 128 and |s| <= 127 keep vpmaddubsw's int16 pairs unsaturated.
CK_INL __m512i CK_FN(dpbusd)(__m512i acc, __m512i u, __m512i s) {
#if CK_VNNI
    return _mm512_dpbusd_epi32(acc, u, s);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
}

CK_INL __m512i CK_FN(dpwssd)(__m512i acc, __m512i a, __m512i b) {
#if CK_VNNI
    return _mm512_dpwssd_epi32(acc, a, b);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
#endif
}

CK_INL __m512i CK_FN(load2x256)(const void *lo, const void *hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)lo)),
                              _mm256_loadu_si256((const __m256i *)hi), 1);
}

// Two 16-byte nibble arrays -> 64 bytes [w0 low, w0 high, w1 low, w1 high] (element order).
CK_INL __m512i CK_FN(nibbles2x32)(const uint8_t *p0, const uint8_t *p1) {
    const __m256i t = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)p1), _mm_loadu_si128((const __m128i *)p0));
    __m512i v = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(t));
    v = _mm512_mask_srli_epi16(v, (__mmask32)0xFF00FF00u, v, 4);
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

// Per-block float scales: lanes 0..7 get s0, lanes 8..15 get s1.
CK_INL __m512 CK_FN(scale2)(float s0, float s1) {
    return _mm512_mask_blend_ps((__mmask16)0xFF00, _mm512_set1_ps(s0), _mm512_set1_ps(s1));
}

// MARK: - Q4_0 / Q5_0 x Q8_0, two blocks per zmm

static const block_q4_0 CK_FN(zero_q4_0) = {0};
static const block_q5_0 CK_FN(zero_q5_0) = {0};
static const block_q8_0 CK_FN(zero_q8_0) = {0};

CK_INL __m512i CK_FN(isum_qoff)(__m512i q, __m512i off, const block_q8_0 *a0, const block_q8_0 *a1) {
    const __m512i y = CK_FN(load2x256)(a0->qs, a1->qs);
    const __m512i z = _mm512_setzero_si512();
    return _mm512_sub_epi32(CK_FN(dpbusd)(z, q, y), CK_FN(dpbusd)(z, off, y));
}


#define CK_MK_QX_0(t, BLK, UNPACK, ISUM)                                                                \
    CK_INL void CK_FN(mk_##t)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {    \
        const BLK *w = wv;                                                                              \
        const block_q8_0 *x[4];                                                                         \
        __m512 acc[4];                                                                                  \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            acc[c] = _mm512_setzero_ps();                                                               \
        }                                                                                               \
        for (size_t b = 0; b < nb; b += 2) {                                                            \
            const int two = b + 1 < nb;                                                                 \
            const BLK *w0 = &w[b], *w1 = two ? &w[b + 1] : &CK_FN(zero_##t);                            \
            UNPACK;                                                                                     \
            const float dw0 = CK_FN(h2f)(&w0->d), dw1 = CK_FN(h2f)(&w1->d);                             \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                const block_q8_0 *a0 = &x[c][b], *a1 = two ? &x[c][b + 1] : &CK_FN(zero_q8_0);          \
                const __m512i is = ISUM;                                                                \
                const __m512 d = CK_FN(scale2)(dw0 * CK_FN(h2f)(&a0->d), dw1 * CK_FN(h2f)(&a1->d));     \
                acc[c] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(is), acc[c]);                            \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_ps)(acc[c]);           \
    }                                                                                                   \
    static CK_TGT void CK_FN(isums_##t)(size_t nb, const void *wv, const void *xv, int32_t *out) {       \
        const BLK *w = wv;                                                                              \
        const block_q8_0 *x = xv;                                                                       \
        for (size_t b = 0; b < nb; b += 2) {                                                            \
            const int two = b + 1 < nb;                                                                 \
            const BLK *w0 = &w[b], *w1 = two ? &w[b + 1] : &CK_FN(zero_##t);                            \
            const block_q8_0 *a0 = &x[b], *a1 = two ? &x[b + 1] : &CK_FN(zero_q8_0);                    \
            UNPACK;                                                                                     \
            const __m512i is = ISUM;                                                                    \
            out[b] = CK_FN(hsum256_epi32)(_mm512_castsi512_si256(is));                                  \
            if (two) out[b + 1] = CK_FN(hsum256_epi32)(_mm512_extracti64x4_epi64(is, 1));               \
        }                                                                                               \
    }

CK_MK_QX_0(q4_0, block_q4_0,
           const __m512i q = CK_FN(nibbles2x32)(w0->qs, w1->qs); const __m512i off = _mm512_set1_epi8(8),
           CK_FN(isum_qoff)(q, off, a0, a1))
CK_MK_QX_0(q5_0, block_q5_0,
           const __mmask64 hm = _cvtu64_mask64((uint64_t)ck_load_u32(w0->qh) | ((uint64_t)ck_load_u32(w1->qh) << 32));
           const __m512i q = _mm512_or_si512(CK_FN(nibbles2x32)(w0->qs, w1->qs),
                                             _mm512_maskz_mov_epi8(hm, _mm512_set1_epi8(0x10)));
           const __m512i off = _mm512_set1_epi8(16),
           CK_FN(isum_qoff)(q, off, a0, a1))

// MARK: - Q8_0 / Q5_0 x Q8_0 in llama.cpp's order, two ROWS per zmm
//
// llama.cpp's x86 ggml_vec_dot_q8_0_q8_0 (its __AVX2__ branch, which AVX-512 builds use; Q5_0's is
// alike, and x86 llama.cpp does not repack either type) keeps one
// 8-lane float accumulator per row and, for every block in order, adds d_w*d_a (one float multiply)
// times the 8 int32 lane sums (lane l = the 4 byte products 4l..4l+3) with one FMA; then
// hsum_float_8 (high 128 + low 128, movehl, movehdup). Any other split of the blocks over lanes
// rounds differently, and a last-bit difference sometimes crosses a Q8_0 activation rounding
// boundary in the next layer (logits off by ~0.2). So here every (row, column) pair has exactly
// that 8-lane sequence: lanes 0..7 of a zmm belong to row r, lanes 8..15 to row r+1, both at the
// same block b and the same activation column. The FMA chain per block is serial by construction;
// the mat-vec hides its latency with 2 row pairs (4 rows) in flight, the mat-mat with 4 columns.
// The integer lane sums are exact whatever the instructions (|w| <= 128, |sign(w)*a| <= 127).
//
// Walking 4 rows side by side defeats the hardware prefetchers (measured on Zen 4 with 1 GiB of
// weights: 4 pairs 20 GB/s, 1 pair 12 GB/s, the old one-row kernel 30 GB/s), so the mat-vec
// prefetches the NEXT group of rows as one linear stream, at the rate this group is consumed
// (2 pairs without: 13 GB/s; with: 31-36 GB/s), into L2 (T1) like the 16-row kernels.
#define CK_Q8_MV_PAIRS 2
CK_INL float CK_FN(hsum_lo8)(__m512 v) { return CK_FN(hsum256_ps)(_mm512_castps512_ps256(v)); }
CK_INL float CK_FN(hsum_hi8)(__m512 v) {
    return CK_FN(hsum256_ps)(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

// np row pairs (w[2p], w[2p+1]) times nc activation columns, np * nc <= 4 accumulators in flight.
// out[2p + 0/1][c] receives row (2p + 0/1) times column c. pf (may be NULL): bytes to prefetch, one
// 2·np-block slice per block step (the next group's rows, contiguous in memory). PAIR unpacks blocks
// w0, w1 (one per 256-bit half); ISUM gives the int32 lanes of both halves against the activation
// block y broadcast to both halves.
// Per block step b of np row pairs: prefetch (into L2) this step's `bytes` of the next group's rows,
// contiguous from pf (may be NULL).
CK_INL void CK_FN(pairs_prefetch)(const char *pf, size_t b, size_t bytes) {
    if (!pf) return;
    const char *q = pf + b * bytes;
    for (size_t k = 0; k < (bytes + 63) / 64; ++k) _mm_prefetch(q + 64 * k, _MM_HINT_T1);
}

#define CK_MK2_QX(t, BLK, QB, PAIR, ISUM)                                                               \
    CK_INL void CK_FN(mk2_##t)(int np, int nc, size_t nb, const BLK *const *w, const void *const *xv,    \
                               float out[8][4], const char *pf) {                                       \
        const block_q8_0 *x[4];                                                                         \
        __m512 acc[4][4];                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) x[c] = xv[c];                              \
        _Pragma("GCC unroll 4") for (int p = 0; p < np; ++p) {                                          \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) acc[p][c] = _mm512_setzero_ps();       \
        }                                                                                               \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            CK_FN(pairs_prefetch)(pf, b, (size_t)(np * 2) * sizeof(BLK));                              \
            __m256i ya[4];                                                                              \
            float da[4];                                                                                \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                ya[c] = _mm256_loadu_si256((const __m256i *)x[c][b].qs);                                \
                da[c] = CK_FN(h2f)(&x[c][b].d);                                                         \
            }                                                                                           \
            _Pragma("GCC unroll 4") for (int p = 0; p < np; ++p) {                                      \
                const BLK *w0 = &w[2 * p][b], *w1 = &w[2 * p + 1][b];                                   \
                PAIR;                                                                                   \
                const float dw0 = CK_FN(h2f)(&w0->d), dw1 = CK_FN(h2f)(&w1->d);                         \
                _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                  \
                    const __m512i y = _mm512_broadcast_i64x4(ya[c]);                                    \
                    const __m512i is = ISUM;                                                            \
                    const __m512 d = CK_FN(scale2)(dw0 * da[c], dw1 * da[c]);                           \
                    acc[p][c] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(is), acc[p][c]);                  \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int p = 0; p < np; ++p) {                                          \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                out[2 * p][c] = CK_FN(hsum_lo8)(acc[p][c]);                                             \
                out[2 * p + 1][c] = CK_FN(hsum_hi8)(acc[p][c]);                                         \
            }                                                                                           \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    static CK_TGT float CK_FN(dot_##t)(size_t n, const void *w, const void *x) {                        \
        const BLK *rows[2] = {w, w};                                                                    \
        const void *xs[1] = {x};                                                                        \
        float o[8][4];                                                                                  \
        CK_FN(mk2_##t)(1, 1, n / (QB), rows, xs, o, NULL);                                              \
        return o[0][0];                                                                                 \
    }                                                                                                   \
                                                                                                        \
    /* Rows r0..r1-1 of y = W x: 2 * CK_Q8_MV_PAIRS rows at a time (prefetching the next ones; a     */ \
    /* prefetch past the matrix is harmless), then pairs, then an odd last row paired with itself.   */ \
    static CK_TGT void CK_FN(matvec_##t)(const void *w, size_t rs, const void *xq, float *y, size_t r0,   \
                                         size_t r1, size_t cols) {                                     \
        const size_t nb = cols / (QB);                                                                  \
        const void *xs[1] = {xq};                                                                       \
        const BLK *rows[8];                                                                             \
        float o[8][4];                                                                                  \
        size_t r = r0;                                                                                  \
        for (; r + 2 * CK_Q8_MV_PAIRS <= r1; r += 2 * CK_Q8_MV_PAIRS) {                                 \
            _Pragma("GCC unroll 8") for (int i = 0; i < 2 * CK_Q8_MV_PAIRS; ++i) {                      \
                rows[i] = (const void *)((const char *)w + (r + i) * rs);                               \
            }                                                                                           \
            CK_FN(mk2_##t)(CK_Q8_MV_PAIRS, 1, nb, rows, xs, o, (const char *)w + (r + 2 * CK_Q8_MV_PAIRS) * rs); \
            _Pragma("GCC unroll 8") for (int i = 0; i < 2 * CK_Q8_MV_PAIRS; ++i) y[r + i] = o[i][0];    \
        }                                                                                               \
        for (; r < r1; r += 2) {                                                                        \
            rows[0] = (const void *)((const char *)w + r * rs);                                         \
            rows[1] = r + 1 < r1 ? (const void *)((const char *)w + (r + 1) * rs) : rows[0];            \
            CK_FN(mk2_##t)(1, 1, nb, rows, xs, o, NULL);                                                \
            y[r] = o[0][0];                                                                             \
            if (r + 1 < r1) y[r + 1] = o[1][0];                                                         \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    /* Row tiles of CK_MM_ROW_TILE as in ck_mat_template.h; inside, one row pair times <= 4 columns. */ \
    static CK_TGT void CK_FN(matmul_##t)(const void *w, size_t rs, const void *xq, size_t xstride,       \
                                         size_t nvec, float *y, size_t ys, size_t r0, size_t r1,        \
                                         size_t cols) {                                                 \
        const size_t nb = cols / (QB);                                                                  \
        for (size_t t0 = r0; t0 < r1; t0 += CK_MM_ROW_TILE) {                                           \
            const size_t t1 = t0 + CK_MM_ROW_TILE < r1 ? t0 + CK_MM_ROW_TILE : r1;                      \
            for (size_t j0 = 0; j0 < nvec; j0 += 4) {                                                   \
                const size_t nc = nvec - j0 < 4 ? nvec - j0 : 4;                                        \
                const void *xs[4];                                                                      \
                for (size_t c = 0; c < nc; ++c) xs[c] = (const char *)xq + (j0 + c) * xstride;          \
                for (size_t r = t0; r < t1; r += 2) {                                                   \
                    const int two = r + 1 < t1;                                                         \
                    const BLK *rows[2] = {(const void *)((const char *)w + r * rs),                     \
                                          (const void *)((const char *)w + (r + two) * rs)};            \
                    float o[8][4];                                                                      \
                    /* The first column pass streams the weights: prefetch the next pair (into L2). */ \
                    const char *pf = j0 == 0 ? (const char *)w + (r + 2) * rs : NULL;                   \
                    switch (nc) {                                                                       \
                    case 4: CK_FN(mk2_##t)(1, 4, nb, rows, xs, o, pf); break;                           \
                    case 3: CK_FN(mk2_##t)(1, 3, nb, rows, xs, o, pf); break;                           \
                    case 2: CK_FN(mk2_##t)(1, 2, nb, rows, xs, o, pf); break;                           \
                    default: CK_FN(mk2_##t)(1, 1, nb, rows, xs, o, pf); break;                          \
                    }                                                                                   \
                    for (size_t c = 0; c < nc; ++c) {                                                   \
                        y[(j0 + c) * ys + r] = o[0][c];                                                 \
                        if (two) y[(j0 + c) * ys + r + 1] = o[1][c];                                    \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

// Q8_0 weights: |w| (vpabsb, -128 -> 128 as u8) times y negated where w < 0 (AVX-512 has no vpsignb).
CK_MK2_QX(q8_0, block_q8_0, CK_QK8_0,
          const __m512i qw = CK_FN(load2x256)(w0->qs, w1->qs); const __m512i aw = _mm512_abs_epi8(qw);
          const __mmask64 neg = _mm512_movepi8_mask(qw),
          CK_FN(dpbusd)(_mm512_setzero_si512(), aw, _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y)))

// Q5_0 (llama.cpp's __AVX2__ ggml_vec_dot_q5_0_q8_0 has the same shape: per block d_w*d_a, the 8 int32
// lanes of (q - 16)·a, one FMA; hsum_float_8). q in 0..31 unsigned; the offset comes off per lane as
// 16·Σa, exactly.
CK_MK2_QX(q5_0, block_q5_0, CK_QK5_0,
          const __mmask64 hm = _cvtu64_mask64((uint64_t)ck_load_u32(w0->qh) | ((uint64_t)ck_load_u32(w1->qh) << 32));
          const __m512i q5 = _mm512_or_si512(CK_FN(nibbles2x32)(w0->qs, w1->qs),
                                             _mm512_maskz_mov_epi8(hm, _mm512_set1_epi8(0x10))),
          _mm512_sub_epi32(CK_FN(dpbusd)(_mm512_setzero_si512(), q5, y),
                           CK_FN(dpbusd)(_mm512_setzero_si512(), _mm512_set1_epi8(16), y)))

#include "ck_x86_512_shared.h"

// Per-block integer sums (the agreement tests compare them with the scalar ones): one block per
// 256-bit half, the upper half zero.
static CK_TGT void CK_FN(isums_q8_0)(size_t nb, const void *wv, const void *xv, int32_t *out) {
    const block_q8_0 *w = wv, *x = xv;
    for (size_t b = 0; b < nb; ++b) {
        const __m512i q = _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)w[b].qs));
        const __m512i y = _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)x[b].qs));
        const __m512i sy = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(q), _mm512_setzero_si512(), y);
        const __m512i is = CK_FN(dpbusd)(_mm512_setzero_si512(), _mm512_abs_epi8(q), sy);
        out[b] = CK_FN(hsum256_epi32)(_mm512_castsi512_si256(is));
    }
}

// MARK: - K-quants x Q8_K

CK_INL __m128i CK_FN(k4_scales)(const uint8_t *s) {
    const uint32_t a = ck_load_u32(s), b = ck_load_u32(s + 4), c = ck_load_u32(s + 8);
    const uint32_t sc_lo = a & 0x3f3f3f3fu;
    const uint32_t sc_hi = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
    const uint32_t m_lo = b & 0x3f3f3f3fu;
    const uint32_t m_hi = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
    return _mm_set_epi32((int)m_hi, (int)m_lo, (int)sc_hi, (int)sc_lo);
}

CK_INL __m256i CK_FN(k4_msum)(__m128i scm, const block_q8_K *a) {
    const __m128i m8 = _mm_unpackhi_epi64(scm, scm);
    const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
    return _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), m16);
}

// 32 nibble bytes -> 64 bytes: low nibbles (sub-block 2c) then high nibbles (sub-block 2c+1).
CK_INL __m512i CK_FN(nibbles64)(const uint8_t *p) {
    __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p));
    v = _mm512_mask_srli_epi16(v, (__mmask32)0xFFFF0000u, v, 4);
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

CK_INL void CK_FN(q4_K_unpack)(const block_q4_K *w, __m512i q[4]) {
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) q[c] = CK_FN(nibbles64)(w->qs + 32 * c);
}

CK_INL void CK_FN(q5_K_unpack)(const block_q5_K *w, __m512i q[4]) {
    const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)w->qh));
    const __m512i b16 = _mm512_set1_epi8(0x10);
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) {
        const __m512i sel = _mm512_mask_blend_epi8((__mmask64)0xFFFFFFFF00000000ULL, _mm512_set1_epi8((char)(1 << (2 * c))),
                                                   _mm512_set1_epi8((char)(1 << (2 * c + 1))));
        const __mmask64 hm = _mm512_test_epi8_mask(hb, sel);
        q[c] = _mm512_or_si512(CK_FN(nibbles64)(w->qs + 32 * c), _mm512_maskz_mov_epi8(hm, b16));
    }
}

// Scale vectors for the 4 zmm of a super-block: int16 lanes 0..15 = sc[2c], 16..31 = sc[2c+1].
CK_INL void CK_FN(k4_scale_vecs)(__m128i scm, __m512i scv[4]) {
    const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(scm));
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) {
        const __m512i idx = _mm512_mask_blend_epi16((__mmask32)0xFFFF0000u, _mm512_set1_epi16((short)(2 * c)),
                                                    _mm512_set1_epi16((short)(2 * c + 1)));
        scv[c] = _mm512_permutexvar_epi16(idx, sc16);
    }
}

CK_INL __m512i CK_FN(k4_isum)(const __m512i q[4], const __m512i scv[4], const block_q8_K *a) {
    __m512i acc = _mm512_setzero_si512();
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) {
        const __m512i y = _mm512_loadu_si512((const void *)(a->qs + 64 * c));
        acc = CK_FN(dpwssd)(acc, _mm512_maddubs_epi16(q[c], y), scv[c]);
    }
    return acc;
}

#define CK_MK_K4(t, BLK)                                                                                \
    CK_INL void CK_FN(mk_##t)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {    \
        const BLK *w = wv;                                                                              \
        const block_q8_K *x[4];                                                                         \
        __m512 acc[4];                                                                                  \
        __m256 accm[4];                                                                                 \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            acc[c] = _mm512_setzero_ps();                                                               \
            accm[c] = _mm256_setzero_ps();                                                              \
        }                                                                                               \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            __m512i q[4], scv[4];                                                                       \
            CK_FN(t##_unpack)(&w[b], q);                                                                \
            const __m128i scm = CK_FN(k4_scales)(w[b].scales);                                          \
            CK_FN(k4_scale_vecs)(scm, scv);                                                             \
            const float dw = CK_FN(h2f)(&w[b].d), dmw = CK_FN(h2f)(&w[b].dmin);                         \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                const block_q8_K *a = &x[c][b];                                                         \
                const float da = ck_load_f32(&a->d);                                                    \
                const __m512i is = CK_FN(k4_isum)(q, scv, a);                                           \
                const __m256i ms = CK_FN(k4_msum)(scm, a);                                              \
                acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(dw * da), _mm512_cvtepi32_ps(is), acc[c]);       \
                accm[c] = _mm256_fmadd_ps(_mm256_set1_ps(dmw * da), _mm256_cvtepi32_ps(ms), accm[c]);    \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] =                                   \
            CK_FN(hsum_ps)(acc[c]) - CK_FN(hsum256_ps)(accm[c]);                                        \
    }

#define CK_ISUMS_K4(t, BLK)                                                                             \
    static CK_TGT void CK_FN(isums_##t)(size_t nb, const void *wv, const void *xv, int32_t *out) {       \
        const BLK *w = wv;                                                                              \
        const block_q8_K *x = xv;                                                                       \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            __m512i q[4], scv[4];                                                                       \
            CK_FN(t##_unpack)(&w[b], q);                                                                \
            const __m128i scm = CK_FN(k4_scales)(w[b].scales);                                          \
            CK_FN(k4_scale_vecs)(scm, scv);                                                             \
            out[2 * b] = CK_FN(hsum_epi32)(CK_FN(k4_isum)(q, scv, &x[b]));                              \
            out[2 * b + 1] = CK_FN(hsum256_epi32)(CK_FN(k4_msum)(scm, &x[b]));                          \
        }                                                                                               \
    }

CK_MK_K4(q4_K, block_q4_K)
CK_ISUMS_K4(q4_K, block_q4_K)
CK_ISUMS_K4(q5_K, block_q5_K)

// llama.cpp's x86 ggml_vec_dot_q5_K_q8_K (__AVX2__ branch, also its AVX-512 build's; Q5_K is not
// repacked on x86): per super-block, an 8-lane int32 sum (lane l = the products at bytes 4l..4l+3
// of every 32-byte sub-block, times its scale), converted and multiplied by y.d * x.d in one FMA
// into an 8-lane float accumulator; the mins apart, as a scalar: summs += (-y.d * x.dmin) * (the
// integer sum of mins times bsums), in block order; hsum_float_8(acc) + summs. Our zmm lane l and
// l + 8 hold sub-block 2c and 2c + 1 of that lane, so adding the integer halves (exact) gives its
// lanes and the float part follows its order.
CK_INL void CK_FN(mk_q5_K)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {
    const block_q5_K *w = wv;
    const block_q8_K *x[4];
    __m512 acc[4];
    float summs[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        acc[c] = _mm512_setzero_ps();
        summs[c] = 0.0f;
    }
    for (size_t b = 0; b < nb; ++b) {
        __m512i q[4], scv[4];
        CK_FN(q5_K_unpack)(&w[b], q);
        const __m128i scm = CK_FN(k4_scales)(w[b].scales);
        CK_FN(k4_scale_vecs)(scm, scv);
        const float dw = CK_FN(h2f)(&w[b].d), dmw = CK_FN(h2f)(&w[b].dmin);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const block_q8_K *a = &x[c][b];
            const float da = ck_load_f32(&a->d);
            const __m512i is = CK_FN(k4_isum)(q, scv, a);
            const __m512i is8 = _mm512_add_epi32(is, _mm512_shuffle_i64x2(is, is, _MM_SHUFFLE(1, 0, 3, 2)));
            acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(da * dw), _mm512_cvtepi32_ps(is8), acc[c]);
            const float dmin = -da * dmw;
            summs[c] += dmin * (float)CK_FN(hsum256_epi32)(CK_FN(k4_msum)(scm, a));
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_lo8)(acc[c]) + summs[c];
}

// Q6_K: zmm p (0..3) holds 32-element chunks 2p and 2p+1 = elements 64p .. 64p+63, matching one
// contiguous Q8_K load; its four 16-groups take scales 4p .. 4p+3.
CK_INL void CK_FN(q6_K_unpack)(const block_q6_K *w, __m512i q[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
    const __m512i sh01 = _mm512_mask_blend_epi16((__mmask32)0xFFFF0000u, _mm512_set1_epi16(0), _mm512_set1_epi16(2));
    const __m512i sh23 = _mm512_mask_blend_epi16((__mmask32)0xFFFF0000u, _mm512_set1_epi16(4), _mm512_set1_epi16(6));
    _Pragma("GCC unroll 2") for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512((const void *)(w->ql + 64 * h));
        const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qh + 32 * h)));
        const __m512i h01 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hb, sh01), m2), 4);
        const __m512i h23 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hb, sh23), m2), 4);
        q[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4), h01);
        q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), h23);
    }
}

// scv[p]: zmm p's int16 group scales (as q6_K_unpack lays the elements out; with VNNI, scv[0] and
// scv[1] instead hold the scale pairs q6_K_isum's vpdpbusd pairs meet); sc16: the 16 scales as
// int16; off: the 16 scales times -32 as int16 pairs in the low 256 bits (zero above), so that one
// vpdpwssd against the activation's bsums starts lane l (l < 8) at -32·(bsum_2l·sc_2l + bsum_2l+1·sc_2l+1),
// the offset llama.cpp subtracts (|32·sc| <= 4096, |bsum| <= 2048: exact in int32).
CK_INL void CK_FN(q6_K_scales)(const block_q6_K *w, __m512i scv[4], __m256i *sc16, __m512i *off) {
    *sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
    *off = _mm512_zextsi256_si512(_mm256_mullo_epi16(*sc16, _mm256_set1_epi16(-32)));
    const __m512i s = _mm512_castsi256_si512(*sc16);
#if CK_VNNI
    // scv[h] (h = 0, 1), dword j: the int16 pair (scale of zmm 2h's dword j, of zmm 2h + 1's), i.e.
    // (4·2h + j / 4, 4·(2h + 1) + j / 4); scv[2], scv[3] unused.
    const __m512i base = _mm512_set_epi16(7, 3, 7, 3, 7, 3, 7, 3, 6, 2, 6, 2, 6, 2, 6, 2, 5, 1, 5, 1, 5, 1, 5, 1, 4, 0, 4, 0, 4, 0, 4, 0);
    _Pragma("GCC unroll 2") for (int h = 0; h < 2; ++h) {
        scv[h] = _mm512_permutexvar_epi16(_mm512_add_epi16(base, _mm512_set1_epi16((short)(8 * h))), s);
    }
    scv[2] = scv[3] = _mm512_setzero_si512();
#else
    const __m512i base = _mm512_set_epi64(0x0003000300030003LL, 0x0003000300030003LL, 0x0002000200020002LL,
                                          0x0002000200020002LL, 0x0001000100010001LL, 0x0001000100010001LL, 0, 0);
    _Pragma("GCC unroll 4") for (int p = 0; p < 4; ++p) {
        scv[p] = _mm512_permutexvar_epi16(_mm512_add_epi16(base, _mm512_set1_epi16((short)(4 * p))), s);
    }
#endif
}

// The int32 lanes of one (row block, activation block): lane l and l + 8 hold chunk 2p and 2p + 1's
// shares of llama.cpp's lane l, the offset in lanes 0..7.
CK_INL __m512i CK_FN(q6_K_isum)(const __m512i q[4], const __m512i scv[4], __m512i off, const block_q8_K *a) {
    __m512i acc = CK_FN(dpwssd)(_mm512_setzero_si512(),
                                _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)a->bsums)), off);
#if CK_VNNI
    // scv[0] / scv[1]: the (p = 0, 1) and (2, 3) scale pairs of q6_K_scales_vnni. Dword j of zmm p's
    // vpdpbusd is the 4-element sum 64p + 4j..+3 (|sum| <= 4·63·128 < 2^15, so it fits an int16); two
    // zmm's sums side by side as the int16 pair of each dword meet their two scales in one vpdpwssd:
    // 6 multiplies per block and column where vpmaddubsw + vpdpwssd took 8, the same integers.
    __m512i d[4];
    _Pragma("GCC unroll 4") for (int p = 0; p < 4; ++p) {
        d[p] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[p], _mm512_loadu_si512((const void *)(a->qs + 64 * p)));
    }
    _Pragma("GCC unroll 2") for (int h = 0; h < 2; ++h) {
        const __m512i pair = _mm512_mask_blend_epi16((__mmask32)0xAAAAAAAAu, d[2 * h], _mm512_slli_epi32(d[2 * h + 1], 16));
        acc = _mm512_dpwssd_epi32(acc, pair, scv[h]);
    }
#else
    _Pragma("GCC unroll 4") for (int p = 0; p < 4; ++p) {
        const __m512i y = _mm512_loadu_si512((const void *)(a->qs + 64 * p));
        acc = CK_FN(dpwssd)(acc, _mm512_maddubs_epi16(q[p], y), scv[p]);
    }
#endif
    return acc;
}

// How far ahead (bytes) the mat-mat prefetches the weights it walks, and into which cache. With 2..8
// columns the kernel is compute-bound, and the hardware prefetchers then let the stream fall behind:
// measured on Zen 4 at 2 threads over 512 MiB, 4 columns over 1 took 2.1-2.4x without and 1.33-1.6x
// with 2-4 KiB ahead into L1. Into L2 (T1) and 16 KiB ahead instead (6 alternated rounds, medians):
// 2 columns 1.07 -> 0.97x, 4 columns 1.39 -> 1.25x, 8 columns 2.64 -> 2.3x the mat-vec's time: a
// line fetched that far ahead into L1 was evicted by the columns' own traffic before its turn.
#ifndef CK_Q6_MM_PF
#define CK_Q6_MM_PF 16384
#endif

// llama.cpp's x86 ggml_vec_dot_q6_K_q8_K (__AVX2__ branch, also its AVX-512 build's; Q6_K is not
// repacked on x86) keeps one 8-lane float accumulator: per super-block, lane l = the int32 sum over
// all 8 chunks of the products at bytes 4l..4l+3 (scaled), minus 32·(bsums·scales) pair l; converted,
// times y.d * x.d, one FMA; hsum_float_8. Our zmm lane l and l + 8 hold chunk 2p and 2p + 1 of that
// lane, so adding the two integer halves (exact) gives llama.cpp's lanes, and the float part follows
// its order. Two columns share one zmm after that fold (lanes 0..7 the first, 8..15 the second), so
// they share the conversion and the FMA.
CK_INL void CK_FN(mk_q6_K)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {
    const block_q6_K *w = wv;
    const block_q8_K *x[4];
    __m512 acc[2];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) x[c] = xv[c];
    _Pragma("GCC unroll 2") for (int c = 0; c < (nc + 1) / 2; ++c) acc[c] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; ++b) {
        if (nc > 1) {
            _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) {
                _mm_prefetch((const char *)&w[b] + CK_Q6_MM_PF + 64 * k, _MM_HINT_T1);
            }
        }
        __m512i q[4], scv[4], off;
        __m256i sc16;
        CK_FN(q6_K_unpack)(&w[b], q);
        CK_FN(q6_K_scales)(&w[b], scv, &sc16, &off);
        const __m512 dw = _mm512_set1_ps(CK_FN(h2f)(&w[b].d));
        _Pragma("GCC unroll 2") for (int c = 0; c < nc; c += 2) {
            const __m512i is0 = CK_FN(q6_K_isum)(q, scv, off, &x[c][b]);
            __m512i is;
            __m512 da;
            if (c + 1 < nc) {
                const __m512i is1 = CK_FN(q6_K_isum)(q, scv, off, &x[c + 1][b]);
                is = _mm512_add_epi32(_mm512_shuffle_i64x2(is0, is1, _MM_SHUFFLE(1, 0, 1, 0)),
                                      _mm512_shuffle_i64x2(is0, is1, _MM_SHUFFLE(3, 2, 3, 2)));
                da = _mm512_insertf32x8(_mm512_set1_ps(ck_load_f32(&x[c][b].d)), _mm256_set1_ps(ck_load_f32(&x[c + 1][b].d)), 1);
            } else {
                is = _mm512_add_epi32(is0, _mm512_shuffle_i64x2(is0, is0, _MM_SHUFFLE(1, 0, 3, 2)));
                da = _mm512_set1_ps(ck_load_f32(&x[c][b].d));
            }
            acc[c / 2] = _mm512_fmadd_ps(_mm512_mul_ps(dw, da), _mm512_cvtepi32_ps(is), acc[c / 2]);
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        out[c] = c % 2 ? CK_FN(hsum_hi8)(acc[c / 2]) : CK_FN(hsum_lo8)(acc[c / 2]);
    }
}

static CK_TGT void CK_FN(isums_q6_K)(size_t nb, const void *wv, const void *xv, int32_t *out) {
    const block_q6_K *w = wv;
    const block_q8_K *x = xv;
    for (size_t b = 0; b < nb; ++b) {
        __m512i q[4], scv[4], off;
        __m256i sc16;
        CK_FN(q6_K_unpack)(&w[b], q);
        CK_FN(q6_K_scales)(&w[b], scv, &sc16, &off);
        out[b] = CK_FN(hsum_epi32)(CK_FN(q6_K_isum)(q, scv, off, &x[b]));
    }
}

// MARK: - Float weights x f32 activations (16 lanes, 2 accumulators per column)

CK_INL __m512 CK_FN(load_f32w)(const uint8_t *p) { return _mm512_loadu_ps((const void *)p); }
CK_INL __m512 CK_FN(load_f16w)(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
CK_INL __m512 CK_FN(load_bf16w)(const uint8_t *p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}
CK_INL float CK_FN(scalar_f32w)(const uint8_t *p) { return ck_load_f32(p); }
CK_INL float CK_FN(scalar_f16w)(const uint8_t *p) { return ck_half_to_float(ck_load_u16(p)); }
CK_INL float CK_FN(scalar_bf16w)(const uint8_t *p) { return ck_bf16_to_float(ck_load_u16(p)); }

#define CK_MK_FLOAT(t, ESZ)                                                                             \
    CK_INL void CK_FN(mk_##t)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {     \
        const uint8_t *w = wv;                                                                          \
        const float *x[4];                                                                              \
        __m512 a0[4], a1[4];                                                                            \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            a0[c] = _mm512_setzero_ps();                                                                \
            a1[c] = _mm512_setzero_ps();                                                                \
        }                                                                                               \
        size_t i = 0;                                                                                   \
        for (; i + 32 <= n; i += 32) {                                                                  \
            const __m512 w0 = CK_FN(load_##t##w)(w + (ESZ) * i);                                        \
            const __m512 w1 = CK_FN(load_##t##w)(w + (ESZ) * (i + 16));                                 \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                a0[c] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[c] + i), a0[c]);                          \
                a1[c] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[c] + i + 16), a1[c]);                     \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            float s = CK_FN(hsum_ps)(_mm512_add_ps(a0[c], a1[c]));                                      \
            for (size_t k = i; k < n; ++k) s += CK_FN(scalar_##t##w)(w + (ESZ) * k) * x[c][k];          \
            out[c] = s;                                                                                 \
        }                                                                                               \
    }

CK_MK_FLOAT(bf16, 2)

// F32 and F16 weights in llama.cpp's order (its AVX-512 build of ggml_vec_dot_f32 / ggml_vec_dot_f16):
// 4 accumulators of FMAs over steps of 64 (accumulator j takes elements i + 16j .. i + 16j + 15),
// reduced 0+2, 1+3, then 0+1, and across lanes as _mm512_reduce_add_ps (high 256 + low 256, high 128
// + low 128, (0+2) + (1+3): our hsum_ps). For F16 its mat-vec first converts the activations to F16
// (round to nearest even; F16's vec_dot_type), done here on the fly (an F16 value widened to float is
// exact, and so is the product of two of them). Its batched path (tinyBLAS) only serves batches of 2
// or more; the token-by-token run, which we match, is this one.
CK_INL __m512 CK_FN(f16_round)(__m512 v) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
/// The whole steps of n (np = n rounded down to 64) for nc columns, each reduced to one float;
/// `f16` (a constant where inlined) picks F16 weights and rounded activations over F32 ones.
CK_INL void CK_FN(float_steps)(int nc, size_t np, const uint8_t *w, int f16, const float *const x[4], float out[4]) {
    __m512 s[4][4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) s[c][j] = _mm512_setzero_ps();
    }
    for (size_t i = 0; i < np; i += 64) {
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) {
            const size_t e = i + 16 * (size_t)j;
            const __m512 wj = f16 ? CK_FN(load_f16w)(w + 2 * e) : _mm512_loadu_ps((const float *)(const void *)w + e);
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                const __m512 xj = _mm512_loadu_ps(x[c] + e);
                s[c][j] = _mm512_fmadd_ps(wj, f16 ? CK_FN(f16_round)(xj) : xj, s[c][j]);
            }
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        const __m512 t0 = _mm512_add_ps(s[c][0], s[c][2]), t1 = _mm512_add_ps(s[c][1], s[c][3]);
        out[c] = CK_FN(hsum_ps)(_mm512_add_ps(t0, t1));
    }
}

// F32: the products past the last step go into a float one by one, fused (as its compiler contracts
// `sumf += x[i]*y[i]`; the AVX-512 build's tail is not measured here). A mixture of experts' router is
// F32, and its logits decide which experts run.
CK_INL void CK_FN(mk_f32)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {
    const float *w = wv;
    const float *x[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) x[c] = xv[c];
    const size_t np = n & ~(size_t)63;
    float steps[4];
    CK_FN(float_steps)(nc, np, wv, 0, x, steps);
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        float sum = steps[c];
        for (size_t k = np; k < n; ++k) sum = fmaf(ck_load_f32(w + k), x[c][k], sum);
        out[c] = sum;
    }
}

// F16: the step sum goes into a double that also takes the products past the last step one by one.
CK_INL void CK_FN(mk_f16)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {
    const uint8_t *w = wv;
    const float *x[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) x[c] = xv[c];
    const size_t np = n & ~(size_t)63;
    float steps[4];
    CK_FN(float_steps)(nc, np, w, 1, x, steps);
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        double sum = (double)steps[c];
        for (size_t k = np; k < n; ++k)
            sum += (double)(CK_FN(scalar_f16w)(w + 2 * k) * ck_half_to_float(ck_float_to_half(x[c][k])));
        out[c] = (float)sum;
    }
}

// Q4_0 and Q4_K mat-vec / mat-mat / dot: llama.cpp's order, 16 rows per zmm (their mk_ above only
// serve the isums).
#include "ck_x86_512_rows16.h"
// Q8_0 and Q5_0 mat-mats with VNNI: 16 rows lane per row.
#include "ck_x86_512_r16s.h"

CK_DEFINE_MAT(q5_K, CK_QKK)
CK_DEFINE_MAT(q6_K, CK_QKK)
#include "ck_x86_512_q6k.h"
CK_DEFINE_MAT(f32, 1)
CK_DEFINE_MAT(f16, 1)
CK_DEFINE_MAT(bf16, 1)

// MARK: - Table (quantizers and f16 rows stay the AVX2 ones, filled before this runs)

CK_INTERNAL void CK_FN(fill_table)(ck_kernels *k) {
    CK_SET_ALL_KERNELS(k)
    k->matvec[CK_TYPE_Q5_0] = CK_FN(matvec_q5_0_shared);
    k->matmul[CK_TYPE_Q5_0] = CK_FN(matmul_q5_0_shared);
#if CK_VNNI
    k->matmul[CK_TYPE_Q5_0] = CK_FN(matmul_q5_0_r16s);
    k->matvec[CK_TYPE_Q8_0] = CK_FN(matvec_q8_0_shared);
    k->matmul[CK_TYPE_Q8_0] = CK_FN(matmul_q8_0_r16s);
    k->matmul[CK_TYPE_Q6_K] = CK_FN(matmul_q6_K_r16p);  // the repacked prefill for large batches
    k->matvec[CK_TYPE_Q4_0] = CK_FN(matvec_q4_0_q40s);
#endif
}
