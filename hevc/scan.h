// Coefficient scan orders (H.265 6.5.3-6.5.5).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hevc {

struct ScanPos {
  uint8_t x, y;
};

struct ScanTables {
  std::vector<ScanPos> order[6][3];
  std::vector<uint16_t> coeff[6][3];
  std::vector<uint16_t> coeff_pos[6][3];  // the inverse: raster index -> scan position
  ScanTables();
};
const ScanTables& scan_tables();

// ScanOrder[log2_size][scan_idx]: scan_idx 0 = up-right diagonal, 1 = horizontal, 2 = vertical.
// Inline, with the tables' address kept: the lookups sit in the residual coder's inner loops.
inline const std::vector<ScanPos>& scan_order(int log2_size, int scan_idx) {
  static const ScanTables& t = scan_tables();
  return t.order[log2_size][scan_idx];
}

// Coefficient scan of a whole transform block (4x4 sub-blocks in sub-block scan order, each in
// 4x4 scan order): position in scan order -> raster index y * n + x.
inline const uint16_t* coeff_scan(int log2_size, int scan_idx) {
  static const ScanTables& t = scan_tables();
  return t.coeff[log2_size][scan_idx].data();
}

// The inverse of coeff_scan: raster index -> position in scan order.
inline const uint16_t* coeff_scan_pos(int log2_size, int scan_idx) {
  static const ScanTables& t = scan_tables();
  return t.coeff_pos[log2_size][scan_idx].data();
}

// 1 + the scan position of raster index i if `nonzero`, else 0, without a branch: running
// maxima of it find the last nonzero position in loops the compiler vectorises (in 16-bit
// lanes).
inline uint16_t scan_rank_if(const uint16_t* pos, int i, bool nonzero) {
  return static_cast<uint16_t>((pos[i] + 1) * static_cast<int>(nonzero));
}

// Scan position of the last nonzero coefficient of an n x n block v (raster order), or -1: the
// largest scan position of a nonzero, taken over the raster in one branch-free pass (a search
// along the scan chases one dependent load per position).
template <class T>
int last_nonzero(const T* v, int log2_size, int scan_idx) {
  const uint16_t* pos = coeff_scan_pos(log2_size, scan_idx);
  const int total = 1 << (2 * log2_size);
  uint16_t rank = 0;
  for (int i = 0; i < total; ++i) rank = std::max(rank, scan_rank_if(pos, i, v[i] != 0));
  return rank - 1;
}

}  // namespace hevc
