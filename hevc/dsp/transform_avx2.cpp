// AVX2 transform kernels: the DCTs over lanes of eight in one register each.
#include "transform_lanes.h"

namespace hevc::dsp {

void init_transform_avx2(TransformKernels& k) {
  HEVC_DSP_SIZES(k.inverse_dct, inverse_2d);
  HEVC_DSP_SIZES(k.forward_dct, forward_2d);
}

}  // namespace hevc::dsp
