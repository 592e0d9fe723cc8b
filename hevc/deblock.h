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

}  // namespace hevc
