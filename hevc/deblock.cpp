#include "deblock.h"

#include <algorithm>
#include <cstdlib>

namespace hevc {

namespace {

const uint8_t kBeta[52] = {0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  6,  7,
                           8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30, 32,
                           34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62, 64};
const uint8_t kTc[54] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0,  0,  0,  0,  0,  0,  0,
                         1, 1, 1, 1, 1, 1, 1, 1, 1, 2,  2,  2,  2,  3,  3,  3,  3,  4,
                         4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11, 13, 14, 16, 18, 20, 22, 24};

struct Edges {
  int w8 = 0, h4 = 0;
  std::vector<uint8_t> bs;  // one entry per 4-sample edge segment on the 8x8 grid
  uint8_t& at(int x8, int y4) { return bs[static_cast<size_t>(y4) * w8 + x8]; }
};

bool no_filter_samples(const Sps& sps, const BlockInfo& b) {
  return (b.flags & kBfBypass) || ((b.flags & kBfPcm) && sps.pcm_loop_filter_disabled);
}

// Whether position `a` (x for vertical edges, y for horizontal ones) is a prediction block edge
// inside the coding unit of block q (the asymmetric and rectangular partitions, 8.7.2.3).
bool pu_edge(const BlockInfo& q, int a, bool vertical) {
  if (q.pred_mode == static_cast<uint8_t>(PredMode::Intra)) return false;  // on TU edges
  const int n = 1 << q.cu_log2, off = a & (n - 1);
  switch (q.part_mode) {
    case 1:
      return !vertical && off == n / 2;  // 2NxN
    case 2:
      return vertical && off == n / 2;  // Nx2N
    case 3:
      return off == n / 2;  // NxN
    case 4:
      return !vertical && off == n / 4;  // 2NxnU
    case 5:
      return !vertical && off == 3 * n / 4;  // 2NxnD
    case 6:
      return vertical && off == n / 4;  // nLx2N
    case 7:
      return vertical && off == 3 * n / 4;  // nRx2N
    default:
      return false;
  }
}

// Boundary strengths of all edges in one direction. For horizontal edges the roles of x and y
// are swapped by the caller through `vertical`.
void compute_bs(const DeblockParams& prm, bool vertical, Edges& e) {
  const CodingInfo& info = *prm.info;
  const PicGeometry& g = info.geo();
  const int W = g.width, H = g.height;
  // Edge positions run along the first index (x for vertical edges), segments along the second.
  const int len_a = vertical ? W : H, len_b = vertical ? H : W;
  e.w8 = (len_a + 7) / 8;
  e.h4 = (len_b + 3) / 4;
  e.bs.assign(static_cast<size_t>(e.w8) * e.h4, 0);
  for (int a = 8; a < len_a; a += 8) {
    for (int b = 0; b < len_b; b += 4) {
      const int xq = vertical ? a : b, yq = vertical ? b : a;
      const int xp = vertical ? a - 1 : b, yp = vertical ? b : a - 1;
      const BlockInfo& q = info.blk(xq, yq);
      const BlockInfo& p = info.blk(xp, yp);
      const bool tu_edge = (a & ((1 << q.tu_log2) - 1)) == 0;
      const bool cu_edge = (a & ((1 << q.cu_log2) - 1)) == 0;
      if (!tu_edge && !cu_edge && !pu_edge(q, a, vertical)) {
        // The rest of q's transform block along this line is inside it too.
        b = (((b >> q.tu_log2) + 1) << q.tu_log2) - 4;
        continue;
      }
      const int rs_q = info.ctb_rs(xq, yq), rs_p = info.ctb_rs(xp, yp);
      const SliceFilterInfo& sq = info.slice_filters_[info.ctb_filter_idx_[rs_q]];
      if (sq.deblocking_disabled) continue;
      if (rs_p != rs_q) {
        if (info.ctb_slice_[rs_p] != info.ctb_slice_[rs_q] && !sq.lf_across_slices) continue;
        if (!prm.pps->loop_filter_across_tiles && g.tile_id_rs(rs_p) != g.tile_id_rs(rs_q))
          continue;
      }
      uint8_t bs;
      if (p.pred_mode == static_cast<uint8_t>(PredMode::Intra) ||
          q.pred_mode == static_cast<uint8_t>(PredMode::Intra))
        bs = 2;
      else if (tu_edge && ((p.flags | q.flags) & kBfCbfY))
        bs = 1;
      else
        bs = prm.inter_bs ? static_cast<uint8_t>(prm.inter_bs(prm.inter_ctx, xp, yp, xq, yq)) : 0;
      e.at(a / 8, b / 4) = bs;
    }
  }
}

// Filters one 4-line luma segment. `s` points at q0 of the first line; `step` moves across the
// edge, `line` along it.
void filter_luma(Pel* s, int step, int line, int bs, int qp, int beta_off, int tc_off, bool no_p,
                 bool no_q) {
  const int qb = clip3(0, 51, qp + 2 * beta_off);
  const int beta = kBeta[qb];
  const int qt = clip3(0, 53, qp + 2 * (bs - 1) + 2 * tc_off);
  const int tc = kTc[qt];
  if (tc == 0 && beta == 0) return;
  auto P = [&](int l, int i) -> Pel& { return s[l * line - (i + 1) * step]; };
  auto Q = [&](int l, int i) -> Pel& { return s[l * line + i * step]; };
  const int dp0 = std::abs(P(0, 2) - 2 * P(0, 1) + P(0, 0));
  const int dp3 = std::abs(P(3, 2) - 2 * P(3, 1) + P(3, 0));
  const int dq0 = std::abs(Q(0, 2) - 2 * Q(0, 1) + Q(0, 0));
  const int dq3 = std::abs(Q(3, 2) - 2 * Q(3, 1) + Q(3, 0));
  const int dpq0 = dp0 + dq0, dpq3 = dp3 + dq3;
  const int d = dpq0 + dpq3;
  if (d >= beta) return;
  auto strong_line = [&](int l, int dpq) {
    return 2 * dpq < (beta >> 2) &&
           std::abs(P(l, 3) - P(l, 0)) + std::abs(Q(l, 0) - Q(l, 3)) < (beta >> 3) &&
           std::abs(P(l, 0) - Q(l, 0)) < ((5 * tc + 1) >> 1);
  };
  const bool strong = strong_line(0, dpq0) && strong_line(3, dpq3);
  const int dp = dp0 + dp3, dq = dq0 + dq3;
  const bool dep = dp < ((beta + (beta >> 1)) >> 3);
  const bool deq = dq < ((beta + (beta >> 1)) >> 3);
  for (int l = 0; l < 4; ++l) {
    const int p0 = P(l, 0), p1 = P(l, 1), p2 = P(l, 2), p3 = P(l, 3);
    const int q0 = Q(l, 0), q1 = Q(l, 1), q2 = Q(l, 2), q3 = Q(l, 3);
    if (strong) {
      const int t2 = 2 * tc;
      if (!no_p) {
        P(l, 0) = static_cast<Pel>(
            clip3(p0 - t2, p0 + t2, (p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3));
        P(l, 1) = static_cast<Pel>(clip3(p1 - t2, p1 + t2, (p2 + p1 + p0 + q0 + 2) >> 2));
        P(l, 2) =
            static_cast<Pel>(clip3(p2 - t2, p2 + t2, (2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3));
      }
      if (!no_q) {
        Q(l, 0) = static_cast<Pel>(
            clip3(q0 - t2, q0 + t2, (p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3));
        Q(l, 1) = static_cast<Pel>(clip3(q1 - t2, q1 + t2, (p0 + q0 + q1 + q2 + 2) >> 2));
        Q(l, 2) =
            static_cast<Pel>(clip3(q2 - t2, q2 + t2, (p0 + q0 + q1 + 3 * q2 + 2 * q3 + 4) >> 3));
      }
      continue;
    }
    int delta = (9 * (q0 - p0) - 3 * (q1 - p1) + 8) >> 4;
    if (std::abs(delta) >= tc * 10) continue;
    delta = clip3(-tc, tc, delta);
    if (!no_p) {
      P(l, 0) = static_cast<Pel>(clip_pel(p0 + delta));
      if (dep) {
        const int dlt = clip3(-(tc >> 1), tc >> 1, (((p2 + p0 + 1) >> 1) - p1 + delta) >> 1);
        P(l, 1) = static_cast<Pel>(clip_pel(p1 + dlt));
      }
    }
    if (!no_q) {
      Q(l, 0) = static_cast<Pel>(clip_pel(q0 - delta));
      if (deq) {
        const int dlt = clip3(-(tc >> 1), tc >> 1, (((q2 + q0 + 1) >> 1) - q1 - delta) >> 1);
        Q(l, 1) = static_cast<Pel>(clip_pel(q1 + dlt));
      }
    }
  }
}

void filter_chroma(Pel* s, int step, int line, int n, int tc, bool no_p, bool no_q) {
  for (int l = 0; l < n; ++l) {
    Pel* q = s + l * line;
    const int p0 = q[-step], p1 = q[-2 * step], q0 = q[0], q1 = q[step];
    const int delta = clip3(-tc, tc, ((((q0 - p0) * 4) + p1 - q1 + 4) >> 3));
    if (!no_p) q[-step] = static_cast<Pel>(clip_pel(p0 + delta));
    if (!no_q) q[0] = static_cast<Pel>(clip_pel(q0 - delta));
  }
}

void filter_direction(const DeblockParams& prm, Frame& pic, bool vertical) {
  const CodingInfo& info = *prm.info;
  const Sps& sps = *prm.sps;
  Edges e;
  compute_bs(prm, vertical, e);
  Plane& Y = pic.planes[0];
  for (int b4 = 0; b4 < e.h4; ++b4) {
    for (int a8 = 1; a8 < e.w8; ++a8) {
      const int bs = e.at(a8, b4);
      if (!bs) continue;
      const int a = a8 * 8, b = b4 * 4;
      const int xq = vertical ? a : b, yq = vertical ? b : a;
      const int xp = vertical ? a - 1 : b, yp = vertical ? b : a - 1;
      const BlockInfo& q = info.blk(xq, yq);
      const BlockInfo& p = info.blk(xp, yp);
      const SliceFilterInfo& sq = info.slice_filters_[info.ctb_filter_idx_[info.ctb_rs(xq, yq)]];
      const int qpl = (q.qp + p.qp + 1) >> 1;
      Pel* s = &Y.at(xq, yq);
      filter_luma(s, vertical ? 1 : Y.stride, vertical ? Y.stride : 1, bs, qpl, sq.beta_offset_div2,
                  sq.tc_offset_div2, no_filter_samples(sps, p), no_filter_samples(sps, q));
    }
  }
  // Chroma: edges on the 8x8 chroma grid (16 luma samples) with bS 2, in 4-row chroma segments.
  for (int c = 1; c < 3; ++c) {
    Plane& C = pic.planes[c];
    const int off = c == 1 ? prm.pps->cb_qp_offset : prm.pps->cr_qp_offset;
    for (int b4 = 0; b4 < e.h4; b4 += 2) {
      for (int a8 = 2; a8 < e.w8; a8 += 2) {
        const int bs = e.at(a8, b4);
        if (bs != 2) continue;
        const int a = a8 * 8, b = b4 * 4;
        const int xq = vertical ? a : b, yq = vertical ? b : a;
        const int xp = vertical ? a - 1 : b, yp = vertical ? b : a - 1;
        const BlockInfo& q = info.blk(xq, yq);
        const BlockInfo& p = info.blk(xp, yp);
        const SliceFilterInfo& sq = info.slice_filters_[info.ctb_filter_idx_[info.ctb_rs(xq, yq)]];
        const int qpc = chroma_qp_mapping(((q.qp + p.qp + 1) >> 1) + off);
        const int tc = kTc[clip3(0, 53, qpc + 2 + 2 * sq.tc_offset_div2)];
        if (!tc) continue;
        const int cx = xq >> 1, cy = yq >> 1;
        const int n = std::min(4, (vertical ? C.height - cy : C.width - cx));
        filter_chroma(&C.at(cx, cy), vertical ? 1 : C.stride, vertical ? C.stride : 1, n, tc,
                      no_filter_samples(sps, p), no_filter_samples(sps, q));
      }
    }
  }
}

}  // namespace

void deblock_picture(const DeblockParams& p, Frame& pic) {
  filter_direction(p, pic, true);
  filter_direction(p, pic, false);
}

}  // namespace hevc
