#include "luma_prediction.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "intra.h"

namespace hevc {

void PredictionSources::add_slice(int slice_addr, const RefLists& lists,
                                  const PredWeights& weights) {
  for (const SlicePrediction& sp : slices)
    if (sp.slice_addr == slice_addr) return;
  SlicePrediction sp;
  sp.slice_addr = slice_addr;
  sp.weights = weights;
  for (int l = 0; l < 2; ++l) {
    sp.num[l] = lists.num[l];
    for (int i = 0; i < lists.num[l]; ++i)
      if (lists.pic[l][i]) sp.pic[l][i] = lists.pic[l][i]->frame;
  }
  slices.push_back(std::move(sp));
}

namespace {

const SlicePrediction& slice_sources(const PredictionSources& src, int slice_addr) {
  const SlicePrediction* any = nullptr;
  for (const SlicePrediction& sp : src.slices) {
    if (sp.slice_addr == slice_addr) return sp;
    if (sp.slice_addr < 0) any = &sp;
  }
  if (!any)
    throw std::logic_error("prediction plane: no reference lists for slice " +
                           std::to_string(slice_addr));
  return *any;
}

const Frame* ref_frame(const SlicePrediction& sp, int l, int idx) {
  if (idx >= sp.num[l] || !sp.pic[l][idx])
    throw std::logic_error("prediction plane: reference index outside the slice's list");
  return sp.pic[l][idx].get();
}

}  // namespace

void predict_luma_picture(const Sps& sps, const Pps& pps, const CodingInfo& info,
                          const MotionField* motion, const PredictionSources* src,
                          const Plane& recon, Plane& out) {
  const int w = recon.width, h = recon.height;
  // predict_inter writes into a frame: lend it the output plane.
  Frame dst;
  dst.planes[0] = std::move(out);
  Plane& p = dst.planes[0];
  if (p.width != w || p.height != h) p.alloc(w, h);
  const IntraContext ic{&recon, &info, pps.constrained_intra_pred != 0};
  const bool strong = sps.strong_intra_smoothing != 0;
  for (int y = 0; y < h; y += 4) {
    for (int x = 0; x < w;) {
      const BlockInfo& b = info.blk(x, y);
      if (b.flags & kBfPcm) {
        for (int j = 0; j < 4; ++j) std::memcpy(&p.at(x, y + j), recon.row(y + j) + x, 4);
        x += 4;
        continue;
      }
      if (b.pred_mode == static_cast<uint8_t>(PredMode::Intra)) {
        const int tu = 1 << b.tu_log2;
        if ((x & (tu - 1)) == 0 && (y & (tu - 1)) == 0)
          intra_predict_block(ic, 0, x, y, b.tu_log2, b.intra_mode, strong, &p.at(x, y), p.stride);
        x += 4;
        continue;
      }
      if (!motion || !src)
        throw std::logic_error("prediction plane: an inter block without motion");
      // A run of 4x4 blocks with the same motion in the same slice is one prediction: every
      // sample of an inter prediction depends on its position and vector only.
      const MvField& m = motion->at(x, y);
      const int slice = info.ctb_slice_[info.ctb_rs(x, y)];
      int x1 = x + 4;
      while (x1 < w && x1 - x < 64) {
        const BlockInfo& n = info.blk(x1, y);
        if (n.pred_mode == static_cast<uint8_t>(PredMode::Intra) || (n.flags & kBfPcm) ||
            !motion->at(x1, y).same_motion(m) || info.ctb_slice_[info.ctb_rs(x1, y)] != slice)
          break;
        x1 += 4;
      }
      const SlicePrediction& sp = slice_sources(*src, slice);
      const Frame* ref[2] = {nullptr, nullptr};
      for (int l = 0; l < 2; ++l)
        if (m.pred(l)) ref[l] = ref_frame(sp, l, m.ref_idx[l]);
      predict_inter(ref, m, x, y, x1 - x, 4, sp.weights, dst, 1);
      x = x1;
    }
  }
  out = std::move(p);
}

}  // namespace hevc
