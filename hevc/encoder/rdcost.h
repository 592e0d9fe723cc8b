// Rate-distortion cost helpers of the encoder: lambda per QP, chroma weighting, distortion
// measures (SSE for RD decisions, Hadamard SATD for the rough intra mode decision).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "../common.h"
#include "../dsp/dsp.h"

namespace hevc {

// The cost of what is not tried or cannot win.
constexpr double kInf = std::numeric_limits<double>::max();

// What a trial's cost must stay below to matter: its caller adds it to `before` and keeps the
// result only below `best`. Costs only grow as a trial goes on, so once a part of one is lost,
// the whole is (the default bound never is).
struct Bound {
  double before = 0, best = kInf;
  bool lost(double cost) const { return before + cost >= best; }
};

struct RdParams {
  double lambda = 1;                    // for SSE + lambda * bits
  double sqrt_lambda = 1;               // for SATD + sqrt_lambda * bits
  double chroma_weight[3] = {1, 1, 1};  // distortion weight per component
  // Intra pictures use 0.57 * 2^((QP - 12) / 3), the reference encoder's choice for I slices.
  static RdParams for_qp(int qp, int qp_cb, int qp_cr, double qp_factor = 0.57) {
    RdParams r;
    r.lambda = qp_factor * std::pow(2.0, (qp - 12) / 3.0);
    r.sqrt_lambda = std::sqrt(r.lambda);
    r.chroma_weight[1] = std::pow(2.0, (qp - qp_cb) / 3.0);
    r.chroma_weight[2] = std::pow(2.0, (qp - qp_cr) / 3.0);
    return r;
  }
  double bits_cost(uint64_t frac_bits) const {
    return lambda * static_cast<double>(frac_bits) / 32768.0;
  }
};

// The distortion measures are the kernels of hevc/dsp (called through the table).
inline uint64_t sse_block(const Pel* a, int as, const Pel* b, int bs, int w, int h) {
  return dsp::kernels().pixel.sse(a, as, b, bs, w, h);
}
// res = src - pred over an n x n block (n = 4, 8, 16 or 32), res row-major with stride n.
inline void residual_block(const Pel* src, int ss, const Pel* pred, int ps, int16_t* res, int n) {
  dsp::kernels().pixel.residual[__builtin_ctz(n) - 2](src, ss, pred, ps, res);
}
// Sum of absolute Hadamard-transformed differences over an n x n block (n = 4 .. 32),
// normalised per 4x4 / 8x8 sub-transform as the reference encoder does.
inline uint32_t block_sad(const Pel* a, int as, const Pel* b, int bs, int w, int h) {
  return dsp::kernels().pixel.sad(a, as, b, bs, w, h);
}

inline uint32_t satd_block(const Pel* org, int os, const Pel* pred, int ps, int n) {
  return dsp::kernels().pixel.satd[__builtin_ctz(n) - 2](org, os, pred, ps);
}

}  // namespace hevc
