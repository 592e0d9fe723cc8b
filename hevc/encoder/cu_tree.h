// A picture's coding tree as the encoder decided it, and the means to force it on a later encode.
// Forcing the tree the full search chose gives back its bitstream, so the forced encode's time is
// what a perfect CU-size predictor would leave (research on fast CU decisions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../picture.h"

namespace hevc {

// One byte per 8x8 luma unit of the coded picture, in raster order: the CU's log2 size in the low
// nibble, its PartMode (0 2Nx2N, 3 NxN) in the high one.
struct CuTree {
  int w8 = 0, h8 = 0;
  std::vector<uint8_t> units;
  uint8_t at(int x, int y) const { return units[static_cast<size_t>(y >> 3) * w8 + (x >> 3)]; }
  int log2_at(int x, int y) const { return at(x, y) & 15; }
  int part_at(int x, int y) const { return at(x, y) >> 4; }
};

CuTree cu_tree_of(const CodingInfo& info);

// Why `tree` cannot be coded in this picture (its size, a CU size or PartMode the SPS does not
// allow, a CU crossing the picture's edge, units of one CU that disagree); empty if it can.
std::string check_cu_tree(const CuTree& tree, const Sps& sps);

}  // namespace hevc
