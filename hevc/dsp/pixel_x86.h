// What the SSE2 and AVX2 distortion files share: the sum of squared differences and the 8x8
// Hadamard transform's butterflies, written once for 128-bit registers (one 8x8 block) and,
// where AVX2 is on, 256-bit ones (two blocks side by side). Each file compiles them for its
// own instruction set.
#pragma once

#include "dsp.h"
#include "x86.h"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace hevc::dsp {
namespace {

// The kernel of the level below, for the shapes the vector code leaves alone.
uint64_t (*g_sse_below)(const Pel*, int, const Pel*, int, int, int) = nullptr;

uint64_t sse(const Pel* a, int as, const Pel* b, int bs, int w, int h) {
  const __m128i zero = _mm_setzero_si128();
  if ((w == 4 || (w & 7) == 0) && w <= 64 && h <= 64 && (h & 1) == 0) {
    // Coding blocks: 32-bit totals cannot overflow (64 * 64 * 255^2 < 2^31), so they are summed
    // once at the end; 4-wide blocks two rows at a time, 16 and wider 16 samples per step.
    __m128i acc = zero;
    if (w == 4) {
      for (int y = 0; y < h; y += 2) {
        const __m128i va = _mm_unpacklo_epi32(load4(a + y * as), load4(a + (y + 1) * as));
        const __m128i vb = _mm_unpacklo_epi32(load4(b + y * bs), load4(b + (y + 1) * bs));
        const __m128i d = _mm_sub_epi16(_mm_unpacklo_epi8(va, zero), _mm_unpacklo_epi8(vb, zero));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(d, d));
      }
    } else {
#if defined(__AVX2__)
      __m256i acc2 = _mm256_setzero_si256();
#endif
      for (int y = 0; y < h; ++y) {
        const Pel* pa = a + y * as;
        const Pel* pb = b + y * bs;
        int x = 0;
#if defined(__AVX2__)
        for (; x + 16 <= w; x += 16) {
          const __m256i d = _mm256_sub_epi16(_mm256_cvtepu8_epi16(load16(pa + x)),
                                             _mm256_cvtepu8_epi16(load16(pb + x)));
          acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(d, d));
        }
#endif
        for (; x < w; x += 8) {
          const __m128i d = _mm_sub_epi16(_mm_unpacklo_epi8(load8(pa + x), zero),
                                          _mm_unpacklo_epi8(load8(pb + x), zero));
          acc = _mm_add_epi32(acc, _mm_madd_epi16(d, d));
        }
      }
#if defined(__AVX2__)
      acc = _mm_add_epi32(
          acc, _mm_add_epi32(_mm256_castsi256_si128(acc2), _mm256_extracti128_si256(acc2, 1)));
#endif
    }
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4e));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xb1));
    return static_cast<uint32_t>(_mm_cvtsi128_si32(acc));
  }
  if ((w & 3) == 0) {
    // 16-bit differences, squared and pair-summed by madd; each row's 32-bit lanes are added
    // to 64-bit totals, so no width can overflow them.
    __m128i total = zero;
    for (int y = 0; y < h; ++y) {
      const Pel* pa = a + y * as;
      const Pel* pb = b + y * bs;
      __m128i row = zero;
      int x = 0;
      for (; x + 8 <= w; x += 8) {
        const __m128i d = _mm_sub_epi16(_mm_unpacklo_epi8(load8(pa + x), zero),
                                        _mm_unpacklo_epi8(load8(pb + x), zero));
        row = _mm_add_epi32(row, _mm_madd_epi16(d, d));
      }
      if (x < w) {
        const __m128i d = _mm_sub_epi16(_mm_unpacklo_epi8(load4(pa + x), zero),
                                        _mm_unpacklo_epi8(load4(pb + x), zero));
        row = _mm_add_epi32(row, _mm_madd_epi16(d, d));
      }
      total = _mm_add_epi64(total, _mm_unpacklo_epi32(row, zero));
      total = _mm_add_epi64(total, _mm_unpackhi_epi32(row, zero));
    }
    alignas(16) uint64_t t[2];
    _mm_store_si128(reinterpret_cast<__m128i*>(t), total);
    return t[0] + t[1];
  }
  return g_sse_below(a, as, b, bs, w, h);
}

// 16-bit lane operations on one 8x8 block's rows (__m128i) or on two blocks' side by side
// (__m256i: AVX2's unpacks stay within 128-bit lanes, so each lane is a block of its own); the
// butterflies and the transpose below are written once for both.
inline __m128i add16(__m128i a, __m128i b) { return _mm_add_epi16(a, b); }
inline __m128i sub16(__m128i a, __m128i b) { return _mm_sub_epi16(a, b); }
template <int Bits>
inline void unpack(__m128i a, __m128i b, __m128i& lo, __m128i& hi) {
  if constexpr (Bits == 16) {
    lo = _mm_unpacklo_epi16(a, b), hi = _mm_unpackhi_epi16(a, b);
  } else if constexpr (Bits == 32) {
    lo = _mm_unpacklo_epi32(a, b), hi = _mm_unpackhi_epi32(a, b);
  } else {
    lo = _mm_unpacklo_epi64(a, b), hi = _mm_unpackhi_epi64(a, b);
  }
}
#if defined(__AVX2__)
inline __m256i add16(__m256i a, __m256i b) { return _mm256_add_epi16(a, b); }
inline __m256i sub16(__m256i a, __m256i b) { return _mm256_sub_epi16(a, b); }
template <int Bits>
inline void unpack(__m256i a, __m256i b, __m256i& lo, __m256i& hi) {
  if constexpr (Bits == 16) {
    lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
  } else if constexpr (Bits == 32) {
    lo = _mm256_unpacklo_epi32(a, b), hi = _mm256_unpackhi_epi32(a, b);
  } else {
    lo = _mm256_unpacklo_epi64(a, b), hi = _mm256_unpackhi_epi64(a, b);
  }
}
#endif

// The stages of half-distance 4, 2 and (unless `last` is false) 1.
template <class V>
inline void butterfly8x8(V r[8], bool last = true) {
  for (int h = 4; h >= (last ? 1 : 2); h >>= 1)
    for (int i = 0; i < 8; ++i)
      if (!(i & h)) {
        const V a = r[i], b = r[i + h];
        r[i] = add16(a, b);
        r[i + h] = sub16(a, b);
      }
}

template <class V>
inline void transpose8x8(V r[8]) {
  V a[8], b[8];
  for (int i = 0; i < 8; i += 2) unpack<16>(r[i], r[i + 1], a[i], a[i + 1]);
  // a[2k], a[2k + 1]: rows 2k and 2k + 1 interleaved, first and second halves.
  for (int i = 0; i < 8; i += 4) {
    unpack<32>(a[i], a[i + 2], b[i], b[i + 1]);
    unpack<32>(a[i + 1], a[i + 3], b[i + 2], b[i + 3]);
  }
  for (int i = 0; i < 4; ++i) unpack<64>(b[i], b[i + 4], r[2 * i], r[2 * i + 1]);
}

}  // namespace
}  // namespace hevc::dsp
