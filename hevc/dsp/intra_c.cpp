// The C reference of the intra kernels.
#include "intra_common.h"

namespace hevc::dsp {

namespace {

// Planar prediction with the vertical part kept as a running sum per column; all terms fit 16
// bits (weights sum to 2N, samples are 8-bit), so the loops vectorise in 16-bit lanes.
template <int N>
void planar(const Pel* left, const Pel* top, Pel* dst, int stride) {
  const int16_t tr = top[1 + N], bl = left[1 + N];
  int16_t vert[N], step[N], wl[N], wr[N];
  for (int x = 0; x < N; ++x) {
    vert[x] = static_cast<int16_t>((N - 1) * top[1 + x] + bl + N);
    step[x] = static_cast<int16_t>(bl - top[1 + x]);
    wl[x] = static_cast<int16_t>(N - 1 - x);
    wr[x] = static_cast<int16_t>((x + 1) * tr);
  }
  for (int y = 0; y < N; ++y) {
    const int16_t l = left[1 + y];
    Pel* d = dst + y * stride;
    for (int x = 0; x < N; ++x)
      d[x] = static_cast<Pel>(static_cast<uint16_t>(vert[x] + wl[x] * l + wr[x]) >> (kLog2<N> + 1));
    for (int x = 0; x < N; ++x) vert[x] = static_cast<int16_t>(vert[x] + step[x]);
  }
}

template <int N>
void dc(const Pel* left, const Pel* top, bool filter_edges, Pel* dst, int stride) {
  int sum = N;
  for (int i = 1; i <= N; ++i) sum += top[i] + left[i];
  dc_fill<N>(sum >> (kLog2<N> + 1), left, top, filter_edges, dst, stride);
}

// Each row d[i] = ((32 - fact) * r[i] + fact * r[i + 1] + 16) >> 5 along the main direction.
// fact == 0 needs no special case: the weights (32, 0) reproduce the reference sample exactly.
template <int N>
void angular(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  Pel buf[3 * 64 + 1];
  const Pel* ref = angular_ref<N>(main_side, side, mode, buf);
  for (int j = 0; j < N; ++j) {
    const int pos = (j + 1) * kAngle[mode], fact = pos & 31, f0 = 32 - fact;
    const Pel* r = ref + (pos >> 5) + 1;
    Pel* d = out + j * N;
    for (int i = 0; i < N; ++i) d[i] = static_cast<Pel>((f0 * r[i] + fact * r[i + 1] + 16) >> 5);
  }
}

template <int N>
void transpose(const Pel* block, Pel* dst, int stride) {
  for (int y = 0; y < N; ++y)
    for (int x = 0; x < N; ++x) dst[y * stride + x] = block[x * N + y];
}

}  // namespace

void init_intra_c(IntraKernels& k) {
  HEVC_DSP_SIZES(k.planar, planar);
  HEVC_DSP_SIZES(k.dc, dc);
  HEVC_DSP_SIZES(k.angular, angular);
  HEVC_DSP_SIZES(k.transpose, transpose);
}

}  // namespace hevc::dsp
