// NAL units: Annex B byte-stream framing, the two-byte header and emulation prevention.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hevc {

enum NalType : uint8_t {
  TRAIL_N = 0,
  TRAIL_R = 1,
  TSA_N = 2,
  TSA_R = 3,
  STSA_N = 4,
  STSA_R = 5,
  RADL_N = 6,
  RADL_R = 7,
  RASL_N = 8,
  RASL_R = 9,
  BLA_W_LP = 16,
  BLA_W_RADL = 17,
  BLA_N_LP = 18,
  IDR_W_RADL = 19,
  IDR_N_LP = 20,
  CRA_NUT = 21,
  VPS_NUT = 32,
  SPS_NUT = 33,
  PPS_NUT = 34,
  AUD_NUT = 35,
  EOS_NUT = 36,
  EOB_NUT = 37,
  FD_NUT = 38,
  PREFIX_SEI_NUT = 39,
  SUFFIX_SEI_NUT = 40,
};

inline bool is_vcl(int t) { return t < 32; }
inline bool is_irap(int t) { return t >= 16 && t <= 23; }
inline bool is_idr(int t) { return t == IDR_W_RADL || t == IDR_N_LP; }
inline bool is_rasl(int t) { return t == RASL_N || t == RASL_R; }
// Sub-layer non-reference pictures (even types below 16 and at most RSV_VCL_N14).
inline bool is_sublayer_nonref(int t) { return t <= 14 && (t % 2) == 0; }

struct NalUnit {
  uint8_t type = 0;
  uint8_t layer_id = 0;
  uint8_t temporal_id = 0;    // TemporalId = nuh_temporal_id_plus1 - 1
  std::vector<uint8_t> rbsp;  // payload after the 2-byte header, emulation prevention removed
  std::vector<uint32_t> epb;  // offsets (in the escaped payload) of removed 0x03 bytes
  size_t escaped_size = 0;    // payload size with emulation prevention bytes
};

// Splits an Annex B byte stream into NAL unit payloads (pointer + size, header included).
struct NalSpan {
  const uint8_t* data;
  size_t size;
};
std::vector<NalSpan> split_annexb(const uint8_t* data, size_t size);

// Parses the header and removes emulation prevention. Throws BitstreamError on a malformed header.
NalUnit parse_nal(const NalSpan& span);

// Builds an escaped NAL unit (header + payload) with a 4-byte start code prepended.
void write_nal(std::vector<uint8_t>& out, uint8_t type, uint8_t temporal_id,
               const std::vector<uint8_t>& rbsp);

// Maps an offset in the escaped payload to the matching offset in the unescaped RBSP.
size_t escaped_to_rbsp(const NalUnit& nal, size_t escaped_offset);

}  // namespace hevc
