// ck_x86_512_rows16.h — Q4_0 and Q4_K mat-vec / mat-mat in llama.cpp's x86 summation order, sixteen
// weight rows at a time, one float lane per row. Included by ck_x86_512.h (uses its helpers).
//
// What llama.cpp does here (ggml-cpu repack, llama-cpp-python 0.3.36 built for this AVX-512 machine):
// with AVX2 (also in AVX-512 builds) it repacks every Q4_0 / Q4_K matrix whose row count is a multiple
// of 8 into 8-row interleaved blocks (block_q4_0x8 / block_q4_Kx8) and, for a single token, runs
// ggml_gemv_q4_0_8x8_q8_0 (gemv_q4_b32_8x8_q8_0_lut_avx) / ggml_gemv_q4_K_8x8_q8_K on activations
// quantized by the plain quantize_row_q8_0 / quantize_row_q8_K (the "x4" interleaved quantizers are
// only used for groups of 4 tokens, by its gemm). Both gemv kernels keep one float lane per row:
//   Q4_0: acc = 0; per 32-block b in order: acc = fma((float)isum_b, d_w*d_a, acc); y = acc.
//   Q4_K: acc = accm = 0; per 256-block b in order:
//           acc  = fma((float)Σ_s sc_s·Σ_32 q4·q8,           d_w*d_a,    acc)
//           accm = fma((float)Σ_s m_s·(bsum_2s + bsum_2s+1), dmin_w*d_a, accm);   y = acc - accm.
// (d_w*d_a rounded to float first; the integer sums are exact, so only this float chain matters.)
//
// We keep the file's own row-major blocks. Per block, each row's integer partials are computed with
// the usual per-row vector code (lanes = pieces of one row), then sixteen rows' partial vectors are
// reduced and transposed at once (unpack/add, three levels: ~3 ops per row) into one zmm whose lane i
// is row i's exact block sum; the float FMA chain then runs with lanes = rows, exactly as above. The
// sixteen rows' f16 scales (and, for Q4_K, the words holding the 6-bit mins, used lane-per-row) come
// in with dword gathers. A mat-mat column reuses the unpacked weights; each (row, column) pair gets
// the same chain, so prefill equals decode bit for bit.
// A group with fewer than 16 valid rows repeats the last one (lanes are independent).

// Lane-wise reduction steps. red_a: per 128-bit lane [x0+x2, y0+y2, x1+x3, y1+y3];
// red_b: per 128-bit lane [x's 4-sum pairs..]: applied to two red_a results gives per 128-bit lane
// [Σ4 of input 0, input 1, input 2, input 3]; red_c: [x.L0+x.L1, x.L2+x.L3, y.L0+y.L1, y.L2+y.L3].
CK_INL __m512i CK_FN(red_a)(__m512i x, __m512i y) {
    return _mm512_add_epi32(_mm512_unpacklo_epi32(x, y), _mm512_unpackhi_epi32(x, y));
}
CK_INL __m512i CK_FN(red_b)(__m512i x, __m512i y) {
    return _mm512_add_epi32(_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y));
}
CK_INL __m512i CK_FN(red_c)(__m512i x, __m512i y) {
    return _mm512_add_epi32(_mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Offsets (bytes) of the 16 rows of a group from its first row; rows past nvalid repeat the last.
CK_INL __m512i CK_FN(row_offsets16)(size_t rs, int nvalid) {
    const __m512i i = _mm512_min_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                       _mm512_set1_epi32(nvalid - 1));
    return _mm512_mullo_epi32(i, _mm512_set1_epi32((int)rs));
}

// The 16 rows of a group from its first row g0 (stride rs), rows past nvalid repeating the last (their
// lanes are computed and dropped).
CK_INL void CK_FN(group_rows16)(const char *g0, size_t rs, int nvalid, const char *rp[16]) {
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) rp[i] = g0 + (size_t)(i < nvalid ? i : nvalid - 1) * rs;
}

// The i32 gather offsets need 15 * row stride < 2^31 (rows of up to ~1.9e8 Q4_0 columns); beyond, the
// scalar reference (same order) runs.
#define CK_R16_MAX_STRIDE ((size_t)INT32_MAX / 16)

// Prefetches one block-step's share (16 blocks of BYTES) of the group CK_R16_PF_GROUPS ahead, a linear
// stream (walking 16 rows side by side defeats the hardware prefetchers), into L2 (T1), not L1: a group
// of 3072-column Q4_K rows is 27 KiB, so prefetching a group or two ahead into the 32 KiB L1 evicted the
// lines in use. Measured on Zen 4 at 1 thread over 1 GiB (GB/s; read wall ~25): a bare 16-row walk
// reading 1.7 KiB-strided rows: no prefetch 16, T0 15, T1 24.4-24.7 (1-6 groups ahead alike); the Q4_K
// mat-vec: T0 8.5-9.1 whatever the distance, T1 1 group ahead 20.0, 2 ahead 18.0, 3-4 ahead 16.5; Q4_0
// T0 11.6, T1 16.3. A build may override the distance with -D.
#ifndef CK_R16_PF_GROUPS
#define CK_R16_PF_GROUPS 1
#endif
CK_INL void CK_FN(r16_prefetch)(const char *pf, size_t b, size_t bytes) {
    if (!pf) return;
    const char *q = pf + b * 16 * bytes;
    for (size_t k = 0; k < 16 * bytes; k += 64) _mm_prefetch(q + k, _MM_HINT_T1);
}

#include "ck_x86_512_transpose.h"

// MARK: - Q4_0

// Rows lo and hi, block b: [lo low nibbles, lo high nibbles, hi low, hi high] (elements 0..15, 16..31).
CK_INL __m512i CK_FN(q4_0_pair)(const block_q4_0 *lo, const block_q4_0 *hi) {
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)lo->qs));
    v = _mm512_mask_broadcast_i32x4(v, (__mmask16)0xFF00, _mm_loadu_si128((const __m128i *)hi->qs));
    v = _mm512_mask_srli_epi16(v, (__mmask32)0xFF00FF00u, v, 4);
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

// One group of 16 rows (first row w0, stride rs, nvalid valid) times nc columns: res[c] lane i =
// row i times column c. Pair p holds rows (p, p+4) for p < 4 and (p+4, p+8) for p >= 4, so that the
// reduction tree (red_a over pairs, red_b, red_c) lands row i in lane i.
CK_INL void CK_FN(r16_q4_0)(int nc, size_t nb, const char *w0, size_t rs, int nvalid, const void *const *xv,
                            __m512 res[4], const char *pf) {
    static const int pair_rows[8][2] = {{0, 4}, {1, 5}, {2, 6}, {3, 7}, {8, 12}, {9, 13}, {10, 14}, {11, 15}};
    const block_q4_0 *rows[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) {
        rows[i] = (const block_q4_0 *)(w0 + (size_t)(i < nvalid ? i : nvalid - 1) * rs);
    }
    const __m512i offs = CK_FN(row_offsets16)(rs, nvalid);
    const block_q8_0 *x[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        res[c] = _mm512_setzero_ps();
    }
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(r16_prefetch)(pf, b, sizeof(block_q4_0));
        __m512i y[4], off[4], a[4][4], bsum[4][2];
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            y[c] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x[c][b].qs));
            // (q - 8)·a = q·a - 8·a, lane by lane; start each pair's dpbusd at -8·Σa.
            off[c] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                      CK_FN(dpbusd)(_mm512_setzero_si512(), _mm512_set1_epi8(8), y[c]));
        }
        _Pragma("GCC unroll 8") for (int p = 0; p < 8; ++p) {
            const __m512i q = CK_FN(q4_0_pair)(&rows[pair_rows[p][0]][b], &rows[pair_rows[p][1]][b]);
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                const __m512i is = CK_FN(dpbusd)(off[c], q, y[c]);
                if (p % 2 == 0) a[c][p / 2] = is;
                else a[c][p / 2] = CK_FN(red_a)(a[c][p / 2], is);
            }
            if (p % 4 == 3) {
                _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                    bsum[c][p / 4] = CK_FN(red_b)(a[c][p / 2 - 1], a[c][p / 2]);
                }
            }
        }
        const __m512i g = _mm512_i32gather_epi32(offs, (const void *)&rows[0][b], 1);
        const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const __m512i is = CK_FN(red_c)(bsum[c][0], bsum[c][1]);
            const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(CK_FN(h2f)(&x[c][b].d)));
            res[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), d, res[c]);
        }
    }
}

// MARK: - Q4_K

// Activation side of the mins, per column: Σ_s m_s·(bsum_2s + bsum_2s+1) as 4 vpdpwssd over int16
// pairs. bp[k] = the pair (bp_2k', ...) broadcast: k = 0..3 -> (bp0,bp2), (bp1,bp3), (bp4,bp6), (bp5,bp7),
// matching the weight-side pairs (m0,m2), (m1,m3), (m4,m6), (m5,m7). |bsum pair| <= 4064, m <= 63.
CK_INL void CK_FN(k4_bsum_pairs)(const block_q8_K *a, __m512i bp[4]) {
    const __m256i bs = _mm256_loadu_si256((const __m256i *)a->bsums);
    __m128i p = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));  // bp0..bp7
    p = _mm_shuffle_epi8(p, _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15));
    const __m512i p5 = _mm512_castsi128_si512(p);
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) bp[k] = _mm512_permutexvar_epi32(_mm512_set1_epi32(k), p5);
}

// The 16 rows' block-b f16 scales d and dmin (as floats, lane per row) and their 6-bit mins as the
// int16 pairs (m0,m2), (m1,m3), (m4,m6), (m5,m7) that k4_bsum_pairs' activation pairs meet, from the
// header words g0 (d | dmin), g1 (scales[4..7]) and g2 (scales[8..11]), lane per row.
CK_INL void CK_FN(k4_scales_from)(__m512i g0, __m512i g1, __m512i g2, __m512i mp[4], __m512 *dw, __m512 *dmw) {
    const __m512i m_lo = _mm512_and_si512(g1, _mm512_set1_epi32(0x3f3f3f3f));
    const __m512i m_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(g2, 4), _mm512_set1_epi32(0x0f0f0f0f)),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(g1, 6), _mm512_set1_epi32(0x03030303)), 4));
    const __m512i b16 = _mm512_set1_epi32(0x00FF00FF);
    mp[0] = _mm512_and_si512(m_lo, b16);
    mp[1] = _mm512_and_si512(_mm512_srli_epi32(m_lo, 8), b16);
    mp[2] = _mm512_and_si512(m_hi, b16);
    mp[3] = _mm512_and_si512(_mm512_srli_epi32(m_hi, 8), b16);
    *dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g0));
    *dmw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(g0, 16)));
}

// The 16 rows' block-b sub-block scales sc0..sc7 (6 bits each, as ggml's get_scale_min_k4 computes
// them), 8 bytes per row, row i at byte 8 * k4_sc_slot(i) of out, for all 16 rows at once from the header
// words a (scales[0..3]) and c (scales[8..11]), lane per row.
CK_INL int CK_FN(k4_sc_slot)(int i) { return (i / 4) * 2 + (i % 4 < 2 ? i % 4 : 8 + i % 4 - 2); }
// lo byte s = sc_s and hi byte s = sc_4+s (s = 0..3) of each lane's row, from the header words a and c.
CK_INL void CK_FN(k4_sc_split)(__m512i a, __m512i c, __m512i *lo, __m512i *hi) {
    *lo = _mm512_and_si512(a, _mm512_set1_epi32(0x3f3f3f3f));
    *hi = _mm512_or_si512(_mm512_and_si512(c, _mm512_set1_epi32(0x0f0f0f0f)),
                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(a, 6), _mm512_set1_epi32(0x03030303)), 4));
}
CK_INL void CK_FN(k4_group_sc)(__m512i a, __m512i c, uint64_t out[16]) {
    __m512i lo, hi;
    CK_FN(k4_sc_split)(a, c, &lo, &hi);
    // Per 128-bit lane L: unpacklo = rows 4L, 4L+1 (sc_lo then sc_hi each), unpackhi = rows 4L+2, 4L+3.
    _mm512_storeu_si512((void *)out, _mm512_unpacklo_epi32(lo, hi));
    _mm512_storeu_si512((void *)(out + 8), _mm512_unpackhi_epi32(lo, hi));
}

// The 16 rows' block-b headers (d | dmin, scales[0..3], scales[4..7], scales[8..11]) lane per row, by
// one 16 x 4 transpose: in the mat-vec it replaced five vpgatherdd per group and block (in cache, 128
// rows x 4096, 1 thread, Zen 4: 5.6 -> 4.8-5.2 ns per row block).
CK_INL void CK_FN(k4_headers)(const block_q4_K *const rows[16], size_t b, __m512i hd[4]) {
    const char *hp[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) hp[i] = (const char *)&rows[i][b];
    CK_FN(transpose16x4)(hp, hd);
}

// One group of 16 rows times nc (1..4) columns: res[c] lane i = row i times column c. A row's block
// unpacks from two whole 64-byte loads of qs (low nibbles of bytes 0..63 are elements 0..31 and 64..95,
// high nibbles 32..63 and 96..127; likewise bytes 64..127 for 128..255), so each column's activations
// are laid out once per block in that order (shared by the 16 rows), and each zmm's two sub-block scales
// come from one in-lane byte shuffle of the row's 8 scales (shared by the columns). Each row's 16-lane
// partial vector is reduced over rows 4g..4g+3 by red_a / red_b, then red_c twice, landing row i in lane
// i; the mins are lane-per-row from the gathered scale words (bytes 4..11 of the scales), as ggml's
// get_scale_min_k4 computes them. The integer sums are exact whatever the lanes, so only the float chain
// matters: per block, one FMA for the sums and one for the mins per (row, column), as in the header.
CK_INL void CK_FN(r16_q4_K)(int nc, size_t nb, const char *w0, size_t rs, int nvalid, const void *const *xv,
                            __m512 res[4], const char *pf) {
    const block_q4_K *rows[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) {
        rows[i] = (const block_q4_K *)(w0 + (size_t)(i < nvalid ? i : nvalid - 1) * rs);
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    // In-lane shuffles picking, for zmm k, sub-block scale s0 (first 256 bits) and s1 (second) as int16
    // from a 128-bit lane holding sc0..sc7: k = 0: (0, 2), 1: (1, 3), 2: (4, 6), 3: (5, 7).
    // In-lane shuffles turning a row's 8 scale bytes (broadcast to every 64 bits) into zmm k's int16
    // scales: sub-block s0 for the first 256 bits, s1 for the second; k = 0: (0, 2), 1: (1, 3),
    // 2: (4, 6), 3: (5, 7). The high byte of each int16 is zeroed (index 0x80).
    __m512i ctrl[4];
    {
        static const int pick[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) {
            const __m256i lo = _mm256_set1_epi16((short)(pick[k][0] | 0x8000));
            const __m256i hi = _mm256_set1_epi16((short)(pick[k][1] | 0x8000));
            ctrl[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        }
    }
    const block_q8_K *x[4];
    __m512 accm[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        res[c] = _mm512_setzero_ps();
        accm[c] = _mm512_setzero_ps();
    }
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(r16_prefetch)(pf, b, sizeof(block_q4_K));
        __m512i act[4][4];
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const int8_t *aq = x[c][b].qs;
            _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) {
                const int o = 128 * (k / 2) + 32 * (k % 2);
                act[c][k] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(aq + o))),
                                               _mm256_loadu_si256((const __m256i *)(aq + o + 64)), 1);
            }
        }
        __m512i hd[4];
        CK_FN(k4_headers)(rows, b, hd);
        uint64_t scb[16];
        CK_FN(k4_group_sc)(hd[1], hd[3], scb);
        __m512i v[4], w[4][2];  // reduced as soon as possible: fewer live registers for 4 columns
        _Pragma("GCC unroll 4") for (int g = 0; g < 4; ++g) {
            __m512i a[4][2];
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) {
                const block_q4_K *blk = &rows[4 * g + j][b];
                const __m512i v0 = _mm512_loadu_si512((const void *)blk->qs);
                const __m512i v1 = _mm512_loadu_si512((const void *)(blk->qs + 64));
                const __m512i q[4] = {_mm512_and_si512(v0, m4), _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4),
                                      _mm512_and_si512(v1, m4), _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4)};
                const __m512i sc = _mm512_set1_epi64((long long)scb[CK_FN(k4_sc_slot)(4 * g + j)]);
                __m512i scs[4];
                _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) scs[k] = _mm512_shuffle_epi8(sc, ctrl[k]);
                _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                    __m512i is = _mm512_setzero_si512();
                    _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) {
                        is = CK_FN(dpwssd)(is, _mm512_maddubs_epi16(q[k], act[c][k]), scs[k]);
                    }
                    if (j % 2 == 0) a[c][j / 2] = is;
                    else a[c][j / 2] = CK_FN(red_a)(a[c][j / 2], is);
                }
            }
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                const __m512i vg = CK_FN(red_b)(a[c][0], a[c][1]);
                if (g % 2 == 0) v[c] = vg;
                else w[c][g / 2] = CK_FN(red_c)(v[c], vg);
            }
        }
        __m512i mp[4];
        __m512 dw, dmw;
        CK_FN(k4_scales_from)(hd[0], hd[2], hd[3], mp, &dw, &dmw);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            const __m512i is = CK_FN(red_c)(w[c][0], w[c][1]);
            __m512i bp[4];
            CK_FN(k4_bsum_pairs)(&x[c][b], bp);
            __m512i ms = _mm512_setzero_si512();
            _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) ms = CK_FN(dpwssd)(ms, mp[k], bp[k]);
            const __m512 da = _mm512_set1_ps(ck_load_f32(&x[c][b].d));
            res[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(dw, da), res[c]);
            accm[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ms), _mm512_mul_ps(dmw, da), accm[c]);
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) res[c] = _mm512_sub_ps(res[c], accm[c]);
}

// The Q4_K mat-vec group: r16_q4_K with one column.
CK_INL __m512 CK_FN(r16mv_q4_K)(size_t nb, const char *w0, size_t rs, int nvalid, const block_q8_K *x, const char *pf) {
    const void *xs[1] = {x};
    __m512 o[4];
    CK_FN(r16_q4_K)(1, nb, w0, rs, nvalid, xs, o, pf);
    return o[0];
}

// The Q4_0 mat-vec group: r16_q4_0 with one column.
CK_INL __m512 CK_FN(r16mv_q4_0)(size_t nb, const char *w0, size_t rs, int nvalid, const block_q8_0 *x, const char *pf) {
    const void *xs[1] = {x};
    __m512 o[4];
    CK_FN(r16_q4_0)(1, nb, w0, rs, nvalid, xs, o, pf);
    return o[0];
}

#include "ck_x86_512_repack16.h"

// MARK: - Drivers (mat-vec: groups of 16 rows, prefetching the next group; mat-mat: per group, the
// columns 4 at a time, so a group's weights come from L1/L2 after the first 4 columns)

#define CK_DEFINE_R16(t, QB, SCALAR_DOT)                                                        \
    static CK_TGT float CK_FN(dot_##t)(size_t n, const void *w, const void *x) {                        \
        if (n / (QB) == 0) return 0.0f;                                                                 \
        const void *xs[1] = {x};                                                                        \
        __m512 r[4];                                                                                    \
        CK_FN(r16_##t)(1, n / (QB), w, 0, 1, xs, r, NULL);                                              \
        return _mm512_cvtss_f32(r[0]);                                                                  \
    }                                                                                                   \
    static CK_TGT void CK_FN(matvec_##t)(const void *w, size_t rs, const void *xq, float *y, size_t r0,   \
                                         size_t r1, size_t cols) {                                     \
        const size_t nb = cols / (QB);                                                                  \
        if (rs > CK_R16_MAX_STRIDE) {                                                                   \
            for (size_t r = r0; r < r1; ++r) y[r] = SCALAR_DOT(cols, (const char *)w + r * rs, xq);     \
            return;                                                                                     \
        }                                                                                               \
        for (size_t r = r0; r < r1; r += 16) {                                                          \
            const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;                                            \
            const size_t ahead = r + 16 * CK_R16_PF_GROUPS;                                            \
            const char *pf = CK_R16_PF_GROUPS > 0 && ahead < r1 ? (const char *)w + ahead * rs : NULL;  \
            const __m512 o = CK_FN(r16mv_##t)(nb, (const char *)w + r * rs, rs, nv, xq, pf);            \
            _mm512_mask_storeu_ps(y + r, (__mmask16)((1u << nv) - 1), o);                               \
        }                                                                                               \
    }                                                                                                   \
    static CK_TGT void CK_FN(matmul_##t)(const void *w, size_t rs, const void *xq, size_t xstride,       \
                                         size_t nvec, float *y, size_t ys, size_t r0, size_t r1,        \
                                         size_t cols) {                                                 \
        if (CK_FN(matmul_small_##t)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols)) return;             \
        if (CK_FN(matmul_big_##t)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols)) return;               \
        if (CK_FN(matmul_long_##t)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols)) return;              \
        const size_t nb = cols / (QB);                                                                  \
        if (rs > CK_R16_MAX_STRIDE) {                                                                   \
            for (size_t r = r0; r < r1; ++r) {                                                          \
                for (size_t j = 0; j < nvec; ++j) {                                                     \
                    y[j * ys + r] = SCALAR_DOT(cols, (const char *)w + r * rs, (const char *)xq + j * xstride); \
                }                                                                                       \
            }                                                                                           \
            return;                                                                                     \
        }                                                                                               \
        for (size_t r = r0; r < r1; r += 16) {                                                          \
            const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;                                            \
            const __mmask16 m = (__mmask16)((1u << nv) - 1);                                            \
            const char *g0 = (const char *)w + r * rs;                                                  \
            const size_t ahead = r + 16 * CK_R16_PF_GROUPS;                                            \
            const char *pf0 = CK_R16_PF_GROUPS > 0 && ahead < r1 ? (const char *)w + ahead * rs : NULL; \
            for (size_t j0 = 0; j0 < nvec; j0 += 4) {                                                   \
                const char *pf = j0 == 0 ? pf0 : NULL; /* the first pass streams, the rest hit cache */ \
                const size_t nc = nvec - j0 < 4 ? nvec - j0 : 4;                                        \
                const void *xs[4];                                                                      \
                for (size_t c = 0; c < nc; ++c) xs[c] = (const char *)xq + (j0 + c) * xstride;          \
                __m512 o[4];                                                                            \
                switch (nc) {                                                                           \
                case 4: CK_FN(r16_##t)(4, nb, g0, rs, nv, xs, o, pf); break;                          \
                case 3: CK_FN(r16_##t)(3, nb, g0, rs, nv, xs, o, pf); break;                          \
                case 2: CK_FN(r16_##t)(2, nb, g0, rs, nv, xs, o, pf); break;                          \
                default: CK_FN(r16_##t)(1, nb, g0, rs, nv, xs, o, pf); break;                         \
                }                                                                                       \
                for (size_t c = 0; c < nc; ++c) _mm512_mask_storeu_ps(y + (j0 + c) * ys + r, m, o[c]);  \
            }                                                                                           \
        }                                                                                               \
    }

CK_DEFINE_R16(q4_0, CK_QK4_0, ck_vec_dot_q4_0_q8_0)
CK_DEFINE_R16(q4_K, CK_QKK, ck_vec_dot_q4_K_q8_K)

#if CK_VNNI
// The Q4_0 mat-vec with VNNI: q40s with one column (2 threads over 512 MiB on Zen 4: 93-96% of the read
// wall, where r16mv_q4_0 reached ~80% and the AVX2 kernel 88-92%).
static CK_TGT void CK_FN(matvec_q4_0_q40s)(const void *w, size_t rs, const void *xq, float *y, size_t r0, size_t r1,
                                           size_t cols) {
    if (!CK_FN(q40s_rows)(w, rs, xq, 0, 1, y, 0, r0, r1, cols)) CK_FN(matvec_q4_0)(w, rs, xq, y, r0, r1, cols);
}
#endif
