// Motion compensation 8 samples per step (SSE2), as whole kernels for the SSE2 level and as the
// row tails (from sample x on) of the AVX2 kernels. (An anonymous namespace: see x86.h.)
//
// Why 16-bit lanes suffice: one filter pass on 8-bit samples sums to at most 255 * 88 and at
// least -255 * 24, so the wrapping 16-bit sum is exact; the 2-D pass on 14-bit samples needs 32
// bits (madd of row pairs), and its result is truncated to 16 bits as the C reference's int16_t
// is. The averages saturate in 16 bits only where the result clips to 0 or 255 anyway.
#pragma once

#include <algorithm>

#include "dsp.h"
#include "inter_taps.h"
#include "x86.h"

namespace hevc::dsp {
namespace {

inline __m128i widen8(const Pel* p) { return _mm_unpacklo_epi8(load8(p), _mm_setzero_si128()); }
inline __m128i widen4(const Pel* p) { return _mm_unpacklo_epi8(load4(p), _mm_setzero_si128()); }
inline Pel clip_pel(int v) { return static_cast<Pel>(std::clamp(v, 0, 255)); }
// (c0, c1) repeated: the coefficients of a row pair for _mm_madd_epi16.
inline __m128i pair16(int c0, int c1) {
  return _mm_unpacklo_epi16(_mm_set1_epi16(static_cast<int16_t>(c0)),
                            _mm_set1_epi16(static_cast<int16_t>(c1)));
}
// The low 16 bits of each 32-bit lane, sign-extended: the int16_t cast of the C reference.
inline __m128i pack_trunc(__m128i lo, __m128i hi) {
  return _mm_packs_epi32(_mm_srai_epi32(_mm_slli_epi32(lo, 16), 16),
                         _mm_srai_epi32(_mm_slli_epi32(hi, 16), 16));
}

inline void copy_row(const Pel* s, int x, int w, int16_t* d) {
  for (; x + 8 <= w; x += 8) store16(d + x, _mm_slli_epi16(widen8(s + x), 6));
  if (x + 4 <= w) store8(d + x, _mm_slli_epi16(widen4(s + x), 6)), x += 4;
  for (; x < w; ++x) d[x] = static_cast<int16_t>(s[x] << 6);
}

// One filter pass along `step` (1 or the stride) of a row; s points N / 2 - 1 samples before.
template <int N>
void filter_row(const Pel* s, ptrdiff_t step, const __m128i* c, const int8_t* taps, int x, int w,
                int16_t* d) {
  for (; x + 8 <= w; x += 8) {
    __m128i acc = _mm_mullo_epi16(widen8(s + x), c[0]);
    for (int k = 1; k < N; ++k)
      acc = _mm_add_epi16(acc, _mm_mullo_epi16(widen8(s + x + k * step), c[k]));
    store16(d + x, acc);
  }
  if (x + 4 <= w) {
    __m128i acc = _mm_mullo_epi16(widen4(s + x), c[0]);
    for (int k = 1; k < N; ++k)
      acc = _mm_add_epi16(acc, _mm_mullo_epi16(widen4(s + x + k * step), c[k]));
    store8(d + x, acc);
    x += 4;
  }
  for (; x < w; ++x) {
    int v = 0;
    for (int k = 0; k < N; ++k) v += taps[k] * s[x + k * step];
    d[x] = static_cast<int16_t>(v);
  }
}

template <int N>
void splat_taps(const int8_t* taps, __m128i* c) {
  for (int k = 0; k < N; ++k) c[k] = _mm_set1_epi16(taps[k]);
}

// The vertical pass of the 2-D filter over 14-bit rows t (N rows of w from t), >> 6.
template <int N>
void filter16_row(const int16_t* t, int w, const __m128i* cp, const int8_t* taps, int x,
                  int16_t* d) {
  for (; x + 4 <= w; x += 8) {
    const bool half = x + 8 > w;  // a last 4 samples
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128();
    for (int k = 0; k < N; k += 2) {
      const __m128i r0 = half ? load8(t + k * w + x) : load16(t + k * w + x);
      const __m128i r1 = half ? load8(t + (k + 1) * w + x) : load16(t + (k + 1) * w + x);
      lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(r0, r1), cp[k / 2]));
      hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(r0, r1), cp[k / 2]));
    }
    const __m128i v = pack_trunc(_mm_srai_epi32(lo, 6), _mm_srai_epi32(hi, 6));
    if (half) {
      store8(d + x, v);
      x -= 4;
    } else {
      store16(d + x, v);
    }
  }
  for (; x < w; ++x) {
    int v = 0;
    for (int k = 0; k < N; ++k) v += taps[k] * t[k * w + x];
    d[x] = static_cast<int16_t>(v >> 6);
  }
}

template <int N>
void pair_taps(const int8_t* taps, __m128i* cp) {
  for (int k = 0; k < N; k += 2) cp[k / 2] = pair16(taps[k], taps[k + 1]);
}

inline void avg_uni_row(const int16_t* p, int x, int w, Pel* d) {
  const __m128i r = _mm_set1_epi16(32);
  for (; x + 8 <= w; x += 8) {
    const __m128i v = _mm_srai_epi16(_mm_adds_epi16(load16(p + x), r), 6);
    store8(d + x, _mm_packus_epi16(v, v));
  }
  if (x + 4 <= w) {
    const __m128i v = _mm_srai_epi16(_mm_adds_epi16(load8(p + x), r), 6);
    store4(d + x, _mm_packus_epi16(v, v));
    x += 4;
  }
  for (; x < w; ++x) d[x] = clip_pel((p[x] + 32) >> 6);
}

inline void avg_bi_row(const int16_t* a, const int16_t* b, int x, int w, Pel* d) {
  const __m128i r = _mm_set1_epi16(64);
  for (; x + 8 <= w; x += 8) {
    const __m128i s = _mm_adds_epi16(load16(a + x), load16(b + x));
    const __m128i v = _mm_srai_epi16(_mm_adds_epi16(s, r), 7);
    store8(d + x, _mm_packus_epi16(v, v));
  }
  if (x + 4 <= w) {
    const __m128i s = _mm_adds_epi16(load8(a + x), load8(b + x));
    const __m128i v = _mm_srai_epi16(_mm_adds_epi16(s, r), 7);
    store4(d + x, _mm_packus_epi16(v, v));
    x += 4;
  }
  for (; x < w; ++x) d[x] = clip_pel((a[x] + b[x] + 64) >> 7);
}

// Explicit weighting of (a, b) pairs: madd with wp = (w0, w1), plus `pre`, >> shift, plus
// `post`, clipped. The uni-directional case passes b = 1 per sample and w1 = its rounding.
// Returns where it stopped (the samples past a multiple of 4 are the caller's).
template <bool kBi>
int weight_row(const int16_t* a, const int16_t* b, __m128i wp, __m128i pre, __m128i shift,
               __m128i post, int x, int w, Pel* d) {
  const __m128i one = _mm_set1_epi16(1);
  auto one_step = [&](__m128i va, __m128i vb) {
    const __m128i lo = _mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(va, vb), wp), pre);
    const __m128i hi = _mm_add_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(va, vb), wp), pre);
    const __m128i v = _mm_packs_epi32(_mm_add_epi32(_mm_sra_epi32(lo, shift), post),
                                      _mm_add_epi32(_mm_sra_epi32(hi, shift), post));
    return _mm_packus_epi16(v, v);
  };
  for (; x + 8 <= w; x += 8) store8(d + x, one_step(load16(a + x), kBi ? load16(b + x) : one));
  if (x + 4 <= w) {
    store4(d + x, one_step(load8(a + x), kBi ? load8(b + x) : one));
    x += 4;
  }
  return x;
}

}  // namespace
}  // namespace hevc::dsp
