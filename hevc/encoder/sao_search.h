// Rate-distortion optimised SAO parameters per CTB: band and the four edge classes with offsets
// refined by RD, chroma components deciding type and class jointly, merge left and up.
#pragma once

#include "../cnn_signal.h"
#include "../ctu_syntax.h"
#include "enc_picture.h"

namespace hevc {

// Decides info.sao_ for every CTB from the deblocked picture; returns whether any CTB uses luma
// SAO (first) and chroma SAO (second), so the slice flags can be cleared when unused. Components
// that `replaced` flags (the CNN output replaces them) carry no distortion: their SAO costs bits
// only.
std::pair<bool, bool> sao_decide(EncPicture& pic, const Frame& deblocked, SliceState& st,
                                 const CnnPictureFlags* replaced = nullptr);

// Bits (1/32768) of the picture's SAO syntax with the parameters in pic.info, coded in order
// from freshly initialised contexts.
uint64_t sao_bits(EncPicture& pic, SliceState& st);

}  // namespace hevc
