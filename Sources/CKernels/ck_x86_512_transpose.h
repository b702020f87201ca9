// ck_x86_512_transpose.h — dword transposes of 16 weight rows (lane i = row i), the building block of the
// lanes-are-rows kernels (Q4_K, Q4_0, Q6_K): 64 unpacks and lane shuffles for 16 x 16 dwords, 20 for
// 16 rows' 16 bytes, where one vpgatherdd of 16 dwords costs about as much as 20 shuffles on Zen 4.
// Included by ck_x86_512_rows16.h.

// A 16 x 16 dword transpose: c[k] lane i = r[i] dword k (unpacks within 128-bit lanes, then a 4 x 4
// transpose of 128-bit lanes; 64 shuffles, where 16 dword gathers cost several times that on Zen 4).
CK_INL void CK_FN(transpose16)(const __m512i r[16], __m512i c[16]) {
    __m512i t[16], u[16];
    _Pragma("GCC unroll 8") for (int j = 0; j < 8; ++j) {
        t[2 * j] = _mm512_unpacklo_epi32(r[2 * j], r[2 * j + 1]);      // per 128-bit lane: a0 b0 a1 b1
        t[2 * j + 1] = _mm512_unpackhi_epi32(r[2 * j], r[2 * j + 1]);  // a2 b2 a3 b3
    }
    _Pragma("GCC unroll 4") for (int j = 0; j < 4; ++j) {  // u[4j + m] lane L: rows 4j..4j+3, dword 4L + m
        u[4 * j + 0] = _mm512_unpacklo_epi64(t[4 * j], t[4 * j + 2]);
        u[4 * j + 1] = _mm512_unpackhi_epi64(t[4 * j], t[4 * j + 2]);
        u[4 * j + 2] = _mm512_unpacklo_epi64(t[4 * j + 1], t[4 * j + 3]);
        u[4 * j + 3] = _mm512_unpackhi_epi64(t[4 * j + 1], t[4 * j + 3]);
    }
    _Pragma("GCC unroll 4") for (int m = 0; m < 4; ++m) {
        const __m512i v0 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x44), v1 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xEE);
        const __m512i v2 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x44), v3 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xEE);
        c[m] = _mm512_shuffle_i32x4(v0, v2, 0x88);
        c[4 + m] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
        c[8 + m] = _mm512_shuffle_i32x4(v1, v3, 0x88);
        c[12 + m] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
    }
}

// The 16 bytes at p[i] + 0..15 of 16 rows as 4 vectors: h[j] lane i = dword j of row i's bytes.
CK_INL void CK_FN(transpose16x4)(const char *const p[16], __m512i h[4]) {
    __m512i b[4], t[4];
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) {  // b[k]: rows k, 4 + k, 8 + k, 12 + k by 128-bit lane
        b[k] = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)p[k]));
        b[k] = _mm512_inserti32x4(b[k], _mm_loadu_si128((const __m128i *)(const void *)p[4 + k]), 1);
        b[k] = _mm512_inserti32x4(b[k], _mm_loadu_si128((const __m128i *)(const void *)p[8 + k]), 2);
        b[k] = _mm512_inserti32x4(b[k], _mm_loadu_si128((const __m128i *)(const void *)p[12 + k]), 3);
    }
    t[0] = _mm512_unpacklo_epi32(b[0], b[1]);
    t[1] = _mm512_unpackhi_epi32(b[0], b[1]);
    t[2] = _mm512_unpacklo_epi32(b[2], b[3]);
    t[3] = _mm512_unpackhi_epi32(b[2], b[3]);
    h[0] = _mm512_unpacklo_epi64(t[0], t[2]);
    h[1] = _mm512_unpackhi_epi64(t[0], t[2]);
    h[2] = _mm512_unpacklo_epi64(t[1], t[3]);
    h[3] = _mm512_unpackhi_epi64(t[1], t[3]);
}
