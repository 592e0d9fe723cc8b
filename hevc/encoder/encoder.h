// The HEVC encoder: picture loop, parameter sets, loop filters and the access-unit writer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "../params.h"
#include "../picture.h"
#include "config.h"

namespace hevc {

struct EncodedFrame {
  int poc = 0;
  char slice_type = 'I';
  int qp = 0;
  uint64_t bits = 0;            // all bytes written for this picture (incl. parameter sets, SEI)
  uint64_t sse[3] = {0, 0, 0};  // against the source, over the source (cropped) area
  double seconds = 0;
  std::vector<uint8_t> bytes;  // the access unit, Annex B
};

class Encoder {
 public:
  explicit Encoder(const EncoderConfig& cfg);  // throws std::invalid_argument on a bad config
  ~Encoder();
  // Encodes one picture of the source size (8-bit planes with strides).
  EncodedFrame encode(const Pel* y, int ys, const Pel* u, int us, const Pel* v, int vs);
  // The reconstruction of the last encoded picture (coded size; crop to the source size).
  const Frame& recon() const;
  const Sps& sps() const;
  const Pps& pps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hevc
