// ck_x86_512_shared.h — Q8_0 and Q5_0 mat-vec / mat-mat on 512 bits with each activation block's share
// made once per call. Included by ck_x86_512.h (uses its helpers and its mk2 kernels as fallbacks).
//
// The mk2 kernels above redo, per row pair and column, what depends on the activation block alone:
// its f16 scale (a conversion and a scalar multiply per row), and for Q5_0 the offset term (a second
// dpbusd per block). A mat-mat multiplies every weight row by the same activation blocks, so here those
// shares are made once per call, as the 256-bit kernels' *_shared drivers do:
//   - dx[j * nb + b]: activation block b of vector j's scale as f32;
//   - off[j * nb + b]: the 8 int32 lanes the block's integer sums start from, the offset taken off in
//     advance: Q5_0 -16·Σ4 a (its weights stay unsigned 0..31), and with VNNI Q8_0 -128·Σ4 a, so the
//     signed Q8_0 weight meets vpdpbusd as w + 128 (one xor per pair instead of a sign flip of the
//     activations per pair and column: vpdpbusd has no intermediate saturation, so Σ(w + 128)·a is
//     exact; without VNNI vpmaddubsw would saturate and the mk2 kernel's |w| / sign(w)·a stays).
// The pair's two scales become one vector once per block (lanes 0..7 row 0, 8..15 row 1), and each
// column's block scale product is one vmulps: dw * dx rounded once, as llama.cpp's scalar product. The
// integers are the same and so is each (row, column) pair's 8-lane FMA chain, hence the same bits as
// mk2_q8_0 / mk2_q5_0 (the C tests compare both with the scalar reference).
//
// Per row pair, block and column that leaves vpdpbusd (its start and the broadcast activation come
// from memory), vcvtdq2ps, vfmadd and the pair's lanes of the column's scale products (one vmulps per
// column and block for the step's rows, see quad_scales), where mk2 had 7 to 9. With VNNI, mat-mats of
// 4 columns or more take the lane-per-row kernel (ck_x86_512_r16s.h) instead. The mat-mat
// takes two row pairs per step, so each column's broadcasts (the activation, the offset: a load and a
// shuffle each on Zen 4) serve four rows: in cache, 4 columns, 0.61 -> 0.57 ns per row block and
// column (Q8_0), 0.65 -> 0.62 (Q5_0); Qwen2.5 0.5B (mostly Q5_0) decoding 4 streams at 2 threads,
// alternated: 119 -> 153 tokens/s aggregate.

#ifndef CK_SHARE_BYTES  // the C tests lower it, to reach the chunks and the fallbacks
#define CK_SHARE_BYTES (96 * 1024)
#endif

// The block scales of rows 0..3 (of a step's one or two pairs), each in one 128-bit chunk: lanes 4r..4r+3
// = d_r (one vcvtph2ps, one vpermps). Times a column's scale that is every row's d_w·d_a, rounded once as
// llama.cpp's scalar product, for one vmulps per column and block whatever the rows; a pair's 8 + 8
// lanes are then one vshuff32x4 of it (off the multiply ports, which vpdpbusd and the FMA keep busy).
CK_INL __m512 CK_FN(quad_scales)(const void *d0, const void *d1, const void *d2, const void *d3) {
    __m128i v = _mm_cvtsi64_si128((long long)((uint64_t)ck_load_u16(d0) | ((uint64_t)ck_load_u16(d1) << 16) |
                                              ((uint64_t)ck_load_u16(d2) << 32) | ((uint64_t)ck_load_u16(d3) << 48)));
    __asm__("" : "+x"(v));  // as h2f: build the register in full
    const __m512 f = _mm512_castps128_ps512(_mm_cvtph_ps(v));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), f);
}

// The shares of activation vectors j0..j1 (block b of vector j at (j - j0) * nb + b). OFFSET: the
// byte vector whose vpdpbusd with the activations gives the offset term (Q5_0 16, Q8_0 0x80).
CK_INL void CK_FN(make_shares)(const void *xq, size_t xstride, size_t j0, size_t j1, size_t nb, uint8_t offset,
                               __m256i *off, float *dx) {
    const __m256i o = _mm256_set1_epi8((char)offset);
    for (size_t j = j0; j < j1; ++j) {
        const block_q8_0 *x = (const block_q8_0 *)((const char *)xq + j * xstride);
        for (size_t b = 0; b < nb; ++b) {
            const __m256i y = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const __m256i t = _mm256_madd_epi16(_mm256_maddubs_epi16(o, y), _mm256_set1_epi16(1));
            off[(j - j0) * nb + b] = _mm256_sub_epi32(_mm256_setzero_si256(), t);
            dx[(j - j0) * nb + b] = CK_FN(h2f)(&x[b].d);
        }
    }
}

// np (1..2) row pairs (w[2p], w[2p+1]) times nc columns whose shares are off/dx + c * nb; out[2p + 0/1][c] as
// mk2. PAIR makes `wu`, the pair's weights as the unsigned operand (block w0 in the low 256 bits).
#define CK_MK2S(t, BLK, PAIR)                                                                           \
    CK_INL void CK_FN(mk2s_##t)(int np, int nc, size_t nb, const BLK *const *w, const void *const *xv,   \
                                const __m256i *off, const float *dx, float out[8][4], const char *pf) {  \
        const block_q8_0 *x[4];                                                                         \
        __m512 acc[2][4];                                                                               \
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) x[c] = xv[c];                              \
        _Pragma("GCC unroll 4") for (int p = 0; p < np; ++p) {                                          \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) acc[p][c] = _mm512_setzero_ps();       \
        }                                                                                               \
        for (size_t b = 0; b < nb; ++b) {                                                               \
            CK_FN(pairs_prefetch)(pf, b, (size_t)(np * 2) * sizeof(BLK));                              \
            __m512i wus[2];                                                                             \
            _Pragma("GCC unroll 4") for (int p = 0; p < np; ++p) {                                      \
                const BLK *w0 = &w[2 * p][b], *w1 = &w[2 * p + 1][b];                                   \
                PAIR;                                                                                   \
                wus[p] = wu;                                                                            \
            }                                                                                           \
            const __m512 dw4 = CK_FN(quad_scales)(&w[0][b].d, &w[1][b].d, &w[np > 1 ? 2 : 0][b].d,       \
                                                  &w[np > 1 ? 3 : 1][b].d);                             \
            /* Each column's broadcasts and scale products serve every pair. */                         \
            _Pragma("GCC unroll 4") for (int c = 0; c < nc; ++c) {                                      \
                const size_t s = (size_t)c * nb + b;                                                    \
                const __m512i y = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x[c][b].qs)); \
                const __m512i o = _mm512_broadcast_i64x4(off[s]);                                       \
                const __m512 d4 = _mm512_mul_ps(dw4, _mm512_set1_ps(dx[s]));                            \
                _Pragma("GCC unroll 4") for (int p = 0; p < np; ++p) {                                  \
                    const __m512i is = CK_FN(dpbusd)(o, wus[p], y);                                     \
                    const __m512 d = p == 0 ? _mm512_shuffle_f32x4(d4, d4, _MM_SHUFFLE(1, 1, 0, 0))     \
                                            : _mm512_shuffle_f32x4(d4, d4, _MM_SHUFFLE(3, 3, 2, 2));    \
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
    }

#if CK_VNNI
CK_MK2S(q8_0, block_q8_0,
        const __m512i wu = _mm512_xor_si512(CK_FN(load2x256)(w0->qs, w1->qs), _mm512_set1_epi8((char)0x80)))
#endif
CK_MK2S(q5_0, block_q5_0,
        const __mmask64 hm = _cvtu64_mask64((uint64_t)ck_load_u32(w0->qh) | ((uint64_t)ck_load_u32(w1->qh) << 32));
        const __m512i wu = _mm512_or_si512(CK_FN(nibbles2x32)(w0->qs, w1->qs), _mm512_maskz_mov_epi8(hm, _mm512_set1_epi8(0x10))))

// The shared mat-vec and mat-mat drivers of type t (offset byte OFS); rows too long for the shares of
// one vector (mat-vec) or four (mat-mat) take the mk2 drivers.
#define CK_DEFINE_SHARED(t, BLK, QB, OFS)                                                               \
    static CK_TGT void CK_FN(matvec_##t##_shared)(const void *w, size_t rs, const void *xq, float *y,   \
                                                  size_t r0, size_t r1, size_t cols) {                 \
        const size_t nb = cols / (QB);                                                                  \
        if (nb == 0 || nb * (sizeof(float) + sizeof(__m256i)) > CK_SHARE_BYTES) {                       \
            CK_FN(matvec_##t)(w, rs, xq, y, r0, r1, cols);                                              \
            return;                                                                                     \
        }                                                                                               \
        __m256i off[CK_SHARE_BYTES / sizeof(__m256i) + 1];                                              \
        float dx[CK_SHARE_BYTES / sizeof(float) / 8 + 4];                                               \
        CK_FN(make_shares)(xq, 0, 0, 1, nb, (OFS), off, dx);                                            \
        const void *xs[1] = {xq};                                                                       \
        const BLK *rows[8];                                                                             \
        float o[8][4];                                                                                  \
        size_t r = r0;                                                                                  \
        for (; r + 2 * CK_Q8_MV_PAIRS <= r1; r += 2 * CK_Q8_MV_PAIRS) {                                 \
            _Pragma("GCC unroll 8") for (int i = 0; i < 2 * CK_Q8_MV_PAIRS; ++i) {                      \
                rows[i] = (const void *)((const char *)w + (r + i) * rs);                               \
            }                                                                                           \
            CK_FN(mk2s_##t)(CK_Q8_MV_PAIRS, 1, nb, rows, xs, off, dx, o,                                \
                            (const char *)w + (r + 2 * CK_Q8_MV_PAIRS) * rs);                           \
            _Pragma("GCC unroll 8") for (int i = 0; i < 2 * CK_Q8_MV_PAIRS; ++i) y[r + i] = o[i][0];    \
        }                                                                                               \
        for (; r < r1; r += 2) {                                                                        \
            rows[0] = (const void *)((const char *)w + r * rs);                                         \
            rows[1] = r + 1 < r1 ? (const void *)((const char *)w + (r + 1) * rs) : rows[0];            \
            CK_FN(mk2s_##t)(1, 1, nb, rows, xs, off, dx, o, NULL);                                      \
            y[r] = o[0][0];                                                                             \
            if (r + 1 < r1) y[r + 1] = o[1][0];                                                         \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    /* The shares of as many vectors as fit CK_SHARE_BYTES, then row tiles of CK_MM_ROW_TILE as in the */ \
    /* template; inside a tile, every group of up to 4 of those vectors times each row pair.           */ \
    static CK_TGT void CK_FN(matmul_##t##_shared)(const void *w, size_t rs, const void *xq, size_t xstride, \
                                                  size_t nvec, float *y, size_t ys, size_t r0, size_t r1, \
                                                  size_t cols) {                                        \
        const size_t nb = cols / (QB);                                                                  \
        const size_t per = nb * (sizeof(float) + sizeof(__m256i));                                      \
        size_t batch = per ? CK_SHARE_BYTES / per / 4 * 4 : 0;                                          \
        if (batch < 4) {                                                                                \
            CK_FN(matmul_##t)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols);                           \
            return;                                                                                     \
        }                                                                                               \
        if (batch > nvec) batch = nvec;                                                                 \
        __m256i off[CK_SHARE_BYTES / sizeof(__m256i) + 1];                                              \
        float dx[CK_SHARE_BYTES / sizeof(float) / 8 + 4];                                               \
        for (size_t j0 = 0; j0 < nvec; j0 += batch) {                                                   \
            const size_t j1 = j0 + batch < nvec ? j0 + batch : nvec;                                    \
            CK_FN(make_shares)(xq, xstride, j0, j1, nb, (OFS), off, dx);                                \
            for (size_t t0 = r0; t0 < r1; t0 += CK_MM_ROW_TILE) {                                       \
                const size_t t1 = t0 + CK_MM_ROW_TILE < r1 ? t0 + CK_MM_ROW_TILE : r1;                  \
                for (size_t g = j0; g < j1; g += 4) {                                                   \
                    const size_t nc = j1 - g < 4 ? j1 - g : 4;                                          \
                    const void *xs[4];                                                                  \
                    for (size_t c = 0; c < nc; ++c) xs[c] = (const char *)xq + (g + c) * xstride;      \
                    const __m256i *go = off + (g - j0) * nb;                                            \
                    const float *gx = dx + (g - j0) * nb;                                               \
                    /* Two row pairs at a time where the tile has them: the column's activation  */ \
                    /* broadcasts serve both (in cache, Zen 4, 4 columns: 1.37x one pair).         */ \
                    for (size_t r = t0; r < t1;) {                                                      \
                        const int np = r + 3 < t1 ? 2 : 1;                                              \
                        const BLK *rows[4];                                                             \
                        for (int i = 0; i < 2 * np; ++i) {                                              \
                            const size_t ri = r + (size_t)i < t1 ? r + (size_t)i : t1 - 1;              \
                            rows[i] = (const void *)((const char *)w + ri * rs);                        \
                        }                                                                               \
                        float o[8][4];                                                                  \
                        /* The first column pass streams the weights: prefetch the next rows (L2). */   \
                        const char *pf = g == j0 ? (const char *)w + (r + 2 * (size_t)np) * rs : NULL;  \
                        if (np == 2) {                                                                  \
                            switch (nc) {                                                               \
                            case 4: CK_FN(mk2s_##t)(2, 4, nb, rows, xs, go, gx, o, pf); break;          \
                            case 3: CK_FN(mk2s_##t)(2, 3, nb, rows, xs, go, gx, o, pf); break;          \
                            case 2: CK_FN(mk2s_##t)(2, 2, nb, rows, xs, go, gx, o, pf); break;          \
                            default: CK_FN(mk2s_##t)(2, 1, nb, rows, xs, go, gx, o, pf); break;         \
                            }                                                                           \
                        } else {                                                                        \
                            switch (nc) {                                                               \
                            case 4: CK_FN(mk2s_##t)(1, 4, nb, rows, xs, go, gx, o, pf); break;          \
                            case 3: CK_FN(mk2s_##t)(1, 3, nb, rows, xs, go, gx, o, pf); break;          \
                            case 2: CK_FN(mk2s_##t)(1, 2, nb, rows, xs, go, gx, o, pf); break;          \
                            default: CK_FN(mk2s_##t)(1, 1, nb, rows, xs, go, gx, o, pf); break;         \
                            }                                                                           \
                        }                                                                               \
                        for (int i = 0; i < 2 * np && r + (size_t)i < t1; ++i) {                        \
                            for (size_t c = 0; c < nc; ++c) y[(g + c) * ys + r + (size_t)i] = o[i][c];  \
                        }                                                                               \
                        r += 2 * (size_t)np;                                                            \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

#if CK_VNNI
CK_DEFINE_SHARED(q8_0, block_q8_0, CK_QK8_0, 0x80)
#endif
CK_DEFINE_SHARED(q5_0, block_q5_0, CK_QK5_0, 16)
