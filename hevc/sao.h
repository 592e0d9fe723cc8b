// Sample adaptive offset (H.265 8.7.3), applied to a whole deblocked picture.
#pragma once

#include "params.h"
#include "picture.h"

namespace hevc {

// Applies the SAO parameters stored in `info` to `pic`, reading neighbours from `deblocked`
// (a copy of `pic` taken before SAO).
void sao_picture(const Sps& sps, const Pps& pps, const CodingInfo& info, const Frame& deblocked,
                 Frame& pic);

// Applies SAO to one CTB of one component; shared with the encoder's SAO decision.
// `avail` holds usability of the 8 neighbouring CTBs (row-major 3x3 without the centre:
// index = (dy + 1) * 3 + (dx + 1)).
void sao_ctb(const SaoParams& sp, int cidx, const Plane& src, Plane& dst, int x0, int y0, int w,
             int h, const bool avail[9], const uint8_t* skip_mask, int mask_stride);

// Which neighbouring CTBs SAO may read across (slice and tile rules).
void sao_neighbours(const Pps& pps, const CodingInfo& info, int rx, int ry, bool avail[9]);

}  // namespace hevc
