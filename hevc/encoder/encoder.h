// The HEVC encoder: picture loop, parameter sets, loop filters and the access-unit writer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "../cnn_signal.h"
#include "../params.h"
#include "../picture.h"
#include "coding_order.h"
#include "config.h"
#include "cu_tree.h"

namespace hevc {

struct EncodedFrame {
  int poc = 0;
  char slice_type = 'I';
  int qp = 0;
  int nal_type = 0, temporal_id = 0;
  std::vector<int> refs[2];     // POCs of the reference picture lists (P and B)
  uint64_t bits = 0;            // all bytes written for this picture (incl. parameter sets, SEI)
  uint64_t sse[3] = {0, 0, 0};  // against the source, over the source (cropped) area
  double seconds = 0;
  std::vector<uint8_t> bytes;  // the access unit, Annex B
  // In-loop CNN.
  int ctus = 0, cnn_ctus = 0;  // CTUs, and those taking the CNN luma
  int cnn_mode = 0;            // signalled mode: 0 off, 1 all, 2 per CTU
  uint64_t cnn_flag_bits = 0;  // bits of the slice header extension
  double cnn_seconds = 0;      // time in the CNN provider
};

class Encoder {
 public:
  explicit Encoder(const EncoderConfig& cfg);  // throws std::invalid_argument on a bad config
  ~Encoder();
  // Encodes one picture of the source size (8-bit planes with strides) as `desc` says, the
  // pictures handed in coding order; throws std::invalid_argument, coding nothing, when `desc`
  // cannot follow the pictures coded so far (coding_order.h).
  EncodedFrame encode(const PictureDesc& desc, const Pel* y, int ys, const Pel* u, int us,
                      const Pel* v, int vs);
  // Encodes the next picture of All-Intra: as next_all_intra() describes it.
  EncodedFrame encode(const Pel* y, int ys, const Pel* u, int us, const Pel* v, int vs);
  // An IDR first, then trailing pictures at one past the greatest POC of the sequence.
  PictureDesc next_all_intra() const;
  // Records `desc` as coded by another encoder of the same configuration, without coding it:
  // frame-parallel All-Intra gives each encoder every picture, coding some and recording the
  // others, so that each codes its own exactly as one encoder coding all would. Only for an
  // I picture that references nothing, and not with the PrevTree keys (they look at the
  // previous picture); throws std::invalid_argument otherwise or when `desc` cannot follow.
  void record_coded_elsewhere(const PictureDesc& desc);
  // The reconstruction of the last encoded picture (coded size; crop to the source size).
  const Frame& recon() const;
  const Sps& sps() const;
  const Pps& pps() const;
  // Enables the in-loop CNN (before the first picture): the provider filters each picture's
  // reconstruction before deblocking; `sei` identifies the model set in the stream.
  void set_cnn(CnnProvider provider, const CnnSei& sei);
  // The coding tree of the last encoded picture.
  const CuTree& cu_tree() const;
  // Codes the next picture with this coding tree instead of searching CU sizes and PartModes
  // (modes, transform trees and filters are still searched); throws std::invalid_argument if the
  // tree cannot be coded in this picture.
  void force_cu_tree(CuTree tree);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hevc
