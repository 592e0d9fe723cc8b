// Context selection and binarisation helpers of residual_coding (H.265 9.3.4.2.5-9.3.4.2.7),
// shared by the CTU syntax and the encoder's rate model (RDOQ).
#pragma once

#include <cstdint>

#include "common.h"

namespace hevc {

// scanIdx (7.4.9.11): mode-dependent scans for 4x4 blocks and 8x8 luma.
inline int scan_idx_for(int log2, int cidx, int intra_mode) {
  if (log2 == 2 || (log2 == 3 && cidx == 0)) {
    if (intra_mode >= 6 && intra_mode <= 14) return 2;
    if (intra_mode >= 22 && intra_mode <= 30) return 1;
  }
  return 0;
}

// sigCtx of sig_coeff_flag without the chroma offset of 27. prev_csbf: bit0 right, bit1 below.
inline int sig_ctx(int log2, int cidx, int xc, int yc, int prev_csbf, int scan_idx) {
  if (log2 == 2) {
    static const uint8_t kMap[16] = {0, 1, 4, 5, 2, 3, 4, 5, 6, 6, 8, 8, 7, 7, 8, 8};
    return kMap[(yc << 2) + xc];
  }
  if (xc + yc == 0) return 0;
  const int xp = xc & 3, yp = yc & 3;
  int s;
  switch (prev_csbf) {
    case 0:
      s = (xp + yp == 0) ? 2 : (xp + yp < 3) ? 1 : 0;
      break;
    case 1:
      s = (yp == 0) ? 2 : (yp == 1) ? 1 : 0;
      break;
    case 2:
      s = (xp == 0) ? 2 : (xp == 1) ? 1 : 0;
      break;
    default:
      s = 2;
      break;
  }
  if (cidx == 0) {
    if ((xc >> 2) + (yc >> 2) > 0) s += 3;
    s += (log2 == 3) ? (scan_idx == 0 ? 9 : 15) : 21;
  } else {
    s += (log2 == 3) ? 9 : 12;
  }
  return s;
}

// sigCtx (without the chroma offset) of the 16 positions of one sub-block, in the sub-block's
// 4x4 scan order: the per-coefficient derivation above depends only on the block-size class, the
// plane, the scan, the neighbouring coded sub-block flags and whether the sub-block is the first,
// so the residual coder and RDOQ look it up per sub-block instead.
// [block-size class: 4x4, 8x8, larger][luma, chroma][scan_idx][prev_csbf][first sub-block][pos]
using SigCtxTable = uint8_t[3][2][3][4][2][16];
const SigCtxTable& sig_ctx_table();
// One block's part of the table, [prev_csbf][first sub-block][pos], looked up once per block.
using SigCtxBlock = uint8_t[4][2][16];
inline const SigCtxBlock& sig_ctx_block(int log2, int cidx, int scan_idx) {
  static const SigCtxTable& t = sig_ctx_table();
  return t[log2 >= 4 ? 2 : log2 - 2][cidx ? 1 : 0][scan_idx];
}

// Context offset and shift of last_sig_coeff_{x,y}_prefix.
inline void last_ctx(int log2, int cidx, int& offs, int& shift) {
  if (cidx == 0) {
    offs = 3 * (log2 - 2) + ((log2 - 1) >> 2);
    shift = (log2 + 1) >> 2;
  } else {
    offs = 15;
    shift = log2 - 2;
  }
}

// Prefix of a last significant coordinate; the suffix has (prefix >> 1) - 1 bits when prefix > 3.
inline int last_prefix(uint32_t v) {
  if (v < 4) return static_cast<int>(v);
  const int k = floor_log2(v);
  return 2 * k + static_cast<int>((v >> (k - 1)) & 1);
}
inline uint32_t last_prefix_base(int prefix) {
  return prefix <= 3 ? static_cast<uint32_t>(prefix)
                     : static_cast<uint32_t>((2 + (prefix & 1)) << ((prefix >> 1) - 1));
}

// Number of bins of coeff_abs_level_remaining for value v with Rice parameter `rice`.
inline int remaining_bins(uint32_t v, int rice) {
  const uint32_t q = v >> rice;
  if (q < 4) return static_cast<int>(q) + 1 + rice;
  uint32_t rest = v - (4u << rice);
  const int k = rice + 1;
  int u = 0;
  while (rest >= ((1u << (u + 1)) - 1) << k) ++u;
  return 4 + u + 1 + k + u;
}

}  // namespace hevc
