// bench_stream.c — times one path's mat-vec against its mat-mats of 2, 4 and 8 columns on a weight
// matrix far larger than the caches (memory, not compute), with T threads splitting the rows, as decode
// and batched decode run, and a plain read of the same bytes (the wall). Rounds alternate the kernels and each figure is the best round, so a shared
// machine's drifting bandwidth moves both sides alike. For iterating on a kernel without the Swift
// build; `brise bench kernels --batch N` is the figure to report.
//
//   cc -std=c11 -O2 -fno-strict-aliasing -ISources/CKernels/include -ISources/CKernels
//      -o /tmp/bench_stream Sources/CKernels/*.c Tests/CKernelsC/bench_stream.c -lm -lpthread
//   /tmp/bench_stream [q4_K|q4_0|q8_0|q5_0|q5_K|q6_K] [path number, default avx2] [threads, default 2]
//                     [MiB of weights, default 512]
#define _GNU_SOURCE
#include "CKernels.h"
#include "bench_types.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct {
    const ck_kernels *k;
    ck_type t;
    const unsigned char *w, *xq;
    size_t rs, xs, rows, cols, r0, r1;
    float *y;
    int nv;
    pthread_barrier_t *start, *done;
    volatile int *quit;
} job;

static volatile uint64_t sink;

static void run(job *j) {
    if (j->nv == 0) {  // the read wall: a plain streaming read of this thread's share of the bytes
        const size_t a = j->rows * j->rs * j->r0 / j->rows / 4096 * 4096, b = j->rows * j->rs * j->r1 / j->rows / 4096 * 4096;
        sink += ck_stream_sum(j->w + a, b - a);
    } else if (j->nv == 1 && !getenv("MM1")) j->k->matvec[j->t](j->w, j->rs, j->xq, j->y, j->r0, j->r1, j->cols);
    else j->k->matmul[j->t](j->w, j->rs, j->xq, j->xs, (size_t)j->nv, j->y, j->rows, j->r0, j->r1, j->cols);
}

static void *worker(void *p) {
    job *j = p;
    for (;;) {
        pthread_barrier_wait(j->start);
        if (*j->quit) return NULL;
        run(j);
        pthread_barrier_wait(j->done);
    }
}

int main(int argc, char **argv) {
    const char *tn = argc > 1 ? argv[1] : "q4_K";
    const ck_path path = argc > 2 ? (ck_path)atoi(argv[2]) : CK_PATH_AVX2;
    const int nt = argc > 3 ? atoi(argv[3]) : 2;
    const size_t mib = argc > 4 ? (size_t)atoi(argv[4]) : 512;
    const size_t cols = 3072;
    const bench_type *bt = bench_find_type(tn);
    if (!bt || bt->is_float) { fprintf(stderr, "unknown or float type %s\n", tn); return 2; }
    const ck_type t = bt->type;
    const size_t bsz = bt->block_bytes, qb = bt->block_elems;
    const int kquant = bt->kquant;
    if (nt < 1 || nt > 64 || mib < 16) return 2;
    const ck_kernels *k = ck_select_kernels(path);
    if (!k || !k->matvec[t] || !k->matmul[t]) { fprintf(stderr, "path not supported here\n"); return 2; }
    const size_t nb = cols / qb, rs = nb * bsz, rows = mib * 1048576 / rs / 16 * 16;
    unsigned char *w = malloc(rows * rs);
    bench_fill_weights(bt, w, rows, cols);
    enum { NV = 8 };
    float *x = malloc(NV * cols * sizeof(float));
    for (size_t i = 0; i < NV * cols; ++i) x[i] = (float)rand() / (float)RAND_MAX * 2 - 1;
    const size_t xs = kquant ? nb * 292 : nb * 34;
    unsigned char *xq = malloc(NV * xs);
    for (int j = 0; j < NV; ++j) {
        if (kquant) k->quantize_q8_K(x + j * cols, xq + j * xs, cols);
        else k->quantize_q8_0(x + j * cols, xq + j * xs, cols);
    }
    float *y = malloc(NV * rows * sizeof(float));
    pthread_barrier_t start, done;
    pthread_barrier_init(&start, NULL, (unsigned)nt);
    pthread_barrier_init(&done, NULL, (unsigned)nt);
    volatile int quit = 0;
    job jobs[64];
    pthread_t th[64];
    for (int i = 0; i < nt; ++i) {
        const size_t r0 = rows * (size_t)i / (size_t)nt / 16 * 16, r1 = i + 1 == nt ? rows : rows * (size_t)(i + 1) / (size_t)nt / 16 * 16;
        jobs[i] = (job){k, t, w, xq, rs, xs, rows, cols, r0, r1, y, 1, &start, &done, &quit};
        if (i > 0) pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    const int counts[] = {0, 1, 2, 4, 8};
    double best[5] = {1e9, 1e9, 1e9, 1e9, 1e9};
    for (int round = 0; round < 7; ++round) {
        for (int v = 0; v < 5; ++v) {
            for (int i = 0; i < nt; ++i) jobs[i].nv = counts[v];
            const double t0 = now();
            pthread_barrier_wait(&start);
            run(&jobs[0]);
            pthread_barrier_wait(&done);
            const double d = now() - t0;
            if (d < best[v]) best[v] = d;
        }
    }
    quit = 1;
    pthread_barrier_wait(&start);
    for (int i = 1; i < nt; ++i) pthread_join(th[i], NULL);
    printf("read wall %dt: %.1f GB/s\n", nt, (double)(rows * rs) / best[0] / 1e9);
    for (int v = 1; v < 5; ++v) {
        printf("%s %s %dt nv=%d  %8.2f ms  %6.1f GB/s of weights (%3.0f%% of the wall)  %5.2fx the mat-vec\n", ck_path_name(path),
               tn, nt, counts[v], best[v] * 1e3, (double)(rows * rs) / best[v] / 1e9, 100 * best[0] / best[v], best[v] / best[1]);
    }
    free(w); free(x); free(xq); free(y);
    return 0;
}
