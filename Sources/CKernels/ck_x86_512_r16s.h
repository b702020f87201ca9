// ck_x86_512_r16s.h — Q8_0 and Q5_0 mat-mats (2 or more columns) on AVX-512 VNNI with 16 rows repacked
// lane per row. Included by ck_x86_512.h after ck_x86_512_rows16.h (uses its transposes, row pointers and
// prefetch) and ck_x86_512_shared.h (its activation shares, and its kernels as the fallback).
//
// llama.cpp's Q8_0 / Q5_0 dot keeps 8 float lanes per (row, column): lane t sums, block by block,
// fma(d_w·d_a, (float)Σ_{4 elements 4t..4t+3} w·a, lane t), and the 8 are added at the end by
// hsum_float_8's tree. The shared kernel puts two rows' 8 lanes in one zmm, so each block, row pair and
// column costs a vpdpbusd, a vcvtdq2ps, a vfmadd and the pair's scale product: with a column's
// broadcasts, ~5.5 instructions per 64 products, three of them on the multiply ports. Here a group of 16
// rows is repacked by dword transposes (lane i = row i's elements 4t..4t+3 as unsigned bytes: Q8_0's
// w + 128, Q5_0's 0..31) a chunk of blocks at a time, so one vpdpbusd against the column's broadcast
// dword t makes lane t of 16 rows at once, and the scale product d_w·d_a of 16 rows is one vmulps per
// block and column: 8 vpdpbusd, 8 vcvtdq2ps, 8 FMAs and 1 vmulps per 16 rows, block and column, the
// offset (-128·Σ4 a or -16·Σ4 a per lane t, shared by every row) loaded as the vpdpbusd's start. The
// integers, every lane's FMA chain and the closing tree are the shared kernel's: the same bits.
//
// A column's 8 lanes for 16 rows are 8 zmm, so a pass holds two columns in registers; the chunk's
// repack (in L1) serves every pair of columns, and the lanes of all the batch's columns wait in memory
// between chunks.
#if CK_VNNI

#ifndef CK_R16S_CHUNK  // blocks repacked at a time (576 bytes each); the C tests lower it
#define CK_R16S_CHUNK 32
#endif
// Batches of up to 8 columns (decode, verification) take chunks of 8 blocks: the weights are read only while
// a chunk is repacked, and with 32-block chunks the memory sat idle through long column walks. Streaming 512
// MiB at 2 threads on Zen 4, Q8_0 4 columns over the mat-vec, 4 alternated runs: 32 blocks 1.48-1.77x, 8
// blocks 1.20-1.30x (except one 1.76x); in cache 8 blocks cost ~3% at 32 columns, nothing at 4 or 8.
#ifndef CK_R16S_SMALL_CHUNK
#define CK_R16S_SMALL_CHUNK (CK_R16S_CHUNK < 8 ? CK_R16S_CHUNK : 8)
#endif
#define CK_R16S_MAX_COLUMNS 32  // columns per share pass (their lanes: 16 KiB on the stack)
// The smallest batch that takes it: the repack (two or three 16 x 4 transposes per block and 16 rows)
// pays from 4 columns. In cache, 128 rows x 4096, 1 thread, Zen 4, ns per row block and column, shared
// kernel vs this: Q8_0 2 columns 0.70 vs 0.77, 4 0.59 vs 0.54, 8 0.59 vs 0.42, 32 0.60 vs 0.37; Q5_0
// 2 0.70 vs 0.89, 4 0.61 vs 0.51, 8 0.61 vs 0.41, 32 0.61 vs 0.36.
#ifndef CK_R16S_MIN_BATCH
#define CK_R16S_MIN_BATCH 4
#endif

typedef struct {
    __m512i q[8];  // dword t: lane i = row i's elements 4t..4t+3, unsigned
    __m512 dw;     // d, lane per row
} CK_FN(r16s_block);

// The 16 rows' f16 scales d (the first two bytes of each block at p[i]) as floats, lane per row.
CK_INL __m512 CK_FN(r16s_scales)(const char *const p[16]) {
    __m512i h[4];
    CK_FN(transpose16x4)(p, h);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h[0]));
}

// Block b of the 16 rows rp: Q8_0's signed weights made unsigned (w + 128) after the transposes.
CK_INL void CK_FN(r16s_pack_q8_0)(const char *const rp[16], size_t b, CK_FN(r16s_block) *out) {
    const char *bp[16], *qp[16], *qp2[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) {
        bp[i] = rp[i] + b * sizeof(block_q8_0);
        qp[i] = bp[i] + offsetof(block_q8_0, qs);
        qp2[i] = qp[i] + 16;
    }
    CK_FN(transpose16x4)(qp, out->q);
    CK_FN(transpose16x4)(qp2, out->q + 4);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    _Pragma("GCC unroll 8") for (int t = 0; t < 8; ++t) out->q[t] = _mm512_xor_si512(out->q[t], flip);
    out->dw = CK_FN(r16s_scales)(bp);
}

// Block b of the 16 rows rp, unpacked lane per row: one 16 x 4 transpose of the block heads (d, qh: dword 0
// = d | qh low half, dword 1 = qh high half | qs) and one of the nibbles; dword t takes the low nibbles of
// qs dword t (t < 4) or the high ones of dword t - 4, and bits 4t..4t+3 of qh as 16 in its 4 bytes.
CK_INL void CK_FN(r16s_pack_q5_0)(const char *const rp[16], size_t b, CK_FN(r16s_block) *out) {
    const char *bp[16], *qp[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) {
        bp[i] = rp[i] + b * sizeof(block_q5_0);
        qp[i] = bp[i] + offsetof(block_q5_0, qs);
    }
    __m512i hd[4], qs[4];
    CK_FN(transpose16x4)(bp, hd);
    CK_FN(transpose16x4)(qp, qs);
    out->dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hd[0]));
    const __m512i qh = _mm512_or_si512(_mm512_srli_epi32(hd[0], 16), _mm512_slli_epi32(hd[1], 16));
    const __m512i m4 = _mm512_set1_epi8(0x0F), b16 = _mm512_set1_epi8(0x10);
    // Each dword's byte 0 to all four, then byte k keeps bit k.
    const __m512i spread = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12));
    const __m512i bits = _mm512_set1_epi32(0x08040201);
    _Pragma("GCC unroll 8") for (int t = 0; t < 8; ++t) {
        const __m512i q = t < 4 ? _mm512_and_si512(qs[t], m4) : _mm512_and_si512(_mm512_srli_epi16(qs[t - 4], 4), m4);
        const __m512i h = _mm512_shuffle_epi8(_mm512_srli_epi32(qh, 4 * t), spread);
        out->q[t] = _mm512_or_si512(q, _mm512_maskz_mov_epi8(_mm512_test_epi8_mask(h, bits), b16));
    }
}

// kn repacked blocks times nc (1..2) columns (x, off, dx: each column's first block of the chunk and its
// shares), continuing the lanes acc[c][t].
CK_INL void CK_FN(r16s_walk)(int nc, size_t kn, const CK_FN(r16s_block) *pk, const block_q8_0 *const x[2],
                             const __m256i *const off[2], const float *const dx[2], __m512 acc[][8]) {
    __m512 a[2][8];
    _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
        _Pragma("GCC unroll 8") for (int t = 0; t < 8; ++t) a[c][t] = acc[c][t];
    }
    for (size_t b = 0; b < kn; ++b) {
        _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
            const __m512 d = _mm512_mul_ps(pk[b].dw, _mm512_set1_ps(dx[c][b]));
            const int32_t *o = (const int32_t *)(const void *)&off[c][b];
            const int8_t *aq = x[c][b].qs;
            _Pragma("GCC unroll 8") for (int t = 0; t < 8; ++t) {
                const __m512i is = _mm512_dpbusd_epi32(_mm512_set1_epi32(o[t]), pk[b].q[t],
                                                       _mm512_set1_epi32((int)ck_load_u32(aq + 4 * t)));
                a[c][t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(is), a[c][t]);
            }
        }
    }
    _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
        _Pragma("GCC unroll 8") for (int t = 0; t < 8; ++t) acc[c][t] = a[c][t];
    }
}

// hsum_float_8's tree over the 8 lanes, for 16 rows at once: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
CK_INL __m512 CK_FN(r16s_close)(const __m512 l[8]) {
    const __m512 s0 = _mm512_add_ps(l[0], l[4]), s1 = _mm512_add_ps(l[1], l[5]);
    const __m512 s2 = _mm512_add_ps(l[2], l[6]), s3 = _mm512_add_ps(l[3], l[7]);
    return _mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3));
}

// The driver of type t (block BLK, offset byte OFS): batches of columns whose shares fit CK_SHARE_BYTES;
// per group of 16 rows, chunks of CK_R16S_CHUNK blocks repacked, each walked by the batch's columns two
// at a time. Fewer columns than CK_R16S_MIN_BATCH, or too few columns' shares in CK_SHARE_BYTES, take the
// shared kernel.
#define CK_DEFINE_R16S(t, BLK, QB, OFS)                                                                 \
    static CK_TGT void CK_FN(matmul_##t##_r16s)(const void *w, size_t rs, const void *xq, size_t xstride, \
                                                size_t nvec, float *y, size_t ys, size_t r0, size_t r1, \
                                                size_t cols) {                                          \
        const size_t nb = cols / (QB);                                                                  \
        const size_t per = nb * (sizeof(float) + sizeof(__m256i));                                      \
        size_t batch = per ? CK_SHARE_BYTES / per : 0;                                                  \
        if (batch > CK_R16S_MAX_COLUMNS) batch = CK_R16S_MAX_COLUMNS;                                   \
        if (nvec < CK_R16S_MIN_BATCH || batch < 2 || rs > CK_R16_MAX_STRIDE) {                          \
            CK_FN(matmul_##t##_shared)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols);                  \
            return;                                                                                     \
        }                                                                                               \
        if (batch > nvec) batch = nvec;                                                                 \
        __m256i off[CK_SHARE_BYTES / sizeof(__m256i) + 1];                                              \
        float dx[CK_SHARE_BYTES / sizeof(float) / 8 + 4];                                               \
        __m512 acc[CK_R16S_MAX_COLUMNS][8];                                                             \
        CK_FN(r16s_block) pk[CK_R16S_CHUNK];                                                            \
        for (size_t j0 = 0; j0 < nvec; j0 += batch) {                                                   \
            const size_t j1 = j0 + batch < nvec ? j0 + batch : nvec, n = j1 - j0;                       \
            CK_FN(make_shares)(xq, xstride, j0, j1, nb, (OFS), off, dx);                                \
            for (size_t r = r0; r < r1; r += 16) {                                                      \
                const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;                                        \
                const char *rp[16];                                                                     \
                CK_FN(group_rows16)((const char *)w + r * rs, rs, nv, rp);                              \
                /* The first batch streams the weights: prefetch the next group (L2). */               \
                const size_t ahead = r + 16 * CK_R16_PF_GROUPS;                                        \
                const char *pf = j0 == 0 && CK_R16_PF_GROUPS > 0 && ahead < r1 ? (const char *)w + ahead * rs : NULL; \
                for (size_t c = 0; c < n; ++c) {                                                        \
                    _Pragma("GCC unroll 8") for (int l = 0; l < 8; ++l) acc[c][l] = _mm512_setzero_ps(); \
                }                                                                                       \
                const size_t chunk = n <= 8 ? CK_R16S_SMALL_CHUNK : CK_R16S_CHUNK;                      \
                for (size_t k0 = 0; k0 < nb; k0 += chunk) {                                            \
                    const size_t kn = nb - k0 < chunk ? nb - k0 : chunk;                                \
                    for (size_t b = 0; b < kn; ++b) {                                                   \
                        CK_FN(r16_prefetch)(pf, k0 + b, sizeof(BLK));                                   \
                        CK_FN(r16s_pack_##t)(rp, k0 + b, &pk[b]);                                       \
                    }                                                                                   \
                    for (size_t c = 0; c < n; c += 2) {                                                 \
                        const block_q8_0 *xs[2];                                                        \
                        const __m256i *os[2];                                                           \
                        const float *ds[2];                                                             \
                        for (size_t i = 0; i < 2 && c + i < n; ++i) {                                   \
                            const char *xc = (const char *)xq + (j0 + c + i) * xstride;                 \
                            xs[i] = (const block_q8_0 *)(const void *)xc + k0;                          \
                            os[i] = off + (c + i) * nb + k0;                                            \
                            ds[i] = dx + (c + i) * nb + k0;                                             \
                        }                                                                               \
                        if (c + 1 < n) CK_FN(r16s_walk)(2, kn, pk, xs, os, ds, &acc[c]);                \
                        else CK_FN(r16s_walk)(1, kn, pk, xs, os, ds, &acc[c]);                          \
                    }                                                                                   \
                }                                                                                       \
                const __mmask16 m = (__mmask16)((1u << nv) - 1);                                        \
                for (size_t c = 0; c < n; ++c) {                                                        \
                    _mm512_mask_storeu_ps(y + (j0 + c) * ys + r, m, CK_FN(r16s_close)(acc[c]));         \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

CK_DEFINE_R16S(q8_0, block_q8_0, CK_QK8_0, 0x80)
CK_DEFINE_R16S(q5_0, block_q5_0, CK_QK5_0, 16)

#endif  // CK_VNNI
