// HEVC decoder: NAL dispatch, parameter set activation, slice decoding, loop filters, hash check
// and output order.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cnn_signal.h"
#include "nal.h"
#include "params.h"
#include "picture.h"
#include "picture_hash.h"
#include "sei.h"
#include "slice_header.h"

namespace hevc {

// NotChecked: the picture carries a hash that the decoder was told not to verify.
enum class HashStatus { Absent, Ok, Mismatch, NotChecked };

struct PictureReport {
  int poc = 0;
  int decode_order = 0;
  int nal_type = 0;
  char slice_type = 'I';
  int qp = 0;
  HashStatus hash = HashStatus::Absent;
  std::string expected, computed;
  double seconds = 0;      // time spent decoding and filtering this picture
  double cnn_seconds = 0;  // share spent in the CNN provider
  int cnn_ctus = 0;        // CTUs that took the CNN output (luma)
  int ctus = 0;
  bool cnn_ignored = false;  // the stream asked for the CNN but the decoder was told to ignore it
  int width = 0, height = 0;
  std::vector<int> refs[2];  // POCs of the first slice's reference picture lists L0 and L1
  // Picture rate time_scale / num_units_in_tick from the VUI or VPS; both 0 when not signalled.
  uint32_t num_units_in_tick = 0, time_scale = 0;
};

struct OutputPicture {
  int poc = 0;
  int decode_order = 0;
  std::shared_ptr<const Frame> frame;
  int crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;  // in luma samples
};

class Decoder {
 public:
  Decoder();
  ~Decoder();
  std::function<void(const PictureReport&)> on_decoded;
  std::function<void(const OutputPicture&)> on_output;
  // Runs the in-loop CNN when the stream asks for it; without one such a stream is an error
  // unless `ignore_cnn` is set (then the standard filters alone are applied, and said so).
  CnnProvider cnn_provider;
  bool ignore_cnn = false;
  // Off: the decoded-picture-hash SEIs are read but not verified (for speed; each picture that
  // carries one then reports NotChecked).
  bool verify_hash = true;

  void decode(const uint8_t* data, size_t size);  // a whole Annex B stream
  void decode_nal(const NalSpan& span);
  // End of stream; a stream without any coded picture is an error.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hevc
