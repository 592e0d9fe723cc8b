#include "picture.h"

#include <algorithm>

namespace hevc {

void CodingInfo::init(const Sps& sps, const Pps& pps, bool clear_blocks) {
  const std::vector<int> prev_order = geo_.rs_to_ts;
  const int prev_w = geo_.width, prev_h = geo_.height, prev_ctb = geo_.ctb_log2;
  geo_.derive(sps, pps);
  w4_ = (geo_.width + 3) >> 2;
  h4_ = (geo_.height + 3) >> 2;
  if (clear_blocks || blocks_.size() != static_cast<size_t>(w4_) * h4_)
    blocks_.assign(static_cast<size_t>(w4_) * h4_, BlockInfo{});
  ctb_slice_.assign(geo_.num_ctb, -1);
  ctb_filter_idx_.assign(geo_.num_ctb, 0);
  slice_filters_.clear();
  sao_.assign(geo_.num_ctb, SaoParams{});
  // MinTbAddrZs at 4x4 granularity (6.5.2): CTB order in tile scan, then z-order inside the CTB.
  if (zscan_.size() == blocks_.size() && prev_w == geo_.width && prev_h == geo_.height &&
      prev_ctb == geo_.ctb_log2 && prev_order == geo_.rs_to_ts)
    return;  // same geometry as the previous picture
  zscan_.assign(blocks_.size(), 0);
  int l = geo_.ctb_log2 - 2;
  for (int y = 0; y < h4_; ++y) {
    for (int x = 0; x < w4_; ++x) {
      int rs = (y >> l) * geo_.w_ctb + (x >> l);
      uint32_t v = static_cast<uint32_t>(geo_.rs_to_ts[rs]) << (2 * l);
      uint32_t z = 0;
      for (int i = 0; i < l; ++i) {
        uint32_t m = 1u << i;
        z += ((x & m) ? m * m : 0) + ((y & m) ? 2 * m * m : 0);
      }
      zscan_[static_cast<size_t>(y) * w4_ + x] = v + z;
    }
  }
}

void CodingInfo::fill(int x, int y, int w, int h, const BlockInfo& b) {
  int x1 = std::min(geo_.width, x + w), y1 = std::min(geo_.height, y + h);
  for (int j = y >> 2; j < (y1 + 3) >> 2; ++j)
    for (int i = x >> 2; i < (x1 + 3) >> 2; ++i) blocks_[static_cast<size_t>(j) * w4_ + i] = b;
}

}  // namespace hevc
