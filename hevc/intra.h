// Intra sample prediction (H.265 8.4.4.2): reference samples with substitution and filtering,
// planar, DC and the 33 angular modes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "picture.h"

namespace hevc {

// Reference samples of one block: left[0] = top[0] = p[-1][-1]; left[1 + y] = p[-1][y],
// top[1 + x] = p[x][-1], for x, y in 0 .. 2n-1. The arrays start zeroed because the vector
// kernels load whole registers past a small block's 2n + 1 samples and discard those lanes;
// zeroing keeps memcheck quiet without changing any output.
struct IntraRefs {
  int log2n = 2;
  Pel left[129] = {};
  Pel top[129] = {};
};

struct IntraContext {
  const Plane* plane;
  const CodingInfo* info;
  bool constrained_intra;
};

// Gathers and substitutes the neighbouring samples of the block at (x, y) of component c.
void intra_build_refs(const IntraContext& ctx, int cidx, int x, int y, int log2n, IntraRefs& r);

// Whether the reference samples of a block are smoothed for this mode (8.4.4.2.3).
// (Inline: the encoder asks for every mode it tries.)
inline bool intra_filter_needed(int cidx, int mode, int log2n) {
  if (cidx != 0 || mode == 1 || log2n == 2) return false;
  const int dist = std::min(std::abs(mode - 26), std::abs(mode - 10));
  const int thr = log2n == 3 ? 7 : (log2n == 4 ? 1 : 0);
  return dist > thr;
}

// Applies the [1 2 1] or strong bilinear smoothing when the mode and size call for it
// (luma only in 4:2:0). Returns the refs to predict from.
const IntraRefs& intra_filter_refs(const IntraRefs& raw, int cidx, int mode, bool strong_enabled,
                                   IntraRefs& filtered);

// Predicts an n x n block into dst.
void intra_pred(const IntraRefs& r, int cidx, int mode, Pel* dst, int stride);

// Angular prediction (modes 2..34) into a contiguous n x n block laid out along the mode's main
// direction; returns true when that layout is the transpose of the picture (horizontal modes).
bool intra_pred_main(const IntraRefs& r, int cidx, int mode, Pel* out);

// dst (rows of `stride`) = the transpose of the contiguous n x n block.
void transpose_block(const Pel* block, int log2n, Pel* dst, int stride);

// Convenience: refs + filtering + prediction for one block.
void intra_predict_block(const IntraContext& ctx, int cidx, int x, int y, int log2n, int mode,
                         bool strong_enabled, Pel* dst, int stride);

// Chroma prediction mode from intra_chroma_pred_mode and the luma mode (Table 8-2, 4:2:0).
inline int chroma_mode_from_syntax(int syntax, int luma_mode) {
  static const int kModes[4] = {0, 26, 10, 1};
  if (syntax == 4) return luma_mode;
  return kModes[syntax] == luma_mode ? 34 : kModes[syntax];
}

// The three most probable modes (8.4.2) given the left and above candidate modes.
void intra_mpm(int cand_a, int cand_b, int mpm[3]);

}  // namespace hevc
