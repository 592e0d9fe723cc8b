// What the transform kernel files (and transform.cpp) share: the DCT and DST matrices, the 1-D
// transforms by even/odd decomposition over any lane type, and the scalar scaling process.
#pragma once

#include "dsp.h"

namespace hevc::dsp {
namespace {

// Integer magnitudes of the basis, indexed by j in cos(j*pi/64); j = 0 is the DC row's 64.
constexpr uint8_t kMag[33] = {64, 90, 90, 90, 89, 88, 87, 85, 83, 82, 80, 78, 75, 73, 70, 67, 64,
                              61, 57, 54, 50, 46, 43, 38, 36, 31, 25, 22, 18, 13, 9,  4,  0};

struct Dct32 {
  int8_t m[32][32] = {};
  // Odd rows of each size as int16, contiguous per row, for vectorised dot products.
  int16_t odd32[16][16] = {}, odd16[8][8] = {}, odd8[4][4] = {};
};

constexpr Dct32 make_dct32() {
  Dct32 d;
  for (int k = 0; k < 32; ++k) {
    for (int n = 0; n < 32; ++n) {
      const int t = ((2 * n + 1) * k) % 128;
      int v = 0;
      if (t <= 32)
        v = kMag[t];
      else if (t <= 64)
        v = -kMag[64 - t];
      else if (t <= 96)
        v = -kMag[t - 64];
      else
        v = kMag[128 - t];
      d.m[k][n] = static_cast<int8_t>(k == 0 ? 64 : v);
    }
  }
  for (int k = 0; k < 16; ++k)
    for (int i = 0; i < 16; ++i) d.odd32[k][i] = d.m[2 * k + 1][i];
  for (int k = 0; k < 8; ++k)
    for (int i = 0; i < 8; ++i) d.odd16[k][i] = d.m[(2 * k + 1) * 2][i];
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 4; ++i) d.odd8[k][i] = d.m[(2 * k + 1) * 4][i];
  return d;
}
constexpr Dct32 kDct = make_dct32();

constexpr int8_t kDstMatrix[4][4] = {
    {29, 55, 74, 84}, {74, 74, 0, -74}, {84, -29, -74, 55}, {55, -84, 74, -29}};

constexpr int kLevelScale[6] = {40, 45, 51, 57, 64, 72};

inline int16_t sat16(int64_t v) {
  return static_cast<int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

// Scaling (8.6.3) of the levels in columns 0..max_x, rows 0..max_y; `factor` is the scaling
// list (row-major n x n) or nullptr for the flat 16.
inline void dequant_scalar(int16_t* coeff, int log2n, int qp, const uint8_t* factor, int max_x,
                           int max_y) {
  const int n = 1 << log2n;
  const int bd_shift = 8 + log2n - 5;
  const int64_t scale = static_cast<int64_t>(kLevelScale[qp % 6]) << (qp / 6);
  const int64_t add = int64_t{1} << (bd_shift - 1);
  for (int y = 0; y <= max_y; ++y)
    for (int i = y * n; i <= y * n + max_x; ++i) {
      if (!coeff[i]) continue;
      const int64_t m = factor ? factor[i] : 16;
      coeff[i] = sat16((coeff[i] * m * scale + add) >> bd_shift);
    }
}

// Even/odd decomposition of the DCT: even rows of the N-point basis are the N/2-point basis
// (symmetric), odd rows are antisymmetric, so each 1-D transform halves recursively.
// Row `j` (k = 2j + 1) of the odd part of the N-point basis, first N/2 samples.
template <int N>
inline const int16_t* odd_row(int j) {
  if constexpr (N == 32) return kDct.odd32[j];
  if constexpr (N == 16) return kDct.odd16[j];
  return kDct.odd8[j];
}

// Inverse 1-D transform of N coefficients src[k * step], k <= kmax (the rest are zero); out[i],
// i < N. T is int32_t or a vector of int32 lanes (GCC/Clang vector extensions), each lane an
// independent transform with the scalar integer arithmetic.
template <int N, typename T>
void inv_1d(const T* src, int step, int kmax, T* out) {
  if constexpr (N == 4) {
    const T zero{};
    const T y0 = src[0], y1 = kmax >= 1 ? src[step] : zero, y2 = kmax >= 2 ? src[2 * step] : zero,
            y3 = kmax >= 3 ? src[3 * step] : zero;
    const T e0 = 64 * (y0 + y2), e1 = 64 * (y0 - y2);
    const T o0 = 83 * y1 + 36 * y3, o1 = 36 * y1 - 83 * y3;
    out[0] = e0 + o0;
    out[1] = e1 + o1;
    out[2] = e1 - o1;
    out[3] = e0 - o0;
  } else {
    T e[N / 2], o[N / 2];
    inv_1d<N / 2>(src, 2 * step, kmax / 2, e);
    for (int i = 0; i < N / 2; ++i) o[i] = T{};
    for (int k = 1; k <= kmax; k += 2) {
      const T v = src[k * step];
      const int16_t* b = odd_row<N>(k >> 1);
      for (int i = 0; i < N / 2; ++i) o[i] += static_cast<int32_t>(b[i]) * v;
    }
    for (int i = 0; i < N / 2; ++i) {
      out[i] = e[i] + o[i];
      out[N - 1 - i] = e[i] - o[i];
    }
  }
}

// Forward 1-D transform of N samples x[i] into y[k]; T as for inv_1d.
template <int N, typename T>
void fwd_1d(const T* x, T* y) {
  if constexpr (N == 4) {
    const T e0 = x[0] + x[3], e1 = x[1] + x[2], o0 = x[0] - x[3], o1 = x[1] - x[2];
    y[0] = 64 * (e0 + e1);
    y[2] = 64 * (e0 - e1);
    y[1] = 83 * o0 + 36 * o1;
    y[3] = 36 * o0 - 83 * o1;
  } else {
    T e[N / 2], o[N / 2], ye[N / 2];
    for (int i = 0; i < N / 2; ++i) {
      e[i] = x[i] + x[N - 1 - i];
      o[i] = x[i] - x[N - 1 - i];
    }
    fwd_1d<N / 2>(e, ye);
    for (int k = 0; k < N / 2; ++k) y[2 * k] = ye[k];
    for (int j = 0; j < N / 2; ++j) {
      const int16_t* b = odd_row<N>(j);
      T s{};
      for (int i = 0; i < N / 2; ++i) s += static_cast<int32_t>(b[i]) * o[i];
      y[2 * j + 1] = s;
    }
  }
}

}  // namespace
}  // namespace hevc::dsp
