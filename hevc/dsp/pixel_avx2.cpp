// AVX2 distortion kernels: sums of squared differences 16 samples per step, the 8x8 Hadamard
// SATD of two blocks at once.
#include "pixel_x86.h"

namespace hevc::dsp {

namespace {

// Two horizontally adjacent 8x8 blocks at once, one per 128-bit lane; each block is rounded
// on its own, as the 8x8 SATD rounds it.
uint32_t hadamard8_pair(const Pel* o, int os, const Pel* p, int ps) {
  __m256i r[8];
  for (int y = 0; y < 8; ++y)
    r[y] = _mm256_sub_epi16(_mm256_cvtepu8_epi16(load16(o + y * os)),
                            _mm256_cvtepu8_epi16(load16(p + y * ps)));
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
  return ((lo + 1) >> 1) + ((hi + 1) >> 1);  // halved sums, each rounded
}

template <int N>
uint32_t satd(const Pel* org, int os, const Pel* pred, int ps) {
  uint32_t s = 0;
  for (int y = 0; y < N; y += 8)
    for (int x = 0; x < N; x += 16)
      s += hadamard8_pair(org + y * os + x, os, pred + y * ps + x, ps);
  return s;
}

}  // namespace

void init_pixel_avx2(PixelKernels& k) {
  g_sse_below = k.sse;
  k.sse = sse;
  k.satd[2] = satd<16>;
  k.satd[3] = satd<32>;
}

}  // namespace hevc::dsp
