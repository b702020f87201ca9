// llamacpp_agreement.c — a diagnostic, not part of the test suite: our float ops and F16 attention
// against the functions the installed llama.cpp library exports (llama-cpp-python's libggml-cpu, built
// for this machine), on random rows. Prints, per op, how many rows (or heads) differ in any bit.
//
//   scripts/compare-ops-with-llamacpp [PATH]     PATH: avx2 (default), avx512, ...
//
// Calls into llama.cpp's library only; the reference sequence of the non-flash attention (scores by
// ggml_vec_dot_f16 on an f16 query, ggml_vec_soft_max_f32, probabilities rounded to f16, P·V by
// ggml_vec_dot_f16 over the padded KV row) is this file's, written from MODEL-SPEC's description.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"
#include "CKernelsOps.h"

// Exported by libggml-cpu / libggml-base (llama-cpp-python 0.3.36).
void ggml_cpu_init(void);
void ggml_vec_silu_f32(const int n, float *y, const float *x);
void ggml_vec_swiglu_f32(const int n, float *y, const float *x, const float *g);
double ggml_vec_soft_max_f32(const int n, float *y, const float *x, float max);
void ggml_vec_dot_f32(int n, float *s, size_t bs, const float *x, size_t bx, const float *y, size_t by, int nrc);
void ggml_vec_dot_f16(int n, float *s, size_t bs, const uint16_t *x, size_t bx, const uint16_t *y, size_t by, int nrc);
uint16_t ggml_fp32_to_fp16(float);
float ggml_fp16_to_fp32(uint16_t);

static float uniform(void) { return (float)rand() / (float)RAND_MAX * 2 - 1; }

static ck_path path_named(const char *name) {
    const char *names[] = {"scalar", "avx2", "avxvnni", "avx512", "avx512vnni", "neon", "dotprod"};
    for (int i = 0; i < CK_PATH_COUNT; ++i)
        if (strcmp(name, names[i]) == 0) return (ck_path)i;
    return CK_PATH_AVX2;
}

int main(int argc, char **argv) {
    ggml_cpu_init();
    const ck_path path = path_named(argc > 1 ? argv[1] : "avx2");
    const ck_ops *ops = ck_ops_select(path);
    const ck_kernels *kernels = ck_select_kernels(path);
    if (!ops || !kernels) {
        fprintf(stderr, "path not supported here\n");
        return 2;
    }
    srand(1);
    long silu = 0, swiglu = 0, softmax = 0, dot32 = 0, dot16 = 0, rows = 0;
    for (int trial = 0; trial < 2000; ++trial, ++rows) {
        const int n = 1 + rand() % 20000;
        const float spread = trial % 4 == 0 ? 20 : trial % 4 == 1 ? 5 : 1;
        float *x = malloc(n * 4), *g = malloc(n * 4), *a = malloc(n * 4), *b = malloc(n * 4);
        uint16_t *xh = malloc(n * 2), *gh = malloc(n * 2);
        float *gr = malloc(n * 4);
        for (int i = 0; i < n; ++i) {
            x[i] = uniform() * spread;
            g[i] = uniform() * spread;
            xh[i] = ggml_fp32_to_fp16(x[i]);
            gh[i] = ggml_fp32_to_fp16(g[i]);
            gr[i] = ggml_fp16_to_fp32(gh[i]);
        }
        ggml_vec_silu_f32(n, a, x);
        ops->silu(n, x, b);
        silu += memcmp(a, b, n * 4) != 0;
        ggml_vec_swiglu_f32(n, a, x, g);
        ops->swiglu(n, x, g, b);
        swiglu += memcmp(a, b, n * 4) != 0;
        float max = -INFINITY;
        for (int i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
        const double s1 = ggml_vec_soft_max_f32(n, a, x, max), s2 = ops->exp_sub(n, x, max, b);
        softmax += s1 != s2 || memcmp(a, b, n * 4) != 0;
        float d1, d2;
        ggml_vec_dot_f32(n, &d1, 0, x, 0, g, 0, 1);
        kernels->matvec[CK_TYPE_F32](x, (size_t)n * 4, g, &d2, 0, 1, n);
        dot32 += memcmp(&d1, &d2, 4) != 0;
        ggml_vec_dot_f16(n, &d1, 0, xh, 0, gh, 0, 1);
        d2 = ops->dot_f16(n, xh, gr);
        dot16 += memcmp(&d1, &d2, 4) != 0;
        free(x), free(g), free(a), free(b), free(xh), free(gh), free(gr);
    }
    printf("%ld rows of 1..20000: differing silu %ld, swiglu %ld, softmax exp/sum %ld, dot_f32 %ld, dot_f16 %ld\n", rows,
           silu, swiglu, softmax, dot32, dot16);

    for (int d = 64; d <= 128; d *= 2) {
        int heads = 0, differ = 0;
        for (int trial = 0; trial < 300; ++trial, ++heads) {
            const int visible = 1 + rand() % 300, width = (visible + 255) / 256 * 256, cells = 512;
            uint16_t *k = malloc(cells * d * 2), *v = malloc(cells * d * 2), *qh = malloc(d * 2), *ph = malloc(width * 2),
                     *column = malloc(width * 2);
            float *q = malloc(d * 4), *s = malloc(width * 4), *p = malloc(width * 4);
            for (int i = 0; i < cells * d; ++i) {
                k[i] = ggml_fp32_to_fp16(uniform() * 2);
                v[i] = ggml_fp32_to_fp16(uniform());
            }
            for (int i = 0; i < d; ++i) {
                q[i] = uniform() * 3;
                qh[i] = ggml_fp32_to_fp16(q[i]);
            }
            const float scale = 1.0f / sqrtf((float)d);
            for (int j = 0; j < width; ++j) {
                float dot = -INFINITY;
                if (j < visible) ggml_vec_dot_f16(d, &dot, 0, k + j * d, 0, qh, 0, 1);
                s[j] = j < visible ? dot * scale : -INFINITY;
            }
            float max = -INFINITY;
            for (int j = 0; j < width; ++j) max = s[j] > max ? s[j] : max;
            const float inverse = (float)(1.0 / ggml_vec_soft_max_f32(width, p, s, max));
            for (int j = 0; j < width; ++j) ph[j] = ggml_fp32_to_fp16(p[j] * inverse);
            float reference[128], out[128];
            for (int i = 0; i < d; ++i) {
                for (int j = 0; j < width; ++j) column[j] = j < visible ? v[j * d + i] : 0;
                ggml_vec_dot_f16(width, &reference[i], 0, column, 0, ph, 0, 1);
            }
            float *scratch = malloc(ck_attend_f16_scratch_floats(d, visible) * 4);
            const ck_attend_args args = {q, k, v, d, cells, 0, visible, scale, scratch, out};
            ops->attend_f16(ops, &args);
            differ += memcmp(reference, out, d * 4) != 0;
            free(k), free(v), free(qh), free(ph), free(column), free(q), free(s), free(p), free(scratch);
        }
        printf("attention, head dim %d: %d of %d heads differ\n", d, differ, heads);
    }
    return 0;
}
