// CKernels.h — the one public header of Brise's C kernel library.
//
// What lives here: quantized dot products, row-range mat-vec and small-batch mat-mat kernels for the
// GGUF weight types Brise loads (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K), the activation
// quantizers (Q8_0, Q8_K) that llama.cpp's CPU backend uses, dequantizers, fp16/bf16 conversion and
// CPU feature detection. One portable scalar reference plus SIMD paths chosen at run time.
//
// Conventions (shared/STYLE.md, "C target conventions"):
// - every exported symbol starts with `ck_`;
// - weights are raw GGUF bytes, `const void *` (Swift passes UnsafeRawPointer, no bindMemory); they
//   may be unaligned;
// - activations are `float *`; quantized activations are `void *` buffers of Q8_0 / Q8_K blocks
//   produced by the quantizers here;
// - no allocation, no threads, no global policy: Swift owns memory and threads. The only global state
//   is a once-computed CPU feature word (ck_cpu_detect), safe to call from any thread.
//
// Names without a path (ck_vec_dot_q4_0_q8_0, ck_matvec_q4_K, ...) are the portable scalar
// reference. Hot code calls through the table from ck_select_kernels(), whose entries are the SIMD
// versions for one instruction-set path. Every path computes the integer part of each quantized dot
// product exactly as the reference does (see ck_isums_fn); only float accumulation order differs.
// Q4_0 and Q4_K: the reference and every x86 SIMD path sum in the order of llama.cpp's x86 kernels
// for them (its repacked 8-row gemv: one FMA chain per row over the blocks, ck_scalar.c), so those
// results are bit-identical across x86 paths and to llama.cpp's token-by-token run; the ARM paths
// keep their own lane order.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(__clang__) && !defined(_Nonnull)
// GCC (used for the cross-compiled ARM64 tests) has no nullability qualifiers.
#define _Nonnull
#define _Nullable
#endif

// MARK: - Types

/// Tensor element types CKernels understands. The values are CKernels' own (dense, for table
/// indexing); use ck_type_from_ggml() to map a GGUF/ggml type id.
typedef enum ck_type {
    CK_TYPE_F32 = 0,
    CK_TYPE_F16 = 1,
    CK_TYPE_BF16 = 2,
    CK_TYPE_Q8_0 = 3,
    CK_TYPE_Q4_0 = 4,
    CK_TYPE_Q5_0 = 5,
    CK_TYPE_Q4_K = 6,
    CK_TYPE_Q5_K = 7,
    CK_TYPE_Q6_K = 8,
    CK_TYPE_Q8_K = 9,  ///< activation-only format for the K-quants
    CK_TYPE_COUNT = 10
} ck_type;

#define CK_Q4_0_BLOCK_BYTES 18
#define CK_Q5_0_BLOCK_BYTES 22
#define CK_Q8_0_BLOCK_BYTES 34
#define CK_Q4_K_BLOCK_BYTES 144
#define CK_Q5_K_BLOCK_BYTES 176
#define CK_Q6_K_BLOCK_BYTES 210
#define CK_Q8_K_BLOCK_BYTES 292

/// Static facts about one type.
typedef struct ck_type_traits {
    const char *_Nonnull name;  ///< ggml's name: "f32", "q4_0", "q4_K", ...
    uint32_t ggml_type;         ///< the GGUF / ggml type id
    uint32_t block_elems;       ///< elements per block (1 for float types, 32, or 256)
    uint32_t block_bytes;       ///< bytes per block
    ck_type act_type;           ///< activation format the dot products take (F32, Q8_0 or Q8_K)
    bool is_weight;             ///< false only for Q8_K
} ck_type_traits;

/// The traits of `type`, or NULL when `type` is out of range.
const ck_type_traits *_Nullable ck_type_get_traits(ck_type type);

/// Maps a GGUF / ggml type id to a ck_type; returns -1 when CKernels does not support it.
int ck_type_from_ggml(uint32_t ggml_type);

/// Bytes of one row of `cols` elements of `type`, or 0 when `cols` is not a whole number of blocks.
size_t ck_row_bytes(ck_type type, size_t cols);

// MARK: - Scalar conversions (IEEE round-to-nearest-even, like ggml and F16C)

float ck_fp16_to_fp32(uint16_t h);
uint16_t ck_fp32_to_fp16(float f);
float ck_bf16_to_fp32(uint16_t h);
/// Round-to-nearest-even, NaN kept quiet (ggml_compute_fp32_to_bf16).
uint16_t ck_fp32_to_bf16(float f);

// MARK: - Scalar reference: dequantize a row (n elements, a whole number of blocks)
//
// Bit-exact with gguf-py's numpy dequantizers (checked against committed fixtures) and with
// llama.cpp's dequantize_row_* when built without FMA contraction.

void ck_dequantize_row_f32(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_f16(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_bf16(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_q8_0(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_q4_0(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_q5_0(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_q4_K(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_q5_K(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_q6_K(const void *_Nonnull src, float *_Nonnull dst, size_t n);
void ck_dequantize_row_q8_K(const void *_Nonnull src, float *_Nonnull dst, size_t n);
/// Dispatches on `type`; returns false (and writes nothing) for an unknown type or a partial block.
bool ck_dequantize_row(ck_type type, const void *_Nonnull src, float *_Nonnull dst, size_t n);

/// Float row -> f16 / bf16 row (round to nearest even), e.g. for an F16 KV cache.
void ck_fp32_to_fp16_row(const float *_Nonnull src, void *_Nonnull dst, size_t n);
void ck_fp32_to_bf16_row(const float *_Nonnull src, void *_Nonnull dst, size_t n);

// MARK: - Scalar reference: activation quantizers
//
// Q8_0 (for Q4_0/Q5_0/Q8_0 weights), per 32-block: amax = max|x|, d = amax/127 stored as f16,
// q = round_half_even(x * id). This is what llama.cpp's CPU backend runs for activations (its SIMD
// quantize_row_q8_0), not quantize_row_q8_0_ref (roundf, ties away from zero). The inverse scale
// differs by architecture in llama.cpp and we follow it: on x86-64 id = 127/amax (AVX path); on
// AArch64 id = 1/d (NEON path). Every CKernels path on one machine produces identical bytes.
//
// Q8_K (for Q4_K/Q5_K/Q6_K weights), per 256-block: exactly quantize_row_q8_K_ref, which llama.cpp's
// CPU backend calls on both x86 and ARM: max = the element of largest |x|, iscale = -127/max,
// q = min(127, nearest_int(iscale*x)) (round half to even), d = 1/iscale, bsums = sums of 16.
//
// Both produce quants in [-127, 127]; the SIMD dot products rely on that (no -128 activations).

void ck_quantize_row_q8_0(const float *_Nonnull x, void *_Nonnull y, size_t n);
void ck_quantize_row_q8_K(const float *_Nonnull x, void *_Nonnull y, size_t n);

// MARK: - Scalar reference: dot products of one weight row with activations
//
// `n` is the row length in elements (a whole number of weight blocks). Quantized weights take the
// activation row already quantized (xq); float weights take the f32 activation row.
// Difference from llama.cpp, on purpose: for F16 / BF16 weights llama.cpp first rounds the
// activations to F16 / BF16 (its vec_dot_type); we keep them f32, which is at least as accurate. A
// caller that wants llama.cpp's exact F16 numbers can round x with ck_fp32_to_fp16_row and back.
// Activation quants must lie in [-127, 127] (our quantizers guarantee it): the x86 paths' int16
// intermediates are sized for that.

float ck_vec_dot_q4_0_q8_0(size_t n, const void *_Nonnull w, const void *_Nonnull xq);
float ck_vec_dot_q5_0_q8_0(size_t n, const void *_Nonnull w, const void *_Nonnull xq);
float ck_vec_dot_q8_0_q8_0(size_t n, const void *_Nonnull w, const void *_Nonnull xq);
float ck_vec_dot_q4_K_q8_K(size_t n, const void *_Nonnull w, const void *_Nonnull xq);
float ck_vec_dot_q5_K_q8_K(size_t n, const void *_Nonnull w, const void *_Nonnull xq);
float ck_vec_dot_q6_K_q8_K(size_t n, const void *_Nonnull w, const void *_Nonnull xq);
float ck_vec_dot_f32(size_t n, const void *_Nonnull w, const float *_Nonnull x);
float ck_vec_dot_f16(size_t n, const void *_Nonnull w, const float *_Nonnull x);
float ck_vec_dot_bf16(size_t n, const void *_Nonnull w, const float *_Nonnull x);

// MARK: - Integer partials (what every path must compute bit-identically)
//
// For one weight row and its activation row, out[] receives, per weight block b:
// - Q4_0, Q5_0, Q8_0 (x Q8_0):  1 int per 32-block: sum_j (q_w[j] - offset) * q_a[j]
//   (offset 8 for Q4_0, 16 for Q5_0, 0 for Q8_0).
// - Q4_K, Q5_K (x Q8_K): 2 ints per 256-block: [2b] = sum_s sc_s * sum_{32} q_w * q_a (q_w unsigned),
//   [2b+1] = sum_s m_s * (bsum_{2s} + bsum_{2s+1}).
// - Q6_K (x Q8_K): 1 int per 256-block: sum_g sc_g * sum_{16} (q_w - 32) * q_a.
// The float result is then d_w*d_a*[2b] - dmin_w*d_a*[2b+1] (K) or d_w*d_a*[b], summed over blocks.
typedef void (*ck_isums_fn)(size_t nblocks, const void *_Nonnull w, const void *_Nonnull xq,
                            int32_t *_Nonnull out);

void ck_isums_q4_0_q8_0(size_t nblocks, const void *_Nonnull w, const void *_Nonnull xq, int32_t *_Nonnull out);
void ck_isums_q5_0_q8_0(size_t nblocks, const void *_Nonnull w, const void *_Nonnull xq, int32_t *_Nonnull out);
void ck_isums_q8_0_q8_0(size_t nblocks, const void *_Nonnull w, const void *_Nonnull xq, int32_t *_Nonnull out);
void ck_isums_q4_K_q8_K(size_t nblocks, const void *_Nonnull w, const void *_Nonnull xq, int32_t *_Nonnull out);
void ck_isums_q5_K_q8_K(size_t nblocks, const void *_Nonnull w, const void *_Nonnull xq, int32_t *_Nonnull out);
void ck_isums_q6_K_q8_K(size_t nblocks, const void *_Nonnull w, const void *_Nonnull xq, int32_t *_Nonnull out);

// MARK: - Mat-vec and mat-mat
//
// Weight matrix: `rows` rows of `cols` elements, row r at (const char *)w + r*row_stride_bytes
// (normally ck_row_bytes(type, cols)). Activation `xq`: one row of `cols` elements in the weight
// type's act_type (Q8_0 / Q8_K blocks, or f32 for float weights).
//
// Mat-vec writes y[r] = dot(row r, x) for r in [row_begin, row_end) — `y` is the whole output
// vector, so worker threads can split rows without offsetting pointers.
//
// Mat-mat (prefill) takes `nvec` activation rows, vector j at (const char *)xq + j*xq_stride_bytes,
// and writes y[j*y_stride + r] for r in [row_begin, row_end), j in [0, nvec). Each weight block is
// loaded and unpacked once per group of 4 vectors.
typedef void (*ck_matvec_fn)(const void *_Nonnull w, size_t row_stride_bytes, const void *_Nonnull xq,
                             float *_Nonnull y, size_t row_begin, size_t row_end, size_t cols);
typedef void (*ck_matmul_fn)(const void *_Nonnull w, size_t row_stride_bytes, const void *_Nonnull xq,
                             size_t xq_stride_bytes, size_t nvec, float *_Nonnull y, size_t y_stride,
                             size_t row_begin, size_t row_end, size_t cols);
/// Dot product of one weight row with one activation row (act_type as above).
typedef float (*ck_vec_dot_fn)(size_t n, const void *_Nonnull w, const void *_Nonnull x);
typedef void (*ck_quantize_fn)(const float *_Nonnull x, void *_Nonnull y, size_t n);
typedef void (*ck_convert_fn)(const void *_Nonnull src, void *_Nonnull dst, size_t n);

#define CK_DECLARE_MAT(t)                                                                              \
    void ck_matvec_##t(const void *_Nonnull w, size_t row_stride_bytes, const void *_Nonnull xq,        \
                       float *_Nonnull y, size_t row_begin, size_t row_end, size_t cols);              \
    void ck_matmul_##t(const void *_Nonnull w, size_t row_stride_bytes, const void *_Nonnull xq,        \
                       size_t xq_stride_bytes, size_t nvec, float *_Nonnull y, size_t y_stride,        \
                       size_t row_begin, size_t row_end, size_t cols);
CK_DECLARE_MAT(f32)
CK_DECLARE_MAT(f16)
CK_DECLARE_MAT(bf16)
CK_DECLARE_MAT(q8_0)
CK_DECLARE_MAT(q4_0)
CK_DECLARE_MAT(q5_0)
CK_DECLARE_MAT(q4_K)
CK_DECLARE_MAT(q5_K)
CK_DECLARE_MAT(q6_K)
#undef CK_DECLARE_MAT

// MARK: - Paths, CPU features and the dispatch table

typedef enum ck_path {
    CK_PATH_SCALAR = 0,      ///< portable C, the reference
    CK_PATH_AVX2 = 1,        ///< x86-64 AVX2 + FMA + F16C
    CK_PATH_AVXVNNI = 2,     ///< AVX2 + AVX-VNNI (256-bit vpdpbusd, VEX encoded)
    CK_PATH_AVX512 = 3,      ///< AVX-512 F/BW/VL (+ DQ), 512-bit
    CK_PATH_AVX512VNNI = 4,  ///< AVX-512 with AVX512_VNNI (512-bit vpdpbusd)
    CK_PATH_NEON = 5,        ///< AArch64 Advanced SIMD
    CK_PATH_DOTPROD = 6,     ///< AArch64 NEON + dot product (sdot)
    CK_PATH_COUNT = 7
} ck_path;

enum {
    CK_CPU_AVX2 = 1u << 0,  ///< AVX2 + FMA + F16C, with OS-enabled YMM state
    CK_CPU_AVXVNNI = 1u << 1,
    CK_CPU_AVX512 = 1u << 2,  ///< F + BW + VL + DQ, with OS-enabled opmask/ZMM state
    CK_CPU_AVX512VNNI = 1u << 3,
    CK_CPU_NEON = 1u << 4,
    CK_CPU_DOTPROD = 1u << 5,
    CK_CPU_I8MM = 1u << 6,  ///< reported only; no path uses it yet
};

/// Feature bits (CK_CPU_*) of the running CPU, detected once (cpuid + xgetbv / getauxval).
uint32_t ck_cpu_detect(void);

/// Function table for one path. Entries indexed by ck_type; NULL where the combination does not
/// exist (Q8_K as a weight, isums for float types).
typedef struct ck_kernels {
    ck_path path;
    const char *_Nonnull name;
    ck_quantize_fn _Nonnull quantize_q8_0;
    ck_quantize_fn _Nonnull quantize_q8_K;
    ck_convert_fn _Nonnull fp16_to_fp32_row;  ///< src uint16 f16, dst float
    ck_convert_fn _Nonnull fp32_to_fp16_row;  ///< src float, dst uint16 f16
    ck_vec_dot_fn _Nullable vec_dot[CK_TYPE_COUNT];
    ck_matvec_fn _Nullable matvec[CK_TYPE_COUNT];
    ck_matmul_fn _Nullable matmul[CK_TYPE_COUNT];
    ck_isums_fn _Nullable isums[CK_TYPE_COUNT];
} ck_kernels;

/// The table for `path`, or NULL when this build or this CPU cannot run it.
const ck_kernels *_Nullable ck_select_kernels(ck_path path);

/// Whether `path` is compiled in and supported by the running CPU.
bool ck_path_supported(ck_path path);

/// The fastest supported path on this CPU (the widest; per type, see ck_same_bits).
ck_path ck_detect_best_path(void);

/// Whether the `type` kernels of paths `a` and `b` give the same bits for every input (both sum in
/// llama.cpp's order: Q4_0 and Q4_K on the scalar reference and every x86 path). Such paths are
/// interchangeable per type, so dispatch may pick whichever measures faster.
bool ck_same_bits(ck_path a, ck_path b, ck_type type);

/// "scalar", "avx2", "avxvnni", "avx512", "avx512vnni", "neon", "dotprod"; "?" when out of range.
const char *_Nonnull ck_path_name(ck_path path);

/// Parses a path name (as ck_path_name prints it). Returns false for an unknown name.
bool ck_path_parse(const char *_Nonnull name, ck_path *_Nonnull out);

/// Outcome of ck_path_from_env.
typedef enum ck_env_status {
    CK_ENV_UNSET = 0,        ///< BRISE_KERNEL_PATH unset or empty: *out = best path
    CK_ENV_OK = 1,           ///< valid and supported: *out = that path
    CK_ENV_UNKNOWN = -1,     ///< not a path name: *out = best path
    CK_ENV_UNSUPPORTED = -2  ///< a path this CPU/build cannot run: *out = best path
} ck_env_status;

/// Reads BRISE_KERNEL_PATH (scalar|avx2|avxvnni|avx512|avx512vnni|neon|dotprod) once, at set-up time
/// (never from hot code), and reports what it found so the caller can turn a bad value into a clear
/// error. *out is always a usable path.
ck_env_status ck_path_from_env(ck_path *_Nonnull out);

// MARK: - Measurement

/// Sums a buffer as 64-bit words with the widest loads the CPU has (a streaming read for measuring
/// read bandwidth). `p` 64-byte aligned; `bytes` a multiple of 512 (a tail is ignored).
uint64_t ck_stream_sum(const void *_Nonnull p, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif  // CKERNELS_H

// The forward pass's float ops (RMSNorm, RoPE, softmax, activations, F16 attention helpers).
#include "CKernelsOps.h"
