// ck_attend_body.h — the body of the F16 attention of one or more query heads over one KV head
// (CKernelsOps.h, "One query head's attention over an F16 KV cache"), written once and expanded twice:
// in ck_attention.c through a path's ops table (ck_attend_f16_generic, ck_attend_f16_heads_generic),
// and in ck_ops_avx2.c with the AVX2 ops called directly (inlined: no indirect call per position and
// head). Same operations in the same order either way.
//
// The includer defines CK_AT_DOT(n, k, q), CK_AT_AXPY(n, a, v, y), CK_AT_SOFTMAX(n, x, scale, mask, y),
// CK_AT_ADD(n, a, b, y), CK_AT_SCORES and CK_AT_PV (below), then uses CK_ATTEND_F16_BODY(args, count, slots) (needs <string.h> and
// <math.h>).
//
// `slots` is P·V's slot count, which is ggml_vec_dot_f16's blocking in the llama.cpp build the path
// stands for: 64 (AVX-512: 4 accumulators of 16 lanes, reduced (0+2) + (1+3) and then as
// _mm512_reduce_add_ps) or 32 (AVX2: 4 accumulators of 8 lanes, reduced (0+2) + (1+3), then low 128
// + high 128 and two horizontal adds). Measured against llama-cpp-python's AVX2 library
// (scripts/compare-ops-with-llamacpp): with 64 slots 298 of 300 heads differed by an ulp, with 32 none.
#ifndef CK_ATTEND_BODY_H
#define CK_ATTEND_BODY_H

/// The most P·V slots (the scratch is sized for these).
#define CK_ATTEND_LANES 64

// CK_ATTEND_F16_BODY(args, count, slot_count): `count` query heads args[0..count) over the same KV
// head (the same keys, values, cells, first, visible, head_dim and scale; each its own q, scratch and
// out). Each K and V row is read once for all of them (a prompt's attention streams K and V from
// L3 per head otherwise); per head the operations and their order are those of one head alone.
#define CK_AT_SCRATCH(h, name) (at_base[h] + at_off_##name)
#define CK_AT_BLOCK 32
// P·V: the includer defines CK_AT_PV(n_heads, base, off_scores, off_slots, d, lanes, first, visible,
// cells, values) -- every head's slot rows (base[h] + off_slots, zeroed) take, slot p mod lanes, the
// fused multiply-adds of position p's probability with its V row, in position order -- as
// CK_AT_PV_AXPY (axpy rows, a block of positions at a time) or a path's own (ck_ops_avx2.c).
#define CK_AT_PV_AXPY(n_heads, base, off_scores, off_slots, d, lanes, first, visible, cells, values) do {             \
    for (size_t p0 = (first); p0 < (visible); p0 += CK_AT_BLOCK) {                                                   \
        const size_t p1 = (visible) - p0 < CK_AT_BLOCK ? (visible) : p0 + CK_AT_BLOCK;                               \
        for (size_t h = 0; h < (n_heads); ++h) {                                                                     \
            for (size_t p = p0; p < p1; ++p) {                                                                       \
                const size_t cell = p < (cells) ? p : p % (cells);                                                   \
                CK_AT_AXPY((d), (base)[h][(off_scores) + p], (values) + cell * (d), (base)[h] + (off_slots) + (p % (lanes)) * (d)); \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
} while (0)
// K·Q: the includer defines CK_AT_SCORES(n_heads, base, off_query, off_scores, d, p0, p1, cells, keys) --
// every head's scores[p] (base[h] + off_scores) for positions p0..<p1, the dot of position p's K row
// with the head's query (base[h] + off_query) -- as CK_AT_SCORES_DOT (CK_AT_DOT per head and
// position) or a path's own (ck_ops_avx2.c).
#define CK_AT_SCORES_DOT(n_heads, base, off_query, off_scores, d, p0, p1, cells, keys) do {                           \
    for (size_t h = 0; h < (n_heads); ++h) {                                                                         \
        for (size_t p = (p0); p < (p1); ++p) {                                                                       \
            const size_t cell = p < (cells) ? p : p % (cells);                                                       \
            (base)[h][(off_scores) + p] = CK_AT_DOT((d), (keys) + cell * (d), (base)[h] + (off_query));              \
        }                                                                                                            \
    }                                                                                                                \
} while (0)
#define CK_ATTEND_F16_BODY(args, count, slot_count) do { \
    const ck_attend_args *const a0 = (args);                                                                         \
    const size_t n_heads = (count);                                                                                  \
    const size_t d = a0->head_dim, lanes = (slot_count);                                                             \
    const size_t first = a0->first, visible = a0->visible, cells = a0->cells;                                        \
    const size_t row_start = first / lanes * lanes;                                                                  \
    const size_t width = (visible + lanes - 1) / lanes * lanes;                                                      \
    /* scratch per head: query | scores (by position, padded) | slots | lane rows | temporary | zero */              \
    const size_t at_off_query = 0, at_off_scores = d, at_off_slots = d + width;                                      \
    const size_t at_off_lane = at_off_slots + lanes * d, at_off_temporary = at_off_lane + 16 * d;                    \
    const size_t at_off_zero = at_off_temporary + d;                                                                 \
    float *at_base[CK_ATTEND_MAX_HEADS];                                                                             \
    const uint16_t *keys = a0->keys, *values = a0->values;                                                           \
    const size_t used = visible < lanes ? visible : lanes;                                                           \
    for (size_t h = 0; h < n_heads; ++h) {                                                                           \
        at_base[h] = (args)[h].scratch;                                                                              \
        /* llama.cpp multiplies K (f16) by Q converted to f16 ... */                                                 \
        for (size_t i = 0; i < d; ++i) CK_AT_SCRATCH(h, query)[i] = ck_half_to_float(ck_float_to_half((args)[h].q[i])); \
    }                                                                                                                \
    /* Positions in blocks of CK_AT_BLOCK: a block's K (or V) rows stay in L1 while every head uses them,   */  \
    /* and one head's P·V slots (32 or 64 rows) stay in L1 while it adds the block's V rows to them.         */  \
    for (size_t p0 = first; p0 < visible; p0 += CK_AT_BLOCK) {                                                       \
        const size_t p1 = visible - p0 < CK_AT_BLOCK ? visible : p0 + CK_AT_BLOCK;                                   \
        CK_AT_SCORES(n_heads, at_base, at_off_query, at_off_scores, d, p0, p1, cells, keys);                          \
    }                                                                                                                \
    for (size_t h = 0; h < n_heads; ++h) {                                                                           \
        float *scores = CK_AT_SCRATCH(h, scores);                                                                    \
        for (size_t p = row_start; p < first; ++p) scores[p] = -INFINITY;                                            \
        for (size_t p = visible; p < width; ++p) scores[p] = -INFINITY;                                              \
        CK_AT_SOFTMAX(width - row_start, scores + row_start, a0->scale, NULL, scores + row_start);                   \
        /* ... and V (f16) by the probabilities converted to f16. */                                                 \
        for (size_t p = first; p < visible; ++p) scores[p] = ck_half_to_float(ck_float_to_half(scores[p]));          \
        memset(CK_AT_SCRATCH(h, slots), 0, used * d * sizeof(float));                                                \
        memset(CK_AT_SCRATCH(h, zero), 0, d * sizeof(float));                                                        \
    }                                                                                                                \
    CK_AT_PV(n_heads, at_base, at_off_scores, at_off_slots, d, lanes, first, visible, cells, values);                \
    for (size_t h = 0; h < n_heads; ++h) {                                                                           \
        const float *slots = CK_AT_SCRATCH(h, slots), *zero = CK_AT_SCRATCH(h, zero);                                \
        float *lane = CK_AT_SCRATCH(h, lane), *temporary = CK_AT_SCRATCH(h, temporary), *out = (args)[h].out;        \
        /* Slot s = w j + i is accumulator j's lane i, w = lanes / 4 (slots >= used hold 0). */                    \
        const size_t w = lanes / 4;                                                                                  \
        for (size_t i = 0; i < w; ++i) {                                                                             \
            CK_AT_ADD(d, ((i) < used ? slots + (size_t)(i) * d : zero), ((2 * w + i) < used ? slots + (size_t)(2 * w + i) * d : zero), lane + i * d); \
            CK_AT_ADD(d, ((w + i) < used ? slots + (size_t)(w + i) * d : zero), ((3 * w + i) < used ? slots + (size_t)(3 * w + i) * d : zero), temporary); \
            CK_AT_ADD(d, lane + i * d, temporary, lane + i * d);                                                     \
        }                                                                                                            \
        if (w == 16) {                                                                                               \
            /* _mm512_reduce_add_ps: high 256 + low 256, high 128 + low 128, (0 + 2) + (1 + 3). */                   \
            for (size_t i = 0; i < 8; ++i) CK_AT_ADD(d, lane + (i + 8) * d, lane + i * d, lane + i * d);             \
            for (size_t i = 0; i < 4; ++i) CK_AT_ADD(d, lane + (i + 4) * d, lane + i * d, lane + i * d);             \
            CK_AT_ADD(d, lane, lane + 2 * d, lane);                                                                  \
            CK_AT_ADD(d, lane + d, lane + 3 * d, lane + d);                                                          \
            CK_AT_ADD(d, lane, lane + d, out);                                                                       \
        } else {                                                                                                     \
            /* low 128 + high 128, then two _mm_hadd_ps: (0 + 1) + (2 + 3). */                                       \
            for (size_t i = 0; i < 4; ++i) CK_AT_ADD(d, lane + i * d, lane + (i + 4) * d, lane + i * d);             \
            CK_AT_ADD(d, lane, lane + d, lane);                                                                      \
            CK_AT_ADD(d, lane + 2 * d, lane + 3 * d, lane + 2 * d);                                                  \
            CK_AT_ADD(d, lane, lane + 2 * d, out);                                                                   \
        }                                                                                                            \
    }                                                                                                                \
} while (0)

#endif  // CK_ATTEND_BODY_H
