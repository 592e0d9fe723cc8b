// Forward quantisation for the encoder: deadzone quantiser, rate-distortion optimised
// quantisation (RDOQ) with rates taken from the CABAC context states, and sign data hiding.
#pragma once

#include <cstdint>

#include "../cabac.h"

namespace hevc {

struct QuantJob {
  const int16_t* coef = nullptr;  // transform coefficients, n x n row-major
  int log2n = 2;
  int cidx = 0;
  int qp = 26;  // QP of the component (chroma already mapped)
  int scan_idx = 0;
  bool intra = true;
  bool sign_hide = false;
  bool rdoq = false;
  double lambda = 1;  // lambda for this component (chroma: divided by its distortion weight)
  const ContextSet* ctx = nullptr;  // current context states, for RDOQ rates
  int cbf_ctx = -1;  // index of the block's cbf context when its flag is coded, else -1
};

// The nonzero levels: their number, bounding box (columns 0..max_x, rows 0..max_y) and the scan
// position of the last one (-1: none).
struct QuantResult {
  int nonzero = 0;
  int max_x = 0, max_y = 0;
  int last = -1;
};

// Quantises into `levels` (n x n).
QuantResult quantize(const QuantJob& job, int16_t* levels);

}  // namespace hevc
