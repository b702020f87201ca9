// ck_x86_256_rows8.h — Q4_0 and Q4_K mat-vec / mat-mat in llama.cpp's x86 summation order, eight
// weight rows at a time, one float lane per row (ymm). Included by ck_x86_256.h (uses its helpers).
//
// The order is the one ck_x86_512_rows16.h describes (llama.cpp's AVX2 gemv kernels
// ggml_gemv_q4_0_8x8_q8_0 / ggml_gemv_q4_K_8x8_q8_K on its repacked 8-row blocks, which an AVX2-only
// build of llama.cpp runs too): per row, per block in order, fma((float)isum, d_w*d_a, acc); Q4_K keeps
// a second chain for the mins and subtracts it at the end. Here the 8 rows' quants (and Q4_K's
// headers) are transposed as they are loaded, so lane i of every vector belongs to row i and each
// row's exact block sum builds up in its lane with no reduction afterwards (see the kernels).

// f16 in the low (hi = 0) or high (hi = 1) half of each int32 lane -> 8 floats.
CK_INL __m256 CK_FN(halves8)(__m256i g, int hi) {
    const __m256i pick = hi ? _mm256_setr_epi8(2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 6, 7,
                                               10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1)
                            : _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 4, 5,
                                               8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i t = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(g, pick), _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_cvtph_ps(_mm256_castsi256_si128(t));
}

// Prefetches one block-step's share (8 blocks of BYTES) of the next group, a linear stream, into L2
// (T1: into L1 it evicted the lines in use; see r16_prefetch in ck_x86_512_rows16.h).
CK_INL void CK_FN(r8_prefetch)(const char *pf, size_t b, size_t bytes) {
    if (!pf) return;
    const char *q = pf + b * 8 * bytes;
    for (size_t k = 0; k < 8 * bytes; k += 64) _mm_prefetch(q + k, _MM_HINT_T1);
}

// 4x4 dword transposes within each 128-bit lane: lane i of out[k] = dword k of in[i] (i < 4) or of
// the high half (i >= 4), for in[i] = [row i | row i + 4] halves.
CK_INL void CK_FN(tr4x4)(const __m256i in[4], __m256i out[4]) {
    const __m256i u0 = _mm256_unpacklo_epi32(in[0], in[1]), u1 = _mm256_unpackhi_epi32(in[0], in[1]);
    const __m256i u2 = _mm256_unpacklo_epi32(in[2], in[3]), u3 = _mm256_unpackhi_epi32(in[2], in[3]);
    out[0] = _mm256_unpacklo_epi64(u0, u2);
    out[1] = _mm256_unpackhi_epi64(u0, u2);
    out[2] = _mm256_unpacklo_epi64(u1, u3);
    out[3] = _mm256_unpackhi_epi64(u1, u3);
}

// MARK: - Q4_0
//
// The 8 rows' nibbles are transposed, not the products: after a 4x4 dword transpose of the rows'
// 16-byte qs, lane i of t[k] holds row i's bytes 4k..4k+3, i.e. elements 4k..4k+3 (low nibbles) and
// 16+4k..16+4k+3 (high nibbles). Each column then needs 8 dpbusd against broadcast 4-byte groups of
// its activations and no reduction: lane i is row i's block sum q·a, from which 8·Σa is taken (the
// same integer as llama.cpp's (q - 8)·a). About as many instructions per row as unpacking one row,
// and each extra column costs only its dpbusd.

// Σ of a block's 32 activation quants, in every lane.
CK_INL __m256i CK_FN(sum_a_all)(const block_q8_0 *a) {
    const __m256i y = _mm256_loadu_si256((const __m256i *)a->qs);
    __m256i s = CK_FN(dpbusd)(_mm256_setzero_si256(), _mm256_set1_epi8(1), y);
    s = _mm256_add_epi32(s, _mm256_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm256_add_epi32(s, _mm256_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm256_add_epi32(s, _mm256_permute2x128_si256(s, s, 0x01));
}

// The most columns one 8-row kernel call multiplies: the rows' unpacking is shared by all of them
// (Q4_K in-cache mat-mat 4.2 -> 3.6 ns per row block and column with 8 instead of 4).
#define CK_R8_MAXC 8

// Σ_k vpmaddubsw(q[k], broadcast 4-byte group k of ya), in int16 (callers bound |sum|), as a tree of
// adds (shorter chains than one running sum).
CK_INL __m256i CK_FN(dot8_bcast)(const __m256i q[8], const int8_t *ya) {
    __m256i m[8];
    _Pragma("GCC unroll 8") for (int k = 0; k < 8; ++k) {
        m[k] = _mm256_maddubs_epi16(q[k], _mm256_set1_epi32((int)ck_load_u32(ya + 4 * k)));
    }
    const __m256i a = _mm256_add_epi16(_mm256_add_epi16(m[0], m[1]), _mm256_add_epi16(m[2], m[3]));
    const __m256i b = _mm256_add_epi16(_mm256_add_epi16(m[4], m[5]), _mm256_add_epi16(m[6], m[7]));
    return _mm256_add_epi16(a, b);
}

// One group of 8 rows (first row w0, stride rs, nvalid valid) times nc columns: res[c] lane i = row
// i times column c.
// sh, when not NULL: per column, CK_R8_Q4_0_WORDS words per activation block (q4_0_shares below),
// made once per call by the drivers (the same integers and floats the kernel would make itself).
CK_INL void CK_FN(r8_q4_0)(int nc, size_t nb, const char *w0, size_t rs, int nvalid, const void *const *xv,
                           const int32_t *const *sh, __m256 res[CK_R8_MAXC], const char *pf) {
    const block_q4_0 *rows[8];
    _Pragma("GCC unroll 8") for (int i = 0; i < 8; ++i) {
        rows[i] = (const block_q4_0 *)(w0 + (size_t)(i < nvalid ? i : nvalid - 1) * rs);
    }
    const block_q8_0 *x[CK_R8_MAXC];
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        res[c] = _mm256_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(r8_prefetch)(pf, b, sizeof(block_q4_0));
        __m256i g[4], t[4];
        _Pragma("GCC unroll 4") for (int i = 0; i < 4; ++i) {
            g[i] = _mm256_loadu2_m128i((const __m128i *)rows[i + 4][b].qs, (const __m128i *)rows[i][b].qs);
        }
        CK_FN(tr4x4)(g, t);
        __m256i q[8];
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) {
            q[k] = _mm256_and_si256(t[k], m4);
            q[k + 4] = _mm256_and_si256(_mm256_srli_epi16(t[k], 4), m4);
        }
        // The 8 rows' scales by scalar loads into one vector (a vpgatherdd costs more on Zen 3).
        const __m256 dw = _mm256_cvtph_ps(_mm_setr_epi16(
            (short)ck_load_u16(&rows[0][b].d), (short)ck_load_u16(&rows[1][b].d), (short)ck_load_u16(&rows[2][b].d),
            (short)ck_load_u16(&rows[3][b].d), (short)ck_load_u16(&rows[4][b].d), (short)ck_load_u16(&rows[5][b].d),
            (short)ck_load_u16(&rows[6][b].d), (short)ck_load_u16(&rows[7][b].d)));
        _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
            const int8_t *ya = x[c][b].qs;
            const __m256i off = sh ? _mm256_set1_epi32(sh[c][2 * b]) : _mm256_slli_epi32(CK_FN(sum_a_all)(&x[c][b]), 3);
#if CK_VNNI
            __m256i is = _mm256_sub_epi32(_mm256_setzero_si256(), off);
            _Pragma("GCC unroll 8") for (int k = 0; k < 8; ++k) {
                is = CK_FN(dpbusd)(is, q[k], _mm256_set1_epi32((int)ck_load_u32(ya + 4 * k)));
            }
#else
            // Without VNNI the 8 vpmaddubsw results are summed in int16 (each |pair| <= 2*15*127, so
            // |sum| <= 30480) and widened by one vpmaddwd: 17 instructions instead of 24.
            const __m256i p16 = CK_FN(dot8_bcast)(q, ya);
            const __m256i is = _mm256_sub_epi32(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)), off);
#endif
            const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(sh ? ck_load_f32(&sh[c][2 * b + 1]) : CK_FN(h2f)(&x[c][b].d)));
            res[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), d, res[c]);
        }
    }
}

// MARK: - Q4_K

// Activation side of the mins (as in ck_x86_512_rows16.h): bp[k] broadcasts the int16 pairs
// (bp0,bp2), (bp1,bp3), (bp4,bp6), (bp5,bp7) of bsum pair sums, matching the weight-side pairs of mins.
// k4_bsum_words: the four 32-bit words bp[k] broadcasts, in order.
CK_INL __m128i CK_FN(k4_bsum_words)(const block_q8_K *a) {
    const __m256i bs = _mm256_loadu_si256((const __m256i *)a->bsums);
    const __m128i p = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));  // bp0..bp7
    return _mm_shuffle_epi8(p, _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15));
}

CK_INL void CK_FN(k4_bsum_pairs)(const block_q8_K *a, __m256i bp[4]) {
    const __m128i p = CK_FN(k4_bsum_words)(a);
    bp[0] = _mm256_broadcastd_epi32(p);
    bp[1] = _mm256_broadcastd_epi32(_mm_shuffle_epi32(p, 1));
    bp[2] = _mm256_broadcastd_epi32(_mm_shuffle_epi32(p, 2));
    bp[3] = _mm256_broadcastd_epi32(_mm_shuffle_epi32(p, 3));
}

// As Q4_0 above, the 8 rows' nibbles are transposed rather than the products: per 32-byte chunk of
// qs (sub-blocks 2p and 2p+1), lane i of t[k] holds row i's bytes 4k..4k+3. A column's sub-block
// sum is 8 vpmaddubsw against broadcast 4-byte groups of its activations, summed in int16 (each
// |pair| <= 2*15*127, |sum| <= 30480) and scaled by vpmaddwd with lane i = row i's 6-bit scale:
// the same integers as the per-row code, and no reduction. sh, when not NULL: per column, the
// CK_R8_Q4_K_WORDS bsum pair words of each activation block (q4_K_shares below), made once per call.
CK_INL void CK_FN(r8_q4_K)(int nc, size_t nb, const char *w0, size_t rs, int nvalid, const void *const *xv,
                           const int32_t *const *sh, __m256 res[CK_R8_MAXC], const char *pf) {
    const block_q4_K *rows[8];
    _Pragma("GCC unroll 8") for (int i = 0; i < 8; ++i) {
        rows[i] = (const block_q4_K *)(w0 + (size_t)(i < nvalid ? i : nvalid - 1) * rs);
    }
    const block_q8_K *x[CK_R8_MAXC];
    __m256 accm[CK_R8_MAXC];
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
        x[c] = xv[c];
        res[c] = _mm256_setzero_ps();
        accm[c] = _mm256_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (size_t b = 0; b < nb; ++b) {
        CK_FN(r8_prefetch)(pf, b, sizeof(block_q4_K));
        // The 16-byte headers (d, dmin, scales[12]), transposed: h[0] = d | dmin, h[1..3] = scales
        // bytes 0..3, 4..7, 8..11 (lane i = row i).
        __m256i h[4], g[4];
        _Pragma("GCC unroll 4") for (int i = 0; i < 4; ++i) {
            g[i] = _mm256_loadu2_m128i((const __m128i *)&rows[i + 4][b], (const __m128i *)&rows[i][b]);
        }
        CK_FN(tr4x4)(g, h);
        const __m256i lo6 = _mm256_set1_epi32(0x3f3f3f3f), lo4 = _mm256_set1_epi32(0x0f0f0f0f),
                      lo2 = _mm256_set1_epi32(0x03030303);
        const __m256i sc_lo = _mm256_and_si256(h[1], lo6);
        const __m256i sc_hi = _mm256_or_si256(_mm256_and_si256(h[3], lo4),
                                              _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h[1], 6), lo2), 4));
        const __m256i m_lo = _mm256_and_si256(h[2], lo6);
        const __m256i m_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(h[3], 4), lo4),
                                             _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h[2], 6), lo2), 4));
        __m256i is[CK_R8_MAXC];
        _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) is[c] = _mm256_setzero_si256();
        _Pragma("GCC unroll 1") for (int p = 0; p < 4; ++p) {
            __m256i t[8];
            _Pragma("GCC unroll 4") for (int i = 0; i < 4; ++i) {
                g[i] = _mm256_loadu2_m128i((const __m128i *)(rows[i + 4][b].qs + 32 * p),
                                           (const __m128i *)(rows[i][b].qs + 32 * p));
            }
            CK_FN(tr4x4)(g, t);
            _Pragma("GCC unroll 4") for (int i = 0; i < 4; ++i) {
                g[i] = _mm256_loadu2_m128i((const __m128i *)(rows[i + 4][b].qs + 32 * p + 16),
                                           (const __m128i *)(rows[i][b].qs + 32 * p + 16));
            }
            CK_FN(tr4x4)(g, t + 4);
            // Scale of sub-block 2p + h in both int16 halves of each lane: byte (2p + h) % 4 of
            // sc_lo (p < 2) or sc_hi.
            const __m256i scw = p < 2 ? sc_lo : sc_hi;
            _Pragma("GCC unroll 2") for (int hf = 0; hf < 2; ++hf) {
                const int byte = (2 * p + hf) % 4;
                // vpshufb indexes within each 128-bit half: lane j of a half takes bytes 4j + byte.
                const __m256i pick = _mm256_add_epi32(_mm256_set1_epi32((int)(0x80008000u | (uint32_t)byte | ((uint32_t)byte << 16))),
                                                      _mm256_setr_epi32(0, 0x00040004, 0x00080008, 0x000C000C, 0,
                                                                        0x00040004, 0x00080008, 0x000C000C));
                const __m256i sc = _mm256_shuffle_epi8(scw, pick);
                __m256i q[8];
                _Pragma("GCC unroll 8") for (int k = 0; k < 8; ++k) {
                    q[k] = hf ? _mm256_and_si256(_mm256_srli_epi16(t[k], 4), m4) : _mm256_and_si256(t[k], m4);
                }
                _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
                    const int8_t *ya = x[c][b].qs + 64 * p + 32 * hf;
                    is[c] = CK_FN(dpwssd)(is[c], CK_FN(dot8_bcast)(q, ya), sc);
                }
            }
        }
        const __m256i b16 = _mm256_set1_epi32(0x00FF00FF);
        const __m256i mp[4] = {_mm256_and_si256(m_lo, b16), _mm256_and_si256(_mm256_srli_epi32(m_lo, 8), b16),
                               _mm256_and_si256(m_hi, b16), _mm256_and_si256(_mm256_srli_epi32(m_hi, 8), b16)};
        const __m256 dw = CK_FN(halves8)(h[0], 0), dmw = CK_FN(halves8)(h[0], 1);
        _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) {
            __m256i bp[4];
            if (sh) {
                _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) bp[k] = _mm256_set1_epi32(sh[c][4 * b + k]);
            } else {
                CK_FN(k4_bsum_pairs)(&x[c][b], bp);
            }
            __m256i ms = _mm256_setzero_si256();
            _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) ms = CK_FN(dpwssd)(ms, mp[k], bp[k]);
            const __m256 da = _mm256_set1_ps(ck_load_f32(&x[c][b].d));
            res[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is[c]), _mm256_mul_ps(dw, da), res[c]);
            accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ms), _mm256_mul_ps(dmw, da), accm[c]);
        }
    }
    _Pragma("GCC unroll 8") for (int c = 0; c < nc; ++c) res[c] = _mm256_sub_ps(res[c], accm[c]);
}

// MARK: - Drivers (as in ck_x86_512_rows16.h, with groups of 8 rows)

CK_INL void CK_FN(store_rows8)(float *y, __m256 v, int nv) {
    if (nv == 8) {
        _mm256_storeu_ps(y, v);
        return;
    }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < nv; ++i) y[i] = t[i];
}

// What depends on an activation block alone is made once per call ("shares", words per block) for
// as many columns as fit CK_R8_SHARE_BYTES of stack, not once per group of 8 rows: Q4_0 8·Σa and the
// f32 scale's bits, Q4_K the four bsum pair words. Rows too long for even one column's shares make
// them in the kernel.
#ifndef CK_R8_SHARE_BYTES  // the C tests lower it, to reach the column chunks and the in-kernel shares
#define CK_R8_SHARE_BYTES (96 * 1024)
#endif
#define CK_R8_Q4_0_WORDS 2
#define CK_R8_Q4_K_WORDS 4

CK_INL void CK_FN(q4_0_shares)(const void *xv, size_t nb, int32_t *sh) {
    const block_q8_0 *x = xv;
    for (size_t b = 0; b < nb; ++b) {
        const float d = CK_FN(h2f)(&x[b].d);
        sh[2 * b] = _mm256_cvtsi256_si32(CK_FN(sum_a_all)(&x[b])) * 8;
        memcpy(&sh[2 * b + 1], &d, sizeof d);
    }
}

CK_INL void CK_FN(q4_K_shares)(const void *xv, size_t nb, int32_t *sh) {
    const block_q8_K *x = xv;
    for (size_t b = 0; b < nb; ++b) _mm_storeu_si128((__m128i *)&sh[4 * b], CK_FN(k4_bsum_words)(&x[b]));
}

#define CK_DEFINE_R8(t, QB, WORDS)                                                                      \
    static CK_TGT float CK_FN(dot_##t)(size_t n, const void *w, const void *x) {                        \
        if (n / (QB) == 0) return 0.0f;                                                                 \
        const void *xs[1] = {x};                                                                        \
        __m256 r[CK_R8_MAXC];                                                                           \
        CK_FN(r8_##t)(1, n / (QB), w, 0, 1, xs, NULL, r, NULL);                                         \
        return _mm256_cvtss_f32(r[0]);                                                                  \
    }                                                                                                   \
    static CK_TGT void CK_FN(matvec_##t)(const void *w, size_t rs, const void *xq, float *y, size_t r0,   \
                                         size_t r1, size_t cols) {                                     \
        const size_t nb = cols / (QB);                                                                  \
        const void *xs[1] = {xq};                                                                       \
        int32_t sh[CK_R8_SHARE_BYTES / sizeof(int32_t)];                                                \
        const bool shared = nb * (WORDS) <= CK_R8_SHARE_BYTES / sizeof(int32_t);                       \
        if (shared) CK_FN(t##_shares)(xq, nb, sh);                                                      \
        const int32_t *shs[1] = {sh};                                                                   \
        for (size_t r = r0; r < r1; r += 8) {                                                           \
            const int nv = r1 - r < 8 ? (int)(r1 - r) : 8;                                              \
            const char *pf = r + 8 < r1 ? (const char *)w + (r + 8) * rs : NULL;                        \
            __m256 o[CK_R8_MAXC];                                                                       \
            /* two calls, not one with `shared ? shs : NULL`: each inlined copy knows its sh */        \
            if (shared) CK_FN(r8_##t)(1, nb, (const char *)w + r * rs, rs, nv, xs, shs, o, pf);         \
            else CK_FN(r8_##t)(1, nb, (const char *)w + r * rs, rs, nv, xs, NULL, o, pf);               \
            CK_FN(store_rows8)(y + r, o[0], nv);                                                        \
        }                                                                                               \
    }                                                                                                   \
    static CK_TGT void CK_FN(matmul_##t)(const void *w, size_t rs, const void *xq, size_t xstride,       \
                                         size_t nvec, float *y, size_t ys, size_t r0, size_t r1,        \
                                         size_t cols) {                                                 \
        const size_t nb = cols / (QB);                                                                  \
        const size_t per = nb * (WORDS) * sizeof(int32_t);                                              \
        size_t chunk = per ? CK_R8_SHARE_BYTES / per : 0; /* columns whose shares fit */                \
        const bool shared = chunk >= 1;                                                                 \
        if (!shared || chunk > nvec) chunk = nvec;                                                      \
        int32_t sh[CK_R8_SHARE_BYTES / sizeof(int32_t)];                                                \
        for (size_t c0 = 0; c0 < nvec; c0 += chunk) {                                                   \
            const size_t c1 = c0 + chunk < nvec ? c0 + chunk : nvec;                                    \
            if (shared) {                                                                               \
                for (size_t j = c0; j < c1; ++j) {                                                      \
                    CK_FN(t##_shares)((const char *)xq + j * xstride, nb, sh + (j - c0) * nb * (WORDS)); \
                }                                                                                       \
            }                                                                                           \
            for (size_t r = r0; r < r1; r += 8) {                                                       \
                const int nv = r1 - r < 8 ? (int)(r1 - r) : 8;                                          \
                const char *g0 = (const char *)w + r * rs;                                              \
                const char *pf0 = r + 8 < r1 ? (const char *)w + (r + 8) * rs : NULL;                   \
                for (size_t j0 = c0; j0 < c1; j0 += CK_R8_MAXC) {                                       \
                    const char *pf = j0 == c0 ? pf0 : NULL; /* the first pass streams, the rest hit cache */ \
                    const size_t nc = c1 - j0 < CK_R8_MAXC ? c1 - j0 : CK_R8_MAXC;                      \
                    const void *xs[CK_R8_MAXC];                                                         \
                    const int32_t *shs[CK_R8_MAXC];                                                     \
                    for (size_t c = 0; c < nc; ++c) {                                                   \
                        xs[c] = (const char *)xq + (j0 + c) * xstride;                                  \
                        shs[c] = shared ? sh + (j0 + c - c0) * nb * (WORDS) : NULL; /* UB past sh */    \
                    }                                                                                   \
                    __m256 o[CK_R8_MAXC];                                                               \
                    if (!shared) { /* rows too wide for one column's shares: one column at a time */    \
                        for (size_t c = 0; c < nc; ++c) {                                               \
                            __m256 tt[CK_R8_MAXC];                                                      \
                            CK_FN(r8_##t)(1, nb, g0, rs, nv, xs + c, NULL, tt, c == 0 ? pf : NULL);     \
                            o[c] = tt[0];                                                               \
                        }                                                                               \
                    } else {                                                                            \
                        switch (nc) {                                                                   \
                        case 8: CK_FN(r8_##t)(8, nb, g0, rs, nv, xs, shs, o, pf); break;                \
                        case 7: CK_FN(r8_##t)(7, nb, g0, rs, nv, xs, shs, o, pf); break;                \
                        case 6: CK_FN(r8_##t)(6, nb, g0, rs, nv, xs, shs, o, pf); break;                \
                        case 5: CK_FN(r8_##t)(5, nb, g0, rs, nv, xs, shs, o, pf); break;                \
                        case 4: CK_FN(r8_##t)(4, nb, g0, rs, nv, xs, shs, o, pf); break;                \
                        case 3: CK_FN(r8_##t)(3, nb, g0, rs, nv, xs, shs, o, pf); break;                \
                        case 2: CK_FN(r8_##t)(2, nb, g0, rs, nv, xs, shs, o, pf); break;                \
                        default: CK_FN(r8_##t)(1, nb, g0, rs, nv, xs, shs, o, pf); break;               \
                        }                                                                               \
                    }                                                                                   \
                    for (size_t c = 0; c < nc; ++c) CK_FN(store_rows8)(y + (j0 + c) * ys + r, o[c], nv); \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

CK_DEFINE_R8(q4_0, CK_QK4_0, CK_R8_Q4_0_WORDS)
CK_DEFINE_R8(q4_K, CK_QKK, CK_R8_Q4_K_WORDS)
