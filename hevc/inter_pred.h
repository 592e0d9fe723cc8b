// Inter prediction samples (H.265 8.5.3.3): fractional sample interpolation (luma 8-tap, chroma
// 4-tap) and weighted sample prediction (default and explicit), 8-bit 4:2:0.
#pragma once

#include <cstdint>

#include "motion.h"
#include "picture.h"

namespace hevc {

struct SliceHeader;

// Explicit weighted prediction of a slice (7.4.7.3), per list and reference index.
struct PredWeights {
  bool enabled = false;
  int log2_wd[3] = {0, 0, 0};  // luma_log2_weight_denom and ChromaLog2WeightDenom, per component
  int16_t w[2][16][3] = {};    // LumaWeightLX / ChromaWeightLX
  int16_t o[2][16][3] = {};    // luma_offset_lX / ChromaOffsetLX (8-bit: no shift)
  // The weights of a slice (enabled when its PPS asks for explicit weighting of its type).
  static PredWeights from_slice(const SliceHeader& h, bool weighted);
};

// The 14-bit prediction (before averaging or weighting) of a w x h block (at most 64 x 64) of
// component `cidx` at (x, y) of that component from one reference plane, into `out` (rows of w).
void predict_component(const Plane& ref, int cidx, Mv mv, int x, int y, int w, int h, int16_t* out);

// Predicts the prediction block (x, y, w, h) of `m` into `dst` from the reference frames of the
// lists `m` uses (ref[X] for list X, nullptr when unused); `planes` 1: luma only (an encoder's
// motion search).
void predict_inter(const Frame* const ref[2], const MvField& m, int x, int y, int w, int h,
                   const PredWeights& weights, Frame& dst, int planes = 3);

}  // namespace hevc
