// Side information of a picture for CNN filters that take it (docs/models.md, "Side
// information"): luma-sized planes computed from what the encoder and the decoder share, so both
// hand a filter the same planes. Each plane is computed the first time a filter asks for it, so
// a model that reads none costs nothing.
#pragma once

#include <array>
#include <memory>

#include "luma_prediction.h"
#include "motion.h"
#include "params.h"
#include "picture.h"

namespace hevc {

enum class SidePlane : int {
  Qp,        // QpY of the sample's coding unit
  Mode,      // 0 intra, 1 inter, 2 skip
  Boundary,  // 1 on the first and last row and column of every transform block, else 0
  // The largest deblocking boundary strength (0..2) of the edges whose luma filter may change
  // the sample (p2..q2: within 3 samples of an 8x8-grid edge segment), else 0.
  Bs,
  Pred,  // the luma prediction signal (predict_luma_picture)
  // The decoded luma residual, reconstruction - prediction, offset by 128 and clipped to 0..255
  // (a residual beyond +-127 is rare and saturates).
  Resid,
};
constexpr int kSidePlaneCount = 6;
// The planes' names as filters see them ("qp_map", "mode", "boundary", "bs", "pred", "resid").
const char* side_plane_name(SidePlane p);

class CnnSideInfo {
 public:
  // `recon` is the reconstruction before the loop filters; `motion` and `sources` are null for
  // a picture without inter blocks. All must outlive this object.
  CnnSideInfo(const Sps& sps, const Pps& pps, const CodingInfo& info, const MotionField* motion,
              const PredictionSources* sources, const Plane& recon)
      : sps_(sps), pps_(pps), info_(info), motion_(motion), sources_(sources), recon_(recon) {}
  // Shared: a filter may keep a plane (a zero-copy view) beyond this object's life.
  std::shared_ptr<const Plane> get(SidePlane p);

 private:
  void make_coding_planes();
  void make_bs();
  void make_resid();
  const Sps& sps_;
  const Pps& pps_;
  const CodingInfo& info_;
  const MotionField* motion_;
  const PredictionSources* sources_;
  const Plane& recon_;
  Plane& plane(SidePlane p);
  std::array<std::shared_ptr<Plane>, kSidePlaneCount> planes_;
};

}  // namespace hevc
