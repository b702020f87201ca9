// ck_attend_body.h — the body of one query head's F16 attention (CKernelsOps.h, "One query head's
// attention over an F16 KV cache"), written once and expanded twice: in ck_attention.c through a path's
// ops table (ck_attend_f16_generic), and in ck_ops_avx2.c with the AVX2 ops called directly (inlined:
// no indirect call per position and head). Same operations in the same order either way.
//
// The includer defines CK_AT_DOT(n, k, q), CK_AT_AXPY(n, a, v, y), CK_AT_SOFTMAX(n, x, scale, mask, y)
// and CK_AT_ADD(n, a, b, y), then uses CK_ATTEND_F16_BODY(a, slots) in a function with `const
// ck_attend_args *a` (needs <string.h> and <math.h>).
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

#define CK_ATTEND_F16_BODY(a, slot_count) do { \
    const size_t d = a->head_dim, lanes = (slot_count);                                                              \
    const size_t first = a->first, visible = a->visible, cells = a->cells;                                           \
    const size_t row_start = first / lanes * lanes;                                                                  \
    const size_t width = (visible + lanes - 1) / lanes * lanes;                                                      \
    float *query = a->scratch;                                                                                       \
    float *scores = query + d;                                                                                       \
    float *slots = scores + width;                                                                                   \
    float *lane = slots + lanes * d;                                                                                 \
    float *temporary = lane + 16 * d;                                                                                \
    float *zero = temporary + d;                                                                                     \
    const uint16_t *keys = a->keys, *values = a->values;                                                             \
                                                                                                                     \
    /* llama.cpp multiplies K (f16) by Q converted to f16 ... */                                                     \
    for (size_t i = 0; i < d; ++i) query[i] = ck_half_to_float(ck_float_to_half(a->q[i]));                           \
    for (size_t p = first; p < visible; ++p) {                                                                       \
        const size_t cell = p < cells ? p : p % cells;                                                               \
        scores[p] = CK_AT_DOT(d, keys + cell * d, query);                                                            \
    }                                                                                                                \
    for (size_t p = row_start; p < first; ++p) scores[p] = -INFINITY;                                                \
    for (size_t p = visible; p < width; ++p) scores[p] = -INFINITY;                                                  \
    CK_AT_SOFTMAX(width - row_start, scores + row_start, a->scale, NULL, scores + row_start);                        \
    /* ... and V (f16) by the probabilities converted to f16. */                                                     \
    for (size_t p = first; p < visible; ++p) scores[p] = ck_half_to_float(ck_float_to_half(scores[p]));              \
                                                                                                                     \
    const size_t used = visible < lanes ? visible : lanes;                                                           \
    memset(slots, 0, used * d * sizeof(float));                                                                      \
    memset(zero, 0, d * sizeof(float));                                                                              \
    for (size_t p = first; p < visible; ++p) {                                                                       \
        const size_t cell = p < cells ? p : p % cells;                                                               \
        CK_AT_AXPY(d, scores[p], values + cell * d, slots + (p % lanes) * d);                                        \
    }                                                                                                                \
    /* Slot s = w j + i is accumulator j's lane i, w = lanes / 4 (slots >= used hold 0). */                        \
    const size_t w = lanes / 4;                                                                                      \
    for (size_t i = 0; i < w; ++i) {                                                                                 \
        CK_AT_ADD(d, ((i) < used ? slots + (size_t)(i) * d : zero), ((2 * w + i) < used ? slots + (size_t)(2 * w + i) * d : zero), lane + i * d); \
        CK_AT_ADD(d, ((w + i) < used ? slots + (size_t)(w + i) * d : zero), ((3 * w + i) < used ? slots + (size_t)(3 * w + i) * d : zero), temporary); \
        CK_AT_ADD(d, lane + i * d, temporary, lane + i * d);                                                         \
    }                                                                                                                \
    if (w == 16) {                                                                                                   \
        /* _mm512_reduce_add_ps: high 256 + low 256, high 128 + low 128, (0 + 2) + (1 + 3). */                       \
        for (size_t i = 0; i < 8; ++i) CK_AT_ADD(d, lane + (i + 8) * d, lane + i * d, lane + i * d);                 \
        for (size_t i = 0; i < 4; ++i) CK_AT_ADD(d, lane + (i + 4) * d, lane + i * d, lane + i * d);                 \
        CK_AT_ADD(d, lane, lane + 2 * d, lane);                                                                      \
        CK_AT_ADD(d, lane + d, lane + 3 * d, lane + d);                                                              \
        CK_AT_ADD(d, lane, lane + d, a->out);                                                                        \
    } else {                                                                                                         \
        /* low 128 + high 128, then two _mm_hadd_ps: (0 + 1) + (2 + 3). */                                           \
        for (size_t i = 0; i < 4; ++i) CK_AT_ADD(d, lane + i * d, lane + (i + 4) * d, lane + i * d);                 \
        CK_AT_ADD(d, lane, lane + d, lane);                                                                          \
        CK_AT_ADD(d, lane + 2 * d, lane + 3 * d, lane + 2 * d);                                                      \
        CK_AT_ADD(d, lane, lane + 2 * d, a->out);                                                                    \
    }                                                                                                                \
} while (0)

#endif  // CK_ATTEND_BODY_H
