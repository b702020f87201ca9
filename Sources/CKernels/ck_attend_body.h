// ck_attend_body.h — the body of one query head's F16 attention (CKernelsOps.h, "One query head's
// attention over an F16 KV cache"), written once and expanded twice: in ck_attention.c through a path's
// ops table (ck_attend_f16_generic), and in ck_ops_avx2.c with the AVX2 ops called directly (inlined:
// no indirect call per position and head). Same operations in the same order either way.
//
// The includer defines CK_AT_DOT(n, k, q), CK_AT_AXPY(n, a, v, y), CK_AT_SOFTMAX(n, x, scale, mask, y)
// and CK_AT_ADD(n, a, b, y), then uses CK_ATTEND_F16_BODY(a) in a function with `const ck_attend_args
// *a` (needs <string.h>, <math.h> and CK_ATTEND_LANES).
#ifndef CK_ATTEND_BODY_H
#define CK_ATTEND_BODY_H

#define CK_ATTEND_LANES 64

#define CK_ATTEND_F16_BODY(a) do { \
    const size_t d = a->head_dim, lanes = CK_ATTEND_LANES;                                                           \
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
    /* Slot s = 16 j + i is accumulator j's lane i (slots >= used hold 0). */                                        \
    for (size_t i = 0; i < 16; ++i) {                                                                                \
        CK_AT_ADD(d, ((i) < used ? slots + (size_t)(i) * d : zero), ((32 + i) < used ? slots + (size_t)(32 + i) * d : zero), lane + i * d); \
        CK_AT_ADD(d, ((16 + i) < used ? slots + (size_t)(16 + i) * d : zero), ((48 + i) < used ? slots + (size_t)(48 + i) * d : zero), temporary); \
        CK_AT_ADD(d, lane + i * d, temporary, lane + i * d);                                                         \
    }                                                                                                                \
    for (size_t i = 0; i < 8; ++i) CK_AT_ADD(d, lane + (i + 8) * d, lane + i * d, lane + i * d);                     \
    for (size_t i = 0; i < 4; ++i) CK_AT_ADD(d, lane + (i + 4) * d, lane + i * d, lane + i * d);                     \
    CK_AT_ADD(d, lane, lane + 2 * d, lane);                                                                          \
    CK_AT_ADD(d, lane + d, lane + 3 * d, lane + d);                                                                  \
    CK_AT_ADD(d, lane, lane + d, a->out);                                                                            \
} while (0)

#endif  // CK_ATTEND_BODY_H
