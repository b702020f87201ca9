// test_support.h — what both C test drivers share: pass/fail counting and a seeded PRNG (splitmix64,
// so a failure reproduces from its seed). Define CK_TEST_SEED before including it.
#ifndef CK_TEST_SUPPORT_H
#define CK_TEST_SUPPORT_H
#include <stdint.h>
#include <stdio.h>

#ifndef CK_TEST_SEED
#error "define CK_TEST_SEED before including test_support.h"
#endif

static int g_pass, g_fail, g_verbose;

#define CHECK(cond, ...)                                                                                \
    do {                                                                                                \
        if (cond) {                                                                                     \
            ++g_pass;                                                                                   \
        } else {                                                                                        \
            ++g_fail;                                                                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                 \
            printf(__VA_ARGS__);                                                                        \
            printf("\n");                                                                               \
        }                                                                                               \
    } while (0)

static uint64_t g_rng = CK_TEST_SEED;
static uint64_t rnd64(void) {
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint32_t rndu(uint32_t n) { return (uint32_t)(rnd64() % n); }
static float rndf(void) { return (float)((rnd64() >> 40) * 0x1p-24) * 2.0f - 1.0f; }  // [-1, 1)
static float rnd_normal(void) {
    float s = 0;
    for (int i = 0; i < 4; ++i) s += rndf();
    return s;
}

#endif
