// The C reference of the distortion kernels.
#include <cstdlib>

#include "dsp.h"

namespace hevc::dsp {

namespace {

template <int N>
void residual(const Pel* src, int ss, const Pel* pred, int ps, int16_t* res) {
  for (int y = 0; y < N; ++y)
    for (int x = 0; x < N; ++x)
      res[y * N + x] = static_cast<int16_t>(src[y * ss + x] - pred[y * ps + x]);
}

uint32_t sad(const Pel* a, int as, const Pel* b, int bs, int w, int h) {
  uint32_t s = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) s += static_cast<uint32_t>(std::abs(a[y * as + x] - b[y * bs + x]));
  return s;
}

uint64_t sse(const Pel* a, int as, const Pel* b, int bs, int w, int h) {
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

template <int N>
uint32_t satd(const Pel* org, int os, const Pel* pred, int ps) {
  if constexpr (N == 4) {
    return hadamard4(org, os, pred, ps);
  } else {
    uint32_t s = 0;
    for (int y = 0; y < N; y += 8)
      for (int x = 0; x < N; x += 8) s += hadamard8(org + y * os + x, os, pred + y * ps + x, ps);
    return s;
  }
}

}  // namespace

void init_pixel_c(PixelKernels& k) {
  HEVC_DSP_SIZES(k.residual, residual);
  k.sse = sse;
  k.sad = sad;
  HEVC_DSP_SIZES(k.satd, satd);
}

}  // namespace hevc::dsp
