#include "loop_filter.h"

#include <cstdlib>
#include <cstring>

#include "deblock.h"
#include "sao.h"

namespace hevc {

namespace {

// Boundary strength between two blocks that are not intra and have no coefficients on a
// transform edge (8.7.2.4): 1 when they use different reference pictures or numbers of motion
// vectors, or motion vectors that differ by one integer sample or more.
int inter_boundary_strength(const void* ctx, int xp, int yp, int xq, int yq) {
  const MotionField& mf = *static_cast<const MotionField*>(ctx);
  const MvField& p = mf.at(xp, yp);
  const MvField& q = mf.at(xq, yq);
  // The common case, an edge inside one prediction block or between blocks that merged: the
  // same motion, field for field.
  if (std::memcmp(&p, &q, sizeof(MvField)) == 0) return 0;
  auto far = [](Mv a, Mv b) { return std::abs(a.x - b.x) >= 4 || std::abs(a.y - b.y) >= 4; };
  const int np = p.pred(0) + p.pred(1), nq = q.pred(0) + q.pred(1);
  if (np != nq) return 1;
  if (np == 1) {
    const int lp = p.pred(0) ? 0 : 1, lq = q.pred(0) ? 0 : 1;
    if (p.ref_poc[lp] != q.ref_poc[lq]) return 1;
    return far(p.mv[lp], q.mv[lq]);
  }
  const int p0 = p.ref_poc[0], p1 = p.ref_poc[1], q0 = q.ref_poc[0], q1 = q.ref_poc[1];
  if (!((p0 == q0 && p1 == q1) || (p0 == q1 && p1 == q0))) return 1;
  if (p0 != p1) {
    // Two different pictures: compare the motion vectors that refer to the same one.
    if (p0 == q0) return far(p.mv[0], q.mv[0]) || far(p.mv[1], q.mv[1]);
    return far(p.mv[0], q.mv[1]) || far(p.mv[1], q.mv[0]);
  }
  // Both motion vectors refer to the same picture.
  return (far(p.mv[0], q.mv[0]) || far(p.mv[1], q.mv[1])) &&
         (far(p.mv[0], q.mv[1]) || far(p.mv[1], q.mv[0]));
}

}  // namespace

DeblockParams deblock_params(const Sps& sps, const Pps& pps, const CodingInfo& info,
                             const MotionField* motion) {
  DeblockParams dp{&sps, &pps, &info};
  if (motion) {
    dp.inter_bs = inter_boundary_strength;
    dp.inter_ctx = motion;
  }
  return dp;
}

void deblock_stage(const Sps& sps, const Pps& pps, const CodingInfo& info,
                   const MotionField* motion, Frame& pic) {
  deblock_picture(deblock_params(sps, pps, info, motion), pic);
}

void sao_and_cnn_stage(const Sps& sps, const Pps& pps, const CodingInfo& info, const Frame* cnn,
                       const CnnPictureFlags* flags, Frame& pic) {
  bool any_sao = false;
  for (const auto& sf : info.slice_filters_) any_sao |= sf.sao_luma || sf.sao_chroma;
  if (sps.sao && any_sao) {
    // SAO reads its neighbours before they change. (The copy's buffers are kept from one
    // picture to the next: assigning into them allocates only when the size grows.)
    thread_local Frame deblocked;
    deblocked = pic;
    sao_picture(sps, pps, info, deblocked, pic);
  }
  if (cnn && flags && flags->any()) apply_cnn_flags(info, *flags, *cnn, pic);
}

bool cnn_stage(const CnnProvider& provider, CnnRequest req, const Sps& sps, const Pps& pps,
               const CodingInfo& info, const MotionField* motion, const PredictionSources* sources,
               Frame& out) {
  CnnSideInfo side(sps, pps, info, motion, sources, req.input->planes[0]);
  req.side = &side;
  const PicGeometry& geo = info.geo();
  req.ctb_size = geo.ctb_size;
  req.w_ctb = geo.w_ctb;
  req.h_ctb = geo.h_ctb;
  out.alloc(req.input->planes[0].width, req.input->planes[0].height);
  return provider(req, out);
}

}  // namespace hevc
