// ck_x86_256.h — 256-bit x86-64 kernels, compiled twice: ck_avx2.c (AVX2+FMA+F16C, integer dots via
// vpmaddubsw/vpmaddwd) and ck_avxvnni.c (same plus AVX-VNNI: vpdpbusd / vpdpwssd fuse the multiply
// and the int32 accumulate). Not a public header; each includer defines:
//   CK_PFX   name prefix (ck_avx2_ / ck_avxvnni_)
//   CK_TGT   __attribute__((target(...))) for every function here
//   CK_VNNI  1 to use the VNNI instructions
//
// Why target attributes and no -mavx2: one binary must run on every x86-64; ck_dispatch.c only hands
// out these functions after ck_cpu.c has checked the CPU and OS support.
//
// Exactness: every integer partial below equals the scalar one for all weight bytes and all
// activation quants in [-127, 127] (what our quantizers produce). The places where 16-bit
// intermediates could saturate are bounded in the comments.
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

CK_INL float CK_FN(hsum_ps)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

CK_INL int32_t CK_FN(hsum_epi32)(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

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

// acc + sum of 4 adjacent u8*s8 products per int32 lane. Without VNNI the pair sums go through int16
// (vpmaddubsw saturates): callers keep u <= 128 and |s| <= 127, so |pair| <= 32512 < 32767.
CK_INL __m256i CK_FN(dpbusd)(__m256i acc, __m256i u, __m256i s) {
#if CK_VNNI
    return _mm256_dpbusd_avx_epi32(acc, u, s);
#else
    const __m256i p = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
#endif
}

// acc + sum of 2 adjacent int16 products per int32 lane (never saturates).
CK_INL __m256i CK_FN(dpwssd)(__m256i acc, __m256i a, __m256i b) {
#if CK_VNNI
    return _mm256_dpwssd_avx_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// 32 nibbles -> 32 bytes: bytes 0..15 = low nibbles (elements 0..15), 16..31 = high nibbles.
// (The 16 bytes broadcast to both halves by the load, the high half shifted by a variable shift: two
// vector instructions where an insert took three.)
CK_INL __m256i CK_FN(nibbles32)(const uint8_t *p) {
    const __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    const __m256i v = _mm256_srlv_epi64(t, _mm256_setr_epi64x(0, 0, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// Bit j of a 32-bit word -> byte j = 0x10 if set, else 0 (the 5th bit of Q5_0).
CK_INL __m256i CK_FN(bits32_to_0x10)(uint32_t bits) {
    const __m256i v = _mm256_set1_epi32((int)bits);
    const __m256i sel = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL, 0x0101010101010101LL, 0);
    const __m256i bytes = _mm256_shuffle_epi8(v, sel);
    const __m256i mask = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, mask), mask);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// A mat-vec (nc == 1) reads each weight row once, a linear stream: prefetching CK_PF_AHEAD bytes
// ahead into L1 keeps more lines in flight than the hardware prefetcher does here (Zen 3, a VM:
// Q8_0 mat-vec at 1 thread 14.6 -> 18-20 GB/s with 2 KiB; 0.5 and 1 KiB gained less, 4 KiB no more).
// A mat-mat (nc > 1) reads the same rows again from cache for the next columns, so it does not.
#define CK_PF_AHEAD 2048
CK_INL void CK_FN(pf_ahead)(int nc, const void *block, size_t bytes) {
    if (nc != 1) return;
    for (size_t k = 0; k < bytes; k += 64) _mm_prefetch((const char *)block + CK_PF_AHEAD + k, _MM_HINT_T0);
}

// MARK: - Q4_0 / Q5_0 / Q8_0 x Q8_0 (32-blocks)
//
// Per block: lanes of an int32x8 whose sum is the scalar isum. For Q4_0/Q5_0 the weight stays
// unsigned (0..15 / 0..31) and the offset is taken off as offset * sum(a): dpbusd(q, a) - dpbusd(off, a).

CK_INL __m256i CK_FN(isum_qoff)(__m256i q, __m256i off, const block_q8_0 *a) {
    const __m256i y = _mm256_loadu_si256((const __m256i *)a->qs);
    const __m256i z = _mm256_setzero_si256();
    return _mm256_sub_epi32(CK_FN(dpbusd)(z, q, y), CK_FN(dpbusd)(z, off, y));
}

// Q8_0 weights are signed (-128..127): |w| (<= 128 as u8) times sign(w)*a (|.| <= 127).
CK_INL __m256i CK_FN(isum_q8)(__m256i aw, __m256i w, const block_q8_0 *a) {
    const __m256i y = _mm256_loadu_si256((const __m256i *)a->qs);
    return CK_FN(dpbusd)(_mm256_setzero_si256(), aw, _mm256_sign_epi8(y, w));
}

#define CK_MK_QX_0(t, BLK, UNPACK, ISUM)                                                                \
    CK_INL void CK_FN(mk_##t)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {    \
        const BLK *w = wv;                                                                              \
        const block_q8_0 *x[4];                                                                         \
        __m256 acc[4];                                                                                  \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            acc[c] = _mm256_setzero_ps();                                                               \
        }                                                                                               \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            CK_FN(pf_ahead)(nc, &w[b], sizeof(BLK));                                                    \
            UNPACK;                                                                                     \
            const float dw = CK_FN(h2f)(&w[b].d);                                                       \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                const __m256i is = ISUM;                                                                \
                const __m256 d = _mm256_set1_ps(dw * CK_FN(h2f)(&x[c][b].d));                           \
                acc[c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(is), acc[c]);                            \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_ps)(acc[c]);           \
    }                                                                                                   \
    static CK_TGT void CK_FN(isums_##t)(size_t nb, const void *wv, const void *xv, int32_t *out) {       \
        const BLK *w = wv;                                                                              \
        const block_q8_0 *x[1] = {xv};                                                                  \
        const int c = 0;                                                                                \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            UNPACK;                                                                                     \
            out[b] = CK_FN(hsum_epi32)(ISUM);                                                           \
        }                                                                                               \
    }

CK_MK_QX_0(q4_0, block_q4_0,
           const __m256i q = CK_FN(nibbles32)(w[b].qs); const __m256i off = _mm256_set1_epi8(8),
           CK_FN(isum_qoff)(q, off, &x[c][b]))
CK_MK_QX_0(q5_0, block_q5_0,
           const __m256i q = _mm256_or_si256(CK_FN(nibbles32)(w[b].qs),
                                             CK_FN(bits32_to_0x10)(ck_load_u32(w[b].qh)));
           const __m256i off = _mm256_set1_epi8(16),
           CK_FN(isum_qoff)(q, off, &x[c][b]))
CK_MK_QX_0(q8_0, block_q8_0,
           const __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
           const __m256i aw = _mm256_sign_epi8(qw, qw),
           CK_FN(isum_q8)(aw, qw, &x[c][b]))

// MARK: - K-quants x Q8_K (256-blocks)

// Unpacks the 12 packed bytes into sc[0..7] (bytes 0..7 of the result) and m[0..7] (bytes 8..15),
// using the 32-bit word form of get_scale_min_k4.
CK_INL __m128i CK_FN(k4_scales)(const uint8_t *s) {
    const uint32_t a = ck_load_u32(s), b = ck_load_u32(s + 4), c = ck_load_u32(s + 8);
    const uint32_t sc_lo = a & 0x3f3f3f3fu;
    const uint32_t sc_hi = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
    const uint32_t m_lo = b & 0x3f3f3f3fu;
    const uint32_t m_hi = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
    return _mm_set_epi32((int)m_hi, (int)m_lo, (int)sc_hi, (int)sc_lo);
}

// msum lanes: m_s * (bsum_2s + bsum_2s+1), from the 16 int16 bsums and the 8 mins.
CK_INL __m256i CK_FN(k4_msum)(__m128i scm, const block_q8_K *a) {
    const __m128i m8 = _mm_unpackhi_epi64(scm, scm);
    const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));  // m0 m0 m1 m1 ... m7 m7
    const __m256i bs = _mm256_loadu_si256((const __m256i *)a->bsums);
    return _mm256_madd_epi16(bs, m16);
}

// Q4_K: the 8 sub-block products go through vpmaddubsw (|pair| <= 2*15*127) and are scaled with
// vpmaddwd by the 6-bit scale; lanes stay < 2^24 so the int->float conversion is exact.
CK_INL __m256i CK_FN(q4_K_isum)(const __m256i q[8], const int16_t sc[8], const block_q8_K *a) {
    __m256i acc = _mm256_setzero_si256();
    _Pragma("GCC unroll 8") for (int s = 0; s < 8; ++s) {
        const __m256i y = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * s));
        acc = CK_FN(dpwssd)(acc, _mm256_maddubs_epi16(q[s], y), _mm256_set1_epi16(sc[s]));
    }
    return acc;
}

CK_INL void CK_FN(q4_K_unpack)(const block_q4_K *w, __m256i q[8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * c));
        q[2 * c] = _mm256_and_si256(v, m4);
        q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
}

// Chunk p's low (hf = 0) or high (hf = 1) nibbles of qs (v = qs[32p..32p+31]) with their 5th bit,
// bit 2p + hf of each qh byte moved to bit 4; srli_epi16 leaks bits across the byte boundary only
// above bit 0, which the AND with 1 drops.
CK_INL __m256i CK_FN(q5_K_chunk)(__m256i v, __m256i hb, int p, int hf) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    const __m256i h = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * p + hf), one), 4);
    return _mm256_or_si256(_mm256_and_si256(hf ? _mm256_srli_epi16(v, 4) : v, m4), h);
}

CK_INL void CK_FN(q5_K_unpack)(const block_q5_K *w, __m256i q[8]) {
    const __m256i hb = _mm256_loadu_si256((const __m256i *)w->qh);
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; ++c) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * c));
        q[2 * c] = CK_FN(q5_K_chunk)(v, hb, c, 0);
        q[2 * c + 1] = CK_FN(q5_K_chunk)(v, hb, c, 1);
    }
}

#define CK_ISUMS_K4(t, BLK)                                                                             \
    static CK_TGT void CK_FN(isums_##t)(size_t nb, const void *wv, const void *xv, int32_t *out) {       \
        const BLK *w = wv;                                                                              \
        const block_q8_K *x = xv;                                                                       \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            __m256i q[8];                                                                               \
            CK_FN(t##_unpack)(&w[b], q);                                                                \
            const __m128i scm = CK_FN(k4_scales)(w[b].scales);                                          \
            int16_t sc[8];                                                                              \
            _mm_storeu_si128((__m128i *)sc, _mm_cvtepu8_epi16(scm));                                    \
            out[2 * b] = CK_FN(hsum_epi32)(CK_FN(q4_K_isum)(q, sc, &x[b]));                             \
            out[2 * b + 1] = CK_FN(hsum_epi32)(CK_FN(k4_msum)(scm, &x[b]));                             \
        }                                                                                               \
    }

CK_ISUMS_K4(q4_K, block_q4_K)
CK_ISUMS_K4(q5_K, block_q5_K)

// llama.cpp's x86 ggml_vec_dot_q5_K_q8_K (__AVX2__ branch): the 8 int32 lanes of q4_K_isum are its
// lanes (lane l = bytes 4l..4l+3 of every sub-block, scaled), one FMA per super-block with
// y.d * x.d; the mins as a scalar, summs += (-y.d * x.dmin) * (integer mins·bsums), in block order;
// hsum_float_8(acc) + summs.
CK_INL void CK_FN(mk_q5_K)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {
    const block_q5_K *w = wv;
    const block_q8_K *x[4];
    __m256 acc[4];
    float summs[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        acc[c] = _mm256_setzero_ps();
        summs[c] = 0.0f;
    }
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(pf_ahead)(nc, &w[b], sizeof(block_q5_K));
        const __m128i scm = CK_FN(k4_scales)(w[b].scales);
        // Sub-block scales as int16 in both 128-bit lanes; chunk p's pair picked by one vpshufb each.
        const __m256i scv = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scm));
        const __m256i hb = _mm256_loadu_si256((const __m256i *)w[b].qh);
        __m256i is[4];
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) is[c] = _mm256_setzero_si256();
        // Chunk by chunk (as mk_q6_K): one 32-byte chunk unpacked at a time and used for every column,
        // the integers of q4_K_isum.
        _Pragma("GCC unroll 4") for (int p = 0; p < 4; ++p) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * p));
            const __m256i q0 = CK_FN(q5_K_chunk)(v, hb, p, 0), q1 = CK_FN(q5_K_chunk)(v, hb, p, 1);
            const __m256i s0 = _mm256_shuffle_epi8(scv, _mm256_set1_epi16((short)(0x0101 * (4 * p) + 0x0100)));
            const __m256i s1 = _mm256_shuffle_epi8(scv, _mm256_set1_epi16((short)(0x0101 * (4 * p + 2) + 0x0100)));
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                const int8_t *ya = x[c][b].qs + 64 * p;
                is[c] = CK_FN(dpwssd)(is[c], _mm256_maddubs_epi16(q0, _mm256_loadu_si256((const __m256i *)ya)), s0);
                is[c] = CK_FN(dpwssd)(is[c], _mm256_maddubs_epi16(q1, _mm256_loadu_si256((const __m256i *)(ya + 32))), s1);
            }
        }
        const float dw = CK_FN(h2f)(&w[b].d), dmw = CK_FN(h2f)(&w[b].dmin);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const block_q8_K *a = &x[c][b];
            const float da = ck_load_f32(&a->d);
            acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(da * dw), _mm256_cvtepi32_ps(is[c]), acc[c]);
            const float dmin = -da * dmw;
            summs[c] += dmin * (float)CK_FN(hsum_epi32)(CK_FN(k4_msum)(scm, a));
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_ps)(acc[c]) + summs[c];
}

// Q6_K: q in 0..63 (|pair| <= 2*63*127 = 16002 in vpmaddubsw); the -32 offset is applied once per
// super-block as 32 * sum_g sc_g * bsum_g (the Q8_K bsums are exactly Q6_K's 16-element groups).
// Chunk 4h + j of half h (l0, l1 = ql[64h..], hb = qh[32h..]): the low (j < 2) or high nibbles of
// l0 (j even) or l1, with bits 2j..2j+1 of each hb byte on top.
CK_INL __m256i CK_FN(q6_K_chunk)(__m256i l0, __m256i l1, __m256i hb, int j) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    const __m256i l = j & 1 ? l1 : l0;
    const __m256i low4 = _mm256_and_si256(j < 2 ? l : _mm256_srli_epi16(l, 4), m4);
    const __m256i hi2 = _mm256_slli_epi16(_mm256_and_si256(j ? _mm256_srli_epi16(hb, 2 * j) : hb, m2), 4);
    return _mm256_or_si256(low4, hi2);
}

CK_INL void CK_FN(q6_K_unpack)(const block_q6_K *w, __m256i q[8]) {
    _Pragma("GCC unroll 2") for (int h = 0; h < 2; ++h) {
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h));
        const __m256i l1 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h + 32));
        const __m256i hb = _mm256_loadu_si256((const __m256i *)(w->qh + 32 * h));
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) q[4 * h + j] = CK_FN(q6_K_chunk)(l0, l1, hb, j);
    }
}

// The 16 scales as int16 (sc16), and scales 0..7 in both 128-bit lanes (lo) and 8..15 in both (hi).
CK_INL void CK_FN(q6_K_scale_halves)(const block_q6_K *w, __m256i *sc16, __m256i *lo, __m256i *hi) {
    *sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
    *lo = _mm256_permute4x64_epi64(*sc16, _MM_SHUFFLE(1, 0, 1, 0));
    *hi = _mm256_permute4x64_epi64(*sc16, _MM_SHUFFLE(3, 2, 3, 2));
}

// Chunk 4h + j's scale vector from src = lo (h = 0) or hi: one in-lane pshufb picks int16 2j in the low
// lane and 2j+1 in the high one. Building each lane from a scalar took ~5 instructions per chunk:
// Q6_K mat-vec 10.8 -> 12.9 GB/s at 1 thread on a Zen 3 AVX2 box (the same bits).
CK_INL __m256i CK_FN(q6_K_scale)(__m256i src, int j) {
    const char a0 = (char)(4 * j), a1 = (char)(4 * j + 1), b0 = (char)(4 * j + 2), b1 = (char)(4 * j + 3);
    return _mm256_shuffle_epi8(src, _mm256_setr_epi8(a0, a1, a0, a1, a0, a1, a0, a1, a0, a1, a0, a1, a0, a1, a0, a1,
                                                     b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1));
}

// Scale vectors: for 32-element chunk k (k = 0..7 in output order), int16 lanes 0..7 carry sc[2k]
// and lanes 8..15 carry sc[2k+1]; plus all 16 scales as int16 for the offset term.
CK_INL void CK_FN(q6_K_scales)(const block_q6_K *w, __m256i scv[8], __m256i *sc16) {
    __m256i lo, hi;
    CK_FN(q6_K_scale_halves)(w, sc16, &lo, &hi);
    _Pragma("GCC unroll 8") for (int k = 0; k < 8; ++k) scv[k] = CK_FN(q6_K_scale)(k < 4 ? lo : hi, k & 3);
}

CK_INL __m256i CK_FN(q6_K_isum)(const __m256i q[8], const __m256i scv[8], __m256i sc16, const block_q8_K *a) {
    __m256i acc = _mm256_setzero_si256();
    _Pragma("GCC unroll 8") for (int k = 0; k < 8; ++k) {
        const __m256i y = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * k));
        acc = CK_FN(dpwssd)(acc, _mm256_maddubs_epi16(q[k], y), scv[k]);
    }
    const __m256i bs = _mm256_loadu_si256((const __m256i *)a->bsums);
    return _mm256_sub_epi32(acc, _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5));
}

// Chunk by chunk (each unpacked and its scale vector made once, then multiplied with every column)
// rather than the whole block unpacked first: 8 chunks and 8 scale vectors live at once left AVX2's 16
// registers to spills once several columns shared them. The integers are q6_K_isum's.
CK_INL void CK_FN(mk_q6_K)(int nc, size_t nb, const void *wv, const void *const *xv, float *out) {
    const block_q6_K *w = wv;
    const block_q8_K *x[4];
    __m256 acc[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        acc[c] = _mm256_setzero_ps();
    }
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(pf_ahead)(nc, &w[b], sizeof(block_q6_K));
        __m256i sc16, sc_lo, sc_hi;
        CK_FN(q6_K_scale_halves)(&w[b], &sc16, &sc_lo, &sc_hi);
        __m256i is[4];
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) is[c] = _mm256_setzero_si256();
        _Pragma("GCC unroll 1") for (int h = 0; h < 2; ++h) {
            const __m256i src = h ? sc_hi : sc_lo;
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) {
                const __m256i q = CK_FN(q6_K_chunk)(l0, l1, hb, j), scv = CK_FN(q6_K_scale)(src, j);
                _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                    const __m256i y = _mm256_loadu_si256((const __m256i *)(x[c][b].qs + 128 * h + 32 * j));
                    is[c] = CK_FN(dpwssd)(is[c], _mm256_maddubs_epi16(q, y), scv);
                }
            }
        }
        const float dw = CK_FN(h2f)(&w[b].d);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const block_q8_K *a = &x[c][b];
            const __m256i bs = _mm256_loadu_si256((const __m256i *)a->bsums);
            const __m256i v = _mm256_sub_epi32(is[c], _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5));
            acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ck_load_f32(&a->d)), _mm256_cvtepi32_ps(v), acc[c]);
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_ps)(acc[c]);
}

static CK_TGT void CK_FN(isums_q6_K)(size_t nb, const void *wv, const void *xv, int32_t *out) {
    const block_q6_K *w = wv;
    const block_q8_K *x = xv;
    for (size_t b = 0; b < nb; ++b) {
        __m256i q[8], scv[8], sc16;
        CK_FN(q6_K_unpack)(&w[b], q);
        CK_FN(q6_K_scales)(&w[b], scv, &sc16);
        out[b] = CK_FN(hsum_epi32)(CK_FN(q6_K_isum)(q, scv, sc16, &x[b]));
    }
}

// MARK: - Float weights x f32 activations (8 lanes; 2 accumulators per column to hide FMA latency)

CK_INL __m256 CK_FN(load_f32w)(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }
CK_INL __m256 CK_FN(load_f16w)(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
CK_INL __m256 CK_FN(load_bf16w)(const uint8_t *p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}
CK_INL float CK_FN(scalar_f32w)(const uint8_t *p) { return ck_load_f32(p); }
CK_INL float CK_FN(scalar_f16w)(const uint8_t *p) { return ck_half_to_float(ck_load_u16(p)); }
CK_INL float CK_FN(scalar_bf16w)(const uint8_t *p) { return ck_bf16_to_float(ck_load_u16(p)); }

#define CK_MK_FLOAT(t, ESZ)                                                                             \
    CK_INL void CK_FN(mk_##t)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {     \
        const uint8_t *w = wv;                                                                          \
        const float *x[4];                                                                              \
        __m256 a0[4], a1[4];                                                                            \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            x[c] = xv[c];                                                                               \
            a0[c] = _mm256_setzero_ps();                                                                \
            a1[c] = _mm256_setzero_ps();                                                                \
        }                                                                                               \
        size_t i = 0;                                                                                   \
        for (; i + 16 <= n; i += 16) {                                                                  \
            const __m256 w0 = CK_FN(load_##t##w)(w + (ESZ) * i);                                        \
            const __m256 w1 = CK_FN(load_##t##w)(w + (ESZ) * (i + 8));                                  \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                a0[c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[c] + i), a0[c]);                          \
                a1[c] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[c] + i + 8), a1[c]);                      \
            }                                                                                           \
        }                                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                          \
            float s = CK_FN(hsum_ps)(_mm256_add_ps(a0[c], a1[c]));                                      \
            for (size_t k = i; k < n; ++k) s += CK_FN(scalar_##t##w)(w + (ESZ) * k) * x[c][k];          \
            out[c] = s;                                                                                 \
        }                                                                                               \
    }

CK_MK_FLOAT(bf16, 2)

// F32 and F16 weights in llama.cpp's order (its AVX/AVX2 build of ggml_vec_dot_f32 / ggml_vec_dot_f16):
// 4 accumulators of FMAs over steps of 32 (accumulator j takes elements i + 8j .. i + 8j + 7), reduced
// 0+2, 1+3, then 0+1, then low 128 + high 128 and two horizontal adds ((0+1) + (2+3)). For F16 the
// activations are first converted to F16 (round to nearest even; F16's vec_dot_type), done here on
// the fly (an F16 value widened to float is exact, and so is the product of two of them).
CK_INL __m256 CK_FN(f16_round)(__m256 v) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
/// The whole steps of n (np = n rounded down to 32) for nc columns, each reduced to one float;
/// `f16` (a constant where inlined) picks F16 weights over F32 ones, `xround` rounds the activations
/// to F16 on the fly (F16 weights whose activations are not rounded yet).
CK_INL void CK_FN(float_steps)(int nc, size_t np, const uint8_t *w, int f16, int xround, const float *const x[4],
                                float out[4]) {
    __m256 s[4][4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) s[c][j] = _mm256_setzero_ps();
    }
    for (size_t i = 0; i < np; i += 32) {
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) {
            const size_t e = i + 8 * (size_t)j;
            const __m256 wj = f16 ? CK_FN(load_f16w)(w + 2 * e) : _mm256_loadu_ps((const float *)(const void *)w + e);
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                const __m256 xj = _mm256_loadu_ps(x[c] + e);
                s[c][j] = _mm256_fmadd_ps(wj, xround ? CK_FN(f16_round)(xj) : xj, s[c][j]);
            }
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        const __m256 v = _mm256_add_ps(_mm256_add_ps(s[c][0], s[c][2]), _mm256_add_ps(s[c][1], s[c][3]));
        const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        const __m128 t1 = _mm_hadd_ps(t0, t0);
        out[c] = _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
    }
}

// F32: the products past the last step go into a float one by one -- as GCC compiled ggml's
// `sumf += x[i]*y[i]` in llama-cpp-python 0.3.36 (read from the disassembly): when 4 or more are
// left, groups of 4 products rounded (vmulps) and added in order, then the last n mod 4 fused
// (vfmadd231ss); with 3 or fewer, all fused. Measured bit-identical to that build's
// ggml_vec_dot_f32 on random rows of 1 to 20 000 (scripts/compare-ops-with-llamacpp). A mixture of
// experts' router is F32, and its logits decide which experts run.
CK_INL void CK_FN(mk_f32)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {
    const float *w = wv;
    const float *x[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) x[c] = xv[c];
    const size_t np = n & ~(size_t)31;
    float steps[4];
    CK_FN(float_steps)(nc, np, wv, 0, 0, x, steps);
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        float sum = steps[c];
        size_t k = np;
        if (n - np >= 4) {
            for (const size_t grouped = np + (n - np) / 4 * 4; k < grouped; ++k) {
                const volatile float product = ck_load_f32(w + k) * x[c][k];  // rounded, not fused
                sum += product;
            }
        }
        for (; k < n; ++k) sum = fmaf(ck_load_f32(w + k), x[c][k], sum);
        out[c] = sum;
    }
}

// F16: the step sum goes into a double that also takes the products past the last step one by one.
// xround: the activations still need rounding to F16 (else x holds the rounded values already).
CK_INL void CK_FN(mk_f16_body)(int nc, size_t n, const void *wv, const void *const *xv, float *out, int xround) {
    const uint8_t *w = wv;
    const float *x[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) x[c] = xv[c];
    const size_t np = n & ~(size_t)31;
    float steps[4];
    CK_FN(float_steps)(nc, np, w, 1, xround, x, steps);
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        double sum = (double)steps[c];
        for (size_t k = np; k < n; ++k) {
            const float xk = xround ? ck_half_to_float(ck_float_to_half(x[c][k])) : x[c][k];
            sum += (double)(CK_FN(scalar_f16w)(w + 2 * k) * xk);
        }
        out[c] = (float)sum;
    }
}
CK_INL void CK_FN(mk_f16)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {
    CK_FN(mk_f16_body)(nc, n, wv, xv, out, 1);
}
CK_DEFINE_MAT(f16, 1)

// F16 with the activations rounded once (ck_f16_rounded.h): the path's rounding over whole steps
// (vector) and past them (scalar), as mk_f16 rounds, and its kernel on rounded values.
CK_INL void CK_FN(f16_round_row)(const float *x, float *r, size_t n) {
    const size_t np = n & ~(size_t)31;
    for (size_t i = 0; i < np; i += 8) _mm256_storeu_ps(r + i, CK_FN(f16_round)(_mm256_loadu_ps(x + i)));
    for (size_t k = np; k < n; ++k) r[k] = ck_half_to_float(ck_float_to_half(x[k]));
}
CK_INL void CK_FN(mk_f16_pre)(int nc, size_t n, const void *wv, const void *const *xv, float *out) {
    CK_FN(mk_f16_body)(nc, n, wv, xv, out, 0);
}
#include "ck_f16_rounded.h"

// Q4_0 and Q4_K mat-vec / mat-mat / dot: llama.cpp's order, 8 rows per ymm (their mk_ above only
// serve the isums).
#include "ck_x86_256_rows8.h"

CK_DEFINE_MAT(q5_0, CK_QK5_0)
CK_DEFINE_MAT(q8_0, CK_QK8_0)

// MARK: - Q5_0 / Q8_0 mat-mat with each activation block's share computed once
//
// A mat-mat multiplies every weight row with the same activation blocks. What depends on an
// activation block alone -- its scale as f32 and, for Q5_0, the offset term (16 times the sum of
// each lane's 4 quants) -- is computed once per call instead of once per weight row (the mk_ kernels
// redo it per row: an f16 conversion and a second vpmaddubsw/vpmaddwd per block and row, about a
// third of the work in a small batch). The integers are the same, and so are the float operations:
// dw * dx rounded once (a vector multiply of the two broadcast scales rounds as the scalar one), one
// fma per block and lane, the same horizontal sum: bit-identical to matmul_q5_0 / matmul_q8_0 above.
//
// The shares of as many activation vectors as fit CK_SHARE_BYTES of stack are made, then every row
// tile is multiplied by them (tiles outermost, as in the template); rows too long for even four
// vectors' shares take the template's kernel.

#ifndef CK_SHARE_BYTES  // the C tests lower it (and CK_Q8_DWF_BYTES), to reach the chunks and the fallbacks
#define CK_SHARE_BYTES (96 * 1024)
#endif

// One weight row times nc (1..4) activation vectors whose shares are dx[c * nb + b] (and off[...]).
// The block scale products dw * dx are made 8 blocks at a time (the rows' 8 f16 scales into one
// vector, one vcvtph2ps and one vmulps per column) into p and read back by broadcast loads: per block
// that leaves the unpacking, the two multiplies, the offset, the conversion and the fma -- the f16
// conversion, vmulss and register broadcast per block they replace were 4 of 17 vector instructions
// of the mat-vec. dw * dx is the same product rounded once, so the same bits.
CK_INL void CK_FN(mk_q5_0_shared)(int nc, size_t nb, const block_q5_0 *w, const block_q8_0 *const *x, const float *dx,
                                   const __m256i *off, float *out) {
    __m256 acc[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) acc[c] = _mm256_setzero_ps();
    for (size_t b0 = 0; b0 < nb; b0 += 8) {
        const size_t n = nb - b0 < 8 ? nb - b0 : 8;
        float p[4][8] __attribute__((aligned(32)));
        if (n == 8) {
            const block_q5_0 *v = w + b0;
            const __m256 dw = _mm256_cvtph_ps(_mm_setr_epi16(
                (short)ck_load_u16(&v[0].d), (short)ck_load_u16(&v[1].d), (short)ck_load_u16(&v[2].d),
                (short)ck_load_u16(&v[3].d), (short)ck_load_u16(&v[4].d), (short)ck_load_u16(&v[5].d),
                (short)ck_load_u16(&v[6].d), (short)ck_load_u16(&v[7].d)));
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                _mm256_store_ps(p[c], _mm256_mul_ps(dw, _mm256_loadu_ps(&dx[(size_t)c * nb + b0])));
            }
        } else {
            for (size_t i = 0; i < n; ++i) {
                const float dwi = CK_FN(h2f)(&w[b0 + i].d);
                _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) p[c][i] = dwi * dx[(size_t)c * nb + b0 + i];
            }
        }
        for (size_t i = 0; i < n; ++i) {
            const size_t b = b0 + i;
            CK_FN(pf_ahead)(nc, &w[b], sizeof(block_q5_0));
            const __m256i q = _mm256_or_si256(CK_FN(nibbles32)(w[b].qs), CK_FN(bits32_to_0x10)(ck_load_u32(w[b].qh)));
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                const __m256i y = _mm256_loadu_si256((const __m256i *)x[c][b].qs);
                const __m256i is = _mm256_sub_epi32(CK_FN(dpbusd)(_mm256_setzero_si256(), q, y), off[(size_t)c * nb + b]);
                acc[c] = _mm256_fmadd_ps(_mm256_broadcast_ss(&p[c][i]), _mm256_cvtepi32_ps(is), acc[c]);
            }
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_ps)(acc[c]);
}

// Q8_0 mat-mat of up to 4 vectors (a small batch): one weight row times nc (1..4) activation vectors
// whose scales are dx[c * nb + b]; dw * dx by a vmulss and a broadcast per block and column. Below
// 5 vectors this beats mk_q8_0_grouped, whose per-row scale passes do not pay for themselves.
CK_INL void CK_FN(mk_q8_0_shared)(int nc, size_t nb, const block_q8_0 *w, const block_q8_0 *const *x, const float *dx,
                                   float *out) {
    __m256 acc[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) acc[c] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; ++b) {
        const __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
        const __m256i aw = _mm256_sign_epi8(qw, qw);
        const __m256 dw = _mm256_set1_ps(CK_FN(h2f)(&w[b].d));
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const __m256i is = CK_FN(isum_q8)(aw, qw, &x[c][b]);
            const __m256 d = _mm256_mul_ps(dw, _mm256_broadcast_ss(&dx[(size_t)c * nb + b]));
            acc[c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(is), acc[c]);
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_ps)(acc[c]);
}

// Q8_0 mat-mat: one weight row times nc (1..CK_Q8_MAXC) activation vectors. The block scale
// products dw * dx (the float llama.cpp rounds once per block) are made CK_Q8_CHUNK blocks at a
// time, 8 blocks per vmulps, into p, and each is then a broadcast load: per block and column that
// leaves sign, the two multiplies (one dpbusd with VNNI), the conversion and the fma -- the vmulss
// and register broadcast they replace were two of seven vector instructions. dwf: the row's block
// scales as f32 (made once per row tile); dx[c * nb + b]: the activation scales (made once per
// call). Same integers, same floats, same order as mk_q8_0 (llama.cpp's ggml_vec_dot_q8_0_q8_0).
#define CK_Q8_MAXC 8
#ifndef CK_Q8_CHUNK  // the C tests lower it, to reach the chunks and their tails
#define CK_Q8_CHUNK 64
#endif
#ifndef CK_Q8_DWF_BYTES
#define CK_Q8_DWF_BYTES (32 * 1024)
#endif

CK_INL void CK_FN(mk_q8_0_grouped)(int nc, size_t nb, const block_q8_0 *w, const block_q8_0 *const *x,
                                    const float *dwf, const float *dx, float *out) {
    __m256 acc[CK_Q8_MAXC];
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) acc[c] = _mm256_setzero_ps();
    float p[CK_Q8_MAXC][CK_Q8_CHUNK] __attribute__((aligned(32)));
    for (size_t b0 = 0; b0 < nb; b0 += CK_Q8_CHUNK) {
        const size_t n = nb - b0 < CK_Q8_CHUNK ? nb - b0 : CK_Q8_CHUNK;
        for (int c = 0; c < nc; ++c) {
            const float *dc = dx + (size_t)c * nb + b0;
            size_t i = 0;
            for (; i + 8 <= n; i += 8) _mm256_store_ps(&p[c][i], _mm256_mul_ps(_mm256_loadu_ps(&dwf[b0 + i]), _mm256_loadu_ps(&dc[i])));
            for (; i < n; ++i) p[c][i] = dwf[b0 + i] * dc[i];
        }
        for (size_t i = 0; i < n; ++i) {
            const size_t b = b0 + i;
            const __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
            const __m256i aw = _mm256_sign_epi8(qw, qw);
            _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
                const __m256i is = CK_FN(isum_q8)(aw, qw, &x[c][b]);
                acc[c] = _mm256_fmadd_ps(_mm256_broadcast_ss(&p[c][i]), _mm256_cvtepi32_ps(is), acc[c]);
            }
        }
    }
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) out[c] = CK_FN(hsum_ps)(acc[c]);
}

// Rows r0..r1 times activation vectors j0..j1 (their shares made for these vectors).
#define CK_SHARED_MATMUL_BODY(MK_CALL)                                                                    \
    for (size_t t0 = r0; t0 < r1; t0 += CK_MM_ROW_TILE) {                                                 \
        const size_t t1 = t0 + CK_MM_ROW_TILE < r1 ? t0 + CK_MM_ROW_TILE : r1;                            \
        for (size_t g = j0; g < j1; g += 4) {                                                             \
            const size_t nc = j1 - g < 4 ? j1 - g : 4;                                                    \
            const block_q8_0 *xs[4];                                                                      \
            for (size_t c = 0; c < nc; ++c) xs[c] = (const block_q8_0 *)((const char *)xq + (g + c) * xstride); \
            const size_t first = (g - j0) * nb;                                                           \
            for (size_t r = t0; r < t1; ++r) {                                                            \
                const void *row = (const char *)w + r * rs;                                               \
                float o[4];                                                                               \
                switch (nc) {                                                                             \
                case 4: MK_CALL(4); break;                                                                \
                case 3: MK_CALL(3); break;                                                                \
                case 2: MK_CALL(2); break;                                                                \
                default: MK_CALL(1); break;                                                               \
                }                                                                                         \
                for (size_t c = 0; c < nc; ++c) y[(g + c) * ys + r] = o[c];                               \
            }                                                                                             \
        }                                                                                                 \
    }

static CK_TGT void CK_FN(matmul_q5_0_shared)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec,
                                             float *y, size_t ys, size_t r0, size_t r1, size_t cols) {
    const size_t nb = cols / CK_QK5_0;
    const size_t per = nb * (sizeof(float) + sizeof(__m256i));
    size_t batch = per ? CK_SHARE_BYTES / per / 4 * 4 : 0;
    if (batch < 4) {
        CK_FN(matmul_q5_0)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols);
        return;
    }
    if (batch > nvec) batch = nvec;
    __m256i off[CK_SHARE_BYTES / sizeof(__m256i) + 1];
    float dx[CK_SHARE_BYTES / sizeof(float) / 8 + 4];
    const __m256i sixteen = _mm256_set1_epi8(16);
    for (size_t j0 = 0; j0 < nvec; j0 += batch) {
        const size_t j1 = j0 + batch < nvec ? j0 + batch : nvec;
        for (size_t j = j0; j < j1; ++j) {
            const block_q8_0 *x = (const block_q8_0 *)((const char *)xq + j * xstride);
            for (size_t b = 0; b < nb; ++b) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)x[b].qs);
                off[(j - j0) * nb + b] = CK_FN(dpbusd)(_mm256_setzero_si256(), sixteen, v);
                dx[(j - j0) * nb + b] = CK_FN(h2f)(&x[b].d);
            }
        }
#define CK_Q5_CALL(n) CK_FN(mk_q5_0_shared)(n, nb, (const block_q5_0 *)row, xs, dx + first, off + first, o)
        CK_SHARED_MATMUL_BODY(CK_Q5_CALL)
#undef CK_Q5_CALL
    }
}

// Q5_0 mat-vec with the activation vector's shares made once per call, not once per row: the same
// bits as matvec_q5_0 (see above), about a quarter fewer instructions per block.
static CK_TGT void CK_FN(matvec_q5_0_shared)(const void *w, size_t rs, const void *xq, float *y, size_t r0, size_t r1,
                                             size_t cols) {
    const size_t nb = cols / CK_QK5_0;
    if (nb * (sizeof(float) + sizeof(__m256i)) > CK_SHARE_BYTES) {
        CK_FN(matvec_q5_0)(w, rs, xq, y, r0, r1, cols);
        return;
    }
    __m256i off[CK_SHARE_BYTES / sizeof(__m256i) + 1];
    float dx[CK_SHARE_BYTES / sizeof(float) / 8 + 4];
    const __m256i sixteen = _mm256_set1_epi8(16);
    const block_q8_0 *x = xq;
    for (size_t b = 0; b < nb; ++b) {
        off[b] = CK_FN(dpbusd)(_mm256_setzero_si256(), sixteen, _mm256_loadu_si256((const __m256i *)x[b].qs));
        dx[b] = CK_FN(h2f)(&x[b].d);
    }
    const block_q8_0 *xs[1] = {x};
    // (Rows in pairs, two fma chains instead of one, were 5% faster in cache and a quarter slower
    // streaming: 2 threads 15-18 -> 11-12 GB/s.)
    for (size_t r = r0; r < r1; ++r) {
        CK_FN(mk_q5_0_shared)(1, nb, (const block_q5_0 *)((const char *)w + r * rs), xs, dx, off, &y[r]);
    }
}

// Q8_0 mat-mat driver: the activation scales of as many vectors as fit CK_SHARE_BYTES, then per
// tile of CK_MM_ROW_TILE rows their block scales as f32, then every group of up to 8 vectors times
// every row of the tile; up to 4 vectors, or rows whose tile scales exceed CK_Q8_DWF_BYTES, take
// mk_q8_0_shared instead. Rows too long for even 4 vectors' shares take the template's kernel.
static CK_TGT void CK_FN(matmul_q8_0_shared)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec,
                                             float *y, size_t ys, size_t r0, size_t r1, size_t cols) {
    const size_t nb = cols / CK_QK8_0;
    const size_t per = nb * sizeof(float);
    // Groups of 8 need 8 vectors' shares and the tile's row scales; without them the per-column
    // kernel still shares what it can (batches of 4), and only rows too wide for that take the template.
    const bool grouped = nvec > 4 && per && CK_SHARE_BYTES / per >= CK_Q8_MAXC &&
                         nb * CK_MM_ROW_TILE * sizeof(float) <= CK_Q8_DWF_BYTES;
    const size_t unit = grouped ? CK_Q8_MAXC : 4;
    size_t batch = per ? CK_SHARE_BYTES / per / unit * unit : 0;
    if (batch < unit) {
        CK_FN(matmul_q8_0)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols);
        return;
    }
    if (batch > nvec) batch = nvec;
    float dx[CK_SHARE_BYTES / sizeof(float)];
    float dwf[CK_Q8_DWF_BYTES / sizeof(float)];
    for (size_t j0 = 0; j0 < nvec; j0 += batch) {
        const size_t j1 = j0 + batch < nvec ? j0 + batch : nvec;
        for (size_t j = j0; j < j1; ++j) {
            const block_q8_0 *x = (const block_q8_0 *)((const char *)xq + j * xstride);
            for (size_t b = 0; b < nb; ++b) dx[(j - j0) * nb + b] = CK_FN(h2f)(&x[b].d);
        }
        if (!grouped) {
#define CK_Q8_CALL(n) CK_FN(mk_q8_0_shared)(n, nb, (const block_q8_0 *)row, xs, dx + first, o)
            CK_SHARED_MATMUL_BODY(CK_Q8_CALL)
#undef CK_Q8_CALL
            continue;
        }
        for (size_t t0 = r0; t0 < r1; t0 += CK_MM_ROW_TILE) {
            const size_t t1 = t0 + CK_MM_ROW_TILE < r1 ? t0 + CK_MM_ROW_TILE : r1;
            for (size_t r = t0; r < t1; ++r) {
                const block_q8_0 *row = (const block_q8_0 *)((const char *)w + r * rs);
                for (size_t b = 0; b < nb; ++b) dwf[(r - t0) * nb + b] = CK_FN(h2f)(&row[b].d);
            }
            for (size_t g = j0; g < j1; g += CK_Q8_MAXC) {
                const size_t nc = j1 - g < CK_Q8_MAXC ? j1 - g : CK_Q8_MAXC;
                const block_q8_0 *xs[CK_Q8_MAXC];
                for (size_t c = 0; c < nc; ++c) xs[c] = (const block_q8_0 *)((const char *)xq + (g + c) * xstride);
                const float *gx = dx + (g - j0) * nb;
                for (size_t r = t0; r < t1; ++r) {
                    const block_q8_0 *row = (const block_q8_0 *)((const char *)w + r * rs);
                    const float *rw = dwf + (r - t0) * nb;
                    float o[CK_Q8_MAXC];
                    switch (nc) {
#define CK_Q8_CASE(n) case n: CK_FN(mk_q8_0_grouped)(n, nb, row, xs, rw, gx, o); break;
                    CK_Q8_CASE(8) CK_Q8_CASE(7) CK_Q8_CASE(6) CK_Q8_CASE(5)
                    CK_Q8_CASE(4) CK_Q8_CASE(3) CK_Q8_CASE(2) default: CK_FN(mk_q8_0_grouped)(1, nb, row, xs, rw, gx, o); break;
#undef CK_Q8_CASE
                    }
                    for (size_t c = 0; c < nc; ++c) y[(g + c) * ys + r] = o[c];
                }
            }
        }
    }
}
CK_DEFINE_MAT(q5_K, CK_QKK)
CK_DEFINE_MAT(q6_K, CK_QKK)
CK_DEFINE_MAT(f32, 1)
CK_DEFINE_MAT(bf16, 1)

// MARK: - Activation quantizers (the x86 definition: id = 127/amax, round half to even)

static CK_TGT void CK_FN(quantize_q8_0)(const float *x, void *vy, size_t n) {
    block_q8_0 *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (size_t i = 0; i < n / CK_QK8_0; ++i, x += CK_QK8_0) {
        __m256 v[4];
        __m256 mx = _mm256_setzero_ps();
        for (int k = 0; k < 4; ++k) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[k]));
        }
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(mx, 1), _mm256_castps256_ps128(mx));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const uint16_t dh = ck_float_to_half(d);
        memcpy(&y[i].d, &dh, 2);
        const __m256 mul = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; ++k) {
            const __m256 r = _mm256_round_ps(_mm256_mul_ps(v[k], mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            q[k] = _mm256_cvtps_epi32(r);
        }
        // packs work per 128-bit lane; the permute restores element order.
        const __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
        const __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
        __m256i p = _mm256_packs_epi16(p01, p23);
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[i].qs, p);
    }
}

static CK_TGT void CK_FN(quantize_q8_K)(const float *x, void *vy, size_t n) {
    block_q8_K *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (size_t i = 0; i < n / CK_QKK; ++i, x += CK_QKK) {
        __m256 mx = _mm256_setzero_ps();
        for (int k = 0; k < CK_QKK; k += 8) mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(mx, 1), _mm256_castps256_ps128(mx));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        // The reference keeps the sign of the first element whose |x| is the maximum.
        const __m256 am = _mm256_set1_ps(amax);
        float max = 0.0f;
        for (int k = 0; k < CK_QKK; k += 8) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)), am, _CMP_EQ_OQ));
            if (hit) {
                max = x[k + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m256 mul = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int k = 0; k < CK_QKK; k += 32) {
            __m256i q[4];
            for (int j = 0; j < 4; ++j) {
                const __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * j), mul),
                                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(r), lim);
            }
            __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(y[i].qs + k), p);
            // bsums of the two 16-groups in this 32: sign-extend and add with vpmaddwd by ones.
            const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(p));
            const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(p, 1));
            const int32_t s0 = CK_FN(hsum_epi32)(_mm256_madd_epi16(lo, _mm256_set1_epi16(1)));
            const int32_t s1 = CK_FN(hsum_epi32)(_mm256_madd_epi16(hi, _mm256_set1_epi16(1)));
            const int16_t b0 = (int16_t)s0, b1 = (int16_t)s1;
            memcpy(&y[i].bsums[k / 16], &b0, 2);
            memcpy(&y[i].bsums[k / 16 + 1], &b1, 2);
        }
        const float d = 1.0f / iscale;
        memcpy(&y[i].d, &d, sizeof d);
    }
}

// MARK: - f16 rows (F16C)

static CK_TGT void CK_FN(fp16_to_fp32_row)(const void *src, void *dst, size_t n) {
    const uint8_t *s = src;
    float *d = dst;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
    for (; i < n; ++i) d[i] = ck_half_to_float(ck_load_u16(s + 2 * i));
}

static CK_TGT void CK_FN(fp32_to_fp16_row)(const void *src, void *dst, size_t n) {
    const float *s = src;
    uint8_t *d = dst;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128((__m128i *)(d + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; ++i) {
        const uint16_t h = ck_float_to_half(s[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

// MARK: - Table

CK_INTERNAL void CK_FN(fill_table)(ck_kernels *k) {
    k->quantize_q8_0 = CK_FN(quantize_q8_0);
    k->quantize_q8_K = CK_FN(quantize_q8_K);
    k->fp16_to_fp32_row = CK_FN(fp16_to_fp32_row);
    k->fp32_to_fp16_row = CK_FN(fp32_to_fp16_row);
    CK_SET_ALL_KERNELS(k)
    k->matmul[CK_TYPE_Q5_0] = CK_FN(matmul_q5_0_shared);
    k->matmul[CK_TYPE_Q8_0] = CK_FN(matmul_q8_0_shared);
    k->matvec[CK_TYPE_Q5_0] = CK_FN(matvec_q5_0_shared);
    k->matvec[CK_TYPE_F16] = CK_FN(matvec_f16_rounded);
    k->matmul[CK_TYPE_F16] = CK_FN(matmul_f16_rounded);
}
