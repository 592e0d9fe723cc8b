// Mode decision over the coding quadtree, in the manner of the reference encoder: a full
// rate-distortion recursion over CU sizes, each CU coded whole by the best of the prediction
// searches (intra today; inter will sit beside it) and compared with its split.
#pragma once

#include <memory>
#include <vector>

#include "../cabac.h"
#include "../ctu_syntax.h"
#include "config.h"
#include "cu_tree.h"
#include "enc_picture.h"
#include "rdcost.h"
#include "search_common.h"

namespace hevc {

// A CU the recursion codes whole, as it hands it to each prediction search.
struct CuSite {
  int x0 = 0, y0 = 0, log2 = 0, depth = 0;
  bool part_2nx2n = true;  // PartMode 2Nx2N may be tried (a forced tree may rule it out)
  bool part_nxn = false;   // PartMode NxN may be tried (minimum CU size, forced tree, hint)
  // The parent's split cost before this CU and its whole CU's cost: a search may return kInf,
  // without an exact cost, once its CU makes the parent's split lose (Bound{}: it may not).
  Bound parent;
};

// One family of predictions for a whole CU. A search tries its candidates from the contexts in
// `ctx` (those before the CU) against `best`, the cost of the best CU coded so far (kInf when
// none). If one wins it returns its cost (the CU's split_cu_flag included, when coded) and
// leaves it coded in the picture, with `ctx` the contexts after it; otherwise it returns a cost
// not below `best` and the caller puts the picture back.
class CuPredictor {
 public:
  virtual ~CuPredictor() = default;
  virtual double code_cu(const CuSite& cu, ContextSet& ctx, double best) = 0;
};

class CuSearch {
 public:
  // The prediction searches are tried in order for every whole CU.
  CuSearch(EncPicture& pic, SliceState& st, std::vector<CuPredictor*> predictors);
  ~CuSearch();
  CuSearch(const CuSearch&) = delete;
  CuSearch& operator=(const CuSearch&) = delete;
  // Decides and reconstructs one CTU. `ctx` holds the context states at the start of the CTU's
  // coding quadtree and is advanced past it.
  void compress_ctu(int rx, int ry, ContextSet& ctx);
  // CU sizes and PartModes from `tree` instead of searched (null: searched).
  void force_tree(const CuTree* tree) { forced_ = tree; }
  // CU sizes searched near those of the previous picture's `tree` (null: all sizes), as the
  // prev_tree_* keys say; only where the luma changed little from `src` (null: everywhere).
  void hint_tree(const CuTree* tree, const Plane* src) {
    hint_ = tree;
    hint_src_ = src;
  }

 private:
  // `parent`: the parent's split cost before this CU (`before`) and its whole CU's cost (`best`).
  double compress_cu(int x0, int y0, int log2, int depth, ContextSet& ctx, Bound parent = {});
  // Whether the previous picture's tree is a guide here: the source changed little.
  bool hint_applies(int x0, int y0, int size) const;

  EncPicture& pic_;
  SliceState& st_;
  const Sps& sps_;
  const EncoderConfig& cfg_;
  CoeffSink sink_;
  std::vector<CuPredictor*> predictors_;
  const CuTree* forced_ = nullptr;
  const CuTree* hint_ = nullptr;
  const Plane* hint_src_ = nullptr;
  std::vector<std::unique_ptr<SavedArea>> cu_store_;  // per depth
};

}  // namespace hevc
