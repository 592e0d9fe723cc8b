// SSSE3 distortion kernels (the SSE4.1 level): the 4x4 Hadamard SATD.
#include <tmmintrin.h>

#include "dsp.h"
#include "x86.h"

namespace hevc::dsp {

namespace {

// Sum of absolute values of the 4x4 Hadamard transform of the difference, halved and rounded,
// two rows per register. The last stage (vertical) is not computed: |a + b| + |a - b| =
// 2 max(|a|, |b|), so the halved sum is exactly the sum of the pairs' maxima.
uint32_t hadamard4(const Pel* o, int os, const Pel* p, int ps) {
  const __m128i zero = _mm_setzero_si128();
  __m128i r01, r23;  // rows 0, 1 and 2, 3 of the difference
  if (os == 4 && ps == 4) {
    // Contiguous blocks (the rough decision's): one load each.
    const __m128i vo = load16(o), vp = load16(p);
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

}  // namespace

void init_pixel_sse41(PixelKernels& k) { k.satd[0] = hadamard4; }

}  // namespace hevc::dsp
