// The in-loop filters of a reconstructed picture, written once for the decoder and the encoder,
// in the order the bitstream defines (docs/bitstream.md): deblocking, then SAO, then the CNN's
// output copied over the CTUs whose flags select it. The decoder runs the stages as the stream
// says; the encoder runs the same stages around its decisions (SAO parameters, CNN flags).
#pragma once

#include "cnn_signal.h"
#include "deblock.h"
#include "luma_prediction.h"
#include "motion.h"
#include "params.h"
#include "picture.h"

namespace hevc {

// The deblocking of a picture: its parameter sets, coding information and, for the boundary
// strengths of inter blocks, `motion` (nullptr for a picture without inter blocks).
DeblockParams deblock_params(const Sps& sps, const Pps& pps, const CodingInfo& info,
                             const MotionField* motion);

// Deblocks `pic` in place (8.7.2); the boundary strength of inter blocks comes from `motion`
// (nullptr for a picture without inter blocks).
void deblock_stage(const Sps& sps, const Pps& pps, const CodingInfo& info,
                   const MotionField* motion, Frame& pic);

// Turns the deblocked `pic` into the picture as it is output and referenced: SAO as `info`
// holds it (where the picture's slices enable it), then the CNN samples of the CTUs `flags`
// selects copied in (when `cnn` is given).
void sao_and_cnn_stage(const Sps& sps, const Pps& pps, const CodingInfo& info, const Frame* cnn,
                       const CnnPictureFlags* flags, Frame& pic);

// Runs the CNN provider on `req` (whose input is the reconstruction before deblocking), with
// the side information of `info` computed as the provider asks for it (`motion` as
// deblock_stage takes it; `sources`, the references of inter blocks, for the prediction
// plane); returns whether it filtered chroma too.
bool cnn_stage(const CnnProvider& provider, CnnRequest req, const Sps& sps, const Pps& pps,
               const CodingInfo& info, const MotionField* motion, const PredictionSources* sources,
               Frame& out);

}  // namespace hevc
