// CKernelsOps.h — the small float ops of the forward pass: RMSNorm, RoPE (NORM / NEOX, YaRN), softmax,
// SiLU / SwiGLU, GELU / GeGLU, element-wise add / mul / scale, and the F16-KV attention helpers.
//
// Included by CKernels.h (the module's umbrella header), so Swift sees it as part of CKernels.
//
// Every op has a portable scalar reference (the ck_*_f32 functions below) and SIMD versions for AVX2+FMA,
// AVX-512 and NEON, reached through the table ck_ops_select() returns for a ck_path (same paths and
// run-time CPU checks as CKernels.h; the VNNI / dotprod paths use the AVX2 / AVX-512 / NEON ops).
//
// Numerics: each op follows what llama.cpp's CPU backend (ggml-cpu ops.cpp, vec.h, vec.cpp, ggml-cpu.c)
// computes, read from its source. "llama.cpp" below means ggml-cpu built for the same instruction set
// as the path (the x86 AVX2 build for the avx2 path, AVX-512 build for avx512, the AArch64 NEON build
// without +fp16 for neon, a build without SIMD for scalar), with the compiler contracting a*b+c into an
// FMA where ggml's C source writes a*b+c — which GCC (-ffp-contract=fast is its default outside ISO C)
// and Clang (-ffp-contract=on) both do whenever the target has FMA, i.e. on every box Brise runs on.
// Where that contraction decides a result we write the fmaf() explicitly, so every path and compiler
// gets the same bits.
//
//   op             bits vs llama.cpp (same ISA)          paths vs the scalar reference
//   rms_norm       identical                             identical
//   rope_*         identical (cache and rotation)        identical
//   add/mul/scale  identical                             identical
//   max            identical                             identical (up to the sign of a zero result)
//   gelu/geglu     identical (same f16 table)            identical
//   axpy_f16       identical (ggml_vec_mad_f32 = FMA)    identical
//   exp_sub        identical (ggml_v_expf of that ISA,   |Δ| ≤ 3·FLT_EPSILON·|y| + 4·2^-149 per value
//                  ggml's horizontal-sum order, glibc    (measured: ≤ 2 ulp over [-104, 88.7]); the
//                  expf for the tail)                    sums within 8·FLT_EPSILON (relative)
//   softmax        identical                             |Δ| ≤ 16·FLT_EPSILON·|y| + 2^-140
//   silu / swiglu  identical                             |Δ| ≤ 4 (swiglu: 5)·FLT_EPSILON·|y| + 1e-36
//                                                        (measured ≤ 2.7·FLT_EPSILON; the absolute term
//                                                        covers x < -88.4, where the vector expf of -x
//                                                        overflows a little before glibc's)
//   dot_f16        order differs (see there)             |Δ| ≤ (n+16)·FLT_EPSILON·Σ|k·q| + n·1e-37
//
// The vector exp is ggml's ggml_v_expf (ARM optimized-routines, ≤ 1.95 ulp from exp) and the tail
// and the scalar path use glibc's expf (≤ 0.51 ulp): that, not summation, is why the exp-based ops
// differ between paths. Everything else is an identical sequence of IEEE operations.
//
// "Identical vs llama.cpp" is a claim about arithmetic, read from ggml's source and from the compiler
// behaviour above; it has not been run against a llama.cpp binary here (the forward-pass parity
// fixtures will). Tests/CKernelsC/test_ops.c checks every SIMD path against the scalar reference and,
// for the vector exp, bit-for-bit against a scalar model of ggml's per-ISA algorithm.
//
// Splitting work across threads: the exp-based ops (exp_sub, softmax, silu, swiglu) give element i a
// vector or a libm exp depending on where i falls relative to the start of the call, exactly as
// ggml does for a whole row. To get the same bits as one call over the whole row (and as llama.cpp),
// split a row only at multiples of CK_OPS_SPLIT_ALIGN elements. Every other op is element-wise
// independent of the split (rms_norm and softmax need the whole row anyway).
//
// Conventions (as CKernels.h): symbols ck_*, no allocation, no threads; activations are float *,
// raw f16 rows (the KV cache) are const void * and may be unaligned; float rows need no alignment.
// Unless stated otherwise an output may be the same array as an input (in place), but must not
// otherwise overlap it. "Identical" means for inputs without NaN: NaNs propagate, with unspecified
// payloads.
#ifndef CK_OPS_H
#define CK_OPS_H

#include "CKernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Split rows of exp-based ops only at multiples of this many elements (see above).
#define CK_OPS_SPLIT_ALIGN 64

// MARK: - RMSNorm (ggml_compute_forward_rms_norm_f32, then ggml_mul by the weight)
//
// llama.cpp: sum = Σ (double)(x_i * x_i) — the square in float, the running sum in double, in index
// order; mean = (float)(sum / n); scale = 1.0f / sqrtf(mean + eps); y_i = x_i * scale, then
// y_i * w_i (a separate ggml_mul, or the fused rms_norm+mul: the same two roundings).
// Ours: identical on every path. The SIMD paths square in vectors and add in several double lanes,
// then prove that the serial sum would give the same float mean: any order of adding the non-negative
// squares lands within (n-1)·2^-53 (relative) of their exact sum, so the serial sum lies in an interval
// of twice that around the lane sum; when the float means of its two ends are the same float, that is
// llama.cpp's mean. Otherwise — for about (n+2)·2^-27 of rows, 3·10^-5 at n = 4096 — they redo the
// serial sum. (A serial double sum costs ~4 cycles per element; this keeps RMSNorm vector-speed.)

/// y = x / sqrt(mean(x²) + eps) (* w when w is not NULL), n ≥ 1.
void ck_rms_norm_f32(size_t n, const float *_Nonnull x, const float *_Nullable w, float eps, float *_Nonnull y);

// MARK: - RoPE (ggml_compute_forward_rope_flt, ggml_rope_cache_init, rope_yarn, ggml_rope_yarn_corr_dims)
//
// A position's rotation is a cache of n_dims floats, cache[2k] = cos φ_k · m, cache[2k+1] = sin φ_k · m
// (ggml's layout), built once per position and used for every head (and every layer that shares the
// configuration). Pair k rotates (x[2k], x[2k+1]) for NORM ordering (llama, mistral3) and
// (x[k], x[k + n_dims/2]) for NEOX ordering (qwen2, gemma3); dims n_dims..head_dim-1 are copied.
//
// Cache, exactly as ggml: theta_scale = powf(freq_base, -2.0f/n_dims); θ_0 = (float)pos,
// θ_{k+1} = θ_k · theta_scale (repeated float multiplication, not pos·base^(-2k/n)); θ_extrap = θ_k /
// freq_factors[k] (1 when NULL); θ_interp = freq_scale · θ_extrap. When ext_factor ≠ 0 (YaRN):
// ramp = 1 - clamp((k - low) / max(0.001f, high - low), 0, 1), mix = ramp · ext_factor,
// φ = fmaf(θ_interp, 1 - mix, θ_extrap · mix), m = attn_factor · fmaf(0.1f, logf(1/freq_scale), 1);
// otherwise φ = θ_interp, m = attn_factor. [low, high] from ck_rope_yarn_corr_dims. cos/sin are
// glibc's cosf/sinf (ggml calls the same libm).
// Rotation: out_a = fmaf(a, cos, -(b·sin)), out_b = fmaf(a, sin, b·cos) — ggml's x0*cos - x1*sin and
// x0*sin + x1*cos as GCC and Clang contract them (the left product fused). A llama.cpp built without
// FMA contraction rounds both products instead: at most 1 ulp apart.

/// RoPE hyper-parameters (ggml_rope_ext's arguments).
typedef struct ck_rope_config {
    int32_t n_dims;      ///< rotated dims per head (even, ≥ 2); the rest of the head is copied
    int32_t n_ctx_orig;  ///< YaRN original context length (ggml's n_ctx_orig); unused when ext_factor = 0
    float freq_base;     ///< θ (rope.freq_base, 10000 by default)
    float freq_scale;    ///< 1 / rope.scaling.factor (1 without scaling)
    float ext_factor;    ///< YaRN extrapolation mix: 1 for YaRN, 0 otherwise
    float attn_factor;   ///< magnitude factor a (1 without YaRN; see MODEL-SPEC.md §4.4)
    float beta_fast;     ///< YaRN β_fast (32)
    float beta_slow;     ///< YaRN β_slow (1)
} ck_rope_config;

/// ggml_rope_yarn_corr_dims: dims[0] = max(0, floor(corr(β_fast))), dims[1] = min(n_dims-1,
/// ceil(corr(β_slow))), corr(r) = n_dims·logf(n_ctx_orig / (r·2π)) / (2·logf(freq_base)), in float.
void ck_rope_yarn_corr_dims(int32_t n_dims, int32_t n_ctx_orig, float freq_base, float beta_fast,
                            float beta_slow, float dims[_Nonnull 2]);

/// Fills cache[0 ..< n_dims] for position `pos` (see above). freq_factors, when not NULL, has n_dims/2
/// entries (llama3-style rope_freqs).
void ck_rope_cache(const ck_rope_config *_Nonnull cfg, int32_t pos, const float *_Nullable freq_factors,
                   float *_Nonnull cache);

/// Rotates n_heads heads of head_dim floats, head h at x + h·head_dim, into y (may be x), with one
/// position's cache. NORM ordering (adjacent pairs). Requires 2 ≤ n_dims ≤ head_dim, n_dims even.
void ck_rope_norm_f32(const float *_Nonnull cache, size_t n_dims, size_t head_dim, size_t n_heads,
                      const float *_Nonnull x, float *_Nonnull y);
/// As ck_rope_norm_f32, NEOX ordering (pairs k and k + n_dims/2).
void ck_rope_neox_f32(const float *_Nonnull cache, size_t n_dims, size_t head_dim, size_t n_heads,
                      const float *_Nonnull x, float *_Nonnull y);

// MARK: - Softmax (ggml_compute_forward_soft_max_f32, ggml_vec_max_f32, ggml_vec_soft_max_f32)
//
// llama.cpp, per row: w_i = x_i·scale (+ mask_i: slope 1, no ALiBi); max = max_i w_i;
// e_i = exp(w_i - max) and sum = Σ e_i in double (ggml_vec_soft_max_f32); y_i = e_i · (float)(1.0/sum).
// ggml_vec_soft_max_f32 computes blocks of 8 (AVX2) / 16 (AVX-512) / 4 (NEON) elements with that
// ISA's ggml_v_expf (ARM optimized-routines polynomial), adds each block's float horizontal sum
// (ggml's lane order) to the double sum, and the remaining n mod width elements with glibc expf.
// Ours: the same per path; the scalar path is ggml built without SIMD (glibc expf everywhere).
// Deliberate difference: a row whose every w_i is -inf (fully masked) gives y = 0 here; ggml asserts
// sum > 0 and would produce NaN.

/// max_i x_i (ggml_vec_max_f32; -inf for n = 0).
float ck_max_f32(size_t n, const float *_Nonnull x);
/// y_i = exp(x_i - max); returns Σ y_i accumulated as ggml_vec_soft_max_f32 does.
double ck_exp_sub_f32(size_t n, const float *_Nonnull x, float max, float *_Nonnull y);
/// y = softmax(x·scale + mask) over n ≥ 1 elements; mask may be NULL (no mask) and may hold -inf.
void ck_softmax_f32(size_t n, const float *_Nonnull x, float scale, const float *_Nullable mask,
                    float *_Nonnull y);

// MARK: - SiLU, SwiGLU (ggml_vec_silu_f32, ggml_vec_swiglu_f32)
//
// llama.cpp: silu(x) = x / (1 + exp(-x)); vector blocks use ggml_v_silu (x / (1 + ggml_v_expf(0 - x)),
// one division), the tail x/(1.0f + expf(-x)) with glibc. SwiGLU: y = silu(gate) · up (one rounding
// more). Ours: the same per path.

void ck_silu_f32(size_t n, const float *_Nonnull x, float *_Nonnull y);
void ck_swiglu_f32(size_t n, const float *_Nonnull gate, const float *_Nonnull up, float *_Nonnull y);

// MARK: - GELU, GeGLU (ggml_vec_gelu_f32, ggml_vec_geglu_f32 with GGML_GELU_FP16)
//
// llama.cpp's CPU GELU is the tanh approximation through an f16 lookup table (vec.h defines
// GGML_GELU_FP16 unconditionally): x ≤ -10 → 0; x ≥ 10 → x; otherwise table[f16(x)] widened to f32,
// where f16() rounds to nearest even and table[h] = f16(gelu(f32(h))),
// gelu(v) = (0.5f·v)·(1 + tanhf((√(2/π)·v)·fmaf(0.044715f·v, v, 1))) (ggml_gelu_f32 with GCC's / Clang's
// contraction of 1 + A·v·v; glibc tanhf). This is what gemma3's FFN uses (LLM_FFN_GELU + LLM_FFN_PAR
// → ggml_geglu_split). GeGLU: y = 0 for gate ≤ -10, gate·up for gate ≥ 10, table·up otherwise.
// Ours: the same table (built once, on first use, thread-safe), identical on every path. A
// llama.cpp built without FMA contraction could differ in a handful of table entries by 1 f16 ulp.

void ck_gelu_f32(size_t n, const float *_Nonnull x, float *_Nonnull y);
void ck_geglu_f32(size_t n, const float *_Nonnull gate, const float *_Nonnull up, float *_Nonnull y);
/// The table entry for one f16 input (bits in, bits out): f16(gelu(f32(h))).
uint16_t ck_gelu_f16(uint16_t h);

// MARK: - Element-wise (ggml_vec_add_f32, ggml_vec_mul_f32, ggml_vec_scale_f32): one rounding each

void ck_add_f32(size_t n, const float *_Nonnull a, const float *_Nonnull b, float *_Nonnull y);
void ck_mul_f32(size_t n, const float *_Nonnull a, const float *_Nonnull b, float *_Nonnull y);
/// y = x · s.
void ck_scale_f32(size_t n, const float *_Nonnull x, float s, float *_Nonnull y);

// MARK: - Attention over an F16 KV cache (single token)
//
// dot_f16: Σ k_i·q_i with k an f16 row and q f32, f32 products. The scalar path adds the float
// products in double in index order (ggml_vec_dot_f16 without SIMD); the SIMD paths keep 4 vector
// accumulators of FMAs over blocks of 4 vectors (ggml_vec_dot_f16's blocking), reduce them, and add
// the last n mod (4·width) products in double. Not claimed bit-identical to llama.cpp: it rounds q to
// f16 first (K's vec_dot_type) — round q through ck_fp32_to_fp16_row to reproduce that — and its
// attention dot order depends on which kernel runs (flash-attention's ggml_vec_dot_f16 for decode,
// llamafile's tinyBLAS or simd_gemm otherwise).
// axpy_f16: y_i = fmaf(f32(v_i), a, y_i) — ggml_vec_mad_f32's vector FMA (its scalar tail contracts
// to the same FMA). Identical on every path. llama.cpp's flash-attention accumulates V in an f16
// buffer when V is f16 (ggml_vec_mad_f16, rounding to f16 after every step); we keep f32, which is
// more accurate and differs from it by that rounding.

/// Σ f32(k_i)·q_i; k is n raw f16 values (may be unaligned).
float ck_dot_f16_f32(size_t n, const void *_Nonnull k, const float *_Nonnull q);
/// y_i += a · f32(v_i), fused; v is n raw f16 values.
void ck_axpy_f16_f32(size_t n, float a, const void *_Nonnull v, float *_Nonnull y);

// MARK: - One query head's attention over an F16 KV cache
//
// attend_f16 computes, for one query head, the whole attention the forward pass does per (token, head):
// q rounded to f16; scores[p] = dot_f16(K[cell(p)], q) for the visible positions first..<visible; the
// score row padded with -inf to whole 64-lane groups (from the group holding `first` to the one holding
// visible - 1) and softmaxed with `scale`; the visible probabilities rounded to f16; then P·V in
// ggml_vec_dot_f16's order over the positions of a transposed V, as the llama.cpp build of the path's
// ISA runs it. AVX-512 (and the non-x86 paths): position p feeds slot p mod 64 (fused multiply-adds in
// position order), and each output dimension reduces its 64 slots as GGML_F32x16_REDUCE ((acc0 + acc2)
// + (acc1 + acc3), acc j = slots 16j..16j+15) followed by _mm512_reduce_add_ps over the 16 lanes. AVX2
// and AVX-VNNI: 32 slots, acc j = slots 8j..8j+7, (acc0 + acc2) + (acc1 + acc3), then low 128 + high
// 128 and two horizontal adds (bit-identical to llama-cpp-python's AVX2 library on 600 random heads:
// scripts/compare-ops-with-llamacpp). cell(p) = p for p < cells, else p mod cells (a ring).
//
// The generic version (ck_attend_f16_generic) runs that through the path's dot_f16 / axpy_f16 /
// softmax / add; the AVX-512 path keeps the 64 slots of 16 output dimensions in registers instead of
// axpy rows in memory. Both give the same bits (the test drivers check it): every slot sees the same
// fused multiply-adds in the same order, and the reduction is the same tree.

/// The operands of one attend_f16 call.
typedef struct ck_attend_args {
    const float *_Nonnull q;          ///< head_dim floats (not yet rounded to f16)
    const void *_Nonnull keys;        ///< cells rows of head_dim values (f16, or q8_0 blocks for attend_q8_0)
    const void *_Nonnull values;      ///< laid out as the keys
    size_t head_dim;
    size_t cells;                     ///< cells in the (ring) cache of this layer
    size_t first;                     ///< first visible position
    size_t visible;                   ///< one past the last visible position (> first)
    float scale;                      ///< softmax scale (1/sqrt(head_dim) or the model's)
    float *_Nonnull scratch;          ///< ck_attend_f16_scratch_floats / ck_attend_q8_0_scratch_floats
    float *_Nonnull out;              ///< head_dim floats
} ck_attend_args;

/// Floats of scratch one attend_f16 call needs.
size_t ck_attend_f16_scratch_floats(size_t head_dim, size_t visible);

struct ck_ops;
/// attend_f16 through the ops of table `ops` (any path).
void ck_attend_f16_generic(const struct ck_ops *_Nonnull ops, const ck_attend_args *_Nonnull args);

// attend_f16_heads: `count` (1...CK_ATTEND_MAX_HEADS) query heads that share one KV head -- args[0..count)
// with the same keys, values, head_dim, cells, first, visible and scale, each its own q, scratch and
// out -- with the same bits as `count` attend_f16 calls. A prompt's attention is bound by streaming
// each KV head's K and V rows (from L3 once they outgrow L2) for every query head; walking each row
// once for the heads of a group (4 in Ministral 3) cuts that traffic by the group size.

/// The most heads one attend_f16_heads call takes.
#define CK_ATTEND_MAX_HEADS 16
/// attend_f16_heads through the ops of table `ops`, rows walked once for all heads (any path).
void ck_attend_f16_heads_generic(const struct ck_ops *_Nonnull ops, const ck_attend_args *_Nonnull args,
                                 size_t count);
/// attend_f16_heads as `count` calls of ops->attend_f16 (for paths whose attend_f16 is their own).
void ck_attend_f16_heads_each(const struct ck_ops *_Nonnull ops, const ck_attend_args *_Nonnull args, size_t count);

// attend_q8_0: the same attention over a Q8_0 KV cache (rows of head_dim/32 blocks), computed as
// llama.cpp's CPU flash-attention kernel does for a quantized cache (ops.cpp,
// ggml_compute_forward_flash_attn_ext_f16_one_chunk; flash attention is what llama.cpp requires for a
// quantized V): q quantized to Q8_0 (ck_quantize_row_q8_0), s = vec_dot_q8_0(K row, q) · scale with
// the path's Q8_0 dot, an online softmax in position order (on a new maximum M: ms = expf(M_old − M),
// the accumulator scaled by ms; else vs = expf(s − M)), V rows dequantized and accumulated with a
// fused multiply-add (ggml_vec_mad_f32), S = S·ms + vs fused, and the result scaled by 1/S. Not
// claimed bit-identical to llama.cpp (its KV-chunk split across threads and its tail handling are
// not reproduced); every path gives the same bits as the scalar one up to its Q8_0 dot.

/// Floats of scratch one attend_q8_0 call needs.
size_t ck_attend_q8_0_scratch_floats(size_t head_dim);
/// attend_q8_0 through the ops of table `ops` (any path).
void ck_attend_q8_0_generic(const struct ck_ops *_Nonnull ops, const ck_attend_args *_Nonnull args);
/// y_i = fmaf(x_i, a, y_i) (ggml_vec_mad_f32).
void ck_axpy_f32(size_t n, float a, const float *_Nonnull x, float *_Nonnull y);

// MARK: - Dispatch

/// The ops of one path. Signatures as the scalar functions above.
typedef struct ck_ops {
    ck_path path;
    const char *_Nonnull name;
    void (*_Nonnull rms_norm)(size_t n, const float *_Nonnull x, const float *_Nullable w, float eps,
                              float *_Nonnull y);
    void (*_Nonnull rope_norm)(const float *_Nonnull cache, size_t n_dims, size_t head_dim, size_t n_heads,
                               const float *_Nonnull x, float *_Nonnull y);
    void (*_Nonnull rope_neox)(const float *_Nonnull cache, size_t n_dims, size_t head_dim, size_t n_heads,
                               const float *_Nonnull x, float *_Nonnull y);
    float (*_Nonnull max)(size_t n, const float *_Nonnull x);
    double (*_Nonnull exp_sub)(size_t n, const float *_Nonnull x, float max, float *_Nonnull y);
    void (*_Nonnull softmax)(size_t n, const float *_Nonnull x, float scale, const float *_Nullable mask,
                             float *_Nonnull y);
    void (*_Nonnull silu)(size_t n, const float *_Nonnull x, float *_Nonnull y);
    void (*_Nonnull swiglu)(size_t n, const float *_Nonnull gate, const float *_Nonnull up, float *_Nonnull y);
    void (*_Nonnull gelu)(size_t n, const float *_Nonnull x, float *_Nonnull y);
    void (*_Nonnull geglu)(size_t n, const float *_Nonnull gate, const float *_Nonnull up, float *_Nonnull y);
    void (*_Nonnull add)(size_t n, const float *_Nonnull a, const float *_Nonnull b, float *_Nonnull y);
    void (*_Nonnull mul)(size_t n, const float *_Nonnull a, const float *_Nonnull b, float *_Nonnull y);
    void (*_Nonnull scale)(size_t n, const float *_Nonnull x, float s, float *_Nonnull y);
    float (*_Nonnull dot_f16)(size_t n, const void *_Nonnull k, const float *_Nonnull q);
    void (*_Nonnull axpy_f16)(size_t n, float a, const void *_Nonnull v, float *_Nonnull y);
    /// One query head's attention (see ck_attend_args); `ops` is this table.
    void (*_Nonnull attend_f16)(const struct ck_ops *_Nonnull ops, const ck_attend_args *_Nonnull args);
    /// attend_f16 for `count` query heads sharing one KV head (see attend_f16_heads above).
    void (*_Nonnull attend_f16_heads)(const struct ck_ops *_Nonnull ops, const ck_attend_args *_Nonnull args,
                                      size_t count);
    /// One query head's attention over a Q8_0 cache (see attend_q8_0 above); `ops` is this table.
    void (*_Nonnull attend_q8_0)(const struct ck_ops *_Nonnull ops, const ck_attend_args *_Nonnull args);
    void (*_Nonnull axpy_f32)(size_t n, float a, const float *_Nonnull x, float *_Nonnull y);
} ck_ops;

/// The ops for `path`, or NULL when this build or CPU cannot run it (as ck_select_kernels). Built once;
/// safe from any thread.
const ck_ops *_Nullable ck_ops_select(ck_path path);

#ifdef __cplusplus
}
#endif

#endif  // CK_OPS_H
