// ck_ops.c — the portable scalar reference of the float ops (CKernelsOps.h), the RoPE cache, the GELU
// table, the per-path op tables and the call-through helpers.
//
// The reference is ggml-cpu's code for a build without SIMD, transcribed operation by operation: same
// precision for every intermediate (float, or double where ggml accumulates in ggml_float), same order
// of additions, glibc's expf / cosf / sinf / logf / powf / tanhf, and an explicit fmaf where ggml's
// compilers contract a*b+c (see CKernelsOps.h). Contraction is otherwise off (ck_ops_impl.h).
#include <pthread.h>
#include <string.h>

#include "ck_ops_impl.h"

// MARK: - RMSNorm

CK_INTERNAL float ck_rms_mean_serial(size_t n, const float *x) {
    // ggml: ggml_float sum += (ggml_float)(x[i]*x[i]); mean = sum/ne00 (double), stored as float.
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += (double)(x[i] * x[i]);
    return (float)(sum / (double)n);
}

CK_INTERNAL float ck_rms_mean_from_any_order(size_t n, const float *x, double sum) {
    const double dn = (double)n;
    // Non-finite: some square is +inf (then both sums are +inf) or NaN (both NaN).
    if (!isfinite(sum)) return (float)(sum / dn);
    // The terms are non-negative doubles (exact squares-in-float), so any summation order, the serial
    // one included, lands within γ_{n-1}·S ≈ (n-1)·2^-53·S of the exact sum S: the serial sum is within
    // about (n-1)·2^-52 of `sum`. delta doubles that and covers the rounding of the bounds themselves.
    // x / n and the float conversion are monotonic, so equal float means at both ends pin the serial one.
    const double delta = (double)(n + 2) * 0x1p-51;
    const float lo = (float)((sum - sum * delta) / dn);
    const float hi = (float)((sum + sum * delta) / dn);
    if (lo == hi) return lo;
    return ck_rms_mean_serial(n, x);
}

void ck_rms_norm_f32(size_t n, const float *x, const float *w, float eps, float *y) {
    const float scale = ck_rms_scale(ck_rms_mean_serial(n, x), eps);
    if (w) {
        for (size_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
    } else {
        for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale;
    }
}

// MARK: - RoPE: correction dims and cache (scalar only; one cache serves every head)

static float ck_rope_corr_dim(int32_t n_dims, int32_t n_ctx_orig, float n_rot, float base) {
    // ggml: n_dims * logf(n_ctx_orig / (n_rot * 2 * (float)M_PI)) / (2 * logf(base)), all in float.
    const float pi = (float)3.14159265358979323846;
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2.0f * pi)) / (2.0f * logf(base));
}

void ck_rope_yarn_corr_dims(int32_t n_dims, int32_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow,
                            float dims[2]) {
    const float start = floorf(ck_rope_corr_dim(n_dims, n_ctx_orig, beta_fast, freq_base));
    const float end = ceilf(ck_rope_corr_dim(n_dims, n_ctx_orig, beta_slow, freq_base));
    const float last = (float)(n_dims - 1);
    dims[0] = 0.0f > start ? 0.0f : start;  // MAX(0, start)
    dims[1] = last < end ? last : end;      // MIN(n_dims - 1, end)
}

// rope_yarn_ramp: 1 - clamp((i0/2 - low) / max(0.001, high - low), 0, 1), i0/2 an integer.
static float ck_rope_ramp(float low, float high, int32_t i0) {
    const float range = 0.001f > high - low ? 0.001f : high - low;
    const float y = ((float)(i0 / 2) - low) / range;
    const float lo = 0.0f > y ? 0.0f : y;
    return 1.0f - (1.0f < lo ? 1.0f : lo);
}

void ck_rope_cache(const ck_rope_config *cfg, int32_t pos, const float *freq_factors, float *cache) {
    const int32_t n_dims = cfg->n_dims;
    const float freq_scale = cfg->freq_scale, ext_factor = cfg->ext_factor;
    const float theta_scale = powf(cfg->freq_base, -2.0f / (float)n_dims);
    float corr[2];
    ck_rope_yarn_corr_dims(n_dims, cfg->n_ctx_orig, cfg->freq_base, cfg->beta_fast, cfg->beta_slow, corr);

    float theta = (float)pos;  // ggml passes the int position as the float theta_base
    for (int32_t i0 = 0; i0 < n_dims; i0 += 2) {
        const float ff = freq_factors ? freq_factors[i0 / 2] : 1.0f;
        const float theta_extrap = theta / ff;
        const float theta_interp = freq_scale * theta_extrap;
        float phi = theta_interp;
        float mscale = cfg->attn_factor;
        if (ext_factor != 0.0f) {
            const float ramp_mix = ck_rope_ramp(corr[0], corr[1], i0) * ext_factor;
            phi = fmaf(theta_interp, 1.0f - ramp_mix, theta_extrap * ramp_mix);
            mscale *= fmaf(0.1f, logf(1.0f / freq_scale), 1.0f);
        }
        cache[i0 + 0] = cosf(phi) * mscale;
        cache[i0 + 1] = sinf(phi) * mscale;
        theta *= theta_scale;
    }
}

void ck_rope_norm_f32(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x, float *y) {
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        for (size_t i = 0; i < n_dims; i += 2) {
            ck_rope_pair(xh[i], xh[i + 1], cache[i], cache[i + 1], &yh[i], &yh[i + 1]);
        }
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

void ck_rope_neox_f32(const float *cache, size_t n_dims, size_t head_dim, size_t n_heads, const float *x, float *y) {
    const size_t half = n_dims / 2;
    for (size_t h = 0; h < n_heads; ++h) {
        const float *xh = x + h * head_dim;
        float *yh = y + h * head_dim;
        for (size_t k = 0; k < half; ++k) {
            ck_rope_pair(xh[k], xh[k + half], cache[2 * k], cache[2 * k + 1], &yh[k], &yh[k + half]);
        }
        ck_rope_copy_rest(n_dims, head_dim, xh, yh);
    }
}

// MARK: - Softmax

float ck_max_f32(size_t n, const float *x) {
    float m = -INFINITY;
    for (size_t i = 0; i < n; ++i) m = m > x[i] ? m : x[i];  // ggml MAX(max, x[i])
    return m;
}

double ck_exp_sub_f32(size_t n, const float *x, float max, float *y) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float v = expf(x[i] - max);
        sum += (double)v;
        y[i] = v;
    }
    return sum;
}

void ck_scale_f32(size_t n, const float *x, float s, float *y) {
    for (size_t i = 0; i < n; ++i) y[i] = x[i] * s;
}

void ck_softmax_f32(size_t n, const float *x, float scale, const float *mask, float *y) {
    for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale;
    if (mask) {
        for (size_t i = 0; i < n; ++i) y[i] += mask[i];
    }
    const float max = ck_max_f32(n, y);
    if (max == -INFINITY) {
        ck_softmax_zero(n, y);
        return;
    }
    const double sum = ck_exp_sub_f32(n, y, max, y);
    ck_scale_f32(n, y, (float)(1.0 / sum), y);
}

// MARK: - SiLU, SwiGLU

void ck_silu_f32(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; ++i) y[i] = ck_silu_scalar(x[i]);
}

void ck_swiglu_f32(size_t n, const float *gate, const float *up, float *y) {
    for (size_t i = 0; i < n; ++i) y[i] = ck_silu_scalar(gate[i]) * up[i];
}

// MARK: - GELU, GeGLU (f16 table)

static uint16_t k_gelu_table[(1 << 16) + 1];  // +1: a 32-bit gather at index 65535 stays inside
static pthread_once_t k_gelu_once = PTHREAD_ONCE_INIT;

// ggml_gelu_f32 as compiled with FMA contraction: 0.5f*x*(1.0f + tanhf(S*x*(1.0f + A*x*x))).
static float ck_gelu_formula(float v) {
    return (0.5f * v) * (1.0f + tanhf((CK_SQRT_2_OVER_PI * v) * fmaf(CK_GELU_COEF_A * v, v, 1.0f)));
}

static void ck_gelu_build(void) {
    for (uint32_t i = 0; i < (1u << 16); ++i) {
        k_gelu_table[i] = ck_float_to_half(ck_gelu_formula(ck_half_to_float((uint16_t)i)));
    }
    k_gelu_table[1u << 16] = 0;
}

CK_INTERNAL const uint16_t *ck_gelu_table(void) {
    pthread_once(&k_gelu_once, ck_gelu_build);
    return k_gelu_table;
}

uint16_t ck_gelu_f16(uint16_t h) { return ck_gelu_table()[h]; }

void ck_gelu_f32(size_t n, const float *x, float *y) {
    const uint16_t *t = ck_gelu_table();
    for (size_t i = 0; i < n; ++i) y[i] = ck_gelu_one(t, x[i]);
}

void ck_geglu_f32(size_t n, const float *gate, const float *up, float *y) {
    const uint16_t *t = ck_gelu_table();
    for (size_t i = 0; i < n; ++i) y[i] = ck_geglu_one(t, gate[i], up[i]);
}

// MARK: - Element-wise

void ck_add_f32(size_t n, const float *a, const float *b, float *y) {
    for (size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void ck_mul_f32(size_t n, const float *a, const float *b, float *y) {
    for (size_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

// MARK: - F16 KV helpers

float ck_dot_f16_f32(size_t n, const void *k, const float *q) {
    const uint8_t *p = k;
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += (double)(ck_half_to_float(ck_load_u16(p + 2 * i)) * q[i]);
    return (float)sum;
}

void ck_axpy_f16_f32(size_t n, float a, const void *v, float *y) {
    const uint8_t *p = v;
    for (size_t i = 0; i < n; ++i) y[i] = fmaf(ck_half_to_float(ck_load_u16(p + 2 * i)), a, y[i]);
}

// MARK: - Tables

static ck_ops k_ops[CK_PATH_COUNT];
static pthread_once_t k_ops_once = PTHREAD_ONCE_INIT;

static void ck_ops_fill_scalar(ck_ops *t) {
    t->rms_norm = ck_rms_norm_f32;
    t->rope_norm = ck_rope_norm_f32;
    t->rope_neox = ck_rope_neox_f32;
    t->max = ck_max_f32;
    t->exp_sub = ck_exp_sub_f32;
    t->softmax = ck_softmax_f32;
    t->silu = ck_silu_f32;
    t->swiglu = ck_swiglu_f32;
    t->gelu = ck_gelu_f32;
    t->geglu = ck_geglu_f32;
    t->add = ck_add_f32;
    t->mul = ck_mul_f32;
    t->scale = ck_scale_f32;
    t->dot_f16 = ck_dot_f16_f32;
    t->axpy_f16 = ck_axpy_f16_f32;
    t->attend_f16 = ck_attend_f16_generic;
    t->attend_f16_heads = ck_attend_f16_heads_generic;
    t->attend_q8_0 = ck_attend_q8_0_generic;
    t->axpy_f32 = ck_axpy_f32;
}

static void ck_ops_build(void) {
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        k_ops[p].path = (ck_path)p;
        k_ops[p].name = ck_path_name((ck_path)p);
        ck_ops_fill_scalar(&k_ops[p]);
    }
#if defined(__x86_64__)
    ck_ops_avx2_fill(&k_ops[CK_PATH_AVX2]);
    ck_ops_avx2_fill(&k_ops[CK_PATH_AVXVNNI]);
    ck_ops_avx512_fill(&k_ops[CK_PATH_AVX512]);
    ck_ops_avx512_fill(&k_ops[CK_PATH_AVX512VNNI]);
#endif
#if defined(__aarch64__)
    ck_ops_neon_fill(&k_ops[CK_PATH_NEON]);
    ck_ops_neon_fill(&k_ops[CK_PATH_DOTPROD]);
#endif
    // A path with its own attend_f16 (AVX-512: slots in registers) and no grouped one of its own runs
    // the heads one by one through it.
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        if (k_ops[p].attend_f16 != ck_attend_f16_generic && k_ops[p].attend_f16_heads == ck_attend_f16_heads_generic) {
            k_ops[p].attend_f16_heads = ck_attend_f16_heads_each;
        }
    }
}

const ck_ops *ck_ops_select(ck_path path) {
    if ((unsigned)path >= CK_PATH_COUNT || !ck_path_supported(path)) return NULL;
    pthread_once(&k_ops_once, ck_ops_build);
    return &k_ops[path];
}
