// SSE2 transform kernels: the DCTs over lanes, flat scaling and residual addition eight
// samples at a time.
#include "transform_lanes.h"

namespace hevc::dsp {

namespace {

// Flat scaling (m = 16), eight levels at a time, no branch per level (a zero stays zero).
// A level times 16 * levelScale fits 32 bits (below 2^26); of (c * 16 * ls * 2^(qp / 6) +
// 2^(b - 1)) >> b what is left is a shift by qp / 6 - b: a left shift (of at most 3, no
// overflow; the rounding term is shifted out) or a rounded right shift, then saturation.
void dequant_flat(int16_t* coeff, int log2n, int qp, int max_x, int max_y) {
  const int n = 1 << log2n;
  const int bd_shift = 8 + log2n - 5;
  const __m128i mul = _mm_set1_epi16(static_cast<int16_t>(16 * kLevelScale[qp % 6]));
  const int up = qp / 6 - bd_shift;
  const __m128i count = _mm_cvtsi32_si128(up >= 0 ? up : -up);
  const __m128i round = _mm_set1_epi32(up >= 0 ? 0 : 1 << (-up - 1));
  auto scale = [&](__m128i lo, __m128i hi) {
    const __m128i v = _mm_unpacklo_epi16(lo, hi);
    return up >= 0 ? _mm_sll_epi32(v, count) : _mm_sra_epi32(_mm_add_epi32(v, round), count);
  };
  auto eight = [&](int16_t* c) {
    const __m128i v = load16(c);
    const __m128i lo = _mm_mullo_epi16(v, mul), hi = _mm_mulhi_epi16(v, mul);
    store16(c, _mm_packs_epi32(scale(lo, hi),
                               scale(_mm_unpackhi_epi64(lo, lo), _mm_unpackhi_epi64(hi, hi))));
  };
  if (n == 4) {  // two rows per step
    for (int y = 0; y <= max_y; y += 2) eight(coeff + 4 * y);
  } else {
    for (int y = 0; y <= max_y; ++y)
      for (int x = 0; x <= max_x; x += 8) eight(coeff + y * n + x);
  }
}

// Saturating 16-bit add, then the unsigned pack clips to 0..255 as clip_pel does.
template <int N>
void add_residual(Pel* dst, int stride, const int16_t* res) {
  const __m128i zero = _mm_setzero_si128();
  for (int y = 0; y < N; ++y) {
    Pel* d = dst + y * stride;
    const int16_t* r = res + y * N;
    if constexpr (N == 4) {
      const __m128i v = _mm_adds_epi16(_mm_unpacklo_epi8(load4(d), zero), load8(r));
      store4(d, _mm_packus_epi16(v, v));
    } else {
      for (int x = 0; x < N; x += 8) {
        const __m128i v = _mm_adds_epi16(_mm_unpacklo_epi8(load8(d + x), zero), load16(r + x));
        store8(d + x, _mm_packus_epi16(v, v));
      }
    }
  }
}

}  // namespace

void init_transform_sse2(TransformKernels& k) {
  k.dequant_flat = dequant_flat;
  HEVC_DSP_SIZES(k.inverse_dct, inverse_2d);
  HEVC_DSP_SIZES(k.forward_dct, forward_2d);
  HEVC_DSP_SIZES(k.add_residual, add_residual);
}

}  // namespace hevc::dsp
