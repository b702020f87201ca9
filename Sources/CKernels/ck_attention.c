// ck_attention.c — one query head's attention over an F16 KV cache, through any path's ops
// (CKernelsOps.h, "One query head's attention"). The AVX-512 path replaces it with a version that keeps
// the P·V slots in registers (ck_ops_avx512.c); this one is the reference it must equal bit for bit.
#include <string.h>

#include "CKernels.h"
#include "ck_ops_impl.h"

/// Lanes of ggml_vec_dot_f16's AVX-512 blocking (4 accumulators of 16): the slot count of P·V.
#define CK_ATTEND_LANES 64

size_t ck_attend_f16_scratch_floats(size_t head_dim, size_t visible) {
    const size_t width = (visible + CK_ATTEND_LANES - 1) / CK_ATTEND_LANES * CK_ATTEND_LANES;
    // query | scores (by position, padded) | 64 slot rows | 16 lane rows | a temporary row | a zero row
    return head_dim + width + (CK_ATTEND_LANES + 16 + 2) * head_dim;
}

void ck_attend_f16_generic(const ck_ops *ops, const ck_attend_args *a) {
    const size_t d = a->head_dim, lanes = CK_ATTEND_LANES;
    const size_t first = a->first, visible = a->visible, cells = a->cells;
    const size_t row_start = first / lanes * lanes;
    const size_t width = (visible + lanes - 1) / lanes * lanes;
    float *query = a->scratch;
    float *scores = query + d;
    float *slots = scores + width;
    float *lane = slots + lanes * d;
    float *temporary = lane + 16 * d;
    float *zero = temporary + d;
    const uint16_t *keys = a->keys, *values = a->values;

    // llama.cpp multiplies K (f16) by Q converted to f16 ...
    for (size_t i = 0; i < d; ++i) query[i] = ck_half_to_float(ck_float_to_half(a->q[i]));
    for (size_t p = first; p < visible; ++p) {
        const size_t cell = p < cells ? p : p % cells;
        scores[p] = ops->dot_f16(d, keys + cell * d, query);
    }
    for (size_t p = row_start; p < first; ++p) scores[p] = -INFINITY;
    for (size_t p = visible; p < width; ++p) scores[p] = -INFINITY;
    ops->softmax(width - row_start, scores + row_start, a->scale, NULL, scores + row_start);
    // ... and V (f16) by the probabilities converted to f16.
    for (size_t p = first; p < visible; ++p) scores[p] = ck_half_to_float(ck_float_to_half(scores[p]));

    const size_t used = visible < lanes ? visible : lanes;
    memset(slots, 0, used * d * sizeof(float));
    memset(zero, 0, d * sizeof(float));
    for (size_t p = first; p < visible; ++p) {
        const size_t cell = p < cells ? p : p % cells;
        ops->axpy_f16(d, scores[p], values + cell * d, slots + (p % lanes) * d);
    }
    // Slot s = 16 j + i is accumulator j's lane i (slots >= used hold 0).
#define CK_SLOT(s) ((s) < used ? slots + (size_t)(s) * d : zero)
    for (size_t i = 0; i < 16; ++i) {
        ops->add(d, CK_SLOT(i), CK_SLOT(32 + i), lane + i * d);
        ops->add(d, CK_SLOT(16 + i), CK_SLOT(48 + i), temporary);
        ops->add(d, lane + i * d, temporary, lane + i * d);
    }
#undef CK_SLOT
    for (size_t i = 0; i < 8; ++i) ops->add(d, lane + (i + 8) * d, lane + i * d, lane + i * d);
    for (size_t i = 0; i < 4; ++i) ops->add(d, lane + (i + 4) * d, lane + i * d, lane + i * d);
    ops->add(d, lane, lane + 2 * d, lane);
    ops->add(d, lane + d, lane + 3 * d, lane + d);
    ops->add(d, lane, lane + d, a->out);
}

// MARK: - Q8_0 cache (llama.cpp's flash-attention order; see CKernelsOps.h)

void ck_axpy_f32(size_t n, float a, const float *x, float *y) {
    for (size_t i = 0; i < n; ++i) y[i] = fmaf(x[i], a, y[i]);
}

size_t ck_attend_q8_0_scratch_floats(size_t head_dim) {
    // V32 | VKQ32 | q as Q8_0 blocks (34 bytes per 32 values, rounded up to floats)
    return 2 * head_dim + (head_dim / 32 * 34 + 3) / 4 + 1;
}

void ck_attend_q8_0_generic(const ck_ops *ops, const ck_attend_args *a) {
    const size_t d = a->head_dim, row = d / 32 * 34;
    const size_t first = a->first, visible = a->visible, cells = a->cells;
    float *v32 = a->scratch;
    float *vkq = v32 + d;
    void *q8 = vkq + d;
    const uint8_t *keys = a->keys, *values = a->values;
    const ck_kernels *kernels = ck_select_kernels(ops->path);
    const ck_vec_dot_fn dot = kernels ? kernels->vec_dot[CK_TYPE_Q8_0] : NULL;

    ck_quantize_row_q8_0(a->q, q8, d);
    memset(vkq, 0, d * sizeof(float));
    float sum = 0.0f, max = -INFINITY;
    for (size_t p = first; p < visible; ++p) {
        const size_t cell = p < cells ? p : p % cells;
        const float dotted = dot ? dot(d, keys + cell * row, q8) : ck_vec_dot_q8_0_q8_0(d, keys + cell * row, q8);
        const float s = dotted * a->scale;
        float ms = 1.0f, vs = 1.0f;
        if (s > max) {
            const float old = max;
            max = s;
            ms = expf(old - max);
            ops->scale(d, vkq, ms, vkq);
        } else {
            vs = expf(s - max);
        }
        ck_dequantize_row_q8_0(values + cell * row, v32, d);
        ops->axpy_f32(d, vs, v32, vkq);
        sum = fmaf(sum, ms, vs);
    }
    const float inverse = sum == 0.0f ? 0.0f : 1.0f / sum;
    ops->scale(d, vkq, inverse, a->out);
}
