// ck_avxvnni.c — AVX2 plus AVX-VNNI (Alder Lake and later, Zen 5): the same 256-bit kernels as
// ck_avx2.c with vpdpbusd / vpdpwssd (VEX encoding) in place of the maddubs/madd pairs, which saves
// an instruction per 32 products and removes the 16-bit intermediate.
#if defined(__x86_64__)
#define CK_PFX ck_avxvnni_
#define CK_TGT __attribute__((target("avx2,fma,f16c,avxvnni")))
#define CK_VNNI 1
#include "ck_x86_256.h"
#endif
