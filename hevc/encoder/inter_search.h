// Inter prediction for a whole CU of a P or B picture, in the manner of the reference encoder:
// the merge candidates (ranked by SATD, the best ones coded in full with and without residual,
// the latter as skip), then motion search for each list and reference (AMVP) and their
// bi-prediction, the winner coded in full with its residual.
#pragma once

#include <memory>
#include <vector>

#include "cu_search.h"
#include "enc_picture.h"
#include "motion_search.h"
#include "search_common.h"

namespace hevc {

class InterSearch : public CuPredictor {
 public:
  InterSearch(EncPicture& pic, SliceState& st);
  ~InterSearch() override;
  InterSearch(const InterSearch&) = delete;
  InterSearch& operator=(const InterSearch&) = delete;
  double code_cu(const CuSite& cu, ContextSet& ctx, double best) override;

 private:
  // Places prediction block `pb`'s motion `m` and syntax `s` in the picture and its prediction
  // in pred_.
  void place_pu(const PbPos& pb, const MvField& m, const PuSyntax& s);
  // Codes the CU whose prediction units are placed (PartMode `part`): with its residual, or
  // without (`residual` false: a 2Nx2N merge CU becomes a skip CU). Returns the cost, `ctx` the
  // contexts after it.
  // `tu_depth`: the transform tree's depth, uniform over the CU, counted from the smallest the
  // CU allows; 0 with inter depths to choose: the residual quadtree searched node by node (rqt).
  double code_placed(const CuSite& cu, int part, bool residual, ContextSet& ctx, int tu_depth = 0);
  // The log2 size of the transform blocks of a CU of size 2^log2 at `depth` (clamped to the
  // depths the SPS allows), counted from the smallest depth the CU allows.
  int tu_log2(int log2, int part, int depth) const;
  // Transform, quantisation and reconstruction of the residual in transform blocks of size
  // 2^tlog2 over the CU; returns the weighted distortion.
  // `depth`: the transform tree depth of those blocks (-1: log2 - tlog2, a uniform tree).
  double code_residual(int x0, int y0, int log2, int tlog2, const ContextSet& ctx, int depth = -1);
  // The residual quadtree of the transform tree node (x, y, log2) at `depth`, searched as the
  // reference encoder does: the node coded whole, then split with each quarter searched the
  // same way, the better kept by distortion plus the bits of the node's transform tree. The
  // prediction is in pred_; returns the winner's cost, `ctx` the contexts after its syntax.
  double rqt(int x, int y, int log2, int depth, ContextSet& ctx);
  // The bits of the transform tree node (x, y, log2) at `depth` as placed; `ctx` advances.
  uint64_t tree_bits(int x, int y, int log2, int depth, ContextSet& ctx);
  // The weighted SSE of the reconstruction over a square area, the three components.
  double area_dist(int x, int y, int size) const;
  // Puts the prediction back over a square area of the reconstruction.
  void reset_to_pred(int x, int y, int size);
  // The prediction of the CU whose motion is placed, into pred_.
  void predict_placed(const CuSite& cu, int part);
  // The best AMVP motion (uni- or bi-predicted) of block `pb` and its estimated cost (SATD plus
  // sqrt(lambda) times bits); false when no list has references.
  bool amvp_motion(const PbPos& pb, MvField& m, PuSyntax& s, double& cost);
  // The CU with PartMode `part` (not 2Nx2N): each prediction unit takes the better of its AMVP
  // motion and its best merge candidate; the CU is coded with its residual.
  double try_partition(const CuSite& cu, int part, const ContextSet& in, ContextSet& ctx);

  EncPicture& pic_;
  SliceState& st_;
  const Sps& sps_;
  const EncoderConfig& cfg_;
  CoeffSink sink_;
  MotionSearch me_;
  Frame pred_;  // the prediction of the CU being tried (picture-sized)
  std::vector<std::unique_ptr<SavedArea>> best_store_;  // per depth: the best trial so far
  std::vector<std::unique_ptr<SavedArea>> rqt_store_;   // per log2 size: a node coded whole
};

}  // namespace hevc
