// The interpolation filters' coefficients: Table 8-11 (luma, quarter-sample positions 0..3) and
// Table 8-12 (chroma, eighth-sample positions 0..7). Data only, so safe in any ISA file.
#pragma once

#include <cstdint>

namespace hevc::dsp {

inline constexpr int8_t kLumaTaps[4][8] = {{0, 0, 0, 64, 0, 0, 0, 0},
                                           {-1, 4, -10, 58, 17, -5, 1, 0},
                                           {-1, 4, -11, 40, 40, -11, 4, -1},
                                           {0, 1, -5, 17, 58, -10, 4, -1}};
inline constexpr int8_t kChromaTaps[8][4] = {{0, 64, 0, 0},    {-2, 58, 10, -2}, {-4, 54, 16, -2},
                                             {-6, 46, 28, -4}, {-4, 36, 36, -4}, {-4, 28, 46, -6},
                                             {-2, 16, 54, -4}, {-2, 10, 58, -2}};

// The largest block: a 64x64 prediction block, and the rows a 2-D filter adds (N - 1 <= 7).
inline constexpr int kMaxInterBlock = 64;
inline constexpr int kInterTmpSize = (kMaxInterBlock + 7) * kMaxInterBlock;

}  // namespace hevc::dsp
