#include "cu_search.h"

#include <algorithm>
#include <cstdlib>

namespace hevc {

CuSearch::CuSearch(EncPicture& pic, SliceState& st, std::vector<CuPredictor*> predictors)
    : pic_(pic),
      st_(st),
      sps_(*pic.sps),
      cfg_(*pic.cfg),
      sink_{pic, {}},
      predictors_(std::move(predictors)) {
  for (int i = 0; i < 8; ++i) cu_store_.push_back(std::make_unique<SavedArea>());
}

CuSearch::~CuSearch() = default;

void CuSearch::compress_ctu(int rx, int ry, ContextSet& ctx) {
  compress_cu(rx << sps_.ctb_log2(), ry << sps_.ctb_log2(), sps_.ctb_log2(), 0, ctx);
}

bool CuSearch::hint_applies(int x0, int y0, int size) const {
  if (!hint_src_) return true;
  const Plane& a = pic_.src.planes[0];
  int64_t sad = 0;
  for (int j = 0; j < size; ++j) {
    const Pel* p = a.row(y0 + j) + x0;
    const Pel* q = hint_src_->row(y0 + j) + x0;
    for (int i = 0; i < size; ++i) sad += std::abs(p[i] - q[i]);
  }
  return sad <= static_cast<int64_t>(cfg_.prev_tree_max_diff) * size * size;
}

double CuSearch::compress_cu(int x0, int y0, int log2, int depth, ContextSet& ctx, Bound parent) {
  const int size = 1 << log2;
  const int W = pic_.info.geo().width, H = pic_.info.geo().height;
  const bool can_split = log2 > sps_.min_cb_log2();
  const bool inside = x0 + size <= W && y0 + size <= H;
  // CUs above the largest size tried are split without trying them whole (intra pictures: in P
  // and B pictures a large skip CU is common).
  bool try_whole =
      inside && !(can_split && log2 > cfg_.max_cu_log2_tried && pic_.type == SliceType::I);
  bool try_split = can_split;
  bool try_2nx2n = true;
  bool nxn = log2 == sps_.min_cb_log2() && log2 - 1 >= sps_.min_tb_log2();
  if (forced_ && x0 < W && y0 < H) {
    // A forced tree (checked to fit the picture) decides the size and PartMode; every other
    // decision is searched as usual, so the tree the search chose gives back its bitstream.
    const int flog2 = forced_->log2_at(x0, y0);
    try_whole = log2 == flog2;
    try_split = log2 > flog2;
    try_2nx2n = forced_->part_at(x0, y0) == 0;
    nxn = nxn && !try_2nx2n;
  } else if (hint_ && inside && hint_applies(x0, y0, size)) {
    // The sizes the previous picture chose over this CU's area.
    int lo = 15, hi = 0;
    for (int y = y0; y < y0 + size; y += 8)
      for (int x = x0; x < x0 + size; x += 8) {
        // NxN at 8x8 counts as a level below 8x8.
        const int l = hint_->log2_at(x, y) - (cfg_.prev_tree_nxn && hint_->part_at(x, y) ? 1 : 0);
        lo = std::min(lo, l);
        hi = std::max(hi, l);
      }
    const int up = cfg_.prev_tree_up, down = cfg_.prev_tree_down;
    if (up >= 0 && can_split && log2 > hi + up) try_whole = false;
    if (down >= 0 && try_whole && log2 <= lo - down) try_split = false;
    if (cfg_.prev_tree_nxn && down >= 0 && nxn && try_2nx2n && log2 - 1 < lo - down) nxn = false;
  }
  const ContextSet in = ctx;
  double best = kInf;
  if (try_whole) {
    // A CU that can split may stop once it makes the parent's split lose (see below): its
    // split then either loses too, or wins without reading the whole CU's exact cost.
    const bool may_stop = try_split && !cfg_.skip_split_if_no_residual && cfg_.exact_shortcuts;
    const CuSite site{x0, y0, log2, depth, try_2nx2n, nxn, may_stop ? parent : Bound{}};
    for (size_t k = 0; k < predictors_.size(); ++k) {
      // As the reference encoder does, intra is tried in a P or B picture only when the best
      // inter CU has a residual.
      if (k > 0 && pic_.type != SliceType::I && best < kInf &&
          !area_has(pic_.info, x0, y0, size, static_cast<uint8_t>(kBfCbfY | kBfCbfCb | kBfCbfCr)))
        continue;
      // A later search may lose to the CU coded so far: it is kept.
      const bool keep = k > 0 && best < kInf;
      if (keep) cu_store_[depth]->save(pic_, x0, y0, size);
      ContextSet c = in;
      const double cost = predictors_[k]->code_cu(site, c, best);
      if (cost < best) {
        best = cost;
        ctx = c;
      } else if (keep) {
        cu_store_[depth]->restore(pic_);
      }
    }
    // ECU: a whole CU coded as skip is not split.
    if (try_split && cfg_.early_cu && best < kInf &&
        pic_.info.blk(x0, y0).pred_mode == static_cast<uint8_t>(PredMode::Skip))
      return best;
    if (try_split && cfg_.skip_split_if_no_residual &&
        !area_has(pic_.info, x0, y0, size, static_cast<uint8_t>(kBfCbfY | kBfCbfCb | kBfCbfCr)))
      return best;
    if (try_split) cu_store_[depth]->save(pic_, x0, y0, size);
  }
  if (try_split) {
    ContextSet c = in;
    double cost = 0;
    if (inside) {
      CabacCounter cnt;
      Counter coder(cnt, c, sink_, st_);
      coder.split_cu_flag(x0, y0, depth, 1);
      cost += pic_.rd.bits_cost(cnt.bits());
    }
    // Once both the whole CU and the split's cost so far (which only grows) make the parent's
    // split lose, it has lost whatever comes next: the rest is not tried, and the parent puts its
    // whole CU back.
    const bool whole_lost = parent.lost(best);
    const int h = size >> 1;
    for (int k = 0; k < 4 && cost < best; ++k) {
      if (whole_lost && parent.lost(cost)) return kInf;
      const int xs = x0 + (k & 1) * h, ys = y0 + (k >> 1) * h;
      if (xs < W && ys < H)
        cost += compress_cu(xs, ys, log2 - 1, depth + 1, c, trial_bound(cfg_, cost, best));
    }
    if (cost < best) {
      best = cost;
      ctx = c;
    } else if (try_whole) {
      cu_store_[depth]->restore(pic_);
    }
  }
  return best;
}

}  // namespace hevc
