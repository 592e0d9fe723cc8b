#include "transform.h"

#include <algorithm>
#include <cstring>

namespace hevc {

namespace {

// Integer magnitudes of the basis, indexed by j in cos(j*pi/64); j = 0 is the DC row's 64.
const uint8_t kMag[33] = {64, 90, 90, 90, 89, 88, 87, 85, 83, 82, 80, 78, 75, 73, 70, 67, 64,
                          61, 57, 54, 50, 46, 43, 38, 36, 31, 25, 22, 18, 13, 9,  4,  0};

struct Dct32 {
  int8_t m[32][32];
  Dct32() {
    for (int k = 0; k < 32; ++k) {
      for (int n = 0; n < 32; ++n) {
        int t = ((2 * n + 1) * k) % 128;
        int v;
        if (t <= 32)
          v = kMag[t];
        else if (t <= 64)
          v = -kMag[64 - t];
        else if (t <= 96)
          v = -kMag[t - 64];
        else
          v = kMag[128 - t];
        m[k][n] = static_cast<int8_t>(k == 0 ? 64 : v);
      }
    }
  }
};
const Dct32 kDct;

const int kLevelScale[6] = {40, 45, 51, 57, 64, 72};

inline int16_t sat16(int64_t v) {
  return static_cast<int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

// One 1-D inverse pass over `count` vectors: out[i] = sum_k basis[k][i] * in[k], k <= kmax.
void inverse_pass(const int16_t* in, int in_step, int in_stride, int16_t* out, int out_step,
                  int out_stride, int count, int log2n, bool dst, int kmax, int shift) {
  const int n = 1 << log2n, step = 32 >> log2n;
  const int add = 1 << (shift - 1);
  for (int v = 0; v < count; ++v) {
    const int16_t* src = in + v * in_stride;
    int16_t* d = out + v * out_stride;
    for (int i = 0; i < n; ++i) {
      int32_t sum = 0;
      if (dst) {
        for (int k = 0; k <= kmax; ++k) sum += kDst4[k][i] * src[k * in_step];
      } else {
        for (int k = 0; k <= kmax; ++k) sum += kDct.m[k * step][i] * src[k * in_step];
      }
      d[i * out_step] = sat16((static_cast<int64_t>(sum) + add) >> shift);
    }
  }
}

void forward_pass(const int16_t* in, int in_step, int in_stride, int16_t* out, int out_step,
                  int out_stride, int count, int log2n, bool dst, int shift) {
  const int n = 1 << log2n, step = 32 >> log2n;
  const int add = 1 << (shift - 1);
  for (int v = 0; v < count; ++v) {
    const int16_t* src = in + v * in_stride;
    int16_t* d = out + v * out_stride;
    for (int k = 0; k < n; ++k) {
      int32_t sum = 0;
      if (dst) {
        for (int i = 0; i < n; ++i) sum += kDst4[k][i] * src[i * in_step];
      } else {
        const int8_t* b = kDct.m[k * step];
        for (int i = 0; i < n; ++i) sum += b[i] * src[i * in_step];
      }
      d[k * out_step] = sat16((static_cast<int64_t>(sum) + add) >> shift);
    }
  }
}

}  // namespace

const int8_t (&kDct32)[32][32] = kDct.m;
const int8_t kDst4[4][4] = {
    {29, 55, 74, 84}, {74, 74, 0, -74}, {84, -29, -74, 55}, {55, -84, 74, -29}};

void dequantize(int16_t* coeff, int log2n, int qp, const uint8_t* factor) {
  const int n = 1 << log2n;
  const int bd_shift = 8 + log2n - 5;
  const int64_t scale = static_cast<int64_t>(kLevelScale[qp % 6]) << (qp / 6);
  const int64_t add = int64_t{1} << (bd_shift - 1);
  for (int i = 0; i < n * n; ++i) {
    if (!coeff[i]) continue;
    int64_t m = factor ? factor[i] : 16;
    coeff[i] = sat16((coeff[i] * m * scale + add) >> bd_shift);
  }
}

void inverse_transform(int16_t* coeff, int log2n, bool dst, int max_x, int max_y) {
  const int n = 1 << log2n;
  int16_t tmp[32 * 32];
  // First stage: vertical 1-D transform of each column with nonzero coefficients.
  std::memset(tmp, 0, sizeof(int16_t) * n * n);
  inverse_pass(coeff, n, 1, tmp, n, 1, max_x + 1, log2n, dst, max_y, 7);
  // Second stage: horizontal transform of each row; bdShift = 20 - BitDepth.
  inverse_pass(tmp, 1, n, coeff, 1, n, n, log2n, dst, max_x, 12);
}

void inverse_transform_skip(int16_t* coeff, int log2n) {
  const int n = 1 << log2n;
  const int ts_shift = 5 + log2n;
  for (int i = 0; i < n * n; ++i)
    coeff[i] = static_cast<int16_t>((coeff[i] * (1 << ts_shift) + 2048) >> 12);
}

void forward_transform(const int16_t* residual, int16_t* coeff, int log2n, bool dst) {
  const int n = 1 << log2n;
  int16_t tmp[32 * 32];
  // Rows first (shift log2n - 1 for 8-bit), then columns (shift log2n + 6).
  forward_pass(residual, 1, n, tmp, n, 1, n, log2n, dst, log2n - 1);
  forward_pass(tmp, 1, n, coeff, n, 1, n, log2n, dst, log2n + 6);
}

void forward_transform_skip(const int16_t* residual, int16_t* coeff, int log2n) {
  const int n = 1 << log2n;
  const int shift = 7 - log2n;  // 15 - BitDepth - log2n
  for (int i = 0; i < n * n; ++i) coeff[i] = static_cast<int16_t>(residual[i] * (1 << shift));
}

void add_residual(Pel* dst, int stride, const int16_t* res, int n) {
  for (int y = 0; y < n; ++y) {
    Pel* d = dst + y * stride;
    const int16_t* r = res + y * n;
    for (int x = 0; x < n; ++x) d[x] = static_cast<Pel>(clip_pel(d[x] + r[x]));
  }
}

}  // namespace hevc
