#include "cnn_side.h"

#include <algorithm>

#include "deblock.h"
#include "loop_filter.h"

namespace hevc {

const char* side_plane_name(SidePlane p) {
  static const char* const kNames[kSidePlaneCount] = {"qp_map", "mode", "boundary",
                                                      "bs",     "pred", "resid"};
  return kNames[static_cast<int>(p)];
}

Plane& CnnSideInfo::plane(SidePlane p) {
  auto& pl = planes_[static_cast<int>(p)];
  if (!pl) pl = std::make_shared<Plane>();
  return *pl;
}

std::shared_ptr<const Plane> CnnSideInfo::get(SidePlane p) {
  if (!planes_[static_cast<int>(p)]) {
    switch (p) {
      case SidePlane::Qp:
      case SidePlane::Mode:
      case SidePlane::Boundary:
        make_coding_planes();
        break;
      case SidePlane::Bs:
        make_bs();
        break;
      case SidePlane::Pred:
        predict_luma_picture(sps_, pps_, info_, motion_, sources_, recon_, plane(p));
        break;
      case SidePlane::Resid:
        make_resid();
        break;
    }
  }
  return planes_[static_cast<int>(p)];
}

void CnnSideInfo::make_coding_planes() {
  const int w = info_.geo().width, h = info_.geo().height;
  Plane& qps = plane(SidePlane::Qp);
  Plane& modes = plane(SidePlane::Mode);
  Plane& edges = plane(SidePlane::Boundary);
  for (Plane* p : {&qps, &modes, &edges}) p->alloc(w, h);
  for (int by = 0; by < h; by += 4) {
    for (int bx = 0; bx < w; bx += 4) {
      const BlockInfo& b = info_.blk(bx, by);
      const Pel qp = static_cast<Pel>(b.qp);
      const Pel mode = static_cast<Pel>(b.pred_mode);
      const int tu = 1 << b.tu_log2;
      for (int y = by; y < std::min(by + 4, h); ++y) {
        const int ry = y & (tu - 1);
        const bool edge_row = ry == 0 || ry == tu - 1;
        Pel* q = qps.row(y);
        Pel* m = modes.row(y);
        Pel* e = edges.row(y);
        for (int x = bx; x < std::min(bx + 4, w); ++x) {
          const int rx = x & (tu - 1);
          q[x] = qp;
          m[x] = mode;
          e[x] = static_cast<Pel>(edge_row || rx == 0 || rx == tu - 1);
        }
      }
    }
  }
}

void CnnSideInfo::make_resid() {
  const Plane& pred = *get(SidePlane::Pred);
  Plane& r = plane(SidePlane::Resid);
  r.alloc(recon_.width, recon_.height);
  for (int y = 0; y < r.height; ++y) {
    const Pel* a = recon_.row(y);
    const Pel* b = pred.row(y);
    Pel* d = r.row(y);
    for (int x = 0; x < r.width; ++x)
      d[x] = static_cast<Pel>(std::clamp(a[x] - b[x] + 128, 0, 255));
  }
}

void CnnSideInfo::make_bs() {
  const DeblockParams dp = deblock_params(sps_, pps_, info_, motion_);
  EdgeStrengths vertical, horizontal;
  boundary_strengths(dp, true, vertical);
  boundary_strengths(dp, false, horizontal);
  const int w = info_.geo().width, h = info_.geo().height;
  Plane& bs = plane(SidePlane::Bs);
  bs.alloc(w, h);
  // Each segment's footprint: the 6 samples across the edge (p2..q2) on its 4 lines.
  for (int dir = 0; dir < 2; ++dir) {
    const EdgeStrengths& e = dir ? horizontal : vertical;
    for (int b4 = 0; b4 < e.h4; ++b4)
      for (int a8 = 1; a8 < e.w8; ++a8) {
        const Pel s = static_cast<Pel>(e.at(a8, b4));
        if (!s) continue;
        for (int l = 4 * b4; l < std::min(4 * b4 + 4, dir ? w : h); ++l)
          for (int k = 8 * a8 - 3; k < 8 * a8 + 3; ++k) {
            Pel& v = dir ? bs.at(l, k) : bs.at(k, l);
            v = std::max(v, s);
          }
      }
  }
}

}  // namespace hevc
