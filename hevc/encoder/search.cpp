#include "search.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>

#include "../intra.h"
#include "../residual_ctx.h"
#include "../transform.h"
#include "quant.h"

namespace hevc {

namespace {

using Counter = CtuCoder<CabacCounter, CoeffSink>;

// Which syntax codes a luma mode: 0 the first most probable mode, 1 the other two, 2 the rest.
int mpm_class(const int* mpm, int mode) {
  return mode == mpm[0] ? 0 : (mode == mpm[1] || mode == mpm[2]) ? 1 : 2;
}

// Bits of a luma mode's syntax by its class: prev_intra_luma_pred_flag, then mpm_idx or
// rem_intra_luma_pred_mode.
uint32_t mode_class_bits(uint8_t prev_state, int cls) {
  if (cls == 0) return bin_cost(prev_state, 1) + kBitScale;
  if (cls == 1) return bin_cost(prev_state, 1) + 2 * kBitScale;
  return bin_cost(prev_state, 0) + 5 * kBitScale;
}

uint32_t intra_mode_bits(uint8_t prev_state, const int* mpm, int mode) {
  return mode_class_bits(prev_state, mpm_class(mpm, mode));
}

// A 4x4 block's reconstruction and levels, kept across a transform-skip trial.
struct Keep4x4 {
  Pel rec[16];
  int16_t coef[16];
  void save(EncPicture& p, int cidx, int x, int y) {
    const Plane& pl = p.rec.planes[cidx];
    const int16_t* c = p.coef_at(cidx, x, y);
    for (int j = 0; j < 4; ++j) {
      std::memcpy(rec + 4 * j, pl.row(y + j) + x, 4);
      std::memcpy(coef + 4 * j, c + j * p.coef_stride(cidx), sizeof(int16_t) * 4);
    }
  }
  void restore(EncPicture& p, int cidx, int x, int y) const {
    Plane& pl = p.rec.planes[cidx];
    int16_t* c = p.coef_at(cidx, x, y);
    for (int j = 0; j < 4; ++j) {
      std::memcpy(pl.row(y + j) + x, rec + 4 * j, 4);
      std::memcpy(c + j * p.coef_stride(cidx), coef + 4 * j, sizeof(int16_t) * 4);
    }
  }
};

// A chroma candidate tried in full. When every reference sample of the CU's one chroma block
// has the same value (in each plane), every mode predicts that value: a later candidate with
// the same scans codes the same levels and reconstruction, and only its intra_chroma_pred_mode
// bits differ.
struct ChromaTrial {
  int syntax = 4;
  int scan = 0;
  uint64_t bits = 0;  // its chroma syntax bits
  double dist = 0;
};

bool flat_refs(const IntraRefs& r) {
  const int n = 2 << r.log2n;
  for (int i = 0; i <= n; ++i)
    if (r.left[i] != r.left[0] || r.top[i] != r.left[0]) return false;
  return true;
}

uint32_t chroma_mode_bits(uint8_t state, int syntax) {
  return bin_cost(state, syntax != 4) + (syntax != 4 ? 2 * kBitScale : 0);
}

}  // namespace

// A square luma area and its chroma: reconstruction, levels and block info.
struct IntraSearch::Area {
  int x = 0, y = 0, w = 0, h = 0;
  std::vector<Pel> rec[3];
  std::vector<int16_t> coef[3];
  std::vector<BlockInfo> info;
  int first = 0, end = 3;  // the planes kept: those the trials being undone can change
  void save(EncPicture& p, int x0, int y0, int size, int first_plane = 0, int end_plane = 3) {
    x = x0;
    y = y0;
    w = std::min(size, p.rec.planes[0].width - x0);
    h = std::min(size, p.rec.planes[0].height - y0);
    first = first_plane;
    end = end_plane;
    for (int c = first; c < end; ++c) {
      const int sh = c ? 1 : 0, cw = w >> sh, ch = h >> sh, cx = x >> sh, cy = y >> sh;
      rec[c].resize(static_cast<size_t>(cw) * ch);
      coef[c].resize(static_cast<size_t>(cw) * ch);
      const Plane& pl = p.rec.planes[c];
      copy_rows(rec[c].data(), cw, pl.row(cy) + cx, pl.stride, cw, ch);
      copy_rows(coef[c].data(), 2 * cw, p.coef_at(c, cx, cy), 2 * ptrdiff_t{p.coef_stride(c)},
                2 * cw, ch);
    }
    // A row of the area's blocks is contiguous in the picture's block info.
    const int bw = (w + 3) >> 2, bh = (h + 3) >> 2;
    info.resize(static_cast<size_t>(bw) * bh);
    for (int r = 0; r < bh; ++r)
      std::memcpy(&info[static_cast<size_t>(r) * bw], &p.info.blk(x, y + 4 * r),
                  sizeof(BlockInfo) * bw);
  }
  void restore(EncPicture& p) const {
    for (int c = first; c < end; ++c) {
      const int sh = c ? 1 : 0, cw = w >> sh, ch = h >> sh, cx = x >> sh, cy = y >> sh;
      Plane& pl = p.rec.planes[c];
      copy_rows(pl.row(cy) + cx, pl.stride, rec[c].data(), cw, cw, ch);
      copy_rows(p.coef_at(c, cx, cy), 2 * ptrdiff_t{p.coef_stride(c)}, coef[c].data(), 2 * cw,
                2 * cw, ch);
    }
    const int bw = (w + 3) >> 2, bh = (h + 3) >> 2;
    for (int r = 0; r < bh; ++r)
      std::memcpy(&p.info.blk(x, y + 4 * r), &info[static_cast<size_t>(r) * bw],
                  sizeof(BlockInfo) * bw);
  }
};

IntraSearch::IntraSearch(EncPicture& pic, SliceState& st)
    : pic_(pic), st_(st), sps_(*pic.sps), pps_(*pic.pps), cfg_(*pic.cfg), sink_{pic, {}} {
  for (int i = 0; i < 8; ++i) {
    cu_store_.push_back(std::make_unique<Area>());
    tu_store_.push_back(std::make_unique<Area>());
    chroma_store_.push_back(std::make_unique<Area>());
  }
  trial_.area = std::make_unique<Area>();
}

IntraSearch::~IntraSearch() = default;

void IntraSearch::compress_ctu(int rx, int ry, ContextSet& ctx) {
  compress_cu(rx << sps_.ctb_log2(), ry << sps_.ctb_log2(), sps_.ctb_log2(), 0, ctx);
}

bool IntraSearch::hint_applies(int x0, int y0, int size) const {
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

double IntraSearch::compress_cu(int x0, int y0, int log2, int depth, ContextSet& ctx,
                                Bound parent) {
  const int size = 1 << log2;
  const int W = pic_.info.geo().width, H = pic_.info.geo().height;
  const bool can_split = log2 > sps_.min_cb_log2();
  const bool inside = x0 + size <= W && y0 + size <= H;
  // CUs above the largest size tried are split without trying them whole.
  bool try_whole = inside && !(can_split && log2 > cfg_.max_cu_log2_tried);
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
    ContextSet c = in;
    // A CU that can split may stop once it makes the parent's split lose (see below): its
    // split then either loses too, or wins without reading the whole CU's exact cost.
    const bool may_stop = try_split && !cfg_.skip_split_if_no_residual && cfg_.exact_shortcuts;
    // An 8x8 CU has one 4x4 chroma block per plane, the same for 2Nx2N and NxN.
    const bool keep = nxn && try_2nx2n && log2 == 3 && cfg_.exact_shortcuts;
    n_chroma_kept_ = 0;
    if (keep) keep_chroma_ = KeepChroma::kFill;
    double cost =
        try_2nx2n ? intra_cu(x0, y0, log2, depth, c, 0, kInf, may_stop ? parent : Bound{}) : kInf;
    keep_chroma_ = KeepChroma::kOff;
    const bool luma_res = !try_2nx2n || area_has(x0, y0, size, kBfCbfY);
    if (nxn && (luma_res || !cfg_.skip_nxn_if_no_residual)) {
      cu_store_[depth]->save(pic_, x0, y0, size);
      ContextSet c2 = in;
      if (keep) keep_chroma_ = KeepChroma::kReuse;
      const double cost2 = intra_cu(x0, y0, log2, depth, c2, 3, cost);
      keep_chroma_ = KeepChroma::kOff;
      if (cost2 < cost) {
        cost = cost2;
        c = c2;
      } else {
        cu_store_[depth]->restore(pic_);
      }
    }
    best = cost;
    ctx = c;
    if (try_split && cfg_.skip_split_if_no_residual &&
        !area_has(x0, y0, size, static_cast<uint8_t>(kBfCbfY | kBfCbfCb | kBfCbfCr)))
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
        cost += compress_cu(xs, ys, log2 - 1, depth + 1, c, trial_bound(cost, best));
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

double IntraSearch::intra_cu(int x0, int y0, int log2, int depth, ContextSet& ctx, int part,
                             double budget, Bound parent) {
  const int size = 1 << log2;
  BlockInfo b;
  b.cu_log2 = b.tu_log2 = static_cast<uint8_t>(log2);
  b.pred_mode = static_cast<uint8_t>(PredMode::Intra);
  b.part_mode = static_cast<uint8_t>(part);
  b.qp = static_cast<int8_t>(pic_.qp);
  b.chroma_syntax = 4;
  pic_.info.fill(x0, y0, size, size, b);
  ContextSet run = ctx;
  uint64_t luma_res_bits = 0;
  if (part == 0) {
    luma_pu(x0, y0, log2, log2, 0, run, luma_res_bits);
  } else {
    // The luma PUs' costs only grow the CU's cost: stop once they exceed the budget.
    const int h = size >> 1;
    double luma_cost = 0;
    for (int k = 0; k < 4; ++k) {
      uint64_t rb;
      luma_cost += luma_pu(x0 + (k & 1) * h, y0 + (k >> 1) * h, log2 - 1, log2, 3, run, rb);
      luma_res_bits += rb;
      if (luma_cost >= budget) return kInf;
    }
  }
  const Plane& so = pic_.src.planes[0];
  const Plane& ro = pic_.rec.planes[0];
  const uint64_t d_luma =
      sse_block(so.row(y0) + x0, so.stride, ro.row(y0) + x0, ro.stride, size, size);
  // Every chroma candidate has the same luma syntax: its bits are counted once (the luma
  // residuals' bits come from the residual quadtree).
  const bool parts_apart = !pps_.cu_qp_delta_enabled && !sps_.pcm && cfg_.exact_shortcuts;
  uint64_t luma_syntax_bits = 0;
  ContextSet luma_syntax_ctx = ctx;
  if (parts_apart) {
    CabacCounter cnt;
    Counter coder(cnt, luma_syntax_ctx, sink_, st_);
    coder.count_parts_ = kCountLumaSyntax;
    coder.coding_unit(x0, y0, log2);
    luma_syntax_bits = cnt.bits();
  }
  // The CU's cost is at least its luma distortion and luma bits.
  if (parent.lost(static_cast<double>(d_luma) +
                  pic_.rd.bits_cost(luma_syntax_bits + luma_res_bits)))
    return kInf;
  const bool can_split = log2 > sps_.min_cb_log2();
  // Chroma: full RD over the five candidates, each scored with the exact bits of the whole CU.
  double best = kInf;
  int best_syntax = 4;
  Area* store = chroma_store_[depth].get();
  int cands[5] = {4, 0, 1, 2, 3};
  int ncand = 5;
  if (cfg_.chroma_rd_candidates < 5)
    ncand = preselect_chroma(x0, y0, log2, cands, cfg_.chroma_rd_candidates);
  // The CU's first chroma blocks (at the first leaf of the luma transform tree, 8x8 at least)
  // have neighbours outside the CU, final while the candidates are tried.
  const int log2c_first = std::max<int>(pic_.info.blk(x0, y0).tu_log2, 3) - 1;
  for (int c = 1; c < 3; ++c) set_first_refs(c, x0 >> 1, y0 >> 1, log2c_first);
  const bool flat = parts_apart && (pic_.info.blk(x0, y0).tu_log2 == log2 || log2 == 3) &&
                    flat_refs(first_[1].raw) && flat_refs(first_[2].raw);
  ChromaTrial trials[5];
  int ntrials = 0;
  int last_evaluated = -1;
  uint64_t best_bits = 0;  // the best candidate's counted bits
  double best_dist = 0;
  ContextSet best_ctx;  // and the contexts after them
  for (int ci = 0; ci < ncand; ++ci) {
    const int syntax = cands[ci];
    const int scan =
        flat ? scan_idx_for(log2c_first, 1,
                            chroma_mode_from_syntax(syntax, pic_.info.blk(x0, y0).intra_mode))
             : 0;
    if (flat) {
      const ChromaTrial* twin = nullptr;
      for (int k = 0; k < ntrials && !twin; ++k)
        if (trials[k].scan == scan) twin = &trials[k];
      if (twin) {
        // A twin that would win is tried in full: its coded block is needed.
        const uint8_t st = ctx.s[kCtxIntraChroma];
        const uint64_t bits =
            twin->bits - chroma_mode_bits(st, twin->syntax) + chroma_mode_bits(st, syntax);
        if (!(twin->dist + pic_.rd.bits_cost(luma_syntax_bits + bits) < best)) continue;
      }
    }
    last_evaluated = syntax;
    pic_.info.for_each(x0, y0, size, size,
                       [&](BlockInfo& bi) { bi.chroma_syntax = static_cast<uint8_t>(syntax); });
    uint64_t sse[2];
    code_chroma(x0, y0, log2, part, ctx, sse);
    double dist = static_cast<double>(d_luma);
    for (int c = 1; c < 3; ++c) dist += pic_.rd.chroma_weight[c] * static_cast<double>(sse[c - 1]);
    // Its chroma bits can only add to that.
    if (cfg_.exact_shortcuts && !(dist + pic_.rd.bits_cost(luma_syntax_bits) < best)) continue;
    ContextSet c = ctx;
    CabacCounter cnt;
    Counter coder(cnt, c, sink_, st_);
    coder.count_parts_ = parts_apart ? kCountChroma : kCountLumaSyntax | kCountChroma;
    coder.coding_unit(x0, y0, log2);
    const double cost = dist + pic_.rd.bits_cost(luma_syntax_bits + cnt.bits());
    if (flat) trials[ntrials++] = {syntax, scan, cnt.bits(), dist};
    if (cost < best) {
      best = cost;
      best_syntax = syntax;
      best_bits = cnt.bits();
      best_dist = dist;
      best_ctx = c;
      if (ncand > 1) store->save(pic_, x0, y0, size, 1, 3);
    }
  }
  first_[1].valid = first_[2].valid = false;
  if (best_syntax != last_evaluated) store->restore(pic_);
  // The CU's cost with its exact bits, and the contexts after it: its split flag, then the
  // parts' counts. The parts share no context and each count started from `ctx`, so a context
  // differs from `ctx` in at most one of them (the luma syntax's split and cbf flags come out
  // the same in the luma residual's chain). Without parts, one count of the whole CU.
  ContextSet c = ctx;
  CabacCounter cnt;
  Counter coder(cnt, c, sink_, st_);
  if (can_split) coder.split_cu_flag(x0, y0, depth, 0);
  if (parts_apart) {
    for (int i = 0; i < kNumCtx; ++i) {  // (selects, not branches: it vectorises)
      const uint8_t s0 = ctx.s[i];
      uint8_t v = run.s[i] != s0 ? run.s[i] : c.s[i];
      v = best_ctx.s[i] != s0 ? best_ctx.s[i] : v;
      c.s[i] = luma_syntax_ctx.s[i] != s0 ? luma_syntax_ctx.s[i] : v;
    }
    ctx = c;
    return best_dist + pic_.rd.bits_cost(cnt.bits() + luma_syntax_bits + best_bits + luma_res_bits);
  }
  coder.coding_unit(x0, y0, log2);
  ctx = c;
  return best_dist + pic_.rd.bits_cost(cnt.bits());
}

bool IntraSearch::area_has(int x0, int y0, int size, uint8_t flags) {
  bool any = false;
  pic_.info.for_each(x0, y0, size, size, [&](BlockInfo& b) { any |= (b.flags & flags) != 0; });
  return any;
}

void IntraSearch::rough_decision(int* out, int xp, int yp, int log2t, int ncand, uint8_t prev_state,
                                 const int* mpm) {
  const int nt = 1 << log2t;
  const Plane& src = pic_.src.planes[0];
  alignas(16) Pel pred[32 * 32];
  double rmd_cost[35];
  // The source block, and its transpose for the horizontal modes (SATD is transpose-invariant).
  alignas(16) Pel org[32 * 32], org_t[32 * 32];
  for (int y = 0; y < nt; ++y) copy_row(org + y * nt, src.row(yp + y) + xp, nt);
  transpose_block(org, log2t, org_t, nt);
  // Over flat references every mode predicts the same block: one SATD serves them all.
  const bool flat = cfg_.exact_shortcuts && flat_refs(first_[0].raw);
  int64_t flat_satd = -1;
  // Each mode's estimated bits, weighted: computed per class (mpm_class), set out per mode.
  double bits_cost[35];
  const double rest = pic_.rd.sqrt_lambda * mode_class_bits(prev_state, 2) / kBitScale;
  std::fill(bits_cost, bits_cost + 35, rest);
  for (int k = 0; k < 3; ++k)
    bits_cost[mpm[k]] = pic_.rd.sqrt_lambda * mode_class_bits(prev_state, k ? 1 : 0) / kBitScale;
  auto rough = [&](int mode) {
    const IntraRefs& r = first_[0].for_mode(0, mode);
    bool transposed = false;
    uint32_t satd;
    if (flat && flat_satd >= 0) {
      satd = static_cast<uint32_t>(flat_satd);
    } else {
      if (mode < 2)
        intra_pred(r, 0, mode, pred, nt);
      else
        transposed = intra_pred_main(r, 0, mode, pred);
      satd = satd_block(transposed ? org_t : org, nt, pred, nt, nt);
      if (flat) flat_satd = satd;
    }
    rmd_cost[mode] = satd + bits_cost[mode];
  };
  // The ncand lowest costs, ties to the lower mode, kept sorted as the modes are scored (ncand
  // is small): a mode goes in front of those it beats, in (cost, mode) order.
  int order[35];
  double kept[35];  // rmd_cost[order[i]], kept alongside to spare the indirect loads
  int n = 0;
  const int keep = std::max(ncand, 1);  // (ncand is at least 1)
  auto offer = [&](int m) {
    const double c = rmd_cost[m];
    // (The common case, a higher cost, decided by one comparison.)
    auto beats = [&](int i) { return c <= kept[i] && (c < kept[i] || m < order[i]); };
    if (n == keep && !beats(n - 1)) return;
    int i = n < keep ? n++ : keep - 1;
    for (; i > 0 && beats(i - 1); --i) {
      order[i] = order[i - 1];
      kept[i] = kept[i - 1];
    }
    order[i] = m;
    kept[i] = c;
  };
  auto score = [&](int m) {
    rough(m);
    offer(m);
  };
  if (cfg_.rmd_fast) {
    // Coarse: planar, DC and every second angle; then the neighbours of the best few angles.
    // The best of all are the best of the coarse ones' best and the neighbours.
    for (int m = 0; m < 35; ++m) rmd_cost[m] = kInf;
    score(0);
    score(1);
    for (int m = 2; m < 35; m += 2) score(m);
    int coarse[35];
    const int n_coarse = n;
    std::copy(order, order + n, coarse);
    for (int i = 0; i < n_coarse; ++i) {
      const int m = coarse[i];
      if (m < 2) continue;
      if (m > 2 && rmd_cost[m - 1] == kInf) score(m - 1);
      if (m < 34 && rmd_cost[m + 1] == kInf) score(m + 1);
    }
    // Fewer modes scored than candidates asked for: the others follow (cost kInf, by mode).
    for (int m = 0; n < ncand && m < 35; ++m)
      if (rmd_cost[m] == kInf) order[n++] = m;
  } else {
    for (int m = 0; m < 35; ++m) score(m);
  }
  std::copy(order, order + ncand, out);
}

double IntraSearch::luma_pu(int xp, int yp, int log2p, int log2cu, int part, ContextSet& ctx,
                            uint64_t& res_bits) {
  const int log2t = std::min(log2p, sps_.max_tb_log2());
  const int depth_t = log2cu - log2t;
  const int np = 1 << log2p, nt = 1 << log2t;
  const bool ts_allowed = pps_.transform_skip && (!cfg_.transform_skip_fast || part == 3);
  // Reference samples of the PU's first transform block, for the rough decision and for the
  // first block of every full-RD trial.
  set_first_refs(0, xp, yp, log2t);
  int mpm[3];
  {
    ContextSet c = ctx;
    CabacCounter cnt;
    Counter coder(cnt, c, sink_, st_);
    coder.derive_mpm(xp, yp, mpm);
  }
  const uint8_t prev = ctx.s[kCtxPrevIntraLuma];
  const int ncand = std::min(
      35, log2p == 2 ? cfg_.rmd_candidates_4x4
                     : (log2p == 3 ? cfg_.rmd_candidates_small : cfg_.rmd_candidates_large));
  int cands[35 + 3];
  rough_decision(cands, xp, yp, log2t, ncand, prev, mpm);
  int n_cands = ncand;
  for (int m : mpm)
    if (std::find(cands, cands + n_cands, m) == cands + n_cands) cands[n_cands++] = m;
  // Full RD of each candidate at one transform level.
  double best = kInf;
  int best_mode = cands[0];
  // The winner's trial is also the residual quadtree's unsplit level (or, where only the final
  // coding tries transform skip, its regular half) when the PU is one transform block; it is
  // kept and reused there.
  const bool keep_trial = np == nt && cfg_.reuse_trials;
  trial_.valid = false;
  // Over flat references every mode predicts the same block: a candidate with the scan of one
  // already coded has that one's block cost (a twin that would win is coded in full).
  const bool flat = np == nt && cfg_.exact_shortcuts && flat_refs(first_[0].raw);
  double flat_cost[3] = {-1, -1, -1};  // per scan order
  if (n_cands > 1) {
    candidates_ = true;
    for (int ci = 0; ci < n_cands; ++ci) {
      const int mode = cands[ci];
      const double mode_cost = pic_.rd.bits_cost(intra_mode_bits(prev, mpm, mode));
      const int scan = scan_idx_for(log2t, 0, mode);
      if (flat && flat_cost[scan] >= 0 && !(mode_cost + flat_cost[scan] < best)) continue;
      pic_.info.for_each(xp, yp, np, np,
                         [&](BlockInfo& bi) { bi.intra_mode = static_cast<uint8_t>(mode); });
      ContextSet c = ctx;
      double cost = mode_cost;
      uint64_t rb = 0;
      for (int y = 0; y < np && cost < best; y += nt)
        for (int x = 0; x < np && cost < best; x += nt) {
          const double tb = code_luma_tb(xp + x, yp + y, log2t, depth_t, mode, ts_allowed, c, rb,
                                         trial_bound(cost, best));
          if (flat && tb < kInf) flat_cost[scan] = tb;
          cost += tb;
        }
      if (cost < best) {
        best = cost;
        best_mode = mode;
        if (keep_trial) {
          trial_.area->save(pic_, xp, yp, np, 0, 1);
          trial_.ctx = c;
          trial_.cost = cost - mode_cost;
          trial_.res_bits = rb;
          trial_.tried_ts = ts_allowed && log2t == 2 && !cfg_.transform_skip_final_only;
          trial_.valid = true;
        }
      }
    }
    candidates_ = false;
  }
  // The winner with the full residual quadtree.
  pic_.info.for_each(xp, yp, np, np,
                     [&](BlockInfo& bi) { bi.intra_mode = static_cast<uint8_t>(best_mode); });
  ContextSet c = ctx;
  double total = pic_.rd.bits_cost(intra_mode_bits(prev, mpm, best_mode));
  res_bits = 0;
  for (int y = 0; y < np; y += nt)
    for (int x = 0; x < np; x += nt) {
      uint64_t rb;
      total += rqt_luma(xp + x, yp + y, log2t, depth_t, best_mode, ts_allowed, c, rb);
      res_bits += rb;
    }
  first_[0].valid = false;
  trial_.valid = false;
  ctx = c;
  return total;
}

double IntraSearch::rqt_luma(int x, int y, int log2t, int depth, int mode, bool ts_allowed,
                             ContextSet& ctx, uint64_t& res_bits, Bound parent) {
  const BlockInfo& bi = pic_.info.blk(x, y);
  const bool intra_split = bi.part_mode == 3;
  const int max_depth = sps_.max_th_depth_intra + (intra_split ? 1 : 0);
  const bool flag_coded = log2t <= sps_.max_tb_log2() && log2t > sps_.min_tb_log2() &&
                          depth < max_depth && !(intra_split && depth == 0);
  const bool can_stop = log2t <= sps_.max_tb_log2() && !(intra_split && depth == 0);
  const bool can_split = flag_coded || log2t > sps_.max_tb_log2() || (intra_split && depth == 0);
  const ContextSet in = ctx;
  double best = kInf;
  Area* store = tu_store_[log2t].get();
  if (can_stop) {
    // The block first, then its split flag (0): the flag has a context of its own, so the order
    // changes no cost, and the block sees the contexts the PU's full-RD trials saw.
    ContextSet c = in;
    uint64_t rb;
    // A block that makes the parent's split lose needs no exact cost (as below); unless its cbf
    // decides whether the split is tried.
    const bool may_lose = !(can_split && cfg_.skip_tu_split_if_no_residual) && cfg_.exact_shortcuts;
    double cost =
        code_luma_tb(x, y, log2t, depth, mode, ts_allowed, c, rb, may_lose ? parent : Bound{});
    if (flag_coded) {
      uint8_t& split = c.s[kCtxSplitTransform + 5 - log2t];
      cost += pic_.rd.bits_cost(bin_cost(split, 0));
      split = next_state(split, 0);
    }
    best = cost;
    ctx = c;
    res_bits = rb;
    if (can_split && cfg_.skip_tu_split_if_no_residual && flag_coded &&
        !(pic_.info.blk(x, y).flags & kBfCbfY))
      return best;
    if (can_split) store->save(pic_, x, y, 1 << log2t, 0, 1);
  }
  if (can_split) {
    ContextSet c = in;
    double cost = 0;
    if (flag_coded) {
      cost += pic_.rd.bits_cost(bin_cost(c.s[kCtxSplitTransform + 5 - log2t], 1));
      c.s[kCtxSplitTransform + 5 - log2t] = next_state(c.s[kCtxSplitTransform + 5 - log2t], 1);
    }
    uint64_t rb_sum = 0;
    const int h = 1 << (log2t - 1);
    // As in compress_cu: once the unsplit block and the split so far both make the parent's
    // split lose, the rest is not tried and the parent puts its unsplit block back.
    const bool whole_lost = parent.lost(best);
    for (int k = 0; k < 4 && cost < best; ++k) {
      if (whole_lost && parent.lost(cost)) {
        res_bits = 0;
        return kInf;
      }
      uint64_t rb;
      cost += rqt_luma(x + (k & 1) * h, y + (k >> 1) * h, log2t - 1, depth + 1, mode, ts_allowed, c,
                       rb, trial_bound(cost, best));
      rb_sum += rb;
    }
    if (cost < best) {
      best = cost;
      ctx = c;
      res_bits = rb_sum;
    } else if (can_stop) {
      store->restore(pic_);
    }
  }
  return best;
}

double IntraSearch::code_luma_tb(int x, int y, int log2t, int depth, int mode, bool ts_allowed,
                                 ContextSet& ctx, uint64_t& res_bits, Bound bound) {
  const int n = 1 << log2t;
  const bool try_ts = ts_allowed && log2t == 2 && !(candidates_ && cfg_.transform_skip_final_only);
  const int cbf_ctx = kCtxCbfLuma + (depth == 0 ? 1 : 0);
  // The PU's winning full-RD trial is this block coded from the same contexts: it stands for
  // the whole coding when it tried the same transforms, else for the regular transform.
  const bool reuse = !candidates_ && trial_.valid && first_[0].holds(x, y, log2t);
  if (reuse) {
    trial_.valid = false;
    trial_.area->restore(pic_);
    if (trial_.tried_ts == try_ts) {
      ctx = trial_.ctx;
      res_bits = trial_.res_bits;
      return trial_.cost;
    }
  }
  double best = kInf;
  int best_ts = 0;
  // The contexts after each trial: storage only, each copied in when its trial counts (a
  // ContextSet constructed by default would be zeroed first).
  alignas(ContextSet) unsigned char trial_ctx[2][sizeof(ContextSet)];
  const ContextSet* best_ctx = &ctx;
  uint64_t best_rb = 0;
  Keep4x4 regular;
  int regular_nz = 0;
  for (int ts = 0; ts <= (try_ts ? 1 : 0); ++ts) {
    int nz = 0;
    uint64_t rb = 0;
    const ContextSet* c = nullptr;
    double cost;
    if (reuse && !ts) {
      nz = (pic_.info.blk(x, y).flags & kBfCbfY) != 0;
      rb = trial_.res_bits;
      c = &trial_.ctx;
      cost = trial_.cost;
    } else {
      int last = -1;
      const uint64_t d = encode_block(0, x, y, log2t, mode, ts != 0, ctx, cbf_ctx, nz, &last);
      // (encode_block reads no block flags: they are set once it knows the cbf.)
      pic_.info.for_each(x, y, n, n, [&](BlockInfo& bi) {
        bi.tu_log2 = static_cast<uint8_t>(log2t);
        bi.flags = static_cast<uint8_t>((bi.flags & ~(kBfCbfY | kBfTskipY)) | (ts ? kBfTskipY : 0) |
                                        (nz ? kBfCbfY : 0));
      });
      if (ts && !nz) break;  // transform skip without coefficients is the same block
      if (bound.lost(static_cast<double>(d))) {
        // Its distortion alone loses: its bits are not counted (nor its contexts kept).
        cost = kInf;
      } else {
        ContextSet* t = new (trial_ctx[ts]) ContextSet(ctx);
        cost = static_cast<double>(d) +
               pic_.rd.bits_cost(luma_tb_bits(*t, x, y, log2t, depth, last, rb));
        c = t;
      }
    }
    if (try_ts && !ts) {
      regular.save(pic_, 0, x, y);
      regular_nz = nz;
    }
    if (cost < best) {
      best = cost;
      best_ts = ts;
      best_ctx = c;
      best_rb = rb;
    }
  }
  if (try_ts && best_ts == 0 && (pic_.info.blk(x, y).flags & kBfTskipY)) {
    // The transform-skip trial was last; put the better regular block back.
    regular.restore(pic_, 0, x, y);
    pic_.info.for_each(x, y, n, n, [&](BlockInfo& bi) {
      bi.flags = static_cast<uint8_t>(bi.flags & ~(kBfCbfY | kBfTskipY));
      if (regular_nz) bi.flags |= kBfCbfY;
    });
  }
  if (best_ctx != &ctx) ctx = *best_ctx;
  res_bits = best_rb;
  return best;
}

void IntraSearch::set_first_refs(int cidx, int x, int y, int log2) {
  FirstRefs& f = first_[cidx];
  IntraContext ic{&pic_.rec.planes[cidx], &pic_.info, false};
  intra_build_refs(ic, cidx, x, y, log2, f.raw);
  f.smoothed = &intra_filter_refs(f.raw, cidx, 0, sps_.strong_intra_smoothing != 0, f.filt);
  f.x = x;
  f.y = y;
  f.log2 = log2;
  f.valid = true;
}

// Inline: called once, in code_luma_tb's hot path.
inline uint64_t IntraSearch::luma_tb_bits(ContextSet& ctx, int x, int y, int log2t, int depth,
                                          int last, uint64_t& res_bits) {
  CabacCounter cnt;
  Counter coder(cnt, ctx, sink_, st_);
  const BlockInfo& bi = pic_.info.blk(x, y);
  const bool cbf = (bi.flags & kBfCbfY) != 0;
  cnt.bin(ctx.s[kCtxCbfLuma + (depth == 0 ? 1 : 0)], cbf);
  const uint64_t cbf_bits = cnt.bits();
  if (cbf) {
    TbInfo tb;
    tb.cidx = 0;
    tb.x = x;
    tb.y = y;
    tb.log2n = log2t;
    tb.cbf = true;
    tb.intra_mode = bi.intra_mode;
    tb.last = last;
    coder.residual_coding(tb);
  }
  res_bits = cnt.bits() - cbf_bits;
  return cnt.bits();
}

uint64_t IntraSearch::encode_block(int cidx, int x, int y, int log2n, int mode, bool tskip,
                                   const ContextSet& ctx, int cbf_ctx, int& nonzero, int* last) {
  const int n = 1 << log2n;
  Plane& rec = pic_.rec.planes[cidx];
  const Plane& src = pic_.src.planes[cidx];
  Pel* dst = &rec.at(x, y);
  if (first_[cidx].holds(x, y, log2n)) {
    intra_pred(first_[cidx].for_mode(cidx, mode), cidx, mode, dst, rec.stride);
  } else {
    IntraContext ic{&rec, &pic_.info, false};
    intra_predict_block(ic, cidx, x, y, log2n, mode, sps_.strong_intra_smoothing != 0, dst,
                        rec.stride);
  }
  alignas(16) int16_t res[32 * 32], coef[32 * 32], lv[32 * 32];
  residual_block(src.row(y) + x, src.stride, dst, rec.stride, res, n);
  const bool dst_tr = cidx == 0 && log2n == 2;
  if (tskip)
    forward_transform_skip(res, coef, log2n);
  else
    forward_transform(res, coef, log2n, dst_tr);
  QuantJob job;
  job.coef = coef;
  job.log2n = log2n;
  job.cidx = cidx;
  job.qp = pic_.qp_c[cidx];
  job.scan_idx = scan_idx_for(log2n, cidx, mode);
  job.intra = true;
  job.sign_hide = pps_.sign_data_hiding != 0;
  job.rdoq = cfg_.rdoq && (!tskip || cfg_.rdoq_ts);
  job.lambda = pic_.rd.lambda / pic_.rd.chroma_weight[cidx];
  job.ctx = &ctx;
  job.cbf_ctx = cbf_ctx;
  const QuantResult q = quantize(job, lv);
  nonzero = q.nonzero;
  if (last) *last = q.last;
  copy_block(pic_.coef_at(cidx, x, y), pic_.coef_stride(cidx), lv, n, log2n);
  if (nonzero) {
    dequantize(lv, log2n, pic_.qp_c[cidx], nullptr, q.max_x, q.max_y);
    if (tskip)
      inverse_transform_skip(lv, log2n);
    else
      inverse_transform(lv, log2n, dst_tr, q.max_x, q.max_y);
    add_residual(dst, rec.stride, lv, n);
  }
  return sse_block(src.row(y) + x, src.stride, dst, rec.stride, n, n);
}

uint64_t IntraSearch::chroma_tb(int cidx, int xc, int yc, int log2c, int mode, bool ts_allowed,
                                const ContextSet& ctx) {
  const int n = 1 << log2c;
  const uint8_t cbf_flag = cidx == 1 ? kBfCbfCb : kBfCbfCr;
  const uint8_t ts_bit = static_cast<uint8_t>(1 << (cidx - 1));
  const bool try_ts = ts_allowed && log2c == 2;
  auto set_flags = [&](bool cbf, bool ts) {
    pic_.info.for_each(xc << 1, yc << 1, n << 1, n << 1, [&](BlockInfo& bi) {
      bi.flags = static_cast<uint8_t>(cbf ? (bi.flags | cbf_flag) : (bi.flags & ~cbf_flag));
      bi.tskip_c = static_cast<uint8_t>(ts ? (bi.tskip_c | ts_bit) : (bi.tskip_c & ~ts_bit));
    });
  };
  int nz = 0;
  uint64_t d = chroma_block(cidx, xc, yc, log2c, mode, ctx, nz);
  set_flags(nz != 0, false);
  if (!try_ts || !nz) return d;
  auto tb_cost = [&](uint64_t dist, bool cbf) {
    double bits = 0;
    if (cbf) {
      ContextSet c = ctx;
      CabacCounter cnt;
      Counter coder(cnt, c, sink_, st_);
      TbInfo tb;
      tb.cidx = cidx;
      tb.x = xc;
      tb.y = yc;
      tb.log2n = log2c;
      tb.cbf = true;
      tb.intra_mode = mode;
      coder.residual_coding(tb);
      bits = static_cast<double>(cnt.bits());
    }
    return pic_.rd.chroma_weight[cidx] * static_cast<double>(dist) +
           pic_.rd.lambda * bits / kBitScale;
  };
  const double cost_regular = tb_cost(d, true);
  Keep4x4 regular;
  regular.save(pic_, cidx, xc, yc);
  int nz_ts = 0;
  const uint64_t d_ts = encode_block(cidx, xc, yc, log2c, mode, true, ctx, -1, nz_ts);
  set_flags(nz_ts != 0, nz_ts != 0);
  if (nz_ts && tb_cost(d_ts, true) < cost_regular) return d_ts;
  regular.restore(pic_, cidx, xc, yc);
  set_flags(true, false);
  return d;
}

uint64_t IntraSearch::chroma_block(int cidx, int xc, int yc, int log2c, int mode,
                                   const ContextSet& ctx, int& nonzero) {
  auto rows = [&](auto&& copy) {
    Plane& pl = pic_.rec.planes[cidx];
    int16_t* c = pic_.coef_at(cidx, xc, yc);
    for (int j = 0; j < 4; ++j) copy(pl.row(yc + j) + xc, c + j * pic_.coef_stride(cidx), j);
  };
  if (keep_chroma_ == KeepChroma::kReuse && log2c == 2) {
    for (int k = 0; k < n_chroma_kept_; ++k) {
      const ChromaKept& b = chroma_kept_[k];
      if (b.cidx != cidx || b.mode != mode) continue;
      rows([&](Pel* rec, int16_t* coef, int j) {
        std::memcpy(rec, b.rec + 4 * j, 4);
        std::memcpy(coef, b.coef + 4 * j, sizeof(int16_t) * 4);
      });
      nonzero = b.nonzero;
      return b.dist;
    }
  }
  const uint64_t d = encode_block(cidx, xc, yc, log2c, mode, false, ctx, -1, nonzero);
  if (keep_chroma_ == KeepChroma::kFill && log2c == 2 && n_chroma_kept_ < 10) {
    ChromaKept& b = chroma_kept_[n_chroma_kept_++];
    b.cidx = cidx;
    b.mode = mode;
    b.nonzero = nonzero;
    b.dist = d;
    rows([&](const Pel* rec, const int16_t* coef, int j) {
      std::memcpy(b.rec + 4 * j, rec, 4);
      std::memcpy(b.coef + 4 * j, coef, sizeof(int16_t) * 4);
    });
  }
  return d;
}

int IntraSearch::preselect_chroma(int x0, int y0, int log2cu, int* cands, int keep) {
  // Rough chroma decision: SATD of a CU-sized prediction per candidate; DM is always kept.
  const BlockInfo& cu = pic_.info.blk(x0, y0);
  const int log2c = std::min(log2cu - 1, 5);
  const int n = 1 << log2c;
  double cost[5];
  alignas(16) Pel pred[32 * 32];
  // The references do not depend on the mode (chroma samples are never smoothed).
  IntraRefs refs[2];
  for (int c = 1; c < 3; ++c) {
    IntraContext ic{&pic_.rec.planes[c], &pic_.info, false};
    intra_build_refs(ic, c, x0 >> 1, y0 >> 1, log2c, refs[c - 1]);
  }
  for (int i = 0; i < 5; ++i) {
    const int mode = chroma_mode_from_syntax(cands[i], cu.intra_mode);
    cost[i] = 0;
    for (int c = 1; c < 3; ++c) {
      intra_pred(refs[c - 1], c, mode, pred, n);
      const Plane& src = pic_.src.planes[c];
      cost[i] += pic_.rd.chroma_weight[c] *
                 satd_block(src.row(y0 >> 1) + (x0 >> 1), src.stride, pred, n, n);
    }
    cost[i] += pic_.rd.sqrt_lambda * (cands[i] == 4 ? 1 : 3);
  }
  int order[5] = {0, 1, 2, 3, 4};
  std::sort(order + 1, order + 5, [&](int a, int b) { return cost[a] < cost[b]; });
  int out[5];
  for (int i = 0; i < 5; ++i) out[i] = cands[order[i]];
  std::copy(out, out + 5, cands);
  return std::max(1, std::min(keep, 5));
}

void IntraSearch::code_chroma(int x0, int y0, int log2cu, int part, const ContextSet& ctx,
                              uint64_t* sse) {
  const BlockInfo& cu = pic_.info.blk(x0, y0);
  const int mode = chroma_mode_from_syntax(cu.chroma_syntax, cu.intra_mode);
  const bool ts_allowed = pps_.transform_skip && (!cfg_.transform_skip_fast || part == 3);
  sse[0] = sse[1] = 0;
  // Walk the luma transform tree; chroma blocks sit at leaves of 8x8 and larger, and at the
  // 8x8 node above four 4x4 luma blocks.
  auto walk = [&](auto&& self, int x, int y, int log2t) -> void {
    const BlockInfo& b = pic_.info.blk(x, y);
    if (b.tu_log2 < log2t && log2t > 3) {
      const int h = 1 << (log2t - 1);
      for (int k = 0; k < 4; ++k) self(self, x + (k & 1) * h, y + (k >> 1) * h, log2t - 1);
      return;
    }
    for (int c = 1; c < 3; ++c)
      sse[c - 1] += chroma_tb(c, x >> 1, y >> 1, log2t - 1, mode, ts_allowed, ctx);
  };
  walk(walk, x0, y0, log2cu);
}

}  // namespace hevc
