// ck_x86_512_q40_small.h — Q4_0 times 1..8 activation columns on AVX-512 VNNI (decode and small batches:
// several apps' streams, speculative verification), 16 rows at a time, lanes = rows. Included by
// ck_x86_512_rows16.h (uses transpose16x4 and r16_prefetch).
//
// Each block of 16 rows is transposed as it comes (16 x 4 dwords: lane i = row i's qs bytes 4t..4t+3,
// whose low nibbles are elements 4t..4t+3 and high nibbles 16+4t..16+4t+3), so one vpdpbusd per 4
// elements takes the 16 rows' unsigned nibbles q against a broadcast dword of the column's signed
// activations, and no lane reduction is needed. The -8 of (q - 8)·a is the column's -8·Σa per block,
// made once per call (shared by every row) as the integer sum's starting value: Σ q·a - 8·Σ a =
// Σ (q - 8)·a exactly. The float chain is llama.cpp's (its repacked gemv_q4_0_8x8 and r16_q4_0 here):
// per block, acc = fma((float)isum, d_w·d_a, acc), d_w·d_a rounded first. The same bits as r16_q4_0.
//
// Per block of 16 rows and 4 columns: ~40 shared instructions (transposes, nibbles, scales) and 11 per
// column, where the r16t kernel it replaced spent ~80 shared (a second transpose, an offset correction
// per row) and ~20 per column.
#if CK_VNNI

// Rows of up to this many blocks (16384 columns) use it: the per-call column terms live on the stack
// (32 KiB).
#define CK_Q40S_MAX_BLOCKS 512
#define CK_Q40S_MAX_COLUMNS 8

typedef struct {
    int32_t off;  // -8 · Σ a over the block
    float da;     // the block's scale
} CK_FN(q40s_col);

// The column terms of nc columns, [block][column].
CK_INL void CK_FN(q40s_columns)(size_t nc, size_t nb, const block_q8_0 *const x[CK_Q40S_MAX_COLUMNS], CK_FN(q40s_col) *out) {
    const __m256i u128 = _mm256_set1_epi8((char)0x80);
    for (size_t b = 0; b < nb; ++b) {
        for (size_t c = 0; c < nc; ++c) {
            // Σ (a + 128) by sad against zero, minus 32 · 128.
            const __m256i s = _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)x[c][b].qs), u128),
                                              _mm256_setzero_si256());
            const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            const int32_t sum = (int32_t)(_mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1)) - 32 * 128;
            out[b * CK_Q40S_MAX_COLUMNS + c] = (CK_FN(q40s_col)){-8 * sum, CK_FN(h2f)(&x[c][b].d)};
        }
    }
}

// One group of 16 rows (first row w0, stride rs, nvalid valid) times nc columns: res[c] lane i = row i
// times column c. pf (may be NULL): the next group, prefetched a block step at a time.
CK_INL void CK_FN(q40s_group)(int nc, size_t nb, const char *w0, size_t rs, int nvalid,
                              const block_q8_0 *const x[CK_Q40S_MAX_COLUMNS], const CK_FN(q40s_col) *cols,
                              __m512 res[CK_Q40S_MAX_COLUMNS], const char *pf) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const char *rp[16];
    CK_FN(group_rows16)(w0, rs, nvalid, rp);
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) res[c] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(r16_prefetch)(pf, b, sizeof(block_q4_0));
        const char *qp[16], *dp[16];
        _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) {
            dp[i] = rp[i] + b * sizeof(block_q4_0);
            qp[i] = dp[i] + offsetof(block_q4_0, qs);
        }
        __m512i qs[4];
        CK_FN(transpose16x4)(qp, qs);
        // The scales by a second transpose (dword 0: d, and qs bytes 0..1 dropped by the narrowing): in
        // cache 0.66 ns per row block at one column, 0.83-1.19 with a vpgatherdd instead.
        __m512i hd[4];
        CK_FN(transpose16x4)(dp, hd);
        const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hd[0]));
        __m512i ql[4], qh[4];
        _Pragma("GCC unroll 4") for (int t = 0; t < 4; ++t) {
            ql[t] = _mm512_and_si512(qs[t], m4);
            qh[t] = _mm512_and_si512(_mm512_srli_epi16(qs[t], 4), m4);
        }
        _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
            const CK_FN(q40s_col) col = cols[b * CK_Q40S_MAX_COLUMNS + (size_t)c];
            const int8_t *a = x[c][b].qs;
            __m512i is = _mm512_set1_epi32(col.off);
            _Pragma("GCC unroll 4") for (int t = 0; t < 4; ++t) {
                is = _mm512_dpbusd_epi32(is, ql[t], _mm512_set1_epi32((int)ck_load_u32(a + 4 * t)));
                is = _mm512_dpbusd_epi32(is, qh[t], _mm512_set1_epi32((int)ck_load_u32(a + 16 + 4 * t)));
            }
            res[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(dw, _mm512_set1_ps(col.da)), res[c]);
        }
    }
}

// Rows r0..r1 times nvec (1..8) columns, or 0 (nothing done) when it does not apply.
CK_INL int CK_FN(q40s_rows)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, float *y, size_t ys,
                            size_t r0, size_t r1, size_t cols) {
    const size_t nb = cols / CK_QK4_0;
    if (nvec < 1 || nvec > CK_Q40S_MAX_COLUMNS || nb == 0 || nb > CK_Q40S_MAX_BLOCKS) return 0;
    const block_q8_0 *x[CK_Q40S_MAX_COLUMNS];
    for (size_t c = 0; c < nvec; ++c) x[c] = (const block_q8_0 *)(const void *)((const char *)xq + c * xstride);
    CK_FN(q40s_col) terms[CK_Q40S_MAX_BLOCKS * CK_Q40S_MAX_COLUMNS];
    CK_FN(q40s_columns)(nvec, nb, x, terms);
    for (size_t r = r0; r < r1; r += 16) {
        const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;
        const __mmask16 m = (__mmask16)((1u << nv) - 1);
        const size_t ahead = r + 16 * CK_R16_PF_GROUPS;
        const char *pf = CK_R16_PF_GROUPS > 0 && ahead < r1 ? (const char *)w + ahead * rs : NULL;
        const char *g0 = (const char *)w + r * rs;
        __m512 o[CK_Q40S_MAX_COLUMNS];
        switch (nvec) {  // each count its own unrolled copy, the accumulators in registers
        case 8: CK_FN(q40s_group)(8, nb, g0, rs, nv, x, terms, o, pf); break;
        case 7: CK_FN(q40s_group)(7, nb, g0, rs, nv, x, terms, o, pf); break;
        case 6: CK_FN(q40s_group)(6, nb, g0, rs, nv, x, terms, o, pf); break;
        case 5: CK_FN(q40s_group)(5, nb, g0, rs, nv, x, terms, o, pf); break;
        case 4: CK_FN(q40s_group)(4, nb, g0, rs, nv, x, terms, o, pf); break;
        case 3: CK_FN(q40s_group)(3, nb, g0, rs, nv, x, terms, o, pf); break;
        case 2: CK_FN(q40s_group)(2, nb, g0, rs, nv, x, terms, o, pf); break;
        default: CK_FN(q40s_group)(1, nb, g0, rs, nv, x, terms, o, pf); break;
        }
        for (size_t c = 0; c < nvec; ++c) _mm512_mask_storeu_ps(y + c * ys + r, m, o[c]);
    }
    return 1;
}

#endif  // CK_VNNI
