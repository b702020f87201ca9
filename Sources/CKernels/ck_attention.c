// ck_attention.c — one query head's attention over an F16 KV cache, through any path's ops
// (CKernelsOps.h, "One query head's attention"). The AVX-512 path replaces it with a version that keeps
// the P·V slots in registers (ck_ops_avx512.c); this one is the reference it must equal bit for bit.
#include <string.h>

#include "CKernels.h"
#include "ck_ops_impl.h"

// P·V's slot count follows the llama.cpp build the path stands for (ck_attend_body.h): 32 for the AVX2
// paths (its AVX2 build's ggml_vec_dot_f16), 64 for the others (its AVX-512 build's).
#include "ck_attend_body.h"

size_t ck_attend_f16_scratch_floats(size_t head_dim, size_t visible) {
    const size_t width = (visible + CK_ATTEND_LANES - 1) / CK_ATTEND_LANES * CK_ATTEND_LANES;
    // query | scores (by position, padded) | 64 slot rows | 16 lane rows | a temporary row | a zero row
    return head_dim + width + (CK_ATTEND_LANES + 16 + 2) * head_dim;
}

void ck_attend_f16_generic(const ck_ops *ops, const ck_attend_args *a) {
#define CK_AT_DOT(n, k, q) ops->dot_f16(n, k, q)
#define CK_AT_AXPY(n, s, v, y) ops->axpy_f16(n, s, v, y)
#define CK_AT_SOFTMAX(n, x, scale, mask, y) ops->softmax(n, x, scale, mask, y)
#define CK_AT_ADD(n, p, q, y) ops->add(n, p, q, y)
#define CK_AT_PV CK_AT_PV_AXPY
#define CK_AT_SCORES CK_AT_SCORES_DOT
    CK_ATTEND_F16_BODY(a, 1, (ops->path == CK_PATH_AVX2 || ops->path == CK_PATH_AVXVNNI) ? 32 : CK_ATTEND_LANES);
#undef CK_AT_DOT
#undef CK_AT_AXPY
#undef CK_AT_SOFTMAX
#undef CK_AT_ADD
#undef CK_AT_PV
#undef CK_AT_SCORES
}

void ck_attend_f16_heads_generic(const ck_ops *ops, const ck_attend_args *a, size_t count) {
    if (count == 0) return;
    if (count > CK_ATTEND_MAX_HEADS) {  // in groups the body's table of scratch pointers holds
        for (size_t h = 0; h < count; h += CK_ATTEND_MAX_HEADS) {
            ck_attend_f16_heads_generic(ops, a + h, count - h < CK_ATTEND_MAX_HEADS ? count - h : CK_ATTEND_MAX_HEADS);
        }
        return;
    }
#define CK_AT_DOT(n, k, q) ops->dot_f16(n, k, q)
#define CK_AT_AXPY(n, s, v, y) ops->axpy_f16(n, s, v, y)
#define CK_AT_SOFTMAX(n, x, scale, mask, y) ops->softmax(n, x, scale, mask, y)
#define CK_AT_ADD(n, p, q, y) ops->add(n, p, q, y)
#define CK_AT_PV CK_AT_PV_AXPY
#define CK_AT_SCORES CK_AT_SCORES_DOT
    CK_ATTEND_F16_BODY(a, count, (ops->path == CK_PATH_AVX2 || ops->path == CK_PATH_AVXVNNI) ? 32 : CK_ATTEND_LANES);
#undef CK_AT_DOT
#undef CK_AT_AXPY
#undef CK_AT_SOFTMAX
#undef CK_AT_ADD
#undef CK_AT_PV
#undef CK_AT_SCORES
}

void ck_attend_f16_heads_each(const ck_ops *ops, const ck_attend_args *a, size_t count) {
    for (size_t h = 0; h < count; ++h) ops->attend_f16(ops, &a[h]);
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
