#include "picture_hash.h"

#include <cstdio>
#include <cstring>
#include <utility>

namespace hevc {

namespace {

// ---- MD5 (RFC 1321) ----
//
// One message's 64 steps per block form a single dependency chain, so one MD5 alone leaves most
// of a superscalar core idle: the planes of a picture are hashed in lock step (a step of each in
// turn), which the CPU overlaps. The blocks are read straight from the plane rows.

// floor(|sin(i + 1)| * 2^32), as RFC 1321 tabulates them.
constexpr uint32_t kSine[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

inline uint32_t rotl(uint32_t x, int c) { return (x << c) | (x >> (32 - c)); }

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Step I of a block: a = b + rotl(a + f(b, c, d) + K[I] + M[g], s). The terms that do not depend
// on b are added first, which keeps the chain through b short.
template <int I>
inline void md5_step(uint32_t& a, uint32_t b, uint32_t c, uint32_t d, const uint8_t* blk) {
  constexpr int round = I / 16;
  constexpr int g = round == 0   ? I
                    : round == 1 ? (5 * I + 1) % 16
                    : round == 2 ? (3 * I + 5) % 16
                                 : (7 * I) % 16;
  uint32_t t = a + kSine[I] + load_le32(blk + 4 * g);
#if defined(__GNUC__)
  // Keeps the compiler from reassociating b's terms into this sum (which lengthens the chain).
  asm("" : "+r"(t));
#endif
  if constexpr (round == 0) {
    t += d ^ (b & (c ^ d));
  } else if constexpr (round == 1) {
    t += (c & ~d) + (b & d);  // (b & d) | (c & ~d): the two terms share no bit
  } else if constexpr (round == 2) {
    t += b ^ (c ^ d);
  } else {
    t += c ^ (b | ~d);
  }
  a = b + rotl(t, kShift[round][I % 4]);
}

// Four steps of each of the messages, the registers renamed as the algorithm rotates them. The
// lanes are a parameter pack, not a loop, so that their states stay in registers.
template <int I, int L, size_t... Ln>
inline void md5_quad(uint32_t (&s)[L][4], const uint8_t* const (&blk)[L],
                     std::index_sequence<Ln...>) {
  (md5_step<I>(s[Ln][0], s[Ln][1], s[Ln][2], s[Ln][3], blk[Ln]), ...);
  (md5_step<I + 1>(s[Ln][3], s[Ln][0], s[Ln][1], s[Ln][2], blk[Ln]), ...);
  (md5_step<I + 2>(s[Ln][2], s[Ln][3], s[Ln][0], s[Ln][1], blk[Ln]), ...);
  (md5_step<I + 3>(s[Ln][1], s[Ln][2], s[Ln][3], s[Ln][0], blk[Ln]), ...);
}

template <int L, size_t... Q>
inline void md5_quads(uint32_t (&s)[L][4], const uint8_t* const (&blk)[L],
                      std::index_sequence<Q...>) {
  (md5_quad<4 * static_cast<int>(Q)>(s, blk, std::make_index_sequence<L>()), ...);
}

// One 64-byte block of each of L messages.
template <int L>
void md5_blocks(uint32_t* const (&h)[L], const uint8_t* const (&blk)[L]) {
  uint32_t s[L][4];
  for (int l = 0; l < L; ++l)
    for (int i = 0; i < 4; ++i) s[l][i] = h[l][i];
  md5_quads<L>(s, blk, std::make_index_sequence<16>());
  for (int l = 0; l < L; ++l)
    for (int i = 0; i < 4; ++i) h[l][i] += s[l][i];
}

// An MD5 over a plane's samples, row by row without padding, handing out its 64-byte blocks.
class Md5Plane {
 public:
  explicit Md5Plane(const Plane& p)
      : row_(p.row(0)), stride_(static_cast<size_t>(p.stride)), rows_left_(p.height) {
    const size_t w = static_cast<size_t>(p.width);
    len_ = w * static_cast<size_t>(p.height);
    // Rows that follow each other in memory are one run: most blocks then need no copy.
    width_ = stride_ == w ? len_ : w;
    if (stride_ == w) rows_left_ = p.height > 0 ? 1 : 0;
    run_ = rows_left_ ? row_ : nullptr;
    run_left_ = rows_left_ ? width_ : 0;
  }

  // The next whole block (in the plane or in a copy), or nullptr when fewer than 64 bytes are
  // left; those are then in tail_ for finish().
  const uint8_t* next_block() {
    if (run_left_ >= 64) {
      const uint8_t* b = run_;
      run_ += 64;
      run_left_ -= 64;
      return b;
    }
    fill_ = 0;
    while (fill_ < 64 && rows_left_ > 0) {
      const size_t take = std::min(run_left_, size_t{64} - fill_);
      std::memcpy(tail_ + fill_, run_, take);
      fill_ += take;
      run_ += take;
      run_left_ -= take;
      if (run_left_ == 0 && --rows_left_ > 0) {
        row_ += stride_;
        run_ = row_;
        run_left_ = width_;
      }
    }
    return fill_ == 64 ? tail_ : nullptr;
  }

  std::array<uint8_t, 16> finish() {
    uint8_t* const b = tail_;
    uint32_t* const h[1] = {h_};
    b[fill_++] = 0x80;
    if (fill_ > 56) {
      std::memset(b + fill_, 0, 64 - fill_);
      md5_blocks<1>(h, {b});
      fill_ = 0;
    }
    std::memset(b + fill_, 0, 56 - fill_);
    const uint64_t bits = static_cast<uint64_t>(len_) * 8;
    for (int i = 0; i < 8; ++i) b[56 + i] = static_cast<uint8_t>(bits >> (8 * i));
    md5_blocks<1>(h, {b});
    std::array<uint8_t, 16> out{};
    for (int i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(h_[i / 4] >> (8 * (i % 4)));
    return out;
  }

  uint32_t h_[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

 private:
  const Pel* row_;
  const uint8_t* run_;
  size_t stride_, width_, run_left_, len_;
  int rows_left_;
  uint8_t tail_[64];
  size_t fill_ = 0;
};

void md5_frame(const Frame& f, PictureHash& out) {
  Md5Plane m[3] = {Md5Plane(f.planes[0]), Md5Plane(f.planes[1]), Md5Plane(f.planes[2])};
  const uint8_t* blk[3] = {m[0].next_block(), m[1].next_block(), m[2].next_block()};
  // Two planes at a time (luma with Cb, then with Cr): the states of a third no longer fit in
  // x86-64's 16 registers, which made it slower than two.
  for (;;) {
    int idx[2], n = 0;
    for (int c = 0; c < 3 && n < 2; ++c)
      if (blk[c]) idx[n++] = c;
    if (n == 2) {
      md5_blocks<2>({m[idx[0]].h_, m[idx[1]].h_}, {blk[idx[0]], blk[idx[1]]});
    } else if (n == 1) {
      md5_blocks<1>({m[idx[0]].h_}, {blk[idx[0]]});
    } else {
      break;
    }
    for (int i = 0; i < n; ++i) blk[idx[i]] = m[idx[i]].next_block();
  }
  for (int c = 0; c < 3; ++c) out.value[c] = m[c].finish();
}

// ---- CRC (D.3.19): CRC-16 with polynomial 0x1021, fed the sample bits MSB first ----

// The register after shifting in 8 zero bits from `top` << 8: a byte's bits enter at the bottom
// and never reach bit 15 within 8 shifts, so the feedback of a byte depends on the top alone.
constexpr std::array<uint16_t, 256> crc_table() {
  std::array<uint16_t, 256> t{};
  for (uint32_t top = 0; top < 256; ++top) {
    uint32_t crc = top << 8;
    for (int b = 0; b < 8; ++b) crc = ((crc << 1) & 0xFFFF) ^ (((crc >> 15) & 1) * 0x1021);
    t[top] = static_cast<uint16_t>(crc);
  }
  return t;
}
constexpr std::array<uint16_t, 256> kCrcTable = crc_table();

std::array<uint8_t, 16> crc_plane(const Plane& p) {
  uint32_t crc = 0xFFFF;
  for (int y = 0; y < p.height; ++y) {
    const Pel* r = p.row(y);
    for (int x = 0; x < p.width; ++x) crc = (((crc << 8) & 0xFFFF) | r[x]) ^ kCrcTable[crc >> 8];
  }
  for (int i = 0; i < 2; ++i) crc = ((crc << 8) & 0xFFFF) ^ kCrcTable[crc >> 8];  // 16 zero bits
  std::array<uint8_t, 16> out{};
  out[0] = static_cast<uint8_t>(crc >> 8);
  out[1] = static_cast<uint8_t>(crc);
  return out;
}

std::array<uint8_t, 16> checksum_plane(const Plane& p) {
  uint32_t sum = 0;
  for (int y = 0; y < p.height; ++y) {
    const Pel* r = p.row(y);
    const uint32_t row_mask = (y & 0xFF) ^ (y >> 8);
    for (int x = 0; x < p.width; ++x) sum += r[x] ^ row_mask ^ (x & 0xFF) ^ (x >> 8);
  }
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(sum >> (24 - 8 * i));
  return out;
}

}  // namespace

PictureHash frame_hash(HashType type, const Frame& f) {
  PictureHash h;
  h.type = type;
  if (type == HashType::MD5) {
    md5_frame(f, h);
  } else if (type == HashType::CRC) {
    for (int c = 0; c < 3; ++c) h.value[c] = crc_plane(f.planes[c]);
  } else if (type == HashType::Checksum) {
    for (int c = 0; c < 3; ++c) h.value[c] = checksum_plane(f.planes[c]);
  }
  return h;
}

bool hashes_equal(const PictureHash& a, const PictureHash& b) {
  if (a.type != b.type) return false;
  const size_t n = hash_size(a.type);
  for (int c = 0; c < 3; ++c)
    if (std::memcmp(a.value[c].data(), b.value[c].data(), n) != 0) return false;
  return true;
}

std::string hash_hex(const PictureHash& h) {
  const size_t n = hash_size(h.type);
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(3 * (2 * n + 1));
  for (int c = 0; c < 3; ++c) {
    if (c) s += ',';
    for (size_t i = 0; i < n; ++i) {
      s += kHex[h.value[c][i] >> 4];
      s += kHex[h.value[c][i] & 15];
    }
  }
  return s;
}

}  // namespace hevc
