// Signalling of the in-loop CNN filter (docs/bitstream.md) and the per-CTU selection between
// the CNN output and the standard deblocking + SAO result, shared by encoder and decoder.
//
// * Slice segment header extension: which CTUs of the segment take the CNN output.
// * User data unregistered SEI (at every IRAP): the model set's identity and inference mode.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cnn_side.h"
#include "picture.h"

namespace hevc {

// The project's UUID for its user data unregistered SEI.
extern const std::array<uint8_t, 16> kCnnSeiUuid;
constexpr uint8_t kCnnExtTag = 0xC7;  // first byte of our slice header extension

enum class CnnMode : uint8_t { Off = 0, All = 1, PerCtu = 2 };

// Slice segment header extension content for one slice segment.
struct CnnSliceExt {
  CnnMode mode = CnnMode::Off;
  bool chroma = false;        // chroma components follow the flags too (a chroma model exists)
  std::vector<uint8_t> luma;  // per CTU of the segment, in tile-scan order (PerCtu only)
  std::vector<uint8_t> chroma_flags;
};

// Serialises the extension; the bytes fit the 256-byte limit of the syntax or the call throws
// std::length_error (the encoder then falls back to a picture-level mode).
std::vector<uint8_t> write_cnn_ext(const CnnSliceExt& ext);
// Parses the extension of a segment holding `num_ctus` CTUs. Returns false when the bytes are not
// ours (another encoder's extension); throws BitstreamError when they are ours but malformed.
bool read_cnn_ext(const std::vector<uint8_t>& bytes, int num_ctus, CnnSliceExt& ext);

struct CnnSei {
  std::array<uint8_t, 16> identity{};  // first 16 bytes of the model set's sha256
  std::string inference_mode;          // e.g. "cpu;ort=1.31.1;threads=1;opt=disable_all;tile=0"
};
std::vector<uint8_t> write_cnn_sei_payload(const CnnSei& sei);
// Parses the payload after our UUID; throws BitstreamError (UnsupportedError for another
// version) when it breaks docs/bitstream.md, e.g. a non-printable byte in the inference mode.
bool read_cnn_sei_payload(const std::vector<uint8_t>& payload, CnnSei& sei);

// Per-CTU selection flags of a picture, indexed by raster CTU address.
struct CnnPictureFlags {
  std::vector<uint8_t> luma, chroma;
  bool any() const;
};

// What a CNN provider is asked for: filter `input` (the reconstruction before deblocking) into
// `output` (same size); luma always, chroma when `chroma` is set and a chroma model exists.
struct CnnRequest {
  const Frame* input = nullptr;
  int qp = 0;
  SliceType slice_type = SliceType::I;
  int poc = 0;
  bool chroma = false;
  const CnnSei* sei = nullptr;  // decoder: the identity the stream asks for
  CnnSideInfo* side = nullptr;  // computed on request (set by cnn_stage)
  // Decoder: the picture's CTU flags, so that inference units covering no flagged CTU can be
  // skipped (the encoder needs every unit for its decisions and leaves this null).
  const CnnPictureFlags* need = nullptr;
  int ctb_size = 0, w_ctb = 0, h_ctb = 0;  // set by cnn_stage from the picture's geometry
};
// Returns true when it filtered chroma too.
using CnnProvider = std::function<bool(const CnnRequest&, Frame& output)>;

// Copies the CNN samples of flagged CTUs (luma and, where flagged, chroma) into `final_frame`.
void apply_cnn_flags(const CodingInfo& info, const CnnPictureFlags& flags, const Frame& cnn,
                     Frame& final_frame);

}  // namespace hevc
