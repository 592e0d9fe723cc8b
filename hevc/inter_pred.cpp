#include "inter_pred.h"

#include <algorithm>
#include <cstring>

#include "dsp/dsp.h"
#include "slice_header.h"

namespace hevc {

namespace {

constexpr int kMaxBlock = 64;
constexpr int kPad = 8;  // samples read around a block: 3 before and 4 after (luma)

// The reference samples of a block with `before`/`after` extra samples, read directly when
// they lie inside the picture and copied with the coordinates clamped (8-4xx: xInt, yInt
// clipped to the picture) otherwise. Returns a pointer to the block's top-left sample.
const Pel* fetch(const Plane& p, int x, int y, int w, int h, int before, int after, Pel* buf,
                 int& stride) {
  if (x - before >= 0 && y - before >= 0 && x + w + after <= p.width && y + h + after <= p.height) {
    stride = p.stride;
    return p.row(y) + x;
  }
  const int bw = w + before + after, bh = h + before + after;
  stride = bw;
  // Each row is the picture's row, clamped: the first sample repeated up to the left edge, the
  // samples inside, the last sample repeated past the right edge (edge blocks are common: a
  // per-sample clamp made this copy a fifth of decoding some streams).
  const int x0 = x - before;
  const int left = std::clamp(-x0, 0, bw);                    // samples left of the picture
  const int inside_end = std::clamp(p.width - x0, left, bw);  // first one past its right edge
  for (int j = 0; j < bh; ++j) {
    const Pel* src = p.row(std::clamp(y - before + j, 0, p.height - 1));
    Pel* d = buf + j * bw;
    if (left) std::memset(d, src[0], static_cast<size_t>(left));
    if (inside_end > left)
      std::memcpy(d + left, src + x0 + left, static_cast<size_t>(inside_end - left));
    if (bw > inside_end)
      std::memset(d + inside_end, src[p.width - 1], static_cast<size_t>(bw - inside_end));
  }
  return buf + before * bw + before;
}

}  // namespace

void predict_component(const Plane& ref, int cidx, Mv mv, int x, int y, int w, int h,
                       int16_t* out) {
  Pel buf[(kMaxBlock + kPad) * (kMaxBlock + kPad)];
  int stride = 0;
  const bool luma = cidx == 0;
  const int shift = luma ? 2 : 3, mask = (1 << shift) - 1;  // quarter / eighth samples
  const int fx = mv.x & mask, fy = mv.y & mask;
  const Pel* src = fetch(ref, x + (mv.x >> shift), y + (mv.y >> shift), w, h, luma ? 3 : 1,
                         luma ? 4 : 2, buf, stride);
  const dsp::InterKernels& k = dsp::kernels().inter;
  if (fx && fy)
    (luma ? k.luma_hv : k.chroma_hv)(src, stride, w, h, fx, fy, out);
  else if (fx)
    (luma ? k.luma_h : k.chroma_h)(src, stride, w, h, fx, out);
  else if (fy)
    (luma ? k.luma_v : k.chroma_v)(src, stride, w, h, fy, out);
  else
    k.copy(src, stride, w, h, out);
}

PredWeights PredWeights::from_slice(const SliceHeader& h, bool weighted) {
  PredWeights pw;
  pw.enabled = weighted;
  if (!weighted) return pw;
  const PredWeightTable& t = h.pwt;
  const int ld = static_cast<int>(t.luma_log2_denom);
  const int cd = ld + t.delta_chroma_log2_denom;
  pw.log2_wd[0] = ld;
  pw.log2_wd[1] = pw.log2_wd[2] = cd;
  const int lists = h.type() == SliceType::B ? 2 : 1;
  for (int l = 0; l < lists; ++l) {
    const int n = static_cast<int>(l ? h.num_ref_idx_l1_minus1 : h.num_ref_idx_l0_minus1) + 1;
    for (int i = 0; i < n; ++i) {
      pw.w[l][i][0] =
          static_cast<int16_t>((1 << ld) + (t.luma_flag[l][i] ? t.luma_weight[l][i] : 0));
      pw.o[l][i][0] = static_cast<int16_t>(t.luma_flag[l][i] ? t.luma_offset[l][i] : 0);
      for (int c = 0; c < 2; ++c) {
        const int cw = (1 << cd) + (t.chroma_flag[l][i] ? t.chroma_weight[l][i][c] : 0);
        int co = 0;
        if (t.chroma_flag[l][i]) {
          // wpOffsetHalfRangeC = 128 at 8 bits (7.4.7.3).
          co = std::clamp(128 - ((128 * cw) >> cd) + t.chroma_offset[l][i][c], -128, 127);
        }
        pw.w[l][i][c + 1] = static_cast<int16_t>(cw);
        pw.o[l][i][c + 1] = static_cast<int16_t>(co);
      }
    }
  }
  return pw;
}

void predict_inter(const Frame* const ref[2], const MvField& m, int x, int y, int w, int h,
                   const PredWeights& weights, Frame& dst, int planes) {
  int16_t pred[2][kMaxBlock * kMaxBlock];
  for (int c = 0; c < planes; ++c) {
    const int sh = c ? 1 : 0;
    const int cx = x >> sh, cy = y >> sh, cw = w >> sh, ch = h >> sh;
    Plane& out = dst.planes[c];
    Pel* d = out.row(cy) + cx;
    const ptrdiff_t ds = out.stride;
    const bool bi = m.pred(0) && m.pred(1);
    const int l = m.pred(0) ? 0 : 1;
    const dsp::InterKernels& k = dsp::kernels().inter;
    // A reference without weights of its own (flag 0: weight 2^log2Wd, offset 0) gives exactly
    // the default average (8-252, 8-253 reduce to 8-250, 8-251), which has faster kernels.
    auto plain = [&](int list) {
      const int i = m.ref_idx[list];
      return weights.w[list][i][c] == (1 << weights.log2_wd[c]) && weights.o[list][i][c] == 0;
    };
    const bool default_avg =
        !weights.enabled || ((!m.pred(0) || plain(0)) && (!m.pred(1) || plain(1)));
    const int shift = c ? 3 : 2, mask = (1 << shift) - 1;
    if (!bi && default_avg && !(m.mv[l].x & mask) && !(m.mv[l].y & mask)) {
      // One reference, default weights, an integer vector: ((s << 6) + 32) >> 6 is s itself,
      // so the block is the reference's samples.
      Pel buf[kMaxBlock * kMaxBlock];
      int stride = 0;
      const Pel* src = fetch(ref[l]->planes[c], cx + (m.mv[l].x >> shift),
                             cy + (m.mv[l].y >> shift), cw, ch, 0, 0, buf, stride);
      for (int j = 0; j < ch; ++j) std::memcpy(d + j * ds, src + j * stride, cw);
      continue;
    }
    for (int lx = 0; lx < 2; ++lx)
      if (m.pred(lx)) predict_component(ref[lx]->planes[c], c, m.mv[lx], cx, cy, cw, ch, pred[lx]);
    if (default_avg) {
      if (bi)
        k.avg_bi(pred[0], pred[1], cw, ch, d, ds);
      else
        k.avg_uni(pred[l], cw, ch, d, ds);
      continue;
    }
    const int log2wd = weights.log2_wd[c] + 6;  // + shift1 = 14 - BitDepth
    const int i0 = m.ref_idx[0], i1 = m.ref_idx[1];
    if (bi)
      k.weight_bi(pred[0], pred[1], cw, ch, weights.w[0][i0][c], weights.w[1][i1][c],
                  weights.o[0][i0][c], weights.o[1][i1][c], log2wd, d, ds);
    else
      k.weight_uni(pred[l], cw, ch, weights.w[l][m.ref_idx[l]][c], weights.o[l][m.ref_idx[l]][c],
                   log2wd, d, ds);
  }
}

}  // namespace hevc
