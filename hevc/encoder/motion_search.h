// Motion estimation for one prediction block against one reference picture, in the manner of
// the reference encoder: an integer search around the AMVP predictors (a TZ-style pattern
// search, or a full search in the window), then half- and quarter-sample refinement; costs are
// distortion plus sqrt(lambda) times the estimated bits of the motion vector difference.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "../motion.h"
#include "../mv_derive.h"
#include "config.h"
#include "enc_picture.h"

namespace hevc {

// A reference picture's luma with a margin of repeated edge samples, for the integer search.
struct PaddedLuma {
  static constexpr int kMargin = 80;
  std::vector<Pel> buf;
  int stride = 0, width = 0, height = 0;
  void build(const Plane& p);
  const Pel* at(int x, int y) const {
    return buf.data() + static_cast<ptrdiff_t>(y + kMargin) * stride + x + kMargin;
  }
};

// Estimated bits of a motion vector difference (mvd_coding with bypass-coded suffixes).
int mvd_bits(Mv d);

struct MeResult {
  Mv mv;
  int mvp = 0;        // mvp_lX_flag
  Mv mvd;             // mv - predictor
  double cost = 0;    // distortion + sqrt(lambda) * bits
  uint32_t dist = 0;  // SATD (or SAD) of the prediction
  int bits = 0;       // estimated bits of ref_idx, mvp flag and mvd
};

class MotionSearch {
 public:
  MotionSearch(EncPicture& pic, const EncoderConfig& cfg);
  // The best motion vector of block `pb` against RefPicListX[ref_idx]; `ref_bits`: the bits of
  // its ref_idx (and inter_pred_idc) to add to the cost.
  MeResult search(const PbPos& pb, int list, int ref_idx, int ref_bits);
  // The motion of `list` refined for the bi-prediction whose other list's motion `m` keeps:
  // for each of its `nrefs` references an integer search within BipredSearchRange around
  // starts[ref] (quarter samples) against the target 2 x source - the other prediction, then
  // half- and quarter-sample refinement of the bi-prediction itself for the best reference
  // (`ref_out`, -1 when no position could be searched). `dist`/`cost` are the bi-prediction's.
  MeResult refine_bi(const PbPos& pb, int list, int nrefs, const Mv* starts, const int* ref_bits,
                     const MvField& m, int& ref_out);
  // The SATD of the bi-prediction of `m` over the block (luma).
  uint32_t bi_cost(const PbPos& pb, const MvField& m);
  // The luma prediction of `m` into the scratch frame; returns its SATD (or SAD) to the source.
  uint32_t pred_dist(const PbPos& pb, const MvField& m, bool hadamard);

 private:
  uint32_t sad_at(const PaddedLuma& ref, int x, int y, int w, int h, Mv integer) const;
  // Half, then quarter samples around `q` for list `list` of `f`; returns the best and its
  // distortion in `dist`. `other_kept`: f is a bi-prediction whose other list's 14-bit
  // prediction is in other14_.
  Mv refine_fraction(const PbPos& pb, MvField& f, int list, Mv q, const Mv pred[2], uint32_t& dist,
                     bool other_kept = false);
  // The SATD (or SAD) of the luma prediction in the scratch frame against the source.
  uint32_t scratch_dist(const PbPos& pb, bool hadamard) const;
  // The distortion of the bi-prediction of list `list` (RefPicListX[ref_idx], vector v) with
  // the kept other14_.
  uint32_t bi_dist_kept(const PbPos& pb, int list, int ref_idx, Mv v);
  MeResult result(Mv q, const Mv pred[2], uint32_t dist, int ref_bits) const;
  std::vector<Pel> target_;                // refine_bi: 2 x source - the other prediction, clipped
  std::vector<int16_t> other14_, this14_;  // refine_bi: 14-bit predictions of the two lists
  EncPicture& pic_;
  const EncoderConfig& cfg_;
  std::map<const Frame*, PaddedLuma> padded_;
  Frame scratch_;
};

}  // namespace hevc
