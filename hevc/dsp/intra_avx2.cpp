// AVX2 intra kernels: the 8x8 angular block by byte shuffles, the larger ones 32 samples per
// step.
#include <immintrin.h>

#include "intra_x86.h"

namespace hevc::dsp {

namespace {

// angular_lanes for two registers' worth: a 128-bit lane per row of 16 (or per half of a row
// of 32).
inline __m256i angular_lanes2(__m256i ab, __m256i w) {
  return _mm256_srli_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(ab, w), _mm256_set1_epi16(16)), 5);
}

constexpr AngularShuffles<8> kAngular8 = make_angular_shuffles<8>();

void angular8(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  const bool negative = kAngle[mode] < 0;
  const __m256i m = _mm256_broadcastsi128_si256(load16(main_side + (negative ? 0 : 1)));
  const __m256i s = _mm256_broadcastsi128_si256(load16(side));
  const int k = mode - 2;
  auto load32 = [](const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); };
  // Two vectors per register: rows 0 and 2, 1 and 3 (packed: rows 0..3), then 4 and 6, 5 and 7.
  auto rows = [&](int v) {
    __m256i ab = _mm256_shuffle_epi8(m, load32(kAngular8.main[k][v]));
    if (negative) ab = _mm256_or_si256(ab, _mm256_shuffle_epi8(s, load32(kAngular8.side[k][v])));
    return angular_lanes2(ab, load32(kAngular8.weight[k][v]));
  };
  for (int h = 0; h < 2; ++h)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * h),
                        _mm256_packus_epi16(rows(4 * h), rows(4 * h + 2)));
}

// 32 samples per step: two rows of 16 (one per 128-bit lane) or one row of 32.
template <int N>
void angular_wide(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  Pel buf[3 * 64 + 1];
  const Pel* ref = angular_ref<N>(main_side, side, mode, buf);
  const int angle = kAngle[mode];
  constexpr int kRows = N == 16 ? 2 : 1;
  for (int j = 0; j < N; j += kRows) {
    __m128i a[2], b[2], w[2];
    for (int k = 0; k < 2; ++k) {
      const int row = j + (kRows == 2 ? k : 0), at = kRows == 2 ? 0 : 16 * k;
      const int pos = (row + 1) * angle;
      const Pel* r = ref + (pos >> 5) + 1 + at;
      a[k] = load16(r);
      b[k] = load16(r + 1);
      w[k] = pair_weights(pos & 31);
    }
    const __m256i av = _mm256_set_m128i(a[1], a[0]), bv = _mm256_set_m128i(b[1], b[0]);
    const __m256i wv = _mm256_set_m128i(w[1], w[0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j * N),
                        _mm256_packus_epi16(angular_lanes2(_mm256_unpacklo_epi8(av, bv), wv),
                                            angular_lanes2(_mm256_unpackhi_epi8(av, bv), wv)));
  }
}

}  // namespace

void init_intra_avx2(IntraKernels& k) {
  k.angular[1] = angular8;
  k.angular[2] = angular_wide<16>;
  k.angular[3] = angular_wide<32>;
}

}  // namespace hevc::dsp
