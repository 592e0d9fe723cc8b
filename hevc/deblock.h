// Deblocking filter (H.265 8.7.2), applied to a whole reconstructed picture.
#pragma once

#include <cstdint>
#include <vector>

#include "params.h"
#include "picture.h"

namespace hevc {

// Boundary strength of an edge between two inter blocks; supplied by the inter tool so that the
// deblocking filter does not depend on motion data layouts. Returns 0 or 1.
using InterBsFn = int (*)(const void* ctx, int xp, int yp, int xq, int yq);

struct DeblockParams {
  const Sps* sps;
  const Pps* pps;
  const CodingInfo* info;
  InterBsFn inter_bs = nullptr;
  const void* inter_ctx = nullptr;
};

void deblock_picture(const DeblockParams& p, Frame& pic);

// The boundary strength (8.7.2.4) of every 4-sample segment of the edges on the 8x8 grid in one
// direction, 0 where the edge is not filtered (not an edge, or deblocking disabled, or a slice
// or tile boundary it may not cross): position a (x for vertical edges) on the 8-sample grid,
// segment b along the edge.
struct EdgeStrengths {
  int w8 = 0, h4 = 0;
  std::vector<uint8_t> bs;
  uint8_t& at(int a8, int b4) { return bs[static_cast<size_t>(b4) * w8 + a8]; }
  uint8_t at(int a8, int b4) const { return bs[static_cast<size_t>(b4) * w8 + a8]; }
};
void boundary_strengths(const DeblockParams& p, bool vertical, EdgeStrengths& out);

}  // namespace hevc
