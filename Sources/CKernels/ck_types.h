// ck_types.h — block layouts of the GGUF/ggml quantization formats CKernels reads, and small
// internal helpers shared by every path.
//
// Why a private header: Swift never sees these structs. It passes raw, possibly unaligned bytes from
// the mapped file (`const void *`), and the public header only exposes sizes through ck_type_traits.
// Every struct is byte-packed by construction (all members are byte arrays or naturally aligned
// 16/32-bit fields placed so that no padding arises) and the sizes are pinned with _Static_assert, so
// a layout drift against llama.cpp's ggml-common.h is a compile error, not a silent misread.
//
// Layouts follow MODEL-SPEC.md §3 (ggml-common.h). All multi-byte fields are little-endian; every
// target we build for (x86-64, AArch64 Linux) is little-endian, which the assert below pins.
#ifndef CK_TYPES_H
#define CK_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "CKernels.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "CKernels reads GGUF blocks in place and needs a little-endian target"
#endif

#define CK_QK4_0 32
#define CK_QK5_0 32
#define CK_QK8_0 32
#define CK_QKK 256
#define CK_K_SCALE_SIZE 12

typedef uint16_t ck_half;  // IEEE binary16 bits
typedef uint16_t ck_bf16;  // bfloat16 bits (high half of an f32)

// Q4_0: x[j] = (nibble - 8) * d; low nibbles are elements 0..15, high nibbles 16..31.
typedef struct {
    ck_half d;
    uint8_t qs[CK_QK4_0 / 2];
} block_q4_0;
_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 must be 18 bytes");

// Q5_0: like Q4_0 plus a 5th bit per element in qh (bit j of the little-endian u32), offset 16.
typedef struct {
    ck_half d;
    uint8_t qh[4];
    uint8_t qs[CK_QK5_0 / 2];
} block_q5_0;
_Static_assert(sizeof(block_q5_0) == 22, "block_q5_0 must be 22 bytes");

// Q8_0: x[j] = qs[j] * d. Also the activation format for Q4_0 / Q5_0 / Q8_0 weights.
typedef struct {
    ck_half d;
    int8_t qs[CK_QK8_0];
} block_q8_0;
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes");

// Q4_K: 8 sub-blocks of 32 with 6-bit scale and min packed in scales[12]; x = d*sc*q - dmin*m.
typedef struct {
    ck_half d;
    ck_half dmin;
    uint8_t scales[CK_K_SCALE_SIZE];
    uint8_t qs[CK_QKK / 2];
} block_q4_K;
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K must be 144 bytes");

// Q5_K: Q4_K plus qh[32]: bit (2c) / (2c+1) of qh[l] is the 5th bit of element l of chunk c's halves.
typedef struct {
    ck_half d;
    ck_half dmin;
    uint8_t scales[CK_K_SCALE_SIZE];
    uint8_t qh[CK_QKK / 8];
    uint8_t qs[CK_QKK / 2];
} block_q5_K;
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K must be 176 bytes");

// Q6_K: 16 groups of 16 with int8 scales; q = (4 low bits from ql | 2 high bits from qh) - 32; d last.
typedef struct {
    uint8_t ql[CK_QKK / 2];
    uint8_t qh[CK_QKK / 4];
    int8_t scales[CK_QKK / 16];
    ck_half d;
} block_q6_K;
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K must be 210 bytes");

// Q8_K: activation format for the K-quants. d is an f32; bsums[k] = sum of qs[16k .. 16k+15].
typedef struct {
    float d;
    int8_t qs[CK_QKK];
    int16_t bsums[CK_QKK / 16];
} block_q8_K;
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K must be 292 bytes");

_Static_assert(sizeof(block_q4_0) == CK_Q4_0_BLOCK_BYTES, "public size constant drifted");
_Static_assert(sizeof(block_q5_0) == CK_Q5_0_BLOCK_BYTES, "public size constant drifted");
_Static_assert(sizeof(block_q8_0) == CK_Q8_0_BLOCK_BYTES, "public size constant drifted");
_Static_assert(sizeof(block_q4_K) == CK_Q4_K_BLOCK_BYTES, "public size constant drifted");
_Static_assert(sizeof(block_q5_K) == CK_Q5_K_BLOCK_BYTES, "public size constant drifted");
_Static_assert(sizeof(block_q6_K) == CK_Q6_K_BLOCK_BYTES, "public size constant drifted");
_Static_assert(sizeof(block_q8_K) == CK_Q8_K_BLOCK_BYTES, "public size constant drifted");

// Blocks sit in a mapped file at whatever offset the tensor data has: GGUF aligns tensor starts to
// general.alignment (32 by default) but rows of 18/22/34/210-byte blocks leave blocks unaligned.
// Every multi-byte field read goes through memcpy, which compiles to a plain unaligned load.
static inline uint16_t ck_load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline uint32_t ck_load_u32(const void *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline float ck_load_f32(const void *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block (get_scale_min_k4).
static inline void ck_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Unpack all eight (scale, min) pairs at once into bytes: sc[0..7], m[0..7]. The SIMD paths use this
// form (16 bytes out) and broadcast from it.
static inline void ck_unpack_scales_k4(const uint8_t *q, uint8_t out_sc[8], uint8_t out_m[8]) {
    for (int j = 0; j < 8; ++j) ck_scale_min_k4(j, q, &out_sc[j], &out_m[j]);
}

// Internal symbols shared between files stay out of the dynamic symbol table.
#define CK_INTERNAL __attribute__((visibility("hidden")))

#endif  // CK_TYPES_H
