// The luma prediction signal of a reconstructed picture (the `pred` side plane a CNN filter can
// take, docs/models.md): each block's intra or inter prediction, recomputed from the picture's
// final coding information, so that the encoder (whose reconstruction comes out of its trials)
// and the decoder compute it with the same code.
#pragma once

#include <memory>
#include <vector>

#include "dpb.h"
#include "inter_pred.h"
#include "motion.h"
#include "params.h"
#include "picture.h"

namespace hevc {

// Where the inter blocks of one slice were predicted from: its reference lists and weights.
struct SlicePrediction {
  int slice_addr = -1;  // SliceAddrRs; -1: every slice of the picture (one set of lists)
  int num[2] = {0, 0};
  std::shared_ptr<const Frame> pic[2][16];
  PredWeights weights;
};

struct PredictionSources {
  std::vector<SlicePrediction> slices;
  // Records a slice's lists and weights, once per slice (its dependent segments share them).
  void add_slice(int slice_addr, const RefLists& lists, const PredWeights& weights);
};

// Predicts every luma block of the picture into `out` (allocated to the picture's size): intra
// blocks from `recon` (the reconstruction before the loop filters, as the decoder predicted
// them), inter blocks from their slice's lists in `src` (by reference index, as they were
// predicted); PCM blocks have no prediction and take their samples. Throws std::logic_error
// when an inter block's slice or reference is not in `src`.
void predict_luma_picture(const Sps& sps, const Pps& pps, const CodingInfo& info,
                          const MotionField* motion, const PredictionSources* src,
                          const Plane& recon, Plane& out);

}  // namespace hevc
