// ck_avx512vnni.c — AVX-512 plus AVX512_VNNI (Cascade Lake, Ice Lake and later, Zen 4): the kernels of
// ck_x86_512.h with vpdpbusd / vpdpwssd (EVEX, 512-bit) for the integer dot products.
#if defined(__x86_64__)
#define CK_PFX ck_avx512vnni_
#define CK_TGT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define CK_VNNI 1
#include "ck_x86_512.h"
#endif
