// Bit-level reading and writing of RBSPs, plus a symmetric syntax interface so that
// every header (VPS/SPS/PPS/slice header/SEI) is described once and used by both the
// decoder (ReadIO) and the encoder (WriteIO).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common.h"

namespace hevc {

class BitReader {
 public:
  BitReader() = default;
  BitReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint32_t u(int n);  // n <= 32
  bool flag() { return u(1) != 0; }
  uint32_t ue();
  int32_t se();
  void skip(size_t bits);
  size_t pos() const { return pos_; }  // in bits
  size_t size_bits() const { return size_ * 8; }
  size_t bits_left() const { return size_ * 8 - pos_; }
  bool byte_aligned() const { return (pos_ & 7) == 0; }
  bool more_rbsp_data() const;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
};

class BitWriter {
 public:
  void u(uint32_t v, int n);
  void flag(bool b) { u(b ? 1 : 0, 1); }
  void ue(uint32_t v);
  void se(int32_t v);
  void align_zero();
  void rbsp_trailing_bits();  // stop bit + zero alignment
  bool byte_aligned() const { return nbits_ == 0; }
  size_t bits() const { return bytes_.size() * 8 + nbits_; }
  void append_bytes(const uint8_t* p, size_t n);  // requires byte alignment
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take();

 private:
  std::vector<uint8_t> bytes_;
  uint32_t cur_ = 0;
  int nbits_ = 0;
};

// Symmetric syntax element access. `reading` tells the syntax functions which way data flows.
struct ReadIO {
  static constexpr bool reading = true;
  BitReader& r;
  template <typename T>
  void u(T& v, int n) {
    v = static_cast<T>(r.u(n));
  }
  template <typename T>
  void flag(T& v) {
    v = static_cast<T>(r.u(1));
  }
  template <typename T>
  void ue(T& v, uint32_t max_value) {
    uint32_t x = r.ue();
    if (x > max_value) fail("syntax element out of range in a parameter set or header");
    v = static_cast<T>(x);
  }
  template <typename T>
  void se(T& v, int32_t lo, int32_t hi) {
    int32_t x = r.se();
    if (x < lo || x > hi) fail("signed syntax element out of range in a parameter set or header");
    v = static_cast<T>(x);
  }
};

struct WriteIO {
  static constexpr bool reading = false;
  BitWriter& w;
  template <typename T>
  void u(T& v, int n) {
    w.u(static_cast<uint32_t>(v), n);
  }
  template <typename T>
  void flag(T& v) {
    w.u(v ? 1 : 0, 1);
  }
  template <typename T>
  void ue(T& v, uint32_t) {
    w.ue(static_cast<uint32_t>(v));
  }
  template <typename T>
  void se(T& v, int32_t, int32_t) {
    w.se(static_cast<int32_t>(v));
  }
};

}  // namespace hevc
