// ck_neon.c — the baseline AArch64 Advanced SIMD path (every ARMv8-A core, e.g. Cortex-A53/A72):
// int8 dot products through smull + sadalp. See ck_arm.h.
#if defined(__aarch64__)
#define CK_PFX ck_neon_
#define CK_TGT
#define CK_DOTPROD 0
#include "ck_arm.h"
#endif
