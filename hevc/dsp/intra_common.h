// What the intra kernel files share: the angle tables, the main side's extension for the
// negative angles, and the DC block's fill (8.4.4.2.6). Internal to each file that includes it.
#pragma once

#include <cstring>

#include "dsp.h"

namespace hevc::dsp {
namespace {

constexpr int8_t kAngle[35] = {0,  0,  32,  26,  21,  17,  13,  9,   5,   2,   0,   -2,
                               -5, -9, -13, -17, -21, -26, -32, -26, -21, -17, -13, -9,
                               -5, -2, 0,   2,   5,   9,   13,  17,  21,  26,  32};
constexpr int16_t kInvAngle[15] = {-4096, -1638, -910, -630, -482, -390,  -315, -256,
                                   -315,  -390,  -482, -630, -910, -1638, -4096};

template <int N>
constexpr int kLog2 = N == 4 ? 2 : (N == 8 ? 3 : (N == 16 ? 4 : 5));

// The references an N x N angular block reads as ref[-N .. 2N + 1]: the main side itself for
// the positive angles; for the negative ones ref[0 .. N] is the main side and ref[-N .. -1] is
// projected from the other side, in a copy in buf (3 * 64 + 1 samples). (The last row of angle
// 32 also reads ref[2N + 1] with weight 0: it stays inside the reference arrays.)
template <int N>
inline const Pel* angular_ref(const Pel* main_side, const Pel* side, int mode, Pel* buf) {
  const int angle = kAngle[mode];
  if (angle >= 0) return main_side;
  Pel* ext = buf + N;
  std::memcpy(ext, main_side, N + 1);
  const int last = (N * angle) >> 5;
  if (last < -1) {
    const int inv = kInvAngle[mode - 11];
    for (int i = last; i <= -1; ++i) ext[i] = side[(i * inv + 128) >> 8];
  }
  return ext;
}

// The DC block of value dc, its first row and column filtered for luma blocks below 32.
template <int N>
inline void dc_fill(int dc, const Pel* left, const Pel* top, bool filter_edges, Pel* dst,
                    int stride) {
  for (int y = 0; y < N; ++y) std::memset(dst + y * stride, dc, N);
  if (filter_edges && N < 32) {
    for (int x = 1; x < N; ++x) dst[x] = static_cast<Pel>((top[1 + x] + 3 * dc + 2) >> 2);
    dst[0] = static_cast<Pel>((left[1] + 2 * dc + top[1] + 2) >> 2);
    for (int y = 1; y < N; ++y) dst[y * stride] = static_cast<Pel>((left[1 + y] + 3 * dc + 2) >> 2);
  }
}

}  // namespace
}  // namespace hevc::dsp
