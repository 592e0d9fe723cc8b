// SSE2 distortion kernels: residuals, sums of squared differences, 8x8 Hadamard SATD.
#include <cstdlib>

#include "pixel_x86.h"

namespace hevc::dsp {

namespace {

template <int N>
void residual(const Pel* src, int ss, const Pel* pred, int ps, int16_t* res) {
  const __m128i zero = _mm_setzero_si128();
  if constexpr (N == 4) {  // two rows per step
    for (int y = 0; y < 4; y += 2) {
      const __m128i s = _mm_unpacklo_epi32(load4(src + y * ss), load4(src + (y + 1) * ss));
      const __m128i p = _mm_unpacklo_epi32(load4(pred + y * ps), load4(pred + (y + 1) * ps));
      store16(res + 4 * y, _mm_sub_epi16(_mm_unpacklo_epi8(s, zero), _mm_unpacklo_epi8(p, zero)));
    }
  } else {
    for (int y = 0; y < N; ++y)
      for (int x = 0; x < N; x += 8)
        store16(res + y * N + x, _mm_sub_epi16(_mm_unpacklo_epi8(load8(src + y * ss + x), zero),
                                               _mm_unpacklo_epi8(load8(pred + y * ps + x), zero)));
  }
}

// The 8x8 Hadamard transform of the difference, summed in absolute value (values fit int16),
// quartered and rounded. The last stage is not computed: the sum of a pair's two outputs in
// absolute value is twice the larger of its inputs', so the sum halved is that of the maxima.
uint32_t hadamard8(const Pel* o, int os, const Pel* p, int ps) {
  const __m128i zero = _mm_setzero_si128();
  __m128i r[8];
  for (int y = 0; y < 8; ++y)
    r[y] = _mm_sub_epi16(_mm_unpacklo_epi8(load8(o + y * os), zero),
                         _mm_unpacklo_epi8(load8(p + y * ps), zero));
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

// 16 samples per psadbw, then 8 and 4; a width that is not a multiple of 4 ends in C.
uint32_t sad(const Pel* a, int as, const Pel* b, int bs, int w, int h) {
  __m128i acc = _mm_setzero_si128();
  uint32_t tail = 0;
  for (int y = 0; y < h; ++y) {
    const Pel* pa = a + y * as;
    const Pel* pb = b + y * bs;
    int x = 0;
    for (; x + 16 <= w; x += 16)
      acc = _mm_add_epi64(acc, _mm_sad_epu8(load16(pa + x), load16(pb + x)));
    if (x + 8 <= w) {
      acc = _mm_add_epi64(acc, _mm_sad_epu8(load8(pa + x), load8(pb + x)));
      x += 8;
    }
    if (x + 4 <= w) {
      acc = _mm_add_epi64(acc, _mm_sad_epu8(load4(pa + x), load4(pb + x)));
      x += 4;
    }
    for (; x < w; ++x) tail += static_cast<uint32_t>(std::abs(pa[x] - pb[x]));
  }
  acc = _mm_add_epi64(acc, _mm_unpackhi_epi64(acc, acc));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(acc)) + tail;
}

template <int N>
uint32_t satd(const Pel* org, int os, const Pel* pred, int ps) {
  uint32_t s = 0;
  for (int y = 0; y < N; y += 8)
    for (int x = 0; x < N; x += 8) s += hadamard8(org + y * os + x, os, pred + y * ps + x, ps);
  return s;
}

}  // namespace

void init_pixel_sse2(PixelKernels& k) {
  HEVC_DSP_SIZES(k.residual, residual);
  g_sse_below = k.sse;
  k.sse = sse;
  k.sad = sad;
  k.satd[1] = satd<8>;
  k.satd[2] = satd<16>;
  k.satd[3] = satd<32>;
}

}  // namespace hevc::dsp
