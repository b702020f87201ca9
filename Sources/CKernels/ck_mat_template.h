// ck_mat_template.h — mat-vec / mat-mat drivers shared by every SIMD path.
//
// Each path provides, per weight type, one micro-kernel
//     mk_<t>(int nc, size_t nb, const void *w_row, const void *const *x, float *out)
// that walks one weight row's nb blocks once and, for each block, unpacks it once and multiplies it
// with nc (1..4) activation rows, writing nc dot products. The micro-kernels are always_inline, and
// the drivers below call them with a constant nc, so each nc gets its own fully unrolled copy with the
// nc accumulators in registers. That is how mat-mat reuses each loaded, unpacked weight block across
// 4 activation vectors.
//
// Mat-mat walks row tiles of CK_MM_ROW_TILE rows; inside a tile it runs every group of 4 vectors, so
// a tile's weight bytes are read from memory once and then come from L1/L2 for the other groups.
//
// Includer defines: CK_FN(name) (path-prefixed name), CK_TGT (target attribute), then instantiates
// CK_DEFINE_MAT(t, block_elems) after defining CK_FN(mk_##t).
#ifndef CK_MAT_TEMPLATE_H
#define CK_MAT_TEMPLATE_H

#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_ALWAYS_INLINE inline __attribute__((always_inline))
#define CK_MM_ROW_TILE 8

#endif  // CK_MAT_TEMPLATE_H

// Re-expanded per path (the macro body refers to CK_FN / CK_TGT of the including file).
#undef CK_DEFINE_MAT
#define CK_DEFINE_MAT(t, QB)                                                                            \
    static CK_TGT float CK_FN(dot_##t)(size_t n, const void *w, const void *x) {                        \
        const void *xs[1] = {x};                                                                        \
        float o[1];                                                                                     \
        CK_FN(mk_##t)(1, n / (QB), w, xs, o);                                                           \
        return o[0];                                                                                    \
    }                                                                                                   \
    static CK_TGT void CK_FN(matvec_##t)(const void *w, size_t rs, const void *xq, float *y, size_t r0,   \
                                         size_t r1, size_t cols) {                                     \
        const size_t nb = cols / (QB);                                                                  \
        const void *xs[1] = {xq};                                                                       \
        for (size_t r = r0; r < r1; ++r) {                                                              \
            float o[1];                                                                                 \
            CK_FN(mk_##t)(1, nb, (const char *)w + r * rs, xs, o);                                      \
            y[r] = o[0];                                                                                \
        }                                                                                               \
    }                                                                                                   \
    static CK_TGT void CK_FN(matmul_##t)(const void *w, size_t rs, const void *xq, size_t xstride,       \
                                         size_t nvec, float *y, size_t ys, size_t r0, size_t r1,        \
                                         size_t cols) {                                                 \
        const size_t nb = cols / (QB);                                                                  \
        for (size_t t0 = r0; t0 < r1; t0 += CK_MM_ROW_TILE) {                                           \
            const size_t t1 = t0 + CK_MM_ROW_TILE < r1 ? t0 + CK_MM_ROW_TILE : r1;                      \
            for (size_t j0 = 0; j0 < nvec; j0 += 4) {                                                   \
                const size_t nc = nvec - j0 < 4 ? nvec - j0 : 4;                                        \
                const void *xs[4];                                                                      \
                for (size_t c = 0; c < nc; ++c) xs[c] = (const char *)xq + (j0 + c) * xstride;          \
                for (size_t r = t0; r < t1; ++r) {                                                      \
                    const void *row = (const char *)w + r * rs;                                         \
                    float o[4];                                                                         \
                    switch (nc) {                                                                       \
                    case 4: CK_FN(mk_##t)(4, nb, row, xs, o); break;                                    \
                    case 3: CK_FN(mk_##t)(3, nb, row, xs, o); break;                                    \
                    case 2: CK_FN(mk_##t)(2, nb, row, xs, o); break;                                    \
                    default: CK_FN(mk_##t)(1, nb, row, xs, o); break;                                   \
                    }                                                                                   \
                    for (size_t c = 0; c < nc; ++c) y[(j0 + c) * ys + r] = o[c];                        \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

// The kernel-table entries every path fills the same way: dot, mat-vec and mat-mat for the nine weight
// types, and the integer partials for the six quantized ones (re-expanded per path, like the above).
#define CK_SET_TYPE_KERNELS(k, T, t)                                                                    \
    (k)->vec_dot[T] = CK_FN(dot_##t);                                                                   \
    (k)->matvec[T] = CK_FN(matvec_##t);                                                                 \
    (k)->matmul[T] = CK_FN(matmul_##t);
#define CK_SET_ALL_KERNELS(k)                                                                           \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_F32, f32)                                                            \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_F16, f16)                                                            \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_BF16, bf16)                                                          \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_Q8_0, q8_0)                                                          \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_Q4_0, q4_0)                                                          \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_Q5_0, q5_0)                                                          \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_Q4_K, q4_K)                                                          \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_Q5_K, q5_K)                                                          \
    CK_SET_TYPE_KERNELS(k, CK_TYPE_Q6_K, q6_K)                                                          \
    (k)->isums[CK_TYPE_Q8_0] = CK_FN(isums_q8_0);                                                       \
    (k)->isums[CK_TYPE_Q4_0] = CK_FN(isums_q4_0);                                                       \
    (k)->isums[CK_TYPE_Q5_0] = CK_FN(isums_q5_0);                                                       \
    (k)->isums[CK_TYPE_Q4_K] = CK_FN(isums_q4_K);                                                       \
    (k)->isums[CK_TYPE_Q5_K] = CK_FN(isums_q5_K);                                                       \
    (k)->isums[CK_TYPE_Q6_K] = CK_FN(isums_q6_K);
