// ck_avx2.c — the AVX2 + FMA + F16C path (Haswell and later, Zen). Integer dots use
// vpmaddubsw + vpmaddwd; see ck_x86_256.h for the kernels and their exactness bounds.
#if defined(__x86_64__)
#define CK_PFX ck_avx2_
#define CK_TGT __attribute__((target("avx2,fma,f16c")))
#define CK_VNNI 0
#include "ck_x86_256.h"
#endif
