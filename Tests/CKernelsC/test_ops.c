// test_ops.c — agreement tests for the float ops (CKernelsOps.h): every path present on this machine
// against the portable scalar reference, and the vector exp paths against a scalar model of ggml's
// per-ISA algorithm.
//
//   test_ops [--seed N] [-v]
//
// What is checked, per path:
// - bit-identical to the scalar reference: rms_norm (with / without weight, in place, rows of 1..4099,
//   normal / wide-exponent / huge (squares overflow) / tiny (squares underflow) / zero rows), RoPE NORM
//   and NEOX (full and partial rotary, odd pair counts, plain / YaRN / freq-factor caches, large
//   positions, in place), max, gelu / geglu (including ±10 thresholds, huge, tiny, subnormal inputs),
//   add / mul / scale, axpy_f16 (unaligned f16 rows, f16 extremes);
// - bit-identical to a scalar model of ggml's algorithm for that ISA (ggml_v_expf AVX2/NEON or AVX-512
//   variant, written with fmaf on single floats; ggml's horizontal-sum order; glibc expf for the tail):
//   exp_sub (values and the double sum), softmax, silu, swiglu;
// - within the tolerances stated in CKernelsOps.h of the scalar reference: exp_sub (3 ulp + 4·2^-149
//   per value, sum 8·FLT_EPSILON), softmax (16·FLT_EPSILON·|y| + 2^-140), silu (4·FLT_EPSILON·|y| +
//   1e-36), swiglu (5·FLT_EPSILON·|y| + 1e-36), dot_f16 ((n+16)·FLT_EPSILON·Σ|k·q| + n·1e-37: the
//   products are exact in both, only the order of float / double additions differs, bounded as in
//   test_kernels.c);
// - semantics on the scalar reference: RMSNorm against a double-precision formula, the RMSNorm
//   serial-mean certification against perturbed sums and exact ties, RoPE against cos/sin of the
//   angle, YaRN correction dims of Ministral 3 ([20, 37], MODEL-SPEC.md §4.3), softmax against a
//   double softmax, the GELU table against the double tanh formula (within f16 rounding), dispatch.
//
// Inputs include -inf masks, fully masked rows, rows not a multiple of any vector width, and the exp
// edges (-inf, underflow to subnormals and zero, the 88.4 overflow edge). Prints one line per failure
// and ends with "N passed, N failed"; exits 1 on any failure.
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CKernelsOps.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#define CK_TEST_SEED 0x6f7073ULL
#include "test_support.h"

// Internal helper under test (hidden symbol in ck_ops.c; the test links the objects directly).
float ck_rms_mean_from_any_order(size_t n, const float *x, double sum);
// Random sign, exponent in [lo, hi].
static float rnd_wide(int lo, int hi) {
    const float m = 1.0f + (float)((rnd64() >> 41) * 0x1p-23);
    const float v = ldexpf(m, lo + (int)rndu((uint32_t)(hi - lo + 1)));
    return (rnd64() & 1) ? -v : v;
}

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// Index of the first element whose bits differ, or -1.
static long first_diff(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (f2u(a[i]) != f2u(b[i])) return (long)i;
    }
    return -1;
}

// |a - b| <= rel·|b| + abs (exact equality, same infinities and NaN-ness also pass).
static int close_to(float a, float b, double rel, double abs_tol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (a == b) return 1;
    return fabs((double)a - (double)b) <= rel * fabs((double)b) + abs_tol;
}

static const size_t k_sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 127, 128,
                                 129, 255, 256, 257, 1000, 3072, 4096, 4099};
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])
#define MAXN 40000

static float g_x[MAXN], g_w[MAXN], g_m[MAXN], g_a[MAXN], g_b[MAXN];

// MARK: - Models of ggml's vector expf (one lane, fmaf where the vector code fuses)

#define C0 0x1.ffffecp-1f
#define C1 0x1.fffdb6p-2f
#define C2 0x1.555e66p-3f
#define C3 0x1.573e2ep-5f
#define C4 0x1.0e4020p-7f

// vec.h ggml_v_expf for AVX2+FMA and NEON (the same algorithm).
static float model_expf_avx2(float x) {
    const float r = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    const uint32_t e = f2u(z) << 23;
    const float k = u2f(e + f2u(1.0f));
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(C4, b, C3), u, fmaf(C2, b, C1)), u, C0 * b);
    const float an = fabsf(n);
    if (!(an > 126.0f)) return fmaf(k, j, k);
    const uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
    const float s1 = u2f(g + 0x7f000000u), s2 = u2f(e - g);
    if (an > 192.0f) return s1 * s1;
    return fmaf(s2, j, s2) * s1;
}

// vec.h ggml_v_expf for AVX-512: +1 folded into the polynomial, vscalefps (one rounding: ldexpf).
static float model_expf_avx512(float x) {
    const float r = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(C4, b, C3), u, fmaf(C2, b, C1)), u, fmaf(C0, b, 1.0f));
    if (fabsf(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
    if (isnan(n)) return NAN;
    return ldexpf(j, (int)n);
}

static float hsum_avx2(const float *v) {
    const float w0 = v[0] + v[4], w1 = v[1] + v[5], w2 = v[2] + v[6], w3 = v[3] + v[7];
    return (w0 + w2) + (w1 + w3);
}
static float hsum_avx512(const float *v) {
    float s[8], t[4];
    for (int i = 0; i < 8; ++i) s[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; ++i) t[i] = s[i] + s[i + 4];
    return (t[0] + t[2]) + (t[1] + t[3]);
}
static float hsum_neon(const float *v) { return (v[0] + v[1]) + (v[2] + v[3]); }

typedef struct {
    size_t width;  // 0: no vector blocks (scalar path: glibc everywhere)
    float (*vexp)(float);
    float (*hsum)(const float *);
} path_model;

static path_model model_for(ck_path p) {
    switch (p) {
    case CK_PATH_AVX2:
    case CK_PATH_AVXVNNI: return (path_model){8, model_expf_avx2, hsum_avx2};
    case CK_PATH_AVX512:
    case CK_PATH_AVX512VNNI: return (path_model){16, model_expf_avx512, hsum_avx512};
    case CK_PATH_NEON:
    case CK_PATH_DOTPROD: return (path_model){4, model_expf_avx2, hsum_neon};
    default: return (path_model){0, NULL, NULL};
    }
}

static double model_exp_sub(path_model m, size_t n, const float *x, float max, float *y) {
    double sum = 0.0;
    size_t i = 0;
    if (m.width) {
        for (; i + m.width <= n; i += m.width) {
            for (size_t j = 0; j < m.width; ++j) y[i + j] = m.vexp(x[i + j] - max);
            sum += (double)m.hsum(y + i);
        }
    }
    for (; i < n; ++i) {
        y[i] = expf(x[i] - max);
        sum += (double)y[i];
    }
    return sum;
}

static void model_softmax(path_model m, size_t n, const float *x, float scale, const float *mask, float *y) {
    for (size_t i = 0; i < n; ++i) {
        y[i] = x[i] * scale;
        if (mask) y[i] = y[i] + mask[i];
    }
    float max = -INFINITY;
    for (size_t i = 0; i < n; ++i) max = max > y[i] ? max : y[i];
    if (max == -INFINITY) {
        for (size_t i = 0; i < n; ++i) y[i] = 0.0f;
        return;
    }
    const double sum = model_exp_sub(m, n, y, max, y);
    const float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < n; ++i) y[i] = y[i] * inv;
}

// silu (gate only) or swiglu (gate · up) as ggml: vector blocks x / (1 + vexp(0 - x)), glibc tail.
static void model_silu(path_model m, size_t n, const float *x, const float *up, float *y) {
    size_t i = 0;
    if (m.width) {
        for (; i + m.width <= n; i += m.width) {
            for (size_t j = 0; j < m.width; ++j) {
                const float s = x[i + j] / (1.0f + m.vexp(0.0f - x[i + j]));
                y[i + j] = up ? s * up[i + j] : s;
            }
        }
    }
    for (; i < n; ++i) {
        const float s = x[i] / (1.0f + expf(-x[i]));
        y[i] = up ? s * up[i] : s;
    }
}

// MARK: - Dispatch

static void test_dispatch(void) {
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        const ck_ops *o = ck_ops_select((ck_path)p);
        CHECK((o != NULL) == ck_path_supported((ck_path)p), "ck_ops_select(%d) vs ck_path_supported", p);
        if (o) {
            CHECK(o->path == (ck_path)p && !strcmp(o->name, ck_path_name((ck_path)p)), "table %d identity", p);
        }
    }
    CHECK(ck_ops_select((ck_path)CK_PATH_COUNT) == NULL, "out-of-range path");
}

// MARK: - RMSNorm

// Row modes: 0 normal, 1 wide exponents, 2 huge (squares overflow to inf), 3 tiny (squares flush to
// 0 or subnormal), 4 zeros, 5 one large value among small ones.
static void fill_rms_row(int mode, size_t n, float *x) {
    for (size_t i = 0; i < n; ++i) {
        switch (mode) {
        case 0: x[i] = rnd_normal(); break;
        case 1: x[i] = rnd_wide(-60, 60); break;
        case 2: x[i] = rnd_wide(60, 64); break;  // up to ~3.7e19: squares up to 1.4e39 -> inf
        case 3: x[i] = rnd_wide(-90, -60); break;
        case 4: x[i] = 0.0f; break;
        default: x[i] = (i == n / 2) ? 1e6f : rnd_normal() * 1e-3f; break;
        }
    }
}

static void test_rms_norm(const ck_ops *o) {
    static float ref[MAXN], got[MAXN];
    for (size_t si = 0; si < NSIZES; ++si) {
        const size_t n = k_sizes[si];
        for (int mode = 0; mode < 6; ++mode) {
            for (int use_w = 0; use_w < 2; ++use_w) {
                fill_rms_row(mode, n, g_x);
                for (size_t i = 0; i < n; ++i) g_w[i] = rnd_normal();
                const float eps = (mode & 1) ? 1e-6f : 1e-5f;
                const float *w = use_w ? g_w : NULL;
                ck_rms_norm_f32(n, g_x, w, eps, ref);
                o->rms_norm(n, g_x, w, eps, got);
                long d = first_diff(got, ref, n);
                CHECK(d < 0, "%s rms_norm n=%zu mode=%d w=%d: [%ld] %.9g vs %.9g", o->name, n, mode, use_w, d,
                      d < 0 ? 0.0 : got[d], d < 0 ? 0.0 : ref[d]);
                memcpy(got, g_x, n * sizeof(float));
                o->rms_norm(n, got, w, eps, got);  // in place
                d = first_diff(got, ref, n);
                CHECK(d < 0, "%s rms_norm in place n=%zu mode=%d: [%ld]", o->name, n, mode, d);
            }
        }
    }
    // Rows whose mean is an exact float tie: squares 1 and t·2^-24 (t = 1 or 3) over a power-of-two
    // n make the mean 2^-k·(1 + t·2^-24), halfway between two floats; t = 1 rounds down to even, t = 3
    // up. The any-order sum cannot be certified there, so the SIMD paths must take the serial fallback.
    for (size_t n = 4; n <= 4096; n *= 2) {
        for (int t = 1; t <= 3; t += 2) {
            for (size_t i = 0; i < n; ++i) g_x[i] = 0.0f;
            g_x[n / 2] = 1.0f;
            for (int j = 0; j < t; ++j) g_x[n - 1 - (size_t)j] = 0x1p-12f;
            ck_rms_norm_f32(n, g_x, NULL, 0.0f, ref);
            o->rms_norm(n, g_x, NULL, 0.0f, got);
            const long d = first_diff(got, ref, n);
            CHECK(d < 0, "%s rms_norm tie row n=%zu t=%d: [%ld] %.9g vs %.9g", o->name, n, t, d, d < 0 ? 0.0 : got[d],
                  d < 0 ? 0.0 : ref[d]);
        }
    }
}

// Scalar semantics: the double-precision formula, and the certification helper.
static void test_rms_semantics(void) {
    static float y[MAXN];
    for (int t = 0; t < 200; ++t) {
        const size_t n = 1 + rndu(5000);
        double ss = 0;
        for (size_t i = 0; i < n; ++i) {
            g_x[i] = rnd_normal() * 3.0f;
            g_w[i] = rnd_normal();
            ss += (double)g_x[i] * g_x[i];
        }
        ck_rms_norm_f32(n, g_x, g_w, 1e-5f, y);
        const double scale = 1.0 / sqrt(ss / (double)n + 1e-5);
        int bad = 0;
        for (size_t i = 0; i < n; ++i) {
            const double want = (double)g_x[i] * scale * g_w[i];
            if (fabs(y[i] - want) > 4.0 * FLT_EPSILON * fabs(want) + 1e-30) ++bad;
        }
        CHECK(!bad, "rms_norm vs double formula n=%zu: %d off", n, bad);
    }
    // ck_rms_mean_from_any_order: every sum within (n-1)·2^-52 (relative) of the serial one gives the
    // serial mean — on random rows and on rows built so the mean is a float tie (which must fall back).
    int bad = 0, cases = 0;
    for (int t = 0; t < 400; ++t) {
        const size_t n = t % 4 == 0 ? (size_t)4 << rndu(10) : 2 + rndu(3000);
        for (size_t i = 0; i < n; ++i) g_x[i] = (t & 1) ? rnd_normal() : rnd_wide(-20, 20);
        if (t % 4 == 0) {  // ties (see test_rms_norm): squares 1 and 2^-24 or 3·2^-24
            for (size_t i = 0; i < n; ++i) g_x[i] = 0.0f;
            g_x[0] = 1.0f;
            for (int j = 0; j < ((t & 8) ? 3 : 1); ++j) g_x[1 + j] = 0x1p-12f;
        }
        double serial = 0;
        for (size_t i = 0; i < n; ++i) serial += (double)(g_x[i] * g_x[i]);
        const float want = (float)(serial / (double)n);
        for (int k = -8; k <= 8; ++k) {
            const double rel = (double)k / 8.0 * (double)(n - 1) * 0x1p-52;
            const float got = ck_rms_mean_from_any_order(n, g_x, serial * (1.0 + rel));
            ++cases;
            if (f2u(got) != f2u(want)) ++bad;
        }
    }
    CHECK(!bad, "rms mean certification: %d of %d perturbed sums gave a different mean", bad, cases);
}

// MARK: - RoPE

typedef struct {
    const char *name;
    ck_rope_config cfg;
    int use_ff;
} rope_case;

static void ministral3_attn_factor(float *a) {
    // MODEL-SPEC.md §4.4 with factor 16, yarn_log_multiplier 1: get_mscale(16,1)/get_mscale(16,1) = 1,
    // times 1/(1 + 0.1 ln 16) (cancelling the factor rope_yarn re-applies).
    *a = 1.0f / (1.0f + 0.1f * logf(16.0f));
}

static void test_rope_semantics(void) {
    float dims[2];
    ck_rope_yarn_corr_dims(128, 16384, 1e6f, 32.0f, 1.0f, dims);
    CHECK(dims[0] == 20.0f && dims[1] == 37.0f, "Ministral 3 YaRN corr dims: [%g, %g], want [20, 37]", dims[0],
          dims[1]);
    ck_rope_yarn_corr_dims(128, 4096, 10000.0f, 32.0f, 1.0f, dims);
    CHECK(dims[0] >= 0.0f && dims[1] <= 127.0f && dims[0] <= dims[1], "corr dims clamped: [%g, %g]", dims[0], dims[1]);

    static float cache[512];
    // Position 0: cos = magnitude, sin = 0; YaRN magnitude = attn_factor · (1 + 0.1 ln(1/s)), fused.
    ck_rope_config plain = {128, 0, 10000.0f, 1.0f, 0.0f, 1.0f, 32.0f, 1.0f};
    ck_rope_cache(&plain, 0, NULL, cache);
    int ok = 1;
    for (int k = 0; k < 64; ++k) ok &= cache[2 * k] == 1.0f && cache[2 * k + 1] == 0.0f;
    CHECK(ok, "rope cache at position 0");
    ck_rope_config yarn = {128, 16384, 1e6f, 1.0f / 16.0f, 1.0f, 0.0f, 32.0f, 1.0f};
    ministral3_attn_factor(&yarn.attn_factor);
    ck_rope_cache(&yarn, 0, NULL, cache);
    const float m = yarn.attn_factor * fmaf(0.1f, logf(16.0f), 1.0f);
    CHECK(cache[0] == m && cache[1] == 0.0f && fabsf(m - 1.0f) < 1e-6f, "YaRN magnitude at position 0: %.9g", cache[0]);

    // Against the closed form: plain RoPE angle pos·θ^(-2k/n) in double (small positions, where the
    // float repeated multiplication stays within ~1e-5 rad), and YaRN's φ per MODEL-SPEC.md §4.3.
    int bad = 0;
    for (int pos = 0; pos < 64; pos += 7) {
        ck_rope_cache(&plain, pos, NULL, cache);
        for (int k = 0; k < 64; ++k) {
            const double phi = pos * pow(10000.0, -2.0 * k / 128.0);
            if (fabs(cache[2 * k] - cos(phi)) > 2e-5 || fabs(cache[2 * k + 1] - sin(phi)) > 2e-5) ++bad;
        }
        ck_rope_cache(&yarn, pos, NULL, cache);
        for (int k = 0; k < 64; ++k) {
            const double ext = pos * pow(1e6, -2.0 * k / 128.0), interp = ext / 16.0;
            double ramp = (k - 20.0) / (37.0 - 20.0);
            ramp = 1.0 - (ramp < 0 ? 0 : ramp > 1 ? 1 : ramp);
            const double phi = interp * (1 - ramp) + ext * ramp;
            const double mag = yarn.attn_factor * (1 + 0.1 * log(16.0));
            if (fabs(cache[2 * k] - mag * cos(phi)) > 2e-5 || fabs(cache[2 * k + 1] - mag * sin(phi)) > 2e-5) ++bad;
        }
    }
    CHECK(!bad, "rope cache vs closed form: %d entries off", bad);

    // Rotation against cos/sin of the cache (double), NORM and NEOX, partial rotary copies the rest.
    for (int t = 0; t < 2; ++t) {
        const size_t nd = 32, hd = 48, nh = 3;
        ck_rope_cache(&plain, 1234, NULL, cache);
        for (size_t i = 0; i < hd * nh; ++i) g_x[i] = rnd_normal();
        ck_rope_config c = plain;
        c.n_dims = (int32_t)nd;
        ck_rope_cache(&c, 1234, NULL, cache);
        (t ? ck_rope_neox_f32 : ck_rope_norm_f32)(cache, nd, hd, nh, g_x, g_a);
        bad = 0;
        for (size_t h = 0; h < nh; ++h) {
            const float *xh = g_x + h * hd, *yh = g_a + h * hd;
            for (size_t k = 0; k < nd / 2; ++k) {
                const size_t ia = t ? k : 2 * k, ib = t ? k + nd / 2 : 2 * k + 1;
                const double cs = cache[2 * k], sn = cache[2 * k + 1];
                const double wa = xh[ia] * cs - xh[ib] * sn, wb = xh[ia] * sn + xh[ib] * cs;
                const double tol = 4 * FLT_EPSILON * (fabs(xh[ia]) + fabs(xh[ib]));
                if (fabs(yh[ia] - wa) > tol || fabs(yh[ib] - wb) > tol) ++bad;
            }
            for (size_t i = nd; i < hd; ++i) bad += f2u(yh[i]) != f2u(xh[i]);
        }
        CHECK(!bad, "rope %s rotation vs formula: %d off", t ? "neox" : "norm", bad);
    }
}

static void test_rope(const ck_ops *o) {
    static float cache[1024], ff[512], ref[MAXN], got[MAXN];
    float ministral_a;
    ministral3_attn_factor(&ministral_a);
    const rope_case cases[] = {
        {"llama", {128, 4096, 10000.0f, 1.0f, 0.0f, 1.0f, 32.0f, 1.0f}, 0},
        {"ministral3-yarn", {128, 16384, 1e6f, 1.0f / 16.0f, 1.0f, ministral_a, 32.0f, 1.0f}, 0},
        {"yarn-attn", {64, 2048, 10000.0f, 0.25f, 1.0f, 1.0f, 32.0f, 1.0f}, 0},
        {"qwen2", {64, 32768, 1e6f, 1.0f, 0.0f, 1.0f, 32.0f, 1.0f}, 0},
        {"gemma-local", {256, 32768, 10000.0f, 1.0f, 0.0f, 1.0f, 32.0f, 1.0f}, 0},
        {"freq-factors", {128, 8192, 500000.0f, 1.0f, 0.0f, 1.0f, 32.0f, 1.0f}, 1},
    };
    const int32_t positions[] = {0, 1, 2, 17, 511, 4095, 16383, 16384, 100000, 262143};
    // (n_dims, head_dim, n_heads): full, partial rotary, odd pair counts, a single pair.
    const size_t shapes[][3] = {{128, 128, 8}, {64, 64, 3}, {32, 128, 2}, {2, 2, 5}, {6, 10, 3},
                                {24, 24, 2},   {40, 40, 1}, {256, 256, 2}, {18, 64, 4}, {64, 80, 2}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
        for (size_t pi = 0; pi < sizeof positions / sizeof positions[0]; ++pi) {
            for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; ++si) {
                const size_t nd = shapes[si][0], hd = shapes[si][1], nh = shapes[si][2];
                ck_rope_config c = cases[ci].cfg;
                c.n_dims = (int32_t)nd;
                for (size_t k = 0; k < nd / 2; ++k) ff[k] = 1.0f + (float)rndu(32);
                ck_rope_cache(&c, positions[pi], cases[ci].use_ff ? ff : NULL, cache);
                for (size_t i = 0; i < hd * nh; ++i) g_x[i] = (si & 1) ? rnd_wide(-30, 30) : rnd_normal();
                for (int neox = 0; neox < 2; ++neox) {
                    void (*ref_fn)(const float *, size_t, size_t, size_t, const float *, float *) =
                        neox ? ck_rope_neox_f32 : ck_rope_norm_f32;
                    void (*fn)(const float *, size_t, size_t, size_t, const float *, float *) =
                        neox ? o->rope_neox : o->rope_norm;
                    ref_fn(cache, nd, hd, nh, g_x, ref);
                    for (size_t i = 0; i < hd * nh; ++i) got[i] = NAN;
                    fn(cache, nd, hd, nh, g_x, got);
                    long d = first_diff(got, ref, hd * nh);
                    CHECK(d < 0, "%s rope %s %s pos=%d shape=(%zu,%zu,%zu): [%ld] %.9g vs %.9g", o->name,
                          neox ? "neox" : "norm", cases[ci].name, positions[pi], nd, hd, nh, d, d < 0 ? 0.0 : got[d],
                          d < 0 ? 0.0 : ref[d]);
                    memcpy(got, g_x, hd * nh * sizeof(float));
                    fn(cache, nd, hd, nh, got, got);
                    d = first_diff(got, ref, hd * nh);
                    CHECK(d < 0, "%s rope %s in place %s pos=%d shape=(%zu,%zu,%zu): [%ld]", o->name,
                          neox ? "neox" : "norm", cases[ci].name, positions[pi], nd, hd, nh, d);
                }
            }
        }
    }
}

// MARK: - Softmax, exp, max

// Rows for the exp-based ops. Modes: 0 logits ~N(0, 5); 1 wide; 2 exp edges (-inf, underflow,
// subnormal range, zero); 3 large magnitudes (±1e4, scaled down by the caller's scale); 4 all equal.
static void fill_logits(int mode, size_t n, float *x) {
    static const float edges[] = {-INFINITY, -200.0f, -104.0f, -103.5f, -100.0f, -95.0f, -88.0f, -87.4f, -87.0f,
                                  -50.0f,    -1.0f,   -1e-30f, -0.0f,   0.0f};
    for (size_t i = 0; i < n; ++i) {
        switch (mode) {
        case 0: x[i] = rnd_normal() * 5.0f; break;
        case 1: x[i] = rnd_wide(-20, 6); break;
        case 2: x[i] = edges[rndu(sizeof edges / sizeof edges[0])] + ((rnd64() & 3) ? 0.0f : rndf() * 0.5f); break;
        case 3: x[i] = rnd_normal() * 1e4f; break;
        default: x[i] = 3.0f; break;
        }
    }
    if (mode == 2 && n > 0) x[rndu((uint32_t)n)] = 0.0f;  // keep the max finite
}

static void test_exp_sub(const ck_ops *o) {
    static float ref[MAXN], got[MAXN], mod[MAXN];
    const path_model m = model_for(o->path);
    for (size_t si = 0; si < NSIZES; ++si) {
        const size_t n = k_sizes[si];
        for (int mode = 0; mode < 5; ++mode) {
            fill_logits(mode, n, g_x);
            const float max = ck_max_f32(n, g_x);
            const float got_max = o->max(n, g_x);
            CHECK(got_max == max, "%s max n=%zu mode=%d: %g vs %g", o->name, n, mode, got_max, max);
            const double sref = ck_exp_sub_f32(n, g_x, max, ref);
            const double sgot = o->exp_sub(n, g_x, max, got);
            const double smod = model_exp_sub(m, n, g_x, max, mod);
            long d = first_diff(got, mod, n);
            CHECK(d < 0 && sgot == smod,
                  "%s exp_sub vs ggml model n=%zu mode=%d: [%ld] %.9g vs %.9g; sum %.17g vs %.17g",
                  o->name, n, mode, d, d < 0 ? 0.0 : got[d], d < 0 ? 0.0 : mod[d], sgot, smod);
            size_t bad = 0, first = 0;
            for (size_t i = 0; i < n; ++i) {
                if (!close_to(got[i], ref[i], 3.0 * FLT_EPSILON, 4.0 * 0x1p-149)) {
                    if (!bad) first = i;
                    ++bad;
                }
            }
            CHECK(!bad, "%s exp_sub vs scalar n=%zu mode=%d: %zu off, first [%zu] x=%g: %.9g vs %.9g", o->name, n,
                  mode, bad, first, bad ? g_x[first] - max : 0.0, bad ? got[first] : 0.0, bad ? ref[first] : 0.0);
            CHECK(fabs(sgot - sref) <= 8.0 * FLT_EPSILON * sref + (double)n * 4.0 * 0x1p-149,
                  "%s exp_sub sum n=%zu mode=%d: %.17g vs %.17g", o->name, n, mode, sgot, sref);
        }
    }
    // A sweep of the whole input range, one vector block at a time: -110 .. +89 and the specials.
    size_t n = 0;
    for (float v = -110.0f; v < 89.0f && n < MAXN - 16; v += 0.0137f) g_x[n++] = v;
    g_x[n++] = -INFINITY;
    g_x[n++] = 88.72f;
    g_x[n++] = 88.38f;
    while (n % 16) g_x[n++] = 0.0f;
    o->exp_sub(n, g_x, 0.0f, got);
    model_exp_sub(m, n, g_x, 0.0f, mod);
    ck_exp_sub_f32(n, g_x, 0.0f, ref);
    long d = first_diff(got, mod, n);
    CHECK(d < 0, "%s exp sweep vs ggml model: x=%g: %.9g vs %.9g", o->name, d < 0 ? 0.0 : g_x[d], d < 0 ? 0.0 : got[d],
          d < 0 ? 0.0 : mod[d]);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!close_to(got[i], ref[i], 3.0 * FLT_EPSILON, 4.0 * 0x1p-149)) {
            if (!bad) first = i;
            ++bad;
        }
    }
    CHECK(!bad, "%s exp sweep vs glibc: %zu off, first x=%g: %.9g vs %.9g", o->name, bad, bad ? g_x[first] : 0.0,
          bad ? got[first] : 0.0, bad ? ref[first] : 0.0);
}

static void test_softmax(const ck_ops *o) {
    static float ref[MAXN], got[MAXN], mod[MAXN];
    const path_model m = model_for(o->path);
    static const size_t extra[] = {32768, 32771};
    for (size_t si = 0; si < NSIZES + 2; ++si) {
        const size_t n = si < NSIZES ? k_sizes[si] : extra[si - NSIZES];
        for (int mode = 0; mode < 5; ++mode) {
            for (int mask_kind = 0; mask_kind < 4; ++mask_kind) {
                fill_logits(mode, n, g_x);
                const float scale = mode == 3 ? 0.01f : (mode == 1 ? 1.0f : 0.08838834764831845f);
                // Masks: none; causal-like (-inf after a random cut); random -inf and small biases;
                // everything -inf but one.
                const float *mask = NULL;
                if (mask_kind) {
                    const size_t cut = 1 + rndu((uint32_t)n);
                    const size_t keep = rndu((uint32_t)n);
                    for (size_t i = 0; i < n; ++i) {
                        if (mask_kind == 1) g_m[i] = i < cut ? 0.0f : -INFINITY;
                        else if (mask_kind == 2) g_m[i] = (rnd64() & 1) ? -INFINITY : rndf();
                        else g_m[i] = i == keep ? 0.0f : -INFINITY;
                    }
                    mask = g_m;
                }
                ck_softmax_f32(n, g_x, scale, mask, ref);
                o->softmax(n, g_x, scale, mask, got);
                model_softmax(m, n, g_x, scale, mask, mod);
                long d = first_diff(got, mod, n);
                CHECK(d < 0, "%s softmax vs ggml model n=%zu mode=%d mask=%d: [%ld] %.9g vs %.9g", o->name, n, mode,
                      mask_kind, d, d < 0 ? 0.0 : got[d], d < 0 ? 0.0 : mod[d]);
                size_t bad = 0, first = 0;
                for (size_t i = 0; i < n; ++i) {
                    if (!close_to(got[i], ref[i], 16.0 * FLT_EPSILON, 0x1p-140)) {
                        if (!bad) first = i;
                        ++bad;
                    }
                }
                CHECK(!bad, "%s softmax vs scalar n=%zu mode=%d mask=%d: %zu off, first [%zu] %.9g vs %.9g", o->name,
                      n, mode, mask_kind, bad, first, bad ? got[first] : 0.0, bad ? ref[first] : 0.0);
                memcpy(got, g_x, n * sizeof(float));
                o->softmax(n, got, scale, mask, got);  // in place
                CHECK(first_diff(got, mod, n) < 0, "%s softmax in place n=%zu mode=%d mask=%d", o->name, n, mode,
                      mask_kind);
            }
        }
    }
    // A fully masked row gives zeros (documented choice).
    for (size_t i = 0; i < 37; ++i) {
        g_x[i] = rnd_normal();
        g_m[i] = -INFINITY;
    }
    o->softmax(37, g_x, 1.0f, g_m, got);
    int zeros = 1;
    for (size_t i = 0; i < 37; ++i) zeros &= f2u(got[i]) == 0;
    CHECK(zeros, "%s softmax of a fully masked row is all +0", o->name);
}

static void test_softmax_semantics(void) {
    static float y[5000];
    int bad = 0;
    for (int t = 0; t < 100; ++t) {
        const size_t n = 1 + rndu(4000);
        const float scale = 0.125f;
        for (size_t i = 0; i < n; ++i) {
            g_x[i] = rnd_normal() * 8.0f;
            g_m[i] = (i > n / 2 && (rnd64() & 1)) ? -INFINITY : 0.0f;
        }
        ck_softmax_f32(n, g_x, scale, g_m, y);
        double max = -INFINITY, sum = 0, total = 0;
        for (size_t i = 0; i < n; ++i) max = fmax(max, (double)g_x[i] * scale + g_m[i]);
        for (size_t i = 0; i < n; ++i) sum += exp((double)g_x[i] * scale + g_m[i] - max);
        for (size_t i = 0; i < n; ++i) {
            const double want = exp((double)g_x[i] * scale + g_m[i] - max) / sum;
            if (fabs(y[i] - want) > 1e-6 * want + 1e-30) ++bad;
            total += y[i];
        }
        if (fabs(total - 1.0) > 1e-5) ++bad;
    }
    CHECK(!bad, "softmax vs double softmax: %d off", bad);
}

// MARK: - SiLU, SwiGLU

static void fill_activations(int mode, size_t n, float *x) {
    static const float edges[] = {-200.0f, -104.0f, -88.8f, -88.72f, -88.5f, -88.38f, -88.0f, -50.0f, -1e-30f, -0.0f,
                                  0.0f,    1e-30f,  1e-45f, 20.0f,   88.0f,  100.0f,  1e30f,  -1e30f, 3.0e38f};
    for (size_t i = 0; i < n; ++i) {
        switch (mode) {
        case 0: x[i] = rnd_normal() * 4.0f; break;
        case 1: x[i] = rnd_wide(-40, 7); break;
        default: x[i] = edges[rndu(sizeof edges / sizeof edges[0])]; break;
        }
    }
}

static void test_silu(const ck_ops *o) {
    static float ref[MAXN], got[MAXN], mod[MAXN];
    const path_model m = model_for(o->path);
    for (size_t si = 0; si < NSIZES; ++si) {
        const size_t n = k_sizes[si];
        for (int mode = 0; mode < 3; ++mode) {
            fill_activations(mode, n, g_x);
            for (size_t i = 0; i < n; ++i) g_w[i] = (mode == 2) ? rnd_wide(-10, 10) : rnd_normal();
            for (int glu = 0; glu < 2; ++glu) {
                const float *up = glu ? g_w : NULL;
                if (glu) {
                    ck_swiglu_f32(n, g_x, g_w, ref);
                    o->swiglu(n, g_x, g_w, got);
                } else {
                    ck_silu_f32(n, g_x, ref);
                    o->silu(n, g_x, got);
                }
                model_silu(m, n, g_x, up, mod);
                long d = first_diff(got, mod, n);
                CHECK(d < 0, "%s %s vs ggml model n=%zu mode=%d: [%ld] x=%g: %.9g vs %.9g", o->name,
                      glu ? "swiglu" : "silu", n, mode, d, d < 0 ? 0.0 : g_x[d], d < 0 ? 0.0 : got[d],
                      d < 0 ? 0.0 : mod[d]);
                size_t bad = 0, first = 0;
                const double rel = (glu ? 5.0 : 4.0) * FLT_EPSILON;
                for (size_t i = 0; i < n; ++i) {
                    const double abs_tol = 1e-36 * (glu ? fabs(g_w[i]) : 1.0);
                    if (!close_to(got[i], ref[i], rel, abs_tol)) {
                        if (!bad) first = i;
                        ++bad;
                    }
                }
                CHECK(!bad, "%s %s vs scalar n=%zu mode=%d: %zu off, first x=%g: %.9g vs %.9g", o->name,
                      glu ? "swiglu" : "silu", n, mode, bad, bad ? g_x[first] : 0.0, bad ? got[first] : 0.0,
                      bad ? ref[first] : 0.0);
                memcpy(got, g_x, n * sizeof(float));
                if (glu) o->swiglu(n, got, g_w, got);
                else o->silu(n, got, got);
                CHECK(first_diff(got, mod, n) < 0, "%s %s in place n=%zu mode=%d", o->name, glu ? "swiglu" : "silu", n,
                      mode);
            }
        }
    }
}

// MARK: - GELU, GeGLU

static void test_gelu(const ck_ops *o) {
    static float ref[MAXN], got[MAXN];
    static const float edges[] = {-10.0f, -9.999999f, -10.000001f, 10.0f, 9.999999f, 10.000001f, 0.0f, -0.0f,
                                  1e-8f,  -1e-8f,     1e-45f,      -3e38f, 3e38f, 1e30f, -1e30f, 65504.0f, 65520.0f,
                                  -5.5f,  2.5f,       0.5f};
    for (size_t si = 0; si < NSIZES; ++si) {
        const size_t n = k_sizes[si];
        for (int mode = 0; mode < 3; ++mode) {
            for (size_t i = 0; i < n; ++i) {
                g_x[i] = mode == 0 ? rndf() * 12.0f : mode == 1 ? rnd_wide(-30, 8) : edges[rndu(sizeof edges / 4)];
                g_w[i] = rnd_normal();
            }
            ck_gelu_f32(n, g_x, ref);
            o->gelu(n, g_x, got);
            long d = first_diff(got, ref, n);
            CHECK(d < 0, "%s gelu n=%zu mode=%d: [%ld] x=%g: %.9g vs %.9g", o->name, n, mode, d, d < 0 ? 0.0 : g_x[d],
                  d < 0 ? 0.0 : got[d], d < 0 ? 0.0 : ref[d]);
            ck_geglu_f32(n, g_x, g_w, ref);
            o->geglu(n, g_x, g_w, got);
            d = first_diff(got, ref, n);
            CHECK(d < 0, "%s geglu n=%zu mode=%d: [%ld] x=%g: %.9g vs %.9g", o->name, n, mode, d, d < 0 ? 0.0 : g_x[d],
                  d < 0 ? 0.0 : got[d], d < 0 ? 0.0 : ref[d]);
            memcpy(got, g_x, n * sizeof(float));
            o->geglu(n, got, g_w, got);
            CHECK(first_diff(got, ref, n) < 0, "%s geglu in place n=%zu", o->name, n);
        }
    }
}

static void test_gelu_semantics(void) {
    // Every finite table entry with |x| < 10 is gelu_tanh(x), rounded to f16: within one f16 rounding
    // (2^-11 relative for normal halves, 2^-25 absolute in the subnormal range) plus the float error of
    // ggml's formula itself, dominated for x < -3 by the cancellation in 1 + tanhf(.) ≈ 0 (an ulp of 1,
    // 2^-23, times 0.5·|x|).
    int bad = 0;
    for (uint32_t h = 0; h < 65536; ++h) {
        const float x = ck_fp16_to_fp32((uint16_t)h);
        if (!isfinite(x) || fabsf(x) >= 10.0f) continue;
        const double xd = x;
        const double g = 0.5 * xd * (1.0 + tanh(0.7978845608028654 * xd * (1.0 + 0.044715 * xd * xd)));
        const double t = ck_fp16_to_fp32(ck_gelu_f16((uint16_t)h));
        if (fabs(t - g) > 0x1p-11 * fabs(g) + 0x1p-25 + fabs(xd) * 0x1p-23) ++bad;
    }
    CHECK(!bad, "gelu f16 table vs double tanh formula: %d entries off", bad);
    float y[4];
    const float x[4] = {-10.0f, -12.0f, 10.0f, 12.5f};
    ck_gelu_f32(4, x, y);
    CHECK(f2u(y[0]) == 0 && f2u(y[1]) == 0 && y[2] == 10.0f && y[3] == 12.5f, "gelu thresholds: %g %g %g %g", y[0],
          y[1], y[2], y[3]);
    const float up[4] = {-2.0f, 3.0f, -2.0f, 0.5f};
    ck_geglu_f32(4, x, up, y);
    CHECK(f2u(y[0]) == 0 && f2u(y[1]) == 0 && y[2] == -20.0f && y[3] == 6.25f, "geglu thresholds");
    // gemma's activations sit in |x| < 10: a table value is f16-exact, never the tanh of x itself.
    const float v = 0.3f;
    ck_gelu_f32(1, &v, y);
    CHECK(y[0] == ck_fp16_to_fp32(ck_fp32_to_fp16(y[0])), "gelu(0.3) is an f16 value: %.9g", y[0]);
}

// MARK: - Element-wise

static void test_elementwise(const ck_ops *o) {
    static float ref[MAXN], got[MAXN];
    for (size_t si = 0; si < NSIZES; ++si) {
        const size_t n = k_sizes[si];
        for (size_t i = 0; i < n; ++i) {
            g_a[i] = (i % 7 == 3) ? rnd_wide(-140, 127) : rnd_normal();
            g_b[i] = (i % 5 == 1) ? rnd_wide(-140, 127) : rnd_normal();
        }
        const float s = rnd_wide(-20, 20);
        for (int op = 0; op < 3; ++op) {
            const char *name = op == 0 ? "add" : op == 1 ? "mul" : "scale";
            if (op == 0) {
                ck_add_f32(n, g_a, g_b, ref);
                o->add(n, g_a, g_b, got);
            } else if (op == 1) {
                ck_mul_f32(n, g_a, g_b, ref);
                o->mul(n, g_a, g_b, got);
            } else {
                ck_scale_f32(n, g_a, s, ref);
                o->scale(n, g_a, s, got);
            }
            CHECK(first_diff(got, ref, n) < 0, "%s %s n=%zu", o->name, name, n);
            memcpy(got, g_a, n * sizeof(float));
            if (op == 0) o->add(n, got, g_b, got);
            else if (op == 1) o->mul(n, got, g_b, got);
            else o->scale(n, got, s, got);
            CHECK(first_diff(got, ref, n) < 0, "%s %s in place n=%zu", o->name, name, n);
        }
    }
}

// MARK: - F16 KV helpers

static void test_f16_helpers(const ck_ops *o) {
    static uint8_t kbuf[2 * MAXN + 8];
    static float ref[MAXN], got[MAXN];
    static const size_t sizes[] = {1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80, 96, 127, 128, 129, 256, 1000, 4096};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; ++si) {
        const size_t n = sizes[si];
        for (int mode = 0; mode < 3; ++mode) {
            for (int offset = 0; offset < 2; ++offset) {
                uint8_t *k = kbuf + offset;  // odd address: rows need no alignment
                double mag = 0;
                for (size_t i = 0; i < n; ++i) {
                    float v;
                    if (mode == 0) v = rnd_normal();
                    else if (mode == 1) v = rnd_wide(-24, 14);  // f16 subnormals up to 32752
                    else v = (rnd64() & 1) ? 65504.0f : (rnd64() & 1) ? 0x1p-24f : 0.0f;
                    const uint16_t h = ck_fp32_to_fp16(v);
                    memcpy(k + 2 * i, &h, 2);
                    g_x[i] = mode == 1 ? rnd_wide(-20, 4) : rnd_normal();
                    mag += fabs((double)ck_fp16_to_fp32(h) * g_x[i]);
                }
                const float dref = ck_dot_f16_f32(n, k, g_x);
                const float dgot = o->dot_f16(n, k, g_x);
                const double tol = (double)(n + 16) * FLT_EPSILON * mag + (double)n * 1e-37;
                CHECK(fabs((double)dgot - dref) <= tol, "%s dot_f16 n=%zu mode=%d: %.9g vs %.9g (tol %.3g)", o->name, n,
                      mode, dgot, dref, tol);
                const float a = mode == 1 ? rnd_wide(-10, 10) : rnd_normal();
                for (size_t i = 0; i < n; ++i) ref[i] = got[i] = rnd_normal();
                ck_axpy_f16_f32(n, a, k, ref);
                o->axpy_f16(n, a, k, got);
                CHECK(first_diff(got, ref, n) < 0, "%s axpy_f16 n=%zu mode=%d", o->name, n, mode);
            }
        }
    }
    // Scalar semantics: dot against a double sum; axpy is one fused multiply-add.
    uint16_t h[64];
    double want = 0;
    for (int i = 0; i < 64; ++i) {
        h[i] = ck_fp32_to_fp16(rnd_normal());
        g_x[i] = rnd_normal();
        want += (double)ck_fp16_to_fp32(h[i]) * g_x[i];
    }
    CHECK(fabs(ck_dot_f16_f32(64, h, g_x) - want) <= 1e-5 * (fabs(want) + 1), "dot_f16 vs double");
    float y = 1.0f;
    const uint16_t one_third = ck_fp32_to_fp16(1.0f / 3.0f);
    ck_axpy_f16_f32(1, 3.0f, &one_third, &y);
    CHECK(y == fmaf(ck_fp16_to_fp32(one_third), 3.0f, 1.0f), "axpy is fused");
}


// MARK: - main

// attend_f16: the path's version (AVX-512: slots in registers) equals the generic one through the same
// table bit for bit, for full and sliding-window ranges, short and long rows, and ring caches whose
// positions wrap; head dims that are not a multiple of 16 take the generic route.
static void test_attend(const ck_ops *o) {
    static const size_t dims[] = {128, 64, 40, 36};
    static const size_t cases[][3] = {
        // cells, first, visible
        {256, 0, 1},   {256, 0, 17},  {256, 0, 64},  {256, 0, 65},   {256, 0, 200}, {256, 5, 200},
        {256, 64, 130}, {256, 70, 256}, {96, 40, 150}, {128, 100, 300}, {64, 3, 60},
    };
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; ++di) {
        const size_t d = dims[di];
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
            const size_t cells = cases[ci][0], first = cases[ci][1], visible = cases[ci][2];
            uint16_t *k = malloc(cells * d * 2), *v = malloc(cells * d * 2);
            for (size_t i = 0; i < cells * d; ++i) {
                k[i] = ck_fp32_to_fp16(rnd_normal());
                v[i] = ck_fp32_to_fp16(rnd_normal());
            }
            float q[128], want[128], got[128];
            for (size_t i = 0; i < d; ++i) q[i] = 2.0f * rnd_normal();
            const size_t floats = ck_attend_f16_scratch_floats(d, visible);
            float *scratch = malloc(floats * sizeof(float));
            ck_attend_args a = {q, k, v, d, cells, first, visible, 0.125f, scratch, want};
            ck_attend_f16_generic(o, &a);
            a.out = got;
            o->attend_f16(o, &a);
            const long diff = first_diff(got, want, d);
            CHECK(diff < 0, "%s attend_f16 d=%zu cells=%zu positions %zu..<%zu: [%ld] %.9g vs %.9g", o->name, d, cells,
                  first, visible, diff, diff < 0 ? 0.0 : got[diff], diff < 0 ? 0.0 : want[diff]);
            // The generic version against a plain evaluation in double (a sanity bound, not the order).
            double sum_err = 0, scale_ref = 0;
            {
                double s[400], m = -INFINITY, z = 0;
                float qh[128];
                for (size_t i = 0; i < d; ++i) qh[i] = ck_fp16_to_fp32(ck_fp32_to_fp16(q[i]));
                for (size_t p = first; p < visible; ++p) {
                    const size_t c = p < cells ? p : p % cells;
                    double dot = 0;
                    for (size_t i = 0; i < d; ++i) dot += (double)ck_fp16_to_fp32(k[c * d + i]) * qh[i];
                    s[p - first] = dot * 0.125;
                    if (s[p - first] > m) m = s[p - first];
                }
                for (size_t p = first; p < visible; ++p) z += exp(s[p - first] - m);
                for (size_t i = 0; i < d; ++i) {
                    double o_i = 0;
                    for (size_t p = first; p < visible; ++p) {
                        const size_t c = p < cells ? p : p % cells;
                        o_i += exp(s[p - first] - m) / z * ck_fp16_to_fp32(v[c * d + i]);
                    }
                    sum_err += fabs(o_i - want[i]);
                    scale_ref += fabs(o_i) + 1;
                }
            }
            CHECK(sum_err <= 2e-3 * scale_ref, "%s attend_f16 vs double d=%zu positions %zu..<%zu: error %.3g", o->name,
                  d, first, visible, sum_err / scale_ref);
            free(scratch);
            free(k);
            free(v);
        }
    }
}

// attend_f16_heads: `count` query heads over one KV head give, head by head, the bits of the path's
// attend_f16 for that head alone -- for group sizes 1, 2, 4 (Ministral 3), 5 and 17 (more than
// CK_ATTEND_MAX_HEADS: split) and 7 (Qwen2.5 0.5B), full and sliding-window ranges, ring caches, head
// dimensions 128 and 64 (the AVX-512 grouped K·Q) and others.
static void test_attend_heads(const ck_ops *o) {
    static const size_t counts[] = {1, 2, 4, 5, 7, 17};
    static const size_t cases[][3] = {{256, 0, 1}, {256, 0, 65}, {256, 5, 200}, {96, 40, 150}, {128, 100, 300},
                                       {1024, 700, 1500}, {2048, 0, 1100}};
    static const size_t dims[] = {128, 64, 40, 36, 256, 192};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; ++di) {
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
            for (size_t ni = 0; ni < sizeof counts / sizeof counts[0]; ++ni) {
                const size_t d = dims[di], n = counts[ni];
                const size_t cells = cases[ci][0], first = cases[ci][1], visible = cases[ci][2];
                uint16_t *k = malloc(cells * d * 2), *v = malloc(cells * d * 2);
                for (size_t i = 0; i < cells * d; ++i) {
                    k[i] = ck_fp32_to_fp16(rnd_normal());
                    v[i] = ck_fp32_to_fp16(rnd_normal());
                }
                const size_t floats = ck_attend_f16_scratch_floats(d, visible);
                float *q = malloc(n * d * sizeof(float)), *want = malloc(n * d * sizeof(float));
                float *got = malloc(n * d * sizeof(float)), *scratch = malloc(n * floats * sizeof(float));
                for (size_t i = 0; i < n * d; ++i) q[i] = 2.0f * rnd_normal();
                ck_attend_args a[17];
                for (size_t h = 0; h < n; ++h) {
                    a[h] = (ck_attend_args){q + h * d, k, v, d, cells, first, visible, 0.125f, scratch + h * floats, want + h * d};
                    o->attend_f16(o, &a[h]);
                    a[h].out = got + h * d;
                    for (size_t i = 0; i < floats; ++i) a[h].scratch[i] = NAN;  // nothing carried over
                }
                o->attend_f16_heads(o, a, n);
                const long diff = first_diff(got, want, n * d);
                CHECK(diff < 0, "%s attend_f16_heads n=%zu d=%zu cells=%zu positions %zu..<%zu: [%ld] %.9g vs %.9g", o->name,
                      n, d, cells, first, visible, diff, diff < 0 ? 0.0 : got[diff], diff < 0 ? 0.0 : want[diff]);
                free(q);
                free(want);
                free(got);
                free(scratch);
                free(k);
                free(v);
            }
        }
    }
}

// attend_q8_0: against a double evaluation of the same math (q quantized to Q8_0, K and V dequantized);
// axpy_f32 is one fused multiply-add per element on every path.
static void test_attend_q8_0(const ck_ops *o) {
    static const size_t cases[][3] = {{256, 0, 1}, {256, 0, 100}, {256, 30, 256}, {96, 40, 150}};
    const size_t d = 128, row = d / 32 * 34;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
        const size_t cells = cases[ci][0], first = cases[ci][1], visible = cases[ci][2];
        uint8_t *k = malloc(cells * row), *v = malloc(cells * row);
        float tmp[128], q[128], got[128];
        for (size_t c = 0; c < cells; ++c) {
            for (size_t i = 0; i < d; ++i) tmp[i] = rnd_normal();
            ck_quantize_row_q8_0(tmp, k + c * row, d);
            for (size_t i = 0; i < d; ++i) tmp[i] = rnd_normal();
            ck_quantize_row_q8_0(tmp, v + c * row, d);
        }
        for (size_t i = 0; i < d; ++i) q[i] = 2.0f * rnd_normal();
        float *scratch = malloc(ck_attend_q8_0_scratch_floats(d) * sizeof(float));
        ck_attend_args a = {q, k, v, d, cells, first, visible, 0.125f, scratch, got};
        o->attend_q8_0(o, &a);
        uint8_t q8[136];
        float qd[128], kd[128], vd[128];
        ck_quantize_row_q8_0(q, q8, d);
        ck_dequantize_row_q8_0(q8, qd, d);
        double s[300], m = -INFINITY, z = 0, err = 0, mag = 0;
        for (size_t p = first; p < visible; ++p) {
            ck_dequantize_row_q8_0(k + (p % cells) * row, kd, d);
            double dot = 0;
            for (size_t i = 0; i < d; ++i) dot += (double)kd[i] * qd[i];
            s[p - first] = dot * 0.125;
            if (s[p - first] > m) m = s[p - first];
        }
        for (size_t p = first; p < visible; ++p) z += exp(s[p - first] - m);
        double want[128] = {0};
        for (size_t p = first; p < visible; ++p) {
            ck_dequantize_row_q8_0(v + (p % cells) * row, vd, d);
            for (size_t i = 0; i < d; ++i) want[i] += exp(s[p - first] - m) / z * vd[i];
        }
        for (size_t i = 0; i < d; ++i) {
            err += fabs(want[i] - got[i]);
            mag += fabs(want[i]) + 1e-3;
        }
        CHECK(err <= 1e-5 * mag, "%s attend_q8_0 positions %zu..<%zu: relative error %.3g", o->name, first, visible,
              err / mag);
        free(scratch);
        free(k);
        free(v);
    }
    float x[37], y[37], ref[37];
    for (int i = 0; i < 37; ++i) {
        x[i] = rnd_normal();
        y[i] = ref[i] = rnd_normal();
    }
    o->axpy_f32(37, 0.37f, x, y);
    for (int i = 0; i < 37; ++i) ref[i] = fmaf(x[i], 0.37f, ref[i]);
    CHECK(first_diff(y, ref, 37) < 0, "%s axpy_f32 is fused", o->name);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) g_rng = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-v")) g_verbose = 1;
    }
    printf("ops: cpu features 0x%x; best path: %s; seed 0x%llx\n", ck_cpu_detect(), ck_path_name(ck_detect_best_path()),
           (unsigned long long)g_rng);
    test_dispatch();
    test_rms_semantics();
    test_rope_semantics();
    test_softmax_semantics();
    test_gelu_semantics();
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        const ck_ops *o = ck_ops_select((ck_path)p);
        if (!o) continue;
        const int before = g_pass + g_fail;
        test_rms_norm(o);
        test_rope(o);
        test_exp_sub(o);
        test_softmax(o);
        test_silu(o);
        test_gelu(o);
        test_elementwise(o);
        test_f16_helpers(o);
        test_attend(o);
        test_attend_heads(o);
        test_attend_q8_0(o);
        printf("ops path %-10s %d checks\n", o->name, g_pass + g_fail - before);
        if (g_verbose) fflush(stdout);
    }
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
