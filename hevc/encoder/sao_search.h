// Rate-distortion optimised SAO parameters per CTB: band and the four edge classes with offsets
// refined by RD, chroma components deciding type and class jointly, merge left and up.
#pragma once

#include "../ctu_syntax.h"
#include "enc_picture.h"

namespace hevc {

// Decides info.sao_ for every CTB from the deblocked picture; returns whether any CTB uses luma
// SAO (first) and chroma SAO (second), so the slice flags can be cleared when unused.
std::pair<bool, bool> sao_decide(EncPicture& pic, const Frame& deblocked, SliceState& st);

}  // namespace hevc
