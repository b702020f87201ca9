// ck_fp16.h — portable binary16 / bfloat16 <-> binary32 conversion, inlined into every path.
//
// Why portable and not a lookup table: the scalar path must build and run anywhere (and under qemu),
// and these are exact bit manipulations that give the same bits as F16C's vcvtph2ps / vcvtps2ph
// (round to nearest even, overflow to infinity, NaN kept quiet with its top payload bits) and as
// AArch64's fcvt. The SIMD paths use the hardware instructions for whole rows; the test driver checks
// the portable code against F16C where the CPU has it.
#ifndef CK_FP16_H
#define CK_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ck_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float ck_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float ck_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        // Zero or subnormal: mant * 2^-24 is exact in binary32.
        const float mag = (float)mant * 0x1p-24f;
        return ck_bits_f32(sign | ck_f32_bits(mag));
    }
    // inf, or NaN with its payload kept and the quiet bit set (as F16C's vcvtph2ps and ARM's fcvt do).
    if (exp == 31) return ck_bits_f32(sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0u));
    return ck_bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

static inline uint16_t ck_float_to_half(float f) {
    const uint32_t x = ck_f32_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // quiet NaN
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // >= 65520 rounds to infinity (RNE)
    if (ax < 0x38800000u) {
        // Result is a half subnormal (or zero / the smallest normal after rounding). Adding 0.5f
        // lets the FPU round the magnitude to a multiple of 2^-24 (0.5's ulp) with its own RNE;
        // the low mantissa bits are then the half's bits.
        const float r = ck_bits_f32(ax) + 0.5f;
        return (uint16_t)(sign | (ck_f32_bits(r) - 0x3f000000u));
    }
    // Normal: rebias the exponent (127 -> 15) and round the 13 dropped bits to nearest even.
    const uint32_t odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + odd;
    return (uint16_t)(sign | (ax >> 13));
}

static inline float ck_bf16_to_float(uint16_t h) { return ck_bits_f32((uint32_t)h << 16); }

static inline uint16_t ck_float_to_bf16(float f) {
    const uint32_t u = ck_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64u);  // force quiet NaN
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

#endif  // CK_FP16_H
