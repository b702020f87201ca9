// ck_x86_512_q6k.h — Q6_K prefill on AVX-512 VNNI: 16 rows repacked, lanes = rows. Included by
// ck_x86_512.h after its Q6_K kernels (uses their helpers).
//
// llama.cpp's Q6_K order (mk_q6_K) keeps 8 int32 lanes per (row, column) and super-block: lane l sums
// q·scale·a over elements 32k + 4l .. 32k + 4l + 3 of the 8 chunks k (q unsigned, 0..63), minus
// 32·(bsum_2l·scale_2l + bsum_2l+1·scale_2l+1); each lane is converted and FMAed with d_w·d_a into its
// own float accumulator, and the 8 are summed at the end as hsum_float_8 does. Here a group of 16 rows
// is repacked once per call into stack scratch as int16 pairs q·scale (|q·scale| <= 63·128), lane per
// row, so each (chunk, lane l) takes two vpdpwssd against broadcast int16 activation pairs, and the 8
// lanes l live in 8 zmm (lane i = row i) per column: the same integers, the same float chain, the same
// tree at the end.
#if CK_VNNI

#define CK_R16P6_MAX_BLOCKS 40  // 10240 columns: ~330 KiB of scratch; longer rows take the mat-mat above
#ifndef CK_R16P6_MIN_BATCH
// The repack costs: in cache, 128 rows x 4096, 1 thread, Zen 4, us repacked (by transposes) vs the
// per-row kernel: batch 8 71 vs 68, 32 211 vs 271 (with gathers it paid only from 48: 32 288 vs 271).
#define CK_R16P6_MIN_BATCH 12
#endif

typedef struct {
    __m512i w[8][8][2];  // [chunk k][lane l][half h]: lane i = row i's (q·sc) int16 pair for elements 32k+4l+2h, +1
    __m512i sp[8];       // [l]: lane i = row i's (scale_2l, scale_2l+1) int16 pair
    __m512 dw;           // d, lane per row
} CK_FN(r16p6_block);

// Repacks block b of the 16 rows (pointers to each row's first block): each row unpacked to bytes in
// element order, then 16 x 16 dword transposes (lane i = row i's 4 bytes 32k + 4l .. +3), where the
// scales come from one 16 x 4 transpose of the rows' 16 scale bytes (vpgatherdd, 136 per block and group
// before, is slow on Zen 4: the repack cost more than 60 columns' multiplies).
CK_INL void CK_FN(r16p6_pack)(const block_q6_K *const rows[16], size_t b, CK_FN(r16p6_block) *out) {
    uint8_t q[16][256];  // unsigned 6-bit values, row by row, in element order
    _Pragma("GCC unroll 1") for (int i = 0; i < 16; ++i) {
        __m512i v[4];
        CK_FN(q6_K_unpack)(&rows[i][b], v);
        _Pragma("GCC unroll 4") for (int p = 0; p < 4; ++p) _mm512_storeu_si512((void *)(q[i] + 64 * p), v[p]);
    }
    // h[j] lane i = row i's scale bytes 4j .. 4j + 3 (group g = 4j + byte).
    const char *sp[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) sp[i] = (const char *)rows[i][b].scales;
    __m512i h[4];
    CK_FN(transpose16x4)(sp, h);
    // The int16 pair (scale g, scale g) per lane: byte g % 4 of h[g / 4] into both words' low bytes,
    // then sign-extended.
    __m512i s[16];
    _Pragma("GCC unroll 16") for (int g = 0; g < 16; ++g) {
        const char o = (char)(g % 4);
        const __m512i pick = _mm512_broadcast_i32x4(_mm_setr_epi8(o, -128, o, -128, (char)(o + 4), -128, (char)(o + 4), -128,
                                                                  (char)(o + 8), -128, (char)(o + 8), -128, (char)(o + 12), -128,
                                                                  (char)(o + 12), -128));
        s[g] = _mm512_srai_epi16(_mm512_slli_epi16(_mm512_shuffle_epi8(h[g / 4], pick), 8), 8);
    }
    // Within each dword (4 bytes e..e+3): half 0 -> int16 (e, e+1), half 1 -> (e+2, e+3).
    const __m512i lo = _mm512_broadcast_i32x4(_mm_setr_epi8(0, -128, 1, -128, 4, -128, 5, -128, 8, -128, 9, -128, 12, -128, 13, -128));
    const __m512i hi = _mm512_broadcast_i32x4(_mm_setr_epi8(2, -128, 3, -128, 6, -128, 7, -128, 10, -128, 11, -128, 14, -128, 15, -128));
    _Pragma("GCC unroll 1") for (int p = 0; p < 4; ++p) {
        __m512i r[16], d[16];
        _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512((const void *)(q[i] + 64 * p));
        CK_FN(transpose16)(r, d);  // d[m]: dword 16p + m = elements 32k + 4l .. +3, k = 2p + m / 8, l = m % 8
        _Pragma("GCC unroll 16") for (int m = 0; m < 16; ++m) {
            const int k = 2 * p + m / 8, l = m % 8;
            const __m512i sc = s[2 * k + l / 4];  // the scale of group (32k + 4l) / 16
            out->w[k][l][0] = _mm512_mullo_epi16(_mm512_shuffle_epi8(d[m], lo), sc);
            out->w[k][l][1] = _mm512_mullo_epi16(_mm512_shuffle_epi8(d[m], hi), sc);
        }
    }
    // sp[l] lane i = (scale 2l, scale 2l + 1) of row i, sign-extended int16.
    _Pragma("GCC unroll 8") for (int l = 0; l < 8; ++l) {
        const char o = (char)(2 * (l % 2));
        const __m512i pick = _mm512_broadcast_i32x4(_mm_setr_epi8(o, -128, (char)(o + 1), -128, (char)(o + 4), -128, (char)(o + 5), -128,
                                                                  (char)(o + 8), -128, (char)(o + 9), -128, (char)(o + 12), -128,
                                                                  (char)(o + 13), -128));
        out->sp[l] = _mm512_srai_epi16(_mm512_slli_epi16(_mm512_shuffle_epi8(h[l / 2], pick), 8), 8);
    }
    uint32_t dd[16];
    for (int i = 0; i < 16; ++i) dd[i] = ck_load_u16(&rows[i][b].d);
    out->dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_loadu_si512((const void *)dd)));
}

// The repacked group (nb blocks) times nc (1..2) columns: res[c] lane i = row i times column c.
CK_INL void CK_FN(r16p6_q6_K)(int nc, size_t nb, const CK_FN(r16p6_block) *pk, const void *const *xv, __m512 res[2]) {
    const block_q8_K *x[2];
    __m512 acc[2][8];
    _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        _Pragma("GCC unroll 8") for (int l = 0; l < 8; ++l) acc[c][l] = _mm512_setzero_ps();
    }
    for (size_t b = 0; b < nb; ++b) {
        const CK_FN(r16p6_block) *blk = &pk[b];
        int16_t a16[2][256];
        __m512i is[2][8];
        _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
            _Pragma("GCC unroll 8") for (int j = 0; j < 8; ++j) {
                _mm512_storeu_si512((void *)(a16[c] + 32 * j),
                                    _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(x[c][b].qs + 32 * j))));
            }
            // The offset's share per lane l, from the activation's bsums pairs.
            _Pragma("GCC unroll 8") for (int l = 0; l < 8; ++l) {
                const __m512i o = _mm512_dpwssd_epi32(_mm512_setzero_si512(), blk->sp[l],
                                                      _mm512_set1_epi32((int)ck_load_u32(&x[c][b].bsums[2 * l])));
                is[c][l] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(o, 5));
            }
        }
        _Pragma("GCC unroll 1") for (int k = 0; k < 8; ++k) {
            _Pragma("GCC unroll 8") for (int l = 0; l < 8; ++l) {
                const __m512i w0 = blk->w[k][l][0], w1 = blk->w[k][l][1];
                _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
                    const int16_t *ap = a16[c] + 32 * k + 4 * l;
                    is[c][l] = _mm512_dpwssd_epi32(is[c][l], w0, _mm512_set1_epi32((int)ck_load_u32(ap)));
                    is[c][l] = _mm512_dpwssd_epi32(is[c][l], w1, _mm512_set1_epi32((int)ck_load_u32(ap + 2)));
                }
            }
        }
        _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
            const __m512 d = _mm512_mul_ps(blk->dw, _mm512_set1_ps(ck_load_f32(&x[c][b].d)));
            _Pragma("GCC unroll 8") for (int l = 0; l < 8; ++l) {
                acc[c][l] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(is[c][l]), acc[c][l]);
            }
        }
    }
    // hsum_float_8's tree: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
    _Pragma("GCC unroll 2") for (int c = 0; c < nc; ++c) {
        const __m512 s0 = _mm512_add_ps(acc[c][0], acc[c][4]), s1 = _mm512_add_ps(acc[c][1], acc[c][5]);
        const __m512 s2 = _mm512_add_ps(acc[c][2], acc[c][6]), s3 = _mm512_add_ps(acc[c][3], acc[c][7]);
        res[c] = _mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3));
    }
}

static CK_TGT void CK_FN(matmul_q6_K_r16p)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec,
                                           float *y, size_t ys, size_t r0, size_t r1, size_t cols) {
    const size_t nb = cols / CK_QKK;
    if (nvec < CK_R16P6_MIN_BATCH || nb == 0 || nb > CK_R16P6_MAX_BLOCKS) {
        CK_FN(matmul_q6_K)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols);
        return;
    }
    CK_FN(r16p6_block) pk[CK_R16P6_MAX_BLOCKS];
    for (size_t r = r0; r < r1; r += 16) {
        const int nv = r1 - r < 16 ? (int)(r1 - r) : 16;
        const __mmask16 m = (__mmask16)((1u << nv) - 1);
        const block_q6_K *rows[16];
        for (int i = 0; i < 16; ++i) rows[i] = (const block_q6_K *)((const char *)w + (r + (size_t)(i < nv ? i : nv - 1)) * rs);
        for (size_t b = 0; b < nb; ++b) CK_FN(r16p6_pack)(rows, b, &pk[b]);
        const size_t lines = r + 16 < r1 ? (16 * rs + 63) / 64 : 0, passes = (nvec + 1) / 2;
        for (size_t j0 = 0; j0 < nvec; j0 += 2) {
            const size_t nc = nvec - j0 < 2 ? nvec - j0 : 2;
            for (size_t l = lines * (j0 / 2) / passes; l < lines * (j0 / 2 + 1) / passes; ++l) {
                _mm_prefetch((const char *)w + (r + 16) * rs + 64 * l, _MM_HINT_T1);
            }
            const void *xs[2];
            for (size_t c = 0; c < nc; ++c) xs[c] = (const char *)xq + (j0 + c) * xstride;
            __m512 o[2];
            if (nc == 2) CK_FN(r16p6_q6_K)(2, nb, pk, xs, o);
            else CK_FN(r16p6_q6_K)(1, nb, pk, xs, o);
            for (size_t c = 0; c < nc; ++c) _mm512_mask_storeu_ps(y + (j0 + c) * ys + r, m, o[c]);
        }
    }
}

#endif  // CK_VNNI
