// ck_cpu.c — run-time CPU feature detection.
//
// Why at run time: one binary must run on every x86-64 / AArch64 box Brise ships to, so we compile
// every path (with per-function target attributes) and pick one here. Instruction support alone is
// not enough on x86: the OS must also save the wider register state on context switches, which
// XGETBV(XCR0) reports (YMM for AVX2; opmask + ZMM for AVX-512). On AArch64 the kernel tells us
// through getauxval(AT_HWCAP).
#include <stdint.h>

#include "ck_types.h"

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t ck_xgetbv0(void) {
    uint32_t lo, hi;
    // Encoded as bytes so no -mxsave is needed; only executed after CPUID reports OSXSAVE.
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t ck_detect_x86(void) {
    uint32_t a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = ck_xgetbv0();
    const int os_ymm = (xcr0 & 0x6) == 0x6;             // SSE + AVX state
    const int os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
    if (!os_ymm) return 0;
    uint32_t max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1;
    const int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
              avx512vl = (b >> 31) & 1;
    const int avx512vnni = (c >> 11) & 1;
    const uint32_t leaf7_max_sub = a;
    int avxvnni = 0;
    if (leaf7_max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        avxvnni = (a >> 4) & 1;
    }
    uint32_t f = 0;
    if (avx2 && fma && f16c) {
        f |= CK_CPU_AVX2;
        if (avxvnni) f |= CK_CPU_AVXVNNI;
        if (os_zmm && avx512f && avx512bw && avx512vl && avx512dq) {
            f |= CK_CPU_AVX512;
            if (avx512vnni) f |= CK_CPU_AVX512VNNI;
        }
    }
    return f;
}
#endif

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif

static uint32_t ck_detect_arm(void) {
    const unsigned long hw = getauxval(AT_HWCAP);
    const unsigned long hw2 = getauxval(AT_HWCAP2);
    uint32_t f = CK_CPU_NEON;  // Advanced SIMD is mandatory in AArch64 Linux ABIs
    (void)HWCAP_ASIMD;
    if (hw & HWCAP_ASIMDDP) f |= CK_CPU_DOTPROD;
    if (hw2 & HWCAP2_I8MM) f |= CK_CPU_I8MM;
    return f;
}
#endif

uint32_t ck_cpu_detect(void) {
    // Bit 31 marks "computed". Threads racing here compute the same value; the word is atomic.
    static uint32_t cached = 0;
    const uint32_t v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v & 0x80000000u) return v & 0x7fffffffu;
    uint32_t f = 0;
#if defined(__x86_64__)
    f = ck_detect_x86();
#elif defined(__aarch64__)
    f = ck_detect_arm();
#endif
    __atomic_store_n(&cached, f | 0x80000000u, __ATOMIC_RELAXED);
    return f;
}
