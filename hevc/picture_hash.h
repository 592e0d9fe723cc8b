// Decoded picture hash (H.265 D.3.19): MD5, CRC and checksum over the decoded sample arrays.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "picture.h"

namespace hevc {

enum class HashType : uint8_t { MD5 = 0, CRC = 1, Checksum = 2, None = 255 };

struct PictureHash {
  HashType type = HashType::None;
  std::array<std::array<uint8_t, 16>, 3> value{};  // per component; CRC uses 2 bytes, checksum 4
};

// Hash of one plane (8-bit samples) as the SEI defines it.
std::array<uint8_t, 16> plane_hash(HashType type, const Plane& p);
PictureHash frame_hash(HashType type, const Frame& f);
bool hashes_equal(const PictureHash& a, const PictureHash& b);
std::string hash_hex(const PictureHash& h);

// Plain MD5 of a byte buffer (RFC 1321).
std::array<uint8_t, 16> md5(const uint8_t* data, size_t size);

}  // namespace hevc
