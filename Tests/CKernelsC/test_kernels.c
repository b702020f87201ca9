// test_kernels.c — agreement tests for CKernels: every SIMD path present on this machine against the
// portable scalar reference, plus dequantization against gguf-py fixtures.
//
//   test_kernels [--fixtures DIR] [--seed N] [-v]
//
// What is checked, per path and per type:
// - integer partials (ck_kernels.isums) equal the scalar ones exactly, on random blocks including
//   extreme scales (f16 max, subnormals, zero, negative), extreme quant bytes (0x00, 0xFF, -128/127),
//   zero blocks, and activations that are both quantizer output and raw extreme Q8 blocks;
// - the activation quantizers produce byte-identical blocks, and follow llama.cpp's rounding on
//   hand-made ties;
// - float results (vec_dot, matvec, matmul) are within
//       |simd - scalar| <= (nterms + 16) * FLT_EPSILON * M + nterms * 1e-37
//   where M is the sum of the magnitudes of the terms being added (sum |d_w*d_a*isum_b| over blocks
//   for quantized types, sum |w_i*x_i| for float types) and nterms the number of terms. Why: the
//   integer parts are exact, and both sides form the same per-block scale products, so the only
//   difference is the order (and FMA fusing) of float additions; for recursive summation in any
//   order the error of each side is at most about nterms * FLT_EPSILON/2 * M (Higham, γ_n), so the
//   difference is bounded by nterms * FLT_EPSILON * M; +16 covers the final horizontal sums and the
//   int->float conversion of sums above 2^24; the absolute term covers subnormal products. A relative
//   tolerance on the result itself would be wrong: terms cancel, and the result can be ~0.
// - Q4_0 and Q4_K on the x86 SIMD paths (llama.cpp's order, like the reference): dot, matvec and
//   matmul equal the scalar reference bit for bit;
// - matmul of a path equals that path's matvec bit for bit (same per-column arithmetic), for nvec
//   1..9, and rows outside [row_begin, row_end) are left untouched;
// - fp16 conversion: all 65536 halves to f32, and f32 to half on specials and 1M random floats,
//   against the hardware (F16C on x86, FCVT on AArch64);
// - dispatch: names, parsing, BRISE_KERNEL_PATH handling, traits.
//
// Prints one line per failure and ends with "N passed, N failed"; exits 1 on any failure.
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CK_TEST_SEED 0x6272697365ULL
#include "test_support.h"

// MARK: - Random blocks

static uint16_t f2h(float f) { return ck_fp32_to_fp16(f); }

// Scale menu: ordinary values and the extremes a file can hold (no inf/NaN).
static uint16_t rnd_scale(int mode) {
    static const uint16_t extremes[] = {0x7bff, 0xfbff, 0x0001, 0x8001, 0x03ff, 0x0400, 0x0000, 0x8000, 0x3c00};
    if (mode == 1) return extremes[rndu(sizeof extremes / sizeof extremes[0])];
    float v = (float)(rndf() * 0.05);
    if (rndu(8) == 0) v *= 100.0f;
    return f2h(v);
}

static void fill_bytes(uint8_t *p, size_t n, int mode) {
    static const uint8_t pats[] = {0x00, 0xFF, 0x0F, 0xF0, 0x88, 0x80, 0x7F, 0x55};
    const uint8_t pat = pats[rndu(sizeof pats)];
    for (size_t i = 0; i < n; ++i) p[i] = mode == 2 ? pat : (uint8_t)rnd64();
}

// mode: 0 random, 1 extreme scales, 2 extreme quant bytes, 3 zero block.
static void rnd_block(ck_type t, uint8_t *b, int mode) {
    const ck_type_traits *tr = ck_type_get_traits(t);
    if (mode == 3) {
        memset(b, 0, tr->block_bytes);
        return;
    }
    fill_bytes(b, tr->block_bytes, mode);
    uint16_t d = rnd_scale(mode == 1 || (mode == 2 && rndu(2)) ? 1 : 0);
    uint16_t dmin = rnd_scale(mode == 1 ? 1 : 0);
    switch (t) {
    case CK_TYPE_Q4_0: case CK_TYPE_Q5_0: case CK_TYPE_Q8_0: memcpy(b, &d, 2); break;
    case CK_TYPE_Q4_K: case CK_TYPE_Q5_K: memcpy(b, &d, 2); memcpy(b + 2, &dmin, 2); break;
    case CK_TYPE_Q6_K: memcpy(b + 208, &d, 2); break;
    default: break;
    }
}

static void rnd_row(ck_type t, uint8_t *row, size_t cols, int mode_mix) {
    const ck_type_traits *tr = ck_type_get_traits(t);
    const size_t nb = cols / tr->block_elems;
    if (t == CK_TYPE_F32) {
        for (size_t i = 0; i < cols; ++i) {
            float v = rnd_normal();
            if (mode_mix && rndu(16) == 0) v *= 1e12f;
            if (mode_mix && rndu(16) == 0) v *= 1e-30f;
            memcpy(row + 4 * i, &v, 4);
        }
        return;
    }
    if (t == CK_TYPE_F16 || t == CK_TYPE_BF16) {
        for (size_t i = 0; i < cols; ++i) {
            uint16_t h;
            if (t == CK_TYPE_F16) {
                do h = (uint16_t)rnd64(); while (((h >> 10) & 0x1f) == 0x1f);  // any finite half
            } else {
                float v = rnd_normal();
                if (mode_mix && rndu(8) == 0) v *= 1e15f;
                if (mode_mix && rndu(8) == 0) v *= 1e-35f;
                h = ck_fp32_to_bf16(v);
            }
            memcpy(row + 2 * i, &h, 2);
        }
        return;
    }
    for (size_t b = 0; b < nb; ++b) rnd_block(t, row + b * tr->block_bytes, mode_mix ? (int)rndu(4) : 0);
}

// Activation row: floats of a random magnitude with spikes, or raw extreme Q8 blocks.
static void rnd_floats(float *x, size_t n) {
    const float scales[] = {1e-3f, 1.0f, 30.0f, 1e4f};
    const float s = scales[rndu(4)];
    for (size_t i = 0; i < n; ++i) {
        x[i] = rnd_normal() * s;
        if (rndu(64) == 0) x[i] *= 50.0f;
        if (rndu(64) == 0) x[i] = 0.0f;
    }
    if (rndu(8) == 0) memset(x, 0, n / 2 * sizeof(float));  // zero blocks in the activation too
}

static void rnd_raw_q8(ck_type at, uint8_t *xq, size_t cols) {
    if (at == CK_TYPE_Q8_0) {
        for (size_t b = 0; b < cols / 32; ++b) {
            uint8_t *p = xq + 34 * b;
            const uint16_t d = rnd_scale(rndu(2));
            memcpy(p, &d, 2);
            const int ext = rndu(3);
            for (int j = 0; j < 32; ++j) {
                int v = ext == 0 ? (int)rndu(255) - 127 : (ext == 1 ? (rndu(2) ? 127 : -127) : 127);
                p[2 + j] = (uint8_t)(int8_t)v;
            }
        }
    } else {
        for (size_t b = 0; b < cols / 256; ++b) {
            uint8_t *p = xq + 292 * b;
            const float ds[] = {1e-3f, 1.0f, 1e-30f, 1e20f, 0.0f, -0.5f};
            const float d = ds[rndu(6)];
            memcpy(p, &d, 4);
            const int ext = rndu(3);
            int8_t q[256];
            for (int j = 0; j < 256; ++j) q[j] = (int8_t)(ext == 0 ? (int)rndu(255) - 127 : (ext == 1 ? (rndu(2) ? 127 : -127) : -127));
            memcpy(p + 4, q, 256);
            for (int g = 0; g < 16; ++g) {
                int s = 0;
                for (int l = 0; l < 16; ++l) s += q[16 * g + l];
                const int16_t s16 = (int16_t)s;
                memcpy(p + 260 + 2 * g, &s16, 2);
            }
        }
    }
}

// MARK: - Reference magnitudes for the tolerance

static float h2f(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return ck_fp16_to_fp32(h);
}

// Magnitude M of the terms a kernel may add in any order, and the length of the longest chain of
// float additions. The SIMD kernels convert the int32 lanes of each block to float and scale them
// (llama.cpp does the same), so lanes of one block can cancel in float: the right magnitude is the
// classic dot-product one, sum_i |w_i| * |x_i| over dequantized values, and for the K-quants the
// same split the kernels use (d*sc*q with q unsigned, and dmin*m, or Q6_K's 32*sc offset), bounded
// from above by the largest quant (15 / 31 / 63+32).
static void dot_magnitude(ck_type t, const uint8_t *w, const void *x, size_t cols, double *M, size_t *nterms) {
    const ck_type_traits *tr = ck_type_get_traits(t);
    const size_t nb = cols / tr->block_elems;
    static float wf[4096], xf[4096], af[256], bf[256];
    double m = 0;
    if (t == CK_TYPE_F32 || t == CK_TYPE_F16 || t == CK_TYPE_BF16) {
        ck_dequantize_row(t, w, wf, cols);
        for (size_t i = 0; i < cols; ++i) m += fabs((double)wf[i] * ((const float *)x)[i]);
        *M = m;
        *nterms = cols;
        return;
    }
    if (tr->act_type == CK_TYPE_Q8_0) {
        ck_dequantize_row(t, w, wf, cols);
        ck_dequantize_row_q8_0(x, xf, cols);
        for (size_t i = 0; i < cols; ++i) m += fabs((double)wf[i]) * fabs((double)xf[i]);
        *M = m;
        *nterms = nb;
        return;
    }
    ck_dequantize_row_q8_K(x, xf, cols);
    for (size_t b = 0; b < nb; ++b) {
        uint8_t cp[210];
        const uint8_t *wb = w + b * tr->block_bytes;
        const float *xb = xf + 256 * b;
        if (t == CK_TYPE_Q6_K) {
            memcpy(cp, wb, 210);
            memset(cp, 0x11, 128);      // ql nibbles 1
            memset(cp + 128, 0xAA, 64);  // qh fields 2 -> q = 33, q - 32 = 1: dequant gives d*sc
            ck_dequantize_row_q6_K(cp, af, 256);
            for (int i = 0; i < 256; ++i) m += fabs((double)af[i]) * 95.0 * fabs((double)xb[i]);
        } else {
            const size_t qoff = t == CK_TYPE_Q4_K ? 16 : 48;
            memcpy(cp, wb, tr->block_bytes);
            memset(cp + 2, 0, 2);                   // dmin = 0
            memset(cp + qoff, 0x11, 128);           // nibbles 1
            if (t == CK_TYPE_Q5_K) memset(cp + 16, 0, 32);
            ck_dequantize_row(t, cp, af, 256);      // d*sc
            memcpy(cp, wb, tr->block_bytes);
            memset(cp, 0, 2);                       // d = 0: dequant gives -dmin*m
            ck_dequantize_row(t, cp, bf, 256);
            const double qmax = t == CK_TYPE_Q4_K ? 15.0 : 31.0;
            for (int i = 0; i < 256; ++i) m += (fabs((double)af[i]) * qmax + fabs((double)bf[i])) * fabs((double)xb[i]);
        }
    }
    *M = m;
    *nterms = 2 * nb;
}

static int close_enough(float a, float b, double M, size_t nterms) {
    if (isnan(a) || isnan(b)) return 0;
    const double tol = (double)(nterms + 16) * FLT_EPSILON * M + (double)nterms * 1e-37;
    return fabs((double)a - (double)b) <= tol;
}

// MARK: - Buffers

enum { MAXCOLS = 4096, MAXROWS = 24, MAXVEC = 20 };  // batches of 10+ (Q4_0, Q4_K) and 16+ (Q6_K) take the repacked mat-mats
static uint8_t g_w[MAXROWS * (MAXCOLS * 4 + 64)];
static float g_x[MAXVEC][MAXCOLS];
static uint8_t g_xq[MAXVEC][MAXCOLS / 256 * 292 + MAXCOLS / 32 * 34 + 64];
static uint8_t g_xq2[MAXCOLS / 256 * 292 + MAXCOLS / 32 * 34 + 64];

static const char *tname(ck_type t) { return ck_type_get_traits(t)->name; }

static const ck_type k_weight_types[] = {CK_TYPE_F32,  CK_TYPE_F16,  CK_TYPE_BF16, CK_TYPE_Q8_0, CK_TYPE_Q4_0,
                                         CK_TYPE_Q5_0, CK_TYPE_Q4_K, CK_TYPE_Q5_K, CK_TYPE_Q6_K};
enum { NWT = sizeof k_weight_types / sizeof k_weight_types[0] };

static int is_float_type(ck_type t) { return t == CK_TYPE_F32 || t == CK_TYPE_F16 || t == CK_TYPE_BF16; }

// Builds activation vector j for weight type t: floats, then the scalar quantizer (or raw extremes).
static const void *make_act(ck_type t, int j, size_t cols, int raw) {
    rnd_floats(g_x[j], cols);
    // F16 weights take F16-rounded activations (as in llama.cpp): one past F16's range turns the
    // sum infinite on every path alike, so they are kept in range for the sums to be compared.
    if (t == CK_TYPE_F16)
        for (size_t i = 0; i < cols; ++i) g_x[j][i] = fmaxf(-65000.0f, fminf(65000.0f, g_x[j][i]));
    if (is_float_type(t)) return g_x[j];
    const ck_type at = ck_type_get_traits(t)->act_type;
    if (raw) rnd_raw_q8(at, g_xq[j], cols);
    else if (at == CK_TYPE_Q8_0) ck_quantize_row_q8_0(g_x[j], g_xq[j], cols);
    else ck_quantize_row_q8_K(g_x[j], g_xq[j], cols);
    return g_xq[j];
}

static size_t pick_cols(ck_type t, int i) {
    static const size_t fc[] = {1, 7, 16, 33, 100, 1000, 4096};
    static const size_t qc[] = {32, 64, 96, 160, 1184, 4096};
    static const size_t kc[] = {256, 512, 768, 2048, 4096};
    if (is_float_type(t)) return fc[i % 7];
    if (ck_type_get_traits(t)->block_elems == 32) return qc[i % 6];
    return kc[i % 5];
}

// MARK: - Tests per path

static void test_isums(const ck_kernels *k) {
    for (size_t ti = 0; ti < NWT; ++ti) {
        const ck_type t = k_weight_types[ti];
        if (is_float_type(t)) continue;
        int bad = 0;
        for (int it = 0; it < 60 && !bad; ++it) {
            const size_t cols = pick_cols(t, it);
            const size_t nb = cols / ck_type_get_traits(t)->block_elems;
            rnd_row(t, g_w, cols, it % 3 != 0);
            const void *x = make_act(t, 0, cols, it % 2);
            int32_t ref[1024], got[1024];
            memset(got, 0x5a, sizeof got);
            ck_kernels const *s = ck_select_kernels(CK_PATH_SCALAR);
            s->isums[t](nb, g_w, x, ref);
            k->isums[t](nb, g_w, x, got);
            const size_t nout = (t == CK_TYPE_Q4_K || t == CK_TYPE_Q5_K) ? 2 * nb : nb;
            for (size_t i = 0; i < nout; ++i) {
                if (ref[i] != got[i]) {
                    printf("  %s isums %s it=%d cols=%zu [%zu]: ref %d got %d\n", k->name, tname(t), it, cols, i, ref[i], got[i]);
                    bad = 1;
                    break;
                }
            }
        }
        CHECK(!bad, "%s: integer partials of %s differ from scalar", k->name, tname(t));
    }
}

static void test_quantizers(const ck_kernels *k) {
    const ck_kernels *s = ck_select_kernels(CK_PATH_SCALAR);
    int bad0 = 0, badK = 0;
    for (int it = 0; it < 200; ++it) {
        const size_t cols = 256 * (1 + rndu(4));
        rnd_floats(g_x[0], cols);
        if (it % 5 == 0) {  // ties and repeated maxima of both signs
            for (size_t i = 0; i < cols; ++i) g_x[0][i] = (float)((int)rndu(255) - 127) * 0.5f;
        }
        s->quantize_q8_0(g_x[0], g_xq[0], cols);
        k->quantize_q8_0(g_x[0], g_xq2, cols);
        if (memcmp(g_xq[0], g_xq2, cols / 32 * 34) != 0) bad0 = 1;
        s->quantize_q8_K(g_x[0], g_xq[0], cols);
        k->quantize_q8_K(g_x[0], g_xq2, cols);
        if (memcmp(g_xq[0], g_xq2, cols / 256 * 292) != 0) badK = 1;
    }
    CHECK(!bad0, "%s: quantize_q8_0 bytes differ from scalar", k->name);
    CHECK(!badK, "%s: quantize_q8_K bytes differ from scalar", k->name);

    // Rounding semantics on hand-made ties: with amax = 127, id = 1 and x*id is exactly k + 0.5;
    // llama.cpp's CPU activation quantizer rounds half to even (roundf would give 3, -3, 5).
    float x[256] = {127.0f, 2.5f, -2.5f, 4.5f, 0.5f, -0.5f, 1.5f};
    int8_t expect[7] = {127, 2, -2, 4, 0, 0, 2};
    uint8_t q[292];
    k->quantize_q8_0(x, q, 32);
    CHECK(memcmp(q + 2, expect, 7) == 0 && q[0] == 0x00 && q[1] == 0x3c, "%s: q8_0 tie rounding", k->name);
    // Q8_K: the first element of largest |x| sets the sign: max = -127 -> iscale = 1, d = 1.
    memset(x, 0, sizeof x);
    x[0] = -127.0f; x[1] = 127.0f; x[2] = 2.5f; x[3] = -3.5f; x[17] = 1.0f;
    k->quantize_q8_K(x, q, 256);
    float d;
    memcpy(&d, q, 4);
    int16_t b0, b1;
    memcpy(&b0, q + 260, 2);
    memcpy(&b1, q + 262, 2);
    CHECK(d == 1.0f && (int8_t)q[4] == -127 && (int8_t)q[5] == 127 && (int8_t)q[6] == 2 && (int8_t)q[7] == -4 &&
              b0 == -2 && b1 == 1,
          "%s: q8_K sign/tie/bsums (d=%g q=%d %d %d %d b=%d %d)", k->name, d, (int8_t)q[4], (int8_t)q[5],
          (int8_t)q[6], (int8_t)q[7], b0, b1);
    memset(x, 0, sizeof x);
    k->quantize_q8_K(x, q, 256);
    uint8_t zero[292] = {0};
    CHECK(memcmp(q, zero, 292) == 0, "%s: q8_K of zeros", k->name);
}

static void test_dots(const ck_kernels *k) {
    const ck_kernels *s = ck_select_kernels(CK_PATH_SCALAR);
    for (size_t ti = 0; ti < NWT; ++ti) {
        const ck_type t = k_weight_types[ti];
        int bad = 0;
        for (int it = 0; it < 80 && !bad; ++it) {
            const size_t cols = pick_cols(t, it);
            rnd_row(t, g_w, cols, it % 3 != 0);
            const void *x = make_act(t, 0, cols, !is_float_type(t) && it % 2);
            const float ref = s->vec_dot[t](cols, g_w, x);
            const float got = k->vec_dot[t](cols, g_w, x);
            double M;
            size_t nt;
            dot_magnitude(t, g_w, x, cols, &M, &nt);
            if (!close_enough(ref, got, M, nt)) {
                printf("  %s dot %s it=%d cols=%zu: ref %.9g got %.9g (M %.3g)\n", k->name, tname(t), it, cols, ref, got, M);
                bad = 1;
                if (g_verbose) {
                    char fn[128]; snprintf(fn, sizeof fn, "/tmp/ck_fail_%s_%s.bin", k->name, tname(t)); FILE *df = fopen(fn, "wb");
                    fwrite(g_w, 1, ck_row_bytes(t, cols), df);
                    fwrite(x, 1, cols / 32 * 34, df);
                    fclose(df);
                }
                if (g_verbose && ck_type_get_traits(t)->act_type == CK_TYPE_Q8_0) {
                    int32_t is[256];
                    s->isums[t](cols / 32, g_w, x, is);
                    for (size_t b = 0; b < cols / 32; ++b) {
                        const uint8_t *wb = g_w + b * ck_type_get_traits(t)->block_bytes;
                        printf("    b%zu dw %.9g da %.9g isum %d term %.9g\n", b, h2f(wb), h2f((const uint8_t *)x + 34 * b), is[b], h2f(wb) * h2f((const uint8_t *)x + 34 * b) * (float)is[b]);
                    }
                }
            }
        }
        CHECK(!bad, "%s: vec_dot %s outside tolerance", k->name, tname(t));
    }
}

static void test_mat(const ck_kernels *k) {
    const ck_kernels *s = ck_select_kernels(CK_PATH_SCALAR);
    for (size_t ti = 0; ti < NWT; ++ti) {
        const ck_type t = k_weight_types[ti];
        int bad_mv = 0, bad_mm = 0, bad_range = 0;
        for (int it = 0; it < 12; ++it) {
            const size_t cols = pick_cols(t, it + 1);
            const size_t rows = 1 + rndu(MAXROWS);
            const size_t rs = ck_row_bytes(t, cols) + (it % 2 ? 0 : 6);  // padded stride too
            for (size_t r = 0; r < rows; ++r) rnd_row(t, g_w + r * rs, cols, (it + r) % 2);
            const size_t nvec = 1 + rndu(MAXVEC);
            const void *xs[MAXVEC];
            for (size_t j = 0; j < nvec; ++j) xs[j] = make_act(t, (int)j, cols, !is_float_type(t) && (j % 3 == 2));
            const size_t xstride = is_float_type(t) ? sizeof g_x[0] : sizeof g_xq[0];
            const size_t r0 = rndu((uint32_t)rows), r1 = r0 + rndu((uint32_t)(rows - r0 + 1));
            float yref[MAXROWS], ymv[MAXVEC][MAXROWS], ymm[MAXVEC * (MAXROWS + 3)];
            const size_t ys = rows + 3;
            for (size_t i = 0; i < sizeof ymm / sizeof ymm[0]; ++i) ymm[i] = -7.0f;
            k->matmul[t](g_w, rs, xs[0], xstride, nvec, ymm, ys, r0, r1, cols);
            for (size_t j = 0; j < nvec; ++j) {
                for (size_t r = 0; r < rows; ++r) ymv[j][r] = -7.0f;
                s->matvec[t](g_w, rs, xs[j], yref, 0, rows, cols);
                k->matvec[t](g_w, rs, xs[j], ymv[j], r0, r1, cols);
                for (size_t r = 0; r < rows; ++r) {
                    const int inside = r >= r0 && r < r1;
                    if (!inside) {
                        if (ymv[j][r] != -7.0f || ymm[j * ys + r] != -7.0f) bad_range = 1;
                        continue;
                    }
                    double M;
                    size_t nt;
                    dot_magnitude(t, g_w + r * rs, xs[j], cols, &M, &nt);
                    if (!close_enough(yref[r], ymv[j][r], M, nt)) {
                        if (!bad_mv) printf("  %s matvec %s r=%zu: ref %.9g got %.9g\n", k->name, tname(t), r, yref[r], ymv[j][r]);
                        bad_mv = 1;
                    }
                    if (memcmp(&ymm[j * ys + r], &ymv[j][r], 4) != 0) {
                        if (!bad_mm) printf("  %s matmul %s r=%zu j=%zu/%zu: matvec %.9g matmul %.9g\n", k->name, tname(t), r, j, nvec, ymv[j][r], ymm[j * ys + r]);
                        bad_mm = 1;
                    }
                }
                for (size_t r = rows; r < ys; ++r) if (ymm[j * ys + r] != -7.0f) bad_range = 1;
            }
        }
        CHECK(!bad_mv, "%s: matvec %s outside tolerance", k->name, tname(t));
        CHECK(!bad_mm, "%s: matmul %s differs from its matvec", k->name, tname(t));
        CHECK(!bad_range, "%s: mat-vec/mat-mat %s wrote outside [row_begin, row_end)", k->name, tname(t));
    }
}

// Paths whose Q4_0 / Q4_K kernels sum in llama.cpp's repacked-gemv order, which the scalar reference
// also follows (ck_scalar.c): their dot, mat-vec and mat-mat results must equal the reference's bit
// for bit (NaN equals NaN: extreme scales overflow to inf, and inf - inf may pick another NaN).
static int exact_order_path(ck_path p, ck_type t) {
    const int listed = (t == CK_TYPE_Q4_0 || t == CK_TYPE_Q4_K) &&
                       (p == CK_PATH_AVX2 || p == CK_PATH_AVXVNNI || p == CK_PATH_AVX512 || p == CK_PATH_AVX512VNNI);
    // Dispatch swaps such paths per type (ck_same_bits): it must claim exactly the paths tested here.
    CHECK(listed == (int)ck_same_bits(p, CK_PATH_SCALAR, t), "ck_same_bits(%s, scalar, %s) disagrees with the test's list",
          ck_path_name(p), tname(t));
    return listed;
}

static int same_float(float a, float b) { return memcmp(&a, &b, 4) == 0 || (isnan(a) && isnan(b)); }

static void test_exact_order(const ck_kernels *k) {
    const ck_kernels *s = ck_select_kernels(CK_PATH_SCALAR);
    for (size_t ti = 0; ti < NWT; ++ti) {
        const ck_type t = k_weight_types[ti];
        if (!exact_order_path(k->path, t)) continue;
        int bad_dot = 0, bad_mv = 0, bad_mm = 0;
        for (int it = 0; it < 40; ++it) {
            const size_t cols = pick_cols(t, it);
            const size_t rows = 1 + rndu(MAXROWS);
            const size_t rs = ck_row_bytes(t, cols) + (it % 2 ? 0 : 6);
            for (size_t r = 0; r < rows; ++r) rnd_row(t, g_w + r * rs, cols, (it + r) % 2);
            const size_t nvec = 1 + rndu(MAXVEC);
            const void *xs[MAXVEC];
            for (size_t j = 0; j < nvec; ++j) xs[j] = make_act(t, (int)j, cols, j % 3 == 2);
            const size_t xstride = sizeof g_xq[0];
            if (!same_float(s->vec_dot[t](cols, g_w, xs[0]), k->vec_dot[t](cols, g_w, xs[0]))) bad_dot = 1;
            float ymm[MAXVEC * MAXROWS], ref[MAXVEC * MAXROWS];
            s->matmul[t](g_w, rs, xs[0], xstride, nvec, ref, rows, 0, rows, cols);
            k->matmul[t](g_w, rs, xs[0], xstride, nvec, ymm, rows, 0, rows, cols);
            for (size_t j = 0; j < nvec; ++j) {
                float yref[MAXROWS], ymv[MAXROWS];
                s->matvec[t](g_w, rs, xs[j], yref, 0, rows, cols);
                k->matvec[t](g_w, rs, xs[j], ymv, 0, rows, cols);
                for (size_t r = 0; r < rows; ++r) {
                    if (!same_float(yref[r], ymv[r])) {
                        if (!bad_mv) printf("  %s matvec %s r=%zu/%zu cols=%zu: ref %.9g got %.9g\n", k->name, tname(t), r, rows, cols, yref[r], ymv[r]);
                        bad_mv = 1;
                    }
                    if (!same_float(ref[j * rows + r], ymm[j * rows + r])) bad_mm = 1;
                }
            }
        }
        CHECK(!bad_dot, "%s: vec_dot %s not bit-identical to the reference (llama.cpp order)", k->name, tname(t));
        CHECK(!bad_mv, "%s: matvec %s not bit-identical to the reference (llama.cpp order)", k->name, tname(t));
        CHECK(!bad_mm, "%s: matmul %s not bit-identical to the reference (llama.cpp order)", k->name, tname(t));
    }
}

static void test_f16_rows(const ck_kernels *k) {
    uint16_t h[1000], h2[1000];
    float f[1000], g[1000];
    for (int i = 0; i < 1000; ++i) {
        do h[i] = (uint16_t)rnd64(); while ((h[i] & 0x7c00) == 0x7c00 && (h[i] & 0x3ff));
        f[i] = rnd_normal() * (float)(1 << rndu(20)) * 1e-4f;
    }
    k->fp16_to_fp32_row(h, g, 999);
    int bad = 0;
    for (int i = 0; i < 999; ++i) {
        const float e = ck_fp16_to_fp32(h[i]);
        if (memcmp(&e, &g[i], 4) != 0) bad = 1;
    }
    CHECK(!bad, "%s: fp16_to_fp32_row", k->name);
    k->fp32_to_fp16_row(f, h2, 999);
    bad = 0;
    for (int i = 0; i < 999; ++i) if (h2[i] != ck_fp32_to_fp16(f[i])) bad = 1;
    CHECK(!bad, "%s: fp32_to_fp16_row", k->name);
}

// MARK: - Path-independent tests

static uint16_t hw_f2h(float f, int *have) {
#if defined(__x86_64__) && defined(__F16C__)
    *have = 1;
    return _cvtss_sh(f, 0);
#elif defined(__aarch64__)
    *have = 1;
    __fp16 h = (__fp16)f;
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
#else
    (void)f;
    *have = 0;
    return 0;
#endif
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) static float f16c_h2f(uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) static uint16_t f16c_f2h(float f) { return (uint16_t)_cvtss_sh(f, 0); }
#endif

static void test_fp16(void) {
    int have = 0;
    uint32_t f = ck_cpu_detect();
    (void)hw_f2h;
#if defined(__x86_64__)
    have = (f & CK_CPU_AVX2) != 0;  // AVX2 path requires F16C
#elif defined(__aarch64__)
    have = 1;
#endif
    (void)f;
    if (!have) {
        printf("note: no hardware f16 conversion to compare against\n");
        return;
    }
    int bad = 0;
    for (uint32_t h = 0; h < 65536; ++h) {
        float a = ck_fp16_to_fp32((uint16_t)h), b;
#if defined(__x86_64__)
        b = f16c_h2f((uint16_t)h);
#else
        __fp16 hh;
        uint16_t u = (uint16_t)h;
        memcpy(&hh, &u, 2);
        b = (float)hh;
#endif
        uint32_t ua, ub;
        memcpy(&ua, &a, 4);
        memcpy(&ub, &b, 4);
        // NaN payloads: both quiet NaNs with the same sign count as equal on ARM (default-NaN mode).
        if (ua != ub && !(isnan(a) && isnan(b))) {
            if (!bad) printf("  fp16->fp32 %04x: %08x vs hw %08x\n", h, ua, ub);
            bad = 1;
        }
    }
    CHECK(!bad, "fp16 -> fp32 for all 65536 halves");
    bad = 0;
    static const uint32_t specials[] = {0, 0x80000000u, 0x7f800000u, 0xff800000u, 0x477fe000u, 0x477fefffu,
                                        0x477ff000u, 0x477fffffu, 0x38800000u, 0x387fffffu, 0x33800000u,
                                        0x33000000u, 0x33000001u, 0x00000001u, 0x3f800000u, 0x3f801000u,
                                        0x3f803000u, 0x3f802fffu, 0xc77fffffu, 0x7fc00000u, 0x7f800001u};
    for (uint32_t i = 0; i < 1000000 + sizeof specials / 4; ++i) {
        uint32_t u = i < sizeof specials / 4 ? specials[i] : (uint32_t)rnd64();
        if (i >= sizeof specials / 4 && (i & 1)) u = (u & 0x8fffffffu) | 0x30000000u;  // near half range
        float x;
        memcpy(&x, &u, 4);
        uint16_t a = ck_fp32_to_fp16(x), b;
#if defined(__x86_64__)
        b = f16c_f2h(x);
#else
        int hv;
        b = hw_f2h(x, &hv);
#endif
        const int both_nan = (a & 0x7c00) == 0x7c00 && (a & 0x3ff) && (b & 0x7c00) == 0x7c00 && (b & 0x3ff);
        if (a != b && !both_nan) {
            if (!bad) printf("  fp32->fp16 %08x: %04x vs hw %04x\n", u, a, b);
            bad = 1;
        }
    }
    CHECK(!bad, "fp32 -> fp16 (specials + 1M random) against hardware");
    // bf16 (ggml semantics)
    CHECK(ck_fp32_to_bf16(1.0f) == 0x3f80 && ck_bf16_to_fp32(0x3f80) == 1.0f, "bf16 basic");
    uint32_t u = 0x3f808000u;  // tie, even -> down
    float x;
    memcpy(&x, &u, 4);
    CHECK(ck_fp32_to_bf16(x) == 0x3f80, "bf16 tie to even (down)");
    u = 0x3f818000u;
    memcpy(&x, &u, 4);
    CHECK(ck_fp32_to_bf16(x) == 0x3f82, "bf16 tie to even (up)");
    u = 0x7f800001u;
    memcpy(&x, &u, 4);
    CHECK(ck_fp32_to_bf16(x) == 0x7fc0, "bf16 quiets NaN");
}

static void test_dispatch(void) {
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        ck_path q;
        CHECK(ck_path_parse(ck_path_name((ck_path)p), &q) && q == (ck_path)p, "path name round trip %d", p);
        const ck_kernels *k = ck_select_kernels((ck_path)p);
        CHECK((k != NULL) == ck_path_supported((ck_path)p), "select vs supported for %s", ck_path_name((ck_path)p));
        if (k) {
            int complete = k->quantize_q8_0 && k->quantize_q8_K && k->path == (ck_path)p;
            for (size_t i = 0; i < NWT; ++i) {
                const ck_type t = k_weight_types[i];
                complete &= k->vec_dot[t] && k->matvec[t] && k->matmul[t] && (is_float_type(t) || k->isums[t]);
            }
            CHECK(complete, "table %s complete", k->name);
        }
    }
    ck_path q;
    CHECK(!ck_path_parse("avx3", &q), "unknown path name rejected");
    CHECK(ck_select_kernels((ck_path)99) == NULL, "out-of-range path");
    CHECK(ck_path_supported(ck_detect_best_path()), "best path supported");

    ck_path out;
    unsetenv("BRISE_KERNEL_PATH");
    CHECK(ck_path_from_env(&out) == CK_ENV_UNSET && out == ck_detect_best_path(), "env unset");
    setenv("BRISE_KERNEL_PATH", "scalar", 1);
    CHECK(ck_path_from_env(&out) == CK_ENV_OK && out == CK_PATH_SCALAR, "env scalar");
    setenv("BRISE_KERNEL_PATH", "bogus", 1);
    CHECK(ck_path_from_env(&out) == CK_ENV_UNKNOWN && out == ck_detect_best_path(), "env unknown");
#if defined(__x86_64__)
    setenv("BRISE_KERNEL_PATH", "dotprod", 1);
#else
    setenv("BRISE_KERNEL_PATH", "avx2", 1);
#endif
    CHECK(ck_path_from_env(&out) == CK_ENV_UNSUPPORTED && out == ck_detect_best_path(), "env unsupported");
    unsetenv("BRISE_KERNEL_PATH");

    // Traits and row sizes
    static const struct { ck_type t; uint32_t ggml, qk, bytes; } tt[] = {
        {CK_TYPE_F32, 0, 1, 4},      {CK_TYPE_F16, 1, 1, 2},       {CK_TYPE_BF16, 30, 1, 2},
        {CK_TYPE_Q8_0, 8, 32, 34},   {CK_TYPE_Q4_0, 2, 32, 18},    {CK_TYPE_Q5_0, 6, 32, 22},
        {CK_TYPE_Q4_K, 12, 256, 144}, {CK_TYPE_Q5_K, 13, 256, 176}, {CK_TYPE_Q6_K, 14, 256, 210},
        {CK_TYPE_Q8_K, 15, 256, 292},
    };
    for (size_t i = 0; i < sizeof tt / sizeof tt[0]; ++i) {
        const ck_type_traits *tr = ck_type_get_traits(tt[i].t);
        CHECK(tr && tr->ggml_type == tt[i].ggml && tr->block_elems == tt[i].qk && tr->block_bytes == tt[i].bytes &&
                  ck_type_from_ggml(tt[i].ggml) == (int)tt[i].t,
              "traits of %s", tr ? tr->name : "?");
    }
    CHECK(ck_type_from_ggml(3) == -1 && ck_row_bytes(CK_TYPE_Q4_K, 4096) == 16 * 144 &&
              ck_row_bytes(CK_TYPE_Q4_K, 100) == 0,
          "row bytes / unsupported ggml type");
}

// MARK: - Fixtures (gguf-py dequantization)

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
static size_t b64decode(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '\n'; ++s) {
        const int v = b64val(*s);
        if (v < 0) continue;  // '=' padding
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap) out[n] = (uint8_t)(acc >> bits);
            ++n;
        }
    }
    return n;
}

static void test_fixtures(const char *dir) {
    static const ck_type types[] = {CK_TYPE_F32, CK_TYPE_F16, CK_TYPE_BF16, CK_TYPE_Q8_0, CK_TYPE_Q4_0,
                                    CK_TYPE_Q5_0, CK_TYPE_Q4_K, CK_TYPE_Q5_K, CK_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; ++i) {
        const ck_type t = types[i];
        char path[1024];
        snprintf(path, sizeof path, "%s/dequant_%s.txt", dir, tname(t));
        FILE *fp = fopen(path, "r");
        if (!fp) {
            CHECK(0, "fixture %s missing", path);
            continue;
        }
        static char line[1 << 16];
        static uint8_t raw[1 << 14];
        static float ref[1 << 12], got[1 << 12];
        size_t n = 0, nraw = 0, nref = 0;
        char tn[32] = "";
        while (fgets(line, sizeof line, fp)) {
            if (line[0] == '#') continue;
            if (!strncmp(line, "type ", 5)) sscanf(line + 5, "%31s", tn);
            else if (!strncmp(line, "elements ", 9)) n = (size_t)strtoul(line + 9, NULL, 10);
            else if (!strncmp(line, "blocks ", 7)) nraw = b64decode(line + 7, raw, sizeof raw);
            else if (!strncmp(line, "floats ", 7)) nref = b64decode(line + 7, (uint8_t *)ref, sizeof ref);
        }
        fclose(fp);
        const int shape_ok = !strcmp(tn, tname(t)) && n > 0 && nraw == ck_row_bytes(t, n) && nref == 4 * n &&
                             n <= sizeof got / sizeof got[0];
        CHECK(shape_ok, "fixture %s well-formed (type %s, %zu elements, %zu bytes, %zu float bytes)", path, tn, n, nraw, nref);
        if (!shape_ok) continue;
        ck_dequantize_row(t, raw, got, n);
        size_t bad = 0, first = 0;
        for (size_t j = 0; j < n; ++j) {
            if (memcmp(&got[j], &ref[j], 4) != 0) {
                if (!bad) first = j;
                ++bad;
            }
        }
        CHECK(bad == 0, "dequantize %s vs gguf-py: %zu of %zu differ (first [%zu]: %.9g vs %.9g)", tname(t), bad, n,
              first, bad ? got[first] : 0.0f, bad ? ref[first] : 0.0f);
    }
}

// MARK: - main

int main(int argc, char **argv) {
    const char *fixtures = "Fixtures/kernels";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--fixtures") && i + 1 < argc) fixtures = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) g_rng = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-v")) g_verbose = 1;
    }
    const uint32_t f = ck_cpu_detect();
    printf("cpu features: 0x%x; best path: %s; seed 0x%llx\n", f, ck_path_name(ck_detect_best_path()),
           (unsigned long long)g_rng);

    test_dispatch();
    test_fp16();
    test_fixtures(fixtures);
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        const ck_kernels *k = ck_select_kernels((ck_path)p);
        if (!k) continue;
        const int before = g_pass + g_fail;
        test_quantizers(k);
        test_f16_rows(k);
        if (p != CK_PATH_SCALAR) {
            test_isums(k);
            test_dots(k);
            test_exact_order(k);
        }
        test_mat(k);
        printf("path %-10s %d checks\n", k->name, g_pass + g_fail - before);
    }
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
