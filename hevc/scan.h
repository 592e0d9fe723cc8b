// Coefficient scan orders (H.265 6.5.3-6.5.5).
#pragma once

#include <cstdint>
#include <vector>

namespace hevc {

struct ScanPos {
  uint8_t x, y;
};

// ScanOrder[log2_size][scan_idx]: scan_idx 0 = up-right diagonal, 1 = horizontal, 2 = vertical.
const std::vector<ScanPos>& scan_order(int log2_size, int scan_idx);

// Coefficient scan of a whole transform block (4x4 sub-blocks in sub-block scan order, each in
// 4x4 scan order): position in scan order -> raster index y * n + x.
const uint16_t* coeff_scan(int log2_size, int scan_idx);

// Scan position of the last nonzero v[scan[pos]] among the first `total`, or -1: searched from
// the end, so mostly-zero blocks (the common case) stop early.
template <class T>
int last_nonzero(const T* v, const uint16_t* scan, int total) {
  int pos = total - 1;
  while (pos >= 0 && !v[scan[pos]]) --pos;
  return pos;
}

}  // namespace hevc
