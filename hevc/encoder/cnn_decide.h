// The encoder's choice between the in-loop CNN and deblocking + SAO: per CTU and component, and
// between the picture-level modes off / all-CNN / CTU-switched, all by J = SSE + lambda * R.
#pragma once

#include "../cnn_signal.h"
#include "../ctu_syntax.h"
#include "enc_picture.h"

namespace hevc {

enum class CnnEncodeMode { Off = 0, Picture = 1, Ctu = 2, All = 3 };

struct CnnChoice {
  CnnSliceExt ext;             // what the slice header extension signals
  CnnPictureFlags flags;       // per raster CTU
  double cost[3] = {0, 0, 0};  // J of off, all, ctu (0 when not evaluated)
};

// `deblocked` is the deblocked picture, `cnn` the CNN output of the reconstruction before
// deblocking. Leaves pic.info.sao_ with the SAO parameters of the chosen mode and pic.rec with
// the final picture (SAO applied, CNN CTUs copied in). `force_off` signals mode off whatever the
// costs (a test option: the output then equals the anchor's).
CnnChoice decide_cnn(EncPicture& pic, const Frame& deblocked, const Frame& cnn, bool chroma_model,
                     CnnEncodeMode mode, bool force_off, SliceState& st);

}  // namespace hevc
