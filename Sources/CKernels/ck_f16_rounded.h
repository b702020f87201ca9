// ck_f16_rounded.h — F16 mat-vec / mat-mat drivers that round the activations to F16 once, shared by
// the SIMD paths (re-expanded per path, like ck_mat_template.h).
//
// Includer defines CK_FN / CK_TGT and, before including: CK_FN(f16_round_row)(x, r, n) (the path's
// rounding of n activations, the same values its mk_f16 forms), CK_FN(mk_f16_pre) (mk_f16 on
// activations already rounded), and CK_FN(matvec_f16) / CK_FN(matmul_f16) (the per-row rounding
// drivers, for rows wider than the scratch).
//
// mk_f16 rounds each activation to F16 for every row it meets: two conversions per 8 weights and
// column beside the weights' one conversion and the fma (F16 mat-vec at about half the read wall).
// These round a vector once per call (mat-vec) or a group of up to 4 once per tile of CK_F16_TILE
// rows (mat-mat) into stack scratch -- the same rounding (vector over the whole steps, scalar past
// them), so the same bits -- and run the kernel on the rounded values. Rows wider than the scratch
// take the per-row rounding.
#ifndef CK_F16_ROUND_FLOATS  // the C tests lower it, to reach the fallback
#define CK_F16_ROUND_FLOATS 16384
#endif
#ifndef CK_F16_TILE
#define CK_F16_TILE 16
#endif

static CK_TGT void CK_FN(matvec_f16_rounded)(const void *w, size_t rs, const void *xq, float *y, size_t r0, size_t r1,
                                             size_t cols) {
    if (cols > CK_F16_ROUND_FLOATS) {
        CK_FN(matvec_f16)(w, rs, xq, y, r0, r1, cols);
        return;
    }
    float xr[CK_F16_ROUND_FLOATS] __attribute__((aligned(64)));
    CK_FN(f16_round_row)(xq, xr, cols);
    const void *xs[1] = {xr};
    for (size_t r = r0; r < r1; ++r) {
        float o[1];
        CK_FN(mk_f16_pre)(1, cols, (const char *)w + r * rs, xs, o);
        y[r] = o[0];
    }
}

static CK_TGT void CK_FN(matmul_f16_rounded)(const void *w, size_t rs, const void *xq, size_t xstride, size_t nvec,
                                             float *y, size_t ys, size_t r0, size_t r1, size_t cols) {
    if (cols * 4 > CK_F16_ROUND_FLOATS) {
        CK_FN(matmul_f16)(w, rs, xq, xstride, nvec, y, ys, r0, r1, cols);
        return;
    }
    float xr[CK_F16_ROUND_FLOATS] __attribute__((aligned(64)));
    // Each rounded column starts on a 32-byte boundary.
    const size_t stride = (cols + 7) & ~(size_t)7;
    for (size_t t0 = r0; t0 < r1; t0 += CK_F16_TILE) {
        const size_t t1 = t0 + CK_F16_TILE < r1 ? t0 + CK_F16_TILE : r1;
        for (size_t j0 = 0; j0 < nvec; j0 += 4) {
            const size_t nc = nvec - j0 < 4 ? nvec - j0 : 4;
            const void *xs[4];
            for (size_t c = 0; c < nc; ++c) {
                CK_FN(f16_round_row)((const float *)(const void *)((const char *)xq + (j0 + c) * xstride), xr + c * stride, cols);
                xs[c] = xr + c * stride;
            }
            for (size_t r = t0; r < t1; ++r) {
                const void *row = (const char *)w + r * rs;
                float o[4];
                switch (nc) {
                case 4: CK_FN(mk_f16_pre)(4, cols, row, xs, o); break;
                case 3: CK_FN(mk_f16_pre)(3, cols, row, xs, o); break;
                case 2: CK_FN(mk_f16_pre)(2, cols, row, xs, o); break;
                default: CK_FN(mk_f16_pre)(1, cols, row, xs, o); break;
                }
                for (size_t c = 0; c < nc; ++c) y[(j0 + c) * ys + r] = o[c];
            }
        }
    }
}

