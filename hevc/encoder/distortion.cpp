#include <cstdlib>

#include "../simd.h"

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include "rdcost.h"

namespace hevc {

void residual_block(const Pel* src, int ss, const Pel* pred, int ps, int16_t* res, int n) {
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  if (n == 4) {  // two rows per step
    for (int y = 0; y < 4; y += 2) {
      const __m128i s = _mm_unpacklo_epi32(load4(src + y * ss), load4(src + (y + 1) * ss));
      const __m128i p = _mm_unpacklo_epi32(load4(pred + y * ps), load4(pred + (y + 1) * ps));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(res + 4 * y),
                       _mm_sub_epi16(_mm_unpacklo_epi8(s, zero), _mm_unpacklo_epi8(p, zero)));
    }
    return;
  }
  for (int y = 0; y < n; ++y) {
    const Pel* s = src + y * ss;
    const Pel* p = pred + y * ps;
    int16_t* r = res + y * n;
    for (int x = 0; x < n; x += 8) {
      const __m128i a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + x));
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + x));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(r + x),
                       _mm_sub_epi16(_mm_unpacklo_epi8(a, zero), _mm_unpacklo_epi8(b, zero)));
    }
  }
#else
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x)
      res[y * n + x] = static_cast<int16_t>(src[y * ss + x] - pred[y * ps + x]);
#endif
}

uint64_t sse_block(const Pel* a, int as, const Pel* b, int bs, int w, int h) {
#if defined(__SSE2__)
  if ((w == 4 || (w & 7) == 0) && w <= 64 && h <= 64 && (h & 1) == 0) {
    // Coding blocks: 32-bit totals cannot overflow (64 * 64 * 255^2 < 2^31), so they are summed
    // once at the end; 4-wide blocks two rows at a time, 16 and wider 16 samples per step.
    const __m128i zero = _mm_setzero_si128();
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
          const __m256i d = _mm256_sub_epi16(
              _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pa + x))),
              _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pb + x))));
          acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(d, d));
        }
#endif
        for (; x < w; x += 8) {
          const __m128i va = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(pa + x));
          const __m128i vb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(pb + x));
          const __m128i d = _mm_sub_epi16(_mm_unpacklo_epi8(va, zero), _mm_unpacklo_epi8(vb, zero));
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
    const __m128i zero = _mm_setzero_si128();
    __m128i total = zero;
    for (int y = 0; y < h; ++y) {
      const Pel* pa = a + y * as;
      const Pel* pb = b + y * bs;
      __m128i row = zero;
      int x = 0;
      for (; x + 8 <= w; x += 8) {
        const __m128i va = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(pa + x));
        const __m128i vb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(pb + x));
        const __m128i d = _mm_sub_epi16(_mm_unpacklo_epi8(va, zero), _mm_unpacklo_epi8(vb, zero));
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
#endif
  uint64_t s = 0;
  for (int y = 0; y < h; ++y) {
    const Pel* pa = a + y * as;
    const Pel* pb = b + y * bs;
    uint32_t row = 0;
    for (int x = 0; x < w; ++x) {
      const int d = pa[x] - pb[x];
      row += static_cast<uint32_t>(d * d);
    }
    s += row;
  }
  return s;
}

namespace {

#if defined(__SSSE3__)
// Sum of absolute values of the 4x4 Hadamard transform of the difference, halved and rounded,
// two rows per register. The last stage (vertical) is not computed: |a + b| + |a - b| =
// 2 max(|a|, |b|), so the halved sum is exactly the sum of the pairs' maxima.
uint32_t hadamard4(const Pel* o, int os, const Pel* p, int ps) {
  const __m128i zero = _mm_setzero_si128();
  __m128i r01, r23;  // rows 0, 1 and 2, 3 of the difference
  if (os == 4 && ps == 4) {
    // Contiguous blocks (the rough decision's): one load each.
    const __m128i vo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(o));
    const __m128i vp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    r01 = _mm_sub_epi16(_mm_unpacklo_epi8(vo, zero), _mm_unpacklo_epi8(vp, zero));
    r23 = _mm_sub_epi16(_mm_unpackhi_epi8(vo, zero), _mm_unpackhi_epi8(vp, zero));
  } else {
    auto rows = [&](int y) {
      const __m128i vo = _mm_unpacklo_epi32(load4(o + y * os), load4(o + (y + 1) * os));
      const __m128i vp = _mm_unpacklo_epi32(load4(p + y * ps), load4(p + (y + 1) * ps));
      return _mm_sub_epi16(_mm_unpacklo_epi8(vo, zero), _mm_unpacklo_epi8(vp, zero));
    };
    r01 = rows(0);
    r23 = rows(2);
  }
  // Vertical, first stage: rows 0 +- 2 and 1 +- 3.
  __m128i v[2] = {_mm_add_epi16(r01, r23), _mm_sub_epi16(r01, r23)};
  // Horizontal, per row of four: lanes 0 +- 2, 1 +- 3, then 0 +- 1, 2 +- 3 (a lane plus its
  // partner, sign-flipped where it is the subtrahend).
  const __m128i swap_halves = _mm_setr_epi8(4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
  const __m128i swap_pairs = _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  const __m128i sign_halves = _mm_setr_epi16(1, 1, -1, -1, 1, 1, -1, -1);
  const __m128i sign_pairs = _mm_setr_epi16(1, -1, 1, -1, 1, -1, 1, -1);
  for (__m128i& r : v) {
    r = _mm_add_epi16(_mm_shuffle_epi8(r, swap_halves), _mm_sign_epi16(r, sign_halves));
    r = _mm_abs_epi16(
        _mm_add_epi16(_mm_shuffle_epi8(r, swap_pairs), _mm_sign_epi16(r, sign_pairs)));
  }
  // Vertical, second stage, as the maxima: the rows (0 + 2, 1 + 3) and (0 - 2, 1 - 3).
  const __m128i m = _mm_max_epi16(_mm_unpacklo_epi64(v[0], v[1]), _mm_unpackhi_epi64(v[0], v[1]));
  __m128i acc = _mm_madd_epi16(m, _mm_set1_epi16(1));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4e));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xb1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(acc));
}
#else
uint32_t hadamard4(const Pel* o, int os, const Pel* p, int ps) {
  int d[16], m[16];
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) d[y * 4 + x] = o[y * os + x] - p[y * ps + x];
  for (int y = 0; y < 4; ++y) {
    const int* r = d + y * 4;
    const int a0 = r[0] + r[3], a1 = r[1] + r[2], a2 = r[1] - r[2], a3 = r[0] - r[3];
    m[y * 4 + 0] = a0 + a1;
    m[y * 4 + 1] = a3 + a2;
    m[y * 4 + 2] = a0 - a1;
    m[y * 4 + 3] = a3 - a2;
  }
  uint32_t sum = 0;
  for (int x = 0; x < 4; ++x) {
    const int a0 = m[x] + m[12 + x], a1 = m[4 + x] + m[8 + x];
    const int a2 = m[4 + x] - m[8 + x], a3 = m[x] - m[12 + x];
    sum += std::abs(a0 + a1) + std::abs(a3 + a2) + std::abs(a0 - a1) + std::abs(a3 - a2);
  }
  return (sum + 1) >> 1;
}
#endif

#if defined(__SSE2__)
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

// The 8x8 Hadamard transform of the difference, summed in absolute value (values fit int16),
// quartered and rounded. As in hadamard4, the last stage is not computed: the sum of a pair's
// two outputs in absolute value is twice the larger of its inputs', so the sum halved is that of
// the maxima.
uint32_t hadamard8(const Pel* o, int os, const Pel* p, int ps) {
  const __m128i zero = _mm_setzero_si128();
  __m128i r[8];
  for (int y = 0; y < 8; ++y) {
    const __m128i a =
        _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(o + y * os)), zero);
    const __m128i b =
        _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + y * ps)), zero);
    r[y] = _mm_sub_epi16(a, b);
  }
  butterfly8x8(r);
  transpose8x8(r);
  butterfly8x8(r, false);
  __m128i acc = _mm_setzero_si128();
  const __m128i ones = _mm_set1_epi16(1);
  auto abs16 = [&](__m128i v) { return _mm_max_epi16(v, _mm_sub_epi16(zero, v)); };
  for (int i = 0; i < 8; i += 2)
    acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_max_epi16(abs16(r[i]), abs16(r[i + 1])), ones));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4e));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xb1));
  const uint32_t half_sum = static_cast<uint32_t>(_mm_cvtsi128_si32(acc));
  return (half_sum + 1) >> 1;
}
#if defined(__AVX2__)
// Two horizontally adjacent 8x8 blocks at once, one per 128-bit lane; each block is rounded
// on its own, as hadamard8 rounds it.
uint32_t hadamard8_pair(const Pel* o, int os, const Pel* p, int ps) {
  __m256i r[8];
  for (int y = 0; y < 8; ++y) {
    const __m256i a =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(o + y * os)));
    const __m256i b =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + y * ps)));
    r[y] = _mm256_sub_epi16(a, b);
  }
  // cvtepu8 puts samples 0..7 in the low lane and 8..15 in the high one: block per lane.
  butterfly8x8(r);
  transpose8x8(r);
  butterfly8x8(r, false);
  __m256i acc = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int i = 0; i < 8; i += 2)
    acc = _mm256_add_epi32(
        acc, _mm256_madd_epi16(_mm256_max_epi16(_mm256_abs_epi16(r[i]), _mm256_abs_epi16(r[i + 1])),
                               ones));
  acc = _mm256_add_epi32(acc, _mm256_shuffle_epi32(acc, 0x4e));
  acc = _mm256_add_epi32(acc, _mm256_shuffle_epi32(acc, 0xb1));
  const uint32_t lo = static_cast<uint32_t>(_mm256_cvtsi256_si32(acc));
  const uint32_t hi = static_cast<uint32_t>(_mm256_extract_epi32(acc, 4));
  return ((lo + 1) >> 1) + ((hi + 1) >> 1);  // halved sums (hadamard8)
}
#endif
#else
uint32_t hadamard8(const Pel* o, int os, const Pel* p, int ps) {
  int d[64], m[64];
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) d[y * 8 + x] = o[y * os + x] - p[y * ps + x];
  auto butterfly8 = [](const int* in, int step, int* out, int ostep) {
    int a[8], b[8];
    for (int i = 0; i < 4; ++i) {
      a[i] = in[i * step] + in[(i + 4) * step];
      a[i + 4] = in[i * step] - in[(i + 4) * step];
    }
    for (int h = 0; h < 8; h += 4) {
      b[h + 0] = a[h + 0] + a[h + 2];
      b[h + 1] = a[h + 1] + a[h + 3];
      b[h + 2] = a[h + 0] - a[h + 2];
      b[h + 3] = a[h + 1] - a[h + 3];
    }
    for (int h = 0; h < 8; h += 2) {
      out[h * ostep] = b[h] + b[h + 1];
      out[(h + 1) * ostep] = b[h] - b[h + 1];
    }
  };
  for (int y = 0; y < 8; ++y) butterfly8(d + y * 8, 1, m + y * 8, 1);
  uint32_t sum = 0;
  int col[8];
  for (int x = 0; x < 8; ++x) {
    butterfly8(m + x, 8, col, 1);
    for (int i = 0; i < 8; ++i) sum += std::abs(col[i]);
  }
  return (sum + 2) >> 2;
}
#endif

// satd_block of the blocks of 8 and more. Not inlined: its frame would be set up for every 4x4
// block too.
[[gnu::noinline]] uint32_t satd8_up(const Pel* org, int os, const Pel* pred, int ps, int n) {
  // (An 8x8 block on its own: the loops' set-up would cost as much as its transform.)
  if (n == 8) return hadamard8(org, os, pred, ps);
  uint32_t s = 0;
#if defined(__AVX2__)
  if (n >= 16) {
    for (int y = 0; y < n; y += 8)
      for (int x = 0; x < n; x += 16)
        s += hadamard8_pair(org + y * os + x, os, pred + y * ps + x, ps);
    return s;
  }
#endif
  for (int y = 0; y < n; y += 8)
    for (int x = 0; x < n; x += 8) s += hadamard8(org + y * os + x, os, pred + y * ps + x, ps);
  return s;
}

}  // namespace

uint32_t satd_block(const Pel* org, int os, const Pel* pred, int ps, int n) {
  return n == 4 ? hadamard4(org, os, pred, ps) : satd8_up(org, os, pred, ps, n);
}

}  // namespace hevc
