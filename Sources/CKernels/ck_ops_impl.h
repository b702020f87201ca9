// ck_ops_impl.h — private declarations shared by the float-op files (ck_ops.c: scalar reference,
// tables, GELU table, RoPE cache; ck_ops_avx2.c, ck_ops_avx512.c, ck_ops_neon.c: SIMD paths).
//
// Why FP contraction is switched off in every ops file: the scalar reference must round exactly where
// ggml's C source rounds (or, where ggml's a*b+c is contracted by its compiler, fuse exactly there via
// an explicit fmaf). Clang contracts a*b+c on its own when the target has FMA (all of AArch64, and the
// x86 functions carrying target("fma")), which would make the reference depend on the CPU it was built
// for. GCC only contracts outside ISO C mode; the test build passes -ffp-contract=off as well.
#ifndef CK_OPS_IMPL_H
#define CK_OPS_IMPL_H

#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "CKernelsOps.h"
#include "ck_fp16.h"
#include "ck_types.h"

// MARK: - Constants of ggml_v_expf (ARM optimized-routines expf, as ggml vec.h uses it)

#define CK_EXP_SHIFT 0x1.8p23f       // round-to-integer shifter
#define CK_EXP_LOG2E 0x1.715476p+0f  // 1/ln 2
#define CK_EXP_LN2_HI 0x1.62e4p-1f   // ln 2, high part
#define CK_EXP_LN2_LO 0x1.7f7d1cp-20f
#define CK_EXP_C0 0x1.ffffecp-1f  // polynomial for exp(b) - 1
#define CK_EXP_C1 0x1.fffdb6p-2f
#define CK_EXP_C2 0x1.555e66p-3f
#define CK_EXP_C3 0x1.573e2ep-5f
#define CK_EXP_C4 0x1.0e4020p-7f

// GELU (ggml vec.h)
#define CK_GELU_COEF_A 0.044715f
#define CK_SQRT_2_OVER_PI 0.79788456080286535587989211986876f

// MARK: - Scalar pieces the SIMD paths reuse (tails, the RMSNorm fallback)

/// ggml_silu_f32: x / (1 + expf(-x)), glibc expf (as every ggml scalar loop).
static inline float ck_silu_scalar(float x) { return x / (1.0f + expf(-x)); }

/// The float mean of squares exactly as llama.cpp computes it (serial double sum).
CK_INTERNAL float ck_rms_mean_serial(size_t n, const float *x);

/// Given a sum of the squares of n floats computed in any order in double, returns the serial
/// (llama.cpp) float mean: certified from `sum` when possible, recomputed serially otherwise.
CK_INTERNAL float ck_rms_mean_from_any_order(size_t n, const float *x, double sum);

/// 1 / sqrt(mean + eps), as ggml.
static inline float ck_rms_scale(float mean, float eps) { return 1.0f / sqrtf(mean + eps); }

/// The GELU table: 65536 f16 entries plus one pad entry, so 32-bit gathers at any index stay inside.
CK_INTERNAL const uint16_t *ck_gelu_table(void);

/// ggml's GELU of one float (table path), also the SIMD tails.
static inline float ck_gelu_one(const uint16_t *table, float x) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    return ck_half_to_float(table[ck_float_to_half(x)]);
}
static inline float ck_geglu_one(const uint16_t *table, float x, float g) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x * g;
    return ck_half_to_float(table[ck_float_to_half(x)]) * g;
}

/// One RoPE pair, contracted as ggml's compilers do (see CKernelsOps.h).
static inline void ck_rope_pair(float a, float b, float c, float s, float *out_a, float *out_b) {
    const float ra = fmaf(a, c, -(b * s));
    const float rb = fmaf(a, s, b * c);
    *out_a = ra;
    *out_b = rb;
}

/// Copies dims n_dims..head_dim-1 of each head when not in place.
static inline void ck_rope_copy_rest(size_t n_dims, size_t head_dim, const float *x, float *y) {
    if (x != y && head_dim > n_dims) memcpy(y + n_dims, x + n_dims, (head_dim - n_dims) * sizeof(float));
}

/// Fully masked softmax row (max = -inf): zeros, by choice (see CKernelsOps.h).
static inline void ck_softmax_zero(size_t n, float *y) { memset(y, 0, n * sizeof(float)); }

// MARK: - Path tables

#if defined(__x86_64__)
CK_INTERNAL void ck_ops_avx2_fill(ck_ops *t);
CK_INTERNAL void ck_ops_avx512_fill(ck_ops *t);
#endif
#if defined(__aarch64__)
CK_INTERNAL void ck_ops_neon_fill(ck_ops *t);
#endif

#endif  // CK_OPS_IMPL_H
