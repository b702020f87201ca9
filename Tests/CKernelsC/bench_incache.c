// bench_incache.c — times one path's kernels on an in-cache weight matrix (compute, not memory): the
// mat-vec and mat-mats of 2, 4, 8 and 32 columns, best of 300 calls each, per row block and column.
// The shared machines here swing by 20% and more between runs; the best of many short calls is the
// steadiest figure for comparing two builds of a kernel (alternate them).
//
//   cc -std=c11 -O2 -fno-strict-aliasing -ISources/CKernels/include -ISources/CKernels
//      -o /tmp/bench_incache Sources/CKernels/*.c Tests/CKernelsC/bench_incache.c -lm -lpthread
//   (one command, from the repository's root)
//   /tmp/bench_incache [q4_K|q4_0|q8_0|q5_0|q5_K|q6_K|f16|f32] [rows, default 128] [path number, default avx2]
#define _GNU_SOURCE
#include "CKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const char *tn = argc > 1 ? argv[1] : "q4_K";
    const int rows = argc > 2 ? atoi(argv[2]) : 128;
    const size_t cols = 4096;
    ck_type t;
    size_t bsz, qb, dofs[2] = {0, 2};
    int nd = 1, kquant = 0, fl = 0;
    if (!strcmp(tn, "q4_K")) { t = CK_TYPE_Q4_K; bsz = 144; qb = 256; nd = 2; kquant = 1; }
    else if (!strcmp(tn, "q5_K")) { t = CK_TYPE_Q5_K; bsz = 176; qb = 256; nd = 2; kquant = 1; }
    else if (!strcmp(tn, "q6_K")) { t = CK_TYPE_Q6_K; bsz = 210; qb = 256; kquant = 1; dofs[0] = 208; }
    else if (!strcmp(tn, "q4_0")) { t = CK_TYPE_Q4_0; bsz = 18; qb = 32; }
    else if (!strcmp(tn, "q5_0")) { t = CK_TYPE_Q5_0; bsz = 22; qb = 32; }
    else if (!strcmp(tn, "q8_0")) { t = CK_TYPE_Q8_0; bsz = 34; qb = 32; }
    else if (!strcmp(tn, "f16")) { t = CK_TYPE_F16; bsz = 2; qb = 1; nd = 0; fl = 1; }
    else if (!strcmp(tn, "f32")) { t = CK_TYPE_F32; bsz = 4; qb = 1; nd = 0; fl = 1; }
    else { fprintf(stderr, "unknown type %s\n", tn); return 2; }
    if (rows < 1) return 2;
    const ck_kernels *k = ck_select_kernels(argc > 3 ? (ck_path)atoi(argv[3]) : CK_PATH_AVX2);
    if (!k || !k->matvec[t] || !k->matmul[t]) { fprintf(stderr, "path not supported here\n"); return 2; }
    const size_t nb = cols / qb, rs = nb * bsz;
    unsigned char *w = malloc((size_t)rows * rs);
    srand(1);
    for (size_t i = 0; i < (size_t)rows * rs; ++i) w[i] = (unsigned char)rand();
    if (fl) {  // finite weights: small random floats / halves
        for (size_t i = 0; i < (size_t)rows * cols; ++i) {
            const float v = (float)rand() / (float)RAND_MAX - 0.5f;
            if (t == CK_TYPE_F16) { const uint16_t h = ck_fp32_to_fp16(v); memcpy(w + 2 * i, &h, 2); }
            else memcpy(w + 4 * i, &v, 4);
        }
    }
    for (size_t b = 0; b < (size_t)rows * nb; ++b) {  // finite scales (0x2c00 = 1/16), no NaN or subnormals
        for (int d = 0; d < nd; ++d) memcpy(w + b * bsz + dofs[d], &(unsigned short){0x2c00}, 2);
    }
    enum { NV = 32 };
    float *x = malloc(NV * cols * sizeof(float));
    for (size_t i = 0; i < NV * cols; ++i) x[i] = (float)rand() / (float)RAND_MAX * 2 - 1;
    const size_t xs = fl ? cols * sizeof(float) : kquant ? nb * 292 : nb * 34;
    unsigned char *xq = malloc(NV * xs);
    for (int j = 0; j < NV; ++j) {
        if (fl) memcpy(xq + j * xs, x + j * cols, cols * sizeof(float));
        else if (kquant) k->quantize_q8_K(x + j * cols, xq + j * xs, cols);
        else k->quantize_q8_0(x + j * cols, xq + j * xs, cols);
    }
    float *y = malloc(NV * (size_t)rows * sizeof(float));
    const int counts[] = {1, 2, 4, 8, 32};
    double single = 0;
    for (int v = 0; v < 5; ++v) {
        const int nv = counts[v];
        double best = 1e9;
        for (int trial = 0; trial < 300; ++trial) {
            const double t0 = now();
            if (nv == 1) k->matvec[t](w, rs, xq, y, 0, (size_t)rows, cols);
            else k->matmul[t](w, rs, xq, xs, (size_t)nv, y, (size_t)rows, 0, (size_t)rows, cols);
            const double d = now() - t0;
            if (d < best) best = d;
        }
        if (nv == 1) single = best;
        printf("%s %s nv=%2d  %8.2f us  %6.3f ns per row block and column  %5.2fx the mat-vec  %6.1f GFLOP/s\n",
               ck_path_name(argc > 3 ? (ck_path)atoi(argv[3]) : CK_PATH_AVX2), tn, nv, best * 1e6,
               best * 1e9 / ((double)rows * (double)nb * nv), best / single, 2.0 * rows * (double)cols * nv / best / 1e9);
    }
    free(w); free(x); free(xq); free(y);
    return 0;
}
