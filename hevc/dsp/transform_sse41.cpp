// SSSE3 transform kernels (the SSE4.1 level): the 4x4 DST as dot products.
#include <tmmintrin.h>

#include "transform_1d.h"
#include "x86.h"

namespace hevc::dsp {

namespace {

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
  alignas(16) int16_t fwd[4][8], inv[4][8];
};
constexpr DstRows make_dst_rows() {
  DstRows r{};
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 8; ++k) {
      r.fwd[i][k] = kDstMatrix[i][k & 3];
      r.inv[i][k] = kDstMatrix[k & 3][i];
    }
  return r;
}
constexpr DstRows kDstRows = make_dst_rows();

inline void load_rows(const int16_t (*rows)[8], __m128i m[4]) {
  for (int i = 0; i < 4; ++i) m[i] = load16(rows[i]);
}

// out = D^T C D: both passes take the transpose's rows; the input and output are transposed.
void inverse_dst4(int16_t* coeff) {
  __m128i m[4], c[2], x[2], q[2], f[2];
  load_rows(kDstRows.inv, m);
  c[0] = load16(coeff);
  c[1] = load16(coeff + 8);
  transpose4x4(c, x);
  dst_dots(m, x, 7, q);
  dst_dots(m, q, 12, f);
  transpose4x4(f, c);
  store16(coeff, c[0]);
  store16(coeff + 8, c[1]);
}

// C = D R D^T: two passes of the same dot products, each over the previous pass's rows.
void forward_dst4(const int16_t* residual, int16_t* coeff) {
  __m128i m[4], r[2], p[2], c[2];
  load_rows(kDstRows.fwd, m);
  r[0] = load16(residual);
  r[1] = load16(residual + 8);
  dst_dots(m, r, 1, p);
  dst_dots(m, p, 8, c);
  store16(coeff, c[0]);
  store16(coeff + 8, c[1]);
}

}  // namespace

void init_transform_sse41(TransformKernels& k) {
  k.inverse_dst4 = inverse_dst4;
  k.forward_dst4 = forward_dst4;
}

}  // namespace hevc::dsp
