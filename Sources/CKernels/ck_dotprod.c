// ck_dotprod.c — AArch64 with the ARMv8.2 dot-product extension (Cortex-A55/A76 and later, Neoverse,
// Apple): the ck_arm.h kernels with sdot, 16 int8 products per instruction into int32 lanes.
// The attribute enables the extension for these functions only; ck_cpu.c checks HWCAP_ASIMDDP.
#if defined(__aarch64__)
#define CK_PFX ck_dotprod_
#if defined(__clang__)
#define CK_TGT __attribute__((target("dotprod")))
#else
// GCC's arm_neon.h declares the dot-product intrinsics under arch=armv8.2-a+dotprod, so the
// attribute must name that architecture for them to inline.
#define CK_TGT __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
#define CK_DOTPROD 1
#include "ck_arm.h"
#endif
