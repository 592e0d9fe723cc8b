// The intra search of a luma prediction unit: the rough mode decision, full RD over its
// candidates, the residual quadtree of the winner; and the block coder chroma shares.
#include <algorithm>
#include <cstring>
#include <new>

#include "../intra.h"
#include "../residual_ctx.h"
#include "../transform.h"
#include "intra_search.h"
#include "quant.h"

namespace hevc {

namespace {

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

}  // namespace

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
                                         trial_bound(cfg_, cost, best));
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
  SavedArea* store = tu_store_[log2t].get();
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
    // As in CuSearch::compress_cu: once the unsplit block and the split so far both make the
    // parent's split lose, the rest is not tried and the parent puts its unsplit block back.
    const bool whole_lost = parent.lost(best);
    for (int k = 0; k < 4 && cost < best; ++k) {
      if (whole_lost && parent.lost(cost)) {
        res_bits = 0;
        return kInf;
      }
      uint64_t rb;
      cost += rqt_luma(x + (k & 1) * h, y + (k >> 1) * h, log2t - 1, depth + 1, mode, ts_allowed, c,
                       rb, trial_bound(cfg_, cost, best));
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

}  // namespace hevc
