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
  // Codes the CU (2Nx2N) with motion `m` and prediction syntax `s`: with its residual, or
  // without (`residual` false: a merge CU becomes a skip CU). Returns the cost, `ctx` the
  // contexts after it.
  double try_motion(const CuSite& cu, const MvField& m, const PuSyntax& s, bool residual,
                    ContextSet& ctx);
  // Transform, quantisation and reconstruction of the residual over the CU's transform tree
  // (one level: the CU, or its largest transform blocks); returns the weighted distortion.
  double code_residual(int x0, int y0, int log2, const ContextSet& ctx);
  // The best AMVP motion (uni- or bi-predicted) of the CU; false when no list has references.
  bool amvp_motion(const CuSite& cu, MvField& m, PuSyntax& s);

  EncPicture& pic_;
  SliceState& st_;
  const Sps& sps_;
  const EncoderConfig& cfg_;
  CoeffSink sink_;
  MotionSearch me_;
  Frame pred_;  // the prediction of the CU being tried (picture-sized)
  std::vector<std::unique_ptr<SavedArea>> best_store_;  // per depth: the best trial so far
};

}  // namespace hevc
