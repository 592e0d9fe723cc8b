// The C reference of the transform kernels: one sample at a time, as 8.6 states them.
#include "transform_1d.h"

namespace hevc::dsp {

namespace {

inline int32_t round_shift(int32_t v, int shift) { return (v + (1 << (shift - 1))) >> shift; }

void dequant_flat(int16_t* coeff, int log2n, int qp, int max_x, int max_y) {
  dequant_scalar(coeff, log2n, qp, nullptr, max_x, max_y);
}

// Columns first (those up to max_x, rows up to max_y), then rows (coefficients up to max_x);
// both passes clip to 16 bits.
template <int N>
void inverse_dct(int16_t* coeff, int max_x, int max_y) {
  int32_t tmp[N * N], in[N], out[N];
  int col = 0;
  do {  // (do-while: the compiler then sees tmp and in set, max_x and max_y being >= 0)
    int k = 0;
    do in[k] = coeff[k * N + col];
    while (++k <= max_y);
    inv_1d<N>(in, 1, max_y, out);
    for (int y = 0; y < N; ++y) tmp[y * N + col] = sat16(round_shift(out[y], 7));
  } while (++col <= max_x);
  for (int y = 0; y < N; ++y) {
    inv_1d<N>(tmp + y * N, 1, max_x, out);
    for (int x = 0; x < N; ++x) coeff[y * N + x] = sat16(round_shift(out[x], 12));
  }
}

// Rows first (shift log2 N - 1), then columns (shift log2 N + 6, clipped to 16 bits).
template <int N>
void forward_dct(const int16_t* residual, int16_t* coeff) {
  constexpr int log2n = N == 4 ? 2 : (N == 8 ? 3 : (N == 16 ? 4 : 5));
  int32_t t[N * N], in[N], out[N];  // t[k * N + y]: coefficient k of row y
  for (int y = 0; y < N; ++y) {
    for (int i = 0; i < N; ++i) in[i] = residual[y * N + i];
    fwd_1d<N>(in, out);
    for (int k = 0; k < N; ++k) t[k * N + y] = round_shift(out[k], log2n - 1);
  }
  for (int k = 0; k < N; ++k) {
    fwd_1d<N>(t + k * N, out);
    for (int j = 0; j < N; ++j) coeff[j * N + k] = sat16(round_shift(out[j], log2n + 6));
  }
}

// One pass of the 4x4 DST (or its inverse).
void dst_pass(const int16_t* in, int in_step, int in_stride, int16_t* out, int out_step,
              int out_stride, bool inverse, int shift) {
  const int add = 1 << (shift - 1);
  for (int v = 0; v < 4; ++v) {
    const int16_t* s = in + v * in_stride;
    int16_t* d = out + v * out_stride;
    for (int i = 0; i < 4; ++i) {
      int32_t sum = 0;
      for (int k = 0; k < 4; ++k)
        sum += (inverse ? kDstMatrix[k][i] : kDstMatrix[i][k]) * s[k * in_step];
      d[i * out_step] = sat16((static_cast<int64_t>(sum) + add) >> shift);
    }
  }
}

void inverse_dst4(int16_t* coeff) {
  int16_t tmp[16];
  dst_pass(coeff, 4, 1, tmp, 4, 1, true, 7);
  dst_pass(tmp, 1, 4, coeff, 1, 4, true, 12);
}

// The DST's shifts are those of the 4x4 DCT: 1 after the rows, 8 after the columns.
void forward_dst4(const int16_t* residual, int16_t* coeff) {
  int16_t tmp[16];
  dst_pass(residual, 1, 4, tmp, 4, 1, false, 1);
  dst_pass(tmp, 1, 4, coeff, 4, 1, false, 8);
}

template <int N>
void add_residual(Pel* dst, int stride, const int16_t* res) {
  for (int y = 0; y < N; ++y) {
    Pel* d = dst + y * stride;
    const int16_t* r = res + y * N;
    for (int x = 0; x < N; ++x) d[x] = static_cast<Pel>(clip_pel(d[x] + r[x]));
  }
}

}  // namespace

void init_transform_c(TransformKernels& k) {
  k.dequant_flat = dequant_flat;
  HEVC_DSP_SIZES(k.inverse_dct, inverse_dct);
  HEVC_DSP_SIZES(k.forward_dct, forward_dct);
  k.inverse_dst4 = inverse_dst4;
  k.forward_dst4 = forward_dst4;
  HEVC_DSP_SIZES(k.add_residual, add_residual);
}

}  // namespace hevc::dsp
