// The luma prediction signal of a reconstructed picture (the `pred` side plane a CNN filter can
// take, docs/models.md): each block's intra or inter prediction, recomputed from the picture's
// final coding information, so that the encoder (whose reconstruction comes out of its trials)
// and the decoder compute it with the same code.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "dpb.h"
#include "inter_pred.h"
#include "motion.h"
#include "params.h"
#include "picture.h"

namespace hevc {

// Where inter blocks were predicted from: the picture's reference pictures by POC (the slices
// of a picture share its reference picture set) and the explicit weights of each slice.
struct PredictionSources {
  std::vector<std::pair<int, std::shared_ptr<const Frame>>> refs;
  std::vector<std::pair<int, PredWeights>> weights;  // by SliceAddrRs; absent: default weights
  void add_refs(const RefLists& lists);
};

// Predicts every luma block of the picture into `out` (allocated to the picture's size): intra
// blocks from `recon` (the reconstruction before the loop filters, as the decoder predicted
// them), inter blocks from `src`; PCM blocks have no prediction and take their samples.
// Throws std::logic_error when a block's reference is not among `src`'s pictures.
void predict_luma_picture(const Sps& sps, const Pps& pps, const CodingInfo& info,
                          const MotionField* motion, const PredictionSources* src,
                          const Plane& recon, Plane& out);

}  // namespace hevc
