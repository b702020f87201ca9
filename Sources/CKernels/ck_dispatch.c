// ck_dispatch.c — the per-path function tables, path names and the BRISE_KERNEL_PATH helper.
//
// Each SIMD translation unit exports one hidden `ck_<path>_fill_table` that writes its kernels into a
// table; AVX-512 tables start from the AVX2 table (the quantizers and f16 row converters are the
// 256-bit ones: they are a negligible share of the time) and override the mat-vec/mat-mat kernels.
// Tables are built once (pthread_once) and then only read, so any thread may use them.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ck_types.h"

CK_INTERNAL void ck_scalar_fp16_to_fp32_row(const void *src, void *dst, size_t n);
CK_INTERNAL void ck_scalar_fp32_to_fp16_row(const void *src, void *dst, size_t n);
CK_INTERNAL float ck_scalar_dot_f32(size_t n, const void *w, const void *x);
CK_INTERNAL float ck_scalar_dot_f16(size_t n, const void *w, const void *x);
CK_INTERNAL float ck_scalar_dot_bf16(size_t n, const void *w, const void *x);

#if defined(__x86_64__)
CK_INTERNAL void ck_avx2_fill_table(ck_kernels *k);
CK_INTERNAL void ck_avxvnni_fill_table(ck_kernels *k);
CK_INTERNAL void ck_avx512_fill_table(ck_kernels *k);
CK_INTERNAL void ck_avx512vnni_fill_table(ck_kernels *k);
#endif
#if defined(__aarch64__)
CK_INTERNAL void ck_neon_fill_table(ck_kernels *k);
CK_INTERNAL void ck_dotprod_fill_table(ck_kernels *k);
#endif

static const char *const k_path_names[CK_PATH_COUNT] = {
    [CK_PATH_SCALAR] = "scalar",         [CK_PATH_AVX2] = "avx2",   [CK_PATH_AVXVNNI] = "avxvnni",
    [CK_PATH_AVX512] = "avx512",         [CK_PATH_AVX512VNNI] = "avx512vnni",
    [CK_PATH_NEON] = "neon",             [CK_PATH_DOTPROD] = "dotprod",
};

static ck_kernels k_tables[CK_PATH_COUNT];
static pthread_once_t k_once = PTHREAD_ONCE_INIT;

static void ck_fill_scalar(ck_kernels *k) {
    k->quantize_q8_0 = ck_quantize_row_q8_0;
    k->quantize_q8_K = ck_quantize_row_q8_K;
    k->fp16_to_fp32_row = ck_scalar_fp16_to_fp32_row;
    k->fp32_to_fp16_row = ck_scalar_fp32_to_fp16_row;
    k->vec_dot[CK_TYPE_F32] = ck_scalar_dot_f32;
    k->vec_dot[CK_TYPE_F16] = ck_scalar_dot_f16;
    k->vec_dot[CK_TYPE_BF16] = ck_scalar_dot_bf16;
    k->vec_dot[CK_TYPE_Q8_0] = ck_vec_dot_q8_0_q8_0;
    k->vec_dot[CK_TYPE_Q4_0] = ck_vec_dot_q4_0_q8_0;
    k->vec_dot[CK_TYPE_Q5_0] = ck_vec_dot_q5_0_q8_0;
    k->vec_dot[CK_TYPE_Q4_K] = ck_vec_dot_q4_K_q8_K;
    k->vec_dot[CK_TYPE_Q5_K] = ck_vec_dot_q5_K_q8_K;
    k->vec_dot[CK_TYPE_Q6_K] = ck_vec_dot_q6_K_q8_K;
#define CK_SET(T, t)                                                                                    \
    k->matvec[T] = ck_matvec_##t;                                                                       \
    k->matmul[T] = ck_matmul_##t;
    CK_SET(CK_TYPE_F32, f32)
    CK_SET(CK_TYPE_F16, f16)
    CK_SET(CK_TYPE_BF16, bf16)
    CK_SET(CK_TYPE_Q8_0, q8_0)
    CK_SET(CK_TYPE_Q4_0, q4_0)
    CK_SET(CK_TYPE_Q5_0, q5_0)
    CK_SET(CK_TYPE_Q4_K, q4_K)
    CK_SET(CK_TYPE_Q5_K, q5_K)
    CK_SET(CK_TYPE_Q6_K, q6_K)
#undef CK_SET
    k->isums[CK_TYPE_Q8_0] = ck_isums_q8_0_q8_0;
    k->isums[CK_TYPE_Q4_0] = ck_isums_q4_0_q8_0;
    k->isums[CK_TYPE_Q5_0] = ck_isums_q5_0_q8_0;
    k->isums[CK_TYPE_Q4_K] = ck_isums_q4_K_q8_K;
    k->isums[CK_TYPE_Q5_K] = ck_isums_q5_K_q8_K;
    k->isums[CK_TYPE_Q6_K] = ck_isums_q6_K_q8_K;
}

static void ck_build_tables(void) {
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        k_tables[p].path = (ck_path)p;
        k_tables[p].name = k_path_names[p];
        ck_fill_scalar(&k_tables[p]);  // every entry valid even before a path overrides it
    }
#if defined(__x86_64__)
    ck_avx2_fill_table(&k_tables[CK_PATH_AVX2]);
    ck_avx2_fill_table(&k_tables[CK_PATH_AVXVNNI]);
    ck_avxvnni_fill_table(&k_tables[CK_PATH_AVXVNNI]);
    ck_avx2_fill_table(&k_tables[CK_PATH_AVX512]);
    ck_avx512_fill_table(&k_tables[CK_PATH_AVX512]);
    ck_avx2_fill_table(&k_tables[CK_PATH_AVX512VNNI]);
    ck_avx512vnni_fill_table(&k_tables[CK_PATH_AVX512VNNI]);
    // Which path runs each type is measured at load (Kernels.KernelChoice), not fixed here.
#endif
#if defined(__aarch64__)
    ck_neon_fill_table(&k_tables[CK_PATH_NEON]);
    ck_neon_fill_table(&k_tables[CK_PATH_DOTPROD]);
    ck_dotprod_fill_table(&k_tables[CK_PATH_DOTPROD]);
#endif
}

bool ck_path_supported(ck_path path) {
    const uint32_t f = ck_cpu_detect();
    switch (path) {
    case CK_PATH_SCALAR: return true;
#if defined(__x86_64__)
    case CK_PATH_AVX2: return (f & CK_CPU_AVX2) != 0;
    case CK_PATH_AVXVNNI: return (f & CK_CPU_AVX2) && (f & CK_CPU_AVXVNNI);
    case CK_PATH_AVX512: return (f & CK_CPU_AVX512) != 0;
    case CK_PATH_AVX512VNNI: return (f & CK_CPU_AVX512) && (f & CK_CPU_AVX512VNNI);
#endif
#if defined(__aarch64__)
    case CK_PATH_NEON: return (f & CK_CPU_NEON) != 0;
    case CK_PATH_DOTPROD: return (f & CK_CPU_NEON) && (f & CK_CPU_DOTPROD);
#endif
    default: (void)f; return false;
    }
}

const ck_kernels *ck_select_kernels(ck_path path) {
    if ((unsigned)path >= CK_PATH_COUNT || !ck_path_supported(path)) return NULL;
    pthread_once(&k_once, ck_build_tables);
    return &k_tables[path];
}

ck_path ck_detect_best_path(void) {
    // Widest first. On CPUs with both AVX-512 VNNI and AVX-VNNI the 512-bit kernels do twice the
    // work per instruction; decode is memory-bound either way.
    static const ck_path order[] = {CK_PATH_AVX512VNNI, CK_PATH_AVX512, CK_PATH_AVXVNNI, CK_PATH_AVX2,
                                    CK_PATH_DOTPROD,    CK_PATH_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; ++i) {
        if (ck_path_supported(order[i])) return order[i];
    }
    return CK_PATH_SCALAR;
}

bool ck_same_bits(ck_path a, ck_path b, ck_type type) {
    if (a == b) return true;
    if (type != CK_TYPE_Q4_0 && type != CK_TYPE_Q4_K) return false;
    // The scalar reference and every x86 path sum Q4_0 / Q4_K in llama.cpp's repacked-gemv order
    // (ck_x86_512_rows16.h, ck_x86_256_rows8.h, ck_scalar.c; the C tests check it bit for bit). The
    // ARM paths do not (README, "Forward pass").
    const unsigned exact = (1u << CK_PATH_SCALAR) | (1u << CK_PATH_AVX2) | (1u << CK_PATH_AVXVNNI) |
                           (1u << CK_PATH_AVX512) | (1u << CK_PATH_AVX512VNNI);
    return (unsigned)a < CK_PATH_COUNT && (unsigned)b < CK_PATH_COUNT && (exact >> a & 1u) && (exact >> b & 1u);
}

const char *ck_path_name(ck_path path) {
    if ((unsigned)path >= CK_PATH_COUNT) return "?";
    return k_path_names[path];
}

bool ck_path_parse(const char *name, ck_path *out) {
    for (int p = 0; p < CK_PATH_COUNT; ++p) {
        if (strcmp(name, k_path_names[p]) == 0) {
            *out = (ck_path)p;
            return true;
        }
    }
    return false;
}

ck_env_status ck_path_from_env(ck_path *out) {
    *out = ck_detect_best_path();
    const char *v = getenv("BRISE_KERNEL_PATH");
    if (v == NULL || v[0] == '\0') return CK_ENV_UNSET;
    ck_path p;
    if (!ck_path_parse(v, &p)) return CK_ENV_UNKNOWN;
    if (!ck_path_supported(p)) return CK_ENV_UNSUPPORTED;
    *out = p;
    return CK_ENV_OK;
}
