#include "nal.h"

#include <algorithm>

#include "common.h"

namespace hevc {

std::vector<NalSpan> split_annexb(const uint8_t* data, size_t size) {
  std::vector<NalSpan> out;
  size_t i = 0;
  auto find_start = [&](size_t from) -> size_t {
    for (size_t k = from; k + 2 < size; ++k) {
      if (data[k] == 0 && data[k + 1] == 0 && data[k + 2] == 1) return k;
    }
    return size;
  };
  i = find_start(0);
  while (i < size) {
    size_t begin = i + 3;
    size_t next = find_start(begin);
    size_t end = next;
    // Trailing zero bytes belong to the next start code (zero_byte) or are trailing_zero_8bits.
    while (end > begin && data[end - 1] == 0) --end;
    if (end > begin) out.push_back({data + begin, end - begin});
    i = next;
  }
  return out;
}

NalUnit parse_nal(const NalSpan& span) {
  if (span.size < 2) fail("NAL unit shorter than its 2-byte header");
  if (span.size > kMaxNalSize) fail("NAL unit larger than the 64 MiB limit");
  const uint8_t* d = span.data;
  if (d[0] & 0x80) fail("forbidden_zero_bit is set in a NAL unit header");
  NalUnit nal;
  nal.type = (d[0] >> 1) & 0x3f;
  nal.layer_id = static_cast<uint8_t>(((d[0] & 1) << 5) | (d[1] >> 3));
  int tid_plus1 = d[1] & 7;
  if (tid_plus1 == 0) fail("nuh_temporal_id_plus1 is zero in a NAL unit header");
  nal.temporal_id = static_cast<uint8_t>(tid_plus1 - 1);
  const uint8_t* p = d + 2;
  size_t n = span.size - 2;
  nal.escaped_size = n;
  nal.rbsp.reserve(n);
  int zeros = 0;
  for (size_t k = 0; k < n; ++k) {
    uint8_t b = p[k];
    if (zeros >= 2 && b == 3) {
      nal.epb.push_back(static_cast<uint32_t>(k));
      zeros = 0;
      continue;
    }
    nal.rbsp.push_back(b);
    zeros = (b == 0) ? zeros + 1 : 0;
  }
  return nal;
}

size_t escaped_to_rbsp(const NalUnit& nal, size_t escaped_offset) {
  size_t removed =
      std::lower_bound(nal.epb.begin(), nal.epb.end(), escaped_offset) - nal.epb.begin();
  return escaped_offset - removed;
}

void write_nal(std::vector<uint8_t>& out, uint8_t type, uint8_t temporal_id,
               const std::vector<uint8_t>& rbsp) {
  static const uint8_t start[4] = {0, 0, 0, 1};
  out.insert(out.end(), start, start + 4);
  out.push_back(static_cast<uint8_t>(type << 1));
  out.push_back(static_cast<uint8_t>(temporal_id + 1));
  int zeros = 0;
  for (uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    out.push_back(b);
    zeros = (b == 0) ? zeros + 1 : 0;
  }
  // A payload ending in 0x00 would merge with the next start code; RBSPs end in a stop bit,
  // but cabac_zero_words can end in 0x0000, which needs a final 0x03.
  if (!rbsp.empty() && rbsp.back() == 0) out.push_back(3);
}

}  // namespace hevc
