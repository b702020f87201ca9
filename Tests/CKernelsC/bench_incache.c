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
#include "bench_types.h"
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
    const bench_type *bt = bench_find_type(tn);
    if (!bt) { fprintf(stderr, "unknown type %s\n", tn); return 2; }
    const ck_type t = bt->type;
    const size_t bsz = bt->block_bytes, qb = bt->block_elems;
    const int kquant = bt->kquant, fl = bt->is_float;
    if (rows < 1) return 2;
    const ck_kernels *k = ck_select_kernels(argc > 3 ? (ck_path)atoi(argv[3]) : CK_PATH_AVX2);
    if (!k || !k->matvec[t] || !k->matmul[t]) { fprintf(stderr, "path not supported here\n"); return 2; }
    const size_t nb = cols / qb, rs = nb * bsz;
    unsigned char *w = malloc((size_t)rows * rs);
    bench_fill_weights(bt, w, (size_t)rows, cols);
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
