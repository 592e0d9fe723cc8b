// What the CU search and the prediction searches below it share: the bit counter, the saved
// state of an area that trials overwrite, and the bound a trial is given.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "../cabac.h"
#include "../ctu_syntax.h"
#include "config.h"
#include "enc_picture.h"
#include "rdcost.h"

namespace hevc {

using Counter = CtuCoder<CabacCounter, CoeffSink>;

// The bound of a trial that adds to `before` against `best` (none without exact shortcuts).
inline Bound trial_bound(const EncoderConfig& cfg, double before, double best) {
  return cfg.exact_shortcuts ? Bound{before, best} : Bound{};
}

// Whether any 4x4 block of the square area carries one of `flags`.
inline bool area_has(CodingInfo& info, int x0, int y0, int size, uint8_t flags) {
  bool any = false;
  info.for_each(x0, y0, size, size, [&](BlockInfo& b) { any |= (b.flags & flags) != 0; });
  return any;
}

// A square luma area and its chroma: reconstruction, levels and block info.
struct SavedArea {
  int x = 0, y = 0, w = 0, h = 0;
  std::vector<Pel> rec[3];
  std::vector<int16_t> coef[3];
  std::vector<BlockInfo> info;
  std::vector<MvField> mv;  // P and B pictures: motion and PU syntax
  std::vector<PuSyntax> pu;
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
    if (p.type != SliceType::I) {
      mv.resize(static_cast<size_t>(bw) * bh);
      pu.resize(static_cast<size_t>(bw) * bh);
      for (int r = 0; r < bh; ++r)
        for (int i = 0; i < bw; ++i) {
          mv[static_cast<size_t>(r) * bw + i] = p.motion.at(x + 4 * i, y + 4 * r);
          pu[static_cast<size_t>(r) * bw + i] = p.pu_at(x + 4 * i, y + 4 * r);
        }
    }
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
    if (p.type != SliceType::I)
      for (int r = 0; r < bh; ++r)
        for (int i = 0; i < bw; ++i) {
          p.motion.at(x + 4 * i, y + 4 * r) = mv[static_cast<size_t>(r) * bw + i];
          p.pu_at(x + 4 * i, y + 4 * r) = pu[static_cast<size_t>(r) * bw + i];
        }
  }
};

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

}  // namespace hevc
