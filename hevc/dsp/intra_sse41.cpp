// SSSE3 intra kernels (the SSE4.1 level): angular prediction by weighted pairs, the 4x4
// transpose by one shuffle.
#include "intra_x86.h"

namespace hevc::dsp {

namespace {

constexpr AngularShuffles<4> kAngular4 = make_angular_shuffles<4>();

void angular4(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  const bool negative = kAngle[mode] < 0;
  const __m128i m = load16(main_side + (negative ? 0 : 1)), s = load16(side);
  const int k = mode - 2;
  __m128i rows[2];
  for (int v = 0; v < 2; ++v) {
    __m128i ab = _mm_shuffle_epi8(m, load16(kAngular4.main[k][v]));
    if (negative) ab = _mm_or_si128(ab, _mm_shuffle_epi8(s, load16(kAngular4.side[k][v])));
    rows[v] = angular_lanes(ab, load16(kAngular4.weight[k][v]));
  }
  store16(out, _mm_packus_epi16(rows[0], rows[1]));
}

// 8x8: two rows per step, eight pairs each.
void angular8(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  Pel buf[3 * 64 + 1];
  const Pel* ref = angular_ref<8>(main_side, side, mode, buf);
  const int angle = kAngle[mode];
  for (int j = 0; j < 8; j += 2) {
    __m128i v[2];
    for (int k = 0; k < 2; ++k) {
      const int pos = (j + k + 1) * angle;
      const Pel* r = ref + (pos >> 5) + 1;
      v[k] = angular_lanes(_mm_unpacklo_epi8(load8(r), load8(r + 1)), pair_weights(pos & 31));
    }
    store16(out + j * 8, _mm_packus_epi16(v[0], v[1]));
  }
}

// 16x16 and 32x32: 16 samples of a row per step.
template <int N>
void angular_rows(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  Pel buf[3 * 64 + 1];
  const Pel* ref = angular_ref<N>(main_side, side, mode, buf);
  for (int j = 0; j < N; ++j) {
    const int pos = (j + 1) * kAngle[mode];
    const Pel* r = ref + (pos >> 5) + 1;
    const __m128i w = pair_weights(pos & 31);
    for (int i = 0; i < N; i += 16) {
      const __m128i a = load16(r + i), b = load16(r + i + 1);
      store16(out + j * N + i, _mm_packus_epi16(angular_lanes(_mm_unpacklo_epi8(a, b), w),
                                                angular_lanes(_mm_unpackhi_epi8(a, b), w)));
    }
  }
}

void transpose4(const Pel* block, Pel* dst, int stride) {
  const __m128i m = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m128i t = _mm_shuffle_epi8(load16(block), m);
  store4(dst, t);  // (the byte shifts need immediates, hence no loop)
  store4(dst + stride, _mm_srli_si128(t, 4));
  store4(dst + 2 * stride, _mm_srli_si128(t, 8));
  store4(dst + 3 * stride, _mm_srli_si128(t, 12));
}

}  // namespace

void init_intra_sse41(IntraKernels& k) {
  k.angular[0] = angular4;
  k.angular[1] = angular8;
  k.angular[2] = angular_rows<16>;
  k.angular[3] = angular_rows<32>;
  k.transpose[0] = transpose4;
}

}  // namespace hevc::dsp
