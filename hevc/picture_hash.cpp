#include "picture_hash.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace hevc {

namespace {

class Md5 {
 public:
  Md5() {
    for (int i = 0; i < 64; ++i)
      k_[i] = static_cast<uint32_t>(
          std::floor(std::fabs(std::sin(static_cast<double>(i + 1))) * 4294967296.0));
  }
  void update(const uint8_t* p, size_t n) {
    len_ += n;
    while (n > 0) {
      size_t take = std::min(n, size_t{64} - fill_);
      std::memcpy(buf_ + fill_, p, take);
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == 64) {
        block(buf_);
        fill_ = 0;
      }
    }
  }
  std::array<uint8_t, 16> finish() {
    uint64_t bits = len_ * 8;
    uint8_t pad = 0x80;
    update(&pad, 1);
    uint8_t zero = 0;
    while (fill_ != 56) update(&zero, 1);
    uint8_t lenb[8];
    for (int i = 0; i < 8; ++i) lenb[i] = static_cast<uint8_t>(bits >> (8 * i));
    update(lenb, 8);
    std::array<uint8_t, 16> out{};
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) out[i * 4 + j] = static_cast<uint8_t>(h_[i] >> (8 * j));
    return out;
  }

 private:
  static uint32_t rotl(uint32_t x, int c) { return (x << c) | (x >> (32 - c)); }
  void block(const uint8_t* b) {
    static const int kShift[4][4] = {
        {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
    uint32_t m[16];
    for (int i = 0; i < 16; ++i)
      m[i] = uint32_t{b[4 * i]} | (uint32_t{b[4 * i + 1]} << 8) | (uint32_t{b[4 * i + 2]} << 16) |
             (uint32_t{b[4 * i + 3]} << 24);
    uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3];
    for (int i = 0; i < 64; ++i) {
      uint32_t f;
      int g;
      switch (i / 16) {
        case 0:
          f = (bb & c) | (~bb & d);
          g = i;
          break;
        case 1:
          f = (d & bb) | (~d & c);
          g = (5 * i + 1) % 16;
          break;
        case 2:
          f = bb ^ c ^ d;
          g = (3 * i + 5) % 16;
          break;
        default:
          f = c ^ (bb | ~d);
          g = (7 * i) % 16;
          break;
      }
      uint32_t t = d;
      d = c;
      c = bb;
      bb = bb + rotl(a + f + k_[i] + m[g], kShift[i / 16][i % 4]);
      a = t;
    }
    h_[0] += a;
    h_[1] += bb;
    h_[2] += c;
    h_[3] += d;
  }
  uint32_t k_[64];
  uint32_t h_[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  uint8_t buf_[64];
  size_t fill_ = 0;
  uint64_t len_ = 0;
};

}  // namespace

std::array<uint8_t, 16> md5(const uint8_t* data, size_t size) {
  Md5 m;
  m.update(data, size);
  return m.finish();
}

std::array<uint8_t, 16> plane_hash(HashType type, const Plane& p) {
  std::array<uint8_t, 16> out{};
  if (type == HashType::MD5) {
    Md5 m;
    for (int y = 0; y < p.height; ++y) m.update(p.row(y), static_cast<size_t>(p.width));
    return m.finish();
  }
  if (type == HashType::CRC) {
    uint32_t crc = 0xFFFF;
    auto feed = [&](uint32_t bit) {
      uint32_t msb = (crc >> 15) & 1;
      crc = (((crc << 1) + bit) & 0xFFFF) ^ (msb * 0x1021);
    };
    for (int y = 0; y < p.height; ++y) {
      const Pel* r = p.row(y);
      for (int x = 0; x < p.width; ++x)
        for (int b = 7; b >= 0; --b) feed((r[x] >> b) & 1);
    }
    for (int i = 0; i < 16; ++i) feed(0);
    out[0] = static_cast<uint8_t>(crc >> 8);
    out[1] = static_cast<uint8_t>(crc);
    return out;
  }
  if (type == HashType::Checksum) {
    uint32_t sum = 0;
    for (int y = 0; y < p.height; ++y) {
      const Pel* r = p.row(y);
      for (int x = 0; x < p.width; ++x) {
        uint32_t mask = (x & 0xFF) ^ (y & 0xFF) ^ (x >> 8) ^ (y >> 8);
        sum += (r[x] & 0xFF) ^ mask;
      }
    }
    for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(sum >> (24 - 8 * i));
    return out;
  }
  return out;
}

PictureHash frame_hash(HashType type, const Frame& f) {
  PictureHash h;
  h.type = type;
  for (int c = 0; c < 3; ++c) h.value[c] = plane_hash(type, f.planes[c]);
  return h;
}

bool hashes_equal(const PictureHash& a, const PictureHash& b) {
  if (a.type != b.type) return false;
  const size_t n = a.type == HashType::MD5 ? 16 : (a.type == HashType::CRC ? 2 : 4);
  for (int c = 0; c < 3; ++c)
    if (std::memcmp(a.value[c].data(), b.value[c].data(), n) != 0) return false;
  return true;
}

std::string hash_hex(const PictureHash& h) {
  const size_t n = h.type == HashType::MD5 ? 16 : (h.type == HashType::CRC ? 2 : 4);
  std::string s;
  char buf[3];
  for (int c = 0; c < 3; ++c) {
    if (c) s += ',';
    for (size_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof(buf), "%02x", h.value[c][i]);
      s += buf;
    }
  }
  return s;
}

}  // namespace hevc
