#include "transform.h"

#include "dsp/dsp.h"
#include "dsp/transform_1d.h"

namespace hevc {

const int8_t (&kDct32)[32][32] = dsp::kDct.m;
const int8_t (&kDst4)[4][4] = dsp::kDstMatrix;

void dequantize(int16_t* coeff, int log2n, int qp, const uint8_t* factor, int max_x, int max_y) {
  if (!factor && qp >= 0 && qp <= 51)
    dsp::kernels().transform.dequant_flat(coeff, log2n, qp, max_x, max_y);
  else
    dsp::dequant_scalar(coeff, log2n, qp, factor, max_x, max_y);
}

void inverse_transform(int16_t* coeff, int log2n, bool dst, int max_x, int max_y) {
  const dsp::TransformKernels& k = dsp::kernels().transform;
  if (dst)
    k.inverse_dst4(coeff);
  else
    k.inverse_dct[log2n - 2](coeff, max_x, max_y);
}

void inverse_transform_skip(int16_t* coeff, int log2n) {
  const int n = 1 << log2n;
  const int ts_shift = 5 + log2n;
  for (int i = 0; i < n * n; ++i)
    coeff[i] = static_cast<int16_t>((coeff[i] * (1 << ts_shift) + 2048) >> 12);
}

void forward_transform(const int16_t* residual, int16_t* coeff, int log2n, bool dst) {
  const dsp::TransformKernels& k = dsp::kernels().transform;
  if (dst)
    k.forward_dst4(residual, coeff);
  else
    k.forward_dct[log2n - 2](residual, coeff);
}

void forward_transform_skip(const int16_t* residual, int16_t* coeff, int log2n) {
  const int n = 1 << log2n;
  const int shift = 7 - log2n;  // 15 - BitDepth - log2n
  for (int i = 0; i < n * n; ++i) coeff[i] = static_cast<int16_t>(residual[i] * (1 << shift));
}

void add_residual(Pel* dst, int stride, const int16_t* res, int n) {
  dsp::kernels().transform.add_residual[__builtin_ctz(n) - 2](dst, stride, res);
}

}  // namespace hevc
