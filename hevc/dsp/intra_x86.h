// What the SSE4.1 and AVX2 intra files share: the weighted pairs of angular prediction and the
// byte shuffles of the small blocks' kernels (SSSE3 and up).
#pragma once

#include <tmmintrin.h>

#include "intra_common.h"
#include "x86.h"

namespace hevc::dsp {
namespace {

// Two rows of 4 (or one row of 8) weighted pairs: ab holds the interleaved samples (r[i],
// r[i + 1]), w the per-row weights; returns the eight rounded predictions as 16-bit lanes
// ((32 - fact) * r[i] + fact * r[i + 1] + 16) >> 5 (the weighted sum fits in 13 bits).
inline __m128i angular_lanes(__m128i ab, __m128i w) {
  return _mm_srli_epi16(_mm_add_epi16(_mm_maddubs_epi16(ab, w), _mm_set1_epi16(16)), 5);
}
inline __m128i pair_weights(int fact) {
  return _mm_set1_epi16(static_cast<int16_t>(((fact & 0xff) << 8) | (32 - fact)));
}

// 4x4 and 8x8 angular blocks from byte shuffles of two registers: the main side's first 16
// samples (from its sample 1 for the positive angles, which read none before it) and the other
// side's, whose samples the negative angles project onto the main side's extension. No
// extension is built, nor any position or weight computed: per mode, a table holds for each
// byte of the interleaved pairs (r[i], r[i + 1]) that angular_lanes weighs its sample in either
// register and its weight. (A sample of weight 0, the second of a pair where fact is 0, is
// taken as 0: it is the only one that could lie beyond the 16.)
template <int N>
struct AngularShuffles {
  // Vectors of 16 bytes (eight pairs): two rows of 4, or one row of 8; an 8x8 block's in the
  // order its AVX2 kernel packs them, rows 0, 2, 1, 3, 4, 6, 5, 7.
  static constexpr int kVectors = N * N / 8;
  alignas(32) int8_t main[33][kVectors][16];  // the byte of the main side's register, or -128
  alignas(32) int8_t side[33][kVectors][16];  // the byte of the other side's register, or -128
  alignas(32) int8_t weight[33][kVectors][16];
};

template <int N>
constexpr AngularShuffles<N> make_angular_shuffles() {
  AngularShuffles<N> t{};
  constexpr int kRow8[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int mode = 2; mode < 35; ++mode) {
    const int angle = kAngle[mode];
    for (int v = 0; v < AngularShuffles<N>::kVectors; ++v)
      for (int b = 0; b < 16; ++b) {
        const int row = N == 4 ? 2 * v + b / 8 : kRow8[v];
        const int i = (b % (2 * N)) / 2, second = b & 1;
        const int pos = (row + 1) * angle, fact = pos & 31;
        const int at = (pos >> 5) + 1 + i + second;  // in the (extended) main side
        const int w = second ? fact : 32 - fact;
        int from_main = -128, from_side = -128;
        if (w != 0) {
          if (angle >= 0)
            from_main = at - 1;
          else if (at >= 0)
            from_main = at;
          else
            from_side = (at * kInvAngle[mode - 11] + 128) >> 8;
        }
        t.main[mode - 2][v][b] = static_cast<int8_t>(from_main);
        t.side[mode - 2][v][b] = static_cast<int8_t>(from_side);
        t.weight[mode - 2][v][b] = static_cast<int8_t>(w);
      }
  }
  return t;
}

}  // namespace
}  // namespace hevc::dsp
