#include "transform.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "simd.h"

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif

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
#if defined(__SSE2__)
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
#endif
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

#if !defined(__SSSE3__)
// One pass of the 4x4 DST (or its inverse), scalar.
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
#else
// One 4x4 DST pass as dot products: f[i][v] = sat16((sum_k m[i][k] x[v][k] + round) >> shift),
// with x and f as two registers of two rows each and m's rows given duplicated ([m_i | m_i]).
inline void dst_dots(const __m128i m[4], const __m128i x[2], int shift, __m128i f[2]) {
  const __m128i rnd = _mm_set1_epi32(1 << (shift - 1)), count = _mm_cvtsi32_si128(shift);
  __m128i row[4];
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_hadd_epi32(_mm_madd_epi16(x[0], m[i]), _mm_madd_epi16(x[1], m[i]));
    row[i] = _mm_sra_epi32(_mm_add_epi32(v, rnd), count);
  }
  f[0] = _mm_packs_epi32(row[0], row[1]);
  f[1] = _mm_packs_epi32(row[2], row[3]);
}

// Transpose of a 4x4 int16 block held as two registers of two rows.
inline void transpose4x4(const __m128i in[2], __m128i out[2]) {
  const __m128i t0 = _mm_unpacklo_epi16(in[0], in[1]), t1 = _mm_unpackhi_epi16(in[0], in[1]);
  out[0] = _mm_unpacklo_epi16(t0, t1);
  out[1] = _mm_unpackhi_epi16(t0, t1);
}

// [m_i | m_i] for the rows of the DST matrix (forward) or of its transpose (inverse).
struct DstRows {
  __m128i fwd[4], inv[4];
  DstRows() {
    for (int i = 0; i < 4; ++i) {
      int16_t f[8], t[8];
      for (int k = 0; k < 8; ++k) {
        f[k] = kDst4[i][k & 3];
        t[k] = kDst4[k & 3][i];
      }
      std::memcpy(&fwd[i], f, sizeof(f));
      std::memcpy(&inv[i], t, sizeof(t));
    }
  }
};
const DstRows& dst_rows() {
  static const DstRows rows;
  return rows;
}
#endif

}  // namespace

const int8_t (&kDct32)[32][32] = kDct.m;
const int8_t kDst4[4][4] = {
    {29, 55, 74, 84}, {74, 74, 0, -74}, {84, -29, -74, 55}, {55, -84, 74, -29}};

void dequantize(int16_t* coeff, int log2n, int qp, const uint8_t* factor, int max_x, int max_y) {
  const int n = 1 << log2n;
  const int bd_shift = 8 + log2n - 5;
#if defined(__SSE2__)
  if (!factor && qp >= 0 && qp <= 51) {
    // Flat scaling (m = 16), eight levels at a time, no branch per level (a zero stays zero).
    // A level times 16 * levelScale fits 32 bits (below 2^26); of (c * 16 * ls * 2^(qp / 6) +
    // 2^(b - 1)) >> b what is left is a shift by qp / 6 - b: a left shift (of at most 3, no
    // overflow; the rounding term is shifted out) or a rounded right shift, then saturation.
    const __m128i mul = _mm_set1_epi16(static_cast<int16_t>(16 * kLevelScale[qp % 6]));
    const int up = qp / 6 - bd_shift;
    const __m128i count = _mm_cvtsi32_si128(up >= 0 ? up : -up);
    const __m128i round = _mm_set1_epi32(up >= 0 ? 0 : 1 << (-up - 1));
    auto scale = [&](__m128i lo, __m128i hi) {
      const __m128i v = _mm_unpacklo_epi16(lo, hi);
      return up >= 0 ? _mm_sll_epi32(v, count) : _mm_sra_epi32(_mm_add_epi32(v, round), count);
    };
    auto eight = [&](int16_t* c) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
      const __m128i lo = _mm_mullo_epi16(v, mul), hi = _mm_mulhi_epi16(v, mul);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c),
                       _mm_packs_epi32(scale(lo, hi), scale(_mm_unpackhi_epi64(lo, lo),
                                                            _mm_unpackhi_epi64(hi, hi))));
    };
    if (n == 4) {  // two rows per step
      for (int y = 0; y <= max_y; y += 2) eight(coeff + 4 * y);
    } else {
      for (int y = 0; y <= max_y; ++y)
        for (int x = 0; x <= max_x; x += 8) eight(coeff + y * n + x);
    }
    return;
  }
#endif
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
#if defined(__SSSE3__)
    // out = D^T C D: both passes take the transpose's rows; the input and output are transposed.
    __m128i c[2], x[2], q[2], f[2];
    std::memcpy(c, coeff, sizeof(c));
    transpose4x4(c, x);
    dst_dots(dst_rows().inv, x, 7, q);
    dst_dots(dst_rows().inv, q, 12, f);
    transpose4x4(f, c);
    std::memcpy(coeff, c, sizeof(c));
#else
    int16_t tmp[16];
    dst_pass(coeff, 4, 1, tmp, 4, 1, true, 7);
    dst_pass(tmp, 1, 4, coeff, 1, 4, true, 12);
#endif
    return;
  }
  with_block_size(log2n, [&](auto size) { inverse_2d<size()>(coeff, max_x, max_y); });
}

void inverse_transform_skip(int16_t* coeff, int log2n) {
  const int n = 1 << log2n;
  const int ts_shift = 5 + log2n;
  for (int i = 0; i < n * n; ++i)
    coeff[i] = static_cast<int16_t>((coeff[i] * (1 << ts_shift) + 2048) >> 12);
}

void forward_transform(const int16_t* residual, int16_t* coeff, int log2n, bool dst) {
  if (dst) {  // the DST's shifts are those of the 4x4 DCT: 1 after the rows, 8 after the columns
#if defined(__SSSE3__)
    // C = D R D^T: two passes of the same dot products, each over the previous pass's rows.
    __m128i r[2], p[2], c[2];
    std::memcpy(r, residual, sizeof(r));
    dst_dots(dst_rows().fwd, r, 1, p);
    dst_dots(dst_rows().fwd, p, 8, c);
    std::memcpy(coeff, c, sizeof(c));
#else
    int16_t tmp[16];
    dst_pass(residual, 1, 4, tmp, 4, 1, false, 1);
    dst_pass(tmp, 1, 4, coeff, 4, 1, false, 8);
#endif
    return;
  }
  with_block_size(log2n, [&](auto size) { forward_2d<size()>(residual, coeff); });
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
