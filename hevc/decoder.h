// HEVC decoder: NAL dispatch, parameter set activation, slice decoding, loop filters, hash check
// and output order.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nal.h"
#include "params.h"
#include "picture.h"
#include "picture_hash.h"
#include "sei.h"
#include "slice_header.h"

namespace hevc {

enum class HashStatus { Absent, Ok, Mismatch };

struct PictureReport {
  int poc = 0;
  int decode_order = 0;
  int nal_type = 0;
  char slice_type = 'I';
  int qp = 0;
  HashStatus hash = HashStatus::Absent;
  std::string expected, computed;
  double seconds = 0;         // time spent decoding and filtering this picture
  double filter_seconds = 0;  // share spent in the in-loop filter hook
  int width = 0, height = 0;
};

struct OutputPicture {
  int poc = 0;
  int decode_order = 0;
  std::shared_ptr<const Frame> frame;
  int crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;  // in luma samples
};

// What an in-loop filter hook sees for a picture: the reconstruction before deblocking, the
// standard filters' result, and the signalling that came with the picture. It may replace
// `final_frame` samples; the hash check runs afterwards.
struct InLoopPicture {
  const Frame* pre_deblock = nullptr;
  Frame* final_frame = nullptr;
  const CodingInfo* info = nullptr;
  int poc = 0;
  SliceType slice_type = SliceType::I;
  int slice_qp = 0;
  std::vector<std::pair<int, std::vector<uint8_t>>> slice_extensions;  // (segment address, bytes)
  const std::vector<UserDataUnregistered>* user_data = nullptr;        // latest at an IRAP
};
using InLoopHook = std::function<void(InLoopPicture&)>;

class Decoder {
 public:
  Decoder();
  ~Decoder();
  std::function<void(const PictureReport&)> on_decoded;
  std::function<void(const OutputPicture&)> on_output;
  InLoopHook in_loop;  // optional

  void decode(const uint8_t* data, size_t size);  // a whole Annex B stream
  void decode_nal(const NalSpan& span);
  void finish();  // end of stream

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hevc
