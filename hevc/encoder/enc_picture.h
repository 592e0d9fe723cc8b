// The state of a picture being encoded, shared by the encoder's decision stages and the
// bitstream writer: source, reconstruction, coding decisions and coefficient levels.
#pragma once

#include <array>
#include <cstring>
#include <vector>

#include "../cabac.h"
#include "../ctu_syntax.h"
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
