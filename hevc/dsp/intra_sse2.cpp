// SSE2 intra kernels: planar, DC's sums, transposes of 8x8 tiles.
#include "intra_common.h"
#include "x86.h"

namespace hevc::dsp {

namespace {

// Eight 16-bit lanes per step, two rows of 4 or eight columns of a row (lane x of a row:
// vert[x] + (N-1-x) * left + (x+1) * tr), as the C reference computes them; the compiler's
// vectoriser does worse even with the wider blocks.
template <int N>
void planar(const Pel* left, const Pel* top, Pel* dst, int stride) {
  constexpr int rows = N == 4 ? 2 : 1, groups = N == 4 ? 1 : N / 8;
  const __m128i zero = _mm_setzero_si128();
  const __m128i tr = _mm_set1_epi16(top[1 + N]), bl = _mm_set1_epi16(left[1 + N]);
  __m128i wl[groups], wr[groups], step[groups], vert[groups];
  for (int g = 0; g < groups; ++g) {
    const __m128i x1 = N == 4 ? _mm_setr_epi16(1, 2, 3, 4, 1, 2, 3, 4)
                              : _mm_add_epi16(_mm_setr_epi16(1, 2, 3, 4, 5, 6, 7, 8),
                                              _mm_set1_epi16(static_cast<int16_t>(8 * g)));
    wl[g] = _mm_sub_epi16(_mm_set1_epi16(N), x1);
    wr[g] = _mm_mullo_epi16(x1, tr);
    __m128i t;  // the top row, repeated for each row held
    if constexpr (N == 4) {
      t = _mm_unpacklo_epi8(load4(top + 1), zero);
      t = _mm_unpacklo_epi64(t, t);
    } else {
      t = _mm_unpacklo_epi8(load8(top + 1 + 8 * g), zero);
    }
    step[g] = _mm_mullo_epi16(_mm_sub_epi16(bl, t), _mm_set1_epi16(rows));
    // (N - 1 - y) * top + (y + 1) * bl + N for the first row(s).
    vert[g] = _mm_add_epi16(_mm_mullo_epi16(t, _mm_set1_epi16(N - 1)),
                            _mm_add_epi16(bl, _mm_set1_epi16(N)));
    if constexpr (N == 4)  // the second row of each pair is one step further
      vert[g] = _mm_add_epi16(vert[g], _mm_unpacklo_epi64(zero, _mm_sub_epi16(bl, t)));
  }
  for (int y = 0; y < N; y += rows) {
    const __m128i l =
        N == 4 ? _mm_unpacklo_epi64(_mm_set1_epi16(left[1 + y]), _mm_set1_epi16(left[2 + y]))
               : _mm_set1_epi16(left[1 + y]);
    __m128i v[groups];
    for (int g = 0; g < groups; ++g) {
      v[g] = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(vert[g], _mm_mullo_epi16(wl[g], l)), wr[g]),
                            kLog2<N> + 1);
      vert[g] = _mm_add_epi16(vert[g], step[g]);
    }
    Pel* d = dst + y * stride;
    if constexpr (N == 4) {
      const __m128i bytes = _mm_packus_epi16(v[0], v[0]);
      store4(d, bytes);
      store4(d + stride, _mm_srli_si128(bytes, 4));
    } else if constexpr (N == 8) {
      store8(d, _mm_packus_epi16(v[0], v[0]));
    } else {
      for (int g = 0; g < groups; g += 2) store16(d + 8 * g, _mm_packus_epi16(v[g], v[g + 1]));
    }
  }
}

// Sum of the N samples at p.
template <int N>
int sum_samples(const Pel* p) {
  const __m128i zero = _mm_setzero_si128();
  if constexpr (N <= 8) {
    return _mm_cvtsi128_si32(_mm_sad_epu8(N == 4 ? load4(p) : load8(p), zero));
  } else {
    __m128i acc = zero;
    for (int i = 0; i < N; i += 16) acc = _mm_add_epi64(acc, _mm_sad_epu8(load16(p + i), zero));
    return _mm_cvtsi128_si32(_mm_add_epi64(acc, _mm_unpackhi_epi64(acc, acc)));
  }
}

template <int N>
void dc(const Pel* left, const Pel* top, bool filter_edges, Pel* dst, int stride) {
  const int value = (N + sum_samples<N>(top + 1) + sum_samples<N>(left + 1)) >> (kLog2<N> + 1);
  dc_fill<N>(value, left, top, filter_edges, dst, stride);
}

// dst (rows of `ds`) = the transpose of the 8x8 block at src (rows of `ss`).
inline void transpose8(const Pel* src, int ss, Pel* dst, int ds) {
  __m128i r[8];
  for (int j = 0; j < 8; ++j) r[j] = load8(src + ss * j);
  const __m128i a0 = _mm_unpacklo_epi8(r[0], r[1]), a1 = _mm_unpacklo_epi8(r[2], r[3]);
  const __m128i a2 = _mm_unpacklo_epi8(r[4], r[5]), a3 = _mm_unpacklo_epi8(r[6], r[7]);
  const __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
  const __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
  const __m128i c[4] = {_mm_unpacklo_epi32(b0, b2), _mm_unpackhi_epi32(b0, b2),
                        _mm_unpacklo_epi32(b1, b3), _mm_unpackhi_epi32(b1, b3)};
  for (int k = 0; k < 4; ++k) {
    store8(dst + (2 * k) * ds, c[k]);
    store8(dst + (2 * k + 1) * ds, _mm_srli_si128(c[k], 8));
  }
}

// 8x8 tiles: tile (ty, tx) of the block goes to tile (tx, ty).
template <int N>
void transpose(const Pel* block, Pel* dst, int stride) {
  for (int ty = 0; ty < N; ty += 8)
    for (int tx = 0; tx < N; tx += 8)
      transpose8(block + ty * N + tx, N, dst + tx * stride + ty, stride);
}

}  // namespace

void init_intra_sse2(IntraKernels& k) {
  HEVC_DSP_SIZES(k.planar, planar);
  HEVC_DSP_SIZES(k.dc, dc);
  k.transpose[1] = transpose<8>;
  k.transpose[2] = transpose<16>;
  k.transpose[3] = transpose<32>;
}

}  // namespace hevc::dsp
