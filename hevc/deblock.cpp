#include "deblock.h"

#include <algorithm>
#include <cstdlib>

#include "dsp/dsp.h"

namespace hevc {

namespace {

const uint8_t kBeta[52] = {0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  6,  7,
                           8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30, 32,
                           34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62, 64};
const uint8_t kTc[54] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0,  0,  0,  0,  0,  0,  0,
                         1, 1, 1, 1, 1, 1, 1, 1, 1, 2,  2,  2,  2,  3,  3,  3,  3,  4,
                         4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11, 13, 14, 16, 18, 20, 22, 24};

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
  EdgeStrengths e;
  boundary_strengths(prm, vertical, e);
  Plane& Y = pic.planes[0];
  const auto luma = dsp::kernels().deblock.luma[vertical ? 0 : 1];
  // Two segments at a time: an 8-sample stretch of the edge (the picture's sides are
  // multiples of the minimum coding block, 8).
  for (int b4 = 0; b4 + 1 < e.h4; b4 += 2) {
    for (int a8 = 1; a8 < e.w8; ++a8) {
      if (!e.at(a8, b4) && !e.at(a8, b4 + 1)) continue;
      dsp::DeblockSegment seg[2];
      for (int k = 0; k < 2; ++k) {
        const int bs = e.at(a8, b4 + k);
        if (!bs) continue;
        const int a = a8 * 8, b = (b4 + k) * 4;
        const int xq = vertical ? a : b, yq = vertical ? b : a;
        const BlockInfo& q = info.blk(xq, yq);
        const BlockInfo& p = info.blk(vertical ? a - 1 : b, vertical ? b : a - 1);
        const SliceFilterInfo& sq = info.slice_filters_[info.ctb_filter_idx_[info.ctb_rs(xq, yq)]];
        const int qpl = (q.qp + p.qp + 1) >> 1;
        seg[k].beta = kBeta[clip3(0, 51, qpl + 2 * sq.beta_offset_div2)];
        seg[k].tc = kTc[clip3(0, 53, qpl + 2 * (bs - 1) + 2 * sq.tc_offset_div2)];
        seg[k].no_p = no_filter_samples(sps, p);
        seg[k].no_q = no_filter_samples(sps, q);
      }
      const int a = a8 * 8, b = b4 * 4;
      luma(&Y.at(vertical ? a : b, vertical ? b : a), Y.stride, seg);
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

// Boundary strengths of all edges in one direction, visited in raster order (the coding
// information is read a row at a time: column order missed the cache at every segment).
void boundary_strengths(const DeblockParams& prm, bool vertical, EdgeStrengths& e) {
  const CodingInfo& info = *prm.info;
  const PicGeometry& g = info.geo();
  const int W = g.width, H = g.height;
  // Edge positions `a` (x for vertical edges) are on the 8-sample grid; segments `b` along them
  // are 4 samples long.
  e.w8 = ((vertical ? W : H) + 7) / 8;
  e.h4 = ((vertical ? H : W) + 3) / 4;
  e.bs.assign(static_cast<size_t>(e.w8) * e.h4, 0);
  const int ctb_log2 = g.ctb_log2, ctb_mask = g.ctb_size - 1;
  for (int y = vertical ? 0 : 8; y < H; y += vertical ? 4 : 8) {
    int ctb_x = -1;  // the CTB column whose slice settings `disabled` holds
    bool disabled = false;
    for (int x = vertical ? 8 : 0; x < W; x += vertical ? 8 : 4) {
      const int a = vertical ? x : y, b = vertical ? y : x;
      const int xp = vertical ? x - 1 : x, yp = vertical ? y : y - 1;
      if ((x >> ctb_log2) != ctb_x) {
        ctb_x = x >> ctb_log2;
        disabled = info.slice_filters_[info.ctb_filter_idx_[info.ctb_rs(x, y)]].deblocking_disabled;
      }
      if (disabled) {
        x = (x | ctb_mask) + 1 - (vertical ? 8 : 4);  // the rest of this CTB
        continue;
      }
      if ((a & ctb_mask) == 0) {
        // An edge between CTBs: slice and tile boundaries.
        const int rs_q = info.ctb_rs(x, y), rs_p = info.ctb_rs(xp, yp);
        const SliceFilterInfo& sq = info.slice_filters_[info.ctb_filter_idx_[rs_q]];
        if (info.ctb_slice_[rs_p] != info.ctb_slice_[rs_q] && !sq.lf_across_slices) continue;
        if (!prm.pps->loop_filter_across_tiles && g.tile_id_rs(rs_p) != g.tile_id_rs(rs_q))
          continue;
      }
      const BlockInfo& q = info.blk(x, y);
      const bool tu_edge = (a & ((1 << q.tu_log2) - 1)) == 0;
      const bool cu_edge = (a & ((1 << q.cu_log2) - 1)) == 0;
      if (!tu_edge && !cu_edge && !pu_edge(q, a, vertical)) continue;
      const BlockInfo& p = info.blk(xp, yp);
      uint8_t bs;
      if (p.pred_mode == static_cast<uint8_t>(PredMode::Intra) ||
          q.pred_mode == static_cast<uint8_t>(PredMode::Intra))
        bs = 2;
      else if (tu_edge && ((p.flags | q.flags) & kBfCbfY))
        bs = 1;
      else
        bs = prm.inter_bs ? static_cast<uint8_t>(prm.inter_bs(prm.inter_ctx, xp, yp, x, y)) : 0;
      e.at(a / 8, b / 4) = bs;
    }
  }
}

void deblock_picture(const DeblockParams& p, Frame& pic) {
  filter_direction(p, pic, true);
  filter_direction(p, pic, false);
}

}  // namespace hevc
