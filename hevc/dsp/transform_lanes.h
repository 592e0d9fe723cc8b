// The 2-D DCTs over lanes of int32 (GCC/Clang vector extensions): eight lanes, four for 4x4
// blocks, each lane one row or column of the C reference's arithmetic. Compiled by the SSE2
// and the AVX2 file, each for its own registers.
#pragma once

#include <cstring>
#include <type_traits>

#include "transform_1d.h"
#include "x86.h"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace hevc::dsp {
namespace {

typedef int32_t Lanes8 __attribute__((vector_size(32)));
typedef int32_t Lanes4 __attribute__((vector_size(16)));
typedef int16_t Halves8 __attribute__((vector_size(16)));
typedef int16_t Halves4 __attribute__((vector_size(8)));
template <int N>
using Lanes = std::conditional_t<N == 4, Lanes4, Lanes8>;
template <int N>
using Halves = std::conditional_t<N == 4, Halves4, Halves8>;

// out[l][k] = in[k][l] for an L x L block of lanes.
template <class V>
inline void transpose(const V* in, V* out) {
#if defined(__AVX2__)
  if constexpr (sizeof(V) == 32) {
    __m256i t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
      t[k] = _mm256_unpacklo_epi32(__m256i(in[k]), __m256i(in[k + 1]));
      t[k + 1] = _mm256_unpackhi_epi32(__m256i(in[k]), __m256i(in[k + 1]));
    }
    // u[4h + j]: lanes j and j + 4 of rows 4h..4h+3 (one per 128-bit half).
    for (int h = 0; h < 2; ++h) {
      u[4 * h + 0] = _mm256_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
      u[4 * h + 1] = _mm256_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
      u[4 * h + 2] = _mm256_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
      u[4 * h + 3] = _mm256_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
    }
    for (int j = 0; j < 4; ++j) {
      out[j] = V(_mm256_permute2x128_si256(u[j], u[4 + j], 0x20));
      out[j + 4] = V(_mm256_permute2x128_si256(u[j], u[4 + j], 0x31));
    }
    return;
  }
#endif
  if constexpr (sizeof(V) == 16) {
    const __m128i t0 = _mm_unpacklo_epi32(__m128i(in[0]), __m128i(in[1]));
    const __m128i t1 = _mm_unpacklo_epi32(__m128i(in[2]), __m128i(in[3]));
    const __m128i t2 = _mm_unpackhi_epi32(__m128i(in[0]), __m128i(in[1]));
    const __m128i t3 = _mm_unpackhi_epi32(__m128i(in[2]), __m128i(in[3]));
    out[0] = V(_mm_unpacklo_epi64(t0, t1));
    out[1] = V(_mm_unpackhi_epi64(t0, t1));
    out[2] = V(_mm_unpacklo_epi64(t2, t3));
    out[3] = V(_mm_unpackhi_epi64(t2, t3));
    return;
  }
  constexpr int L = sizeof(V) / sizeof(int32_t);
  for (int k = 0; k < L; ++k)
    for (int l = 0; l < L; ++l) out[l][k] = in[k][l];
}

// (v + 2^(shift-1)) >> shift per lane, clipped to 16 bits (no lane overflows 32 bits here).
// (Passed by reference: a 32-byte vector by value would change the ABI without AVX.)
template <class V>
inline void round_shift(const V& v, int shift, bool saturate, V& r) {
  r = (v + (1 << (shift - 1))) >> shift;
  if (saturate) {
    r = r < -32768 ? -32768 : r;
    r = r > 32767 ? 32767 : r;
  }
}

template <int N>
inline void load_row(const int16_t* src, Lanes<N>& v) {
  Halves<N> h;
  std::memcpy(&h, src, sizeof(h));
  v = __builtin_convertvector(h, Lanes<N>);
}
template <int N>
inline void store_row(const Lanes<N>& v, int16_t* dst) {
  const Halves<N> h = __builtin_convertvector(v, Halves<N>);
  std::memcpy(dst, &h, sizeof(h));
}

// Rows first (each lane one row), then columns (each lane one column); the second pass
// saturates to 16 bits. Blocks of lanes are transposed in registers between the two layouts.
template <int N>
void forward_2d(const int16_t* res, int16_t* coeff) {
  // Shifts log2 N - 1 after the rows and log2 N + 6 after the columns (8-bit video).
  constexpr int log2n = N == 4 ? 2 : (N == 8 ? 3 : (N == 16 ? 4 : 5));
  constexpr int shift1 = log2n - 1, shift2 = log2n + 6;
  using V = Lanes<N>;
  constexpr int L = sizeof(V) / sizeof(int32_t);
  alignas(32) int32_t t[N * N];  // t[y * N + k]: coefficient k of row y
  for (int g = 0; g < N; g += L) {
    V x[N], v[N], r[L];
    for (int i0 = 0; i0 < N; i0 += L) {
      for (int l = 0; l < L; ++l) load_row<N>(res + (g + l) * N + i0, r[l]);
      transpose(r, x + i0);
    }
    fwd_1d<N>(x, v);
    for (int k0 = 0; k0 < N; k0 += L) {
      for (int k = 0; k < L; ++k) round_shift(v[k0 + k], shift1, false, r[k]);
      V o[L];
      transpose(r, o);
      for (int l = 0; l < L; ++l) std::memcpy(t + (g + l) * N + k0, &o[l], sizeof(V));
    }
  }
  for (int g = 0; g < N; g += L) {
    V x[N], v[N];
    for (int i = 0; i < N; ++i) std::memcpy(&x[i], t + i * N + g, sizeof(V));
    fwd_1d<N>(x, v);
    for (int j = 0; j < N; ++j) {
      round_shift(v[j], shift2, true, x[j]);
      store_row<N>(x[j], coeff + j * N + g);
    }
  }
}

// Columns first (each lane one column, only those up to max_x, rows up to max_y), then rows
// (each lane one row, coefficients up to max_x); both passes saturate to 16 bits.
template <int N>
void inverse_2d(int16_t* coeff, int max_x, int max_y) {
  using V = Lanes<N>;
  constexpr int L = sizeof(V) / sizeof(int32_t);
  alignas(32) int32_t t[N * N];  // t[x * N + y]: the column pass's output, transposed
  for (int g = 0; g <= max_x; g += L) {
    V x[N], v[N], r[L], o[L];
    int k = 0;
    do load_row<N>(coeff + k * N + g, x[k]);  // (do-while: the compiler then sees x[0] set)
    while (++k <= max_y);
    inv_1d<N>(x, 1, max_y, v);
    for (int y0 = 0; y0 < N; y0 += L) {
      for (int y = 0; y < L; ++y) round_shift(v[y0 + y], 7, true, r[y]);
      transpose(r, o);
      for (int l = 0; l < L; ++l) std::memcpy(t + (g + l) * N + y0, &o[l], sizeof(V));
    }
  }
  for (int g = 0; g < N; g += L) {
    V x[N], v[N], r[L], o[L];
    int k = 0;
    do std::memcpy(&x[k], t + k * N + g, sizeof(V));
    while (++k <= max_x);
    inv_1d<N>(x, 1, max_x, v);
    for (int x0 = 0; x0 < N; x0 += L) {
      for (int xo = 0; xo < L; ++xo) round_shift(v[x0 + xo], 12, true, r[xo]);
      transpose(r, o);
      for (int l = 0; l < L; ++l) store_row<N>(o[l], coeff + (g + l) * N + x0);
    }
  }
}

}  // namespace
}  // namespace hevc::dsp
