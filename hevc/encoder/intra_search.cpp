// The intra search at the CU: PartMode 2Nx2N against NxN, and the chroma modes over the luma
// transform tree (intra_luma.cpp decides the luma prediction units).
#include "intra_search.h"

#include <algorithm>
#include <cstring>

#include "../intra.h"
#include "../residual_ctx.h"

namespace hevc {

namespace {

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

uint32_t chroma_mode_bits(uint8_t state, int syntax) {
  return bin_cost(state, syntax != 4) + (syntax != 4 ? 2 * kBitScale : 0);
}

}  // namespace

IntraSearch::IntraSearch(EncPicture& pic, SliceState& st)
    : pic_(pic), st_(st), sps_(*pic.sps), pps_(*pic.pps), cfg_(*pic.cfg), sink_{pic, {}} {
  for (int i = 0; i < 8; ++i) {
    part_store_.push_back(std::make_unique<SavedArea>());
    tu_store_.push_back(std::make_unique<SavedArea>());
    chroma_store_.push_back(std::make_unique<SavedArea>());
  }
  trial_.area = std::make_unique<SavedArea>();
}

IntraSearch::~IntraSearch() = default;

double IntraSearch::code_cu(const CuSite& cu, ContextSet& ctx, double best) {
  const int x0 = cu.x0, y0 = cu.y0, log2 = cu.log2, depth = cu.depth, size = 1 << log2;
  const ContextSet in = ctx;
  ContextSet c = in;
  // An 8x8 CU has one 4x4 chroma block per plane, the same for 2Nx2N and NxN.
  const bool keep = cu.part_nxn && cu.part_2nx2n && log2 == 3 && cfg_.exact_shortcuts;
  n_chroma_kept_ = 0;
  if (keep) keep_chroma_ = KeepChroma::kFill;
  double cost = cu.part_2nx2n ? intra_cu(x0, y0, log2, depth, c, 0, best, cu.parent) : kInf;
  keep_chroma_ = KeepChroma::kOff;
  const bool luma_res = !cu.part_2nx2n || area_has(pic_.info, x0, y0, size, kBfCbfY);
  if (cu.part_nxn && (luma_res || !cfg_.skip_nxn_if_no_residual)) {
    part_store_[depth]->save(pic_, x0, y0, size);
    ContextSet c2 = in;
    if (keep) keep_chroma_ = KeepChroma::kReuse;
    const double cost2 = intra_cu(x0, y0, log2, depth, c2, 3, std::min(cost, best));
    keep_chroma_ = KeepChroma::kOff;
    if (cost2 < cost) {
      cost = cost2;
      c = c2;
    } else {
      part_store_[depth]->restore(pic_);
    }
  }
  // HM's xCheckIntraPCM: PCM is tried at the sizes the SPS allows, after the intra modes.
  if (sps_.pcm && cu.part_2nx2n && log2 >= sps_.pcm_min_log2() && log2 <= sps_.pcm_max_log2()) {
    part_store_[depth]->save(pic_, x0, y0, size);
    ContextSet c3 = in;
    const double cost3 = pcm_cu(x0, y0, log2, depth, c3);
    if (cost3 < cost) {
      cost = cost3;
      c = c3;
    } else {
      part_store_[depth]->restore(pic_);
    }
  }
  ctx = c;
  return cost;
}

double IntraSearch::pcm_cu(int x0, int y0, int log2, int depth, ContextSet& ctx) {
  const int size = 1 << log2;
  BlockInfo b;
  b.cu_log2 = b.tu_log2 = static_cast<uint8_t>(log2);
  b.pred_mode = static_cast<uint8_t>(PredMode::Intra);
  b.qp = static_cast<int8_t>(pic_.qp);
  b.chroma_syntax = 4;
  b.intra_mode = 1;  // what its neighbours' most probable modes see (8.4.2: DC)
  b.flags = kBfPcm;
  pic_.info.fill(x0, y0, size, size, b);
  if (pic_.type != SliceType::I) pic_.motion.fill(x0, y0, size, size, MvField{});
  for (int c = 0; c < 3; ++c) {
    const int sh = c ? 1 : 0, n = size >> sh, x = x0 >> sh, y = y0 >> sh;
    const Plane& src = pic_.src.planes[c];
    Plane& rec = pic_.rec.planes[c];
    copy_rows(rec.row(y) + x, rec.stride, src.row(y) + x, src.stride, n, n);
    for (int j = 0; j < n; ++j) std::memset(pic_.coef_at(c, x, y + j), 0, n * sizeof(int16_t));
  }
  CabacCounter cnt;
  Counter coder(cnt, ctx, sink_, st_);
  if (log2 > sps_.min_cb_log2()) coder.split_cu_flag(x0, y0, depth, 0);
  coder.coding_unit(x0, y0, log2);
  return pic_.rd.bits_cost(cnt.bits());
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
  // Intra blocks have no motion: merge and TMVP see them as unavailable.
  if (pic_.type != SliceType::I) pic_.motion.fill(x0, y0, size, size, MvField{});
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
  SavedArea* store = chroma_store_[depth].get();
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
  // The chroma cbf's context is that of its transform tree depth (4x4 blocks of 4x4 luma sit
  // at their 8x8 parent's).
  const int depth = std::max(0, pic_.info.blk(xc << 1, yc << 1).cu_log2 - 1 - log2c);
  const uint64_t d =
      encode_block(cidx, xc, yc, log2c, mode, false, ctx, kCtxCbfChroma + depth, nonzero);
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
