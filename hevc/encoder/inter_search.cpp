#include "inter_search.h"

#include <algorithm>
#include <cstring>

#include "../inter_pred.h"
#include "../transform.h"
#include "quant.h"

namespace hevc {

namespace {

// Bits of ref_idx with `n` references (truncated rice, two contexts then bypass).
int ref_idx_bits(int idx, int n) {
  if (n <= 1) return 0;
  return std::min(idx + 1, n - 1);
}

}  // namespace

InterSearch::InterSearch(EncPicture& pic, SliceState& st)
    : pic_(pic), st_(st), sps_(*pic.sps), cfg_(*pic.cfg), sink_{pic, {}}, me_(pic, *pic.cfg) {
  pred_.alloc(pic.rec.planes[0].width, pic.rec.planes[0].height);
  for (int i = 0; i < 8; ++i) best_store_.push_back(std::make_unique<SavedArea>());
  for (int i = 0; i < 7; ++i) rqt_store_.push_back(std::make_unique<SavedArea>());
}

InterSearch::~InterSearch() = default;

int InterSearch::tu_log2(int log2, int part, int depth) const {
  // The smallest depth: transform blocks no larger than the largest, and interSplitFlag
  // (7.4.9.8) splitting the CU of a partition once when no depth may be coded.
  int lo = std::max(0, log2 - sps_.max_tb_log2());
  if (sps_.max_th_depth_inter == 0 && part != kPart2Nx2N) lo = std::max(lo, 1);
  const int hi = std::max<int>(lo, sps_.max_th_depth_inter);
  return std::max(log2 - std::clamp(depth + lo, lo, hi), sps_.min_tb_log2());
}

double InterSearch::code_residual(int x0, int y0, int log2, int tlog2, const ContextSet& ctx,
                                  int depth) {
  if (depth < 0) depth = log2 - tlog2;
  const int n = 1 << tlog2, size = 1 << log2;
  // 4x4 luma blocks share their 8x8 parent's 4x4 chroma blocks.
  const int nc = std::max(n, 8);
  double dist = 0;
  for (int c = 0; c < 3; ++c) {
    const int step = c ? nc : n;
    for (int ty = y0; ty < y0 + size; ty += step)
      for (int tx = x0; tx < x0 + size; tx += step) {
        const int sh = c ? 1 : 0, l2 = (c ? std::max(tlog2, 3) : tlog2) - sh, bn = 1 << l2;
        const int x = tx >> sh, y = ty >> sh;
        Plane& rec = pic_.rec.planes[c];
        const Plane& src = pic_.src.planes[c];
        Pel* dst = &rec.at(x, y);
        alignas(16) int16_t res[32 * 32], coef[32 * 32], lv[32 * 32];
        residual_block(src.row(y) + x, src.stride, dst, rec.stride, res, bn);
        forward_transform(res, coef, l2, false);
        QuantJob job;
        job.coef = coef;
        job.log2n = l2;
        job.cidx = c;
        job.qp = pic_.qp_c[c];
        job.scan_idx = 0;
        job.intra = false;
        job.sign_hide = pic_.pps->sign_data_hiding != 0;
        job.rdoq = cfg_.rdoq;
        job.lambda = pic_.rd.lambda / pic_.rd.chroma_weight[c];
        job.ctx = &ctx;
        // RDOQ weighs the block's cbf; 4x4 chroma blocks of 4x4 luma ones are their parent's.
        job.cbf_ctx = c ? kCtxCbfChroma + (tlog2 == 2 ? depth - 1 : depth)
                        : kCtxCbfLuma + (depth == 0 ? 1 : 0);
        const QuantResult q = quantize(job, lv);
        copy_block(pic_.coef_at(c, x, y), pic_.coef_stride(c), lv, bn, l2);
        if (q.nonzero) {
          dequantize(lv, l2, pic_.qp_c[c], nullptr, q.max_x, q.max_y);
          inverse_transform(lv, l2, false, q.max_x, q.max_y);
          add_residual(dst, rec.stride, lv, bn);
        }
        dist += pic_.rd.chroma_weight[c] *
                static_cast<double>(sse_block(src.row(y) + x, src.stride, dst, rec.stride, bn, bn));
        const uint8_t flag = c == 0 ? kBfCbfY : (c == 1 ? kBfCbfCb : kBfCbfCr);
        const uint8_t l = static_cast<uint8_t>(tlog2);
        pic_.info.for_each(tx, ty, step, step, [&](BlockInfo& b) {
          b.tu_log2 = l;
          b.flags = static_cast<uint8_t>(q.nonzero ? b.flags | flag : b.flags & ~flag);
        });
      }
  }
  return dist;
}

double InterSearch::area_dist(int x, int y, int size) const {
  double dist = 0;
  for (int c = 0; c < 3; ++c) {
    const int sh = c ? 1 : 0, n = size >> sh, xc = x >> sh, yc = y >> sh;
    const Plane& src = pic_.src.planes[c];
    const Plane& rec = pic_.rec.planes[c];
    dist += pic_.rd.chroma_weight[c] *
            static_cast<double>(
                sse_block(src.row(yc) + xc, src.stride, rec.row(yc) + xc, rec.stride, n, n));
  }
  return dist;
}

void InterSearch::reset_to_pred(int x, int y, int size) {
  for (int c = 0; c < 3; ++c) {
    const int sh = c ? 1 : 0, n = size >> sh, xc = x >> sh, yc = y >> sh;
    copy_rows(pic_.rec.planes[c].row(yc) + xc, pic_.rec.planes[c].stride,
              pred_.planes[c].row(yc) + xc, pred_.planes[c].stride, n, n);
  }
}

uint64_t InterSearch::tree_bits(int x, int y, int log2, int depth, ContextSet& ctx) {
  CabacCounter cnt;
  Counter coder(cnt, ctx, sink_, st_);
  // A node below the root codes its chroma cbf only where its parent's is set: assumed set.
  coder.transform_tree(x, y, x, y, log2, depth, 0, sps_.max_th_depth_inter, false, true, true,
                       false);
  return cnt.bits();
}

double InterSearch::rqt(int x, int y, int log2, int depth, ContextSet& ctx) {
  const int size = 1 << log2;
  const bool must_split = log2 > sps_.max_tb_log2();
  const bool may_split =
      must_split || (log2 > sps_.min_tb_log2() && depth < sps_.max_th_depth_inter);
  const ContextSet in = ctx;
  double best = kInf;
  SavedArea& store = *rqt_store_[log2];
  if (!must_split) {
    ContextSet c = in;
    const double d = code_residual(x, y, log2, log2, c, depth);
    best = d + pic_.rd.bits_cost(tree_bits(x, y, log2, depth, c));
    ctx = c;
    if (!may_split) return best;
    store.save(pic_, x, y, size);
  }
  reset_to_pred(x, y, size);
  ContextSet c = in;
  if (log2 == 3) {
    // Four 4x4 luma blocks; the chroma stays one 4x4 block per component (7.3.8.10).
    code_residual(x, y, 3, 2, c, depth + 1);
  } else {
    const int h = size >> 1;
    for (int k = 0; k < 4; ++k) rqt(x + (k & 1) * h, y + (k >> 1) * h, log2 - 1, depth + 1, c);
  }
  c = in;
  const double split = area_dist(x, y, size) + pic_.rd.bits_cost(tree_bits(x, y, log2, depth, c));
  if (split < best) {
    ctx = c;
    return split;
  }
  store.restore(pic_);
  return best;
}

void InterSearch::predict_placed(const CuSite& cu, int part) {
  const int size = 1 << cu.log2;
  int pbs[4][4];
  const int n = prediction_blocks(part, size, pbs);
  for (int k = 0; k < n; ++k) {
    const int x = cu.x0 + pbs[k][0], y = cu.y0 + pbs[k][1];
    const MvField& m = pic_.motion.at(x, y);
    const Frame* ref[2] = {nullptr, nullptr};
    for (int l = 0; l < 2; ++l)
      if (m.pred(l)) ref[l] = pic_.ref_frame(l, m.ref_idx[l]);
    predict_inter(ref, m, x, y, pbs[k][2], pbs[k][3], pic_.weights, pred_);
  }
}

void InterSearch::place_pu(const PbPos& pb, const MvField& m, const PuSyntax& s) {
  pic_.motion.fill(pb.x, pb.y, pb.w, pb.h, m);
  pic_.fill_pu(pb.x, pb.y, pb.w, pb.h, s);
  const Frame* ref[2] = {nullptr, nullptr};
  for (int l = 0; l < 2; ++l)
    if (m.pred(l)) ref[l] = pic_.ref_frame(l, m.ref_idx[l]);
  predict_inter(ref, m, pb.x, pb.y, pb.w, pb.h, pic_.weights, pred_);
}

double InterSearch::code_placed(const CuSite& cu, int part, bool residual, ContextSet& ctx,
                                int tu_depth) {
  const int x0 = cu.x0, y0 = cu.y0, size = 1 << cu.log2;
  const bool merge = pic_.pu_at(x0, y0).merge_flag != 0 && part == kPart2Nx2N;
  pic_.info.for_each(x0, y0, size, size, [&](BlockInfo& b) {
    b.tu_log2 = static_cast<uint8_t>(cu.log2);
    b.pred_mode = static_cast<uint8_t>(PredMode::Inter);
    b.part_mode = static_cast<uint8_t>(part);
    b.flags = static_cast<uint8_t>(b.flags & ~(kBfCbfY | kBfCbfCb | kBfCbfCr));
  });
  for (int c = 0; c < 3; ++c) {
    const int sh = c ? 1 : 0, n = size >> sh, x = x0 >> sh, y = y0 >> sh;
    copy_rows(pic_.rec.planes[c].row(y) + x, pic_.rec.planes[c].stride, pred_.planes[c].row(y) + x,
              pred_.planes[c].stride, n, n);
  }
  double dist = 0;
  bool skip = merge && !residual;
  if (residual) {
    // With inter transform depths to choose, every trial searches its residual quadtree.
    if (tu_depth == 0 && sps_.max_th_depth_inter > 0) {
      ContextSet c = ctx;  // the contexts the decisions see; the CU is counted below from ctx
      rqt(x0, y0, cu.log2, 0, c);
      dist = area_dist(x0, y0, size);
    } else {
      dist = code_residual(x0, y0, cu.log2, tu_log2(cu.log2, part, tu_depth), ctx);
    }
    // A 2Nx2N merge CU without residual is coded as a skip CU (rqt_root_cbf is inferred 1).
    if (merge && !area_has(pic_.info, x0, y0, size, kBfCbfY | kBfCbfCb | kBfCbfCr)) skip = true;
  } else {
    dist = area_dist(x0, y0, size);
  }
  if (skip)
    pic_.info.for_each(x0, y0, size, size,
                       [&](BlockInfo& bi) { bi.pred_mode = static_cast<uint8_t>(PredMode::Skip); });
  CabacCounter cnt;
  Counter coder(cnt, ctx, sink_, st_);
  if (cu.log2 > sps_.min_cb_log2()) coder.split_cu_flag(x0, y0, cu.depth, 0);
  coder.coding_unit(x0, y0, cu.log2);
  return dist + pic_.rd.bits_cost(cnt.bits());
}

bool InterSearch::amvp_motion(const PbPos& pb, MvField& m, PuSyntax& s, double& cost) {
  const bool b_slice = pic_.type == SliceType::B;
  MeResult uni[2][16];
  int best_ref[2] = {-1, -1};
  for (int l = 0; l < (b_slice ? 2 : 1); ++l) {
    const int n = pic_.refs.num[l];
    for (int r = 0; r < n; ++r) {
      // inter_pred_idc costs about a bit in B slices.
      uni[l][r] = me_.search(pb, l, r, ref_idx_bits(r, n) + (b_slice ? 1 : 0));
      if (best_ref[l] < 0 || uni[l][r].cost < uni[l][best_ref[l]].cost) best_ref[l] = r;
    }
  }
  if (best_ref[0] < 0 && best_ref[1] < 0) return false;
  int choice =
      best_ref[1] < 0 || (best_ref[0] >= 0 && uni[0][best_ref[0]].cost <= uni[1][best_ref[1]].cost)
          ? 0
          : 1;
  MeResult best[2];
  for (int l = 0; l < 2; ++l)
    if (best_ref[l] >= 0) best[l] = uni[l][best_ref[l]];
  cost = best[choice].cost;
  m = MvField{};
  s = PuSyntax{};
  // 8x4 and 4x8 blocks are not bi-predicted (inter_pred_idc cannot say so).
  if (b_slice && best_ref[0] >= 0 && best_ref[1] >= 0 && pb.w + pb.h != 12) {
    MvField bi;
    MeResult both[2] = {best[0], best[1]};
    for (int l = 0; l < 2; ++l) {
      bi.ref_idx[l] = static_cast<int8_t>(best_ref[l]);
      bi.mv[l] = best[l].mv;
    }
    double bc = me_.bi_cost(pb, bi) + pic_.rd.sqrt_lambda * (best[0].bits + best[1].bits);
    // Iterative refinement (as the reference encoder): one list's motion searched again, every
    // reference of it, for the bi-prediction with the other list's kept; the lists alternate
    // while that gains, up to four times.
    const int first = best[0].cost <= best[1].cost ? 1 : 0;  // the worse list first
    for (int iter = 0; iter < 4 && cfg_.bipred_search_range > 0; ++iter) {
      const int l = first ^ (iter & 1);
      const int n = pic_.refs.num[l];
      Mv starts[16];
      int bits[16];
      for (int r = 0; r < n; ++r) {
        starts[r] = r == bi.ref_idx[l] ? bi.mv[l] : uni[l][r].mv;
        bits[r] = ref_idx_bits(r, n) + 1;
      }
      int r = -1;
      const MeResult res = me_.refine_bi(pb, l, n, starts, bits, bi, r);
      const double c = res.dist + pic_.rd.sqrt_lambda * (res.bits + both[l ^ 1].bits);
      if (r < 0 || c >= bc) break;
      bc = c;
      both[l] = res;
      bi.ref_idx[l] = static_cast<int8_t>(r);
      bi.mv[l] = res.mv;
    }
    if (bc < cost) {
      choice = 2;
      cost = bc;
      for (int l = 0; l < 2; ++l) {
        best[l] = both[l];
        best_ref[l] = bi.ref_idx[l];
      }
    }
  }
  s.inter_pred_idc = static_cast<uint8_t>(choice);
  for (int l = 0; l < 2; ++l) {
    if (choice != 2 && choice != l) continue;
    m.ref_idx[l] = static_cast<int8_t>(best_ref[l]);
    m.mv[l] = best[l].mv;
    s.ref_idx[l] = static_cast<uint8_t>(best_ref[l]);
    s.mvp_flag[l] = static_cast<uint8_t>(best[l].mvp);
    s.mvd[l] = best[l].mvd;
  }
  bind_refs(m, pic_.refs);
  return true;
}

double InterSearch::try_partition(const CuSite& cu, int part, const ContextSet& in,
                                  ContextSet& ctx) {
  const int x0 = cu.x0, y0 = cu.y0, size = 1 << cu.log2;
  pic_.info.for_each(x0, y0, size, size, [&](BlockInfo& b) {
    b.pred_mode = static_cast<uint8_t>(PredMode::Inter);
    b.part_mode = static_cast<uint8_t>(part);
  });
  pic_.motion.fill(x0, y0, size, size, MvField{});
  int pbs[4][4];
  const int n = prediction_blocks(part, size, pbs);
  for (int k = 0; k < n; ++k) {
    const PbPos pb{x0, y0, size, x0 + pbs[k][0], y0 + pbs[k][1], pbs[k][2], pbs[k][3], k, part};
    MvField m;
    PuSyntax s;
    double cost = kInf;
    if (!amvp_motion(pb, m, s, cost)) return kInf;
    for (int i = 0; i < pic_.mvc.max_merge_cand; ++i) {
      MvField mc = merge_candidate(pic_.mvc, pb, i);
      bind_refs(mc, pic_.refs);
      const double c = me_.pred_dist(pb, mc, true) + pic_.rd.sqrt_lambda * (i + 1);
      if (c < cost) {
        cost = c;
        m = mc;
        s = PuSyntax{};
        s.merge_flag = 1;
        s.merge_idx = static_cast<uint8_t>(i);
      }
    }
    place_pu(pb, m, s);
  }
  ctx = in;
  return code_placed(cu, part, true, ctx);
}

double InterSearch::code_cu(const CuSite& cu, ContextSet& ctx, double best) {
  if (!cu.part_2nx2n || pic_.type == SliceType::I) return kInf;
  const int x0 = cu.x0, y0 = cu.y0, size = 1 << cu.log2;
  const ContextSet in = ctx;
  SavedArea& store = *best_store_[cu.depth];
  double my_best = kInf;
  ContextSet my_ctx = in;
  bool last_is_best = false, best_skip = false, best_residual = false, best_merge = false;
  auto consider = [&](double cost, const ContextSet& c) {
    last_is_best = cost < my_best;
    if (!last_is_best) return;
    my_best = cost;
    my_ctx = c;
    store.save(pic_, x0, y0, size);
    best_skip = pic_.info.blk(x0, y0).pred_mode == static_cast<uint8_t>(PredMode::Skip);
    best_merge = pic_.pu_at(x0, y0).merge_flag != 0;
    best_residual = area_has(pic_.info, x0, y0, size, kBfCbfY | kBfCbfCb | kBfCbfCr);
  };
  // The CU's own blocks must not look available to the derivation: mark it inter first (its
  // motion is written by each trial).
  BlockInfo b;
  b.cu_log2 = b.tu_log2 = static_cast<uint8_t>(cu.log2);
  b.pred_mode = static_cast<uint8_t>(PredMode::Inter);
  b.qp = static_cast<int8_t>(pic_.qp);
  pic_.info.fill(x0, y0, size, size, b);
  pic_.motion.fill(x0, y0, size, size, MvField{});
  const PbPos pb{x0, y0, size, x0, y0, size, size, 0, kPart2Nx2N};

  // Merge candidates, ranked by SATD of their prediction plus their index's bits.
  const int nmerge = pic_.mvc.max_merge_cand;
  MvField cand[5];
  double rough[5];
  int order[5];
  int ncand = 0;
  for (int i = 0; i < nmerge; ++i) {
    MvField m = merge_candidate(pic_.mvc, pb, i);
    bind_refs(m, pic_.refs);
    cand[i] = m;
    order[ncand++] = i;
    rough[i] = me_.pred_dist(pb, m, true) + pic_.rd.sqrt_lambda * (i + 1);
  }
  std::stable_sort(order, order + ncand, [&](int a, int c) { return rough[a] < rough[c]; });
  const int full = cfg_.fast_encoder ? std::min(ncand, 2) : ncand;
  bool skip_won = false;
  for (int k = 0; k < full; ++k) {
    const int i = order[k];
    PuSyntax s;
    s.merge_flag = 1;
    s.merge_idx = static_cast<uint8_t>(i);
    place_pu(pb, cand[i], s);
    // After a skip CU won, the fast merge decision tries the others as skip CUs only.
    for (int withres = skip_won && cfg_.fast_decision_merge ? 0 : 1; withres >= 0; --withres) {
      ContextSet c = in;
      const double cost = code_placed(cu, kPart2Nx2N, withres != 0, c);
      consider(cost, c);
      if (last_is_best)
        skip_won = pic_.info.blk(x0, y0).pred_mode == static_cast<uint8_t>(PredMode::Skip);
      // Its residual coded nothing: the trial without is the same skip CU.
      if (withres && pic_.info.blk(x0, y0).pred_mode == static_cast<uint8_t>(PredMode::Skip)) break;
    }
  }
  // Motion search: 2Nx2N, then the rectangular and asymmetric partitions.
  pic_.info.fill(x0, y0, size, size, b);
  pic_.motion.fill(x0, y0, size, size, MvField{});
  {
    MvField m;
    PuSyntax s;
    double est = 0;
    if (amvp_motion(pb, m, s, est)) {
      place_pu(pb, m, s);
      ContextSet c = in;
      consider(code_placed(cu, kPart2Nx2N, true, c), c);
    }
  }
  int best_part = kPart2Nx2N;
  // ESD: the 2Nx2N trials chose a skip CU; CFM: the best so far codes no residual.
  auto partitions_done = [&] {
    return my_best < kInf &&
           ((cfg_.early_skip && best_skip) || (cfg_.cbf_fast_mode && !best_residual));
  };
  auto try_part = [&](int part) {
    if (partitions_done()) return;
    ContextSet c = in;
    const double cost = try_partition(cu, part, in, c);
    consider(cost, c);
    if (last_is_best) best_part = part;
  };
  try_part(kPart2NxN);
  try_part(kPartNx2N);
  if (sps_.amp && cu.log2 > sps_.min_cb_log2()) {
    // With FEN (as the reference encoder): the shapes of the better rectangular direction, or
    // both directions when a 2Nx2N CU with searched motion (neither merge nor skip) leads.
    const bool all = !cfg_.fast_encoder || (best_part == kPart2Nx2N && !best_merge && !best_skip);
    if (all || best_part == kPart2NxN) {
      try_part(kPart2NxnU);
      try_part(kPart2NxnD);
    }
    if (all || best_part == kPartNx2N) {
      try_part(kPartnLx2N);
      try_part(kPartnRx2N);
    }
  }
  // The winner's residual with deeper transform trees, each depth uniform over the CU: the
  // quadtree search decides on estimated bits, these are counted exactly and sometimes win.
  if (my_best < kInf) {
    if (!last_is_best) store.restore(pic_);
    last_is_best = true;
    const BlockInfo& w = pic_.info.blk(x0, y0);
    const int part = w.part_mode;
    if (w.pred_mode != static_cast<uint8_t>(PredMode::Skip) &&
        area_has(pic_.info, x0, y0, size, kBfCbfY | kBfCbfCb | kBfCbfCr)) {
      predict_placed(cu, part);
      for (int d = 1; tu_log2(cu.log2, part, d) < tu_log2(cu.log2, part, d - 1); ++d) {
        ContextSet c = in;
        consider(code_placed(cu, part, true, c, d), c);
        if (!last_is_best) {
          store.restore(pic_);
          last_is_best = true;
          break;
        }
      }
    }
  }
  if (my_best >= best) return my_best;
  if (!last_is_best) store.restore(pic_);
  ctx = my_ctx;
  return my_best;
}

}  // namespace hevc
