// ck_bandwidth.c — a streaming read of a buffer, to measure the machine's read bandwidth (the ceiling
// for mat-vec, which reads every weight byte once per token). Wide loads into eight independent
// accumulators, so neither the adds nor a dependency chain limit it; SIMD width chosen at run time.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static uint64_t sum_avx512(const void *p, size_t bytes) {
    const __m512i *v = (const __m512i *)p;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i + 8 <= bytes / 64; i += 8) {
        a0 = _mm512_add_epi64(a0, _mm512_load_si512(v + i));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512(v + i + 1));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512(v + i + 2));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512(v + i + 3));
        a4 = _mm512_add_epi64(a4, _mm512_load_si512(v + i + 4));
        a5 = _mm512_add_epi64(a5, _mm512_load_si512(v + i + 5));
        a6 = _mm512_add_epi64(a6, _mm512_load_si512(v + i + 6));
        a7 = _mm512_add_epi64(a7, _mm512_load_si512(v + i + 7));
    }
    a0 = _mm512_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)),
                          _mm512_add_epi64(_mm512_add_epi64(a4, a5), _mm512_add_epi64(a6, a7)));
    return (uint64_t)_mm512_reduce_add_epi64(a0);
}

__attribute__((target("avx2")))
static uint64_t sum_avx2(const void *p, size_t bytes) {
    const __m256i *v = (const __m256i *)p;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i + 8 <= bytes / 32; i += 8) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(v + i));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(v + i + 1));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(v + i + 2));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(v + i + 3));
        a4 = _mm256_add_epi64(a4, _mm256_load_si256(v + i + 4));
        a5 = _mm256_add_epi64(a5, _mm256_load_si256(v + i + 5));
        a6 = _mm256_add_epi64(a6, _mm256_load_si256(v + i + 6));
        a7 = _mm256_add_epi64(a7, _mm256_load_si256(v + i + 7));
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)),
                          _mm256_add_epi64(_mm256_add_epi64(a4, a5), _mm256_add_epi64(a6, a7)));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, a0);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

static uint64_t sum_scalar(const void *p, size_t bytes) {
    const uint64_t *v = (const uint64_t *)p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i + 4 <= bytes / 8; i += 4) {
        a0 += v[i];
        a1 += v[i + 1];
        a2 += v[i + 2];
        a3 += v[i + 3];
    }
    return a0 + a1 + a2 + a3;
}

uint64_t ck_stream_sum(const void *p, size_t bytes) {
#if defined(__x86_64__)
    const uint32_t features = ck_cpu_detect();
    if (features & CK_CPU_AVX512) return sum_avx512(p, bytes);
    if (features & CK_CPU_AVX2) return sum_avx2(p, bytes);
#endif
    return sum_scalar(p, bytes);
}
