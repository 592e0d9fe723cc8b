// Scaling (dequantisation) and the core transforms (H.265 8.6): DCT 4..32, DST 4x4 and
// transform skip, inverse for reconstruction and forward for the encoder.
#pragma once

#include <cstdint>

#include "common.h"

namespace hevc {

// The 32x32 DCT basis; rows of smaller sizes are taken every 32/N rows.
extern const int8_t (&kDct32)[32][32];
extern const int8_t (&kDst4)[4][4];

// Scales coefficient levels into transform coefficients in place (8.6.3).
// `factor` is the scaling-list matrix (row-major n x n) or nullptr for the flat 16. Levels
// outside columns 0..max_x and rows 0..max_y must be zero; they are left untouched.
void dequantize(int16_t* coeff, int log2n, int qp, const uint8_t* factor, int max_x, int max_y);

// Turns transform coefficients into residuals in place (8.6.4). `dst` selects the 4x4 DST.
// max_x/max_y bound the nonzero coefficients (columns/rows beyond them are zero).
void inverse_transform(int16_t* coeff, int log2n, bool dst, int max_x, int max_y);
void inverse_transform_skip(int16_t* coeff, int log2n);

// Forward transforms used by the encoder: residual in, coefficients out (both n x n).
void forward_transform(const int16_t* residual, int16_t* coeff, int log2n, bool dst);
void forward_transform_skip(const int16_t* residual, int16_t* coeff, int log2n);

// Adds a residual block to a prediction (clipped to 8 bits).
void add_residual(Pel* dst, int stride, const int16_t* res, int n);

}  // namespace hevc
