// ck_ops_avx512_attend.h — the F16 attention of one or more query heads over one KV head on the AVX-512
// paths (see CKernelsOps.h, "One query head's attention over an F16 KV cache"). Included by
// ck_ops_avx512.c (uses its helpers: avx512_load_f16, avx512_dot_f16_lanes, avx512_softmax).

// MARK: - One query head's attention (see CKernelsOps.h)

// ck_attend_f16_generic with the P·V slots of 16 output dimensions held in registers: for each group of
// 16 dimensions and each accumulator j, the 16 slots 16j..16j+15 are 16 vectors that take their
// positions' fused multiply-adds in position order (as the axpy rows do), and the reduction tree runs on
// the vectors. Falls back to the generic version when head_dim is not a multiple of 16.
// The query rounded to f16 and back, into the head's scratch (llama.cpp multiplies K by Q as f16).
INL void avx512_round_query(const ck_attend_args *a) {
    for (size_t i = 0; i < a->head_dim; i += 16) {
        const __m512 v = _mm512_loadu_ps(a->q + i);
        _mm512_storeu_ps(a->scratch + i, _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    }
}

#ifndef CK_PV_WALK_MIN
#define CK_PV_WALK_MIN 128  // positions (from the first slot row) below which the register kernel runs
#endif
static TGT void avx512_attend_after_scores(const ck_attend_args *a);
static TGT void avx512_probabilities(const ck_attend_args *a);
static TGT void avx512_pv_walk(const ck_attend_args *a, size_t n);
static TGT void avx512_pv_tree(const ck_attend_args *a);

static TGT void avx512_attend_f16(const ck_ops *ops, const ck_attend_args *a) {
    const size_t d = a->head_dim;
    if (d % 16 != 0) {
        ck_attend_f16_generic(ops, a);
        return;
    }
    const size_t first = a->first, visible = a->visible, cells = a->cells;
    float *query = a->scratch;
    float *scores = query + d;
    const uint8_t *keys = a->keys;
    avx512_round_query(a);
    for (size_t p = first; p < visible; ++p) {
        const size_t cell = p < cells ? p : p % cells;
        scores[p] = avx512_dot_f16(d, keys + 2 * cell * d, query);
    }
    avx512_attend_after_scores(a);
}

// avx512_hsum of 16 vectors at once: lane j of the result is avx512_hsum(v[j]) -- the same additions
// of the same values (hi 256 + lo 256, hi 128 + lo 128, (0 + 2) and (1 + 3), then their sum), with the
// lanes of 16 positions side by side instead of an extract chain per position.
INL __m512 avx512_hsum16(const __m512 v[16]) {
    __m512 s[8], t[4], r[4];
    for (int q = 0; q < 8; ++q) {  // s[q] = [hi256 + lo256 of v[2q] | of v[2q + 1]]
        s[q] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * q], v[2 * q + 1], 0xEE), _mm512_shuffle_f32x4(v[2 * q], v[2 * q + 1], 0x44));
    }
    for (int q = 0; q < 4; ++q) {  // t[q] 128-bit lane m = hi128 + lo128 of v[4q + m]'s 256-bit sum
        t[q] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * q], s[2 * q + 1], 0xDD), _mm512_shuffle_f32x4(s[2 * q], s[2 * q + 1], 0x88));
    }
    for (int q = 0; q < 4; ++q) {  // per 128-bit lane: element 0 = (t0 + t2) + (t1 + t3)
        const __m512 u = _mm512_add_ps(t[q], _mm512_shuffle_ps(t[q], t[q], _MM_SHUFFLE(1, 0, 3, 2)));
        r[q] = _mm512_add_ps(u, _mm512_shuffle_ps(u, u, _MM_SHUFFLE(1, 1, 1, 1)));
    }
    // Element 0 of 128-bit lane m of r[q] is position 4q + m: gather them in position order.
    const __m512 a = _mm512_unpacklo_ps(r[0], r[1]), b = _mm512_unpacklo_ps(r[2], r[3]);  // per lane m: q0 q1 . .
    const __m512 c = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));  // lane m: q0 q1 q2 q3
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), c);
}

// K·Q of n (1..4) heads over one KV head (head_dim a multiple of 64, queries already rounded in each
// head's scratch): per position, each 64 dimensions of its K row are converted from f16 once and meet
// every head's query (the heads' 4 x n accumulators in registers, avx512_dot_f16_lanes' blocking per
// head), and 16 positions' sums are reduced together. With dq > 0 (head_dim 16·dq: 64, 128 or 256,
// n·dq <= 16) the queries stay in registers for the whole walk; with dq = 0 (other multiples of 64)
// each FMA loads its query vector. Measured at head_dim 128, 4 heads, 1,024 positions, in cache on Zen
// 4, ns per position and head: the loop over heads outside the dot (a vcvtph2ps per FMA) 8.1, the row
// converted once 5.2-5.9, the queries in registers 3.8-4.1 (the row then converted once per 2 heads).
// Positions in pairs, each query vector loaded once for both, measured within 5%: not kept.
INL void avx512_scores_walk(const ck_attend_args *a, const int n, const int dq) {
    const size_t d = dq ? (size_t)dq * 16 : a->head_dim, first = a->first, visible = a->visible, cells = a->cells;
    const uint8_t *keys = a->keys;
    __m512 qv[4][16];
    if (dq) {
        _Pragma("GCC unroll 4") for (int h = 0; h < n; ++h) {
            _Pragma("GCC unroll 16") for (int t = 0; t < dq; ++t) qv[h][t] = _mm512_loadu_ps(a[h].scratch + 16 * t);
        }
    }
    __m512 part[4][16];
    for (size_t p0 = first; p0 < visible; p0 += 16) {
        const size_t m = visible - p0 < 16 ? visible - p0 : 16;
        for (size_t j = 0; j < 16; ++j) {
            if (j >= m) {
                for (int h = 0; h < n; ++h) part[h][j] = _mm512_setzero_ps();
                continue;
            }
            const size_t p = p0 + j, cell = p < cells ? p : p % cells;
            const uint8_t *k = keys + 2 * cell * d;
            __m512 acc[4][4];
            _Pragma("GCC unroll 4") for (int h = 0; h < n; ++h) {
                _Pragma("GCC unroll 4") for (int t = 0; t < 4; ++t) acc[h][t] = _mm512_setzero_ps();
            }
            _Pragma("GCC unroll 4") for (size_t b = 0; b < d / 64; ++b) {
                __m512 kv[4];
                _Pragma("GCC unroll 4") for (int t = 0; t < 4; ++t) kv[t] = avx512_load_f16(k + 128 * b + 32 * (size_t)t);
                _Pragma("GCC unroll 4") for (int h = 0; h < n; ++h) {
                    _Pragma("GCC unroll 4") for (int t = 0; t < 4; ++t) {
                        const __m512 q = dq ? qv[h][4 * b + (size_t)t] : _mm512_loadu_ps(a[h].scratch + 64 * b + 16 * (size_t)t);
                        acc[h][t] = _mm512_fmadd_ps(kv[t], q, acc[h][t]);
                    }
                }
            }
            _Pragma("GCC unroll 4") for (int h = 0; h < n; ++h) {
                part[h][j] = _mm512_add_ps(_mm512_add_ps(acc[h][0], acc[h][2]), _mm512_add_ps(acc[h][1], acc[h][3]));
            }
        }
        for (int h = 0; h < n; ++h) {
            float sums[16];
            _mm512_storeu_ps(sums, avx512_hsum16(part[h]));
            memcpy(a[h].scratch + d + p0, sums, m * sizeof(float));
        }
    }
}

static TGT void avx512_scores_heads(const ck_attend_args *a, size_t count) {
    const size_t d = a->head_dim;
    const size_t per = d == 64 ? 4 : d == 128 ? 2 : d == 256 ? 1 : 4;
    for (size_t h = 0; h < count; h += per) {
        const size_t n = count - h < per ? count - h : per;
        switch (d * 8 + n) {  // each shape its own unrolled copy
        case 64 * 8 + 4: avx512_scores_walk(a + h, 4, 4); break;
        case 64 * 8 + 3: avx512_scores_walk(a + h, 3, 4); break;
        case 64 * 8 + 2: avx512_scores_walk(a + h, 2, 4); break;
        case 64 * 8 + 1: avx512_scores_walk(a + h, 1, 4); break;
        case 128 * 8 + 2: avx512_scores_walk(a + h, 2, 8); break;
        case 128 * 8 + 1: avx512_scores_walk(a + h, 1, 8); break;
        case 256 * 8 + 1: avx512_scores_walk(a + h, 1, 16); break;
        default:  // other multiples of 64: the queries from memory
            switch (n) {
            case 4: avx512_scores_walk(a + h, 4, 0); break;
            case 3: avx512_scores_walk(a + h, 3, 0); break;
            case 2: avx512_scores_walk(a + h, 2, 0); break;
            default: avx512_scores_walk(a + h, 1, 0); break;
            }
        }
    }
}

// attend_f16_heads: the heads' K·Q together (avx512_scores_heads), then each head's softmax and P·V as
// avx512_attend_f16's; the same bits as head by head.
static TGT void avx512_attend_f16_heads(const ck_ops *ops, const ck_attend_args *a, size_t count) {
    if (count == 0) return;
    if (count > CK_ATTEND_MAX_HEADS) {
        for (size_t h = 0; h < count; h += CK_ATTEND_MAX_HEADS) {
            avx512_attend_f16_heads(ops, a + h, count - h < CK_ATTEND_MAX_HEADS ? count - h : CK_ATTEND_MAX_HEADS);
        }
        return;
    }
    if (a->head_dim % 64 != 0) {
        for (size_t h = 0; h < count; ++h) avx512_attend_f16(ops, &a[h]);
        return;
    }
    for (size_t h = 0; h < count; ++h) avx512_round_query(&a[h]);
    avx512_scores_heads(a, count);
    if (a->visible - a->first / 64 * 64 < CK_PV_WALK_MIN) {
        for (size_t h = 0; h < count; ++h) avx512_attend_after_scores(&a[h]);
        return;
    }
    for (size_t h = 0; h < count; ++h) avx512_probabilities(&a[h]);
    for (size_t h = 0; h < count; h += 4) avx512_pv_walk(a + h, count - h < 4 ? count - h : 4);
    for (size_t h = 0; h < count; ++h) avx512_pv_tree(&a[h]);
}

// Softmax and the probabilities rounded to f16, in place over the scores in a->scratch + head_dim.
static TGT void avx512_probabilities(const ck_attend_args *a) {
    const size_t d = a->head_dim, lanes = 64;
    const size_t first = a->first, visible = a->visible;
    const size_t row_start = first / lanes * lanes;
    const size_t width = (visible + lanes - 1) / lanes * lanes;
    float *scores = a->scratch + d;
    for (size_t p = row_start; p < first; ++p) scores[p] = -INFINITY;
    for (size_t p = visible; p < width; ++p) scores[p] = -INFINITY;
    avx512_softmax(width - row_start, scores + row_start, a->scale, NULL, scores + row_start);
    {
        size_t p = first;
        for (; p + 16 <= visible; p += 16) {
            const __m512 v = _mm512_loadu_ps(scores + p);
            _mm512_storeu_ps(scores + p, _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
        }
        for (; p < visible; ++p) scores[p] = ck_half_to_float(ck_float_to_half(scores[p]));
    }
}

// Softmax, the probabilities rounded to f16, and P·V, over the scores in a->scratch + head_dim.
static TGT void avx512_attend_after_scores(const ck_attend_args *a) {
    avx512_probabilities(a);
    const size_t d = a->head_dim, lanes = 64;
    const size_t first = a->first, visible = a->visible, cells = a->cells;
    const size_t row_start = first / lanes * lanes;
    const size_t width = (visible + lanes - 1) / lanes * lanes;
    float *scores = a->scratch + d;
    const uint8_t *values = a->values;

    // Per group of 16 dimensions: slots 16j+i (i = 0..15) of accumulator j in 16 registers (written out
    // with a macro so the compiler keeps them there).
#define CK_X16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
    for (size_t c = 0; c < d; c += 16) {
        __m512 pair[16];  // (slot i + slot 32+i), then the lane sums
        __m512 acc[16];
        for (size_t j = 0; j < 4; ++j) {
#define CK_DECL(i) __m512 a##i = _mm512_setzero_ps();
            CK_X16(CK_DECL)
#undef CK_DECL
            for (size_t block = row_start; block < visible; block += lanes) {
                const size_t base = block + 16 * j;
                const size_t cell0 = base < cells ? base : base % cells;
                if (base >= first && base + 16 <= visible && cell0 + 16 <= cells) {
                    // 16 whole positions in consecutive cells.
                    const uint8_t *v = values + 2 * (cell0 * d + c);
                    const float *pr = scores + base;
#define CK_FULL(i) a##i = _mm512_fmadd_ps(avx512_load_f16(v + 2 * (i) * d), _mm512_set1_ps(pr[i]), a##i);
                    CK_X16(CK_FULL)
#undef CK_FULL
                } else {
#define CK_PART(i)                                                                                              \
    {                                                                                                           \
        const size_t p = base + (i);                                                                            \
        if (p >= first && p < visible) {                                                                        \
            const size_t cell = p < cells ? p : p % cells;                                                      \
            a##i = _mm512_fmadd_ps(avx512_load_f16(values + 2 * (cell * d + c)), _mm512_set1_ps(scores[p]), a##i); \
        }                                                                                                       \
    }
                    CK_X16(CK_PART)
#undef CK_PART
                }
            }
#define CK_STORE(i) acc[i] = a##i;
            CK_X16(CK_STORE)
#undef CK_STORE
            // GGML_F32x16_REDUCE: (acc0 + acc2) + (acc1 + acc3), per lane.
            if (j == 0) {
                for (int i = 0; i < 16; ++i) pair[i] = acc[i];
            } else if (j == 1) {
                // Keep acc1 aside (in the scratch after the scores) until acc3.
                for (int i = 0; i < 16; ++i) _mm512_storeu_ps(scores + width + 16 * (size_t)i, acc[i]);
            } else if (j == 2) {
                for (int i = 0; i < 16; ++i) pair[i] = _mm512_add_ps(pair[i], acc[i]);
            } else {
                for (int i = 0; i < 16; ++i) {
                    const __m512 t = _mm512_add_ps(_mm512_loadu_ps(scores + width + 16 * (size_t)i), acc[i]);
                    pair[i] = _mm512_add_ps(pair[i], t);
                }
            }
        }
        // _mm512_reduce_add_ps across the 16 lanes, for 16 output dimensions at once.
        for (int i = 0; i < 8; ++i) pair[i] = _mm512_add_ps(pair[i + 8], pair[i]);
        for (int i = 0; i < 4; ++i) pair[i] = _mm512_add_ps(pair[i + 4], pair[i]);
        pair[0] = _mm512_add_ps(pair[0], pair[2]);
        pair[1] = _mm512_add_ps(pair[1], pair[3]);
        _mm512_storeu_ps(a->out + c, _mm512_add_ps(pair[0], pair[1]));
    }
#undef CK_X16
}

// MARK: - P·V by slot walks (long rows, several heads)
//
// The register kernel above walks the positions once per 16 output dimensions and per head, reading
// 32 of each V row's 256 bytes (head_dim 128) each time: from L2 once the rows outgrow L1, a whole
// line per 16 FMAs, 8 times per row and head. Here slot s's positions (p = s mod 64: accumulator
// s / 16, lane s % 16 of ggml_vec_dot_f16's blocking) are walked in order for up to 4 heads and 32 or 64
// output dimensions at once, so each V line is loaded and converted once per group of heads and used
// whole; each slot's 32-dimension vectors go to the head's slot rows (scratch after the scores, 64 x
// head_dim), and the reduction tree then runs on them. Every (head, slot, dimension) takes the same
// fused multiply-adds in the same position order, and the tree is the register kernel's: the same bits.
// In cache at head_dim 128, 4 heads, Zen 4, ns per position and head: softmax and P·V 9.5 -> 5.0 (walk
// 3.9, tree 0.5, softmax 0.6) at 1,024 positions; 12.2 -> 7.3 at 256, where the tree's fixed cost shows.

//
// A walk takes 16·vecs dimensions (vecs = 2 or 4) of each row it visits. With 4 (head_dim a multiple
// of 64) it takes 128 bytes of a row (two adjacent lines), 16 accumulators for 4 heads, so the walks
// over rows 8 KiB and more apart (64 positions × head_dim × 2 bytes) are half as many as with 2.
// Measured in cache (Zen 4, head_dim 64, 7 heads, 1,800 positions): 1.75-1.83 -> 1.21 ns per
// position and head.
INL void avx512_pv_walk_n(const ck_attend_args *a, const int n, const int vecs) {
    const size_t d = a->head_dim, first = a->first, visible = a->visible, cells = a->cells;
    const size_t row_start = first / 64 * 64, width = (visible + 63) / 64 * 64;
    const uint8_t *values = a->values;
    const float *pr[4];
    float *slots[4];
    for (int h = 0; h < n; ++h) {
        pr[h] = a[h].scratch + d;
        slots[h] = a[h].scratch + d + width;
    }
    for (size_t c = 0; c < d; c += 16 * (size_t)vecs) {
        for (size_t s = 0; s < 64; ++s) {
            __m512 acc[4][4];
            for (int h = 0; h < n; ++h) {
                for (int t = 0; t < vecs; ++t) acc[h][t] = _mm512_setzero_ps();
            }
            size_t p = row_start + s;
            if (p < first) p += 64;
            size_t cell = p % cells;
            for (; p < visible; p += 64) {
                const uint8_t *v = values + 2 * (cell * d + c);
                __m512 vv[4];
                for (int t = 0; t < vecs; ++t) vv[t] = avx512_load_f16(v + 32 * (size_t)t);
                for (int h = 0; h < n; ++h) {
                    const __m512 w = _mm512_set1_ps(pr[h][p]);
                    for (int t = 0; t < vecs; ++t) acc[h][t] = _mm512_fmadd_ps(vv[t], w, acc[h][t]);
                }
                cell += 64;
                while (cell >= cells) cell -= cells;
            }
            for (int h = 0; h < n; ++h) {
                for (int t = 0; t < vecs; ++t) _mm512_storeu_ps(slots[h] + s * d + c + 16 * (size_t)t, acc[h][t]);
            }
        }
    }
}

// n (1..4) heads over one KV head (head_dim a multiple of 32, the probabilities in place): 64
// dimensions at a time where head_dim allows (-DCK_PV_HALVES builds the 32-at-a-time walk everywhere,
// for an A/B).
static TGT void avx512_pv_walk(const ck_attend_args *a, size_t n) {
#ifndef CK_PV_HALVES
    const int vecs = a->head_dim % 64 == 0 ? 4 : 2;
#else
    const int vecs = 2;
#endif
    switch (n * 8 + (size_t)vecs) {  // each shape its own unrolled copy, the accumulators in registers
    case 4 * 8 + 4: avx512_pv_walk_n(a, 4, 4); break;
    case 3 * 8 + 4: avx512_pv_walk_n(a, 3, 4); break;
    case 2 * 8 + 4: avx512_pv_walk_n(a, 2, 4); break;
    case 1 * 8 + 4: avx512_pv_walk_n(a, 1, 4); break;
    case 4 * 8 + 2: avx512_pv_walk_n(a, 4, 2); break;
    case 3 * 8 + 2: avx512_pv_walk_n(a, 3, 2); break;
    case 2 * 8 + 2: avx512_pv_walk_n(a, 2, 2); break;
    default: avx512_pv_walk_n(a, 1, 2); break;
    }
}

// One head's output from its slot rows: per 16 dimensions, (slot i + slot 32+i) + (slot 16+i + slot
// 48+i), then _mm512_reduce_add_ps's halving adds over i, as the register kernel.
static TGT void avx512_pv_tree(const ck_attend_args *a) {
    const size_t d = a->head_dim, width = (a->visible + 63) / 64 * 64;
    const float *slots = a->scratch + d + width;
    for (size_t c = 0; c < d; c += 16) {
        __m512 pair[16];
        for (int i = 0; i < 16; ++i) {
            const __m512 s0 = _mm512_loadu_ps(slots + (size_t)i * d + c), s1 = _mm512_loadu_ps(slots + (size_t)(16 + i) * d + c);
            const __m512 s2 = _mm512_loadu_ps(slots + (size_t)(32 + i) * d + c), s3 = _mm512_loadu_ps(slots + (size_t)(48 + i) * d + c);
            pair[i] = _mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3));
        }
        for (int i = 0; i < 8; ++i) pair[i] = _mm512_add_ps(pair[i + 8], pair[i]);
        for (int i = 0; i < 4; ++i) pair[i] = _mm512_add_ps(pair[i + 4], pair[i]);
        pair[0] = _mm512_add_ps(pair[0], pair[2]);
        pair[1] = _mm512_add_ps(pair[1], pair[3]);
        _mm512_storeu_ps(a->out + c, _mm512_add_ps(pair[0], pair[1]));
    }
}
