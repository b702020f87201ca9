// ck_x86_512_repack16.h — Q4_K and Q4_0 mat-mats with 16 rows repacked lane per row (VNNI): the stored
// repack of a row group for prefill (matmul_big_*), the block-by-block repack for small batches
// (matmul_small_*; Q4_0's lives in ck_x86_512_q40_small.h). Included by ck_x86_512_rows16.h between its
// kernels and its drivers (uses their helpers); the drivers call matmul_small_* and matmul_big_*.

// MARK: - Q4_K mat-mat: 16 rows repacked, lanes = rows (VNNI)

// For a batch of 2 or more, a group of 16 rows is repacked once (its qs as dwords of the 16 rows side by
// side, by 16 x 16 dword transposes, plus its scales as lane-per-row vectors from a transpose of the
// blocks' 16-byte headers) into stack scratch and then multiplied by every column: each
// vpdpbusd takes one repacked dword per row (4 nibbles of one sub-block, the other 4 of the next) and one
// broadcast dword of the column's activations, so its 16 lanes are 16 rows' 4-element sums and no lane
// reduction is needed; a sub-block's 8 steps are scaled by the rows' 6-bit scales (vpmulld) into the
// block sum. The integer block sums are exact, the float chain (one FMA for the sums, one for the mins,
// per block, row and column) is r16_q4_K's: the same bits. Rows of up to CK_R16P_MAX_BLOCKS blocks
// (12288 columns; 36 KiB of scratch per 12 blocks on the worker's stack) go in one pass; longer rows in
// chunks of that many blocks (matmul_long_q4_K below).
#ifndef CK_R16P_MAX_BLOCKS  // the C tests lower it, to reach the long-row driver
#define CK_R16P_MAX_BLOCKS 48
#endif
// The smallest batch that takes the repacked kernel: the repack is amortised over the columns. With the
// rows' bytes gathered (vpgatherdd) it paid from 10 columns (streaming 1 GiB at 1 thread, GFLOP/s
// repacked vs not: batch 8 99 vs 120, 12 146 vs 122, 16 184 vs 122); with transposes it pays from 2
// (in cache, 128 rows x 4096, 1 thread, Zen 4: 2 columns 13.7 vs 19.4 us, 4 22.1 vs 32.6, 8 34.5 vs 65.0).
#ifndef CK_R16P_MIN_BATCH
#define CK_R16P_MIN_BATCH 2
#endif

typedef struct {
    __m512i qs[32];  // [pair p * 8 + dword t]: lane i = bytes 4t..4t+3 of row i's qs[32p..32p+31]
    __m512i sc[8];   // sub-block scales, lane per row (int32)
    __m512i mp[4];   // mins as int16 pairs, as k4_group_scales
    __m512 dw, dmw;  // d and dmin, lane per row
} CK_FN(r16p_block_q4_K);

// Group b of 16 rows (blk[i]: row i's block b) repacked by transposes.
CK_INL void CK_FN(r16p_pack_q4_K)(const block_q4_K *const blk[16], CK_FN(r16p_block_q4_K) *out) {
    _Pragma("GCC unroll 2") for (int half = 0; half < 2; ++half) {
        __m512i r[16];
        _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512((const void *)(blk[i]->qs + 64 * half));
        CK_FN(transpose16)(r, out->qs + 16 * half);
    }
    __m512i hd[4], lo, hi;  // d | dmin, scales[0..3], scales[4..7], scales[8..11]
    CK_FN(k4_headers)(blk, 0, hd);
    CK_FN(k4_sc_split)(hd[1], hd[3], &lo, &hi);
    const __m512i ff = _mm512_set1_epi32(0xff);
    _Pragma("GCC unroll 4") for (int s = 0; s < 4; ++s) {
        out->sc[s] = _mm512_and_si512(_mm512_srli_epi32(lo, 8 * s), ff);
        out->sc[4 + s] = _mm512_and_si512(_mm512_srli_epi32(hi, 8 * s), ff);
    }
    CK_FN(k4_scales_from)(hd[0], hd[2], hd[3], out->mp, &out->dw, &out->dmw);
}

// The repacked group (nb blocks) times nc columns.
// One repacked block b times nc columns, into the float chains res (sums) and accm (mins).
CK_INL void CK_FN(r16p_step_q4_K)(int nc, const CK_FN(r16p_block_q4_K) *blk, const block_q8_K *const x[4], size_t b,
                                  __m512 res[4], __m512 accm[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i is[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) is[c] = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
        __m512i lo[4], hi[4];
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) lo[c] = hi[c] = _mm512_setzero_si512();
        _Pragma("GCC unroll 8") for (int t = 0; t < 8; ++t) {
            const __m512i v = blk->qs[8 * p + t];
            const __m512i ql = _mm512_and_si512(v, m4), qh = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
                const int8_t *aq = x[c][b].qs + 64 * p + 4 * t;
                lo[c] = _mm512_dpbusd_epi32(lo[c], ql, _mm512_set1_epi32((int)ck_load_u32(aq)));
                hi[c] = _mm512_dpbusd_epi32(hi[c], qh, _mm512_set1_epi32((int)ck_load_u32(aq + 32)));
            }
        }
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            is[c] = _mm512_add_epi32(is[c], _mm512_mullo_epi32(lo[c], blk->sc[2 * p]));
            is[c] = _mm512_add_epi32(is[c], _mm512_mullo_epi32(hi[c], blk->sc[2 * p + 1]));
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        __m512i bp[4];
        CK_FN(k4_bsum_pairs)(&x[c][b], bp);
        __m512i ms = _mm512_setzero_si512();
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) ms = CK_FN(dpwssd)(ms, blk->mp[k], bp[k]);
        const __m512 da = _mm512_set1_ps(ck_load_f32(&x[c][b].d));
        res[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is[c]), _mm512_mul_ps(blk->dw, da), res[c]);
        accm[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ms), _mm512_mul_ps(blk->dmw, da), accm[c]);
    }
}

// The repacked group (nb blocks) times nc columns, continuing the float chains res and accm (x[c]: column
// c's activation block matching pk[0]).
CK_INL void CK_FN(r16p_run_q4_K)(int nc, size_t nb, const CK_FN(r16p_block_q4_K) *pk, const block_q8_K *const x[4],
                                 __m512 res[4], __m512 accm[4]) {
    __m512 r[4], a[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        r[c] = res[c];
        a[c] = accm[c];
    }
    for (size_t b = 0; b < nb; ++b) CK_FN(r16p_step_q4_K)(nc, &pk[b], x, b, r, a);
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        res[c] = r[c];
        accm[c] = a[c];
    }
}

// The repacked group (nb blocks) times nc columns.
CK_INL void CK_FN(r16p_q4_K)(int nc, size_t nb, const CK_FN(r16p_block_q4_K) *pk, const void *const *xv, __m512 res[4]) {
    const block_q8_K *x[4];
    __m512 accm[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        res[c] = _mm512_setzero_ps();
        accm[c] = _mm512_setzero_ps();
    }
    CK_FN(r16p_run_q4_K)(nc, nb, pk, x, res, accm);
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) res[c] = _mm512_sub_ps(res[c], accm[c]);
}

// A group of 16 rows (first row w0, stride rs, nvalid valid) times nc (1..8) columns, each block
// repacked as it comes into one block of L1 scratch and used at once: for the few columns of a small
// batch, storing the whole group's repack to read it back cost more than it saved. pf (may be NULL):
// the next group, prefetched a block step at a time as the mat-vec does.
CK_INL void CK_FN(r16t_q4_K)(int nc, size_t nb, const char *w0, size_t rs, int nvalid, const void *const *xv,
                             __m512 res[8], const char *pf) {
    const char *rp[16];
    CK_FN(group_rows16)(w0, rs, nvalid, rp);
    const block_q8_K *x[8];
    __m512 accm[8];
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        res[c] = _mm512_setzero_ps();
        accm[c] = _mm512_setzero_ps();
    }
    CK_FN(r16p_block_q4_K) pk;
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(r16_prefetch)(pf, b, sizeof(block_q4_K));
        const block_q4_K *blk[16];
        _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) blk[i] = (const block_q4_K *)(const void *)(rp[i] + b * sizeof(block_q4_K));
        CK_FN(r16p_pack_q4_K)(blk, &pk);
        // Columns 4 at a time over the block in L1 (a step's registers hold 4 columns' sums).
        CK_FN(r16p_step_q4_K)(nc < 4 ? nc : 4, &pk, x, b, res, accm);
        if (nc > 4) CK_FN(r16p_step_q4_K)(nc - 4, &pk, x + 4, b, res + 4, accm + 4);
    }
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) res[c] = _mm512_sub_ps(res[c], accm[c]);
}

// MARK: - Q4_0 mat-mat: 16 rows repacked, lanes = rows (VNNI)

// As the Q4_K one: a group of 16 rows is repacked once (qs dwords of the 16 rows side by side, d lane per
// row) and multiplied by every column with vpdpbusd over broadcast activation dwords. The weights keep
// their unsigned nibbles q as the signed operand would need q - 8, so the roles swap: the activations,
// offset to unsigned (a + 128, once per block and column into a 128-byte buffer), meet the signed
// weights q - 8, and the offset's share, 128 * Σ(q - 8) per row and block, is computed at the repack and
// taken off: Σ(a + 128)(q - 8) - 128 Σ(q - 8) = Σ a (q - 8), exactly. Same float chain as r16_q4_0.
#ifndef CK_R16P0_MAX_BLOCKS
#define CK_R16P0_MAX_BLOCKS 320  // 10240 columns: 120 KiB of scratch; longer rows take matmul_long_q4_0
#endif

typedef struct {
    __m512i qs[4];  // dword t: lane i = bytes 4t..4t+3 of row i's qs
    __m512i corr;   // 128 * Σ (q - 8), lane per row
    __m512 dw;      // d, lane per row
} CK_FN(r16p_block_q4_0);

// Group b of 16 rows (blk[i]: row i's block b): the qs (bytes 2..17) by a 16 x 4 transpose, the scales d
// from another one over bytes 0..15 (2-5% faster in cache than a gather).
CK_INL void CK_FN(r16p_pack_q4_0)(const block_q4_0 *const blk[16], CK_FN(r16p_block_q4_0) *out) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8), u128 = _mm512_set1_epi8((char)0x80);
    __m512i corr = _mm512_setzero_si512();
    const char *qp[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) qp[i] = (const char *)blk[i]->qs;
    CK_FN(transpose16x4)(qp, out->qs);
    _Pragma("GCC unroll 4") for (int t = 0; t < 4; ++t) {
        const __m512i v = out->qs[t];
        corr = _mm512_dpbusd_epi32(corr, u128, _mm512_sub_epi8(_mm512_and_si512(v, m4), eight));
        corr = _mm512_dpbusd_epi32(corr, u128, _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), eight));
    }
    out->corr = corr;
    const char *dp[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) dp[i] = (const char *)blk[i];
    __m512i hd[4];  // dword 0: d (and the first qs bytes, dropped by the narrowing)
    CK_FN(transpose16x4)(dp, hd);
    out->dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hd[0]));
}

// One repacked block b times nc columns, into the float chains res.
CK_INL void CK_FN(r16p_step_q4_0)(int nc, const CK_FN(r16p_block_q4_0) *blk, const block_q8_0 *const x[4], size_t b,
                                  __m512 res[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
    const __m256i u128 = _mm256_set1_epi8((char)0x80);
    uint32_t au[4][8];  // column c's activations + 128, as dwords
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        _mm256_storeu_si256((__m256i *)au[c], _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)x[c][b].qs), u128));
    }
    __m512i is[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) is[c] = _mm512_sub_epi32(_mm512_setzero_si512(), blk->corr);
    _Pragma("GCC unroll 4") for (int t = 0; t < 4; ++t) {
        const __m512i v = blk->qs[t];
        const __m512i ql = _mm512_sub_epi8(_mm512_and_si512(v, m4), eight);
        const __m512i qh = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), eight);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
            is[c] = _mm512_dpbusd_epi32(is[c], _mm512_set1_epi32((int)au[c][t]), ql);
            is[c] = _mm512_dpbusd_epi32(is[c], _mm512_set1_epi32((int)au[c][4 + t]), qh);
        }
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        const __m512 d = _mm512_mul_ps(blk->dw, _mm512_set1_ps(CK_FN(h2f)(&x[c][b].d)));
        res[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is[c]), d, res[c]);
    }
}

// As r16p_run_q4_K (no mins: accm is left alone).
CK_INL void CK_FN(r16p_run_q4_0)(int nc, size_t nb, const CK_FN(r16p_block_q4_0) *pk, const block_q8_0 *const x[4],
                                 __m512 res[4], __m512 accm[4]) {
    (void)accm;
    __m512 r[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) r[c] = res[c];
    for (size_t b = 0; b < nb; ++b) CK_FN(r16p_step_q4_0)(nc, &pk[b], x, b, r);
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) res[c] = r[c];
}

CK_INL void CK_FN(r16p_q4_0)(int nc, size_t nb, const CK_FN(r16p_block_q4_0) *pk, const void *const *xv, __m512 res[4]) {
    const block_q8_0 *x[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        res[c] = _mm512_setzero_ps();
    }
    for (size_t b = 0; b < nb; ++b) CK_FN(r16p_step_q4_0)(nc, &pk[b], x, b, res);
}

#include "ck_x86_512_q40_small.h"

// The repacked mat-mat over rows r0..r1 (t: q4_K or q4_0, QB its block elements, BLK its block type,
// MAXB the most blocks per row), or 0 (nothing done) when it does not apply: each group of 16 rows is
// packed once, then multiplied by the columns 4 at a time while the next group streams into L2 (its
// lines spread over the column passes).
#if CK_VNNI
#define CK_DEFINE_R16P(t, QB, BLK, MAXB)                                                                \
    CK_INL int CK_FN(matmul_big_##t)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, \
                                     float *y, size_t ys, size_t r0, size_t r1, size_t cols) {          \
        const size_t nb = cols / (QB);                                                                  \
        if (nvec < CK_R16P_MIN_BATCH || nb == 0 || nb > (MAXB)) return 0;                               \
        CK_FN(r16p_block_##t) pk[MAXB];                                                                 \
        for (size_t r = r0; r < r1; r += 16) {                                                          \
            const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;                                            \
            const __mmask16 m = (__mmask16)((1u << nv) - 1);                                            \
            const char *g0 = (const char *)w + r * rs;                                                  \
            const char *rp[16];                                                                         \
            CK_FN(group_rows16)(g0, rs, nv, rp);                                                        \
            for (size_t b = 0; b < nb; ++b) {                                                           \
                const BLK *blk[16];                                                                     \
                for (int i = 0; i < 16; ++i) blk[i] = (const BLK *)(const void *)(rp[i] + b * sizeof(BLK)); \
                CK_FN(r16p_pack_##t)(blk, &pk[b]);                                                      \
            }                                                                                           \
            const size_t lines = r + 16 < r1 ? (16 * rs + 63) / 64 : 0, passes = (nvec + 3) / 4;        \
            for (size_t j0 = 0; j0 < nvec; j0 += 4) {                                                   \
                const size_t nc = nvec - j0 < 4 ? nvec - j0 : 4;                                        \
                for (size_t l = lines * (j0 / 4) / passes; l < lines * (j0 / 4 + 1) / passes; ++l) {    \
                    _mm_prefetch(g0 + 16 * rs + 64 * l, _MM_HINT_T1);                                   \
                }                                                                                       \
                const void *xs[4];                                                                      \
                for (size_t c = 0; c < nc; ++c) xs[c] = (const char *)xq + (j0 + c) * xstride;          \
                __m512 o[4];                                                                            \
                switch (nc) {                                                                           \
                case 4: CK_FN(r16p_##t)(4, nb, pk, xs, o); break;                                       \
                case 3: CK_FN(r16p_##t)(3, nb, pk, xs, o); break;                                       \
                case 2: CK_FN(r16p_##t)(2, nb, pk, xs, o); break;                                       \
                default: CK_FN(r16p_##t)(1, nb, pk, xs, o); break;                                      \
                }                                                                                       \
                for (size_t c = 0; c < nc; ++c) _mm512_mask_storeu_ps(y + (j0 + c) * ys + r, m, o[c]);  \
            }                                                                                           \
        }                                                                                               \
        return 1;                                                                                       \
    }
#else
#define CK_DEFINE_R16P(t, QB, BLK, MAXB)                                                                \
    CK_INL int CK_FN(matmul_big_##t)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, \
                                     float *y, size_t ys, size_t r0, size_t r1, size_t cols) {          \
        (void)w, (void)rs, (void)xq, (void)xstride, (void)nvec, (void)y, (void)ys, (void)r0, (void)r1, (void)cols; \
        return 0;                                                                                       \
    }
#endif
CK_DEFINE_R16P(q4_K, CK_QKK, block_q4_K, CK_R16P_MAX_BLOCKS)
CK_DEFINE_R16P(q4_0, CK_QK4_0, block_q4_0, CK_R16P0_MAX_BLOCKS)

// Rows longer than the repack scratch (Ministral 3 8B's 14,336-wide FFN down: 56 Q4_K blocks, 448 Q4_0):
// each group of 16 rows is repacked MAXB blocks at a time, and each of CK_R16L_COLUMNS columns' float
// chains waits in st_res / st_m between the chunks, so every (row, column) still takes its blocks in
// order, one FMA each: the same bits as the one-pass kernel. A column group re-packs the row group
// (from L2), about a column's work per block, 1/64 of the group's.
#define CK_R16L_COLUMNS 64
#if CK_VNNI
#define CK_DEFINE_R16L(t, QB, BLK, XBLK, MAXB, MINS)                                                   \
    CK_INL int CK_FN(matmul_long_##t)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, \
                                      float *y, size_t ys, size_t r0, size_t r1, size_t cols) {         \
        const size_t nb = cols / (QB);                                                                  \
        if (nvec < CK_R16P_MIN_BATCH || nb <= (MAXB)) return 0;                                         \
        CK_FN(r16p_block_##t) pk[MAXB];                                                                 \
        __m512 st_res[CK_R16L_COLUMNS], st_m[CK_R16L_COLUMNS];                                          \
        for (size_t r = r0; r < r1; r += 16) {                                                          \
            const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;                                            \
            const __mmask16 m = (__mmask16)((1u << nv) - 1);                                            \
            const char *g0 = (const char *)w + r * rs;                                                  \
            const char *rp[16];                                                                         \
            CK_FN(group_rows16)(g0, rs, nv, rp);                                                        \
            for (size_t j0 = 0; j0 < nvec; j0 += CK_R16L_COLUMNS) {                                     \
                const size_t jn = nvec - j0 < CK_R16L_COLUMNS ? nvec - j0 : CK_R16L_COLUMNS;            \
                for (size_t c = 0; c < jn; ++c) st_res[c] = st_m[c] = _mm512_setzero_ps();              \
                for (size_t kc = 0; kc < nb; kc += (MAXB)) {                                            \
                    const size_t kn = nb - kc < (MAXB) ? nb - kc : (MAXB);                              \
                    for (size_t b = 0; b < kn; ++b) {                                                   \
                        const BLK *blk[16];                                                             \
                        for (int i = 0; i < 16; ++i) blk[i] = (const BLK *)(const void *)(rp[i] + (kc + b) * sizeof(BLK)); \
                        CK_FN(r16p_pack_##t)(blk, &pk[b]);                                              \
                    }                                                                                   \
                    for (size_t g = 0; g < jn; g += 4) {                                                \
                        const size_t nc = jn - g < 4 ? jn - g : 4;                                      \
                        const XBLK *x[4];                                                               \
                        for (size_t c = 0; c < nc; ++c) {                                               \
                            x[c] = (const XBLK *)(const void *)((const char *)xq + (j0 + g + c) * xstride) + kc; \
                        }                                                                               \
                        switch (nc) {                                                                   \
                        case 4: CK_FN(r16p_run_##t)(4, kn, pk, x, st_res + g, st_m + g); break;         \
                        case 3: CK_FN(r16p_run_##t)(3, kn, pk, x, st_res + g, st_m + g); break;         \
                        case 2: CK_FN(r16p_run_##t)(2, kn, pk, x, st_res + g, st_m + g); break;         \
                        default: CK_FN(r16p_run_##t)(1, kn, pk, x, st_res + g, st_m + g); break;        \
                        }                                                                               \
                    }                                                                                   \
                }                                                                                       \
                for (size_t c = 0; c < jn; ++c) {                                                       \
                    const __m512 o = (MINS) ? _mm512_sub_ps(st_res[c], st_m[c]) : st_res[c];            \
                    _mm512_mask_storeu_ps(y + (j0 + c) * ys + r, m, o);                                 \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
        return 1;                                                                                       \
    }
#else
#define CK_DEFINE_R16L(t, QB, BLK, XBLK, MAXB, MINS)                                                   \
    CK_INL int CK_FN(matmul_long_##t)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, \
                                      float *y, size_t ys, size_t r0, size_t r1, size_t cols) {         \
        (void)w, (void)rs, (void)xq, (void)xstride, (void)nvec, (void)y, (void)ys, (void)r0, (void)r1, (void)cols; \
        return 0;                                                                                       \
    }
#endif
CK_DEFINE_R16L(q4_K, CK_QKK, block_q4_K, block_q8_K, CK_R16P_MAX_BLOCKS, 1)
CK_DEFINE_R16L(q4_0, CK_QK4_0, block_q4_0, block_q8_0, CK_R16P0_MAX_BLOCKS, 0)

// Small batches (up to CK_R16T_MAX_BATCH columns, one column pass): each group of 16 rows repacked block
// by block as it is used (r16t), prefetching the next group, or 0 (nothing done) when it does not apply.
#ifndef CK_R16T_MAX_BATCH
#define CK_R16T_MAX_BATCH 8
#endif
#if CK_VNNI
#define CK_DEFINE_R16T(t, QB)                                                                           \
    CK_INL int CK_FN(matmul_small_##t)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, \
                                       float *y, size_t ys, size_t r0, size_t r1, size_t cols) {        \
        const size_t nb = cols / (QB);                                                                  \
        if (nvec < 2 || nvec > CK_R16T_MAX_BATCH || nvec > 8 || nb == 0) return 0;                      \
        const void *xs[8];                                                                              \
        for (size_t c = 0; c < nvec; ++c) xs[c] = (const char *)xq + c * xstride;                       \
        for (size_t r = r0; r < r1; r += 16) {                                                          \
            const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;                                            \
            const __mmask16 m = (__mmask16)((1u << nv) - 1);                                            \
            const size_t ahead = r + 16 * CK_R16_PF_GROUPS;                                            \
            const char *pf = CK_R16_PF_GROUPS > 0 && ahead < r1 ? (const char *)w + ahead * rs : NULL;  \
            const char *g0 = (const char *)w + r * rs;                                                  \
            __m512 o[8];                                                                                \
            switch (nvec) {                                                                             \
            case 8: CK_FN(r16t_##t)(8, nb, g0, rs, nv, xs, o, pf); break;                               \
            case 7: CK_FN(r16t_##t)(7, nb, g0, rs, nv, xs, o, pf); break;                               \
            case 6: CK_FN(r16t_##t)(6, nb, g0, rs, nv, xs, o, pf); break;                               \
            case 5: CK_FN(r16t_##t)(5, nb, g0, rs, nv, xs, o, pf); break;                               \
            case 4: CK_FN(r16t_##t)(4, nb, g0, rs, nv, xs, o, pf); break;                               \
            case 3: CK_FN(r16t_##t)(3, nb, g0, rs, nv, xs, o, pf); break;                               \
            default: CK_FN(r16t_##t)(2, nb, g0, rs, nv, xs, o, pf); break;                              \
            }                                                                                           \
            for (size_t c = 0; c < nvec; ++c) _mm512_mask_storeu_ps(y + c * ys + r, m, o[c]);           \
        }                                                                                               \
        return 1;                                                                                       \
    }
#else
#define CK_DEFINE_R16T(t, QB)                                                                           \
    CK_INL int CK_FN(matmul_small_##t)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, \
                                       float *y, size_t ys, size_t r0, size_t r1, size_t cols) {        \
        (void)w, (void)rs, (void)xq, (void)xstride, (void)nvec, (void)y, (void)ys, (void)r0, (void)r1, (void)cols; \
        return 0;                                                                                       \
    }
#endif
CK_DEFINE_R16T(q4_K, CK_QKK)
#if CK_VNNI
CK_INL int CK_FN(matmul_small_q4_0)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec, float *y,
                                    size_t ys, size_t r0, size_t r1, size_t cols) {
    if (nvec > CK_Q40S_MAX_COLUMNS) return 0;
    return CK_FN(q40s_rows)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols);
}
#else
CK_DEFINE_R16T(q4_0, CK_QK4_0)
#endif
