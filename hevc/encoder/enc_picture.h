// The state of a picture being encoded, shared by the encoder's decision stages and the
// bitstream writer: source, reconstruction, coding decisions and coefficient levels.
#pragma once

#include <array>
#include <cstring>
#include <vector>

#include "../cabac.h"
#include "../ctu_syntax.h"
#include "../inter_pred.h"
#include "../mv_derive.h"
#include "../params.h"
#include "../picture.h"
#include "rdcost.h"

namespace hevc {

struct EncoderConfig;

struct EncPicture {
  const Sps* sps = nullptr;
  const Pps* pps = nullptr;
  const EncoderConfig* cfg = nullptr;
  Frame src, rec;
  CodingInfo info;
  std::array<std::vector<int16_t>, 3> coef;  // levels, stored at the sample positions of each TB
  SliceType type = SliceType::I;
  int qp = 32;
  int qp_c[3] = {32, 32, 32};  // QP per component after chroma mapping
  RdParams rd;
  // P and B pictures: the reference lists, the motion decided so far and, per 4x4 luma block,
  // the prediction syntax of the PU over it (what the writer codes).
  RefLists refs;
  MvContext mvc;
  PredWeights weights;  // never enabled: the encoder does not use weighted prediction
  MotionField motion;
  std::vector<PuSyntax> pu;
  int pu_w4 = 0;
  PuSyntax& pu_at(int x, int y) { return pu[static_cast<size_t>(y >> 2) * pu_w4 + (x >> 2)]; }
  void fill_pu(int x, int y, int w, int h, const PuSyntax& s) {
    for (int j = y >> 2; j < (y + h) >> 2; ++j)
      for (int i = x >> 2; i < (x + w) >> 2; ++i) pu[static_cast<size_t>(j) * pu_w4 + i] = s;
  }
  const Frame* ref_frame(int l, int idx) const { return refs.pic[l][idx]->frame.get(); }

  // Coefficient rows are as long as the plane is wide, whatever stride (padding) the
  // reconstruction has.
  int16_t* coef_at(int c, int x, int y) {
    return coef[c].data() + static_cast<size_t>(y) * rec.planes[c].width + x;
  }
  int coef_stride(int c) const { return rec.planes[c].width; }
};

// Hands coefficient blocks to the CTU syntax in writer/counter mode.
struct CoeffSink {
  EncPicture& pic;
  alignas(16) int16_t buf[32 * 32];
  PuSyntax pu_syntax(int x, int y) { return pic.pu_at(x, y); }
  int16_t* coeffs(const TbInfo& tb) {
    copy_block(buf, 1 << tb.log2n, pic.coef_at(tb.cidx, tb.x, tb.y), pic.coef_stride(tb.cidx),
               tb.log2n);
    return buf;
  }
  void tb(const TbInfo&) {}
  void pcm(CabacCounter& c, int, int, int log2) {
    const int n = 1 << log2;
    c.bypass_bits(0, (n * n * 3 / 2) * 8);
  }
  void pcm(CabacWriter& c, int x0, int y0, int log2) {
    c.finish_alignment();
    const int n = 1 << log2;
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) c.raw_bits(pic.rec.planes[0].at(x0 + x, y0 + y), 8);
    for (int cidx = 1; cidx < 3; ++cidx)
      for (int y = 0; y < n / 2; ++y)
        for (int x = 0; x < n / 2; ++x)
          c.raw_bits(pic.rec.planes[cidx].at((x0 >> 1) + x, (y0 >> 1) + y), 8);
    c.start();
  }
};

}  // namespace hevc
