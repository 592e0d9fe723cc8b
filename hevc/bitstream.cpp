#include "bitstream.h"

namespace hevc {

uint32_t BitReader::u(int n) {
  if (n == 0) return 0;
  if (pos_ + static_cast<size_t>(n) > size_ * 8)
    fail("unexpected end of NAL unit while reading a header");
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) {
    size_t p = pos_ + i;
    v = (v << 1) | ((data_[p >> 3] >> (7 - (p & 7))) & 1u);
  }
  pos_ += n;
  return v;
}

uint32_t BitReader::ue() {
  int zeros = 0;
  while (u(1) == 0) {
    if (++zeros > 31) fail("invalid Exp-Golomb code (more than 31 leading zeros)");
  }
  if (zeros == 0) return 0;
  uint64_t v = (uint64_t{1} << zeros) - 1 + u(zeros);
  if (v > 0xFFFFFFFEull) fail("Exp-Golomb value out of range");
  return static_cast<uint32_t>(v);
}

int32_t BitReader::se() {
  uint32_t k = ue();
  int64_t v = (k & 1) ? (static_cast<int64_t>(k) + 1) / 2 : -(static_cast<int64_t>(k) / 2);
  return static_cast<int32_t>(v);
}

void BitReader::skip(size_t bits) {
  if (pos_ + bits > size_ * 8) fail("unexpected end of NAL unit");
  pos_ += bits;
}

bool BitReader::more_rbsp_data() const {
  // True while something other than the rbsp_stop_one_bit and its trailing zeros is left.
  if (pos_ >= size_ * 8) return false;
  size_t last = size_;
  while (last > 0 && data_[last - 1] == 0) --last;
  if (last == 0) return false;
  uint8_t b = data_[last - 1];
  int trailing = 0;
  while (!((b >> trailing) & 1)) ++trailing;
  size_t stop_bit_pos = (last - 1) * 8 + (7 - trailing);
  return pos_ < stop_bit_pos;
}

void BitWriter::u(uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    cur_ = (cur_ << 1) | ((v >> i) & 1u);
    if (++nbits_ == 8) {
      bytes_.push_back(static_cast<uint8_t>(cur_));
      cur_ = 0;
      nbits_ = 0;
    }
  }
}

void BitWriter::ue(uint32_t v) {
  uint64_t x = uint64_t{v} + 1;
  int len = 0;
  while ((x >> len) > 1) ++len;
  u(0, len);
  for (int i = len; i >= 0; --i) u(static_cast<uint32_t>((x >> i) & 1), 1);
}

void BitWriter::se(int32_t v) {
  uint32_t k = v > 0 ? static_cast<uint32_t>(2 * static_cast<int64_t>(v) - 1)
                     : static_cast<uint32_t>(-2 * static_cast<int64_t>(v));
  ue(k);
}

void BitWriter::align_zero() {
  while (nbits_ != 0) u(0, 1);
}

void BitWriter::rbsp_trailing_bits() {
  u(1, 1);
  align_zero();
}

void BitWriter::append_bytes(const uint8_t* p, size_t n) {
  if (nbits_ != 0) throw std::logic_error("BitWriter::append_bytes needs byte alignment");
  bytes_.insert(bytes_.end(), p, p + n);
}

std::vector<uint8_t> BitWriter::take() {
  align_zero();
  std::vector<uint8_t> out;
  out.swap(bytes_);
  return out;
}

}  // namespace hevc
