// ck_avx512.c — the AVX-512 path (F/BW/VL/DQ: Skylake-SP and later, Zen 4): 512-bit versions of the
// mat-vec / mat-mat kernels with vpmaddubsw + vpmaddwd integer dots. See ck_x86_512.h.
#if defined(__x86_64__)
#define CK_PFX ck_avx512_
#define CK_TGT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#define CK_VNNI 0
#include "ck_x86_512.h"
#endif
