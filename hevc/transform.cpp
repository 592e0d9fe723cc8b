#include "transform.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "simd.h"

namespace hevc {

namespace {

// Integer magnitudes of the basis, indexed by j in cos(j*pi/64); j = 0 is the DC row's 64.
const uint8_t kMag[33] = {64, 90, 90, 90, 89, 88, 87, 85, 83, 82, 80, 78, 75, 73, 70, 67, 64,
                          61, 57, 54, 50, 46, 43, 38, 36, 31, 25, 22, 18, 13, 9,  4,  0};

struct Dct32 {
  int8_t m[32][32];
  // Odd rows of each size as int16, contiguous per row, for vectorised dot products.
  int16_t odd32[16][16], odd16[8][8], odd8[4][4];
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
    for (int k = 0; k < 16; ++k)
      for (int i = 0; i < 16; ++i) odd32[k][i] = m[2 * k + 1][i];
    for (int k = 0; k < 8; ++k)
      for (int i = 0; i < 8; ++i) odd16[k][i] = m[(2 * k + 1) * 2][i];
    for (int k = 0; k < 4; ++k)
      for (int i = 0; i < 4; ++i) odd8[k][i] = m[(2 * k + 1) * 4][i];
  }
};
const Dct32 kDct;

const int kLevelScale[6] = {40, 45, 51, 57, 64, 72};

inline int16_t sat16(int64_t v) {
  return static_cast<int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
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
// i < N. T is a vector of int32 lanes, as for fwd_1d.
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

// Forward 1-D transform of N samples x[i] into y[k]. T is a vector of int32 lanes (GCC/Clang
// vector extensions), each lane an independent transform with the scalar integer arithmetic.
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

// Lanes of int32 (and their int16 loads) processed together by the 2-D transforms: eight, or
// four for 4x4 blocks.
typedef int32_t Lanes8 __attribute__((vector_size(32)));
typedef int32_t Lanes4 __attribute__((vector_size(16)));
typedef int16_t Halves8 __attribute__((vector_size(16)));
typedef int16_t Halves4 __attribute__((vector_size(8)));
template <int N>
using Lanes = std::conditional_t<N == 4, Lanes4, Lanes8>;
template <int N>
using Halves = std::conditional_t<N == 4, Halves4, Halves8>;

// Rows first (each lane one row), then columns (each lane one column); the second pass
// saturates to 16 bits.
template <int N>
void forward_2d(const int16_t* res, int16_t* coeff, int shift1, int shift2) {
  using V = Lanes<N>;
  constexpr int L = sizeof(V) / sizeof(int32_t);
  alignas(32) int32_t a[N * N], t[N * N];
  for (int y = 0; y < N; ++y)
    for (int i = 0; i < N; ++i) a[i * N + y] = res[y * N + i];  // a[i * N + y]: transposed
  const int add1 = 1 << (shift1 - 1), add2 = 1 << (shift2 - 1);
  for (int g = 0; g < N; g += L) {
    V x[N], v[N];
    for (int i = 0; i < N; ++i) std::memcpy(&x[i], a + i * N + g, sizeof(V));
    fwd_1d<N>(x, v);
    for (int k = 0; k < N; ++k)  // t[y * N + k]: coefficient k of row y
      for (int l = 0; l < L; ++l) t[(g + l) * N + k] = (v[k][l] + add1) >> shift1;
  }
  for (int g = 0; g < N; g += L) {
    V x[N], v[N];
    for (int i = 0; i < N; ++i) std::memcpy(&x[i], t + i * N + g, sizeof(V));
    fwd_1d<N>(x, v);
    for (int j = 0; j < N; ++j)
      for (int l = 0; l < L; ++l)
        coeff[j * N + g + l] = sat16((static_cast<int64_t>(v[j][l]) + add2) >> shift2);
  }
}

// Columns first (each lane one column, only those up to max_x, rows up to max_y), then rows
// (each lane one row, coefficients up to max_x); both passes saturate to 16 bits.
template <int N>
void inverse_2d(int16_t* coeff, int max_x, int max_y) {
  using V = Lanes<N>;
  using H = Halves<N>;
  constexpr int L = sizeof(V) / sizeof(int32_t);
  alignas(32) int32_t t[N * N];  // t[x * N + y]: the column pass's output, transposed
  for (int g = 0; g <= max_x; g += L) {
    V x[N], v[N];
    int k = 0;
    do {  // (do-while: the compiler then sees x[0] set)
      H h;
      std::memcpy(&h, coeff + k * N + g, sizeof(H));
      x[k] = __builtin_convertvector(h, V);
    } while (++k <= max_y);
    inv_1d<N>(x, 1, max_y, v);
    for (int y = 0; y < N; ++y)
      for (int l = 0; l < L; ++l)
        t[(g + l) * N + y] = sat16((static_cast<int64_t>(v[y][l]) + 64) >> 7);
  }
  for (int g = 0; g < N; g += L) {
    V x[N], v[N];
    int k = 0;
    do std::memcpy(&x[k], t + k * N + g, sizeof(V));
    while (++k <= max_x);
    inv_1d<N>(x, 1, max_x, v);
    for (int xo = 0; xo < N; ++xo)
      for (int l = 0; l < L; ++l)
        coeff[(g + l) * N + xo] = sat16((static_cast<int64_t>(v[xo][l]) + 2048) >> 12);
  }
}

void dst_pass(const int16_t* in, int in_step, int in_stride, int16_t* out, int out_step,
              int out_stride, bool inverse, int shift) {
  const int add = 1 << (shift - 1);
  for (int v = 0; v < 4; ++v) {
    const int16_t* s = in + v * in_stride;
    int16_t* d = out + v * out_stride;
    for (int i = 0; i < 4; ++i) {
      int32_t sum = 0;
      for (int k = 0; k < 4; ++k) sum += (inverse ? kDst4[k][i] : kDst4[i][k]) * s[k * in_step];
      d[i * out_step] = sat16((static_cast<int64_t>(sum) + add) >> shift);
    }
  }
}

}  // namespace

const int8_t (&kDct32)[32][32] = kDct.m;
const int8_t kDst4[4][4] = {
    {29, 55, 74, 84}, {74, 74, 0, -74}, {84, -29, -74, 55}, {55, -84, 74, -29}};

void dequantize(int16_t* coeff, int log2n, int qp, const uint8_t* factor, int max_x, int max_y) {
  const int n = 1 << log2n;
  const int bd_shift = 8 + log2n - 5;
  const int64_t scale = static_cast<int64_t>(kLevelScale[qp % 6]) << (qp / 6);
  const int64_t add = int64_t{1} << (bd_shift - 1);
  for (int y = 0; y <= max_y; ++y)
    for (int i = y * n; i <= y * n + max_x; ++i) {
      if (!coeff[i]) continue;
      int64_t m = factor ? factor[i] : 16;
      coeff[i] = sat16((coeff[i] * m * scale + add) >> bd_shift);
    }
}

void inverse_transform(int16_t* coeff, int log2n, bool dst, int max_x, int max_y) {
  if (dst) {
    int16_t tmp[16];
    dst_pass(coeff, 4, 1, tmp, 4, 1, true, 7);
    dst_pass(tmp, 1, 4, coeff, 1, 4, true, 12);
    return;
  }
  switch (log2n) {
    case 2:
      inverse_2d<4>(coeff, max_x, max_y);
      break;
    case 3:
      inverse_2d<8>(coeff, max_x, max_y);
      break;
    case 4:
      inverse_2d<16>(coeff, max_x, max_y);
      break;
    default:
      inverse_2d<32>(coeff, max_x, max_y);
      break;
  }
}

void inverse_transform_skip(int16_t* coeff, int log2n) {
  const int n = 1 << log2n;
  const int ts_shift = 5 + log2n;
  for (int i = 0; i < n * n; ++i)
    coeff[i] = static_cast<int16_t>((coeff[i] * (1 << ts_shift) + 2048) >> 12);
}

void forward_transform(const int16_t* residual, int16_t* coeff, int log2n, bool dst) {
  // Rows first (shift log2n - 1 for 8-bit), then columns (shift log2n + 6).
  if (dst) {
    int16_t tmp[16];
    dst_pass(residual, 1, 4, tmp, 4, 1, false, 1);
    dst_pass(tmp, 1, 4, coeff, 4, 1, false, 8);
    return;
  }
  switch (log2n) {
    case 2:
      forward_2d<4>(residual, coeff, 1, 8);
      break;
    case 3:
      forward_2d<8>(residual, coeff, 2, 9);
      break;
    case 4:
      forward_2d<16>(residual, coeff, 3, 10);
      break;
    default:
      forward_2d<32>(residual, coeff, 4, 11);
      break;
  }
}

void forward_transform_skip(const int16_t* residual, int16_t* coeff, int log2n) {
  const int n = 1 << log2n;
  const int shift = 7 - log2n;  // 15 - BitDepth - log2n
  for (int i = 0; i < n * n; ++i) coeff[i] = static_cast<int16_t>(residual[i] * (1 << shift));
}

void add_residual(Pel* dst, int stride, const int16_t* res, int n) {
#if defined(__SSE2__)
  // Saturating 16-bit add, then the unsigned pack clips to 0..255 as clip_pel does.
  const __m128i zero = _mm_setzero_si128();
  for (int y = 0; y < n; ++y) {
    Pel* d = dst + y * stride;
    const int16_t* r = res + y * n;
    if (n == 4) {
      const __m128i v = _mm_adds_epi16(_mm_unpacklo_epi8(load4(d), zero),
                                       _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r)));
      store4(d, _mm_packus_epi16(v, v));
      continue;
    }
    for (int x = 0; x < n; x += 8) {
      const __m128i v = _mm_adds_epi16(
          _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<__m128i*>(d + x)), zero),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + x)));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(d + x), _mm_packus_epi16(v, v));
    }
  }
#else
  for (int y = 0; y < n; ++y) {
    Pel* d = dst + y * stride;
    const int16_t* r = res + y * n;
    for (int x = 0; x < n; ++x) d[x] = static_cast<Pel>(clip_pel(d[x] + r[x]));
  }
#endif
}

}  // namespace hevc
